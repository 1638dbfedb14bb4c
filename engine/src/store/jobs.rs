//! Job runs: one row per refresh request, QUEUED -> RUNNING -> SUCCESS or FAILED.

use super::{Store, now};
use crate::error::EngineError;
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use std::fmt;

/// State of a job run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobRunStatus {
    Queued,
    Running,
    Success,
    Failed,
    Skipped,
}

impl JobRunStatus {
    /// Returns the name stored in the `status` column (`RUNNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobRunStatus::Queued => "QUEUED",
            JobRunStatus::Running => "RUNNING",
            JobRunStatus::Success => "SUCCESS",
            JobRunStatus::Failed => "FAILED",
            JobRunStatus::Skipped => "SKIPPED",
        }
    }

    fn parse(name: &str) -> Option<JobRunStatus> {
        [
            JobRunStatus::Queued,
            JobRunStatus::Running,
            JobRunStatus::Success,
            JobRunStatus::Failed,
            JobRunStatus::Skipped,
        ]
        .into_iter()
        .find(|status| status.as_str() == name)
    }
}

impl fmt::Display for JobRunStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One run of a refresh job. Times are ISO 8601 UTC strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRun {
    pub id: i64,
    pub connection_id: i64,
    pub job_type: String,
    pub user_id: Option<String>,
    pub status: JobRunStatus,
    pub created_at: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// Cause of the failure, for users.
    pub error: Option<String>,
    /// One-line result of a successful run (`3 changes, 1 breaking`).
    pub summary: Option<String>,
    /// Snapshot committed by a successful run.
    pub snapshot_id: Option<i64>,
}

const COLUMNS: &str = "id, connection_id, job_type, user_id, status, created_at, started_at, ended_at, error, summary, snapshot_id";

fn from_row(row: &Row<'_>) -> rusqlite::Result<JobRun> {
    let status: String = row.get(4)?;
    let status = JobRunStatus::parse(&status).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            4,
            rusqlite::types::Type::Text,
            format!("unknown job run status '{status}'").into(),
        )
    })?;
    Ok(JobRun {
        id: row.get(0)?,
        connection_id: row.get(1)?,
        job_type: row.get(2)?,
        user_id: row.get(3)?,
        status,
        created_at: row.get(5)?,
        started_at: row.get(6)?,
        ended_at: row.get(7)?,
        error: row.get(8)?,
        summary: row.get(9)?,
        snapshot_id: row.get(10)?,
    })
}

impl Store {
    /// Inserts a QUEUED job run for a connection. Fails with
    /// [`EngineError::RefreshInProgress`] when the connection already has a
    /// QUEUED or RUNNING one; the unique index decides, so two processes racing
    /// here cannot both succeed.
    pub fn insert_job_run(
        &self,
        connection_id: i64,
        connection_name: &str,
        user_id: Option<&str>,
    ) -> Result<JobRun, EngineError> {
        let connection = self.lock();
        let created_at =
            now(&connection).map_err(|error| self.error("queueing a refresh", error))?;
        let inserted = connection.execute(
            "INSERT INTO job_runs (connection_id, user_id, status, created_at)
             VALUES (?1, ?2, 'QUEUED', ?3)",
            params![connection_id, user_id, created_at],
        );
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                let active: Option<i64> = connection
                    .query_row(
                        "SELECT id FROM job_runs
                         WHERE connection_id = ?1 AND status IN ('QUEUED', 'RUNNING')",
                        [connection_id],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(|error| self.error("queueing a refresh", error))?;
                return Err(EngineError::RefreshInProgress {
                    connection: connection_name.to_string(),
                    job_run_id: active.unwrap_or_default(),
                });
            }
            Err(error) => return Err(self.error("queueing a refresh", error)),
        }

