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
//! | [`runner`] | the worker pool that runs queued refreshes |
//! | [`auth`] | callers and what they may do |
//!
//! Embedding it: open a store with the drivers you want, add a connection,
//! refresh, and read what changed.
//!
//! ```no_run
//! use metacrawl_engine::{DriverRegistry, Engine, RefreshOptions};
//! use std::path::Path;
//!
//! # async fn example() -> Result<(), metacrawl_engine::EngineError> {
//! let mut registry = DriverRegistry::new();
//! metacrawl_drivers::register_builtin(&mut registry);
//! let engine = Engine::open(Path::new("metacrawl.db"), registry)?;
//! engine.add_connection("shop", "sqlite://./shop.db", None)?;
//!
//! let mut events = engine.subscribe();
//! let handle = engine.start_refresh("shop", RefreshOptions::default());
//! let progress = handle.progress();
//! let report = handle.wait().await?;
//! println!("{} changes, last phase {:?}", report.changes.len(), progress.borrow().phase);
//!
//! let (snapshot, catalog) = engine.catalog("shop", None)?.expect("refreshed above");
//! println!("snapshot {} has {} tables", snapshot.id, catalog.table_count());
//! let committed = events.recv().await.expect("one snapshot was committed");
//! println!("snapshot {} committed", committed.report.snapshot.id);
//! # Ok(())
//! # }
//! ```

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
    Catalog, Column, Database, DatabaseListing, Schema, SchemaListing, ShardRange, Table, TableKind,
};
pub use change::{Change, ChangeKind};
pub use driver::{
    DatabaseReader, Driver, DriverError, DriverErrorKind, DriverFactory, KnownVersions, SchemaRead,
    UnreadableTable,
};
pub use engine::{CommittedSnapshot, Engine, RefreshHandle, RefreshReport};
pub use error::{EngineError, ErrorCode};
pub use refresh::{RefreshOptions, RefreshPhase, RefreshProgress};
pub use registry::DriverRegistry;

/// Re-exported so drivers implement the async traits with the same macro.
pub use async_trait::async_trait;
