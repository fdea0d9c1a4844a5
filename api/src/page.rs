//! Relay connections over SeaORM selects: `first`/`after`, page size at most 100, keyset
//! cursors, and a `totalCount` counted only when a client asks for it.

use std::{future::Future, pin::Pin, sync::Arc};

use async_graphql::{
    Context, ContextSelectionSet, Object, OutputType, Positioned, ServerResult,
    connection::{Connection, Edge},
    parser::types::Field,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ColumnType, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, ExprTrait,
    IdenStatic, ModelTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, Select, Value,
    sea_query::{Expr, Func, NullOrdering},
};
use uuid::Uuid;

use crate::{context::ContextExt, error::ServiceError};

/// Largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;
/// Page size when `first` is not given.
pub const DEFAULT_PAGE: i32 = 20;

type CountFuture<'a> = Pin<Box<dyn Future<Output = Result<u64, DbErr>> + Send + 'a>>;

/// How many rows match a list's filter, across all pages: counted only when asked (counting a
/// whole register costs more than reading a page of it), or known when the rows were loaded.
#[derive(Clone)]
pub struct Total {
    count: Arc<dyn for<'a> Fn(&'a DatabaseConnection) -> CountFuture<'a> + Send + Sync>,
}

impl Total {
    /// A total already known: the rows were loaded anyway.
    pub fn known(total: u64) -> Self {
        Self { count: Arc::new(move |_| Box::pin(std::future::ready(Ok(total)))) }
    }

    /// A total that counts `select` when asked.
    pub fn counting<E>(select: Select<E>) -> Self
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        Self { count: Arc::new(move |db| Box::pin(select.clone().count(db))) }
    }

    /// Counts (or answers the known total).
    pub async fn count(&self, db: &DatabaseConnection) -> Result<u64, DbErr> {
        (self.count)(db).await
    }
}

/// Fields every connection has besides edges and pageInfo.
#[derive(Clone)]
pub struct ConnectionTotals(pub Total);

/// Fields every connection has besides edges and pageInfo.
#[Object]
impl ConnectionTotals {
    /// How many records match the filter, across all pages. Counted on request: it costs a scan
    /// of the matching records, so ask for it only when it is shown.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        self.0.count(ctx.db()?).await.map_err(|e| crate::error::gql(e.into()))
    }
}

/// One page of rows as a service returns it, free of GraphQL types: each row with its cursor,
/// whether rows come before and after it, and the total on request. The resolver turns it into a
/// connection with [`Slice::into_page`].
pub struct Slice<M> {
    pub rows: Vec<(Cursor, M)>,
    pub has_previous: bool,
    pub has_next: bool,
    pub total: Total,
}

/// A page of a table's rows.
pub type Rows<E> = Slice<<E as EntityTrait>::Model>;

impl<M> Slice<M> {
    /// The page as a GraphQL connection of `T`.
    pub fn into_page<T: OutputType>(self, map: impl Fn(M) -> T) -> Page<T> {
        Page::new(
            self.has_previous,
            self.has_next,
            self.total,
            self.rows.into_iter().map(|(cursor, row)| (cursor, map(row))),
        )
    }
}

/// A connection page of `T`: async-graphql's Relay connection (its type, its fields, its
/// resolution of `edges`, `pageInfo` and `totalCount`), with `nodes` resolved on the spot.
///
/// **Why.** async-graphql resolves a connection as any object — each selected field a boxed
/// future in a `FuturesUnordered` — and its `nodes` as any list: with more than 30 items, one
/// task of a `FuturesOrdered` per node. A nested case view resolves a connection for each
/// business (its visits) and a page of 50 beneficiaries; that machinery was a tenth of its CPU.
/// A page therefore resolves its plain selections itself ([`Page`]'s `resolve`): `__typename`
/// at once, `nodes` by polling every node's resolution in place, the other fields through the
/// connection's own resolvers, concurrently. A selection set with fragments or directives, or
/// one naming a key twice, goes to async-graphql's resolution of the connection, unchanged.
pub struct Page<T: OutputType>(pub Connection<Cursor, T, ConnectionTotals>);

