//! `sluice standalone` with a Debezium PostgreSQL connector config against a
//! throwaway PostgreSQL: change events, offsets, restarts, the slot.

mod common;

use common::{terminate, ChildGuard};
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sluice_testkit::{unique_name, PgServer};

struct Env {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    output: PathBuf,
    offsets: PathBuf,
    worker: PathBuf,
    connector: PathBuf,
    slot: String,
    db: String,
}

fn setup(pg: &PgServer, extra: Value, worker_extra: &str) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    let slot = unique_name("slot");
    let output = dir.join("events.jsonl");
    let offsets = dir.join("offsets.json");
    let worker = dir.join("worker.properties");
    std::fs::write(
        &worker,
        format!(
            "offset.storage.file.filename={}\noffset.flush.interval.ms=100\nrest.port=0\nsink.type=file\nsink.file.path={}\nsink.file.fsync=false\n{worker_extra}",
            offsets.display(),
            output.display()
        ),
    )
    .unwrap();
    let mut config = json!({
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "tasks.max": "1",
        "database.hostname": "127.0.0.1",
        "database.port": pg.port().to_string(),
        "database.user": "postgres",
        "database.password": "unused",
        "database.dbname": db,
        "topic.prefix": "server1",
        "plugin.name": "pgoutput",
        "slot.name": slot,
        "publication.name": format!("pub_{slot}"),
        "snapshot.mode": "no_data",
        "poll.interval.ms": "100",
        "status.update.interval.ms": "200"
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
        offsets,
        worker,
        connector,
        slot,
        db,
    }
}

fn start(env: &Env) -> ChildGuard {
    common::start_sluice(
        &env.worker,
        &env.connector,
        &env.dir.join("sluice.log"),
        "info,sluice_postgres=debug",
    )
}

fn log(env: &Env) -> String {
    std::fs::read_to_string(env.dir.join("sluice.log")).unwrap_or_default()
}

