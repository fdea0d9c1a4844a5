//! Case-event subscriptions over `graphql-transport-ws`, with a small client speaking the
//! protocol: replay from a cursor then live events, scopes and regions, and token failures.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::helpers::{CREATE_BENEFICIARY, TestApp, beneficiary_input, spawn_app};

const WAIT: Duration = Duration::from_secs(15);

/// A `graphql-transport-ws` client.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Opens a socket on `path` and sends `connection_init` with `payload`; `Err` carries the
    /// close reason when the server refuses.
    pub async fn connect(app: &TestApp, path: &str, payload: Value) -> Result<Self, String> {
        Self::connect_to(app.addr, path, payload).await
    }

    /// Like `connect`, to any gateway address.
    pub async fn connect_to(addr: std::net::SocketAddr, path: &str, payload: Value) -> Result<Self, String> {
        let mut request = format!("ws://{addr}{path}").into_client_request().map_err(|e| e.to_string())?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
        let (socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| e.to_string())?;
        let mut client = Self { socket };
        client.send(json!({ "type": "connection_init", "payload": payload })).await;
        match client.receive().await {
            Some(message) if message["type"] == "connection_ack" => Ok(client),
            other => Err(format!("{other:?}")),
        }
    }

    /// Opens a socket without `connection_init`, with extra upgrade headers.
    pub async fn open(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Self {
        let mut request = format!("ws://{}{path}", app.addr).into_client_request().expect("request");
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
        for (name, value) in headers {
            let name =
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).expect("name");
            request.headers_mut().insert(name, HeaderValue::from_str(value).expect("header"));
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("upgrade");
        Self { socket }
    }

    /// The close code the server ended the socket with, skipping other messages.
    pub async fn closed(&mut self) -> u16 {
        loop {
            match self.receive().await {
                Some(message) if !message["close"].is_null() => {
                    return message["close"][0].as_u64().unwrap_or_default() as u16;
                }
                Some(_) => continue,
                None => return 0,
            }
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket.send(Message::Text(message.to_string().into())).await.expect("send");
    }

    /// The next protocol message, answering pings; `None` when the socket closes (the close
    /// frame's reason is returned as `{"close": …}`).
    pub async fn receive(&mut self) -> Option<Value> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.socket.next()).await.expect("a message in time")?;
            match frame {
                Ok(Message::Text(text)) => {
                    let message: Value = serde_json::from_str(&text).expect("json message");
                    if message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(message);
                }
                Ok(Message::Close(frame)) => {
                    return Some(
                        json!({ "close": frame.map(|f| (u16::from(f.code), f.reason.to_string())) }),
                    );
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(
            json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }),
        )
        .await;
    }

    /// The next message for subscription `id` within `wait`, if one comes.
    pub async fn next_within(&mut self, id: &str, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, self.next(id)).await.ok()
    }

    /// The next event's payload for subscription `id`.
    pub async fn next(&mut self, id: &str) -> Value {
        loop {
            let message = self.receive().await.expect("socket open");
            if message["id"] == id {
                return message;
            }
        }
    }
}

pub const EVENTS: &str = "subscription($after: String, $filter: CaseEventFilter) {
  caseEvents(after: $after, filter: $filter) { sequence action entityType entityId regencyCode }
}";

pub fn init(token: &str) -> Value {
    json!({ "Authorization": format!("Bearer {token}") })
}

pub fn sequence(message: &Value) -> i64 {
    message["payload"]["data"]["caseEvents"]["sequence"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an event: {message}"))
}

#[tokio::test]
async fn a_subscriber_gets_the_replay_then_live_events_without_gap_or_duplicate() {
    let app = spawn_app().await;
    for decile in [1, 2, 3] {
        app.beneficiary(decile).await;
    }
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&app.admin())).await.expect("connect");
    ws.subscribe("1", EVENTS, json!({ "after": "1" })).await;
    let replayed = [sequence(&ws.next("1").await), sequence(&ws.next("1").await)];
    assert_eq!(replayed, [2, 3]);
    app.beneficiary(4).await;
    let live = ws.next("1").await;
    assert_eq!(sequence(&live), 4);
    assert_eq!(live["payload"]["data"]["caseEvents"]["action"], "CREATED");
    assert_eq!(live["payload"]["data"]["caseEvents"]["entityType"], "BENEFICIARY");
}

