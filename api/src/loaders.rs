//! Batched relation loading (async-graphql `DataLoader`): a page of parents loads each relation
//! in one SQL statement, however long the page.

use std::{
    collections::HashMap,
    marker::PhantomData,
    sync::{Arc, OnceLock},
};

use async_graphql::{
    Context, Lookahead,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use entity::{
    assistance, beneficiary, business, infrastructure_request, loan_application, market_service,
    monitoring_visit, referral, training, training_enrollment, volunteer,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, ModelTrait,
    PrimaryKeyTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Expr, ExprTrait, Query, SubQueryStatement},
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
        let rows = crate::pgrecord::all(&self.db, self.select(keys)).await.map_err(Arc::new)?;
        Ok(self.group(keys, rows))
    }
}

impl<E: CaseEntity> ChildrenLoader<E> {
    /// The children of `keys` within the caller's regions, oldest first.
    fn select(&self, keys: &[Uuid]) -> Select<E> {
        let mut select = E::find().filter(self.key.is_in(keys.iter().copied()));
        if let Some(regions) = &self.regions {
            select = select.filter(E::REGENCY.is_in(regions.clone()));
        }
        select.order_by_asc(E::CREATED_AT).order_by_asc(E::ID)
    }

    /// `rows` by their key. Every key gets an entry, empty when it has no children: a cached
    /// empty list is not asked for again.
    fn group(&self, keys: &[Uuid], rows: Vec<E::Model>) -> HashMap<Uuid, Vec<E::Model>> {
        let mut grouped: HashMap<Uuid, Vec<E::Model>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            if let Some(key) = (self.key_of)(&row) {
                grouped.entry(key).or_default().push(row);
            }
        }
        grouped
    }
}

/// Rows of `E` by primary key, limited to the caller's regions.
pub struct ByIdLoader<E: EntityTrait> {
    db: DatabaseConnection,
    regions: Option<Vec<String>>,
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
        let rows = crate::pgrecord::all(&self.db, select).await.map_err(Arc::new)?;
        Ok(rows.into_iter().filter_map(|row| Some((id_of::<E>(&row)?, row))).collect())
    }
}

/// Loads records of several types by (type, id) — a page of referrals' outcomes — with one
/// query per type present, bounded by the caller's regions and readable types.
pub struct OutcomeLoader {
    db: DatabaseConnection,
    actor: Arc<Actor>,
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

/// Declares [`Loaders`]: each loader is made the first time the request uses it (most requests
/// use one or two of them; a subscription may never use any).
macro_rules! loaders {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = |$l:ident| $make:expr;)*) => {
        /// Every relation loader of one request (so batching never crosses callers).
        pub struct Loaders {
            db: DatabaseConnection,
            actor: Arc<Actor>,
            /// The caller's regencies; `None` for the whole province.
            regions: Option<Vec<String>>,
            /// Whether relations are kept for the rest of the request (a query): only then is a
            /// level prefetched.
            cache: bool,
            // Boxed: a loader takes room only once made (a subscription keeps its loaders, and
            // usually makes none).
            $($name: OnceLock<Box<$ty>>,)*
        }

        impl Loaders {
            /// Loaders for one request by `actor`; with `cache`, a relation loaded once (or
            /// prefetched) is not read again within the request.
            pub fn new(db: &DatabaseConnection, actor: Arc<Actor>, cache: bool) -> Self {
                Self {
                    db: db.clone(),
                    regions: (!actor.regions.iter().any(|r| r == KALTIM)).then(|| actor.regions.clone()),
                    actor,
                    cache,
                    $($name: OnceLock::new(),)*
                }
            }

            $($(#[$doc])* pub fn $name(&self) -> &$ty {
                self.$name.get_or_init(|| {
                    let $l = self;
                    Box::new($make)
                })
            })*
        }
    };
}

