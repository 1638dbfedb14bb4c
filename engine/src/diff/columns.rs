//! Comparison of the columns of one table.

use super::matching::{Identity, Matching, match_objects};
use super::order::moved_positions;
use super::{ColumnWrites, PreviousColumn};
use crate::catalog::Column;
use crate::change::{Change, ChangeKind, NOT_NULL, NULL, ObjectPath};

impl Identity for PreviousColumn {
    fn name(&self) -> &str {
        &self.column.name
    }
    fn stable_id(&self) -> Option<&str> {
        self.column.stable_id.as_deref()
    }
}

impl Identity for Column {
    fn name(&self) -> &str {
        &self.name
    }
    fn stable_id(&self) -> Option<&str> {
        self.stable_id.as_deref()
    }
}

/// Compares the columns of one table and returns the changes, in current
/// column order with drops last, and the column rows to close and insert.
///
/// With `same_table` (both versions of the table carry the same stable id), a
/// column whose name is unchanged but whose stable id differs was dropped and
/// created again (a Postgres attnum is never reused): it is reported as
/// dropped and added, not as changed in place. Relative order is still judged
/// by name, so the columns it overtook are reported as moved.
pub(crate) fn diff_columns(
    table: &ObjectPath,
    previous: &[PreviousColumn],
    current: &[Column],
    same_table: bool,
) -> (Vec<Change>, ColumnWrites) {
    let mut matching = match_objects(previous, current);
    pair_case_renames(previous, current, &mut matching);
    let mut changes = Vec::new();
    let mut writes = ColumnWrites::default();

    let mut pairs: Vec<(usize, usize, bool)> = matching
        .same_name
        .iter()
        .map(|&(previous_index, current_index)| (previous_index, current_index, false))
        .chain(
            matching
                .renamed
                .iter()
                .map(|&(previous_index, current_index)| (previous_index, current_index, true)),
        )
        .collect();
    pairs.sort_by_key(|&(_, current_index, _)| current_index);

    let previous_ordinals: Vec<u32> = pairs
        .iter()
        .map(|&(previous_index, _, _)| previous[previous_index].column.ordinal)
        .collect();
    let moved = moved_positions(&previous_ordinals);

    let mut recreated_columns: Vec<&PreviousColumn> = Vec::new();
    let mut added = matching.added.iter().peekable();
    for (pair_index, &(previous_index, current_index, renamed)) in pairs.iter().enumerate() {
        while let Some(&&added_index) = added.peek() {
            if added_index > current_index {
                break;
            }
            push_added(table, &current[added_index], &mut changes, &mut writes);
            added.next();
        }

        let before = &previous[previous_index];
        let after = &current[current_index];
        let path = table.column(&after.name);
        let recreated = same_table
            && before.column.stable_id.is_some()
            && after.stable_id.is_some()
            && before.column.stable_id != after.stable_id;
        if recreated {
            recreated_columns.push(before);
            push_added(table, after, &mut changes, &mut writes);
            continue;
        }
        if renamed {
            changes.push(path.change(
                ChangeKind::ColumnRenamed,
                Some(before.column.name.clone()),
                Some(after.name.clone()),
            ));
        }
        compare_attributes(&path, &before.column, after, &mut changes);
        if moved[pair_index] {
            changes.push(path.change(
                ChangeKind::ColumnPositionChanged,
                Some(before.column.ordinal.to_string()),
                Some(after.ordinal.to_string()),
            ));
        }

        if !same_stored_content(&before.column, after) {
            writes.close.push(before.row_id);
            writes.insert.push(after.clone());
        }
    }
    for &added_index in added {
        push_added(table, &current[added_index], &mut changes, &mut writes);
    }

    let dropped_columns = matching
        .dropped
        .iter()
        .map(|&previous_index| &previous[previous_index])
        .chain(recreated_columns);
    for dropped in dropped_columns {
        changes.push(table.column(&dropped.column.name).change(
            ChangeKind::ColumnDropped,
            Some(dropped.column.data_type.clone()),
            None,
        ));
        writes.close.push(dropped.row_id);
    }
    (changes, writes)
}

fn push_added(
    table: &ObjectPath,
    column: &Column,
    changes: &mut Vec<Change>,
    writes: &mut ColumnWrites,
) {
    changes.push(table.column(&column.name).change(
        ChangeKind::ColumnAdded,
        None,
        Some(column.data_type.clone()),
    ));
    writes.insert.push(column.clone());
}

fn compare_attributes(
    path: &ObjectPath,
    before: &Column,
    after: &Column,
    changes: &mut Vec<Change>,
) {
    if before.normalized_type != after.normalized_type {
        changes.push(path.change(
            ChangeKind::ColumnTypeChanged,
            Some(before.data_type.clone()),
            Some(after.data_type.clone()),
        ));
    } else if before.base_type != after.base_type {
        // Same domain name, other base type: the domain was recreated.
        changes.push(path.change(
            ChangeKind::ColumnTypeChanged,
            Some(describe_type(before)),
            Some(describe_type(after)),
        ));
    }

    if before.nullable != after.nullable {
        changes.push(path.change(
            ChangeKind::ColumnNullabilityChanged,
            Some(nullability(before).to_string()),
            Some(nullability(after).to_string()),
        ));
    }

    let before_source = value_source(before);
    let after_source = value_source(after);
    if before_source != after_source {
        changes.push(path.change(
            ChangeKind::ColumnDefaultChanged,
            before_source,
            after_source,
        ));
    }

    if before.comment != after.comment {
        changes.push(path.change(
            ChangeKind::ColumnCommentChanged,
            before.comment.clone(),
            after.comment.clone(),
        ));
    }
}

