//! Connect value → Avro binary, through a plan built once per (Connect
//! schema, Avro schema) pair.
//!
//! The plan pairs every Connect schema node with the Avro schema it is
//! written as: which union branch carries a value and which carries null,
//! where each Avro record field takes its value from (the Connect field of
//! the same name, or the Avro default when the Connect struct has no such
//! field — possible with `use.latest.version`), and the Connect default
//! that replaces a null field value (Connect's `Struct.get` does that, and
//! Confluent serializes what `Struct.get` returns).
//!
//! The binary encoding is Avro's: zig-zag varints for int and long,
//! little-endian IEEE floats, length-prefixed bytes and strings, arrays and
//! maps as one block (count, items, 0) or just 0 when empty, a union as the
//! branch index followed by the value.

use std::sync::Arc;

use sluice_connect_api::{Schema, SchemaRef, SchemaType, Value};

use super::from_connect::{
    decimal_scale, default_of, is_decimal, is_union_schema, KEY_FIELD, VALUE_FIELD,
};
use super::json::{latin1_bytes, Json};
use super::schema::{AvroSchema, Primitive};

/// How one Connect value is written.
#[derive(Debug)]
pub(crate) enum Enc {
    Boolean,
    /// Connect int8/int16/int32 as Avro int.
    Int,
    Long,
    Float,
    Double,
    /// Connect float as Avro double (a foreign schema that widened it).
    FloatAsDouble,
    String,
    /// Connect string written as an Avro enum symbol.
    EnumSymbol(Vec<String>),
    Bytes,
    /// Bytes of an exact length.
    Fixed(usize),
    Decimal {
        scale: i32,
        fixed: Option<usize>,
    },
    Array(Box<Enc>),
    /// A map with string keys.
    Map(Box<Enc>),
    /// A map written as an array of key/value records.
    MapEntries {
        key: Box<Enc>,
        value: Box<Enc>,
        key_first: bool,
    },
    Record {
        schema: SchemaRef,
        fields: Vec<FieldEnc>,
    },
    /// A Connect schema that may be null, written as a union.
    Nullable {
        null_index: i64,
        value_index: i64,
        inner: Box<Enc>,
    },
    /// A value that is never null written as one branch of a union.
    Branch {
        index: i64,
        inner: Box<Enc>,
    },
    /// Confluent's `io.confluent.connect.avro.Union` struct: the first
    /// non-null field is written as its branch.
    UnionStruct {
        schema: SchemaRef,
        branches: Vec<(i64, Enc)>,
        null_index: Option<i64>,
    },
}

#[derive(Debug)]
pub(crate) enum FieldEnc {
    /// The Connect field at `index`; a null value is replaced by `default`.
    Connect {
        index: usize,
        name: String,
        default: Option<Value>,
        enc: Enc,
    },
    /// An Avro field the Connect struct does not have: its default, encoded.
    Constant(Vec<u8>),
}

/// The plan for writing values of `connect` as `avro`.
pub(crate) fn plan(connect: &SchemaRef, avro: &AvroSchema) -> Result<Enc, String> {
    let nullable = connect.optional;
    match avro {
        AvroSchema::Union(members) => {
            if is_union_schema(connect) {
                return union_struct_plan(connect, members);
            }
            let null_index = members.iter().position(AvroSchema::is_null);
            let (value_index, member) = members
                .iter()
                .enumerate()
                .filter(|(_, m)| !m.is_null())
                .find(|(_, m)| matches_by_name(connect, m))
                .or_else(|| {
                    members
                        .iter()
                        .enumerate()
                        .find(|(_, m)| !m.is_null() && compatible(connect, m))
                })
                .ok_or_else(|| {
                    format!(
                        "no branch of the Avro union {} fits the Connect {} schema{}",
                        avro.to_json().unwrap_or_default(),
                        connect.schema_type,
                        name_suffix(connect)
                    )
                })?;
            let inner = Box::new(plan_value(connect, member)?);
            match (nullable, null_index) {
                (true, Some(n)) => Ok(Enc::Nullable {
                    null_index: n as i64,
                    value_index: value_index as i64,
                    inner,
                }),
                _ => Ok(Enc::Branch {
                    index: value_index as i64,
                    inner,
                }),
            }
        }
        _ => plan_value(connect, avro),
    }
}

