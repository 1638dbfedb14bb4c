//! Synthetic catalogs for the benchmarks: `tables` tables of `columns_per_table`
//! columns each, with realistic names, types and attributes.

use metacrawl_engine::{Column, Table, TableKind};

const TYPES: [&str; 8] = [
    "integer",
    "bigint",
    "text",
    "character varying(255)",
    "numeric(12,2)",
    "timestamp with time zone",
    "boolean",
    "jsonb",
];

/// Builds one table with its columns.
pub(crate) fn table(index: usize, columns_per_table: usize) -> Table {
    let mut table = Table::new(format!("table_{index:06}"), TableKind::Table);
    table.stable_id = Some(format!("{}", 16_384 + index));
    for ordinal in 1..=columns_per_table {
        let mut column = Column::new(
            format!("column_{ordinal:03}"),
            ordinal as u32,
            TYPES[(index + ordinal) % TYPES.len()],
        );
        column.nullable = ordinal % 3 != 0;
        column.primary_key = ordinal == 1;
        column.stable_id = Some(format!("{}.{ordinal}", 16_384 + index));
        if ordinal % 5 == 0 {
            column.default = Some("0".to_string());
        }
        if ordinal % 7 == 0 {
            column.comment = Some(format!("comment on column {ordinal} of table {index}"));
        }
        table.columns.push(column);
    }
    table
}

/// Builds `tables` tables, numbered from `first`.
pub(crate) fn tables(first: usize, tables: usize, columns_per_table: usize) -> Vec<Table> {
    (first..first + tables)
        .map(|index| table(index, columns_per_table))
        .collect()
}
