//! The programme's figures for a year, per regency/city: raw counts and sums read with a few
//! grouped statements over the whole province (the caller keeps the regencies it may see and
//! suppresses small cells). No GraphQL here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Value};

use crate::{
    assistance::{AssistanceProgramme, AssistanceStatus},
    error::ServiceError,
    records::wire,
};

/// The figures of one regency/city (or of several added up).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Starter packages granted (not cancelled) with their period in the year, their value, and
    /// how many of them are disbursed.
    pub recipients: u64,
    pub package_value: i64,
    pub packages_disbursed: u64,
    /// The year's cohort of businesses (those its packages equip) by status and by level.
    pub businesses_by_status: BTreeMap<String, u64>,
    pub businesses_by_level: BTreeMap<i32, u64>,
    /// Of the cohort, graduated once and now STALLED or CLOSED (a relapse).
    pub relapsed: u64,
    /// Referrals made in the year by receiving agency and status.
    pub referrals: BTreeMap<(String, String), u64>,
    /// Infrastructure requests made in the year by kind and status.
    pub infrastructure: BTreeMap<(String, String), u64>,
    /// DISPERINDAGKOP's market-access and business-development services recorded in the year by
    /// kind and status.
    pub market_services: BTreeMap<(String, String), u64>,
    /// Loan applications made in the year by status: how many, requested and approved amounts.
    pub loans: BTreeMap<String, (u64, i64, i64)>,
    /// The cohort's survival: per mark (months after its package was delivered), how many
    /// businesses have reached the mark and how many of them were running at it.
    pub survival: BTreeMap<u32, (u64, u64)>,
    /// Referrals made in the year, per receiving agency.
    pub handovers: BTreeMap<String, Handover>,
}

/// What became of the referrals to one agency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Handover {
    pub made: u64,
    /// Days from the referral to its acceptance, for those accepted (completed ones included).
    pub days_to_accept: Vec<f64>,
    /// Days from the referral to its completion, for those completed.
    pub days_to_complete: Vec<f64>,
    /// Those with a due date, and those of them overdue: still open or accepted after it, or
    /// completed after it.
    pub with_due_date: u64,
    pub overdue: u64,
}

/// The months after delivery at which survival is measured.
pub const SURVIVAL_MARKS: [u32; 4] = [3, 6, 12, 24];

