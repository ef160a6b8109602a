//! Kafka's predicates (`org.apache.kafka.connect.transforms.predicates.*`):
//! `TopicNameMatches` (`pattern`), `HasHeaderKey` (`name`) and
//! `RecordIsTombstone`. A transform uses one with
//! `transforms.<alias>.predicate=<predicate alias>` and optionally
//! `transforms.<alias>.negate=true`.

use std::sync::Arc;

use sluice_connect_api::config::ConfigValue;
use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, Importance, Predicate, PredicatePlugin, SourceRecord,
    Validator, Value,
};

use super::java::JavaRegex;
use crate::common::{invalid, SmtPredicatePlugin};

pub const TOPIC_NAME_MATCHES: &str =
    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches";
pub const HAS_HEADER_KEY: &str = "org.apache.kafka.connect.transforms.predicates.HasHeaderKey";
pub const RECORD_IS_TOMBSTONE: &str =
    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone";

/// `NonEmptyString` and `RegexValidator` together.
fn non_empty_regex(value: &ConfigValue) -> Result<(), String> {
    match value {
        ConfigValue::String(s) if s.is_empty() => Err("String must be non-empty".into()),
        ConfigValue::String(s) => JavaRegex::compile(s)
            .map(|_| ())
            .map_err(|e| format!("Invalid regex: {e}")),
        _ => Ok(()),
    }
}

pub fn topic_name_matches_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new("pattern", ConfigType::String)
            .validator(Validator::Custom(non_empty_regex))
            .importance(Importance::Medium)
            .doc("A Java regular expression for matching against the name of a record's topic."),
    )
}

pub fn has_header_key_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new("name", ConfigType::String)
            .validator(Validator::NonEmptyString)
            .importance(Importance::Medium)
            .doc("The header name."),
    )
}

pub fn plugins() -> Vec<Arc<dyn PredicatePlugin>> {
    vec![
        SmtPredicatePlugin::define(
            TOPIC_NAME_MATCHES,
            &["TopicNameMatches"],
            topic_name_matches_config_def(),
            |c| {
                let pattern = c.get_string("pattern").unwrap_or_default();
                let regex = JavaRegex::compile(pattern).map_err(|e| {
                    invalid(
                        "pattern",
                        pattern,
                        format!("entry must be a Java-compatible regular expression: {e}"),
                    )
                })?;
                Ok(Box::new(TopicNameMatches { regex }) as Box<dyn Predicate>)
            },
        ),
        SmtPredicatePlugin::define(
            HAS_HEADER_KEY,
            &["HasHeaderKey"],
            has_header_key_config_def(),
            |c| {
                Ok(Box::new(HasHeaderKey {
                    name: c.get_string("name").unwrap_or_default().to_string(),
                }) as Box<dyn Predicate>)
            },
        ),
        SmtPredicatePlugin::define(
            RECORD_IS_TOMBSTONE,
            &["RecordIsTombstone"],
            ConfigDef::new(),
            |_| Ok(Box::new(RecordIsTombstone) as Box<dyn Predicate>),
        ),
    ]
}

/// True for records whose whole topic matches `pattern`.
pub struct TopicNameMatches {
    regex: JavaRegex,
}

impl Predicate for TopicNameMatches {
    fn test(&self, record: &SourceRecord) -> bool {
        self.regex.matches(&record.topic)
    }
}

/// True for records with at least one header named `name`.
pub struct HasHeaderKey {
    name: String,
}

impl Predicate for HasHeaderKey {
    fn test(&self, record: &SourceRecord) -> bool {
        record.headers.iter().any(|h| h.key == self.name)
    }
}

/// True for records whose value is null.
pub struct RecordIsTombstone;

impl Predicate for RecordIsTombstone {
    fn test(&self, record: &SourceRecord) -> bool {
        matches!(record.value, Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::props;
    use sluice_connect_api::{ConfigIssue, Header};

    fn plugin(class: &str) -> Arc<dyn PredicatePlugin> {
        plugins()
            .into_iter()
            .find(|p| p.class_name() == class)
            .unwrap()
    }

    fn predicate(class: &str, pairs: &[(&str, &str)]) -> Box<dyn Predicate> {
        plugin(class).create(&props(pairs)).unwrap()
    }

    fn issues(class: &str, pairs: &[(&str, &str)]) -> Vec<ConfigIssue> {
        plugin(class).validate(&props(pairs))
    }

    fn topic(t: &str) -> SourceRecord {
        SourceRecord::new(None, None, t, None, Value::Null)
    }

    // Kafka's TopicNameMatchesTest.
    #[test]
    fn topic_name_matches() {
        assert!(issues(TOPIC_NAME_MATCHES, &[])[0]
            .message
            .contains("Missing required configuration \"pattern\""));
        assert!(issues(TOPIC_NAME_MATCHES, &[("pattern", "")])[0]
            .message
            .contains("String must be non-empty"));
        for bad in ["[", "*"] {
            let i = issues(TOPIC_NAME_MATCHES, &[("pattern", bad)]);
            assert_eq!(i.len(), 1);
            assert!(i[0].message.contains("Invalid regex"), "{}", i[0].message);
        }
        let p = predicate(TOPIC_NAME_MATCHES, &[("pattern", "my-prefix-.*")]);
        assert!(p.test(&topic("my-prefix-")));
        assert!(p.test(&topic("my-prefix-foo")));
        assert!(!p.test(&topic("x-my-prefix-")));
        assert!(!p.test(&topic("x-my-prefix-foo")));
        assert!(!p.test(&topic("your-prefix-")));
        assert!(!p.test(&topic("your-prefix-foo")));
        assert!(!p.test(&topic("")));
    }

    // Kafka's HasHeaderKeyTest.
    #[test]
    fn has_header_key() {
        assert!(issues(HAS_HEADER_KEY, &[])[0]
            .message
            .contains("Missing required configuration \"name\""));
        assert_eq!(
            issues(HAS_HEADER_KEY, &[("name", "")])[0].message,
            "Invalid value  for configuration name: String must be non-empty"
        );
        let p = predicate(HAS_HEADER_KEY, &[("name", "foo")]);
        let with = |keys: &[&str]| {
            let mut r = topic("t");
            r.headers = keys
                .iter()
                .map(|k| Header {
                    key: k.to_string(),
                    schema: None,
                    value: Value::Null,
                })
                .collect();
            r
        };
        assert!(p.test(&with(&["foo"])));
        assert!(p.test(&with(&["foo", "bar"])));
        assert!(p.test(&with(&["bar", "foo", "bar", "foo"])));
        assert!(!p.test(&with(&["bar"])));
        assert!(!p.test(&with(&["bar", "bar"])));
        assert!(!p.test(&with(&[])));
    }

    #[test]
    fn record_is_tombstone() {
        let p = predicate(RECORD_IS_TOMBSTONE, &[]);
        assert!(p.test(&topic("t")));
        assert!(!p.test(&SourceRecord::new(None, None, "t", None, Value::from("x"))));
    }
}
