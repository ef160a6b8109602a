//! Snapshot progress: what users see while an initial load runs.
//!
//! [`SnapshotProgress`] is shared (`Arc`) between the executor, which
//! updates it as rows are read (atomics; one read lock per batch), and
//! whoever reports it: [`SnapshotProgress::metrics`] renders Debezium's
//! snapshot metrics (the attributes of `SnapshotChangeEventSourceMetricsMXBean`)
//! as JSON for the REST API / Prometheus, and [`spawn_reporter`] shows
//! progress bars on a terminal or logs a progress line every 10 seconds.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::TableId;

/// Where a snapshot is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnapshotState {
    /// [`SnapshotProgress::begin`] has not been called yet.
    NotStarted,
    Running,
    Completed,
    Aborted,
}

impl SnapshotState {
    fn from_u8(v: u8) -> SnapshotState {
        match v {
            1 => SnapshotState::Running,
            2 => SnapshotState::Completed,
            3 => SnapshotState::Aborted,
            _ => SnapshotState::NotStarted,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            SnapshotState::NotStarted => 0,
            SnapshotState::Running => 1,
            SnapshotState::Completed => 2,
            SnapshotState::Aborted => 3,
        }
    }

    /// Completed or aborted.
    pub fn is_over(self) -> bool {
        matches!(self, SnapshotState::Completed | SnapshotState::Aborted)
    }
}

/// The live counters of one table.
#[derive(Debug)]
struct TableCounters {
    table: TableId,
    estimated_rows: AtomicU64,
    rows_scanned: AtomicU64,
    chunks: AtomicU64,
    chunks_completed: AtomicU64,
    started: AtomicBool,
    finished: AtomicBool,
    times: Mutex<(Option<Instant>, Option<Instant>)>,
}

impl TableCounters {
    fn new(table: TableId) -> Self {
        TableCounters {
            table,
            estimated_rows: AtomicU64::new(0),
            rows_scanned: AtomicU64::new(0),
            chunks: AtomicU64::new(0),
            chunks_completed: AtomicU64::new(0),
            started: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            times: Mutex::new((None, None)),
        }
    }
}

/// A copy of one table's progress at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct TableStatus {
    /// Position in the snapshot's table order.
    pub index: usize,
    pub table: TableId,
    /// The database's estimate (0 when unknown or not planned yet).
    pub estimated_rows: u64,
    pub rows_scanned: u64,
    /// Chunks in the table's plan (0 until planned).
    pub chunks: u64,
    pub chunks_completed: u64,
    pub started: bool,
    pub finished: bool,
    /// Time spent on the table: until now, or until it finished.
    pub duration: Duration,
}

impl TableStatus {
    /// Rows per second over the table's duration.
    pub fn rate(&self) -> f64 {
        rate(self.rows_scanned, self.duration)
    }

    /// Time left for this table from its scan rate and estimate; `None`
    /// when unknown (nothing read yet, or no estimate).
    pub fn eta(&self) -> Option<Duration> {
        if self.finished {
            return Some(Duration::ZERO);
        }
        if self.estimated_rows == 0 {
            return None;
        }
        eta(
            self.estimated_rows.saturating_sub(self.rows_scanned),
            self.rate(),
        )
    }
}

fn rate(rows: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        0.0
    } else {
        rows as f64 / secs
    }
}

fn eta(remaining_rows: u64, rate: f64) -> Option<Duration> {
    if remaining_rows == 0 {
        return Some(Duration::ZERO);
    }
    if rate <= 0.0 || !rate.is_finite() {
        return None;
    }
    Duration::try_from_secs_f64(remaining_rows as f64 / rate).ok()
}

/// Progress of one snapshot, shared between the executor and reporters.
///
/// The executor ([`start_snapshot`](crate::start_snapshot)) calls
/// [`begin`](Self::begin), the per-table updates, and
/// [`completed`](Self::completed) / [`aborted`](Self::aborted); everything
/// else reads.
#[derive(Debug)]
pub struct SnapshotProgress {
    state: AtomicU8,
    /// Start and stop of the snapshot.
    times: Mutex<(Option<Instant>, Option<Instant>)>,
    tables: RwLock<Vec<Arc<TableCounters>>>,
    /// Bumped at every table start/end and state change.
    changed: watch::Sender<u64>,
}

impl Default for SnapshotProgress {
    fn default() -> Self {
        SnapshotProgress::new()
    }
}

