//! What every case record shares: its event identity, region bound, versioned writes and
//! lifecycles. Domain services call these so that no write can skip its CaseEvent or its
//! version check.

use std::str::FromStr;

use async_graphql::Enum;
use chrono::Utc;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, PrimaryKeyTrait, QueryFilter, Select,
    TransactionTrait, Value,
};
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use crate::{auth::Actor, error::ServiceError, events, regions::KALTIM};

/// The kinds of record a case event can be about.
#[derive(
    Enum,
    Copy,
    Clone,
    Debug,
    Eq,
    PartialEq,
    Ord,
    PartialOrd,
    Hash,
    EnumString,
    IntoStaticStr,
    strum::VariantArray,
    serde::Serialize,
    serde::Deserialize,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityType {
    /// Beneficiary (penerima manfaat).
    Beneficiary,
    /// Assistance (bantuan).
    Assistance,
    /// Business (usaha).
    Business,
    /// Training (pelatihan).
    Training,
    /// Training enrollment (peserta pelatihan).
    TrainingEnrollment,
    /// Infrastructure request (permohonan infrastruktur).
    InfrastructureRequest,
    /// Loan application (pengajuan pinjaman).
    LoanApplication,
    /// Referral (rujukan).
    Referral,
    /// Monitoring visit (kunjungan pemantauan).
    MonitoringVisit,
    /// Volunteer (relawan).
    Volunteer,
    /// Market-access or business-development service (layanan pemasaran dan pengembangan usaha).
    MarketService,
}

/// A stored record that belongs to a case.
pub trait CaseRecord {
    const ENTITY_TYPE: EntityType;
    fn id(&self) -> Uuid;
    fn version(&self) -> i32;
    fn beneficiary_id(&self) -> Option<Uuid>;
    fn business_id(&self) -> Option<Uuid>;
    fn regency_code(&self) -> &str;
    fn status(&self) -> Option<&str>;
    /// The reason given with the last move that ended or refused the record.
    fn status_reason(&self) -> Option<&str>;
    fn created_by_agency(&self) -> &str;
    /// Version, creator and timestamps.
    fn audit(&self) -> Audit;
}

/// A table whose rows belong to a regency: the column reads are narrowed by.
pub trait Regional: EntityTrait {
    /// `regency_code`.
    const REGENCY: Self::Column;
}

/// A table whose rows carry an optimistic-concurrency version: every change goes through
/// [`compare_and_set`].
pub trait Versioned: EntityTrait {
    const ID: Self::Column;
    const VERSION: Self::Column;
    const UPDATED_AT: Self::Column;
}

/// The shared columns of a case record's table, named so the compiler checks them; its models
/// can be read by position (`pgrecord::BinaryModel`).
pub trait CaseEntity: Regional + Versioned<Model: crate::pgrecord::BinaryModel> {
    const CREATED_AT: Self::Column;
    const CREATED_BY_AGENCY: Self::Column;
    const CREATED_BY_CLIENT: Self::Column;
    /// `status` and `status_reason`, for records with a lifecycle.
    const STATUS: Option<(Self::Column, Self::Column)>;
}

/// Implements `Regional` for a table with a `regency_code` column.
macro_rules! regional {
    ($m:ident) => {
        impl $crate::records::Regional for $m::Entity {
            const REGENCY: $m::Column = $m::Column::RegencyCode;
        }
    };
}
pub(crate) use regional;

