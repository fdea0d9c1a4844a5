//! Market-access and business-development services (layanan pemasaran dan pengembangan usaha)
//! that DISPERINDAGKOP provides to a business: marketing, product registration (PIRT), halal
//! certification, cooperative membership, market or e-commerce placement, coaching.

pub mod service;

use async_graphql::{Context, Enum, InputObject, MaybeUndefined};
use entity::market_service;
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
    policy::RequireWrite,
    records::{EntityType, case_record},
    scalars::Date,
};

plain_as_is!(MarketServiceKind, MarketServiceStatus);

case_record!(market_service, MarketService, beneficiary: |m| Some(m.beneficiary_id), business: |m| Some(m.business_id), status: Status);

/// Kind of service (jenis layanan).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum MarketServiceKind {
    /// Marketing: promotion, branding, product photos (pemasaran). Market access.
    Marketing,
    /// A stall or shelf in a market, shop, bazaar or gallery (gerai, pasar, pameran). Market access.
    MarketPlacement,
    /// A shop on an e-commerce platform or marketplace (toko daring). Market access.
    EcommercePlacement,
    /// Membership of a cooperative (keanggotaan koperasi). Market access.
    CooperativeMembership,
    /// Home-industry food registration (PIRT) or another product registration.
    ProductRegistration,
    /// Halal certification (sertifikasi halal).
    HalalCertification,
    /// Business coaching (pendampingan usaha).
    BusinessCoaching,
}

impl MarketServiceKind {
    /// Whether a completed service of this kind gives the business market access (the
    /// graduation ladder's MARKET_ACCESS criterion).
    pub fn is_market_access(self) -> bool {
        matches!(
            self,
            Self::Marketing | Self::MarketPlacement | Self::EcommercePlacement | Self::CooperativeMembership
        )
    }

    /// The referral services a completed service of this kind answers.
    pub fn answers(self) -> &'static [crate::referral::ReferralService] {
        use crate::referral::ReferralService as S;
        if self.is_market_access() {
            &[S::Marketing, S::BusinessDevelopment]
        } else {
            &[S::BusinessDevelopment]
        }
    }
}

/// Lifecycle status of a service.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum MarketServiceStatus {
    /// Planned (direncanakan).
    Planned,
    /// Under way (berjalan).
    InProgress,
    /// Done, with its result (selesai).
    Completed,
    /// Called off (dibatalkan).
    Cancelled,
}

#[derive(Clone)]
pub struct MarketService {
    pub model: market_service::Model,
}