fn events(env: &Env) -> Vec<Value> {
    common::read_events(&env.output)
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
            "timed out waiting for {what}; have {} events\n{}",
            ev.len(),
            log(env)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_until_streaming(env: &Env, pg: &PgServer, child: &mut Child) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("sluice exited early ({status}):\n{}", log(env));
        }
        let active = pg
            .psql(
                &env.db,
                &format!(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = '{}'",
                    env.slot
                ),
            )
            .unwrap_or_default();
        if active.trim() == "t" {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "slot never became active\n{}",
            log(env)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn data_events(ev: &[Value]) -> Vec<&Value> {
    ev.iter()
        .filter(|e| {
            e["topic"]
                .as_str()
                .is_some_and(|t| t.starts_with("server1.public."))
        })
        .collect()
}

#[test]
fn streams_inserts_updates_deletes_with_debezium_envelopes() {
    let pg = PgServer::start().unwrap();
    let env = setup(
        &pg,
        json!({"table.exclude.list": "public.ignored", "column.exclude.list": "public.customers.secret"}),
        "",
    );
    pg.psql(
        &env.db,
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email varchar(100), score numeric(5,2), created timestamp, secret text);\
         CREATE TABLE ignored (id int PRIMARY KEY);",
    )
    .unwrap();
    let mut child = start(&env);
    wait_until_streaming(&env, &pg, &mut child);
    pg.psql(
        &env.db,
        "INSERT INTO ignored VALUES (1);\
         INSERT INTO customers VALUES (1, 'Ann', 'ann@example.com', 12.5, '2024-01-02 03:04:05.123456', 'pw');\
         UPDATE customers SET name = 'Anne' WHERE id = 1;\
         DELETE FROM customers WHERE id = 1;",
    )
    .unwrap();
    let ev = wait_for(&env, "4 events", Duration::from_secs(30), |e| {
        data_events(e).len() >= 4
    });
    let ev = data_events(&ev);
    assert_eq!(ev.len(), 4, "{ev:#?}");
    let (c, u, d, tomb) = (ev[0], ev[1], ev[2], ev[3]);
    assert_eq!(c["topic"], "server1.public.customers");
    // Key: {schema, payload} with the primary key.
    assert_eq!(c["key"]["payload"], json!({"id": 1}));
    assert_eq!(c["key"]["schema"]["name"], "server1.public.customers.Key");
    assert_eq!(
        c["key"]["schema"]["fields"],
        json!([{"type": "int32", "optional": false, "field": "id"}])
    );
    let v = &c["value"]["payload"];
    assert_eq!(v["op"], "c");
    assert_eq!(v["before"], Value::Null);
    assert_eq!(v["after"]["id"], 1);
    assert_eq!(v["after"]["name"], "Ann");
    assert_eq!(v["after"]["email"], "ann@example.com");
    // numeric(5,2) precise -> Decimal bytes base64 of 1250 (0x04e2)
    assert_eq!(v["after"]["score"], "BOI=");
    assert_eq!(v["after"]["created"], 1704164645123456i64);
    assert!(
        v["after"].get("secret").is_none(),
        "column.exclude.list: {}",
        v["after"]
    );
    assert!(ev.iter().all(|e| e["topic"] != "server1.public.ignored"));
    let src = &v["source"];
    assert_eq!(src["connector"], "postgresql");
    assert_eq!(src["name"], "server1");
    assert_eq!(src["db"], env.db);
    assert_eq!(src["schema"], "public");
    assert_eq!(src["table"], "customers");
    assert_eq!(src["snapshot"], "false");
    assert!(src["txId"].as_i64().unwrap() > 0);
    assert!(src["lsn"].as_i64().unwrap() > 0);
    assert!(src["ts_ms"].as_i64().unwrap() > 1_600_000_000_000);
    assert_eq!(
        src["ts_us"].as_i64().unwrap() / 1000,
        src["ts_ms"].as_i64().unwrap()
    );
    assert!(v["ts_ms"].as_i64().unwrap() >= src["ts_ms"].as_i64().unwrap());
    let schema = &c["value"]["schema"];
    assert_eq!(schema["name"], "server1.public.customers.Envelope");
    assert_eq!(schema["version"], 2);
    let field_names: Vec<&str> = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        field_names,
        [
            "before",
            "after",
            "source",
            "transaction",
            "op",
            "ts_ms",
            "ts_us",
            "ts_ns"
        ]
    );
    let after_fields = &schema["fields"][1];
    assert_eq!(after_fields["name"], "server1.public.customers.Value");
    assert_eq!(after_fields["optional"], true);
    let score = after_fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "score")
        .unwrap();
    assert_eq!(
        score,
        &json!({"type": "bytes", "optional": true, "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": {"scale": "2", "connect.decimal.precision": "5"}, "field": "score"})
    );
    let created = after_fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "created")
        .unwrap();
    assert_eq!(created["name"], "io.debezium.time.MicroTimestamp");
    // Update (REPLICA IDENTITY DEFAULT): no before.
    assert_eq!(u["value"]["payload"]["op"], "u");
    assert_eq!(u["value"]["payload"]["before"], Value::Null);
    assert_eq!(u["value"]["payload"]["after"]["name"], "Anne");
    // Delete: before holds the key; then a tombstone.
    assert_eq!(d["value"]["payload"]["op"], "d");
    assert_eq!(d["value"]["payload"]["before"]["id"], 1);
    assert_eq!(d["value"]["payload"]["after"], Value::Null);
    assert_eq!(tomb["key"]["payload"], json!({"id": 1}));
    assert_eq!(tomb["value"], Value::Null);

    let status = terminate(&mut child);
    assert!(status.success(), "{}", log(&env));
    // Clean stop: confirmed_flush_lsn is at or past the last delivered change.
    let confirmed = pg
        .psql(&env.db, &format!("SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = '{}'", env.slot))
        .unwrap();
    let confirmed: i64 = confirmed.trim().parse().unwrap();
    let last_lsn = d["value"]["payload"]["source"]["lsn"].as_i64().unwrap();
    assert!(
        confirmed >= last_lsn,
        "confirmed_flush_lsn {confirmed} < last delivered change {last_lsn}\n{}",
        log(&env)
    );
    let offsets: Value = serde_json::from_slice(&std::fs::read(&env.offsets).unwrap()).unwrap();
    let entry = &offsets["offsets"][0];
    assert_eq!(entry["key"], json!(["pg", {"server": "server1"}]));
    assert!(entry["value"]["lsn"].as_u64().is_some() && entry["value"]["txId"].as_u64().is_some());
}

