//! Webhooks: case events POSTed to an agency's endpoint, signed, in sequence order, at least once.
//!
//! Each webhook keeps a cursor (the last sequence handled). A worker on every replica claims due
//! webhooks with a compare-and-set on `claimed_until` — one worker per webhook at a time, on
//! SQLite and PostgreSQL alike — and delivers the events after the cursor one by one, moving the
//! cursor only after a 2xx answer. A failure schedules a retry with exponential backoff and
//! jitter; a run of failures disables the webhook until `replayWebhook`. If a worker dies, its
//! claim lapses and another worker carries on from the stored cursor, so nothing is lost (an
//! event may arrive twice: receivers deduplicate by `Sinergi-Event-Sequence`).

pub mod targets;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_graphql::{Context, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::{
    case_event,
    webhook::{self, Entity as Webhook},
    webhook_delivery::{self, Entity as Delivery},
};
use futures_util::StreamExt;
use hmac::{KeyInit, Mac};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    auth::{Actor, RequireScope, Scope, parse_scopes},
    context::{AppState, ContextExt},
    error::{ServiceError, gql, payload},
    events::{CaseEventFilter, latest_sequence},
    page::{Page, paginate},
    records::compare_and_set,
};

/// Operator settings for webhook delivery.
#[derive(Clone)]
pub struct WebhookSettings {
    /// Allow loopback and private-network targets (for on-premise receivers and tests).
    pub allow_private_targets: bool,
    /// How long one delivery may take.
    pub timeout: Duration,
    /// Consecutive failures after which a webhook is disabled.
    pub max_failures: i32,
    /// First retry delay; it doubles with each failure, up to an hour.
    pub retry_base: Duration,
    /// Webhooks one API client may have active at once.
    pub max_per_client: u64,
    /// Webhooks one replica delivers to at once (each in its own order).
    pub concurrency: usize,
    /// How target names are resolved (the system's resolver; a stub in tests).
    pub lookup: Arc<dyn targets::Lookup>,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("allow_private_targets", &self.allow_private_targets)
            .field("timeout", &self.timeout)
            .field("max_failures", &self.max_failures)
            .field("max_per_client", &self.max_per_client)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            timeout: Duration::from_secs(10),
            max_failures: 10,
            retry_base: Duration::from_secs(2),
            max_per_client: 10,
            concurrency: 8,
            lookup: Arc::new(targets::SystemLookup),
        }
    }
}

/// How long a worker's claim on a webhook lasts before another worker may take over.
const CLAIM: Duration = Duration::from_secs(30);
/// A claim outlasts the longest single delivery twice over, and is renewed after each event.
fn claim_length(settings: &WebhookSettings) -> chrono::Duration {
    chrono::Duration::from_std(CLAIM.max(settings.timeout * 2)).unwrap_or(chrono::Duration::seconds(30))
}

/// How often an idle worker looks for webhooks registered through other replicas.
const IDLE_RECHECK: Duration = Duration::from_secs(30);
/// Events a worker delivers per claim before it lets others have a turn.
const PER_CLAIM: u64 = 50;
/// How long a hole in the sequence is waited for (see `events`).
const GAP_WAIT: chrono::Duration = chrono::Duration::seconds(3);

/// Checks a webhook target against the settings (see `targets`).
pub async fn check_target(settings: &WebhookSettings, url: &str) -> Result<reqwest::Url, String> {
    targets::check(url, settings.allow_private_targets, settings.lookup.as_ref()).await.map(|(url, _)| url)
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
            "reason": event.reason,
            "actorAgency": event.actor_agency,
            "actorClient": event.actor_client,
            "regencyCode": event.regency_code,
            "occurredAt": event.occurred_at,
        }
    })
    .to_string()
}

/// The rights a webhook delivers with: those of the token that registered it, cut to what the
/// policy grants its agency now. `Err` with the reason when it may deliver nothing any more.
async fn holder(state: &AppState, hook: &webhook::Model) -> Result<Actor, String> {
    let scopes = serde_json::from_str::<Vec<String>>(&hook.scopes)
        .ok()
        .and_then(|s| parse_scopes(&s.join(" ")).ok())
        .unwrap_or_default();
    let Some(grant) = state.policy.agency(&hook.agency) else {
        return Err(format!("the agency {} is no longer in the policy", hook.agency));
    };
    let token_id = hook.token_id.clone().unwrap_or_default();
    match state.revocations.is_refused(&state.reader, &token_id, &hook.agency, &hook.client).await {
        Ok(false) => {}
        Ok(true)
            if !token_id.is_empty()
                && state.revocations.is_revoked(&state.reader, &token_id).await.unwrap_or(false) =>
        {
            return Err("the token that registered it was revoked".into());
        }
        Ok(true) => return Err(format!("the API client {}/{} was revoked", hook.agency, hook.client)),
        Err(err) => {
            tracing::error!(error = ?err, "cannot read revocations");
            return Err(String::new());
        }
    }
    Ok(Actor {
        agency: hook.agency.clone(),
        client: hook.client.clone(),
        scopes: scopes.into_iter().filter(|s| grant.scopes.contains(s)).collect(),
        regions: serde_json::from_str(&hook.regions).unwrap_or_default(),
        token_id,
        expires_at: i64::MAX,
        issued_at: 0,
    })
}

