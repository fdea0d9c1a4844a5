//! The `sinergi` binary: serve the gateway, migrate, print the schema, issue tokens.

use std::{process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand};
use sinergi_api::{
    Config, Metrics,
    auth::TokenRequest,
    policy::{DEFAULT_POLICY, Policy},
    regions::{KALTIM, Regions},
    rules::Rules,
};
use tracing_subscriber::EnvFilter;

/// jemalloc rather than glibc's malloc: allocation was a fifth of the gateway's CPU profile
/// (BENCHMARKS.md, step 5). Its background threads (the `background_threads` feature) give
/// freed memory back to the system within seconds, whichever thread freed it and whether or
/// not that thread runs again: 95 % of what 20,000 subscribers took is back within 20 s of
/// their leaving (mimalloc, as fast, kept the pages of idle worker threads; step 11). Operators
/// may tune it with `_RJEM_MALLOC_CONF` (docs/operations.md). Linux only (the background
/// threads need it): elsewhere, as with `system-allocator`, the system's allocator.
#[cfg(all(target_os = "linux", not(feature = "system-allocator")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "sinergi",
    version,
    about = "Sinergi: one GraphQL API over Kaltim's shared poverty-alleviation cases"
)]
struct Cli {
    #[command(flatten)]
    config: Config,

    /// Programme rules file (TOML): loan limits, eligibility thresholds.
    #[arg(long, env = "SINERGI_RULES", global = true)]
    rules: Option<std::path::PathBuf>,

    /// Access policy file (TOML): agencies, grantable scopes, owned record types, maximum TTL.
    #[arg(long, env = "SINERGI_POLICY", global = true)]
    policy: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the gateway (the default): migrate, seed demo data if empty, listen.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) to stdout.
    Schema,
    /// Manage tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage API clients (an agency's systems).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Load records from files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Graduation levels (naik kelas).
    #[command(subcommand)]
    Levels(LevelsCommand),
    /// The configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Registered documents (trusted documents and persisted queries).
    #[command(subcommand)]
    Documents(DocumentsCommand),
}

