//! Requests meant to hurt the gateway, through every door: oversized and malformed bodies,
//! expensive documents, slow clients, and a WebSocket used after its token stopped being valid.
//! Each was found by an attack on the running gateway and is answered cleanly now.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use serde_json::{Value, json};
use sinergi_api::limits::{Introspection, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    helpers::{TestApp, error_code, spawn_app, spawn_app_with_limits},
    subscriptions::{WsClient, init},
};

const ME: &str = "{ me { agency } }";

async fn count(app: &TestApp, table: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count")
        .expect("row");
    row.try_get::<i64>("", "n").expect("n")
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_before_it_is_read_or_authenticated() {
    let app = spawn_app().await;
    let big = format!(r#"{{"query":"{{ me {{ agency }} }}","variables":{{"x":"{}"}}}}"#, "a".repeat(2 << 20));
    // No token, a declared length over the limit: refused before the body or the token is read.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Content-Type", "application/json")
        .body(big.clone())
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("max_body_bytes")));
    // No declared length (chunked): the limit holds while reading.
    let chunks = futures_util::stream::iter(
        big.into_bytes().chunks(64 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(app.admin())
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn multipart_uploads_batches_and_broken_json_are_refused_with_clean_errors() {
    let app = spawn_app().await;
    let token = app.admin();
    let multipart = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header("Content-Type", "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n")
        .send()
        .await
        .expect("response");
    assert_eq!(multipart.status(), 415);
    let batch = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!([{ "query": ME }, { "query": ME }]))
        .send()
        .await
        .expect("response");
    assert_eq!(batch.status(), 400);
    let body: Value = batch.json().await.expect("json");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("batched")), "{body}");
    let broken = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(r#"{"query": "{ me { agency } }""#)
        .send()
        .await
        .expect("response");
    assert_eq!(broken.status(), 400);
    let body: Value = broken.json().await.expect("json");
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"));
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        !message.contains("InvalidRequest") && !message.contains("Error("),
        "no Rust debug text: {message}"
    );
}

#[tokio::test]
async fn aliases_root_fields_depth_and_cost_are_bounded_before_execution() {
    let app = spawn_app_with_limits(Limits { max_root_fields: 5, ..Limits::default() }).await;
    let relawan = app.token("RELAWAN", "business:read monitoring:read", &["64"]);
    let schema_bomb: String =
        (0..450).map(|i| format!("a{i}: __schema {{ types {{ fields {{ name }} }} }} ")).collect();
    let body = app.gql(&relawan, &format!("{{ {schema_bomb} }}"), json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("max_aliases")), "{body}");
    assert!(body["data"].is_null());

    let token = app.admin();
    let many: String =
        (0..31).map(|i| format!("b{i}: beneficiaries(first: 100) {{ totalCount }} ")).collect();
    let body = app.gql(&token, &format!("{{ {many} }}"), json!({})).await;
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("max_aliases")), "{body}");
    let many: String =
        (0..3000).map(|i| format!("b{i}: beneficiaries(first: 100) {{ totalCount }} ")).collect();
    let body = app.gql(&token, &format!("{{ {many} }}"), json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "3,000 aliases");

    let roots: String = (0..6).map(|i| format!("m{i}: me {{ agency }} ")).collect();
    let body = app.gql(&token, &format!("{{ {roots} }}"), json!({})).await;
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("max_root_fields")), "{body}");

    let costly = "query($n: Int) { beneficiaries(first: $n) { nodes { assistance { id amount } enrollments { id } monitoringVisits { nodes { id } } businesses { loans { id requestedAmount status } monitoringVisits { nodes { id } } referrals { id } owner { businesses { id } } } } } }";
    let body = app.gql(&token, costly, json!({ "n": 100 })).await;
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("max_cost")), "{body}");
    let body = app.gql(&token, costly, json!({ "n": 5 })).await;
    assert!(body["errors"].is_null(), "the same with a small page runs: {body}");

    let deep = "{ businesses(first: 1) { nodes { owner { businesses { owner { businesses { owner { businesses { owner { businesses { owner { businesses { id } } } } } } } } } } } } }";
    let body = app.gql(&token, deep, json!({})).await;
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("max_depth")), "{body}");

    let brackets = format!("{}{}", "{ me ".repeat(50_000), "}".repeat(50_000));
    let body = app.gql(&token, &brackets, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{body}");
    let body = app.gql(&token, ME, json!({})).await;
    assert_eq!(body["data"]["me"]["agency"], "DINSOS", "the gateway is still up");
}

