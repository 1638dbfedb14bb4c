//! The job runner: a bounded pool that runs queued refreshes.
//!
//! Refresh requests only insert a QUEUED job run ([`Engine::request_refresh`]).
//! The runner claims queued job runs one at a time from the store (an atomic
//! UPDATE, so several processes sharing a store never run one job twice) and
//! runs up to `concurrency` of them at once. The store's unique index keeps
//! one active job run per connection.
//!
//! On start, RUNNING job runs whose process on this host has exited are
//! marked FAILED ("interrupted by restart"); queued ones are picked up. On
//! shutdown, running jobs get a grace period, then are marked FAILED
//! ("interrupted by shutdown").

use crate::engine::Engine;
use crate::error::EngineError;
use crate::refresh::{RefreshOptions, RefreshProgress};
use crate::store::JobRun;
use crate::worker;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// How often the runner looks for queued job runs inserted by other processes.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Settings of a [`JobRunner`].
#[derive(Debug, Clone, Copy)]
pub struct RunnerOptions {
    /// Job runs running at once, over all connections.
    pub concurrency: usize,
    /// Maximum time a refresh may run before it is stopped and marked FAILED.
    pub job_timeout: Option<Duration>,
    /// How long running refreshes may go on after shutdown starts.
    pub shutdown_grace: Duration,
}

impl Default for RunnerOptions {
    fn default() -> RunnerOptions {
        RunnerOptions {
            concurrency: 4,
            job_timeout: None,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Running job runs and their progress, shared with the API layers.
#[derive(Debug, Clone, Default)]
pub struct ProgressBoard {
    running: Arc<Mutex<HashMap<i64, watch::Receiver<RefreshProgress>>>>,
}

impl ProgressBoard {
    /// Returns the latest progress of a running job run.
    pub fn progress(&self, job_run_id: i64) -> Option<RefreshProgress> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        running
            .get(&job_run_id)
            .map(|receiver| receiver.borrow().clone())
    }

    fn insert(&self, job_run_id: i64, receiver: watch::Receiver<RefreshProgress>) {
        let mut running = self
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        running.insert(job_run_id, receiver);
    }

    fn remove(&self, job_run_id: i64) {
        let mut running = self
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        running.remove(&job_run_id);
    }
}

/// A running job runner; [`JobRunner::shutdown`] stops it.
#[derive(Debug)]
pub struct JobRunner {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    board: ProgressBoard,
    grace: Duration,
}

impl JobRunner {
    /// Recovers job runs interrupted by an earlier crash and starts the pool.
    pub fn start(engine: Engine, options: RunnerOptions) -> Result<JobRunner, EngineError> {
        recover_interrupted(&engine)?;
        let (stop, stopped) = watch::channel(false);
        let board = ProgressBoard::default();
        let task = tokio::spawn(dispatch(engine, options, stopped, board.clone()));
        Ok(JobRunner {
            stop,
            task,
            board,
            grace: options.shutdown_grace,
        })
    }

    /// Returns the board that shows the progress of running job runs.
    pub fn progress_board(&self) -> ProgressBoard {
        self.board.clone()
    }

    /// Stops claiming job runs, lets running ones finish within the grace
    /// period, and marks those still running FAILED ("interrupted by shutdown").
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        // The dispatcher waits out the grace period itself; give it a margin.
        if tokio::time::timeout(self.grace + Duration::from_secs(5), self.task)
            .await
            .is_err()
        {
            tracing::warn!("job runner did not stop within its grace period");
        }
    }
}

/// Marks RUNNING job runs of exited processes on this host FAILED.
fn recover_interrupted(engine: &Engine) -> Result<(), EngineError> {
    for (job_run_id, worker) in engine.store().running_job_runs()? {
        let Some(worker) = worker else { continue };
        if worker::is_dead_local_worker(&worker) {
            engine.store().fail_job_run(
                job_run_id,
                &format!("interrupted by restart: the process running it ({worker}) exited"),
            )?;
            tracing::warn!(job_run_id, worker = %worker, "job run interrupted by a restart marked failed");
        }
    }
    Ok(())
}

async fn dispatch(
    engine: Engine,
    options: RunnerOptions,
    mut stopped: watch::Receiver<bool>,
    board: ProgressBoard,
) {
    let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut running: JoinSet<i64> = JoinSet::new();
    let grace_after_stop = options.shutdown_grace;

    loop {
        if *stopped.borrow() {
            break;
        }
        // Reap finished jobs so the set does not grow.
        while let Some(finished) = running.try_join_next() {
            if let Err(error) = finished {
                tracing::error!(error = %error, "a job run task failed");
            }
        }

        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit,
            _ = stopped.changed() => break,
        };
        let Ok(permit) = permit else { break };

        let claimed = {
            let engine = engine.clone();
            tokio::task::spawn_blocking(move || {
                engine.store().claim_queued_job_run(worker::this_worker())
            })
            .await
        };
        let job_run = match claimed {
            Ok(Ok(Some(job_run))) => job_run,
            Ok(Ok(None)) => {
                drop(permit);
                tokio::select! {
                    _ = engine.queued.notified() => {}
                    _ = tokio::time::sleep(POLL_INTERVAL) => {}
                    _ = stopped.changed() => break,
                }
                continue;
            }
            Ok(Err(error)) => {
                tracing::error!(error = %error, "claiming a queued job run failed; retrying");
                drop(permit);
                tokio::time::sleep(POLL_INTERVAL).await;
                continue;
            }
            Err(error) => {
                tracing::error!(error = %error, "the claim task failed; retrying");
                drop(permit);
                tokio::time::sleep(POLL_INTERVAL).await;
                continue;
            }
        };

        let engine = engine.clone();
        let board = board.clone();
        running.spawn(async move {
            let job_run_id = job_run.id;
            run_claimed(&engine, job_run, options.job_timeout, &board).await;
            drop(permit);
            job_run_id
        });
    }

