//! The refresh pipeline: read the catalog through a driver, compare it with the
//! current snapshot scope by scope, and build the commit of the next snapshot.
//!
//! Safety rules:
//! - Drops are inferred only inside a scope read completely. A database or
//!   schema that fails with a scope-local error keeps its previous rows, so
//!   nothing in it is reported dropped. The snapshot's warnings name it.
//! - A refresh that would drop more than `max_drop_share` of the known tables
//!   fails before anything is written, unless `allow_mass_drop` is set.
//! - Nothing is written before the commit, which is one transaction.

use crate::catalog::{DatabaseListing, SchemaListing};
use crate::change::{ChangeKind, ObjectPath};
use crate::compute::{run_blocking, run_on_rayon};
use crate::diff::{
    self, NamedObject, PreviousTable, SchemaDiff, SchemaPath, TableWrite, match_named,
};
use crate::driver::{
    DatabaseReader, Driver, DriverError, DriverErrorKind, KnownVersions, SchemaRead,
};
use crate::error::EngineError;
use crate::store::{
    ConnectionRecord, ScopeWrite, SnapshotCommit, Store, StoredDatabase, StoredSchema,
};
use crate::store::{DatabaseRow, SchemaRow};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// Default of [`RefreshOptions::max_drop_share`].
pub const DEFAULT_MAX_DROP_SHARE: f64 = 0.5;

/// Options of one refresh.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefreshOptions {
    /// Largest share of the known tables (partitions excluded) one refresh may
    /// drop, from 0.0 to 1.0. Above it the refresh fails and commits nothing.
    pub max_drop_share: f64,
    /// Commit even when the share of dropped tables is above `max_drop_share`.
    pub allow_mass_drop: bool,
    /// Read every table, even those whose version token shows no change. This
    /// is the safety net for the version shortcut.
    pub full: bool,
}

impl Default for RefreshOptions {
    fn default() -> RefreshOptions {
        RefreshOptions {
            max_drop_share: DEFAULT_MAX_DROP_SHARE,
            allow_mass_drop: false,
            full: false,
        }
    }
}

impl RefreshOptions {
    /// Checks that `max_drop_share` is a share between 0 and 1.
    pub fn validate(&self) -> Result<(), EngineError> {
        if !(0.0..=1.0).contains(&self.max_drop_share) {
            return Err(EngineError::InvalidOption {
                option: "max_drop_share",
                reason: format!(
                    "{} is not a share between 0.0 and 1.0 (0.5 means half of the known tables)",
                    self.max_drop_share
                ),
            });
        }
        Ok(())
    }
}

/// Step a refresh is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshPhase {
    Queued,
    ListingDatabases,
    ReadingSchemas,
    Committing,
    Finished,
}

/// Progress of a running refresh, published after every schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshProgress {
    pub phase: RefreshPhase,
    pub databases_done: usize,
    pub databases_total: usize,
    /// Schemas read so far, and schemas listed so far: the total grows as each
    /// database's schemas are listed.
    pub schemas_done: usize,
    pub schemas_total: usize,
    pub tables_read: usize,
    /// Database and schema being read, or only the database while
    /// `reading_ahead`.
    pub current_scope: Option<String>,
    /// Whether the driver is reading all schemas of the current database at once.
    pub reading_ahead: bool,
}

impl RefreshProgress {
    /// Progress of a refresh that has not started.
    pub fn not_started() -> RefreshProgress {
        RefreshProgress {
            phase: RefreshPhase::Queued,
            databases_done: 0,
            databases_total: 0,
            schemas_done: 0,
            schemas_total: 0,
            tables_read: 0,
            current_scope: None,
            reading_ahead: false,
        }
    }
}

/// State shared by the steps of one refresh.
struct Crawl<'a> {
    store: Arc<Store>,
    /// Read every table, ignoring version tokens.
    full: bool,
    connection: &'a ConnectionRecord,
    progress: &'a watch::Sender<RefreshProgress>,
    commit: SnapshotCommit,
}

