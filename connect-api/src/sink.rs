//! Sinks: where converted records go.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{ConnectError, ErrorKind, Result};
use crate::record::SerializedRecord;

type AckFn = dyn Fn(u64, Result<()>) + Send + Sync;

/// The acknowledgement of one batch. A sink calls [`BatchAck::durable`] once
/// every record of the batch is durable, or [`BatchAck::failed`] if it gave
/// up on the batch. It may do so from any thread, at any later time, and
/// batches may be acknowledged in any order. Dropping an unacknowledged
/// `BatchAck` reports the batch as failed, so a lost acknowledgement can
/// never be mistaken for a durable one.
pub struct BatchAck {
    id: u64,
    callback: Option<Arc<AckFn>>,
}

impl BatchAck {
    /// Used by the worker (and tests) to create acknowledgements.
    pub fn new(id: u64, callback: Arc<AckFn>) -> Self {
        BatchAck {
            id,
            callback: Some(callback),
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// Every record of the batch is durable.
    pub fn durable(mut self) {
        if let Some(cb) = self.callback.take() {
            cb(self.id, Ok(()));
        }
    }

    /// The batch could not be made durable.
    pub fn failed(mut self, error: ConnectError) {
        if let Some(cb) = self.callback.take() {
            cb(self.id, Err(error));
        }
    }
}

impl Drop for BatchAck {
    fn drop(&mut self) {
        if let Some(cb) = self.callback.take() {
            cb(
                self.id,
                Err(ConnectError::new(
                    ErrorKind::Internal,
                    format!("batch {} was dropped without an acknowledgement", self.id),
                )),
            );
        }
    }
}

impl fmt::Debug for BatchAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchAck").field("id", &self.id).finish()
    }
}

/// A destination for converted records.
///
/// Contract:
/// * **Accepted vs durable.** `accept` returning `Ok` means the sink has
///   taken the batch (it may still be buffered). *Durable* means the records
///   survive a crash of this process: written and flushed to the file,
///   acknowledged by Kafka under the producer's `acks`, and so on. Only the
///   [`BatchAck`] says durable; the worker commits offsets only on it.
/// * **Ordering.** Records are written in the order they are accepted, within
///   and across batches, per topic partition.
/// * **Duplicates.** A sink may write a record more than once only if it is
///   handed the record more than once (after a restart from an older
///   offset); it never duplicates on its own.
/// * **Blocking.** `accept` may wait when the sink is full (that is the
///   back-pressure that slows the reader); it must not wait for durability
///   unless that is how the sink works (the file sink writes and flushes
///   before acknowledging).
/// * **Errors.** An `Err` from `accept` means the batch was not taken and
///   may be offered again (when retriable). A batch that was taken and later
///   lost is reported through [`BatchAck::failed`].
#[async_trait]
pub trait Sink: Send {
    /// Takes a batch; acknowledges it through `ack` once it is durable.
    async fn accept(&mut self, batch: Vec<SerializedRecord>, ack: BatchAck) -> Result<()>;

    /// Waits until every accepted batch has been acknowledged.
    async fn flush(&mut self) -> Result<()>;

    /// Flushes and releases resources.
    async fn close(&mut self) -> Result<()> {
        self.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn dropped_ack_reports_failure_exactly_once() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let cb: Arc<AckFn> = Arc::new(move |id, r| s.lock().unwrap().push((id, r.is_ok())));
        BatchAck::new(1, cb.clone()).durable();
        drop(BatchAck::new(2, cb.clone()));
        BatchAck::new(3, cb).failed(ConnectError::internal("x"));
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(1, true), (2, false), (3, false)]
        );
    }
}

/// What a sink is created with besides its own `sink.<type>.*` settings.
#[derive(Debug, Clone, Default)]
pub struct SinkContext {
    pub connector_name: String,
    pub task_id: u32,
    /// The worker's whole configuration (e.g. `bootstrap.servers`,
    /// `producer.*` for the Kafka sink).
    pub worker_config: crate::config::Props,
    /// The connector's whole configuration (e.g. `topic.creation.*` and
    /// `producer.override.*` for the Kafka sink).
    pub connector_config: crate::config::Props,
}

/// Creates sinks of one `sink.type`.
pub trait SinkPlugin: Send + Sync {
    /// The `sink.type` value, e.g. `file`.
    fn sink_type(&self) -> &'static str;
    /// The keys under `sink.<type>.` (declared without that prefix).
    fn config_def(&self) -> &crate::config::ConfigDef;
    /// A new sink from its settings (prefix removed). May open files or
    /// connections.
    fn create(&self, props: &crate::config::Props, context: &SinkContext) -> Result<Box<dyn Sink>>;
}
