//! Debezium's PostgreSQL change events: schemas (key, value, envelope,
//! source block, transaction block, heartbeat, transaction metadata,
//! logical decoding messages) and the builders that fill them.
//!
//! Schemas are built once per table version and shared; building an event
//! allocates the key/value structs and nothing per field beyond the values.

use std::sync::Arc;

use sluice_connect_api::data::SchemaBuilder;
use sluice_connect_api::{SchemaRef, Struct, Text, TextBuilder, Value};

use crate::types::ColumnMapping;

pub const CONNECTOR_NAME: &str = "postgresql";
/// What `source.version` says: sluice's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Replaces characters Kafka does not allow in topic names with `_`, as
/// Debezium's topic naming strategy does.
pub fn sanitize_topic(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
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

/// The schemas every table shares.
#[derive(Debug, Clone)]
pub struct CommonSchemas {
    pub source: SchemaRef,
    pub transaction_block: SchemaRef,
    pub heartbeat_key: SchemaRef,
    pub heartbeat_value: SchemaRef,
    pub tx_key: SchemaRef,
    pub tx_value: SchemaRef,
    pub tx_collection: SchemaRef,
    pub message_key: SchemaRef,
    pub message_block: SchemaRef,
    pub message_value: SchemaRef,
}

impl CommonSchemas {
    /// `message_content` is the schema of logical decoding message content
    /// under `binary.handling.mode` (bytes, or a string).
    pub fn new(message_content_is_string: bool) -> Self {
        let opt_i64 = || SchemaBuilder::int64().optional().build();
        let opt_str = || SchemaBuilder::string().optional().build();
        let str_ = || SchemaBuilder::string().build();
        let source = SchemaBuilder::struct_()
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
            .field("sequence", opt_str())
            .field("ts_us", opt_i64())
            .field("ts_ns", opt_i64())
            .field("schema", str_())
            .field("table", str_())
            .field("txId", opt_i64())
            .field("lsn", opt_i64())
            .field("xmin", opt_i64())
            .build();
        let transaction_block = SchemaBuilder::struct_()
            .optional()
            .name("event.block")
            .version(1)
            .field("id", str_())
            .field("total_order", SchemaBuilder::int64().build())
            .field("data_collection_order", SchemaBuilder::int64().build())
            .build();
        let heartbeat_key = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.ServerNameKey")
            .version(1)
            .field("serverName", str_())
            .build();
        let heartbeat_value = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.Heartbeat")
            .version(1)
            .field("ts_ms", SchemaBuilder::int64().build())
            .build();
        let tx_collection = SchemaBuilder::struct_()
            .optional()
            .name("event.collection")
            .version(1)
            .field("data_collection", str_())
            .field("event_count", SchemaBuilder::int64().build())
            .build();
        let tx_key = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.TransactionMetadataKey")
            .version(1)
            .field("id", str_())
            .build();
        let tx_value = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.TransactionMetadataValue")
            .version(1)
            .field("status", str_())
            .field("id", str_())
            .field("event_count", opt_i64())
            .field(
                "data_collections",
                SchemaBuilder::array(tx_collection.clone())
                    .optional()
                    .build(),
            )
            .field("ts_ms", SchemaBuilder::int64().build())
            .build();
        let message_key = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.MessageKey")
            .version(1)
            .field("prefix", opt_str())
            .build();
        let content = if message_content_is_string {
            opt_str()
        } else {
            SchemaBuilder::bytes().optional().build()
        };
        let message_block = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Message")
            .version(1)
            .field("prefix", opt_str())
            .field("content", content)
            .build();
        let message_value = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.MessageValue")
            .version(1)
            .field("op", str_())
            .field("ts_ms", opt_i64())
            .field("source", source.clone())
            .field("transaction", transaction_block.clone())
            .field("message", message_block.clone())
            .build();
        CommonSchemas {
            source,
            transaction_block,
            heartbeat_key,
            heartbeat_value,
            tx_key,
            tx_value,
            tx_collection,
            message_key,
            message_block,
            message_value,
        }
    }
}

/// The per-event parts of the source block.
#[derive(Debug, Clone)]
pub struct SourceInfo<'a> {
    pub ts_us: i64,
    pub last_commit_lsn: Option<u64>,
    pub lsn: Option<u64>,
    pub schema: &'a str,
    pub table: &'a str,
    pub tx_id: Option<i64>,
    /// `source.snapshot`: a snapshot marker (`"first"`, `"true"`, …), or
    /// `None` for streamed changes (rendered as the schema default
    /// `"false"`).
    pub snapshot: Option<&'static str>,
}