impl<T: OutputType> Page<T> {
    /// A page of `nodes` (each with its cursor), whether pages come before and after it, and
    /// the total on request.
    pub fn new(
        has_previous: bool,
        has_next: bool,
        total: Total,
        nodes: impl IntoIterator<Item = (Cursor, T)>,
    ) -> Self {
        let mut page = Connection::with_additional_fields(has_previous, has_next, ConnectionTotals(total));
        page.edges.extend(nodes.into_iter().map(|(cursor, node)| Edge::new(cursor, node)));
        Self(page)
    }
}

impl<T: OutputType> OutputType for Page<T> {
    fn type_name() -> std::borrow::Cow<'static, str> {
        <Connection<Cursor, T, ConnectionTotals> as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        <Connection<Cursor, T, ConnectionTotals> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<async_graphql::Value> {
        resolve_page(self, ctx, field).await
    }
}

/// async-graphql's own resolution of a connection, boxed: the path is rare, and a future holding
/// it inline would make every page's resolution as large as the container's.
fn connection_fallback<'a, T: OutputType>(
    page: &'a Page<T>,
    ctx: &'a ContextSelectionSet<'_>,
    field: &'a Positioned<Field>,
) -> Pin<Box<dyn Future<Output = ServerResult<async_graphql::Value>> + Send + 'a>> {
    Box::pin(OutputType::resolve(&page.0, ctx, field))
}

/// Resolves a page: see [`Page`]. Mirrors async-graphql's container resolution: a field that
/// fails is reported and left out of the result (`complete.rs` puts its null back).
async fn resolve_page<T: OutputType>(
    page: &Page<T>,
    ctx: &ContextSelectionSet<'_>,
    field: &Positioned<Field>,
) -> ServerResult<async_graphql::Value> {
    use async_graphql::{Value as GqlValue, indexmap::IndexMap, parser::types::Selection};
    let items = &ctx.item.node.items;
    let plain_selection =
        items.iter().all(|s| matches!(&s.node, Selection::Field(f) if f.node.directives.is_empty()));
    if !plain_selection {
        return connection_fallback(page, ctx, field).await;
    }
    let mut map = IndexMap::with_capacity(items.len());
    // Fields that wait (`nodes` and the connection's resolvers), by their index in the map.
    let mut deferred = Vec::new();
    for selection in items {
        let Selection::Field(selected) = &selection.node else { unreachable!("checked above") };
        let typename = (selected.node.name.node == "__typename")
            .then(|| GqlValue::String(Page::<T>::type_name().into_owned()));
        let ready = typename.is_some();
        let (index, before) =
            map.insert_full(selected.node.response_key().node.clone(), typename.unwrap_or_default());
        if before.is_some() {
            // A key selected twice: its selections merge, as async-graphql's resolution does.
            return connection_fallback(page, ctx, field).await;
        }
        if !ready {
            deferred.push((index, ctx.with_field(selected)));
        }
    }
    let results = match deferred.as_slice() {
        [] => Vec::new(),
        [(_, one)] => vec![page_field(page, one).await],
        many => futures_util::future::join_all(many.iter().map(|(_, c)| page_field(page, c))).await,
    };
    crate::object::settle(ctx, map, deferred.iter().map(|(index, _)| *index).zip(results))
}

/// One field of a page that waits: `nodes` resolved here, the others by the connection.
fn page_field<'a, T: OutputType>(
    page: &'a Page<T>,
    ctx_field: &'a Context<'a>,
) -> Pin<Box<dyn Future<Output = ServerResult<Option<async_graphql::Value>>> + Send + 'a>> {
    use async_graphql::ContainerType;
    if ctx_field.item.node.name.node == "nodes" {
        Box::pin(resolve_nodes(ctx_field, &page.0.edges))
    } else {
        Box::pin(page.0.resolve_field(ctx_field))
    }
}

