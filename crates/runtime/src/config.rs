//! Worker and connector configuration: the declared keys, loading of
//! `.properties` / JSON files, placeholder resolution.

use std::path::Path;

use sluice_connect_api::config::Props;
use sluice_connect_api::{ConfigDef, ConfigKey, ConfigType, Importance, Validator};

use crate::placeholders::resolve_placeholders;
use crate::properties::parse_properties;

/// Sink types a source pipeline can deliver to (`sink.type`).
pub const SINK_TYPES: &[&str] = &["kafka", "file", "stdout", "null"];

/// The worker's keys (Kafka Connect's names where Connect has one).
pub fn worker_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey::new("bootstrap.servers", ConfigType::List).default("localhost:9092").importance(Importance::High).doc("Kafka brokers to connect to (host:port, comma-separated)."))
        .define(ConfigKey::new("group.id", ConfigType::String).optional().importance(Importance::High).doc("Distributed mode: the Connect cluster's group id."))
        .define(ConfigKey::new("key.converter", ConfigType::Class).default("org.apache.kafka.connect.json.JsonConverter").importance(Importance::High).doc("Converter for record keys: org.apache.kafka.connect.json.JsonConverter (json) or org.apache.kafka.connect.storage.StringConverter (string). Its settings go under key.converter.*."))
        .define(ConfigKey::new("value.converter", ConfigType::Class).default("org.apache.kafka.connect.json.JsonConverter").importance(Importance::High).doc("Converter for record values; settings under value.converter.*."))
        .define(ConfigKey::new("header.converter", ConfigType::Class).default("org.apache.kafka.connect.storage.SimpleHeaderConverter").importance(Importance::Low).doc("Converter for headers (only SimpleHeaderConverter is supported)."))
        .define(ConfigKey::new("offset.storage.file.filename", ConfigType::String).optional().importance(Importance::High).doc("Standalone mode: file holding committed source offsets (JSON, written atomically)."))
        .define(ConfigKey::new("offset.flush.interval.ms", ConfigType::Long).default("60000").validator(Validator::at_least(1)).importance(Importance::Low).doc("How often committed offsets are written to the offset store and reported to the source."))
        .define(ConfigKey::new("offset.flush.timeout.ms", ConfigType::Long).default("5000").validator(Validator::at_least(0)).importance(Importance::Low).doc("How long a shutdown waits for outstanding acknowledgements before committing what is durable."))
        .define(ConfigKey::new("task.shutdown.graceful.timeout.ms", ConfigType::Long).default("5000").validator(Validator::at_least(0)).importance(Importance::Low).doc("Accepted for compatibility; a stopping task finishes its current poll, which returns within poll.interval.ms."))
        .define(ConfigKey::new("rest.host.name", ConfigType::String).optional().importance(Importance::Low).doc("Host name the REST API listens on (all interfaces when unset)."))
        .define(ConfigKey::new("rest.port", ConfigType::Int).default("8083").validator(Validator::between(0, 65535)).importance(Importance::Low).doc("Port the REST API listens on."))
        .define(ConfigKey::new("rest.auth.type", ConfigType::String).default("none").validator(Validator::OneOf(&["none", "basic", "bearer"])).importance(Importance::Medium).doc("REST API authentication: none, basic (rest.auth.user / rest.auth.password) or bearer (rest.auth.token). Use ${env:…} or ${file:…} for the secrets."))
        .define(ConfigKey::new("rest.auth.user", ConfigType::String).optional().importance(Importance::Low).doc("User name for rest.auth.type=basic."))
        .define(ConfigKey::new("rest.auth.password", ConfigType::Password).optional().importance(Importance::Low).doc("Password for rest.auth.type=basic."))
        .define(ConfigKey::new("rest.auth.token", ConfigType::Password).optional().importance(Importance::Low).doc("Token for rest.auth.type=bearer."))
        .define(ConfigKey::new("rest.max.body.bytes", ConfigType::Long).default("1048576").validator(Validator::at_least(1)).importance(Importance::Low).doc("Largest REST request body accepted; larger ones get 413."))
        .define(ConfigKey::new("listeners", ConfigType::List).default("").importance(Importance::Low).doc("REST listeners (http://host:port)."))
        .define(ConfigKey::new("plugin.path", ConfigType::List).default("").importance(Importance::Low).doc("Accepted for compatibility; sluice's plugins are built in."))
        .define(ConfigKey::new("config.providers", ConfigType::List).default("").importance(Importance::Low).doc("Accepted for compatibility; ${env:NAME} and ${file:path:key} are always resolved."))
        .define(ConfigKey::new("offset.storage.topic", ConfigType::String).optional().importance(Importance::Medium).doc("Kafka topic holding source offsets (compacted; created if missing) in Kafka Connect's layout: key [\"<connector>\", {partition}], value the offset. Used in standalone mode too when offset.storage.file.filename is not set."))
        .define(ConfigKey::new("offset.storage.partitions", ConfigType::Int).default("25").validator(Validator::at_least(-1)).importance(Importance::Low).doc("Partitions of the offsets topic when sluice creates it (-1: the broker's default)."))
        .define(ConfigKey::new("offset.storage.replication.factor", ConfigType::Int).default("3").validator(Validator::at_least(-1)).importance(Importance::Low).doc("Replication factor of the offsets topic when sluice creates it (-1: the broker's default)."))
        .define(ConfigKey::new("topic.creation.enable", ConfigType::Boolean).default("true").importance(Importance::Low).doc("Whether the Kafka sink creates missing topics, with the connector's topic.creation.* settings (KIP-158; the broker's defaults when the connector has none)."))
        .define(ConfigKey::new("config.storage.topic", ConfigType::String).optional().importance(Importance::Medium).doc("Kafka topic keeping connector configurations and target states (one partition, compacted; created if missing) in Kafka Connect's layout. Connectors stored there that no file names are started again when the worker starts."))
        .define(ConfigKey::new("config.storage.file.filename", ConfigType::String).optional().importance(Importance::Medium).doc("Standalone mode without Kafka: JSON file keeping the connectors created or changed over the REST API (and their paused/stopped states), written atomically; they start again with the worker. config.storage.topic takes precedence."))
        .define(ConfigKey::new("config.storage.replication.factor", ConfigType::Int).default("3").validator(Validator::at_least(-1)).importance(Importance::Low).doc("Replication factor of the config topic when sluice creates it (-1: the broker's default)."))
        .define(ConfigKey::new("status.storage.topic", ConfigType::String).optional().importance(Importance::Medium).doc("Kafka topic receiving connector and task statuses in Kafka Connect's layout (compacted; created if missing)."))
        .define(ConfigKey::new("status.storage.partitions", ConfigType::Int).default("5").validator(Validator::at_least(-1)).importance(Importance::Low).doc("Partitions of the status topic when sluice creates it (-1: the broker's default)."))
        .define(ConfigKey::new("status.storage.replication.factor", ConfigType::Int).default("3").validator(Validator::at_least(-1)).importance(Importance::Low).doc("Replication factor of the status topic when sluice creates it (-1: the broker's default)."))
        .define(ConfigKey::new("sink.type", ConfigType::String).default("kafka").validator(Validator::OneOf(SINK_TYPES)).importance(Importance::High).doc("Where source pipelines deliver: kafka (the worker's Kafka), file, stdout or null. Configure it under sink.<type>.*; a connector may override."))
}

