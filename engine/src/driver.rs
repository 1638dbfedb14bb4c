//! The contract between the engine and a warehouse driver.
//!
//! A driver lists the databases of a connection, then reads each database one
//! schema at a time, so the engine compares one schema at a time. Drivers read
//! with bulk catalog queries (one query per object kind per database or
//! schema), never one query per table. A driver may read all schemas of a
//! database at once in [`DatabaseReader::read_ahead`] and hand them out
//! schema by schema. It then keeps that database's changed tables in memory.
//!
//! Guarantees an implementation must give:
//! - `read_schema` returns every table of the schema, or an error. It never
//!   returns a partial or empty list for a schema it could not read: the engine
//!   infers drops from a returned list, so a silently short list is a false drop.
//! - An error whose [`DriverErrorKind::is_scope_local`] is true (permission
//!   denied, timed out, object vanished, warehouse limit) affects only the
//!   database or schema it was returned for. The engine keeps that scope's
//!   previous state, reports it as unreadable and goes on with the others. Any
//!   other error fails the refresh, and nothing is committed.
//! - Errors never contain a credential.

use crate::catalog::{DatabaseListing, SchemaListing, Table};
use async_trait::async_trait;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// What kind of failure a driver met; decides whether the refresh goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverErrorKind {
    /// The connection URL or options are invalid.
    InvalidConfig,
    /// The warehouse could not be reached, or the connection was lost.
    Connection,
    /// The warehouse rejected the credentials.
    Authentication,
    /// The role may not read this database or schema.
    PermissionDenied,
    /// A catalog query ran past its time limit.
    TimedOut,
    /// The database or schema was dropped while the crawl ran.
    Vanished,
    /// The warehouse refused the query because of a size or row limit.
    LimitExceeded,
    /// The connection's include or exclude patterns leave the scope out.
    ExcludedByFilter,
    /// A catalog query failed for another reason.
    Query,
}

impl DriverErrorKind {
    /// Whether the failure concerns only the scope it was returned for, so the
    /// refresh keeps that scope's previous state and goes on.
    pub fn is_scope_local(self) -> bool {
        matches!(
            self,
            DriverErrorKind::PermissionDenied
                | DriverErrorKind::TimedOut
                | DriverErrorKind::Vanished
                | DriverErrorKind::LimitExceeded
                | DriverErrorKind::ExcludedByFilter
        )
    }

    /// Returns the snake_case name used in warnings and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DriverErrorKind::InvalidConfig => "invalid_config",
            DriverErrorKind::Connection => "connection",
            DriverErrorKind::Authentication => "authentication",
            DriverErrorKind::PermissionDenied => "permission_denied",
            DriverErrorKind::TimedOut => "timed_out",
            DriverErrorKind::Vanished => "vanished",
            DriverErrorKind::LimitExceeded => "limit_exceeded",
            DriverErrorKind::ExcludedByFilter => "excluded_by_filter",
            DriverErrorKind::Query => "query",
        }
    }
}

/// An error returned by a driver. The message is shown to users as is: it names
/// the object and, where there is one, the fix, and never contains a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DriverError {
    pub kind: DriverErrorKind,
    pub message: String,
}

impl DriverError {
    /// Creates an error of `kind` with a message for users.
    pub fn new(kind: DriverErrorKind, message: impl Into<String>) -> DriverError {
        DriverError {
            kind,
            message: message.into(),
        }
    }
}

/// Version tokens ([`Table::version`]) of a schema's stored tables, by table
/// name. Empty when the refresh must read every table.
pub type KnownVersions = HashMap<String, String>;

/// Tables read from one schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaRead {
    pub tables: Vec<Table>,
    /// Tables the driver did not read because their version token equals the
    /// one in [`KnownVersions`]; the engine keeps their stored state. A driver
    /// lists a table here only when its token is exactly the known one.
    pub unchanged_tables: Vec<String>,
    /// Tables that exist but could not be read (a view over a dropped table,
    /// a table dropped while the crawl ran). Their previous state is kept and
    /// the snapshot's warnings name them; an unreadable new table is not added.
    pub unreadable_tables: Vec<UnreadableTable>,
}

impl From<Vec<Table>> for SchemaRead {
    fn from(tables: Vec<Table>) -> SchemaRead {
        SchemaRead {
            tables,
            unchanged_tables: Vec::new(),
            unreadable_tables: Vec::new(),
        }
    }
}

/// A table a driver listed but could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableTable {
    pub name: String,
    pub error: DriverError,
}

/// A connection to one warehouse, able to read its catalog.
#[async_trait]
pub trait Driver: Send + Sync + fmt::Debug {
    /// Lists the databases this connection covers. A database missing from a
    /// successful result is reported dropped.
    async fn list_databases(&self) -> Result<Vec<DatabaseListing>, DriverError>;

    /// Opens one database for reading. Drivers that need a consistent view
    /// across the schemas of a database hold it in the returned reader.
    async fn open_database(
        &self,
        database: &DatabaseListing,
    ) -> Result<Box<dyn DatabaseReader>, DriverError>;
}

/// Reads the schemas of one database; dropped when the database is done.
#[async_trait]
pub trait DatabaseReader: Send {
    /// Lists every schema of the database in scope. A schema missing from a
    /// successful result is reported dropped.
    async fn list_schemas(&mut self) -> Result<Vec<SchemaListing>, DriverError>;

    /// Announces the schemas about to be read, once per database after
    /// [`DatabaseReader::list_schemas`], each with the `known` versions its
    /// [`DatabaseReader::read_schema`] call will get. A driver that can read
    /// many schemas with one query per object kind may read them all here and
    /// return their results from memory in those calls. Nothing fails here: a driver that
    /// cannot read ahead leaves the work, and the errors, to `read_schema`.
    async fn read_ahead(&mut self, _schemas: &[(&SchemaListing, &KnownVersions)]) {}

    /// Returns whether [`DatabaseReader::read_ahead`] does the reading, so the
    /// engine reports progress for the whole database while it runs.
    fn reads_ahead(&self) -> bool {
        false
    }

    /// Reads every table of one schema listed by [`DatabaseReader::list_schemas`],
    /// with columns in ordinal order. A table that cannot be read goes to
    /// [`SchemaRead::unreadable_tables`], never into `tables` with fewer columns.
    /// A driver with version tokens may skip the tables whose token is in
    /// `known` unchanged, listing them in [`SchemaRead::unchanged_tables`].
    async fn read_schema(
        &mut self,
        schema: &SchemaListing,
        known: &KnownVersions,
    ) -> Result<SchemaRead, DriverError>;
}

/// Creates drivers for the URL schemes it claims (`sqlite`, `postgres`, ...).
pub trait DriverFactory: Send + Sync + fmt::Debug {
    /// Name of the driver, as shown to users (`sqlite`).
    fn name(&self) -> &'static str;

    /// URL schemes this factory serves, without `://`.
    fn schemes(&self) -> &'static [&'static str];

    /// Checks the URL and creates a driver for it. Fails with
    /// [`DriverErrorKind::InvalidConfig`] on a URL this driver cannot use.
    fn create(&self, url: &str) -> Result<Arc<dyn Driver>, DriverError>;

    /// Returns the form of `url` to store with a new connection, so that it
    /// means the same later and elsewhere (an absolute file path, for example).
    fn canonical_url(&self, url: &str) -> Result<String, DriverError> {
        Ok(url.to_string())
    }
}
