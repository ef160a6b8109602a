//! Debezium PostgreSQL change events for the Debezium transform tests: the
//! same key, value, source, transaction and envelope schemas the connector
//! builds (`crates/postgres/src/events.rs`), and helpers to configure a
//! transform by class name the way the worker does.
#![allow(dead_code)]

use std::sync::Arc;

use sluice_connect_api::config::Props;
use sluice_connect_api::{
    Header, SchemaBuilder, SchemaRef, SourceRecord, Struct, Transform, TransformPlugin, Value,
};

pub const TOPIC: &str = "server1.public.customers";

/// The schemas of one captured table.
pub struct Table {
    pub topic: String,
    pub key: SchemaRef,
    pub value: SchemaRef,
    pub source: SchemaRef,
    pub transaction: SchemaRef,
    pub envelope: SchemaRef,
}

fn enum_schema(allowed: &[&str], default: &str) -> SchemaRef {
    SchemaBuilder::string()
        .name("io.debezium.data.Enum")
        .version(1)
        .parameter("allowed", allowed.join(","))
        .default_value(Value::String(default.into()))
        .optional()
        .build()
}

pub fn source_schema() -> SchemaRef {
    let str_ = || SchemaBuilder::string().build();
    let opt_i64 = || SchemaBuilder::int64().optional().build();
    SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.Source")
        .version(1)
        .field("version", str_())
        .field("connector", str_())
        .field("name", str_())
        .field("ts_ms", SchemaBuilder::int64().build())
        .field(
            "snapshot",
            enum_schema(
                &[
                    "true",
                    "first",
                    "first_in_data_collection",
                    "last_in_data_collection",
                    "last",
                    "false",
                    "incremental",
                ],
                "false",
            ),
        )
        .field("db", str_())
        .field("sequence", SchemaBuilder::string().optional().build())
        .field("ts_us", opt_i64())
        .field("ts_ns", opt_i64())
        .field("schema", str_())
        .field("table", str_())
        .field("txId", opt_i64())
        .field("lsn", opt_i64())
        .field("xmin", opt_i64())
        .build()
}

pub fn transaction_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .optional()
        .name("event.block")
        .version(1)
        .field("id", SchemaBuilder::string().build())
        .field("total_order", SchemaBuilder::int64().build())
        .field("data_collection_order", SchemaBuilder::int64().build())
        .build()
}

/// `customers (id int PRIMARY KEY, name text, email varchar DEFAULT
/// 'none@example.com')`.
pub fn customers() -> Table {
    table(
        TOPIC,
        vec![
            ("id", SchemaBuilder::int32().build()),
            ("name", SchemaBuilder::string().optional().build()),
            (
                "email",
                SchemaBuilder::string()
                    .optional()
                    .default_value(Value::String("none@example.com".into()))
                    .build(),
            ),
        ],
    )
}

/// A table whose first column is the primary key.
pub fn table(topic: &str, columns: Vec<(&str, SchemaRef)>) -> Table {
    let mut value = SchemaBuilder::struct_().name(format!("{topic}.Value"));
    for (name, schema) in &columns {
        value = value.field(*name, schema.clone());
    }
    let value = value.optional().build();
    let key = SchemaBuilder::struct_()
        .name(format!("{topic}.Key"))
        .field(columns[0].0, columns[0].1.clone())
        .build();
    let source = source_schema();
    let transaction = transaction_schema();
    let envelope = SchemaBuilder::struct_()
        .name(format!("{topic}.Envelope"))
        .version(2)
        .field("before", value.clone())
        .field("after", value.clone())
        .field("source", source.clone())
        .field("transaction", transaction.clone())
        .field("op", SchemaBuilder::string().build())
        .field("ts_ms", SchemaBuilder::int64().optional().build())
        .field("ts_us", SchemaBuilder::int64().optional().build())
        .field("ts_ns", SchemaBuilder::int64().optional().build())
        .build();
    Table {
        topic: topic.to_string(),
        key,
        value,
        source,
        transaction,
        envelope,
    }
}

