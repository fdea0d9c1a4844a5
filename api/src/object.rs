//! Record objects: a GraphQL object over a stored model, whose plain fields are read from the
//! model's columns and declared as a list ([`record_object!`]); only fields with logic
//! (relations, masking, computed values) are written as resolvers.
//!
//! Why not `SimpleObject` with `complex`: it needs the fields on the GraphQL type itself, so
//! either a second struct holding a copy of every column (and a conversion listing them again),
//! or async-graphql in the entity crate — where the orphan rule would then also force the
//! relations' resolvers. A field list that reads the model serves the same purpose once.

use async_graphql::ID;
use chrono::NaiveDate;
use std::str::FromStr;
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

/// Declares a record's GraphQL object over its `model`: each listed field (with its docs and
/// `#[graphql]` attributes) reads the column of the same name through [`Read`]; `+ audit` adds
/// the record's version and who created it when (`records::Audit`, flattened); the resolvers
/// after the list are copied into the same object.
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
///     /// The owner. Needs `beneficiary:read`.
///     #[graphql(guard = "RequireScope(Scope::BeneficiaryRead)")]
///     async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Beneficiary>> { … }
/// }
/// ```
macro_rules! record_object {
    (
        $(#[$attr:meta])*
        $name:ident $(+ $audit:ident)? {
            $(
                $(#[$fattr:meta])*
                $field:ident: $ty:ty
            ),* $(,)?
        }
        $($resolvers:tt)*
    ) => {
        $(#[$attr])*
        #[async_graphql::Object]
        impl $name {
            $(
                $(#[$fattr])*
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
            $($resolvers)*
        }
    };
}
pub(crate) use record_object;
