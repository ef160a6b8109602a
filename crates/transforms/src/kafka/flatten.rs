//! `org.apache.kafka.connect.transforms.Flatten$Key` / `$Value`: nested
//! structs (maps when schemaless) become one level of fields named by
//! joining the path with `delimiter`. Arrays are kept as they are. A field
//! under an optional struct becomes optional, and takes its default from
//! the parent struct's default when it has none of its own.

use std::collections::HashMap;
use std::sync::Arc;

use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Result, Schema, SchemaRef,
    SchemaType, SourceRecord, Struct, Transform, TransformPlugin, Value,
};

use crate::common::{
    copy_basics, new_struct, push_field, require_map, require_struct, with_default, SchemaCache,
    Side, SmtPlugin,
};

pub const KEY_CLASS: &str = "org.apache.kafka.connect.transforms.Flatten$Key";
pub const VALUE_CLASS: &str = "org.apache.kafka.connect.transforms.Flatten$Value";
const PURPOSE: &str = "flattening";

pub fn config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new("delimiter", ConfigType::String)
            .default(".")
            .importance(Importance::Medium)
            .doc("Delimiter to insert between field names from the input record when generating field names for the output record"),
    )
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    [(KEY_CLASS, Side::Key), (VALUE_CLASS, Side::Value)]
        .into_iter()
        .map(|(class, side)| {
            SmtPlugin::define(class, &[], config_def(), move |c| {
                Ok(Box::new(Flatten {
                    side,
                    delimiter: c.get_string("delimiter").unwrap_or_default().to_string(),
                    cache: SchemaCache::new(),
                }) as Box<dyn Transform>)
            })
        })
        .collect()
}

pub struct Flatten {
    side: Side,
    delimiter: String,
    cache: SchemaCache<SchemaRef>,
}

fn is_leaf(t: SchemaType) -> bool {
    !matches!(t, SchemaType::Struct | SchemaType::Map)
}

/// Number of flattened fields a struct schema yields.
fn leaf_count(schema: &Schema) -> usize {
    schema
        .fields
        .iter()
        .map(|f| match f.schema.schema_type {
            SchemaType::Struct => leaf_count(&f.schema),
            _ => 1,
        })
        .sum()
}

impl Flatten {
    fn field_name(&self, prefix: &str, name: &str) -> String {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}{}{name}", self.delimiter)
        }
    }

    fn updated_schema(&self, schema: &SchemaRef) -> Result<SchemaRef> {
        let mut out = copy_basics(schema, SchemaType::Struct);
        let default = match &schema.default {
            Some(Value::Struct(s)) => Some(s),
            _ => None,
        };
        self.build_schema(schema, "", &mut out, schema.optional, default)?;
        Ok(Arc::new(out))
    }

    fn build_schema(
        &self,
        schema: &Schema,
        prefix: &str,
        out: &mut Schema,
        optional: bool,
        default_from_parent: Option<&Struct>,
    ) -> Result<()> {
        for field in &schema.fields {
            let name = self.field_name(prefix, &field.name);
            let field_optional = optional || field.schema.optional;
            let default = match &field.schema.default {
                Some(d) => Some(d.clone()),
                None => default_from_parent
                    .and_then(|p| p.get(&field.name).cloned())
                    .filter(|v| !v.is_null()),
            };
            match field.schema.schema_type {
                SchemaType::Struct => {
                    let nested_default = match &default {
                        Some(Value::Struct(s)) => Some(s),
                        _ => None,
                    };
                    self.build_schema(&field.schema, &name, out, field_optional, nested_default)?;
                }
                SchemaType::Map => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support MAP for record with schemas (for field {name})."
                    )))
                }
                t => {
                    let mut s = copy_basics(&field.schema, t);
                    s.optional = field_optional;
                    s.default = default;
                    push_field(out, name, Arc::new(s))?;
                }
            }
        }
        Ok(())
    }

    fn flatten_values(values: Vec<Value>, schema: &Schema, out: &mut Vec<Value>) {
        for (v, field) in values.into_iter().zip(&schema.fields) {
            let v = with_default(v, field, true);
            if is_leaf(field.schema.schema_type) {
                out.push(v);
            } else {
                match v {
                    Value::Struct(s) => Self::flatten_values(s.into_values(), &field.schema, out),
                    _ => out.extend(std::iter::repeat_n(Value::Null, leaf_count(&field.schema))),
                }
            }
        }
    }

    fn flatten_map(
        &self,
        entries: Vec<(Value, Value)>,
        prefix: &str,
        out: &mut Vec<(Value, Value)>,
        index: &mut HashMap<String, usize>,
    ) -> Result<()> {
        for (k, v) in entries {
            let key = match &k {
                Value::String(s) => s.as_str(),
                other => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation requires string map keys, found: {}",
                        crate::common::java_class(other)
                    )))
                }
            };
            let name = self.field_name(prefix, key);
            match v {
                Value::Map(nested) => self.flatten_map(nested, &name, out, index)?,
                Value::Decimal(_) => {
                    return Err(ConnectError::data(
                        "Flatten transformation was passed a value of type class java.math.BigDecimal which is not supported by Connect's data API",
                    ))
                }
                Value::Struct(_) => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support class org.apache.kafka.connect.data.Struct for record without schemas (for field {name})."
                    )))
                }
                leaf => match index.get(&name) {
                    Some(&i) => out[i].1 = leaf,
                    None => {
                        index.insert(name.clone(), out.len());
                        out.push((Value::String(name.into()), leaf));
                    }
                },
            }
        }
        Ok(())
    }
}

