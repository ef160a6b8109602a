//! Connect data → JSON bytes, written straight into the output buffer.
//!
//! Mirrors `JsonConverter.convertToJson` / `asJsonSchema` and Jackson's
//! compact output: no whitespace, object keys in insertion order, strings
//! escaped like Jackson's `UTF8JsonGenerator` (`"` `\` and the control
//! characters below U+0020; `\b \t \n \f \r` in short form, the others as
//! `\u00XX` with upper-case hex; everything else, including non-ASCII,
//! passes through as UTF-8), bytes as standard base64 with padding, floats
//! as `Double.toString`/`Float.toString`, non-finite floats as the strings
//! `"NaN"`, `"Infinity"`, `"-Infinity"` (Jackson's default
//! `WRITE_NAN_AS_STRINGS`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use sluice_connect_api::data::logical;
use sluice_connect_api::{Schema, SchemaRef, SchemaType, Struct, Value};

use super::path::{ConvError, ConvResult};
use super::Settings;
use crate::java;

/// For each byte: 0 = copy as is, b'u' = `\u00XX`, anything else = the
/// character after the backslash.
static ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Writes `s` as a quoted, escaped JSON string.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    // Sixteen bytes at a time (the test compiles to a few vector
    // instructions), then at most one word of eight: most strings need no
    // escaping at all, and a block that does is escaped byte by byte.
    while i + 16 <= bytes.len() {
        let block: &[u8; 16] = bytes[i..i + 16].try_into().expect("16 bytes");
        if block_needs_escape(block) {
            for j in i..i + 16 {
                escape_byte(out, bytes, &mut start, j);
            }
        }
        i += 16;
    }
    if i + 8 <= bytes.len() {
        let block: [u8; 8] = bytes[i..i + 8].try_into().expect("8 bytes");
        if may_need_escape(u64::from_le_bytes(block)) {
            for j in i..i + 8 {
                escape_byte(out, bytes, &mut start, j);
            }
        }
        i += 8;
    }
    // The tail: when the string is long enough, its last eight bytes as one
    // (overlapping) word usually show that nothing there needs escaping.
    let tail_clean = i < bytes.len() && bytes.len() >= 8 && {
        let block: [u8; 8] = bytes[bytes.len() - 8..].try_into().expect("8 bytes");
        !may_need_escape(u64::from_le_bytes(block))
    };
    if !tail_clean {
        for j in i..bytes.len() {
            escape_byte(out, bytes, &mut start, j);
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether any of the sixteen bytes is below 0x20, `"` or `\`. Written
/// without early exits so that it compiles to vector compares.
#[inline(always)]
fn block_needs_escape(block: &[u8; 16]) -> bool {
    let mut any = false;
    for &b in block {
        any |= (b < 0x20) | (b == b'"') | (b == b'\\');
    }
    any
}

/// Whether any byte of `w` is below 0x20, `"` or `\`.
#[inline(always)]
fn may_need_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    (below_space | has_zero(w ^ (ONES * u64::from(b'"'))) | has_zero(w ^ (ONES * u64::from(b'\\'))))
        != 0
}

#[inline(always)]
fn escape_byte(out: &mut Vec<u8>, bytes: &[u8], start: &mut usize, i: usize) {
    let b = bytes[i];
    let esc = ESCAPES[b as usize];
    if esc == 0 {
        return;
    }
    out.extend_from_slice(&bytes[*start..i]);
    if esc == b'u' {
        out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(b >> 4) as usize],
            HEX[(b & 0xF) as usize],
        ]);
    } else {
        out.extend_from_slice(&[b'\\', esc]);
    }
    *start = i + 1;
}

