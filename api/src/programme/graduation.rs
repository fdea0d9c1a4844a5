//! Graduation (naik kelas): where a business stands on the configured ladder, criterion by
//! criterion with the record that shows it, and the level it keeps — recomputed in the same
//! transaction as every write that can change it, each change a `LEVEL_CHANGED` case event.
//! No GraphQL here.

use chrono::{Months, NaiveDate};
use entity::{
    assistance, business, loan_application, market_service, monitoring_visit, referral, training,
    training_enrollment,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::{
    assistance::{AssistanceProgramme, AssistanceStatus},
    auth::Actor,
    business::BusinessStatus,
    error::ServiceError,
    events::CaseAction,
    loan::LoanStatus,
    market::{MarketServiceKind, MarketServiceStatus},
    records::{CaseRecord, EntityType, wire},
    referral::{ReferralService, ReferralStatus},
    rules::{Criterion, Level, Rules},
    training::EnrollmentStatus,
};

/// The record that shows a criterion met.
pub type Evidence = (EntityType, Uuid);

/// One criterion, met or not, with its evidence.
#[derive(Debug, Clone)]
pub struct Check {
    pub criterion: Criterion,
    pub evidence: Option<Evidence>,
}

impl Check {
    pub fn met(&self) -> bool {
        self.evidence.is_some()
    }
}

/// Where a business stands on the ladder: every level's checks and the level it reaches (the
/// highest whose checks, and every lower level's, are all met; 0 when the first is not).
#[derive(Debug, Clone)]
pub struct Standing {
    pub levels: Vec<(Level, Vec<Check>)>,
    pub level: i32,
}

impl Standing {
    /// Every criterion of the ladder is met.
    pub fn complete(&self) -> bool {
        self.level as usize == self.levels.len()
    }

    /// The criteria not met, as "level N (name): kind", for a refusal.
    pub fn unmet(&self) -> Vec<String> {
        self.levels
            .iter()
            .enumerate()
            .flat_map(|(n, (level, checks))| {
                checks
                    .iter()
                    .filter(|c| !c.met())
                    .map(move |c| format!("L{} {}: {}", n + 1, level.name, c.criterion.describe()))
            })
            .collect()
    }
}

impl Criterion {
    /// The criterion in words.
    pub fn describe(&self) -> String {
        match self {
            Self::PackageDisbursed => "starter package disbursed".into(),
            Self::TrainingCompleted { topics } => format!("training completed ({})", topics.join(" or ")),
            Self::RunningFor { months } => format!("running {months} months or more (by visits)"),
            Self::Nib => "business registration number (NIB)".into(),
            Self::MarketAccess => "market access (a completed marketing, market or e-commerce placement or cooperative membership service, or a completed marketing or business-development referral)".into(),
            Self::LoanDisbursed { products } if products.is_empty() => "a loan disbursed".into(),
            Self::LoanDisbursed { products } => format!("a loan disbursed ({})", products.join(" or ")),
            Self::RevenueAtLeast { amount } => format!("monthly revenue of Rp{amount} or more"),
            Self::WorkersAtLeast { workers } => format!("{workers} or more workers"),
            Self::AnyOf { of } => of.iter().map(Criterion::describe).collect::<Vec<_>>().join(" or "),
        }
    }
}

/// Where `business` stands on `rules`' ladder as of `today`.
pub async fn standing(
    db: &impl ConnectionTrait,
    rules: &Rules,
    business: &business::Model,
    today: NaiveDate,
) -> Result<Standing, ServiceError> {
    let mut levels = Vec::with_capacity(rules.graduation.len());
    let mut reached = 0;
    let mut climbing = true;
    for (n, level) in rules.graduation.iter().enumerate() {
        let mut checks = Vec::with_capacity(level.criteria.len());
        for criterion in &level.criteria {
            let evidence = Box::pin(evidence(db, criterion, business, today)).await?;
            checks.push(Check { criterion: criterion.clone(), evidence });
        }
        if climbing && checks.iter().all(Check::met) {
            reached = n as i32 + 1;
        } else {
            climbing = false;
        }
        levels.push((level.clone(), checks));
    }
    Ok(Standing { levels, level: reached })
}

/// The level `business` reaches on `rules`' ladder as of `today`: [`standing`]'s level, read
/// only as far as the first criterion not met (a write keeps the level in its transaction, and
/// needs no more than that).
pub async fn level(
    db: &impl ConnectionTrait,
    rules: &Rules,
    business: &business::Model,
    today: NaiveDate,
) -> Result<i32, ServiceError> {
    for (n, level) in rules.graduation.iter().enumerate() {
        for criterion in &level.criteria {
            if Box::pin(evidence(db, criterion, business, today)).await?.is_none() {
                return Ok(n as i32);
            }
        }
    }
    Ok(rules.graduation.len() as i32)
}

/// The record that shows `criterion` met for `business`, if any.
async fn evidence(
    db: &impl ConnectionTrait,
    criterion: &Criterion,
    business: &business::Model,
    today: NaiveDate,
) -> Result<Option<Evidence>, ServiceError> {
    Ok(match criterion {
        Criterion::PackageDisbursed => assistance::Entity::find()
            .filter(assistance::Column::Programme.eq(wire(AssistanceProgramme::BusinessStarterPackage)))
            .filter(assistance::Column::Status.eq(wire(AssistanceStatus::Disbursed)))
            .filter(of_business(assistance::Column::BusinessId, assistance::Column::BeneficiaryId, business))
            .order_by(assistance::Column::DisbursedOn, Order::Desc)
            .order_by(assistance::Column::Id, Order::Desc)
            .one(db)
            .await?
            .map(|a| (EntityType::Assistance, a.id)),
        Criterion::TrainingCompleted { topics } => {
            let completed = training_enrollment::Entity::find()
                .filter(training_enrollment::Column::BeneficiaryId.eq(business.beneficiary_id))
                .filter(training_enrollment::Column::Status.eq(wire(EnrollmentStatus::Completed)))
                .all(db)
                .await?;
            if completed.is_empty() {
                return Ok(None);
            }
            let on_topic = training::Entity::find()
                .filter(training::Column::Id.is_in(completed.iter().map(|e| e.training_id)))
                .filter(training::Column::Topic.is_in(topics.iter().cloned()))
                .order_by(training::Column::EndsOn, Order::Desc)
                .order_by(training::Column::Id, Order::Desc)
                .one(db)
                .await?;
            on_topic
                .and_then(|t| completed.iter().find(|e| e.training_id == t.id))
                .map(|e| (EntityType::TrainingEnrollment, e.id))
        }
        Criterion::RunningFor { months } => {
            let running = [BusinessStatus::Running, BusinessStatus::Graduated].map(wire);
            // A business running again after a relapse counts its months from the day it resumed.
            let from = match (business.graduated_on, business.status == wire(BusinessStatus::Running)) {
                (Some(_), true) => business.started_on.max(business.status_changed_on),
                _ => business.started_on,
            };
            let since = from.and_then(|d| d.checked_add_months(Months::new(*months)));
            match since {
                Some(since) if since <= today && running.contains(&business.status) => {
                    monitoring_visit::Entity::find()
                        .filter(monitoring_visit::Column::BusinessId.eq(business.id))
                        .filter(monitoring_visit::Column::ObservedStatus.eq(wire(BusinessStatus::Running)))
                        .filter(monitoring_visit::Column::VisitedOn.gte(since))
                        .order_by(monitoring_visit::Column::VisitedOn, Order::Desc)
                        .order_by(monitoring_visit::Column::Id, Order::Desc)
                        .one(db)
                        .await?
                        .map(|v| (EntityType::MonitoringVisit, v.id))
                }
                _ => None,
            }
        }
        Criterion::Nib => business.nib.as_ref().map(|_| (EntityType::Business, business.id)),
        Criterion::MarketAccess => {
            let kinds = <MarketServiceKind as strum::VariantArray>::VARIANTS
                .iter()
                .filter(|k| k.is_market_access())
                .map(|k| wire(*k));
            let service = market_service::Entity::find()
                .filter(market_service::Column::BusinessId.eq(business.id))
                .filter(market_service::Column::Status.eq(wire(MarketServiceStatus::Completed)))
                .filter(market_service::Column::Kind.is_in(kinds))
                .order_by(market_service::Column::Id, Order::Desc)
                .one(db)
                .await?
                .map(|s| (EntityType::MarketService, s.id));
            match service {
                Some(found) => Some(found),
                // A referral a market service answered counts through the service (above): a
                // registration or coaching that completed a BUSINESS_DEVELOPMENT referral is not
                // market access.
                None => referral::Entity::find()
                    .filter(referral::Column::Status.eq(wire(ReferralStatus::Completed)))
                    .filter(
                        Condition::any()
                            .add(referral::Column::OutcomeType.is_null())
                            .add(referral::Column::OutcomeType.ne(wire(EntityType::MarketService))),
                    )
                    .filter(referral::Column::Service.is_in([
                        wire(ReferralService::Marketing),
                        wire(ReferralService::BusinessDevelopment),
                    ]))
                    .filter(of_business(
                        referral::Column::BusinessId,
                        referral::Column::BeneficiaryId,
                        business,
                    ))
                    .order_by(referral::Column::Id, Order::Desc)
                    .one(db)
                    .await?
                    .map(|r| (EntityType::Referral, r.id)),
            }
        }
        Criterion::LoanDisbursed { products } => {
            let mut select = loan_application::Entity::find()
                .filter(loan_application::Column::BusinessId.eq(business.id))
                .filter(loan_application::Column::Status.eq(wire(LoanStatus::Disbursed)));
            if !products.is_empty() {
                select = select.filter(loan_application::Column::Product.is_in(products.iter().cloned()));
            }
            select
                .order_by(loan_application::Column::Id, Order::Desc)
                .one(db)
                .await?
                .map(|l| (EntityType::LoanApplication, l.id))
        }
        Criterion::RevenueAtLeast { amount } => {
            let latest = monitoring_visit::Entity::find()
                .filter(monitoring_visit::Column::BusinessId.eq(business.id))
                .filter(monitoring_visit::Column::RevenueEstimate.is_not_null())
                .order_by(monitoring_visit::Column::VisitedOn, Order::Desc)
                .order_by(monitoring_visit::Column::Id, Order::Desc)
                .limit(1)
                .one(db)
                .await?;
            match latest {
                Some(visit) => visit
                    .revenue_estimate
                    .filter(|r| r >= amount)
                    .map(|_| (EntityType::MonitoringVisit, visit.id)),
                None => business
                    .monthly_revenue
                    .filter(|r| r >= amount)
                    .map(|_| (EntityType::Business, business.id)),
            }
        }
        Criterion::WorkersAtLeast { workers } => {
            (business.workers >= *workers).then_some((EntityType::Business, business.id))
        }
        Criterion::AnyOf { of } => {
            let mut found = None;
            for criterion in of {
                found = Box::pin(evidence(db, criterion, business, today)).await?;
                if found.is_some() {
                    break;
                }
            }
            found
        }
    })
}

/// Records about `business` itself, or about its owner without naming a business.
fn of_business<C: ColumnTrait>(business_column: C, owner_column: C, business: &business::Model) -> Condition {
    Condition::any()
        .add(business_column.eq(business.id))
        .add(Condition::all().add(business_column.is_null()).add(owner_column.eq(business.beneficiary_id)))
}

/// What a write touched that may move a business on the ladder.
#[derive(Debug, Clone, Copy)]
pub enum Touched {
    /// This business.
    Business(Uuid),
    /// A business when named, else every business of the owner.
    Either { business: Option<Uuid>, owner: Uuid },
}

/// Brings the kept level of the businesses `touched` up to date inside the write's transaction;
/// each change is written with a `LEVEL_CHANGED` case event (`changedFields: ["level"]`) and
/// returned. A business that is proposed, rejected, closed or graduated keeps its level.
pub async fn follow(
    txn: &DatabaseTransaction,
    rules: &Rules,
    actor: &Actor,
    touched: Touched,
) -> Result<Vec<business::Model>, ServiceError> {
    let mut select = match touched {
        Touched::Business(id) | Touched::Either { business: Some(id), .. } => {
            business::Entity::find().filter(business::Column::Id.eq(id))
        }
        Touched::Either { business: None, owner } => {
            business::Entity::find().filter(business::Column::BeneficiaryId.eq(owner))
        }
    };
    // On PostgreSQL the businesses are locked (in id order) before their evidence is read: two
    // writes that each add evidence then see each other's, and the level the second keeps
    // counts both. SQLite has one writer.
    select = select.order_by(business::Column::Id, Order::Asc);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = select.lock(sea_orm::sea_query::LockType::NoKeyUpdate);
    }
    let businesses = select.all(txn).await?;
    keep_levels(txn, rules, actor, businesses).await
}

