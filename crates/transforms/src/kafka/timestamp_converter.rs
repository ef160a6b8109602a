//! `org.apache.kafka.connect.transforms.TimestampConverter$Key` / `$Value`:
//! converts a timestamp field (`field`), or the whole key/value, between a
//! formatted string (`format`, a `SimpleDateFormat` pattern in UTC), Unix
//! time (`unix.precision`: seconds … nanoseconds), and Connect's Date, Time
//! and Timestamp (`target.type`).
//!
//! Without a schema, Kafka represents Date/Time/Timestamp as
//! `java.util.Date`; sluice's data model has no such value, so schemaless
//! Date/Time/Timestamp results are epoch milliseconds (int64), which read
//! back as Unix milliseconds.

use std::sync::Arc;

use sluice_connect_api::config::ConfigValue;
use sluice_connect_api::data::logical;
use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Result, Schema, SchemaRef,
    SchemaType, SourceRecord, Struct, Transform, TransformPlugin, Validator, Value,
};

use super::datefmt::{JavaDateFormat, MILLIS_PER_DAY};
use super::replace_null_with_default_key;
use crate::common::{
    class_of, copy_basics, invalid, map_get, map_put, new_struct, primitive, push_field,
    require_map, require_struct, with_default, SchemaCache, Side, SmtPlugin,
};

pub const KEY_CLASS: &str = "org.apache.kafka.connect.transforms.TimestampConverter$Key";
pub const VALUE_CLASS: &str = "org.apache.kafka.connect.transforms.TimestampConverter$Value";
const PURPOSE: &str = "converting timestamp formats";

const TYPES: [&str; 5] = ["string", "unix", "Date", "Time", "Timestamp"];
const PRECISIONS: [&str; 4] = ["nanoseconds", "microseconds", "milliseconds", "seconds"];

fn one_of(value: &ConfigValue, allowed: &[&str]) -> std::result::Result<(), String> {
    match value {
        ConfigValue::String(s) if !allowed.contains(&s.as_str()) => {
            Err(format!("String must be one of: {}", allowed.join(", ")))
        }
        _ => Ok(()),
    }
}

fn valid_type(value: &ConfigValue) -> std::result::Result<(), String> {
    one_of(value, &TYPES)
}

fn valid_precision(value: &ConfigValue) -> std::result::Result<(), String> {
    one_of(value, &PRECISIONS)
}

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("field", ConfigType::String)
                .default("")
                .importance(Importance::High)
                .doc("The field containing the timestamp, or empty if the entire value is a timestamp"),
        )
        .define(
            ConfigKey::new("target.type", ConfigType::String)
                .validator(Validator::Custom(valid_type))
                .importance(Importance::High)
                .doc("The desired timestamp representation: string, unix, Date, Time, or Timestamp"),
        )
        .define(
            ConfigKey::new("format", ConfigType::String)
                .default("")
                .importance(Importance::Medium)
                .doc("A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string."),
        )
        .define(
            ConfigKey::new("unix.precision", ConfigType::String)
                .default("milliseconds")
                .validator(Validator::Custom(valid_precision))
                .importance(Importance::Low)
                .doc("The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long. Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components."),
        )
        .define(replace_null_with_default_key())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Unix,
    Date,
    Time,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    [(KEY_CLASS, Side::Key), (VALUE_CLASS, Side::Value)]
        .into_iter()
        .map(|(class, side)| {
            SmtPlugin::define(class, &[], config_def(), move |c| {
                let target = match c.get_string("target.type").unwrap_or_default() {
                    "string" => Kind::String,
                    "unix" => Kind::Unix,
                    "Date" => Kind::Date,
                    "Time" => Kind::Time,
                    _ => Kind::Timestamp,
                };
                let precision = match c.get_string("unix.precision").unwrap_or_default() {
                    "seconds" => Precision::Seconds,
                    "microseconds" => Precision::Micros,
                    "nanoseconds" => Precision::Nanos,
                    _ => Precision::Millis,
                };
                let pattern = c.get_string("format").unwrap_or_default();
                if target == Kind::String && pattern.trim().is_empty() {
                    return Err(invalid(
                        "format",
                        pattern,
                        "TimestampConverter requires format option to be specified when using string timestamps",
                    ));
                }
                let format = if pattern.trim().is_empty() {
                    None
                } else {
                    Some(JavaDateFormat::compile(pattern).map_err(|e| {
                        invalid(
                            "format",
                            pattern,
                            format!("TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern} ({e})"),
                        )
                    })?)
                };
                Ok(Box::new(TimestampConverter {
                    side,
                    field: c.get_string("field").unwrap_or_default().to_string(),
                    target,
                    format,
                    precision,
                    replace_null_with_default: c.get_bool("replace.null.with.default"),
                    required: type_schema(target, false),
                    optional: type_schema(target, true),
                    cache: SchemaCache::new(),
                }) as Box<dyn Transform>)
            })
        })
        .collect()
}