/// A webhook's registration changes through the same versioned write as every record.
impl crate::records::Versioned for Webhook {
    const ID: webhook::Column = webhook::Column::Id;
    const VERSION: webhook::Column = webhook::Column::Version;
    const UPDATED_AT: webhook::Column = webhook::Column::UpdatedAt;
}

/// Disables `hook` and says why in its delivery log. Someone else changing it meanwhile
/// (`CONFLICT`) leaves it to them: the next round looks again.
async fn disable(db: &impl ConnectionTrait, hook: &webhook::Model, why: &str) -> Result<(), ServiceError> {
    let now = Utc::now();
    let change = webhook::ActiveModel {
        status: Set("DISABLED".into()),
        disabled_reason: Set(Some(why.to_owned())),
        ..Default::default()
    };
    match compare_and_set::<Webhook, _>(db, hook.id, hook.version, change).await {
        Err(ServiceError::Conflict { .. }) => return Ok(()),
        other => other?,
    };
    webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        webhook_id: Set(hook.id),
        seq: Set(hook.cursor),
        attempt: Set(0),
        outcome: Set("DISABLED".into()),
        response_status: Set(None),
        error: Set(Some(why.to_owned())),
        duration_ms: Set(0),
        attempted_at: Set(now),
    }
    .insert(db)
    .await?;
    tracing::warn!(webhook = %hook.id, reason = why, "webhook disabled");
    Ok(())
}

/// Disables the active webhooks an API client registered (the client was revoked).
pub async fn disable_for_client(
    db: &impl ConnectionTrait,
    agency: &str,
    client: &str,
    why: &str,
) -> Result<usize, ServiceError> {
    let hooks = Webhook::find()
        .filter(webhook::Column::Agency.eq(agency))
        .filter(webhook::Column::Client.eq(client))
        .filter(webhook::Column::Status.eq("ACTIVE"))
        .all(db)
        .await?;
    for hook in &hooks {
        disable(db, hook, why).await?;
    }
    Ok(hooks.len())
}

/// Disables the active webhooks a token registered (the token was revoked).
pub async fn disable_for_token(db: &impl ConnectionTrait, token_id: &str) -> Result<usize, ServiceError> {
    let hooks = Webhook::find()
        .filter(webhook::Column::TokenId.eq(token_id))
        .filter(webhook::Column::Status.eq("ACTIVE"))
        .all(db)
        .await?;
    for hook in &hooks {
        disable(db, hook, "the token that registered it was revoked").await?;
    }
    Ok(hooks.len())
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
        let resolver = targets::FilteringResolver {
            lookup: state.webhooks.lookup.clone(),
            allow_private: state.webhooks.allow_private_targets,
        };
        let client = match reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver))
            // A proxy would resolve the target itself, around the filtering resolver.
            .no_proxy()
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
    let any_active =
        Webhook::find().filter(webhook::Column::Status.eq("ACTIVE")).one(&state.db).await?.is_some();
    if !any_active {
        return Ok(false);
    }
    let newest = latest_sequence(&state.db).await?;
    // Only webhooks with something to do, chosen in SQL: however many healthy webhooks there are,
    // a due one is never crowded out of the round.
    let due = Webhook::find()
        .filter(webhook::Column::Status.eq("ACTIVE"))
        .filter(webhook::Column::NextAttemptAt.lte(now))
        .filter(webhook::Column::Cursor.lt(newest))
        .filter(Expr::col(webhook::Column::ClaimedUntil).is_null().or(webhook::Column::ClaimedUntil.lt(now)))
        .order_by_asc(webhook::Column::NextAttemptAt)
        .limit(200)
        .all(&state.db)
        .await?;
    // Different webhooks are delivered side by side (a dead target does not hold up a healthy
    // one); each webhook's events stay in order, as one worker holds its claim.
    let results: Vec<Result<(), ServiceError>> = futures_util::stream::iter(due)
        .map(|hook| claim_and_deliver(state, client, worker, hook))
        .buffer_unordered(state.webhooks.concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(true)
}

