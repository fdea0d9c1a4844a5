//! The shared test harness: a fresh database per test (SQLite file in a temp dir, or a new
//! PostgreSQL database when `TEST_DATABASE_URL` is set), the real router on `127.0.0.1:0`,
//! and a client with a token maker.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Once,
        atomic::{AtomicU32, Ordering},
    },
};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use sinergi_api::{
    AppState, Metrics,
    auth::{TokenKeys, TokenRequest, parse_scopes},
    config::Secret,
    limits::Limits,
    policy::Policy,
    regions::Regions,
    rules::Rules,
    webhooks::WebhookSettings,
};
pub use strum_free::all_scopes;
use tokio::sync::oneshot;

mod strum_free {
    use sinergi_api::auth::{Scope, parse_scopes};

    /// Every scope, spelled out so a new scope shows up here on purpose.
    pub fn all_scopes() -> std::collections::BTreeSet<Scope> {
        parse_scopes(
            "beneficiary:read beneficiary:write assistance:read assistance:write business:read \
             business:write training:read training:write infrastructure:read infrastructure:write \
             loan:read loan:write referral:read referral:write monitoring:read monitoring:write \
             pii:read events:subscribe stats:read admin",
        )
        .unwrap_or_default()
    }
}

/// A token for DINSOS's API client `client` with `scopes` over the whole province, signed as a
/// `sinergi` process started with `SINERGI_JWT_SECRET=secret` (and the default kid, issuer and
/// audience) verifies it.
pub fn binary_token(secret: &str, client: &str, scopes: &str) -> String {
    binary_token_for(secret, "DINSOS", client, scopes, &["64"], None)
}

/// Like [`binary_token`], for `agency` over `regions`.
pub fn binary_token_for(
    secret: &str,
    agency: &str,
    client: &str,
    scopes: &str,
    regions: &[&str],
    volunteer: Option<uuid::Uuid>,
) -> String {
    let keys = TokenKeys::hs256(&Secret::new(secret), "dev-1", "sinergi", "sinergi-api").expect("keys");
    let request = TokenRequest {
        agency: agency.into(),
        client: client.into(),
        scopes: parse_scopes(scopes).expect("scopes"),
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        ttl: chrono::Duration::hours(1),
        volunteer,
    };
    keys.issue(&request).expect("token").0
}

pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-signing";

/// A running gateway on its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The database the gateway serves.
    pub url: String,
    pub client: reqwest::Client,
    pub keys: TokenKeys,
    pub db: DatabaseConnection,
    /// The read pool queries use (the same pool as `db` on PostgreSQL).
    pub reader: DatabaseConnection,
    serial: AtomicU32,
    /// The programme year of the next starter package `disbursed_package` grants (from 2001).
    package_years: AtomicU32,
    _dir: Option<tempfile::TempDir>,
    _shutdown: oneshot::Sender<()>,
}

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt().with_env_filter("info,sqlx=warn").try_init();
        }
    });
}

/// Whether the suite runs on PostgreSQL (`TEST_DATABASE_URL`).
pub fn postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"))
}

/// A fresh database URL: a new PostgreSQL database, or a SQLite file in a temp dir.
pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let name = format!("sinergi_test_{}", uuid::Uuid::now_v7().simple());
            let admin = Database::connect(&base).await.expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            drop_stale_databases(&admin).await;
            admin.close().await.ok();
            let (prefix, _) = base.rsplit_once('/').expect("TEST_DATABASE_URL has a database path");
            (format!("{prefix}/{name}"), None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("sinergi.db").display());
            (url, Some(dir))
        }
    }
}

