//! Referral rules and storage: who may move a referral, and its outcome. No GraphQL here.

use entity::{
    agency, beneficiary, business,
    referral::{self, ActiveModel, Column, Entity},
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Order, TransactionTrait};
use uuid::Uuid;

use super::{NewReferral, ReferralChanges, ReferralCriteria, ReferralStatus, Resend};
use crate::{
    auth::Actor,
    context::AppState,
    error::ServiceError,
    moves::{Move, StatusChange},
    page::{Listing, Narrow, Rows, paginate},
    records::{self, EntityType, Moving, existing_for_retry, find_visible, wire, within_regions},
};

/// The receiving agency's response.
#[derive(Default)]
pub struct Response {
    pub note: Option<String>,
    pub outcome_type: Option<EntityType>,
    pub outcome_id: Option<Uuid>,
}

/// A page of referrals.
#[tracing::instrument(level = "debug", skip_all, name = "referral::list")]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listing: Listing<ReferralCriteria, Column>,
) -> Result<Rows<Entity>, ServiceError> {
    let Listing { filter: f, paging } = listing;
    let select = within_regions(Entity::find(), actor)
        .equal(Column::BeneficiaryId, f.beneficiary_id)
        .equal(Column::BusinessId, f.business_id)
        .equal(Column::FromAgency, f.from_agency)
        .equal(Column::ToAgency, f.to_agency)
        .one_of(Column::RegencyCode, f.regency_codes)
        .one_of_enum(Column::Service, f.services)
        .one_of_enum(Column::Status, f.statuses)
        .between(Column::DueBy, None, f.due_by);
    paginate(db, select, paging, (Column::CreatedAt, Order::Desc)).await
}

/// Sends a referral from the caller's agency.
#[tracing::instrument(level = "debug", skip_all, name = "referral::create")]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewReferral,
) -> Result<referral::Model, ServiceError> {
    let mut problems = crate::error::Problems::default();
    if input.reason.trim().is_empty() {
        problems.push(ServiceError::validation("reason", "a referral needs a reason"));
    }
    if input.to_agency == actor.agency {
        problems.push(ServiceError::validation("toAgency", "an agency cannot refer to itself"));
    }
    problems.finish()?;
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    if agency::Entity::find_by_id(input.to_agency.clone()).one(&txn).await?.is_none() {
        return Err(ServiceError::validation("toAgency", format!("unknown agency `{}`", input.to_agency)));
    }
    let person = find_visible::<beneficiary::Entity>(&txn, actor, input.beneficiary_id)
        .await
        .map_err(ServiceError::missing("beneficiaryId", "beneficiary"))?;
    if let Some(business_id) = input.business_id {
        let biz = business::Entity::find_by_id(business_id).one(&txn).await?;
        if biz.is_none_or(|b| b.beneficiary_id != person.id) {
            return Err(ServiceError::validation("businessId", "no such business of this beneficiary"));
        }
    }
    // A referral that answers a visit's obstacle is about the visit's business.
    let mut business_id = input.business_id;
    if let Some(visit_id) = input.visit_id {
        let visit = find_visible::<entity::monitoring_visit::Entity>(&txn, actor, visit_id)
            .await
            .map_err(ServiceError::missing("visitId", "monitoring visit"))?;
        if visit.beneficiary_id != person.id || business_id.is_some_and(|b| b != visit.business_id) {
            return Err(ServiceError::validation(
                "visitId",
                "the visit is not of this beneficiary's business",
            ));
        }
        business_id = Some(visit.business_id);
    }
    let active = ActiveModel {
        id: Set(id),
        beneficiary_id: Set(person.id),
        business_id: Set(business_id),
        regency_code: Set(person.regency_code),
        from_agency: Set(actor.agency.clone()),
        to_agency: Set(input.to_agency),
        service: Set(wire(input.service)),
        reason: Set(input.reason.trim().to_owned()),
        due_by: Set(input.due_by),
        outcome_type: Set(None),
        outcome_id: Set(None),
        response_note: Set(None),
        status: Set(wire(ReferralStatus::Open)),
        visit_id: Set(input.visit_id),
        ..Default::default()
    };
    records::commit_insert::<Entity, _>(txn, actor, active).await
}

/// Changes an OPEN referral; only the sending agency may.
#[tracing::instrument(level = "debug", skip_all, name = "referral::update")]
pub async fn update(
    state: &AppState,
    actor: &Actor,
    input: ReferralChanges,
) -> Result<referral::Model, ServiceError> {
    let txn = state.db.begin().await?;
    let before = records::load_authorized::<Entity>(&txn, actor, input.id, input.expected_version, |r| {
        if r.from_agency == actor.agency {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("only the sending agency may change a referral".into()))
        }
    })
    .await?;
    records::require_editable(&before.status, &[ReferralStatus::Open])?;
    let mut active = ActiveModel::default();
    if let Some(v) = input.service {
        active.service = Set(wire(v));
    }
    if let Some(v) = input.reason {
        if v.trim().is_empty() {
            return Err(ServiceError::validation("reason", "a referral needs a reason"));
        }
        active.reason = Set(v.trim().to_owned());
    }
    if let Some(v) = input.due_by.change() {
        active.due_by = Set(v);
    }
    records::commit_update::<Entity, _>(txn, actor, &before, active).await
}

