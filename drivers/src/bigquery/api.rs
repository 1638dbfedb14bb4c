//! Calls to the BigQuery v2 REST API: credentials, bounded concurrency,
//! retries with backoff, paging, and errors turned into driver outcomes.
//!
//! SQL and `tables.list` go through gcp-bigquery-client. `datasets.list` is
//! parsed here: the crate's strict structs fail on a project without datasets,
//! whose reply has no `datasets` field.

use super::config::{BigQueryConfig, Credentials};
use gcp_bigquery_client::Client;
use gcp_bigquery_client::auth::Authenticator;
use gcp_bigquery_client::client_builder::ClientBuilder;
use gcp_bigquery_client::error::BQError;
use gcp_bigquery_client::model::get_query_results_parameters::GetQueryResultsParameters;
use gcp_bigquery_client::model::query_request::QueryRequest;
use gcp_bigquery_client::model::table_list_tables::TableListTables;
use gcp_bigquery_client::table::ListOptions;
use metacrawl_engine::driver::{DriverError, DriverErrorKind};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// OAuth scope of the driver's access tokens: metadata is only read.
const READ_ONLY_SCOPE: &str = "https://www.googleapis.com/auth/bigquery.readonly";

/// Rows requested per page of `datasets.list` and `tables.list` (the API's maximum).
const LIST_PAGE_SIZE: u64 = 1000;

/// Queries slower than this are logged at WARN.
const SLOW_QUERY: Duration = Duration::from_secs(10);

/// A failed API call, before it is given the scope it concerns.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    /// HTTP status, when the server replied.
    pub(crate) status: Option<u16>,
    /// First `errors[].reason` of Google's error body (`accessDenied`).
    pub(crate) reason: Option<String>,
    pub(crate) message: String,
}

impl ApiError {
    fn from_client(error: BQError) -> ApiError {
        match error {
            BQError::ResponseError { error } => ApiError {
                status: u16::try_from(error.error.code).ok(),
                reason: error
                    .error
                    .errors
                    .iter()
                    .find_map(|entry| entry.get("reason").cloned()),
                message: error.error.message,
            },
            BQError::RequestError(error) => ApiError {
                status: error.status().map(|status| status.as_u16()),
                reason: None,
                message: describe_request_error(&error),
            },
            // The crate's Display hides serde's message; Debug shows it.
            BQError::SerializationError(error) => ApiError {
                status: None,
                reason: None,
                message: format!("unexpected reply: {error:?}"),
            },
            BQError::AuthError(_) | BQError::YupAuthError(_) => ApiError {
                status: Some(401),
                reason: Some("authError".to_string()),
                message: error.to_string(),
            },
            BQError::NoToken => ApiError {
                status: Some(401),
                reason: Some("noToken".to_string()),
                message: "no access token".to_string(),
            },
            other => ApiError {
                status: None,
                reason: None,
                message: other.to_string(),
            },
        }
    }

    /// Returns whether sending the same request again after a wait may succeed.
    fn is_transient(&self) -> bool {
        matches!(self.status, Some(429 | 500 | 502 | 503 | 504))
            || matches!(
                self.reason.as_deref(),
                Some("rateLimitExceeded" | "backendError" | "internalError")
            )
    }

    fn describe(&self) -> String {
        match (self.status, &self.reason) {
            (Some(status), Some(reason)) => format!("{status} {reason}: {}", self.message),
            (Some(status), None) => format!("{status}: {}", self.message),
            _ => self.message.clone(),
        }
    }

