//! Kafka Connect's data model: schemas, positional structs and values.
//!
//! Schemas are immutable once built and shared through [`SchemaRef`] (an
//! `Arc`), so a table's schema is built once per table version and every row
//! points at it. A [`Struct`] stores its field values positionally, in the
//! order of its schema's fields; looking a field up by name is a linear scan
//! over the (short) field list and is meant for tests and transforms, not the
//! hot path.

use std::fmt;
use std::sync::Arc;

use num_bigint::BigInt;

pub use crate::text::Text;

/// Shared, immutable schema.
pub type SchemaRef = Arc<Schema>;

/// The physical types of Kafka Connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaType {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl SchemaType {
    /// The lower-case name Kafka uses in JSON schemas (`"int32"`, `"struct"`, …).
    pub fn name(self) -> &'static str {
        match self {
            SchemaType::Int8 => "int8",
            SchemaType::Int16 => "int16",
            SchemaType::Int32 => "int32",
            SchemaType::Int64 => "int64",
            SchemaType::Float32 => "float",
            SchemaType::Float64 => "double",
            SchemaType::Boolean => "boolean",
            SchemaType::String => "string",
            SchemaType::Bytes => "bytes",
            SchemaType::Array => "array",
            SchemaType::Map => "map",
            SchemaType::Struct => "struct",
        }
    }

    /// Parses the JSON-schema type name (inverse of [`SchemaType::name`]).
    pub fn from_name(name: &str) -> Option<SchemaType> {
        Some(match name {
            "int8" => SchemaType::Int8,
            "int16" => SchemaType::Int16,
            "int32" => SchemaType::Int32,
            "int64" => SchemaType::Int64,
            "float" => SchemaType::Float32,
            "double" => SchemaType::Float64,
            "boolean" => SchemaType::Boolean,
            "string" => SchemaType::String,
            "bytes" => SchemaType::Bytes,
            "array" => SchemaType::Array,
            "map" => SchemaType::Map,
            "struct" => SchemaType::Struct,
            _ => return None,
        })
    }

    /// True for the types that hold no other schema.
    pub fn is_primitive(self) -> bool {
        !matches!(
            self,
            SchemaType::Array | SchemaType::Map | SchemaType::Struct
        )
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A field of a struct schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub index: usize,
    pub schema: SchemaRef,
}

/// A Kafka Connect schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub schema_type: SchemaType,
    pub optional: bool,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    /// Parameters in insertion order (Kafka and Debezium render them in the
    /// order they were added).
    pub parameters: Vec<(String, String)>,
    pub default: Option<Value>,
    /// Fields of a struct schema, in order.
    pub fields: Vec<Field>,
    /// Key schema of a map.
    pub key_schema: Option<SchemaRef>,
    /// Value schema of a map, element schema of an array.
    pub value_schema: Option<SchemaRef>,
}

impl Schema {
    /// Field by name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Parameter by name.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when this schema carries the given logical/semantic name.
    pub fn is_named(&self, name: &str) -> bool {
        self.name.as_deref() == Some(name)
    }

    /// The array element schema / map value schema.
    pub fn value_schema(&self) -> Option<&SchemaRef> {
        self.value_schema.as_ref()
    }

    /// The map key schema.
    pub fn key_schema(&self) -> Option<&SchemaRef> {
        self.key_schema.as_ref()
    }

    /// Checks that `value` conforms to this schema (Kafka's
    /// `ConnectSchema.validateValue`). Returns a message naming the field
    /// path on failure.
    pub fn validate_value(&self, value: &Value) -> Result<(), String> {
        self.validate_at(value, "")
    }

