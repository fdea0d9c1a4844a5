//! Record objects: a GraphQL object over a stored model, whose plain fields are read from the
//! model's columns and declared as a list ([`record_object!`]); only fields with logic
//! (relations, masking, computed values) are written as resolvers.
//!
//! Why not `SimpleObject` with `complex`: it needs the fields on the GraphQL type itself, so
//! either a second struct holding a copy of every column (and a conversion listing them again),
//! or async-graphql in the entity crate — where the orphan rule would then also force the
//! relations' resolvers. A field list that reads the model serves the same purpose once.
//!
//! **Plain fields in one pass.** async-graphql resolves every field of an object as a boxed
//! future in a `FuturesUnordered`, its value inserted into the result map as it finishes: for a
//! column read that is ready at once, that machinery is most of the field's cost (a nested case
//! view resolves about 1,500 fields). A record object therefore resolves itself
//! ([`resolve_record`]): each plain field — a column read declared in the list with no attribute
//! but its docs — and each computed field (its `computed` block: masking, from the record and
//! the caller) is read and converted on the spot, in selection order; the other fields
//! (resolvers, and plain fields with a `#[graphql]` attribute such as a guard or a name) go
//! through the object's generated `resolve_field`, concurrently, as async-graphql would run them
//! (their errors are reported in selection order once all have finished). A selection set with
//! fragments or custom directives, or one naming a key twice, is resolved by async-graphql's own
//! container resolution, unchanged. Plain and computed fields are leaves (scalars and enums,
//! whose conversion is ready at once). The schema registers no extension, whose per-field hooks
//! this path would skip (`schema.rs`).

use async_graphql::{
    ContainerType, Context, ContextSelectionSet, ID, OutputType, Positioned, ServerResult, Value,
    indexmap::IndexMap,
    parser::types::{Field, Selection},
    resolver_utils::resolve_container,
};
use chrono::NaiveDate;
use futures_util::FutureExt;
use std::{future::Future, pin::Pin, str::FromStr};
use uuid::Uuid;

use crate::scalars::{Date, Rupiah};

/// How a stored column reads as an API value: strings as `&str`, amounts as `Rupiah`, days as
/// `Date`, stored enum names as the enum, ids as `ID`, everything else as it is.
pub trait Read<'a, T> {
    /// The API value.
    fn read(&'a self) -> T;
}

impl<T: Copy> Read<'_, T> for T {
    fn read(&self) -> T {
        *self
    }
}

impl<'a> Read<'a, &'a str> for String {
    fn read(&'a self) -> &'a str {
        self
    }
}

impl<'a> Read<'a, Option<&'a str>> for Option<String> {
    fn read(&'a self) -> Option<&'a str> {
        self.as_deref()
    }
}

impl Read<'_, Rupiah> for i64 {
    fn read(&self) -> Rupiah {
        Rupiah(*self)
    }
}

impl Read<'_, Option<Rupiah>> for Option<i64> {
    fn read(&self) -> Option<Rupiah> {
        self.map(Rupiah)
    }
}

impl Read<'_, Date> for NaiveDate {
    fn read(&self) -> Date {
        Date(*self)
    }
}

impl Read<'_, Option<Date>> for Option<NaiveDate> {
    fn read(&self) -> Option<Date> {
        self.map(Date)
    }
}

impl Read<'_, ID> for Uuid {
    fn read(&self) -> ID {
        ID(self.to_string())
    }
}

/// A stored enum name; a value the code does not know is a defect, reported as internal.
impl<E: FromStr> Read<'_, async_graphql::Result<E>> for String {
    fn read(&self) -> async_graphql::Result<E> {
        crate::records::parse_stored(self)
    }
}

/// A record object whose plain fields can be read without a future ([`resolve_record`]).
pub trait PlainFields: ContainerType {
    /// How the plain field `name` (its GraphQL name) reads from this record, if it is one.
    fn plain(name: &str) -> Option<Reader<Self>>;
}

/// Reads a plain field of a record as its API value, given the field's selection context and
/// the field; `None` when it cannot on the spot (a stored value the API does not know), and the
/// field's own resolver then runs and reports it.
///
/// A reader gets the field's context (what a resolver gets as `ctx`) and the context of the
/// value's selection (for its output type).
pub type Reader<R> =
    for<'a> fn(&R, &Context<'a>, &ContextSelectionSet<'a>, &'a Positioned<Field>) -> Option<Value>;

