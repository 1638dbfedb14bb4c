//! The gRPC API (`metacrawl.v1.CrawlerService`): the same engine calls as
//! GraphQL, with engine errors mapped to gRPC status codes in [`to_status`].
//! Conversions between engine and wire types live here; the engine never
//! uses generated types.

use super::auth::TokenVerifier;
use metacrawl_engine::runner::ProgressBoard;
use metacrawl_engine::store::{ConnectionRecord, JobRun, JobRunStatus, SnapshotRecord};
use metacrawl_engine::{Change, Engine, EngineError, ErrorCode, Principal, RefreshProgress};
use metacrawl_proto::v1 as pb;
use metacrawl_proto::v1::crawler_service_server::CrawlerService;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Default and maximum page sizes of GetCatalog (tables) and ListChanges.
const CATALOG_PAGE: usize = 500;
const CHANGES_PAGE: usize = 1000;
const MAX_PAGE: usize = 10_000;
/// How often streams look for new state in the store.
const WATCH_INTERVAL: Duration = Duration::from_millis(100);
const FOLLOW_INTERVAL: Duration = Duration::from_millis(250);

/// The CrawlerService implementation.
#[derive(Debug, Clone)]
pub(crate) struct GrpcService {
    engine: Engine,
    board: ProgressBoard,
    verifier: Arc<TokenVerifier>,
}

impl GrpcService {
    pub(crate) fn new(
        engine: Engine,
        board: ProgressBoard,
        verifier: Arc<TokenVerifier>,
    ) -> GrpcService {
        GrpcService {
            engine,
            board,
            verifier,
        }
    }

    fn authenticate<T>(&self, request: &Request<T>) -> Result<Principal, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok());
        self.verifier
            .verify(header)
            .map_err(Status::unauthenticated)
    }

    /// Finds a connection the caller may read by a request's id, which must be positive.
    fn readable_connection(
        &self,
        principal: &Principal,
        connection_id: i64,
    ) -> Result<ConnectionRecord, Status> {
        let connection_id = positive_id(connection_id, "connection id")?;
        self.engine
            .readable_connection(principal, connection_id)
            .map_err(to_status)
    }

    /// Finds a connection by a request's id, which must be positive.
    fn connection_record(&self, connection_id: i64) -> Result<ConnectionRecord, Status> {
        let connection_id = positive_id(connection_id, "connection id")?;
        self.engine
            .store()
            .connection_by_id(connection_id)
            .map_err(to_status)
    }

    fn job_run(&self, run: JobRun) -> pb::JobRun {
        let progress = self.board.progress(run.id).map(progress_message);
        pb::JobRun {
            id: run.id,
            connection_id: run.connection_id,
            status: status_message(run.status) as i32,
            user_id: run.user_id.unwrap_or_default(),
            created_at: run.created_at,
            started_at: run.started_at.unwrap_or_default(),
            ended_at: run.ended_at.unwrap_or_default(),
            summary: run.summary.unwrap_or_default(),
            error: run.error.unwrap_or_default(),
            snapshot_id: run.snapshot_id.unwrap_or_default(),
            progress,
        }
    }

    fn connection(&self, record: ConnectionRecord) -> Result<pb::Connection, Status> {
        let (last, last_successful) = self
            .engine
            .store()
            .last_job_runs(record.id)
            .map_err(to_status)?;
        Ok(pb::Connection {
            id: record.id,
            name: record.name,
            description: record.description.unwrap_or_default(),
            driver: record.driver,
            created_at: record.created_at,
            last_run: last.map(|run| self.job_run(run)),
            last_successful_run: last_successful.map(|run| self.job_run(run)),
        })
    }
}

