//! Catalog model: what a driver reads from a warehouse and what the store keeps.
//!
//! A connection holds databases, a database holds schemas, a schema holds tables,
//! a table holds columns. Names are stored exactly as the warehouse stores them:
//! `ID` and `id` are two different columns.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Identifier the warehouse gives an object and keeps across renames (a
/// Postgres oid or attnum, a Snowflake or BigQuery id where exposed).
///
/// Two objects with the same stable id are the same object, whatever their names.
pub type StableId = String;

/// A database as listed by a driver, before its schemas are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseListing {
    pub name: String,
    pub stable_id: Option<StableId>,
}

/// A schema as listed by a driver, before its tables are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaListing {
    pub name: String,
    pub stable_id: Option<StableId>,
    pub comment: Option<String>,
}

/// Kind of a relation. A partition is stored with its parent's name and its
/// bound, and is not counted as a table of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    Table,
    View,
    MaterializedView,
    ForeignTable,
    ExternalTable,
    PartitionedTable,
    Partition,
    /// A read-only copy of a table at a point in time (BigQuery table snapshots).
    Snapshot,
}

impl TableKind {
    /// Every kind, in the order used for docs and validation messages.
    pub const ALL: [TableKind; 8] = [
        TableKind::Table,
        TableKind::View,
        TableKind::MaterializedView,
        TableKind::ForeignTable,
        TableKind::ExternalTable,
        TableKind::PartitionedTable,
        TableKind::Partition,
        TableKind::Snapshot,
    ];

    /// Returns the snake_case name used in the store, the CLI and the APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            TableKind::Table => "table",
            TableKind::View => "view",
            TableKind::MaterializedView => "materialized_view",
            TableKind::ForeignTable => "foreign_table",
            TableKind::ExternalTable => "external_table",
            TableKind::PartitionedTable => "partitioned_table",
            TableKind::Partition => "partition",
            TableKind::Snapshot => "snapshot",
        }
    }

    /// Parses the name returned by [`TableKind::as_str`].
    pub fn parse(name: &str) -> Option<TableKind> {
        TableKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for TableKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Parent and bound of a partition, as the warehouse spells the bound
/// (for Postgres, `FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartitionOf {
    /// Name of the parent table, in the same schema unless `parent_schema` names another.
    pub parent: String,
    pub parent_schema: Option<String>,
    pub bound: Option<String>,
}

/// Date-named shards folded into one logical table (BigQuery's
/// `events_20240101`, `events_20240102`, ...): the first and last suffix and
/// how many shards exist. The logical table has the newest shard's columns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShardRange {
    pub first: String,
    pub last: String,
    pub count: u32,
}

/// A table, view or other relation with its columns in ordinal order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub kind: TableKind,
    pub stable_id: Option<StableId>,
    pub comment: Option<String>,
    /// Query text of a view or materialized view.
    pub definition: Option<String>,
    /// Parent and bound of a table of kind [`TableKind::Partition`]. Partitions
    /// carry no columns of their own: they have their parent's.
    pub partition_of: Option<PartitionOf>,
    /// Time of the last DDL or load, as the warehouse reports it (RFC 3339).
    /// Not part of change detection: it moves on every data load in some warehouses.
    pub last_altered: Option<String>,
    /// Driver token that changes whenever the table's metadata may have
    /// changed (for Postgres, built from the `xmin` of its catalog rows). A
    /// driver given the stored token can skip re-reading a table whose token
    /// is the same. Not part of change detection.
    pub version: Option<String>,
    /// Physical layout settings as the warehouse spells them, by name:
    /// `partitioning` (`DAY(placed_at)`), `clustering` (`order_id, region`).
    /// A changed value is reported as a change of the table.
    pub properties: BTreeMap<String, String>,
    /// Shard range of a table folded from date-named shards. A new shard
    /// updates the range without being reported as a change.
    pub shards: Option<ShardRange>,
    pub columns: Vec<Column>,
}

impl Table {
    /// Creates a table of `kind` with no columns and every optional field empty.
    pub fn new(name: impl Into<String>, kind: TableKind) -> Table {
        Table {
            name: name.into(),
            kind,
            stable_id: None,
            comment: None,
            definition: None,
            partition_of: None,
            last_altered: None,
            version: None,
            properties: BTreeMap::new(),
            shards: None,
            columns: Vec::new(),
        }
    }
}

/// A column. `ordinal` starts at 1 and follows the warehouse's column order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ordinal: u32,
    /// Type as the warehouse spells it (`character varying(120)`, `NUMBER(38,0)`).
    pub data_type: String,
    /// Type in the form used for comparison (see [`crate::types::normalize_type`]).
    pub normalized_type: String,
    /// Fully resolved type under a domain or alias (`numeric(12,2)` for a
    /// Postgres domain over it); `None` when `data_type` is not a domain.
    pub base_type: Option<String>,
    pub nullable: bool,
    pub default: Option<String>,
    pub comment: Option<String>,
    /// `ALWAYS` or `BY DEFAULT` for identity columns.
    pub identity: Option<String>,
    /// Generation expression of a generated column, as the warehouse spells it.
    pub generated: Option<String>,
    /// Whether the column is part of the primary key.
    pub primary_key: bool,
    /// Dotted path of a nested field (`customer.address.city`); `None` for top-level columns.
    pub field_path: Option<String>,
    pub stable_id: Option<StableId>,
}

impl Column {
    /// Creates a nullable column with its normalised type filled in and every
    /// optional field empty.
    pub fn new(name: impl Into<String>, ordinal: u32, data_type: impl Into<String>) -> Column {
        let data_type = data_type.into();
        Column {
            name: name.into(),
            ordinal,
            normalized_type: crate::types::normalize_type(&data_type),
            data_type,
            base_type: None,
            nullable: true,
            default: None,
            comment: None,
            identity: None,
            generated: None,
            primary_key: false,
            field_path: None,
            stable_id: None,
        }
    }
}

/// A schema with every table read from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub name: String,
    pub stable_id: Option<StableId>,
    pub comment: Option<String>,
    pub tables: Vec<Table>,
}

/// A database with its schemas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Database {
    pub name: String,
    pub stable_id: Option<StableId>,
    pub schemas: Vec<Schema>,
}

/// The whole catalog of a connection at one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub databases: Vec<Database>,
}

impl Catalog {
    /// Counts the tables, views and other relations of every schema, partitions excluded.
    pub fn table_count(&self) -> usize {
        self.databases
            .iter()
            .flat_map(|database| &database.schemas)
            .flat_map(|schema| &schema.tables)
            .filter(|table| table.kind != TableKind::Partition)
            .count()
    }

    /// Counts the columns of every table.
    pub fn column_count(&self) -> usize {
        self.databases
            .iter()
            .flat_map(|database| &database.schemas)
            .flat_map(|schema| &schema.tables)
            .map(|table| table.columns.len())
            .sum()
    }

    /// Finds a table by database, schema and table name.
    pub fn table(&self, database: &str, schema: &str, table: &str) -> Option<&Table> {
        self.databases
            .iter()
            .find(|candidate| candidate.name == database)?
            .schemas
            .iter()
            .find(|candidate| candidate.name == schema)?
            .tables
            .iter()
            .find(|candidate| candidate.name == table)
    }
}
