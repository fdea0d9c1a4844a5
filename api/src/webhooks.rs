//! Webhooks: case events POSTed to an agency's endpoint, signed, in sequence order, at least once.
//!
//! Each webhook keeps a cursor (the last sequence handled). A worker on every replica claims due
//! webhooks with a compare-and-set on `claimed_until` — one worker per webhook at a time, on
//! SQLite and PostgreSQL alike — and delivers the events after the cursor one by one, moving the
//! cursor only after a 2xx answer. A failure schedules a retry with exponential backoff and
//! jitter; a run of failures disables the webhook until `replayWebhook`. If a worker dies, its
//! claim lapses and another worker carries on from the stored cursor, so nothing is lost (an
//! event may arrive twice: receivers deduplicate by `Sinergi-Event-Sequence`).

use std::{
    net::IpAddr,
    time::{Duration, Instant},
};

use async_graphql::{Context, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::{
    case_event,
    webhook::{self, Entity as Webhook},
    webhook_delivery::{self, Entity as Delivery},
};
use hmac::{KeyInit, Mac};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    auth::{Actor, RequireScope, Scope, parse_scopes},
    context::{AppState, ContextExt},
    error::{ServiceError, gql, payload},
    events::{CaseEventFilter, latest_sequence},
    page::{Page, paginate, sorted},
};

/// Operator settings for webhook delivery.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Allow loopback and private-network targets (for on-premise receivers and tests).
    pub allow_private_targets: bool,
    /// How long one delivery may take.
    pub timeout: Duration,
    /// Consecutive failures after which a webhook is disabled.
    pub max_failures: i32,
    /// First retry delay; it doubles with each failure, up to an hour.
    pub retry_base: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            timeout: Duration::from_secs(10),
            max_failures: 10,
            retry_base: Duration::from_secs(2),
        }
    }
}

/// How long a worker's claim on a webhook lasts before another worker may take over.
const CLAIM: Duration = Duration::from_secs(30);
/// How often an idle worker looks for webhooks registered through other replicas.
const IDLE_RECHECK: Duration = Duration::from_secs(30);
/// Events a worker delivers per claim before it lets others have a turn.
const PER_CLAIM: u64 = 50;
/// How long a hole in the sequence is waited for (see `events`).
const GAP_WAIT: chrono::Duration = chrono::Duration::seconds(3);

fn forbidden_ip(ip: IpAddr, allow_private: bool) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() {
                Some("an unroutable address")
            } else if v4.is_link_local() {
                Some("a link-local or cloud-metadata address")
            } else if !allow_private
                && (v4.is_loopback() || v4.is_private() || (o[0] == 100 && (64..128).contains(&o[1])))
            {
                Some("a loopback or private-network address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if let Some(v4) = v6.to_ipv4_mapped() {
                forbidden_ip(IpAddr::V4(v4), allow_private)
            } else if v6.is_unspecified() || v6.is_multicast() {
                Some("an unroutable address")
            } else if first & 0xffc0 == 0xfe80 || v6.segments() == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] {
                Some("a link-local or cloud-metadata address")
            } else if !allow_private && (v6.is_loopback() || first & 0xfe00 == 0xfc00) {
                Some("a loopback or private-network address")
            } else {
                None
            }
        }
    }
}

/// Checks a webhook target: http or https, a host that resolves, and no address it must not
/// reach (link-local and metadata always; loopback and private networks unless allowed).
pub async fn check_target(url: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| "not a valid URL".to_owned())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("only http and https targets are allowed".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials in the URL are not allowed; sign with the secret instead".into());
    }
    let host =
        parsed.host_str().ok_or("the URL has no host")?.trim_matches(|c| c == '[' || c == ']').to_owned();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| format!("cannot resolve {host}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    for addr in addrs {
        if let Some(why) = forbidden_ip(addr.ip(), allow_private) {
            return Err(format!("{host} resolves to {why}"));
        }
    }
    Ok(parsed)
}

/// The signature header value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| "unusable secret".to_owned())?;
    mac.update(format!("{timestamp}.{body}").as_bytes());
    Ok(format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes())))
}

