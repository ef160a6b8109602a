//! `io.debezium.transforms.outbox.EventRouter`: the outbox pattern. A
//! service writes its events as rows of an outbox table in the same
//! transaction as its state change; the router turns each captured insert
//! into the event itself: topic `outbox.event.<aggregatetype>` (via
//! `route.by.field` and `route.topic.regex` / `route.topic.replacement`),
//! key = the `aggregateid` column, value = the `payload` column (or a
//! struct with the payload and extra columns), header `id` = the event id,
//! timestamp = the change event's `ts_ms` (or a column).
//!
//! Deletes and tombstones are dropped (an outbox table may be cleaned up
//! right away); an update is unexpected (`table.op.invalid.behavior`).
//!
//! sluice extension: PostgreSQL logical decoding messages
//! (`pg_logical_emit_message`) whose prefix is in `logical.message.prefixes`
//! (default `outbox`) are outbox events too: their content is a JSON object
//! whose fields play the columns (`id`, `aggregatetype`, `aggregateid`,
//! `payload`, …), decoded as Debezium's DecodeLogicalDecodingMessageContent
//! does. Other messages pass unchanged, as they do in Debezium.

use std::sync::Arc;

use sluice_connect_api::config::{
    ConfigDef, ConfigKey, ConfigType, ConfigValue, ConfigValues, Importance, Props, Validator,
};
use sluice_connect_api::{
    ConfigIssue, ConnectError, Header, Result, SchemaBuilder, SchemaRef, SchemaType, SourceRecord,
    Struct, Transform, TransformPlugin, Value,
};

use crate::common::{invalid, issues_error, push_field, valid_regex, SmtPlugin};

use super::json::{EmptyArrayBehavior, JsonSchemaData, NullBehavior};
use super::message::{content_text, decode_content, is_message, message_parts};
use super::util::{is_envelope, ptr, take, Cache, Interner, JavaRegexReplace, NameAdjustment};

pub const CLASS: &str = "io.debezium.transforms.outbox.EventRouter";

const PLACEMENTS: &[&str] = &["header", "envelope", "partition"];

fn validate_placements(v: &ConfigValue) -> std::result::Result<(), String> {
    if let ConfigValue::List(items) = v {
        for item in items.iter().filter(|i| !i.trim().is_empty()) {
            let parts: Vec<&str> = item.split(':').collect();
            if parts.len() != 2 && parts.len() != 3 {
                return Err(format!(
                    "A comma-separated list of valid String pairs or trios is expected but got: {}",
                    items.join(",")
                ));
            }
            if !PLACEMENTS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(parts[1].trim()))
            {
                return Err(format!(
                    "'{}' is not a placement; use one of {}",
                    parts[1].trim(),
                    PLACEMENTS.join(", ")
                ));
            }
        }
    }
    Ok(())
}

