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

/// The fields of object type `name` that need no argument and return one of `kinds` (through
/// lists and non-nulls), by introspection — with the deprecated ones if `deprecated`: a field
/// added later is covered.
async fn fields_of(app: &TestApp, name: &str, kinds: &[&str], deprecated: bool) -> Vec<String> {
    let query = "query($n: String!, $d: Boolean!) { __type(name: $n) { fields(includeDeprecated: $d) { name
                 args { type { kind } } type { kind ofType { kind ofType { kind ofType { kind } } } } } } }";
    let body = app.gql(&app.admin(), query, json!({ "n": name, "d": deprecated })).await;
    let fields = body["data"]["__type"]["fields"].as_array().unwrap_or_else(|| panic!("{name}: {body}"));
    let returns = |t: &Value| {
        let mut t = t;
        while matches!(t["kind"].as_str(), Some("NON_NULL" | "LIST")) {
            t = &t["ofType"];
        }
        t["kind"].as_str().is_some_and(|kind| kinds.contains(&kind))
    };
    fields
        .iter()
        .filter(|f| {
            returns(&f["type"])
                && f["args"].as_array().is_some_and(|a| a.iter().all(|a| a["type"]["kind"] != "NON_NULL"))
        })
        .map(|f| f["name"].as_str().expect("name").to_owned())
        .collect()
}

/// The fields of object type `name` a selection can name without arguments and without a
/// selection of their own (scalars and enums).
async fn leaf_fields(app: &TestApp, name: &str) -> Vec<String> {
    let names = fields_of(app, name, &["SCALAR", "ENUM"], false).await;
    assert!(names.len() > 5, "{name}: {names:?}");
    names
}

