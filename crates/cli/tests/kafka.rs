//! `sluice standalone` streaming a Debezium PostgreSQL connector to a real
//! Kafka-protocol broker (tansu): change events on the topics, offsets in
//! the offsets topic in Kafka Connect's layout, kill -9 and restart.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{start_sluice, terminate};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::{json, Value};
use sluice_testkit::{unique_name, PgServer, TansuServer};

/// Reads a topic from the beginning, collecting (key, value) as JSON.
struct TopicReader {
    consumer: BaseConsumer,
    topic: String,
    assigned: bool,
    bootstrap: String,
}

impl TopicReader {
    fn new(bootstrap: &str, topic: &str) -> TopicReader {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", unique_name("test_reader"))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        TopicReader {
            consumer,
            topic: topic.to_string(),
            assigned: false,
            bootstrap: bootstrap.to_string(),
        }
    }

    /// Reads what is there for up to `wait`; assigns once the topic exists.
    fn read(&mut self, wait: Duration) -> Vec<(Option<Value>, Option<Value>, i32)> {
        let deadline = Instant::now() + wait;
        let mut out = Vec::new();
        while Instant::now() < deadline {
            if !self.assigned {
                let md = self
                    .consumer
                    .fetch_metadata(Some(&self.topic), Duration::from_secs(5));
                let parts: Vec<i32> = md
                    .ok()
                    .and_then(|md| {
                        md.topics()
                            .iter()
                            .find(|t| t.name() == self.topic && t.error().is_none())
                            .map(|t| t.partitions().iter().map(|p| p.id()).collect())
                    })
                    .unwrap_or_default();
                if parts.is_empty() {
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
                let mut tpl = TopicPartitionList::new();
                for p in parts {
                    tpl.add_partition_offset(&self.topic, p, Offset::Beginning)
                        .unwrap();
                }
                self.consumer.assign(&tpl).unwrap();
                self.assigned = true;
            }
            match self.consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    let parse = |b: Option<&[u8]>| b.map(|b| serde_json::from_slice(b).unwrap());
                    out.push((parse(m.key()), parse(m.payload()), m.partition()));
                }
                Some(Err(e)) => panic!("reading {} from {}: {e}", self.topic, self.bootstrap),
                None => {}
            }
        }
        out
    }
}

/// A topic with plain-string keys and JSON values (Connect's config and
/// status topics), read to its end.
fn read_raw(bootstrap: &str, topic: &str) -> Vec<(String, Option<Value>)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("raw_reader"))
        .create()
        .unwrap();
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in md.topics()[0].partitions() {
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            let m = m.unwrap();
            out.push((
                String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                m.payload().map(|p| serde_json::from_slice(p).unwrap()),
            ));
        }
    }
    out
}

fn write_configs(dir: &Path, pg: &PgServer, broker: &TansuServer, db: &str, offsets_topic: &str) {
    std::fs::write(
        dir.join("worker.properties"),
        format!(
            "bootstrap.servers={}\noffset.storage.topic={offsets_topic}\noffset.storage.partitions=3\n\
             offset.storage.replication.factor=1\noffset.flush.interval.ms=100\nrest.port=0\n\
             config.storage.topic={offsets_topic}_configs\nconfig.storage.replication.factor=1\n\
             status.storage.topic={offsets_topic}_status\nstatus.storage.partitions=1\n\
             status.storage.replication.factor=1\n",
            broker.bootstrap_servers()
        ),
    )
    .unwrap();
    let slot = unique_name("slot");
    std::fs::write(
        dir.join("pg.json"),
        json!({"name": "pg", "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": "127.0.0.1",
            "database.port": pg.port().to_string(),
            "database.user": "postgres",
            "database.dbname": db,
            "topic.prefix": "shop",
            "plugin.name": "pgoutput",
            "slot.name": slot,
            "publication.name": format!("pub_{slot}"),
            "table.include.list": "public.orders",
            "poll.interval.ms": "100",
            "status.update.interval.ms": "200",
            "topic.creation.default.partitions": "2",
            "topic.creation.default.replication.factor": "1"
        }})
        .to_string(),
    )
    .unwrap();
}

