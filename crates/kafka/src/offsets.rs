//! Source offsets in a compacted Kafka topic (`offset.storage.topic`), in
//! Kafka Connect's layout so tools that read a Connect offsets topic read
//! sluice's:
//!
//! * key: `["<connector>", {<source partition>}]`, value: `{<offset>}`, both
//!   schemaless JSON (Connect's JsonConverter with `schemas.enable=false`);
//!   a null value (tombstone) deletes the partition's offset;
//! * the Kafka partition is murmur2(key) as Java's producer picks it, so one
//!   source partition's offsets stay in order.
//!
//! `put` returns only once the broker acknowledged every record (`acks=all`,
//! idempotent producer): then the offsets survive a crash of this process.
//! On open the whole topic is read back, the last record per key winning.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value as Json};
use sluice_connect_api::config::Props;
use sluice_connect_api::{ConnectError, SourceOffset, SourcePartition};
use sluice_runtime::offsets::OffsetStore;

use crate::log::{
    ensure_compacted_topic, read_to_end, store_client_settings, LogRecord, LogWriter,
};

/// One stored entry: connector, source partition, offset.
type Entry = (String, Map<String, Json>, SourceOffset);

/// Offsets in `offset.storage.topic`.
pub struct KafkaOffsetStore {
    writer: LogWriter,
    state: Mutex<BTreeMap<String, Entry>>,
}

/// Settings of the offsets topic (Kafka Connect's worker keys).
#[derive(Debug, Clone)]
pub struct OffsetTopicSettings {
    pub topic: String,
    /// `offset.storage.partitions` (Connect's default 25).
    pub partitions: i32,
    /// `offset.storage.replication.factor` (Connect's default 3; -1 for the
    /// broker's default).
    pub replication_factor: i32,
}

impl OffsetTopicSettings {
    /// From the worker's `offset.storage.*` keys.
    pub fn from_worker(worker: &Props) -> Result<Option<Self>, ConnectError> {
        let Some(topic) = worker
            .get("offset.storage.topic")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        let int = |key: &str, default: i32| -> Result<i32, ConnectError> {
            match worker.get(key) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n: &i32| *n == -1 || *n >= 1)
                    .ok_or_else(|| {
                        ConnectError::config(format!(
                            "{key}: expected -1 or a positive integer, got {v:?}"
                        ))
                    }),
            }
        };
        Ok(Some(OffsetTopicSettings {
            topic,
            partitions: int("offset.storage.partitions", 25)?,
            replication_factor: int("offset.storage.replication.factor", 3)?,
        }))
    }
}

/// The key of a source partition's offsets.
pub fn offset_key(connector: &str, partition: &Map<String, Json>) -> Vec<u8> {
    serde_json::to_vec(&Json::Array(vec![
        Json::String(connector.to_string()),
        Json::Object(partition.clone()),
    ]))
    .expect("JSON values serialize")
}

impl KafkaOffsetStore {
    /// Creates the topic if missing (compacted), then reads it back.
    pub async fn open(
        worker: &Props,
        settings: &OffsetTopicSettings,
    ) -> Result<KafkaOffsetStore, ConnectError> {
        let client = store_client_settings(worker)?;
        ensure_compacted_topic(
            &client,
            &settings.topic,
            settings.partitions,
            settings.replication_factor,
        )
        .await?;
        let topic = settings.topic.clone();
        let reader_client = client.clone();
        let records = tokio::task::spawn_blocking(move || {
            read_to_end(&reader_client, &topic, Duration::from_secs(30))
        })
        .await
        .map_err(|e| ConnectError::internal(format!("offset reader failed: {e}")))??;
        let state = replay(&settings.topic, records);
        tracing::info!(topic = %settings.topic, entries = state.len(), "read source offsets from Kafka");
        Ok(KafkaOffsetStore {
            writer: LogWriter::new(&client, &settings.topic, "sluice-offsets")?,
            state: Mutex::new(state),
        })
    }

    pub fn topic(&self) -> &str {
        self.writer.topic()
    }
}

/// The offsets records in order → the last offset per key.
fn replay(topic: &str, records: Vec<(i32, LogRecord)>) -> BTreeMap<String, Entry> {
    let mut state = BTreeMap::new();
    for (p, (key, value)) in records {
        let Some(key) = key else { continue };
        let parsed: Option<(String, Map<String, Json>)> = match serde_json::from_slice::<Json>(&key)
        {
            Ok(Json::Array(items)) if items.len() == 2 => match (&items[0], &items[1]) {
                (Json::String(c), Json::Object(m)) => Some((c.clone(), m.clone())),
                _ => None,
            },
            _ => None,
        };
        let Some((connector, partition)) = parsed else {
            tracing::warn!(
                topic,
                partition = p,
                "skipping an offsets record whose key is not [\"connector\", {{partition}}]"
            );
            continue;
        };
        let k = String::from_utf8_lossy(&key).into_owned();
        match value.map(|v| serde_json::from_slice::<Json>(&v)) {
            None | Some(Ok(Json::Null)) => {
                state.remove(&k);
            }
            Some(Ok(Json::Object(offset))) => {
                state.insert(k, (connector, partition, offset));
            }
            Some(_) => tracing::warn!(
                topic,
                partition = p,
                "skipping an offsets record whose value is not a JSON object"
            ),
        }
    }
    state
}

impl OffsetStore for KafkaOffsetStore {
    fn get(&self, connector: &str, partition: &Map<String, Json>) -> Option<SourceOffset> {
        let key = String::from_utf8(offset_key(connector, partition)).ok()?;
        self.state
            .lock()
            .expect("offsets")
            .get(&key)
            .map(|(_, _, o)| o.clone())
    }

    fn put(
        &self,
        connector: &str,
        offsets: &[(SourcePartition, SourceOffset)],
    ) -> Result<(), ConnectError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let records: Vec<(Vec<u8>, Option<Vec<u8>>)> = offsets
            .iter()
            .map(|(p, o)| {
                (
                    offset_key(connector, p),
                    Some(serde_json::to_vec(o).expect("JSON values serialize")),
                )
            })
            .collect();
        self.writer.write(&records, None)?;
        let mut state = self.state.lock().expect("offsets");
        for ((key, _), (p, o)) in records.into_iter().zip(offsets) {
            state.insert(
                String::from_utf8(key).expect("JSON is UTF-8"),
                (connector.to_string(), (**p).clone(), o.clone()),
            );
        }
        Ok(())
    }

    fn remove(
        &self,
        connector: &str,
        partitions: &[Map<String, Json>],
    ) -> Result<(), ConnectError> {
        // Tombstones: compaction drops the partition's offsets for good.
        let records: Vec<(Vec<u8>, Option<Vec<u8>>)> = partitions
            .iter()
            .map(|p| (offset_key(connector, p), None))
            .collect();
        if records.is_empty() {
            return Ok(());
        }
        self.writer.write(&records, None)?;
        let mut state = self.state.lock().expect("offsets");
        for (key, _) in records {
            state.remove(&String::from_utf8(key).expect("JSON is UTF-8"));
        }
        Ok(())
    }

    fn all(&self, connector: &str) -> Vec<(Map<String, Json>, SourceOffset)> {
        self.state
            .lock()
            .expect("offsets")
            .values()
            .filter(|(c, _, _)| c == connector)
            .map(|(_, p, o)| (p.clone(), o.clone()))
            .collect()
    }
}
