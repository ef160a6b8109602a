//! Throwaway MariaDB servers.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::error::{ErrorKind, TestkitError};
use crate::postgres::{abbreviate, strip_final_newline};
use crate::process::{
    self, file_len, find_program, open_log, read_log_from, run_with_input, scrub_env, show_command,
    RunAs, ServerProcess, StopSignals, WaitError,
};

const HOST: &str = "127.0.0.1";
const ROOT: &str = "root";
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);
const INSTALL_HINT: &str = "apt-get install mariadb-server";

/// Normal shutdown, then (after 10 s) SIGKILL.
const STOP_SIGNALS: StopSignals = &[("TERM", Duration::from_secs(10))];

/// Options given to both `mariadb-install-db` and `mariadbd`.
const STORAGE_OPTIONS: &[&str] = &["--innodb-log-file-size=16M"];

/// Options given to `mariadbd` (after `--no-defaults`, before the builder's
/// own settings, which therefore win).
const SERVER_OPTIONS: &[&str] = &[
    "--server-id=1",
    "--binlog-format=ROW",
    "--binlog-row-image=FULL",
    "--binlog-row-metadata=FULL",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
    // Commits are written to the kernel (not fsynced): fast, and they
    // survive kill9 (a crash of the server, not of the machine).
    "--innodb-flush-log-at-trx-commit=2",
    "--sync-binlog=0",
];

/// The locations of the MariaDB programs.
#[derive(Debug, Clone)]
struct MariaDbBins {
    install_db: PathBuf,
    server: PathBuf,
    client: PathBuf,
}

impl MariaDbBins {
    /// `$SLUICE_MARIADB_BIN`, `PATH`, /usr/sbin, /usr/bin, …
    fn locate() -> Result<MariaDbBins, TestkitError> {
        let dir = std::env::var_os("SLUICE_MARIADB_BIN").map(PathBuf::from);
        let find = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| find_program(name, dir.as_deref()))
                .ok_or_else(|| {
                    TestkitError::new(
                        ErrorKind::NotInstalled,
                        format!(
                            "MariaDB program `{}` not found (looked in $SLUICE_MARIADB_BIN, \
                             PATH, /usr/sbin, /usr/bin): {INSTALL_HINT}",
                            names[0]
                        ),
                    )
                })
        };
        Ok(MariaDbBins {
            install_db: find(&["mariadb-install-db"])?,
            server: find(&["mariadbd"])?,
            client: find(&["mariadb"])?,
        })
    }
}

/// Whether the MariaDB server programs (`mariadb-install-db`, `mariadbd`,
/// `mariadb`) can be found.
pub fn mariadb_available() -> bool {
    MariaDbBins::locate().is_ok()
}

/// Configures a [`MariaDbServer`] before starting it.
///
/// ```no_run
/// # use sluice_testkit::MariaDbServer;
/// let db = MariaDbServer::builder()
///     .setting("gtid-domain-id", "7")
///     .setting("binlog-row-image", "MINIMAL")
///     .start()?;
/// # Ok::<(), sluice_testkit::TestkitError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct MariaDbServerBuilder {
    settings: Vec<String>,
    start_timeout: Duration,
}

impl Default for MariaDbServerBuilder {
    fn default() -> Self {
        MariaDbServerBuilder {
            settings: Vec::new(),
            start_timeout: DEFAULT_START_TIMEOUT,
        }
    }
}

impl MariaDbServerBuilder {
    /// Adds a server option `--key=value` (`_` or `-` in the key, as
    /// mariadbd accepts both). Later options win, also over the test kit's
    /// defaults. The options are given to `mariadb-install-db` too, so
    /// options that must be fixed when the data directory is created (such
    /// as `lower-case-table-names`) work.
    pub fn setting(mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let key = key.as_ref().trim_start_matches('-');
        self.settings.push(format!("--{key}={}", value.as_ref()));
        self
    }

    /// How long to wait for the server to accept connections (default 60 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Creates a data directory in a temporary directory and starts the
    /// server.
    pub fn start(self) -> Result<MariaDbServer, TestkitError> {
        let bins = MariaDbBins::locate()?;
        let run_as = RunAs::for_service("mysql", "mariadb-server")?;
        let dir = tempfile::Builder::new()
            .prefix("sluice-mariadb-")
            .tempdir()
            .map_err(|e| TestkitError::io("create a temporary directory", e))?;
        let dir_path = dir.path().to_path_buf();
        if let Some(run_as) = &run_as {
            run_as.take_dir(&dir_path)?;
        }
        let process = ServerProcess::new(STOP_SIGNALS, STOP_SIGNALS, false, &dir_path)?;
        let mut server = MariaDbServer {
            process,
            port: 0,
            bins,
            run_as,
            data_dir: dir_path.join("data"),
            log_path: dir_path.join("server.log"),
            socket_path: dir_path.join("mysql.sock"),
            settings: self.settings,
            start_timeout: self.start_timeout,
            dir,
        };
        server.install_db()?;
        server.start_on_free_port()?;
        Ok(server)
    }
}

