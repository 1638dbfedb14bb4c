//! BigQuery driver: `bigquery://PROJECT?OPTIONS` (options in [`config`]).
//!
//! The project is the connection's one database and each dataset is a schema.
//! A dataset is read with one paged `tables.list` and four
//! `INFORMATION_SCHEMA` queries (COLUMNS, COLUMN_FIELD_PATHS, TABLE_OPTIONS,
//! VIEWS), never a request per table. Types are spelled as
//! `INFORMATION_SCHEMA` spells them (`INT64`, `STRUCT<...>`, `ARRAY<...>`,
//! `NUMERIC(10, 2)`), not with the legacy names of the REST schema
//! (`INTEGER`, `RECORD`).
//!
//! Nested RECORD fields become columns named by their full path
//! (`customer.address.city`) with `field_path` set, placed after their parent
//! in schema order. A REPEATED field has an `ARRAY<...>` type; a REQUIRED one
//! is not nullable ([`field_mode`] gives the mode back). Date-named shards
//! (`events_20240101`, `events_20240102`) are folded into one table named
//! `events_*` that has the newest shard's columns and the shard range.

mod api;
pub mod config;
mod types;

use api::{Api, ApiError, Rows};
use config::BigQueryConfig;
use gcp_bigquery_client::model::table_list_tables::TableListTables;
use metacrawl_engine::catalog::{Column, ShardRange};
use metacrawl_engine::driver::{
    DatabaseReader, Driver, DriverError, DriverErrorKind, DriverFactory, KnownVersions, SchemaRead,
    UnreadableTable,
};
use metacrawl_engine::{DatabaseListing, SchemaListing, Table, TableKind};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use tokio::sync::OnceCell;

pub use gcp_bigquery_client::auth::Authenticator;
pub use gcp_bigquery_client::error::BQError;
pub use types::field_mode;

const COLUMNS_SQL: &str = include_str!("columns.sql");
const FIELD_DESCRIPTIONS_SQL: &str = include_str!("field_descriptions.sql");
const TABLE_DESCRIPTIONS_SQL: &str = include_str!("table_descriptions.sql");
const VIEWS_SQL: &str = include_str!("views.sql");

/// Creates BigQuery drivers for `bigquery://` URLs.
#[derive(Clone, Default)]
pub struct BigQueryDriverFactory {
    authenticator: Option<Arc<dyn Authenticator>>,
}

impl BigQueryDriverFactory {
    /// Creates a factory whose drivers authenticate with the URL's `key_file` or
    /// `token_env`, or `GOOGLE_APPLICATION_CREDENTIALS`.
    pub fn new() -> BigQueryDriverFactory {
        BigQueryDriverFactory::default()
    }

    /// Creates a factory whose drivers take their access tokens from `authenticator`
    /// when the URL names no credentials: for programs that manage tokens.
    pub fn with_authenticator(authenticator: Arc<dyn Authenticator>) -> BigQueryDriverFactory {
        BigQueryDriverFactory {
            authenticator: Some(authenticator),
        }
    }
}

impl fmt::Debug for BigQueryDriverFactory {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("BigQueryDriverFactory")
            .field("authenticator", &self.authenticator.is_some())
            .finish()
    }
}

impl DriverFactory for BigQueryDriverFactory {
    fn name(&self) -> &'static str {
        "bigquery"
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["bigquery"]
    }

    fn create(&self, url: &str) -> Result<Arc<dyn Driver>, DriverError> {
        let config = config::parse(url, self.authenticator.is_some())?;
        Ok(Arc::new(BigQueryDriver {
            config,
            authenticator: self.authenticator.clone(),
            api: OnceCell::new(),
        }))
    }
}

/// Reads one project's datasets. The API client is built on first use.
pub struct BigQueryDriver {
    config: BigQueryConfig,
    authenticator: Option<Arc<dyn Authenticator>>,
    api: OnceCell<Arc<Api>>,
}

impl fmt::Debug for BigQueryDriver {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("BigQueryDriver")
            .field("project", &self.config.project)
            .field("api_url", &self.config.api_url)
            .finish_non_exhaustive()
    }
}

impl BigQueryDriver {
    async fn api(&self) -> Result<Arc<Api>, DriverError> {
        self.api
            .get_or_try_init(|| async {
                Api::connect(self.config.clone(), self.authenticator.clone())
                    .await
                    .map(Arc::new)
            })
            .await
            .cloned()
    }
}

#[metacrawl_engine::async_trait]
impl Driver for BigQueryDriver {
    async fn list_databases(&self) -> Result<Vec<DatabaseListing>, DriverError> {
        Ok(vec![DatabaseListing {
            name: self.config.project.clone(),
            stable_id: None,
        }])
    }

