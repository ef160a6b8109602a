//! Process plumbing shared by the server kinds: finding programs, running as
//! the service user, picking ports, signalling, stopping, and the reaper that
//! cleans up when the test process dies without running destructors.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{ErrorKind, TestkitError};

/// How long the hard kill waits for the processes to be gone.
const KILL_TIMEOUT: Duration = Duration::from_secs(10);

/// The signals that stop a server, each with how long to wait for it before
/// the next (and after the last, SIGKILL).
pub(crate) type StopSignals = &'static [(&'static str, Duration)];

/// Ports never handed out: the machine's own database services.
const RESERVED_PORTS: [u16; 2] = [3306, 5432];

// ---------------------------------------------------------------------------
// Finding programs

/// Directories searched after `PATH` (root's `PATH` has the `sbin`s, a
/// developer's may not).
const EXTRA_BIN_DIRS: [&str; 4] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"];

/// Finds an executable called `name` in `dir` (if given), `PATH` and the usual
/// system directories.
pub(crate) fn find_program(name: &str, dir: Option<&Path>) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = dir {
        dirs.push(dir.to_path_buf());
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.extend(EXTRA_BIN_DIRS.iter().map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------
// Users

/// Whether this process runs with effective uid 0.
pub(crate) fn is_root() -> bool {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status.lines() {
            if let Some(rest) = line.strip_prefix("Uid:") {
                // real, effective, saved, filesystem
                return rest.split_whitespace().nth(1) == Some("0");
            }
        }
    }
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A system user the server processes run as when the test runs as root
/// (`initdb`/`postgres` and `mariadbd` refuse to run as root).
#[derive(Debug, Clone)]
pub(crate) struct RunAs {
    pub(crate) name: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

impl RunAs {
    /// `Some(user)` if this process is root, `None` if it should run the
    /// servers as itself.
    pub(crate) fn for_service(user: &str, package: &str) -> Result<Option<RunAs>, TestkitError> {
        if !is_root() {
            return Ok(None);
        }
        match lookup_user(user) {
            Some((uid, gid)) => Ok(Some(RunAs {
                name: user.to_string(),
                uid,
                gid,
            })),
            None => Err(TestkitError::new(
                ErrorKind::NotInstalled,
                format!(
                    "running as root, but there is no system user `{user}` to run the server as \
                     (it comes with the package: apt-get install {package})"
                ),
            )),
        }
    }

    /// Makes `cmd` run as this user.
    pub(crate) fn apply(&self, cmd: &mut Command) {
        cmd.uid(self.uid)
            .gid(self.gid)
            .env("USER", &self.name)
            .env("LOGNAME", &self.name);
    }

    /// Hands `path` (a fresh temporary directory) to this user and checks that
    /// the user can reach it.
    pub(crate) fn take_dir(&self, path: &Path) -> Result<(), TestkitError> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid)).map_err(|e| {
            TestkitError::io(format!("chown {} to {}", path.display(), self.name), e)
                .with_kind(ErrorKind::Setup)
        })?;
        for ancestor in path.ancestors().skip(1) {
            let Ok(meta) = std::fs::metadata(ancestor) else {
                continue;
            };
            let mode = meta.permissions().mode();
            let traversable = mode & 0o001 != 0
                || (meta.uid() == self.uid && mode & 0o100 != 0)
                || (meta.gid() == self.gid && mode & 0o010 != 0);
            if !traversable {
                return Err(TestkitError::new(
                    ErrorKind::Setup,
                    format!(
                        "the server runs as user `{}`, which cannot enter {} (mode {:o}); \
                         point TMPDIR at a directory such as /tmp",
                        self.name,
                        ancestor.display(),
                        mode & 0o7777
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    if let Ok(passwd) = std::fs::read_to_string("/etc/passwd") {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() >= 4 && fields[0] == name {
                if let (Ok(uid), Ok(gid)) = (fields[2].parse(), fields[3].parse()) {
                    return Some((uid, gid));
                }
            }
        }
    }
    // Users from NSS (LDAP, …): ask `id`.
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, name]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

// ---------------------------------------------------------------------------
// Ports

static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A TCP port on 127.0.0.1 that was free a moment ago and that this process
/// has not handed out before. (Another process may still take it before the
/// server binds it; the servers retry with a new port when that happens.)
pub(crate) fn free_port() -> Result<u16, TestkitError> {
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..100 {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| TestkitError::io("bind 127.0.0.1:0 to find a free port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| TestkitError::io("read the address of a bound socket", e))?
            .port();
        drop(listener);
        if !RESERVED_PORTS.contains(&port) && handed_out.insert(port) {
            return Ok(port);
        }
    }
    Err(TestkitError::new(
        ErrorKind::Io,
        "could not find a free TCP port on 127.0.0.1",
    ))
}

// ---------------------------------------------------------------------------
// Signals and /proc

/// Sends signal `sig` (a name such as "TERM") to `pid` with the `kill`
/// program (this crate has no unsafe code, so no `libc::kill`).
pub(crate) fn send_signal(pid: u32, sig: &str) -> bool {
    Command::new("kill")
        .args(["-s", sig, &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `(state, ppid)` of a process from `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Whether `pid` is a live (non-zombie) process.
pub fn pid_alive(pid: u32) -> bool {
    matches!(proc_stat(pid), Some((state, _)) if state != 'Z' && state != 'X')
}

/// Live child processes of `pid`.
pub(crate) fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| matches!(proc_stat(p), Some((state, ppid)) if ppid == pid && state != 'Z'))
        .collect()
}

fn wait_for<F: FnMut() -> bool>(timeout: Duration, mut done: F) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------
// Running client commands

/// Runs `cmd` with `input` on its stdin and collects its output.
pub(crate) fn run_with_input(cmd: &mut Command, input: &[u8]) -> io::Result<Output> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    // Write from another thread so that a large input and a large output
    // cannot deadlock.
    let writer = thread::spawn(move || {
        // A client that exits early (bad connection) closes its stdin: that
        // is reported by its exit status, not here.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output();
    let _ = writer.join();
    output
}

/// Removes environment variables starting with `prefix` from `cmd`, so that
/// a developer's `PGHOST`, `MYSQL_PWD`, … cannot redirect the test kit.
pub(crate) fn scrub_env(cmd: &mut Command, prefixes: &[&str]) {
    for (key, _) in std::env::vars_os() {
        if let Some(k) = key.to_str() {
            if prefixes.iter().any(|p| k.starts_with(p)) {
                cmd.env_remove(&key);
            }
        }
    }
}

/// Opens (appending) the log file that a server's stdout and stderr go to.
pub(crate) fn open_log(path: &Path) -> Result<(Stdio, Stdio), TestkitError> {
    let open = || -> io::Result<(Stdio, Stdio)> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let clone = file.try_clone()?;
        Ok((Stdio::from(file), Stdio::from(clone)))
    };
    open().map_err(|e| TestkitError::io(format!("open log file {}", path.display()), e))
}

/// The contents of a log file from byte `from` on (lossy UTF-8).
pub(crate) fn read_log_from(path: &Path, from: u64) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut f) = File::open(path) {
        use std::io::Seek;
        if f.seek(io::SeekFrom::Start(from)).is_ok() {
            let _ = f.read_to_end(&mut bytes);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

pub(crate) fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

// ---------------------------------------------------------------------------
// The reaper

/// A small `sh` process that outlives the test process if need be. It reads
/// commands from a pipe that only this process holds: `pid N` tells it the
/// server's current pid, `done` that the server has been stopped and it can
/// exit. If the pipe closes without `done` — the test process died without
/// running destructors (SIGKILL, `process::exit`, a server kept in a
/// `static`) — it stops the server (graceful signal, then SIGKILL for the
/// server and its children) and removes the temporary directory.
struct Reaper {
    child: Child,
    stdin: Option<ChildStdin>,
}

const REAPER_SCRIPT: &str = r#"
trap '' HUP INT TERM PIPE
sigs=$1
dir=$2
pid=0
while read -r cmd arg; do
  case "$cmd" in
    pid) pid=$arg ;;
    done) exit 0 ;;
  esac
done
if [ "$pid" != 0 ]; then
  for sig in $sigs; do
    kill -s "$sig" "$pid" 2>/dev/null
    i=0
    while [ "$i" -lt 50 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; i=$((i+1)); done
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -s STOP "$pid" 2>/dev/null
    pkill -KILL -P "$pid" 2>/dev/null
    kill -s KILL "$pid" 2>/dev/null
    sleep 0.5
  fi
fi
case "$dir" in
  */sluice-*) rm -rf -- "$dir" ;;
esac
"#;

impl Reaper {
    fn spawn(signals: StopSignals, dir: &Path) -> io::Result<Reaper> {
        let names: Vec<&str> = signals.iter().map(|(name, _)| *name).collect();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(REAPER_SCRIPT)
            .arg("sluice-testkit-reaper")
            .arg(names.join(" "))
            .arg(dir)
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Own process group: a Ctrl-C in the terminal kills the test
            // process, and the reaper then does its job.
            .process_group(0)
            .spawn()?;
        let stdin = child.stdin.take();
        Ok(Reaper { child, stdin })
    }

    fn send(&mut self, line: &str) {
        if let Some(stdin) = &mut self.stdin {
            let _ = stdin.write_all(line.as_bytes()).and_then(|_| stdin.flush());
        }
    }

    fn finish(&mut self) {
        self.send("done\n");
        self.stdin = None;
        let exited = wait_for(Duration::from_secs(5), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        });
        if !exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// A server process

/// One server process (restartable) plus its reaper.
pub(crate) struct ServerProcess {
    child: Option<Child>,
    stop_signals: StopSignals,
    teardown_signals: StopSignals,
    /// Whether the server forks worker processes of its own (PostgreSQL).
    has_children: bool,
    reaper: Option<Reaper>,
}

impl ServerProcess {
    /// Starts the reaper for `dir`; call before anything is put there.
    /// `stop_signals` stop the server for a restart, `teardown_signals` for
    /// good (its data is about to be deleted).
    pub(crate) fn new(
        stop_signals: StopSignals,
        teardown_signals: StopSignals,
        has_children: bool,
        dir: &Path,
    ) -> Result<ServerProcess, TestkitError> {
        let reaper = Reaper::spawn(teardown_signals, dir)
            .map_err(|e| TestkitError::io("spawn the clean-up process (sh)", e))?;
        Ok(ServerProcess {
            child: None,
            stop_signals,
            teardown_signals,
            has_children,
            reaper: Some(reaper),
        })
    }

    /// Takes ownership of a freshly spawned server process.
    pub(crate) fn set_child(&mut self, child: Child) {
        let pid = child.id();
        self.child = Some(child);
        if let Some(reaper) = &mut self.reaper {
            reaper.send(&format!("pid {pid}\n"));
        }
    }

    fn forget_child(&mut self) {
        self.child = None;
        if let Some(reaper) = &mut self.reaper {
            reaper.send("pid 0\n");
        }
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// `Some(status)` if the server process has exited (it is then reaped).
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    pub(crate) fn is_running(&mut self) -> bool {
        self.child.is_some() && self.exited().is_none()
    }

    /// Stops the server: the stop signals in turn, then a hard kill. Returns
    /// whether it stopped before the hard kill (or was not running).
    pub(crate) fn stop(&mut self) -> bool {
        self.stop_with(self.stop_signals)
    }

    fn stop_with(&mut self, signals: StopSignals) -> bool {
        let Some(child) = &mut self.child else {
            return true;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            // Already exited (crashed). PostgreSQL's children notice that
            // the postmaster died and exit by themselves.
            self.forget_child();
            return true;
        }
        let pid = child.id();
        let mut stopped = false;
        for (signal, timeout) in signals {
            send_signal(pid, signal);
            stopped = wait_for(*timeout, || matches!(child.try_wait(), Ok(Some(_))));
            if stopped {
                break;
            }
        }
        if stopped {
            // A cleanly stopped PostgreSQL has waited for its children.
            self.forget_child();
            true
        } else {
            self.kill_hard();
            false
        }
    }

    /// SIGKILL for the server (and, for PostgreSQL, all its worker
    /// processes at the same instant: the postmaster is stopped first so it
    /// cannot fork new ones). Waits until they are all gone.
    pub(crate) fn kill_hard(&mut self) {
        let Some(child) = &mut self.child else {
            return;
        };
        let pid = child.id();
        if matches!(child.try_wait(), Ok(Some(_))) {
            self.forget_child();
            return;
        }
        let mut children = Vec::new();
        if self.has_children {
            send_signal(pid, "STOP");
            children = children_of(pid);
        }
        for c in &children {
            send_signal(*c, "KILL");
        }
        let _ = child.kill();
        let _ = child.wait();
        wait_for(KILL_TIMEOUT, || !children.iter().any(|&c| pid_alive(c)));
        self.forget_child();
    }

    /// Stops the server for good and lets the reaper go.
    pub(crate) fn shutdown(&mut self) {
        self.stop_with(self.teardown_signals);
        if let Some(mut reaper) = self.reaper.take() {
            reaper.finish();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How a wait for a server to come up ended badly.
pub(crate) enum WaitError {
    Exited(ExitStatus),
    TimedOut,
}

/// Polls `ready` until it returns true, the server exits, or `timeout`.
pub(crate) fn wait_ready<F: FnMut() -> bool>(
    server: &mut ServerProcess,
    timeout: Duration,
    mut ready: F,
) -> Result<(), WaitError> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = server.exited() {
            return Err(WaitError::Exited(status));
        }
        if ready() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(WaitError::TimedOut);
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Quotes a string for an error message that shows a command line.
pub(crate) fn show_command(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_not_reserved() {
        let a = free_port().unwrap();
        let b = free_port().unwrap();
        assert_ne!(a, b);
        assert!(!RESERVED_PORTS.contains(&a));
    }

    #[test]
    fn proc_stat_reads_self() {
        let me = std::process::id();
        assert!(pid_alive(me));
        let (_, ppid) = proc_stat(me).unwrap();
        assert!(children_of(ppid).contains(&me));
    }

    #[test]
    fn finds_sh() {
        assert!(find_program("sh", None).is_some());
        assert!(find_program("definitely-not-a-program-xyz", None).is_none());
    }

    #[test]
    fn stop_and_kill_a_plain_process() {
        let dir = tempfile::Builder::new()
            .prefix("sluice-test-")
            .tempdir()
            .unwrap();
        const TERM: StopSignals = &[("TERM", Duration::from_secs(10))];
        const SHORT: StopSignals = &[
            ("TERM", Duration::from_millis(200)),
            ("INT", Duration::from_millis(200)),
        ];
        let mut server = ServerProcess::new(TERM, TERM, false, dir.path()).unwrap();
        let child = Command::new("sleep").arg("60").spawn().unwrap();
        let pid = child.id();
        server.set_child(child);
        assert!(server.is_running());
        assert!(server.stop());
        assert!(!pid_alive(pid));
        assert!(!server.is_running());

        server.shutdown();

        // A process that ignores the graceful signal is killed after the
        // timeout, together with its children.
        let mut server = ServerProcess::new(SHORT, SHORT, true, dir.path()).unwrap();
        let child = Command::new("sh")
            .args(["-c", "trap '' TERM INT; sleep 60 & sleep 60 & wait"])
            .spawn()
            .unwrap();
        let pid = child.id();
        server.set_child(child);
        assert!(wait_for(Duration::from_secs(5), || children_of(pid).len() == 2));
        let kids = children_of(pid);
        assert!(!server.stop());
        assert!(!pid_alive(pid));
        for kid in kids {
            assert!(!pid_alive(kid), "child {kid} survived");
        }
        server.shutdown();
        assert!(
            dir.path().exists(),
            "a clean shutdown leaves the dir to TempDir"
        );
    }
}