/// Implements `CaseRecord` for a model with the shared columns, and `CaseEntity` for its table;
/// `status: Status` names the lifecycle's column, `status: none` a record without one.
macro_rules! case_record {
    ($m:ident, $kind:ident, beneficiary: |$b:ident| $ben:expr, business: |$z:ident| $biz:expr, status: none) => {
        $crate::records::case_record!(@impl $m, $kind, |$b| $ben, |$z| $biz, |_s| None, |_r| None, None);
    };
    ($m:ident, $kind:ident, beneficiary: |$b:ident| $ben:expr, business: |$z:ident| $biz:expr, status: $status:ident) => {
        $crate::records::case_record!(@impl $m, $kind, |$b| $ben, |$z| $biz, |s| Some(&s.status), |r| r.status_reason.as_deref(), Some(($m::Column::$status, $m::Column::StatusReason)));
    };
    (@impl $m:ident, $kind:ident, |$b:ident| $ben:expr, |$z:ident| $biz:expr, |$s:ident| $status:expr, |$r:ident| $reason:expr, $column:expr) => {
        $crate::records::regional!($m);
        impl $crate::records::Versioned for $m::Entity {
            const ID: $m::Column = $m::Column::Id;
            const VERSION: $m::Column = $m::Column::Version;
            const UPDATED_AT: $m::Column = $m::Column::UpdatedAt;
        }
        impl $crate::records::CaseEntity for $m::Entity {
            const CREATED_AT: $m::Column = $m::Column::CreatedAt;
            const CREATED_BY_AGENCY: $m::Column = $m::Column::CreatedByAgency;
            const CREATED_BY_CLIENT: $m::Column = $m::Column::CreatedByClient;
            const STATUS: Option<($m::Column, $m::Column)> = $column;
        }
        impl $crate::records::CaseRecord for $m::Model {
            const ENTITY_TYPE: $crate::records::EntityType = $crate::records::EntityType::$kind;
            fn id(&self) -> uuid::Uuid {
                self.id
            }
            fn version(&self) -> i32 {
                self.version
            }
            fn beneficiary_id(&self) -> Option<uuid::Uuid> {
                let $b = self;
                $ben
            }
            fn business_id(&self) -> Option<uuid::Uuid> {
                let $z = self;
                $biz
            }
            fn regency_code(&self) -> &str {
                &self.regency_code
            }
            fn status(&self) -> Option<&str> {
                let $s = self;
                $status
            }
            fn status_reason(&self) -> Option<&str> {
                let $r = self;
                $reason
            }
            fn created_by_agency(&self) -> &str {
                &self.created_by_agency
            }
            fn audit(&self) -> $crate::records::Audit {
                $crate::records::Audit {
                    version: self.version,
                    created_by: $crate::records::CreatedBy {
                        agency: self.created_by_agency.clone(),
                        client: self.created_by_client.clone(),
                    },
                    created_at: self.created_at,
                    updated_at: self.updated_at,
                }
            }
        }
    };
}
pub(crate) use case_record;

/// A lifecycle's status enum: its values are stored by their wire names.
pub trait Status:
    Copy + Eq + Into<&'static str> + FromStr + strum::VariantArray + Send + Sync + 'static
{
}
impl<S: Copy + Eq + Into<&'static str> + FromStr + strum::VariantArray + Send + Sync + 'static> Status for S {}

/// The moves of one record type's lifecycle, checked against its status enum at compile time
/// (declared with [`crate::moves::moves!`]).
pub struct Lifecycle<S: 'static>(pub &'static [crate::moves::Move<S>]);

impl<S: Status> Lifecycle<S> {
    /// Whether `from → to` is on the lifecycle.
    pub fn allows(&self, from: S, to: S) -> bool {
        self.0.iter().any(|m| m.to == to && m.from.contains(&from))
    }

    /// The move a mutation makes (`moves!` declares each mutation with its move).
    pub fn by_field(&self, field: &str) -> Result<&'static crate::moves::Move<S>, ServiceError> {
        self.0.iter().find(|m| m.field == field).ok_or_else(|| {
            ServiceError::Database(sea_orm::DbErr::Custom(format!("no lifecycle move for {field}")))
        })
    }

    /// The moves.
    pub fn moves(&self) -> &'static [crate::moves::Move<S>] {
        self.0
    }
}

/// A stored status read back as its enum; a value the code does not know is a defect.
pub fn stored<S: Status>(value: &str) -> Result<S, ServiceError> {
    value.parse().map_err(|_| {
        tracing::error!(value, "unknown stored status");
        ServiceError::Database(sea_orm::DbErr::Custom(format!("unknown stored status {value}")))
    })
}

