//! Domain errors and their one mapping onto docs/design.md's error codes.
//!
//! Expected failures become `userErrors` in a mutation's payload; the rest become top-level
//! errors with `extensions.code`. Database errors are logged whole and leave as `INTERNAL`.

use async_graphql::{Enum, ErrorExtensions, SimpleObject};
use sea_orm::DbErr;

/// What the service layer can fail with; it knows nothing of GraphQL.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("cannot move from {from} to {to}")]
    InvalidTransition { from: String, to: String },
    #[error("the record is at version {actual}, not {expected}")]
    Conflict { expected: i32, actual: i32 },
    /// A create naming the id of a record this agency created from a different input: not a
    /// retry of that create.
    #[error(
        "a record with this id exists and was not created by this input: if it is the record you meant, read or update it; for a new record, use a new id"
    )]
    IdReused,
    #[error("{message}")]
    Duplicate { field: String, message: String },
    /// A NIK or KK that belongs to someone already registered — perhaps in another region. The
    /// answer tells the caller that person exists, so it is logged as a read of their data.
    #[error("{message}")]
    DuplicatePerson { field: String, message: String, beneficiary: uuid::Uuid, regency: String },
    #[error("the training is full")]
    CapacityFull,
    #[error("{message}")]
    NotEligible { field: String, message: String },
    #[error("{message}")]
    LimitExceeded { field: String, message: String },
    #[error("database error")]
    Database(DbErr),
    /// Several expected failures found in one input, reported together.
    #[error("{} problems with the input", .0.len())]
    Several(Vec<ServiceError>),
}

impl From<DbErr> for ServiceError {
    /// A unique index refusing a row is a `DUPLICATE`, not a failure: two writers that both
    /// passed a check before inserting are told apart by the index, and the loser gets the
    /// same answer the check would have given.
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => {
                let (field, message) = duplicate_of(&detail);
                Self::Duplicate { field: field.into(), message: message.into() }
            }
            _ => Self::Database(err),
        }
    }
}

/// The input field and message for a unique index's refusal, from the database's words for it
/// (SQLite names the columns, PostgreSQL the index).
fn duplicate_of(detail: &str) -> (&'static str, &'static str) {
    if detail.contains("_pkey") || detail.contains(".id") && !detail.contains(".id_") {
        ("id", "a record with this id already exists")
    } else if detail.contains("nik") {
        ("nik", "a beneficiary with this NIK exists")
    } else if detail.contains("kk_head") || detail.contains("kk_number") {
        ("isHeadOfFamily", "this KK already has a head of family")
    } else if detail.contains("resent_from") {
        ("referralId", "this referral was re-sent already")
    } else if detail.contains("training_enrollment") {
        ("beneficiaryId", "already enrolled in this training")
    } else {
        ("input", "a record with these values already exists")
    }
}

impl ServiceError {
    /// A `VALIDATION` failure on `field`.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::Validation { field: field.to_owned(), message: message.into() }
    }

    /// Maps `NotFound` of a record an input refers to (missing, or outside the caller's regions:
    /// the two look the same) to a `VALIDATION` failure of the field that named it.
    pub fn missing(field: &'static str, what: &'static str) -> impl FnOnce(Self) -> Self {
        move |err| match err {
            Self::NotFound => Self::validation(field, format!("no such {what}")),
            other => other,
        }
    }

    /// The `userErrors` form of an expected failure (several when the input had several), or
    /// `None` for a top-level error.
    pub fn user_errors(&self) -> Option<Vec<UserError>> {
        if let Self::Several(all) = self {
            return all.iter().map(Self::user_errors).collect::<Option<Vec<_>>>().map(|v| v.concat());
        }
        let (field, code) = match self {
            Self::Validation { field, .. } => (path(field), UserErrorCode::Validation),
            Self::InvalidTransition { .. } => (None, UserErrorCode::InvalidTransition),
            Self::Conflict { .. } => (path("expectedVersion"), UserErrorCode::Conflict),
            Self::IdReused => (path("id"), UserErrorCode::Conflict),
            Self::Duplicate { field, .. } | Self::DuplicatePerson { field, .. } => {
                (path(field), UserErrorCode::Duplicate)
            }
            Self::CapacityFull => (path("trainingId"), UserErrorCode::CapacityFull),
            Self::NotEligible { field, .. } => (path(field), UserErrorCode::NotEligible),
            Self::LimitExceeded { field, .. } => (path(field), UserErrorCode::LimitExceeded),
            _ => return None,
        };
        Some(vec![UserError { field, code, message: self.to_string() }])
    }

    /// The first user error, for a caller that has room for one.
    pub fn user_error(&self) -> Option<UserError> {
        self.user_errors().and_then(|mut all| (!all.is_empty()).then(|| all.remove(0)))
    }

    /// The top-level GraphQL error for a failure that is not a user error.
    pub fn into_graphql(self) -> async_graphql::Error {
        let code = match &self {
            Self::NotFound => ErrorCode::NotFound,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::Database(err) if is_statement_timeout(err) => {
                tracing::warn!(error = %err, "statement timeout");
                return coded(
                    ErrorCode::BadRequest,
                    "a database statement ran longer than the statement_timeout and was cancelled; nothing was written",
                );
            }
            Self::Database(err) if is_unavailable(err) => {
                tracing::warn!(error = %err, "the database is unavailable");
                return coded(ErrorCode::Unavailable, crate::gateway::DATABASE_UNAVAILABLE);
            }
            Self::Database(err) => {
                tracing::error!(error = %err, "database error");
                return internal_error();
            }
            // An expected failure where no payload can carry it (a query): the request was wrong.
            other => match other.user_error() {
                Some(user) => return coded(ErrorCode::BadRequest, user.message),
                None => return internal_error(),
            },
        };
        coded(code, self.to_string())
    }
}

