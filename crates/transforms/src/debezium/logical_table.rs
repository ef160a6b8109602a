//! `io.debezium.transforms.ByLogicalTableRouter` (and its Debezium 3
//! successor `io.debezium.transforms.ToLogicalTopicRouter`): routes the
//! change events of several physical tables (shards) to one logical topic,
//! renames the key, value and envelope schemas after the new topic
//! (`<topic>.Key`, `<topic>.Value`, `<topic>.Envelope`) and, unless
//! `key.enforce.uniqueness=false`, adds a field naming the physical table
//! to the key so that keys stay unique across shards.
//!
//! The new topic and the rewritten schemas are cached per topic and per
//! schema `Arc`; per record the transform swaps schema pointers and
//! appends one key field.

use std::sync::Arc;

use sluice_connect_api::config::{
    ConfigDef, ConfigKey, ConfigType, ConfigValues, Importance, Props, Validator,
};
use sluice_connect_api::{
    ConfigIssue, ConnectError, Result, Schema, SchemaBuilder, SchemaRef, SchemaType, SourceRecord,
    Struct, Transform, TransformPlugin, Value,
};

use crate::common::{invalid, issues_error, push_field, valid_regex, SmtPlugin};

use super::util::{is_envelope, ptr, take, Cache, JavaRegexReplace, NameAdjustment};

pub const CLASS: &str = "io.debezium.transforms.ByLogicalTableRouter";
pub const TO_LOGICAL_TOPIC_CLASS: &str = "io.debezium.transforms.ToLogicalTopicRouter";

/// The keys; `default_key_field` is `__dbz__physicalTableIdentifier` for
/// ByLogicalTableRouter and `__dbz__sourceIdentifier` for
/// ToLogicalTopicRouter.
pub fn config_def(default_key_field: &str) -> ConfigDef {
    use ConfigType::*;
    let k = ConfigKey::new;
    ConfigDef::new()
        .define(k("topic.regex", String).importance(Importance::Low).validator(Validator::Custom(valid_regex))
            .doc("The regex matched against the whole topic name; non-matching records pass unchanged."))
        .define(k("topic.replacement", String).importance(Importance::Low).validator(Validator::NonEmptyString)
            .doc("The new topic name (Java replacement syntax: `$1`, `${name}`)."))
        .define(k("key.enforce.uniqueness", Boolean).default("true").importance(Importance::Low)
            .doc("Add a field naming the physical table (by default the original topic) to the key."))
        .define(k("key.field.name", String).default(default_key_field).importance(Importance::Low)
            .doc("The name of the key field added by `key.enforce.uniqueness`."))
        .define(k("key.field.regex", String).optional().importance(Importance::Low).validator(Validator::Custom(valid_regex))
            .doc("A regex matched against the original topic to derive the key field's value (with `key.field.replacement`)."))
        .define(k("key.field.replacement", String).optional().importance(Importance::Low)
            .doc("The key field's value (Java replacement syntax); required with `key.field.regex`."))
        .define(k("schema.name.adjustment.mode", String).default("none").importance(Importance::Low)
            .validator(Validator::OneOf(&["none", "avro", "avro_unicode"]))
            .doc("How the new key, value and envelope schema names are adjusted: `none`, `avro`, `avro_unicode`."))
        .define(k("logical.table.cache.size", Int).default("16").importance(Importance::Low)
            .doc("Accepted for compatibility (Debezium's LRU cache size); sluice sizes its caches itself."))
        .define(k("logical.destination.cache.size", Int).default("16").importance(Importance::Low)
            .doc("Accepted for compatibility (Debezium's LRU cache size); sluice sizes its caches itself."))
}

pub struct ByLogicalTableRouter {
    topic: JavaRegexReplace,
    key_field: Option<JavaRegexReplace>,
    enforce_uniqueness: bool,
    key_field_name: String,
    names: NameAdjustment,
    topics: Cache<Box<str>, Option<Routed>>,
    keys: Cache<(usize, usize), (SchemaRef, Arc<str>, SchemaRef)>,
    envelopes: Cache<(usize, usize), Arc<EnvelopeRewrite>>,
}