#[tokio::test]
async fn introspection_is_only_for_tokens_the_configuration_allows() {
    let app =
        spawn_app_with_limits(Limits { introspection: Introspection::Admin, ..Limits::default() }).await;
    let query = "{ __schema { queryType { name } } }";
    let relawan = app.token("RELAWAN", "business:read", &["64"]);
    let body = app.gql(&relawan, query, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let body = app.gql(&relawan, "{ __type(name: \"Business\") { name } }", json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let body = app.gql(&app.admin(), query, json!({})).await;
    assert!(body["data"]["__schema"]["queryType"]["name"].is_string(), "{body}");

    let off = spawn_app_with_limits(Limits { introspection: Introspection::Off, ..Limits::default() }).await;
    let body = off.gql(&off.admin(), query, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let body = off.gql(&off.admin(), "{ me { __typename agency } }", json!({})).await;
    assert_eq!(body["data"]["me"]["__typename"], "Me", "__typename is not introspection: {body}");
}

#[tokio::test]
async fn a_response_over_the_cap_is_withheld_and_its_personal_data_is_not_logged() {
    let app = spawn_app_with_limits(Limits { max_response_bytes: 600, ..Limits::default() }).await;
    app.beneficiary(2).await;
    let logged = count(&app, "pii_access_log").await;
    let query: String = (0..10)
        .map(|i| format!("b{i}: beneficiaries {{ nodes {{ nik kkNumber fullName address phone }} }} "))
        .collect();
    let body = app.gql(&app.admin(), &format!("{{ {query} }}"), json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("max_response_bytes")));
    assert!(!body.to_string().contains("647201"), "no NIK leaves: {body}");
    assert_eq!(count(&app, "pii_access_log").await, logged, "nothing was sent, so nothing was read");
}

#[tokio::test]
async fn a_token_beyond_the_policy_is_refused_even_when_correctly_signed() {
    let app = spawn_app().await;
    let evil = app.token("EVIL", "beneficiary:read", &["64"]);
    let (status, body) = app.post(Some(&evil), ME, json!({})).await;
    assert_eq!((status, error_code(&body).as_deref()), (401, Some("UNAUTHENTICATED")), "unknown agency");
    let century = app.token_with(sinergi_api::auth::TokenRequest {
        agency: "DINSOS".into(),
        client: "forever".into(),
        scopes: sinergi_api::auth::parse_scopes("beneficiary:read").unwrap_or_default(),
        regions: vec!["64".into()],
        ttl: chrono::Duration::days(36_500),
        volunteer: None,
    });
    let (status, _) = app.post(Some(&century), ME, json!({})).await;
    assert_eq!(status, 401, "a 100-year token is beyond every agency's maximum");
    let outside = app.token("DINSOS", "beneficiary:read", &["3171"]);
    assert_eq!(app.post(Some(&outside), ME, json!({})).await.0, 401, "a region outside Kaltim");
    // Scopes beyond the grant are dropped: the policy in force decides, not the token.
    let bappeda = app.token("BAPPEDA", "beneficiary:read pii:read admin", &["64"]);
    let body = app.gql(&bappeda, "{ me { scopes } }", json!({})).await;
    assert_eq!(body["data"]["me"]["scopes"], json!(["beneficiary:read"]), "{body}");
}

#[tokio::test]
async fn a_slow_request_head_is_disconnected() {
    let app = spawn_app().await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: sinergi\r\nX-Slow: ").await.expect("write");
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the server closed the connection of a client that never finished its head");
}

#[tokio::test]
async fn a_writer_holding_the_database_neither_blocks_readers_nor_runs_past_the_request_timeout() {
    let app = spawn_app_with_limits(Limits {
        request_timeout: Duration::from_secs(1),
        statement_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let token = app.admin();
    let id = app.beneficiary(2).await;
    // Another writer holds the beneficiary (on SQLite: the database's write lock).
    let holder = app.db.begin().await.expect("begin");
    holder
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("UPDATE beneficiary SET phone = phone WHERE id = '{id}'"),
        ))
        .await
        .expect("hold");
    let update = "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) { beneficiary { version } userErrors { code } } }";
    let write =
        app.gql(&token, update, json!({ "i": { "id": id, "expectedVersion": 1, "fullName": "Nama Baru" } }));
    let read = async {
        tokio::time::timeout(
            Duration::from_secs(5),
            app.gql(&token, "{ beneficiaries { totalCount } }", json!({})),
        )
        .await
    };
    let (written, read) = tokio::join!(write, read);
    let read = read.expect("a query answers while a writer waits");
    assert_eq!(read["data"]["beneficiaries"]["totalCount"], 1, "{read}");
    assert_eq!(error_code(&written).as_deref(), Some("BAD_REQUEST"), "{written}");
    holder.rollback().await.expect("rollback");
    let after = app
        .gql(&token, "query($id: UUID!) { beneficiary(id: $id) { version fullName } }", json!({ "id": id }))
        .await;
    assert_eq!(after["data"]["beneficiary"]["version"], 1, "the stopped write left nothing: {after}");
}

#[tokio::test]
async fn a_revoked_token_closes_its_socket_and_runs_nothing_more_on_it() {
    let app = spawn_app().await;
    let token = app.token("DINSOS", "beneficiary:read beneficiary:write pii:read", &["64"]);
    let id = app.beneficiary(2).await;
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    ws.subscribe("q", "{ me { tokenId } }", json!({})).await;
    let me = ws.next("q").await;
    let jti = me["payload"]["data"]["me"]["tokenId"].clone();
    assert_eq!(ws.next("q").await["type"], "complete");
    let revoke = "mutation($i: RevokeTokenInput!) { revokeToken(input: $i) { tokenId } }";
    app.gql(&app.admin(), revoke, json!({ "i": { "tokenId": jti } })).await;
    let events = app.event_count().await;
    let update =
        "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) { beneficiary { version } } }";
    ws.subscribe("w", update, json!({ "i": { "id": id, "expectedVersion": 1, "fullName": "Dibajak" } }))
        .await;
    assert_eq!(ws.closed().await, 4401, "a revoked token closes the socket with 4401");
    assert_eq!(app.event_count().await, events, "the mutation sent after revocation did not run");
}

#[tokio::test]
async fn an_expired_token_closes_its_socket_with_4401() {
    let app = spawn_app().await;
    let token = app.token_with(sinergi_api::auth::TokenRequest {
        agency: "DINSOS".into(),
        client: "short-lived".into(),
        scopes: sinergi_api::auth::parse_scopes("beneficiary:read").unwrap_or_default(),
        regions: vec!["64".into()],
        ttl: chrono::Duration::seconds(2),
        volunteer: None,
    });
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    assert_eq!(ws.closed().await, 4401);
}

#[tokio::test]
async fn unmasked_reads_over_a_socket_are_logged_with_their_purpose() {
    let app = spawn_app().await;
    app.beneficiary(2).await;
    let token = app.token("DINSOS", "beneficiary:read pii:read", &["64"]);
    let mut ws = WsClient::open(&app, "/graphql/ws", &[("X-Purpose", "referral-followup")]).await;
    ws.send(json!({ "type": "connection_init", "payload": init(&token) })).await;
    assert_eq!(ws.receive().await.map(|m| m["type"].clone()), Some(json!("connection_ack")));
    ws.subscribe("p", "query Lookup { beneficiaries { nodes { nik } } }", json!({})).await;
    let answer = ws.next("p").await;
    assert!(
        answer["payload"]["data"]["beneficiaries"]["nodes"][0]["nik"]
            .as_str()
            .is_some_and(|n| !n.contains('*'))
    );
    let log =
        app.gql(&app.admin(), "{ piiAccessLog { nodes { operation purpose fields } } }", json!({})).await;
    assert_eq!(log["data"]["piiAccessLog"]["nodes"][0]["operation"], "Lookup", "{log}");
    assert_eq!(log["data"]["piiAccessLog"]["nodes"][0]["purpose"], "referral-followup");
}

#[tokio::test]
async fn the_socket_protocol_is_enforced_with_its_close_codes() {
    let app = spawn_app_with_limits(Limits {
        ws_init_timeout: Duration::from_secs(1),
        max_subscriptions_per_socket: 2,
        ..Limits::default()
    })
    .await;
    let token = app.admin();
    let mut silent = WsClient::open(&app, "/graphql/ws", &[]).await;
    assert_eq!(silent.closed().await, 4408, "no connection_init in time");

    let mut early = WsClient::open(&app, "/graphql/ws", &[]).await;
    early.subscribe("1", ME, json!({})).await;
    assert_eq!(early.closed().await, 4401, "subscribe before connection_ack");

    let mut refused = WsClient::open(&app, "/graphql/ws", &[]).await;
    refused.send(json!({ "type": "connection_init", "payload": init("not-a-token") })).await;
    assert_eq!(refused.closed().await, 4403, "a refused connection_init");

    let mut twice = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    twice.send(json!({ "type": "connection_init", "payload": init(&token) })).await;
    assert_eq!(twice.closed().await, 4429);

    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    let live = "subscription { caseEvents { sequence } }";
    ws.subscribe("a", live, json!({})).await;
    ws.subscribe("b", live, json!({})).await;
    ws.subscribe("c", live, json!({})).await;
    let third = ws.next("c").await;
    assert_eq!(third["type"], "error");
    assert!(
        third["payload"][0]["message"].as_str().is_some_and(|m| m.contains("max_subscriptions_per_socket"))
    );
    ws.subscribe("a", live, json!({})).await;
    assert_eq!(ws.closed().await, 4409, "an id already in use");

    let mut garbage = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    garbage.send(json!({ "type": "nonsense" })).await;
    assert_eq!(garbage.closed().await, 4400);
}

#[tokio::test]
async fn many_live_subscriptions_do_not_starve_other_clients() {
    let app = spawn_app().await;
    let token = app.admin();
    for _ in 0..3 {
        app.beneficiary(2).await;
    }
    let mut sockets = Vec::new();
    for _ in 0..5 {
        let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
        for i in 0..20 {
            ws.subscribe(
                &format!("s{i}"),
                "subscription { caseEvents(after: \"0\") { sequence } }",
                json!({}),
            )
            .await;
        }
        // Every one is running once it has replayed its first event.
        let mut running = std::collections::BTreeSet::new();
        while running.len() < 20 {
            let message = ws.receive().await.expect("socket open");
            assert_eq!(message["type"], "next", "{message}");
            running.insert(message["id"].to_string());
        }
        sockets.push(ws);
    }
    let mut refused = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    refused.subscribe("x", "subscription { caseEvents { sequence } }", json!({})).await;
    let answer = refused.next("x").await;
    assert!(
        answer["payload"][0]["message"].as_str().is_some_and(|m| m.contains("max_subscriptions_per_client")),
        "the client's 101st subscription on this replica is refused: {answer}"
    );
    let other = app.token("PUPR", "infrastructure:read", &["64"]);
    let body = tokio::time::timeout(Duration::from_secs(5), app.gql(&other, ME, json!({}))).await;
    assert!(body.is_ok_and(|b| b["data"]["me"]["agency"] == "PUPR"), "another client is served meanwhile");
    drop(sockets);
}

#[tokio::test]
async fn oversized_strings_and_lists_are_refused_without_being_echoed() {
    let app = spawn_app().await;
    let token = app.admin();
    let (nik, kk) = app.identity();
    let mut input = crate::helpers::beneficiary_input(&nik, &kk, 2);
    input["regencyCode"] = json!("6".repeat(1 << 19));
    let body = app.gql(&token, crate::helpers::CREATE_BENEFICIARY, json!({ "input": input })).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{}", &body.to_string()[..200]);
    assert!(body.to_string().len() < 2_000, "the error does not echo half a megabyte");
    let mut input = crate::helpers::beneficiary_input(&nik, &kk, 2);
    input["address"] = json!("Jl. ".repeat(100_000));
    let body = app.gql(&token, crate::helpers::CREATE_BENEFICIARY, json!({ "input": input })).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"));
    assert!(body.to_string().len() < 2_000);
    let codes: Vec<String> = (0..40_000).map(|i| format!("{:04}", i % 10_000)).collect();
    let body = app
        .gql(
            &token,
            "query($c: [String!]) { beneficiaries(filter: {regencyCodes: $c}) { totalCount } }",
            json!({ "c": codes }),
        )
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_REQUEST"),
        "40,000 codes: {}",
        &body.to_string()[..200.min(body.to_string().len())]
    );
    assert_eq!(count(&app, "beneficiary").await, 0, "nothing was written");
}

#[tokio::test]
async fn long_names_many_arguments_and_aliased_introspection_are_refused_before_validation() {
    let app = spawn_app().await;
    let token = app.token("RELAWAN", "business:read", &["64"]);
    let started = std::time::Instant::now();
    let body = app.gql(&token, &format!("mutation {{ {} }}", "a".repeat(200_000)), json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{}", &body.to_string()[..200]);
    assert!(body.to_string().len() < 2_000, "the name is not echoed");
    let args: String = (0..40_000).map(|i| format!("a{i}: 1 ")).collect();
    let body = app.gql(&token, &format!("{{ me({args}) {{ agency }} }}"), json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"));
    assert!(body.to_string().len() < 4_000, "errors are few and short");
    let garbage = format!("{{ me {{ agency }} }} {}", "!".repeat(500_000));
    let body = app.gql(&token, &garbage, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"));
    assert!(body.to_string().len() < 2_000, "a parse error does not quote the line");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "refused quickly: {:?}",
        started.elapsed()
    );
    let bomb = "{ __schema { types { name f1: fields { name } f2: fields { name } } } }";
    let body = app.gql(&app.admin(), bomb, json!({})).await;
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("introspection")), "{body}");
    let five: String = (0..6).map(|i| format!("s{i}: __schema {{ types {{ name }} }} ")).collect();
    let body = app.gql(&app.admin(), &format!("{{ {five} }}"), json!({})).await;
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("max_cost")), "{body}");
}

