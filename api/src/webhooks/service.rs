//! Registering, replaying and disabling webhooks: the rules, no GraphQL.

use chrono::Utc;
use entity::webhook::{self, Entity as Webhook};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use uuid::Uuid;

use super::{NewWebhook, Replay, WebhookSettings, check_target, worker::holder};
use crate::{
    auth::{Actor, Scope},
    context::AppState,
    error::ServiceError,
    events::latest_sequence,
    records::compare_and_set,
};

/// A webhook's registration changes through the same versioned write as every record.
impl crate::records::Versioned for Webhook {
    const ID: webhook::Column = webhook::Column::Id;
    const VERSION: webhook::Column = webhook::Column::Version;
    const UPDATED_AT: webhook::Column = webhook::Column::UpdatedAt;
}

/// A webhook the caller may manage: one its own API client registered, or any with `admin`.
/// Another client's webhook answers as a missing one.
pub(crate) async fn own(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<webhook::Model, ServiceError> {
    match Webhook::find_by_id(id).one(db).await? {
        Some(hook) if owns(actor, &hook) => Ok(hook),
        _ => Err(ServiceError::NotFound),
    }
}

pub(crate) fn owns(actor: &Actor, hook: &webhook::Model) -> bool {
    actor.has(Scope::Admin) || (hook.agency == actor.agency && hook.client == actor.client)
}

pub(crate) fn cursor_of(after: &str) -> Result<i64, ServiceError> {
    after
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| ServiceError::validation("after", "`after` must be an event's sequence"))
}

/// Serialises webhook changes of one API client, so two registrations at once cannot both see
/// room under the limit: a transaction-scoped advisory lock on PostgreSQL; SQLite has one writer.
pub(crate) async fn lock_client(
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
pub(crate) async fn check_room(
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
pub(crate) async fn replay(
    state: &AppState,
    actor: &Actor,
    input: Replay,
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
    crate::events::commit(txn).await?;
    state.webhook_signal.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(after)
}

pub(crate) async fn register(
    state: &AppState,
    actor: &Actor,
    input: NewWebhook,
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
    crate::events::commit(txn).await?;
    state.webhook_signal.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(model)
}

/// The webhooks the caller's API client registered (every webhook with `admin`), oldest first.
pub async fn list(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<webhook::Model>, ServiceError> {
    let mut select = Webhook::find();
    if !actor.has(Scope::Admin) {
        select = select
            .filter(webhook::Column::Agency.eq(actor.agency.clone()))
            .filter(webhook::Column::Client.eq(actor.client.clone()));
    }
    Ok(select.order_by_asc(webhook::Column::CreatedAt).all(db).await?)
}

/// Disables a webhook the caller manages; `replayWebhook` turns it on again.
pub async fn disable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<webhook::Model, ServiceError> {
    // The input carries no version: a change made meanwhile (the worker's) is read again and the
    // disabling applied over it.
    let mut attempts = 0;
    loop {
        let hook = own(db, actor, id).await?;
        let change = webhook::ActiveModel {
            status: Set("DISABLED".into()),
            disabled_reason: Set(Some(format!("disabled by {}/{}", actor.agency, actor.client))),
            ..Default::default()
        };
        match compare_and_set::<Webhook, _>(db, hook.id, hook.version, change).await {
            Err(ServiceError::Conflict { .. }) if attempts < 3 => attempts += 1,
            other => return other,
        }
    }
}

/// A page of a webhook's delivery log, newest first.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    webhook: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> Result<crate::page::Rows<entity::webhook_delivery::Entity>, ServiceError> {
    use entity::webhook_delivery::{Column, Entity};
    let select = Entity::find().filter(Column::WebhookId.eq(webhook));
    let paging = crate::page::Paging { order: None, first, after, read: crate::columns::Read::ALL };
    crate::page::paginate(db, select, paging, (Column::AttemptedAt, sea_orm::Order::Desc)).await
}
