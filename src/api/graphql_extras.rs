//! GraphQL operations beyond the hosted API: snapshots, changes, the catalog
//! at a snapshot, and connection administration. Clients of the hosted API
//! never see them unless they ask.

use super::graphql::{Connection, coded_error, parse_connection_id, principal, to_graphql_error};
use async_graphql::{Context, ID, Object, SimpleObject};
use metacrawl_engine::store::{ConnectionRecord, SnapshotRecord};
use metacrawl_engine::{Catalog, Change, Engine};

/// Snapshot of a connection's catalog.
#[derive(Debug, SimpleObject)]
pub(crate) struct Snapshot {
    id: ID,
    created_at: String,
    databases: i64,
    schemas: i64,
    tables: i64,
    columns: i64,
    change_count: i64,
    breaking_change_count: i64,
    warnings: Vec<String>,
}

impl From<SnapshotRecord> for Snapshot {
    fn from(record: SnapshotRecord) -> Snapshot {
        Snapshot {
            id: ID(record.id.to_string()),
            created_at: record.created_at,
            databases: record.counts.databases,
            schemas: record.counts.schemas,
            tables: record.counts.tables,
            columns: record.counts.columns,
            change_count: record.change_count,
            breaking_change_count: record.breaking_change_count,
            warnings: record.warnings,
        }
    }
}

/// One change; `kind` is the snake_case change kind (`column_added`).
#[derive(Debug, SimpleObject)]
pub(crate) struct SchemaChange {
    snapshot_id: ID,
    kind: String,
    database: String,
    schema: Option<String>,
    table: Option<String>,
    column: Option<String>,
    before: Option<String>,
    after: Option<String>,
    breaking: bool,
}

impl SchemaChange {
    fn new(snapshot_id: i64, change: Change) -> SchemaChange {
        SchemaChange {
            snapshot_id: ID(snapshot_id.to_string()),
            kind: change.kind.as_str().to_string(),
            database: change.database,
            schema: change.schema,
            table: change.table,
            column: change.column,
            before: change.before,
            after: change.after,
            breaking: change.breaking,
        }
    }
}

#[derive(Debug, SimpleObject)]
pub(crate) struct CatalogDatabase {
    name: String,
    schemas: Vec<CatalogSchema>,
}

#[derive(Debug, SimpleObject)]
pub(crate) struct CatalogSchema {
    name: String,
    comment: Option<String>,
    tables: Vec<CatalogTable>,
}

#[derive(Debug, SimpleObject)]
pub(crate) struct CatalogTable {
    name: String,
    /// snake_case kind: table, view, materialized_view, partition, ...
    kind: String,
    comment: Option<String>,
    definition: Option<String>,
    partition_parent: Option<String>,
    partition_bound: Option<String>,
    /// Layout properties: partitioning, clustering, table_type.
    properties: Vec<TableProperty>,
    /// First and last suffix and count of a table folded from date-named shards.
    shard_first: Option<String>,
    shard_last: Option<String>,
    shard_count: Option<i64>,
    /// Last DDL or load time the warehouse reports.
    last_altered: Option<String>,
    columns: Vec<CatalogColumn>,
}

#[derive(Debug, SimpleObject)]
pub(crate) struct TableProperty {
    name: String,
    value: String,
}

#[derive(Debug, SimpleObject)]
pub(crate) struct CatalogColumn {
    ordinal: i64,
    name: String,
    data_type: String,
    base_type: Option<String>,
    nullable: bool,
    default: Option<String>,
    comment: Option<String>,
    primary_key: bool,
    identity: Option<String>,
    generated: Option<String>,
    field_path: Option<String>,
}

