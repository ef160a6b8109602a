//! The one error type of the plugin API, and the table that decides what the
//! worker does with each kind of error.

use std::error::Error as StdError;
use std::fmt;

/// Result alias used across the plugin API.
pub type Result<T, E = ConnectError> = std::result::Result<T, E>;

/// What went wrong, coarsely: enough for the worker to decide between
/// retrying and failing the task (see [`ERROR_TABLE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A configuration value is missing or invalid.
    Config,
    /// A network connection could not be made or was lost.
    Connection,
    /// An operation did not finish in time.
    Timeout,
    /// A local I/O operation failed (disk full, permission, …).
    Io,
    /// The remote side refused our credentials.
    Authentication,
    /// The remote side (database, broker) says we lack a permission.
    Permission,
    /// The remote side is temporarily unable to serve (overloaded, leader
    /// election, recovery in progress).
    Unavailable,
    /// Bytes from the source could not be decoded (corrupt or unexpected
    /// protocol data).
    Protocol,
    /// A record could not be converted or transformed.
    Data,
    /// A feature, type or setting sluice does not implement.
    Unsupported,
    /// The operation was cancelled because the task is stopping.
    Cancelled,
    /// A bug: an invariant of sluice itself was violated.
    Internal,
}

/// What the worker does with an error of a given kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    /// Retry the failed operation with exponential backoff (bounded by the
    /// connector's `errors.max.retries` / `errors.retry.timeout`).
    Retry,
    /// Stop the task and mark it FAILED with the error's trace.
    FailTask,
}

/// The one table mapping error kinds to actions, with the hint the operator
/// sees next to the message.
pub const ERROR_TABLE: &[(ErrorKind, ErrorAction, &str)] = &[
    (
        ErrorKind::Config,
        ErrorAction::FailTask,
        "fix the named configuration key and restart the connector",
    ),
    (
        ErrorKind::Connection,
        ErrorAction::Retry,
        "check that the server is up and reachable from this host; sluice keeps retrying",
    ),
    (
        ErrorKind::Timeout,
        ErrorAction::Retry,
        "the server is slow to answer; sluice keeps retrying",
    ),
    (
        ErrorKind::Io,
        ErrorAction::Retry,
        "check disk space and permissions of the named path; sluice keeps retrying",
    ),
    (
        ErrorKind::Authentication,
        ErrorAction::FailTask,
        "check the user name and password in the connector configuration",
    ),
    (
        ErrorKind::Permission,
        ErrorAction::FailTask,
        "grant the named privilege to the connector's user, then restart the connector",
    ),
    (
        ErrorKind::Unavailable,
        ErrorAction::Retry,
        "the server is temporarily unavailable; sluice keeps retrying",
    ),
    (
        ErrorKind::Protocol,
        ErrorAction::FailTask,
        "the source sent data sluice could not decode; please report it with the connector's log",
    ),
    (
        ErrorKind::Data,
        ErrorAction::FailTask,
        "a record could not be converted; see errors.tolerance to skip or dead-letter such records",
    ),
    (
        ErrorKind::Unsupported,
        ErrorAction::FailTask,
        "the named feature is not implemented by sluice; change the configuration or the source",
    ),
    (
        ErrorKind::Cancelled,
        ErrorAction::FailTask,
        "the task was stopped while the operation was running",
    ),
    (
        ErrorKind::Internal,
        ErrorAction::FailTask,
        "this is a bug in sluice; please report it with the connector's log",
    ),
];

impl ErrorKind {
    fn row(self) -> &'static (ErrorKind, ErrorAction, &'static str) {
        ERROR_TABLE
            .iter()
            .find(|(k, _, _)| *k == self)
            .expect("every ErrorKind has a row in ERROR_TABLE")
    }

    /// Retry or fail, per [`ERROR_TABLE`].
    pub fn action(self) -> ErrorAction {
        self.row().1
    }

    /// What the operator should do, per [`ERROR_TABLE`].
    pub fn hint(self) -> &'static str {
        self.row().2
    }

    pub fn is_retriable(self) -> bool {
        self.action() == ErrorAction::Retry
    }

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Config => "configuration error",
            ErrorKind::Connection => "connection error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Io => "I/O error",
            ErrorKind::Authentication => "authentication failed",
            ErrorKind::Permission => "permission denied",
            ErrorKind::Unavailable => "temporarily unavailable",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Data => "data error",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error type of the plugin API.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ConnectError {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl ConnectError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConnectError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Data, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol, message)
    }

    /// An I/O error about `what` (a path or an operation). The kind follows
    /// the I/O error: refused/reset connections are `Connection`, timeouts
    /// `Timeout`, permission problems `Permission`, the rest `Io`.
    pub fn io(what: impl fmt::Display, err: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match err.kind() {
            K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe => ErrorKind::Connection,
            K::TimedOut => ErrorKind::Timeout,
            K::PermissionDenied => ErrorKind::Permission,
            _ => ErrorKind::Io,
        };
        ConnectError::new(kind, format!("{what}: {err}")).with_source(err)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn is_retriable(&self) -> bool {
        self.kind.is_retriable()
    }

    /// The message, the chain of causes and the operator hint: what a FAILED
    /// task's `trace` shows.
    pub fn trace(&self) -> String {
        let mut out = self.to_string();
        let mut cause = self
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static));
        while let Some(e) = cause {
            let text = e.to_string();
            if !out.contains(&text) {
                out.push_str("\ncaused by: ");
                out.push_str(&text);
            }
            cause = e.source();
        }
        out.push_str("\nhint: ");
        out.push_str(self.kind.hint());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_row() {
        let kinds = [
            ErrorKind::Config,
            ErrorKind::Connection,
            ErrorKind::Timeout,
            ErrorKind::Io,
            ErrorKind::Authentication,
            ErrorKind::Permission,
            ErrorKind::Unavailable,
            ErrorKind::Protocol,
            ErrorKind::Data,
            ErrorKind::Unsupported,
            ErrorKind::Cancelled,
            ErrorKind::Internal,
        ];
        for k in kinds {
            assert_eq!(
                ERROR_TABLE.iter().filter(|(r, _, _)| *r == k).count(),
                1,
                "{k:?}"
            );
        }
        assert_eq!(ERROR_TABLE.len(), kinds.len());
        assert!(ErrorKind::Connection.is_retriable());
        assert!(!ErrorKind::Config.is_retriable());
    }

    #[test]
    fn io_errors_are_classified() {
        let e = ConnectError::io(
            "connect 127.0.0.1:1",
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        );
        assert_eq!(e.kind(), ErrorKind::Connection);
        assert!(e.is_retriable());
        let trace = e.trace();
        assert!(
            trace.contains("127.0.0.1:1") && trace.contains("hint:"),
            "{trace}"
        );
    }
}
