//! `org.apache.kafka.connect.transforms.InsertField$Key` / `$Value`: adds
//! fields holding the record's topic (`topic.field`), Kafka partition
//! (`partition.field`), offset (`offset.field`, sink records only — a source
//! record has none, so it fails as in Kafka), timestamp (`timestamp.field`,
//! a Connect Timestamp) and a static string (`static.field` =
//! `static.value`). A field name ending in `!` makes the new field
//! required, `?` (the default) optional.

use std::sync::Arc;

use sluice_connect_api::data::logical;
use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Result, SchemaRef, SchemaType,
    SourceRecord, Transform, TransformPlugin, Value,
};

use super::replace_null_with_default_key;
use crate::common::{
    config_problem, copy_basics, invalid, map_put, new_struct, primitive, push_field, require_map,
    require_struct, with_default, SchemaCache, Side, SmtPlugin,
};

pub const KEY_CLASS: &str = "org.apache.kafka.connect.transforms.InsertField$Key";
pub const VALUE_CLASS: &str = "org.apache.kafka.connect.transforms.InsertField$Value";
const PURPOSE: &str = "field insertion";
const OPTIONALITY_DOC: &str =
    "Suffix with ! to make this a required field, or ? to keep it optional (the default).";

pub fn config_def() -> ConfigDef {
    let key = |name: &str, doc: String| {
        ConfigKey::new(name, ConfigType::String)
            .optional()
            .importance(Importance::Medium)
            .doc(doc)
    };
    ConfigDef::new()
        .define(key("topic.field", format!("Field name for Kafka topic. {OPTIONALITY_DOC}")))
        .define(key("partition.field", format!("Field name for Kafka partition. {OPTIONALITY_DOC}")))
        .define(key(
            "offset.field",
            format!("Field name for Kafka offset - only applicable to sink connectors. {OPTIONALITY_DOC}"),
        ))
        .define(key("timestamp.field", format!("Field name for record timestamp. {OPTIONALITY_DOC}")))
        .define(key("static.field", format!("Field name for static data field. {OPTIONALITY_DOC}")))
        .define(key("static.value", "Static field value, if field name configured.".into()))
        .define(replace_null_with_default_key())
}

/// A field to insert: its name and whether it is optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertionSpec {
    pub name: String,
    pub optional: bool,
}

impl InsertionSpec {
    pub fn parse(spec: Option<&str>) -> Option<InsertionSpec> {
        let spec = spec?;
        Some(if let Some(name) = spec.strip_suffix('?') {
            InsertionSpec {
                name: name.into(),
                optional: true,
            }
        } else if let Some(name) = spec.strip_suffix('!') {
            InsertionSpec {
                name: name.into(),
                optional: false,
            }
        } else {
            InsertionSpec {
                name: spec.into(),
                optional: true,
            }
        })
    }
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    [(KEY_CLASS, Side::Key), (VALUE_CLASS, Side::Value)]
        .into_iter()
        .map(|(class, side)| {
            SmtPlugin::define(class, &[], config_def(), move |c| {
                let spec = |k: &str| InsertionSpec::parse(c.get_string(k));
                let t = InsertField {
                    side,
                    topic: spec("topic.field"),
                    partition: spec("partition.field"),
                    offset: spec("offset.field"),
                    timestamp: spec("timestamp.field"),
                    static_field: spec("static.field"),
                    static_value: c.get_string("static.value").map(str::to_string),
                    replace_null_with_default: c.get_bool("replace.null.with.default"),
                    cache: SchemaCache::new(),
                };
                if t.topic.is_none()
                    && t.partition.is_none()
                    && t.offset.is_none()
                    && t.timestamp.is_none()
                    && t.static_field.is_none()
                {
                    return Err(config_problem("No field insertion configured"));
                }
                if let (Some(f), None) = (&t.static_field, &t.static_value) {
                    return Err(invalid(
                        "static.value",
                        "null",
                        format!("No value specified for static field: {}", f.name),
                    ));
                }
                Ok(Box::new(t) as Box<dyn Transform>)
            })
        })
        .collect()
}

