//! Loan applications (pengajuan pinjaman: KUR, cooperative, revolving fund) by DISPERINDAGKOP.

pub mod service;

use async_graphql::{Context, Enum, InputObject};
use entity::loan_application;
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use crate::{
    auth::{RequireScope, Scope},
    business::Business,
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

plain_as_is!(LoanProduct, LoanStatus);

case_record!(loan_application, LoanApplication, beneficiary: |m| Some(m.beneficiary_id), business: |m| Some(m.business_id), status: Status);

/// Loan product.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum LoanProduct {
    /// KUR Super Mikro (≤ Rp10 million by default).
    KurSuperMicro,
    /// KUR Mikro (≤ Rp100 million by default).
    KurMicro,
    /// KUR Kecil (≤ Rp500 million by default, with collateral).
    KurSmall,
    /// Cooperative loan (pinjaman koperasi).
    Cooperative,
    /// Revolving fund (dana bergulir).
    RevolvingFund,
    /// Other.
    Other,
}

impl LoanProduct {
    /// Whether this is a Kredit Usaha Rakyat product.
    pub fn is_kur(self) -> bool {
        matches!(self, Self::KurSuperMicro | Self::KurMicro | Self::KurSmall)
    }
}

/// Lifecycle status of a loan application.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum LoanStatus {
    /// Being prepared (draf).
    Draft,
    /// Submitted to the lender (diajukan).
    Submitted,
    /// Under the lender's review (ditinjau).
    UnderReview,
    /// Approved (disetujui).
    Approved,
    /// Money disbursed (dicairkan).
    Disbursed,
    /// Rejected (ditolak).
    Rejected,
    /// Withdrawn by the applicant (dibatalkan).
    Withdrawn,
}

#[derive(Clone)]
pub struct LoanApplication {
    pub model: loan_application::Model,
}

