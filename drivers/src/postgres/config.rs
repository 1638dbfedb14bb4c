//! Connection URL of the Postgres driver: `postgres://` or `postgresql://`,
//! as libpq spells it, plus metacrawl's own query parameters, which are
//! removed before the URL reaches tokio-postgres:
//!
//! | parameter | sets |
//! |---|---|
//! | `password_file=PATH` | file whose first line is the password |
//! | `password_env=NAME` | environment variable holding the password |
//! | `databases=current` or `all` | the URL's database (default), or every database the role may CONNECT to |
//! | `include_schemas=a,b*` | schema patterns to crawl (`*` and `?` wildcards) |
//! | `exclude_schemas=tmp_*` | schema patterns to skip; their previous state is kept |
//! | `sslmode`, `sslrootcert` | TLS as libpq does it (see `tls.rs`); default `prefer` |

use super::tls::TlsMode;
use crate::patterns::{in_scope, split_patterns};
use metacrawl_engine::driver::{DriverError, DriverErrorKind};
use std::str::FromStr;

/// Which databases a connection covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DatabaseScope {
    Current,
    All,
}

/// Parsed connection settings. `Debug` never shows the password.
#[derive(Clone)]
pub(crate) struct PostgresConfig {
    pub(crate) connect: tokio_postgres::Config,
    pub(crate) tls: TlsMode,
    pub(crate) databases: DatabaseScope,
    pub(crate) include_schemas: Vec<String>,
    pub(crate) exclude_schemas: Vec<String>,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PostgresConfig")
            .field("user", &self.connect.get_user())
            .field("hosts", &self.connect.get_hosts())
            .field("dbname", &self.connect.get_dbname())
            .field("databases", &self.databases)
            .field("include_schemas", &self.include_schemas)
            .field("exclude_schemas", &self.exclude_schemas)
            .finish_non_exhaustive()
    }
}

fn invalid(message: impl Into<String>) -> DriverError {
    DriverError::new(DriverErrorKind::InvalidConfig, message)
}

/// Parses a connection URL. Reads the password file or variable it names.
pub(crate) fn parse(url: &str) -> Result<PostgresConfig, DriverError> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };

    let mut passed_on = Vec::new();
    let mut password_file = None;
    let mut password_env = None;
    let mut databases = DatabaseScope::Current;
    let mut include_schemas = Vec::new();
    let mut exclude_schemas = Vec::new();
    let mut sslmode = None;
    let mut sslrootcert = None;
    for parameter in query.split('&').filter(|parameter| !parameter.is_empty()) {
        let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        match key {
            "password_file" => password_file = Some(value.to_string()),
            "password_env" => password_env = Some(value.to_string()),
            "databases" => {
                databases = match value {
                    "current" => DatabaseScope::Current,
                    "all" => DatabaseScope::All,
                    other => {
                        return Err(invalid(format!(
                            "databases={other} is not supported; use databases=current or databases=all"
                        )));
                    }
                }
            }
            "include_schemas" => include_schemas = split_patterns(value),
            "exclude_schemas" => exclude_schemas = split_patterns(value),
            // tokio-postgres supports disable, prefer and require only, so the
            // connector makes the certificate checks of verify-ca and verify-full.
            "sslmode" => sslmode = Some(value.to_string()),
            "sslrootcert" => sslrootcert = Some(value.to_string()),
            _ => passed_on.push(parameter.to_string()),
        }
    }

    let tls = TlsMode::parse(sslmode.as_deref(), sslrootcert.as_deref())?;
    passed_on.push(format!("sslmode={}", tls.client_mode()));
    let rebuilt = if passed_on.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", passed_on.join("&"))
    };
    let mut connect = tokio_postgres::Config::from_str(&rebuilt).map_err(|error| {
        invalid(format!(
            "{error}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?OPTIONS]"
        ))
    })?;
    if connect.get_dbname().is_none() {
        return Err(invalid(
            "the URL names no database; add it after the host, for example postgres://app@db:5432/sales",
        ));
    }

    if let Some(path) = password_file {
        let text = std::fs::read_to_string(&path)
            .map_err(|error| invalid(format!("cannot read password_file '{path}': {error}")))?;
        let password = text.lines().next().unwrap_or_default();
        connect.password(password);
    }
    if let Some(variable) = password_env {
        let password = std::env::var(&variable).map_err(|_| {
            invalid(format!(
                "password_env names '{variable}', which is not set; export it or use password_file"
            ))
        })?;
        connect.password(password);
    }

    connect.application_name("metacrawl");

    Ok(PostgresConfig {
        connect,
        tls,
        databases,
        include_schemas,
        exclude_schemas,
    })
}

impl PostgresConfig {
    /// Whether the include and exclude patterns let a schema be crawled.
    pub(crate) fn schema_in_scope(&self, schema: &str) -> bool {
        in_scope(&self.include_schemas, &self.exclude_schemas, schema)
    }
}

#[cfg(test)]
mod tests {
    use super::{DatabaseScope, parse};

    #[test]
    fn parse_removes_own_parameters() {
        let config = parse(
            "postgres://app:secret@127.0.0.1:5433/sales?databases=all&exclude_schemas=tmp_*,audit&connect_timeout=5",
        )
        .unwrap();
        assert_eq!(config.databases, DatabaseScope::All);
        assert_eq!(config.exclude_schemas, vec!["tmp_*", "audit"]);
        assert_eq!(config.connect.get_dbname(), Some("sales"));
        assert_eq!(config.connect.get_password(), Some(&b"secret"[..]));
    }

    #[test]
    fn parse_requires_a_database() {
        let error = parse("postgres://app@127.0.0.1:5433").unwrap_err();
        assert!(error.message.contains("names no database"), "{error}");
    }

    #[test]
    fn parse_rejects_missing_password_variable() {
        let error =
            parse("postgresql://app@127.0.0.1/sales?password_env=METACRAWL_TEST_UNSET_VARIABLE")
                .unwrap_err();
        assert_eq!(
            error.message,
            "password_env names 'METACRAWL_TEST_UNSET_VARIABLE', which is not set; export it or use password_file"
        );
    }

    #[test]
    fn debug_hides_password() {
        let config = parse("postgres://app:hunter2@127.0.0.1/sales").unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
