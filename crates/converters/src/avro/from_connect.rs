//! Connect schema → Avro schema, as Confluent's `AvroData.fromConnectSchema`
//! does it with `enhanced.avro.schema.support=false` and
//! `generalized.sum.type.support=false`.
//!
//! The rules, in the order Confluent applies them (the order decides the
//! order of the JSON properties, which users see in the registry):
//!
//! * int8/int16 are Avro `int` with `connect.type`; int32 `int`, int64
//!   `long`, float32 `float`, float64 `double`, boolean, string, bytes.
//! * Decimal is `bytes` with `scale` and `precision` (the
//!   `connect.decimal.precision` parameter, 64 when absent) added first.
//! * A struct is a record named by splitting its Connect name at the last
//!   dot (namespace, name); an unnamed one is
//!   `io.confluent.connect.avro.ConnectDefault`, then `ConnectDefault2`, …
//!   numbered in the order they are met (before their fields). Equal
//!   non-optional schemas met again reuse the first conversion, so a
//!   record is defined once and referenced by name afterwards.
//! * A map with non-optional string keys is an Avro map; any other map an
//!   array of `io.confluent.connect.avro.MapEntry` records (`key`, `value`),
//!   or of a record named after the map with `connect.internal.type`.
//! * Then, on every non-union schema: `connect.doc`, `connect.version`,
//!   `connect.parameters`, `connect.default`, `connect.name`,
//!   `connect.type` (when `connect.meta.data`), then `logicalType`
//!   (decimal, `date`, `time-millis`, `timestamp-millis`), then every
//!   parameter whose name starts with `avro` as a property.
//! * An optional schema becomes the union `["null", T]`, or `[T, "null"]`
//!   when it has a default (Avro wants the default's type first); an
//!   optional struct is always `["null", record]`.
//! * A record field gets the converted Connect default as its `default`
//!   (through Java objects, so a float default is written as the double of
//!   the same value), `null` for an optional field without default; a
//!   default Avro would reject (not valid for any branch) is dropped.

use std::collections::HashSet;
use std::sync::Arc;

use sluice_connect_api::data::logical;
use sluice_connect_api::{Schema, SchemaType, Value};

use super::json::{latin1_string, Json};
use super::schema::{validate_name, AvroSchema, Field, Fixed, Name, Primitive, Record};

pub const NAMESPACE: &str = "io.confluent.connect.avro";
pub const DEFAULT_SCHEMA_NAME: &str = "ConnectDefault";
pub const DEFAULT_SCHEMA_FULL_NAME: &str = "io.confluent.connect.avro.ConnectDefault";
pub const MAP_ENTRY_TYPE_NAME: &str = "MapEntry";
pub const KEY_FIELD: &str = "key";
pub const VALUE_FIELD: &str = "value";

pub const CONNECT_NAME_PROP: &str = "connect.name";
pub const CONNECT_DOC_PROP: &str = "connect.doc";
pub const CONNECT_VERSION_PROP: &str = "connect.version";
pub const CONNECT_DEFAULT_VALUE_PROP: &str = "connect.default";
pub const CONNECT_PARAMETERS_PROP: &str = "connect.parameters";
pub const CONNECT_INTERNAL_TYPE_NAME: &str = "connect.internal.type";
pub const CONNECT_TYPE_PROP: &str = "connect.type";
pub const AVRO_RECORD_DOC_PROP: &str = "io.confluent.connect.avro.record.doc";
pub const AVRO_FIELD_DOC_PREFIX_PROP: &str = "io.confluent.connect.avro.field.doc.";
pub const AVRO_FIELD_DEFAULT_FLAG_PROP: &str = "io.confluent.connect.avro.field.default";
pub const AVRO_ENUM_DOC_PREFIX_PROP: &str = "io.confluent.connect.avro.enum.doc.";
pub const AVRO_ENUM_DEFAULT_PREFIX_PROP: &str = "io.confluent.connect.avro.enum.default.";
pub const AVRO_TYPE_UNION: &str = "io.confluent.connect.avro.Union";
pub const AVRO_TYPE_ENUM: &str = "io.confluent.connect.avro.Enum";
pub const AVRO_LOGICAL_TYPE_PROP: &str = "logicalType";
pub const AVRO_LOGICAL_DECIMAL: &str = "decimal";
pub const AVRO_LOGICAL_DATE: &str = "date";
pub const AVRO_LOGICAL_TIME_MILLIS: &str = "time-millis";
pub const AVRO_LOGICAL_TIMESTAMP_MILLIS: &str = "timestamp-millis";
pub const AVRO_DECIMAL_SCALE_PROP: &str = "scale";
pub const AVRO_DECIMAL_PRECISION_PROP: &str = "precision";
pub const CONNECT_AVRO_FIXED_SIZE_PROP: &str = "connect.fixed.size";
pub const CONNECT_AVRO_DECIMAL_PRECISION_PROP: &str = "connect.decimal.precision";
pub const CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT: i64 = 64;