pub fn config_def() -> ConfigDef {
    use ConfigType::*;
    let k = ConfigKey::new;
    ConfigDef::new()
        .define(k("table.field.event.id", String).default("id").group("Table").importance(Importance::Low)
            .doc("The column holding the event id (the `id` header)."))
        .define(k("table.field.event.key", String).default("aggregateid").group("Table").importance(Importance::Low)
            .doc("The column holding the event key (the record key)."))
        .define(k("table.field.event.type", String).default("type").group("Table").importance(Importance::Low)
            .doc("The column holding the event type (place it with `table.fields.additional.placement`, e.g. `type:header:eventType`)."))
        .define(k("table.field.event.payload", String).default("payload").group("Table").importance(Importance::Low)
            .doc("The column holding the event payload (the record value)."))
        .define(k("table.field.event.timestamp", String).optional().group("Table").importance(Importance::Medium)
            .doc("A column (Timestamp, MicroTimestamp or NanoTimestamp) whose value becomes the record timestamp; by default the change event's `ts_ms`."))
        .define(k("table.fields.additional.placement", List).default("").group("Table").importance(Importance::High)
            .validator(Validator::Custom(validate_placements))
            .doc("Extra columns: `column:header[:alias]`, `column:envelope[:alias]` (the value becomes a struct with `payload` and these fields), `column:partition` (an int32 column picks the Kafka partition)."))
        .define(k("table.field.additional.missing", String).default("error").group("Table").importance(Importance::Medium)
            .validator(Validator::OneOf(&["error", "ignore"]))
            .doc("When an additional column is missing: `error` or `ignore`."))
        .define(k("table.field.event.schema.version", String).optional().group("Table").importance(Importance::Low)
            .doc("An int32 column whose value becomes the version of the value schema (with envelope placements)."))
        .define(k("table.op.invalid.behavior", String).default("warn").group("Table").importance(Importance::Medium)
            .validator(Validator::OneOf(&["warn", "error", "fatal"]))
            .doc("An update of the outbox table is unexpected: `warn` / `error` log it and drop it, `fatal` fails the record."))
        .define(k("table.expand.json.payload", Boolean).default("false").group("Table").importance(Importance::Medium)
            .doc("Parse a JSON string payload into a struct with an inferred schema (as Debezium's JsonSchemaData does); a payload that is not JSON is left as it is, with a warning."))
        .define(k("table.json.payload.null.behavior", String).default("ignore").group("Table").importance(Importance::Medium)
            .validator(Validator::OneOf(&["ignore", "optional_bytes"]))
            .doc("JSON nulls when expanding: `ignore` leaves the field out, `optional_bytes` keeps it as optional bytes."))
        .define(k("table.json.payload.empty.array.behavior", String).default("ignore").group("Table").importance(Importance::Medium)
            .validator(Validator::OneOf(&["ignore", "optional_string"]))
            .doc("Empty JSON arrays when expanding: `ignore` leaves the field out, `optional_string` makes it an array of optional strings."))
        .define(k("field.name.adjustment.mode", String).default("none").group("Table").importance(Importance::Low)
            .validator(Validator::OneOf(&["none", "avro", "avro_unicode"]))
            .doc("How field names of an expanded JSON payload are adjusted."))
        .define(k("route.by.field", String).default("aggregatetype").group("Router").importance(Importance::High)
            .doc("The column whose value routes the event (`${routedByValue}`)."))
        .define(k("route.topic.regex", String).default("(?<routedByValue>.*)").group("Router").importance(Importance::Low)
            .validator(Validator::Custom(valid_regex))
            .doc("The regex applied to the routing value."))
        .define(k("route.topic.replacement", String).default("outbox.event.${routedByValue}").group("Router").importance(Importance::High)
            .doc("The topic name (Java replacement syntax: `${routedByValue}`, `$1`)."))
        .define(k("route.tombstone.on.empty.payload", Boolean).default("false").group("Router").importance(Importance::High)
            .doc("A null or empty payload produces a tombstone (null value)."))
        .define(k("logical.message.prefixes", List).default("outbox").group("Router").importance(Importance::Medium)
            .doc("sluice extension: PostgreSQL logical decoding messages with one of these prefixes are outbox events (their content is a JSON object with the outbox columns as fields); other messages pass unchanged. Empty: no message is routed."))
        .define(k("tracing.span.context.field", String).default("tracingspancontext").group("Tracing").importance(Importance::Low)
            .doc("Accepted for compatibility; sluice has no OpenTelemetry tracing, the field is not read."))
        .define(k("tracing.operation.name", String).default("debezium-read").group("Tracing").importance(Importance::Low)
            .doc("Accepted for compatibility; no effect."))
        .define(k("tracing.with.context.field.only", Boolean).default("false").group("Tracing").importance(Importance::Low)
            .doc("Accepted for compatibility; no effect."))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    Header,
    Envelope,
    Partition,
}

