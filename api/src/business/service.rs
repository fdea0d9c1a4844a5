//! Business rules and storage. No GraphQL here.

use chrono::{NaiveDate, Utc};
use entity::{
    assistance, beneficiary,
    business::{self, ActiveModel, Column, Entity},
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Order, TransactionTrait};
use uuid::Uuid;

use super::{BusinessChanges, BusinessCriteria, BusinessStatus, NewBusiness};
use crate::{
    assistance::{AssistanceProgramme, AssistanceStatus},
    auth::Actor,
    context::AppState,
    error::{Problems, ServiceError},
    events::CaseAction,
    moves::{Move, StatusChange},
    page::{Listing, Narrow, Rows, paginate},
    records::{self, existing_for_retry, find_visible, wire, within_regions},
};

/// A page of businesses.
#[tracing::instrument(level = "debug", skip_all, name = "business::list")]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listing: Listing<BusinessCriteria, Column>,
) -> Result<Rows<Entity>, ServiceError> {
    let Listing { filter: f, paging } = listing;
    let select = within_regions(Entity::find(), actor)
        .equal(Column::BeneficiaryId, f.beneficiary_id)
        .one_of(Column::RegencyCode, f.regency_codes)
        .one_of_enum(Column::Status, f.statuses)
        .one_of_enum(Column::Sector, f.sectors)
        .equal(Column::LeadAgency, f.lead_agency)
        .containing(Column::Name, f.name_contains)
        .between(Column::StartedOn, f.started_from, f.started_to)
        .present(Column::ClosureProposedByVisit, f.closure_proposed);
    let select = match f.cohort_year {
        Some(year) => sea_orm::QueryFilter::filter(select, crate::programme::service::cohort(year)),
        None => select,
    };
    paginate(db, select, paging, (Column::CreatedAt, Order::Asc)).await
}

fn check_fields(name: Option<&str>, revenue: Option<i64>, workers: Option<i32>) -> Result<(), ServiceError> {
    let mut problems = Problems::default();
    if let Some(name) = name
        && (name.trim().is_empty() || name.chars().count() > 200)
    {
        problems.push(ServiceError::validation("name", "name must be 1–200 characters"));
    }
    if revenue.is_some_and(|r| r < 0) {
        problems.push(ServiceError::validation("monthlyRevenue", "revenue cannot be negative"));
    }
    if workers.is_some_and(|w| w < 0) {
        problems.push(ServiceError::validation("workers", "workers cannot be negative"));
    }
    problems.finish()
}

/// Proposes a business for a beneficiary the caller can see.
#[tracing::instrument(level = "debug", skip_all, name = "business::create")]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewBusiness,
) -> Result<business::Model, ServiceError> {
    check_fields(Some(&input.name), input.monthly_revenue, Some(input.workers))?;
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let owner = find_visible::<beneficiary::Entity>(&txn, actor, input.beneficiary_id)
        .await
        .map_err(ServiceError::missing("beneficiaryId", "beneficiary"))?;
    let now = Utc::now();
    let active = ActiveModel {
        id: Set(id),
        beneficiary_id: Set(owner.id),
        regency_code: Set(owner.regency_code),
        name: Set(input.name.trim().to_owned()),
        sector: Set(wire(input.sector)),
        previously_stopped: Set(input.previously_stopped),
        stop_cause: Set(input.stop_cause),
        nib: Set(input.nib),
        monthly_revenue: Set(input.monthly_revenue),
        workers: Set(input.workers),
        lead_agency: Set(input.lead_agency.unwrap_or_else(|| actor.agency.clone())),
        started_on: Set(None),
        status_changed_on: Set(Some(now.date_naive())),
        closure_proposed_by_visit: Set(None),
        closure_proposed_on: Set(None),
        status: Set(wire(BusinessStatus::Proposed)),
        ..Default::default()
    };
    records::commit_insert::<Entity, _>(txn, actor, active).await
}

/// Changes a business's details.
#[tracing::instrument(level = "debug", skip_all, name = "business::update")]
pub async fn update(
    state: &AppState,
    actor: &Actor,
    input: BusinessChanges,
) -> Result<business::Model, ServiceError> {
    let owner = state.policy.owns(&actor.agency, crate::records::EntityType::Business);
    if !owner && (input.name.is_some() || input.sector.is_some() || !input.stop_cause.is_keep()) {
        return Err(ServiceError::Forbidden(format!(
            "{} may change only a business's development fields (nib, monthlyRevenue, workers, leadAgency)",
            actor.agency
        )));
    }
    check_fields(input.name.as_deref(), input.monthly_revenue.value().copied(), input.workers)?;
    let txn = state.db.begin().await?;
    let before = records::load_for_write::<Entity>(&txn, actor, input.id, input.expected_version).await?;
    let mut active = ActiveModel::default();
    if let Some(v) = input.name {
        active.name = Set(v.trim().to_owned());
    }
    if let Some(v) = input.sector {
        active.sector = Set(wire(v));
    }
    if let Some(v) = input.stop_cause.change() {
        active.stop_cause = Set(v);
    }
    if let Some(v) = input.nib.change() {
        active.nib = Set(v);
    }
    if let Some(v) = input.monthly_revenue.change() {
        active.monthly_revenue = Set(v);
    }
    if let Some(v) = input.workers {
        active.workers = Set(v);
    }
    if let Some(v) = input.lead_agency {
        active.lead_agency = Set(v);
    }
    if !sea_orm::ActiveModelTrait::is_changed(&active) {
        return Err(ServiceError::validation("input", "nothing to change"));
    }
    let after = records::update::<Entity, _>(&txn, actor, &before, active, CaseAction::Updated).await?;
    let after = crate::programme::graduation::follow_business(&txn, &state.rules, actor, after).await?;
    crate::events::commit(txn).await?;
    Ok(after)
}

