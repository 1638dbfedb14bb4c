//! The engine: the one entry point a CLI, a server or an embedding backend uses.

use crate::auth::Principal;
use crate::catalog::Catalog;
use crate::change::Change;
use crate::driver::{DriverError, DriverErrorKind};
use crate::error::EngineError;
use crate::refresh::{self, RefreshOptions, RefreshPhase, RefreshProgress};
use crate::registry::DriverRegistry;
use crate::store::{ConnectionRecord, JobRun, JobRunStatus, SnapshotRecord, Store};
use crate::worker;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use tokio::sync::{Notify, broadcast, watch};

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
    /// Woken when this engine queues a job run, so a runner claims it at once.
    pub(crate) queued: Arc<Notify>,
    /// Snapshots committed by this engine, for [`Engine::subscribe`].
    committed: broadcast::Sender<CommittedSnapshot>,
    /// Cancel switches of the job runs a runner of this engine is running.
    pub(crate) cancellations: Arc<Mutex<HashMap<i64, watch::Sender<Option<String>>>>>,
}

/// A snapshot committed by this engine, with its changes.
#[derive(Debug, Clone)]
pub struct CommittedSnapshot {
    pub connection_id: i64,
    pub connection: String,
    pub report: RefreshReport,
}

/// A refresh running in the background; see [`Engine::start_refresh`].
#[derive(Debug)]
pub struct RefreshHandle {
    progress: watch::Receiver<RefreshProgress>,
    task: tokio::task::JoinHandle<Result<RefreshReport, EngineError>>,
}

impl RefreshHandle {
    /// Returns a receiver of the refresh's progress, updated after every schema.
    pub fn progress(&self) -> watch::Receiver<RefreshProgress> {
        self.progress.clone()
    }

