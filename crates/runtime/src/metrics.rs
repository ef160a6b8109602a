//! Metrics: a small registry of counters, gauges and histograms keyed by
//! metric name and labels, rendered in Prometheus' text exposition format
//! 0.0.4 (`GET /metrics`).
//!
//! Updating a metric is one atomic operation on a handle ([`Counter`],
//! [`Gauge`], [`Histogram`]) that its owner keeps; the registry's lock is
//! taken only to register a series, to remove series and to render. A gauge
//! may also be a function evaluated at scrape time ([`Registry::gauge_fn`]),
//! for values such as ages that change without anyone updating them.
//!
//! The names are Debezium's where Debezium has the metric (its JMX
//! attributes as the Prometheus JMX exporter names them,
//! `debezium_metrics_<Attribute>{plugin, name, context}`) and `sluice_*`
//! otherwise; [`defs`] declares every one with its help text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

/// A metric's name and help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    pub name: &'static str,
    pub help: &'static str,
}

/// Every metric sluice exports.
pub mod defs {
    use super::MetricDef;

    const fn def(name: &'static str, help: &'static str) -> MetricDef {
        MetricDef { name, help }
    }

    // Debezium's streaming metrics (context="streaming").
    pub const MILLISECONDS_BEHIND_SOURCE: MetricDef = def(
        "debezium_metrics_MilliSecondsBehindSource",
        "Milliseconds between the commit of the last transaction in the source database and its processing by the connector.",
    );
    pub const TOTAL_NUMBER_OF_EVENTS_SEEN: MetricDef = def(
        "debezium_metrics_TotalNumberOfEventsSeen",
        "Events the connector has produced since it started.",
    );
    pub const NUMBER_OF_COMMITTED_TRANSACTIONS: MetricDef = def(
        "debezium_metrics_NumberOfCommittedTransactions",
        "Committed source transactions the connector has processed since it started.",
    );
    pub const QUEUE_REMAINING_CAPACITY: MetricDef = def(
        "debezium_metrics_QueueRemainingCapacity",
        "Free space (records) in the queue between the source reader and the sink.",
    );
    pub const QUEUE_TOTAL_CAPACITY: MetricDef = def(
        "debezium_metrics_QueueTotalCapacity",
        "Capacity (records) of the queue between the source reader and the sink (max.queue.size).",
    );
    pub const CONNECTED: MetricDef = def(
        "debezium_metrics_Connected",
        "1 while the connector is connected to the source database's change stream.",
    );
    // Debezium's snapshot metrics (context="snapshot").
    pub const ROWS_SCANNED: MetricDef = def(
        "debezium_metrics_RowsScanned",
        "Rows the snapshot has read, per table.",
    );
    pub const SNAPSHOT_RUNNING: MetricDef = def(
        "debezium_metrics_SnapshotRunning",
        "1 while a snapshot is running.",
    );
    pub const SNAPSHOT_COMPLETED: MetricDef = def(
        "debezium_metrics_SnapshotCompleted",
        "1 once the snapshot has completed.",
    );
    pub const TOTAL_TABLE_COUNT: MetricDef = def(
        "debezium_metrics_TotalTableCount",
        "Tables the snapshot reads.",
    );
    pub const REMAINING_TABLE_COUNT: MetricDef = def(
        "debezium_metrics_RemainingTableCount",
        "Tables the snapshot has not finished yet.",
    );
    pub const SNAPSHOT_DURATION_IN_SECONDS: MetricDef = def(
        "debezium_metrics_SnapshotDurationInSeconds",
        "Seconds the snapshot has taken so far (or took).",
    );
    // sluice's own (label connector).
    pub const SINK_RECORDS: MetricDef = def(
        "sluice_sink_records_total",
        "Records the sink acknowledged as durable.",
    );
    pub const SINK_BYTES: MetricDef = def(
        "sluice_sink_bytes_total",
        "Bytes (serialized keys and values) of the records the sink acknowledged as durable.",
    );
    pub const SINK_ACK_LATENCY: MetricDef = def(
        "sluice_sink_ack_latency_seconds",
        "Time from handing a batch to the sink to its durable acknowledgement.",
    );
    pub const OFFSET_COMMIT_LAG: MetricDef = def(
        "sluice_offset_commit_lag_seconds",
        "Age of the oldest acknowledged batch whose offsets are not committed yet (0 when everything acknowledged is committed).",
    );
    pub const SLOT_LAG_BYTES: MetricDef = def(
        "sluice_slot_lag_bytes",
        "Bytes of WAL between the server's current position and the replication slot's confirmed_flush_lsn.",
    );
    pub const SLOT_RETAINED_WAL_BYTES: MetricDef = def(
        "sluice_slot_retained_wal_bytes",
        "Bytes of WAL the server keeps for the replication slot (current position minus restart_lsn).",
    );
    pub const SLOT_PAUSED: MetricDef = def(
        "sluice_slot_reading_paused",
        "1 while the connector has stopped reading its slot because the lag is over slot.lag.fail.bytes.",
    );
}

