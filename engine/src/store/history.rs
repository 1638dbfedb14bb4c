//! Snapshots and the changes recorded with them.

use super::Store;
use super::commit::CatalogCounts;
use crate::change::{Change, ChangeKind};
use crate::error::EngineError;
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

/// One committed snapshot of a connection's catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRecord {
    pub id: i64,
    pub connection_id: i64,
    pub job_run_id: Option<i64>,
    pub created_at: String,
    pub counts: CatalogCounts,
    pub change_count: i64,
    pub breaking_change_count: i64,
    /// Unreadable scopes whose previous state was kept, and other notes.
    pub warnings: Vec<String>,
}

const SNAPSHOT_COLUMNS: &str = "id, connection_id, job_run_id, created_at, database_count, schema_count, \
     table_count, column_count, change_count, warnings, \
     (SELECT count(*) FROM changes WHERE changes.snapshot_id = snapshots.id AND breaking)";

fn snapshot_from_row(row: &Row<'_>) -> rusqlite::Result<SnapshotRecord> {
    let warnings: String = row.get(9)?;
    Ok(SnapshotRecord {
        id: row.get(0)?,
        connection_id: row.get(1)?,
        job_run_id: row.get(2)?,
        created_at: row.get(3)?,
        counts: CatalogCounts {
            databases: row.get(4)?,
            schemas: row.get(5)?,
            tables: row.get(6)?,
            columns: row.get(7)?,
        },
        change_count: row.get(8)?,
        breaking_change_count: row.get(10)?,
        warnings: serde_json::from_str(&warnings).unwrap_or_else(|_| vec![warnings]),
    })
}

fn change_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, Change)> {
    let kind: String = row.get(1)?;
    let kind = ChangeKind::parse(&kind).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Text,
            format!("unknown change kind '{kind}'").into(),
        )
    })?;
    Ok((
        row.get(0)?,
        Change {
            kind,
            database: row.get(2)?,
            schema: row.get(3)?,
            table: row.get(4)?,
            column: row.get(5)?,
            before: row.get(6)?,
            after: row.get(7)?,
            breaking: row.get(8)?,
        },
    ))
}

impl Store {
    /// Lists the snapshots of a connection, oldest first.
    pub fn list_snapshots(&self, connection_id: i64) -> Result<Vec<SnapshotRecord>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Vec<SnapshotRecord>> {
            let mut statement = connection.prepare(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE connection_id = ?1 ORDER BY id"
            ))?;
            let rows = statement.query_map([connection_id], snapshot_from_row)?;
            rows.collect()
        };
        read().map_err(|error| self.error("listing snapshots", error))
    }

    /// Finds a snapshot of a connection by id.
    pub fn snapshot(
        &self,
        connection_id: i64,
        snapshot_id: i64,
    ) -> Result<Option<SnapshotRecord>, EngineError> {
        self.lock()
            .query_row(
                &format!(
                    "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE connection_id = ?1 AND id = ?2"
                ),
                params![connection_id, snapshot_id],
                snapshot_from_row,
            )
            .optional()
            .map_err(|error| self.error("reading a snapshot", error))
    }

    /// Returns the newest snapshot of a connection.
    pub fn latest_snapshot(
        &self,
        connection_id: i64,
    ) -> Result<Option<SnapshotRecord>, EngineError> {
        self.lock()
            .query_row(
                &format!(
                    "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE connection_id = ?1 ORDER BY id DESC LIMIT 1"
                ),
                [connection_id],
                snapshot_from_row,
            )
            .optional()
            .map_err(|error| self.error("reading the latest snapshot", error))
    }

    /// Lists the changes recorded by snapshots after `after_snapshot` up to and
    /// including `up_to_snapshot`, as (snapshot id, change), in commit order.
    pub fn changes_between(
        &self,
        connection_id: i64,
        after_snapshot: i64,
        up_to_snapshot: i64,
    ) -> Result<Vec<(i64, Change)>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Vec<(i64, Change)>> {
            let mut statement = connection.prepare(
                "SELECT snapshot_id, kind, database, schema, table_name, column_name, before, after, breaking
                 FROM changes
                 WHERE connection_id = ?1 AND snapshot_id > ?2 AND snapshot_id <= ?3
                 ORDER BY snapshot_id, id",
            )?;
            let rows = statement.query_map(
                params![connection_id, after_snapshot, up_to_snapshot],
                change_from_row,
            )?;
            rows.collect()
        };
        read().map_err(|error| self.error("reading changes", error))
    }
}
