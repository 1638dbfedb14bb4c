//! A Snowflake session on the snowflake-api crate: login, queries returned as
//! text rows whatever their wire format (Arrow or JSON), and errors turned
//! into driver outcomes that name the account and the cause.

use super::config::{Secret, SnowflakeConfig};
use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_schema::DataType;
use metacrawl_engine::driver::{DriverError, DriverErrorKind};
use reqwest_middleware::{Middleware, Next};
use snowflake_api::{
    AuthArgs, AuthType, CertificateArgs, PasswordArgs, QueryResult, SnowflakeApi,
    SnowflakeApiBuilder, SnowflakeApiError,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Queries slower than this are logged at WARN.
const SLOW_QUERY: Duration = Duration::from_secs(10);

/// Snowflake's error for an INFORMATION_SCHEMA query over too many objects.
pub(crate) const TOO_MUCH_DATA: &str = "090030";
/// Snowflake's error for a SHOW command past its 10,000-row limit.
pub(crate) const SHOW_LIMIT: &str = "090153";

/// Result rows of a query, every value as text, with the column names upper-cased.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    names: Vec<String>,
    pub(crate) rows: Vec<Vec<Option<String>>>,
}

impl Rows {
    /// Returns the index of a result column, by its upper-case name.
    pub(crate) fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|candidate| candidate == name)
    }

    pub(crate) fn set_names(&mut self, names: Vec<String>) {
        self.names = names;
    }

    /// Returns the value of a column in a row, `None` for NULL or a missing column.
    pub(crate) fn get<'a>(&self, row: &'a [Option<String>], name: &str) -> Option<&'a str> {
        let index = self.index(name)?;
        row.get(index)?.as_deref()
    }
}

/// A failed query or login.
#[derive(Debug, Clone)]
pub(crate) struct QueryError {
    /// Snowflake's error code (`090030`), when it sent one.
    pub(crate) code: Option<String>,
    pub(crate) kind: DriverErrorKind,
    pub(crate) message: String,
}

impl QueryError {
    pub(crate) fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub(crate) fn into_driver_error(self) -> DriverError {
        DriverError::new(self.kind, self.message)
    }
}

/// Sends requests for `ACCOUNT.snowflakecomputing.com` to another base URL;
/// other hosts (result chunks on cloud storage) are left alone.
struct Endpoint {
    base: reqwest::Url,
}

#[async_trait::async_trait]
impl Middleware for Endpoint {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let url = request.url_mut();
        if url
            .host_str()
            .is_some_and(|host| host.ends_with(".snowflakecomputing.com"))
        {
            let path = format!(
                "{}/{}",
                self.base.path().trim_end_matches('/'),
                url.path().trim_start_matches('/')
            );
            let query = url.query().map(str::to_string);
            *url = self.base.clone();
            url.set_path(&path);
            url.set_query(query.as_deref());
        }
        next.run(request, extensions).await
    }
}

/// A logged-in session (the login happens with the first query).
pub(crate) struct Client {
    api: SnowflakeApi,
    account: String,
    user: String,
    endpoint: String,
}

impl Client {
    /// Builds the session. `extra` is a middleware of the embedding program,
    /// run closest to the network.
    pub(crate) fn connect(
        config: &SnowflakeConfig,
        extra: Option<Arc<dyn Middleware>>,
    ) -> Result<Client, DriverError> {
        let invalid = |message: String| DriverError::new(DriverErrorKind::InvalidConfig, message);
        let endpoint = config
            .base_url
            .clone()
            .unwrap_or_else(|| format!("https://{}.snowflakecomputing.com", config.account));

        // The crate's own client logs every request body, the login password
        // included, when built with debug assertions. This one does not, and it
        // keeps the crate's retry of transient failures (three, backing off).
        let http = reqwest::Client::builder()
            .user_agent(concat!("metacrawl/", env!("CARGO_PKG_VERSION")))
            .gzip(true)
            .referer(false)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| invalid(format!("cannot build the HTTP client: {error}")))?;
        let retry =
            reqwest_retry::policies::ExponentialBackoff::builder().build_with_max_retries(3);
        let mut builder = reqwest_middleware::ClientBuilder::new(http).with(
            reqwest_retry::RetryTransientMiddleware::new_with_policy(retry),
        );
        if let Some(base) = &config.base_url {
            let base = reqwest::Url::parse(base).map_err(|error| {
                invalid(format!(
                    "base_url '{base}' is not a URL ({error}); include the scheme, for example http://127.0.0.1:8080"
                ))
            })?;
            builder = builder.with(Endpoint { base });
        }
        if let Some(extra) = extra {
            builder = builder.with_arc(extra);
        }

