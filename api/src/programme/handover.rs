//! Handover between agencies: the work a referral asked for, once done, completes it. No
//! GraphQL here.

use entity::referral;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    auth::Actor,
    error::ServiceError,
    events::CaseAction,
    records::{self, EntityType, wire},
    referral::{ReferralService, ReferralStatus},
};

/// A record that finished the work some referrals asked for.
pub struct Done {
    pub kind: EntityType,
    pub id: Uuid,
    pub beneficiary: Uuid,
    pub business: Option<Uuid>,
    /// The services it provides.
    pub services: &'static [ReferralService],
}

/// Completes, inside the write's transaction, the ACCEPTED referrals to the caller's agency that
/// `done` answers: of the same person, for one of its services, about the same business (or
/// about none), recording it as their outcome — each a STATUS_CHANGED event. Returns how many.
pub async fn complete_referrals(
    txn: &DatabaseTransaction,
    actor: &Actor,
    done: Done,
) -> Result<usize, ServiceError> {
    let mut about = Condition::any().add(referral::Column::BusinessId.is_null());
    if let Some(business) = done.business {
        about = about.add(referral::Column::BusinessId.eq(business));
    }
    let waiting = referral::Entity::find()
        .filter(referral::Column::Status.eq(wire(ReferralStatus::Accepted)))
        .filter(referral::Column::ToAgency.eq(actor.agency.clone()))
        .filter(referral::Column::BeneficiaryId.eq(done.beneficiary))
        .filter(referral::Column::Service.is_in(done.services.iter().map(|s| wire(*s))))
        .filter(about)
        .all(txn)
        .await?;
    let count = waiting.len();
    for before in waiting {
        let change = referral::ActiveModel {
            status: Set(wire(ReferralStatus::Completed)),
            outcome_type: Set(Some(wire(done.kind))),
            outcome_id: Set(Some(done.id)),
            ..Default::default()
        };
        records::update::<referral::Entity, _>(txn, actor, &before, change, CaseAction::StatusChanged)
            .await?;
    }
    Ok(count)
}
