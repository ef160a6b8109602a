//! Confluent's `io.confluent.connect.avro.AvroConverter`: Connect data as
//! Avro binary in Confluent's wire format (magic byte `0`, the schema id as
//! a 4-byte big-endian integer, the Avro body), with the schemas kept in a
//! Confluent-compatible schema registry.
//!
//! * Connect → Avro schema translation is Confluent's `AvroData` with its
//!   default settings (see [`from_connect`]); the registered schema text is
//!   what Avro's `Schema.toString()` writes, property for property, so a
//!   schema registered by sluice equals the one Confluent's converter
//!   registers for the same Connect schema.
//! * Subjects follow `TopicNameStrategy`: `<topic>-key` / `<topic>-value`.
//! * `auto.register.schemas=true` (default) registers with
//!   `POST /subjects/{subject}/versions`; with `false`,
//!   `use.latest.version=true` writes with the subject's latest schema
//!   (`GET /subjects/{subject}/versions/latest`), otherwise the schema must
//!   already be registered (`POST /subjects/{subject}`).
//! * `to_connect` fetches the writer's schema by id (`GET /schemas/ids/{id}`)
//!   and converts it as `AvroData.toConnectSchema` does.
//!
//! # Blocking
//!
//! The converter talks to the registry with a blocking HTTP client. The
//! `Converter` contract says `from_connect` does not block; here the only
//! blocking is the first use of a schema (registration or lookup, once per
//! schema and topic, then cached for the converter's life) and the first
//! read of a schema id. When that happens on a thread of a multi-thread
//! tokio runtime the call is wrapped in `tokio::task::block_in_place`, so
//! the runtime moves its other tasks off the thread; on a current-thread
//! runtime (or outside tokio) the thread simply blocks for the request
//! (bounded by `http.connect.timeout.ms` / `http.read.timeout.ms`). A
//! registry served by the same current-thread runtime would deadlock: run
//! the converter on a multi-thread runtime in that case.
//!
//! # Caches
//!
//! Per Connect schema (keyed by the schema's `Arc` address, the `Arc` held
//! so the address stays unique): the Avro schema, its text and the encoding
//! plan, built once; per (schema, topic): the registered id. Per schema id
//! (and topic): the Connect schema and the decoding plan. Both caches are
//! bounded by `schemas.cache.config`. The hot path takes a read lock, finds
//! the plan and writes the bytes; it never formats a schema or calls the
//! registry.

pub mod from_connect;
pub mod json;
pub mod schema;

mod encode;
mod registry;
mod to_connect;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sluice_connect_api::config::{ConfigKey, ConfigType, ConfigValue, Importance, Validator};
use sluice_connect_api::data::logical;
use sluice_connect_api::{
    ConfigDef, ConnectError, ContentType, Converter, Decimal, ErrorKind, Props, Result, SchemaRef,
    Value,
};

use crate::cache::{ClockCache, PtrHash};
use encode::{Enc, EncodeError};
use registry::{Credentials, RegistryClient};
use schema::{AvroSchema, Primitive};
use to_connect::{Dec, Reader, ToConnectOptions};

pub use from_connect::{from_connect_schema, Options as AvroDataOptions};

/// `schema.registry.url`
pub const SCHEMA_REGISTRY_URL_CONFIG: &str = "schema.registry.url";
/// `auto.register.schemas`
pub const AUTO_REGISTER_SCHEMAS_CONFIG: &str = "auto.register.schemas";
/// `use.latest.version`
pub const USE_LATEST_VERSION_CONFIG: &str = "use.latest.version";
/// `normalize.schemas`
pub const NORMALIZE_SCHEMAS_CONFIG: &str = "normalize.schemas";
/// `basic.auth.credentials.source`
pub const BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG: &str = "basic.auth.credentials.source";
/// `basic.auth.user.info`
pub const BASIC_AUTH_USER_INFO_CONFIG: &str = "basic.auth.user.info";
/// `schema.registry.basic.auth.user.info` (Confluent's deprecated spelling)
pub const SCHEMA_REGISTRY_USER_INFO_CONFIG: &str = "schema.registry.basic.auth.user.info";
/// `key.subject.name.strategy`
pub const KEY_SUBJECT_NAME_STRATEGY_CONFIG: &str = "key.subject.name.strategy";
/// `value.subject.name.strategy`
pub const VALUE_SUBJECT_NAME_STRATEGY_CONFIG: &str = "value.subject.name.strategy";
/// `connect.meta.data`
pub const CONNECT_META_DATA_CONFIG: &str = "connect.meta.data";
/// `enhanced.avro.schema.support`
pub const ENHANCED_AVRO_SCHEMA_SUPPORT_CONFIG: &str = "enhanced.avro.schema.support";
/// `schemas.cache.config`
pub const SCHEMAS_CACHE_SIZE_CONFIG: &str = "schemas.cache.config";
/// `http.connect.timeout.ms`
pub const HTTP_CONNECT_TIMEOUT_MS_CONFIG: &str = "http.connect.timeout.ms";
/// `http.read.timeout.ms`
pub const HTTP_READ_TIMEOUT_MS_CONFIG: &str = "http.read.timeout.ms";

