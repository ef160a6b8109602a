//! `org.apache.kafka.connect.transforms.ExtractField$Key` / `$Value`: the key
//! or value becomes one of its fields (a map entry when schemaless). With
//! `field.syntax.version=V2` the field is a dotted path into nested structs
//! or maps (KIP-821), with backticks around names that contain dots.

use std::sync::Arc;

use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Field, Importance, Result, Schema,
    SourceRecord, Struct, Transform, TransformPlugin, Validator, Value,
};

use super::replace_null_with_default_key;
use crate::common::{invalid, map_get, require_map, require_struct, with_default, Side, SmtPlugin};

pub const KEY_CLASS: &str = "org.apache.kafka.connect.transforms.ExtractField$Key";
pub const VALUE_CLASS: &str = "org.apache.kafka.connect.transforms.ExtractField$Value";
const PURPOSE: &str = "field extraction";

/// `field.syntax.version` as Kafka declares it (`FieldSyntaxVersion`).
pub fn field_syntax_version_key() -> ConfigKey {
    ConfigKey::new("field.syntax.version", ConfigType::String)
        .default("V1")
        .validator(Validator::OneOf(&["V1", "V2"]))
        .importance(Importance::High)
        .doc("Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map the following format can be used to access its elements: \"`foo.bar`.baz\".")
}

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("field", ConfigType::String)
                .importance(Importance::Medium)
                .doc("Field name to extract."),
        )
        .define(replace_null_with_default_key())
        .define(field_syntax_version_key())
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    [(KEY_CLASS, Side::Key), (VALUE_CLASS, Side::Value)]
        .into_iter()
        .map(|(class, side)| {
            SmtPlugin::define(class, &[], config_def(), move |c| {
                let original = c.get_string("field").unwrap_or_default().to_string();
                let v2 = c
                    .get_string("field.syntax.version")
                    .is_some_and(|v| v.eq_ignore_ascii_case("V2"));
                let path = if v2 {
                    FieldPath::parse_v2(&original).map_err(|e| invalid("field", &original, e))?
                } else {
                    FieldPath::v1(&original)
                };
                Ok(Box::new(ExtractField {
                    side,
                    path,
                    original,
                    replace_null_with_default: c.get_bool("replace.null.with.default"),
                }) as Box<dyn Transform>)
            })
        })
        .collect()
}

/// Kafka's `SingleFieldPath`: one or more steps into nested data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    steps: Vec<String>,
}

impl FieldPath {
    /// `V1`: the whole text names a top-level field.
    pub fn v1(text: &str) -> FieldPath {
        FieldPath {
            steps: vec![text.to_string()],
        }
    }

    /// `V2`: dots separate steps; a step in backticks may contain dots; a
    /// backtick preceded by a backslash is part of the name.
    pub fn parse_v2(path: &str) -> std::result::Result<FieldPath, String> {
        let chars: Vec<char> = path.chars().collect();
        let n = chars.len();
        let find = |from: usize, c: char| (from..n).find(|&i| chars[i] == c);
        let text = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
        let incomplete = |at: usize| {
            format!("Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at position {at} to escape it")
        };
        let mut steps = Vec::new();
        let mut idx = 0usize;
        while idx < n {
            if chars[idx] != '`' {
                let start = idx;
                match find(idx, '.') {
                    Some(dot) => {
                        steps.push(text(start, dot));
                        idx = dot + 1;
                    }
                    None => {
                        steps.push(text(start, n));
                        idx = n;
                    }
                }
            } else {
                let backtick_at = idx;
                idx += 1;
                let mut field = String::new();
                let mut start = idx;
                loop {
                    let Some(close) = find(idx, '`') else {
                        return Err(incomplete(backtick_at));
                    };
                    idx = close;
                    let escaped = chars[idx - 1] == '\\';
                    if idx >= n - 1 {
                        if escaped {
                            return Err(incomplete(backtick_at));
                        }
                        field.push_str(&text(start, idx));
                        steps.push(field);
                        idx += 1;
                        break;
                    }
                    if chars[idx + 1] != '.' {
                        idx += 1;
                        continue;
                    }
                    if escaped {
                        field.push_str(&text(start, idx - 1));
                        field.push('`');
                        idx += 1;
                        start = idx;
                        continue;
                    }
                    field.push_str(&text(start, idx));
                    steps.push(field);
                    idx += 2;
                    break;
                }
            }
        }
        if path.ends_with('.') || steps.is_empty() {
            steps.push(String::new());
        }
        Ok(FieldPath { steps })
    }

    pub fn steps(&self) -> &[String] {
        &self.steps
    }

