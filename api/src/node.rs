//! Relay Global Object Identification: every case record is a `Node`; `node(id:)` and
//! `nodes(ids:)` fetch any of them by id, so Relay and Apollo caches can normalise records.
//!
//! The id is the record's UUID as text, unique across record types (UUIDv7 for records the
//! gateway creates; a client-chosen id must be unique too), so it needs no type prefix. A record
//! outside the token's regions, or of a type the token may not read, is `null` exactly like a
//! missing one.

use std::collections::HashMap;

use async_graphql::{Context, ID, Interface, Object};
use entity::{
    assistance, beneficiary, business, infrastructure_request, loan_application, market_service,
    monitoring_visit, referral, training, training_enrollment, volunteer,
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    assistance::Assistance,
    auth::Actor,
    beneficiary::Beneficiary,
    business::Business,
    context::ContextExt,
    error::{ServiceError, gql},
    infrastructure::InfrastructureRequest,
    loan::LoanApplication,
    market::MarketService,
    monitoring::MonitoringVisit,
    records::{CaseEntity, EntityType, within_regions},
    referral::Referral,
    training::{Training, TrainingEnrollment},
    volunteer::Volunteer,
};

/// A case record fetched by its id alone (Relay's `Node`).
#[derive(Interface, Clone)]
#[graphql(field(
    name = "id",
    ty = "ID",
    method = "node_id",
    desc = "The record's id: its UUID as text, unique across record types."
))]
pub enum Node {
    Beneficiary(Beneficiary),
    Assistance(Assistance),
    Business(Business),
    Training(Training),
    TrainingEnrollment(TrainingEnrollment),
    InfrastructureRequest(InfrastructureRequest),
    LoanApplication(LoanApplication),
    Referral(Referral),
    MonitoringVisit(MonitoringVisit),
    Volunteer(Volunteer),
    MarketService(MarketService),
}

/// What a referral led to (hasil rujukan): a record of a type the receiving agency owns.
#[derive(async_graphql::Union)]
pub enum ReferralOutcome {
    Assistance(Assistance),
    Business(Business),
    TrainingEnrollment(TrainingEnrollment),
    InfrastructureRequest(InfrastructureRequest),
    LoanApplication(LoanApplication),
    MarketService(MarketService),
}

impl ReferralOutcome {
    /// The node as an outcome, when its type can be one.
    pub fn from_node(node: Node) -> Option<Self> {
        Some(match node {
            Node::Assistance(r) => Self::Assistance(r),
            Node::Business(r) => Self::Business(r),
            Node::TrainingEnrollment(r) => Self::TrainingEnrollment(r),
            Node::InfrastructureRequest(r) => Self::InfrastructureRequest(r),
            Node::LoanApplication(r) => Self::LoanApplication(r),
            Node::MarketService(r) => Self::MarketService(r),
            Node::Beneficiary(_)
            | Node::Training(_)
            | Node::Referral(_)
            | Node::MonitoringVisit(_)
            | Node::Volunteer(_) => {
                return None;
            }
        })
    }

    /// Whether records of `kind` can be a referral's outcome (a training is not in one person's
    /// case; its enrollment is).
    pub fn can_be(kind: EntityType) -> bool {
        !matches!(
            kind,
            EntityType::Beneficiary
                | EntityType::Training
                | EntityType::Referral
                | EntityType::MonitoringVisit
                | EntityType::Volunteer
        )
    }
}

/// Rows of one table among `ids`, within the caller's regions.
async fn rows<E: CaseEntity>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    ids: &[Uuid],
) -> Result<Vec<E::Model>, ServiceError> {
    Ok(within_regions(E::find(), actor).filter(E::ID.is_in(ids.iter().copied())).all(db).await?)
}

