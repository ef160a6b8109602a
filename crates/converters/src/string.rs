//! Kafka Connect's `org.apache.kafka.connect.storage.StringConverter`.
//!
//! `from_connect` ignores the schema and writes the value's text, as Kafka
//! writes `value.toString()`:
//!
//! | value | text |
//! |---|---|
//! | string | itself |
//! | boolean, integers | `true`, `42` |
//! | float32 / float64 | `Float.toString` / `Double.toString` (`1.0`, `1.0E10`, `NaN`) |
//! | decimal | `BigDecimal.toString()` (`1.56`, `1E-8`) |
//! | array | `[a, b, c]` (Java `List.toString`) |
//! | map | `{k1=v1, k2=v2}` (Java `Map.toString`, entries in order) |
//! | struct | `Struct{a=1,b=x}`, null fields left out (Connect's `Struct.toString`) |
//! | null inside a container | `null` |
//! | bytes | base64 (Java would print the array's identity, `[B@1b6d3586`, which is useless and not deterministic) |
//!
//! Logical types are printed by their physical value: a Date is its day
//! number, a Timestamp its epoch milliseconds (Java would print
//! `java.util.Date.toString()` in the JVM's time zone).
//!
//! `to_connect` returns an optional string schema and the text; a null
//! record is a null string. Invalid UTF-8 is replaced with U+FFFD, as Java's
//! decoder does.

use std::sync::Arc;

use base64::Engine as _;
use sluice_connect_api::config::{ConfigKey, ConfigType, ConfigValue, Importance, Validator};
use sluice_connect_api::{
    ConfigDef, ConnectError, ContentType, Converter, Props, Result, SchemaBuilder, SchemaRef, Value,
};

use crate::java;

/// `converter.encoding`
pub const ENCODING_CONFIG: &str = "converter.encoding";

/// Kafka Connect's string converter (UTF-8 only).
#[derive(Debug)]
pub struct StringConverter {
    is_key: bool,
    schema: SchemaRef,
}

/// Java's names for UTF-8.
fn is_utf8_name(name: &str) -> bool {
    ["UTF-8", "UTF8", "unicode-1-1-utf-8"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name.trim()))
}

fn check_encoding(value: &ConfigValue) -> std::result::Result<(), String> {
    match value {
        ConfigValue::String(s) if !is_utf8_name(s) => {
            Err("sluice's StringConverter supports only the UTF-8 encoding".to_string())
        }
        _ => Ok(()),
    }
}

impl StringConverter {
    /// The converter's configuration keys (Kafka's `StringConverterConfig`).
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new(crate::json::CONVERTER_TYPE_CONFIG, ConfigType::String)
                    .optional()
                    .importance(Importance::Low)
                    .validator(Validator::OneOf(&["key", "value", "header"]))
                    .doc("How this converter will be used. Set by the worker from whether it converts keys or values."),
            )
            .define(
                ConfigKey::new(ENCODING_CONFIG, ConfigType::String)
                    .default("UTF-8")
                    .importance(Importance::High)
                    .validator(Validator::Custom(check_encoding))
                    .doc("The name of the character set to use for encoding strings as byte arrays. Only UTF-8 is supported."),
            )
    }

    /// A converter configured from `props` (prefix already removed).
    pub fn new(props: &Props, is_key: bool) -> Result<Self> {
        Self::config_def().parse(props).map_err(|issues| {
            let text: Vec<String> = issues.iter().map(|i| i.message.clone()).collect();
            ConnectError::config(format!("StringConverter: {}", text.join("; ")))
        })?;
        Ok(StringConverter {
            is_key,
            schema: SchemaBuilder::string().optional().build(),
        })
    }

    pub fn is_key(&self) -> bool {
        self.is_key
    }
}

/// Appends the Java `toString()` rendering of `value`.
pub(crate) fn push_java_string(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int8(v) => java::push_i64(out, i64::from(*v)),
        Value::Int16(v) => java::push_i64(out, i64::from(*v)),
        Value::Int32(v) => java::push_i64(out, i64::from(*v)),
        Value::Int64(v) => java::push_i64(out, *v),
        Value::Float32(v) => java::push_float(out, *v),
        Value::Float64(v) => java::push_double(out, *v),
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Bytes(b) => {
            let engine = &base64::engine::general_purpose::STANDARD;
            out.extend_from_slice(engine.encode(b).as_bytes());
        }
        Value::Decimal(d) => java::push_big_decimal(out, d),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                push_java_string(out, item);
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                push_java_string(out, k);
                out.push(b'=');
                push_java_string(out, v);
            }
            out.push(b'}');
        }
        Value::Struct(st) => {
            out.extend_from_slice(b"Struct{");
            let mut first = true;
            for (field, v) in st.schema().fields.iter().zip(st.values()) {
                if v.is_null() {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(field.name.as_bytes());
                out.push(b'=');
                push_java_string(out, v);
            }
            out.push(b'}');
        }
    }
}

impl Converter for StringConverter {
    fn content_type(&self) -> ContentType {
        ContentType::Text
    }

    fn from_connect(
        &self,
        _topic: &str,
        _schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        match value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.as_bytes().to_vec())),
            other => {
                let mut out = Vec::new();
                push_java_string(&mut out, other);
                Ok(Some(out))
            }
        }
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value)> {
        let value = match bytes {
            None => Value::Null,
            Some(b) => Value::String(String::from_utf8_lossy(b).into()),
        };
        Ok((Some(Arc::clone(&self.schema)), value))
    }
}
