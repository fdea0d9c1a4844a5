//! `sinergi-bench`: seeds a register of a given size (bulk inserts, not through the API), starts
//! the gateway binary on it, drives each scenario with concurrent HTTP clients for a fixed time,
//! and runs the same SQL directly through the driver at the same concurrency, so the gateway's
//! overhead is a ratio measured in the same run. Prints a table and writes a JSON file.
//!
//! ```sh
//! cargo build --release -p sinergi-api -p sinergi-bench
//! target/release/sinergi-bench                                  # SQLite, 20,000 beneficiaries
//! target/release/sinergi-bench --database-url postgres://postgres@127.0.0.1:5432/bench
//! ```

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{NaiveDate, TimeZone, Utc};
use clap::Parser;
use entity::{assistance, beneficiary, business, loan_application, monitoring_visit, referral};
use rand::Rng;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, EntityTrait, FromQueryResult,
    PaginatorTrait, Statement,
};
use serde_json::{Value, json};
use uuid::Uuid;

mod import;
mod subscribers;
mod webhooks;
mod writes;

#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Database to seed and serve: an empty PostgreSQL database, or a SQLite URL. Default: a
    /// fresh SQLite file `target/bench/bench.db`. A database that already holds at least the
    /// asked number of beneficiaries is used as it is.
    #[arg(long)]
    database_url: Option<String>,
    /// Beneficiaries to seed, each with a business (equipped by a starter package in 2025), two
    /// loan applications, two monitoring visits and a referral.
    #[arg(long, default_value_t = 20_000)]
    beneficiaries: u64,
    /// The full mode: 1,000,000 beneficiaries.
    #[arg(long)]
    full: bool,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds each request scenario runs (the gateway, then the raw SQL).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Scenarios, comma-separated: list, nested, case, statistics, create, move, subscriptions,
    /// webhooks, import.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "list,nested,case,statistics,create,move,subscriptions,webhooks,import"
    )]
    scenarios: Vec<String>,
    /// Rows of the extract the import scenario loads (with one bad row in fifty).
    #[arg(long, default_value_t = 100_000)]
    import_rows: u64,
    /// `caseEvents` subscriptions the subscription scenario holds open.
    #[arg(long, default_value_t = 20_000)]
    subscribers: usize,
    /// Sockets they are spread over. Default: one per subscription, as far as the open-file
    /// limit (`ulimit -n`, which the gateway inherits) allows.
    #[arg(long)]
    sockets: Option<usize>,
    /// Events written (one after another) while the subscriptions are open.
    #[arg(long, default_value_t = 20)]
    events: usize,
    /// Every subscription its own document (its own alias for the field), so that none shares
    /// an execution with another: the cost of subscriptions that have nothing in common.
    #[arg(long)]
    distinct: bool,
    /// Webhooks the webhook scenario registers.
    #[arg(long, default_value_t = 100)]
    webhooks: usize,
    /// Events each of them is sent.
    #[arg(long, default_value_t = 100)]
    webhook_events: usize,
    /// Seconds the subscriptions sit idle while statements, CPU and memory are measured.
    #[arg(long, default_value_t = 10)]
    idle_seconds: u64,
    /// The gateway binary (`cargo build --release -p sinergi-api`).
    #[arg(long, default_value = "target/release/sinergi")]
    gateway: PathBuf,
    /// Scopes of the bench's token. Without `pii:read` names are masked and no personal-data
    /// read is logged; add it to measure the access log too.
    #[arg(
        long,
        default_value = "beneficiary:read business:read loan:read monitoring:read referral:read stats:read"
    )]
    scope: String,
    /// Where to write the results as JSON.
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let size = if args.full { 1_000_000 } else { args.beneficiaries };
    std::fs::create_dir_all("target/bench")?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => {
            let _ = std::fs::remove_file("target/bench/bench.db");
            "sqlite://target/bench/bench.db?mode=rwc".to_owned()
        }
    };
    let plan =
        subscribers::Plan::new(args.subscribers, args.sockets, args.events, args.idle_seconds, args.distinct);
    let gateway = Gateway::env(&args.gateway, &url, &plan, args.webhooks);
    gateway.run(&["migrate"])?;
    let db = Database::connect(&url).await?;
    let existing = beneficiary::Entity::find().count(&db).await?;
    if existing < size {
        if existing > 0 {
            return Err(format!(
                "the database holds {existing} beneficiaries, fewer than {size}: give an empty one"
            )
            .into());
        }
        let started = Instant::now();
        seed(&db, size).await?;
        eprintln!("seeded {size} beneficiaries in {:.1} s", started.elapsed().as_secs_f64());
    }
    let ids = sample(&db, "beneficiary", false).await?;
    let token = gateway.token(&args.scope, "bench")?;
    let subscriber_token = gateway.token("events:subscribe monitoring:read", "bench-subscribers")?;
    let writer_token = gateway.token("monitoring:write business:read", "bench-writer")?;
    let writes_token =
        gateway.token("beneficiary:write pii:read business:read business:write", "bench-writes")?;
    let businesses = sample(&db, "business", true).await?;
    let mut server = gateway.serve().await?;

    let backend = db.get_database_backend();
    let mut results = Vec::new();
    let (mut subscriptions, mut hooks, mut imports) = (Vec::new(), Value::Null, Value::Null);
    for name in &args.scenarios {
        match name.as_str() {
            "subscriptions" => {
                // Named twice, the second wave shows whether the first one's memory is reused.
                subscriptions.push(
                    subscribers::run(&server, &subscriber_token, &writer_token, &businesses, &plan).await?,
                );
                continue;
            }
            "import" => {
                imports = import::run(&gateway, &db, args.import_rows).await?;
                continue;
            }
            "webhooks" => {
                let writer = subscribers::Writer::new(&server, &writer_token);
                hooks = webhooks::run(
                    &server,
                    &db,
                    &subscriber_token,
                    &writer,
                    &businesses,
                    args.webhooks,
                    args.webhook_events,
                )
                .await?;
                continue;
            }
            _ => {}
        }
        let (title, through_gateway, raw) = if let Some(write) = writes::Write::named(name) {
            let target = writes::Target {
                server: &server,
                token: &writes_token,
                url: &url,
                db: &db,
                businesses: &businesses,
            };
            let (through_gateway, raw) = writes::run(write, &target, args.clients, args.seconds).await?;
            (write.title(), through_gateway, raw)
        } else if let Some(scenario) = Scenario::named(name) {
            let through_gateway =
                drive_gateway(&server, &token, &scenario, &ids, args.clients, args.seconds).await?;
            let raw = drive_sql(&url, backend, &scenario, &ids, args.clients, args.seconds).await?;
            (scenario.name, through_gateway, raw)
        } else {
            eprintln!(
                "unknown scenario {name}: list, nested, case, statistics, create, move, subscriptions, webhooks or import"
            );
            continue;
        };
        results.push(json!({
            "scenario": title,
            "gateway": through_gateway,
            "raw_sql": raw,
            "ratio": ratio(&through_gateway, &raw),
        }));
    }
    server.stop();
    let report = json!({
        "database": if url.starts_with("postgres") { "postgresql" } else { "sqlite" },
        "beneficiaries": size,
        "clients": args.clients,
        "seconds": args.seconds,
        "scope": args.scope,
        "cores": std::thread::available_parallelism().map(usize::from).unwrap_or(0),
        "results": results,
        "subscriptions": subscriptions,
        "webhooks": hooks,
        "import": imports,
    });
    print_table(&report);
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)?;
    eprintln!("results written to {}", args.out.display());
    Ok(())
}

