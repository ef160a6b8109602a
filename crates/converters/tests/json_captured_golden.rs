//! Byte-exact comparison with real JsonConverter output captured from
//! Kafka Connect + Debezium (see testdata/converters/README.md for where
//! each capture comes from). The Connect records are rebuilt here as the
//! connectors build them; the converter must reproduce the captured bytes,
//! and reading the bytes back must give the same records.

use std::path::PathBuf;

use sluice_connect_api::data::logical;
use sluice_connect_api::{Converter, Decimal, Props, SchemaBuilder, SchemaRef, Struct, Value};
use sluice_converters::JsonConverter;

fn captured(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/converters/captured")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.trim_end_matches(['\n', '\r']).to_string()
}

fn converter() -> JsonConverter {
    JsonConverter::new(&Props::new(), false).unwrap()
}

fn string() -> SchemaRef {
    SchemaBuilder::string().build()
}
fn opt_string() -> SchemaRef {
    SchemaBuilder::string().optional().build()
}
fn int64() -> SchemaRef {
    SchemaBuilder::int64().build()
}
fn opt_int64() -> SchemaRef {
    SchemaBuilder::int64().optional().build()
}
fn enum_snapshot(allowed: &str) -> SchemaRef {
    SchemaBuilder::string()
        .optional()
        .name("io.debezium.data.Enum")
        .version(1)
        .parameter("allowed", allowed)
        .default_value(Value::String("false".into()))
        .build()
}

fn assert_exact(converter: &JsonConverter, schema: &SchemaRef, value: Value, expected: &str) {
    let bytes = converter
        .from_connect("t", Some(schema), &value)
        .unwrap()
        .unwrap();
    let actual = String::from_utf8(bytes).unwrap();
    if actual != expected {
        let at = actual
            .bytes()
            .zip(expected.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(actual.len().min(expected.len()));
        panic!(
            "mismatch at byte {at}:\n  actual:   …{}\n  expected: …{}",
            &actual[at.saturating_sub(80)..(at + 80).min(actual.len())],
            &expected[at.saturating_sub(80)..(at + 80).min(expected.len())]
        );
    }
    // And back: the bytes read back as the same record.
    let (schema_back, value_back) = converter
        .to_connect("t", Some(expected.as_bytes()))
        .unwrap();
    assert_eq!(schema_back.as_ref(), Some(schema));
    assert_eq!(value_back, value);
}

fn mysql_source_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .name("io.debezium.connector.mysql.Source")
        .field("version", string())
        .field("connector", string())
        .field("name", string())
        .field("ts_ms", int64())
        .field("snapshot", enum_snapshot("true,last,false"))
        .field("db", string())
        .field("table", opt_string())
        .field("server_id", int64())
        .field("gtid", opt_string())
        .field("file", string())
        .field("pos", int64())
        .field("row", SchemaBuilder::int32().build())
        .field("thread", opt_int64())
        .field("query", opt_string())
        .build()
}

fn mysql_source(
    version: &str,
    ts_ms: i64,
    snapshot: &str,
    table: &str,
    server_id: i64,
    pos: i64,
    thread: Option<i64>,
) -> Struct {
    Struct::new(mysql_source_schema())
        .with("version", version)
        .with("connector", "mysql")
        .with("name", "dbserver1")
        .with("ts_ms", ts_ms)
        .with("snapshot", snapshot)
        .with("db", "inventory")
        .with("table", table)
        .with("server_id", server_id)
        .with("file", "mysql-bin.000003")
        .with("pos", pos)
        .with("row", 0)
        .with("thread", thread)
}