/// Prefixes of worker keys that are passed on to other components.
pub const WORKER_PREFIXES: &[&str] = &[
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "producer.",
    "consumer.",
    "admin.",
    "sink.",
    "config.providers.",
    "listeners.",
    "ssl.",
    "sasl.",
    "security.",
    "offset.storage.",
    "config.storage.",
    "status.storage.",
    "rest.",
];

/// Keys every connector has, whatever its class (Kafka's `ConnectorConfig`
/// plus the pipeline settings Debezium's connectors share).
pub fn common_connector_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey::new("name", ConfigType::String).validator(Validator::NonEmptyString).importance(Importance::High).doc("Globally unique name of the connector."))
        .define(ConfigKey::new("connector.class", ConfigType::Class).importance(Importance::High).doc("The connector's class name or alias."))
        .define(ConfigKey::new("tasks.max", ConfigType::Int).default("1").validator(Validator::at_least(1)).importance(Importance::High).doc("Maximum number of tasks."))
        .define(ConfigKey::new("key.converter", ConfigType::Class).optional().importance(Importance::Low).doc("Overrides the worker's key converter."))
        .define(ConfigKey::new("value.converter", ConfigType::Class).optional().importance(Importance::Low).doc("Overrides the worker's value converter."))
        .define(ConfigKey::new("header.converter", ConfigType::Class).optional().importance(Importance::Low).doc("Overrides the worker's header converter."))
        .define(ConfigKey::new("transforms", ConfigType::List).default("").importance(Importance::Low).doc("Aliases of the transforms to apply, in order; each configured under transforms.<alias>.*"))
        .define(ConfigKey::new("predicates", ConfigType::List).default("").importance(Importance::Low).doc("Aliases of predicates used by transforms; each configured under predicates.<alias>.*"))
        .define(ConfigKey::new("errors.tolerance", ConfigType::String).default("none").validator(Validator::OneOf(&["none", "all"])).importance(Importance::Medium).doc("none: a record that fails conversion or transformation fails the task; all: it is skipped (logged when errors.log.enable, sent to errors.deadletterqueue.topic.name when set)."))
        .define(ConfigKey::new("errors.deadletterqueue.topic.name", ConfigType::String).default("").importance(Importance::Medium).doc("With errors.tolerance=all: topic receiving records that fail a transform or converter (the original record, converted with the connector's converters, or as schemaless JSON when a converter failed), through the connector's sink. Its offset commits once that write is durable."))
        .define(ConfigKey::new("errors.deadletterqueue.context.headers.enable", ConfigType::Boolean).default("false").importance(Importance::Low).doc("Add Kafka Connect's __connect.errors.* headers (topic, partition, offset, connector.name, task.id, stage, class.name, exception.class.name, exception.message, exception.stacktrace) to dead-letter records."))
        .define(ConfigKey::new("errors.log.enable", ConfigType::Boolean).default("false").importance(Importance::Medium).doc("Log records skipped under errors.tolerance=all."))
        .define(ConfigKey::new("errors.log.include.messages", ConfigType::Boolean).default("false").importance(Importance::Low).doc("Include the record's topic and position in those log lines (never its contents)."))
        .define(ConfigKey::new("errors.retry.timeout", ConfigType::Long).default("0").validator(Validator::at_least(-1)).importance(Importance::Medium).doc("How long retriable errors are retried (ms; -1 = forever, 0 = use errors.max.retries)."))
        .define(ConfigKey::new("errors.retry.delay.max.ms", ConfigType::Long).default("60000").validator(Validator::at_least(1)).importance(Importance::Medium).doc("Maximum backoff between retries."))
        .define(ConfigKey::new("errors.max.retries", ConfigType::Int).default("-1").validator(Validator::at_least(-1)).importance(Importance::Low).doc("Debezium: how many times a retriable error is retried before the task fails (-1 = no limit)."))
        .define(ConfigKey::new("retriable.restart.connector.wait.ms", ConfigType::Long).default("10000").validator(Validator::at_least(0)).importance(Importance::Low).doc("Debezium: first backoff after a retriable error."))
        .define(ConfigKey::new("max.queue.size", ConfigType::Int).default("8192").validator(Validator::at_least(1)).importance(Importance::Medium).doc("Maximum number of records queued between the reader and the sink; a full queue slows the reader."))
        .define(ConfigKey::new("max.batch.size", ConfigType::Int).default("2048").validator(Validator::at_least(1)).importance(Importance::Medium).doc("Maximum number of records in one batch handed to the sink."))
        .define(ConfigKey::new("max.queue.size.in.bytes", ConfigType::Long).default("0").validator(Validator::at_least(0)).importance(Importance::Medium).doc("Maximum bytes of records queued (0 = only max.queue.size limits the queue)."))
        .define(ConfigKey::new("poll.interval.ms", ConfigType::Long).default("500").validator(Validator::at_least(1)).importance(Importance::Medium).doc("How long a poll waits for new records before returning an empty batch."))
        .define(ConfigKey::new("sink.type", ConfigType::String).optional().validator(Validator::OneOf(SINK_TYPES)).importance(Importance::Medium).doc("Overrides the worker's sink.type for this connector."))
}