/// Writes `bytes` as a quoted base64 string (Jackson's default variant:
/// standard alphabet, padded, no line feeds).
pub(crate) fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() <= 48 {
        // Short values (decimals, small keys): three bytes at a time by
        // hand, without the engine's set-up.
        out.reserve(bytes.len().div_ceil(3) * 4 + 2);
        out.push(b'"');
        let mut chunks = bytes.chunks_exact(3);
        for c in chunks.by_ref() {
            let n = u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]);
            out.extend_from_slice(&base64_quad(n));
        }
        match *chunks.remainder() {
            [a] => {
                let q = base64_quad(u32::from(a) << 16);
                out.extend_from_slice(&[q[0], q[1], b'=', b'=']);
            }
            [a, b] => {
                let q = base64_quad(u32::from(a) << 16 | u32::from(b) << 8);
                out.extend_from_slice(&[q[0], q[1], q[2], b'=']);
            }
            _ => {}
        }
        out.push(b'"');
        return;
    }
    let engine = &base64::engine::general_purpose::STANDARD;
    let encoded_len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    out.push(b'"');
    let start = out.len();
    out.resize(start + encoded_len, 0);
    let written = engine.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// The four base64 characters of the 24 bits in `n`.
#[inline(always)]
fn base64_quad(n: u32) -> [u8; 4] {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    [
        ALPHABET[(n >> 18) as usize & 63],
        ALPHABET[(n >> 12) as usize & 63],
        ALPHABET[(n >> 6) as usize & 63],
        ALPHABET[n as usize & 63],
    ]
}

fn push_json_double(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        java::push_double(out, v);
    } else {
        out.push(b'"');
        java::push_double(out, v);
        out.push(b'"');
    }
}

fn push_json_float(out: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        java::push_float(out, v);
    } else {
        out.push(b'"');
        java::push_float(out, v);
        out.push(b'"');
    }
}

/// Writes a value of a scalar type that matches `schema_type` (true), or
/// nothing (false: null, a mismatch, or not a scalar). Decimals are the
/// caller's: they are `Bytes` schemas with their own values.
#[inline(always)]
fn write_scalar(out: &mut Vec<u8>, schema_type: SchemaType, value: &Value) -> bool {
    match (schema_type, value) {
        (SchemaType::Int8, Value::Int8(v)) => java::push_i64(out, i64::from(*v)),
        (SchemaType::Int16, Value::Int16(v)) => java::push_i64(out, i64::from(*v)),
        (SchemaType::Int32, Value::Int32(v)) => java::push_i64(out, i64::from(*v)),
        (SchemaType::Int64, Value::Int64(v)) => java::push_i64(out, *v),
        (SchemaType::Float32, Value::Float32(v)) => push_json_float(out, *v),
        (SchemaType::Float64, Value::Float64(v)) => push_json_double(out, *v),
        (SchemaType::Boolean, Value::Boolean(v)) => {
            out.extend_from_slice(if *v { b"true" } else { b"false" })
        }
        (SchemaType::String, Value::String(s)) => push_str(out, s),
        (SchemaType::Bytes, Value::Bytes(b)) => push_base64(out, b),
        _ => return false,
    }
    true
}

/// The `scale` parameter of a Decimal schema.
pub(crate) fn decimal_scale(schema: &Schema) -> Result<i32, String> {
    let text = schema
        .parameter(logical::DECIMAL_SCALE)
        .ok_or_else(|| "Invalid Decimal schema: scale parameter not found.".to_string())?;
    // The usual scale: one digit.
    if let [d @ b'0'..=b'9'] = *text.as_bytes() {
        return Ok(i32::from(d - b'0'));
    }
    text.trim()
        .parse::<i32>()
        .map_err(|_| format!("Invalid Decimal schema: scale parameter {text:?} is not an integer"))
}

/// A default that is `Some(Value::Null)` means "no default", as in Kafka
/// where a null default is indistinguishable from none.
pub(crate) fn default_of(schema: &Schema) -> Option<&Value> {
    schema.default.as_ref().filter(|d| !d.is_null())
}

