//! The PostgreSQL drain benchmark: how fast does sluice drain a replication
//! slot holding a backlog of N row changes, compared with `pg_recvlogical`
//! reading the same backlog, and how quickly does one change reach the file
//! sink on an idle database?
//!
//! Run it with `./scripts/bench-postgres.sh [--changes N]` (docs/benchmarks.md
//! describes the method). It starts a throwaway PostgreSQL, creates one slot
//! per contender *before* the backlog (so every contender decodes the same
//! WAL), generates the backlog, then drains the slots one after the other:
//!
//! 1. `pg_recvlogical` (pgoutput, output to /dev/null), timed by `/usr/bin/time`;
//! 2. `sluice standalone` with the null sink;
//! 3. `sluice standalone` with the file sink + JsonConverter (schemas off),
//!    `sink.file.fsync=false`, then the idle-stream latency on that process;
//! 4. the same with `sink.file.fsync=true` (the default), unless `--no-fsync-run`.
//!
//! A sluice run is complete when the slot's `confirmed_flush_lsn` reaches the
//! WAL position recorded after the backlog: sluice confirms a position to
//! the server only after the records before it are durable in the sink and
//! their offsets are committed.
//!
//! Progress goes to stderr; one JSON object with the results goes to stdout.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use sluice_testkit::PgServer;

use sluice_benches::pg::{create_schema, generate_backlog, start_postgres, Db, SlotPoller};
use sluice_benches::{
    bench_main, clock_ticks_per_second, fail, free_port, git_commit, log_tail, machine,
    machine_busy_pct, machine_cpu, parse_count, proc_cpu_ticks, proc_status_kb, progress, round,
    ChildGuard, Result, Ticks, DB, POLL, PUBLICATION, TABLE,
};

const SLOT_RECVLOGICAL: &str = "bench_recvlogical";
const SLOT_NULL: &str = "bench_sluice_null";
const SLOT_FILE: &str = "bench_sluice_file";
const SLOT_FILE_FSYNC: &str = "bench_sluice_file_fsync";
const SLOT_RECVLOGICAL_REPEAT: &str = "bench_recvlogical_repeat";
/// Ids of the rows inserted by the latency probe (far above the backlog's).
const PROBE_ID_BASE: i64 = 1_000_000_000_000;

// ---------------------------------------------------------------------------
// Command line

struct Args {
    changes: u64,
    batch: u64,
    latency_samples: usize,
    latency_gap: Duration,
    fsync_run: bool,
    sluice: PathBuf,
    drain_timeout: Option<Duration>,
    work_dir: Option<PathBuf>,
    perf: bool,
}

const USAGE: &str = "\
usage: pg_backlog [--changes N] [--batch ROWS] [--latency-samples K] [--latency-gap-ms MS]
                  [--no-fsync-run] [--sluice PATH] [--drain-timeout-s S]
                  [--work-dir DIR] [--perf]

  --changes N           row changes in the backlog (default 1000000; 70% inserts, 30% updates)
  --batch ROWS          rows per generating transaction (default 50000)
  --latency-samples K   single-row inserts timed on the idle stream (default 20)
  --latency-gap-ms MS   pause between them (default 200)
  --no-fsync-run        skip the file sink run with sink.file.fsync=true
  --sluice PATH         the sluice binary (default: next to this program)
  --drain-timeout-s S   give up a drain after S seconds (default 60 + N/5000)
  --work-dir DIR        keep configs, logs and outputs in DIR (default: a temporary directory)
  --perf                record a system-wide `perf record -a` profile of every drain into the
                        work directory (kept); the figures of such a run include perf's overhead";

