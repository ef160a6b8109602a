//! The `stdout` sink: the file sink's JSON lines on standard output, flushed
//! before each batch is acknowledged.

use std::io::Write;

use async_trait::async_trait;
use sluice_connect_api::config::Props;
use sluice_connect_api::{
    BatchAck, ConfigDef, ConnectError, Result, SerializedRecord, Sink, SinkContext, SinkPlugin,
};

use crate::line::render_line;

#[derive(Default)]
pub struct StdoutSink {
    buf: Vec<u8>,
}

#[async_trait]
impl Sink for StdoutSink {
    async fn accept(&mut self, batch: Vec<SerializedRecord>, ack: BatchAck) -> Result<()> {
        self.buf.clear();
        for r in &batch {
            render_line(r, &mut self.buf);
        }
        let mut out = std::io::stdout().lock();
        out.write_all(&self.buf)
            .and_then(|_| out.flush())
            .map_err(|e| ConnectError::io("writing to standard output", e))?;
        ack.durable();
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        std::io::stdout()
            .flush()
            .map_err(|e| ConnectError::io("flushing standard output", e))
    }
}

/// `sink.type=stdout`.
pub struct StdoutSinkPlugin {
    def: ConfigDef,
}

impl StdoutSinkPlugin {
    pub fn new() -> Self {
        StdoutSinkPlugin {
            def: ConfigDef::new(),
        }
    }
}

impl Default for StdoutSinkPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl SinkPlugin for StdoutSinkPlugin {
    fn sink_type(&self) -> &'static str {
        "stdout"
    }
    fn config_def(&self) -> &ConfigDef {
        &self.def
    }
    fn create(&self, _props: &Props, _context: &SinkContext) -> Result<Box<dyn Sink>> {
        Ok(Box::new(StdoutSink::default()))
    }
}