/// `AvroData`'s settings that change the Connect → Avro translation.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `connect.meta.data`
    pub connect_meta_data: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_meta_data: true,
        }
    }
}

/// The Avro schema Confluent's `AvroData.fromConnectSchema` produces.
pub fn from_connect_schema(schema: &Schema, options: Options) -> Result<AvroSchema, String> {
    let mut ctx = Ctx {
        options,
        schema_map: Vec::new(),
        seen_named_types: HashSet::new(),
        name_index: 0,
    };
    ctx.convert(schema, false)
}

/// Connect's `Schema.defaultValue()`: a null default is no default.
pub(crate) fn default_of(schema: &Schema) -> Option<&Value> {
    schema.default.as_ref().filter(|v| !v.is_null())
}

pub(crate) fn is_union_schema(schema: &Schema) -> bool {
    schema.schema_type == SchemaType::Struct && schema.is_named(AVRO_TYPE_UNION)
}

pub(crate) fn is_decimal(schema: &Schema) -> bool {
    schema
        .name
        .as_deref()
        .is_some_and(|n| n.eq_ignore_ascii_case(logical::DECIMAL))
}

fn name_is(schema: &Schema, logical_name: &str) -> bool {
    schema
        .name
        .as_deref()
        .is_some_and(|n| n.eq_ignore_ascii_case(logical_name))
}

pub(crate) fn is_fixed_schema(schema: &Schema) -> bool {
    schema.schema_type == SchemaType::Bytes
        && schema.name.is_some()
        && schema.parameter(CONNECT_AVRO_FIXED_SIZE_PROP).is_some()
}

/// The decimal scale of a Decimal schema (`scale` parameter, 0 when absent).
pub(crate) fn decimal_scale(schema: &Schema) -> Result<i32, String> {
    match schema.parameter(logical::DECIMAL_SCALE) {
        None => Ok(0),
        Some(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("invalid Decimal scale parameter \"{s}\"")),
    }
}

/// Java's `fullName.split("\\.")` into (namespace, name).
pub(crate) fn split_name(full: &str) -> Result<(Option<String>, String), String> {
    if full.is_empty() {
        return Ok((None, String::new()));
    }
    let mut parts: Vec<&str> = full.split('.').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    match parts.len() {
        0 => Err(format!("invalid schema name \"{full}\"")),
        1 => Ok((None, parts[0].to_string())),
        n => Ok((Some(parts[..n - 1].join(".")), parts[n - 1].to_string())),
    }
}

/// Jackson's `ObjectNode` of the parameters (without the internal
/// field-default flag).
fn parameters_json(schema: &Schema) -> Json {
    Json::Object(
        schema
            .parameters
            .iter()
            .filter(|(k, _)| k != AVRO_FIELD_DEFAULT_FLAG_PROP)
            .map(|(k, v)| (k.clone(), Json::Str(v.clone())))
            .collect(),
    )
}