    fn split(&self) -> (&[String], &str) {
        let (last, init) = self.steps.split_last().expect("at least one step");
        (init, last)
    }

    /// `fieldFrom(schema)`: the field at this path, if any.
    pub fn field_from<'a>(&self, schema: &'a Schema) -> Option<&'a Field> {
        let (init, last) = self.split();
        let mut current = schema;
        for step in init {
            current = &current.field(step)?.schema;
        }
        current.field(last)
    }

    /// `valueFrom(struct, withDefault)`; intermediate steps always use field
    /// defaults, as Kafka's `Struct.get` does.
    pub fn value_from_struct(&self, value: Struct, with_defaults: bool) -> Result<Value> {
        let (init, last) = self.split();
        let mut current = value;
        for step in init {
            let Some(field) = current.schema().field(step).cloned() else {
                return Ok(Value::Null);
            };
            let v = current.into_values().swap_remove(field.index);
            match with_default(v, &field, true) {
                Value::Null => return Ok(Value::Null),
                other => current = require_struct(other, "nested field access")?,
            }
        }
        let Some(field) = current.schema().field(last).cloned() else {
            return Ok(Value::Null);
        };
        let v = current.into_values().swap_remove(field.index);
        Ok(with_default(v, &field, with_defaults))
    }

    /// `valueFrom(map)`.
    pub fn value_from_map(&self, entries: Vec<(Value, Value)>) -> Result<Value> {
        let (init, last) = self.split();
        let mut current = entries;
        for step in init {
            let Some(i) = current.iter().position(|(k, _)| k.as_str() == Some(step)) else {
                return Ok(Value::Null);
            };
            match current.swap_remove(i).1 {
                Value::Null => return Ok(Value::Null),
                other => current = require_map(other, "nested field access")?,
            }
        }
        Ok(map_get(&current, last).cloned().unwrap_or(Value::Null))
    }
}

pub struct ExtractField {
    side: Side,
    path: FieldPath,
    original: String,
    replace_null_with_default: bool,
}

