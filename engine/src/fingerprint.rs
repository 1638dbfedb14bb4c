//! Per-table fingerprints, so unchanged tables are skipped before any column
//! is compared.
//!
//! The fingerprint covers every stored field of a table and its columns except
//! the table's own name (a renamed table with the same content keeps its
//! fingerprint) and `last_altered` (it moves on data loads). Column types enter
//! both as spelled and normalised: a new spelling of the same type stores a new
//! row, and the diff, which compares normalised types, reports no change.
//! The value is persisted in the store. When the byte layout below changes,
//! every table is compared column by column once on its next refresh: nothing
//! is reported for unchanged content, and the table row takes the new value.

use crate::catalog::{Column, Table};
use xxhash_rust::xxh3::xxh3_64;

/// Computes the fingerprint of a table and its columns (XXH3, 64 bits).
pub fn table_fingerprint(table: &Table) -> u64 {
    // Fields are written to one buffer and hashed once: far cheaper than
    // feeding the streaming hasher field by field. The buffer is reused per thread.
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        let mut fields = FieldWriter { bytes: &mut buffer };
        write_table(&mut fields, table);
        xxh3_64(fields.bytes)
    })
}

fn write_table(fields: &mut FieldWriter<'_>, table: &Table) {
    fields.text(table.kind.as_str());
    fields.optional(table.stable_id.as_deref());
    fields.optional(table.comment.as_deref());
    fields.optional(table.definition.as_deref());
    match &table.partition_of {
        Some(partition_of) => {
            fields.flag(true);
            fields.text(&partition_of.parent);
            fields.optional(partition_of.parent_schema.as_deref());
            fields.optional(partition_of.bound.as_deref());
        }
        None => fields.flag(false),
    }
    fields.count(table.properties.len());
    for (name, value) in &table.properties {
        fields.text(name);
        fields.text(value);
    }
    match &table.shards {
        Some(shards) => {
            fields.flag(true);
            fields.text(&shards.first);
            fields.text(&shards.last);
            fields.count(shards.count as usize);
        }
        None => fields.flag(false),
    }

    fields.count(table.columns.len());
    for column in &table.columns {
        write_column(fields, column);
    }
}

fn write_column(fields: &mut FieldWriter<'_>, column: &Column) {
    fields.text(&column.name);
    fields.count(column.ordinal as usize);
    fields.text(&column.data_type);
    fields.text(&column.normalized_type);
    fields.optional(column.base_type.as_deref());
    fields.flag(column.nullable);
    fields.optional(column.default.as_deref());
    fields.optional(column.comment.as_deref());
    fields.optional(column.identity.as_deref());
    fields.optional(column.generated.as_deref());
    fields.flag(column.primary_key);
    fields.optional(column.field_path.as_deref());
    fields.optional(column.stable_id.as_deref());
}

/// Writes fields with a length or tag before each, so that no two different
/// field sequences produce the same bytes.
struct FieldWriter<'a> {
    bytes: &'a mut Vec<u8>,
}

impl FieldWriter<'_> {
    fn text(&mut self, value: &str) {
        self.count(value.len());
        self.bytes.extend_from_slice(value.as_bytes());
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
        self.bytes.push(u8::from(value));
    }

    fn count(&mut self, value: usize) {
        self.bytes.extend_from_slice(&(value as u64).to_le_bytes());
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
    fn fingerprint_covers_type_spelling_and_layout() {
        // A new spelling is stored (the diff still reports no change for it).
        let mut respelled = customers();
        respelled.columns[0] = Column::new("id", 1, "int4");
        assert_ne!(
            table_fingerprint(&customers()),
            table_fingerprint(&respelled)
        );

        let mut clustered = customers();
        clustered
            .properties
            .insert("clustering".to_string(), "id".to_string());
        assert_ne!(
            table_fingerprint(&customers()),
            table_fingerprint(&clustered)
        );

        let mut sharded = customers();
        sharded.shards = Some(crate::catalog::ShardRange {
            first: "20240101".to_string(),
            last: "20240102".to_string(),
            count: 2,
        });
        assert_ne!(table_fingerprint(&customers()), table_fingerprint(&sharded));
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
