//! Running one source task: poll → transforms → converters → bounded queue →
//! sink, with acknowledgement tracking and offset commits.
//!
//! ```text
//!  poller (this task)                      deliverer (spawned)
//!  ─────────────────                       ───────────────────
//!  task.poll() ─▶ tracker.register ─▶      queue.recv ─▶ sink.accept(batch, ack)
//!  transforms ─▶ converters ─▶ queue.send     ack (any thread) ─▶ tracker.ack
//!  task.commit(committed) ◀──────────────  every offset.flush.interval.ms:
//!                                            tracker.take_committable ─▶ store.put
//! ```
//!
//! Offsets reach the store only once the tracker says every record before
//! them is durable; they reach the source (`SourceTask::commit`) only after
//! the store has them. On stop the poller stops polling, the deliverer drains
//! the queue, flushes the sink (bounded by `offset.flush.timeout.ms`) and
//! commits what is durable; then the source gets its last commit and stops.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sluice_connect_api::config::Props;
use sluice_connect_api::record::ContentType;
use sluice_connect_api::{
    ConnectError, Converter, SerializedRecord, Sink, SourceOffset, SourcePartition, SourceRecord,
    SourceTask, SourceTaskContext, Transform, Value,
};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use crate::offsets::{ConnectorOffsets, OffsetStore, OffsetTracker};
use crate::status::{State, Status, StatusStore};

/// What the operator wants a connector's tasks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Started,
    Paused,
    Stopped,
}

/// Backoff and limits for retriable errors.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// `None`: no limit on the number of retries.
    pub max_retries: Option<u32>,
    /// `None`: no time limit.
    pub timeout: Option<Duration>,
    pub initial_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (1-based), or `None` when the
    /// policy says give up.
    pub fn delay(&self, attempt: u32, since_first_failure: Duration) -> Option<Duration> {
        if self.max_retries.is_some_and(|m| attempt > m) {
            return None;
        }
        if self.timeout.is_some_and(|t| since_first_failure >= t) {
            return None;
        }
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        Some(
            self.initial_delay
                .saturating_mul(factor)
                .min(self.max_delay),
        )
    }
}

/// Settings of one task's pipeline.
#[derive(Debug, Clone)]
pub struct TaskSettings {
    pub connector: String,
    pub task_id: u32,
    pub worker_id: String,
    pub max_queue_size: usize,
    pub max_batch_size: usize,
    /// 0 = no byte limit.
    pub max_queue_bytes: u64,
    pub offset_flush_interval: Duration,
    pub offset_flush_timeout: Duration,
    pub tolerate_errors: bool,
    /// Only with `tolerate_errors`.
    pub dead_letter_queue: Option<DeadLetterQueue>,
    pub log_errors: bool,
    pub log_error_messages: bool,
    /// Retries of a failed `poll` in place.
    pub poll_retry: RetryPolicy,
    /// Restarts of the whole task after a retriable failure (sink refused a
    /// batch, lost acknowledgement, start failed).
    pub retry: RetryPolicy,
}

/// The parts of one task run; created afresh for every (re)start.
pub struct TaskParts {
    pub task: Box<dyn SourceTask>,
    pub task_config: Props,
    pub transforms: Vec<Box<dyn Transform>>,
    /// Class names of the transforms and converters, for the dead-letter
    /// queue's `__connect.errors.class.name` header.
    pub stage_classes: StageClasses,
    pub key_converter: Arc<dyn Converter>,
    pub value_converter: Arc<dyn Converter>,
    pub sink: Box<dyn Sink>,
}

/// Class names of a task's transforms (in order) and converters.
#[derive(Debug, Clone, Default)]
pub struct StageClasses {
    pub transforms: Vec<String>,
    pub key_converter: String,
    pub value_converter: String,
}

/// Where records that fail a transform or converter go under
/// `errors.tolerance=all` (`errors.deadletterqueue.topic.name`).
#[derive(Debug, Clone)]
pub struct DeadLetterQueue {
    pub topic: Arc<str>,
    /// `errors.deadletterqueue.context.headers.enable`: add Kafka Connect's
    /// `__connect.errors.*` headers.
    pub context_headers: bool,
}

/// Creates the parts of a task run.
pub type PartsFactory = Arc<dyn Fn() -> Result<TaskParts, ConnectError> + Send + Sync>;

