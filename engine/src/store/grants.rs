//! Data administrators: per-connection grants to a subject (a JWT `sub`).

use super::{Store, now};
use crate::error::EngineError;
use rusqlite::params;

impl Store {
    /// Grants `subject` data administration of a connection; granting twice is no error.
    pub fn grant_data_administrator(
        &self,
        connection_id: i64,
        subject: &str,
    ) -> Result<(), EngineError> {
        let connection = self.lock();
        let granted_at = now(&connection).map_err(|error| self.error("granting", error))?;
        connection
            .execute(
                "INSERT INTO data_administrators (connection_id, subject, granted_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (connection_id, subject) DO NOTHING",
                params![connection_id, subject, granted_at],
            )
            .map_err(|error| self.error("granting", error))?;
        Ok(())
    }

    /// Revokes a grant; returns whether there was one.
    pub fn revoke_data_administrator(
        &self,
        connection_id: i64,
        subject: &str,
    ) -> Result<bool, EngineError> {
        let removed = self
            .lock()
            .execute(
                "DELETE FROM data_administrators WHERE connection_id = ?1 AND subject = ?2",
                params![connection_id, subject],
            )
            .map_err(|error| self.error("revoking", error))?;
        Ok(removed > 0)
    }

    /// Returns whether `subject` is a data administrator of the connection.
    pub fn is_data_administrator(
        &self,
        connection_id: i64,
        subject: &str,
    ) -> Result<bool, EngineError> {
        self.lock()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM data_administrators WHERE connection_id = ?1 AND subject = ?2)",
                params![connection_id, subject],
                |row| row.get(0),
            )
            .map_err(|error| self.error("reading grants", error))
    }

    /// Lists the data administrators of a connection, sorted.
    pub fn data_administrators(&self, connection_id: i64) -> Result<Vec<String>, EngineError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<Vec<String>> {
            let mut statement = connection.prepare(
                "SELECT subject FROM data_administrators WHERE connection_id = ?1 ORDER BY subject",
            )?;
            let rows = statement.query_map([connection_id], |row| row.get(0))?;
            rows.collect()
        };
        read().map_err(|error| self.error("reading grants", error))
    }
}
