//! Loan rules and storage: product limits and KUR eligibility from configuration. No GraphQL here.

use chrono::{Months, NaiveDate, Utc};
use entity::{
    business,
    loan_application::{self, ActiveModel, Column, Entity},
    training, training_enrollment,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use super::{LoanChanges, LoanCriteria, LoanDecision, LoanProduct, LoanStatus, NewLoanApplication};
use crate::{
    auth::Actor,
    business::BusinessStatus,
    context::AppState,
    error::{Problems, ServiceError},
    moves::{Move, StatusChange},
    page::{Listing, Narrow, Rows, paginate},
    records::{self, Moving, existing_for_retry, find_visible, parse_stored, wire, within_regions},
    rules::Rules,
    training::EnrollmentStatus,
};

/// A page of applications.
#[tracing::instrument(level = "debug", skip_all, name = "loan::list")]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listing: Listing<LoanCriteria, Column>,
) -> Result<Rows<Entity>, ServiceError> {
    let Listing { filter: f, paging } = listing;
    let select = within_regions(Entity::find(), actor)
        .equal(Column::BusinessId, f.business_id)
        .equal(Column::BeneficiaryId, f.beneficiary_id)
        .one_of(Column::RegencyCode, f.regency_codes)
        .one_of_enum(Column::Product, f.products)
        .one_of_enum(Column::Status, f.statuses);
    paginate(db, select, paging, (Column::CreatedAt, Order::Desc)).await
}

/// The product's limit, if it has one.
fn limit(rules: &Rules, product: LoanProduct) -> Option<i64> {
    match product {
        LoanProduct::KurSuperMicro => Some(rules.kur_super_micro_limit),
        LoanProduct::KurMicro => Some(rules.kur_micro_limit),
        LoanProduct::KurSmall => Some(rules.kur_small_limit),
        _ => None,
    }
}

fn check_amount(rules: &Rules, product: LoanProduct, field: &str, amount: i64) -> Result<(), ServiceError> {
    if amount <= 0 {
        return Err(ServiceError::validation(field, "amount must be positive"));
    }
    match limit(rules, product) {
        Some(max) if amount > max => Err(ServiceError::LimitExceeded {
            field: field.to_owned(),
            message: format!("Rp{amount} is above the {} limit of Rp{max}", <&str>::from(product)),
        }),
        _ => Ok(()),
    }
}

fn check_terms(product: LoanProduct, tenor: i32, collateral: bool) -> Result<(), ServiceError> {
    if !(1..=120).contains(&tenor) {
        return Err(ServiceError::validation("tenorMonths", "tenor must be 1–120 months"));
    }
    if product == LoanProduct::KurSmall && !collateral {
        return Err(ServiceError::NotEligible {
            field: "hasCollateral".into(),
            message: "KUR Kecil requires collateral".into(),
        });
    }
    Ok(())
}

/// KUR only for a business running ≥ N months, or ≥ M months after completed training.
async fn check_kur_eligibility(
    db: &impl ConnectionTrait,
    rules: &Rules,
    biz: &business::Model,
    today: NaiveDate,
) -> Result<(), ServiceError> {
    let running = matches!(
        records::stored(&biz.status)?,
        BusinessStatus::Running | BusinessStatus::Stalled | BusinessStatus::Graduated
    );
    let months_ago = |m: u32| today.checked_sub_months(Months::new(m)).unwrap_or(today);
    if running && biz.started_on.is_some_and(|d| d <= months_ago(rules.kur_min_months_running)) {
        return Ok(());
    }
    let completed = training_enrollment::Entity::find()
        .filter(training_enrollment::Column::BeneficiaryId.eq(biz.beneficiary_id))
        .filter(training_enrollment::Column::Status.eq(wire(EnrollmentStatus::Completed)))
        .all(db)
        .await?;
    let ids: Vec<Uuid> = completed.iter().map(|e| e.training_id).collect();
    let trained_long_enough = !ids.is_empty()
        && training::Entity::find()
            .filter(training::Column::Id.is_in(ids))
            .filter(training::Column::EndsOn.lte(months_ago(rules.kur_min_months_after_training)))
            .one(db)
            .await?
            .is_some();
    if running && trained_long_enough {
        return Ok(());
    }
    Err(ServiceError::NotEligible {
        field: "businessId".into(),
        message: format!(
            "KUR needs a business running at least {} months, or {} months after completed training",
            rules.kur_min_months_running, rules.kur_min_months_after_training
        ),
    })
}