fn name_suffix(schema: &Schema) -> String {
    schema
        .name
        .as_deref()
        .map(|n| format!(" \"{n}\""))
        .unwrap_or_default()
}

fn matches_by_name(connect: &Schema, avro: &AvroSchema) -> bool {
    match (connect.name.as_deref(), avro.name()) {
        (Some(c), Some(a)) => a.full() == c && compatible(connect, avro),
        _ => false,
    }
}

/// Whether a Connect schema can be written as this (non-union) Avro schema.
fn compatible(connect: &Schema, avro: &AvroSchema) -> bool {
    use AvroSchema as A;
    use Primitive as P;
    match (connect.schema_type, avro) {
        (SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32, A::Primitive(P::Int, _)) => true,
        (
            SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32 | SchemaType::Int64,
            A::Primitive(P::Long, _),
        ) => true,
        (SchemaType::Float32, A::Primitive(P::Float | P::Double, _)) => true,
        (SchemaType::Float64, A::Primitive(P::Double, _)) => true,
        (SchemaType::Boolean, A::Primitive(P::Boolean, _)) => true,
        (SchemaType::String, A::Primitive(P::String, _) | A::Enum(_)) => true,
        (SchemaType::Bytes, A::Primitive(P::Bytes, _)) => true,
        (SchemaType::Bytes, A::Fixed(f)) => {
            !is_decimal(connect)
                || connect
                    .parameter(super::from_connect::CONNECT_AVRO_FIXED_SIZE_PROP)
                    .is_none_or(|s| s.trim().parse::<usize>().ok() == Some(f.size))
        }
        (SchemaType::Array, A::Array(..)) => true,
        (SchemaType::Map, A::Map(..)) => connect
            .key_schema
            .as_ref()
            .is_some_and(|k| k.schema_type == SchemaType::String),
        (SchemaType::Map, A::Array(items, _)) => matches!(&**items, A::Record(r)
            if r.field(KEY_FIELD).is_some() && r.field(VALUE_FIELD).is_some()),
        (SchemaType::Struct, A::Record(_)) => true,
        (SchemaType::Struct, A::Union(_)) => is_union_schema(connect),
        _ => false,
    }
}

fn mismatch(connect: &Schema, avro: &AvroSchema) -> String {
    format!(
        "the Connect {} schema{} cannot be written as Avro {}",
        connect.schema_type,
        name_suffix(connect),
        avro.type_name()
    )
}