/// The JSON body of a delivery.
fn body(hook: Uuid, event: &case_event::Model) -> String {
    serde_json::json!({
        "webhookId": hook,
        "event": {
            "sequence": event.seq.to_string(),
            "beneficiaryId": event.beneficiary_id,
            "businessId": event.business_id,
            "entityType": event.entity_type,
            "entityId": event.entity_id,
            "action": event.action,
            "fromStatus": event.from_status,
            "toStatus": event.to_status,
            "changedFields": serde_json::from_str::<serde_json::Value>(&event.changed_fields).unwrap_or_default(),
            "actorAgency": event.actor_agency,
            "actorClient": event.actor_client,
            "regencyCode": event.regency_code,
            "occurredAt": event.occurred_at,
        }
    })
    .to_string()
}

/// The registering token's rights, as the webhook keeps them.
fn holder(hook: &webhook::Model) -> Actor {
    Actor {
        agency: hook.agency.clone(),
        client: hook.client.clone(),
        scopes: serde_json::from_str::<Vec<String>>(&hook.scopes)
            .ok()
            .and_then(|s| parse_scopes(&s.join(" ")).ok())
            .unwrap_or_default(),
        regions: serde_json::from_str(&hook.regions).unwrap_or_default(),
        token_id: String::new(),
        expires_at: i64::MAX,
        issued_at: 0,
    }
}

fn backoff(settings: &WebhookSettings, failures: i32) -> chrono::Duration {
    let exp = settings.retry_base.saturating_mul(1u32 << failures.clamp(1, 20).saturating_sub(1));
    let capped = exp.min(Duration::from_secs(3600));
    let jitter = rand::rng().random_range(0.8..1.2);
    chrono::Duration::from_std(capped.mul_f64(jitter)).unwrap_or(chrono::Duration::hours(1))
}

