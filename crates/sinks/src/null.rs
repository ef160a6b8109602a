//! The `null` sink: acknowledges every batch as durable at once and keeps
//! nothing. Benchmarks measure the pipeline against it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use sluice_connect_api::config::Props;
use sluice_connect_api::{
    BatchAck, ConfigDef, Result, SerializedRecord, Sink, SinkContext, SinkPlugin,
};

/// Discards records; counts them.
#[derive(Default, Clone)]
pub struct NullSink {
    records: Arc<AtomicU64>,
}

impl NullSink {
    /// Records accepted so far (shared between clones).
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.records.clone()
    }
}

#[async_trait]
impl Sink for NullSink {
    async fn accept(&mut self, batch: Vec<SerializedRecord>, ack: BatchAck) -> Result<()> {
        self.records
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        drop(batch);
        ack.durable();
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

/// `sink.type=null`.
pub struct NullSinkPlugin {
    def: ConfigDef,
}

impl NullSinkPlugin {
    pub fn new() -> Self {
        NullSinkPlugin {
            def: ConfigDef::new(),
        }
    }
}

impl Default for NullSinkPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl SinkPlugin for NullSinkPlugin {
    fn sink_type(&self) -> &'static str {
        "null"
    }
    fn config_def(&self) -> &ConfigDef {
        &self.def
    }
    fn create(&self, _props: &Props, _context: &SinkContext) -> Result<Box<dyn Sink>> {
        Ok(Box::new(NullSink::default()))
    }
}
