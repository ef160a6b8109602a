//! `org.apache.kafka.connect.transforms.DropHeaders`: removes every header
//! whose key is listed in `headers`.

use std::collections::HashSet;
use std::sync::Arc;

use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, Importance, Result, SourceRecord, Transform, TransformPlugin,
    Validator,
};

use crate::common::{non_empty_list, SmtPlugin};

pub const CLASS: &str = "org.apache.kafka.connect.transforms.DropHeaders";

pub fn config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new("headers", ConfigType::List)
            .validator(Validator::Custom(non_empty_list))
            .importance(Importance::High)
            .doc("The name of the headers to be removed."),
    )
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    vec![SmtPlugin::define(
        CLASS,
        &["DropHeaders"],
        config_def(),
        |c| {
            Ok(Box::new(DropHeaders {
                headers: c.get_list("headers").iter().cloned().collect(),
            }) as Box<dyn Transform>)
        },
    )]
}

pub struct DropHeaders {
    headers: HashSet<String>,
}

impl Transform for DropHeaders {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        record.headers.retain(|h| !self.headers.contains(&h.key));
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::*;
    use sluice_connect_api::{Header, SchemaBuilder, Value};

    fn header(key: &str, value: &str) -> Header {
        Header {
            key: key.into(),
            schema: Some(SchemaBuilder::string().build()),
            value: Value::from(value),
        }
    }

    fn with_headers(headers: Vec<Header>) -> SourceRecord {
        let mut r = SourceRecord::new(None, None, "topic", None, Value::from("value"))
            .with_key(None, Value::from("key"))
            .with_timestamp(0);
        r.kafka_partition = Some(0);
        r.headers = headers;
        r
    }

    // Kafka's DropHeadersTest.
    #[test]
    fn drops_every_header_with_the_name() {
        let t = transform(CLASS, &[("headers", "to-drop")]);
        let expected = vec![header("existing", "existing-value")];
        for extra in [
            vec![header("to-drop", "existing-value")],
            vec![
                header("to-drop", "existing-value"),
                header("to-drop", "existing-other-value"),
            ],
            vec![],
        ] {
            let mut headers = expected.clone();
            headers.extend(extra);
            let original = with_headers(headers);
            let out = apply(t.as_ref(), original.clone());
            assert_eq!(out.headers, expected);
            assert_eq!(out.key, original.key);
            assert_eq!(out.value, original.value);
            assert_eq!(out.topic, original.topic);
            assert_eq!(out.kafka_partition, original.kafka_partition);
            assert_eq!(out.timestamp, original.timestamp);
        }
    }

    #[test]
    fn rejects_an_empty_list() {
        let i = issues(CLASS, &[("headers", "")]);
        assert_eq!(i[0].key, "headers");
        assert_eq!(
            i[0].message,
            "Invalid value  for configuration headers: Empty list"
        );
        assert_eq!(issues(CLASS, &[])[0].key, "headers");
    }
}
