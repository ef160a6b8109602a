//! Kafka Connect's `org.apache.kafka.connect.json.JsonConverter`.
//!
//! With `schemas.enable=true` (the default) every record is the envelope
//! `{"schema":<schema>,"payload":<payload>}`; with `false` only the payload.
//! The rendering is byte-for-byte what Kafka writes (Jackson's compact
//! output and Kafka's key order), see [`write`] for the details.
//!
//! The schema part is rendered once per schema and cached, keyed by the
//! schema's `Arc` address; the cache holds a clone of the `Arc`, so the
//! address cannot be reused by another schema while the entry lives. The
//! cache is bounded by `schemas.cache.size` (CLOCK eviction). In the other
//! direction, parsed schemas are cached by the exact text of the envelope's
//! `schema` member, so records that repeat a schema share one `SchemaRef`.
//!
//! # Differences from Kafka
//!
//! * The Connect → JSON schema cache is keyed by `Arc` identity, not by
//!   schema equality: an equal schema in a different `Arc` is rendered (once)
//!   again. Output is identical either way.
//! * `to_connect` reports a data error where Kafka coerces silently (a JSON
//!   string for an int field reads as 0, `300` for int8 wraps to 44, `12.7`
//!   for int32 truncates, a number for a string field reads as null). Exact
//!   integral values such as `12.0` are accepted for integer fields.
//! * Non-finite floats, which Jackson writes as the strings `"NaN"`,
//!   `"Infinity"` and `"-Infinity"`, read back as those values (Kafka reads
//!   them back as 0.0).
//! * Schemaless integers beyond the int64 range read as float64 (Kafka
//!   truncates the big integer to its low 64 bits).
//! * A struct value without a schema is written using the struct's own
//!   schema (Kafka fails with "Mismatching schema.").
//! * Content after the JSON document is rejected (Jackson ignores it); a
//!   `\u` escape of a lone surrogate reads as U+FFFD.
//! * Floats print as JDK 19+ `Double.toString` does (shortest round-trip
//!   digits); older JDKs occasionally printed a longer, equally valid form.

mod parse;
mod path;
mod read;
mod write;

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use sluice_connect_api::config::{ConfigKey, ConfigType, Importance, Validator};
use sluice_connect_api::{
    ConfigDef, ConnectError, ContentType, Converter, Props, Result, SchemaRef, Value,
};

use crate::cache::{ClockCache, PtrHash};
use parse::{SyntaxError, TopLevel};
use path::ConvError;
use read::Reader;
use write::{KeyPlan, Writer};

/// `schemas.enable`
pub const SCHEMAS_ENABLE_CONFIG: &str = "schemas.enable";
/// `schemas.cache.size`
pub const SCHEMAS_CACHE_SIZE_CONFIG: &str = "schemas.cache.size";
/// `decimal.format`
pub const DECIMAL_FORMAT_CONFIG: &str = "decimal.format";
/// `replace.null.with.default`
pub const REPLACE_NULL_WITH_DEFAULT_CONFIG: &str = "replace.null.with.default";
/// `converter.type` (Kafka's `ConverterConfig`; set from `is_key` when absent).
pub const CONVERTER_TYPE_CONFIG: &str = "converter.type";

/// How Decimal values are written (`decimal.format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalFormat {
    /// Base64 of the two's-complement big-endian unscaled value, e.g.
    /// `10.2345` (unscaled 102345, scale 4) → `"AY/J"`. (Kafka's own
    /// `DecimalFormat` javadoc gives `"D3J5"` for this value, which is in
    /// fact the encoding of 101.2345.)
    Base64,
    /// A JSON number, rendered like Java's `BigDecimal.toString()` (so
    /// `1.5600` keeps its trailing zeros and `1E-8` uses an exponent).
    Numeric,
}

