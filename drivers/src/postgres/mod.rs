//! Postgres driver on tokio-postgres: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`
//! (also `postgresql://`), with the options listed in the `config` module.
//!
//! It reads `pg_catalog` only, never `information_schema` (which hides objects
//! the role cannot select from and is slow on large catalogs), with one query
//! per object kind per schema, kept in `.sql` files. Each database is read in
//! one REPEATABLE READ, READ ONLY transaction with a savepoint per schema, so a
//! schema that fails does not end the reading of the others.
//!
//! Catalog functions (`format_type`, `pg_get_expr`, `pg_get_viewdef`) read the
//! system caches, not the transaction snapshot: an object dropped while its
//! schema is read can make them fail ("cache lookup failed", "could not open
//! relation"). Such a schema is read again, and reported unreadable (its
//! previous state kept) if it still fails.
//!
//! Stable ids: the oid of a database, schema or relation, and `oid.attnum` of a
//! column, so renames are reported exactly.

mod config;
mod errors;
mod tls;

use async_trait::async_trait;
use config::{DatabaseScope, PostgresConfig};
use errors::{classify, is_vanished_object};
use metacrawl_engine::catalog::{
    Column, DatabaseListing, PartitionOf, SchemaListing, Table, TableKind,
};
use metacrawl_engine::driver::{
    DatabaseReader, Driver, DriverError, DriverErrorKind, DriverFactory, KnownVersions, SchemaRead,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::{Client, NoTls, Row};

const DATABASES_QUERY: &str = include_str!("databases.sql");
const CURRENT_DATABASE_QUERY: &str = include_str!("current_database.sql");
const SCHEMAS_QUERY: &str = include_str!("schemas.sql");
const TABLES_QUERY: &str = include_str!("tables.sql");
const COLUMNS_QUERY: &str = include_str!("columns.sql");
const VERSIONS_QUERY: &str = include_str!("versions.sql");

/// Settings of each database session, then its read transaction. An empty
/// search_path makes format_type and pg_get_expr qualify every name outside
/// pg_catalog. pg_get_expr and pg_get_viewdef print date, time and interval
/// constants (partition bounds, defaults, view filters) in the session's
/// TimeZone, DateStyle and IntervalStyle, so these are pinned too: otherwise
/// a database or role default would change the text of unchanged objects.
const SESSION_SETUP: &str = "SET search_path = ''; SET TimeZone = 'UTC'; \
     SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; \
     BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// Catalog queries slower than this are logged at WARN.
const SLOW_QUERY: Duration = Duration::from_secs(10);

/// How many times a schema is read when objects vanish during the read.
const SCHEMA_READ_ATTEMPTS: usize = 3;

/// Creates [`PostgresDriver`]s for `postgres://` and `postgresql://` URLs.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresDriverFactory;

impl DriverFactory for PostgresDriverFactory {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["postgres", "postgresql"]
    }

    fn create(&self, url: &str) -> Result<Arc<dyn Driver>, DriverError> {
        Ok(Arc::new(PostgresDriver {
            config: config::parse(url)?,
        }))
    }
}

/// Reads the catalog of a Postgres server.
/// Drives a connection's socket until the client is dropped.
fn spawn_connection<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(error = %error, "Postgres connection ended with an error");
        }
    });
}

