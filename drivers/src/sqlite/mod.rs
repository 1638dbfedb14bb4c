//! SQLite driver: `sqlite://PATH` (a relative path is relative to the working
//! directory; `sqlite:///abs/path.db` for an absolute one).
//!
//! The file is opened read-only and never created. It contains one database,
//! `main`, with one schema, `main`. Tables, views, WITHOUT ROWID, STRICT and
//! virtual tables are read with two bulk queries (`pragma_table_list`, and
//! `pragma_table_xinfo` joined to `sqlite_schema`), inside one read transaction
//! so both see the same catalog. Generated columns come from `table_xinfo`, and
//! their expressions from the stored `CREATE TABLE` text; the hidden columns of
//! virtual tables are left out, as `SELECT *` leaves them out.
//!
//! SQLite has no stable object ids, so a renamed table or column is reported as
//! dropped and added, never guessed to be a rename.

mod ddl;

use async_trait::async_trait;
use metacrawl_engine::catalog::{Column, DatabaseListing, SchemaListing, Table, TableKind};
use metacrawl_engine::driver::{
    DatabaseReader, Driver, DriverError, DriverErrorKind, DriverFactory, SchemaRead,
    UnreadableTable,
};
use rusqlite::{Connection, OpenFlags};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const TABLES_QUERY: &str = include_str!("tables.sql");
const COLUMNS_QUERY: &str = include_str!("columns.sql");
const TABLE_COLUMNS_QUERY: &str = include_str!("table_columns.sql");

/// The only database and schema of a SQLite file.
const MAIN: &str = "main";

/// Catalog queries slower than this are logged at WARN.
const SLOW_QUERY_SECS: f64 = 5.0;

/// Creates [`SqliteDriver`]s for `sqlite://` URLs.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDriverFactory;

impl DriverFactory for SqliteDriverFactory {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["sqlite"]
    }

    fn create(&self, url: &str) -> Result<Arc<dyn Driver>, DriverError> {
        let path = parse_url(url)?;
        open_read_only(&path)?;
        Ok(Arc::new(SqliteDriver { path }))
    }

    /// Makes the path absolute, so the connection works from any directory.
    fn canonical_url(&self, url: &str) -> Result<String, DriverError> {
        let path = parse_url(url)?;
        let absolute = std::fs::canonicalize(&path).map_err(|_| not_found(&path))?;
        let query = url.split_once('?').map(|(_, query)| format!("?{query}"));
        Ok(format!(
            "sqlite://{}{}",
            absolute.display(),
            query.unwrap_or_default()
        ))
    }
}

/// Reads the catalog of one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteDriver {
    path: PathBuf,
}

impl SqliteDriver {
    /// Creates a driver for the SQLite file at `path`; the file is checked on first use.
    pub fn new(path: impl Into<PathBuf>) -> SqliteDriver {
        SqliteDriver { path: path.into() }
    }
}

fn parse_url(url: &str) -> Result<PathBuf, DriverError> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("SQLITE://"))
    else {
        return Err(DriverError::new(
            DriverErrorKind::InvalidConfig,
            "expected sqlite://PATH, for example sqlite://./warehouse.db",
        ));
    };
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    if path.is_empty() {
        return Err(DriverError::new(
            DriverErrorKind::InvalidConfig,
            "the path is empty; expected sqlite://PATH, for example sqlite://./warehouse.db",
        ));
    }
    Ok(PathBuf::from(path))
}

fn not_found(path: &Path) -> DriverError {
    DriverError::new(
        DriverErrorKind::InvalidConfig,
        format!(
            "SQLite file '{}' not found; check the path in the connection URL",
            path.display()
        ),
    )
}

/// Opens the file read-only and checks that it is a SQLite database.
fn open_read_only(path: &Path) -> Result<Connection, DriverError> {
    if !path.is_file() {
        return Err(not_found(path));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags).map_err(|error| {
        DriverError::new(
            DriverErrorKind::Connection,
            format!("cannot open SQLite file '{}': {error}", path.display()),
        )
    })?;

    // Opening is lazy: the first read of the schema is what rejects a file
    // that is not a database.
    let check: rusqlite::Result<i64> =
        connection.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0));
    if let Err(error) = check {
        let not_a_database = matches!(
            &error,
            rusqlite::Error::SqliteFailure(failure, _) if failure.code == rusqlite::ErrorCode::NotADatabase
        );
        let message = if not_a_database {
            format!(
                "'{}' is not a SQLite database file; point the connection URL at a SQLite file",
                path.display()
            )
        } else {
            format!("cannot read SQLite file '{}': {error}", path.display())
        };
        return Err(DriverError::new(DriverErrorKind::InvalidConfig, message));
    }
    Ok(connection)
}

