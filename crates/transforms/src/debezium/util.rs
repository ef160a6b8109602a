//! Helpers shared by the Debezium transforms: schema copies with Kafka's
//! `SchemaUtil` semantics, small bounded caches keyed by schema pointers,
//! Java-compatible regex routing, Debezium's schema-name adjusters and
//! configuration parsing.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex};

use sluice_connect_api::{Header, Schema, SchemaBuilder, SchemaRef, SchemaType, Value};

use crate::common::copy_basics;
use crate::kafka::java::{JavaRegex, Replacement};

/// Debezium's envelope schemas are named `<topic>.Envelope`
/// (`Envelope.isEnvelopeSchema`).
pub(crate) const ENVELOPE_SUFFIX: &str = ".Envelope";

/// True when the record's value schema is a Debezium change-event envelope.
pub(crate) fn is_envelope(schema: Option<&SchemaRef>) -> bool {
    schema
        .and_then(|s| s.name.as_deref())
        .is_some_and(|n| n.ends_with(ENVELOPE_SUFFIX))
}

/// Kafka's `SchemaUtil.copySchemaBasics(source, SchemaBuilder.struct())`:
/// a struct builder with the source's name, version, doc and parameters —
/// not its optionality, default or fields.
pub(crate) fn struct_basics(source: &Schema) -> Schema {
    copy_basics(source, SchemaType::Struct)
}

/// `SchemaUtil.copySchemaBasics(schema).optional().build()`: the same type,
/// name, version, doc and parameters, optional, without a default. (Kafka
/// leaves a copied struct without fields; sluice keeps them so that the
/// value stays valid.)
pub(crate) fn optional_copy(source: &Schema) -> SchemaRef {
    let mut s = source.clone();
    s.optional = true;
    s.default = None;
    Arc::new(s)
}

/// Moves a value out, leaving null (`Value` has no `Default`).
#[inline]
pub(crate) fn take(v: &mut Value) -> Value {
    std::mem::replace(v, Value::Null)
}

/// The optional string schema (`Schema.OPTIONAL_STRING_SCHEMA`).
pub(crate) fn optional_string() -> SchemaRef {
    SchemaBuilder::string().optional().build()
}

/// A fast hasher for pointer-sized keys and short strings (FxHash's
/// rotate-multiply): the caches below are hit once per record.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

/// The address of a shared schema, as a cache key. Entries keep a clone of
/// the `Arc` they were computed from, so an address is never reused while
/// its entry lives.
#[inline]
pub(crate) fn ptr(schema: &SchemaRef) -> usize {
    Arc::as_ptr(schema) as usize
}

/// A small bounded cache shared by the records of one task: a mutex (never
/// contended in practice: one transform instance per task) around a hash
/// map that is cleared when full. Values carry whatever they need to pin
/// the schemas whose addresses are in the key.
pub(crate) struct Cache<K, V> {
    capacity: usize,
    map: Mutex<HashMap<K, V, FxBuild>>,
}

impl<K: Hash + Eq, V: Clone> Cache<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Cache {
            capacity: capacity.max(1),
            map: Mutex::new(HashMap::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, V, FxBuild>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached value for `key`, if any.
    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().get(key).cloned()
    }

    /// Publishes a value computed outside the lock.
    pub(crate) fn insert(&self, key: K, value: V) {
        let mut map = self.lock();
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(key, value);
    }

