//! Errors: [`RegistryError`] for starting and storing, [`ApiError`] for what
//! a client is answered (Confluent's `{"error_code", "message"}`).

use std::path::PathBuf;

/// Why the registry cannot start or cannot store a change.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing the data file failed.
    #[error("{context} {}: {source}", path.display())]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The data file is not one this registry wrote, or is damaged.
    #[error("schema registry data file {} is not valid: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
    /// A stored schema no longer parses (data written by another tool?).
    #[error("stored schema id {id} is not valid: {message}")]
    StoredSchema { id: u32, message: String },
    /// Another storage failure.
    #[error("schema registry storage: {0}")]
    Storage(String),
}

// Confluent's error codes (io.confluent.kafka.schemaregistry.rest.exceptions.Errors).
pub(crate) const SUBJECT_NOT_FOUND: u32 = 40401;
pub(crate) const VERSION_NOT_FOUND: u32 = 40402;
pub(crate) const SCHEMA_NOT_FOUND: u32 = 40403;
pub(crate) const SUBJECT_SOFT_DELETED: u32 = 40404;
pub(crate) const SUBJECT_NOT_SOFT_DELETED: u32 = 40405;
pub(crate) const VERSION_SOFT_DELETED: u32 = 40406;
pub(crate) const VERSION_NOT_SOFT_DELETED: u32 = 40407;
pub(crate) const SUBJECT_COMPATIBILITY_NOT_CONFIGURED: u32 = 40408;
/// Confluent answered incompatible schemas with error_code 409 until its
/// 8.x line switched to 40901; clients look at the HTTP status (409).
pub(crate) const INCOMPATIBLE_SCHEMA: u32 = 409;
pub(crate) const INVALID_SCHEMA: u32 = 42201;
pub(crate) const INVALID_VERSION: u32 = 42202;
pub(crate) const INVALID_COMPATIBILITY_LEVEL: u32 = 42203;
pub(crate) const STORE_ERROR: u32 = 50001;

/// An error answered to a client: HTTP status from the code's first three
/// digits (or the code itself), body `{"error_code": code, "message": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: u32,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(code: u32, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status: 40401 → 404, 42201 → 422, 409 → 409.
    pub fn status(&self) -> u16 {
        if self.code >= 10_000 {
            (self.code / 100) as u16
        } else {
            self.code as u16
        }
    }

    pub(crate) fn subject_not_found(subject: &str) -> ApiError {
        ApiError::new(SUBJECT_NOT_FOUND, format!("Subject '{subject}' not found."))
    }

    pub(crate) fn version_not_found(version: i64) -> ApiError {
        ApiError::new(VERSION_NOT_FOUND, format!("Version {version} not found."))
    }

    pub(crate) fn schema_not_found() -> ApiError {
        ApiError::new(SCHEMA_NOT_FOUND, "Schema not found")
    }

    pub(crate) fn schema_id_not_found(id: i64) -> ApiError {
        ApiError::new(SCHEMA_NOT_FOUND, format!("Schema {id} not found"))
    }

    pub(crate) fn subject_soft_deleted(subject: &str) -> ApiError {
        ApiError::new(
            SUBJECT_SOFT_DELETED,
            format!(
                "Subject '{subject}' was soft deleted.Set permanent=true to delete permanently"
            ),
        )
    }

    pub(crate) fn subject_not_soft_deleted(subject: &str) -> ApiError {
        ApiError::new(
            SUBJECT_NOT_SOFT_DELETED,
            format!("Subject '{subject}' was not deleted first before being permanently deleted"),
        )
    }

    pub(crate) fn version_soft_deleted(subject: &str, version: u32) -> ApiError {
        ApiError::new(
            VERSION_SOFT_DELETED,
            format!(
                "Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently"
            ),
        )
    }

    pub(crate) fn version_not_soft_deleted(subject: &str, version: u32) -> ApiError {
        ApiError::new(
            VERSION_NOT_SOFT_DELETED,
            format!(
                "Subject '{subject}' Version {version} was not deleted first before being permanently deleted"
            ),
        )
    }

    pub(crate) fn compatibility_not_configured(subject: &str) -> ApiError {
        ApiError::new(
            SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
            format!("Subject '{subject}' does not have subject-level compatibility configured"),
        )
    }

    pub(crate) fn invalid_version(version: &str) -> ApiError {
        ApiError::new(
            INVALID_VERSION,
            format!(
                "The specified version '{version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
            ),
        )
    }

    pub(crate) fn invalid_compatibility() -> ApiError {
        ApiError::new(
            INVALID_COMPATIBILITY_LEVEL,
            "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive",
        )
    }

    pub(crate) fn store(message: &str, e: &RegistryError) -> ApiError {
        ApiError::new(STORE_ERROR, format!("{message}; error: {e}"))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_code() {
        assert_eq!(ApiError::subject_not_found("x").status(), 404);
        assert_eq!(ApiError::invalid_compatibility().status(), 422);
        assert_eq!(ApiError::new(INCOMPATIBLE_SCHEMA, "").status(), 409);
        assert_eq!(ApiError::new(STORE_ERROR, "").status(), 500);
        assert_eq!(ApiError::new(415, "").status(), 415);
    }
}
