//! `org.apache.kafka.connect.transforms.Cast$Key` / `$Value`: casts fields
//! (`spec=field:type,…`) or the whole key/value (`spec=type`) to int8, int16,
//! int32, int64, float32, float64, boolean or string, with Java's
//! conversions: numbers narrow by truncation and wrap-around, booleans are
//! 1/0, a number is true when its long value is not 0, strings parse
//! (`Integer.parseInt`, `Boolean.parseBoolean`, …), bytes become base64,
//! Decimals render with `BigDecimal.toString()`, Dates/Times/Timestamps
//! render as ISO-8601 (`Values.dateFormatFor`).

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use sluice_connect_api::config::ConfigValue;
use sluice_connect_api::data::logical;
use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Result, Schema, SchemaRef,
    SchemaType, SourceRecord, Transform, TransformPlugin, Validator, Value,
};

use super::datefmt::MILLIS_PER_DAY;
use super::java;
use super::replace_field::java_split_colon;
use super::replace_null_with_default_key;
use crate::common::{
    class_of, copy_basics, map_get, map_put, new_struct, push_field, require_map, require_struct,
    with_default, SchemaCache, Side, SmtPlugin,
};

pub const KEY_CLASS: &str = "org.apache.kafka.connect.transforms.Cast$Key";
pub const VALUE_CLASS: &str = "org.apache.kafka.connect.transforms.Cast$Value";
const PURPOSE: &str = "cast types";

const INPUT_TYPES: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]";
const OUTPUT_TYPES: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]";

/// Kafka's `Schema.Type` enum names.
fn type_named(name: &str) -> Option<SchemaType> {
    Some(match name.to_ascii_uppercase().as_str() {
        "INT8" => SchemaType::Int8,
        "INT16" => SchemaType::Int16,
        "INT32" => SchemaType::Int32,
        "INT64" => SchemaType::Int64,
        "FLOAT32" => SchemaType::Float32,
        "FLOAT64" => SchemaType::Float64,
        "BOOLEAN" => SchemaType::Boolean,
        "STRING" => SchemaType::String,
        "BYTES" => SchemaType::Bytes,
        "ARRAY" => SchemaType::Array,
        "MAP" => SchemaType::Map,
        "STRUCT" => SchemaType::Struct,
        _ => return None,
    })
}

/// The Java enum constant, for messages.
pub(crate) fn enum_name(t: SchemaType) -> &'static str {
    match t {
        SchemaType::Int8 => "INT8",
        SchemaType::Int16 => "INT16",
        SchemaType::Int32 => "INT32",
        SchemaType::Int64 => "INT64",
        SchemaType::Float32 => "FLOAT32",
        SchemaType::Float64 => "FLOAT64",
        SchemaType::Boolean => "BOOLEAN",
        SchemaType::String => "STRING",
        SchemaType::Bytes => "BYTES",
        SchemaType::Array => "ARRAY",
        SchemaType::Map => "MAP",
        SchemaType::Struct => "STRUCT",
    }
}

fn valid_output(t: SchemaType) -> std::result::Result<SchemaType, String> {
    if t.is_primitive() && t != SchemaType::Bytes {
        Ok(t)
    } else {
        Err(format!(
            "Cast transformation does not support casting to {}; supported types are {OUTPUT_TYPES}",
            enum_name(t)
        ))
    }
}

/// The parsed `spec`: per-field casts, or one whole-value cast.
#[derive(Debug, Clone, PartialEq)]
pub enum Casts {
    Whole(SchemaType),
    Fields(HashMap<String, SchemaType>),
}

/// Kafka's `parseFieldTypes`.
pub fn parse_spec(mappings: &[String]) -> std::result::Result<Casts, String> {
    if mappings.is_empty() {
        return Err("Must specify at least one field to cast.".into());
    }
    let mut fields = HashMap::new();
    let mut whole = None;
    for mapping in mappings {
        let parts = java_split_colon(mapping);
        let type_of = |name: &str| {
            let name = name.trim();
            type_named(name).ok_or_else(|| format!("Invalid type found in casting spec: {name}"))
        };
        match parts.as_slice() {
            [t] => whole = Some(valid_output(type_of(t)?)?),
            [field, t] => {
                fields.insert(field.trim().to_string(), valid_output(type_of(t)?)?);
            }
            [] => return Err(format!("Invalid type found in casting spec: {mapping}")),
            _ => return Err(format!("Invalid rename mapping: {mapping}")),
        }
    }
    match whole {
        Some(_) if mappings.len() > 1 => Err("Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec".into()),
        Some(t) => Ok(Casts::Whole(t)),
        None => Ok(Casts::Fields(fields)),
    }
}