/// The one subject name strategy sluice implements.
pub const TOPIC_NAME_STRATEGY: &str = "io.confluent.kafka.serializers.subject.TopicNameStrategy";

const MAGIC_BYTE: u8 = 0;

fn check_strategy(value: &ConfigValue) -> std::result::Result<(), String> {
    match value {
        ConfigValue::String(s) | ConfigValue::Class(s)
            if s != TOPIC_NAME_STRATEGY && s != "TopicNameStrategy" =>
        {
            Err(format!(
                "sluice's AvroConverter supports only the subject name strategy {TOPIC_NAME_STRATEGY} \
                 (subjects <topic>-key and <topic>-value)"
            ))
        }
        _ => Ok(()),
    }
}

fn check_credentials_source(value: &ConfigValue) -> std::result::Result<(), String> {
    match value {
        ConfigValue::String(s) if s.eq_ignore_ascii_case("URL") || s.eq_ignore_ascii_case("USER_INFO") => {
            Ok(())
        }
        ConfigValue::String(s) if s.eq_ignore_ascii_case("SASL_INHERIT") => Err(
            "SASL_INHERIT is not supported by sluice's AvroConverter; supported sources: URL, USER_INFO"
                .into(),
        ),
        ConfigValue::String(_) => Err("supported sources: URL, USER_INFO".into()),
        _ => Ok(()),
    }
}

fn check_enhanced(value: &ConfigValue) -> std::result::Result<(), String> {
    match value {
        ConfigValue::Boolean(true) => Err(
            "enhanced.avro.schema.support=true is not supported by sluice's AvroConverter".into(),
        ),
        _ => Ok(()),
    }
}

fn check_urls(value: &ConfigValue) -> std::result::Result<(), String> {
    match value {
        ConfigValue::List(urls) if urls.iter().all(|u| u.trim().is_empty()) => {
            Err("at least one schema registry URL is required".into())
        }
        _ => Ok(()),
    }
}

/// What the encoder writes for one (Connect schema, topic).
struct Target {
    header: [u8; 5],
    /// A plan for the latest registered schema when it differs from the
    /// record's own (`use.latest.version`).
    plan: Option<Arc<Enc>>,
    top_bytes: bool,
}

/// Everything derived from one Connect schema.
struct Prepared {
    _pin: SchemaRef,
    text: Arc<str>,
    plan: Arc<Enc>,
    top_bytes: bool,
    targets: RwLock<Vec<(Box<str>, Arc<Target>)>>,
}

/// Everything derived from one writer schema id, per topic (the subject
/// decides the registry version the schema takes).
struct Decoder {
    schema: SchemaRef,
    plan: Dec,
    /// The top-level schema is Avro `bytes`: the body is the raw value.
    top_bytes: bool,
}

type DecoderSlot = RwLock<Vec<(Box<str>, Arc<Decoder>)>>;

/// Confluent's Avro converter.
pub struct AvroConverter {
    is_key: bool,
    auto_register: bool,
    use_latest: bool,
    connect_meta_data: bool,
    cache_size: usize,
    client: RegistryClient,
    from_connect_cache: ClockCache<usize, Arc<Prepared>, PtrHash>,
    to_connect_cache: ClockCache<i32, Arc<DecoderSlot>>,
    size_hint: AtomicUsize,
}

impl fmt::Debug for AvroConverter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AvroConverter")
            .field("urls", &self.client.urls())
            .field("is_key", &self.is_key)
            .field("auto_register", &self.auto_register)
            .field("use_latest", &self.use_latest)
            .field("connect_meta_data", &self.connect_meta_data)
            .field("cache_size", &self.cache_size)
            .finish()
    }
}

