//! The initial snapshot: consistent hand-off to streaming under concurrent
//! writes, Debezium's markers and offsets, kill -9 mid-snapshot, no second
//! snapshot after a complete one.

mod common;

use common::{terminate, ChildGuard};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sluice_testkit::{unique_name, PgServer};

struct Env {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    output: PathBuf,
    worker: PathBuf,
    connector: PathBuf,
    db: String,
}

fn setup(pg: &PgServer, extra: Value) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    let slot = unique_name("slot");
    let output = dir.join("events.jsonl");
    let worker = dir.join("worker.properties");
    std::fs::write(
        &worker,
        format!(
            "offset.storage.file.filename={}\noffset.flush.interval.ms=100\nrest.port=0\nsink.type=file\nsink.file.path={}\nsink.file.fsync=false\nkey.converter.schemas.enable=false\nvalue.converter.schemas.enable=false\n",
            dir.join("offsets.json").display(),
            output.display()
        ),
    )
    .unwrap();
    let mut config = json!({
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": "127.0.0.1",
        "database.port": pg.port().to_string(),
        "database.user": "postgres",
        "database.dbname": db,
        "topic.prefix": "s",
        "plugin.name": "pgoutput",
        "slot.name": slot,
        "publication.name": format!("pub_{slot}"),
        "poll.interval.ms": "100",
        "status.update.interval.ms": "200",
        "tombstones.on.delete": "false",
        "snapshot.max.threads": "2",
        "snapshot.chunk.rows": "20000",
        "snapshot.fetch.size": "2000"
    });
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    let connector = dir.join("pg.json");
    std::fs::write(
        &connector,
        json!({"name": "pg", "config": config}).to_string(),
    )
    .unwrap();
    Env {
        _dir: tmp,
        dir,
        output,
        worker,
        connector,
        db,
    }
}

fn start(env: &Env) -> ChildGuard {
    common::start_sluice(
        &env.worker,
        &env.connector,
        &env.dir.join("sluice.log"),
        "info",
    )
}

fn log(env: &Env) -> String {
    std::fs::read_to_string(env.dir.join("sluice.log")).unwrap_or_default()
}

fn events(env: &Env) -> Vec<Value> {
    common::read_events(&env.output)
}

