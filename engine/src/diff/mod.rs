//! Comparison of a freshly read schema with its stored previous state.
//!
//! A schema is compared in two steps so that a large unchanged catalog costs
//! little: [`match_tables`] pairs tables by name and stable id and compares
//! fingerprints, which tells which previous tables need their columns loaded
//! from the store; [`diff_schema`] then compares the changed tables in parallel
//! (rayon) and returns the changes and the rows to write.

mod columns;
mod matching;
mod order;

use crate::catalog::{Column, Table, TableKind};
use crate::change::{Change, ChangeKind, ObjectPath};
use crate::fingerprint::table_fingerprint;
use matching::{Identity, Matching, match_objects};
use rayon::prelude::*;
use std::collections::HashMap;

pub(crate) use matching::{Identity as NamedObject, match_objects as match_named};

/// A table of the previous snapshot, without its columns.
#[derive(Debug, Clone)]
pub struct PreviousTable {
    /// Store key shared by every version of this table.
    pub key: i64,
    /// Store row of this version.
    pub row_id: i64,
    pub fingerprint: u64,
    /// The table as stored; `columns` is empty.
    pub table: Table,
}

/// A column of the previous snapshot with its store row.
#[derive(Debug, Clone)]
pub struct PreviousColumn {
    pub row_id: i64,
    pub column: Column,
}

/// A table as just read, with its fingerprint.
#[derive(Debug, Clone)]
pub struct FingerprintedTable {
    pub fingerprint: u64,
    pub table: Table,
}

/// Computes the fingerprints of freshly read tables in parallel.
pub fn fingerprint_tables(tables: Vec<Table>) -> Vec<FingerprintedTable> {
    tables
        .into_par_iter()
        .map(|table| FingerprintedTable {
            fingerprint: table_fingerprint(&table),
            table,
        })
        .collect()
}

/// Column rows to close and to insert for one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnWrites {
    pub close: Vec<i64>,
    pub insert: Vec<Column>,
}

/// A row operation on the tables of the store.
#[derive(Debug, Clone, PartialEq)]
pub enum TableWrite {
    /// A new table: a new key, a table row and its column rows.
    Insert { table: Table, fingerprint: u64 },
    /// A new version of a known table. `table.columns` is empty; the columns
    /// to write are in `columns`.
    Replace {
        key: i64,
        previous_row_id: i64,
        table: Table,
        fingerprint: u64,
        columns: ColumnWrites,
    },
    /// A dropped table: its row and every open column row are closed.
    Drop {
        key: i64,
        previous_row_id: i64,
        kind: TableKind,
    },
}

/// Result of comparing one schema.
#[derive(Debug, Clone, Default)]
pub struct SchemaDiff {
    pub changes: Vec<Change>,
    pub writes: Vec<TableWrite>,
    /// Tables that needed no write, handed back so the caller chooses where
    /// to free them: freeing a large schema's strings costs more than comparing it.
    pub unchanged: Vec<FingerprintedTable>,
}

impl SchemaDiff {
    /// Counts the dropped tables, partitions excluded.
    pub fn dropped_tables(&self) -> usize {
        self.writes
            .iter()
            .filter(|write| {
                matches!(write, TableWrite::Drop { kind, .. } if *kind != TableKind::Partition)
            })
            .count()
    }
}

/// Pairing of the previous and current tables of one schema.
#[derive(Debug)]
pub struct TableMatch {
    matching: Matching,
}

impl Identity for PreviousTable {
    fn name(&self) -> &str {
        &self.table.name
    }
    fn stable_id(&self) -> Option<&str> {
        self.table.stable_id.as_deref()
    }
}

impl Identity for FingerprintedTable {
    fn name(&self) -> &str {
        &self.table.name
    }
    fn stable_id(&self) -> Option<&str> {
        self.table.stable_id.as_deref()
    }
}

/// Pairs previous and current tables by name, then by stable id.
pub fn match_tables(previous: &[PreviousTable], current: &[FingerprintedTable]) -> TableMatch {
    TableMatch {
        matching: match_objects(previous, current),
    }
}

impl TableMatch {
    /// Keys of the previous tables whose columns must be loaded for
    /// [`diff_schema`]: those paired with a table of another fingerprint.
    pub fn keys_to_load(
        &self,
        previous: &[PreviousTable],
        current: &[FingerprintedTable],
    ) -> Vec<i64> {
        self.pairs()
            .filter(|&(previous_index, current_index, _)| {
                previous[previous_index].fingerprint != current[current_index].fingerprint
            })
            .map(|(previous_index, _, _)| previous[previous_index].key)
            .collect()
    }

    /// (previous, current, renamed) for every paired table, in current order.
    fn pairs(&self) -> impl Iterator<Item = (usize, usize, bool)> + '_ {
        let mut pairs: Vec<(usize, usize, bool)> = self
            .matching
            .same_name
            .iter()
            .map(|&(previous_index, current_index)| (previous_index, current_index, false))
            .chain(
                self.matching
                    .renamed
                    .iter()
                    .map(|&(previous_index, current_index)| (previous_index, current_index, true)),
            )
            .collect();
        pairs.sort_by_key(|&(_, current_index, _)| current_index);
        pairs.into_iter()
    }
}

/// Names of the schema being compared, as they are now.
#[derive(Debug, Clone)]
pub struct SchemaPath {
    pub database: String,
    pub schema: String,
}

