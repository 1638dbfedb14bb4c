//! Connection URL of the Snowflake driver:
//! `snowflake://USER@ACCOUNT/DATABASE?OPTIONS`.
//!
//! | parameter | sets |
//! |---|---|
//! | `warehouse=W`, `role=R` | session warehouse and role |
//! | `password_env=NAME` / `password_file=PATH` | password, from a variable or a file's first line |
//! | `private_key_file=PATH` | key-pair auth with an unencrypted PKCS#8 PEM key |
//! | `databases=all` | every database the role can see, instead of the URL's one |
//! | `include_databases`, `exclude_databases` | database patterns (`*` and `?` wildcards) |
//! | `include_schemas`, `exclude_schemas` | schema patterns; an excluded scope keeps its previous state |
//! | `base_url=URL` | send requests to another endpoint than `https://ACCOUNT.snowflakecomputing.com` |

use crate::patterns::{in_scope, split_patterns};
use metacrawl_engine::driver::{DriverError, DriverErrorKind};
use std::fmt;

/// Credentials of a Snowflake user.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Secret {
    Password(String),
    PrivateKeyPem(String),
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SnowflakeConfig {
    pub(crate) account: String,
    pub(crate) user: String,
    pub(crate) secret: Secret,
    /// The URL's database; `None` with `databases=all`.
    pub(crate) database: Option<String>,
    pub(crate) warehouse: Option<String>,
    pub(crate) role: Option<String>,
    pub(crate) include_databases: Vec<String>,
    pub(crate) exclude_databases: Vec<String>,
    pub(crate) include_schemas: Vec<String>,
    pub(crate) exclude_schemas: Vec<String>,
    pub(crate) base_url: Option<String>,
}

impl fmt::Debug for SnowflakeConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SnowflakeConfig")
            .field("account", &self.account)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("warehouse", &self.warehouse)
            .field("role", &self.role)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn invalid(message: impl Into<String>) -> DriverError {
    DriverError::new(DriverErrorKind::InvalidConfig, message)
}

const EXAMPLE: &str = "expected snowflake://USER@ACCOUNT/DATABASE?password_env=NAME, for example snowflake://loader@xy12345.eu-west-1/ANALYTICS?password_env=SNOWFLAKE_PASSWORD";

/// Parses a connection URL and reads the secret it names. A password written
/// inline in the URL is rejected: it would be stored with the connection.
pub(crate) fn parse(url: &str) -> Result<SnowflakeConfig, DriverError> {
    let rest = url
        .strip_prefix("snowflake://")
        .ok_or_else(|| invalid(EXAMPLE))?;
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (user, location) = location
        .split_once('@')
        .ok_or_else(|| invalid(format!("the URL names no user; {EXAMPLE}")))?;
    if user.contains(':') {
        return Err(invalid(
            "a password inside the URL is not accepted; use password_env=NAME or password_file=PATH",
        ));
    }
    let (account, database) = match location.split_once('/') {
        Some((account, database)) => (account, Some(database.trim_end_matches('/'))),
        None => (location, None),
    };
    if user.is_empty() || account.is_empty() {
        return Err(invalid(format!(
            "the URL names no user or account; {EXAMPLE}"
        )));
    }

    let mut config = SnowflakeConfig {
        account: account.to_string(),
        user: user.to_string(),
        secret: Secret::Password(String::new()),
        database: database
            .filter(|database| !database.is_empty())
            .map(str::to_string),
        warehouse: None,
        role: None,
        include_databases: Vec::new(),
        exclude_databases: Vec::new(),
        include_schemas: Vec::new(),
        exclude_schemas: Vec::new(),
        base_url: None,
    };
    let mut secret = None;
    let mut all_databases = false;
    for parameter in query.split('&').filter(|parameter| !parameter.is_empty()) {
        let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        match key {
            "warehouse" => config.warehouse = Some(value.to_string()),
            "role" => config.role = Some(value.to_string()),
            "password_env" => {
                let password = std::env::var(value).map_err(|_| {
                    invalid(format!(
                        "password_env names '{value}', which is not set; export it or use password_file"
                    ))
                })?;
                secret = Some(Secret::Password(password));
            }
            "password_file" => {
                let text = std::fs::read_to_string(value).map_err(|error| {
                    invalid(format!("cannot read password_file '{value}': {error}"))
                })?;
                secret = Some(Secret::Password(
                    text.lines().next().unwrap_or_default().to_string(),
                ));
            }
            "private_key_file" => {
                let pem = std::fs::read_to_string(value).map_err(|error| {
                    invalid(format!(
                        "cannot read private_key_file '{value}': {error}; point it at an unencrypted PKCS#8 PEM key"
                    ))
                })?;
                if !pem.trim_start().starts_with("-----BEGIN PRIVATE KEY-----") {
                    return Err(invalid(format!(
                        "private_key_file '{value}' is not an unencrypted PKCS#8 PEM key (one that \
                         starts with -----BEGIN PRIVATE KEY-----); convert it with openssl pkcs8 -topk8 -nocrypt"
                    )));
                }
                secret = Some(Secret::PrivateKeyPem(pem));
            }
            "databases" => match value {
                "all" => all_databases = true,
                "current" => all_databases = false,
                other => {
                    return Err(invalid(format!(
                        "databases={other} is not supported; use databases=current or databases=all"
                    )));
                }
            },
            "include_databases" => config.include_databases = split_patterns(value),
            "exclude_databases" => config.exclude_databases = split_patterns(value),
            "include_schemas" => config.include_schemas = split_patterns(value),
            "exclude_schemas" => config.exclude_schemas = split_patterns(value),
            "base_url" => config.base_url = Some(value.trim_end_matches('/').to_string()),
            other => {
                return Err(invalid(format!(
                    "unknown option '{other}'; the Snowflake driver takes warehouse, role, password_env, \
                     password_file, private_key_file, databases, include_databases, exclude_databases, \
                     include_schemas, exclude_schemas and base_url"
                )));
            }
        }
    }
    config.secret = secret.ok_or_else(|| {
        invalid(
            "no credentials: add password_env=NAME, password_file=PATH or private_key_file=PATH",
        )
    })?;
    if all_databases {
        config.database = None;
    } else if config.database.is_none() {
        return Err(invalid(format!(
            "the URL names no database; add it after the account or pass databases=all; {EXAMPLE}"
        )));
    }
    Ok(config)
}