/// A MariaDB server in a temporary directory, for one test (or one test
/// binary). Stopped, and its directory removed, when dropped.
///
/// Listens on 127.0.0.1 on a free port and on the Unix socket
/// [`socket_path`](Self::socket_path); `root` has no password and all
/// privileges (from 127.0.0.1 and localhost); the binary log is on, in ROW
/// format with full row images and metadata; the server character set is
/// utf8mb4.
pub struct MariaDbServer {
    // Dropped first (fields drop in order): stops the server before the
    // directory goes.
    process: ServerProcess,
    port: u16,
    bins: MariaDbBins,
    run_as: Option<RunAs>,
    data_dir: PathBuf,
    log_path: PathBuf,
    socket_path: PathBuf,
    settings: Vec<String>,
    start_timeout: Duration,
    dir: TempDir,
}

impl std::fmt::Debug for MariaDbServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MariaDbServer")
            .field("port", &self.port)
            .field("pid", &self.process.pid())
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl MariaDbServer {
    /// Starts a server with the default settings.
    pub fn start() -> Result<MariaDbServer, TestkitError> {
        MariaDbServer::builder().start()
    }

    /// A builder for a server with extra settings.
    pub fn builder() -> MariaDbServerBuilder {
        MariaDbServerBuilder::default()
    }

    /// The TCP port (on [`host`](Self::host)). It stays the same across
    /// [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `"127.0.0.1"`.
    pub fn host(&self) -> &str {
        HOST
    }

    /// `"root"` (no password).
    pub fn user(&self) -> &str {
        ROOT
    }

    /// The Unix socket.
    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The directory of the binary log files (`binlog.000001`, …).
    pub fn binlog_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server log (stdout and stderr of every start, appended).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The server's pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Whether the server process is running.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// `mysql://root@127.0.0.1:PORT/db` (`db` may be empty).
    pub fn url(&self, db: &str) -> String {
        format!("mysql://{ROOT}@{HOST}:{}/{db}", self.port)
    }

    /// ``CREATE DATABASE `name` ``.
    pub fn create_database(&self, name: &str) -> Result<(), TestkitError> {
        self.sql(
            "",
            &format!("CREATE DATABASE `{}`", name.replace('`', "``")),
        )
        .map(|_| ())
    }

    /// Runs `sql` (any number of `;`-terminated statements) in database `db`
    /// (empty: none) as root with `mariadb --no-defaults -N -B` and returns
    /// its stdout without the final newline: one line per row, columns
    /// separated by tabs. An SQL error is an error carrying the client's
    /// stderr.
    pub fn sql(&self, db: &str, sql: &str) -> Result<String, TestkitError> {
        let output = run_with_input(&mut self.client(db), sql.as_bytes())
            .map_err(|e| TestkitError::io(format!("run {}", self.bins.client.display()), e))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            return Err(TestkitError::new(
                ErrorKind::Command,
                format!(
                    "mariadb on {HOST}:{} db {db:?} failed ({}): {}\nSQL: {}",
                    self.port,
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim_end(),
                    abbreviate(sql)
                ),
            )
            .with_log(&self.log_path));
        }
        Ok(strip_final_newline(stdout))
    }

    fn client(&self, db: &str) -> Command {
        let mut cmd = Command::new(&self.bins.client);
        scrub_env(&mut cmd, &["MYSQL", "MARIADB"]);
        // --no-defaults must come first.
        cmd.arg("--no-defaults")
            .args(["-h", HOST, "-P", &self.port.to_string(), "-u", ROOT])
            .args(["--protocol=TCP", "--connect-timeout=10", "-N", "-B"]);
        if !db.is_empty() {
            cmd.arg(format!("--database={db}"));
        }
        cmd
    }

    /// The server log so far, for debugging a failed test.
    pub fn log(&self) -> String {
        read_log_from(&self.log_path, 0)
    }

    /// Stops the server gracefully (SIGTERM), killing it if that takes more
    /// than 10 s. It can be started again with [`restart`](Self::restart).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Kills the server with SIGKILL, like a crash. Committed transactions
    /// survive; the next [`restart`](Self::restart) runs crash recovery.
    pub fn kill9(&mut self) {
        self.process.kill_hard();
    }

    /// Starts the server again on the same data directory and port, stopping
    /// it first (gracefully) if it runs.
    pub fn restart(&mut self) -> Result<(), TestkitError> {
        self.process.stop();
        self.spawn_and_wait().map_err(|(e, _)| e)
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        scrub_env(&mut cmd, &["MYSQL", "MARIADB"]);
        cmd.current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        if let Some(run_as) = &self.run_as {
            run_as.apply(&mut cmd);
        }
        cmd
    }

    fn install_db(&mut self) -> Result<(), TestkitError> {
        let log = self.dir.path().join("install-db.log");
        let (out, err) = open_log(&log)?;
        let mut cmd = self.command(&self.bins.install_db);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.data_dir.display()))
            // A private tmpdir: with the shared /tmp, parallel installs
            // failed now and then ("Could not remove temporary table
            // '/tmp/#sql-temptable-…'", "Unknown table 'mysql.tmp_user_sys'").
            .arg(format!("--tmpdir={}", self.dir.path().display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .args(STORAGE_OPTIONS)
            .args(&self.settings)
            .stdout(out)
            .stderr(err);
        let status = cmd.status().map_err(|e| {
            TestkitError::io(format!("run {}", self.bins.install_db.display()), e)
                .with_kind(ErrorKind::Setup)
        })?;
        if !status.success() {
            return Err(TestkitError::new(
                ErrorKind::Setup,
                format!(
                    "mariadb-install-db failed ({status}): {}",
                    show_command(&cmd)
                ),
            )
            .with_log(&log));
        }
        Ok(())
    }

    /// Picks a port and starts; if another process took the port in the
    /// meantime, tries again with a new one.
    fn start_on_free_port(&mut self) -> Result<(), TestkitError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.port = process::free_port()?;
            match self.spawn_and_wait() {
                Ok(()) => return Ok(()),
                Err((_, true)) if attempts < 3 => continue,
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Spawns mariadbd and waits until root can run a query. On failure, the
    /// error and whether it failed to bind its port.
    fn spawn_and_wait(&mut self) -> Result<(), (TestkitError, bool)> {
        let log_start = file_len(&self.log_path);
        let (out, err) = open_log(&self.log_path).map_err(|e| (e, false))?;
        let dir = self.dir.path();
        let mut cmd = self.command(&self.bins.server);
        // --no-defaults must come first; without it mariadbd reads
        // /etc/mysql and collides with the machine's own server.
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.data_dir.display()))
            .arg(format!("--port={}", self.port))
            .arg(format!("--bind-address={HOST}"))
            .arg(format!("--socket={}", self.socket_path.display()))
            .arg(format!("--pid-file={}", dir.join("mysql.pid").display()))
            .arg(format!("--log-bin={}", dir.join("binlog").display()))
            .arg(format!("--tmpdir={}", dir.display()))
            .args(STORAGE_OPTIONS)
            .args(SERVER_OPTIONS)
            .args(&self.settings)
            .stdout(out)
            .stderr(err)
            // Not in the test's process group: a Ctrl-C reaches the test
            // process, whose reaper then stops this server.
            .process_group(0);
        let child = cmd.spawn().map_err(|e| {
            (
                TestkitError::io(format!("spawn {}", show_command(&cmd)), e)
                    .with_kind(ErrorKind::Startup),
                false,
            )
        })?;
        self.process.set_child(child);
        let mut probe = self.client("");
        probe
            .args(["--connect-timeout=2", "-e", "SELECT 1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let result = process::wait_ready(&mut self.process, self.start_timeout, || {
            probe.status().map(|s| s.success()).unwrap_or(false)
        });
        let failure = match result {
            Ok(()) => return Ok(()),
            Err(WaitError::Exited(status)) => format!("exited ({status})"),
            Err(WaitError::TimedOut) => {
                format!("did not accept connections within {:?}", self.start_timeout)
            }
        };
        self.process.kill_hard();
        let log = read_log_from(&self.log_path, log_start);
        let port_taken = log.contains("Address already in use") || log.contains("Bind on TCP/IP");
        Err((
            TestkitError::new(
                ErrorKind::Startup,
                format!(
                    "MariaDB on port {} {failure}: {}",
                    self.port,
                    show_command(&cmd)
                ),
            )
            .with_log(&self.log_path),
            port_taken,
        ))
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        self.process.shutdown();
    }
}