fn valid_spec(value: &ConfigValue) -> std::result::Result<(), String> {
    match value {
        ConfigValue::List(items) => parse_spec(items).map(|_| ()),
        _ => Ok(()),
    }
}

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("spec", ConfigType::List)
                .validator(Validator::Custom(valid_spec))
                .importance(Importance::High)
                .doc("List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string."),
        )
        .define(replace_null_with_default_key())
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    [(KEY_CLASS, Side::Key), (VALUE_CLASS, Side::Value)]
        .into_iter()
        .map(|(class, side)| {
            SmtPlugin::define(class, &[], config_def(), move |c| {
                let casts = parse_spec(c.get_list("spec")).map_err(|e| {
                    crate::common::invalid("spec", &c.get_list("spec").join(","), e)
                })?;
                Ok(Box::new(Cast {
                    side,
                    casts,
                    replace_null_with_default: c.get_bool("replace.null.with.default"),
                    cache: SchemaCache::new(),
                }) as Box<dyn Transform>)
            })
        })
        .collect()
}

pub struct Cast {
    side: Side,
    casts: Casts,
    replace_null_with_default: bool,
    /// Input schema → (output schema, the cast of each field, by position).
    cache: SchemaCache<Arc<(SchemaRef, Vec<Option<SchemaType>>)>>,
}

fn out_of_range(value: &Value) -> ConnectError {
    let text = match value {
        Value::String(s) => s.clone(),
        other => format!("{other:?}").into(),
    };
    ConnectError::data(format!(
        "Value ({text}) was out of range for requested data type"
    ))
}

fn unexpected(value: &Value) -> ConnectError {
    ConnectError::data(format!(
        "Unexpected type in Cast transformation: {}",
        class_of(value)
    ))
}

/// The value's type when there is no schema (`ConnectSchema.schemaType`).
fn inferred_type(value: &Value) -> Result<SchemaType> {
    Ok(match value {
        Value::Boolean(_) => SchemaType::Boolean,
        Value::Int8(_) => SchemaType::Int8,
        Value::Int16(_) => SchemaType::Int16,
        Value::Int32(_) => SchemaType::Int32,
        Value::Int64(_) => SchemaType::Int64,
        Value::Float32(_) => SchemaType::Float32,
        Value::Float64(_) => SchemaType::Float64,
        Value::String(_) => SchemaType::String,
        Value::Bytes(_) => SchemaType::Bytes,
        Value::Array(_) => SchemaType::Array,
        Value::Map(_) => SchemaType::Map,
        Value::Struct(_) => SchemaType::Struct,
        other => {
            return Err(ConnectError::data(format!(
                "Cast transformation was passed a value of type {} which is not supported by Connect's data API",
                class_of(other)
            )))
        }
    })
}

/// `Number.longValue()` and friends, for the numeric variants.
enum Num {
    Long(i64),
    Double(f64),
    Float(f32),
}

fn number(value: &Value) -> Option<Num> {
    Some(match value {
        Value::Int8(v) => Num::Long(i64::from(*v)),
        Value::Int16(v) => Num::Long(i64::from(*v)),
        Value::Int32(v) => Num::Long(i64::from(*v)),
        Value::Int64(v) => Num::Long(*v),
        Value::Float32(v) => Num::Float(*v),
        Value::Float64(v) => Num::Double(*v),
        _ => return None,
    })
}

/// Milliseconds since the epoch of a Connect Date / Time / Timestamp.
fn logical_millis(schema: Option<&Schema>, value: &Value) -> Option<i64> {
    let schema = schema?;
    let millis = value.as_i64()?;
    if schema.is_named(logical::DATE) {
        Some(millis * MILLIS_PER_DAY)
    } else if schema.is_named(logical::TIME) || schema.is_named(logical::TIMESTAMP) {
        Some(millis)
    } else {
        None
    }
}