#[test]
fn strimzi_debezium_mysql_update_event() {
    let row = SchemaBuilder::struct_()
        .optional()
        .name("dbserver1.inventory.customers.Value")
        .field("id", SchemaBuilder::int32().build())
        .field("first_name", string())
        .field("last_name", string())
        .field("email", string())
        .build();
    let envelope = SchemaBuilder::struct_()
        .name("dbserver1.inventory.customers.Envelope")
        .field("before", row.clone())
        .field("after", row.clone())
        .field("source", mysql_source_schema())
        .field("op", string())
        .field("ts_ms", opt_int64())
        .build();
    let customer = |first: &str| {
        Struct::new(row.clone())
            .with("id", 1004)
            .with("first_name", first)
            .with("last_name", "Kretchmar")
            .with("email", "annek@noanswer.org")
    };
    let value = Struct::new(envelope.clone())
        .with("before", customer("Anne"))
        .with("after", customer("Anne Mary"))
        .with(
            "source",
            mysql_source(
                "0.10.0.Final",
                1574090237000,
                "false",
                "customers",
                223344,
                4311,
                Some(3),
            ),
        )
        .with("op", "u")
        .with("ts_ms", 1574090237089i64);
    assert_exact(
        &converter(),
        &envelope,
        Value::Struct(value),
        &captured("strimzi_mysql_customers_update.json"),
    );
}

#[test]
fn strimzi_debezium_mysql_schema_change_event() {
    let schema = SchemaBuilder::struct_()
        .name("io.debezium.connector.mysql.SchemaChangeValue")
        .field("source", mysql_source_schema())
        .field("databaseName", string())
        .field("ddl", string())
        .build();
    let ddl = "CREATE TABLE `products_on_hand` (\n  `product_id` int(11) NOT NULL,\n  `quantity` int(11) NOT NULL,\n  \
               PRIMARY KEY (`product_id`),\n  CONSTRAINT `products_on_hand_ibfk_1` FOREIGN KEY (`product_id`) REFERENCES \
               `products` (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=latin1";
    let value = Struct::new(schema.clone())
        .with(
            "source",
            mysql_source("1.0.0.Final", 0, "true", "products_on_hand", 0, 2324, None),
        )
        .with("databaseName", "inventory")
        .with("ddl", ddl);
    // The capture is pretty-printed by jq: compare structurally, and the
    // bytes against its compact form (serde_json and Jackson agree on the
    // compact form of this document: only \n needs escaping).
    let pretty: serde_json::Value =
        serde_json::from_str(&captured("strimzi_mysql_schema_change_pretty.json")).unwrap();
    let compact = serde_json::to_string(&pretty).unwrap();
    let bytes = converter()
        .from_connect("dbserver1", Some(&schema), &Value::Struct(value.clone()))
        .unwrap()
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(parsed, pretty);
    assert_exact(&converter(), &schema, Value::Struct(value), &compact);
}

fn pg_row_schema(name: &str, optional: bool, deleted_field: bool) -> SchemaRef {
    let mut b = SchemaBuilder::struct_()
        .name(name)
        .field(
            "order_id",
            SchemaBuilder::int32()
                .default_value(Value::Int32(0))
                .build(),
        )
        .field("customer_name", string())
        .field("product", string())
        .field("quantity", SchemaBuilder::int32().build())
        .field(
            "price",
            logical::decimal(2)
                .parameter("connect.decimal.precision", "10")
                .build(),
        )
        .field(
            "order_date",
            SchemaBuilder::int64()
                .optional()
                .name("io.debezium.time.MicroTimestamp")
                .version(1)
                .default_value(Value::Int64(0))
                .build(),
        )
        .field(
            "status",
            SchemaBuilder::string()
                .optional()
                .default_value(Value::String("PENDING".into()))
                .build(),
        );
    if deleted_field {
        b = b.field("__deleted", opt_string());
    }
    if optional {
        b = b.optional();
    }
    b.build()
}

fn pg_row(schema: &SchemaRef) -> Struct {
    Struct::new(schema.clone())
        .with("order_id", 1)
        .with("customer_name", "John Doe")
        .with("product", "Laptop")
        .with("quantity", 1)
        .with("price", Value::Decimal(Decimal::new(120000, 2)))
        .with("order_date", 1767610078945635i64)
        .with("status", "COMPLETED")
}

