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

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, ProducerContext};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use serde_json::{Map, Value as Json};
use sluice_connect_api::config::Props;
use sluice_connect_api::{ConnectError, ErrorKind, SourceOffset, SourcePartition};
use sluice_runtime::offsets::OffsetStore;

use crate::admin::TopicManager;
use crate::client::{client_config, client_settings};
use crate::topics::{NewTopicSpec, TopicCreation};
use crate::{kafka_error, kind_of_code};

#[derive(Default)]
struct PutState {
    remaining: AtomicUsize,
    error: Mutex<Option<ConnectError>>,
}

struct PutContext;

impl ClientContext for PutContext {}

impl ProducerContext for PutContext {
    type DeliveryOpaque = Arc<PutState>;

    fn delivery(&self, result: &DeliveryResult<'_>, put: Arc<PutState>) {
        if let Err((e, _)) = result {
            let kind = e
                .rdkafka_error_code()
                .map_or(ErrorKind::Connection, kind_of_code);
            let mut slot = put.error.lock().expect("put error");
            if slot.is_none() {
                *slot = Some(ConnectError::new(
                    kind,
                    format!("writing offsets to Kafka failed: {e}"),
                ));
            }
        }
        put.remaining.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One stored entry: connector, source partition, offset.
type Entry = (String, Map<String, Json>, SourceOffset);

/// Offsets in `offset.storage.topic`.
pub struct KafkaOffsetStore {
    topic: String,
    producer: BaseProducer<PutContext>,
    state: Mutex<BTreeMap<String, Entry>>,
    timeout: Duration,
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
        let (client, _) = client_settings(worker, "\u{0}", &Props::new(), "")
            .map_err(|e| ConnectError::config(format!("offset store setting {e}")))?;
        let topics = TopicManager::new(
            &client,
            TopicCreation::from_props(&Props::new(), true)
                .map_err(|e| ConnectError::config(e.to_string()))?,
        )?;
        if topics.partitions(&settings.topic).await?.is_none() {
            let mut configs = BTreeMap::new();
            configs.insert("cleanup.policy".to_string(), "compact".to_string());
            topics
                .create(
                    &settings.topic,
                    &NewTopicSpec {
                        partitions: settings.partitions,
                        replication_factor: settings.replication_factor,
                        configs,
                        group: "offset.storage".to_string(),
                    },
                )
                .await?;
            topics.ensure(&settings.topic).await?;
        }
        let timeout = Duration::from_secs(30);
        let topic = settings.topic.clone();
        let client2 = client.clone();
        let state = tokio::task::spawn_blocking(move || read_all(&client2, &topic, timeout))
            .await
            .map_err(|e| ConnectError::internal(format!("offset reader failed: {e}")))??;
        let producer: BaseProducer<PutContext> = client_config(
            &client,
            &[
                ("acks", "all"),
                ("enable.idempotence", "true"),
                ("partitioner", "murmur2_random"),
                ("linger.ms", "0"),
                ("client.id", "sluice-offsets"),
            ],
        )
        .create_with_context(PutContext)
        .map_err(|e| kafka_error("creating the offset store's producer", &e))?;
        tracing::info!(topic = %settings.topic, entries = state.len(), "read source offsets from Kafka");
        Ok(KafkaOffsetStore {
            topic: settings.topic.clone(),
            producer,
            state: Mutex::new(state),
            timeout,
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }
}

/// Reads the whole topic, the last record per key winning.
fn read_all(
    client: &BTreeMap<String, String>,
    topic: &str,
    timeout: Duration,
) -> Result<BTreeMap<String, Entry>, ConnectError> {
    let consumer: BaseConsumer = client_config(
        client,
        &[
            ("group.id", "sluice-offset-reader"),
            ("enable.auto.commit", "false"),
            ("enable.partition.eof", "false"),
            ("client.id", "sluice-offsets-reader"),
        ],
    )
    .create()
    .map_err(|e| kafka_error("creating the offset store's consumer", &e))?;
    let md = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(|e| kafka_error(&format!("reading metadata of {topic}"), &e))?;
    let partitions: Vec<i32> = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().iter().map(|p| p.id()).collect())
        .unwrap_or_default();
    let mut end: HashMap<i32, i64> = HashMap::new();
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, *p, timeout)
            .map_err(|e| kafka_error(&format!("reading the end of {topic}/{p}"), &e))?;
        if high > low {
            end.insert(*p, high);
            tpl.add_partition_offset(topic, *p, Offset::Beginning)
                .map_err(|e| kafka_error("assigning partitions", &e))?;
        }
    }
    let mut state = BTreeMap::new();
    if end.is_empty() {
        return Ok(state);
    }
    consumer
        .assign(&tpl)
        .map_err(|e| kafka_error(&format!("reading {topic}"), &e))?;
    let deadline = Instant::now() + timeout * 4;
    loop {
        if Instant::now() > deadline {
            return Err(ConnectError::new(
                ErrorKind::Timeout,
                format!(
                    "reading the offsets topic {topic} did not finish within {:?}",
                    timeout * 4
                ),
            ));
        }
        // Past the high watermarks, read on until the topic is quiet: some
        // brokers (tansu) report a watermark that lags the last batch.
        let quiet = end.is_empty();
        let Some(msg) = consumer.poll(Duration::from_millis(if quiet { 500 } else { 200 })) else {
            if quiet {
                break;
            }
            continue;
        };
        let msg = msg.map_err(|e| kafka_error(&format!("reading {topic}"), &e))?;
        let (p, o) = (msg.partition(), msg.offset());
        let Some(key) = msg.key() else { continue };
        let parsed: Option<(String, Map<String, Json>)> = match serde_json::from_slice::<Json>(key)
        {
            Ok(Json::Array(items)) if items.len() == 2 => match (&items[0], &items[1]) {
                (Json::String(c), Json::Object(m)) => Some((c.clone(), m.clone())),
                _ => None,
            },
            _ => None,
        };
        match parsed {
            None => tracing::warn!(
                topic,
                partition = p,
                offset = o,
                "skipping an offsets record whose key is not [\"connector\", {{partition}}]"
            ),
            Some((connector, partition)) => {
                let k = String::from_utf8_lossy(key).into_owned();
                match msg.payload() {
                    None => {
                        state.remove(&k);
                    }
                    Some(v) => match serde_json::from_slice::<Json>(v) {
                        Ok(Json::Object(offset)) => {
                            state.insert(k, (connector, partition, offset));
                        }
                        Ok(Json::Null) => {
                            state.remove(&k);
                        }
                        _ => tracing::warn!(
                            topic,
                            partition = p,
                            offset = o,
                            "skipping an offsets record whose value is not a JSON object"
                        ),
                    },
                }
            }
        }
        if end.get(&p).is_some_and(|h| o + 1 >= *h) {
            end.remove(&p);
        }
    }
    Ok(state)
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
        let put = Arc::new(PutState::default());
        let mut entries = Vec::with_capacity(offsets.len());
        for (p, o) in offsets {
            let key = offset_key(connector, p);
            let value = serde_json::to_vec(o).expect("JSON values serialize");
            put.remaining.fetch_add(1, Ordering::AcqRel);
            let record = BaseRecord::with_opaque_to(&self.topic, put.clone())
                .key(&key)
                .payload(&value);
            if let Err((e, _)) = self.producer.send(record) {
                put.remaining.fetch_sub(1, Ordering::AcqRel);
                return Err(kafka_error(
                    &format!("writing offsets to {}", self.topic),
                    &e,
                ));
            }
            entries.push((key, (**p).clone(), o.clone()));
        }
        let deadline = Instant::now() + self.timeout;
        while put.remaining.load(Ordering::Acquire) > 0 {
            if Instant::now() > deadline {
                return Err(ConnectError::new(
                    ErrorKind::Timeout,
                    format!(
                        "Kafka did not acknowledge the offsets written to {} within {:?}",
                        self.topic, self.timeout
                    ),
                ));
            }
            self.producer.poll(Duration::from_millis(50));
        }
        if let Some(e) = put.error.lock().expect("put error").take() {
            return Err(e);
        }
        let mut state = self.state.lock().expect("offsets");
        for (key, partition, offset) in entries {
            state.insert(
                String::from_utf8(key).expect("JSON is UTF-8"),
                (connector.to_string(), partition, offset),
            );
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