    fn validate_at(&self, value: &Value, path: &str) -> Result<(), String> {
        let here = |what: String| {
            if path.is_empty() {
                what
            } else {
                format!("{what} (at field \"{path}\")")
            }
        };
        if value.is_null() {
            if self.optional || self.default.is_some() {
                return Ok(());
            }
            return Err(here(
                "null value for a required (non-optional) schema".into(),
            ));
        }
        let ok = match (self.schema_type, value) {
            (SchemaType::Int8, Value::Int8(_))
            | (SchemaType::Int16, Value::Int16(_))
            | (SchemaType::Int32, Value::Int32(_))
            | (SchemaType::Int64, Value::Int64(_))
            | (SchemaType::Float32, Value::Float32(_))
            | (SchemaType::Float64, Value::Float64(_))
            | (SchemaType::Boolean, Value::Boolean(_))
            | (SchemaType::String, Value::String(_))
            | (SchemaType::Bytes, Value::Bytes(_)) => true,
            (SchemaType::Bytes, Value::Decimal(_)) => self.is_named(logical::DECIMAL),
            (SchemaType::Array, Value::Array(items)) => {
                let item_schema = self
                    .value_schema
                    .as_ref()
                    .ok_or_else(|| here("array schema without item schema".into()))?;
                for (i, item) in items.iter().enumerate() {
                    item_schema.validate_at(item, &join_path(path, &i.to_string()))?;
                }
                true
            }
            (SchemaType::Map, Value::Map(entries)) => {
                let ks = self
                    .key_schema
                    .as_ref()
                    .ok_or_else(|| here("map schema without key schema".into()))?;
                let vs = self
                    .value_schema
                    .as_ref()
                    .ok_or_else(|| here("map schema without value schema".into()))?;
                for (k, v) in entries {
                    ks.validate_at(k, path)?;
                    vs.validate_at(v, path)?;
                }
                true
            }
            (SchemaType::Struct, Value::Struct(s)) => {
                if s.schema().as_ref() != self {
                    return Err(here("struct schema does not match".into()));
                }
                for (field, v) in self.fields.iter().zip(s.values()) {
                    field.schema.validate_at(v, &join_path(path, &field.name))?;
                }
                true
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(here(format!(
                "invalid value {} for schema type {}",
                value.type_name(),
                self.schema_type
            )))
        }
    }
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Builds a [`Schema`].
#[derive(Debug, Clone)]
pub struct SchemaBuilder {
    schema: Schema,
}

impl SchemaBuilder {
    pub fn new(schema_type: SchemaType) -> Self {
        SchemaBuilder {
            schema: Schema {
                schema_type,
                optional: false,
                name: None,
                version: None,
                doc: None,
                parameters: Vec::new(),
                default: None,
                fields: Vec::new(),
                key_schema: None,
                value_schema: None,
            },
        }
    }
    pub fn int8() -> Self {
        Self::new(SchemaType::Int8)
    }
    pub fn int16() -> Self {
        Self::new(SchemaType::Int16)
    }
    pub fn int32() -> Self {
        Self::new(SchemaType::Int32)
    }
    pub fn int64() -> Self {
        Self::new(SchemaType::Int64)
    }
    pub fn float32() -> Self {
        Self::new(SchemaType::Float32)
    }
    pub fn float64() -> Self {
        Self::new(SchemaType::Float64)
    }
    pub fn boolean() -> Self {
        Self::new(SchemaType::Boolean)
    }
    pub fn string() -> Self {
        Self::new(SchemaType::String)
    }
    pub fn bytes() -> Self {
        Self::new(SchemaType::Bytes)
    }
    pub fn struct_() -> Self {
        Self::new(SchemaType::Struct)
    }
    pub fn array(items: SchemaRef) -> Self {
        let mut b = Self::new(SchemaType::Array);
        b.schema.value_schema = Some(items);
        b
    }
    pub fn map(keys: SchemaRef, values: SchemaRef) -> Self {
        let mut b = Self::new(SchemaType::Map);
        b.schema.key_schema = Some(keys);
        b.schema.value_schema = Some(values);
        b
    }
    pub fn optional(mut self) -> Self {
        self.schema.optional = true;
        self
    }
    pub fn required(mut self) -> Self {
        self.schema.optional = false;
        self
    }
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.schema.name = Some(name.into());
        self
    }
    pub fn version(mut self, version: i32) -> Self {
        self.schema.version = Some(version);
        self
    }
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.schema.doc = Some(doc.into());
        self
    }
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        let value = value.into();
        if let Some(slot) = self.schema.parameters.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.schema.parameters.push((key, value));
        }
        self
    }
    pub fn default_value(mut self, value: Value) -> Self {
        self.schema.default = Some(value);
        self
    }
    /// Adds a struct field. Panics if the builder is not a struct or the
    /// field name is already used (a programming error, as in Kafka).
    pub fn field(mut self, name: impl Into<String>, schema: SchemaRef) -> Self {
        assert_eq!(
            self.schema.schema_type,
            SchemaType::Struct,
            "fields are only allowed on struct schemas"
        );
        let name = name.into();
        assert!(self.schema.field(&name).is_none(), "duplicate field {name}");
        let index = self.schema.fields.len();
        self.schema.fields.push(Field {
            name,
            index,
            schema,
        });
        self
    }
    pub fn build(self) -> SchemaRef {
        Arc::new(self.schema)
    }
    pub fn build_schema(self) -> Schema {
        self.schema
    }
}