#[derive(Debug, Clone)]
struct AdditionalField {
    placement: Placement,
    field: String,
    alias: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvalidOp {
    Warn,
    Error,
    Fatal,
}

#[derive(Debug, Clone, Copy)]
enum TimeUnit {
    Millis,
    Micros,
    Nanos,
}

/// Per row schema: where every configured column is.
struct RowPlan {
    _pin: SchemaRef,
    id: (usize, SchemaRef),
    key: Option<(usize, SchemaRef)>,
    payload: (usize, SchemaRef),
    timestamp: Option<(usize, TimeUnit)>,
    route: usize,
    version: Option<usize>,
    /// Additional fields present in the row (missing ones are an error or
    /// skipped, per `table.field.additional.missing`).
    additional: Vec<(Placement, String, usize, SchemaRef)>,
    row_name: Option<String>,
}

/// Envelope positions.
#[derive(Clone, Copy)]
struct EnvelopeIdx {
    op: Option<usize>,
    after: Option<usize>,
    ts_ms: Option<usize>,
}

/// Payload schema address, routed value, schema version.
type ValueSchemaKey = (usize, Box<str>, Option<i32>);

pub struct EventRouter {
    field_id: String,
    field_key: Option<String>,
    field_payload: String,
    field_timestamp: Option<String>,
    field_version: Option<String>,
    route_by: String,
    additional: Vec<AdditionalField>,
    missing_ignore: bool,
    only_headers: bool,
    invalid_op: InvalidOp,
    expand: bool,
    json: JsonSchemaData,
    tombstone_on_empty: bool,
    router: JavaRegexReplace,
    message_prefixes: Vec<String>,
    interner: Interner,
    envelopes: Cache<usize, (SchemaRef, EnvelopeIdx)>,
    rows: Cache<usize, Arc<RowPlan>>,
    value_schemas: Cache<ValueSchemaKey, (SchemaRef, SchemaRef)>,
    topics: Cache<Box<str>, Arc<str>>,
}

impl EventRouter {
    /// Parses `props` (the transform's keys) and builds the transform.
    pub fn new(props: &Props) -> Result<Self> {
        let values = config_def().parse(props).map_err(|i| issues_error(&i))?;
        Self::from_values(&values).map_err(|i| issues_error(&[i]))
    }

    pub fn from_values(v: &ConfigValues) -> std::result::Result<Self, ConfigIssue> {
        let props = v.originals();
        let s = |k: &str| v.get_string(k).unwrap_or_default().to_string();
        let additional = v
            .get_list("table.fields.additional.placement")
            .iter()
            .filter(|i| !i.trim().is_empty())
            .map(|item| {
                let parts: Vec<&str> = item.split(':').map(str::trim).collect();
                let placement = match parts[1].to_ascii_lowercase().as_str() {
                    "header" => Placement::Header,
                    "envelope" => Placement::Envelope,
                    _ => Placement::Partition,
                };
                AdditionalField {
                    placement,
                    field: parts[0].to_string(),
                    alias: parts.get(2).unwrap_or(&parts[0]).to_string(),
                }
            })
            .collect::<Vec<_>>();
        let only_headers = !additional
            .iter()
            .any(|a| a.placement == Placement::Envelope);
        let invalid_op = match s("table.op.invalid.behavior").to_ascii_lowercase().as_str() {
            "error" => InvalidOp::Error,
            "fatal" => InvalidOp::Fatal,
            _ => InvalidOp::Warn,
        };
        let router = JavaRegexReplace::new(&s("route.topic.regex"), &s("route.topic.replacement"))
            .map_err(|e| invalid("route.topic.replacement", &s("route.topic.replacement"), e))?;
        for key in [
            "tracing.span.context.field",
            "tracing.operation.name",
            "tracing.with.context.field.only",
        ] {
            if props.contains_key(key) {
                tracing::warn!(
                    "EventRouter: {key} has no effect in sluice (no OpenTelemetry tracing)"
                );
            }
        }
        let json = JsonSchemaData {
            null: if s("table.json.payload.null.behavior").eq_ignore_ascii_case("optional_bytes") {
                NullBehavior::OptionalBytes
            } else {
                NullBehavior::Ignore
            },
            empty_array: if s("table.json.payload.empty.array.behavior")
                .eq_ignore_ascii_case("optional_string")
            {
                EmptyArrayBehavior::OptionalString
            } else {
                EmptyArrayBehavior::Ignore
            },
            field_names: NameAdjustment::parse(v.get_string("field.name.adjustment.mode")),
        };
        Ok(EventRouter {
            field_id: s("table.field.event.id"),
            field_key: Some(s("table.field.event.key")).filter(|k| !k.is_empty()),
            field_payload: s("table.field.event.payload"),
            field_timestamp: v
                .get_string("table.field.event.timestamp")
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            field_version: v
                .get_string("table.field.event.schema.version")
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            route_by: s("route.by.field"),
            additional,
            missing_ignore: s("table.field.additional.missing").eq_ignore_ascii_case("ignore"),
            only_headers,
            invalid_op,
            expand: v.get_bool("table.expand.json.payload"),
            json,
            tombstone_on_empty: v.get_bool("route.tombstone.on.empty.payload"),
            router,
            message_prefixes: v
                .get_list("logical.message.prefixes")
                .iter()
                .filter(|p| !p.is_empty())
                .cloned()
                .collect(),
            interner: Interner::new(256),
            envelopes: Cache::new(256),
            rows: Cache::new(256),
            value_schemas: Cache::new(1024),
            topics: Cache::new(1024),
        })
    }

