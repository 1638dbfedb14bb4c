//! Classification of Postgres errors into the driver error kinds, which
//! decide whether a refresh goes on without the scope or fails.

use metacrawl_engine::driver::{DriverError, DriverErrorKind};
use tokio_postgres::error::SqlState;

/// Returns the driver error for a tokio-postgres error, with the server's
/// message and, where there is one, its detail.
pub(crate) fn classify(error: &tokio_postgres::Error) -> DriverError {
    let Some(database_error) = error.as_db_error() else {
        // Not a server error: the connection failed or was lost.
        return DriverError::new(DriverErrorKind::Connection, error.to_string());
    };

    let code = database_error.code();
    let kind = if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        DriverErrorKind::PermissionDenied
    } else if *code == SqlState::QUERY_CANCELED {
        DriverErrorKind::TimedOut
    } else if *code == SqlState::INVALID_PASSWORD
        || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    {
        DriverErrorKind::Authentication
    } else if *code == SqlState::PROGRAM_LIMIT_EXCEEDED || *code == SqlState::OUT_OF_MEMORY {
        DriverErrorKind::LimitExceeded
    } else if is_vanished_object(error) {
        DriverErrorKind::Vanished
    } else {
        DriverErrorKind::Query
    };

    let mut message = database_error.message().to_string();
    if let Some(detail) = database_error.detail() {
        message.push_str(&format!(" ({detail})"));
    }
    DriverError::new(kind, message)
}

/// Returns whether the error reports a catalog object that disappeared while it was read:
/// a concurrent DROP seen through the system caches.
pub(crate) fn is_vanished_object(error: &tokio_postgres::Error) -> bool {
    let Some(database_error) = error.as_db_error() else {
        return false;
    };
    let code = database_error.code();
    if *code == SqlState::UNDEFINED_TABLE
        || *code == SqlState::UNDEFINED_OBJECT
        || *code == SqlState::INVALID_SCHEMA_NAME
        || *code == SqlState::UNDEFINED_FUNCTION
    {
        return true;
    }
    let message = database_error.message();
    *code == SqlState::INTERNAL_ERROR
        && (message.starts_with("cache lookup failed")
            || message.starts_with("could not open relation with OID"))
}