/// True when two struct schemas are the same apart from their defaults: a
/// struct default value cannot point at the schema that contains it (that
/// would be a reference cycle), so a default struct built from JSON points
/// at the otherwise identical schema without the default.
fn same_except_default(a: &Schema, b: &Schema) -> bool {
    a.schema_type == b.schema_type
        && a.optional == b.optional
        && a.name == b.name
        && a.version == b.version
        && a.doc == b.doc
        && a.parameters == b.parameters
        && a.fields == b.fields
        && a.key_schema == b.key_schema
        && a.value_schema == b.value_schema
}

/// The object keys of a struct schema, escaped once: `"name":` for the
/// first field, `,"name":` for the others, and the same for nested struct
/// fields. Built per schema and cached with its schema JSON, so a record
/// copies its keys instead of escaping every field name again.
///
/// A nested struct's plan also remembers the last value written there and
/// its bytes ([`StructMemo`]): a source block that is the same record after
/// record (a snapshot's) is then compared instead of rendered again.
#[derive(Debug)]
pub(crate) struct KeyPlan {
    keys: Vec<PlanKey>,
    children: Vec<Option<KeyPlan>>,
    /// `None` for the top-level struct (a record's own value changes every
    /// time).
    memo: Option<StructMemo>,
}

/// Consecutive misses after which a memo rests, and for how many values.
const MEMO_MAX_MISSES: u32 = 8;
const MEMO_REST: u32 = 512;

/// The last values of one nested struct field and the JSON written for
/// them. A hit needs every value to be the same, strictly (floats by their
/// bits: `-0.0` and `0.0` are written differently; nested structs by
/// schema identity), so the output is byte for byte what writing the value
/// gives. A field whose values keep changing stops being compared for a
/// while after [`MEMO_MAX_MISSES`] misses in a row, so it costs next to
/// nothing; it is tried again after [`MEMO_REST`] values.
#[derive(Debug, Default)]
struct StructMemo {
    /// Values to skip before comparing again (a heuristic: threads sharing
    /// the plan may race on it harmlessly).
    rest: AtomicU32,
    last: Mutex<MemoEntry>,
}

#[derive(Debug, Default)]
struct MemoEntry {
    /// `None` until a value was written (or after a write failed). A
    /// clone: for a shared struct ([`Struct::into_shared`]) that keeps its
    /// values alive and unchanged, and the next clone of it is recognized
    /// without comparing.
    value: Option<Struct>,
    bytes: Vec<u8>,
    misses: u32,
}

/// Whether `a` and `b` are written as the same JSON under one schema.
fn same_values(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Boolean(x), Value::Boolean(y)) => x == y,
        (Value::Int8(x), Value::Int8(y)) => x == y,
        (Value::Int16(x), Value::Int16(y)) => x == y,
        (Value::Int32(x), Value::Int32(y)) => x == y,
        (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float32(x), Value::Float32(y)) => x.to_bits() == y.to_bits(),
        (Value::Float64(x), Value::Float64(y)) => x.to_bits() == y.to_bits(),
        (Value::String(x), Value::String(y)) => x.as_str() == y.as_str(),
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::Decimal(x), Value::Decimal(y)) => x.scale == y.scale && x.unscaled == y.unscaled,
        (Value::Array(x), Value::Array(y)) => same_values(x, y),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((xk, xv), (yk, yv))| same_value(xk, yk) && same_value(xv, yv))
        }
        (Value::Struct(x), Value::Struct(y)) => {
            Arc::ptr_eq(x.schema(), y.schema()) && same_values(x.values(), y.values())
        }
        _ => false,
    }
}

/// Bytes of a key stored inline, padded: such a key is written with one
/// fixed-size copy (a couple of wide stores) instead of a `memcpy` call.
const INLINE_KEY: usize = 32;

#[derive(Debug)]
enum PlanKey {
    Inline([u8; INLINE_KEY], u8),
    Long(Box<[u8]>),
}

impl PlanKey {
    fn new(bytes: Vec<u8>) -> PlanKey {
        if bytes.len() <= INLINE_KEY {
            let mut padded = [0u8; INLINE_KEY];
            padded[..bytes.len()].copy_from_slice(&bytes);
            PlanKey::Inline(padded, bytes.len() as u8)
        } else {
            PlanKey::Long(bytes.into_boxed_slice())
        }
    }

