//! The starter package's rules (eligibility, the allocation of each programme year) and the
//! ranked list of candidates. No GraphQL here.

use chrono::{Datelike, Months, NaiveDate, Utc};
use entity::{assistance, beneficiary};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    Statement, Value,
    sea_query::{Expr, Func},
};
use uuid::Uuid;

use super::Ineligibility;
use crate::{
    assistance::{AssistanceProgramme, AssistanceStatus},
    auth::Actor,
    error::ServiceError,
    records::{in_regions, wire},
    rules::{Allocation, Rules},
};

/// The first day of programme `year` and the last.
pub(crate) fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default(),
    )
}

/// The businesses of programme `year`'s cohort (a condition on `business`): those a starter
/// package of the year (not cancelled) names, and the owner's businesses for a package that
/// names none. `programmeStatistics` counts them; `businesses(filter: {cohortYear})` lists them.
pub(crate) fn cohort(year: i32) -> sea_orm::Condition {
    use sea_orm::QueryTrait;
    let (first, last) = year_bounds(year);
    let packages = || {
        assistance::Entity::find()
            .filter(assistance::Column::Programme.eq(wire(AssistanceProgramme::BusinessStarterPackage)))
            .filter(assistance::Column::Status.ne(wire(AssistanceStatus::Cancelled)))
            .filter(assistance::Column::PeriodStart.between(first, last))
    };
    let named = packages()
        .select_only()
        .column(assistance::Column::BusinessId)
        .filter(assistance::Column::BusinessId.is_not_null())
        .into_query();
    let owners = packages()
        .select_only()
        .column(assistance::Column::BeneficiaryId)
        .filter(assistance::Column::BusinessId.is_null())
        .into_query();
    let owners_businesses = entity::business::Entity::find()
        .select_only()
        .column(entity::business::Column::Id)
        .filter(entity::business::Column::BeneficiaryId.in_subquery(owners))
        .into_query();
    // One `IN` over a union, which the database runs as one semi-join: `id IN (…) OR
    // beneficiary_id IN (…)` could not be, and re-read a subquery per business once the
    // subquery outgrew memory (a province-wide register's statistics timed out).
    let mut businesses = named;
    businesses.union(sea_orm::sea_query::UnionType::All, owners_businesses);
    sea_orm::Condition::all().add(entity::business::Column::Id.in_subquery(businesses))
}

/// The oldest decile assessment a grant made today may rest on.
pub fn oldest_current_assessment(rules: &Rules, today: NaiveDate) -> NaiveDate {
    today.checked_sub_months(Months::new(rules.max_assessment_age_months)).unwrap_or(NaiveDate::MIN)
}

/// Starter packages of a programme year in one regency/city that count against its allocation
/// (every one not cancelled), and their value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub recipients: u32,
    pub amount: i64,
}

#[derive(FromQueryResult)]
struct UsageRow {
    regency_code: String,
    recipients: i64,
    amount: Option<i64>,
}

/// What the allocations of `year` have used, per regency/city among `regencies`, not counting
/// the package `excluding` (one being changed).
pub async fn usage(
    db: &impl ConnectionTrait,
    year: i32,
    regencies: &[String],
    excluding: Option<Uuid>,
) -> Result<Vec<(String, Usage)>, ServiceError> {
    let (first, last) = year_bounds(year);
    let mut select = assistance::Entity::find()
        .select_only()
        .column(assistance::Column::RegencyCode)
        .column_as(Expr::from(Func::count(Expr::col(assistance::Column::Id))), "recipients")
        .column_as(
            // PostgreSQL sums a BIGINT as NUMERIC: back to BIGINT (a year's packages fit).
            Expr::from(Func::cast_as(Func::sum(Expr::col(assistance::Column::Amount)), "BIGINT")),
            "amount",
        )
        .filter(assistance::Column::Programme.eq(wire(AssistanceProgramme::BusinessStarterPackage)))
        .filter(assistance::Column::Status.ne(wire(AssistanceStatus::Cancelled)))
        .filter(assistance::Column::PeriodStart.between(first, last))
        .filter(assistance::Column::RegencyCode.is_in(regencies.iter().cloned()))
        .group_by(assistance::Column::RegencyCode);
    if let Some(id) = excluding {
        select = select.filter(assistance::Column::Id.ne(id));
    }
    let rows = select.into_model::<UsageRow>().all(db).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let usage = Usage {
                recipients: r.recipients.clamp(0, u32::MAX as i64) as u32,
                amount: r.amount.unwrap_or(0),
            };
            (r.regency_code, usage)
        })
        .collect())
}