/// Kafka's `castValueToType`.
pub fn cast_value(schema: Option<&Schema>, value: Value, target: SchemaType) -> Result<Value> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let source = match schema {
        Some(s) => s.schema_type,
        None => inferred_type(&value)?,
    };
    if !source.is_primitive() {
        return Err(ConnectError::data(format!(
            "Cast transformation does not support casting from {}; supported types are {INPUT_TYPES}",
            enum_name(source)
        )));
    }
    if target == SchemaType::String {
        return Ok(Value::String(cast_to_string(schema, value).into()));
    }
    if let Value::Decimal(d) = &value {
        // BigDecimal is a Number: intValue()/floatValue()/… of the exact value.
        return Ok(match target {
            SchemaType::Float32 => Value::Float32(java::decimal_to_f32(d)),
            SchemaType::Float64 => Value::Float64(java::decimal_to_f64(d)),
            _ => cast_long(java::decimal_to_i64_wrapping(d), target),
        });
    }
    match (&value, number(&value)) {
        (_, Some(Num::Long(l))) => Ok(cast_long(l, target)),
        (_, Some(Num::Double(d))) => Ok(cast_double(d, target)),
        (_, Some(Num::Float(f))) => Ok(cast_float(f, target)),
        (Value::Boolean(b), _) => Ok(cast_long(i64::from(*b), target)),
        (Value::String(s), _) => cast_string(s, target).ok_or_else(|| out_of_range(&value)),
        _ => Err(unexpected(&value)),
    }
}

fn cast_long(l: i64, target: SchemaType) -> Value {
    match target {
        SchemaType::Int8 => Value::Int8(l as i8),
        SchemaType::Int16 => Value::Int16(l as i16),
        SchemaType::Int32 => Value::Int32(l as i32),
        SchemaType::Int64 => Value::Int64(l),
        SchemaType::Float32 => Value::Float32(l as f32),
        SchemaType::Float64 => Value::Float64(l as f64),
        _ => Value::Boolean(l != 0),
    }
}

fn cast_double(d: f64, target: SchemaType) -> Value {
    match target {
        // Java: double → int (saturating) → byte/short (wrapping).
        SchemaType::Int8 => Value::Int8(d as i32 as i8),
        SchemaType::Int16 => Value::Int16(d as i32 as i16),
        SchemaType::Int32 => Value::Int32(d as i32),
        SchemaType::Int64 => Value::Int64(d as i64),
        SchemaType::Float32 => Value::Float32(d as f32),
        SchemaType::Float64 => Value::Float64(d),
        _ => Value::Boolean(d as i64 != 0),
    }
}

fn cast_float(f: f32, target: SchemaType) -> Value {
    match target {
        SchemaType::Float32 => Value::Float32(f),
        _ => cast_double(f64::from(f), target),
    }
}

/// `Byte.parseByte`, `Integer.parseInt`, `Float.parseFloat`,
/// `Boolean.parseBoolean`, …; `None` is a `NumberFormatException`.
fn cast_string(s: &str, target: SchemaType) -> Option<Value> {
    Some(match target {
        SchemaType::Int8 => Value::Int8(s.parse().ok()?),
        SchemaType::Int16 => Value::Int16(s.parse().ok()?),
        SchemaType::Int32 => Value::Int32(s.parse().ok()?),
        SchemaType::Int64 => Value::Int64(s.parse().ok()?),
        SchemaType::Float32 => Value::Float32(java::parse_double(s)? as f32),
        SchemaType::Float64 => Value::Float64(java::parse_double(s)?),
        _ => Value::Boolean(s.eq_ignore_ascii_case("true")),
    })
}

fn cast_to_string(schema: Option<&Schema>, value: Value) -> String {
    if let Some(ms) = logical_millis(schema, &value) {
        return java::format_date_value(ms);
    }
    match value {
        Value::String(s) => s.into_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Int8(v) => v.to_string(),
        Value::Int16(v) => v.to_string(),
        Value::Int32(v) => v.to_string(),
        Value::Int64(v) => v.to_string(),
        Value::Float32(v) => java::float_to_string(v),
        Value::Float64(v) => java::double_to_string(v),
        Value::Decimal(d) => java::big_decimal_to_string(&d),
        Value::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
        other => format!("{other:?}"),
    }
}