    #[inline(always)]
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            PlanKey::Inline(padded, len) => {
                let end = out.len() + usize::from(*len);
                out.extend_from_slice(padded);
                out.truncate(end);
            }
            PlanKey::Long(bytes) => out.extend_from_slice(bytes),
        }
    }
}

impl KeyPlan {
    /// The plan of a struct schema (`None` for other schemas).
    pub(crate) fn build(schema: &Schema) -> Option<KeyPlan> {
        Self::build_at(schema, false)
    }

    fn build_at(schema: &Schema, nested: bool) -> Option<KeyPlan> {
        if schema.schema_type != SchemaType::Struct {
            return None;
        }
        let mut keys = Vec::with_capacity(schema.fields.len());
        let mut children = Vec::with_capacity(schema.fields.len());
        for (i, field) in schema.fields.iter().enumerate() {
            let mut key = Vec::with_capacity(field.name.len() + 4);
            if i > 0 {
                key.push(b',');
            }
            push_str(&mut key, &field.name);
            key.push(b':');
            keys.push(PlanKey::new(key));
            children.push(KeyPlan::build_at(&field.schema, true));
        }
        Some(KeyPlan {
            keys,
            children,
            memo: nested.then(StructMemo::default),
        })
    }
}

pub(crate) struct Writer<'a> {
    pub(crate) settings: &'a Settings,
}

