//! The delivery worker: claims due webhooks, POSTs their events signed and in order, retries with
//! backoff, and disables a webhook whose holder may no longer receive.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use entity::{
    case_event,
    webhook::{self, Entity as Webhook},
    webhook_delivery::{self},
};
use futures_util::StreamExt;
use hmac::{KeyInit, Mac};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use super::{WebhookSettings, check_target, targets};
use crate::{
    auth::{Actor, parse_scopes},
    context::AppState,
    error::ServiceError,
    events::{CaseEventFilter, latest_sequence},
    records::compare_and_set,
};

/// How long a worker's claim on a webhook lasts before another worker may take over.
pub(crate) const CLAIM: Duration = Duration::from_secs(30);

/// A claim outlasts the longest single delivery twice over, and is renewed after each event.
pub(crate) fn claim_length(settings: &WebhookSettings) -> chrono::Duration {
    chrono::Duration::from_std(CLAIM.max(settings.timeout * 2)).unwrap_or(chrono::Duration::seconds(30))
}

/// How often an idle worker looks for webhooks registered through other replicas.
pub(crate) const IDLE_RECHECK: Duration = Duration::from_secs(30);

/// Events a worker delivers per claim before it lets others have a turn.
pub(crate) const PER_CLAIM: u64 = 50;

/// How long a hole in the sequence is waited for (see `events`).
pub(crate) const GAP_WAIT: chrono::Duration = chrono::Duration::seconds(3);

/// The signature header value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| "unusable secret".to_owned())?;
    mac.update(format!("{timestamp}.{body}").as_bytes());
    Ok(format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes())))
}

/// The JSON body of a delivery.
pub(crate) fn body(hook: Uuid, event: &case_event::Model) -> String {
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
            // A beneficiary's reason is personal data: read it through the API with `pii:read`.
            "reason": match event.reason.as_deref() {
                Some(_) if event.entity_type == "BENEFICIARY" => Some("***"),
                other => other,
            },
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
pub(crate) async fn holder(state: &AppState, hook: &webhook::Model) -> Result<Actor, String> {
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
            tracing::error!(error = %err, "cannot read revocations");
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
        // Deliveries carry no personal data (a beneficiary's reason is always masked in them).
        volunteer: None,
    })
}

/// Disables `hook` and says why in its delivery log. Someone else changing it meanwhile
/// (`CONFLICT`) leaves it to them: the next round looks again.
pub(crate) async fn disable(
    db: &impl ConnectionTrait,
    hook: &webhook::Model,
    why: &str,
) -> Result<(), ServiceError> {
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

pub(crate) fn backoff(settings: &WebhookSettings, failures: i32) -> chrono::Duration {
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
                    Err(err) => tracing::error!(error = %err, "webhook worker round failed"),
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

pub(crate) async fn claim_and_deliver(
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

pub(crate) async fn deliver(
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
pub(crate) async fn post(
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
    state.metrics.count_delivery(delivered);
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

/// Case events the active webhooks have not looked at yet, summed over them (the `/metrics`
/// backlog): each webhook's distance from its cursor to the newest event.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<i64, sea_orm::DbErr> {
    let sql = "SELECT CAST(COALESCE(SUM((SELECT COALESCE(MAX(seq), 0) FROM case_event) - cursor), 0) AS BIGINT) \
               FROM webhook WHERE status = 'ACTIVE'";
    let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
}