/// Runs a blocking registry call, telling a multi-thread tokio runtime to
/// move its other work off this thread first.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl AvroConverter {
    /// The converter's configuration keys (Confluent's `AvroConverterConfig`
    /// and `AvroDataConfig` names and defaults, for the keys sluice
    /// implements).
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new(crate::json::CONVERTER_TYPE_CONFIG, ConfigType::String)
                    .optional()
                    .importance(Importance::Low)
                    .validator(Validator::OneOf(&["key", "value", "header"]))
                    .doc("How this converter will be used. Set by the worker from whether it converts keys or values."),
            )
            .define(
                ConfigKey::new(SCHEMA_REGISTRY_URL_CONFIG, ConfigType::List)
                    .importance(Importance::High)
                    .validator(Validator::Custom(check_urls))
                    .doc("Comma-separated list of URLs for schema registry instances that can be used to register or look up schemas. The first URL that answers is used."),
            )
            .define(
                ConfigKey::new(AUTO_REGISTER_SCHEMAS_CONFIG, ConfigType::Boolean)
                    .default("true")
                    .importance(Importance::Medium)
                    .doc("Specify if the Serializer should attempt to register the Schema with Schema Registry"),
            )
            .define(
                ConfigKey::new(USE_LATEST_VERSION_CONFIG, ConfigType::Boolean)
                    .default("false")
                    .importance(Importance::Low)
                    .doc("Specify if the Serializer should use the latest subject version for serialization (only when auto.register.schemas=false)"),
            )
            .define(
                ConfigKey::new(NORMALIZE_SCHEMAS_CONFIG, ConfigType::Boolean)
                    .default("false")
                    .importance(Importance::Low)
                    .doc("Whether to normalize schemas, which generally ignores ordering when it is not significant (sent to the registry as normalize=true)"),
            )
            .define(
                ConfigKey::new(BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG, ConfigType::String)
                    .default("URL")
                    .importance(Importance::Medium)
                    .validator(Validator::Custom(check_credentials_source))
                    .doc("Specify how to pick the credentials for Basic Auth header. The supported values are URL and USER_INFO"),
            )
            .define(
                ConfigKey::new(BASIC_AUTH_USER_INFO_CONFIG, ConfigType::Password)
                    .default("")
                    .importance(Importance::Medium)
                    .doc("Specify the user info for Basic Auth in the form of {username}:{password}"),
            )
            .define(
                ConfigKey::new(SCHEMA_REGISTRY_USER_INFO_CONFIG, ConfigType::Password)
                    .default("")
                    .importance(Importance::Medium)
                    .doc("Deprecated spelling of basic.auth.user.info, used when that is empty"),
            )
            .define(
                ConfigKey::new(KEY_SUBJECT_NAME_STRATEGY_CONFIG, ConfigType::String)
                    .default(TOPIC_NAME_STRATEGY)
                    .importance(Importance::Medium)
                    .validator(Validator::Custom(check_strategy))
                    .doc("Determines how to construct the subject name under which the key schema is registered with the schema registry. Only TopicNameStrategy (<topic>-key) is supported."),
            )
            .define(
                ConfigKey::new(VALUE_SUBJECT_NAME_STRATEGY_CONFIG, ConfigType::String)
                    .default(TOPIC_NAME_STRATEGY)
                    .importance(Importance::Medium)
                    .validator(Validator::Custom(check_strategy))
                    .doc("Determines how to construct the subject name under which the value schema is registered with the schema registry. Only TopicNameStrategy (<topic>-value) is supported."),
            )
            .define(
                ConfigKey::new(CONNECT_META_DATA_CONFIG, ConfigType::Boolean)
                    .default("true")
                    .importance(Importance::Low)
                    .doc("Toggle for enabling/disabling connect converter to add its meta data to the output schema or not"),
            )
            .define(
                ConfigKey::new(ENHANCED_AVRO_SCHEMA_SUPPORT_CONFIG, ConfigType::Boolean)
                    .default("false")
                    .importance(Importance::Low)
                    .validator(Validator::Custom(check_enhanced))
                    .doc("Enable enhanced schema support to preserve package information and Enums. Only false is supported."),
            )
            .define(
                ConfigKey::new(SCHEMAS_CACHE_SIZE_CONFIG, ConfigType::Int)
                    .default("1000")
                    .importance(Importance::Low)
                    .validator(Validator::at_least(0))
                    .doc("Size of the converted schemas cache"),
            )
            .define(
                ConfigKey::new(HTTP_CONNECT_TIMEOUT_MS_CONFIG, ConfigType::Int)
                    .default("60000")
                    .importance(Importance::Low)
                    .validator(Validator::at_least(0))
                    .doc("Specify the http connection timeout in milliseconds for the schema registry client"),
            )
            .define(
                ConfigKey::new(HTTP_READ_TIMEOUT_MS_CONFIG, ConfigType::Int)
                    .default("60000")
                    .importance(Importance::Low)
                    .validator(Validator::at_least(0))
                    .doc("Specify the http read timeout in milliseconds for the schema registry client"),
            )
    }

    /// A converter configured from `props` (the converter's own keys, the
    /// `key.converter.`/`value.converter.` prefix already removed). Unknown
    /// keys are ignored, as in Kafka. No request is sent before the first
    /// record.
    pub fn new(props: &Props, is_key: bool) -> Result<Self> {
        let values = Self::config_def().parse(props).map_err(|issues| {
            let text: Vec<String> = issues.iter().map(|i| i.message.clone()).collect();
            ConnectError::config(format!("AvroConverter: {}", text.join("; ")))
        })?;
        let urls = values.get_list(SCHEMA_REGISTRY_URL_CONFIG).to_vec();
        let source = values
            .get_string(BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG)
            .unwrap_or("URL")
            .to_ascii_uppercase();
        let credentials = if source == "USER_INFO" {
            let info = values
                .get_password(BASIC_AUTH_USER_INFO_CONFIG)
                .map(|p| p.expose().to_string())
                .filter(|s| !s.is_empty())
                .or_else(|| {
                    values
                        .get_password(SCHEMA_REGISTRY_USER_INFO_CONFIG)
                        .map(|p| p.expose().to_string())
                })
                .unwrap_or_default();
            if info.is_empty() {
                return Err(ConnectError::config(format!(
                    "AvroConverter: {BASIC_AUTH_USER_INFO_CONFIG} must be set (user:password) when \
                     {BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG}=USER_INFO"
                )));
            }
            Credentials::UserInfo(info)
        } else {
            Credentials::Url
        };
        let ms = |key: &str| {
            Duration::from_millis(u64::try_from(values.get_int(key)).unwrap_or(0).max(1))
        };
        let client = RegistryClient::new(
            &urls,
            credentials,
            values.get_bool(NORMALIZE_SCHEMAS_CONFIG),
            ms(HTTP_CONNECT_TIMEOUT_MS_CONFIG),
            ms(HTTP_READ_TIMEOUT_MS_CONFIG),
        )
        .map_err(|e| {
            ConnectError::config(format!(
                "AvroConverter: invalid value for configuration {SCHEMA_REGISTRY_URL_CONFIG}: {e}"
            ))
        })?;
        let cache_size = usize::try_from(values.get_int(SCHEMAS_CACHE_SIZE_CONFIG)).unwrap_or(0);
        Ok(AvroConverter {
            is_key,
            auto_register: values.get_bool(AUTO_REGISTER_SCHEMAS_CONFIG),
            use_latest: values.get_bool(USE_LATEST_VERSION_CONFIG),
            connect_meta_data: values.get_bool(CONNECT_META_DATA_CONFIG),
            cache_size,
            client,
            // Always keep at least one entry: without a cache every record
            // would rebuild its plan.
            from_connect_cache: ClockCache::new(cache_size.max(1)),
            to_connect_cache: ClockCache::new(cache_size.max(1)),
            size_hint: AtomicUsize::new(128),
        })
    }

    pub fn is_key(&self) -> bool {
        self.is_key
    }

    /// The configured registry URLs (credentials removed).
    pub fn registry_urls(&self) -> Vec<String> {
        self.client.urls()
    }

    /// HTTP requests sent to the registry so far.
    pub fn registry_request_count(&self) -> u64 {
        self.client.request_count()
    }

    /// Confluent's `TopicNameStrategy`.
    pub fn subject_name(&self, topic: &str) -> String {
        format!("{topic}-{}", if self.is_key { "key" } else { "value" })
    }

    fn options(&self) -> from_connect::Options {
        from_connect::Options {
            connect_meta_data: self.connect_meta_data,
        }
    }

    /// The Avro schema text Confluent's converter registers for `schema`.
    pub fn avro_schema_text(&self, schema: &SchemaRef) -> Result<String> {
        Ok(self.prepared("", schema)?.text.to_string())
    }

    fn prepared(&self, topic: &str, schema: &SchemaRef) -> Result<Arc<Prepared>> {
        let key = Arc::as_ptr(schema) as usize;
        if let Some(p) = self.from_connect_cache.with(&key, Arc::clone) {
            return Ok(p);
        }
        let fail = |e: String| {
            ConnectError::data(format!(
                "Failed to serialize Avro data from topic {topic}: could not convert the Connect schema to Avro: {e}"
            ))
        };
        let avro = from_connect::from_connect_schema(schema, self.options()).map_err(fail)?;
        let text: Arc<str> = avro.to_json().map_err(fail)?.into();
        let plan = encode::plan(schema, &avro).map_err(fail)?;
        let prepared = Arc::new(Prepared {
            _pin: schema.clone(),
            text,
            plan: Arc::new(plan),
            top_bytes: is_top_bytes(&avro),
            targets: RwLock::new(Vec::new()),
        });
        self.from_connect_cache.insert(key, prepared.clone());
        Ok(prepared)
    }

    /// The id (and plan) for `prepared` written to `topic`: asks the
    /// registry the first time.
    fn target(&self, topic: &str, schema: &SchemaRef, prepared: &Prepared) -> Result<Arc<Target>> {
        {
            let targets = prepared.targets.read().unwrap_or_else(|e| e.into_inner());
            if let Some((_, t)) = targets.iter().find(|(t, _)| &**t == topic) {
                return Ok(t.clone());
            }
        }
        let subject = self.subject_name(topic);
        let target = blocking(|| -> Result<Target> {
            if self.auto_register {
                let id = self.client.register(&subject, &prepared.text)?;
                Ok(Target {
                    header: header(id),
                    plan: None,
                    top_bytes: prepared.top_bytes,
                })
            } else if self.use_latest {
                let latest = self.client.latest(&subject)?;
                if *latest.schema == *prepared.text {
                    return Ok(Target {
                        header: header(latest.id),
                        plan: None,
                        top_bytes: prepared.top_bytes,
                    });
                }
                let fail = |e: String| {
                    ConnectError::data(format!(
                        "Failed to serialize Avro data from topic {topic}: the latest schema of subject \
                         \"{subject}\" (id {}) cannot carry this record: {e}",
                        latest.id
                    ))
                };
                let avro = schema::parse(&latest.schema).map_err(fail)?;
                let plan = encode::plan(schema, &avro).map_err(fail)?;
                Ok(Target {
                    header: header(latest.id),
                    plan: Some(Arc::new(plan)),
                    top_bytes: is_top_bytes(&avro),
                })
            } else {
                let id = self.client.lookup(&subject, &prepared.text)?;
                Ok(Target {
                    header: header(id),
                    plan: None,
                    top_bytes: prepared.top_bytes,
                })
            }
        })
        .map_err(|e| {
            let kind = e.kind();
            ConnectError::new(kind, format!("Failed to serialize Avro data from topic {topic}: {}", e.message()))
        })?;
        let target = Arc::new(target);
        let mut targets = prepared.targets.write().unwrap_or_else(|e| e.into_inner());
        if let Some((_, t)) = targets.iter().find(|(t, _)| &**t == topic) {
            return Ok(t.clone());
        }
        targets.push((topic.into(), target.clone()));
        Ok(target)
    }

    fn decoder(&self, topic: &str, id: i32) -> Result<Arc<Decoder>> {
        let slot = match self.to_connect_cache.with(&id, Arc::clone) {
            Some(slot) => slot,
            None => {
                let slot: Arc<DecoderSlot> = Arc::new(RwLock::new(Vec::new()));
                self.to_connect_cache.insert(id, slot.clone());
                // Another thread may have won the race; use its slot.
                self.to_connect_cache.with(&id, Arc::clone).unwrap_or(slot)
            }
        };
        {
            let slot = slot.read().unwrap_or_else(|e| e.into_inner());
            if let Some((_, d)) = slot.iter().find(|(t, _)| **t == *topic) {
                return Ok(d.clone());
            }
        }
        let subject = self.subject_name(topic);
        let fail_kind = |e: ConnectError| {
            ConnectError::new(
                e.kind(),
                format!(
                    "Failed to deserialize data for topic {topic} to Avro: {}",
                    e.message()
                ),
            )
        };
        let text = blocking(|| self.client.schema_by_id(id, &subject)).map_err(fail_kind)?;
        let bad_schema = |e: String| {
            ConnectError::data(format!(
                "Failed to deserialize data for topic {topic} to Avro: schema id {id}: {e}"
            ))
        };
        let avro = schema::parse(&text).map_err(bad_schema)?;
        let version = if avro.is_union() || avro.prop(from_connect::CONNECT_VERSION_PROP).is_some()
        {
            None
        } else {
            blocking(|| self.client.version_of(&subject, id, &text)).map_err(fail_kind)?
        };
        let (schema, plan) = to_connect::to_connect_schema(
            &avro,
            version,
            ToConnectOptions {
                connect_meta_data: self.connect_meta_data,
            },
        )
        .map_err(bad_schema)?;
        let decoder = Arc::new(Decoder {
            schema,
            plan,
            top_bytes: is_top_bytes(&avro),
        });
        let mut slot = slot.write().unwrap_or_else(|e| e.into_inner());
        if let Some((_, d)) = slot.iter().find(|(t, _)| **t == *topic) {
            return Ok(d.clone());
        }
        slot.push((topic.into(), decoder.clone()));
        Ok(decoder)
    }
}

