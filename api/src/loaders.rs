//! Batched relation loading (async-graphql `DataLoader`): a page of parents loads each relation
//! in one SQL statement, however long the page.

use std::{collections::HashMap, marker::PhantomData, sync::Arc};

use async_graphql::{
    Context, Lookahead,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use entity::{
    assistance, beneficiary, business, infrastructure_request, loan_application, market_service,
    monitoring_visit, referral, training, training_enrollment, volunteer,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PrimaryKeyTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::{
    auth::{Actor, Scope},
    error::internal_error,
    records::{CaseEntity, EntityType},
    regions::KALTIM,
};

/// A relation's loader: batched, and caching what it loaded for the rest of the request (so a
/// prefetched level is not read again).
pub type Children<E> = DataLoader<ChildrenLoader<E>, HashMapCache>;

/// Rows of `E` grouped by a foreign key, limited to the caller's regions.
pub struct ChildrenLoader<E: EntityTrait> {
    db: DatabaseConnection,
    regions: Option<Vec<String>>,
    key: E::Column,
    key_of: fn(&E::Model) -> Option<Uuid>,
    _entity: PhantomData<E>,
}

impl<E: CaseEntity> Loader<Uuid> for ChildrenLoader<E>
where
    E::Model: Clone + Send + Sync,
{
    type Value = Vec<E::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut select = E::find().filter(self.key.is_in(keys.iter().copied()));
        if let Some(regions) = &self.regions {
            select = select.filter(E::REGENCY.is_in(regions.clone()));
        }
        let rows = select.order_by_asc(E::CREATED_AT).all(&self.db).await.map_err(Arc::new)?;
        // Every key gets an entry, empty when it has no children: a cached empty list is not
        // asked for again.
        let mut grouped: HashMap<Uuid, Vec<E::Model>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            if let Some(key) = (self.key_of)(&row) {
                grouped.entry(key).or_default().push(row);
            }
        }
        Ok(grouped)
    }
}

/// Rows of `E` by primary key, limited to the caller's regions.
pub struct ByIdLoader<E: EntityTrait> {
    db: DatabaseConnection,
    regions: Option<Vec<String>>,
    id_of: fn(&E::Model) -> Uuid,
    _entity: PhantomData<E>,
}

impl<E: CaseEntity> Loader<Uuid> for ByIdLoader<E>
where
    E::Model: Clone + Send + Sync,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
{
    type Value = E::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut select = E::find().filter(E::ID.is_in(keys.iter().copied()));
        if let Some(regions) = &self.regions {
            select = select.filter(E::REGENCY.is_in(regions.clone()));
        }
        let rows = select.all(&self.db).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| ((self.id_of)(&row), row)).collect())
    }
}

/// Every relation loader, made fresh for each request (so batching never crosses callers).
pub struct Loaders {
    pub beneficiary: DataLoader<ByIdLoader<beneficiary::Entity>>,
    pub business: DataLoader<ByIdLoader<business::Entity>>,
    pub training: DataLoader<ByIdLoader<training::Entity>>,
    pub volunteer: DataLoader<ByIdLoader<volunteer::Entity>>,
    pub businesses_by_beneficiary: Children<business::Entity>,
    pub businesses_by_volunteer: Children<business::Entity>,
    pub assistance_by_beneficiary: Children<assistance::Entity>,
    pub enrollments_by_beneficiary: Children<training_enrollment::Entity>,
    pub enrollments_by_training: Children<training_enrollment::Entity>,
    pub infrastructure_by_beneficiary: Children<infrastructure_request::Entity>,
    pub loans_by_business: Children<loan_application::Entity>,
    pub market_services_by_business: Children<market_service::Entity>,
    pub referrals_by_beneficiary: Children<referral::Entity>,
    pub referrals_by_business: Children<referral::Entity>,
    pub referrals_by_visit: Children<referral::Entity>,
    pub visits_by_beneficiary: Children<monitoring_visit::Entity>,
    pub visits_by_business: Children<monitoring_visit::Entity>,
    /// Referrals' outcome records, by type and id.
    pub outcomes: DataLoader<OutcomeLoader>,
}

/// Loads records of several types by (type, id) — a page of referrals' outcomes — with one
/// query per type present, bounded by the caller's regions and readable types.
pub struct OutcomeLoader {
    db: DatabaseConnection,
    actor: Actor,
}

impl Loader<(EntityType, Uuid)> for OutcomeLoader {
    type Value = crate::node::Node;
    type Error = Arc<crate::error::ServiceError>;

    async fn load(
        &self,
        keys: &[(EntityType, Uuid)],
    ) -> Result<HashMap<(EntityType, Uuid), Self::Value>, Self::Error> {
        let mut by_kind: HashMap<EntityType, Vec<Uuid>> = HashMap::new();
        for (kind, id) in keys {
            by_kind.entry(*kind).or_default().push(*id);
        }
        let mut found = HashMap::new();
        for (kind, ids) in by_kind {
            for (id, node) in
                crate::node::find_of(&self.db, &self.actor, kind, &ids).await.map_err(Arc::new)?
            {
                found.insert((kind, id), node);
            }
        }
        Ok(found)
    }
}

