//! PostgreSQL logical decoding messages (`pg_logical_emit_message`) as the
//! PostgreSQL connector emits them (op `m`, value schema
//! `io.debezium.connector.postgresql.MessageValue` with a `message` block of
//! `prefix` and `content`), and `DecodeLogicalDecodingMessageContent`, the
//! Debezium transform that turns their JSON content into an envelope with
//! an `after` row (op `c`) that the outbox EventRouter can route.

use std::sync::Arc;

use sluice_connect_api::config::{
    ConfigDef, ConfigKey, ConfigType, ConfigValues, Importance, Props,
};
use sluice_connect_api::{
    ConnectError, Result, Schema, SchemaBuilder, SchemaRef, SchemaType, SourceRecord, Struct,
    Transform, TransformPlugin, Value,
};

use super::json::{JsonSchemaData, NullBehavior};
use super::util::{ptr, take, Cache, Interner, ENVELOPE_SUFFIX};
use crate::common::{issues_error, SmtPlugin};

/// The value schema name of PostgreSQL message events.
pub const MESSAGE_VALUE_SCHEMA: &str = "io.debezium.connector.postgresql.MessageValue";

pub const DECODE_CLASS: &str =
    "io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent";

/// True when the record is a PostgreSQL logical decoding message event.
pub fn is_message(record: &SourceRecord) -> bool {
    record
        .value_schema
        .as_ref()
        .is_some_and(|s| s.is_named(MESSAGE_VALUE_SCHEMA))
        && record.value.as_struct().is_some()
}

/// The `message` block of a message event: `(prefix, content)`.
pub fn message_parts(value: &Struct) -> Option<(&str, &Value)> {
    let block = value.get("message")?.as_struct()?;
    let prefix = block.get("prefix").and_then(Value::as_str).unwrap_or("");
    Some((prefix, block.get("content").unwrap_or(&Value::Null)))
}

/// The message content as text: bytes as UTF-8; a string (under
/// `binary.handling.mode` `base64`, `base64-url-safe` or `hex`) is decoded
/// first unless it already is a JSON document.
pub fn content_text(content: &Value) -> std::result::Result<String, String> {
    let bytes = match content {
        Value::Bytes(b) => b.clone(),
        Value::String(s) => {
            let t = s.trim_start();
            if t.starts_with('{') || t.starts_with('[') {
                return Ok(s.to_string());
            }
            if !s.is_empty() && s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                decode_hex(s)
            } else {
                decode_base64(s).ok_or("content is neither JSON nor base64 / hex")?
            }
        }
        Value::Null => return Err("the message has no content".into()),
        other => return Err(format!("unexpected content type {}", other.type_name())),
    };
    String::from_utf8(bytes).map_err(|_| "content is not UTF-8".into())
}

fn decode_hex(s: &str) -> Vec<u8> {
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| {
            let d = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            d(p[0]) << 4 | d(p[1])
        })
        .collect()
}

/// Standard or URL-safe base64, padding optional.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b'\r' | b'\n' => continue,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Parses message content as a JSON object and infers its schema (no
/// schema name, as Debezium's `toConnectSchema(null, …)`), interned so
/// that equal shapes share one schema.
pub(crate) fn decode_content(
    data: &JsonSchemaData,
    interner: &Interner,
    text: &str,
) -> std::result::Result<Struct, String> {
    let t = text.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return Err(format!(
            "Unable to parse logical decoding message content JSON string '{text}'"
        ));
    }
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if !json.is_object() {
        return Err("the logical decoding message content is not a JSON object".into());
    }
    let schema = data
        .schema(None, &json)?
        .ok_or("the logical decoding message content has no schema")?;
    let schema = interner.intern(schema);
    data.struct_value(&json, &schema)
}

/// `DecodeLogicalDecodingMessageContent`.
pub struct DecodeLogicalDecodingMessageContent {
    data: JsonSchemaData,
    interner: Interner,
    schemas: Cache<(usize, usize), (SchemaRef, SchemaRef, SchemaRef)>,
}

