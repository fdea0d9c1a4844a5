//! Sinergi: a GraphQL integration gateway for East Kalimantan's cross-agency
//! poverty-alleviation programme.
//!
//! # Layout
//! - `config` — the typed configuration; `context` — shared state and resolver access to it.
//! - `auth` — scoped JWTs, the verified caller (`Actor`) and the scope guard; `revocation` —
//!   revoked tokens, shared through the database.
//! - `error` — domain errors and their one mapping to the API's error codes.
//! - `records` — what every case record shares: versioned writes, lifecycles, region bounds.
//! - `events` — case events, written in the writer's transaction; the case timeline.
//! - `page` — Relay connections; `loaders` — batched relation loading; `scalars` — Rupiah, Date.
//! - `identity` — NIK/KK rules; `pii` — masking and the personal-data access log; `regions` — Kemendagri reference data; `rules` —
//!   programme rules that are configuration (loan limits, eligibility).
//! - One module per domain: `beneficiary`, `assistance`, `business`, `training`,
//!   `infrastructure`, `loan`, `market`, `referral`, `monitoring`, `volunteer`, each with GraphQL
//!   types and a `service`.
//! - `policy` — agencies, their grantable scopes and owned record types (TOML);
//!   `reference` — agencies, regions and `me`; `schema` — the merged root; `http` — the routes;
//!   `seed` — demo data.

// The merged GraphQL roots nest one resolver future per domain object; their layout needs more
// than the default query depth.
#![recursion_limit = "256"]

pub mod assistance;
pub mod auth;
pub mod beneficiary;
pub mod business;
pub mod columns;
pub mod command;
pub mod complete;
pub mod config;
pub mod context;
pub mod documents;
pub mod error;
pub mod events;
pub mod fanout;
pub mod gateway;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod infrastructure;
pub mod keys;
pub mod limits;
pub mod loaders;
pub mod loan;
pub mod market;
pub mod metrics;
pub mod monitoring;
pub mod moves;
pub mod node;
pub mod object;
pub mod page;
pub mod parsed;
pub mod pgrecord;
pub mod pii;
pub mod policy;
pub mod programme;
pub mod ratelimit;
pub mod records;
pub mod reference;
pub mod referral;
pub mod regions;
pub mod revocation;
pub mod rules;
pub mod scalars;
pub mod schema;
pub mod seed;
pub mod shape;
pub mod supplied;
pub mod training;
pub mod ui;
pub mod variables;
pub mod volunteer;
pub mod webhooks;
pub mod ws;

use std::{future::Future, path::Path, sync::Arc, time::Duration};

use migration::{Migrator, MigratorTrait};
use rand::RngCore;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use tokio::net::TcpListener;

use crate::{auth::TokenKeys, config::Secret, policy::Policy, regions::Regions, rules::Rules};
pub use crate::{
    config::Config,
    context::{AppState, Metrics},
    http::router,
    schema::{build_schema, sdl},
};

/// Connects to the configured database, counting statements into `metrics`, with the default
/// statement timeout.
///
/// SQLite gets one connection: it has one writer anyway, and a single connection turns
/// concurrent writers into a queue instead of `database is locked` failures. Queries read
/// through `connect_reader`'s pool.
pub async fn connect(database_url: &str, metrics: Arc<Metrics>) -> Result<DatabaseConnection, DbErr> {
    connect_with(database_url, metrics, limits::Limits::default().statement_timeout).await
}

/// A pooled PostgreSQL connection idle this long is checked (a round trip) before a request
/// uses it: the server, a proxy or a firewall may have ended it meanwhile. A connection in use
/// within that time is not: checking on every use doubled each statement's round trips (sqlx's
/// default), and the process's own watch (`serve`'s `watch_database`) notices a database gone.
pub const CHECK_IF_IDLE_FOR: Duration = Duration::from_secs(10);

/// Like `connect`, with PostgreSQL's `statement_timeout` set on every connection, so a runaway
/// statement is cancelled by the server and its connection returns to the pool.
pub async fn connect_with(
    database_url: &str,
    metrics: Arc<Metrics>,
    statement_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = database_url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or_default();
        if let Some(dir) = Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    let mut options = ConnectOptions::new(database_url);
    options.acquire_timeout(Duration::from_secs(10)).sqlx_logging(false);
    if database_url.starts_with("sqlite:") {
        // A file does not hang up: no check at all.
        options.max_connections(1).min_connections(1).test_before_acquire(false);
    } else {
        let millis = statement_timeout.as_millis().to_string();
        options
            .max_connections(20)
            .test_before_acquire_if_idle_for(CHECK_IF_IDLE_FOR)
            .map_sqlx_postgres_opts(move |o| o.options([("statement_timeout", millis.as_str())]));
    }
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(move |_| metrics.count_statement());
    Ok(db)
}

