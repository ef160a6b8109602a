//! Replication-slot monitoring against a real PostgreSQL: slot reports and
//! their health, a slot the server invalidated, and a running connector
//! that pauses reading while its slot lag is over `slot.lag.fail.bytes`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use sluice_connect_api::config::Props;
use sluice_connect_api::{
    BatchAck, ConfigDef, ErrorKind, Result, SerializedRecord, Sink, SinkContext, SinkPlugin,
};
use sluice_postgres::slots::{all_slots, all_slots_with, slot_report, Health, SlotThresholds};
use sluice_runtime::metrics::global;
use sluice_runtime::status::State;
use sluice_runtime::{Plugins, Worker};
use sluice_testkit::{unique_name, PgServer};

fn props(pairs: &[(&str, String)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn connector_props(name: &str, pg: &PgServer, db: &str, slot: &str, prefix: &str) -> Props {
    props(&[
        ("name", name.into()),
        ("connector.class", "postgres".into()),
        ("database.hostname", "127.0.0.1".into()),
        ("database.port", pg.port().to_string()),
        ("database.user", "postgres".into()),
        ("database.dbname", db.into()),
        ("topic.prefix", prefix.into()),
        ("slot.name", slot.into()),
        ("publication.name", format!("p_{slot}")),
        ("poll.interval.ms", "50".into()),
        ("status.update.interval.ms", "100".into()),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_every_slot_with_its_lag_and_health() {
    let pg = PgServer::start().unwrap();
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    let slot = unique_name("slot");
    pg.psql(
        &db,
        &format!(
            "CREATE TABLE t (id int PRIMARY KEY, note text); \
             SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput'); \
             SELECT pg_create_physical_replication_slot('{slot}_phys', true);"
        ),
    )
    .unwrap();
    pg.psql(
        &db,
        "INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g",
    )
    .unwrap();

    let url = pg.url(&db);
    let slots = all_slots(&url).await.unwrap();
    let logical = slots
        .iter()
        .find(|s| s.slot_name == slot)
        .expect("the logical slot");
    let physical = slots
        .iter()
        .find(|s| s.slot_name == format!("{slot}_phys"))
        .expect("the physical slot");
    assert_eq!(logical.plugin.as_deref(), Some("pgoutput"));
    assert_eq!(logical.slot_type, "logical");
    assert_eq!(logical.database.as_deref(), Some(db.as_str()));
    assert!(!logical.active);
    // 2000 rows of 200 bytes are well over 400 kB of WAL.
    let lag = logical.lag_bytes.unwrap();
    assert!(lag > 400_000, "{logical:?}");
    assert!(logical.retained_wal_bytes.unwrap() >= lag, "{logical:?}");
    let lsn = |s: &Option<String>| {
        s.as_deref()
            .unwrap()
            .parse::<sluice_postgres::lsn::Lsn>()
            .unwrap()
            .0
    };
    assert_eq!(
        lsn(&logical.current_wal_lsn) - lsn(&logical.confirmed_flush_lsn),
        lag as u64
    );
    assert_eq!(logical.wal_status.as_deref(), Some("reserved"));
    assert_eq!(logical.max_slot_wal_keep_size, -1);
    assert_eq!(logical.health, Health::Ok, "{}", logical.message);
    assert_eq!(physical.slot_type, "physical");
    assert!(physical.lag_bytes.unwrap() > 400_000, "{physical:?}");

    // With small thresholds: warning, then critical.
    let judged = all_slots_with(
        &url,
        SlotThresholds {
            warn_bytes: 100_000,
            fail_bytes: -1,
        },
    )
    .await
    .unwrap();
    let r = judged.iter().find(|s| s.slot_name == slot).unwrap();
    assert_eq!(r.health, Health::Warning);
    assert!(
        r.message.contains(&slot) && r.message.contains("slot.lag.warn.bytes"),
        "{}",
        r.message
    );

    // A connector's slot, judged with its own keys.
    let mut config = connector_props("pg", &pg, &db, &slot, "srv");
    config.insert("slot.lag.warn.bytes".into(), "1000".into());
    config.insert("slot.lag.fail.bytes".into(), "100000".into());
    let report = slot_report(&config).await.unwrap();
    assert_eq!(report.slot_name, slot);
    assert_eq!(report.health, Health::Critical, "{}", report.message);
    assert!(
        report.message.contains("slot.lag.fail.bytes"),
        "{}",
        report.message
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["health"], "critical");
    assert!(json["lag_bytes"].as_i64().unwrap() > 100_000);

    // A slot that does not exist.
    config.insert("slot.name".into(), "no_such_slot".into());
    let err = slot_report(&config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.message().contains("no_such_slot") && err.message().contains("when_needed"),
        "{err}"
    );

    // A server that is not there: a connection error naming it.
    let err = all_slots("postgres://postgres@127.0.0.1:1/x")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(err.message().contains("127.0.0.1:1"), "{err}");
}

/// Writes enough WAL (and checkpoints) for a server with a tiny
/// `max_slot_wal_keep_size` to invalidate every slot behind.
fn burn_wal(pg: &PgServer, db: &str) {
    for _ in 0..3 {
        pg.psql(
            db,
            "CREATE TABLE IF NOT EXISTS burn (x text); \
             INSERT INTO burn SELECT repeat('w', 1000) FROM generate_series(1, 3000); \
             SELECT pg_switch_wal(); CHECKPOINT;",
        )
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_slot_fails_the_connector_unless_snapshot_mode_is_when_needed() {
    let pg = PgServer::builder()
        .setting("max_slot_wal_keep_size", "1MB")
        .start()
        .unwrap();
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    let slot = unique_name("slot");
    pg.psql(
        &db,
        &format!(
            "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2); \
             SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput');"
        ),
    )
    .unwrap();
    burn_wal(&pg, &db);
    let slots = all_slots(&pg.url(&db)).await.unwrap();
    let lost = slots.iter().find(|s| s.slot_name == slot).unwrap();
    assert_eq!(lost.wal_status.as_deref(), Some("lost"), "{lost:?}");
    assert_eq!(lost.health, Health::Lost);
    assert_eq!(lost.max_slot_wal_keep_size, 1 << 20);
    assert!(
        lost.message.contains("snapshot.mode=when_needed"),
        "{}",
        lost.message
    );

    // A connector that had streamed from the slot (a stored streaming
    // offset) and would not re-snapshot: FAILED, naming the fix.
    let tmp = tempfile::tempdir().unwrap();
    let offsets = tmp.path().join("offsets.json");
    std::fs::write(
        &offsets,
        serde_json::json!({"version": 1, "offsets": [{
            "key": ["pg", {"server": "lost"}],
            "value": {"lsn_proc": 1000, "lsn_commit": 1000, "lsn": 1000, "txId": 700,
                      "ts_usec": 1, "messageType": "COMMIT"}
        }]})
        .to_string(),
    )
    .unwrap();
    let mut plugins = Plugins::new();
    plugins.add_connector(Arc::new(sluice_postgres::PostgresConnector::new()));
    for s in sluice_sinks::all_plugins() {
        plugins.add_sink(s);
    }
    plugins.set_converters(Arc::new(sluice_converters::create_converter));
    let worker = Worker::new(
        plugins,
        props(&[
            ("sink.type", "null".into()),
            ("offset.flush.interval.ms", "50".into()),
            (
                "offset.storage.file.filename",
                offsets.display().to_string(),
            ),
        ]),
    )
    .unwrap();
    let mut config = connector_props("pg", &pg, &db, &slot, "lost");
    config.insert("snapshot.mode".into(), "initial".into());
    worker.start_connector(config.clone()).await.unwrap();
    let status = worker.status_store();
    let start = Instant::now();
    let trace = loop {
        if let Some((_, s)) = status.tasks("pg").into_iter().next() {
            if s.state == State::Failed {
                break s.trace.unwrap_or_default();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            status.tasks("pg")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        trace.contains("wal_status=lost")
            && trace.contains(&slot)
            && trace.contains("snapshot.mode=when_needed"),
        "{trace}"
    );
    worker.stop_connector("pg").await.unwrap();

    // snapshot.mode=when_needed: the lost slot is replaced and the table
    // snapshotted again.
    config.insert("snapshot.mode".into(), "when_needed".into());
    worker.start_connector(config).await.unwrap();
    let start = Instant::now();
    loop {
        let details = status.task_details("pg", 0);
        if details
            .get("snapshot")
            .is_some_and(|m| m["SnapshotCompleted"] == true)
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?} {details:?}",
            status.tasks("pg")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fresh = all_slots(&pg.url(&db)).await.unwrap();
    let fresh = fresh.iter().find(|s| s.slot_name == slot).unwrap();
    assert_ne!(fresh.wal_status.as_deref(), Some("lost"), "{fresh:?}");
    assert_eq!(status.tasks("pg")[0].1.state, State::Running);
    worker.shutdown().await;
}

/// A sink that holds acknowledgements back until told to let them go.
#[derive(Clone, Default)]
struct Gate {
    held: Arc<Mutex<Vec<BatchAck>>>,
    open: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
}

impl Gate {
    fn release(&self) {
        self.open.store(true, Ordering::SeqCst);
        for ack in self.held.lock().unwrap().drain(..) {
            ack.durable();
        }
    }
}

struct GateSink(Gate);

#[async_trait]
impl Sink for GateSink {
    async fn accept(&mut self, batch: Vec<SerializedRecord>, ack: BatchAck) -> Result<()> {
        self.0.accepted.fetch_add(batch.len(), Ordering::SeqCst);
        if self.0.open.load(Ordering::SeqCst) {
            ack.durable();
        } else {
            self.0.held.lock().unwrap().push(ack);
        }
        Ok(())
    }
    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

struct GatePlugin(Gate, ConfigDef);

impl SinkPlugin for GatePlugin {
    fn sink_type(&self) -> &'static str {
        "null"
    }
    fn config_def(&self) -> &ConfigDef {
        &self.1
    }
    fn create(&self, _props: &Props, _context: &SinkContext) -> Result<Box<dyn Sink>> {
        Ok(Box::new(GateSink(self.0.clone())))
    }
}

async fn wait_for_detail(
    worker: &Worker,
    name: &str,
    what: &str,
    timeout: Duration,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let details = worker.status_store().task_details(name, 0);
        if let Some(slot) = details.get("slot") {
            if ok(slot) {
                return slot.clone();
            }
        }
        assert!(
            start.elapsed() < timeout,
            "{what}: {details:?} {:?}",
            worker.status_store().tasks(name)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_over_the_fail_threshold_pauses_reading_until_the_sink_catches_up() {
    let pg = PgServer::start().unwrap();
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    pg.psql(&db, "CREATE TABLE t (id int PRIMARY KEY, note text)")
        .unwrap();
    let slot = unique_name("slot");
    let prefix = unique_name("paused");
    let gate = Gate::default();
    let mut plugins = Plugins::new();
    plugins.add_connector(Arc::new(sluice_postgres::PostgresConnector::new()));
    plugins.add_sink(Arc::new(GatePlugin(gate.clone(), ConfigDef::new())));
    plugins.set_converters(Arc::new(sluice_converters::create_converter));
    let worker = Worker::with_memory_offsets(
        plugins,
        props(&[
            ("sink.type", "null".into()),
            ("offset.flush.interval.ms", "50".into()),
        ]),
    )
    .unwrap();
    let name = unique_name("gated");
    let mut config = connector_props(&name, &pg, &db, &slot, &prefix);
    for (k, v) in [
        ("snapshot.mode", "no_data"),
        ("slot.lag.warn.bytes", "50000"),
        ("slot.lag.fail.bytes", "200000"),
        ("slot.lag.check.interval.ms", "200"),
        ("max.batch.size", "100"),
    ] {
        config.insert(k.into(), v.into());
    }
    worker.start_connector(config).await.unwrap();
    // Streaming, and the first check published.
    let first = wait_for_detail(
        &worker,
        &name,
        "a first check",
        Duration::from_secs(30),
        |s| s["active"] == true,
    )
    .await;
    assert_eq!(first["slot_name"], slot.as_str());
    assert_eq!(first["health"], "ok", "{first}");
    assert_eq!(first["reading_paused"], false);

    // 3000 rows of 200 bytes: more than 600 kB of WAL that the held sink
    // never acknowledges.
    pg.psql(
        &db,
        "INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 3000) g",
    )
    .unwrap();
    let paused = wait_for_detail(
        &worker,
        &name,
        "reading paused",
        Duration::from_secs(30),
        |s| s["reading_paused"] == true,
    )
    .await;
    assert_eq!(paused["health"], "critical", "{paused}");
    assert!(paused["lag_bytes"].as_i64().unwrap() > 200_000, "{paused}");
    assert!(
        paused["paused_reason"]
            .as_str()
            .unwrap()
            .contains("slot.lag.fail.bytes"),
        "{paused}"
    );
    let labels = [("connector", name.as_str()), ("slot", slot.as_str())];
    assert_eq!(
        global().value("sluice_slot_reading_paused", &labels),
        Some(1.0)
    );
    assert!(global().value("sluice_slot_lag_bytes", &labels).unwrap() > 200_000.0);
    assert!(
        global()
            .value("sluice_slot_retained_wal_bytes", &labels)
            .unwrap()
            > 200_000.0
    );

    // Paused: nothing more is read, whatever the database does.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = gate.accepted.load(Ordering::SeqCst);
    pg.psql(
        &db,
        "INSERT INTO t SELECT g, 'more' FROM generate_series(3001, 3500) g",
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        gate.accepted.load(Ordering::SeqCst),
        before,
        "read while paused"
    );
    let still = worker.status_store().task_details(&name, 0)["slot"].clone();
    assert_eq!(still["reading_paused"], true, "{still}");
    assert_eq!(
        worker.status_store().tasks(&name)[0].1.state,
        State::Running
    );

    // The sink catches up: reading resumes, everything arrives, the lag
    // drops back to ok.
    gate.release();
    let ok = wait_for_detail(&worker, &name, "back to ok", Duration::from_secs(60), |s| {
        s["health"] == "ok" && s["reading_paused"] == false
    })
    .await;
    assert!(ok["lag_bytes"].as_i64().unwrap() <= 50_000, "{ok}");
    let start = Instant::now();
    while gate.accepted.load(Ordering::SeqCst) < 3500 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} records",
            gate.accepted.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        global().value("sluice_slot_reading_paused", &labels),
        Some(0.0)
    );

    // Debezium's streaming metrics and the pipeline's.
    let streaming = [
        ("plugin", "postgres"),
        ("name", prefix.as_str()),
        ("context", "streaming"),
    ];
    let v = |name: &str, labels: &[(&str, &str)]| global().value(name, labels);
    assert!(v("debezium_metrics_TotalNumberOfEventsSeen", &streaming).unwrap() >= 3500.0);
    assert!(v("debezium_metrics_NumberOfCommittedTransactions", &streaming).unwrap() >= 2.0);
    assert_eq!(v("debezium_metrics_Connected", &streaming), Some(1.0));
    assert!(v("debezium_metrics_MilliSecondsBehindSource", &streaming).unwrap() >= 0.0);
    assert_eq!(
        v("debezium_metrics_QueueTotalCapacity", &streaming),
        Some(8192.0)
    );
    let remaining = v("debezium_metrics_QueueRemainingCapacity", &streaming).unwrap();
    assert!((0.0..=8192.0).contains(&remaining), "{remaining}");
    let task = [("connector", name.as_str()), ("task", "0")];
    assert!(v("sluice_sink_records_total", &task).unwrap() >= 3500.0);
    assert!(v("sluice_sink_bytes_total", &task).unwrap() > 3500.0 * 200.0);
    assert!(v("sluice_sink_ack_latency_seconds", &task).unwrap() >= 1.0);
    let text = global().render();
    assert!(
        text.contains("# TYPE sluice_sink_ack_latency_seconds histogram"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "debezium_metrics_Connected{{context=\"streaming\",name=\"{prefix}\",plugin=\"postgres\"}} 1\n"
    )));

    worker.shutdown().await;
    // The task is gone: so are its series.
    assert_eq!(v("debezium_metrics_Connected", &streaming), None);
    assert_eq!(v("sluice_slot_lag_bytes", &labels), None);
    assert_eq!(v("sluice_sink_records_total", &task), None);
}
