//! Postgres driver on tokio-postgres: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`
//! (also `postgresql://`), with the options listed in the `config` module.
//!
//! It reads `pg_catalog` only, never `information_schema` (which hides objects
//! the role cannot select from and is slow on large catalogs), with one query
//! per object kind, kept in `.sql` files. Each database is read in one
//! REPEATABLE READ, READ ONLY transaction. All its schemas are read together
//! ([`DatabaseReader::read_ahead`]): the version tokens, then the tables and
//! columns of the relations whose token changed. The columns of schemas with
//! no known tokens (a first or full refresh) are read meanwhile over a second
//! connection that imports the transaction's snapshot. If that read fails,
//! each schema is read on its own inside a savepoint, so a schema that fails
//! does not end the reading of the others.
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
use futures_util::TryStreamExt;
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
const DOMAINS_QUERY: &str = include_str!("domains.sql");

/// Settings of each database session, then its read transaction. An empty
/// search_path makes format_type and pg_get_expr qualify every name outside
/// pg_catalog. pg_get_expr and pg_get_viewdef print date, time and interval
/// constants (partition bounds, defaults, view filters) in the session's
/// TimeZone, DateStyle and IntervalStyle, so these are pinned too: otherwise
/// a database or role default would change the text of unchanged objects.
/// JIT compilation is off: it costs more than it saves on catalog queries
/// (half a second on a 10,000-relation version query).
const SESSION_SETTINGS: &str = "SET search_path = ''; SET TimeZone = 'UTC'; \
     SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET jit = off";

/// Starts the read transaction of a database.
const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

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
            .batch_execute(&format!("{SESSION_SETTINGS}; {BEGIN_READ}"))
            .await
            .map_err(|error| classify(&error))?;
        // A second connection can join this transaction's snapshot to read
        // in parallel. A server that cannot export one (an old standby) is
        // read over this connection alone.
        let snapshot = match client.query_one("SELECT pg_export_snapshot()", &[]).await {
            Ok(row) => Some(row.get::<_, String>(0)),
            Err(error) => {
                tracing::debug!(error = %error, "cannot export the read snapshot; reading over one connection");
                client
                    .batch_execute(&format!("ROLLBACK; {BEGIN_READ}"))
                    .await
                    .map_err(|error| classify(&error))?;
                None
            }
        };
        let role: String = client
            .query_one("SELECT current_user::text", &[])
            .await
            .map_err(|error| classify(&error))?
            .get(0);
        Ok(Box::new(PostgresReader {
            client,
            database: database.name.clone(),
            role,
            driver: self.clone(),
            snapshot,
            schema_oids: HashMap::new(),
            domains: None,
            read_ahead: HashMap::new(),
        }))
    }
}

struct PostgresReader {
    client: Client,
    database: String,
    role: String,
    driver: PostgresDriver,
    /// Id of the exported snapshot of the read transaction, if any.
    snapshot: Option<String>,
    /// Oid and USAGE privilege of each listed schema.
    schema_oids: HashMap<String, (i64, bool)>,
    /// Base type and NOT NULL of each domain, read once per database.
    domains: Option<Arc<Domains>>,
    /// Schemas read by [`DatabaseReader::read_ahead`], by name, until
    /// [`DatabaseReader::read_schema`] takes them.
    read_ahead: HashMap<String, SchemaRead>,
}

/// Resolved base type and chain-wide NOT NULL of each domain, by type oid.
type Domains = HashMap<i64, (String, bool)>;

/// A relation's row of `versions.sql`.
struct RelationVersion {
    relation: i64,
    namespace: i64,
    name: String,
    version: String,
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

