//! Typed configuration, read once in `main` from flags and environment variables.

use std::{fmt, net::SocketAddr, path::PathBuf};

use clap::Args;

/// Where the gateway stores data and listens; every field has a flag and an environment variable.
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Database URL: `postgres://…`, or `sqlite://path?mode=rwc`. Default: the embedded SQLite
    /// database `sinergi.db` in the data directory.
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database: Option<String>,

    /// Address and port to listen on; port 0 picks a free port and the server prints it.
    #[arg(long, env = "SINERGI_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the embedded database (`sinergi.db`, unless DATABASE_URL names another) and
    /// the development signing key (`dev-signing.key`).
    #[arg(long, env = "SINERGI_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// `production`: Ed25519 keys required, no demo data, no printed token, introspection and
    /// GraphiQL off unless enabled, CORS only for SINERGI_CORS_ORIGINS. `development` allows
    /// HS256 and localhost origins.
    #[arg(long = "env", env = "SINERGI_ENV", default_value = "development", value_parser = ["development", "production"])]
    pub environment: String,

    /// Directory of Ed25519 keys (`<kid>.key` private, `<kid>.pub` public-only); production uses
    /// these. `sinergi key generate` creates them.
    #[arg(long, env = "SINERGI_KEYS_DIR")]
    pub keys_dir: Option<PathBuf>,

    /// The `kid` of the private key that signs new tokens (needed when the directory holds more
    /// than one private key).
    #[arg(long, env = "SINERGI_SIGNING_KID")]
    pub signing_kid: Option<String>,

    /// HS256 signing secret for tokens (development only); when neither this nor a key directory
    /// is set, a development key is created in the data dir.
    #[arg(long, env = "SINERGI_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// Key id (`kid`) that tokens signed with the secret carry.
    #[arg(long, env = "SINERGI_JWT_KID", default_value = "dev-1")]
    pub jwt_kid: String,

    /// Expected `iss` claim.
    #[arg(long, env = "SINERGI_JWT_ISSUER", default_value = "sinergi")]
    pub jwt_issuer: String,

    /// Expected `aud` claim.
    #[arg(long, env = "SINERGI_JWT_AUDIENCE", default_value = "sinergi-api")]
    pub jwt_audience: String,

    /// JWKS file of an external identity provider (an agency's SSO) whose tokens are also accepted.
    #[arg(long, env = "SINERGI_IDP_JWKS")]
    pub idp_jwks: Option<PathBuf>,

    /// The external identity provider's `iss`.
    #[arg(long, env = "SINERGI_IDP_ISSUER")]
    pub idp_issuer: Option<String>,

    /// The `aud` the external identity provider puts in tokens for Sinergi.
    #[arg(long, env = "SINERGI_IDP_AUDIENCE", default_value = "sinergi-api")]
    pub idp_audience: String,

    /// The external token's claim that holds the agency code.
    #[arg(long, env = "SINERGI_IDP_AGENCY_CLAIM", default_value = "agency")]
    pub idp_agency_claim: String,

    /// The external token's claim that holds the scopes (space-separated string or array).
    #[arg(long, env = "SINERGI_IDP_SCOPE_CLAIM", default_value = "scope")]
    pub idp_scope_claim: String,

    /// The external token's claim that holds the regency codes (string or array).
    #[arg(long, env = "SINERGI_IDP_REGIONS_CLAIM", default_value = "regions")]
    pub idp_regions_claim: String,

    /// Let webhooks target loopback and private-network addresses (on-premise receivers).
    /// Link-local and cloud-metadata addresses are refused regardless.
    #[arg(long, env = "SINERGI_WEBHOOK_ALLOW_PRIVATE_TARGETS", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private_targets: bool,

    /// Seconds one webhook delivery may take.
    #[arg(long, env = "SINERGI_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,

    /// Consecutive failed deliveries after which a webhook is disabled.
    #[arg(long, env = "SINERGI_WEBHOOK_MAX_FAILURES", default_value_t = 10)]
    pub webhook_max_failures: i32,

    /// Largest request body in bytes; larger bodies are refused with 413 while being read.
    #[arg(long, env = "SINERGI_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Most aliased fields one GraphQL document may hold.
    #[arg(long, env = "SINERGI_MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,

    /// Most root fields one operation may select.
    #[arg(long, env = "SINERGI_MAX_ROOT_FIELDS", default_value_t = 20)]
    pub max_root_fields: usize,

    /// Deepest field nesting an operation may have.
    #[arg(long, env = "SINERGI_MAX_DEPTH", default_value_t = 12)]
    pub max_depth: usize,

    /// Highest cost an operation may have: each field costs 1, and what a connection selects
    /// is multiplied by its `first` (a relation list by 10); see README "Limits".
    #[arg(long, env = "SINERGI_MAX_COST", default_value_t = 50_000)]
    pub max_cost: u64,

    /// Largest response in bytes; a larger one is replaced by a `BAD_REQUEST` error.
    #[arg(long, env = "SINERGI_MAX_RESPONSE_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_response_bytes: usize,

    /// Who may run introspection (`__schema`, `__type`): `any` token, `admin` tokens, or `off`.
    /// Default: `any` in development, `off` in production (`schema.graphql` is published anyway).
    #[arg(long, env = "SINERGI_INTROSPECTION", value_parser = ["any", "admin", "off"])]
    pub introspection: Option<String>,

    /// Seconds one GraphQL operation may run before it is stopped and answered with an error.
    #[arg(long, env = "SINERGI_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Seconds one SQL statement may run on PostgreSQL (`statement_timeout`).
    #[arg(long, env = "SINERGI_STATEMENT_TIMEOUT_SECS", default_value_t = 20)]
    pub statement_timeout_secs: u64,

    /// Seconds a new WebSocket has to send `connection_init` (then it is closed with 4408).
    #[arg(long, env = "SINERGI_WS_INIT_TIMEOUT_SECS", default_value_t = 10)]
    pub ws_init_timeout_secs: u64,

    /// Most operations running at once on one WebSocket.
    #[arg(long, env = "SINERGI_MAX_SUBSCRIPTIONS_PER_SOCKET", default_value_t = 20)]
    pub max_subscriptions_per_socket: usize,

    /// Most subscriptions one API client may hold open on this replica, across its sockets.
    #[arg(long, env = "SINERGI_MAX_SUBSCRIPTIONS_PER_CLIENT", default_value_t = 100)]
    pub max_subscriptions_per_client: usize,

    /// Connections (HTTP and WebSocket) served at once; further ones are closed when accepted.
    /// Keep it below the process's open-file limit (`ulimit -n`).
    #[arg(long, env = "SINERGI_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Read connections to the embedded SQLite database (besides its one writer).
    #[arg(long, env = "SINERGI_SQLITE_READERS", default_value_t = 4)]
    pub sqlite_readers: u32,

    /// Webhooks one API client may have active at once.
    #[arg(long, env = "SINERGI_WEBHOOK_MAX_PER_CLIENT", default_value_t = 10)]
    pub webhook_max_per_client: u64,

    /// Webhooks one replica delivers to at the same time (each keeps its own order).
    #[arg(long, env = "SINERGI_WEBHOOK_CONCURRENCY", default_value_t = 8)]
    pub webhook_concurrency: usize,

    /// Seed demo data when the database has no beneficiaries. Default: yes in development, no in
    /// production (where `true` is refused).
    #[arg(long, env = "SINERGI_DEMO_DATA", action = clap::ArgAction::Set)]
    pub demo_data: Option<bool>,

    /// Serve GraphiQL at `GET /graphql`. Default: on in development, off in production.
    #[arg(long, env = "SINERGI_GRAPHIQL", action = clap::ArgAction::Set)]
    pub graphiql: Option<bool>,

    /// How long a mutation's `Idempotency-Key` is kept with its response, e.g. 24h, 2d.
    #[arg(long, env = "SINERGI_IDEMPOTENCY_TTL", default_value = "24h", value_parser = parse_duration)]
    pub idempotency_ttl: std::time::Duration,

    /// Enforce the access policy's rate limits (`rate_limit`). `false` is for load tests of a
    /// development gateway; production refuses it.
    #[arg(long, env = "SINERGI_RATE_LIMITS", default_value_t = true, action = clap::ArgAction::Set)]
    pub rate_limits: bool,

    /// Browser origins allowed to call the API (CORS), comma-separated, e.g.
    /// `https://dashboard.kaltimprov.go.id`. Default: none in production; in development any
    /// `http://localhost`, `http://127.0.0.1` or `http://[::1]` origin.
    #[arg(long, env = "SINERGI_CORS_ORIGINS")]
    pub cors_origins: Option<String>,

    /// Serve `/metrics` (Prometheus) on this address instead of the API's, e.g. 127.0.0.1:9090,
    /// so it never faces the public. Unset: on the API's address in development, not served in
    /// production.
    #[arg(long, env = "SINERGI_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Log lines as `text` (for a person) or `json` (one object a line, with the request's id,
    /// operation, agency and client from its spans, for a log pipeline). Filter with RUST_LOG.
    #[arg(long, env = "SINERGI_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// On SIGTERM, how long `/readyz` answers 503 while requests are still served, e.g. 5s
    /// (longer than the load balancer's health-check interval). Default: 5s in production, 0s
    /// in development.
    #[arg(long, env = "SINERGI_SHUTDOWN_DELAY", value_parser = parse_delay)]
    pub shutdown_delay: Option<std::time::Duration>,

    /// On SIGTERM, after the delay: how long requests in flight and open sockets have to finish
    /// before the process exits anyway.
    #[arg(long, env = "SINERGI_SHUTDOWN_TIMEOUT", default_value = "45s", value_parser = parse_duration)]
    pub shutdown_timeout: std::time::Duration,
}

