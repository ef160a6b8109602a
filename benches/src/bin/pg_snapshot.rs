//! The PostgreSQL initial snapshot benchmark: how fast does sluice read a
//! table of N rows with `snapshot.mode=initial_only`, compared with
//! `psql -c 'COPY t TO STDOUT' > /dev/null` reading the same table?
//!
//! Run it with `./scripts/bench-snapshot.sh [--rows N]` (docs/benchmarks.md
//! describes the method). It starts a throwaway PostgreSQL, loads a table of
//! N rows (~200 bytes each), `VACUUM (FREEZE, ANALYZE)`s it, then:
//!
//! 1. `COPY bench_rows TO STDOUT` through `psql` into /dev/null, timed by
//!    `/usr/bin/time` (first, and again last, to show the noise);
//! 2. `sluice standalone`, null sink, `snapshot.max.threads=2`;
//! 3. the same with one thread;
//! 4. `sluice standalone`, file sink (`sink.file.fsync=false`), two threads;
//!    the file must hold N lines.
//!
//! Each sluice run gets its own slot, `topic.prefix` and offset file, so it
//! takes a new snapshot. A run is complete when the offset file holds an
//! offset with `"last_snapshot_record": true`: the worker commits the last
//! snapshot record's offset only once that record (and every one before it)
//! is acknowledged by the sink.
//!
//! Progress goes to stderr; one JSON object with the results goes to stdout.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use sluice_testkit::PgServer;

use sluice_benches::pg::{create_schema, insert_rows, start_postgres, Db};
use sluice_benches::{
    bench_main, clock_ticks_per_second, fail, free_port, git_commit, machine, machine_ticks,
    parse_count, proc_cpu_ticks, proc_stat, proc_status_kb, progress, read_stat, round, ChildGuard,
    MachineTicks, Result, Ticks, DB, POLL, PUBLICATION, TABLE,
};

/// How often the server's processes are listed again (their CPU is read at
/// every poll).
const RESCAN: Duration = Duration::from_millis(100);
const MAX_BATCH_SIZE: u64 = 2048;

// ---------------------------------------------------------------------------
// Command line

struct Args {
    rows: u64,
    chunk_rows: u64,
    fetch_size: u64,
    file_run: bool,
    sluice: PathBuf,
    timeout: Option<Duration>,
    work_dir: Option<PathBuf>,
    perf: bool,
    perf_call_graph: String,
    /// Extra connector keys (`--set key=value`), for experiments.
    extra: Vec<(String, String)>,
}

const USAGE: &str = "\
usage: pg_snapshot [--rows N] [--chunk-rows R] [--fetch-size F] [--no-file-run]
                   [--sluice PATH] [--timeout-s S] [--work-dir DIR] [--perf]
                   [--perf-call-graph MODE] [--set KEY=VALUE]...

  --rows N          rows in the table (default 1000000; ~200 bytes each)
  --chunk-rows R    snapshot.chunk.rows (default 100000)
  --fetch-size F    snapshot.fetch.size (default 10240)
  --no-file-run     skip the file sink run
  --set KEY=VALUE   add or override a connector key in every sluice run (repeatable;
                    an experiment, reported under settings.extra)
  --sluice PATH     the sluice binary (default: next to this program)
  --timeout-s S     give up a run after S seconds (default 120 + N/5000)
  --work-dir DIR    keep configs, logs and outputs in DIR (default: a temporary directory)
  --perf            record a system-wide `perf record -a -g` profile of every run into the
                    work directory (kept); the figures of such a run include perf's overhead
  --perf-call-graph MODE
                    implies --perf; perf's --call-graph (default fp; `dwarf` unwinds
                    sluice's frames, which have no frame pointers, at a higher overhead)";

fn parse_args() -> Result<Args> {
    let mut args = Args {
        rows: 1_000_000,
        chunk_rows: 100_000,
        fetch_size: 10_240,
        file_run: true,
        sluice: std::env::current_exe()?
            .parent()
            .map(|d| d.join("sluice"))
            .unwrap_or_else(|| PathBuf::from("sluice")),
        timeout: None,
        work_dir: None,
        perf: false,
        perf_call_graph: "fp".into(),
        extra: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}").into())
        };
        match flag.as_str() {
            "--rows" | "-n" => args.rows = parse_count(&value()?)?,
            "--chunk-rows" => args.chunk_rows = parse_count(&value()?)?.max(1),
            "--fetch-size" => args.fetch_size = parse_count(&value()?)?.max(1),
            "--no-file-run" => args.file_run = false,
            "--set" => {
                let kv = value()?;
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("--set needs key=value, got {kv:?}"))?;
                args.extra.push((k.to_string(), v.to_string()));
            }
            "--sluice" => args.sluice = PathBuf::from(value()?),
            "--timeout-s" => args.timeout = Some(Duration::from_secs(parse_count(&value()?)?)),
            "--work-dir" => args.work_dir = Some(PathBuf::from(value()?)),
            "--perf" => args.perf = true,
            "--perf-call-graph" => {
                args.perf = true;
                args.perf_call_graph = value()?;
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return fail(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.rows < 10 {
        return fail("--rows must be at least 10");
    }
    Ok(args)
}

// ---------------------------------------------------------------------------
// /proc readers

/// CPU time of a process's threads per thread name, busiest first.
fn thread_ticks(pid: u32) -> BTreeMap<String, Vec<Ticks>> {
    let mut by_name: BTreeMap<String, Vec<Ticks>> = BTreeMap::new();
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_name;
    };
    for entry in dir.flatten() {
        if let Some(s) = read_stat(&entry.path().join("stat")) {
            by_name.entry(s.comm).or_default().push(s.cpu);
        }
    }
    for v in by_name.values_mut() {
        v.sort_by_key(|t| std::cmp::Reverse(t.total()));
    }
    by_name
}

