//! The webhook scenario: E events are written first; then H webhooks are registered to replay
//! them (`after` the sequence before the writes) to a receiver in this process on loopback, and
//! the time until every webhook has every event gives deliveries per second. The receiver checks
//! that each webhook's events arrive in sequence order and counts repeats.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{Path, State},
    routing::post,
};
use sea_orm::{DatabaseConnection, FromQueryResult, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Error, Server, subscribers::Writer, wait_until};

/// What each webhook received, in arrival order (sequences).
#[derive(Default)]
struct Received {
    by_hook: Mutex<HashMap<usize, Vec<i64>>>,
    total: AtomicU64,
}

async fn receive(
    Path(hook): Path<usize>,
    State(received): State<Arc<Received>>,
    body: String,
) -> &'static str {
    let sequence = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|b| b["event"]["sequence"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(-1);
    if let Ok(mut by_hook) = received.by_hook.lock() {
        by_hook.entry(hook).or_default().push(sequence);
    }
    received.total.fetch_add(1, Ordering::Relaxed);
    "ok"
}

#[derive(FromQueryResult)]
struct Latest {
    seq: Option<i64>,
}

pub async fn run(
    server: &Server,
    db: &DatabaseConnection,
    token: &str,
    writer: &Writer<'_>,
    businesses: &[Uuid],
    hooks: usize,
    events: usize,
) -> Result<Value, Error> {
    let backend = db.get_database_backend();
    let latest =
        Latest::find_by_statement(Statement::from_string(backend, "SELECT MAX(seq) AS seq FROM case_event"))
            .one(db)
            .await?
            .and_then(|l| l.seq)
            .unwrap_or(0);
    let today = chrono::Utc::now().date_naive();
    for i in 0..events {
        writer.visit(Uuid::now_v7(), businesses[i % businesses.len()], today).await?;
    }

    let received = Arc::new(Received::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver = format!("http://{}", listener.local_addr()?);
    let app = Router::new().route("/hook/{n}", post(receive)).with_state(received.clone());
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::new();
    let call = |query: &'static str, input: Value| {
        let request = http
            .post(format!("{}/graphql", server.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": { "input": input } }));
        async move { request.send().await?.json::<Value>().await.map_err(Error::from) }
    };
    let started = Instant::now();
    let mut ids = Vec::new();
    for n in 0..hooks {
        let body = call(
            "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } userErrors { message } } }",
            json!({
                "url": format!("{receiver}/hook/{n}"), "secret": "bench-secret-0123456789",
                "filter": { "entityTypes": ["MONITORING_VISIT"] }, "after": latest.to_string(),
            }),
        )
        .await?;
        match body["data"]["registerWebhook"]["webhook"]["id"].as_str() {
            Some(id) => ids.push(id.to_owned()),
            None => return Err(format!("the webhook was not registered: {body}").into()),
        }
    }
    let expected = (hooks * events) as u64;
    wait_until(Duration::from_secs(120), || received.total.load(Ordering::Relaxed) >= expected).await;
    let elapsed = started.elapsed();
    let delivered = received.total.load(Ordering::Relaxed);

    for id in &ids {
        call(
            "mutation($input: DisableWebhookInput!) { disableWebhook(input: $input) { webhook { id } } }",
            json!({ "id": id }),
        )
        .await?;
    }
    serving.abort();

    let (mut out_of_order, mut repeated) = (0u64, 0u64);
    if let Ok(by_hook) = received.by_hook.lock() {
        for sequences in by_hook.values() {
            for pair in sequences.windows(2) {
                if pair[1] == pair[0] {
                    repeated += 1;
                } else if pair[1] < pair[0] {
                    out_of_order += 1;
                }
            }
        }
    }
    Ok(json!({
        "webhooks": hooks,
        "events": events,
        "deliveries": delivered,
        "missing_deliveries": expected.saturating_sub(delivered),
        "seconds": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
        "deliveries_per_second": (delivered as f64 / elapsed.as_secs_f64()).round(),
        "out_of_order": out_of_order,
        "repeated": repeated,
    }))
}
