//! Reads of the temporal catalog: the current rows a refresh compares against,
//! and the whole catalog as of a snapshot.

use super::Store;
use crate::catalog::{
    Catalog, Column, Database, PartitionOf, Schema, ShardRange, Table, TableKind,
};
use crate::diff::{PreviousColumn, PreviousTable};
use crate::driver::KnownVersions;
use crate::error::EngineError;
use rusqlite::{Row, params};
use std::collections::{BTreeMap, HashMap};

/// Current row of a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDatabase {
    pub row_id: i64,
    pub name: String,
    pub stable_id: Option<String>,
}

/// Current row of a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchema {
    pub row_id: i64,
    pub database: String,
    pub name: String,
    pub stable_id: Option<String>,
    pub comment: Option<String>,
}

/// Columns of `catalog_tables` read by [`table_from_row`], after the leading
/// `table_key, row_id, fingerprint, database, schema`.
const TABLE_COLUMNS: &str = "table_key, row_id, fingerprint, database, schema, name, kind, stable_id, \
     comment, definition, partition_parent, partition_parent_schema, partition_bound, last_altered, version, \
     properties, shard_first, shard_last, shard_count";

const COLUMN_COLUMNS: &str = "table_key, row_id, name, ordinal, data_type, normalized_type, nullable, \
     default_value, comment, identity, generated, primary_key, field_path, stable_id, base_type";

fn table_from_row(row: &Row<'_>) -> rusqlite::Result<PreviousTable> {
    let kind: String = row.get(6)?;
    let kind = TableKind::parse(&kind).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            6,
            rusqlite::types::Type::Text,
            format!("unknown table kind '{kind}'").into(),
        )
    })?;
    let partition_parent: Option<String> = row.get(10)?;
    let partition_of = match partition_parent {
        Some(parent) => Some(PartitionOf {
            parent,
            parent_schema: row.get(11)?,
            bound: row.get(12)?,
        }),
        None => None,
    };
    let properties: Option<String> = row.get(15)?;
    let properties = match properties {
        Some(text) => serde_json::from_str(&text).map_err(|error| {
            rusqlite::Error::FromSqlConversionFailure(15, rusqlite::types::Type::Text, error.into())
        })?,
        None => BTreeMap::new(),
    };
    let shard_first: Option<String> = row.get(16)?;
    let shards = match shard_first {
        Some(first) => Some(ShardRange {
            first,
            last: row.get(17)?,
            count: row.get(18)?,
        }),
        None => None,
    };
    let fingerprint: i64 = row.get(2)?;
    Ok(PreviousTable {
        key: row.get(0)?,
        row_id: row.get(1)?,
        fingerprint: fingerprint as u64,
        table: Table {
            name: row.get(5)?,
            kind,
            stable_id: row.get(7)?,
            comment: row.get(8)?,
            definition: row.get(9)?,
            partition_of,
            last_altered: row.get(13)?,
            version: row.get(14)?,
            properties,
            shards,
            columns: Vec::new(),
        },
    })
}

/// Reads a column row; the first two fields are `table_key` and `row_id`.
fn column_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, PreviousColumn)> {
    let ordinal: i64 = row.get(3)?;
    let column = Column {
        name: row.get(2)?,
        ordinal: ordinal as u32,
        data_type: row.get(4)?,
        normalized_type: row.get(5)?,
        nullable: row.get(6)?,
        default: row.get(7)?,
        comment: row.get(8)?,
        identity: row.get(9)?,
        generated: row.get(10)?,
        primary_key: row.get(11)?,
        field_path: row.get(12)?,
        stable_id: row.get(13)?,
        base_type: row.get(14)?,
    };
    Ok((
        row.get(0)?,
        PreviousColumn {
            row_id: row.get(1)?,
            column,
        },
    ))
}

