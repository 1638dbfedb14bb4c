//! metacrawl-drivers: warehouse drivers behind the engine's `Driver` trait,
//! each behind a cargo feature of the same name.
//!
//! | driver | feature | URL |
//! |---|---|---|
//! | SQLite | `sqlite` | `sqlite://PATH` |
//! | Postgres | `postgres` | `postgres://USER@HOST:PORT/DATABASE` |
//! | BigQuery | `bigquery` | `bigquery://PROJECT` |
//! | Snowflake | `snowflake` | `snowflake://USER@ACCOUNT/DATABASE` |

#[cfg(feature = "bigquery")]
pub mod bigquery;
#[cfg(any(feature = "postgres", feature = "bigquery", feature = "snowflake"))]
mod patterns;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "snowflake")]
pub mod snowflake;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use metacrawl_engine::DriverRegistry;

/// Registers every driver compiled into this build, and records the others so
/// that their URLs fail with the cargo feature to enable.
pub fn register_builtin(registry: &mut DriverRegistry) {
    #[cfg(feature = "sqlite")]
    registry.register(std::sync::Arc::new(sqlite::SqliteDriverFactory));
    #[cfg(not(feature = "sqlite"))]
    registry.register_compiled_out("sqlite", "sqlite", &["sqlite"]);
    #[cfg(feature = "postgres")]
    registry.register(std::sync::Arc::new(postgres::PostgresDriverFactory));
    #[cfg(not(feature = "postgres"))]
    registry.register_compiled_out("postgres", "postgres", &["postgres", "postgresql"]);
    #[cfg(feature = "bigquery")]
    registry.register(std::sync::Arc::new(bigquery::BigQueryDriverFactory::new()));
    #[cfg(not(feature = "bigquery"))]
    registry.register_compiled_out("bigquery", "bigquery", &["bigquery"]);
    #[cfg(feature = "snowflake")]
    registry.register(std::sync::Arc::new(snowflake::SnowflakeDriverFactory::new()));
    #[cfg(not(feature = "snowflake"))]
    registry.register_compiled_out("snowflake", "snowflake", &["snowflake"]);
}