/// The plan for a non-null value of `connect` written as `avro`.
fn plan_value(connect: &SchemaRef, avro: &AvroSchema) -> Result<Enc, String> {
    use AvroSchema as A;
    use Primitive as P;
    if let A::Union(_) = avro {
        // A value inside a union branch that is itself optional: only
        // reachable with foreign schemas.
        return plan(connect, avro);
    }
    if !compatible(connect, avro) {
        return Err(mismatch(connect, avro));
    }
    Ok(match (connect.schema_type, avro) {
        (SchemaType::Bytes, _) if is_decimal(connect) => Enc::Decimal {
            scale: decimal_scale(connect)?,
            fixed: match avro {
                A::Fixed(f) => Some(f.size),
                _ => None,
            },
        },
        (_, A::Primitive(P::Boolean, _)) => Enc::Boolean,
        (_, A::Primitive(P::Int, _)) => Enc::Int,
        (_, A::Primitive(P::Long, _)) => Enc::Long,
        (SchemaType::Float32, A::Primitive(P::Double, _)) => Enc::FloatAsDouble,
        (_, A::Primitive(P::Float, _)) => Enc::Float,
        (_, A::Primitive(P::Double, _)) => Enc::Double,
        (_, A::Primitive(P::String, _)) => Enc::String,
        (_, A::Enum(e)) => Enc::EnumSymbol(e.symbols.clone()),
        (_, A::Primitive(P::Bytes, _)) => Enc::Bytes,
        (_, A::Fixed(f)) => Enc::Fixed(f.size),
        (SchemaType::Array, A::Array(items, _)) => {
            let item = connect
                .value_schema
                .as_ref()
                .ok_or("array without item schema")?;
            Enc::Array(Box::new(plan(item, items)?))
        }
        (SchemaType::Map, A::Map(values, _)) => {
            let vs = connect
                .value_schema
                .as_ref()
                .ok_or("map without value schema")?;
            Enc::Map(Box::new(plan(vs, values)?))
        }
        (SchemaType::Map, A::Array(items, _)) => {
            let A::Record(entry) = &**items else {
                return Err(mismatch(connect, avro));
            };
            let ks = connect
                .key_schema
                .as_ref()
                .ok_or("map without key schema")?;
            let vs = connect
                .value_schema
                .as_ref()
                .ok_or("map without value schema")?;
            if entry.fields.len() != 2 {
                return Err(mismatch(connect, avro));
            }
            let key_first = entry.fields[0].name == KEY_FIELD;
            let key_avro = &entry.field(KEY_FIELD).ok_or("MapEntry without key")?.schema;
            let value_avro = &entry
                .field(VALUE_FIELD)
                .ok_or("MapEntry without value")?
                .schema;
            Enc::MapEntries {
                key: Box::new(plan(ks, key_avro)?),
                value: Box::new(plan(vs, value_avro)?),
                key_first,
            }
        }
        (SchemaType::Struct, A::Record(r)) => {
            let mut fields = Vec::with_capacity(r.fields.len());
            for af in &r.fields {
                match connect.field(&af.name) {
                    Some(cf) => fields.push(FieldEnc::Connect {
                        index: cf.index,
                        name: cf.name.clone(),
                        default: default_of(&cf.schema).cloned(),
                        enc: plan(&cf.schema, &af.schema)
                            .map_err(|e| format!("field \"{}\": {e}", af.name))?,
                    }),
                    None => {
                        let default = af.default.as_ref().ok_or_else(|| {
                            format!(
                                "the Avro schema's field \"{}\" has no default and the Connect schema has no such field",
                                af.name
                            )
                        })?;
                        let mut bytes = Vec::new();
                        encode_json_default(&af.schema, default, &mut bytes)
                            .map_err(|e| format!("default of field \"{}\": {e}", af.name))?;
                        fields.push(FieldEnc::Constant(bytes));
                    }
                }
            }
            Enc::Record {
                schema: connect.clone(),
                fields,
            }
        }
        (SchemaType::Struct, A::Union(members)) => return union_struct_plan(connect, members),
        _ => return Err(mismatch(connect, avro)),
    })
}

fn union_struct_plan(connect: &SchemaRef, members: &[AvroSchema]) -> Result<Enc, String> {
    let null_index = members
        .iter()
        .position(AvroSchema::is_null)
        .map(|i| i as i64);
    let mut branches = Vec::with_capacity(connect.fields.len());
    for f in &connect.fields {
        let (index, member) = members
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.is_null())
            .find(|(_, m)| matches_by_name(&f.schema, m))
            .or_else(|| {
                members
                    .iter()
                    .enumerate()
                    .find(|(_, m)| !m.is_null() && compatible(&f.schema, m))
            })
            .ok_or_else(|| format!("no union branch fits union field \"{}\"", f.name))?;
        branches.push((index as i64, plan_value(&f.schema, member)?));
    }
    Ok(Enc::UnionStruct {
        schema: connect.clone(),
        branches,
        null_index,
    })
}

// ---------------------------------------------------------------------
// Primitive writers
// ---------------------------------------------------------------------

#[inline]
pub(crate) fn write_long(out: &mut Vec<u8>, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[inline]
fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_long(out, b.len() as i64);
    out.extend_from_slice(b);
}

