//! Commit of a snapshot: its catalog rows, its changes and its job run, in
//! one transaction.

use super::history::SnapshotRecord;
use super::{Store, now};
use crate::catalog::{Column, Table};
use crate::change::Change;
use crate::diff::{SchemaPath, TableWrite};
use crate::error::EngineError;
use rusqlite::{Statement, Transaction, TransactionBehavior, params};
use std::collections::BTreeMap;

/// A row operation on databases or schemas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeWrite<R> {
    Insert(R),
    /// New version of a row (a rename, a new stable id or comment).
    Replace {
        previous_row_id: i64,
        row: R,
    },
    Close {
        previous_row_id: i64,
    },
}

/// Stored fields of a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseRow {
    pub name: String,
    pub stable_id: Option<String>,
}

/// Stored fields of a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRow {
    pub database: String,
    pub name: String,
    pub stable_id: Option<String>,
    pub comment: Option<String>,
}

/// Everything one successful refresh writes.
#[derive(Debug, Clone, Default)]
pub struct SnapshotCommit {
    pub connection_id: i64,
    pub job_run_id: Option<i64>,
    pub databases: Vec<ScopeWrite<DatabaseRow>>,
    pub schemas: Vec<ScopeWrite<SchemaRow>>,
    /// Table writes grouped by schema, with the schema's current names.
    pub tables: Vec<(SchemaPath, Vec<TableWrite>)>,
    pub changes: Vec<Change>,
    /// Scopes that could not be read, and other notes for users.
    pub warnings: Vec<String>,
}

/// Object counts of a snapshot; tables exclude partitions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CatalogCounts {
    pub databases: i64,
    pub schemas: i64,
    pub tables: i64,
    pub columns: i64,
}

/// Rows written to the temporal catalog by one commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct WriteCounts {
    inserted_columns: i64,
    closed_columns: i64,
}

impl Store {
    /// Commits a snapshot in one transaction: the snapshot row, the catalog row
    /// writes, the changes and, when given, the job run's SUCCESS. Either all of
    /// it is stored or none of it.
    pub fn commit_snapshot(&self, commit: &SnapshotCommit) -> Result<SnapshotRecord, EngineError> {
        let mut connection = self.lock();
        let mut write = || -> rusqlite::Result<SnapshotRecord> {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let created_at = now(&transaction)?;
            let previous_columns: i64 = transaction.query_row(
                "SELECT COALESCE((SELECT column_count FROM snapshots
                                  WHERE connection_id = ?1 ORDER BY id DESC LIMIT 1), 0)",
                [commit.connection_id],
                |row| row.get(0),
            )?;

            transaction.execute(
                "INSERT INTO snapshots (connection_id, job_run_id, created_at, database_count,
                     schema_count, table_count, column_count, change_count, warnings)
                 VALUES (?1, ?2, ?3, 0, 0, 0, 0, ?4, ?5)",
                params![
                    commit.connection_id,
                    commit.job_run_id,
                    created_at,
                    commit.changes.len() as i64,
                    serde_json::to_string(&commit.warnings).unwrap_or_else(|_| "[]".to_string()),
                ],
            )?;
            let snapshot_id = transaction.last_insert_rowid();

            write_databases(&transaction, commit, snapshot_id)?;
            write_schemas(&transaction, commit, snapshot_id)?;
            let written = write_tables(&transaction, commit, snapshot_id)?;
            write_changes(&transaction, commit, snapshot_id)?;

            let counts = count_current(
                &transaction,
                commit.connection_id,
                previous_columns + written.inserted_columns - written.closed_columns,
            )?;
            transaction.execute(
                "UPDATE snapshots SET database_count = ?2, schema_count = ?3, table_count = ?4,
                     column_count = ?5
                 WHERE id = ?1",
                params![
                    snapshot_id,
                    counts.databases,
                    counts.schemas,
                    counts.tables,
                    counts.columns
                ],
            )?;

            let summary = summarize(commit);
            if let Some(job_run_id) = commit.job_run_id {
                transaction.execute(
                    "UPDATE job_runs SET status = 'SUCCESS', ended_at = ?2, summary = ?3, snapshot_id = ?4
                     WHERE id = ?1",
                    params![job_run_id, created_at, summary, snapshot_id],
                )?;
            }
            transaction.commit()?;

            Ok(SnapshotRecord {
                id: snapshot_id,
                connection_id: commit.connection_id,
                job_run_id: commit.job_run_id,
                created_at,
                counts,
                change_count: commit.changes.len() as i64,
                breaking_change_count: commit
                    .changes
                    .iter()
                    .filter(|change| change.breaking)
                    .count() as i64,
                warnings: commit.warnings.clone(),
            })
        };
        write().map_err(|error| self.error("committing the snapshot", error))
    }
}