/// Connector-wide parts of the source block. `Text` so that each event's
/// copy is a clone of an inline string (no allocation) when short.
#[derive(Debug, Clone)]
pub struct SourceFields {
    pub name: Text,
    pub db: Text,
}

impl SourceFields {
    /// Debezium's PostgreSQL source block.
    pub fn build(&self, schemas: &CommonSchemas, info: &SourceInfo<'_>) -> Struct {
        // `["<last commit lsn>","<lsn>"]`, built on the stack without the
        // formatting machinery: this runs once per event. Usually short
        // enough for an inline `Text`.
        let mut sequence = TextBuilder::new();
        sequence.push('[');
        push_quoted_lsn(&mut sequence, info.last_commit_lsn);
        sequence.push(',');
        push_quoted_lsn(&mut sequence, info.lsn);
        sequence.push(']');
        Struct::from_values(
            schemas.source.clone(),
            vec![
                Value::String(Text::from_static(VERSION)),
                Value::String(Text::from_static(CONNECTOR_NAME)),
                Value::String(self.name.clone()),
                Value::Int64(info.ts_us.div_euclid(1000)),
                info.snapshot
                    .map_or(Value::Null, |m| Value::String(Text::from_static(m))),
                Value::String(self.db.clone()),
                Value::String(sequence.finish()),
                Value::Int64(info.ts_us),
                Value::Int64(info.ts_us.saturating_mul(1000)),
                Value::String(info.schema.into()),
                Value::String(info.table.into()),
                info.tx_id.map_or(Value::Null, Value::Int64),
                info.lsn.map_or(Value::Null, |l| Value::Int64(l as i64)),
                Value::Null,
            ],
        )
    }
}

