//! Beneficiaries (penerima manfaat): GraphQL types, queries and mutations.

pub mod import;
pub mod service;

use async_graphql::{Context, Enum, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::beneficiary;
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use crate::{
    assistance::Assistance,
    auth::{RequireScope, Scope},
    business::Business,
    command::{inputs, plain_as_is},
    context::ContextExt,
    error::gql,
    error::payload,
    events::{CaseEvent, CaseEventFilter},
    infrastructure::InfrastructureRequest,
    loaders::Loaders,
    monitoring::MonitoringVisit,
    moves::{StatusChangeInput, StatusChangeWithReasonInput, moves},
    object::record_object,
    page::{Page, order_by, queries},
    pii::{mask, reveal},
    policy::RequireWrite,
    records::{EntityType, case_record},
    referral::Referral,
    scalars::Date,
    training::TrainingEnrollment,
};

plain_as_is!(BeneficiaryStatus, Sex, DecileSource);

case_record!(beneficiary, Beneficiary, beneficiary: |m| Some(m.id), business: |_m| None, status: Status);

/// Lifecycle status of a beneficiary.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum BeneficiaryStatus {
    /// In the programme (aktif).
    Active,
    /// Left poverty / levelled up (naik kelas, lulus).
    Graduated,
    /// No longer followed (tidak aktif): moved, died, withdrew.
    Inactive,
}

/// Sex (jenis kelamin), as on the NIK.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Sex {
    /// Laki-laki.
    Male,
    /// Perempuan (NIK day of birth + 40).
    Female,
}

impl From<Sex> for crate::identity::Sex {
    fn from(s: Sex) -> Self {
        match s {
            Sex::Male => Self::Male,
            Sex::Female => Self::Female,
        }
    }
}

/// Where a decile comes from.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum DecileSource {
    /// Data Terpadu Kesejahteraan Sosial (the older register).
    Dtks,
    /// Data Tunggal Sosial dan Ekonomi Nasional (updated quarterly).
    Dtsen,
}

#[derive(Clone)]
pub struct Beneficiary {
    pub model: beneficiary::Model,
}

impl Beneficiary {
    /// Whether `field` may be shown unmasked to this caller (the read is then logged).
    fn reveal(&self, ctx: &Context<'_>, field: &'static str) -> bool {
        reveal(ctx, self.model.id, &self.model.regency_code, field)
    }
}

