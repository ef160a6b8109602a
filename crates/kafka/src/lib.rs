//! sluice's Kafka parts (rdkafka with its bundled librdkafka):
//!
//! * [`sink::KafkaSink`] — `sink.type=kafka`, the idempotent producer sink;
//! * [`admin::TopicManager`] / [`topics::TopicCreation`] — missing topics
//!   created with Kafka Connect's KIP-158 `topic.creation.*` keys;
//! * [`offsets::KafkaOffsetStore`] — source offsets in a compacted topic in
//!   Kafka Connect's layout;
//! * [`schemas::KafkaSchemaStorage`] — `sluice registry`'s contents in a
//!   compacted `_schemas` topic;
//! * [`client`] — Kafka Connect (Java client) settings → librdkafka.

pub mod admin;
pub mod client;
pub mod connect_stores;
pub mod log;
pub mod offsets;
pub mod schemas;
pub mod sink;
pub mod topics;

use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use sluice_connect_api::{ConnectError, ErrorKind, SinkPlugin};

pub use offsets::KafkaOffsetStore;
pub use sink::{KafkaSink, KafkaSinkPlugin};

/// The sink plugins of this crate.
pub fn all_plugins() -> Vec<std::sync::Arc<dyn SinkPlugin>> {
    vec![std::sync::Arc::new(KafkaSinkPlugin::default())]
}

/// The error kind of a librdkafka error code (which decides retry or fail;
/// see the error table in sluice-connect-api).
pub fn kind_of_code(code: RDKafkaErrorCode) -> ErrorKind {
    use RDKafkaErrorCode as C;
    match code {
        C::TopicAuthorizationFailed
        | C::ClusterAuthorizationFailed
        | C::GroupAuthorizationFailed
        | C::TransactionalIdAuthorizationFailed => ErrorKind::Permission,
        C::SaslAuthenticationFailed | C::Authentication => ErrorKind::Authentication,
        C::MessageSizeTooLarge | C::InvalidRecord | C::InvalidMessage => ErrorKind::Data,
        C::InvalidConfig | C::InvalidArgument | C::InvalidTopic | C::UnknownTopic => {
            ErrorKind::Config
        }
        C::MessageTimedOut | C::RequestTimedOut | C::OperationTimedOut => ErrorKind::Timeout,
        C::Fatal => ErrorKind::Unavailable,
        _ => ErrorKind::Connection,
    }
}

/// A `ConnectError` for an rdkafka error, saying what was being done.
pub fn kafka_error(what: &str, e: &KafkaError) -> ConnectError {
    let kind = match e {
        KafkaError::ClientConfig(..) | KafkaError::ClientCreation(_) => ErrorKind::Config,
        other => other
            .rdkafka_error_code()
            .map_or(ErrorKind::Connection, kind_of_code),
    };
    ConnectError::new(kind, format!("{what}: {e}"))
}
