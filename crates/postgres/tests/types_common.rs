//! Shared helpers of the `types_*` tests: reading the case files of
//! `testdata/postgres-types/`, and rendering schemas and values the way
//! Kafka's `JsonConverter` does.

#![allow(dead_code)]

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{json, Map as JsonMap, Value as Json};
use sluice_connect_api::{Schema, SchemaType, Value};
use sluice_postgres::types::{CatalogRow, TypeRegistry, TypeSettings};

/// `TypeSettings` from Debezium configuration keys.
pub fn settings_from(props: &BTreeMap<String, String>) -> TypeSettings {
    let mut s = TypeSettings::default();
    for (k, v) in props {
        match k.as_str() {
            "decimal.handling.mode" => s.decimal = v.parse().unwrap(),
            "time.precision.mode" => s.time_precision = v.parse().unwrap(),
            "binary.handling.mode" => s.binary = v.parse().unwrap(),
            "interval.handling.mode" => s.interval = v.parse().unwrap(),
            "hstore.handling.mode" => s.hstore = v.parse().unwrap(),
            "money.fraction.digits" => s.money_fraction_digits = v.parse().unwrap(),
            "unavailable.value.placeholder" => {
                s.unavailable_value_placeholder = v.as_bytes().to_vec()
            }
            "include.unknown.datatypes" => s.include_unknown_datatypes = v.parse().unwrap(),
            other => panic!("unknown setting {other}"),
        }
    }
    s
}

pub fn settings_map(json: Option<&Json>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Json::Object(m)) = json {
        for (k, v) in m {
            out.insert(
                k.clone(),
                v.as_str().expect("setting values are strings").to_string(),
            );
        }
    }
    out
}

/// A catalog row from the test data.
pub fn catalog_row(j: &Json) -> CatalogRow {
    let byte = |k: &str| j[k].as_str().unwrap().as_bytes()[0];
    CatalogRow {
        oid: j["oid"].as_u64().unwrap() as u32,
        typname: j["typname"].as_str().unwrap().to_string(),
        nspname: j["nspname"].as_str().unwrap().to_string(),
        typtype: byte("typtype"),
        typcategory: byte("typcategory"),
        typelem: j["typelem"].as_u64().unwrap() as u32,
        typbasetype: j["typbasetype"].as_u64().unwrap() as u32,
        typtypmod: j["typtypmod"].as_i64().unwrap() as i32,
        enum_labels: j["enum_labels"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect()),
    }
}

/// `numeric(10,2)`, `_varchar(10)`, `timestamp(3)` → (type name, atttypmod),
/// with PostgreSQL's typmod encodings.
pub fn parse_type_spec(spec: &str) -> (String, i32) {
    let Some(open) = spec.find('(') else {
        return (spec.to_string(), -1);
    };
    let name = &spec[..open];
    let mods: Vec<i32> = spec[open + 1..spec.len() - 1]
        .split(',')
        .map(|m| m.trim().parse().unwrap())
        .collect();
    let base = name.trim_start_matches('_');
    let typmod = match base {
        "numeric" => ((mods[0] << 16) | mods.get(1).copied().unwrap_or(0)) + 4,
        "varchar" | "bpchar" => mods[0] + 4,
        "bit" | "varbit" | "time" | "timetz" | "timestamp" | "timestamptz" => mods[0],
        other => panic!("no typmod rule for {other}"),
    };
    (name.to_string(), typmod)
}

/// The OID of a type by name: built-in (`pg_catalog`) first, then any
/// namespace.
pub fn oid_by_name(registry: &TypeRegistry, user_types: &[CatalogRow], name: &str) -> u32 {
    if let Some(t) = registry.find("pg_catalog", name) {
        return t.oid;
    }
    user_types
        .iter()
        .find(|r| r.typname == name)
        .unwrap_or_else(|| panic!("type {name} not found"))
        .oid
}

fn float_json(v: f64) -> Json {
    if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(v)
    }
}

/// Kafka `JsonConverter.asJsonSchema`.
pub fn schema_json(schema: &Schema) -> Json {
    let mut m = JsonMap::new();
    m.insert("type".into(), json!(schema.schema_type.name()));
    m.insert("optional".into(), json!(schema.optional));
    if let Some(n) = &schema.name {
        m.insert("name".into(), json!(n));
    }
    if let Some(v) = schema.version {
        m.insert("version".into(), json!(v));
    }
    if let Some(d) = &schema.doc {
        m.insert("doc".into(), json!(d));
    }
    if !schema.parameters.is_empty() {
        let mut p = JsonMap::new();
        for (k, v) in &schema.parameters {
            p.insert(k.clone(), json!(v));
        }
        m.insert("parameters".into(), Json::Object(p));
    }
    if let Some(d) = &schema.default {
        m.insert("default".into(), value_json(d, schema));
    }
    match schema.schema_type {
        SchemaType::Array => {
            m.insert("items".into(), schema_json(schema.value_schema().unwrap()));
        }
        SchemaType::Map => {
            m.insert("keys".into(), schema_json(schema.key_schema().unwrap()));
            m.insert("values".into(), schema_json(schema.value_schema().unwrap()));
        }
        SchemaType::Struct => {
            let fields = schema
                .fields
                .iter()
                .map(|f| {
                    let mut fj = schema_json(&f.schema);
                    fj.as_object_mut()
                        .unwrap()
                        .insert("field".into(), json!(f.name));
                    fj
                })
                .collect();
            m.insert("fields".into(), Json::Array(fields));
        }
        _ => {}
    }
    Json::Object(m)
}

/// Kafka `JsonConverter.convertToJson` (decimals as base64, the default
/// `decimal.format`; non-finite floats as strings, as Jackson writes them).
pub fn value_json(value: &Value, schema: &Schema) -> Json {
    let b64 = |b: &[u8]| json!(base64::engine::general_purpose::STANDARD.encode(b));
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => json!(b),
        Value::Int8(v) => json!(v),
        Value::Int16(v) => json!(v),
        Value::Int32(v) => json!(v),
        Value::Int64(v) => json!(v),
        Value::Float32(v) => {
            if v.is_finite() {
                // Jackson renders the float's own shortest digits.
                float_json(v.to_string().parse::<f64>().unwrap())
            } else {
                float_json(f64::from(*v))
            }
        }
        Value::Float64(v) => float_json(*v),
        Value::String(s) => json!(s.as_str()),
        Value::Bytes(b) => b64(b),
        Value::Decimal(d) => b64(&d.unscaled_bytes()),
        Value::Array(items) => {
            let item_schema = schema.value_schema().expect("array schema");
            Json::Array(items.iter().map(|v| value_json(v, item_schema)).collect())
        }
        Value::Map(entries) => {
            let ks = schema.key_schema().expect("map key schema");
            let vs = schema.value_schema().expect("map value schema");
            if ks.schema_type == SchemaType::String {
                let mut m = JsonMap::new();
                for (k, v) in entries {
                    m.insert(k.as_str().unwrap().to_string(), value_json(v, vs));
                }
                Json::Object(m)
            } else {
                Json::Array(
                    entries
                        .iter()
                        .map(|(k, v)| json!([value_json(k, ks), value_json(v, vs)]))
                        .collect(),
                )
            }
        }
        Value::Struct(s) => {
            let mut m = JsonMap::new();
            for (f, v) in s.schema().fields.iter().zip(s.values()) {
                m.insert(f.name.clone(), value_json(v, &f.schema));
            }
            Json::Object(m)
        }
    }
}

/// Numbers compare by value (3 == 3.0), everything else structurally.
pub fn json_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                x == y
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}