    /// The cached value, or `make`'s (which runs without the lock held).
    #[inline]
    pub(crate) fn get_or_try<E>(
        &self,
        key: K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let v = make()?;
        self.insert(key, v.clone());
        Ok(v)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Structurally equal schemas share one `Arc`, so that inferred schemas
/// (JSON payloads) hit the converters' per-schema caches like table
/// schemas do. Bounded; comparisons are structural, so only small
/// inferred schemas should go through it.
pub(crate) struct Interner {
    capacity: usize,
    schemas: Mutex<Vec<SchemaRef>>,
}

impl Interner {
    pub(crate) fn new(capacity: usize) -> Self {
        Interner {
            capacity: capacity.max(1),
            schemas: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn intern(&self, schema: SchemaRef) -> SchemaRef {
        let mut known = self.schemas.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = known.iter().position(|s| **s == *schema) {
            let found = known[i].clone();
            // Move to the front: recently used schemas are found first.
            if i > 0 {
                let s = known.remove(i);
                known.insert(0, s);
            }
            return found;
        }
        if known.len() >= self.capacity {
            known.pop();
        }
        known.insert(0, schema.clone());
        schema
    }
}

/// A `java.util.regex` routing rule as Kafka's RegexRouter and Debezium's
/// routers apply it: the input must match the whole pattern
/// (`Matcher.matches()`), then `replaceFirst(replacement)` with Java's
/// replacement syntax (`$n`, `${name}`, `\` escapes).
#[derive(Debug, Clone)]
pub(crate) struct JavaRegexReplace {
    regex: JavaRegex,
    replacement: Replacement,
}

impl JavaRegexReplace {
    pub(crate) fn new(pattern: &str, replacement: &str) -> Result<Self, String> {
        let regex = JavaRegex::compile(pattern)?;
        let replacement = regex.replacement(replacement)?;
        Ok(JavaRegexReplace { regex, replacement })
    }

    /// The replaced string when `input` matches the whole pattern, else
    /// `None`.
    pub(crate) fn apply(&self, input: &str) -> Option<String> {
        self.regex
            .matches(input)
            .then(|| self.regex.replace_first(input, &self.replacement))
    }
}

/// Debezium's `schema.name.adjustment.mode` / `field.name.adjustment.mode`
/// (`SchemaNameAdjuster`): `none`, `avro` (invalid characters become `_`,
/// a leading digit is kept after the `_`), `avro_unicode` (`_uXXXX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameAdjustment {
    #[default]
    None,
    Avro,
    AvroUnicode,
}

impl NameAdjustment {
    pub fn parse(mode: Option<&str>) -> NameAdjustment {
        match mode.map(|m| m.trim().to_ascii_lowercase()).as_deref() {
            Some("avro") => NameAdjustment::Avro,
            Some("avro_unicode") => NameAdjustment::AvroUnicode,
            _ => NameAdjustment::None,
        }
    }

    fn adjust(self, name: &str, dots: bool) -> String {
        if self == NameAdjustment::None || name.is_empty() {
            return name.to_string();
        }
        let first_ok = |c: char| c == '_' || c.is_ascii_alphabetic();
        let mut out = String::with_capacity(name.len() + 4);
        for (i, c) in name.chars().enumerate() {
            let ok = if i == 0 {
                first_ok(c)
            } else {
                first_ok(c) || c.is_ascii_digit() || (dots && c == '.')
            };
            if ok {
                out.push(c);
            } else if self == NameAdjustment::AvroUnicode {
                out.push_str(&format!("_u{:04x}", c as u32));
            } else {
                out.push('_');
                if i == 0 && c.is_ascii_digit() {
                    out.push(c);
                }
            }
        }
        out
    }

    /// A schema (full) name: dots are kept.
    pub fn schema_name(self, name: &str) -> String {
        self.adjust(name, true)
    }

    /// A field name.
    pub fn field_name(self, name: &str) -> String {
        self.adjust(name, false)
    }
}

/// A string header (`Headers.addString`).
pub(crate) fn string_header(key: impl Into<String>, value: &str) -> Header {
    Header {
        key: key.into(),
        schema: Some(SchemaBuilder::string().build()),
        value: Value::String(value.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_replacement_follows_matcher_rules() {
        let r = JavaRegexReplace::new("(.*)customers_shard(.*)", "$1customers_all_shards").unwrap();
        assert_eq!(
            r.apply("mysql-server-1.inventory.customers_shard_1")
                .as_deref(),
            Some("mysql-server-1.inventory.customers_all_shards")
        );
        assert_eq!(r.apply("other"), None);
        let r =
            JavaRegexReplace::new("(?<routedByValue>.*)", "outbox.event.${routedByValue}").unwrap();
        assert_eq!(r.apply("Order").as_deref(), Some("outbox.event.Order"));
        // `$12` with one group is group 1 then a literal 2; `\$` is a dollar.
        let r = JavaRegexReplace::new("(a)", "$12\\$").unwrap();
        assert_eq!(r.apply("a").as_deref(), Some("a2$"));
        assert!(JavaRegexReplace::new("(a)", "$2").is_err());
        assert!(JavaRegexReplace::new("(a)", "${nope}").is_err());
        assert!(JavaRegexReplace::new("(", "x").is_err());
    }

    #[test]
    fn names_are_adjusted_like_debezium() {
        assert_eq!(
            NameAdjustment::Avro.schema_name("mysql-server-1.inventory.customers_all_shards.Key"),
            "mysql_server_1.inventory.customers_all_shards.Key"
        );
        assert_eq!(NameAdjustment::Avro.schema_name("1a"), "_1a");
        assert_eq!(NameAdjustment::AvroUnicode.field_name("a-b"), "a_u002db");
        assert_eq!(NameAdjustment::Avro.field_name("a.b"), "a_b");
        assert_eq!(NameAdjustment::None.schema_name("a-b"), "a-b");
    }

    #[test]
    fn interner_shares_equal_schemas() {
        let i = Interner::new(2);
        let a = i.intern(SchemaBuilder::string().optional().build());
        let b = i.intern(SchemaBuilder::string().optional().build());
        assert!(Arc::ptr_eq(&a, &b));
        let c = i.intern(SchemaBuilder::int32().build());
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn cache_is_bounded() {
        let c: Cache<usize, usize> = Cache::new(2);
        for k in 0..5 {
            assert_eq!(c.get_or_try::<()>(k, || Ok(k * 2)), Ok(k * 2));
        }
        assert!(c.len() <= 2);
        assert_eq!(c.get(&4), Some(8));
    }
}