/// Java's `String.hashCode()` (over UTF-16 code units).
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The order in which a `java.util.HashMap<String, _>` filled with `keys`
/// (in this order, with the default capacity) iterates: by bucket of the
/// spread hash at the final table size, then by insertion. A key given
/// twice keeps its first position and its last value, as `put` does.
/// Returns (index of the key's first occurrence, index of its value).
///
/// Confluent converts a string-keyed Connect map into such a `HashMap`
/// before writing it, so this is the order its bytes have. (Bins Java
/// turns into trees — nine or more keys in one bucket of a table of at
/// least 64 — iterate in a different order; such collisions do not
/// happen with ordinary keys.)
pub(crate) fn java_hash_map_order(keys: &[&str]) -> Vec<(usize, usize)> {
    if keys.len() <= 1 {
        return (0..keys.len()).map(|i| (i, i)).collect();
    }
    // Distinct keys, first position and last value.
    let mut distinct: Vec<(usize, usize, u32)> = Vec::with_capacity(keys.len());
    let mut seen: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        match seen.get(k) {
            Some(&slot) => distinct[slot].1 = i,
            None => {
                seen.insert(k, distinct.len());
                let h = java_string_hash(k) as u32;
                distinct.push((i, i, h ^ (h >> 16)));
            }
        }
    }
    // Table size: 16, doubled whenever the size passes 3/4 of it.
    let mut capacity: usize = 16;
    while distinct.len() > capacity * 3 / 4 {
        capacity *= 2;
    }
    // A bin of more than eight entries makes a small table grow instead
    // of turning into a tree.
    while capacity < 64 {
        let mut counts = vec![0usize; capacity];
        for (_, _, h) in &distinct {
            counts[*h as usize & (capacity - 1)] += 1;
        }
        if counts.iter().all(|c| *c <= 8) {
            break;
        }
        capacity *= 2;
    }
    // Stable: insertion order within a bucket.
    distinct.sort_by_key(|(_, _, h)| *h as usize & (capacity - 1));
    distinct
        .into_iter()
        .map(|(first, last, _)| (first, last))
        .collect()
}

/// Length of Java's `BigInteger.toByteArray()` for `v`: the fewest bytes
/// of two's complement that keep the sign (at least one).
#[inline]
fn minimal_len(v: i64) -> usize {
    let significant = if v < 0 {
        64 - v.leading_ones()
    } else {
        64 - v.leading_zeros()
    };
    (significant as usize + 1).div_ceil(8).max(1)
}

// ---------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------

/// A conversion error with the path of the field it happened at.
#[derive(Debug)]
pub(crate) struct EncodeError {
    pub path: Vec<String>,
    pub message: String,
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            let mut path: Vec<&str> = self.path.iter().map(String::as_str).collect();
            path.reverse();
            write!(f, "{} (at field \"{}\")", self.message, path.join("."))
        }
    }
}

fn fail(message: impl Into<String>) -> EncodeError {
    EncodeError {
        path: Vec::new(),
        message: message.into(),
    }
}

fn invalid(expected: &str, value: &Value) -> EncodeError {
    fail(format!(
        "Invalid type for {expected}: {}",
        value.type_name()
    ))
}

const NULL_FOR_REQUIRED: &str = "Found null value for non-optional schema";

