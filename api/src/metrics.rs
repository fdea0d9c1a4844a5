//! What operators watch at `/metrics` (Prometheus; OpenMetrics text from the `prometheus-client`
//! crate): requests by operation, type, agency and outcome, their latency, errors by code, HTTP
//! responses by route and status, SQL statements, the database pools, open sockets and
//! subscriptions, the webhooks' backlog and delivery outcomes, rate-limit refusals.
//!
//! Each gateway (and each test's) has its own registry. Label values come from bounded sets —
//! agency codes from verified tokens, routes, codes — except operation names, which clients
//! choose: the first [`MAX_OPERATIONS`] names of each agency's operations that ran get their own
//! series, later ones (and names of refused documents) count as `other`, so no client can grow
//! the registry without bound or take another agency's names' places.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

/// Distinct operation names of one agency that get their own series.
pub const MAX_OPERATIONS: usize = 100;

/// One GraphQL operation's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// The operation's name, `-` when it has none, `other` beyond [`MAX_OPERATIONS`] or when it
    /// did not run.
    pub operation: String,
    /// `query`, `mutation`, `subscription`, or `-` when refused before it was known.
    pub r#type: String,
    pub agency: String,
    /// `ok` (it ran; field errors are counted by code), `replayed`, `subscribed`, or the code it
    /// was refused with (`BAD_REQUEST`, `FORBIDDEN`, `RATE_LIMITED`, `UNAUTHENTICATED`, …).
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    pub operation: String,
    pub r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    /// The route (`/graphql`, `/readyz`, …), `unmatched` for any other path.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `writer` or `reader`.
    pub pool: String,
    /// `idle` or `busy`.
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `delivered` or `failed`.
    pub outcome: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The gateway's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    sql_statements: Counter,
    operations: Family<OperationLabels, Counter>,
    latency: HistogramFamily<LatencyLabels>,
    errors: Family<CodeLabels, Counter>,
    http: Family<HttpLabels, Counter>,
    rate_limited: Counter,
    /// Open WebSockets.
    pub sockets: Gauge,
    /// Running operations on WebSockets (subscriptions, and queries while they run).
    pub subscriptions: Gauge,
    /// Shared subscription executions running (one per document, variables and grant).
    pub shared_subscriptions: Gauge,
    webhook_deliveries: Family<OutcomeLabels, Counter>,
    /// Events the active webhooks have not yet looked at (set when scraped).
    pub webhook_backlog: Gauge,
    /// Database connections by pool and state (set when scraped).
    pub pool: Family<PoolLabels, Gauge>,
    names: Mutex<HashMap<String, HashSet<String>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sinergi");
        let metrics = Self {
            sql_statements: Counter::default(),
            operations: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            errors: Family::default(),
            http: Family::default(),
            rate_limited: Counter::default(),
            sockets: Gauge::default(),
            subscriptions: Gauge::default(),
            shared_subscriptions: Gauge::default(),
            webhook_deliveries: Family::default(),
            webhook_backlog: Gauge::default(),
            pool: Family::default(),
            names: Mutex::default(),
            registry: Registry::default(),
        };
        registry.register(
            "sql_statements",
            "SQL statements sent to the database",
            metrics.sql_statements.clone(),
        );
        registry.register(
            "graphql_requests",
            "GraphQL operations (HTTP requests and WebSocket operations) by operation, type, agency and outcome",
            metrics.operations.clone(),
        );
        registry.register(
            "graphql_duration_seconds",
            "Time from an operation's arrival to its answer (a subscription: to its start)",
            metrics.latency.clone(),
        );
        registry.register("graphql_errors", "Errors in GraphQL responses by code", metrics.errors.clone());
        registry.register(
            "http_responses",
            "HTTP responses by method, route and status",
            metrics.http.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused because their API client used its rate",
            metrics.rate_limited.clone(),
        );
        registry.register("websockets_open", "Open WebSockets", metrics.sockets.clone());
        registry.register(
            "websocket_operations_running",
            "Operations running on WebSockets (subscriptions mostly)",
            metrics.subscriptions.clone(),
        );
        registry.register(
            "shared_subscription_executions",
            "Subscription executions running, each serving every subscriber of one document, its variables and one grant",
            metrics.shared_subscriptions.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome",
            metrics.webhook_deliveries.clone(),
        );
        registry.register(
            "webhook_backlog_events",
            "Case events the active webhooks have not looked at yet",
            metrics.webhook_backlog.clone(),
        );
        registry.register("db_connections", "Database connections by pool and state", metrics.pool.clone());
        Self { registry, ..metrics }
    }
}

