//! `org.apache.kafka.connect.transforms.Filter`: drops every record. Meant to
//! be used with a predicate (`transforms.<alias>.predicate`), to drop the
//! records that match it (or, with `negate=true`, those that do not).

use std::sync::Arc;

use sluice_connect_api::{ConfigDef, Result, SourceRecord, Transform, TransformPlugin};

use crate::common::SmtPlugin;

pub const CLASS: &str = "org.apache.kafka.connect.transforms.Filter";

pub fn plugins() -> Vec<Arc<dyn TransformPlugin>> {
    vec![SmtPlugin::define(
        CLASS,
        &["Filter"],
        ConfigDef::new(),
        |_| Ok(Box::new(Filter) as Box<dyn Transform>),
    )]
}

pub struct Filter;

impl Transform for Filter {
    fn apply(&self, _record: SourceRecord) -> Result<Option<SourceRecord>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::testutil::*;
    use sluice_connect_api::Value;

    #[test]
    fn drops_everything() {
        let t = transform(CLASS, &[]);
        assert!(t
            .apply(value_record(None, Value::from("x")))
            .unwrap()
            .is_none());
        assert!(t.apply(value_record(None, Value::Null)).unwrap().is_none());
    }
}
