//! `org.apache.kafka.connect.transforms.RegexRouter`: when the whole topic
//! matches `regex`, the topic becomes `replaceFirst(replacement)` (Java's
//! `$1` / `${name}` references).

use std::sync::Arc;

use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, Importance, Result, SourceRecord, Transform, TransformPlugin,
    Validator,
};

use super::java::{JavaRegex, Replacement};
use crate::common::{invalid, valid_regex, SmtPlugin};

pub const CLASS: &str = "org.apache.kafka.connect.transforms.RegexRouter";

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("regex", ConfigType::String)
                .validator(Validator::Custom(valid_regex))
                .importance(Importance::High)
                .doc("Regular expression to use for matching."),
        )
        .define(
            ConfigKey::new("replacement", ConfigType::String)
                .importance(Importance::High)
                .doc("Replacement string."),
        )
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    vec![SmtPlugin::define(
        CLASS,
        &["RegexRouter"],
        config_def(),
        |c| {
            let pattern = c.get_string("regex").unwrap_or_default();
            let regex = JavaRegex::compile(pattern)
                .map_err(|e| invalid("regex", pattern, format!("Invalid regex: {e}")))?;
            let text = c.get_string("replacement").unwrap_or_default();
            let replacement = regex
                .replacement(text)
                .map_err(|e| invalid("replacement", text, e))?;
            Ok(Box::new(RegexRouter { regex, replacement }) as Box<dyn Transform>)
        },
    )]
}

pub struct RegexRouter {
    regex: JavaRegex,
    replacement: Replacement,
}

impl Transform for RegexRouter {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        if self.regex.matches(&record.topic) {
            let topic = self.regex.replace_first(&record.topic, &self.replacement);
            record.topic = topic.into();
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::*;
    use sluice_connect_api::Value;

    fn route(regex: &str, replacement: &str, topic: &str) -> String {
        let t = transform(CLASS, &[("regex", regex), ("replacement", replacement)]);
        let r = SourceRecord::new(None, None, topic, None, Value::Null);
        apply(t.as_ref(), r).topic.to_string()
    }

    // Kafka's RegexRouterTest.
    #[test]
    fn routes_like_kafka() {
        assert_eq!(route("foo", "bar", "foo"), "bar");
        assert_eq!(route("foo", "bar", "orig"), "orig");
        assert_eq!(route("(.*)", "$1", "orig"), "orig");
        assert_eq!(route("(.*)", "prefix-$1", "orig"), "prefix-orig");
        assert_eq!(route("(.*)", "$1-suffix", "orig"), "orig-suffix");
        assert_eq!(
            route("(.*)-(\\d\\d\\d\\d\\d\\d\\d\\d)", "$1", "index-20160117"),
            "index"
        );
        // Debezium's documented use: drop the schema part of a topic name.
        assert_eq!(
            route(
                "([^.]+)\\.([^.]+)\\.([^.]+)",
                "$1.$3",
                "dbserver1.inventory.customers"
            ),
            "dbserver1.customers"
        );
    }

    #[test]
    fn keeps_everything_but_the_topic() {
        let t = transform(CLASS, &[("regex", "a"), ("replacement", "b")]);
        let mut r = SourceRecord::new(None, None, "a", None, Value::from("v")).with_timestamp(7);
        r.kafka_partition = Some(3);
        let out = apply(t.as_ref(), r.clone());
        assert_eq!(&*out.topic, "b");
        assert_eq!(out.value, r.value);
        assert_eq!(out.timestamp, Some(7));
        assert_eq!(out.kafka_partition, Some(3));
    }

    #[test]
    fn bad_configuration_names_the_key() {
        let i = issues(CLASS, &[("replacement", "x")]);
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].key, "regex");
        assert_eq!(
            i[0].message,
            "Missing required configuration \"regex\" which has no default value."
        );
        let i = issues(CLASS, &[("regex", "("), ("replacement", "x")]);
        assert_eq!(i[0].key, "regex");
        assert!(
            i[0].message
                .starts_with("Invalid value ( for configuration regex: Invalid regex:"),
            "{}",
            i[0].message
        );
        let i = issues(CLASS, &[("regex", "(a)"), ("replacement", "$2")]);
        assert_eq!(i[0].key, "replacement");
        assert_eq!(
            i[0].message,
            "Invalid value $2 for configuration replacement: No group 2"
        );
    }
}
