//! Production switches at the HTTP boundary — GraphiQL off, CORS only for the configured
//! origins, security headers — and, with the built binary, what `serve` refuses in production,
//! `sinergi config check`, `.env` and the data directory.

use serde_json::{Value, json};
use sinergi_api::http::{HttpSettings, Origins};

use crate::helpers::{Setup, TestApp, spawn, spawn_app};

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type, x-purpose")
        .send()
        .await
        .expect("preflight")
}

fn allowed_origin(response: &reqwest::Response) -> Option<String> {
    response.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[tokio::test]
async fn development_serves_graphiql_and_lets_localhost_pages_call() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/graphql")).send().await.expect("get");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("graphiql"));
    // Offline: everything the page loads comes from the gateway itself.
    let loads: Vec<&str> =
        html.split(['"', '\'']).filter(|part| part.ends_with(".js") || part.ends_with(".css")).collect();
    assert_eq!(loads.len(), 4, "{html}");
    for asset in loads {
        assert!(asset.starts_with("/graphiql/"), "a same-origin path, not a CDN: {asset}");
        let response = app.client.get(app.url(asset)).send().await.expect("asset");
        assert_eq!(response.status().as_u16(), 200, "{asset}");
        let media =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(
            media.starts_with(if asset.ends_with(".js") { "text/javascript" } else { "text/css" }),
            "{media}"
        );
        assert!(response.bytes().await.expect("bytes").len() > 10_000, "{asset}");
    }
    assert!(!html.contains("unpkg") && !html.contains("https://"), "no CDN: {html}");
    for origin in ["http://localhost:5173", "http://127.0.0.1:8080", "http://localhost"] {
        let response = preflight(&app, origin).await;
        assert_eq!(allowed_origin(&response).as_deref(), Some(origin), "{origin}");
        let headers = response.headers().get("access-control-allow-headers").and_then(|v| v.to_str().ok());
        assert!(
            headers.is_some_and(|h| h.contains("authorization") && h.contains("x-purpose")),
            "{headers:?}"
        );
    }
    for origin in ["https://evil.example", "http://localhost.evil.example", "http://localhost:99999"] {
        assert_eq!(allowed_origin(&preflight(&app, origin).await), None, "{origin}");
    }
}

#[tokio::test]
async fn production_serves_no_graphiql_and_only_the_configured_origins() {
    let http = HttpSettings {
        graphiql: false,
        origins: Origins::List(vec!["https://dasbor.kaltimprov.go.id".into()]),
        metrics: false,
    };
    let app = spawn(Setup { http, ..Setup::default() }).await;
    let page = app.client.get(app.url("/graphql")).send().await.expect("get");
    assert_eq!(page.status().as_u16(), 404);
    let body: Value = page.json().await.expect("json");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("SINERGI_GRAPHIQL")), "{body}");
    let metrics = app.client.get(app.url("/metrics")).send().await.expect("metrics");
    assert_eq!(metrics.status().as_u16(), 404, "metrics face no public listener in production");
    let asset = app.client.get(app.url("/graphiql/3.9.0/graphiql.min.js")).send().await.expect("asset");
    assert_eq!(asset.status().as_u16(), 404, "GraphiQL's assets go with it");
    let allowed = preflight(&app, "https://dasbor.kaltimprov.go.id").await;
    assert_eq!(allowed_origin(&allowed).as_deref(), Some("https://dasbor.kaltimprov.go.id"));
    assert_eq!(
        allowed_origin(&preflight(&app, "http://localhost:5173").await),
        None,
        "no localhost in production"
    );
    // A real request from the allowed origin may read the request id.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Origin", "https://dasbor.kaltimprov.go.id")
        .bearer_auth(app.admin())
        .json(&json!({ "query": "{ me { agency } }" }))
        .send()
        .await
        .expect("post");
    let exposed = response.headers().get("access-control-expose-headers").and_then(|v| v.to_str().ok());
    assert!(exposed.is_some_and(|h| h.to_ascii_lowercase().contains("x-request-id")), "{exposed:?}");
}