impl Store {
    /// Lists the current databases of a connection.
    pub fn current_databases(
        &self,
        connection_id: i64,
    ) -> Result<Vec<StoredDatabase>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Vec<StoredDatabase>> {
            let mut statement = connection.prepare_cached(
                "SELECT row_id, name, stable_id FROM catalog_databases
                 WHERE connection_id = ?1 AND valid_to IS NULL ORDER BY name",
            )?;
            let rows = statement.query_map([connection_id], |row| {
                Ok(StoredDatabase {
                    row_id: row.get(0)?,
                    name: row.get(1)?,
                    stable_id: row.get(2)?,
                })
            })?;
            rows.collect()
        };
        read().map_err(|error| self.error("reading current databases", error))
    }

    /// Lists the current schemas of a connection, in every database.
    pub fn current_schemas(&self, connection_id: i64) -> Result<Vec<StoredSchema>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Vec<StoredSchema>> {
            let mut statement = connection.prepare_cached(
                "SELECT row_id, database, name, stable_id, comment FROM catalog_schemas
                 WHERE connection_id = ?1 AND valid_to IS NULL ORDER BY database, name",
            )?;
            let rows = statement.query_map([connection_id], |row| {
                Ok(StoredSchema {
                    row_id: row.get(0)?,
                    database: row.get(1)?,
                    name: row.get(2)?,
                    stable_id: row.get(3)?,
                    comment: row.get(4)?,
                })
            })?;
            rows.collect()
        };
        read().map_err(|error| self.error("reading current schemas", error))
    }

    /// Lists the current tables of one schema, without columns.
    pub fn current_tables(
        &self,
        connection_id: i64,
        database: &str,
        schema: &str,
    ) -> Result<Vec<PreviousTable>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Vec<PreviousTable>> {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT {TABLE_COLUMNS} FROM catalog_tables
                 WHERE connection_id = ?1 AND database = ?2 AND schema = ?3 AND valid_to IS NULL
                 ORDER BY name"
            ))?;
            let rows =
                statement.query_map(params![connection_id, database, schema], table_from_row)?;
            rows.collect()
        };
        read().map_err(|error| self.error("reading current tables", error))
    }

    /// Returns the version tokens of the current tables of one database, by
    /// schema name and then table name. Tables without a token are left out.
    pub fn current_table_versions(
        &self,
        connection_id: i64,
        database: &str,
    ) -> Result<HashMap<String, KnownVersions>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<HashMap<String, KnownVersions>> {
            let mut statement = connection.prepare_cached(
                "SELECT schema, name, version FROM catalog_tables
                 WHERE connection_id = ?1 AND database = ?2 AND valid_to IS NULL
                   AND version IS NOT NULL",
            )?;
            let mut rows = statement.query(params![connection_id, database])?;
            let mut versions: HashMap<String, KnownVersions> = HashMap::new();
            while let Some(row) = rows.next()? {
                let schema: String = row.get(0)?;
                versions
                    .entry(schema)
                    .or_default()
                    .insert(row.get(1)?, row.get(2)?);
            }
            Ok(versions)
        };
        read().map_err(|error| self.error("reading current table versions", error))
    }

    /// Reads the current columns of the given tables, in ordinal order.
    pub fn current_columns(
        &self,
        table_keys: &[i64],
    ) -> Result<HashMap<i64, Vec<PreviousColumn>>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<HashMap<i64, Vec<PreviousColumn>>> {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT {COLUMN_COLUMNS} FROM catalog_columns
                 WHERE table_key = ?1 AND valid_to IS NULL ORDER BY ordinal"
            ))?;
            let mut columns = HashMap::with_capacity(table_keys.len());
            for &key in table_keys {
                let rows = statement.query_map([key], column_from_row)?;
                let table_columns: Vec<PreviousColumn> = rows
                    .map(|row| row.map(|(_, column)| column))
                    .collect::<rusqlite::Result<_>>()?;
                columns.insert(key, table_columns);
            }
            Ok(columns)
        };
        read().map_err(|error| self.error("reading current columns", error))
    }

    /// Counts the current tables of a connection, partitions excluded.
    pub fn current_table_count(&self, connection_id: i64) -> Result<usize, EngineError> {
        let count: i64 = self
            .lock()
            .query_row(
                "SELECT count(*) FROM catalog_tables
                 WHERE connection_id = ?1 AND valid_to IS NULL AND kind <> 'partition'",
                [connection_id],
                |row| row.get(0),
            )
            .map_err(|error| self.error("counting current tables", error))?;
        Ok(count as usize)
    }

    /// Reads the whole catalog of a connection as of a snapshot: every database,
    /// schema, table and column whose version covers that snapshot id, sorted by
    /// name, columns by ordinal.
    pub fn catalog_at(&self, connection_id: i64, snapshot_id: i64) -> Result<Catalog, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Catalog> {
            let version_filter =
                "connection_id = ?1 AND valid_from <= ?2 AND (valid_to IS NULL OR valid_to > ?2)";

            let mut databases: BTreeMap<String, Database> = BTreeMap::new();
            let mut statement = connection.prepare(&format!(
                "SELECT name, stable_id FROM catalog_databases WHERE {version_filter}"
            ))?;
            let mut rows = statement.query(params![connection_id, snapshot_id])?;
            while let Some(row) = rows.next()? {
                let name: String = row.get(0)?;
                databases.insert(
                    name.clone(),
                    Database {
                        name,
                        stable_id: row.get(1)?,
                        schemas: Vec::new(),
                    },
                );
            }

            let mut schemas: BTreeMap<(String, String), Schema> = BTreeMap::new();
            let mut statement = connection.prepare(&format!(
                "SELECT database, name, stable_id, comment FROM catalog_schemas WHERE {version_filter}"
            ))?;
            let mut rows = statement.query(params![connection_id, snapshot_id])?;
            while let Some(row) = rows.next()? {
                let database: String = row.get(0)?;
                let name: String = row.get(1)?;
                schemas.insert(
                    (database, name.clone()),
                    Schema {
                        name,
                        stable_id: row.get(2)?,
                        comment: row.get(3)?,
                        tables: Vec::new(),
                    },
                );
            }

            let mut columns: HashMap<i64, Vec<Column>> = HashMap::new();
            let mut statement = connection.prepare(&format!(
                "SELECT {COLUMN_COLUMNS} FROM catalog_columns WHERE {version_filter}"
            ))?;
            let mut rows = statement.query(params![connection_id, snapshot_id])?;
            while let Some(row) = rows.next()? {
                let (key, column) = column_from_row(row)?;
                columns.entry(key).or_default().push(column.column);
            }

            let mut statement = connection.prepare(&format!(
                "SELECT {TABLE_COLUMNS} FROM catalog_tables WHERE {version_filter}
                 ORDER BY database, schema, name"
            ))?;
            let mut rows = statement.query(params![connection_id, snapshot_id])?;
            while let Some(row) = rows.next()? {
                let previous = table_from_row(row)?;
                let database: String = row.get(3)?;
                let schema: String = row.get(4)?;
                let mut table = previous.table;
                table.columns = columns.remove(&previous.key).unwrap_or_default();
                table.columns.sort_by_key(|column| column.ordinal);
                if let Some(schema) = schemas.get_mut(&(database, schema)) {
                    schema.tables.push(table);
                }
            }

            for ((database, _), schema) in schemas {
                if let Some(database) = databases.get_mut(&database) {
                    database.schemas.push(schema);
                }
            }
            Ok(Catalog {
                databases: databases.into_values().collect(),
            })
        };
        read().map_err(|error| self.error("reading the catalog", error))
    }
}