/// Runs one task until it is stopped or fails.
pub struct TaskRunner {
    pub settings: TaskSettings,
    pub factory: PartsFactory,
    pub offsets: Arc<dyn OffsetStore>,
    pub status: Arc<dyn StatusStore>,
}

struct Batch {
    id: u64,
    records: Vec<SourceRecord>,
    _permit: Option<OwnedSemaphorePermit>,
    /// Commit as soon as this batch is durable ([`SourceTask::commit_promptly`]).
    commit_promptly: bool,
}

impl TaskRunner {
    fn set_status(&self, state: State, trace: Option<String>) {
        self.status.put_task(
            &self.settings.connector,
            self.settings.task_id,
            Status {
                state,
                worker_id: self.settings.worker_id.clone(),
                trace,
            },
        );
    }

    /// Runs the task, restarting it after retriable failures per the retry
    /// policy, until `control` says Stopped or a fatal error fails it.
    /// Returns the error that failed the task, if any.
    pub async fn run(self, mut control: watch::Receiver<TargetState>) -> Option<ConnectError> {
        let name = format!("{}-{}", self.settings.connector, self.settings.task_id);
        let _metrics =
            crate::metrics::TaskMetricsGuard::new(&self.settings.connector, self.settings.task_id);
        let mut attempt = 0u32;
        let mut first_failure: Option<Instant> = None;
        loop {
            let result = match (self.factory)() {
                Ok(parts) => self.run_once(parts, &mut control).await,
                Err(e) => Err(e),
            };
            let error = match result {
                Ok(()) => {
                    self.set_status(State::Unassigned, None);
                    tracing::info!(task = %name, "task stopped");
                    return None;
                }
                Err(e) => e,
            };
            attempt += 1;
            let since = first_failure.get_or_insert_with(Instant::now).elapsed();
            let delay = if error.is_retriable() {
                self.settings.retry.delay(attempt, since)
            } else {
                None
            };
            match delay {
                Some(delay) if *control.borrow() != TargetState::Stopped => {
                    tracing::warn!(task = %name, attempt, "task failed with a retriable error, restarting in {delay:?}: {}", error.trace());
                    self.set_status(State::Restarting, Some(error.trace()));
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = wait_for(&mut control, TargetState::Stopped) => {
                            self.set_status(State::Unassigned, None);
                            return None;
                        }
                    }
                }
                _ => {
                    tracing::error!(task = %name, "task failed: {}", error.trace());
                    self.set_status(State::Failed, Some(error.trace()));
                    return Some(error);
                }
            }
        }
    }

    async fn run_once(
        &self,
        parts: TaskParts,
        control: &mut watch::Receiver<TargetState>,
    ) -> Result<(), ConnectError> {
        let TaskParts {
            mut task,
            task_config,
            transforms,
            stage_classes,
            key_converter,
            value_converter,
            sink,
        } = parts;
        let metrics = crate::metrics::PipelineMetrics::register(
            &self.settings.connector,
            self.settings.task_id,
            &task_config,
            self.settings.max_queue_size,
        );
        let context = SourceTaskContext {
            connector_name: self.settings.connector.clone(),
            config: task_config,
            offsets: Arc::new(ConnectorOffsets {
                connector: self.settings.connector.clone(),
                store: self.offsets.clone(),
            }),
            reporter: Arc::new(crate::status::StatusReporter {
                store: self.status.clone(),
                connector: self.settings.connector.clone(),
                task: self.settings.task_id,
            }),
        };
        if let Err(e) = task.start(context).await {
            let _ = task.stop().await;
            return Err(e);
        }
        self.set_status(State::Running, None);

        let tracker = Arc::new(Mutex::new(OffsetTracker::new()));
        let queue_batches =
            (self.settings.max_queue_size / self.settings.max_batch_size.max(1)).max(1);
        let (tx, rx) = mpsc::channel::<Batch>(queue_batches);
        metrics.watch_queue(
            &tx,
            self.settings.max_batch_size.max(1),
            self.settings.max_queue_size,
        );
        let bytes = (self.settings.max_queue_bytes > 0).then(|| {
            let capacity = self.settings.max_queue_bytes.min(u64::from(u32::MAX)) as u32;
            (Arc::new(Semaphore::new(capacity as usize)), capacity)
        });
        let (commit_tx, mut commit_rx) =
            watch::channel(Vec::<(SourcePartition, SourceOffset)>::new());
        // Held here too, so the final commit is still readable after the
        // deliverer has finished (a watch receiver of a dropped sender
        // reports no change).
        let commit_tx = Arc::new(commit_tx);
        // Spent records wait for the poll loop only outside a byte budget.
        let spent = Arc::new(SpentRecords::new(if bytes.is_some() {
            0
        } else {
            queue_batches
        }));
        let deliverer = Deliverer {
            settings: self.settings.clone(),
            tracker: tracker.clone(),
            offsets: self.offsets.clone(),
            commit_tx: commit_tx.clone(),
            metrics,
            committed: HashMap::new(),
            converting: Converting {
                settings: self.settings.clone(),
                transforms,
                key_converter,
                value_converter,
                stage_classes,
                spent: spent.clone(),
            },
            topics: ActiveTopics::new(self.status.clone()),
        };
        // Transforms and converters run on the delivery side, so reading and
        // decoding (poller) and converting and writing (deliverer) overlap
        // on two cores.
        let delivery = tokio::spawn(deliverer.run(rx, sink));

        let poll_result = self
            .poll_loop(
                task.as_mut(),
                &tracker,
                tx,
                bytes,
                control,
                &mut commit_rx,
                &spent,
            )
            .await;

        let delivery_result = match delivery.await {
            Ok(r) => r,
            Err(e) => Err(ConnectError::internal(format!(
                "delivery task panicked: {e}"
            ))),
        };
        let final_commit = commit_rx.has_changed().unwrap_or(false);
        drop(commit_tx);
        if final_commit {
            let committed = commit_rx.borrow_and_update().clone();
            if let Err(e) = task.commit(&committed).await {
                tracing::warn!(connector = %self.settings.connector, "source could not record the last commit: {e}");
            }
        }
        if let Err(e) = task.stop().await {
            tracing::warn!(connector = %self.settings.connector, "error while stopping the source task: {e}");
        }
        poll_result.and(delivery_result)
    }

    #[allow(clippy::too_many_arguments)]
    async fn poll_loop(
        &self,
        task: &mut dyn SourceTask,
        tracker: &Mutex<OffsetTracker>,
        tx: mpsc::Sender<Batch>,
        bytes: Option<(Arc<Semaphore>, u32)>,
        control: &mut watch::Receiver<TargetState>,
        commit_rx: &mut watch::Receiver<Vec<(SourcePartition, SourceOffset)>>,
        spent: &SpentRecords,
    ) -> Result<(), ConnectError> {
        let mut failures = 0u32;
        let mut first_failure: Option<Instant> = None;
        let mut paused = false;
        loop {
            let target = *control.borrow_and_update();
            match target {
                TargetState::Stopped => return Ok(()),
                TargetState::Paused => {
                    if !paused {
                        paused = true;
                        self.set_status(State::Paused, None);
                    }
                    tokio::select! {
                        _ = control.changed() => {}
                        // Keep passing commits to the source while paused.
                        _ = commit_rx.changed() => {
                            let committed = commit_rx.borrow_and_update().clone();
                            task.commit(&committed).await?;
                        }
                    }
                    continue;
                }
                TargetState::Started if paused => {
                    paused = false;
                    self.set_status(State::Running, None);
                }
                TargetState::Started => {}
            }
            if tx.is_closed() {
                // The deliverer stopped (its error is reported by run_once).
                return Ok(());
            }
            if commit_rx.has_changed().unwrap_or(false) {
                let committed = commit_rx.borrow_and_update().clone();
                task.commit(&committed).await?;
            }
            // Records the deliverer is done with are freed here, off its
            // path (see `SpentRecords`).
            spent.release();
            let records = match task.poll().await {
                Ok(records) => {
                    failures = 0;
                    first_failure = None;
                    records
                }
                Err(e) if e.is_retriable() => {
                    failures += 1;
                    let since = first_failure.get_or_insert_with(Instant::now).elapsed();
                    let Some(delay) = self.settings.poll_retry.delay(failures, since) else {
                        return Err(e);
                    };
                    tracing::warn!(connector = %self.settings.connector, attempt = failures, "poll failed, retrying in {delay:?}: {e}");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = wait_for(control, TargetState::Stopped) => return Ok(()),
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            if records.is_empty() {
                continue;
            }
            let commit_promptly = task.commit_promptly();
            let mut records = records;
            while !records.is_empty() {
                let rest = if records.len() > self.settings.max_batch_size {
                    records.split_off(self.settings.max_batch_size)
                } else {
                    Vec::new()
                };
                let id = tracker.lock().expect("tracker lock").register(&records);
                {
                    let permit = match &bytes {
                        Some((sem, capacity)) => {
                            let size: usize = records.iter().map(SourceRecord::approx_size).sum();
                            // A batch larger than the whole budget takes all of it.
                            let want = size.clamp(1, *capacity as usize) as u32;
                            Some(
                                sem.clone()
                                    .acquire_many_owned(want)
                                    .await
                                    .map_err(|_| ConnectError::internal("byte budget closed"))?,
                            )
                        }
                        None => None,
                    };
                    if tx
                        .send(Batch {
                            id,
                            records: std::mem::take(&mut records),
                            _permit: permit,
                            // The last part of the poll's records.
                            commit_promptly: commit_promptly && rest.is_empty(),
                        })
                        .await
                        .is_err()
                    {
                        return Ok(());
                    }
                }
                records = rest;
            }
        }
    }
}

async fn wait_for(control: &mut watch::Receiver<TargetState>, state: TargetState) {
    loop {
        if *control.borrow_and_update() == state {
            return;
        }
        if control.changed().await.is_err() {
            // The sender is gone: nobody can ask for anything any more.
            std::future::pending::<()>().await;
        }
    }
}

/// Transforms and converters of one task.
struct Converting {
    settings: TaskSettings,
    transforms: Vec<Box<dyn Transform>>,
    key_converter: Arc<dyn Converter>,
    value_converter: Arc<dyn Converter>,
    stage_classes: StageClasses,
    spent: Arc<SpentRecords>,
}

/// Source records the deliverer has converted, handed back to the poll loop
/// to be freed there.
///
/// Freeing a record (its values, strings, decimals and the reference counts
/// of its schemas, topic and partition) costs about a fifth of converting
/// it. The deliverer is the pipeline's busiest stage, so the poll loop,
/// which built the records, frees them between polls: off the deliverer's
/// path, and on the thread that allocated them, where the allocator frees
/// locally. The records are dropped in whole batches, not one by one
/// between conversions, so the reference counts the source clones for its
/// next records are not touched from both sides with every record.
///
/// Memory stays bounded: when `limit` batches wait already (the poll loop
/// is not coming back soon, e.g. it waits for changes), the deliverer frees
/// the batch itself — so at most a queue's worth of records wait here. With
/// a byte budget (`max.queue.size.in.bytes`) the limit is 0: records are
/// freed by the deliverer, and the budget bounds all of their memory.
struct SpentRecords {
    batches: Mutex<Vec<Vec<SourceRecord>>>,
    limit: usize,
}

impl SpentRecords {
    fn new(limit: usize) -> Self {
        SpentRecords {
            batches: Mutex::new(Vec::new()),
            limit,
        }
    }

    /// Hands a converted batch back to be freed by the poll loop (or frees
    /// it here when enough are waiting already).
    fn put(&self, batch: Vec<SourceRecord>) {
        if batch.is_empty() {
            return;
        }
        let mut batches = self.batches.lock().expect("spent records lock");
        if batches.len() < self.limit {
            batches.push(batch);
            return;
        }
        drop(batches);
        drop(batch);
    }

    /// Frees every batch handed back so far (the lock is not held meanwhile).
    fn release(&self) {
        let batches = std::mem::take(&mut *self.batches.lock().expect("spent records lock"));
        drop(batches);
    }
}

/// Where a record failed: Kafka Connect's `Stage` and the class there.
struct Failure {
    error: ConnectError,
    topic: Arc<str>,
    stage: &'static str,
    class: String,
}

impl Converting {
    /// Transforms and converts a batch, in order; failures are handled
    /// (logged, dead-lettered or fatal) in record order.
    fn convert(&self, records: Vec<SourceRecord>) -> Result<Vec<SerializedRecord>, ConnectError> {
        let key_type = self.key_converter.content_type();
        let value_type = self.value_converter.content_type();
        let mut out = Vec::with_capacity(records.len());
        // Converted records are freed together by the poll loop (see
        // `SpentRecords`).
        let mut spent = Vec::with_capacity(records.len());
        let keep_original = self.dead_letters().is_some();
        for record in records {
            // The original is kept only when a dead-letter queue may need it.
            let original = keep_original.then(|| record.clone());
            let converted = self.convert_one(record, key_type, value_type, &mut spent);
            self.handle(&mut out, converted, original, key_type, value_type)?;
        }
        self.spent.put(spent);
        Ok(out)
    }

    /// The dead-letter queue, when failed records go there.
    fn dead_letters(&self) -> Option<&DeadLetterQueue> {
        self.settings
            .dead_letter_queue
            .as_ref()
            .filter(|_| self.settings.tolerate_errors)
    }

    /// Adds a converted record to `out`, or handles its failure: skipped
    /// (and logged, and dead-lettered) under `errors.tolerance=all`, fatal
    /// otherwise.
    fn handle(
        &self,
        out: &mut Vec<SerializedRecord>,
        converted: Result<Option<SerializedRecord>, Failure>,
        original: Option<SourceRecord>,
        key_type: ContentType,
        value_type: ContentType,
    ) -> Result<(), ConnectError> {
        match converted {
            Ok(Some(r)) => out.push(r),
            Ok(None) => {}
            Err(f) if self.settings.tolerate_errors && !f.error.is_retriable() => {
                if self.settings.log_errors {
                    if self.settings.log_error_messages {
                        tracing::warn!(connector = %self.settings.connector, topic = %f.topic, stage = f.stage, "record failed (errors.tolerance=all): {}", f.error);
                    } else {
                        tracing::warn!(connector = %self.settings.connector, stage = f.stage, "record failed (errors.tolerance=all): {}", f.error.kind());
                    }
                }
                if let (Some(dlq), Some(original)) = (self.dead_letters(), original) {
                    out.push(self.dead_letter(dlq, original, &f, key_type, value_type));
                }
            }
            Err(f) => {
                return Err(ConnectError::new(
                    f.error.kind(),
                    format!(
                        "record for topic {} could not be converted or transformed ({}, {}): {}",
                        f.topic,
                        f.stage,
                        f.class,
                        f.error.message()
                    ),
                ))
            }
        }
        Ok(())
    }

    fn convert_one(
        &self,
        record: SourceRecord,
        key_type: ContentType,
        value_type: ContentType,
        spent: &mut Vec<SourceRecord>,
    ) -> Result<Option<SerializedRecord>, Failure> {
        let mut record = record;
        for (i, t) in self.transforms.iter().enumerate() {
            let topic = record.topic.clone();
            match t.apply(record) {
                Ok(Some(r)) => record = r,
                Ok(None) => return Ok(None),
                Err(error) => {
                    return Err(Failure {
                        error,
                        topic,
                        stage: "TRANSFORMATION",
                        class: self
                            .stage_classes
                            .transforms
                            .get(i)
                            .cloned()
                            .unwrap_or_default(),
                    })
                }
            }
        }
        let topic = record.topic.clone();
        let key = self
            .key_converter
            .from_connect(&record.topic, record.key_schema.as_ref(), &record.key)
            .map_err(|error| Failure {
                error,
                topic: topic.clone(),
                stage: "KEY_CONVERTER",
                class: self.stage_classes.key_converter.clone(),
            })?;
        let value = self
            .value_converter
            .from_connect(&record.topic, record.value_schema.as_ref(), &record.value)
            .map_err(|error| Failure {
                error,
                topic: topic.clone(),
                stage: "VALUE_CONVERTER",
                class: self.stage_classes.value_converter.clone(),
            })?;
        let headers = record
            .headers
            .iter()
            .map(|h| (h.key.clone(), header_bytes(&h.value)))
            .collect();
        let serialized = SerializedRecord {
            topic,
            partition: record.kafka_partition,
            timestamp: record.timestamp,
            headers,
            key,
            value,
            key_type,
            value_type,
        };
        spent.push(record);
        Ok(Some(serialized))
    }

    /// The dead-letter record of a failed one: the original record (as it
    /// came from the source, before transforms) converted with the task's
    /// converters — or, when a converter is what failed, rendered as
    /// schemaless JSON — with Kafka Connect's `__connect.errors.*` headers.
    fn dead_letter(
        &self,
        dlq: &DeadLetterQueue,
        original: SourceRecord,
        f: &Failure,
        key_type: ContentType,
        value_type: ContentType,
    ) -> SerializedRecord {
        let (key, key_type) = match self.key_converter.from_connect(
            &original.topic,
            original.key_schema.as_ref(),
            &original.key,
        ) {
            Ok(k) => (k, key_type),
            Err(_) => (schemaless_json(&original.key), ContentType::Json),
        };
        let (value, value_type) = match self.value_converter.from_connect(
            &original.topic,
            original.value_schema.as_ref(),
            &original.value,
        ) {
            Ok(v) => (v, value_type),
            Err(_) => (schemaless_json(&original.value), ContentType::Json),
        };
        let mut headers: Vec<(String, Option<Vec<u8>>)> = original
            .headers
            .iter()
            .map(|h| (h.key.clone(), header_bytes(&h.value)))
            .collect();
        if dlq.context_headers {
            let h = |k: &str, v: String| (format!("__connect.errors.{k}"), Some(v.into_bytes()));
            let offset = original.source_offset.as_ref().map_or_else(
                || "-1".to_string(),
                |o| serde_json::Value::Object(o.clone()).to_string(),
            );
            headers.extend([
                h("topic", original.topic.to_string()),
                h(
                    "partition",
                    original.kafka_partition.unwrap_or(-1).to_string(),
                ),
                h("offset", offset),
                h("connector.name", self.settings.connector.clone()),
                h("task.id", self.settings.task_id.to_string()),
                h("stage", f.stage.to_string()),
                h("class.name", f.class.clone()),
                h(
                    "exception.class.name",
                    "org.apache.kafka.connect.errors.DataException".to_string(),
                ),
                h("exception.message", f.error.message().to_string()),
                h("exception.stacktrace", f.error.trace()),
            ]);
        }
        SerializedRecord {
            topic: dlq.topic.clone(),
            partition: None,
            timestamp: original.timestamp,
            headers,
            key,
            value,
            key_type,
            value_type,
        }
    }
}

/// A Connect value as schemaless JSON (structs as objects, bytes as base64,
/// decimals as plain numbers in strings); `None` for null.
fn schemaless_json(value: &Value) -> Option<Vec<u8>> {
    fn render(v: &Value) -> serde_json::Value {
        use serde_json::Value as J;
        match v {
            Value::Null => J::Null,
            Value::Boolean(b) => J::Bool(*b),
            Value::Int8(n) => J::from(*n),
            Value::Int16(n) => J::from(*n),
            Value::Int32(n) => J::from(*n),
            Value::Int64(n) => J::from(*n),
            Value::Float32(n) => J::from(f64::from(*n)),
            Value::Float64(n) => J::from(*n),
            Value::String(s) => J::String(s.to_string()),
            Value::Bytes(b) => {
                use base64::Engine as _;
                J::String(base64::engine::general_purpose::STANDARD.encode(b))
            }
            Value::Decimal(d) => J::String(d.to_plain_string()),
            Value::Array(items) => J::Array(items.iter().map(render).collect()),
            Value::Map(entries) => J::Array(
                entries
                    .iter()
                    .map(|(k, v)| J::Array(vec![render(k), render(v)]))
                    .collect(),
            ),
            Value::Struct(st) => J::Object(
                st.schema()
                    .fields
                    .iter()
                    .zip(st.values())
                    .map(|(f, v)| (f.name.clone(), render(v)))
                    .collect(),
            ),
        }
    }
    (!value.is_null()).then(|| render(value).to_string().into_bytes())
}

/// Kafka's `SimpleHeaderConverter` rendering: strings as they are, other
/// primitives as their text, null as null.
fn header_bytes(value: &Value) -> Option<Vec<u8>> {
    Some(match value {
        Value::Null => return None,
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Boolean(b) => b.to_string().into_bytes(),
        Value::Int8(v) => v.to_string().into_bytes(),
        Value::Int16(v) => v.to_string().into_bytes(),
        Value::Int32(v) => v.to_string().into_bytes(),
        Value::Int64(v) => v.to_string().into_bytes(),
        Value::Float32(v) => v.to_string().into_bytes(),
        Value::Float64(v) => v.to_string().into_bytes(),
        Value::Decimal(d) => d.to_plain_string().into_bytes(),
        Value::Bytes(b) => b.clone(),
        other => format!("{other:?}").into_bytes(),
    })
}

/// The delivery side of a task: takes batches off the queue into the sink
/// and commits offsets.
struct Deliverer {
    settings: TaskSettings,
    tracker: Arc<Mutex<OffsetTracker>>,
    offsets: Arc<dyn OffsetStore>,
    commit_tx: Arc<watch::Sender<Vec<(SourcePartition, SourceOffset)>>>,
    /// Sink records, bytes and latency; the age of uncommitted offsets.
    metrics: Arc<crate::metrics::PipelineMetrics>,
    /// Everything committed so far, by partition, so the source always sees
    /// the full picture.
    committed: HashMap<String, (SourcePartition, SourceOffset)>,
    converting: Converting,
    /// Topics this task wrote to (REST `GET /connectors/{name}/topics`),
    /// published as the task detail `topics`.
    topics: ActiveTopics,
}

/// The topics a task writes to, published to the status store as the task
/// detail `topics` when a new one appears. Re-read from the store every
/// few seconds so that `PUT …/topics/reset` takes effect.
pub(crate) struct ActiveTopics {
    status: Arc<dyn StatusStore>,
    known: std::collections::BTreeSet<String>,
    refreshed: std::time::Instant,
}

impl ActiveTopics {
    pub(crate) fn new(status: Arc<dyn StatusStore>) -> Self {
        ActiveTopics {
            status,
            known: Default::default(),
            refreshed: std::time::Instant::now(),
        }
    }

    fn record(
        &mut self,
        settings: &TaskSettings,
        records: &[sluice_connect_api::SerializedRecord],
    ) {
        if self.refreshed.elapsed() >= Duration::from_secs(5) {
            self.refreshed = std::time::Instant::now();
            self.known = self
                .status
                .task_details(&settings.connector, settings.task_id)
                .get("topics")
                .and_then(|t| t.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
        }
        let mut changed = false;
        let mut last: Option<&str> = None;
        for r in records {
            if last == Some(&*r.topic) {
                continue;
            }
            last = Some(&r.topic);
            if !self.known.contains(&*r.topic) {
                self.known.insert(r.topic.to_string());
                changed = true;
            }
        }
        if changed {
            self.status.put_task_detail(
                &settings.connector,
                settings.task_id,
                "topics",
                serde_json::json!(self.known.iter().collect::<Vec<_>>()),
            );
        }
    }
}

impl Deliverer {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Batch>,
        mut sink: Box<dyn Sink>,
    ) -> Result<(), ConnectError> {
        let failure: Arc<Mutex<Option<ConnectError>>> = Arc::new(Mutex::new(None));
        let ack_cb = {
            let tracker = self.tracker.clone();
            let failure = failure.clone();
            Arc::new(
                move |id: u64, result: Result<(), ConnectError>| match result {
                    Ok(()) => tracker.lock().expect("tracker lock").ack(id),
                    Err(e) => {
                        let mut f = failure.lock().expect("failure lock");
                        if f.is_none() {
                            *f = Some(e);
                        }
                    }
                },
            )
        };
        let mut ticker = tokio::time::interval(self.settings.offset_flush_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        let mut result = Ok(());
        loop {
            tokio::select! {
                biased;
                batch = rx.recv() => match batch {
                    Some(batch) => {
                        let commit_promptly = batch.commit_promptly;
                        if let Err(e) = self.accept(sink.as_mut(), batch, &ack_cb).await {
                            result = Err(e);
                            break;
                        }
                        if commit_promptly {
                            self.commit_now(sink.as_mut()).await;
                        }
                    }
                    None => break,
                },
                _ = ticker.tick() => {
                    if let Err(e) = self.commit().await {
                        tracing::warn!(connector = %self.settings.connector, "offset commit failed, will retry: {e}");
                    }
                }
            }
            if let Some(e) = failure.lock().expect("failure lock").take() {
                result = Err(e);
                break;
            }
        }
        // Stop taking new batches; what is queued but not accepted is not
        // durable and will be re-read after a restart.
        rx.close();
        self.flush_sink(sink.as_mut()).await;
        if let Err(e) = self.commit().await {
            tracing::error!(connector = %self.settings.connector, "final offset commit failed: {e}");
            result = result.and(Err(e));
        }
        if let Err(e) = sink.close().await {
            tracing::warn!(connector = %self.settings.connector, "sink close failed: {e}");
        }
        if let Some(e) = failure.lock().expect("failure lock").take() {
            result = result.and(Err(e));
        }
        result
    }

    async fn accept(
        &mut self,
        sink: &mut dyn Sink,
        batch: Batch,
        ack_cb: &Arc<impl Fn(u64, Result<(), ConnectError>) + Send + Sync + 'static>,
    ) -> Result<(), ConnectError> {
        // A refused batch is not retried in place: the task run ends and,
        // for retriable errors, restarts from the committed offsets, so the
        // batch is read again from the source. Nothing is copied or lost.
        let Batch {
            id,
            records,
            _permit,
            commit_promptly: _,
        } = batch;
        let serialized = self.converting.convert(records)?;
        self.topics.record(&self.settings, &serialized);
        if serialized.is_empty() {
            // Everything was filtered out: nothing to wait for.
            self.tracker.lock().expect("tracker lock").ack(id);
            return Ok(());
        }
        let ack = self.metrics.track(id, &serialized, ack_cb.clone());
        sink.accept(serialized, ack).await
    }

    /// Waits up to `offset.flush.timeout.ms` for the sink to acknowledge
    /// everything it accepted; a failure or timeout is logged (what is
    /// durable is committed all the same).
    async fn flush_sink(&self, sink: &mut dyn Sink) {
        match tokio::time::timeout(self.settings.offset_flush_timeout, sink.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(connector = %self.settings.connector, "sink flush failed: {e}")
            }
            Err(_) => tracing::warn!(
                connector = %self.settings.connector,
                "sink did not acknowledge everything within offset.flush.timeout.ms; committing what is durable"
            ),
        }
    }

    /// Flushes the sink and commits what is durable, right away (a batch
    /// the source asked to commit promptly). A failure is logged; the next
    /// tick commits again.
    async fn commit_now(&mut self, sink: &mut dyn Sink) {
        self.flush_sink(sink).await;
        if let Err(e) = self.commit().await {
            tracing::warn!(connector = %self.settings.connector, "offset commit failed, will retry: {e}");
        }
    }

    async fn commit(&mut self) -> Result<(), ConnectError> {
        let commit_started = self.metrics.commit_started();
        let ready = self
            .tracker
            .lock()
            .expect("tracker lock")
            .take_committable();
        if ready.is_empty() {
            return Ok(());
        }
        let store = self.offsets.clone();
        let connector = self.settings.connector.clone();
        let to_write = ready.clone();
        let written = tokio::task::spawn_blocking(move || store.put(&connector, &to_write))
            .await
            .map_err(|e| ConnectError::internal(format!("offset writer panicked: {e}")))?;
        if let Err(e) = written {
            // Put them back so the next commit retries them (newer offsets
            // that arrived meanwhile win).
            self.tracker.lock().expect("tracker lock").requeue(ready);
            return Err(e);
        }
        for (p, o) in ready {
            let key = serde_json::to_string(&*p).unwrap_or_default();
            self.committed.insert(key, (p, o));
        }
        let snapshot: Vec<_> = self.committed.values().cloned().collect();
        let _ = self.commit_tx.send(snapshot);
        self.metrics.committed(commit_started);
        tracing::debug!(connector = %self.settings.connector, "offsets committed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: usize) -> Vec<SourceRecord> {
        (0..n)
            .map(|i| {
                SourceRecord::new(
                    None,
                    None,
                    Arc::from("t"),
                    None,
                    Value::String(format!("record {i}").into()),
                )
            })
            .collect()
    }

    #[test]
    fn spent_records_wait_for_the_poll_loop_up_to_their_limit() {
        let spent = SpentRecords::new(2);
        spent.put(Vec::new());
        assert_eq!(
            spent.batches.lock().unwrap().len(),
            0,
            "empty batches are not kept"
        );
        spent.put(batch(3));
        spent.put(batch(1));
        // Over the limit: freed by the caller, not kept.
        spent.put(batch(5));
        let kept: Vec<usize> = spent.batches.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(kept, vec![3, 1]);
        spent.release();
        assert!(spent.batches.lock().unwrap().is_empty());
        spent.put(batch(2));
        assert_eq!(spent.batches.lock().unwrap().len(), 1);
        // A limit of 0 (a byte budget) keeps nothing.
        let none = SpentRecords::new(0);
        none.put(batch(4));
        assert!(none.batches.lock().unwrap().is_empty());
    }
}