fn header(id: i32) -> [u8; 5] {
    let b = id.to_be_bytes();
    [MAGIC_BYTE, b[0], b[1], b[2], b[3]]
}

/// A top-level Avro `bytes` value is written raw (Confluent's serializer
/// does not length-prefix it).
fn is_top_bytes(avro: &AvroSchema) -> bool {
    matches!(avro, AvroSchema::Primitive(Primitive::Bytes, _))
}

fn serialize_error(topic: &str, e: &EncodeError) -> ConnectError {
    ConnectError::data(format!(
        "Failed to serialize Avro data from topic {topic}: {e}"
    ))
}

impl Converter for AvroConverter {
    fn content_type(&self) -> ContentType {
        ContentType::Binary
    }

    fn from_connect(
        &self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        let Some(schema) = schema else {
            if value.is_null() {
                return Ok(None);
            }
            return Err(ConnectError::unsupported(format!(
                "Failed to serialize Avro data from topic {topic}: sluice's AvroConverter needs a schema \
                 for non-null data (schemaless values are not supported)"
            )));
        };
        if value.is_null() {
            if schema.optional {
                return Ok(None);
            }
            return Err(ConnectError::data(format!(
                "Failed to serialize Avro data from topic {topic}: Found null value for non-optional schema"
            )));
        }
        let prepared = self.prepared(topic, schema)?;
        let target = self.target(topic, schema, &prepared)?;
        let hint = self.size_hint.load(Ordering::Relaxed);
        let mut out = Vec::with_capacity(hint);
        out.extend_from_slice(&target.header);
        if target.top_bytes {
            match value {
                Value::Bytes(b) => out.extend_from_slice(b),
                Value::Decimal(d) => {
                    let scale = from_connect::decimal_scale(schema).unwrap_or(d.scale);
                    if d.scale != scale {
                        return Err(ConnectError::data(format!(
                            "Failed to serialize Avro data from topic {topic}: BigDecimal has mismatching scale value for given Decimal schema"
                        )));
                    }
                    out.extend_from_slice(&d.unscaled_bytes());
                }
                other => {
                    return Err(ConnectError::data(format!(
                    "Failed to serialize Avro data from topic {topic}: Invalid type for BYTES: {}",
                    other.type_name()
                )))
                }
            }
        } else {
            let plan = target.plan.as_ref().unwrap_or(&prepared.plan);
            encode::encode(plan, value, &mut out).map_err(|e| serialize_error(topic, &e))?;
        }
        let len = out.len();
        if len > hint || len < hint / 4 {
            self.size_hint
                .store((len + len / 8 + 16).min(1 << 24), Ordering::Relaxed);
        }
        Ok(Some(out))
    }

