//! `org.apache.kafka.connect.transforms.HeaderFrom$Key` / `$Value`: copies
//! (`operation=copy`) or moves (`operation=move`) the key's or value's
//! `fields` into headers named by the matching entries of `headers`.

use std::sync::Arc;

use sluice_connect_api::config::ConfigValue;
use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Header, Importance, Result, SchemaRef,
    SchemaType, SourceRecord, Transform, TransformPlugin, Validator, Value,
};

use super::replace_null_with_default_key;
use crate::common::{
    copy_basics, map_get, map_remove, new_struct, non_empty_list, push_field, require_map,
    require_struct, with_default, SchemaCache, Side, SmtPlugin,
};

pub const KEY_CLASS: &str = "org.apache.kafka.connect.transforms.HeaderFrom$Key";
pub const VALUE_CLASS: &str = "org.apache.kafka.connect.transforms.HeaderFrom$Value";

/// `ValidString.in("move", "copy")` (case-sensitive).
fn valid_operation(value: &ConfigValue) -> std::result::Result<(), String> {
    match value {
        ConfigValue::String(s) if s != "move" && s != "copy" => {
            Err("String must be one of: move, copy".into())
        }
        _ => Ok(()),
    }
}

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("fields", ConfigType::List)
                .validator(Validator::Custom(non_empty_list))
                .importance(Importance::High)
                .doc("Field names in the record whose values are to be copied or moved to headers."),
        )
        .define(
            ConfigKey::new("headers", ConfigType::List)
                .validator(Validator::Custom(non_empty_list))
                .importance(Importance::High)
                .doc("Header names, in the same order as the field names listed in the fields configuration property."),
        )
        .define(
            ConfigKey::new("operation", ConfigType::String)
                .validator(Validator::Custom(valid_operation))
                .importance(Importance::High)
                .doc("Either move if the fields are to be moved to the headers (removed from the key/value), or copy if the fields are to be copied to the headers (retained in the key/value). Valid values: move, copy."),
        )
        .define(replace_null_with_default_key())
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    [(KEY_CLASS, Side::Key), (VALUE_CLASS, Side::Value)]
        .into_iter()
        .map(|(class, side)| {
            SmtPlugin::define(class, &[], config_def(), move |c| {
                let fields = c.get_list("fields").to_vec();
                let headers = c.get_list("headers").to_vec();
                if fields.len() != headers.len() {
                    return Err(crate::common::config_problem(
                        "'fields' config must have the same number of elements as 'headers' config.",
                    ));
                }
                Ok(Box::new(HeaderFrom {
                    side,
                    fields,
                    headers,
                    move_fields: c.get_string("operation") == Some("move"),
                    replace_null_with_default: c.get_bool("replace.null.with.default"),
                    cache: SchemaCache::new(),
                }) as Box<dyn Transform>)
            })
        })
        .collect()
}

pub struct HeaderFrom {
    side: Side,
    fields: Vec<String>,
    headers: Vec<String>,
    move_fields: bool,
    replace_null_with_default: bool,
    /// Input schema → (schema without the moved fields, kept input indexes).
    cache: SchemaCache<Arc<(SchemaRef, Vec<usize>)>>,
}

impl HeaderFrom {
    fn purpose(&self) -> &'static str {
        if self.move_fields {
            "header move"
        } else {
            "header copy"
        }
    }
}