    fn envelope_idx(&self, schema: &SchemaRef) -> EnvelopeIdx {
        self.envelopes
            .get_or_try::<()>(ptr(schema), || {
                Ok((
                    schema.clone(),
                    EnvelopeIdx {
                        op: schema.field("op").map(|f| f.index),
                        after: schema.field("after").map(|f| f.index),
                        ts_ms: schema.field("ts_ms").map(|f| f.index),
                    },
                ))
            })
            .expect("infallible")
            .1
    }

    fn row_plan(&self, row: &SchemaRef) -> Result<Arc<RowPlan>> {
        if let Some(p) = self.rows.get(&ptr(row)) {
            return Ok(p);
        }
        let field = |name: &str, what: &str| {
            row.field(name)
                .map(|f| (f.index, f.schema.clone()))
                .ok_or_else(|| {
                    ConnectError::data(format!("Unable to find {what} field {name} in event"))
                })
        };
        let payload = field(&self.field_payload, "payload")?;
        let id = field(&self.field_id, "event-id")?;
        let key = match &self.field_key {
            Some(k) => Some(field(k, "event key")?),
            None => None,
        };
        let timestamp = match &self.field_timestamp {
            Some(t) => {
                let (i, schema) = field(t, "timestamp")?;
                let unit = match schema.name.as_deref() {
                    Some("org.apache.kafka.connect.data.Timestamp") => TimeUnit::Millis,
                    Some("io.debezium.time.Timestamp") => TimeUnit::Millis,
                    Some("io.debezium.time.MicroTimestamp") => TimeUnit::Micros,
                    Some("io.debezium.time.NanoTimestamp") => TimeUnit::Nanos,
                    Some(other) => {
                        return Err(ConnectError::data(format!(
                            "Unsupported field type {other} for event timestamp"
                        )))
                    }
                    None => {
                        return Err(ConnectError::data(format!(
                            "Unsupported field type {} (without logical schema name) for event timestamp",
                            schema.schema_type
                        )))
                    }
                };
                Some((i, unit))
            }
            None => None,
        };
        let (route, route_schema) = field(&self.route_by, "route-by")?;
        if route_schema.schema_type != SchemaType::String {
            return Err(ConnectError::data(format!(
                "Field {} (route.by.field) is not a string",
                self.route_by
            )));
        }
        let version = match &self.field_version {
            Some(f) => {
                let (i, s) = field(f, "schema version")?;
                if s.schema_type != SchemaType::Int32 {
                    return Err(ConnectError::data(format!(
                        "Field {f} (schema version) is not int32"
                    )));
                }
                Some(i)
            }
            None => None,
        };
        let mut additional = Vec::new();
        for a in &self.additional {
            match row.field(&a.field) {
                Some(f) => {
                    if a.placement == Placement::Partition
                        && f.schema.schema_type != SchemaType::Int32
                    {
                        return Err(ConnectError::data(format!(
                            "Field {} (partition placement) is not int32",
                            a.field
                        )));
                    }
                    additional.push((a.placement, a.alias.clone(), f.index, f.schema.clone()));
                }
                None if self.missing_ignore => {}
                None => {
                    return Err(ConnectError::data(format!(
                        "Unable to find field {} in event",
                        a.field
                    )))
                }
            }
        }
        let plan = Arc::new(RowPlan {
            _pin: row.clone(),
            id,
            key,
            payload,
            timestamp,
            route,
            version,
            additional,
            row_name: row.name.clone(),
        });
        self.rows.insert(ptr(row), plan.clone());
        Ok(plan)
    }

    fn topic(&self, routed: &str) -> Arc<str> {
        if let Some(t) = self.topics.get(routed) {
            return t;
        }
        let t: Arc<str> = match self.router.apply(routed) {
            Some(t) => Arc::from(t),
            None => Arc::from(routed),
        };
        self.topics.insert(routed.into(), t.clone());
        t
    }