/// `INVALID_TRANSITION` unless a record's details may still change in its current status
/// (decided records are history).
pub fn require_editable<S: Status>(status: &str, editable: &[S]) -> Result<(), ServiceError> {
    if editable.contains(&stored::<S>(status)?) {
        Ok(())
    } else {
        Err(ServiceError::InvalidTransition { from: status.to_owned(), to: "UPDATED".into() })
    }
}

/// Whether the caller's regions cover `regency`.
pub fn in_regions(actor: &Actor, regency: &str) -> bool {
    actor.regions.iter().any(|r| r == KALTIM || r == regency)
}

/// Narrows a select to the caller's regions (a no-op for province-wide tokens).
pub fn within_regions<E: Regional>(select: Select<E>, actor: &Actor) -> Select<E> {
    if actor.regions.iter().any(|r| r == KALTIM) {
        select
    } else {
        select.filter(E::REGENCY.is_in(actor.regions.clone()))
    }
}

/// `FORBIDDEN` when a write would place a record outside the caller's regions.
pub fn require_region(actor: &Actor, regency: &str) -> Result<(), ServiceError> {
    if in_regions(actor, regency) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!("this token may not write records in region {regency}")))
    }
}

/// A record by id, as `NOT_FOUND` when it is missing or outside the caller's regions.
pub async fn find_visible<E>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<E::Model, ServiceError>
where
    E: EntityTrait,
    E::Model: CaseRecord,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
{
    match E::find_by_id(id).one(db).await? {
        Some(model) if in_regions(actor, model.regency_code()) => Ok(model),
        _ => Err(ServiceError::NotFound),
    }
}

/// The beneficiary whose case a record of `kind` belongs to (`None` for a training), looked up
/// within the caller's regions: `NOT_FOUND` when it is missing or outside them.
pub async fn case_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kind: EntityType,
    id: Uuid,
) -> Result<Option<Uuid>, ServiceError> {
    use entity::*;
    Ok(match kind {
        EntityType::Beneficiary => find_visible::<beneficiary::Entity>(db, actor, id).await?.beneficiary_id(),
        EntityType::Assistance => find_visible::<assistance::Entity>(db, actor, id).await?.beneficiary_id(),
        EntityType::Business => find_visible::<business::Entity>(db, actor, id).await?.beneficiary_id(),
        EntityType::Training => find_visible::<training::Entity>(db, actor, id).await?.beneficiary_id(),
        EntityType::TrainingEnrollment => {
            find_visible::<training_enrollment::Entity>(db, actor, id).await?.beneficiary_id()
        }
        EntityType::InfrastructureRequest => {
            find_visible::<infrastructure_request::Entity>(db, actor, id).await?.beneficiary_id()
        }
        EntityType::LoanApplication => {
            find_visible::<loan_application::Entity>(db, actor, id).await?.beneficiary_id()
        }
        EntityType::Referral => find_visible::<referral::Entity>(db, actor, id).await?.beneficiary_id(),
        EntityType::MonitoringVisit => {
            find_visible::<monitoring_visit::Entity>(db, actor, id).await?.beneficiary_id()
        }
        EntityType::Volunteer => find_visible::<volunteer::Entity>(db, actor, id).await?.beneficiary_id(),
        EntityType::MarketService => {
            find_visible::<entity::market_service::Entity>(db, actor, id).await?.beneficiary_id()
        }
    })
}

/// For a create with a client-supplied id: the existing record when this is a retry by the same
/// agency (nothing is written again), `CONFLICT` when that agency's record was created from a
/// different input ([`crate::supplied`]), `DUPLICATE` when the id belongs to someone else's record.
pub async fn existing_for_retry<E>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    chosen: Option<Uuid>,
) -> Result<Option<E::Model>, ServiceError>
where
    E: EntityTrait,
    E::Model: CaseRecord,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
{
    // A server-chosen id is new by construction.
    let Some(id) = chosen else {
        return Ok(None);
    };
    match E::find_by_id(id).one(db).await? {
        None if crate::node::taken_elsewhere(db, <E::Model as CaseRecord>::ENTITY_TYPE, id).await? => {
            Err(ServiceError::Duplicate {
                field: "id".into(),
                message: "a record with this id already exists".into(),
            })
        }
        None => Ok(None),
        Some(model)
            if model.created_by_agency() == actor.agency && in_regions(actor, model.regency_code()) =>
        {
            if crate::supplied::differs(db, id).await? {
                return Err(ServiceError::IdReused);
            }
            Ok(Some(model))
        }
        Some(_) => Err(ServiceError::Duplicate {
            field: "id".into(),
            message: "a record with this id already exists".into(),
        }),
    }
}

