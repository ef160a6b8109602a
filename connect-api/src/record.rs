//! Records: what sources produce, what converters turn into bytes, what sinks
//! receive.

use std::sync::Arc;

use crate::data::{SchemaRef, Value};

/// A source partition (Kafka Connect's `Map<String, ?>`), e.g.
/// `{"server": "inventory"}` or `{"filename": "/tmp/in.txt"}`. Shared by every
/// record of that partition.
pub type SourcePartition = Arc<serde_json::Map<String, serde_json::Value>>;

/// A source offset (Kafka Connect's `Map<String, ?>`), e.g.
/// `{"lsn": 1234, "txId": 5}` or `{"position": 42}`.
pub type SourceOffset = serde_json::Map<String, serde_json::Value>;

/// A Connect header: a key and a schema'd value.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub key: String,
    pub schema: Option<SchemaRef>,
    pub value: Value,
}

/// Headers in order; keys may repeat, as in Kafka.
pub type Headers = Vec<Header>;

/// A record produced by a source task.
///
/// `source_partition`/`source_offset` say where in the source this record
/// came from; the worker commits the offset only once this record and every
/// record before it has been acknowledged durable by the sink. Both are
/// `None` for sources that cannot resume (FileStreamSource on standard
/// input).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub source_partition: Option<SourcePartition>,
    pub source_offset: Option<SourceOffset>,
    pub topic: Arc<str>,
    /// Kafka partition, or `None` to let the sink/partitioner decide.
    pub kafka_partition: Option<i32>,
    pub key_schema: Option<SchemaRef>,
    pub key: Value,
    pub value_schema: Option<SchemaRef>,
    pub value: Value,
    /// Milliseconds since the epoch.
    pub timestamp: Option<i64>,
    pub headers: Headers,
}

impl SourceRecord {
    /// A record with no key, no headers and no Kafka partition.
    pub fn new(
        source_partition: Option<SourcePartition>,
        source_offset: Option<SourceOffset>,
        topic: impl Into<Arc<str>>,
        value_schema: Option<SchemaRef>,
        value: Value,
    ) -> Self {
        SourceRecord {
            source_partition,
            source_offset,
            topic: topic.into(),
            kafka_partition: None,
            key_schema: None,
            key: Value::Null,
            value_schema,
            value,
            timestamp: None,
            headers: Vec::new(),
        }
    }

    pub fn with_key(mut self, key_schema: Option<SchemaRef>, key: Value) -> Self {
        self.key_schema = key_schema;
        self.key = key;
        self
    }

    pub fn with_timestamp(mut self, timestamp_ms: i64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }

    /// Cheap estimate of the record's memory footprint, for byte budgets.
    pub fn approx_size(&self) -> usize {
        std::mem::size_of::<SourceRecord>()
            + self.topic.len()
            + self.key.approx_size()
            + self.value.approx_size()
            + self
                .headers
                .iter()
                .map(|h| h.key.len() + h.value.approx_size())
                .sum::<usize>()
    }
}

/// A record handed to a sink connector (Kafka Connect's `SinkRecord`): Connect
/// data read back from a Kafka topic partition at `kafka_offset`.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkRecord {
    pub topic: Arc<str>,
    pub kafka_partition: i32,
    pub kafka_offset: i64,
    pub key_schema: Option<SchemaRef>,
    pub key: Value,
    pub value_schema: Option<SchemaRef>,
    pub value: Value,
    pub timestamp: Option<i64>,
    pub headers: Headers,
}

/// What a converter's bytes are, so a sink can embed JSON as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// The bytes are one UTF-8 JSON document.
    Json,
    /// UTF-8 text that is not necessarily JSON (StringConverter).
    Text,
    /// Opaque bytes (Avro, ByteArrayConverter).
    Binary,
}

/// A record after transforms and converters: what a [`crate::Sink`] writes.
#[derive(Debug, Clone, PartialEq)]
pub struct SerializedRecord {
    pub topic: Arc<str>,
    pub partition: Option<i32>,
    pub timestamp: Option<i64>,
    /// Header values rendered by the header converter; `None` is a null value.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// `None` is a null key.
    pub key: Option<Vec<u8>>,
    /// `None` is a null value (a tombstone).
    pub value: Option<Vec<u8>>,
    pub key_type: ContentType,
    pub value_type: ContentType,
}

impl SerializedRecord {
    /// Bytes this record holds, for byte budgets.
    pub fn size(&self) -> usize {
        std::mem::size_of::<SerializedRecord>()
            + self.topic.len()
            + self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
                .sum::<usize>()
    }
}
