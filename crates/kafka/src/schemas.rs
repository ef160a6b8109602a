//! The schema registry's contents in a compacted Kafka topic (`_schemas`),
//! for `sluice registry --bootstrap-servers`: every change is one record,
//! keyed so that compaction keeps the latest state of each thing:
//!
//! * `{"keytype":"SCHEMA","subject":S,"version":V,"magic":1}` →
//!   `{"subject":S,"version":V,"id":N,"schema":TEXT,"deleted":B}` (the layout
//!   of Confluent's `_schemas` records); a permanent delete is a tombstone;
//! * `{"keytype":"CONFIG","subject":S|null,"magic":0}` →
//!   `{"compatibilityLevel":L}`, a tombstone when the level is removed;
//! * `{"keytype":"SLUICE_SCHEMA_ID","id":N,"magic":1}` → the schema of a
//!   global id (kept even when no version refers to it any more, so ids
//!   are never reused).
//!
//! `append` returns once the broker has acknowledged the records
//! (`acks=all`); at start the topic is read to its end and replayed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};
use sluice_connect_api::config::Props;
use sluice_registry::{Change, RegistryError, State, Storage, StoredSchema};

use crate::log::{
    ensure_compacted_topic, read_to_end, store_client_settings, LogRecord, LogWriter,
};

fn storage_error(what: &str, e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Storage(format!("{what}: {e}"))
}

/// Registry storage in a Kafka topic.
pub struct KafkaSchemaStorage {
    topic: String,
    client: BTreeMap<String, String>,
    writer: Arc<LogWriter>,
    replication_factor: i32,
}

impl KafkaSchemaStorage {
    /// Storage in `topic` on the brokers of `bootstrap`; `replication_factor`
    /// is used when the topic has to be created (-1: the broker's default).
    pub fn new(
        bootstrap: &str,
        topic: &str,
        replication_factor: i32,
    ) -> Result<KafkaSchemaStorage, RegistryError> {
        let mut props = Props::new();
        props.insert("bootstrap.servers".into(), bootstrap.to_string());
        let client =
            store_client_settings(&props).map_err(|e| storage_error("Kafka settings", e))?;
        let writer = LogWriter::new(&client, topic, "sluice-registry")
            .map_err(|e| storage_error("Kafka producer", e))?;
        Ok(KafkaSchemaStorage {
            topic: topic.to_string(),
            client,
            writer: Arc::new(writer),
            replication_factor,
        })
    }

    fn records(changes: &[Change], after: &State) -> Vec<(Value, Option<Value>)> {
        changes
            .iter()
            .map(|c| match c {
                Change::PutSchema { id, schema } => (
                    json!({"keytype": "SLUICE_SCHEMA_ID", "id": id, "magic": 1}),
                    Some(serde_json::to_value(schema).expect("schemas serialize")),
                ),
                Change::PutVersion {
                    subject,
                    version,
                    id,
                    deleted,
                } => (
                    json!({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}),
                    Some(json!({
                        "subject": subject,
                        "version": version,
                        "id": id,
                        "schema": after.schemas().get(id).map(|s| s.schema.clone()),
                        "deleted": deleted,
                    })),
                ),
                Change::RemoveVersion { subject, version } => (
                    json!({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}),
                    None,
                ),
                Change::SetCompatibility { subject, level } => (
                    json!({"keytype": "CONFIG", "subject": subject, "magic": 0}),
                    level.map(|l| json!({"compatibilityLevel": l})),
                ),
            })
            .collect()
    }

    /// A record read back → the change it stands for.
    fn change_of(key: &Value, value: Option<&Value>) -> Option<Change> {
        match key.get("keytype")?.as_str()? {
            "SLUICE_SCHEMA_ID" => {
                let id = u32::try_from(key.get("id")?.as_u64()?).ok()?;
                let schema: StoredSchema = serde_json::from_value(value?.clone()).ok()?;
                Some(Change::PutSchema { id, schema })
            }
            "SCHEMA" => {
                let subject = key.get("subject")?.as_str()?.to_string();
                let version = u32::try_from(key.get("version")?.as_u64()?).ok()?;
                match value {
                    None => Some(Change::RemoveVersion { subject, version }),
                    Some(v) => Some(Change::PutVersion {
                        subject,
                        version,
                        id: u32::try_from(v.get("id")?.as_u64()?).ok()?,
                        deleted: v.get("deleted").and_then(Value::as_bool).unwrap_or(false),
                    }),
                }
            }
            "CONFIG" => Some(Change::SetCompatibility {
                subject: key.get("subject").and_then(Value::as_str).map(String::from),
                level: match value {
                    None => None,
                    Some(v) => {
                        Some(serde_json::from_value(v.get("compatibilityLevel")?.clone()).ok()?)
                    }
                },
            }),
            _ => None,
        }
    }

    fn replay(&self, records: Vec<(i32, LogRecord)>) -> Result<State, RegistryError> {
        let mut state = State::new();
        for (_, (key, value)) in records {
            let key: Option<Value> = key.and_then(|k| serde_json::from_slice(&k).ok());
            let value: Option<Value> = value.and_then(|v| serde_json::from_slice(&v).ok());
            match key.and_then(|k| Self::change_of(&k, value.as_ref())) {
                Some(change) => state.apply(&change),
                None => {
                    tracing::warn!(topic = %self.topic, "skipping a record that is not a registry change")
                }
            }
        }
        state
            .validate()
            .map_err(|m| storage_error(&format!("the contents of {}", self.topic), m))?;
        Ok(state)
    }
}

#[async_trait]
impl Storage for KafkaSchemaStorage {
    async fn load(&self) -> Result<State, RegistryError> {
        // One partition: the changes are replayed in the order they were made.
        ensure_compacted_topic(&self.client, &self.topic, 1, self.replication_factor)
            .await
            .map_err(|e| storage_error("creating the schemas topic", e))?;
        let (client, topic) = (self.client.clone(), self.topic.clone());
        let records = tokio::task::spawn_blocking(move || {
            read_to_end(&client, &topic, Duration::from_secs(30))
        })
        .await
        .map_err(|e| storage_error("reader task", e))?
        .map_err(|e| storage_error(&format!("reading {}", self.topic), e))?;
        self.replay(records)
    }

    async fn append(&self, changes: &[Change], after: &State) -> Result<(), RegistryError> {
        let records: Vec<(Vec<u8>, Option<Vec<u8>>)> = Self::records(changes, after)
            .into_iter()
            .map(|(k, v)| {
                (
                    serde_json::to_vec(&k).expect("JSON"),
                    v.map(|v| serde_json::to_vec(&v).expect("JSON")),
                )
            })
            .collect();
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || writer.write(&records, Some(0)))
            .await
            .map_err(|e| storage_error("writer task", e))?
            .map_err(|e| storage_error(&format!("writing to {}", self.topic), e))
    }
}
