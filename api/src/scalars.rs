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
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}