/// Drops, once per test process, the test databases earlier runs left behind (their names
/// carry a v7 UUID, whose first 48 bits are the creation time in milliseconds): those more than
/// an hour old, so that a run beside this one keeps its own.
async fn drop_stale_databases(admin: &DatabaseConnection) {
    static ONCE: Once = Once::new();
    let mut first = false;
    ONCE.call_once(|| first = true);
    if !first {
        return;
    }
    let Ok(rows) = admin
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'sinergi\\_test\\_%'",
        ))
        .await
    else {
        return;
    };
    let hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else { continue };
        let created = name.get(13..25).and_then(|hex| i64::from_str_radix(hex, 16).ok());
        if created.is_some_and(|ms| ms < hour_ago) {
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.ok();
        }
    }
}

/// Writes `folder/policy.toml`: the default policy with `extra` appended (TOML); returns its path
/// as `SINERGI_POLICY` takes it.
pub fn policy_file(folder: &std::path::Path, extra: &str) -> String {
    let path = folder.join("policy.toml");
    std::fs::write(&path, format!("{}\n{extra}", sinergi_api::policy::DEFAULT_POLICY)).expect("policy");
    path.display().to_string()
}

/// Starts the real server on an ephemeral port over a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn(Setup::default()).await
}

/// Like `spawn_app`, with programme rules of the test's choosing.
/// Rules whose graduation ladder every business meets (one level: no workers needed), for
/// tests about something else than graduation.
pub fn open_ladder() -> Rules {
    let level = sinergi_api::rules::Level {
        name: "Terbuka".into(),
        criteria: vec![sinergi_api::rules::Criterion::WorkersAtLeast { workers: 0 }],
    };
    Rules { graduation: vec![level], ..Rules::default() }
}

pub async fn spawn_app_with(rules: Rules) -> TestApp {
    spawn(Setup { rules, ..Setup::default() }).await
}

/// Webhook settings for tests: loopback receivers allowed, quick retries.
pub fn test_webhooks() -> WebhookSettings {
    WebhookSettings {
        allow_private_targets: true,
        timeout: std::time::Duration::from_secs(2),
        max_failures: 4,
        retry_base: std::time::Duration::from_millis(50),
        ..WebhookSettings::default()
    }
}

/// Like `spawn_app`, with webhook settings of the test's choosing.
pub async fn spawn_app_with_webhooks(webhooks: WebhookSettings) -> TestApp {
    spawn(Setup { webhooks, ..Setup::default() }).await
}

/// Like `spawn_app`, signing and verifying with `keys`.
pub async fn spawn_app_with_keys(keys: TokenKeys) -> TestApp {
    spawn(Setup { keys, ..Setup::default() }).await
}

/// Like `spawn_app`, with request limits of the test's choosing.
pub async fn spawn_app_with_limits(limits: Limits) -> TestApp {
    spawn(Setup { limits, ..Setup::default() }).await
}

/// What a test gateway runs with.
pub struct Setup {
    pub rules: Rules,
    pub keys: TokenKeys,
    pub webhooks: WebhookSettings,
    pub limits: Limits,
    pub http: sinergi_api::http::HttpSettings,
    pub policy: Policy,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            rules: Rules::default(),
            keys: TokenKeys::hs256(&Secret::new(TEST_SECRET), "test-1", "sinergi", "sinergi-api")
                .expect("keys"),
            webhooks: test_webhooks(),
            limits: Limits::default(),
            http: sinergi_api::http::HttpSettings::default(),
            policy: Policy::default_policy(),
        }
    }
}

/// Starts a gateway as `setup` says.
pub async fn spawn(setup: Setup) -> TestApp {
    let (url, dir) = fresh_database().await;
    spawn_on(url, dir, setup).await
}

/// Starts a second gateway (a replica) on `app`'s database.
pub async fn spawn_beside(app: &TestApp, setup: Setup) -> TestApp {
    spawn_on(app.url.clone(), None, setup).await
}