/// A page's `nodes`: each node resolved as async-graphql's list resolution resolves it (with its
/// index in the error path; the first failure fails the list), all polled in place.
async fn resolve_nodes<T: OutputType>(
    ctx_field: &Context<'_>,
    edges: &[Edge<Cursor, T, async_graphql::connection::EmptyFields>],
) -> ServerResult<Option<async_graphql::Value>> {
    let field = ctx_field.item;
    let ctx = ctx_field.with_selection_set(&field.node.selection_set);
    let mut nodes = Vec::with_capacity(edges.len());
    for (index, edge) in edges.iter().enumerate() {
        nodes.push(resolve_node(&ctx, field, index, &edge.node));
    }
    Ok(Some(async_graphql::Value::List(try_join_in_place(nodes).await?)))
}

/// The node at `index` of a list, as async-graphql's list resolution resolves it.
async fn resolve_node<T: OutputType>(
    ctx: &ContextSelectionSet<'_>,
    field: &Positioned<Field>,
    index: usize,
    node: &T,
) -> ServerResult<async_graphql::Value> {
    let ctx_index = ctx.with_index(index);
    node.resolve(&ctx_index, field).await.map_err(|err| ctx_index.set_error_path(err))
}

/// Awaits every future of `futures`, polling each in place when woken, and returns their outputs
/// in order, or the first error (the rest are dropped), as async-graphql's list resolution does
/// with `try_join_all`. That polls in place up to 30 futures and, past that, runs each as a task
/// of a `FuturesOrdered` (an allocation and a waker each); a page has at most [`MAX_PAGE`] nodes,
/// most ready at their first poll, so it is joined in groups of 30 instead.
pub async fn try_join_in_place<T, E, F: Future<Output = Result<T, E>>>(futures: Vec<F>) -> Result<Vec<T>, E> {
    use futures_util::future::try_join_all;
    /// `try_join_all`'s largest in-place join.
    const GROUP: usize = 30;
    if futures.len() <= GROUP {
        return try_join_all(futures).await;
    }
    let mut groups: Vec<Vec<F>> = Vec::with_capacity(futures.len().div_ceil(GROUP));
    let mut futures = futures.into_iter().peekable();
    while futures.peek().is_some() {
        groups.push(futures.by_ref().take(GROUP).collect());
    }
    let joined = try_join_all(groups.into_iter().map(try_join_all)).await?;
    Ok(joined.into_iter().flatten().collect())
}

/// A row's cursor, encoded only when a client selects it (`cursor`, `pageInfo`'s
/// `startCursor`/`endCursor`): a page whose cursors nobody asks for never builds them.
#[derive(Debug, Clone)]
pub enum Cursor {
    /// A keyset position: the row's sort value and id.
    Keyset(Value, Value),
    /// A cursor given out as it is (an event's sequence).
    Plain(String),
}

impl async_graphql::connection::CursorType for Cursor {
    type Error = std::convert::Infallible;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        Ok(Self::Plain(s.to_owned()))
    }

    fn encode_cursor(&self) -> String {
        match self {
            Self::Keyset(value, id) => encode_cursor(value, id),
            Self::Plain(text) => text.clone(),
        }
    }
}

impl Cursor {
    fn of<M: ModelTrait>(
        row: &M,
        column: <M::Entity as EntityTrait>::Column,
        id: <M::Entity as EntityTrait>::Column,
    ) -> Self {
        Self::Keyset(row.get(column), row.get(id))
    }
}

/// Which page of a list: the order (a column and direction; the list's own default when absent)
/// and the `first`/`after` window, and which columns to read of the rows (`columns.rs`; the sort
/// column is always read).
pub struct Paging<C: ColumnTrait> {
    pub order: Option<(C, Order)>,
    pub first: Option<i32>,
    pub after: Option<String>,
    pub read: crate::columns::Read<C::EntityName>,
}

