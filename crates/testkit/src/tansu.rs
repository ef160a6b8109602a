//! A throwaway Kafka-protocol broker: tansu (`cargo install tansu --locked
//! --features dynostore`), as a local process on a free port.
//!
//! tansu does not create topics on first use: tests (and sluice) create
//! them. Its storage is in memory by default — a [`TansuServer::restart`]
//! then starts empty; give [`TansuServerBuilder::storage`] a
//! `postgres://…` URL (a [`crate::PgServer`] database) for a broker whose
//! data survives restarts.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::error::{ErrorKind, TestkitError};
use crate::process::{
    self, file_len, find_program, open_log, read_log_from, show_command, ServerProcess, StopSignals,
};

const STOP_SIGNALS: StopSignals = &[("TERM", Duration::from_secs(5))];

/// The tansu program: `$SLUICE_TANSU`, `PATH`, or `~/.cargo/bin`.
pub fn tansu_program() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SLUICE_TANSU") {
        return Some(PathBuf::from(p));
    }
    find_program("tansu", None).or_else(|| {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
        let p = cargo_home.join("bin").join("tansu");
        p.is_file().then_some(p)
    })
}

/// Whether tansu is installed.
pub fn tansu_available() -> bool {
    tansu_program().is_some()
}

/// Settings for a [`TansuServer`].
#[derive(Debug, Clone, Default)]
pub struct TansuServerBuilder {
    storage: Option<String>,
}

impl TansuServerBuilder {
    /// The storage engine URL (`memory://tansu/` by default).
    pub fn storage(mut self, url: impl Into<String>) -> Self {
        self.storage = Some(url.into());
        self
    }

    pub fn start(self) -> Result<TansuServer, TestkitError> {
        let program = tansu_program().ok_or_else(|| {
            TestkitError::new(
                ErrorKind::NotInstalled,
                "tansu is not installed: cargo install tansu --locked --features dynostore",
            )
        })?;
        let dir = tempfile::Builder::new()
            .prefix("sluice-tansu-")
            .tempdir()
            .map_err(|e| TestkitError::io("create a temporary directory", e))?;
        let process = ServerProcess::new(STOP_SIGNALS, STOP_SIGNALS, false, dir.path())?;
        let mut server = TansuServer {
            process,
            port: 0,
            program,
            storage: self
                .storage
                .unwrap_or_else(|| "memory://tansu/".to_string()),
            log_path: dir.path().join("tansu.log"),
            dir,
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            server.port = process::free_port()?;
            match server.spawn_and_wait() {
                Ok(()) => return Ok(server),
                Err(_) if attempts < 3 => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// A tansu broker listening on 127.0.0.1 on a free port. Stopped when
/// dropped.
pub struct TansuServer {
    process: ServerProcess,
    port: u16,
    program: PathBuf,
    storage: String,
    log_path: PathBuf,
    dir: TempDir,
}

impl std::fmt::Debug for TansuServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TansuServer")
            .field("port", &self.port)
            .field("storage", &self.storage)
            .field("pid", &self.process.pid())
            .finish_non_exhaustive()
    }
}

impl TansuServer {
    /// A broker with in-memory storage.
    pub fn start() -> Result<TansuServer, TestkitError> {
        TansuServer::builder().start()
    }

    pub fn builder() -> TansuServerBuilder {
        TansuServerBuilder::default()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, for `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        read_log_from(&self.log_path, 0)
    }

    /// Stops the broker (SIGTERM, then SIGKILL). [`restart`](Self::restart)
    /// starts it again on the same port.
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Kills the broker with SIGKILL.
    pub fn kill9(&mut self) {
        self.process.kill_hard();
    }

    /// Freezes the broker (SIGSTOP): it keeps its data and connections but
    /// answers nothing — an outage that a memory-backed broker survives.
    pub fn pause(&mut self) {
        if let Some(pid) = self.process.pid() {
            process::send_signal(pid, "STOP");
        }
    }

    /// Lets a [`pause`](Self::pause)d broker run again (SIGCONT).
    pub fn resume(&mut self) {
        if let Some(pid) = self.process.pid() {
            process::send_signal(pid, "CONT");
        }
    }

    /// Starts the broker again on the same port and storage.
    pub fn restart(&mut self) -> Result<(), TestkitError> {
        self.process.stop();
        self.spawn_and_wait()
    }

    fn spawn_and_wait(&mut self) -> Result<(), TestkitError> {
        let log_start = file_len(&self.log_path);
        let (out, err) = open_log(&self.log_path)?;
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let mut cmd = Command::new(&self.program);
        cmd.arg("broker")
            .args(["--listener-url", &url])
            .args(["--advertised-listener-url", &url])
            .args(["--storage-engine", &self.storage])
            .current_dir(self.dir.path())
            .env(
                "RUST_LOG",
                std::env::var("SLUICE_TANSU_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd.spawn().map_err(|e| {
            TestkitError::io(format!("spawn {}", show_command(&cmd)), e)
                .with_kind(ErrorKind::Startup)
        })?;
        self.process.set_child(child);
        let port = self.port;
        let result = process::wait_ready(&mut self.process, Duration::from_secs(30), || {
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
                .is_ok()
        });
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                let why = match e {
                    process::WaitError::Exited(status) => format!("tansu exited ({status})"),
                    process::WaitError::TimedOut => "tansu did not listen within 30 s".to_string(),
                };
                self.process.stop();
                let log = read_log_from(&self.log_path, log_start);
                Err(TestkitError::new(
                    ErrorKind::Startup,
                    format!("{why}; log:\n{log}"),
                ))
            }
        }
    }
}
