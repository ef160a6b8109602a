//! The one error type of this crate.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// How many lines of a server log an error message carries.
const LOG_TAIL_LINES: usize = 30;

/// What kind of failure a [`TestkitError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The database server's programs are not installed on this machine.
    NotInstalled,
    /// Setting up the server (temporary directory, initdb, install-db,
    /// configuration) failed.
    Setup,
    /// The server process did not come up (it exited, or did not accept
    /// connections in time).
    Startup,
    /// A client command (`psql`, `mariadb`) failed, e.g. because of an SQL
    /// error.
    Command,
    /// Any other I/O failure.
    Io,
}

/// An error from the test kit: what failed, why, and the last lines of the
/// relevant server or tool log, so that a failed test explains itself.
///
/// Its `Debug` output is the same readable text as `Display`, so that
/// `.unwrap()` in a test prints the log tail with its line breaks.
pub struct TestkitError {
    kind: ErrorKind,
    message: String,
    log: Option<(PathBuf, String)>,
    source: Option<io::Error>,
}

impl TestkitError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        TestkitError {
            kind,
            message: message.into(),
            log: None,
            source: None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        TestkitError {
            kind: ErrorKind::Io,
            message: context.into(),
            log: None,
            source: Some(source),
        }
    }

    /// Attaches the tail of the log file at `path` (if it can be read).
    pub(crate) fn with_log(mut self, path: &Path) -> Self {
        if let Some(tail) = log_tail(path, LOG_TAIL_LINES) {
            self.log = Some((path.to_path_buf(), tail));
        }
        self
    }

    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the log tail.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The last lines of the server or tool log that were attached, if any.
    pub fn log_tail(&self) -> Option<&str> {
        self.log.as_ref().map(|(_, tail)| tail.as_str())
    }
}

impl fmt::Display for TestkitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        if let Some((path, tail)) = &self.log {
            write!(
                f,
                "\n--- last lines of {} ---\n{}",
                path.display(),
                tail.trim_end()
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for TestkitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {self}", self.kind)
    }
}

impl std::error::Error for TestkitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The last `lines` lines of a (text) file, or `None` if it cannot be read or
/// is empty.
pub(crate) fn log_tail(path: &Path, lines: usize) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    if all.is_empty() {
        return None;
    }
    let start = all.len().saturating_sub(lines);
    Some(all[start..].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let text: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, text).unwrap();
        let err = TestkitError::new(ErrorKind::Startup, "server did not start").with_log(&log);
        let shown = err.to_string();
        assert!(shown.starts_with("server did not start\n--- last lines of "));
        assert!(shown.contains("line 40"));
        assert!(shown.contains("line 11"));
        assert!(!shown.contains("line 10\n"));
        assert_eq!(err.kind(), ErrorKind::Startup);
        assert!(err.log_tail().unwrap().ends_with("line 40"));
    }

    #[test]
    fn missing_log_is_ignored() {
        let err = TestkitError::new(ErrorKind::Setup, "x").with_log(Path::new("/nonexistent/log"));
        assert_eq!(err.to_string(), "x");
        assert!(err.log_tail().is_none());
    }
}