#[async_trait]
impl Driver for SqliteDriver {
    async fn list_databases(&self) -> Result<Vec<DatabaseListing>, DriverError> {
        let path = self.path.clone();
        run_blocking(move || open_read_only(&path).map(drop)).await?;
        Ok(vec![DatabaseListing {
            name: MAIN.to_string(),
            stable_id: None,
        }])
    }

    async fn open_database(
        &self,
        database: &DatabaseListing,
    ) -> Result<Box<dyn DatabaseReader>, DriverError> {
        if database.name != MAIN {
            return Err(DriverError::new(
                DriverErrorKind::Vanished,
                format!(
                    "a SQLite file has only the database 'main', not '{}'",
                    database.name
                ),
            ));
        }
        let path = self.path.clone();
        let connection = run_blocking(move || {
            let connection = open_read_only(&path)?;
            // One read transaction for the whole file: both catalog queries see
            // the same schema even if another process changes it meanwhile.
            connection
                .execute_batch("BEGIN")
                .map_err(|error| query_error(&path, "BEGIN", &error))?;
            Ok(connection)
        })
        .await?;
        Ok(Box::new(SqliteReader {
            path: self.path.clone(),
            connection: Arc::new(Mutex::new(connection)),
        }))
    }
}

struct SqliteReader {
    path: PathBuf,
    connection: Arc<Mutex<Connection>>,
}

#[async_trait]
impl DatabaseReader for SqliteReader {
    async fn list_schemas(&mut self) -> Result<Vec<SchemaListing>, DriverError> {
        Ok(vec![SchemaListing {
            name: MAIN.to_string(),
            stable_id: None,
            comment: None,
        }])
    }

    async fn read_schema(
        &mut self,
        schema: &SchemaListing,
        _known: &metacrawl_engine::KnownVersions,
    ) -> Result<SchemaRead, DriverError> {
        if schema.name != MAIN {
            return Err(DriverError::new(
                DriverErrorKind::Vanished,
                format!(
                    "a SQLite file has only the schema 'main', not '{}'",
                    schema.name
                ),
            ));
        }
        let path = self.path.clone();
        let connection = Arc::clone(&self.connection);
        run_blocking(move || {
            let connection = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            read_main_schema(&connection, &path)
        })
        .await
    }
}

/// One row of `tables.sql`.
struct TableRow {
    name: String,
    kind: String,
    without_rowid: bool,
    sql: Option<String>,
}

/// One row of `columns.sql`.
struct ColumnRow {
    table: String,
    name: String,
    declared_type: String,
    not_null: bool,
    default: Option<String>,
    primary_key_position: i64,
    hidden: i64,
}

fn read_main_schema(connection: &Connection, path: &Path) -> Result<SchemaRead, DriverError> {
    let table_rows = timed_query(connection, path, "tables", TABLES_QUERY, [], |row| {
        Ok(TableRow {
            name: row.get(0)?,
            kind: row.get(1)?,
            without_rowid: row.get(2)?,
            sql: row.get(4)?,
        })
    })?;
    let bulk = timed_query(connection, path, "columns", COLUMNS_QUERY, [], column_row);
    let column_rows = match bulk {
        Ok(column_rows) => column_rows,
        // One broken object (a view over a dropped table) fails the bulk
        // query; reading table by table isolates it.
        Err(error) => {
            tracing::warn!(
                path = %path.display(),
                error = %error.message,
                "bulk column query failed; reading columns table by table"
            );
            return Ok(read_table_by_table(connection, path, table_rows));
        }
    };

    let mut columns_by_table: HashMap<String, Vec<ColumnRow>> = HashMap::new();
    for column in column_rows {
        columns_by_table
            .entry(column.table.clone())
            .or_default()
            .push(column);
    }

    let mut tables = Vec::with_capacity(table_rows.len());
    for row in table_rows {
        let columns = columns_by_table.remove(&row.name).unwrap_or_default();
        tables.push(build_table(row, columns));
    }
    Ok(tables.into())
}