    fn to_connect(&self, topic: &str, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value)> {
        let Some(bytes) = bytes else {
            return Ok((None, Value::Null));
        };
        if bytes.first() != Some(&MAGIC_BYTE) {
            return Err(ConnectError::data(format!(
                "Failed to deserialize data for topic {topic} to Avro: Unknown magic byte!"
            )));
        }
        if bytes.len() < 5 {
            return Err(ConnectError::data(format!(
                "Failed to deserialize data for topic {topic} to Avro: the payload is {} bytes, shorter than \
                 the 5-byte header (magic byte and schema id)",
                bytes.len()
            )));
        }
        let id = i32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        let decoder = self.decoder(topic, id)?;
        let body = &bytes[5..];
        let value = if decoder.top_bytes {
            if decoder.schema.is_named(logical::DECIMAL) {
                let scale = from_connect::decimal_scale(&decoder.schema).unwrap_or(0);
                Value::Decimal(Decimal::from_unscaled_bytes(body, scale))
            } else {
                Value::Bytes(body.to_vec())
            }
        } else {
            let mut reader = Reader::new(body);
            to_connect::decode(&decoder.plan, &mut reader).map_err(|e| {
                ConnectError::new(
                    ErrorKind::Data,
                    format!(
                        "Failed to deserialize data for topic {topic} to Avro: Error deserializing Avro message for id {id}: {e} (at byte {} of the body)",
                        reader.position()
                    ),
                )
            })?
        };
        Ok((Some(decoder.schema.clone()), value))
    }
}

