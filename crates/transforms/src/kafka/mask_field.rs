//! `org.apache.kafka.connect.transforms.MaskField$Key` / `$Value`: replaces
//! the listed `fields` with the "empty" value of their type (0, false, "",
//! the epoch, an empty array or map), or with `replacement` converted to the
//! field's type (numbers and strings only).

use std::collections::HashSet;
use std::sync::Arc;

use num_bigint::BigInt;
use sluice_connect_api::data::logical;
use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Decimal, Field, Importance, Result,
    SourceRecord, Transform, TransformPlugin, Validator, Value,
};

use super::java;
use super::replace_null_with_default_key;
use crate::common::{
    class_of, java_class, map_get, map_put, new_struct, non_empty_list, require_map,
    require_struct, with_default, SchemaCache, Side, SmtPlugin,
};

pub const KEY_CLASS: &str = "org.apache.kafka.connect.transforms.MaskField$Key";
pub const VALUE_CLASS: &str = "org.apache.kafka.connect.transforms.MaskField$Value";
const PURPOSE: &str = "mask fields";

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("fields", ConfigType::List)
                .validator(Validator::Custom(non_empty_list))
                .importance(Importance::High)
                .doc("Names of fields to mask."),
        )
        .define(
            ConfigKey::new("replacement", ConfigType::String)
                .optional()
                .validator(Validator::NonEmptyString)
                .importance(Importance::Low)
                .doc("Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."),
        )
        .define(replace_null_with_default_key())
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    [(KEY_CLASS, Side::Key), (VALUE_CLASS, Side::Value)]
        .into_iter()
        .map(|(class, side)| {
            SmtPlugin::define(class, &[], config_def(), move |c| {
                let fields = c.get_list("fields").to_vec();
                Ok(Box::new(MaskField {
                    side,
                    set: fields.iter().cloned().collect(),
                    fields,
                    replacement: c.get_string("replacement").map(str::to_string),
                    replace_null_with_default: c.get_bool("replace.null.with.default"),
                    cache: SchemaCache::new(),
                }) as Box<dyn Transform>)
            })
        })
        .collect()
}

pub struct MaskField {
    side: Side,
    fields: Vec<String>,
    set: HashSet<String>,
    replacement: Option<String>,
    replace_null_with_default: bool,
    /// Struct schema → whether each field is masked.
    cache: SchemaCache<Arc<Vec<bool>>>,
}

impl Transform for MaskField {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let mut entries = require_map(value, PURPOSE)?;
                for name in &self.fields {
                    let masked = match map_get(&entries, name) {
                        Some(v) => self.masked(v, None)?,
                        None => Value::Null,
                    };
                    map_put(&mut entries, name, masked);
                }
                self.side.put(&mut record, None, Value::Map(entries));
            }
            Some(schema) => {
                let value = require_struct(value, PURPOSE)?;
                let struct_schema = value.schema().clone();
                let masked = self.cache.get_or_try_insert(&struct_schema, |s| {
                    Ok::<_, ConnectError>(Arc::new(
                        s.fields
                            .iter()
                            .map(|f| self.set.contains(&f.name))
                            .collect(),
                    ))
                })?;
                let values = value
                    .into_values()
                    .into_iter()
                    .zip(&struct_schema.fields)
                    .zip(masked.iter())
                    .map(|((v, field), &mask)| {
                        let v = with_default(v, field, self.replace_null_with_default);
                        if mask {
                            self.masked(&v, Some(field))
                        } else {
                            Ok(v)
                        }
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.side.put(
                    &mut record,
                    Some(schema),
                    Value::Struct(new_struct(struct_schema, values)?),
                );
            }
        }
        Ok(Some(record))
    }
}

/// True for Connect's Date / Time / Timestamp (a `java.util.Date` in Kafka).
fn is_date(field: Option<&Field>) -> bool {
    field.is_some_and(|f| {
        f.schema.is_named(logical::DATE)
            || f.schema.is_named(logical::TIME)
            || f.schema.is_named(logical::TIMESTAMP)
    })
}

impl MaskField {
    fn masked(&self, value: &Value, field: Option<&Field>) -> Result<Value> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        match &self.replacement {
            None => mask_with_null_value(value, field),
            Some(r) => mask_with_replacement(value, field, r),
        }
    }
}

