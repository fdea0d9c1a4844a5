//! Assistance rules and storage: the decile 1–5 and one-package-a-year rules. No GraphQL here.

use chrono::{Datelike, NaiveDate};
use entity::{
    assistance::{self, ActiveModel, Column, Entity},
    beneficiary,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use super::{AssistanceChanges, AssistanceCriteria, AssistanceProgramme, AssistanceStatus, NewAssistance};
use crate::{
    auth::Actor,
    context::AppState,
    error::ServiceError,
    moves::{Move, StatusChange},
    page::{Listing, Narrow, Rows, paginate},
    records::{self, existing_for_retry, find_visible, wire, within_regions},
};

/// A page of assistance records.
#[tracing::instrument(level = "debug", skip_all, name = "assistance::list")]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listing: Listing<AssistanceCriteria, Column>,
) -> Result<Rows<Entity>, ServiceError> {
    let Listing { filter: f, paging } = listing;
    let select = within_regions(Entity::find(), actor)
        .equal(Column::BeneficiaryId, f.beneficiary_id)
        .one_of(Column::RegencyCode, f.regency_codes)
        .one_of_enum(Column::Programme, f.programmes)
        .one_of_enum(Column::Status, f.statuses)
        .between(Column::PeriodStart, f.period_from, f.period_to);
    paginate(db, select, paging, (Column::PeriodStart, Order::Desc)).await
}

/// Plans assistance, snapshotting the beneficiary's decile as the eligibility evidence.
#[tracing::instrument(level = "debug", skip_all, name = "assistance::create")]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewAssistance,
) -> Result<assistance::Model, ServiceError> {
    let mut problems = crate::error::Problems::default();
    if input.amount < 0 {
        problems.push(ServiceError::validation("amount", "amount cannot be negative"));
    }
    if input.fund_source.trim().is_empty() {
        problems.push(ServiceError::validation("fundSource", "fund source is required"));
    }
    if input.period_end.is_some_and(|end| end < input.period_start) {
        problems.push(ServiceError::validation("periodEnd", "period ends before it starts"));
    }
    problems.finish()?;
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let person = find_visible::<beneficiary::Entity>(&txn, actor, input.beneficiary_id)
        .await
        .map_err(ServiceError::missing("beneficiaryId", "beneficiary"))?;
    if input.programme == AssistanceProgramme::BusinessStarterPackage {
        let max = state.rules.max_decile_for_business_package;
        if person.decile > max {
            return Err(ServiceError::NotEligible {
                field: "beneficiaryId".into(),
                message: format!(
                    "starter packages are for deciles 1–{max}; this beneficiary is decile {} ({} as of {})",
                    person.decile, person.decile_source, person.decile_assessed_on
                ),
            });
        }
        let year = input.period_start.year();
        let same_year = Entity::find()
            .filter(Column::BeneficiaryId.eq(person.id))
            .filter(Column::Programme.eq(wire(AssistanceProgramme::BusinessStarterPackage)))
            .filter(Column::Status.ne(wire(AssistanceStatus::Cancelled)))
            .filter(Column::PeriodStart.gte(NaiveDate::from_ymd_opt(year, 1, 1)))
            .filter(Column::PeriodStart.lte(NaiveDate::from_ymd_opt(year, 12, 31)))
            .one(&txn)
            .await?;
        if same_year.is_some() {
            return Err(ServiceError::NotEligible {
                field: "programme".into(),
                message: format!("this beneficiary already has a starter package in {year}"),
            });
        }
    }
    let active = ActiveModel {
        id: Set(id),
        beneficiary_id: Set(person.id),
        regency_code: Set(person.regency_code),
        programme: Set(wire(input.programme)),
        amount: Set(input.amount),
        items: Set(input.items),
        period_start: Set(input.period_start),
        period_end: Set(input.period_end),
        fund_source: Set(input.fund_source.trim().to_owned()),
        disbursed_on: Set(None),
        decile: Set(person.decile),
        decile_source: Set(person.decile_source),
        decile_assessed_on: Set(person.decile_assessed_on),
        status: Set(wire(AssistanceStatus::Planned)),
        ..Default::default()
    };
    records::commit_insert::<Entity, _>(txn, actor, active).await
}

/// Changes planned assistance; disbursed or cancelled records are history and stay as they are.
#[tracing::instrument(level = "debug", skip_all, name = "assistance::update")]
pub async fn update(
    state: &AppState,
    actor: &Actor,
    input: AssistanceChanges,
) -> Result<assistance::Model, ServiceError> {
    let txn = state.db.begin().await?;
    let before = records::load_for_write::<Entity>(&txn, actor, input.id, input.expected_version).await?;
    records::require_editable(&before.status, &[AssistanceStatus::Planned])?;
    let mut active = ActiveModel::default();
    if let Some(v) = input.amount {
        if v < 0 {
            return Err(ServiceError::validation("amount", "amount cannot be negative"));
        }
        active.amount = Set(v);
    }
    if let Some(v) = input.items.change() {
        active.items = Set(v);
    }
    if let Some(v) = input.period_end.change() {
        if v.is_some_and(|end| end < before.period_start) {
            return Err(ServiceError::validation("periodEnd", "period ends before it starts"));
        }
        active.period_end = Set(v);
    }
    if let Some(v) = input.fund_source {
        active.fund_source = Set(v);
    }
    records::commit_update::<Entity, _>(txn, actor, &before, active).await
}

/// A lifecycle move; disbursing records the date.
#[tracing::instrument(level = "debug", skip_all, name = "assistance::change_status")]
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    to: &Move<AssistanceStatus>,
    change: StatusChange<Option<NaiveDate>>,
) -> Result<assistance::Model, ServiceError> {
    records::transition::<Entity, ActiveModel, _, _>(&state.db, actor, to, change, |_, active, on| {
        if let Some(date) = on {
            active.disbursed_on = Set(Some(date));
        }
        Ok(())
    })
    .await
}
