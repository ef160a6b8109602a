//! Avro schema → Connect schema, as Confluent's `AvroData.toConnectSchema`
//! does it (default settings), and the plan that decodes Avro binary into
//! Connect values of that schema.
//!
//! * `connect.name`, `connect.version`, `connect.doc`, `connect.parameters`
//!   and `connect.default` restore what the Connect → Avro direction wrote;
//!   `connect.type` restores int8/int16; `logicalType` restores Decimal,
//!   Date, Time and Timestamp.
//! * A record without `connect.name` is named by its full name (unless it is
//!   one of Confluent's `ConnectDefault` names); an array of `MapEntry`
//!   records is a map; a union of null and one type is that type, optional;
//!   any other union is a struct named `io.confluent.connect.avro.Union`
//!   with one optional field per branch; an enum is a string with the
//!   `io.confluent.connect.avro.Enum` parameters.
//! * A record field's Avro default becomes the Connect default; when the
//!   type carries no `connect.default` the parameter
//!   `io.confluent.connect.avro.field.default=true` marks that.
//! * The top-level schema takes the registry's version when it has no
//!   `connect.version`.

use std::collections::HashSet;
use std::sync::Arc;

use sluice_connect_api::data::logical;
use sluice_connect_api::{
    Decimal, Field as ConnectField, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value,
};

use super::from_connect::*;
use super::json::{latin1_bytes, Json};
use super::schema::{AvroSchema, Primitive};

/// How Avro binary is read into Connect values.
#[derive(Debug)]
pub(crate) enum Dec {
    Boolean,
    Int8,
    Int16,
    Int32,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Fixed(usize),
    Decimal {
        scale: i32,
        fixed: Option<usize>,
    },
    Enum(Vec<String>),
    Array(Box<Dec>),
    Map(Box<Dec>),
    /// An array of key/value records read as a map.
    MapEntries {
        fields: Vec<Dec>,
        key_pos: usize,
        value_pos: usize,
    },
    Record {
        schema: SchemaRef,
        fields: Vec<Dec>,
    },
    /// A union of null and one type.
    Nullable {
        null_index: i64,
        inner: Box<Dec>,
    },
    /// Any other union, read as Confluent's union struct; `None` is null.
    Union {
        schema: SchemaRef,
        branches: Vec<Option<(usize, Dec)>>,
    },
}

/// Settings of the Avro → Connect direction.
#[derive(Debug, Clone, Copy)]
pub struct ToConnectOptions {
    pub connect_meta_data: bool,
}

/// The Connect schema of `avro` and the plan that decodes its values.
/// `version` is the registry's version of the schema, used when the
/// top-level schema has no `connect.version`.
pub(crate) fn to_connect_schema(
    avro: &AvroSchema,
    version: Option<i32>,
    options: ToConnectOptions,
) -> Result<(SchemaRef, Dec), String> {
    let mut ctx = Ctx { options };
    ctx.convert(avro, false, None, version)
}

struct Ctx {
    options: ToConnectOptions,
}

fn set_parameter(schema: &mut Schema, key: &str, value: String) {
    if let Some(slot) = schema.parameters.iter_mut().find(|(k, _)| k == key) {
        slot.1 = value;
    } else {
        schema.parameters.push((key.to_string(), value));
    }
}

fn is_map_entry(avro: &AvroSchema) -> bool {
    match avro {
        AvroSchema::Record(r) => {
            (r.name.namespace.as_deref() == Some(NAMESPACE) && r.name.name == MAP_ENTRY_TYPE_NAME)
                || avro.prop_str(CONNECT_INTERNAL_TYPE_NAME) == Some(MAP_ENTRY_TYPE_NAME)
        }
        _ => false,
    }
}

/// `unionMemberFieldName` for an Avro branch.
fn union_member_field_name(avro: &AvroSchema) -> String {
    match avro.name() {
        Some(name) => name.name.clone(),
        None => avro.type_name().to_string(),
    }
}