async fn claim_and_deliver(
    state: &AppState,
    client: &reqwest::Client,
    worker: &str,
    hook: webhook::Model,
) -> Result<(), ServiceError> {
    let claim_end = Utc::now() + claim_length(&state.webhooks);
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
    if !claimed {
        return Ok(());
    }
    let id = hook.id;
    let result = deliver(state, client, worker, hook).await;
    Webhook::update_many()
        .col_expr(webhook::Column::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(webhook::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(webhook::Column::Id.eq(id))
        .filter(webhook::Column::ClaimedBy.eq(worker))
        .exec(&state.db)
        .await?;
    result
}

async fn deliver(
    state: &AppState,
    client: &reqwest::Client,
    worker: &str,
    hook: webhook::Model,
) -> Result<(), ServiceError> {
    // A stored filter that no longer reads must not widen into "every event".
    let Ok(filter) = serde_json::from_str::<CaseEventFilter>(&hook.filter) else {
        return disable(&state.db, &hook, "its stored filter no longer reads; register it again").await;
    };
    // Every delivery acts within the registering client's current grant.
    let actor = match holder(state, &hook).await {
        Ok(actor) => actor,
        Err(why) if why.is_empty() => return Ok(()),
        Err(why) => return disable(&state.db, &hook, &why).await,
    };
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
            // The claim is renewed with each event, so a long batch to a slow receiver keeps it.
            .col_expr(webhook::Column::ClaimedUntil, Expr::value(Utc::now() + claim_length(&state.webhooks)))
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
    let target = match check_target(&state.webhooks, &hook.url).await {
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

/// Whether a webhook delivers.
#[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum WebhookStatus {
    /// Deliveries run.
    Active,
    /// Stopped: by its client, after a run of failures, or because its token or client was
    /// revoked (`disabledReason` says which); `replayWebhook` starts it again.
    Disabled,
}

/// How one delivery attempt ended.
#[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// No 2xx answer (`error`, `responseStatus` say why); it will be retried.
    Failed,
    /// Not an attempt: the webhook was disabled here (`error` says why).
    Disabled,
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
    /// Whether deliveries run.
    async fn status(&self) -> async_graphql::Result<WebhookStatus> {
        crate::records::parse_stored(&self.0.status)
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
        #[graphql(
            validator(minimum = 0, maximum = 100),
            desc = "How many records to return: at most 100; 20 when absent."
        )]
        first: Option<i32>,
        #[graphql(desc = "Return the records after this cursor: the previous page's `pageInfo.endCursor`.")]
        after: Option<String>,
    ) -> async_graphql::Result<Page<WebhookDeliveryNode>> {
        let select = Delivery::find().filter(webhook_delivery::Column::WebhookId.eq(self.0.id));
        let order = (webhook_delivery::Column::AttemptedAt, sea_orm::Order::Desc);
        Ok(paginate(ctx.db()?, select, order, first, after)
            .await
            .map_err(gql)?
            .into_page(WebhookDeliveryNode))
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
    /// How the attempt ended.
    async fn outcome(&self) -> async_graphql::Result<DeliveryOutcome> {
        crate::records::parse_stored(&self.0.outcome)
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

/// A webhook the caller may manage: one its own API client registered, or any with `admin`.
/// Another client's webhook answers as a missing one.
async fn own(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<webhook::Model, ServiceError> {
    match Webhook::find_by_id(id).one(db).await? {
        Some(hook) if owns(actor, &hook) => Ok(hook),
        _ => Err(ServiceError::NotFound),
    }
}

fn owns(actor: &Actor, hook: &webhook::Model) -> bool {
    actor.has(Scope::Admin) || (hook.agency == actor.agency && hook.client == actor.client)
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
    /// The webhooks the caller's API client registered (every webhook with `admin`).
    /// Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn webhooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookNode>> {
        let actor = ctx.actor()?;
        let mut select = Webhook::find();
        if !actor.has(Scope::Admin) {
            select = select
                .filter(webhook::Column::Agency.eq(actor.agency.clone()))
                .filter(webhook::Column::Client.eq(actor.client.clone()));
        }
        let hooks = select
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
    /// Registers a webhook for the caller's API client. Deliveries carry the registering token's
    /// scopes (cut to the agency's grant at each delivery) and regions; revoking the token or the
    /// client disables it. At most 10 active webhooks per client. Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn register_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type's fields.")] input: RegisterWebhookInput,
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
        #[graphql(desc = "What to do; see the input type's fields.")] input: ReplayWebhookInput,
    ) -> async_graphql::Result<WebhookPayload> {
        let (state, actor) = (ctx.state()?, ctx.actor()?);
        WebhookPayload::from_result(replay(state, actor, input).await)
    }

    /// Stops deliveries to a webhook (replayWebhook starts them again). Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn disable_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type's fields.")] input: DisableWebhookInput,
    ) -> async_graphql::Result<WebhookPayload> {
        let (db, actor) = (ctx.db()?, ctx.actor()?);
        WebhookPayload::from_result(
            async {
                let hook = own(db, actor, input.id).await?;
                let change = webhook::ActiveModel {
                    status: Set("DISABLED".into()),
                    disabled_reason: Set(Some(format!("disabled by {}/{}", actor.agency, actor.client))),
                    ..Default::default()
                };
                compare_and_set::<Webhook, _>(db, hook.id, hook.version, change).await
            }
            .await,
        )
    }
}

/// Serialises webhook changes of one API client, so two registrations at once cannot both see
/// room under the limit: a transaction-scoped advisory lock on PostgreSQL; SQLite has one writer.
async fn lock_client(
    txn: &sea_orm::DatabaseTransaction,
    agency: &str,
    client: &str,
) -> Result<(), ServiceError> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [format!("webhooks:{agency}/{client}").into()],
        ))
        .await?;
    }
    Ok(())
}

