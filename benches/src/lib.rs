//! Helpers shared by the benchmark programs under `src/bin/` (they print
//! machine-readable reports; see docs/benchmarks.md).

use std::fs;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub mod pg;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = BoxError> = std::result::Result<T, E>;

pub const DB: &str = "bench";

pub const TABLE: &str = "bench_rows";

pub const PUBLICATION: &str = "bench_pub";

/// How often completion is polled.
pub const POLL: Duration = Duration::from_millis(10);

pub fn bench_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Names this program in [`progress!`] lines and as the SQL
/// `application_name`; call it first thing in `main`.
pub fn set_program(name: &'static str) {
    let _ = PROGRAM.set(name);
}

static PROGRAM: OnceLock<&'static str> = OnceLock::new();

/// The name given to [`set_program`] (`bench` without one).
pub fn program() -> &'static str {
    PROGRAM.get().copied().unwrap_or("bench")
}

/// A progress line on stderr: `[<program> <seconds since start>s] <message>`.
#[macro_export]
macro_rules! progress {
    ($($arg:tt)*) => {
        eprintln!(
            "[{} {:>7.1}s] {}",
            $crate::program(),
            $crate::bench_start().elapsed().as_secs_f64(),
            format!($($arg)*)
        )
    };
}

/// The `main` of a benchmark program: names it ([`set_program`]), starts the
/// clock, parses the arguments (exit 2 on an error), runs it and prints its
/// JSON report on stdout (exit 1 on an error).
pub fn bench_main<A>(
    program: &'static str,
    parse_args: impl FnOnce() -> Result<A>,
    run: impl FnOnce(&A) -> Result<Value>,
) {
    set_program(program);
    bench_start();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{program}: {e}");
            std::process::exit(2);
        }
    };
    match run(&args) {
        Ok(report) => {
            progress!("done");
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("JSON report")
            );
        }
        Err(e) => {
            eprintln!("{program}: error: {e}");
            std::process::exit(1);
        }
    }
}

pub fn fail<T>(msg: impl Into<String>) -> Result<T> {
    Err(msg.into().into())
}

pub fn parse_count(s: &str) -> Result<u64> {
    let clean: String = s.chars().filter(|c| *c != '_' && *c != ',').collect();
    clean
        .parse::<u64>()
        .map_err(|e| format!("bad number {s:?}: {e}").into())
}

pub fn abbreviate(sql: &str) -> String {
    let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 200 {
        format!("{}…", one_line.chars().take(200).collect::<String>())
    } else {
        one_line
    }
}

pub fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// A `kB` line of /proc/<pid>/status (VmHWM, VmRSS), in kB.
pub fn proc_status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

pub fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

pub fn machine() -> Value {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string());
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_kb = fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next()?.parse::<u64>().ok())
    });
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .ok();
    json!({
        "cpus": cpus,
        "cpu_model": model,
        "mem_gb": mem_kb.map(|k| round(k as f64 / 1048576.0, 1)),
        "kernel": kernel,
    })
}

pub fn git_commit() -> Value {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| json!(String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------
// /proc readers

/// CPU time in clock ticks: user, system.
#[derive(Clone, Copy, Default, PartialEq, Debug)]
pub struct Ticks {
    pub user: u64,
    pub sys: u64,
}

impl std::ops::Add for Ticks {
    type Output = Ticks;

    fn add(self, o: Ticks) -> Ticks {
        Ticks {
            user: self.user + o.user,
            sys: self.sys + o.sys,
        }
    }
}

impl Ticks {
    pub fn total(self) -> u64 {
        self.user + self.sys
    }

    /// `self - o`, each part floored at zero.
    pub fn saturating_sub(self, o: Ticks) -> Ticks {
        Ticks {
            user: self.user.saturating_sub(o.user),
            sys: self.sys.saturating_sub(o.sys),
        }
    }
}

/// One `/proc/<pid>/stat` (or `/proc/<pid>/task/<tid>/stat`).
pub struct Stat {
    pub comm: String,
    pub ppid: u32,
    /// utime, stime: this process (all its threads), or this thread.
    pub cpu: Ticks,
    /// cutime, cstime: the children it has reaped.
    pub children: Ticks,
}

pub fn read_stat(path: &Path) -> Option<Stat> {
    let stat = fs::read_to_string(path).ok()?;
    let open = stat.find('(')?;
    let (head, rest) = stat.rsplit_once(')')?;
    let comm = head.get(open + 1..)?.to_string();
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): ppid is field 4, utime 14, stime 15,
    // cutime 16, cstime 17.
    let num = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok());
    Some(Stat {
        comm,
        ppid: num(1)? as u32,
        cpu: Ticks {
            user: num(11)?,
            sys: num(12)?,
        },
        children: Ticks {
            user: num(13)?,
            sys: num(14)?,
        },
    })
}

