//! The GraphQL specifications, case by case: GraphQL over HTTP (media types, status codes,
//! request errors without `data`), execution (key order, nulls and their propagation) and
//! validation (variables used only where their type fits, values coerced before anything runs),
//! over HTTP and over the WebSocket.

use serde_json::{Value, json};

use crate::{
    helpers::{CREATE_BENEFICIARY, TestApp, beneficiary_input, spawn_app},
    subscriptions::{WsClient, init},
};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// Posts `body` with `accept` (none when `None`); returns status, content type and body text.
async fn post_accepting(app: &TestApp, accept: Option<&str>, body: Value) -> (u16, String, String) {
    let mut request = app.client.post(app.url("/graphql")).bearer_auth(app.admin()).json(&body);
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, content_type, response.text().await.expect("body"))
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn the_response_media_type_follows_accept() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ me { agency } }" });
    for accept in
        [None, Some("application/json"), Some("*/*"), Some("application/*"), Some("text/html, */*;q=0.1")]
    {
        let (status, content_type, body) = post_accepting(&app, accept, query.clone()).await;
        assert_eq!((status, content_type.as_str()), (200, "application/json"), "Accept: {accept:?}");
        assert_eq!(json_of(&body)["data"]["me"]["agency"], "DINSOS");
    }
    for accept in [
        GRAPHQL_RESPONSE,
        "application/graphql-response+json, application/json;q=0.9",
        "application/json;q=0.5, application/graphql-response+json",
    ] {
        let (status, content_type, _) = post_accepting(&app, Some(accept), query.clone()).await;
        assert_eq!((status, content_type.as_str()), (200, GRAPHQL_RESPONSE), "Accept: {accept}");
    }
    let (_, content_type, _) = post_accepting(
        &app,
        Some("application/graphql-response+json;q=0.2, application/json"),
        query.clone(),
    )
    .await;
    assert_eq!(content_type, "application/json", "the higher quality wins");
    for accept in ["text/html", "application/xml, application/json;q=0"] {
        let (status, _, body) = post_accepting(&app, Some(accept), query.clone()).await;
        assert_eq!(status, 406, "Accept: {accept}");
        assert_eq!(json_of(&body)["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    }
}

#[tokio::test]
async fn a_request_error_has_no_data_and_is_a_4xx_for_graphql_response_json() {
    let app = spawn_app().await;
    let cases = [
        ("does not parse", json!({ "query": "{ me { agency " })),
        ("does not validate", json!({ "query": "{ me { nope } }" })),
        (
            "a variable that does not coerce",
            json!({ "query": "query($id: UUID!) { beneficiary(id: $id) { id } }", "variables": { "id": "x" } }),
        ),
        (
            "a required variable missing",
            json!({ "query": "query($id: UUID!) { beneficiary(id: $id) { id } }" }),
        ),
        (
            "a variable of the wrong type",
            json!({ "query": "query($id: String!) { beneficiary(id: $id) { id } }", "variables": { "id": "x" } }),
        ),
    ];
    for (case, body) in cases {
        let (status, content_type, text) = post_accepting(&app, Some(GRAPHQL_RESPONSE), body.clone()).await;
        assert_eq!((status, content_type.as_str()), (400, GRAPHQL_RESPONSE), "{case}: {text}");
        let answer = json_of(&text);
        assert!(answer.get("data").is_none(), "{case}: no data entry: {text}");
        assert_eq!(answer["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{case}");
        // A client of the older media type gets 200 and the same body.
        let (status, content_type, text) = post_accepting(&app, Some("application/json"), body).await;
        assert_eq!((status, content_type.as_str()), (200, "application/json"), "{case}");
        assert!(json_of(&text).get("data").is_none(), "{case}: no data entry: {text}");
    }
    // A field error is no request error: 200 with data, for either media type.
    let missing = json!({ "query": "{ beneficiary(id: \"01a229f9-7b8d-7508-992a-2c6386c5c75e\") { id } }" });
    let (status, _, text) = post_accepting(&app, Some(GRAPHQL_RESPONSE), missing).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        json_of(&text),
        json!({ "data": { "beneficiary": null }, "errors": json_of(&text)["errors"] })
    );
    assert_eq!(json_of(&text)["errors"][0]["extensions"]["code"], "NOT_FOUND");
    // Before GraphQL: no token, a body that is not JSON, no content type.
    let response = app.client.post(app.url("/graphql")).json(&json!({ "query": "{ me { agency } }" })).send();
    let response = response.await.expect("request");
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.json::<Value>().await.expect("json").get("data").is_none());
    let response = app.client.post(app.url("/graphql")).bearer_auth(app.admin());
    let response = response.header("Content-Type", "application/json").body("{\"query\": ").send().await;
    let response = response.expect("request");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("a GraphQL error body, not a debug string");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    let response = app.client.post(app.url("/graphql")).bearer_auth(app.admin()).body("{}").send().await;
    assert_eq!(response.expect("request").status().as_u16(), 415);
}

#[tokio::test]
async fn a_mutation_with_a_bad_variable_in_a_later_field_writes_nothing() {
    let app = spawn_app().await;
    let (nik, kk) = app.identity();
    let query = "mutation($first: CreateBeneficiaryInput!, $second: CreateBeneficiaryInput!) {
        a: createBeneficiary(input: $first) { beneficiary { id } }
        b: createBeneficiary(input: $second) { beneficiary { id } } }";
    let mut second = beneficiary_input(&nik, &kk, 2);
    second["decileAssessedOn"] = json!("yesterday");
    let events = app.event_count().await;
    let (status, body) = app
        .post(
            Some(&app.admin()),
            query,
            json!({ "first": beneficiary_input(&nik, &kk, 1), "second": second }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body.get("data").is_none(), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("$second") && message.contains("decileAssessedOn"), "{message}");
    assert_eq!(app.event_count().await, events, "the first root field did not run");
    let found = app
        .gql(
            &app.admin(),
            "query($nik: String) { beneficiaries(filter: { nik: $nik }) { totalCount } }",
            json!({ "nik": nik }),
        )
        .await;
    assert_eq!(found["data"]["beneficiaries"]["totalCount"], 0, "{found}");
}

/// The keys of the object at `pointer` in a response text, in the order sent (async-graphql's
/// value keeps the order; serde_json's map would sort it).
fn keys_in_order(text: &str, pointer: &[&str]) -> Vec<String> {
    let mut at: async_graphql::Value = serde_json::from_str(text).expect("json");
    for key in pointer {
        at = match at {
            async_graphql::Value::Object(mut map) => {
                map.shift_remove(*key).unwrap_or_else(|| panic!("no {key}"))
            }
            _ => panic!("not an object at {key}"),
        };
    }
    match at {
        async_graphql::Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
        _ => panic!("not an object"),
    }
}

#[tokio::test]
async fn fields_come_back_in_the_order_asked_whatever_resolves_first() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    // `b` reads the database, `a` and `z` do not: they finish first.
    let query = format!(
        "{{ b: beneficiaries(first: 5) {{ totalCount }} a: me {{ agency }} z: agencies {{ code }} \
           c: beneficiary(id: \"{person}\") {{ zz: decile id ... on Beneficiary {{ businesses {{ id }} }} aa: fullName }} }}"
    );
    let response = app.client.post(app.url("/graphql")).bearer_auth(app.admin());
    let text =
        response.json(&json!({ "query": query })).send().await.expect("request").text().await.expect("text");
    assert_eq!(keys_in_order(&text, &["data"]), ["b", "a", "z", "c"], "{text}");
    assert_eq!(keys_in_order(&text, &["data", "c"]), ["zz", "id", "businesses", "aa"], "{text}");
}