/// `LIMIT_EXCEEDED` when the client already has as many active webhooks as it may.
async fn check_room(
    db: &impl ConnectionTrait,
    settings: &WebhookSettings,
    agency: &str,
    client: &str,
) -> Result<(), ServiceError> {
    let active = sea_orm::PaginatorTrait::count(
        Webhook::find()
            .filter(webhook::Column::Agency.eq(agency))
            .filter(webhook::Column::Client.eq(client))
            .filter(webhook::Column::Status.eq("ACTIVE")),
        db,
    )
    .await?;
    if active >= settings.max_per_client {
        return Err(ServiceError::LimitExceeded {
            field: "url".into(),
            message: format!(
                "this API client already has {active} active webhooks (SINERGI_WEBHOOK_MAX_PER_CLIENT); disable one first"
            ),
        });
    }
    Ok(())
}

/// Re-delivers from a cursor, re-enabling a disabled webhook when its client has room and its
/// registering token and client are still valid.
async fn replay(
    state: &AppState,
    actor: &Actor,
    input: ReplayWebhookInput,
) -> Result<webhook::Model, ServiceError> {
    let cursor = cursor_of(&input.after)?;
    let hook = own(&state.db, actor, input.id).await?;
    if let Err(why) = holder(state, &hook).await {
        let why =
            if why.is_empty() { "cannot check the registering token now; try again".to_owned() } else { why };
        return Err(ServiceError::validation("id", format!("{why}: register a new webhook")));
    }
    let txn = state.db.begin().await?;
    lock_client(&txn, &hook.agency, &hook.client).await?;
    let hook = own(&txn, actor, input.id).await?;
    if hook.status != "ACTIVE" {
        check_room(&txn, &state.webhooks, &hook.agency, &hook.client).await.map_err(|err| match err {
            ServiceError::LimitExceeded { message, .. } => {
                ServiceError::LimitExceeded { field: "id".into(), message }
            }
            other => other,
        })?;
    }
    let change = webhook::ActiveModel {
        cursor: Set(cursor),
        status: Set("ACTIVE".into()),
        consecutive_failures: Set(0),
        disabled_reason: Set(None),
        next_attempt_at: Set(Utc::now()),
        ..Default::default()
    };
    let after = compare_and_set::<Webhook, _>(&txn, hook.id, hook.version, change).await?;
    txn.commit().await?;
    state.webhook_signal.store(true, std::sync::atomic::Ordering::Relaxed);
    crate::events::nudge();
    Ok(after)
}

async fn register(
    state: &AppState,
    actor: &Actor,
    input: RegisterWebhookInput,
) -> Result<webhook::Model, ServiceError> {
    if input.secret.chars().count() < 16 {
        return Err(ServiceError::validation("secret", "the secret must be at least 16 characters"));
    }
    let url = check_target(&state.webhooks, &input.url)
        .await
        .map_err(|why| ServiceError::validation("url", why))?;
    let txn = state.db.begin().await?;
    lock_client(&txn, &actor.agency, &actor.client).await?;
    check_room(&txn, &state.webhooks, &actor.agency, &actor.client).await?;
    let cursor = match &input.after {
        Some(after) => cursor_of(after)?,
        None => latest_sequence(&txn).await?,
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
        token_id: Set(Some(actor.token_id.clone())),
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
    .insert(&txn)
    .await?;
    txn.commit().await?;
    state.webhook_signal.store(true, std::sync::atomic::Ordering::Relaxed);
    crate::events::nudge();
    Ok(model)
}
