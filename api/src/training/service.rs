//! Training and enrollment rules and storage. No GraphQL here.
//!
//! Capacity is enforced by one conditional `UPDATE … SET seats_taken = seats_taken + 1 WHERE
//! seats_taken < capacity`, which both SQLite and PostgreSQL apply atomically, so concurrent
//! enrollments can never overfill a training (a check constraint backs it up).

use entity::{
    beneficiary, business,
    training::{self, ActiveModel, Column, Entity},
    training_enrollment as enrollment,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, ExprTrait, Order,
    QueryFilter, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    EnrollmentChanges, EnrollmentStatus, NewEnrollment, NewTraining, TrainingChanges, TrainingCriteria,
    TrainingStatus,
};
use crate::{
    auth::Actor,
    context::AppState,
    error::ServiceError,
    events,
    events::CaseAction,
    moves::{Move, StatusChange},
    page::{Listing, Narrow, Rows, paginate},
    records::{self, Moving, existing_for_retry, find_visible, require_region, wire, within_regions},
};

/// Only the organising agency manages a training and its enrollments.
fn require_organiser(actor: &Actor, course: &training::Model) -> Result<(), ServiceError> {
    if course.organiser_agency == actor.agency {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "only the organiser ({}) manages this training and its enrollments",
            course.organiser_agency
        )))
    }
}

async fn organiser_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    training_id: Uuid,
) -> Result<(), ServiceError> {
    let course = Entity::find_by_id(training_id).one(db).await?.ok_or(ServiceError::NotFound)?;
    require_organiser(actor, &course)
}

/// An enrollment the caller may change: visible, and of a training its agency organises —
/// checked before anything about the enrollment's version or status is said.
async fn organised_enrollment(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
) -> Result<enrollment::Model, ServiceError> {
    let before = find_visible::<enrollment::Entity>(db, actor, id).await?;
    organiser_of(db, actor, before.training_id).await?;
    records::require_version(&before, expected_version)?;
    Ok(before)
}

/// A page of trainings.
#[tracing::instrument(level = "debug", skip_all, name = "training::list")]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listing: Listing<TrainingCriteria, Column>,
) -> Result<Rows<Entity>, ServiceError> {
    let Listing { filter: f, paging } = listing;
    let select = within_regions(Entity::find(), actor)
        .one_of(Column::RegencyCode, f.regency_codes)
        .one_of_enum(Column::Topic, f.topics)
        .one_of_enum(Column::Status, f.statuses)
        .equal(Column::OrganiserAgency, f.organiser_agency)
        .between(Column::StartsOn, f.starts_from, f.starts_to)
        .containing(Column::Title, f.title_contains);
    paginate(db, select, paging, (Column::StartsOn, Order::Asc)).await
}

/// Plans a training in a region the caller may write.
#[tracing::instrument(level = "debug", skip_all, name = "training::create")]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewTraining,
) -> Result<training::Model, ServiceError> {
    let mut problems = crate::error::Problems::default();
    if input.title.trim().is_empty() {
        problems.push(ServiceError::validation("title", "title is required"));
    }
    if input.capacity < 1 {
        problems.push(ServiceError::validation("capacity", "capacity must be at least 1"));
    }
    if input.ends_on < input.starts_on {
        problems.push(ServiceError::validation("endsOn", "a training cannot end before it starts"));
    }
    problems.check(state.regions.check_regency("regencyCode", &input.regency_code));
    problems.finish()?;
    require_region(actor, &input.regency_code)?;
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let active = ActiveModel {
        id: Set(id),
        organiser_agency: Set(actor.agency.clone()),
        title: Set(input.title.trim().to_owned()),
        topic: Set(wire(input.topic)),
        regency_code: Set(input.regency_code),
        venue: Set(input.venue),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        capacity: Set(input.capacity),
        seats_taken: Set(0),
        status: Set(wire(TrainingStatus::Planned)),
        ..Default::default()
    };
    records::commit_insert::<Entity, _>(txn, actor, active).await
}