impl Loaders {
    /// Loaders for one request by `actor`; with `cache`, a relation loaded once (or prefetched)
    /// is not read again within the request.
    pub fn new(db: &DatabaseConnection, actor: &Actor, cache: bool) -> Self {
        let regions = (!actor.regions.iter().any(|r| r == KALTIM)).then(|| actor.regions.clone());
        macro_rules! by_id {
            ($e:ident) => {
                DataLoader::new(
                    ByIdLoader::<$e::Entity> {
                        db: db.clone(),
                        regions: regions.clone(),
                        id_of: |m| m.id,
                        _entity: PhantomData,
                    },
                    tokio::spawn,
                )
                .delay(BATCH_WINDOW)
            };
        }
        Self {
            beneficiary: by_id!(beneficiary),
            business: by_id!(business),
            training: by_id!(training),
            volunteer: by_id!(volunteer),
            businesses_by_beneficiary: children_of::<business::Entity>(
                db,
                &regions,
                cache,
                business::Column::BeneficiaryId,
                |m| Some(m.beneficiary_id),
            ),
            businesses_by_volunteer: children_of::<business::Entity>(
                db,
                &regions,
                cache,
                business::Column::VolunteerId,
                |m| m.volunteer_id,
            ),
            assistance_by_beneficiary: children_of::<assistance::Entity>(
                db,
                &regions,
                cache,
                assistance::Column::BeneficiaryId,
                |m| Some(m.beneficiary_id),
            ),
            enrollments_by_beneficiary: children_of::<training_enrollment::Entity>(
                db,
                &regions,
                cache,
                training_enrollment::Column::BeneficiaryId,
                |m| Some(m.beneficiary_id),
            ),
            enrollments_by_training: children_of::<training_enrollment::Entity>(
                db,
                &regions,
                cache,
                training_enrollment::Column::TrainingId,
                |m| Some(m.training_id),
            ),
            infrastructure_by_beneficiary: children_of::<infrastructure_request::Entity>(
                db,
                &regions,
                cache,
                infrastructure_request::Column::BeneficiaryId,
                |m| Some(m.beneficiary_id),
            ),
            loans_by_business: children_of::<loan_application::Entity>(
                db,
                &regions,
                cache,
                loan_application::Column::BusinessId,
                |m| Some(m.business_id),
            ),
            market_services_by_business: children_of::<market_service::Entity>(
                db,
                &regions,
                cache,
                market_service::Column::BusinessId,
                |m| Some(m.business_id),
            ),
            referrals_by_beneficiary: children_of::<referral::Entity>(
                db,
                &regions,
                cache,
                referral::Column::BeneficiaryId,
                |m| Some(m.beneficiary_id),
            ),
            referrals_by_visit: children_of::<referral::Entity>(
                db,
                &regions,
                cache,
                referral::Column::VisitId,
                |m| m.visit_id,
            ),
            referrals_by_business: children_of::<referral::Entity>(
                db,
                &regions,
                cache,
                referral::Column::BusinessId,
                |m| m.business_id,
            ),
            visits_by_beneficiary: children_of::<monitoring_visit::Entity>(
                db,
                &regions,
                cache,
                monitoring_visit::Column::BeneficiaryId,
                |m| Some(m.beneficiary_id),
            ),
            visits_by_business: children_of::<monitoring_visit::Entity>(
                db,
                &regions,
                cache,
                monitoring_visit::Column::BusinessId,
                |m| Some(m.business_id),
            ),
            outcomes: DataLoader::new(OutcomeLoader { db: db.clone(), actor: actor.clone() }, tokio::spawn)
                .delay(BATCH_WINDOW),
        }
    }

    /// This request's loaders.
    pub fn of<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Loaders> {
        ctx.data::<Loaders>().map_err(|_| internal_error())
    }

    /// Children of `parent` through the loader `pick` selects, as rows (for a nested connection).
    pub async fn child_rows<E>(
        ctx: &Context<'_>,
        pick: impl FnOnce(&Loaders) -> &Children<E>,
        parent: Uuid,
    ) -> async_graphql::Result<Vec<E::Model>>
    where
        E: CaseEntity,
        E::Model: Clone + Send + Sync,
    {
        let loaders = Self::of(ctx)?;
        let rows = pick(loaders).load_one(parent).await.map_err(load_failed)?;
        Ok(rows.unwrap_or_default())
    }

    /// Children of `parent` through the loader `pick` selects, as GraphQL nodes.
    pub async fn children<E, T>(
        ctx: &Context<'_>,
        pick: impl FnOnce(&Loaders) -> &Children<E>,
        parent: Uuid,
    ) -> async_graphql::Result<Vec<T>>
    where
        E: CaseEntity,
        E::Model: Clone + Send + Sync,
        T: From<E::Model>,
    {
        Ok(Self::child_rows(ctx, pick, parent).await?.into_iter().map(T::from).collect())
    }

