//! Relay connections over SeaORM selects: `first`/`after`, page size at most 100, `totalCount`.

use async_graphql::{
    OutputType, SimpleObject,
    connection::{Connection, Edge},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QuerySelect, Select};

use crate::error::ServiceError;

/// Largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;
/// Above any position a cursor can hold.
const MAX_POSITION: u64 = 1 << 40;
/// Page size when `first` is not given.
pub const DEFAULT_PAGE: i32 = 20;

/// Fields every connection has besides edges and pageInfo.
#[derive(SimpleObject)]
pub struct ConnectionTotals {
    /// How many records match the filter, across all pages.
    pub total_count: u64,
}

/// A connection page of `T`.
pub type Page<T> = Connection<String, T, ConnectionTotals>;

fn decode_cursor(cursor: &str) -> Result<u64, ServiceError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse::<u64>().ok()))
        // No list is that long: a larger position was not given out by this API, and would
        // overflow the SQL `OFFSET`.
        .filter(|n| *n < MAX_POSITION)
        .ok_or_else(|| ServiceError::BadRequest("`after` is not a cursor this API gave out".into()))
}

fn encode_cursor(offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

/// Reads one page of `select` (already filtered and ordered) and maps rows to GraphQL nodes.
///
/// Cursors are opaque positions in the ordered result, so `orderBy` is honoured exactly; a
/// client paging through a list that changes meanwhile may see a row twice or miss a new one
/// (the case-event stream, which must not miss anything, uses its sequence instead).
pub async fn paginate<E, T>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    first: Option<i32>,
    after: Option<String>,
    map: impl Fn(E::Model) -> T,
) -> Result<Page<T>, ServiceError>
where
    E: EntityTrait,
    E::Model: Sync,
    T: OutputType,
{
    let limit = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&limit) {
        return Err(ServiceError::BadRequest(format!("`first` must be between 0 and {MAX_PAGE}")));
    }
    let offset = match after {
        Some(cursor) => decode_cursor(&cursor)? + 1,
        None => 0,
    };
    let total_count = select.clone().count(db).await?;
    let mut rows = select.offset(offset).limit(limit as u64 + 1).all(db).await?;
    let has_next = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let mut connection =
        Connection::with_additional_fields(offset > 0, has_next, ConnectionTotals { total_count });
    connection.edges.extend(
        rows.into_iter().enumerate().map(|(i, row)| Edge::new(encode_cursor(offset + i as u64), map(row))),
    );
    Ok(connection)
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

/// Sorts `select` by the client's choice or `default`, then by id so pages are stable.
pub fn sorted<E: EntityTrait>(
    select: Select<E>,
    choice: Option<(E::Column, sea_orm::Order)>,
    default: (E::Column, sea_orm::Order),
) -> Select<E> {
    use sea_orm::{QueryOrder, sea_query::Expr};
    let (column, order) = choice.unwrap_or(default);
    select.order_by(column, order).order_by_asc(Expr::col("id"))
}
