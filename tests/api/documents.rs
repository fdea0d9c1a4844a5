//! Persisted documents: Apollo's automatic persisted queries over POST and GET, queries over GET
//! (mutations refused 405), and trusted documents — a client the policy marks runs only the
//! documents registered for it, on every door (POST, GET, WebSocket).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sinergi_api::{
    documents::{self, Registration},
    policy::{DEFAULT_POLICY, Policy},
};

use crate::{
    helpers::{Setup, TestApp, spawn},
    subscriptions::{WsClient, init},
};

const ME: &str = "query Me { me { agency client } }";

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn apq(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// Status, content type and body of a POST of `body`.
async fn post(app: &TestApp, token: &str, body: Value, accept: &str) -> (u16, String, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("accept", accept)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let media = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, media, response.json().await.expect("json"))
}

/// Status, `Allow` and body of a GET with these parameters.
async fn get(app: &TestApp, token: &str, params: &[(&str, String)]) -> (u16, Option<String>, Value) {
    let response =
        app.client.get(app.url("/graphql")).bearer_auth(token).query(params).send().await.expect("request");
    let status = response.status().as_u16();
    let allow = response.headers().get("allow").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, allow, response.json().await.expect("json"))
}

#[tokio::test]
async fn automatic_persisted_queries_follow_apollos_protocol_over_post_and_get() {
    let app = spawn(Setup::default()).await;
    let token = app.client_token("DINSOS", "portal", "beneficiary:read");
    let hash = sha256(ME);

    // Unknown hash: the protocol's answer, which makes the client send the document.
    let (status, _, body) = post(&app, &token, json!({ "extensions": apq(&hash) }), "application/json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let (_, _, body) = get(&app, &token, &[("extensions", apq(&hash).to_string())]).await;
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound", "{body}");

    // A hash that is not the document's is refused, and teaches nothing.
    let lie = json!({ "query": "{ me { client } }", "extensions": apq(&hash) });
    let (status, _, body) = post(&app, &token, lie, "application/graphql-response+json").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["message"], "provided sha does not match query", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");

    // The document with its hash runs and is kept; then the hash alone runs it, by POST or GET.
    let (_, _, body) =
        post(&app, &token, json!({ "query": ME, "extensions": apq(&hash) }), "application/json").await;
    assert_eq!(body["data"]["me"]["client"], "portal", "{body}");
    let (_, _, body) =
        post(&app, &token, json!({ "extensions": apq(&hash.to_uppercase()) }), "application/json").await;
    assert_eq!(body["data"]["me"]["agency"], "DINSOS", "{body}");
    let (status, _, body) = get(&app, &token, &[("extensions", apq(&hash).to_string())]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["client"], "portal", "{body}");

    // Malformed references are request errors.
    let bad = json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": hash } } });
    let (_, _, body) = post(&app, &token, bad, "application/json").await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap_or("").contains("version must be 1"), "{body}");
}

#[tokio::test]
async fn get_runs_queries_with_their_variables_and_refuses_mutations() {
    let app = spawn(Setup::default()).await;
    let token = app.admin();
    let id = app.beneficiary(3).await;
    let query = "query One($id: UUID!) { beneficiary(id: $id) { decile } } query Other { me { agency } }";
    let params = [
        ("query", query.to_owned()),
        ("operationName", "One".to_owned()),
        ("variables", json!({ "id": id }).to_string()),
    ];
    let (status, _, body) = get(&app, &token, &params).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["beneficiary"]["decile"], 3, "operationName and variables are read: {body}");

    let mutation =
        "mutation($i: StatusChangeInput!) { graduateBeneficiary(input: $i) { beneficiary { status } } }";
    let params = [
        ("query", mutation.to_owned()),
        ("variables", json!({ "i": { "id": id, "expectedVersion": 1 } }).to_string()),
    ];
    let (status, allow, body) = get(&app, &token, &params).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(allow.as_deref(), Some("POST"));
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{body}");
    let check = app
        .gql(&token, "query($id: UUID!) { beneficiary(id: $id) { status version } }", json!({ "id": id }))
        .await;
    assert_eq!(check["data"]["beneficiary"]["version"], 1, "nothing ran: {check}");

    let (status, _, body) =
        get(&app, &token, &[("query", "{ me { agency } }".into()), ("variables", "[1".into())]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap_or("").contains("`variables`"), "{body}");
    // Without a token, GET is refused as POST is.
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ me { agency } }")])
        .send()
        .await
        .expect("get");
    assert_eq!(response.status().as_u16(), 401);
}

/// The default policy with DINSOS's API client `dashboard` running only registered documents.
fn trusted_policy() -> Policy {
    Policy::from_toml(&format!(
        "{DEFAULT_POLICY}\n[agencies.DINSOS.clients.dashboard]\ntrusted_documents = true\n"
    ))
    .expect("policy")
}