#[derive(Subcommand)]
enum DocumentsCommand {
    /// Register the documents of manifests — graphql-codegen's persisted-documents.json, Apollo's
    /// persisted-query manifest, or .graphql files — for an agency's API client, which may then
    /// send a document's `documentId` instead of its text. A client the policy marks
    /// `trusted_documents` runs only these. All files or none; a document already registered
    /// under its id is replaced.
    Register {
        /// The agency, e.g. DINSOS.
        #[arg(long)]
        agency: String,
        /// The API client (a token's `sub`).
        #[arg(long, required_unless_present = "every_client", conflicts_with = "every_client")]
        client: Option<String>,
        /// For every API client of the agency instead (any of them may then run these — by
        /// their scopes — a public trusted-documents client included).
        #[arg(long)]
        every_client: bool,
        /// Manifests (.json) or documents (.graphql).
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// List the documents registered for an agency (and one of its clients).
    List {
        #[arg(long)]
        agency: String,
        /// Only this client's (`*`: those registered for every client).
        #[arg(long)]
        client: Option<String>,
    },
    /// Remove registered documents by id, or all of a client's with --all.
    Remove {
        #[arg(long)]
        agency: String,
        /// The client they were registered for.
        #[arg(long, required_unless_present = "every_client", conflicts_with = "every_client")]
        client: Option<String>,
        /// Those registered for every client of the agency.
        #[arg(long)]
        every_client: bool,
        /// The documents' ids.
        ids: Vec<String>,
        /// Remove every document registered for the client.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check the configuration (flags, environment, `.env`, the policy and rules files): print the
    /// effective settings with secrets redacted, and what is wrong — for production, what `serve`
    /// would refuse. Exit status 1 when something is wrong.
    Check,
}

#[derive(Subcommand)]
enum LevelsCommand {
    /// Recompute every business's kept graduation level from its evidence: after an upgrade, or
    /// after the ladder in the rules file changed. Each change is a LEVEL_CHANGED case event.
    Recompute,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Load a DTKS/DTSEN register extract (CSV, docs/import.md): check every row, write the bad
    /// ones to a reject file, register new people and update registered ones by NIK, with case
    /// events. Exit status: 0 every row loaded, 2 rows rejected, 1 the import failed.
    Beneficiaries {
        /// The extract: CSV with a header row, UTF-8.
        file: std::path::PathBuf,
        /// The reject file (line, column, reason); default FILE.rejects.csv.
        #[arg(long)]
        rejects: Option<std::path::PathBuf>,
        /// Load nothing unless every row passes the checks (all run before anything is written).
        #[arg(long)]
        strict: bool,
        /// The agency importing: its policy must let it own beneficiaries.
        #[arg(long, default_value = "DINSOS")]
        agency: String,
        /// Regency/city the import may write (repeat for several), or 64 for the whole province.
        #[arg(long = "region", default_value = "64")]
        regions: Vec<String>,
        /// The field delimiter: `,` or `;` (spreadsheets set to Indonesian write `;`).
        #[arg(long, default_value = ",")]
        delimiter: char,
        /// Rows per batch (1–1000).
        #[arg(long, default_value_t = 1000)]
        batch_size: usize,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Revoke an API client: every token it holds is refused on every replica within seconds,
    /// and its webhooks are disabled.
    Revoke {
        /// The client's name (a token's `sub`), or `AGENCY/NAME`.
        name: String,
        /// The client's agency, unless the name says it.
        #[arg(long)]
        agency: Option<String>,
        /// Why (kept with the revocation and in the webhooks' delivery log).
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create an Ed25519 key pair `<kid>.key` / `<kid>.pub` in the key directory.
    Generate {
        /// The new key's id, e.g. 2026-11.
        #[arg(long)]
        kid: String,
        /// Directory to write to; defaults to SINERGI_KEYS_DIR, else ./keys.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a signed token for an agency's system.
    Issue {
        /// Agency code, e.g. DINSOS.
        #[arg(long)]
        agency: String,
        /// Space-separated scopes, e.g. "beneficiary:read business:read". `all` grants every scope.
        #[arg(long)]
        scope: String,
        /// Regency/city code (repeat for several), or 64 for the whole province.
        #[arg(long = "region", required = true)]
        regions: Vec<String>,
        /// Lifetime, e.g. 30m, 8h, 7d.
        #[arg(long, default_value = "8h")]
        ttl: String,
        /// The API client's name (the token's `sub`).
        #[arg(long, default_value = "cli")]
        client: String,
        /// The volunteer the token belongs to (required for an agency whose tokens belong to
        /// volunteers, such as RELAWAN): an ACTIVE volunteer within the token's regions.
        #[arg(long)]
        volunteer: Option<uuid::Uuid>,
    },
    /// Revoke a token by its id (`jti`); every replica refuses it within seconds. An id this
    /// gateway never issued is refused (exit 1) unless --force.
    Revoke {
        /// The token's id, as `token issue` printed it.
        jti: String,
        /// Revoke an id this gateway has no record of issuing (a token of an external identity
        /// provider, or one issued before tokens were recorded).
        #[arg(long)]
        force: bool,
        /// Why (kept with the revocation).
        #[arg(long)]
        reason: Option<String>,
    },
}

fn main() -> ExitCode {
    // Settings in `.env` in the working directory (KEY=value lines; not in parent directories)
    // count as environment variables, below those already set; flags override both.
    let env_file = std::path::Path::new(".env");
    let env_file = env_file.is_file().then(|| dotenvy::from_path(env_file).map(|()| env_file));
    let cli = Cli::parse();
    let filter =
        EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    if cli.config.log_format == "json" {
        // One JSON object a line: the event's fields, and those of the spans it ran in (the
        // request's id, the operation, agency and client).
        tracing_subscriber::fmt()
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            // Colour codes only for a person at a terminal, not in a journal or a log file.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    match env_file {
        None => {}
        Some(Ok(path)) => tracing::info!(path = %path.display(), "settings read from .env"),
        Some(Err(err)) => {
            // Never the line itself: it may hold a secret.
            let why = match err {
                dotenvy::Error::LineParse(_, at) => format!("a line is not KEY=value (near character {at})"),
                dotenvy::Error::Io(err) => err.to_string(),
                _ => "it is not a list of KEY=value lines".to_owned(),
            };
            eprintln!("error: cannot read .env: {why}");
            return ExitCode::FAILURE;
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a line to stdout, ignoring a closed stdout: a server must not die because whoever
/// started it stopped reading its output.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

fn load_rules(path: Option<&std::path::Path>) -> Result<Rules, String> {
    match path {
        None => Ok(Rules::default()),
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Rules::from_toml(&text).map_err(|e| format!("invalid rules file {}: {e}", path.display()))
        }
    }
}

fn load_policy(path: Option<&std::path::Path>) -> Result<Policy, String> {
    let text = match path {
        None => return Policy::from_toml(DEFAULT_POLICY).map_err(|e| format!("built-in policy: {e}")),
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
        }
    };
    Policy::from_toml(&text).map_err(|e| format!("invalid policy file: {e}"))
}

/// Connects to the configured database and applies pending migrations: what every command that
/// touches the database does first.
async fn open_database(config: &Config, policy: &Policy) -> Result<sea_orm::DatabaseConnection, String> {
    let db = sinergi_api::connect(&config.database_url(), Arc::new(Metrics::default()))
        .await
        .map_err(|e| format!("database: {e}"))?;
    sinergi_api::prepare(&db, &Regions::load(), policy).await.map_err(|e| format!("migrations: {e}"))?;
    Ok(db)
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    let config = cli.config;
    let policy = load_policy(cli.policy.as_deref())?;
    let command = match cli.command.unwrap_or(Command::Serve) {
        Command::Import(ImportCommand::Beneficiaries {
            file,
            rejects,
            strict,
            agency,
            regions,
            delimiter,
            batch_size,
            json,
        }) => {
            let reference = Regions::load();
            let actor = sinergi_api::beneficiary::import::importer(&policy, &reference, &agency, regions)?;
            if !delimiter.is_ascii() {
                return Err(format!("the delimiter must be one ASCII character, not `{delimiter}`"));
            }
            let mut options = sinergi_api::beneficiary::import::Options::new(file);
            if let Some(rejects) = rejects {
                options.rejects = rejects;
            }
            options.strict = strict;
            options.delimiter = delimiter as u8;
            options.batch_size = batch_size;
            let db = open_database(&config, &policy).await?;
            let progress = import_progress::Bar::new();
            let summary =
                sinergi_api::beneficiary::import::import(&db, &reference, &actor, &options, &progress)
                    .await
                    .map_err(|e| e.to_string())?;
            import_progress::report(&options, &summary, json);
            return Ok(if summary.rejected > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS });
        }
        other => other,
    };
    run_other(config, policy, cli.rules, command).await.map(|()| ExitCode::SUCCESS)
}

async fn run_other(
    config: Config,
    policy: Policy,
    rules: Option<std::path::PathBuf>,
    command: Command,
) -> Result<(), String> {
    match command {
        Command::Import(_) => Err("handled above".into()),
        Command::Levels(LevelsCommand::Recompute) => {
            let rules = load_rules(rules.as_deref())?;
            let db = open_database(&config, &policy).await?;
            let actor = sinergi_api::auth::Actor::command_line(
                "DINSOS",
                "levels",
                Default::default(),
                vec![KALTIM.into()],
            );
            let (seen, changed) = sinergi_api::programme::graduation::recompute_all(&db, &rules, &actor)
                .await
                .map_err(|e| format!("cannot recompute the levels: {e}"))?;
            println!(
                "{seen} businesses looked at; {changed} levels changed (each a LEVEL_CHANGED case event)"
            );
            Ok(())
        }
        Command::Schema => {
            print!("{}", sinergi_api::sdl());
            Ok(())
        }
        Command::Migrate => {
            open_database(&config, &policy).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Token(TokenCommand::Issue { agency, scope, regions, ttl, client, volunteer }) => {
            let request = TokenRequest::from_cli(&policy, agency, &scope, regions, &ttl, client, volunteer)?;
            let keys = sinergi_api::signing_keys(&config, &policy)?;
            let db = open_database(&config, &policy).await?;
            if let Some(volunteer) = request.volunteer {
                sinergi_api::volunteer::service::check_for_token(&db, volunteer, &request.regions).await?;
            }
            sinergi_api::reference::register_client(&db, &request.agency, &request.client)
                .await
                .map_err(|e| format!("cannot register the API client: {e}"))?;
            let (token, claims) = keys.issue(&request).map_err(|e| e.to_string())?;
            let (kid, algorithm) = keys.signing_key();
            sinergi_api::revocation::record_issued(&db, &claims, kid)
                .await
                .map_err(|e| format!("cannot record the token: {e}"))?;
            let expires = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default();
            eprintln!(
                "token {} for {} / {}, signed with key `{kid}` ({algorithm}), expires {} UTC (unix time {})",
                claims.jti,
                claims.agency,
                claims.sub,
                expires.format("%Y-%m-%d %H:%M:%S"),
                claims.exp
            );
            println!("{token}");
            Ok(())
        }
        Command::Key(KeyCommand::Generate { kid, dir }) => {
            let dir = dir.or(config.keys_dir).unwrap_or_else(|| "./keys".into());
            let public = sinergi_api::keys::generate(&dir, &kid)?;
            println!(
                "created {0}/{1}.key (private, keep secret) and {0}/{1}.pub; x = {2}",
                dir.display(),
                kid,
                public.x()
            );
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { jti, force, reason }) => {
            use sinergi_api::revocation::CliRevocation;
            let db = open_database(&config, &policy).await?;
            let jti = jti.trim().to_owned();
            let outcome = sinergi_api::revocation::Revocations::default()
                .revoke_from_cli(&db, &jti, force, reason)
                .await
                .map_err(|e| format!("cannot revoke: {e}"))?;
            match outcome {
                CliRevocation::Unknown => Err(format!(
                    "no token with id `{jti}` was issued by this gateway (check the id `token issue` printed); a token of another issuer is revoked with --force"
                )),
                CliRevocation::AlreadyRevoked(at) => {
                    println!("token {jti} was already revoked at {}", at.format("%Y-%m-%d %H:%M:%S UTC"));
                    Ok(())
                }
                CliRevocation::Revoked { issued_to } => {
                    let disabled = sinergi_api::webhooks::disable_for_token(&db, &jti)
                        .await
                        .map_err(|e| format!("cannot disable its webhooks: {e}"))?;
                    let whose = issued_to.map(|(a, c)| format!(" ({a} / {c})")).unwrap_or_default();
                    println!("token {jti}{whose} revoked; {disabled} webhook(s) it registered disabled");
                    Ok(())
                }
            }
        }
        Command::Client(ClientCommand::Revoke { name, agency, reason }) => {
            let (agency, name) = match (name.split_once('/'), agency) {
                (Some((a, n)), _) => (a.to_owned(), n.to_owned()),
                (None, Some(agency)) => (agency, name),
                (None, None) => {
                    return Err("name the client's agency: --agency AGENCY, or AGENCY/NAME".into());
                }
            };
            let db = open_database(&config, &policy).await?;
            let disabled = sinergi_api::revocation::Revocations::default()
                .revoke_client(&db, &agency, &name, reason)
                .await
                .map_err(|e| match e {
                    sinergi_api::error::ServiceError::NotFound => {
                        format!(
                            "no API client {agency}/{name} has been registered (token issue registers one)"
                        )
                    }
                    other => format!("cannot revoke: {other}"),
                })?;
            println!("API client {agency}/{name} revoked; {disabled} webhook(s) disabled");
            Ok(())
        }
        Command::Serve => serve(config, policy, load_rules(rules.as_deref())?).await,
        Command::Documents(command) => documents(&config, &policy, command).await,
        Command::Config(ConfigCommand::Check) => {
            let rules_file = rules.as_deref().map(|p| p.display().to_string());
            let problems = check_config(&config, &policy, load_rules(rules.as_deref()), rules_file);
            if problems.is_empty() {
                say!("\nconfiguration OK");
                return Ok(());
            }
            for problem in &problems {
                eprintln!("problem: {problem}");
            }
            Err(format!("{} problem(s) in the configuration", problems.len()))
        }
    }
}

/// A database URL with its passwords replaced by `***` — in the user part and in query
/// parameters such as `?password=`; a URL that does not parse is not shown beyond its scheme.
fn redacted(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        let scheme = url.split_once("://").map_or("", |(s, _)| s);
        return format!("{scheme}://… (not shown: the URL does not parse)");
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let secret =
                    k.to_ascii_lowercase().contains("password") || k.to_ascii_lowercase().contains("key");
                (k.into_owned(), if secret { "***".to_owned() } else { v.into_owned() })
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// Prints the effective settings (`sinergi config check`) and returns what is wrong.
fn check_config(
    config: &Config,
    policy: &Policy,
    rules: Result<Rules, String>,
    rules_file: Option<String>,
) -> Vec<String> {
    let mut problems = config.production_problems();
    let limits = config.limits();
    say!("environment        {}", config.environment);
    say!("listen             {}", config.listen);
    say!("database           {}", redacted(&config.database_url()));
    say!("data directory     {}", config.data_dir.display());
    // Loaded only when configured: a check writes nothing (the development key is made on the
    // first start; production without keys is named among the problems already).
    let keys = if config.keys_dir.is_some() || config.jwt_secret.is_some() || config.idp_jwks.is_some() {
        match sinergi_api::signing_keys(config, policy) {
            Ok(keys) => {
                let (kid, algorithm) = keys.signing_key();
                let source = match &config.keys_dir {
                    Some(dir) => format!("Ed25519 keys in {}", dir.display()),
                    None => "SINERGI_JWT_SECRET (set, not shown)".to_owned(),
                };
                format!("{source}; new tokens signed with `{kid}` ({algorithm})")
            }
            Err(err) => {
                problems.push(format!("signing keys: {err}"));
                "(unusable, see below)".to_owned()
            }
        }
    } else {
        format!(
            "development key {} (HS256, created on first start)",
            config.data_dir.join("dev-signing.key").display()
        )
    };
    say!("signing            {keys}");
    if let Some(jwks) = &config.idp_jwks {
        say!(
            "external tokens    {} (issuer {:?})",
            jwks.display(),
            config.idp_issuer.as_deref().unwrap_or("-")
        );
    }
    say!("tokens             issuer {:?}, audience {:?}", config.jwt_issuer, config.jwt_audience);
    let agencies: Vec<&str> = policy.agencies().map(|a| a.code.as_str()).collect();
    say!("policy             {} agencies: {}", agencies.len(), agencies.join(", "));
    for agency in policy.agencies() {
        let rate = |l: Option<sinergi_api::policy::RateLimit>| match l {
            Some(l) => format!("{}/min, burst {}", l.per_minute, l.burst),
            None => "unlimited".to_owned(),
        };
        let clients: Vec<String> =
            agency.client_rate_limits.iter().map(|(name, l)| format!("{name} {}", rate(Some(*l)))).collect();
        let clients = if clients.is_empty() { String::new() } else { format!("; {}", clients.join("; ")) };
        let enforced = if config.rate_limits { "" } else { " (not enforced: SINERGI_RATE_LIMITS=false)" };
        say!("  rate {:<12} {}{clients}{enforced}", agency.code, rate(agency.rate_limit));
    }
    match rules {
        Ok(_) => say!("rules              {}", rules_file.as_deref().unwrap_or("built-in defaults")),
        Err(err) => problems.push(err),
    }
    match config.http() {
        Ok(http) => {
            say!("graphiql           {}", if http.graphiql { "on" } else { "off" });
            let origins = match &http.origins {
                sinergi_api::http::Origins::Localhost => {
                    "http://localhost, http://127.0.0.1, http://[::1] (any port)".to_owned()
                }
                sinergi_api::http::Origins::List(list) if list.is_empty() => "none".to_owned(),
                sinergi_api::http::Origins::List(list) => list.join(", "),
            };
            say!("cors origins       {origins}");
            let metrics = match (config.metrics_listen, http.metrics) {
                (Some(at), _) => format!("on {at}"),
                (None, true) => "on the API's address".to_owned(),
                (None, false) => "not served (set SINERGI_METRICS_LISTEN)".to_owned(),
            };
            say!("metrics            {metrics}");
        }
        Err(err) => problems.push(err),
    }
    say!("introspection      {:?}", limits.introspection);
    say!("demo data          {}", if config.demo_data() { "seeded into an empty database" } else { "never" });
    say!(
        "limits             body {} B, response {} B, cost {}, depth {}, aliases {}, root fields {}",
        limits.max_body_bytes,
        limits.max_response_bytes,
        limits.max_cost,
        limits.max_depth,
        limits.max_aliases,
        limits.max_root_fields
    );
    say!(
        "timeouts           request {} s, statement {} s, WebSocket init {} s",
        limits.request_timeout.as_secs(),
        limits.statement_timeout.as_secs(),
        limits.ws_init_timeout.as_secs()
    );
    say!("idempotency keys   kept {} s", limits.idempotency_ttl.as_secs());
    say!(
        "shutdown           /readyz 503 for {} s, then up to {} s to finish",
        limits.shutdown_delay.as_secs(),
        limits.shutdown_timeout.as_secs()
    );
    if limits.shutdown_timeout <= limits.request_timeout {
        problems.push(format!(
            "SINERGI_SHUTDOWN_TIMEOUT ({} s) must exceed the request timeout ({} s): a shutdown would cut off operations still running",
            limits.shutdown_timeout.as_secs(),
            limits.request_timeout.as_secs()
        ));
    }
    say!(
        "connections        {} at once; {} operations per socket, {} subscriptions per client",
        limits.max_connections,
        limits.max_subscriptions_per_socket,
        limits.max_subscriptions_per_client
    );
    say!(
        "webhooks           private targets {}, timeout {} s, {} at once, {} per client, disabled after {} failures",
        if config.webhook_allow_private_targets { "allowed" } else { "refused" },
        config.webhook_timeout_secs,
        config.webhook_concurrency,
        config.webhook_max_per_client,
        config.webhook_max_failures
    );
    problems
}

/// The import's progress bar (on a terminal only) and summary.
mod import_progress {
    use std::io::IsTerminal;

    use indicatif::{ProgressBar, ProgressStyle};
    use sinergi_api::beneficiary::import::{Options, Progress, Step, Summary};

    pub struct Bar(ProgressBar);

    impl Bar {
        pub fn new() -> Self {
            Self(if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() })
        }
    }

    impl Progress for Bar {
        fn begin(&self, step: Step, total: u64) {
            let template = match step {
                Step::Check => "checking [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}, {eta} left",
                Step::Load => "loading  [{bar:40}] {human_pos}/{human_len} rows {per_sec}, {eta} left",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                self.0.set_style(style.progress_chars("=> "));
            }
            self.0.reset();
            self.0.set_length(total);
        }

        fn advance_to(&self, done: u64) {
            self.0.set_position(done);
        }

        fn end(&self) {
            self.0.finish_and_clear();
        }
    }

    /// Prints what the import did (stdout), and where the rejected rows are (stderr).
    pub fn report(options: &Options, summary: &Summary, json: bool) {
        let rejects = options.rejects.display();
        if json {
            let mut value = serde_json::to_value(summary).unwrap_or_default();
            value["rejectFile"] = rejects.to_string().into();
            say!("{value}");
        } else {
            let rate = summary.rows as f64 / summary.seconds.max(1e-6);
            say!("{} in {:.1} s ({rate:.0} rows/s)", options.file.display(), summary.seconds);
            say!("  rows read                {:>9}", summary.rows);
            say!("  registered (new)         {:>9}", summary.created);
            say!("  updated                  {:>9}", summary.updated);
            say!("  unchanged                {:>9}", summary.unchanged);
            say!("  rejected                 {:>9}", summary.rejected);
            for (column, count) in &summary.rejected_by_column {
                let column = if column.is_empty() { "(row)" } else { column.as_str() };
                say!("    {column:<22} {count:>9}");
            }
            say!("  warnings (loaded)        {:>9}", summary.warnings);
            say!("  older decile, kept newer {:>9}", summary.kept_newer_assessment);
            say!("  case events written      {:>9}", summary.events);
            if !summary.ignored_columns.is_empty() {
                say!("  columns not read: {}", summary.ignored_columns.join(", "));
            }
        }
        if summary.rejected > 0 {
            if summary.loaded {
                eprintln!("{} row(s) rejected: see {rejects}", summary.rejected);
            } else {
                eprintln!("nothing loaded (--strict): {} row(s) rejected: see {rejects}", summary.rejected);
            }
        }
    }
}

async fn serve(config: Config, policy: Policy, rules: Rules) -> Result<(), String> {
    let problems = config.production_problems();
    if !problems.is_empty() {
        return Err(format!(
            "refusing to start in production: {} (`sinergi config check` lists every setting)",
            problems.join("; ")
        ));
    }
    let http = config.http()?;
    let metrics = Arc::new(Metrics::default());
    let limits = config.limits();
    let regions = Regions::load();
    {
        // Migrations run without the statement timeout requests get: a migration of a large
        // table may rightly take longer.
        let db =
            sinergi_api::connect_with(&config.database_url(), metrics.clone(), std::time::Duration::ZERO)
                .await
                .map_err(|e| format!("database: {e}"))?;
        sinergi_api::prepare(&db, &regions, &policy).await.map_err(|e| format!("migrations: {e}"))?;
        db.close().await.map_err(|e| format!("database: {e}"))?;
    }
    let db = sinergi_api::connect_with(&config.database_url(), metrics.clone(), limits.statement_timeout)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let reader =
        sinergi_api::connect_reader(&config.database_url(), &db, config.sqlite_readers, metrics.clone())
            .await
            .map_err(|e| format!("database (readers): {e}"))?;
    if config.demo_data() {
        let seeded = sinergi_api::seed::seed_if_empty(&db, &regions, &rules)
            .await
            .map_err(|e| format!("demo data: {e}"))?;
        if seeded > 0 {
            tracing::info!(beneficiaries = seeded, "seeded demo data (synthetic, marked isDemo)");
        }
    }
    let keys = sinergi_api::signing_keys(&config, &policy)?;
    let development = config.prints_development_token() && keys.is_development();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let metrics_listener = match config.metrics_listen {
        Some(at) => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| format!("cannot listen on {at} (SINERGI_METRICS_LISTEN): {e}"))?,
        ),
        None => None,
    };
    if development {
        let request = TokenRequest {
            agency: "DINSOS".into(),
            client: "dev".into(),
            scopes: policy.agency("DINSOS").map(|a| a.scopes.clone()).unwrap_or_default(),
            regions: vec![KALTIM.into()],
            ttl: chrono::Duration::hours(8),
            volunteer: None,
        };
        let (token, claims) = keys.issue(&request).map_err(|e| e.to_string())?;
        sinergi_api::revocation::record_issued(&db, &claims, keys.signing_key().0)
            .await
            .map_err(|e| format!("cannot record the development token: {e}"))?;
        say!("\nSinergi is listening on http://{addr}");
        say!("GraphiQL:   http://{addr}/graphql");
        say!("Dashboard:  http://{addr}/dashboard   (dasbor program: paste the token below)");
        say!(
            "Field app:  http://{addr}/lapangan/   (aplikasi lapangan: a volunteer's token; README shows how to issue one)"
        );
        say!(
            "Development token: DINSOS with every scope its policy grants (admin and pii:read included), whole province, 8 hours."
        );
        say!("In GraphiQL's Headers tab paste:");
        say!("{{\"Authorization\": \"Bearer {token}\"}}\n");
    } else {
        say!("Sinergi is listening on http://{addr}");
    }
    if let Some(listener) = &metrics_listener {
        say!("Metrics:    http://{}/metrics", listener.local_addr().map_err(|e| e.to_string())?);
    }
    let mut state = sinergi_api::app_state(db, keys, policy, rules, metrics);
    state.reader = reader;
    state.limits = Arc::new(limits);
    state.http = http;
    state.rate_limits = config.rate_limits;
    if !config.rate_limits {
        // Nothing is counted, so nothing is shared: a limiter of its own stops the one that
        // follows the database (its task ends with the last reference).
        state.rate_limiter = Arc::default();
    }
    state.webhooks = sinergi_api::webhooks::WebhookSettings {
        allow_private_targets: config.webhook_allow_private_targets,
        timeout: std::time::Duration::from_secs(config.webhook_timeout_secs.clamp(1, 300)),
        max_failures: config.webhook_max_failures.max(1),
        max_per_client: config.webhook_max_per_client.max(1),
        concurrency: config.webhook_concurrency.clamp(1, 256),
        ..Default::default()
    };
    if let Some(listener) = metrics_listener {
        let router = sinergi_api::http::metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!(error = %err, "the metrics listener stopped");
            }
        });
    }
    sinergi_api::serve(listener, state, shutdown_signal()).await.map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

/// `sinergi documents …`.
async fn documents(config: &Config, policy: &Policy, command: DocumentsCommand) -> Result<(), String> {
    use sinergi_api::documents::{self, EVERY_CLIENT};
    let known = |agency: &str| {
        policy
            .agency(agency)
            .map(|_| ())
            .ok_or_else(|| format!("agency {agency} is not in the access policy"))
    };
    let client_of = |client: Option<String>| -> Result<String, String> {
        match client {
            None => Ok(EVERY_CLIENT.to_owned()),
            Some(client)
                if client.is_empty() || client.len() > 200 || client.chars().any(char::is_control) =>
            {
                Err("--client must be 1 to 200 printable characters".into())
            }
            Some(client) => Ok(client),
        }
    };
    match command {
        DocumentsCommand::Register { agency, client, files, every_client: _ } => {
            known(&agency)?;
            let client = client_of(client)?;
            let mut all = Vec::new();
            for file in &files {
                let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let read =
                    documents::read_manifest(&name, &text).map_err(|e| format!("{}: {e}", file.display()))?;
                all.extend(read);
            }
            let db = open_database(config, policy).await?;
            let count = documents::register(&db, &agency, &client, &all)
                .await
                .map_err(|e| format!("cannot register the documents: {e}"))?;
            let whom = if client == EVERY_CLIENT {
                format!("every API client of {agency}")
            } else {
                format!("{agency}/{client}")
            };
            let trusted = if client == EVERY_CLIENT {
                policy.agency(&agency).is_some_and(|a| a.trusted_documents)
            } else {
                policy.trusted_documents(&agency, &client)
            };
            println!(
                "{count} document(s) registered for {whom}{}",
                if trusted { " (trusted documents: it runs only registered documents)" } else { "" }
            );
            Ok(())
        }
        DocumentsCommand::List { agency, client } => {
            known(&agency)?;
            let db = open_database(config, policy).await?;
            let listed = documents::list(&db, &agency, client.as_deref())
                .await
                .map_err(|e| format!("cannot list the documents: {e}"))?;
            for document in &listed {
                println!(
                    "{}\t{}\t{}\t{}",
                    document.client,
                    document.id,
                    document.name.as_deref().unwrap_or("-"),
                    document.created_at.format("%Y-%m-%d %H:%M")
                );
            }
            eprintln!("{} document(s)", listed.len());
            Ok(())
        }
        DocumentsCommand::Remove { agency, client, ids, all, every_client: _ } => {
            known(&agency)?;
            let client = client_of(client)?;
            if ids.is_empty() != all {
                return Err("name the documents' ids, or --all (not both)".into());
            }
            let db = open_database(config, policy).await?;
            let removed = documents::remove(&db, &agency, &client, &ids)
                .await
                .map_err(|e| format!("cannot remove the documents: {e}"))?;
            println!("{removed} document(s) removed");
            if removed < ids.len() as u64 {
                return Err(format!(
                    "{} of the ids were not registered for that client",
                    ids.len() as u64 - removed
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_database_url_never_shows_its_password() {
        assert_eq!(redacted("postgres://sinergi:s3cret@db/sinergi"), "postgres://sinergi:***@db/sinergi");
        let query = redacted("postgres://sinergi@db/sinergi?password=s3cret&sslmode=require");
        assert!(!query.contains("s3cret") && query.contains("sslmode=require"), "{query}");
        let broken = redacted("postgres://sinergi:s3cr/et@db/sinergi");
        assert!(!broken.contains("s3cr") && broken.starts_with("postgres://"), "{broken}");
        assert_eq!(redacted("sqlite://./data/sinergi.db?mode=rwc"), "sqlite://./data/sinergi.db?mode=rwc");
    }
}
