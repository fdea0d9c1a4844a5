//! Infrastructure requests (permohonan infrastruktur) handled by PUPR: RTLH housing, sanitation,
//! clean water, electricity.

pub mod service;

use async_graphql::{Context, Enum, InputObject, MaybeUndefined};
use entity::infrastructure_request;
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use crate::{
    auth::{RequireScope, Scope},
    beneficiary::Beneficiary,
    command::{inputs, mutations, plain_as_is},
    error::payload,
    loaders::Loaders,
    moves::{StatusChange, StatusChangeInput, StatusChangeWithReasonInput, moves},
    object::record_object,
    page::{order_by, queries},
    policy::RequireWrite,
    records::{EntityType, case_record},
    scalars::Rupiah,
};

plain_as_is!(InfrastructureKind, InfrastructureStatus);

case_record!(infrastructure_request, InfrastructureRequest, beneficiary: |m| Some(m.beneficiary_id), business: |_m| None, status: Status);

/// Kind of infrastructure.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum InfrastructureKind {
    /// Livable-housing renovation (Rumah Tidak Layak Huni, RTLH).
    LivableHousing,
    /// Sanitation (sanitasi, jamban).
    Sanitation,
    /// Clean water (air bersih).
    CleanWater,
    /// Electricity connection (listrik).
    Electricity,
    /// Other.
    Other,
}

/// Lifecycle status of an infrastructure request.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum InfrastructureStatus {
    /// Submitted (diajukan).
    Submitted,
    /// Surveyed on site (disurvei).
    Surveyed,
    /// Approved (disetujui).
    Approved,
    /// Works under way (dikerjakan).
    InProgress,
    /// Done (selesai).
    Completed,
    /// Rejected (ditolak).
    Rejected,
}

#[derive(Clone)]
pub struct InfrastructureRequest {
    pub model: infrastructure_request::Model,
}

