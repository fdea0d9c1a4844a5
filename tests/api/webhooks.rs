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
        ("not a url", "garbage"),
    ] {
        let body = app.gql(&app.admin(), REGISTER, json!({ "i": { "url": url, "secret": SECRET } })).await;
        assert_eq!(user_error(&body, "registerWebhook").as_deref(), Some("VALIDATION"), "{why}: {body}");
        assert_eq!(body["data"]["registerWebhook"]["userErrors"][0]["field"], "url");
    }
    let body = app
        .gql(&app.admin(), REGISTER, json!({ "i": { "url": "http://8.8.8.8/hook", "secret": "short" } }))
        .await;
    assert_eq!(body["data"]["registerWebhook"]["userErrors"][0]["field"], "secret");
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
