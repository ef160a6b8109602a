//! Kafka client settings: Kafka Connect's (Java client) property names →
//! librdkafka's.
//!
//! Kafka Connect passes the worker's `bootstrap.servers` and security keys
//! (`security.protocol`, `sasl.*`, `ssl.*`) to every client, then the
//! client's own prefix (`producer.*`, `consumer.*`, `admin.*`) and, per
//! connector, `producer.override.*` (KIP-458). sluice reads the same keys.
//! Names librdkafka shares with the Java client pass through; the others are
//! translated ([`translate`]), or dropped with a warning when they configure
//! something only the JVM has (serializer classes, interceptors, …).

use std::collections::BTreeMap;

use rdkafka::ClientConfig;
use sluice_connect_api::config::Props;

/// Worker keys that configure every Kafka client (Connect passes them on).
const SHARED_PREFIXES: &[&str] = &["security.", "sasl.", "ssl."];
const SHARED_KEYS: &[&str] = &["bootstrap.servers"];

/// Java client keys with no meaning outside the JVM: dropped with a warning.
const JVM_ONLY: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "interceptor.classes",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.recording.level",
    "metrics.sample.window.ms",
    "max.block.ms",
    "client.dns.lookup",
    "ssl.truststore.type",
    "ssl.keystore.type",
    "ssl.protocol",
    "ssl.provider",
    "ssl.trustmanager.algorithm",
    "ssl.keymanager.algorithm",
    "ssl.secure.random.implementation",
    "sasl.login.class",
    "sasl.login.callback.handler.class",
    "sasl.client.callback.handler.class",
    "sasl.kerberos.service.name",
    "security.providers",
    "partitioner.class",
    "partitioner.ignore.keys",
    "partitioner.adaptive.partitioning.enable",
    "partitioner.availability.timeout.ms",
    "auto.include.jmx.reporter",
    "enable.metrics.push",
];

/// A setting that could not be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ClientConfigError {
    pub key: String,
    pub message: String,
}

/// Java name → librdkafka (name, value) pairs. `None` drops the key.
pub fn translate(key: &str, value: &str) -> Result<Vec<(String, String)>, ClientConfigError> {
    let err = |message: String| ClientConfigError {
        key: key.to_string(),
        message,
    };
    let one = |k: &str, v: String| Ok(vec![(k.to_string(), v)]);
    if JVM_ONLY.contains(&key) {
        return Ok(Vec::new());
    }
    match key {
        "max.request.size" => one("message.max.bytes", value.to_string()),
        "buffer.memory" => {
            let bytes: u64 = value
                .trim()
                .parse()
                .map_err(|_| err(format!("expected a number of bytes, got {value:?}")))?;
            one(
                "queue.buffering.max.kbytes",
                (bytes / 1024).max(1).to_string(),
            )
        }
        "sasl.mechanism" => one("sasl.mechanisms", value.to_string()),
        "sasl.jaas.config" => {
            let (user, password) = parse_jaas(value).ok_or_else(|| {
                err(
                    "only PlainLoginModule / ScramLoginModule with username=\"…\" password=\"…\" \
                     can be used (set sasl.username and sasl.password directly otherwise)"
                        .to_string(),
                )
            })?;
            Ok(vec![
                ("sasl.username".to_string(), user),
                ("sasl.password".to_string(), password),
            ])
        }
        "ssl.truststore.location" => {
            if value.ends_with(".jks") || value.ends_with(".p12") || value.ends_with(".pfx") {
                Err(err(format!(
                    "{value} is a Java keystore; convert it to PEM \
                     (keytool -exportcert -rfc) and set ssl.ca.location"
                )))
            } else {
                one("ssl.ca.location", value.to_string())
            }
        }
        "ssl.keystore.location" => {
            if value.ends_with(".p12") || value.ends_with(".pfx") {
                one("ssl.keystore.location", value.to_string())
            } else {
                Err(err(format!(
                    "{value}: only PKCS#12 keystores can be used; or set \
                     ssl.certificate.location and ssl.key.location (PEM)"
                )))
            }
        }
        "ssl.truststore.password" => Ok(Vec::new()),
        "ssl.endpoint.identification.algorithm" => one(
            key,
            if value.trim().is_empty() {
                "none".to_string()
            } else {
                value.to_ascii_lowercase()
            },
        ),
        "delivery.timeout.ms" => one("message.timeout.ms", value.to_string()),
        _ => one(key, value.to_string()),
    }
}