/// The records of `kind` among `ids` the caller may see: none when its token may not read the type.
pub(crate) async fn find_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kind: EntityType,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, Node)>, ServiceError> {
    if ids.is_empty() || !actor.reads(kind) {
        return Ok(Vec::new());
    }
    macro_rules! load {
        ($module:ident, $node:ident) => {
            rows::<$module::Entity>(db, actor, ids)
                .await?
                .into_iter()
                .map(|r| (r.id, Node::$node(r.into())))
                .collect()
        };
    }
    Ok(match kind {
        EntityType::Beneficiary => load!(beneficiary, Beneficiary),
        EntityType::Assistance => load!(assistance, Assistance),
        EntityType::Business => load!(business, Business),
        EntityType::Training => load!(training, Training),
        EntityType::TrainingEnrollment => load!(training_enrollment, TrainingEnrollment),
        EntityType::InfrastructureRequest => load!(infrastructure_request, InfrastructureRequest),
        EntityType::LoanApplication => load!(loan_application, LoanApplication),
        EntityType::Referral => load!(referral, Referral),
        EntityType::MonitoringVisit => load!(monitoring_visit, MonitoringVisit),
        EntityType::Volunteer => load!(volunteer, Volunteer),
        EntityType::MarketService => load!(market_service, MarketService),
    })
}

/// The records among `ids` the caller may see, of the types its token may read: one query per
/// readable record type, whatever the number of ids. Ids are unique across record types (a
/// client-chosen id already used by a record of another type is refused at creation).
pub async fn find(
    db: &impl ConnectionTrait,
    actor: &Actor,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Node>, ServiceError> {
    let mut found = HashMap::new();
    for kind in <EntityType as strum::VariantArray>::VARIANTS {
        for (id, node) in find_of(db, actor, *kind, ids).await? {
            found.entry(id).or_insert(node);
        }
    }
    Ok(found)
}

/// Whether `id` is taken by a record of any type other than `kind` (whatever its region):
/// client-chosen ids must stay unique across record types for `node(id:)` to mean one record.
pub async fn taken_elsewhere(
    db: &impl ConnectionTrait,
    kind: EntityType,
    id: Uuid,
) -> Result<bool, ServiceError> {
    use sea_orm::EntityTrait;
    macro_rules! taken {
        ($($kind:ident => $module:ident),+) => {
            $( if kind != EntityType::$kind && $module::Entity::find_by_id(id).one(db).await?.is_some() {
                return Ok(true);
            } )+
        };
    }
    taken!(Beneficiary => beneficiary, Assistance => assistance, Business => business, Training => training,
        TrainingEnrollment => training_enrollment, InfrastructureRequest => infrastructure_request,
        LoanApplication => loan_application, Referral => referral, MonitoringVisit => monitoring_visit,
        Volunteer => volunteer, MarketService => market_service);
    Ok(false)
}

/// The record `id` as a node, if the caller may see it.
pub async fn find_one(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<Option<Node>, ServiceError> {
    Ok(find(db, actor, &[id]).await?.remove(&id))
}

/// Relay's `node` and `nodes`.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any case record by id (Relay's `node`): null, with a `NOT_FOUND` error at its path, when it
    /// does not exist, lies outside the token's regions or is of a type the token may not read.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's id (its UUID as text).")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        let Ok(id) = Uuid::parse_str(&id) else {
            return Err(gql(ServiceError::NotFound));
        };
        match Box::pin(find_one(ctx.db()?, ctx.actor()?, id)).await.map_err(gql)? {
            Some(node) => Ok(Some(node)),
            None => Err(gql(ServiceError::NotFound)),
        }
    }

    /// Case records by id, in the order asked (Relay's `nodes`): null for each one that does not
    /// exist, lies outside the token's regions or is of a type the token may not read. At most
    /// 100 ids.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(max_items = 100), desc = "The records' ids (UUIDs as text); at most 100.")]
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        let parsed: Vec<Option<Uuid>> = ids.iter().map(|id| Uuid::parse_str(id).ok()).collect();
        let wanted: Vec<Uuid> = parsed.iter().flatten().copied().collect();
        let mut found = Box::pin(find(ctx.db()?, ctx.actor()?, &wanted)).await.map_err(gql)?;
        // An id asked twice is answered twice.
        let mut asked: HashMap<Uuid, usize> = HashMap::new();
        for id in parsed.iter().flatten() {
            *asked.entry(*id).or_default() += 1;
        }
        Ok(parsed
            .into_iter()
            .map(|id| {
                let id = id?;
                let left = asked.get_mut(&id)?;
                *left -= 1;
                if *left == 0 { found.remove(&id) } else { found.get(&id).cloned() }
            })
            .collect())
    }
}
