//! Parsing and normalizing Avro schema text.
//!
//! apache-avro validates the schema (names, types, defaults) and gives the
//! parsed form compatibility checks work on. What is stored and served is
//! the submitted JSON, normalized without losing anything: whitespace is
//! removed, a primitive written as `{"type":"string"}` becomes `"string"`,
//! and the keys of schemas and fields are put in one fixed order. Custom
//! properties (Kafka Connect's `connect.name`, `connect.parameters`, …)
//! are kept: apache-avro's own serialization would drop some of them, and
//! consumers need them to rebuild Connect schemas. Two texts that differ
//! only in layout or key order therefore get the same id, as they do in
//! Confluent's registry.

use apache_avro::Schema;
use serde_json::{Map, Value};

/// A validated schema.
pub(crate) struct ParsedSchema {
    /// The normalized text: what is stored, served and compared.
    pub canonical: String,
    pub avro: Schema,
}

/// Validates and normalizes Avro schema text. The error is the reason.
pub(crate) fn parse(text: &str) -> Result<ParsedSchema, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let avro = Schema::parse(&json).map_err(|e| e.to_string())?;
    let canonical = serde_json::to_string(&normalize_schema(json)).map_err(|e| e.to_string())?;
    Ok(ParsedSchema { canonical, avro })
}

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// Key order for schema objects, as Avro Java's `Schema.toString` writes
/// them; other keys — properties, including `logicalType`, `precision` and
/// `scale`, which Java keeps as properties — follow in their given order,
/// so the text a Confluent client (or sluice's converter) sends comes back
/// unchanged.
const SCHEMA_KEYS: [&str; 11] = [
    "type",
    "name",
    "namespace",
    "doc",
    "aliases",
    "fields",
    "symbols",
    "default",
    "items",
    "values",
    "size",
];

/// Key order for record fields.
const FIELD_KEYS: [&str; 6] = ["name", "type", "doc", "default", "order", "aliases"];

fn normalize_schema(value: Value) -> Value {
    match value {
        Value::Array(branches) => {
            Value::Array(branches.into_iter().map(normalize_schema).collect())
        }
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(t)) = map.get("type") {
                    if PRIMITIVES.contains(&t.as_str()) {
                        return Value::String(t.clone());
                    }
                }
            }
            let map = reorder(map, &SCHEMA_KEYS);
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let v = match k.as_str() {
                    "fields" => match v {
                        Value::Array(fields) => {
                            Value::Array(fields.into_iter().map(normalize_field).collect())
                        }
                        other => other,
                    },
                    "items" | "values" => normalize_schema(v),
                    "type" if v.is_object() || v.is_array() => normalize_schema(v),
                    _ => v,
                };
                out.insert(k, v);
            }
            Value::Object(out)
        }
        other => other,
    }
}

fn normalize_field(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let map = reorder(map, &FIELD_KEYS);
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let v = if k == "type" { normalize_schema(v) } else { v };
                out.insert(k, v);
            }
            Value::Object(out)
        }
        other => other,
    }
}

fn reorder(mut map: Map<String, Value>, order: &[&str]) -> Map<String, Value> {
    let mut out = Map::with_capacity(map.len());
    for key in order {
        if let Some(v) = map.shift_remove(*key) {
            out.insert((*key).to_string(), v);
        }
    }
    out.extend(map);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_key_order_do_not_matter() {
        let a = parse(
            r#"{ "type": "record", "name": "r",
                 "fields": [ {"name": "a", "type": {"type": "int"}} ] }"#,
        )
        .unwrap();
        let b =
            parse(r#"{"fields":[{"type":"int","name":"a"}],"name":"r","type":"record"}"#).unwrap();
        assert_eq!(a.canonical, b.canonical);
        assert_eq!(
            a.canonical,
            r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}"#
        );
    }

    #[test]
    fn custom_properties_are_kept() {
        let text = r#"{"type":"record","name":"Value","namespace":"db.public.t","fields":[{"name":"ts","type":{"type":"string","connect.version":1,"connect.name":"io.debezium.time.ZonedTimestamp"}},{"name":"n","type":["null",{"type":"bytes","logicalType":"decimal","precision":10,"scale":2,"connect.parameters":{"scale":"2"}}],"default":null}],"connect.name":"db.public.t.Value"}"#;
        let parsed = parse(text).unwrap();
        let json: Value = serde_json::from_str(&parsed.canonical).unwrap();
        assert_eq!(json["connect.name"], "db.public.t.Value");
        assert_eq!(
            json["fields"][0]["type"]["connect.name"],
            "io.debezium.time.ZonedTimestamp"
        );
        assert_eq!(
            json["fields"][1]["type"][1]["connect.parameters"]["scale"],
            "2"
        );
    }

    #[test]
    fn primitives_and_errors() {
        assert_eq!(
            parse(r#"{"type":"string"}"#).unwrap().canonical,
            r#""string""#
        );
        assert_eq!(parse(r#""long""#).unwrap().canonical, r#""long""#);
        assert!(parse("{").is_err());
        assert!(parse(r#"{"type":"record","name":"r"}"#).is_err());
        assert!(parse(r#""no_such_type""#).is_err());
        // A default that does not fit the field's type.
        assert!(parse(
            r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int","default":"x"}]}"#
        )
        .is_err());
    }
}