impl Ctx {
    fn convert(
        &mut self,
        avro: &AvroSchema,
        force_optional: bool,
        field_default: Option<&Json>,
        version: Option<i32>,
    ) -> Result<(SchemaRef, Dec), String> {
        let meta = self.options.connect_meta_data;
        let connect_type = avro.prop_str(CONNECT_TYPE_PROP);
        let logical_type = avro.prop_str(AVRO_LOGICAL_TYPE_PROP);
        let mut dec_fields: Vec<Dec> = Vec::new();
        let mut union_branches: Vec<Option<(usize, Dec)>> = Vec::new();
        let mut map_entry_pos = (0, 0);

        let (mut schema, kind): (Schema, DecKind) = match avro {
            AvroSchema::Primitive(p, _) => match p {
                Primitive::Boolean => (
                    SchemaBuilder::boolean().build_schema(),
                    DecKind::Simple(Dec::Boolean),
                ),
                Primitive::Bytes => self.bytes_like(avro, logical_type, None)?,
                Primitive::Double => (
                    SchemaBuilder::float64().build_schema(),
                    DecKind::Simple(Dec::Double),
                ),
                Primitive::Float => (
                    SchemaBuilder::float32().build_schema(),
                    DecKind::Simple(Dec::Float),
                ),
                Primitive::Int => match (connect_type, logical_type) {
                    (_, Some(l)) if l.eq_ignore_ascii_case(AVRO_LOGICAL_DATE) => {
                        (logical::date().build_schema(), DecKind::Simple(Dec::Int32))
                    }
                    (_, Some(l)) if l.eq_ignore_ascii_case(AVRO_LOGICAL_TIME_MILLIS) => {
                        (logical::time().build_schema(), DecKind::Simple(Dec::Int32))
                    }
                    (_, Some(_)) | (None, None) => (
                        SchemaBuilder::int32().build_schema(),
                        DecKind::Simple(Dec::Int32),
                    ),
                    (Some("int8"), None) => (
                        SchemaBuilder::int8().build_schema(),
                        DecKind::Simple(Dec::Int8),
                    ),
                    (Some("int16"), None) => (
                        SchemaBuilder::int16().build_schema(),
                        DecKind::Simple(Dec::Int16),
                    ),
                    (Some(_), None) => {
                        return Err("Connect type annotation for Avro int field is null".into())
                    }
                },
                Primitive::Long => match logical_type {
                    Some(l) if l.eq_ignore_ascii_case(AVRO_LOGICAL_TIMESTAMP_MILLIS) => (
                        logical::timestamp().build_schema(),
                        DecKind::Simple(Dec::Long),
                    ),
                    _ => (
                        SchemaBuilder::int64().build_schema(),
                        DecKind::Simple(Dec::Long),
                    ),
                },
                Primitive::String => (
                    SchemaBuilder::string().build_schema(),
                    DecKind::Simple(Dec::String),
                ),
                Primitive::Null => {
                    return Err(
                        "Standalone null schemas are not supported by this converter".into(),
                    )
                }
            },
            AvroSchema::Fixed(f) => self.bytes_like(avro, logical_type, Some(f.size))?,
            AvroSchema::Array(items, _) => {
                if is_map_entry(items) {
                    let AvroSchema::Record(entry) = &**items else {
                        unreachable!("is_map_entry checks for a record")
                    };
                    let key_pos = entry.fields.iter().position(|f| f.name == KEY_FIELD);
                    let value_pos = entry.fields.iter().position(|f| f.name == VALUE_FIELD);
                    let (Some(key_pos), Some(value_pos), 2) =
                        (key_pos, value_pos, entry.fields.len())
                    else {
                        return Err("Found map encoded as array of key-value pairs, but array elements do not match the expected format.".into());
                    };
                    let (ks, kd) =
                        self.convert(&entry.fields[key_pos].schema, false, None, None)?;
                    let (vs, vd) =
                        self.convert(&entry.fields[value_pos].schema, false, None, None)?;
                    dec_fields = if key_pos == 0 {
                        vec![kd, vd]
                    } else {
                        vec![vd, kd]
                    };
                    map_entry_pos = (key_pos, value_pos);
                    (
                        SchemaBuilder::map(ks, vs).build_schema(),
                        DecKind::MapEntries,
                    )
                } else {
                    let (item_schema, item_dec) = self.convert(items, false, None, None)?;
                    (
                        SchemaBuilder::array(item_schema).build_schema(),
                        DecKind::Simple(Dec::Array(Box::new(item_dec))),
                    )
                }
            }
            AvroSchema::Map(values, _) => {
                let (vs, vd) = self.convert(values, false, None, None)?;
                (
                    SchemaBuilder::map(SchemaBuilder::string().build(), vs).build_schema(),
                    DecKind::Simple(Dec::Map(Box::new(vd))),
                )
            }
            AvroSchema::Record(r) => {
                let mut schema = SchemaBuilder::struct_().build_schema();
                if meta {
                    if let Some(doc) = &r.doc {
                        set_parameter(&mut schema, AVRO_RECORD_DOC_PROP, doc.clone());
                    }
                }
                for (index, f) in r.fields.iter().enumerate() {
                    if meta {
                        if let Some(doc) = &f.doc {
                            set_parameter(
                                &mut schema,
                                &format!("{AVRO_FIELD_DOC_PREFIX_PROP}{}", f.name),
                                doc.clone(),
                            );
                        }
                    }
                    let (mut field_schema, field_dec) = self
                        .convert(&f.schema, false, f.default.as_ref(), None)
                        .map_err(|e| format!("field \"{}\": {e}", f.name))?;
                    if meta {
                        if let Some(Json::Object(params)) = f
                            .props
                            .iter()
                            .find(|(k, _)| k == CONNECT_PARAMETERS_PROP)
                            .map(|(_, v)| v)
                        {
                            field_schema = apply_field_level_params(field_schema, params);
                        }
                    }
                    if schema.field(&f.name).is_some() {
                        return Err(format!("duplicate field {}", f.name));
                    }
                    schema.fields.push(ConnectField {
                        name: f.name.clone(),
                        index,
                        schema: field_schema,
                    });
                    dec_fields.push(field_dec);
                }
                (schema, DecKind::Record)
            }
            AvroSchema::Enum(e) => {
                let mut schema = SchemaBuilder::string().build_schema();
                if meta {
                    if let Some(doc) = &e.doc {
                        set_parameter(
                            &mut schema,
                            &format!("{AVRO_ENUM_DOC_PREFIX_PROP}{}", e.name.name),
                            doc.clone(),
                        );
                    }
                    if let Some(default) = &e.default {
                        set_parameter(
                            &mut schema,
                            &format!("{AVRO_ENUM_DEFAULT_PREFIX_PROP}{}", e.name.name),
                            default.clone(),
                        );
                    }
                }
                set_parameter(&mut schema, AVRO_TYPE_ENUM, e.name.full());
                for symbol in &e.symbols {
                    set_parameter(
                        &mut schema,
                        &format!("{AVRO_TYPE_ENUM}.{symbol}"),
                        symbol.clone(),
                    );
                }
                (schema, DecKind::Simple(Dec::Enum(e.symbols.clone())))
            }
            AvroSchema::Union(members) => {
                if members.len() == 1 {
                    return self.convert(&members[0], false, None, None);
                }
                if members.len() == 2 {
                    if let Some(null_index) = members.iter().position(AvroSchema::is_null) {
                        let member = &members[1 - null_index];
                        if !member.is_null() {
                            let (s, d) = self.convert(member, true, None, None)?;
                            return Ok((
                                s,
                                Dec::Nullable {
                                    null_index: null_index as i64,
                                    inner: Box::new(d),
                                },
                            ));
                        }
                    }
                }
                let mut schema = SchemaBuilder::struct_()
                    .name(AVRO_TYPE_UNION)
                    .build_schema();
                let mut names = HashSet::new();
                for member in members {
                    if member.is_null() {
                        schema.optional = true;
                        union_branches.push(None);
                        continue;
                    }
                    let name = union_member_field_name(member);
                    if !names.insert(name.clone()) {
                        return Err(
                            "Multiple union schemas map to the Connect union field name".into()
                        );
                    }
                    let (s, d) = self.convert(member, true, None, None)?;
                    let index = schema.fields.len();
                    schema.fields.push(ConnectField {
                        name,
                        index,
                        schema: s,
                    });
                    union_branches.push(Some((index, d)));
                }
                (schema, DecKind::Union)
            }
        };

        // Documentation, version, parameters, default, name.
        if meta {
            if let Some(doc) = avro.prop_str(CONNECT_DOC_PROP) {
                schema.doc = Some(doc.to_string());
            }
        }
        let version_prop = match avro.prop(CONNECT_VERSION_PROP) {
            None => None,
            Some(Json::Int(v)) => {
                Some(i32::try_from(*v).map_err(|_| format!("Invalid Connect version found: {v}"))?)
            }
            Some(other) => {
                return Err(format!(
                    "Invalid Connect version found: {}",
                    other.to_text()
                ))
            }
        };
        if let Some(v) = version_prop.or(version).filter(|v| *v >= 0) {
            match schema.version {
                Some(existing) if existing != v => {
                    return Err(format!(
                        "Mismatched versions: version already added to SchemaBuilder ({existing}) differs from version in source schema ({v})"
                    ))
                }
                _ => schema.version = Some(v),
            }
        }
        if meta {
            match avro.prop(CONNECT_PARAMETERS_PROP) {
                None => {}
                Some(Json::Object(params)) => {
                    for (k, v) in params {
                        let Json::Str(v) = v else {
                            return Err(format!(
                                "Expected schema parameter values to be strings but found: {}",
                                v.to_text()
                            ));
                        };
                        set_parameter(&mut schema, k, v.clone());
                    }
                }
                Some(other) => {
                    return Err(format!(
                        "Expected JSON object for schema parameters but found: {}",
                        other.to_text()
                    ))
                }
            }
        }
        for (k, v) in avro.props() {
            if k.starts_with("avro") {
                let text = match v {
                    Json::Str(s) => s.clone(),
                    other => other.to_text(),
                };
                set_parameter(&mut schema, k, text);
            }
        }

        let connect_default = avro.prop(CONNECT_DEFAULT_VALUE_PROP);
        let default_json = match field_default {
            None => connect_default,
            Some(d) => {
                if meta && connect_default.is_none() {
                    set_parameter(
                        &mut schema,
                        AVRO_FIELD_DEFAULT_FLAG_PROP,
                        "true".to_string(),
                    );
                }
                Some(d)
            }
        };

        let name = match avro.prop(CONNECT_NAME_PROP) {
            Some(Json::Str(n)) => Some(n.clone()),
            Some(other) => return Err(format!("Invalid schema name: {}", other.to_text())),
            None => match avro {
                AvroSchema::Record(_) | AvroSchema::Enum(_) => avro.name().map(|n| n.full()),
                AvroSchema::Fixed(_) if !schema.is_named(logical::DECIMAL) => {
                    avro.name().map(|n| n.full())
                }
                _ => None,
            },
        };
        if let Some(name) = name.filter(|n| !n.starts_with(DEFAULT_SCHEMA_FULL_NAME)) {
            match &schema.name {
                Some(existing) if *existing != name => {
                    return Err(format!(
                        "Mismatched names: name already added to SchemaBuilder ({existing}) differs from name in source schema ({name})"
                    ))
                }
                _ => schema.name = Some(name),
            }
        }

        if let Some(json) = default_json.filter(|j| !j.is_null()) {
            // The default is read against the schema as built so far; an
            // invalid one is ignored, as Confluent does (with a warning).
            let pre = Arc::new(schema.clone());
            if let Ok(value) = json_to_connect(&pre, avro, json) {
                if pre.validate_value(&value).is_ok() {
                    schema.default = Some(value);
                }
            }
        }
        if force_optional {
            schema.optional = true;
        }
        let schema = Arc::new(schema);
        let dec = match kind {
            DecKind::Simple(d) => d,
            DecKind::Record => Dec::Record {
                schema: schema.clone(),
                fields: dec_fields,
            },
            DecKind::MapEntries => Dec::MapEntries {
                fields: dec_fields,
                key_pos: map_entry_pos.0,
                value_pos: map_entry_pos.1,
            },
            DecKind::Union => Dec::Union {
                schema: schema.clone(),
                branches: union_branches,
            },
        };
        Ok((schema, dec))
    }