/// A list request as services take it: the filter's plain form and the page.
pub struct Listing<F, C: ColumnTrait> {
    pub filter: F,
    pub paging: Paging<C>,
}

/// A list filter's conditions on a select, each applied only when the client gave it.
pub trait Narrow: QueryFilter + Sized {
    /// `column = value`.
    fn equal<C: ColumnTrait, V: Into<Value>>(self, column: C, value: Option<V>) -> Self {
        match value {
            Some(v) => self.filter(column.eq(v)),
            None => self,
        }
    }

    /// `column IN (values)`.
    fn one_of<C: ColumnTrait, V: Into<Value>>(self, column: C, values: Option<Vec<V>>) -> Self {
        match values {
            Some(v) => self.filter(column.is_in(v)),
            None => self,
        }
    }

    /// `column IN (values)` for enum values, compared as stored.
    fn one_of_enum<C: ColumnTrait, V: Into<&'static str>>(self, column: C, values: Option<Vec<V>>) -> Self {
        self.one_of(column, values.map(|v| v.into_iter().map(crate::records::wire).collect::<Vec<_>>()))
    }

    /// `from <= column <= to`, each bound when given.
    fn between<C: ColumnTrait, V: Into<Value>>(self, column: C, from: Option<V>, to: Option<V>) -> Self {
        let this = match from {
            Some(v) => self.filter(column.gte(v)),
            None => self,
        };
        match to {
            Some(v) => this.filter(column.lte(v)),
            None => this,
        }
    }

    /// `column IS NOT NULL` (true) or `column IS NULL` (false).
    fn present<C: ColumnTrait>(self, column: C, present: Option<bool>) -> Self {
        match present {
            Some(true) => self.filter(column.is_not_null()),
            Some(false) => self.filter(column.is_null()),
            None => self,
        }
    }

    /// Case-insensitive `text` anywhere in `column`; blank text matches everything.
    fn containing<C: ColumnTrait>(self, column: C, text: Option<String>) -> Self {
        match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => self.filter(Expr::expr(Func::lower(Expr::col(column))).like(contains_pattern(t))),
            None => self,
        }
    }
}

impl<E: EntityTrait> Narrow for Select<E> {}

/// Sorting by a column needs a cursor value of this kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    BigInt,
    Bool,
    Date,
    Instant,
    Uuid,
}

fn kind_of(column: &ColumnType) -> Option<Kind> {
    Some(match column {
        ColumnType::Char(_) | ColumnType::String(_) | ColumnType::Text => Kind::Text,
        ColumnType::TinyInteger | ColumnType::SmallInteger | ColumnType::Integer => Kind::Int,
        ColumnType::BigInteger => Kind::BigInt,
        ColumnType::Boolean => Kind::Bool,
        ColumnType::Date => Kind::Date,
        ColumnType::DateTime | ColumnType::Timestamp | ColumnType::TimestampWithTimeZone => Kind::Instant,
        ColumnType::Uuid => Kind::Uuid,
        _ => return None,
    })
}