fn summarize(commit: &SnapshotCommit) -> String {
    let breaking = commit
        .changes
        .iter()
        .filter(|change| change.breaking)
        .count();
    let mut summary = format!("{} changes, {breaking} breaking", commit.changes.len());
    if !commit.warnings.is_empty() {
        summary.push_str(&format!(", {} warnings", commit.warnings.len()));
    }
    summary
}

fn close_row(
    transaction: &Transaction<'_>,
    table: &str,
    row_id: i64,
    snapshot_id: i64,
) -> rusqlite::Result<()> {
    let mut statement = transaction.prepare_cached(&format!(
        "UPDATE {table} SET valid_to = ?2 WHERE row_id = ?1 AND valid_to IS NULL"
    ))?;
    statement.execute(params![row_id, snapshot_id])?;
    Ok(())
}

/// Applies row writes to `catalog_databases` or `catalog_schemas`: closes the
/// replaced and closed rows, and inserts each new row with `insert`.
fn write_scopes<R>(
    transaction: &Transaction<'_>,
    table: &str,
    writes: &[ScopeWrite<R>],
    snapshot_id: i64,
    mut insert: impl FnMut(&R) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    for write in writes {
        match write {
            ScopeWrite::Insert(row) => insert(row)?,
            ScopeWrite::Replace {
                previous_row_id,
                row,
            } => {
                close_row(transaction, table, *previous_row_id, snapshot_id)?;
                insert(row)?;
            }
            ScopeWrite::Close { previous_row_id } => {
                close_row(transaction, table, *previous_row_id, snapshot_id)?;
            }
        }
    }
    Ok(())
}

fn write_databases(
    transaction: &Transaction<'_>,
    commit: &SnapshotCommit,
    snapshot_id: i64,
) -> rusqlite::Result<()> {
    let mut insert = transaction.prepare_cached(
        "INSERT INTO catalog_databases (connection_id, name, stable_id, valid_from)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    write_scopes(
        transaction,
        "catalog_databases",
        &commit.databases,
        snapshot_id,
        |row| {
            insert.execute(params![
                commit.connection_id,
                row.name,
                row.stable_id,
                snapshot_id
            ])?;
            Ok(())
        },
    )
}

fn write_schemas(
    transaction: &Transaction<'_>,
    commit: &SnapshotCommit,
    snapshot_id: i64,
) -> rusqlite::Result<()> {
    let mut insert = transaction.prepare_cached(
        "INSERT INTO catalog_schemas (connection_id, database, name, stable_id, comment, valid_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    write_scopes(
        transaction,
        "catalog_schemas",
        &commit.schemas,
        snapshot_id,
        |row| {
            insert.execute(params![
                commit.connection_id,
                row.database,
                row.name,
                row.stable_id,
                row.comment,
                snapshot_id
            ])?;
            Ok(())
        },
    )
}

fn write_tables(
    transaction: &Transaction<'_>,
    commit: &SnapshotCommit,
    snapshot_id: i64,
) -> rusqlite::Result<WriteCounts> {
    let mut next_key: i64 = transaction.query_row(
        "SELECT COALESCE(MAX(table_key), 0) + 1 FROM catalog_tables",
        [],
        |row| row.get(0),
    )?;
    let mut counts = WriteCounts::default();
    let mut close_columns_of_table = transaction.prepare_cached(
        "UPDATE catalog_columns SET valid_to = ?2 WHERE table_key = ?1 AND valid_to IS NULL",
    )?;
    let mut insert_table = transaction.prepare_cached(INSERT_TABLE)?;
    let mut insert_column = transaction.prepare_cached(INSERT_COLUMN)?;

    for (path, writes) in &commit.tables {
        for write in writes {
            match write {
                TableWrite::Insert { table, fingerprint } => {
                    let key = next_key;
                    next_key += 1;
                    write_table(
                        &mut insert_table,
                        commit.connection_id,
                        path,
                        key,
                        table,
                        *fingerprint,
                        snapshot_id,
                    )?;
                    for column in &table.columns {
                        write_column(
                            &mut insert_column,
                            commit.connection_id,
                            key,
                            column,
                            snapshot_id,
                        )?;
                    }
                    counts.inserted_columns += table.columns.len() as i64;
                }
                TableWrite::Replace {
                    key,
                    previous_row_id,
                    table,
                    fingerprint,
                    columns,
                } => {
                    close_row(transaction, "catalog_tables", *previous_row_id, snapshot_id)?;
                    write_table(
                        &mut insert_table,
                        commit.connection_id,
                        path,
                        *key,
                        table,
                        *fingerprint,
                        snapshot_id,
                    )?;
                    for row_id in &columns.close {
                        close_row(transaction, "catalog_columns", *row_id, snapshot_id)?;
                    }
                    for column in &columns.insert {
                        write_column(
                            &mut insert_column,
                            commit.connection_id,
                            *key,
                            column,
                            snapshot_id,
                        )?;
                    }
                    counts.closed_columns += columns.close.len() as i64;
                    counts.inserted_columns += columns.insert.len() as i64;
                }
                TableWrite::Drop {
                    key,
                    previous_row_id,
                    ..
                } => {
                    close_row(transaction, "catalog_tables", *previous_row_id, snapshot_id)?;
                    counts.closed_columns +=
                        close_columns_of_table.execute(params![key, snapshot_id])? as i64;
                }
            }
        }
    }
    Ok(counts)
}