/// Compares one schema and returns its changes and row writes.
///
/// `previous_columns` must hold the columns of every key returned by
/// [`TableMatch::keys_to_load`]. With `rewrite_all`, every paired table gets a
/// new row even when unchanged, because its database or schema was renamed.
pub fn diff_schema(
    path: &SchemaPath,
    previous: &[PreviousTable],
    previous_columns: &HashMap<i64, Vec<PreviousColumn>>,
    current: Vec<FingerprintedTable>,
    table_match: &TableMatch,
    rewrite_all: bool,
) -> SchemaDiff {
    let matching = &table_match.matching;
    let mut current: Vec<Option<FingerprintedTable>> = current.into_iter().map(Some).collect();
    let mut diff = SchemaDiff::default();

    for &current_index in &matching.added {
        let Some(added) = current[current_index].take() else {
            continue;
        };
        let table_path = ObjectPath::table(&path.database, &path.schema, &added.table.name);
        diff.changes.push(table_path.change(
            ChangeKind::TableAdded,
            None,
            Some(describe_kind(&added.table)),
        ));
        diff.writes.push(TableWrite::Insert {
            table: added.table,
            fingerprint: added.fingerprint,
        });
    }

    let mut pairs: Vec<(usize, FingerprintedTable, bool)> = Vec::new();
    for (previous_index, current_index, renamed) in table_match.pairs() {
        let unchanged = !renamed
            && !rewrite_all
            && current[current_index]
                .as_ref()
                .is_some_and(|table| table.fingerprint == previous[previous_index].fingerprint);
        if unchanged {
            continue;
        }
        if let Some(table) = current[current_index].take() {
            pairs.push((previous_index, table, renamed));
        }
    }
    let compared: Vec<(Vec<Change>, Option<TableWrite>)> = pairs
        .into_par_iter()
        .map(|(previous_index, table, renamed)| {
            let previous_table = &previous[previous_index];
            let columns = previous_columns
                .get(&previous_table.key)
                .map(Vec::as_slice)
                .unwrap_or_default();
            diff_table(path, previous_table, columns, table, renamed, rewrite_all)
        })
        .collect();
    for (changes, write) in compared {
        diff.changes.extend(changes);
        diff.writes.extend(write);
    }

    for &previous_index in &matching.dropped {
        let dropped = &previous[previous_index];
        let table_path = ObjectPath::table(&path.database, &path.schema, &dropped.table.name);
        diff.changes.push(table_path.change(
            ChangeKind::TableDropped,
            Some(describe_kind(&dropped.table)),
            None,
        ));
        diff.writes.push(TableWrite::Drop {
            key: dropped.key,
            previous_row_id: dropped.row_id,
            kind: dropped.table.kind,
        });
    }

    diff.unchanged = current.into_iter().flatten().collect();
    diff
}

fn diff_table(
    path: &SchemaPath,
    previous: &PreviousTable,
    previous_columns: &[PreviousColumn],
    current: FingerprintedTable,
    renamed: bool,
    rewrite_all: bool,
) -> (Vec<Change>, Option<TableWrite>) {
    let content_changed = previous.fingerprint != current.fingerprint;
    if !content_changed && !renamed && !rewrite_all {
        return (Vec::new(), None);
    }

    let FingerprintedTable {
        fingerprint,
        mut table,
    } = current;
    let table_path = ObjectPath::table(&path.database, &path.schema, &table.name);
    let before = &previous.table;
    let mut changes = Vec::new();

    if renamed {
        changes.push(table_path.change(
            ChangeKind::TableRenamed,
            Some(before.name.clone()),
            Some(table.name.clone()),
        ));
    }
    if before.kind != table.kind {
        changes.push(table_path.change(
            ChangeKind::TableKindChanged,
            Some(before.kind.to_string()),
            Some(table.kind.to_string()),
        ));
    }
    if before.comment != table.comment {
        changes.push(table_path.change(
            ChangeKind::TableCommentChanged,
            before.comment.clone(),
            table.comment.clone(),
        ));
    }
    if before.definition != table.definition {
        changes.push(table_path.change(
            ChangeKind::ViewDefinitionChanged,
            before.definition.clone(),
            table.definition.clone(),
        ));
    }
    if before.partition_of != table.partition_of {
        changes.push(table_path.change(
            ChangeKind::PartitionBoundChanged,
            before.partition_of.as_ref().map(describe_partition),
            table.partition_of.as_ref().map(describe_partition),
        ));
    }

    let mut columns = ColumnWrites::default();
    if content_changed {
        let (column_changes, column_writes) =
            columns::diff_columns(&table_path, previous_columns, &table.columns);
        changes.extend(column_changes);
        columns = column_writes;
    }

    table.columns = Vec::new();
    let write = TableWrite::Replace {
        key: previous.key,
        previous_row_id: previous.row_id,
        table,
        fingerprint,
        columns,
    };
    (changes, Some(write))
}

/// Describes a table's kind for `before`/`after`: `table`, or
/// `partition of metrics.readings FOR VALUES ...` for a partition.
fn describe_kind(table: &Table) -> String {
    match &table.partition_of {
        Some(partition_of) => format!("{} of {}", table.kind, describe_partition(partition_of)),
        None => table.kind.to_string(),
    }
}

fn describe_partition(partition_of: &crate::catalog::PartitionOf) -> String {
    let parent = match &partition_of.parent_schema {
        Some(schema) => format!("{schema}.{}", partition_of.parent),
        None => partition_of.parent.clone(),
    };
    match &partition_of.bound {
        Some(bound) => format!("{parent} {bound}"),
        None => parent,
    }
}