fn catalog_object(catalog: Catalog) -> Vec<CatalogDatabase> {
    catalog
        .databases
        .into_iter()
        .map(|database| CatalogDatabase {
            name: database.name,
            schemas: database
                .schemas
                .into_iter()
                .map(|schema| CatalogSchema {
                    name: schema.name,
                    comment: schema.comment,
                    tables: schema
                        .tables
                        .into_iter()
                        .map(|table| CatalogTable {
                            kind: table.kind.as_str().to_string(),
                            partition_parent: table
                                .partition_of
                                .as_ref()
                                .map(|partition| partition.parent.clone()),
                            partition_bound: table
                                .partition_of
                                .and_then(|partition| partition.bound),
                            properties: table
                                .properties
                                .into_iter()
                                .map(|(name, value)| TableProperty { name, value })
                                .collect(),
                            shard_first: table.shards.as_ref().map(|shards| shards.first.clone()),
                            shard_last: table.shards.as_ref().map(|shards| shards.last.clone()),
                            shard_count: table.shards.map(|shards| i64::from(shards.count)),
                            last_altered: table.last_altered,
                            name: table.name,
                            comment: table.comment,
                            definition: table.definition,
                            columns: table
                                .columns
                                .into_iter()
                                .map(|column| CatalogColumn {
                                    ordinal: i64::from(column.ordinal),
                                    name: column.name,
                                    data_type: column.data_type,
                                    base_type: column.base_type,
                                    nullable: column.nullable,
                                    default: column.default,
                                    comment: column.comment,
                                    primary_key: column.primary_key,
                                    identity: column.identity,
                                    generated: column.generated,
                                    field_path: column.field_path,
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

fn connection_by_id(engine: &Engine, id: &ID) -> async_graphql::Result<ConnectionRecord> {
    engine
        .store()
        .connection_by_id(parse_connection_id(id)?)
        .map_err(to_graphql_error)
}

fn parse_snapshot_id(id: &ID) -> async_graphql::Result<i64> {
    id.parse::<i64>().map_err(|_| {
        coded_error(
            "BAD_USER_INPUT",
            format!(
                "invalid snapshot id '{}': expected the numeric id `snapshots` returns",
                id.as_str()
            ),
        )
    })
}

/// Queries beyond the hosted API.
#[derive(Debug, Default)]
pub(crate) struct ExtraQuery;

#[Object]
impl ExtraQuery {
    /// Snapshots of a connection, oldest first.
    async fn snapshots(
        &self,
        context: &Context<'_>,
        connection_id: ID,
    ) -> async_graphql::Result<Vec<Snapshot>> {
        let engine = context.data::<Engine>()?;
        let connection = engine
            .readable_connection(principal(context)?, parse_connection_id(&connection_id)?)
            .map_err(to_graphql_error)?;
        let snapshots = engine.history(&connection.name).map_err(to_graphql_error)?;
        Ok(snapshots.into_iter().map(Snapshot::from).collect())
    }

    /// Changes committed after snapshot `after` (all when null) up to and
    /// including `upTo` (the latest when null); only breaking ones with `breakingOnly`.
    async fn changes(
        &self,
        context: &Context<'_>,
        connection_id: ID,
        after: Option<ID>,
        up_to: Option<ID>,
        #[graphql(default = false)] breaking_only: bool,
    ) -> async_graphql::Result<Vec<SchemaChange>> {
        let engine = context.data::<Engine>()?;
        let connection = engine
            .readable_connection(principal(context)?, parse_connection_id(&connection_id)?)
            .map_err(to_graphql_error)?;
        let after = after
            .as_ref()
            .map(parse_snapshot_id)
            .transpose()?
            .unwrap_or(0);
        let up_to = up_to
            .as_ref()
            .map(parse_snapshot_id)
            .transpose()?
            .unwrap_or(i64::MAX);
        let changes = engine
            .store()
            .changes_between(connection.id, after, up_to)
            .map_err(to_graphql_error)?;
        Ok(changes
            .into_iter()
            .filter(|(_, change)| !breaking_only || change.breaking)
            .map(|(snapshot_id, change)| SchemaChange::new(snapshot_id, change))
            .collect())
    }

    /// The catalog as of a snapshot (the latest when null); null before the first refresh.
    async fn catalog(
        &self,
        context: &Context<'_>,
        connection_id: ID,
        snapshot_id: Option<ID>,
    ) -> async_graphql::Result<Option<Vec<CatalogDatabase>>> {
        let engine = context.data::<Engine>()?;
        let connection = engine
            .readable_connection(principal(context)?, parse_connection_id(&connection_id)?)
            .map_err(to_graphql_error)?;
        let snapshot = snapshot_id.as_ref().map(parse_snapshot_id).transpose()?;
        let catalog = engine
            .catalog(&connection.name, snapshot)
            .map_err(to_graphql_error)?;
        Ok(catalog.map(|(_, catalog)| catalog_object(catalog)))
    }
}

/// Administration mutations; all need the ADMIN role.
#[derive(Debug, Default)]
pub(crate) struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Adds a connection; the URL scheme chooses the driver, which checks the URL.
    async fn create_connection(
        &self,
        context: &Context<'_>,
        name: String,
        url: String,
        description: Option<String>,
    ) -> async_graphql::Result<Connection> {
        let engine = context.data::<Engine>()?;
        let record = engine
            .create_connection(principal(context)?, &name, &url, description.as_deref())
            .map_err(to_graphql_error)?;
        Ok(Connection::new(record))
    }

    /// Changes a connection's URL or description.
    async fn update_connection(
        &self,
        context: &Context<'_>,
        id: ID,
        url: Option<String>,
        description: Option<String>,
    ) -> async_graphql::Result<Connection> {
        let engine = context.data::<Engine>()?;
        let record = engine
            .update_connection(
                principal(context)?,
                parse_connection_id(&id)?,
                url.as_deref(),
                description.as_deref(),
            )
            .map_err(to_graphql_error)?;
        Ok(Connection::new(record))
    }

    /// Removes a connection with its whole history; returns true.
    async fn delete_connection(
        &self,
        context: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<bool> {
        let engine = context.data::<Engine>()?;
        engine
            .delete_connection(principal(context)?, parse_connection_id(&id)?)
            .map_err(to_graphql_error)?;
        Ok(true)
    }

    /// Cancels a queued job run, or a running one in this server; returns true.
    async fn cancel_job_run(
        &self,
        context: &Context<'_>,
        job_run_id: ID,
    ) -> async_graphql::Result<bool> {
        let engine = context.data::<Engine>()?;
        let id = job_run_id.parse::<i64>().map_err(|_| {
            coded_error(
                "BAD_USER_INPUT",
                format!(
                    "invalid job run id '{}': expected a number",
                    job_run_id.as_str()
                ),
            )
        })?;
        engine
            .cancel_job_run(principal(context)?, id)
            .map_err(to_graphql_error)?;
        Ok(true)
    }

    /// Lets `subject` refresh and read a connection; returns true.
    async fn grant_data_administrator(
        &self,
        context: &Context<'_>,
        connection_id: ID,
        subject: String,
    ) -> async_graphql::Result<bool> {
        let engine = context.data::<Engine>()?;
        let principal = principal(context)?;
        let connection = connection_by_id(engine, &connection_id)?;
        engine
            .grant_data_administrator(principal, &connection.name, &subject)
            .map_err(to_graphql_error)?;
        Ok(true)
    }

    /// Withdraws a grant; returns whether there was one.
    async fn revoke_data_administrator(
        &self,
        context: &Context<'_>,
        connection_id: ID,
        subject: String,
    ) -> async_graphql::Result<bool> {
        let engine = context.data::<Engine>()?;
        let principal = principal(context)?;
        let connection = connection_by_id(engine, &connection_id)?;
        engine
            .revoke_data_administrator(principal, &connection.name, &subject)
            .map_err(to_graphql_error)
    }
}