impl From<beneficiary::Model> for Beneficiary {
    fn from(model: beneficiary::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// A beneficiary (penerima manfaat): a person registered in DTKS/DTSEN whose case the agencies
    /// work together. NIK, KK number, phone, address and birth date are masked without `pii:read`.
    Beneficiary + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// Head of family (kepala keluarga) on the KK.
        is_head_of_family: bool,
        /// Sex (jenis kelamin).
        sex: async_graphql::Result<Sex>,
        /// Regency/city (kabupaten/kota), Kemendagri code, e.g. `6472` Samarinda.
        regency_code: &str,
        /// District (kecamatan), Kemendagri code, 6 digits.
        district_code: &str,
        /// Village (desa/kelurahan), Kemendagri code, 10 digits.
        village_code: Option<&str>,
        /// Welfare decile (desil) 1–10 at the last assessment; 1 is the poorest.
        decile: i32,
        /// Register the decile comes from.
        decile_source: async_graphql::Result<DecileSource>,
        /// Date the decile was assessed (as-of date of the register update).
        decile_assessed_on: Date,
        /// Lifecycle status.
        status: async_graphql::Result<BeneficiaryStatus>,
        /// Synthetic demo record (never a real person).
        is_demo: bool,
    }
    computed {
        /// Full name (nama lengkap). A volunteer's token sees it only for the beneficiaries assigned
        /// to that volunteer (`***` otherwise); every other token sees it.
        fn full_name(&self, ctx: &Context<'_>) -> String {
            let volunteer = ctx.actor().is_ok_and(|a| a.volunteer.is_some());
            if !volunteer || self.reveal(ctx, "fullName") { self.model.full_name.clone() } else { "***".to_owned() }
        }
        /// NIK (Nomor Induk Kependudukan), 16 digits; masked (`6472**********01`) without `pii:read`.
        fn nik(&self, ctx: &Context<'_>) -> String {
            if self.reveal(ctx, "nik") { self.model.nik.clone() } else { mask(&self.model.nik) }
        }
        /// Family card number (Nomor Kartu Keluarga, KK); masked without `pii:read`.
        fn kk_number(&self, ctx: &Context<'_>) -> String {
            if self.reveal(ctx, "kkNumber") { self.model.kk_number.clone() } else { mask(&self.model.kk_number) }
        }
        /// Birth date (tanggal lahir); null without `pii:read`.
        fn birth_date(&self, ctx: &Context<'_>) -> Option<Date> {
            self.reveal(ctx, "birthDate").then_some(Date(self.model.birth_date))
        }
        /// Phone number (nomor telepon); masked without `pii:read`.
        fn phone(&self, ctx: &Context<'_>) -> Option<String> {
            let phone = self.model.phone.as_deref()?;
            Some(if self.reveal(ctx, "phone") { phone.to_owned() } else { mask(phone) })
        }
        /// Street address (alamat); `***` without `pii:read`.
        fn address(&self, ctx: &Context<'_>) -> Option<String> {
            let address = self.model.address.as_deref()?;
            Some(if self.reveal(ctx, "address") { address.to_owned() } else { "***".to_owned() })
        }
        /// Why the household is no longer followed (alasan); personal data: `***` without `pii:read`.
        fn status_reason(&self, ctx: &Context<'_>) -> Option<String> {
            let reason = self.model.status_reason.as_deref()?;
            Some(if self.reveal(ctx, "statusReason") { reason.to_owned() } else { "***".to_owned() })
        }
    }
    /// The beneficiary's businesses (usaha). Needs `business:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead)")]
    async fn businesses(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Business>>> {
        Loaders::children(ctx, |l| l.businesses_by_beneficiary(), self.model.id).await.map(Some)
    }
    /// Assistance (bantuan) given. Needs `assistance:read`.
    #[graphql(guard = "RequireScope(Scope::AssistanceRead)")]
    async fn assistance(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Assistance>>> {
        Loaders::children(ctx, |l| l.assistance_by_beneficiary(), self.model.id).await.map(Some)
    }
    /// Training enrollments. Needs `training:read`.
    #[graphql(guard = "RequireScope(Scope::TrainingRead)")]
    async fn enrollments(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<TrainingEnrollment>>> {
        Loaders::children(ctx, |l| l.enrollments_by_beneficiary(), self.model.id).await.map(Some)
    }
    /// Infrastructure requests for the household. Needs `infrastructure:read`.
    #[graphql(guard = "RequireScope(Scope::InfrastructureRead)")]
    async fn infrastructure_requests(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<InfrastructureRequest>>> {
        Loaders::children(ctx, |l| l.infrastructure_by_beneficiary(), self.model.id).await.map(Some)
    }
    /// Referrals (rujukan) between agencies. Needs `referral:read`.
    #[graphql(guard = "RequireScope(Scope::ReferralRead)")]
    async fn referrals(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Referral>>> {
        Loaders::children(ctx, |l| l.referrals_by_beneficiary(), self.model.id).await.map(Some)
    }
    /// Monitoring visits to the beneficiary's businesses, newest first. Needs `monitoring:read`.
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
        crate::monitoring::visits_of(ctx, |l| l.visits_by_beneficiary(), self.model.id, order_by, first, after)
            .await.map(Some)
    }
    /// The case timeline: every event of this case, oldest first. Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many records to return: at most 100; 20 when absent.")] first: Option<i32>,
        #[graphql(desc = "Return the records after this cursor: the previous page's `pageInfo.endCursor`.")]
        after: Option<String>,
    ) -> async_graphql::Result<Option<Page<CaseEvent>>> {
        let filter = CaseEventFilter { beneficiary_id: Some(self.model.id), ..Default::default() };
        // Boxed: inline, this statement's future would make every field's of a beneficiary as
        // large (the object's fields share one future type).
        Box::pin(crate::events::list(ctx.db()?, ctx.actor()?, filter, first, after)).await.map_err(gql).map(Some)
    }
}

inputs! {
    /// Filter for beneficiaries; all given conditions must hold.
    BeneficiaryFilter => BeneficiaryCriteria, Default {
        /// Regencies/cities (Kemendagri codes). At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        regency_codes: Option<Vec<String>>,
        /// Districts (Kemendagri codes). At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        district_codes: Option<Vec<String>>,
        /// Statuses. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        statuses: Option<Vec<BeneficiaryStatus>>,
        /// Lowest decile, inclusive.
        decile_min: Option<i32>,
        /// Highest decile, inclusive.
        decile_max: Option<i32>,
        /// Case-insensitive text in the full name. At most 100 characters.
        #[graphql(validator(chars_max_length = 100))]
        name_contains: Option<String>,
        /// Exact NIK; needs `pii:read` (a masked value cannot be recovered by searching). At most 64 characters (a valid one has 16 digits).
        #[graphql(validator(chars_max_length = 64))]
        nik: Option<String>,
        /// Exact KK number; needs `pii:read`. At most 64 characters (a valid one has 16 digits).
        #[graphql(validator(chars_max_length = 64))]
        kk_number: Option<String>,
        /// Agency that created the record. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        created_by_agency: Option<String>,
        /// Only demo (or only real) records.
        is_demo: Option<bool>,
        /// Registered on or after this instant.
        created_from: Option<DateTime<Utc>>,
        /// Registered on or before this instant.
        created_to: Option<DateTime<Utc>>,
    }
}

order_by!(BeneficiaryOrderBy, BeneficiaryOrderField, beneficiary {
    /// Full name (nama lengkap).
    FullName => FullName,
    /// Decile.
    Decile => Decile,
    /// Registration time.
    CreatedAt => CreatedAt,
    /// Last change.
    UpdatedAt => UpdatedAt,
});

inputs! {
    /// Input of `createBeneficiary`.
    CreateBeneficiaryInput => NewBeneficiary {
        /// Optional client-chosen UUID; retrying a create with the same id is harmless.
        id: Option<Uuid>,
        /// NIK, 16 digits. At most 64 characters (a valid one has 16 digits).
        #[graphql(validator(chars_max_length = 64))]
        nik: String,
        /// KK number, 16 digits. At most 64 characters (a valid one has 16 digits).
        #[graphql(validator(chars_max_length = 64))]
        kk_number: String,
        /// Head of family on the KK (one per KK).
        #[graphql(default)]
        is_head_of_family: bool,
        /// Full name. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        full_name: String,
        /// Birth date.
        birth_date: Date,
        /// Sex; must agree with the NIK.
        sex: Sex,
        /// Phone number. At most 20 characters.
        #[graphql(validator(chars_max_length = 20))]
        phone: Option<String>,
        /// Street address. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        address: Option<String>,
        /// Regency/city, Kemendagri code. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        regency_code: String,
        /// District, Kemendagri code inside the regency. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        district_code: String,
        /// Village, 10-digit Kemendagri code inside the district. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        village_code: Option<String>,
        /// Decile 1–10.
        decile: i32,
        /// Source of the decile.
        decile_source: DecileSource,
        /// As-of date of the decile.
        decile_assessed_on: Date,
    }
}

inputs! {
    /// Input of `updateBeneficiary`: an absent field keeps its value; an explicit `null` clears an
    /// optional one (`phone`, `address`, `villageCode`).
    UpdateBeneficiaryInput => BeneficiaryChanges {
        /// The record.
        id: Uuid,
        /// The version the client last read.
        expected_version: i32,
        /// Corrected NIK. At most 64 characters (a valid one has 16 digits).
        #[graphql(validator(chars_max_length = 64))]
        nik: Option<String>,
        /// KK number. At most 64 characters (a valid one has 16 digits).
        #[graphql(validator(chars_max_length = 64))]
        kk_number: Option<String>,
        /// Head of family.
        is_head_of_family: Option<bool>,
        /// Full name. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        full_name: Option<String>,
        /// Birth date.
        birth_date: Option<Date>,
        /// Phone number. At most 20 characters.
        #[graphql(validator(chars_max_length = 20))]
        phone: MaybeUndefined<String>,
        /// Street address. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        address: MaybeUndefined<String>,
        /// Regency/city (with `districtCode`). At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        regency_code: Option<String>,
        /// District. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        district_code: Option<String>,
        /// Village. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        village_code: MaybeUndefined<String>,
        /// New decile (from a DTSEN update; past decisions keep their snapshot).
        decile: Option<i32>,
        /// Source of the new decile.
        decile_source: Option<DecileSource>,
        /// As-of date of the new decile.
        decile_assessed_on: Option<Date>,
    }
}

payload! {
    /// Result of `createBeneficiary`.
    CreateBeneficiaryPayload { beneficiary: Beneficiary };
    /// Result of `updateBeneficiary`.
    UpdateBeneficiaryPayload { beneficiary: Beneficiary };
    /// Result of a beneficiary lifecycle move.
    ChangeBeneficiaryStatusPayload { beneficiary: Beneficiary };
}

// What its resolvers read of its text columns (`columns.rs`); any other may read all.
crate::columns::record_columns!(Beneficiary: beneficiary::Entity {
    "businesses": [],
    "assistance": [],
    "enrollments": [],
    "infrastructureRequests": [],
    "referrals": [],
    "monitoringVisits": [],
    "timeline": [],
});

queries! {
    /// Beneficiary queries.
    BeneficiaryQuery, guard = "RequireScope(Scope::BeneficiaryRead)";
    /// One beneficiary by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `beneficiary:read`.
    beneficiary -> Beneficiary by beneficiary::Entity;
    /// Beneficiaries, filtered and sorted. Needs `beneficiary:read`.
    beneficiaries(BeneficiaryFilter, BeneficiaryOrderBy) = service::list, prefetch = crate::loaders::prefetch_beneficiaries;
}

/// Beneficiary mutations.
#[derive(Default)]
pub struct BeneficiaryMutation;

/// Notes a `DUPLICATE` NIK/KK answer as a read of the matching person's data: it reveals that
/// they are registered, wherever they are.
fn log_duplicate<T>(
    ctx: &Context<'_>,
    result: Result<T, crate::error::ServiceError>,
) -> Result<T, crate::error::ServiceError> {
    if let Err(crate::error::ServiceError::DuplicatePerson { field, beneficiary, regency, .. }) = &result {
        let field = if field == "nik" {
            "nik"
        } else if field == "id" {
            "id"
        } else {
            "kkNumber"
        };
        crate::pii::note_read(ctx, *beneficiary, regency, field);
    }
    result
}

#[Object]
impl BeneficiaryMutation {
    /// Registers a beneficiary. Needs `beneficiary:write` and `pii:read` (registering a person is
    /// handling their personal data) and an agency that owns beneficiary records. A `DUPLICATE`
    /// NIK or KK tells that the person exists, so it is logged as a read of their data.
    #[graphql(guard = "RequireWrite(EntityType::Beneficiary).and(RequireScope(Scope::PiiRead))")]
    async fn create_beneficiary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type's fields.")] input: CreateBeneficiaryInput,
    ) -> async_graphql::Result<CreateBeneficiaryPayload> {
        let state = ctx.state()?;
        let actor = ctx.actor()?;
        let supplied = crate::supplied::Supplied::of(&input);
        let result = supplied.run(service::create(state, actor, input.into())).await;
        CreateBeneficiaryPayload::with_warnings(log_duplicate(ctx, result))
    }

    /// Changes a beneficiary's details. Needs `beneficiary:write` and an agency that owns
    /// beneficiary records. Changing the NIK or KK number is handling personal data: it also needs
    /// the `pii:read` scope (FORBIDDEN without it).
    #[graphql(guard = "RequireWrite(EntityType::Beneficiary)")]
    async fn update_beneficiary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type's fields.")] input: UpdateBeneficiaryInput,
    ) -> async_graphql::Result<UpdateBeneficiaryPayload> {
        let state = ctx.state()?;
        let result = service::update(state, ctx.actor()?, input.into()).await;
        UpdateBeneficiaryPayload::with_warnings(log_duplicate(ctx, result))
    }
}

moves! {
    /// Beneficiary lifecycle mutations.
    BeneficiaryMoves, LIFECYCLE: BeneficiaryStatus, guard = "RequireWrite(EntityType::Beneficiary)",
    payload = ChangeBeneficiaryStatusPayload, service = service::change_status;
    /// ACTIVE → GRADUATED: the household has levelled up (naik kelas). Needs `beneficiary:write` and an agency that owns beneficiary records.
    graduate_beneficiary(StatusChangeInput): [Active] => Graduated;
    /// ACTIVE → INACTIVE with a reason: no longer followed. Needs `beneficiary:write` and an agency that owns beneficiary records.
    deactivate_beneficiary(StatusChangeWithReasonInput): [Active] => Inactive, ends;
}
