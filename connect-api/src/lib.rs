//! The sluice plugin API.
//!
//! This crate holds what every connector, transform, converter and sink shares
//! and nothing that does I/O:
//!
//! * [`data`]: Kafka Connect's data model — [`Schema`], positional [`Struct`]
//!   and [`Value`], the logical types (Decimal, Date, Time, Timestamp).
//! * [`record`]: [`SourceRecord`], [`SinkRecord`] and the converted
//!   [`SerializedRecord`] that sinks receive.
//! * [`source`], [`sink`], [`transform`], [`converter`]: the plugin traits, each
//!   with its contract (ordering, duplicates, what "durable" means).
//! * [`config`]: configuration definitions with pure validation.
//! * [`error`]: the one error type and the table that maps its kinds to
//!   retry-with-backoff or fail-task.

pub mod config;
pub mod converter;
pub mod data;
pub mod error;
pub mod record;
pub mod sink;
pub mod source;
pub mod text;
pub mod transform;

pub use config::{
    ConfigDef, ConfigIssue, ConfigKey, ConfigType, ConfigValue, ConfigValues, Importance,
    KeyValidation, Password, Props, Validator,
};
pub use converter::Converter;
pub use data::{Decimal, Field, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Text, Value};
pub use error::{ConnectError, ErrorAction, ErrorKind, Result};
pub use record::{
    ContentType, Header, Headers, SerializedRecord, SinkRecord, SourceOffset, SourcePartition,
    SourceRecord,
};
pub use sink::{BatchAck, Sink, SinkContext, SinkPlugin};
pub use source::{
    NoopReporter, OffsetReader, SourceConnector, SourceTask, SourceTaskContext, TaskReporter,
};
pub use text::TextBuilder;
pub use transform::{ConditionalTransform, Predicate, PredicatePlugin, Transform, TransformPlugin};
