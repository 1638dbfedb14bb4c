//! Comparison of a freshly read schema with its stored previous state.
//!
//! A schema is compared in two steps so that a large unchanged catalog costs
//! little: [`match_tables`] fingerprints the current tables and pairs them by
//! name in one parallel pass (rayon), then by stable id, which tells which
//! previous tables need their columns loaded from the store; [`diff_schema`]
//! then compares the changed tables in parallel and returns the changes and
//! the rows to write.

mod columns;
mod matching;
mod name_hash;
mod order;

use crate::catalog::{Column, Table, TableKind};
use crate::change::{Change, ChangeKind, ObjectPath};
use crate::fingerprint::table_fingerprint;
use matching::{Identity, match_objects};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};

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
    /// The tables as read, handed back so the caller chooses where to free
    /// them: freeing a large schema's strings costs more than comparing it.
    /// Tables moved into `writes` are left as empty placeholders.
    pub read_tables: Vec<Table>,
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

/// Pairing of the previous and current tables of one schema, with the
/// current tables fingerprinted.
#[derive(Debug)]
pub struct TableMatch {
    /// Current tables in read order, and their fingerprints.
    tables: Vec<Table>,
    fingerprints: Vec<u64>,
    /// (previous, current, renamed) for every pair that needs a write, in current order.
    pairs: Vec<(usize, usize, bool)>,
    added: Vec<usize>,
    dropped: Vec<usize>,
    rewrite_all: bool,
}

impl Identity for PreviousTable {
    fn name(&self) -> &str {
        &self.table.name
    }
    fn stable_id(&self) -> Option<&str> {
        self.table.stable_id.as_deref()
    }
}

/// Fingerprints the current tables and pairs them with the previous ones by
/// name, in one parallel pass, then pairs the rest by stable id.
///
/// With `rewrite_all`, every paired table gets a new row even when unchanged,
/// because its database or schema was renamed.
pub fn match_tables(
    previous: &[PreviousTable],
    tables: Vec<Table>,
    rewrite_all: bool,
) -> TableMatch {
    let by_name = indexes_sorted_by_name(previous);

    // Drivers and the store both list tables by name, so each chunk of the
    // current tables finds its partners with one binary search and a merge
    // walk over both sorted lists, which reads memory in order. A chunk out of
    // name order takes a binary search per table instead.
    // An indexed collect writes straight into one preallocated vector;
    // rayon's parallel unzip would gather chunks into lists first.
    let mut paired: Vec<(u64, Option<usize>)> = vec![(0, None); tables.len()];
    paired
        .par_chunks_mut(MATCH_CHUNK)
        .zip(tables.par_chunks(MATCH_CHUNK))
        .for_each(|(out, chunk)| match_chunk(previous, &by_name, chunk, out));
    let (fingerprints, partners): (Vec<u64>, Vec<Option<usize>>) = paired.into_iter().unzip();

    let mut previous_matched = vec![false; previous.len()];
    let mut pairs = Vec::new();
    let mut unmatched = Vec::new();
    for (current_index, partner) in partners.into_iter().enumerate() {
        match partner {
            Some(previous_index) if !previous_matched[previous_index] => {
                previous_matched[previous_index] = true;
                // A new version token with the same content still needs a new
                // row, or the table would be read again on every refresh.
                if rewrite_all
                    || fingerprints[current_index] != previous[previous_index].fingerprint
                    || tables[current_index].version != previous[previous_index].table.version
                {
                    pairs.push((previous_index, current_index, false));
                }
            }
            _ => unmatched.push(current_index),
        }
    }

    // Only the few tables left without a same-name partner are paired by id.
    let unmatched_previous: Vec<usize> = (0..previous.len())
        .filter(|index| !previous_matched[*index])
        .collect();
    let previous_rest: Vec<&PreviousTable> = unmatched_previous
        .iter()
        .map(|&index| &previous[index])
        .collect();
    let current_rest: Vec<&Table> = unmatched.iter().map(|&index| &tables[index]).collect();
    let by_id = match_objects(&previous_rest, &current_rest);
    for (rest_previous, rest_current) in by_id.renamed {
        pairs.push((
            unmatched_previous[rest_previous],
            unmatched[rest_current],
            true,
        ));
    }
    pairs.sort_by_key(|&(_, current_index, _)| current_index);

    TableMatch {
        tables,
        fingerprints,
        pairs,
        added: by_id
            .added
            .into_iter()
            .map(|index| unmatched[index])
            .collect(),
        dropped: by_id
            .dropped
            .into_iter()
            .map(|index| unmatched_previous[index])
            .collect(),
        rewrite_all,
    }
}