/// Runs the delivery worker of this replica until the process ends.
pub fn spawn_worker(state: AppState) {
    let worker = format!("worker-{}", Uuid::now_v7());
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(state.webhooks.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Sinergi-Webhooks/1")
            .build()
        {
            Ok(client) => client,
            Err(err) => {
                tracing::error!(error = %err, "webhook worker cannot start");
                return;
            }
        };
        let mut wake = crate::events::subscribe_nudges();
        // With no active webhook the worker stays off the database, looking again only when this
        // replica registers one or every IDLE_RECHECK (for webhooks registered on other replicas).
        let mut idle_since: Option<Instant> = None;
        loop {
            let signalled = state.webhook_signal.swap(false, std::sync::atomic::Ordering::Relaxed);
            if signalled || idle_since.is_none_or(|since| since.elapsed() >= IDLE_RECHECK) {
                match run_once(&state, &client, &worker).await {
                    Ok(true) => idle_since = None,
                    Ok(false) => idle_since = Some(Instant::now()),
                    Err(err) => tracing::error!(error = ?err, "webhook worker round failed"),
                }
            }
            tokio::select! {
                _ = wake.changed() => {}
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    });
}

/// One round: claim each due webhook in turn and deliver what it has waiting. Returns whether any
/// webhook is active at all.
pub async fn run_once(
    state: &AppState,
    client: &reqwest::Client,
    worker: &str,
) -> Result<bool, ServiceError> {
    let now = Utc::now();
    let active = Webhook::find()
        .filter(webhook::Column::Status.eq("ACTIVE"))
        .order_by_asc(webhook::Column::NextAttemptAt)
        .limit(200)
        .all(&state.db)
        .await?;
    if active.is_empty() {
        return Ok(false);
    }
    let newest = latest_sequence(&state.db).await?;
    let due = active.into_iter().filter(|hook| {
        hook.next_attempt_at <= now
            && hook.cursor < newest
            && hook.claimed_until.is_none_or(|until| until < now)
    });
    for hook in due {
        let claim_end = Utc::now() + chrono::Duration::from_std(CLAIM).unwrap_or_default();
        let claimed = Webhook::update_many()
            .col_expr(webhook::Column::ClaimedBy, Expr::value(worker))
            .col_expr(webhook::Column::ClaimedUntil, Expr::value(claim_end))
            .filter(webhook::Column::Id.eq(hook.id))
            .filter(
                Expr::col(webhook::Column::ClaimedUntil)
                    .is_null()
                    .or(webhook::Column::ClaimedUntil.lt(Utc::now())),
            )
            .exec(&state.db)
            .await?
            .rows_affected
            == 1;
        if claimed {
            let result = deliver(state, client, worker, hook.clone()).await;
            Webhook::update_many()
                .col_expr(webhook::Column::ClaimedBy, Expr::value(Option::<String>::None))
                .col_expr(webhook::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(webhook::Column::Id.eq(hook.id))
                .filter(webhook::Column::ClaimedBy.eq(worker))
                .exec(&state.db)
                .await?;
            result?;
        }
    }
    Ok(true)
}

async fn deliver(
    state: &AppState,
    client: &reqwest::Client,
    worker: &str,
    hook: webhook::Model,
) -> Result<(), ServiceError> {
    let filter: CaseEventFilter = serde_json::from_str(&hook.filter).unwrap_or_default();
    let actor = holder(&hook);
    let events = case_event::Entity::find()
        .filter(case_event::Column::Seq.gt(hook.cursor))
        .order_by_asc(case_event::Column::Seq)
        .limit(PER_CLAIM)
        .all(&state.db)
        .await?;
    let mut cursor = hook.cursor;
    for event in events {
        // A hole before this event may be a transaction still committing: wait for it a while.
        if event.seq != cursor + 1 && event.occurred_at > Utc::now() - GAP_WAIT {
            break;
        }
        if filter.admits(&actor, &event) {
            let delivered = post(state, client, &hook, &event).await?;
            if !delivered {
                return Ok(());
            }
        }
        cursor = event.seq;
        let moved = Webhook::update_many()
            .col_expr(webhook::Column::Cursor, Expr::value(cursor))
            .col_expr(webhook::Column::ConsecutiveFailures, Expr::value(0))
            .filter(webhook::Column::Id.eq(hook.id))
            .filter(webhook::Column::ClaimedBy.eq(worker))
            .exec(&state.db)
            .await?;
        if moved.rows_affected != 1 {
            // The claim lapsed and another worker took over; it carries on from the cursor.
            return Ok(());
        }
    }
    Ok(())
}

/// POSTs one event; records the attempt; on failure schedules the retry or disables the hook.
async fn post(
    state: &AppState,
    client: &reqwest::Client,
    hook: &webhook::Model,
    event: &case_event::Model,
) -> Result<bool, ServiceError> {
    let started = Instant::now();
    let attempt = hook.consecutive_failures + 1;
    let text = body(hook.id, event);
    let timestamp = Utc::now().timestamp();
    let target = match check_target(&hook.url, state.webhooks.allow_private_targets).await {
        Ok(url) => signature(&hook.secret, timestamp, &text).map(|signed| (url, signed)),
        Err(why) => Err(why),
    };
    let outcome = match target {
        Err(why) => Err((None, why)),
        Ok((url, signed)) => match client
            .post(url)
            .header("Content-Type", "application/json")
            .header("Sinergi-Webhook-Id", hook.id.to_string())
            .header("Sinergi-Event-Sequence", event.seq.to_string())
            .header("Sinergi-Delivery-Attempt", attempt.to_string())
            .header("Sinergi-Signature", signed)
            .body(text)
            .send()
            .await
        {
            Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
            Ok(response) => {
                Err((Some(response.status().as_u16()), format!("HTTP {}", response.status().as_u16())))
            }
            Err(err) => Err((
                None,
                if err.is_timeout() { "timed out".to_owned() } else { "connection failed".to_owned() },
            )),
        },
    };
    let duration_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    let (delivered, status, error) = match &outcome {
        Ok(status) => (true, Some(*status as i32), None),
        Err((status, why)) => (false, status.map(|s| s as i32), Some(why.clone())),
    };
    webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        webhook_id: Set(hook.id),
        seq: Set(event.seq),
        attempt: Set(attempt),
        outcome: Set(if delivered { "DELIVERED" } else { "FAILED" }.into()),
        response_status: Set(status),
        error: Set(error.clone()),
        duration_ms: Set(duration_ms),
        attempted_at: Set(Utc::now()),
    }
    .insert(&state.db)
    .await?;
    if !delivered {
        let failures = attempt;
        let disable = failures >= state.webhooks.max_failures;
        let mut change = webhook::ActiveModel {
            consecutive_failures: Set(failures),
            next_attempt_at: Set(Utc::now() + backoff(&state.webhooks, failures)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        if disable {
            change.status = Set("DISABLED".into());
            change.disabled_reason =
                Set(Some(format!("{failures} failures in a row; last: {}", error.unwrap_or_default())));
            tracing::warn!(webhook = %hook.id, failures, "webhook disabled");
        }
        Webhook::update_many().set(change).filter(webhook::Column::Id.eq(hook.id)).exec(&state.db).await?;
    }
    Ok(delivered)
}

/// A webhook (kait web): where an agency receives case events over HTTP.
pub struct WebhookNode(webhook::Model);

/// A webhook: case events POSTed to an agency's endpoint, signed with HMAC-SHA256, in sequence
/// order, at least once. The secret is never shown again after registration.
#[Object(name = "Webhook")]
impl WebhookNode {
    /// Webhook id (`Sinergi-Webhook-Id`).
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Target URL.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// Agency that registered it.
    async fn agency(&self) -> &str {
        &self.0.agency
    }
    /// `ACTIVE`, or `DISABLED` after a run of failures (see `disabledReason`).
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// Why it was disabled.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// The last sequence delivered (or passed over by the filter).
    async fn last_sequence(&self) -> String {
        self.0.cursor.to_string()
    }
    /// Failed attempts since the last success.
    async fn consecutive_failures(&self) -> i32 {
        self.0.consecutive_failures
    }
    /// When the next attempt is due.
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
    /// Registered (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The delivery log, newest first.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Page<WebhookDeliveryNode>> {
        let select = Delivery::find().filter(webhook_delivery::Column::WebhookId.eq(self.0.id));
        let select = sorted(select, None, (webhook_delivery::Column::AttemptedAt, sea_orm::Order::Desc));
        paginate(ctx.db()?, select, first, after, WebhookDeliveryNode).await.map_err(gql)
    }
}

/// One delivery attempt (percobaan pengiriman).
pub struct WebhookDeliveryNode(webhook_delivery::Model);

/// One attempt to deliver one case event to a webhook.
#[Object(name = "WebhookDelivery")]
impl WebhookDeliveryNode {
    /// The event's sequence.
    async fn sequence(&self) -> String {
        self.0.seq.to_string()
    }
    /// Attempt number for this event (1 = first try).
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }
    /// `DELIVERED` or `FAILED`.
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }
    /// The receiver's HTTP status, if it answered.
    async fn response_status(&self) -> Option<i32> {
        self.0.response_status
    }
    /// What went wrong (`HTTP 500`, `timed out`, `connection failed`, a refused target).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// How long the attempt took, in milliseconds.
    async fn duration_ms(&self) -> i32 {
        self.0.duration_ms
    }
    /// When (UTC).
    async fn attempted_at(&self) -> DateTime<Utc> {
        self.0.attempted_at
    }
}

