//! The programme's figures for a year, per regency/city: raw counts and sums read with a few
//! grouped statements over the whole province (the caller keeps the regencies it may see and
//! suppresses small cells). No GraphQL here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};

use crate::{
    assistance::{AssistanceProgramme, AssistanceStatus},
    error::ServiceError,
    records::wire,
};

/// The figures of one regency/city (or of several added up).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Starter packages granted (not cancelled) with their period in the year, their value, and
    /// how many of them are disbursed.
    pub recipients: u64,
    pub package_value: i64,
    pub packages_disbursed: u64,
    /// The year's cohort of businesses (those its packages equip) by status and by level.
    pub businesses_by_status: BTreeMap<String, u64>,
    pub businesses_by_level: BTreeMap<i32, u64>,
    /// Referrals made in the year by receiving agency and status.
    pub referrals: BTreeMap<(String, String), u64>,
    /// Infrastructure requests made in the year by kind and status.
    pub infrastructure: BTreeMap<(String, String), u64>,
    /// Loan applications made in the year by status: how many, requested and approved amounts.
    pub loans: BTreeMap<String, (u64, i64, i64)>,
}

impl Figures {
    /// Adds `other` to these figures.
    pub fn add(&mut self, other: &Figures) {
        self.recipients += other.recipients;
        self.package_value += other.package_value;
        self.packages_disbursed += other.packages_disbursed;
        for (k, v) in &other.businesses_by_status {
            *self.businesses_by_status.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.businesses_by_level {
            *self.businesses_by_level.entry(*k).or_default() += v;
        }
        for (k, v) in &other.referrals {
            *self.referrals.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.infrastructure {
            *self.infrastructure.entry(k.clone()).or_default() += v;
        }
        for (k, (n, requested, approved)) in &other.loans {
            let entry = self.loans.entry(k.clone()).or_default();
            entry.0 += n;
            entry.1 += requested;
            entry.2 += approved;
        }
    }
}

#[derive(FromQueryResult)]
struct PackageRow {
    regency_code: String,
    recipients: i64,
    amount: Option<i64>,
    disbursed: Option<i64>,
}

#[derive(FromQueryResult)]
struct BusinessRow {
    regency_code: String,
    status: String,
    level: i32,
    n: i64,
}

#[derive(FromQueryResult)]
struct PairRow {
    regency_code: String,
    a: String,
    b: String,
    n: i64,
}

#[derive(FromQueryResult)]
struct LoanRow {
    regency_code: String,
    status: String,
    n: i64,
    requested: Option<i64>,
    approved: Option<i64>,
}

/// The year of a stored instant, in the backend's SQL.
fn year_of(backend: DbBackend, column: &str) -> String {
    match backend {
        // SQLite keeps instants as ISO text: the year is its first four characters.
        DbBackend::Sqlite => format!("CAST(substr({column}, 1, 4) AS INTEGER)"),
        _ => format!("CAST(EXTRACT(YEAR FROM {column} AT TIME ZONE 'UTC') AS INTEGER)"),
    }
}

async fn rows<T: FromQueryResult>(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<T>, ServiceError> {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Sqlite { sql.replace('$', "?") } else { sql.to_owned() };
    Ok(T::find_by_statement(Statement::from_sql_and_values(backend, sql, values)).all(db).await?)
}

/// Every regency's figures for programme `year`, by regency code.
pub async fn figures(
    db: &impl ConnectionTrait,
    year: i32,
) -> Result<BTreeMap<String, Figures>, ServiceError> {
    let backend = db.get_database_backend();
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    let (package, cancelled) =
        (wire(AssistanceProgramme::BusinessStarterPackage), wire(AssistanceStatus::Cancelled));
    let disbursed = wire(AssistanceStatus::Disbursed);
    let this_year = || -> Vec<Value> {
        vec![package.clone().into(), cancelled.clone().into(), first.into(), last.into()]
    };
    let mut out: BTreeMap<String, Figures> = BTreeMap::new();

    // $1 programme, $2 cancelled, $3/$4 the year's first and last day, $5 disbursed.
    let mut values = this_year();
    values.push(disbursed.into());
    let packages: Vec<PackageRow> = rows(
        db,
        "SELECT regency_code, COUNT(*) AS recipients, CAST(SUM(amount) AS BIGINT) AS amount, \
         CAST(SUM(CASE WHEN status = $5 THEN 1 ELSE 0 END) AS BIGINT) AS disbursed \
         FROM assistance WHERE programme = $1 AND status <> $2 AND period_start BETWEEN $3 AND $4 \
         GROUP BY regency_code",
        values,
    )
    .await?;
    for row in packages {
        let f = out.entry(row.regency_code).or_default();
        f.recipients = row.recipients.max(0) as u64;
        f.package_value = row.amount.unwrap_or(0);
        f.packages_disbursed = row.disbursed.unwrap_or(0).max(0) as u64;
    }

    // The cohort: businesses a package of the year names, or the owner's when it names none.
    let cohort: Vec<BusinessRow> = rows(
        db,
        "SELECT z.regency_code, z.status, z.level, COUNT(*) AS n FROM business z \
         WHERE z.id IN (SELECT a.business_id FROM assistance a WHERE a.programme = $1 AND a.status <> $2 \
           AND a.period_start BETWEEN $3 AND $4 AND a.business_id IS NOT NULL) \
         OR z.beneficiary_id IN (SELECT a.beneficiary_id FROM assistance a WHERE a.programme = $1 \
           AND a.status <> $2 AND a.period_start BETWEEN $3 AND $4 AND a.business_id IS NULL) \
         GROUP BY z.regency_code, z.status, z.level",
        this_year(),
    )
    .await?;
    for row in cohort {
        let f = out.entry(row.regency_code).or_default();
        let n = row.n.max(0) as u64;
        *f.businesses_by_status.entry(row.status).or_default() += n;
        *f.businesses_by_level.entry(row.level).or_default() += n;
    }

    let made_in = |table: &str, a: &str, b: &str| {
        format!(
            "SELECT regency_code, {a} AS a, {b} AS b, COUNT(*) AS n FROM {table} WHERE {} = $1 \
             GROUP BY regency_code, {a}, {b}",
            year_of(backend, "created_at")
        )
    };
    let referrals: Vec<PairRow> =
        rows(db, &made_in("referral", "to_agency", "status"), vec![year.into()]).await?;
    for row in referrals {
        out.entry(row.regency_code).or_default().referrals.insert((row.a, row.b), row.n.max(0) as u64);
    }
    let requests: Vec<PairRow> =
        rows(db, &made_in("infrastructure_request", "kind", "status"), vec![year.into()]).await?;
    for row in requests {
        out.entry(row.regency_code).or_default().infrastructure.insert((row.a, row.b), row.n.max(0) as u64);
    }
    let loans: Vec<LoanRow> = rows(
        db,
        &format!(
            "SELECT regency_code, status, COUNT(*) AS n, CAST(SUM(requested_amount) AS BIGINT) AS requested, \
             CAST(SUM(COALESCE(approved_amount, 0)) AS BIGINT) AS approved FROM loan_application \
             WHERE {} = $1 GROUP BY regency_code, status",
            year_of(backend, "created_at")
        ),
        vec![year.into()],
    )
    .await?;
    for row in loans {
        out.entry(row.regency_code)
            .or_default()
            .loans
            .insert(row.status, (row.n.max(0) as u64, row.requested.unwrap_or(0), row.approved.unwrap_or(0)));
    }
    Ok(out)
}