    /// The struct value schema with envelope placements: `<row schema
    /// namespace>.<routed value>.<row schema simple name>` with `payload`
    /// and the envelope fields.
    fn value_schema(
        &self,
        plan: &RowPlan,
        payload_schema: &SchemaRef,
        routed: &str,
        version: Option<i32>,
    ) -> Result<SchemaRef> {
        let key = (ptr(payload_schema), Box::<str>::from(routed), version);
        if let Some((_, s)) = self.value_schemas.get(&key) {
            return Ok(s);
        }
        let name = match plan.row_name.as_deref() {
            Some(n) => match n.rfind('.') {
                Some(dot) => format!("{}{routed}.{}", &n[..=dot], &n[dot + 1..]),
                None => format!("{routed}.{n}"),
            },
            None => routed.to_string(),
        };
        let mut b = SchemaBuilder::struct_().name(name);
        if let Some(v) = version {
            b = b.version(v);
        }
        let mut s = b.build_schema();
        push_field(&mut s, "payload", payload_schema.clone())?;
        for (placement, alias, _, schema) in &plan.additional {
            if *placement == Placement::Envelope {
                push_field(&mut s, alias, schema.clone())?;
            }
        }
        let s = Arc::new(s);
        self.value_schemas
            .insert(key, (payload_schema.clone(), s.clone()));
        Ok(s)
    }

    /// `table.expand.json.payload`: a JSON string payload as a struct.
    fn expand(&self, payload: Value, schema: SchemaRef) -> (Value, SchemaRef) {
        let Value::String(text) = &payload else {
            if !payload.is_null() {
                tracing::warn!("Expand JSON payload is turned on but payload is not a string");
            }
            return (payload, schema);
        };
        let t = text.trim_start();
        if !(t.starts_with('{') || t.starts_with('[')) {
            tracing::warn!(
                "JSON expansion failed: Unable to parse payload starting with '{}'",
                text.chars().next().unwrap_or(' ')
            );
            return (payload, schema);
        }
        let result = serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| e.to_string())
            .and_then(|json| {
                let s = self
                    .json
                    .schema(Some(&self.field_payload), &json)?
                    .ok_or_else(|| "no schema could be inferred".to_string())?;
                let s = self.interner.intern(s);
                let v = self.json.value(&json, &s)?;
                Ok((v, s))
            });
        match result {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("JSON expansion failed: {e}");
                (payload, schema)
            }
        }
    }

    /// Routes one outbox row; `ts_ms` is the change event's.
    fn route_row(
        &self,
        mut record: SourceRecord,
        row: Struct,
        ts_ms: Option<i64>,
    ) -> Result<Option<SourceRecord>> {
        let plan = self.row_plan(row.schema())?;
        let mut values = row.into_values();
        let timestamp = match plan.timestamp {
            None => ts_ms,
            Some((i, unit)) => match values[i].as_i64() {
                None => ts_ms,
                Some(t) => Some(match unit {
                    TimeUnit::Millis => t,
                    TimeUnit::Micros => t.div_euclid(1_000),
                    TimeUnit::Nanos => t.div_euclid(1_000_000),
                }),
            },
        };
        let routed = match &values[plan.route] {
            Value::String(s) => s.clone(),
            _ => {
                return Err(ConnectError::data(format!(
                    "the route-by field {} is null",
                    self.route_by
                )))
            }
        };
        let version = match plan.version {
            Some(i) => match values[i] {
                Value::Int32(v) => Some(v),
                _ => None,
            },
            None => None,
        };
        record.headers.push(Header {
            key: "id".into(),
            schema: Some(plan.id.1.clone()),
            value: values[plan.id.0].clone(),
        });
        let mut partition = None;
        let mut envelope_extra = Vec::new();
        for (placement, alias, i, schema) in &plan.additional {
            match placement {
                Placement::Header => record.headers.push(Header {
                    key: alias.clone(),
                    schema: Some(schema.clone()),
                    value: values[*i].clone(),
                }),
                Placement::Envelope => envelope_extra.push(values[*i].clone()),
                Placement::Partition => {
                    partition = match values[*i] {
                        Value::Int32(p) => Some(p),
                        _ => None,
                    }
                }
            }
        }
        let (key_schema, key) = match &plan.key {
            Some((i, s)) => (Some(s.clone()), take(&mut values[*i])),
            None => (Some(SchemaBuilder::string().build()), Value::Null),
        };
        let mut payload = take(&mut values[plan.payload.0]);
        let mut payload_schema = plan.payload.1.clone();
        if self.expand {
            (payload, payload_schema) = self.expand(payload, payload_schema);
        }
        let empty = match &payload {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            _ => false,
        };
        let (value_schema, value) = if empty && self.tombstone_on_empty {
            (None, Value::Null)
        } else if self.only_headers {
            (Some(payload_schema), payload)
        } else {
            let schema = self.value_schema(&plan, &payload_schema, &routed, version)?;
            let mut v = Vec::with_capacity(1 + envelope_extra.len());
            v.push(payload);
            v.extend(envelope_extra);
            (
                Some(schema.clone()),
                Value::Struct(Struct::from_values(schema, v)),
            )
        };
        record.topic = self.topic(&routed);
        record.kafka_partition = partition;
        record.key_schema = key_schema;
        record.key = key;
        record.value_schema = value_schema;
        record.value = value;
        record.timestamp = timestamp;
        Ok(Some(record))
    }

    fn route_message(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        let Value::Struct(value) = take(&mut record.value) else {
            unreachable!("checked by is_message")
        };
        let ts_ms = value.get("ts_ms").and_then(Value::as_i64);
        let (prefix, content) = message_parts(&value)
            .ok_or_else(|| ConnectError::data("message event without a message block"))?;
        let text = content_text(content)
            .map_err(|e| ConnectError::data(format!("outbox message with prefix {prefix}: {e}")))?;
        let row = decode_content(&self.json, &self.interner, &text)
            .map_err(|e| ConnectError::data(format!("outbox message with prefix {prefix}: {e}")))?;
        self.route_row(record, row, ts_ms)
    }
}

