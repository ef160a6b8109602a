//! What the transforms share: the derived-schema cache, access to a record's
//! key or value, Kafka's `Requirements` checks with Kafka's error texts,
//! schemaless-map helpers, and the plugin shells that turn a `ConfigDef` plus
//! a build function into a [`TransformPlugin`] / [`PredicatePlugin`].

use std::sync::{Arc, RwLock};

use sluice_connect_api::config::{ConfigValue, ConfigValues, Props};
use sluice_connect_api::{
    ConfigDef, ConfigIssue, ConnectError, Field, Predicate, PredicatePlugin, Result, Schema,
    SchemaRef, SchemaType, SourceRecord, Struct, Transform, TransformPlugin, Value,
};

/// How many input schemas a transform remembers (Kafka's `LRUCache(16)`).
pub const CACHE_CAPACITY: usize = 16;

/// A small cache of what a transform derives from an input schema (the
/// output schema, usually with a plan to build values), keyed by the input
/// schema's `Arc` pointer — Kafka's `SynchronizedCache<Schema, Schema>`.
///
/// A hit is a read lock and a pointer comparison over at most
/// [`CACHE_CAPACITY`] entries, so an unchanged input schema never causes a
/// rebuild and always yields the *same* output `Arc` (which keeps the
/// converters' own per-schema caches hot). The key `Arc` is held, so its
/// address cannot be reused by another schema while cached. An input that
/// is a different `Arc` but an equal schema also hits (without being added,
/// so a source that rebuilds equal schemas cannot churn the cache).
pub struct SchemaCache<V> {
    inner: RwLock<Entries<V>>,
}

struct Entries<V> {
    items: Vec<(SchemaRef, V)>,
    /// Next slot to replace when full (FIFO).
    next: usize,
}

impl<V: Clone> Default for SchemaCache<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Clone> SchemaCache<V> {
    pub fn new() -> Self {
        SchemaCache {
            inner: RwLock::new(Entries {
                items: Vec::with_capacity(CACHE_CAPACITY),
                next: 0,
            }),
        }
    }

    /// The cached value for `key`, or the result of `build` (cached when
    /// it succeeds).
    pub fn get_or_try_insert<E>(
        &self,
        key: &SchemaRef,
        build: impl FnOnce(&SchemaRef) -> std::result::Result<V, E>,
    ) -> std::result::Result<V, E> {
        {
            let entries = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if let Some((_, v)) = entries.items.iter().find(|(k, _)| Arc::ptr_eq(k, key)) {
                return Ok(v.clone());
            }
            if let Some((_, v)) = entries.items.iter().find(|(k, _)| **k == **key) {
                return Ok(v.clone());
            }
        }
        let value = build(key)?;
        let mut entries = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some((_, v)) = entries.items.iter().find(|(k, _)| Arc::ptr_eq(k, key)) {
            // Another thread built it meanwhile: keep one answer.
            return Ok(v.clone());
        }
        if entries.items.len() < CACHE_CAPACITY {
            entries.items.push((key.clone(), value.clone()));
        } else {
            let slot = entries.next;
            entries.items[slot] = (key.clone(), value.clone());
            entries.next = (slot + 1) % CACHE_CAPACITY;
        }
        Ok(value)
    }

    /// Number of cached input schemas.
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .items
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which part of the record a `$Key` / `$Value` transform works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Key,
    Value,
}

impl Side {
    pub fn schema(self, record: &SourceRecord) -> Option<&SchemaRef> {
        match self {
            Side::Key => record.key_schema.as_ref(),
            Side::Value => record.value_schema.as_ref(),
        }
    }

    pub fn value(self, record: &SourceRecord) -> &Value {
        match self {
            Side::Key => &record.key,
            Side::Value => &record.value,
        }
    }

    /// Moves the schema and value out (leaving `None` / null).
    pub fn take(self, record: &mut SourceRecord) -> (Option<SchemaRef>, Value) {
        match self {
            Side::Key => (
                record.key_schema.take(),
                std::mem::replace(&mut record.key, Value::Null),
            ),
            Side::Value => (
                record.value_schema.take(),
                std::mem::replace(&mut record.value, Value::Null),
            ),
        }
    }

    pub fn put(self, record: &mut SourceRecord, schema: Option<SchemaRef>, value: Value) {
        match self {
            Side::Key => {
                record.key_schema = schema;
                record.key = value;
            }
            Side::Value => {
                record.value_schema = schema;
                record.value = value;
            }
        }
    }
}

