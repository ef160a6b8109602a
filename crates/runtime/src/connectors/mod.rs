//! Connectors built into the runtime.

pub mod file_stream;