/// The connections queries read through: on a SQLite file, a pool of `readers` read-only
/// connections beside the writer (the database is in WAL mode, so readers neither block each
/// other nor the writer); otherwise `writer` itself. Call after `prepare`.
pub async fn connect_reader(
    database_url: &str,
    writer: &DatabaseConnection,
    readers: u32,
    metrics: Arc<Metrics>,
) -> Result<DatabaseConnection, DbErr> {
    if !database_url.starts_with("sqlite:") || database_url.contains(":memory:") || readers == 0 {
        return Ok(writer.clone());
    }
    let mut options = ConnectOptions::new(database_url);
    options
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .max_connections(readers)
        .min_connections(1)
        .test_before_acquire(false)
        .map_sqlx_sqlite_opts(|o| o.read_only(true));
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(move |_| metrics.count_statement());
    Ok(db)
}

/// Applies pending migrations and refreshes the reference data (regions, the policy's agencies).
pub async fn prepare(db: &DatabaseConnection, regions: &Regions, policy: &Policy) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;").await?;
    }
    Migrator::up(db, None).await?;
    regions.sync(db).await?;
    reference::sync_agencies(db, policy).await?;
    Ok(())
}

/// The token keys: Ed25519 keys from `SINERGI_KEYS_DIR`; else an HS256 secret, or a development
/// key kept in the data directory (created on first use, readable only by its owner). A
/// production configuration refuses to start with HS256.
pub fn signing_keys(config: &Config, policy: &Policy) -> Result<TokenKeys, String> {
    let keys = if let Some(dir) = &config.keys_dir {
        let keyset = keys::KeySet::load(dir)?;
        let kid = match &config.signing_kid {
            Some(kid) => kid.clone(),
            None => {
                let kids: Vec<String> = keyset
                    .public_keys()
                    .into_iter()
                    .map(|k| k.kid)
                    .filter(|k| keyset.private(k).is_some())
                    .collect();
                match kids.as_slice() {
                    [only] => only.clone(),
                    [] => return Err(format!("no private key (*.key) in {}", dir.display())),
                    _ => {
                        return Err(
                            "several private keys: set SINERGI_SIGNING_KID to the one that signs".into()
                        );
                    }
                }
            }
        };
        TokenKeys::ed25519(&keyset, &kid, &config.jwt_issuer, &config.jwt_audience)?
    } else {
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => Secret::new(development_key(config)?),
        };
        TokenKeys::hs256(&secret, &config.jwt_kid, &config.jwt_issuer, &config.jwt_audience)
            .map_err(|e| format!("signing key: {e}"))?
    };
    let keys = match &config.idp_jwks {
        None => keys,
        Some(path) => {
            let jwks =
                std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let issuer = config.idp_issuer.as_deref().ok_or("SINERGI_IDP_JWKS needs SINERGI_IDP_ISSUER")?;
            let mapping = auth::ClaimMapping {
                agency: config.idp_agency_claim.clone(),
                scope: config.idp_scope_claim.clone(),
                regions: config.idp_regions_claim.clone(),
            };
            let idp = auth::ExternalIdp::from_jwks(
                &jwks,
                issuer,
                &config.idp_audience,
                mapping,
                Arc::new(policy.clone()),
            )
            .map_err(|e| format!("{}: {e}", path.display()))?;
            keys.with_external(idp)
        }
    };
    if config.is_production() && keys.is_development() {
        return Err("production needs Ed25519 keys (SINERGI_KEYS_DIR); HS256 secrets and the development key are for development only".into());
    }
    Ok(keys)
}

fn development_key(config: &Config) -> Result<String, String> {
    let path = config.data_dir.join("dev-signing.key");
    if let Ok(key) = std::fs::read_to_string(&path)
        && key.trim().len() >= 32
    {
        return Ok(key.trim().to_owned());
    }
    let io = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    std::fs::create_dir_all(&config.data_dir).map_err(io)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, &key).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(key)
}

/// Builds the shared state from a connected, prepared database.
pub fn app_state(
    db: DatabaseConnection,
    keys: TokenKeys,
    policy: Policy,
    rules: Rules,
    metrics: Arc<Metrics>,
) -> AppState {
    let db_for_limits = db.clone();
    AppState {
        reader: db.clone(),
        db,
        limits: Arc::new(limits::Limits::default()),
        connections: Arc::new(tokio::sync::Semaphore::new(limits::Limits::default().max_connections)),
        keys,
        regions: Arc::new(Regions::load()),
        policy: Arc::new(policy),
        revocations: Arc::new(revocation::Revocations::default()),
        webhooks: webhooks::WebhookSettings::default(),
        webhook_signal: Arc::default(),
        rules: Arc::new(rules),
        metrics,
        feed: Arc::new(events::EventFeed::new(events::FEED_BUFFER)),
        http: http::HttpSettings::default(),
        rate_limits: true,
        rate_limiter: ratelimit::start(&db_for_limits),
        lifecycle: Arc::default(),
        tasks: tokio_util::task::TaskTracker::new(),
    }
}