/// The Java class Kafka would name for a value in its error messages.
pub fn java_class(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Boolean(_) => "java.lang.Boolean",
        Value::Int8(_) => "java.lang.Byte",
        Value::Int16(_) => "java.lang.Short",
        Value::Int32(_) => "java.lang.Integer",
        Value::Int64(_) => "java.lang.Long",
        Value::Float32(_) => "java.lang.Float",
        Value::Float64(_) => "java.lang.Double",
        Value::String(_) => "java.lang.String",
        Value::Bytes(_) => "[B",
        Value::Decimal(_) => "java.math.BigDecimal",
        Value::Array(_) => "java.util.ArrayList",
        Value::Map(_) => "java.util.HashMap",
        Value::Struct(_) => "org.apache.kafka.connect.data.Struct",
    }
}

/// `value.getClass()` as Kafka prints it: `class java.lang.Integer`.
pub fn class_of(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        other => format!("class {}", java_class(other)),
    }
}

/// Kafka's `Requirements.requireStruct`.
pub fn require_struct(value: Value, purpose: &str) -> Result<Struct> {
    match value {
        Value::Struct(s) => Ok(s),
        other => Err(ConnectError::data(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            java_class(&other)
        ))),
    }
}

/// Kafka's `Requirements.requireMap`: a schemaless map's entries.
pub fn require_map(value: Value, purpose: &str) -> Result<Vec<(Value, Value)>> {
    match value {
        Value::Map(entries) => Ok(entries),
        other => Err(ConnectError::data(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            java_class(&other)
        ))),
    }
}

/// Kafka's `Requirements.requireSchema`.
pub fn require_schema<'a>(schema: Option<&'a SchemaRef>, purpose: &str) -> Result<&'a SchemaRef> {
    schema.ok_or_else(|| ConnectError::data(format!("Schema required for [{purpose}]")))
}

/// The value of a schemaless map entry (string keys).
pub fn map_get<'a>(entries: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

/// `Map.put`: replaces the value in place, or appends the entry.
pub fn map_put(entries: &mut Vec<(Value, Value)>, key: &str, value: Value) {
    match entries.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
        Some(slot) => slot.1 = value,
        None => entries.push((Value::String(key.into()), value)),
    }
}

/// `Map.remove`.
pub fn map_remove(entries: &mut Vec<(Value, Value)>, key: &str) -> Option<Value> {
    let i = entries.iter().position(|(k, _)| k.as_str() == Some(key))?;
    Some(entries.remove(i).1)
}

/// Kafka's `Struct.get(field)` versus `getWithoutDefault`: a null value
/// becomes the field's default when `replace_null_with_default`.
pub fn with_default(value: Value, field: &Field, replace_null_with_default: bool) -> Value {
    match (&value, &field.schema.default) {
        (Value::Null, Some(default)) if replace_null_with_default => default.clone(),
        _ => value,
    }
}

/// A schema of `schema_type` with `source`'s name, version, doc and
/// parameters (Kafka's `SchemaUtil.copySchemaBasics`): required, no
/// default, no fields.
pub fn copy_basics(source: &Schema, schema_type: SchemaType) -> Schema {
    Schema {
        schema_type,
        optional: false,
        name: source.name.clone(),
        version: source.version,
        doc: source.doc.clone(),
        parameters: source.parameters.clone(),
        default: None,
        fields: Vec::new(),
        key_schema: None,
        value_schema: if schema_type == SchemaType::Array {
            source.value_schema.clone()
        } else {
            None
        },
    }
}

/// A struct from positional values; a count that does not match the schema
/// (a value whose struct schema differs from the record's) is a data
/// error, never a panic.
pub fn new_struct(schema: SchemaRef, values: Vec<Value>) -> Result<Struct> {
    if schema.fields.len() != values.len() {
        return Err(ConnectError::data(format!(
            "a struct of {} fields does not match its schema of {} fields",
            values.len(),
            schema.fields.len()
        )));
    }
    Ok(Struct::from_values(schema, values))
}

/// A required struct schema without name or fields (`SchemaBuilder.struct()`).
pub fn empty_struct() -> Schema {
    sluice_connect_api::SchemaBuilder::struct_().build_schema()
}

