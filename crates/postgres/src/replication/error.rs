//! The error type of the replication client and its classification into
//! [`sluice_connect_api::ErrorKind`].

use std::fmt;
use std::io;

use sluice_connect_api::{ConnectError, ErrorKind};

/// An error or notice reported by the server (the fields of an
/// `ErrorResponse` / `NoticeResponse` message that sluice uses).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerError {
    /// `ERROR`, `FATAL`, `PANIC` (or `WARNING`, `NOTICE`, … for notices);
    /// the non-localized spelling when the server sends it.
    pub severity: String,
    /// The SQLSTATE, e.g. `55006`.
    pub code: String,
    /// The primary message.
    pub message: String,
    /// The optional secondary message.
    pub detail: Option<String>,
    /// The optional suggestion what to do about it.
    pub hint: Option<String>,
}

impl ServerError {
    /// Parses the body of an `ErrorResponse` or `NoticeResponse` (a list of
    /// `type byte, C string` fields ended by a zero byte). Lenient: a
    /// truncated body yields the fields read so far.
    pub(crate) fn parse(mut body: &[u8]) -> ServerError {
        let mut err = ServerError::default();
        let mut localized_severity = None;
        while let Some((&field, rest)) = body.split_first() {
            if field == 0 {
                break;
            }
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let value = String::from_utf8_lossy(&rest[..end]).into_owned();
            body = rest.get(end + 1..).unwrap_or(&[]);
            match field {
                b'S' => localized_severity = Some(value),
                b'V' => err.severity = value,
                b'C' => err.code = value,
                b'M' => err.message = value,
                b'D' => err.detail = Some(value),
                b'H' => err.hint = Some(value),
                _ => {}
            }
        }
        if err.severity.is_empty() {
            err.severity = localized_severity.unwrap_or_else(|| "ERROR".to_string());
        }
        err
    }

    /// Whether the server ends the session after this error.
    pub fn is_fatal(&self) -> bool {
        matches!(self.severity.as_str(), "FATAL" | "PANIC")
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.severity, self.code, self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, " (DETAIL: {detail})")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, " (HINT: {hint})")?;
        }
        Ok(())
    }
}

/// The [`ErrorKind`] for a SQLSTATE reported by the server:
///
/// | SQLSTATE | kind | retried |
/// |---|---|---|
/// | `28xxx` invalid authorization (wrong password, no pg_hba.conf entry) | Authentication | no |
/// | `42501` insufficient privilege (e.g. no `REPLICATION` attribute) | Permission | no |
/// | `08P01` protocol violation | Protocol | no |
/// | `08xxx` connection exception | Connection | yes |
/// | `55006` object in use (replication slot active for another PID) | Unavailable | yes |
/// | `53xxx` insufficient resources (too many connections / WAL senders / slots) | Unavailable | yes |
/// | `57014` query canceled (statement timeout) | Timeout | yes |
/// | `57xxx` operator intervention (admin shutdown, cannot connect now) | Unavailable | yes |
/// | `40xxx` transaction rollback (serialization failure, deadlock) | Unavailable | yes |
/// | `55000` object not in prerequisite state (wal_level, slot of another database, invalidated slot) | Config | no |
/// | `42xxx` (undefined slot `42704`, duplicate slot `42710`, syntax), `22xxx`, `3Dxxx` (no such database), `3Fxxx` | Config | no |
/// | `58P01`/`58P02` undefined / duplicate file (e.g. output plugin not installed) | Config | no |
/// | `58xxx` other system errors | Io | yes |
/// | `0Axxx` feature not supported | Unsupported | no |
/// | `25xxx` invalid transaction state (a command used in the wrong place) | Internal | no |
/// | anything else (`XX000` internal error, …) | Unavailable | yes |
pub fn kind_for_sqlstate(code: &str) -> ErrorKind {
    match code {
        "42501" => return ErrorKind::Permission,
        "08P01" => return ErrorKind::Protocol,
        "55006" => return ErrorKind::Unavailable,
        "55000" => return ErrorKind::Config,
        "57014" => return ErrorKind::Timeout,
        "58P01" | "58P02" => return ErrorKind::Config,
        _ => {}
    }
    match code.get(..2).unwrap_or("") {
        "28" => ErrorKind::Authentication,
        "08" => ErrorKind::Connection,
        "53" | "57" | "40" => ErrorKind::Unavailable,
        "42" | "22" | "3D" | "3F" => ErrorKind::Config,
        "58" => ErrorKind::Io,
        "0A" => ErrorKind::Unsupported,
        "25" => ErrorKind::Internal,
        _ => ErrorKind::Unavailable,
    }
}

/// An error of the replication client. It names what failed, carries the
/// server's error fields when the server reported it, and has a
/// [`kind`](Self::kind) that decides whether the worker retries (see
/// [`kind_for_sqlstate`]). Converts into [`ConnectError`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ReplicationError {
    kind: ErrorKind,
    message: String,
    server: Option<Box<ServerError>>,
    #[source]
    io: Option<io::Error>,
}

