//! Changes between two snapshots of a catalog.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What changed. Names are snake_case in the store, the CLI and the APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    DatabaseAdded,
    DatabaseDropped,
    DatabaseRenamed,
    SchemaAdded,
    SchemaDropped,
    SchemaRenamed,
    TableAdded,
    TableDropped,
    TableRenamed,
    TableKindChanged,
    TableCommentChanged,
    ViewDefinitionChanged,
    PartitionBoundChanged,
    TablePropertiesChanged,
    ColumnAdded,
    ColumnDropped,
    ColumnRenamed,
    ColumnTypeChanged,
    ColumnNullabilityChanged,
    ColumnDefaultChanged,
    ColumnCommentChanged,
    ColumnPositionChanged,
}

impl ChangeKind {
    /// Every kind, in declaration order.
    pub const ALL: [ChangeKind; 22] = [
        ChangeKind::DatabaseAdded,
        ChangeKind::DatabaseDropped,
        ChangeKind::DatabaseRenamed,
        ChangeKind::SchemaAdded,
        ChangeKind::SchemaDropped,
        ChangeKind::SchemaRenamed,
        ChangeKind::TableAdded,
        ChangeKind::TableDropped,
        ChangeKind::TableRenamed,
        ChangeKind::TableKindChanged,
        ChangeKind::TableCommentChanged,
        ChangeKind::ViewDefinitionChanged,
        ChangeKind::PartitionBoundChanged,
        ChangeKind::TablePropertiesChanged,
        ChangeKind::ColumnAdded,
        ChangeKind::ColumnDropped,
        ChangeKind::ColumnRenamed,
        ChangeKind::ColumnTypeChanged,
        ChangeKind::ColumnNullabilityChanged,
        ChangeKind::ColumnDefaultChanged,
        ChangeKind::ColumnCommentChanged,
        ChangeKind::ColumnPositionChanged,
    ];

    /// Returns the snake_case name (`column_added`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::DatabaseAdded => "database_added",
            ChangeKind::DatabaseDropped => "database_dropped",
            ChangeKind::DatabaseRenamed => "database_renamed",
            ChangeKind::SchemaAdded => "schema_added",
            ChangeKind::SchemaDropped => "schema_dropped",
            ChangeKind::SchemaRenamed => "schema_renamed",
            ChangeKind::TableAdded => "table_added",
            ChangeKind::TableDropped => "table_dropped",
            ChangeKind::TableRenamed => "table_renamed",
            ChangeKind::TableKindChanged => "table_kind_changed",
            ChangeKind::TableCommentChanged => "table_comment_changed",
            ChangeKind::ViewDefinitionChanged => "view_definition_changed",
            ChangeKind::PartitionBoundChanged => "partition_bound_changed",
            ChangeKind::TablePropertiesChanged => "table_properties_changed",
            ChangeKind::ColumnAdded => "column_added",
            ChangeKind::ColumnDropped => "column_dropped",
            ChangeKind::ColumnRenamed => "column_renamed",
            ChangeKind::ColumnTypeChanged => "column_type_changed",
            ChangeKind::ColumnNullabilityChanged => "column_nullability_changed",
            ChangeKind::ColumnDefaultChanged => "column_default_changed",
            ChangeKind::ColumnCommentChanged => "column_comment_changed",
            ChangeKind::ColumnPositionChanged => "column_position_changed",
        }
    }

    /// Parses the name returned by [`ChangeKind::as_str`].
    pub fn parse(name: &str) -> Option<ChangeKind> {
        ChangeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One change. Names locate the object after the change; for a rename,
/// `before` holds the old name and `after` the new one, and for a drop the names
/// are the last ones the object had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub database: String,
    pub schema: Option<String>,
    pub table: Option<String>,
    pub column: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    /// Whether consumers of the object may break: drops, renames, kind and type
    /// changes, and a nullable column becoming NOT NULL.
    pub breaking: bool,
}

/// Names of the object a change is about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectPath {
    pub database: String,
    pub schema: Option<String>,
    pub table: Option<String>,
    pub column: Option<String>,
}

impl ObjectPath {
    /// Path of a table.
    pub fn table(database: &str, schema: &str, table: &str) -> ObjectPath {
        ObjectPath {
            database: database.to_string(),
            schema: Some(schema.to_string()),
            table: Some(table.to_string()),
            column: None,
        }
    }

    /// Path of a column of this table.
    pub fn column(&self, column: &str) -> ObjectPath {
        ObjectPath {
            column: Some(column.to_string()),
            ..self.clone()
        }
    }

    /// Builds the change of `kind` on this object, with its breaking flag.
    pub fn change(
        &self,
        kind: ChangeKind,
        before: Option<String>,
        after: Option<String>,
    ) -> Change {
        let breaking = is_breaking(kind, after.as_deref());
        Change {
            kind,
            database: self.database.clone(),
            schema: self.schema.clone(),
            table: self.table.clone(),
            column: self.column.clone(),
            before,
            after,
            breaking,
        }
    }
}

/// Text of `before`/`after` for a column that does not accept NULL.
pub const NOT_NULL: &str = "NOT NULL";
/// Text of `before`/`after` for a column that accepts NULL.
pub const NULL: &str = "NULL";

fn is_breaking(kind: ChangeKind, after: Option<&str>) -> bool {
    match kind {
        ChangeKind::DatabaseDropped
        | ChangeKind::DatabaseRenamed
        | ChangeKind::SchemaDropped
        | ChangeKind::SchemaRenamed
        | ChangeKind::TableDropped
        | ChangeKind::TableRenamed
        | ChangeKind::TableKindChanged
        | ChangeKind::ColumnDropped
        | ChangeKind::ColumnRenamed
        | ChangeKind::ColumnTypeChanged => true,
        ChangeKind::ColumnNullabilityChanged => after == Some(NOT_NULL),
        ChangeKind::DatabaseAdded
        | ChangeKind::SchemaAdded
        | ChangeKind::TableAdded
        | ChangeKind::TableCommentChanged
        | ChangeKind::ViewDefinitionChanged
        | ChangeKind::PartitionBoundChanged
        | ChangeKind::TablePropertiesChanged
        | ChangeKind::ColumnAdded
        | ChangeKind::ColumnDefaultChanged
        | ChangeKind::ColumnCommentChanged
        | ChangeKind::ColumnPositionChanged => false,
    }
}
