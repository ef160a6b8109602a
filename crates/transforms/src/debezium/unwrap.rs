//! `io.debezium.transforms.ExtractNewRecordState`: replaces a Debezium
//! change event's envelope with its `after` row (the "new record state"),
//! with Debezium's handling of deletes, tombstones and truncates, optional
//! metadata fields and headers taken from the envelope, routing by a column
//! and dropping fields named by a header.
//!
//! Everything that depends only on the schemas (field positions, the
//! flattened schema with added fields, header schemas) is computed once per
//! envelope schema and cached by its `Arc` address; per record the
//! transform moves the row out of the envelope and appends values.

use std::sync::Arc;

use sluice_connect_api::config::{
    ConfigDef, ConfigKey, ConfigType, ConfigValues, Importance, Props, Validator,
};
use sluice_connect_api::{
    ConfigIssue, ConnectError, Header, Result, Schema, SchemaRef, SchemaType, SourceRecord, Struct,
    Transform, TransformPlugin, Value,
};

use crate::common::{invalid, issues_error, push_field, SmtPlugin};

use super::util::{
    is_envelope, optional_copy, optional_string, ptr, string_header, struct_basics, take, Cache,
};

pub const CLASS: &str = "io.debezium.transforms.ExtractNewRecordState";

/// The field added by the rewrite modes.
pub const DELETED_FIELD: &str = "__deleted";

const MODES: &[&str] = &[
    "drop",
    "tombstone",
    "rewrite",
    "rewrite-with-tombstone",
    "delete-to-tombstone",
];
const LEGACY_MODES: &[&str] = &["drop", "rewrite", "none"];

/// The configuration keys of ExtractNewRecordState (Debezium 3.x, plus the
/// removed `drop.tombstones` / `delete.handling.mode`, still accepted).
pub fn config_def() -> ConfigDef {
    use ConfigType::*;
    let k = ConfigKey::new;
    ConfigDef::new()
        .define(
            k("delete.tombstone.handling.mode", String)
                .default("tombstone")
                .validator(Validator::OneOf(MODES))
                .importance(Importance::Medium)
                .doc("How delete events and tombstones are handled: `drop` removes both; `tombstone` (default) turns a delete into a record with a null value (and the value schema) and drops the tombstone; `rewrite` emits the deleted row with `__deleted=true` (and `__deleted=false` on other events) and drops the tombstone; `rewrite-with-tombstone` does the same and keeps the tombstone; `delete-to-tombstone` turns a delete into a real tombstone (null value and schema) and drops the original tombstone."),
        )
        .define(
            k("drop.tombstones", Boolean)
                .optional()
                .importance(Importance::Low)
                .doc("Removed in Debezium 3 (use `delete.tombstone.handling.mode`); still accepted when that key is not set: `true` (the old default) drops tombstones, `false` keeps them."),
        )
        .define(
            k("delete.handling.mode", String)
                .optional()
                .validator(Validator::OneOf(LEGACY_MODES))
                .importance(Importance::Low)
                .doc("Removed in Debezium 3 (use `delete.tombstone.handling.mode`); still accepted when that key is not set: `drop` (the old default) removes deletes, `none` passes them with a null value, `rewrite` adds `__deleted`."),
        )
        .define(
            k("route.by.field", String)
                .default("")
                .importance(Importance::Low)
                .doc("A column whose value (in `after`, or `before` for deletes) replaces the topic name."),
        )
        .define(
            k("add.fields.prefix", String)
                .default("__")
                .importance(Importance::Low)
                .doc("Prefix of the fields added by `add.fields`."),
        )
        .define(
            k("add.fields", List)
                .default("")
                .importance(Importance::Low)
                .doc("Envelope fields to add to the row, e.g. `op,table,source.ts_ms,transaction.id`: `op`, `ts_ms`, `ts_us`, `ts_ns` come from the envelope, `id`, `total_order`, `data_collection_order` from `transaction`, any other unqualified name from `source`; `struct.field` names the struct. Added as `<prefix><field>` (`<prefix><struct>_<field>` when qualified), or `<prefix><new name>` with `field:new name`. `source.*` adds every source field (a sluice extension). Added fields are optional."),
        )
        .define(
            k("add.headers.prefix", String)
                .default("__")
                .importance(Importance::Low)
                .doc("Prefix of the headers added by `add.headers`."),
        )
        .define(
            k("add.headers", List)
                .default("")
                .importance(Importance::Low)
                .doc("Envelope fields to add as headers, with the syntax of `add.fields`. A tombstone gets the `op` header with value `d`."),
        )
        .define(
            k("drop.fields.header.name", String)
                .optional()
                .importance(Importance::Low)
                .doc("A header whose value (a list of field names) names fields to remove from the value."),
        )
        .define(
            k("drop.fields.from.key", Boolean)
                .default("false")
                .importance(Importance::Low)
                .doc("Also remove the fields named by `drop.fields.header.name` from the key."),
        )
        .define(
            k("drop.fields.keep.schema.compatible", Boolean)
                .default("true")
                .importance(Importance::Low)
                .doc("`true`: only optional fields are removed (the schema stays compatible); `false`: every named field is removed."),
        )
        .define(
            k("replace.null.with.default", Boolean)
                .default("true")
                .importance(Importance::Low)
                .doc("In the rewrite modes, null column values are replaced by the column's default value."),
        )
}

