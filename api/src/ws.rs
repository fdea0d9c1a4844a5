//! The `graphql-transport-ws` protocol (the `graphql-ws` library's protocol) over one socket.
//!
//! Every `subscribe` — query, mutation or subscription — runs through `Gateway::run`, the same
//! path as `POST /graphql`: the token is re-checked for each operation, the socket closes when
//! the token expires, and a revocation on any replica reaches it within a few seconds (the
//! process's one follower re-reads the revocation tables every `revocation::REFRESH` and wakes
//! every socket; no socket polls), so a revoked or expired token closes the socket (4401) rather
//! than riding on an old handshake. Close codes follow the protocol: 4400 invalid message, 4401 unauthorized,
//! 4403 forbidden (`connection_init` refused), 4408 no `connection_init` in time, 4409 a
//! subscription id already in use, 4429 a second `connection_init`.

use std::{collections::HashMap, time::Duration};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{
    SinkExt, StreamExt,
    stream::{AbortHandle, BoxStream, SelectAll, abortable},
};
use serde_json::{Value, json};

use crate::{
    error::ErrorCode,
    gateway::{Caller, Gateway, Refusal, Reply, Run},
};

/// The subprotocol this server speaks.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// Bytes a socket reads at a time, held for as long as the socket is open. The WebSocket
/// library's default (128 KiB, allocated when the socket opens) made an idle subscription cost
/// ~160 KiB, and 4 KiB still a seventh of it; clients send small messages (a `subscribe` is a few
/// hundred bytes), and the buffer grows to the size a larger frame announces (up to
/// `max_body_bytes`), which then arrives over several reads.
pub const READ_BUFFER: usize = 1024;

/// What an operation hands to its socket.
enum Step {
    /// A protocol message; `last` for its final `complete`, after which the id is free again.
    Send { text: String, last: bool },
    /// The token stopped being valid while the operation ran: the socket must close.
    Refused(Refusal),
}

/// An operation's steps, tagged with its id and generation. The socket polls its operations
/// itself (no task and no queue per operation): an idle subscription costs its stream and no
/// more, and a result goes from the operation to the socket without a hand-over between tasks.
type Operation = BoxStream<'static, (String, u64, Step)>;

/// The operations running on one socket, to stop one (`complete`) or tell all why they end.
#[derive(Default)]
struct Running(HashMap<String, (u64, AbortHandle)>);

impl Running {
    fn is_current(&self, id: &str, generation: u64) -> bool {
        self.0.get(id).is_some_and(|(g, _)| *g == generation)
    }
}

/// Tells every running operation why it ends, and gives the close message for the socket: 4401
/// when the token is no longer valid.
async fn refuse_all<S>(sink: &mut S, running: &Running, refusal: &Refusal, patience: Duration) -> Message
where
    S: futures_util::Sink<Message> + Unpin,
{
    let (code, why) = match refusal {
        Refusal::Unauthenticated(why) => (ErrorCode::Unauthenticated, *why),
        Refusal::Internal => (ErrorCode::Internal, "internal error"),
        Refusal::Unavailable => (ErrorCode::Unavailable, crate::gateway::DATABASE_UNAVAILABLE),
    };
    let message = match refusal {
        Refusal::Unavailable => format!("{why}; reconnect (with your last sequence)"),
        _ => format!("{why}; reconnect with a valid token (and your last sequence)"),
    };
    for id in running.0.keys() {
        if !send(sink, Message::Text(error_message(id, code, &message).into()), patience).await {
            break;
        }
    }
    match refusal {
        Refusal::Unauthenticated(why) => close(4401, why),
        Refusal::Internal => close(1011, "internal error"),
        // Try Again Later: graphql-ws clients reconnect.
        Refusal::Unavailable => close(1013, crate::gateway::DATABASE_UNAVAILABLE),
    }
}

/// The instant a token expiring at `expires_at` (Unix seconds) stops being valid.
fn expiry(expires_at: i64) -> tokio::time::Instant {
    let left = expires_at.saturating_mul(1000).saturating_sub(chrono::Utc::now().timestamp_millis());
    tokio::time::Instant::now() + Duration::from_millis(left.max(0) as u64)
}

