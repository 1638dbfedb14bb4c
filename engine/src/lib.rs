//! metacrawl-engine: the core of the metacrawl warehouse metadata crawler.
//!
//! It holds the catalog model, the [`Driver`] contract every warehouse driver
//! implements, the comparison of two catalogs, and the snapshot store that keeps
//! every refresh as a versioned snapshot in SQLite. It depends on no driver and
//! no network server: a backend embeds it as a library.
//!
//! | module | concept |
//! |---|---|
//! | [`catalog`] | databases, schemas, tables, columns |
//! | [`driver`] | the contract with warehouse drivers |
//! | [`registry`] | drivers chosen by URL scheme |
//! | [`diff`] | fingerprints and the comparison of a schema |
//! | [`store`] | the temporal SQLite snapshot store |
//! | [`refresh`] | options and progress of a refresh |
//! | [`engine`] | the entry point: connections, refresh, catalog, changes |

pub mod auth;
pub mod catalog;
pub mod change;
mod compute;
pub mod diff;
pub mod driver;
pub mod engine;
pub mod error;
pub mod fingerprint;
pub mod redact;
pub mod refresh;
pub mod registry;
pub mod runner;
pub mod store;
pub mod types;
pub(crate) mod worker;

pub use auth::Principal;
pub use catalog::{
    Catalog, Column, Database, DatabaseListing, Schema, SchemaListing, Table, TableKind,
};
pub use change::{Change, ChangeKind};
pub use driver::{
    DatabaseReader, Driver, DriverError, DriverErrorKind, DriverFactory, KnownVersions, SchemaRead,
    UnreadableTable,
};
pub use engine::{Engine, RefreshReport};
pub use error::{EngineError, ErrorCode};
pub use refresh::{RefreshOptions, RefreshPhase, RefreshProgress};
pub use registry::DriverRegistry;

/// Re-exported so drivers implement the async traits with the same macro.
pub use async_trait::async_trait;
