//! Connection URL of the BigQuery driver: `bigquery://PROJECT?OPTIONS`.
//!
//! | parameter | sets |
//! |---|---|
//! | `location=US` | query location for datasets whose own location is not listed (default: BigQuery picks it) |
//! | `key_file=PATH` | service-account key or application-default credentials (JSON); default `$GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's application-default file |
//! | `token_env=NAME` | environment variable holding an OAuth access token instead of a key |
//! | `include_datasets=a,b*` | dataset patterns to crawl (`*` and `?` wildcards) |
//! | `exclude_datasets=tmp_*` | dataset patterns to skip; their previous state is kept |
//! | `max_concurrency=4` | API requests in flight at once per connection |
//! | `max_retries=5` | retries of a request refused with 429, 5xx or `rateLimitExceeded` |
//! | `retry_delay_ms=1000` | wait before the first retry; doubled for each next one |
//! | `api_url=URL` | BigQuery v2 base URL, ending in `/bigquery/v2` |

use crate::patterns::{in_scope, split_patterns};
use metacrawl_engine::driver::{DriverError, DriverErrorKind};
use std::path::PathBuf;
use std::time::Duration;

/// Google's BigQuery v2 endpoint.
pub(crate) const DEFAULT_API_URL: &str = "https://bigquery.googleapis.com/bigquery/v2";

/// Source of the driver's access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// A service-account key file.
    KeyFile(PathBuf),
    /// An access token read from this environment variable at each request.
    TokenEnv(String),
    /// An authenticator given by the embedding program (see
    /// `BigQueryDriverFactory::with_authenticator`).
    Provided,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BigQueryConfig {
    pub(crate) project: String,
    pub(crate) location: Option<String>,
    pub(crate) credentials: Credentials,
    pub(crate) api_url: String,
    pub(crate) include_datasets: Vec<String>,
    pub(crate) exclude_datasets: Vec<String>,
    pub(crate) max_concurrency: usize,
    pub(crate) max_retries: u32,
    pub(crate) retry_delay: Duration,
}

fn invalid(message: impl Into<String>) -> DriverError {
    DriverError::new(DriverErrorKind::InvalidConfig, message)
}

/// Parses a connection URL. `provided_credentials` is true when the embedding
/// program supplies an authenticator, so no key or token option is needed.
pub(crate) fn parse(url: &str, provided_credentials: bool) -> Result<BigQueryConfig, DriverError> {
    let rest = url.strip_prefix("bigquery://").ok_or_else(|| {
        invalid(
            "expected bigquery://PROJECT[?OPTIONS], for example bigquery://my-project?location=US",
        )
    })?;
    let (project, query) = rest.split_once('?').unwrap_or((rest, ""));
    let project = project.trim_end_matches('/');
    if project.is_empty() || project.contains('/') {
        return Err(invalid(format!(
            "'{project}' is not a project id; expected bigquery://PROJECT[?OPTIONS], for example bigquery://my-project"
        )));
    }

    let mut config = BigQueryConfig {
        project: project.to_string(),
        location: None,
        credentials: Credentials::Provided,
        api_url: DEFAULT_API_URL.to_string(),
        include_datasets: Vec::new(),
        exclude_datasets: Vec::new(),
        max_concurrency: 4,
        max_retries: 5,
        retry_delay: Duration::from_millis(1000),
    };
    let mut key_file = None;
    let mut token_env = None;
    for parameter in query.split('&').filter(|parameter| !parameter.is_empty()) {
        let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        match key {
            "location" => config.location = Some(value.to_string()),
            "key_file" => key_file = Some(PathBuf::from(value)),
            "token_env" => token_env = Some(value.to_string()),
            "include_datasets" => config.include_datasets = split_patterns(value),
            "exclude_datasets" => config.exclude_datasets = split_patterns(value),
            "api_url" => config.api_url = value.trim_end_matches('/').to_string(),
            "max_concurrency" => config.max_concurrency = number(key, value, 1)?,
            "max_retries" => config.max_retries = number(key, value, 0)?,
            "retry_delay_ms" => {
                config.retry_delay = Duration::from_millis(number(key, value, 0)?);
            }
            other => {
                return Err(invalid(format!(
                    "unknown option '{other}'; the BigQuery driver takes location, key_file, token_env, \
                     include_datasets, exclude_datasets, max_concurrency, max_retries, retry_delay_ms and api_url"
                )));
            }
        }
    }
    if !config.api_url.ends_with("/bigquery/v2") {
        return Err(invalid(format!(
            "api_url '{}' must end in /bigquery/v2, for example http://127.0.0.1:9050/bigquery/v2",
            config.api_url
        )));
    }

    config.credentials = match (key_file, token_env) {
        (Some(_), Some(_)) => {
            return Err(invalid("key_file and token_env are both set; keep one"));
        }
        (Some(path), None) => Credentials::KeyFile(path),
        (None, Some(variable)) => {
            if std::env::var_os(&variable).is_none() {
                return Err(invalid(format!(
                    "token_env names '{variable}', which is not set; export it or use key_file"
                )));
            }
            Credentials::TokenEnv(variable)
        }
        (None, None) if provided_credentials => Credentials::Provided,
        (None, None) => match application_default_credentials() {
            Some(path) => Credentials::KeyFile(path),
            None => {
                return Err(invalid(
                    "no credentials: add key_file=PATH (a service-account key) or token_env=NAME \
                     (a variable holding an access token), set GOOGLE_APPLICATION_CREDENTIALS, or \
                     run gcloud auth application-default login",
                ));
            }
        },
    };
    if let Credentials::KeyFile(path) = &config.credentials
        && !path.is_file()
    {
        return Err(invalid(format!(
            "key_file '{}' does not exist; point it at the JSON key of a service account",
            path.display()
        )));
    }
    Ok(config)
}