fn mask_with_null_value(value: &Value, field: Option<&Field>) -> Result<Value> {
    Ok(match value {
        Value::Boolean(_) => Value::Boolean(false),
        Value::Int8(_) => Value::Int8(0),
        Value::Int16(_) => Value::Int16(0),
        // Date / Time (int32) and Timestamp (int64) become the epoch.
        Value::Int32(_) => Value::Int32(0),
        Value::Int64(_) => Value::Int64(0),
        Value::Float32(_) => Value::Float32(0.0),
        Value::Float64(_) => Value::Float64(0.0),
        Value::String(_) => Value::String(String::new().into()),
        Value::Decimal(d) => {
            // BigDecimal.ZERO, kept at the field's scale so the value still
            // fits its Decimal schema.
            let scale = field.map_or(0, |_| d.scale);
            Value::Decimal(Decimal::new(0, scale))
        }
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Map(_) => Value::Map(Vec::new()),
        other => {
            return Err(ConnectError::data(format!(
                "Cannot mask value of type: {}",
                class_of(other)
            )))
        }
    })
}

fn mask_with_replacement(value: &Value, field: Option<&Field>, replacement: &str) -> Result<Value> {
    let unsupported = || {
        let class = if is_date(field) {
            "class java.util.Date".to_string()
        } else {
            class_of(value)
        };
        ConnectError::data(format!(
            "Cannot mask value of type {class} with custom replacement."
        ))
    };
    if is_date(field) {
        return Err(unsupported());
    }
    // Values.convertToX(null, replacement): the text as a number.
    let as_long = || {
        Decimal::parse(replacement)
            .map(|d| java::decimal_to_i64_wrapping(&d))
            .ok_or_else(|| {
                ConnectError::data(format!(
                    "Unable to convert {replacement} (class java.lang.String) to a number"
                ))
            })
    };
    let as_double = || {
        Decimal::parse(replacement)
            .map(|d| java::decimal_to_f64(&d))
            .ok_or_else(|| {
                ConnectError::data(format!(
                    "Unable to convert {replacement} (class java.lang.String) to a number"
                ))
            })
    };
    Ok(match value {
        Value::Int8(_) => Value::Int8(as_long()? as i8),
        Value::Int16(_) => Value::Int16(as_long()? as i16),
        Value::Int32(_) => Value::Int32(as_long()? as i32),
        Value::Int64(_) => Value::Int64(as_long()?),
        Value::Float32(_) => Value::Float32(as_double()? as f32),
        Value::Float64(_) => Value::Float64(as_double()?),
        Value::String(_) => Value::String(replacement.into()),
        Value::Decimal(current) => {
            let d = Decimal::parse(replacement).ok_or_else(|| {
                ConnectError::data(format!(
                    "Unable to convert {replacement} (class java.lang.String) to number"
                ))
            })?;
            match field {
                // With a schema the value must keep the schema's scale.
                Some(_) => Value::Decimal(rescale(&d, current.scale).ok_or_else(|| {
                    ConnectError::data(format!(
                        "Cannot mask value of type {} with custom replacement {replacement}: it does not fit the field's Decimal scale {}",
                        java_class(value),
                        current.scale
                    ))
                })?),
                None => Value::Decimal(d),
            }
        }
        _ => return Err(unsupported()),
    })
}

