//! Assistance (bantuan): BLT cash, sembako food packages, business starter packages.

pub mod service;

use async_graphql::{Context, Enum, InputObject, MaybeUndefined};
use chrono::Utc;
use entity::assistance;
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use crate::{
    auth::{RequireScope, Scope},
    beneficiary::{Beneficiary, DecileSource},
    business::Business,
    command::{inputs, mutations, plain_as_is},
    error::payload,
    loaders::Loaders,
    moves::{StatusChange, StatusChangeWithReasonInput, moves},
    object::record_object,
    page::{order_by, queries},
    policy::RequireWrite,
    records::{EntityType, case_record},
    scalars::{Date, Rupiah},
};

plain_as_is!(AssistanceProgramme, AssistanceStatus);

case_record!(assistance, Assistance, beneficiary: |m| Some(m.beneficiary_id), business: |_m| None, status: Status);

/// Assistance programme (program bantuan).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum AssistanceProgramme {
    /// Bantuan Langsung Tunai: direct cash transfer.
    Blt,
    /// Sembako: staple-food package.
    Sembako,
    /// Business starter package (paket usaha, Usaha Ekonomi Produktif): goods, for a current
    /// decile 1–5 assessment, one per beneficiary per year, within the regency's allocation.
    BusinessStarterPackage,
    /// Other assistance.
    Other,
}

/// Lifecycle status of assistance.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum AssistanceStatus {
    /// Planned (direncanakan).
    Planned,
    /// Disbursed/delivered (disalurkan).
    Disbursed,
    /// Cancelled (dibatalkan).
    Cancelled,
}

#[derive(Clone)]
pub struct Assistance {
    pub model: assistance::Model,
}