/// Serialises the grants of one regency/city and programme year (and the changes of their
/// values) on PostgreSQL, for the rest of the transaction: two grants cannot both take the last
/// place. SQLite has a single writer and needs nothing.
async fn lock_allocation(txn: &impl ConnectionTrait, year: i32, regency: &str) -> Result<(), ServiceError> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    // Regency codes are four digits: the pair (namespace, year·10⁴ + regency) names one lock.
    let regency: i32 = regency.parse().unwrap_or(0);
    let key = year.saturating_mul(10_000).saturating_add(regency);
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1, $2)",
        [Value::from(ALLOCATION_LOCKS), Value::from(key)],
    ))
    .await?;
    Ok(())
}

/// The advisory-lock namespace of the allocation locks ("SP" for starter package).
const ALLOCATION_LOCKS: i32 = 0x5350;

/// Locks the beneficiary's row for the rest of the transaction on PostgreSQL, so that two grants
/// to one person are decided one after the other (one package a year) and on the person as they
/// are then: call it before reading the person. `FOR NO KEY UPDATE`, so that records referring
/// to the person can still be written meanwhile.
pub async fn lock_person(txn: &impl ConnectionTrait, person: Uuid) -> Result<(), ServiceError> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT id FROM beneficiary WHERE id = $1 FOR NO KEY UPDATE",
        [Value::from(person)],
    ))
    .await?;
    Ok(())
}

/// What a grant asks for.
pub struct Grant<'a> {
    pub person: &'a beneficiary::Model,
    pub period_start: NaiveDate,
    pub amount: i64,
}

/// Checks a starter-package grant inside its transaction, after taking the locks that keep the
/// checks true until it commits: the decile and its assessment's age, one package per person
/// per year, the package's value, and room in the regency's allocation for the year.
pub async fn check_grant(
    txn: &impl ConnectionTrait,
    rules: &Rules,
    grant: Grant<'_>,
) -> Result<(), ServiceError> {
    let Grant { person, period_start, amount } = grant;
    let year = period_start.year();
    lock_person(txn, person.id).await?;
    lock_allocation(txn, year, &person.regency_code).await?;
    let today = Utc::now().date_naive();
    if let Some(reason) = ineligibility(rules, person, today).first() {
        return Err(ServiceError::NotEligible {
            field: "beneficiaryId".into(),
            message: reason.message(rules, person),
        });
    }
    let (first, last) = year_bounds(year);
    let same_year = assistance::Entity::find()
        .filter(assistance::Column::BeneficiaryId.eq(person.id))
        .filter(assistance::Column::Programme.eq(wire(AssistanceProgramme::BusinessStarterPackage)))
        .filter(assistance::Column::Status.ne(wire(AssistanceStatus::Cancelled)))
        .filter(assistance::Column::PeriodStart.between(first, last))
        .one(txn)
        .await?;
    if same_year.is_some() {
        return Err(ServiceError::NotEligible {
            field: "programme".into(),
            message: format!("this beneficiary already has a starter package in {year}"),
        });
    }
    check_value(rules, amount)?;
    let used = usage(txn, year, std::slice::from_ref(&person.regency_code), None).await?;
    let used = used.first().map(|(_, u)| *u).unwrap_or_default();
    check_room(rules.allocation(year), used, 1, amount, year, &person.regency_code)
}

/// Checks a new, higher value of a planned starter package in its transaction: the most a
/// package may be worth and the regency's budget for the year (a lower value always fits).
pub async fn check_new_value(
    txn: &impl ConnectionTrait,
    rules: &Rules,
    package: &assistance::Model,
    amount: i64,
) -> Result<(), ServiceError> {
    if amount <= package.amount {
        return Ok(());
    }
    let year = package.period_start.year();
    lock_allocation(txn, year, &package.regency_code).await?;
    check_value(rules, amount)?;
    let used = usage(txn, year, std::slice::from_ref(&package.regency_code), Some(package.id)).await?;
    let used = used.first().map(|(_, u)| *u).unwrap_or_default();
    check_budget(rules.allocation(year), used, amount, year, &package.regency_code)
}