const INSERT_TABLE: &str = "INSERT INTO catalog_tables (table_key, connection_id, database, schema,
         name, kind, stable_id, comment, definition, partition_parent, partition_parent_schema,
         partition_bound, last_altered, fingerprint, valid_from, version, properties, shard_first,
         shard_last, shard_count)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
         ?20)";

const INSERT_COLUMN: &str = "INSERT INTO catalog_columns (table_key, connection_id, name, ordinal,
         data_type, normalized_type, nullable, default_value, comment, identity, generated,
         primary_key, field_path, stable_id, valid_from, base_type)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

fn write_table(
    statement: &mut Statement<'_>,
    connection_id: i64,
    path: &SchemaPath,
    key: i64,
    table: &Table,
    fingerprint: u64,
    snapshot_id: i64,
) -> rusqlite::Result<()> {
    let partition = table.partition_of.as_ref();
    let shards = table.shards.as_ref();
    statement.execute(params![
        key,
        connection_id,
        path.database,
        path.schema,
        table.name,
        table.kind.as_str(),
        table.stable_id,
        table.comment,
        table.definition,
        partition.map(|partition| &partition.parent),
        partition.and_then(|partition| partition.parent_schema.as_ref()),
        partition.and_then(|partition| partition.bound.as_ref()),
        table.last_altered,
        // SQLite integers are signed: the fingerprint's bits are stored as is.
        fingerprint as i64,
        snapshot_id,
        table.version,
        encode_properties(&table.properties),
        shards.map(|shards| &shards.first),
        shards.map(|shards| &shards.last),
        shards.map(|shards| shards.count),
    ])?;
    Ok(())
}

/// Stores properties as one JSON object, or NULL when there are none.
fn encode_properties(properties: &BTreeMap<String, String>) -> Option<String> {
    if properties.is_empty() {
        return None;
    }
    // A map of strings always serialises.
    serde_json::to_string(properties).ok()
}

fn write_column(
    statement: &mut Statement<'_>,
    connection_id: i64,
    key: i64,
    column: &Column,
    snapshot_id: i64,
) -> rusqlite::Result<()> {
    statement.execute(params![
        key,
        connection_id,
        column.name,
        column.ordinal,
        column.data_type,
        column.normalized_type,
        column.nullable,
        column.default,
        column.comment,
        column.identity,
        column.generated,
        column.primary_key,
        column.field_path,
        column.stable_id,
        snapshot_id,
        column.base_type,
    ])?;
    Ok(())
}

fn write_changes(
    transaction: &Transaction<'_>,
    commit: &SnapshotCommit,
    snapshot_id: i64,
) -> rusqlite::Result<()> {
    let mut statement = transaction.prepare_cached(
        "INSERT INTO changes (connection_id, snapshot_id, kind, database, schema, table_name, column_name,
             before, after, breaking)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for change in &commit.changes {
        statement.execute(params![
            commit.connection_id,
            snapshot_id,
            change.kind.as_str(),
            change.database,
            change.schema,
            change.table,
            change.column,
            change.before,
            change.after,
            change.breaking,
        ])?;
    }
    Ok(())
}

fn count_current(
    transaction: &Transaction<'_>,
    connection_id: i64,
    columns: i64,
) -> rusqlite::Result<CatalogCounts> {
    let count = |sql: &str| -> rusqlite::Result<i64> {
        transaction.query_row(sql, [connection_id], |row| row.get(0))
    };
    Ok(CatalogCounts {
        databases: count(
            "SELECT count(*) FROM catalog_databases WHERE connection_id = ?1 AND valid_to IS NULL",
        )?,
        schemas: count(
            "SELECT count(*) FROM catalog_schemas WHERE connection_id = ?1 AND valid_to IS NULL",
        )?,
        tables: count(
            "SELECT count(*) FROM catalog_tables
             WHERE connection_id = ?1 AND valid_to IS NULL AND kind <> 'partition'",
        )?,
        columns,
    })
}