impl Writer<'_> {
    /// `asJsonSchema`: the schema object, with `"field": name` appended for
    /// struct fields. Key order is Kafka's: type, items | keys+values |
    /// fields, optional, name, version, doc, parameters, default, field.
    pub(crate) fn write_schema(
        &self,
        out: &mut Vec<u8>,
        schema: &SchemaRef,
        field: Option<&str>,
    ) -> ConvResult {
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(schema.schema_type.name().as_bytes());
        out.push(b'"');
        match schema.schema_type {
            SchemaType::Array => {
                out.extend_from_slice(b",\"items\":");
                let items = schema
                    .value_schema
                    .as_ref()
                    .ok_or_else(|| ConvError::new("array schema has no element schema"))?;
                self.write_schema(out, items, None)
                    .map_err(|e| e.in_items())?;
            }
            SchemaType::Map => {
                let keys = schema
                    .key_schema
                    .as_ref()
                    .ok_or_else(|| ConvError::new("map schema has no key schema"))?;
                let values = schema
                    .value_schema
                    .as_ref()
                    .ok_or_else(|| ConvError::new("map schema has no value schema"))?;
                out.extend_from_slice(b",\"keys\":");
                self.write_schema(out, keys, None)
                    .map_err(|e| e.in_map_keys())?;
                out.extend_from_slice(b",\"values\":");
                self.write_schema(out, values, None)
                    .map_err(|e| e.in_map_values())?;
            }
            SchemaType::Struct => {
                out.extend_from_slice(b",\"fields\":[");
                for (i, f) in schema.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_schema(out, &f.schema, Some(&f.name))
                        .map_err(|e| e.in_field(&f.name))?;
                }
                out.push(b']');
            }
            _ => {}
        }
        out.extend_from_slice(if schema.optional {
            b",\"optional\":true"
        } else {
            b",\"optional\":false"
        });
        if let Some(name) = &schema.name {
            out.extend_from_slice(b",\"name\":");
            push_str(out, name);
        }
        if let Some(version) = schema.version {
            out.extend_from_slice(b",\"version\":");
            java::push_i64(out, i64::from(version));
        }
        if let Some(doc) = &schema.doc {
            out.extend_from_slice(b",\"doc\":");
            push_str(out, doc);
        }
        if !schema.parameters.is_empty() {
            out.extend_from_slice(b",\"parameters\":{");
            for (i, (k, v)) in schema.parameters.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_str(out, k);
                out.push(b':');
                push_str(out, v);
            }
            out.push(b'}');
        }
        if let Some(default) = default_of(schema) {
            out.extend_from_slice(b",\"default\":");
            self.write_default(out, schema, default)
                .map_err(|e| e.in_default())?;
        }
        if let Some(field) = field {
            out.extend_from_slice(b",\"field\":");
            push_str(out, field);
        }
        out.push(b'}');
        Ok(())
    }

    /// `convertToJson(schema, value)`.
    /// `plan`: the pre-rendered object keys of `schema` (from the
    /// converter's schema cache), or `None` to escape names as it goes.
    pub(crate) fn write_value(
        &self,
        out: &mut Vec<u8>,
        schema: Option<&SchemaRef>,
        value: &Value,
        plan: Option<&KeyPlan>,
    ) -> ConvResult {
        match schema {
            Some(schema) => self.write_with_schema(out, schema, value, false, plan),
            None => self.write_schemaless(out, value),
        }
    }

    fn write_default(&self, out: &mut Vec<u8>, schema: &SchemaRef, default: &Value) -> ConvResult {
        self.write_with_schema(out, schema, default, true, None)
    }

    fn write_with_schema(
        &self,
        out: &mut Vec<u8>,
        schema: &SchemaRef,
        value: &Value,
        is_default: bool,
        plan: Option<&KeyPlan>,
    ) -> ConvResult {
        if value.is_null() {
            if self.settings.replace_null_with_default {
                if let Some(default) = default_of(schema) {
                    return self.write_default(out, schema, default);
                }
            }
            if schema.optional {
                out.extend_from_slice(b"null");
                return Ok(());
            }
            return Err(ConvError::new(format!(
                "null value for a required {} field with no default value",
                schema.schema_type
            )));
        }
        if schema.is_named(logical::DECIMAL) {
            let Value::Decimal(d) = value else {
                return Err(ConvError::new(format!(
                    "invalid value for a Decimal schema: expected a decimal, got a value of type {}",
                    value.type_name()
                )));
            };
            if self.settings.decimal_numeric {
                java::push_big_decimal(out, d);
            } else {
                let scale = decimal_scale(schema).map_err(ConvError::new)?;
                if d.scale != scale {
                    return Err(ConvError::new(format!(
                        "decimal has scale {} but its Decimal schema has scale {scale}",
                        d.scale
                    )));
                }
                push_decimal_base64(out, d);
            }
            return Ok(());
        }
        if write_scalar(out, schema.schema_type, value) {
            return Ok(());
        }
        match (schema.schema_type, value) {
            (SchemaType::Array, Value::Array(items)) => {
                let item_schema = schema
                    .value_schema
                    .as_ref()
                    .ok_or_else(|| ConvError::new("array schema has no element schema"))?;
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_with_schema(out, item_schema, item, false, None)
                        .map_err(|e| e.in_index(i))?;
                }
                out.push(b']');
            }
            (SchemaType::Map, Value::Map(entries)) => {
                let key_schema = schema
                    .key_schema
                    .as_ref()
                    .ok_or_else(|| ConvError::new("map schema has no key schema"))?;
                let value_schema = schema
                    .value_schema
                    .as_ref()
                    .ok_or_else(|| ConvError::new("map schema has no value schema"))?;
                if key_schema.schema_type == SchemaType::String {
                    out.push(b'{');
                    for (i, (k, v)) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        self.write_object_key(out, key_schema, k)
                            .map_err(|e| e.in_map_key(i))?;
                        out.push(b':');
                        self.write_with_schema(out, value_schema, v, false, None)
                            .map_err(|e| e.in_map_value(k, i))?;
                    }
                    out.push(b'}');
                } else {
                    out.push(b'[');
                    for (i, (k, v)) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        out.push(b'[');
                        self.write_with_schema(out, key_schema, k, false, None)
                            .map_err(|e| e.in_map_key(i))?;
                        out.push(b',');
                        self.write_with_schema(out, value_schema, v, false, None)
                            .map_err(|e| e.in_map_value(k, i))?;
                        out.push(b']');
                    }
                    out.push(b']');
                }
            }
            (SchemaType::Struct, Value::Struct(st)) => {
                // Kafka requires `struct.schema().equals(schema)`. Sources
                // normally build values with the very same `Arc`, so the
                // pointer comparison is the hot path; the deep comparison
                // only runs for values built from an equal copy.
                let matches = Arc::ptr_eq(st.schema(), schema)
                    || **st.schema() == **schema
                    || (is_default && same_except_default(st.schema(), schema));
                if !matches {
                    return Err(ConvError::new(format!(
                        "mismatching schema: the struct value's schema ({}) is not the field's schema ({})",
                        describe(st.schema()),
                        describe(schema)
                    )));
                }
                self.write_struct(out, schema, st, plan)?;
            }
            (expected, actual) => {
                return Err(ConvError::new(format!(
                    "invalid value for a {expected} schema: got a value of type {}",
                    actual.type_name()
                )));
            }
        }
        Ok(())
    }

    /// A struct value, through its plan's memo when it has one.
    fn write_struct(
        &self,
        out: &mut Vec<u8>,
        schema: &Schema,
        st: &Struct,
        plan: Option<&KeyPlan>,
    ) -> ConvResult {
        let Some(memo) = plan
            .filter(|p| p.keys.len() == schema.fields.len())
            .and_then(|p| p.memo.as_ref())
        else {
            return self.write_struct_fields(out, schema, st.values(), plan);
        };
        let rest = memo.rest.load(Ordering::Relaxed);
        if rest > 0 {
            memo.rest.store(rest - 1, Ordering::Relaxed);
            return self.write_struct_fields(out, schema, st.values(), plan);
        }
        // Another thread writing with this plan right now: no memo.
        let Ok(mut last) = memo.last.try_lock() else {
            return self.write_struct_fields(out, schema, st.values(), plan);
        };
        let entry = &mut *last;
        let hit = entry.value.as_ref().is_some_and(|kept| {
            kept.shares_values_with(st) || same_values(kept.values(), st.values())
        });
        if hit {
            entry.misses = 0;
            out.extend_from_slice(&entry.bytes);
            return Ok(());
        }
        let start = out.len();
        let written = self.write_struct_fields(out, schema, st.values(), plan);
        entry.value = written.is_ok().then(|| st.clone());
        entry.bytes.clear();
        entry.bytes.extend_from_slice(&out[start..]);
        entry.misses += 1;
        if entry.misses >= MEMO_MAX_MISSES {
            entry.misses = 0;
            memo.rest.store(MEMO_REST, Ordering::Relaxed);
        }
        written
    }

    fn write_struct_fields(
        &self,
        out: &mut Vec<u8>,
        schema: &Schema,
        values: &[Value],
        plan: Option<&KeyPlan>,
    ) -> ConvResult {
        out.push(b'{');
        let plan = plan.filter(|p| p.keys.len() == schema.fields.len());
        for (i, (field, v)) in schema.fields.iter().zip(values).enumerate() {
            let child = match plan {
                Some(p) => {
                    p.keys[i].write(out);
                    p.children[i].as_ref()
                }
                None => {
                    if i > 0 {
                        out.push(b',');
                    }
                    push_str(out, &field.name);
                    out.push(b':');
                    None
                }
            };
            // Scalars are written here, without the general path's call:
            // for them (present, not under the `Decimal` name)
            // `write_with_schema` comes to the same `write_scalar`.
            let schema = &field.schema;
            if schema.is_named(logical::DECIMAL) || !write_scalar(out, schema.schema_type, v) {
                self.write_with_schema(out, schema, v, false, child)
                    .map_err(|e| e.in_field(&field.name))?;
            }
        }
        out.push(b'}');
        Ok(())
    }

    /// A string-keyed map's key, as Jackson's `mapKey.asText()`: the string
    /// itself, or `null` for a null key.
    fn write_object_key(
        &self,
        out: &mut Vec<u8>,
        key_schema: &SchemaRef,
        key: &Value,
    ) -> ConvResult {
        match key {
            Value::String(s) => push_str(out, s),
            Value::Null => {
                match default_of(key_schema).filter(|_| self.settings.replace_null_with_default) {
                    Some(Value::String(s)) => push_str(out, s),
                    Some(other) => {
                        return Err(ConvError::new(format!(
                            "invalid default for a string map key: got a value of type {}",
                            other.type_name()
                        )))
                    }
                    None if key_schema.optional => push_str(out, "null"),
                    None => {
                        return Err(ConvError::new(
                            "null map key for a required string key schema",
                        ))
                    }
                }
            }
            other => {
                return Err(ConvError::new(format!(
                    "invalid type for string: got a {} value",
                    other.type_name()
                )));
            }
        }
        Ok(())
    }

    /// Schemaless values: rendered by their own type (Kafka:
    /// `ConnectSchema.schemaType(value.getClass())`).
    fn write_schemaless(&self, out: &mut Vec<u8>, value: &Value) -> ConvResult {
        match value {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Boolean(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
            Value::Int8(v) => java::push_i64(out, i64::from(*v)),
            Value::Int16(v) => java::push_i64(out, i64::from(*v)),
            Value::Int32(v) => java::push_i64(out, i64::from(*v)),
            Value::Int64(v) => java::push_i64(out, *v),
            Value::Float32(v) => push_json_float(out, *v),
            Value::Float64(v) => push_json_double(out, *v),
            Value::String(s) => push_str(out, s),
            Value::Bytes(b) => push_base64(out, b),
            Value::Decimal(_) => {
                // As Kafka: BigDecimal has no schema type of its own; without
                // a Decimal schema its scale cannot be carried.
                return Err(ConvError::new("a decimal value needs a Decimal schema; it cannot be converted without a schema"));
            }
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_schemaless(out, item)
                        .map_err(|e| e.in_index(i))?;
                }
                out.push(b']');
            }
            Value::Map(entries) => {
                let object_mode = entries.iter().all(|(k, _)| matches!(k, Value::String(_)));
                if object_mode {
                    out.push(b'{');
                    for (i, (k, v)) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        push_str(out, k.as_str().unwrap_or_default());
                        out.push(b':');
                        self.write_schemaless(out, v)
                            .map_err(|e| e.in_map_value(k, i))?;
                    }
                    out.push(b'}');
                } else {
                    out.push(b'[');
                    for (i, (k, v)) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        out.push(b'[');
                        self.write_schemaless(out, k).map_err(|e| e.in_map_key(i))?;
                        out.push(b',');
                        self.write_schemaless(out, v)
                            .map_err(|e| e.in_map_value(k, i))?;
                        out.push(b']');
                    }
                    out.push(b']');
                }
            }
            // Deviation from Kafka (which fails with "Mismatching schema."):
            // a struct always carries its own schema, so render it with that.
            Value::Struct(st) => self.write_struct_fields(out, st.schema(), st.values(), None)?,
        }
        Ok(())
    }
}