        let auth_type = match &config.secret {
            Secret::Password(password) => AuthType::Password(PasswordArgs {
                password: password.clone(),
            }),
            Secret::PrivateKeyPem(pem) => AuthType::Certificate(CertificateArgs {
                private_key_pem: pem.clone(),
            }),
        };
        let api = SnowflakeApiBuilder::new(AuthArgs {
            account_identifier: config.account.clone(),
            warehouse: config.warehouse.clone(),
            database: config.database.clone(),
            schema: None,
            username: config.user.clone(),
            role: config.role.clone(),
            auth_type,
        })
        .with_client(builder.build())
        .build()
        .map_err(|error| invalid(format!("cannot set up the Snowflake session: {error}")))?;
        Ok(Client {
            api,
            account: config.account.clone(),
            user: config.user.clone(),
            endpoint,
        })
    }

    /// Runs one statement and returns its rows as text.
    pub(crate) async fn query(&self, name: &str, sql: &str) -> Result<Rows, QueryError> {
        let started = Instant::now();
        let result = self
            .api
            .exec(sql)
            .await
            .map_err(|error| self.classify(error))?;
        let rows = match result {
            QueryResult::Arrow(batches) => arrow_rows(&batches).map_err(|message| QueryError {
                code: None,
                kind: DriverErrorKind::Query,
                message: format!("query {name} returned {message}"),
            })?,
            QueryResult::Json(json) => json_rows(&json),
            QueryResult::Empty => Rows::default(),
        };
        let elapsed = started.elapsed();
        if elapsed > SLOW_QUERY {
            tracing::warn!(
                query = name,
                rows = rows.rows.len(),
                elapsed_ms = elapsed.as_millis() as u64,
                "slow catalog query"
            );
        } else {
            tracing::debug!(
                query = name,
                rows = rows.rows.len(),
                elapsed_ms = elapsed.as_millis() as u64,
                "catalog query"
            );
        }
        Ok(rows)
    }

    fn classify(&self, error: SnowflakeApiError) -> QueryError {
        let account = &self.account;
        match error {
            SnowflakeApiError::ApiError(code, message) => {
                let kind = match code.as_str() {
                    TOO_MUCH_DATA | SHOW_LIMIT => DriverErrorKind::LimitExceeded,
                    // "does not exist or not authorized"
                    "002003" | "003001" => DriverErrorKind::PermissionDenied,
                    "390100" | "390144" | "394304" => DriverErrorKind::Authentication,
                    _ => DriverErrorKind::Query,
                };
                QueryError {
                    message: format!(
                        "Snowflake account {account} returned error {code}: {message}"
                    ),
                    code: Some(code),
                    kind,
                }
            }
            SnowflakeApiError::RequestError(error) => self.unreachable(&error),
            // The crate's AuthError is private, so its text separates a refused
            // login ("Failed to authenticate. Error code: ...") from a failed request.
            SnowflakeApiError::AuthError(error) => {
                let text = error.to_string();
                if text.contains("Error code: . Message: ") {
                    // The reply had neither the login fields nor an error code.
                    QueryError {
                        message: format!(
                            "the login reply of {} for account {account} could not be read; check \
                             that base_url is a Snowflake endpoint",
                            self.endpoint
                        ),
                        code: None,
                        kind: DriverErrorKind::Connection,
                    }
                } else if text.starts_with("Failed to authenticate") {
                    QueryError {
                        message: format!(
                            "Snowflake account {account} rejected the login of user {} ({text}); \
                             check its password_env, password_file or private_key_file",
                            self.user
                        ),
                        code: None,
                        kind: DriverErrorKind::Authentication,
                    }
                } else if chain_has_io_error(&error) || text.contains("error sending request") {
                    self.unreachable(&error)
                } else {
                    QueryError {
                        message: format!("Snowflake account {account}: login failed: {text}"),
                        code: None,
                        kind: DriverErrorKind::Authentication,
                    }
                }
            }
            other => QueryError {
                code: None,
                kind: DriverErrorKind::Query,
                message: format!("Snowflake account {account}: {other}"),
            },
        }
    }

    fn unreachable(&self, error: &dyn std::error::Error) -> QueryError {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        QueryError {
            code: None,
            kind: DriverErrorKind::Connection,
            message: format!(
                "cannot reach Snowflake account {} at {}: {text}; check the account (or base_url) \
                 and that the endpoint is reachable",
                self.account, self.endpoint
            ),
        }
    }
}

fn chain_has_io_error(error: &dyn std::error::Error) -> bool {
    let mut source = error.source();
    while let Some(cause) = source {
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}

fn json_rows(json: &snowflake_api::JsonResult) -> Rows {
    let names = json
        .schema
        .iter()
        .map(|field| field.name.to_uppercase())
        .collect();
    let rows = json
        .value
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|row| {
            row.as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|value| match value {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(text) => Some(text.clone()),
                    other => Some(other.to_string()),
                })
                .collect()
        })
        .collect();
    Rows { names, rows }
}

/// Reads Arrow batches whose columns are text. Other columns are NULL in the
/// rows: the catalog queries select text only, and the SHOW commands have
/// columns (timestamps, numbers) the driver does not read.
fn arrow_rows(batches: &[arrow_array::RecordBatch]) -> Result<Rows, String> {
    let mut result = Rows::default();
    for batch in batches {
        if result.names.is_empty() {
            result.names = batch
                .schema()
                .fields()
                .iter()
                .map(|field| field.name().to_uppercase())
                .collect();
        }
        for row in 0..batch.num_rows() {
            let values = batch
                .columns()
                .iter()
                .map(|column| {
                    if column.is_null(row) {
                        return None;
                    }
                    match column.data_type() {
                        DataType::Utf8 => Some(column.as_string::<i32>().value(row).to_string()),
                        DataType::LargeUtf8 => {
                            Some(column.as_string::<i64>().value(row).to_string())
                        }
                        DataType::Utf8View => Some(column.as_string_view().value(row).to_string()),
                        _ => None,
                    }
                })
                .collect();
            result.rows.push(values);
        }
    }
    Ok(result)
}