impl NamedObject for StoredDatabase {
    fn name(&self) -> &str {
        &self.name
    }
    fn stable_id(&self) -> Option<&str> {
        self.stable_id.as_deref()
    }
}

impl NamedObject for DatabaseListing {
    fn name(&self) -> &str {
        &self.name
    }
    fn stable_id(&self) -> Option<&str> {
        self.stable_id.as_deref()
    }
}

impl NamedObject for StoredSchema {
    fn name(&self) -> &str {
        &self.name
    }
    fn stable_id(&self) -> Option<&str> {
        self.stable_id.as_deref()
    }
}

impl NamedObject for SchemaListing {
    fn name(&self) -> &str {
        &self.name
    }
    fn stable_id(&self) -> Option<&str> {
        self.stable_id.as_deref()
    }
}

/// Reads the catalog through `driver`, compares it with the store's current
/// rows and returns the commit of the next snapshot, without writing anything.
pub(crate) async fn crawl(
    store: Arc<Store>,
    driver: Arc<dyn Driver>,
    connection: &ConnectionRecord,
    options: RefreshOptions,
    progress: &watch::Sender<RefreshProgress>,
) -> Result<SnapshotCommit, EngineError> {
    let mut crawl = Crawl {
        store,
        full: options.full,
        connection,
        progress,
        commit: SnapshotCommit {
            connection_id: connection.id,
            ..SnapshotCommit::default()
        },
    };
    crawl.publish(|progress| progress.phase = RefreshPhase::ListingDatabases);

    let connection_id = connection.id;
    let previous_databases = crawl
        .blocking(move |store| store.current_databases(connection_id))
        .await?;
    let previous_schemas = crawl
        .blocking(move |store| store.current_schemas(connection_id))
        .await?;
    let mut schemas_by_database: HashMap<String, Vec<StoredSchema>> = HashMap::new();
    for schema in previous_schemas {
        schemas_by_database
            .entry(schema.database.clone())
            .or_default()
            .push(schema);
    }

    let listed = driver
        .list_databases()
        .await
        .map_err(|error| crawl.driver_error(error))?;
    crawl.publish(|progress| {
        progress.phase = RefreshPhase::ReadingSchemas;
        progress.databases_total = listed.len();
    });

    let matching = match_named(&previous_databases, &listed);
    let mut pairs: Vec<(Option<&StoredDatabase>, &DatabaseListing)> = Vec::new();
    for &(previous_index, current_index) in &matching.same_name {
        pairs.push((
            Some(&previous_databases[previous_index]),
            &listed[current_index],
        ));
    }
    for &(previous_index, current_index) in &matching.renamed {
        pairs.push((
            Some(&previous_databases[previous_index]),
            &listed[current_index],
        ));
    }
    for &current_index in &matching.added {
        pairs.push((None, &listed[current_index]));
    }
    let listed_order: HashMap<&str, usize> = listed
        .iter()
        .enumerate()
        .map(|(index, database)| (database.name.as_str(), index))
        .collect();
    pairs.sort_by_key(|(_, database)| listed_order[database.name.as_str()]);

    for (previous, database) in pairs {
        let previous_schemas = previous
            .and_then(|previous| schemas_by_database.remove(&previous.name))
            .unwrap_or_default();
        crawl
            .read_database(driver.as_ref(), previous, database, previous_schemas)
            .await?;
        crawl.publish(|progress| progress.databases_done += 1);
    }

    for previous_index in matching.dropped {
        let dropped = &previous_databases[previous_index];
        let schemas = schemas_by_database
            .remove(&dropped.name)
            .unwrap_or_default();
        crawl.drop_database(dropped, schemas).await?;
    }

    crawl.check_fail_safe(options).await?;
    crawl.publish(|progress| {
        progress.phase = RefreshPhase::Committing;
        progress.current_scope = None;
    });
    Ok(crawl.commit)
}