/// Maps an engine error to a gRPC status; internal details are logged here
/// once and not sent.
pub(crate) fn to_status(error: EngineError) -> Status {
    match error.code() {
        ErrorCode::NotFound => Status::not_found(error.to_string()),
        ErrorCode::PermissionDenied => Status::permission_denied(error.to_string()),
        ErrorCode::AlreadyExists => Status::already_exists(error.to_string()),
        ErrorCode::InvalidArgument => Status::invalid_argument(error.to_string()),
        ErrorCode::FailedPrecondition => Status::failed_precondition(error.to_string()),
        ErrorCode::Unavailable | ErrorCode::Internal => {
            tracing::error!(error = %error, "gRPC request failed");
            Status::internal("internal error; the server log has the details")
        }
    }
}

fn status_message(status: JobRunStatus) -> pb::JobRunStatus {
    match status {
        JobRunStatus::Queued => pb::JobRunStatus::Queued,
        JobRunStatus::Running => pb::JobRunStatus::Running,
        JobRunStatus::Success => pb::JobRunStatus::Success,
        JobRunStatus::Failed => pb::JobRunStatus::Failed,
        JobRunStatus::Skipped => pb::JobRunStatus::Skipped,
    }
}

fn progress_message(progress: RefreshProgress) -> pb::Progress {
    pb::Progress {
        phase: serde_json::to_value(progress.phase)
            .ok()
            .and_then(|value| value.as_str().map(str::to_string))
            .unwrap_or_default(),
        schemas_done: progress.schemas_done as i64,
        schemas_total: progress.schemas_total as i64,
        tables_read: progress.tables_read as i64,
    }
}

fn snapshot_message(record: SnapshotRecord) -> pb::Snapshot {
    pb::Snapshot {
        id: record.id,
        created_at: record.created_at,
        tables: record.counts.tables,
        columns: record.counts.columns,
        change_count: record.change_count,
        breaking_change_count: record.breaking_change_count,
        warnings: record.warnings,
    }
}

fn change_message(snapshot_id: i64, change: Change) -> pb::Change {
    pb::Change {
        snapshot_id,
        kind: change.kind.as_str().to_string(),
        database: change.database,
        schema: change.schema.unwrap_or_default(),
        table: change.table.unwrap_or_default(),
        column: change.column.unwrap_or_default(),
        before: change.before.unwrap_or_default(),
        after: change.after.unwrap_or_default(),
        breaking: change.breaking,
    }
}

fn positive_id(value: i64, what: &str) -> Result<i64, Status> {
    if value <= 0 {
        return Err(Status::invalid_argument(format!(
            "{what} {value} is invalid; ids are positive numbers"
        )));
    }
    Ok(value)
}

/// Page tokens are `p<offset>`; anything else is INVALID_ARGUMENT.
fn page_offset(token: &str) -> Result<usize, Status> {
    if token.is_empty() {
        return Ok(0);
    }
    token
        .strip_prefix('p')
        .and_then(|offset| offset.parse::<usize>().ok())
        .ok_or_else(|| {
            Status::invalid_argument(format!(
                "invalid page token '{token}'; pass the next_page_token of the previous page"
            ))
        })
}

fn page_size(requested: u32, default: usize) -> usize {
    match requested as usize {
        0 => default,
        size => size.min(MAX_PAGE),
    }
}

fn next_token(offset: usize, taken: usize, total: usize) -> String {
    let next = offset + taken;
    if next < total {
        format!("p{next}")
    } else {
        String::new()
    }
}