    /// Reads every in-scope, usable schema with one query per object kind
    /// for the whole database. If that fails (an object dropped meanwhile, a
    /// timeout), nothing is kept and each schema is read on its own, so the
    /// failure lands on the schema it concerns.
    async fn read_ahead(&mut self, schemas: &[(&SchemaListing, &KnownVersions)]) {
        let namespaces: Vec<(i64, &KnownVersions)> = schemas
            .iter()
            .filter(|(schema, _)| self.driver.config.schema_in_scope(&schema.name))
            .filter_map(|(schema, known)| match self.schema_oids.get(&schema.name) {
                Some(&(oid, true)) => Some((oid, *known)),
                _ => None,
            })
            .collect();
        if namespaces.is_empty() {
            return;
        }
        let started = Instant::now();
        let result = match self.begin_read().await {
            Ok(()) => {
                let result = self.read_namespaces(&namespaces, true).await;
                self.end_read(result.is_ok()).await.and(result)
            }
            Err(error) => Err(error),
        };
        match result {
            Ok(mut reads) => {
                for (name, &(oid, _)) in &self.schema_oids {
                    if let Some(read) = reads.remove(&oid) {
                        self.read_ahead.insert(name.clone(), read);
                    }
                }
                tracing::debug!(
                    database = %self.database,
                    schemas = self.read_ahead.len(),
                    elapsed_secs = started.elapsed().as_secs_f64(),
                    "read the database's schemas together"
                );
            }
            Err(error) => tracing::info!(
                database = %self.database,
                error = %error.message,
                "reading the database's schemas together failed; reading them one at a time"
            ),
        }
    }

    fn reads_ahead(&self) -> bool {
        true
    }

