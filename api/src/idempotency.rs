//! `Idempotency-Key` on mutations over HTTP: the first request with a key runs and its response
//! is kept (with the personal data it showed, so that a replay is logged like a read); a retry
//! with the same key and the same request gets that response again (`Idempotent-Replayed:
//! true`) and writes nothing. The same key with another request is refused (422); a key whose
//! first request still runs, or never finished, is refused (409) — the outcome of a request
//! that died halfway is unknown, so the client must read before it retries with a new key.
//! Keys are per API client and kept for `SINERGI_IDEMPOTENCY_TTL` (24 h by default). A request
//! error (nothing ran) gives its key back.

use chrono::Utc;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};
use sha2::{Digest, Sha256};

/// Longest key accepted.
pub const MAX_KEY: usize = 200;

/// A mutation's key and what it asked (a hash of its query, operation and variables).
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

impl Idempotency {
    /// The key of an `Idempotency-Key` header, without a fingerprint yet ([`Self::of_request`]);
    /// `Err` names what is wrong with the key.
    pub fn from_header(key: &str) -> Result<Self, String> {
        let key = key.trim();
        if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters"));
        }
        Ok(Self { key: key.to_owned(), fingerprint: String::new() })
    }

    /// The key with the fingerprint of the request it came with: its document (as resolved from
    /// a `documentId` or APQ hash, so a retry that sends the hash gets the same fingerprint as
    /// the request that sent the text), operation name and variables. Key order in the
    /// variables does not matter.
    pub fn of_request(&self, request: &async_graphql::Request) -> Self {
        // serde_json's map keeps keys sorted: the text is canonical.
        let canonical = serde_json::json!({
            "query": request.query,
            "operationName": request.operation_name,
            "variables": serde_json::to_value(&request.variables).unwrap_or_default(),
        })
        .to_string();
        Self { key: self.key.clone(), fingerprint: hex::encode(Sha256::digest(canonical.as_bytes())) }
    }
}

impl Idempotency {
    /// The same key, its fingerprint followed by one of what `actor` may see (scopes, regions,
    /// volunteer): a replay is given only to a token with the grant the first request ran under.
    pub fn for_actor(&self, actor: &crate::auth::Actor) -> Self {
        let scopes: Vec<&str> = actor.scopes.iter().map(|s| s.as_str()).collect();
        let mut regions = actor.regions.clone();
        regions.sort();
        let grant = format!(
            "{}|{}|{}",
            scopes.join(" "),
            regions.join(" "),
            actor.volunteer.map(|v| v.to_string()).unwrap_or_default()
        );
        let grant = hex::encode(Sha256::digest(grant.as_bytes()));
        Self { key: self.key.clone(), fingerprint: format!("{}:{grant}", self.fingerprint) }
    }
}

/// What a key allows.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The first request with this key: run it, then [`complete`] or [`release`].
    Fresh,
    /// Run before: its response, and the personal data it showed (JSON, [`crate::pii::PiiReads`]).
    Replay { response: String, reads: String },
    /// The key was used with another request (HTTP 422).
    Mismatch,
    /// The same request ran under a token with another grant: its answer is not shown to this
    /// one (HTTP 403); the change was made.
    OtherGrant,
    /// The first request with this key is still running (HTTP 409).
    Running,
    /// The first request with this key never finished: its outcome is unknown (HTTP 409).
    Unfinished,
}

