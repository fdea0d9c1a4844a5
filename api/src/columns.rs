//! Reading only the text columns a request can show (PostgreSQL).
//!
//! A page of records, and the relations folded into its statement (`loaders.rs`), would read
//! every column of every row: a list that shows a beneficiary's name and decile would have
//! PostgreSQL send, and the gateway copy, the NIK, KK number, address and the rest of each row
//! for nothing. A statement reads instead, of a record's text columns, only those a field named
//! in the request's document may show, and every column of another type (ids, numbers, dates,
//! flags: cheap to read, and what keys, regions, order and cursors use) and the regency. A column
//! left out is selected as `NULL` under its name, so the statement keeps the entity's columns in
//! order, and its field reads as its type's default (`pgrecord.rs`).
//!
//! Which text columns a field reads ([`Needs`]): a plain or computed field of the record's
//! object (`record_object!`) its column of the same name; the audit field `createdBy` its two
//! columns; a resolver what its record's [`Columns::READS`] says, and **every column when it says
//! nothing** — a field not declared is never read short.
//!
//! Which fields count: every field named **anywhere in the request's document** — in its
//! operation and every fragment, on whatever type, skipped or not. A record read for one part of
//! a query may be found by another part in the request's loaders' caches, so a statement reads
//! what any part could show of it; reading more than one part needs costs only time. Mutations
//! and subscriptions read whole records (their loaders keep nothing and prefetch nothing), and
//! SQLite reads every column (SeaORM's reader takes no placeholder).

use std::{collections::HashMap, marker::PhantomData, sync::OnceLock};

use async_graphql::{
    Context, OutputType,
    parser::types::{Selection, SelectionSet},
    registry::{MetaType, Registry},
};
use sea_orm::{
    ColumnTrait, ColumnType, EntityTrait, IdenStatic, Iterable, QuerySelect, Select,
    sea_query::{Alias, Expr},
};

use crate::object::{PlainFields, camel};

/// Which of `E`'s columns a statement reads: bit `i` for the entity's `i`-th column.
pub struct Read<E> {
    bits: u64,
    entity: PhantomData<fn() -> E>,
}

impl<E> Clone for Read<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Read<E> {}

impl<E> PartialEq for Read<E> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}

impl<E> std::fmt::Debug for Read<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Read({:#b})", self.bits)
    }
}

impl<E> Read<E> {
    /// Every column.
    pub const ALL: Self = Self { bits: u64::MAX, entity: PhantomData };

    fn of(bits: u64) -> Self {
        Self { bits, entity: PhantomData }
    }

    /// Whether the statement reads the column at `index` (an entity of more than 64 columns is
    /// read whole past them).
    pub fn has(self, index: usize) -> bool {
        index >= 64 || self.bits & (1 << index) != 0
    }
}

impl<E: EntityTrait> Read<E> {
    /// These columns and `column`.
    pub fn with(self, column: E::Column) -> Self {
        match E::Column::iter().position(|c| c.as_str() == column.as_str()) {
            Some(index) if index < 64 => Self::of(self.bits | 1 << index),
            _ => self,
        }
    }

    /// `select` (of every column of `E`) reading these columns, the others as `NULL` under their
    /// names.
    pub fn apply(self, select: Select<E>) -> Select<E> {
        if self == Self::ALL {
            return select;
        }
        let mut select = select.select_only();
        for (index, column) in E::Column::iter().enumerate() {
            select = match self.has(index) {
                true => select.column(column),
                false => select.expr_as(Expr::cust("NULL"), column.as_str()),
            };
        }
        select
    }

    /// The fields of a `ROW(…)` of `table`'s rows (a folded relation): each column read, or
    /// `NULL` in its place.
    pub fn fields(self, table: &Alias) -> Vec<Expr> {
        E::Column::iter()
            .enumerate()
            .map(|(index, column)| match self.has(index) {
                true => Expr::col((table.clone(), column)),
                false => Expr::cust("NULL"),
            })
            .collect()
    }
}