/// The whole machine's CPU over a run, and this benchmark program's own.
#[derive(Clone, Copy)]
struct MachineCpu {
    machine: Option<MachineTicks>,
    own: Option<Ticks>,
}

impl MachineCpu {
    fn now() -> MachineCpu {
        MachineCpu {
            machine: machine_ticks(),
            own: proc_cpu_ticks(std::process::id()),
        }
    }
}

/// How busy the machine was, and the CPU time of every process other than
/// the contender (`ours`: client + server) and this program: other work on
/// the machine during the run, which makes the figures noisy.
fn machine_figures(before: MachineCpu, after: MachineCpu, ours: u64, ticks_per_s: f64) -> Value {
    match (before.machine, after.machine) {
        (Some(a), Some(b)) if b.total > a.total => {
            let own = match (before.own, after.own) {
                (Some(x), Some(y)) => y.saturating_sub(x).total(),
                _ => 0,
            };
            let process = b.process - a.process;
            let irq = b.irq - a.irq;
            let steal = b.steal - a.steal;
            let total = (b.total - a.total) as f64;
            let other = process as i64 - ours as i64 - own as i64;
            let secs = |t: u64| round(t as f64 / ticks_per_s, 2);
            json!({
                "busy_pct": round(100.0 * (process + irq) as f64 / total, 1),
                "process_cpu_s": secs(process),
                "irq_softirq_s": secs(irq),
                "steal_s": secs(steal),
                "bench_program_cpu_s": secs(own),
                "other_processes_cpu_s": secs(other.max(0) as u64),
            })
        }
        _ => Value::Null,
    }
}

/// What a PostgreSQL server process is, from its process title.
fn pg_process_kind(title: &str) -> &'static str {
    if title.contains("walsender") {
        "walsender"
    } else if title.starts_with("postgres: postgres ") {
        // "postgres: <user> <database> <host> <activity>": a client backend.
        "backends"
    } else {
        "background"
    }
}

struct ServerProc {
    kind: &'static str,
    /// CPU when the measurement started (zero for a process started since).
    start: Ticks,
    /// Latest reading.
    last: Ticks,
    alive: bool,
}

/// CPU of the whole PostgreSQL server (postmaster and every child) over a
/// measurement. Exact total: the children alive at the end are read from
/// /proc, those that exited meanwhile are in the postmaster's cutime/cstime.
/// The split by kind (client backends, walsenders, background processes)
/// uses each child's last reading, taken every poll: a process that exits
/// loses up to one poll interval; the rest is reported as `unattributed`.
struct ServerCpu {
    postmaster: u32,
    postmaster_start: Ticks,
    reaped_start: Ticks,
    procs: BTreeMap<u32, ServerProc>,
    last_scan: Instant,
}

impl ServerCpu {
    fn begin(postmaster: u32) -> ServerCpu {
        let mut s = ServerCpu {
            postmaster,
            postmaster_start: Ticks::default(),
            reaped_start: Ticks::default(),
            procs: BTreeMap::new(),
            last_scan: Instant::now(),
        };
        if let Some(st) = proc_stat(postmaster) {
            s.postmaster_start = st.cpu;
            s.reaped_start = st.children;
        }
        s.scan(true);
        s
    }

    /// Finds new children of the postmaster.
    fn scan(&mut self, at_start: bool) {
        self.last_scan = Instant::now();
        let Ok(dir) = fs::read_dir("/proc") else {
            return;
        };
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if self.procs.contains_key(&pid) {
                continue;
            }
            let Some(st) = read_stat(&entry.path().join("stat")) else {
                continue;
            };
            if st.ppid != self.postmaster {
                continue;
            }
            let title = fs::read(entry.path().join("cmdline"))
                .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                .unwrap_or_default();
            self.procs.insert(
                pid,
                ServerProc {
                    kind: pg_process_kind(title.trim()),
                    start: if at_start { st.cpu } else { Ticks::default() },
                    last: st.cpu,
                    alive: true,
                },
            );
        }
    }

    fn sample(&mut self) {
        if self.last_scan.elapsed() >= RESCAN {
            self.scan(false);
        }
        for (pid, p) in self.procs.iter_mut().filter(|(_, p)| p.alive) {
            match proc_cpu_ticks(*pid) {
                Some(t) => p.last = t,
                None => p.alive = false,
            }
        }
    }

    /// The figures since `begin`: (total, postmaster itself, per kind, unattributed).
    fn finish(&mut self) -> ServerCpuFigures {
        self.scan(false);
        // The postmaster's reaped-children time, then the live children,
        // then the reaped time again: a child reaped in between would be
        // counted in neither, so read again until nothing moved.
        let mut total = Ticks::default();
        let mut postmaster = Ticks::default();
        for _ in 0..5 {
            let Some(before) = proc_stat(self.postmaster) else {
                break;
            };
            self.sample();
            let Some(after) = proc_stat(self.postmaster) else {
                break;
            };
            postmaster = after.cpu.saturating_sub(self.postmaster_start);
            let reaped = after.children.saturating_sub(self.reaped_start);
            let mut alive = Ticks::default();
            let mut existed_then_exited = Ticks::default();
            for p in self.procs.values() {
                if p.alive {
                    alive = alive + p.last.saturating_sub(p.start);
                } else {
                    // Its whole lifetime is in cutime; the part before the
                    // measurement is not ours.
                    existed_then_exited = existed_then_exited + p.start;
                }
            }
            total = (reaped + alive).saturating_sub(existed_then_exited) + postmaster;
            if before.children == after.children {
                break;
            }
        }
        let mut kinds: BTreeMap<&'static str, Ticks> = BTreeMap::new();
        for p in self.procs.values() {
            let e = kinds.entry(p.kind).or_default();
            *e = *e + p.last.saturating_sub(p.start);
        }
        let attributed = kinds.values().fold(postmaster, |a, t| a + *t);
        ServerCpuFigures {
            total,
            postmaster,
            unattributed: total.total() as i64 - attributed.total() as i64,
            kinds,
        }
    }
}

