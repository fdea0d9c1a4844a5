//! The write scenarios: `create` registers beneficiaries (`createBeneficiary`, each with a new
//! NIK), `move` moves businesses between RUNNING and STALLED (`stallBusiness`/`resumeBusiness`,
//! each client on its own business, with the version it read). The raw side does what a
//! hand-written service must do for the same write: in one transaction, the row, its case event
//! and (on PostgreSQL) the notification that wakes subscribers.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering},
};

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, FromQueryResult, Statement, TransactionTrait,
    Value as SqlValue,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Error, Server, drive, measure_gateway};

/// Which write a scenario makes.
#[derive(Clone, Copy)]
pub enum Write {
    Create,
    Move,
}

impl Write {
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "create" => Some(Self::Create),
            "move" => Some(Self::Move),
            _ => None,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Create => "create a beneficiary",
            Self::Move => "move a business (stall/resume)",
        }
    }
}

/// Where a run's writes go.
pub struct Target<'a> {
    pub server: &'a Server,
    pub token: &'a str,
    pub url: &'a str,
    pub db: &'a DatabaseConnection,
    /// Businesses to move: the gateway's clients take the second quarter, the raw SQL's the
    /// last, each client its own (so that no two writers race for one version).
    pub businesses: &'a [Uuid],
}

/// Runs `write` through the gateway and then as raw SQL, `clients` at a time for `seconds` each.
pub async fn run(
    write: Write,
    target: &Target<'_>,
    clients: usize,
    seconds: u64,
) -> Result<(Value, Value), Error> {
    match write {
        Write::Create => create(target, clients, seconds).await,
        Write::Move => moves(target, clients, seconds).await,
    }
}

const CREATE: &str = "mutation($input: CreateBeneficiaryInput!) { createBeneficiary(input: $input) { \
                      beneficiary { id } userErrors { code message } } }";

/// The NIKs the gateway's creates use: a Samarinda district, men born from 1950 on, serials
/// 9000–9999 (which the demo data does not use), so that a rerun on the same database goes on
/// where the last one stopped.
const NIK_PREFIX: &str = "647201";