/// `username="…" password="…"` out of a JAAS line.
fn parse_jaas(value: &str) -> Option<(String, String)> {
    let field = |name: &str| {
        let start = value.find(&format!("{name}="))? + name.len() + 1;
        let rest = value[start..].trim_start();
        let rest = rest.strip_prefix('"')?;
        let end = rest.find('"')?;
        Some(rest[..end].to_string())
    };
    Some((field("username")?, field("password")?))
}

/// The settings of one client: worker-wide keys, then `prefix` keys of the
/// worker, then `overrides` (e.g. a connector's `producer.override.*`),
/// each later one winning. Returns the librdkafka settings and the keys that
/// were dropped (for a warning).
pub fn client_settings(
    worker: &Props,
    prefix: &str,
    overrides: &Props,
    override_prefix: &str,
) -> Result<(BTreeMap<String, String>, Vec<String>), ClientConfigError> {
    let mut java: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in worker {
        if SHARED_KEYS.contains(&k.as_str()) || SHARED_PREFIXES.iter().any(|p| k.starts_with(p)) {
            java.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in worker {
        if let Some(rest) = k.strip_prefix(prefix) {
            java.insert(rest.to_string(), v.clone());
        }
    }
    if !override_prefix.is_empty() {
        for (k, v) in overrides {
            if let Some(rest) = k.strip_prefix(override_prefix) {
                java.insert(rest.to_string(), v.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    let mut dropped = Vec::new();
    for (k, v) in &java {
        let translated = translate(k, v)?;
        if translated.is_empty() {
            dropped.push(k.clone());
        }
        for (rk, rv) in translated {
            out.insert(rk, rv);
        }
    }
    Ok((out, dropped))
}

/// An rdkafka `ClientConfig` from settings, with `defaults` for keys the
/// settings leave unset.
pub fn client_config(
    settings: &BTreeMap<String, String>,
    defaults: &[(&str, &str)],
) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (k, v) in defaults {
        if !settings.contains_key(*k) {
            config.set(*k, *v);
        }
    }
    for (k, v) in settings {
        config.set(k, v);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn java_names_become_librdkafka_names() {
        let worker = props(&[
            ("bootstrap.servers", "b1:9092,b2:9092"),
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            (
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"app\" password=\"s3cr=t\";",
            ),
            ("producer.max.request.size", "2097152"),
            ("producer.buffer.memory", "33554432"),
            ("producer.key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer"),
            ("producer.linger.ms", "20"),
            ("consumer.fetch.max.bytes", "1"),
            ("offset.storage.file.filename", "/x"),
        ]);
        let connector = props(&[("producer.override.linger.ms", "50"), ("name", "c")]);
        let (s, dropped) =
            client_settings(&worker, "producer.", &connector, "producer.override.").unwrap();
        assert_eq!(s["bootstrap.servers"], "b1:9092,b2:9092");
        assert_eq!(s["security.protocol"], "SASL_SSL");
        assert_eq!(s["sasl.mechanisms"], "SCRAM-SHA-512");
        assert_eq!(s["sasl.username"], "app");
        assert_eq!(s["sasl.password"], "s3cr=t");
        assert_eq!(s["message.max.bytes"], "2097152");
        assert_eq!(s["queue.buffering.max.kbytes"], "32768");
        assert_eq!(s["linger.ms"], "50");
        assert!(!s.contains_key("fetch.max.bytes"));
        assert!(!s.contains_key("offset.storage.file.filename"));
        assert_eq!(dropped, vec!["key.serializer".to_string()]);
    }

    #[test]
    fn untranslatable_settings_name_the_key_and_the_fix() {
        let e = translate("ssl.truststore.location", "/etc/kafka/truststore.jks").unwrap_err();
        assert_eq!(e.key, "ssl.truststore.location");
        assert!(e.message.contains("ssl.ca.location"), "{e}");
        let e = translate("sasl.jaas.config", "com.example.Custom required;").unwrap_err();
        assert!(e.message.contains("sasl.username"), "{e}");
        assert!(translate("buffer.memory", "lots").is_err());
    }
}