        let id = connection.last_insert_rowid();
        drop(connection);
        self.job_run(id)
    }

    /// Moves a QUEUED job run to RUNNING in the process named by `worker` (`HOST:PID`).
    pub fn start_job_run(&self, job_run_id: i64, worker: &str) -> Result<(), EngineError> {
        let updated = self
            .lock()
            .execute(
                "UPDATE job_runs
                 SET status = 'RUNNING', worker = ?2,
                     started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                 WHERE id = ?1 AND status = 'QUEUED'",
                params![job_run_id, worker],
            )
            .map_err(|error| self.error("starting a job run", error))?;
        if updated == 0 {
            return Err(EngineError::Internal(format!(
                "job run {job_run_id} is not queued, so it cannot start"
            )));
        }
        Ok(())
    }

    /// Marks an active job run FAILED with the error shown to users.
    pub fn fail_job_run(&self, job_run_id: i64, message: &str) -> Result<(), EngineError> {
        self.lock()
            .execute(
                "UPDATE job_runs
                 SET status = 'FAILED', error = ?2, ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                 WHERE id = ?1 AND status IN ('QUEUED', 'RUNNING')",
                params![job_run_id, message],
            )
            .map_err(|error| self.error("recording a failed job run", error))?;
        Ok(())
    }

    /// Returns the worker (`HOST:PID`) recorded for a job run, if any.
    pub fn job_run_worker(&self, job_run_id: i64) -> Result<Option<String>, EngineError> {
        self.lock()
            .query_row(
                "SELECT worker FROM job_runs WHERE id = ?1",
                [job_run_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(|error| self.error("reading a job run", error))
            .map(Option::flatten)
    }

    /// Claims the oldest QUEUED job run for `worker`, moving it to RUNNING.
    /// The conditional UPDATE makes the claim atomic: of several processes
    /// sharing the store, one gets each job run.
    pub fn claim_queued_job_run(&self, worker: &str) -> Result<Option<JobRun>, EngineError> {
        let claimed: Option<i64> = self
            .lock()
            .query_row(
                "UPDATE job_runs
                 SET status = 'RUNNING', worker = ?1, started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                 WHERE id = (SELECT id FROM job_runs WHERE status = 'QUEUED' ORDER BY id LIMIT 1)
                   AND status = 'QUEUED'
                 RETURNING id",
                [worker],
                |row| row.get(0),
            )
            .optional()
            .map_err(|error| self.error("claiming a job run", error))?;
        claimed.map(|id| self.job_run(id)).transpose()
    }

    /// Lists the RUNNING job runs with the worker recorded for each.
    pub fn running_job_runs(&self) -> Result<Vec<(i64, Option<String>)>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Vec<(i64, Option<String>)>> {
            let mut statement = connection
                .prepare("SELECT id, worker FROM job_runs WHERE status = 'RUNNING' ORDER BY id")?;
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        };
        read().map_err(|error| self.error("listing running job runs", error))
    }

    /// Returns the newest job run of a connection, and its newest successful one.
    pub fn last_job_runs(
        &self,
        connection_id: i64,
    ) -> Result<(Option<JobRun>, Option<JobRun>), EngineError> {
        let connection = self.lock();
        let read = |filter: &str| -> rusqlite::Result<Option<JobRun>> {
            connection
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM job_runs WHERE connection_id = ?1 {filter} ORDER BY id DESC LIMIT 1"
                    ),
                    [connection_id],
                    from_row,
                )
                .optional()
        };
        let last = read("").map_err(|error| self.error("reading job runs", error))?;
        let last_successful = read("AND status = 'SUCCESS'")
            .map_err(|error| self.error("reading job runs", error))?;
        Ok((last, last_successful))
    }

    /// Counts job runs by status, for metrics.
    pub fn job_run_counts(&self) -> Result<Vec<(JobRunStatus, i64)>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Vec<(String, i64)>> {
            let mut statement = connection
                .prepare("SELECT status, count(*) FROM job_runs GROUP BY status ORDER BY status")?;
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        };
        let rows = read().map_err(|error| self.error("counting job runs", error))?;
        Ok(rows
            .into_iter()
            .filter_map(|(status, count)| Some((JobRunStatus::parse(&status)?, count)))
            .collect())
    }

    /// Finds a job run by id.
    pub fn job_run(&self, job_run_id: i64) -> Result<JobRun, EngineError> {
        self.lock()
            .query_row(
                &format!("SELECT {COLUMNS} FROM job_runs WHERE id = ?1"),
                [job_run_id],
                from_row,
            )
            .optional()
            .map_err(|error| self.error("reading a job run", error))?
            .ok_or(EngineError::JobRunNotFound { job_run_id })
    }

    /// Lists the job runs of a connection, newest first, at most `limit`.
    pub fn list_job_runs(
        &self,
        connection_id: i64,
        limit: usize,
    ) -> Result<Vec<JobRun>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Vec<JobRun>> {
            let mut statement = connection.prepare(&format!(
                "SELECT {COLUMNS} FROM job_runs WHERE connection_id = ?1 ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = statement.query_map(params![connection_id, limit as i64], from_row)?;
            rows.collect()
        };
        read().map_err(|error| self.error("listing job runs", error))
    }
}