#[test]
fn kill_9_and_writes_while_down_lose_nothing() {
    let pg = PgServer::start().unwrap();
    let env = setup(&pg, json!({"tombstones.on.delete": "false"}), "");
    pg.psql(&env.db, "CREATE TABLE t (id int PRIMARY KEY, v text);")
        .unwrap();
    let mut child = start(&env);
    wait_until_streaming(&env, &pg, &mut child);
    pg.psql(
        &env.db,
        "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 5000) g;",
    )
    .unwrap();
    for i in 0..50 {
        pg.psql(
            &env.db,
            &format!("INSERT INTO t VALUES ({}, 'y');", 10_000 + i),
        )
        .unwrap();
    }
    wait_for(&env, "some events", Duration::from_secs(30), |e| {
        data_events(e).len() >= 100
    });
    child.kill().unwrap();
    child.wait().unwrap();
    // Writes while sluice is down.
    pg.psql(&env.db, "INSERT INTO t SELECT g, 'z' FROM generate_series(20001, 21000) g; UPDATE t SET v = 'w' WHERE id <= 10;").unwrap();
    let mut child = start(&env);
    let expected_ids: std::collections::BTreeSet<i64> = (1..=5000)
        .chain(10_000..10_050)
        .chain(20_001..=21_000)
        .collect();
    let ev = wait_for(&env, "every change", Duration::from_secs(60), |e| {
        let ids: std::collections::BTreeSet<i64> = data_events(e)
            .iter()
            .filter(|x| x["value"]["payload"]["op"] == "c")
            .map(|x| x["value"]["payload"]["after"]["id"].as_i64().unwrap())
            .collect();
        ids.is_superset(&expected_ids)
            && data_events(e)
                .iter()
                .filter(|x| x["value"]["payload"]["op"] == "u")
                .count()
                >= 10
    });
    assert!(terminate(&mut child).success(), "{}", log(&env));
    // Nothing lost; duplicates only of what was not yet committed.
    let creates: Vec<i64> = data_events(&ev)
        .iter()
        .filter(|x| x["value"]["payload"]["op"] == "c")
        .map(|x| x["value"]["payload"]["after"]["id"].as_i64().unwrap())
        .collect();
    let unique: std::collections::BTreeSet<i64> = creates.iter().copied().collect();
    assert_eq!(unique, expected_ids);
    eprintln!(
        "{} creates delivered for {} rows ({} duplicates after kill -9)",
        creates.len(),
        unique.len(),
        creates.len() - unique.len()
    );
}

#[test]
fn clean_restart_re_emits_nothing_and_resumes_mid_stream() {
    let pg = PgServer::start().unwrap();
    let env = setup(&pg, json!({}), "");
    pg.psql(&env.db, "CREATE TABLE t (id int PRIMARY KEY);")
        .unwrap();
    let mut child = start(&env);
    wait_until_streaming(&env, &pg, &mut child);
    pg.psql(&env.db, "INSERT INTO t SELECT generate_series(1, 300);")
        .unwrap();
    wait_for(&env, "300 events", Duration::from_secs(30), |e| {
        data_events(e).len() >= 300
    });
    assert!(terminate(&mut child).success());
    pg.psql(&env.db, "INSERT INTO t VALUES (301);").unwrap();
    let mut child = start(&env);
    let ev = wait_for(&env, "event 301", Duration::from_secs(30), |e| {
        data_events(e).len() >= 301
    });
    std::thread::sleep(Duration::from_millis(1000));
    assert!(terminate(&mut child).success());
    let ev2 = events(&env);
    assert_eq!(data_events(&ev2).len(), 301, "restart re-emitted events");
    assert_eq!(
        data_events(&ev).last().unwrap()["value"]["payload"]["after"]["id"],
        301
    );
}