    /// Turns the error into a driver outcome for `scope` (`project shop` or
    /// `dataset shop.raw`), with the fix where there is one.
    pub(crate) fn into_driver_error(self, scope: &str, project: &str) -> DriverError {
        let detail = self.describe();
        let (kind, message) = match (self.status, self.reason.as_deref()) {
            (Some(401), _) => (
                DriverErrorKind::Authentication,
                format!(
                    "BigQuery rejected the credentials for project {project} ({detail}); \
                     check the key_file or token_env of the connection"
                ),
            ),
            (Some(403), Some("accessDenied") | None) => (
                DriverErrorKind::PermissionDenied,
                format!(
                    "the credentials may not read {scope} ({detail}); grant the service account \
                     roles/bigquery.metadataViewer on it"
                ),
            ),
            (Some(404), _) => (
                DriverErrorKind::Vanished,
                format!(
                    "{scope} was not found; it may have been deleted while the crawl ran ({detail})"
                ),
            ),
            (_, Some("rateLimitExceeded" | "quotaExceeded")) | (Some(429), _) => (
                DriverErrorKind::LimitExceeded,
                format!(
                    "BigQuery kept refusing requests for {scope} over quota ({detail}); \
                     lower max_concurrency or raise max_retries"
                ),
            ),
            (None, _) => (
                DriverErrorKind::Connection,
                format!(
                    "cannot reach BigQuery for project {project}: {detail}; check api_url and that \
                     the endpoint is reachable"
                ),
            ),
            _ => (
                DriverErrorKind::Query,
                format!("BigQuery failed on {scope}: {detail}"),
            ),
        };
        DriverError::new(kind, message)
    }
}

