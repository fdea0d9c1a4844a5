//! Failures stay clean: hostile input, broken requests and a lost database.

use serde_json::json;

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.expect("healthz");
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let page =
        app.client.get(app.url("/graphql")).send().await.expect("graphiql").text().await.expect("html");
    assert!(page.contains("graphiql"), "GraphiQL is served");
}

#[tokio::test]
async fn malformed_requests_are_bad_requests() {
    let app = spawn_app().await;
    let token = app.admin();
    let body = app.gql(&token, "{ beneficiaries { ", json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{body}");
    let body = app.gql(&token, "{ nosuchfield }", json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"));
    let body = app
        .gql(&token, "query($id: UUID!) { beneficiary(id: $id) { id } }", json!({ "id": "not-a-uuid" }))
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"));
    let q = "mutation($i: CreateAssistanceInput!) { createAssistance(input: $i) { userErrors { code } } }";
    let body = app.gql(&token, q, json!({ "i": { "beneficiaryId": uuid::Uuid::now_v7(), "programme": "BLT", "amount": 1.5, "periodStart": "2025-01-01", "fundSource": "x" } })).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "Rupiah is never fractional: {body}");
    let raw = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(raw.status(), 400);
}

#[tokio::test]
async fn an_unknown_id_is_not_found() {
    let app = spawn_app().await;
    let body = app
        .gql(
            &app.admin(),
            "query($id: UUID!) { business(id: $id) { id } }",
            json!({ "id": uuid::Uuid::now_v7() }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn a_lost_database_gives_unavailable_errors_without_detail() {
    let app = spawn_app().await;
    let token = app.admin();
    let id = app.beneficiary(2).await;
    app.db.close_by_ref().await.expect("close pool");
    app.reader.close_by_ref().await.ok();
    let body =
        app.gql(&token, "query($id: UUID!) { beneficiary(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAVAILABLE"), "{body}");
    assert_eq!(body["errors"][0]["message"], "the database is unavailable; retry shortly");
    let text = body.to_string().to_lowercase();
    assert!(!text.contains("sql") && !text.contains("pool"), "no database detail leaks: {body}");
    let ready = app.client.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn forged_cursors_are_bad_requests_not_crashes() {
    use base64::Engine;
    let app = spawn_app().await;
    let token = app.admin();
    for forged in ["o:9223372036854775807", "o:18446744073709551615", "o:-1", "x:1"] {
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged);
        let body = app
            .gql(
                &token,
                "query($a: String) { beneficiaries(after: $a) { totalCount } }",
                json!({ "a": cursor }),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{forged}: {body}");
    }
}

#[tokio::test]
async fn a_name_search_takes_percent_and_underscore_literally() {
    let app = spawn_app().await;
    let token = app.admin();
    let (nik, kk) = app.identity();
    let mut input = crate::helpers::beneficiary_input(&nik, &kk, 2);
    input["fullName"] = json!("Warung 100% Halal");
    app.gql(&token, crate::helpers::CREATE_BENEFICIARY, json!({ "input": input })).await;
    app.beneficiary(3).await;
    let search = "query($t: String) { beneficiaries(filter: {nameContains: $t}) { nodes { fullName } } }";
    let body = app.gql(&token, search, json!({ "t": "%" })).await;
    assert_eq!(
        body["data"]["beneficiaries"]["nodes"],
        json!([{ "fullName": "Warung 100% Halal" }]),
        "{body}"
    );
    let body = app.gql(&token, search, json!({ "t": "_" })).await;
    assert_eq!(body["data"]["beneficiaries"]["nodes"], json!([]), "{body}");
}

#[tokio::test]
async fn a_missing_record_is_null_at_its_path_and_the_rest_of_the_answer_stands() {
    let app = spawn_app().await;
    let id = app.beneficiary(2).await;
    let body = app
        .gql(
            &app.admin(),
            "query($a: UUID!, $b: UUID!) { found: beneficiary(id: $a) { id } missing: beneficiary(id: $b) { id } }",
            json!({ "a": id, "b": uuid::Uuid::now_v7() }),
        )
        .await;
    assert_eq!(body["data"]["found"]["id"], json!(id), "{body}");
    assert!(body["data"]["missing"].is_null());
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"));
    assert_eq!(body["errors"][0]["path"], json!(["missing"]));
}

#[tokio::test]
async fn every_response_names_its_request_id() {
    let app = spawn_app().await;
    let token = app.token("DINSOS", "beneficiary:read", &["64"]);
    let send = |id: Option<&'static str>| {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": "{ __typename }" }));
        if let Some(id) = id {
            request = request.header("X-Request-Id", id);
        }
        request.send()
    };
    let header = |r: &reqwest::Response| {
        r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    let given = send(Some("sim-kaltim.2026_11-29")).await.expect("request");
    assert_eq!(header(&given), "sim-kaltim.2026_11-29", "a client's own id is kept");
    let fresh = header(&send(None).await.expect("request"));
    assert!(uuid::Uuid::parse_str(&fresh).is_ok(), "a new id when none is given: {fresh}");
    let unsafe_id = header(&send(Some("a b<script>")).await.expect("request"));
    assert!(uuid::Uuid::parse_str(&unsafe_id).is_ok(), "an unsafe id is replaced: {unsafe_id}");
    let long = "x".repeat(65);
    let replaced = app
        .client
        .post(app.url("/graphql"))
        .header("X-Request-Id", long.as_str())
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(replaced.status(), 401, "refused requests carry an id too");
    assert!(uuid::Uuid::parse_str(&header(&replaced)).is_ok());
    let health = app.client.get(app.url("/healthz")).send().await.expect("healthz");
    assert!(!header(&health).is_empty());
}

/// A value the database holds but no field can (PostgreSQL's `infinity` date; on SQLite, text
/// that is no date) makes a list page fail with `INTERNAL` in a GraphQL response — not a panic
/// (HTTP 500) — and the gateway serves the next request.
#[tokio::test]
async fn a_value_no_field_can_hold_fails_a_list_with_an_error_not_a_panic() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let token = app.admin();
    let person = app.beneficiary(3).await;
    let list = "{ beneficiaries(first: 5, orderBy: { field: CREATED_AT, direction: DESC }) { nodes { id birthDate } } }";
    let (status, body) = app.post(Some(&token), list, json!({})).await;
    assert_eq!((status, body["errors"].is_null()), (200, true), "{body}");
    assert_eq!(body["data"]["beneficiaries"]["nodes"][0]["id"], person.as_str(), "{body}");
    app.db
        .execute_unprepared("UPDATE beneficiary SET birth_date = 'infinity'")
        .await
        .expect("an infinity date");
    let (status, body) = app.post(Some(&token), list, json!({})).await;
    assert_eq!(status, 200, "an error in the response, not a panic: {body}");
    assert_eq!(error_code(&body).as_deref(), Some("INTERNAL"), "{body}");
    assert!(!body.to_string().contains("infinity"), "nothing of the row is told: {body}");
    app.db
        .execute_unprepared("UPDATE beneficiary SET birth_date = '1980-01-01'")
        .await
        .expect("a date again");
    let (status, body) = app.post(Some(&token), list, json!({})).await;
    assert_eq!((status, body["errors"].is_null()), (200, true), "{body}");
}