/// One scenario: the GraphQL query a client sends and the SQL a hand-written service would run.
struct Scenario {
    name: &'static str,
    query: &'static str,
    /// Whether the query takes a beneficiary id (`$id`).
    by_id: bool,
    sql: &'static [&'static str],
}

impl Scenario {
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "list" => Scenario {
                name: "list of 50 beneficiaries",
                query: "{ beneficiaries(first: 50) { nodes { id fullName decile } } }",
                by_id: false,
                sql: &["SELECT id, full_name, decile FROM beneficiary ORDER BY created_at, id LIMIT 50"],
            },
            "nested" => Scenario {
                name: "nested view of 50",
                query: "{ beneficiaries(first: 50) { nodes { id fullName decile businesses { id name status \
                        loans { id requestedAmount status } monitoringVisits(first: 5) { nodes { visitedOn observedStatus } } \
                        referrals { id status toAgency } } } } }",
                by_id: false,
                sql: &[
                    "SELECT b.id, b.full_name, b.decile, z.id, z.name, z.status, l.id, l.requested_amount, l.status \
                     FROM (SELECT id, full_name, decile, created_at FROM beneficiary ORDER BY created_at, id LIMIT 50) b \
                     LEFT JOIN business z ON z.beneficiary_id = b.id LEFT JOIN loan_application l ON l.business_id = z.id",
                    "SELECT v.business_id, v.visited_on, v.observed_status FROM monitoring_visit v WHERE v.business_id IN \
                     (SELECT z.id FROM business z WHERE z.beneficiary_id IN (SELECT id FROM beneficiary ORDER BY created_at, id LIMIT 50))",
                    "SELECT r.business_id, r.id, r.status, r.to_agency FROM referral r WHERE r.business_id IN \
                     (SELECT z.id FROM business z WHERE z.beneficiary_id IN (SELECT id FROM beneficiary ORDER BY created_at, id LIMIT 50))",
                ],
            },
            "case" => Scenario {
                name: "one beneficiary's case by id",
                query: "query($id: UUID!) { beneficiary(id: $id) { id fullName decile regencyCode status \
                        businesses { id name status loans { id requestedAmount status } \
                        monitoringVisits(first: 10) { nodes { visitedOn observedStatus } } referrals { id status } } } }",
                by_id: true,
                sql: &[
                    "SELECT b.id, b.full_name, b.decile, b.regency_code, b.status, z.id, z.name, z.status, l.id, l.requested_amount, l.status \
                     FROM beneficiary b LEFT JOIN business z ON z.beneficiary_id = b.id \
                     LEFT JOIN loan_application l ON l.business_id = z.id WHERE b.id = $1",
                    "SELECT v.visited_on, v.observed_status FROM monitoring_visit v WHERE v.beneficiary_id = $1",
                    "SELECT r.id, r.status FROM referral r WHERE r.beneficiary_id = $1",
                ],
            },
            "statistics" => Scenario {
                name: "programme statistics, a year",
                query: "{ programmeStatistics(year: 2025) { total { recipients { value } packageValue { value } \
                        packagesDisbursed { value } businessesByStatus { status count { value } } \
                        businessesByLevel { level count { value } } relapsed { value } graduationRate \
                        referrals { toAgency status count { value } } infrastructureRequests { kind status count { value } } \
                        marketServices { kind status count { value } } loans { status count { value } requested { value } } \
                        survival { months reached { value } running { value } share } \
                        handovers { toAgency made { value } medianDaysToAccept overdue { value } } } } }",
                by_id: false,
                // What a hand-written report runs: a grouped statement per figure, the cohort's
                // businesses and visits for survival, the year's referrals and their moves for the
                // handover times (the last four return rows, not counts).
                sql: &[
                    "SELECT regency_code, COUNT(*), SUM(amount), SUM(CASE WHEN status = 'DISBURSED' THEN 1 ELSE 0 END) \
                     FROM assistance WHERE programme = 'BUSINESS_STARTER_PACKAGE' AND status <> 'CANCELLED' \
                     AND period_start BETWEEN '2025-01-01' AND '2025-12-31' GROUP BY regency_code",
                    "SELECT regency_code, status, level, COUNT(*), SUM(CASE WHEN graduated_on IS NULL THEN 0 ELSE 1 END) \
                     FROM business WHERE id IN (SELECT business_id FROM assistance WHERE programme = 'BUSINESS_STARTER_PACKAGE' \
                     AND status <> 'CANCELLED' AND period_start BETWEEN '2025-01-01' AND '2025-12-31') \
                     GROUP BY regency_code, status, level",
                    "SELECT regency_code, to_agency, status, COUNT(*) FROM referral \
                     WHERE created_at >= '2025-01-01' AND created_at < '2026-01-01' GROUP BY regency_code, to_agency, status",
                    "SELECT regency_code, kind, status, COUNT(*) FROM infrastructure_request \
                     WHERE created_at >= '2025-01-01' AND created_at < '2026-01-01' GROUP BY regency_code, kind, status",
                    "SELECT regency_code, kind, status, COUNT(*) FROM market_service \
                     WHERE created_at >= '2025-01-01' AND created_at < '2026-01-01' GROUP BY regency_code, kind, status",
                    "SELECT regency_code, status, COUNT(*), SUM(requested_amount), SUM(COALESCE(approved_amount, 0)) \
                     FROM loan_application WHERE created_at >= '2025-01-01' AND created_at < '2026-01-01' \
                     GROUP BY regency_code, status",
                    "SELECT z.id, z.regency_code, z.status, z.status_changed_on, MIN(a.disbursed_on) FROM business z \
                     JOIN assistance a ON a.business_id = z.id WHERE a.programme = 'BUSINESS_STARTER_PACKAGE' \
                     AND a.status = 'DISBURSED' AND a.period_start BETWEEN '2025-01-01' AND '2025-12-31' \
                     GROUP BY z.id, z.regency_code, z.status, z.status_changed_on",
                    "SELECT v.business_id, v.visited_on, v.observed_status FROM monitoring_visit v WHERE v.business_id IN \
                     (SELECT a.business_id FROM assistance a WHERE a.programme = 'BUSINESS_STARTER_PACKAGE' \
                     AND a.status = 'DISBURSED' AND a.period_start BETWEEN '2025-01-01' AND '2025-12-31') \
                     ORDER BY v.business_id, v.visited_on",
                    "SELECT id, regency_code, to_agency, status, due_by, created_at FROM referral \
                     WHERE created_at >= '2025-01-01' AND created_at < '2026-01-01'",
                    "SELECT e.entity_id, e.to_status, e.occurred_at FROM case_event e WHERE e.entity_type = 'REFERRAL' \
                     AND e.action = 'STATUS_CHANGED' AND e.to_status IN ('ACCEPTED', 'COMPLETED') AND e.entity_id IN \
                     (SELECT id FROM referral WHERE created_at >= '2025-01-01' AND created_at < '2026-01-01')",
                ],
            },
            _ => return None,
        })
    }
}

