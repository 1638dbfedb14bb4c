//! `metacrawl serve`, `metacrawl token` and `metacrawl graphql-schema`.

use crate::api::auth::{ADMIN_ROLE, Claims, TokenVerifier, VerificationKey, mint_hs256};
use crate::api::grpc::GrpcService;
use crate::api::{graphql, server};
use crate::cli::{ServeArgs, TokenArgs};
use crate::config::ConfigFile;
use crate::drivers;
use anyhow::Context as _;
use metacrawl_engine::runner::{JobRunner, RunnerOptions};
use metacrawl_engine::{Engine, EngineError, Principal};
use metacrawl_proto::v1::crawler_service_server::CrawlerServiceServer;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const DEFAULT_GRAPHQL_ADDR: &str = "127.0.0.1:8080";
const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:50051";
const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 30;

/// Returns the GraphQL schema in SDL.
pub(crate) fn schema_sdl() -> String {
    async_graphql::Schema::build(
        graphql::Query::default(),
        graphql::Mutation::default(),
        async_graphql::EmptySubscription,
    )
    .finish()
    .sdl()
}

/// Prints a development token signed with the configured HS256 secret.
pub(crate) fn print_token(config: &ConfigFile, args: &TokenArgs) -> anyhow::Result<()> {
    let settings = config.auth.resolve()?;
    let VerificationKey::Hs256 { secret } = &settings.key else {
        anyhow::bail!(
            "`metacrawl token` signs with HS256 only; the server is configured for another algorithm"
        );
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    let claims = Claims {
        sub: args.sub.clone(),
        exp: now + args.ttl_secs,
        roles: if args.admin {
            vec![ADMIN_ROLE.to_string()]
        } else {
            Vec::new()
        },
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
    };
    println!("{}", mint_hs256(secret, &claims)?);
    Ok(())
}

/// Serves the GraphQL API and runs queued refreshes until SIGINT or SIGTERM.
pub(crate) async fn run(config: ConfigFile, store: &Path, args: &ServeArgs) -> anyhow::Result<()> {
    let settings = config.auth.resolve()?;
    let verifier = TokenVerifier::new(
        &settings.key,
        settings.issuer.as_deref(),
        settings.audience.as_deref(),
    )?;
    let engine = Engine::open(store, drivers::builtin_registry())?;
    declare_connections(&engine, &config)?;

    let environment = |name: &str| std::env::var(name).ok();
    let options = RunnerOptions {
        concurrency: environment("METACRAWL_CONCURRENCY")
            .and_then(|value| value.parse::<usize>().ok())
            .or(config.server.concurrency)
            .unwrap_or(RunnerOptions::default().concurrency),
        job_timeout: environment("METACRAWL_JOB_TIMEOUT_SECS")
            .and_then(|value| value.parse::<u64>().ok())
            .or(config.server.job_timeout_secs)
            .map(Duration::from_secs),
        shutdown_grace: Duration::from_secs(
            config
                .server
                .shutdown_grace_secs
                .unwrap_or(DEFAULT_SHUTDOWN_GRACE_SECS),
        ),
    };
    let runner = JobRunner::start(engine.clone(), options)?;

    let graphql_address = args
        .graphql_addr
        .clone()
        .or(config.server.graphql_addr.clone())
        .unwrap_or_else(|| DEFAULT_GRAPHQL_ADDR.to_string());
    let grpc_address = args
        .grpc_addr
        .clone()
        .or(config.server.grpc_addr.clone())
        .unwrap_or_else(|| DEFAULT_GRPC_ADDR.to_string());
    let graphql_listener = tokio::net::TcpListener::bind(&graphql_address)
        .await
        .with_context(|| {
            format!("cannot listen on {graphql_address}; pass another --graphql-addr HOST:PORT")
        })?;
    let grpc_listener = tokio::net::TcpListener::bind(&grpc_address)
        .await
        .with_context(|| {
            format!("cannot listen on {grpc_address}; pass another --grpc-addr HOST:PORT")
        })?;
    let graphql_local = graphql_listener.local_addr()?;
    let grpc_local = grpc_listener.local_addr()?;
    tracing::info!(
        graphql = %graphql_local,
        grpc = %grpc_local,
        store = %store.display(),
        concurrency = options.concurrency,
        "metacrawl serving"
    );
    eprintln!("metacrawl serving GraphQL on http://{graphql_local}/graphql");
    eprintln!("metacrawl serving gRPC on {grpc_local}");

    // One signal stops both servers.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let wait_for_stop = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };

    let verifier = Arc::new(verifier);
    let router = server::router(
        engine.clone(),
        runner.progress_board(),
        Arc::clone(&verifier),
    );
    let graphql_server = axum::serve(graphql_listener, router)
        .with_graceful_shutdown(wait_for_stop(stopped.clone()));

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<CrawlerServiceServer<GrpcService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(metacrawl_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("building the gRPC reflection service failed")?;
    let crawler = GrpcService::new(engine, runner.progress_board(), verifier);
    let grpc_server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(reflection)
        .add_service(CrawlerServiceServer::new(crawler))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(grpc_listener),
            wait_for_stop(stopped),
        );

    let (graphql_result, grpc_result) = tokio::join!(graphql_server, grpc_server);
    graphql_result.context("the GraphQL server failed")?;
    grpc_result.context("the gRPC server failed")?;

    tracing::info!(
        grace_secs = options.shutdown_grace.as_secs(),
        "shutting down; waiting for running refreshes"
    );
    runner.shutdown().await;
    tracing::info!("metacrawl stopped");
    Ok(())
}

/// Adds the connections the config declares and the store lacks, with their grants.
fn declare_connections(engine: &Engine, config: &ConfigFile) -> anyhow::Result<()> {
    for declared in &config.connections {
        match engine.add_connection(
            &declared.name,
            &declared.url,
            declared.description.as_deref(),
        ) {
            Ok(record) => {
                tracing::info!(connection_id = record.id, connection = %record.name, "declared connection added")
            }
            Err(EngineError::ConnectionExists { .. }) => {}
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("config connection '{}'", declared.name));
            }
        }
        for subject in &declared.data_administrators {
            engine.grant_data_administrator(&Principal::system(), &declared.name, subject)?;
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(error = %error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received");
}
