//! `org.apache.kafka.connect.transforms.ValueToKey`: the key becomes a struct
//! (a map when schemaless) of the value's fields listed in `fields`.

use std::sync::Arc;

use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Result, SchemaRef, SourceRecord,
    Transform, TransformPlugin, Validator, Value,
};

use super::replace_null_with_default_key;
use crate::common::{
    empty_struct, map_get, new_struct, non_empty_list, push_field, require_map, require_struct,
    with_default, SchemaCache, SmtPlugin,
};

pub const CLASS: &str = "org.apache.kafka.connect.transforms.ValueToKey";
const PURPOSE: &str = "copying fields from value to key";

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("fields", ConfigType::List)
                .validator(Validator::Custom(non_empty_list))
                .importance(Importance::High)
                .doc("Field names on the record value to extract as the record key."),
        )
        .define(replace_null_with_default_key())
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    vec![SmtPlugin::define(
        CLASS,
        &["ValueToKey"],
        config_def(),
        |c| {
            Ok(Box::new(ValueToKey {
                fields: c.get_list("fields").to_vec(),
                replace_null_with_default: c.get_bool("replace.null.with.default"),
                cache: SchemaCache::new(),
            }) as Box<dyn Transform>)
        },
    )]
}

pub struct ValueToKey {
    fields: Vec<String>,
    replace_null_with_default: bool,
    /// Value schema → (key schema, index of each key field in the value).
    cache: SchemaCache<Arc<(SchemaRef, Vec<usize>)>>,
}

impl Transform for ValueToKey {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        match record.value_schema.clone() {
            None => {
                let value = std::mem::replace(&mut record.value, Value::Null);
                let entries = require_map(value, PURPOSE)?;
                let key = self
                    .fields
                    .iter()
                    .map(|f| {
                        (
                            Value::String(f.into()),
                            map_get(&entries, f).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .collect();
                record.value = Value::Map(entries);
                record.key_schema = None;
                record.key = Value::Map(key);
            }
            Some(schema) => {
                let value = std::mem::replace(&mut record.value, Value::Null);
                let value = require_struct(value, PURPOSE)?;
                let plan = self.cache.get_or_try_insert(value.schema(), |s| {
                    let mut key = empty_struct();
                    let mut indexes = Vec::with_capacity(self.fields.len());
                    for name in &self.fields {
                        let field = s.field(name).ok_or_else(|| {
                            ConnectError::data(format!("Field does not exist: {name}"))
                        })?;
                        push_field(&mut key, name.clone(), field.schema.clone())?;
                        indexes.push(field.index);
                    }
                    Ok::<_, ConnectError>(Arc::new((Arc::new(key), indexes)))
                })?;
                let (key_schema, indexes) = &*plan;
                let values = indexes
                    .iter()
                    .map(|&i| {
                        let field = &value.schema().fields[i];
                        with_default(
                            value.values()[i].clone(),
                            field,
                            self.replace_null_with_default,
                        )
                    })
                    .collect();
                record.key_schema = Some(key_schema.clone());
                record.key = Value::Struct(new_struct(key_schema.clone(), values)?);
                record.value_schema = Some(schema);
                record.value = Value::Struct(value);
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

    // Kafka's ValueToKeyTest.
    #[test]
    fn schemaless() {
        let t = transform(CLASS, &[("fields", "a,b")]);
        let value = map(vec![
            ("a", Value::Int32(1)),
            ("b", Value::Int32(2)),
            ("c", Value::Int32(3)),
        ]);
        let out = apply(t.as_ref(), value_record(None, value.clone()));
        assert_eq!(out.key_schema, None);
        assert_eq!(
            out.key,
            map(vec![("a", Value::Int32(1)), ("b", Value::Int32(2))])
        );
        assert_eq!(out.value, value);
    }

    #[test]
    fn with_schema() {
        let t = transform(CLASS, &[("fields", "a,b")]);
        let int32 = SchemaBuilder::int32().build();
        let value_schema = SchemaBuilder::struct_()
            .field("a", int32.clone())
            .field("b", int32.clone())
            .field("c", int32.clone())
            .build();
        let value = Struct::new(value_schema.clone())
            .with("a", 1)
            .with("b", 2)
            .with("c", 3);
        let out = apply(
            t.as_ref(),
            value_record(Some(value_schema.clone()), Value::Struct(value.clone())),
        );
        let expected_schema = SchemaBuilder::struct_()
            .field("a", int32.clone())
            .field("b", int32)
            .build();
        assert_eq!(out.key_schema.as_deref(), Some(&*expected_schema));
        assert_eq!(
            out.key,
            Value::Struct(Struct::new(expected_schema).with("a", 1).with("b", 2))
        );
        assert_eq!(out.value, Value::Struct(value));
    }

    #[test]
    fn non_existing_field() {
        let t = transform(CLASS, &[("fields", "not_exist")]);
        let schema = SchemaBuilder::struct_()
            .field("a", SchemaBuilder::int32().build())
            .build();
        let value = Struct::new(schema.clone()).with("a", 1);
        let e = t
            .apply(value_record(Some(schema), Value::Struct(value)))
            .unwrap_err();
        assert_eq!(e.message(), "Field does not exist: not_exist");
    }

    #[test]
    fn replace_null_with_default() {
        for (flag, expected) in [("false", Value::Null), ("true", Value::Int32(42))] {
            let t = transform(
                CLASS,
                &[
                    ("fields", "optional_with_default"),
                    ("replace.null.with.default", flag),
                ],
            );
            let schema = SchemaBuilder::struct_()
                .field(
                    "optional_with_default",
                    SchemaBuilder::int32()
                        .optional()
                        .default_value(Value::Int32(42))
                        .build(),
                )
                .build();
            let out = apply(
                t.as_ref(),
                value_record(Some(schema.clone()), Value::Struct(Struct::new(schema))),
            );
            assert_eq!(
                out.key.as_struct().unwrap().get("optional_with_default"),
                Some(&expected)
            );
        }
    }

    #[test]
    fn fields_are_required_and_non_empty() {
        assert_eq!(issues(CLASS, &[])[0].key, "fields");
        assert_eq!(
            issues(CLASS, &[("fields", "")])[0].message,
            "Invalid value  for configuration fields: Empty list"
        );
        assert_eq!(
            issues(
                CLASS,
                &[("fields", "a"), ("replace.null.with.default", "maybe")]
            )[0]
            .key,
            "replace.null.with.default"
        );
    }
}
