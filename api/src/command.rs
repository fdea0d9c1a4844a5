//! Commands: what services receive. A GraphQL input type and the plain struct a service takes are
//! declared once, by [`inputs!`]: the input keeps the API's scalars (`Rupiah`, `Date`),
//! `MaybeUndefined` and validators; the command holds plain Rust values (`i64`, `NaiveDate`,
//! [`Patch`]), so services can be called from the CLI, the seed or a test without GraphQL.

use async_graphql::MaybeUndefined;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::scalars::{Date, Rupiah};

/// An optional value in an update: keep it, clear it, or set it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Absent: leave the value as it is.
    #[default]
    Keep,
    /// Explicit null: clear the value.
    Clear,
    /// Set the value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the value stays as it is.
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }

    /// The value being set, if any.
    pub fn value(&self) -> Option<&T> {
        match self {
            Patch::Set(v) => Some(v),
            _ => None,
        }
    }

    /// `None` to keep, `Some(None)` to clear, `Some(Some(v))` to set.
    pub fn change(self) -> Option<Option<T>> {
        match self {
            Patch::Keep => None,
            Patch::Clear => Some(None),
            Patch::Set(v) => Some(Some(v)),
        }
    }
}

/// How an API input value becomes the plain value a service takes.
pub trait Plain {
    /// The plain value.
    type Plain;
    /// Converts.
    fn plain(self) -> Self::Plain;
}

impl<T: Plain> Plain for Option<T> {
    type Plain = Option<T::Plain>;
    fn plain(self) -> Self::Plain {
        self.map(Plain::plain)
    }
}

impl<T: Plain> Plain for Vec<T> {
    type Plain = Vec<T::Plain>;
    fn plain(self) -> Self::Plain {
        self.into_iter().map(Plain::plain).collect()
    }
}

impl<T: Plain + async_graphql::InputType> Plain for MaybeUndefined<T> {
    type Plain = Patch<T::Plain>;
    fn plain(self) -> Self::Plain {
        match self {
            MaybeUndefined::Undefined => Patch::Keep,
            MaybeUndefined::Null => Patch::Clear,
            MaybeUndefined::Value(v) => Patch::Set(v.plain()),
        }
    }
}

impl Plain for Rupiah {
    type Plain = i64;
    fn plain(self) -> i64 {
        self.0
    }
}

impl Plain for Date {
    type Plain = NaiveDate;
    fn plain(self) -> NaiveDate {
        self.0
    }
}

/// Values that are the same in the API and in a command (strings, numbers, ids, the domain's
/// enums).
macro_rules! plain_as_is {
    ($($t:ty),+ $(,)?) => {
        $(impl $crate::command::Plain for $t {
            type Plain = $t;
            fn plain(self) -> $t {
                self
            }
        })+
    };
}
pub(crate) use plain_as_is;

plain_as_is!(String, Uuid, bool, i32, i64, chrono::DateTime<chrono::Utc>);

/// Declares GraphQL input types and the commands services take, one field list for both: each
/// `Input => Command` pair gets the `InputObject` (docs, `#[graphql]` attributes), a plain struct
/// whose fields are the [`Plain`] forms of the input's, and the conversion. `, Default` derives
/// `Default` on both (for filters, whose fields are all optional).
///
/// ```ignore
/// inputs! {
///     /// Input of `createBusiness`.
///     CreateBusinessInput => NewBusiness {
///         /// Name. At most 200 characters.
///         #[graphql(validator(chars_max_length = 200))]
///         name: String,
///         /// Monthly revenue.
///         monthly_revenue: Option<Rupiah>,
///     }
/// }
/// ```
macro_rules! inputs {
    ($(
        $(#[doc = $doc:literal])*
        $input:ident => $command:ident $(, $default:ident)? {
            $(
                $(#[doc = $fdoc:literal])*
                $(#[graphql($($fattr:tt)*)])*
                $field:ident: $ty:ty,
            )*
        }
    )+) => {$(
        $(#[doc = $doc])*
        #[derive(async_graphql::InputObject $(, $default)?)]
        pub struct $input {
            $(
                $(#[doc = $fdoc])*
                $(#[graphql($($fattr)*)])*
                pub $field: $ty,
            )*
        }

        #[doc = concat!("What a service receives for `", stringify!($input), "`.")]
        $(#[derive($default)])?
        pub struct $command {
            $(
                $(#[doc = $fdoc])*
                pub $field: <$ty as $crate::command::Plain>::Plain,
            )*
        }

        impl From<$input> for $command {
            fn from(input: $input) -> Self {
                Self { $($field: $crate::command::Plain::plain(input.$field),)* }
            }
        }
    )+};
}
pub(crate) use inputs;

/// Declares a mutation object whose mutations each convert their input into a command, call a
/// service `(state, actor, command)` and answer with the payload (expected failures as
/// `userErrors`). Lifecycle moves are declared with `moves!` instead.
///
/// ```ignore
/// mutations! {
///     /// Business mutations.
///     BusinessMutation;
///     /// Proposes a business.
///     create_business(CreateBusinessInput) -> CreateBusinessPayload = service::create,
///         guard = "RequireWrite(EntityType::Business)";
/// }
/// ```
macro_rules! mutations {
    (
        $(#[$object_doc:meta])*
        $object:ident;
        $(
            $(#[$doc:meta])*
            $field:ident($input:ty) -> $payload:ident = $service:path, guard = $guard:tt;
        )+
    ) => {
        $(#[$object_doc])*
        #[derive(Default)]
        pub struct $object;

        #[async_graphql::Object]
        impl $object {
            $(
                $(#[$doc])*
                #[graphql(guard = $guard)]
                async fn $field(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    #[graphql(desc = "What to do; see the input type's fields.")] input: $input,
                ) -> async_graphql::Result<$payload> {
                    use $crate::context::ContextExt;
                    let (state, actor) = (ctx.state()?, ctx.actor()?);
                    let supplied = $crate::supplied::Supplied::of(&input);
                    $payload::from_result(supplied.run($service(state, actor, input.into())).await)
                }
            )+
        }
    };
}
pub(crate) use mutations;
