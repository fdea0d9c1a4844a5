//! Scalars of the API: `Rupiah` (whole rupiah, 64-bit) and `Date` (YYYY-MM-DD).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// Money in whole rupiah, as a JSON integer (never a float, never a 32-bit Int).
#[derive(Copy, Clone, Debug, Eq, PartialEq, Ord, PartialOrd)]
pub struct Rupiah(pub i64);

/// Largest amount accepted: 2^53 − 1, the largest integer a JavaScript number holds exactly
/// (Rp 9 quadrillion, far above any programme amount).
pub const MAX_RUPIAH: i64 = (1 << 53) - 1;

/// Money in whole rupiah (Rp), a JSON integer from −(2^53 − 1) to 2^53 − 1 (exact in every JSON
/// client, JavaScript included); never fractional.
#[Scalar(name = "Rupiah")]
impl ScalarType for Rupiah {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => {
                n.as_i64().filter(|n| n.unsigned_abs() <= MAX_RUPIAH as u64).map(Rupiah).ok_or_else(|| {
                    InputValueError::custom(
                        "Rupiah must be a whole number of rupiah of at most 9007199254740991",
                    )
                })
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

/// A calendar date without time.
#[derive(Copy, Clone, Debug, Eq, PartialEq, Ord, PartialOrd)]
pub struct Date(pub NaiveDate);

/// A calendar date, `YYYY-MM-DD` (tanggal).
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("Date must be YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(iso_date(self.0))
    }
}

/// `date` as `YYYY-MM-DD`, as chrono's `%Y-%m-%d` writes it: written digit by digit for the
/// years 0–9999 (a nested case view writes hundreds of dates, and chrono's formatter parses its
/// format string for each), through chrono for the rest.
pub fn iso_date(date: NaiveDate) -> String {
    use chrono::Datelike;
    let (year, month, day) = (date.year(), date.month(), date.day());
    if !(0..=9999).contains(&year) {
        return date.format("%Y-%m-%d").to_string();
    }
    let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
    let year = year as u32;
    [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        '-',
        digit(month / 10),
        digit(month),
        '-',
        digit(day / 10),
        digit(day),
    ]
    .into_iter()
    .collect()
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::iso_date;

    /// Dates are written as chrono writes `%Y-%m-%d`, inside the fast range and outside it.
    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        let mut day = NaiveDate::from_ymd_opt(1999, 12, 1).expect("a date");
        while day < NaiveDate::from_ymd_opt(2001, 3, 31).expect("a date") {
            assert_eq!(iso_date(day), day.format("%Y-%m-%d").to_string());
            day = day.succ_opt().expect("a date");
        }
        for (y, m, d) in
            [(0, 1, 1), (9, 9, 9), (999, 10, 31), (9999, 12, 31), (10000, 1, 1), (-1, 6, 15), (2024, 2, 29)]
        {
            let day = NaiveDate::from_ymd_opt(y, m, d).expect("a date");
            assert_eq!(iso_date(day), day.format("%Y-%m-%d").to_string(), "{y}-{m}-{d}");
        }
        assert_eq!(iso_date(NaiveDate::from_ymd_opt(2025, 3, 7).expect("a date")), "2025-03-07");
    }
}