/// Writes `value` per `enc`. `value` may be null only where the plan has
/// a null branch.
pub(crate) fn encode(enc: &Enc, value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    match enc {
        Enc::Nullable {
            null_index,
            value_index,
            inner,
        } => {
            if value.is_null() {
                write_long(out, *null_index);
                Ok(())
            } else {
                write_long(out, *value_index);
                encode(inner, value, out)
            }
        }
        Enc::Branch { index, inner } => {
            if value.is_null() {
                return Err(fail(NULL_FOR_REQUIRED));
            }
            write_long(out, *index);
            encode(inner, value, out)
        }
        Enc::UnionStruct {
            null_index: Some(n),
            ..
        } if value.is_null() => {
            write_long(out, *n);
            Ok(())
        }
        _ if value.is_null() => Err(fail(NULL_FOR_REQUIRED)),
        Enc::Boolean => match value {
            Value::Boolean(b) => {
                out.push(u8::from(*b));
                Ok(())
            }
            _ => Err(invalid("BOOLEAN", value)),
        },
        Enc::Int => match *value {
            Value::Int32(v) => {
                write_long(out, i64::from(v));
                Ok(())
            }
            Value::Int16(v) => {
                write_long(out, i64::from(v));
                Ok(())
            }
            Value::Int8(v) => {
                write_long(out, i64::from(v));
                Ok(())
            }
            _ => Err(invalid("INT32", value)),
        },
        Enc::Long => match value.as_i64() {
            Some(v) => {
                write_long(out, v);
                Ok(())
            }
            None => Err(invalid("INT64", value)),
        },
        Enc::Float => match value {
            Value::Float32(f) => {
                out.extend_from_slice(&f.to_le_bytes());
                Ok(())
            }
            _ => Err(invalid("FLOAT32", value)),
        },
        Enc::FloatAsDouble => match value {
            Value::Float32(f) => {
                out.extend_from_slice(&f64::from(*f).to_le_bytes());
                Ok(())
            }
            _ => Err(invalid("FLOAT32", value)),
        },
        Enc::Double => match value {
            Value::Float64(d) => {
                out.extend_from_slice(&d.to_le_bytes());
                Ok(())
            }
            _ => Err(invalid("FLOAT64", value)),
        },
        Enc::String => match value {
            Value::String(s) => {
                write_bytes(out, s.as_bytes());
                Ok(())
            }
            _ => Err(invalid("STRING", value)),
        },
        Enc::EnumSymbol(symbols) => match value {
            Value::String(s) => match symbols.iter().position(|sym| sym == s) {
                Some(i) => {
                    write_long(out, i as i64);
                    Ok(())
                }
                None => Err(fail(format!("\"{s}\" is not a symbol of the Avro enum"))),
            },
            _ => Err(invalid("STRING", value)),
        },
        Enc::Bytes => match value {
            Value::Bytes(b) => {
                write_bytes(out, b);
                Ok(())
            }
            _ => Err(invalid("BYTES", value)),
        },
        Enc::Fixed(size) => match value {
            Value::Bytes(b) if b.len() == *size => {
                out.extend_from_slice(b);
                Ok(())
            }
            Value::Bytes(b) => Err(fail(format!(
                "{} bytes for an Avro fixed of size {size}",
                b.len()
            ))),
            _ => Err(invalid("BYTES", value)),
        },
        Enc::Decimal { scale, fixed } => match value {
            Value::Decimal(d) => {
                if d.scale != *scale {
                    return Err(fail(
                        "BigDecimal has mismatching scale value for given Decimal schema",
                    ));
                }
                let small;
                let big;
                let bytes: &[u8] = match i64::try_from(&d.unscaled) {
                    Ok(v) => {
                        let n = minimal_len(v);
                        small = v.to_be_bytes();
                        &small[8 - n..]
                    }
                    Err(_) => {
                        big = d.unscaled_bytes();
                        &big
                    }
                };
                match fixed {
                    None => write_bytes(out, bytes),
                    Some(size) => {
                        if bytes.len() > *size {
                            return Err(fail(format!(
                                "Unscaled value byte array length {} is greater than fixed size {size}",
                                bytes.len()
                            )));
                        }
                        let pad = if bytes.first().is_some_and(|b| *b & 0x80 != 0) {
                            0xFF
                        } else {
                            0
                        };
                        out.extend(std::iter::repeat_n(pad, size - bytes.len()));
                        out.extend_from_slice(bytes);
                    }
                }
                Ok(())
            }
            _ => Err(invalid("Decimal", value)),
        },
        Enc::Array(item) => match value {
            Value::Array(items) => {
                if !items.is_empty() {
                    write_long(out, items.len() as i64);
                    for (i, v) in items.iter().enumerate() {
                        encode(item, v, out).map_err(|mut e| {
                            e.path.push(i.to_string());
                            e
                        })?;
                    }
                }
                out.push(0);
                Ok(())
            }
            _ => Err(invalid("ARRAY", value)),
        },
        Enc::Map(value_enc) => match value {
            Value::Map(entries) => {
                let mut keys = Vec::with_capacity(entries.len());
                for (k, _) in entries {
                    match k {
                        Value::String(key) => keys.push(key.as_str()),
                        _ => return Err(invalid("STRING", k)),
                    }
                }
                let order = java_hash_map_order(&keys);
                if !order.is_empty() {
                    write_long(out, order.len() as i64);
                    for (first, last) in order {
                        let key = keys[first];
                        write_bytes(out, key.as_bytes());
                        encode(value_enc, &entries[last].1, out).map_err(|mut e| {
                            e.path.push(key.to_string());
                            e
                        })?;
                    }
                }
                out.push(0);
                Ok(())
            }
            _ => Err(invalid("MAP", value)),
        },
        Enc::MapEntries {
            key,
            value: value_enc,
            key_first,
        } => match value {
            Value::Map(entries) => {
                if !entries.is_empty() {
                    write_long(out, entries.len() as i64);
                    for (k, v) in entries {
                        if *key_first {
                            encode(key, k, out)?;
                            encode(value_enc, v, out)?;
                        } else {
                            encode(value_enc, v, out)?;
                            encode(key, k, out)?;
                        }
                    }
                }
                out.push(0);
                Ok(())
            }
            _ => Err(invalid("MAP", value)),
        },
        Enc::Record { schema, fields } => match value {
            Value::Struct(s) => {
                if !Arc::ptr_eq(s.schema(), schema) && **s.schema() != **schema {
                    return Err(fail("Mismatching struct schema"));
                }
                let values = s.values();
                for f in fields {
                    match f {
                        FieldEnc::Constant(bytes) => out.extend_from_slice(bytes),
                        FieldEnc::Connect {
                            index,
                            name,
                            default,
                            enc,
                        } => {
                            let v = &values[*index];
                            let v = match (v, default) {
                                (Value::Null, Some(d)) => d,
                                _ => v,
                            };
                            encode(enc, v, out).map_err(|mut e| {
                                e.path.push(name.clone());
                                e
                            })?;
                        }
                    }
                }
                Ok(())
            }
            _ => Err(invalid("STRUCT", value)),
        },
        Enc::UnionStruct {
            schema,
            branches,
            null_index,
        } => match value {
            Value::Struct(s) => {
                if !Arc::ptr_eq(s.schema(), schema) && **s.schema() != **schema {
                    return Err(fail("Mismatching struct schema"));
                }
                for ((index, branch), (field, v)) in
                    branches.iter().zip(schema.fields.iter().zip(s.values()))
                {
                    let v = if v.is_null() {
                        default_of(&field.schema).unwrap_or(v)
                    } else {
                        v
                    };
                    if !v.is_null() {
                        write_long(out, *index);
                        return encode(branch, v, out);
                    }
                }
                match null_index {
                    Some(n) => {
                        write_long(out, *n);
                        Ok(())
                    }
                    None => Err(fail(NULL_FOR_REQUIRED)),
                }
            }
            _ => Err(invalid("STRUCT", value)),
        },
    }
}