/// The input path of a field named `a.b.c` (`None` for the input as a whole).
fn path(field: &str) -> Option<Vec<String>> {
    (field != "input" && !field.is_empty()).then(|| field.split('.').map(str::to_owned).collect())
}

/// Collects the expected failures of an input's checks so that a mutation reports them all at
/// once; a failure that is not about the input (a database error, a forbidden write) ends the
/// checks at once.
#[derive(Default)]
pub struct Problems(Vec<ServiceError>);

impl Problems {
    /// Keeps a check's failure; the value when it passed.
    pub fn check<T>(&mut self, result: Result<T, ServiceError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.0.push(err);
                None
            }
        }
    }

    /// Keeps a failure.
    pub fn push(&mut self, err: ServiceError) {
        self.0.push(err);
    }

    /// `Err` with every failure found (or the first that is not about the input), else `Ok`.
    pub fn finish(mut self) -> Result<(), ServiceError> {
        if let Some(at) = self.0.iter().position(|e| e.user_error().is_none()) {
            return Err(self.0.swap_remove(at));
        }
        match self.0.len() {
            0 => Ok(()),
            1 => Err(self.0.remove(0)),
            _ => Err(ServiceError::Several(self.0)),
        }
    }
}

/// Whether `err` says the database cannot be reached (no connection to be had, a connection
/// lost, the server shutting down), as opposed to a statement that failed.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL going away: connection exceptions (08…), admin or crash shutdown and
            // "cannot connect now" (57P01–57P03), too many connections (53300).
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0") || code == "53300"),
            _ => false,
        },
        _ => false,
    }
}

/// Whether PostgreSQL cancelled a statement for running past `statement_timeout` (SQLSTATE 57014).
fn is_statement_timeout(err: &DbErr) -> bool {
    err.to_string().contains("statement timeout")
}

/// Maps a service failure to its top-level GraphQL error (use with `map_err`; a bare `?` would
/// pick async-graphql's blanket conversion and lose the code).
pub fn gql(err: ServiceError) -> async_graphql::Error {
    err.into_graphql()
}

/// The codes of top-level errors (`extensions.code`), as docs/design.md lists them: the only codes a
/// client ever sees there. Every error the gateway sends carries one; an error that reaches the
/// boundary without one is a defect and leaves as `INTERNAL` (see `gateway`).
#[derive(Copy, Clone, Debug, Eq, PartialEq, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No token, or an invalid, expired or revoked one (HTTP 401; WebSocket 4401/4403).
    Unauthenticated,
    /// The token lacks the scope, or a record-level rule refuses the caller.
    Forbidden,
    /// The record does not exist, or is outside the caller's regions (the two look the same).
    NotFound,
    /// The request is malformed or beyond a limit; the message says which.
    BadRequest,
    /// Too many requests; retry later.
    RateLimited,
    /// The gateway cannot serve now: its database does not answer (HTTP 503 with `Retry-After`),
    /// or it is shutting down (a subscription ends with it and its last sequence). Retry, or
    /// resubscribe; another replica may serve.
    Unavailable,
    /// Something broke inside; the cause is in the server log, never in the response.
    Internal,
}

