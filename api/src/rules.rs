//! Programme rules that change with regulation: loan limits, eligibility thresholds, the
//! starter-package allocation of each programme year.
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
    /// How old (in months, counted back from the day of the grant) a decile assessment may be for
    /// a starter package.
    pub max_assessment_age_months: u32,
    /// The most a starter package may be worth, rupiah.
    pub max_package_value: i64,
    /// Starter packages per regency/city and programme year, unless `allocation_years` says
    /// otherwise for the year.
    pub allocation: Allocation,
    /// Allocations of particular programme years.
    pub allocation_years: Vec<YearAllocation>,
    /// Months a GRADUATED business is still visited (permanence is the point): within them it
    /// stays on the coordinators' lists.
    pub graduated_visit_months: u32,
    /// The share (percent) of businesses the earlier group model (KUBE) kept running, against
    /// which cohort survival is shown.
    pub survival_baseline_percent: u32,
    /// Statistics: a count of fewer than this many (but more than none) is suppressed for tokens
    /// without `pii:read`, so that a figure cannot single a person out.
    pub statistics_min_cell: u32,
    /// The graduation ladder (naik kelas): level 1 is the first entry. A business is at the
    /// highest level whose criteria, and every lower level's, are met; `graduateBusiness` needs
    /// them all.
    pub graduation: Vec<Level>,
}

/// One rung of the graduation ladder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Its name, shown with the level (e.g. "Bertahan").
    pub name: String,
    /// What a business must show to stand on it.
    pub criteria: Vec<Criterion>,
}

/// A criterion of the ladder and the evidence it looks for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum Criterion {
    /// Its starter package was disbursed (evidence: the package).
    PackageDisbursed,
    /// The owner completed a training on one of `topics` (evidence: the enrollment).
    TrainingCompleted { topics: Vec<String> },
    /// A visit observed it RUNNING at least `months` after it started, and it is running (or
    /// graduated) now (evidence: the visit).
    RunningFor { months: u32 },
    /// It has a business registration number, NIB (evidence: the business).
    Nib,
    /// A referral for marketing or business development was completed (evidence: the referral).
    MarketAccess,
    /// A loan of one of `products` (any product when empty) was disbursed (evidence: the loan).
    LoanDisbursed {
        #[serde(default)]
        products: Vec<String>,
    },
    /// Its latest revenue figure (the last visit's estimate, else the business's own) is at
    /// least `amount` rupiah a month (evidence: the visit or the business).
    RevenueAtLeast { amount: i64 },
    /// It employs at least `workers` people (evidence: the business).
    WorkersAtLeast { workers: i32 },
    /// Any one of `of` (evidence: the first one met).
    AnyOf { of: Vec<Criterion> },
}

/// What each regency/city may grant in starter packages in a programme year (spread evenly:
/// every regency/city the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// Recipients per regency/city.
    pub recipients_per_regency: u32,
    /// Budget per regency/city, rupiah (the sum of its packages' values).
    pub budget_per_regency: i64,
}

/// The allocation of one programme year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearAllocation {
    pub year: i32,
    pub recipients_per_regency: u32,
    pub budget_per_regency: i64,
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
            max_assessment_age_months: 24,
            max_package_value: 5_000_000,
            // 1,500 recipients a year, 150 in each of the ten regencies/cities, Rp5 million each.
            allocation: Allocation { recipients_per_regency: 150, budget_per_regency: 750_000_000 },
            // 2025: the 1,500 plus 180 added mid-year (168 per regency/city).
            allocation_years: vec![YearAllocation {
                year: 2025,
                recipients_per_regency: 168,
                budget_per_regency: 840_000_000,
            }],
            graduated_visit_months: 12,
            survival_baseline_percent: 46,
            statistics_min_cell: 5,
            graduation: default_ladder(),
        }
    }
}

/// DESIGN.md's ladder, L1–L6.
fn default_ladder() -> Vec<Level> {
    let level = |name: &str, criteria: Vec<Criterion>| Level { name: name.to_owned(), criteria };
    let topics = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect();
    vec![
        level(
            "Usaha dimulai",
            vec![
                Criterion::PackageDisbursed,
                Criterion::TrainingCompleted { topics: topics(&["TECHNICAL_GUIDANCE"]) },
            ],
        ),
        level("Bertahan", vec![Criterion::RunningFor { months: 6 }]),
        level(
            "Terampil",
            vec![Criterion::TrainingCompleted { topics: topics(&["FOOD_PROCESSING", "PACKAGING"]) }],
        ),
        level("Formal dan berpasar", vec![Criterion::Nib, Criterion::MarketAccess]),
        level(
            "Bermodal",
            vec![Criterion::AnyOf {
                of: vec![
                    Criterion::LoanDisbursed {
                        products: topics(&["KUR_SUPER_MICRO", "KUR_MICRO", "KUR_SMALL"]),
                    },
                    Criterion::RevenueAtLeast { amount: 5_000_000 },
                ],
            }],
        ),
        level("Tumbuh", vec![Criterion::WorkersAtLeast { workers: 1 }, Criterion::RunningFor { months: 12 }]),
    ]
}