type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl CrawlerService for GrpcService {
    async fn refresh_connection(
        &self,
        request: Request<pb::RefreshConnectionRequest>,
    ) -> Result<Response<pb::RefreshConnectionResponse>, Status> {
        let principal = self.authenticate(&request)?;
        let connection_id = positive_id(request.get_ref().connection_id, "connection id")?;
        let job_run = self
            .engine
            .request_refresh(&principal, connection_id)
            .map_err(to_status)?;
        Ok(Response::new(pb::RefreshConnectionResponse {
            started: true,
            job_run_id: job_run.id,
        }))
    }

    async fn get_connection(
        &self,
        request: Request<pb::GetConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let principal = self.authenticate(&request)?;
        let record = self.readable_connection(&principal, request.get_ref().connection_id)?;
        Ok(Response::new(self.connection(record)?))
    }

    async fn list_connections(
        &self,
        request: Request<pb::ListConnectionsRequest>,
    ) -> Result<Response<pb::ListConnectionsResponse>, Status> {
        let principal = self.authenticate(&request)?;
        let records = self
            .engine
            .readable_connections(&principal)
            .map_err(to_status)?;
        let connections = records
            .into_iter()
            .map(|record| self.connection(record))
            .collect::<Result<Vec<_>, Status>>()?;
        Ok(Response::new(pb::ListConnectionsResponse { connections }))
    }

    async fn create_connection(
        &self,
        request: Request<pb::CreateConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let principal = self.authenticate(&request)?;
        let message = request.into_inner();
        let description = Some(message.description.as_str()).filter(|text| !text.is_empty());
        let record = self
            .engine
            .create_connection(&principal, &message.name, &message.url, description)
            .map_err(to_status)?;
        Ok(Response::new(self.connection(record)?))
    }

    async fn update_connection(
        &self,
        request: Request<pb::UpdateConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let principal = self.authenticate(&request)?;
        let message = request.into_inner();
        let connection_id = positive_id(message.connection_id, "connection id")?;
        let record = self
            .engine
            .update_connection(
                &principal,
                connection_id,
                message.url.as_deref(),
                message.description.as_deref(),
            )
            .map_err(to_status)?;
        Ok(Response::new(self.connection(record)?))
    }

    async fn delete_connection(
        &self,
        request: Request<pb::DeleteConnectionRequest>,
    ) -> Result<Response<pb::DeleteConnectionResponse>, Status> {
        let principal = self.authenticate(&request)?;
        let connection_id = positive_id(request.get_ref().connection_id, "connection id")?;
        self.engine
            .delete_connection(&principal, connection_id)
            .map_err(to_status)?;
        Ok(Response::new(pb::DeleteConnectionResponse {}))
    }

    async fn get_job_run(
        &self,
        request: Request<pb::GetJobRunRequest>,
    ) -> Result<Response<pb::JobRun>, Status> {
        let principal = self.authenticate(&request)?;
        let job_run_id = positive_id(request.get_ref().job_run_id, "job run id")?;
        let run = self.engine.store().job_run(job_run_id).map_err(to_status)?;
        self.engine
            .readable_connection(&principal, run.connection_id)
            .map_err(to_status)?;
        Ok(Response::new(self.job_run(run)))
    }

    async fn list_job_runs(
        &self,
        request: Request<pb::ListJobRunsRequest>,
    ) -> Result<Response<pb::ListJobRunsResponse>, Status> {
        let principal = self.authenticate(&request)?;
        let connection = self.readable_connection(&principal, request.get_ref().connection_id)?;
        let limit = page_size(request.get_ref().limit, 50);
        let runs = self
            .engine
            .store()
            .list_job_runs(connection.id, limit)
            .map_err(to_status)?;
        Ok(Response::new(pb::ListJobRunsResponse {
            job_runs: runs.into_iter().map(|run| self.job_run(run)).collect(),
        }))
    }

    async fn cancel_job_run(
        &self,
        request: Request<pb::CancelJobRunRequest>,
    ) -> Result<Response<pb::JobRun>, Status> {
        let principal = self.authenticate(&request)?;
        let job_run_id = positive_id(request.get_ref().job_run_id, "job run id")?;
        let run = self
            .engine
            .cancel_job_run(&principal, job_run_id)
            .map_err(to_status)?;
        Ok(Response::new(self.job_run(run)))
    }

    async fn list_snapshots(
        &self,
        request: Request<pb::ListSnapshotsRequest>,
    ) -> Result<Response<pb::ListSnapshotsResponse>, Status> {
        let principal = self.authenticate(&request)?;
        let connection = self.readable_connection(&principal, request.get_ref().connection_id)?;
        let snapshots = self.engine.history(&connection.name).map_err(to_status)?;
        Ok(Response::new(pb::ListSnapshotsResponse {
            snapshots: snapshots.into_iter().map(snapshot_message).collect(),
        }))
    }

    async fn get_catalog(
        &self,
        request: Request<pb::GetCatalogRequest>,
    ) -> Result<Response<pb::GetCatalogResponse>, Status> {
        let principal = self.authenticate(&request)?;
        let message = request.into_inner();
        let offset = page_offset(&message.page_token)?;
        let size = page_size(message.page_size, CATALOG_PAGE);
        let connection = self.readable_connection(&principal, message.connection_id)?;
        let snapshot = Some(message.snapshot_id).filter(|id| *id > 0);
        let Some((snapshot, catalog)) = self
            .engine
            .catalog(&connection.name, snapshot)
            .map_err(to_status)?
        else {
            return Err(Status::failed_precondition(format!(
                "connection '{}' has no snapshot yet; refresh it first",
                connection.name
            )));
        };

        let mut tables = Vec::new();
        for database in catalog.databases {
            for schema in database.schemas {
                for table in schema.tables {
                    tables.push(pb::Table {
                        database: database.name.clone(),
                        schema: schema.name.clone(),
                        kind: table.kind.as_str().to_string(),
                        comment: table.comment.unwrap_or_default(),
                        definition: table.definition.unwrap_or_default(),
                        properties: table.properties.into_iter().collect(),
                        shards: table.shards.map(|shards| pb::ShardRange {
                            first: shards.first,
                            last: shards.last,
                            count: shards.count,
                        }),
                        last_altered: table.last_altered,
                        columns: table
                            .columns
                            .into_iter()
                            .map(|column| pb::Column {
                                ordinal: column.ordinal,
                                name: column.name,
                                data_type: column.data_type,
                                nullable: column.nullable,
                                default: column.default,
                                comment: column.comment,
                                primary_key: column.primary_key,
                                field_path: column.field_path,
                            })
                            .collect(),
                        name: table.name,
                    });
                }
            }
        }
        let total = tables.len();
        let page: Vec<pb::Table> = tables.into_iter().skip(offset).take(size).collect();
        Ok(Response::new(pb::GetCatalogResponse {
            snapshot_id: snapshot.id,
            next_page_token: next_token(offset, page.len(), total),
            tables: page,
        }))
    }

    async fn list_changes(
        &self,
        request: Request<pb::ListChangesRequest>,
    ) -> Result<Response<pb::ListChangesResponse>, Status> {
        let principal = self.authenticate(&request)?;
        let message = request.into_inner();
        let offset = page_offset(&message.page_token)?;
        let size = page_size(message.page_size, CHANGES_PAGE);
        let connection = self.readable_connection(&principal, message.connection_id)?;
        let up_to = if message.up_to_snapshot > 0 {
            message.up_to_snapshot
        } else {
            i64::MAX
        };
        let changes: Vec<pb::Change> = self
            .engine
            .store()
            .changes_between(connection.id, message.after_snapshot.max(0), up_to)
            .map_err(to_status)?
            .into_iter()
            .filter(|(_, change)| !message.breaking_only || change.breaking)
            .map(|(snapshot_id, change)| change_message(snapshot_id, change))
            .collect();
        let total = changes.len();
        let page: Vec<pb::Change> = changes.into_iter().skip(offset).take(size).collect();
        Ok(Response::new(pb::ListChangesResponse {
            next_page_token: next_token(offset, page.len(), total),
            changes: page,
        }))
    }

    type WatchJobRunStream = ResponseStream<pb::JobRun>;

    async fn watch_job_run(
        &self,
        request: Request<pb::WatchJobRunRequest>,
    ) -> Result<Response<Self::WatchJobRunStream>, Status> {
        let principal = self.authenticate(&request)?;
        let job_run_id = positive_id(request.get_ref().job_run_id, "job run id")?;
        let run = self.engine.store().job_run(job_run_id).map_err(to_status)?;
        self.engine
            .readable_connection(&principal, run.connection_id)
            .map_err(to_status)?;

        let (sender, receiver) = tokio::sync::mpsc::channel(16);
        let service = self.clone();
        tokio::spawn(async move {
            let mut last_sent: Option<pb::JobRun> = None;
            loop {
                let run = match service.engine.store().job_run(job_run_id) {
                    Ok(run) => run,
                    Err(error) => {
                        let _ = sender.send(Err(to_status(error))).await;
                        return;
                    }
                };
                let finished = matches!(
                    run.status,
                    JobRunStatus::Success | JobRunStatus::Failed | JobRunStatus::Skipped
                );
                let message = service.job_run(run);
                if last_sent.as_ref() != Some(&message) {
                    if sender.send(Ok(message.clone())).await.is_err() {
                        return;
                    }
                    last_sent = Some(message);
                }
                if finished {
                    return;
                }
                tokio::time::sleep(WATCH_INTERVAL).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    type FollowChangesStream = ResponseStream<pb::Change>;

    async fn follow_changes(
        &self,
        request: Request<pb::FollowChangesRequest>,
    ) -> Result<Response<Self::FollowChangesStream>, Status> {
        let principal = self.authenticate(&request)?;
        let message = request.into_inner();
        let connection = self.readable_connection(&principal, message.connection_id)?;
        let mut after = if message.after_snapshot > 0 {
            message.after_snapshot
        } else {
            self.engine
                .store()
                .latest_snapshot(connection.id)
                .map_err(to_status)?
                .map_or(0, |snapshot| snapshot.id)
        };

        let (sender, receiver) = tokio::sync::mpsc::channel(64);
        let engine = self.engine.clone();
        tokio::spawn(async move {
            loop {
                let changes = match engine
                    .store()
                    .changes_between(connection.id, after, i64::MAX)
                {
                    Ok(changes) => changes,
                    Err(error) => {
                        let _ = sender.send(Err(to_status(error))).await;
                        return;
                    }
                };
                let latest = engine
                    .store()
                    .latest_snapshot(connection.id)
                    .ok()
                    .flatten()
                    .map_or(after, |snapshot| snapshot.id);
                for (snapshot_id, change) in changes {
                    if sender
                        .send(Ok(change_message(snapshot_id, change)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                after = after.max(latest);
                if sender.is_closed() {
                    return;
                }
                tokio::time::sleep(FOLLOW_INTERVAL).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    async fn grant_data_administrator(
        &self,
        request: Request<pb::GrantDataAdministratorRequest>,
    ) -> Result<Response<pb::GrantDataAdministratorResponse>, Status> {
        let principal = self.authenticate(&request)?;
        let message = request.into_inner();
        let connection = self.connection_record(message.connection_id)?;
        self.engine
            .grant_data_administrator(&principal, &connection.name, &message.subject)
            .map_err(to_status)?;
        Ok(Response::new(pb::GrantDataAdministratorResponse {}))
    }

    async fn revoke_data_administrator(
        &self,
        request: Request<pb::RevokeDataAdministratorRequest>,
    ) -> Result<Response<pb::RevokeDataAdministratorResponse>, Status> {
        let principal = self.authenticate(&request)?;
        let message = request.into_inner();
        let connection = self.connection_record(message.connection_id)?;
        let revoked = self
            .engine
            .revoke_data_administrator(&principal, &connection.name, &message.subject)
            .map_err(to_status)?;
        Ok(Response::new(pb::RevokeDataAdministratorResponse {
            revoked,
        }))
    }
}
