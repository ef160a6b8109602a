//! `org.apache.kafka.connect.transforms.InsertHeader`: adds a header `header`
//! whose value is `value.literal`, typed the way Connect's
//! `Values.parseString` types it (`1` is an int8, `true` a boolean, `a b` a
//! string, …).

use std::sync::Arc;

use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, Header, Importance, Result, SchemaRef, SourceRecord,
    Transform, TransformPlugin, Value,
};

use super::java::parse_literal;
use crate::common::SmtPlugin;

pub const CLASS: &str = "org.apache.kafka.connect.transforms.InsertHeader";

pub fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("header", ConfigType::String)
                .importance(Importance::High)
                .doc("The name of the header."),
        )
        .define(
            ConfigKey::new("value.literal", ConfigType::String)
                .importance(Importance::High)
                .doc("The literal value that is to be set as the header value on all records."),
        )
}

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    vec![SmtPlugin::define(
        CLASS,
        &["InsertHeader"],
        config_def(),
        |c| {
            let (schema, value) = parse_literal(c.get_string("value.literal").unwrap_or_default());
            Ok(Box::new(InsertHeader {
                header: c.get_string("header").unwrap_or_default().to_string(),
                schema,
                value,
            }) as Box<dyn Transform>)
        },
    )]
}

pub struct InsertHeader {
    header: String,
    schema: Option<SchemaRef>,
    value: Value,
}

impl Transform for InsertHeader {
    fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
        record.headers.push(Header {
            key: self.header.clone(),
            schema: self.schema.clone(),
            value: self.value.clone(),
        });
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::*;
    use sluice_connect_api::SchemaBuilder;

    fn string_header(key: &str, value: &str) -> Header {
        Header {
            key: key.into(),
            schema: Some(SchemaBuilder::string().build()),
            value: Value::from(value),
        }
    }

    fn record(headers: Vec<Header>) -> SourceRecord {
        let mut r = SourceRecord::new(None, None, "topic", None, Value::from("value"))
            .with_key(None, Value::from("key"))
            .with_timestamp(0);
        r.headers = headers;
        r
    }

    // Kafka's InsertHeaderTest.
    #[test]
    fn inserts_after_existing_headers() {
        let t = transform(
            CLASS,
            &[("header", "inserted"), ("value.literal", "inserted-value")],
        );
        let out = apply(
            t.as_ref(),
            record(vec![string_header("existing", "existing-value")]),
        );
        assert_eq!(
            out.headers,
            vec![
                string_header("existing", "existing-value"),
                string_header("inserted", "inserted-value")
            ]
        );
        assert_eq!(out.value, Value::from("value"));
        let t = transform(
            CLASS,
            &[("header", "existing"), ("value.literal", "inserted-value")],
        );
        let out = apply(
            t.as_ref(),
            record(vec![string_header("existing", "preexisting-value")]),
        );
        assert_eq!(
            out.headers,
            vec![
                string_header("existing", "preexisting-value"),
                string_header("existing", "inserted-value")
            ]
        );
    }

    #[test]
    fn a_number_literal_is_typed() {
        let t = transform(CLASS, &[("header", "inserted"), ("value.literal", "1")]);
        let out = apply(t.as_ref(), record(vec![]));
        assert_eq!(
            out.headers,
            vec![Header {
                key: "inserted".into(),
                schema: Some(SchemaBuilder::int8().build()),
                value: Value::Int8(1)
            }]
        );
    }

    #[test]
    fn both_keys_are_required() {
        assert_eq!(issues(CLASS, &[("value.literal", "1")])[0].key, "header");
        assert_eq!(issues(CLASS, &[("header", "h")])[0].key, "value.literal");
        assert!(issues(CLASS, &[("header", "h"), ("value.literal", "")]).is_empty());
    }
}