#[tokio::test]
async fn the_token_may_come_in_the_upgrade_header_and_on_the_graphql_path() {
    let app = spawn_app().await;
    let token = app.admin();
    let mut request = format!("ws://{}/graphql", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    request
        .headers_mut()
        .insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).expect("header"));
    let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("upgrade on /graphql");
    let mut ws = WsClient { socket };
    ws.send(json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(ws.receive().await.map(|m| m["type"].clone()), Some(json!("connection_ack")));
    ws.subscribe("a", EVENTS, json!({ "after": "0" })).await;
    app.beneficiary(2).await;
    assert_eq!(sequence(&ws.next("a").await), 1);
}

#[tokio::test]
async fn events_follow_the_tokens_scopes_and_regions_and_the_filter() {
    let app = spawn_app().await;
    let token = app.token("DISNAKERTRANS", "events:subscribe beneficiary:read", &["6401"]);
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    ws.subscribe("s", EVENTS, json!({ "after": "0", "filter": { "actions": ["CREATED"] } })).await;
    let samarinda = app.beneficiary(2).await;
    app.running_business(&samarinda, "2025-01-01").await;
    let mut paser = beneficiary_input("6401011502900077", "6401010101150077", 2);
    paser["regencyCode"] = json!("6401");
    paser["districtCode"] = json!("640101");
    let body = app.gql(&app.admin(), CREATE_BENEFICIARY, json!({ "input": paser })).await;
    let paser_id = body["data"]["createBeneficiary"]["beneficiary"]["id"].clone();
    let event = ws.next("s").await;
    assert_eq!(
        event["payload"]["data"]["caseEvents"]["entityId"], paser_id,
        "the first event it may see: {event}"
    );
    assert_eq!(event["payload"]["data"]["caseEvents"]["regencyCode"], "6401");
}

