//! Businesses (usaha): GraphQL types, queries and mutations.

pub mod service;

use async_graphql::{Context, Enum, InputObject, MaybeUndefined};

use chrono::Utc;
use entity::business;
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use crate::{
    auth::{RequireScope, Scope},
    beneficiary::Beneficiary,
    command::{inputs, mutations, plain_as_is},
    error::payload,
    loaders::Loaders,
    loan::LoanApplication,
    monitoring::MonitoringVisit,
    moves::{StatusChange, StatusChangeInput, StatusChangeWithReasonInput, moves},
    object::record_object,
    page::{Page, order_by, queries},
    policy::RequireWrite,
    records::{EntityType, case_record},
    referral::Referral,
    scalars::{Date, Rupiah},
};

case_record!(business, Business, beneficiary: |m| Some(m.beneficiary_id), business: |m| Some(m.id), status: Status);

/// Lifecycle status of a business.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum BusinessStatus {
    /// Proposed after the assessment (diusulkan).
    Proposed,
    /// Approved for a starter package (disetujui).
    Approved,
    /// Starter package delivered (paket diserahkan).
    Equipped,
    /// Running (berjalan).
    Running,
    /// Stalled (macet), seen on a visit.
    Stalled,
    /// Closed (tutup).
    Closed,
    /// Levelled up (naik kelas).
    Graduated,
    /// Proposal rejected (ditolak).
    Rejected,
}

/// Business sector (sektor usaha).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum BusinessSector {
    /// Food (makanan).
    Food,
    /// Drinks (minuman).
    Beverage,
    /// Fried snacks (gorengan).
    FriedSnacks,
    /// Cakes (kue).
    Cakes,
    /// Chicken farming (ternak ayam).
    Poultry,
    /// Motorbike repair (bengkel motor).
    MotorbikeRepair,
    /// Grocery stall (warung kelontong).
    Grocery,
    /// Tailoring (jahit).
    Tailoring,
    /// Crafts (kerajinan).
    Craft,
    /// Fishery (perikanan).
    Fishery,
    /// Agriculture (pertanian).
    Agriculture,
    /// Services (jasa).
    Services,
    /// Other (lainnya).
    Other,
}

plain_as_is!(BusinessStatus, BusinessSector);

#[derive(Clone)]
pub struct Business {
    pub model: business::Model,
}

