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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, ProducerContext};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use serde_json::{json, Value};
use sluice_connect_api::config::Props;
use sluice_registry::{Change, RegistryError, State, Storage, StoredSchema};

use crate::admin::TopicManager;
use crate::client::{client_config, client_settings};
use crate::topics::{NewTopicSpec, TopicCreation};

#[derive(Default)]
struct Pending {
    remaining: AtomicUsize,
    error: Mutex<Option<String>>,
}

struct Ctx;
impl ClientContext for Ctx {}
impl ProducerContext for Ctx {
    type DeliveryOpaque = Arc<Pending>;
    fn delivery(&self, result: &DeliveryResult<'_>, p: Arc<Pending>) {
        if let Err((e, _)) = result {
            p.error
                .lock()
                .expect("error")
                .get_or_insert_with(|| e.to_string());
        }
        p.remaining.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Registry storage in a Kafka topic.
pub struct KafkaSchemaStorage {
    topic: String,
    client: BTreeMap<String, String>,
    producer: Arc<BaseProducer<Ctx>>,
    replication_factor: i32,
    timeout: Duration,
}

fn storage_error(what: &str, e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Storage(format!("{what}: {e}"))
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
        let (client, _) = client_settings(&props, "\u{0}", &Props::new(), "")
            .map_err(|e| storage_error("Kafka settings", e))?;
        let producer: BaseProducer<Ctx> = client_config(
            &client,
            &[
                ("acks", "all"),
                ("enable.idempotence", "true"),
                ("linger.ms", "0"),
                ("client.id", "sluice-registry"),
            ],
        )
        .create_with_context(Ctx)
        .map_err(|e| storage_error("creating the registry's Kafka producer", e))?;
        Ok(KafkaSchemaStorage {
            topic: topic.to_string(),
            client,
            producer: Arc::new(producer),
            replication_factor,
            timeout: Duration::from_secs(30),
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

    fn read_all(&self) -> Result<State, RegistryError> {
        let consumer: BaseConsumer = client_config(
            &self.client,
            &[
                ("group.id", "sluice-registry-reader"),
                ("enable.auto.commit", "false"),
                ("client.id", "sluice-registry-reader"),
            ],
        )
        .create()
        .map_err(|e| storage_error("creating the registry's Kafka consumer", e))?;
        let (low, high) = consumer
            .fetch_watermarks(&self.topic, 0, self.timeout)
            .map_err(|e| storage_error(&format!("reading the end of {}", self.topic), e))?;
        let mut state = State::new();
        if high <= low {
            return Ok(state);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, 0, Offset::Beginning)
            .map_err(|e| storage_error("assigning", e))?;
        consumer
            .assign(&tpl)
            .map_err(|e| storage_error(&format!("reading {}", self.topic), e))?;
        let deadline = Instant::now() + self.timeout * 4;
        let mut reached_end = false;
        loop {
            if Instant::now() > deadline {
                return Err(storage_error(
                    &format!("reading {}", self.topic),
                    "timed out",
                ));
            }
            // Past the high watermark, read on until the topic is quiet: some
            // brokers (tansu) report a watermark that lags the last batch.
            let Some(msg) =
                consumer.poll(Duration::from_millis(if reached_end { 500 } else { 200 }))
            else {
                if reached_end {
                    break;
                }
                continue;
            };
            let msg = msg.map_err(|e| storage_error(&format!("reading {}", self.topic), e))?;
            let key: Option<Value> = msg.key().and_then(|k| serde_json::from_slice(k).ok());
            let value: Option<Value> = msg.payload().and_then(|v| serde_json::from_slice(v).ok());
            match key.and_then(|k| Self::change_of(&k, value.as_ref())) {
                Some(change) => state.apply(&change),
                None => {
                    tracing::warn!(topic = %self.topic, offset = msg.offset(), "skipping a record that is not a registry change")
                }
            }
            if msg.offset() + 1 >= high {
                reached_end = true;
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
        let topics = TopicManager::new(
            &self.client,
            TopicCreation::from_props(&Props::new(), true)
                .map_err(|e| storage_error("topic settings", e))?,
        )
        .map_err(|e| storage_error("Kafka admin client", e))?;
        if topics
            .partitions(&self.topic)
            .await
            .map_err(|e| storage_error("Kafka metadata", e))?
            .is_none()
        {
            let mut configs = BTreeMap::new();
            configs.insert("cleanup.policy".to_string(), "compact".to_string());
            topics
                .create(
                    &self.topic,
                    &NewTopicSpec {
                        partitions: 1,
                        replication_factor: self.replication_factor,
                        configs,
                        group: "registry".to_string(),
                    },
                )
                .await
                .map_err(|e| storage_error("creating the schemas topic", e))?;
            topics
                .ensure(&self.topic)
                .await
                .map_err(|e| storage_error("creating the schemas topic", e))?;
        }
        // Blocking reads on a blocking thread.
        let this = KafkaSchemaStorage {
            topic: self.topic.clone(),
            client: self.client.clone(),
            producer: self.producer.clone(),
            replication_factor: self.replication_factor,
            timeout: self.timeout,
        };
        tokio::task::spawn_blocking(move || this.read_all())
            .await
            .map_err(|e| storage_error("reader task", e))?
    }

    async fn append(&self, changes: &[Change], after: &State) -> Result<(), RegistryError> {
        let records = Self::records(changes, after);
        let producer = self.producer.clone();
        let topic = self.topic.clone();
        let timeout = self.timeout;
        tokio::task::spawn_blocking(move || {
            let pending = Arc::new(Pending::default());
            for (key, value) in &records {
                let key = serde_json::to_vec(key).expect("JSON");
                let value = value.as_ref().map(|v| serde_json::to_vec(v).expect("JSON"));
                pending.remaining.fetch_add(1, Ordering::AcqRel);
                let mut record = BaseRecord::with_opaque_to(&topic, pending.clone())
                    .key(&key)
                    .partition(0);
                if let Some(v) = &value {
                    record = record.payload(v);
                }
                if let Err((e, _)) = producer.send(record) {
                    pending.remaining.fetch_sub(1, Ordering::AcqRel);
                    return Err(storage_error(&format!("writing to {topic}"), e));
                }
            }
            let deadline = Instant::now() + timeout;
            while pending.remaining.load(Ordering::Acquire) > 0 {
                if Instant::now() > deadline {
                    return Err(storage_error(
                        &format!("writing to {topic}"),
                        "no acknowledgement in time",
                    ));
                }
                producer.poll(Duration::from_millis(20));
            }
            let error = pending.error.lock().expect("error").take();
            match error {
                Some(e) => Err(storage_error(&format!("writing to {topic}"), e)),
                None => Ok(()),
            }
        })
        .await
        .map_err(|e| storage_error("writer task", e))?
    }
}
