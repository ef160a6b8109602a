//! The Kafka sink: records to topics with an idempotent producer; a batch
//! is durable when the broker has acknowledged every record of it
//! (`acks=all`).
//!
//! * Partitioning is Kafka Connect's: a record with a Kafka partition goes
//!   there; a keyed one to murmur2(key) mod partitions, as Java's default
//!   partitioner (librdkafka's `murmur2_random`); an unkeyed one anywhere.
//! * Delivery failures are retried by the producer for as long as it takes
//!   (`message.timeout.ms=0`, as Connect sets `delivery.timeout.ms` to
//!   infinity): a broker outage stalls the pipeline, it never drops a
//!   record. A permanent failure (record too large, not authorized) fails
//!   the batch, which fails the task with the cause; nothing is committed
//!   past it.
//! * Back-pressure: the producer's queue is bounded
//!   (`queue.buffering.max.kbytes`, Java's `buffer.memory`); when it is full,
//!   `accept` waits, which stops the worker's queue, which stops the reader.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;
use sluice_connect_api::config::{ConfigDef, ConfigKey, ConfigType, Importance, Props};
use sluice_connect_api::{
    BatchAck, ConnectError, ErrorKind, Result, SerializedRecord, Sink, SinkContext, SinkPlugin,
};

use crate::admin::TopicManager;
use crate::client::{client_config, client_settings};
use crate::topics::TopicCreation;
use crate::{kafka_error, kind_of_code};

/// What the producer is given unless the configuration says otherwise.
pub const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    ("acks", "all"),
    ("enable.idempotence", "true"),
    ("partitioner", "murmur2_random"),
    ("message.timeout.ms", "0"),
    ("queue.buffering.max.kbytes", "32768"),
    ("linger.ms", "5"),
];

/// Batches accepted but not yet acknowledged.
#[derive(Default)]
struct Inflight {
    batches: AtomicUsize,
    notify: tokio::sync::Notify,
}

/// One accepted batch: acknowledged when its last record's delivery report
/// arrives.
struct BatchState {
    remaining: AtomicUsize,
    ack: Mutex<Option<BatchAck>>,
    error: Mutex<Option<ConnectError>>,
    inflight: Arc<Inflight>,
}

impl BatchState {
    fn finish(&self, records: usize, error: Option<ConnectError>) {
        if let Some(e) = error {
            let mut slot = self.error.lock().expect("batch error");
            if slot.is_none() {
                *slot = Some(e);
            }
        }
        if self.remaining.fetch_sub(records, Ordering::AcqRel) == records {
            let ack = self.ack.lock().expect("batch ack").take();
            if let Some(ack) = ack {
                match self.error.lock().expect("batch error").take() {
                    None => ack.durable(),
                    Some(e) => ack.failed(e),
                }
            }
            self.inflight.batches.fetch_sub(1, Ordering::AcqRel);
            self.inflight.notify.notify_waiters();
        }
    }
}

/// Receives delivery reports on the producer's polling thread.
struct DeliveryContext;

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Arc<BatchState>;

    fn delivery(&self, result: &DeliveryResult<'_>, batch: Arc<BatchState>) {
        match result {
            Ok(_) => batch.finish(1, None),
            Err((e, msg)) => {
                use rdkafka::Message;
                let kind = e
                    .rdkafka_error_code()
                    .map_or(ErrorKind::Connection, kind_of_code);
                batch.finish(
                    1,
                    Some(ConnectError::new(
                        kind,
                        format!("Kafka did not take a record for topic {}: {e}", msg.topic()),
                    )),
                );
            }
        }
    }
}

/// `sink.type=kafka`.
pub struct KafkaSinkPlugin {
    def: ConfigDef,
}

impl Default for KafkaSinkPlugin {
    fn default() -> Self {
        KafkaSinkPlugin {
            def: ConfigDef::new().define(
                ConfigKey::new("flush.timeout.ms", ConfigType::Long)
                    .default("60000")
                    .importance(Importance::Low)
                    .doc("How long closing the sink waits for outstanding deliveries before giving up (they are then not committed and are sent again after a restart)."),
            ),
        }
    }
}