/// A sort value as cursor JSON.
fn value_json(value: &Value) -> serde_json::Value {
    use serde_json::json;
    match value {
        Value::String(Some(s)) => json!(s),
        Value::Char(Some(c)) => json!(c.to_string()),
        Value::TinyInt(Some(n)) => json!(n),
        Value::SmallInt(Some(n)) => json!(n),
        Value::Int(Some(n)) => json!(n),
        Value::BigInt(Some(n)) => json!(n),
        Value::Bool(Some(b)) => json!(b),
        Value::ChronoDate(Some(d)) => json!(d.to_string()),
        Value::ChronoDateTimeUtc(Some(t)) => json!(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        Value::Uuid(Some(u)) => json!(u.to_string()),
        _ => serde_json::Value::Null,
    }
}

/// Cursor JSON back to a sort value of `kind`; `None` for a value that is not of that kind,
/// `Some(None)` for the NULL sort value.
fn json_value(json: &serde_json::Value, kind: Kind) -> Option<Option<Value>> {
    if json.is_null() {
        return Some(None);
    }
    let value = match kind {
        Kind::Text => Value::from(json.as_str()?.to_owned()),
        Kind::Int => Value::from(i32::try_from(json.as_i64()?).ok()?),
        Kind::BigInt => Value::from(json.as_i64()?),
        Kind::Bool => Value::from(json.as_bool()?),
        Kind::Date => Value::from(json.as_str()?.parse::<NaiveDate>().ok()?),
        Kind::Instant => Value::from(json.as_str()?.parse::<DateTime<Utc>>().ok()?),
        Kind::Uuid => Value::from(json.as_str()?.parse::<Uuid>().ok()?),
    };
    Some(Some(value))
}

fn bad_cursor() -> ServiceError {
    ServiceError::BadRequest("`after` is not a cursor this API gave out for this list and order".into())
}

/// A page's size, order, id column and decoded cursor.
struct Plan<C> {
    limit: i32,
    column: C,
    direction: Order,
    id: C,
    /// The cursor's sort value (`None` in the NULL tail) and id.
    after: Option<(Option<Value>, Uuid)>,
}

/// What `paging` asks for (the list's `default_order` when it names none), or why it cannot be.
fn plan<E>(
    paging: Paging<E::Column>,
    default_order: (E::Column, Order),
) -> Result<Plan<E::Column>, ServiceError>
where
    E: EntityTrait,
    E::Column: std::str::FromStr,
{
    let Paging { order, first, after, read: _ } = paging;
    let (column, direction) = order.unwrap_or(default_order);
    let limit = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&limit) {
        return Err(ServiceError::BadRequest(format!("`first` must be between 0 and {MAX_PAGE}")));
    }
    let id = <E::Column as std::str::FromStr>::from_str("id")
        .map_err(|_| ServiceError::Database(DbErr::Custom("a paged table needs an id column".into())))?;
    let kind = kind_of(column.def().get_column_type()).ok_or_else(|| {
        ServiceError::Database(DbErr::Custom(format!("cannot page by {}", column.as_str())))
    })?;
    let after = after.map(|cursor| decode_cursor(&cursor, kind)).transpose()?;
    Ok(Plan { limit, column, direction, id, after })
}

/// Reads one page of `select` (already filtered), sorted by `order` and then by id, with keyset
/// cursors: a cursor holds the last row's sort value and id, so the next page starts right after
/// it however many rows were inserted or removed meanwhile — no row twice, none skipped. Rows
/// whose sort value is NULL come last in either direction, on SQLite as on PostgreSQL.
pub async fn paginate<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    paging: Paging<E::Column>,
    default_order: (E::Column, Order),
) -> Result<Rows<E>, ServiceError>
where
    E: EntityTrait,
    E::Model: Sync,
    E::Model: crate::pgrecord::BinaryModel,
    E::Column: std::str::FromStr + ColumnTrait<EntityName = E>,
{
    let read = paging.read;
    let Plan { limit, column, direction, id, after } = plan::<E>(paging, default_order)?;
    let read = read.with(column);
    let total = Total::counting(select.clone());
    let descending = matches!(direction, Order::Desc);
    let nullable = column.def().is_null();
    // The id breaks ties in the same direction, so one index on (column, id) serves a list both
    // ways; a nullable column puts its NULLs last either way (PostgreSQL has an index for that).
    let mut select = if nullable {
        select.order_by_with_nulls(column, direction.clone(), NullOrdering::Last)
    } else {
        select.order_by(column, direction.clone())
    }
    .order_by(id, direction.clone());
    let has_previous = after.is_some();
    if let Some((value, after_id)) = after {
        let col = Expr::col((E::default(), column));
        let beyond = |a: Expr, b: Expr| if descending { a.lt(b) } else { a.gt(b) };
        let past_id = beyond(Expr::col((E::default(), id)), Expr::val(after_id));
        select = select.filter(match value {
            // In the NULL tail: only NULLs past the id remain.
            None => Condition::all().add(col.is_null()).add(past_id),
            // A row comparison: the index on (column, id) starts right after the cursor.
            Some(v) if !nullable => Condition::all().add(beyond(
                Expr::tuple([col, Expr::col((E::default(), id))]),
                Expr::tuple([Expr::val(v), Expr::val(after_id)]),
            )),
            Some(v) => Condition::any()
                .add(beyond(col.clone(), Expr::val(v.clone())))
                .add(Condition::all().add(col.clone().eq(v)).add(past_id))
                .add(col.is_null()),
        });
    }
    let mut rows = crate::pgrecord::page(db, select, read, limit as u64 + 1).await?;
    let has_next = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let rows = rows.into_iter().map(|row| (Cursor::of(&row, column, id), row)).collect();
    Ok(Slice { rows, has_previous, has_next, total })
}

