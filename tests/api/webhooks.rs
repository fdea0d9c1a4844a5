//! Webhooks against a real receiver on loopback: signed deliveries in order, retries with
//! backoff, automatic disabling, replay, and refused targets.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with_webhooks, user_error};

pub const SECRET: &str = "receiver-shared-secret-0001";

/// A webhook receiver that fails its first `fail_first` requests with HTTP 500.
#[derive(Clone)]
pub struct Receiver {
    received: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    fail_first: Arc<AtomicU32>,
    addr: SocketAddr,
}

impl Receiver {
    pub async fn start(fail_first: u32) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let receiver = Self {
            received: Arc::default(),
            fail_first: Arc::new(AtomicU32::new(fail_first)),
            addr: listener.local_addr().expect("addr"),
        };
        let app = Router::new().route("/hook", post(accept)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
        receiver
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The delivered events' sequences, once `count` have arrived (fails after 15 s).
    async fn sequences(&self, count: usize) -> Vec<i64> {
        self.sequences_within(count, Duration::from_secs(15)).await
    }

    /// Like `sequences`, waiting at most `limit`.
    pub async fn sequences_within(&self, count: usize, limit: Duration) -> Vec<i64> {
        let deadline = Instant::now() + limit;
        loop {
            let sequences: Vec<i64> = self
                .received
                .lock()
                .expect("lock")
                .iter()
                .map(|(_, body)| {
                    let body: Value = serde_json::from_str(body).expect("json");
                    body["event"]["sequence"].as_str().and_then(|s| s.parse().ok()).expect("sequence")
                })
                .collect();
            let distinct: std::collections::BTreeSet<i64> = sequences.iter().copied().collect();
            if distinct.len() >= count {
                return sequences;
            }
            assert!(Instant::now() < deadline, "only {} of {count} events arrived", distinct.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn accept(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let failing =
        receiver.fail_first.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    if failing {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    receiver.received.lock().expect("lock").push((headers, body));
    StatusCode::NO_CONTENT
}

const REGISTER: &str = "mutation($i: RegisterWebhookInput!) {
  registerWebhook(input: $i) { webhook { id status lastSequence } userErrors { field code message } }
}";

async fn register(app: &TestApp, url: &str, after: Option<&str>) -> String {
    let body = app
        .gql(&app.admin(), REGISTER, json!({ "i": { "url": url, "secret": SECRET, "after": after } }))
        .await;
    body["data"]["registerWebhook"]["webhook"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

/// The receiver's check, as documented for integrators.
fn verify(headers: &HeaderMap, body: &str) -> bool {
    let signature = headers.get("sinergi-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut t = None;
    let mut v1 = None;
    for part in signature.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = Some(value.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let fresh = (chrono::Utc::now().timestamp() - t).abs() < 300;
    fresh && sinergi_api::webhooks::signature(SECRET, t, body).is_ok_and(|s| s.ends_with(&format!("v1={v1}")))
}

#[tokio::test]
async fn deliveries_are_signed_and_in_sequence_order() {
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    register(&app, &receiver.url(), Some("0")).await;
    for decile in [1, 2, 3] {
        app.beneficiary(decile).await;
    }
    assert_eq!(receiver.sequences(3).await, vec![1, 2, 3]);
    let received = receiver.received.lock().expect("lock").clone();
    for (headers, body) in &received {
        assert!(verify(headers, body), "signature verifies: {headers:?}");
        assert!(!verify(headers, &body.replace("BENEFICIARY", "BUSINESS")), "a changed body does not");
    }
    let (headers, body) = &received[0];
    assert_eq!(headers.get("sinergi-event-sequence").and_then(|v| v.to_str().ok()), Some("1"));
    let body: Value = serde_json::from_str(body).expect("json");
    assert_eq!(body["event"]["entityType"], "BENEFICIARY");
    assert_eq!(body["event"]["action"], "CREATED");
}

#[tokio::test]
async fn a_receiver_that_fails_then_recovers_gets_every_event_in_order() {
    let app = spawn_app().await;
    let receiver = Receiver::start(3).await;
    let id = register(&app, &receiver.url(), Some("0")).await;
    for decile in [1, 2, 3] {
        app.beneficiary(decile).await;
    }
    assert_eq!(receiver.sequences(3).await, vec![1, 2, 3], "nothing lost, nothing out of order");
    let q = "query { webhooks { id consecutiveFailures deliveries(first: 10) { nodes { sequence attempt outcome responseStatus } } } }";
    let body = app.gql(&app.admin(), q, json!({})).await;
    let hook = &body["data"]["webhooks"][0];
    assert_eq!(hook["id"], id.as_str());
    assert_eq!(hook["consecutiveFailures"], 0);
    let log = hook["deliveries"]["nodes"].as_array().cloned().unwrap_or_default();
    let failed = log.iter().filter(|d| d["outcome"] == "FAILED" && d["responseStatus"] == 500).count();
    assert_eq!(failed, 3, "{body}");
    assert!(
        log.iter().any(|d| d["outcome"] == "DELIVERED" && d["sequence"] == "1" && d["attempt"] == 4),
        "{body}"
    );
}

#[tokio::test]
async fn a_webhook_is_disabled_after_a_run_of_failures_and_replay_resumes_it() {
    let app = spawn_app().await;
    let receiver = Receiver::start(4).await;
    let id = register(&app, &receiver.url(), Some("0")).await;
    app.beneficiary(2).await;
    let q = "query { webhooks { status disabledReason consecutiveFailures } }";
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let body = app.gql(&app.admin(), q, json!({})).await;
        if body["data"]["webhooks"][0]["status"] == "DISABLED" {
            assert!(
                body["data"]["webhooks"][0]["disabledReason"]
                    .as_str()
                    .is_some_and(|r| r.contains("4 failures"))
            );
            break;
        }
        assert!(Instant::now() < deadline, "not disabled: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let replay = "mutation($i: ReplayWebhookInput!) { replayWebhook(input: $i) { webhook { status } userErrors { code } } }";
    let body = app.gql(&app.admin(), replay, json!({ "i": { "id": id, "after": "0" } })).await;
    assert_eq!(body["data"]["replayWebhook"]["webhook"]["status"], "ACTIVE", "{body}");
    assert_eq!(receiver.sequences(1).await, vec![1]);
    let other = app.token("PUPR", "events:subscribe", &["64"]);
    let body = app.gql(&other, replay, json!({ "i": { "id": id, "after": "0" } })).await;
    assert_eq!(
        crate::helpers::error_code(&body).as_deref(),
        Some("NOT_FOUND"),
        "another agency's webhook: {body}"
    );
}

#[tokio::test]
async fn webhook_targets_are_validated() {
    let app = spawn_app_with_webhooks(sinergi_api::webhooks::WebhookSettings::default()).await;
    for (url, why) in [
        ("ftp://example.org/hook", "scheme"),
        ("http://169.254.169.254/latest/meta-data", "metadata"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://127.0.0.1:9/hook", "loopback, not allowed by default"),
        ("http://10.1.2.3/hook", "private network"),
        ("http://user:pw@example.org/hook", "credentials"),
        ("http://[::127.0.0.1]/hook", "IPv4-compatible loopback"),
        ("http://[::ffff:0:7f00:1]/hook", "IPv4-translated loopback"),
        ("http://[64:ff9b::a9fe:a9fe]/hook", "NAT64 of the metadata address"),
        ("http://[2002:7f00:1::]/hook", "6to4 of loopback"),
        ("http://[fec0::1]/hook", "site-local"),
        ("http://198.18.0.1/hook", "benchmarking"),
        ("http://240.0.0.1/hook", "reserved"),
        ("http://0.0.0.0/hook", "this network"),
        ("http://192.0.2.1/hook", "TEST-NET-1"),
        ("http://255.255.255.255/hook", "broadcast"),
        ("not a url", "garbage"),
    ] {
        let body = app.gql(&app.admin(), REGISTER, json!({ "i": { "url": url, "secret": SECRET } })).await;
        assert_eq!(user_error(&body, "registerWebhook").as_deref(), Some("VALIDATION"), "{why}: {body}");
        assert_eq!(body["data"]["registerWebhook"]["userErrors"][0]["field"][0], "url");
        let message =
            body["data"]["registerWebhook"]["userErrors"][0]["message"].as_str().unwrap_or_default();
        // A loopback or private target is refused with the setting that would allow it named;
        // the rest without it.
        let named = message.contains("SINERGI_WEBHOOK_ALLOW_PRIVATE_TARGETS=true");
        let private = [
            "loopback, not allowed by default",
            "private network",
            "IPv4-translated loopback",
            "6to4 of loopback",
        ]
        .contains(&why);
        assert_eq!(named, private, "{why}: {message}");
    }
    let body = app
        .gql(&app.admin(), REGISTER, json!({ "i": { "url": "http://8.8.8.8/hook", "secret": "short" } }))
        .await;
    assert_eq!(body["data"]["registerWebhook"]["userErrors"][0]["field"][0], "secret");
}

#[tokio::test]
async fn a_delivery_claimed_by_a_replica_that_died_is_taken_over_and_nothing_is_lost() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    let id = register(&app, &receiver.url(), None).await;
    // Another replica claimed this webhook and died before delivering: its claim still runs.
    let lapses = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    entity::webhook::Entity::update_many()
        .col_expr(entity::webhook::Column::ClaimedBy, Expr::value("worker-of-a-dead-replica"))
        .col_expr(entity::webhook::Column::ClaimedUntil, Expr::value(lapses))
        .filter(entity::webhook::Column::Id.eq(uuid::Uuid::parse_str(&id).expect("uuid")))
        .exec(&app.db)
        .await
        .expect("claim");
    app.beneficiary(2).await;
    app.beneficiary(3).await;
    assert_eq!(receiver.sequences(2).await, vec![1, 2], "delivered once the dead claim lapsed");
    assert!(chrono::Utc::now() >= lapses, "not before the claim lapsed");
}

const LIST: &str = "query { webhooks { id status disabledReason deliveries { nodes { outcome error } } } }";

/// A DINSOS client's token (not admin) for registering webhooks, named `client`.
fn client_token(app: &TestApp, client: &str, regions: &[&str]) -> String {
    app.token_with(sinergi_api::auth::TokenRequest {
        agency: "DINSOS".into(),
        client: client.into(),
        scopes: sinergi_api::auth::parse_scopes("events:subscribe beneficiary:read").unwrap_or_default(),
        regions: regions.iter().map(|r| r.to_string()).collect(),
        ttl: chrono::Duration::hours(1),
        volunteer: None,
    })
}

async fn register_as(app: &TestApp, token: &str, url: &str) -> String {
    let body = app.gql(token, REGISTER, json!({ "i": { "url": url, "secret": SECRET, "after": "0" } })).await;
    body["data"]["registerWebhook"]["webhook"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

/// Waits until the webhook `id`, as the admin lists it, satisfies `done`.
async fn until(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let body = app.gql(&app.admin(), LIST, json!({})).await;
        let hook = body["data"]["webhooks"].as_array().into_iter().flatten().find(|h| h["id"] == id).cloned();
        if let Some(hook) = hook.filter(|h| done(h)) {
            return hook;
        }
        assert!(Instant::now() < deadline, "webhook {id} never got there: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_webhook_belongs_to_the_api_client_that_registered_it() {
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    let owner = client_token(&app, "case-system", &["64"]);
    let id = register_as(&app, &owner, &receiver.url()).await;
    let other = client_token(&app, "other-system", &["6401"]);
    let body = app.gql(&other, "{ webhooks { id } }", json!({})).await;
    assert_eq!(body["data"]["webhooks"], json!([]), "another client of the same agency sees none: {body}");
    for (mutation, input) in [
        (
            "mutation($i: DisableWebhookInput!) { disableWebhook(input: $i) { webhook { id } } }",
            json!({ "id": id }),
        ),
        (
            "mutation($i: ReplayWebhookInput!) { replayWebhook(input: $i) { webhook { id } } }",
            json!({ "id": id, "after": "0" }),
        ),
    ] {
        let body = app.gql(&other, mutation, json!({ "i": input })).await;
        assert_eq!(crate::helpers::error_code(&body).as_deref(), Some("NOT_FOUND"), "{body}");
    }
    let body = app.gql(&owner, "{ webhooks { id } }", json!({})).await;
    assert_eq!(body["data"]["webhooks"], json!([{ "id": id }]));
    let body = app.gql(&app.admin(), "{ webhooks { id } }", json!({})).await;
    assert_eq!(body["data"]["webhooks"], json!([{ "id": id }]), "admin sees every webhook");
}

#[tokio::test]
async fn revoking_the_registering_token_disables_its_webhook_with_the_reason_in_the_log() {
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    let token = client_token(&app, "case-system", &["64"]);
    let id = register_as(&app, &token, &receiver.url()).await;
    app.beneficiary(2).await;
    assert_eq!(receiver.sequences(1).await, vec![1]);
    let me = app.gql(&token, "{ me { tokenId } }", json!({})).await;
    let revoke = "mutation($i: RevokeTokenInput!) { revokeToken(input: $i) { tokenId } }";
    app.gql(&app.admin(), revoke, json!({ "i": { "tokenId": me["data"]["me"]["tokenId"] } })).await;
    let hook = until(&app, &id, |h| h["status"] == "DISABLED").await;
    assert!(hook["disabledReason"].as_str().is_some_and(|r| r.contains("revoked")), "{hook}");
    assert!(
        hook["deliveries"]["nodes"].as_array().into_iter().flatten().any(|d| d["outcome"] == "DISABLED"
            && d["error"].as_str().is_some_and(|e| e.contains("revoked"))),
        "the reason is in the delivery log: {hook}"
    );
    app.beneficiary(3).await;
    app.beneficiary(4).await;
    let more = receiver.sequences_within(1, Duration::from_secs(1)).await;
    assert_eq!(more, vec![1], "nothing is delivered after the revocation");
}

#[tokio::test]
async fn revoking_an_api_client_disables_its_webhooks_and_refuses_its_tokens() {
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    let token = client_token(&app, "case-system", &["64"]);
    sinergi_api::reference::register_client(&app.db, "DINSOS", "case-system").await.expect("client");
    let id = register_as(&app, &token, &receiver.url()).await;
    let revoked = sinergi_api::revocation::Revocations::default()
        .revoke_client(&app.db, "DINSOS", "case-system", Some("laptop stolen".into()))
        .await
        .expect("revoke");
    assert_eq!(revoked, 1);
    let hook = until(&app, &id, |h| h["status"] == "DISABLED").await;
    assert!(hook["disabledReason"].as_str().is_some_and(|r| r.contains("laptop stolen")), "{hook}");
    // The gateway re-reads revocations at most every two seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = app.post(Some(&token), "{ me { agency } }", json!({})).await;
        if status == 401 {
            break;
        }
        assert!(Instant::now() < deadline, "the revoked client's token still works");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unknown = sinergi_api::revocation::Revocations::default()
        .revoke_client(&app.db, "DINSOS", "never-registered", None)
        .await;
    assert!(unknown.is_err(), "an unknown client is an error");
}

#[tokio::test]
async fn dead_targets_do_not_hold_up_a_healthy_webhook_and_clients_have_a_webhook_limit() {
    let app = spawn_app_with_webhooks(sinergi_api::webhooks::WebhookSettings {
        max_per_client: 6,
        ..crate::helpers::test_webhooks()
    })
    .await;
    // A target that accepts connections and never answers: each attempt waits out the timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let silent_url = format!("http://{}/hook", silent.local_addr().expect("addr"));
    let token = client_token(&app, "case-system", &["64"]);
    for _ in 0..5 {
        register_as(&app, &token, &silent_url).await;
    }
    let receiver = Receiver::start(0).await;
    let healthy = register_as(&app, &token, &receiver.url()).await;
    let body = app.gql(&token, REGISTER, json!({ "i": { "url": receiver.url(), "secret": SECRET } })).await;
    assert_eq!(user_error(&body, "registerWebhook").as_deref(), Some("LIMIT_EXCEEDED"), "{body}");
    app.beneficiary(2).await;
    assert_eq!(receiver.sequences(1).await, vec![1]);
    let hook =
        until(&app, &healthy, |h| h["deliveries"]["nodes"].as_array().is_some_and(|d| !d.is_empty())).await;
    assert_eq!(hook["deliveries"]["nodes"][0]["outcome"], "DELIVERED");
    // Delivered before any of the dead targets' attempts (2 s timeouts) had ended.
    let body = app
        .gql(&app.admin(), "{ webhooks { id deliveries { nodes { outcome attemptedAt } } } }", json!({}))
        .await;
    let attempts: Vec<(bool, String)> = body["data"]["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|h| {
            let mine = h["id"] == healthy;
            h["deliveries"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |d| (mine, d["attemptedAt"].as_str().unwrap_or_default().to_owned()))
        })
        .collect();
    let delivered = attempts.iter().filter(|(mine, _)| *mine).map(|(_, at)| at.clone()).min();
    let first_dead = attempts.iter().filter(|(mine, _)| !*mine).map(|(_, at)| at.clone()).min();
    assert!(
        first_dead.is_none() || delivered < first_dead,
        "the healthy webhook waited for the dead ones: {delivered:?} vs {first_dead:?}"
    );
    drop(silent);
}

#[tokio::test]
async fn the_webhook_limit_holds_under_concurrent_registrations_and_replays() {
    let app = spawn_app_with_webhooks(sinergi_api::webhooks::WebhookSettings {
        max_per_client: 3,
        ..crate::helpers::test_webhooks()
    })
    .await;
    let receiver = Receiver::start(0).await;
    let token = client_token(&app, "case-system", &["64"]);
    let attempts = (0..8)
        .map(|_| app.gql(&token, REGISTER, json!({ "i": { "url": receiver.url(), "secret": SECRET } })));
    let answers = futures_util::future::join_all(attempts).await;
    let registered: Vec<String> = answers
        .iter()
        .filter_map(|b| b["data"]["registerWebhook"]["webhook"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(registered.len(), 3, "exactly the limit, however many arrive at once");
    let disable = "mutation($i: DisableWebhookInput!) { disableWebhook(input: $i) { webhook { status } } }";
    app.gql(&token, disable, json!({ "i": { "id": registered[0] } })).await;
    register_as(&app, &token, &receiver.url()).await;
    let replay = "mutation($i: ReplayWebhookInput!) { replayWebhook(input: $i) { webhook { status } userErrors { code } } }";
    let body = app.gql(&token, replay, json!({ "i": { "id": registered[0], "after": "0" } })).await;
    assert_eq!(user_error(&body, "replayWebhook").as_deref(), Some("LIMIT_EXCEEDED"), "{body}");
}

/// `docs/examples/webhook_receiver.py`, run as docs/integrators.md says, receives and verifies
/// the deliveries of a gateway that allows loopback targets.
#[tokio::test]
async fn the_documented_python_receiver_verifies_and_prints_each_event() {
    use std::io::{BufRead, BufReader};
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/webhook_receiver.py");
    let mut receiver = std::process::Command::new("python3")
        .arg(&script)
        .args(["--port", "0", "--secret", SECRET])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the example receiver");
    let mut lines = BufReader::new(receiver.stdout.take().expect("stdout")).lines();
    let first = lines.next().and_then(Result::ok).expect("the receiver's address");
    let url = first.strip_prefix("listening on ").expect("listening on …").to_owned();
    let (sender, events) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    // The test default allows loopback targets, as SINERGI_WEBHOOK_ALLOW_PRIVATE_TARGETS=true does.
    let app = spawn_app_with_webhooks(crate::helpers::test_webhooks()).await;
    register(&app, &url, None).await;
    let id = app.beneficiary(2).await;
    let line = tokio::task::spawn_blocking(move || events.recv_timeout(Duration::from_secs(20)))
        .await
        .expect("join")
        .expect("an event line within 20 s");
    let _ = receiver.kill();
    let _ = receiver.wait();
    let event: Value = serde_json::from_str(&line).expect("one JSON event a line");
    assert_eq!(event["entityId"], id, "{event}");
    assert_eq!(event["action"], "CREATED");
}