impl Crawl<'_> {
    fn publish(&self, update: impl FnOnce(&mut RefreshProgress)) {
        self.progress.send_modify(update);
    }

    async fn blocking<T, F>(&self, work: F) -> Result<T, EngineError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, EngineError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        run_blocking(move || work(&store)).await
    }

    fn driver_error(&self, error: DriverError) -> EngineError {
        EngineError::Driver {
            connection: self.connection.name.clone(),
            error,
        }
    }

    /// Keeps the previous state of a scope the driver could not read, or fails
    /// the refresh when the error is not local to that scope.
    fn keep_unreadable(&mut self, scope: &str, error: DriverError) -> Result<(), EngineError> {
        if !error.kind.is_scope_local() {
            return Err(self.driver_error(error));
        }
        if error.kind == DriverErrorKind::ExcludedByFilter {
            tracing::debug!(
                connection_id = self.connection.id,
                scope,
                "scope excluded by filter; its previous state is kept"
            );
            return Ok(());
        }
        tracing::warn!(
            connection_id = self.connection.id,
            scope,
            reason = error.kind.as_str(),
            error = %error.message,
            "scope unreadable; its previous state is kept"
        );
        self.commit.warnings.push(format!(
            "{scope} unreadable ({}): {}; its previous state was kept and nothing in it is reported dropped",
            error.kind.as_str(),
            error.message
        ));
        Ok(())
    }

    async fn read_database(
        &mut self,
        driver: &dyn Driver,
        previous: Option<&StoredDatabase>,
        database: &DatabaseListing,
        previous_schemas: Vec<StoredSchema>,
    ) -> Result<(), EngineError> {
        let database_path = ObjectPath {
            database: database.name.clone(),
            ..ObjectPath::default()
        };
        let scope = format!("database '{}'", database.name);
        let opened = driver.open_database(database).await;
        // A new database left out by the connection's patterns is not recorded.
        if let Err(error) = &opened
            && error.kind == DriverErrorKind::ExcludedByFilter
            && previous.is_none()
        {
            self.keep_unreadable(&scope, error.clone())?;
            return Ok(());
        }

        let renamed = previous.is_some_and(|previous| previous.name != database.name);
        let row = DatabaseRow {
            name: database.name.clone(),
            stable_id: database.stable_id.clone(),
        };
        match previous {
            None => {
                self.commit.changes.push(database_path.change(
                    ChangeKind::DatabaseAdded,
                    None,
                    None,
                ));
                self.commit.databases.push(ScopeWrite::Insert(row));
            }
            Some(previous) => {
                if renamed {
                    self.commit.changes.push(database_path.change(
                        ChangeKind::DatabaseRenamed,
                        Some(previous.name.clone()),
                        Some(database.name.clone()),
                    ));
                }
                if renamed || previous.stable_id != database.stable_id {
                    self.commit.databases.push(ScopeWrite::Replace {
                        previous_row_id: previous.row_id,
                        row,
                    });
                }
            }
        }

        let listed = match opened {
            Ok(mut reader) => match reader.list_schemas().await {
                Ok(schemas) => Some((reader, schemas)),
                Err(error) => {
                    self.keep_unreadable(&scope, error)?;
                    None
                }
            },
            Err(error) => {
                self.keep_unreadable(&scope, error)?;
                None
            }
        };
        let Some((mut reader, schemas)) = listed else {
            if renamed {
                for schema in &previous_schemas {
                    self.carry_over_schema(&database.name, schema, &schema.name)
                        .await?;
                }
            }
            return Ok(());
        };
        self.publish(|progress| progress.schemas_total += schemas.len());

        let matching = match_named(&previous_schemas, &schemas);
        let mut pairs: Vec<(Option<&StoredSchema>, &SchemaListing)> = Vec::new();
        for &(previous_index, current_index) in matching.same_name.iter().chain(&matching.renamed) {
            pairs.push((
                Some(&previous_schemas[previous_index]),
                &schemas[current_index],
            ));
        }
        for &current_index in &matching.added {
            pairs.push((None, &schemas[current_index]));
        }
        let listed_order: HashMap<&str, usize> = schemas
            .iter()
            .enumerate()
            .map(|(index, schema)| (schema.name.as_str(), index))
            .collect();
        pairs.sort_by_key(|(_, schema)| listed_order[schema.name.as_str()]);

        // Drivers that read many schemas at once get all of them up front,
        // each with the versions its read_schema call gets below.
        if reader.reads_ahead() {
            self.read_ahead(reader.as_mut(), previous, database, &pairs)
                .await?;
        }

        for (previous_schema, schema) in pairs {
            self.read_schema(
                reader.as_mut(),
                &database.name,
                renamed,
                previous_schema,
                schema,
            )
            .await?;
            self.publish(|progress| progress.schemas_done += 1);
        }

        for previous_index in matching.dropped {
            self.drop_schema(&database.name, &previous_schemas[previous_index])
                .await?;
        }
        Ok(())
    }

    /// Announces every schema about to be read to the reader, with the known
    /// versions each read_schema call will get.
    async fn read_ahead(
        &mut self,
        reader: &mut dyn DatabaseReader,
        previous: Option<&StoredDatabase>,
        database: &DatabaseListing,
        pairs: &[(Option<&StoredSchema>, &SchemaListing)],
    ) -> Result<(), EngineError> {
        let mut stored_versions = match previous {
            Some(previous) if !self.full => {
                let connection_id = self.connection.id;
                let stored_name = previous.name.clone();
                self.blocking(move |store| {
                    store.current_table_versions(connection_id, &stored_name)
                })
                .await?
            }
            _ => HashMap::new(),
        };
        let known: Vec<KnownVersions> = pairs
            .iter()
            .map(|(previous_schema, _)| {
                previous_schema
                    .and_then(|stored| stored_versions.remove(&stored.name))
                    .unwrap_or_default()
            })
            .collect();
        let ahead: Vec<(&SchemaListing, &KnownVersions)> = pairs
            .iter()
            .zip(&known)
            .map(|((_, schema), known)| (*schema, known))
            .collect();
        self.publish(|progress| {
            progress.current_scope = Some(database.name.clone());
            progress.reading_ahead = true;
        });
        reader.read_ahead(&ahead).await;
        self.publish(|progress| progress.reading_ahead = false);
        Ok(())
    }

    async fn read_schema(
        &mut self,
        reader: &mut dyn DatabaseReader,
        database: &str,
        database_renamed: bool,
        previous: Option<&StoredSchema>,
        schema: &SchemaListing,
    ) -> Result<(), EngineError> {
        let started = Instant::now();
        let scope = format!("schema '{database}.{}'", schema.name);
        self.publish(|progress| {
            progress.current_scope = Some(format!("{database}.{}", schema.name))
        });

        let previous_tables = match previous {
            Some(previous) => self.previous_tables(previous).await?,
            None => Vec::new(),
        };
        let known: KnownVersions = if self.full {
            KnownVersions::new()
        } else {
            previous_tables
                .iter()
                .filter_map(|previous| {
                    let version = previous.table.version.clone()?;
                    Some((previous.table.name.clone(), version))
                })
                .collect()
        };

        let read = match reader.read_schema(schema, &known).await {
            Ok(read) => read,
            Err(error) => {
                let excluded = error.kind == DriverErrorKind::ExcludedByFilter;
                self.keep_unreadable(&scope, error)?;
                match previous {
                    Some(previous) if database_renamed || previous.name != schema.name => {
                        self.carry_over_schema(database, previous, &schema.name)
                            .await?;
                    }
                    Some(_) => {}
                    // A new schema that exists but cannot be read is recorded
                    // empty; one left out by a filter is not recorded at all.
                    None if !excluded => self.record_schema(database, None, schema),
                    None => {}
                }
                return Ok(());
            }
        };
        let SchemaRead {
            tables,
            unchanged_tables,
            unreadable_tables,
        } = read;
        let tables_read = tables.len();
        for unreadable in &unreadable_tables {
            let scope = format!("table '{database}.{}.{}'", schema.name, unreadable.name);
            self.keep_unreadable(&scope, unreadable.error.clone())?;
        }

        let renamed = previous.is_some_and(|previous| previous.name != schema.name);
        self.record_schema(database, previous, schema);
        // Unreadable tables, and tables the driver found unchanged by their
        // version token, keep their stored rows: they take no part in the comparison.
        let kept_names: HashSet<&str> = unreadable_tables
            .iter()
            .map(|unreadable| unreadable.name.as_str())
            .chain(
                unchanged_tables
                    .iter()
                    .map(String::as_str)
                    .filter(|name| known.contains_key(*name)),
            )
            .collect();
        let (kept_tables, previous_tables): (Vec<PreviousTable>, Vec<PreviousTable>) =
            previous_tables
                .into_iter()
                .partition(|previous| kept_names.contains(previous.table.name.as_str()));

        let path = SchemaPath {
            database: database.to_string(),
            schema: schema.name.clone(),
        };
        let mut diff = self
            .diff_schema(
                path.clone(),
                previous_tables,
                tables,
                database_renamed || renamed,
            )
            .await?;
        tracing::debug!(
            connection_id = self.connection.id,
            database,
            schema = %schema.name,
            tables = tables_read,
            changes = diff.changes.len(),
            writes = diff.writes.len(),
            elapsed_secs = started.elapsed().as_secs_f64(),
            "schema compared"
        );

        if database_renamed || renamed {
            diff.writes.extend(kept_tables.into_iter().map(carry_over));
        }

        // Freeing the tables read is left to the rayon pool, off this path.
        let read_tables = std::mem::take(&mut diff.read_tables);
        rayon::spawn(move || drop(read_tables));

        self.commit.changes.extend(diff.changes);
        if !diff.writes.is_empty() {
            self.commit.tables.push((path, diff.writes));
        }
        self.publish(|progress| progress.tables_read += tables_read);
        Ok(())
    }

    /// Records the schema's row and its added or renamed change.
    fn record_schema(
        &mut self,
        database: &str,
        previous: Option<&StoredSchema>,
        schema: &SchemaListing,
    ) {
        let path = ObjectPath {
            database: database.to_string(),
            schema: Some(schema.name.clone()),
            ..ObjectPath::default()
        };
        let row = SchemaRow {
            database: database.to_string(),
            name: schema.name.clone(),
            stable_id: schema.stable_id.clone(),
            comment: schema.comment.clone(),
        };
        let Some(previous) = previous else {
            self.commit
                .changes
                .push(path.change(ChangeKind::SchemaAdded, None, None));
            self.commit.schemas.push(ScopeWrite::Insert(row));
            return;
        };

        if previous.name != schema.name {
            self.commit.changes.push(path.change(
                ChangeKind::SchemaRenamed,
                Some(previous.name.clone()),
                Some(schema.name.clone()),
            ));
        }
        let unchanged = previous.database == row.database
            && previous.name == row.name
            && previous.stable_id == row.stable_id
            && previous.comment == row.comment;
        if !unchanged {
            self.commit.schemas.push(ScopeWrite::Replace {
                previous_row_id: previous.row_id,
                row,
            });
        }
    }

    async fn diff_schema(
        &self,
        path: SchemaPath,
        previous_tables: Vec<PreviousTable>,
        tables: Vec<crate::catalog::Table>,
        rewrite_all: bool,
    ) -> Result<SchemaDiff, EngineError> {
        let (previous_tables, table_match) = run_on_rayon(move || {
            let table_match = diff::match_tables(&previous_tables, tables, rewrite_all);
            (previous_tables, table_match)
        })
        .await?;

        let keys = table_match.keys_to_load(&previous_tables);
        let previous_columns = if keys.is_empty() {
            HashMap::new()
        } else {
            self.blocking(move |store| store.current_columns(&keys))
                .await?
        };

        run_on_rayon(move || {
            diff::diff_schema(&path, &previous_tables, &previous_columns, table_match)
        })
        .await
    }

    /// Rewrites an unreadable schema's rows under the new names of a renamed
    /// database or schema, keeping their content.
    async fn carry_over_schema(
        &mut self,
        database: &str,
        previous: &StoredSchema,
        new_name: &str,
    ) -> Result<(), EngineError> {
        self.commit.schemas.push(ScopeWrite::Replace {
            previous_row_id: previous.row_id,
            row: SchemaRow {
                database: database.to_string(),
                name: new_name.to_string(),
                stable_id: previous.stable_id.clone(),
                comment: previous.comment.clone(),
            },
        });

        let tables = self.previous_tables(previous).await?;
        let writes = tables.into_iter().map(carry_over).collect();
        let path = SchemaPath {
            database: database.to_string(),
            schema: new_name.to_string(),
        };
        self.commit.tables.push((path, writes));
        Ok(())
    }

    async fn previous_tables(
        &self,
        schema: &StoredSchema,
    ) -> Result<Vec<PreviousTable>, EngineError> {
        let connection_id = self.connection.id;
        let database = schema.database.clone();
        let name = schema.name.clone();
        self.blocking(move |store| store.current_tables(connection_id, &database, &name))
            .await
    }

    async fn drop_schema(
        &mut self,
        database: &str,
        schema: &StoredSchema,
    ) -> Result<(), EngineError> {
        let path = ObjectPath {
            database: database.to_string(),
            schema: Some(schema.name.clone()),
            ..ObjectPath::default()
        };
        self.commit
            .changes
            .push(path.change(ChangeKind::SchemaDropped, None, None));
        self.commit.schemas.push(ScopeWrite::Close {
            previous_row_id: schema.row_id,
        });

        let tables = self.previous_tables(schema).await?;
        let mut writes = Vec::with_capacity(tables.len());
        for previous_table in tables {
            let table_path = ObjectPath::table(database, &schema.name, &previous_table.table.name);
            self.commit.changes.push(table_path.change(
                ChangeKind::TableDropped,
                Some(previous_table.table.kind.to_string()),
                None,
            ));
            writes.push(TableWrite::Drop {
                key: previous_table.key,
                previous_row_id: previous_table.row_id,
                kind: previous_table.table.kind,
            });
        }
        let path = SchemaPath {
            database: database.to_string(),
            schema: schema.name.clone(),
        };
        self.commit.tables.push((path, writes));
        Ok(())
    }

    async fn drop_database(
        &mut self,
        database: &StoredDatabase,
        schemas: Vec<StoredSchema>,
    ) -> Result<(), EngineError> {
        let path = ObjectPath {
            database: database.name.clone(),
            ..ObjectPath::default()
        };
        self.commit
            .changes
            .push(path.change(ChangeKind::DatabaseDropped, None, None));
        self.commit.databases.push(ScopeWrite::Close {
            previous_row_id: database.row_id,
        });
        for schema in &schemas {
            self.drop_schema(&database.name, schema).await?;
        }
        Ok(())
    }

    async fn check_fail_safe(&self, options: RefreshOptions) -> Result<(), EngineError> {
        let dropped: usize = self
            .commit
            .tables
            .iter()
            .flat_map(|(_, writes)| writes)
            .filter(|write| {
                matches!(write, TableWrite::Drop { kind, .. } if *kind != crate::catalog::TableKind::Partition)
            })
            .count();
        if dropped == 0 {
            return Ok(());
        }

        let connection_id = self.connection.id;
        let known = self
            .blocking(move |store| store.current_table_count(connection_id))
            .await?;
        let share = dropped as f64 / known.max(1) as f64;
        if share <= options.max_drop_share {
            return Ok(());
        }
        if options.allow_mass_drop {
            tracing::warn!(
                connection_id,
                dropped,
                known,
                "fail-safe overridden: committing a refresh that drops {:.0}% of known tables",
                share * 100.0
            );
            return Ok(());
        }
        Err(EngineError::FailSafe {
            connection: self.connection.name.clone(),
            dropped,
            known,
            percent: share * 100.0,
            limit_percent: options.max_drop_share * 100.0,
        })
    }
}

/// Rewrites a stored table unchanged, under the new names of its schema.
fn carry_over(previous: PreviousTable) -> TableWrite {
    TableWrite::Replace {
        key: previous.key,
        previous_row_id: previous.row_id,
        table: previous.table,
        fingerprint: previous.fingerprint,
        columns: diff::ColumnWrites::default(),
    }
}