    async fn open_database(
        &self,
        _database: &DatabaseListing,
    ) -> Result<Box<dyn DatabaseReader>, DriverError> {
        Ok(Box::new(DatasetReader {
            api: self.api().await?,
            locations: HashMap::new(),
        }))
    }
}

struct DatasetReader {
    api: Arc<Api>,
    /// Location of each dataset, as datasets.list reports it.
    locations: HashMap<String, String>,
}

#[metacrawl_engine::async_trait]
impl DatabaseReader for DatasetReader {
    async fn list_schemas(&mut self) -> Result<Vec<SchemaListing>, DriverError> {
        let project = &self.api.config().project;
        let datasets = self
            .api
            .list_datasets()
            .await
            .map_err(|error| error.into_driver_error(&format!("project {project}"), project))?;
        // Datasets left out by the patterns are listed too: their reads fail
        // with ExcludedByFilter, so their previous state is kept, not dropped.
        let mut listings = Vec::with_capacity(datasets.len());
        for (name, location) in datasets {
            if let Some(location) = location {
                self.locations.insert(name.clone(), location);
            }
            listings.push(SchemaListing {
                name,
                stable_id: None,
                comment: None,
            });
        }
        Ok(listings)
    }

    async fn read_schema(
        &mut self,
        schema: &SchemaListing,
        _known: &KnownVersions,
    ) -> Result<SchemaRead, DriverError> {
        let config = self.api.config();
        let dataset = &schema.name;
        if !config.dataset_in_scope(dataset) {
            return Err(crate::patterns::excluded("dataset", dataset));
        }
        let scope = format!("dataset {}.{dataset}", config.project);
        let into_error = |error: ApiError| error.into_driver_error(&scope, &config.project);
        let path = dataset_path(&config.project, dataset).map_err(|message| {
            DriverError::new(DriverErrorKind::Query, format!("{scope}: {message}"))
        })?;
        let sql = |template: &str| template.replace("{dataset}", &path);

        let (columns_sql, fields_sql, tables_sql, views_sql) = (
            sql(COLUMNS_SQL),
            sql(FIELD_DESCRIPTIONS_SQL),
            sql(TABLE_DESCRIPTIONS_SQL),
            sql(VIEWS_SQL),
        );
        // The metadata queries run where the dataset lives: a job in another
        // location cannot read it.
        let location = self.locations.get(dataset).map(String::as_str);
        let (listed, columns, field_descriptions, table_descriptions, views) = tokio::try_join!(
            self.api.list_tables(dataset),
            self.api.query("columns", &columns_sql, location),
            self.api.query("field_descriptions", &fields_sql, location),
            self.api.query("table_descriptions", &tables_sql, location),
            self.api.query("views", &views_sql, location),
        )
        .map_err(into_error)?;

        let read = assemble(
            listed,
            &columns,
            &field_descriptions,
            &table_descriptions,
            &views,
        );
        Ok(fold_shards(read))
    }
}

/// Quotes `project.dataset` for use inside backticks. Neither id may hold a
/// backtick or backslash, so nothing needs escaping; such an id is refused.
fn dataset_path(project: &str, dataset: &str) -> Result<String, String> {
    for id in [project, dataset] {
        if id.is_empty() || id.contains(['`', '\\', '\n']) {
            return Err(format!("'{id}' is not a valid BigQuery id"));
        }
    }
    Ok(format!("{project}.{dataset}"))
}