fn check_value(rules: &Rules, amount: i64) -> Result<(), ServiceError> {
    if amount > rules.max_package_value {
        return Err(ServiceError::LimitExceeded {
            field: "amount".into(),
            message: format!("a starter package is worth at most Rp{}", rules.max_package_value),
        });
    }
    Ok(())
}

/// `LIMIT_EXCEEDED` when `more` recipients and `amount` rupiah do not fit beside `used`.
fn check_room(
    allocation: Allocation,
    used: Usage,
    more: u32,
    amount: i64,
    year: i32,
    regency: &str,
) -> Result<(), ServiceError> {
    if used.recipients.saturating_add(more) > allocation.recipients_per_regency {
        return Err(ServiceError::LimitExceeded {
            field: "programme".into(),
            message: format!(
                "regency {regency} has granted all {} starter packages of {year}",
                allocation.recipients_per_regency
            ),
        });
    }
    check_budget(allocation, used, amount, year, regency)
}

/// `LIMIT_EXCEEDED` when `amount` rupiah more would take the regency past its budget.
fn check_budget(
    allocation: Allocation,
    used: Usage,
    amount: i64,
    year: i32,
    regency: &str,
) -> Result<(), ServiceError> {
    if used.amount.saturating_add(amount) > allocation.budget_per_regency {
        return Err(ServiceError::LimitExceeded {
            field: "amount".into(),
            message: format!(
                "regency {regency} has Rp{} left of its {year} budget of Rp{}",
                (allocation.budget_per_regency - used.amount).max(0),
                allocation.budget_per_regency
            ),
        });
    }
    Ok(())
}

impl Ineligibility {
    /// The reason in words, for a refusal.
    pub fn message(self, rules: &Rules, person: &beneficiary::Model) -> String {
        let max = rules.max_decile_for_business_package;
        match self {
            Self::DecileAboveLimit => format!(
                "starter packages are for deciles 1–{max}; this beneficiary is decile {} ({} as of {})",
                person.decile, person.decile_source, person.decile_assessed_on
            ),
            Self::AssessmentOutOfDate => format!(
                "the decile assessment of {} is older than {} months: a current {} assessment is needed",
                person.decile_assessed_on, rules.max_assessment_age_months, person.decile_source
            ),
            Self::NotActive => format!("the beneficiary is {}, not ACTIVE", person.status),
            Self::PackageThisYear => "this beneficiary already has a starter package this year".into(),
        }
    }
}

/// The reasons (by the person's record alone) a grant made on `today` would be refused.
pub fn ineligibility(rules: &Rules, person: &beneficiary::Model, today: NaiveDate) -> Vec<Ineligibility> {
    let mut reasons = Vec::new();
    if person.status != "ACTIVE" {
        reasons.push(Ineligibility::NotActive);
    }
    if person.decile > rules.max_decile_for_business_package {
        reasons.push(Ineligibility::DecileAboveLimit);
    }
    if person.decile_assessed_on < oldest_current_assessment(rules, today) {
        reasons.push(Ineligibility::AssessmentOutOfDate);
    }
    reasons
}

/// A candidate for a starter package and where they stand.
pub struct Candidate {
    pub person: beneficiary::Model,
    pub reasons: Vec<Ineligibility>,
    /// An earlier business of theirs stopped (the programme's priority after the decile).
    pub earlier_business_stopped: bool,
    /// Starter packages granted to them in earlier years (planned or disbursed).
    pub earlier_packages: u32,
}

#[derive(FromQueryResult)]
struct CandidateRow {
    stopped: i32,
    this_year: i32,
    earlier: i64,
}

/// Which candidates to list.
pub struct CandidateQuery<'a> {
    pub regency: &'a str,
    pub year: i32,
    pub only_eligible: bool,
    /// Places in the ranking to skip, and how many to return.
    pub offset: u64,
    pub limit: u64,
}