fn push_quoted_lsn(out: &mut TextBuilder, lsn: Option<u64>) {
    match lsn {
        None => out.push_str("null"),
        Some(l) => {
            let mut digits = [0u8; 20];
            let mut n = l;
            let mut i = digits.len();
            loop {
                i -= 1;
                digits[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            out.push('"');
            out.push_str(std::str::from_utf8(&digits[i..]).expect("ASCII digits"));
            out.push('"');
        }
    }
}

/// `schema.name.adjustment.mode` / `field.name.adjustment.mode`: how names
/// are made valid Avro names (Debezium's `SchemaNameAdjuster` and
/// `FieldNameAdjuster`). Avro names start with a letter or `_` and go on
/// with letters, digits and `_` (full names also `.`); `avro` replaces
/// every other character with `_`, `avro_unicode` with `_uXXXX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameAdjustment {
    #[default]
    None,
    Avro,
    AvroUnicode,
}

impl NameAdjustment {
    pub fn parse(mode: &str) -> NameAdjustment {
        match mode.trim().to_ascii_lowercase().as_str() {
            "avro" => NameAdjustment::Avro,
            "avro_unicode" => NameAdjustment::AvroUnicode,
            _ => NameAdjustment::None,
        }
    }

    fn adjust(self, name: &str, dots: bool) -> String {
        if self == NameAdjustment::None {
            return name.to_string();
        }
        let mut out = String::with_capacity(name.len());
        for (i, c) in name.chars().enumerate() {
            let first_ok = c == '_' || c.is_ascii_alphabetic();
            let ok = if i == 0 {
                first_ok
            } else {
                first_ok || c.is_ascii_digit() || (dots && c == '.')
            };
            if ok {
                out.push(c);
            } else if i == 0 && (c.is_ascii_digit() || (dots && c == '.')) {
                // Valid later but not first: Debezium prepends `_` (a name
                // starting `1srv` becomes `_1srv`).
                out.push('_');
                out.push(c);
            } else if self == NameAdjustment::AvroUnicode {
                out.push_str(&format!("_u{:04x}", c as u32));
            } else {
                out.push('_');
            }
        }
        out
    }

    /// A schema (full) name, dots kept.
    pub fn schema_name(self, name: &str) -> String {
        self.adjust(name, true)
    }

    /// A field name.
    pub fn field_name(self, name: &str) -> String {
        self.adjust(name, false)
    }
}

/// How one relation column lands in the event.
#[derive(Debug, Clone)]
pub struct ColumnPlan {
    pub name: String,
    /// `None` when the column is excluded (column filters) or its type is
    /// not mapped (Debezium leaves such columns out).
    pub mapping: Option<ColumnMapping>,
    pub value_index: Option<usize>,
    pub key_index: Option<usize>,
}

/// One table version's schemas and column plan.
#[derive(Debug, Clone)]
pub struct TableSchema {
    pub schema_name: String,
    pub table_name: String,
    pub topic: Arc<str>,
    pub key_schema: Option<SchemaRef>,
    pub value_schema: SchemaRef,
    pub envelope_schema: SchemaRef,
    /// Indexed like the relation's columns.
    pub columns: Vec<ColumnPlan>,
}

/// A column as the table builder sees it.
#[derive(Debug, Clone)]
pub struct ColumnInput {
    pub name: String,
    /// `None`: excluded or unmapped.
    pub mapping: Option<ColumnMapping>,
    /// Position in the key (0-based), if a key column.
    pub key_position: Option<usize>,
}

impl TableSchema {
    /// Builds the key (`<topic>.Key`), value (`<topic>.Value`) and envelope
    /// (`<topic>.Envelope`) schemas.
    pub fn build(
        topic: &str,
        schema_name: &str,
        table_name: &str,
        columns: Vec<ColumnInput>,
        common: &CommonSchemas,
        names: (NameAdjustment, NameAdjustment),
    ) -> TableSchema {
        let (schema_names, field_names) = names;
        let mut value =
            SchemaBuilder::struct_().name(schema_names.schema_name(&format!("{topic}.Value")));
        let mut plans = Vec::with_capacity(columns.len());
        let mut value_index = 0usize;
        let mut keyed: Vec<(usize, usize)> = Vec::new(); // (key position, column index)
        for (i, c) in columns.iter().enumerate() {
            let vi = match &c.mapping {
                Some(m) => {
                    value = value.field(field_names.field_name(&c.name), m.schema.clone());
                    value_index += 1;
                    Some(value_index - 1)
                }
                None => None,
            };
            if let (Some(pos), Some(_)) = (c.key_position, &c.mapping) {
                keyed.push((pos, i));
            }
            plans.push(ColumnPlan {
                name: c.name.clone(),
                mapping: c.mapping.clone(),
                value_index: vi,
                key_index: None,
            });
        }
        keyed.sort();
        let key_schema = if keyed.is_empty() {
            None
        } else {
            let mut key =
                SchemaBuilder::struct_().name(schema_names.schema_name(&format!("{topic}.Key")));
            for (ki, (_, ci)) in keyed.iter().enumerate() {
                let m = columns[*ci]
                    .mapping
                    .as_ref()
                    .expect("key columns are mapped");
                // Key fields are never optional in Debezium's key schema
                // (primary key columns are NOT NULL).
                key = key.field(field_names.field_name(&columns[*ci].name), m.schema.clone());
                plans[*ci].key_index = Some(ki);
            }
            Some(key.build())
        };
        let value_schema = value.optional().build();
        let envelope_schema = SchemaBuilder::struct_()
            .name(schema_names.schema_name(&format!("{topic}.Envelope")))
            .version(2)
            .field("before", value_schema.clone())
            .field("after", value_schema.clone())
            .field("source", common.source.clone())
            .field("transaction", common.transaction_block.clone())
            .field("op", SchemaBuilder::string().build())
            .field("ts_ms", SchemaBuilder::int64().optional().build())
            .field("ts_us", SchemaBuilder::int64().optional().build())
            .field("ts_ns", SchemaBuilder::int64().optional().build())
            .build();
        TableSchema {
            schema_name: schema_name.to_string(),
            table_name: table_name.to_string(),
            topic: Arc::from(topic),
            key_schema,
            value_schema,
            envelope_schema,
            columns: plans,
        }
    }

    /// Builds the envelope value.
    #[allow(clippy::too_many_arguments)]
    pub fn envelope(
        &self,
        op: &'static str,
        before: Option<Struct>,
        after: Option<Struct>,
        source: Struct,
        transaction: Option<Struct>,
        now_us: i64,
    ) -> Struct {
        Struct::from_values(
            self.envelope_schema.clone(),
            vec![
                before.map_or(Value::Null, Value::Struct),
                after.map_or(Value::Null, Value::Struct),
                Value::Struct(source),
                transaction.map_or(Value::Null, Value::Struct),
                Value::String(Text::from_static(op)),
                Value::Int64(now_us.div_euclid(1000)),
                Value::Int64(now_us),
                Value::Int64(now_us.saturating_mul(1000)),
            ],
        )
    }
}

/// The transaction block of a change event.
pub fn transaction_block(
    common: &CommonSchemas,
    id: Text,
    total_order: i64,
    collection_order: i64,
) -> Struct {
    Struct::from_values(
        common.transaction_block.clone(),
        vec![
            Value::String(id),
            Value::Int64(total_order),
            Value::Int64(collection_order),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_and_timestamps_follow_debezium() {
        let common = CommonSchemas::new(false);
        let fields = SourceFields {
            name: "server1".into(),
            db: "postgres".into(),
        };
        let s = fields.build(
            &common,
            &SourceInfo {
                ts_us: 1_700_000_000_123_456,
                last_commit_lsn: Some(100),
                lsn: Some(200),
                schema: "public",
                table: "t",
                tx_id: Some(7),
                snapshot: None,
            },
        );
        assert_eq!(
            s.get("sequence"),
            Some(&Value::String("[\"100\",\"200\"]".into()))
        );
        assert_eq!(s.get("ts_ms"), Some(&Value::Int64(1_700_000_000_123)));
        assert_eq!(
            s.get("ts_ns"),
            Some(&Value::Int64(1_700_000_000_123_456_000))
        );
        assert!(s.validate().is_ok());
        let s = fields.build(
            &common,
            &SourceInfo {
                ts_us: 0,
                last_commit_lsn: None,
                lsn: Some(5),
                schema: "",
                table: "",
                tx_id: None,
                snapshot: Some("last"),
            },
        );
        assert_eq!(s.get("snapshot"), Some(&Value::String("last".into())));
        assert_eq!(
            s.get("sequence"),
            Some(&Value::String("[null,\"5\"]".into()))
        );
    }

    #[test]
    fn lsns_in_the_sequence_render_as_decimal_strings() {
        for (v, want) in [
            (None, "null".to_string()),
            (Some(0), "\"0\"".to_string()),
            (Some(9), "\"9\"".to_string()),
            (Some(10), "\"10\"".to_string()),
            (Some(u64::MAX), format!("\"{}\"", u64::MAX)),
        ] {
            let mut s = TextBuilder::new();
            push_quoted_lsn(&mut s, v);
            assert_eq!(s.as_str(), want);
        }
    }

    #[test]
    fn names_are_adjusted_like_debeziums_adjusters() {
        let avro = NameAdjustment::Avro;
        assert_eq!(
            avro.schema_name("srv.public.my-table$1.Value"),
            "srv.public.my_table_1.Value"
        );
        assert_eq!(avro.schema_name("1srv.t.Key"), "_1srv.t.Key");
        assert_eq!(avro.field_name("order.total-€"), "order_total__");
        assert_eq!(NameAdjustment::AvroUnicode.field_name("a-b"), "a_u002db");
        assert_eq!(NameAdjustment::None.field_name("a-b"), "a-b");
        assert_eq!(NameAdjustment::parse("AVRO"), avro);
    }

    #[test]
    fn topics_are_sanitized() {
        assert_eq!(
            sanitize_topic("srv.public.my table$"),
            "srv.public.my_table_"
        );
    }
}