/// The settings the reader and writer consult.
pub(crate) struct Settings {
    pub(crate) schemas_enabled: bool,
    pub(crate) decimal_numeric: bool,
    pub(crate) replace_null_with_default: bool,
}

/// A rendered schema fragment, pinned to its schema.
struct CachedSchemaJson {
    _pin: SchemaRef,
    /// The schema JSON (empty when schemas are disabled).
    json: Box<[u8]>,
    keys: Option<Arc<KeyPlan>>,
}

/// Distinguishes converters in the per-thread [`RECENT`] entries.
static NEXT_CONVERTER_ID: AtomicU64 = AtomicU64::new(1);

/// Entries of the schema cache a thread used last, keyed by (converter id,
/// schema address): a hit skips the shared cache's lock. An entry pins its
/// schema, so the address cannot stand for another schema while it is here.
/// Four slots: a task's key and value converters alternate on one thread.
type RecentEntry = (u64, usize, Arc<CachedSchemaJson>);

thread_local! {
    static RECENT: RefCell<[Option<RecentEntry>; 4]> = const { RefCell::new([None, None, None, None]) };
    static RECENT_NEXT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs `f` on this thread's entry for (`id`, `key`) when there is one,
/// borrowing it: a hit costs no reference counting. `f` must not touch
/// [`RECENT`] (writing a value does not).
fn with_recent<R>(id: u64, key: usize, f: impl FnOnce(&CachedSchemaJson) -> R) -> Option<R> {
    RECENT.with(|r| {
        r.borrow()
            .iter()
            .flatten()
            .find(|(i, k, _)| *i == id && *k == key)
            .map(|(_, _, e)| f(e))
    })
}

fn recent_put(id: u64, key: usize, entry: Arc<CachedSchemaJson>) {
    let slot = RECENT_NEXT.with(|n| {
        let slot = n.get();
        n.set((slot + 1) % 4);
        slot
    });
    RECENT.with(|r| r.borrow_mut()[slot] = Some((id, key, entry)));
}

/// Kafka Connect's JSON converter.
pub struct JsonConverter {
    /// Unique per converter (see [`RECENT`]).
    id: u64,
    settings: Settings,
    decimal_format: DecimalFormat,
    cache_size: usize,
    is_key: bool,
    from_connect_cache: ClockCache<usize, Arc<CachedSchemaJson>, PtrHash>,
    to_connect_cache: ClockCache<Arc<[u8]>, SchemaRef>,
    /// Size of the last record, to pre-size the next output buffer.
    size_hint: AtomicUsize,
}

impl fmt::Debug for JsonConverter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonConverter")
            .field("schemas_enabled", &self.settings.schemas_enabled)
            .field("decimal_format", &self.decimal_format)
            .field(
                "replace_null_with_default",
                &self.settings.replace_null_with_default,
            )
            .field("schemas_cache_size", &self.cache_size)
            .field("is_key", &self.is_key)
            .finish()
    }
}