/// Encodes an Avro JSON default (as Avro reads field defaults: a union's
/// default belongs to its first branch; bytes are ISO-8859-1 text).
pub(crate) fn encode_json_default(
    schema: &AvroSchema,
    json: &Json,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    use AvroSchema as A;
    use Primitive as P;
    let bad = || {
        format!(
            "default {} does not fit Avro {}",
            json.to_text(),
            schema.type_name()
        )
    };
    match schema {
        A::Primitive(P::Null, _) => {
            if json.is_null() {
                Ok(())
            } else {
                Err(bad())
            }
        }
        A::Primitive(P::Boolean, _) => match json {
            Json::Bool(b) => {
                out.push(u8::from(*b));
                Ok(())
            }
            _ => Err(bad()),
        },
        A::Primitive(P::Int | P::Long, _) => {
            write_long(out, json.as_i64().ok_or_else(bad)?);
            Ok(())
        }
        A::Primitive(P::Float, _) => {
            out.extend_from_slice(&(json.as_f64().ok_or_else(bad)? as f32).to_le_bytes());
            Ok(())
        }
        A::Primitive(P::Double, _) => {
            out.extend_from_slice(&json.as_f64().ok_or_else(bad)?.to_le_bytes());
            Ok(())
        }
        A::Primitive(P::String, _) => {
            write_bytes(out, json.as_str().ok_or_else(bad)?.as_bytes());
            Ok(())
        }
        A::Primitive(P::Bytes, _) => {
            write_bytes(out, &latin1_bytes(json.as_str().ok_or_else(bad)?));
            Ok(())
        }
        A::Fixed(f) => {
            let b = latin1_bytes(json.as_str().ok_or_else(bad)?);
            if b.len() != f.size {
                return Err(bad());
            }
            out.extend_from_slice(&b);
            Ok(())
        }
        A::Enum(e) => {
            let s = json.as_str().ok_or_else(bad)?;
            let i = e.symbols.iter().position(|x| x == s).ok_or_else(bad)?;
            write_long(out, i as i64);
            Ok(())
        }
        A::Array(items, _) => match json {
            Json::Array(elems) => {
                if !elems.is_empty() {
                    write_long(out, elems.len() as i64);
                    for e in elems {
                        encode_json_default(items, e, out)?;
                    }
                }
                out.push(0);
                Ok(())
            }
            _ => Err(bad()),
        },
        A::Map(values, _) => match json {
            Json::Object(members) => {
                if !members.is_empty() {
                    write_long(out, members.len() as i64);
                    for (k, v) in members {
                        write_bytes(out, k.as_bytes());
                        encode_json_default(values, v, out)?;
                    }
                }
                out.push(0);
                Ok(())
            }
            _ => Err(bad()),
        },
        A::Union(members) => {
            let first = members.first().ok_or_else(bad)?;
            write_long(out, 0);
            encode_json_default(first, json, out)
        }
        A::Record(r) => {
            if !matches!(json, Json::Object(_)) {
                return Err(bad());
            }
            for f in &r.fields {
                let v = json.get(&f.name).or(f.default.as_ref()).ok_or_else(bad)?;
                encode_json_default(&f.schema, v, out)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_two_complement_like_big_integer() {
        use num_bigint::BigInt;
        for v in [
            0i64,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            255,
            256,
            32767,
            32768,
            -32768,
            -32769,
            i64::MAX,
            i64::MIN,
            1 << 40,
            -(1 << 40),
        ] {
            let java = BigInt::from(v).to_signed_bytes_be();
            assert_eq!(minimal_len(v), java.len(), "{v}");
            assert_eq!(&v.to_be_bytes()[8 - java.len()..], &java[..], "{v}");
        }
    }

    #[test]
    fn java_hash_map_iteration_order() {
        // "a".hashCode() = 97 → bucket 1, "b" = 98 → 2, "q" = 113 → 1
        // (113 & 15): "q" follows "a" in bucket 1 whatever the input order.
        let keys = ["b", "q", "a"];
        let order: Vec<&str> = java_hash_map_order(&keys)
            .into_iter()
            .map(|(i, _)| keys[i])
            .collect();
        assert_eq!(order, ["q", "a", "b"]);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        // Duplicates: first position, last value.
        assert_eq!(java_hash_map_order(&["x", "y", "x"]), vec![(0, 2), (1, 1)]);
        // 13 keys: the table grows to 32, so "a" (97 & 31 = 1) and "q"
        // (113 & 31 = 17) no longer share a bucket.
        let many: Vec<String> = (0..11).map(|i| format!("k{i}")).collect();
        let mut keys: Vec<&str> = vec!["q", "a"];
        keys.extend(many.iter().map(String::as_str));
        let order: Vec<&str> = java_hash_map_order(&keys)
            .into_iter()
            .map(|(i, _)| keys[i])
            .collect();
        let pos = |k: &str| order.iter().position(|x| *x == k).unwrap();
        assert!(pos("a") < pos("q"));
    }

    #[test]
    fn zigzag() {
        let enc = |v: i64| {
            let mut out = Vec::new();
            write_long(&mut out, v);
            out
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(-1), [1]);
        assert_eq!(enc(1), [2]);
        assert_eq!(enc(-64), [0x7f]);
        assert_eq!(enc(64), [0x80, 0x01]);
        assert_eq!(
            enc(i64::MIN),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }
}