fn insert(pg: &PgServer, db: &str, from: i64, to: i64) {
    pg.psql(
        db,
        &format!("INSERT INTO orders SELECT g, 'note ' || g FROM generate_series({from}, {to}) g"),
    )
    .unwrap();
}

#[test]
fn postgres_to_kafka_with_offsets_in_kafka_survives_kill_9() {
    let pg = PgServer::start().unwrap();
    let broker = TansuServer::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    pg.psql(
        &db,
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text)",
    )
    .unwrap();
    insert(&pg, &db, 1, 500);
    let offsets_topic = unique_name("connect_offsets");
    write_configs(tmp.path(), &pg, &broker, &db, &offsets_topic);
    let log = tmp.path().join("sluice.log");
    let start = || {
        start_sluice(
            &tmp.path().join("worker.properties"),
            &tmp.path().join("pg.json"),
            &log,
            "info",
        )
    };

    let mut sluice = start();
    let mut reader = TopicReader::new(&broker.bootstrap_servers(), "shop.public.orders");
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while events.len() < 500 && Instant::now() < deadline {
        events.extend(reader.read(Duration::from_millis(500)));
    }
    assert_eq!(
        events.len(),
        500,
        "snapshot records on the topic; log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // Debezium's JSON envelope with its schema, keyed by the primary key.
    let (key, value, _) = &events[0];
    let key = key.as_ref().unwrap();
    assert_eq!(key["schema"]["name"], "shop.public.orders.Key");
    let value = value.as_ref().unwrap();
    assert_eq!(value["schema"]["name"], "shop.public.orders.Envelope");
    assert_eq!(value["payload"]["op"], "r");
    assert_eq!(value["payload"]["source"]["connector"], "postgresql");
    assert!(value["payload"]["after"]["note"]
        .as_str()
        .unwrap()
        .starts_with("note "));
    // Keyed records land where Kafka Connect would put them: one key, one
    // partition.
    let mut partition_of: BTreeMap<i64, i32> = BTreeMap::new();

    // Streaming, then kill -9 in the middle of it, more writes while down.
    insert(&pg, &db, 501, 1000);
    let deadline = Instant::now() + Duration::from_secs(60);
    while events.len() < 700 && Instant::now() < deadline {
        events.extend(reader.read(Duration::from_millis(200)));
    }
    sluice.kill().unwrap();
    sluice.wait().unwrap();
    insert(&pg, &db, 1001, 1500);
    pg.psql(&db, "UPDATE orders SET note = 'changed' WHERE id <= 10")
        .unwrap();

    // Restart with the worker file only: the connector comes back from
    // config.storage.topic, and resumes from offset.storage.topic.
    let mut sluice = common::ChildGuard(
        std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("standalone")
            .arg(tmp.path().join("worker.properties"))
            .env("RUST_LOG", "info")
            .stderr(std::fs::OpenOptions::new().append(true).open(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let complete = |events: &Vec<(Option<Value>, Option<Value>, i32)>| {
        let ids: BTreeSet<i64> = events
            .iter()
            .filter_map(|(_, v, _)| v.as_ref()?["payload"]["after"]["id"].as_i64())
            .collect();
        let updates = events
            .iter()
            .filter(|(_, v, _)| v.as_ref().is_some_and(|v| v["payload"]["op"] == "u"))
            .count();
        ids.len() == 1500 && updates >= 10
    };
    while !complete(&events) && Instant::now() < deadline {
        events.extend(reader.read(Duration::from_millis(500)));
    }
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        complete(&events),
        "every row arrives after kill -9; log:\n{log_text}"
    );
    // The completed snapshot is not taken again.
    let snapshot_reads = events
        .iter()
        .filter(|(_, v, _)| v.as_ref().is_some_and(|v| v["payload"]["op"] == "r"))
        .count();
    assert_eq!(
        snapshot_reads, 500,
        "the snapshot is not repeated after the restart"
    );
    for (k, _, p) in &events {
        let id = k.as_ref().unwrap()["payload"]["id"].as_i64().unwrap();
        assert_eq!(
            *partition_of.entry(id).or_insert(*p),
            *p,
            "key {id} moved partitions"
        );
    }
    assert_eq!(
        partition_of.values().collect::<BTreeSet<_>>().len(),
        2,
        "two partitions used"
    );

    // Offsets in the offsets topic, in Connect's layout.
    terminate(&mut sluice);
    let mut offsets = TopicReader::new(&broker.bootstrap_servers(), &offsets_topic);
    let records = offsets.read(Duration::from_secs(3));
    assert!(
        !records.is_empty(),
        "offsets were committed to {offsets_topic}"
    );
    let (key, value, _) = records.last().unwrap();
    assert_eq!(key.as_ref().unwrap(), &json!(["pg", {"server": "shop"}]));
    let value = value.as_ref().unwrap();
    assert!(value["lsn"].as_u64().unwrap() > 0, "{value}");
    assert_eq!(value.get("snapshot"), None, "streaming offset: {value}");

    // The config and status topics in Connect's layout.
    let configs = read_raw(
        &broker.bootstrap_servers(),
        &format!("{offsets_topic}_configs"),
    );
    let connector = configs
        .iter()
        .find(|(k, _)| k == "connector-pg")
        .and_then(|(_, v)| v.clone())
        .expect("connector-pg in the config topic");
    assert_eq!(connector["properties"]["topic.prefix"], "shop");
    assert!(configs
        .iter()
        .any(|(k, v)| k == "commit-pg" && v.as_ref().unwrap()["tasks"] == 1));
    assert!(configs
        .iter()
        .any(|(k, v)| k == "task-pg-0" && v.as_ref().unwrap()["properties"].is_object()));
    let statuses = read_raw(
        &broker.bootstrap_servers(),
        &format!("{offsets_topic}_status"),
    );
    assert!(
        statuses
            .iter()
            .any(|(k, v)| k == "status-connector-pg" && v.as_ref().unwrap()["state"] == "RUNNING"),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().any(|(k, _)| k == "status-task-pg-0"),
        "{statuses:?}"
    );
}

/// VmRSS of a process in MB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn confirmed_flush(pg: &PgServer, slot_prefix: &str) -> String {
    pg.psql(
        "postgres",
        &format!(
            "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name LIKE '{slot_prefix}%'"
        ),
    )
    .unwrap()
}

/// A broker outage of 30 s in the middle of streaming: the broker is frozen
/// (SIGSTOP; tansu keeps topics in memory, so a killed broker would come
/// back empty) while the database keeps changing. Nothing may be lost, the
/// slot must not advance while nothing is durable, memory stays flat, and
/// sluice recovers by itself when the broker answers again.
#[test]
fn a_broker_outage_loses_nothing_and_holds_the_slot() {
    let pg = PgServer::start().unwrap();
    let mut broker = TansuServer::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    pg.psql(
        &db,
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text)",
    )
    .unwrap();
    let offsets_topic = unique_name("connect_offsets");
    write_configs(tmp.path(), &pg, &broker, &db, &offsets_topic);
    let config = std::fs::read_to_string(tmp.path().join("pg.json")).unwrap();
    let slot = serde_json::from_str::<Value>(&config).unwrap()["config"]["slot.name"]
        .as_str()
        .unwrap()
        .to_string();
    let log = tmp.path().join("sluice.log");
    let mut sluice = start_sluice(
        &tmp.path().join("worker.properties"),
        &tmp.path().join("pg.json"),
        &log,
        "info",
    );
    let mut reader = TopicReader::new(&broker.bootstrap_servers(), "shop.public.orders");
    let ids = |events: &Vec<(Option<Value>, Option<Value>, i32)>| -> BTreeSet<i64> {
        events
            .iter()
            .filter_map(|(_, v, _)| v.as_ref()?["payload"]["after"]["id"].as_i64())
            .collect()
    };
    // Wait for streaming to start (the slot exists), then write.
    let deadline = Instant::now() + Duration::from_secs(30);
    while confirmed_flush(&pg, &slot).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    insert(&pg, &db, 1, 2000);
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while ids(&events).len() < 2000 && Instant::now() < deadline {
        events.extend(reader.read(Duration::from_millis(300)));
    }
    assert_eq!(ids(&events).len(), 2000, "before the outage");
    // Let the offsets of those rows be committed and confirmed.
    std::thread::sleep(Duration::from_secs(2));

    broker.pause();
    let outage = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let held = confirmed_flush(&pg, &slot);
    let pid = sluice.id();
    let mut rss = Vec::new();
    let mut next = 2001;
    while outage.elapsed() < Duration::from_secs(30) {
        insert(&pg, &db, next, next + 999);
        next += 1000;
        rss.push(rss_mb(pid));
        assert_eq!(
            confirmed_flush(&pg, &slot),
            held,
            "the slot advanced while the broker was down"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(
        sluice.try_wait().unwrap().is_none(),
        "sluice exited during the outage"
    );
    broker.resume();
    let total = next - 1;

    let deadline = Instant::now() + Duration::from_secs(120);
    while ids(&events).len() < total as usize && Instant::now() < deadline {
        events.extend(reader.read(Duration::from_millis(500)));
    }
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        ids(&events).len(),
        total as usize,
        "every row after the outage; log:\n{log_text}"
    );
    // The slot moves again once the records are durable.
    let deadline = Instant::now() + Duration::from_secs(30);
    while confirmed_flush(&pg, &slot) == held && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_ne!(
        confirmed_flush(&pg, &slot),
        held,
        "the slot advances after recovery"
    );
    let (min, max) = rss
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    eprintln!(
        "outage: {} rows written while the broker was down; RSS {min:.1}–{max:.1} MB",
        total - 2000
    );
    assert!(
        max < 300.0 && max - min < 100.0,
        "memory during the outage: {rss:?}"
    );
    terminate(&mut sluice);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Avro change events through `sluice registry`, decoded by a real
/// third-party client: Confluent's Python confluent-kafka with its
/// SchemaRegistryClient and AvroDeserializer.
#[test]
fn avro_events_decode_with_confluents_python_client() {
    let python_ok = std::process::Command::new("python3")
        .args([
            "-c",
            "import confluent_kafka.schema_registry.avro, fastavro",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        python_ok,
        "this test needs Python's confluent-kafka: pip install 'confluent-kafka[avro,schemaregistry]' (scripts/test.sh installs it)"
    );
    let pg = PgServer::start().unwrap();
    let broker = TansuServer::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let registry_port = free_port();
    let registry_url = format!("http://127.0.0.1:{registry_port}");
    let registry_log = tmp.path().join("registry.log");
    // The registry keeps its schemas in a `_schemas`-style topic on the
    // same broker.
    let schemas_topic = unique_name("schemas");
    let start_registry = || {
        let child = common::ChildGuard(
            std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
                .args([
                    "registry",
                    "--listen",
                    &format!("127.0.0.1:{registry_port}"),
                ])
                .args(["--bootstrap-servers", &broker.bootstrap_servers()])
                .args(["--topic", &schemas_topic, "--replication-factor", "1"])
                .stderr(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&registry_log)
                        .unwrap(),
                )
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", registry_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the registry did not start: {}",
                std::fs::read_to_string(&registry_log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        child
    };
    let mut registry = start_registry();

    let db = unique_name("db");
    pg.create_database(&db).unwrap();
    pg.psql(
        &db,
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text, total numeric(10,2), placed timestamptz)",
    )
    .unwrap();
    pg.psql(
        &db,
        "INSERT INTO orders SELECT g, 'note ' || g, g * 1.25, '2024-01-02 03:04:05+00' FROM generate_series(1, 50) g",
    )
    .unwrap();
    write_configs(
        tmp.path(),
        &pg,
        &broker,
        &db,
        &unique_name("connect_offsets"),
    );
    let mut worker = std::fs::read_to_string(tmp.path().join("worker.properties")).unwrap();
    for side in ["key", "value"] {
        worker.push_str(&format!(
            "{side}.converter=io.confluent.connect.avro.AvroConverter\n{side}.converter.schema.registry.url={registry_url}\n"
        ));
    }
    std::fs::write(tmp.path().join("worker.properties"), worker).unwrap();
    let log = tmp.path().join("sluice.log");
    let mut sluice = start_sluice(
        &tmp.path().join("worker.properties"),
        &tmp.path().join("pg.json"),
        &log,
        "info",
    );
    // Wait for the snapshot, then stream an update and a delete.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        if log_text.contains("snapshot completed") || log_text.contains("streaming") {
            break;
        }
        assert!(Instant::now() < deadline, "no snapshot; log:\n{log_text}");
        std::thread::sleep(Duration::from_millis(200));
    }
    pg.psql(
        &db,
        "UPDATE orders SET note = 'changed', total = 99.99 WHERE id = 7",
    )
    .unwrap();
    pg.psql(&db, "DELETE FROM orders WHERE id = 8").unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/avro_consumer.py");
    let consume = || {
        std::process::Command::new("python3")
            .arg(&script)
            .args([
                &broker.bootstrap_servers(),
                &registry_url,
                "shop.public.orders",
                "53",
                "60",
            ])
            .output()
            .unwrap()
    };
    let out = consume();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python consumer failed: {stderr}");
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    // 50 snapshot reads, an update, a delete and its tombstone.
    assert_eq!(
        records.len(),
        53,
        "records: {records:?}\nstderr: {stderr}\nlog:\n{log_text}\nregistry log:\n{}",
        std::fs::read_to_string(&registry_log).unwrap_or_default()
    );
    let first = &records[0]["value"];
    assert_eq!(first["op"], "r");
    assert_eq!(first["before"], Value::Null);
    assert_eq!(first["source"]["connector"], "postgresql");
    assert_eq!(first["source"]["table"], "orders");
    assert!(first["after"]["note"]
        .as_str()
        .unwrap()
        .starts_with("note "));
    assert_eq!(records[0]["key"]["id"], first["after"]["id"]);
    // The Avro decimal arrives as a decimal, the timestamp as Debezium's
    // ZonedTimestamp string.
    let seven = records
        .iter()
        .find(|r| r["value"]["op"] == "u")
        .expect("the update");
    assert_eq!(seven["value"]["after"]["id"], 7);
    assert_eq!(seven["value"]["after"]["note"], "changed");
    assert_eq!(seven["value"]["after"]["total"], "99.99");
    assert_eq!(
        seven["value"]["after"]["placed"],
        "2024-01-02T03:04:05.000000Z"
    );
    let delete = records
        .iter()
        .find(|r| r["value"]["op"] == "d")
        .expect("the delete");
    assert_eq!(delete["value"]["before"]["id"], 8);
    assert_eq!(delete["value"]["after"], Value::Null);
    assert!(
        records
            .iter()
            .any(|r| r["value"].is_null() && r["key"]["id"] == 8),
        "tombstone"
    );

    // The registry holds the subjects Confluent's TopicNameStrategy names.
    let subjects = std::process::Command::new("python3")
        .args([
            "-c",
            &format!(
                "from confluent_kafka.schema_registry import SchemaRegistryClient as C; print(sorted(C({{'url': '{registry_url}'}}).get_subjects()))"
            ),
        ])
        .output()
        .unwrap();
    let subjects = String::from_utf8_lossy(&subjects.stdout);
    assert!(
        subjects.contains("shop.public.orders-key")
            && subjects.contains("shop.public.orders-value"),
        "{subjects}"
    );
    terminate(&mut sluice);

    // A restarted registry reads its schemas back from the topic: the same
    // records decode again.
    terminate(&mut registry);
    let mut registry = start_registry();
    let again = consume();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).lines().count(),
        53,
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    terminate(&mut registry);
}