/// Base64 of the two's-complement big-endian unscaled value (Kafka's
/// `Decimal.fromLogical` = `BigInteger.toByteArray()`), without a heap
/// allocation when the unscaled value fits in 128 bits.
fn push_decimal_base64(out: &mut Vec<u8>, d: &sluice_connect_api::Decimal) {
    // Unscaled values up to 64 bits (nearly all of them) skip the
    // allocation of `to_signed_bytes_be`.
    let mut digits = d.unscaled.iter_u64_digits();
    if digits.len() <= 1 {
        let magnitude = i128::from(digits.next().unwrap_or(0));
        let v = if d.unscaled.sign() == num_bigint::Sign::Minus {
            -magnitude
        } else {
            magnitude
        };
        // `BigInteger.toByteArray()`: the fewest bytes whose top bit still
        // carries the sign (at least one).
        let significant = if v < 0 {
            128 - v.leading_ones()
        } else {
            128 - v.leading_zeros()
        };
        let len = (significant as usize + 1).div_ceil(8).max(1);
        let bytes = v.to_be_bytes();
        push_base64(out, &bytes[16 - len..]);
        return;
    }
    push_base64(out, &d.unscaled_bytes());
}

fn describe(schema: &Schema) -> String {
    match &schema.name {
        Some(name) => format!("struct {name}"),
        None => format!("unnamed struct with {} fields", schema.fields.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_connect_api::Decimal;

    fn esc(s: &str) -> String {
        let mut out = Vec::new();
        push_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_like_jackson() {
        assert_eq!(esc("plain"), "\"plain\"");
        assert_eq!(esc("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(esc("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(esc("\u{0}\u{1}\u{1f}"), r#""\u0000\u0001\u001F""#);
        // DEL, '/', non-ASCII and U+2028 pass through.
        assert_eq!(esc("\u{7f}/é€😀\u{2028}"), "\"\u{7f}/é€😀\u{2028}\"");
    }

    /// The per-byte definition the block scan must agree with.
    fn esc_reference(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn block_scan_agrees_with_per_byte_escaping_at_every_position() {
        // Every ASCII byte, and a few multi-byte characters, at every offset
        // of strings long enough to cover whole blocks and tails.
        let mut specials: Vec<char> = (0u8..0x80).map(char::from).collect();
        specials.extend(['é', '€', '😀', '\u{2028}', '\u{ff}']);
        for len in 0..44 {
            for pos in 0..len.max(1) {
                for &c in &specials {
                    let s: String = (0..len).map(|i| if i == pos { c } else { 'x' }).collect();
                    assert_eq!(esc(&s), esc_reference(&s), "{s:?}");
                }
            }
        }
        let mixed = "ab\"cd\\ef\n\u{1}ghijklmnop\u{7f}qrs\ttu€vwxyz\"";
        assert_eq!(esc(mixed), esc_reference(mixed));
    }

    #[test]
    fn base64_matches_the_standard_engine_at_every_length() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for len in 0..120 {
            for _ in 0..8 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect();
                let mut ours = Vec::new();
                push_base64(&mut ours, &bytes);
                let expected = format!(
                    "\"{}\"",
                    base64::engine::general_purpose::STANDARD.encode(&bytes)
                );
                assert_eq!(String::from_utf8(ours).unwrap(), expected, "{bytes:?}");
            }
        }
    }

    #[test]
    fn decimal_bytes_match_big_integer_to_byte_array() {
        for (unscaled, scale) in [
            (0i128, 0),
            (156, 2),
            (-156, 2),
            (127, 0),
            (128, 0),
            (-128, 0),
            (-129, 0),
            (255, 0),
            (-1, 0),
            (32767, 0),
            (32768, 0),
            (-32768, 0),
            (-32769, 0),
            (i64::MAX.into(), 3),
            (i64::MIN.into(), 3),
            ((i64::MIN + 1).into(), 3),
            (1 << 55, 1),
            (-(1 << 55), 1),
            ((1 << 55) - 1, 1),
            (i128::from(u64::MAX), 2),
            (-i128::from(u64::MAX), 2),
            (1 << 64, 2),
            (-(1 << 64), 2),
            (i128::MAX, 0),
            (i128::MIN, 0),
        ] {
            let d = Decimal::new(unscaled, scale);
            let mut fast = Vec::new();
            push_decimal_base64(&mut fast, &d);
            let mut slow = Vec::new();
            push_base64(&mut slow, &d.unscaled_bytes());
            assert_eq!(fast, slow, "{unscaled}");
            // Java's `BigInteger.toByteArray()` of the same value.
            let mut java = unscaled.to_be_bytes().to_vec();
            while java.len() > 1
                && ((java[0] == 0 && java[1] & 0x80 == 0)
                    || (java[0] == 0xFF && java[1] & 0x80 != 0))
            {
                java.remove(0);
            }
            let mut expected = Vec::new();
            push_base64(&mut expected, &java);
            assert_eq!(fast, expected, "{unscaled}");
        }
    }
}