impl Transform for HeaderFrom {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let mut entries = require_map(value, self.purpose())?;
                // Read every field before moving any: one field may feed
                // several headers.
                let values: Vec<Value> = self
                    .fields
                    .iter()
                    .map(|f| map_get(&entries, f).cloned().unwrap_or(Value::Null))
                    .collect();
                if self.move_fields {
                    for field in &self.fields {
                        map_remove(&mut entries, field);
                    }
                }
                for (header, v) in self.headers.iter().zip(values) {
                    record.headers.push(Header {
                        key: header.clone(),
                        schema: None,
                        value: v,
                    });
                }
                self.side.put(&mut record, None, Value::Map(entries));
            }
            Some(schema) => {
                let value = require_struct(value, self.purpose())?;
                for (field, header) in self.fields.iter().zip(&self.headers) {
                    let f = schema.field(field).ok_or_else(|| {
                        ConnectError::data(format!("Field does not exist: {field}"))
                    })?;
                    let v = value
                        .schema()
                        .field(field)
                        .map(|vf| {
                            with_default(
                                value.values()[vf.index].clone(),
                                vf,
                                self.replace_null_with_default,
                            )
                        })
                        .unwrap_or(Value::Null);
                    record.headers.push(Header {
                        key: header.clone(),
                        schema: Some(f.schema.clone()),
                        value: v,
                    });
                }
                if self.move_fields {
                    let plan = self.cache.get_or_try_insert(value.schema(), |s| {
                        let mut out = copy_basics(s, SchemaType::Struct);
                        let mut kept = Vec::new();
                        for f in &s.fields {
                            if !self.fields.contains(&f.name) {
                                push_field(&mut out, f.name.clone(), f.schema.clone())?;
                                kept.push(f.index);
                            }
                        }
                        Ok::<_, ConnectError>(Arc::new((Arc::new(out), kept)))
                    })?;
                    let (moved_schema, kept) = &*plan;
                    let in_schema = value.schema().clone();
                    let mut values: Vec<Option<Value>> =
                        value.into_values().into_iter().map(Some).collect();
                    let out = kept
                        .iter()
                        .map(|&i| {
                            with_default(
                                values[i].take().unwrap_or(Value::Null),
                                &in_schema.fields[i],
                                self.replace_null_with_default,
                            )
                        })
                        .collect();
                    self.side.put(
                        &mut record,
                        Some(moved_schema.clone()),
                        Value::Struct(new_struct(moved_schema.clone(), out)?),
                    );
                } else {
                    self.side
                        .put(&mut record, Some(schema), Value::Struct(value));
                }
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
    use sluice_connect_api::{Headers, SchemaBuilder};

    #[derive(Clone, Default)]
    struct Builder {
        fields: Vec<(String, SchemaRef, Value)>,
        headers: Vec<(String, SchemaRef, Value)>,
    }

    impl Builder {
        fn field(mut self, name: &str, schema: SchemaRef, value: Value) -> Self {
            self.fields.push((name.into(), schema, value));
            self
        }
        fn header(mut self, name: &str, schema: SchemaRef, value: Value) -> Self {
            self.headers.push((name.into(), schema, value));
            self
        }
        fn headers(&self, with_schema: bool) -> Headers {
            self.headers
                .iter()
                .map(|(k, s, v)| Header {
                    key: k.clone(),
                    schema: with_schema.then(|| s.clone()),
                    value: v.clone(),
                })
                .collect()
        }
        fn record(
            &self,
            key: bool,
            schema: Option<SchemaRef>,
            value: Value,
            with_schema: bool,
        ) -> SourceRecord {
            let mut r = SourceRecord::new(None, None, "topic", None, Value::from("value"))
                .with_key(None, Value::from("key"))
                .with_timestamp(0);
            r.kafka_partition = Some(0);
            if key {
                r.key_schema = schema;
                r.key = value;
            } else {
                r.value_schema = schema;
                r.value = value;
            }
            r.headers = self.headers(with_schema);
            r
        }
        fn schemaless(&self, key: bool) -> SourceRecord {
            let m = Value::Map(
                self.fields
                    .iter()
                    .map(|(k, _, v)| (Value::from(k.as_str()), v.clone()))
                    .collect(),
            );
            self.record(key, None, m, false)
        }
        fn with_schema(&self, key: bool) -> SourceRecord {
            let mut b = SchemaBuilder::struct_();
            for (k, s, _) in &self.fields {
                b = b.field(k.clone(), s.clone());
            }
            let schema = b.build();
            let values = self.fields.iter().map(|(_, _, v)| v.clone()).collect();
            self.record(
                key,
                Some(schema.clone()),
                Value::Struct(Struct::from_values(schema, values)),
                true,
            )
        }
    }

    fn string() -> SchemaRef {
        SchemaBuilder::string().build()
    }

    fn with_default_schema() -> SchemaRef {
        SchemaBuilder::string()
            .default_value(Value::from("default"))
            .optional()
            .build()
    }

    /// Kafka's HeaderFromTest.data().
    fn cases() -> Vec<(
        &'static str,
        Builder,
        &'static str,
        &'static str,
        &'static str,
        bool,
        Builder,
    )> {
        let f1 = || Value::from("field1-value");
        let f2 = || Value::from("field2-value");
        let existing = || Value::from("existing-value");
        let nested = SchemaBuilder::struct_().field("foo", string()).build();
        let nested_value = Value::Struct(Struct::new(nested.clone()).with("foo", "foo-value"));
        let base = Builder::default()
            .field("field1", string(), f1())
            .field("field2", string(), f2())
            .header("header1", string(), existing());
        let with_struct = Builder::default()
            .field("field1", nested.clone(), nested_value.clone())
            .field("field2", string(), f2())
            .header("header1", string(), existing());
        let defaults = Builder::default()
            .field("field1", with_default_schema(), f1())
            .field("field2", with_default_schema(), Value::Null)
            .header("header1", string(), existing());
        vec![
            (
                "basic copy",
                base.clone(),
                "field1",
                "inserted1",
                "copy",
                true,
                base.clone().header("inserted1", string(), f1()),
            ),
            (
                "basic move",
                base.clone(),
                "field1",
                "inserted1",
                "move",
                true,
                Builder::default()
                    .field("field2", string(), f2())
                    .header("header1", string(), existing())
                    .header("inserted1", string(), f1()),
            ),
            (
                "copy with preexisting header",
                Builder::default()
                    .field("field1", string(), f1())
                    .field("field2", string(), f2())
                    .header("inserted1", string(), existing()),
                "field1",
                "inserted1",
                "copy",
                true,
                Builder::default()
                    .field("field1", string(), f1())
                    .field("field2", string(), f2())
                    .header("inserted1", string(), existing())
                    .header("inserted1", string(), f1()),
            ),
            (
                "copy with struct value",
                with_struct.clone(),
                "field1",
                "inserted1",
                "copy",
                true,
                with_struct
                    .clone()
                    .header("inserted1", nested.clone(), nested_value.clone()),
            ),
            (
                "move with struct value",
                with_struct,
                "field1",
                "inserted1",
                "move",
                true,
                Builder::default()
                    .field("field2", string(), f2())
                    .header("header1", string(), existing())
                    .header("inserted1", nested, nested_value),
            ),
            (
                "two headers from same field",
                base.clone(),
                "field1,field1",
                "inserted1,inserted2",
                "move",
                true,
                Builder::default()
                    .field("field2", string(), f2())
                    .header("header1", string(), existing())
                    .header("inserted1", string(), f1())
                    .header("inserted2", string(), f1()),
            ),
            (
                "two fields to same header",
                base,
                "field1,field2",
                "inserted1,inserted1",
                "move",
                true,
                Builder::default()
                    .header("header1", string(), existing())
                    .header("inserted1", string(), f1())
                    .header("inserted1", string(), f2()),
            ),
            (
                "Copy null field without default",
                defaults.clone(),
                "field1,field2",
                "inserted1,inserted2",
                "copy",
                false,
                defaults
                    .clone()
                    .header("inserted1", with_default_schema(), f1())
                    .header("inserted2", with_default_schema(), Value::Null),
            ),
            (
                "Move null field without default",
                defaults,
                "field1,field2",
                "inserted1,inserted2",
                "move",
                false,
                Builder::default()
                    .header("header1", string(), existing())
                    .header("inserted1", with_default_schema(), f1())
                    .header("inserted2", with_default_schema(), Value::Null),
            ),
        ]
    }

    #[test]
    fn kafka_cases_schemaless_and_with_schema() {
        for key in [true, false] {
            let class = if key { KEY_CLASS } else { VALUE_CLASS };
            for (name, original, fields, headers, op, replace, expected) in cases() {
                let replace = replace.to_string();
                let t = transform(
                    class,
                    &[
                        ("fields", fields),
                        ("headers", headers),
                        ("operation", op),
                        ("replace.null.with.default", &replace),
                    ],
                );
                let out = apply(t.as_ref(), original.schemaless(key));
                assert_eq!(out, expected.schemaless(key), "schemaless {name} key={key}");
                let out = apply(t.as_ref(), original.with_schema(key));
                assert_eq!(
                    out,
                    expected.with_schema(key),
                    "with schema {name} key={key}"
                );
            }
        }
    }

    #[test]
    fn invalid_configurations() {
        for class in [KEY_CLASS, VALUE_CLASS] {
            let i = issues(
                class,
                &[
                    ("fields", "foo,bar"),
                    ("headers", "foo"),
                    ("operation", "copy"),
                ],
            );
            assert_eq!(
                i[0].message,
                "'fields' config must have the same number of elements as 'headers' config."
            );
            assert!(!issues(
                class,
                &[
                    ("fields", "foo"),
                    ("headers", "foo,bar"),
                    ("operation", "copy")
                ]
            )
            .is_empty());
            let i = issues(
                class,
                &[("fields", ""), ("headers", ""), ("operation", "copy")],
            );
            assert_eq!(i.len(), 2);
            let i = issues(
                class,
                &[("fields", "a"), ("headers", "b"), ("operation", "MOVE")],
            );
            assert_eq!(i[0].key, "operation");
            assert_eq!(
                i[0].message,
                "Invalid value MOVE for configuration operation: String must be one of: move, copy"
            );
        }
    }

    #[test]
    fn a_missing_field_with_schema_is_a_data_error() {
        let t = transform(
            VALUE_CLASS,
            &[("fields", "nope"), ("headers", "h"), ("operation", "copy")],
        );
        let e = t
            .apply(
                Builder::default()
                    .field("a", string(), Value::from("x"))
                    .with_schema(false),
            )
            .unwrap_err();
        assert_eq!(e.message(), "Field does not exist: nope");
    }
}