async fn spawn_on(url: String, dir: Option<tempfile::TempDir>, setup: Setup) -> TestApp {
    init_logs();
    let metrics = Arc::new(Metrics::default());
    let db = sinergi_api::connect_with(&url, metrics.clone(), setup.limits.statement_timeout)
        .await
        .expect("connect");
    sinergi_api::prepare(&db, &Regions::load(), &setup.policy).await.expect("migrate");
    let reader = sinergi_api::connect_reader(&url, &db, 4, metrics.clone()).await.expect("readers");
    let keys = setup.keys;
    let mut state: AppState =
        sinergi_api::app_state(db.clone(), keys.clone(), setup.policy, setup.rules, metrics.clone());
    state.webhooks = setup.webhooks;
    state.reader = reader.clone();
    state.limits = Arc::new(setup.limits);
    state.http = setup.http;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        sinergi_api::serve(listener, state, async {
            let _ = rx.await;
        })
        .await
        .expect("serve");
    });
    TestApp {
        addr,
        url,
        client: reqwest::Client::new(),
        keys,
        db,
        reader,
        serial: AtomicU32::new(1),
        package_years: AtomicU32::new(0),
        _dir: dir,
        _shutdown: tx,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A token for `agency` with the given space-separated scopes and regions.
    /// A one-hour token of `agency`'s API client `client` with `scopes`, whole province.
    pub fn client_token(&self, agency: &str, client: &str, scopes: &str) -> String {
        self.token_with(TokenRequest {
            agency: agency.into(),
            client: client.into(),
            scopes: parse_scopes(scopes).expect("scopes"),
            regions: vec!["64".into()],
            ttl: chrono::Duration::hours(1),
            volunteer: None,
        })
    }

    pub fn token(&self, agency: &str, scopes: &str, regions: &[&str]) -> String {
        let scopes = if scopes == "all" { all_scopes() } else { parse_scopes(scopes).expect("scopes") };
        self.token_with(TokenRequest {
            agency: agency.into(),
            client: format!("{}-test", agency.to_lowercase()),
            scopes,
            regions: regions.iter().map(|r| r.to_string()).collect(),
            ttl: chrono::Duration::hours(1),
            volunteer: None,
        })
    }

    /// A RELAWAN token of `volunteer` (field app), whole province.
    pub fn volunteer_token(&self, volunteer: &str) -> String {
        self.token_with(TokenRequest {
            agency: "RELAWAN".into(),
            client: "lapangan-test".into(),
            scopes: parse_scopes("beneficiary:read business:read monitoring:read monitoring:write pii:read")
                .expect("scopes"),
            regions: vec!["64".into()],
            ttl: chrono::Duration::hours(1),
            volunteer: Some(volunteer.parse().expect("volunteer id")),
        })
    }

    pub fn token_with(&self, request: TokenRequest) -> String {
        self.keys.issue(&request).expect("issue").0
    }

    /// DISPERINDAGKOP's loan officer system, whole province.
    pub fn koperasi(&self) -> String {
        self.token("DISPERINDAGKOP", "loan:read loan:write business:read business:write", &["64"])
    }

    /// DINSOS with every scope over the whole province (beyond its policy grant, for set-up).
    pub fn admin(&self) -> String {
        self.token("DINSOS", "all", &["64"])
    }

    /// Posts a GraphQL request and returns the HTTP status and the JSON body.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut request =
            self.client.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    /// Posts a named operation with extra headers and returns the JSON body.
    pub async fn gql_with(
        &self,
        token: &str,
        operation: &str,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "operationName": operation }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request").json().await.expect("json body")
    }

    /// Posts a GraphQL request and returns the JSON body.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.post(Some(token), query, variables).await.1
    }

    /// SQL statements the server has sent so far (from `/metrics`).
    pub async fn statements(&self) -> u64 {
        let text =
            self.client.get(self.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
        text.lines()
            .find_map(|l| l.strip_prefix("sinergi_sql_statements_total "))
            .and_then(|n| n.trim().parse().ok())
            .expect("statement counter")
    }

    /// A fresh valid NIK (male, born 15 Feb 1990 in Palaran, Samarinda) and KK number.
    pub fn identity(&self) -> (String, String) {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        (format!("647201150290{n:04}"), format!("647201010115{n:04}"))
    }

    /// Creates a beneficiary in Samarinda with `decile`, returning its id.
    pub async fn beneficiary(&self, decile: i32) -> String {
        let (nik, kk) = self.identity();
        let body = self
            .gql(&self.admin(), CREATE_BENEFICIARY, json!({ "input": beneficiary_input(&nik, &kk, decile) }))
            .await;
        body["data"]["createBeneficiary"]["beneficiary"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("beneficiary not created: {body}"))
            .to_owned()
    }

    /// Creates a PROPOSED business `name` of `sector` for `beneficiary`, returning its id.
    pub async fn business(&self, beneficiary: &str, name: &str, sector: &str) -> String {
        let input = json!({ "input": { "beneficiaryId": beneficiary, "name": name, "sector": sector } });
        let body = self.gql(&self.admin(), CREATE_BUSINESS, input).await;
        body["data"]["createBusiness"]["business"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("business not created: {body}"))
            .to_owned()
    }

    /// Creates a business for `beneficiary` and moves it to EQUIPPED (version 3).
    pub async fn equipped_business(&self, beneficiary: &str) -> String {
        let token = self.admin();
        let body = self
            .gql(
                &token,
                CREATE_BUSINESS,
                json!({ "input": { "beneficiaryId": beneficiary, "name": "Warung Uji", "sector": "FOOD" } }),
            )
            .await;
        let id = body["data"]["createBusiness"]["business"]["id"].as_str().expect("business").to_owned();
        self.disbursed_package(beneficiary, &id).await;
        for (version, mutation) in [(1, "approveBusiness"), (2, "equipBusiness")] {
            let q = format!(
                "mutation($i: StatusChangeInput!) {{ {mutation}(input: $i) {{ business {{ status }} userErrors {{ code }} }} }}"
            );
            let r = self.gql(&token, &q, json!({ "i": { "id": id, "expectedVersion": version } })).await;
            assert!(r["data"][mutation]["userErrors"].as_array().is_some_and(|e| e.is_empty()), "{r}");
        }
        id
    }

    /// Grants `beneficiary` a starter package for `business` and disburses it. Each call takes a
    /// programme year of its own (2001, 2002, …), so that one person's several businesses can
    /// each have one (one package per person per year).
    pub async fn disbursed_package(&self, beneficiary: &str, business: &str) {
        let token = self.admin();
        let year = 2001 + self.package_years.fetch_add(1, Ordering::Relaxed) % 99;
        let start = format!("{year}-01-01");
        let body = self
            .gql(
                &token,
                CREATE_ASSISTANCE,
                json!({ "i": package_input(beneficiary, Some(business), &start) }),
            )
            .await;
        let package = body["data"]["createAssistance"]["assistance"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("package not granted: {body}"))
            .to_owned();
        let disburse = "mutation($i: DisburseAssistanceInput!) { disburseAssistance(input: $i) { assistance { status } } }";
        let body = self.gql(&token, disburse, json!({ "i": { "id": package, "expectedVersion": 1 } })).await;
        assert_eq!(body["data"]["disburseAssistance"]["assistance"]["status"], "DISBURSED", "{body}");
    }

    /// Creates a business for `beneficiary` and moves it to RUNNING, started on `started_on`.
    pub async fn running_business(&self, beneficiary: &str, started_on: &str) -> String {
        let token = self.admin();
        let id = self.equipped_business(beneficiary).await;
        let r = self
            .gql(
                &token,
                "mutation($i: StartBusinessInput!) { startBusiness(input: $i) { business { status } userErrors { code } } }",
                json!({ "i": { "id": id, "expectedVersion": 3, "startedOn": started_on } }),
            )
            .await;
        assert_eq!(r["data"]["startBusiness"]["business"]["status"], "RUNNING", "{r}");
        id
    }

    /// How many case events are stored.
    pub async fn event_count(&self) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM case_event",
            ))
            .await
            .expect("count")
            .expect("row");
        row.try_get::<i64>("", "n").expect("n")
    }
}