fn non_optional(schema: &Schema) -> Schema {
    let mut s = schema.clone();
    s.optional = false;
    s
}

struct Ctx {
    options: Options,
    /// Converted non-optional schemas (`FromConnectContext.schemaMap`),
    /// compared by equality as Java's `HashMap<Schema, …>` does.
    schema_map: Vec<(Schema, AvroSchema)>,
    /// Names of field schemas met so far (`seenNamedTypes`).
    seen_named_types: HashSet<String>,
    name_index: u32,
}

impl Ctx {
    fn name_or_default(&mut self, name: Option<&str>) -> Result<Name, String> {
        match name {
            Some(full) => {
                let (namespace, name) = split_name(full)?;
                validate_name(&name)?;
                Ok(Name::new(name, namespace))
            }
            None => {
                self.name_index += 1;
                let name = if self.name_index > 1 {
                    format!("{DEFAULT_SCHEMA_NAME}{}", self.name_index)
                } else {
                    DEFAULT_SCHEMA_NAME.to_string()
                };
                Ok(Name::new(name, Some(NAMESPACE.to_string())))
            }
        }
    }

    fn convert(&mut self, schema: &Schema, ignore_optional: bool) -> Result<AvroSchema, String> {
        let union = is_union_schema(schema);
        if !union && !schema.optional {
            if let Some((_, cached)) = self.schema_map.iter().find(|(s, _)| s == schema) {
                return Ok(cached.clone());
            }
        }
        let mut connect_type = None;
        let mut base = match schema.schema_type {
            SchemaType::Int8 => {
                connect_type = Some("int8");
                AvroSchema::primitive(Primitive::Int)
            }
            SchemaType::Int16 => {
                connect_type = Some("int16");
                AvroSchema::primitive(Primitive::Int)
            }
            SchemaType::Int32 => AvroSchema::primitive(Primitive::Int),
            SchemaType::Int64 => AvroSchema::primitive(Primitive::Long),
            SchemaType::Float32 => AvroSchema::primitive(Primitive::Float),
            SchemaType::Float64 => AvroSchema::primitive(Primitive::Double),
            SchemaType::Boolean => AvroSchema::primitive(Primitive::Boolean),
            SchemaType::String => AvroSchema::primitive(Primitive::String),
            SchemaType::Bytes => {
                let mut base = if is_fixed_schema(schema) {
                    let size_text = schema.parameter(CONNECT_AVRO_FIXED_SIZE_PROP).unwrap_or("");
                    let size: usize = size_text.trim().parse().map_err(|_| {
                        format!("invalid {CONNECT_AVRO_FIXED_SIZE_PROP} \"{size_text}\"")
                    })?;
                    let name = self.name_or_default(schema.name.as_deref())?;
                    AvroSchema::Fixed(Arc::new(Fixed {
                        name,
                        doc: None,
                        size,
                        aliases: Vec::new(),
                        props: Vec::new(),
                    }))
                } else {
                    AvroSchema::primitive(Primitive::Bytes)
                };
                if is_decimal(schema) {
                    let scale_text = schema.parameter(logical::DECIMAL_SCALE).ok_or_else(|| {
                        "Decimal schema without the \"scale\" parameter".to_string()
                    })?;
                    let scale: i64 = scale_text
                        .trim()
                        .parse()
                        .map_err(|_| format!("invalid Decimal scale \"{scale_text}\""))?;
                    base.add_prop(AVRO_DECIMAL_SCALE_PROP, Json::Int(scale))?;
                    let precision = decimal_precision(schema)?;
                    base.add_prop(AVRO_DECIMAL_PRECISION_PROP, Json::Int(precision))?;
                }
                base
            }
            SchemaType::Array => {
                let items = schema
                    .value_schema
                    .as_ref()
                    .ok_or("array schema without an item schema")?;
                AvroSchema::Array(Box::new(self.convert(items, false)?), Vec::new())
            }
            SchemaType::Map => {
                let keys = schema
                    .key_schema
                    .as_ref()
                    .ok_or("map schema without a key schema")?;
                let values = schema
                    .value_schema
                    .as_ref()
                    .ok_or("map schema without a value schema")?;
                if keys.schema_type == SchemaType::String && !keys.optional {
                    AvroSchema::Map(Box::new(self.convert(values, false)?), Vec::new())
                } else {
                    let (name, props) = match schema.name.as_deref() {
                        None => (
                            Name::new(MAP_ENTRY_TYPE_NAME, Some(NAMESPACE.to_string())),
                            Vec::new(),
                        ),
                        Some(n) => (
                            self.name_or_default(Some(n))?,
                            vec![(
                                CONNECT_INTERNAL_TYPE_NAME.to_string(),
                                Json::Str(MAP_ENTRY_TYPE_NAME.to_string()),
                            )],
                        ),
                    };
                    let mut fields = Vec::with_capacity(2);
                    self.add_record_field(&mut fields, KEY_FIELD, keys, None)?;
                    self.add_record_field(&mut fields, VALUE_FIELD, values, None)?;
                    let entry = AvroSchema::Record(Arc::new(Record {
                        name,
                        doc: None,
                        fields,
                        aliases: Vec::new(),
                        props,
                    }));
                    AvroSchema::Array(Box::new(entry), Vec::new())
                }
            }
            SchemaType::Struct => {
                if union {
                    let mut members = Vec::with_capacity(schema.fields.len() + 1);
                    if schema.optional {
                        members.push(AvroSchema::null());
                    }
                    for f in &schema.fields {
                        members.push(self.convert(&non_optional(&f.schema), true)?);
                    }
                    AvroSchema::Union(members)
                } else if schema.optional {
                    AvroSchema::Union(vec![
                        AvroSchema::null(),
                        self.convert(&non_optional(schema), false)?,
                    ])
                } else {
                    let name = self.name_or_default(schema.name.as_deref())?;
                    let doc = schema.parameter(AVRO_RECORD_DOC_PROP).map(str::to_string);
                    let mut fields = Vec::with_capacity(schema.fields.len());
                    for f in &schema.fields {
                        let field_doc = schema
                            .parameters
                            .iter()
                            .find(|(k, _)| {
                                k.strip_prefix(AVRO_FIELD_DOC_PREFIX_PROP) == Some(f.name.as_str())
                            })
                            .map(|(_, v)| v.clone());
                        self.add_record_field(&mut fields, &f.name, &f.schema, field_doc)?;
                    }
                    AvroSchema::Record(Arc::new(Record {
                        name,
                        doc,
                        fields,
                        aliases: Vec::new(),
                        props: Vec::new(),
                    }))
                }
            }
        };

        if !base.is_union() {
            if self.options.connect_meta_data {
                if let Some(doc) = &schema.doc {
                    base.add_prop(CONNECT_DOC_PROP, Json::Str(doc.clone()))?;
                }
                if let Some(version) = schema.version {
                    base.add_prop(CONNECT_VERSION_PROP, Json::Int(i64::from(version)))?;
                }
                let params = parameters_json(schema);
                if matches!(&params, Json::Object(m) if !m.is_empty()) {
                    base.add_prop(CONNECT_PARAMETERS_PROP, params)?;
                }
                if let Some(default) = default_of(schema) {
                    if schema.parameter(AVRO_FIELD_DEFAULT_FLAG_PROP).is_none() {
                        let json = default_from_connect(schema, default)?;
                        base.add_prop(CONNECT_DEFAULT_VALUE_PROP, json)?;
                    }
                }
                if let Some(name) = &schema.name {
                    base.add_prop(CONNECT_NAME_PROP, Json::Str(name.clone()))?;
                }
                if let Some(t) = connect_type {
                    base.add_prop(CONNECT_TYPE_PROP, Json::Str(t.to_string()))?;
                }
            }

            let mut force_legacy_decimal = false;
            if schema.name.is_some() {
                if is_decimal(schema) {
                    let precision = decimal_precision(schema)?;
                    let scale = i64::from(decimal_scale(schema)?);
                    if scale < 0 || scale > precision {
                        force_legacy_decimal = true;
                    } else {
                        add_decimal_logical_type(&mut base, precision, scale)?;
                    }
                } else if name_is(schema, logical::TIME) {
                    base.add_prop(
                        AVRO_LOGICAL_TYPE_PROP,
                        Json::Str(AVRO_LOGICAL_TIME_MILLIS.into()),
                    )?;
                } else if name_is(schema, logical::TIMESTAMP) {
                    base.add_prop(
                        AVRO_LOGICAL_TYPE_PROP,
                        Json::Str(AVRO_LOGICAL_TIMESTAMP_MILLIS.into()),
                    )?;
                } else if name_is(schema, logical::DATE) {
                    base.add_prop(AVRO_LOGICAL_TYPE_PROP, Json::Str(AVRO_LOGICAL_DATE.into()))?;
                }
                // The older property-only way, kept by Confluent for
                // compatibility (a no-op when the property is there).
                if is_decimal(schema)
                    && (schema
                        .parameter(CONNECT_AVRO_DECIMAL_PRECISION_PROP)
                        .is_some()
                        || force_legacy_decimal)
                {
                    base.add_prop(
                        AVRO_LOGICAL_TYPE_PROP,
                        Json::Str(AVRO_LOGICAL_DECIMAL.into()),
                    )?;
                }
            }

            for (k, v) in &schema.parameters {
                if k.starts_with("avro") {
                    base.add_prop(k, Json::Str(v.clone()))?;
                }
            }

            if !ignore_optional {
                base = maybe_make_optional(schema, base);
            }
        }

        if !schema.optional {
            self.schema_map.push((schema.clone(), base.clone()));
        }
        Ok(base)
    }