/// A new schema of the target type.
fn target_schema(t: SchemaType) -> Schema {
    sluice_connect_api::SchemaBuilder::new(t).build_schema()
}

/// Connect's logical types, which a cast turns into their plain type.
fn is_connect_logical(schema: &Schema) -> bool {
    [
        logical::DECIMAL,
        logical::DATE,
        logical::TIME,
        logical::TIMESTAMP,
    ]
    .iter()
    .any(|n| schema.is_named(n))
}

impl Cast {
    fn plan(&self, schema: &SchemaRef) -> Result<Arc<(SchemaRef, Vec<Option<SchemaType>>)>> {
        let per_field = match &self.casts {
            Casts::Whole(_) => Vec::new(),
            Casts::Fields(casts) => schema
                .fields
                .iter()
                .map(|f| casts.get(&f.name).copied())
                .collect(),
        };
        Ok(Arc::new((self.updated_schema(schema)?, per_field)))
    }

    fn updated_schema(&self, schema: &SchemaRef) -> Result<SchemaRef> {
        let mut out = match &self.casts {
            Casts::Whole(t) => {
                if is_connect_logical(schema) {
                    // A cast Timestamp/Decimal/… is no longer one: keep the
                    // doc but not the logical name, version and parameters.
                    let mut s = target_schema(*t);
                    s.doc = schema.doc.clone();
                    s
                } else {
                    copy_basics(schema, *t)
                }
            }
            Casts::Fields(casts) => {
                let mut out = copy_basics(schema, SchemaType::Struct);
                for field in &schema.fields {
                    match casts.get(&field.name) {
                        Some(t) => {
                            let mut s = target_schema(*t);
                            s.optional = field.schema.optional;
                            if let Some(d) = &field.schema.default {
                                s.default = Some(cast_value(Some(&field.schema), d.clone(), *t)?);
                            }
                            push_field(&mut out, field.name.clone(), Arc::new(s))?;
                        }
                        None => push_field(&mut out, field.name.clone(), field.schema.clone())?,
                    }
                }
                out
            }
        };
        out.optional = schema.optional;
        if let Some(d) = &schema.default {
            out.default = Some(cast_value(Some(schema), d.clone(), out.schema_type)?);
        }
        Ok(Arc::new(out))
    }
}

