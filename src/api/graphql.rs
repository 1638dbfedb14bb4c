//! The GraphQL API: wire-compatible with the hosted `connectionRefresh` /
//! `connection` API, so its clients work unchanged, plus extra fields and
//! operations they never see unless they ask.
//!
//! Every failure is a GraphQL error with `extensions.code`: UNAUTHENTICATED,
//! FORBIDDEN, NOT_FOUND, REFRESH_IN_PROGRESS, BAD_USER_INPUT or
//! INTERNAL_SERVER_ERROR. Engine errors are mapped in [`to_graphql_error`].

use super::graphql_extras::{AdminMutation, ExtraQuery};
use async_graphql::{
    Context, EmptySubscription, Enum, ErrorExtensions, ID, MergedObject, Object, Schema,
    SimpleObject,
};
use metacrawl_engine::runner::ProgressBoard;
use metacrawl_engine::store::{
    ConnectionRecord, JobRun as StoredJobRun, JobRunStatus as StoredStatus,
};
use metacrawl_engine::{Engine, EngineError, ErrorCode, Principal};

/// Maximum nesting depth of a query.
pub(crate) const MAX_DEPTH: usize = 10;
/// Maximum complexity (fields selected, lists counted once) of a query.
pub(crate) const MAX_COMPLEXITY: usize = 200;

pub(crate) type ApiSchema = Schema<Query, Mutation, EmptySubscription>;

/// Every query: the hosted API's, then the extras.
#[derive(Debug, Default, MergedObject)]
pub(crate) struct Query(QueryRoot, ExtraQuery);

/// Every mutation: the hosted API's, then the administration extras.
#[derive(Debug, Default, MergedObject)]
pub(crate) struct Mutation(MutationRoot, AdminMutation);

/// Result of authenticating one request, attached to it as data.
pub(crate) type Authentication = Result<Principal, String>;

/// Builds the schema over an engine.
pub(crate) fn build_schema(engine: Engine, board: ProgressBoard) -> ApiSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .data(engine)
        .data(board)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// Builds an error with a code in `extensions.code`.
pub(crate) fn coded_error(code: &'static str, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, extensions| extensions.set("code", code))
}

/// Maps an engine error to a GraphQL error. Internal details are logged here
/// once and replaced by a generic message.
pub(crate) fn to_graphql_error(error: EngineError) -> async_graphql::Error {
    let code = match (&error, error.code()) {
        (EngineError::RefreshInProgress { .. }, _) => "REFRESH_IN_PROGRESS",
        (_, ErrorCode::NotFound) => "NOT_FOUND",
        (_, ErrorCode::PermissionDenied) => "FORBIDDEN",
        (
            _,
            ErrorCode::InvalidArgument | ErrorCode::AlreadyExists | ErrorCode::FailedPrecondition,
        ) => "BAD_USER_INPUT",
        (_, ErrorCode::Unavailable | ErrorCode::Internal) => {
            tracing::error!(error = %error, "GraphQL request failed");
            return coded_error(
                "INTERNAL_SERVER_ERROR",
                "internal error; the server log has the details",
            );
        }
    };
    coded_error(code, error.to_string())
}

/// Returns the authenticated caller, or the UNAUTHENTICATED error.
pub(crate) fn principal<'a>(context: &'a Context<'_>) -> async_graphql::Result<&'a Principal> {
    match context.data::<Authentication>()? {
        Ok(principal) => Ok(principal),
        Err(reason) => Err(coded_error("UNAUTHENTICATED", reason.clone())),
    }
}

/// Parses a connection id, or returns BAD_USER_INPUT.
pub(crate) fn parse_connection_id(id: &ID) -> async_graphql::Result<i64> {
    id.parse::<i64>().map_err(|_| {
        coded_error(
            "BAD_USER_INPUT",
            format!(
                "invalid connection id '{}': expected the numeric id `connection list` shows",
                id.as_str()
            ),
        )
    })
}

/// Queries of the hosted API.
#[derive(Debug, Default)]
pub(crate) struct QueryRoot;

#[Object]
impl QueryRoot {
    /// A connection the caller may read.
    async fn connection(
        &self,
        context: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Connection>> {
        let principal = principal(context)?;
        let connection_id = parse_connection_id(&id)?;
        let engine = context.data::<Engine>()?;
        let record = engine
            .readable_connection(principal, connection_id)
            .map_err(to_graphql_error)?;
        Ok(Some(Connection { record }))
    }

    /// Every connection the caller may read.
    async fn connections(&self, context: &Context<'_>) -> async_graphql::Result<Vec<Connection>> {
        let principal = principal(context)?;
        let engine = context.data::<Engine>()?;
        let records = engine
            .readable_connections(principal)
            .map_err(to_graphql_error)?;
        Ok(records
            .into_iter()
            .map(|record| Connection { record })
            .collect())
    }
}

/// Mutations of the hosted API.
#[derive(Debug, Default)]
pub(crate) struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Starts a metadata refresh of a connection and returns `true` once it is
    /// queued. Fails with REFRESH_IN_PROGRESS when one is already queued or running.
    async fn connection_refresh(
        &self,
        context: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<bool> {
        let principal = principal(context)?;
        let connection_id = parse_connection_id(&id)?;
        let engine = context.data::<Engine>()?;
        engine
            .request_refresh(principal, connection_id)
            .map_err(to_graphql_error)?;
        Ok(true)
    }
}

/// A warehouse connection.
#[derive(Debug)]
pub(crate) struct Connection {
    record: ConnectionRecord,
}

impl Connection {
    pub(crate) fn new(record: ConnectionRecord) -> Connection {
        Connection { record }
    }
}

#[Object]
impl Connection {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }

    async fn details(&self) -> ConnectionDetails {
        let connection_type = match self.record.driver.as_str() {
            "postgres" => ConnectionType::Postgres,
            "snowflake" => ConnectionType::Snowflake,
            "bigquery" => ConnectionType::Bigquery,
            "sqlite" => ConnectionType::Sqlite,
            _ => ConnectionType::Unknown,
        };
        ConnectionDetails {
            name: self.record.name.clone(),
            description: self.record.description.clone(),
            data_source_type: DataSourceType::Warehouse,
            connection_type,
            dialect: Some(self.record.driver.clone()),
        }
    }

    async fn status(&self, context: &Context<'_>) -> async_graphql::Result<JobStatus> {
        let engine = context.data::<Engine>()?;
        let board = context.data::<ProgressBoard>()?;
        let (last, last_successful) = engine
            .store()
            .last_job_runs(self.record.id)
            .map_err(to_graphql_error)?;
        let to_object = |run: StoredJobRun| JobRun::new(run, board);
        Ok(JobStatus {
            last_run: last.map(to_object),
            last_successful_run: last_successful.map(to_object),
        })
    }

    /// Creation time, ISO 8601 UTC.
    async fn created_at(&self) -> &str {
        &self.record.created_at
    }
}

/// Name, description and warehouse type of a connection.
#[derive(Debug, SimpleObject)]
pub(crate) struct ConnectionDetails {
    name: String,
    description: Option<String>,
    data_source_type: DataSourceType,
    connection_type: ConnectionType,
    dialect: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub(crate) enum DataSourceType {
    Warehouse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub(crate) enum ConnectionType {
    Postgres,
    Snowflake,
    Bigquery,
    Sqlite,
    Unknown,
}

/// The last and the last successful run of a connection's crawl job.
#[derive(Debug, SimpleObject)]
pub(crate) struct JobStatus {
    last_run: Option<JobRun>,
    last_successful_run: Option<JobRun>,
}

/// One run of a connection's metadata crawl. Times are ISO 8601 UTC strings.
#[derive(Debug, SimpleObject)]
pub(crate) struct JobRun {
    job_run_id: ID,
    /// The crawl job of the connection; one per connection.
    job_id: ID,
    job_type: String,
    user_id: Option<String>,
    status: JobRunStatus,
    started_at: Option<String>,
    ended_at: Option<String>,
    summary: Option<String>,
    concise_error_message: Option<String>,
    created_at: String,
    /// Progress of a running job run in this server; null otherwise.
    progress: Option<Progress>,
}

impl JobRun {
    fn new(run: StoredJobRun, board: &ProgressBoard) -> JobRun {
        let progress = board.progress(run.id).map(|progress| Progress {
            phase: serde_json::to_value(progress.phase)
                .ok()
                .and_then(|value| value.as_str().map(str::to_uppercase))
                .unwrap_or_default(),
            databases_done: progress.databases_done as i64,
            databases_total: progress.databases_total as i64,
            schemas_done: progress.schemas_done as i64,
            schemas_total: progress.schemas_total as i64,
            tables_read: progress.tables_read as i64,
        });
        JobRun {
            job_run_id: ID(run.id.to_string()),
            job_id: ID(run.connection_id.to_string()),
            job_type: run.job_type,
            user_id: run.user_id,
            status: match run.status {
                StoredStatus::Queued => JobRunStatus::Queued,
                StoredStatus::Running => JobRunStatus::Running,
                StoredStatus::Success => JobRunStatus::Success,
                StoredStatus::Failed => JobRunStatus::Failed,
                StoredStatus::Skipped => JobRunStatus::Skipped,
            },
            started_at: run.started_at,
            ended_at: run.ended_at,
            summary: run.summary,
            concise_error_message: run.error,
            created_at: run.created_at,
            progress,
        }
    }
}

/// Progress of a running refresh.
#[derive(Debug, SimpleObject)]
pub(crate) struct Progress {
    phase: String,
    databases_done: i64,
    databases_total: i64,
    schemas_done: i64,
    schemas_total: i64,
    tables_read: i64,
}

/// State of a job run; the names are those of the hosted API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub(crate) enum JobRunStatus {
    #[graphql(name = "JOB_RUN_STATUS_UNKNOWN")]
    Unknown,
    #[graphql(name = "JOB_RUN_STATUS_QUEUED")]
    Queued,
    #[graphql(name = "JOB_RUN_STATUS_RUNNING")]
    Running,
    #[graphql(name = "JOB_RUN_STATUS_SUCCESS")]
    Success,
    #[graphql(name = "JOB_RUN_STATUS_FAILED")]
    Failed,
    #[graphql(name = "JOB_RUN_STATUS_SKIPPED")]
    Skipped,
}
