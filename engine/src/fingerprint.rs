//! Per-table fingerprints, so unchanged tables are skipped before any column
//! is compared.
//!
//! The fingerprint covers every stored field of a table and its columns except
//! the table's own name (a renamed table with the same content keeps its
//! fingerprint) and `last_altered` (it moves on data loads). Column types enter
//! in their normalised form, so a new spelling of the same type is no change.
//! The value is persisted in the store: the byte layout below must not change
//! without a store migration that recomputes it.

use crate::catalog::{Column, Table};
use xxhash_rust::xxh3::Xxh3;

/// Computes the fingerprint of a table and its columns (XXH3, 64 bits).
pub fn table_fingerprint(table: &Table) -> u64 {
    let mut hasher = FieldHasher::default();

    hasher.text(table.kind.as_str());
    hasher.optional(table.stable_id.as_deref());
    hasher.optional(table.comment.as_deref());
    hasher.optional(table.definition.as_deref());
    match &table.partition_of {
        Some(partition_of) => {
            hasher.flag(true);
            hasher.text(&partition_of.parent);
            hasher.optional(partition_of.parent_schema.as_deref());
            hasher.optional(partition_of.bound.as_deref());
        }
        None => hasher.flag(false),
    }

    hasher.count(table.columns.len());
    for column in &table.columns {
        hash_column(&mut hasher, column);
    }
    hasher.finish()
}

fn hash_column(hasher: &mut FieldHasher, column: &Column) {
    hasher.text(&column.name);
    hasher.count(column.ordinal as usize);
    hasher.text(&column.normalized_type);
    hasher.flag(column.nullable);
    hasher.optional(column.default.as_deref());
    hasher.optional(column.comment.as_deref());
    hasher.optional(column.identity.as_deref());
    hasher.optional(column.generated.as_deref());
    hasher.flag(column.primary_key);
    hasher.optional(column.field_path.as_deref());
    hasher.optional(column.stable_id.as_deref());
}

/// Feeds fields to XXH3 with a length or tag before each, so that no two
/// different field sequences produce the same byte stream.
#[derive(Default)]
struct FieldHasher {
    state: Xxh3,
}

impl FieldHasher {
    fn text(&mut self, value: &str) {
        self.state.update(&(value.len() as u64).to_le_bytes());
        self.state.update(value.as_bytes());
    }

    fn optional(&mut self, value: Option<&str>) {
        match value {
            Some(value) => {
                self.flag(true);
                self.text(value);
            }
            None => self.flag(false),
        }
    }

    fn flag(&mut self, value: bool) {
        self.state.update(&[u8::from(value)]);
    }

    fn count(&mut self, value: usize) {
        self.state.update(&(value as u64).to_le_bytes());
    }

    fn finish(&self) -> u64 {
        self.state.digest()
    }
}

#[cfg(test)]
mod tests {
    use super::table_fingerprint;
    use crate::catalog::{Column, Table, TableKind};

    fn customers() -> Table {
        let mut table = Table::new("customers", TableKind::Table);
        table.columns.push(Column::new("id", 1, "integer"));
        table.columns.push(Column::new("name", 2, "text"));
        table
    }

    #[test]
    fn fingerprint_ignores_table_name() {
        let mut renamed = customers();
        renamed.name = "clients".to_string();
        assert_eq!(table_fingerprint(&customers()), table_fingerprint(&renamed));
    }

    #[test]
    fn fingerprint_ignores_type_spelling() {
        let mut respelled = customers();
        respelled.columns[0] = Column::new("id", 1, "int4");
        assert_eq!(
            table_fingerprint(&customers()),
            table_fingerprint(&respelled)
        );
    }

    #[test]
    fn fingerprint_ignores_last_altered() {
        let mut loaded = customers();
        loaded.last_altered = Some("2026-01-01T00:00:00Z".to_string());
        assert_eq!(table_fingerprint(&customers()), table_fingerprint(&loaded));
    }

    #[test]
    fn fingerprint_detects_nullability() {
        let mut changed = customers();
        changed.columns[1].nullable = false;
        assert_ne!(table_fingerprint(&customers()), table_fingerprint(&changed));
    }

    #[test]
    fn fingerprint_separates_adjacent_fields() {
        let mut first = customers();
        first.comment = Some("ab".to_string());
        first.definition = Some("c".to_string());
        let mut second = customers();
        second.comment = Some("a".to_string());
        second.definition = Some("bc".to_string());
        assert_ne!(table_fingerprint(&first), table_fingerprint(&second));
    }
}
