//! The engine's error type. Every message names the value involved and, where
//! there is one, the next step. No message contains a credential.

use crate::driver::DriverError;

/// Category of an [`EngineError`], for API layers that map errors to status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotFound,
    /// The caller is known but may not do this.
    PermissionDenied,
    AlreadyExists,
    InvalidArgument,
    /// The request is valid but the current state forbids it (a refresh is
    /// already running, the fail-safe stopped a refresh).
    FailedPrecondition,
    /// The warehouse failed or could not be reached.
    Unavailable,
    Internal,
}

/// An error returned by the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "connection '{name}' not found; `metacrawl connection list` shows the known connections"
    )]
    ConnectionNotFound { name: String },

    #[error(
        "'{subject}' may not {action} connection '{connection}'; an administrator can grant data administration of it"
    )]
    Forbidden {
        subject: String,
        action: &'static str,
        connection: String,
    },

    #[error("connection '{name}' already exists; remove it first or choose another name")]
    ConnectionExists { name: String },

    #[error("invalid connection name '{name}': {reason}")]
    InvalidConnectionName { name: String, reason: &'static str },

    #[error("invalid connection URL '{url}': {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error("no driver for URL scheme '{scheme}'; supported schemes: {supported}")]
    UnknownScheme { scheme: String, supported: String },

    #[error(
        "the {driver} driver is not compiled into this build; rebuild metacrawl with `--features {feature}`"
    )]
    DriverCompiledOut {
        driver: &'static str,
        feature: &'static str,
    },

    #[error(
        "refresh already running for connection '{connection}' (job run {job_run_id}); wait for it to finish"
    )]
    RefreshInProgress { connection: String, job_run_id: i64 },

    #[error(
        "refresh of connection '{connection}' would drop {dropped} of {known} known tables ({percent:.0}%), above the fail-safe limit of {limit_percent:.0}%; nothing was committed. If the drops are expected, refresh again with the fail-safe overridden (`metacrawl refresh {connection} --allow-mass-drop`)"
    )]
    FailSafe {
        connection: String,
        dropped: usize,
        known: usize,
        percent: f64,
        limit_percent: f64,
    },

    #[error("refresh of connection '{connection}' failed: {error}")]
    Driver {
        connection: String,
        error: DriverError,
    },

    #[error(
        "snapshot {snapshot} not found for connection '{connection}'; `metacrawl history {connection}` lists its snapshots"
    )]
    SnapshotNotFound { connection: String, snapshot: i64 },

    #[error("job run {job_run_id} not found")]
    JobRunNotFound { job_run_id: i64 },

    #[error("job run {job_run_id} cannot be cancelled: {reason}")]
    NotCancellable { job_run_id: i64, reason: String },

    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },

    #[error("store {path}: {message}")]
    Store { path: String, message: String },

    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// Returns the category API layers map to their status codes.
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::ConnectionNotFound { .. }
            | EngineError::SnapshotNotFound { .. }
            | EngineError::JobRunNotFound { .. } => ErrorCode::NotFound,
            EngineError::ConnectionExists { .. } => ErrorCode::AlreadyExists,
            EngineError::Forbidden { .. } => ErrorCode::PermissionDenied,
            EngineError::InvalidConnectionName { .. }
            | EngineError::InvalidUrl { .. }
            | EngineError::UnknownScheme { .. }
            | EngineError::InvalidOption { .. }
            | EngineError::DriverCompiledOut { .. } => ErrorCode::InvalidArgument,
            EngineError::RefreshInProgress { .. }
            | EngineError::FailSafe { .. }
            | EngineError::NotCancellable { .. } => ErrorCode::FailedPrecondition,
            EngineError::Driver { .. } => ErrorCode::Unavailable,
            EngineError::Store { .. } | EngineError::Internal(_) => ErrorCode::Internal,
        }
    }
}