/// [`follow`] for businesses already read (and, on PostgreSQL, locked) in `txn`.
async fn keep_levels(
    txn: &DatabaseTransaction,
    rules: &Rules,
    actor: &Actor,
    businesses: Vec<business::Model>,
) -> Result<Vec<business::Model>, ServiceError> {
    let today = chrono::Utc::now().date_naive();
    // Before it is approved, after it is rejected or closed, and while graduated (the level it
    // graduated at stays until a relapse), a business keeps its level.
    let frozen = [
        BusinessStatus::Proposed,
        BusinessStatus::Rejected,
        BusinessStatus::Closed,
        BusinessStatus::Graduated,
    ]
    .map(wire);
    let mut changed = Vec::new();
    for business in businesses {
        if frozen.contains(&business.status) {
            continue;
        }
        let reached = level(txn, rules, &business, today).await?;
        if reached != business.level {
            changed.push(keep_level(txn, actor, business, reached).await?);
        }
    }
    Ok(changed)
}

/// Brings every business's kept level up to date, a page of 500 businesses a transaction: for
/// businesses written before levels were kept, and after the ladder in the rules file changed
/// (`sinergi levels recompute`). Each change is a `LEVEL_CHANGED` event by `actor`; businesses
/// that keep their level (proposed, rejected, closed, graduated) are left as they are. Returns
/// how many businesses were looked at and how many levels changed.
pub async fn recompute_all(
    db: &sea_orm::DatabaseConnection,
    rules: &Rules,
    actor: &Actor,
) -> Result<(u64, u64), ServiceError> {
    use sea_orm::TransactionTrait;
    let (mut seen, mut changed, mut after) = (0u64, 0u64, None::<Uuid>);
    loop {
        let mut select = business::Entity::find()
            .select_only()
            .column(business::Column::Id)
            .order_by(business::Column::Id, Order::Asc)
            .limit(500);
        if let Some(last) = after {
            select = select.filter(business::Column::Id.gt(last));
        }
        let ids: Vec<Uuid> = select.into_tuple().all(db).await?;
        let Some(last) = ids.last().copied() else { break };
        let txn = db.begin().await?;
        for id in &ids {
            changed += follow(&txn, rules, actor, Touched::Business(*id)).await?.len() as u64;
        }
        crate::events::commit(txn).await?;
        seen += ids.len() as u64;
        after = Some(last);
    }
    Ok((seen, changed))
}