impl Transform for ExtractField {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        let (schema, value) = self.side.take(&mut record);
        match schema {
            None => {
                let out = match value {
                    Value::Null => Value::Null,
                    other => self.path.value_from_map(require_map(other, PURPOSE)?)?,
                };
                self.side.put(&mut record, None, out);
            }
            Some(schema) => {
                let value = match value {
                    Value::Null => None,
                    other => Some(require_struct(other, PURPOSE)?),
                };
                let field_schema = self
                    .path
                    .field_from(&schema)
                    .ok_or_else(|| ConnectError::data(format!("Unknown field: {}", self.original)))?
                    .schema
                    .clone();
                let out = match value {
                    None => Value::Null,
                    Some(s) => self
                        .path
                        .value_from_struct(s, self.replace_null_with_default)?,
                };
                self.side.put(&mut record, Some(field_schema), out);
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

    fn path(p: &str) -> Vec<String> {
        FieldPath::parse_v2(p).unwrap().steps
    }

    // Kafka's SingleFieldPathTest / FieldPathNotationTest.
    #[test]
    fn v2_paths() {
        assert_eq!(path("foo"), ["foo"]);
        assert_eq!(path("foo.bar"), ["foo", "bar"]);
        assert_eq!(path("foo.bar.baz"), ["foo", "bar", "baz"]);
        assert_eq!(path("`foo.bar`.baz"), ["foo.bar", "baz"]);
        assert_eq!(path("foo.`bar.baz`"), ["foo", "bar.baz"]);
        assert_eq!(path("foo."), ["foo", ""]);
        assert_eq!(path(".foo"), ["", "foo"]);
        assert_eq!(path("`foo`bar`.baz"), ["foo`bar", "baz"]);
        assert_eq!(path("`foo\\`.bar`.baz"), ["foo`.bar", "baz"]);
        assert_eq!(
            FieldPath::parse_v2("`foo.bar").unwrap_err(),
            "Incomplete backtick pair in path: [`foo.bar], consider adding a backslash before backtick at position 0 to escape it"
        );
        assert!(FieldPath::parse_v2("foo.`bar\\`").is_err());
        assert_eq!(FieldPath::v1("foo.bar").steps, ["foo.bar"]);
    }

    // Kafka's ExtractFieldTest.
    #[test]
    fn schemaless() {
        let t = transform(KEY_CLASS, &[("field", "magic")]);
        let out = apply(
            t.as_ref(),
            key_record(None, map(vec![("magic", Value::Int32(42))])),
        );
        assert_eq!(out.key_schema, None);
        assert_eq!(out.key, Value::Int32(42));
        let out = apply(t.as_ref(), key_record(None, Value::Null));
        assert_eq!(out.key, Value::Null);
        let t = transform(KEY_CLASS, &[("field", "nonexistent")]);
        let out = apply(
            t.as_ref(),
            key_record(None, map(vec![("magic", Value::Int32(42))])),
        );
        assert_eq!(out.key, Value::Null);
    }

    #[test]
    fn schemaless_nested_path() {
        let t = transform(
            KEY_CLASS,
            &[("field", "magic.foo"), ("field.syntax.version", "V2")],
        );
        let key = map(vec![("magic", map(vec![("foo", Value::Int32(42))]))]);
        assert_eq!(
            apply(t.as_ref(), key_record(None, key.clone())).key,
            Value::Int32(42)
        );
        let t = transform(
            KEY_CLASS,
            &[
                ("field", "magic.nonexistent"),
                ("field.syntax.version", "v2"),
            ],
        );
        assert_eq!(apply(t.as_ref(), key_record(None, key)).key, Value::Null);
    }

    #[test]
    fn with_schema() {
        let t = transform(KEY_CLASS, &[("field", "magic")]);
        let schema = SchemaBuilder::struct_()
            .field("magic", SchemaBuilder::int32().build())
            .build();
        let key = Struct::new(schema.clone()).with("magic", 42);
        let out = apply(t.as_ref(), key_record(Some(schema), Value::Struct(key)));
        assert_eq!(out.key_schema, Some(SchemaBuilder::int32().build()));
        assert_eq!(out.key, Value::Int32(42));
        // a null struct keeps the field's schema
        let optional = SchemaBuilder::struct_()
            .field("magic", SchemaBuilder::int32().build())
            .optional()
            .build();
        let out = apply(t.as_ref(), key_record(Some(optional), Value::Null));
        assert_eq!(out.key_schema, Some(SchemaBuilder::int32().build()));
        assert_eq!(out.key, Value::Null);
    }

    #[test]
    fn with_schema_nested_path_and_unknown_fields() {
        let foo = SchemaBuilder::struct_()
            .field("foo", SchemaBuilder::int32().build())
            .build();
        let schema = SchemaBuilder::struct_().field("magic", foo.clone()).build();
        let key = Struct::new(schema.clone()).with("magic", Struct::new(foo).with("foo", 42));
        let t = transform(
            KEY_CLASS,
            &[("field", "magic.foo"), ("field.syntax.version", "V2")],
        );
        let out = apply(
            t.as_ref(),
            key_record(Some(schema.clone()), Value::Struct(key.clone())),
        );
        assert_eq!(out.key_schema, Some(SchemaBuilder::int32().build()));
        assert_eq!(out.key, Value::Int32(42));
        let t = transform(
            KEY_CLASS,
            &[
                ("field", "magic.nonexistent"),
                ("field.syntax.version", "V2"),
            ],
        );
        let e = t
            .apply(key_record(Some(schema.clone()), Value::Struct(key.clone())))
            .unwrap_err();
        assert_eq!(e.message(), "Unknown field: magic.nonexistent");
        let t = transform(KEY_CLASS, &[("field", "nonexistent")]);
        let e = t
            .apply(key_record(Some(schema), Value::Struct(key)))
            .unwrap_err();
        assert_eq!(e.message(), "Unknown field: nonexistent");
    }

    #[test]
    fn replace_null_with_default() {
        for class in [KEY_CLASS, VALUE_CLASS] {
            for (flag, expected) in [("false", Value::Null), ("true", Value::Int32(42))] {
                let t = transform(
                    class,
                    &[
                        ("field", "optional_with_default"),
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
                let s = Value::Struct(Struct::new(schema.clone()));
                let r = if class == KEY_CLASS {
                    key_record(Some(schema), s)
                } else {
                    value_record(Some(schema), s)
                };
                let out = apply(t.as_ref(), r);
                let got = if class == KEY_CLASS {
                    out.key
                } else {
                    out.value
                };
                assert_eq!(got, expected);
            }
        }
    }

    #[test]
    fn configuration_errors() {
        assert_eq!(issues(VALUE_CLASS, &[])[0].key, "field");
        let i = issues(
            VALUE_CLASS,
            &[("field", "a"), ("field.syntax.version", "V3")],
        );
        assert_eq!(i[0].key, "field.syntax.version");
        let i = issues(
            VALUE_CLASS,
            &[("field", "`a"), ("field.syntax.version", "V2")],
        );
        assert_eq!(i[0].key, "field");
        assert!(
            i[0].message.contains("Incomplete backtick pair"),
            "{}",
            i[0].message
        );
    }
}