/// A plain field's reader: `value` converted as its output type does, if that completes at once.
/// A leaf's conversion always does; one that waits is an object where a leaf belongs (its
/// resolver would then run again), which debug builds — the tests — refuse.
pub fn read_now<T: OutputType>(
    value: &T,
    ctx: &ContextSelectionSet<'_>,
    field: &Positioned<Field>,
) -> Option<Value> {
    let converted = value.resolve(ctx, field).now_or_never();
    debug_assert!(converted.is_some(), "a plain or computed field of type {} waits", T::type_name());
    converted.and_then(Result::ok)
}

/// A Rust field name as its GraphQL name (`decile_assessed_on` → `decileAssessedOn`), as
/// async-graphql's derive names a resolver.
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// async-graphql's own resolution of a record, boxed: the path is rare, and a future holding it
/// inline would make every record's resolution as large as the container's.
fn fallback<'a, R: PlainFields + Sync>(
    ctx: &'a ContextSelectionSet<'_>,
    root: &'a R,
) -> Pin<Box<dyn Future<Output = ServerResult<Value>> + Send + 'a>> {
    Box::pin(resolve_container(ctx, root))
}

/// Resolves a record object: plain fields read on the spot, the others through its resolvers
/// (concurrently), the result in selection order; see the module's docs.
pub async fn resolve_record<R: PlainFields + Sync>(
    ctx: &ContextSelectionSet<'_>,
    root: &R,
) -> ServerResult<Value> {
    let items = &ctx.item.node.items;
    let plain_selection =
        items.iter().all(|s| matches!(&s.node, Selection::Field(f) if f.node.directives.is_empty()));
    if !plain_selection {
        return fallback(ctx, root).await;
    }
    let mut map = IndexMap::with_capacity(items.len());
    // Fields left to their resolvers, by their index in the map.
    let mut deferred = Vec::new();
    for selection in items {
        let Selection::Field(field) = &selection.node else { unreachable!("checked above") };
        let name = field.node.name.node.as_str();
        let value = if name == "__typename" {
            Some(Value::String(root.introspection_type_name().into_owned()))
        } else {
            R::plain(name).and_then(|read| {
                let ctx_field = ctx.with_field(field);
                read(root, &ctx_field, &ctx_field.with_selection_set(&field.node.selection_set), field)
            })
        };
        let ready = value.is_some();
        let (index, before) =
            map.insert_full(field.node.response_key().node.clone(), value.unwrap_or_default());
        if before.is_some() {
            // A key selected twice: its selections merge, as async-graphql's resolution does.
            return fallback(ctx, root).await;
        }
        if !ready {
            deferred.push((index, field));
        }
    }
    if !deferred.is_empty() {
        let contexts: Vec<_> = deferred.iter().map(|(_, field)| ctx.with_field(field)).collect();
        // Boxed: a record's fields resolve records (a business its owner, the owner its
        // businesses), so the future's type would contain itself.
        let results: Pin<Box<dyn Future<Output = Vec<_>> + Send + '_>> = match contexts.as_slice() {
            [one] => Box::pin(root.resolve_field(one).map(|result| vec![result])),
            many => Box::pin(futures_util::future::join_all(many.iter().map(|c| root.resolve_field(c)))),
        };
        settle(ctx, map, deferred.iter().map(|(index, _)| *index).zip(results.await))
    } else {
        settle(ctx, map, std::iter::empty())
    }
}

/// An object's result: `map` (in selection order) with the results of the fields that waited put
/// at their indexes. A failed field is reported and left out of the map, as async-graphql leaves
/// it (`complete.rs` puts its null back); an object left without fields is `null`, as
/// async-graphql answers it.
pub fn settle(
    ctx: &ContextSelectionSet<'_>,
    mut map: IndexMap<async_graphql::Name, Value>,
    results: impl Iterator<Item = (usize, ServerResult<Option<Value>>)>,
) -> ServerResult<Value> {
    let mut failed = Vec::new();
    for (index, result) in results {
        match result {
            Ok(value) => map[index] = value.unwrap_or_default(),
            Err(error) => {
                ctx.add_error(error);
                failed.push(index);
            }
        }
    }
    // Removed last first, so the indexes hold.
    for index in failed.into_iter().rev() {
        map.shift_remove_index(index);
    }
    Ok(if map.is_empty() { Value::Null } else { Value::Object(map) })
}