    fn add_record_field(
        &mut self,
        fields: &mut Vec<Field>,
        name: &str,
        schema: &Schema,
        doc: Option<String>,
    ) -> Result<(), String> {
        validate_name(name)?;
        let default = match default_of(schema) {
            Some(d) => Some(default_from_connect(schema, d)?.through_java_object()),
            None if schema.optional => Some(Json::Null),
            None => None,
        };
        let already_seen = match &schema.name {
            Some(n) => !self.seen_named_types.insert(n.clone()),
            None => false,
        };
        let avro = self.convert(schema, false)?;
        let mut field = Field::new(name, avro);
        field.doc = doc;
        // Avro rejects a default that fits no branch; Confluent then keeps
        // the field without a default.
        field.default = default.filter(|d| is_valid_default(&field.schema, d));
        if self.options.connect_meta_data
            && already_seen
            && !schema.parameters.is_empty()
            && is_named_avro_type(&field.schema)
        {
            let params = parameters_json(schema);
            if matches!(&params, Json::Object(m) if !m.is_empty()) {
                field
                    .props
                    .push((CONNECT_PARAMETERS_PROP.to_string(), params));
            }
        }
        fields.push(field);
        Ok(())
    }
}

fn decimal_precision(schema: &Schema) -> Result<i64, String> {
    match schema.parameter(CONNECT_AVRO_DECIMAL_PRECISION_PROP) {
        None => Ok(CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT),
        Some(p) => p
            .trim()
            .parse()
            .map_err(|_| format!("invalid {CONNECT_AVRO_DECIMAL_PRECISION_PROP} \"{p}\"")),
    }
}