impl From<market_service::Model> for MarketService {
    fn from(model: market_service::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// A market-access or business-development service DISPERINDAGKOP provides to a business
    /// (layanan pemasaran dan pengembangan usaha). A completed MARKETING, MARKET_PLACEMENT,
    /// ECOMMERCE_PLACEMENT or COOPERATIVE_MEMBERSHIP service is the business's market access on
    /// the graduation ladder; completing any service completes the ACCEPTED referrals to
    /// DISPERINDAGKOP it answers.
    MarketService + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// The business served.
        business_id: Uuid,
        /// Its owner.
        beneficiary_id: Uuid,
        /// Regency/city, Kemendagri code (the business's).
        regency_code: &str,
        /// Kind of service.
        kind: async_graphql::Result<MarketServiceKind>,
        /// Who provides it: the office, the market, the platform, the cooperative (penyelenggara).
        provider: Option<&str>,
        /// What is to be done.
        description: Option<&str>,
        /// When it is planned for.
        planned_on: Option<Date>,
        /// When it started.
        started_on: Option<Date>,
        /// When it was completed.
        completed_on: Option<Date>,
        /// What came of it (hasil): a PIRT or halal certificate number, the stall or online shop,
        /// the cooperative joined.
        result: Option<&str>,
        /// Lifecycle status.
        status: async_graphql::Result<MarketServiceStatus>,
        /// Why it was cancelled (alasan).
        status_reason: Option<&str>,
    }
    /// The business served. Needs `business:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead)")]
    async fn business(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Business>> {
        Loaders::one(ctx, |l| l.business(), self.model.business_id).await
    }
    /// The business's owner. Needs `beneficiary:read`.
    #[graphql(guard = "RequireScope(Scope::BeneficiaryRead)")]
    async fn beneficiary(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Beneficiary>> {
        Loaders::one(ctx, |l| l.beneficiary(), self.model.beneficiary_id).await
    }
}

inputs! {
    /// Filter for market services.
    MarketServiceFilter => MarketServiceCriteria, Default {
        /// Business.
        business_id: Option<Uuid>,
        /// Beneficiary (owner).
        beneficiary_id: Option<Uuid>,
        /// Regencies/cities. At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        regency_codes: Option<Vec<String>>,
        /// Kinds. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        kinds: Option<Vec<MarketServiceKind>>,
        /// Statuses. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        statuses: Option<Vec<MarketServiceStatus>>,
    }
}

order_by!(MarketServiceOrderBy, MarketServiceOrderField, market_service {
    /// Creation time.
    CreatedAt => CreatedAt,
    /// Last change.
    UpdatedAt => UpdatedAt,
});

inputs! {
    /// Input of `createMarketService` (status starts PLANNED).
    CreateMarketServiceInput => NewMarketService {
        /// Optional client-chosen UUID.
        id: Option<Uuid>,
        /// The business served (not PROPOSED, REJECTED or CLOSED).
        business_id: Uuid,
        /// Kind of service.
        kind: MarketServiceKind,
        /// Who provides it. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        provider: Option<String>,
        /// What is to be done. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        description: Option<String>,
        /// When it is planned for.
        planned_on: Option<Date>,
    }
}

inputs! {
    /// Input of `updateMarketService` (while PLANNED or IN_PROGRESS): an absent field keeps its
    /// value; an explicit `null` clears it.
    UpdateMarketServiceInput => MarketServiceChanges {
        /// The record.
        id: Uuid,
        /// The version the client last read.
        expected_version: i32,
        /// Who provides it. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        provider: MaybeUndefined<String>,
        /// What is to be done. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        description: MaybeUndefined<String>,
        /// When it is planned for.
        planned_on: MaybeUndefined<Date>,
    }
}

/// Input of `completeMarketService`: IN_PROGRESS → COMPLETED with what came of it.
#[derive(InputObject)]
pub struct CompleteMarketServiceInput {
    /// The record.
    pub id: Uuid,
    /// The version the client last read.
    pub expected_version: i32,
    /// What came of it: the certificate number, the stall or shop, the cooperative. Required, at
    /// most 2000 characters.
    #[graphql(validator(chars_max_length = 2000))]
    pub result: String,
    /// The day it was completed (not in the future, not before it started); today when absent.
    pub completed_on: Option<Date>,
}

/// What a move records with it.
#[derive(Default)]
pub struct Outcome {
    pub result: Option<String>,
    pub completed_on: Option<chrono::NaiveDate>,
}

impl From<CompleteMarketServiceInput> for StatusChange<Outcome> {
    fn from(input: CompleteMarketServiceInput) -> Self {
        Self {
            id: input.id,
            expected_version: input.expected_version,
            reason: None,
            details: Outcome { result: Some(input.result), completed_on: input.completed_on.map(|d| d.0) },
        }
    }
}

payload! {
    /// Result of `createMarketService`.
    CreateMarketServicePayload { market_service: MarketService };
    /// Result of `updateMarketService`.
    UpdateMarketServicePayload { market_service: MarketService };
    /// Result of a market-service move.
    ChangeMarketServicePayload { market_service: MarketService };
}

// Its resolvers may read any of its columns (`columns.rs`): none is declared.
crate::columns::record_columns!(MarketService: market_service::Entity {});

queries! {
    /// Market-service queries.
    MarketQuery, guard = "RequireScope(Scope::BusinessRead)";
    /// One service by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `business:read`.
    market_service -> MarketService by market_service::Entity;
    /// Services, newest first. Needs `business:read`.
    market_services(MarketServiceFilter, MarketServiceOrderBy) = service::list;
}

mutations! {
    /// Market-service mutations.
    MarketMutation;
    /// Plans a service for a business. Needs `business:write` and an agency that owns market-service records (DISPERINDAGKOP).
    create_market_service(CreateMarketServiceInput) -> CreateMarketServicePayload = service::create,
        guard = "RequireWrite(EntityType::MarketService)";
    /// Changes a service's details while PLANNED or IN_PROGRESS. Needs `business:write` and an agency that owns market-service records.
    update_market_service(UpdateMarketServiceInput) -> UpdateMarketServicePayload = service::update,
        guard = "RequireWrite(EntityType::MarketService)";
}

moves! {
    /// Market-service lifecycle mutations.
    MarketMoves, LIFECYCLE: MarketServiceStatus,
    guard = "RequireWrite(EntityType::MarketService)",
    payload = ChangeMarketServicePayload, service = service::change_status;
    /// PLANNED → IN_PROGRESS, recording the day it started (today). Needs `business:write` and an agency that owns market-service records.
    start_market_service(StatusChangeInput): [Planned] => InProgress;
    /// IN_PROGRESS → COMPLETED with its result; completes the ACCEPTED referrals to the agency it answers (MARKETING and BUSINESS_DEVELOPMENT for the market-access kinds, BUSINESS_DEVELOPMENT for the others) and may lift the business's level. Needs `business:write` and an agency that owns market-service records.
    complete_market_service(CompleteMarketServiceInput): [InProgress] => Completed;
    /// PLANNED/IN_PROGRESS → CANCELLED with a reason. Needs `business:write` and an agency that owns market-service records.
    cancel_market_service(StatusChangeWithReasonInput): [Planned, InProgress] => Cancelled, ends;
}