fn read_table_by_table(
    connection: &Connection,
    path: &Path,
    table_rows: Vec<TableRow>,
) -> SchemaRead {
    let mut read = SchemaRead::default();
    for row in table_rows {
        let columns = timed_query(
            connection,
            path,
            "table columns",
            TABLE_COLUMNS_QUERY,
            [&row.name],
            column_row,
        );
        match columns {
            Ok(columns) => read.tables.push(build_table(row, columns)),
            Err(error) => read.unreadable_tables.push(UnreadableTable {
                error: DriverError::new(
                    DriverErrorKind::Vanished,
                    format!(
                        "cannot read the columns of '{}': {}",
                        row.name, error.message
                    ),
                ),
                name: row.name,
            }),
        }
    }
    read
}

fn column_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ColumnRow> {
    Ok(ColumnRow {
        table: row.get(0)?,
        name: row.get(2)?,
        declared_type: row.get(3)?,
        not_null: row.get(4)?,
        default: row.get(5)?,
        primary_key_position: row.get(6)?,
        hidden: row.get(7)?,
    })
}

fn build_table(row: TableRow, column_rows: Vec<ColumnRow>) -> Table {
    let kind = match row.kind.as_str() {
        "view" => TableKind::View,
        // Virtual tables (FTS5, R*Tree, ...) are queried like tables.
        _ => TableKind::Table,
    };
    let mut table = Table::new(row.name, kind);
    let generated = match (&kind, &row.sql) {
        (TableKind::Table, Some(sql)) => ddl::generated_expressions(sql),
        _ => HashMap::new(),
    };
    if kind == TableKind::View {
        table.definition = row.sql;
    }

    // SQLite enforces NOT NULL on a rowid alias (a lone INTEGER PRIMARY KEY,
    // spelled exactly INTEGER) and on every key column of a WITHOUT ROWID
    // table, whether or not NOT NULL is declared.
    let key_columns: Vec<&ColumnRow> = column_rows
        .iter()
        .filter(|column| column.primary_key_position > 0)
        .collect();
    let rowid_alias = match key_columns.as_slice() {
        [only] if kind == TableKind::Table && !row.without_rowid => only
            .declared_type
            .eq_ignore_ascii_case("INTEGER")
            .then(|| only.name.clone()),
        _ => None,
    };

    let mut ordinal = 0;
    for column_row in column_rows {
        // hidden = 1: a hidden column of a virtual table, left out of SELECT *.
        if column_row.hidden == 1 {
            continue;
        }
        ordinal += 1;
        let mut column = Column::new(column_row.name, ordinal, column_row.declared_type);
        column.default = column_row.default;
        column.primary_key = column_row.primary_key_position > 0;
        let enforced_not_null = (row.without_rowid && column.primary_key)
            || rowid_alias.as_deref() == Some(column.name.as_str());
        column.nullable = !(column_row.not_null || enforced_not_null);
        if column_row.hidden == 2 || column_row.hidden == 3 {
            // TODO: a generated column whose expression the CREATE TABLE parser
            // misses is stored with an empty expression.
            column.generated = Some(generated.get(&column.name).cloned().unwrap_or_default());
        }
        table.columns.push(column);
    }
    table
}

fn timed_query<T>(
    connection: &Connection,
    path: &Path,
    name: &'static str,
    sql: &str,
    parameters: impl rusqlite::Params,
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, DriverError> {
    let started = Instant::now();
    let rows = connection
        .prepare_cached(sql)
        .and_then(|mut statement| {
            statement
                .query_map(parameters, map)?
                .collect::<rusqlite::Result<Vec<T>>>()
        })
        .map_err(|error| query_error(path, name, &error))?;

    let elapsed_secs = started.elapsed().as_secs_f64();
    if elapsed_secs > SLOW_QUERY_SECS {
        tracing::warn!(
            query = name,
            rows = rows.len(),
            elapsed_secs,
            "slow SQLite catalog query"
        );
    } else {
        tracing::debug!(
            query = name,
            rows = rows.len(),
            elapsed_secs,
            "SQLite catalog query"
        );
    }
    Ok(rows)
}

fn query_error(path: &Path, query: &str, error: &rusqlite::Error) -> DriverError {
    let busy = matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(failure.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    let kind = if busy {
        DriverErrorKind::TimedOut
    } else {
        DriverErrorKind::Query
    };
    DriverError::new(
        kind,
        format!(
            "SQLite catalog query '{query}' on '{}' failed: {error}",
            path.display()
        ),
    )
}

async fn run_blocking<T, F>(work: F) -> Result<T, DriverError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, DriverError> + Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        DriverError::new(
            DriverErrorKind::Query,
            format!("SQLite read task failed: {error}"),
        )
    })?
}