/// Returns the first host and port of a connection configuration, as `host:port`.
fn server_address(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

#[derive(Debug, Clone)]
pub struct PostgresDriver {
    config: PostgresConfig,
}

impl PostgresDriver {
    async fn connect(&self, database: Option<&str>) -> Result<Client, DriverError> {
        let mut connect = self.config.connect.clone();
        if let Some(database) = database {
            connect.dbname(database);
        }
        let connected = match self.config.tls.connector()? {
            None => connect.connect(NoTls).await.map(|(client, connection)| {
                spawn_connection(connection);
                client
            }),
            Some(tls) => connect.connect(tls).await.map(|(client, connection)| {
                spawn_connection(connection);
                client
            }),
        };
        let client = connected.map_err(|error| {
            let mut classified = classify(&error);
            let database = connect.get_dbname().unwrap_or_default();
            classified.message = if classified.kind == DriverErrorKind::Connection {
                let mut cause = String::new();
                let mut source = std::error::Error::source(&error);
                while let Some(inner) = source {
                    cause.push_str(": ");
                    cause.push_str(&inner.to_string());
                    source = inner.source();
                }
                let fix = if cause.contains("certificate") || classified.message.contains("TLS") {
                    "check sslmode and sslrootcert and the certificate the server presents"
                } else {
                    "check the host and port and that the server accepts connections"
                };
                format!(
                    "cannot connect to Postgres database '{database}' at {}: {}{cause}; {fix}",
                    server_address(&connect),
                    classified.message
                )
            } else {
                format!(
                    "cannot connect to Postgres database '{database}': {}",
                    classified.message
                )
            };
            classified
        })?;
        Ok(client)
    }
}

#[async_trait]
impl Driver for PostgresDriver {
    async fn list_databases(&self) -> Result<Vec<DatabaseListing>, DriverError> {
        let client = self.connect(None).await?;
        let query = match self.config.databases {
            DatabaseScope::Current => CURRENT_DATABASE_QUERY,
            DatabaseScope::All => DATABASES_QUERY,
        };
        let rows = timed_query(&client, "databases", query, &[]).await?;
        Ok(rows
            .iter()
            .map(|row| DatabaseListing {
                name: row.get("name"),
                stable_id: Some(row.get::<_, i64>("oid").to_string()),
            })
            .collect())
    }

    async fn open_database(
        &self,
        database: &DatabaseListing,
    ) -> Result<Box<dyn DatabaseReader>, DriverError> {
        let client = self.connect(Some(&database.name)).await?;
        client
            .batch_execute(SESSION_SETUP)
            .await
            .map_err(|error| classify(&error))?;
        let role: String = client
            .query_one("SELECT current_user::text", &[])
            .await
            .map_err(|error| classify(&error))?
            .get(0);
        Ok(Box::new(PostgresReader {
            client,
            database: database.name.clone(),
            role,
            config: self.config.clone(),
            schema_oids: HashMap::new(),
        }))
    }
}

struct PostgresReader {
    client: Client,
    database: String,
    role: String,
    config: PostgresConfig,
    /// Oid and USAGE privilege of each listed schema.
    schema_oids: HashMap<String, (i64, bool)>,
}

#[async_trait]
impl DatabaseReader for PostgresReader {
    async fn list_schemas(&mut self) -> Result<Vec<SchemaListing>, DriverError> {
        let rows = timed_query(&self.client, "schemas", SCHEMAS_QUERY, &[]).await?;
        let mut schemas = Vec::with_capacity(rows.len());
        for row in rows {
            let name: String = row.get("name");
            let oid: i64 = row.get("oid");
            self.schema_oids
                .insert(name.clone(), (oid, row.get("usable")));
            schemas.push(SchemaListing {
                name,
                stable_id: Some(oid.to_string()),
                comment: row.get("comment"),
            });
        }
        Ok(schemas)
    }

    async fn read_schema(
        &mut self,
        schema: &SchemaListing,
        known: &KnownVersions,
    ) -> Result<SchemaRead, DriverError> {
        if !self.config.schema_in_scope(&schema.name) {
            return Err(crate::patterns::excluded("schema", &schema.name));
        }
        let Some(&(oid, usable)) = self.schema_oids.get(&schema.name) else {
            return Err(DriverError::new(
                DriverErrorKind::Vanished,
                format!(
                    "schema '{}' was not listed in database '{}'",
                    schema.name, self.database
                ),
            ));
        };
        if !usable {
            return Err(DriverError::new(
                DriverErrorKind::PermissionDenied,
                format!(
                    "role {role} has no USAGE on schema {schema}; grant it with \
                     GRANT USAGE ON SCHEMA {schema} TO {role}",
                    role = quote_identifier(&self.role),
                    schema = quote_identifier(&schema.name),
                ),
            ));
        }

        let mut attempt = 1;
        loop {
            match self.read_schema_once(oid, known).await {
                Ok(read) => return Ok(read),
                Err(error)
                    if error.kind == DriverErrorKind::Vanished
                        && attempt < SCHEMA_READ_ATTEMPTS =>
                {
                    tracing::info!(
                        database = %self.database,
                        schema = %schema.name,
                        attempt,
                        error = %error.message,
                        "an object vanished while the schema was read; reading it again"
                    );
                    attempt += 1;
                }
                Err(mut error) => {
                    error.message = format!(
                        "reading schema '{}' of database '{}' failed: {}",
                        schema.name, self.database, error.message
                    );
                    return Err(error);
                }
            }
        }
    }
}

impl PostgresReader {
    /// Reads one schema inside a savepoint, which is rolled back on failure
    /// so the database's transaction stays usable.
    async fn read_schema_once(
        &self,
        oid: i64,
        known: &KnownVersions,
    ) -> Result<SchemaRead, DriverError> {
        self.client
            .batch_execute("SAVEPOINT schema_read")
            .await
            .map_err(|error| classify(&error))?;
        let result = self.query_schema(oid, known).await;
        let release = match result {
            Ok(_) => "RELEASE SAVEPOINT schema_read",
            Err(_) => "ROLLBACK TO SAVEPOINT schema_read",
        };
        self.client
            .batch_execute(release)
            .await
            .map_err(|error| classify(&error))?;
        result
    }

    /// Reads the version tokens of the schema's relations, then the tables
    /// and columns of those whose token differs from the known one.
    async fn query_schema(
        &self,
        oid: i64,
        known: &KnownVersions,
    ) -> Result<SchemaRead, DriverError> {
        let version_rows = timed_query(&self.client, "versions", VERSIONS_QUERY, &[&oid]).await?;
        let mut read = SchemaRead::default();
        let mut versions: HashMap<i64, String> = HashMap::new();
        let mut changed_oids: Vec<i64> = Vec::new();
        for row in &version_rows {
            let relation: i64 = row.get("oid");
            let name: String = row.get("name");
            let version: String = row.get("version");
            if known.get(&name) == Some(&version) {
                read.unchanged_tables.push(name);
            } else {
                changed_oids.push(relation);
                versions.insert(relation, version);
            }
        }
        if changed_oids.is_empty() {
            return Ok(read);
        }

        let parameters: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&oid, &changed_oids];
        let table_rows = timed_query(&self.client, "tables", TABLES_QUERY, &parameters).await?;
        let column_rows = timed_query(&self.client, "columns", COLUMNS_QUERY, &parameters).await?;

        let mut columns_by_table: HashMap<i64, Vec<Column>> = HashMap::new();
        for row in &column_rows {
            let table_oid: i64 = row.get("table_oid");
            let columns = columns_by_table.entry(table_oid).or_default();
            let ordinal = columns.len() as u32 + 1;
            columns.push(build_column(row, table_oid, ordinal));
        }

        read.tables.reserve(table_rows.len());
        for row in &table_rows {
            let table_oid: i64 = row.get("oid");
            let mut table = build_table(row, table_oid)?;
            if table.kind != TableKind::Partition {
                table.columns = columns_by_table.remove(&table_oid).unwrap_or_default();
            }
            table.version = versions.remove(&table_oid);
            read.tables.push(table);
        }
        Ok(read)
    }
}