impl ErrorCode {
    /// The code as sent, e.g. `NOT_FOUND`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The opaque error a client sees when something broke inside.
pub fn internal_error() -> async_graphql::Error {
    coded(ErrorCode::Internal, "internal error")
}

/// A top-level error with its code.
pub fn coded(code: ErrorCode, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message.into()).extend_with(|_, e| e.set("code", code.as_str()))
}

/// Codes of expected mutation failures.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum UserErrorCode {
    /// Input is malformed or breaks a rule (invalid NIK/KK, decile out of range, unknown region…).
    Validation,
    /// The lifecycle does not allow this move from the record's current status.
    InvalidTransition,
    /// `expectedVersion` is stale: someone changed the record first. Re-read and retry.
    Conflict,
    /// A unique value (NIK, id, head of family per KK, enrollment) already exists.
    Duplicate,
    /// The training has no seat left.
    CapacityFull,
    /// The beneficiary or business does not meet the programme's rule (decile, business age…).
    NotEligible,
    /// An amount is beyond the product's configured limit.
    LimitExceeded,
}

/// An expected failure of a mutation; nothing was written.
#[derive(SimpleObject, Clone, Debug)]
pub struct UserError {
    /// The path to the input field at fault, from the mutation's `input` (e.g. `["nik"]`,
    /// `["obstacles", "2"]`); null when the failure is about the input as a whole or the
    /// record's state (`INVALID_TRANSITION`).
    pub field: Option<Vec<String>>,
    /// Machine-readable code.
    pub code: UserErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

/// A note about accepted input that deserves attention (e.g. a NIK first issued outside Kaltim).
#[derive(SimpleObject, Clone, Debug)]
pub struct UserWarning {
    /// The path to the input field concerned, from the mutation's `input` (e.g. `["nik"]`).
    pub field: Vec<String>,
    /// Human-readable explanation.
    pub message: String,
}

/// Declares mutation payload types: the record (null when refused), `userErrors` and `warnings`.
macro_rules! payload {
    ($($(#[$doc:meta])* $name:ident { $field:ident : $ty:ty });+ $(;)?) => {$(
        $(#[$doc])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            /// The record after the change; null when the change was refused.
            pub $field: Option<$ty>,
            /// Expected failures; empty when the change was made.
            pub user_errors: Vec<$crate::error::UserError>,
            /// Notes about accepted input.
            pub warnings: Vec<$crate::error::UserWarning>,
        }

        impl $name {
            /// Splits a service result into the payload or a top-level error.
            #[allow(dead_code)]
            pub fn from_result<M: Into<$ty>>(
                result: Result<M, $crate::error::ServiceError>,
            ) -> async_graphql::Result<Self> {
                Self::with_warnings(result.map(|m| (m, Vec::new())))
            }

            /// Like `from_result`, with warnings about accepted input.
            pub fn with_warnings<M: Into<$ty>>(
                result: Result<(M, Vec<$crate::error::UserWarning>), $crate::error::ServiceError>,
            ) -> async_graphql::Result<Self> {
                match result {
                    Ok((model, warnings)) => Ok(Self {
                        $field: Some(model.into()),
                        user_errors: Vec::new(),
                        warnings,
                    }),
                    Err(err) => match err.user_errors() {
                        Some(user_errors) => Ok(Self {
                            $field: None,
                            user_errors,
                            warnings: Vec::new(),
                        }),
                        None => Err(err.into_graphql()),
                    },
                }
            }
        }
    )+};
}
pub(crate) use payload;

#[cfg(test)]
mod tests {
    use super::duplicate_of;

    #[test]
    fn unique_index_refusals_name_their_field_on_both_databases() {
        let cases = [
            ("UNIQUE constraint failed: beneficiary.nik", "nik"),
            ("duplicate key value violates unique constraint \"beneficiary_nik_key\"", "nik"),
            ("UNIQUE constraint failed: beneficiary.id", "id"),
            ("duplicate key value violates unique constraint \"business_pkey\"", "id"),
            ("duplicate key value violates unique constraint \"ux_beneficiary_kk_head\"", "isHeadOfFamily"),
            ("UNIQUE constraint failed: beneficiary.kk_number", "isHeadOfFamily"),
            (
                "UNIQUE constraint failed: training_enrollment.training_id, training_enrollment.beneficiary_id",
                "beneficiaryId",
            ),
        ];
        for (detail, field) in cases {
            assert_eq!(duplicate_of(detail).0, field, "{detail}");
        }
    }
}
