//! `org.apache.kafka.connect.transforms.ReplaceField$Key` / `$Value`: drops
//! (`exclude`), keeps (`include`) and renames (`renames=old:new,…`) fields
//! of a struct or schemaless map. `blacklist` / `whitelist` are the
//! deprecated names of `exclude` / `include` (Kafka before 4.0); when both
//! spellings are set the new one wins.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sluice_connect_api::config::ConfigValue;
use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConfigValues, ConnectError, Importance, Result, SchemaRef,
    SchemaType, SourceRecord, Transform, TransformPlugin, Validator, Value,
};

use super::replace_null_with_default_key;
use crate::common::{
    copy_basics, map_put, new_struct, push_field, require_map, require_struct, with_default,
    SchemaCache, Side, SmtPlugin,
};

pub const KEY_CLASS: &str = "org.apache.kafka.connect.transforms.ReplaceField$Key";
pub const VALUE_CLASS: &str = "org.apache.kafka.connect.transforms.ReplaceField$Value";
const PURPOSE: &str = "field replacement";

/// Java's `String.split(":")`: trailing empty strings are dropped.
pub(crate) fn java_split_colon(s: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(':').collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts == [""] && !s.is_empty() {
        parts.clear();
    }
    parts
}

fn parse_renames(items: &[String]) -> std::result::Result<HashMap<String, String>, String> {
    let mut m = HashMap::new();
    for mapping in items {
        match java_split_colon(mapping).as_slice() {
            [from, to] => {
                m.insert(from.to_string(), to.to_string());
            }
            _ => return Err(format!("Invalid rename mapping: {mapping}")),
        }
    }
    Ok(m)
}

fn valid_renames(value: &ConfigValue) -> std::result::Result<(), String> {
    match value {
        ConfigValue::List(items) => parse_renames(items).map(|_| ()),
        _ => Ok(()),
    }
}

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("exclude", ConfigType::List)
                .default("")
                .importance(Importance::Medium)
                .doc("Fields to exclude. This takes precedence over the fields to include."),
        )
        .define(
            ConfigKey::new("blacklist", ConfigType::List)
                .optional()
                .importance(Importance::Low)
                .doc("Deprecated. Use exclude instead."),
        )
        .define(
            ConfigKey::new("include", ConfigType::List)
                .default("")
                .importance(Importance::Medium)
                .doc("Fields to include. If specified, only these fields will be used."),
        )
        .define(
            ConfigKey::new("whitelist", ConfigType::List)
                .optional()
                .importance(Importance::Low)
                .doc("Deprecated. Use include instead."),
        )
        .define(
            ConfigKey::new("renames", ConfigType::List)
                .default("")
                .validator(Validator::Custom(valid_renames))
                .importance(Importance::Medium)
                .doc(
                    "Field rename mappings: a list of colon-delimited pairs, e.g. foo:bar,abc:xyz",
                ),
        )
        .define(replace_null_with_default_key())
}

/// Kafka's `ConfigUtils.translateDeprecatedConfigs`: `target` if set, else
/// its deprecated alias.
fn list_with_alias(c: &ConfigValues, target: &str, alias: &str) -> HashSet<String> {
    let key = if !c.originals().contains_key(target) && c.originals().contains_key(alias) {
        alias
    } else {
        target
    };
    c.get_list(key).iter().cloned().collect()
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    [(KEY_CLASS, Side::Key), (VALUE_CLASS, Side::Value)]
        .into_iter()
        .map(|(class, side)| {
            SmtPlugin::define(class, &[], config_def(), move |c| {
                let renames = parse_renames(c.get_list("renames")).map_err(|e| {
                    crate::common::invalid("renames", &c.get_list("renames").join(","), e)
                })?;
                let reverse = renames
                    .iter()
                    .map(|(k, v)| (v.clone(), k.clone()))
                    .collect();
                Ok(Box::new(ReplaceField {
                    side,
                    exclude: list_with_alias(c, "exclude", "blacklist"),
                    include: list_with_alias(c, "include", "whitelist"),
                    renames,
                    reverse,
                    replace_null_with_default: c.get_bool("replace.null.with.default"),
                    cache: SchemaCache::new(),
                }) as Box<dyn Transform>)
            })
        })
        .collect()
}

