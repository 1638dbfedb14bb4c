//! Numbered store migrations. A migration is never edited once released: a
//! change to the layout is a new numbered file.

use crate::error::EngineError;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// (version, name, SQL), in version order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("migrations/0001_initial.sql")),
    (
        2,
        "table_properties",
        include_str!("migrations/0002_table_properties.sql"),
    ),
];

/// Applies every migration the store lacks, each in its own transaction.
pub(super) fn apply(connection: &mut Connection, path: &Path) -> Result<(), EngineError> {
    let store_error = |message: String| EngineError::Store {
        path: path.display().to_string(),
        message,
    };

    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS store_migrations (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TEXT NOT NULL
             )",
        )
        .map_err(|error| {
            store_error(format!(
                "not a metacrawl store, or not writable ({error}); pass another --store path"
            ))
        })?;

    let applied: i64 = connection
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM store_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(|error| store_error(format!("reading the store version failed: {error}")))?;
    let latest = MIGRATIONS.last().map_or(0, |(version, _, _)| *version);
    if applied > latest {
        return Err(store_error(format!(
            "store version {applied} is newer than this metacrawl supports ({latest}); upgrade metacrawl"
        )));
    }

    for (version, name, sql) in MIGRATIONS
        .iter()
        .filter(|(version, _, _)| *version > applied)
    {
        // IMMEDIATE takes the write lock first, so two processes opening a new
        // store at once apply each migration once: the second finds it applied.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|error| store_error(format!("migration {version} failed: {error}")))?;
        let already_applied: bool = transaction
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM store_migrations WHERE version = ?1)",
                [version],
                |row| row.get(0),
            )
            .map_err(|error| store_error(format!("migration {version} failed: {error}")))?;
        if already_applied {
            continue;
        }

        transaction
            .execute_batch(sql)
            .and_then(|()| {
                transaction.execute(
                    "INSERT INTO store_migrations (version, name, applied_at)
                     VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                    rusqlite::params![version, name],
                )
            })
            .and_then(|_| transaction.commit())
            .map_err(|error| {
                store_error(format!("migration {version} ({name}) failed: {error}"))
            })?;
        tracing::info!(store = %path.display(), version, name, "applied store migration");
    }
    Ok(())
}