#[tokio::test]
async fn every_api_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let answered = app.client.post(app.url("/graphql")).bearer_auth(app.admin());
    let answered = answered.json(&json!({ "query": "{ me { agency } }" })).send().await.expect("post");
    let refused = app.client.post(app.url("/graphql")).json(&json!({ "query": "{ me { agency } }" })).send();
    let refused = refused.await.expect("post");
    for response in [answered, refused] {
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
        assert_eq!(header("cache-control").as_deref(), Some("no-store"), "personal data is never cached");
        assert_eq!(
            header("content-security-policy").as_deref(),
            Some("default-src 'none'; frame-ancestors 'none'")
        );
    }
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary: cargo build -p sinergi-api && cargo test --test api production -- --ignored"]
async fn production_refuses_a_development_setup_and_config_check_says_why() {
    let dir = tempfile::tempdir().expect("dir");
    let sinergi = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(crate::helpers::sinergi_binary());
        command.current_dir(dir.path()).env("RUST_LOG", "warn").env("SINERGI_LISTEN", "127.0.0.1:0");
        for variable in
            ["DATABASE_URL", "SINERGI_ENV", "SINERGI_DATA_DIR", "SINERGI_JWT_SECRET", "SINERGI_KEYS_DIR"]
        {
            command.env_remove(variable);
        }
        command.args(args).envs(env.iter().copied()).output().expect("run sinergi")
    };
    // Production on SQLite with a shared secret and demo data: refused, every reason named.
    let env = [
        ("SINERGI_ENV", "production"),
        ("SINERGI_JWT_SECRET", "x".repeat(40).leak() as &str),
        ("SINERGI_DEMO_DATA", "true"),
    ];
    let serve = sinergi(&["serve"], &env);
    assert_eq!(serve.status.code(), Some(1));
    let said = String::from_utf8_lossy(&serve.stderr);
    for reason in ["refusing to start in production", "SINERGI_DEMO_DATA", "SINERGI_JWT_SECRET", "PostgreSQL"]
    {
        assert!(said.contains(reason), "{reason}: {said}");
    }
    let check = sinergi(&["config", "check"], &env);
    assert_eq!(check.status.code(), Some(1));
    let settings = String::from_utf8_lossy(&check.stdout);
    assert!(settings.contains("environment        production"), "{settings}");
    assert!(!settings.contains(&"x".repeat(40)), "the secret is never printed");
    assert!(String::from_utf8_lossy(&check.stderr).contains("problem: SINERGI_DEMO_DATA"));

    // Development: OK; the embedded database lives in the data directory; .env is read.
    let ok = sinergi(&["config", "check"], &[("SINERGI_DATA_DIR", "store")]);
    assert!(ok.status.success(), "{ok:?}");
    let settings = String::from_utf8_lossy(&ok.stdout);
    assert!(settings.contains("store/sinergi.db") && settings.contains("configuration OK"), "{settings}");
    assert!(sinergi(&["migrate"], &[("SINERGI_DATA_DIR", "store")]).status.success());
    assert!(dir.path().join("store/sinergi.db").exists(), "SINERGI_DATA_DIR holds the embedded database");
    std::fs::write(
        dir.path().join(".env"),
        "SINERGI_ENV=production\nSINERGI_CORS_ORIGINS=https://a.example\n",
    )
    .expect("write .env");
    let from_file = sinergi(&["config", "check"], &[]);
    let settings = String::from_utf8_lossy(&from_file.stdout);
    assert!(
        settings.contains("environment        production") && settings.contains("https://a.example"),
        "{settings}"
    );
    let flag_wins = sinergi(&["--env", "development", "config", "check"], &[]);
    assert!(String::from_utf8_lossy(&flag_wins.stdout).contains("environment        development"));
    assert!(settings.contains("metrics            not served (set SINERGI_METRICS_LISTEN)"), "{settings}");
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary: cargo build -p sinergi-api && cargo test --test api production -- --ignored"]
async fn metrics_move_to_their_own_address() {
    let (url, _dir) = crate::helpers::fresh_database().await;
    // A free port for the metrics (taken back just before the gateway binds it).
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let metrics_at = format!("127.0.0.1:{port}");
    let gateway = crate::helpers::start_gateway(&[
        ("DATABASE_URL", url.as_str()),
        ("SINERGI_DEMO_DATA", "false"),
        ("SINERGI_METRICS_LISTEN", metrics_at.as_str()),
    ]);
    let client = reqwest::Client::new();
    let public = client.get(format!("http://{}/metrics", gateway.addr)).send().await.expect("public");
    assert_eq!(public.status().as_u16(), 404, "not on the API's address");
    let own = client.get(format!("http://{metrics_at}/metrics")).send().await.expect("metrics");
    assert_eq!(own.status().as_u16(), 200);
    let text = own.text().await.expect("text");
    assert!(
        text.contains("sinergi_http_responses_total{method=\"GET\",route=\"/metrics\",status=\"404\"} 1"),
        "{text}"
    );
    let graphql = client.get(format!("http://{metrics_at}/graphql")).send().await.expect("graphql");
    assert_eq!(graphql.status().as_u16(), 404, "the metrics address serves nothing else");
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary: cargo build -p sinergi-api && cargo test --test api production -- --ignored"]
async fn json_logs_name_the_request_and_operation_and_never_the_token() {
    use std::io::{BufRead, BufReader, Read};
    let (url, _dir) = crate::helpers::fresh_database().await;
    let secret = "a-shared-secret-of-at-least-thirty-two-bytes";
    let mut child = std::process::Command::new(crate::helpers::sinergi_binary())
        .current_dir(std::env::temp_dir())
        .envs([
            ("DATABASE_URL", url.as_str()),
            ("SINERGI_DEMO_DATA", "false"),
            ("SINERGI_LISTEN", "127.0.0.1:0"),
            ("SINERGI_JWT_SECRET", secret),
            ("SINERGI_LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start sinergi");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line =
        lines.by_ref().map_while(Result::ok).find(|l| l.contains("listening on http://")).expect("address");
    std::thread::spawn(move || lines.for_each(drop));
    let addr = line.rsplit("http://").next().map(str::trim).expect("addr").to_owned();
    let token = crate::helpers::binary_token(secret, "portal", "beneficiary:read");
    let client = reqwest::Client::new();
    let response = client
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(&token)
        .header("x-request-id", "req-json-1")
        .json(&json!({ "query": "query Me { me { agency } }" }))
        .send()
        .await
        .expect("post");
    assert_eq!(response.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("req-json-1"));
    // Stop it, then read everything it logged.
    let _ = child.kill();
    let mut logged = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut logged).expect("read");
    let _ = child.wait();
    let entries: Vec<Value> =
        logged.lines().map(|l| serde_json::from_str(l).expect("every line is JSON")).collect();
    let operation = entries
        .iter()
        .find(|e| e["fields"]["message"] == "operation" && e["fields"]["request_id"] == "req-json-1")
        .unwrap_or_else(|| panic!("an access-log line for the request: {logged}"));
    assert_eq!(operation["fields"]["operation"], "Me", "{operation}");
    assert_eq!(operation["fields"]["agency"], "DINSOS");
    assert_eq!(operation["fields"]["client"], "portal");
    assert_eq!(operation["fields"]["outcome"], "ok");
    assert!(operation["fields"]["duration_ms"].as_f64().is_some(), "{operation}");
    assert_eq!(operation["level"], "INFO");
    assert!(!logged.contains(&token) && !logged.contains(secret), "no token or secret in the log");
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary: cargo build -p sinergi-api && cargo test --test api production -- --ignored"]
async fn sigterm_drains_then_ends_subscriptions_with_their_last_sequence_and_exits() {
    use crate::subscriptions::{EVENTS, WsClient, init};
    let (url, _dir) = crate::helpers::fresh_database().await;
    let secret = "a-shared-secret-of-at-least-thirty-two-bytes";
    let mut gateway = crate::helpers::start_gateway(&[
        ("DATABASE_URL", url.as_str()),
        ("SINERGI_DEMO_DATA", "false"),
        ("SINERGI_JWT_SECRET", secret),
        ("SINERGI_SHUTDOWN_DELAY", "2s"),
        ("SINERGI_SHUTDOWN_TIMEOUT", "10s"),
    ]);
    let token = crate::helpers::binary_token(
        secret,
        "portal",
        "beneficiary:read beneficiary:write pii:read events:subscribe",
    );
    let base = format!("http://{}", gateway.addr);
    let client = reqwest::Client::new();
    let (nik, kk) = ("6472011502900001", "6472010101150001");
    let create = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .json(&json!({
            "query": crate::helpers::CREATE_BENEFICIARY,
            "variables": { "input": crate::helpers::beneficiary_input(nik, kk, 3) },
        }))
        .send()
        .await
        .expect("create");
    let created: Value = create.json().await.expect("json");
    assert!(created["data"]["createBeneficiary"]["beneficiary"]["id"].is_string(), "{created}");

    let mut ws = WsClient::connect_to(gateway.addr, "/graphql/ws", init(&token)).await.expect("connect");
    ws.subscribe("s", EVENTS, json!({ "after": "0" })).await;
    let first = ws.next("s").await;
    let mut sequence =
        first["payload"]["data"]["caseEvents"]["sequence"].as_str().expect("sequence").to_owned();
    // A live subscription (no `after`: a shared execution) on another socket, once it gets events.
    let mut live = WsClient::connect_to(gateway.addr, "/graphql/ws", init(&token)).await.expect("connect");
    live.subscribe("l", "subscription { caseEvents { sequence } }", json!({})).await;
    for n in 2.. {
        assert!(n < 40, "the live subscription did not start");
        let (nik, kk) = (format!("647201150290{n:04}"), format!("647201010115{n:04}"));
        let created = client
            .post(format!("{base}/graphql"))
            .bearer_auth(&token)
            .json(&json!({
                "query": crate::helpers::CREATE_BENEFICIARY,
                "variables": { "input": crate::helpers::beneficiary_input(&nik, &kk, 3) },
            }))
            .send()
            .await
            .expect("create");
        assert_eq!(created.status().as_u16(), 200);
        sequence = ws.next("s").await["payload"]["data"]["caseEvents"]["sequence"]
            .as_str()
            .expect("sequence")
            .to_owned();
        if let Some(mut event) = live.next_within("l", std::time::Duration::from_millis(300)).await {
            // Live now: it gets every later event (one that came late is an earlier one).
            while event["payload"]["data"]["caseEvents"]["sequence"] != sequence.as_str() {
                event = live.next("l").await;
            }
            break;
        }
    }

    let pid = gateway.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    // Draining: not ready, still serving.
    let mut ready = 200;
    for _ in 0..20 {
        ready = client.get(format!("{base}/readyz")).send().await.expect("readyz").status().as_u16();
        if ready == 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(ready, 503, "/readyz fails first");
    let me = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { agency } }" }))
        .send()
        .await
        .expect("served while draining");
    assert_eq!(me.status().as_u16(), 200);

    // Then the subscription ends with its last sequence, and the socket closes with 1012.
    let ended = ws.next("s").await;
    assert_eq!(ended["type"], "next", "{ended}");
    let error = &ended["payload"]["errors"][0];
    assert_eq!(error["extensions"]["code"], "UNAVAILABLE", "{ended}");
    assert_eq!(error["extensions"]["lastSequence"], sequence.as_str(), "{ended}");
    assert_eq!(ws.next("s").await["type"], "complete");
    assert_eq!(ws.closed().await, 1012);
    let ended = live.next("l").await;
    let error = &ended["payload"]["errors"][0];
    assert_eq!(error["extensions"]["code"], "UNAVAILABLE", "{ended}");
    assert_eq!(error["extensions"]["lastSequence"], sequence.as_str(), "the live one too: {ended}");
    assert_eq!(live.next("l").await["type"], "complete");
    assert_eq!(live.closed().await, 1012);

    // And the process exits, cleanly, within its bound.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = gateway.child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(12), "exits within the timeout");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(client.get(format!("{base}/healthz")).send().await.is_err(), "nothing listens any more");
}