/// Connector keys that are accepted by every connector but not declared.
pub const CONNECTOR_PREFIXES: &[&str] = &[
    "transforms.",
    "predicates.",
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "sink.",
    "topic.creation.",
    "producer.override.",
    "consumer.override.",
    "admin.override.",
];

/// Accepted connector keys that sluice reads but need no declaration.
pub const CONNECTOR_KEYS: &[&str] = &[
    "config.action.reload",
    "exactly.once.support",
    "transaction.boundary",
    "offsets.storage.topic",
];

/// A connector configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorFile {
    pub name: String,
    pub config: Props,
}

/// Where a configuration problem is: file and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {key}{}{message}", if key.is_empty() { "" } else { ": " })]
pub struct ConfigFileError {
    pub file: String,
    pub key: String,
    pub message: String,
}

impl ConfigFileError {
    pub fn new(file: &Path, key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigFileError {
            file: file.display().to_string(),
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Reads a worker `.properties` file and resolves placeholders.
pub fn load_worker_file(path: &Path) -> Result<Props, ConfigFileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigFileError::new(path, "", format!("cannot read file: {e}")))?;
    let props = parse_properties(&text).map_err(|e| {
        ConfigFileError::new(path, "", format!("not a valid .properties file: {e}"))
    })?;
    resolve_placeholders(&props).map_err(|(k, m)| ConfigFileError::new(path, k, m))
}

/// Reads a connector file: `.properties`, or the JSON that `POST
/// /connectors` takes (`{"name": ..., "config": {...}}`). Placeholders must
/// resolve, but stay in the returned configuration. The name comes from
/// `name` (JSON top level or config).
pub fn load_connector_file(path: &Path) -> Result<ConnectorFile, ConfigFileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigFileError::new(path, "", format!("cannot read file: {e}")))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{');
    let config = if is_json {
        parse_connector_json(&text).map_err(|(k, m)| ConfigFileError::new(path, k, m))?
    } else {
        parse_properties(&text).map_err(|e| {
            ConfigFileError::new(path, "", format!("not a valid .properties file: {e}"))
        })?
    };
    // Checked here so a missing variable or file is reported by file and
    // key; the configuration itself keeps its placeholders (the worker
    // resolves them when it starts the connector, and the REST API shows
    // them unresolved).
    resolve_placeholders(&config).map_err(|(k, m)| ConfigFileError::new(path, k, m))?;
    let name = config
        .get("name")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ConfigFileError::new(path, "name", "missing required connector name"))?;
    Ok(ConnectorFile { name, config })
}