pub fn proc_stat(pid: u32) -> Option<Stat> {
    read_stat(Path::new(&format!("/proc/{pid}/stat")))
}

/// utime and stime of a process (all its threads).
pub fn proc_cpu_ticks(pid: u32) -> Option<Ticks> {
    proc_stat(pid).map(|s| s.cpu)
}

/// The machine's CPU time (first line of /proc/stat), in clock ticks.
#[derive(Clone, Copy, Debug)]
pub struct MachineTicks {
    /// user + nice + system: time charged to processes.
    pub process: u64,
    /// irq + softirq: interrupt work (loopback TCP is mostly softirq).
    pub irq: u64,
    /// Time the hypervisor gave to other guests.
    pub steal: u64,
    /// idle + iowait.
    pub idle: u64,
    pub total: u64,
}

pub fn machine_ticks() -> Option<MachineTicks> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 8 {
        return None;
    }
    // user nice system idle iowait irq softirq steal
    Some(MachineTicks {
        process: v[0] + v[1] + v[2],
        irq: v[5] + v[6],
        steal: v[7],
        idle: v[3] + v[4],
        total: v.iter().sum(),
    })
}

/// (busy, total) jiffies of the whole machine.
pub fn machine_cpu() -> Option<(u64, u64)> {
    machine_ticks().map(|t| (t.total - t.idle, t.total))
}

/// The machine's CPU use between two [`machine_cpu`] readings, in % of all
/// CPUs (one decimal), or null.
pub fn machine_busy_pct(before: Option<(u64, u64)>, after: Option<(u64, u64)>) -> Value {
    match (before, after) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => {
            json!(round(100.0 * (b1 - b0) as f64 / (t1 - t0) as f64, 1))
        }
        _ => Value::Null,
    }
}

// ---------------------------------------------------------------------------
// Child processes

/// Kills the child (SIGKILL) and reaps it when dropped, unless it was waited for.
pub struct ChildGuard {
    child: Option<Child>,
}

impl ChildGuard {
    pub fn new(child: Child) -> ChildGuard {
        ChildGuard { child: Some(child) }
    }

    /// The child's standard output, when it was piped (taken once).
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.as_mut().and_then(|c| c.stdout.take())
    }

    /// The child's pid (0 once reaped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The exit status if the child has exited (it is then reaped: the
    /// guard no longer kills anything).
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(c) => {
                let status = c.try_wait()?;
                if status.is_some() {
                    self.child = None;
                }
                Ok(status)
            }
            None => fail("child already reaped"),
        }
    }

    /// SIGTERM, then waits up to `limit` (SIGKILL when dropped after that).
    pub fn terminate(&mut self, limit: Duration) -> Result<ExitStatus> {
        self.signal("-TERM")?;
        self.wait(limit)
    }

    /// Sends a signal (`kill`'s argument, e.g. `-INT`).
    pub fn signal(&self, sig: &str) -> Result<()> {
        let pid = self.pid();
        let status = Command::new("kill")
            .arg(sig)
            .arg(pid.to_string())
            .status()?;
        if !status.success() {
            return fail(format!("kill {sig} {pid} failed"));
        }
        Ok(())
    }

    /// Waits up to `limit` for the child to exit.
    pub fn wait(&mut self, limit: Duration) -> Result<ExitStatus> {
        let pid = self.pid();
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                return fail(format!(
                    "process {pid} did not exit within {limit:?}; killed"
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The last `lines` lines of a (log) file; empty if unreadable.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