impl SinkPlugin for KafkaSinkPlugin {
    fn sink_type(&self) -> &'static str {
        "kafka"
    }

    fn config_def(&self) -> &ConfigDef {
        &self.def
    }

    fn create(&self, props: &Props, context: &SinkContext) -> Result<Box<dyn Sink>> {
        let values = self.def.parse(props).map_err(|issues| {
            ConnectError::config(
                issues
                    .iter()
                    .map(|i| format!("sink.kafka.{}: {}", i.key, i.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        Ok(Box::new(KafkaSink::new(
            &context.worker_config,
            &context.connector_config,
            &format!(
                "connector-producer-{}-{}",
                context.connector_name, context.task_id
            ),
            Duration::from_millis(values.get_long("flush.timeout.ms").max(0) as u64),
        )?))
    }
}

/// The producer sink.
pub struct KafkaSink {
    producer: ThreadedProducer<DeliveryContext>,
    topics: TopicManager,
    inflight: Arc<Inflight>,
    flush_timeout: Duration,
}

impl KafkaSink {
    /// A sink for one task: `worker` gives `bootstrap.servers`, security
    /// keys and `producer.*`; `connector` gives `producer.override.*` and
    /// `topic.creation.*`.
    pub fn new(
        worker: &Props,
        connector: &Props,
        client_id: &str,
        flush_timeout: Duration,
    ) -> Result<KafkaSink> {
        let (mut settings, dropped) =
            client_settings(worker, "producer.", connector, "producer.override.")
                .map_err(|e| ConnectError::config(format!("producer setting {e}")))?;
        if !dropped.is_empty() {
            tracing::warn!(keys = ?dropped, "ignoring Java-only producer settings");
        }
        settings
            .entry("client.id".to_string())
            .or_insert_with(|| client_id.to_string());
        let creation_enabled = worker
            .get("topic.creation.enable")
            .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
        let creation = TopicCreation::from_props(connector, creation_enabled)
            .map_err(|e| ConnectError::config(e.to_string()))?;
        let producer: ThreadedProducer<DeliveryContext> =
            client_config(&settings, PRODUCER_DEFAULTS)
                .create_with_context(DeliveryContext)
                .map_err(|e| kafka_error("creating the Kafka producer", &e))?;
        Ok(KafkaSink {
            producer,
            topics: TopicManager::new(&settings, creation)?,
            inflight: Arc::new(Inflight::default()),
            flush_timeout,
        })
    }

    /// The producer's effective settings (for tests and diagnostics).
    pub fn settings(worker: &Props, connector: &Props) -> Result<BTreeMap<String, String>> {
        let (mut s, _) = client_settings(worker, "producer.", connector, "producer.override.")
            .map_err(|e| ConnectError::config(format!("producer setting {e}")))?;
        for (k, v) in PRODUCER_DEFAULTS {
            s.entry(k.to_string()).or_insert_with(|| v.to_string());
        }
        Ok(s)
    }

    async fn wait_idle(&self) {
        loop {
            let notified = self.inflight.notify.notified();
            if self.inflight.batches.load(Ordering::Acquire) == 0 {
                return;
            }
            // Delivery reports wake us; the timeout guards against a missed
            // wake-up between the check and the wait.
            let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
        }
    }
}

#[async_trait]
impl Sink for KafkaSink {
    async fn accept(&mut self, batch: Vec<SerializedRecord>, ack: BatchAck) -> Result<()> {
        if batch.is_empty() {
            ack.durable();
            return Ok(());
        }
        // Topics first: an error here leaves the batch untaken.
        let mut last: Option<&str> = None;
        for r in &batch {
            if last != Some(&*r.topic) {
                self.topics.ensure(&r.topic).await?;
                last = Some(&r.topic);
            }
        }
        self.inflight.batches.fetch_add(1, Ordering::AcqRel);
        let state = Arc::new(BatchState {
            remaining: AtomicUsize::new(batch.len()),
            ack: Mutex::new(Some(ack)),
            error: Mutex::new(None),
            inflight: self.inflight.clone(),
        });
        for (i, r) in batch.iter().enumerate() {
            let mut record: BaseRecord<'_, [u8], [u8], Arc<BatchState>> =
                BaseRecord::with_opaque_to(&r.topic, state.clone());
            if let Some(k) = &r.key {
                record = record.key(k.as_slice());
            }
            if let Some(v) = &r.value {
                record = record.payload(v.as_slice());
            }
            if let Some(p) = r.partition {
                record = record.partition(p);
            }
            if let Some(ts) = r.timestamp {
                record = record.timestamp(ts);
            }
            if !r.headers.is_empty() {
                let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
                for (k, v) in &r.headers {
                    headers = headers.insert(Header {
                        key: k,
                        value: v.as_deref(),
                    });
                }
                record = record.headers(headers);
            }
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        // Back-pressure: the producer's buffer is full.
                        record = back;
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    Err((e, _)) => {
                        let kind = e.rdkafka_error_code().map_or(ErrorKind::Data, kind_of_code);
                        state.finish(
                            batch.len() - i,
                            Some(ConnectError::new(
                                kind,
                                format!("Kafka refused a record for topic {}: {e}", r.topic),
                            )),
                        );
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        match tokio::time::timeout(self.flush_timeout, self.wait_idle()).await {
            Ok(()) => Ok(()),
            Err(_) => Err(ConnectError::new(
                ErrorKind::Timeout,
                format!(
                    "{} batch(es) still unacknowledged by Kafka after {:?}; they will be sent again after a restart",
                    self.inflight.batches.load(Ordering::Acquire),
                    self.flush_timeout
                ),
            )),
        }
    }

    async fn close(&mut self) -> Result<()> {
        let result = self.flush().await;
        // Anything still queued is purged when the producer is dropped;
        // those batches report failed (their acks are dropped) and are not
        // committed.
        let _ = self.producer.flush(Duration::from_millis(0));
        result
    }
}