struct ServerCpuFigures {
    total: Ticks,
    postmaster: Ticks,
    kinds: BTreeMap<&'static str, Ticks>,
    unattributed: i64,
}

impl ServerCpuFigures {
    fn to_json(&self, rows: u64, ticks_per_s: f64) -> Value {
        let secs = |t: Ticks| round(t.total() as f64 / ticks_per_s, 2);
        let mut by_kind = Map::new();
        for (k, t) in &self.kinds {
            by_kind.insert((*k).to_string(), json!(secs(*t)));
        }
        by_kind.insert("postmaster".into(), json!(secs(self.postmaster)));
        by_kind.insert(
            "unattributed".into(),
            json!(round(self.unattributed as f64 / ticks_per_s, 2)),
        );
        json!({
            "cpu_s": secs(self.total),
            "cpu_user_sys_s": [
                round(self.total.user as f64 / ticks_per_s, 2),
                round(self.total.sys as f64 / ticks_per_s, 2)
            ],
            "cpu_us_per_row": round(self.total.total() as f64 / ticks_per_s * 1e6 / rows as f64, 2),
            "by_kind_cpu_s": by_kind,
        })
    }
}

// ---------------------------------------------------------------------------
// Child processes

/// A system-wide profile (`perf record -a -g`) while a run goes on.
struct Profile {
    child: ChildGuard,
    data: PathBuf,
}

/// Where profiles go, and perf's `--call-graph` mode.
type PerfOpts<'a> = Option<(&'a Path, &'a str)>;

fn start_profile(perf: PerfOpts, label: &str) -> Result<Option<Profile>> {
    let Some((dir, call_graph)) = perf else {
        return Ok(None);
    };
    let data = dir.join(format!("{label}.perf.data"));
    let child = Command::new("perf")
        .args([
            "record",
            "-a",
            "--call-graph",
            call_graph,
            "-F",
            "999",
            "-q",
            "-o",
        ])
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(dir.join(format!("{label}.perf.log")))?)
        .spawn()
        .map_err(|e| format!("cannot run perf: {e}"))?;
    // perf needs a moment to set up its buffers.
    std::thread::sleep(Duration::from_millis(300));
    Ok(Some(Profile {
        child: ChildGuard::new(child),
        data,
    }))
}

fn stop_profile(p: Option<Profile>) -> Result<()> {
    if let Some(mut p) = p {
        p.child.signal("-INT")?;
        p.child.wait(Duration::from_secs(120))?;
        progress!(
            "profile: perf report -i {} --sort comm,dso,sym",
            p.data.display()
        );
    }
    Ok(())
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    // sluice colours its log even into a file: strip the escapes.
    let all: Vec<String> = text.lines().map(strip_ansi).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A libpq client command (psql) with no PG* variables from our environment.
fn libpq_command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("PG") {
            cmd.env_remove(&k);
        }
    }
    cmd.env("PGCONNECT_TIMEOUT", "10");
    cmd
}

// ---------------------------------------------------------------------------
// Numbers

fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Shared figures of one read of the table.
struct Run {
    seconds: f64,
    cpu_ticks: Option<Ticks>,
    peak_rss_kb: Option<u64>,
    server: ServerCpuFigures,
    machine: Value,
}

impl Run {
    fn to_json(&self, rows: u64, ticks_per_s: f64) -> Map<String, Value> {
        let secs = |t: u64| t as f64 / ticks_per_s;
        let cpu_s = self.cpu_ticks.map(|t| secs(t.total()));
        let mut m = Map::new();
        m.insert("seconds".into(), json!(round(self.seconds, 3)));
        m.insert(
            "rows_per_s".into(),
            json!((rows as f64 / self.seconds).round()),
        );
        m.insert("cpu_s".into(), json!(cpu_s.map(|c| round(c, 2))));
        m.insert(
            "cpu_user_sys_s".into(),
            json!(self
                .cpu_ticks
                .map(|t| [round(secs(t.user), 2), round(secs(t.sys), 2)])),
        );
        m.insert(
            "cpu_us_per_row".into(),
            json!(cpu_s.map(|c| round(c * 1e6 / rows as f64, 2))),
        );
        m.insert(
            "peak_rss_mb".into(),
            json!(self.peak_rss_kb.map(|k| round(k as f64 / 1024.0, 1))),
        );
        m.insert("server".into(), self.server.to_json(rows, ticks_per_s));
        m.insert("machine".into(), self.machine.clone());
        m
    }
}

