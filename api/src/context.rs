//! Typed access to shared state and request data from resolvers, without panics.

use std::sync::Arc;

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::{
    auth::{Actor, TokenKeys},
    error::coded,
    policy::Policy,
    regions::Regions,
    rules::Rules,
};

/// State shared by every request: put into the schema once.
#[derive(Clone)]
pub struct AppState {
    /// The database; every write goes through it.
    pub db: DatabaseConnection,
    /// Read-only connections for queries: the same pool on PostgreSQL; on SQLite a pool of its
    /// own, so one slow reader does not hold up the others or the writer (WAL).
    pub reader: DatabaseConnection,
    /// Request limits (body, aliases, cost, timeouts…).
    pub limits: Arc<crate::limits::Limits>,
    /// Connections served at once (`limits.max_connections`): a TCP connection holds a permit
    /// while it is served, a WebSocket from its upgrade until it closes.
    pub connections: Arc<tokio::sync::Semaphore>,
    pub keys: TokenKeys,
    pub regions: Arc<Regions>,
    pub policy: Arc<Policy>,
    pub revocations: Arc<crate::revocation::Revocations>,
    pub webhooks: crate::webhooks::WebhookSettings,
    /// Set when this replica registers or replays a webhook, so its worker looks at once.
    pub webhook_signal: Arc<std::sync::atomic::AtomicBool>,
    pub rules: Arc<Rules>,
    pub metrics: Arc<Metrics>,
    /// The case-event feed every subscription of this process follows.
    pub feed: Arc<crate::events::EventFeed>,
    /// GraphiQL and the browser origins allowed (CORS).
    pub http: crate::http::HttpSettings,
    /// Whether the policy's rate limits are enforced (`SINERGI_RATE_LIMITS`).
    pub rate_limits: bool,
    /// This replica's rate-limit buckets, shared with the others through the database.
    pub rate_limiter: Arc<crate::ratelimit::RateLimiter>,
    /// Where the process is in a graceful shutdown.
    pub lifecycle: Arc<Lifecycle>,
    /// The operations running in tasks of their own (each HTTP request's, each socket
    /// operation's): a shutdown waits for them, so none is cut off between its commit and its
    /// answer.
    pub tasks: tokio_util::task::TaskTracker,
}

/// A graceful shutdown's two steps: **draining** (`/readyz` answers 503 so load balancers stop
/// sending; everything is still served) and **closing** (new connections are refused,
/// subscriptions end with their last sequence and sockets close with 1012).
#[derive(Debug)]
pub struct Lifecycle {
    draining: std::sync::atomic::AtomicBool,
    /// Set while the database does not answer the health check (`watch_database`).
    database_down: std::sync::atomic::AtomicBool,
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            draining: Default::default(),
            database_down: Default::default(),
            closing: tokio::sync::watch::channel(false).0,
        }
    }
}

impl Lifecycle {
    /// Starts draining.
    pub fn drain(&self) {
        self.draining.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the process is shutting down (`/readyz` answers 503).
    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the database failed its last health check.
    pub fn database_down(&self) -> bool {
        self.database_down.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records the database's health; says whether it changed.
    pub fn set_database_down(&self, down: bool) -> bool {
        self.database_down.swap(down, std::sync::atomic::Ordering::Relaxed) != down
    }

    /// Starts closing: every socket is told.
    pub fn close(&self) {
        self.drain();
        self.closing.send_replace(true);
    }

    /// A receiver that sees `true` once closing starts.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

pub use crate::metrics::Metrics;

/// The connection one operation uses: the writer for a mutation, a reader for a query or a
/// subscription. Inserted as request data by the gateway.
pub struct RequestDb(pub DatabaseConnection);

/// `ctx.db()?`, `ctx.actor()?`: resolvers read context through these and never unwrap.
pub trait ContextExt {
    fn state(&self) -> async_graphql::Result<&AppState>;
    fn db(&self) -> async_graphql::Result<&DatabaseConnection>;
    fn actor(&self) -> async_graphql::Result<&Actor>;
    /// The caller, shared rather than copied (for what outlives the resolver: a stream).
    fn shared_actor(&self) -> async_graphql::Result<Arc<Actor>>;
}

/// The request's caller (one `Arc` per request, see `Gateway::run`).
fn caller<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Arc<Actor>> {
    ctx.data::<Arc<Actor>>()
        .map_err(|_| coded(crate::error::ErrorCode::Unauthenticated, "a valid bearer token is required"))
}

impl ContextExt for Context<'_> {
    fn db(&self) -> async_graphql::Result<&DatabaseConnection> {
        match self.data::<RequestDb>() {
            Ok(db) => Ok(&db.0),
            Err(_) => Ok(&self.state()?.db),
        }
    }

    fn state(&self) -> async_graphql::Result<&AppState> {
        self.data::<AppState>().map_err(|_| crate::error::internal_error())
    }

    fn actor(&self) -> async_graphql::Result<&Actor> {
        caller(self).map(|actor| &**actor)
    }

    fn shared_actor(&self) -> async_graphql::Result<Arc<Actor>> {
        caller(self).cloned()
    }
}
