//! `org.apache.kafka.connect.transforms.SetSchemaMetadata$Key` / `$Value`:
//! sets the key or value schema's name (`schema.name`) and/or version
//! (`schema.version`); a struct value is re-pointed at the renamed schema.

use std::sync::Arc;

use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Result, SchemaRef, SourceRecord,
    Struct, Transform, TransformPlugin, Value,
};

use super::replace_null_with_default_key;
use crate::common::{
    config_problem, new_struct, require_schema, with_default, SchemaCache, Side, SmtPlugin,
};

pub const KEY_CLASS: &str = "org.apache.kafka.connect.transforms.SetSchemaMetadata$Key";
pub const VALUE_CLASS: &str = "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value";

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("schema.name", ConfigType::String)
                .optional()
                .importance(Importance::High)
                .doc("Schema name to set."),
        )
        .define(
            ConfigKey::new("schema.version", ConfigType::Int)
                .optional()
                .importance(Importance::High)
                .doc("Schema version to set."),
        )
        .define(replace_null_with_default_key())
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    [(KEY_CLASS, Side::Key), (VALUE_CLASS, Side::Value)]
        .into_iter()
        .map(|(class, side)| {
            SmtPlugin::define(class, &[], config_def(), move |c| {
                let name = c.get_string("schema.name").map(str::to_string);
                let version = match c.value("schema.version") {
                    Some(sluice_connect_api::ConfigValue::Int(v)) => Some(*v),
                    _ => None,
                };
                if name.is_none() && version.is_none() {
                    return Err(config_problem("Neither schema name nor version configured"));
                }
                Ok(Box::new(SetSchemaMetadata {
                    side,
                    name,
                    version,
                    replace_null_with_default: c.get_bool("replace.null.with.default"),
                    cache: SchemaCache::new(),
                }) as Box<dyn Transform>)
            })
        })
        .collect()
}

pub struct SetSchemaMetadata {
    side: Side,
    name: Option<String>,
    version: Option<i32>,
    replace_null_with_default: bool,
    cache: SchemaCache<SchemaRef>,
}

impl Transform for SetSchemaMetadata {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        if self.side.value(&record).is_null() && self.side.schema(&record).is_none() {
            return Ok(Some(record));
        }
        let (schema, value) = self.side.take(&mut record);
        let schema = require_schema(schema.as_ref(), "updating schema metadata")?;
        let updated = self.cache.get_or_try_insert(schema, |s| {
            let mut out = (**s).clone();
            if let Some(name) = &self.name {
                out.name = Some(name.clone());
            }
            if let Some(version) = self.version {
                out.version = Some(version);
            }
            Ok::<_, ConnectError>(Arc::new(out))
        })?;
        let value = match value {
            Value::Struct(s) => Value::Struct(self.update_schema_in(s, &updated)?),
            other => other,
        };
        self.side.put(&mut record, Some(updated), value);
        Ok(Some(record))
    }
}