fn type_schema(kind: Kind, optional: bool) -> SchemaRef {
    let b = match kind {
        Kind::String => return primitive(SchemaType::String, optional),
        Kind::Unix => return primitive(SchemaType::Int64, optional),
        Kind::Date => logical::date(),
        Kind::Time => logical::time(),
        Kind::Timestamp => logical::timestamp(),
    };
    if optional {
        b.optional().build()
    } else {
        b.build()
    }
}

/// Kafka's `timestampTypeFromSchema`.
fn kind_of_schema(schema: &Schema) -> Result<Kind> {
    if schema.is_named(logical::TIMESTAMP) {
        Ok(Kind::Timestamp)
    } else if schema.is_named(logical::DATE) {
        Ok(Kind::Date)
    } else if schema.is_named(logical::TIME) {
        Ok(Kind::Time)
    } else if schema.schema_type == SchemaType::String {
        Ok(Kind::String)
    } else if schema.schema_type == SchemaType::Int64 {
        Ok(Kind::Unix)
    } else {
        let t = super::cast::enum_name(schema.schema_type);
        Err(ConnectError::data(format!(
            "Schema Schema{{{}{t}}} does not correspond to a known timestamp type format",
            schema
                .name
                .as_ref()
                .map_or(String::new(), |n| format!("{n}:"))
        )))
    }
}

/// Kafka's `inferTimestampType` (no schema).
fn kind_of_value(value: &Value) -> Result<Kind> {
    match value {
        Value::Int64(_) => Ok(Kind::Unix),
        Value::String(_) => Ok(Kind::String),
        other => Err(ConnectError::data(format!(
            "TimestampConverter does not support {} objects as timestamps",
            class_of(other)
        ))),
    }
}

pub struct TimestampConverter {
    side: Side,
    field: String,
    target: Kind,
    format: Option<JavaDateFormat>,
    precision: Precision,
    replace_null_with_default: bool,
    required: SchemaRef,
    optional: SchemaRef,
    cache: SchemaCache<SchemaRef>,
}

impl TimestampConverter {
    fn target_schema(&self, optional: bool) -> SchemaRef {
        if optional {
            self.optional.clone()
        } else {
            self.required.clone()
        }
    }

    fn format(&self) -> Result<&JavaDateFormat> {
        self.format.as_ref().ok_or_else(|| {
            ConnectError::data(
                "TimestampConverter requires format option to be specified when using string timestamps",
            )
        })
    }

    /// `toRaw`: milliseconds since the epoch.
    fn to_raw(&self, kind: Kind, value: &Value) -> Result<i64> {
        let expected = |what: &str| {
            ConnectError::data(format!("Expected {what}, but found {}", class_of(value)))
        };
        match kind {
            Kind::String => {
                let Value::String(s) = value else {
                    return Err(expected("string timestamp to be a String"));
                };
                let format = self.format()?;
                format.parse(s).map_err(|_| {
                    ConnectError::data(format!(
                        "Could not parse timestamp: value ({s}) does not match pattern ({})",
                        format.pattern()
                    ))
                })
            }
            Kind::Unix => {
                let Value::Int64(t) = value else {
                    return Err(expected("Unix timestamp to be a Long"));
                };
                Ok(match self.precision {
                    Precision::Seconds => t.saturating_mul(1000),
                    Precision::Millis => *t,
                    Precision::Micros => t / 1000,
                    Precision::Nanos => t / 1_000_000,
                })
            }
            Kind::Date => match value {
                Value::Int32(days) => Ok(i64::from(*days) * MILLIS_PER_DAY),
                _ => Err(expected("Date to be an int32 of days since the epoch")),
            },
            Kind::Time => match value {
                Value::Int32(ms) => Ok(i64::from(*ms)),
                _ => Err(expected(
                    "Time to be an int32 of milliseconds since midnight",
                )),
            },
            Kind::Timestamp => match value {
                Value::Int64(ms) => Ok(*ms),
                _ => Err(expected(
                    "Timestamp to be an int64 of milliseconds since the epoch",
                )),
            },
        }
    }

