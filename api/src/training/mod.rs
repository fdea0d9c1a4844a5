//! Trainings (pelatihan, bimbingan teknis) and enrollments; capacity holds under concurrency.

pub mod service;

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object};
use entity::{training, training_enrollment};
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use crate::{
    auth::{RequireScope, Scope},
    beneficiary::Beneficiary,
    command::{inputs, mutations, plain_as_is},
    context::ContextExt,
    error::gql,
    error::payload,
    loaders::Loaders,
    moves::{StatusChange, StatusChangeInput, StatusChangeWithReasonInput, moves},
    object::record_object,
    page::{Page, order_by, queries},
    policy::RequireWrite,
    records::{EntityType, case_record},
    scalars::Date,
};

plain_as_is!(TrainingTopic, TrainingStatus, EnrollmentStatus);

case_record!(training, Training, beneficiary: |_m| None, business: |_m| None, status: Status);
case_record!(training_enrollment, TrainingEnrollment, beneficiary: |m| Some(m.beneficiary_id), business: |m| m.business_id, status: Status);

/// Training topic.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum TrainingTopic {
    /// Technical guidance (bimbingan teknis) that goes with a starter package.
    TechnicalGuidance,
    /// Food processing (pengolahan pangan).
    FoodProcessing,
    /// Packaging (pengemasan).
    Packaging,
    /// Bookkeeping (pembukuan).
    Bookkeeping,
    /// Digital marketing (pemasaran digital).
    DigitalMarketing,
    /// Job skills (keterampilan kerja).
    JobSkills,
    /// Other.
    Other,
}

/// Lifecycle status of a training.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum TrainingStatus {
    /// Planned (direncanakan).
    Planned,
    /// Open for enrollment (pendaftaran dibuka).
    Open,
    /// Under way (berlangsung).
    Ongoing,
    /// Completed (selesai).
    Completed,
    /// Cancelled (dibatalkan).
    Cancelled,
}

/// Lifecycle status of an enrollment.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum EnrollmentStatus {
    /// Enrolled (terdaftar).
    Enrolled,
    /// Attended (hadir).
    Attended,
    /// Completed, certificate issued (lulus).
    Completed,
    /// Dropped out (mengundurkan diri); frees the seat.
    Dropped,
}

#[derive(Clone)]
pub struct Training {
    pub model: training::Model,
}

impl From<training::Model> for Training {
    fn from(model: training::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// A training (pelatihan) or technical-guidance session run by an agency.
    Training + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// Organising agency (penyelenggara), e.g. DISNAKERTRANS.
        organiser_agency: &str,
        /// Title (judul).
        title: &str,
        /// Topic.
        topic: async_graphql::Result<TrainingTopic>,
        /// Regency/city where it is held, Kemendagri code.
        regency_code: &str,
        /// Venue (tempat).
        venue: Option<&str>,
        /// First day.
        starts_on: Date,
        /// Last day.
        ends_on: Date,
        /// Seats (kuota).
        capacity: i32,
        /// Seats taken by enrollments that are not dropped.
        seats_taken: i32,
        /// Lifecycle status.
        status: async_graphql::Result<TrainingStatus>,
        /// Why it was cancelled (alasan).
        status_reason: Option<&str>,
    }
    /// Enrollments (peserta), in the order they were made.
    async fn enrollments(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            validator(minimum = 0, maximum = 100),
            desc = "How many records to return: at most 100; 20 when absent."
        )]
        first: Option<i32>,
        #[graphql(desc = "Return the records after this cursor: the previous page's `pageInfo.endCursor`.")]
        after: Option<String>,
    ) -> async_graphql::Result<Page<TrainingEnrollment>> {
        let rows = Loaders::child_rows(ctx, |l| l.enrollments_by_training(), self.model.id).await?;
        let order = (training_enrollment::Column::CreatedAt, sea_orm::Order::Asc);
        let paging = crate::page::Paging { order: None, first, after, read: crate::columns::Read::ALL };
        Ok(crate::page::paginate_loaded::<training_enrollment::Entity>(rows, paging, order)
            .map_err(gql)?
            .into_page(TrainingEnrollment::from))
    }
}

#[derive(Clone)]
pub struct TrainingEnrollment {
    pub model: training_enrollment::Model,
}