/// Parses `{"name": ..., "config": {...}}` (or a bare config object) into
/// string properties. Non-string JSON values are rendered as text.
pub fn parse_connector_json(text: &str) -> Result<Props, (String, String)> {
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| (String::new(), format!("not valid JSON: {e}")))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| (String::new(), "expected a JSON object".to_string()))?;
    let (top_name, config) = match obj.get("config") {
        Some(serde_json::Value::Object(c)) => (obj.get("name"), c),
        Some(_) => return Err(("config".into(), "must be a JSON object".into())),
        None => (None, obj),
    };
    let mut props = Props::new();
    for (k, v) in config {
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => continue,
            serde_json::Value::Bool(_) | serde_json::Value::Number(_) => v.to_string(),
            _ => {
                return Err((
                    k.clone(),
                    "value must be a string, number or boolean".into(),
                ))
            }
        };
        props.insert(k.clone(), s);
    }
    if let Some(name) = top_name {
        let name = name
            .as_str()
            .ok_or_else(|| ("name".to_string(), "must be a string".to_string()))?;
        match props.get("name") {
            Some(inner) if inner != name => {
                return Err((
                    "name".into(),
                    format!("top-level name \"{name}\" differs from config name \"{inner}\""),
                ));
            }
            _ => {
                props.insert("name".into(), name.to_string());
            }
        }
    }
    Ok(props)
}

/// Properties under `prefix`, with the prefix removed.
pub fn with_prefix(props: &Props, prefix: &str) -> Props {
    sluice_connect_api::config::props_with_prefix(props, prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_json_and_properties_connector_files() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("c.json");
        std::fs::write(&json, r#"{"name": "lines", "config": {"connector.class": "FileStreamSource", "tasks.max": 1, "topic": "t"}}"#).unwrap();
        let c = load_connector_file(&json).unwrap();
        assert_eq!(c.name, "lines");
        assert_eq!(c.config["tasks.max"], "1");
        assert_eq!(c.config["name"], "lines");
        let props = dir.path().join("c.properties");
        std::fs::write(&props, "name=p\nconnector.class=FileStreamSource\n").unwrap();
        assert_eq!(load_connector_file(&props).unwrap().name, "p");
    }

    #[test]
    fn connector_file_errors_name_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.json");
        std::fs::write(&f, r#"{"config": {"connector.class": "x"}}"#).unwrap();
        let e = load_connector_file(&f).unwrap_err();
        assert_eq!(e.key, "name");
        assert!(e.to_string().contains("bad.json: name: "), "{e}");
        std::fs::write(&f, "{nope").unwrap();
        assert!(load_connector_file(&f)
            .unwrap_err()
            .message
            .contains("not valid JSON"));
        std::fs::write(&f, r#"{"name": "a", "config": {"name": "b"}}"#).unwrap();
        assert_eq!(load_connector_file(&f).unwrap_err().key, "name");
    }

    #[test]
    fn declared_defs_have_no_duplicates_and_validate() {
        let w = worker_config_def();
        let mut props = Props::new();
        props.insert("sink.type".into(), "carrier-pigeon".into());
        let issues = w.issues(&props);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].key, "sink.type");
        let c = common_connector_config_def();
        let issues = c.issues(&Props::new());
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["name", "connector.class"]);
    }
}
