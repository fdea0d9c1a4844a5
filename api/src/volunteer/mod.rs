//! Volunteers (relawan: PSM and TKSK social workers, Tagana…) and the businesses assigned to
//! them. A RELAWAN token names its volunteer and sees personal data only of the beneficiaries
//! whose businesses are assigned to that volunteer (`pii::reveal`).

pub mod service;

use async_graphql::{Context, Enum};
use entity::volunteer;
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use crate::{
    auth::{RequireScope, Scope},
    business::Business,
    command::{inputs, mutations, plain_as_is},
    error::payload,
    loaders::Loaders,
    moves::{StatusChangeInput, StatusChangeWithReasonInput, moves},
    object::record_object,
    page::{order_by, queries},
    policy::RequireWrite,
    records::{EntityType, case_record},
};

plain_as_is!(VolunteerKind, VolunteerStatus);

case_record!(volunteer, Volunteer, beneficiary: |_m| None, business: |_m| None, status: Status);

/// What kind of volunteer.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum VolunteerKind {
    /// Pekerja Sosial Masyarakat: community social worker.
    Psm,
    /// Tenaga Kesejahteraan Sosial Kecamatan: district social-welfare worker.
    Tksk,
    /// Taruna Siaga Bencana: disaster-response youth volunteer.
    Tagana,
    /// Another kind.
    Other,
}

/// Lifecycle status of a volunteer.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum VolunteerStatus {
    /// Active (aktif): may be assigned businesses.
    Active,
    /// No longer active (tidak aktif): keeps no assignment and its token sees no personal data.
    Inactive,
}

#[derive(Clone)]
pub struct Volunteer {
    pub model: volunteer::Model,
}

impl From<volunteer::Model> for Volunteer {
    fn from(model: volunteer::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// A volunteer (relawan) who visits businesses of a regency/city.
    Volunteer + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// Name (nama relawan).
        name: &str,
        /// Kind.
        kind: async_graphql::Result<VolunteerKind>,
        /// Regency/city, Kemendagri code.
        regency_code: &str,
        /// District (kecamatan) the volunteer covers, Kemendagri code.
        district_code: Option<&str>,
        /// Lifecycle status.
        status: async_graphql::Result<VolunteerStatus>,
        /// Why the volunteer stopped (alasan).
        status_reason: Option<&str>,
    }
    /// The businesses assigned to the volunteer. Needs `business:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead)")]
    async fn businesses(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Business>>> {
        Loaders::children(ctx, |l| l.businesses_by_volunteer(), self.model.id).await.map(Some)
    }
}

inputs! {
    /// Filter for volunteers.
    VolunteerFilter => VolunteerCriteria, Default {
        /// Regencies/cities. At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        regency_codes: Option<Vec<String>>,
        /// Kinds. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        kinds: Option<Vec<VolunteerKind>>,
        /// Statuses. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        statuses: Option<Vec<VolunteerStatus>>,
    }
}

order_by!(VolunteerOrderBy, VolunteerOrderField, volunteer {
    /// Name.
    Name => Name,
    /// Creation time.
    CreatedAt => CreatedAt,
    /// Last change.
    UpdatedAt => UpdatedAt,
});

inputs! {
    /// Input of `createVolunteer` (status starts ACTIVE).
    CreateVolunteerInput => NewVolunteer {
        /// Optional client-chosen UUID.
        id: Option<Uuid>,
        /// Name. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        name: String,
        /// Kind.
        kind: VolunteerKind,
        /// Regency/city. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        regency_code: String,
        /// District covered, in that regency/city. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        district_code: Option<String>,
    }
}

inputs! {
    /// Input of `assignVolunteer`: the business, the version you read, and its volunteer (an
    /// ACTIVE one of the business's regency/city), or null to leave it without one.
    AssignVolunteerInput => Assignment {
        /// The business.
        business_id: Uuid,
        /// The business's version you read.
        expected_version: i32,
        /// The volunteer; null to unassign.
        volunteer_id: Option<Uuid>,
    }
}

payload! {
    /// Result of `createVolunteer`.
    CreateVolunteerPayload { volunteer: Volunteer };
    /// Result of a volunteer lifecycle move.
    ChangeVolunteerStatusPayload { volunteer: Volunteer };
    /// Result of `assignVolunteer`.
    AssignVolunteerPayload { business: Business };
}

// Its resolvers may read any of its columns (`columns.rs`): none is declared.
crate::columns::record_columns!(Volunteer: volunteer::Entity {});

queries! {
    /// Volunteer queries.
    VolunteerQuery, guard = "RequireScope(Scope::MonitoringRead)";
    /// One volunteer by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `monitoring:read`.
    volunteer -> Volunteer by volunteer::Entity;
    /// Volunteers, by name. Needs `monitoring:read`.
    volunteers(VolunteerFilter, VolunteerOrderBy) = service::list;
}

mutations! {
    /// Volunteer mutations.
    VolunteerMutation;
    /// Registers a volunteer. Needs `monitoring:write` and an agency that owns volunteer records.
    create_volunteer(CreateVolunteerInput) -> CreateVolunteerPayload = service::create,
        guard = "RequireWrite(EntityType::Volunteer)";
    /// Assigns a business to a volunteer (or unassigns it): that volunteer's token then sees the owner's personal data. An UPDATED event on the business (`changedFields: ["volunteerId"]`). Needs `business:write` and an agency that owns business records.
    assign_volunteer(AssignVolunteerInput) -> AssignVolunteerPayload = service::assign,
        guard = "RequireWrite(EntityType::Business)";
}

moves! {
    /// Volunteer lifecycle mutations.
    VolunteerMoves, LIFECYCLE: VolunteerStatus, guard = "RequireWrite(EntityType::Volunteer)",
    payload = ChangeVolunteerStatusPayload, service = service::change_status;
    /// ACTIVE → INACTIVE with a reason; the volunteer's businesses are unassigned. Needs `monitoring:write` and an agency that owns volunteer records.
    deactivate_volunteer(StatusChangeWithReasonInput): [Active] => Inactive, ends;
    /// INACTIVE → ACTIVE. Needs `monitoring:write` and an agency that owns volunteer records.
    reactivate_volunteer(StatusChangeInput): [Inactive] => Active;
}
