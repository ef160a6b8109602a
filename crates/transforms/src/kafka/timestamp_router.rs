//! `org.apache.kafka.connect.transforms.TimestampRouter`: the topic becomes
//! `topic.format` with `${topic}` and `${timestamp}` (the record timestamp
//! formatted with `timestamp.format`, a `SimpleDateFormat` pattern, in UTC)
//! replaced.

use std::sync::Arc;

use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Result, SourceRecord, Transform,
    TransformPlugin,
};

use super::datefmt::JavaDateFormat;
use crate::common::{invalid, SmtPlugin};

pub const CLASS: &str = "org.apache.kafka.connect.transforms.TimestampRouter";

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("topic.format", ConfigType::String)
                .default("${topic}-${timestamp}")
                .importance(Importance::High)
                .doc("Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively."),
        )
        .define(
            ConfigKey::new("timestamp.format", ConfigType::String)
                .default("yyyyMMdd")
                .importance(Importance::High)
                .doc("Format string for the timestamp that is compatible with java.text.SimpleDateFormat."),
        )
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    vec![SmtPlugin::define(
        CLASS,
        &["TimestampRouter"],
        config_def(),
        |c| {
            let pattern = c.get_string("timestamp.format").unwrap_or_default();
            let format = JavaDateFormat::compile(pattern)
                .map_err(|e| invalid("timestamp.format", pattern, e))?;
            Ok(Box::new(TimestampRouter {
                topic_format: c.get_string("topic.format").unwrap_or_default().to_string(),
                format,
            }) as Box<dyn Transform>)
        },
    )]
}

pub struct TimestampRouter {
    topic_format: String,
    format: JavaDateFormat,
}

impl Transform for TimestampRouter {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        let Some(timestamp) = record.timestamp else {
            return Err(ConnectError::data(format!(
                "Timestamp missing on record: SourceRecord{{topic='{}', kafkaPartition={}}}",
                record.topic,
                record
                    .kafka_partition
                    .map_or("null".to_string(), |p| p.to_string())
            )));
        };
        let formatted = self.format.format(timestamp);
        let topic = self
            .topic_format
            .replace("${topic}", &record.topic)
            .replace("${timestamp}", &formatted);
        record.topic = topic.into();
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::*;
    use sluice_connect_api::Value;

    // Kafka's TimestampRouterTest.defaultConfiguration.
    #[test]
    fn default_configuration() {
        let t = transform(CLASS, &[]);
        let r = SourceRecord::new(None, None, "test", None, Value::Null)
            .with_timestamp(1_483_425_001_864);
        assert_eq!(&*apply(t.as_ref(), r).topic, "test-20170103");
    }

    #[test]
    fn custom_formats() {
        let t = transform(
            CLASS,
            &[
                ("topic.format", "${timestamp}/${topic}/${timestamp}"),
                ("timestamp.format", "yyyy-MM-dd'T'HH"),
            ],
        );
        let r =
            SourceRecord::new(None, None, "t", None, Value::Null).with_timestamp(1_483_425_001_864);
        assert_eq!(
            &*apply(t.as_ref(), r).topic,
            "2017-01-03T06/t/2017-01-03T06"
        );
    }

    #[test]
    fn a_record_without_timestamp_fails() {
        let t = transform(CLASS, &[]);
        let e = t
            .apply(SourceRecord::new(None, None, "t", None, Value::Null))
            .unwrap_err();
        assert!(
            e.message().starts_with("Timestamp missing on record"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn a_bad_pattern_names_the_key() {
        let i = issues(CLASS, &[("timestamp.format", "yyyy-bb")]);
        assert_eq!(i[0].key, "timestamp.format");
        assert_eq!(
            i[0].message,
            "Invalid value yyyy-bb for configuration timestamp.format: Illegal pattern character 'b'"
        );
    }
}
