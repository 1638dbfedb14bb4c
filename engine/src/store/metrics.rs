//! Aggregates for the metrics endpoint, computed from the store so that they
//! hold for every process sharing it.

use super::Store;
use crate::error::EngineError;

/// Upper bounds, in seconds, of the refresh duration histogram buckets.
pub const DURATION_BUCKETS: [f64; 7] = [1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0];

/// Store-wide totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreMetrics {
    /// Finished refreshes per duration bucket (cumulative, as Prometheus
    /// expects), then the count and sum of all durations.
    pub duration_buckets: Vec<(f64, u64)>,
    pub duration_count: u64,
    pub duration_sum_secs: f64,
    /// Tables and columns of the latest snapshot of every connection.
    pub tables: i64,
    pub columns: i64,
    /// Changes recorded by all snapshots.
    pub changes: i64,
}

impl Store {
    /// Computes the store-wide totals.
    pub fn metrics(&self) -> Result<StoreMetrics, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<StoreMetrics> {
            let mut durations = Vec::new();
            let mut statement = connection.prepare(
                "SELECT (julianday(ended_at) - julianday(started_at)) * 86400.0 FROM job_runs
                 WHERE status IN ('SUCCESS', 'FAILED') AND started_at IS NOT NULL AND ended_at IS NOT NULL",
            )?;
            let rows = statement.query_map([], |row| row.get::<_, f64>(0))?;
            for row in rows {
                durations.push(row?);
            }

            let duration_buckets = DURATION_BUCKETS
                .iter()
                .map(|bound| {
                    (
                        *bound,
                        durations.iter().filter(|value| **value <= *bound).count() as u64,
                    )
                })
                .collect();
            let (tables, columns): (i64, i64) = connection.query_row(
                "SELECT COALESCE(sum(table_count), 0), COALESCE(sum(column_count), 0) FROM snapshots
                 WHERE id IN (SELECT max(id) FROM snapshots GROUP BY connection_id)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let changes: i64 =
                connection.query_row("SELECT count(*) FROM changes", [], |row| row.get(0))?;
            Ok(StoreMetrics {
                duration_buckets,
                duration_count: durations.len() as u64,
                duration_sum_secs: durations.iter().sum(),
                tables,
                columns,
                changes,
            })
        };
        read().map_err(|error| self.error("computing metrics", error))
    }
}
