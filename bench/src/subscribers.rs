//! The subscription scenario: S `graphql-transport-ws` subscribers of `caseEvents` held open on
//! the gateway, E events written through the API one after another, and what that costs:
//! delivery latency from the write to each subscriber's receipt, resident memory per idle
//! subscription and how much of it comes back when they leave, and the gateway's SQL statements
//! and CPU while they sit idle.

use std::{
    collections::HashMap,
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    net::TcpSocket,
    sync::{Semaphore, watch},
};
use tokio_tungstenite::tungstenite::{
    client::IntoClientRequest,
    http::HeaderValue,
    protocol::{Message, WebSocketConfig},
};
use uuid::Uuid;

use crate::{Error, Server, wait_until};

/// What the scenario opens and writes.
pub struct Plan {
    pub subscribers: usize,
    pub sockets: usize,
    pub events: usize,
    pub idle_seconds: u64,
    /// Each subscription its own document (see `query`).
    pub distinct: bool,
}

impl Plan {
    /// `subscribers` spread over as many sockets as the open-file limit allows (the gateway and
    /// this process each hold one descriptor per socket), unless `sockets` is given.
    pub fn new(
        subscribers: usize,
        sockets: Option<usize>,
        events: usize,
        idle_seconds: u64,
        distinct: bool,
    ) -> Self {
        let room = open_file_limit().saturating_sub(1_000).max(1);
        let sockets = sockets.unwrap_or(subscribers).clamp(1, subscribers.max(1)).min(room);
        Self { subscribers, sockets, events, idle_seconds, distinct }
    }

    /// The document of subscription `id` on socket `n`: the same for all (subscriptions of one
    /// document, variables and grant share one execution in the gateway), or with `distinct`
    /// one of its own, which differs only in the field's alias.
    fn query(&self, n: usize, id: usize) -> String {
        if self.distinct {
            QUERY.replacen("caseEvents", &format!("e{n}x{id}: caseEvents"), 1)
        } else {
            QUERY.to_owned()
        }
    }

    /// Subscriptions on socket `n` (the first sockets carry one more when they do not divide).
    fn on_socket(&self, n: usize) -> usize {
        self.subscribers / self.sockets + usize::from(n < self.subscribers % self.sockets)
    }

    /// The most subscriptions one socket carries (the gateway's per-socket limit must allow it).
    pub fn per_socket(&self) -> usize {
        self.subscribers.div_ceil(self.sockets)
    }
}

/// The soft limit on open files of this process (`/proc/self/limits`), which the gateway it
/// starts inherits.
pub fn open_file_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(1024)
}

const QUERY: &str =
    "subscription { caseEvents(filter: { entityTypes: [MONITORING_VISIT] }) { entityId sequence } }";
const WRITE: &str = "mutation($input: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $input) { \
                     monitoringVisit { id } userErrors { message } } }";

/// What every socket counts as it reads.
#[derive(Default)]
struct Tally {
    ready: AtomicU64,
    failed: AtomicU64,
    received: AtomicU64,
    errors: AtomicU64,
}