/// A case record's object whose statements may read only the text columns a request can show.
/// Implemented with [`record_columns!`].
pub trait Columns: PlainFields + OutputType {
    /// The record's table.
    type Entity: EntityTrait;
    /// Each resolver of the object (a field its list does not read itself) that reads text
    /// columns of the record, with them; a relation that reads its keys only, with none. A
    /// resolver not named here may read any column.
    const READS: &'static [(&'static str, &'static [&'static str])];
    /// Where the record's [`Needs`] are kept once worked out.
    fn needs() -> &'static OnceLock<Needs>;
}

/// What each field of a record's object reads, of the record's text columns.
#[derive(Debug)]
pub struct Needs {
    /// Read whatever the fields: every column of another type than text, and the regency.
    always: u64,
    /// By GraphQL field name.
    fields: HashMap<String, u64>,
}

impl Needs {
    /// The needs of `R`'s fields, as `registry` has its object.
    pub fn of<R: Columns>(registry: &Registry) -> Self {
        let columns: Vec<(&'static str, bool)> = <R::Entity as EntityTrait>::Column::iter()
            .map(|c| {
                (
                    c.as_str(),
                    matches!(
                        c.def().get_column_type(),
                        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_)
                    ),
                )
            })
            .collect();
        let object = registry.types.get(R::type_name().as_ref()).and_then(MetaType::fields);
        let (Some(object), true) = (object, columns.len() <= 64) else {
            return Self { always: u64::MAX, fields: HashMap::new() };
        };
        let bit = |name: &str| columns.iter().position(|(c, _)| *c == name).map_or(u64::MAX, |i| 1 << i);
        let always = columns
            .iter()
            .enumerate()
            .filter(|(_, (name, text))| !text || *name == "regency_code")
            .fold(0, |bits, (i, _)| bits | 1 << i);
        let fields = object
            .keys()
            .map(|name| {
                let needs = if let Some((_, read)) = R::READS.iter().find(|(field, _)| field == name) {
                    read.iter().fold(0, |bits, column| bits | bit(column))
                } else if R::plain(name).is_some() {
                    columns.iter().find(|(c, _)| camel(c) == *name).map_or(u64::MAX, |(c, _)| bit(c))
                } else {
                    match name.as_str() {
                        // The audit fields (`records::Audit`).
                        "createdBy" => bit("created_by_agency") | bit("created_by_client"),
                        "version" | "createdAt" | "updatedAt" => 0,
                        _ => u64::MAX,
                    }
                };
                (name.clone(), needs)
            })
            .collect();
        Self { always, fields }
    }

    /// The columns to read for a document naming `names`.
    pub fn read<'n, E>(&self, names: impl IntoIterator<Item = &'n str>) -> Read<E> {
        Read::of(
            names
                .into_iter()
                .fold(self.always, |bits, name| bits | self.fields.get(name).copied().unwrap_or(0)),
        )
    }
}

/// The columns of `R`'s table that statements read for this request: what the fields named in
/// its document can show (see the module's docs).
pub fn read<R: Columns>(ctx: &Context<'_>) -> Read<R::Entity> {
    let needs = R::needs().get_or_init(|| Needs::of::<R>(&ctx.schema_env.registry));
    let env = &ctx.query_env;
    let mut names = Vec::with_capacity(32);
    names_in(&env.operation.node.selection_set.node, &mut names);
    for fragment in env.fragments.values() {
        names_in(&fragment.node.selection_set.node, &mut names);
    }
    needs.read(names)
}