/// Buckets of [`defs::SINK_ACK_LATENCY`] (seconds).
pub const ACK_LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// A counter: only goes up.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// A counter no registry renders (what a conflicting registration gets).
    pub fn detached() -> Self {
        Self::default()
    }
    pub fn inc(&self) {
        self.add(1);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A gauge: a value that goes up and down.
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<AtomicU64>);

impl Gauge {
    pub fn detached() -> Self {
        Self::default()
    }
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    pub fn set_bool(&self, v: bool) {
        self.set(if v { 1.0 } else { 0.0 });
    }
    pub fn add(&self, delta: f64) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + delta).to_bits())
            });
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

#[derive(Debug)]
struct HistogramCore {
    /// Upper bounds, increasing, without +Inf.
    bounds: Vec<f64>,
    /// Observations per bucket (not cumulative); the last one is +Inf.
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum: AtomicU64,
}

/// A histogram of observations (e.g. latencies in seconds).
#[derive(Debug, Clone)]
pub struct Histogram(Arc<HistogramCore>);

impl Histogram {
    fn new(bounds: &[f64]) -> Self {
        let mut bounds: Vec<f64> = bounds.iter().copied().filter(|b| b.is_finite()).collect();
        bounds.sort_by(f64::total_cmp);
        bounds.dedup();
        let buckets = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Histogram(Arc::new(HistogramCore {
            bounds,
            buckets,
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0f64.to_bits()),
        }))
    }

    pub fn detached(bounds: &[f64]) -> Self {
        Self::new(bounds)
    }

    pub fn observe(&self, v: f64) {
        let core = &self.0;
        let i = core.bounds.partition_point(|b| *b < v);
        core.buckets[i].fetch_add(1, Ordering::Relaxed);
        core.count.fetch_add(1, Ordering::Relaxed);
        let _ = core
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
    }

    pub fn count(&self) -> u64 {
        self.0.count.load(Ordering::Relaxed)
    }

    pub fn sum(&self) -> f64 {
        f64::from_bits(self.0.sum.load(Ordering::Relaxed))
    }
}

/// A gauge computed when metrics are rendered.
pub type GaugeFn = Arc<dyn Fn() -> f64 + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

#[derive(Clone)]
enum Series {
    Counter(Counter),
    Gauge(Gauge),
    GaugeFn(GaugeFn),
    Histogram(Histogram),
}

impl Series {
    fn kind(&self) -> Kind {
        match self {
            Series::Counter(_) => Kind::Counter,
            Series::Gauge(_) | Series::GaugeFn(_) => Kind::Gauge,
            Series::Histogram(_) => Kind::Histogram,
        }
    }
}

/// Label pairs, sorted by name.
type Labels = Vec<(String, String)>;

/// A family copied out of the lock: name, help, kind, series.
type FamilySnapshot = (String, String, Kind, Vec<(Labels, Series)>);

struct Family {
    help: String,
    kind: Kind,
    series: BTreeMap<Labels, Series>,
}

/// Metric families by name.
#[derive(Default)]
pub struct Registry {
    families: RwLock<BTreeMap<String, Family>>,
}

static GLOBAL: LazyLock<Registry> = LazyLock::new(Registry::new);

/// The process-wide registry that `GET /metrics` renders.
pub fn global() -> &'static Registry {
    &GLOBAL
}