/// Inserts a new record — version 1, created now by the caller — and its `CREATED` event in the
/// caller's transaction.
pub async fn insert<E, A>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    mut active: A,
) -> Result<E::Model, ServiceError>
where
    E: CaseEntity,
    E::Model: CaseRecord + IntoActiveModel<A>,
    A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    let now = Utc::now();
    active.set(E::VERSION, Value::from(1));
    active.set(E::CREATED_BY_AGENCY, Value::from(actor.agency.clone()));
    active.set(E::CREATED_BY_CLIENT, Value::from(actor.client.clone()));
    active.set(E::CREATED_AT, Value::from(now));
    active.set(E::UPDATED_AT, Value::from(now));
    let model = active.insert(txn).await?;
    crate::supplied::store(txn, model.id()).await?;
    events::record(txn, actor, &model, crate::events::CaseAction::Created, None, &["*"], None).await?;
    Ok(model)
}

/// Loads a record for a change: `NOT_FOUND` outside the caller's regions, `CONFLICT` when
/// `expected_version` is stale.
pub async fn load_for_write<E>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
) -> Result<E::Model, ServiceError>
where
    E: EntityTrait,
    E::Model: CaseRecord,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
{
    load_authorized::<E>(txn, actor, id, expected_version, |_| Ok(())).await
}

/// Loads a record for a change by someone a record-level rule must admit (the organiser, the
/// sending agency): `NOT_FOUND` outside the caller's regions, then the rule, and only then
/// `CONFLICT` for a stale `expected_version` — a caller the rule refuses learns nothing more.
pub async fn load_authorized<E>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    authorize: impl FnOnce(&E::Model) -> Result<(), ServiceError>,
) -> Result<E::Model, ServiceError>
where
    E: EntityTrait,
    E::Model: CaseRecord,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
{
    let model = find_visible::<E>(db, actor, id).await?;
    authorize(&model)?;
    require_version(&model, expected_version)?;
    Ok(model)
}

/// `CONFLICT` unless `model` is at `expected_version`.
pub fn require_version(model: &impl CaseRecord, expected_version: i32) -> Result<(), ServiceError> {
    if model.version() == expected_version {
        Ok(())
    } else {
        Err(ServiceError::Conflict { expected: expected_version, actual: model.version() })
    }
}

/// The GraphQL names of the columns `active` sets (`monthly_revenue` → `monthlyRevenue`).
fn changed_fields<E: EntityTrait, A: ActiveModelTrait<Entity = E>>(active: &A) -> Vec<String> {
    use sea_orm::{IdenStatic, Iterable};
    E::Column::iter()
        .filter(|column| active.get(*column).is_set())
        .map(|column| match column.as_str() {
            // A field whose GraphQL name is not its column's.
            "closure_proposed_by_visit" => "closureProposedByVisitId".to_owned(),
            name => crate::object::camel(name),
        })
        .collect()
}

/// Inserts a new record with its `CREATED` event ([`insert`]) and commits.
pub async fn commit_insert<E, A>(
    txn: DatabaseTransaction,
    actor: &Actor,
    active: A,
) -> Result<E::Model, ServiceError>
where
    E: CaseEntity,
    E::Model: CaseRecord + IntoActiveModel<A>,
    A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    let model = insert::<E, A>(&txn, actor, active).await?;
    crate::events::commit(txn).await?;
    Ok(model)
}