/// The first user error's code in a mutation payload.
pub fn user_error(body: &Value, mutation: &str) -> Option<String> {
    body["data"][mutation]["userErrors"][0]["code"].as_str().map(str::to_owned)
}

/// The first top-level error's code.
pub fn error_code(body: &Value) -> Option<String> {
    body["errors"][0]["extensions"]["code"].as_str().map(str::to_owned)
}

pub fn beneficiary_input(nik: &str, kk: &str, decile: i32) -> Value {
    json!({
        "nik": nik,
        "kkNumber": kk,
        "isHeadOfFamily": true,
        "fullName": "Budi Santoso",
        "birthDate": "1990-02-15",
        "sex": "MALE",
        "phone": "081234567890",
        "address": "Jl. Pahlawan No. 1",
        "regencyCode": "6472",
        "districtCode": "647201",
        "decile": decile,
        "decileSource": "DTSEN",
        "decileAssessedOn": recent_assessment()
    })
}

/// The as-of date of the test beneficiaries' deciles: a month ago, so that it stays current
/// (starter packages need an assessment at most 24 months old) whenever the tests run.
pub fn recent_assessment() -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(30)).to_string()
}

/// A starter package's input for `person` (for `business` when given), its period starting on
/// `start`.
pub fn package_input(person: &str, business: Option<&str>, start: &str) -> Value {
    json!({
        "beneficiaryId": person, "businessId": business, "programme": "BUSINESS_STARTER_PACKAGE",
        "amount": 4750000, "items": "Kompor, wajan, etalase", "periodStart": start,
        "fundSource": "APBD Provinsi", "interest": "Warung makan", "requestedGoods": "Kompor dan wajan",
        "priceAssessment": 4800000,
    })
}

