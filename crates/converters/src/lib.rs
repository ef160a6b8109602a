//! sluice converters: Connect data ⇄ bytes.
//!
//! * [`JsonConverter`] — Kafka Connect's `org.apache.kafka.connect.json.JsonConverter`,
//!   with and without the `{"schema":…,"payload":…}` envelope.
//! * [`StringConverter`] — Kafka Connect's `org.apache.kafka.connect.storage.StringConverter`.
//! * [`AvroConverter`] — Confluent's `io.confluent.connect.avro.AvroConverter`
//!   (Avro binary in Confluent's wire format, schemas in a schema registry).
//! * [`create_converter`] — look a converter up by Kafka class name or short alias.

pub mod avro;
mod cache;
mod java;
pub mod json;
pub mod string;

use std::sync::Arc;

use sluice_connect_api::{ConfigDef, ConnectError, Converter, Props, Result};

pub use avro::AvroConverter;
pub use json::{DecimalFormat, JsonConverter};
pub use string::StringConverter;

/// Kafka's class name of the JSON converter.
pub const JSON_CONVERTER_CLASS: &str = "org.apache.kafka.connect.json.JsonConverter";
/// Kafka's class name of the string converter.
pub const STRING_CONVERTER_CLASS: &str = "org.apache.kafka.connect.storage.StringConverter";
/// Confluent's class name of the Avro converter.
pub const AVRO_CONVERTER_CLASS: &str = "io.confluent.connect.avro.AvroConverter";

/// Every converter [`create_converter`] knows: (Kafka class name, short alias).
pub const KNOWN_CONVERTERS: &[(&str, &str)] = &[
    (JSON_CONVERTER_CLASS, "json"),
    (STRING_CONVERTER_CLASS, "string"),
    (AVRO_CONVERTER_CLASS, "avro"),
];

#[derive(Clone, Copy)]
enum Kind {
    Json,
    String,
    Avro,
}

fn kind_of(class: &str) -> Option<Kind> {
    let class = class.trim();
    let kind = |name: &str| match name {
        JSON_CONVERTER_CLASS => Some(Kind::Json),
        STRING_CONVERTER_CLASS => Some(Kind::String),
        AVRO_CONVERTER_CLASS => Some(Kind::Avro),
        _ => None,
    };
    kind(class).or_else(|| {
        KNOWN_CONVERTERS
            .iter()
            .find(|(_, alias)| alias.eq_ignore_ascii_case(class))
            .and_then(|(name, _)| kind(name))
    })
}

fn unknown(class: &str) -> ConnectError {
    let known: Vec<String> = KNOWN_CONVERTERS
        .iter()
        .map(|(c, a)| format!("{c} ({a})"))
        .collect();
    ConnectError::config(format!(
        "unknown converter class \"{}\"; known converters: {}",
        class.trim(),
        known.join(", ")
    ))
}

/// Creates a converter from its Kafka class name (e.g.
/// `org.apache.kafka.connect.json.JsonConverter`) or short alias (`json`,
/// `string`, `avro`). `props` are the converter's own properties, with the
/// `key.converter.` / `value.converter.` prefix already removed.
pub fn create_converter(class: &str, props: &Props, is_key: bool) -> Result<Arc<dyn Converter>> {
    match kind_of(class).ok_or_else(|| unknown(class))? {
        Kind::Json => Ok(Arc::new(JsonConverter::new(props, is_key)?)),
        Kind::String => Ok(Arc::new(StringConverter::new(props, is_key)?)),
        Kind::Avro => Ok(Arc::new(AvroConverter::new(props, is_key)?)),
    }
}

/// The configuration keys of a converter, by class name or alias (for REST
/// validation and the generated reference).
pub fn converter_config_def(class: &str) -> Result<ConfigDef> {
    match kind_of(class).ok_or_else(|| unknown(class))? {
        Kind::Json => Ok(JsonConverter::config_def()),
        Kind::String => Ok(StringConverter::config_def()),
        Kind::Avro => Ok(AvroConverter::config_def()),
    }
}