/// What happens to a delete event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteAction {
    /// Removed from the stream.
    Drop,
    /// A record with a null value but the row's value schema (Debezium's
    /// `tombstone` mode and the legacy `none`).
    NullValue,
    /// A Kafka tombstone: null value and null value schema.
    Tombstone,
    /// The `before` row with `__deleted=true`.
    Rewrite,
}

/// Delete and tombstone handling, after mapping the legacy keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handling {
    pub delete: DeleteAction,
    pub keep_tombstones: bool,
}

impl Handling {
    /// `delete.tombstone.handling.mode`; or, when only the removed keys are
    /// set, Debezium 2.x's legacy strategy (`drop.tombstones`, default
    /// true; `delete.handling.mode`, default drop).
    pub fn from_config(props: &Props, values: &ConfigValues) -> Handling {
        let has = |k: &str| props.get(k).is_some_and(|v| !v.trim().is_empty());
        let legacy = !has("delete.tombstone.handling.mode")
            && (has("drop.tombstones") || has("delete.handling.mode"));
        if legacy {
            tracing::warn!(
                "ExtractNewRecordState: \"drop.tombstones\" and \"delete.handling.mode\" were removed in Debezium 3; use \"delete.tombstone.handling.mode\" instead"
            );
            let drop_tombstones = match values.value("drop.tombstones") {
                Some(sluice_connect_api::ConfigValue::Boolean(b)) => *b,
                _ => true,
            };
            let delete = match values
                .get_string("delete.handling.mode")
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("none") => DeleteAction::NullValue,
                Some("rewrite") => DeleteAction::Rewrite,
                _ => DeleteAction::Drop,
            };
            return Handling {
                delete,
                keep_tombstones: !drop_tombstones,
            };
        }
        let mode = values
            .get_string("delete.tombstone.handling.mode")
            .unwrap_or("tombstone")
            .to_ascii_lowercase();
        let (delete, keep_tombstones) = match mode.as_str() {
            "drop" => (DeleteAction::Drop, false),
            "rewrite" => (DeleteAction::Rewrite, false),
            "rewrite-with-tombstone" => (DeleteAction::Rewrite, true),
            "delete-to-tombstone" => (DeleteAction::Tombstone, false),
            _ => (DeleteAction::NullValue, false),
        };
        Handling {
            delete,
            keep_tombstones,
        }
    }

    fn rewrite(self) -> bool {
        self.delete == DeleteAction::Rewrite
    }
}

/// A field of the envelope named in `add.fields` / `add.headers`
/// (Debezium's `FieldReference`).
#[derive(Debug, Clone, PartialEq)]
struct FieldReference {
    /// The struct holding the field (`source`, `transaction`), or `None` for
    /// the envelope itself (`op`, `ts_ms`, …).
    parent: Option<String>,
    field: String,
    /// The name of the added field or header, prefix included.
    new_name: String,
    /// `source.*`: every field of the struct (sluice extension).
    wildcard: bool,
}

