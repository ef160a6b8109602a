//! Replication-slot monitoring and metrics end to end: `sluice standalone`
//! streams PostgreSQL into a Kafka-protocol broker (tansu) that is then
//! frozen, so nothing is acknowledged while rows keep being written. The
//! slot's lag must grow — and cross a small `slot.lag.warn.bytes` — in
//! `GET /connectors/{name}/replication-slot`, in `sluice slots --json`, in
//! `GET /metrics` (`sluice_slot_lag_bytes`) and in the log; and fall back
//! once the broker answers again.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{terminate, ChildGuard};
use serde_json::{json, Value};
use sluice_testkit::{unique_name, PgServer, TansuServer};

/// `sluice standalone WORKER CONNECTORS…`; returns it with the REST
/// address it logs (`REST API listening on http://ADDR`, rest.port=0).
fn start(worker: &Path, connectors: &[&Path], log: &Path) -> (ChildGuard, String) {
    let child = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("standalone")
            .arg(worker)
            .args(connectors)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(at) = text.find("REST API listening on http://") {
            let rest = &text[at + "REST API listening on http://".len()..];
            let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            return (child, addr);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "sluice did not start its REST API:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One HTTP/1.1 GET: (status, content type, body).
fn get(addr: &str, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

fn get_json(addr: &str, path: &str) -> (u16, Value) {
    let (status, _, body) = get(addr, path);
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
    )
}

/// The value of the sample `name{labels…}` whose labels contain `having`.
fn sample(metrics: &str, name: &str, having: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?.strip_prefix('{')?;
        let (labels, value) = rest.split_once("} ")?;
        labels.contains(having).then(|| value.trim().parse().ok())?
    })
}

fn sluice_slots(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("slots")
        .args(args)
        .output()
        .unwrap()
}