fn rows_per_s(v: &Value) -> Option<f64> {
    v.get("rows_per_s").and_then(Value::as_f64)
}

// ---------------------------------------------------------------------------
// Setup

struct Table {
    load_seconds: f64,
    row_bytes: f64,
    heap_bytes: u64,
    pages: u64,
}

fn create_table(db: &Db, n: u64) -> Result<Table> {
    // The table and a publication; sluice creates its own slots.
    create_schema(db, &[])?;
    progress!("loading {n} rows into {TABLE}");
    let t0 = Instant::now();
    let limit = Duration::from_secs(600);
    let batch = 100_000u64;
    let mut lo = 1u64;
    while lo <= n {
        let hi = (lo + batch - 1).min(n);
        // c: 100–140 characters of hex (120 on average).
        insert_rows(db, lo..=hi, 100, 41, limit)?;
        lo = hi + 1;
    }
    // Hint bits set, all pages frozen and all-visible, statistics (the
    // snapshot plans its chunks from reltuples/relpages): no contender pays
    // for the first read after the load.
    db.exec(&format!("VACUUM (FREEZE, ANALYZE) {TABLE}"), limit)?;
    db.exec("CHECKPOINT", limit)?;
    let load_seconds = t0.elapsed().as_secs_f64();
    let row_bytes: f64 = db
        .value(&format!(
            "SELECT avg(pg_column_size(t.*))::float8 FROM {TABLE} t"
        ))?
        .parse()?;
    let heap_bytes: u64 = db
        .value(&format!("SELECT pg_relation_size('{TABLE}')"))?
        .parse()?;
    let pages: u64 = db
        .value(&format!(
            "SELECT relpages FROM pg_class WHERE relname = '{TABLE}'"
        ))?
        .parse()?;
    progress!(
        "table ready in {load_seconds:.1}s: rows of {row_bytes:.0} bytes on average, heap {:.0} MB ({pages} pages)",
        heap_bytes as f64 / 1e6
    );
    Ok(Table {
        load_seconds,
        row_bytes,
        heap_bytes,
        pages,
    })
}

/// The PostgreSQL server's main process (the parent of our backend).
fn postmaster_pid(db: &Db) -> Result<u32> {
    let backend: u32 = db.value("SELECT pg_backend_pid()")?.parse()?;
    match proc_stat(backend) {
        Some(s) if s.ppid > 1 => Ok(s.ppid),
        _ => fail(format!("cannot read /proc/{backend}/stat")),
    }
}

// ---------------------------------------------------------------------------
// Baseline: COPY … TO STDOUT through psql

fn psql_copy_args(pg: &PgServer) -> Vec<String> {
    vec![
        "-X".into(),
        "-q".into(),
        "-d".into(),
        format!("{} application_name=pg_snapshot_copy", pg.conn_string(DB)),
        "-c".into(),
        format!("COPY {TABLE} TO STDOUT"),
    ]
}

/// One untimed COPY whose output is counted: the text size, and a check
/// that COPY sees N rows.
fn copy_text_size(pg: &PgServer, timeout: Duration) -> Result<(u64, u64)> {
    let mut child = ChildGuard::new(
        libpq_command(&pg.bin_dir().join("psql"))
            .args(psql_copy_args(pg))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?,
    );
    let mut out = child.take_stdout().ok_or("no stdout")?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut bytes, mut lines) = (0u64, 0u64);
    loop {
        let n = out.read(&mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
    }
    let status = child.wait(timeout)?;
    if !status.success() {
        return fail(format!("psql COPY failed ({status})"));
    }
    Ok((bytes, lines))
}

