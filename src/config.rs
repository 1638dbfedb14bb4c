//! `metacrawl.toml`: the server's settings and declared connections.
//!
//! Every setting can be overridden by an environment variable, and some by a
//! command-line flag (flag > variable > file > default):
//!
//! | setting | variable | default |
//! |---|---|---|
//! | `store` | `METACRAWL_STORE` | `metacrawl.db` |
//! | `[server] graphql_addr` | `METACRAWL_GRAPHQL_ADDR` | `127.0.0.1:8080` |
//! | `[server] grpc_addr` | `METACRAWL_GRPC_ADDR` | `127.0.0.1:50051` |
//! | `[server] concurrency` | `METACRAWL_CONCURRENCY` | 4 |
//! | `[server] job_timeout_secs` | `METACRAWL_JOB_TIMEOUT_SECS` | none |
//! | `[server] shutdown_grace_secs` | | 30 |
//! | `[auth] algorithm` | `METACRAWL_JWT_ALGORITHM` | `HS256` |
//! | `[auth] hs256_secret` | `METACRAWL_JWT_SECRET` | none (required for HS256) |
//! | `[auth] public_key_file` | `METACRAWL_JWT_PUBLIC_KEY_FILE` | none (required for RS256, ES256) |
//! | `[auth] issuer`, `[auth] audience` | `METACRAWL_JWT_ISSUER`, `METACRAWL_JWT_AUDIENCE` | not checked |

use crate::api::auth::VerificationKey;
use anyhow::{Context as _, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The parsed file; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    pub(crate) store: Option<PathBuf>,
    #[serde(default)]
    pub(crate) server: ServerSection,
    #[serde(default)]
    pub(crate) auth: AuthSection,
    #[serde(default)]
    pub(crate) connections: Vec<DeclaredConnection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerSection {
    pub(crate) graphql_addr: Option<String>,
    pub(crate) grpc_addr: Option<String>,
    pub(crate) concurrency: Option<usize>,
    pub(crate) job_timeout_secs: Option<u64>,
    pub(crate) shutdown_grace_secs: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthSection {
    pub(crate) algorithm: Option<String>,
    pub(crate) hs256_secret: Option<String>,
    pub(crate) public_key_file: Option<PathBuf>,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
}

impl std::fmt::Debug for AuthSection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AuthSection")
            .field("algorithm", &self.algorithm)
            .field("hs256_secret", &self.hs256_secret.as_ref().map(|_| "***"))
            .field("public_key_file", &self.public_key_file)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

/// A connection declared in the file; added at start-up when missing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeclaredConnection {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) description: Option<String>,
    /// Subjects granted data administration of this connection.
    #[serde(default)]
    pub(crate) data_administrators: Vec<String>,
}

impl std::fmt::Debug for DeclaredConnection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DeclaredConnection")
            .field("name", &self.name)
            .field("url", &metacrawl_engine::redact::redact_url(&self.url))
            .finish_non_exhaustive()
    }
}

/// Reads the file at `path`; a missing file is an empty configuration unless
/// `required`.
pub(crate) fn load(path: &Path, required: bool) -> anyhow::Result<ConfigFile> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(ConfigFile::default());
        }
        Err(error) => {
            return Err(error)
                .with_context(|| format!("cannot read config file '{}'", path.display()));
        }
    };
    toml::from_str(&text).with_context(|| format!("invalid config file '{}'", path.display()))
}

fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Settings of the token verifier, after environment overrides.
pub(crate) struct AuthSettings {
    pub(crate) key: VerificationKey,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
}

impl AuthSection {
    /// Resolves the verification key from the file and the environment.
    pub(crate) fn resolve(&self) -> anyhow::Result<AuthSettings> {
        let algorithm = variable("METACRAWL_JWT_ALGORITHM")
            .or_else(|| self.algorithm.clone())
            .unwrap_or_else(|| "HS256".to_string());
        let public_key = || -> anyhow::Result<Vec<u8>> {
            let path = variable("METACRAWL_JWT_PUBLIC_KEY_FILE")
                .map(PathBuf::from)
                .or_else(|| self.public_key_file.clone())
                .with_context(|| format!("{algorithm} needs [auth] public_key_file (or METACRAWL_JWT_PUBLIC_KEY_FILE)"))?;
            std::fs::read(&path)
                .with_context(|| format!("cannot read public key file '{}'", path.display()))
        };
        let key = match algorithm.to_ascii_uppercase().as_str() {
            "HS256" => {
                let secret = variable("METACRAWL_JWT_SECRET")
                    .or_else(|| self.hs256_secret.clone())
                    .context(
                        "HS256 needs a secret: set METACRAWL_JWT_SECRET or [auth] hs256_secret",
                    )?;
                if secret.len() < 32 {
                    bail!(
                        "the HS256 secret is {} bytes long; use at least 32 random bytes",
                        secret.len()
                    );
                }
                VerificationKey::Hs256 {
                    secret: secret.into_bytes(),
                }
            }
            "RS256" => VerificationKey::Rs256 {
                public_key_pem: public_key()?,
            },
            "ES256" => VerificationKey::Es256 {
                public_key_pem: public_key()?,
            },
            other => bail!("unsupported [auth] algorithm '{other}'; use HS256, RS256 or ES256"),
        };
        Ok(AuthSettings {
            key,
            issuer: variable("METACRAWL_JWT_ISSUER").or_else(|| self.issuer.clone()),
            audience: variable("METACRAWL_JWT_AUDIENCE").or_else(|| self.audience.clone()),
        })
    }
}
