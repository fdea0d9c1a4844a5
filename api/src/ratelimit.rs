//! Rate limits per API client: a token bucket per client (`AGENCY/NAME`) holding `burst`
//! requests and refilled at `per_minute`, with the rates from the access policy. Every HTTP
//! request and every WebSocket operation takes one token in `Gateway::run`; an empty bucket is
//! `RATE_LIMITED` with the seconds until the next token (HTTP 429 and `Retry-After`).
//!
//! Across replicas (PostgreSQL): each replica checks its own bucket at once — no database
//! round trip on the request path — and once a second writes what it let through to
//! `rate_usage` and takes from its buckets what the other replicas let through since its last
//! look. So the replicas share one bucket per client, give or take a second of traffic; a
//! client spreading a burst over several replicas can exceed its rate by at most what the
//! others let through within that second. (Chosen over Redis: PostgreSQL is already what
//! replicas share, and the request path stays free of a network call.)

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use crate::policy::RateLimit;

/// How often a replica shares what it let through.
pub const SYNC: Duration = Duration::from_secs(1);

struct Bucket {
    tokens: f64,
    updated: Instant,
    /// The client's rate, as last taken (a debt reported by another replica refills first).
    per_second: f64,
    burst: f64,
    /// Made by another replica's report before this one served the client: `tokens` is the
    /// debt to take from the first full bucket.
    fresh: bool,
}

/// The buckets of this replica, and what it let through since it last shared.
pub struct RateLimiter {
    replica: String,
    buckets: Mutex<HashMap<String, Bucket>>,
    used: Mutex<HashMap<String, i64>>,
    /// `rate_usage` rows of other replicas already taken into account, with when: rows are read
    /// over a window of a few seconds (a row may become visible after rows with higher ids).
    seen: Mutex<HashMap<i64, Instant>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self {
            replica: uuid::Uuid::now_v7().to_string(),
            buckets: Mutex::default(),
            used: Mutex::default(),
            seen: Mutex::default(),
        }
    }
}

impl RateLimiter {
    /// Takes a token from `client`'s bucket, or tells how long until one is there.
    pub fn take(&self, client: &str, limit: RateLimit) -> Result<(), Duration> {
        let per_second = f64::from(limit.per_minute) / 60.0;
        let burst = f64::from(limit.burst);
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        let bucket = buckets.entry(client.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated: now,
            per_second,
            burst,
            fresh: false,
        });
        bucket.per_second = per_second;
        bucket.burst = burst;
        if bucket.fresh {
            bucket.tokens += burst;
            bucket.fresh = false;
        }
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens < 1.0 {
            return Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second));
        }
        bucket.tokens -= 1.0;
        drop(buckets);
        if let Ok(mut used) = self.used.lock() {
            *used.entry(client.to_owned()).or_default() += 1;
        }
        Ok(())
    }

    /// Takes `n` tokens another replica spent from `client`'s bucket (it may go below zero: the
    /// client then waits until the refill covers it).
    fn spent_elsewhere(&self, client: &str, n: i64) {
        if let Ok(mut buckets) = self.buckets.lock() {
            let now = Instant::now();
            let bucket = buckets.entry(client.to_owned()).or_insert(Bucket {
                tokens: 0.0,
                updated: now,
                per_second: 0.0,
                burst: 0.0,
                fresh: true,
            });
            if !bucket.fresh {
                // Refill up to now first: idle time must not cancel the debt at the next take.
                let elapsed = now.duration_since(bucket.updated).as_secs_f64();
                bucket.tokens = (bucket.tokens + elapsed * bucket.per_second).min(bucket.burst);
                bucket.updated = now;
            }
            bucket.tokens -= n as f64;
        }
    }

    /// Shares this replica's use since the last call and takes in the others'. PostgreSQL only:
    /// an embedded SQLite database has one process.
    pub async fn sync(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let used: Vec<(String, i64)> = match self.used.lock() {
            Ok(mut used) => used.drain().collect(),
            Err(_) => Vec::new(),
        };
        if !used.is_empty() {
            let rows = serde_json::to_string(&used).unwrap_or_else(|_| "[]".into());
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO rate_usage (client_key, replica, used) \
                 SELECT u->>0, $1, (u->>1)::int FROM json_array_elements($2::json) AS u",
                [self.replica.clone().into(), rows.into()],
            ))
            .await?;
        }
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT id, client_key, used FROM rate_usage \
                 WHERE replica <> $1 AND at > now() - interval '5 seconds'",
                [self.replica.clone().into()],
            ))
            .await?;
        let now = Instant::now();
        if let Ok(mut seen) = self.seen.lock() {
            for row in rows {
                let id: i64 = row.try_get_by_index(0).unwrap_or_default();
                if seen.insert(id, now).is_some() {
                    continue;
                }
                let client: String = row.try_get_by_index(1).unwrap_or_default();
                let n: i32 = row.try_get_by_index(2).unwrap_or_default();
                self.spent_elsewhere(&client, i64::from(n));
            }
            seen.retain(|_, at| now.duration_since(*at) < Duration::from_secs(30));
        }
        // Rows older than a minute no replica will read again.
        db.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "DELETE FROM rate_usage WHERE at < now() - interval '1 minute'",
        ))
        .await?;
        Ok(())
    }
}

/// Shares `limiter`'s use every `SYNC` while it lives.
pub fn follow(limiter: Weak<RateLimiter>, db: DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    tokio::spawn(async move {
        loop {
            let Some(live) = limiter.upgrade() else { return };
            if let Err(err) = live.sync(&db).await {
                tracing::warn!(error = %err, "cannot share rate-limit counts");
            }
            drop(live);
            tokio::time::sleep(SYNC).await;
        }
    });
}

/// A shared limiter that follows the database.
pub fn start(db: &DatabaseConnection) -> Arc<RateLimiter> {
    let limiter = Arc::new(RateLimiter::default());
    follow(Arc::downgrade(&limiter), db.clone());
    limiter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_lets_its_burst_through_then_refills_at_its_rate() {
        let limiter = RateLimiter::default();
        let limit = RateLimit { per_minute: 60, burst: 3 };
        for _ in 0..3 {
            assert_eq!(limiter.take("DINSOS/a", limit), Ok(()));
        }
        let wait = limiter.take("DINSOS/a", limit).expect_err("the burst is spent");
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(limiter.take("DINSOS/b", limit), Ok(()), "another client has its own bucket");
        limiter.spent_elsewhere("DINSOS/b", 5);
        let wait = limiter.take("DINSOS/b", limit).expect_err("spent on another replica");
        assert!(wait > Duration::from_millis(3900), "2 left, 5 spent elsewhere: 4 s to the next: {wait:?}");
        limiter.spent_elsewhere("DINSOS/c", 2);
        assert_eq!(limiter.take("DINSOS/c", limit), Ok(()), "a client first seen elsewhere: 3 − 2 left");
        assert!(limiter.take("DINSOS/c", limit).is_err());
    }

    #[test]
    fn idle_time_does_not_cancel_what_another_replica_spent() {
        let limiter = RateLimiter::default();
        let fast = RateLimit { per_minute: 60_000, burst: 5 };
        assert_eq!(limiter.take("DINSOS/d", fast), Ok(()));
        std::thread::sleep(Duration::from_millis(20));
        // Idle long enough to refill; then another replica spends the whole burst.
        limiter.spent_elsewhere("DINSOS/d", 5);
        assert!(limiter.take("DINSOS/d", fast).is_err(), "the burst was spent elsewhere just now");
    }
}