impl JsonConverter {
    /// The converter's configuration keys (Kafka's `JsonConverterConfig`).
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new(CONVERTER_TYPE_CONFIG, ConfigType::String)
                    .optional()
                    .importance(Importance::Low)
                    .validator(Validator::OneOf(&["key", "value", "header"]))
                    .doc("How this converter will be used. Set by the worker from whether it converts keys or values."),
            )
            .define(
                ConfigKey::new(SCHEMAS_ENABLE_CONFIG, ConfigType::Boolean)
                    .default("true")
                    .importance(Importance::High)
                    .group("Schemas")
                    .doc("Include schemas within each of the serialized values and keys."),
            )
            .define(
                ConfigKey::new(SCHEMAS_CACHE_SIZE_CONFIG, ConfigType::Int)
                    .default("1000")
                    .importance(Importance::High)
                    .group("Schemas")
                    .validator(Validator::at_least(0))
                    .doc("The maximum number of schemas that can be cached in this converter instance."),
            )
            .define(
                ConfigKey::new(DECIMAL_FORMAT_CONFIG, ConfigType::String)
                    .default("BASE64")
                    .importance(Importance::Low)
                    .group("Serialization")
                    .validator(Validator::OneOf(&["BASE64", "NUMERIC"]))
                    .doc(
                        "Controls which format this converter will serialize decimals in. This value is case \
                         insensitive and can be either 'BASE64' (default) or 'NUMERIC'.",
                    ),
            )
            .define(
                ConfigKey::new(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigType::Boolean)
                    .default("true")
                    .importance(Importance::Low)
                    .group("Serialization")
                    .doc(
                        "Whether to replace fields that have a default value and that are null to the default \
                         value. When set to true, the default value is used, otherwise null is used.",
                    ),
            )
    }

    /// A converter configured from `props` (the converter's own keys, the
    /// `key.converter.`/`value.converter.` prefix already removed). Unknown
    /// keys are ignored, as in Kafka.
    pub fn new(props: &Props, is_key: bool) -> Result<Self> {
        let values = Self::config_def().parse(props).map_err(|issues| {
            let text: Vec<String> = issues.iter().map(|i| i.message.clone()).collect();
            ConnectError::config(format!("JsonConverter: {}", text.join("; ")))
        })?;
        let decimal_format = match values.get_string(DECIMAL_FORMAT_CONFIG).unwrap_or("BASE64") {
            f if f.eq_ignore_ascii_case("NUMERIC") => DecimalFormat::Numeric,
            _ => DecimalFormat::Base64,
        };
        let cache_size = usize::try_from(values.get_int(SCHEMAS_CACHE_SIZE_CONFIG)).unwrap_or(0);
        Ok(JsonConverter {
            id: NEXT_CONVERTER_ID.fetch_add(1, Ordering::Relaxed),
            settings: Settings {
                schemas_enabled: values.get_bool(SCHEMAS_ENABLE_CONFIG),
                decimal_numeric: decimal_format == DecimalFormat::Numeric,
                replace_null_with_default: values.get_bool(REPLACE_NULL_WITH_DEFAULT_CONFIG),
            },
            decimal_format,
            cache_size,
            is_key,
            from_connect_cache: ClockCache::new(cache_size),
            to_connect_cache: ClockCache::new(cache_size),
            size_hint: AtomicUsize::new(256),
        })
    }

    pub fn schemas_enabled(&self) -> bool {
        self.settings.schemas_enabled
    }

    pub fn decimal_format(&self) -> DecimalFormat {
        self.decimal_format
    }

    pub fn replace_null_with_default(&self) -> bool {
        self.settings.replace_null_with_default
    }

    pub fn is_key(&self) -> bool {
        self.is_key
    }

    /// Number of cached schemas: (Connect → JSON, JSON → Connect).
    pub fn cached_schema_counts(&self) -> (usize, usize) {
        (self.from_connect_cache.len(), self.to_connect_cache.len())
    }

    /// Kafka's `asJsonSchema`: the JSON rendering of `schema` (cached).
    pub fn as_json_schema(&self, schema: &SchemaRef) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        if self.settings.schemas_enabled {
            self.with_cached_schema(&mut out, schema, |_, _| ())
        } else {
            // The cache holds no schema JSON when schemas are disabled.
            self.writer()
                .write_schema(&mut out, schema, None)
                .map_err(ConvError::in_schema)
        }
        .map_err(|e| from_connect_error("", &e))?;
        Ok(out)
    }

    /// Kafka's `asConnectSchema`: parses a JSON schema; `None` for `null`.
    pub fn as_connect_schema(&self, json: &[u8]) -> Result<Option<SchemaRef>> {
        let text = parse::document_text(json).map_err(|e| syntax_error("", &e))?;
        let doc = parse::parse_document(text).map_err(|e| syntax_error("", &e))?;
        match doc {
            None => Ok(None),
            Some(doc) => self
                .reader()
                .schema(&doc)
                .map_err(|e| to_connect_error("", &e)),
        }
    }

    fn writer(&self) -> Writer<'_> {
        Writer {
            settings: &self.settings,
        }
    }

    fn reader(&self) -> Reader<'_> {
        Reader {
            settings: &self.settings,
        }
    }

    /// Looks `schema` up in the cache, building the entry on a miss: writes
    /// its schema JSON into `out` when schemas are enabled, then calls
    /// `then` with `out` and the schema's pre-rendered object keys (`None`
    /// when caching is off or the schema is not a struct).
    fn with_cached_schema<R>(
        &self,
        out: &mut Vec<u8>,
        schema: &SchemaRef,
        then: impl FnOnce(&mut Vec<u8>, Option<&KeyPlan>) -> R,
    ) -> std::result::Result<R, ConvError> {
        let with_json = self.settings.schemas_enabled;
        let key = Arc::as_ptr(schema) as usize;
        let mut then = Some(then);
        if self.cache_size > 0 {
            let hit = with_recent(self.id, key, |cached| {
                out.extend_from_slice(&cached.json);
                then.take().expect("called once")(out, cached.keys.as_deref())
            });
            if let Some(result) = hit {
                return Ok(result);
            }
            let then = then.take().expect("not called yet");
            if let Some(cached) = self.from_connect_cache.with(&key, Arc::clone) {
                recent_put(self.id, key, cached.clone());
                out.extend_from_slice(&cached.json);
                return Ok(then(out, cached.keys.as_deref()));
            }
            return self.build_cached_schema(out, schema, with_json, key, then);
        }
        let then = then.take().expect("not called yet");
        self.build_cached_schema(out, schema, with_json, key, then)
    }

    /// The cache miss of [`Self::with_cached_schema`].
    fn build_cached_schema<R>(
        &self,
        out: &mut Vec<u8>,
        schema: &SchemaRef,
        with_json: bool,
        key: usize,
        then: impl FnOnce(&mut Vec<u8>, Option<&KeyPlan>) -> R,
    ) -> std::result::Result<R, ConvError> {
        let start = out.len();
        if with_json {
            self.writer()
                .write_schema(out, schema, None)
                .map_err(ConvError::in_schema)?;
        }
        if self.cache_size == 0 {
            return Ok(then(out, None));
        }
        let keys = KeyPlan::build(schema).map(Arc::new);
        let json = out[start..].to_vec().into_boxed_slice();
        let entry = Arc::new(CachedSchemaJson {
            _pin: schema.clone(),
            json,
            keys: keys.clone(),
        });
        recent_put(self.id, key, entry.clone());
        self.from_connect_cache.insert(key, entry);
        Ok(then(out, keys.as_deref()))
    }

    fn schema_from_text(&self, topic: &str, text: &str) -> Result<Option<SchemaRef>> {
        if text == "null" {
            return Ok(None);
        }
        if let Some(schema) = self.to_connect_cache.with(text.as_bytes(), Arc::clone) {
            return Ok(Some(schema));
        }
        let json = parse::parse_span(text).map_err(|e| syntax_error(topic, &e))?;
        let schema = self
            .reader()
            .schema(&json)
            .map_err(|e| to_connect_error(topic, &e.in_schema()))?;
        if let (Some(schema), true) = (&schema, self.cache_size > 0) {
            self.to_connect_cache
                .insert(Arc::from(text.as_bytes()), schema.clone());
        }
        Ok(schema)
    }
}