/// Declares a record's GraphQL object over its `model`: each listed field (with its docs and
/// `#[graphql]` attributes) reads the column of the same name through [`Read`]; `+ audit` adds
/// the record's version and who created it when (`records::Audit`, flattened); the resolvers
/// after the list are copied into the same object. A `computed { … }` block between the two
/// holds fields computed from the record and the caller without waiting (masking):
/// `fn name(&self, ctx: &Context<'_>) -> T`, with docs and no other attribute, each a method of
/// the record and a field of the object. A computed value whose output fails (an `Err`) is
/// computed again by the field's resolver, which reports it: keep them free of effects a second
/// run would repeat, other than the personal-data log.
///
/// The object's resolvers live on a view of the record (`graphql::Name<'_>`, which derefs to
/// it, so `self.model` reads as before); the record itself resolves its plain fields in one
/// pass ([`resolve_record`]) and hands the others to the view. A listed field with any
/// attribute besides its docs is resolved by the view, so its attributes hold. The object takes
/// no attribute but its docs: a guard on the whole object would not be seen by the one-pass
/// reads, so scopes are declared on the fields that need them.
///
/// A list page and the relations folded into it read only the text columns the request's fields
/// can show (`columns.rs`): a resolver that reads a text column of its record declares it in
/// the record's `record_columns!` (one that declares nothing gets every column).
///
/// ```ignore
/// record_object! {
///     /// A business (usaha).
///     Business + audit {
///         /// Business name (nama usaha).
///         name: &str,
///         /// Monthly revenue (omzet per bulan).
///         monthly_revenue: Option<Rupiah>,
///         /// Lifecycle status.
///         status: async_graphql::Result<BusinessStatus>,
///     }
///     computed {
///         /// Phone number; masked without `pii:read`.
///         fn phone(&self, ctx: &Context<'_>) -> Option<String> { … }
///     }
///     /// The owner. Needs `beneficiary:read`.
///     #[graphql(guard = "RequireScope(Scope::BeneficiaryRead)")]
///     async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Beneficiary>> { … }
/// }
/// ```
macro_rules! record_object {
    (
        $(#[doc = $doc:literal])*
        $name:ident $(+ $audit:ident)? {
            $(
                $(#[$($fattr:tt)*])*
                $field:ident: $ty:ty
            ),* $(,)?
        }
        computed {
            $(
                $(#[doc = $cdoc:literal])*
                fn $computed:ident $cargs:tt -> $cty:ty $cbody:block
            )*
        }
        $($resolvers:tt)*
    ) => {
        const _: () = {
            impl $name {
                $(fn $computed $cargs -> $cty $cbody)*
            }

            // A record with the audit fields is a case record, and so a `Node`: the interface
            // reads its `id` through this method.
            $(impl $name {
                pub fn node_id(
                    &self,
                    _: &async_graphql::Context<'_>,
                ) -> ::std::future::Ready<async_graphql::Result<async_graphql::ID>> {
                    let _with = stringify!($audit);
                    let id = $crate::records::CaseRecord::id(&self.model);
                    ::std::future::ready(Ok(async_graphql::ID(id.to_string())))
                }
            })?

            mod graphql {
                #[allow(unused_imports)]
                use super::*;

                /// The record seen as its GraphQL object.
                pub struct $name<'r>(pub &'r super::$name);

                impl ::std::ops::Deref for $name<'_> {
                    type Target = super::$name;
                    fn deref(&self) -> &super::$name {
                        self.0
                    }
                }

                $(#[doc = $doc])*
                #[async_graphql::Object]
                // A column may be named `from_…` (a referral's `from_agency`).
                #[allow(clippy::wrong_self_convention)]
                impl<'r> $name<'r> {
                    $(
                        $(#[$($fattr)*])*
                        pub async fn $field(&self) -> $ty {
                            $crate::object::Read::read(&self.model.$field)
                        }
                    )*
                    $(
                        /// The record's version and who created it when (`version`, `createdBy`, `createdAt`, `updatedAt`).
                        #[graphql(flatten)]
                        async fn $audit(&self) -> $crate::records::Audit {
                            $crate::records::Audit::of(&self.model)
                        }
                    )?
                    $(
                        $(#[doc = $cdoc])*
                        async fn $computed(&self, ctx: &async_graphql::Context<'_>) -> $cty {
                            self.0.$computed(ctx)
                        }
                    )*
                    $($resolvers)*
                }
            }

            impl async_graphql::OutputType for $name {
                fn type_name() -> ::std::borrow::Cow<'static, str> {
                    <graphql::$name<'static> as async_graphql::OutputType>::type_name()
                }

                fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
                    <graphql::$name<'static> as async_graphql::OutputType>::create_type_info(registry)
                }

                async fn resolve(
                    &self,
                    ctx: &async_graphql::ContextSelectionSet<'_>,
                    _field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
                ) -> async_graphql::ServerResult<async_graphql::Value> {
                    $crate::object::resolve_record(ctx, self).await
                }
            }

            impl async_graphql::ContainerType for $name {
                async fn resolve_field(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                ) -> async_graphql::ServerResult<Option<async_graphql::Value>> {
                    async_graphql::ContainerType::resolve_field(&graphql::$name(self), ctx).await
                }
            }

            impl async_graphql::ObjectType for $name {}

            impl $crate::object::PlainFields for $name {
                fn plain(name: &str) -> Option<$crate::object::Reader<Self>> {
                    static PLAIN: ::std::sync::LazyLock<Vec<(String, $crate::object::Reader<$name>)>> =
                        ::std::sync::LazyLock::new(|| {
                            let plain = [$($crate::object::plain_field!($name, [$(#[$($fattr)*])*] $field: $ty)),*];
                            let computed: [(String, $crate::object::Reader<$name>); 0 $(+ { stringify!($computed); 1 })*] = [$(
                                (
                                    $crate::object::camel(stringify!($computed)),
                                    |record: &$name, ctx_field: &async_graphql::Context<'_>, ctx: &async_graphql::ContextSelectionSet<'_>, field: &_| {
                                        $crate::object::read_now(&record.$computed(ctx_field), ctx, field)
                                    },
                                )
                            ),*];
                            plain.into_iter().flatten().chain(computed).collect()
                        });
                    PLAIN.iter().find(|(plain, _)| plain == name).map(|(_, read)| *read)
                }
            }
        };
    };
    // Without computed fields.
    (
        $(#[doc = $doc:literal])*
        $name:ident $(+ $audit:ident)? { $($fields:tt)* }
        $($resolvers:tt)*
    ) => {
        $crate::object::record_object! {
            $(#[doc = $doc])*
            $name $(+ $audit)? { $($fields)* }
            computed {}
            $($resolvers)*
        }
    };
}
pub(crate) use record_object;

/// One listed field of [`record_object!`] as a plain field: its GraphQL name and reader, or
/// `None` when it has an attribute besides its docs (a guard, a name of its own …).
macro_rules! plain_field {
    ($name:ident, [$(#[doc = $doc:literal])*] $field:ident: $ty:ty) => {
        Some((
            $crate::object::camel(stringify!($field)),
            (|record: &$name,
              _: &async_graphql::Context<'_>,
              ctx: &async_graphql::ContextSelectionSet<'_>,
              field: &_| {
                let value: $ty = $crate::object::Read::read(&record.model.$field);
                $crate::object::read_now(&value, ctx, field)
            }) as $crate::object::Reader<$name>,
        ))
    };
    ($name:ident, [$(#[$($attr:tt)*])*] $field:ident: $ty:ty) => {
        None
    };
}
pub(crate) use plain_field;

#[cfg(test)]
mod tests {
    use super::{PlainFields, camel};
    use crate::{beneficiary::Beneficiary, business::Business, events::CaseEvent};

    #[test]
    fn a_field_is_named_as_the_derive_names_it() {
        assert_eq!(camel("id"), "id");
        assert_eq!(camel("decile_assessed_on"), "decileAssessedOn");
        assert_eq!(camel("is_head_of_family"), "isHeadOfFamily");
    }

    #[test]
    fn a_listed_field_with_only_docs_is_plain_and_every_other_field_is_left_to_its_resolver() {
        for name in ["id", "decile", "decileAssessedOn", "isHeadOfFamily", "status"] {
            assert!(Beneficiary::plain(name).is_some(), "{name}");
        }
        for name in ["name", "monthlyRevenue", "startedOn"] {
            assert!(Business::plain(name).is_some(), "{name}");
        }
        assert!(CaseEvent::plain("occurredAt").is_some());
        // Computed fields (masking) read on the spot too.
        for name in ["fullName", "nik", "birthDate", "statusReason"] {
            assert!(Beneficiary::plain(name).is_some(), "{name}");
        }
        // Resolvers (relations), the flattened audit fields, and a listed field with an
        // attribute of its own (here its name).
        for name in ["businesses", "assistance", "version", "createdAt", "__typename"] {
            assert!(Beneficiary::plain(name).is_none(), "{name}");
        }
        assert!(Business::plain("closureProposedByVisitId").is_none());
        assert!(Business::plain("closureProposedByVisit").is_none());
    }
}