/// Keeps `level` on `business` with its `LEVEL_CHANGED` event. The version stays: the level is
/// the gateway's reading of other records, not something a client writes, so a change of it
/// must not make a client's next write of the business a `CONFLICT`.
async fn keep_level(
    txn: &DatabaseTransaction,
    actor: &Actor,
    business: business::Model,
    level: i32,
) -> Result<business::Model, ServiceError> {
    use sea_orm::sea_query::Expr;
    let now = chrono::Utc::now();
    business::Entity::update_many()
        .col_expr(business::Column::Level, Expr::value(level))
        .col_expr(business::Column::UpdatedAt, Expr::value(now))
        .filter(business::Column::Id.eq(business.id))
        .exec(txn)
        .await?;
    let after = business::Model { level, updated_at: now, ..business };
    crate::events::record(txn, actor, &after, CaseAction::LevelChanged, after.status(), &["level"], None)
        .await?;
    Ok(after)
}

/// [`follow`] for a write to `business` itself: the business as it is after both. `business`
/// must be the row as the write left it in `txn` (the model its `UPDATE` returned, not the one
/// read before): it is not read again, and on PostgreSQL that `UPDATE` holds the row's lock
/// while the evidence is read.
pub async fn follow_business(
    txn: &DatabaseTransaction,
    rules: &Rules,
    actor: &Actor,
    business: business::Model,
) -> Result<business::Model, ServiceError> {
    let changed = keep_levels(txn, rules, actor, vec![business.clone()]).await?;
    Ok(changed.into_iter().next().unwrap_or(business))
}