impl FieldReference {
    fn parse(prefix: &str, spec: &str) -> std::result::Result<FieldReference, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        // Java's String.split drops trailing empty strings ("op:" is "op").
        let parts: Vec<&str> = {
            let mut p = parts;
            while p.len() > 1 && p.last() == Some(&"") {
                p.pop();
            }
            p
        };
        let splits: Vec<&str> = parts[0].split('.').collect();
        let field = if splits.len() == 1 {
            splits[0]
        } else {
            splits[1]
        };
        let parent = if splits.len() == 1 {
            determine_struct(field).map(str::to_string)
        } else {
            Some(splits[0].to_string())
        };
        let new_name = match parts.len() {
            1 => {
                if splits.len() == 1 {
                    format!("{prefix}{field}")
                } else {
                    format!("{prefix}{}_{field}", splits[0])
                }
            }
            2 => format!("{prefix}{}", parts[1]),
            _ => return Err(format!("Unexpected field name: {spec}")),
        };
        let wildcard = field == "*" && splits.len() > 1;
        if wildcard && parts.len() == 2 {
            return Err(format!("{spec}: a wildcard cannot be renamed"));
        }
        Ok(FieldReference {
            parent,
            field: field.to_string(),
            new_name,
            wildcard,
        })
    }

    fn list(prefix: &str, specs: &[String]) -> std::result::Result<Vec<FieldReference>, String> {
        specs
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| FieldReference::parse(prefix, s))
            .collect()
    }

    /// Where the field is in envelopes of `schema` (with Debezium's fallback
    /// to a top-level field of the same name, e.g. one added by another
    /// transform), and its optional schema. `None`: not in this envelope.
    fn resolve(&self, schema: &Schema, out: &mut Vec<Resolved>) {
        let parent = self
            .parent
            .as_deref()
            .and_then(|p| schema.field(p).map(|f| (f.index, &f.schema)));
        if self.wildcard {
            if let Some((pi, ps)) = parent {
                let struct_name = self.parent.as_deref().unwrap_or_default();
                let base = self
                    .new_name
                    .strip_suffix(&format!("{struct_name}_*"))
                    .unwrap_or_default();
                for f in &ps.fields {
                    out.push(Resolved {
                        name: format!("{base}{struct_name}_{}", f.name),
                        at: Location::Nested(pi, f.index),
                        schema: optional_copy(&f.schema),
                    });
                }
            }
            return;
        }
        let (at, field_schema) = match (self.parent.is_some(), parent) {
            (false, _) => match schema.field(&self.field) {
                Some(f) => (Location::Top(f.index), &f.schema),
                None => return,
            },
            (true, Some((pi, ps))) => match ps.field(&self.field) {
                Some(f) => (Location::Nested(pi, f.index), &f.schema),
                None => match schema.field(&self.field) {
                    Some(f) => (Location::Top(f.index), &f.schema),
                    None => return,
                },
            },
            (true, None) => match schema.field(&self.field) {
                Some(f) => (Location::Top(f.index), &f.schema),
                None => return,
            },
        };
        out.push(Resolved {
            name: self.new_name.clone(),
            at,
            schema: optional_copy(field_schema),
        });
    }
}

/// Debezium's `determineStruct`: the struct an unqualified name lives in.
fn determine_struct(field: &str) -> Option<&'static str> {
    match field {
        "id" | "total_order" | "data_collection_order" => Some("transaction"),
        "op" | "ts_ms" | "ts_us" | "ts_ns" => None,
        "updateDescription" => Some("updateDescription"),
        _ => Some("source"),
    }
}

#[derive(Debug, Clone, Copy)]
enum Location {
    Top(usize),
    Nested(usize, usize),
}

#[derive(Debug, Clone)]
struct Resolved {
    name: String,
    at: Location,
    schema: SchemaRef,
}

impl Resolved {
    fn value(&self, envelope: &[Value]) -> Value {
        match self.at {
            Location::Top(i) => envelope.get(i).cloned().unwrap_or(Value::Null),
            Location::Nested(p, i) => match envelope.get(p) {
                Some(Value::Struct(s)) => s.get_index(i).cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            },
        }
    }
}

/// Per envelope schema: positions and resolved references.
struct EnvelopePlan {
    _pin: SchemaRef,
    before: Option<usize>,
    after: Option<usize>,
    /// The schema of the `after` field (`before` when there is none): the
    /// value schema of unwrapped records.
    row_schema: Option<SchemaRef>,
    fields: Vec<Resolved>,
    headers: Vec<Resolved>,
    /// The output plan for rows of `row_schema`.
    row: Option<Arc<RowPlan>>,
}

/// Per row schema (inside one envelope schema): the flattened schema.
struct RowPlan {
    _pin: SchemaRef,
    /// `None`: the row passes unchanged (no rewrite, no added fields).
    schema: Option<SchemaRef>,
    /// `replace.null.with.default` in the rewrite modes: positions of
    /// fields with a default value.
    defaults: Vec<(usize, Value)>,
    /// Position of `route.by.field` in the row, and whether it is a string.
    route: Option<(usize, bool)>,
}

