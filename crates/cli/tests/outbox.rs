//! The outbox pattern end to end: `sluice standalone` with a Debezium
//! PostgreSQL connector and Debezium's transforms against a throwaway
//! PostgreSQL, writing to the file sink.
//!
//! * an outbox table captured and routed by the EventRouter to
//!   `outbox.event.<aggregatetype>`, key `aggregateid`, the JSON payload
//!   expanded, the `id` header; the immediate DELETE of the outbox row
//!   produces nothing;
//! * outbox events written with `pg_logical_emit_message` routed the same
//!   way (other message prefixes pass unchanged);
//! * ExtractNewRecordState then RegexRouter on a regular table.

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
    worker: PathBuf,
    connector: PathBuf,
    slot: String,
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
            "offset.storage.file.filename={}\noffset.flush.interval.ms=100\nrest.port=0\nsink.type=file\nsink.file.path={}\nsink.file.fsync=false\n",
            dir.join("offsets.json").display(),
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
        "info",
    )
}

fn log(env: &Env) -> String {
    std::fs::read_to_string(env.dir.join("sluice.log")).unwrap_or_default()
}

fn wait_for(env: &Env, what: &str, mut f: impl FnMut(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let ev = common::read_events(&env.output);
        if f(&ev) {
            return ev;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}; have {ev:#?}\n{}",
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

const ORDER_EVENT: &str = "4d47e190-0402-4048-bc2c-89dd54343cdc";
const CUSTOMER_EVENT: &str = "5e0a0c1e-9c5b-4a63-9a55-6f3b3c1f2a10";

#[test]
fn outbox_table_and_logical_messages_are_routed_by_the_event_router() {
    let pg = PgServer::start().unwrap();
    let env = setup(
        &pg,
        json!({
            "table.include.list": "public.outbox",
            "transforms": "outbox",
            "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
            "transforms.outbox.table.expand.json.payload": "true",
            "transforms.outbox.table.fields.additional.placement": "type:header:eventType"
        }),
    );
    pg.psql(
        &env.db,
        "CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, \
           aggregateid varchar(255) NOT NULL, type varchar(255) NOT NULL, payload jsonb);\
         CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2));",
    )
    .unwrap();
    let mut child = start(&env);
    wait_until_streaming(&env, &pg, &mut child);
    // The service's transaction: its state change, the outbox row, and the
    // immediate clean-up of the outbox row.
    pg.psql(
        &env.db,
        &format!(
            "BEGIN;\
             INSERT INTO orders VALUES (42, 39.98);\
             INSERT INTO outbox VALUES ('{ORDER_EVENT}', 'Order', '42', 'OrderCreated', \
               '{{\"id\": 42, \"customerId\": 123, \"lineItems\": [{{\"item\": \"Debezium in Action\", \"quantity\": 2, \"totalPrice\": 39.98}}]}}');\
             DELETE FROM outbox WHERE id = '{ORDER_EVENT}';\
             COMMIT;"
        ),
    )
    .unwrap();
    // The same without a table: a transactional logical decoding message.
    pg.psql(
        &env.db,
        &format!(
            "BEGIN;\
             INSERT INTO orders VALUES (43, 1.00);\
             SELECT pg_logical_emit_message(true, 'outbox', \
               '{{\"id\": \"{CUSTOMER_EVENT}\", \"aggregatetype\": \"Customer\", \"aggregateid\": \"123\", \
                 \"type\": \"CustomerCreated\", \"payload\": {{\"id\": 123, \"name\": \"Ann\"}}}}');\
             COMMIT;\
             SELECT pg_logical_emit_message(false, 'audit', 'not an outbox event');"
        ),
    )
    .unwrap();
    let ev = wait_for(&env, "3 events", |e| e.len() >= 3);
    // Give stray events (the DELETE, its tombstone) a chance to show up.
    std::thread::sleep(Duration::from_millis(500));
    let ev = {
        let again = common::read_events(&env.output);
        assert_eq!(again.len(), ev.len(), "{again:#?}");
        again
    };
    assert_eq!(ev.len(), 3, "{ev:#?}");

    let order = &ev[0];
    assert_eq!(order["topic"], "outbox.event.Order");
    assert_eq!(
        order["key"],
        json!({"schema": {"type": "string", "optional": false}, "payload": "42"})
    );
    assert_eq!(order["headers"]["id"], ORDER_EVENT);
    assert_eq!(order["headers"]["eventType"], "OrderCreated");
    assert_eq!(
        order["value"]["payload"],
        json!({"id": 42, "customerId": 123, "lineItems": [{"item": "Debezium in Action", "quantity": 2, "totalPrice": 39.98}]})
    );
    let schema = &order["value"]["schema"];
    assert_eq!(schema["type"], "struct");
    assert_eq!(schema["name"], "payload");
    let line_items = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "lineItems")
        .unwrap();
    assert_eq!(line_items["type"], "array");
    assert_eq!(line_items["items"]["name"], "payload.lineItems");
    assert!(order["timestamp"].as_i64().unwrap() > 1_600_000_000_000);

    let customer = &ev[1];
    assert_eq!(customer["topic"], "outbox.event.Customer");
    assert_eq!(customer["key"]["payload"], "123");
    assert_eq!(customer["headers"]["id"], CUSTOMER_EVENT);
    assert_eq!(customer["headers"]["eventType"], "CustomerCreated");
    assert_eq!(
        customer["value"]["payload"],
        json!({"id": 123, "name": "Ann"})
    );
    assert_eq!(customer["value"]["schema"]["name"], "payload");

    // Other prefixes are left alone (the connector's message event).
    let audit = &ev[2];
    assert_eq!(audit["topic"], "server1.message");
    assert_eq!(audit["value"]["payload"]["op"], "m");
    assert_eq!(audit["value"]["payload"]["message"]["prefix"], "audit");

    let status = terminate(&mut child);
    assert!(status.success(), "{}", log(&env));
}

#[test]
fn unwrap_then_regex_router_on_a_regular_table() {
    let pg = PgServer::start().unwrap();
    let env = setup(
        &pg,
        json!({
            "transforms": "unwrap,route",
            "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
            "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
            "transforms.unwrap.add.fields": "op,table,source.ts_ms",
            "transforms.unwrap.add.headers": "op",
            "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
            "transforms.route.regex": "server1\\.public\\.(.*)",
            "transforms.route.replacement": "cdc.$1"
        }),
    );
    pg.psql(&env.db, "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text DEFAULT 'none');")
        .unwrap();
    let mut child = start(&env);
    wait_until_streaming(&env, &pg, &mut child);
    pg.psql(
        &env.db,
        "INSERT INTO customers VALUES (1, 'Ann', 'ann@example.com');\
         UPDATE customers SET name = 'Anne' WHERE id = 1;\
         DELETE FROM customers WHERE id = 1;",
    )
    .unwrap();
    let ev = wait_for(&env, "3 events", |e| e.len() >= 3);
    std::thread::sleep(Duration::from_millis(500));
    let ev_now = common::read_events(&env.output);
    assert_eq!(
        ev_now.len(),
        ev.len(),
        "the tombstone is dropped in rewrite mode: {ev_now:#?}"
    );
    assert_eq!(ev.len(), 3, "{ev:#?}");
    for e in &ev {
        assert_eq!(e["topic"], "cdc.customers");
        assert_eq!(e["key"]["payload"], json!({"id": 1}));
        assert_eq!(e["key"]["schema"]["name"], "server1.public.customers.Key");
    }
    let (c, u, d) = (&ev[0], &ev[1], &ev[2]);
    let source_ts = |e: &Value| e["value"]["payload"]["__source_ts_ms"].as_i64().unwrap();
    assert_eq!(
        c["value"]["payload"],
        json!({"id": 1, "name": "Ann", "email": "ann@example.com", "__deleted": "false", "__op": "c", "__table": "customers", "__source_ts_ms": source_ts(c)})
    );
    assert_eq!(c["headers"]["__op"], "c");
    assert_eq!(u["value"]["payload"]["name"], "Anne");
    assert_eq!(u["value"]["payload"]["__op"], "u");
    assert_eq!(u["headers"]["__op"], "u");
    // The delete carries the old key columns (REPLICA IDENTITY DEFAULT);
    // `email` gets its default (replace.null.with.default).
    assert_eq!(d["value"]["payload"]["id"], 1);
    assert_eq!(d["value"]["payload"]["email"], "none");
    assert_eq!(d["value"]["payload"]["__deleted"], "true");
    assert_eq!(d["value"]["payload"]["__op"], "d");
    assert_eq!(d["headers"]["__op"], "d");
    let schema = &c["value"]["schema"];
    assert_eq!(schema["name"], "server1.public.customers.Value");
    let names: Vec<&str> = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "name",
            "email",
            "__deleted",
            "__op",
            "__table",
            "__source_ts_ms"
        ]
    );
    assert!(schema["fields"][3]["optional"].as_bool().unwrap());

    let status = terminate(&mut child);
    assert!(status.success(), "{}", log(&env));
}
