//! The gRPC API over 127.0.0.1 with the generated tonic client: refresh,
//! watch, changes, live change events, status codes, health and reflection.

use crate::pg_support::fresh_database;
use crate::server::{Server, cli, hanging_port, token};
use crate::support::Workspace;
use metacrawl_proto::v1 as pb;
use metacrawl_proto::v1::crawler_service_client::CrawlerServiceClient;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic::transport::Channel;

async fn client(server: &Server) -> CrawlerServiceClient<Channel> {
    CrawlerServiceClient::connect(server.grpc.clone())
        .await
        .unwrap()
}

fn authorized<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn status_name(value: i32) -> &'static str {
    pb::JobRunStatus::try_from(value).map_or("invalid", |status| status.as_str_name())
}

#[tokio::test]
async fn grpc_refresh_watch_and_changes() {
    let database = fresh_database("grpc_refresh_watch_and_changes");
    database.execute("CREATE TABLE orders (order_id integer PRIMARY KEY, note text);");
    let workspace = Workspace::new();
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);
    let mut client = client(&server).await;

    let created = client
        .create_connection(authorized(
            pb::CreateConnectionRequest {
                name: "pg".to_string(),
                url: database.url(),
                description: "orders".to_string(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let first = client
        .refresh_connection(authorized(
            pb::RefreshConnectionRequest {
                connection_id: created.id,
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut watch = client
        .watch_job_run(authorized(
            pb::WatchJobRunRequest {
                job_run_id: first.job_run_id,
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut statuses = Vec::new();
    while let Some(run) = watch.next().await {
        statuses.push(status_name(run.unwrap().status));
    }

    let mut follow = client
        .follow_changes(authorized(
            pb::FollowChangesRequest {
                connection_id: created.id,
                after_snapshot: 0,
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    database.execute(
        "ALTER TABLE orders ADD COLUMN placed_at timestamptz; ALTER TABLE orders DROP COLUMN note;",
    );
    let second = client
        .refresh_connection(authorized(
            pb::RefreshConnectionRequest {
                connection_id: created.id,
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut live = Vec::new();
    for _ in 0..2 {
        let change = tokio::time::timeout(Duration::from_secs(20), follow.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        live.push(format!(
            "{} {}.{} {}",
            change.kind, change.table, change.column, change.breaking
        ));
    }
    let listed = client
        .list_changes(authorized(
            pb::ListChangesRequest {
                connection_id: created.id,
                after_snapshot: 1,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(statuses.last(), Some(&"JOB_RUN_STATUS_SUCCESS"));
    assert!(statuses.len() >= 2, "{statuses:?}");
    assert_ne!(second.job_run_id, first.job_run_id);
    assert_eq!(
        live,
        [
            "column_added orders.placed_at false",
            "column_dropped orders.note true"
        ]
    );
    let changes: Vec<(i64, String, String, String, String)> = listed
        .changes
        .into_iter()
        .map(|change| {
            (
                change.snapshot_id,
                change.kind,
                change.column,
                change.before,
                change.after,
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (
                2,
                "column_added".to_string(),
                "placed_at".to_string(),
                String::new(),
                "timestamp with time zone".to_string()
            ),
            (
                2,
                "column_dropped".to_string(),
                "note".to_string(),
                "text".to_string(),
                String::new()
            ),
        ]
    );
    assert_eq!(listed.next_page_token, "");
}

#[tokio::test]
async fn grpc_errors_use_status_codes() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(crate::support::MUSIC_SETUP);
    let first = cli(&workspace, &["connection", "add", "first", "--url", &url]);
    let second = cli(&workspace, &["connection", "add", "second", "--url", &url]);
    cli(
        &workspace,
        &["connection", "grant", "second", "--subject", "bob"],
    );
    let (port, hang) = hanging_port().await;
    let slow = cli(
        &workspace,
        &[
            "connection",
            "add",
            "slow",
            "--url",
            &format!("postgres://app@127.0.0.1:{port}/sales"),
        ],
    );
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);
    let bob = token(&workspace, "bob", false);
    let mut client = client(&server).await;
    let id = |text: &str| text.parse::<i64>().unwrap();

    client
        .refresh_connection(authorized(
            pb::RefreshConnectionRequest {
                connection_id: id(&slow),
            },
            &admin,
        ))
        .await
        .unwrap();
    let again = client
        .refresh_connection(authorized(
            pb::RefreshConnectionRequest {
                connection_id: id(&slow),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    let unauthenticated = client
        .get_connection(tonic::Request::new(pb::GetConnectionRequest {
            connection_id: id(&first),
        }))
        .await
        .unwrap_err();
    let bad_token = client
        .get_connection(authorized(
            pb::GetConnectionRequest {
                connection_id: id(&first),
            },
            "not-a-jwt",
        ))
        .await
        .unwrap_err();
    let other = client
        .refresh_connection(authorized(
            pb::RefreshConnectionRequest {
                connection_id: id(&first),
            },
            &bob,
        ))
        .await
        .unwrap_err();
    let unknown = client
        .get_connection(authorized(
            pb::GetConnectionRequest { connection_id: 999 },
            &admin,
        ))
        .await
        .unwrap_err();
    let malformed = client
        .get_connection(authorized(
            pb::GetConnectionRequest { connection_id: -4 },
            &admin,
        ))
        .await
        .unwrap_err();
    let bad_page = client
        .list_changes(authorized(
            pb::ListChangesRequest {
                connection_id: id(&second),
                page_token: "zz".to_string(),
                ..Default::default()
            },
            &bob,
        ))
        .await
        .unwrap_err();

    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    assert!(
        again
            .message()
            .starts_with("refresh already running for connection 'slow'"),
        "{again:?}"
    );
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
    assert_eq!(bad_token.code(), Code::Unauthenticated);
    assert_eq!(other.code(), Code::PermissionDenied);
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(bad_page.code(), Code::InvalidArgument);
    assert_eq!(
        bad_page.message(),
        "invalid page token 'zz'; pass the next_page_token of the previous page"
    );
    hang.abort();
}

#[tokio::test]
async fn grpc_health_and_reflection() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let workspace = Workspace::new();
    let server = Server::start(&workspace);

    let channel = Channel::from_shared(server.grpc.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel.clone());
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "metacrawl.v1.CrawlerService".to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();

    assert_eq!(serving.status, ServingStatus::Serving as i32);
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response: {response:?}");
    };
    let names: Vec<String> = list
        .service
        .into_iter()
        .map(|service| service.name)
        .collect();
    assert!(
        names.contains(&"metacrawl.v1.CrawlerService".to_string()),
        "{names:?}"
    );
}

#[tokio::test]
async fn grpc_cancels_running_job_run() {
    let workspace = Workspace::new();
    let (port, hang) = hanging_port().await;
    let slow = cli(
        &workspace,
        &[
            "connection",
            "add",
            "slow",
            "--url",
            &format!("postgres://app@127.0.0.1:{port}/sales"),
        ],
    );
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);
    let mut client = client(&server).await;
    let started = client
        .refresh_connection(authorized(
            pb::RefreshConnectionRequest {
                connection_id: slow.parse().unwrap(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    for _ in 0..100 {
        let run = client
            .get_job_run(authorized(
                pb::GetJobRunRequest {
                    job_run_id: started.job_run_id,
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        if run.status == pb::JobRunStatus::Running as i32 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    client
        .cancel_job_run(authorized(
            pb::CancelJobRunRequest {
                job_run_id: started.job_run_id,
            },
            &admin,
        ))
        .await
        .unwrap();
    let mut ended = None;
    for _ in 0..100 {
        let run = client
            .get_job_run(authorized(
                pb::GetJobRunRequest {
                    job_run_id: started.job_run_id,
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        if run.status == pb::JobRunStatus::Failed as i32 {
            ended = Some(run);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = client
        .cancel_job_run(authorized(
            pb::CancelJobRunRequest {
                job_run_id: started.job_run_id,
            },
            &admin,
        ))
        .await
        .unwrap_err();

    assert_eq!(ended.unwrap().error, "cancelled by alice");
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert_eq!(
        again.message(),
        format!(
            "job run {} cannot be cancelled: it already ended (FAILED)",
            started.job_run_id
        )
    );
    hang.abort();
}