/// A duration with units (`30m`, `24h`, `1h30m`), as `--ttl` takes it.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::auth::parse_ttl(text)?.to_std().map_err(|e| e.to_string())
}

/// [`parse_duration`], or none at all (`0`, `0s`).
fn parse_delay(text: &str) -> Result<std::time::Duration, String> {
    match text.trim() {
        "0" | "0s" => Ok(std::time::Duration::ZERO),
        other => parse_duration(other),
    }
}

/// A secret that never prints itself.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's bytes, for signing.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl Config {
    /// Whether this is a production deployment.
    pub fn is_production(&self) -> bool {
        self.environment == "production"
    }

    /// The database URL: DATABASE_URL, else `sinergi.db` in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("sinergi.db").display()),
        }
    }

    /// Whether `serve` seeds demo data into an empty database.
    pub fn demo_data(&self) -> bool {
        self.demo_data.unwrap_or(!self.is_production())
    }

    /// What the HTTP boundary serves beside the API: GraphiQL, and the browser origins allowed.
    pub fn http(&self) -> Result<crate::http::HttpSettings, String> {
        let origins = match &self.cors_origins {
            Some(list) => {
                let mut origins = Vec::new();
                for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    let parsed = url::Url::parse(origin)
                        .map_err(|e| format!("SINERGI_CORS_ORIGINS: `{origin}` is not an origin ({e})"))?;
                    let bare = parsed.origin().ascii_serialization();
                    if bare == "null" || bare != origin.trim_end_matches('/') {
                        return Err(format!(
                            "SINERGI_CORS_ORIGINS: `{origin}` is not an origin (scheme://host[:port], no path); `*` is not allowed"
                        ));
                    }
                    origins.push(bare);
                }
                crate::http::Origins::List(origins)
            }
            None if self.is_production() => crate::http::Origins::List(Vec::new()),
            None => crate::http::Origins::Localhost,
        };
        Ok(crate::http::HttpSettings {
            graphiql: self.graphiql.unwrap_or(!self.is_production()),
            origins,
            metrics: self.metrics_listen.is_none() && !self.is_production(),
        })
    }

    /// What a production deployment must not have; empty in development. `serve` refuses to start
    /// on any (`sinergi config check` lists them).
    pub fn production_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.is_production() {
            return problems;
        }
        if self.demo_data == Some(true) {
            problems.push("SINERGI_DEMO_DATA=true: production never seeds demo data".into());
        }
        if self.jwt_secret.is_some() {
            problems.push(
                "SINERGI_JWT_SECRET is set: production signs with Ed25519 keys (SINERGI_KEYS_DIR)".into(),
            );
        }
        if self.keys_dir.is_none() {
            problems.push(
                "SINERGI_KEYS_DIR is not set: production signs with Ed25519 keys (`sinergi key generate`)"
                    .into(),
            );
        }
        if !self.rate_limits {
            problems.push("SINERGI_RATE_LIMITS=false: production enforces the policy's rate limits".into());
        }
        if self.is_sqlite() {
            problems.push(
                "the database is the embedded SQLite: production runs on PostgreSQL (DATABASE_URL=postgres://…)".into(),
            );
        }
        problems
    }

    /// The request limits this configuration sets.
    pub fn limits(&self) -> crate::limits::Limits {
        use crate::limits::Introspection;
        let introspection = match self.introspection.as_deref() {
            Some("any") => Introspection::Any,
            Some("admin") => Introspection::Admin,
            Some(_) => Introspection::Off,
            None if self.is_production() => Introspection::Off,
            None => Introspection::Any,
        };
        crate::limits::Limits {
            max_body_bytes: self.max_body_bytes,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_depth: self.max_depth,
            max_cost: self.max_cost,
            max_response_bytes: self.max_response_bytes,
            introspection,
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs.max(1)),
            statement_timeout: std::time::Duration::from_secs(self.statement_timeout_secs.max(1)),
            ws_init_timeout: std::time::Duration::from_secs(self.ws_init_timeout_secs.max(1)),
            max_subscriptions_per_socket: self.max_subscriptions_per_socket.max(1),
            max_subscriptions_per_client: self.max_subscriptions_per_client.max(1),
            max_connections: self.max_connections.max(1),
            // A key outlives the request it guards (else a retry could run it again).
            idempotency_ttl: self
                .idempotency_ttl
                .max(std::time::Duration::from_secs(self.request_timeout_secs.max(1) + 60)),
            shutdown_delay: self.shutdown_delay.unwrap_or(if self.is_production() {
                std::time::Duration::from_secs(5)
            } else {
                std::time::Duration::ZERO
            }),
            shutdown_timeout: self.shutdown_timeout,
        }
    }

    /// Whether `serve` prints a ready-made token: only for a development gateway signing with its
    /// own development key — never in production, never with keys or a secret an operator set
    /// (whoever reads the console must not get a token for a real deployment).
    pub fn prints_development_token(&self) -> bool {
        !self.is_production()
            && self.jwt_secret.is_none()
            && self.keys_dir.is_none()
            && self.idp_jwks.is_none()
    }

    /// Whether the database URL selects the embedded SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shutdown_delay_may_be_none_but_a_bare_number_is_refused() {
        assert_eq!(parse_delay("0s"), Ok(std::time::Duration::ZERO));
        assert_eq!(parse_delay("0"), Ok(std::time::Duration::ZERO));
        assert_eq!(parse_delay("1m30s"), Ok(std::time::Duration::from_secs(90)));
        assert!(parse_delay("5").is_err(), "a unit is needed");
    }
}
