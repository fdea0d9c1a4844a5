//! Assistance storage; a starter package's grant rules are the programme's (`programme::service`).
//! No GraphQL here.

use chrono::{NaiveDate, Utc};
use entity::{
    assistance::{self, ActiveModel, Column, Entity},
    beneficiary, business,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Order, TransactionTrait};
use uuid::Uuid;

use crate::business::BusinessStatus;

use super::{AssistanceChanges, AssistanceCriteria, AssistanceProgramme, AssistanceStatus, NewAssistance};
use crate::{
    auth::Actor,
    context::AppState,
    error::{Problems, ServiceError},
    moves::{Move, StatusChange},
    page::{Listing, Narrow, Rows, paginate},
    programme,
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
    mut input: NewAssistance,
) -> Result<assistance::Model, ServiceError> {
    let mut problems = Problems::default();
    if input.amount < 0 {
        problems.push(ServiceError::validation("amount", "amount cannot be negative"));
    }
    if input.fund_source.trim().is_empty() {
        problems.push(ServiceError::validation("fundSource", "fund source is required"));
    }
    if input.period_end.is_some_and(|end| end < input.period_start) {
        problems.push(ServiceError::validation("periodEnd", "period ends before it starts"));
    }
    let intake = Intake {
        interest: input.interest.take(),
        requested_goods: input.requested_goods.take(),
        price_assessment: input.price_assessment,
        price_assessed_on: input.price_assessed_on,
    }
    .checked(input.programme == AssistanceProgramme::BusinessStarterPackage, true, &mut problems);
    problems.finish()?;
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let package = input.programme == AssistanceProgramme::BusinessStarterPackage;
    if package {
        // The grant's checks read the person as they are once locked.
        programme::service::lock_person(&txn, input.beneficiary_id).await?;
    }
    let person = find_visible::<beneficiary::Entity>(&txn, actor, input.beneficiary_id)
        .await
        .map_err(ServiceError::missing("beneficiaryId", "beneficiary"))?;
    if let Some(business) = input.business_id {
        if !package {
            return Err(ServiceError::validation("businessId", "only a starter package equips a business"));
        }
        let business = find_visible::<business::Entity>(&txn, actor, business)
            .await
            .map_err(ServiceError::missing("businessId", "business"))?;
        if business.beneficiary_id != person.id {
            return Err(ServiceError::validation("businessId", "the business is not this beneficiary's"));
        }
        let waiting = [BusinessStatus::Proposed, BusinessStatus::Approved].map(wire);
        if !waiting.contains(&business.status) {
            return Err(ServiceError::validation(
                "businessId",
                format!("a package equips a PROPOSED or APPROVED business; this one is {}", business.status),
            ));
        }
    }
    if package {
        let grant = programme::service::Grant {
            person: &person,
            period_start: input.period_start,
            amount: input.amount,
        };
        programme::service::check_grant(&txn, &state.rules, grant).await?;
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
        business_id: Set(input.business_id),
        interest: Set(intake.interest),
        requested_goods: Set(intake.requested_goods),
        price_assessment: Set(intake.price_assessment),
        price_assessed_on: Set(intake.price_assessed_on),
        ..Default::default()
    };
    records::commit_insert::<Entity, _>(txn, actor, active).await
}

/// What a create or an update says of a starter package's intake.
struct Intake {
    interest: Option<String>,
    requested_goods: Option<String>,
    price_assessment: Option<i64>,
    price_assessed_on: Option<NaiveDate>,
}

impl Intake {
    /// The intake given for a record that is a starter package (`package`) or not, checked into
    /// `problems`: text is trimmed and may not be blank, a price not negative nor assessed in the
    /// future; another programme records none of it; a new package (`new`) needs the interest,
    /// the requested goods and the price (assessed today unless said).
    fn checked(self, package: bool, new: bool, problems: &mut Problems) -> Self {
        let mut text = |field: &str, value: Option<String>| {
            let value = value.map(|v| v.trim().to_owned());
            if value.as_deref().is_some_and(str::is_empty) {
                problems.push(ServiceError::validation(field, "cannot be blank"));
            }
            value.filter(|v| !v.is_empty())
        };
        let interest = text("interest", self.interest);
        let requested_goods = text("requestedGoods", self.requested_goods);
        let given = [
            ("interest", interest.is_some()),
            ("requestedGoods", requested_goods.is_some()),
            ("priceAssessment", self.price_assessment.is_some()),
            ("priceAssessedOn", self.price_assessed_on.is_some()),
        ];
        if !package {
            for (field, _) in given.iter().filter(|(_, given)| *given) {
                problems.push(ServiceError::validation(field, "only a starter package records an intake"));
            }
        } else if new {
            for (field, _) in given[..3].iter().filter(|(_, given)| !*given) {
                problems.push(ServiceError::validation(
                    field,
                    "a starter package records the intake: interest, requested goods and the price assessment",
                ));
            }
        }
        if self.price_assessment.is_some_and(|p| p < 0) {
            problems.push(ServiceError::validation("priceAssessment", "a price cannot be negative"));
        }
        let today = Utc::now().date_naive();
        if self.price_assessed_on.is_some_and(|d| d > today) {
            problems.push(ServiceError::validation(
                "priceAssessedOn",
                "a price cannot be assessed in the future",
            ));
        }
        let price_assessed_on = match (self.price_assessed_on, new && self.price_assessment.is_some()) {
            (None, true) => Some(today),
            (on, _) => on,
        };
        Self { interest, requested_goods, price_assessment: self.price_assessment, price_assessed_on }
    }
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
    let package = before.programme == wire(AssistanceProgramme::BusinessStarterPackage);
    if let Some(v) = input.amount {
        if v < 0 {
            return Err(ServiceError::validation("amount", "amount cannot be negative"));
        }
        if package {
            programme::service::check_new_value(&txn, &state.rules, &before, v).await?;
        }
        active.amount = Set(v);
    }
    let mut problems = Problems::default();
    let intake = Intake {
        interest: input.interest,
        requested_goods: input.requested_goods,
        price_assessment: input.price_assessment,
        price_assessed_on: input.price_assessed_on,
    }
    .checked(package, false, &mut problems);
    problems.finish()?;
    for (column, value) in
        [(&mut active.interest, intake.interest), (&mut active.requested_goods, intake.requested_goods)]
    {
        if value.is_some() {
            *column = Set(value);
        }
    }
    if intake.price_assessment.is_some() {
        active.price_assessment = Set(intake.price_assessment);
    }
    if intake.price_assessed_on.is_some() {
        active.price_assessed_on = Set(intake.price_assessed_on);
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
    let on = change.details;
    let mut moving = records::Moving::<Entity, ActiveModel>::start(&state.db, actor, to, &change).await?;
    if let Some(date) = on {
        moving.active.disbursed_on = Set(Some(date));
    }
    let (txn, after) = moving.write(actor).await?;
    if after.programme == wire(AssistanceProgramme::BusinessStarterPackage) {
        let touched = programme::graduation::Touched::Either {
            business: after.business_id,
            owner: after.beneficiary_id,
        };
        programme::graduation::follow(&txn, &state.rules, actor, touched).await?;
    }
    crate::events::commit(txn).await?;
    Ok(after)
}