/// Finds application-default credentials: the file named by
/// `GOOGLE_APPLICATION_CREDENTIALS`, else the one `gcloud auth
/// application-default login` writes. The metadata server of a cloud VM is
/// not asked.
fn application_default_credentials() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS") {
        return Some(PathBuf::from(path));
    }
    let config = match std::env::var_os("CLOUDSDK_CONFIG") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".config/gcloud"),
    };
    let path = config.join("application_default_credentials.json");
    path.is_file().then_some(path)
}

fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    key: &str,
    value: &str,
    minimum: T,
) -> Result<T, DriverError> {
    match value.parse::<T>() {
        Ok(number) if number >= minimum => Ok(number),
        _ => Err(invalid(format!(
            "{key}={value} is not a whole number of at least {minimum}"
        ))),
    }
}

impl BigQueryConfig {
    /// Returns whether the include and exclude patterns let a dataset be crawled.
    pub(crate) fn dataset_in_scope(&self, dataset: &str) -> bool {
        in_scope(&self.include_datasets, &self.exclude_datasets, dataset)
    }
}

#[cfg(test)]
mod tests {
    use super::{Credentials, DEFAULT_API_URL, parse};
    use std::time::Duration;

    #[test]
    fn parses_options() {
        let config = parse(
            "bigquery://shop-analytics?location=EU&token_env=HOME&exclude_datasets=tmp_*&max_concurrency=2&retry_delay_ms=10",
            false,
        )
        .unwrap();
        assert_eq!(config.project, "shop-analytics");
        assert_eq!(config.location.as_deref(), Some("EU"));
        assert_eq!(config.credentials, Credentials::TokenEnv("HOME".into()));
        assert_eq!(config.exclude_datasets, vec!["tmp_*"]);
        assert_eq!(config.max_concurrency, 2);
        assert_eq!(config.retry_delay, Duration::from_millis(10));
        assert_eq!(config.api_url, DEFAULT_API_URL);
        assert!(!config.dataset_in_scope("tmp_load"));
    }

    #[test]
    fn rejects_bad_urls() {
        let message = |url: &str| parse(url, true).unwrap_err().message;
        assert!(message("bigquery://").contains("is not a project id"));
        assert!(message("bigquery://p?colour=red").contains("unknown option 'colour'"));
        assert_eq!(
            message("bigquery://p?token_env=METACRAWL_TEST_UNSET_VARIABLE"),
            "token_env names 'METACRAWL_TEST_UNSET_VARIABLE', which is not set; export it or use key_file"
        );
        assert!(message("bigquery://p?max_concurrency=0").contains("max_concurrency=0"));
        assert!(message("bigquery://p?api_url=http://127.0.0.1:1").contains("/bigquery/v2"));
        assert!(
            parse("bigquery://p?key_file=a.json&token_env=T", true)
                .unwrap_err()
                .message
                .contains("both set")
        );
    }
}