fn parse_args() -> Result<Args> {
    let mut args = Args {
        changes: 1_000_000,
        batch: 50_000,
        latency_samples: 20,
        latency_gap: Duration::from_millis(200),
        fsync_run: true,
        sluice: std::env::current_exe()?
            .parent()
            .map(|d| d.join("sluice"))
            .unwrap_or_else(|| PathBuf::from("sluice")),
        drain_timeout: None,
        work_dir: None,
        perf: false,
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
            "--changes" | "-n" => args.changes = parse_count(&value()?)?,
            "--batch" => args.batch = parse_count(&value()?)?.max(1),
            "--latency-samples" => args.latency_samples = parse_count(&value()?)? as usize,
            "--latency-gap-ms" => args.latency_gap = Duration::from_millis(parse_count(&value()?)?),
            "--no-fsync-run" => args.fsync_run = false,
            "--sluice" => args.sluice = PathBuf::from(value()?),
            "--drain-timeout-s" => {
                args.drain_timeout = Some(Duration::from_secs(parse_count(&value()?)?))
            }
            "--work-dir" => args.work_dir = Some(PathBuf::from(value()?)),
            "--perf" => args.perf = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return fail(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.changes < 10 {
        return fail("--changes must be at least 10");
    }
    Ok(args)
}

// ---------------------------------------------------------------------------
// /proc readers
/// Follows the CPU time of the walsender(s) serving a slot (found through
/// `pg_replication_slots.active_pid`); a client that reconnects gets a new
/// walsender, whose time is added.
#[derive(Default)]
struct WalsenderCpu {
    /// Last reading of every walsender seen, in order.
    seen: Vec<(u32, Ticks)>,
}

impl WalsenderCpu {
    fn observe(&mut self, active_pid: Option<u32>) {
        if let Some(pid) = active_pid {
            if !self.seen.iter().any(|(p, _)| *p == pid) {
                self.seen.push((pid, Ticks::default()));
            }
        }
        for (pid, ticks) in &mut self.seen {
            if let Some(t) = proc_cpu_ticks(*pid) {
                *ticks = t;
            }
        }
    }

    fn known(&self) -> bool {
        !self.seen.is_empty()
    }

    fn total(&self) -> Option<Ticks> {
        self.known()
            .then(|| self.seen.iter().fold(Ticks::default(), |a, (_, t)| a + *t))
    }
}

// ---------------------------------------------------------------------------
// Child processes
/// A system-wide profile (`perf record -a`) while a drain runs.
struct Profile {
    child: ChildGuard,
    data: PathBuf,
}

fn start_profile(perf_dir: Option<&Path>, label: &str) -> Result<Option<Profile>> {
    let Some(dir) = perf_dir else { return Ok(None) };
    let data = dir.join(format!("{label}.perf.data"));
    let child = Command::new("perf")
        .args(["record", "-a", "-F", "999", "-q", "-o"])
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
        let pid = p.child.pid();
        Command::new("kill")
            .arg("-INT")
            .arg(pid.to_string())
            .status()?;
        p.child.wait(Duration::from_secs(60))?;
        progress!(
            "profile: perf report -i {} --sort comm,dso,sym",
            p.data.display()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Numbers

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Shared figures of one drain.
struct Drain {
    seconds: f64,
    cpu_ticks: Option<Ticks>,
    peak_rss_kb: Option<u64>,
    walsender_ticks: Option<Ticks>,
    machine_busy: Value,
}

impl Drain {
    fn to_json(&self, n: u64, ticks_per_s: f64) -> Map<String, Value> {
        let secs = |t: u64| t as f64 / ticks_per_s;
        let cpu_s = self.cpu_ticks.map(|t| secs(t.user + t.sys));
        let ws_s = self.walsender_ticks.map(|t| secs(t.user + t.sys));
        let mut m = Map::new();
        m.insert("seconds".into(), json!(round(self.seconds, 3)));
        m.insert(
            "events_per_s".into(),
            json!((n as f64 / self.seconds).round()),
        );
        m.insert("cpu_s".into(), json!(cpu_s.map(|c| round(c, 2))));
        m.insert(
            "cpu_user_sys_s".into(),
            json!(self
                .cpu_ticks
                .map(|t| [round(secs(t.user), 2), round(secs(t.sys), 2)])),
        );
        m.insert(
            "cpu_us_per_event".into(),
            json!(cpu_s.map(|c| round(c * 1e6 / n as f64, 2))),
        );
        m.insert(
            "peak_rss_mb".into(),
            json!(self.peak_rss_kb.map(|k| round(k as f64 / 1024.0, 1))),
        );
        m.insert("walsender_cpu_s".into(), json!(ws_s.map(|c| round(c, 2))));
        m.insert(
            "walsender_cpu_user_sys_s".into(),
            json!(self
                .walsender_ticks
                .map(|t| [round(secs(t.user), 2), round(secs(t.sys), 2)])),
        );
        m.insert(
            "walsender_cpu_us_per_event".into(),
            json!(ws_s.map(|c| round(c * 1e6 / n as f64, 2))),
        );
        m.insert("machine_cpu_busy_pct".into(), self.machine_busy.clone());
        m
    }
}

// ---------------------------------------------------------------------------
// Baseline: pg_recvlogical

#[allow(clippy::too_many_arguments)]
fn run_recvlogical(
    pg: &PgServer,
    db: &Db,
    dir: &Path,
    slot: &str,
    target: &str,
    n: u64,
    timeout: Duration,
    ticks_per_s: f64,
    perf: Option<&Path>,
) -> Result<Value> {
    progress!("pg_recvlogical: draining slot {slot}");
    let time_file = dir.join(format!("{slot}.time"));
    let log = dir.join(format!("{slot}.log"));
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-o")
        .arg(&time_file)
        .args(["-f", "%e %U %S %M"])
        .arg(pg.bin_dir().join("pg_recvlogical"))
        .args(["-d", &pg.conn_string(DB)])
        .args(["--slot", slot, "--start"])
        .args(["-o", "proto_version=1"])
        .arg("-o")
        .arg(format!("publication_names={PUBLICATION}"))
        .args(["--endpos", target, "-f", "/dev/null", "--no-loop"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log)?);
    let poller = SlotPoller::new(db, slot, target)?;
    let profile = start_profile(perf, slot)?;
    let sys0 = machine_cpu();
    let t0 = Instant::now();
    let mut child = ChildGuard::new(
        cmd.spawn()
            .map_err(|e| format!("cannot run /usr/bin/time (apt-get install time): {e}"))?,
    );
    let mut walsender = WalsenderCpu::default();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if t0.elapsed() > timeout {
            return fail(format!(
                "pg_recvlogical did not reach {target} within {timeout:?}\n{}",
                log_tail(&log, 20)
            ));
        }
        // One query until the walsender is known, then only /proc reads.
        if walsender.known() {
            walsender.observe(None);
        } else {
            walsender.observe(poller.poll()?.active_pid);
        }
        std::thread::sleep(POLL);
    };
    let seconds = t0.elapsed().as_secs_f64();
    let sys1 = machine_cpu();
    stop_profile(profile)?;
    if !status.success() {
        return fail(format!(
            "pg_recvlogical failed ({status}):\n{}",
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
    let drain = Drain {
        seconds,
        cpu_ticks: Some(Ticks {
            user: (f[1] * ticks_per_s).round() as u64,
            sys: (f[2] * ticks_per_s).round() as u64,
        }),
        peak_rss_kb: Some(f[3] as u64),
        walsender_ticks: walsender.total(),
        machine_busy: machine_busy_pct(sys0, sys1),
    };
    let mut m = drain.to_json(n, ticks_per_s);
    m.insert("time_reported_wall_s".into(), json!(f[0]));
    let v = Value::Object(m);
    progress!("pg_recvlogical: {v}");
    Ok(v)
}

// ---------------------------------------------------------------------------
// sluice

#[derive(Clone, Copy, PartialEq)]
enum SinkKind {
    Null,
    File { fsync: bool },
}

struct Sluice {
    child: ChildGuard,
    log: PathBuf,
    output: Option<PathBuf>,
    started: Instant,
}

fn start_sluice(
    args: &Args,
    pg: &PgServer,
    dir: &Path,
    label: &str,
    slot: &str,
    sink: SinkKind,
) -> Result<Sluice> {
    let run_dir = dir.join(label);
    fs::create_dir_all(&run_dir)?;
    let offsets = run_dir.join("offsets.json");
    let output = run_dir.join("out.jsonl");
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
        SinkKind::File { fsync } => worker.push_str(&format!(
            "sink.type=file\nsink.file.path={}\nsink.file.fsync={fsync}\n",
            output.display()
        )),
    }
    let worker_path = run_dir.join("worker.properties");
    fs::write(&worker_path, worker)?;
    let connector = json!({
        "name": format!("bench-{label}"),
        "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": "1",
            "database.hostname": "127.0.0.1",
            "database.port": pg.port().to_string(),
            "database.user": "postgres",
            "database.dbname": DB,
            "topic.prefix": "bench",
            "plugin.name": "pgoutput",
            "slot.name": slot,
            "publication.name": PUBLICATION,
            "publication.autocreate.mode": "disabled",
            "snapshot.mode": "no_data",
            "max.batch.size": "2048",
            "max.queue.size": "8192",
            "poll.interval.ms": "100",
            "status.update.interval.ms": "1000"
        }
    });
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
        output: matches!(sink, SinkKind::File { .. }).then_some(output),
        started,
    })
}

struct SluiceDrain {
    drain: Drain,
    first_commit_s: Option<f64>,
    first_output_s: Option<f64>,
    rss_at_end_kb: Option<u64>,
}

fn drain_sluice(
    s: &mut Sluice,
    db: &Db,
    slot: &str,
    target: &str,
    timeout: Duration,
) -> Result<SluiceDrain> {
    let poller = SlotPoller::new(db, slot, target)?;
    let initial = poller.poll()?.confirmed;
    let sys0 = machine_cpu();
    let pid = s.child.pid();
    let mut walsender = WalsenderCpu::default();
    let mut first_commit_s = None;
    let mut first_output_s = None;
    let mut last_report = Instant::now();
    loop {
        if let Some(status) = s.child.try_wait()? {
            return fail(format!(
                "sluice exited during the drain ({status}); last log lines:\n{}",
                log_tail(&s.log, 30)
            ));
        }
        let state = poller.poll()?;
        walsender.observe(state.active_pid);
        let at = s.started.elapsed().as_secs_f64();
        if first_commit_s.is_none() && state.confirmed != initial {
            first_commit_s = Some(at);
        }
        if first_output_s.is_none() {
            if let Some(out) = &s.output {
                if fs::metadata(out).map(|m| m.len() > 0).unwrap_or(false) {
                    first_output_s = Some(at);
                }
            }
        }
        if state.reached {
            // Figures of the process right before it is stopped.
            let cpu_ticks = proc_cpu_ticks(pid);
            let peak_rss_kb = proc_status_kb(pid, "VmHWM");
            let rss_at_end_kb = proc_status_kb(pid, "VmRSS");
            walsender.observe(None);
            let seconds = s.started.elapsed().as_secs_f64();
            return Ok(SluiceDrain {
                drain: Drain {
                    seconds,
                    cpu_ticks,
                    peak_rss_kb,
                    walsender_ticks: walsender.total(),
                    machine_busy: machine_busy_pct(sys0, machine_cpu()),
                },
                first_commit_s,
                first_output_s,
                rss_at_end_kb,
            });
        }
        if s.started.elapsed() > timeout {
            return fail(format!(
                "sluice did not confirm {target} on slot {slot} within {timeout:?} (confirmed_flush_lsn is {}); last log lines:\n{}",
                state.confirmed,
                log_tail(&s.log, 30)
            ));
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            progress!(
                "  … confirmed_flush_lsn {} (target {target})",
                state.confirmed
            );
            last_report = Instant::now();
        }
        std::thread::sleep(POLL);
    }
}

fn stop_sluice(s: &mut Sluice) -> Result<Value> {
    let status = s.child.terminate(Duration::from_secs(30))?;
    if !status.success() {
        progress!(
            "WARNING: sluice exited with {status} after SIGTERM; last log lines:\n{}",
            log_tail(&s.log, 20)
        );
    }
    Ok(json!(status.code()))
}

fn count_lines(path: &Path) -> Result<u64> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
    }
}

