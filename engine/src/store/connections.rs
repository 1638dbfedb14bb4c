//! Stored connections.

use super::{Store, now};
use crate::error::EngineError;
use crate::redact::redact_url;
use rusqlite::{OptionalExtension, Row, params};
use std::fmt;

/// A warehouse connection. `url` may hold a credential: it is redacted in
/// `Debug` output and must never be returned by an API or logged as is.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    pub id: i64,
    pub name: String,
    pub url: String,
    /// Name of the driver chosen from the URL scheme (`sqlite`).
    pub driver: String,
    pub description: Option<String>,
    pub created_at: String,
}

impl ConnectionRecord {
    /// Returns the URL with credentials replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

impl fmt::Debug for ConnectionRecord {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ConnectionRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("url", &self.redacted_url())
            .field("driver", &self.driver)
            .field("description", &self.description)
            .field("created_at", &self.created_at)
            .finish()
    }
}

const COLUMNS: &str = "id, name, url, driver, description, created_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<ConnectionRecord> {
    Ok(ConnectionRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        url: row.get(2)?,
        driver: row.get(3)?,
        description: row.get(4)?,
        created_at: row.get(5)?,
    })
}

impl Store {
    /// Inserts a connection; fails when the name is taken.
    pub fn insert_connection(
        &self,
        name: &str,
        url: &str,
        driver: &str,
        description: Option<&str>,
    ) -> Result<ConnectionRecord, EngineError> {
        let connection = self.lock();
        let created_at =
            now(&connection).map_err(|error| self.error("adding a connection", error))?;
        let inserted = connection.execute(
            "INSERT INTO connections (name, url, driver, description, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, url, driver, description, created_at],
        );
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(EngineError::ConnectionExists {
                    name: name.to_string(),
                });
            }
            Err(error) => return Err(self.error("adding a connection", error)),
        }

        Ok(ConnectionRecord {
            id: connection.last_insert_rowid(),
            name: name.to_string(),
            url: url.to_string(),
            driver: driver.to_string(),
            description: description.map(str::to_string),
            created_at,
        })
    }

    /// Finds a connection by name.
    pub fn connection_by_name(&self, name: &str) -> Result<ConnectionRecord, EngineError> {
        let connection = self.lock();
        connection
            .query_row(
                &format!("SELECT {COLUMNS} FROM connections WHERE name = ?1"),
                [name],
                from_row,
            )
            .optional()
            .map_err(|error| self.error("reading a connection", error))?
            .ok_or_else(|| EngineError::ConnectionNotFound {
                name: name.to_string(),
            })
    }

    /// Finds a connection by id.
    pub fn connection_by_id(&self, id: i64) -> Result<ConnectionRecord, EngineError> {
        let connection = self.lock();
        connection
            .query_row(
                &format!("SELECT {COLUMNS} FROM connections WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()
            .map_err(|error| self.error("reading a connection", error))?
            .ok_or_else(|| EngineError::ConnectionNotFound {
                name: id.to_string(),
            })
    }

    /// Lists every connection by name.
    pub fn list_connections(&self) -> Result<Vec<ConnectionRecord>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Vec<ConnectionRecord>> {
            let mut statement =
                connection.prepare(&format!("SELECT {COLUMNS} FROM connections ORDER BY name"))?;
            let rows = statement.query_map([], from_row)?;
            rows.collect()
        };
        read().map_err(|error| self.error("listing connections", error))
    }

    /// Replaces the URL, driver and description of a connection.
    pub fn update_connection(
        &self,
        id: i64,
        url: &str,
        driver: &str,
        description: Option<&str>,
    ) -> Result<(), EngineError> {
        let updated = self
            .lock()
            .execute(
                "UPDATE connections SET url = ?2, driver = ?3, description = ?4 WHERE id = ?1",
                params![id, url, driver, description],
            )
            .map_err(|error| self.error("updating a connection", error))?;
        if updated == 0 {
            return Err(EngineError::ConnectionNotFound {
                name: id.to_string(),
            });
        }
        Ok(())
    }

    /// Deletes a connection with its job runs, snapshots, catalog rows and changes.
    pub fn delete_connection(&self, name: &str) -> Result<(), EngineError> {
        let deleted = self
            .lock()
            .execute("DELETE FROM connections WHERE name = ?1", [name])
            .map_err(|error| self.error("removing a connection", error))?;
        if deleted == 0 {
            return Err(EngineError::ConnectionNotFound {
                name: name.to_string(),
            });
        }
        Ok(())
    }
}
