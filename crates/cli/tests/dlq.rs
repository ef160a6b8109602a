//! Error tolerance with a real PostgreSQL: a Cast that fails on some rows
//! under `errors.tolerance=all` sends those rows to the dead-letter topic
//! (with Kafka Connect's `__connect.errors.*` headers) while the next rows
//! still flow; with `errors.tolerance=none` the task fails with the cause.

mod common;

use std::time::{Duration, Instant};

use common::{read_events, start_sluice, terminate, ChildGuard};
use serde_json::{json, Value};
use sluice_testkit::{unique_name, PgServer};

fn setup(pg: &PgServer, dir: &std::path::Path, tolerance: &str) -> (String, std::path::PathBuf) {
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    pg.psql(
        &db,
        "CREATE TABLE payments (id bigint PRIMARY KEY, amount text)",
    )
    .unwrap();
    let out = dir.join("events.jsonl");
    std::fs::write(
        dir.join("worker.properties"),
        format!(
            "offset.storage.file.filename={}\noffset.flush.interval.ms=100\nrest.port=0\n\
             sink.type=file\nsink.file.path={}\nsink.file.fsync=false\n\
             key.converter.schemas.enable=false\nvalue.converter.schemas.enable=false\n",
            dir.join("offsets.json").display(),
            out.display()
        ),
    )
    .unwrap();
    let slot = unique_name("slot");
    std::fs::write(
        dir.join("pg.json"),
        json!({"name": "pay", "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": "127.0.0.1",
            "database.port": pg.port().to_string(),
            "database.user": "postgres",
            "database.dbname": db,
            "topic.prefix": "shop",
            "slot.name": slot,
            "publication.name": format!("pub_{slot}"),
            "snapshot.mode": "no_data",
            "poll.interval.ms": "100",
            "transforms": "unwrap,cast",
            "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
            "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
            "transforms.cast.spec": "amount:int32",
            "errors.tolerance": tolerance,
            "errors.log.enable": "true",
            "errors.deadletterqueue.topic.name": "shop-dlq",
            "errors.deadletterqueue.context.headers.enable": "true"
        }})
        .to_string(),
    )
    .unwrap();
    (db, out)
}

fn wait_streaming(log: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("starting replication") {
            return;
        }
        assert!(Instant::now() < deadline, "not streaming; log:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A worker streaming the `payments` table with `errors.tolerance` set
/// (the server and the temporary directory live as long as the result).
struct Streaming {
    pg: PgServer,
    tmp: tempfile::TempDir,
    db: String,
    out: std::path::PathBuf,
    log: std::path::PathBuf,
    sluice: ChildGuard,
}

fn start_streaming(tolerance: &str) -> Streaming {
    let pg = PgServer::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (db, out) = setup(&pg, tmp.path(), tolerance);
    let log = tmp.path().join("sluice.log");
    let sluice = start_sluice(
        &tmp.path().join("worker.properties"),
        &tmp.path().join("pg.json"),
        &log,
        "info",
    );
    wait_streaming(&log);
    Streaming {
        pg,
        tmp,
        db,
        out,
        log,
        sluice,
    }
}

#[test]
fn a_cast_failure_goes_to_the_dead_letter_topic_and_the_next_rows_flow() {
    let Streaming {
        pg,
        tmp,
        db,
        out,
        log,
        mut sluice,
    } = start_streaming("all");
    pg.psql(
        &db,
        "INSERT INTO payments VALUES (1, '10'), (2, 'twelve'), (3, '30'); INSERT INTO payments VALUES (4, '40')",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut events: Vec<Value> = Vec::new();
    while events.len() < 4 && Instant::now() < deadline {
        events = read_events(&out);
        std::thread::sleep(Duration::from_millis(100));
    }
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(events.len(), 4, "events: {events:?}\nlog:\n{log_text}");
    let cast: Vec<&Value> = events
        .iter()
        .filter(|e| e["topic"] == "shop.public.payments")
        .collect();
    assert_eq!(cast.len(), 3, "{events:?}");
    // Unwrapped, then cast to an integer.
    let amounts: Vec<Value> = cast.iter().map(|e| e["value"]["amount"].clone()).collect();
    assert_eq!(amounts, vec![json!(10), json!(30), json!(40)]);
    let dead: Vec<&Value> = events.iter().filter(|e| e["topic"] == "shop-dlq").collect();
    assert_eq!(dead.len(), 1, "{events:?}");
    let d = dead[0];
    // The original change event (before the transforms).
    assert_eq!(d["value"]["after"]["amount"], "twelve", "{d}");
    assert_eq!(d["value"]["op"], "c");
    let headers = d["headers"].to_string();
    for h in [
        "__connect.errors.topic",
        "__connect.errors.stage",
        "__connect.errors.class.name",
        "__connect.errors.exception.message",
        "__connect.errors.connector.name",
    ] {
        assert!(headers.contains(h), "header {h} in {headers}");
    }
    assert!(headers.contains("TRANSFORMATION"), "{headers}");
    assert!(
        headers.contains("org.apache.kafka.connect.transforms.Cast$Value"),
        "{headers}"
    );
    assert!(
        log_text.contains("record failed (errors.tolerance=all)"),
        "{log_text}"
    );
    assert!(terminate(&mut sluice).success());
    // Everything, the dead letter included, is committed: a restart
    // delivers nothing again.
    let mut sluice = start_sluice(
        &tmp.path().join("worker.properties"),
        &tmp.path().join("pg.json"),
        &log,
        "info",
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(terminate(&mut sluice).success());
    assert_eq!(read_events(&out).len(), 4, "nothing delivered twice");
}

#[test]
fn without_tolerance_the_task_fails_with_the_cause() {
    let Streaming {
        pg,
        tmp: _tmp,
        db,
        out: _out,
        log,
        mut sluice,
    } = start_streaming("none");
    pg.psql(&db, "INSERT INTO payments VALUES (1, 'one')")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("could not be converted or transformed") {
            assert!(text.contains("Cast$Value"), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "no failure; log:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    terminate(&mut sluice);
}

/// Large batches with failures spread through them: the output (records
/// and dead letters) follows the source order.
#[test]
fn large_batches_keep_their_order_with_dead_letters_interleaved() {
    let Streaming {
        pg,
        tmp: _tmp,
        db,
        out,
        log: _log,
        mut sluice,
    } = start_streaming("all");
    let rows = 3000;
    // Every 7th amount is not a number: it fails the Cast and is dead-lettered.
    pg.psql(
        &db,
        &format!(
            "INSERT INTO payments SELECT g, CASE WHEN g % 7 = 0 THEN 'x' || g ELSE g::text END \
             FROM generate_series(1, {rows}) g"
        ),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut events: Vec<Value> = Vec::new();
    while events.len() < rows && Instant::now() < deadline {
        events = read_events(&out);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(terminate(&mut sluice).success());
    assert_eq!(events.len(), rows, "every row delivered once");
    for (i, e) in events.iter().enumerate() {
        let id = i as i64 + 1;
        if id % 7 == 0 {
            assert_eq!(e["topic"], "shop-dlq", "event {i}: {e}");
            assert_eq!(e["value"]["after"]["id"], id, "event {i}: {e}");
        } else {
            assert_eq!(e["topic"], "shop.public.payments", "event {i}: {e}");
            assert_eq!(e["value"]["id"], id, "event {i}: {e}");
            assert_eq!(e["value"]["amount"], id, "event {i}: {e}");
        }
    }
}