/// Largest request head (request line and headers) the server reads; a larger one is answered
/// 431 by the transport. Tokens above 8 KiB are refused as `UNAUTHENTICATED` anyway.
const MAX_REQUEST_HEAD: usize = 64 * 1024;
/// Time a client has to send a request's head; a slow sender is disconnected.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How often, and within how long, the database must answer the health check.
const DATABASE_CHECK: Duration = Duration::from_secs(1);

/// Pings PostgreSQL every second, on a connection of its own, while the gateway runs: after two
/// checks in a row without an answer, requests are refused at once as `UNAVAILABLE` (HTTP 503)
/// instead of each waiting for the pool; at the first answer they are served again — no
/// restart. (A SQLite file does not go away: not watched.)
async fn watch_database(own: sea_orm::sqlx::PgPool, lifecycle: std::sync::Weak<context::Lifecycle>) {
    let mut tick = tokio::time::interval(DATABASE_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failures = 0u32;
    loop {
        tick.tick().await;
        let check = sea_orm::sqlx::query("SELECT 1").execute(&own);
        let answered = matches!(tokio::time::timeout(DATABASE_CHECK, check).await, Ok(Ok(_)));
        failures = if answered { 0 } else { failures + 1 };
        let down = failures >= 2;
        let Some(lifecycle) = lifecycle.upgrade() else { return };
        if lifecycle.set_database_down(down) {
            if down {
                tracing::warn!(
                    "the database does not answer: requests are refused as UNAVAILABLE until it does"
                );
            } else {
                tracing::info!("the database answers again: serving");
            }
        }
    }
}

/// Serves the gateway on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    mut state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::{
        rt::{TokioExecutor, TokioIo},
        server::{conn::auto::Builder, graceful::GracefulShutdown},
        service::TowerToHyperService,
    };

    events::spawn_listener(&state.db);
    webhooks::spawn_worker(state.clone());
    if state.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // A connection of its own: a pool busy with work must not look like a database gone.
        let options = (*state.db.get_postgres_connection_pool().connect_options()).clone();
        let own = sea_orm::sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(DATABASE_CHECK)
            .connect_lazy_with(options);
        tokio::spawn(watch_database(own, Arc::downgrade(&state.lifecycle)));
    }
    state.connections = Arc::new(tokio::sync::Semaphore::new(state.limits.max_connections));
    let connections = state.connections.clone();
    let (state_lifecycle, state_feed, state_limits, tasks) =
        (state.lifecycle.clone(), state.feed.clone(), state.limits.clone(), state.tasks.clone());
    let app = router(state);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(MAX_REQUEST_HEAD)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let (lifecycle, feed, limits) = (state_lifecycle, state_feed, state_limits);
    tokio::pin!(shutdown);
    // Set once SIGTERM came: the end of the delay during which /readyz fails but all is served.
    let mut draining: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        tokio::select! {
            () = &mut shutdown, if draining.is_none() => {
                lifecycle.drain();
                tracing::info!(delay_s = limits.shutdown_delay.as_secs_f64(), "shutting down: /readyz answers 503; still serving until the delay ends");
                draining = Some(Box::pin(tokio::time::sleep(limits.shutdown_delay)));
            }
            () = async { if let Some(until) = draining.as_mut() { until.await } }, if draining.is_some() => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(err) => {
                        // Running out of file descriptors must not end the server.
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Beyond the connection limit a new connection is closed at once, before it
                // costs anything; those already served are unaffected.
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "connection limit reached; connection closed");
                    drop(stream);
                    continue;
                };
                // The permit travels with the connection's requests: a WebSocket upgrade takes it
                // along, since the socket outlives the HTTP connection it came from.
                let slot = http::ConnectionPermit::new(permit);
                let for_requests = slot.clone();
                let service = tower::ServiceExt::map_request(app.clone(), move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(for_requests.clone());
                    request
                });
                let service = TowerToHyperService::new(service);
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _permit = slot;
                    if let Err(err) = connection.await {
                        tracing::debug!(%peer, error = %err, "connection ended with an error");
                    }
                });
            }
        }
    }
    // No new connections; subscriptions end with their last sequence, sockets close with 1012.
    drop(listener);
    lifecycle.close();
    feed.close();
    tasks.close();
    let everything = async {
        graceful.shutdown().await;
        // Sockets hold their connection's permit until they close.
        let _ = connections.acquire_many(limits.max_connections as u32).await;
        // Operations whose client went away still run to their end.
        tasks.wait().await;
    };
    match tokio::time::timeout(limits.shutdown_timeout, everything).await {
        Ok(()) => tracing::info!("every request and socket finished; exiting"),
        Err(_) => tracing::warn!(
            timeout_s = limits.shutdown_timeout.as_secs_f64(),
            open = limits.max_connections - connections.available_permits(),
            "connections still open after the shutdown timeout; exiting anyway"
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    fn signing_keys_for(config: &Config) -> Result<TokenKeys, String> {
        signing_keys(config, &Policy::default_policy())
    }

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["sinergi"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).map(|c| c.config).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_development_token_is_printed_only_for_the_development_key() {
        assert!(config(&[]).prints_development_token());
        assert!(!config(&["--env", "production"]).prints_development_token());
        assert!(!config(&["--jwt-secret", &"s".repeat(40)]).prints_development_token());
        assert!(!config(&["--keys-dir", "/etc/sinergi/keys"]).prints_development_token());
    }

    #[test]
    fn production_refuses_to_start_with_development_keys() {
        let dir = std::env::temp_dir().join(format!("sinergi-keys-{}", uuid::Uuid::now_v7()));
        let data = dir.to_string_lossy().to_string();
        assert!(signing_keys_for(&config(&["--env", "production", "--data-dir", &data])).is_err());
        let secret = "s".repeat(40);
        assert!(signing_keys_for(&config(&["--env", "production", "--jwt-secret", &secret])).is_err());
        assert!(signing_keys_for(&config(&["--data-dir", &data])).is_ok_and(|k| k.is_development()));

        let keys = dir.join("keys");
        keys::generate(&keys, "2026-11").unwrap_or_else(|e| panic!("{e}"));
        let keys_dir = keys.to_string_lossy().to_string();
        let production = signing_keys_for(&config(&["--env", "production", "--keys-dir", &keys_dir]));
        assert!(production.is_ok_and(|k| !k.is_development()));
        keys::generate(&keys, "2027-05").unwrap_or_else(|e| panic!("{e}"));
        assert!(
            signing_keys_for(&config(&["--keys-dir", &keys_dir])).is_err(),
            "two private keys need SINERGI_SIGNING_KID"
        );
        assert!(signing_keys_for(&config(&["--keys-dir", &keys_dir, "--signing-kid", "2027-05"])).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_embedded_database_lives_in_the_data_directory() {
        assert_eq!(
            config(&["--data-dir", "/var/lib/sinergi"]).database_url(),
            "sqlite:///var/lib/sinergi/sinergi.db?mode=rwc"
        );
        let postgres = "postgres://sinergi@db/sinergi";
        assert_eq!(config(&["--data-dir", "/x", "--database-url", postgres]).database_url(), postgres);
    }

    #[test]
    fn production_names_what_it_refuses() {
        assert!(config(&[]).production_problems().is_empty(), "development refuses nothing");
        assert!(config(&[]).demo_data() && !config(&["--env", "production"]).demo_data());
        let secret = "s".repeat(40);
        let refused = config(&["--env", "production", "--jwt-secret", &secret, "--demo-data", "true"]);
        let problems = refused.production_problems().join("\n");
        for named in ["SINERGI_DEMO_DATA", "SINERGI_JWT_SECRET", "SINERGI_KEYS_DIR", "PostgreSQL"] {
            assert!(problems.contains(named), "{named}: {problems}");
        }
        let good = config(&["--env", "production", "--keys-dir", "/k", "--database-url", "postgres://db/s"]);
        assert!(good.production_problems().is_empty());
        let empty = Policy::from_toml("max_ttl = \"1d\"\n[agencies]");
        assert!(empty.is_err_and(|e| e.contains("no agency")), "an empty policy is refused everywhere");
    }

    #[test]
    fn cors_origins_are_origins_and_development_allows_localhost_only() {
        let http = |origins: &str| config(&["--cors-origins", origins]).http();
        assert!(http("https://a.example, https://b.example:8443").is_ok_and(|h| h.origins
            == http::Origins::List(vec!["https://a.example".into(), "https://b.example:8443".into()])));
        for bad in ["*", "https://a.example/path", "a.example"] {
            assert!(http(bad).is_err(), "{bad}");
        }
        assert_eq!(config(&[]).http().map(|h| h.origins), Ok(http::Origins::Localhost));
        let production = config(&["--env", "production"]).http().expect("settings");
        assert_eq!((production.graphiql, production.origins), (false, http::Origins::List(vec![])));
        assert!(config(&["--env", "production", "--graphiql", "true"]).http().is_ok_and(|h| h.graphiql));
    }
}