impl From<assistance::Model> for Assistance {
    fn from(model: assistance::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// Assistance (bantuan) to a beneficiary, with the eligibility snapshot taken when it was planned.
    Assistance + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// Beneficiary id.
        beneficiary_id: Uuid,
        /// Regency/city, Kemendagri code.
        regency_code: &str,
        /// Programme.
        programme: async_graphql::Result<AssistanceProgramme>,
        /// Value (nilai bantuan), whole rupiah.
        amount: Rupiah,
        /// Goods delivered (rincian barang), e.g. the starter package's tools and materials.
        items: Option<&str>,
        /// Period start.
        period_start: Date,
        /// Period end.
        period_end: Option<Date>,
        /// Fund source (sumber dana), e.g. APBD Provinsi.
        fund_source: &str,
        /// Date disbursed (tanggal penyaluran).
        disbursed_on: Option<Date>,
        /// Lifecycle status.
        status: async_graphql::Result<AssistanceStatus>,
        /// Why it was cancelled (alasan).
        status_reason: Option<&str>,
        /// Decile at the eligibility decision (snapshot; later DTSEN updates do not change it).
        #[graphql(name = "decileAtDecision")]
        decile: i32,
        /// Source of the decile snapshot.
        #[graphql(name = "decileSourceAtDecision")]
        decile_source: async_graphql::Result<DecileSource>,
        /// As-of date of the decile snapshot.
        #[graphql(name = "decileAssessedOnAtDecision")]
        decile_assessed_on: Date,
        /// A starter package: the business it equips (`equipBusiness` needs it disbursed).
        business_id: Option<Uuid>,
        /// A starter package: the business the person wants to run, in their words (minat usaha).
        interest: Option<&str>,
        /// A starter package: the goods the person asked for (permohonan barang).
        requested_goods: Option<&str>,
        /// A starter package: the assessed local price of the goods (hasil survei harga), whole rupiah.
        price_assessment: Option<Rupiah>,
        /// A starter package: when the price was assessed.
        price_assessed_on: Option<Date>,
    }
    /// The beneficiary. Needs `beneficiary:read`.
    #[graphql(guard = "RequireScope(Scope::BeneficiaryRead)")]
    async fn beneficiary(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Beneficiary>> {
        Loaders::one(ctx, |l| l.beneficiary(), self.model.beneficiary_id).await
    }
    /// A starter package: the business it equips; null when none is named. Needs `business:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead)")]
    async fn business(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Business>> {
        match self.model.business_id {
            Some(id) => Loaders::one(ctx, |l| l.business(), id).await,
            None => Ok(None),
        }
    }
}

inputs! {
    /// Filter for assistance.
    AssistanceFilter => AssistanceCriteria, Default {
        /// Beneficiary.
        beneficiary_id: Option<Uuid>,
        /// Regencies/cities. At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        regency_codes: Option<Vec<String>>,
        /// Programmes. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        programmes: Option<Vec<AssistanceProgramme>>,
        /// Statuses. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        statuses: Option<Vec<AssistanceStatus>>,
        /// Period starting on or after.
        period_from: Option<Date>,
        /// Period starting on or before.
        period_to: Option<Date>,
    }
}

order_by!(AssistanceOrderBy, AssistanceOrderField, assistance {
    /// Period start.
    PeriodStart => PeriodStart,
    /// Amount.
    Amount => Amount,
    /// Creation time.
    CreatedAt => CreatedAt,
    /// Last change.
    UpdatedAt => UpdatedAt,
});

inputs! {
    /// Input of `createAssistance` (status starts PLANNED).
    CreateAssistanceInput => NewAssistance {
        /// Optional client-chosen UUID.
        id: Option<Uuid>,
        /// Beneficiary.
        beneficiary_id: Uuid,
        /// Programme.
        programme: AssistanceProgramme,
        /// Value in rupiah.
        amount: Rupiah,
        /// Goods. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        items: Option<String>,
        /// Period start.
        period_start: Date,
        /// Period end.
        period_end: Option<Date>,
        /// Fund source. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        fund_source: String,
        /// A starter package: the business it equips (the beneficiary's own, PROPOSED or APPROVED).
        business_id: Option<Uuid>,
        /// A starter package (required): the business the person wants to run, in their words. At most 500 characters.
        #[graphql(validator(chars_max_length = 500))]
        interest: Option<String>,
        /// A starter package (required): the goods the person asked for. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        requested_goods: Option<String>,
        /// A starter package (required): the assessed local price of the goods, whole rupiah.
        price_assessment: Option<Rupiah>,
        /// A starter package: when the price was assessed; today when absent.
        price_assessed_on: Option<Date>,
    }
}

inputs! {
    /// Input of `updateAssistance` (while PLANNED): an absent field keeps its value; an explicit
    /// `null` clears an optional one (`items`, `periodEnd`).
    UpdateAssistanceInput => AssistanceChanges {
        /// The record.
        id: Uuid,
        /// The version the client last read.
        expected_version: i32,
        /// Value.
        amount: Option<Rupiah>,
        /// Goods. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        items: MaybeUndefined<String>,
        /// Period end.
        period_end: MaybeUndefined<Date>,
        /// Fund source. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        fund_source: Option<String>,
        /// A starter package: the person's interest. At most 500 characters.
        #[graphql(validator(chars_max_length = 500))]
        interest: Option<String>,
        /// A starter package: the goods asked for. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        requested_goods: Option<String>,
        /// A starter package: the assessed price of the goods.
        price_assessment: Option<Rupiah>,
        /// A starter package: when the price was assessed.
        price_assessed_on: Option<Date>,
    }
}

/// Input of `disburseAssistance`.
#[derive(InputObject)]
pub struct DisburseAssistanceInput {
    /// The record.
    pub id: Uuid,
    /// The version the client last read.
    pub expected_version: i32,
    /// Date disbursed; defaults to today.
    pub disbursed_on: Option<Date>,
}

payload! {
    /// Result of `createAssistance`.
    CreateAssistancePayload { assistance: Assistance };
    /// Result of `updateAssistance`.
    UpdateAssistancePayload { assistance: Assistance };
    /// Result of an assistance lifecycle move.
    ChangeAssistanceStatusPayload { assistance: Assistance };
}

// Its resolvers may read any of its columns (`columns.rs`): none is declared.
crate::columns::record_columns!(Assistance: assistance::Entity {});

queries! {
    /// Assistance queries.
    AssistanceQuery, guard = "RequireScope(Scope::AssistanceRead)";
    /// One assistance record by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `assistance:read`.
    assistance -> Assistance by assistance::Entity;
    /// Assistance records, newest period first. Needs `assistance:read`.
    assistances(AssistanceFilter, AssistanceOrderBy) = service::list;
}

mutations! {
    /// Assistance mutations.
    AssistanceMutation;
    /// Plans assistance. A starter package (the grant) needs a current decile 1–5 assessment, one per beneficiary per year, its intake (interest, requested goods, price assessment) and room in its regency's allocation for the programme year (`NOT_ELIGIBLE`, `LIMIT_EXCEEDED`, `VALIDATION`). Needs `assistance:write` and an agency that owns assistance records.
    create_assistance(CreateAssistanceInput) -> CreateAssistancePayload = service::create,
        guard = "RequireWrite(EntityType::Assistance)";
    /// Changes planned assistance. Needs `assistance:write` and an agency that owns assistance records.
    update_assistance(UpdateAssistanceInput) -> UpdateAssistancePayload = service::update,
        guard = "RequireWrite(EntityType::Assistance)";
}

moves! {
    /// Assistance lifecycle mutations.
    AssistanceMoves, LIFECYCLE: AssistanceStatus, guard = "RequireWrite(EntityType::Assistance)",
    payload = ChangeAssistanceStatusPayload, service = service::change_status;
    /// PLANNED → DISBURSED. Needs `assistance:write` and an agency that owns assistance records.
    disburse_assistance(DisburseAssistanceInput): [Planned] => Disbursed;
    /// PLANNED → CANCELLED with a reason. Needs `assistance:write` and an agency that owns assistance records.
    cancel_assistance(StatusChangeWithReasonInput): [Planned] => Cancelled, ends;
}

impl From<DisburseAssistanceInput> for StatusChange<Option<chrono::NaiveDate>> {
    fn from(input: DisburseAssistanceInput) -> Self {
        Self {
            id: input.id,
            expected_version: input.expected_version,
            reason: None,
            details: Some(input.disbursed_on.map(|d| d.0).unwrap_or_else(|| Utc::now().date_naive())),
        }
    }
}