fn wait_until<T>(what: &str, timeout: Duration, log: &Path, mut f: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            started.elapsed() < timeout,
            "{what}; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

const WARN: i64 = 100_000;

#[test]
fn slot_lag_grows_in_rest_cli_metrics_and_log_while_the_broker_is_frozen() {
    let pg = PgServer::start().unwrap();
    let mut broker = TansuServer::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    pg.psql(
        &db,
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text); \
         INSERT INTO orders SELECT g, 'first' FROM generate_series(1, 10) g",
    )
    .unwrap();
    let slot = unique_name("slot");
    let worker = tmp.path().join("worker.properties");
    std::fs::write(
        &worker,
        format!(
            "bootstrap.servers={}\noffset.storage.file.filename={}\noffset.flush.interval.ms=100\n\
             rest.host.name=127.0.0.1\nrest.port=0\n",
            broker.bootstrap_servers(),
            tmp.path().join("offsets.json").display()
        ),
    )
    .unwrap();
    let pg_file = tmp.path().join("pg.json");
    std::fs::write(
        &pg_file,
        json!({"name": "pg", "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": "127.0.0.1",
            "database.port": pg.port().to_string(),
            "database.user": "postgres",
            "database.dbname": db,
            "topic.prefix": "shop",
            "slot.name": slot,
            "publication.name": format!("pub_{slot}"),
            "table.include.list": "public.orders",
            "poll.interval.ms": "100",
            "status.update.interval.ms": "200",
            "slot.lag.warn.bytes": WARN.to_string(),
            "slot.lag.check.interval.ms": "300",
            "topic.creation.default.partitions": "1",
            "topic.creation.default.replication.factor": "1"
        }})
        .to_string(),
    )
    .unwrap();
    // A connector that is not PostgreSQL, writing to a file.
    let lines = tmp.path().join("lines.txt");
    std::fs::write(&lines, "one\n").unwrap();
    let file_connector = tmp.path().join("lines.properties");
    std::fs::write(
        &file_connector,
        format!(
            "name=lines\nconnector.class=FileStreamSource\nfile={}\ntopic=lines\n\
             sink.type=file\nsink.file.path={}\n",
            lines.display(),
            tmp.path().join("lines.out").display()
        ),
    )
    .unwrap();
    let log = tmp.path().join("sluice.log");
    let (mut sluice, addr) = start(&worker, &[&pg_file, &file_connector], &log);

    // Streaming: the slot is active and healthy. The slot is active from
    // its creation inside the task's start, so the task must be RUNNING
    // too (start done: its metrics and slot check registered).
    let report = wait_until(
        "the slot report of a streaming connector",
        Duration::from_secs(60),
        &log,
        || {
            let (_, task) = get_json(&addr, "/connectors/pg/status");
            if task["tasks"][0]["state"] != "RUNNING" {
                return None;
            }
            let (status, body) = get_json(&addr, "/connectors/pg/replication-slot");
            (status == 200 && body["active"] == true && body["confirmed_flush_lsn"].is_string())
                .then_some(body)
        },
    );
    assert_eq!(report["slot_name"], slot.as_str());
    assert_eq!(report["plugin"], "pgoutput");
    assert_eq!(report["database"], db.as_str());
    assert_eq!(report["health"], "ok", "{report}");
    assert_eq!(report["lag_warn_bytes"], WARN);
    assert!(report["current_wal_lsn"].as_str().unwrap().contains('/'));
    // Connect-style errors.
    let (status, body) = get_json(&addr, "/connectors/nope/replication-slot");
    assert_eq!(status, 404);
    assert_eq!(body["error_code"], 404);
    assert_eq!(body["message"], "Connector nope not found");
    let (status, body) = get_json(&addr, "/connectors/lines/replication-slot");
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_code"], 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not a PostgreSQL connector"),
        "{body}"
    );
    // Metrics: Prometheus' text format, Debezium's names.
    let (status, content_type, metrics) = get(&addr, "/metrics");
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(
        metrics.contains("# TYPE sluice_slot_lag_bytes gauge"),
        "{metrics}"
    );
    assert!(
        metrics.contains("# HELP debezium_metrics_Connected "),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "debezium_metrics_Connected", "name=\"shop\""),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "debezium_metrics_SnapshotCompleted",
            "name=\"shop\""
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "debezium_metrics_RowsScanned",
            "table=\"public.orders\""
        ),
        Some(10.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "debezium_metrics_QueueTotalCapacity",
            "name=\"shop\""
        ),
        Some(8192.0)
    );
    let delivered = wait_until(
        "the snapshot delivered to Kafka",
        Duration::from_secs(60),
        &log,
        || {
            let (_, _, m) = get(&addr, "/metrics");
            sample(&m, "sluice_sink_records_total", "connector=\"pg\"").filter(|n| *n >= 10.0)
        },
    );
    assert!(delivered >= 10.0);

    // The broker freezes; rows keep coming.
    broker.pause();
    for i in 0..4 {
        let from = 1000 + i * 1000;
        pg.psql(
            &db,
            &format!(
                "INSERT INTO orders SELECT g, repeat('n', 200) FROM generate_series({from}, {}) g",
                from + 999
            ),
        )
        .unwrap();
    }
    let report = wait_until(
        "a slot lag over slot.lag.warn.bytes in REST",
        Duration::from_secs(60),
        &log,
        || {
            let (_, body) = get_json(&addr, "/connectors/pg/replication-slot");
            (body["lag_bytes"].as_i64()? > WARN).then_some(body)
        },
    );
    assert_eq!(report["health"], "warning", "{report}");
    assert!(
        report["message"].as_str().unwrap().contains(&slot)
            && report["message"]
                .as_str()
                .unwrap()
                .contains("slot.lag.warn.bytes"),
        "{report}"
    );
    assert_eq!(report["reading_paused"], false, "{report}");
    let rest_lag = report["lag_bytes"].as_i64().unwrap();

    // `sluice slots --json`.
    let out = sluice_slots(&[
        "--database-url",
        &pg.url(&db),
        "--json",
        "--warn-bytes",
        &WARN.to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = all
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slot_name"] == slot.as_str())
        .unwrap_or_else(|| panic!("{all}"));
    assert!(ours["lag_bytes"].as_i64().unwrap() >= rest_lag, "{ours}");
    assert_eq!(ours["health"], "warning");
    assert_eq!(ours["active"], true);
    // The table.
    let out = sluice_slots(&[
        "--database-url",
        &pg.url(&db),
        "--warn-bytes",
        &WARN.to_string(),
    ]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with("SLOT"), "{table}");
    let row = table
        .lines()
        .find(|l| l.starts_with(&slot))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains("pgoutput") && row.ends_with("warning"),
        "{table}"
    );

    // /metrics: the monitor's last check.
    let lag = wait_until(
        "sluice_slot_lag_bytes over the threshold",
        Duration::from_secs(30),
        &log,
        || {
            let (_, _, m) = get(&addr, "/metrics");
            sample(&m, "sluice_slot_lag_bytes", &format!("slot=\"{slot}\""))
                .filter(|v| *v > WARN as f64)
        },
    );
    assert!(lag > WARN as f64);
    let (_, _, metrics) = get(&addr, "/metrics");
    assert!(
        sample(
            &metrics,
            "sluice_slot_retained_wal_bytes",
            "connector=\"pg\""
        )
        .unwrap()
            >= lag,
        "{metrics}"
    );
    // The task's detail, and the log.
    let (_, details) = get_json(&addr, "/connectors/pg/tasks/0/details");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().any(|l| l.contains("WARN")
            && l.contains(&format!("replication slot '{slot}' lag is"))
            && l.contains("slot.lag.warn.bytes")),
        "no lag warning in the log (task details: {details}):\n{text}"
    );

    // The broker is back: everything is delivered and the lag falls.
    broker.resume();
    let report = wait_until(
        "the lag back under the threshold",
        Duration::from_secs(120),
        &log,
        || {
            let (_, body) = get_json(&addr, "/connectors/pg/replication-slot");
            (body["health"] == "ok").then_some(body)
        },
    );
    assert!(report["lag_bytes"].as_i64().unwrap() <= WARN, "{report}");
    let (_, _, metrics) = get(&addr, "/metrics");
    assert!(
        sample(&metrics, "sluice_sink_records_total", "connector=\"pg\"").unwrap() >= 4010.0,
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            "debezium_metrics_NumberOfCommittedTransactions",
            "name=\"shop\""
        )
        .unwrap()
            >= 4.0,
        "{metrics}"
    );
    let status = terminate(&mut sluice);
    assert!(status.success(), "exit status {status:?}");
    for line in std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|l| l.contains("replication slot"))
    {
        eprintln!("{line}");
    }
}

#[test]
fn sluice_slots_reports_a_server_it_cannot_reach_in_one_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Nothing listens there any more.
    let out = sluice_slots(&[
        "--database-url",
        &format!("postgres://postgres:secret@127.0.0.1:{port}/db"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains(&format!("127.0.0.1:{port}")) && errors[0].contains("refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "the password leaked: {stderr}");
    assert!(out.stdout.is_empty());
}
