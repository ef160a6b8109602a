//! Throwaway PostgreSQL servers.

use std::fmt::Write as _;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::error::{ErrorKind, TestkitError};
use crate::process::{
    self, file_len, find_program, open_log, read_log_from, run_with_input, scrub_env, show_command,
    RunAs, ServerProcess, StopSignals, WaitError,
};

const HOST: &str = "127.0.0.1";
const SUPERUSER: &str = "postgres";
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);
const INSTALL_HINT: &str = "apt-get install postgresql";

/// Fast shutdown (sessions are disconnected, a shutdown checkpoint is
/// written); if that hangs — a logical walsender waits for a client that
/// does not confirm — immediate shutdown (the postmaster still stops all its
/// processes; the next start runs crash recovery).
const STOP_SIGNALS: StopSignals = &[
    ("INT", Duration::from_secs(5)),
    ("QUIT", Duration::from_secs(5)),
];

/// When the server is dropped its data goes too: immediate shutdown, which
/// does not wait for clients (the postmaster still stops all its processes
/// and removes its shared memory).
const TEARDOWN_SIGNALS: StopSignals = &[("QUIT", Duration::from_secs(10))];

/// Settings every test server gets (before the builder's own).
const BASE_SETTINGS: &[(&str, &str)] = &[
    ("listen_addresses", HOST),
    ("wal_level", "logical"),
    ("max_replication_slots", "20"),
    ("max_wal_senders", "20"),
    // Durability against a crash of the *machine* is not needed; against a
    // crash of the *server* (kill9) it is: fsync=off still writes every
    // commit to the kernel, so committed data survives `kill9`. (That is
    // why synchronous_commit stays on: with it off, commits still in
    // shared memory would be lost by kill9.)
    ("fsync", "off"),
    ("full_page_writes", "off"),
    // Dynamic shared memory as files in the data directory, so a killed
    // server leaves nothing behind in /dev/shm.
    ("dynamic_shared_memory_type", "mmap"),
];

/// The locations of the PostgreSQL programs.
#[derive(Debug, Clone)]
struct PgBins {
    initdb: PathBuf,
    postgres: PathBuf,
    psql: PathBuf,
    pg_isready: PathBuf,
}

impl PgBins {
    /// `$SLUICE_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`, else
    /// `PATH`.
    fn locate() -> Result<PgBins, TestkitError> {
        let dir = pg_bin_dir();
        let find = |name: &str| {
            find_program(name, dir.as_deref()).ok_or_else(|| {
                TestkitError::new(
                    ErrorKind::NotInstalled,
                    format!(
                        "PostgreSQL program `{name}` not found (looked in $SLUICE_PG_BIN, \
                         /usr/lib/postgresql/*/bin and PATH): {INSTALL_HINT}"
                    ),
                )
            })
        };
        Ok(PgBins {
            initdb: find("initdb")?,
            postgres: find("postgres")?,
            psql: find("psql")?,
            pg_isready: find("pg_isready")?,
        })
    }
}

fn pg_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SLUICE_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether the PostgreSQL server programs (`initdb`, `postgres`, `psql`,
/// `pg_isready`) can be found.
pub fn postgres_available() -> bool {
    PgBins::locate().is_ok()
}

/// How a password user authenticates (see [`PgServerBuilder::password_user`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PgAuthMethod {
    /// `md5` in pg_hba.conf, password stored as MD5.
    Md5,
    /// `scram-sha-256` in pg_hba.conf, password stored as SCRAM.
    ScramSha256,
}

impl PgAuthMethod {
    fn name(self) -> &'static str {
        match self {
            PgAuthMethod::Md5 => "md5",
            PgAuthMethod::ScramSha256 => "scram-sha-256",
        }
    }
}

#[derive(Debug, Clone)]
struct PasswordUser {
    name: String,
    password: String,
    method: PgAuthMethod,
}