fn valid_name(s: &str, colon: bool) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn labels_of(labels: &[(&str, &str)]) -> Labels {
    let mut out: Labels = labels
        .iter()
        .map(|(k, v)| (valid_name(k, false), (*v).to_string()))
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// The series `def{labels}` of kind `kind`: the existing one, or
    /// `make()` registered. `None` when the name is taken by another kind.
    fn series(
        &self,
        def: &MetricDef,
        kind: Kind,
        labels: &[(&str, &str)],
        make: impl FnOnce() -> Series,
        replace: bool,
    ) -> Option<Series> {
        let name = valid_name(def.name, true);
        let labels = labels_of(labels);
        {
            let families = self.families.read().unwrap_or_else(|e| e.into_inner());
            if let Some(f) = families.get(&name) {
                if f.kind != kind {
                    tracing::warn!(metric = %name, "metric registered as {} and {}; the second is not exported", f.kind.name(), kind.name());
                    return None;
                }
                if !replace {
                    if let Some(s) = f.series.get(&labels) {
                        if s.kind() == kind {
                            return Some(s.clone());
                        }
                    }
                }
            }
        }
        let mut families = self.families.write().unwrap_or_else(|e| e.into_inner());
        let family = families.entry(name.clone()).or_insert_with(|| Family {
            help: def.help.to_string(),
            kind,
            series: BTreeMap::new(),
        });
        if family.kind != kind {
            return None;
        }
        if replace {
            let s = make();
            family.series.insert(labels, s.clone());
            return Some(s);
        }
        Some(family.series.entry(labels).or_insert_with(make).clone())
    }

    /// The counter `def{labels}` (created at 0 if new).
    pub fn counter(&self, def: &MetricDef, labels: &[(&str, &str)]) -> Counter {
        match self.series(
            def,
            Kind::Counter,
            labels,
            || Series::Counter(Counter::default()),
            false,
        ) {
            Some(Series::Counter(c)) => c,
            _ => Counter::detached(),
        }
    }

    /// The gauge `def{labels}` (created at 0 if new). A function gauge of
    /// the same labels is replaced.
    pub fn gauge(&self, def: &MetricDef, labels: &[(&str, &str)]) -> Gauge {
        let make = || Series::Gauge(Gauge::default());
        match self.series(def, Kind::Gauge, labels, make, false) {
            Some(Series::Gauge(g)) => g,
            Some(Series::GaugeFn(_)) => match self.series(def, Kind::Gauge, labels, make, true) {
                Some(Series::Gauge(g)) => g,
                _ => Gauge::detached(),
            },
            _ => Gauge::detached(),
        }
    }

    /// A gauge whose value `f` computes at every rendering (replaces any
    /// series of the same name and labels).
    pub fn gauge_fn(
        &self,
        def: &MetricDef,
        labels: &[(&str, &str)],
        f: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        let f: GaugeFn = Arc::new(f);
        let _ = self.series(def, Kind::Gauge, labels, || Series::GaugeFn(f), true);
    }

    /// The histogram `def{labels}` with upper bounds `buckets` (used only
    /// when it is new).
    pub fn histogram(
        &self,
        def: &MetricDef,
        labels: &[(&str, &str)],
        buckets: &[f64],
    ) -> Histogram {
        match self.series(
            def,
            Kind::Histogram,
            labels,
            || Series::Histogram(Histogram::new(buckets)),
            false,
        ) {
            Some(Series::Histogram(h)) => h,
            _ => Histogram::detached(buckets),
        }
    }

    /// Removes every series whose labels include all of `matching`;
    /// returns how many. Families left empty are not rendered.
    pub fn remove(&self, matching: &[(&str, &str)]) -> usize {
        let wanted = labels_of(matching);
        let mut removed = 0;
        let mut families = self.families.write().unwrap_or_else(|e| e.into_inner());
        for family in families.values_mut() {
            let before = family.series.len();
            family
                .series
                .retain(|labels, _| !wanted.iter().all(|w| labels.contains(w)));
            removed += before - family.series.len();
        }
        families.retain(|_, f| !f.series.is_empty());
        removed
    }

    /// The current value of a counter or gauge series (tests, tools).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels = labels_of(labels);
        let families = self.families.read().unwrap_or_else(|e| e.into_inner());
        match families.get(name)?.series.get(&labels)? {
            Series::Counter(c) => Some(c.get() as f64),
            Series::Gauge(g) => Some(g.get()),
            Series::GaugeFn(f) => Some(f()),
            Series::Histogram(h) => Some(h.count() as f64),
        }
    }

    /// Everything, in Prometheus' text format 0.0.4: per family `# HELP`,
    /// `# TYPE`, then one line per series (histograms: cumulative
    /// `_bucket{le=…}` lines, `_sum`, `_count`). Families are sorted by
    /// name, series by labels.
    pub fn render(&self) -> String {
        // Function gauges run outside the lock: they may take their own.
        let families: Vec<FamilySnapshot> = {
            let families = self.families.read().unwrap_or_else(|e| e.into_inner());
            families
                .iter()
                .map(|(name, f)| {
                    (
                        name.clone(),
                        f.help.clone(),
                        f.kind,
                        f.series
                            .iter()
                            .map(|(l, s)| (l.clone(), s.clone()))
                            .collect(),
                    )
                })
                .collect()
        };
        let mut out = String::new();
        for (name, help, kind, series) in families {
            if series.is_empty() {
                continue;
            }
            let _ = writeln!(out, "# HELP {name} {}", escape_help(&help));
            let _ = writeln!(out, "# TYPE {name} {}", kind.name());
            for (labels, s) in series {
                match s {
                    Series::Counter(c) => {
                        let _ = writeln!(out, "{name}{} {}", render_labels(&labels, None), c.get());
                    }
                    Series::Gauge(g) => {
                        let _ = writeln!(
                            out,
                            "{name}{} {}",
                            render_labels(&labels, None),
                            format_value(g.get())
                        );
                    }
                    Series::GaugeFn(f) => {
                        let _ = writeln!(
                            out,
                            "{name}{} {}",
                            render_labels(&labels, None),
                            format_value(f())
                        );
                    }
                    Series::Histogram(h) => {
                        let core = &h.0;
                        let mut cumulative = 0u64;
                        for (i, bucket) in core.buckets.iter().enumerate() {
                            cumulative += bucket.load(Ordering::Relaxed);
                            let le = core
                                .bounds
                                .get(i)
                                .map_or_else(|| "+Inf".to_string(), |b| format_value(*b));
                            let _ = writeln!(
                                out,
                                "{name}_bucket{} {cumulative}",
                                render_labels(&labels, Some(&le))
                            );
                        }
                        let _ = writeln!(
                            out,
                            "{name}_sum{} {}",
                            render_labels(&labels, None),
                            format_value(h.sum())
                        );
                        let _ = writeln!(
                            out,
                            "{name}_count{} {}",
                            render_labels(&labels, None),
                            h.count()
                        );
                    }
                }
            }
        }
        out
    }
}