    /// `toType`; `with_schema` picks Connect's physical Date/Time (int32).
    fn to_type(&self, millis: i64, with_schema: bool) -> Result<Value> {
        Ok(match self.target {
            Kind::String => Value::String(self.format()?.format(millis).into()),
            Kind::Unix => Value::Int64(match self.precision {
                Precision::Seconds => millis / 1000,
                Precision::Millis => millis,
                Precision::Micros => millis.saturating_mul(1000),
                Precision::Nanos => millis.saturating_mul(1_000_000),
            }),
            Kind::Date => {
                let days = millis.div_euclid(MILLIS_PER_DAY);
                if with_schema {
                    Value::Int32(i32::try_from(days).map_err(|_| {
                        ConnectError::data(format!(
                            "Timestamp {millis} is out of the range of Date"
                        ))
                    })?)
                } else {
                    Value::Int64(days * MILLIS_PER_DAY)
                }
            }
            Kind::Time => {
                let ms = millis.rem_euclid(MILLIS_PER_DAY);
                if with_schema {
                    Value::Int32(ms as i32)
                } else {
                    Value::Int64(ms)
                }
            }
            Kind::Timestamp => Value::Int64(millis),
        })
    }

    fn convert(&self, value: Value, kind: Option<Kind>, with_schema: bool) -> Result<Value> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let kind = match kind {
            Some(k) => k,
            None => kind_of_value(&value)?,
        };
        let raw = self.to_raw(kind, &value)?;
        self.to_type(raw, with_schema)
    }

    fn convert_struct(&self, value: Struct, updated: &SchemaRef) -> Result<Struct> {
        let in_schema = value.schema().clone();
        let values = value
            .into_values()
            .into_iter()
            .zip(&in_schema.fields)
            .map(|(v, f)| {
                let v = with_default(v, f, self.replace_null_with_default);
                if f.name == self.field {
                    self.convert(v, Some(kind_of_schema(&f.schema)?), true)
                } else {
                    Ok(v)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        new_struct(updated.clone(), values)
    }

    fn updated_schema(&self, schema: &SchemaRef) -> Result<SchemaRef> {
        let mut out = copy_basics(schema, SchemaType::Struct);
        for f in &schema.fields {
            let s = if f.name == self.field {
                self.target_schema(f.schema.optional)
            } else {
                f.schema.clone()
            };
            push_field(&mut out, f.name.clone(), s)?;
        }
        out.optional = schema.optional;
        if let Some(Value::Struct(default)) = &schema.default {
            let without_default = Arc::new(out.clone());
            let converted = self.convert_struct(default.clone(), &without_default)?;
            out.default = Some(Value::Struct(converted));
        }
        Ok(Arc::new(out))
    }
}

impl Transform for TimestampConverter {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let out = if value.is_null() || self.field.is_empty() {
                    self.convert(value, None, false)?
                } else {
                    let mut entries = require_map(value, PURPOSE)?;
                    let v = map_get(&entries, &self.field)
                        .cloned()
                        .unwrap_or(Value::Null);
                    let converted = self.convert(v, None, false)?;
                    map_put(&mut entries, &self.field, converted);
                    Value::Map(entries)
                };
                self.side.put(&mut record, None, out);
            }
            Some(schema) if self.field.is_empty() => {
                let kind = kind_of_schema(&schema)?;
                let updated = self.target_schema(schema.optional);
                let out = self.convert(value, Some(kind), true)?;
                self.side.put(&mut record, Some(updated), out);
            }
            Some(schema) => {
                let value = match value {
                    Value::Null => None,
                    other => Some(require_struct(other, PURPOSE)?),
                };
                let updated = self
                    .cache
                    .get_or_try_insert(&schema, |s| self.updated_schema(s))?;
                let out = match value {
                    None => Value::Null,
                    Some(v) => Value::Struct(self.convert_struct(v, &updated)?),
                };
                self.side.put(&mut record, Some(updated), out);
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::*;
    use sluice_connect_api::SchemaBuilder;

    // The values of Kafka's TimestampConverterTest.
    const DATE_PLUS_TIME_UNIX: i64 = 86_401_234;
    const DATE_DAYS: i32 = 1;
    const TIME_MS: i32 = 1234;
    const FMT: &str = "yyyy MM dd HH mm ss SSS z";
    const DATE_PLUS_TIME_STRING: &str = "1970 01 02 00 00 01 234 UTC";

    fn t(pairs: &[(&str, &str)]) -> Box<dyn Transform> {
        transform(VALUE_CLASS, pairs)
    }

    fn ts_schema() -> SchemaRef {
        logical::timestamp().build()
    }

    #[test]
    fn configuration() {
        assert_eq!(issues(VALUE_CLASS, &[])[0].key, "target.type");
        let i = issues(VALUE_CLASS, &[("target.type", "invalid")]);
        assert_eq!(
            i[0].message,
            "Invalid value invalid for configuration target.type: String must be one of: string, unix, Date, Time, Timestamp"
        );
        // case matters, as with Kafka's ValidString
        assert!(!issues(VALUE_CLASS, &[("target.type", "timestamp")]).is_empty());
        let i = issues(
            VALUE_CLASS,
            &[("target.type", "unix"), ("unix.precision", "invalid")],
        );
        assert_eq!(i[0].key, "unix.precision");
        assert!(issues(
            VALUE_CLASS,
            &[("target.type", "unix"), ("unix.precision", "seconds")]
        )
        .is_empty());
        let i = issues(VALUE_CLASS, &[("target.type", "string")]);
        assert_eq!(i[0].key, "format");
        assert!(i[0].message.contains("requires format option"));
        let i = issues(
            VALUE_CLASS,
            &[("target.type", "string"), ("format", "bad-format")],
        );
        assert_eq!(i[0].key, "format");
        assert!(
            i[0].message.contains("SimpleDateFormat-compatible pattern"),
            "{}",
            i[0].message
        );
    }

    #[test]
    fn schemaless_from_unix_millis() {
        let r = || value_record(None, Value::Int64(DATE_PLUS_TIME_UNIX));
        let out = apply(t(&[("target.type", "Timestamp")]).as_ref(), r());
        assert_eq!(
            (out.value_schema, out.value),
            (None, Value::Int64(DATE_PLUS_TIME_UNIX))
        );
        let out = apply(t(&[("target.type", "Date")]).as_ref(), r());
        assert_eq!(out.value, Value::Int64(MILLIS_PER_DAY));
        let out = apply(t(&[("target.type", "Time")]).as_ref(), r());
        assert_eq!(out.value, Value::Int64(i64::from(TIME_MS)));
        let out = apply(t(&[("target.type", "unix")]).as_ref(), r());
        assert_eq!(out.value, Value::Int64(DATE_PLUS_TIME_UNIX));
        let out = apply(
            t(&[("target.type", "string"), ("format", FMT)]).as_ref(),
            r(),
        );
        assert_eq!(out.value, Value::from(DATE_PLUS_TIME_STRING));
    }

    #[test]
    fn schemaless_string_to_timestamp_and_unix() {
        let r = || value_record(None, Value::from(DATE_PLUS_TIME_STRING));
        let out = apply(
            t(&[("target.type", "Timestamp"), ("format", FMT)]).as_ref(),
            r(),
        );
        assert_eq!(out.value, Value::Int64(DATE_PLUS_TIME_UNIX));
        for (precision, expected) in [
            ("microseconds", 86_401_234_000i64),
            ("nanoseconds", 86_401_234_000_000),
            ("seconds", 86_401),
        ] {
            let out = apply(
                t(&[
                    ("target.type", "unix"),
                    ("unix.precision", precision),
                    ("format", FMT),
                ])
                .as_ref(),
                r(),
            );
            assert_eq!(out.value, Value::Int64(expected), "{precision}");
        }
        let e = t(&[("target.type", "Timestamp"), ("format", FMT)])
            .apply(value_record(None, Value::from("nope")))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Could not parse timestamp: value (nope) does not match pattern (yyyy MM dd HH mm ss SSS z)"
        );
        let e = t(&[("target.type", "Timestamp")])
            .apply(value_record(None, Value::Int32(1)))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "TimestampConverter does not support class java.lang.Integer objects as timestamps"
        );
    }

    #[test]
    fn with_schema_from_timestamp() {
        let r = || value_record(Some(ts_schema()), Value::Int64(DATE_PLUS_TIME_UNIX));
        let out = apply(t(&[("target.type", "Timestamp")]).as_ref(), r());
        assert_eq!(out.value_schema, Some(ts_schema()));
        assert_eq!(out.value, Value::Int64(DATE_PLUS_TIME_UNIX));
        let out = apply(t(&[("target.type", "Date")]).as_ref(), r());
        assert_eq!(out.value_schema, Some(logical::date().build()));
        assert_eq!(out.value, Value::Int32(DATE_DAYS));
        let out = apply(t(&[("target.type", "Time")]).as_ref(), r());
        assert_eq!(out.value_schema, Some(logical::time().build()));
        assert_eq!(out.value, Value::Int32(TIME_MS));
        let out = apply(t(&[("target.type", "unix")]).as_ref(), r());
        assert_eq!(out.value_schema, Some(SchemaBuilder::int64().build()));
        assert_eq!(out.value, Value::Int64(DATE_PLUS_TIME_UNIX));
        let out = apply(
            t(&[("target.type", "string"), ("format", FMT)]).as_ref(),
            r(),
        );
        assert_eq!(out.value_schema, Some(SchemaBuilder::string().build()));
        assert_eq!(out.value, Value::from(DATE_PLUS_TIME_STRING));
    }

    #[test]
    fn with_schema_to_timestamp() {
        let tt = t(&[("target.type", "Timestamp"), ("format", FMT)]);
        for (schema, value, expected) in [
            (
                logical::date().build(),
                Value::Int32(DATE_DAYS),
                MILLIS_PER_DAY,
            ),
            (
                logical::time().build(),
                Value::Int32(TIME_MS),
                i64::from(TIME_MS),
            ),
            (
                SchemaBuilder::int64().build(),
                Value::Int64(DATE_PLUS_TIME_UNIX),
                DATE_PLUS_TIME_UNIX,
            ),
            (
                SchemaBuilder::string().build(),
                Value::from(DATE_PLUS_TIME_STRING),
                DATE_PLUS_TIME_UNIX,
            ),
        ] {
            let out = apply(tt.as_ref(), value_record(Some(schema), value));
            assert_eq!(out.value_schema, Some(ts_schema()));
            assert_eq!(out.value, Value::Int64(expected));
        }
        let e = tt
            .apply(value_record(
                Some(SchemaBuilder::int32().build()),
                Value::Int32(1),
            ))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Schema Schema{INT32} does not correspond to a known timestamp type format"
        );
    }

    #[test]
    fn null_values_with_schema_keep_optional_target_schemas() {
        let optional_sources = || {
            vec![
                SchemaBuilder::int64().optional().build(),
                logical::time().optional().build(),
                logical::date().optional().build(),
                SchemaBuilder::string().optional().build(),
                logical::timestamp().optional().build(),
            ]
        };
        for (target, expected) in [
            ("Timestamp", logical::timestamp().optional().build()),
            ("unix", SchemaBuilder::int64().optional().build()),
            ("Time", logical::time().optional().build()),
            ("Date", logical::date().optional().build()),
            ("string", SchemaBuilder::string().optional().build()),
        ] {
            let whole = t(&[("target.type", target), ("format", FMT)]);
            let field = t(&[("target.type", target), ("format", FMT), ("field", "ts")]);
            for source in optional_sources() {
                let out = apply(
                    whole.as_ref(),
                    value_record(Some(source.clone()), Value::Null),
                );
                assert_eq!(out.value_schema.as_ref(), Some(&expected));
                assert_eq!(out.value, Value::Null);
                // a null field
                let b = SchemaBuilder::struct_()
                    .field("ts", source.clone())
                    .field("other", SchemaBuilder::string().build());
                let expected_struct = SchemaBuilder::struct_()
                    .field("ts", expected.clone())
                    .field("other", SchemaBuilder::string().build());
                let schema = b.clone().build();
                let value = Struct::new(schema.clone()).with("other", "test");
                let out = apply(
                    field.as_ref(),
                    value_record(Some(schema), Value::Struct(value)),
                );
                assert_eq!(
                    out.value_schema.as_deref(),
                    Some(&*expected_struct.clone().build())
                );
                assert_eq!(out.value.as_struct().unwrap().get("ts"), Some(&Value::Null));
                // a null struct
                let out = apply(
                    field.as_ref(),
                    value_record(Some(b.optional().build()), Value::Null),
                );
                assert_eq!(
                    out.value_schema.as_deref(),
                    Some(&*expected_struct.optional().build())
                );
                assert_eq!(out.value, Value::Null);
            }
            // schemaless nulls
            let out = apply(whole.as_ref(), value_record(None, Value::Null));
            assert_eq!((out.value_schema, out.value), (None, Value::Null));
            let out = apply(field.as_ref(), value_record(None, Value::Null));
            assert_eq!((out.value_schema, out.value), (None, Value::Null));
        }
    }

    #[test]
    fn field_conversions() {
        let out = apply(
            t(&[("target.type", "Date"), ("field", "ts")]).as_ref(),
            value_record(None, map(vec![("ts", Value::Int64(DATE_PLUS_TIME_UNIX))])),
        );
        assert_eq!(out.value, map(vec![("ts", Value::Int64(MILLIS_PER_DAY))]));

        let schema = SchemaBuilder::struct_()
            .field("ts", SchemaBuilder::int64().build())
            .field("other", SchemaBuilder::string().build())
            .build();
        let value = Struct::new(schema.clone())
            .with("ts", DATE_PLUS_TIME_UNIX)
            .with("other", "test");
        let tt = t(&[("target.type", "Timestamp"), ("field", "ts")]);
        let out = apply(
            tt.as_ref(),
            value_record(Some(schema.clone()), Value::Struct(value.clone())),
        );
        let expected = SchemaBuilder::struct_()
            .field("ts", ts_schema())
            .field("other", SchemaBuilder::string().build())
            .build();
        assert_eq!(out.value_schema.as_deref(), Some(&*expected));
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("ts"), Some(&Value::Int64(DATE_PLUS_TIME_UNIX)));
        assert_eq!(v.get("other"), Some(&Value::from("test")));
        assert!(v.validate().is_ok());
        let again = apply(
            tt.as_ref(),
            value_record(Some(schema), Value::Struct(value)),
        );
        assert!(Arc::ptr_eq(
            out.value_schema.as_ref().unwrap(),
            again.value_schema.as_ref().unwrap()
        ));
    }

    #[test]
    fn null_field_with_default_and_replace_off() {
        let tt = t(&[
            ("target.type", "Timestamp"),
            ("field", "ts"),
            ("replace.null.with.default", "false"),
        ]);
        let schema = SchemaBuilder::struct_()
            .field(
                "ts",
                SchemaBuilder::int64()
                    .optional()
                    .default_value(Value::Int64(0))
                    .build(),
            )
            .field("other", SchemaBuilder::string().build())
            .build();
        let value = Struct::new(schema.clone()).with("other", "test");
        let out = apply(
            tt.as_ref(),
            value_record(Some(schema), Value::Struct(value)),
        );
        let expected = SchemaBuilder::struct_()
            .field("ts", logical::timestamp().optional().build())
            .field("other", SchemaBuilder::string().build())
            .build();
        assert_eq!(out.value_schema.as_deref(), Some(&*expected));
        assert_eq!(out.value.as_struct().unwrap().get("ts"), Some(&Value::Null));
    }

    #[test]
    fn unix_precisions_with_schema() {
        for (precision, input) in [
            ("microseconds", DATE_PLUS_TIME_UNIX * 1000 + 123),
            (
                "nanoseconds",
                (DATE_PLUS_TIME_UNIX * 1000 + 123) * 1000 + 456,
            ),
        ] {
            let tt = t(&[
                ("target.type", "Timestamp"),
                ("field", "ts"),
                ("unix.precision", precision),
            ]);
            let schema = SchemaBuilder::struct_()
                .field("ts", SchemaBuilder::int64().build())
                .build();
            let out = apply(
                tt.as_ref(),
                value_record(
                    Some(schema.clone()),
                    Value::Struct(Struct::new(schema).with("ts", input)),
                ),
            );
            assert_eq!(
                out.value.as_struct().unwrap().get("ts"),
                Some(&Value::Int64(DATE_PLUS_TIME_UNIX))
            );
        }
        let tt = t(&[
            ("target.type", "Timestamp"),
            ("field", "ts"),
            ("unix.precision", "seconds"),
        ]);
        let schema = SchemaBuilder::struct_()
            .field("ts", SchemaBuilder::int64().build())
            .build();
        let out = apply(
            tt.as_ref(),
            value_record(
                Some(schema.clone()),
                Value::Struct(Struct::new(schema).with("ts", 86_401i64)),
            ),
        );
        assert_eq!(
            out.value.as_struct().unwrap().get("ts"),
            Some(&Value::Int64(86_401_000))
        );
    }

    #[test]
    fn key_variant() {
        let tt = transform(KEY_CLASS, &[("target.type", "Timestamp")]);
        let out = apply(
            tt.as_ref(),
            key_record(None, Value::Int64(DATE_PLUS_TIME_UNIX)),
        );
        assert_eq!(
            (out.key_schema, out.key),
            (None, Value::Int64(DATE_PLUS_TIME_UNIX))
        );
    }
}