/// One page of rows already loaded (a record's children, read for a whole page of parents in one
/// query), with the same order, cursors and NULL placement as [`paginate`]. The rows may have
/// been read without the text columns the request does not show (`columns.rs`), so a loaded
/// connection sorts only by columns of other types (a unit test holds the visits' order to it).
pub fn paginate_loaded<E>(
    mut rows: Vec<E::Model>,
    paging: Paging<E::Column>,
    default_order: (E::Column, Order),
) -> Result<Rows<E>, ServiceError>
where
    E: EntityTrait,
    E::Column: std::str::FromStr,
{
    let Plan { limit, column, direction, id, after } = plan::<E>(paging, default_order)?;
    let descending = matches!(direction, Order::Desc);
    let key = |row: &E::Model| (sort_key(&row.get(column)), row.get(id));
    let total = rows.len() as u64;
    rows.sort_by(|a, b| compare(&key(a), &key(b), descending));
    let start = match &after {
        Some((value, after_id)) => {
            let at = (value.as_ref().map(sort_key).unwrap_or(SortKey::Null), Value::from(*after_id));
            rows.iter().position(|row| compare(&key(row), &at, descending).is_gt()).unwrap_or(rows.len())
        }
        None => 0,
    };
    let mut rows: Vec<E::Model> = rows.into_iter().skip(start).take(limit as usize + 1).collect();
    let has_next = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let rows = rows.into_iter().map(|row| (Cursor::of(&row, column, id), row)).collect();
    Ok(Slice { rows, has_previous: after.is_some(), has_next, total: Total::known(total) })
}

/// A sort value compared in memory as the database compares it.
#[derive(PartialEq, PartialOrd)]
enum SortKey {
    Int(i64),
    Text(String),
    Null,
}

fn sort_key(value: &Value) -> SortKey {
    match value {
        Value::TinyInt(Some(n)) => SortKey::Int(i64::from(*n)),
        Value::SmallInt(Some(n)) => SortKey::Int(i64::from(*n)),
        Value::Int(Some(n)) => SortKey::Int(i64::from(*n)),
        Value::BigInt(Some(n)) => SortKey::Int(*n),
        Value::Bool(Some(b)) => SortKey::Int(i64::from(*b)),
        Value::ChronoDateTimeUtc(Some(t)) => SortKey::Int(t.timestamp_micros()),
        // Days, not the date's text: a loaded connection sorts its rows by date (a business's
        // visits), and formatting each date at each comparison was most of that sort's cost.
        Value::ChronoDate(Some(d)) => SortKey::Int(i64::from(d.num_days_from_ce())),
        other => match value_json(other) {
            serde_json::Value::String(s) => SortKey::Text(s),
            _ => SortKey::Null,
        },
    }
}