/// Configures a [`PgServer`] before starting it.
///
/// ```no_run
/// # use sluice_testkit::{PgServer, PgAuthMethod};
/// let pg = PgServer::builder()
///     .setting("max_replication_slots", "4")
///     .setting("wal_sender_timeout", "5s")
///     .password_user("cdc", "secret", PgAuthMethod::ScramSha256)
///     .start()?;
/// # Ok::<(), sluice_testkit::TestkitError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct PgServerBuilder {
    settings: Vec<(String, String)>,
    users: Vec<PasswordUser>,
    start_timeout: Duration,
}

impl Default for PgServerBuilder {
    fn default() -> Self {
        PgServerBuilder {
            settings: Vec::new(),
            users: Vec::new(),
            start_timeout: DEFAULT_START_TIMEOUT,
        }
    }
}

impl PgServerBuilder {
    /// Sets a server setting (a `postgresql.conf` line; later ones win, and
    /// they win over the test kit's defaults). Settings are written to
    /// `postgresql.conf`, not passed as `-c`, so `ALTER SYSTEM` still works.
    pub fn setting(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((key.into(), value.into()));
        self
    }

    /// Creates a role `name` (`LOGIN REPLICATION`) with `password`, which
    /// must authenticate with `method` over TCP and the Unix socket (normal
    /// and replication connections). Everyone else stays on `trust`. Grant
    /// it whatever else a test needs with [`PgServer::psql`].
    pub fn password_user(
        mut self,
        name: impl Into<String>,
        password: impl Into<String>,
        method: PgAuthMethod,
    ) -> Self {
        self.users.push(PasswordUser {
            name: name.into(),
            password: password.into(),
            method,
        });
        self
    }

    /// How long to wait for the server to accept connections (default 60 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Creates a new cluster in a temporary directory and starts it.
    pub fn start(self) -> Result<PgServer, TestkitError> {
        let bins = PgBins::locate()?;
        let run_as = RunAs::for_service("postgres", "postgresql")?;
        let dir = tempfile::Builder::new()
            .prefix("sluice-pg-")
            .tempdir()
            .map_err(|e| TestkitError::io("create a temporary directory", e))?;
        let dir_path = dir.path().to_path_buf();
        if let Some(run_as) = &run_as {
            run_as.take_dir(&dir_path)?;
        }
        let process = ServerProcess::new(STOP_SIGNALS, TEARDOWN_SIGNALS, true, &dir_path)?;
        let mut server = PgServer {
            process,
            port: 0,
            bins,
            run_as,
            data_dir: dir_path.join("data"),
            log_path: dir_path.join("server.log"),
            socket_dir: dir_path.clone(),
            users: self.users.clone(),
            start_timeout: self.start_timeout,
            dir,
        };
        server.initdb()?;
        server.configure(&self.settings)?;
        server.start_on_free_port()?;
        server.create_password_users()?;
        Ok(server)
    }
}

/// A PostgreSQL server in a temporary directory, for one test (or one test
/// binary). Stopped, and its directory removed, when dropped.
///
/// Listens on 127.0.0.1 on a free port and on a Unix socket in
/// [`socket_dir`](Self::socket_dir); `postgres` is a superuser with `trust`
/// authentication; `wal_level = logical`.
pub struct PgServer {
    // Dropped first (fields drop in order): stops the server before the
    // directory goes.
    process: ServerProcess,
    port: u16,
    bins: PgBins,
    run_as: Option<RunAs>,
    data_dir: PathBuf,
    log_path: PathBuf,
    socket_dir: PathBuf,
    users: Vec<PasswordUser>,
    start_timeout: Duration,
    dir: TempDir,
}