impl Transform for EventRouter {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        if record.value.is_null() {
            // Tombstones (of deleted outbox rows) are ignored.
            return Ok(None);
        }
        if is_message(&record) {
            let routed = record
                .value
                .as_struct()
                .and_then(message_parts)
                .is_some_and(|(prefix, _)| self.message_prefixes.iter().any(|p| p == prefix));
            return if routed {
                self.route_message(record)
            } else {
                Ok(Some(record))
            };
        }
        if !is_envelope(record.value_schema.as_ref()) || record.value.as_struct().is_none() {
            return Ok(Some(record));
        }
        let idx = self.envelope_idx(record.value_schema.as_ref().expect("checked"));
        let Value::Struct(envelope) = take(&mut record.value) else {
            unreachable!("checked above")
        };
        let mut envelope = envelope.into_values();
        let Some(op_at) = idx.op else {
            return Err(ConnectError::data("op is not a valid field name"));
        };
        let op = envelope[op_at].as_str().unwrap_or_default();
        match op {
            "d" | "t" => return Ok(None),
            "u" => {
                return match self.invalid_op {
                    InvalidOp::Warn => {
                        tracing::warn!(
                            "Unexpected update message received {:?} and ignored",
                            record.key
                        );
                        Ok(None)
                    }
                    InvalidOp::Error => {
                        tracing::error!(
                            "Unexpected update message received {:?} and ignored",
                            record.key
                        );
                        Ok(None)
                    }
                    InvalidOp::Fatal => Err(ConnectError::data(format!(
                        "Unexpected update message received {:?}, fail.",
                        record.key
                    ))),
                }
            }
            _ => {}
        }
        let ts_ms = idx.ts_ms.and_then(|i| envelope[i].as_i64());
        let row = match idx.after.map(|i| take(&mut envelope[i])) {
            Some(Value::Struct(row)) => row,
            _ => {
                return Err(ConnectError::data(
                    "Only Struct objects supported for [Read Outbox Event], found: null",
                ))
            }
        };
        self.route_row(record, row, ts_ms)
    }
}

/// The plugin (`io.debezium.transforms.outbox.EventRouter`).
pub fn plugin() -> Arc<dyn TransformPlugin> {
    SmtPlugin::define(CLASS, &["EventRouter"], config_def(), |v| {
        Ok(Box::new(EventRouter::from_values(v)?) as Box<dyn Transform>)
    })
}
