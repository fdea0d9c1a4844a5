//! Work lists: the referrals an agency has to answer, and the businesses a regency's coordinator
//! should look at. No GraphQL here.

use chrono::NaiveDate;
use entity::{business, referral};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::Attention;
use crate::{auth::Actor, error::ServiceError, records::in_regions};

/// Rows `offset..offset + limit` of a ranked list.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
}

async fn rows(
    db: &impl ConnectionTrait,
    sql: String,
    values: Vec<Value>,
) -> Result<Vec<sea_orm::QueryResult>, ServiceError> {
    Ok(db.query_all_raw(super::numbered(db.get_database_backend(), &sql, values)).await?)
}

/// The regions clause of `table` for `actor` (none for the whole province).
fn regions_clause(actor: &Actor, column: &str, values: &mut Vec<Value>) -> String {
    if actor.regions.iter().any(|r| r == crate::regions::KALTIM) {
        return String::new();
    }
    let mut places = Vec::new();
    for region in &actor.regions {
        values.push(region.clone().into());
        places.push(format!("${}", values.len()));
    }
    format!("AND {column} IN ({})", places.join(", "))
}

/// The open and accepted referrals to `actor`'s agency within its regions: overdue first (the
/// longest overdue first), then by due date (none last), then oldest first.
pub async fn referrals_to_answer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    today: NaiveDate,
    window: Window,
) -> Result<Vec<referral::Model>, ServiceError> {
    let mut values: Vec<Value> = vec![actor.agency.clone().into(), today.into()];
    let regions = regions_clause(actor, "regency_code", &mut values);
    values.push((window.limit as i64).into());
    values.push((window.offset as i64).into());
    let (limit, offset) = (values.len() - 1, values.len());
    let sql = format!(
        "SELECT * FROM referral WHERE to_agency = $1 AND status IN ('OPEN', 'ACCEPTED') {regions} \
         ORDER BY CASE WHEN due_by < $2 THEN 0 ELSE 1 END, CASE WHEN due_by IS NULL THEN 1 ELSE 0 END, \
         due_by, created_at, id LIMIT ${limit} OFFSET ${offset}"
    );
    let found = rows(db, sql, values).await?;
    found.iter().map(|row| Ok(referral::Model::from_query_result(row, "")?)).collect()
}

/// A business that needs looking at, with its last visit.
pub struct Flagged {
    pub business: business::Model,
    pub last_visited_on: Option<NaiveDate>,
    pub reasons: Vec<Attention>,
}

#[derive(FromQueryResult)]
struct LastVisit {
    last_visited_on: Option<NaiveDate>,
    follow_up: Option<bool>,
}

/// The businesses of `regency` being visited — EQUIPPED, RUNNING or STALLED, and GRADUATED ones
/// graduated on or after `graduated_since` — that were not visited since `since` (or never),
/// are stalled, or whose last visit asked for a follow-up: never visited first, then the
/// longest unvisited. Empty outside `actor`'s regions.
pub async fn businesses_needing_attention(
    db: &impl ConnectionTrait,
    actor: &Actor,
    regency: &str,
    (since, graduated_since): (NaiveDate, NaiveDate),
    window: Window,
) -> Result<Vec<Flagged>, ServiceError> {
    if !in_regions(actor, regency) {
        return Ok(Vec::new());
    }
    let values: Vec<Value> = vec![
        regency.into(),
        since.into(),
        (window.limit as i64).into(),
        (window.offset as i64).into(),
        graduated_since.into(),
    ];
    // A follow-up is open while the last visit asked for one and no referral answers it yet.
    let sql = "SELECT z.*, v.visited_on AS last_visited_on, \
               (v.follow_up_needed AND NOT EXISTS (SELECT 1 FROM referral r WHERE r.visit_id = v.id)) AS follow_up \
               FROM business z \
               LEFT JOIN monitoring_visit v ON v.id = (SELECT w.id FROM monitoring_visit w WHERE w.business_id = z.id \
               ORDER BY w.visited_on DESC, w.id DESC LIMIT 1) \
               WHERE z.regency_code = $1 AND (z.status IN ('EQUIPPED', 'RUNNING', 'STALLED') \
               OR (z.status = 'GRADUATED' AND z.status_changed_on >= $5)) \
               AND (v.visited_on IS NULL OR v.visited_on < $2 OR z.status = 'STALLED' \
               OR (v.follow_up_needed AND NOT EXISTS (SELECT 1 FROM referral r WHERE r.visit_id = v.id))) \
               ORDER BY CASE WHEN v.visited_on IS NULL THEN 0 ELSE 1 END, v.visited_on, z.id LIMIT $3 OFFSET $4";
    let found = rows(db, sql.to_owned(), values).await?;
    let mut out = Vec::with_capacity(found.len());
    for row in found {
        let business = business::Model::from_query_result(&row, "")?;
        let last = LastVisit::from_query_result(&row, "")?;
        let mut reasons = Vec::new();
        if last.last_visited_on.is_none_or(|d| d < since) {
            reasons.push(Attention::NotVisited);
        }
        if business.status == "STALLED" {
            reasons.push(Attention::Stalled);
        }
        if last.follow_up == Some(true) {
            reasons.push(Attention::FollowUpOpen);
        }
        out.push(Flagged { business, last_visited_on: last.last_visited_on, reasons });
    }
    Ok(out)
}