pub async fn run(
    server: &Server,
    reader_token: &str,
    writer_token: &str,
    businesses: &[Uuid],
    plan: &Plan,
) -> Result<Value, Error> {
    let http = reqwest::Client::new();
    let pid = server.pid();
    let rss_before = rss_kib(pid)?;
    let tally = Arc::new(Tally::default());
    let (stop, stopped) = watch::channel(false);
    let address: SocketAddr = server.base.trim_start_matches("http://").parse()?;

    // Open the sockets, a few hundred handshakes at a time.
    let opening = Instant::now();
    let gate = Arc::new(Semaphore::new(256));
    let tasks: Vec<_> = (0..plan.sockets)
        .map(|n| {
            let (gate, tally, stopped) = (gate.clone(), tally.clone(), stopped.clone());
            let (token, subscriptions) = (reader_token.to_owned(), plan.on_socket(n));
            let queries: Vec<String> = (0..subscriptions).map(|id| plan.query(n, id)).collect();
            tokio::spawn(async move {
                let socket = {
                    let _turn = gate.acquire().await;
                    open(address, n, &token, &queries).await
                };
                match socket {
                    Ok(socket) => {
                        tally.ready.fetch_add(subscriptions as u64, Ordering::Relaxed);
                        listen(socket, &tally, stopped).await
                    }
                    Err(err) => {
                        if tally.failed.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("  a socket failed to open: {err}");
                        }
                        Vec::new()
                    }
                }
            })
        })
        .collect();
    let all = plan.subscribers as u64;
    wait_until(Duration::from_secs(120), || {
        tally.ready.load(Ordering::Relaxed) + tally.failed.load(Ordering::Relaxed) * plan.per_socket() as u64
            >= all
    })
    .await;
    let opened_in = opening.elapsed();
    let ready = tally.ready.load(Ordering::Relaxed);
    eprintln!(
        "  {ready} subscriptions on {} sockets open in {:.1} s",
        plan.sockets - tally.failed.load(Ordering::Relaxed) as usize,
        opened_in.as_secs_f64()
    );

    // One event everybody must receive: then every subscription is live.
    let writes = Writer::new(server, writer_token);
    let today = chrono::Utc::now().date_naive();
    writes.visit(Uuid::now_v7(), businesses[0], today).await?;
    wait_until(Duration::from_secs(60), || tally.received.load(Ordering::Relaxed) >= ready).await;
    let warm = tally.received.load(Ordering::Relaxed);

    // Idle: what the open subscriptions cost while nothing happens.
    let (statements, cpu) = (server.statements(&http).await?, server.cpu_seconds()?);
    tokio::time::sleep(Duration::from_secs(plan.idle_seconds)).await;
    let idle_statements = server.statements(&http).await? - statements;
    let idle_cpu = server.cpu_seconds()? - cpu;
    let rss_idle = rss_kib(pid)?;

    // Events one after another; each is waited for by every subscriber (or 10 s) before the next.
    let mut written = HashMap::new();
    let cpu = server.cpu_seconds()?;
    // The clients share the cores with the gateway: what receiving costs them is latency too.
    let own_cpu = crate::cpu_seconds(std::process::id())?;
    for i in 0..plan.events {
        let id = Uuid::now_v7();
        let target = warm + ready * (i as u64 + 1);
        written.insert(id, Instant::now());
        writes.visit(id, businesses[(i + 1) % businesses.len()], today).await?;
        wait_until(Duration::from_secs(10), || tally.received.load(Ordering::Relaxed) >= target).await;
    }

    let delivery_cpu = server.cpu_seconds()? - cpu;
    let receiving_cpu = crate::cpu_seconds(std::process::id())? - own_cpu;
    let _ = stop.send(true);
    let mut latencies_us = Vec::with_capacity(plan.subscribers * plan.events);
    for task in tasks {
        for (id, at) in task.await.unwrap_or_default() {
            if let Some(sent) = written.get(&id) {
                latencies_us.push(at.saturating_duration_since(*sent).as_micros() as u64);
            }
        }
    }
    // Memory the gateway gives back once everybody left: read every second for at least 30 s,
    // then until it has not fallen (by more than 1 MiB) for 10 s, at most 60 s (an allocator
    // may return freed memory gradually, after a delay: jemalloc began after 10–20 s when 2,000
    // subscribers had left).
    let left = Instant::now();
    let (mut lowest, mut last_fall) = (rss_kib(pid)?, None::<Instant>);
    let settled = loop {
        if left.elapsed() >= Duration::from_secs(30)
            && last_fall.unwrap_or(left).elapsed() >= Duration::from_secs(10)
        {
            break true;
        }
        if left.elapsed() >= Duration::from_secs(60) {
            break false;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = rss_kib(pid)?;
        if now + 1024 < lowest {
            (lowest, last_fall) = (now, Some(Instant::now()));
        }
    };
    let rss_after = rss_kib(pid)?;
    let last_fall_s = last_fall.map(|at| round(at.duration_since(left).as_secs_f64(), 0));
    let descriptors_after = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0);

    latencies_us.sort_unstable();
    let expected = ready * plan.events as u64;
    let delivered = latencies_us.len() as u64;
    let pct = |p: f64| crate::percentile(&latencies_us, p);
    let grown = rss_idle.saturating_sub(rss_before);
    let kept = rss_after.saturating_sub(rss_before);
    Ok(json!({
        "subscribers": ready,
        "distinct_documents": plan.distinct,
        "sockets": plan.sockets - tally.failed.load(Ordering::Relaxed) as usize,
        "seconds_to_open": round(opened_in.as_secs_f64(), 1),
        "events": plan.events,
        "deliveries": delivered,
        "missing_deliveries": expected.saturating_sub(delivered),
        "error_messages": tally.errors.load(Ordering::Relaxed),
        "delivery_p50_ms": pct(0.50),
        "delivery_p99_ms": pct(0.99),
        "delivery_max_ms": pct(1.0),
        "gateway_cpu_us_per_delivery": round(delivery_cpu * 1e6 / delivered.max(1) as f64, 1),
        "client_cpu_us_per_delivery": round(receiving_cpu * 1e6 / delivered.max(1) as f64, 1),
        "idle_seconds": plan.idle_seconds,
        "idle_statements_per_second": round(idle_statements as f64 / plan.idle_seconds as f64, 2),
        "idle_cpu_percent": round(idle_cpu / plan.idle_seconds as f64 * 100.0, 1),
        "rss_before_mib": round(rss_before as f64 / 1024.0, 1),
        "rss_idle_mib": round(rss_idle as f64 / 1024.0, 1),
        "rss_after_leave_mib": round(rss_after as f64 / 1024.0, 1),
        // When RSS last fell, in seconds after they closed (null: it never fell); `false` when
        // it was still falling at the 60 s bound.
        "rss_last_fell_after_leave_s": last_fall_s,
        "rss_settled_after_leave": settled,
        "gateway_descriptors_after_leave": descriptors_after,
        "kib_per_idle_subscription": round(grown as f64 / ready.max(1) as f64, 2),
        "share_returned_after_leave": if grown > 0 { round(1.0 - kept as f64 / grown as f64, 3) } else { 1.0 },
    }))
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Opens socket `n` from its own loopback address (127.0.0.2–127.0.0.17: one address's
/// ephemeral ports would run out across repeated runs), initialises it and subscribes with each
/// of `queries`.
async fn open(address: SocketAddr, n: usize, token: &str, queries: &[String]) -> Result<Socket, Error> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2 + (n % 16) as u8), 0)))?;
    let stream = socket.connect(address).await?;
    let mut request = format!("ws://{address}/graphql/ws").into_client_request()?;
    request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-transport-ws"));
    // Small buffers: this process holds thousands of sockets too.
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (mut socket, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    let init =
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await?;
    match socket.next().await {
        Some(Ok(Message::Text(text))) if text.contains("connection_ack") => {}
        other => return Err(format!("no connection_ack: {other:?}").into()),
    }
    for (id, query) in queries.iter().enumerate() {
        let subscribe = json!({ "type": "subscribe", "id": id.to_string(), "payload": { "query": query } });
        socket.send(Message::text(subscribe.to_string())).await?;
    }
    Ok(socket)
}