#[tokio::test]
async fn a_relation_the_token_may_not_read_is_null_with_its_error_and_the_record_stays() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    app.business(&person, "Warung", "FOOD").await;
    let token = app.token("DINSOS", "beneficiary:read", &["64"]);
    let query = "query($id: UUID!) { beneficiary(id: $id) { id businesses { id } decile } }";
    let over_http = app.gql(&token, query, json!({ "id": person })).await;
    assert_eq!(over_http["data"]["beneficiary"]["id"], person.as_str(), "{over_http}");
    assert_eq!(over_http["data"]["beneficiary"]["businesses"], Value::Null, "{over_http}");
    assert!(over_http["data"]["beneficiary"].as_object().is_some_and(|o| o.contains_key("businesses")));
    assert_eq!(over_http["errors"][0]["path"], json!(["beneficiary", "businesses"]));
    assert_eq!(over_http["errors"][0]["extensions"]["code"], "FORBIDDEN");
    // The same over the WebSocket.
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    ws.subscribe("q", query, json!({ "id": person })).await;
    let next = ws.next("q").await;
    assert_eq!(next["type"], "next");
    assert_eq!(next["payload"], over_http, "the same answer through both doors");
    // A root field the token may not read is non-null: the error nulls `data`.
    let root =
        app.gql(&token, "{ loanApplications(first: 1) { totalCount } me { agency } }", json!({})).await;
    assert_eq!(root["data"], Value::Null, "{root}");
    assert_eq!(root["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn over_the_websocket_a_request_error_is_an_error_message() {
    let app = spawn_app().await;
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&app.admin())).await.expect("connect");
    ws.subscribe("v", "query($id: String!) { beneficiary(id: $id) { id } }", json!({ "id": "x" })).await;
    let message = ws.next("v").await;
    assert_eq!(message["type"], "error", "{message}");
    assert!(message["payload"].is_array(), "the payload is the list of errors: {message}");
    assert_eq!(message["payload"][0]["extensions"]["code"], "BAD_REQUEST");
    ws.subscribe("p", "subscription { caseEvents { nope } }", json!({})).await;
    let message = ws.next("p").await;
    assert_eq!(message["type"], "error", "{message}");
    // The socket still serves: the error ended that operation only.
    ws.subscribe("ok", "{ me { agency } }", json!({})).await;
    let message = ws.next("ok").await;
    assert_eq!(message["payload"]["data"]["me"]["agency"], "DINSOS");
    let mutation = CREATE_BENEFICIARY;
    let (nik, kk) = app.identity();
    ws.subscribe("m", mutation, json!({ "input": beneficiary_input(&nik, &kk, 3) })).await;
    let message = ws.next("m").await;
    assert_eq!(message["type"], "next", "{message}");
}