impl SnapshotProgress {
    pub fn new() -> Self {
        SnapshotProgress {
            state: AtomicU8::new(SnapshotState::NotStarted.as_u8()),
            times: Mutex::new((None, None)),
            tables: RwLock::new(Vec::new()),
            changed: watch::Sender::new(0),
        }
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn table(&self, index: usize) -> Option<Arc<TableCounters>> {
        self.tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(index)
            .cloned()
    }

    /// The snapshot starts with these tables, in this order: resets every
    /// counter, starts the clock, state Running.
    pub fn begin(&self, tables: &[TableId]) {
        *self.tables.write().unwrap_or_else(|e| e.into_inner()) = tables
            .iter()
            .cloned()
            .map(|t| Arc::new(TableCounters::new(t)))
            .collect();
        *self.times.lock().unwrap_or_else(|e| e.into_inner()) = (Some(Instant::now()), None);
        self.state
            .store(SnapshotState::Running.as_u8(), Ordering::SeqCst);
        self.bump();
    }

    /// Table `index` was planned and its reading begins.
    pub fn table_started(&self, index: usize, estimated_rows: u64, chunks: usize) {
        if let Some(t) = self.table(index) {
            t.estimated_rows.store(estimated_rows, Ordering::Relaxed);
            t.chunks.store(chunks as u64, Ordering::Relaxed);
            *t.times.lock().unwrap_or_else(|e| e.into_inner()) = (Some(Instant::now()), None);
            t.started.store(true, Ordering::SeqCst);
            self.bump();
        }
    }

    /// `rows` more rows of table `index` were read.
    pub fn add_rows(&self, index: usize, rows: u64) {
        if let Some(t) = self.table(index) {
            t.rows_scanned.fetch_add(rows, Ordering::Relaxed);
        }
    }

    /// One more chunk of table `index` was read completely.
    pub fn chunk_done(&self, index: usize) {
        if let Some(t) = self.table(index) {
            t.chunks_completed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Every chunk of table `index` was read.
    pub fn table_finished(&self, index: usize) {
        if let Some(t) = self.table(index) {
            t.times.lock().unwrap_or_else(|e| e.into_inner()).1 = Some(Instant::now());
            t.finished.store(true, Ordering::SeqCst);
            self.bump();
        }
    }

    fn stop(&self, state: SnapshotState) {
        {
            let mut times = self.times.lock().unwrap_or_else(|e| e.into_inner());
            if times.1.is_none() {
                times.1 = Some(Instant::now());
            }
        }
        self.state.store(state.as_u8(), Ordering::SeqCst);
        self.bump();
    }

    /// The snapshot finished: every row was handed to the consumer. Has no
    /// effect once the snapshot was aborted.
    pub fn completed(&self) {
        if self.state() != SnapshotState::Aborted {
            self.stop(SnapshotState::Completed);
        }
    }

    /// The snapshot failed or was stopped. Overrides a completion (as
    /// Debezium's `snapshotAborted`): a consumer that fails after the last
    /// row was read may still mark the snapshot aborted.
    pub fn aborted(&self) {
        self.stop(SnapshotState::Aborted);
    }

    pub fn state(&self) -> SnapshotState {
        SnapshotState::from_u8(self.state.load(Ordering::SeqCst))
    }

    pub fn is_running(&self) -> bool {
        self.state() == SnapshotState::Running
    }

    pub fn is_completed(&self) -> bool {
        self.state() == SnapshotState::Completed
    }

    pub fn is_aborted(&self) -> bool {
        self.state() == SnapshotState::Aborted
    }

    /// A receiver whose value changes at every table start/end and state
    /// change (rows do not wake it: poll for those).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// When the snapshot started.
    pub fn started_at(&self) -> Option<Instant> {
        self.times.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// Time since the start, or from start to end once over; zero before
    /// the start.
    pub fn duration(&self) -> Duration {
        let (start, stop) = *self.times.lock().unwrap_or_else(|e| e.into_inner());
        match start {
            None => Duration::ZERO,
            Some(start) => stop
                .unwrap_or_else(Instant::now)
                .saturating_duration_since(start),
        }
    }

    /// Every table's progress, in snapshot order.
    pub fn tables(&self) -> Vec<TableStatus> {
        let tables = self
            .tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let now = Instant::now();
        tables
            .iter()
            .enumerate()
            .map(|(index, t)| {
                let (start, stop) = *t.times.lock().unwrap_or_else(|e| e.into_inner());
                TableStatus {
                    index,
                    table: t.table.clone(),
                    estimated_rows: t.estimated_rows.load(Ordering::Relaxed),
                    rows_scanned: t.rows_scanned.load(Ordering::Relaxed),
                    chunks: t.chunks.load(Ordering::Relaxed),
                    chunks_completed: t.chunks_completed.load(Ordering::Relaxed),
                    started: t.started.load(Ordering::SeqCst),
                    finished: t.finished.load(Ordering::SeqCst),
                    duration: start
                        .map(|s| stop.unwrap_or(now).saturating_duration_since(s))
                        .unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Number of tables in the snapshot (Debezium's `TotalTableCount`).
    pub fn total_tables(&self) -> usize {
        self.tables.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Tables not finished yet (Debezium's `RemainingTableCount`).
    pub fn remaining_tables(&self) -> usize {
        self.tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|t| !t.finished.load(Ordering::SeqCst))
            .count()
    }

    /// Rows read so far, all tables.
    pub fn rows_scanned(&self) -> u64 {
        self.tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|t| t.rows_scanned.load(Ordering::Relaxed))
            .sum()
    }

    /// Sum of the estimates of the tables planned so far.
    pub fn estimated_rows(&self) -> u64 {
        self.tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|t| t.estimated_rows.load(Ordering::Relaxed))
            .sum()
    }

    /// Chunks of the tables planned so far.
    pub fn chunks(&self) -> u64 {
        self.tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|t| t.chunks.load(Ordering::Relaxed))
            .sum()
    }

    pub fn chunks_completed(&self) -> u64 {
        self.tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|t| t.chunks_completed.load(Ordering::Relaxed))
            .sum()
    }

    /// Rows per second since the start.
    pub fn rate(&self) -> f64 {
        rate(self.rows_scanned(), self.duration())
    }

    /// Time left, from the scan rate since the start and the rows still
    /// expected by the estimates (a table read beyond its estimate counts as
    /// nearly done). Tables not planned yet have no estimate, so early on
    /// this undershoots. `None` while nothing was read, or when there is no
    /// estimate at all; zero once over.
    pub fn eta(&self) -> Option<Duration> {
        let state = self.state();
        if state.is_over() {
            return Some(Duration::ZERO);
        }
        if state == SnapshotState::NotStarted {
            return None;
        }
        let tables = self.tables();
        if tables.iter().all(|t| t.estimated_rows == 0 && !t.finished) {
            return None;
        }
        let remaining: u64 = tables
            .iter()
            .filter(|t| !t.finished)
            .map(|t| t.estimated_rows.saturating_sub(t.rows_scanned))
            .sum();
        let scanned: u64 = tables.iter().map(|t| t.rows_scanned).sum();
        if scanned == 0 {
            return None;
        }
        eta(remaining, rate(scanned, self.duration()))
    }

    /// Debezium's snapshot metrics (`SnapshotChangeEventSourceMetricsMXBean`
    /// attribute names) plus sluice's own:
    ///
    /// | key | value |
    /// |---|---|
    /// | `TotalTableCount`, `RemainingTableCount` | numbers |
    /// | `SnapshotRunning`, `SnapshotPaused`, `SnapshotCompleted`, `SnapshotAborted`, `SnapshotSkipped` | booleans (sluice never pauses or skips) |
    /// | `SnapshotDurationInSeconds`, `SnapshotPausedDurationInSeconds` | numbers |
    /// | `RowsScanned` | `{"schema.table": rows}` for the tables started so far |
    /// | `CapturedTables` | `["schema.table", …]` |
    /// | `TableChunkCounts`, `TableChunksCompletedCounts` | `{"schema.table": n}` for the tables started so far |
    /// | `Chunks`, `ChunksCompleted`, `EstimatedRows` | totals over the tables planned so far (sluice) |
    /// | `EtaSeconds` | number, or `null` when unknown (sluice) |
    pub fn metrics(&self) -> Value {
        let state = self.state();
        let tables = self.tables();
        let mut rows = Map::new();
        let mut chunk_counts = Map::new();
        let mut chunks_done = Map::new();
        for t in tables.iter().filter(|t| t.started) {
            let name = t.table.to_string();
            rows.insert(name.clone(), json!(t.rows_scanned));
            chunk_counts.insert(name.clone(), json!(t.chunks));
            chunks_done.insert(name, json!(t.chunks_completed));
        }
        let captured: Vec<Value> = tables
            .iter()
            .map(|t| Value::String(t.table.to_string()))
            .collect();
        json!({
            "TotalTableCount": tables.len(),
            "RemainingTableCount": tables.iter().filter(|t| !t.finished).count(),
            "SnapshotRunning": state == SnapshotState::Running,
            "SnapshotPaused": false,
            "SnapshotCompleted": state == SnapshotState::Completed,
            "SnapshotAborted": state == SnapshotState::Aborted,
            "SnapshotSkipped": false,
            "SnapshotDurationInSeconds": self.duration().as_secs(),
            "SnapshotPausedDurationInSeconds": 0,
            "RowsScanned": rows,
            "CapturedTables": captured,
            "TableChunkCounts": chunk_counts,
            "TableChunksCompletedCounts": chunks_done,
            "Chunks": tables.iter().map(|t| t.chunks).sum::<u64>(),
            "ChunksCompleted": tables.iter().map(|t| t.chunks_completed).sum::<u64>(),
            "EstimatedRows": tables.iter().map(|t| t.estimated_rows).sum::<u64>(),
            "EtaSeconds": self.eta().map(|d| d.as_secs()),
        })
    }
}

/// How often the log reporter writes a line while a table is read.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// How often progress bars are redrawn.
const BAR_INTERVAL: Duration = Duration::from_millis(200);

/// Reports `progress` until the snapshot completes or aborts: a progress bar
/// per table (rows scanned / estimate, rate, ETA) when stderr is a
/// terminal, otherwise one `tracing::info!` line per running table every
/// [`LOG_INTERVAL`], one at each table's end and one at the end.
///
/// Must be called inside a Tokio runtime. Abort the handle to stop early.
pub fn spawn_reporter(
    progress: Arc<SnapshotProgress>,
    connector_name: impl Into<String>,
) -> JoinHandle<()> {
    let connector = connector_name.into();
    if std::io::stderr().is_terminal() {
        tokio::spawn(report_bars(progress, connector))
    } else {
        tokio::spawn(report_log(progress, connector, LOG_INTERVAL))
    }
}

/// `1h02m03s`, `2m05s`, `7s`, or `unknown`.
pub fn format_eta(eta: Option<Duration>) -> String {
    let Some(eta) = eta else {
        return "unknown".to_string();
    };
    let s = eta.as_secs();
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

/// The progress line of one table:
/// `public.orders: 12000/50000 rows (24%), chunks 3/10, 1200 rows/s, ETA 31s`.
pub fn format_table_line(t: &TableStatus) -> String {
    let mut line = format!("{}: {}", t.table, t.rows_scanned);
    if t.estimated_rows > 0 {
        let pct = (t.rows_scanned as f64 * 100.0 / t.estimated_rows as f64).min(100.0);
        let _ = write!(line, "/{} rows ({pct:.0}%)", t.estimated_rows);
    } else {
        line.push_str(" rows");
    }
    let _ = write!(
        line,
        ", chunks {}/{}, {:.0} rows/s, ETA {}",
        t.chunks_completed,
        t.chunks,
        t.rate(),
        format_eta(t.eta())
    );
    line
}

fn log_summary(progress: &SnapshotProgress, connector: &str) {
    let state = progress.state();
    let line = format!(
        "{} tables, {} rows in {}, {:.0} rows/s",
        progress.total_tables(),
        progress.rows_scanned(),
        format_eta(Some(progress.duration())),
        progress.rate()
    );
    if state == SnapshotState::Aborted {
        tracing::warn!(connector = %connector, "snapshot aborted after {line}");
    } else {
        tracing::info!(connector = %connector, "snapshot completed: {line}");
    }
}

/// The non-terminal reporter: log lines.
async fn report_log(progress: Arc<SnapshotProgress>, connector: String, interval: Duration) {
    let mut changes = progress.subscribe();
    let mut logged_done: Vec<bool> = Vec::new();
    let mut next_line = tokio::time::Instant::now() + interval;
    loop {
        let tables = progress.tables();
        logged_done.resize(tables.len(), false);
        for t in &tables {
            if !t.finished || logged_done[t.index] {
                continue;
            }
            logged_done[t.index] = true;
            tracing::info!(
                connector = %connector,
                table = %t.table,
                rows = t.rows_scanned,
                "snapshot of table {}/{} finished: {}",
                t.index + 1,
                tables.len(),
                format_table_line(t)
            );
        }
        if progress.state().is_over() {
            log_summary(&progress, &connector);
            return;
        }
        if tokio::time::Instant::now() >= next_line {
            for t in tables.iter().filter(|t| t.started && !t.finished) {
                tracing::info!(
                    connector = %connector,
                    table = %t.table,
                    rows = t.rows_scanned,
                    "snapshot of table {}/{}: {}",
                    t.index + 1,
                    tables.len(),
                    format_table_line(t)
                );
            }
            next_line += interval;
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    tokio::time::sleep_until(next_line).await;
                }
            }
            _ = tokio::time::sleep_until(next_line) => {}
        }
    }
}

/// The terminal reporter: one indicatif bar per table.
async fn report_bars(progress: Arc<SnapshotProgress>, connector: String) {
    use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template("{prefix} [{bar:30}] {human_pos}/{human_len} rows, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    let mut bars: Vec<Option<ProgressBar>> = Vec::new();
    let mut ticker = tokio::time::interval(BAR_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let state = progress.state();
        let tables = progress.tables();
        bars.resize(tables.len(), None);
        for t in tables.iter().filter(|t| t.started) {
            let bar = bars[t.index].get_or_insert_with(|| {
                let bar = multi.add(ProgressBar::new(t.estimated_rows.max(1)));
                bar.set_style(style.clone());
                bar.set_prefix(format!(
                    "{connector} {} ({}/{})",
                    t.table,
                    t.index + 1,
                    tables.len()
                ));
                bar
            });
            if bar.is_finished() {
                continue;
            }
            bar.set_length(t.estimated_rows.max(t.rows_scanned).max(1));
            bar.set_position(t.rows_scanned);
            bar.set_message(format!(
                "{:.0} rows/s, ETA {}, chunks {}/{}",
                t.rate(),
                format_eta(t.eta()),
                t.chunks_completed,
                t.chunks
            ));
            if t.finished {
                // The estimate was only an estimate: end at 100 %.
                bar.set_length(t.rows_scanned.max(1));
                bar.finish_with_message(format!(
                    "{:.0} rows/s, done in {}, {} chunks",
                    t.rate(),
                    format_eta(Some(t.duration)),
                    t.chunks
                ));
            } else if state == SnapshotState::Aborted {
                bar.abandon_with_message("aborted");
            }
        }
        if state.is_over() {
            log_summary(&progress, &connector);
            return;
        }
        ticker.tick().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> Vec<TableId> {
        vec![TableId::new("public", "a"), TableId::new("public", "b")]
    }

    #[test]
    fn counters_and_metrics() {
        let p = SnapshotProgress::new();
        assert_eq!(p.state(), SnapshotState::NotStarted);
        assert_eq!(p.duration(), Duration::ZERO);
        assert_eq!(p.eta(), None);
        p.begin(&tables());
        assert!(p.is_running());
        assert_eq!((p.total_tables(), p.remaining_tables()), (2, 2));

        p.table_started(0, 100, 4);
        p.add_rows(0, 30);
        p.add_rows(0, 20);
        p.chunk_done(0);
        let m = p.metrics();
        assert_eq!(m["RowsScanned"], json!({"public.a": 50}));
        assert_eq!(m["TableChunkCounts"], json!({"public.a": 4}));
        assert_eq!(m["TableChunksCompletedCounts"], json!({"public.a": 1}));
        assert_eq!(m["CapturedTables"], json!(["public.a", "public.b"]));
        assert_eq!(m["SnapshotRunning"], json!(true));
        assert_eq!(m["EstimatedRows"], json!(100));

        p.chunk_done(0);
        p.chunk_done(0);
        p.chunk_done(0);
        p.add_rows(0, 60); // beyond the estimate
        p.table_finished(0);
        p.table_started(1, 0, 1);
        p.add_rows(1, 5);
        p.chunk_done(1);
        p.table_finished(1);
        assert_eq!(p.rows_scanned(), 115);
        assert_eq!((p.chunks(), p.chunks_completed()), (5, 5));
        assert_eq!(p.remaining_tables(), 0);
        p.completed();
        let m = p.metrics();
        for key in [
            "RowsScanned",
            "TotalTableCount",
            "RemainingTableCount",
            "SnapshotRunning",
            "SnapshotCompleted",
            "SnapshotAborted",
            "SnapshotDurationInSeconds",
            "Chunks",
            "ChunksCompleted",
            "EstimatedRows",
            "EtaSeconds",
        ] {
            assert!(m.get(key).is_some(), "missing {key}");
        }
        assert_eq!(m["RowsScanned"], json!({"public.a": 110, "public.b": 5}));
        assert_eq!(m["RemainingTableCount"], json!(0));
        assert_eq!(m["TotalTableCount"], json!(2));
        assert_eq!(m["SnapshotCompleted"], json!(true));
        assert_eq!(m["SnapshotRunning"], json!(false));
        assert_eq!(m["SnapshotAborted"], json!(false));
        assert_eq!(m["Chunks"], json!(5));
        assert_eq!(m["ChunksCompleted"], json!(5));
        assert_eq!(m["EtaSeconds"], json!(0));
        let t = p.tables();
        assert!(t.iter().all(|t| t.started && t.finished));

        // Aborting overrides a completion; completing does not undo an abort.
        p.aborted();
        assert!(p.is_aborted());
        p.completed();
        assert!(p.is_aborted());
        assert_eq!(p.metrics()["SnapshotAborted"], json!(true));
    }

    #[test]
    fn duration_stops_at_the_end() {
        let p = SnapshotProgress::new();
        p.begin(&tables());
        std::thread::sleep(Duration::from_millis(20));
        p.completed();
        let d = p.duration();
        assert!(d >= Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(p.duration(), d);
    }

    #[test]
    fn eta_from_rate_and_estimates() {
        assert_eq!(eta(0, 0.0), Some(Duration::ZERO));
        assert_eq!(eta(10, 0.0), None);
        assert_eq!(eta(100, 10.0), Some(Duration::from_secs(10)));
        let status = TableStatus {
            index: 0,
            table: TableId::new("s", "t"),
            estimated_rows: 1000,
            rows_scanned: 250,
            chunks: 4,
            chunks_completed: 1,
            started: true,
            finished: false,
            duration: Duration::from_secs(5),
        };
        assert_eq!(status.rate(), 50.0);
        assert_eq!(status.eta(), Some(Duration::from_secs(15)));
        assert_eq!(
            format_table_line(&status),
            "s.t: 250/1000 rows (25%), chunks 1/4, 50 rows/s, ETA 15s"
        );
        let unknown = TableStatus {
            estimated_rows: 0,
            ..status
        };
        assert_eq!(unknown.eta(), None);
        assert_eq!(
            format_table_line(&unknown),
            "s.t: 250 rows, chunks 1/4, 50 rows/s, ETA unknown"
        );

        let p = SnapshotProgress::new();
        p.begin(&tables());
        p.table_started(0, 1_000_000, 1);
        assert_eq!(p.eta(), None, "nothing read yet");
        std::thread::sleep(Duration::from_millis(50));
        p.add_rows(0, 1000);
        let eta = p.eta().expect("an ETA once rows were read");
        // ~999 000 rows left at ≤ 20 000 rows/s: well over 10 s.
        assert!(eta > Duration::from_secs(10), "{eta:?}");
    }

    #[test]
    fn eta_formatting() {
        assert_eq!(format_eta(None), "unknown");
        assert_eq!(format_eta(Some(Duration::from_secs(7))), "7s");
        assert_eq!(format_eta(Some(Duration::from_secs(125))), "2m05s");
        assert_eq!(format_eta(Some(Duration::from_secs(3723))), "1h02m03s");
    }

    #[tokio::test]
    async fn log_reporter_ends_with_the_snapshot() {
        for complete in [true, false] {
            let p = Arc::new(SnapshotProgress::new());
            let handle = tokio::spawn(report_log(p.clone(), "c".into(), Duration::from_millis(10)));
            p.begin(&tables());
            p.table_started(0, 10, 1);
            p.add_rows(0, 10);
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert!(!handle.is_finished());
            p.table_finished(0);
            if complete {
                p.completed();
            } else {
                p.aborted();
            }
            tokio::time::timeout(Duration::from_secs(5), handle)
                .await
                .expect("reporter ends")
                .expect("no panic");
        }
    }

    #[tokio::test]
    async fn spawned_reporter_ends_with_the_snapshot() {
        let p = Arc::new(SnapshotProgress::new());
        let handle = spawn_reporter(p.clone(), "c");
        p.begin(&tables());
        p.completed();
        tokio::time::timeout(Duration::from_secs(5), handle)
            .await
            .expect("reporter ends")
            .expect("no panic");
    }
}