impl Transform for Cast {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        if self.side.value(&record).is_null() {
            return Ok(Some(record));
        }
        let (schema, value) = self.side.take(&mut record);
        match (schema, &self.casts) {
            (None, Casts::Whole(t)) => {
                let v = cast_value(None, value, *t)?;
                self.side.put(&mut record, None, v);
            }
            (None, Casts::Fields(casts)) => {
                let mut entries = require_map(value, PURPOSE)?;
                for (field, t) in casts {
                    let v = map_get(&entries, field).cloned().unwrap_or(Value::Null);
                    let cast = cast_value(None, v, *t)?;
                    map_put(&mut entries, field, cast);
                }
                self.side.put(&mut record, None, Value::Map(entries));
            }
            (Some(schema), Casts::Whole(t)) => {
                let plan = self.cache.get_or_try_insert(&schema, |s| self.plan(s))?;
                let out = cast_value(Some(&schema), value, *t)?;
                self.side.put(&mut record, Some(plan.0.clone()), out);
            }
            (Some(_), Casts::Fields(_)) => {
                let value = require_struct(value, PURPOSE)?;
                let in_schema = value.schema().clone();
                let plan = self.cache.get_or_try_insert(&in_schema, |s| self.plan(s))?;
                let (updated, per_field) = &*plan;
                let values = value
                    .into_values()
                    .into_iter()
                    .zip(&in_schema.fields)
                    .zip(per_field)
                    .map(|((v, field), cast)| {
                        let v = with_default(v, field, self.replace_null_with_default);
                        match cast {
                            Some(t) => cast_value(Some(&field.schema), v, *t),
                            None => Ok(v),
                        }
                    })
                    .collect::<Result<Vec<_>>>()?;
                let out = Value::Struct(new_struct(updated.clone(), values)?);
                self.side.put(&mut record, Some(updated.clone()), out);
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::*;
    use sluice_connect_api::Struct;
    use sluice_connect_api::{Decimal, SchemaBuilder};

    fn whole(spec: &str, schema: Option<SchemaRef>, v: Value) -> SourceRecord {
        apply(
            transform(VALUE_CLASS, &[("spec", spec)]).as_ref(),
            value_record(schema, v),
        )
    }

    // Kafka's CastTest: configuration.
    #[test]
    fn configuration_errors() {
        let msg = |spec: &str| issues(KEY_CLASS, &[("spec", spec)])[0].message.clone();
        assert_eq!(
            msg(""),
            "Invalid value  for configuration spec: Must specify at least one field to cast."
        );
        assert!(msg("foo:faketype").ends_with("Invalid type found in casting spec: faketype"));
        assert!(msg("foo:array").ends_with("Cast transformation does not support casting to ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"));
        assert!(msg("array").contains("does not support casting to ARRAY"));
        assert!(msg("foo:bytes").contains("does not support casting to BYTES"));
        assert!(msg("foo:int8:extra").ends_with("Invalid rename mapping: foo:int8:extra"));
        assert!(msg("foo:int8,int32").ends_with("Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec"));
        assert_eq!(
            issues(KEY_CLASS, &[("spec", "foo:int8,bar:STRING")]),
            vec![]
        );
        assert_eq!(issues(KEY_CLASS, &[])[0].key, "spec");
    }

    #[test]
    fn null_records_pass() {
        for (class, schema) in [
            (VALUE_CLASS, Some(SchemaBuilder::string().build())),
            (VALUE_CLASS, None),
        ] {
            let t = transform(class, &[("spec", "foo:int64")]);
            let r = SourceRecord::new(None, None, "topic", schema, Value::Null)
                .with_key(Some(SchemaBuilder::string().build()), Value::from("key"));
            assert_eq!(apply(t.as_ref(), r.clone()), r);
        }
        let t = transform(KEY_CLASS, &[("spec", "foo:int64")]);
        let r = SourceRecord::new(
            None,
            None,
            "topic",
            Some(SchemaBuilder::string().build()),
            Value::from("value"),
        );
        assert_eq!(apply(t.as_ref(), r.clone()), r);
    }

    #[test]
    fn field_with_default_value() {
        for (flag, expected) in [("false", Value::Null), ("true", Value::from("10"))] {
            let t = transform(
                VALUE_CLASS,
                &[
                    ("spec", "magic:string"),
                    ("replace.null.with.default", flag),
                ],
            );
            let schema = SchemaBuilder::struct_()
                .field(
                    "magic",
                    SchemaBuilder::int32()
                        .optional()
                        .default_value(Value::Int32(10))
                        .build(),
                )
                .build();
            let out = apply(
                t.as_ref(),
                value_record(Some(schema.clone()), Value::Struct(Struct::new(schema))),
            );
            let s = out.value_schema.unwrap();
            assert_eq!(
                s.field("magic").unwrap().schema.schema_type,
                SchemaType::String
            );
            assert_eq!(
                s.field("magic").unwrap().schema.default,
                Some(Value::from("10"))
            );
            assert_eq!(out.value.as_struct().unwrap().get("magic"), Some(&expected));
        }
    }

    #[test]
    fn whole_record_with_schema() {
        let int32 = || Some(SchemaBuilder::int32().build());
        let key = apply(
            transform(KEY_CLASS, &[("spec", "int8")]).as_ref(),
            key_record(int32(), Value::Int32(42)),
        );
        assert_eq!(key.key_schema.unwrap().schema_type, SchemaType::Int8);
        assert_eq!(key.key, Value::Int8(42));
        for (spec, t, v) in [
            ("int8", SchemaType::Int8, Value::Int8(42)),
            ("int16", SchemaType::Int16, Value::Int16(42)),
            ("int32", SchemaType::Int32, Value::Int32(42)),
            ("int64", SchemaType::Int64, Value::Int64(42)),
            ("float32", SchemaType::Float32, Value::Float32(42.0)),
            ("float64", SchemaType::Float64, Value::Float64(42.0)),
            ("boolean", SchemaType::Boolean, Value::Boolean(true)),
            ("string", SchemaType::String, Value::from("42")),
        ] {
            let out = whole(spec, int32(), Value::Int32(42));
            assert_eq!(out.value_schema.unwrap().schema_type, t, "{spec}");
            assert_eq!(out.value, v, "{spec}");
            // schemaless
            let out = whole(spec, None, Value::Int32(42));
            assert_eq!(out.value_schema, None);
            assert_eq!(out.value, v, "{spec}");
        }
        assert_eq!(
            whole("boolean", int32(), Value::Int32(0)).value,
            Value::Boolean(false)
        );
        assert_eq!(
            whole("boolean", None, Value::Int32(0)).value,
            Value::Boolean(false)
        );
    }

    #[test]
    fn whole_logical_values_to_string() {
        let out = whole(
            "string",
            Some(logical::decimal(0).build()),
            Value::Decimal(Decimal::new(42, 0)),
        );
        assert_eq!(out.value, Value::from("42"));
        assert_eq!(out.value_schema.unwrap().name, None);
        let ts = MILLIS_PER_DAY + 1;
        let out = whole(
            "string",
            Some(logical::timestamp().build()),
            Value::Int64(ts),
        );
        assert_eq!(out.value, Value::from("1970-01-02T00:00:00.001Z"));
        assert_eq!(out.value_schema.unwrap().schema_type, SchemaType::String);
    }

    #[test]
    fn whole_record_default_value() {
        let schema = SchemaBuilder::float32()
            .default_value(Value::Float32(-42.125))
            .build();
        let out = whole("int32", Some(schema), Value::Float32(42.125));
        assert_eq!(out.value, Value::Int32(42));
        assert_eq!(out.value_schema.unwrap().default, Some(Value::Int32(-42)));
    }

    #[test]
    fn whole_record_schemaless_unsupported_type() {
        let t = transform(VALUE_CLASS, &[("spec", "int8")]);
        let e = t
            .apply(value_record(None, Value::Array(vec![Value::from("foo")])))
            .unwrap_err();
        assert_eq!(e.message(), "Cast transformation does not support casting from ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]");
    }

    #[test]
    fn logical_to_primitive() {
        let t = transform(
            VALUE_CLASS,
            &[("spec", "date_to_int32:int32,timestamp_to_int64:int64,time_to_int64:int64,decimal_to_int32:int32,timestamp_to_float64:float64,null_timestamp_to_int32:int32")],
        );
        let schema = SchemaBuilder::struct_()
            .field("date_to_int32", logical::date().build())
            .field("timestamp_to_int64", logical::timestamp().build())
            .field("time_to_int64", logical::time().build())
            .field("decimal_to_int32", logical::decimal(0).build())
            .field("timestamp_to_float64", logical::timestamp().build())
            .field(
                "null_timestamp_to_int32",
                logical::timestamp().optional().build(),
            )
            .build();
        let value = Struct::from_values(
            schema.clone(),
            vec![
                Value::Int32(1),
                Value::Int64(0),
                Value::Int32(1),
                Value::Decimal(Decimal::new(i64::from(i32::MAX) + 1, 0)),
                Value::Int64(i64::MAX),
                Value::Null,
            ],
        );
        let out = apply(t.as_ref(), value_record(Some(schema), Value::Struct(value)));
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("date_to_int32"), Some(&Value::Int32(1)));
        assert_eq!(v.get("timestamp_to_int64"), Some(&Value::Int64(0)));
        assert_eq!(v.get("time_to_int64"), Some(&Value::Int64(1)));
        assert_eq!(v.get("decimal_to_int32"), Some(&Value::Int32(i32::MIN)));
        assert_eq!(
            v.get("timestamp_to_float64"),
            Some(&Value::Float64(9.223372036854776E18))
        );
        assert_eq!(v.get("null_timestamp_to_int32"), Some(&Value::Null));
        let s = v.schema();
        assert_eq!(
            s.field("date_to_int32").unwrap().schema.schema_type,
            SchemaType::Int32
        );
        assert_eq!(s.field("date_to_int32").unwrap().schema.name, None);
        assert_eq!(
            s.field("time_to_int64").unwrap().schema.schema_type,
            SchemaType::Int64
        );
        assert!(s.field("null_timestamp_to_int32").unwrap().schema.optional);
        assert!(v.validate().is_ok());
    }

    #[test]
    fn logical_to_string() {
        let t = transform(
            VALUE_CLASS,
            &[(
                "spec",
                "date:string,decimal:string,time:string,timestamp:string",
            )],
        );
        let schema = SchemaBuilder::struct_()
            .field("date", logical::date().build())
            .field("decimal", logical::decimal(0).build())
            .field("time", logical::time().build())
            .field("timestamp", logical::timestamp().build())
            .build();
        let value = Struct::from_values(
            schema.clone(),
            vec![
                Value::Int32(1),
                Value::Decimal(Decimal::new(1982, 0)),
                Value::Int32(3_600_000),
                Value::Int64(1_483_425_001_864),
            ],
        );
        let out = apply(t.as_ref(), value_record(Some(schema), Value::Struct(value)));
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("date"), Some(&Value::from("1970-01-02")));
        assert_eq!(v.get("decimal"), Some(&Value::from("1982")));
        assert_eq!(v.get("time"), Some(&Value::from("01:00:00.000Z")));
        assert_eq!(
            v.get("timestamp"),
            Some(&Value::from("2017-01-03T06:30:01.864Z"))
        );
    }

