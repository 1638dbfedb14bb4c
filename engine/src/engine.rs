//! The engine: the one entry point a CLI, a server or an embedding backend uses.

use crate::catalog::Catalog;
use crate::change::Change;
use crate::driver::{DriverError, DriverErrorKind};
use crate::error::EngineError;
use crate::refresh::{self, RefreshOptions, RefreshPhase, RefreshProgress};
use crate::registry::DriverRegistry;
use crate::store::{ConnectionRecord, JobRun, SnapshotRecord, Store};
use crate::worker;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::watch;

/// Result of a successful refresh.
#[derive(Debug, Clone)]
pub struct RefreshReport {
    pub job_run_id: i64,
    pub snapshot: SnapshotRecord,
    pub changes: Vec<Change>,
}

/// Maximum length of a connection name, in bytes.
const MAX_CONNECTION_NAME_LENGTH: usize = 128;

/// A metadata crawler engine over one snapshot store.
#[derive(Debug, Clone)]
pub struct Engine {
    store: Arc<Store>,
    registry: DriverRegistry,
}

impl Engine {
    /// Opens (or creates) the store at `path` and uses `registry` to create drivers.
    pub fn open(path: &Path, registry: DriverRegistry) -> Result<Engine, EngineError> {
        Ok(Engine {
            store: Arc::new(Store::open(path)?),
            registry,
        })
    }

    /// Returns the snapshot store, for reads the engine does not wrap.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Adds a connection. The URL's scheme chooses the driver, which checks the
    /// URL before anything is stored.
    pub fn add_connection(
        &self,
        name: &str,
        url: &str,
        description: Option<&str>,
    ) -> Result<ConnectionRecord, EngineError> {
        validate_connection_name(name)?;
        let driver_name = self.registry.driver_name(url)?;
        let url = self.registry.canonical_url(url)?;
        self.registry.create(&url)?;

        let record = self
            .store
            .insert_connection(name, &url, driver_name, description)?;
        tracing::info!(
            connection_id = record.id,
            connection = %record.name,
            driver = driver_name,
            "connection added"
        );
        Ok(record)
    }

    /// Finds a connection by name.
    pub fn connection(&self, name: &str) -> Result<ConnectionRecord, EngineError> {
        self.store.connection_by_name(name)
    }

    /// Lists every connection by name.
    pub fn connections(&self) -> Result<Vec<ConnectionRecord>, EngineError> {
        self.store.list_connections()
    }

    /// Removes a connection with its whole history.
    pub fn remove_connection(&self, name: &str) -> Result<(), EngineError> {
        self.store.delete_connection(name)?;
        tracing::info!(connection = %name, "connection removed");
        Ok(())
    }

    /// Refreshes a connection and waits for the result: queues a job run, reads
    /// the catalog, compares it with the current snapshot and commits the next
    /// one. On failure the job run is FAILED with the error, and the previous
    /// snapshot stays current.
    ///
    /// `progress` receives an update after every schema.
    pub async fn refresh(
        &self,
        name: &str,
        options: RefreshOptions,
        progress: Option<watch::Sender<RefreshProgress>>,
    ) -> Result<RefreshReport, EngineError> {
        options.validate()?;
        let connection = self.store.connection_by_name(name)?;
        // A URL that was valid when added can stop working (a deleted file):
        // that is a failed refresh of this connection, not an invalid request.
        let driver = self
            .registry
            .create(&connection.url)
            .map_err(|error| match error {
                EngineError::InvalidUrl { reason, .. } => EngineError::Driver {
                    connection: connection.name.clone(),
                    error: DriverError::new(DriverErrorKind::InvalidConfig, reason),
                },
                other => other,
            })?;

        let job_run = self.queue_job_run(&connection)?;
        self.store
            .start_job_run(job_run.id, worker::this_worker())?;
        tracing::info!(
            connection_id = connection.id,
            job_run_id = job_run.id,
            driver = %connection.driver,
            "refresh started"
        );

        let progress = progress.unwrap_or_else(|| watch::channel(RefreshProgress::not_started()).0);
        let store = Arc::clone(&self.store);
        let crawl_connection = connection.clone();
        let crawl_progress = progress.clone();
        // A panic in a driver or in the comparison must end as a FAILED job run,
        // not leave it RUNNING: the crawl runs in its own task.
        let crawl = tokio::spawn(async move {
            refresh::crawl(store, driver, &crawl_connection, options, &crawl_progress).await
        });
        let commit = match crawl.await {
            Ok(result) => result,
            Err(error) => Err(EngineError::Internal(format!(
                "the refresh task failed: {error}"
            ))),
        };

        let outcome = commit.and_then(|mut commit| {
            commit.job_run_id = Some(job_run.id);
            let snapshot = self.store.commit_snapshot(&commit)?;
            Ok(RefreshReport {
                job_run_id: job_run.id,
                snapshot,
                changes: commit.changes,
            })
        });
        progress.send_modify(|progress| progress.phase = RefreshPhase::Finished);

        match outcome {
            Ok(report) => {
                tracing::info!(
                    connection_id = connection.id,
                    job_run_id = job_run.id,
                    snapshot_id = report.snapshot.id,
                    changes = report.changes.len(),
                    breaking = report.snapshot.breaking_change_count,
                    tables = report.snapshot.counts.tables,
                    columns = report.snapshot.counts.columns,
                    warnings = report.snapshot.warnings.len(),
                    "refresh finished"
                );
                Ok(report)
            }
            Err(error) => {
                // INFO, not WARN: the error goes back to the caller, who reports it.
                tracing::info!(
                    connection_id = connection.id,
                    job_run_id = job_run.id,
                    error = %error,
                    "refresh failed"
                );
                if let Err(store_error) = self.store.fail_job_run(job_run.id, &error.to_string()) {
                    tracing::error!(
                        job_run_id = job_run.id,
                        error = %store_error,
                        "recording the failed job run failed"
                    );
                }
                Err(error)
            }
        }
    }