impl From<loan_application::Model> for LoanApplication {
    fn from(model: loan_application::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// A loan application (pengajuan pinjaman) for a business.
    LoanApplication + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// The business applying.
        business_id: Uuid,
        /// The business owner's beneficiary id.
        beneficiary_id: Uuid,
        /// Regency/city, Kemendagri code.
        regency_code: &str,
        /// Product.
        product: async_graphql::Result<LoanProduct>,
        /// Lender (penyalur), e.g. a bank or cooperative.
        lender: &str,
        /// Amount requested (plafon diajukan).
        requested_amount: Rupiah,
        /// Amount approved (plafon disetujui).
        approved_amount: Option<Rupiah>,
        /// Tenor in months (jangka waktu).
        tenor_months: i32,
        /// Collateral offered (agunan).
        has_collateral: bool,
        /// The lender's conditions of approval.
        decision_reason: Option<&str>,
        /// Why it was rejected or withdrawn (alasan).
        status_reason: Option<&str>,
        /// Lifecycle status.
        status: async_graphql::Result<LoanStatus>,
    }
    /// The business. Needs `business:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead)")]
    async fn business(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Business>> {
        Loaders::one(ctx, |l| l.business(), self.model.business_id).await
    }
}

inputs! {
    /// Filter for loan applications.
    LoanApplicationFilter => LoanCriteria, Default {
        /// Business.
        business_id: Option<Uuid>,
        /// Beneficiary.
        beneficiary_id: Option<Uuid>,
        /// Regencies/cities. At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        regency_codes: Option<Vec<String>>,
        /// Products. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        products: Option<Vec<LoanProduct>>,
        /// Statuses. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        statuses: Option<Vec<LoanStatus>>,
    }
}

order_by!(LoanApplicationOrderBy, LoanApplicationOrderField, loan_application {
    /// Amount requested.
    RequestedAmount => RequestedAmount,
    /// Creation time.
    CreatedAt => CreatedAt,
    /// Last change.
    UpdatedAt => UpdatedAt,
});

inputs! {
    /// Input of `createLoanApplication` (status starts DRAFT).
    CreateLoanApplicationInput => NewLoanApplication {
        /// Optional client-chosen UUID.
        id: Option<Uuid>,
        /// The business.
        business_id: Uuid,
        /// Product.
        product: LoanProduct,
        /// Lender. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        lender: String,
        /// Amount requested; within the product's limit.
        requested_amount: Rupiah,
        /// Tenor in months.
        tenor_months: i32,
        /// Collateral offered (required for KUR Kecil).
        #[graphql(default)]
        has_collateral: bool,
    }
}

inputs! {
    /// Input of `updateLoanApplication` (while DRAFT): an absent field keeps its value.
    UpdateLoanApplicationInput => LoanChanges {
        /// The record.
        id: Uuid,
        /// The version the client last read.
        expected_version: i32,
        /// Lender. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        lender: Option<String>,
        /// Amount requested.
        requested_amount: Option<Rupiah>,
        /// Tenor in months.
        tenor_months: Option<i32>,
        /// Collateral offered.
        has_collateral: Option<bool>,
    }
}

/// Input of `approveLoan`.
#[derive(InputObject)]
pub struct ApproveLoanInput {
    /// The record.
    pub id: Uuid,
    /// The version the client last read.
    pub expected_version: i32,
    /// Amount approved; within the product's limit.
    pub approved_amount: Rupiah,
    /// Reason or conditions. At most 2000 characters.
    #[graphql(validator(chars_max_length = 2000))]
    pub reason: Option<String>,
}

payload! {
    /// Result of `createLoanApplication`.
    CreateLoanApplicationPayload { loan_application: LoanApplication };
    /// Result of `updateLoanApplication`.
    UpdateLoanApplicationPayload { loan_application: LoanApplication };
    /// Result of a loan lifecycle move.
    ChangeLoanStatusPayload { loan_application: LoanApplication };
}

// What its resolvers read of its text columns (`columns.rs`); any other may read all.
crate::columns::record_columns!(LoanApplication: loan_application::Entity {
    "business": [],
});

queries! {
    /// Loan queries.
    LoanQuery, guard = "RequireScope(Scope::LoanRead)";
    /// One loan application by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `loan:read`.
    loan_application -> LoanApplication by loan_application::Entity;
    /// Loan applications, newest first. Needs `loan:read`.
    loan_applications(LoanApplicationFilter, LoanApplicationOrderBy) = service::list;
}

mutations! {
    /// Loan mutations.
    LoanMutation;
    /// Drafts a loan application within the product's limit. Needs `loan:write` and an agency that owns loan-application records.
    create_loan_application(CreateLoanApplicationInput) -> CreateLoanApplicationPayload = service::create,
        guard = "RequireWrite(EntityType::LoanApplication)";
    /// Changes a draft. Needs `loan:write` and an agency that owns loan-application records.
    update_loan_application(UpdateLoanApplicationInput) -> UpdateLoanApplicationPayload = service::update,
        guard = "RequireWrite(EntityType::LoanApplication)";
}

moves! {
    /// Loan lifecycle mutations. Each needs `loan:write` and an agency that owns loan-application records.
    LoanMoves, LIFECYCLE: LoanStatus, guard = "RequireWrite(EntityType::LoanApplication)",
    payload = ChangeLoanStatusPayload, service = service::change_status;
    /// DRAFT → SUBMITTED; KUR needs a business running ≥ 6 months, or ≥ 3 months after completed
    /// training (configurable). Needs `loan:write` and an agency that owns loan-application records.
    submit_loan_application(StatusChangeInput): [Draft] => Submitted;
    /// SUBMITTED → UNDER_REVIEW. Needs `loan:write` and an agency that owns loan-application records.
    start_loan_review(StatusChangeInput): [Submitted] => UnderReview;
    /// UNDER_REVIEW → APPROVED with the approved amount. Needs `loan:write` and an agency that owns loan-application records.
    approve_loan(ApproveLoanInput): [UnderReview] => Approved;
    /// SUBMITTED/UNDER_REVIEW → REJECTED with a reason. Needs `loan:write` and an agency that owns loan-application records.
    reject_loan(StatusChangeWithReasonInput): [Submitted, UnderReview] => Rejected, ends;
    /// APPROVED → DISBURSED. Needs `loan:write` and an agency that owns loan-application records.
    disburse_loan(StatusChangeInput): [Approved] => Disbursed;
    /// DRAFT/SUBMITTED/UNDER_REVIEW/APPROVED → WITHDRAWN with a reason. Needs `loan:write` and an agency that owns loan-application records.
    withdraw_loan_application(StatusChangeWithReasonInput): [Draft, Submitted, UnderReview, Approved] => Withdrawn, ends;
}

/// What an approval records besides the status.
#[derive(Default)]
pub struct LoanDecision {
    pub approved_amount: Option<i64>,
    pub conditions: Option<String>,
}

impl From<ApproveLoanInput> for StatusChange<LoanDecision> {
    fn from(input: ApproveLoanInput) -> Self {
        Self {
            id: input.id,
            expected_version: input.expected_version,
            reason: None,
            details: LoanDecision {
                approved_amount: Some(input.approved_amount.0),
                conditions: input.reason,
            },
        }
    }
}