#[allow(clippy::too_many_arguments)]
fn run_copy(
    pg: &PgServer,
    dir: &Path,
    label: &str,
    postmaster: u32,
    n: u64,
    timeout: Duration,
    ticks_per_s: f64,
    perf: PerfOpts,
) -> Result<Value> {
    progress!("COPY {TABLE} TO STDOUT > /dev/null ({label})");
    let time_file = dir.join(format!("{label}.time"));
    let log = dir.join(format!("{label}.log"));
    let mut cmd = libpq_command(Path::new("/usr/bin/time"));
    cmd.arg("-o")
        .arg(&time_file)
        .args(["-f", "%e %U %S %M"])
        .arg(pg.bin_dir().join("psql"))
        .args(psql_copy_args(pg))
        .stdin(Stdio::null())
        .stdout(File::create("/dev/null")?)
        .stderr(File::create(&log)?);
    let profile = start_profile(perf, label)?;
    let sys0 = MachineCpu::now();
    let mut server = ServerCpu::begin(postmaster);
    let t0 = Instant::now();
    let mut child = ChildGuard::new(
        cmd.spawn()
            .map_err(|e| format!("cannot run /usr/bin/time (apt-get install time): {e}"))?,
    );
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if t0.elapsed() > timeout {
            return fail(format!(
                "COPY did not finish within {timeout:?}\n{}",
                log_tail(&log, 20)
            ));
        }
        server.sample();
        std::thread::sleep(POLL);
    };
    let seconds = t0.elapsed().as_secs_f64();
    let sys1 = MachineCpu::now();
    // Let the postmaster reap the backend (its CPU moves to cutime).
    std::thread::sleep(Duration::from_millis(200));
    let server = server.finish();
    stop_profile(profile)?;
    if !status.success() {
        return fail(format!(
            "psql COPY failed ({status}):\n{}",
            log_tail(&log, 20)
        ));
    }
    // "%e %U %S %M": wall, user, system seconds, max RSS in kB.
    let timing = fs::read_to_string(&time_file)?;
    let last = timing.lines().last().unwrap_or("");
    let f: Vec<f64> = last
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    if f.len() != 4 {
        return fail(format!("cannot parse /usr/bin/time output {timing:?}"));
    }
    let cpu_ticks = Ticks {
        user: (f[1] * ticks_per_s).round() as u64,
        sys: (f[2] * ticks_per_s).round() as u64,
    };
    let ours = cpu_ticks.total() + server.total.total();
    let run = Run {
        seconds,
        cpu_ticks: Some(cpu_ticks),
        peak_rss_kb: Some(f[3] as u64),
        server,
        machine: machine_figures(sys0, sys1, ours, ticks_per_s),
    };
    let mut m = run.to_json(n, ticks_per_s);
    m.insert("time_reported_wall_s".into(), json!(f[0]));
    let v = Value::Object(m);
    progress!("COPY ({label}): {v}");
    Ok(v)
}

// ---------------------------------------------------------------------------
// sluice

#[derive(Clone, Copy, PartialEq)]
enum SinkKind {
    Null,
    File,
}

struct Sluice {
    child: ChildGuard,
    log: PathBuf,
    offsets: PathBuf,
    output: Option<PathBuf>,
    started: Instant,
    started_unix_us: i64,
}

fn start_sluice(
    args: &Args,
    pg: &PgServer,
    dir: &Path,
    label: &str,
    slot: &str,
    threads: u32,
    sink: SinkKind,
) -> Result<Sluice> {
    let run_dir = dir.join(label);
    fs::create_dir_all(&run_dir)?;
    let offsets = run_dir.join("offsets.json");
    let output = run_dir.join("out.jsonl");
    let _ = fs::remove_file(&offsets);
    let _ = fs::remove_file(&output);
    let rest_port = free_port()?;
    let mut worker = format!(
        "offset.storage.file.filename={}\n\
         offset.flush.interval.ms=50\n\
         key.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         key.converter.schemas.enable=false\n\
         value.converter.schemas.enable=false\n\
         rest.host.name=127.0.0.1\n\
         rest.port={rest_port}\n",
        offsets.display()
    );
    match sink {
        SinkKind::Null => worker.push_str("sink.type=null\n"),
        SinkKind::File => worker.push_str(&format!(
            "sink.type=file\nsink.file.path={}\nsink.file.fsync=false\n",
            output.display()
        )),
    }
    let worker_path = run_dir.join("worker.properties");
    fs::write(&worker_path, worker)?;
    let mut connector = json!({
        "name": format!("bench-{label}"),
        "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": "1",
            "database.hostname": "127.0.0.1",
            "database.port": pg.port().to_string(),
            "database.user": "postgres",
            "database.dbname": DB,
            "topic.prefix": format!("bench_{label}"),
            "plugin.name": "pgoutput",
            "slot.name": slot,
            "publication.name": PUBLICATION,
            "publication.autocreate.mode": "disabled",
            "snapshot.mode": "initial_only",
            "snapshot.max.threads": threads.to_string(),
            "snapshot.chunk.rows": args.chunk_rows.to_string(),
            "snapshot.fetch.size": args.fetch_size.to_string(),
            "max.batch.size": MAX_BATCH_SIZE.to_string(),
            "max.queue.size": "8192",
            "poll.interval.ms": "100",
            "status.update.interval.ms": "1000"
        }
    });
    for (k, v) in &args.extra {
        connector["config"][k] = json!(v);
    }
    let connector_path = run_dir.join("pg.json");
    fs::write(&connector_path, serde_json::to_string_pretty(&connector)?)?;
    let log = run_dir.join("sluice.log");
    let log_file = File::create(&log)?;
    let mut cmd = Command::new(&args.sluice);
    cmd.arg("standalone")
        .arg(&worker_path)
        .arg(&connector_path)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file);
    let started_unix_us = unix_us();
    let started = Instant::now();
    let child = cmd.spawn().map_err(|e| {
        format!(
            "cannot run {} (build it: cargo build --release -p sluice): {e}",
            args.sluice.display()
        )
    })?;
    Ok(Sluice {
        child: ChildGuard::new(child),
        log,
        offsets,
        output: (sink == SinkKind::File).then_some(output),
        started,
        started_unix_us,
    })
}

/// The committed offsets; `Some(offset)` once one says the snapshot's last
/// record is durable.
fn read_offsets(path: &Path) -> Option<(bool, Value)> {
    let text = fs::read(path).ok()?;
    let doc: Value = serde_json::from_slice(&text).ok()?;
    let entries = doc.get("offsets")?.as_array()?;
    let done = entries.iter().find(|e| {
        e.pointer("/value/last_snapshot_record")
            .and_then(Value::as_bool)
            == Some(true)
    });
    match done {
        Some(e) => Some((true, e.clone())),
        None => Some((false, entries.first().cloned().unwrap_or(Value::Null))),
    }
}