/// The same number at another scale, when exact.
fn rescale(d: &Decimal, scale: i32) -> Option<Decimal> {
    let ten = BigInt::from(10);
    if scale >= d.scale {
        let factor = ten.pow((scale - d.scale) as u32);
        Some(Decimal::new(d.unscaled.clone() * factor, scale))
    } else {
        let divisor = ten.pow((d.scale - scale) as u32);
        (d.unscaled.clone() % &divisor == BigInt::from(0))
            .then(|| Decimal::new(d.unscaled.clone() / divisor, scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::*;
    use sluice_connect_api::Struct;
    use sluice_connect_api::{SchemaBuilder, SchemaRef};

    fn schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .field("magic", SchemaBuilder::int32().build())
            .field("bool", SchemaBuilder::boolean().build())
            .field("byte", SchemaBuilder::int8().build())
            .field("short", SchemaBuilder::int16().build())
            .field("int", SchemaBuilder::int32().build())
            .field("long", SchemaBuilder::int64().build())
            .field("float", SchemaBuilder::float32().build())
            .field("double", SchemaBuilder::float64().build())
            .field("string", SchemaBuilder::string().build())
            .field("date", logical::date().build())
            .field("time", logical::time().build())
            .field("timestamp", logical::timestamp().build())
            .field("decimal", logical::decimal(0).build())
            .field(
                "array",
                SchemaBuilder::array(SchemaBuilder::int32().build()).build(),
            )
            .field(
                "map",
                SchemaBuilder::map(
                    SchemaBuilder::string().build(),
                    SchemaBuilder::string().build(),
                )
                .build(),
            )
            .field(
                "withDefault",
                SchemaBuilder::string()
                    .optional()
                    .default_value(Value::from("default"))
                    .build(),
            )
            .build()
    }

    fn values_with_schema() -> Value {
        Value::Struct(Struct::from_values(
            schema(),
            vec![
                Value::Int32(42),
                Value::Boolean(true),
                Value::Int8(42),
                Value::Int16(42),
                Value::Int32(42),
                Value::Int64(42),
                Value::Float32(42.0),
                Value::Float64(42.0),
                Value::from("hmm"),
                Value::Int32(19_000),
                Value::Int32(3_600_000),
                Value::Int64(1_700_000_000_000),
                Value::Decimal(Decimal::new(42, 0)),
                Value::Array(vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)]),
                Value::Map(vec![(Value::from("what"), Value::from("what"))]),
                Value::Null,
            ],
        ))
    }

    fn values() -> Value {
        map(vec![
            ("magic", Value::Int32(42)),
            ("bool", Value::Boolean(true)),
            ("byte", Value::Int8(42)),
            ("short", Value::Int16(42)),
            ("int", Value::Int32(42)),
            ("long", Value::Int64(42)),
            ("float", Value::Float32(42.0)),
            ("double", Value::Float64(42.0)),
            ("string", Value::from("55.121.20.20")),
            ("bigdec", Value::Decimal(Decimal::new(420, 1))),
            ("list", Value::Array(vec![Value::Int32(42)])),
            (
                "map",
                Value::Map(vec![(Value::from("key"), Value::from("value"))]),
            ),
        ])
    }

    fn mask(fields: &str, replacement: Option<&str>, r: SourceRecord) -> Result<SourceRecord> {
        let mut p = vec![("fields", fields), ("replace.null.with.default", "false")];
        if let Some(rep) = replacement {
            p.push(("replacement", rep));
        }
        transform(VALUE_CLASS, &p).apply(r).map(|o| o.unwrap())
    }

    // Kafka's MaskFieldTest.testSchemaless.
    #[test]
    fn schemaless() {
        let fields = "bool,byte,short,int,long,float,double,string,bigdec,list,map";
        let out = mask(fields, None, value_record(None, values()))
            .unwrap()
            .value;
        assert_eq!(get(&out, "magic"), Some(&Value::Int32(42)));
        assert_eq!(get(&out, "bool"), Some(&Value::Boolean(false)));
        assert_eq!(get(&out, "byte"), Some(&Value::Int8(0)));
        assert_eq!(get(&out, "short"), Some(&Value::Int16(0)));
        assert_eq!(get(&out, "int"), Some(&Value::Int32(0)));
        assert_eq!(get(&out, "long"), Some(&Value::Int64(0)));
        assert_eq!(get(&out, "float"), Some(&Value::Float32(0.0)));
        assert_eq!(get(&out, "double"), Some(&Value::Float64(0.0)));
        assert_eq!(get(&out, "string"), Some(&Value::from("")));
        assert_eq!(
            get(&out, "bigdec"),
            Some(&Value::Decimal(Decimal::new(0, 0)))
        );
        assert_eq!(get(&out, "list"), Some(&Value::Array(vec![])));
        assert_eq!(get(&out, "map"), Some(&Value::Map(vec![])));
        // a listed field that is absent is put as null, as Kafka's HashMap.put does
        let out = mask("absent", None, value_record(None, values()))
            .unwrap()
            .value;
        assert_eq!(get(&out, "absent"), Some(&Value::Null));
    }

    // Kafka's MaskFieldTest.testWithSchema.
    #[test]
    fn with_schema() {
        let fields: Vec<String> = schema()
            .fields
            .iter()
            .filter(|f| f.name != "magic")
            .map(|f| f.name.clone())
            .collect();
        let r = value_record(Some(schema()), values_with_schema());
        let out = mask(&fields.join(","), None, r).unwrap();
        assert_eq!(out.value_schema, Some(schema()));
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("magic"), Some(&Value::Int32(42)));
        assert_eq!(v.get("bool"), Some(&Value::Boolean(false)));
        assert_eq!(v.get("byte"), Some(&Value::Int8(0)));
        assert_eq!(v.get("short"), Some(&Value::Int16(0)));
        assert_eq!(v.get("int"), Some(&Value::Int32(0)));
        assert_eq!(v.get("long"), Some(&Value::Int64(0)));
        assert_eq!(v.get("float"), Some(&Value::Float32(0.0)));
        assert_eq!(v.get("double"), Some(&Value::Float64(0.0)));
        assert_eq!(v.get("string"), Some(&Value::from("")));
        assert_eq!(v.get("date"), Some(&Value::Int32(0)));
        assert_eq!(v.get("time"), Some(&Value::Int32(0)));
        assert_eq!(v.get("timestamp"), Some(&Value::Int64(0)));
        assert_eq!(v.get("decimal"), Some(&Value::Decimal(Decimal::new(0, 0))));
        assert_eq!(v.get("array"), Some(&Value::Array(vec![])));
        assert_eq!(v.get("map"), Some(&Value::Map(vec![])));
        assert_eq!(v.get("withDefault"), Some(&Value::Null));
        assert!(v.validate().is_ok());
    }

    // Kafka's MaskFieldTest.testSchemalessWithReplacement / testWithSchemaAndReplacement.
    #[test]
    fn replacements() {
        let cases = [
            ("short", Value::Int16(123)),
            ("byte", Value::Int8(123)),
            ("int", Value::Int32(123)),
            ("long", Value::Int64(123)),
            ("float", Value::Float32(123.0)),
            ("double", Value::Float64(123.0)),
            ("string", Value::from("123")),
        ];
        for (field, expected) in &cases {
            let out = mask(field, Some("123"), value_record(None, values()))
                .unwrap()
                .value;
            assert_eq!(get(&out, field), Some(expected), "{field}");
            let out = mask(
                field,
                Some("123"),
                value_record(Some(schema()), values_with_schema()),
            )
            .unwrap()
            .value;
            assert_eq!(
                out.as_struct().unwrap().get(field),
                Some(expected),
                "{field}"
            );
        }
        let out = mask("bigdec", Some("123.0"), value_record(None, values()))
            .unwrap()
            .value;
        assert_eq!(
            get(&out, "bigdec"),
            Some(&Value::Decimal(Decimal::new(1230, 1)))
        );
        // with a schema, the decimal keeps the field's scale
        let out = mask(
            "decimal",
            Some("123.0"),
            value_record(Some(schema()), values_with_schema()),
        )
        .unwrap()
        .value;
        assert_eq!(
            out.as_struct().unwrap().get("decimal"),
            Some(&Value::Decimal(Decimal::new(123, 0)))
        );
    }

    // Kafka's testSchemalessUnsupportedReplacementType / testWithSchemaUnsupportedReplacementType
    // / testReplacementTypeMismatch.
    #[test]
    fn unsupported_replacements_fail() {
        for (field, rep) in [("bool", "false"), ("list", "123"), ("map", "123")] {
            let e = mask(field, Some(rep), value_record(None, values())).unwrap_err();
            assert!(
                e.message().starts_with("Cannot mask value of type"),
                "{}",
                e.message()
            );
        }
        for field in ["time", "timestamp", "date"] {
            let e = mask(
                field,
                Some("1"),
                value_record(Some(schema()), values_with_schema()),
            )
            .unwrap_err();
            assert_eq!(
                e.message(),
                "Cannot mask value of type class java.util.Date with custom replacement."
            );
        }
        let e = mask(
            "array",
            Some("1"),
            value_record(Some(schema()), values_with_schema()),
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot mask value of type class java.util.ArrayList with custom replacement."
        );
        for field in ["byte", "short", "int", "long", "float", "double", "bigdec"] {
            assert!(
                mask(field, Some("foo"), value_record(None, values())).is_err(),
                "{field}"
            );
        }
        assert!(mask("string,int", Some("foo"), value_record(None, values())).is_err());
    }

    #[test]
    fn configuration() {
        let i = issues(VALUE_CLASS, &[("fields", "short"), ("replacement", "")]);
        assert_eq!(i[0].key, "replacement");
        assert!(i[0].message.contains("String must be non-empty"));
        assert_eq!(issues(VALUE_CLASS, &[])[0].key, "fields");
    }

    #[test]
    fn null_values_fail_like_kafka_and_key_variant_works() {
        let e = mask("a", None, value_record(None, Value::Null)).unwrap_err();
        assert_eq!(
            e.message(),
            "Only Map objects supported in absence of schema for [mask fields], found: null"
        );
        let t = transform(KEY_CLASS, &[("fields", "int")]);
        let out = apply(t.as_ref(), key_record(None, values()));
        assert_eq!(get(&out.key, "int"), Some(&Value::Int32(0)));
        assert_eq!(get(&out.key, "magic"), Some(&Value::Int32(42)));
    }
}