/// The configured transform.
pub struct ExtractNewRecordState {
    handling: Handling,
    route_by_field: Option<String>,
    field_refs: Vec<FieldReference>,
    header_refs: Vec<FieldReference>,
    /// Header names that tombstones get (`op` references) with value `d`.
    tombstone_op_headers: Vec<String>,
    drop_fields_header: Option<String>,
    drop_fields_from_key: bool,
    drop_keep_compatible: bool,
    replace_null_with_default: bool,
    envelopes: Cache<usize, Arc<EnvelopePlan>>,
    rows: Cache<(usize, usize), Arc<RowPlan>>,
    dropped: Cache<(usize, Vec<String>), Option<DropPlan>>,
    topics: Cache<Box<str>, Arc<str>>,
}

#[derive(Clone)]
struct DropPlan {
    _pin: SchemaRef,
    schema: SchemaRef,
    keep: Arc<[usize]>,
}

impl ExtractNewRecordState {
    /// Parses `props` (the transform's keys) and builds the transform.
    pub fn new(props: &Props) -> Result<Self> {
        let values = config_def().parse(props).map_err(|i| issues_error(&i))?;
        Self::from_values(&values).map_err(|i| issues_error(&[i]))
    }

    pub fn from_values(values: &ConfigValues) -> std::result::Result<Self, ConfigIssue> {
        let handling = Handling::from_config(values.originals(), values);
        let fields_prefix = values.get_string("add.fields.prefix").unwrap_or("__");
        let headers_prefix = values.get_string("add.headers.prefix").unwrap_or("__");
        let refs = |key: &str, prefix: &str| {
            FieldReference::list(prefix, values.get_list(key))
                .map_err(|e| invalid(key, &values.get_list(key).join(","), e))
        };
        let field_refs = refs("add.fields", fields_prefix)?;
        let header_refs = refs("add.headers", headers_prefix)?;
        let tombstone_op_headers = header_refs
            .iter()
            .filter(|r| r.field == "op")
            .map(|r| r.new_name.clone())
            .collect();
        let route_by_field = values
            .get_string("route.by.field")
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let drop_fields_header = values
            .get_string("drop.fields.header.name")
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string);
        Ok(ExtractNewRecordState {
            handling,
            route_by_field,
            field_refs,
            header_refs,
            tombstone_op_headers,
            drop_fields_header,
            drop_fields_from_key: values.get_bool("drop.fields.from.key"),
            drop_keep_compatible: values.get_bool("drop.fields.keep.schema.compatible"),
            replace_null_with_default: values.get_bool("replace.null.with.default"),
            envelopes: Cache::new(256),
            rows: Cache::new(256),
            dropped: Cache::new(256),
            topics: Cache::new(1024),
        })
    }

    /// The delete/tombstone handling in effect.
    pub fn handling(&self) -> Handling {
        self.handling
    }

    fn envelope_plan(&self, schema: &SchemaRef) -> Result<Arc<EnvelopePlan>> {
        self.envelopes.get_or_try(ptr(schema), || {
            let before = schema.field("before").map(|f| f.index);
            let after = schema.field("after").map(|f| f.index);
            let row_schema = schema
                .field("after")
                .or_else(|| schema.field("before"))
                .map(|f| f.schema.clone());
            let mut fields = Vec::new();
            for r in &self.field_refs {
                r.resolve(schema, &mut fields);
            }
            let mut headers = Vec::new();
            for r in &self.header_refs {
                r.resolve(schema, &mut headers);
            }
            let mut plan = EnvelopePlan {
                _pin: schema.clone(),
                before,
                after,
                row_schema,
                fields,
                headers,
                row: None,
            };
            if let Some(rs) = plan.row_schema.clone() {
                if rs.schema_type == SchemaType::Struct {
                    plan.row = Some(Arc::new(self.row_plan(&plan, &rs)?));
                }
            }
            Ok(Arc::new(plan))
        })
    }

    fn row_plan(&self, env: &EnvelopePlan, row: &SchemaRef) -> Result<RowPlan> {
        let rewrite = self.handling.rewrite();
        let route = match &self.route_by_field {
            Some(f) => row
                .field(f)
                .map(|fd| (fd.index, fd.schema.schema_type == SchemaType::String)),
            None => None,
        };
        let defaults = if rewrite && self.replace_null_with_default {
            row.fields
                .iter()
                .filter_map(|f| f.schema.default.clone().map(|d| (f.index, d)))
                .collect()
        } else {
            Vec::new()
        };
        let schema = if rewrite || !env.fields.is_empty() {
            let mut s = struct_basics(row);
            s.fields = row.fields.clone();
            if rewrite {
                push_field(&mut s, DELETED_FIELD, optional_string())?;
            }
            for f in &env.fields {
                push_field(&mut s, &f.name, f.schema.clone())?;
            }
            Some(Arc::new(s))
        } else {
            None
        };
        Ok(RowPlan {
            _pin: row.clone(),
            schema,
            defaults,
            route,
        })
    }

    /// The row plan for a row struct: the envelope's own, or one cached by
    /// the row's schema when a row carries a different schema object.
    fn row_plan_for(&self, env: &Arc<EnvelopePlan>, row: &Struct) -> Result<Arc<RowPlan>> {
        if let Some(p) = &env.row {
            if Arc::ptr_eq(&p._pin, row.schema()) {
                return Ok(p.clone());
            }
        }
        self.rows
            .get_or_try((ptr(&env._pin), ptr(row.schema())), || {
                self.row_plan(env, row.schema()).map(Arc::new)
            })
    }

    /// Builds the output row: the row's values, `__deleted`, added fields.
    fn output_row(
        &self,
        plan: &RowPlan,
        env: &EnvelopePlan,
        row: Struct,
        envelope: &[Value],
        deleted: bool,
    ) -> Struct {
        let Some(schema) = &plan.schema else {
            return row;
        };
        let mut values = row.into_values();
        for (i, d) in &plan.defaults {
            if values[*i].is_null() {
                values[*i] = d.clone();
            }
        }
        values.reserve(schema.fields.len() - values.len());
        if self.handling.rewrite() {
            values.push(Value::String(if deleted { "true" } else { "false" }.into()));
        }
        for f in &env.fields {
            values.push(f.value(envelope));
        }
        Struct::from_values(schema.clone(), values)
    }

    fn topic_for(&self, name: &str) -> Arc<str> {
        if let Some(t) = self.topics.get(name) {
            return t;
        }
        let t: Arc<str> = Arc::from(name);
        self.topics.insert(name.into(), t.clone());
        t
    }

    /// `route.by.field`: the new topic from the row, if any.
    fn route(&self, plan: &RowPlan, row: &Struct) -> Result<Option<Arc<str>>> {
        let Some(field) = &self.route_by_field else {
            return Ok(None);
        };
        let Some((i, is_string)) = plan.route else {
            return Err(ConnectError::data(format!(
                "route.by.field: {field} is not a valid field name"
            )));
        };
        if !is_string {
            return Err(ConnectError::data(format!(
                "route.by.field: field {field} is not a string"
            )));
        }
        match row.get_index(i) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(self.topic_for(s))),
            _ => Ok(None),
        }
    }

    fn drop_fields(&self, mut record: SourceRecord) -> Result<SourceRecord> {
        let Some(header) = &self.drop_fields_header else {
            return Ok(record);
        };
        let names: Vec<String> = match record.headers.iter().find(|h| &h.key == header) {
            None => return Ok(record),
            Some(h) => match &h.value {
                Value::Array(items) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                Value::String(s) => s
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
                _ => return Ok(record),
            },
        };
        if names.is_empty() {
            return Ok(record);
        }
        if self.drop_fields_from_key {
            if let (Some(schema), Value::Struct(_)) = (&record.key_schema, &record.key) {
                if let Some(plan) = self.drop_plan(schema, &names)? {
                    let Value::Struct(key) = take(&mut record.key) else {
                        unreachable!("checked above")
                    };
                    record.key = Value::Struct(apply_drop(&plan, key));
                    record.key_schema = Some(plan.schema.clone());
                }
            }
        }
        if let (Some(schema), Value::Struct(_)) = (&record.value_schema, &record.value) {
            if let Some(plan) = self.drop_plan(schema, &names)? {
                let Value::Struct(value) = take(&mut record.value) else {
                    unreachable!("checked above")
                };
                record.value = Value::Struct(apply_drop(&plan, value));
                record.value_schema = Some(plan.schema.clone());
            }
        }
        Ok(record)
    }

    /// Kafka's `ReplaceField` with `exclude`: the schema without the named
    /// fields (only optional ones when `drop.fields.keep.schema.compatible`);
    /// `None` when nothing is removed.
    fn drop_plan(&self, schema: &SchemaRef, names: &[String]) -> Result<Option<DropPlan>> {
        if schema.schema_type != SchemaType::Struct {
            return Ok(None);
        }
        self.dropped.get_or_try((ptr(schema), names.to_vec()), || {
            let drop = |f: &sluice_connect_api::Field| {
                names.contains(&f.name) && (!self.drop_keep_compatible || f.schema.optional)
            };
            if !schema.fields.iter().any(drop) {
                return Ok::<_, ConnectError>(None);
            }
            let mut s = struct_basics(schema);
            let mut keep = Vec::new();
            for f in &schema.fields {
                if !drop(f) {
                    keep.push(f.index);
                    push_field(&mut s, &f.name, f.schema.clone())?;
                }
            }
            Ok(Some(DropPlan {
                _pin: schema.clone(),
                schema: Arc::new(s),
                keep: keep.into(),
            }))
        })
    }
}