struct SluiceRun {
    run: Run,
    first_offset_s: Option<f64>,
    first_output_s: Option<f64>,
    rss_at_end_kb: Option<u64>,
    threads: BTreeMap<String, Vec<Ticks>>,
    final_offset: Value,
}

fn wait_snapshot(
    s: &mut Sluice,
    postmaster: u32,
    timeout: Duration,
    ticks_per_s: f64,
) -> Result<SluiceRun> {
    let sys0 = MachineCpu::now();
    let mut server = ServerCpu::begin(postmaster);
    let pid = s.child.pid();
    let mut first_offset_s = None;
    let mut first_output_s = None;
    let mut last_report = Instant::now();
    let mut last_offset = Value::Null;
    loop {
        if let Some(status) = s.child.try_wait()? {
            return fail(format!(
                "sluice exited before the snapshot's last record was committed ({status}); last offset {last_offset}; last log lines:\n{}",
                log_tail(&s.log, 30)
            ));
        }
        let at = s.started.elapsed().as_secs_f64();
        if let Some((done, offset)) = read_offsets(&s.offsets) {
            first_offset_s.get_or_insert(at);
            if done {
                // Figures of the process right before it is stopped.
                let cpu_ticks = proc_cpu_ticks(pid);
                let peak_rss_kb = proc_status_kb(pid, "VmHWM");
                let rss_at_end_kb = proc_status_kb(pid, "VmRSS");
                let threads = thread_ticks(pid);
                let seconds = s.started.elapsed().as_secs_f64();
                let sys1 = MachineCpu::now();
                let server = server.finish();
                let ours = cpu_ticks.map_or(0, Ticks::total) + server.total.total();
                return Ok(SluiceRun {
                    run: Run {
                        seconds,
                        cpu_ticks,
                        peak_rss_kb,
                        server,
                        machine: machine_figures(sys0, sys1, ours, ticks_per_s),
                    },
                    first_offset_s,
                    first_output_s,
                    rss_at_end_kb,
                    threads,
                    final_offset: offset,
                });
            }
            last_offset = offset;
        }
        if first_output_s.is_none() {
            if let Some(out) = &s.output {
                if fs::metadata(out).map(|m| m.len() > 0).unwrap_or(false) {
                    first_output_s = Some(at);
                }
            }
        }
        server.sample();
        if s.started.elapsed() > timeout {
            return fail(format!(
                "sluice did not commit the snapshot's last record within {timeout:?} (last offset {last_offset}); last log lines:\n{}",
                log_tail(&s.log, 30)
            ));
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            progress!("  … {at:.1}s, offset {last_offset}");
            last_report = Instant::now();
        }
        std::thread::sleep(POLL);
    }
}

fn count_lines(path: &Path) -> Result<(u64, Option<Value>)> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    let mut first_line = Vec::new();
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if lines == 0 {
            let end = buf[..n].iter().position(|b| *b == b'\n').unwrap_or(n);
            first_line.extend_from_slice(&buf[..end]);
        }
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
    }
    Ok((lines, serde_json::from_slice(&first_line).ok()))
}

/// Seconds from the process's start to the first log line containing `needle`
/// (the log's RFC 3339 timestamps against the start's wall clock).
fn log_event_s(log: &Path, started_unix_us: i64, needle: &str) -> Option<f64> {
    let text = fs::read_to_string(log).ok()?;
    let line = text.lines().find(|l| l.contains(needle))?;
    let line = strip_ansi(line);
    let ts = line.split_whitespace().next()?;
    let us = parse_rfc3339_us(ts)?;
    Some(round((us - started_unix_us) as f64 / 1e6, 3))
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `2026-11-22T00:47:01.123456Z` (UTC only) → µs since the epoch.
fn parse_rfc3339_us(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, mo, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (h, mi, sec) = (t.next()??, t.next()??, t.next()??);
    let frac_us = format!("{frac:0<6}").get(..6)?.parse::<i64>().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3_600 + mi * 60 + sec) * 1_000_000) + frac_us)
}