    fn bytes_like(
        &mut self,
        avro: &AvroSchema,
        logical_type: Option<&str>,
        fixed: Option<usize>,
    ) -> Result<(Schema, DecKind), String> {
        let (mut schema, dec) = if logical_type
            .is_some_and(|l| l.eq_ignore_ascii_case(AVRO_LOGICAL_DECIMAL))
        {
            let scale = match avro.prop(AVRO_DECIMAL_SCALE_PROP) {
                Some(j) if j.is_number() => j.as_i64().unwrap_or(0) as i32,
                _ => 0,
            };
            let mut schema = logical::decimal(scale).build_schema();
            match avro.prop(AVRO_DECIMAL_PRECISION_PROP) {
                None => {}
                Some(p) if p.is_number() => {
                    let precision = p.as_i64().unwrap_or(0);
                    if precision != CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT {
                        set_parameter(&mut schema, CONNECT_AVRO_DECIMAL_PRECISION_PROP, precision.to_string());
                    }
                }
                Some(_) => {
                    return Err("precision property must be a JSON Integer. https://avro.apache.org/docs/1.9.1/spec.html#Decimal".into())
                }
            }
            (schema, Dec::Decimal { scale, fixed })
        } else {
            (
                SchemaBuilder::bytes().build_schema(),
                match fixed {
                    Some(n) => Dec::Fixed(n),
                    None => Dec::Bytes,
                },
            )
        };
        if let Some(size) = fixed {
            set_parameter(&mut schema, CONNECT_AVRO_FIXED_SIZE_PROP, size.to_string());
        }
        Ok((schema, DecKind::Simple(dec)))
    }
}