/// Sends one message, waiting at most `patience` for a client that does not read: the socket's
/// operations wait while it sends, so a stalled client must not hold them (and what they hold)
/// for longer. `false` when the message did not go.
async fn send<S>(sink: &mut S, message: Message, patience: Duration) -> bool
where
    S: futures_util::Sink<Message> + Unpin,
{
    matches!(tokio::time::timeout(patience, sink.send(message)).await, Ok(Ok(())))
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from(reason.to_owned()) }))
}

fn error_message(id: &str, code: ErrorCode, message: &str) -> String {
    json!({ "type": "error", "id": id, "payload": [{ "message": message, "extensions": { "code": code.as_str() } }] })
        .to_string()
}

fn next_message(id: &str, payload: &str) -> String {
    // The payload is already JSON: splice it in rather than parse it again.
    format!(r#"{{"type":"next","id":{},"payload":{payload}}}"#, Value::from(id))
}

/// The bearer token of a `connection_init` payload (`{"Authorization": "Bearer …"}` or
/// `{"token": "…"}`), else the upgrade request's.
fn init_token(payload: &Value, header_token: Option<&str>) -> Option<String> {
    payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))
        .and_then(Value::as_str)
        .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim().to_owned()))
        .or_else(|| payload.get("token").and_then(Value::as_str).map(str::to_owned))
        .or_else(|| header_token.map(str::to_owned))
}