/// `{a="x",b="y"}` (with `le` last for histogram buckets), or nothing.
fn render_labels(labels: &Labels, le: Option<&str>) -> String {
    if labels.is_empty() && le.is_none() {
        return String::new();
    }
    let mut out = String::from("{");
    let mut first = true;
    let le_pair = le.map(|v| ("le".to_string(), v.to_string()));
    for (k, v) in labels.iter().chain(le_pair.as_ref()) {
        if !first {
            out.push(',');
        }
        first = false;
        let _ = write!(out, "{k}=\"{}\"", escape_label_value(v));
    }
    out.push('}');
    out
}

/// A label value: `\` → `\\`, `"` → `\"`, newline → `\n`.
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A `# HELP` text: `\` → `\\`, newline → `\n`.
pub fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value: integers without a fraction, `NaN`, `+Inf`, `-Inf`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Debezium's `plugin` label for a connector class (full name or alias),
/// or `None` for connectors that have no Debezium metrics.
pub fn debezium_plugin(class: &str) -> Option<&'static str> {
    let c = class.trim().to_ascii_lowercase();
    if c.contains("postgres") {
        Some("postgres")
    } else if c.contains("mariadb") {
        Some("mariadb")
    } else if c.contains("mysql") {
        Some("mysql")
    } else {
        None
    }
}

/// The pipeline metrics of one source task (`task.rs`): records, bytes
/// and acknowledgement latency of the sink, the age of acknowledged but
/// uncommitted offsets, and the queue's capacity (Debezium's
/// `QueueTotalCapacity` / `QueueRemainingCapacity` when the connector has
/// Debezium metrics). Labels `connector` and `task`.
pub struct PipelineMetrics {
    records: Counter,
    bytes: Counter,
    latency: Histogram,
    /// When the oldest acknowledgement not committed yet arrived.
    uncommitted_since: std::sync::Mutex<Option<std::time::Instant>>,
    /// Debezium's `(plugin, name)` labels, when the connector has them.
    debezium: Option<(&'static str, String)>,
}

impl PipelineMetrics {
    /// Registers the task's series in the global registry.
    pub fn register(
        connector: &str,
        task: u32,
        task_config: &sluice_connect_api::config::Props,
        max_queue_size: usize,
    ) -> Arc<PipelineMetrics> {
        let task_label = task.to_string();
        let labels = [("connector", connector), ("task", task_label.as_str())];
        let r = global();
        let debezium = task_config
            .get("connector.class")
            .and_then(|c| debezium_plugin(c))
            .zip(
                task_config
                    .get("topic.prefix")
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty()),
            );
        if let Some((plugin, name)) = &debezium {
            r.gauge(
                &defs::QUEUE_TOTAL_CAPACITY,
                &[("plugin", plugin), ("name", name), ("context", "streaming")],
            )
            .set(max_queue_size as f64);
        }
        let m = Arc::new(PipelineMetrics {
            records: r.counter(&defs::SINK_RECORDS, &labels),
            bytes: r.counter(&defs::SINK_BYTES, &labels),
            latency: r.histogram(&defs::SINK_ACK_LATENCY, &labels, ACK_LATENCY_BUCKETS),
            uncommitted_since: std::sync::Mutex::new(None),
            debezium,
        });
        let weak = Arc::downgrade(&m);
        r.gauge_fn(&defs::OFFSET_COMMIT_LAG, &labels, move || {
            weak.upgrade()
                .and_then(|m| {
                    *m.uncommitted_since
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                })
                .map_or(0.0, |t| t.elapsed().as_secs_f64())
        });
        m
    }

    /// Exports the free space of the task's queue (a channel of batches of
    /// at most `batch_size` records) as `QueueRemainingCapacity`, in
    /// records. Holds only a weak sender: the queue still closes when the
    /// poller drops its sender.
    pub fn watch_queue<T: Send + 'static>(
        &self,
        tx: &tokio::sync::mpsc::Sender<T>,
        batch_size: usize,
        max_queue_size: usize,
    ) {
        let Some((plugin, name)) = &self.debezium else {
            return;
        };
        let weak = tx.downgrade();
        global().gauge_fn(
            &defs::QUEUE_REMAINING_CAPACITY,
            &[("plugin", plugin), ("name", name), ("context", "streaming")],
            move || {
                weak.upgrade().map_or(0.0, |tx| {
                    (tx.capacity().saturating_mul(batch_size)).min(max_queue_size) as f64
                })
            },
        );
    }

    /// Wraps the acknowledgement of batch `id` (about to be handed to the
    /// sink) so that its durable acknowledgement counts its records and
    /// bytes and observes its latency.
    pub fn track(
        self: &Arc<Self>,
        id: u64,
        records: &[sluice_connect_api::SerializedRecord],
        callback: Arc<dyn Fn(u64, sluice_connect_api::Result<()>) + Send + Sync>,
    ) -> sluice_connect_api::BatchAck {
        let count = records.len() as u64;
        let bytes: u64 = records
            .iter()
            .map(|r| {
                (r.key.as_ref().map_or(0, Vec::len) + r.value.as_ref().map_or(0, Vec::len)) as u64
            })
            .sum();
        let handed = std::time::Instant::now();
        let me = self.clone();
        sluice_connect_api::BatchAck::new(
            id,
            Arc::new(move |id, result: sluice_connect_api::Result<()>| {
                if result.is_ok() {
                    me.records.add(count);
                    me.bytes.add(bytes);
                    me.latency.observe(handed.elapsed().as_secs_f64());
                    me.uncommitted_since
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert_with(std::time::Instant::now);
                }
                callback(id, result)
            }),
        )
    }

    /// An offset commit starts; pass the result to [`committed`](Self::committed).
    pub fn commit_started(&self) -> std::time::Instant {
        std::time::Instant::now()
    }

    /// The offsets acknowledged before `started` are committed.
    pub fn committed(&self, started: std::time::Instant) {
        let mut since = self
            .uncommitted_since
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if since.is_some_and(|t| t <= started) {
            *since = None;
        }
    }
}

/// Removes a task's `connector`/`task` series when the task is over for
/// good (stopped or failed); held by `TaskRunner::run`.
pub struct TaskMetricsGuard {
    connector: String,
    task: String,
}

impl TaskMetricsGuard {
    pub fn new(connector: &str, task: u32) -> Self {
        TaskMetricsGuard {
            connector: connector.to_string(),
            task: task.to_string(),
        }
    }
}

impl Drop for TaskMetricsGuard {
    fn drop(&mut self) {
        global().remove(&[("connector", &self.connector), ("task", &self.task)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: MetricDef = MetricDef {
        name: "test_events_total",
        help: "Events.",
    };
    const G: MetricDef = MetricDef {
        name: "test_lag_bytes",
        help: "Lag with a \\ backslash\nand a newline.",
    };
    const H: MetricDef = MetricDef {
        name: "test_latency_seconds",
        help: "Latency.",
    };

    #[test]
    fn renders_help_type_and_samples_sorted() {
        let r = Registry::new();
        r.counter(&C, &[("connector", "b")]).add(3);
        r.counter(&C, &[("connector", "a")]).inc();
        // The same series again: the same handle.
        r.counter(&C, &[("connector", "a")]).add(2);
        r.gauge(&G, &[("slot", "s1"), ("connector", "a")])
            .set(1024.0);
        r.gauge_fn(&G, &[("connector", "b")], || 2.5);
        assert_eq!(
            r.render(),
            "# HELP test_events_total Events.\n\
             # TYPE test_events_total counter\n\
             test_events_total{connector=\"a\"} 3\n\
             test_events_total{connector=\"b\"} 3\n\
             # HELP test_lag_bytes Lag with a \\\\ backslash\\nand a newline.\n\
             # TYPE test_lag_bytes gauge\n\
             test_lag_bytes{connector=\"a\",slot=\"s1\"} 1024\n\
             test_lag_bytes{connector=\"b\"} 2.5\n"
        );
        assert_eq!(
            r.value("test_events_total", &[("connector", "a")]),
            Some(3.0)
        );
    }

    #[test]
    fn escapes_label_values() {
        let r = Registry::new();
        r.gauge(&G, &[("table", "we\"ird\\name\nx")]).set(-1.0);
        let text = r.render();
        assert!(
            text.contains("test_lag_bytes{table=\"we\\\"ird\\\\name\\nx\"} -1\n"),
            "{text}"
        );
        assert_eq!(escape_label_value(r#"a"b\c"#), r#"a\"b\\c"#);
        // Invalid characters in names become underscores.
        r.counter(
            &MetricDef {
                name: "bad-name.total",
                help: "x",
            },
            &[("bad-label", "v")],
        )
        .inc();
        assert!(r.render().contains("bad_name_total{bad_label=\"v\"} 1\n"));
    }

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let r = Registry::new();
        let h = r.histogram(&H, &[("connector", "a")], &[1.0, 0.25]);
        h.observe(0.125);
        h.observe(0.25);
        h.observe(0.5);
        h.observe(7.0);
        let text = r.render();
        let expected = "# HELP test_latency_seconds Latency.\n\
                        # TYPE test_latency_seconds histogram\n\
                        test_latency_seconds_bucket{connector=\"a\",le=\"0.25\"} 2\n\
                        test_latency_seconds_bucket{connector=\"a\",le=\"1\"} 3\n\
                        test_latency_seconds_bucket{connector=\"a\",le=\"+Inf\"} 4\n\
                        test_latency_seconds_sum{connector=\"a\"} 7.875\n\
                        test_latency_seconds_count{connector=\"a\"} 4\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn values_are_formatted_as_prometheus_reads_them() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(-0.25), "-0.25");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(1e20), "100000000000000000000");
    }

    #[test]
    fn removal_by_label_and_kind_conflicts() {
        let r = Registry::new();
        r.counter(&C, &[("connector", "a")]).inc();
        r.counter(&C, &[("connector", "b")]).inc();
        r.gauge(&G, &[("connector", "a"), ("slot", "x")]).set(1.0);
        assert_eq!(r.remove(&[("connector", "a")]), 2);
        let text = r.render();
        assert!(!text.contains("connector=\"a\""), "{text}");
        assert!(
            !text.contains("test_lag_bytes"),
            "empty family gone: {text}"
        );
        assert!(text.contains("test_events_total{connector=\"b\"} 1"));
        // A gauge under a counter's name is not exported.
        let g = r.gauge(&C, &[("connector", "c")]);
        g.set(5.0);
        assert!(!r.render().contains("connector=\"c\""));
        // Re-registering after removal starts from zero.
        assert_eq!(r.counter(&C, &[("connector", "a")]).get(), 0);
    }

    #[test]
    fn a_gauge_replaces_a_function_gauge() {
        let r = Registry::new();
        r.gauge_fn(&G, &[], || 9.0);
        assert_eq!(r.value("test_lag_bytes", &[]), Some(9.0));
        let g = r.gauge(&G, &[]);
        g.add(2.0);
        g.add(0.5);
        assert_eq!(r.value("test_lag_bytes", &[]), Some(2.5));
        assert!(r.render().contains("test_lag_bytes 2.5\n"));
    }

    #[test]
    fn pipeline_metrics_count_what_the_sink_acknowledged() {
        use sluice_connect_api::record::ContentType;
        use sluice_connect_api::SerializedRecord;
        let props: sluice_connect_api::config::Props = [
            ("connector.class", "postgres"),
            ("topic.prefix", "pm_prefix"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let m = PipelineMetrics::register("pm_conn", 3, &props, 100);
        let task = [("connector", "pm_conn"), ("task", "3")];
        let debezium = [
            ("plugin", "postgres"),
            ("name", "pm_prefix"),
            ("context", "streaming"),
        ];
        let r = global();
        assert_eq!(
            r.value("debezium_metrics_QueueTotalCapacity", &debezium),
            Some(100.0)
        );
        let rec = SerializedRecord {
            topic: "t".into(),
            partition: None,
            timestamp: None,
            headers: Vec::new(),
            key: Some(vec![1, 2]),
            value: Some(vec![0; 10]),
            key_type: ContentType::Binary,
            value_type: ContentType::Binary,
        };
        let acks = Arc::new(std::sync::Mutex::new(Vec::new()));
        let cb: Arc<dyn Fn(u64, sluice_connect_api::Result<()>) + Send + Sync> = {
            let acks = acks.clone();
            Arc::new(move |id, r: sluice_connect_api::Result<()>| {
                acks.lock().unwrap().push((id, r.is_ok()))
            })
        };
        let ack = m.track(7, &[rec.clone(), rec.clone()], cb.clone());
        assert_eq!(r.value("sluice_sink_records_total", &task), Some(0.0));
        assert_eq!(
            r.value("sluice_offset_commit_lag_seconds", &task),
            Some(0.0)
        );
        ack.durable();
        assert_eq!(*acks.lock().unwrap(), vec![(7, true)]);
        assert_eq!(r.value("sluice_sink_records_total", &task), Some(2.0));
        assert_eq!(r.value("sluice_sink_bytes_total", &task), Some(24.0));
        assert_eq!(r.value("sluice_sink_ack_latency_seconds", &task), Some(1.0));
        // Acknowledged, not committed: the age grows until the commit.
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(r.value("sluice_offset_commit_lag_seconds", &task).unwrap() >= 0.02);
        let started = m.commit_started();
        m.committed(started);
        assert_eq!(
            r.value("sluice_offset_commit_lag_seconds", &task),
            Some(0.0)
        );
        // A failed batch counts nothing.
        m.track(8, &[rec], cb)
            .failed(sluice_connect_api::ConnectError::internal("x"));
        assert_eq!(r.value("sluice_sink_records_total", &task), Some(2.0));
        assert_eq!(acks.lock().unwrap().last(), Some(&(8, false)));
        // The queue's free space, in records, while its sender lives.
        let (tx, _rx) = tokio::sync::mpsc::channel::<u8>(4);
        m.watch_queue(&tx, 30, 100);
        assert_eq!(
            r.value("debezium_metrics_QueueRemainingCapacity", &debezium),
            Some(100.0)
        );
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert_eq!(
            r.value("debezium_metrics_QueueRemainingCapacity", &debezium),
            Some(60.0)
        );
        drop(tx);
        assert_eq!(
            r.value("debezium_metrics_QueueRemainingCapacity", &debezium),
            Some(0.0)
        );
        // The task is over for good: its series go.
        drop(TaskMetricsGuard::new("pm_conn", 3));
        assert_eq!(r.value("sluice_sink_records_total", &task), None);
        assert_eq!(r.value("sluice_offset_commit_lag_seconds", &task), None);
    }

    #[test]
    fn plugin_labels() {
        assert_eq!(
            debezium_plugin("io.debezium.connector.postgresql.PostgresConnector"),
            Some("postgres")
        );
        assert_eq!(debezium_plugin("mariadb"), Some("mariadb"));
        assert_eq!(
            debezium_plugin("io.debezium.connector.mysql.MySqlConnector"),
            Some("mysql")
        );
        assert_eq!(debezium_plugin("FileStreamSource"), None);
    }
}