/// The routing result for one original topic.
#[derive(Clone)]
struct Routed {
    topic: Arc<str>,
    /// The key field's value (the physical table identifier).
    identifier: Arc<str>,
}

struct EnvelopeRewrite {
    _pin: SchemaRef,
    _topic: Arc<str>,
    schema: SchemaRef,
    /// The new row schema and the positions of `before` / `after`.
    row: Option<(SchemaRef, Vec<usize>)>,
}

impl ByLogicalTableRouter {
    /// Parses `props` (the transform's keys) and builds the transform.
    pub fn new(default_key_field: &str, props: &Props) -> Result<Self> {
        let values = config_def(default_key_field)
            .parse(props)
            .map_err(|i| issues_error(&i))?;
        Self::from_values(default_key_field, &values).map_err(|i| issues_error(&[i]))
    }

    pub fn from_values(
        default_key_field: &str,
        v: &ConfigValues,
    ) -> std::result::Result<Self, ConfigIssue> {
        let replacement = v.get_string("topic.replacement").unwrap_or_default();
        let topic =
            JavaRegexReplace::new(v.get_string("topic.regex").unwrap_or_default(), replacement)
                .map_err(|e| invalid("topic.replacement", replacement, e))?;
        let key_regex = v
            .get_string("key.field.regex")
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let key_field = match key_regex {
            Some(re) => {
                let replacement = v
                    .get_string("key.field.replacement")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| ConfigIssue {
                        key: "key.field.replacement".into(),
                        message:
                            "key.field.replacement must be non-empty if key.field.regex is set."
                                .into(),
                    })?;
                Some(
                    JavaRegexReplace::new(re, replacement)
                        .map_err(|e| invalid("key.field.replacement", replacement, e))?,
                )
            }
            None => None,
        };
        Ok(ByLogicalTableRouter {
            topic,
            key_field,
            enforce_uniqueness: v.get_bool("key.enforce.uniqueness"),
            key_field_name: v
                .get_string("key.field.name")
                .unwrap_or(default_key_field)
                .to_string(),
            names: NameAdjustment::parse(v.get_string("schema.name.adjustment.mode")),
            topics: Cache::new(1024),
            keys: Cache::new(256),
            envelopes: Cache::new(256),
        })
    }

    fn route(&self, topic: &str) -> Option<Routed> {
        if let Some(r) = self.topics.get(topic) {
            return r;
        }
        let routed = self.topic.apply(topic).map(|new| {
            let identifier = self
                .key_field
                .as_ref()
                .and_then(|k| k.apply(topic))
                .unwrap_or_else(|| topic.to_string());
            Routed {
                topic: Arc::from(new),
                identifier: Arc::from(identifier),
            }
        });
        self.topics.insert(topic.into(), routed.clone());
        routed
    }

    /// Copies a schema under a new name (Debezium's
    /// `copySchemaExcludingName`: version, doc, parameters, optionality).
    fn renamed(source: &Schema, name: String, fields: bool) -> Schema {
        let mut s = SchemaBuilder::struct_().name(name).build_schema();
        s.version = source.version;
        s.doc = source.doc.clone();
        s.parameters = source.parameters.clone();
        s.optional = source.optional;
        if fields {
            s.fields = source.fields.clone();
        }
        s
    }

    fn key_schema(&self, old: &SchemaRef, topic: &Arc<str>) -> Result<SchemaRef> {
        self.keys
            .get_or_try((ptr(old), Arc::as_ptr(topic) as *const u8 as usize), || {
                let mut s =
                    Self::renamed(old, self.names.schema_name(&format!("{topic}.Key")), true);
                if self.enforce_uniqueness {
                    push_field(
                        &mut s,
                        &self.key_field_name,
                        SchemaBuilder::string().build(),
                    )?;
                }
                Ok::<_, ConnectError>((old.clone(), topic.clone(), Arc::new(s)))
            })
            .map(|(_, _, s)| s)
    }

    fn envelope(&self, old: &SchemaRef, topic: &Arc<str>) -> Arc<EnvelopeRewrite> {
        self.envelopes
            .get_or_try::<()>((ptr(old), Arc::as_ptr(topic) as *const u8 as usize), || {
                let row_field = old.field("before").or_else(|| old.field("after"));
                let row = row_field
                    .filter(|f| f.schema.schema_type == SchemaType::Struct)
                    .map(|f| {
                        Arc::new(Self::renamed(
                            &f.schema,
                            self.names.schema_name(&format!("{topic}.Value")),
                            true,
                        ))
                    });
                let mut s = Self::renamed(
                    old,
                    self.names.schema_name(&format!("{topic}.Envelope")),
                    false,
                );
                let mut positions = Vec::new();
                for f in &old.fields {
                    let mut field = f.clone();
                    if let Some(r) = &row {
                        if f.name == "before" || f.name == "after" {
                            field.schema = r.clone();
                            positions.push(f.index);
                        }
                    }
                    s.fields.push(field);
                }
                Ok(Arc::new(EnvelopeRewrite {
                    _pin: old.clone(),
                    _topic: topic.clone(),
                    schema: Arc::new(s),
                    row: row.map(|r| (r, positions)),
                }))
            })
            .expect("infallible")
    }
}