/// Changes a training's details.
#[tracing::instrument(level = "debug", skip_all, name = "training::update")]
pub async fn update(
    state: &AppState,
    actor: &Actor,
    input: TrainingChanges,
) -> Result<training::Model, ServiceError> {
    let txn = state.db.begin().await?;
    let before = records::load_authorized::<Entity>(&txn, actor, input.id, input.expected_version, |t| {
        require_organiser(actor, t)
    })
    .await?;
    let mut active = ActiveModel::default();
    if let Some(v) = input.title {
        if v.trim().is_empty() {
            return Err(ServiceError::validation("title", "title is required"));
        }
        active.title = Set(v);
    }
    if let Some(v) = input.venue.change() {
        active.venue = Set(v);
    }
    let starts = input.starts_on.unwrap_or(before.starts_on);
    let ends = input.ends_on.unwrap_or(before.ends_on);
    if ends < starts {
        return Err(ServiceError::validation("endsOn", "a training cannot end before it starts"));
    }
    if input.starts_on.is_some() {
        active.starts_on = Set(starts);
    }
    if input.ends_on.is_some() {
        active.ends_on = Set(ends);
    }
    if let Some(v) = input.capacity {
        if v < 1 || v < before.seats_taken {
            return Err(ServiceError::validation(
                "capacity",
                format!("capacity must be at least 1 and at least the {} seats taken", before.seats_taken),
            ));
        }
        active.capacity = Set(v);
    }
    records::commit_update::<Entity, _>(txn, actor, &before, active).await
}

/// A training lifecycle move.
#[tracing::instrument(level = "debug", skip_all, name = "training::change_status")]
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    to: &Move<TrainingStatus>,
    change: StatusChange,
) -> Result<training::Model, ServiceError> {
    let moving = Moving::<Entity, ActiveModel>::start_authorized(&state.db, actor, to, &change, |before| {
        require_organiser(actor, before)
    })
    .await?;
    moving.finish(actor).await
}

/// Takes or frees one seat atomically; `false` when the training is full.
async fn move_seat(txn: &DatabaseTransaction, training_id: Uuid, take: bool) -> Result<bool, ServiceError> {
    let mut update = Entity::update_many().filter(Column::Id.eq(training_id));
    update = if take {
        update
            .col_expr(Column::SeatsTaken, Expr::col(Column::SeatsTaken).add(1))
            .filter(Expr::col(Column::SeatsTaken).lt(Expr::col(Column::Capacity)))
    } else {
        update
            .col_expr(Column::SeatsTaken, Expr::col(Column::SeatsTaken).sub(1))
            .filter(Column::SeatsTaken.gt(0))
    };
    Ok(update.exec(txn).await?.rows_affected == 1)
}

/// Enrolls a beneficiary; the seat and the enrollment commit together or not at all.
#[tracing::instrument(level = "debug", skip_all, name = "training::enroll")]
pub async fn enroll(
    state: &AppState,
    actor: &Actor,
    input: NewEnrollment,
) -> Result<enrollment::Model, ServiceError> {
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<enrollment::Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let course = find_visible::<Entity>(&txn, actor, input.training_id)
        .await
        .map_err(ServiceError::missing("trainingId", "training"))?;
    let person = find_visible::<beneficiary::Entity>(&txn, actor, input.beneficiary_id)
        .await
        .map_err(ServiceError::missing("beneficiaryId", "beneficiary"))?;
    if let Some(business_id) = input.business_id {
        let biz = find_visible::<business::Entity>(&txn, actor, business_id)
            .await
            .map_err(ServiceError::missing("businessId", "business"))?;
        if biz.beneficiary_id != person.id {
            return Err(ServiceError::validation(
                "businessId",
                "the business belongs to another beneficiary",
            ));
        }
    }
    require_organiser(actor, &course)?;
    if course.status != wire(TrainingStatus::Open) {
        return Err(ServiceError::validation(
            "trainingId",
            format!("the training is {}, not OPEN", course.status),
        ));
    }
    let already = enrollment::Entity::find()
        .filter(enrollment::Column::TrainingId.eq(course.id))
        .filter(enrollment::Column::BeneficiaryId.eq(person.id))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Err(ServiceError::Duplicate {
            field: "beneficiaryId".into(),
            message: "already enrolled in this training".into(),
        });
    }
    if !move_seat(&txn, course.id, true).await? {
        return Err(ServiceError::CapacityFull);
    }
    let active = enrollment::ActiveModel {
        id: Set(id),
        training_id: Set(course.id),
        beneficiary_id: Set(person.id),
        business_id: Set(input.business_id),
        regency_code: Set(person.regency_code),
        certificate_no: Set(None),
        status: Set(wire(EnrollmentStatus::Enrolled)),
        ..Default::default()
    };
    let model = records::insert::<enrollment::Entity, _>(&txn, actor, active).await?;
    let course_after = Entity::find_by_id(course.id).one(&txn).await?.ok_or(ServiceError::NotFound)?;
    events::record(
        &txn,
        actor,
        &course_after,
        CaseAction::SeatTaken,
        Some(&course.status),
        &["seatsTaken"],
        None,
    )
    .await?;
    crate::events::commit(txn).await?;
    Ok(model)
}