    // Shutdown: give running jobs their grace period, then mark the rest.
    let deadline = tokio::time::sleep(grace_after_stop);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = running.join_next() => {
                if next.is_none() {
                    break;
                }
            }
            _ = &mut deadline => {
                break;
            }
        }
    }
    running.abort_all();
    for (job_run_id, worker) in engine.store().running_job_runs().unwrap_or_default() {
        if worker.as_deref() == Some(worker::this_worker()) {
            let _ = engine
                .store()
                .fail_job_run(job_run_id, "interrupted by shutdown before it finished");
            tracing::warn!(job_run_id, "job run interrupted by shutdown marked failed");
        }
    }
}

async fn run_claimed(
    engine: &Engine,
    job_run: JobRun,
    timeout: Option<Duration>,
    board: &ProgressBoard,
) {
    let connection = match engine.store().connection_by_id(job_run.connection_id) {
        Ok(connection) => connection,
        Err(error) => {
            let _ = engine.store().fail_job_run(job_run.id, &error.to_string());
            return;
        }
    };
    let (sender, receiver) = watch::channel(RefreshProgress::not_started());
    board.insert(job_run.id, receiver);
    let (cancel, mut cancelled) = watch::channel(None);
    engine
        .cancellations
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(job_run.id, cancel);

    let run = engine.run_job_run(
        &connection,
        job_run.id,
        RefreshOptions::default(),
        Some(sender),
    );
    let limit = timeout.unwrap_or(Duration::MAX);
    let outcome: Result<(), String> = tokio::select! {
        result = tokio::time::timeout(limit, run) => match result {
            Ok(outcome) => outcome.map(|_| ()).map_err(|error| error.to_string()),
            Err(_) => Err(format!("timed out after {} s", limit.as_secs())),
        },
        changed = cancelled.wait_for(Option::is_some) => {
            Err(changed.ok().and_then(|value| value.clone()).unwrap_or_else(|| "cancelled".to_string()))
        }
    };
    if let Err(reason) = &outcome {
        // A no-op when the run already recorded its own failure.
        let _ = engine.store().fail_job_run(job_run.id, reason);
        tracing::info!(job_run_id = job_run.id, reason = %reason, "job run ended without a snapshot");
    }
    engine
        .cancellations
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .remove(&job_run.id);
    board.remove(job_run.id);
}