loaders! {
    /// Beneficiaries by id.
    beneficiary: DataLoader<ByIdLoader<beneficiary::Entity>> = |l| l.by_id();
    /// Businesses by id.
    business: DataLoader<ByIdLoader<business::Entity>> = |l| l.by_id();
    /// Trainings by id.
    training: DataLoader<ByIdLoader<training::Entity>> = |l| l.by_id();
    /// Volunteers by id.
    volunteer: DataLoader<ByIdLoader<volunteer::Entity>> = |l| l.by_id();
    /// A beneficiary's businesses.
    businesses_by_beneficiary: Children<business::Entity> =
        |l| l.children_of(business::Column::BeneficiaryId, |m| Some(m.beneficiary_id));
    /// A volunteer's businesses.
    businesses_by_volunteer: Children<business::Entity> =
        |l| l.children_of(business::Column::VolunteerId, |m| m.volunteer_id);
    /// A beneficiary's assistance.
    assistance_by_beneficiary: Children<assistance::Entity> =
        |l| l.children_of(assistance::Column::BeneficiaryId, |m| Some(m.beneficiary_id));
    /// A beneficiary's training enrollments.
    enrollments_by_beneficiary: Children<training_enrollment::Entity> =
        |l| l.children_of(training_enrollment::Column::BeneficiaryId, |m| Some(m.beneficiary_id));
    /// A training's enrollments.
    enrollments_by_training: Children<training_enrollment::Entity> =
        |l| l.children_of(training_enrollment::Column::TrainingId, |m| Some(m.training_id));
    /// A beneficiary's infrastructure requests.
    infrastructure_by_beneficiary: Children<infrastructure_request::Entity> =
        |l| l.children_of(infrastructure_request::Column::BeneficiaryId, |m| Some(m.beneficiary_id));
    /// A business's loan applications.
    loans_by_business: Children<loan_application::Entity> =
        |l| l.children_of(loan_application::Column::BusinessId, |m| Some(m.business_id));
    /// A business's market services.
    market_services_by_business: Children<market_service::Entity> =
        |l| l.children_of(market_service::Column::BusinessId, |m| Some(m.business_id));
    /// A beneficiary's referrals.
    referrals_by_beneficiary: Children<referral::Entity> =
        |l| l.children_of(referral::Column::BeneficiaryId, |m| Some(m.beneficiary_id));
    /// A business's referrals.
    referrals_by_business: Children<referral::Entity> =
        |l| l.children_of(referral::Column::BusinessId, |m| m.business_id);
    /// The referrals made at a monitoring visit.
    referrals_by_visit: Children<referral::Entity> =
        |l| l.children_of(referral::Column::VisitId, |m| m.visit_id);
    /// A beneficiary's monitoring visits.
    visits_by_beneficiary: Children<monitoring_visit::Entity> =
        |l| l.children_of(monitoring_visit::Column::BeneficiaryId, |m| Some(m.beneficiary_id));
    /// A business's monitoring visits.
    visits_by_business: Children<monitoring_visit::Entity> =
        |l| l.children_of(monitoring_visit::Column::BusinessId, |m| Some(m.business_id));
    /// Referrals' outcome records, by type and id.
    outcomes: DataLoader<OutcomeLoader> = |l| {
        DataLoader::new(OutcomeLoader { db: l.db.clone(), actor: l.actor.clone() }, tokio::spawn)
            .delay(BATCH_WINDOW)
    };
}

impl Loaders {
    fn by_id<E: EntityTrait>(&self) -> DataLoader<ByIdLoader<E>>
    where
        ByIdLoader<E>: Loader<Uuid>,
    {
        DataLoader::new(
            ByIdLoader { db: self.db.clone(), regions: self.regions.clone(), _entity: PhantomData },
            tokio::spawn,
        )
        .delay(BATCH_WINDOW)
    }