impl Identity for Table {
    fn name(&self) -> &str {
        &self.name
    }
    fn stable_id(&self) -> Option<&str> {
        self.stable_id.as_deref()
    }
}

/// Returns the indexes of `previous` in name order, sorting only when the
/// list is not already sorted.
/// Current tables per task of the matching pass.
const MATCH_CHUNK: usize = 128;

/// Fingerprints a run of current tables and finds each one's same-name
/// partner among the previous tables (`by_name` orders them by name).
fn match_chunk(
    previous: &[PreviousTable],
    by_name: &[usize],
    chunk: &[Table],
    out: &mut [(u64, Option<usize>)],
) {
    let name_at = |position: usize| previous[by_name[position]].table.name.as_str();
    let in_order = chunk.windows(2).all(|pair| pair[0].name <= pair[1].name);
    let mut next = match chunk.first() {
        Some(first) if in_order => {
            by_name.partition_point(|&index| previous[index].table.name < first.name)
        }
        _ => 0,
    };
    for (slot, table) in out.iter_mut().zip(chunk) {
        let position = if in_order {
            while next < by_name.len() && name_at(next) < table.name.as_str() {
                next += 1;
            }
            (next < by_name.len() && name_at(next) == table.name).then_some(next)
        } else {
            by_name
                .binary_search_by(|&index| previous[index].table.name.as_str().cmp(&table.name))
                .ok()
        };
        *slot = (
            table_fingerprint(table),
            position.map(|position| by_name[position]),
        );
    }
}

fn indexes_sorted_by_name(previous: &[PreviousTable]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..previous.len()).collect();
    let sorted = previous
        .windows(2)
        .all(|pair| pair[0].table.name <= pair[1].table.name);
    if !sorted {
        order.sort_by(|left, right| previous[*left].table.name.cmp(&previous[*right].table.name));
    }
    order
}

impl<T: Identity> Identity for &T {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn stable_id(&self) -> Option<&str> {
        (**self).stable_id()
    }
}

