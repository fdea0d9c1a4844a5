//! Referrals (rujukan) between agencies: DINSOS refers a beneficiary on to sector agencies.

pub mod service;

use async_graphql::{Context, Enum, InputObject, MaybeUndefined};
use entity::referral;
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use crate::{
    auth::{RequireScope, Scope},
    beneficiary::Beneficiary,
    business::Business,
    command::{inputs, mutations, plain_as_is},
    error::payload,
    loaders::Loaders,
    moves::{StatusChange, StatusChangeInput, StatusChangeWithReasonInput, moves},
    object::record_object,
    page::{order_by, queries},
    records::{EntityType, case_record},
    scalars::Date,
};

plain_as_is!(ReferralService, ReferralStatus);

case_record!(referral, Referral, beneficiary: |m| Some(m.beneficiary_id), business: |m| m.business_id, status: Status);

/// Service a referral asks for.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ReferralService {
    /// Access to capital, e.g. KUR (akses permodalan).
    CapitalAccess,
    /// Marketing (pemasaran).
    Marketing,
    /// Business development (pengembangan usaha).
    BusinessDevelopment,
    /// Skills training (pelatihan keterampilan).
    SkillsTraining,
    /// Packaging (pengemasan).
    Packaging,
    /// Livable housing (RTLH).
    Housing,
    /// Sanitation.
    Sanitation,
    /// Clean water.
    CleanWater,
    /// Other.
    Other,
}

/// Lifecycle status of a referral.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ReferralStatus {
    /// Sent, awaiting the receiving agency (terkirim).
    Open,
    /// Accepted by the receiving agency (diterima).
    Accepted,
    /// Served, with an outcome (selesai).
    Completed,
    /// Declined by the receiving agency (ditolak).
    Declined,
    /// Withdrawn by the sending agency (dibatalkan).
    Cancelled,
}

#[derive(Clone)]
pub struct Referral {
    pub model: referral::Model,
}