fn table() -> Alias {
    Alias::new("idempotency_key")
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

/// Claims `idempotency` for `client` (`AGENCY/NAME`). A claim still running after `abandoned`
/// is reported as never finished.
pub async fn claim(
    db: &DatabaseConnection,
    client: &str,
    idempotency: &Idempotency,
    ttl: chrono::Duration,
    abandoned: chrono::Duration,
) -> Result<Claim, DbErr> {
    let now = Utc::now();
    let backend = db.get_database_backend();
    // Expired keys go (with the responses they kept): the client's own at once, so a key may be
    // used again; everyone's once a minute per process.
    static SWEPT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let everyone =
        SWEPT.fetch_max(now.timestamp(), std::sync::atomic::Ordering::Relaxed) + 60 <= now.timestamp();
    let mut expired =
        Query::delete().from_table(table()).and_where(Expr::col(col("expires_at")).lt(now)).to_owned();
    if !everyone {
        expired.and_where(Expr::col(col("client_key")).eq(client));
    }
    db.execute_raw(backend.build(&expired)).await?;
    let insert = Query::insert()
        .into_table(table())
        .columns(["client_key", "key", "fingerprint", "state", "created_at", "expires_at"].map(col))
        .values_panic([
            client.into(),
            idempotency.key.clone().into(),
            idempotency.fingerprint.clone().into(),
            "running".into(),
            now.into(),
            (now + ttl).into(),
        ])
        .on_conflict(OnConflict::columns([col("client_key"), col("key")]).do_nothing().to_owned())
        .to_owned();
    if db.execute_raw(backend.build(&insert)).await?.rows_affected() == 1 {
        return Ok(Claim::Fresh);
    }
    let select = Query::select()
        .columns(["fingerprint", "state", "response", "reads", "created_at"].map(col))
        .from(table())
        .and_where(Expr::col(col("client_key")).eq(client))
        .and_where(Expr::col(col("key")).eq(idempotency.key.clone()))
        .to_owned();
    let Some(row) = db.query_one_raw(backend.build(&select)).await? else {
        // Expired and removed between the two statements by a concurrent request: rare; ask
        // the client to retry rather than run twice.
        return Ok(Claim::Running);
    };
    let fingerprint: String = row.try_get_by_index(0)?;
    let state: String = row.try_get_by_index(1)?;
    let created: chrono::DateTime<Utc> = row.try_get_by_index(4)?;
    if fingerprint != idempotency.fingerprint {
        let request = |f: &str| f.split(':').next().unwrap_or_default().to_owned();
        if request(&fingerprint) == request(&idempotency.fingerprint) {
            return Ok(Claim::OtherGrant);
        }
        return Ok(Claim::Mismatch);
    }
    match state.as_str() {
        "done" => Ok(Claim::Replay {
            response: row.try_get_by_index::<Option<String>>(2)?.unwrap_or_default(),
            reads: row.try_get_by_index::<Option<String>>(3)?.unwrap_or_else(|| "[]".into()),
        }),
        _ if now - created > abandoned => Ok(Claim::Unfinished),
        _ => Ok(Claim::Running),
    }
}

/// Keeps the response of the request that claimed the key.
pub async fn complete(
    db: &DatabaseConnection,
    client: &str,
    key: &str,
    response: &str,
    reads: &str,
) -> Result<(), DbErr> {
    let update = Query::update()
        .table(table())
        .value(col("state"), "done")
        .value(col("response"), response)
        .value(col("reads"), reads)
        .and_where(Expr::col(col("client_key")).eq(client))
        .and_where(Expr::col(col("key")).eq(key))
        .to_owned();
    db.execute_raw(db.get_database_backend().build(&update)).await?;
    Ok(())
}

/// Gives a key back: its request did not run (a request error).
pub async fn release(db: &DatabaseConnection, client: &str, key: &str) -> Result<(), DbErr> {
    let delete = Query::delete()
        .from_table(table())
        .and_where(Expr::col(col("client_key")).eq(client))
        .and_where(Expr::col(col("key")).eq(key))
        .and_where(Expr::col(col("state")).eq("running"))
        .to_owned();
    db.execute_raw(db.get_database_backend().build(&delete)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_ignores_key_order_and_a_key_must_be_short_visible_text() {
        let request = |body: serde_json::Value| -> async_graphql::Request {
            serde_json::from_value(body).expect("request")
        };
        let a = request(serde_json::json!({ "query": "mutation { x }", "variables": { "a": 1, "b": 2 } }));
        let b = request(serde_json::json!({ "variables": { "b": 2, "a": 1 }, "query": "mutation { x }" }));
        let c = request(serde_json::json!({ "query": "mutation { x }", "variables": { "a": 1, "b": 3 } }));
        let d = request(serde_json::json!({ "query": "mutation { y }", "variables": { "a": 1, "b": 2 } }));
        let key = Idempotency::from_header("k-1").expect("key");
        let print = |r: &async_graphql::Request| key.of_request(r).fingerprint;
        assert_eq!(print(&a), print(&b));
        assert_ne!(print(&a), print(&c));
        assert_ne!(print(&a), print(&d));
        for bad in ["", " ", "with space", "é", &"k".repeat(201)] {
            assert!(Idempotency::from_header(bad).is_err(), "{bad:?}");
        }
    }
}