impl From<training_enrollment::Model> for TrainingEnrollment {
    fn from(model: training_enrollment::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// A beneficiary's enrollment (pendaftaran peserta) in a training.
    TrainingEnrollment + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// Training id.
        training_id: Uuid,
        /// Beneficiary id.
        beneficiary_id: Uuid,
        /// The business the training is for, if any.
        business_id: Option<Uuid>,
        /// Regency/city of the beneficiary.
        regency_code: &str,
        /// Certificate number (nomor sertifikat), once completed.
        certificate_no: Option<&str>,
        /// Lifecycle status.
        status: async_graphql::Result<EnrollmentStatus>,
        /// Why the participant dropped out (alasan).
        status_reason: Option<&str>,
    }
    /// The training.
    async fn training(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Training>> {
        Loaders::one(ctx, |l| l.training(), self.model.training_id).await
    }
    /// The beneficiary. Needs `beneficiary:read`.
    #[graphql(guard = "RequireScope(Scope::BeneficiaryRead)")]
    async fn beneficiary(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Beneficiary>> {
        Loaders::one(ctx, |l| l.beneficiary(), self.model.beneficiary_id).await
    }
}

inputs! {
    /// Filter for trainings.
    TrainingFilter => TrainingCriteria, Default {
        /// Regencies/cities. At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        regency_codes: Option<Vec<String>>,
        /// Topics. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        topics: Option<Vec<TrainingTopic>>,
        /// Statuses. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        statuses: Option<Vec<TrainingStatus>>,
        /// Organising agency. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        organiser_agency: Option<String>,
        /// Starting on or after.
        starts_from: Option<Date>,
        /// Starting on or before.
        starts_to: Option<Date>,
        /// Case-insensitive text in the title. At most 100 characters.
        #[graphql(validator(chars_max_length = 100))]
        title_contains: Option<String>,
    }
}

order_by!(TrainingOrderBy, TrainingOrderField, training {
    /// First day.
    StartsOn => StartsOn,
    /// Title.
    Title => Title,
    /// Creation time.
    CreatedAt => CreatedAt,
    /// Last change.
    UpdatedAt => UpdatedAt,
});

inputs! {
    /// Input of `createTraining` (status starts PLANNED).
    CreateTrainingInput => NewTraining {
        /// Optional client-chosen UUID.
        id: Option<Uuid>,
        /// Title. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        title: String,
        /// Topic.
        topic: TrainingTopic,
        /// Regency/city, Kemendagri code. At most 32 characters.
        #[graphql(validator(chars_max_length = 32))]
        regency_code: String,
        /// Venue. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        venue: Option<String>,
        /// First day.
        starts_on: Date,
        /// Last day.
        ends_on: Date,
        /// Seats, at least 1.
        capacity: i32,
    }
}

inputs! {
    /// Input of `updateTraining`: an absent field keeps its value; an explicit `null` clears `venue`.
    UpdateTrainingInput => TrainingChanges {
        /// The record.
        id: Uuid,
        /// The version the client last read.
        expected_version: i32,
        /// Title. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        title: Option<String>,
        /// Venue. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        venue: MaybeUndefined<String>,
        /// First day.
        starts_on: Option<Date>,
        /// Last day.
        ends_on: Option<Date>,
        /// Seats; never below the seats taken.
        capacity: Option<i32>,
    }
}

inputs! {
    /// Input of `enrollInTraining`.
    EnrollInTrainingInput => NewEnrollment {
        /// Optional client-chosen UUID.
        id: Option<Uuid>,
        /// The training (must be OPEN).
        training_id: Uuid,
        /// The beneficiary.
        beneficiary_id: Uuid,
        /// The business the training is for.
        business_id: Option<Uuid>,
    }
}

inputs! {
    /// Input of `updateEnrollment`: an absent field keeps its value; an explicit `null` clears
    /// `businessId` or `certificateNo`.
    UpdateEnrollmentInput => EnrollmentChanges {
        /// The enrollment.
        id: Uuid,
        /// The version the client last read.
        expected_version: i32,
        /// The business the training is for (of the same beneficiary).
        business_id: MaybeUndefined<Uuid>,
        /// Certificate number. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        certificate_no: MaybeUndefined<String>,
    }
}

/// Input of `completeEnrollment`.
#[derive(InputObject)]
pub struct CompleteEnrollmentInput {
    /// The enrollment.
    pub id: Uuid,
    /// The version the client last read.
    pub expected_version: i32,
    /// Certificate number. At most 200 characters.
    #[graphql(validator(chars_max_length = 200))]
    pub certificate_no: Option<String>,
}

payload! {
    /// Result of `updateEnrollment`.
    UpdateEnrollmentPayload { enrollment: TrainingEnrollment };
    /// Result of `createTraining`.
    CreateTrainingPayload { training: Training };
    /// Result of `updateTraining`.
    UpdateTrainingPayload { training: Training };
    /// Result of a training lifecycle move.
    ChangeTrainingStatusPayload { training: Training };
    /// Result of `enrollInTraining`.
    EnrollInTrainingPayload { enrollment: TrainingEnrollment };
    /// Result of an enrollment change or lifecycle move.
    ChangeEnrollmentStatusPayload { enrollment: TrainingEnrollment };
}

// Its resolvers may read any of its columns (`columns.rs`): none is declared.
crate::columns::record_columns!(Training: training::Entity {});

queries! {
    /// Training queries.
    TrainingQuery, guard = "RequireScope(Scope::TrainingRead)";
    /// One training by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `training:read`.
    training -> Training by training::Entity;
    /// Trainings, soonest first. Needs `training:read`.
    trainings(TrainingFilter, TrainingOrderBy) = service::list;
}

/// Enrollment look-up.
#[derive(Default)]
pub struct EnrollmentQuery;

#[Object]
impl EnrollmentQuery {
    /// One enrollment by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `training:read`.
    #[graphql(guard = "RequireScope(Scope::TrainingRead)")]
    async fn training_enrollment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's id.")] id: Uuid,
    ) -> async_graphql::Result<Option<TrainingEnrollment>> {
        let row = Box::pin(crate::records::find_visible::<training_enrollment::Entity>(
            ctx.db()?,
            ctx.actor()?,
            id,
        ))
        .await;
        Ok(Some(row.map_err(gql)?.into()))
    }
}

mutations! {
    /// Training mutations.
    TrainingMutation;
    /// Plans a training. Needs `training:write` and an agency that owns training records.
    create_training(CreateTrainingInput) -> CreateTrainingPayload = service::create,
        guard = "RequireWrite(EntityType::Training)";
    /// Changes a training's details. Needs `training:write` and an agency that owns training records.
    update_training(UpdateTrainingInput) -> UpdateTrainingPayload = service::update,
        guard = "RequireWrite(EntityType::Training)";
    /// Enrolls a beneficiary in an OPEN training; `CAPACITY_FULL` when no seat is left, also
    /// under concurrent enrollments. Needs `training:write` and an agency that owns training-enrollment records.
    enroll_in_training(EnrollInTrainingInput) -> EnrollInTrainingPayload = service::enroll,
        guard = "RequireWrite(EntityType::TrainingEnrollment)";
    /// Changes an enrollment's business or certificate number. Needs `training:write` and an agency that owns training-enrollment records.
    update_enrollment(UpdateEnrollmentInput) -> UpdateEnrollmentPayload = service::update_enrollment,
        guard = "RequireWrite(EntityType::TrainingEnrollment)";
}

moves! {
    /// Training lifecycle mutations, by the organising agency.
    TrainingMoves, LIFECYCLE: TrainingStatus, guard = "RequireWrite(EntityType::Training)",
    payload = ChangeTrainingStatusPayload, service = service::change_status;
    /// PLANNED → OPEN for enrollment. Needs `training:write` and an agency that owns training records.
    open_training(StatusChangeInput): [Planned] => Open;
    /// OPEN → ONGOING. Needs `training:write` and an agency that owns training records.
    start_training(StatusChangeInput): [Open] => Ongoing;
    /// ONGOING → COMPLETED. Needs `training:write` and an agency that owns training records.
    complete_training(StatusChangeInput): [Ongoing] => Completed;
    /// PLANNED/OPEN/ONGOING → CANCELLED with a reason. Needs `training:write` and an agency that owns training records.
    cancel_training(StatusChangeWithReasonInput): [Planned, Open, Ongoing] => Cancelled, ends;
}

moves! {
    /// Enrollment lifecycle mutations, by the training's organiser.
    EnrollmentMoves, ENROLLMENT_LIFECYCLE: EnrollmentStatus,
    guard = "RequireWrite(EntityType::TrainingEnrollment)",
    payload = ChangeEnrollmentStatusPayload, service = service::change_enrollment;
    /// ENROLLED → ATTENDED. Needs `training:write` and an agency that owns training-enrollment records.
    mark_enrollment_attended(StatusChangeInput): [Enrolled] => Attended;
    /// ATTENDED → COMPLETED, with the certificate number. Needs `training:write` and an agency that owns training-enrollment records.
    complete_enrollment(CompleteEnrollmentInput): [Attended] => Completed;
    /// ENROLLED/ATTENDED → DROPPED with a reason; frees the seat. Needs `training:write` and an agency that owns training-enrollment records.
    drop_enrollment(StatusChangeWithReasonInput): [Enrolled, Attended] => Dropped, ends;
}

impl From<CompleteEnrollmentInput> for StatusChange<Option<String>> {
    fn from(input: CompleteEnrollmentInput) -> Self {
        Self {
            id: input.id,
            expected_version: input.expected_version,
            reason: None,
            details: input.certificate_no,
        }
    }
}