/// Reads a socket until told to stop: each event's record id with the instant it arrived.
async fn listen(
    mut socket: Socket,
    tally: &Tally,
    mut stopped: watch::Receiver<bool>,
) -> Vec<(Uuid, Instant)> {
    let mut seen = Vec::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let at = Instant::now();
                    match entity_id(&text) {
                        Some(id) => {
                            seen.push((id, at));
                            tally.received.fetch_add(1, Ordering::Relaxed);
                        }
                        None => {
                            tally.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_) | Message::Binary(_))) => {}
                _ => break,
            }
        }
    }
    let _ = socket.close(None).await;
    seen
}

/// The record id of a `next` message (`None` for anything else: an error, a completion). Found
/// by its key rather than parsed: this process shares the cores with the gateway.
fn entity_id(text: &str) -> Option<Uuid> {
    if !text.starts_with(r#"{"type":"next""#) {
        return None;
    }
    let (_, rest) = text.split_once(r#""entityId":""#)?;
    rest.get(..36)?.parse().ok()
}

/// Writes case events through the API: a monitoring visit, with a client-chosen id.
pub struct Writer<'a> {
    http: reqwest::Client,
    url: String,
    token: &'a str,
}

impl<'a> Writer<'a> {
    pub fn new(server: &Server, token: &'a str) -> Self {
        Self { http: reqwest::Client::new(), url: format!("{}/graphql", server.base), token }
    }

    pub async fn visit(&self, id: Uuid, business: Uuid, on: chrono::NaiveDate) -> Result<(), Error> {
        let input = json!({
            "id": id, "businessId": business, "volunteerName": "Bench",
            "visitedOn": on.to_string(), "observedStatus": "RUNNING",
        });
        let body: Value = self
            .http
            .post(&self.url)
            .bearer_auth(self.token)
            .json(&json!({ "query": WRITE, "variables": { "input": input } }))
            .send()
            .await?
            .json()
            .await?;
        if body["data"]["recordMonitoringVisit"]["monitoringVisit"]["id"].is_string() {
            Ok(())
        } else {
            Err(format!("the visit was not recorded: {body}").into())
        }
    }
}

/// Resident memory of process `pid` in KiB (`VmRSS` of `/proc/PID/status`).
fn rss_kib(pid: u32) -> Result<u64, Error> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| "no VmRSS in /proc/PID/status".into())
}
