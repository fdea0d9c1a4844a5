//! Infrastructure-request rules and storage, with the RTLH gates. No GraphQL here.

use entity::{
    beneficiary,
    infrastructure_request::{self, ActiveModel, Column, Entity},
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Order, TransactionTrait};
use uuid::Uuid;

use super::{
    InfrastructureChanges, InfrastructureCriteria, InfrastructureKind, InfrastructureStatus,
    NewInfrastructureRequest,
};
use crate::{
    auth::Actor,
    context::AppState,
    error::ServiceError,
    moves::{Move, StatusChange},
    page::{Listing, Narrow, Rows, paginate},
    records::{self, existing_for_retry, find_visible, wire, within_regions},
};

/// What a survey or decision records alongside the move.
#[derive(Default)]
pub struct Findings {
    pub survey_notes: Option<String>,
    pub estimated_cost: Option<i64>,
    pub has_land_proof: Option<bool>,
    pub is_only_house: Option<bool>,
    pub housing_aid_last_10_years: Option<bool>,
}

/// A page of requests.
#[tracing::instrument(level = "debug", skip_all, name = "infrastructure::list")]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listing: Listing<InfrastructureCriteria, Column>,
) -> Result<Rows<Entity>, ServiceError> {
    let Listing { filter: f, paging } = listing;
    let select = within_regions(Entity::find(), actor)
        .equal(Column::BeneficiaryId, f.beneficiary_id)
        .one_of(Column::RegencyCode, f.regency_codes)
        .one_of_enum(Column::Kind, f.kinds)
        .one_of_enum(Column::Status, f.statuses);
    paginate(db, select, paging, (Column::CreatedAt, Order::Desc)).await
}

/// Submits a request for a household the caller can see.
#[tracing::instrument(level = "debug", skip_all, name = "infrastructure::create")]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewInfrastructureRequest,
) -> Result<infrastructure_request::Model, ServiceError> {
    if input.estimated_cost.is_some_and(|c| c < 0) {
        return Err(ServiceError::validation("estimatedCost", "cost cannot be negative"));
    }
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let person = find_visible::<beneficiary::Entity>(&txn, actor, input.beneficiary_id)
        .await
        .map_err(ServiceError::missing("beneficiaryId", "beneficiary"))?;
    let active = ActiveModel {
        id: Set(id),
        beneficiary_id: Set(person.id),
        regency_code: Set(person.regency_code),
        district_code: Set(person.district_code),
        village_code: Set(person.village_code),
        kind: Set(wire(input.kind)),
        location: Set(input.location),
        estimated_cost: Set(input.estimated_cost),
        survey_notes: Set(None),
        has_land_proof: Set(input.has_land_proof),
        is_only_house: Set(input.is_only_house),
        housing_aid_last_10_years: Set(input.housing_aid_last_10_years),
        decision_reason: Set(None),
        status: Set(wire(InfrastructureStatus::Submitted)),
        ..Default::default()
    };
    records::commit_insert::<Entity, _>(txn, actor, active).await
}

/// Changes a request's details before the decision; decided requests are history.
#[tracing::instrument(level = "debug", skip_all, name = "infrastructure::update")]
pub async fn update(
    state: &AppState,
    actor: &Actor,
    input: InfrastructureChanges,
) -> Result<infrastructure_request::Model, ServiceError> {
    let txn = state.db.begin().await?;
    let before = records::load_for_write::<Entity>(&txn, actor, input.id, input.expected_version).await?;
    records::require_editable(
        &before.status,
        &[InfrastructureStatus::Submitted, InfrastructureStatus::Surveyed],
    )?;
    let mut active = ActiveModel::default();
    if let Some(v) = input.location.change() {
        active.location = Set(v);
    }
    if let Some(v) = input.estimated_cost.change() {
        if v.is_some_and(|c| c < 0) {
            return Err(ServiceError::validation("estimatedCost", "cost cannot be negative"));
        }
        active.estimated_cost = Set(v);
    }
    if let Some(v) = input.has_land_proof.change() {
        active.has_land_proof = Set(v);
    }
    if let Some(v) = input.is_only_house.change() {
        active.is_only_house = Set(v);
    }
    if let Some(v) = input.housing_aid_last_10_years.change() {
        active.housing_aid_last_10_years = Set(v);
    }
    records::commit_update::<Entity, _>(txn, actor, &before, active).await
}

/// A lifecycle move with its findings; approving RTLH checks the programme's three gates.
#[tracing::instrument(level = "debug", skip_all, name = "infrastructure::change_status")]
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    to: &Move<InfrastructureStatus>,
    change: StatusChange<Findings>,
) -> Result<infrastructure_request::Model, ServiceError> {
    let mut moving = records::Moving::<Entity, ActiveModel>::start(&state.db, actor, to, &change).await?;
    let prepare = |before: &infrastructure_request::Model, active: &mut ActiveModel, findings: Findings| {
        if let Some(notes) = findings.survey_notes {
            if notes.trim().is_empty() {
                return Err(ServiceError::validation("surveyNotes", "survey notes are required"));
            }
            active.survey_notes = Set(Some(notes));
        }
        if let Some(cost) = findings.estimated_cost {
            if cost < 0 {
                return Err(ServiceError::validation("estimatedCost", "cost cannot be negative"));
            }
            active.estimated_cost = Set(Some(cost));
        }
        let land = findings.has_land_proof.or(before.has_land_proof);
        let only = findings.is_only_house.or(before.is_only_house);
        let aid = findings.housing_aid_last_10_years.or(before.housing_aid_last_10_years);
        if findings.has_land_proof.is_some() {
            active.has_land_proof = Set(land);
        }
        if findings.is_only_house.is_some() {
            active.is_only_house = Set(only);
        }
        if findings.housing_aid_last_10_years.is_some() {
            active.housing_aid_last_10_years = Set(aid);
        }
        if to.to == InfrastructureStatus::Approved
            && before.kind == wire(InfrastructureKind::LivableHousing)
            && !(land == Some(true) && only == Some(true) && aid == Some(false))
        {
            return Err(ServiceError::NotEligible {
                field: "id".into(),
                message: "RTLH needs proof of land, the only house, and no housing aid in the last 10 years"
                    .into(),
            });
        }
        Ok(())
    };
    prepare(&moving.before, &mut moving.active, change.details)?;
    let (txn, after) = moving.write(actor).await?;
    if to.to == InfrastructureStatus::Completed {
        use crate::referral::ReferralService as S;
        let services: &'static [S] = match after.kind.parse() {
            Ok(InfrastructureKind::LivableHousing) => &[S::Housing],
            Ok(InfrastructureKind::Sanitation) => &[S::Sanitation],
            Ok(InfrastructureKind::CleanWater) => &[S::CleanWater],
            _ => &[S::Other],
        };
        let done = crate::programme::handover::Done {
            kind: crate::records::EntityType::InfrastructureRequest,
            id: after.id,
            beneficiary: after.beneficiary_id,
            business: None,
            services,
        };
        crate::programme::handover::complete_referrals(&txn, actor, done).await?;
    }
    crate::events::commit(txn).await?;
    Ok(after)
}
