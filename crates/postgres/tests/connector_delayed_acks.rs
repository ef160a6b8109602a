//! The connector under a sink that holds acknowledgements back: the slot's
//! confirmed_flush_lsn never passes a change that is not yet durable, and
//! catches up once everything is acknowledged.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sluice_connect_api::config::Props;
use sluice_connect_api::{
    BatchAck, ConfigDef, Result, SerializedRecord, Sink, SinkContext, SinkPlugin,
};
use sluice_runtime::{Plugins, Worker};
use sluice_testkit::{unique_name, PgServer};

type Held = Arc<Mutex<Vec<(Vec<i64>, BatchAck)>>>;

struct HoldingSink {
    held: Held,
}

#[async_trait]
impl Sink for HoldingSink {
    async fn accept(&mut self, batch: Vec<SerializedRecord>, ack: BatchAck) -> Result<()> {
        let lsns = batch
            .iter()
            .filter_map(|r| r.value.as_ref())
            .filter_map(|v| serde_json::from_slice::<serde_json::Value>(v).ok())
            .filter_map(|v| v["source"]["lsn"].as_i64())
            .collect();
        self.held.lock().unwrap().push((lsns, ack));
        Ok(())
    }
    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

struct HoldingPlugin {
    held: Held,
    def: ConfigDef,
}

impl SinkPlugin for HoldingPlugin {
    fn sink_type(&self) -> &'static str {
        "null"
    }
    fn config_def(&self) -> &ConfigDef {
        &self.def
    }
    fn create(&self, _props: &Props, _context: &SinkContext) -> Result<Box<dyn Sink>> {
        Ok(Box::new(HoldingSink {
            held: self.held.clone(),
        }))
    }
}

fn props(pairs: &[(&str, String)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn confirmed(pg: &PgServer, db: &str, slot: &str) -> i64 {
    pg.psql(db, &format!("SELECT COALESCE((confirmed_flush_lsn - '0/0')::bigint, 0) FROM pg_replication_slots WHERE slot_name = '{slot}'"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_flush_never_passes_an_unacknowledged_change() {
    let pg = PgServer::start().unwrap();
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    pg.psql(&db, "CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    let slot = unique_name("slot");

    let held: Held = Arc::new(Mutex::new(Vec::new()));
    let mut plugins = Plugins::new();
    plugins.add_connector(Arc::new(sluice_postgres::PostgresConnector::new()));
    plugins.add_sink(Arc::new(HoldingPlugin {
        held: held.clone(),
        def: ConfigDef::new(),
    }));
    plugins.set_converters(Arc::new(sluice_converters::create_converter));
    let worker = Worker::with_memory_offsets(
        plugins,
        props(&[
            ("sink.type", "null".into()),
            ("offset.flush.interval.ms", "20".into()),
            ("value.converter.schemas.enable", "false".into()),
        ]),
    )
    .unwrap();
    worker
        .start_connector(props(&[
            ("name", "pg".into()),
            ("connector.class", "postgres".into()),
            ("database.hostname", "127.0.0.1".into()),
            ("database.port", pg.port().to_string()),
            ("database.user", "postgres".into()),
            ("database.dbname", db.clone()),
            ("topic.prefix", "srv".into()),
            ("slot.name", slot.clone()),
            ("publication.name", format!("p_{slot}")),
            ("snapshot.mode", "no_data".into()),
            ("poll.interval.ms", "50".into()),
            ("status.update.interval.ms", "50".into()),
        ]))
        .await
        .unwrap();
    let start = Instant::now();
    while pg
        .psql(
            &db,
            &format!("SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'"),
        )
        .unwrap_or_default()
        .trim()
        != "t"
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "slot never active"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Three transactions, each arriving as its own batch.
    for i in 1..=3 {
        pg.psql(&db, &format!("INSERT INTO t VALUES ({i})"))
            .unwrap();
        let start = Instant::now();
        while held.lock().unwrap().len() < i {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "batch {i} never reached the sink"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let (first_batch_lsns, second_batch_lsns) = {
        let h = held.lock().unwrap();
        (h[0].0.clone(), h[1].0.clone())
    };
    // Acknowledge only the third batch: nothing may be confirmed past the
    // first change (confirmed_flush_lsn == a change's LSN still replays it).
    let third = held.lock().unwrap().remove(2).1;
    third.durable();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let c = confirmed(&pg, &db, &slot);
    assert!(
        c <= first_batch_lsns[0],
        "confirmed_flush_lsn {c} passed unacknowledged change at {}",
        first_batch_lsns[0]
    );
    // Acknowledge the first: still nothing past the second batch's change.
    let first = held.lock().unwrap().remove(0).1;
    first.durable();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let c = confirmed(&pg, &db, &slot);
    assert!(
        c <= second_batch_lsns[0],
        "confirmed_flush_lsn {c} passed unacknowledged change at {}",
        second_batch_lsns[0]
    );
    // Everything acknowledged: the slot catches up past the last change.
    let second = held.lock().unwrap().remove(0).1;
    second.durable();
    let last = held
        .lock()
        .unwrap()
        .iter()
        .flat_map(|(l, _)| l.clone())
        .max()
        .unwrap_or(second_batch_lsns[0]);
    let start = Instant::now();
    loop {
        // Acknowledge anything that arrived since (heartbeats are off; nothing should).
        for (_, ack) in held.lock().unwrap().drain(..) {
            ack.durable();
        }
        let c = confirmed(&pg, &db, &slot);
        if c > last {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "confirmed_flush_lsn {c} never passed the last change {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await;
}