impl SnowflakeConfig {
    /// Returns whether the patterns let a database be crawled.
    pub(crate) fn database_in_scope(&self, database: &str) -> bool {
        in_scope(&self.include_databases, &self.exclude_databases, database)
    }

    /// Returns whether the patterns let a schema be crawled.
    pub(crate) fn schema_in_scope(&self, schema: &str) -> bool {
        in_scope(&self.include_schemas, &self.exclude_schemas, schema)
    }
}

#[cfg(test)]
mod tests {
    use super::{Secret, parse};

    #[test]
    fn parses_account_database_and_options() {
        let path = std::env::temp_dir().join("metacrawl-snowflake-password-test");
        std::fs::write(&path, "s3cret\n").unwrap();
        let url = format!(
            "snowflake://loader@xy12345.eu-west-1/DEV_RAW?warehouse=WH&role=READER&password_file={}&exclude_schemas=TMP_*",
            path.display()
        );
        let config = parse(&url).unwrap();
        assert_eq!(config.account, "xy12345.eu-west-1");
        assert_eq!(config.user, "loader");
        assert_eq!(config.database.as_deref(), Some("DEV_RAW"));
        assert_eq!(config.warehouse.as_deref(), Some("WH"));
        assert_eq!(config.role.as_deref(), Some("READER"));
        assert!(config.secret == Secret::Password("s3cret".into()));
        assert!(!config.schema_in_scope("TMP_LOAD"));
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn rejects_bad_urls() {
        let message = |url: &str| parse(url).unwrap_err().message;
        assert!(message("snowflake://acct/DB").contains("names no user"));
        assert!(message("snowflake://u:pw@acct/DB").contains("password inside the URL"));
        assert!(message("snowflake://u@acct/DB").contains("no credentials"));
        assert!(
            message("snowflake://u@acct/DB?password_env=METACRAWL_TEST_UNSET_VARIABLE")
                .contains("is not set")
        );
        assert!(message("snowflake://u@acct/DB?colour=red").contains("unknown option 'colour'"));

        let path = std::env::temp_dir().join("metacrawl-snowflake-not-a-key-test");
        std::fs::write(&path, "-----BEGIN RSA PRIVATE KEY-----\n").unwrap();
        assert!(
            message(&format!(
                "snowflake://u@acct/DB?private_key_file={}",
                path.display()
            ))
            .contains("is not an unencrypted PKCS#8 PEM key")
        );
    }
}