/// Avro's `LogicalTypes.decimal(p, s).addToSchema(schema)`.
fn add_decimal_logical_type(
    base: &mut AvroSchema,
    precision: i64,
    scale: i64,
) -> Result<(), String> {
    if precision <= 0 {
        return Err(format!(
            "Invalid decimal precision: {precision} (must be positive)"
        ));
    }
    if let AvroSchema::Fixed(f) = base {
        let max = max_precision_for_fixed(f.size);
        if precision > max {
            return Err(format!(
                "fixed({}) cannot store {precision} digits (max {max})",
                f.size
            ));
        }
    }
    base.add_prop(
        AVRO_LOGICAL_TYPE_PROP,
        Json::Str(AVRO_LOGICAL_DECIMAL.into()),
    )?;
    base.add_prop(AVRO_DECIMAL_PRECISION_PROP, Json::Int(precision))?;
    base.add_prop(AVRO_DECIMAL_SCALE_PROP, Json::Int(scale))?;
    Ok(())
}

/// `floor(log10(2^(8n-1) - 1))`, Avro's limit for a decimal in fixed(n).
fn max_precision_for_fixed(size: usize) -> i64 {
    if size == 0 {
        return 0;
    }
    let bits = (8 * size - 1) as f64;
    (bits * std::f64::consts::LOG10_2).floor() as i64
}