/// A record's creation instant (its `created_at` value) as a sort key: microseconds, `None`
/// for a value that is not an instant.
pub fn created_at_key(value: &Value) -> Option<i64> {
    match value {
        Value::ChronoDateTimeUtc(Some(t)) => Some(t.timestamp_micros()),
        _ => None,
    }
}

/// Sort value in `direction` with NULLs last, then id in the same direction.
fn compare(a: &(SortKey, Value), b: &(SortKey, Value), descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let by_value = match (&a.0, &b.0) {
        (SortKey::Null, SortKey::Null) => Ordering::Equal,
        (SortKey::Null, _) => Ordering::Greater,
        (_, SortKey::Null) => Ordering::Less,
        (x, y) => {
            let o = x.partial_cmp(y).unwrap_or(Ordering::Equal);
            if descending { o.reverse() } else { o }
        }
    };
    let id = |v: &Value| match v {
        Value::Uuid(Some(u)) => Some(*u),
        _ => None,
    };
    let by_id = id(&a.1).cmp(&id(&b.1));
    by_value.then(if descending { by_id.reverse() } else { by_id })
}

fn encode_cursor(value: &Value, id: &Value) -> String {
    let id = match id {
        Value::Uuid(Some(u)) => u.to_string(),
        _ => String::new(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::json!([value_json(value), id]).to_string())
}

fn decode_cursor(cursor: &str, kind: Kind) -> Result<(Option<Value>, Uuid), ServiceError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad_cursor())?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
    let Some([value, id]) = json.as_array().map(Vec::as_slice).and_then(|a| <&[_; 2]>::try_from(a).ok())
    else {
        return Err(bad_cursor());
    };
    let id: Uuid = id.as_str().and_then(|s| s.parse().ok()).ok_or_else(bad_cursor)?;
    let value = json_value(value, kind).ok_or_else(bad_cursor)?;
    Ok((value, id))
}