#[allow(clippy::too_many_arguments)]
fn run_sluice(
    args: &Args,
    pg: &PgServer,
    db: &Db,
    dir: &Path,
    label: &str,
    slot: &str,
    sink: SinkKind,
    target: &str,
    expected_lines: u64,
    timeout: Duration,
    ticks_per_s: f64,
) -> Result<Value> {
    progress!("sluice ({label}): draining slot {slot}");
    let profile = start_profile(args.perf.then_some(dir), &format!("sluice_{label}"))?;
    let mut s = start_sluice(args, pg, dir, label, slot, sink)?;
    let d = drain_sluice(&mut s, db, slot, target, timeout)?;
    stop_profile(profile)?;
    let n = args.changes;
    let mut m = d.drain.to_json(n, ticks_per_s);
    m.insert(
        "first_commit_s".into(),
        json!(d.first_commit_s.map(|x| round(x, 3))),
    );
    m.insert(
        "rss_at_end_mb".into(),
        json!(d.rss_at_end_kb.map(|k| round(k as f64 / 1024.0, 1))),
    );
    if let SinkKind::File { fsync } = sink {
        m.insert("fsync".into(), json!(fsync));
        m.insert(
            "first_output_s".into(),
            json!(d.first_output_s.map(|x| round(x, 3))),
        );
        let out = s.output.clone().expect("file sink output");
        let lines = count_lines(&out)?;
        let bytes = fs::metadata(&out)?.len();
        m.insert("output_lines".into(), json!(lines));
        m.insert("output_bytes".into(), json!(bytes));
        m.insert(
            "mb_per_s".into(),
            json!(round(bytes as f64 / 1e6 / d.drain.seconds, 1)),
        );
        m.insert("expected_lines".into(), json!(expected_lines));
        if lines != expected_lines {
            progress!(
                "WARNING: {} holds {lines} lines, expected {expected_lines}",
                out.display()
            );
            m.insert(
                "warning".into(),
                json!(format!(
                    "output has {lines} lines, expected {expected_lines}"
                )),
            );
        }
        progress!("sluice ({label}): {}", Value::Object(m.clone()));
        match measure_latency(args, db, &out, fsync) {
            Ok(lat) => {
                m.insert("latency_ms".into(), lat);
            }
            Err(e) => {
                progress!("WARNING: latency measurement failed: {e}");
                m.insert(
                    "latency_error".into(),
                    json!(format!("{e}\n{}", log_tail(&s.log, 10))),
                );
            }
        }
    } else {
        progress!("sluice ({label}): {}", Value::Object(m.clone()));
    }
    m.insert("exit_code".into(), stop_sluice(&mut s)?);
    Ok(Value::Object(m))
}