#[test]
fn debezium_postgres_snapshot_event() {
    let row = pg_row_schema("postgres-raw.public.orders.Value", true, false);
    let source = SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.Source")
        .field("version", string())
        .field("connector", string())
        .field("name", string())
        .field("ts_ms", int64())
        .field("snapshot", enum_snapshot("true,last,false,incremental"))
        .field("db", string())
        .field("sequence", opt_string())
        .field("schema", string())
        .field("table", string())
        .field("txId", opt_int64())
        .field("lsn", opt_int64())
        .field("xmin", opt_int64())
        .build();
    let block = SchemaBuilder::struct_()
        .optional()
        .name("event.block")
        .version(1)
        .field("id", string())
        .field("total_order", int64())
        .field("data_collection_order", int64())
        .build();
    let envelope = SchemaBuilder::struct_()
        .name("postgres-raw.public.orders.Envelope")
        .version(1)
        .field("before", row.clone())
        .field("after", row.clone())
        .field("source", source.clone())
        .field("op", string())
        .field("ts_ms", opt_int64())
        .field("transaction", block)
        .build();
    let source_value = Struct::new(source)
        .with("version", "2.5.4.Final")
        .with("connector", "postgresql")
        .with("name", "postgres-raw")
        .with("ts_ms", 1767611532462i64)
        .with("snapshot", "first")
        .with("db", "testdb")
        .with("sequence", "[null,\"26843720\"]")
        .with("schema", "public")
        .with("table", "orders")
        .with("txId", 742i64)
        .with("lsn", 26843720i64);
    let value = Struct::new(envelope.clone())
        .with("after", pg_row(&row))
        .with("source", source_value)
        .with("op", "r")
        .with("ts_ms", 1767611532655i64);
    assert_exact(
        &converter(),
        &envelope,
        Value::Struct(value),
        &captured("debezium_pg_orders_snapshot.json"),
    );
}

#[test]
fn debezium_postgres_unwrapped_event() {
    let schema = pg_row_schema("postgres.public.orders.Value", false, true);
    let value = pg_row(&schema).with("__deleted", "false");
    assert_exact(
        &converter(),
        &schema,
        Value::Struct(value),
        &captured("debezium_pg_orders_unwrapped.json"),
    );
}

#[test]
fn kafka_quickstart_file_source_line() {
    assert_exact(
        &converter(),
        &SchemaBuilder::string().build(),
        Value::String("foo".into()),
        &captured("kafka_quickstart_foo.json"),
    );
}

#[test]
fn schemas_disabled_writes_only_the_payload() {
    let c = JsonConverter::new(
        &Props::from([("schemas.enable".to_string(), "false".to_string())]),
        false,
    )
    .unwrap();
    let schema = pg_row_schema("postgres.public.orders.Value", false, true);
    let value = Value::Struct(pg_row(&schema).with("__deleted", "false"));
    let bytes = c.from_connect("t", Some(&schema), &value).unwrap().unwrap();
    let full = captured("debezium_pg_orders_unwrapped.json");
    let payload =
        &full[full.find(",\"payload\":").unwrap() + ",\"payload\":".len()..full.len() - 1];
    assert_eq!(std::str::from_utf8(&bytes).unwrap(), payload);
    // Read back without schemas: a map with string keys, integers as int64,
    // the decimal as its base64 text.
    let (schema_back, value_back) = c.to_connect("t", Some(&bytes)).unwrap();
    assert_eq!(schema_back, None);
    let Value::Map(entries) = value_back else {
        panic!("expected a map")
    };
    assert_eq!(
        entries[0],
        (Value::String("order_id".into()), Value::Int64(1))
    );
    assert_eq!(
        entries[4],
        (Value::String("price".into()), Value::String("AdTA".into()))
    );
}