/// Writes an update's changes with its `UPDATED` event ([`update`]) and commits; `VALIDATION`
/// when the input changes nothing.
pub async fn commit_update<E, A>(
    txn: DatabaseTransaction,
    actor: &Actor,
    before: &E::Model,
    active: A,
) -> Result<E::Model, ServiceError>
where
    E: CaseEntity,
    E::Model: CaseRecord,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
    A: ActiveModelTrait<Entity = E> + Send,
{
    if !active.is_changed() {
        return Err(ServiceError::validation("input", "nothing to change"));
    }
    let after = update::<E, A>(&txn, actor, before, active, crate::events::CaseAction::Updated).await?;
    crate::events::commit(txn).await?;
    Ok(after)
}

/// Writes the set fields of `active` onto `before`, bumps the version only if nobody else did
/// meanwhile (compare-and-set in SQL, safe under concurrent writers), and records the event.
pub async fn update<E, A>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    before: &E::Model,
    active: A,
    action: crate::events::CaseAction,
) -> Result<E::Model, ServiceError>
where
    E: CaseEntity,
    E::Model: CaseRecord,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
    A: ActiveModelTrait<Entity = E> + Send,
{
    update_for::<E, A>(txn, actor, before, active, action, None).await
}

/// The reason of a move that ends or refuses something: required, not blank, trimmed.
pub fn required_reason(reason: Option<&str>) -> Result<&str, ServiceError> {
    reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ServiceError::validation("reason", "this move needs a reason"))
}

/// [`update`] for a refusal that leaves the status as it is (a rejected closure): `reason` goes
/// to the case event.
pub async fn update_for<E, A>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    before: &E::Model,
    active: A,
    action: crate::events::CaseAction,
    reason: Option<&str>,
) -> Result<E::Model, ServiceError>
where
    E: CaseEntity,
    E::Model: CaseRecord,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
    A: ActiveModelTrait<Entity = E> + Send,
{
    // The event's `changedFields` are the columns the write sets, by their GraphQL names.
    let fields = changed_fields::<E, A>(&active);
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let after = compare_and_set::<E, A>(txn, before.id(), before.version(), active).await?;
    events::record(txn, actor, &after, action, before.status(), &fields, reason).await?;
    Ok(after)
}

/// Writes the set fields of `active` onto row `id` and bumps its version — only if it is still
/// at `version` (compare-and-set in SQL, safe under concurrent writers): `CONFLICT` otherwise.
pub async fn compare_and_set<E, A>(
    db: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
    mut active: A,
) -> Result<E::Model, ServiceError>
where
    E: Versioned,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
    A: ActiveModelTrait<Entity = E> + Send,
{
    active.set(E::VERSION, Value::from(version + 1));
    active.set(E::UPDATED_AT, Value::from(Utc::now()));
    let result =
        E::update_many().set(active).filter(E::ID.eq(id)).filter(E::VERSION.eq(version)).exec(db).await?;
    let after = E::find_by_id(id).one(db).await?;
    match after {
        Some(after) if result.rows_affected == 1 => Ok(after),
        Some(other) => {
            let actual = sea_orm::ModelTrait::get(&other, E::VERSION);
            let actual = match actual {
                Value::Int(Some(v)) => v,
                _ => 0,
            };
            Err(ServiceError::Conflict { expected: version, actual })
        }
        None => Err(ServiceError::NotFound),
    }
}

/// A lifecycle move under way: its transaction, the record as it was, and the change so far.
pub struct Moving<E: EntityTrait, A> {
    pub txn: DatabaseTransaction,
    pub before: E::Model,
    pub active: A,
}