/// Input of `registerWebhook`.
#[derive(InputObject)]
pub struct RegisterWebhookInput {
    /// Target URL, http or https. At most 2000 characters.
    #[graphql(validator(chars_max_length = 2000))]
    pub url: String,
    /// Shared secret for the HMAC-SHA256 signature, at least 16 characters. At most 200 characters.
    #[graphql(validator(chars_max_length = 200))]
    pub secret: String,
    /// Which events; the token's scopes and regions limit them further.
    pub filter: Option<CaseEventFilter>,
    /// Start after this sequence (replays the history after it); default: from now on. At most 200 characters.
    #[graphql(validator(chars_max_length = 200))]
    pub after: Option<String>,
}

/// Input of `replayWebhook`.
#[derive(InputObject)]
pub struct ReplayWebhookInput {
    /// The webhook.
    pub id: Uuid,
    /// Deliver again every event after this sequence; also re-enables a disabled webhook. At most 200 characters.
    #[graphql(validator(chars_max_length = 200))]
    pub after: String,
}

/// Input of `disableWebhook`.
#[derive(InputObject)]
pub struct DisableWebhookInput {
    /// The webhook.
    pub id: Uuid,
}

payload!(
    /// Result of a webhook mutation.
    WebhookPayload { webhook: WebhookNode }
);

impl From<webhook::Model> for WebhookNode {
    fn from(model: webhook::Model) -> Self {
        Self(model)
    }
}

async fn own(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<webhook::Model, ServiceError> {
    match Webhook::find_by_id(id).one(db).await? {
        Some(hook) if hook.agency == actor.agency => Ok(hook),
        _ => Err(ServiceError::NotFound),
    }
}

fn cursor_of(after: &str) -> Result<i64, ServiceError> {
    after
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| ServiceError::validation("after", "`after` must be an event's sequence"))
}

/// Webhook queries.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The caller's agency's webhooks. Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn webhooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookNode>> {
        let actor = ctx.actor()?;
        let hooks = Webhook::find()
            .filter(webhook::Column::Agency.eq(actor.agency.clone()))
            .order_by_asc(webhook::Column::CreatedAt)
            .all(ctx.db()?)
            .await
            .map_err(|e| gql(e.into()))?;
        Ok(hooks.into_iter().map(WebhookNode).collect())
    }
}