    #[test]
    fn fields_with_schema() {
        let t = transform(
            VALUE_CLASS,
            &[("spec", "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32,bigdecimal:string,date:string,optional:int32,bytes:string,byteArray:string")],
        );
        let schema = SchemaBuilder::struct_()
            .field("int8", SchemaBuilder::int8().build())
            .field("int16", SchemaBuilder::int16().optional().build())
            .field(
                "int32",
                SchemaBuilder::int32()
                    .default_value(Value::Int32(2))
                    .build(),
            )
            .field("int64", SchemaBuilder::int64().build())
            .field("float32", SchemaBuilder::float32().build())
            .field(
                "float64",
                SchemaBuilder::float64()
                    .default_value(Value::Float64(-1.125))
                    .build(),
            )
            .field("boolean", SchemaBuilder::boolean().build())
            .field("string", SchemaBuilder::string().build())
            .field("bigdecimal", logical::decimal(0).build())
            .field("date", logical::date().build())
            .field("optional", SchemaBuilder::float32().optional().build())
            .field("timestamp", logical::timestamp().build())
            .field("bytes", SchemaBuilder::bytes().build())
            .field("byteArray", SchemaBuilder::bytes().build())
            .build();
        let bytes = vec![0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10];
        let value = Struct::from_values(
            schema.clone(),
            vec![
                Value::Int8(8),
                Value::Int16(16),
                Value::Int32(32),
                Value::Int64(64),
                Value::Float32(32.0),
                Value::Float64(-64.0),
                Value::Boolean(true),
                Value::from("42"),
                Value::Decimal(Decimal::new(42, 0)),
                Value::Int32(1),
                Value::Null,
                Value::Int64(0),
                Value::Bytes(bytes.clone()),
                Value::Bytes(bytes),
            ],
        );
        let out = apply(t.as_ref(), value_record(Some(schema), Value::Struct(value)));
        let v = out.value.as_struct().unwrap();
        let s = v.schema();
        assert_eq!(v.get("int8"), Some(&Value::Int16(8)));
        assert!(s.field("int16").unwrap().schema.optional);
        assert_eq!(v.get("int16"), Some(&Value::Int32(16)));
        assert_eq!(v.get("int32"), Some(&Value::Int64(32)));
        assert_eq!(
            s.field("int32").unwrap().schema.default,
            Some(Value::Int64(2))
        );
        assert_eq!(v.get("int64"), Some(&Value::Boolean(true)));
        assert_eq!(v.get("float32"), Some(&Value::Float64(32.0)));
        assert_eq!(v.get("float64"), Some(&Value::Boolean(true)));
        assert_eq!(
            s.field("float64").unwrap().schema.default,
            Some(Value::Boolean(true))
        );
        assert_eq!(v.get("boolean"), Some(&Value::Int8(1)));
        assert_eq!(v.get("string"), Some(&Value::Int32(42)));
        assert_eq!(v.get("bigdecimal"), Some(&Value::from("42")));
        assert_eq!(v.get("date"), Some(&Value::from("1970-01-02")));
        assert_eq!(v.get("timestamp"), Some(&Value::Int64(0)));
        assert_eq!(v.get("bytes"), Some(&Value::from("/ty6mHZUMhA=")));
        assert_eq!(v.get("byteArray"), Some(&Value::from("/ty6mHZUMhA=")));
        assert_eq!(v.get("optional"), Some(&Value::Null));
        assert!(s.field("optional").unwrap().schema.optional);
        assert_eq!(
            s.field("optional").unwrap().schema.schema_type,
            SchemaType::Int32
        );
        assert_eq!(
            s.field("timestamp").unwrap().schema.name.as_deref(),
            Some(logical::TIMESTAMP)
        );
        assert!(v.validate().is_ok());
    }