fn apply_drop(plan: &DropPlan, s: Struct) -> Struct {
    let mut values = s.into_values();
    let kept = plan.keep.iter().map(|i| take(&mut values[*i])).collect();
    Struct::from_values(plan.schema.clone(), kept)
}

impl Transform for ExtractNewRecordState {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        if record.value.is_null() {
            // A tombstone: the `op` headers say `d`.
            for name in &self.tombstone_op_headers {
                record.headers.push(string_header(name.clone(), "d"));
            }
            return Ok(self.handling.keep_tombstones.then_some(record));
        }
        if !is_envelope(record.value_schema.as_ref()) || record.value.as_struct().is_none() {
            // Heartbeats, schema changes, messages: unchanged.
            return Ok(Some(record));
        }
        let envelope_schema = record.value_schema.clone().expect("checked above");
        let plan = self.envelope_plan(&envelope_schema)?;
        let Value::Struct(envelope) = take(&mut record.value) else {
            unreachable!("checked above")
        };
        let mut envelope = envelope.into_values();
        for h in &plan.headers {
            record.headers.push(Header {
                key: h.name.clone(),
                schema: Some(h.schema.clone()),
                value: h.value(&envelope),
            });
        }
        let take_at = |envelope: &mut Vec<Value>, at: Option<usize>| match at {
            Some(i) => take(&mut envelope[i]),
            None => Value::Null,
        };
        let after = take_at(&mut envelope, plan.after);
        if let Value::Struct(after) = after {
            // Create, update, read.
            let row_plan = self.row_plan_for(&plan, &after)?;
            let topic = self.route(&row_plan, &after)?;
            let value = self.output_row(&row_plan, &plan, after, &envelope, false);
            record.value_schema = match &row_plan.schema {
                Some(s) => Some(s.clone()),
                None => plan.row_schema.clone(),
            };
            record.value = Value::Struct(value);
            if let Some(t) = topic {
                record.topic = t;
            }
            return self.drop_fields(record).map(Some);
        }
        let before = take_at(&mut envelope, plan.before);
        let Value::Struct(before) = before else {
            // Neither before nor after: a truncate (or a message turned into
            // an envelope without a row); dropped as Debezium does.
            return Ok(None);
        };
        // A delete.
        let row_plan = self.row_plan_for(&plan, &before)?;
        let topic = if self.route_by_field.is_some() {
            self.route(&row_plan, &before)?
        } else {
            None
        };
        match self.handling.delete {
            DeleteAction::Drop => return Ok(None),
            DeleteAction::NullValue => {
                record.value_schema = plan.row_schema.clone();
                record.value = Value::Null;
            }
            DeleteAction::Tombstone => {
                record.value_schema = None;
                record.value = Value::Null;
            }
            DeleteAction::Rewrite => {
                let value = self.output_row(&row_plan, &plan, before, &envelope, true);
                record.value_schema = row_plan.schema.clone().or(plan.row_schema.clone());
                record.value = Value::Struct(value);
            }
        }
        if let Some(t) = topic {
            record.topic = t;
        }
        self.drop_fields(record).map(Some)
    }
}

/// The plugin (`io.debezium.transforms.ExtractNewRecordState`).
pub fn plugin() -> Arc<dyn TransformPlugin> {
    SmtPlugin::define(CLASS, &["ExtractNewRecordState"], config_def(), |v| {
        Ok(Box::new(ExtractNewRecordState::from_values(v)?) as Box<dyn Transform>)
    })
}