/// Changes an enrollment's business or certificate number.
#[tracing::instrument(level = "debug", skip_all, name = "training::update_enrollment")]
pub async fn update_enrollment(
    state: &AppState,
    actor: &Actor,
    input: EnrollmentChanges,
) -> Result<enrollment::Model, ServiceError> {
    let txn = state.db.begin().await?;
    let before = organised_enrollment(&txn, actor, input.id, input.expected_version).await?;
    let mut active = enrollment::ActiveModel::default();
    if let Some(business_id) = input.business_id.change() {
        if let Some(business_id) = business_id {
            let biz = find_visible::<business::Entity>(&txn, actor, business_id)
                .await
                .map_err(ServiceError::missing("businessId", "business"))?;
            if biz.beneficiary_id != before.beneficiary_id {
                return Err(ServiceError::validation(
                    "businessId",
                    "the business belongs to another beneficiary",
                ));
            }
        }
        active.business_id = Set(business_id);
    }
    if let Some(cert) = input.certificate_no.change() {
        // A completed enrollment's certificate is the evidence of the training: it can be
        // corrected, not removed.
        if cert.is_none()
            && records::stored::<EnrollmentStatus>(&before.status)? == EnrollmentStatus::Completed
        {
            return Err(ServiceError::validation(
                "certificateNo",
                "a completed enrollment keeps its certificate number",
            ));
        }
        active.certificate_no = Set(cert);
    }
    records::commit_update::<enrollment::Entity, _>(txn, actor, &before, active).await
}

/// An enrollment lifecycle move; dropping frees the seat in the same transaction.
#[tracing::instrument(level = "debug", skip_all, name = "training::change_enrollment")]
pub async fn change_enrollment(
    state: &AppState,
    actor: &Actor,
    to: &Move<EnrollmentStatus>,
    change: StatusChange<Option<String>>,
) -> Result<enrollment::Model, ServiceError> {
    organised_enrollment(&state.db, actor, change.id, change.expected_version).await?;
    let mut moving =
        Moving::<enrollment::Entity, enrollment::ActiveModel>::start(&state.db, actor, to, &change).await?;
    if let Some(cert) = change.details {
        moving.active.certificate_no = Set(Some(cert));
    }
    if to.to == EnrollmentStatus::Dropped {
        move_seat(&moving.txn, moving.before.training_id, false).await?;
    }
    let (txn, after) = moving.write(actor).await?;
    if to.to == EnrollmentStatus::Completed {
        use crate::referral::ReferralService as S;
        let done = crate::programme::handover::Done {
            kind: crate::records::EntityType::TrainingEnrollment,
            id: after.id,
            beneficiary: after.beneficiary_id,
            business: after.business_id,
            services: &[S::SkillsTraining, S::Packaging],
        };
        crate::programme::handover::complete_referrals(&txn, actor, done).await?;
    }
    // A completed training counts for every business of the person.
    let touched =
        crate::programme::graduation::Touched::Either { business: None, owner: after.beneficiary_id };
    crate::programme::graduation::follow(&txn, &state.rules, actor, touched).await?;
    crate::events::commit(txn).await?;
    Ok(after)
}