    #[test]
    fn fields_schemaless() {
        let t = transform(
            VALUE_CLASS,
            &[("spec", "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32")],
        );
        let value = map(vec![
            ("int8", Value::Int8(8)),
            ("int16", Value::Int16(16)),
            ("int32", Value::Int32(32)),
            ("int64", Value::Int64(64)),
            ("float32", Value::Float32(32.0)),
            ("float64", Value::Float64(-64.0)),
            ("boolean", Value::Boolean(true)),
            ("string", Value::from("42")),
        ]);
        let out = apply(t.as_ref(), value_record(None, value));
        assert_eq!(out.value_schema, None);
        assert_eq!(get(&out.value, "int8"), Some(&Value::Int16(8)));
        assert_eq!(get(&out.value, "int16"), Some(&Value::Int32(16)));
        assert_eq!(get(&out.value, "int32"), Some(&Value::Int64(32)));
        assert_eq!(get(&out.value, "int64"), Some(&Value::Boolean(true)));
        assert_eq!(get(&out.value, "float32"), Some(&Value::Float64(32.0)));
        assert_eq!(get(&out.value, "float64"), Some(&Value::Boolean(true)));
        assert_eq!(get(&out.value, "boolean"), Some(&Value::Int8(1)));
        assert_eq!(get(&out.value, "string"), Some(&Value::Int32(42)));
    }

