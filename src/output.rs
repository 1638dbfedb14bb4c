//! Text and JSON output of the CLI. JSON field names are part of the CLI's
//! contract with scripts: add fields, never rename them.

use metacrawl_engine::store::{ConnectionRecord, SnapshotRecord};
use metacrawl_engine::{Catalog, Change, Column, Table, TableKind};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// One change in `changes --json` and `refresh --json`.
#[derive(Debug, Serialize)]
pub(crate) struct ChangeJson<'a> {
    snapshot: i64,
    kind: &'static str,
    database: &'a str,
    schema: Option<&'a str>,
    table: Option<&'a str>,
    column: Option<&'a str>,
    before: Option<&'a str>,
    after: Option<&'a str>,
    breaking: bool,
}

impl<'a> ChangeJson<'a> {
    pub(crate) fn new(snapshot: i64, change: &'a Change) -> ChangeJson<'a> {
        ChangeJson {
            snapshot,
            kind: change.kind.as_str(),
            database: &change.database,
            schema: change.schema.as_deref(),
            table: change.table.as_deref(),
            column: change.column.as_deref(),
            before: change.before.as_deref(),
            after: change.after.as_deref(),
            breaking: change.breaking,
        }
    }
}

/// Renders changes as a JSON array.
pub(crate) fn changes_json(changes: &[(i64, Change)]) -> String {
    let rows: Vec<ChangeJson<'_>> = changes
        .iter()
        .map(|(snapshot, change)| ChangeJson::new(*snapshot, change))
        .collect();
    to_pretty_json(&rows)
}

/// Renders changes as aligned text, one per line.
pub(crate) fn changes_text(changes: &[(i64, Change)]) -> String {
    if changes.is_empty() {
        return "no changes\n".to_string();
    }
    let rows: Vec<[String; 5]> = changes
        .iter()
        .map(|(snapshot, change)| {
            [
                snapshot.to_string(),
                change.kind.to_string(),
                object_name(change),
                describe_values(change),
                if change.breaking {
                    "breaking".to_string()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    aligned(
        &["SNAPSHOT", "KIND", "OBJECT", "BEFORE -> AFTER", "BREAKING"],
        &rows,
    )
}

fn object_name(change: &Change) -> String {
    [
        Some(change.database.as_str()),
        change.schema.as_deref(),
        change.table.as_deref(),
        change.column.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(".")
}

fn describe_values(change: &Change) -> String {
    match (&change.before, &change.after) {
        (None, None) => String::new(),
        (Some(before), None) => format!("{before} -> (none)"),
        (None, Some(after)) => format!("(none) -> {after}"),
        (Some(before), Some(after)) => format!("{} -> {}", one_line(before), one_line(after)),
    }
}

/// Shortens multi-line values (view definitions) to their first line.
fn one_line(value: &str) -> String {
    match value.lines().next() {
        Some(first) if value.contains('\n') => format!("{first} ..."),
        _ => value.to_string(),
    }
}

/// Renders a catalog as the JSON tree databases -> schemas -> tables -> columns.
pub(crate) fn catalog_json(snapshot: &SnapshotRecord, catalog: &Catalog) -> String {
    let databases: Vec<Value> = catalog
        .databases
        .iter()
        .map(|database| {
            let schemas: Vec<Value> = database
                .schemas
                .iter()
                .map(|schema| {
                    let tables: Vec<Value> = schema.tables.iter().map(table_json).collect();
                    json!({ "name": schema.name, "comment": schema.comment, "tables": tables })
                })
                .collect();
            json!({ "name": database.name, "schemas": schemas })
        })
        .collect();
    to_pretty_json(&json!({
        "snapshot": snapshot.id,
        "created_at": snapshot.created_at,
        "databases": databases,
    }))
}

fn table_json(table: &Table) -> Value {
    let columns: Vec<Value> = table.columns.iter().map(column_json).collect();
    let partition_of = table.partition_of.as_ref().map(|partition| {
        json!({
            "parent": partition.parent,
            "parent_schema": partition.parent_schema,
            "bound": partition.bound,
        })
    });
    json!({
        "name": table.name,
        "kind": table.kind.as_str(),
        "comment": table.comment,
        "definition": table.definition,
        "partition_of": partition_of,
        "properties": table.properties,
        "shards": table.shards,
        "columns": columns,
    })
}

fn column_json(column: &Column) -> Value {
    json!({
        "ordinal": column.ordinal,
        "name": column.name,
        "data_type": column.data_type,
        "base_type": column.base_type,
        "nullable": column.nullable,
        "default": column.default,
        "comment": column.comment,
        "primary_key": column.primary_key,
        "identity": column.identity,
        "generated": column.generated,
        "field_path": column.field_path,
    })
}

/// Counts a noun: `1 table`, `2 tables`.
pub(crate) fn count(number: u64, noun: &str) -> String {
    if number == 1 {
        format!("1 {noun}")
    } else {
        format!("{number} {noun}s")
    }
}

/// Describes catalog counts: `1 database, 2 schemas, 14 tables, 58 columns`.
pub(crate) fn describe_counts(counts: &metacrawl_engine::store::CatalogCounts) -> String {
    format!(
        "{}, {}, {}, {}",
        count(counts.databases as u64, "database"),
        count(counts.schemas as u64, "schema"),
        count(counts.tables as u64, "table"),
        count(counts.columns as u64, "column")
    )
}

/// Renders a catalog as indented text.
pub(crate) fn catalog_text(snapshot: &SnapshotRecord, catalog: &Catalog) -> String {
    let mut text = format!(
        "snapshot {} ({}): {}\n",
        snapshot.id,
        snapshot.created_at,
        describe_counts(&snapshot.counts)
    );
    for database in &catalog.databases {
        for schema in &database.schemas {
            let _ = writeln!(text, "\n{}.{}", database.name, schema.name);
            for table in &schema.tables {
                write_table(&mut text, table);
            }
        }
    }
    text
}

fn write_table(text: &mut String, table: &Table) {
    let _ = match &table.partition_of {
        Some(partition) if table.kind == TableKind::Partition => writeln!(
            text,
            "  {} (partition of {}{})",
            table.name,
            partition.parent,
            partition
                .bound
                .as_ref()
                .map(|bound| format!(" {bound}"))
                .unwrap_or_default()
        ),
        _ => writeln!(text, "  {} ({})", table.name, table.kind),
    };
    let rows: Vec<[String; 5]> = table
        .columns
        .iter()
        .map(|column| {
            let mut attributes = Vec::new();
            if !column.nullable {
                attributes.push("NOT NULL".to_string());
            }
            if column.primary_key {
                attributes.push("PRIMARY KEY".to_string());
            }
            if let Some(default) = &column.default {
                attributes.push(format!("DEFAULT {default}"));
            }
            if let Some(expression) = &column.generated {
                attributes.push(format!("GENERATED AS ({expression})"));
            }
            if let Some(identity) = &column.identity {
                attributes.push(format!("IDENTITY {identity}"));
            }
            [
                format!("    {}", column.ordinal),
                column.name.clone(),
                column.data_type.clone(),
                attributes.join(" "),
                column.comment.clone().unwrap_or_default(),
            ]
        })
        .collect();
    for line in aligned_rows(&rows) {
        text.push_str(&line);
        text.push('\n');
    }
}

/// Renders snapshots as JSON.
pub(crate) fn history_json(snapshots: &[SnapshotRecord]) -> String {
    to_pretty_json(&snapshots)
}

/// Renders snapshots as aligned text.
pub(crate) fn history_text(name: &str, snapshots: &[SnapshotRecord]) -> String {
    if snapshots.is_empty() {
        return format!("no snapshots yet; run `metacrawl refresh {name} --wait`\n");
    }
    let rows: Vec<[String; 7]> = snapshots
        .iter()
        .map(|snapshot| {
            [
                snapshot.id.to_string(),
                snapshot.created_at.clone(),
                snapshot.counts.tables.to_string(),
                snapshot.counts.columns.to_string(),
                snapshot.change_count.to_string(),
                snapshot.breaking_change_count.to_string(),
                snapshot.warnings.len().to_string(),
            ]
        })
        .collect();
    aligned(
        &[
            "SNAPSHOT", "CREATED", "TABLES", "COLUMNS", "CHANGES", "BREAKING", "WARNINGS",
        ],
        &rows,
    )
}

/// Renders connections as JSON, credentials redacted.
pub(crate) fn connections_json(connections: &[ConnectionRecord]) -> String {
    let rows: Vec<Value> = connections
        .iter()
        .map(|connection| {
            json!({
                "id": connection.id,
                "name": connection.name,
                "driver": connection.driver,
                "url": connection.redacted_url(),
                "description": connection.description,
                "created_at": connection.created_at,
            })
        })
        .collect();
    to_pretty_json(&rows)
}

/// Renders connections as aligned text, credentials redacted.
pub(crate) fn connections_text(connections: &[ConnectionRecord]) -> String {
    if connections.is_empty() {
        return "no connections; add one with `metacrawl connection add NAME --url URL`\n"
            .to_string();
    }
    let rows: Vec<[String; 4]> = connections
        .iter()
        .map(|connection| {
            [
                connection.id.to_string(),
                connection.name.clone(),
                connection.driver.clone(),
                connection.redacted_url(),
            ]
        })
        .collect();
    aligned(&["ID", "NAME", "DRIVER", "URL"], &rows)
}

fn aligned<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut all = Vec::with_capacity(rows.len() + 1);
    all.push(header.map(str::to_string));
    all.extend(rows.iter().cloned());
    let mut text = String::new();
    for line in aligned_rows(&all) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn aligned_rows<const N: usize>(rows: &[[String; N]]) -> Vec<String> {
    let mut widths = [0usize; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (index, cell) in row.iter().enumerate() {
                if index > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if index + 1 < N {
                    let padding = widths[index] - cell.chars().count();
                    line.push_str(&" ".repeat(padding));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

fn to_pretty_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_string());
    text.push('\n');
    text
}
