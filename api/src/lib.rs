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
//!   `infrastructure`, `loan`, `referral`, `monitoring`, each with GraphQL types and a `service`.
//! - `policy` — agencies, their grantable scopes and owned record types (TOML);
//!   `reference` — agencies, regions and `me`; `schema` — the merged root; `http` — the routes;
//!   `seed` — demo data.

pub mod assistance;
pub mod auth;
pub mod beneficiary;
pub mod business;
pub mod config;
pub mod context;
pub mod error;
pub mod events;
pub mod http;
pub mod identity;
pub mod infrastructure;
pub mod loaders;
pub mod loan;
pub mod monitoring;
pub mod page;
pub mod pii;
pub mod policy;
pub mod records;
pub mod reference;
pub mod referral;
pub mod regions;
pub mod revocation;
pub mod rules;
pub mod scalars;
pub mod schema;
pub mod seed;
pub mod training;

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

/// Connects to the configured database, counting statements into `metrics`.
///
/// SQLite gets one connection: it has one writer anyway, and a single connection turns
/// concurrent writers into a queue instead of `database is locked` failures.
pub async fn connect(database_url: &str, metrics: Arc<Metrics>) -> Result<DatabaseConnection, DbErr> {
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
        options.max_connections(1).min_connections(1);
    } else {
        options.max_connections(20);
    }
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

/// The signing keys: the configured secret, or a development key kept in the data directory
/// (created on first use, readable only by its owner).
pub fn signing_keys(config: &Config) -> Result<(TokenKeys, bool), String> {
    let (secret, development) = match &config.jwt_secret {
        Some(secret) => (secret.clone(), false),
        None => {
            let path = config.data_dir.join("dev-signing.key");
            let key = match std::fs::read_to_string(&path) {
                Ok(key) if key.trim().len() >= 32 => key.trim().to_owned(),
                _ => {
                    let io = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
                    std::fs::create_dir_all(&config.data_dir).map_err(io)?;
                    let mut bytes = [0u8; 32];
                    rand::rng().fill_bytes(&mut bytes);
                    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                    std::fs::write(&path, &key).map_err(io)?;
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt;
                        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                            .map_err(io)?;
                    }
                    key
                }
            };
            (Secret::new(key), true)
        }
    };
    let keys = TokenKeys::hs256(&secret, &config.jwt_kid, &config.jwt_issuer, &config.jwt_audience)
        .map_err(|e| format!("signing key: {e}"))?;
    Ok((keys, development))
}

/// Builds the shared state from a connected, prepared database.
pub fn app_state(
    db: DatabaseConnection,
    keys: TokenKeys,
    policy: Policy,
    rules: Rules,
    metrics: Arc<Metrics>,
) -> AppState {
    AppState {
        db,
        keys,
        regions: Arc::new(Regions::load()),
        policy: Arc::new(policy),
        revocations: Arc::new(revocation::Revocations::default()),
        rules: Arc::new(rules),
        metrics,
    }
}

/// Serves the gateway on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).layer(tower_http::trace::TraceLayer::new_for_http());
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
