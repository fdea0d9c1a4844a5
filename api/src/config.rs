//! Typed configuration, read once in `main` from flags and environment variables.

use std::{fmt, net::SocketAddr, path::PathBuf};

use clap::Args;

/// Where the gateway stores data and listens; every field has a flag and an environment variable.
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Database URL: `sqlite://path?mode=rwc` (the default, embedded) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://./data/sinergi.db?mode=rwc")]
    pub database_url: String,

    /// Address and port to listen on; port 0 picks a free port and the server prints it.
    #[arg(long, env = "SINERGI_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the embedded database and the development signing key.
    #[arg(long, env = "SINERGI_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// `production` refuses to start without Ed25519 keys; `development` allows HS256.
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

    /// Seed demo data when the database has no beneficiaries.
    #[arg(long, env = "SINERGI_DEMO_DATA", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo_data: bool,
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

    /// Whether the database URL selects the embedded SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}
