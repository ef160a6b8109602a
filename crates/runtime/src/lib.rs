//! sluice worker core (standalone mode): configuration loading, the plugin
//! registry, connector and task lifecycle, bounded queues and batching,
//! offset tracking and commit, offset and status stores, retries.

pub mod config;
pub mod configs;
pub mod connectors;
pub mod metrics;
pub mod offsets;
pub mod placeholders;
pub mod plugins;
pub mod properties;
pub mod status;
pub mod task;
pub mod worker;

pub use plugins::Plugins;
pub use worker::Worker;