/// Kafka Connect's logical types.
pub mod logical {
    use super::{SchemaBuilder, SchemaType};

    pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
    pub const DECIMAL_SCALE: &str = "scale";
    pub const DATE: &str = "org.apache.kafka.connect.data.Date";
    pub const TIME: &str = "org.apache.kafka.connect.data.Time";
    pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";

    /// `Decimal`: bytes holding the two's-complement big-endian unscaled value.
    pub fn decimal(scale: i32) -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Bytes)
            .name(DECIMAL)
            .version(1)
            .parameter(DECIMAL_SCALE, scale.to_string())
    }
    /// `Date`: int32 days since the Unix epoch.
    pub fn date() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Int32).name(DATE).version(1)
    }
    /// `Time`: int32 milliseconds since midnight.
    pub fn time() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Int32).name(TIME).version(1)
    }
    /// `Timestamp`: int64 milliseconds since the Unix epoch.
    pub fn timestamp() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Int64)
            .name(TIMESTAMP)
            .version(1)
    }
}

/// An arbitrary-precision decimal: `unscaled × 10^-scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    pub unscaled: BigInt,
    pub scale: i32,
}

impl Decimal {
    pub fn new(unscaled: impl Into<BigInt>, scale: i32) -> Self {
        Decimal {
            unscaled: unscaled.into(),
            scale,
        }
    }

    /// Parses a plain decimal literal such as `-12.340` (scale = digits after
    /// the point) or `1.5E+3`.
    pub fn parse(text: &str) -> Option<Decimal> {
        let text = text.trim();
        let (mantissa, exp) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        let (negative, int_digits) = match int_part.as_bytes().first() {
            Some(b'-') => (true, &int_part[1..]),
            Some(b'+') => (false, &int_part[1..]),
            _ => (false, int_part),
        };
        if int_digits.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_digits
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut digits = String::with_capacity(int_digits.len() + frac_part.len() + 1);
        if negative {
            digits.push('-');
        }
        digits.push_str(int_digits);
        digits.push_str(frac_part);
        if digits == "-" || digits.is_empty() {
            return None;
        }
        let unscaled: BigInt = digits.parse().ok()?;
        let scale = i32::try_from(frac_part.len()).ok()?.checked_sub(exp)?;
        Some(Decimal { unscaled, scale })
    }

    /// Two's-complement big-endian bytes of the unscaled value (what Kafka's
    /// `Decimal.fromLogical` produces: `BigInteger.toByteArray()`).
    pub fn unscaled_bytes(&self) -> Vec<u8> {
        self.unscaled.to_signed_bytes_be()
    }

    /// Inverse of [`Decimal::unscaled_bytes`].
    pub fn from_unscaled_bytes(bytes: &[u8], scale: i32) -> Decimal {
        Decimal {
            unscaled: BigInt::from_signed_bytes_be(bytes),
            scale,
        }
    }

    /// Plain (never scientific) rendering, like Java's
    /// `BigDecimal.toPlainString()`.
    pub fn to_plain_string(&self) -> String {
        let digits = self.unscaled.magnitude().to_string();
        let negative = self.unscaled.sign() == num_bigint::Sign::Minus;
        let mut out = String::with_capacity(digits.len() + 3);
        if negative {
            out.push('-');
        }
        if self.scale <= 0 {
            out.push_str(&digits);
            if digits != "0" {
                for _ in 0..(-self.scale) {
                    out.push('0');
                }
            }
        } else {
            let scale = self.scale as usize;
            if digits.len() > scale {
                let (int, frac) = digits.split_at(digits.len() - scale);
                out.push_str(int);
                out.push('.');
                out.push_str(frac);
            } else {
                out.push_str("0.");
                for _ in 0..(scale - digits.len()) {
                    out.push('0');
                }
                out.push_str(&digits);
            }
        }
        out
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_plain_string())
    }
}