impl std::fmt::Debug for PgServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgServer")
            .field("port", &self.port)
            .field("pid", &self.process.pid())
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl PgServer {
    /// Starts a server with the default settings.
    pub fn start() -> Result<PgServer, TestkitError> {
        PgServer::builder().start()
    }

    /// A builder for a server with extra settings.
    pub fn builder() -> PgServerBuilder {
        PgServerBuilder::default()
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

    /// The superuser, `"postgres"` (no password).
    pub fn user(&self) -> &str {
        SUPERUSER
    }

    /// The directory with the Unix socket (`.s.PGSQL.<port>`).
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The directory of the PostgreSQL programs in use (for running e.g.
    /// `pg_recvlogical` or `pg_dump` of the same version).
    pub fn bin_dir(&self) -> &Path {
        self.bins.postgres.parent().unwrap_or(Path::new("/"))
    }

    /// The server log (stdout and stderr of every start, appended).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The postmaster's pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Whether the server process is running.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// `postgres://postgres@127.0.0.1:PORT/db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@{HOST}:{}/{db}", self.port)
    }

    /// `postgres://user:password@127.0.0.1:PORT/db`, user and password
    /// percent-encoded.
    pub fn url_as(&self, user: &str, password: &str, db: &str) -> String {
        format!(
            "postgres://{}:{}@{HOST}:{}/{db}",
            percent_encode(user),
            percent_encode(password),
            self.port
        )
    }

    /// A libpq key/value connection string for the superuser.
    pub fn conn_string(&self, db: &str) -> String {
        format!(
            "host={HOST} port={} user={SUPERUSER} dbname={db}",
            self.port
        )
    }

    /// `CREATE DATABASE "name"`.
    pub fn create_database(&self, name: &str) -> Result<(), TestkitError> {
        self.psql(
            "postgres",
            &format!("CREATE DATABASE {}", quote_ident(name)),
        )
        .map(|_| ())
    }

    /// Runs `sql` (any number of statements) in database `db` as the
    /// superuser with `psql -X -A -t -q -v ON_ERROR_STOP=1` and returns its
    /// stdout without the final newline: one line per row, columns
    /// separated by `|`. An SQL error is an error carrying psql's stderr.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, TestkitError> {
        self.run_psql(SUPERUSER, None, db, sql)
    }

    /// Like [`psql`](Self::psql), but as `user` with `password` over TCP.
    pub fn psql_as(
        &self,
        user: &str,
        password: &str,
        db: &str,
        sql: &str,
    ) -> Result<String, TestkitError> {
        self.run_psql(user, Some(password), db, sql)
    }

    fn run_psql(
        &self,
        user: &str,
        password: Option<&str>,
        db: &str,
        sql: &str,
    ) -> Result<String, TestkitError> {
        let mut cmd = Command::new(&self.bins.psql);
        scrub_env(&mut cmd, &["PG"]);
        cmd.args(["-X", "-A", "-t", "-q", "-w", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h",
                HOST,
                "-p",
                &self.port.to_string(),
                "-U",
                user,
                "-d",
                db,
            ])
            .args(["-f", "-"])
            .env("PGCONNECT_TIMEOUT", "10")
            .env("PGAPPNAME", "sluice-testkit");
        if let Some(password) = password {
            cmd.env("PGPASSWORD", password);
        }
        let output = run_with_input(&mut cmd, sql.as_bytes())
            .map_err(|e| TestkitError::io(format!("run {}", self.bins.psql.display()), e))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            return Err(TestkitError::new(
                ErrorKind::Command,
                format!(
                    "psql on {}:{} db {db:?} as {user} failed ({}): {}\nSQL: {}",
                    HOST,
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

    /// The server log so far, for debugging a failed test.
    pub fn log(&self) -> String {
        read_log_from(&self.log_path, 0)
    }

    /// Stops the server gracefully (fast shutdown: open sessions are
    /// disconnected; after 5 s immediate shutdown, after 5 s more SIGKILL).
    /// It can be started again with [`restart`](Self::restart).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Kills the postmaster and all its processes with SIGKILL at once, like
    /// a crash. Committed transactions survive; the next
    /// [`restart`](Self::restart) runs crash recovery.
    pub fn kill9(&mut self) {
        self.process.kill_hard();
    }

    /// Starts the server again on the same data directory and port, stopping
    /// it first (gracefully) if it runs.
    pub fn restart(&mut self) -> Result<(), TestkitError> {
        self.process.stop();
        match self.spawn_and_wait() {
            Ok(()) => Ok(()),
            Err((e, _)) => Err(e),
        }
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        scrub_env(&mut cmd, &["PG"]);
        cmd.current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        if let Some(run_as) = &self.run_as {
            run_as.apply(&mut cmd);
        }
        cmd
    }

    fn initdb(&mut self) -> Result<(), TestkitError> {
        let log = self.dir.path().join("initdb.log");
        // C.UTF-8 if the machine has it (lower()/upper() work on non-ASCII),
        // else the plain C locale.
        for locale in ["--locale=C.UTF-8", "--no-locale"] {
            let (out, err) = open_log(&log)?;
            let mut cmd = self.command(&self.bins.initdb);
            cmd.arg("-D")
                .arg(&self.data_dir)
                .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", locale])
                .args(["--no-sync", "--no-instructions"])
                .stdout(out)
                .stderr(err);
            let status = cmd.status().map_err(|e| {
                TestkitError::io(format!("run {}", self.bins.initdb.display()), e)
                    .with_kind(ErrorKind::Setup)
            })?;
            if status.success() {
                return Ok(());
            }
            let text = read_log_from(&log, 0);
            if locale.starts_with("--locale") && text.contains("locale") {
                let _ = std::fs::remove_dir_all(&self.data_dir);
                continue;
            }
            return Err(TestkitError::new(
                ErrorKind::Setup,
                format!("initdb failed ({status}): {}", show_command(&cmd)),
            )
            .with_log(&log));
        }
        Err(TestkitError::new(ErrorKind::Setup, "initdb failed").with_log(&log))
    }

    fn configure(&mut self, settings: &[(String, String)]) -> Result<(), TestkitError> {
        let conf = self.data_dir.join("postgresql.conf");
        let mut text = String::from("\n# --- sluice-testkit ---\n");
        let socket_dir = self.socket_dir.to_string_lossy().into_owned();
        let base = BASE_SETTINGS
            .iter()
            .map(|(k, v)| (*k, *v))
            .chain([("unix_socket_directories", socket_dir.as_str())]);
        let extra = settings.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        for (key, value) in base.chain(extra) {
            let _ = writeln!(text, "{key} = {}", conf_value(value));
        }
        append(&conf, &text)?;

        // Password users first (pg_hba.conf: the first matching line wins),
        // and make sure replication connections over TCP are trusted.
        let hba = self.data_dir.join("pg_hba.conf");
        let current = std::fs::read_to_string(&hba)
            .map_err(|e| TestkitError::io(format!("read {}", hba.display()), e))?;
        let mut lines = String::from("# --- sluice-testkit ---\n");
        for user in &self.users {
            let name = quote_hba(&user.name);
            let method = user.method.name();
            for db in ["all", "replication"] {
                let _ = writeln!(lines, "local {db} {name} {method}");
                let _ = writeln!(lines, "host {db} {name} {HOST}/32 {method}");
            }
        }
        let has_replication = current.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 5
                && f[0] == "host"
                && f[1] == "replication"
                && f[2] == "all"
                && f[3] == "127.0.0.1/32"
                && f[4] == "trust"
        });
        let mut new = lines;
        new.push_str(&current);
        if !has_replication {
            let _ = writeln!(new, "host replication all {HOST}/32 trust");
        }
        std::fs::write(&hba, new)
            .map_err(|e| TestkitError::io(format!("write {}", hba.display()), e))
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

    /// Spawns the postmaster and waits until it accepts connections. On
    /// failure, the error and whether it failed to bind its port.
    fn spawn_and_wait(&mut self) -> Result<(), (TestkitError, bool)> {
        let log_start = file_len(&self.log_path);
        let (out, err) = open_log(&self.log_path).map_err(|e| (e, false))?;
        let mut cmd = self.command(&self.bins.postgres);
        cmd.arg("-D")
            .arg(&self.data_dir)
            .args(["-p", &self.port.to_string()])
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
        let port = self.port.to_string();
        let pg_isready = self.bins.pg_isready.clone();
        let result = process::wait_ready(&mut self.process, self.start_timeout, || {
            let mut cmd = Command::new(&pg_isready);
            scrub_env(&mut cmd, &["PG"]);
            cmd.args([
                "-q", "-h", HOST, "-p", &port, "-U", SUPERUSER, "-d", "postgres",
            ])
            .args(["-t", "2"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
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
        let port_taken = log.contains("Address already in use");
        Err((
            TestkitError::new(
                ErrorKind::Startup,
                format!(
                    "PostgreSQL on port {} {failure}: {}",
                    self.port,
                    show_command(&cmd)
                ),
            )
            .with_log(&self.log_path),
            port_taken,
        ))
    }

    fn create_password_users(&self) -> Result<(), TestkitError> {
        for user in &self.users {
            let encryption = match user.method {
                PgAuthMethod::Md5 => "md5",
                PgAuthMethod::ScramSha256 => "scram-sha-256",
            };
            self.psql(
                "postgres",
                &format!(
                    "SET password_encryption = '{encryption}';\n\
                     CREATE ROLE {} LOGIN REPLICATION PASSWORD {};",
                    quote_ident(&user.name),
                    quote_literal(&user.password)
                ),
            )?;
        }
        Ok(())
    }

    /// After a hard kill, PostgreSQL leaves its (small) System V shared
    /// memory segment behind; a restart reuses it, but when the server is
    /// dropped it has to go.
    fn remove_stale_shared_memory(&self) {
        let Ok(pidfile) = std::fs::read_to_string(self.data_dir.join("postmaster.pid")) else {
            return; // clean shutdown
        };
        // Line 7: "<key> <shmid>".
        let Some(line) = pidfile.lines().nth(6) else {
            return;
        };
        let mut fields = line.split_whitespace();
        let (Some(key), Some(shmid)) = (fields.next(), fields.next()) else {
            return;
        };
        let (Ok(key), Ok(shmid)) = (key.parse::<i64>(), shmid.parse::<i64>()) else {
            return;
        };
        // Only if it is still ours and nobody is attached.
        let Ok(table) = std::fs::read_to_string("/proc/sysvipc/shm") else {
            return;
        };
        let ours = table.lines().skip(1).any(|row| {
            let f: Vec<&str> = row.split_whitespace().collect();
            f.len() > 6
                && f[0].parse::<i64>() == Ok(key)
                && f[1].parse::<i64>() == Ok(shmid)
                && f[6] == "0"
        });
        if ours {
            let _ = Command::new("ipcrm")
                .args(["-m", &shmid.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.process.shutdown();
        self.remove_stale_shared_memory();
    }
}

fn append(path: &Path, text: &str) -> Result<(), TestkitError> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| TestkitError::io(format!("append to {}", path.display()), e))
}

/// A postgresql.conf value: bare if it is a simple token, else quoted.
fn conf_value(value: &str) -> String {
    let simple = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if simple {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    }
}

/// `"ident"` with embedded quotes doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'literal'` with embedded quotes doubled (standard_conforming_strings).
fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A user name in pg_hba.conf.
fn quote_hba(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

pub(crate) fn strip_final_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}

pub(crate) fn abbreviate(sql: &str) -> String {
    const MAX: usize = 500;
    let sql = sql.trim();
    if sql.len() <= MAX {
        return sql.to_string();
    }
    let mut end = MAX;
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &sql[..end], sql.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_values() {
        assert_eq!(conf_value("logical"), "logical");
        assert_eq!(conf_value("5s"), "5s");
        assert_eq!(conf_value("127.0.0.1"), "'127.0.0.1'");
        assert_eq!(conf_value("/tmp/x y"), "'/tmp/x y'");
        assert_eq!(conf_value("a'b"), "'a''b'");
        assert_eq!(conf_value(""), "''");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(percent_encode("p@ss:w/rd"), "p%40ss%3Aw%2Frd");
        assert_eq!(strip_final_newline("a\nb\n".into()), "a\nb");
        assert_eq!(strip_final_newline(String::new()), "");
    }
}