fn topic_suffix(topic: &str) -> String {
    if topic.is_empty() {
        String::new()
    } else {
        format!(" (topic \"{topic}\")")
    }
}

fn from_connect_error(topic: &str, e: &ConvError) -> ConnectError {
    ConnectError::data(format!(
        "JsonConverter could not convert Connect data to JSON{}: {e}",
        topic_suffix(topic)
    ))
}

fn to_connect_error(topic: &str, e: &ConvError) -> ConnectError {
    ConnectError::data(format!(
        "JsonConverter could not convert JSON to Connect data{}: {e}",
        topic_suffix(topic)
    ))
}

fn syntax_error(topic: &str, e: &SyntaxError) -> ConnectError {
    ConnectError::data(format!(
        "Converting byte[] to Kafka Connect data failed due to serialization error{}: {e}",
        topic_suffix(topic)
    ))
}

const ENVELOPE_REQUIRED: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may \
     not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in \
     your converter configuration.";

impl Converter for JsonConverter {
    fn content_type(&self) -> ContentType {
        ContentType::Json
    }

    fn from_connect(
        &self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        if schema.is_none() && value.is_null() {
            return Ok(None);
        }
        let hint = self.size_hint.load(Ordering::Relaxed);
        let mut out = Vec::with_capacity(hint);
        let writer = self.writer();
        let result = if self.settings.schemas_enabled {
            out.extend_from_slice(b"{\"schema\":");
            let payload = |out: &mut Vec<u8>, keys: Option<&KeyPlan>| {
                out.extend_from_slice(b",\"payload\":");
                writer.write_value(out, schema, value, keys)?;
                out.push(b'}');
                Ok(())
            };
            match schema {
                Some(s) => self
                    .with_cached_schema(&mut out, s, payload)
                    .and_then(|r| r),
                None => {
                    out.extend_from_slice(b"null");
                    payload(&mut out, None)
                }
            }
        } else {
            match schema {
                Some(s) => self
                    .with_cached_schema(&mut out, s, |out, keys| {
                        writer.write_value(out, schema, value, keys)
                    })
                    .and_then(|r| r),
                None => writer.write_value(&mut out, schema, value, None),
            }
        };
        result.map_err(|e| from_connect_error(topic, &e))?;
        let len = out.len();
        if len > hint || len < hint / 4 {
            // A little headroom over the last size, not the next power of
            // two: the buffer is held until the sink has it, and records of
            // one table are about the same size.
            self.size_hint
                .store((len + len / 8 + 64).min(1 << 24), Ordering::Relaxed);
        }
        Ok(Some(out))
    }