pub struct InsertField {
    side: Side,
    topic: Option<InsertionSpec>,
    partition: Option<InsertionSpec>,
    offset: Option<InsertionSpec>,
    timestamp: Option<InsertionSpec>,
    static_field: Option<InsertionSpec>,
    static_value: Option<String>,
    replace_null_with_default: bool,
    cache: SchemaCache<SchemaRef>,
}

fn offset_unsupported() -> ConnectError {
    ConnectError::data(format!(
        "Only SinkRecord supported for [{PURPOSE}], found: org.apache.kafka.connect.source.SourceRecord"
    ))
}

impl InsertField {
    fn updated_schema(&self, schema: &SchemaRef) -> Result<SchemaRef> {
        let mut out = copy_basics(schema, SchemaType::Struct);
        for f in &schema.fields {
            push_field(&mut out, f.name.clone(), f.schema.clone())?;
        }
        if let Some(s) = &self.topic {
            push_field(
                &mut out,
                s.name.clone(),
                primitive(SchemaType::String, s.optional),
            )?;
        }
        if let Some(s) = &self.partition {
            push_field(
                &mut out,
                s.name.clone(),
                primitive(SchemaType::Int32, s.optional),
            )?;
        }
        if let Some(s) = &self.offset {
            push_field(
                &mut out,
                s.name.clone(),
                primitive(SchemaType::Int64, s.optional),
            )?;
        }
        if let Some(s) = &self.timestamp {
            let mut b = logical::timestamp();
            if s.optional {
                b = b.optional();
            }
            push_field(&mut out, s.name.clone(), b.build())?;
        }
        if let Some(s) = &self.static_field {
            push_field(
                &mut out,
                s.name.clone(),
                primitive(SchemaType::String, s.optional),
            )?;
        }
        Ok(Arc::new(out))
    }
}

