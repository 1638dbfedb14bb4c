//! Integration tests of metacrawl: real SQLite warehouses and stores, the
//! engine end to end, and the `metacrawl` binary.

mod bigquery;
mod bigquery_server;
mod cli;
mod fixture_driver;
mod grpc;
mod pg_support;
mod postgres_cases;
mod postgres_corpus;
mod postgres_driver;
mod postgres_incremental;
mod safety;
mod server;
mod snowflake;
mod snowflake_server;
mod sqlite_refresh;
mod support;