/// Describes a type with its base type: `billing.amount (numeric(12,2))`.
fn describe_type(column: &Column) -> String {
    match &column.base_type {
        Some(base_type) => format!("{} ({base_type})", column.data_type),
        None => column.data_type.clone(),
    }
}

fn nullability(column: &Column) -> &'static str {
    if column.nullable { NULL } else { NOT_NULL }
}

/// Pairs a dropped and an added column that carry no stable ids, whose names
/// differ only in letter case, and that have the same position and content:
/// one column renamed (`ALTER TABLE ... RENAME COLUMN "ID" TO "Id"`). Names
/// that differ only in case are distinct identifiers in Snowflake and
/// Postgres, so the pair cannot be one column matched by name, and without
/// ids nothing else can show the rename.
fn pair_case_renames(previous: &[PreviousColumn], current: &[Column], matching: &mut Matching) {
    if matching.dropped.is_empty() || matching.added.is_empty() {
        return;
    }
    let mut paired = Vec::new();
    matching.added.retain(|&current_index| {
        let after = &current[current_index];
        let partner = matching.dropped.iter().position(|&previous_index| {
            let before = &previous[previous_index].column;
            before.stable_id.is_none()
                && after.stable_id.is_none()
                && before.name != after.name
                && before.name.to_lowercase() == after.name.to_lowercase()
                && before.ordinal == after.ordinal
                && before.normalized_type == after.normalized_type
                && before.nullable == after.nullable
                && before.default == after.default
                && before.comment == after.comment
                && before.field_path.is_none()
                && after.field_path.is_none()
        });
        match partner {
            Some(position) => {
                paired.push((matching.dropped.remove(position), current_index));
                false
            }
            None => true,
        }
    });
    if !paired.is_empty() {
        matching.renamed.extend(paired);
        matching
            .renamed
            .sort_by_key(|&(_, current_index)| current_index);
    }
}

/// Describes where a column's value comes from when a row does not give it: a
/// generation expression, an identity sequence or a default expression.
fn value_source(column: &Column) -> Option<String> {
    if let Some(expression) = &column.generated {
        return Some(format!("GENERATED ALWAYS AS ({expression})"));
    }
    if let Some(identity) = &column.identity {
        return Some(format!("GENERATED {identity} AS IDENTITY"));
    }
    column.default.clone()
}

/// Whether two versions of a column need no new row: every stored field is
/// equal (the fields of the fingerprint).
fn same_stored_content(before: &Column, after: &Column) -> bool {
    before.name == after.name
        && before.ordinal == after.ordinal
        && before.data_type == after.data_type
        && before.normalized_type == after.normalized_type
        && before.base_type == after.base_type
        && before.nullable == after.nullable
        && before.default == after.default
        && before.comment == after.comment
        && before.identity == after.identity
        && before.generated == after.generated
        && before.primary_key == after.primary_key
        && before.field_path == after.field_path
        && before.stable_id == after.stable_id
}

#[cfg(test)]
mod tests {
    use super::diff_columns;
    use crate::catalog::Column;
    use crate::change::{ChangeKind, ObjectPath};
    use crate::diff::PreviousColumn;

    fn stored(columns: &[Column]) -> Vec<PreviousColumn> {
        columns
            .iter()
            .enumerate()
            .map(|(row, column)| PreviousColumn {
                row_id: row as i64,
                column: column.clone(),
            })
            .collect()
    }

    fn kinds(before: &[Column], after: &[Column]) -> Vec<(ChangeKind, String)> {
        let table = ObjectPath::table("db", "staging", "events");
        let (changes, _) = diff_columns(&table, &stored(before), after, false);
        changes
            .into_iter()
            .map(|change| (change.kind, change.column.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn case_only_rename_without_ids_is_a_rename() {
        let before = [
            Column::new("id", 1, "NUMBER(38,0)"),
            Column::new("ID", 2, "NUMBER(38,0)"),
        ];
        let after = [
            Column::new("id", 1, "NUMBER(38,0)"),
            Column::new("Id", 2, "NUMBER(38,0)"),
        ];
        assert_eq!(
            kinds(&before, &after),
            vec![(ChangeKind::ColumnRenamed, "Id".to_string())]
        );
    }

    #[test]
    fn changed_case_pairs_stay_separate() {
        let before = [Column::new("ID", 1, "NUMBER(38,0)")];
        let retyped = [Column::new("Id", 1, "TEXT")];
        assert_eq!(
            kinds(&before, &retyped),
            vec![
                (ChangeKind::ColumnAdded, "Id".to_string()),
                (ChangeKind::ColumnDropped, "ID".to_string()),
            ]
        );

        // Columns with stable ids are paired by their ids only.
        let mut with_id = Column::new("ID", 1, "integer");
        with_id.stable_id = Some("1".to_string());
        let mut other_id = Column::new("Id", 1, "integer");
        other_id.stable_id = Some("2".to_string());
        assert_eq!(
            kinds(&[with_id], &[other_id]),
            vec![
                (ChangeKind::ColumnAdded, "Id".to_string()),
                (ChangeKind::ColumnDropped, "ID".to_string()),
            ]
        );
    }
}