impl Transform for InsertField {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        if self.side.value(&record).is_null() {
            return Ok(Some(record));
        }
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let mut entries = require_map(value, PURPOSE)?;
                if let Some(s) = &self.topic {
                    map_put(&mut entries, &s.name, Value::from(&*record.topic));
                }
                if let (Some(s), Some(p)) = (&self.partition, record.kafka_partition) {
                    map_put(&mut entries, &s.name, Value::Int32(p));
                }
                if self.offset.is_some() {
                    return Err(offset_unsupported());
                }
                if let (Some(s), Some(ts)) = (&self.timestamp, record.timestamp) {
                    map_put(&mut entries, &s.name, Value::Int64(ts));
                }
                if let (Some(s), Some(v)) = (&self.static_field, &self.static_value) {
                    map_put(&mut entries, &s.name, Value::String(v.into()));
                }
                self.side.put(&mut record, None, Value::Map(entries));
            }
            Some(_) => {
                let value = require_struct(value, PURPOSE)?;
                let updated = self
                    .cache
                    .get_or_try_insert(value.schema(), |s| self.updated_schema(s))?;
                let in_schema = value.schema().clone();
                let mut values: Vec<Value> = Vec::with_capacity(updated.fields.len());
                values.extend(
                    value
                        .into_values()
                        .into_iter()
                        .zip(&in_schema.fields)
                        .map(|(v, f)| with_default(v, f, self.replace_null_with_default)),
                );
                if self.topic.is_some() {
                    values.push(Value::from(&*record.topic));
                }
                if self.partition.is_some() {
                    values.push(record.kafka_partition.map_or(Value::Null, Value::Int32));
                }
                if self.offset.is_some() {
                    return Err(offset_unsupported());
                }
                if self.timestamp.is_some() {
                    values.push(record.timestamp.map_or(Value::Null, Value::Int64));
                }
                if self.static_field.is_some() {
                    values.push(self.static_value.clone().map_or(Value::Null, Value::from));
                }
                self.side.put(
                    &mut record,
                    Some(updated.clone()),
                    Value::Struct(new_struct(updated, values)?),
                );
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
    use sluice_connect_api::Struct;

    const ALL: &[(&str, &str)] = &[
        ("topic.field", "topic_field!"),
        ("partition.field", "partition_field"),
        ("timestamp.field", "timestamp_field?"),
        ("static.field", "instance_id"),
        ("static.value", "my-instance-id"),
    ];

    fn record(
        schema: Option<SchemaRef>,
        value: Value,
        partition: i32,
        ts: Option<i64>,
    ) -> SourceRecord {
        let mut r = SourceRecord::new(None, None, "test", schema, value);
        r.kafka_partition = Some(partition);
        r.timestamp = ts;
        r
    }

    // Kafka's InsertFieldTest.
    #[test]
    fn top_level_struct_required() {
        let t = transform(VALUE_CLASS, &[("topic.field", "topic_field")]);
        let e = t
            .apply(record(
                Some(SchemaBuilder::int32().build()),
                Value::Int32(42),
                0,
                None,
            ))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Only Struct objects supported for [field insertion], found: java.lang.Integer"
        );
    }

    #[test]
    fn copy_schema_and_insert_configured_fields() {
        let t = transform(VALUE_CLASS, ALL);
        let schema = SchemaBuilder::struct_()
            .name("name")
            .version(1)
            .doc("doc")
            .field("magic", SchemaBuilder::int64().optional().build())
            .build();
        let value = Struct::new(schema.clone()).with("magic", 42i64);
        let out = apply(
            t.as_ref(),
            record(Some(schema.clone()), Value::Struct(value), 0, Some(789)),
        );
        let s = out.value_schema.clone().unwrap();
        assert_eq!(s.name.as_deref(), Some("name"));
        assert_eq!(s.version, Some(1));
        assert_eq!(s.doc.as_deref(), Some("doc"));
        let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "magic",
                "topic_field",
                "partition_field",
                "timestamp_field",
                "instance_id"
            ]
        );
        assert_eq!(
            s.field("magic").unwrap().schema,
            SchemaBuilder::int64().optional().build()
        );
        assert_eq!(
            s.field("topic_field").unwrap().schema,
            SchemaBuilder::string().build()
        );
        assert_eq!(
            s.field("partition_field").unwrap().schema,
            SchemaBuilder::int32().optional().build()
        );
        assert_eq!(
            s.field("timestamp_field").unwrap().schema,
            logical::timestamp().optional().build()
        );
        assert_eq!(
            s.field("instance_id").unwrap().schema,
            SchemaBuilder::string().optional().build()
        );
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("magic"), Some(&Value::Int64(42)));
        assert_eq!(v.get("topic_field"), Some(&Value::from("test")));
        assert_eq!(v.get("partition_field"), Some(&Value::Int32(0)));
        assert_eq!(v.get("timestamp_field"), Some(&Value::Int64(789)));
        assert_eq!(v.get("instance_id"), Some(&Value::from("my-instance-id")));
        assert!(v.validate().is_ok());
        // Exercise caching
        let out2 = apply(
            t.as_ref(),
            record(
                Some(schema.clone()),
                Value::Struct(Struct::new(schema)),
                1,
                None,
            ),
        );
        assert!(Arc::ptr_eq(&s, out2.value_schema.as_ref().unwrap()));
    }

    #[test]
    fn schemaless_insert_configured_fields() {
        let t = transform(VALUE_CLASS, ALL);
        let out = apply(
            t.as_ref(),
            record(None, map(vec![("magic", Value::Int64(42))]), 0, Some(123)),
        );
        assert_eq!(get(&out.value, "magic"), Some(&Value::Int64(42)));
        assert_eq!(get(&out.value, "topic_field"), Some(&Value::from("test")));
        assert_eq!(get(&out.value, "partition_field"), Some(&Value::Int32(0)));
        assert_eq!(get(&out.value, "timestamp_field"), Some(&Value::Int64(123)));
        assert_eq!(
            get(&out.value, "instance_id"),
            Some(&Value::from("my-instance-id"))
        );
    }

    #[test]
    fn tombstones_and_null_keys_pass_unchanged() {
        let t = transform(VALUE_CLASS, ALL);
        let out = apply(t.as_ref(), record(None, Value::Null, 0, None));
        assert_eq!((out.value_schema, out.value), (None, Value::Null));
        let schema = SchemaBuilder::struct_()
            .field("magic", SchemaBuilder::int64().optional().build())
            .build();
        let out = apply(
            t.as_ref(),
            record(Some(schema.clone()), Value::Null, 0, None),
        );
        assert_eq!(out.value_schema, Some(schema));
        let k = transform(KEY_CLASS, ALL);
        let r = record(None, map(vec![("magic", Value::Int64(42))]), 0, None);
        assert_eq!(apply(k.as_ref(), r.clone()), r);
    }

    #[test]
    fn insert_key_fields_into_tombstone_event() {
        let k = transform(KEY_CLASS, ALL);
        let mut r = record(None, Value::Null, 0, None);
        r.key = map(vec![("magic", Value::Int64(42))]);
        let out = apply(k.as_ref(), r);
        assert_eq!(get(&out.key, "magic"), Some(&Value::Int64(42)));
        assert_eq!(get(&out.key, "topic_field"), Some(&Value::from("test")));
        assert_eq!(get(&out.key, "partition_field"), Some(&Value::Int32(0)));
        assert_eq!(get(&out.key, "timestamp_field"), None);
        assert_eq!(
            get(&out.key, "instance_id"),
            Some(&Value::from("my-instance-id"))
        );
        assert_eq!(out.value, Value::Null);
    }

    #[test]
    fn replace_null_with_default() {
        for (flag, expected) in [("false", Value::Null), ("true", Value::Int64(42))] {
            let mut p = ALL.to_vec();
            p.push(("replace.null.with.default", flag));
            let t = transform(VALUE_CLASS, &p);
            let field = SchemaBuilder::int64()
                .optional()
                .default_value(Value::Int64(42))
                .build();
            let schema = SchemaBuilder::struct_()
                .name("name")
                .field("magic_with_default", field.clone())
                .build();
            let out = apply(
                t.as_ref(),
                record(
                    Some(schema.clone()),
                    Value::Struct(Struct::new(schema)),
                    0,
                    Some(789),
                ),
            );
            assert_eq!(
                out.value_schema
                    .unwrap()
                    .field("magic_with_default")
                    .unwrap()
                    .schema,
                field
            );
            assert_eq!(
                out.value.as_struct().unwrap().get("magic_with_default"),
                Some(&expected)
            );
        }
    }

    #[test]
    fn offsets_exist_only_on_sink_records() {
        let t = transform(VALUE_CLASS, &[("offset.field", "off")]);
        let e = t.apply(record(None, map(vec![]), 0, None)).unwrap_err();
        assert!(
            e.message().starts_with("Only SinkRecord supported"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn configuration_errors() {
        let i = issues(VALUE_CLASS, &[]);
        assert_eq!(i[0].message, "No field insertion configured");
        let i = issues(VALUE_CLASS, &[("static.field", "s")]);
        assert_eq!(i[0].key, "static.value");
        assert_eq!(
            i[0].message,
            "Invalid value null for configuration static.value: No value specified for static field: s"
        );
        let i = issues(
            VALUE_CLASS,
            &[("topic.field", "t"), ("replace.null.with.default", "x")],
        );
        assert_eq!(i[0].key, "replace.null.with.default");
    }

    #[test]
    fn a_name_clash_is_a_data_error() {
        let t = transform(VALUE_CLASS, &[("topic.field", "magic")]);
        let schema = SchemaBuilder::struct_()
            .field("magic", SchemaBuilder::int64().optional().build())
            .build();
        let e = t
            .apply(record(
                Some(schema.clone()),
                Value::Struct(Struct::new(schema)),
                0,
                None,
            ))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot create field because of field name duplication magic"
        );
    }
}
