//! Snapshot progress reaches the worker's status store with Debezium's
//! metric names.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_connect_api::config::Props;
use sluice_runtime::{Plugins, Worker};
use sluice_testkit::{unique_name, PgServer};

fn props(pairs: &[(&str, String)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_progress_is_published_to_the_status_store() {
    let pg = PgServer::start().unwrap();
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    pg.psql(&db, "CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a SELECT generate_series(1, 5000); CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b VALUES (1); ANALYZE;")
        .unwrap();
    let mut plugins = Plugins::new();
    plugins.add_connector(Arc::new(sluice_postgres::PostgresConnector::new()));
    for s in sluice_sinks::all_plugins() {
        plugins.add_sink(s);
    }
    plugins.set_converters(Arc::new(sluice_converters::create_converter));
    let worker = Worker::with_memory_offsets(
        plugins,
        props(&[
            ("sink.type", "null".into()),
            ("offset.flush.interval.ms", "50".into()),
        ]),
    )
    .unwrap();
    let slot = unique_name("slot");
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
            ("snapshot.mode", "initial".into()),
            ("poll.interval.ms", "50".into()),
        ]))
        .await
        .unwrap();
    let status = worker.status_store();
    let start = Instant::now();
    let metrics = loop {
        let details = status.task_details("pg", 0);
        if let Some(m) = details.get("snapshot") {
            if m["SnapshotCompleted"] == true {
                break m.clone();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no completed snapshot progress: {details:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(metrics["TotalTableCount"], 2);
    assert_eq!(metrics["RemainingTableCount"], 0);
    assert_eq!(metrics["RowsScanned"]["public.a"], 5000);
    assert_eq!(metrics["RowsScanned"]["public.b"], 1);
    assert_eq!(metrics["SnapshotRunning"], false);
    assert!(metrics["SnapshotDurationInSeconds"].is_number());
    worker.shutdown().await;
}
