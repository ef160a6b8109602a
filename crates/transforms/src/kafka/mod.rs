//! Kafka Connect's single message transforms and predicates, with Kafka's
//! class names (`org.apache.kafka.connect.transforms.*`, `$Key` / `$Value`
//! variants where Kafka has them), configuration keys, defaults,
//! validation, behaviour and error messages. The Java sources and tests of
//! `connect/transforms` in apache/kafka are the specification.

use std::sync::Arc;

use sluice_connect_api::{PredicatePlugin, TransformPlugin};

pub mod cast;
pub mod datefmt;
pub mod drop_headers;
pub mod extract_field;
pub mod filter;
pub mod flatten;
pub mod header_from;
pub mod hoist_field;
pub mod insert_field;
pub mod insert_header;
pub mod java;
pub mod mask_field;
pub mod predicates;
pub mod regex_router;
pub mod replace_field;
pub mod set_schema_metadata;
pub mod timestamp_converter;
pub mod timestamp_router;
pub mod value_to_key;

/// The package of Kafka's transforms.
pub const PACKAGE: &str = "org.apache.kafka.connect.transforms";

/// Every Kafka transform plugin.
pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    let mut out = Vec::new();
    out.extend(regex_router::plugins());
    out.extend(timestamp_router::plugins());
    out.extend(replace_field::plugins());
    out.extend(mask_field::plugins());
    out.extend(insert_field::plugins());
    out.extend(extract_field::plugins());
    out.extend(flatten::plugins());
    out.extend(header_from::plugins());
    out.extend(cast::plugins());
    out.extend(value_to_key::plugins());
    out.extend(insert_header::plugins());
    out.extend(drop_headers::plugins());
    out.extend(hoist_field::plugins());
    out.extend(timestamp_converter::plugins());
    out.extend(set_schema_metadata::plugins());
    out.extend(filter::plugins());
    out
}

/// Every Kafka predicate plugin.
pub fn predicates() -> Vec<Arc<dyn PredicatePlugin>> {
    predicates::plugins()
}

/// A Markdown reference of every Kafka transform and predicate: class name,
/// aliases and the table of its keys (for docs/transforms.md).
pub fn reference_markdown() -> String {
    let mut out = String::new();
    for p in plugins() {
        out.push_str(&format!("#### `{}`\n\n", p.class_name()));
        if !p.aliases().is_empty() {
            out.push_str(&format!("Alias: `{}`.\n\n", p.aliases().join("`, `")));
        }
        if p.config_def().keys().is_empty() {
            out.push_str("No settings.\n\n");
        } else {
            out.push_str(&p.config_def().to_markdown());
            out.push('\n');
        }
    }
    for p in predicates() {
        out.push_str(&format!("#### `{}`\n\n", p.class_name()));
        if !p.aliases().is_empty() {
            out.push_str(&format!("Alias: `{}`.\n\n", p.aliases().join("`, `")));
        }
        if p.config_def().keys().is_empty() {
            out.push_str("No settings.\n\n");
        } else {
            out.push_str(&p.config_def().to_markdown());
            out.push('\n');
        }
    }
    out
}

/// The `replace.null.with.default` key several transforms share.
pub(crate) fn replace_null_with_default_key() -> sluice_connect_api::ConfigKey {
    use sluice_connect_api::{ConfigKey, ConfigType, Importance};
    ConfigKey::new("replace.null.with.default", ConfigType::Boolean)
        .default("true")
        .importance(Importance::Medium)
        .doc("Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.")
}

#[cfg(test)]
pub(crate) mod testutil {
    use sluice_connect_api::config::Props;
    use sluice_connect_api::{ConfigIssue, SchemaRef, SourceRecord, Transform, Value};

    pub fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn plugin(class: &str) -> std::sync::Arc<dyn sluice_connect_api::TransformPlugin> {
        crate::all_plugins()
            .into_iter()
            .find(|p| p.class_name() == class)
            .unwrap_or_else(|| panic!("no plugin {class}"))
    }

    /// A configured transform; panics on a configuration error.
    pub fn transform(class: &str, pairs: &[(&str, &str)]) -> Box<dyn Transform> {
        plugin(class)
            .create(&props(pairs))
            .unwrap_or_else(|e| panic!("{class}: {}", e.message()))
    }

    /// What validation says about a configuration.
    pub fn issues(class: &str, pairs: &[(&str, &str)]) -> Vec<ConfigIssue> {
        let p = plugin(class);
        let issues = p.validate(&props(pairs));
        // create() refuses exactly what validate() reports
        assert_eq!(p.create(&props(pairs)).is_err(), !issues.is_empty());
        issues
    }

    pub fn apply(t: &dyn Transform, record: SourceRecord) -> SourceRecord {
        t.apply(record).unwrap().expect("record kept")
    }

    pub fn value_record(schema: Option<SchemaRef>, value: Value) -> SourceRecord {
        SourceRecord::new(None, None, "topic", schema, value)
    }

    pub fn key_record(schema: Option<SchemaRef>, key: Value) -> SourceRecord {
        SourceRecord::new(None, None, "topic", None, Value::Null).with_key(schema, key)
    }

    /// A schemaless map.
    pub fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Value::from(k), v))
                .collect(),
        )
    }

    /// Schemaless map lookup.
    pub fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
        match value {
            Value::Map(m) => crate::common::map_get(m, key),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_is_registered_once_with_kafkas_name() {
        let mut names: Vec<&str> = plugins().iter().map(|p| p.class_name()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        for class in [
            "RegexRouter",
            "TimestampRouter",
            "ReplaceField$Key",
            "ReplaceField$Value",
            "MaskField$Key",
            "MaskField$Value",
            "InsertField$Key",
            "InsertField$Value",
            "ExtractField$Key",
            "ExtractField$Value",
            "Flatten$Key",
            "Flatten$Value",
            "HeaderFrom$Key",
            "HeaderFrom$Value",
            "Cast$Key",
            "Cast$Value",
            "ValueToKey",
            "InsertHeader",
            "DropHeaders",
            "HoistField$Key",
            "HoistField$Value",
            "TimestampConverter$Key",
            "TimestampConverter$Value",
            "SetSchemaMetadata$Key",
            "SetSchemaMetadata$Value",
            "Filter",
        ] {
            let full = format!("{PACKAGE}.{class}");
            assert!(names.contains(&full.as_str()), "{full} missing");
        }
        assert_eq!(n, 26);
        let preds: Vec<&str> = predicates().iter().map(|p| p.class_name()).collect();
        assert_eq!(
            preds,
            [
                "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
                "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
                "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            ]
        );
    }
}

#[cfg(test)]
mod reference_tests {
    /// docs/transforms.md carries the generated reference; regenerate it
    /// with `SLUICE_WRITE_REFERENCE=1 cargo test -p sluice-transforms
    /// docs_reference` when a key changes.
    #[test]
    fn docs_reference_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/transforms.md");
        let begin = "<!-- kafka-smt-reference:begin -->\n";
        let end = "<!-- kafka-smt-reference:end -->\n";
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