    #[test]
    fn java_conversion_rules() {
        let c = |v: Value, t: SchemaType| cast_value(None, v, t).unwrap();
        assert_eq!(c(Value::Int32(300), SchemaType::Int8), Value::Int8(44));
        assert_eq!(
            c(Value::Float64(1e20), SchemaType::Int32),
            Value::Int32(i32::MAX)
        );
        assert_eq!(c(Value::Float64(300.7), SchemaType::Int8), Value::Int8(44));
        assert_eq!(
            c(Value::Float64(0.5), SchemaType::Boolean),
            Value::Boolean(false)
        );
        assert_eq!(
            c(Value::Float32(1.5), SchemaType::String),
            Value::from("1.5")
        );
        assert_eq!(
            c(Value::Float64(1e7), SchemaType::String),
            Value::from("1.0E7")
        );
        assert_eq!(
            c(Value::from("TRUE"), SchemaType::Boolean),
            Value::Boolean(true)
        );
        assert_eq!(
            c(Value::from("yes"), SchemaType::Boolean),
            Value::Boolean(false)
        );
        assert_eq!(
            c(Value::from(" 2.5 "), SchemaType::Float64),
            Value::Float64(2.5)
        );
        assert_eq!(
            c(Value::Boolean(true), SchemaType::Float32),
            Value::Float32(1.0)
        );
        let e = cast_value(None, Value::from("300"), SchemaType::Int8).unwrap_err();
        assert_eq!(
            e.message(),
            "Value (300) was out of range for requested data type"
        );
        let e = cast_value(None, Value::Bytes(vec![1]), SchemaType::Int32).unwrap_err();
        assert_eq!(
            e.message(),
            "Unexpected type in Cast transformation: class [B"
        );
        let e =
            cast_value(None, Value::Decimal(Decimal::new(1, 0)), SchemaType::Int32).unwrap_err();
        assert!(e
            .message()
            .contains("java.math.BigDecimal which is not supported"));
    }

    #[test]
    fn schema_is_cached() {
        let t = transform(VALUE_CLASS, &[("spec", "a:string")]);
        let schema = SchemaBuilder::struct_()
            .field("a", SchemaBuilder::int32().build())
            .build();
        let v = || Value::Struct(Struct::new(schema.clone()).with("a", 1));
        let a = apply(t.as_ref(), value_record(Some(schema.clone()), v()));
        let b = apply(t.as_ref(), value_record(Some(schema.clone()), v()));
        assert!(Arc::ptr_eq(
            a.value_schema.as_ref().unwrap(),
            b.value_schema.as_ref().unwrap()
        ));
    }
}