#[test]
fn heartbeats_flow_on_an_idle_database_and_the_slot_advances() {
    let pg = PgServer::start().unwrap();
    let env = setup(
        &pg,
        json!({"heartbeat.interval.ms": "200", "heartbeat.action.query": "INSERT INTO heartbeat VALUES (now())", "table.exclude.list": "public.heartbeat"}),
        "",
    );
    pg.psql(
        &env.db,
        "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE heartbeat (ts timestamptz);",
    )
    .unwrap();
    let mut child = start(&env);
    wait_until_streaming(&env, &pg, &mut child);
    let flush = |pg: &PgServer| -> i64 {
        pg.psql(&env.db, &format!("SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = '{}'", env.slot))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let before = flush(&pg);
    // WAL produced elsewhere (another database): this slot sees nothing but
    // keepalives, yet must not retain that WAL.
    let other = unique_name("other");
    pg.create_database(&other).unwrap();
    pg.psql(
        &other,
        "CREATE TABLE big AS SELECT g FROM generate_series(1, 50000) g; SELECT pg_switch_wal();",
    )
    .unwrap();
    let current: i64 = pg
        .psql(&other, "SELECT (pg_current_wal_lsn() - '0/0')::bigint")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let ev = wait_for(&env, "heartbeats", Duration::from_secs(30), |e| {
        e.iter()
            .filter(|x| x["topic"] == "__debezium-heartbeat.server1")
            .count()
            >= 3
    });
    let hb = ev
        .iter()
        .find(|x| x["topic"] == "__debezium-heartbeat.server1")
        .unwrap();
    assert_eq!(hb["key"]["payload"], json!({"serverName": "server1"}));
    assert_eq!(
        hb["key"]["schema"]["name"],
        "io.debezium.connector.common.ServerNameKey"
    );
    assert!(hb["value"]["payload"]["ts_ms"].as_i64().unwrap() > 0);
    assert_eq!(
        hb["value"]["schema"]["name"],
        "io.debezium.connector.common.Heartbeat"
    );
    // heartbeat.action.query ran on the source database; its table is excluded.
    let runs: i64 = pg
        .psql(&env.db, "SELECT count(*) FROM heartbeat")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(runs >= 3, "heartbeat.action.query ran {runs} times");
    assert!(
        data_events(&ev).is_empty(),
        "the excluded heartbeat table produced events"
    );
    let start = Instant::now();
    while flush(&pg) < current {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "slot did not advance past {current} (from {before}, now {})\n{}",
            flush(&pg),
            log(&env)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(terminate(&mut child).success());
}

/// Cases whose expected Debezium schema and value are in
/// testdata/postgres-types (taken from Debezium's own tests and docs).
fn debezium_cases(file: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/postgres-types")
        .join(file);
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c.get("unsupported").is_none()
                && c.get("error").is_none()
                && c.get("text").is_some_and(|t| !t.is_null())
        })
        .cloned()
        .collect()
}

fn sql_type(t: &str) -> String {
    match t.strip_prefix('_') {
        Some(elem) => format!("{elem}[]"),
        None => t.to_string(),
    }
}