fn maybe_make_optional(schema: &Schema, base: AvroSchema) -> AvroSchema {
    if !schema.optional {
        base
    } else if default_of(schema).is_some() {
        AvroSchema::Union(vec![base, AvroSchema::null()])
    } else {
        AvroSchema::Union(vec![AvroSchema::null(), base])
    }
}

fn is_named_avro_type(schema: &AvroSchema) -> bool {
    match schema {
        AvroSchema::Union(members) => members.iter().any(AvroSchema::is_named),
        other => other.is_named(),
    }
}

/// Avro's `Schema.isValidDefault` (a union accepts a value valid for any
/// branch).
pub(crate) fn is_valid_default(schema: &AvroSchema, value: &Json) -> bool {
    match schema {
        AvroSchema::Primitive(p, _) => match p {
            Primitive::String | Primitive::Bytes => matches!(value, Json::Str(_)),
            Primitive::Int => matches!(value, Json::Int(i) if i32::try_from(*i).is_ok()),
            Primitive::Long => matches!(value, Json::Int(_)),
            Primitive::Float | Primitive::Double => value.is_number(),
            Primitive::Boolean => matches!(value, Json::Bool(_)),
            Primitive::Null => value.is_null(),
        },
        AvroSchema::Enum(_) | AvroSchema::Fixed(_) => matches!(value, Json::Str(_)),
        AvroSchema::Array(items, _) => match value {
            Json::Array(elems) => elems.iter().all(|e| is_valid_default(items, e)),
            _ => false,
        },
        AvroSchema::Map(values, _) => match value {
            Json::Object(members) => members.iter().all(|(_, v)| is_valid_default(values, v)),
            _ => false,
        },
        AvroSchema::Union(members) => members.iter().any(|m| is_valid_default(m, value)),
        AvroSchema::Record(r) => match value {
            Json::Object(_) => r.fields.iter().all(|f| match value.get(&f.name) {
                Some(v) => is_valid_default(&f.schema, v),
                None => f
                    .default
                    .as_ref()
                    .is_some_and(|d| is_valid_default(&f.schema, d)),
            }),
            _ => false,
        },
    }
}

fn wrong_default(schema: &Schema, value: &Value) -> String {
    format!(
        "Invalid type used for default value of {} field: {}",
        schema.schema_type.name().to_uppercase(),
        value.type_name()
    )
}

