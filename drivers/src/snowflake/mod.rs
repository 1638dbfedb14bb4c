//! Snowflake driver: `snowflake://USER@ACCOUNT/DATABASE?OPTIONS` (options in
//! [`config`]), on the snowflake-api crate.
//!
//! Names are kept exactly as Snowflake stores them (`STAGING` and `staging`
//! are two schemas) and every identifier in a statement is quoted by
//! [`quote_identifier`]. A database is read with bulk INFORMATION_SCHEMA
//! queries. When Snowflake rejects one with error 090030 (too much data), the
//! driver queries per schema. When a schema is still too large, it pages
//! `SHOW TABLES` / `SHOW VIEWS` with `LIMIT ... FROM` and reads columns for
//! a few hundred tables per query. There is never a query per table.
//!
//! `LAST_ALTERED` is each table's version token: after the first crawl only
//! tables whose `LAST_ALTERED` moved have their columns read again.

mod client;
pub mod config;

use client::{Client, QueryError, Rows, TOO_MUCH_DATA};
use config::SnowflakeConfig;
use metacrawl_engine::catalog::Column;
use metacrawl_engine::driver::{
    DatabaseReader, Driver, DriverError, DriverErrorKind, DriverFactory, KnownVersions, SchemaRead,
    UnreadableTable,
};
use metacrawl_engine::{DatabaseListing, SchemaListing, Table, TableKind};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

pub use reqwest_middleware::{self, Middleware};

const SCHEMAS_SQL: &str = include_str!("schemas.sql");
const TABLES_SQL: &str = include_str!("tables.sql");
const VIEWS_SQL: &str = include_str!("views.sql");
const COLUMNS_SQL: &str = include_str!("columns.sql");

/// Rows per page of `SHOW TABLES` and `SHOW VIEWS` (Snowflake's maximum).
const SHOW_PAGE: usize = 10_000;
/// Tables per column query when tables are named one by one.
const TABLES_PER_COLUMN_QUERY: usize = 500;

/// Quotes an identifier for a Snowflake statement: `"name"`, with embedded
/// double quotes doubled. The stored name is used as is, case included.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal: `'text'`, with backslashes and single quotes
/// escaped (Snowflake reads backslash escapes in literals).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// Creates Snowflake drivers for `snowflake://` URLs.
#[derive(Clone, Default)]
pub struct SnowflakeDriverFactory {
    middleware: Option<Arc<dyn Middleware>>,
}

impl SnowflakeDriverFactory {
    pub fn new() -> SnowflakeDriverFactory {
        SnowflakeDriverFactory::default()
    }

    /// Creates a factory whose drivers send every request through
    /// `middleware` (a proxy, a recorder, extra headers).
    pub fn with_middleware(middleware: Arc<dyn Middleware>) -> SnowflakeDriverFactory {
        SnowflakeDriverFactory {
            middleware: Some(middleware),
        }
    }
}

impl fmt::Debug for SnowflakeDriverFactory {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SnowflakeDriverFactory")
            .field("middleware", &self.middleware.is_some())
            .finish()
    }
}

impl DriverFactory for SnowflakeDriverFactory {
    fn name(&self) -> &'static str {
        "snowflake"
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["snowflake"]
    }

    fn create(&self, url: &str) -> Result<Arc<dyn Driver>, DriverError> {
        let config = config::parse(url)?;
        let client = Client::connect(&config, self.middleware.clone())?;
        Ok(Arc::new(SnowflakeDriver {
            config: Arc::new(config),
            client: Arc::new(client),
        }))
    }
}

/// Reads the databases of one Snowflake connection.
pub struct SnowflakeDriver {
    config: Arc<SnowflakeConfig>,
    client: Arc<Client>,
}

impl fmt::Debug for SnowflakeDriver {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SnowflakeDriver")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[metacrawl_engine::async_trait]
impl Driver for SnowflakeDriver {
    async fn list_databases(&self) -> Result<Vec<DatabaseListing>, DriverError> {
        let names = match &self.config.database {
            Some(database) => vec![database.clone()],
            None => {
                let rows = self
                    .client
                    .query("databases", "SHOW DATABASES")
                    .await
                    .map_err(QueryError::into_driver_error)?;
                rows.rows
                    .iter()
                    .filter_map(|row| rows.get(row, "NAME").map(str::to_string))
                    .collect()
            }
        };
        Ok(names
            .into_iter()
            .map(|name| DatabaseListing {
                name,
                stable_id: None,
            })
            .collect())
    }