/// Why a socket closes on shutdown (code 1012, Service Restart: graphql-ws clients reconnect).
const RESTARTING: &str = "the gateway is restarting: reconnect, and resubscribe after your last sequence";
/// How long, beyond the request timeout, a shutting-down socket waits for its queries and
/// mutations to end before it closes anyway (subscriptions end at once).
const SHUTDOWN_WIND_DOWN: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves one socket until either side closes it.
pub async fn serve(
    socket: WebSocket,
    gateway: Gateway,
    header_token: Option<String>,
    purpose: Option<String>,
    socket_id: String,
) {
    let _open = crate::metrics::Held::new(&gateway.app.metrics.sockets);
    let (mut sink, mut incoming) = socket.split();
    let mut operations: SelectAll<Operation> = SelectAll::new();
    let limits = gateway.app.limits.clone();
    // How long a message may wait for a client that does not read before the socket is dropped.
    let patience = limits.request_timeout;
    let mut caller: Option<Caller> = None;
    let mut running = Running::default();
    let mut generation = 0u64;
    // Before `connection_init`: the time it has to arrive; after: the token's expiry.
    let deadline = tokio::time::sleep(limits.ws_init_timeout);
    tokio::pin!(deadline);
    let mut revocations = gateway.app.revocations.changes(&gateway.app.reader).await;
    // On shutdown: subscriptions end (each with its last sequence), then the socket closes with
    // 1012 — at once when nothing runs, else once the last operation ends or a bound passes.
    let mut shutdown = gateway.app.lifecycle.closing();
    let mut shutting = *shutdown.borrow_and_update();
    // Queries and mutations get their whole time limit (and a moment to send the answer).
    let wind_down_for = limits.request_timeout + SHUTDOWN_WIND_DOWN;
    let wind_down = tokio::time::sleep(wind_down_for);
    tokio::pin!(wind_down);

    let closing: Message = loop {
        if shutting && running.0.is_empty() {
            break close(1012, RESTARTING);
        }
        tokio::select! {
            Ok(()) = shutdown.changed(), if !shutting => {
                shutting = true;
                wind_down.as_mut().reset(tokio::time::Instant::now() + wind_down_for);
            }
            () = &mut wind_down, if shutting => break close(1012, RESTARTING),
            () = &mut deadline => match &caller {
                None => break close(4408, "Connection initialisation timeout"),
                Some(c) => {
                    let refusal = Refusal::Unauthenticated(crate::auth::refusal::EXPIRED);
                    tracing::info!(agency = c.actor.agency, client = c.actor.client, reason = refusal.message(), "socket closed");
                    break Box::pin(refuse_all(&mut sink, &running, &refusal, patience)).await;
                }
            },
            changed = revocations.changed(), if caller.is_some() => {
                if let Some(c) = &caller
                    && let Err(refusal) = match changed {
                        Ok(()) => Box::pin(gateway.recheck(&c.actor)).await,
                        Err(_) => Err(Refusal::Internal),
                    }
                {
                    tracing::info!(agency = c.actor.agency, client = c.actor.client, reason = refusal.message(), "socket closed");
                    break Box::pin(refuse_all(&mut sink, &running, &refusal, patience)).await;
                }
            }
            Some((id, generation, step)) = operations.next(), if !operations.is_empty() => match step {
                Step::Send { text, last } => {
                    if running.is_current(&id, generation) {
                        // The id is free once the client learns the operation completed.
                        if last {
                            running.0.remove(&id);
                        }
                        if !send(&mut sink, Message::Text(text.into()), patience).await {
                            return;
                        }
                    }
                }
                Step::Refused(refusal) => break Box::pin(refuse_all(&mut sink, &running, &refusal, patience)).await,
            },
            frame = incoming.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => break close(4400, "binary messages are not part of the protocol"),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                };
                let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else {
                    break close(4400, "Invalid message: not JSON");
                };
                match message.get("type").and_then(Value::as_str) {
                    Some("connection_init") => {
                        if caller.is_some() {
                            break close(4429, "Too many initialisation requests");
                        }
                        let payload = message.get("payload").cloned().unwrap_or(Value::Null);
                        let token = init_token(&payload, header_token.as_deref());
                        // Bound before the match, and the actor moved into the caller before the
                        // acknowledgement is sent: what an await outlives, the socket keeps room
                        // for as long as it is open.
                        let authenticated = Box::pin(gateway.authenticate(token.as_deref())).await;
                        let actor = match authenticated {
                            Ok(actor) => actor,
                            Err(Refusal::Unauthenticated(why)) => break close(4403, why),
                            Err(Refusal::Internal) => break close(1011, "internal error"),
                            Err(Refusal::Unavailable) => break close(1013, crate::gateway::DATABASE_UNAVAILABLE),
                        };
                        tracing::info!(agency = actor.agency, client = actor.client, "socket connected");
                        // A socket ends when its token does: no leeway for a connection kept open.
                        deadline.as_mut().reset(expiry(actor.expires_at));
                        caller = Some(Caller {
                            actor: std::sync::Arc::new(actor),
                            purpose: purpose.clone(),
                            request_id: socket_id.clone(),
                            idempotency: None,
                        });
                        if !send(&mut sink, Message::Text(r#"{"type":"connection_ack"}"#.into()), patience).await {
                            return;
                        }
                    }
                    Some("ping") => {
                        if !send(&mut sink, Message::Text(r#"{"type":"pong"}"#.into()), patience).await {
                            return;
                        }
                    }
                    Some("pong") => {}
                    Some("complete") => {
                        if let Some(id) = message.get("id").and_then(Value::as_str)
                            && let Some((_, stop)) = running.0.remove(id)
                        {
                            stop.abort();
                        }
                    }
                    Some("subscribe") => {
                        let Some(caller) = &caller else {
                            break close(4401, "Unauthorized");
                        };
                        if shutting {
                            let id = message.get("id").and_then(Value::as_str).unwrap_or_default();
                            let text = error_message(id, ErrorCode::Unavailable, RESTARTING);
                            if !send(&mut sink, Message::Text(text.into()), patience).await {
                                return;
                            }
                            continue;
                        }
                        let Some(id) = message.get("id").and_then(Value::as_str).map(str::to_owned) else {
                            break close(4400, "Invalid message: subscribe needs an id");
                        };
                        if running.0.contains_key(&id) {
                            break close(4409, &format!("Subscriber for {} already exists", short(&id)));
                        }
                        let request = message
                            .get("payload")
                            .cloned()
                            .and_then(|p| crate::documents::request_from_value(p).ok());
                        // Boxed: it is held across the sends below, and the socket keeps room for
                        // what an await outlives for as long as it is open.
                        let Some(request) = request.map(Box::new) else {
                            break close(4400, "Invalid message: subscribe needs a payload with a query");
                        };
                        if running.0.len() >= limits.max_subscriptions_per_socket {
                            let text = error_message(&id, ErrorCode::BadRequest, &format!(
                                "this socket already runs {} operations (max_subscriptions_per_socket)",
                                limits.max_subscriptions_per_socket
                            ));
                            if !send(&mut sink, Message::Text(text.into()), patience).await {
                                return;
                            }
                            continue;
                        }
                        let Some(slot) = gateway.open_slot(&caller.actor) else {
                            let text = error_message(&id, ErrorCode::BadRequest, &format!(
                                "this API client already runs {} operations on this replica (max_subscriptions_per_client)",
                                limits.max_subscriptions_per_client
                            ));
                            if !send(&mut sink, Message::Text(text.into()), patience).await {
                                return;
                            }
                            continue;
                        };
                        generation += 1;
                        // Each operation's logs carry the socket's id and the operation's number.
                        let caller =
                            Caller { request_id: format!("{socket_id}/{generation}"), ..caller.clone() };
                        let (steps, stop) = abortable(operate(gateway.clone(), caller, *request, id.clone(), generation, slot));
                        operations.push(steps.boxed());
                        running.0.insert(id, (generation, stop));
                    }
                    _ => break close(4400, "Invalid message: unknown type"),
                }
            }
        }
    };
    drop(operations);
    if send(&mut sink, closing, patience).await {
        let _ = tokio::time::timeout(patience, sink.close()).await;
    }
}