#[test]
fn a_table_of_every_type_streams_exactly_as_debezium_renders_it() {
    // Types that need an extension or a user-defined type are covered by the
    // type-mapping tests of crates/postgres; here: built-in types.
    let needs_setup = [
        "_ltree",
        "_nmtoken",
        "_test_type",
        "amount",
        "nmtoken",
        "test_type",
        "citext",
        "isbn",
        "ltree",
        "_citext",
    ];
    let mut cases = Vec::new();
    for file in [
        "basic.json",
        "temporal-adaptive.json",
        "decimal-precise.json",
        "arrays.json",
    ] {
        for c in debezium_cases(file) {
            if !needs_setup.contains(&c["type"].as_str().unwrap()) {
                cases.push(c);
            }
        }
    }
    assert!(cases.len() > 100, "only {} cases", cases.len());
    let pg = PgServer::start().unwrap();
    let env = setup(&pg, json!({}), "");
    let mut columns = vec!["id int PRIMARY KEY".to_string()];
    let mut values = vec!["1".to_string()];
    for (i, c) in cases.iter().enumerate() {
        let ty = sql_type(c["type"].as_str().unwrap());
        let not_null = if c["optional"].as_bool().unwrap() {
            ""
        } else {
            " NOT NULL"
        };
        let default = c
            .get("default_expression")
            .and_then(Value::as_str)
            .map(|d| format!(" DEFAULT {d}"))
            .unwrap_or_default();
        columns.push(format!("c{i} {ty}{not_null}{default}"));
        values.push(format!(
            "'{}'::{ty}",
            c["text"].as_str().unwrap().replace('\'', "''")
        ));
    }
    for c in &cases {
        if let Some(seq) = c
            .get("default_expression")
            .and_then(Value::as_str)
            .and_then(|d| d.strip_prefix("nextval('"))
        {
            let seq = seq.split('\'').next().unwrap();
            pg.psql(&env.db, &format!("CREATE SEQUENCE IF NOT EXISTS {seq};"))
                .unwrap();
        }
    }
    pg.psql(
        &env.db,
        &format!("CREATE TABLE alltypes ({});", columns.join(", ")),
    )
    .unwrap();
    let mut child = start(&env);
    wait_until_streaming(&env, &pg, &mut child);
    pg.psql(
        &env.db,
        &format!("INSERT INTO alltypes VALUES ({});", values.join(", ")),
    )
    .unwrap();
    let ev = wait_for(&env, "the row", Duration::from_secs(30), |e| {
        !data_events(e).is_empty()
    });
    assert!(terminate(&mut child).success());
    let event = data_events(&ev)[0].clone();
    let after = &event["value"]["payload"]["after"];
    let fields = event["value"]["schema"]["fields"][1]["fields"]
        .as_array()
        .unwrap()
        .clone();
    let mut mismatches = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let name = format!("c{i}");
        let label = format!(
            "{} {} ({})",
            c["type"],
            c["text"],
            c["source"].as_str().unwrap_or("")
        );
        let Some(field) = fields.iter().find(|f| f["field"] == name.as_str()) else {
            mismatches.push(format!("{label}: column missing from the event"));
            continue;
        };
        let mut schema = field.clone();
        schema.as_object_mut().unwrap().remove("field");
        if schema != c["schema"] {
            mismatches.push(format!(
                "{label}: schema {schema} != expected {}",
                c["schema"]
            ));
        }
        if after[&name] != c["value"] {
            mismatches.push(format!(
                "{label}: value {} != expected {}",
                after[&name], c["value"]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} columns differ from Debezium:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}

#[test]
fn replica_identity_toast_truncate_messages_schema_changes_and_transactions() {
    let pg = PgServer::start().unwrap();
    let env = setup(
        &pg,
        json!({"skipped.operations": "none", "provide.transaction.metadata": "true"}),
        "",
    );
    pg.psql(
        &env.db,
        "CREATE TABLE full_t (id int PRIMARY KEY, v text, big text); ALTER TABLE full_t REPLICA IDENTITY FULL;\
         CREATE TABLE def_t (id int PRIMARY KEY, v text, big text);\
         ALTER TABLE def_t ALTER COLUMN big SET STORAGE EXTERNAL;\
         INSERT INTO def_t VALUES (1, 'a', repeat('x', 10000));",
    )
    .unwrap();
    let mut child = start(&env);
    wait_until_streaming(&env, &pg, &mut child);
    pg.psql(&env.db, "INSERT INTO full_t VALUES (1, 'a', 'b');")
        .unwrap();
    pg.psql(&env.db, "UPDATE full_t SET v = 'z' WHERE id = 1;")
        .unwrap();
    pg.psql(&env.db, "UPDATE def_t SET v = 'changed' WHERE id = 1;")
        .unwrap();
    pg.psql(&env.db, "UPDATE def_t SET id = 2 WHERE id = 1;")
        .unwrap();
    pg.psql(&env.db, "ALTER TABLE full_t ADD COLUMN extra int DEFAULT 7; INSERT INTO full_t VALUES (2, 'c', 'd', 8);").unwrap();
    pg.psql(
        &env.db,
        "SELECT pg_logical_emit_message(true, 'audit', 'hello');",
    )
    .unwrap();
    pg.psql(&env.db, "TRUNCATE full_t;").unwrap();
    let ev = wait_for(&env, "the truncate", Duration::from_secs(30), |e| {
        e.iter().any(|x| x["value"]["payload"]["op"] == "t")
    });
    assert!(terminate(&mut child).success(), "{}", log(&env));
    let ops: Vec<(String, String)> = ev
        .iter()
        .map(|x| {
            (
                x["topic"].as_str().unwrap().to_string(),
                x["value"]["payload"]["op"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
            )
        })
        .collect();
    let data: Vec<&Value> = ev
        .iter()
        .filter(|x| x["topic"] != "server1.transaction")
        .collect();
    // REPLICA IDENTITY FULL: before has the old row.
    let u_full = data
        .iter()
        .find(|x| x["topic"] == "server1.public.full_t" && x["value"]["payload"]["op"] == "u")
        .unwrap();
    assert_eq!(
        u_full["value"]["payload"]["before"],
        json!({"id": 1, "v": "a", "big": "b"})
    );
    // DEFAULT identity: no before; the unchanged TOASTed column carries the placeholder.
    let u_def = data
        .iter()
        .find(|x| x["topic"] == "server1.public.def_t" && x["value"]["payload"]["op"] == "u")
        .unwrap();
    assert_eq!(u_def["value"]["payload"]["before"], Value::Null);
    assert_eq!(
        u_def["value"]["payload"]["after"]["big"],
        "__debezium_unavailable_value"
    );
    assert_eq!(u_def["value"]["payload"]["after"]["v"], "changed");
    // Primary key change: delete (old key) + tombstone + create (new key).
    let def_events: Vec<&&Value> = data
        .iter()
        .filter(|x| x["topic"] == "server1.public.def_t")
        .collect();
    let n = def_events.len();
    assert!(n >= 4, "{ops:?}");
    assert_eq!(def_events[n - 3]["value"]["payload"]["op"], "d");
    assert_eq!(def_events[n - 3]["key"]["payload"], json!({"id": 1}));
    assert_eq!(def_events[n - 2]["value"], Value::Null);
    assert_eq!(def_events[n - 1]["value"]["payload"]["op"], "c");
    assert_eq!(def_events[n - 1]["key"]["payload"], json!({"id": 2}));
    // The new column appears from the ALTER on, with its default in the schema.
    let c2 = data
        .iter()
        .find(|x| {
            x["topic"] == "server1.public.full_t" && x["value"]["payload"]["after"]["id"] == 2
        })
        .unwrap();
    assert_eq!(c2["value"]["payload"]["after"]["extra"], 8);
    let extra = c2["value"]["schema"]["fields"][1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "extra")
        .unwrap()
        .clone();
    assert_eq!(
        extra,
        json!({"type": "int32", "optional": true, "default": 7, "field": "extra"})
    );
    // Logical decoding message.
    let m = ev.iter().find(|x| x["topic"] == "server1.message").unwrap();
    assert_eq!(m["key"]["payload"], json!({"prefix": "audit"}));
    assert_eq!(m["value"]["payload"]["op"], "m");
    assert_eq!(
        m["value"]["payload"]["message"],
        json!({"prefix": "audit", "content": "aGVsbG8="})
    );
    assert_eq!(
        m["value"]["schema"]["name"],
        "io.debezium.connector.postgresql.MessageValue"
    );
    // Truncate: op t, no before/after, no key (Debezium's EventDispatcher
    // drops the key schema for truncates).
    let t = data
        .iter()
        .find(|x| x["value"]["payload"]["op"] == "t")
        .unwrap();
    assert_eq!(t["topic"], "server1.public.full_t");
    assert_eq!(t["value"]["payload"]["before"], Value::Null);
    assert_eq!(t["value"]["payload"]["after"], Value::Null);
    assert_eq!(t["key"], Value::Null, "{t}");
    // Transaction metadata: BEGIN/END around each transaction, and the block in events.
    let tx: Vec<&Value> = ev
        .iter()
        .filter(|x| x["topic"] == "server1.transaction")
        .collect();
    assert!(tx.len() >= 2, "{ops:?}");
    assert_eq!(tx[0]["value"]["payload"]["status"], "BEGIN");
    assert_eq!(tx[1]["value"]["payload"]["status"], "END");
    assert_eq!(tx[1]["value"]["payload"]["event_count"], 1);
    assert_eq!(
        tx[1]["value"]["payload"]["data_collections"],
        json!([{"data_collection": "server1.public.full_t", "event_count": 1}])
    );
    let id = tx[0]["value"]["payload"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(tx[0]["key"]["payload"], json!({"id": id}));
    let first = data
        .iter()
        .find(|x| x["topic"] == "server1.public.full_t")
        .unwrap();
    let block = &first["value"]["payload"]["transaction"];
    assert_eq!(block["total_order"], 1);
    assert_eq!(block["data_collection_order"], 1);
    assert_eq!(
        block["id"].as_str().unwrap().split(':').next(),
        id.split(':').next(),
        "same transaction id"
    );
}