pub struct ReplaceField {
    side: Side,
    exclude: HashSet<String>,
    include: HashSet<String>,
    renames: HashMap<String, String>,
    reverse: HashMap<String, String>,
    replace_null_with_default: bool,
    /// Input schema → (output schema, input index of each output field).
    cache: SchemaCache<Arc<(SchemaRef, Vec<usize>)>>,
}

impl ReplaceField {
    fn filter(&self, name: &str) -> bool {
        !self.exclude.contains(name) && (self.include.is_empty() || self.include.contains(name))
    }

    fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map_or(name, String::as_str)
    }
}

impl Transform for ReplaceField {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        if self.side.value(&record).is_null() {
            return Ok(Some(record));
        }
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let entries = require_map(value, PURPOSE)?;
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let Some(name) = k.as_str() else { continue };
                    if self.filter(name) {
                        map_put(&mut out, self.renamed(name), v);
                    }
                }
                self.side.put(&mut record, None, Value::Map(out));
            }
            Some(_) => {
                let value = require_struct(value, PURPOSE)?;
                let plan = self.cache.get_or_try_insert(value.schema(), |s| {
                    let mut out = copy_basics(s, SchemaType::Struct);
                    for field in &s.fields {
                        if self.filter(&field.name) {
                            push_field(&mut out, self.renamed(&field.name), field.schema.clone())?;
                        }
                    }
                    let sources = out
                        .fields
                        .iter()
                        .filter_map(|f| {
                            let original = self.reverse.get(&f.name).unwrap_or(&f.name);
                            s.field(original).map(|of| of.index)
                        })
                        .collect::<Vec<_>>();
                    if sources.len() != out.fields.len() {
                        return Err(ConnectError::data(
                            "ReplaceField: a renamed field collides with another field",
                        ));
                    }
                    Ok(Arc::new((Arc::new(out), sources)))
                })?;
                let (out_schema, sources) = &*plan;
                let in_schema = value.schema().clone();
                let mut values: Vec<Option<Value>> =
                    value.into_values().into_iter().map(Some).collect();
                let out = sources
                    .iter()
                    .map(|&i| {
                        // each input feeds at most one output
                        let v = values[i].take().unwrap_or(Value::Null);
                        with_default(v, &in_schema.fields[i], self.replace_null_with_default)
                    })
                    .collect();
                self.side.put(
                    &mut record,
                    Some(out_schema.clone()),
                    Value::Struct(new_struct(out_schema.clone(), out)?),
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

    fn schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("x.Value")
            .field("dont", SchemaBuilder::string().build())
            .field("abc", SchemaBuilder::int32().build())
            .field("foo", SchemaBuilder::boolean().build())
            .field("etc", SchemaBuilder::string().build())
            .build()
    }

    fn schemaless_value() -> Value {
        map(vec![
            ("dont", Value::from("whatever")),
            ("abc", Value::Int32(42)),
            ("foo", Value::Boolean(true)),
            ("etc", Value::from("etc")),
        ])
    }

    // Kafka's ReplaceFieldTest.
    #[test]
    fn tombstones_pass() {
        let t = transform(
            VALUE_CLASS,
            &[("include", "abc,foo"), ("renames", "abc:xyz,foo:bar")],
        );
        let out = apply(t.as_ref(), value_record(None, Value::Null));
        assert_eq!((out.value_schema, out.value), (None, Value::Null));
        let out = apply(t.as_ref(), value_record(Some(schema()), Value::Null));
        assert_eq!(out.value_schema, Some(schema()));
        assert_eq!(out.value, Value::Null);
    }

    #[test]
    fn schemaless() {
        let t = transform(
            VALUE_CLASS,
            &[("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
        );
        let out = apply(t.as_ref(), value_record(None, schemaless_value()));
        assert_eq!(
            out.value,
            map(vec![
                ("xyz", Value::Int32(42)),
                ("bar", Value::Boolean(true)),
                ("etc", Value::from("etc")),
            ])
        );
    }

    #[test]
    fn with_schema() {
        let t = transform(
            VALUE_CLASS,
            &[("include", "abc,foo"), ("renames", "abc:xyz,foo:bar")],
        );
        let value = Struct::new(schema())
            .with("dont", "whatever")
            .with("abc", 42)
            .with("foo", true)
            .with("etc", "etc");
        let out = apply(
            t.as_ref(),
            value_record(Some(schema()), Value::Struct(value)),
        );
        let expected_schema = SchemaBuilder::struct_()
            .name("x.Value")
            .field("xyz", SchemaBuilder::int32().build())
            .field("bar", SchemaBuilder::boolean().build())
            .build();
        assert_eq!(out.value_schema.as_deref(), Some(&*expected_schema));
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("xyz"), Some(&Value::Int32(42)));
        assert_eq!(v.get("bar"), Some(&Value::Boolean(true)));
        assert!(v.validate().is_ok());
    }

    #[test]
    fn deprecated_names_still_work() {
        // Kafka 3.x's testIncludeBackwardsCompatibility / testExcludeBackwardsCompatibility.
        let t = transform(
            VALUE_CLASS,
            &[("blacklist", "dont"), ("renames", "abc:xyz,foo:bar")],
        );
        let out = apply(t.as_ref(), value_record(None, schemaless_value()));
        assert_eq!(get(&out.value, "dont"), None);
        assert_eq!(get(&out.value, "xyz"), Some(&Value::Int32(42)));
        let t = transform(VALUE_CLASS, &[("whitelist", "abc")]);
        let out = apply(t.as_ref(), value_record(None, schemaless_value()));
        assert_eq!(out.value, map(vec![("abc", Value::Int32(42))]));
        // the new key wins over the deprecated one
        let t = transform(VALUE_CLASS, &[("include", "etc"), ("whitelist", "abc")]);
        let out = apply(t.as_ref(), value_record(None, schemaless_value()));
        assert_eq!(out.value, map(vec![("etc", Value::from("etc"))]));
    }

    #[test]
    fn replace_null_with_default_on_key_and_value() {
        for class in [KEY_CLASS, VALUE_CLASS] {
            for (flag, expected) in [("false", Value::Null), ("true", Value::Int32(42))] {
                let t = transform(
                    class,
                    &[
                        ("include", "abc"),
                        ("renames", "abc:optional_with_default"),
                        ("replace.null.with.default", flag),
                    ],
                );
                let schema = SchemaBuilder::struct_()
                    .field(
                        "abc",
                        SchemaBuilder::int32()
                            .optional()
                            .default_value(Value::Int32(42))
                            .build(),
                    )
                    .build();
                let s = Value::Struct(Struct::new(schema.clone()));
                let out = if class == KEY_CLASS {
                    apply(t.as_ref(), key_record(Some(schema), s)).key
                } else {
                    apply(t.as_ref(), value_record(Some(schema), s)).value
                };
                let out = out.as_struct().unwrap().clone();
                assert_eq!(out.schema().fields.len(), 1);
                assert_eq!(out.get("optional_with_default"), Some(&expected));
            }
        }
    }

    #[test]
    fn output_schema_is_cached_per_input_schema() {
        let t = transform(VALUE_CLASS, &[("exclude", "dont")]);
        let s = schema();
        let v = || {
            Value::Struct(
                Struct::new(schema())
                    .with("dont", "a")
                    .with("abc", 1)
                    .with("foo", false)
                    .with("etc", "e"),
            )
        };
        let a = apply(t.as_ref(), value_record(Some(s.clone()), v()));
        let b = apply(t.as_ref(), value_record(Some(s), v()));
        assert!(Arc::ptr_eq(
            a.value_schema.as_ref().unwrap(),
            b.value_schema.as_ref().unwrap()
        ));
    }

    #[test]
    fn renaming_onto_an_existing_field_is_an_error() {
        let t = transform(VALUE_CLASS, &[("renames", "abc:etc")]);
        let value = Struct::new(schema())
            .with("dont", "a")
            .with("abc", 1)
            .with("foo", false)
            .with("etc", "e");
        let e = t
            .apply(value_record(Some(schema()), Value::Struct(value)))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot create field because of field name duplication etc"
        );
    }

    #[test]
    fn bad_renames_name_the_key() {
        for bad in ["abc", "a:b:c", "a:"] {
            let i = issues(VALUE_CLASS, &[("renames", bad)]);
            assert_eq!(i.len(), 1, "{bad}");
            assert_eq!(i[0].key, "renames");
            assert_eq!(
                i[0].message,
                format!(
                    "Invalid value {bad} for configuration renames: Invalid rename mapping: {bad}"
                )
            );
        }
        assert!(issues(VALUE_CLASS, &[("renames", "a:b:")]).is_empty());
        assert_eq!(java_split_colon("a:b::"), ["a", "b"]);
    }
}