    /// Waits for the refresh to end and returns its result.
    pub async fn wait(self) -> Result<RefreshReport, EngineError> {
        match self.task.await {
            Ok(result) => result,
            Err(error) => Err(EngineError::Internal(format!(
                "the refresh task failed: {error}"
            ))),
        }
    }
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Number of committed snapshots a slow subscriber may lag behind before it
/// misses some (it then gets `RecvError::Lagged`).
const SUBSCRIBER_CAPACITY: usize = 256;

impl Engine {
    /// Opens (or creates) the store at `path` and uses `registry` to create drivers.
    pub fn open(path: &Path, registry: DriverRegistry) -> Result<Engine, EngineError> {
        Ok(Engine {
            store: Arc::new(Store::open(path)?),
            registry,
            queued: Arc::new(Notify::new()),
            committed: broadcast::channel(SUBSCRIBER_CAPACITY).0,
            cancellations: Arc::default(),
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

    /// Adds a connection for a caller, who must be an administrator.
    pub fn create_connection(
        &self,
        principal: &Principal,
        name: &str,
        url: &str,
        description: Option<&str>,
    ) -> Result<ConnectionRecord, EngineError> {
        principal.require_admin("create", name)?;
        self.add_connection(name, url, description)
    }

    /// Changes the URL and description of a connection (administrators only).
    /// The URL is checked by its driver first, as when adding.
    pub fn update_connection(
        &self,
        principal: &Principal,
        connection_id: i64,
        url: Option<&str>,
        description: Option<&str>,
    ) -> Result<ConnectionRecord, EngineError> {
        let current = self.store.connection_by_id(connection_id)?;
        principal.require_admin("update", &current.name)?;
        let url = match url {
            Some(url) => {
                let url = self.registry.canonical_url(url)?;
                self.registry.create(&url)?;
                url
            }
            None => current.url.clone(),
        };
        let driver = self.registry.driver_name(&url)?;
        let description = description.or(current.description.as_deref());
        self.store
            .update_connection(connection_id, &url, driver, description)?;
        tracing::info!(connection_id, connection = %current.name, "connection updated");
        self.store.connection_by_id(connection_id)
    }

    /// Removes a connection with its whole history (administrators only).
    pub fn delete_connection(
        &self,
        principal: &Principal,
        connection_id: i64,
    ) -> Result<(), EngineError> {
        let connection = self.store.connection_by_id(connection_id)?;
        principal.require_admin("delete", &connection.name)?;
        self.remove_connection(&connection.name)
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
        let job_run = self.queue_job_run(&connection, None)?;
        self.store
            .start_job_run(job_run.id, worker::this_worker())?;
        self.run_job_run(&connection, job_run.id, options, progress)
            .await
    }

    /// Queues a refresh of a connection for the caller and returns at once; a
    /// [`crate::runner::JobRunner`] sharing this store runs it. Fails with
    /// [`EngineError::RefreshInProgress`] when the connection already has a
    /// QUEUED or RUNNING job run.
    pub fn request_refresh(
        &self,
        principal: &Principal,
        connection_id: i64,
    ) -> Result<JobRun, EngineError> {
        let connection = self.store.connection_by_id(connection_id)?;
        principal.authorize(&self.store, &connection, "refresh")?;
        let job_run = self.queue_job_run(&connection, Some(&principal.subject))?;
        tracing::info!(
            connection_id,
            job_run_id = job_run.id,
            subject = %principal.subject,
            "refresh queued"
        );
        self.queued.notify_one();
        Ok(job_run)
    }

    /// Finds a connection the caller may read.
    pub fn readable_connection(
        &self,
        principal: &Principal,
        connection_id: i64,
    ) -> Result<ConnectionRecord, EngineError> {
        let connection = self.store.connection_by_id(connection_id)?;
        principal.authorize(&self.store, &connection, "read")?;
        Ok(connection)
    }

    /// Lists the connections the caller may read.
    pub fn readable_connections(
        &self,
        principal: &Principal,
    ) -> Result<Vec<ConnectionRecord>, EngineError> {
        let mut readable = Vec::new();
        for connection in self.store.list_connections()? {
            if principal.admin
                || self
                    .store
                    .is_data_administrator(connection.id, &principal.subject)?
            {
                readable.push(connection);
            }
        }
        Ok(readable)
    }

    /// Grants `subject` data administration of a connection (administrators only).
    pub fn grant_data_administrator(
        &self,
        principal: &Principal,
        name: &str,
        subject: &str,
    ) -> Result<(), EngineError> {
        principal.require_admin("grant access to", name)?;
        let connection = self.store.connection_by_name(name)?;
        self.store
            .grant_data_administrator(connection.id, subject)?;
        tracing::info!(
            connection_id = connection.id,
            subject,
            "data administrator granted"
        );
        Ok(())
    }

    /// Revokes a data administration grant (administrators only); returns
    /// whether there was one.
    pub fn revoke_data_administrator(
        &self,
        principal: &Principal,
        name: &str,
        subject: &str,
    ) -> Result<bool, EngineError> {
        principal.require_admin("revoke access to", name)?;
        let connection = self.store.connection_by_name(name)?;
        let revoked = self
            .store
            .revoke_data_administrator(connection.id, subject)?;
        tracing::info!(
            connection_id = connection.id,
            subject,
            revoked,
            "data administrator revoked"
        );
        Ok(revoked)
    }

    /// Runs a job run already RUNNING in this process to its end: reads the
    /// catalog, compares, commits. On failure the job run is FAILED with the
    /// error, and the previous snapshot stays current.
    pub(crate) async fn run_job_run(
        &self,
        connection: &ConnectionRecord,
        job_run_id: i64,
        options: RefreshOptions,
        progress: Option<watch::Sender<RefreshProgress>>,
    ) -> Result<RefreshReport, EngineError> {
        tracing::info!(
            connection_id = connection.id,
            job_run_id,
            driver = %connection.driver,
            "refresh started"
        );
        let progress = progress.unwrap_or_else(|| watch::channel(RefreshProgress::not_started()).0);
        let outcome = self
            .crawl_and_commit(connection, job_run_id, options, &progress)
            .await;
        progress.send_modify(|progress| progress.phase = RefreshPhase::Finished);

        match outcome {
            Ok(report) => {
                tracing::info!(
                    connection_id = connection.id,
                    job_run_id,
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
                    job_run_id,
                    error = %error,
                    "refresh failed"
                );
                if let Err(store_error) = self.store.fail_job_run(job_run_id, &error.to_string()) {
                    tracing::error!(
                        job_run_id,
                        error = %store_error,
                        "recording the failed job run failed"
                    );
                }
                Err(error)
            }
        }
    }

    async fn crawl_and_commit(
        &self,
        connection: &ConnectionRecord,
        job_run_id: i64,
        options: RefreshOptions,
        progress: &watch::Sender<RefreshProgress>,
    ) -> Result<RefreshReport, EngineError> {
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

        let store = Arc::clone(&self.store);
        let crawl_connection = connection.clone();
        let crawl_progress = progress.clone();
        // A panic in a driver or in the comparison must end as a FAILED job run,
        // not leave it RUNNING: the crawl runs in its own task.
        // Aborted when this future is dropped (a cancelled or timed-out job run).
        let mut crawl = AbortOnDrop(tokio::spawn(async move {
            refresh::crawl(store, driver, &crawl_connection, options, &crawl_progress).await
        }));
        let mut commit = match (&mut crawl.0).await {
            Ok(result) => result?,
            Err(error) => {
                return Err(EngineError::Internal(format!(
                    "the refresh task failed: {error}"
                )));
            }
        };

        commit.job_run_id = Some(job_run_id);
        let snapshot = self.store.commit_snapshot(&commit)?;
        let report = RefreshReport {
            job_run_id,
            snapshot,
            changes: commit.changes,
        };
        // No subscriber is no error.
        let _ = self.committed.send(CommittedSnapshot {
            connection_id: connection.id,
            connection: connection.name.clone(),
            report: report.clone(),
        });
        Ok(report)
    }

    /// Cancels a job run for a caller allowed to refresh its connection. A
    /// QUEUED run is marked FAILED at once; a RUNNING one is stopped when a
    /// runner of this engine runs it, and marked FAILED ("cancelled by ...").
    pub fn cancel_job_run(
        &self,
        principal: &Principal,
        job_run_id: i64,
    ) -> Result<JobRun, EngineError> {
        let run = self.store.job_run(job_run_id)?;
        let connection = self.store.connection_by_id(run.connection_id)?;
        principal.authorize(&self.store, &connection, "cancel refreshes of")?;
        let message = format!("cancelled by {}", principal.subject);

        match run.status {
            JobRunStatus::Queued => self.store.fail_job_run(job_run_id, &message)?,
            JobRunStatus::Running => {
                let cancellations = self
                    .cancellations
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let Some(switch) = cancellations.get(&job_run_id) else {
                    let worker = self.store.job_run_worker(job_run_id)?.unwrap_or_default();
                    return Err(EngineError::NotCancellable {
                        job_run_id,
                        reason: format!(
                            "it runs in another process ({worker}); cancel it through that server"
                        ),
                    });
                };
                let _ = switch.send(Some(message));
            }
            finished => {
                return Err(EngineError::NotCancellable {
                    job_run_id,
                    reason: format!("it already ended ({finished})"),
                });
            }
        }
        tracing::info!(job_run_id, subject = %principal.subject, "job run cancel requested");
        self.store.job_run(job_run_id)
    }

    /// Subscribes to the snapshots this engine commits from now on, with
    /// their changes (refreshes run by other processes are not seen).
    pub fn subscribe(&self) -> broadcast::Receiver<CommittedSnapshot> {
        self.committed.subscribe()
    }

    /// Starts a refresh in the background and returns a handle to watch its
    /// progress and await its result. Needs a tokio runtime.
    pub fn start_refresh(&self, name: &str, options: RefreshOptions) -> RefreshHandle {
        let (sender, progress) = watch::channel(RefreshProgress::not_started());
        let engine = self.clone();
        let name = name.to_string();
        let task = tokio::spawn(async move { engine.refresh(&name, options, Some(sender)).await });
        RefreshHandle { progress, task }
    }

    /// Queues a job run. A RUNNING run whose process on this host has exited
    /// (killed, crashed) is marked FAILED first, so it does not block the
    /// connection. A run left by a process on another host still does.
    fn queue_job_run(
        &self,
        connection: &ConnectionRecord,
        user_id: Option<&str>,
    ) -> Result<JobRun, EngineError> {
        let active = match self
            .store
            .insert_job_run(connection.id, &connection.name, user_id)
        {
            Err(EngineError::RefreshInProgress { job_run_id, .. }) => job_run_id,
            other => return other,
        };

        let worker = self.store.job_run_worker(active)?;
        let Some(worker) = worker.filter(|worker| worker::is_dead_local_worker(worker)) else {
            return self
                .store
                .insert_job_run(connection.id, &connection.name, user_id);
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
            .insert_job_run(connection.id, &connection.name, user_id)
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