#[tokio::test]
async fn an_object_whose_every_field_is_skipped_is_an_empty_object() {
    let app = spawn_app().await;
    let query = "query($a: Boolean!) { me { agency @include(if: $a) } agencies { code @skip(if: true) } }";
    let body = app.gql(&app.admin(), query, json!({ "a": false })).await;
    assert_eq!(body["data"]["me"], json!({}), "{body}");
    assert!(
        body["data"]["agencies"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|o| o == &json!({})))
    );
    assert!(body.get("errors").is_none(), "{body}");
}

/// The fields of object type `name` a selection can name without arguments and without a
/// selection of their own (scalars and enums), by introspection: a field added later is covered.
async fn leaf_fields(app: &TestApp, name: &str) -> Vec<String> {
    let query = "query($n: String!) { __type(name: $n) { fields { name args { type { kind } }
                 type { kind ofType { kind ofType { kind ofType { kind } } } } } } }";
    let body = app.gql(&app.admin(), query, json!({ "n": name })).await;
    let fields = body["data"]["__type"]["fields"].as_array().unwrap_or_else(|| panic!("{name}: {body}"));
    let leaf = |t: &Value| {
        let mut t = t;
        while matches!(t["kind"].as_str(), Some("NON_NULL" | "LIST")) {
            t = &t["ofType"];
        }
        matches!(t["kind"].as_str(), Some("SCALAR" | "ENUM"))
    };
    let names: Vec<String> = fields
        .iter()
        .filter(|f| {
            leaf(&f["type"])
                && f["args"].as_array().is_some_and(|a| a.iter().all(|a| a["type"]["kind"] != "NON_NULL"))
        })
        .map(|f| f["name"].as_str().expect("name").to_owned())
        .collect();
    assert!(names.len() > 5, "{name}: {names:?}");
    names
}