#[tokio::test]
async fn a_bad_token_cannot_open_a_socket_and_a_missing_scope_is_forbidden() {
    let app = spawn_app().await;
    let refused = WsClient::connect(&app, "/graphql/ws", init("not-a-token")).await;
    assert!(refused.is_err_and(|reason| reason.contains("close")), "no connection_ack for a bad token");
    let token = app.token("PUPR", "infrastructure:read", &["64"]);
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    ws.subscribe("x", EVENTS, json!({})).await;
    let message = ws.next("x").await;
    assert_eq!(message["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN", "{message}");
    assert!(message["payload"]["data"].is_null());
}

/// A socket whose subscription `r` has received its first event, and its token's id.
async fn subscribed(app: &TestApp) -> (WsClient, String) {
    let token = app.token("DINSOS", "events:subscribe beneficiary:read", &["64"]);
    let mut ws = WsClient::connect(app, "/graphql/ws", init(&token)).await.expect("connect");
    ws.subscribe("r", "subscription { caseEvents(after: \"0\") { sequence } }", json!({})).await;
    app.beneficiary(2).await;
    assert_eq!(sequence(&ws.next("r").await), 1);
    let me = app.gql(&token, "{ me { tokenId } }", json!({})).await;
    (ws, me["data"]["me"]["tokenId"].as_str().unwrap_or_default().to_owned())
}

/// Subscription `r` ends with `UNAUTHENTICATED` saying the token was revoked, and the socket
/// closes with 4401.
async fn ends_revoked(mut ws: WsClient) {
    let ended = ws.next("r").await;
    assert_eq!(ended["type"], "error", "{ended}");
    assert_eq!(ended["payload"][0]["extensions"]["code"], "UNAUTHENTICATED", "{ended}");
    assert!(ended["payload"][0]["message"].as_str().is_some_and(|m| m.contains("revoked")), "{ended}");
    assert_eq!(ws.closed().await, 4401);
}

#[tokio::test]
async fn a_revoked_token_ends_its_subscription_with_a_reason() {
    let app = spawn_app().await;
    let (ws, token_id) = subscribed(&app).await;
    let revoke = "mutation($i: RevokeTokenInput!) { revokeToken(input: $i) { tokenId } }";
    app.gql(&app.admin(), revoke, json!({ "i": { "tokenId": token_id } })).await;
    app.beneficiary(3).await;
    ends_revoked(ws).await;
}

#[tokio::test]
async fn a_revocation_recorded_by_another_replica_closes_an_idle_socket() {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let app = spawn_app().await;
    let (ws, token_id) = subscribed(&app).await;
    // Written to the shared database as another replica would: this process learns it only by
    // reading the table, and nothing else happens on the socket meanwhile.
    entity::revoked_token::Entity::insert(entity::revoked_token::ActiveModel {
        jti: Set(token_id),
        revoked_by: Set("DINSOS/other-replica".into()),
        reason: Set(None),
        revoked_at: Set(chrono::Utc::now()),
    })
    .exec_without_returning(&app.db)
    .await
    .expect("revoke");
    ends_revoked(ws).await;
}

#[tokio::test]
async fn the_history_query_pages_by_the_same_sequence_cursor() {
    let app = spawn_app().await;
    for decile in [1, 2, 3] {
        app.beneficiary(decile).await;
    }
    let q = "query($after: String) { caseEvents(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { sequence } } }";
    let page = app.gql(&app.admin(), q, json!({})).await;
    assert_eq!(page["data"]["caseEvents"]["pageInfo"]["endCursor"], "2", "{page}");
    assert_eq!(page["data"]["caseEvents"]["pageInfo"]["hasNextPage"], true);
    let page = app.gql(&app.admin(), q, json!({ "after": "2" })).await;
    assert_eq!(page["data"]["caseEvents"]["nodes"], json!([{ "sequence": "3" }]), "{page}");
    assert_eq!(page["data"]["caseEvents"]["totalCount"], 3);
}

#[tokio::test]
async fn an_expiring_token_ends_its_subscription_with_a_reason() {
    let app = spawn_app().await;
    let token = app.token_with(sinergi_api::auth::TokenRequest {
        agency: "DINSOS".into(),
        client: "short-lived".into(),
        scopes: sinergi_api::auth::parse_scopes("events:subscribe beneficiary:read").unwrap_or_default(),
        regions: vec!["64".into()],
        ttl: chrono::Duration::seconds(2),
        volunteer: None,
    });
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    ws.subscribe("e", "subscription { caseEvents { sequence } }", json!({})).await;
    let ended = ws.next("e").await;
    assert_eq!(ended["type"], "error", "{ended}");
    assert_eq!(ended["payload"][0]["extensions"]["code"], "UNAUTHENTICATED", "{ended}");
    assert!(ended["payload"][0]["message"].as_str().is_some_and(|m| m.contains("expired")));
    assert_eq!(ws.closed().await, 4401);
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_closed_with_its_last_sequence_and_resumes_without_loss() {
    use sinergi_api::{
        auth::{Actor, Scope},
        events::{CaseEventFilter, EventFeed, FeedEnd},
    };
    let app = spawn_app().await;
    // The process's feed, with room for two unread events per subscriber.
    let feed = std::sync::Arc::new(EventFeed::new(2));
    feed.start(&app.db).await.expect("the feed starts");
    let actor = std::sync::Arc::new(Actor {
        agency: "DINSOS".into(),
        client: "test".into(),
        scopes: [Scope::BeneficiaryRead, Scope::EventsSubscribe].into_iter().collect(),
        regions: vec!["64".into()],
        token_id: "test".into(),
        expires_at: i64::MAX,
        issued_at: 0,
        volunteer: None,
    });
    let start = feed.head();
    // A subscriber that reads nothing while five events are published.
    let mut slow = Box::pin(feed.follow(app.db.clone(), actor.clone(), CaseEventFilter::default(), None));
    for _ in 0..5 {
        app.beneficiary(2).await;
    }
    tokio::time::timeout(WAIT, async {
        while feed.head() < start + 5 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the feed publishes the five events");
    assert_eq!(
        tokio::time::timeout(WAIT, slow.next()).await.expect("an answer, not a hang"),
        Some(Err(FeedEnd::Behind { last: start })),
        "closed with the last sequence it was given"
    );
    assert!(tokio::time::timeout(WAIT, slow.next()).await.expect("no hang").is_none(), "and its stream ends");
    let resumed = feed
        .follow(app.db.clone(), actor, CaseEventFilter::default(), Some(start))
        .take(5)
        .map(|event| event.expect("an event").seq)
        .collect::<Vec<i64>>();
    let resumed = tokio::time::timeout(WAIT, resumed).await.expect("the resumed stream answers");
    assert_eq!(resumed, (start + 1..=start + 5).collect::<Vec<_>>(), "resumed after it, nothing lost");
}

/// Sockets, one per token, each subscribed as `s` to `query` (live only, no `after`), once each
/// has received an event: writes beneficiaries until then. Returns them with the sequences each
/// received.
async fn live_sockets(app: &TestApp, tokens: &[&str], query: &str) -> Vec<(WsClient, Vec<i64>)> {
    let mut sockets = Vec::new();
    for token in tokens {
        let mut ws = WsClient::connect(app, "/graphql/ws", init(token)).await.expect("connect");
        ws.subscribe("s", query, json!({})).await;
        sockets.push((ws, Vec::new()));
    }
    for _ in 0..40 {
        if sockets.iter().all(|(_, seen)| !seen.is_empty()) {
            return sockets;
        }
        app.beneficiary(2).await;
        for (ws, seen) in &mut sockets {
            while let Some(message) = ws.next_within("s", Duration::from_millis(250)).await {
                seen.push(sequence(&message));
            }
        }
    }
    panic!("the subscriptions did not go live");
}

/// The value of gauge `name` on `/metrics`.
async fn gauge(app: &TestApp, name: &str) -> i64 {
    let text = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

const SHARED: &str = "sinergi_shared_subscription_executions";

#[tokio::test]
async fn subscribers_of_one_document_and_grant_share_an_execution_and_each_keeps_its_own_token() {
    let app = spawn_app().await;
    let scopes = "events:subscribe beneficiary:read";
    // Two tokens of one API client with one grant, and one with fewer regions.
    let (first, second) = (app.token("DINSOS", scopes, &["64"]), app.token("DINSOS", scopes, &["64"]));
    let samarinda = app.token("DINSOS", scopes, &["6472"]);
    let query = "subscription { caseEvents { sequence entityId regencyCode } }";
    let mut sockets = live_sockets(&app, &[&first, &second, &samarinda], query).await;
    assert_eq!(gauge(&app, SHARED).await, 2, "one execution per grant");

    // Every subscriber gets every event after it went live, once, in order.
    for _ in 0..3 {
        app.beneficiary(3).await;
    }
    let mut last = Vec::new();
    for (ws, seen) in &mut sockets {
        let target = seen[0] + seen.len() as i64 + 2;
        while seen.last() < Some(&target) {
            seen.push(sequence(&ws.next("s").await));
        }
        assert_eq!(*seen, (seen[0]..=target).collect::<Vec<_>>(), "no gap, no duplicate");
        last.push(target);
    }
    assert!(last.iter().all(|l| *l == last[0]), "all got the same events: {last:?}");

    // Revoking the token whose subscription started the execution ends that subscription only.
    let me = app.gql(&first, "{ me { tokenId } }", json!({})).await;
    let revoke = "mutation($i: RevokeTokenInput!) { revokeToken(input: $i) { tokenId } }";
    app.gql(&app.admin(), revoke, json!({ "i": { "tokenId": me["data"]["me"]["tokenId"] } })).await;
    let (mut revoked, _) = sockets.remove(0);
    let ended = revoked.next("s").await;
    assert_eq!(ended["payload"][0]["extensions"]["code"], "UNAUTHENTICATED", "{ended}");
    assert_eq!(revoked.closed().await, 4401);
    let paser = {
        let mut input = beneficiary_input("6401011502900088", "6401010101150088", 2);
        input["regencyCode"] = json!("6401");
        input["districtCode"] = json!("640101");
        let body = app.gql(&app.admin(), CREATE_BENEFICIARY, json!({ "input": input })).await;
        body["data"]["createBeneficiary"]["beneficiary"]["id"].clone()
    };
    let samarinda_person = app.beneficiary(4).await;
    let (ws, _) = &mut sockets[0];
    assert_eq!(
        ws.next("s").await["payload"]["data"]["caseEvents"]["entityId"],
        paser,
        "the other member goes on"
    );
    assert_eq!(ws.next("s").await["payload"]["data"]["caseEvents"]["entityId"], json!(samarinda_person));
    // The other grant's execution admits only its regions.
    let (ws, _) = &mut sockets[1];
    let event = ws.next("s").await;
    assert_eq!(event["payload"]["data"]["caseEvents"]["entityId"], json!(samarinda_person), "{event}");

    // A replay runs on its own; leaving stops an execution nobody follows.
    let mut replay = WsClient::connect(&app, "/graphql/ws", init(&second)).await.expect("connect");
    replay.subscribe("r", EVENTS, json!({ "after": "0" })).await;
    assert_eq!(sequence(&replay.next("r").await), 1);
    assert_eq!(gauge(&app, SHARED).await, 2, "a replay shares nothing");
    let (ws, _) = &mut sockets[1];
    ws.send(json!({ "type": "complete", "id": "s" })).await;
    let deadline = std::time::Instant::now() + WAIT;
    while gauge(&app, SHARED).await != 1 {
        assert!(std::time::Instant::now() < deadline, "the execution stops when its last member leaves");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn each_member_of_a_shared_execution_logs_the_personal_data_it_was_sent() {
    let app = spawn_app().await;
    let scopes = "events:subscribe beneficiary:read pii:read";
    let (first, second) = (app.token("DINSOS", scopes, &["64"]), app.token("DINSOS", scopes, &["64"]));
    let masked = app.token("DINSOS", "events:subscribe beneficiary:read", &["64"]);
    let query = "subscription Watch { caseEvents(filter: { actions: [CREATED, STATUS_CHANGED] }) { sequence entityId reason } }";
    let mut sockets = live_sockets(&app, &[&first, &second, &masked], query).await;
    assert_eq!(gauge(&app, SHARED).await, 2);

    let person = app.beneficiary(2).await;
    let version =
        app.gql(&app.admin(), &format!("{{ beneficiary(id: \"{person}\") {{ version }} }}"), json!({})).await;
    let deactivate = "mutation($i: StatusChangeWithReasonInput!) { deactivateBeneficiary(input: $i) { beneficiary { status } userErrors { code } } }";
    let why = "Pindah domisili ke luar provinsi";
    let body = app
        .gql(
            &app.admin(),
            deactivate,
            json!({ "i": { "id": person, "expectedVersion": version["data"]["beneficiary"]["version"], "reason": why } }),
        )
        .await;
    assert_eq!(body["data"]["deactivateBeneficiary"]["beneficiary"]["status"], "INACTIVE", "{body}");
    for (n, (ws, _)) in sockets.iter_mut().enumerate() {
        let event = loop {
            let event = ws.next("s").await;
            if event["payload"]["data"]["caseEvents"]["reason"].is_string() {
                break event;
            }
        };
        let shown = if n < 2 { why } else { "***" };
        assert_eq!(event["payload"]["data"]["caseEvents"]["reason"], shown, "{event}");
    }

    let log = "query($id: UUID) { piiAccessLog(filter: {beneficiaryId: $id}) { nodes { fields operation tokenId } } }";
    let body = app.gql(&app.admin(), log, json!({ "id": person })).await;
    let mut readers: Vec<String> = body["data"]["piiAccessLog"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["operation"] == "Watch")
        .map(|n| {
            assert_eq!(n["fields"], json!(["statusReason"]), "{n}");
            n["tokenId"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    readers.sort();
    let mut expected = Vec::new();
    for token in [&first, &second] {
        let me = app.gql(token, "{ me { tokenId } }", json!({})).await;
        expected.push(me["data"]["me"]["tokenId"].as_str().unwrap_or_default().to_owned());
    }
    expected.sort();
    assert_eq!(readers, expected, "one entry per member that read it unmasked, under its own token: {body}");
}