/// Names the cause of a failed request, which reqwest keeps in its source chain.
fn describe_request_error(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Result rows of a query: one `Option<String>` per selected column.
pub(crate) type Rows = Vec<Vec<Option<String>>>;

/// An authenticated API client for one connection.
pub(crate) struct Api {
    client: Client,
    http: reqwest::Client,
    auth: Arc<dyn Authenticator>,
    config: BigQueryConfig,
    permits: Semaphore,
}

impl Api {
    /// Builds the client. `provided` is the embedding program's authenticator.
    pub(crate) async fn connect(
        config: BigQueryConfig,
        provided: Option<Arc<dyn Authenticator>>,
    ) -> Result<Api, DriverError> {
        let invalid = |message: String| DriverError::new(DriverErrorKind::InvalidConfig, message);
        let auth: Arc<dyn Authenticator> = match (&config.credentials, provided) {
            (Credentials::Provided, Some(auth)) => auth,
            (Credentials::Provided, None) => {
                return Err(invalid(
                    "no credentials: add key_file=PATH or token_env=NAME to the URL".to_string(),
                ));
            }
            (Credentials::TokenEnv(variable), _) => {
                if std::env::var_os(variable).is_none() {
                    return Err(invalid(format!(
                        "token_env names '{variable}', which is not set; export it or use key_file"
                    )));
                }
                Arc::new(EnvToken {
                    variable: variable.clone(),
                })
            }
            (Credentials::KeyFile(path), _) => {
                let authenticator = key_file_authenticator(path).await.map_err(invalid)?;
                Arc::new(KeyFileToken {
                    authenticator: Arc::new(authenticator),
                })
            }
        };

        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|error| invalid(format!("cannot build the HTTP client: {error}")))?;
        let client = ClientBuilder::new()
            .with_v2_base_url(config.api_url.clone())
            .with_client(http.clone())
            .build_from_authenticator(Arc::clone(&auth))
            .await
            .map_err(|error| {
                ApiError::from_client(error)
                    .into_driver_error(&format!("project {}", config.project), &config.project)
            })?;
        Ok(Api {
            client,
            http,
            auth,
            permits: Semaphore::new(config.max_concurrency),
            config,
        })
    }

    pub(crate) fn config(&self) -> &BigQueryConfig {
        &self.config
    }

    /// Runs one request under the concurrency limit, retrying transient
    /// failures with a doubling wait. Each retry is logged.
    async fn call<T, F, Fut>(&self, endpoint: &str, mut request: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mut delay = self.config.retry_delay;
        let mut attempt = 0;
        loop {
            let result = {
                // The semaphore is private to this client and never closed,
                // so acquiring cannot fail.
                let _permit = self.permits.acquire().await.ok();
                request().await
            };
            match result {
                Err(error) if error.is_transient() && attempt < self.config.max_retries => {
                    attempt += 1;
                    tracing::warn!(
                        request = endpoint,
                        error = %error.describe(),
                        attempt,
                        max_retries = self.config.max_retries,
                        delay_ms = delay.as_millis() as u64,
                        "BigQuery refused a request; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
                other => return other,
            }
        }
    }

    /// Lists every dataset of the project with its location, following page tokens.
    pub(crate) async fn list_datasets(&self) -> Result<Vec<(String, Option<String>)>, ApiError> {
        let url = format!(
            "{}/projects/{}/datasets",
            self.config.api_url,
            path_segment(&self.config.project)
        );
        let mut datasets = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let page = self
                .call("datasets.list", || {
                    self.get_json(&url, page_token.as_deref())
                })
                .await?;
            // An empty project's reply has no `datasets` field at all.
            if let Some(entries) = page.get("datasets").and_then(|value| value.as_array()) {
                for entry in entries {
                    let id = entry
                        .pointer("/datasetReference/datasetId")
                        .and_then(|value| value.as_str())
                        .ok_or_else(|| ApiError {
                            status: None,
                            reason: None,
                            message: format!(
                                "datasets.list returned an entry without datasetReference: {entry}"
                            ),
                        })?;
                    let location = entry["location"].as_str().map(str::to_string);
                    datasets.push((id.to_string(), location));
                }
            }
            page_token = next_token(page.get("nextPageToken"));
            if page_token.is_none() {
                return Ok(datasets);
            }
        }
    }

    async fn get_json(
        &self,
        url: &str,
        page_token: Option<&str>,
    ) -> Result<serde_json::Value, ApiError> {
        let token = self
            .auth
            .access_token()
            .await
            .map_err(ApiError::from_client)?;
        let mut query = vec![("maxResults", LIST_PAGE_SIZE.to_string())];
        if let Some(page_token) = page_token {
            query.push(("pageToken", page_token.to_string()));
        }
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .query(&query)
            .send()
            .await
            .map_err(|error| ApiError::from_client(BQError::RequestError(error)))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.map_err(|error| ApiError {
            status: Some(status.as_u16()),
            reason: None,
            message: format!("reply is not JSON: {}", describe_request_error(&error)),
        })?;
        if status.is_success() {
            return Ok(body);
        }
        Err(ApiError {
            status: Some(status.as_u16()),
            reason: body
                .pointer("/error/errors/0/reason")
                .and_then(|value| value.as_str())
                .map(str::to_string),
            message: body
                .pointer("/error/message")
                .and_then(|value| value.as_str())
                .unwrap_or("no error message")
                .to_string(),
        })
    }

    /// Lists every table of a dataset, following page tokens.
    pub(crate) async fn list_tables(
        &self,
        dataset: &str,
    ) -> Result<Vec<TableListTables>, ApiError> {
        let mut tables = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let page = self
                .call("tables.list", || async {
                    let mut options = ListOptions::default().max_results(LIST_PAGE_SIZE);
                    if let Some(token) = &page_token {
                        options = options.page_token(token.clone());
                    }
                    self.client
                        .table()
                        .list(&self.config.project, dataset, options)
                        .await
                        .map_err(ApiError::from_client)
                })
                .await?;
            tables.extend(page.tables.unwrap_or_default());
            page_token = page.next_page_token.filter(|token| !token.is_empty());
            if page_token.is_none() {
                return Ok(tables);
            }
        }
    }

    /// Runs a query in `location` (the connection's `location` option when
    /// `None`) and reads every page of its result.
    pub(crate) async fn query(
        &self,
        name: &str,
        sql: &str,
        location: Option<&str>,
    ) -> Result<Rows, ApiError> {
        let started = Instant::now();
        let location = location
            .map(str::to_string)
            .or_else(|| self.config.location.clone());
        let first = self
            .call(name, || async {
                let mut request = QueryRequest::new(sql);
                request.location = location.clone();
                self.client
                    .job()
                    .query(&self.config.project, request)
                    .await
                    .map_err(ApiError::from_client)
            })
            .await?;

        // Later pages, and the result of a job not complete yet, come from getQueryResults.
        let mut rows = cells(first.rows);
        let job = first.job_reference.unwrap_or_default();
        let job_id = job.job_id.unwrap_or_default();
        let location = job.location.or(location);
        let mut complete = first.job_complete.unwrap_or(true);
        let mut page_token = first.page_token.filter(|token| !token.is_empty());
        let mut pages = 1;
        while !complete || page_token.is_some() {
            if job_id.is_empty() {
                return Err(ApiError {
                    status: None,
                    reason: None,
                    message: format!("query {name} has more results but no job id"),
                });
            }
            let page = self
                .call(name, || async {
                    let parameters = GetQueryResultsParameters {
                        location: location.clone(),
                        page_token: page_token.clone(),
                        timeout_ms: Some(10_000),
                        ..GetQueryResultsParameters::default()
                    };
                    self.client
                        .job()
                        .get_query_results(&self.config.project, &job_id, parameters)
                        .await
                        .map_err(ApiError::from_client)
                })
                .await?;
            complete = page.job_complete.unwrap_or(true);
            if complete {
                rows.extend(cells(page.rows));
                pages += 1;
                page_token = page.page_token.filter(|token| !token.is_empty());
            }
        }

        let elapsed = started.elapsed();
        if elapsed > SLOW_QUERY {
            tracing::warn!(
                query = name,
                rows = rows.len(),
                pages,
                elapsed_ms = elapsed.as_millis() as u64,
                "slow catalog query"
            );
        } else {
            tracing::debug!(
                query = name,
                rows = rows.len(),
                pages,
                elapsed_ms = elapsed.as_millis() as u64,
                "catalog query"
            );
        }
        Ok(rows)
    }
}