/// Appends a field to a struct schema, refusing a duplicate name as Kafka's
/// `SchemaBuilder.field` does.
pub fn push_field(
    schema: &mut Schema,
    name: impl Into<String>,
    field_schema: SchemaRef,
) -> Result<()> {
    let name = name.into();
    if schema.field(&name).is_some() {
        return Err(ConnectError::data(format!(
            "Cannot create field because of field name duplication {name}"
        )));
    }
    let index = schema.fields.len();
    schema.fields.push(Field {
        name,
        index,
        schema: field_schema,
    });
    Ok(())
}

/// A plain schema of one type.
pub fn primitive(schema_type: SchemaType, optional: bool) -> SchemaRef {
    let mut b = sluice_connect_api::SchemaBuilder::new(schema_type);
    if optional {
        b = b.optional();
    }
    b.build()
}

/// A configuration problem in Kafka's words:
/// `Invalid value <value> for configuration <key>: <message>`.
pub fn invalid(key: &str, value: &str, message: impl std::fmt::Display) -> ConfigIssue {
    ConfigIssue {
        key: key.to_string(),
        message: format!("Invalid value {value} for configuration {key}: {message}"),
    }
}

/// A problem with the configuration as a whole (Kafka's
/// `new ConfigException(message)`), reported without a key.
pub fn config_problem(message: impl Into<String>) -> ConfigIssue {
    ConfigIssue {
        key: String::new(),
        message: message.into(),
    }
}

/// Kafka's `NonEmptyListValidator`.
pub fn non_empty_list(value: &ConfigValue) -> std::result::Result<(), String> {
    match value {
        ConfigValue::List(items) if items.is_empty() => Err("Empty list".into()),
        ConfigValue::Null => Err("Empty list".into()),
        _ => Ok(()),
    }
}

/// Kafka's `RegexValidator`.
pub fn valid_regex(value: &ConfigValue) -> std::result::Result<(), String> {
    match value {
        ConfigValue::String(s) => crate::kafka::java::JavaRegex::compile(s)
            .map(|_| ())
            .map_err(|e| format!("Invalid regex: {e}")),
        _ => Ok(()),
    }
}

/// One error out of several configuration issues.
pub fn issues_error(issues: &[ConfigIssue]) -> ConnectError {
    let text = issues
        .iter()
        .map(|i| {
            if i.key.is_empty() || i.message.contains(&i.key) {
                i.message.clone()
            } else {
                format!("{}: {}", i.key, i.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    ConnectError::config(text)
}

type Build<T> = dyn Fn(&ConfigValues) -> std::result::Result<T, ConfigIssue> + Send + Sync;

/// A transform class: its declared keys and how to build an instance from
/// parsed values. Validation is parsing plus building, so the rules Kafka
/// checks in `configure()` are reported by validation too.
pub struct SmtPlugin {
    class_name: &'static str,
    aliases: &'static [&'static str],
    def: ConfigDef,
    build: Box<Build<Box<dyn Transform>>>,
}

impl SmtPlugin {
    /// A transform plugin from its class name, aliases, keys and builder.
    pub fn define(
        class_name: &'static str,
        aliases: &'static [&'static str],
        def: ConfigDef,
        build: impl Fn(&ConfigValues) -> std::result::Result<Box<dyn Transform>, ConfigIssue>
            + Send
            + Sync
            + 'static,
    ) -> Arc<dyn TransformPlugin> {
        Arc::new(SmtPlugin {
            class_name,
            aliases,
            def,
            build: Box::new(build),
        })
    }

    fn configure(
        &self,
        props: &Props,
    ) -> std::result::Result<Box<dyn Transform>, Vec<ConfigIssue>> {
        let values = self.def.parse(props)?;
        (self.build)(&values).map_err(|i| vec![i])
    }
}

impl TransformPlugin for SmtPlugin {
    fn class_name(&self) -> &'static str {
        self.class_name
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }
    fn config_def(&self) -> &ConfigDef {
        &self.def
    }
    fn validate(&self, props: &Props) -> Vec<ConfigIssue> {
        self.configure(props).err().unwrap_or_default()
    }
    fn create(&self, props: &Props) -> Result<Box<dyn Transform>> {
        self.configure(props).map_err(|i| issues_error(&i))
    }
}

/// A predicate class (see [`SmtPlugin`]).
pub struct SmtPredicatePlugin {
    class_name: &'static str,
    aliases: &'static [&'static str],
    def: ConfigDef,
    build: Box<Build<Box<dyn Predicate>>>,
}

