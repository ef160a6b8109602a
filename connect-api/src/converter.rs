//! Converters between Connect data and bytes.

use crate::data::{SchemaRef, Value};
use crate::error::Result;
use crate::record::ContentType;

/// Converts Connect data to bytes and back (Kafka's `Converter`).
///
/// Contract: `from_connect` is deterministic for a given schema and value,
/// never blocks and may be called concurrently. A null value without a
/// schema (a tombstone) converts to `None`. Converters cache per schema
/// (schemas are shared `Arc`s and immutable), never per value.
#[allow(clippy::wrong_self_convention)] // Kafka's names: fromConnectData / toConnectData
pub trait Converter: Send + Sync {
    /// What the produced bytes are.
    fn content_type(&self) -> ContentType;

    /// Connect data → bytes (`None` for a null record value).
    fn from_connect(
        &self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>>;

    /// Bytes → Connect data.
    fn to_connect(&self, topic: &str, bytes: Option<&[u8]>) -> Result<(Option<SchemaRef>, Value)>;
}
