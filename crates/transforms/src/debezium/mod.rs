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

/// The Markdown reference of every Debezium transform's keys (the
/// "Debezium transforms reference" of docs/transforms.md).
pub fn reference_markdown() -> String {
    let mut out = String::new();
    for p in plugins() {
        out.push_str(&format!("#### `{}`\n\n", p.class_name()));
        if !p.aliases().is_empty() {
            out.push_str(&format!("Alias: `{}`.\n\n", p.aliases().join("`, `")));
        }
        out.push_str(&p.config_def().to_markdown());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_reference_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/transforms.md");
        let begin = "<!-- debezium-reference:begin -->\n";
        let end = "<!-- debezium-reference:end -->\n";
        let generated = super::reference_markdown();
        let doc = std::fs::read_to_string(path).expect("docs/transforms.md");
        let (head, rest) = doc.split_once(begin).expect("reference begin marker");
        let (current, tail) = rest.split_once(end).expect("reference end marker");
        if std::env::var_os("SLUICE_WRITE_REFERENCE").is_some() {
            std::fs::write(path, format!("{head}{begin}{generated}{end}{tail}")).unwrap();
            return;
        }
        assert!(
            current == generated,
            "docs/transforms.md is out of date; regenerate with SLUICE_WRITE_REFERENCE=1"
        );
    }
}