fn build_table(row: &Row, oid: i64) -> Result<Table, DriverError> {
    let relkind: String = row.get("relkind");
    let is_partition: bool = row.get("is_partition");
    let kind = match (relkind.as_str(), is_partition) {
        (_, true) => TableKind::Partition,
        ("r", _) => TableKind::Table,
        ("p", _) => TableKind::PartitionedTable,
        ("v", _) => TableKind::View,
        ("m", _) => TableKind::MaterializedView,
        ("f", _) => TableKind::ForeignTable,
        (other, _) => {
            return Err(DriverError::new(
                DriverErrorKind::Query,
                format!("unexpected relkind '{other}' for relation {oid}"),
            ));
        }
    };

    let mut table = Table::new(row.get::<_, String>("name"), kind);
    table.stable_id = Some(oid.to_string());
    table.comment = row.get("comment");
    table.definition = row.get("definition");
    if is_partition {
        table.partition_of =
            row.get::<_, Option<String>>("parent_name")
                .map(|parent| PartitionOf {
                    parent,
                    parent_schema: row.get("parent_schema"),
                    bound: row.get("partition_bound"),
                });
    }
    Ok(table)
}

fn build_column(row: &Row, table_oid: i64, ordinal: u32) -> Column {
    let attnum: i32 = row.get("attnum");
    let mut column = Column::new(
        row.get::<_, String>("name"),
        ordinal,
        row.get::<_, String>("data_type"),
    );
    column.base_type = row.get("base_type");
    column.nullable = !row.get::<_, bool>("not_null");
    column.comment = row.get("comment");
    column.primary_key = row.get("primary_key");
    column.stable_id = Some(format!("{table_oid}.{attnum}"));

    let expression: Option<String> = row.get("default_expression");
    let generated: String = row.get("generated");
    if generated == "s" {
        column.generated = expression;
    } else {
        column.default = expression;
    }
    column.identity = match row.get::<_, String>("identity").as_str() {
        "a" => Some("ALWAYS".to_string()),
        "d" => Some("BY DEFAULT".to_string()),
        _ => None,
    };
    column
}

async fn timed_query(
    client: &Client,
    name: &'static str,
    sql: &str,
    parameters: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Row>, DriverError> {
    let started = Instant::now();
    let rows = client.query(sql, parameters).await.map_err(|error| {
        let classified = classify(&error);
        if is_vanished_object(&error) {
            tracing::debug!(query = name, error = %error, "catalog object vanished during query");
        }
        classified
    })?;

    let elapsed = started.elapsed();
    if elapsed > SLOW_QUERY {
        tracing::warn!(
            query = name,
            rows = rows.len(),
            elapsed_secs = elapsed.as_secs_f64(),
            "slow Postgres catalog query"
        );
    } else {
        tracing::debug!(
            query = name,
            rows = rows.len(),
            elapsed_secs = elapsed.as_secs_f64(),
            "Postgres catalog query"
        );
    }
    Ok(rows)
}

/// Quotes an identifier the way Postgres prints it: bare when it is lower
/// case letters, digits and underscores, in double quotes otherwise.
fn quote_identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == '_')
        && name.chars().all(|character| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_'
        });
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::quote_identifier;

    #[test]
    fn quote_identifier_quotes_only_when_needed() {
        assert_eq!(quote_identifier("hr"), "hr");
        assert_eq!(quote_identifier("Sales"), "\"Sales\"");
        assert_eq!(quote_identifier("Email.Address"), "\"Email.Address\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