    async fn open_database(
        &self,
        database: &DatabaseListing,
    ) -> Result<Box<dyn DatabaseReader>, DriverError> {
        if !self.config.database_in_scope(&database.name) {
            return Err(crate::patterns::excluded("database", &database.name));
        }
        Ok(Box::new(SnowflakeReader {
            client: Arc::clone(&self.client),
            config: Arc::clone(&self.config),
            database: database.name.clone(),
            bulk: Bulk::NotLoaded,
            bulk_columns: Bulk::NotLoaded,
            datetime_precision: true,
            full_read: None,
        }))
    }
}

/// Rows of a database-wide query, split by schema; or why there are none.
enum Bulk {
    NotLoaded,
    Loaded(HashMap<String, Vec<Vec<Option<String>>>>, Arc<Rows>),
    /// Snowflake returned 090030: read per schema instead.
    TooLarge,
}

struct SnowflakeReader {
    client: Arc<Client>,
    config: Arc<SnowflakeConfig>,
    database: String,
    /// Tables and views of the whole database, from one TABLES and one VIEWS query.
    bulk: Bulk,
    bulk_columns: Bulk,
    /// False once the server turned out not to have COLUMNS.DATETIME_PRECISION.
    datetime_precision: bool,
    /// Whether this refresh reads every table: decided by the first schema
    /// read, which has no stored versions on a first or full refresh. Only
    /// then are all the database's columns read in one query.
    full_read: Option<bool>,
}

/// A table or view as listed, before its columns are read.
#[derive(Debug, Clone, Default)]
struct Listed {
    name: String,
    table_type: String,
    transient: bool,
    comment: Option<String>,
    last_altered: Option<String>,
    definition: Option<String>,
}

impl SnowflakeReader {
    fn sql(&self, template: &str, filter: &str) -> String {
        template
            .replace("{database}", &quote_identifier(&self.database))
            .replace("{filter}", filter)
    }

    fn columns_template(&self) -> String {
        if self.datetime_precision {
            COLUMNS_SQL.to_string()
        } else {
            COLUMNS_SQL.replace(
                "    TO_VARCHAR(DATETIME_PRECISION) AS DATETIME_PRECISION,\n",
                "",
            )
        }
    }

    /// Runs a COLUMNS query; on a server without DATETIME_PRECISION, runs it
    /// again without that column (timestamps then carry no precision).
    async fn query_columns(&mut self, filter: &str) -> Result<Rows, QueryError> {
        let sql = self.sql(&self.columns_template(), filter);
        match self.client.query("columns", &sql).await {
            Err(error)
                if self.datetime_precision && error.message.contains("DATETIME_PRECISION") =>
            {
                tracing::warn!(
                    database = %self.database,
                    "INFORMATION_SCHEMA.COLUMNS has no DATETIME_PRECISION here; timestamp types are read without precision"
                );
                self.datetime_precision = false;
                let sql = self.sql(&self.columns_template(), filter);
                self.client.query("columns", &sql).await
            }
            other => other,
        }
    }

    /// Lists the tables and views of one schema: from the database-wide
    /// queries, per schema when those were too large, or by paging SHOW.
    async fn list_tables(&mut self, schema: &str) -> Result<Vec<Listed>, DriverError> {
        if matches!(self.bulk, Bulk::NotLoaded) {
            self.bulk = match self.list_query("").await {
                Ok(rows) => split_by_schema(rows),
                Err(error) if error.is(TOO_MUCH_DATA) => {
                    tracing::info!(database = %self.database, "database too large for one INFORMATION_SCHEMA query; reading per schema");
                    Bulk::TooLarge
                }
                Err(error) => return Err(error.into_driver_error()),
            };
        }
        if let Bulk::Loaded(by_schema, rows) = &self.bulk {
            let listed = by_schema
                .get(schema)
                .map(|schema_rows| listed_from_rows(rows, schema_rows))
                .unwrap_or_default();
            return Ok(merge_listed(listed));
        }

        let filter = format!(" AND TABLE_SCHEMA = {}", quote_literal(schema));
        match self.list_query(&filter).await {
            Ok(rows) => {
                let listed = listed_from_rows(&rows, &rows.rows);
                Ok(merge_listed(listed))
            }
            Err(error) if error.is(TOO_MUCH_DATA) => {
                tracing::info!(database = %self.database, schema, "schema too large for INFORMATION_SCHEMA; paging SHOW TABLES");
                self.show_tables(schema).await
            }
            Err(error) => Err(error.into_driver_error()),
        }
    }