impl TableMatch {
    /// Keys of the previous tables whose columns must be loaded for
    /// [`diff_schema`]: those paired with a table of another fingerprint.
    pub fn keys_to_load(&self, previous: &[PreviousTable]) -> Vec<i64> {
        self.pairs
            .iter()
            .filter(|&&(previous_index, current_index, _)| {
                self.fingerprints[current_index] != previous[previous_index].fingerprint
            })
            .map(|&(previous_index, _, _)| previous[previous_index].key)
            .collect()
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
/// [`TableMatch::keys_to_load`].
pub fn diff_schema(
    path: &SchemaPath,
    previous: &[PreviousTable],
    previous_columns: &HashMap<i64, Vec<PreviousColumn>>,
    table_match: TableMatch,
) -> SchemaDiff {
    let TableMatch {
        mut tables,
        fingerprints,
        pairs,
        added,
        dropped,
        rewrite_all,
    } = table_match;
    let mut diff = SchemaDiff::default();

    for current_index in added {
        let table = take_table(&mut tables, current_index);
        let table_path = ObjectPath::table(&path.database, &path.schema, &table.name);
        diff.changes.push(table_path.change(
            ChangeKind::TableAdded,
            None,
            Some(describe_kind(&table)),
        ));
        diff.writes.push(TableWrite::Insert {
            table,
            fingerprint: fingerprints[current_index],
        });
    }

    let pairs: Vec<(usize, Table, u64, bool)> = pairs
        .into_iter()
        .map(|(previous_index, current_index, renamed)| {
            let table = take_table(&mut tables, current_index);
            (previous_index, table, fingerprints[current_index], renamed)
        })
        .collect();
    let compared: Vec<(Vec<Change>, Option<TableWrite>)> = pairs
        .into_par_iter()
        .map(|(previous_index, table, fingerprint, renamed)| {
            let previous_table = &previous[previous_index];
            let columns = previous_columns
                .get(&previous_table.key)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let current = (table, fingerprint);
            diff_table(path, previous_table, columns, current, renamed, rewrite_all)
        })
        .collect();
    for (changes, write) in compared {
        diff.changes.extend(changes);
        diff.writes.extend(write);
    }

    for previous_index in dropped {
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

    diff.read_tables = tables;
    diff
}

/// Moves a table out of the read list, leaving an empty placeholder.
fn take_table(tables: &mut [Table], index: usize) -> Table {
    std::mem::replace(
        &mut tables[index],
        Table::new(String::new(), TableKind::Table),
    )
}

fn diff_table(
    path: &SchemaPath,
    previous: &PreviousTable,
    previous_columns: &[PreviousColumn],
    current: (Table, u64),
    renamed: bool,
    rewrite_all: bool,
) -> (Vec<Change>, Option<TableWrite>) {
    let (mut table, fingerprint) = current;
    let content_changed = previous.fingerprint != fingerprint;
    let version_changed = previous.table.version != table.version;
    if !content_changed && !renamed && !rewrite_all && !version_changed {
        return (Vec::new(), None);
    }

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

    if before.properties != table.properties {
        changes.push(table_path.change(
            ChangeKind::TablePropertiesChanged,
            describe_properties(&before.properties),
            describe_properties(&table.properties),
        ));
    }

    let same_table = before.stable_id.is_some() && before.stable_id == table.stable_id;
    let mut columns = ColumnWrites::default();
    if content_changed {
        let (column_changes, column_writes) =
            columns::diff_columns(&table_path, previous_columns, &table.columns, same_table);
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

/// Describes table properties for `before`/`after`: `clustering=order_id;
/// partitioning=DAY(placed_at)`, or `None` when there are none.
fn describe_properties(properties: &BTreeMap<String, String>) -> Option<String> {
    if properties.is_empty() {
        return None;
    }
    let pairs: Vec<String> = properties
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    Some(pairs.join("; "))
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

#[cfg(test)]
mod tests {
    use super::{PreviousTable, match_tables};
    use crate::catalog::{Table, TableKind};
    use crate::fingerprint::table_fingerprint;

    fn previous(name: &str, key: i64) -> PreviousTable {
        let table = Table::new(name, TableKind::Table);
        PreviousTable {
            key,
            row_id: key,
            fingerprint: table_fingerprint(&table),
            table,
        }
    }

    #[test]
    fn match_tables_pairs_unsorted_previous_tables() {
        let stored = [
            previous("zebra", 1),
            previous("apple", 2),
            previous("mango", 3),
        ];
        let current = vec![
            Table::new("apple", TableKind::Table),
            Table::new("mango", TableKind::View),
            Table::new("zebra", TableKind::Table),
        ];

        let table_match = match_tables(&stored, current, false);

        // Only mango changed (its kind); apple and zebra pair with no write.
        assert_eq!(table_match.pairs, vec![(2, 1, false)]);
        assert!(table_match.added.is_empty());
        assert!(table_match.dropped.is_empty());
    }

    #[test]
    fn match_tables_pairs_in_any_current_order() {
        let stored: Vec<PreviousTable> = (0..300)
            .map(|index| previous(&format!("t{index:03}"), index))
            .collect();
        // Sorted, reversed, and sorted with gaps and additions.
        let sorted: Vec<Table> = (0..300)
            .map(|index| Table::new(format!("t{index:03}"), TableKind::Table))
            .collect();
        let mut reversed = sorted.clone();
        reversed.reverse();
        let mut gaps: Vec<Table> = (0..300)
            .filter(|index| index % 7 != 0)
            .map(|index| Table::new(format!("t{index:03}"), TableKind::Table))
            .collect();
        gaps.push(Table::new("u000", TableKind::Table));

        for (current, dropped, added) in [(sorted, 0, 0), (reversed, 0, 0), (gaps, 43, 1)] {
            let table_match = match_tables(&stored, current, false);
            assert!(table_match.pairs.is_empty());
            assert_eq!(table_match.dropped.len(), dropped);
            assert_eq!(table_match.added.len(), added);
        }
    }
}