impl SetSchemaMetadata {
    /// Kafka's `updateSchemaIn`: the same field values under the new schema.
    fn update_schema_in(&self, value: Struct, updated: &SchemaRef) -> Result<Struct> {
        let old = value.schema().clone();
        let values = value
            .into_values()
            .into_iter()
            .zip(&old.fields)
            .map(|(v, f)| with_default(v, f, self.replace_null_with_default))
            .collect();
        new_struct(updated.clone(), values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::*;
    use sluice_connect_api::SchemaBuilder;

    fn value_of(schema: SchemaRef, value: Value) -> SourceRecord {
        value_record(Some(schema), value)
    }

    // Kafka's SetSchemaMetadataTest.
    #[test]
    fn name_and_version_updates() {
        let t = transform(VALUE_CLASS, &[("schema.name", "foo")]);
        let out = apply(
            t.as_ref(),
            value_of(SchemaBuilder::struct_().build(), Value::Null),
        );
        assert_eq!(out.value_schema.unwrap().name.as_deref(), Some("foo"));
        let t = transform(VALUE_CLASS, &[("schema.version", "42")]);
        let out = apply(
            t.as_ref(),
            value_of(SchemaBuilder::struct_().build(), Value::Null),
        );
        assert_eq!(out.value_schema.unwrap().version, Some(42));
        let t = transform(
            VALUE_CLASS,
            &[("schema.name", "foo"), ("schema.version", "42")],
        );
        let out = apply(
            t.as_ref(),
            value_of(SchemaBuilder::struct_().build(), Value::Null),
        );
        let s = out.value_schema.unwrap();
        assert_eq!((s.name.as_deref(), s.version), (Some("foo"), Some(42)));
    }

    #[test]
    fn struct_values_point_at_the_new_schema() {
        let schema = SchemaBuilder::struct_()
            .name("my.orig.SchemaDefn")
            .field("f1", SchemaBuilder::string().build())
            .field("f2", SchemaBuilder::int32().build())
            .build();
        let value = Struct::new(schema.clone())
            .with("f1", "value1")
            .with("f2", 1);
        let t = transform(
            VALUE_CLASS,
            &[("schema.name", "foo"), ("schema.version", "42")],
        );
        let out = apply(t.as_ref(), value_of(schema.clone(), Value::Struct(value)));
        let s = out.value_schema.clone().unwrap();
        assert_eq!((s.name.as_deref(), s.version), (Some("foo"), Some(42)));
        let v = out.value.as_struct().unwrap();
        assert!(Arc::ptr_eq(v.schema(), &s));
        assert_eq!(v.get("f1"), Some(&Value::from("value1")));
        assert_eq!(v.get("f2"), Some(&Value::Int32(1)));
        assert!(v.validate().is_ok());
        // the key variant, and the cache
        let t = transform(KEY_CLASS, &[("schema.name", "k")]);
        let a = apply(t.as_ref(), key_record(Some(schema.clone()), Value::Null));
        let b = apply(t.as_ref(), key_record(Some(schema), Value::Null));
        assert!(Arc::ptr_eq(
            a.key_schema.as_ref().unwrap(),
            b.key_schema.as_ref().unwrap()
        ));
        assert_eq!(a.key_schema.unwrap().name.as_deref(), Some("k"));
    }

    #[test]
    fn replace_null_with_default() {
        for (flag, expected) in [("false", Value::Null), ("true", Value::from("default"))] {
            let schema = SchemaBuilder::struct_()
                .name("my.orig.SchemaDefn")
                .field(
                    "f1",
                    SchemaBuilder::string()
                        .default_value(Value::from("default"))
                        .optional()
                        .build(),
                )
                .field("f2", SchemaBuilder::int32().build())
                .build();
            let value = Struct::new(schema.clone()).with("f2", 1);
            let t = transform(
                VALUE_CLASS,
                &[
                    ("schema.name", "foo"),
                    ("schema.version", "42"),
                    ("replace.null.with.default", flag),
                ],
            );
            let out = apply(t.as_ref(), value_of(schema, Value::Struct(value)));
            assert_eq!(out.value.as_struct().unwrap().get("f1"), Some(&expected));
        }
    }

    #[test]
    fn schema_required_and_null_ignored() {
        let t = transform(VALUE_CLASS, &[("schema.name", "foo")]);
        let e = t.apply(value_record(None, Value::Int32(42))).unwrap_err();
        assert_eq!(
            e.message(),
            "Schema required for [updating schema metadata]"
        );
        let out = apply(t.as_ref(), value_record(None, Value::Null));
        assert_eq!((out.value_schema, out.value), (None, Value::Null));
    }

    #[test]
    fn name_or_version_is_required() {
        let i = issues(VALUE_CLASS, &[]);
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].key, "");
        assert_eq!(i[0].message, "Neither schema name nor version configured");
        assert_eq!(
            issues(VALUE_CLASS, &[("schema.version", "x")])[0].key,
            "schema.version"
        );
    }
}
