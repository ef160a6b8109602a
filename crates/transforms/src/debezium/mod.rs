//! Debezium's transforms: ExtractNewRecordState, the outbox EventRouter,
//! ByLogicalTableRouter / ToLogicalTopicRouter and PostgreSQL's
//! DecodeLogicalDecodingMessageContent, with Debezium 3.x's class names,
//! options and output (schema names included).

use std::sync::Arc;

use sluice_connect_api::TransformPlugin;

pub mod json;
pub mod logical_table;
pub mod message;
pub mod outbox;
pub mod unwrap;
mod util;

pub use logical_table::ByLogicalTableRouter;
pub use message::DecodeLogicalDecodingMessageContent;
pub use outbox::EventRouter;
pub use unwrap::ExtractNewRecordState;
pub use util::NameAdjustment;

/// Every Debezium transform sluice implements.
pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    vec![
        unwrap::plugin(),
        outbox::plugin(),
        logical_table::plugin(),
        logical_table::to_logical_topic_plugin(),
        message::decode_plugin(),
    ]
}