#[allow(clippy::too_many_arguments)]
fn run_sluice(
    args: &Args,
    pg: &PgServer,
    db: &Db,
    dir: &Path,
    postmaster: u32,
    label: &str,
    threads: u32,
    sink: SinkKind,
    timeout: Duration,
    ticks_per_s: f64,
) -> Result<Value> {
    let n = args.rows;
    let slot = format!("bench_snap_{label}");
    progress!("sluice ({label}): snapshot.max.threads={threads}, slot {slot}");
    let perf = args.perf.then_some((dir, args.perf_call_graph.as_str()));
    let profile = start_profile(perf, &format!("sluice_{label}"))?;
    let mut s = start_sluice(args, pg, dir, label, &slot, threads, sink)?;
    let r = wait_snapshot(&mut s, postmaster, timeout, ticks_per_s)?;
    stop_profile(profile)?;
    let mut m = r.run.to_json(n, ticks_per_s);
    m.insert("snapshot_max_threads".into(), json!(threads));
    m.insert(
        "first_offset_s".into(),
        json!(r.first_offset_s.map(|x| round(x, 3))),
    );
    // Start-up, from the log: connections, slot with its exported
    // snapshot, catalog; then the table's plan; then its rows.
    for (key, needle) in [
        ("snapshot_start_s", "starting the initial snapshot"),
        ("table_read_start_s", "snapshotting table"),
        ("snapshot_done_logged_s", "snapshot completed"),
    ] {
        m.insert(
            key.into(),
            json!(log_event_s(&s.log, s.started_unix_us, needle)),
        );
    }
    // The rate once the table is being read (start-up excluded).
    if let Some(t) = log_event_s(&s.log, s.started_unix_us, "snapshotting table") {
        if r.run.seconds > t {
            m.insert(
                "rows_per_s_after_startup".into(),
                json!((n as f64 / (r.run.seconds - t)).round()),
            );
        }
    }
    m.insert(
        "rss_at_end_mb".into(),
        json!(r.rss_at_end_kb.map(|k| round(k as f64 / 1024.0, 1))),
    );
    let mut th = Map::new();
    for (name, ticks) in &r.threads {
        let per_thread: Vec<f64> = ticks
            .iter()
            .map(|t| round(t.total() as f64 / ticks_per_s, 2))
            .collect();
        th.insert(name.clone(), json!(per_thread));
    }
    m.insert("threads_cpu_s".into(), Value::Object(th));
    m.insert("final_offset".into(), r.final_offset.clone());
    if sink == SinkKind::File {
        m.insert(
            "first_output_s".into(),
            json!(r.first_output_s.map(|x| round(x, 3))),
        );
        let out = s.output.clone().expect("file sink output");
        let (lines, first) = count_lines(&out)?;
        let bytes = fs::metadata(&out)?.len();
        m.insert("output_lines".into(), json!(lines));
        m.insert("expected_lines".into(), json!(n));
        m.insert("output_lines_ok".into(), json!(lines == n));
        m.insert("output_bytes".into(), json!(bytes));
        m.insert(
            "mb_per_s".into(),
            json!(round(bytes as f64 / 1e6 / r.run.seconds, 1)),
        );
        m.insert(
            "first_line_op".into(),
            first
                .as_ref()
                .and_then(|v| v.pointer("/value/op").cloned())
                .unwrap_or(Value::Null),
        );
        if lines != n {
            progress!(
                "WARNING: {} holds {lines} lines, expected {n}",
                out.display()
            );
        }
    }
    let status = s.child.terminate(Duration::from_secs(30))?;
    m.insert("exit_code".into(), json!(status.code()));
    if !status.success() {
        progress!(
            "WARNING: sluice exited with {status} after SIGTERM; last log lines:\n{}",
            log_tail(&s.log, 20)
        );
        m.insert("log_tail".into(), json!(log_tail(&s.log, 20)));
    }
    // The slot is not needed any more (initial_only never streams from it).
    if let Err(e) = db.exec(
        &format!(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '{slot}'"
        ),
        Duration::from_secs(30),
    ) {
        progress!("WARNING: dropping slot {slot}: {e}");
    }
    let v = Value::Object(m);
    progress!("sluice ({label}): {v}");
    Ok(v)
}

// ---------------------------------------------------------------------------
// Context

// ---------------------------------------------------------------------------