    fn to_connect(&self, topic: &str, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value)> {
        let Some(bytes) = bytes else {
            return Ok((None, Value::Null));
        };
        let text = parse::document_text(bytes).map_err(|e| syntax_error(topic, &e))?;
        if !self.settings.schemas_enabled {
            let doc = parse::parse_document(text).map_err(|e| syntax_error(topic, &e))?;
            let value = self
                .reader()
                .value(None, doc.as_ref())
                .map_err(|e| to_connect_error(topic, &e))?;
            return Ok((None, value));
        }
        let members = match parse::scan_top_level(text).map_err(|e| syntax_error(topic, &e))? {
            TopLevel::Object(members) => members,
            TopLevel::Missing | TopLevel::NotObject => {
                return Err(ConnectError::data(ENVELOPE_REQUIRED))
            }
        };
        let (mut schema_span, mut payload_span) = (None, None);
        for (key, span) in members {
            match key.as_ref() {
                "schema" => schema_span = Some(span),
                "payload" => payload_span = Some(span),
                _ => return Err(ConnectError::data(ENVELOPE_REQUIRED)),
            }
        }
        let (Some(schema_span), Some(payload_span)) = (schema_span, payload_span) else {
            return Err(ConnectError::data(ENVELOPE_REQUIRED));
        };
        let schema = self.schema_from_text(topic, &text[schema_span])?;
        let payload =
            parse::parse_span(&text[payload_span]).map_err(|e| syntax_error(topic, &e))?;
        let value = self
            .reader()
            .value(schema.as_ref(), Some(&payload))
            .map_err(|e| to_connect_error(topic, &e.in_payload()))?;
        Ok((schema, value))
    }
}
