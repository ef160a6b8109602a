//! Single message transforms (SMTs) and predicates.
//!
//! * [`kafka`]: Kafka Connect's own SMTs (`org.apache.kafka.connect.transforms.*`)
//!   and predicates (`org.apache.kafka.connect.transforms.predicates.*`),
//!   with Kafka's class names, configuration keys, defaults, validation and
//!   behaviour.
//! * [`debezium`]: Debezium's transforms (`io.debezium.transforms.*`).
//! * [`common`]: what they share — the schema cache that keeps derived
//!   schemas per input schema, key/value access, Kafka's error texts.

use std::sync::Arc;

use sluice_connect_api::{PredicatePlugin, TransformPlugin};

pub mod common;
pub mod debezium;
pub mod kafka;

/// Every transform plugin of this crate, for `Plugins::add_transform`.
pub fn all_plugins() -> Vec<Arc<dyn TransformPlugin>> {
    let mut out = kafka::plugins();
    out.extend(debezium::plugins());
    out
}

/// Every predicate plugin of this crate, for `Plugins::add_predicate`.
pub fn all_predicates() -> Vec<Arc<dyn PredicatePlugin>> {
    kafka::predicates()
}