/// A lifecycle move; a start records the day the business began running (not in the future);
/// equipping needs the business's starter package disbursed.
#[tracing::instrument(level = "debug", skip_all, name = "business::change_status")]
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    to: &Move<BusinessStatus>,
    change: StatusChange<Option<NaiveDate>>,
) -> Result<business::Model, ServiceError> {
    let today = Utc::now().date_naive();
    if change.details.is_some_and(|started| started > today) {
        return Err(ServiceError::validation("startedOn", "a business cannot start in the future"));
    }
    let started_on = change.details;
    let mut moving = records::Moving::<Entity, ActiveModel>::start(&state.db, actor, to, &change).await?;
    if to.to == BusinessStatus::Equipped {
        require_disbursed_package(&moving.txn, &moving.before).await?;
    }
    if to.to == BusinessStatus::Graduated {
        let standing =
            crate::programme::graduation::standing(&moving.txn, &state.rules, &moving.before, today).await?;
        if !standing.complete() {
            return Err(ServiceError::NotEligible {
                field: "id".into(),
                message: format!("not every graduation criterion is met: {}", standing.unmet().join("; ")),
            });
        }
    }
    let (before, active) = (&moving.before, &mut moving.active);
    active.status_changed_on = Set(Some(started_on.unwrap_or(today)));
    if to.to == BusinessStatus::Graduated {
        active.graduated_on = Set(Some(today));
    }
    if let Some(date) = started_on.filter(|_| before.started_on.is_none()) {
        active.started_on = Set(Some(date));
    }
    // Closing answers a visit's closure proposal; any other move leaves it pending.
    if to.to == BusinessStatus::Closed && before.closure_proposed_by_visit.is_some() {
        active.closure_proposed_by_visit = Set(None);
        active.closure_proposed_on = Set(None);
    }
    let (txn, after) = moving.write(actor).await?;
    let after = crate::programme::graduation::follow_business(&txn, &state.rules, actor, after).await?;
    crate::events::commit(txn).await?;
    Ok(after)
}

/// A business is equipped with its starter package: `NOT_ELIGIBLE` unless a package for it is
/// disbursed — one that names the business, or failing that one of its owner's that names none.
async fn require_disbursed_package(
    db: &impl ConnectionTrait,
    business: &business::Model,
) -> Result<(), ServiceError> {
    use sea_orm::{ColumnTrait, Condition, QueryFilter};
    let package = assistance::Entity::find()
        .filter(assistance::Column::Programme.eq(wire(AssistanceProgramme::BusinessStarterPackage)))
        .filter(assistance::Column::Status.eq(wire(AssistanceStatus::Disbursed)))
        .filter(
            Condition::any().add(assistance::Column::BusinessId.eq(business.id)).add(
                Condition::all()
                    .add(assistance::Column::BusinessId.is_null())
                    .add(assistance::Column::BeneficiaryId.eq(business.beneficiary_id)),
            ),
        )
        .one(db)
        .await?;
    if package.is_none() {
        return Err(ServiceError::NotEligible {
            field: "id".into(),
            message: "a business is equipped with its starter package: disburse the package \
                      (assistance BUSINESS_STARTER_PACKAGE naming this business) first"
                .into(),
        });
    }
    Ok(())
}

/// The owning agency rejects a closure a field visit proposed: the business stays as it is.
#[tracing::instrument(level = "debug", skip_all, name = "business::reject_closure")]
pub async fn reject_closure(
    state: &AppState,
    actor: &Actor,
    change: StatusChange,
) -> Result<business::Model, ServiceError> {
    let reason = records::required_reason(change.reason.as_deref())?;
    let txn = state.db.begin().await?;
    let before = records::load_for_write::<Entity>(&txn, actor, change.id, change.expected_version).await?;
    if before.closure_proposed_by_visit.is_none() {
        return Err(ServiceError::validation("id", "no closure is proposed for this business"));
    }
    let change = ActiveModel {
        closure_proposed_by_visit: Set(None),
        closure_proposed_on: Set(None),
        ..Default::default()
    };
    let after = records::update_for::<Entity, _>(
        &txn,
        actor,
        &before,
        change,
        CaseAction::ClosureRejected,
        Some(reason),
    )
    .await?;
    crate::events::commit(txn).await?;
    Ok(after)
}