fn nik(k: u64) -> (String, NaiveDate) {
    let base = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default();
    let born = base + chrono::Days::new(k / 1000);
    (format!("{NIK_PREFIX}{}{}", born.format("%d%m%y"), 9000 + k % 1000), born)
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

async fn count(db: &DatabaseConnection, sql: &str) -> Result<u64, Error> {
    let backend = db.get_database_backend();
    let row = Count::find_by_statement(Statement::from_string(backend, sql.to_owned())).one(db).await?;
    Ok(row.map_or(0, |r| r.n.max(0) as u64))
}

async fn create(target: &Target<'_>, clients: usize, seconds: u64) -> Result<(Value, Value), Error> {
    let done = count(
        target.db,
        &format!(
            "SELECT COUNT(*) AS n FROM beneficiary WHERE nik LIKE '{NIK_PREFIX}%' AND substr(nik, 13, 1) = '9'"
        ),
    )
    .await?;
    let next = Arc::new(AtomicU64::new(done));
    let gateway = measure_gateway(
        target.server,
        target.token,
        clients,
        seconds,
        move |_| {
            let (nik, born) = nik(next.fetch_add(1, Ordering::Relaxed));
            json!({ "query": CREATE, "variables": { "input": {
                "nik": nik, "kkNumber": "6472010101200001", "fullName": "Penerima Uji",
                "birthDate": born.to_string(), "sex": "MALE", "regencyCode": "6472",
                "districtCode": "647201", "decile": 3, "decileSource": "DTSEN",
                "decileAssessedOn": "2026-01-01",
            } } })
        },
        |_, body| body["data"]["createBeneficiary"]["beneficiary"]["id"].is_string(),
    )
    .await?;

    // The raw side's NIKs start with 5 (no region has that code): they cannot meet the API's.
    let done = count(target.db, "SELECT COUNT(*) AS n FROM beneficiary WHERE nik LIKE '5%'").await?;
    let next = Arc::new(AtomicU64::new(done));
    let raw = drive_raw(target, clients, seconds, move |db, _| {
        let k = next.fetch_add(1, Ordering::Relaxed);
        async move { raw_create(&db, k).await }
    })
    .await?;
    Ok((gateway, raw))
}

/// Runs `write` through the driver from `clients` tasks for `seconds`; it gets a connection
/// pool of its own and the client's number.
async fn drive_raw<W, F>(target: &Target<'_>, clients: usize, seconds: u64, write: W) -> Result<Value, Error>
where
    W: Fn(DatabaseConnection, usize) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = Result<(), sea_orm::DbErr>> + Send,
{
    let mut options = sea_orm::ConnectOptions::new(target.url.to_owned());
    options.max_connections(clients as u32).sqlx_logging(false);
    let db = Database::connect(options).await?;
    let statements = if db.get_database_backend() == DbBackend::Postgres { 3 } else { 2 };
    let run = drive(clients, seconds, move |n| {
        let done = write(db.clone(), n / crate::CLIENT_STRIDE);
        async move { done.await.is_ok() }
    })
    .await;
    Ok(run.summary(json!({ "sql_statements_per_request": statements })))
}

/// `$1`, `$2` … as the backend numbers its parameters.
fn statement(backend: DbBackend, sql: &str, values: Vec<SqlValue>) -> Statement {
    let sql = if backend == DbBackend::Sqlite { sql.replace('$', "?") } else { sql.to_owned() };
    Statement::from_sql_and_values(backend, sql, values)
}

const INSERT_EVENT: &str = "INSERT INTO case_event (beneficiary_id, business_id, entity_type, entity_id, action, \
     from_status, to_status, changed_fields, reason, actor_agency, actor_client, regency_code, occurred_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', NULL, 'DINSOS', 'bench-raw', $8, $9) RETURNING seq";

#[derive(FromQueryResult)]
struct Seq {
    seq: i64,
}

/// Appends the case event and, on PostgreSQL, notifies listeners (in the write's transaction).
async fn raw_event(txn: &impl ConnectionTrait, values: Vec<SqlValue>) -> Result<(), sea_orm::DbErr> {
    let backend = txn.get_database_backend();
    let row = txn.query_one_raw(statement(backend, INSERT_EVENT, values)).await?;
    let seq = row.map(|r| Seq::from_query_result(&r, "")).transpose()?.map_or(0, |r| r.seq);
    if backend == DbBackend::Postgres {
        txn.execute_raw(statement(
            backend,
            "SELECT pg_notify($1, $2)",
            vec!["sinergi_case_events".into(), seq.to_string().into()],
        ))
        .await?;
    }
    Ok(())
}

async fn raw_create(db: &DatabaseConnection, k: u64) -> Result<(), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let (id, now, born) =
        (Uuid::now_v7(), Utc::now(), NaiveDate::from_ymd_opt(1980, 1, 1).unwrap_or_default());
    let txn = db.begin().await?;
    txn.execute_raw(statement(
        backend,
        "INSERT INTO beneficiary (id, nik, kk_number, is_head_of_family, full_name, birth_date, sex, phone, \
         address, regency_code, district_code, village_code, decile, decile_source, decile_assessed_on, status, \
         status_reason, is_demo, version, created_by_agency, created_by_client, created_at, updated_at) \
         VALUES ($1, $2, '6472010101200001', FALSE, 'Penerima Uji', $3, 'MALE', NULL, NULL, '6472', '647201', \
         NULL, 3, 'DTSEN', $3, 'ACTIVE', NULL, FALSE, 1, 'DINSOS', 'bench-raw', $4, $4)",
        vec![id.into(), format!("5{k:015}").into(), born.into(), now.into()],
    ))
    .await?;
    let no_business: Option<Uuid> = None;
    raw_event(
        &txn,
        vec![
            id.into(),
            no_business.into(),
            "BENEFICIARY".into(),
            id.into(),
            "CREATED".into(),
            SqlValue::String(None),
            "ACTIVE".into(),
            "6472".into(),
            now.into(),
        ],
    )
    .await?;
    txn.commit().await
}

const MOVE: &str = "mutation($id: UUID!, $version: Int!) { MOVE(input: { id: $id, expectedVersion: $version }) { \
                    business { version status } userErrors { code message } } }";
const READ: &str = "query($id: UUID!) { business(id: $id) { version status } }";

/// What one client knows of its business: the version it last saw and whether it runs.
#[derive(Clone, Copy)]
struct Seen {
    version: i64,
    running: bool,
}

async fn moves(target: &Target<'_>, clients: usize, seconds: u64) -> Result<(Value, Value), Error> {
    let quarter = target.businesses.len() / 4;
    if quarter == 0 {
        return Err("too few businesses to move".into());
    }
    let mine =
        |from: usize| -> Vec<Uuid> { (0..clients).map(|c| target.businesses[from + c % quarter]).collect() };
    let (ours, theirs) = (Arc::new(mine(quarter)), mine(3 * quarter));
    // Each client starts from what its business is now (earlier runs moved them too).
    let http = reqwest::Client::new();
    let mut seen = Vec::with_capacity(clients);
    for id in ours.iter() {
        let body: Value = http
            .post(format!("{}/graphql", target.server.base))
            .bearer_auth(target.token)
            .json(&json!({ "query": READ, "variables": { "id": id } }))
            .send()
            .await?
            .json()
            .await?;
        let business = &body["data"]["business"];
        let (Some(version), Some(status)) = (business["version"].as_i64(), business["status"].as_str())
        else {
            return Err(format!("cannot read business {id}: {body}").into());
        };
        if status != "RUNNING" && status != "STALLED" {
            return Err(format!("business {id} is {status}, neither RUNNING nor STALLED").into());
        }
        seen.push(Seen { version, running: status == "RUNNING" });
    }
    let seen = Arc::new(Mutex::new(seen));
    let client = move |n: usize| (n / crate::CLIENT_STRIDE) % clients;
    let gateway = {
        let (seen_now, seen_after, ours) = (seen.clone(), seen, ours);
        measure_gateway(
            target.server,
            target.token,
            clients,
            seconds,
            move |n| {
                let c = client(n);
                let now = seen_now.lock().map(|s| s[c]).unwrap_or(Seen { version: 0, running: true });
                let name = if now.running { "stallBusiness" } else { "resumeBusiness" };
                json!({
                    "query": MOVE.replace("MOVE", name),
                    "variables": { "id": ours[c], "version": now.version },
                })
            },
            move |n, body| {
                let Some(payload) = body["data"].as_object().and_then(|d| d.values().next()) else {
                    return false;
                };
                let business = &payload["business"];
                match (business["version"].as_i64(), business["status"].as_str(), seen_after.lock()) {
                    (Some(version), Some(status), Ok(mut seen)) => {
                        seen[client(n)] = Seen { version, running: status == "RUNNING" };
                        true
                    }
                    _ => false,
                }
            },
        )
        .await?
    };
    let theirs = Arc::new(theirs);
    let raw = drive_raw(target, clients, seconds, move |db, c| {
        let id = theirs[c % theirs.len()];
        async move { raw_move(&db, id).await }
    })
    .await?;
    Ok((gateway, raw))
}

#[derive(FromQueryResult)]
struct Moved {
    beneficiary_id: Uuid,
    regency_code: String,
    status: String,
}

async fn raw_move(db: &DatabaseConnection, id: Uuid) -> Result<(), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    let txn = db.begin().await?;
    let row = txn
        .query_one_raw(statement(
            backend,
            "UPDATE business SET status = CASE WHEN status = 'RUNNING' THEN 'STALLED' ELSE 'RUNNING' END, \
             status_changed_on = $2, version = version + 1, updated_at = $3 WHERE id = $1 \
             RETURNING beneficiary_id, regency_code, status",
            vec![id.into(), now.date_naive().into(), now.into()],
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("business {id}")))?;
    let moved = Moved::from_query_result(&row, "")?;
    let from = if moved.status == "RUNNING" { "STALLED" } else { "RUNNING" };
    raw_event(
        &txn,
        vec![
            moved.beneficiary_id.into(),
            Some(id).into(),
            "BUSINESS".into(),
            id.into(),
            "STATUS_CHANGED".into(),
            from.into(),
            moved.status.into(),
            moved.regency_code.into(),
            now.into(),
        ],
    )
    .await?;
    txn.commit().await
}
