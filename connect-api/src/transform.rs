//! Single message transforms and predicates (Kafka Connect's SMTs).

use crate::config::{ConfigDef, ConfigIssue, Props};
use crate::error::Result;
use crate::record::SourceRecord;

/// A single message transform.
///
/// Contract: `apply` is pure with respect to the record stream — it sees one
/// record at a time, in order, and returns the record to pass on, a changed
/// record, or `None` to drop it. A dropped record counts as delivered for
/// offset purposes. Transforms must not block; errors of kind `Data` go
/// through the connector's error tolerance.
pub trait Transform: Send + Sync {
    fn apply(&self, record: SourceRecord) -> Result<Option<SourceRecord>>;
}

/// A predicate that decides whether a transform applies to a record.
pub trait Predicate: Send + Sync {
    fn test(&self, record: &SourceRecord) -> bool;
}

/// Creates configured transforms of one class.
pub trait TransformPlugin: Send + Sync {
    fn class_name(&self) -> &'static str;
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    fn config_def(&self) -> &ConfigDef;
    /// Every problem with `props` (the transform's keys, `transforms.<alias>.`
    /// removed), each naming its key; an empty key means the configuration
    /// as a whole. Pure. The default checks the declared keys only; plugins
    /// with rules across keys add those.
    fn validate(&self, props: &Props) -> Vec<ConfigIssue> {
        self.config_def().issues(props)
    }
    fn create(&self, props: &Props) -> Result<Box<dyn Transform>>;
}

/// Creates configured predicates of one class (`predicates.<alias>.type`).
pub trait PredicatePlugin: Send + Sync {
    fn class_name(&self) -> &'static str;
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    fn config_def(&self) -> &ConfigDef;
    /// Every problem with `props` (`predicates.<alias>.` removed). Pure.
    fn validate(&self, props: &Props) -> Vec<ConfigIssue> {
        self.config_def().issues(props)
    }
    fn create(&self, props: &Props) -> Result<Box<dyn Predicate>>;
}

/// A transform applied only to the records its predicate accepts (or, with
/// `negate`, rejects); the others pass unchanged. Kafka Connect's
/// `TransformationStage`, built from `transforms.<alias>.predicate` and
/// `transforms.<alias>.negate`.
pub struct ConditionalTransform {
    predicate: Box<dyn Predicate>,
    negate: bool,
    transform: Box<dyn Transform>,
}

impl ConditionalTransform {
    pub fn new(predicate: Box<dyn Predicate>, negate: bool, transform: Box<dyn Transform>) -> Self {
        ConditionalTransform {
            predicate,
            negate,
            transform,
        }
    }
}

impl Transform for ConditionalTransform {
    fn apply(&self, record: SourceRecord) -> Result<Option<SourceRecord>> {
        if self.predicate.test(&record) != self.negate {
            self.transform.apply(record)
        } else {
            Ok(Some(record))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Value;

    struct TopicIs(&'static str);
    impl Predicate for TopicIs {
        fn test(&self, record: &SourceRecord) -> bool {
            &*record.topic == self.0
        }
    }
    struct Rename;
    impl Transform for Rename {
        fn apply(&self, mut record: SourceRecord) -> Result<Option<SourceRecord>> {
            record.topic = "renamed".into();
            Ok(Some(record))
        }
    }

    fn record(topic: &str) -> SourceRecord {
        SourceRecord::new(None, None, topic, None, Value::Null)
    }

    #[test]
    fn conditional_transform_follows_predicate_and_negate() {
        let t = ConditionalTransform::new(Box::new(TopicIs("a")), false, Box::new(Rename));
        assert_eq!(&*t.apply(record("a")).unwrap().unwrap().topic, "renamed");
        assert_eq!(&*t.apply(record("b")).unwrap().unwrap().topic, "b");
        let n = ConditionalTransform::new(Box::new(TopicIs("a")), true, Box::new(Rename));
        assert_eq!(&*n.apply(record("a")).unwrap().unwrap().topic, "a");
        assert_eq!(&*n.apply(record("b")).unwrap().unwrap().topic, "renamed");
    }
}
