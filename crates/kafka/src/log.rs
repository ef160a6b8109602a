//! Compacted topics used as durable logs (offsets, connector configs,
//! statuses, registry schemas): create the topic if missing, read it to
//! its end, append records and wait for the broker's acknowledgement.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, ProducerContext};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use sluice_connect_api::config::Props;
use sluice_connect_api::{ConnectError, ErrorKind};

use crate::admin::TopicManager;
use crate::client::{client_config, client_settings};
use crate::topics::{NewTopicSpec, TopicCreation};
use crate::{kafka_error, kind_of_code};

/// One record read back: key and value (`None` for a tombstone).
pub type LogRecord = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The connection and security settings of the worker (`bootstrap.servers`,
/// `security.*`, `sasl.*`, `ssl.*`), for the store clients.
pub fn store_client_settings(worker: &Props) -> Result<BTreeMap<String, String>, ConnectError> {
    client_settings(worker, "\u{0}", &Props::new(), "")
        .map(|(s, _)| s)
        .map_err(|e| ConnectError::config(format!("Kafka setting {e}")))
}

/// Creates `topic` (compacted) when it does not exist.
pub async fn ensure_compacted_topic(
    client: &BTreeMap<String, String>,
    topic: &str,
    partitions: i32,
    replication_factor: i32,
) -> Result<(), ConnectError> {
    let topics = TopicManager::new(
        client,
        TopicCreation::from_props(&Props::new(), true)
            .map_err(|e| ConnectError::config(e.to_string()))?,
    )?;
    if topics.partitions(topic).await?.is_some() {
        return Ok(());
    }
    let mut configs = BTreeMap::new();
    configs.insert("cleanup.policy".to_string(), "compact".to_string());
    topics
        .create(
            topic,
            &NewTopicSpec {
                partitions,
                replication_factor,
                configs,
                group: "internal".to_string(),
            },
        )
        .await?;
    topics.ensure(topic).await
}

/// Reads every partition of `topic` from the beginning to its end (blocking;
/// call on a blocking thread). Records of one partition are in order.
pub fn read_to_end(
    client: &BTreeMap<String, String>,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<(i32, LogRecord)>, ConnectError> {
    let consumer: BaseConsumer = client_config(
        client,
        &[
            ("group.id", "sluice-store-reader"),
            ("enable.auto.commit", "false"),
            ("client.id", "sluice-store-reader"),
        ],
    )
    .create()
    .map_err(|e| kafka_error("creating a Kafka consumer", &e))?;
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
    let mut out = Vec::new();
    if end.is_empty() {
        return Ok(out);
    }
    consumer
        .assign(&tpl)
        .map_err(|e| kafka_error(&format!("reading {topic}"), &e))?;
    let deadline = Instant::now() + timeout * 4;
    loop {
        if Instant::now() > deadline {
            return Err(ConnectError::new(
                ErrorKind::Timeout,
                format!("reading {topic} did not finish within {:?}", timeout * 4),
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
        out.push((
            p,
            (
                msg.key().map(<[u8]>::to_vec),
                msg.payload().map(<[u8]>::to_vec),
            ),
        ));
        if end.get(&p).is_some_and(|h| o + 1 >= *h) {
            end.remove(&p);
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Pending {
    remaining: AtomicUsize,
    error: Mutex<Option<ConnectError>>,
}

struct AckContext;

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = Arc<Pending>;

    fn delivery(&self, result: &DeliveryResult<'_>, p: Arc<Pending>) {
        if let Err((e, _)) = result {
            let kind = e
                .rdkafka_error_code()
                .map_or(ErrorKind::Connection, kind_of_code);
            p.error
                .lock()
                .expect("error")
                .get_or_insert_with(|| ConnectError::new(kind, e.to_string()));
        }
        p.remaining.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Appends records to one topic; `write` returns once all are acknowledged
/// (`acks=all`, idempotent) — then they survive a crash of this process.
pub struct LogWriter {
    topic: String,
    producer: BaseProducer<AckContext>,
    timeout: Duration,
}

impl LogWriter {
    pub fn new(
        client: &BTreeMap<String, String>,
        topic: &str,
        client_id: &str,
    ) -> Result<LogWriter, ConnectError> {
        let producer = client_config(
            client,
            &[
                ("acks", "all"),
                ("enable.idempotence", "true"),
                ("partitioner", "murmur2_random"),
                ("linger.ms", "0"),
                ("client.id", client_id),
            ],
        )
        .create_with_context(AckContext)
        .map_err(|e| kafka_error(&format!("creating the producer for {topic}"), &e))?;
        Ok(LogWriter {
            topic: topic.to_string(),
            producer,
            timeout: Duration::from_secs(30),
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Writes `(key, value)` records (a `None` value is a tombstone), keyed
    /// records to murmur2(key) as Java's producer, or all to `partition`.
    /// Blocking: call on a blocking thread.
    pub fn write(
        &self,
        records: &[(Vec<u8>, Option<Vec<u8>>)],
        partition: Option<i32>,
    ) -> Result<(), ConnectError> {
        let pending = Arc::new(Pending::default());
        let what = || format!("writing to {}", self.topic);
        for (key, value) in records {
            pending.remaining.fetch_add(1, Ordering::AcqRel);
            let mut record = BaseRecord::with_opaque_to(&self.topic, pending.clone()).key(key);
            if let Some(v) = value {
                record = record.payload(v);
            }
            if let Some(p) = partition {
                record = record.partition(p);
            }
            if let Err((e, _)) = self.producer.send(record) {
                pending.remaining.fetch_sub(1, Ordering::AcqRel);
                return Err(kafka_error(&what(), &e));
            }
        }
        let deadline = Instant::now() + self.timeout;
        while pending.remaining.load(Ordering::Acquire) > 0 {
            if Instant::now() > deadline {
                return Err(ConnectError::new(
                    ErrorKind::Timeout,
                    format!("{}: no acknowledgement within {:?}", what(), self.timeout),
                ));
            }
            self.producer.poll(Duration::from_millis(20));
        }
        let error = pending.error.lock().expect("error").take();
        match error {
            Some(e) => Err(ConnectError::new(
                e.kind(),
                format!("{}: {}", what(), e.message()),
            )),
            None => Ok(()),
        }
    }
}