// ---------------------------------------------------------------------------
// Latency of an idle stream

/// Follows a growing JSON-lines file.
struct Tail {
    file: File,
    partial: Vec<u8>,
}

impl Tail {
    fn open_at_end(path: &Path) -> Result<Tail> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::End(0))?;
        Ok(Tail {
            file,
            partial: Vec::new(),
        })
    }

    /// Complete lines appended since the last call.
    fn new_lines(&mut self) -> Result<Vec<Vec<u8>>> {
        let mut buf = Vec::new();
        self.file.read_to_end(&mut buf)?;
        if buf.is_empty() {
            return Ok(Vec::new());
        }
        self.partial.extend_from_slice(&buf);
        let mut lines = Vec::new();
        while let Some(i) = self.partial.iter().position(|b| *b == b'\n') {
            let rest = self.partial.split_off(i + 1);
            let mut line = std::mem::replace(&mut self.partial, rest);
            line.pop();
            lines.push(line);
        }
        Ok(lines)
    }
}

/// The key's id, the commit time (`source.ts_us`, else `source.ts_ms`) and
/// the time sluice built the event (the envelope's `ts_us`), in µs.
fn probe_event_times(line: &[u8]) -> Option<(i64, i64, Option<i64>)> {
    let v: Value = serde_json::from_slice(line).ok()?;
    let id = v.pointer("/key/id")?.as_i64()?;
    let source = v.pointer("/value/source")?;
    let commit_us = source.get("ts_us").and_then(Value::as_i64).or_else(|| {
        source
            .get("ts_ms")
            .and_then(Value::as_i64)
            .map(|ms| ms * 1000)
    })?;
    let built_us = v.pointer("/value/ts_us").and_then(Value::as_i64);
    Some((id, commit_us, built_us))
}