/// A lifecycle move: the receiving agency accepts, declines, completes; the sender cancels.
#[tracing::instrument(level = "debug", skip_all, name = "referral::change_status")]
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    to: &Move<ReferralStatus>,
    change: StatusChange<Response>,
) -> Result<referral::Model, ServiceError> {
    // Only the parties move a referral: nothing else is said to anyone else.
    let authorize = |before: &referral::Model| {
        let allowed = match to.to {
            ReferralStatus::Cancelled => before.from_agency == actor.agency,
            _ => before.to_agency == actor.agency,
        };
        if allowed {
            return Ok(());
        }
        Err(ServiceError::Forbidden(match to.to {
            ReferralStatus::Cancelled => "only the sending agency may cancel a referral".into(),
            _ => "only the receiving agency may accept, decline or complete a referral".into(),
        }))
    };
    let mut moving =
        Moving::<Entity, ActiveModel>::start_authorized(&state.db, actor, to, &change, authorize).await?;
    let response = change.details;
    if let Some(note) = response.note {
        moving.active.response_note = Set(Some(note));
    }
    match (response.outcome_type, response.outcome_id) {
        (None, None) => {}
        (Some(kind), Some(outcome)) => {
            check_outcome(state, actor, &moving.txn, &moving.before, kind, outcome).await?;
            moving.active.outcome_type = Set(Some(wire(kind)));
            moving.active.outcome_id = Set(Some(outcome));
        }
        _ => {
            return Err(ServiceError::validation(
                "outcomeId",
                "give both outcomeType and outcomeId, or neither",
            ));
        }
    }
    let (txn, after) = moving.write(actor).await?;
    let touched = crate::programme::graduation::Touched::Either {
        business: after.business_id,
        owner: after.beneficiary_id,
    };
    crate::programme::graduation::follow(&txn, &state.rules, actor, touched).await?;
    crate::events::commit(txn).await?;
    Ok(after)
}

/// A referral's outcome is a record of a type the receiving agency owns, which the caller may
/// read, in the same person's case. A record the caller may not read answers as a missing one.
async fn check_outcome(
    state: &AppState,
    actor: &Actor,
    txn: &impl sea_orm::ConnectionTrait,
    referral: &referral::Model,
    kind: EntityType,
    outcome: Uuid,
) -> Result<(), ServiceError> {
    if !crate::node::ReferralOutcome::can_be(kind) || !state.policy.owns(&referral.to_agency, kind) {
        let kind: &'static str = kind.into();
        return Err(ServiceError::validation(
            "outcomeType",
            format!("a {kind} record cannot be the outcome of a referral to {}", referral.to_agency),
        ));
    }
    let missing = || ServiceError::validation("outcomeId", "no such record of that type");
    if !actor.reads(kind) {
        return Err(missing());
    }
    let case = records::case_of(txn, actor, kind, outcome).await.map_err(|e| match e {
        ServiceError::NotFound => missing(),
        other => other,
    })?;
    if case != Some(referral.beneficiary_id) {
        return Err(ServiceError::validation(
            "outcomeId",
            "the outcome belongs to another beneficiary's case",
        ));
    }
    Ok(())
}

/// Re-sends a DECLINED referral to another agency: a new OPEN referral of the same person,
/// business, service and reason (or a new reason), naming the one it re-sends. Only the sending
/// agency may, once per declined referral.
#[tracing::instrument(level = "debug", skip_all, name = "referral::resend")]
pub async fn resend(state: &AppState, actor: &Actor, input: Resend) -> Result<referral::Model, ServiceError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let declined = find_visible::<Entity>(&txn, actor, input.referral_id)
        .await
        .map_err(ServiceError::missing("referralId", "referral"))?;
    if declined.from_agency != actor.agency {
        return Err(ServiceError::Forbidden("only the sending agency may re-send a referral".into()));
    }
    if declined.status != wire(ReferralStatus::Declined) {
        return Err(ServiceError::validation("referralId", "only a DECLINED referral is re-sent"));
    }
    if input.to_agency == declined.to_agency || input.to_agency == actor.agency {
        return Err(ServiceError::validation(
            "toAgency",
            "re-send it to another agency than the one that declined it (and not to yourself)",
        ));
    }
    if agency::Entity::find_by_id(input.to_agency.clone()).one(&txn).await?.is_none() {
        return Err(ServiceError::validation("toAgency", format!("unknown agency `{}`", input.to_agency)));
    }
    let again = Entity::find().filter(Column::ResentFrom.eq(declined.id)).one(&txn).await?;
    if again.is_some() {
        return Err(ServiceError::Duplicate {
            field: "referralId".into(),
            message: "this referral was re-sent already".into(),
        });
    }
    let reason = input.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    let active = ActiveModel {
        id: Set(id),
        beneficiary_id: Set(declined.beneficiary_id),
        business_id: Set(declined.business_id),
        regency_code: Set(declined.regency_code.clone()),
        from_agency: Set(actor.agency.clone()),
        to_agency: Set(input.to_agency),
        service: Set(declined.service.clone()),
        reason: Set(reason.unwrap_or_else(|| declined.reason.clone())),
        due_by: Set(input.due_by),
        outcome_type: Set(None),
        outcome_id: Set(None),
        response_note: Set(None),
        status: Set(wire(ReferralStatus::Open)),
        resent_from: Set(Some(declined.id)),
        visit_id: Set(declined.visit_id),
        ..Default::default()
    };
    records::commit_insert::<Entity, _>(txn, actor, active).await
}