fn run(args: &Args) -> Result<Value> {
    let n = args.rows;
    let ticks_per_s = clock_ticks_per_second();
    let timeout = args.timeout.unwrap_or(Duration::from_secs(120 + n / 5_000));
    if !args.sluice.exists() {
        return fail(format!(
            "{} not found: build it with cargo build --release -p sluice, or pass --sluice PATH",
            args.sluice.display()
        ));
    }
    let started_unix = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let tmp = tempfile::Builder::new()
        .prefix("sluice-bench-snapshot-")
        .tempdir()?;
    let dir = match &args.work_dir {
        Some(d) => {
            fs::create_dir_all(d)?;
            d.canonicalize()?
        }
        None => tmp.path().to_path_buf(),
    };
    // Profiles outlive the run: keep the temporary directory then.
    let _tmp = if args.work_dir.is_none() && args.perf {
        progress!("keeping {} (profiles)", tmp.keep().display());
        None
    } else {
        Some(tmp)
    };
    let perf = args
        .perf
        .then_some((dir.as_path(), args.perf_call_graph.as_str()));
    if args.perf {
        progress!("profiling with perf: the figures include its overhead");
    }
    // The whole table fits in shared buffers: every contender reads it
    // from memory.
    let pg = start_postgres("512MB")?;
    pg.create_database(DB)?;
    let db = Db::connect(&pg, DB)?;
    let pg_version = db.value("SHOW server_version")?;
    let postmaster = postmaster_pid(&db)?;
    progress!(
        "PostgreSQL {pg_version} on port {} (postmaster pid {postmaster})",
        pg.port()
    );
    let table = create_table(&db, n)?;

    // Warm-up (untimed): the COPY text's size, and COPY sees N rows.
    let (copy_bytes, copy_lines) = copy_text_size(&pg, timeout)?;
    if copy_lines != n {
        return fail(format!("COPY returned {copy_lines} rows, expected {n}"));
    }
    progress!(
        "COPY text: {copy_bytes} bytes, {:.1} bytes per row",
        copy_bytes as f64 / n as f64
    );
    std::thread::sleep(Duration::from_secs(1));

    let copy = run_copy(&pg, &dir, "copy", postmaster, n, timeout, ticks_per_s, perf)?;
    let mut sluice_runs: Vec<(&str, Value)> = Vec::new();
    for (label, threads, sink) in [
        ("null_2threads", 2, SinkKind::Null),
        ("null_1thread", 1, SinkKind::Null),
        ("file_2threads", 2, SinkKind::File),
    ] {
        if sink == SinkKind::File && !args.file_run {
            continue;
        }
        std::thread::sleep(Duration::from_secs(1));
        let v = run_sluice(
            args,
            &pg,
            &db,
            &dir,
            postmaster,
            label,
            threads,
            sink,
            timeout,
            ticks_per_s,
        )?;
        sluice_runs.push((label, v));
    }
    // The baseline once more, last: the spread between the two runs shows
    // how noisy the machine was.
    std::thread::sleep(Duration::from_secs(1));
    let copy_repeat = run_copy(
        &pg,
        &dir,
        "copy_repeat",
        postmaster,
        n,
        timeout,
        ticks_per_s,
        perf,
    )?;

    // The reference rate: the faster of the two COPY runs.
    let copy_rate = [rows_per_s(&copy), rows_per_s(&copy_repeat)]
        .into_iter()
        .flatten()
        .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))));
    let ratio = |v: &Value| match (rows_per_s(v), copy_rate) {
        (Some(a), Some(b)) if b > 0.0 => json!(round(a / b, 3)),
        _ => Value::Null,
    };
    let mut out = Map::new();
    out.insert("benchmark".into(), json!("pg_snapshot"));
    out.insert("rows".into(), json!(n));
    out.insert("bytes_per_row".into(), json!(round(table.row_bytes, 1)));
    out.insert(
        "table".into(),
        json!({
            "name": TABLE,
            "columns": "id bigint primary key, a int, b bigint, c text (100–140 chars), d timestamptz, e numeric(12,2), f boolean",
            "row_bytes_avg_pg_column_size": round(table.row_bytes, 1),
            "heap_mb": round(table.heap_bytes as f64 / 1e6, 1),
            "heap_bytes_per_row": round(table.heap_bytes as f64 / n as f64, 1),
            "pages": table.pages,
            "copy_text_bytes": copy_bytes,
            "copy_text_bytes_per_row": round(copy_bytes as f64 / n as f64, 1),
            "load_seconds": round(table.load_seconds, 2),
        }),
    );
    out.insert("copy".into(), copy.clone());
    out.insert("copy_repeat".into(), copy_repeat.clone());
    out.insert(
        "copy_reference_rows_per_s".into(),
        json!(copy_rate.map(f64::round)),
    );
    let mut max_rss: Option<f64> = None;
    let mut ratios = Map::new();
    for (label, v) in &mut sluice_runs {
        let r = ratio(v);
        if let Value::Object(m) = v {
            m.insert("ratio_to_copy".into(), r.clone());
        }
        ratios.insert(format!("sluice_{label}"), r);
        if let Some(rss) = v.get("peak_rss_mb").and_then(Value::as_f64) {
            max_rss = Some(max_rss.map_or(rss, |m: f64| m.max(rss)));
        }
        out.insert(format!("sluice_{label}"), v.clone());
    }
    out.insert("ratios_to_copy".into(), Value::Object(ratios));
    let null2 = sluice_runs
        .iter()
        .find(|(l, _)| *l == "null_2threads")
        .and_then(|(_, v)| rows_per_s(v));
    let exits_ok = sluice_runs
        .iter()
        .all(|(_, v)| v.get("exit_code").and_then(Value::as_i64) == Some(0));
    let file_ok = sluice_runs
        .iter()
        .find(|(l, _)| *l == "file_2threads")
        .and_then(|(_, v)| v.get("output_lines_ok").and_then(Value::as_bool));
    out.insert(
        "targets".into(),
        json!({
            "null_2threads_ge_50pct_copy": match (null2, copy_rate) {
                (Some(a), Some(b)) => Some(a >= 0.5 * b),
                _ => None,
            },
            "rss_le_300mb": max_rss.map(|r| r <= 300.0),
            "max_peak_rss_mb": max_rss,
            "sluice_exit_codes_0": exits_ok,
            "file_lines_eq_rows": file_ok,
        }),
    );
    out.insert(
        "settings".into(),
        json!({
            "snapshot.mode": "initial_only",
            "snapshot.chunk.rows": args.chunk_rows,
            "snapshot.fetch.size": args.fetch_size,
            "max.batch.size": MAX_BATCH_SIZE,
            "offset.flush.interval.ms": 50,
            "converters": "JsonConverter, schemas off",
            "file_sink_fsync": false,
            "extra": args.extra.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>(),
        }),
    );
    out.insert(
        "environment".into(),
        json!({
            "machine": machine(),
            "postgres": pg_version,
            "commit": git_commit(),
            "started_unix": started_unix,
            "sluice": args.sluice.display().to_string(),
        }),
    );
    drop(db);
    drop(pg);
    Ok(Value::Object(out))
}

fn main() {
    bench_main("pg_snapshot", parse_args, run);
}
