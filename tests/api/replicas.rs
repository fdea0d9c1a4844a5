//! Several gateway processes on one PostgreSQL: a subscriber on one replica sees writes made
//! through the other, and after losing its replica it resumes on another from its last cursor
//! with nothing missing and nothing twice. Ignored by default — it needs PostgreSQL (SQLite is one
//! process by design) and the built `sinergi` binary; `.ci/run` runs it with `--ignored`.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use serde_json::json;
use sinergi_api::{
    auth::{TokenKeys, TokenRequest},
    config::Secret,
    policy::Policy,
};
use tokio::task::JoinSet;

use crate::{
    helpers::{CREATE_BENEFICIARY, TEST_SECRET, beneficiary_input, fresh_database},
    subscriptions::{EVENTS, WsClient, init, sequence},
    webhooks::{Receiver, SECRET},
};

/// A gateway process, killed when dropped.
type Replica = crate::helpers::Process;

fn start(database_url: &str) -> Replica {
    crate::helpers::start_gateway(&[
        ("DATABASE_URL", database_url),
        ("SINERGI_JWT_SECRET", TEST_SECRET),
        ("SINERGI_JWT_KID", "test-1"),
        ("SINERGI_DEMO_DATA", "false"),
        ("SINERGI_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
    ])
}

async fn create(client: &reqwest::Client, addr: SocketAddr, token: &str, serial: u32) -> bool {
    let nik = format!("647201150290{serial:04}");
    let kk = format!("647201010115{serial:04}");
    let body: serde_json::Value = client
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": CREATE_BENEFICIARY, "variables": { "input": beneficiary_input(&nik, &kk, 2) } }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    body["data"]["createBeneficiary"]["beneficiary"]["id"].is_string()
}

/// Writes `count` beneficiaries concurrently, spread over `replicas`.
async fn write_many(replicas: &[SocketAddr], token: &str, serial: &Arc<AtomicU32>, count: u32) {
    let client = reqwest::Client::new();
    let mut tasks = JoinSet::new();
    for i in 0..count {
        let (client, token, serial) = (client.clone(), token.to_owned(), serial.clone());
        let addr = replicas[i as usize % replicas.len()];
        tasks.spawn(
            async move { create(&client, addr, &token, serial.fetch_add(1, Ordering::Relaxed)).await },
        );
    }
    while let Some(done) = tasks.join_next().await {
        assert!(done.expect("task"), "a write failed");
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and the built `sinergi` binary: TEST_DATABASE_URL=postgres://… cargo test --test api replicas -- --ignored"]
async fn a_subscriber_loses_nothing_across_replicas_and_a_replica_failure() {
    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    assert!(url.starts_with("postgres"), "several replicas need PostgreSQL: set TEST_DATABASE_URL");
    let (url, _) = fresh_database().await;
    let a = start(&url);
    let b = start(&url);
    let keys = TokenKeys::hs256(&Secret::new(TEST_SECRET), "test-1", "sinergi", "sinergi-api").expect("keys");
    let token = keys
        .issue(
            &TokenRequest::from_cli(
                &Policy::default_policy(),
                "DINSOS".into(),
                "all",
                vec!["64".into()],
                "1h",
                "replica-test".into(),
                None,
            )
            .expect("request"),
        )
        .expect("token")
        .0;
    let serial = Arc::new(AtomicU32::new(1));

    // A webhook, registered through A, served by whichever replica's worker claims it.
    let receiver = Receiver::start(0).await;
    let register = "mutation($i: RegisterWebhookInput!) { registerWebhook(input: $i) { webhook { id } } }";
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{}/graphql", a.addr))
        .bearer_auth(&token)
        .json(&json!({ "query": register, "variables": { "i": { "url": receiver.url(), "secret": SECRET, "after": "0" } } }))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    assert!(body["data"]["registerWebhook"]["webhook"]["id"].is_string(), "{body}");

    // Subscribe on B, write concurrently through both A and B.
    let mut on_b = WsClient::connect_to(b.addr, "/graphql/ws", init(&token)).await.expect("connect to B");
    on_b.subscribe("1", EVENTS, json!({ "after": "0" })).await;
    write_many(&[a.addr, b.addr], &token, &serial, 30).await;
    let mut seen = Vec::new();
    while seen.len() < 12 {
        seen.push(sequence(&on_b.next("1").await));
    }

    // B dies mid-stream; writes go on through A; the subscriber resumes on A from its cursor.
    drop(on_b);
    drop(b);
    let (a_addr, writer_token, writer_serial) = (a.addr, token.clone(), serial.clone());
    let writers = tokio::spawn(async move { write_many(&[a_addr], &writer_token, &writer_serial, 30).await });
    let cursor = *seen.last().expect("events before the failure");
    let mut on_a = WsClient::connect_to(a.addr, "/graphql/ws", init(&token)).await.expect("connect to A");
    on_a.subscribe("2", EVENTS, json!({ "after": cursor.to_string() })).await;
    writers.await.expect("writers");
    while seen.len() < 60 {
        let seq = sequence(&on_a.next("2").await);
        assert!(seq > cursor, "no event twice across the seam: {seq} after cursor {cursor}");
        seen.push(seq);
    }
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "each event exactly once");
    assert_eq!(unique, (1..=60).collect::<BTreeSet<i64>>(), "no event missing");

    // The webhook got every event too, B's death notwithstanding (a claim B held lapses after
    // 30 s): at least once, and in order once duplicates are dropped.
    let delivered = receiver.sequences_within(60, Duration::from_secs(90)).await;
    let mut last = 0;
    let mut distinct = BTreeSet::new();
    for seq in delivered {
        if distinct.insert(seq) {
            assert!(seq > last, "in order: {seq} after {last}");
            last = seq;
        }
    }
    assert_eq!(distinct, (1..=60).collect::<BTreeSet<i64>>(), "every event reached the webhook");
}