    /// Runs the TABLES and VIEWS queries with one filter; returns their rows
    /// together (views carry VIEW_DEFINITION, tables TABLE_TYPE).
    async fn list_query(&self, filter: &str) -> Result<Rows, QueryError> {
        let mut tables = self
            .client
            .query("tables", &self.sql(TABLES_SQL, filter))
            .await?;
        let views = self
            .client
            .query("views", &self.sql(VIEWS_SQL, filter))
            .await?;
        // Views are listed by both queries in Snowflake; they are merged by name later.
        let mut merged = Rows::with_names(&[
            "TABLE_SCHEMA",
            "TABLE_NAME",
            "TABLE_TYPE",
            "IS_TRANSIENT",
            "COMMENT",
            "LAST_ALTERED",
            "VIEW_DEFINITION",
        ]);
        for row in std::mem::take(&mut tables.rows) {
            let get = |name: &str| tables.get(&row, name).map(str::to_string);
            merged.rows.push(vec![
                get("TABLE_SCHEMA"),
                get("TABLE_NAME"),
                get("TABLE_TYPE"),
                get("IS_TRANSIENT"),
                get("COMMENT"),
                get("LAST_ALTERED"),
                None,
            ]);
        }
        for row in &views.rows {
            let get = |name: &str| views.get(row, name).map(str::to_string);
            merged.rows.push(vec![
                get("TABLE_SCHEMA"),
                get("TABLE_NAME"),
                Some("VIEW".to_string()),
                None,
                get("COMMENT"),
                get("LAST_ALTERED"),
                Some(get("VIEW_DEFINITION").unwrap_or_default()),
            ]);
        }
        Ok(merged)
    }

    /// Pages `SHOW TABLES` and `SHOW VIEWS` in a schema, 10,000 rows at a time.
    async fn show_tables(&self, schema: &str) -> Result<Vec<Listed>, DriverError> {
        let scope = format!(
            "{}.{}",
            quote_identifier(&self.database),
            quote_identifier(schema)
        );
        let mut listed = Vec::new();
        for (command, is_view) in [("TABLES", false), ("VIEWS", true)] {
            let mut last: Option<String> = None;
            loop {
                let mut sql = format!("SHOW {command} IN SCHEMA {scope} LIMIT {SHOW_PAGE}");
                if let Some(last) = &last {
                    sql.push_str(&format!(" FROM {}", quote_literal(last)));
                }
                let rows = self
                    .client
                    .query("show", &sql)
                    .await
                    .map_err(QueryError::into_driver_error)?;
                let page = rows.rows.len();
                for row in &rows.rows {
                    let Some(name) = rows.get(row, "NAME") else {
                        continue;
                    };
                    if last.as_deref() == Some(name) {
                        continue;
                    }
                    let kind = rows.get(row, "KIND").unwrap_or("TABLE");
                    let materialized = rows.get(row, "IS_MATERIALIZED") == Some("true");
                    listed.push(Listed {
                        name: name.to_string(),
                        table_type: match (is_view, materialized) {
                            (true, true) => "MATERIALIZED VIEW".to_string(),
                            (true, false) => "VIEW".to_string(),
                            (false, _) if kind == "TRANSIENT" => "BASE TABLE".to_string(),
                            (false, _) => show_kind(kind),
                        },
                        transient: kind == "TRANSIENT",
                        comment: rows
                            .get(row, "COMMENT")
                            .filter(|comment| !comment.is_empty())
                            .map(str::to_string),
                        last_altered: None,
                        definition: is_view
                            .then(|| rows.get(row, "TEXT").unwrap_or_default().to_string()),
                    });
                }
                let Some(row) = rows.rows.last() else { break };
                if page < SHOW_PAGE {
                    break;
                }
                last = rows.get(row, "NAME").map(str::to_string);
            }
        }
        Ok(merge_listed(listed))
    }