impl SmtPredicatePlugin {
    /// A predicate plugin from its class name, aliases, keys and builder.
    pub fn define(
        class_name: &'static str,
        aliases: &'static [&'static str],
        def: ConfigDef,
        build: impl Fn(&ConfigValues) -> std::result::Result<Box<dyn Predicate>, ConfigIssue>
            + Send
            + Sync
            + 'static,
    ) -> Arc<dyn PredicatePlugin> {
        Arc::new(SmtPredicatePlugin {
            class_name,
            aliases,
            def,
            build: Box::new(build),
        })
    }

    fn configure(
        &self,
        props: &Props,
    ) -> std::result::Result<Box<dyn Predicate>, Vec<ConfigIssue>> {
        let values = self.def.parse(props)?;
        (self.build)(&values).map_err(|i| vec![i])
    }
}

impl PredicatePlugin for SmtPredicatePlugin {
    fn class_name(&self) -> &'static str {
        self.class_name
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }
    fn config_def(&self) -> &ConfigDef {
        &self.def
    }
    fn validate(&self, props: &Props) -> Vec<ConfigIssue> {
        self.configure(props).err().unwrap_or_default()
    }
    fn create(&self, props: &Props) -> Result<Box<dyn Predicate>> {
        self.configure(props).map_err(|i| issues_error(&i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_connect_api::SchemaBuilder;

    #[test]
    fn cache_hits_by_pointer_and_by_equality_and_stays_bounded() {
        let cache: SchemaCache<SchemaRef> = SchemaCache::new();
        let a = SchemaBuilder::struct_()
            .field("x", SchemaBuilder::int32().build())
            .build();
        let mut builds = 0;
        let out1 = cache
            .get_or_try_insert::<()>(&a, |_| {
                builds += 1;
                Ok(SchemaBuilder::string().build())
            })
            .unwrap();
        let out2 = cache
            .get_or_try_insert::<()>(&a, |_| {
                builds += 1;
                Ok(SchemaBuilder::string().build())
            })
            .unwrap();
        assert_eq!(builds, 1);
        assert!(Arc::ptr_eq(&out1, &out2));
        // An equal schema behind another Arc hits without being added.
        let a2 = Arc::new((*a).clone());
        let out3 = cache.get_or_try_insert::<()>(&a2, |_| Err(())).unwrap();
        assert!(Arc::ptr_eq(&out1, &out3));
        assert_eq!(cache.len(), 1);
        for i in 0..40 {
            let s = SchemaBuilder::struct_()
                .field(format!("f{i}"), SchemaBuilder::int32().build())
                .build();
            cache
                .get_or_try_insert::<()>(&s, |_| Ok(SchemaBuilder::string().build()))
                .unwrap();
        }
        assert_eq!(cache.len(), CACHE_CAPACITY);
        // A failed build caches nothing.
        let b = SchemaBuilder::int64().build();
        assert!(cache.get_or_try_insert(&b, |_| Err("no")).is_err());
    }

    #[test]
    fn map_helpers_keep_order_and_replace_in_place() {
        let mut m = vec![
            (Value::from("a"), Value::Int32(1)),
            (Value::from("b"), Value::Int32(2)),
        ];
        map_put(&mut m, "a", Value::Int32(3));
        map_put(&mut m, "c", Value::Int32(4));
        assert_eq!(map_get(&m, "a"), Some(&Value::Int32(3)));
        assert_eq!(m[2].0, Value::from("c"));
        assert_eq!(map_remove(&mut m, "b"), Some(Value::Int32(2)));
        assert_eq!(map_remove(&mut m, "zz"), None);
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn requirement_errors_use_kafkas_words() {
        let e = require_struct(Value::Int32(1), "field insertion").unwrap_err();
        assert_eq!(
            e.message(),
            "Only Struct objects supported for [field insertion], found: java.lang.Integer"
        );
        let e = require_map(Value::Null, "flattening").unwrap_err();
        assert_eq!(
            e.message(),
            "Only Map objects supported in absence of schema for [flattening], found: null"
        );
        let e = require_schema(None, "updating schema metadata").unwrap_err();
        assert_eq!(
            e.message(),
            "Schema required for [updating schema metadata]"
        );
    }

    #[test]
    fn push_field_refuses_duplicates() {
        let mut s = copy_basics(
            &SchemaBuilder::struct_().name("n").build_schema(),
            SchemaType::Struct,
        );
        push_field(&mut s, "a", SchemaBuilder::int32().build()).unwrap();
        let e = push_field(&mut s, "a", SchemaBuilder::int32().build()).unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot create field because of field name duplication a"
        );
        assert_eq!(s.name.as_deref(), Some("n"));
    }
}
