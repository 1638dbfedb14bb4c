//! The snapshot store: connections, job runs, snapshots, the temporal catalog
//! and its changes, in one SQLite file (WAL mode).
//!
//! One `rusqlite` connection serves each [`Store`]; calls take a lock on it and
//! are blocking, so async callers run them on a blocking thread. Several
//! processes may share one store file: SQLite serialises their writes, and the
//! rule of one active job run per connection is a unique index, not a check in
//! this process.
//!
//! TODO: the store is a concrete SQLite type; a trait with a shared Postgres
//! implementation is the planned scale-out path, so keep the SQL portable.

mod catalog;
mod commit;
mod connections;
mod grants;
mod history;
mod jobs;
mod metrics;
mod migrations;

pub use catalog::{StoredDatabase, StoredSchema};
pub use commit::{CatalogCounts, DatabaseRow, SchemaRow, ScopeWrite, SnapshotCommit};
pub use connections::ConnectionRecord;
pub use history::SnapshotRecord;
pub use jobs::{JobRun, JobRunStatus};
pub use metrics::{DURATION_BUCKETS, StoreMetrics};

use crate::error::EngineError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a write waits for another process's write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The snapshot store.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl Store {
    /// Opens the store at `path`, creating the file and applying pending
    /// migrations. Fails when the file is not a metacrawl store or was written
    /// by a newer metacrawl.
    pub fn open(path: &Path) -> Result<Store, EngineError> {
        let store_error = |error: rusqlite::Error| EngineError::Store {
            path: path.display().to_string(),
            message: format!(
                "cannot open the store: {error}; check that the path names a metacrawl store \
                 file that this user can write"
            ),
        };
        let created = !path.exists();
        let mut connection = Connection::open(path).map_err(store_error)?;
        // Connection URLs in the store may hold passwords: a new store is
        // readable by its owner only. SQLite gives its WAL files the same mode.
        #[cfg(unix)]
        if created {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
                |error| EngineError::Store {
                    path: path.display().to_string(),
                    message: format!("cannot make the new store private: {error}"),
                },
            )?;
        }
        connection.busy_timeout(BUSY_TIMEOUT).map_err(store_error)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(store_error)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(store_error)?;
        connection
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(store_error)?;
        migrations::apply(&mut connection, path)?;

        Ok(Store {
            path: path.to_path_buf(),
            connection: Mutex::new(connection),
        })
    }

    /// Path of the store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done transaction behind:
        // rusqlite rolls back an unfinished one on drop. The connection stays usable.
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn error(&self, operation: &str, error: rusqlite::Error) -> EngineError {
        EngineError::Store {
            path: self.path.display().to_string(),
            message: format!("{operation} failed: {error}"),
        }
    }
}

/// Current time as an ISO 8601 UTC string with milliseconds, as stored.
fn now(connection: &Connection) -> rusqlite::Result<String> {
    connection.query_row("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", [], |row| {
        row.get(0)
    })
}