/// A Kafka Connect value. Logical types other than Decimal use their
/// physical representation (Date is `Int32` days, Timestamp is `Int64` ms, …)
/// and are recognised by the schema name.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    String(Text),
    Bytes(Vec<u8>),
    Decimal(Decimal),
    Array(Vec<Value>),
    /// Map entries in insertion order.
    Map(Vec<(Value, Value)>),
    Struct(Struct),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Short name of the variant, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "boolean",
            Value::Int8(_) => "int8",
            Value::Int16(_) => "int16",
            Value::Int32(_) => "int32",
            Value::Int64(_) => "int64",
            Value::Float32(_) => "float32",
            Value::Float64(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Decimal(_) => "decimal",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Struct(_) => "struct",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int8(v) => Some(v.into()),
            Value::Int16(v) => Some(v.into()),
            Value::Int32(v) => Some(v.into()),
            Value::Int64(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// Rough heap + inline size in bytes, used for queue byte budgets. Cheap:
    /// it never formats anything.
    pub fn approx_size(&self) -> usize {
        const BASE: usize = std::mem::size_of::<Value>();
        match self {
            Value::String(s) => BASE + s.len(),
            Value::Bytes(b) => BASE + b.len(),
            Value::Decimal(d) => BASE + (d.unscaled.bits() as usize / 8) + 8,
            Value::Array(items) => BASE + items.iter().map(Value::approx_size).sum::<usize>(),
            Value::Map(entries) => {
                BASE + entries
                    .iter()
                    .map(|(k, v)| k.approx_size() + v.approx_size())
                    .sum::<usize>()
            }
            Value::Struct(s) => BASE + s.values().iter().map(Value::approx_size).sum::<usize>(),
            _ => BASE,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(Text::from(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Text::from(s))
    }
}
impl From<Text> for Value {
    fn from(s: Text) -> Self {
        Value::String(s)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int32(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int64(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
impl From<Struct> for Value {
    fn from(v: Struct) -> Self {
        Value::Struct(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A struct value: a schema and one value per field, by position.
///
/// The values are either owned or, after [`Struct::into_shared`], shared
/// behind a reference count: a struct that many records carry unchanged (a
/// snapshot's source block) is then cloned by a count increment, and
/// consumers can tell it is the very same as one they saw
/// ([`Struct::shares_values_with`]). Writing to a shared struct copies its
/// values first, so sharing is never visible through the API.
#[derive(Clone)]
pub struct Struct {
    schema: SchemaRef,
    values: Fields,
}

#[derive(Clone)]
enum Fields {
    Owned(Vec<Value>),
    Shared(Arc<[Value]>),
}

impl fmt::Debug for Struct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Struct")
            .field("schema", &self.schema)
            .field("values", &self.values())
            .finish()
    }
}

impl PartialEq for Struct {
    fn eq(&self, other: &Struct) -> bool {
        self.schema == other.schema && self.values() == other.values()
    }
}

impl Struct {
    /// A struct with every field null.
    pub fn new(schema: SchemaRef) -> Self {
        let values = vec![Value::Null; schema.fields.len()];
        Struct {
            schema,
            values: Fields::Owned(values),
        }
    }

    /// A struct from positional values. Panics if the count does not match
    /// the schema (a programming error).
    pub fn from_values(schema: SchemaRef, values: Vec<Value>) -> Self {
        assert_eq!(
            schema.fields.len(),
            values.len(),
            "value count must match the struct schema's field count"
        );
        Struct {
            schema,
            values: Fields::Owned(values),
        }
    }

    /// The same struct with its values shared: its clones share them too.
    pub fn into_shared(self) -> Self {
        let values = match self.values {
            Fields::Owned(v) => Fields::Shared(v.into()),
            shared @ Fields::Shared(_) => shared,
        };
        Struct {
            schema: self.schema,
            values,
        }
    }

    /// Whether `self` and `other` share their values (both are clones of
    /// one [`Struct::into_shared`] struct), which makes their values equal.
    /// `false` says nothing: owned values are never shared.
    pub fn shares_values_with(&self, other: &Struct) -> bool {
        match (&self.values, &other.values) {
            (Fields::Shared(a), Fields::Shared(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn values(&self) -> &[Value] {
        match &self.values {
            Fields::Owned(v) => v,
            Fields::Shared(v) => v,
        }
    }

    pub fn into_values(self) -> Vec<Value> {
        match self.values {
            Fields::Owned(v) => v,
            Fields::Shared(v) => v.to_vec(),
        }
    }

    /// The values, to change (copied first when shared).
    fn values_mut(&mut self) -> &mut Vec<Value> {
        if let Fields::Shared(v) = &self.values {
            self.values = Fields::Owned(v.to_vec());
        }
        match &mut self.values {
            Fields::Owned(v) => v,
            Fields::Shared(_) => unreachable!("made owned above"),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.schema.field(name).map(|f| &self.values()[f.index])
    }

    pub fn get_index(&self, index: usize) -> Option<&Value> {
        self.values().get(index)
    }

    /// Sets a field by name; errors when the schema has no such field.
    pub fn put(&mut self, name: &str, value: impl Into<Value>) -> Result<&mut Self, String> {
        let index = self
            .schema
            .field(name)
            .map(|f| f.index)
            .ok_or_else(|| format!("{name} is not a valid field name"))?;
        self.values_mut()[index] = value.into();
        Ok(self)
    }

    /// Builder-style [`Struct::put`] that panics on an unknown field name.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        if let Err(e) = self.put(name, value) {
            panic!("{e}");
        }
        self
    }

    pub fn put_index(&mut self, index: usize, value: Value) {
        self.values_mut()[index] = value;
    }

    /// Validates every field against the schema.
    pub fn validate(&self) -> Result<(), String> {
        self.schema.validate_value(&Value::Struct(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_structs_behave_like_owned_ones() {
        let schema = SchemaBuilder::struct_()
            .field("a", SchemaBuilder::int32().build())
            .field("b", SchemaBuilder::string().optional().build())
            .build();
        let owned = Struct::new(schema.clone())
            .with("a", Value::Int32(1))
            .with("b", Value::String("x".into()));
        let shared = owned.clone().into_shared();
        let copy = shared.clone();
        assert!(copy.shares_values_with(&shared));
        assert!(!owned.shares_values_with(&owned.clone()));
        assert!(!owned.shares_values_with(&shared));
        assert_eq!(shared, owned);
        assert_eq!(format!("{shared:?}"), format!("{owned:?}"));
        // Writing to a clone copies it: the others keep their values.
        let mut changed = copy.clone();
        changed.put("a", Value::Int32(2)).unwrap();
        assert!(!changed.shares_values_with(&shared));
        assert_eq!(changed.get("a"), Some(&Value::Int32(2)));
        assert_eq!(copy.get("a"), Some(&Value::Int32(1)));
        assert_eq!(shared.get("a"), Some(&Value::Int32(1)));
        assert_eq!(copy.clone().into_values(), owned.clone().into_values());
        let mut by_index = shared.clone();
        by_index.put_index(1, Value::Null);
        assert_eq!(by_index.get("b"), Some(&Value::Null));
        assert_eq!(shared.get("b"), Some(&Value::String("x".into())));
        assert_eq!(std::mem::size_of::<Value>(), 48);
    }

    #[test]
    fn decimal_round_trips_and_renders_plain() {
        let d = Decimal::parse("-12.340").unwrap();
        assert_eq!(d.scale, 3);
        assert_eq!(d.unscaled, BigInt::from(-12340));
        assert_eq!(d.to_plain_string(), "-12.340");
        assert_eq!(Decimal::parse("0.001").unwrap().to_plain_string(), "0.001");
        assert_eq!(Decimal::parse("1.5E+3").unwrap().to_plain_string(), "1500");
        assert_eq!(Decimal::new(0, 2).to_plain_string(), "0.00");
        assert_eq!(Decimal::new(-5, 3).to_plain_string(), "-0.005");
        assert!(Decimal::parse("abc").is_none());
        assert!(Decimal::parse("-").is_none());
        // Kafka: new BigDecimal("1.56").unscaledValue().toByteArray() == [0x00, 0x9c]
        assert_eq!(
            Decimal::parse("1.56").unwrap().unscaled_bytes(),
            vec![0x00, 0x9c]
        );
        assert_eq!(
            Decimal::from_unscaled_bytes(&[0xff, 0x64], 2).to_plain_string(),
            "-1.56"
        );
    }

    #[test]
    fn struct_is_positional_and_validates() {
        let schema = SchemaBuilder::struct_()
            .name("x.Value")
            .field("id", SchemaBuilder::int32().build())
            .field("name", SchemaBuilder::string().optional().build())
            .build();
        let s = Struct::new(schema.clone()).with("id", 7);
        assert_eq!(s.get("id"), Some(&Value::Int32(7)));
        assert_eq!(s.get_index(1), Some(&Value::Null));
        assert!(s.validate().is_ok());
        let bad = Struct::new(schema.clone());
        let err = bad.validate().unwrap_err();
        assert!(err.contains("\"id\""), "{err}");
        let mut wrong = Struct::new(schema);
        wrong.put_index(0, Value::String("no".into()));
        assert!(wrong.validate().unwrap_err().contains("int32"));
        assert!(Struct::new(SchemaBuilder::struct_().build())
            .put("nope", 1)
            .is_err());
    }
}