/// Drafts an application.
#[tracing::instrument(level = "debug", skip_all, name = "loan::create")]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewLoanApplication,
) -> Result<loan_application::Model, ServiceError> {
    let mut problems = Problems::default();
    if input.lender.trim().is_empty() {
        problems.push(ServiceError::validation("lender", "lender is required"));
    }
    problems.check(check_amount(&state.rules, input.product, "requestedAmount", input.requested_amount));
    problems.check(check_terms(input.product, input.tenor_months, input.has_collateral));
    problems.finish()?;
    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = existing_for_retry::<Entity>(&txn, actor, input.id).await? {
        return Ok(existing);
    }
    let biz = find_visible::<business::Entity>(&txn, actor, input.business_id)
        .await
        .map_err(ServiceError::missing("businessId", "business"))?;
    let active = ActiveModel {
        id: Set(id),
        business_id: Set(biz.id),
        beneficiary_id: Set(biz.beneficiary_id),
        regency_code: Set(biz.regency_code),
        product: Set(wire(input.product)),
        lender: Set(input.lender.trim().to_owned()),
        requested_amount: Set(input.requested_amount),
        approved_amount: Set(None),
        tenor_months: Set(input.tenor_months),
        has_collateral: Set(input.has_collateral),
        decision_reason: Set(None),
        status: Set(wire(LoanStatus::Draft)),
        ..Default::default()
    };
    records::commit_insert::<Entity, _>(txn, actor, active).await
}

/// Changes a draft.
#[tracing::instrument(level = "debug", skip_all, name = "loan::update")]
pub async fn update(
    state: &AppState,
    actor: &Actor,
    input: LoanChanges,
) -> Result<loan_application::Model, ServiceError> {
    let txn = state.db.begin().await?;
    let before = records::load_for_write::<Entity>(&txn, actor, input.id, input.expected_version).await?;
    records::require_editable(&before.status, &[LoanStatus::Draft])?;
    let product: LoanProduct = parse_stored(&before.product).map_err(|_| ServiceError::NotFound)?;
    let mut active = ActiveModel::default();
    if let Some(v) = input.lender {
        active.lender = Set(v);
    }
    if let Some(v) = input.requested_amount {
        check_amount(&state.rules, product, "requestedAmount", v)?;
        active.requested_amount = Set(v);
    }
    let tenor = input.tenor_months.unwrap_or(before.tenor_months);
    let collateral = input.has_collateral.unwrap_or(before.has_collateral);
    check_terms(product, tenor, collateral)?;
    if let Some(v) = input.tenor_months {
        active.tenor_months = Set(v);
    }
    if let Some(v) = input.has_collateral {
        active.has_collateral = Set(v);
    }
    records::commit_update::<Entity, _>(txn, actor, &before, active).await
}

/// A lifecycle move with its rules: KUR eligibility on submit, limits on approval.
#[tracing::instrument(level = "debug", skip_all, name = "loan::change_status")]
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    to: &Move<LoanStatus>,
    change: StatusChange<LoanDecision>,
) -> Result<loan_application::Model, ServiceError> {
    let mut moving = Moving::<Entity, ActiveModel>::start(&state.db, actor, to, &change).await?;
    let before = &moving.before;
    let product: LoanProduct = parse_stored(&before.product).map_err(|_| ServiceError::NotFound)?;
    if to.to == LoanStatus::Submitted && product.is_kur() {
        let biz = business::Entity::find_by_id(before.business_id)
            .one(&moving.txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        check_kur_eligibility(&moving.txn, &state.rules, &biz, Utc::now().date_naive()).await?;
    }
    if let Some(amount) = change.details.approved_amount {
        check_amount(&state.rules, product, "approvedAmount", amount)?;
        moving.active.approved_amount = Set(Some(amount));
    }
    if let Some(conditions) = change.details.conditions {
        moving.active.decision_reason = Set(Some(conditions));
    }
    let (txn, after) = moving.write(actor).await?;
    if to.to == LoanStatus::Disbursed {
        let done = crate::programme::handover::Done {
            kind: crate::records::EntityType::LoanApplication,
            id: after.id,
            beneficiary: after.beneficiary_id,
            business: Some(after.business_id),
            services: &[crate::referral::ReferralService::CapitalAccess],
        };
        crate::programme::handover::complete_referrals(&txn, actor, done).await?;
    }
    let touched = crate::programme::graduation::Touched::Business(after.business_id);
    crate::programme::graduation::follow(&txn, &state.rules, actor, touched).await?;
    crate::events::commit(txn).await?;
    Ok(after)
}