impl From<infrastructure_request::Model> for InfrastructureRequest {
    fn from(model: infrastructure_request::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// A household's infrastructure request. For RTLH it records the programme's gates: proof of
    /// land, the only house, no housing aid in the last 10 years.
    InfrastructureRequest + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// Beneficiary (household) id.
        beneficiary_id: Uuid,
        /// Regency/city, Kemendagri code.
        regency_code: &str,
        /// District, Kemendagri code.
        district_code: &str,
        /// Village, Kemendagri code.
        village_code: Option<&str>,
        /// Kind.
        kind: async_graphql::Result<InfrastructureKind>,
        /// Location description (lokasi).
        location: Option<&str>,
        /// Estimated cost (perkiraan biaya).
        estimated_cost: Option<Rupiah>,
        /// Survey notes (catatan survei).
        survey_notes: Option<&str>,
        /// RTLH gate: proof of land ownership (bukti kepemilikan lahan).
        has_land_proof: Option<bool>,
        /// RTLH gate: the household's only house (satu-satunya rumah).
        is_only_house: Option<bool>,
        /// RTLH gate: housing aid received in the last 10 years (must be false).
        housing_aid_last_10_years: Option<bool>,
        /// Lifecycle status.
        status: async_graphql::Result<InfrastructureStatus>,
        /// Why it was rejected (alasan).
        status_reason: Option<&str>,
    }
    /// Reason for rejection (recorded before `statusReason` existed).
    #[graphql(deprecation = "use statusReason")]
    async fn decision_reason(&self) -> Option<&str> {
        self.model.status_reason.as_deref().or(self.model.decision_reason.as_deref())
    }
    /// The household's beneficiary. Needs `beneficiary:read`.
    #[graphql(guard = "RequireScope(Scope::BeneficiaryRead)")]
    async fn beneficiary(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Beneficiary>> {
        Loaders::one(ctx, |l| l.beneficiary(), self.model.beneficiary_id).await
    }
}

inputs! {
    /// Filter for infrastructure requests.
    InfrastructureRequestFilter => InfrastructureCriteria, Default {
        /// Beneficiary.
        beneficiary_id: Option<Uuid>,
        /// Regencies/cities. At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        regency_codes: Option<Vec<String>>,
        /// Kinds. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        kinds: Option<Vec<InfrastructureKind>>,
        /// Statuses. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        statuses: Option<Vec<InfrastructureStatus>>,
    }
}

order_by!(InfrastructureRequestOrderBy, InfrastructureRequestOrderField, infrastructure_request {
    /// Estimated cost.
    EstimatedCost => EstimatedCost,
    /// Submission time.
    CreatedAt => CreatedAt,
    /// Last change.
    UpdatedAt => UpdatedAt,
});

inputs! {
    /// Input of `createInfrastructureRequest` (status starts SUBMITTED).
    CreateInfrastructureRequestInput => NewInfrastructureRequest {
        /// Optional client-chosen UUID.
        id: Option<Uuid>,
        /// Beneficiary (household).
        beneficiary_id: Uuid,
        /// Kind.
        kind: InfrastructureKind,
        /// Location description; the beneficiary's district is used for the codes. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        location: Option<String>,
        /// Estimated cost.
        estimated_cost: Option<Rupiah>,
        /// RTLH gate: proof of land.
        has_land_proof: Option<bool>,
        /// RTLH gate: the only house.
        is_only_house: Option<bool>,
        /// RTLH gate: housing aid in the last 10 years.
        housing_aid_last_10_years: Option<bool>,
    }
}

/// Input of `surveyInfrastructureRequest`: SUBMITTED → SURVEYED with the findings.
#[derive(InputObject)]
pub struct SurveyInfrastructureRequestInput {
    /// The record.
    pub id: Uuid,
    /// The version the client last read.
    pub expected_version: i32,
    /// Survey notes. At most 2000 characters.
    #[graphql(validator(chars_max_length = 2000))]
    pub survey_notes: String,
    /// Estimated cost after the survey.
    pub estimated_cost: Option<Rupiah>,
    /// RTLH gate: proof of land.
    pub has_land_proof: Option<bool>,
    /// RTLH gate: the only house.
    pub is_only_house: Option<bool>,
    /// RTLH gate: housing aid in the last 10 years.
    pub housing_aid_last_10_years: Option<bool>,
}

inputs! {
    /// Input of `updateInfrastructureRequest` (while SUBMITTED or SURVEYED): an absent field keeps
    /// its value; an explicit `null` clears an optional one (`location`, `estimatedCost`,
    /// `hasLandProof`, `isOnlyHouse`, `housingAidLast10Years`).
    UpdateInfrastructureRequestInput => InfrastructureChanges {
        /// The record.
        id: Uuid,
        /// The version the client last read.
        expected_version: i32,
        /// Location description. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        location: MaybeUndefined<String>,
        /// Estimated cost.
        estimated_cost: MaybeUndefined<Rupiah>,
        /// RTLH gate: proof of land.
        has_land_proof: MaybeUndefined<bool>,
        /// RTLH gate: the only house.
        is_only_house: MaybeUndefined<bool>,
        /// RTLH gate: housing aid in the last 10 years.
        housing_aid_last_10_years: MaybeUndefined<bool>,
    }
}

payload! {
    /// Result of `updateInfrastructureRequest`.
    UpdateInfrastructureRequestPayload { infrastructure_request: InfrastructureRequest };
    /// Result of `createInfrastructureRequest`.
    CreateInfrastructureRequestPayload { infrastructure_request: InfrastructureRequest };
    /// Result of an infrastructure-request change.
    ChangeInfrastructureRequestPayload { infrastructure_request: InfrastructureRequest };
}

// Its resolvers may read any of its columns (`columns.rs`): none is declared.
crate::columns::record_columns!(InfrastructureRequest: infrastructure_request::Entity {});

queries! {
    /// Infrastructure queries.
    InfrastructureQuery, guard = "RequireScope(Scope::InfrastructureRead)";
    /// One request by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `infrastructure:read`.
    infrastructure_request -> InfrastructureRequest by infrastructure_request::Entity;
    /// Requests, newest first. Needs `infrastructure:read`.
    infrastructure_requests(InfrastructureRequestFilter, InfrastructureRequestOrderBy) = service::list;
}

mutations! {
    /// Infrastructure mutations.
    InfrastructureMutation;
    /// Submits a request for a household. Needs `infrastructure:write` and an agency that owns infrastructure-request records.
    create_infrastructure_request(CreateInfrastructureRequestInput) -> CreateInfrastructureRequestPayload = service::create,
        guard = "RequireWrite(EntityType::InfrastructureRequest)";
    /// Changes a request's details while SUBMITTED or SURVEYED. Needs `infrastructure:write` and an agency that owns infrastructure-request records.
    update_infrastructure_request(UpdateInfrastructureRequestInput) -> UpdateInfrastructureRequestPayload = service::update,
        guard = "RequireWrite(EntityType::InfrastructureRequest)";
}

moves! {
    /// Infrastructure-request lifecycle mutations.
    InfrastructureMoves, LIFECYCLE: InfrastructureStatus,
    guard = "RequireWrite(EntityType::InfrastructureRequest)",
    payload = ChangeInfrastructureRequestPayload, service = service::change_status;
    /// SUBMITTED → SURVEYED, recording notes, cost and the RTLH gates. Needs `infrastructure:write` and an agency that owns infrastructure-request records.
    survey_infrastructure_request(SurveyInfrastructureRequestInput): [Submitted] => Surveyed;
    /// SURVEYED → APPROVED; an RTLH request needs all three gates met. Needs `infrastructure:write` and an agency that owns infrastructure-request records.
    approve_infrastructure_request(StatusChangeInput): [Surveyed] => Approved;
    /// APPROVED → IN_PROGRESS. Needs `infrastructure:write` and an agency that owns infrastructure-request records.
    start_infrastructure_work(StatusChangeInput): [Approved] => InProgress;
    /// IN_PROGRESS → COMPLETED. Needs `infrastructure:write` and an agency that owns infrastructure-request records.
    complete_infrastructure_request(StatusChangeInput): [InProgress] => Completed;
    /// SUBMITTED/SURVEYED → REJECTED with a reason. Needs `infrastructure:write` and an agency that owns infrastructure-request records.
    reject_infrastructure_request(StatusChangeWithReasonInput): [Submitted, Surveyed] => Rejected, ends;
}

impl From<SurveyInfrastructureRequestInput> for StatusChange<service::Findings> {
    fn from(input: SurveyInfrastructureRequestInput) -> Self {
        Self {
            id: input.id,
            expected_version: input.expected_version,
            reason: None,
            details: service::Findings {
                survey_notes: Some(input.survey_notes),
                estimated_cost: input.estimated_cost.map(|c| c.0),
                has_land_proof: input.has_land_proof,
                is_only_house: input.is_only_house,
                housing_aid_last_10_years: input.housing_aid_last_10_years,
            },
        }
    }
}