impl From<referral::Model> for Referral {
    fn from(model: referral::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// A referral (rujukan) of a beneficiary from one agency to another. Only the receiving agency
    /// accepts, declines or completes it; only the sending agency cancels it.
    Referral + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// Beneficiary id.
        beneficiary_id: Uuid,
        /// Business id, when the referral is about a business.
        business_id: Option<Uuid>,
        /// Regency/city, Kemendagri code.
        regency_code: &str,
        /// Sending agency (OPD pengirim).
        from_agency: &str,
        /// Receiving agency (OPD penerima).
        to_agency: &str,
        /// Service asked for.
        service: async_graphql::Result<ReferralService>,
        /// Why (alasan rujukan).
        reason: &str,
        /// Respond by (batas waktu).
        due_by: Option<Date>,
        /// Id of the outcome record.
        outcome_id: Option<Uuid>,
        /// The receiving agency's note (on accepting or completing: the outcome summary).
        response_note: Option<&str>,
        /// Lifecycle status.
        status: async_graphql::Result<ReferralStatus>,
        /// Why it was declined or cancelled (alasan).
        status_reason: Option<&str>,
        /// The DECLINED referral this one re-sends to another agency (`resendReferral`).
        #[graphql(name = "resentFromId")]
        resent_from: Option<Uuid>,
        /// The monitoring visit whose obstacle it answers (`MonitoringVisit.referrals`).
        visit_id: Option<Uuid>,
    }
    /// Kind of the outcome record (loan, enrollment, infrastructure request, market service…).
    async fn outcome_type(&self) -> Option<EntityType> {
        self.model.outcome_type.as_deref().and_then(|t| t.parse().ok())
    }
    /// The outcome record itself (hasil rujukan), in the same query (one statement per outcome type
    /// for a whole page of referrals); null when there is none, or
    /// when it lies outside the token's regions or is of a type the token may not read.
    async fn outcome(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::node::ReferralOutcome>> {
        let Some(id) = self.model.outcome_id else {
            return Ok(None);
        };
        let Some(kind) = self.model.outcome_type.as_deref().and_then(|t| t.parse().ok()) else {
            return Ok(None);
        };
        let node = Loaders::of(ctx)?.outcomes().load_one((kind, id)).await.map_err(crate::loaders::load_failed)?;
        Ok(node.and_then(crate::node::ReferralOutcome::from_node))
    }
    /// The beneficiary. Needs `beneficiary:read`.
    #[graphql(guard = "RequireScope(Scope::BeneficiaryRead)")]
    async fn beneficiary(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Beneficiary>> {
        Loaders::one(ctx, |l| l.beneficiary(), self.model.beneficiary_id).await
    }
    /// The business. Needs `business:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead)")]
    async fn business(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Business>> {
        match self.model.business_id {
            Some(id) => Loaders::one(ctx, |l| l.business(), id).await,
            None => Ok(None),
        }
    }
}

inputs! {
    /// Filter for referrals.
    ReferralFilter => ReferralCriteria, Default {
        /// Beneficiary.
        beneficiary_id: Option<Uuid>,
        /// Business.
        business_id: Option<Uuid>,
        /// Sending agency. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        from_agency: Option<String>,
        /// Receiving agency (an agency's inbox). At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        to_agency: Option<String>,
        /// Regencies/cities. At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        regency_codes: Option<Vec<String>>,
        /// Services. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        services: Option<Vec<ReferralService>>,
        /// Statuses. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        statuses: Option<Vec<ReferralStatus>>,
        /// Due on or before.
        due_by: Option<Date>,
    }
}

order_by!(ReferralOrderBy, ReferralOrderField, referral {
    /// Respond-by date.
    DueBy => DueBy,
    /// Creation time.
    CreatedAt => CreatedAt,
    /// Last change.
    UpdatedAt => UpdatedAt,
});

inputs! {
    /// Input of `createReferral` (sent from the caller's agency; status OPEN).
    CreateReferralInput => NewReferral {
        /// Optional client-chosen UUID.
        id: Option<Uuid>,
        /// Beneficiary.
        beneficiary_id: Uuid,
        /// Business, when about one.
        business_id: Option<Uuid>,
        /// Receiving agency code. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        to_agency: String,
        /// Service asked for.
        service: ReferralService,
        /// Why. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        reason: String,
        /// Respond by.
        due_by: Option<Date>,
        /// The monitoring visit whose obstacle this answers (tindak lanjut kunjungan): a visit of
        /// this beneficiary; the referral is then about the visit's business, and the visit's
        /// follow-up is in hand.
        visit_id: Option<Uuid>,
    }
}

inputs! {
    /// Input of `updateReferral` (while OPEN, by the sending agency): an absent field keeps its
    /// value; an explicit `null` clears `dueBy`.
    UpdateReferralInput => ReferralChanges {
        /// The record.
        id: Uuid,
        /// The version the client last read.
        expected_version: i32,
        /// Service asked for.
        service: Option<ReferralService>,
        /// Why. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        reason: Option<String>,
        /// Respond by.
        due_by: MaybeUndefined<Date>,
    }
}

/// Input of `completeReferral`.
#[derive(InputObject)]
pub struct CompleteReferralInput {
    /// The record.
    pub id: Uuid,
    /// The version the client last read.
    pub expected_version: i32,
    /// Kind of the record the referral led to.
    pub outcome_type: Option<EntityType>,
    /// Id of that record.
    pub outcome_id: Option<Uuid>,
    /// Summary. At most 2000 characters.
    #[graphql(validator(chars_max_length = 2000))]
    pub note: Option<String>,
}

payload! {
    /// Result of `updateReferral`.
    UpdateReferralPayload { referral: Referral };
    /// Result of `createReferral`.
    CreateReferralPayload { referral: Referral };
    /// Result of a referral change or lifecycle move.
    ChangeReferralStatusPayload { referral: Referral };
    /// Result of `resendReferral`: the new referral.
    ResendReferralPayload { referral: Referral };
}

// What its resolvers read of its text columns (`columns.rs`); any other may read all.
crate::columns::record_columns!(Referral: referral::Entity {
    "outcomeType": ["outcome_type"],
    "outcome": ["outcome_type"],
    "beneficiary": [],
    "business": [],
});

queries! {
    /// Referral queries.
    ReferralQuery, guard = "RequireScope(Scope::ReferralRead)";
    /// One referral by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `referral:read`.
    referral -> Referral by referral::Entity;
    /// Referrals, newest first. Needs `referral:read`.
    referrals(ReferralFilter, ReferralOrderBy) = service::list;
}

mutations! {
    /// Referral mutations.
    ReferralMutation;
    /// Refers a beneficiary to another agency. Needs `referral:write`.
    create_referral(CreateReferralInput) -> CreateReferralPayload = service::create,
        guard = "RequireScope(Scope::ReferralWrite)";
    /// Changes an OPEN referral, by the sending agency. Needs `referral:write`.
    update_referral(UpdateReferralInput) -> UpdateReferralPayload = service::update,
        guard = "RequireScope(Scope::ReferralWrite)";
    /// Re-sends a DECLINED referral to another agency, by the sending agency, once: a new OPEN referral naming it (`resentFromId`). Needs `referral:write`.
    resend_referral(ResendReferralInput) -> ResendReferralPayload = service::resend,
        guard = "RequireScope(Scope::ReferralWrite)";
}

inputs! {
    /// Input of `resendReferral`.
    ResendReferralInput => Resend {
        /// Optional client-chosen UUID of the new referral.
        id: Option<Uuid>,
        /// The DECLINED referral.
        referral_id: Uuid,
        /// The agency to send it to now (not the one that declined it). At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        to_agency: String,
        /// A new reason; the declined referral's when absent. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        reason: Option<String>,
        /// Due date of the new referral.
        due_by: Option<Date>,
    }
}

moves! {
    /// Referral lifecycle mutations. Each needs `referral:write`; the receiving agency accepts,
    /// declines and completes, the sending agency cancels.
    ReferralMoves, LIFECYCLE: ReferralStatus, guard = "RequireScope(Scope::ReferralWrite)",
    payload = ChangeReferralStatusPayload, service = service::change_status;
    /// OPEN → ACCEPTED, by the receiving agency. Needs `referral:write`.
    accept_referral(StatusChangeInput): [Open] => Accepted;
    /// OPEN → DECLINED with a reason, by the receiving agency. Needs `referral:write`.
    decline_referral(StatusChangeWithReasonInput): [Open] => Declined, ends;
    /// ACCEPTED → COMPLETED with the outcome record, by the receiving agency. Needs `referral:write`.
    complete_referral(CompleteReferralInput): [Accepted] => Completed;
    /// OPEN → CANCELLED with a reason, by the sending agency. Needs `referral:write`.
    cancel_referral(StatusChangeWithReasonInput): [Open] => Cancelled, ends;
}

impl From<CompleteReferralInput> for StatusChange<service::Response> {
    fn from(input: CompleteReferralInput) -> Self {
        Self {
            id: input.id,
            expected_version: input.expected_version,
            reason: None,
            details: service::Response {
                note: input.note,
                outcome_type: input.outcome_type,
                outcome_id: input.outcome_id,
            },
        }
    }
}
