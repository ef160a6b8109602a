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
    BatchAck, ConnectError, Converter, SerializedRecord, Sink, SourceOffset, SourcePartition,
    SourceRecord, SourceTask, SourceTaskContext, Transform, Value,
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
    pub key_converter: Arc<dyn Converter>,
    pub value_converter: Arc<dyn Converter>,
    pub sink: Box<dyn Sink>,
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
            key_converter,
            value_converter,
            sink,
        } = parts;
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
        let deliverer = Deliverer {
            settings: self.settings.clone(),
            tracker: tracker.clone(),
            offsets: self.offsets.clone(),
            commit_tx: commit_tx.clone(),
            committed: HashMap::new(),
            converting: Converting {
                settings: self.settings.clone(),
                transforms,
                key_converter,
                value_converter,
            },
            topics: ActiveTopics::new(self.status.clone()),
        };
        // Transforms and converters run on the delivery side, so reading and
        // decoding (poller) and converting and writing (deliverer) overlap
        // on two cores.
        let delivery = tokio::spawn(deliverer.run(rx, sink));

        let poll_result = self
            .poll_loop(task.as_mut(), &tracker, tx, bytes, control, &mut commit_rx)
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
}

impl Converting {
    fn convert(&self, records: Vec<SourceRecord>) -> Result<Vec<SerializedRecord>, ConnectError> {
        let mut out = Vec::with_capacity(records.len());
        let key_type = self.key_converter.content_type();
        let value_type = self.value_converter.content_type();
        for record in records {
            match self.convert_one(record, key_type, value_type) {
                Ok(Some(r)) => out.push(r),
                Ok(None) => {}
                Err((e, topic)) if self.settings.tolerate_errors && !e.is_retriable() => {
                    if self.settings.log_errors {
                        if self.settings.log_error_messages {
                            tracing::warn!(connector = %self.settings.connector, topic = %topic, "skipping record (errors.tolerance=all): {e}");
                        } else {
                            tracing::warn!(connector = %self.settings.connector, "skipping record (errors.tolerance=all): {}", e.kind());
                        }
                    }
                }
                Err((e, topic)) => {
                    return Err(ConnectError::new(
                        e.kind(),
                        format!(
                            "record for topic {topic} could not be converted or transformed: {}",
                            e.message()
                        ),
                    ))
                }
            }
        }
        Ok(out)
    }

    fn convert_one(
        &self,
        record: SourceRecord,
        key_type: ContentType,
        value_type: ContentType,
    ) -> Result<Option<SerializedRecord>, (ConnectError, Arc<str>)> {
        let mut record = record;
        for t in &self.transforms {
            let topic = record.topic.clone();
            match t.apply(record) {
                Ok(Some(r)) => record = r,
                Ok(None) => return Ok(None),
                Err(e) => return Err((e, topic)),
            }
        }
        let topic = record.topic.clone();
        let key = self
            .key_converter
            .from_connect(&record.topic, record.key_schema.as_ref(), &record.key)
            .map_err(|e| (e, topic.clone()))?;
        let value = self
            .value_converter
            .from_connect(&record.topic, record.value_schema.as_ref(), &record.value)
            .map_err(|e| (e, topic.clone()))?;
        let headers = record
            .headers
            .iter()
            .map(|h| (h.key.clone(), header_bytes(&h.value)))
            .collect();
        Ok(Some(SerializedRecord {
            topic,
            partition: record.kafka_partition,
            timestamp: record.timestamp,
            headers,
            key,
            value,
            key_type,
            value_type,
        }))
    }
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
                        if let Err(e) = self.accept(sink.as_mut(), batch, &ack_cb).await {
                            result = Err(e);
                            break;
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
        } = batch;
        let serialized = self.converting.convert(records)?;
        self.topics.record(&self.settings, &serialized);
        if serialized.is_empty() {
            // Everything was filtered out: nothing to wait for.
            self.tracker.lock().expect("tracker lock").ack(id);
            return Ok(());
        }
        sink.accept(serialized, BatchAck::new(id, ack_cb.clone()))
            .await
    }

    async fn commit(&mut self) -> Result<(), ConnectError> {
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
        tracing::debug!(connector = %self.settings.connector, "offsets committed");
        Ok(())
    }
}
