//! sluice sinks that a source pipeline can deliver to directly: `file`
//! (JSON lines), `stdout` (the same lines on standard output) and `null`
//! (acknowledges and discards — the baseline every benchmark measures
//! against).

mod file;
mod line;
mod null;
mod stdout;

use std::sync::Arc;

pub use file::{FileSink, FileSinkPlugin};
pub use line::render_line;
pub use null::{NullSink, NullSinkPlugin};
pub use stdout::{StdoutSink, StdoutSinkPlugin};

use sluice_connect_api::SinkPlugin;

/// Every sink plugin of this crate.
pub fn all_plugins() -> Vec<Arc<dyn SinkPlugin>> {
    vec![
        Arc::new(FileSinkPlugin::new()),
        Arc::new(StdoutSinkPlugin::new()),
        Arc::new(NullSinkPlugin::new()),
    ]
}
