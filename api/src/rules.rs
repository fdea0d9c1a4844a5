//! Programme rules that change with regulation: loan limits, eligibility thresholds.
//!
//! Defaults follow docs/design.md; an operator overrides them with a TOML file (`SINERGI_RULES`).

use serde::Deserialize;

/// Configurable programme rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Highest decile eligible for economic-empowerment (UEP) packages.
    pub max_decile_for_business_package: i32,
    /// KUR Super Mikro limit, rupiah.
    pub kur_super_micro_limit: i64,
    /// KUR Mikro limit, rupiah.
    pub kur_micro_limit: i64,
    /// KUR Kecil limit, rupiah (collateral required).
    pub kur_small_limit: i64,
    /// Months a business must have run before KUR.
    pub kur_min_months_running: u32,
    /// Months after completed entrepreneurship training that suffice instead.
    pub kur_min_months_after_training: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            max_decile_for_business_package: 5,
            kur_super_micro_limit: 10_000_000,
            kur_micro_limit: 100_000_000,
            kur_small_limit: 500_000_000,
            kur_min_months_running: 6,
            kur_min_months_after_training: 3,
        }
    }
}

impl Rules {
    /// Reads rules from a TOML file; missing keys keep their defaults.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}