/// The active beneficiaries of a regency in the programme's deciles, ranked for a programme
/// year: the eligible first, then by decile (poorest first), an earlier business that stopped
/// first, fewer earlier packages first, then by id.
pub async fn candidates(
    db: &impl ConnectionTrait,
    actor: &Actor,
    rules: &Rules,
    query: CandidateQuery<'_>,
) -> Result<Vec<Candidate>, ServiceError> {
    let CandidateQuery { regency, year, only_eligible, offset, limit } = query;
    if !in_regions(actor, regency) {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let today = Utc::now().date_naive();
    let (first, last) = year_bounds(year);
    let package = wire(AssistanceProgramme::BusinessStarterPackage);
    let cancelled = wire(AssistanceStatus::Cancelled);
    // Parameters: $1 regency, $2 highest decile, $3 oldest current assessment, $4/$5 the year's
    // first and last day, $6 the programme, $7 the cancelled status, $8 limit, $9 offset.
    let this_year = "EXISTS (SELECT 1 FROM assistance a WHERE a.beneficiary_id = b.id AND a.programme = $6 \
                     AND a.status <> $7 AND a.period_start BETWEEN $4 AND $5)";
    let eligible = format!("CASE WHEN b.decile_assessed_on >= $3 AND NOT {this_year} THEN 1 ELSE 0 END");
    let sql = format!(
        "SELECT b.*, {eligible} AS eligible, \
         CASE WHEN {this_year} THEN 1 ELSE 0 END AS this_year, \
         CASE WHEN EXISTS (SELECT 1 FROM business z WHERE z.beneficiary_id = b.id AND z.previously_stopped) \
         THEN 1 ELSE 0 END AS stopped, \
         (SELECT COUNT(*) FROM assistance a WHERE a.beneficiary_id = b.id AND a.programme = $6 \
          AND a.status <> $7 AND a.period_start < $4) AS earlier \
         FROM beneficiary b WHERE b.regency_code = $1 AND b.status = 'ACTIVE' AND b.decile <= $2 {only} \
         ORDER BY eligible DESC, b.decile, stopped DESC, earlier, b.id LIMIT $8 OFFSET $9",
        only = if only_eligible { format!("AND {eligible} = 1") } else { String::new() },
    );
    let values: Vec<Value> = vec![
        regency.into(),
        rules.max_decile_for_business_package.into(),
        oldest_current_assessment(rules, today).into(),
        first.into(),
        last.into(),
        package.into(),
        cancelled.into(),
        (limit as i64).into(),
        (offset as i64).into(),
    ];
    let rows = db.query_all_raw(super::numbered(backend, &sql, values)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let person = beneficiary::Model::from_query_result(&row, "")?;
        let extra = CandidateRow::from_query_result(&row, "")?;
        let mut reasons = ineligibility(rules, &person, today);
        if extra.this_year != 0 {
            reasons.push(Ineligibility::PackageThisYear);
        }
        out.push(Candidate {
            person,
            reasons,
            earlier_business_stopped: extra.stopped != 0,
            earlier_packages: extra.earlier.clamp(0, u32::MAX as i64) as u32,
        });
    }
    Ok(out)
}

/// The members of household `kk` (one KK number) the caller may see: within its regions, and
/// for a volunteer's token only its own cases. Empty when there are none.
pub async fn household_members(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kk: &str,
) -> Result<Vec<beneficiary::Model>, ServiceError> {
    use sea_orm::QueryOrder;
    let mut select = crate::records::within_regions(beneficiary::Entity::find(), actor)
        .filter(beneficiary::Column::KkNumber.eq(kk))
        .order_by_desc(beneficiary::Column::IsHeadOfFamily)
        .order_by_asc(beneficiary::Column::BirthDate)
        .order_by_asc(beneficiary::Column::Id);
    if let Some(volunteer) = actor.volunteer {
        let cases = crate::volunteer::service::cases_of(db, volunteer).await?.unwrap_or_default();
        select = select.filter(beneficiary::Column::Id.is_in(cases));
    }
    Ok(select.limit(100).all(db).await?)
}