impl From<business::Model> for Business {
    fn from(model: business::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// A business (usaha) of a beneficiary, started or restarted with a starter package.
    Business + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// Owner's beneficiary id.
        beneficiary_id: Uuid,
        /// Regency/city of the owner, Kemendagri code.
        regency_code: &str,
        /// Business name (nama usaha).
        name: &str,
        /// Sector.
        sector: async_graphql::Result<BusinessSector>,
        /// An earlier business of the owner stopped (priority group).
        previously_stopped: bool,
        /// Why the earlier business stopped (e.g. the pandemic).
        stop_cause: Option<&str>,
        /// NIB (Nomor Induk Berusaha), the business registration number.
        nib: Option<&str>,
        /// Monthly revenue (omzet per bulan).
        monthly_revenue: Option<Rupiah>,
        /// Workers besides the owner (tenaga kerja).
        workers: i32,
        /// Agency leading the business's development (e.g. DINSOS, DISPERINDAGKOP).
        lead_agency: &str,
        /// Date the business started running.
        started_on: Option<Date>,
        /// Lifecycle status.
        status: async_graphql::Result<BusinessStatus>,
        /// Why it was rejected or closed (alasan).
        status_reason: Option<&str>,
        /// The day the status last changed; a visit made before it moves nothing.
        status_changed_on: Option<Date>,
        /// A monitoring visit that observed the business closed (usulan penutupan): the owning
        /// agency confirms with `closeBusiness` or rejects with `rejectBusinessClosure`.
        #[graphql(name = "closureProposedByVisitId")]
        closure_proposed_by_visit: Option<Uuid>,
        /// The day of that visit.
        closure_proposed_on: Option<Date>,
        /// The day it last graduated (naik kelas). Kept when a graduated business later stalls or
        /// closes — a relapse, which `programmeStatistics` counts (`relapsed`) — and set anew
        /// when it graduates again.
        graduated_on: Option<Date>,
        /// Graduation level (naik kelas) on the configured ladder, 0 before its first rung; kept
        /// up to date by every write that touches its evidence (each change a `LEVEL_CHANGED`
        /// case event; the gateway's own reading, so it leaves `version` as it is).
        /// `graduationReadiness` shows why.
        level: i32,
        /// The volunteer assigned to visit it (`assignVolunteer`).
        volunteer_id: Option<Uuid>,
    }
    /// The volunteer assigned to visit it. Needs `monitoring:read`.
    #[graphql(guard = "RequireScope(Scope::MonitoringRead)")]
    async fn volunteer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<crate::volunteer::Volunteer>> {
        match self.model.volunteer_id {
            Some(id) => Loaders::one(ctx, |l| l.volunteer(), id).await,
            None => Ok(None),
        }
    }
    /// Where the business stands on the graduation ladder, criterion by criterion with the
    /// record that shows each (computed on request: several statements per business).
    async fn graduation_readiness(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::programme::GraduationReadiness> {
        crate::programme::readiness(ctx, &self.model).await
    }
    /// The owner. Needs `beneficiary:read`.
    #[graphql(guard = "RequireScope(Scope::BeneficiaryRead)")]
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Beneficiary>> {
        Loaders::one(ctx, |l| l.beneficiary(), self.model.beneficiary_id).await
    }
    /// Market-access and business-development services for this business (layanan pemasaran
    /// dan pengembangan usaha). Needs `business:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead)")]
    async fn market_services(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<crate::market::MarketService>>> {
        Loaders::children(ctx, |l| l.market_services_by_business(), self.model.id).await.map(Some)
    }
    /// Loan applications for this business. Needs `loan:read`.
    #[graphql(guard = "RequireScope(Scope::LoanRead)")]
    async fn loans(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<LoanApplication>>> {
        Loaders::children(ctx, |l| l.loans_by_business(), self.model.id).await.map(Some)
    }
    /// Monitoring visits, newest first. Needs `monitoring:read`.
    #[graphql(guard = "RequireScope(Scope::MonitoringRead)")]
    async fn monitoring_visits(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Sort order, ties broken by id; newest visit first when absent.")] order_by: Option<
            crate::monitoring::MonitoringVisitOrderBy,
        >,
        #[graphql(
            validator(minimum = 0, maximum = 100),
            desc = "How many records to return: at most 100; 20 when absent."
        )]
        first: Option<i32>,
        #[graphql(desc = "Return the records after this cursor: the previous page's `pageInfo.endCursor`.")]
        after: Option<String>,
    ) -> async_graphql::Result<Option<Page<MonitoringVisit>>> {
        crate::monitoring::visits_of(ctx, |l| l.visits_by_business(), self.model.id, order_by, first, after)
            .await.map(Some)
    }
    /// Referrals about this business. Needs `referral:read`.
    #[graphql(guard = "RequireScope(Scope::ReferralRead)")]
    async fn referrals(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Referral>>> {
        Loaders::children(ctx, |l| l.referrals_by_business(), self.model.id).await.map(Some)
    }
}

inputs! {
    /// Filter for businesses.
    BusinessFilter => BusinessCriteria, Default {
        /// Owner.
        beneficiary_id: Option<Uuid>,
        /// Regencies/cities. At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        regency_codes: Option<Vec<String>>,
        /// Statuses. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        statuses: Option<Vec<BusinessStatus>>,
        /// Sectors. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        sectors: Option<Vec<BusinessSector>>,
        /// Lead agency. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        lead_agency: Option<String>,
        /// Only businesses with (true) or without (false) a closure proposed by a visit: the owning
        /// agency's work list.
        closure_proposed: Option<bool>,
        /// Case-insensitive text in the business name. At most 100 characters.
        #[graphql(validator(chars_max_length = 100))]
        name_contains: Option<String>,
        /// Started on or after.
        started_from: Option<Date>,
        /// Started on or before.
        started_to: Option<Date>,
        /// Only the programme year's cohort (kohort): the businesses a starter package of that
        /// year names, or the owner's businesses when it names none — the businesses
        /// `programmeStatistics(year)` counts. 2000–2100.
        #[graphql(validator(minimum = 2000, maximum = 2100))]
        cohort_year: Option<i32>,
    }
}

order_by!(BusinessOrderBy, BusinessOrderField, business {
    /// Name.
    Name => Name,
    /// Start date.
    StartedOn => StartedOn,
    /// Monthly revenue.
    MonthlyRevenue => MonthlyRevenue,
    /// Creation time.
    CreatedAt => CreatedAt,
    /// Last change.
    UpdatedAt => UpdatedAt,
});

inputs! {
    /// Input of `createBusiness` (status starts PROPOSED).
    CreateBusinessInput => NewBusiness {
        /// Optional client-chosen UUID.
        id: Option<Uuid>,
        /// Owner.
        beneficiary_id: Uuid,
        /// Name. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        name: String,
        /// Sector.
        sector: BusinessSector,
        /// An earlier business stopped.
        #[graphql(default)]
        previously_stopped: bool,
        /// Why it stopped. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        stop_cause: Option<String>,
        /// NIB. At most 20 characters.
        #[graphql(validator(chars_max_length = 20))]
        nib: Option<String>,
        /// Monthly revenue.
        monthly_revenue: Option<Rupiah>,
        /// Workers besides the owner.
        #[graphql(default)]
        workers: i32,
        /// Lead agency; defaults to the caller's agency. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        lead_agency: Option<String>,
    }
}

inputs! {
    /// Input of `updateBusiness`: an absent field keeps its value; an explicit `null` clears an
    /// optional one (`stopCause`, `nib`, `monthlyRevenue`).
    UpdateBusinessInput => BusinessChanges {
        /// The record.
        id: Uuid,
        /// The version the client last read.
        expected_version: i32,
        /// Name. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        name: Option<String>,
        /// Sector.
        sector: Option<BusinessSector>,
        /// Why an earlier business stopped. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        stop_cause: MaybeUndefined<String>,
        /// NIB. At most 20 characters.
        #[graphql(validator(chars_max_length = 20))]
        nib: MaybeUndefined<String>,
        /// Monthly revenue.
        monthly_revenue: MaybeUndefined<Rupiah>,
        /// Workers.
        workers: Option<i32>,
        /// Lead agency. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        lead_agency: Option<String>,
    }
}

/// Input of `startBusiness`.
#[derive(InputObject)]
pub struct StartBusinessInput {
    /// The record.
    pub id: Uuid,
    /// The version the client last read.
    pub expected_version: i32,
    /// Date it started running; defaults to today.
    pub started_on: Option<Date>,
}

payload! {
    /// Result of `createBusiness`.
    CreateBusinessPayload { business: Business };
    /// Result of `updateBusiness`.
    UpdateBusinessPayload { business: Business };
    /// Result of a business lifecycle move.
    ChangeBusinessStatusPayload { business: Business };
}

// What its resolvers read of its text columns (`columns.rs`); any other may read all.
crate::columns::record_columns!(Business: business::Entity {
    "volunteer": [],
    "owner": [],
    "marketServices": [],
    "loans": [],
    "monitoringVisits": [],
    "referrals": [],
});

queries! {
    /// Business queries.
    BusinessQuery, guard = "RequireScope(Scope::BusinessRead)";
    /// One business by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `business:read`.
    business -> Business by business::Entity;
    /// Businesses, filtered and sorted. Needs `business:read`.
    businesses(BusinessFilter, BusinessOrderBy) = service::list, prefetch = crate::loaders::prefetch_businesses;
}

mutations! {
    /// Business mutations.
    BusinessMutation;
    /// Proposes a business for a beneficiary (PROPOSED). Needs `business:write` and an agency that owns business records.
    create_business(CreateBusinessInput) -> CreateBusinessPayload = service::create,
        guard = "RequireWrite(EntityType::Business)";
    /// Changes a business's details. Needs `business:write`; an agency that does not own
    /// businesses (e.g. DISPERINDAGKOP) may change only the development fields: `nib`,
    /// `monthlyRevenue`, `workers`, `leadAgency`.
    update_business(UpdateBusinessInput) -> UpdateBusinessPayload = service::update,
        guard = "RequireScope(Scope::BusinessWrite)";
    /// Rejects a closure a monitoring visit proposed, with a reason (kept in the case event); the
    /// business stays as it is. Needs `business:write` and an agency that owns business records.
    reject_business_closure(StatusChangeWithReasonInput) -> ChangeBusinessStatusPayload = service::reject_closure,
        guard = "RequireWrite(EntityType::Business)";
}

moves! {
    /// Business lifecycle mutations.
    BusinessMoves, LIFECYCLE: BusinessStatus, guard = "RequireWrite(EntityType::Business)",
    payload = ChangeBusinessStatusPayload, service = service::change_status;
    /// PROPOSED → APPROVED. Needs `business:write` and an agency that owns business records.
    approve_business(StatusChangeInput): [Proposed] => Approved;
    /// PROPOSED → REJECTED with a reason. Needs `business:write` and an agency that owns business records.
    reject_business(StatusChangeWithReasonInput): [Proposed] => Rejected, ends;
    /// APPROVED → EQUIPPED: the starter package was delivered — `NOT_ELIGIBLE` unless a disbursed starter package names this business (or one of the owner's names no business). Needs `business:write` and an agency that owns business records.
    equip_business(StatusChangeInput): [Approved] => Equipped;
    /// EQUIPPED → RUNNING, recording the start date (not in the future). Needs `business:write` and an agency that owns business records.
    start_business(StartBusinessInput): [Equipped] => Running;
    /// RUNNING → STALLED (macet); also GRADUATED → STALLED, a relapse (`graduatedOn` is kept). Needs `business:write` and an agency that owns business records.
    stall_business(StatusChangeInput): [Running, Graduated] => Stalled;
    /// STALLED → RUNNING: the business recovered. Needs `business:write` and an agency that owns business records.
    resume_business(StatusChangeInput): [Stalled] => Running;
    /// RUNNING/STALLED/GRADUATED → CLOSED with a reason; confirms a closure a visit proposed. A graduated business that closes keeps `graduatedOn` (a relapse). Needs `business:write` and an agency that owns business records.
    close_business(StatusChangeWithReasonInput): [Running, Stalled, Graduated] => Closed, ends;
    /// RUNNING → GRADUATED: the business levelled up (naik kelas) — `NOT_ELIGIBLE`, listing the unmet criteria, unless every criterion of the graduation ladder is met (`graduationReadiness.ready`). Needs `business:write` and an agency that owns business records.
    graduate_business(StatusChangeInput): [Running] => Graduated;
}

impl From<StartBusinessInput> for StatusChange<Option<chrono::NaiveDate>> {
    fn from(input: StartBusinessInput) -> Self {
        Self {
            id: input.id,
            expected_version: input.expected_version,
            reason: None,
            details: Some(input.started_on.map(|d| d.0).unwrap_or_else(|| Utc::now().date_naive())),
        }
    }
}
