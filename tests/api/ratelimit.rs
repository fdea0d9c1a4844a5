//! Rate limits per API client from the access policy: a burst, then `RATE_LIMITED` with HTTP 429
//! and `Retry-After`, on every door (HTTP, WebSocket operations), per client, and shared by the
//! replicas of one PostgreSQL database.

use serde_json::{Value, json};
use sinergi_api::policy::{DEFAULT_POLICY, Policy};

use crate::{
    helpers::{Setup, TestApp, spawn, spawn_beside},
    subscriptions::{WsClient, init},
};

const ME: &str = "{ me { agency client } }";

/// The default policy with DINSOS's API client `tight` held to `burst` requests at once and
/// `per_minute` after that.
fn tight_policy(per_minute: u32, burst: u32) -> Policy {
    let text = format!(
        "{DEFAULT_POLICY}\n[agencies.DINSOS.clients.tight]\nrate_limit = {{ per_minute = {per_minute}, burst = {burst} }}\n"
    );
    Policy::from_toml(&text).expect("policy")
}

fn token(app: &TestApp, client: &str) -> String {
    app.client_token("DINSOS", client, "beneficiary:read")
}

/// Status, `Retry-After` and body of `ME` sent with `token`.
async fn me(app: &TestApp, token: &str) -> (u16, Option<String>, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let retry = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, retry, response.json().await.expect("json"))
}

#[tokio::test]
async fn a_client_past_its_burst_is_rate_limited_on_every_door_and_others_are_not() {
    // One request a minute after a burst of 3: nothing refills while the test runs, however slow.
    let app = spawn(Setup { policy: tight_policy(1, 3), ..Setup::default() }).await;
    let tight = token(&app, "tight");
    for n in 1..=3 {
        let (status, _, body) = me(&app, &tight).await;
        assert_eq!(status, 200, "request {n}: {body}");
    }
    let (status, retry, body) = me(&app, &tight).await;
    assert_eq!(status, 429, "{body}");
    let seconds: u64 = retry.as_deref().and_then(|r| r.parse().ok()).expect("Retry-After in seconds");
    assert!((55..=60).contains(&seconds), "one request a minute comes back: {seconds}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], seconds);
    assert!(body.get("data").is_none(), "{body}");
    // Another client of the same agency has its own bucket.
    let (status, _, _) = me(&app, &token(&app, "roomy")).await;
    assert_eq!(status, 200);
    // A WebSocket operation takes from the same bucket.
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&tight)).await.expect("connect");
    ws.subscribe("q", ME, json!({})).await;
    let message = ws.next("q").await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(message["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // (The refill is timed in ratelimit's unit tests.)
    let metrics =
        app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    let refused = metrics.lines().find_map(|l| l.strip_prefix("sinergi_rate_limited_total ")).unwrap_or("0");
    assert!(refused.trim().parse::<u64>().is_ok_and(|n| n >= 2), "{metrics}");
}

#[tokio::test]
async fn replicas_share_a_clients_rate_on_postgresql() {
    if !crate::helpers::postgres() {
        // SQLite is one process: there is no second replica to share with. Not a skip that
        // reports success for nothing: this test's subject does not exist on SQLite.
        assert!(crate::helpers::fresh_database().await.0.starts_with("sqlite"));
        return;
    }
    // One request a minute after a burst of 4: nothing refills while the test runs.
    let first = spawn(Setup { policy: tight_policy(1, 4), ..Setup::default() }).await;
    let second = spawn_beside(&first, Setup { policy: tight_policy(1, 4), ..Setup::default() }).await;
    let tight = token(&first, "tight");
    // The second replica lets one through, the first the other three of the burst.
    assert_eq!(me(&second, &tight).await.0, 200);
    for _ in 0..3 {
        assert_eq!(me(&first, &tight).await.0, 200);
    }
    // Alone, the second replica would let three more through. Sharing, it refuses the next
    // once the counts are exchanged (every second; at most one may slip through before).
    tokio::time::sleep(sinergi_api::ratelimit::SYNC * 3).await;
    let mut slipped = 0;
    loop {
        let (status, retry, body) = me(&second, &tight).await;
        if status == 429 {
            assert!(retry.is_some(), "{body}");
            break;
        }
        slipped += 1;
        assert!(slipped <= 1, "the second replica ignores the first one's use: {body}");
        tokio::time::sleep(sinergi_api::ratelimit::SYNC).await;
    }
}