    /// The record `id` through the loader `pick` selects; `None` if outside the caller's regions.
    pub async fn one<E, T>(
        ctx: &Context<'_>,
        pick: impl FnOnce(&Loaders) -> &DataLoader<ByIdLoader<E>>,
        id: Uuid,
    ) -> async_graphql::Result<Option<T>>
    where
        E: CaseEntity,
        E::Model: Clone + Send + Sync,
        E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
        T: From<E::Model>,
    {
        let loaders = Self::of(ctx)?;
        let row = pick(loaders).load_one(id).await.map_err(load_failed)?;
        Ok(row.map(T::from))
    }
}

/// A loader's failure, logged with its cause; the client sees `INTERNAL`.
pub fn load_failed(err: impl std::fmt::Display) -> async_graphql::Error {
    tracing::error!(error = %err, "relation load failed");
    internal_error()
}

/// How long a loader waits to gather keys before it queries, on tokio's own timer. A level's
/// keys all arrive in one poll of the (unconstrained) executor, so the window only has to
/// outlast that poll.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(1);

fn children_of<E>(
    db: &DatabaseConnection,
    regions: &Option<Vec<String>>,
    cache: bool,
    key: E::Column,
    key_of: fn(&E::Model) -> Option<Uuid>,
) -> Children<E>
where
    E: EntityTrait,
    E::Model: Clone + Send + Sync,
{
    let loader = DataLoader::with_cache(
        ChildrenLoader { db: db.clone(), regions: regions.clone(), key, key_of, _entity: PhantomData },
        tokio::spawn,
        HashMapCache::default(),
    )
    .delay(BATCH_WINDOW);
    loader.enable_all_cache(cache);
    loader
}

/// Loads `ids`' children through `loader` in one statement, into its cache — when the query
/// selects `field` below `look` and the token may read it (the field's guard would refuse it
/// otherwise: nothing is read for it).
async fn warm<E>(
    (look, field, actor, scope): (&Lookahead<'_>, &str, &Actor, Scope),
    loader: &Children<E>,
    ids: &[Uuid],
) -> async_graphql::Result<HashMap<Uuid, Vec<E::Model>>>
where
    E: CaseEntity,
    E::Model: Clone + Send + Sync,
{
    if ids.is_empty() || !look.field(field).exists() || !actor.has(scope) {
        return Ok(HashMap::new());
    }
    loader.load_many(ids.iter().copied()).await.map_err(load_failed)
}

fn request_parts<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<(&'a Loaders, &'a Actor)> {
    Ok((Loaders::of(ctx)?, crate::context::ContextExt::actor(ctx)?))
}

/// A page of beneficiaries (`look` selects one of them): loads each relation the query selects,
/// for the whole page in one statement, and the businesses' own relations below — before the
/// executor asks for them one parent at a time. The executor then finds them in the loaders'
/// caches, so a level costs one statement however busy the machine is (a batch window alone
/// splits when the request waits for a core).
pub async fn prefetch_beneficiaries(
    ctx: &Context<'_>,
    look: &Lookahead<'_>,
    ids: &[Uuid],
) -> async_graphql::Result<()> {
    let (l, actor) = request_parts(ctx)?;
    let businesses = async {
        let found =
            warm((look, "businesses", actor, Scope::BusinessRead), &l.businesses_by_beneficiary, ids).await?;
        let children: Vec<Uuid> = found.values().flatten().map(|b| b.id).collect();
        prefetch_businesses(ctx, &look.field("businesses"), &children).await
    };
    let infrastructure = (look, "infrastructureRequests", actor, Scope::InfrastructureRead);
    futures_util::try_join!(
        businesses,
        warm((look, "assistance", actor, Scope::AssistanceRead), &l.assistance_by_beneficiary, ids),
        warm((look, "enrollments", actor, Scope::TrainingRead), &l.enrollments_by_beneficiary, ids),
        warm(infrastructure, &l.infrastructure_by_beneficiary, ids),
        warm((look, "referrals", actor, Scope::ReferralRead), &l.referrals_by_beneficiary, ids),
        warm((look, "monitoringVisits", actor, Scope::MonitoringRead), &l.visits_by_beneficiary, ids),
    )
    .map(|_| ())
}

/// Like [`prefetch_beneficiaries`], for a level of businesses.
pub async fn prefetch_businesses(
    ctx: &Context<'_>,
    look: &Lookahead<'_>,
    ids: &[Uuid],
) -> async_graphql::Result<()> {
    let (l, actor) = request_parts(ctx)?;
    futures_util::try_join!(
        warm((look, "loans", actor, Scope::LoanRead), &l.loans_by_business, ids),
        warm((look, "marketServices", actor, Scope::BusinessRead), &l.market_services_by_business, ids),
        warm((look, "monitoringVisits", actor, Scope::MonitoringRead), &l.visits_by_business, ids),
        warm((look, "referrals", actor, Scope::ReferralRead), &l.referrals_by_business, ids),
    )
    .map(|_| ())
}
