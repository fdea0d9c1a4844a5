//! Market-service rules and storage. No GraphQL here.

use chrono::Utc;
use entity::{
    business,
    market_service::{self, ActiveModel, Column, Entity},
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Order, TransactionTrait};
use uuid::Uuid;

use super::{
    MarketServiceChanges, MarketServiceCriteria, MarketServiceKind, MarketServiceStatus, NewMarketService,
    Outcome,
};
use crate::{
    auth::Actor,
    business::BusinessStatus,
    context::AppState,
    error::ServiceError,
    moves::{Move, StatusChange},
    page::{Listing, Narrow, Rows, paginate},
    records::{self, existing_for_retry, find_visible, wire, within_regions},
};

/// A page of services.
#[tracing::instrument(level = "debug", skip_all, name = "market::list")]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listing: Listing<MarketServiceCriteria, Column>,
) -> Result<Rows<Entity>, ServiceError> {
    let Listing { filter: f, paging } = listing;
    let select = within_regions(Entity::find(), actor)
        .equal(Column::BusinessId, f.business_id)
        .equal(Column::BeneficiaryId, f.beneficiary_id)
        .one_of(Column::RegencyCode, f.regency_codes)
        .one_of_enum(Column::Kind, f.kinds)
        .one_of_enum(Column::Status, f.statuses);
    paginate(db, select, paging, (Column::CreatedAt, Order::Desc)).await
}

/// Plans a service for a business the caller can see, once the business has been approved.
#[tracing::instrument(level = "debug", skip_all, name = "market::create")]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewMarketService,
) -> Result<market_service::Model, ServiceError> {
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let biz = find_visible::<business::Entity>(&txn, actor, input.business_id)
        .await
        .map_err(ServiceError::missing("businessId", "business"))?;
    let status = records::stored::<BusinessStatus>(&biz.status)?;
    if matches!(status, BusinessStatus::Proposed | BusinessStatus::Rejected | BusinessStatus::Closed) {
        return Err(ServiceError::NotEligible {
            field: "businessId".into(),
            message: format!("a {} business is not served; it must be approved and not closed", biz.status),
        });
    }
    let active = ActiveModel {
        id: Set(id),
        business_id: Set(biz.id),
        beneficiary_id: Set(biz.beneficiary_id),
        regency_code: Set(biz.regency_code),
        kind: Set(wire(input.kind)),
        provider: Set(text(input.provider)),
        description: Set(text(input.description)),
        planned_on: Set(input.planned_on),
        started_on: Set(None),
        completed_on: Set(None),
        result: Set(None),
        status: Set(wire(MarketServiceStatus::Planned)),
        status_reason: Set(None),
        ..Default::default()
    };
    records::commit_insert::<Entity, _>(txn, actor, active).await
}

/// Trimmed text, none when blank.
fn text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Changes a service's details before it is done.
#[tracing::instrument(level = "debug", skip_all, name = "market::update")]
pub async fn update(
    state: &AppState,
    actor: &Actor,
    input: MarketServiceChanges,
) -> Result<market_service::Model, ServiceError> {
    let txn = state.db.begin().await?;
    let before = records::load_for_write::<Entity>(&txn, actor, input.id, input.expected_version).await?;
    records::require_editable(
        &before.status,
        &[MarketServiceStatus::Planned, MarketServiceStatus::InProgress],
    )?;
    let mut active = ActiveModel::default();
    if let Some(v) = input.provider.change() {
        active.provider = Set(text(v));
    }
    if let Some(v) = input.description.change() {
        active.description = Set(text(v));
    }
    if let Some(v) = input.planned_on.change() {
        active.planned_on = Set(v);
    }
    records::commit_update::<Entity, _>(txn, actor, &before, active).await
}

/// A lifecycle move: a start records its day; a completion its result and day, completes the
/// referrals it answers and follows the business's level.
#[tracing::instrument(level = "debug", skip_all, name = "market::change_status")]
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    to: &Move<MarketServiceStatus>,
    change: StatusChange<Outcome>,
) -> Result<market_service::Model, ServiceError> {
    let today = Utc::now().date_naive();
    let outcome =
        Outcome { result: change.details.result.clone(), completed_on: change.details.completed_on };
    let mut moving = records::Moving::<Entity, ActiveModel>::start(&state.db, actor, to, &change).await?;
    match to.to {
        MarketServiceStatus::InProgress => moving.active.started_on = Set(Some(today)),
        MarketServiceStatus::Completed => {
            let result = text(outcome.result).ok_or_else(|| {
                ServiceError::validation("result", "the result is required: what came of it")
            })?;
            let day = outcome.completed_on.unwrap_or(today);
            if day > today {
                return Err(ServiceError::validation(
                    "completedOn",
                    "a service cannot be completed in the future",
                ));
            }
            if moving.before.started_on.is_some_and(|started| day < started) {
                return Err(ServiceError::validation(
                    "completedOn",
                    "a service cannot be completed before it started",
                ));
            }
            moving.active.result = Set(Some(result));
            moving.active.completed_on = Set(Some(day));
        }
        MarketServiceStatus::Planned | MarketServiceStatus::Cancelled => {}
    }
    let (txn, after) = moving.write(actor).await?;
    if to.to == MarketServiceStatus::Completed {
        let kind: MarketServiceKind = records::stored(&after.kind)?;
        let done = crate::programme::handover::Done {
            kind: crate::records::EntityType::MarketService,
            id: after.id,
            beneficiary: after.beneficiary_id,
            business: Some(after.business_id),
            services: kind.answers(),
        };
        crate::programme::handover::complete_referrals(&txn, actor, done).await?;
        // Every business of the owner: a completed referral about no business counts for each.
        let touched =
            crate::programme::graduation::Touched::Either { business: None, owner: after.beneficiary_id };
        crate::programme::graduation::follow(&txn, &state.rules, actor, touched).await?;
    }
    crate::events::commit(txn).await?;
    Ok(after)
}
