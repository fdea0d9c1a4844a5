//! Typed access to shared state and request data from resolvers, without panics.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

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
    pub db: DatabaseConnection,
    pub keys: TokenKeys,
    pub regions: Arc<Regions>,
    pub policy: Arc<Policy>,
    pub revocations: Arc<crate::revocation::Revocations>,
    pub webhooks: crate::webhooks::WebhookSettings,
    /// Set when this replica registers or replays a webhook, so its worker looks at once.
    pub webhook_signal: Arc<std::sync::atomic::AtomicBool>,
    pub rules: Arc<Rules>,
    pub metrics: Arc<Metrics>,
}

/// Counters served at `/metrics` for operators (Prometheus text format).
#[derive(Debug, Default)]
pub struct Metrics {
    pub sql_statements: AtomicU64,
    pub graphql_requests: AtomicU64,
}

impl Metrics {
    /// Counts one SQL statement.
    pub fn count_statement(&self) {
        self.sql_statements.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters in Prometheus text exposition format.
    pub fn render(&self) -> String {
        format!(
            "# HELP sinergi_sql_statements_total SQL statements sent to the database.\n\
             # TYPE sinergi_sql_statements_total counter\n\
             sinergi_sql_statements_total {}\n\
             # HELP sinergi_graphql_requests_total GraphQL requests served.\n\
             # TYPE sinergi_graphql_requests_total counter\n\
             sinergi_graphql_requests_total {}\n",
            self.sql_statements.load(Ordering::Relaxed),
            self.graphql_requests.load(Ordering::Relaxed),
        )
    }
}

/// `ctx.db()?`, `ctx.actor()?`: resolvers read context through these and never unwrap.
pub trait ContextExt {
    fn state(&self) -> async_graphql::Result<&AppState>;
    fn db(&self) -> async_graphql::Result<&DatabaseConnection> {
        Ok(&self.state()?.db)
    }
    fn actor(&self) -> async_graphql::Result<&Actor>;
}

impl ContextExt for Context<'_> {
    fn state(&self) -> async_graphql::Result<&AppState> {
        self.data::<AppState>().map_err(|_| crate::error::internal_error())
    }

    fn actor(&self) -> async_graphql::Result<&Actor> {
        self.data::<Actor>().map_err(|_| coded("UNAUTHENTICATED", "a valid bearer token is required"))
    }
}