impl Metrics {
    /// Counts one SQL statement.
    pub fn count_statement(&self) {
        self.sql_statements.inc();
    }

    /// Counts a request refused for its rate.
    pub fn count_rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// Counts one webhook delivery attempt.
    pub fn count_delivery(&self, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.webhook_deliveries.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
    }

    /// Counts one error of a GraphQL response.
    pub fn count_error(&self, code: &str) {
        self.errors.get_or_create(&CodeLabels { code: code.to_owned() }).inc();
    }

    /// Counts one HTTP response.
    pub fn count_http(&self, method: &str, route: &str, status: u16) {
        self.http
            .get_or_create(&HttpLabels { method: method.to_owned(), route: route.to_owned(), status })
            .inc();
    }

    /// Counts one operation and its latency.
    pub fn count_operation(
        &self,
        operation: Option<&str>,
        kind: &str,
        agency: &str,
        outcome: &str,
        seconds: f64,
    ) {
        let ran = matches!(outcome, "ok" | "replayed" | "subscribed");
        let operation = self.operation_label(agency, operation, ran);
        self.operations
            .get_or_create(&OperationLabels {
                operation: operation.clone(),
                r#type: kind.to_owned(),
                agency: agency.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.latency.get_or_create(&LatencyLabels { operation, r#type: kind.to_owned() }).observe(seconds);
    }

    fn operation_label(&self, agency: &str, operation: Option<&str>, ran: bool) -> String {
        let Some(name) = operation else { return "-".into() };
        let Ok(mut names) = self.names.lock() else { return "other".into() };
        let known = names.entry(agency.to_owned()).or_default();
        if known.contains(name) {
            return name.to_owned();
        }
        if ran && known.len() < MAX_OPERATIONS {
            known.insert(name.to_owned());
            return name.to_owned();
        }
        "other".into()
    }

    /// The SQL statements counted so far.
    pub fn statements(&self) -> u64 {
        self.sql_statements.get()
    }

    /// The metrics in OpenMetrics text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            tracing::error!("cannot encode the metrics");
        }
        text
    }
}

/// Holds a gauge up by one while it lives.
pub struct Held(Gauge);

impl Held {
    pub fn new(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_beyond_the_bound_count_as_other() {
        let metrics = Metrics::default();
        for n in 0..MAX_OPERATIONS + 10 {
            metrics.count_operation(Some(&format!("Op{n}")), "query", "DINSOS", "ok", 0.01);
        }
        metrics.count_operation(Some("Op0"), "query", "DINSOS", "ok", 0.01);
        // A name that did not run takes no place; another agency has places of its own.
        metrics.count_operation(Some("Broken"), "query", "DISNAKER", "BAD_REQUEST", 0.01);
        metrics.count_operation(Some("Mine"), "query", "DISNAKER", "ok", 0.01);
        let text = metrics.render();
        assert!(text.contains(r#"sinergi_graphql_requests_total{operation="Op0",type="query",agency="DINSOS",outcome="ok"} 2"#), "{text}");
        assert!(text.contains(r#"operation="other",type="query",agency="DINSOS",outcome="ok"} 10"#));
        assert!(
            text.contains(r#"operation="other",type="query",agency="DISNAKER",outcome="BAD_REQUEST"} 1"#)
        );
        assert!(text.contains(r#"operation="Mine",type="query",agency="DISNAKER",outcome="ok"} 1"#));
        assert!(text.contains("sinergi_graphql_duration_seconds_bucket"));
    }
}
