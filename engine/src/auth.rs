//! Who is calling, and what they may do.
//!
//! An administrator may do everything. A data administrator of a connection
//! (a grant held in the store) may refresh and read that connection only.
//! Anyone else may do nothing. API layers verify tokens and build the
//! [`Principal`]; the engine decides.

use crate::error::EngineError;
use crate::store::{ConnectionRecord, Store};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Subject of the caller's token (`sub`).
    pub subject: String,
    pub admin: bool,
}

impl Principal {
    /// Returns a caller that may do everything: the CLI, an embedding backend.
    pub fn system() -> Principal {
        Principal {
            subject: "system".to_string(),
            admin: true,
        }
    }

    /// Checks that the caller may refresh and read `connection`.
    pub(crate) fn authorize(
        &self,
        store: &Store,
        connection: &ConnectionRecord,
        action: &'static str,
    ) -> Result<(), EngineError> {
        if self.admin || store.is_data_administrator(connection.id, &self.subject)? {
            return Ok(());
        }
        Err(EngineError::Forbidden {
            subject: self.subject.clone(),
            action,
            connection: connection.name.clone(),
        })
    }

    /// Checks that the caller is an administrator.
    pub(crate) fn require_admin(
        &self,
        action: &'static str,
        connection: &str,
    ) -> Result<(), EngineError> {
        if self.admin {
            return Ok(());
        }
        Err(EngineError::Forbidden {
            subject: self.subject.clone(),
            action,
            connection: connection.to_string(),
        })
    }
}
