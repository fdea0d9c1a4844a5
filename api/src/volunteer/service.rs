//! Volunteer rules and storage, and the assignment of businesses. No GraphQL here.

use std::collections::BTreeSet;

use entity::{
    business,
    volunteer::{self, ActiveModel, Column, Entity},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use super::{Assignment, NewVolunteer, VolunteerCriteria, VolunteerStatus};
use crate::{
    auth::Actor,
    context::AppState,
    error::{Problems, ServiceError},
    events::CaseAction,
    moves::{Move, StatusChange},
    page::{Listing, Narrow, Rows, paginate},
    records::{self, existing_for_retry, find_visible, require_region, wire, within_regions},
};

/// A page of volunteers.
#[tracing::instrument(level = "debug", skip_all, name = "volunteer::list")]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listing: Listing<VolunteerCriteria, Column>,
) -> Result<Rows<Entity>, ServiceError> {
    let Listing { filter: f, paging } = listing;
    let select = within_regions(Entity::find(), actor)
        .one_of(Column::RegencyCode, f.regency_codes)
        .one_of_enum(Column::Kind, f.kinds)
        .one_of_enum(Column::Status, f.statuses);
    paginate(db, select, paging, (Column::Name, Order::Asc)).await
}

/// Registers a volunteer in a regency the caller may write.
#[tracing::instrument(level = "debug", skip_all, name = "volunteer::create")]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewVolunteer,
) -> Result<volunteer::Model, ServiceError> {
    let mut problems = Problems::default();
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        problems.push(ServiceError::validation("name", "name is required"));
    }
    if problems.check(state.regions.check_regency("regencyCode", &input.regency_code)).is_some()
        && let Some(district) = &input.district_code
    {
        problems.check(state.regions.check_district("districtCode", district, &input.regency_code));
    }
    problems.finish()?;
    require_region(actor, &input.regency_code)?;
    let txn = state.db.begin().await?;
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let active = ActiveModel {
        id: Set(input.id.unwrap_or_else(Uuid::now_v7)),
        name: Set(name),
        kind: Set(wire(input.kind)),
        regency_code: Set(input.regency_code),
        district_code: Set(input.district_code),
        status: Set(wire(VolunteerStatus::Active)),
        status_reason: Set(None),
        ..Default::default()
    };
    records::commit_insert::<Entity, _>(txn, actor, active).await
}

/// A lifecycle move; a volunteer who stops leaves their businesses unassigned (each an UPDATED
/// event on the business), so that their token sees no one's personal data any more.
#[tracing::instrument(level = "debug", skip_all, name = "volunteer::change_status")]
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    to: &Move<VolunteerStatus>,
    change: StatusChange,
) -> Result<volunteer::Model, ServiceError> {
    let moving = records::Moving::<Entity, ActiveModel>::start(&state.db, actor, to, &change).await?;
    let (txn, after) = moving.write(actor).await?;
    if to.to == VolunteerStatus::Inactive {
        let assigned =
            business::Entity::find().filter(business::Column::VolunteerId.eq(after.id)).all(&txn).await?;
        for business in assigned {
            let change = business::ActiveModel { volunteer_id: Set(None), ..Default::default() };
            records::update::<business::Entity, _>(&txn, actor, &business, change, CaseAction::Updated)
                .await?;
        }
    }
    crate::events::commit(txn).await?;
    Ok(after)
}

/// Assigns a business to an ACTIVE volunteer of its regency/city, or unassigns it.
#[tracing::instrument(level = "debug", skip_all, name = "volunteer::assign")]
pub async fn assign(
    state: &AppState,
    actor: &Actor,
    input: Assignment,
) -> Result<business::Model, ServiceError> {
    let txn = state.db.begin().await?;
    let before =
        records::load_for_write::<business::Entity>(&txn, actor, input.business_id, input.expected_version)
            .await?;
    if let Some(id) = input.volunteer_id {
        let person = find_visible::<Entity>(&txn, actor, id)
            .await
            .map_err(ServiceError::missing("volunteerId", "volunteer"))?;
        if person.status != wire(VolunteerStatus::Active) {
            return Err(ServiceError::validation("volunteerId", "the volunteer is not ACTIVE"));
        }
        if person.regency_code != before.regency_code {
            return Err(ServiceError::validation(
                "volunteerId",
                format!(
                    "the volunteer works in {}, the business is in {}",
                    person.regency_code, before.regency_code
                ),
            ));
        }
    }
    if before.volunteer_id == input.volunteer_id {
        return Err(ServiceError::validation("volunteerId", "the business already has this assignment"));
    }
    let change = business::ActiveModel { volunteer_id: Set(input.volunteer_id), ..Default::default() };
    let after =
        records::update::<business::Entity, _>(&txn, actor, &before, change, CaseAction::Updated).await?;
    crate::events::commit(txn).await?;
    Ok(after)
}

/// The beneficiaries whose businesses are assigned to `volunteer`: whose personal data the
/// volunteer's token may see. `None` when the volunteer is missing or not ACTIVE (its tokens
/// are then refused).
pub async fn cases_of(
    db: &impl ConnectionTrait,
    volunteer: Uuid,
) -> Result<Option<BTreeSet<Uuid>>, ServiceError> {
    let active = Entity::find_by_id(volunteer)
        .filter(Column::Status.eq(wire(VolunteerStatus::Active)))
        .one(db)
        .await?
        .is_some();
    if !active {
        return Ok(None);
    }
    let owners: Vec<Uuid> = business::Entity::find()
        .select_only()
        .column(business::Column::BeneficiaryId)
        .filter(business::Column::VolunteerId.eq(volunteer))
        .into_tuple()
        .all(db)
        .await?;
    Ok(Some(owners.into_iter().collect()))
}

/// Refuses a token for `volunteer` unless the volunteer exists, is ACTIVE and `regions` (the
/// token's) are exactly its regency/city.
pub async fn check_for_token(
    db: &impl ConnectionTrait,
    volunteer: Uuid,
    regions: &[String],
) -> Result<(), String> {
    let found = Entity::find_by_id(volunteer).one(db).await.map_err(|e| format!("database: {e}"))?;
    let Some(found) = found else {
        return Err(format!("no volunteer {volunteer}"));
    };
    if found.status != wire(VolunteerStatus::Active) {
        return Err(format!("volunteer {volunteer} is {}, not ACTIVE", found.status));
    }
    if regions != [found.regency_code.clone()] {
        return Err(format!(
            "a volunteer's token covers the volunteer's own regency/city: give --region {}",
            found.regency_code
        ));
    }
    Ok(())
}