impl Rules {
    /// Reads rules from a TOML file; missing keys keep their defaults.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let rules: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        rules.check()?;
        Ok(rules)
    }

    /// Refuses rules that cannot be meant: negative amounts, a year allocated twice.
    fn check(&self) -> Result<(), String> {
        if self.max_package_value < 0 || self.allocation.budget_per_regency < 0 {
            return Err("amounts cannot be negative".into());
        }
        let mut years: Vec<i32> = self.allocation_years.iter().map(|y| y.year).collect();
        years.sort_unstable();
        if let Some(pair) = years.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("allocation_years lists {} twice", pair[0]));
        }
        if self.allocation_years.iter().any(|y| y.budget_per_regency < 0) {
            return Err("amounts cannot be negative".into());
        }
        if self.graduation.is_empty() {
            return Err("the graduation ladder needs at least one level".into());
        }
        for (n, level) in self.graduation.iter().enumerate() {
            if level.criteria.is_empty() {
                return Err(format!("graduation level {} ({}) has no criteria", n + 1, level.name));
            }
            level.criteria.iter().try_for_each(Criterion::check)?;
        }
        Ok(())
    }

    /// The starter-package allocation of programme `year`, per regency/city.
    pub fn allocation(&self, year: i32) -> Allocation {
        self.allocation_years
            .iter()
            .find(|y| y.year == year)
            .map(|y| Allocation {
                recipients_per_regency: y.recipients_per_regency,
                budget_per_regency: y.budget_per_regency,
            })
            .unwrap_or(self.allocation)
    }
}

impl Criterion {
    /// Refuses names the records do not know (a misspelt topic would never be met).
    fn check(&self) -> Result<(), String> {
        use std::str::FromStr;
        let known = |names: &[String], what: &str, ok: &dyn Fn(&str) -> bool| {
            names.iter().find(|n| !ok(n)).map_or(Ok(()), |n| Err(format!("unknown {what} {n}")))
        };
        match self {
            Self::TrainingCompleted { topics } => {
                if topics.is_empty() {
                    return Err("TRAINING_COMPLETED needs at least one topic".into());
                }
                known(topics, "training topic", &|n| crate::training::TrainingTopic::from_str(n).is_ok())
            }
            Self::LoanDisbursed { products } => {
                known(products, "loan product", &|n| crate::loan::LoanProduct::from_str(n).is_ok())
            }
            Self::AnyOf { of } if of.is_empty() => Err("ANY_OF needs at least one criterion".into()),
            Self::AnyOf { of } => of.iter().try_for_each(Self::check),
            Self::RevenueAtLeast { amount } if *amount < 0 => Err("amounts cannot be negative".into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_of_its_own_overrides_the_default_allocation() {
        let rules = Rules::from_toml(
            "[allocation]\nrecipients_per_regency = 10\nbudget_per_regency = 50\n\
             [[allocation_years]]\nyear = 2027\nrecipients_per_regency = 3\nbudget_per_regency = 9\n",
        );
        let rules = rules.expect("valid rules");
        assert_eq!(rules.allocation(2026), Allocation { recipients_per_regency: 10, budget_per_regency: 50 });
        assert_eq!(rules.allocation(2027), Allocation { recipients_per_regency: 3, budget_per_regency: 9 });
    }

    #[test]
    fn a_year_allocated_twice_or_a_negative_budget_is_refused() {
        let twice = "[[allocation_years]]\nyear = 2027\nrecipients_per_regency = 3\nbudget_per_regency = 9\n";
        assert!(Rules::from_toml(&twice.repeat(2)).is_err());
        assert!(Rules::from_toml("max_package_value = -1").is_err());
        assert!(Rules::from_toml("unknown_rule = 1").is_err());
    }

    #[test]
    fn the_default_ladder_passes_its_own_checks_and_a_misspelt_topic_does_not() {
        assert_eq!(Rules::default().check(), Ok(()));
        let ladder = "[[graduation]]\nname = \"A\"\ncriteria = [{ kind = \"TRAINING_COMPLETED\", topics = [\"PACKAGIN\"] }]\n";
        assert!(Rules::from_toml(ladder).is_err_and(|e| e.contains("PACKAGIN")));
        let ladder = "[[graduation]]\nname = \"A\"\ncriteria = [{ kind = \"NIB\" }, { kind = \"RUNNING_FOR\", months = 3 }]\n";
        let rules = Rules::from_toml(ladder).expect("valid ladder");
        assert_eq!(rules.graduation[0].criteria[1], Criterion::RunningFor { months: 3 });
    }
}