enum DecKind {
    Simple(Dec),
    Record,
    MapEntries,
    Union,
}

/// `applyFieldLevelParams`: a shared named type whose field carries its
/// own `connect.parameters`.
fn apply_field_level_params(original: SchemaRef, params: &[(String, Json)]) -> SchemaRef {
    let same = params.iter().all(|(k, v)| {
        let text = match v {
            Json::Str(s) => s.clone(),
            other => other.to_text(),
        };
        original.parameter(k) == Some(text.as_str())
    });
    if same {
        return original;
    }
    let mut schema = (*original).clone();
    for (k, v) in params {
        let text = match v {
            Json::Str(s) => s.clone(),
            other => other.to_text(),
        };
        set_parameter(&mut schema, k, text);
    }
    Arc::new(schema)
}

/// A JSON default (an Avro field default or `connect.default`) as a Connect
/// value of `schema`.
fn json_to_connect(schema: &SchemaRef, avro: &AvroSchema, json: &Json) -> Result<Value, String> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    let bad = || {
        format!(
            "default {} does not fit {}",
            json.to_text(),
            schema.schema_type
        )
    };
    Ok(match avro {
        AvroSchema::Primitive(p, _) => match p {
            Primitive::Int => {
                let v = json.as_i64().ok_or_else(bad)?;
                match schema.schema_type {
                    SchemaType::Int8 => Value::Int8(v as i8),
                    SchemaType::Int16 => Value::Int16(v as i16),
                    SchemaType::Int32 => Value::Int32(v as i32),
                    _ => return Err(bad()),
                }
            }
            Primitive::Long => Value::Int64(json.as_i64().ok_or_else(bad)?),
            Primitive::Float => Value::Float32(json.as_f64().ok_or_else(bad)? as f32),
            Primitive::Double => Value::Float64(json.as_f64().ok_or_else(bad)?),
            Primitive::Boolean => match json {
                Json::Bool(b) => Value::Boolean(*b),
                _ => return Err(bad()),
            },
            Primitive::String => Value::String(json.as_str().ok_or_else(bad)?.into()),
            Primitive::Bytes => bytes_value(schema, json.as_str().ok_or_else(bad)?),
            Primitive::Null => Value::Null,
        },
        AvroSchema::Fixed(_) => bytes_value(schema, json.as_str().ok_or_else(bad)?),
        AvroSchema::Enum(_) => Value::String(json.as_str().ok_or_else(bad)?.into()),
        AvroSchema::Array(items, _) => {
            let (Json::Array(elems), SchemaType::Array) = (json, schema.schema_type) else {
                return Err(bad());
            };
            let item_schema = schema.value_schema.as_ref().ok_or_else(bad)?;
            Value::Array(
                elems
                    .iter()
                    .map(|e| json_to_connect(item_schema, items, e))
                    .collect::<Result<_, _>>()?,
            )
        }
        AvroSchema::Map(values, _) => {
            let Json::Object(members) = json else {
                return Err(bad());
            };
            let value_schema = schema.value_schema.as_ref().ok_or_else(bad)?;
            Value::Map(
                members
                    .iter()
                    .map(|(k, v)| {
                        Ok((
                            Value::String(k.into()),
                            json_to_connect(value_schema, values, v)?,
                        ))
                    })
                    .collect::<Result<_, String>>()?,
            )
        }
        AvroSchema::Record(r) => {
            if !matches!(json, Json::Object(_)) || schema.schema_type != SchemaType::Struct {
                return Err(bad());
            }
            let mut values = Vec::with_capacity(schema.fields.len());
            for f in &schema.fields {
                let af = r.field(&f.name).ok_or_else(bad)?;
                let v = match json.get(&f.name) {
                    Some(j) => json_to_connect(&f.schema, &af.schema, j)?,
                    None => default_of(&f.schema).cloned().unwrap_or(Value::Null),
                };
                values.push(v);
            }
            Value::Struct(Struct::from_values(schema.clone(), values))
        }
        AvroSchema::Union(members) => {
            // A default belongs to the union's first branch.
            let first = members.first().ok_or_else(bad)?;
            if first.is_null() {
                return Ok(Value::Null);
            }
            if is_union_schema(schema) {
                let field_name = union_member_field_name(first);
                let field = schema.field(&field_name).ok_or_else(bad)?;
                let v = json_to_connect(&field.schema, first, json)?;
                let mut s = Struct::new(schema.clone());
                s.put_index(field.index, v);
                Value::Struct(s)
            } else {
                json_to_connect(schema, first, json)?
            }
        }
    })
}