fn next_token(value: Option<&serde_json::Value>) -> Option<String> {
    value
        .and_then(|value| value.as_str())
        .filter(|token| !token.is_empty())
        .map(str::to_string)
}

fn cells(rows: Option<Vec<gcp_bigquery_client::model::table_row::TableRow>>) -> Rows {
    rows.unwrap_or_default()
        .into_iter()
        .map(|row| {
            row.columns
                .unwrap_or_default()
                .into_iter()
                .map(|cell| match cell.value {
                    Some(serde_json::Value::String(text)) => Some(text),
                    Some(serde_json::Value::Null) | None => None,
                    Some(other) => Some(other.to_string()),
                })
                .collect()
        })
        .collect()
}

/// Percent-encodes a project id for a URL path (ids may hold `:` and `.`).
fn path_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Builds a token source from a credentials file: a service-account key, or
/// the user credentials `gcloud auth application-default login` writes.
async fn key_file_authenticator(
    path: &std::path::Path,
) -> Result<gcp_bigquery_client::yup_oauth2::authenticator::DefaultAuthenticator, String> {
    use gcp_bigquery_client::yup_oauth2;
    let unreadable = |error: std::io::Error| {
        format!(
            "cannot read the credentials file '{}': {error}; point key_file at the JSON key of a \
             service account or at application-default credentials",
            path.display()
        )
    };
    let text = tokio::fs::read_to_string(path).await.map_err(unreadable)?;
    let kind = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|value| value["type"].as_str().map(str::to_string));
    // NOTE: the tests cover service-account keys only: user credentials always
    // fetch tokens from Google's endpoint, which tests must not reach.
    let built = if kind.as_deref() == Some("authorized_user") {
        let secret = yup_oauth2::read_authorized_user_secret(path)
            .await
            .map_err(unreadable)?;
        yup_oauth2::AuthorizedUserAuthenticator::builder(secret)
            .build()
            .await
    } else {
        let key = yup_oauth2::read_service_account_key(path)
            .await
            .map_err(unreadable)?;
        yup_oauth2::ServiceAccountAuthenticator::builder(key)
            .build()
            .await
    };
    built.map_err(|error| {
        format!(
            "the credentials file '{}' is unusable: {error}",
            path.display()
        )
    })
}

/// Access token taken from an environment variable at each request.
#[derive(Clone)]
struct EnvToken {
    variable: String,
}

#[async_trait::async_trait]
impl Authenticator for EnvToken {
    async fn access_token(&self) -> Result<String, BQError> {
        std::env::var(&self.variable).map_err(|_| BQError::NoToken)
    }
}

/// Access token of a service account, refreshed by yup-oauth2 when it expires.
#[derive(Clone)]
struct KeyFileToken {
    authenticator: Arc<gcp_bigquery_client::yup_oauth2::authenticator::DefaultAuthenticator>,
}

#[async_trait::async_trait]
impl Authenticator for KeyFileToken {
    async fn access_token(&self) -> Result<String, BQError> {
        let token = self.authenticator.token(&[READ_ONLY_SCOPE]).await?;
        token.token().map(str::to_string).ok_or(BQError::NoToken)
    }
}