pub const CREATE_ASSISTANCE: &str = "mutation($i: CreateAssistanceInput!) { createAssistance(input: $i) { \
    assistance { id version decileAtDecision decileSourceAtDecision } userErrors { code field message } } }";

pub const CREATE_BENEFICIARY: &str = "mutation($input: CreateBeneficiaryInput!) {
  createBeneficiary(input: $input) {
    beneficiary { id nik version status }
    userErrors { field code message }
    warnings { field message }
  }
}";

pub const CREATE_BUSINESS: &str = "mutation($input: CreateBusinessInput!) {
  createBusiness(input: $input) { business { id status version } userErrors { field code message } }
}";

/// The built `sinergi` binary (`cargo build -p sinergi-api`; `.ci/run` builds it).
pub fn sinergi_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target dir");
    let bin = dir.join(if cfg!(windows) { "sinergi.exe" } else { "sinergi" });
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p sinergi-api` first (.ci/run does)",
        bin.display()
    );
    bin
}

/// A `sinergi serve` process on a loopback port, killed when dropped.
pub struct Process {
    pub child: std::process::Child,
    pub addr: SocketAddr,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the built binary's `serve` on an ephemeral loopback port with `env` (and a quiet log,
/// unless `TEST_LOG` is set), once it prints its address.
pub fn start_gateway(env: &[(&str, &str)]) -> Process {
    use std::io::{BufRead, BufReader};
    let mut command = std::process::Command::new(sinergi_binary());
    // Away from the repository: a developer's `.env` there must not reach the test.
    command.current_dir(std::env::temp_dir()).env("SINERGI_LISTEN", "127.0.0.1:0").env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(if std::env::var_os("TEST_LOG").is_some() {
            std::process::Stdio::inherit()
        } else {
            std::process::Stdio::null()
        })
        .spawn()
        .expect("start sinergi");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("listening on http://"))
        .expect("the gateway prints its address");
    // Keep reading so the gateway never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let addr = line.rsplit("http://").next().and_then(|a| a.trim().parse().ok()).expect("an address");
    Process { child, addr }
}
