//! Single message transforms and predicates (Kafka Connect's SMTs).

use crate::config::{ConfigDef, Props};
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
    fn create(&self, props: &Props) -> Result<Box<dyn Transform>>;
}