fn restructure(s: Struct, schema: &SchemaRef) -> Struct {
    Struct::from_values(schema.clone(), s.into_values())
}

impl Transform for ByLogicalTableRouter {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        let Some(routed) = self.route(&record.topic) else {
            return Ok(Some(record));
        };
        if routed.topic.is_empty() {
            tracing::warn!(
                "Routing regex returned an empty topic name, propagating original record"
            );
            return Ok(Some(record));
        }
        match take(&mut record.key) {
            Value::Null => record.key_schema = None,
            Value::Struct(key) => {
                let schema = self.key_schema(key.schema(), &routed.topic)?;
                let mut values = key.into_values();
                if self.enforce_uniqueness {
                    values.push(Value::from(&*routed.identifier));
                }
                record.key_schema = Some(schema.clone());
                record.key = Value::Struct(Struct::from_values(schema, values));
            }
            other => {
                return Err(ConnectError::data(format!(
                    "Only Struct objects supported for [Updating schema], found: {}",
                    other.type_name()
                )))
            }
        }
        if !record.value.is_null() && is_envelope(record.value_schema.as_ref()) {
            if let (Some(schema), Value::Struct(_)) = (&record.value_schema, &record.value) {
                let rewrite = self.envelope(schema, &routed.topic);
                let Value::Struct(envelope) = take(&mut record.value) else {
                    unreachable!("checked above")
                };
                let mut values = envelope.into_values();
                if let Some((row_schema, positions)) = &rewrite.row {
                    for i in positions {
                        if let Value::Struct(row) = take(&mut values[*i]) {
                            values[*i] = Value::Struct(restructure(row, row_schema));
                        }
                    }
                }
                record.value_schema = Some(rewrite.schema.clone());
                record.value = Value::Struct(Struct::from_values(rewrite.schema.clone(), values));
            }
        }
        record.topic = routed.topic;
        Ok(Some(record))
    }
}

/// `io.debezium.transforms.ByLogicalTableRouter`.
pub fn plugin() -> Arc<dyn TransformPlugin> {
    const KEY_FIELD: &str = "__dbz__physicalTableIdentifier";
    SmtPlugin::define(
        CLASS,
        &["ByLogicalTableRouter"],
        config_def(KEY_FIELD),
        |v| Ok(Box::new(ByLogicalTableRouter::from_values(KEY_FIELD, v)?) as Box<dyn Transform>),
    )
}

/// `io.debezium.transforms.ToLogicalTopicRouter` (Debezium 3.x's name for
/// the same transform, with key field `__dbz__sourceIdentifier`).
pub fn to_logical_topic_plugin() -> Arc<dyn TransformPlugin> {
    const KEY_FIELD: &str = "__dbz__sourceIdentifier";
    SmtPlugin::define(
        TO_LOGICAL_TOPIC_CLASS,
        &["ToLogicalTopicRouter"],
        config_def(KEY_FIELD),
        |v| Ok(Box::new(ByLogicalTableRouter::from_values(KEY_FIELD, v)?) as Box<dyn Transform>),
    )
}