    /// The loader of `key`'s table grouped by `key` (`key_of` reads it from a row).
    fn children_of<C, E>(&self, key: C, key_of: fn(&E::Model) -> Option<Uuid>) -> Children<E>
    where
        C: ColumnTrait<EntityName = E>,
        E: EntityTrait<Column = C>,
        E::Model: Clone + Send + Sync,
        ChildrenLoader<E>: Loader<Uuid, Value = Vec<E::Model>>,
    {
        let loader = DataLoader::with_cache(
            ChildrenLoader {
                db: self.db.clone(),
                regions: self.regions.clone(),
                key,
                key_of,
                _entity: PhantomData,
            },
            tokio::spawn,
            HashMapCache::default(),
        )
        .delay(BATCH_WINDOW);
        loader.enable_all_cache(self.cache);
        loader
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

/// Loads `ids`' children through `loader` in one statement, into its cache — when the query
/// selects `field` below `look` and the token may read it (the field's guard would refuse it
/// otherwise: nothing is read for it) — and returns the children's ids. The rows go into the
/// cache as they are: no batch window to wait for (the keys are all here) and no copy kept
/// besides the one the cache holds. (Two lists of one query over the same parents each read
/// them: the later read replaces the earlier in the cache.)
async fn warm<'l, E>(
    (look, field, actor, scope): (&Lookahead<'_>, &str, &Actor, Scope),
    loader: impl FnOnce() -> &'l Children<E>,
    ids: &[Uuid],
) -> async_graphql::Result<Vec<Uuid>>
where
    E: CaseEntity,
    E::Model: Clone + Send + Sync,
{
    if ids.is_empty() || !selected((look, field, actor, scope)) {
        return Ok(Vec::new());
    }
    let loader = loader();
    let found = loader.loader().load(ids).await.map_err(load_failed)?;
    let children = found.values().flatten().filter_map(id_of::<E>).collect();
    loader.feed_many(found).await;
    Ok(children)
}

/// Whether the query selects `field` below `look` and the token may read it (the field's guard
/// would refuse it otherwise: nothing is read for it).
fn selected((look, field, actor, scope): (&Lookahead<'_>, &str, &Actor, Scope)) -> bool {
    look.field(field).exists() && actor.has(scope)
}

/// A row's id.
fn id_of<E: CaseEntity>(row: &E::Model) -> Option<Uuid> {
    match row.get(E::ID) {
        sea_orm::Value::Uuid(Some(id)) => Some(id),
        _ => None,
    }
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
    if !l.cache {
        return Ok(());
    }
    let infrastructure = (look, "infrastructureRequests", actor, Scope::InfrastructureRead);
    futures_util::try_join!(
        warm_businesses(ctx, look, ids),
        warm((look, "assistance", actor, Scope::AssistanceRead), || l.assistance_by_beneficiary(), ids),
        warm((look, "enrollments", actor, Scope::TrainingRead), || l.enrollments_by_beneficiary(), ids),
        warm(infrastructure, || l.infrastructure_by_beneficiary(), ids),
        warm((look, "referrals", actor, Scope::ReferralRead), || l.referrals_by_beneficiary(), ids),
        warm((look, "monitoringVisits", actor, Scope::MonitoringRead), || l.visits_by_beneficiary(), ids),
    )
    .map(|_| ())
}

/// A relation read inside its parent level's statement (PostgreSQL): per parent, its children
/// (within the caller's regions, oldest first, as the relation's loader reads them) as one array
/// of rows, put into the loader's cache. A level and the relations below it then cost one
/// statement.
trait Fold<'l, P: EntityTrait>: Send + 'l {
    /// Adds the relation's column to the parents' `select`.
    fn column(&self, select: Select<P>, regions: &Option<Vec<String>>) -> Select<P>;
    /// Takes `parent`'s children from its `row`.
    fn take(&mut self, parent: Uuid, row: &QueryResult) -> Result<(), DbErr>;
    /// Puts what was taken into the loader's cache.
    fn feed(self: Box<Self>) -> futures_util::future::BoxFuture<'l, ()>;
}

/// A relation of `C` rows folded into its parents' statement.
struct Folded<'l, C: CaseEntity> {
    /// The GraphQL field, also the column's alias.
    field: &'static str,
    loader: &'l Children<C>,
    /// The child's column that holds the parent's id.
    key: C::Column,
    /// The child's columns the request needs (`columns.rs`).
    read: crate::columns::Read<C>,
    found: HashMap<Uuid, Vec<C::Model>>,
}

impl<'l, C> Folded<'l, C>
where
    C: CaseEntity,
    C::Model: Clone + Send + Sync,
    C::Model: crate::pgrecord::BinaryModel,
{
    /// The relation `field` of `look` read by `loader` (`key` holds the parent's id), when it is
    /// [`selected`], reading the columns of `read`.
    fn wanted<P: CaseEntity>(
        (look, field, actor, scope): (&Lookahead<'_>, &'static str, &Actor, Scope),
        loader: impl FnOnce() -> &'l Children<C>,
        key: C::Column,
        read: crate::columns::Read<C>,
    ) -> Option<Box<dyn Fold<'l, P> + 'l>> {
        selected((look, field, actor, scope))
            .then(|| Box::new(Folded { field, loader: loader(), key, read, found: HashMap::new() }) as Box<_>)
    }
}

impl<'l, P, C> Fold<'l, P> for Folded<'l, C>
where
    P: CaseEntity,
    C: CaseEntity,
    C::Model: Clone + Send + Sync,
    C::Model: crate::pgrecord::BinaryModel,
{
    fn column(&self, select: Select<P>, regions: &Option<Vec<String>>) -> Select<P> {
        let child = Alias::new("c");
        // `ROW(c.id, c.business_id, …)`: every column, in the entity's order (the decoder's),
        // those the request does not need as `NULL`. Unordered: `take` sorts each parent's few
        // children, where an `ORDER BY` would have PostgreSQL start a sort for every parent.
        let fields = self.read.fields(&child);
        let placeholders = (1..=fields.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
        let mut children = Query::select();
        children
            .expr(Expr::cust_with_exprs(format!("ROW({placeholders})"), fields))
            .from_as(C::default().table_ref(), child.clone())
            .and_where(Expr::col((child.clone(), self.key)).equals((P::default(), P::ID)));
        if let Some(regions) = regions {
            children.and_where(Expr::col((child, C::REGENCY)).is_in(regions.clone()));
        }
        let array = Expr::cust_with_expr(
            "ARRAY $1",
            Expr::SubQuery(None, Box::new(SubQueryStatement::from(children))),
        );
        select.expr_as(array, self.field)
    }

    fn take(&mut self, parent: Uuid, row: &QueryResult) -> Result<(), DbErr> {
        let unreadable = |err: &dyn std::fmt::Display| DbErr::Type(format!("{}: {err}", self.field));
        let row = row.try_as_pg_row().ok_or_else(|| unreadable(&"not a PostgreSQL row"))?;
        let value = sea_orm::sqlx::Row::try_get_raw(row, self.field).map_err(|err| unreadable(&err))?;
        if value.format() != sea_orm::sqlx::postgres::PgValueFormat::Binary {
            return Err(unreadable(&"not in the binary format"));
        }
        let bytes = value.as_bytes().map_err(|err| unreadable(&err))?;
        let mut children = crate::pgrecord::records::<C>(bytes, self.read).map_err(|err| unreadable(&err))?;
        // Oldest first, ties by id, as the relation's loader reads them.
        if children.len() > 1 {
            children.sort_by_cached_key(|child| {
                (crate::page::created_at_key(&child.get(C::CREATED_AT)), id_of::<C>(child))
            });
        }
        self.found.insert(parent, children);
        Ok(())
    }

    fn feed(self: Box<Self>) -> futures_util::future::BoxFuture<'l, ()> {
        Box::pin(self.loader.feed_many(self.found))
    }
}

/// A page of beneficiaries' businesses, into the cache, with the relations the query selects
/// below them. On PostgreSQL that is one statement (each relation folded in as an array column);
/// elsewhere the businesses, then each relation, cost one statement each.
async fn warm_businesses(ctx: &Context<'_>, look: &Lookahead<'_>, ids: &[Uuid]) -> async_graphql::Result<()> {
    let (l, actor) = request_parts(ctx)?;
    let businesses_wanted = (look, "businesses", actor, Scope::BusinessRead);
    let below = look.field("businesses");
    if l.db.get_database_backend() != DbBackend::Postgres {
        let children = warm(businesses_wanted, || l.businesses_by_beneficiary(), ids).await?;
        return prefetch_businesses(ctx, &below, &children).await;
    }
    if ids.is_empty() || !selected(businesses_wanted) {
        return Ok(());
    }
    let mut folds: Vec<Box<dyn Fold<'_, business::Entity>>> = [
        Folded::wanted(
            (&below, "loans", actor, Scope::LoanRead),
            || l.loans_by_business(),
            loan_application::Column::BusinessId,
            crate::columns::read::<crate::loan::LoanApplication>(ctx),
        ),
        Folded::wanted(
            (&below, "marketServices", actor, Scope::BusinessRead),
            || l.market_services_by_business(),
            market_service::Column::BusinessId,
            crate::columns::read::<crate::market::MarketService>(ctx),
        ),
        Folded::wanted(
            (&below, "monitoringVisits", actor, Scope::MonitoringRead),
            || l.visits_by_business(),
            monitoring_visit::Column::BusinessId,
            crate::columns::read::<crate::monitoring::MonitoringVisit>(ctx),
        ),
        Folded::wanted(
            (&below, "referrals", actor, Scope::ReferralRead),
            || l.referrals_by_business(),
            referral::Column::BusinessId,
            crate::columns::read::<crate::referral::Referral>(ctx),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let parents = l.businesses_by_beneficiary();
    let read = crate::columns::read::<crate::business::Business>(ctx);
    let mut select = read.apply(parents.loader().select(ids));
    for fold in &folds {
        select = fold.column(select, &l.regions);
    }
    let rows = l.db.query_all_raw(select.build(DbBackend::Postgres)).await.map_err(load_failed)?;
    let mut businesses = Vec::with_capacity(rows.len());
    let positions = crate::pgrecord::Positions::<business::Entity>::reading(rows.first(), read);
    if !rows.is_empty() && !positions.by_position() {
        // Rows in the text format (never seen: bound statements come in the binary one) hold
        // placeholders SeaORM's reader cannot take, and folded arrays it cannot read: one
        // statement per level instead, whole rows.
        let children = warm(businesses_wanted, || l.businesses_by_beneficiary(), ids).await?;
        return prefetch_businesses(ctx, &below, &children).await;
    }
    for row in rows {
        let business = positions.model(&row).map_err(load_failed)?;
        for fold in &mut folds {
            fold.take(business.id, &row).map_err(load_failed)?;
        }
        businesses.push(business);
    }
    parents.feed_many(parents.loader().group(ids, businesses)).await;
    for fold in folds {
        fold.feed().await;
    }
    Ok(())
}

/// Like [`prefetch_beneficiaries`], for a level of businesses.
pub async fn prefetch_businesses(
    ctx: &Context<'_>,
    look: &Lookahead<'_>,
    ids: &[Uuid],
) -> async_graphql::Result<()> {
    let (l, actor) = request_parts(ctx)?;
    if !l.cache {
        return Ok(());
    }
    futures_util::try_join!(
        warm((look, "loans", actor, Scope::LoanRead), || l.loans_by_business(), ids),
        warm((look, "marketServices", actor, Scope::BusinessRead), || l.market_services_by_business(), ids),
        warm((look, "monitoringVisits", actor, Scope::MonitoringRead), || l.visits_by_business(), ids),
        warm((look, "referrals", actor, Scope::ReferralRead), || l.referrals_by_business(), ids),
    )
    .map(|_| ())
}
