//! `org.apache.kafka.connect.transforms.HoistField$Key` / `$Value`: wraps the
//! key or value in a struct (a map when schemaless) with one field named
//! `field`.

use std::sync::Arc;

use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Result, SchemaRef, SourceRecord,
    Transform, TransformPlugin, Value,
};

use crate::common::{empty_struct, new_struct, push_field, SchemaCache, Side, SmtPlugin};

pub const KEY_CLASS: &str = "org.apache.kafka.connect.transforms.HoistField$Key";
pub const VALUE_CLASS: &str = "org.apache.kafka.connect.transforms.HoistField$Value";

pub fn config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new("field", ConfigType::String)
            .importance(Importance::Medium)
            .doc("Field name for the single field that will be created in the resulting Struct or Map."),
    )
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    [(KEY_CLASS, Side::Key), (VALUE_CLASS, Side::Value)]
        .into_iter()
        .map(|(class, side)| {
            SmtPlugin::define(class, &[], config_def(), move |c| {
                Ok(Box::new(HoistField {
                    side,
                    field: c.get_string("field").unwrap_or_default().to_string(),
                    cache: SchemaCache::new(),
                }) as Box<dyn Transform>)
            })
        })
        .collect()
}

pub struct HoistField {
    side: Side,
    field: String,
    cache: SchemaCache<SchemaRef>,
}

impl Transform for HoistField {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let map = Value::Map(vec![(Value::from(self.field.as_str()), value)]);
                self.side.put(&mut record, None, map);
            }
            Some(schema) => {
                let updated = self.cache.get_or_try_insert(&schema, |s| {
                    let mut out = empty_struct();
                    push_field(&mut out, self.field.clone(), s.clone())?;
                    Ok::<_, ConnectError>(Arc::new(out))
                })?;
                if value.is_null() && !schema.optional && schema.default.is_none() {
                    return Err(ConnectError::data(format!(
                        "Invalid value: null used for required field: \"{}\", schema type: {}",
                        self.field,
                        schema.schema_type.name().to_uppercase()
                    )));
                }
                let s = new_struct(updated.clone(), vec![value])?;
                self.side.put(&mut record, Some(updated), Value::Struct(s));
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::*;
    use sluice_connect_api::{SchemaBuilder, SchemaType};

    // Kafka's HoistFieldTest.
    #[test]
    fn schemaless() {
        let t = transform(KEY_CLASS, &[("field", "magic")]);
        let out = apply(t.as_ref(), key_record(None, Value::Int32(42)));
        assert_eq!(out.key_schema, None);
        assert_eq!(out.key, map(vec![("magic", Value::Int32(42))]));
    }

    #[test]
    fn with_schema() {
        let t = transform(KEY_CLASS, &[("field", "magic")]);
        let int32 = SchemaBuilder::int32().build();
        let out = apply(
            t.as_ref(),
            key_record(Some(int32.clone()), Value::Int32(42)),
        );
        let schema = out.key_schema.clone().unwrap();
        assert_eq!(schema.schema_type, SchemaType::Struct);
        assert_eq!(schema.field("magic").unwrap().schema, int32);
        assert_eq!(
            out.key.as_struct().unwrap().get("magic"),
            Some(&Value::Int32(42))
        );
        // cached: the same output schema for the same input schema
        let again = apply(t.as_ref(), key_record(Some(int32), Value::Int32(1)));
        assert!(Arc::ptr_eq(&schema, again.key_schema.as_ref().unwrap()));
    }

    #[test]
    fn value_variant_and_required_null() {
        let t = transform(VALUE_CLASS, &[("field", "v")]);
        let out = apply(
            t.as_ref(),
            value_record(
                Some(SchemaBuilder::string().optional().build()),
                Value::Null,
            ),
        );
        assert_eq!(out.value.as_struct().unwrap().get("v"), Some(&Value::Null));
        let e = t
            .apply(value_record(
                Some(SchemaBuilder::int32().build()),
                Value::Null,
            ))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Invalid value: null used for required field: \"v\", schema type: INT32"
        );
        assert_eq!(issues(VALUE_CLASS, &[])[0].key, "field");
    }
}