fn measure_latency(args: &Args, db: &Db, out: &Path, fsync: bool) -> Result<Value> {
    if args.latency_samples == 0 {
        return Ok(Value::Null);
    }
    progress!(
        "latency: {} single-row inserts on the idle stream, {:?} apart (file sink, fsync={fsync})",
        args.latency_samples,
        args.latency_gap
    );
    // Let the drain's last commits and status updates settle.
    std::thread::sleep(Duration::from_secs(1));
    let mut tail = Tail::open_at_end(out)?;
    let _ = tail.new_lines()?;
    let probe_base = PROBE_ID_BASE + if fsync { 1_000_000 } else { 0 };
    let mut from_commit = Vec::new();
    let mut from_send = Vec::new();
    let mut to_event = Vec::new();
    for i in 0..args.latency_samples {
        let id = probe_base + i as i64;
        let sent_us = now_us();
        db.exec(
            &format!(
                "INSERT INTO {TABLE} (id, a, b, c, d, e, f)
                 VALUES ({id}, 1, 2, repeat('x', 250), now(), 12.34, true)"
            ),
            Duration::from_secs(10),
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let (commit_us, built_us, seen_us) = 'wait: loop {
            for line in tail.new_lines()? {
                if let Some((got, commit_us, built_us)) = probe_event_times(&line) {
                    if got == id {
                        break 'wait (commit_us, built_us, now_us());
                    }
                }
            }
            if Instant::now() > deadline {
                return fail(format!("row {id} did not appear in the output within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        from_commit.push((seen_us - commit_us) as f64 / 1000.0);
        from_send.push((seen_us - sent_us) as f64 / 1000.0);
        if let Some(b) = built_us {
            to_event.push((b - commit_us) as f64 / 1000.0);
        }
        std::thread::sleep(args.latency_gap);
    }
    let samples: Vec<f64> = from_commit.iter().map(|x| round(*x, 2)).collect();
    from_commit.sort_by(f64::total_cmp);
    from_send.sort_by(f64::total_cmp);
    to_event.sort_by(f64::total_cmp);
    let v = json!({
        "median": round(median(&from_commit), 2),
        "max": round(*from_commit.last().unwrap_or(&f64::NAN), 2),
        "min": round(*from_commit.first().unwrap_or(&f64::NAN), 2),
        "samples": samples,
        "from_insert_sent_median": round(median(&from_send), 2),
        "commit_to_event_built_median": (!to_event.is_empty()).then(|| round(median(&to_event), 2)),
        "fsync": fsync,
    });
    progress!("latency: {v}");
    Ok(v)
}

// ---------------------------------------------------------------------------
// Context

fn slot_stats(db: &Db, slots: &[&str]) -> Value {
    let mut m = Map::new();
    for slot in slots {
        let row = db.row(&format!(
            "SELECT spill_txns, spill_count, spill_bytes, stream_txns, total_txns, total_bytes \
             FROM pg_stat_replication_slots WHERE slot_name = '{slot}'"
        ));
        if let Ok(row) = row {
            let num = |i: usize| {
                row.get(i)
                    .cloned()
                    .flatten()
                    .and_then(|s| s.parse::<u64>().ok())
            };
            m.insert(
                slot.to_string(),
                json!({
                    "spill_txns": num(0), "spill_count": num(1), "spill_bytes": num(2),
                    "stream_txns": num(3), "total_txns": num(4), "total_bytes": num(5),
                }),
            );
        }
    }
    Value::Object(m)
}

fn eps(v: &Value) -> Option<f64> {
    v.get("events_per_s").and_then(Value::as_f64)
}

// ---------------------------------------------------------------------------

fn run(args: &Args) -> Result<Value> {
    let n = args.changes;
    let ticks_per_s = clock_ticks_per_second();
    let timeout = args
        .drain_timeout
        .unwrap_or(Duration::from_secs(60 + n / 5_000));
    if !args.sluice.exists() {
        return fail(format!(
            "{} not found: build it with cargo build --release -p sluice, or pass --sluice PATH",
            args.sluice.display()
        ));
    }
    let started_unix = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let tmp = tempfile::Builder::new().prefix("sluice-bench-").tempdir()?;
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
    let perf = args.perf.then_some(dir.as_path());
    if args.perf {
        progress!("profiling with perf: the figures include its overhead");
    }
    let pg = start_postgres("256MB")?;
    pg.create_database(DB)?;
    let db = Db::connect(&pg, DB)?;
    let pg_version = db.value("SHOW server_version")?;
    progress!("PostgreSQL {pg_version} on port {}", pg.port());

    let mut slots = vec![SLOT_RECVLOGICAL, SLOT_NULL, SLOT_FILE];
    if args.fsync_run {
        slots.push(SLOT_FILE_FSYNC);
    }
    slots.push(SLOT_RECVLOGICAL_REPEAT);
    create_schema(&db, &slots)?;
    let backlog = generate_backlog(&db, n, args.batch, 200)?;
    let target = backlog.target_lsn.clone();
    std::thread::sleep(Duration::from_secs(1));

    // Single-row inserts of the latency probes: part of every slot's
    // stream, so later runs drain them too (and their targets move on).
    let mut probes = 0u64;
    let recv = run_recvlogical(
        &pg,
        &db,
        &dir,
        SLOT_RECVLOGICAL,
        &target,
        n,
        timeout,
        ticks_per_s,
        perf,
    )?;
    std::thread::sleep(Duration::from_secs(1));
    let null = run_sluice(
        args,
        &pg,
        &db,
        &dir,
        "null",
        SLOT_NULL,
        SinkKind::Null,
        &target,
        n,
        timeout,
        ticks_per_s,
    )?;
    std::thread::sleep(Duration::from_secs(1));
    let file = run_sluice(
        args,
        &pg,
        &db,
        &dir,
        "file",
        SLOT_FILE,
        SinkKind::File { fsync: false },
        &target,
        n,
        timeout,
        ticks_per_s,
    )?;
    probes += args.latency_samples as u64;
    let file_fsync = if args.fsync_run {
        std::thread::sleep(Duration::from_secs(1));
        let target_now = db.value("SELECT pg_current_wal_lsn()::text")?;
        let v = run_sluice(
            args,
            &pg,
            &db,
            &dir,
            "file_fsync",
            SLOT_FILE_FSYNC,
            SinkKind::File { fsync: true },
            &target_now,
            n + probes,
            timeout,
            ticks_per_s,
        )?;
        probes += args.latency_samples as u64;
        Some(v)
    } else {
        None
    };
    // The baseline once more, last: the spread between the two runs shows
    // how noisy the machine was.
    std::thread::sleep(Duration::from_secs(1));
    let target_now = db.value("SELECT pg_current_wal_lsn()::text")?;
    let recv_repeat = run_recvlogical(
        &pg,
        &db,
        &dir,
        SLOT_RECVLOGICAL_REPEAT,
        &target_now,
        n + probes,
        timeout,
        ticks_per_s,
        perf,
    )?;
    let stats = slot_stats(&db, &slots);

    let recv_eps = eps(&recv);
    let ratio = |v: &Value| match (eps(v), recv_eps) {
        (Some(a), Some(b)) if b > 0.0 => json!(round(a / b, 3)),
        _ => Value::Null,
    };
    let latency = file.get("latency_ms").cloned().unwrap_or(Value::Null);
    let lat = |k: &str| latency.get(k).and_then(Value::as_f64);
    let rss = |v: &Value| v.get("peak_rss_mb").and_then(Value::as_f64);
    let mut sluice_rss: Vec<f64> = [Some(&null), Some(&file), file_fsync.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(rss)
        .collect();
    sluice_rss.sort_by(f64::total_cmp);
    let max_rss = sluice_rss.last().copied();
    let fsync_latency = file_fsync
        .as_ref()
        .and_then(|v| v.pointer("/latency_ms/median"))
        .and_then(Value::as_f64);

    let mut out = Map::new();
    out.insert("benchmark".into(), json!("pg_backlog"));
    out.insert("changes".into(), json!(n));
    out.insert("row_bytes".into(), json!(round(backlog.row_bytes, 1)));
    out.insert(
        "backlog".into(),
        json!({
            "inserts": backlog.inserts,
            "updates": backlog.updates,
            "rows_per_transaction": args.batch,
            "wal_mb": round(backlog.wal_bytes as f64 / 1e6, 1),
            "generate_seconds": round(backlog.seconds, 2),
            "target_lsn": target,
        }),
    );
    out.insert("pg_recvlogical".into(), recv.clone());
    out.insert("pg_recvlogical_repeat".into(), recv_repeat);
    out.insert("sluice_null".into(), null.clone());
    out.insert("sluice_file_json".into(), file.clone());
    if let Some(v) = &file_fsync {
        out.insert("sluice_file_json_fsync".into(), v.clone());
    }
    out.insert(
        "ratios".into(),
        json!({
            "null_vs_recvlogical": ratio(&null),
            "file_vs_recvlogical": ratio(&file),
            "file_fsync_vs_recvlogical": file_fsync.as_ref().map(ratio),
        }),
    );
    out.insert(
        "latency_ms".into(),
        json!({
            "median": lat("median"),
            "max": lat("max"),
            "fsync": false,
            "fsync_median": fsync_latency,
            "fsync_max": file_fsync.as_ref().and_then(|v| v.pointer("/latency_ms/max")).and_then(Value::as_f64),
        }),
    );
    out.insert(
        "targets".into(),
        json!({
            "null_ge_330k": eps(&null).map(|e| e >= 330_000.0),
            "file_ge_recvlogical": match (eps(&file), recv_eps) { (Some(a), Some(b)) => Some(a >= b), _ => None },
            "rss_le_100mb": max_rss.map(|r| r <= 100.0),
            "latency_le_10ms": lat("median").map(|m| m <= 10.0),
            "latency_max_le_10ms": lat("max").map(|m| m <= 10.0),
        }),
    );
    out.insert("slot_stats".into(), stats);
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
    bench_main("pg_backlog", parse_args, run);
}
