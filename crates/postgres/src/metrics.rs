//! The PostgreSQL connector's Debezium metrics (streaming and snapshot
//! contexts, labels `plugin="postgres"`, `name=<topic.prefix>`,
//! `context`), kept in sluice's global registry (`GET /metrics`).

use serde_json::Value as Json;
use sluice_runtime::metrics::{defs, global, Counter, Gauge};

const PLUGIN: &str = "postgres";

/// Handles of one task run's metrics.
pub(crate) struct PgMetrics {
    name: String,
    streaming_events: Counter,
    snapshot_events: Counter,
    committed_transactions: Counter,
    ms_behind_source: Gauge,
    connected: Gauge,
    snapshot_running: Gauge,
    snapshot_completed: Gauge,
    total_tables: Gauge,
    remaining_tables: Gauge,
    snapshot_duration: Gauge,
}

impl PgMetrics {
    /// Registers the series of the connector whose `topic.prefix` is
    /// `name`, with Debezium's start values (not connected, no snapshot).
    pub(crate) fn new(name: &str) -> PgMetrics {
        let r = global();
        let streaming = [("plugin", PLUGIN), ("name", name), ("context", "streaming")];
        let snapshot = [("plugin", PLUGIN), ("name", name), ("context", "snapshot")];
        let m = PgMetrics {
            name: name.to_string(),
            streaming_events: r.counter(&defs::TOTAL_NUMBER_OF_EVENTS_SEEN, &streaming),
            snapshot_events: r.counter(&defs::TOTAL_NUMBER_OF_EVENTS_SEEN, &snapshot),
            committed_transactions: r.counter(&defs::NUMBER_OF_COMMITTED_TRANSACTIONS, &streaming),
            ms_behind_source: r.gauge(&defs::MILLISECONDS_BEHIND_SOURCE, &streaming),
            connected: r.gauge(&defs::CONNECTED, &streaming),
            snapshot_running: r.gauge(&defs::SNAPSHOT_RUNNING, &snapshot),
            snapshot_completed: r.gauge(&defs::SNAPSHOT_COMPLETED, &snapshot),
            total_tables: r.gauge(&defs::TOTAL_TABLE_COUNT, &snapshot),
            remaining_tables: r.gauge(&defs::REMAINING_TABLE_COUNT, &snapshot),
            snapshot_duration: r.gauge(&defs::SNAPSHOT_DURATION_IN_SECONDS, &snapshot),
        };
        // Debezium's value before the first event.
        m.ms_behind_source.set(-1.0);
        m
    }

    pub(crate) fn set_connected(&self, connected: bool) {
        self.connected.set_bool(connected);
    }

    /// Records handed to the worker by one poll.
    pub(crate) fn events(&self, snapshot: bool, n: usize) {
        if n > 0 {
            if snapshot {
                self.snapshot_events.add(n as u64);
            } else {
                self.streaming_events.add(n as u64);
            }
        }
    }

    /// A transaction committed at `commit_ts_us` (µs since the epoch) was
    /// processed now.
    pub(crate) fn transaction_committed(&self, commit_ts_us: i64, now_us: i64) {
        self.committed_transactions.inc();
        self.ms_behind_source
            .set(((now_us - commit_ts_us) / 1000).max(0) as f64);
    }

    /// The snapshot's progress, as `SnapshotProgress::metrics` renders it.
    pub(crate) fn snapshot(&self, m: &Json) {
        let num = |k: &str| m.get(k).and_then(Json::as_f64).unwrap_or(0.0);
        let flag = |k: &str| m.get(k).and_then(Json::as_bool).unwrap_or(false);
        self.snapshot_running.set_bool(flag("SnapshotRunning"));
        self.snapshot_completed.set_bool(flag("SnapshotCompleted"));
        self.total_tables.set(num("TotalTableCount"));
        self.remaining_tables.set(num("RemainingTableCount"));
        self.snapshot_duration.set(num("SnapshotDurationInSeconds"));
        if let Some(rows) = m.get("RowsScanned").and_then(Json::as_object) {
            for (table, n) in rows {
                global()
                    .gauge(
                        &defs::ROWS_SCANNED,
                        &[
                            ("plugin", PLUGIN),
                            ("name", &self.name),
                            ("context", "snapshot"),
                            ("table", table),
                        ],
                    )
                    .set(n.as_f64().unwrap_or(0.0));
            }
        }
    }

    /// The task stops: its series go away (Debezium unregisters its MBeans).
    pub(crate) fn remove(&self) {
        for context in ["streaming", "snapshot"] {
            global().remove(&[
                ("plugin", PLUGIN),
                ("name", &self.name),
                ("context", context),
            ]);
        }
    }
}