/// `AvroData.defaultValueFromConnect`: a Connect default as Jackson JSON.
pub(crate) fn default_from_connect(schema: &Schema, value: &Value) -> Result<Json, String> {
    if value.is_null() {
        return Ok(Json::Null);
    }
    let bad = || wrong_default(schema, value);
    Ok(match schema.schema_type {
        SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32 | SchemaType::Int64 => {
            Json::Int(value.as_i64().ok_or_else(bad)?)
        }
        SchemaType::Float32 => match value {
            Value::Float32(f) => Json::Float(*f),
            Value::Float64(d) => Json::Float(*d as f32),
            _ => return Err(bad()),
        },
        SchemaType::Float64 => match value {
            Value::Float64(d) => Json::Double(*d),
            Value::Float32(f) => Json::Double(f64::from(*f)),
            _ => return Err(bad()),
        },
        SchemaType::Boolean => match value {
            Value::Boolean(b) => Json::Bool(*b),
            _ => return Err(bad()),
        },
        SchemaType::String => match value {
            Value::String(s) => Json::Str(s.to_string()),
            _ => return Err(bad()),
        },
        SchemaType::Bytes => match value {
            Value::Bytes(b) => Json::Str(latin1_string(b)),
            Value::Decimal(d) => Json::Str(latin1_string(&d.unscaled_bytes())),
            _ => return Err(bad()),
        },
        SchemaType::Array => match value {
            Value::Array(items) => {
                let item_schema = schema.value_schema.as_ref().ok_or_else(bad)?;
                Json::Array(
                    items
                        .iter()
                        .map(|v| default_from_connect(item_schema, v))
                        .collect::<Result<_, _>>()?,
                )
            }
            _ => return Err(bad()),
        },
        SchemaType::Map => match value {
            Value::Map(entries) => {
                let ks = schema.key_schema.as_ref().ok_or_else(bad)?;
                let vs = schema.value_schema.as_ref().ok_or_else(bad)?;
                if ks.schema_type == SchemaType::String && !ks.optional {
                    let mut members: Vec<(String, Json)> = Vec::with_capacity(entries.len());
                    for (k, v) in entries {
                        let key = k.as_str().ok_or_else(bad)?.to_string();
                        let v = default_from_connect(vs, v)?;
                        // ObjectNode.put replaces an existing member in place.
                        match members.iter_mut().find(|(mk, _)| *mk == key) {
                            Some(slot) => slot.1 = v,
                            None => members.push((key, v)),
                        }
                    }
                    Json::Object(members)
                } else {
                    Json::Array(
                        entries
                            .iter()
                            .map(|(k, v)| {
                                Ok(Json::Array(vec![
                                    default_from_connect(ks, k)?,
                                    default_from_connect(vs, v)?,
                                ]))
                            })
                            .collect::<Result<_, String>>()?,
                    )
                }
            }
            _ => return Err(bad()),
        },
        SchemaType::Struct => match value {
            Value::Struct(s) => {
                let union = is_union_schema(schema);
                let mut members = Vec::with_capacity(schema.fields.len());
                for (field, v) in schema.fields.iter().zip(s.values()) {
                    // Struct.get(field): a null field reads as its default.
                    let v = if v.is_null() {
                        default_of(&field.schema).unwrap_or(v)
                    } else {
                        v
                    };
                    let json = default_from_connect(&field.schema, v)?;
                    if union {
                        return Ok(json);
                    }
                    members.push((field.name.clone(), json));
                }
                Json::Object(members)
            }
            _ => return Err(bad()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_name_follows_java_split() {
        assert_eq!(
            split_name("shop.public.orders.Envelope").unwrap(),
            (
                Some("shop.public.orders".to_string()),
                "Envelope".to_string()
            )
        );
        assert_eq!(split_name("Value").unwrap(), (None, "Value".to_string()));
        assert_eq!(
            split_name("a.b.").unwrap(),
            (Some("a".to_string()), "b".to_string())
        );
        assert!(split_name("..").is_err());
    }

    #[test]
    fn fixed_precision_limits() {
        assert_eq!(max_precision_for_fixed(1), 2);
        assert_eq!(max_precision_for_fixed(8), 18);
        assert_eq!(max_precision_for_fixed(16), 38);
    }
}