/// One operation of a socket, as the steps it hands to the socket.
fn operate(
    gateway: Gateway,
    caller: Caller,
    request: async_graphql::Request,
    id: String,
    generation: u64,
    slot: crate::gateway::Slot,
) -> Operation {
    // Each operation's logs carry the socket's id and the operation's number.
    let span = tracing::info_span!("op", request_id = %caller.request_id);
    let running = crate::metrics::Held::new(&gateway.app.metrics.subscriptions);
    // Its own task: a query or mutation runs to its end (commit or rollback, within
    // `request_timeout`) whether or not the socket is sending meanwhile. Started here rather than
    // in the stream, which would otherwise keep room for the request for as long as it lives.
    let tasks = gateway.app.tasks.clone();
    let start = tasks.spawn(tracing::Instrument::instrument(
        async move { gateway.run(&caller, request, crate::gateway::Transport::WebSocket).await },
        span,
    ));
    let steps = async_stream::stream! {
        let _slot = slot;
        let _running = running;
        let send = |text: String| (id.clone(), generation, Step::Send { text, last: false });
        let rejected = |errors: &str| {
            let text = format!(r#"{{"type":"error","id":{},"payload":{errors}}}"#, Value::from(id.as_str()));
            (id.clone(), generation, Step::Send { text, last: true })
        };
        let complete = || {
            let text = json!({ "type": "complete", "id": id }).to_string();
            (id.clone(), generation, Step::Send { text, last: true })
        };
        match start.await.unwrap_or(Err(Refusal::Internal)) {
            // The socket closes: it tells this operation and the others why.
            Err(refusal) => yield (id.clone(), generation, Step::Refused(refusal)),
            // A request error is the protocol's `error` message, which ends the operation.
            Ok(Run::Single(Reply::Rejected { errors, .. })) => yield rejected(&errors),
            Ok(Run::Single(Reply::Ran(body) | Reply::Replayed(body))) => {
                yield send(next_message(&id, &body));
                yield complete();
            }
            Ok(Run::Stream(mut stream)) => {
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(Reply::Ran(body) | Reply::Replayed(body)) => yield send(next_message(&id, &body)),
                        Ok(Reply::Rejected { errors, .. }) => {
                            yield rejected(&errors);
                            return;
                        }
                        Err(refusal) => {
                            yield (id.clone(), generation, Step::Refused(refusal));
                            return;
                        }
                    }
                }
                yield complete();
            }
        }
    };
    steps.boxed()
}

/// A client's id, cut short for a close reason: a close frame's reason holds at most 123 bytes.
fn short(id: &str) -> &str {
    let mut end = id.len().min(80);
    while !id.is_char_boundary(end) {
        end -= 1;
    }
    &id[..end]
}