    /// Queues a job run. A RUNNING run whose process on this host has exited
    /// (killed, crashed) is marked FAILED first, so it cannot block the
    /// connection forever.
    fn queue_job_run(&self, connection: &ConnectionRecord) -> Result<JobRun, EngineError> {
        let active = match self
            .store
            .insert_job_run(connection.id, &connection.name, None)
        {
            Err(EngineError::RefreshInProgress { job_run_id, .. }) => job_run_id,
            other => return other,
        };

        let worker = self.store.job_run_worker(active)?;
        let Some(worker) = worker.filter(|worker| worker::is_dead_local_worker(worker)) else {
            return self
                .store
                .insert_job_run(connection.id, &connection.name, None);
        };
        let message = format!("interrupted: the process running it ({worker}) exited");
        tracing::warn!(
            connection_id = connection.id,
            job_run_id = active,
            worker = %worker,
            "job run left running by an exited process marked failed"
        );
        self.store.fail_job_run(active, &message)?;
        self.store
            .insert_job_run(connection.id, &connection.name, None)
    }

    /// Returns a snapshot (the latest when `snapshot_id` is `None`) and the
    /// catalog as of that snapshot.
    pub fn catalog(
        &self,
        name: &str,
        snapshot_id: Option<i64>,
    ) -> Result<Option<(SnapshotRecord, Catalog)>, EngineError> {
        let connection = self.store.connection_by_name(name)?;
        let Some(snapshot) = self.snapshot(&connection, snapshot_id)? else {
            return Ok(None);
        };
        let catalog = self.store.catalog_at(connection.id, snapshot.id)?;
        Ok(Some((snapshot, catalog)))
    }

    /// Lists the changes committed after snapshot `since` (all changes when
    /// `None`), as (snapshot id, change), oldest first.
    pub fn changes(
        &self,
        name: &str,
        since: Option<i64>,
    ) -> Result<Vec<(i64, Change)>, EngineError> {
        let connection = self.store.connection_by_name(name)?;
        // 0 means "from the first snapshot"; any other id must exist.
        if let Some(since) = since.filter(|since| *since != 0) {
            self.snapshot(&connection, Some(since))?;
        }
        self.store
            .changes_between(connection.id, since.unwrap_or(0), i64::MAX)
    }

    /// Lists the snapshots of a connection, oldest first.
    pub fn history(&self, name: &str) -> Result<Vec<SnapshotRecord>, EngineError> {
        let connection = self.store.connection_by_name(name)?;
        self.store.list_snapshots(connection.id)
    }

    /// Lists the job runs of a connection, newest first, at most `limit`.
    pub fn job_runs(&self, name: &str, limit: usize) -> Result<Vec<JobRun>, EngineError> {
        let connection = self.store.connection_by_name(name)?;
        self.store.list_job_runs(connection.id, limit)
    }

    fn snapshot(
        &self,
        connection: &ConnectionRecord,
        snapshot_id: Option<i64>,
    ) -> Result<Option<SnapshotRecord>, EngineError> {
        let Some(snapshot_id) = snapshot_id else {
            return self.store.latest_snapshot(connection.id);
        };
        match self.store.snapshot(connection.id, snapshot_id)? {
            Some(snapshot) => Ok(Some(snapshot)),
            None => Err(EngineError::SnapshotNotFound {
                connection: connection.name.clone(),
                snapshot: snapshot_id,
            }),
        }
    }
}

fn validate_connection_name(name: &str) -> Result<(), EngineError> {
    let invalid = |reason| EngineError::InvalidConnectionName {
        name: name.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("a name must not be empty"));
    }
    if name.len() > MAX_CONNECTION_NAME_LENGTH {
        return Err(invalid("a name is at most 128 bytes long"));
    }
    let allowed = |character: char| character.is_alphanumeric() || "-_.".contains(character);
    if !name.chars().all(allowed) {
        return Err(invalid(
            "use letters, digits, '-', '_' and '.' only, for example 'orders-pg'",
        ));
    }
    Ok(())
}