/// Latencies and throughput of one run.
struct Run {
    requests: u64,
    failures: u64,
    latencies_us: Vec<u64>,
    elapsed: Duration,
}

impl Run {
    fn summary(mut self, extra: Value) -> Value {
        self.latencies_us.sort_unstable();
        let pct = |p: f64| percentile(&self.latencies_us, p);
        let mut out = json!({
            "requests": self.requests,
            "failures": self.failures,
            "per_second": (self.requests as f64 / self.elapsed.as_secs_f64() * 10.0).round() / 10.0,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
        });
        if let (Some(out), Some(extra)) = (out.as_object_mut(), extra.as_object()) {
            out.extend(extra.clone());
        }
        out
    }
}

/// The `p` percentile (0–1) of sorted microseconds, in milliseconds.
fn percentile(sorted_us: &[u64], p: f64) -> f64 {
    let n = sorted_us.len();
    if n == 0 {
        return 0.0;
    }
    let at = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
    sorted_us[at] as f64 / 1000.0
}

/// Polls `done` every 5 ms until it holds or `limit` passes.
async fn wait_until(limit: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Call numbers of one client are `client * CLIENT_STRIDE + n`.
const CLIENT_STRIDE: usize = 1_000_003;

/// Runs `work` from `clients` tasks for `seconds`; each call returns whether it succeeded. Call
/// `n` of client `c` is given `c * CLIENT_STRIDE + n`.
async fn drive<F, Fut>(clients: usize, seconds: u64, work: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let work = Arc::new(work);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let work = work.clone();
            tokio::spawn(async move {
                let (mut latencies, mut failures, mut n) = (Vec::new(), 0u64, 0usize);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if !work(client * CLIENT_STRIDE + n).await {
                        failures += 1;
                    }
                    latencies.push(t.elapsed().as_micros() as u64);
                    n += 1;
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut run = Run { requests: 0, failures: 0, latencies_us: Vec::new(), elapsed: Duration::ZERO };
    for task in tasks {
        if let Ok((latencies, failures)) = task.await {
            run.requests += latencies.len() as u64;
            run.failures += failures;
            run.latencies_us.extend(latencies);
        }
    }
    run.elapsed = started.elapsed();
    run
}

async fn drive_gateway(
    server: &Server,
    token: &str,
    scenario: &Scenario,
    ids: &[Uuid],
    clients: usize,
    seconds: u64,
) -> Result<Value, Error> {
    let (query, by_id, ids) = (scenario.query, scenario.by_id, Arc::new(ids.to_vec()));
    measure_gateway(
        server,
        token,
        clients,
        seconds,
        move |n| {
            let variables = if by_id { json!({ "id": ids[n % ids.len()] }) } else { json!({}) };
            json!({ "query": query, "variables": variables })
        },
        |_, body| body.get("errors").is_none(),
    )
    .await
}

/// Drives the gateway from `clients` tasks for `seconds`: call `n` posts `request(n)` and
/// succeeds when the answer is a 200 whose body `check(n, body)` accepts. One request
/// (`usize::MAX`) is sent and checked before measuring (connections, caches). Adds the gateway's SQL statements and CPU per request.
pub(crate) async fn measure_gateway<R, C>(
    server: &Server,
    token: &str,
    clients: usize,
    seconds: u64,
    request: R,
    check: C,
) -> Result<Value, Error>
where
    R: Fn(usize) -> Value + Send + Sync + 'static,
    C: Fn(usize, &Value) -> bool + Send + Sync + 'static,
{
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
    let url = format!("{}/graphql", server.base);
    let auth = format!("Bearer {token}");
    let (request, check) = (Arc::new(request), Arc::new(check));
    let warm_up: Value = http
        .post(&url)
        .header("authorization", &auth)
        .json(&request(usize::MAX))
        .send()
        .await?
        .json()
        .await?;
    if !check(usize::MAX, &warm_up) {
        return Err(format!("the first request failed: {warm_up}").into());
    }
    let statements_before = server.statements(&http).await?;
    let cpu_before = server.cpu_seconds()?;
    let run = {
        let (http, url, auth) = (http.clone(), url.clone(), auth.clone());
        drive(clients, seconds, move |n| {
            let sent = http.post(&url).header("authorization", &auth).json(&request(n)).send();
            let check = check.clone();
            async move {
                match sent.await {
                    Ok(response) if response.status().is_success() => {
                        response.json::<Value>().await.is_ok_and(|body| check(n, &body))
                    }
                    _ => false,
                }
            }
        })
        .await
    };
    let statements = server.statements(&http).await? - statements_before;
    let cpu = server.cpu_seconds()? - cpu_before;
    let requests = run.requests.max(1) as f64;
    Ok(run.summary(json!({
        "sql_statements_per_request": (statements as f64 / requests * 100.0).round() / 100.0,
        "gateway_cpu_ms_per_request": (cpu * 1000.0 / requests * 1000.0).round() / 1000.0,
    })))
}

async fn drive_sql(
    url: &str,
    backend: sea_orm::DbBackend,
    scenario: &Scenario,
    ids: &[Uuid],
    clients: usize,
    seconds: u64,
) -> Result<Value, Error> {
    let mut options = sea_orm::ConnectOptions::new(url.to_owned());
    // As the gateway's pool (`sinergi_api::connect`): a connection in use is not checked with a
    // round trip of its own before each statement (sqlx's default), one idle for 10 s is.
    options
        .max_connections(clients as u32)
        .sqlx_logging(false)
        .test_before_acquire_if_idle_for(std::time::Duration::from_secs(10));
    let db = Database::connect(options).await?;
    let (sql, by_id, ids) = (scenario.sql, scenario.by_id, Arc::new(ids.to_vec()));
    let run = drive(clients, seconds, move |n| {
        let db = db.clone();
        let id = ids[n % ids.len()];
        async move {
            for text in sql {
                let statement = if by_id {
                    Statement::from_sql_and_values(backend, adapt(backend, text), [id.into()])
                } else {
                    Statement::from_string(backend, text.to_string())
                };
                if db.query_all_raw(statement).await.is_err() {
                    return false;
                }
            }
            true
        }
    })
    .await;
    Ok(run.summary(json!({ "sql_statements_per_request": sql.len() })))
}

/// SQLite numbers its parameters `?1`, PostgreSQL `$1`.
fn adapt(backend: sea_orm::DbBackend, sql: &str) -> String {
    match backend {
        sea_orm::DbBackend::Sqlite => sql.replace("$1", "?1"),
        _ => sql.to_owned(),
    }
}

fn ratio(gateway: &Value, raw: &Value) -> f64 {
    let (g, r) = (gateway["per_second"].as_f64().unwrap_or(0.0), raw["per_second"].as_f64().unwrap_or(0.0));
    if r > 0.0 { (g / r * 1000.0).round() / 1000.0 } else { 0.0 }
}

fn print_table(report: &Value) {
    println!(
        "\n{} · {} beneficiaries · {} clients · {} s per run · {} cores",
        report["database"], report["beneficiaries"], report["clients"], report["seconds"], report["cores"]
    );
    println!(
        "{:<32} {:>9} {:>8} {:>8} {:>8} {:>6} {:>8} {:>9} {:>7}",
        "scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "stmts", "cpu ms", "raw/s", "ratio"
    );
    for r in report["results"].as_array().into_iter().flatten() {
        let g = &r["gateway"];
        let cell = |v: &Value| v.to_string();
        println!(
            "{:<32} {:>9} {:>8} {:>8} {:>8} {:>6} {:>8} {:>9} {:>7}",
            r["scenario"].as_str().unwrap_or_default(),
            cell(&g["per_second"]),
            cell(&g["p50_ms"]),
            cell(&g["p95_ms"]),
            cell(&g["p99_ms"]),
            cell(&g["sql_statements_per_request"]),
            cell(&g["gateway_cpu_ms_per_request"]),
            cell(&r["raw_sql"]["per_second"]),
            cell(&r["ratio"]),
        );
        if g["failures"].as_u64().unwrap_or(0) > 0 {
            println!("  ! {} failed requests", g["failures"]);
        }
    }
    for s in report["subscriptions"].as_array().into_iter().flatten() {
        println!(
            "\ncaseEvents: {} subscriptions{} on {} sockets (open in {} s) · {} events · {} deliveries, {} missing, {} errors",
            s["subscribers"],
            if s["distinct_documents"] == true { ", each its own document," } else { "" },
            s["sockets"],
            s["seconds_to_open"],
            s["events"],
            s["deliveries"],
            s["missing_deliveries"],
            s["error_messages"]
        );
        println!(
            "  delivery from the write: p50 {} ms · p99 {} ms · max {} ms · gateway CPU {} µs per delivery (the bench's clients: {} µs)",
            s["delivery_p50_ms"],
            s["delivery_p99_ms"],
            s["delivery_max_ms"],
            s["gateway_cpu_us_per_delivery"],
            s["client_cpu_us_per_delivery"]
        );
        println!(
            "  idle {} s: {} statements/s · {} % CPU · {} KiB per subscription (RSS {} → {} MiB)",
            s["idle_seconds"],
            s["idle_statements_per_second"],
            s["idle_cpu_percent"],
            s["kib_per_idle_subscription"],
            s["rss_before_mib"],
            s["rss_idle_mib"]
        );
        println!(
            "  after they left: RSS {} MiB ({}), {} of the growth returned, {} descriptors open",
            s["rss_after_leave_mib"],
            match (s["rss_last_fell_after_leave_s"].as_f64(), s["rss_settled_after_leave"].as_bool()) {
                (None, _) => "it never fell".to_owned(),
                (Some(at), Some(false)) => format!("still falling 60 s after they closed, last at {at} s"),
                (Some(at), _) => format!("it last fell {at} s after they closed"),
            },
            s["share_returned_after_leave"],
            s["gateway_descriptors_after_leave"]
        );
    }
    let i = &report["import"];
    if i.is_object() {
        println!("\nregister import: {} rows, {} of them bad", i["rows"], i["bad_rows"]);
        for r in i["runs"].as_array().into_iter().flatten() {
            println!(
                "  {:<36} {:>7} s {:>9} rows/s · {} new, {} updated, {} unchanged, {} rejected, {} events",
                r["run"].as_str().unwrap_or_default(),
                r["seconds"],
                r["rows_per_s"],
                r["created"],
                r["updated"],
                r["unchanged"],
                r["rejected"],
                r["events"]
            );
        }
    }
    let w = &report["webhooks"];
    if w.is_object() {
        println!(
            "\nwebhooks: {} webhooks × {} events: {} deliveries in {} s = {} deliveries/s · {} missing, {} out of order, {} repeated",
            w["webhooks"],
            w["events"],
            w["deliveries"],
            w["seconds"],
            w["deliveries_per_second"],
            w["missing_deliveries"],
            w["out_of_order"],
            w["repeated"]
        );
    }
}

/// The gateway binary with the bench's environment.
struct Gateway {
    binary: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Gateway {
    /// The gateway's settings for the bench: the subscription scenario's sockets and
    /// subscriptions within its limits.
    fn env(binary: &std::path::Path, url: &str, plan: &subscribers::Plan, webhooks: usize) -> Self {
        Self {
            binary: binary.to_owned(),
            env: vec![
                ("DATABASE_URL", url.to_owned()),
                ("SINERGI_DATA_DIR", "target/bench/data".to_owned()),
                // One client drives thousands of requests a second: past any policy's rate.
                ("SINERGI_RATE_LIMITS", "false".to_owned()),
                ("RUST_LOG", "warn".to_owned()),
                ("SINERGI_MAX_CONNECTIONS", (plan.sockets + 200).to_string()),
                ("SINERGI_MAX_SUBSCRIPTIONS_PER_SOCKET", plan.per_socket().max(20).to_string()),
                ("SINERGI_MAX_SUBSCRIPTIONS_PER_CLIENT", plan.subscribers.max(100).to_string()),
                ("SINERGI_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true".to_owned()),
                ("SINERGI_WEBHOOK_MAX_PER_CLIENT", webhooks.max(10).to_string()),
            ],
        }
    }

    /// A DINSOS token for the whole province with `scope`, for API client `client`.
    fn token(&self, scope: &str, client: &str) -> Result<String, Error> {
        let out = self.run(&[
            "token", "issue", "--agency", "DINSOS", "--scope", scope, "--region", "64", "--client", client,
        ])?;
        Ok(out.lines().last().unwrap_or_default().trim().to_owned())
    }

    /// Runs `import beneficiaries FILE --json` (rejected rows are expected: exit status 2) and
    /// returns its summary.
    fn import(&self, file: &std::path::Path) -> Result<Value, Error> {
        let output = self.command().args(["import", "beneficiaries", "--json"]).arg(file).output()?;
        if !matches!(output.status.code(), Some(0 | 2)) {
            return Err(format!("import failed: {}", String::from_utf8_lossy(&output.stderr)).into());
        }
        Ok(serde_json::from_slice(&output.stdout)?)
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command.envs(self.env.iter().map(|(k, v)| (*k, v.as_str())));
        command
    }

    /// Runs a CLI command and returns its standard output.
    fn run(&self, args: &[&str]) -> Result<String, Error> {
        let output = self.command().args(args).output().map_err(|err| {
            format!(
                "cannot run {} ({err}); build it with `cargo build --release -p sinergi-api`",
                self.binary.display()
            )
        })?;
        if !output.status.success() {
            return Err(format!(
                "{} {args:?} failed: {}",
                self.binary.display(),
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Starts `serve` on a free loopback port and waits until it answers.
    async fn serve(&self) -> Result<Server, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = self
            .command()
            .arg("serve")
            .env("SINERGI_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let server = Server { base: format!("http://127.0.0.1:{port}"), child };
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if http
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("the gateway did not start within 30 s".into())
    }
}

struct Server {
    base: String,
    child: Child,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SQL statements the gateway has sent (its `/metrics` counter).
    async fn statements(&self, http: &reqwest::Client) -> Result<u64, Error> {
        let text = http.get(format!("{}/metrics", self.base)).send().await?.text().await?;
        text.lines()
            .find_map(|l| l.strip_prefix("sinergi_sql_statements_total "))
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| "no statement counter in /metrics".into())
    }

    /// CPU time the gateway process has used, in seconds (Linux `/proc`).
    fn cpu_seconds(&self) -> Result<f64, Error> {
        cpu_seconds(self.child.id())
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time process `pid` has used, in seconds (Linux `/proc`).
fn cpu_seconds(pid: u32) -> Result<f64, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces, closed by ')'): utime is the 12th
    // and stime the 13th of them.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    Ok((ticks(11) + ticks(12)) / clock_ticks())
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it cannot be asked).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

#[derive(FromQueryResult)]
struct Row {
    id: Uuid,
}

/// A thousand ids of `table`: the oldest beneficiaries for the by-id scenario (the list and
/// nested pages read the oldest too), the newest businesses for the visits the subscription and
/// webhook scenarios write and the moves of the move scenario, so that runs on the same database
/// do not pile rows under the pages the read scenarios measure.
async fn sample(db: &DatabaseConnection, table: &str, newest: bool) -> Result<Vec<Uuid>, Error> {
    let backend = db.get_database_backend();
    let order = if newest { "DESC" } else { "ASC" };
    let sql = format!("SELECT id FROM {table} ORDER BY id {order} LIMIT 1000");
    let rows = Row::find_by_statement(Statement::from_string(backend, sql)).all(db).await?;
    let ids: Vec<Uuid> = rows.into_iter().map(|r| r.id).collect();
    if ids.is_empty() {
        return Err(format!("no {table} rows to read").into());
    }
    Ok(ids)
}

#[derive(FromQueryResult)]
struct District {
    code: String,
    parent_code: Option<String>,
}

/// Bulk-loads `size` beneficiaries, each with a business equipped by a starter package delivered
/// in 2025, two loan applications, two visits and a referral, in batches (not through the API: this is the register the gateway serves).
async fn seed(db: &DatabaseConnection, size: u64) -> Result<(), Error> {
    let backend = db.get_database_backend();
    let districts: Vec<(String, String)> = District::find_by_statement(Statement::from_string(
        backend,
        "SELECT code, parent_code FROM region WHERE level = 'district'",
    ))
    .all(db)
    .await?
    .into_iter()
    .filter_map(|d| Some((d.code, d.parent_code?)))
    .collect();
    if districts.is_empty() {
        return Err("no districts in the region table: migrate first".into());
    }
    let mut rng = rand::rng();
    let created = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().unwrap_or_else(Utc::now);
    let day = |n: u64| NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default() + chrono::Days::new(n % 600);
    let batch = 500u64;
    let mut done = 0;
    while done < size {
        let n = batch.min(size - done);
        let (mut people, mut firms, mut packages, mut loans, mut visits, mut referrals) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for i in done..done + n {
            let (district, regency) = &districts[(i as usize) % districts.len()];
            let at = created + chrono::Duration::seconds(i as i64 * 7);
            let (person, firm) = (Uuid::now_v7(), Uuid::now_v7());
            people.push(beneficiary::ActiveModel {
                id: Set(person),
                nik: Set(format!("9{i:015}")),
                kk_number: Set(format!("8{i:015}")),
                is_head_of_family: Set(false),
                full_name: Set(format!("Penerima {i}")),
                birth_date: Set(day(i)),
                sex: Set(if i % 2 == 0 { "FEMALE" } else { "MALE" }.to_owned()),
                phone: Set(None),
                address: Set(Some(format!("Jalan Uji {i}"))),
                regency_code: Set(regency.clone()),
                district_code: Set(district.clone()),
                village_code: Set(None),
                decile: Set(rng.random_range(1..=5)),
                decile_source: Set("DTSEN".to_owned()),
                decile_assessed_on: Set(day(i)),
                status: Set("ACTIVE".to_owned()),
                status_reason: Set(None),
                is_demo: Set(true),
                version: Set(1),
                created_by_agency: Set("DINSOS".to_owned()),
                created_by_client: Set("bench".to_owned()),
                created_at: Set(at),
                updated_at: Set(at),
            });
            firms.push(business::ActiveModel {
                id: Set(firm),
                beneficiary_id: Set(person),
                regency_code: Set(regency.clone()),
                name: Set(format!("Warung {i}")),
                sector: Set("FOOD".to_owned()),
                previously_stopped: Set(i % 3 == 0),
                stop_cause: Set(None),
                nib: Set(None),
                monthly_revenue: Set(Some(rng.random_range(500_000..5_000_000))),
                workers: Set(0),
                lead_agency: Set("DINSOS".to_owned()),
                started_on: Set(Some(day(i))),
                status: Set("RUNNING".to_owned()),
                status_reason: Set(None),
                status_changed_on: Set(Some(day(i))),
                closure_proposed_by_visit: Set(None),
                closure_proposed_on: Set(None),
                level: Set(0),
                volunteer_id: Set(None),
                graduated_on: Set(None),
                version: Set(1),
                created_by_agency: Set("DINSOS".to_owned()),
                created_by_client: Set("bench".to_owned()),
                created_at: Set(at),
                updated_at: Set(at),
            });
            packages.push(assistance::ActiveModel {
                id: Set(Uuid::now_v7()),
                beneficiary_id: Set(person),
                regency_code: Set(regency.clone()),
                programme: Set("BUSINESS_STARTER_PACKAGE".to_owned()),
                amount: Set(2_500_000),
                items: Set(Some("Etalase, kompor, peralatan masak".to_owned())),
                period_start: Set(day(i % 300)),
                period_end: Set(None),
                fund_source: Set("APBD".to_owned()),
                disbursed_on: Set(Some(day(i % 300))),
                decile: Set(1),
                decile_source: Set("DTSEN".to_owned()),
                decile_assessed_on: Set(day(i % 300)),
                status: Set("DISBURSED".to_owned()),
                status_reason: Set(None),
                version: Set(1),
                created_by_agency: Set("DINSOS".to_owned()),
                created_by_client: Set("bench".to_owned()),
                created_at: Set(at),
                updated_at: Set(at),
                business_id: Set(Some(firm)),
                interest: Set(Some("Warung makan".to_owned())),
                requested_goods: Set(Some("Etalase dan kompor".to_owned())),
                price_assessment: Set(Some(2_500_000)),
                price_assessed_on: Set(Some(day(i % 300))),
            });
            for k in 0..2u64 {
                loans.push(loan_application::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    business_id: Set(firm),
                    beneficiary_id: Set(person),
                    regency_code: Set(regency.clone()),
                    product: Set("COOPERATIVE".to_owned()),
                    lender: Set("Koperasi Uji".to_owned()),
                    requested_amount: Set(1_000_000 + 500_000 * k as i64),
                    approved_amount: Set(None),
                    tenor_months: Set(12),
                    has_collateral: Set(false),
                    decision_reason: Set(None),
                    status: Set("SUBMITTED".to_owned()),
                    status_reason: Set(None),
                    version: Set(1),
                    created_by_agency: Set("DISPERINDAGKOP".to_owned()),
                    created_by_client: Set("bench".to_owned()),
                    created_at: Set(at),
                    updated_at: Set(at),
                });
                visits.push(monitoring_visit::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    business_id: Set(firm),
                    beneficiary_id: Set(person),
                    regency_code: Set(regency.clone()),
                    volunteer_name: Set("Relawan Uji".to_owned()),
                    visited_on: Set(day(i + 30 * (k + 1))),
                    observed_status: Set("RUNNING".to_owned()),
                    revenue_estimate: Set(Some(2_000_000)),
                    obstacles: Set("[]".to_owned()),
                    notes: Set(None),
                    follow_up_needed: Set(false),
                    version: Set(1),
                    created_by_agency: Set("RELAWAN".to_owned()),
                    created_by_client: Set("bench".to_owned()),
                    created_at: Set(at),
                    updated_at: Set(at),
                });
            }
            referrals.push(referral::ActiveModel {
                id: Set(Uuid::now_v7()),
                beneficiary_id: Set(person),
                business_id: Set(Some(firm)),
                regency_code: Set(regency.clone()),
                from_agency: Set("DINSOS".to_owned()),
                to_agency: Set("DISPERINDAGKOP".to_owned()),
                service: Set("CAPITAL_ACCESS".to_owned()),
                reason: Set("Modal usaha".to_owned()),
                due_by: Set(Some(day(i + 60))),
                outcome_type: Set(None),
                outcome_id: Set(None),
                response_note: Set(None),
                status: Set("OPEN".to_owned()),
                status_reason: Set(None),
                version: Set(1),
                created_by_agency: Set("DINSOS".to_owned()),
                created_by_client: Set("bench".to_owned()),
                created_at: Set(at),
                updated_at: Set(at),
                resent_from: Set(None),
                visit_id: Set(None),
            });
        }
        beneficiary::Entity::insert_many(people).exec(db).await?;
        business::Entity::insert_many(firms).exec(db).await?;
        assistance::Entity::insert_many(packages).exec(db).await?;
        loan_application::Entity::insert_many(loans).exec(db).await?;
        monitoring_visit::Entity::insert_many(visits).exec(db).await?;
        referral::Entity::insert_many(referrals).exec(db).await?;
        done += n;
        if done % 100_000 == 0 {
            eprintln!("  {done} / {size}");
        }
    }
    if backend == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok(())
}