/// The median of `values` (sorted here); none when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
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
        self.relapsed += other.relapsed;
        for (k, v) in &other.referrals {
            *self.referrals.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.infrastructure {
            *self.infrastructure.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.market_services {
            *self.market_services.entry(k.clone()).or_default() += v;
        }
        for (k, (n, requested, approved)) in &other.loans {
            let entry = self.loans.entry(k.clone()).or_default();
            entry.0 += n;
            entry.1 += requested;
            entry.2 += approved;
        }
        for (k, (due, running)) in &other.survival {
            let entry = self.survival.entry(*k).or_default();
            entry.0 += due;
            entry.1 += running;
        }
        for (k, h) in &other.handovers {
            let entry = self.handovers.entry(k.clone()).or_default();
            entry.made += h.made;
            entry.days_to_accept.extend(&h.days_to_accept);
            entry.days_to_complete.extend(&h.days_to_complete);
            entry.with_due_date += h.with_due_date;
            entry.overdue += h.overdue;
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
    /// Of them, graduated once.
    graduated_once: Option<i64>,
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
    Ok(T::find_by_statement(super::numbered(db.get_database_backend(), sql, values)).all(db).await?)
}

/// Every regency's figures for programme `year`, by regency code.
pub async fn figures(
    db: &impl ConnectionTrait,
    year: i32,
) -> Result<BTreeMap<String, Figures>, ServiceError> {
    let backend = db.get_database_backend();
    let (first, last) = super::service::year_bounds(year);
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

    // The cohort (the programme's one rule for it), by regency, status and level.
    let cohort: Vec<BusinessRow> = {
        use entity::business::{Column, Entity};
        use sea_orm::{EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};
        Entity::find()
            .select_only()
            .columns([Column::RegencyCode, Column::Status, Column::Level])
            .column_as(Expr::cust("COUNT(*)"), "n")
            .column_as(
                Expr::cust("CAST(SUM(CASE WHEN graduated_on IS NULL THEN 0 ELSE 1 END) AS BIGINT)"),
                "graduated_once",
            )
            .filter(super::service::cohort(year))
            .group_by(Column::RegencyCode)
            .group_by(Column::Status)
            .group_by(Column::Level)
            .into_model::<BusinessRow>()
            .all(db)
            .await?
    };
    for row in cohort {
        let f = out.entry(row.regency_code).or_default();
        let n = row.n.max(0) as u64;
        if row.status == "STALLED" || row.status == "CLOSED" {
            f.relapsed += row.graduated_once.unwrap_or(0).max(0) as u64;
        }
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
    let services: Vec<PairRow> =
        rows(db, &made_in("market_service", "kind", "status"), vec![year.into()]).await?;
    for row in services {
        out.entry(row.regency_code).or_default().market_services.insert((row.a, row.b), row.n.max(0) as u64);
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
    survival(db, year, &mut out).await?;
    handovers(db, year, &mut out).await?;
    Ok(out)
}

#[derive(FromQueryResult)]
struct CohortRow {
    id: uuid::Uuid,
    regency_code: String,
    status: String,
    status_changed_on: Option<NaiveDate>,
    delivered: Option<NaiveDate>,
}

#[derive(FromQueryResult)]
struct VisitRow {
    business_id: uuid::Uuid,
    visited_on: NaiveDate,
    observed_status: String,
}

/// How long after a mark a visit still tells the status at the mark (monthly visits are the
/// practice; three months leaves room for a missed one).
const VISIT_WINDOW_MONTHS: u32 = 3;

/// Cohort survival: for each equipped business of the year's cohort whose package was delivered
/// at least a mark ago, whether it was running at the mark — as the first visit within three
/// months after the mark observed it; without such a visit, as its status if that has not
/// changed since before the mark (a business closed before the mark did not survive; one
/// running since before it did); otherwise it is counted as not running (unknown is not
/// survival). GRADUATED counts as running; STALLED does not.
async fn survival(
    db: &impl ConnectionTrait,
    year: i32,
    out: &mut BTreeMap<String, Figures>,
) -> Result<(), ServiceError> {
    use chrono::Months;
    let (first, last) = super::service::year_bounds(year);
    let values: Vec<Value> = vec![
        wire(AssistanceProgramme::BusinessStarterPackage).into(),
        wire(AssistanceStatus::Disbursed).into(),
        first.into(),
        last.into(),
    ];
    // Each equipped business of the cohort with the day its package was delivered.
    let cohort: Vec<CohortRow> = rows(
        db,
        "SELECT z.id, z.regency_code, z.status, z.status_changed_on, MIN(a.disbursed_on) AS delivered          FROM business z JOIN assistance a ON (a.business_id = z.id OR (a.business_id IS NULL AND a.beneficiary_id = z.beneficiary_id))          WHERE a.programme = $1 AND a.status = $2 AND a.period_start BETWEEN $3 AND $4          AND z.status IN ('EQUIPPED', 'RUNNING', 'STALLED', 'CLOSED', 'GRADUATED')          GROUP BY z.id, z.regency_code, z.status, z.status_changed_on",
        values.clone(),
    )
    .await?;
    let visits: Vec<VisitRow> = rows(
        db,
        "SELECT v.business_id, v.visited_on, v.observed_status FROM monitoring_visit v WHERE v.business_id IN          (SELECT z.id FROM business z JOIN assistance a ON (a.business_id = z.id OR (a.business_id IS NULL AND a.beneficiary_id = z.beneficiary_id))           WHERE a.programme = $1 AND a.status = $2 AND a.period_start BETWEEN $3 AND $4)          ORDER BY v.business_id, v.visited_on",
        values,
    )
    .await?;
    let mut by_business: BTreeMap<uuid::Uuid, Vec<&VisitRow>> = BTreeMap::new();
    for visit in &visits {
        by_business.entry(visit.business_id).or_default().push(visit);
    }
    let today = chrono::Utc::now().date_naive();
    let running = |status: &str| status == "RUNNING" || status == "GRADUATED";
    for business in cohort {
        let Some(delivered) = business.delivered else { continue };
        let figures = out.entry(business.regency_code.clone()).or_default();
        for months in SURVIVAL_MARKS {
            let Some(mark) = delivered.checked_add_months(Months::new(months)) else { continue };
            if mark > today {
                continue;
            }
            let window = mark.checked_add_months(Months::new(VISIT_WINDOW_MONTHS)).unwrap_or(mark);
            let seen = by_business
                .get(&business.id)
                .and_then(|v| v.iter().find(|v| v.visited_on >= mark && v.visited_on <= window))
                .map(|v| running(&v.observed_status));
            let unchanged = business.status_changed_on.is_none_or(|d| d <= mark);
            let alive = seen.unwrap_or(unchanged && running(&business.status));
            let entry = figures.survival.entry(months).or_default();
            entry.0 += 1;
            entry.1 += u64::from(alive);
        }
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct ReferralRow {
    id: uuid::Uuid,
    regency_code: String,
    to_agency: String,
    status: String,
    due_by: Option<NaiveDate>,
    created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(FromQueryResult)]
struct MoveRow {
    entity_id: uuid::Uuid,
    to_status: Option<String>,
    occurred_at: chrono::DateTime<chrono::Utc>,
}

/// The handover figures of the referrals made in the year: acceptance and completion times from
/// their case events, and how many ran past their due date.
async fn handovers(
    db: &impl ConnectionTrait,
    year: i32,
    out: &mut BTreeMap<String, Figures>,
) -> Result<(), ServiceError> {
    let backend = db.get_database_backend();
    let made_in = year_of(backend, "created_at");
    let referrals: Vec<ReferralRow> = rows(
        db,
        &format!("SELECT id, regency_code, to_agency, status, due_by, created_at FROM referral WHERE {made_in} = $1"),
        vec![year.into()],
    )
    .await?;
    let moves: Vec<MoveRow> = rows(
        db,
        &format!(
            "SELECT e.entity_id, e.to_status, e.occurred_at FROM case_event e WHERE e.entity_type = 'REFERRAL'              AND e.action = 'STATUS_CHANGED' AND e.to_status IN ('ACCEPTED', 'COMPLETED')              AND e.entity_id IN (SELECT id FROM referral WHERE {made_in} = $1)"
        ),
        vec![year.into()],
    )
    .await?;
    let mut when: BTreeMap<(uuid::Uuid, &str), chrono::DateTime<chrono::Utc>> = BTreeMap::new();
    for m in &moves {
        if let Some(status) = m.to_status.as_deref() {
            when.entry((m.entity_id, status)).or_insert(m.occurred_at);
        }
    }
    let today = chrono::Utc::now();
    let days = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        ((to - from).num_minutes().max(0) as f64 / 1440.0 * 10.0).round() / 10.0
    };
    for r in referrals {
        let accepted = when.get(&(r.id, "ACCEPTED")).copied();
        let completed = when.get(&(r.id, "COMPLETED")).copied();
        let h = out.entry(r.regency_code).or_default().handovers.entry(r.to_agency).or_default();
        h.made += 1;
        if let Some(at) = accepted {
            h.days_to_accept.push(days(r.created_at, at));
        }
        if let Some(at) = completed {
            h.days_to_complete.push(days(r.created_at, at));
        }
        if let Some(due) = r.due_by {
            h.with_due_date += 1;
            let late = match (r.status.as_str(), completed) {
                ("OPEN" | "ACCEPTED", _) => due < today.date_naive(),
                ("COMPLETED", Some(at)) => at.date_naive() > due,
                _ => false,
            };
            h.overdue += u64::from(late);
        }
    }
    Ok(())
}