/// Builds the dataset's tables from the listing and the query results.
fn assemble(
    listed: Vec<TableListTables>,
    columns: &Rows,
    field_descriptions: &Rows,
    table_descriptions: &Rows,
    views: &Rows,
) -> SchemaRead {
    let text = |row: &[Option<String>], index: usize| row.get(index).cloned().flatten();

    let mut column_rows: HashMap<String, Vec<&Vec<Option<String>>>> = HashMap::new();
    for row in columns {
        if let Some(table) = text(row, 0) {
            column_rows.entry(table).or_default().push(row);
        }
    }
    let mut descriptions: HashMap<(String, String), String> = HashMap::new();
    for row in field_descriptions {
        if let (Some(table), Some(path), Some(description)) =
            (text(row, 0), text(row, 1), text(row, 2))
        {
            descriptions.insert((table, path), description);
        }
    }
    let table_comments: HashMap<String, String> = table_descriptions
        .iter()
        .filter_map(|row| Some((text(row, 0)?, unquote_literal(&text(row, 1)?))))
        .collect();
    let definitions: HashMap<String, String> = views
        .iter()
        .filter_map(|row| Some((text(row, 0)?, text(row, 1)?)))
        .collect();

    let mut read = SchemaRead::default();
    for entry in listed {
        let name = entry.table_reference.table_id.clone();
        let Some(rows) = column_rows.get(&name) else {
            // Listed, but created after the column query ran.
            read.unreadable_tables.push(UnreadableTable {
                name,
                error: DriverError::new(
                    DriverErrorKind::Vanished,
                    "the table appeared while the crawl ran; the next refresh reads it",
                ),
            });
            continue;
        };
        let mut table = Table::new(name.clone(), table_kind(entry.r#type.as_deref()));
        table.comment = table_comments.get(&name).cloned();
        table.definition = definitions.get(&name).cloned();
        table.properties = layout_properties(&entry);
        match table_columns(&name, rows, &descriptions) {
            Ok(columns) => table.columns = columns,
            Err(reason) => {
                read.unreadable_tables.push(UnreadableTable {
                    name,
                    error: DriverError::new(DriverErrorKind::Query, reason),
                });
                continue;
            }
        }
        read.tables.push(table);
    }
    read.tables
        .sort_by(|left, right| left.name.cmp(&right.name));
    read
}

fn table_kind(listed_type: Option<&str>) -> TableKind {
    match listed_type {
        Some("VIEW") => TableKind::View,
        Some("MATERIALIZED_VIEW") => TableKind::MaterializedView,
        Some("EXTERNAL") => TableKind::ExternalTable,
        Some("SNAPSHOT") => TableKind::Snapshot,
        // TABLE, CLONE, and kinds this driver does not know yet.
        _ => TableKind::Table,
    }
}

/// Partitioning and clustering as `tables.list` reports them.
fn layout_properties(entry: &TableListTables) -> BTreeMap<String, String> {
    let mut properties = BTreeMap::new();
    if let Some(time) = &entry.time_partitioning {
        let field = time.field.as_deref().unwrap_or("_PARTITIONTIME");
        properties.insert(
            "partitioning".to_string(),
            format!("{}({field})", time.r#type),
        );
    } else if let Some(range) = &entry.range_partitioning {
        let field = range.field.as_deref().unwrap_or_default();
        let bounds = range
            .range
            .as_ref()
            .map(|range| {
                format!(
                    ", GENERATE_ARRAY({}, {}, {})",
                    range.start, range.end, range.interval
                )
            })
            .unwrap_or_default();
        properties.insert(
            "partitioning".to_string(),
            format!("RANGE_BUCKET({field}{bounds})"),
        );
    }
    if let Some(fields) = entry
        .clustering
        .as_ref()
        .and_then(|clustering| clustering.fields.as_ref())
        && !fields.is_empty()
    {
        properties.insert("clustering".to_string(), fields.join(", "));
    }
    properties
}

/// Turns a table's COLUMNS rows into columns, each RECORD followed by its
/// nested fields, depth first.
fn table_columns(
    table: &str,
    rows: &[&Vec<Option<String>>],
    descriptions: &HashMap<(String, String), String>,
) -> Result<Vec<Column>, String> {
    let mut ordered: Vec<(u32, &Vec<Option<String>>)> = Vec::with_capacity(rows.len());
    for row in rows {
        let position = row
            .get(2)
            .cloned()
            .flatten()
            .and_then(|text| text.parse::<u32>().ok())
            .ok_or_else(|| format!("column row without ordinal_position: {row:?}"))?;
        ordered.push((position, row));
    }
    ordered.sort_by_key(|(position, _)| *position);

    let description = |path: &str| {
        descriptions
            .get(&(table.to_string(), path.to_string()))
            .cloned()
    };
    let mut columns = Vec::new();
    for (_, row) in ordered {
        let field = |index: usize| row.get(index).cloned().flatten();
        let name = field(1).ok_or("column row without column_name")?;
        let data_type = field(4).ok_or_else(|| format!("column '{name}' has no data_type"))?;
        let mut column = new_column(&name, columns.len(), &data_type);
        column.nullable = field(3).as_deref() != Some("NO");
        // BigQuery spells "no default" as the text NULL.
        column.default = field(5).filter(|default| default != "NULL");
        column.comment = description(&name);
        let nested = types::struct_fields(&data_type)
            .map_err(|error| format!("cannot read the type of column '{name}': {error}"))?;
        columns.push(column);
        push_nested(&mut columns, &name, &nested, &description);
    }
    Ok(columns)
}

fn push_nested(
    columns: &mut Vec<Column>,
    parent: &str,
    fields: &[types::StructField],
    description: &dyn Fn(&str) -> Option<String>,
) {
    for field in fields {
        let path = format!("{parent}.{}", field.name);
        let mut column = new_column(&path, columns.len(), &field.data_type);
        column.nullable = !field.required;
        column.comment = description(&path);
        column.field_path = Some(path.clone());
        columns.push(column);
        push_nested(columns, &path, &field.fields, description);
    }
}

fn new_column(name: &str, position: usize, data_type: &str) -> Column {
    let ordinal = u32::try_from(position + 1).unwrap_or(u32::MAX);
    let mut column = Column::new(name, ordinal, data_type);
    column.normalized_type = types::normalized_type(data_type);
    column
}

/// Reads a BigQuery string literal as TABLE_OPTIONS shows it (`"Raw orders"`).
/// Text that is not a quoted literal is returned unchanged.
fn unquote_literal(text: &str) -> String {
    let quoted = text.len() >= 2
        && ((text.starts_with('"') && text.ends_with('"'))
            || (text.starts_with('\'') && text.ends_with('\'')));
    if !quoted {
        return text.to_string();
    }
    let mut value = String::with_capacity(text.len());
    let mut characters = text[1..text.len() - 1].chars();
    while let Some(character) = characters.next() {
        if character != '\\' {
            value.push(character);
            continue;
        }
        match characters.next() {
            Some('n') => value.push('\n'),
            Some('t') => value.push('\t'),
            Some('r') => value.push('\r'),
            Some(other) => value.push(other),
            None => value.push('\\'),
        }
    }
    value
}

/// Splits `events_20240131` into `events_` and `20240131` when the name ends
/// in a valid YYYYMMDD date after a non-empty prefix.
fn shard_suffix(name: &str) -> Option<(&str, &str)> {
    let split = name.len().checked_sub(8)?;
    if split == 0 || !name.is_char_boundary(split) {
        return None;
    }
    let (prefix, suffix) = name.split_at(split);
    if !suffix.bytes().all(|byte| byte.is_ascii_digit())
        || prefix.ends_with(|character: char| character.is_ascii_digit())
    {
        return None;
    }
    let month: u32 = suffix[4..6].parse().ok()?;
    let day: u32 = suffix[6..8].parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((prefix, suffix))
}

/// Replaces the tables of each date-sharded family with one logical table
/// named `PREFIX*`, carrying the newest shard's content and the shard range.
fn fold_shards(mut read: SchemaRead) -> SchemaRead {
    let mut families: BTreeMap<String, Vec<Table>> = BTreeMap::new();
    let mut tables = Vec::with_capacity(read.tables.len());
    for table in read.tables {
        match shard_suffix(&table.name) {
            Some((prefix, _)) if table.kind == TableKind::Table => {
                families.entry(prefix.to_string()).or_default().push(table);
            }
            _ => tables.push(table),
        }
    }
    for (prefix, mut shards) in families {
        // Names share the prefix, so name order is date order.
        shards.sort_by(|left, right| left.name.cmp(&right.name));
        let suffix = |table: &Table| table.name[prefix.len()..].to_string();
        let first = suffix(&shards[0]);
        let count = u32::try_from(shards.len()).unwrap_or(u32::MAX);
        let Some(mut newest) = shards.pop() else {
            continue;
        };
        newest.shards = Some(ShardRange {
            first,
            last: suffix(&newest),
            count,
        });
        newest.name = format!("{prefix}*");
        tables.push(newest);
    }
    tables.sort_by(|left, right| left.name.cmp(&right.name));
    read.tables = tables;
    read
}

#[cfg(test)]
mod tests {
    use super::{dataset_path, shard_suffix, unquote_literal};

    #[test]
    fn shard_suffixes_are_dates() {
        assert_eq!(
            shard_suffix("events_20240131"),
            Some(("events_", "20240131"))
        );
        assert_eq!(
            shard_suffix("ga_sessions20231201"),
            Some(("ga_sessions", "20231201"))
        );
        assert_eq!(shard_suffix("events_20241301"), None);
        assert_eq!(shard_suffix("20240131"), None);
        assert_eq!(shard_suffix("batch_120240131"), None);
        assert_eq!(shard_suffix("orders"), None);
    }

    #[test]
    fn literals_are_unquoted() {
        assert_eq!(unquote_literal(r#""Raw orders""#), "Raw orders");
        assert_eq!(unquote_literal(r#""say \"hi\"\nbye""#), "say \"hi\"\nbye");
        assert_eq!(unquote_literal("plain"), "plain");
    }

    #[test]
    fn dataset_paths_refuse_backticks() {
        assert_eq!(dataset_path("shop", "raw").unwrap(), "shop.raw");
        assert!(dataset_path("shop", "r`aw").is_err());
    }
}