#[tokio::test]
async fn a_trusted_documents_client_runs_only_its_registered_documents_on_every_door() {
    let app = spawn(Setup { policy: trusted_policy(), ..Setup::default() }).await;
    let events = r#"subscription Events { caseEvents(after: "0") { sequence action } }"#;
    let manifest = json!({ "me-v1": ME, sha256(events): events }).to_string();
    let registrations = documents::read_manifest("persisted-documents.json", &manifest).expect("manifest");
    documents::register(&app.db, "DINSOS", "dashboard", &registrations).await.expect("register");
    let only = Registration { id: "shared-1".into(), document: "{ me { agency } }".into(), name: None };
    documents::register(&app.db, "DINSOS", documents::EVERY_CLIENT, &[only]).await.expect("register");

    let dashboard = app.client_token("DINSOS", "dashboard", "beneficiary:read events:subscribe");
    let json = "application/graphql-response+json";
    // A registered document by id, by its text, by its APQ hash.
    let (_, _, body) = post(&app, &dashboard, json!({ "documentId": "me-v1" }), json).await;
    assert_eq!(body["data"]["me"]["client"], "dashboard", "{body}");
    let (_, _, body) = post(&app, &dashboard, json!({ "query": ME }), json).await;
    assert_eq!(body["data"]["me"]["client"], "dashboard", "its registered text: {body}");
    let (_, _, body) = post(&app, &dashboard, json!({ "documentId": "shared-1" }), json).await;
    assert_eq!(body["data"]["me"]["agency"], "DINSOS", "registered for every client: {body}");
    let (_, _, body) = get(&app, &dashboard, &[("documentId", "me-v1".into())]).await;
    assert_eq!(body["data"]["me"]["client"], "dashboard", "GET: {body}");

    // Anything else is refused, whichever door.
    let other = "{ beneficiaries(first: 5) { nodes { id } } }";
    let (status, _, body) = post(&app, &dashboard, json!({ "query": other }), json).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let (status, _, body) =
        post(&app, &dashboard, json!({ "query": other, "extensions": apq(&sha256(other)) }), json).await;
    assert_eq!(status, 403, "APQ cannot teach it a document: {body}");
    let (_, _, body) = post(&app, &dashboard, json!({ "extensions": apq(&sha256(other)) }), json).await;
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound", "{body}");
    let (status, _, body) = get(&app, &dashboard, &[("query", other.into())]).await;
    assert_eq!(status, 200, "GET answers application/json by default: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let (_, _, body) = post(&app, &dashboard, json!({ "documentId": "nope" }), json).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{body}");

    app.beneficiary(2).await;
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&dashboard)).await.expect("connect");
    ws.subscribe("x", other, json!({})).await;
    let message = ws.next("x").await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(message["payload"][0]["extensions"]["code"], "FORBIDDEN", "{message}");
    ws.send(json!({ "id": "e", "type": "subscribe", "payload": { "documentId": sha256(events) } })).await;
    let message = ws.next("e").await;
    assert_eq!(message["type"], "next", "a registered subscription runs: {message}");
    assert_eq!(message["payload"]["data"]["caseEvents"]["action"], "CREATED", "{message}");

    // Another client of the agency runs anything, and may use the agency's shared documents;
    // another agency's client cannot reach DINSOS's documents.
    let portal = app.client_token("DINSOS", "portal", "beneficiary:read");
    let (_, _, body) = post(&app, &portal, json!({ "query": other }), json).await;
    assert!(body["data"]["beneficiaries"]["nodes"].is_array(), "{body}");
    let (_, _, body) = post(&app, &portal, json!({ "documentId": "shared-1" }), json).await;
    assert_eq!(body["data"]["me"]["agency"], "DINSOS", "{body}");
    let (_, _, body) = post(&app, &portal, json!({ "documentId": "me-v1" }), json).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "dashboard's own: {body}");
    let foreign = app.client_token("DISPERINDAGKOP", "dashboard", "business:read");
    let (_, _, body) = post(&app, &foreign, json!({ "documentId": "shared-1" }), json).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{body}");

    // Removing a document stops it at once.
    documents::remove(&app.db, "DINSOS", "dashboard", &["me-v1".into()]).await.expect("remove");
    let (_, _, body) = post(&app, &dashboard, json!({ "documentId": "me-v1" }), json).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{body}");
    let (status, _, _) = post(&app, &dashboard, json!({ "query": ME }), json).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn an_idempotency_key_fingerprints_the_document_a_reference_resolves_to() {
    let app = spawn(Setup::default()).await;
    let token = app.admin();
    let approve = "mutation Approve($i: StatusChangeInput!) { graduateBeneficiary(input: $i) { beneficiary { status } } }";
    let other = "mutation Other($i: StatusChangeWithReasonInput!) { deactivateBeneficiary(input: $i) { beneficiary { status } } }";
    let registrations = [
        Registration { id: "approve-v1".into(), document: approve.into(), name: None },
        Registration { id: "other-v1".into(), document: other.into(), name: None },
    ];
    documents::register(&app.db, "DINSOS", "dinsos-test", &registrations).await.expect("register");
    let id = app.beneficiary(3).await;
    let variables = json!({ "i": { "id": id, "expectedVersion": 1 } });
    let with_reason = json!({ "i": { "id": id, "expectedVersion": 1, "reason": "pindah" } });
    let send = |body: Value, key: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            let response = app
                .client
                .post(app.url("/graphql"))
                .bearer_auth(token)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .expect("post");
            let status = response.status().as_u16();
            let replayed = response.headers().contains_key("idempotent-replayed");
            (status, replayed, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, replayed, body) =
        send(json!({ "documentId": "approve-v1", "variables": variables }), "k-doc").await;
    assert_eq!((status, replayed), (200, false), "{body}");
    assert_eq!(body["data"]["graduateBeneficiary"]["beneficiary"]["status"], "GRADUATED", "{body}");
    // Another registered document under the same key is another request.
    let (status, _, body) =
        send(json!({ "documentId": "other-v1", "variables": with_reason }), "k-doc").await;
    assert_eq!(status, 422, "{body}");
    // The text of the same document is the same request.
    let (status, replayed, body) = send(json!({ "query": approve, "variables": variables }), "k-doc").await;
    assert_eq!((status, replayed), (200, true), "{body}");

    // APQ: the first request sent the text and its hash; the retry sends the hash alone.
    let second = app.beneficiary(3).await;
    let variables = json!({ "i": { "id": second, "expectedVersion": 1 } });
    let text =
        "mutation G($i: StatusChangeInput!) { graduateBeneficiary(input: $i) { beneficiary { status } } }";
    let body = json!({ "query": text, "variables": variables, "extensions": apq(&sha256(text)) });
    let (status, replayed, first) = send(body, "k-apq").await;
    assert_eq!((status, replayed), (200, false), "{first}");
    let (status, replayed, again) =
        send(json!({ "variables": variables, "extensions": apq(&sha256(text)) }), "k-apq").await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(first, again);
}