pub const TS_MS: i64 = 1_700_000_000_123;
pub const SOURCE_TS_MS: i64 = 1_700_000_000_100;

impl Table {
    pub fn row(&self, values: Vec<Value>) -> Struct {
        Struct::from_values(self.value.clone(), values)
    }

    pub fn customer(&self, id: i32, name: Option<&str>, email: Option<&str>) -> Struct {
        self.row(vec![
            Value::Int32(id),
            name.map_or(Value::Null, |n| Value::String(n.into())),
            email.map_or(Value::Null, |e| Value::String(e.into())),
        ])
    }

    pub fn source(&self, lsn: i64) -> Struct {
        let parts: Vec<&str> = self.topic.split('.').collect();
        Struct::from_values(
            self.source.clone(),
            vec![
                Value::String("0.1.0".into()),
                Value::String("postgresql".into()),
                Value::String(parts[0].into()),
                Value::Int64(SOURCE_TS_MS),
                Value::Null,
                Value::String("postgres".into()),
                Value::String(format!("[null,\"{lsn}\"]").into()),
                Value::Int64(SOURCE_TS_MS * 1000),
                Value::Int64(SOURCE_TS_MS * 1_000_000),
                Value::String(parts.get(1).copied().unwrap_or("public").into()),
                Value::String(parts.get(2).copied().unwrap_or("t").into()),
                Value::Int64(571),
                Value::Int64(lsn),
                Value::Null,
            ],
        )
    }

    pub fn transaction(&self) -> Struct {
        Struct::from_values(
            self.transaction.clone(),
            vec![
                Value::String("571:1234".into()),
                Value::Int64(42),
                Value::Int64(7),
            ],
        )
    }

    pub fn envelope(
        &self,
        op: &str,
        before: Option<Struct>,
        after: Option<Struct>,
        tx: bool,
    ) -> Struct {
        Struct::from_values(
            self.envelope.clone(),
            vec![
                before.map_or(Value::Null, Value::Struct),
                after.map_or(Value::Null, Value::Struct),
                Value::Struct(self.source(1234)),
                if tx {
                    Value::Struct(self.transaction())
                } else {
                    Value::Null
                },
                Value::String(op.into()),
                Value::Int64(TS_MS),
                Value::Int64(TS_MS * 1000),
                Value::Int64(TS_MS * 1_000_000),
            ],
        )
    }

    /// A change event record, keyed by the row's first column.
    pub fn record(&self, op: &str, before: Option<Struct>, after: Option<Struct>) -> SourceRecord {
        self.record_tx(op, before, after, false)
    }

    pub fn record_tx(
        &self,
        op: &str,
        before: Option<Struct>,
        after: Option<Struct>,
        tx: bool,
    ) -> SourceRecord {
        let id = after
            .as_ref()
            .or(before.as_ref())
            .and_then(|r| r.get_index(0).cloned())
            .unwrap_or(Value::Null);
        let key = Struct::from_values(self.key.clone(), vec![id]);
        SourceRecord::new(
            None,
            None,
            self.topic.as_str(),
            Some(self.envelope.clone()),
            Value::Struct(self.envelope(op, before, after, tx)),
        )
        .with_key(Some(self.key.clone()), Value::Struct(key))
        .with_timestamp(TS_MS)
    }

    pub fn tombstone(&self, id: i32) -> SourceRecord {
        let key = Struct::from_values(self.key.clone(), vec![Value::Int32(id)]);
        SourceRecord::new(None, None, self.topic.as_str(), None, Value::Null)
            .with_key(Some(self.key.clone()), Value::Struct(key))
    }

    pub fn truncate(&self) -> SourceRecord {
        SourceRecord::new(
            None,
            None,
            self.topic.as_str(),
            Some(self.envelope.clone()),
            Value::Struct(self.envelope("t", None, None, false)),
        )
    }
}