/// Webhook mutations.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a webhook for the caller's agency; deliveries carry the token's scopes and
    /// regions as they are now. Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn register_webhook(
        &self,
        ctx: &Context<'_>,
        input: RegisterWebhookInput,
    ) -> async_graphql::Result<WebhookPayload> {
        let state = ctx.state()?;
        let actor = ctx.actor()?;
        WebhookPayload::from_result(register(state, actor, input).await)
    }

    /// Delivers again every event after a sequence, and re-enables a disabled webhook.
    /// Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn replay_webhook(
        &self,
        ctx: &Context<'_>,
        input: ReplayWebhookInput,
    ) -> async_graphql::Result<WebhookPayload> {
        let (db, actor) = (ctx.db()?, ctx.actor()?);
        let signal = ctx.state()?.webhook_signal.clone();
        WebhookPayload::from_result(
            async {
                let hook = own(db, actor, input.id).await?;
                let cursor = cursor_of(&input.after)?;
                let change = webhook::ActiveModel {
                    cursor: Set(cursor),
                    status: Set("ACTIVE".into()),
                    consecutive_failures: Set(0),
                    disabled_reason: Set(None),
                    next_attempt_at: Set(Utc::now()),
                    updated_at: Set(Utc::now()),
                    version: Set(hook.version + 1),
                    ..Default::default()
                };
                Webhook::update_many().set(change).filter(webhook::Column::Id.eq(hook.id)).exec(db).await?;
                signal.store(true, std::sync::atomic::Ordering::Relaxed);
                crate::events::nudge();
                Webhook::find_by_id(hook.id).one(db).await?.ok_or(ServiceError::NotFound)
            }
            .await,
        )
    }

    /// Stops deliveries to a webhook (replayWebhook starts them again). Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn disable_webhook(
        &self,
        ctx: &Context<'_>,
        input: DisableWebhookInput,
    ) -> async_graphql::Result<WebhookPayload> {
        let (db, actor) = (ctx.db()?, ctx.actor()?);
        WebhookPayload::from_result(
            async {
                let hook = own(db, actor, input.id).await?;
                let change = webhook::ActiveModel {
                    status: Set("DISABLED".into()),
                    disabled_reason: Set(Some(format!("disabled by {}/{}", actor.agency, actor.client))),
                    updated_at: Set(Utc::now()),
                    version: Set(hook.version + 1),
                    ..Default::default()
                };
                Webhook::update_many().set(change).filter(webhook::Column::Id.eq(hook.id)).exec(db).await?;
                Webhook::find_by_id(hook.id).one(db).await?.ok_or(ServiceError::NotFound)
            }
            .await,
        )
    }
}

async fn register(
    state: &AppState,
    actor: &Actor,
    input: RegisterWebhookInput,
) -> Result<webhook::Model, ServiceError> {
    if input.secret.chars().count() < 16 {
        return Err(ServiceError::validation("secret", "the secret must be at least 16 characters"));
    }
    let url = check_target(&input.url, state.webhooks.allow_private_targets)
        .await
        .map_err(|why| ServiceError::validation("url", why))?;
    let cursor = match &input.after {
        Some(after) => cursor_of(after)?,
        None => latest_sequence(&state.db).await?,
    };
    let scopes: Vec<&str> = actor.scopes.iter().map(|s| s.as_str()).collect();
    let now = Utc::now();
    let model = webhook::ActiveModel {
        id: Set(Uuid::now_v7()),
        agency: Set(actor.agency.clone()),
        client: Set(actor.client.clone()),
        url: Set(url.to_string()),
        secret: Set(input.secret),
        filter: Set(serde_json::to_string(&input.filter.unwrap_or_default()).unwrap_or_else(|_| "{}".into())),
        scopes: Set(serde_json::to_string(&scopes).unwrap_or_else(|_| "[]".into())),
        regions: Set(serde_json::to_string(&actor.regions).unwrap_or_else(|_| "[]".into())),
        cursor: Set(cursor),
        status: Set("ACTIVE".into()),
        consecutive_failures: Set(0),
        disabled_reason: Set(None),
        next_attempt_at: Set(now),
        claimed_by: Set(None),
        claimed_until: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    state.webhook_signal.store(true, std::sync::atomic::Ordering::Relaxed);
    crate::events::nudge();
    Ok(model)
}