    /// Reads the columns of `requested` tables of a schema (all of them when
    /// `all` is true), as few queries as the database allows.
    async fn read_columns(
        &mut self,
        schema: &str,
        requested: &[&str],
        all: bool,
        first_read: bool,
    ) -> Result<HashMap<String, Vec<Column>>, DriverError> {
        if requested.is_empty() {
            return Ok(HashMap::new());
        }
        // A first read of the database takes every column in one query.
        if all && first_read && !matches!(self.bulk_columns, Bulk::TooLarge) {
            if matches!(self.bulk_columns, Bulk::NotLoaded) {
                self.bulk_columns = match self.query_columns("").await {
                    Ok(rows) => split_by_schema(rows),
                    Err(error) if error.is(TOO_MUCH_DATA) => Bulk::TooLarge,
                    Err(error) => return Err(error.into_driver_error()),
                };
            }
            if let Bulk::Loaded(by_schema, rows) = &self.bulk_columns {
                let empty = Vec::new();
                return Ok(columns_by_table(
                    rows,
                    by_schema.get(schema).unwrap_or(&empty),
                ));
            }
        }

        let schema_filter = format!(" AND TABLE_SCHEMA = {}", quote_literal(schema));
        if all {
            match self.query_columns(&schema_filter).await {
                Ok(rows) => return Ok(columns_by_table(&rows, &rows.rows)),
                Err(error) if error.is(TOO_MUCH_DATA) => {}
                Err(error) => return Err(error.into_driver_error()),
            }
        }
        let mut columns = HashMap::new();
        for chunk in requested.chunks(TABLES_PER_COLUMN_QUERY) {
            let names: Vec<String> = chunk.iter().map(|name| quote_literal(name)).collect();
            let filter = format!("{schema_filter} AND TABLE_NAME IN ({})", names.join(", "));
            let rows = self
                .query_columns(&filter)
                .await
                .map_err(QueryError::into_driver_error)?;
            columns.extend(columns_by_table(&rows, &rows.rows));
        }
        Ok(columns)
    }
}

impl Rows {
    fn with_names(names: &[&str]) -> Rows {
        let mut rows = Rows::default();
        rows.set_names(names.iter().map(|name| name.to_string()).collect());
        rows
    }
}

fn show_kind(kind: &str) -> String {
    match kind {
        "EXTERNAL" => "EXTERNAL TABLE".to_string(),
        "TABLE" | "" => "BASE TABLE".to_string(),
        other => other.to_string(),
    }
}

/// Splits a database-wide result by TABLE_SCHEMA.
fn split_by_schema(rows: Rows) -> Bulk {
    let mut by_schema: HashMap<String, Vec<Vec<Option<String>>>> = HashMap::new();
    let mut rows = rows;
    let all_rows = std::mem::take(&mut rows.rows);
    for row in all_rows {
        let schema = rows
            .get(&row, "TABLE_SCHEMA")
            .unwrap_or_default()
            .to_string();
        by_schema.entry(schema).or_default().push(row);
    }
    Bulk::Loaded(by_schema, Arc::new(rows))
}

fn listed_from_rows(names: &Rows, rows: &[Vec<Option<String>>]) -> Vec<Listed> {
    rows.iter()
        .filter_map(|row| {
            let get = |name: &str| names.get(row, name).map(str::to_string);
            Some(Listed {
                name: get("TABLE_NAME")?,
                table_type: get("TABLE_TYPE").unwrap_or_else(|| "BASE TABLE".to_string()),
                transient: get("IS_TRANSIENT").as_deref() == Some("YES"),
                comment: get("COMMENT"),
                last_altered: get("LAST_ALTERED"),
                definition: get("VIEW_DEFINITION"),
            })
        })
        .collect()
}

/// Merges the TABLES and VIEWS entries of one name: Snowflake lists a view
/// in both, the VIEWS entry carrying its definition.
fn merge_listed(listed: Vec<Listed>) -> Vec<Listed> {
    let mut by_name: BTreeMap<String, Listed> = BTreeMap::new();
    for entry in listed {
        match by_name.get_mut(&entry.name) {
            Some(existing) => {
                if entry.definition.is_some() {
                    existing.definition = entry.definition;
                    if existing.table_type == "BASE TABLE" {
                        existing.table_type = entry.table_type;
                    }
                }
                if existing.comment.is_none() {
                    existing.comment = entry.comment;
                }
                if existing.last_altered.is_none() {
                    existing.last_altered = entry.last_altered;
                }
            }
            None => {
                by_name.insert(entry.name.clone(), entry);
            }
        }
    }
    by_name.into_values().collect()
}

/// Groups COLUMNS rows by table, each table's columns in ordinal order.
fn columns_by_table(names: &Rows, rows: &[Vec<Option<String>>]) -> HashMap<String, Vec<Column>> {
    let mut by_table: HashMap<String, Vec<(u32, Column)>> = HashMap::new();
    for row in rows {
        let get = |name: &str| names.get(row, name);
        let (Some(table), Some(name)) = (get("TABLE_NAME"), get("COLUMN_NAME")) else {
            continue;
        };
        let ordinal: u32 = get("ORDINAL_POSITION")
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        let data_type = spell_type(
            get("DATA_TYPE").unwrap_or_default(),
            get("CHARACTER_MAXIMUM_LENGTH"),
            get("NUMERIC_PRECISION"),
            get("NUMERIC_SCALE"),
            get("DATETIME_PRECISION"),
        );
        let mut column = Column::new(name, ordinal, data_type);
        column.nullable = get("IS_NULLABLE") != Some("NO");
        column.default = get("COLUMN_DEFAULT").map(str::to_string);
        column.comment = get("COMMENT").map(str::to_string);
        if get("IS_IDENTITY") == Some("YES") {
            column.identity = Some("AUTOINCREMENT".to_string());
        }
        by_table
            .entry(table.to_string())
            .or_default()
            .push((ordinal, column));
    }
    by_table
        .into_iter()
        .map(|(table, mut columns)| {
            columns.sort_by_key(|(ordinal, _)| *ordinal);
            (
                table,
                columns.into_iter().map(|(_, column)| column).collect(),
            )
        })
        .collect()
}

/// Spells a column type as Snowflake's DDL does: `NUMBER(38,0)`,
/// `VARCHAR(16777216)` for TEXT, `TIMESTAMP_NTZ(9)`; other types as listed.
fn spell_type(
    data_type: &str,
    length: Option<&str>,
    precision: Option<&str>,
    scale: Option<&str>,
    datetime_precision: Option<&str>,
) -> String {
    match (data_type, length, precision, scale, datetime_precision) {
        ("NUMBER", _, Some(precision), Some(scale), _) => format!("NUMBER({precision},{scale})"),
        ("TEXT", Some(length), ..) => format!("VARCHAR({length})"),
        ("BINARY", Some(length), ..) => format!("BINARY({length})"),
        ("TIMESTAMP_NTZ" | "TIMESTAMP_LTZ" | "TIMESTAMP_TZ" | "TIME", _, _, _, Some(precision)) => {
            format!("{data_type}({precision})")
        }
        _ => data_type.to_string(),
    }
}

fn table_kind(table_type: &str) -> TableKind {
    match table_type {
        "VIEW" => TableKind::View,
        "MATERIALIZED VIEW" => TableKind::MaterializedView,
        "EXTERNAL TABLE" => TableKind::ExternalTable,
        // BASE TABLE, DYNAMIC TABLE, EVENT TABLE, ...
        _ => TableKind::Table,
    }
}

#[metacrawl_engine::async_trait]
impl DatabaseReader for SnowflakeReader {
    async fn list_schemas(&mut self) -> Result<Vec<SchemaListing>, DriverError> {
        // NOTE: SCHEMATA lists only the schemas the role may use, so a schema
        // whose grants were revoked looks dropped (the mass-drop fail-safe
        // still applies). A database the role lost fails as unreadable instead.
        let rows = self
            .client
            .query("schemas", &self.sql(SCHEMAS_SQL, ""))
            .await
            .map_err(QueryError::into_driver_error)?;
        Ok(rows
            .rows
            .iter()
            .filter_map(|row| {
                Some(SchemaListing {
                    name: rows.get(row, "SCHEMA_NAME")?.to_string(),
                    stable_id: None,
                    comment: rows.get(row, "COMMENT").map(str::to_string),
                })
            })
            .collect())
    }

