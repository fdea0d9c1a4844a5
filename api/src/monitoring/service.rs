//! Monitoring-visit rules and storage: append-only, and a visit's observation moves the business.

use chrono::Utc;
use entity::{
    business,
    monitoring_visit::{self, ActiveModel, Column, Entity},
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait};
use uuid::Uuid;

use super::{NewVisit, ObservedStatus, VisitCriteria};
use crate::{
    auth::Actor,
    business::BusinessStatus,
    context::AppState,
    error::ServiceError,
    events::CaseAction,
    page::{Listing, Narrow, Rows, paginate},
    records::{self, existing_for_retry, find_visible, wire, within_regions},
};

/// A page of visits.
#[tracing::instrument(level = "debug", skip_all, name = "monitoring::list")]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listing: Listing<VisitCriteria, Column>,
) -> Result<Rows<Entity>, ServiceError> {
    let Listing { filter: f, paging } = listing;
    let select = within_regions(Entity::find(), actor)
        .equal(Column::BusinessId, f.business_id)
        .equal(Column::BeneficiaryId, f.beneficiary_id)
        .one_of(Column::RegencyCode, f.regency_codes)
        .one_of_enum(Column::ObservedStatus, f.observed_statuses)
        .equal(Column::FollowUpNeeded, f.follow_up_needed)
        .between(Column::VisitedOn, f.visited_from, f.visited_to);
    paginate(db, select, paging, super::DEFAULT_ORDER).await
}

/// Records a visit and what it observed: a stall or a recovery moves the business, a closure is
/// proposed to the owning agency — each with its event, in one transaction.
#[tracing::instrument(level = "debug", skip_all, name = "monitoring::record")]
pub async fn record(
    state: &AppState,
    actor: &Actor,
    input: NewVisit,
) -> Result<monitoring_visit::Model, ServiceError> {
    let mut problems = crate::error::Problems::default();
    if input.volunteer_name.trim().is_empty() {
        problems.push(ServiceError::validation("volunteerName", "the volunteer's name is required"));
    }
    // Today where the volunteer is: Indonesia runs up to UTC+9 (WIT), so a visit at 07:00 in
    // Samarinda (UTC+8) is today's even while it is still yesterday in UTC.
    if input.visited_on > (Utc::now() + chrono::Duration::hours(9)).date_naive() {
        problems.push(ServiceError::validation("visitedOn", "a visit cannot be in the future"));
    }
    if input.revenue_estimate.is_some_and(|r| r < 0) {
        problems.push(ServiceError::validation("revenueEstimate", "revenue cannot be negative"));
    }
    problems.finish()?;
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let biz = find_visible::<business::Entity>(&txn, actor, input.business_id)
        .await
        .map_err(ServiceError::missing("businessId", "business"))?;
    if biz.started_on.is_some_and(|started| input.visited_on < started) {
        return Err(ServiceError::validation("visitedOn", "a visit cannot be before the business started"));
    }
    // A volunteer's token records visits of its own businesses, under its own name.
    let mut volunteer_name = input.volunteer_name.trim().to_owned();
    if let Some(volunteer) = actor.volunteer {
        if biz.volunteer_id != Some(volunteer) {
            return Err(ServiceError::Forbidden(
                "a volunteer records visits of the businesses assigned to it".into(),
            ));
        }
        if let Some(found) = entity::volunteer::Entity::find_by_id(volunteer).one(&txn).await? {
            volunteer_name = found.name;
        }
    }
    let obstacles: Vec<&'static str> = input.obstacles.iter().map(|o| (*o).into()).collect();
    let active = ActiveModel {
        id: Set(id),
        business_id: Set(biz.id),
        beneficiary_id: Set(biz.beneficiary_id),
        regency_code: Set(biz.regency_code.clone()),
        volunteer_name: Set(volunteer_name),
        visited_on: Set(input.visited_on),
        observed_status: Set(wire(input.observed_status)),
        revenue_estimate: Set(input.revenue_estimate),
        obstacles: Set(serde_json::to_string(&obstacles).unwrap_or_else(|_| "[]".into())),
        notes: Set(input.notes),
        follow_up_needed: Set(input.follow_up_needed),
        ..Default::default()
    };
    let visit = records::insert::<Entity, _>(&txn, actor, active).await?;
    // A visit reports what it saw. STALLED moves a running or graduated business at once (stalls
    // must be seen early) and RUNNING moves a stalled one back; CLOSED only proposes the closure
    // to the owning agency. A visit older than the business's last status change moves nothing.
    let stale = biz.status_changed_on.is_some_and(|changed| input.visited_on < changed);
    let mut change = business::ActiveModel::default();
    let action = match (input.observed_status, records::stored::<BusinessStatus>(&biz.status)?) {
        _ if stale => None,
        // A graduated business seen stalled has relapsed: it keeps `graduated_on`.
        (ObservedStatus::Stalled, BusinessStatus::Running | BusinessStatus::Graduated) => {
            change.status = Set(wire(BusinessStatus::Stalled));
            change.status_changed_on = Set(Some(input.visited_on));
            Some(CaseAction::StatusChanged)
        }
        (ObservedStatus::Running, BusinessStatus::Stalled) => {
            change.status = Set(wire(BusinessStatus::Running));
            change.status_changed_on = Set(Some(input.visited_on));
            Some(CaseAction::StatusChanged)
        }
        (
            ObservedStatus::Closed,
            BusinessStatus::Running | BusinessStatus::Stalled | BusinessStatus::Graduated,
        ) if biz.closure_proposed_by_visit.is_none() => {
            change.closure_proposed_by_visit = Set(Some(visit.id));
            change.closure_proposed_on = Set(Some(input.visited_on));
            Some(CaseAction::ClosureProposed)
        }
        _ => None,
    };
    if let Some(action) = action {
        records::update::<business::Entity, _>(&txn, actor, &biz, change, action).await?;
    }
    let touched = crate::programme::graduation::Touched::Business(biz.id);
    crate::programme::graduation::follow(&txn, &state.rules, actor, touched).await?;
    crate::events::commit(txn).await?;
    Ok(visit)
}