/// A user's text as a `LIKE … ESCAPE '\'` pattern `%…%`, lower-cased, with `%`, `_` and `\`
/// taken literally (on SQLite as on PostgreSQL: SQLite has no default escape character).
pub fn contains_pattern(text: &str) -> sea_orm::sea_query::LikeExpr {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// Sort direction.
#[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

impl From<OrderDirection> for sea_orm::Order {
    fn from(d: OrderDirection) -> Self {
        match d {
            OrderDirection::Asc => sea_orm::Order::Asc,
            OrderDirection::Desc => sea_orm::Order::Desc,
        }
    }
}

/// Declares a record's sort input: an enum of sortable fields mapped to entity columns, and the
/// `…OrderBy { field, direction }` input with the column it selects.
macro_rules! order_by {
    ($input:ident, $fields:ident, $entity:ident { $( $(#[$vdoc:meta])* $variant:ident => $column:ident ),+ $(,)? }) => {
        #[doc = concat!("Fields `", stringify!($input), "` can sort by.")]
        #[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq)]
        pub enum $fields {
            $( $(#[$vdoc])* $variant ),+
        }

        #[doc = concat!("Sort order (urutan) for `", stringify!($input), "`; ties are broken by id.")]
        #[derive(async_graphql::InputObject)]
        pub struct $input {
            /// Field to sort by.
            pub field: $fields,
            /// Direction; ascending by default.
            #[graphql(default)]
            pub direction: $crate::page::OrderDirection,
        }

        impl $input {
            /// The column and direction this input selects.
            pub fn column(&self) -> ($entity::Column, sea_orm::Order) {
                let column = match self.field {
                    $( $fields::$variant => $entity::Column::$column ),+
                };
                (column, self.direction.into())
            }
        }
    };
}
pub(crate) use order_by;

/// Declares a record type's two queries — one record by id, and the filtered, sorted, paged
/// list — guarded by the type's read scope. The look-up answers `null` with `NOT_FOUND` at its
/// path for a record that is missing or outside the token's regions; the list calls the service's
/// `list(db, actor, Listing)` with the filter's plain form. With `prefetch = f`, `f` loads the
/// relations the query selects below the records for all of them at once (`loaders::prefetch_…`).
macro_rules! queries {
    (
        $(#[$object_doc:meta])*
        $object:ident, guard = $guard:tt;
        $(#[$one_doc:meta])*
        $one:ident -> $node:ident by $entity:path;
        $(#[$list_doc:meta])*
        $list:ident($filter:ident, $order:ident) = $service:path $(, prefetch = $prefetch:path)?;
    ) => {
        $(#[$object_doc])*
        #[derive(Default)]
        pub struct $object;

        #[async_graphql::Object]
        impl $object {
            $(#[$one_doc])*
            #[graphql(guard = $guard)]
            async fn $one(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "The record's id.")] id: uuid::Uuid,
            ) -> async_graphql::Result<Option<$node>> {
                use $crate::context::ContextExt;
                let row = Box::pin($crate::records::find_visible::<$entity>(ctx.db()?, ctx.actor()?, id)).await;
                let row = row.map_err($crate::error::gql)?;
                $( Box::pin($prefetch(ctx, &ctx.look_ahead(), &[row.id])).await?; )?
                Ok(Some(row.into()))
            }

            $(#[$list_doc])*
            #[graphql(guard = $guard)]
            async fn $list(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(
                    desc = "Only records that match every condition given; all records (within the token's regions) when absent."
                )]
                filter: Option<$filter>,
                #[graphql(desc = "Sort order, ties broken by id; the list's default order when absent.")]
                order_by: Option<$order>,
                #[graphql(
                    validator(minimum = 0, maximum = 100),
                    desc = "How many records to return: at most 100; 20 when absent."
                )]
                first: Option<i32>,
                #[graphql(desc = "Return the records after this cursor: the previous page's `pageInfo.endCursor`.")]
                after: Option<String>,
            ) -> async_graphql::Result<$crate::page::Page<$node>> {
                use $crate::context::ContextExt;
                let listing = $crate::page::Listing {
                    filter: filter.map(Into::into).unwrap_or_default(),
                    paging: $crate::page::Paging {
                        order: order_by.map(|o| o.column()),
                        first,
                        after,
                        read: $crate::columns::read::<$node>(ctx),
                    },
                };
                // The service's and the prefetch's futures are boxed: held inline they would make
                // this resolver's future, and every query's (the query root's is as large as its
                // largest field's), tens of kilobytes, copied as the executor moves it.
                let page = Box::pin($service(ctx.db()?, ctx.actor()?, listing)).await.map_err($crate::error::gql)?;
                $(
                    let ids: Vec<uuid::Uuid> = page.rows.iter().map(|(_, row)| row.id).collect();
                    let look = ctx.look_ahead();
                    Box::pin($prefetch(ctx, &look.field("nodes"), &ids)).await?;
                    Box::pin($prefetch(ctx, &look.field("edges").field("node"), &ids)).await?;
                )?
                Ok(page.into_page($node::from))
            }
        }
    };
}
pub(crate) use queries;

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use sea_orm::Value;

    use super::{SortKey, sort_key};

    /// Dates compare in memory as the database compares them; a missing one is NULL (last).
    #[test]
    fn dates_sort_by_day() {
        let day = |y, m, d| sort_key(&Value::ChronoDate(NaiveDate::from_ymd_opt(y, m, d)));
        assert!(day(2025, 1, 31) < day(2025, 2, 1));
        assert!(day(1999, 12, 31) < day(2000, 1, 1));
        assert!(day(2025, 3, 1) == day(2025, 3, 1));
        assert!(matches!(sort_key(&Value::ChronoDate(None)), SortKey::Null));
    }
}
