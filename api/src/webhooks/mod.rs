//! Webhooks: case events POSTed to an agency's endpoint, signed, in sequence order, at least once.
//!
//! Each webhook keeps a cursor (the last sequence handled). A worker on every replica claims due
//! webhooks with a compare-and-set on `claimed_until` — one worker per webhook at a time, on
//! SQLite and PostgreSQL alike — and delivers the events after the cursor one by one, moving the
//! cursor only after a 2xx answer. A failure schedules a retry with exponential backoff and
//! jitter; a run of failures disables the webhook until `replayWebhook`. If a worker dies, its
//! claim lapses and another worker carries on from the stored cursor, so nothing is lost (an
//! event may arrive twice: receivers deduplicate by `Sinergi-Event-Sequence`).

pub mod service;
pub mod targets;
pub mod worker;

use service::{register, replay};
pub use worker::{backlog, disable_for_client, disable_for_token, run_once, signature, spawn_worker};

use std::{sync::Arc, time::Duration};

use async_graphql::{Context, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::{
    webhook::{self},
    webhook_delivery::{self},
};
use uuid::Uuid;

use crate::{
    auth::{RequireScope, Scope},
    command::inputs,
    context::ContextExt,
    error::{gql, payload},
    events::CaseEventFilter,
    page::Page,
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

/// Checks a webhook target against the settings (see `targets`).
pub async fn check_target(settings: &WebhookSettings, url: &str) -> Result<reqwest::Url, String> {
    targets::check(url, settings.allow_private_targets, settings.lookup.as_ref()).await.map(|(url, _)| url)
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
        let page = service::deliveries(ctx.db()?, self.0.id, first, after).await;
        Ok(page.map_err(gql)?.into_page(WebhookDeliveryNode))
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

inputs! {
    /// Input of `registerWebhook`.
    RegisterWebhookInput => NewWebhook {
        /// Target URL, http or https. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        url: String,
        /// Shared secret for the HMAC-SHA256 signature, at least 16 characters. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        secret: String,
        /// Which events; the token's scopes and regions limit them further.
        filter: Option<CaseEventFilter>,
        /// Start after this sequence (replays the history after it); default: from now on. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        after: Option<String>,
    }
}

inputs! {
    /// Input of `replayWebhook`.
    ReplayWebhookInput => Replay {
        /// The webhook.
        id: Uuid,
        /// Deliver again every event after this sequence; also re-enables a disabled webhook. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        after: String,
    }
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

/// Webhook queries.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The webhooks the caller's API client registered (every webhook with `admin`).
    /// Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn webhooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookNode>> {
        let hooks = Box::pin(service::list(ctx.db()?, ctx.actor()?)).await.map_err(gql)?;
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
        WebhookPayload::from_result(register(state, actor, input.into()).await)
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
        WebhookPayload::from_result(replay(state, actor, input.into()).await)
    }

    /// Stops deliveries to a webhook (replayWebhook starts them again). Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn disable_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type's fields.")] input: DisableWebhookInput,
    ) -> async_graphql::Result<WebhookPayload> {
        WebhookPayload::from_result(service::disable(ctx.db()?, ctx.actor()?, input.id).await)
    }
}
