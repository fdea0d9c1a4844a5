//! Lifecycle moves, declared once each: the mutation's name, the statuses it starts from, the
//! status it reaches, and the input it takes. [`moves!`] turns one module's declarations into its
//! lifecycle table and its move mutations, so adding a move is a line; the tests walk the same
//! table (every move from every status).

use uuid::Uuid;

/// One lifecycle move as the API offers it.
pub struct Move<S: 'static> {
    /// The mutation, as named in Rust (GraphQL spells it in camelCase).
    pub field: &'static str,
    /// The statuses it may start from.
    pub from: &'static [S],
    /// The status it reaches.
    pub to: S,
    /// Whether it ends or refuses the record (reject, close, cancel, withdraw, deactivate,
    /// decline, drop): such a move needs a reason, kept on the record and in its case event.
    pub ends: bool,
}

/// A request to move a record: which one, the version the client read, the reason (for a move
/// that ends or refuses it) and what the record type's moves record besides.
pub struct StatusChange<D = ()> {
    pub id: Uuid,
    pub expected_version: i32,
    pub reason: Option<String>,
    pub details: D,
}

/// Input of a lifecycle move that needs nothing but the record and its version.
#[derive(async_graphql::InputObject)]
pub struct StatusChangeInput {
    /// The record.
    pub id: Uuid,
    /// The version the client last read; a stale one is refused with `CONFLICT`.
    pub expected_version: i32,
}

/// Input of a move that ends or refuses a record (reject, close, cancel, withdraw, deactivate,
/// decline, drop): the reason is kept on the record (`statusReason`) and in its case event; a
/// refusal that leaves the status as it is (`rejectBusinessClosure`) keeps it in its event only.
#[derive(async_graphql::InputObject)]
pub struct StatusChangeWithReasonInput {
    /// The record.
    pub id: Uuid,
    /// The version the client last read; a stale one is refused with `CONFLICT`.
    pub expected_version: i32,
    /// Why (alasan); not blank. At most 2000 characters. It travels with the case event to every
    /// subscriber that may read the record: write no personal data here.
    #[graphql(validator(chars_max_length = 2000))]
    pub reason: String,
}

impl<D: Default> From<StatusChangeInput> for StatusChange<D> {
    fn from(input: StatusChangeInput) -> Self {
        Self { id: input.id, expected_version: input.expected_version, reason: None, details: D::default() }
    }
}

impl<D: Default> From<StatusChangeWithReasonInput> for StatusChange<D> {
    fn from(input: StatusChangeWithReasonInput) -> Self {
        Self {
            id: input.id,
            expected_version: input.expected_version,
            reason: Some(input.reason),
            details: D::default(),
        }
    }
}

/// Declares a record type's lifecycle moves: a `const` lifecycle table and a mutation object
/// with one mutation per move, each guarded, converting its input into a [`StatusChange`] and
/// calling the service's `change_status(state, actor, move, change)`. A move is checked against
/// its own `from` statuses (two moves may reach the same status from different ones).
///
/// ```ignore
/// moves! {
///     /// Loan lifecycle mutations.
///     LoanMoves, LIFECYCLE: LoanStatus, guard = "RequireWrite(EntityType::LoanApplication)",
///     payload = ChangeLoanStatusPayload, service = service::change_status;
///     /// DRAFT → SUBMITTED.
///     submit_loan_application(StatusChangeInput): [Draft] => Submitted;
///     /// SUBMITTED/UNDER_REVIEW → REJECTED with a reason.
///     reject_loan(StatusChangeWithReasonInput): [Submitted, UnderReview] => Rejected, ends;
/// }
/// ```
macro_rules! moves {
    (
        $(#[$object_doc:meta])*
        $object:ident, $lifecycle:ident: $status:ident, guard = $guard:tt,
        payload = $payload:ident, service = $service:path;
        $(
            $(#[$doc:meta])*
            $field:ident($input:ty): [$($from:ident),+] => $to:ident $(, $ends:ident)?;
        )+
    ) => {
        /// The lifecycle: every move the API offers.
        pub const $lifecycle: $crate::records::Lifecycle<$status> = $crate::records::Lifecycle(&[
            $(
                $crate::moves::Move {
                    field: stringify!($field),
                    from: &[$($status::$from),+],
                    to: $status::$to,
                    ends: $crate::moves::moves!(@ends $($ends)?),
                },
            )+
        ]);

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
                    #[graphql(desc = "The record, the version you read, and what the move records.")]
                    input: $input,
                ) -> async_graphql::Result<$payload> {
                    use $crate::context::ContextExt;
                    let to = $lifecycle.by_field(stringify!($field)).map_err($crate::error::gql)?;
                    $payload::from_result($service(ctx.state()?, ctx.actor()?, to, input.into()).await)
                }
            )+
        }
    };
    (@ends ends) => { true };
    (@ends) => { false };
}
pub(crate) use moves;