/// A record object reads its plain fields in one pass and leaves the rest to its resolvers
/// (`object.rs`); a selection inside a fragment takes async-graphql's own resolution instead.
/// Both answer the same for every leaf field, masked or not, with aliases and `__typename`, in
/// a list and for one record.
#[tokio::test]
async fn a_record_answers_the_same_whichever_way_its_fields_are_resolved() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    app.running_business(&person, "2025-02-01").await;
    let person_fields = leaf_fields(&app, "Beneficiary").await.join(" ");
    let business_fields = leaf_fields(&app, "Business").await.join(" ");
    let direct = format!(
        "query($id: UUID!) {{ beneficiary(id: $id) {{ __typename again: id {person_fields}
           businesses {{ {business_fields} __typename }} }}
           beneficiaries(first: 5) {{ nodes {{ {person_fields} businesses {{ {business_fields} }} }} }} }}"
    );
    let fragments = format!(
        "query($id: UUID!) {{ beneficiary(id: $id) {{ ... on Beneficiary {{ __typename again: id {person_fields}
           businesses {{ ... on Business {{ {business_fields} __typename }} }} }} }}
           beneficiaries(first: 5) {{ nodes {{ ... on Beneficiary {{ {person_fields}
             businesses {{ ... on Business {{ {business_fields} }} }} }} }} }} }}"
    );
    let masked = app.token("DINSOS", "beneficiary:read business:read", &["64"]);
    for token in [app.admin(), masked] {
        let one = app.gql(&token, &direct, json!({ "id": person })).await;
        let other = app.gql(&token, &fragments, json!({ "id": person })).await;
        assert!(one.get("errors").is_none(), "{one}");
        assert_eq!(one["data"]["beneficiary"]["again"], person.as_str(), "{one}");
        assert_eq!(one["data"]["beneficiary"]["businesses"][0]["status"], "RUNNING", "{one}");
        assert_eq!(one["data"]["beneficiary"]["businesses"][0]["__typename"], "Business", "{one}");
        assert_eq!(one, other);
    }
    // Byte for byte, keys in the order asked.
    let text = |query: &str| {
        let body = json!({ "query": query, "variables": { "id": person } });
        async { post_accepting(&app, None, body).await.2 }
    };
    assert_eq!(text(&direct).await, text(&fragments).await);
    // A relation the token may not read fails beside the fields read at once: the same null and
    // error either way.
    let no_businesses = app.token("DINSOS", "beneficiary:read", &["64"]);
    let one = app.gql(&no_businesses, &direct, json!({ "id": person })).await;
    let other = app.gql(&no_businesses, &fragments, json!({ "id": person })).await;
    assert_eq!(one["errors"][0]["extensions"]["code"], "FORBIDDEN", "{one}");
    assert_eq!(one["data"]["beneficiary"]["businesses"], Value::Null, "{one}");
    assert_eq!(one["data"], other["data"]);
    // The same errors at the same paths (the two documents place them at other columns, and the
    // root fields finish in either order).
    let errors = |body: &Value| {
        let mut errors: Vec<String> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| format!("{} {} {}", e["path"], e["extensions"]["code"], e["message"]))
            .collect();
        errors.sort();
        errors
    };
    assert_eq!(errors(&one).len(), 2, "{one}");
    assert_eq!(errors(&one), errors(&other));
    // A key named twice (resolved by async-graphql, merged) and a field kept by `@include`.
    let twice = "query($id: UUID!) { beneficiary(id: $id) { decile decile isDemo @include(if: true) id } }";
    let twice_in_fragment = "query($id: UUID!) { beneficiary(id: $id) { ... on Beneficiary { decile decile
                             isDemo @include(if: true) id } } }";
    let one = app.gql(&app.admin(), twice, json!({ "id": person })).await;
    assert_eq!(one["data"]["beneficiary"]["decile"], 2, "{one}");
    assert_eq!(one, app.gql(&app.admin(), twice_in_fragment, json!({ "id": person })).await);
}