impl<E, A> Moving<E, A>
where
    E: CaseEntity,
    E::Model: CaseRecord + Sync,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
    A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    /// Starts a move in its own transaction: loads the record, checks version and lifecycle, sets
    /// the status and keeps the reason of a move that ends the record (required, not blank).
    pub async fn start<S: Status, D>(
        db: &DatabaseConnection,
        actor: &Actor,
        to: &crate::moves::Move<S>,
        change: &crate::moves::StatusChange<D>,
    ) -> Result<Self, ServiceError> {
        Self::start_authorized(db, actor, to, change, |_| Ok(())).await
    }

    /// [`Moving::start`] with a record-level rule (who may make this move) checked first, before
    /// the version and the lifecycle say anything about the record.
    pub async fn start_authorized<S: Status, D>(
        db: &DatabaseConnection,
        actor: &Actor,
        to: &crate::moves::Move<S>,
        change: &crate::moves::StatusChange<D>,
        authorize: impl FnOnce(&E::Model) -> Result<(), ServiceError>,
    ) -> Result<Self, ServiceError> {
        let txn = db.begin().await?;
        let before = load_authorized::<E>(&txn, actor, change.id, change.expected_version, authorize).await?;
        let (Some((status, status_reason)), Some(from)) = (E::STATUS, before.status()) else {
            return Err(ServiceError::Database(sea_orm::DbErr::Custom(
                "a record without a lifecycle".into(),
            )));
        };
        let from: S = stored(from)?;
        if !to.from.contains(&from) {
            return Err(ServiceError::InvalidTransition { from: wire(from), to: wire(to.to) });
        }
        let mut active = A::default();
        active.set(status, Value::from(wire(to.to)));
        if to.ends {
            active.set(status_reason, Value::from(required_reason(change.reason.as_deref())?));
        }
        Ok(Self { txn, before, active })
    }

    /// Writes the move with its case event and commits.
    pub async fn finish(self, actor: &Actor) -> Result<E::Model, ServiceError> {
        let (txn, after) = self.write(actor).await?;
        crate::events::commit(txn).await?;
        Ok(after)
    }

    /// Writes the move with its case event and hands back the transaction to go on in (to
    /// commit with [`crate::events::commit`]).
    pub async fn write(self, actor: &Actor) -> Result<(DatabaseTransaction, E::Model), ServiceError> {
        let action = crate::events::CaseAction::StatusChanged;
        let after = update::<E, A>(&self.txn, actor, &self.before, self.active, action).await?;
        Ok((self.txn, after))
    }
}

/// One lifecycle move in its own transaction ([`Moving::start`]), with `prepare` setting any
/// fields that go with the move (or refusing it) before it is written.
pub async fn transition<E, A, S, D>(
    db: &DatabaseConnection,
    actor: &Actor,
    to: &crate::moves::Move<S>,
    change: crate::moves::StatusChange<D>,
    prepare: impl FnOnce(&E::Model, &mut A, D) -> Result<(), ServiceError>,
) -> Result<E::Model, ServiceError>
where
    E: CaseEntity,
    E::Model: CaseRecord + Sync,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
    A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    S: Status,
{
    let mut moving = Moving::<E, A>::start(db, actor, to, &change).await?;
    prepare(&moving.before, &mut moving.active, change.details)?;
    moving.finish(actor).await
}

/// The fields every case record shows about itself as a record.
#[derive(async_graphql::SimpleObject)]
pub struct Audit {
    /// Optimistic-concurrency version (1 when created, one more with each change); writes that
    /// change the record take it as `expectedVersion`.
    pub version: i32,
    /// Who created the record.
    pub created_by: CreatedBy,
    /// Created (UTC).
    pub created_at: chrono::DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: chrono::DateTime<Utc>,
}

impl Audit {
    /// The audit fields of `record`.
    pub fn of(record: &impl CaseRecord) -> Self {
        record.audit()
    }
}

/// Who created a record.
#[derive(async_graphql::SimpleObject)]
pub struct CreatedBy {
    /// Agency (OPD) code.
    pub agency: String,
    /// API client.
    pub client: String,
}

/// The enum's wire name, as stored in the database.
pub fn wire<T: Into<&'static str>>(value: T) -> String {
    let s: &'static str = value.into();
    s.to_owned()
}

/// Parses a stored enum value; a value the code does not know is a defect, reported as internal.
pub fn parse_stored<T: FromStr>(value: &str) -> async_graphql::Result<T> {
    value.parse().map_err(|_| {
        tracing::error!(value, "unknown stored enum value");
        crate::error::internal_error()
    })
}
