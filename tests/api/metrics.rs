//! `/metrics`: what an operator's Prometheus reads — operations by name, type, agency and
//! outcome, their latency, errors by code, HTTP responses, SQL statements, database pools,
//! sockets and webhooks.

use serde_json::json;

use crate::{
    helpers::{Setup, TestApp, spawn},
    subscriptions::{WsClient, init},
};

async fn scrape(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.expect("metrics");
    assert_eq!(response.status().as_u16(), 200);
    let media = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(media.starts_with("application/openmetrics-text"), "{media}");
    response.text().await.expect("text")
}

/// The value of the sample `name{labels}` (labels as written, in order), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_operations_errors_responses_and_open_sockets() {
    let app = spawn(Setup::default()).await;
    let token = app.client_token("DINSOS", "portal", "beneficiary:read events:subscribe");
    for _ in 0..2 {
        let body = app.gql(&token, "query Me { me { agency } }", json!({})).await;
        assert_eq!(body["data"]["me"]["agency"], "DINSOS", "{body}");
    }
    let missing = "query Look($id: UUID!) { beneficiary(id: $id) { id } }";
    let body = app.gql(&token, missing, json!({ "id": uuid::Uuid::now_v7() })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{body}");
    let body = app.gql(&token, "query Broken { nope }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{body}");
    let nope = app.client.get(app.url("/nope")).send().await.expect("nope");
    assert_eq!(nope.status().as_u16(), 404);
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    ws.subscribe("s", "subscription Watch { caseEvents { sequence } }", json!({})).await;

    // The subscription is counted when it starts; wait for that rather than a fixed time.
    let mut text = String::new();
    for _ in 0..50 {
        text = scrape(&app).await;
        let subscribed = r#"sinergi_graphql_requests_total{operation="Watch",type="subscription",agency="DINSOS",outcome="subscribed"}"#;
        if sample(&text, "sinergi_websocket_operations_running") == Some(1.0)
            && sample(&text, subscribed).is_some()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let ops = |series: &str| sample(&text, &format!("sinergi_graphql_requests_total{{{series}}}"));
    assert_eq!(ops(r#"operation="Me",type="query",agency="DINSOS",outcome="ok""#), Some(2.0), "{text}");
    assert_eq!(ops(r#"operation="Look",type="query",agency="DINSOS",outcome="ok""#), Some(1.0), "{text}");
    assert_eq!(
        ops(r#"operation="other",type="query",agency="DINSOS",outcome="BAD_REQUEST""#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        ops(r#"operation="Watch",type="subscription",agency="DINSOS",outcome="subscribed""#),
        Some(1.0)
    );
    assert_eq!(sample(&text, r#"sinergi_graphql_errors_total{code="NOT_FOUND"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"sinergi_graphql_errors_total{code="BAD_REQUEST"}"#), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, r#"sinergi_graphql_duration_seconds_count{operation="Me",type="query"}"#),
        Some(2.0),
        "{text}"
    );
    assert!(
        sample(&text, r#"sinergi_http_responses_total{method="POST",route="/graphql",status="200"}"#)
            .is_some_and(|n| n >= 4.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"sinergi_http_responses_total{method="GET",route="unmatched",status="404"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "sinergi_websockets_open"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "sinergi_websocket_operations_running"), Some(1.0), "{text}");
    assert!(sample(&text, "sinergi_sql_statements_total").is_some_and(|n| n > 0.0), "{text}");
    assert!(sample(&text, r#"sinergi_db_connections{pool="writer",state="idle"}"#).is_some(), "{text}");
    assert_eq!(sample(&text, "sinergi_webhook_backlog_events"), Some(0.0), "{text}");
    assert!(!text.contains(&token), "no token in the metrics");

    // Closing the socket returns the gauges.
    drop(ws);
    for _ in 0..50 {
        text = scrape(&app).await;
        if sample(&text, "sinergi_websockets_open") == Some(0.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(sample(&text, "sinergi_websockets_open"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "sinergi_websocket_operations_running"), Some(0.0), "{text}");
}