/// Every field name in `set`, at any depth (fragment spreads are read where they are defined).
fn names_in<'d>(set: &'d SelectionSet, names: &mut Vec<&'d str>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                names.push(field.node.name.node.as_str());
                names_in(&field.node.selection_set.node, names);
            }
            Selection::InlineFragment(fragment) => names_in(&fragment.node.selection_set.node, names),
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// Implements [`Columns`] for a record object over `entity`, with its resolvers' reads:
/// `record_columns!(Referral: referral::Entity { "outcomeType": ["outcome_type"], "business": [] })`.
macro_rules! record_columns {
    ($record:ty: $entity:ty { $($field:literal: [$($column:literal),* $(,)?]),* $(,)? }) => {
        impl $crate::columns::Columns for $record {
            type Entity = $entity;
            const READS: &'static [(&'static str, &'static [&'static str])] = &[$(($field, &[$($column),*])),*];
            fn needs() -> &'static ::std::sync::OnceLock<$crate::columns::Needs> {
                static NEEDS: ::std::sync::OnceLock<$crate::columns::Needs> = ::std::sync::OnceLock::new();
                &NEEDS
            }
        }
    };
}
pub(crate) use record_columns;

#[cfg(test)]
mod tests {
    use async_graphql::registry::Registry;
    use entity::{beneficiary, business, referral};
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use super::{Columns, Needs, Read};
    use crate::{beneficiary::Beneficiary, business::Business, referral::Referral};

    /// The columns of `E` that `read` leaves out.
    fn left_out<E: EntityTrait>(read: Read<E>) -> Vec<&'static str> {
        E::Column::iter().enumerate().filter(|(i, _)| !read.has(*i)).map(|(_, c)| c.as_str()).collect()
    }

    fn needs_of<R: Columns>() -> Needs {
        let mut registry = Registry::default();
        R::create_type_info(&mut registry);
        Needs::of::<R>(&registry)
    }

    #[test]
    fn a_document_reads_the_text_columns_its_fields_show_and_every_other_column() {
        let needs = needs_of::<Beneficiary>();
        // The list page of the benchmark: of the text columns, the name and the regency.
        let read: Read<beneficiary::Entity> =
            needs.read(["beneficiaries", "nodes", "id", "fullName", "decile"]);
        assert_eq!(
            left_out(read).join(" "),
            "nik kk_number sex phone address district_code village_code decile_source status status_reason created_by_agency created_by_client"
        );
        // A masked field reads its column; the audit's `createdBy` its two; a relation none.
        let read: Read<beneficiary::Entity> = needs.read(["nik", "createdBy", "businesses", "version"]);
        assert_eq!(
            left_out(read).join(" "),
            "kk_number full_name sex phone address district_code village_code decile_source status status_reason"
        );
        // A resolver that declares nothing may read any column: `graduationReadiness` reads the
        // whole business.
        let needs = needs_of::<Business>();
        let read: Read<business::Entity> = needs.read(["name"]);
        assert!(left_out(read).contains(&"sector"));
        assert_eq!(needs.read::<business::Entity>(["name", "graduationReadiness"]), Read::ALL);
        // A resolver reads what it declares.
        let needs = needs_of::<Referral>();
        let read: Read<referral::Entity> = needs.read(["outcome"]);
        assert!(!left_out(read).contains(&"outcome_type") && left_out(read).contains(&"reason"));
        // A name no field of the record has changes nothing.
        assert_eq!(needs.read::<referral::Entity>(["whatever"]), needs.read::<referral::Entity>([]));
    }

    /// Each declared read names a field of the record's object and columns of its table: a
    /// misspelt one would be a field read short.
    #[test]
    fn every_declared_read_names_a_field_and_its_columns() {
        fn check<R: Columns>() {
            let mut registry = Registry::default();
            R::create_type_info(&mut registry);
            let fields = registry.types[R::type_name().as_ref()].fields().expect("an object");
            let columns: Vec<&str> = <R::Entity as EntityTrait>::Column::iter().map(|c| c.as_str()).collect();
            for (field, read) in R::READS {
                assert!(fields.contains_key(*field), "{}.{field}", R::type_name());
                for column in *read {
                    assert!(columns.contains(column), "{}.{field}: {column}", R::type_name());
                }
            }
        }
        check::<Beneficiary>();
        check::<Business>();
        check::<crate::loan::LoanApplication>();
        check::<crate::monitoring::MonitoringVisit>();
        check::<Referral>();
    }
}