pub fn decode_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new("fields.null.include", ConfigType::Boolean)
            .default("false")
            .importance(Importance::Medium)
            .doc("Keep fields whose JSON value is null (as optional bytes); by default they are left out."),
    )
}

impl DecodeLogicalDecodingMessageContent {
    /// Parses `props` (the transform's keys) and builds the transform.
    pub fn new(props: &Props) -> Result<Self> {
        let values = decode_config_def()
            .parse(props)
            .map_err(|i| issues_error(&i))?;
        Ok(Self::from_values(&values))
    }

    pub fn from_values(values: &ConfigValues) -> Self {
        DecodeLogicalDecodingMessageContent {
            data: JsonSchemaData {
                null: if values.get_bool("fields.null.include") {
                    NullBehavior::OptionalBytes
                } else {
                    NullBehavior::Ignore
                },
                ..Default::default()
            },
            interner: Interner::new(256),
            schemas: Cache::new(256),
        }
    }

    /// `<MessageValue>.Envelope`: the message value's fields without
    /// `message`, then `after` with the content's schema.
    fn envelope_schema(message: &Schema, content: &SchemaRef) -> Result<SchemaRef> {
        let mut b = SchemaBuilder::struct_().name(format!(
            "{}{ENVELOPE_SUFFIX}",
            message.name.as_deref().unwrap_or_default()
        ));
        for f in message.fields.iter().filter(|f| f.name != "message") {
            b = b.field(f.name.clone(), f.schema.clone());
        }
        if message.field("after").is_some() {
            return Err(ConnectError::data(
                "the message value already has an `after` field",
            ));
        }
        Ok(b.field("after", content.clone()).build())
    }
}

impl Transform for DecodeLogicalDecodingMessageContent {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        if !is_message(&record) {
            return Ok(Some(record));
        }
        let value_schema = record.value_schema.clone().expect("checked by is_message");
        let Value::Struct(value) = take(&mut record.value) else {
            unreachable!("checked by is_message")
        };
        let (_, content) = message_parts(&value)
            .ok_or_else(|| ConnectError::data("message event without a message block"))?;
        let content_is_bytes = value_schema
            .field("message")
            .and_then(|m| m.schema.field("content"))
            .is_some_and(|c| c.schema.schema_type == SchemaType::Bytes);
        if !content_is_bytes {
            return Err(ConnectError::data(
                "The content of a logical decoding message is non-binary",
            ));
        }
        let text = content_text(content).map_err(ConnectError::data)?;
        let row = decode_content(&self.data, &self.interner, &text).map_err(ConnectError::data)?;
        let (_, _, schema) =
            self.schemas
                .get_or_try((ptr(&value_schema), ptr(row.schema())), || {
                    Self::envelope_schema(&value_schema, row.schema())
                        .map(|s| (value_schema.clone(), row.schema().clone(), s))
                })?;
        let mut row = Some(row);
        let mut old = value.into_values().into_iter();
        let old_fields = &value_schema.fields;
        let mut values = Vec::with_capacity(schema.fields.len());
        for (f, v) in old_fields.iter().zip(&mut old) {
            match f.name.as_str() {
                "message" => {}
                "op" => values.push(Value::String("c".into())),
                _ => values.push(v),
            }
        }
        values.push(Value::Struct(row.take().expect("once")));
        record.value_schema = Some(schema.clone());
        record.value = Value::Struct(Struct::from_values(schema, values));
        record.key = Value::Null;
        record.key_schema = None;
        Ok(Some(record))
    }
}

/// The plugin
/// (`io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent`).
pub fn decode_plugin() -> Arc<dyn TransformPlugin> {
    SmtPlugin::define(
        DECODE_CLASS,
        &["DecodeLogicalDecodingMessageContent"],
        decode_config_def(),
        |v| Ok(Box::new(DecodeLogicalDecodingMessageContent::from_values(v)) as Box<dyn Transform>),
    )
}