#[tokio::test]
async fn a_trickled_body_times_out_and_connections_beyond_the_limit_are_closed() {
    let app = spawn_app_with_limits(Limits {
        request_timeout: Duration::from_secs(1),
        max_connections: 3,
        ..Limits::default()
    })
    .await;
    let token = app.admin();
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: sinergi\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"query\""
    );
    slow.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut answer))
        .await
        .expect("an answer in time")
        .expect("read");
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    // Two more connections held open (three in all, with `slow` closed by the server or not).
    let _a = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let _b = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let _c = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let mut extra = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let mut buffer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), extra.read_to_end(&mut buffer)).await;
    assert!(closed.is_ok(), "a connection beyond the limit is closed at once, not after the head timeout");
}

#[tokio::test]
async fn amounts_beyond_what_javascript_holds_exactly_are_refused() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    let create = "mutation($i: CreateAssistanceInput!) { createAssistance(input: $i) { assistance { id } userErrors { code } } }";
    let input = |amount: i64| json!({ "i": { "beneficiaryId": person, "programme": "BLT", "amount": amount, "periodStart": "2025-01-01", "fundSource": "APBN" } });
    let body = app.gql(&app.admin(), create, input(9_007_199_254_740_992)).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{body}");
    let body = app.gql(&app.admin(), create, input(600_000)).await;
    assert!(body["data"]["createAssistance"]["assistance"]["id"].is_string(), "{body}");
}

#[tokio::test]
async fn open_websockets_count_against_the_connection_limit() {
    let app = spawn_app_with_limits(Limits { max_connections: 2, ..Limits::default() }).await;
    let token = app.admin();
    let _one = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    let _two = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    let mut third = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let mut buffer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), third.read_to_end(&mut buffer)).await;
    assert!(closed.is_ok(), "two open sockets fill a limit of two: a third connection is closed at once");
}

#[tokio::test]
async fn nodes_costs_as_many_records_as_ids_it_asks_for() {
    let app = crate::helpers::spawn_app().await;
    let token = app.admin();
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Beneficiary { businesses {
        loans { id } monitoringVisits(first: 100) { nodes { id } } } } } }";
    let ids = |n: usize| -> Vec<String> { (0..n).map(|_| uuid::Uuid::now_v7().to_string()).collect() };
    let body = app.gql(&token, query, json!({ "ids": ids(100) })).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("max_cost")), "{body}");
    let body = app.gql(&token, query, json!({ "ids": ids(3) })).await;
    assert_eq!(body["data"]["nodes"], json!([null, null, null]), "a few ids run: {body}");
}
