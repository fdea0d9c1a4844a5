//! Domain errors and their one mapping onto DESIGN.md's error codes.
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
    Database(#[from] DbErr),
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

    /// The `userErrors` form of an expected failure, or `None` for a top-level error.
    pub fn user_error(&self) -> Option<UserError> {
        let (field, code) = match self {
            Self::Validation { field, .. } => (Some(field.clone()), UserErrorCode::Validation),
            Self::InvalidTransition { .. } => (Some("status".into()), UserErrorCode::InvalidTransition),
            Self::Conflict { .. } => (Some("expectedVersion".into()), UserErrorCode::Conflict),
            Self::Duplicate { field, .. } | Self::DuplicatePerson { field, .. } => {
                (Some(field.clone()), UserErrorCode::Duplicate)
            }
            Self::CapacityFull => (Some("trainingId".into()), UserErrorCode::CapacityFull),
            Self::NotEligible { field, .. } => (Some(field.clone()), UserErrorCode::NotEligible),
            Self::LimitExceeded { field, .. } => (Some(field.clone()), UserErrorCode::LimitExceeded),
            _ => return None,
        };
        Some(UserError { field, code, message: self.to_string() })
    }

    /// The top-level GraphQL error for a failure that is not a user error.
    pub fn into_graphql(self) -> async_graphql::Error {
        let code = match &self {
            Self::NotFound => "NOT_FOUND",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::Database(err) if is_statement_timeout(err) => {
                tracing::warn!(error = ?err, "statement timeout");
                return coded(
                    "BAD_REQUEST",
                    "a database statement ran longer than the statement_timeout and was cancelled; nothing was written",
                );
            }
            Self::Database(err) => {
                tracing::error!(error = ?err, "database error");
                return internal_error();
            }
            other => match other.user_error() {
                Some(user) => return async_graphql::Error::new(user.message),
                None => return internal_error(),
            },
        };
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| e.set("code", code))
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

/// The opaque error a client sees when something broke inside.
pub fn internal_error() -> async_graphql::Error {
    async_graphql::Error::new("internal error").extend_with(|_, e| e.set("code", "INTERNAL"))
}

/// A top-level error with a code from DESIGN.md.
pub fn coded(code: &'static str, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message.into()).extend_with(|_, e| e.set("code", code))
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
    /// The input field at fault (camelCase), when there is one.
    pub field: Option<String>,
    /// Machine-readable code.
    pub code: UserErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

/// A note about accepted input that deserves attention (e.g. a NIK first issued outside Kaltim).
#[derive(SimpleObject, Clone, Debug)]
pub struct UserWarning {
    /// The input field concerned.
    pub field: String,
    /// Human-readable explanation.
    pub message: String,
}

/// Declares a mutation payload type: the record (null when refused), `userErrors` and `warnings`.
macro_rules! payload {
    ($(#[$doc:meta])* $name:ident { $field:ident : $ty:ty }) => {
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
                    Err(err) => match err.user_error() {
                        Some(user_error) => Ok(Self {
                            $field: None,
                            user_errors: vec![user_error],
                            warnings: Vec::new(),
                        }),
                        None => Err(err.into_graphql()),
                    },
                }
            }
        }
    };
}
pub(crate) use payload;
