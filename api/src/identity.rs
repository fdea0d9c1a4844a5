//! NIK and KK number rules, as docs/design.md states them, plus masking of personal data.
//!
//! NIK = region first issued (6) + birth date DDMMYY, day + 40 for women + serial (4, not 0000).
//! KK  = issuing region (6) + recording date DDMMYY (no +40) + serial (4, not 0000).
//! A NIK never changes when a person moves, so a region outside Kaltim (or an old pre-2012 code)
//! is accepted with a warning.

use chrono::{Datelike, NaiveDate};

use crate::{
    error::{ServiceError, UserWarning},
    regions::{KALTIM, Regions},
};

/// Sex as recorded on the NIK and in the register.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Sex {
    Male,
    Female,
}

/// What a valid NIK encodes.
#[derive(Debug, Clone)]
pub struct NikInfo {
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub warnings: Vec<UserWarning>,
}

fn sixteen_digits(field: &str, label: &str, value: &str) -> Result<(), ServiceError> {
    if value.len() != 16 {
        return Err(ServiceError::validation(
            field,
            format!("{label} must be exactly 16 digits, got {} characters", value.chars().count()),
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ServiceError::validation(field, format!("{label} must contain digits only")));
    }
    if &value[12..] == "0000" {
        return Err(ServiceError::validation(field, format!("{label} serial must not be 0000")));
    }
    Ok(())
}

fn two(value: &str, at: usize) -> u32 {
    value[at..at + 2].parse().unwrap_or(0)
}

/// A two-digit year: the most recent year with those digits that is not in the future.
fn full_year(yy: u32, today: NaiveDate) -> i32 {
    let this_year = today.year();
    let candidate = this_year - this_year.rem_euclid(100) + yy as i32;
    if candidate > this_year { candidate - 100 } else { candidate }
}

fn region_warning(field: &str, label: &str, value: &str, regions: &Regions) -> Vec<UserWarning> {
    let region = &value[..6];
    if !region.starts_with(KALTIM) {
        vec![UserWarning {
            field: vec![field.to_owned()],
            message: format!("{label} was first issued outside Kalimantan Timur (region {region}); accepted"),
        }]
    } else if regions.get(region).is_none() {
        vec![UserWarning {
            field: vec![field.to_owned()],
            message: format!(
                "{label} region {region} is not a current Kaltim district code (an older code?); accepted"
            ),
        }]
    } else {
        Vec::new()
    }
}

/// Validates a NIK; `sex`, when known, must agree with the day + 40 rule.
pub fn check_nik(
    field: &str,
    nik: &str,
    sex: Option<Sex>,
    regions: &Regions,
    today: NaiveDate,
) -> Result<NikInfo, ServiceError> {
    sixteen_digits(field, "NIK", nik)?;
    let (mut day, month, yy) = (two(nik, 6), two(nik, 8), two(nik, 10));
    let encoded_sex = if day > 40 {
        day -= 40;
        Sex::Female
    } else {
        Sex::Male
    };
    let birth_date = NaiveDate::from_ymd_opt(full_year(yy, today), month, day).ok_or_else(|| {
        ServiceError::validation(field, format!("NIK encodes an impossible birth date ({}) ", &nik[6..12]))
    })?;
    if let Some(sex) = sex
        && sex != encoded_sex
    {
        return Err(ServiceError::validation(
            field,
            "NIK does not agree with the sex given (women's day of birth is +40)",
        ));
    }
    Ok(NikInfo { birth_date, sex: encoded_sex, warnings: region_warning(field, "NIK", nik, regions) })
}

/// Validates a KK (family card) number.
pub fn check_kk(
    field: &str,
    kk: &str,
    regions: &Regions,
    today: NaiveDate,
) -> Result<Vec<UserWarning>, ServiceError> {
    sixteen_digits(field, "KK number", kk)?;
    let (day, month, yy) = (two(kk, 6), two(kk, 8), two(kk, 10));
    if NaiveDate::from_ymd_opt(full_year(yy, today), month, day).is_none() {
        return Err(ServiceError::validation(
            field,
            format!("KK number encodes an impossible recording date ({})", &kk[6..12]),
        ));
    }
    Ok(region_warning(field, "KK number", kk, regions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default()
    }

    #[test]
    fn a_womans_nik_carries_day_plus_forty() {
        let regions = Regions::load();
        let info = check_nik("nik", "6472015508900003", Some(Sex::Female), &regions, today());
        assert!(matches!(info, Ok(NikInfo { sex: Sex::Female, .. })));
        assert!(check_nik("nik", "6472015508900003", Some(Sex::Male), &regions, today()).is_err());
    }

    #[test]
    fn impossible_dates_and_zero_serials_are_refused() {
        let regions = Regions::load();
        assert!(check_nik("nik", "6472013102900003", None, &regions, today()).is_err());
        assert!(check_nik("nik", "6472011502900000", None, &regions, today()).is_err());
        assert!(check_kk("kk", "6472013002200001", &regions, today()).is_err());
    }

    #[test]
    fn a_nik_from_outside_kaltim_is_a_warning() {
        let regions = Regions::load();
        let info = check_nik("nik", "3171011502900003", None, &regions, today());
        assert!(matches!(info, Ok(ref i) if i.warnings.len() == 1));
    }

    #[test]
    fn masking_keeps_four_and_two() {
        assert_eq!(crate::pii::mask("6472011502900003"), "6472**********03");
    }
}