    async fn read_schema(
        &mut self,
        schema: &SchemaListing,
        known: &KnownVersions,
    ) -> Result<SchemaRead, DriverError> {
        if !self.driver.config.schema_in_scope(&schema.name) {
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
        if let Some(read) = self.read_ahead.remove(&schema.name) {
            return Ok(read);
        }

        let mut attempt = 1;
        loop {
            self.begin_read().await?;
            let result = self.read_namespaces(&[(oid, known)], false).await;
            self.end_read(result.is_ok()).await?;
            match result {
                Ok(mut reads) => return Ok(reads.remove(&oid).unwrap_or_default()),
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
    /// Opens a savepoint, so a failed read can be undone without ending
    /// the database's transaction.
    async fn begin_read(&self) -> Result<(), DriverError> {
        self.client
            .batch_execute("SAVEPOINT catalog_read")
            .await
            .map_err(|error| classify(&error))
    }

    /// Releases the savepoint after a successful read, or rolls back to it.
    async fn end_read(&self, succeeded: bool) -> Result<(), DriverError> {
        let end = if succeeded {
            "RELEASE SAVEPOINT catalog_read"
        } else {
            "ROLLBACK TO SAVEPOINT catalog_read"
        };
        self.client
            .batch_execute(end)
            .await
            .map_err(|error| classify(&error))
    }

    /// Reads the domains of the database once.
    async fn domains(&mut self) -> Result<Arc<Domains>, DriverError> {
        if let Some(domains) = &self.domains {
            return Ok(Arc::clone(domains));
        }
        let rows = timed_query(&self.client, "domains", DOMAINS_QUERY, &[]).await?;
        let domains: Arc<Domains> = Arc::new(
            rows.iter()
                .map(|row| {
                    (
                        row.get::<_, i64>("domain_oid"),
                        (row.get("base_type"), row.get("not_null")),
                    )
                })
                .collect(),
        );
        self.domains = Some(Arc::clone(&domains));
        Ok(domains)
    }

    /// Opens a second connection to this database that reads the same
    /// snapshot as this one.
    async fn open_helper(&self, snapshot: &str) -> Result<Client, DriverError> {
        let client = self.driver.connect(Some(&self.database)).await?;
        client
            .batch_execute(&format!(
                "{SESSION_SETTINGS}; {BEGIN_READ}; SET TRANSACTION SNAPSHOT '{}'",
                snapshot.replace('\'', "''")
            ))
            .await
            .map_err(|error| classify(&error))?;
        Ok(client)
    }

    /// Reads the version tokens of the relations of the given schemas, then
    /// the tables and columns of those whose token differs from the known
    /// one. Returns the read of each schema by namespace oid.
    ///
    /// With `parallel`, the columns of schemas with no known versions (all of
    /// them on a first or full refresh) are read over a second connection on
    /// the same snapshot while this one reads the version tokens and tables.
    async fn read_namespaces(
        &mut self,
        namespaces: &[(i64, &KnownVersions)],
        parallel: bool,
    ) -> Result<HashMap<i64, SchemaRead>, DriverError> {
        let namespace_oids: Vec<i64> = namespaces.iter().map(|(oid, _)| *oid).collect();
        let mut reads: HashMap<i64, SchemaRead> = namespace_oids
            .iter()
            .map(|&oid| (oid, SchemaRead::default()))
            .collect();
        let known_by_namespace: HashMap<i64, &KnownVersions> = namespaces.iter().copied().collect();
        let domains = self.domains().await?;

        let mut helper = None;
        let mut whole_namespaces: Vec<i64> = Vec::new();
        if let (true, Some(snapshot)) = (parallel, &self.snapshot) {
            whole_namespaces = namespaces
                .iter()
                .filter(|(_, known)| known.is_empty())
                .map(|(oid, _)| *oid)
                .collect();
            if !whole_namespaces.is_empty() {
                match self.open_helper(snapshot).await {
                    Ok(client) => helper = Some(client),
                    Err(error) => {
                        tracing::debug!(error = %error.message, "cannot open a second connection; reading over one");
                        whole_namespaces.clear();
                    }
                }
            }
        }

        let no_oids: Vec<i64> = Vec::new();
        // The helper reads the columns of the whole schemas, the costliest
        // query; this connection reads the version tokens and then the tables.
        let read_whole_columns = async {
            match &helper {
                Some(helper) => read_columns(helper, &no_oids, &whole_namespaces, &domains).await,
                None => Ok(HashMap::new()),
            }
        };
        let read_changed = async {
            let version_rows =
                timed_query(&self.client, "versions", VERSIONS_QUERY, &[&namespace_oids]).await?;
            // In the query's order: by schema, then name.
            let mut versions: Vec<RelationVersion> = Vec::new();
            let mut changed_oids: Vec<i64> = Vec::new();
            for row in &version_rows {
                let namespace: i64 = row.get("namespace_oid");
                let relation: i64 = row.get("oid");
                let name: String = row.get("name");
                let version: String = row.get("version");
                let Some(known) = known_by_namespace.get(&namespace) else {
                    continue;
                };
                if !whole_namespaces.contains(&namespace) && known.get(&name) != Some(&version) {
                    changed_oids.push(relation);
                }
                versions.push(RelationVersion {
                    relation,
                    namespace,
                    name,
                    version,
                });
            }
            if changed_oids.is_empty() && whole_namespaces.is_empty() {
                return Ok((versions, Vec::new(), HashMap::new()));
            }
            let tables = read_tables(&self.client, &changed_oids, &whole_namespaces).await?;
            let columns = if changed_oids.is_empty() {
                HashMap::new()
            } else {
                read_columns(&self.client, &changed_oids, &no_oids, &domains).await?
            };
            Ok::<_, DriverError>((versions, tables, columns))
        };
        let (mut columns_by_table, (versions, table_rows, changed_columns)) =
            tokio::try_join!(read_whole_columns, read_changed)?;
        columns_by_table.extend(changed_columns);
        // The helper's transaction, and any lock its catalog functions took,
        // ends here rather than whenever its connection task next runs.
        if let Some(helper) = helper
            && let Err(error) = helper.batch_execute("ROLLBACK").await
        {
            tracing::debug!(error = %error, "ending the second connection's transaction failed");
        }

        let mut tokens: HashMap<i64, &str> = versions
            .iter()
            .map(|entry| (entry.relation, entry.version.as_str()))
            .collect();
        for row in &table_rows {
            let table_oid: i64 = row.get("oid");
            let namespace: i64 = row.get("namespace_oid");
            let mut table = build_table(row, table_oid)?;
            if table.kind != TableKind::Partition {
                table.columns = columns_by_table.remove(&table_oid).unwrap_or_default();
            }
            table.version = tokens.remove(&table_oid).map(str::to_string);
            if let Some(read) = reads.get_mut(&namespace) {
                read.tables.push(table);
            }
        }
        // The relations left were not read because their token is the known one.
        for entry in &versions {
            let unchanged = tokens.contains_key(&entry.relation)
                && known_by_namespace
                    .get(&entry.namespace)
                    .is_some_and(|known| known.get(&entry.name) == Some(&entry.version));
            if let (true, Some(read)) = (unchanged, reads.get_mut(&entry.namespace)) {
                read.unchanged_tables.push(entry.name.clone());
            }
        }
        Ok(reads)
    }
}

/// Reads the relations given by oid or by namespace oid, ordered by name.
async fn read_tables(
    client: &Client,
    relations: &[i64],
    namespaces: &[i64],
) -> Result<Vec<Row>, DriverError> {
    timed_query(client, "tables", TABLES_QUERY, &[&relations, &namespaces]).await
}

/// Reads the columns of the relations given by oid or by namespace oid,
/// building each as its row arrives, and returns them by relation oid in
/// attnum order.
async fn read_columns(
    client: &Client,
    relations: &[i64],
    namespaces: &[i64],
    domains: &Domains,
) -> Result<HashMap<i64, Vec<Column>>, DriverError> {
    let started = Instant::now();
    let parameters: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&relations, &namespaces];
    let stream = client
        .query_raw(COLUMNS_QUERY, parameters)
        .await
        .map_err(|error| query_error("columns", &error))?;
    let mut stream = std::pin::pin!(stream);
    let mut numbered: HashMap<i64, Vec<(i32, Column)>> = HashMap::new();
    let mut rows = 0usize;
    while let Some(row) = stream
        .try_next()
        .await
        .map_err(|error| query_error("columns", &error))?
    {
        rows += 1;
        let table_oid: i64 = row.get("table_oid");
        let attnum: i32 = row.get("attnum");
        numbered
            .entry(table_oid)
            .or_insert_with(|| Vec::with_capacity(32))
            .push((attnum, build_column(&row, table_oid, attnum, domains)));
    }
    log_query("columns", rows, started.elapsed());

    Ok(numbered
        .into_iter()
        .map(|(table_oid, mut columns)| {
            columns.sort_unstable_by_key(|(attnum, _)| *attnum);
            let columns = columns
                .into_iter()
                .enumerate()
                .map(|(index, (_, mut column))| {
                    column.ordinal = index as u32 + 1;
                    column
                })
                .collect();
            (table_oid, columns)
        })
        .collect())
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

/// Builds a column from a row of `columns.sql`; its ordinal is set once the
/// relation's columns are in attnum order.
fn build_column(row: &Row, table_oid: i64, attnum: i32, domains: &Domains) -> Column {
    let mut column = Column::new(
        row.get::<_, String>("name"),
        0,
        row.get::<_, String>("data_type"),
    );
    let domain = domains.get(&row.get::<_, i64>("type_oid"));
    column.base_type = domain.map(|(base_type, _)| base_type.clone());
    let domain_not_null = domain.is_some_and(|(_, not_null)| *not_null);
    column.nullable = !(row.get::<_, bool>("not_null") || domain_not_null);
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
    let rows = client
        .query(sql, parameters)
        .await
        .map_err(|error| query_error(name, &error))?;
    log_query(name, rows.len(), started.elapsed());
    Ok(rows)
}

/// Classifies a failed catalog query.
fn query_error(name: &'static str, error: &tokio_postgres::Error) -> DriverError {
    if is_vanished_object(error) {
        tracing::debug!(query = name, error = %error, "catalog object vanished during query");
    }
    classify(error)
}

/// Logs a catalog query at DEBUG, or at WARN when it took longer than [`SLOW_QUERY`].
fn log_query(name: &'static str, rows: usize, elapsed: Duration) {
    if elapsed > SLOW_QUERY {
        tracing::warn!(
            query = name,
            rows,
            elapsed_secs = elapsed.as_secs_f64(),
            "slow Postgres catalog query"
        );
    } else {
        tracing::debug!(
            query = name,
            rows,
            elapsed_secs = elapsed.as_secs_f64(),
            "Postgres catalog query"
        );
    }
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