impl ReplicationError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ReplicationError {
            kind,
            message: message.into(),
            server: None,
            io: None,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol, message)
    }

    /// An error the server reported; the kind follows its SQLSTATE.
    pub(crate) fn server(err: ServerError) -> Self {
        ReplicationError {
            kind: kind_for_sqlstate(&err.code),
            message: err.to_string(),
            server: Some(Box::new(err)),
            io: None,
        }
    }

    /// A network error while doing `what`. Timeouts are `Timeout`, anything
    /// else on the socket is `Connection` (retried).
    pub(crate) fn io(what: impl fmt::Display, err: io::Error) -> Self {
        let kind = match err.kind() {
            io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Connection,
        };
        ReplicationError {
            kind,
            message: format!("{what}: {err}"),
            server: None,
            io: Some(err),
        }
    }

    /// Prefixes the message with `"{what} failed: "`.
    pub(crate) fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what} failed: {}", self.message);
        self
    }

    /// What went wrong, coarsely; decides retry or fail.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The full message, naming the operation that failed.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the worker should retry (reconnect) after this error.
    pub fn is_retriable(&self) -> bool {
        self.kind.is_retriable()
    }

    /// The server's error fields, when the server reported the error.
    pub fn server_error(&self) -> Option<&ServerError> {
        self.server.as_deref()
    }

    /// The server's SQLSTATE, when the server reported the error.
    pub fn sqlstate(&self) -> Option<&str> {
        self.server.as_deref().map(|e| e.code.as_str())
    }

    /// The underlying I/O error, for network failures.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.io.as_ref()
    }
}

impl From<ReplicationError> for ConnectError {
    fn from(err: ReplicationError) -> Self {
        let kind = err.kind;
        let message = err.message.clone();
        // The ReplicationError itself is the source: callers can downcast
        // to read the SQLSTATE; `trace()` skips its (identical) text and
        // shows the I/O cause below it.
        ConnectError::new(kind, message).with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_body(fields: &[(u8, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (t, v) in fields {
            body.push(*t);
            body.extend_from_slice(v.as_bytes());
            body.push(0);
        }
        body.push(0);
        body
    }

    #[test]
    fn parses_error_fields() {
        let body = error_body(&[
            (b'S', "FEHLER"),
            (b'V', "ERROR"),
            (b'C', "55006"),
            (b'M', "replication slot \"x\" is active for PID 123"),
            (b'F', "slot.c"),
        ]);
        let err = ServerError::parse(&body);
        assert_eq!(err.severity, "ERROR");
        assert_eq!(err.code, "55006");
        assert_eq!(
            err.to_string(),
            "ERROR 55006 replication slot \"x\" is active for PID 123"
        );
        assert!(!err.is_fatal());
        let err = ReplicationError::server(err).context("START_REPLICATION on slot 'x'");
        assert_eq!(
            err.to_string(),
            "START_REPLICATION on slot 'x' failed: ERROR 55006 replication slot \"x\" is active for PID 123"
        );
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.is_retriable());
        assert_eq!(err.sqlstate(), Some("55006"));

        // Truncated / odd bodies do not panic.
        let err = ServerError::parse(b"SFATAL\0C28P01\0Mpassword");
        assert_eq!(err.severity, "FATAL");
        assert_eq!(err.message, "password");
        assert!(err.is_fatal());
        assert_eq!(ServerError::parse(b"").severity, "ERROR");
    }

    #[test]
    fn classifies_sqlstates() {
        assert_eq!(kind_for_sqlstate("28P01"), ErrorKind::Authentication);
        assert_eq!(kind_for_sqlstate("28000"), ErrorKind::Authentication);
        assert_eq!(kind_for_sqlstate("42501"), ErrorKind::Permission);
        assert_eq!(kind_for_sqlstate("42704"), ErrorKind::Config);
        assert_eq!(kind_for_sqlstate("42710"), ErrorKind::Config);
        assert_eq!(kind_for_sqlstate("3D000"), ErrorKind::Config);
        assert_eq!(kind_for_sqlstate("55006"), ErrorKind::Unavailable);
        assert_eq!(kind_for_sqlstate("55000"), ErrorKind::Config);
        assert_eq!(kind_for_sqlstate("53300"), ErrorKind::Unavailable);
        assert_eq!(kind_for_sqlstate("57P01"), ErrorKind::Unavailable);
        assert_eq!(kind_for_sqlstate("57P03"), ErrorKind::Unavailable);
        assert_eq!(kind_for_sqlstate("08006"), ErrorKind::Connection);
        assert_eq!(kind_for_sqlstate("08P01"), ErrorKind::Protocol);
        assert_eq!(kind_for_sqlstate("0A000"), ErrorKind::Unsupported);
        assert_eq!(kind_for_sqlstate("58P01"), ErrorKind::Config);
        assert_eq!(kind_for_sqlstate("XX000"), ErrorKind::Unavailable);
        assert_eq!(kind_for_sqlstate(""), ErrorKind::Unavailable);
    }

    #[test]
    fn converts_into_connect_error() {
        let err = ReplicationError::io(
            "reading from 127.0.0.1:1",
            io::Error::from(io::ErrorKind::UnexpectedEof),
        )
        .context("replication stream of slot 's'");
        assert_eq!(err.kind(), ErrorKind::Connection);
        let ce: ConnectError = err.into();
        assert_eq!(ce.kind(), ErrorKind::Connection);
        assert!(ce.is_retriable());
        assert!(ce
            .message()
            .starts_with("replication stream of slot 's' failed: reading from"));
        let trace = ce.trace();
        assert!(trace.contains("hint:"), "{trace}");
    }
}