/// The fields of the object type `name` that return objects (records, lists of them, unions,
/// connections) and need no argument.
async fn object_fields(app: &TestApp, name: &str) -> Vec<String> {
    fields_of(app, name, &["OBJECT", "UNION", "INTERFACE"], true).await
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

/// A connection resolves `__typename` and `nodes` itself and leaves its other fields to
/// async-graphql (`page.rs`); a selection inside a fragment, or a key named twice, takes
/// async-graphql's own resolution of the whole connection. Both answer the same, byte for byte
/// (keys in the order asked), for a top-level page and a nested one, with aliases, cursors,
/// counts and page info; and a node's failure is the same null and error either way.
#[tokio::test]
async fn a_page_answers_the_same_whichever_way_its_fields_are_resolved() {
    let app = spawn_app().await;
    for decile in [1, 2, 3] {
        let person = app.beneficiary(decile).await;
        let business = app.running_business(&person, "2025-02-01").await;
        for day in ["2025-03-01", "2025-04-01"] {
            let visit = json!({ "businessId": business, "volunteerName": "Relawan Uji", "visitedOn": day,
                                "observedStatus": "RUNNING" });
            let body = app
                .gql(
                    &app.admin(),
                    "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { userErrors { code } } }",
                    json!({ "i": visit }),
                )
                .await;
            assert_eq!(body["data"]["recordMonitoringVisit"]["userErrors"], json!([]), "{body}");
        }
    }
    let visits = "pageInfo { hasNextPage endCursor } v: nodes { visitedOn } __typename totalCount                   edges { cursor node { id } } nodes { observedStatus }";
    let people = format!(
        "totalCount kind: __typename nodes {{ id businesses {{ monitoringVisits(first: 1) {{ {visits} }} }} }}          pageInfo {{ hasPreviousPage hasNextPage startCursor }} edges {{ cursor }} again: nodes {{ decile }}"
    );
    let direct = format!("{{ beneficiaries(first: 2) {{ {people} }} }}");
    let fragments = format!(
        "{{ beneficiaries(first: 2) {{ ... on BeneficiaryConnection {{ {} }} }} }}",
        people.replace(
            &format!("{{ {visits} }}"),
            &format!("{{ ... on MonitoringVisitConnection {{ {visits} }} }}")
        )
    );
    let twice = format!("{{ beneficiaries(first: 2) {{ totalCount {people} }} }}");
    let text = |query: &str| {
        let body = json!({ "query": query });
        async { post_accepting(&app, None, body).await.2 }
    };
    let one = text(&direct).await;
    let body: Value = serde_json::from_str(&one).expect("JSON");
    let page = &body["data"]["beneficiaries"];
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(page["kind"], "BeneficiaryConnection", "{body}");
    assert_eq!(page["totalCount"], 3, "{body}");
    assert_eq!(page["nodes"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(page["again"][1]["decile"], 2, "{body}");
    assert_eq!(page["pageInfo"]["hasNextPage"], true, "{body}");
    let nested = &page["nodes"][0]["businesses"][0]["monitoringVisits"];
    assert_eq!(nested["__typename"], "MonitoringVisitConnection", "{body}");
    assert_eq!(nested["totalCount"], 2, "{body}");
    assert!(nested["v"][0]["visitedOn"].as_str().is_some_and(|d| d.starts_with("2025-0")), "{body}");
    assert_eq!(nested["nodes"][0]["observedStatus"], "RUNNING", "{body}");
    assert!(nested["edges"][0]["cursor"].is_string(), "{body}");
    assert_eq!(one, text(&fragments).await, "fragments");
    assert_eq!(one, text(&twice).await, "a key named twice");
    // A node whose relation the token may not read: the same data and error either way.
    let no_businesses = app.token("DINSOS", "beneficiary:read", &["64"]);
    let one = app.gql(&no_businesses, &direct, json!({})).await;
    let other = app.gql(&no_businesses, &fragments, json!({})).await;
    assert_eq!(one["errors"][0]["extensions"]["code"], "FORBIDDEN", "{one}");
    assert_eq!(one["data"]["beneficiaries"]["nodes"][0]["businesses"], Value::Null, "{one}");
    assert_eq!(one["data"], other["data"]);
    let paths = |body: &Value| {
        let mut paths: Vec<String> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| format!("{} {}", e["path"], e["extensions"]["code"]))
            .collect();
        paths.sort();
        paths
    };
    assert_eq!(paths(&one).len(), 2, "{one}");
    assert_eq!(paths(&one), paths(&other));
    // An empty page, and one of more nodes than are joined in one group (30).
    for _ in 0..30 {
        app.beneficiary(4).await;
    }
    for first in [0, 33] {
        let direct = format!("{{ beneficiaries(first: {first}) {{ nodes {{ id decile }} __typename }} }}");
        let fragment = format!(
            "{{ beneficiaries(first: {first}) {{ ... on BeneficiaryConnection {{ nodes {{ id decile }} __typename }} }} }}"
        );
        let one = text(&direct).await;
        let body: Value = serde_json::from_str(&one).expect("JSON");
        let nodes = body["data"]["beneficiaries"]["nodes"].as_array().cloned().unwrap_or_default();
        assert_eq!(nodes.len(), first, "{body}");
        if first > 0 {
            assert_eq!(nodes[0]["decile"], 1, "{body}");
            assert_eq!(nodes[32]["decile"], 4, "{body}");
        }
        assert_eq!(one, text(&fragment).await, "first: {first}");
    }
}

/// A page of records and the relations folded into its statement read, of a record's text
/// columns, only those the fields named in the document can show (`columns.rs`; PostgreSQL):
/// every leaf field of a beneficiary and of its businesses, loans, visits and referrals, asked
/// alone in the case view and in its type's own list, answers what the whole record read by id
/// answers.
#[tokio::test]
async fn a_field_answers_the_same_whichever_columns_its_statement_reads() {
    let app = spawn_app().await;
    let admin = app.admin();
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-01-01").await;
    let dinsos = app.token("DINSOS", "referral:read referral:write", &["64"]);
    let koperasi = app.token("DISPERINDAGKOP", "referral:read referral:write loan:read loan:write", &["64"]);
    let body = app
        .gql(
            &koperasi,
            "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { loanApplication { id } } }",
            json!({ "i": { "businessId": business, "product": "COOPERATIVE", "lender": "Koperasi Maju", "requestedAmount": 2000000, "tenorMonths": 6 } }),
        )
        .await;
    let loan = body["data"]["createLoanApplication"]["loanApplication"]["id"].clone();
    assert!(loan.is_string(), "{body}");
    // The text columns the comparison reads filled in: a decided loan with its reason, a
    // business's NIB and earlier stop, a referral's response note (below).
    for (version, mutation) in [(1, "submitLoanApplication"), (2, "startLoanReview")] {
        let move_ = format!(
            "mutation($i: StatusChangeInput!) {{ {mutation}(input: $i) {{ userErrors {{ code }} }} }}"
        );
        let body =
            app.gql(&koperasi, &move_, json!({ "i": { "id": loan, "expectedVersion": version } })).await;
        assert_eq!(body["data"][mutation]["userErrors"], json!([]), "{body}");
    }
    let approve = "mutation($i: ApproveLoanInput!) { approveLoan(input: $i) { userErrors { code } } }";
    let body = app
        .gql(&koperasi, approve, json!({ "i": { "id": loan, "expectedVersion": 3, "approvedAmount": 1500000, "reason": "Usaha layak" } }))
        .await;
    assert_eq!(body["data"]["approveLoan"]["userErrors"], json!([]), "{body}");
    let version = app
        .gql(&admin, "query($id: UUID!) { business(id: $id) { version } }", json!({ "id": business }))
        .await;
    let update = "mutation($i: UpdateBusinessInput!) { updateBusiness(input: $i) { userErrors { code } } }";
    let body = app
        .gql(
            &admin,
            update,
            json!({ "i": { "id": business, "expectedVersion": version["data"]["business"]["version"],
            "nib": "1234567890123", "stopCause": "Modal habis" } }),
        )
        .await;
    assert_eq!(body["data"]["updateBusiness"]["userErrors"], json!([]), "{body}");
    let body = app
        .gql(
            &admin,
            "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { userErrors { code } } }",
            json!({ "i": { "businessId": business, "volunteerName": "Agus (TKSK)", "visitedOn": "2025-06-01",
                "observedStatus": "STALLED", "obstacles": ["CAPITAL"], "notes": "Butuh modal", "followUpNeeded": true } }),
        )
        .await;
    assert_eq!(body["data"]["recordMonitoringVisit"]["userErrors"], json!([]), "{body}");
    let body = app
        .gql(
            &dinsos,
            "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }",
            json!({ "i": { "beneficiaryId": person, "businessId": business, "toAgency": "DISPERINDAGKOP",
                "service": "CAPITAL_ACCESS", "reason": "Modal usaha" } }),
        )
        .await;
    let referral = body["data"]["createReferral"]["referral"]["id"].clone();
    let accept = "mutation($i: StatusChangeInput!) { acceptReferral(input: $i) { userErrors { code } } }";
    let body = app.gql(&koperasi, accept, json!({ "i": { "id": referral, "expectedVersion": 1 } })).await;
    assert_eq!(body["data"]["acceptReferral"]["userErrors"], json!([]), "{body}");
    let complete =
        "mutation($i: CompleteReferralInput!) { completeReferral(input: $i) { userErrors { code } } }";
    let body = app
        .gql(&koperasi, complete, json!({ "i": { "id": referral, "expectedVersion": 2, "outcomeType": "LOAN_APPLICATION", "outcomeId": loan, "note": "Pinjaman disetujui" } }))
        .await;
    assert_eq!(body["data"]["completeReferral"]["userErrors"], json!([]), "{body}");

    let types = ["Beneficiary", "Business", "LoanApplication", "MonitoringVisit", "Referral"];
    let mut fields = Vec::new();
    for name in types {
        fields.push(leaf_fields(&app, name).await);
    }
    // The case view, with each type's fields in its slot.
    let view = |slots: [&str; 5]| {
        let [p, b, l, v, r] = slots;
        format!(
            "beneficiaries(first: 5) {{ nodes {{ id {p} businesses {{ id {b} loans {{ id {l} }}
               monitoringVisits(first: 5) {{ nodes {{ id {v} }} }} referrals {{ id {r} }} }} }} }}"
        )
    };
    let every: Vec<String> = fields.iter().map(|f| f.join(" ")).collect();
    let everything = view([&every[0], &every[1], &every[2], &every[3], &every[4]]);
    // The records of each slot in an answer.
    let records = |body: &Value, slot: usize| -> Vec<Value> {
        let people = body["data"]["beneficiaries"]["nodes"].as_array().cloned().unwrap_or_default();
        let businesses: Vec<Value> =
            people.iter().flat_map(|p| p["businesses"].as_array().cloned().unwrap_or_default()).collect();
        let below = |f: &dyn Fn(&Value) -> Value| -> Vec<Value> {
            businesses.iter().flat_map(|b| f(b).as_array().cloned().unwrap_or_default()).collect()
        };
        match slot {
            0 => people,
            1 => businesses.clone(),
            2 => below(&|b| b["loans"].clone()),
            3 => below(&|b| b["monitoringVisits"]["nodes"].clone()),
            _ => below(&|b| b["referrals"].clone()),
        }
    };
    // Each record read by id: the whole row. And each type's own list.
    let roots = ["beneficiary", "business", "loanApplication", "monitoringVisit", "referral"];
    let lists = ["beneficiaries", "businesses", "loanApplications", "monitoringVisits", "referrals"];
    let masked = app.token(
        "DINSOS",
        "beneficiary:read business:read loan:read monitoring:read referral:read",
        &["64"],
    );
    // Relations and other fields that return objects, compared by what they return (their
    // `__typename`, null, or a list of them): a resolver that reads a column it does not declare
    // (a referral's outcome, by its type) answers otherwise in the list.
    for (slot, name) in types.iter().enumerate() {
        for field in object_fields(&app, name).await {
            // Under an alias: the view selects some of these fields itself.
            let selection = format!("probe: {field} {{ __typename }}");
            let mut slots = [""; 5];
            slots[slot] = &selection;
            let alone = format!("{{ {} }}", view(slots));
            let body = app.gql(&admin, &alone, json!({})).await;
            let found = records(&body, slot);
            assert!(!found.is_empty(), "{name}.{field}: {body}");
            for record in found {
                let whole = format!("query($id: UUID!) {{ {}(id: $id) {{ {selection} }} }}", roots[slot]);
                let by_id = app.gql(&admin, &whole, json!({ "id": record["id"] })).await;
                assert_eq!(record["probe"], by_id["data"][roots[slot]]["probe"], "{name}.{field}: {body}");
            }
        }
    }
    for (slot, names) in fields.iter().enumerate() {
        for field in names {
            let mut slots = [""; 5];
            slots[slot] = field;
            let alone = format!("{{ {} }}", view(slots));
            for token in [&admin, &masked] {
                let body = app.gql(token, &alone, json!({})).await;
                assert!(body.get("errors").is_none(), "{}.{field}: {body}", types[slot]);
                let mut found = records(&body, slot);
                assert!(!found.is_empty(), "{}.{field}: {body}", types[slot]);
                let list = format!("{{ {}(first: 20) {{ nodes {{ id {field} }} }} }}", lists[slot]);
                let body = app.gql(token, &list, json!({})).await;
                let listed = body["data"][lists[slot]]["nodes"].as_array().cloned().unwrap_or_default();
                assert!(!listed.is_empty(), "{}.{field}: {body}", lists[slot]);
                found.extend(listed);
                for record in found {
                    let whole = format!("query($id: UUID!) {{ {}(id: $id) {{ {field} }} }}", roots[slot]);
                    let by_id = app.gql(token, &whole, json!({ "id": record["id"] })).await;
                    assert_eq!(
                        record[field], by_id["data"][roots[slot]][field],
                        "{}.{field}: {by_id}",
                        types[slot]
                    );
                }
            }
        }
    }
    // Paging by a text column not otherwise selected: the cursor holds the sort value read for
    // it, so each page starts after the last.
    for _ in 0..2 {
        app.beneficiary(3).await;
    }
    let page =
        "query($after: String) { beneficiaries(first: 1, after: $after, orderBy: { field: FULL_NAME }) {
                nodes { id } pageInfo { hasNextPage endCursor } } }";
    let (mut seen, mut after) = (Vec::new(), Value::Null);
    loop {
        let body = app.gql(&admin, page, json!({ "after": after })).await;
        let list = &body["data"]["beneficiaries"];
        seen.push(list["nodes"][0]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned());
        if list["pageInfo"]["hasNextPage"] != true {
            break;
        }
        assert!(seen.len() < 10, "pages never end: {seen:?}");
        after = list["pageInfo"]["endCursor"].clone();
    }
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!((seen.len(), distinct.len()), (3, 3), "{seen:?}");
    // The data holds what the comparison needs: each record present, its text filled in.
    let one = app.gql(&admin, &format!("{{ {everything} }}"), json!({})).await;
    let case = &one["data"]["beneficiaries"]["nodes"][0];
    assert!(case["nik"].as_str().is_some_and(|n| n.len() == 16), "{one}");
    let business = &case["businesses"][0];
    assert_eq!(business["loans"][0]["lender"], "Koperasi Maju", "{one}");
    assert_eq!(business["monitoringVisits"]["nodes"][0]["notes"], "Butuh modal", "{one}");
    assert_eq!(business["referrals"][0]["outcomeType"], "LOAN_APPLICATION", "{one}");
    assert_eq!(business["referrals"][0]["responseNote"], "Pinjaman disetujui", "{one}");
    assert_eq!(business["loans"][0]["decisionReason"], "Usaha layak", "{one}");
    assert_eq!(
        (&business["nib"], &business["stopCause"]),
        (&json!("1234567890123"), &json!("Modal habis")),
        "{one}"
    );
}