impl Transform for Flatten {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        if self.side.value(&record).is_null() {
            return Ok(Some(record));
        }
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let entries = require_map(value, PURPOSE)?;
                let mut out = Vec::with_capacity(entries.len());
                let mut index = HashMap::with_capacity(entries.len());
                self.flatten_map(entries, "", &mut out, &mut index)?;
                self.side.put(&mut record, None, Value::Map(out));
            }
            Some(_) => {
                let value = require_struct(value, PURPOSE)?;
                let schema = value.schema().clone();
                let updated = self
                    .cache
                    .get_or_try_insert(&schema, |s| self.updated_schema(s))?;
                let mut values = Vec::with_capacity(updated.fields.len());
                Self::flatten_values(value.into_values(), &schema, &mut values);
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

    fn supported_types_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .field("int8", SchemaBuilder::int8().build())
            .field("int16", SchemaBuilder::int16().build())
            .field("int32", SchemaBuilder::int32().build())
            .field("int64", SchemaBuilder::int64().build())
            .field("float32", SchemaBuilder::float32().build())
            .field("float64", SchemaBuilder::float64().build())
            .field("boolean", SchemaBuilder::boolean().build())
            .field("string", SchemaBuilder::string().build())
            .field("bytes", SchemaBuilder::bytes().build())
            .build()
    }

    fn supported_values() -> Vec<Value> {
        vec![
            Value::Int8(8),
            Value::Int16(16),
            Value::Int32(32),
            Value::Int64(64),
            Value::Float32(32.0),
            Value::Float64(64.0),
            Value::Boolean(true),
            Value::from("stringy"),
            Value::Bytes(b"bytes".to_vec()),
        ]
    }

    // Kafka's FlattenTest.
    #[test]
    fn top_level_struct_or_map_required() {
        let t = transform(VALUE_CLASS, &[]);
        assert!(t
            .apply(value_record(
                Some(SchemaBuilder::int32().build()),
                Value::Int32(42)
            ))
            .is_err());
        assert!(t.apply(value_record(None, Value::Int32(42))).is_err());
    }

    #[test]
    fn nested_struct() {
        let t = transform(VALUE_CLASS, &[]);
        let inner = supported_types_schema();
        let one = SchemaBuilder::struct_().field("B", inner.clone()).build();
        let two = SchemaBuilder::struct_().field("A", one.clone()).build();
        let value = Struct::new(two.clone()).with(
            "A",
            Struct::new(one).with("B", Struct::from_values(inner, supported_values())),
        );
        let out = apply(t.as_ref(), value_record(Some(two), Value::Struct(value)));
        let s = out.value.as_struct().unwrap();
        assert_eq!(s.schema().fields.len(), 9);
        let names: Vec<&str> = s.schema().fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names[0], "A.B.int8");
        assert_eq!(names[8], "A.B.bytes");
        assert_eq!(s.values(), supported_values().as_slice());
        assert!(s.validate().is_ok());
    }

    #[test]
    fn nested_map_with_delimiter() {
        let t = transform(VALUE_CLASS, &[("delimiter", "#")]);
        let names = [
            "int8", "int16", "int32", "int64", "float32", "float64", "boolean", "string", "bytes",
        ];
        let inner = map(names.iter().copied().zip(supported_values()).collect());
        let value = map(vec![("A", map(vec![("B", inner)]))]);
        let out = apply(t.as_ref(), value_record(None, value));
        assert_eq!(out.value_schema, None);
        let Value::Map(entries) = &out.value else {
            panic!()
        };
        assert_eq!(entries.len(), 9);
        assert_eq!(get(&out.value, "A#B#int8"), Some(&Value::Int8(8)));
        assert_eq!(
            get(&out.value, "A#B#bytes"),
            Some(&Value::Bytes(b"bytes".to_vec()))
        );
    }

    #[test]
    fn optional_fields_and_structs() {
        let t = transform(VALUE_CLASS, &[]);
        let inner = SchemaBuilder::struct_()
            .field("opt_int32", SchemaBuilder::int32().optional().build())
            .build();
        let one = SchemaBuilder::struct_().field("B", inner.clone()).build();
        let value = Struct::new(one.clone()).with("B", Struct::new(inner));
        let out = apply(t.as_ref(), value_record(Some(one), Value::Struct(value)));
        assert_eq!(
            out.value.as_struct().unwrap().get("B.opt_int32"),
            Some(&Value::Null)
        );

        // testOptionalStruct: a null optional struct passes
        let optional = SchemaBuilder::struct_()
            .optional()
            .field("opt_int32", SchemaBuilder::int32().optional().build())
            .build();
        let out = apply(
            t.as_ref(),
            value_record(Some(optional.clone()), Value::Null),
        );
        assert_eq!(out.value, Value::Null);

        // testOptionalNestedStruct: a null nested struct gives null fields
        let one = SchemaBuilder::struct_().field("B", optional).build();
        let out = apply(
            t.as_ref(),
            value_record(Some(one.clone()), Value::Struct(Struct::new(one))),
        );
        let s = out.value.as_struct().unwrap();
        assert_eq!(s.get("B.opt_int32"), Some(&Value::Null));
        assert!(s.schema().field("B.opt_int32").unwrap().schema.optional);
    }

    #[test]
    fn optional_field_map_and_key() {
        let t = transform(VALUE_CLASS, &[]);
        let value = map(vec![("B", map(vec![("opt_int32", Value::Null)]))]);
        let out = apply(t.as_ref(), value_record(None, value));
        assert_eq!(out.value, map(vec![("B.opt_int32", Value::Null)]));
        let k = transform(KEY_CLASS, &[]);
        let key = map(vec![("A", map(vec![("B", Value::Int32(12))]))]);
        let out = apply(k.as_ref(), key_record(None, key));
        assert_eq!(out.key, map(vec![("A.B", Value::Int32(12))]));
    }

    #[test]
    fn arrays_are_kept() {
        let t = transform(VALUE_CLASS, &[]);
        let value = map(vec![(
            "foo",
            Value::Array(vec![
                Value::from("bar"),
                map(vec![("baz", map(vec![("lfg", Value::from("lfg"))]))]),
            ]),
        )]);
        assert_eq!(
            apply(t.as_ref(), value_record(None, value.clone())).value,
            value
        );

        let nested = SchemaBuilder::struct_()
            .field("lfg", SchemaBuilder::string().build())
            .build();
        let inner = SchemaBuilder::struct_()
            .field("baz", nested.clone())
            .build();
        let schema = SchemaBuilder::struct_()
            .field(
                "foo",
                SchemaBuilder::array(inner.clone()).doc("durk").build(),
            )
            .build();
        let value = Struct::new(schema.clone()).with(
            "foo",
            Value::Array(vec![Value::Struct(
                Struct::new(inner).with("baz", Struct::new(nested).with("lfg", "lfg")),
            )]),
        );
        let out = apply(
            t.as_ref(),
            value_record(Some(schema.clone()), Value::Struct(value.clone())),
        );
        assert_eq!(out.value, Value::Struct(value));
        assert_eq!(out.value_schema.as_deref(), Some(&*schema));
    }

    // testOptionalAndDefaultValuesNested
    #[test]
    fn optional_and_default_values_nested() {
        let t = transform(VALUE_CLASS, &[]);
        let child_fields = SchemaBuilder::struct_()
            .optional()
            .field("req_field", SchemaBuilder::string().build())
            .field(
                "opt_field",
                SchemaBuilder::string()
                    .optional()
                    .default_value(Value::from("child_default"))
                    .build(),
            );
        let no_default = child_fields.clone().build();
        let child_default = Struct::new(no_default).with("req_field", "req_default");
        let schema = child_fields
            .default_value(Value::Struct(child_default))
            .build();
        let out = apply(
            t.as_ref(),
            value_record(Some(schema.clone()), Value::Struct(Struct::new(schema))),
        );
        let s = out.value_schema.unwrap();
        assert_eq!(s.schema_type, SchemaType::Struct);
        assert_eq!(s.fields.len(), 2);
        assert_eq!(
            s.field("req_field").unwrap().schema,
            SchemaBuilder::string()
                .optional()
                .default_value(Value::from("req_default"))
                .build()
        );
        assert_eq!(
            s.field("opt_field").unwrap().schema,
            SchemaBuilder::string()
                .optional()
                .default_value(Value::from("child_default"))
                .build()
        );
    }

    #[test]
    fn tombstones_pass() {
        let t = transform(VALUE_CLASS, &[]);
        let out = apply(t.as_ref(), value_record(None, Value::Null));
        assert_eq!((out.value_schema, out.value), (None, Value::Null));
        let schema = SchemaBuilder::struct_()
            .name("name")
            .version(1)
            .doc("doc")
            .field("magic", SchemaBuilder::int64().optional().build())
            .build();
        let out = apply(t.as_ref(), value_record(Some(schema.clone()), Value::Null));
        assert_eq!(out.value_schema, Some(schema));
    }

    #[test]
    fn null_fields_are_kept_in_order() {
        let t = transform(VALUE_CLASS, &[]);
        let value = map(vec![
            ("firstNull", Value::Null),
            ("firstNonNull", Value::from("nonNull")),
            ("secondNull", Value::Null),
            ("secondNonNull", Value::from("alsoNonNull")),
            ("thirdNonNull", Value::Null),
        ]);
        assert_eq!(
            apply(t.as_ref(), value_record(None, value.clone())).value,
            value
        );
        let os = || SchemaBuilder::string().optional().build();
        let schema = SchemaBuilder::struct_()
            .field("firstNull", os())
            .field("firstNonNull", os())
            .field("secondNull", os())
            .field("secondNonNull", os())
            .field("thirdNonNull", os())
            .build();
        let value = Struct::new(schema.clone())
            .with("firstNonNull", "nonNull")
            .with("secondNonNull", "alsoNonNull");
        let out = apply(
            t.as_ref(),
            value_record(Some(schema), Value::Struct(value.clone())),
        );
        assert_eq!(out.value, Value::Struct(value));
    }

    #[test]
    fn maps_under_a_schema_and_name_clashes_are_errors() {
        let t = transform(VALUE_CLASS, &[]);
        let schema = SchemaBuilder::struct_()
            .field(
                "m",
                SchemaBuilder::map(
                    SchemaBuilder::string().build(),
                    SchemaBuilder::string().build(),
                )
                .build(),
            )
            .build();
        let e = t
            .apply(value_record(
                Some(schema.clone()),
                Value::Struct(Struct::new(schema)),
            ))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Flatten transformation does not support MAP for record with schemas (for field m)."
        );
        let inner = SchemaBuilder::struct_()
            .field("b", SchemaBuilder::int32().build())
            .build();
        let schema = SchemaBuilder::struct_()
            .field("a", inner.clone())
            .field("a.b", SchemaBuilder::int32().build())
            .build();
        let e = t
            .apply(value_record(
                Some(schema.clone()),
                Value::Struct(Struct::new(schema)),
            ))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot create field because of field name duplication a.b"
        );
    }

    #[test]
    fn schema_is_built_once_per_input_schema() {
        let t = transform(VALUE_CLASS, &[]);
        let inner = SchemaBuilder::struct_()
            .field("b", SchemaBuilder::int32().build())
            .build();
        let schema = SchemaBuilder::struct_().field("a", inner.clone()).build();
        let v = || {
            Value::Struct(
                Struct::new(schema.clone()).with("a", Struct::new(inner.clone()).with("b", 1)),
            )
        };
        let a = apply(t.as_ref(), value_record(Some(schema.clone()), v()));
        let b = apply(t.as_ref(), value_record(Some(schema.clone()), v()));
        assert!(Arc::ptr_eq(
            a.value_schema.as_ref().unwrap(),
            b.value_schema.as_ref().unwrap()
        ));
    }
}