fn db_state(pg: &PgServer, db: &str) -> BTreeMap<i64, i64> {
    pg.psql(db, "SELECT id, v FROM t ORDER BY id")
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (a, b) = l.split_once('|').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

/// Applies the events in order: the state a consumer ends up with.
fn replay(events: &[Value]) -> BTreeMap<i64, i64> {
    let mut state = BTreeMap::new();
    for e in events.iter().filter(|e| e["topic"] == "s.public.t") {
        let p = &e["value"];
        match p["op"].as_str().unwrap() {
            "r" | "c" | "u" => {
                state.insert(
                    p["after"]["id"].as_i64().unwrap(),
                    p["after"]["v"].as_i64().unwrap(),
                );
            }
            "d" => {
                state.remove(&p["before"]["id"].as_i64().unwrap());
            }
            other => panic!("unexpected op {other}"),
        }
    }
    state
}

fn wait_for(
    env: &Env,
    what: &str,
    timeout: Duration,
    mut f: impl FnMut(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let ev = events(env);
        if f(&ev) {
            return ev;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {what} ({} events)\n{}",
            ev.len(),
            log(env)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn snapshot_markers(ev: &[Value]) -> Vec<String> {
    ev.iter()
        .filter(|e| e["value"]["op"] == "r")
        .map(|e| {
            e["value"]["source"]["snapshot"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn snapshot_under_concurrent_writes_hands_off_to_streaming_without_gap_and_is_not_repeated() {
    let pg = PgServer::start().unwrap();
    let env = setup(&pg, json!({}));
    pg.psql(
        &env.db,
        "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, pad text);\
         INSERT INTO t SELECT g, 0, repeat('p', 100) FROM generate_series(1, 200000) g;\
         CREATE TABLE other (id int PRIMARY KEY); INSERT INTO other VALUES (1), (2);\
         ANALYZE;",
    )
    .unwrap();
    let mut child = start(&env);
    // Concurrent writes while the snapshot runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let (port, db) = (pg.port(), env.db.clone());
        std::thread::spawn(move || {
            let mut i = 0i64;
            while !stop.load(Ordering::Relaxed) && i < 200 {
                i += 1;
                let sql = format!(
                    "UPDATE t SET v = v + 1 WHERE id % 1000 = {}; INSERT INTO t VALUES ({}, 7, 'new'); DELETE FROM t WHERE id = {};",
                    i % 1000,
                    300_000 + i,
                    1000 + i
                );
                let ok = Command::new("psql")
                    .args([
                        "-X",
                        "-q",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &port.to_string(),
                        "-U",
                        "postgres",
                        "-d",
                        &db,
                        "-c",
                        &sql,
                    ])
                    .status()
                    .unwrap()
                    .success();
                assert!(ok);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    wait_for(
        &env,
        "the last snapshot record",
        Duration::from_secs(120),
        |e| snapshot_markers(e).iter().any(|m| m == "last"),
    );
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let expected = db_state(&pg, &env.db);
    let ev = wait_for(&env, "the final state", Duration::from_secs(60), |e| {
        replay(e) == expected
    });

    // Markers: first, …, last; one "last", on the last snapshot record.
    let markers = snapshot_markers(&ev);
    assert_eq!(markers.first().map(String::as_str), Some("first"));
    assert_eq!(markers.last().map(String::as_str), Some("last"));
    assert_eq!(markers.iter().filter(|m| *m == "last").count(), 1);
    assert_eq!(
        markers
            .iter()
            .filter(|m| *m == "first_in_data_collection")
            .count(),
        1,
        "second table"
    );
    assert_eq!(
        markers
            .iter()
            .filter(|m| *m == "last_in_data_collection")
            .count(),
        1,
        "first table"
    );
    // No row was read twice by the snapshot.
    let mut read: Vec<(String, i64)> = ev
        .iter()
        .filter(|e| e["value"]["op"] == "r")
        .map(|e| {
            (
                e["topic"].as_str().unwrap().to_string(),
                e["value"]["after"]["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let n = read.len();
    read.sort();
    read.dedup();
    assert_eq!(read.len(), n, "the snapshot read some rows twice");
    assert!(n >= 200_002 - 200, "{n} snapshot rows");
    // Streaming continued after the snapshot.
    let last_r = ev.iter().rposition(|e| e["value"]["op"] == "r").unwrap();
    assert!(
        ev[last_r + 1..].iter().any(|e| e["value"]["op"] == "u"),
        "no streamed change after the snapshot"
    );
    assert!(terminate(&mut child).success(), "{}", log(&env));

    // A restart does not snapshot again, and streams new changes.
    let before = events(&env).len();
    let mut child = start(&env);
    std::thread::sleep(Duration::from_millis(1500));
    pg.psql(&env.db, "UPDATE t SET v = 99 WHERE id = 5;")
        .unwrap();
    let ev = wait_for(
        &env,
        "the change after restart",
        Duration::from_secs(30),
        |e| {
            e.iter().skip(before).any(|x| {
                x["value"]["op"] == "u"
                    && x["value"]["after"]["id"] == 5
                    && x["value"]["after"]["v"] == 99
            })
        },
    );
    assert!(
        ev[before..].iter().all(|e| e["value"]["op"] != "r"),
        "the restart snapshotted again"
    );
    assert!(terminate(&mut child).success());
}

#[test]
fn kill_9_mid_snapshot_then_restart_ends_complete_and_correct() {
    let pg = PgServer::start().unwrap();
    let env = setup(
        &pg,
        json!({"snapshot.chunk.rows": "10000", "snapshot.fetch.size": "200", "max.batch.size": "200", "snapshot.max.threads": "1"}),
    );
    pg.psql(
        &env.db,
        "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, pad text);\
         INSERT INTO t SELECT g, 1, repeat('q', 200) FROM generate_series(1, 200000) g; ANALYZE;",
    )
    .unwrap();
    let mut child = start(&env);
    // Kill as soon as part of the snapshot is delivered (checked every few ms).
    let started = Instant::now();
    while std::fs::read(&env.output)
        .map(|b| b.iter().filter(|c| **c == b'\n').count())
        .unwrap_or(0)
        < 5_000
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no snapshot progress\n{}",
            log(&env)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let first = events(&env);
    assert!(
        !snapshot_markers(&first).iter().any(|m| m == "last"),
        "the snapshot finished before the kill; nothing tested"
    );
    // Writes while down.
    pg.psql(&env.db, "UPDATE t SET v = 2 WHERE id <= 100; DELETE FROM t WHERE id > 199990; INSERT INTO t VALUES (500000, 5, 'x');").unwrap();
    let expected = db_state(&pg, &env.db);
    let mut child = start(&env);
    let ev = wait_for(
        &env,
        "a complete snapshot and the final state",
        Duration::from_secs(120),
        |e| {
            snapshot_markers(&e[first.len()..])
                .iter()
                .any(|m| m == "last")
                && replay(e) == expected
        },
    );
    assert!(terminate(&mut child).success(), "{}", log(&env));
    assert_eq!(replay(&ev), expected);
}

#[test]
fn incremental_snapshot_from_the_signal_table_under_writes_survives_kill_9() {
    let pg = PgServer::start().unwrap();
    let env = setup(
        &pg,
        json!({
            "snapshot.mode": "no_data",
            "signal.data.collection": "public.dbz_signal",
            "incremental.snapshot.chunk.size": "200",
            "max.batch.size": "200"
        }),
    );
    pg.psql(
        &env.db,
        "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, pad text);\
         INSERT INTO t SELECT g, 0, repeat('i', 100) FROM generate_series(1, 100000) g;\
         CREATE TABLE dbz_signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048));",
    )
    .unwrap();
    let mut child = start(&env);
    let started = Instant::now();
    while !log(&env).contains("starting replication") {
        assert!(started.elapsed() < Duration::from_secs(30), "{}", log(&env));
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let (port, db) = (pg.port(), env.db.clone());
        std::thread::spawn(move || {
            let mut i = 0i64;
            while !stop.load(Ordering::Relaxed) && i < 300 {
                i += 1;
                let sql = format!(
                    "UPDATE t SET v = v + 1 WHERE id % 500 = {}; INSERT INTO t VALUES ({}, 3, 'w'); DELETE FROM t WHERE id = {};",
                    i % 500,
                    100_000 + i,
                    20_000 + i
                );
                let _ = Command::new("psql")
                    .args([
                        "-X",
                        "-q",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &port.to_string(),
                        "-U",
                        "postgres",
                        "-d",
                        &db,
                        "-c",
                        &sql,
                    ])
                    .status();
                std::thread::sleep(Duration::from_millis(15));
            }
        })
    };
    pg.psql(
        &env.db,
        "INSERT INTO dbz_signal VALUES ('sig-1', 'execute-snapshot', '{\"data-collections\": [\"public.t\"], \"type\": \"incremental\"}');",
    )
    .unwrap();
    // Kill -9 part-way through the incremental snapshot.
    let started = Instant::now();
    while events(&env)
        .iter()
        .filter(|e| e["value"]["op"] == "r")
        .count()
        < 2_000
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no incremental snapshot progress\n{}",
            log(&env)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = events(&env).len();
    assert!(
        !log(&env).contains("incremental snapshot completed"),
        "completed before the kill; nothing tested"
    );
    let mut child = start(&env);
    let started = Instant::now();
    while !log(&env).contains("incremental snapshot completed") {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the incremental snapshot did not complete\n{}",
            log(&env)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(
        log(&env).contains("resuming the incremental snapshot"),
        "{}",
        log(&env)
    );
    let expected = db_state(&pg, &env.db);
    let started = Instant::now();
    let ev = loop {
        let ev = events(&env);
        let got = replay(&ev);
        if got == expected {
            break ev;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let diff: Vec<String> = expected
                .iter()
                .filter(|(k, v)| got.get(k) != Some(v))
                .map(|(k, v)| format!("{k}: expected {v}, got {:?}", got.get(k)))
                .chain(
                    got.keys()
                        .filter(|k| !expected.contains_key(k))
                        .map(|k| format!("{k}: not in the database")),
                )
                .take(10)
                .collect();
            let first = diff
                .first()
                .and_then(|d| d.split(':').next())
                .and_then(|k| k.parse::<i64>().ok());
            let history: Vec<String> = ev
                .iter()
                .filter(|e| e["topic"] == "s.public.t")
                .filter(|e| {
                    first.is_some_and(|k| {
                        e["value"]["after"]["id"] == k || e["value"]["before"]["id"] == k
                    })
                })
                .map(|e| {
                    format!(
                        "{} {} v={} lsn={} tx={}",
                        e["value"]["op"],
                        e["value"]["source"]["snapshot"],
                        e["value"]["after"]["v"],
                        e["value"]["source"]["lsn"],
                        e["value"]["source"]["txId"]
                    )
                })
                .collect();
            let r_lsn = ev
                .iter()
                .filter(|e| e["topic"] == "s.public.t" && e["value"]["op"] == "r")
                .filter(|e| first.is_some_and(|k| e["value"]["after"]["id"] == k))
                .filter_map(|e| e["value"]["source"]["lsn"].as_i64())
                .next()
                .unwrap_or(0);
            let key = first.unwrap_or(0);
            let around: Vec<String> = ev
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    e["value"]["source"]["lsn"]
                        .as_i64()
                        .is_some_and(|l| (l - r_lsn).abs() < 60_000)
                })
                .filter(|(_, e)| {
                    e["topic"] == "s.public.dbz_signal"
                        || e["value"]["after"]["id"] == key
                        || e["value"]["before"]["id"] == key
                })
                .map(|(i, e)| {
                    format!(
                        "#{i} {} {} id={} type={} lsn={} tx={}",
                        e["topic"],
                        e["value"]["op"],
                        e["value"]["after"]["id"],
                        e["value"]["after"]["type"],
                        e["value"]["source"]["lsn"],
                        e["value"]["source"]["txId"]
                    )
                })
                .collect();
            let same: Vec<i64> = ev
                .iter()
                .filter(|e| {
                    e["value"]["op"] == "r" && e["value"]["source"]["lsn"].as_i64() == Some(r_lsn)
                })
                .filter_map(|e| e["value"]["after"]["id"].as_i64())
                .collect();
            let kill_line = format!(
                "killed at event #{killed_at}; the r events at lsn {r_lsn}: {} rows, ids {:?}..{:?}; first 10 {:?}",
                same.len(),
                same.iter().min(),
                same.iter().max(),
                &same[..same.len().min(10)]
            );
            panic!(
                "final state differs:\n{}\nhistory of the first key:\n{}\n{kill_line}\naround:\n{}",
                diff.join("\n"),
                history.join("\n"),
                around.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(terminate(&mut child).success(), "{}", log(&env));
    let r_events: Vec<&Value> = ev.iter().filter(|e| e["value"]["op"] == "r").collect();
    assert!(r_events
        .iter()
        .all(|e| e["value"]["source"]["snapshot"] == "incremental"));
    assert!(
        ev[killed_at..].iter().any(|e| e["value"]["op"] == "r"),
        "nothing was read after the restart"
    );
    // Watermarks went through the signal table (Debezium's insert_insert).
    assert!(ev.iter().any(|e| e["topic"] == "s.public.dbz_signal"
        && e["value"]["after"]["type"] == "snapshot-window-open"));
}

#[test]
fn blocking_snapshot_and_log_signals_from_the_signal_file() {
    let pg = PgServer::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let signals = tmp.path().join("signals.txt");
    std::fs::write(&signals, "").unwrap();
    let env = setup(
        &pg,
        json!({
            "snapshot.mode": "no_data",
            "signal.enabled.channels": "source,file",
            "signal.file": signals.display().to_string()
        }),
    );
    pg.psql(&env.db, "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL); INSERT INTO t SELECT g, 1 FROM generate_series(1, 5000) g; ANALYZE;")
        .unwrap();
    let mut child = start(&env);
    let started = Instant::now();
    while !log(&env).contains("starting replication") {
        assert!(started.elapsed() < Duration::from_secs(30), "{}", log(&env));
        std::thread::sleep(Duration::from_millis(20));
    }
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&signals)
        .unwrap();
    writeln!(
        f,
        r#"{{"id": "l1", "type": "log", "data": {{"message": "hello from the signal file"}}}}"#
    )
    .unwrap();
    writeln!(f, r#"{{"id": "b1", "type": "execute-snapshot", "data": {{"data-collections": ["public.t"], "type": "blocking"}}}}"#).unwrap();
    drop(f);
    let ev = wait_for(
        &env,
        "the blocking snapshot",
        Duration::from_secs(60),
        |e| snapshot_markers(e).iter().any(|m| m == "last"),
    );
    pg.psql(&env.db, "UPDATE t SET v = 2 WHERE id = 1;")
        .unwrap();
    let expected = db_state(&pg, &env.db);
    wait_for(
        &env,
        "streaming after the blocking snapshot",
        Duration::from_secs(30),
        |e| replay(e) == expected,
    );
    assert!(terminate(&mut child).success(), "{}", log(&env));
    let markers = snapshot_markers(&ev);
    assert_eq!(markers.len(), 5000);
    assert_eq!(markers.first().map(String::as_str), Some("first"));
    let l = log(&env);
    assert!(l.contains("hello from the signal file"), "{l}");
    assert!(l.contains("blocking snapshot done"), "{l}");
}

/// A primary key declared in another order than the columns (`PRIMARY KEY
/// (b, a)` on columns `a, b`): the key struct follows the key's order, in
/// snapshot (`r`) and streamed (`c`) events alike.
#[test]
fn a_key_declared_out_of_column_order_keeps_the_key_order() {
    let pg = PgServer::start().unwrap();
    let env = setup(&pg, json!({"snapshot.mode": "initial"}));
    pg.psql(
        &env.db,
        "CREATE TABLE k (a int, b text, c int, PRIMARY KEY (b, a)); INSERT INTO k VALUES (1, 'x', 10), (2, 'y', 20);",
    )
    .unwrap();
    let mut sluice = start(&env);
    wait_for(&env, "the snapshot", Duration::from_secs(60), |ev| {
        ev.len() >= 2
    });
    pg.psql(&env.db, "INSERT INTO k VALUES (3, 'z', 30)")
        .unwrap();
    let ev = wait_for(&env, "the streamed insert", Duration::from_secs(60), |ev| {
        ev.len() >= 3
    });
    assert!(common::terminate(&mut sluice).success());
    let keys: Vec<String> = ev.iter().map(|e| e["key"].to_string()).collect();
    assert_eq!(
        keys,
        vec![
            r#"{"b":"x","a":1}"#,
            r#"{"b":"y","a":2}"#,
            r#"{"b":"z","a":3}"#
        ],
        "{ev:?}"
    );
    let ops: Vec<&str> = ev
        .iter()
        .map(|e| e["value"]["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["r", "r", "c"]);
    assert_eq!(ev[2]["value"]["after"]["c"], 30);
}
