//! `Idempotency-Key` on mutations: a retry gets the first response without writing twice, the
//! same key with another request is refused, a request error gives its key back, keys are per
//! API client and expire, and concurrent retries write once.

use std::time::Duration;

use serde_json::{Value, json};
use sinergi_api::limits::Limits;

use crate::helpers::{CREATE_BENEFICIARY, Setup, TestApp, beneficiary_input, spawn, spawn_app};

/// Status, whether it was a replay, and body of `CREATE_BENEFICIARY` with `input` and `key`.
async fn create(app: &TestApp, token: &str, key: &str, input: &Value) -> (u16, bool, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({ "query": CREATE_BENEFICIARY, "variables": { "input": input } }))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    (status, replayed, response.json().await.expect("json"))
}

async fn logged_reads(app: &TestApp) -> i64 {
    let body = app.gql(&app.admin(), "{ piiAccessLog { totalCount } }", json!({})).await;
    body["data"]["piiAccessLog"]["totalCount"].as_i64().unwrap_or_else(|| panic!("{body}"))
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin();
    let (nik, kk) = app.identity();
    let input = beneficiary_input(&nik, &kk, 2);
    let events = app.event_count().await;
    let (status, replayed, first) = create(&app, &admin, "retry-1", &input).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    let id = first["data"]["createBeneficiary"]["beneficiary"]["id"].as_str().expect("created").to_owned();
    let reads = logged_reads(&app).await;
    let (status, replayed, again) = create(&app, &admin, "retry-1", &input).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again, first, "the very same answer");
    assert_eq!(app.event_count().await, events + 1, "written once");
    // The replay showed the NIK again: logged like the first delivery (plus the count query).
    assert!(logged_reads(&app).await > reads, "a replay of personal data is a read");
    // Another client may use the same key for its own request.
    let other = app.client_token("DINSOS", "another-system", "beneficiary:read beneficiary:write");
    let (nik2, kk2) = app.identity();
    let (status, replayed, body) = create(&app, &other, "retry-1", &beneficiary_input(&nik2, &kk2, 3)).await;
    assert_eq!((status, replayed), (200, false), "{body}");
    assert_ne!(body["data"]["createBeneficiary"]["beneficiary"]["id"].as_str(), Some(id.as_str()));
}

#[tokio::test]
async fn the_same_key_with_another_request_is_refused_and_a_request_error_gives_it_back() {
    let app = spawn_app().await;
    let admin = app.admin();
    let (nik, kk) = app.identity();
    let input = beneficiary_input(&nik, &kk, 2);
    assert_eq!(create(&app, &admin, "k-2", &input).await.0, 200);
    let events = app.event_count().await;
    let mut changed = input.clone();
    changed["decile"] = json!(3);
    let (status, _, body) = create(&app, &admin, "k-2", &changed).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("another request")));
    assert_eq!(app.event_count().await, events, "nothing written");

    // A document that does not validate (found once the key is claimed) runs nothing: the key is
    // free again, so the corrected document — another request — runs under it.
    let (nik2, kk2) = app.identity();
    let input2 = beneficiary_input(&nik2, &kk2, 2);
    let invalid = "mutation($input: CreateBeneficiaryInput!) { createBeneficiary(input: $input) { nope } }";
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&admin)
        .header("Idempotency-Key", "k-3")
        .json(&json!({ "query": invalid, "variables": { "input": input2 } }))
        .send()
        .await
        .expect("request");
    let body: Value = response.json().await.expect("json");
    assert!(body.get("data").is_none(), "a request error: {body}");
    let (status, replayed, body) = create(&app, &admin, "k-3", &input2).await;
    assert_eq!((status, replayed), (200, false), "the key was given back: {body}");
    assert!(body["data"]["createBeneficiary"]["beneficiary"]["id"].is_string(), "{body}");

    // A key that is not short visible text is refused before anything runs.
    let (status, _, body) = create(&app, &admin, &"k".repeat(201), &input).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn concurrent_retries_write_once() {
    let app = spawn_app().await;
    let admin = app.admin();
    let (nik, kk) = app.identity();
    let input = beneficiary_input(&nik, &kk, 2);
    let events = app.event_count().await;
    let answers = futures_util::future::join_all((0..6).map(|_| create(&app, &admin, "burst", &input))).await;
    assert_eq!(app.event_count().await, events + 1, "one write for six requests");
    let ran = answers.iter().filter(|(status, replayed, _)| *status == 200 && !replayed).count();
    assert_eq!(ran, 1, "{answers:?}");
    for (status, replayed, body) in &answers {
        assert!(*status == 200 || *status == 409, "{status}: {body}");
        if *status == 409 {
            assert!(
                body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("still running")),
                "{body}"
            );
        } else if *replayed {
            assert!(body["data"]["createBeneficiary"]["beneficiary"]["id"].is_string());
        }
    }
}

#[tokio::test]
async fn a_key_expires_after_its_time() {
    let limits = Limits { idempotency_ttl: Duration::from_secs(1), ..Limits::default() };
    let app = spawn(Setup { limits, ..Setup::default() }).await;
    let admin = app.admin();
    let (nik, kk) = app.identity();
    assert_eq!(create(&app, &admin, "short", &beneficiary_input(&nik, &kk, 2)).await.0, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (nik2, kk2) = app.identity();
    let (status, replayed, body) = create(&app, &admin, "short", &beneficiary_input(&nik2, &kk2, 2)).await;
    assert_eq!((status, replayed), (200, false), "an expired key is new again: {body}");
}

#[tokio::test]
async fn a_replay_never_shows_more_than_the_retrying_token_may_read() {
    let app = spawn_app().await;
    let token = |scopes: &str| app.client_token("DINSOS", "sikesra", scopes);
    let (nik, kk) = app.identity();
    let input = beneficiary_input(&nik, &kk, 2);
    let full = token("beneficiary:read beneficiary:write pii:read");
    let (status, _, first) = create(&app, &full, "narrow", &input).await;
    assert_eq!(first["data"]["createBeneficiary"]["beneficiary"]["nik"], nik.as_str(), "{status}: {first}");
    // Another token of the same client, without pii:read: not a replay of the unmasked answer.
    let narrow = token("beneficiary:read beneficiary:write");
    let (status, replayed, body) = create(&app, &narrow, "narrow", &input).await;
    assert_eq!((status, replayed), (403, false), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(!body.to_string().contains(&nik), "{body}");
    // A fresh token with the same grant (the first one expired, say) replays.
    let renewed = token("beneficiary:read beneficiary:write pii:read");
    let (status, replayed, body) = create(&app, &renewed, "narrow", &input).await;
    assert_eq!((status, replayed), (200, true), "{body}");
}