    async fn read_schema(
        &mut self,
        schema: &SchemaListing,
        known: &KnownVersions,
    ) -> Result<SchemaRead, DriverError> {
        if !self.config.schema_in_scope(&schema.name) {
            return Err(crate::patterns::excluded("schema", &schema.name));
        }
        let listed = self.list_tables(&schema.name).await?;

        // A table whose LAST_ALTERED equals the stored token is not read again.
        let mut unchanged = Vec::new();
        let mut requested = Vec::new();
        for entry in &listed {
            match (&entry.last_altered, known.get(&entry.name)) {
                (Some(token), Some(stored)) if token == stored => {
                    unchanged.push(entry.name.clone())
                }
                _ => requested.push(entry.name.as_str()),
            }
        }
        let all = unchanged.is_empty();
        let first_read = *self.full_read.get_or_insert(known.is_empty());
        let mut columns = self
            .read_columns(&schema.name, &requested, all, first_read)
            .await?;

        let unchanged_names: HashSet<&str> = unchanged.iter().map(String::as_str).collect();
        let mut read = SchemaRead {
            unchanged_tables: unchanged.clone(),
            ..SchemaRead::default()
        };
        for entry in listed {
            if unchanged_names.contains(entry.name.as_str()) {
                continue;
            }
            let Some(table_columns) = columns.remove(&entry.name) else {
                read.unreadable_tables.push(UnreadableTable {
                    name: entry.name,
                    error: DriverError::new(
                        DriverErrorKind::Vanished,
                        "the table changed while the crawl ran; the next refresh reads it",
                    ),
                });
                continue;
            };
            let mut table = Table::new(entry.name, table_kind(&entry.table_type));
            table.comment = entry.comment;
            table.definition = entry.definition.filter(|_| table.kind != TableKind::Table);
            table.version = entry.last_altered.clone();
            table.last_altered = entry.last_altered;
            if entry.transient {
                table
                    .properties
                    .insert("table_type".to_string(), "TRANSIENT".to_string());
            } else if !matches!(
                entry.table_type.as_str(),
                "BASE TABLE" | "VIEW" | "MATERIALIZED VIEW" | "EXTERNAL TABLE"
            ) {
                table
                    .properties
                    .insert("table_type".to_string(), entry.table_type.clone());
            }
            table.columns = table_columns;
            read.tables.push(table);
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::{quote_identifier, quote_literal, spell_type};

    #[test]
    fn identifiers_are_quoted_exactly() {
        assert_eq!(quote_identifier("staging"), "\"staging\"");
        assert_eq!(quote_identifier("STAGING"), "\"STAGING\"");
        assert_eq!(
            quote_identifier("my \"odd\" name"),
            "\"my \"\"odd\"\" name\""
        );
        assert_eq!(quote_identifier("order items"), "\"order items\"");
        assert_eq!(quote_identifier("Straße_日本"), "\"Straße_日本\"");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(quote_literal("airbyte_internal"), "'airbyte_internal'");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "'a\\\\b'");
        assert_eq!(quote_literal("Straße"), "'Straße'");
    }

    #[test]
    fn types_are_spelled_as_ddl() {
        assert_eq!(
            spell_type("NUMBER", None, Some("38"), Some("0"), None),
            "NUMBER(38,0)"
        );
        assert_eq!(
            spell_type("TEXT", Some("16777216"), None, None, None),
            "VARCHAR(16777216)"
        );
        assert_eq!(
            spell_type("TIMESTAMP_NTZ", None, None, None, Some("9")),
            "TIMESTAMP_NTZ(9)"
        );
        assert_eq!(spell_type("VARIANT", None, None, None, None), "VARIANT");
        assert_eq!(spell_type("FLOAT", None, None, None, None), "FLOAT");
    }
}
