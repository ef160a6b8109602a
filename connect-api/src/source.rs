//! Source connectors and tasks.

use async_trait::async_trait;

use crate::config::{ConfigDef, KeyValidation, Props};
use crate::error::Result;
use crate::record::{SourceOffset, SourcePartition, SourceRecord};

/// Read access to the committed offsets, given to a task when it starts so
/// it can resume where the last durable record left off.
pub trait OffsetReader: Send + Sync {
    /// The last committed offset of `partition`, if any.
    fn offset(
        &self,
        partition: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<SourceOffset>;
}

/// Lets a task publish details of its state (e.g. snapshot progress) for
/// the status store and the REST API. Cheap; may be called often.
pub trait TaskReporter: Send + Sync {
    fn report(&self, key: &str, value: serde_json::Value);
}

/// A reporter that keeps nothing (tests, tools).
pub struct NoopReporter;

impl TaskReporter for NoopReporter {
    fn report(&self, _key: &str, _value: serde_json::Value) {}
}

/// What a task gets when it starts.
pub struct SourceTaskContext {
    /// The connector's name (`name` in its configuration).
    pub connector_name: String,
    /// The task's configuration, as produced by
    /// [`SourceConnector::task_configs`].
    pub config: Props,
    /// Committed offsets.
    pub offsets: std::sync::Arc<dyn OffsetReader>,
    /// Where the task publishes details of its state.
    pub reporter: std::sync::Arc<dyn TaskReporter>,
}

/// A source connector: validates configuration and splits work into tasks.
///
/// A connector is a factory; it holds no per-run state and does no I/O in
/// `validate`.
pub trait SourceConnector: Send + Sync {
    /// The canonical class name, e.g.
    /// `org.apache.kafka.connect.file.FileStreamSourceConnector`.
    fn class_name(&self) -> &'static str;

    /// Other names accepted for `connector.class` (short aliases).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }

    /// The connector's version string.
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// Every key this connector understands.
    fn config_def(&self) -> &ConfigDef;

    /// Prefixes of keys the connector reads besides its declared ones (e.g.
    /// `snapshot.select.statement.overrides.`), so validation does not call
    /// them unknown.
    fn config_prefixes(&self) -> &'static [&'static str] {
        &[]
    }

    /// Pure validation of a connector configuration; the default checks the
    /// declared keys. Connectors override to add cross-key checks.
    fn validate(&self, props: &Props) -> Vec<KeyValidation> {
        self.config_def().validate(props)
    }

    /// Splits the configuration into at most `max_tasks` task configurations.
    fn task_configs(&self, props: &Props, max_tasks: usize) -> Result<Vec<Props>>;

    /// A new, unstarted task.
    fn create_task(&self) -> Box<dyn SourceTask>;
}

/// A source task: reads changes and hands them to the worker in batches.
///
/// Contract:
/// * **Ordering.** Records of one source partition are returned in source
///   order; the worker preserves that order up to the sink.
/// * **Offsets.** Each record carries the offset *after which* the source can
///   resume without losing that record's successors. The worker calls
///   [`SourceTask::commit`] only with offsets of records that — together with
///   every record polled before them — the sink acknowledged as durable.
///   Offsets given to `commit` never move backwards. The worker commits per
///   batch, using the last offset of each partition in the batch, so a task
///   may leave `source_offset` empty on records that are followed by another
///   record of the same partition in the same batch (the PostgreSQL task
///   does, to save building maps nobody reads); such records still hold
///   their place in the acknowledgement order.
/// * **Duplicates.** After a crash the task restarts from the last committed
///   offset, so records after it may be delivered again (at-least-once);
///   nothing before it is.
/// * **Blocking.** `poll` must return within a bounded time (about
///   `poll.interval.ms`) even when there is nothing to read, returning an
///   empty batch, so the worker can pause or stop the task. The worker never
///   cancels a `poll` that is in progress.
/// * **Errors.** Errors whose kind is retriable make the worker retry `poll`
///   with backoff; others fail the task.
#[async_trait]
pub trait SourceTask: Send {
    /// Opens connections and positions the reader after the committed offset.
    async fn start(&mut self, context: SourceTaskContext) -> Result<()>;

    /// The next batch of records (possibly empty).
    async fn poll(&mut self) -> Result<Vec<SourceRecord>>;

    /// Offsets that are now durable: the source may release what lies before
    /// them (e.g. PostgreSQL's `confirmed_flush_lsn`). Called after the
    /// offsets were written to the offset store.
    async fn commit(&mut self, _committed: &[(SourcePartition, SourceOffset)]) -> Result<()> {
        Ok(())
    }

    /// Whether the records of the `poll` that just returned end a milestone
    /// whose offsets should be committed as soon as the sink has
    /// acknowledged them, rather than at the next `offset.flush.interval.ms`
    /// tick: the end of a snapshot, which a crash before that commit would
    /// make the task redo from the start. Asked once after every non-empty
    /// `poll`; the worker then waits for the sink to flush and commits.
    fn commit_promptly(&mut self) -> bool {
        false
    }

    /// Releases resources. Called once, after the last `poll`.
    async fn stop(&mut self) -> Result<()>;
}