fn bytes_value(schema: &Schema, text: &str) -> Value {
    let bytes = latin1_bytes(text);
    if schema.is_named(logical::DECIMAL) {
        let scale = decimal_scale(schema).unwrap_or(0);
        Value::Decimal(Decimal::from_unscaled_bytes(&bytes, scale))
    } else {
        Value::Bytes(bytes)
    }
}

// ---------------------------------------------------------------------
// Binary decoding
// ---------------------------------------------------------------------

/// A cursor over Avro binary data.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn eof(&self) -> String {
        format!("unexpected end of Avro data at byte {}", self.pos)
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.data.get(self.pos).ok_or_else(|| self.eof())?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn long(&mut self) -> Result<i64, String> {
        let mut n: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err(format!("invalid long encoding at byte {}", self.pos - 1));
            }
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return Err(format!("invalid long encoding at byte {}", self.pos - 1));
            }
        }
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    fn int(&mut self) -> Result<i32, String> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| format!("int value {v} out of range"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.data.len() - self.pos < n {
            return Err(self.eof());
        }
        let slice = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn len(&mut self) -> Result<usize, String> {
        let n = self.long()?;
        let n = usize::try_from(n).map_err(|_| format!("negative length {n}"))?;
        if n > self.data.len() - self.pos {
            return Err(self.eof());
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.len()?;
        self.take(n)
    }

    /// The item count of the next block (0 ends the array/map).
    fn block_count(&mut self) -> Result<usize, String> {
        let n = self.long()?;
        if n < 0 {
            // A negative count is followed by the block's size in bytes.
            let _size = self.long()?;
        }
        let n = n.unsigned_abs();
        // Nearly every item takes at least one byte; only empty records
        // take none. Refuse counts the remaining data cannot hold (with
        // room for a million empty items), so corrupt input cannot make
        // the reader loop or allocate without bound.
        let remaining = (self.data.len() - self.pos) as u64;
        if n > remaining + 1_000_000 {
            return Err(format!(
                "block count {n} exceeds the {remaining} bytes of data left"
            ));
        }
        usize::try_from(n).map_err(|_| format!("block count {n} too large"))
    }
}

fn string_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Reads one value per `dec`.
pub(crate) fn decode(dec: &Dec, r: &mut Reader<'_>) -> Result<Value, String> {
    Ok(match dec {
        Dec::Boolean => match r.byte()? {
            0 => Value::Boolean(false),
            1 => Value::Boolean(true),
            b => return Err(format!("invalid boolean byte {b}")),
        },
        Dec::Int8 => Value::Int8(r.int()? as i8),
        Dec::Int16 => Value::Int16(r.int()? as i16),
        Dec::Int32 => Value::Int32(r.int()?),
        Dec::Long => Value::Int64(r.long()?),
        Dec::Float => {
            let b = r.take(4)?;
            Value::Float32(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }
        Dec::Double => {
            let b = r.take(8)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            Value::Float64(f64::from_le_bytes(a))
        }
        Dec::Bytes => Value::Bytes(r.bytes()?.to_vec()),
        Dec::String => Value::String(string_of(r.bytes()?).into()),
        Dec::Fixed(n) => Value::Bytes(r.take(*n)?.to_vec()),
        Dec::Decimal { scale, fixed } => {
            let b = match fixed {
                Some(n) => r.take(*n)?,
                None => r.bytes()?,
            };
            Value::Decimal(Decimal::from_unscaled_bytes(b, *scale))
        }
        Dec::Enum(symbols) => {
            let i = r.long()?;
            let symbol = usize::try_from(i)
                .ok()
                .and_then(|i| symbols.get(i))
                .ok_or_else(|| format!("enum index {i} out of range"))?;
            Value::String(symbol.into())
        }
        Dec::Array(item) => {
            let mut items = Vec::new();
            loop {
                let n = r.block_count()?;
                if n == 0 {
                    break;
                }
                items.reserve(n.min(r.data.len() - r.pos + 1));
                for _ in 0..n {
                    items.push(decode(item, r)?);
                }
            }
            Value::Array(items)
        }
        Dec::Map(value) => {
            let mut entries = Vec::new();
            loop {
                let n = r.block_count()?;
                if n == 0 {
                    break;
                }
                entries.reserve(n.min(r.data.len() - r.pos + 1));
                for _ in 0..n {
                    let k = string_of(r.bytes()?);
                    let v = decode(value, r)?;
                    entries.push((Value::String(k.into()), v));
                }
            }
            Value::Map(entries)
        }
        Dec::MapEntries {
            fields,
            key_pos,
            value_pos,
        } => {
            let mut entries = Vec::new();
            loop {
                let n = r.block_count()?;
                if n == 0 {
                    break;
                }
                entries.reserve(n.min(r.data.len() - r.pos + 1));
                for _ in 0..n {
                    let mut a = decode(&fields[0], r)?;
                    let mut b = decode(&fields[1], r)?;
                    if key_pos > value_pos {
                        std::mem::swap(&mut a, &mut b);
                    }
                    entries.push((a, b));
                }
            }
            Value::Map(entries)
        }
        Dec::Record { schema, fields } => {
            let mut values = Vec::with_capacity(fields.len());
            for f in fields {
                values.push(decode(f, r)?);
            }
            Value::Struct(Struct::from_values(schema.clone(), values))
        }
        Dec::Nullable { null_index, inner } => {
            let branch = r.long()?;
            if branch == *null_index {
                Value::Null
            } else if branch == 1 - null_index {
                decode(inner, r)?
            } else {
                return Err(format!("union branch {branch} out of range"));
            }
        }
        Dec::Union { schema, branches } => {
            let branch = r.long()?;
            let b = usize::try_from(branch)
                .ok()
                .and_then(|i| branches.get(i))
                .ok_or_else(|| format!("union branch {branch} out of range"))?;
            match b {
                None => Value::Null,
                Some((field_index, d)) => {
                    let v = decode(d, r)?;
                    let mut s = Struct::new(schema.clone());
                    s.put_index(*field_index, v);
                    Value::Struct(s)
                }
            }
        }
    })
}