#[tokio::test]
async fn learnt_and_registered_documents_stay_with_their_agency_and_client() {
    let app = spawn(Setup { policy: trusted_policy(), ..Setup::default() }).await;
    let json = "application/json";
    // A client's own document comes before its agency's under the same id.
    let mine =
        Registration { id: "view-1".into(), document: "query Mine { me { client } }".into(), name: None };
    let shared =
        Registration { id: "view-1".into(), document: "query Shared { me { agency } }".into(), name: None };
    documents::register(&app.db, "DINSOS", "portal", &[mine]).await.expect("register");
    documents::register(&app.db, "DINSOS", documents::EVERY_CLIENT, &[shared]).await.expect("register");
    let portal = app.client_token("DINSOS", "portal", "beneficiary:read");
    let (_, _, body) = post(&app, &portal, json!({ "documentId": "view-1" }), json).await;
    assert_eq!(body["data"]["me"], json!({ "client": "portal" }), "{body}");
    let kiosk = app.client_token("DINSOS", "kiosk", "beneficiary:read");
    let (_, _, body) = post(&app, &kiosk, json!({ "documentId": "view-1" }), json).await;
    assert_eq!(body["data"]["me"], json!({ "agency": "DINSOS" }), "{body}");

    // What one agency's client taught APQ, another agency's client cannot use or probe, and a
    // trusted client of the same agency cannot run.
    let query = "query Probe { me { agency client } }";
    let teach = json!({ "query": query, "extensions": apq(&sha256(query)) });
    let (_, _, body) = post(&app, &portal, teach, json).await;
    assert_eq!(body["data"]["me"]["client"], "portal", "{body}");
    let foreign = app.client_token("DISPERINDAGKOP", "portal", "business:read");
    let (_, _, body) = post(&app, &foreign, json!({ "extensions": apq(&sha256(query)) }), json).await;
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound", "{body}");
    let dashboard = app.client_token("DINSOS", "dashboard", "beneficiary:read");
    let (_, _, body) = post(&app, &dashboard, json!({ "extensions": apq(&sha256(query)) }), json).await;
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound", "{body}");
    let (_, _, body) = post(&app, &portal, json!({ "extensions": apq(&sha256(query)) }), json).await;
    assert_eq!(body["data"]["me"]["client"], "portal", "the teacher's agency runs it: {body}");

    // A reference that is not a string is refused, over POST and WebSocket alike.
    let (_, _, body) = post(&app, &portal, json!({ "documentId": 7, "query": " " }), json).await;
    assert!(
        body["errors"][0]["message"].as_str().unwrap_or("").contains("documentId must be a string"),
        "{body}"
    );
    let token = app.client_token("DINSOS", "portal", "beneficiary:read events:subscribe");
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    ws.send(json!({ "id": "n", "type": "subscribe", "payload": { "documentId": 7 } })).await;
    let message = ws.next("n").await;
    assert_eq!(message["type"], "error", "{message}");
}
