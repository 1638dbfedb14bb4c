//! Helpers shared by the integration tests.

use metacrawl_engine::{DriverRegistry, Engine};
use std::path::{Path, PathBuf};

/// Schema of the sample music-store warehouse, shared with `metacrawl demo`.
pub(crate) const MUSIC_SETUP: &str = include_str!("../../demo/music/setup.sql");
/// Schema changes applied to the music store between two refreshes.
pub(crate) const MUSIC_CHANGE: &str = include_str!("../../demo/music/change.sql");

/// A temporary folder holding a warehouse file and a store file.
pub(crate) struct Workspace {
    pub(crate) dir: tempfile::TempDir,
}

impl Workspace {
    pub(crate) fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("create a temporary folder"),
        }
    }

    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    pub(crate) fn store_path(&self) -> PathBuf {
        self.path("metacrawl.db")
    }

    /// Creates `warehouse.db` from SQL and returns its `sqlite://` URL.
    pub(crate) fn sqlite_warehouse(&self, sql: &str) -> String {
        let path = self.path("warehouse.db");
        execute(&path, sql);
        format!("sqlite://{}", path.display())
    }

    /// Runs SQL on `warehouse.db`.
    pub(crate) fn change_warehouse(&self, sql: &str) {
        execute(&self.path("warehouse.db"), sql);
    }

    /// Opens an engine on this workspace's store with the built-in drivers and
    /// any extra registrations.
    pub(crate) fn engine(&self, extra: impl FnOnce(&mut DriverRegistry)) -> Engine {
        let mut registry = DriverRegistry::new();
        metacrawl_drivers::register_builtin(&mut registry);
        extra(&mut registry);
        Engine::open(&self.store_path(), registry).expect("open the store")
    }
}

pub(crate) fn execute(path: &Path, sql: &str) {
    let connection = rusqlite::Connection::open(path).expect("open the warehouse");
    connection.execute_batch(sql).expect("run warehouse SQL");
}

/// Counts the rows of each temporal catalog table and of `changes`.
pub(crate) fn row_counts(store: &Path) -> [(String, i64); 5] {
    let connection = rusqlite::Connection::open(store).expect("open the store");
    [
        "catalog_databases",
        "catalog_schemas",
        "catalog_tables",
        "catalog_columns",
        "changes",
    ]
    .map(|table| {
        let count = connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .expect("count rows");
        (table.to_string(), count)
    })
}