/// Confluent's `AvroData` without a registry: schema translation both ways
/// and the Avro binary body of values (no wire-format header). What the
/// converter uses, exposed for tools and tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct AvroData {
    pub options: AvroDataOptions,
}

impl AvroData {
    pub fn new(options: AvroDataOptions) -> Self {
        AvroData { options }
    }

    /// `AvroData.fromConnectSchema`.
    pub fn from_connect_schema(
        &self,
        schema: &SchemaRef,
    ) -> std::result::Result<AvroSchema, String> {
        from_connect::from_connect_schema(schema, self.options)
    }

    /// The text Confluent registers for `schema`.
    pub fn schema_text(&self, schema: &SchemaRef) -> std::result::Result<String, String> {
        self.from_connect_schema(schema)?.to_json()
    }

    /// The Avro binary of `value` (a top-level `bytes` schema is raw bytes,
    /// as Confluent's serializer writes it).
    pub fn serialize(
        &self,
        schema: &SchemaRef,
        value: &Value,
    ) -> std::result::Result<Vec<u8>, String> {
        let avro = self.from_connect_schema(schema)?;
        let mut out = Vec::new();
        if is_top_bytes(&avro) {
            match value {
                Value::Bytes(b) => out.extend_from_slice(b),
                Value::Decimal(d) => out.extend_from_slice(&d.unscaled_bytes()),
                other => return Err(format!("Invalid type for BYTES: {}", other.type_name())),
            }
            return Ok(out);
        }
        let plan = encode::plan(schema, &avro)?;
        encode::encode(&plan, value, &mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// `AvroData.toConnectSchema` of schema text; `version` is used when the
    /// top-level schema has no `connect.version`.
    pub fn to_connect_schema(
        &self,
        text: &str,
        version: Option<i32>,
    ) -> std::result::Result<SchemaRef, String> {
        let avro = schema::parse(text)?;
        Ok(to_connect::to_connect_schema(&avro, version, self.reader_options())?.0)
    }

    /// Reads an Avro body written with schema `text`.
    pub fn deserialize(
        &self,
        text: &str,
        version: Option<i32>,
        body: &[u8],
    ) -> std::result::Result<(SchemaRef, Value), String> {
        let avro = schema::parse(text)?;
        let (schema, plan) = to_connect::to_connect_schema(&avro, version, self.reader_options())?;
        if is_top_bytes(&avro) {
            let value = if schema.is_named(logical::DECIMAL) {
                Value::Decimal(Decimal::from_unscaled_bytes(
                    body,
                    from_connect::decimal_scale(&schema).unwrap_or(0),
                ))
            } else {
                Value::Bytes(body.to_vec())
            };
            return Ok((schema, value));
        }
        let mut reader = Reader::new(body);
        let value = to_connect::decode(&plan, &mut reader)?;
        Ok((schema, value))
    }

    fn reader_options(self) -> ToConnectOptions {
        ToConnectOptions {
            connect_meta_data: self.options.connect_meta_data,
        }
    }
}

/// Confluent's wire format: the schema id of a serialized record, if the
/// bytes start with the magic byte.
pub fn schema_id_of(bytes: &[u8]) -> Option<i32> {
    match bytes {
        [MAGIC_BYTE, a, b, c, d, ..] => Some(i32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}