/// A heartbeat record (not an envelope).
pub fn heartbeat() -> SourceRecord {
    let key_schema = SchemaBuilder::struct_()
        .name("io.debezium.connector.common.ServerNameKey")
        .version(1)
        .field("serverName", SchemaBuilder::string().build())
        .build();
    let value_schema = SchemaBuilder::struct_()
        .name("io.debezium.connector.common.Heartbeat")
        .version(1)
        .field("ts_ms", SchemaBuilder::int64().build())
        .build();
    SourceRecord::new(
        None,
        None,
        "__debezium-heartbeat.server1",
        Some(value_schema.clone()),
        Value::Struct(Struct::from_values(value_schema, vec![Value::Int64(TS_MS)])),
    )
    .with_key(
        Some(key_schema.clone()),
        Value::Struct(Struct::from_values(
            key_schema,
            vec![Value::String("server1".into())],
        )),
    )
}

/// A `pg_logical_emit_message` record as the PostgreSQL connector emits
/// it (`binary.handling.mode=bytes`).
pub fn message(prefix: &str, content: &[u8]) -> SourceRecord {
    let source = source_schema();
    let opt_str = || SchemaBuilder::string().optional().build();
    let key_schema = SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.MessageKey")
        .version(1)
        .field("prefix", opt_str())
        .build();
    let block = SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.Message")
        .version(1)
        .field("prefix", opt_str())
        .field("content", SchemaBuilder::bytes().optional().build())
        .build();
    let value_schema = SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.MessageValue")
        .version(1)
        .field("op", SchemaBuilder::string().build())
        .field("ts_ms", SchemaBuilder::int64().optional().build())
        .field("source", source.clone())
        .field("transaction", transaction_schema())
        .field("message", block.clone())
        .build();
    let t = table("server1..", vec![("id", SchemaBuilder::int32().build())]);
    let mut src = t.source(5555).into_values();
    src[9] = Value::String(String::new().into());
    src[10] = Value::String(String::new().into());
    let value = Struct::from_values(
        value_schema.clone(),
        vec![
            Value::String("m".into()),
            Value::Int64(TS_MS),
            Value::Struct(Struct::from_values(source, src)),
            Value::Null,
            Value::Struct(Struct::from_values(
                block,
                vec![Value::String(prefix.into()), Value::Bytes(content.to_vec())],
            )),
        ],
    );
    SourceRecord::new(
        None,
        None,
        "server1.message",
        Some(value_schema),
        Value::Struct(value),
    )
    .with_key(
        Some(key_schema.clone()),
        Value::Struct(Struct::from_values(
            key_schema,
            vec![Value::String(prefix.into())],
        )),
    )
    .with_timestamp(TS_MS)
}

pub fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The plugin of a class name, as the worker finds it.
pub fn plugin(class: &str) -> Arc<dyn TransformPlugin> {
    sluice_transforms::all_plugins()
        .into_iter()
        .find(|p| p.class_name() == class)
        .unwrap_or_else(|| panic!("no plugin {class}"))
}

/// A configured transform.
pub fn transform(class: &str, pairs: &[(&str, &str)]) -> Box<dyn Transform> {
    let mut p = props(pairs);
    p.insert("type".into(), class.into());
    plugin(class)
        .create(&p)
        .unwrap_or_else(|e| panic!("{class}: {e}"))
}

pub fn apply(t: &dyn Transform, r: SourceRecord) -> Option<SourceRecord> {
    t.apply(r).expect("transform failed")
}

pub fn value(r: &SourceRecord) -> &Struct {
    r.value.as_struct().expect("struct value")
}

pub fn header<'a>(r: &'a SourceRecord, key: &str) -> Option<&'a Header> {
    r.headers.iter().rev().find(|h| h.key == key)
}

pub fn field_names(schema: &SchemaRef) -> Vec<&str> {
    schema.fields.iter().map(|f| f.name.as_str()).collect()
}
