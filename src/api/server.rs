//! The HTTP server of `metacrawl serve`: `POST /graphql`, GraphiQL on
//! `GET /graphql`, `GET /healthz` and `GET /metrics`.

use super::auth::TokenVerifier;
use super::graphql::{ApiSchema, Authentication, build_schema, coded_error};
use super::metrics;
use async_graphql::http::GraphiQLSource;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use metacrawl_engine::Engine;
use metacrawl_engine::runner::ProgressBoard;
use std::sync::Arc;

/// Largest request body accepted at all, in bytes; larger bodies get 413.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest GraphQL query text accepted, in bytes; larger ones get BAD_USER_INPUT.
const MAX_QUERY_BYTES: usize = 16 * 1024;

#[derive(Clone)]
struct AppState {
    schema: ApiSchema,
    verifier: Arc<TokenVerifier>,
    engine: Engine,
}

/// Builds the router over an engine.
pub(crate) fn router(engine: Engine, board: ProgressBoard, verifier: Arc<TokenVerifier>) -> Router {
    let state = AppState {
        schema: build_schema(engine.clone(), board),
        verifier,
        engine,
    };
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(prometheus_metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn prometheus_metrics(State(state): State<AppState>) -> Response {
    let engine = state.engine.clone();
    match tokio::task::spawn_blocking(move || metrics::render(&engine)).await {
        Ok(Ok(text)) => {
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
        }
        Ok(Err(error)) => {
            tracing::error!(error = %error, "computing metrics failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(error) => {
            tracing::error!(error = %error, "the metrics task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Executes a GraphQL request body and returns the GraphQL response, errors included.
async fn graphql(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                coded_error(
                    "BAD_USER_INPUT",
                    format!(
                        "the body is not a GraphQL JSON request ({error}); send {{\"query\": \"...\"}}"
                    ),
                ),
            );
        }
    };
    if request.query.len() > MAX_QUERY_BYTES {
        return error_response(
            StatusCode::OK,
            coded_error(
                "BAD_USER_INPUT",
                format!(
                    "the query is {} bytes long; the limit is {MAX_QUERY_BYTES}",
                    request.query.len()
                ),
            ),
        );
    }

    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let authentication: Authentication = state.verifier.verify(authorization);
    if let Err(reason) = &authentication {
        tracing::info!(reason = %reason, "unauthenticated GraphQL request");
    }

    let mut response = state.schema.execute(request.data(authentication)).await;
    // Parse and validation errors (syntax, depth, complexity, unknown fields)
    // carry no code of their own: they are the caller's input.
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.get("code").is_some());
        if !has_code {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "BAD_USER_INPUT");
        }
    }
    axum::Json(response).into_response()
}

fn error_response(status: StatusCode, error: async_graphql::Error) -> Response {
    let response =
        async_graphql::Response::from_errors(vec![error.into_server_error(Default::default())]);
    (status, axum::Json(response)).into_response()
}
