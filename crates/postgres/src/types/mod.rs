//! PostgreSQL types → Debezium's Kafka Connect schemas and values.
//!
//! pgoutput (and the snapshot, which reads with the simple query protocol)
//! delivers every column value in PostgreSQL's **text** output format, with
//! the column's type OID and `atttypmod`. [`column_mapping`] turns
//! `(type, typmod, optional, settings)` into a [`ColumnMapping`] once per
//! column of a table version: the field schema exactly as Debezium's
//! PostgreSQL connector builds it (schema name, version, parameters,
//! optionality) and a converter chosen up front, so the per-row hot path,
//! [`ColumnMapping::convert_text`], is a `match` on a small enum and a
//! hand-written parser.
//!
//! The reference is Debezium 3.6.1.Final (`PostgresValueConverter`,
//! `JdbcValueConverters`, the pgoutput `ReplicationMessageColumnValueResolver`
//! and pgjdbc 42.7.11, whose parsing several values pass through); see
//! `docs` below for every deliberate difference.
//!
//! # Mapping (Debezium semantic type in parentheses)
//!
//! | PostgreSQL | schema |
//! |---|---|
//! | `bool` | `boolean` |
//! | `bit(1)`, `varbit(1)` | `boolean` |
//! | `bit(n)`, `varbit(n)`, `varbit` | `bytes` (`io.debezium.data.Bits`, `length` = n or 2147483647), little-endian, sized by content |
//! | `int2` / `int4` / `int8`, `oid` | `int16` / `int32` / `int64`, `int64` |
//! | `float4` / `float8` | `float` / `double` (NaN and ±Infinity kept) |
//! | `numeric(p,s)` | precise: `bytes` (`org.apache.kafka.connect.data.Decimal`, `scale`, `connect.decimal.precision`); double: `double`; string: `string` |
//! | `numeric` | precise: `struct` (`io.debezium.data.VariableScaleDecimal`: `scale`, `value`); double / string as above; NaN/Infinity only in double / string (`NAN`, `POSITIVE_INFINITY`, `NEGATIVE_INFINITY`) |
//! | `money` | precise: `Decimal` with `scale` = `money.fraction.digits`; double; string |
//! | `char`, `varchar`, `bpchar`, `text`, `name`, `"char"`, `inet`, `cidr`, `macaddr`, `macaddr8`, range types, `citext`, `isbn` | `string` |
//! | `json`, `jsonb` | `string` (`io.debezium.data.Json`) |
//! | `xml` | `string` (`io.debezium.data.Xml`) |
//! | `uuid` | `string` (`io.debezium.data.Uuid`) |
//! | `tsvector` | `string` (`io.debezium.data.Tsvector`) |
//! | `ltree` | `string` (`io.debezium.data.Ltree`) |
//! | enums | `string` (`io.debezium.data.Enum`, `allowed` = labels joined by `,`) |
//! | domains | the mapping of the base type, with the domain's type modifier |
//! | `bytea` | `binary.handling.mode`: `bytes`, or base64 / base64-url-safe / hex `string` |
//! | `date` | `int32` (`io.debezium.time.Date`); connect: `org.apache.kafka.connect.data.Date`; isostring: `io.debezium.time.IsoDate` |
//! | `time(p)` | adaptive: p ≤ 3 `int32` (`io.debezium.time.Time`), else `int64` (`io.debezium.time.MicroTime`); adaptive_time_microseconds / microseconds: `MicroTime`; nanoseconds: `NanoTime`; connect: `org.apache.kafka.connect.data.Time`; isostring: `IsoTime` |
//! | `timestamp(p)` | adaptive(_time_microseconds): p ≤ 3 `io.debezium.time.Timestamp`, else `MicroTimestamp`; microseconds / nanoseconds; connect: `org.apache.kafka.connect.data.Timestamp`; isostring: `IsoTimestamp`. `infinity` is pgjdbc's sentinel (9223372036825200000 µs) |
//! | `timestamptz(p)` | `string` (`io.debezium.time.ZonedTimestamp`): UTC, exactly p (default 6) fraction digits, `infinity` / `-infinity` as such |
//! | `timetz` | `string` (`io.debezium.time.ZonedTime`): UTC |
//! | `interval` | numeric: `int64` (`io.debezium.time.MicroDuration`, 365.25/12 days a month); string: `io.debezium.time.Interval` |
//! | `point` | `struct` (`io.debezium.data.geometry.Point`: `x`, `y`, `wkb`, `srid`) |
//! | `hstore` | json: `io.debezium.data.Json`; map: `map<string, string>` (key order as Java's `HashMap`) |
//! | arrays | `array` of the element mapping (elements optional, except enum elements, as Debezium) |
//!
//! Not supported, always (an [`UnsupportedType`]): arrays of `money`,
//! `name`, `interval`, `bit`, `varbit`, `xml`, `point`, `refcursor`
//! (Debezium skips them), `int2vector`/`oidvector` (Debezium emits an empty
//! list whatever the value), PostGIS `geometry`/`geography` and the pgvector
//! types (not implemented by sluice).
//!
//! Not supported unless [`TypeSettings::include_unknown_datatypes`]: every
//! type Debezium has no converter for (`box`, `circle`, `line`, `lseg`,
//! `path`, `polygon`, `pg_lsn`, `tsquery`, `jsonpath`, `reg*`, `tid`,
//! `xid`, multiranges, composites, …) and arrays of those, of domains and of
//! composites. With it they become bytes (per `binary.handling.mode`) of
//! their text — the geometric ones re-rendered as pgjdbc renders them — as
//! Debezium does; array elements likewise, in a list.
//!
//! # Beyond values
//!
//! * [`ColumnMapping::unavailable_value`]: what Debezium emits for an
//!   unchanged TOASTed column (pgoutput's `'u'`).
//! * [`ColumnMapping::null_value`]: what it emits for an SQL NULL (the
//!   schema default or a fallback for a required column).
//! * [`ColumnMapping::with_default_expression`]: the schema default Debezium
//!   derives from the column's default expression.
//! * [`TypeRegistry::CATALOG_QUERY`] loads the database's own types; a type
//!   created later shows up as [`UnsupportedKind::UnknownType`] until the
//!   registry is reloaded (re-adding rows replaces them).
//!
//! # Deliberate differences from Debezium 3.6.1
//!
//! * `name` columns carry their text; Debezium's pgoutput path yields null
//!   for them unless `include.unknown.datatypes` is set (its snapshot yields
//!   the text).
//! * `timetz` `24:00:00+00` becomes `24:00:00Z` (Debezium ≥ 3.7); 3.6.1 fails.
//! * Multi-dimensional arrays: each sub-array becomes null (Debezium nulls
//!   them for non-string element types and emits a Java object identity
//!   string for string ones).
//! * Inside arrays, timestamps before the Gregorian reform (1582-10-15) are
//!   read in the proleptic Gregorian calendar like top-level values (pgjdbc's
//!   array parsing shifts them by the Julian offset), and `'infinity'`
//!   dates map like top-level dates.
//! * [`ColumnMapping::unavailable_value`] returns null where Debezium would
//!   put a value that violates the schema (and then fail the record).
//! * `bytea` in the `escape` output format is decoded (Debezium assumes
//!   `\x` hex).
//! * Only the default `DateStyle = ISO` and `IntervalStyle = postgres`
//!   (`postgres_verbose`, `iso_8601` also read) text forms are parsed; the
//!   snapshot must read with those settings, as pgoutput does by default.

mod builtin;
mod defaults;
mod mapping;
mod numeric;
mod registry;
mod settings;
mod temporal;
mod text;

pub use mapping::{
    column_mapping, reads_binary, ColumnMapping, ConvertError, UnsupportedKind, UnsupportedType,
};
pub use registry::{CatalogError, CatalogRow, PgType, TypeKind, TypeRegistry};
pub use settings::{
    BinaryHandling, DecimalHandling, HstoreHandling, IntervalHandling, InvalidSetting,
    TimePrecision, TypeSettings, DEFAULT_UNAVAILABLE_VALUE_PLACEHOLDER,
};

/// Debezium's schema names.
pub mod names {
    pub const BITS: &str = "io.debezium.data.Bits";
    pub const JSON: &str = "io.debezium.data.Json";
    pub const XML: &str = "io.debezium.data.Xml";
    pub const UUID: &str = "io.debezium.data.Uuid";
    pub const ENUM: &str = "io.debezium.data.Enum";
    pub const LTREE: &str = "io.debezium.data.Ltree";
    pub const TSVECTOR: &str = "io.debezium.data.Tsvector";
    pub const VARIABLE_SCALE_DECIMAL: &str = "io.debezium.data.VariableScaleDecimal";
    pub const POINT: &str = "io.debezium.data.geometry.Point";
    pub const DATE: &str = "io.debezium.time.Date";
    pub const TIME: &str = "io.debezium.time.Time";
    pub const MICRO_TIME: &str = "io.debezium.time.MicroTime";
    pub const NANO_TIME: &str = "io.debezium.time.NanoTime";
    pub const TIMESTAMP: &str = "io.debezium.time.Timestamp";
    pub const MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
    pub const NANO_TIMESTAMP: &str = "io.debezium.time.NanoTimestamp";
    pub const ZONED_TIMESTAMP: &str = "io.debezium.time.ZonedTimestamp";
    pub const ZONED_TIME: &str = "io.debezium.time.ZonedTime";
    pub const MICRO_DURATION: &str = "io.debezium.time.MicroDuration";
    pub const INTERVAL: &str = "io.debezium.time.Interval";
    pub const ISO_DATE: &str = "io.debezium.time.IsoDate";
    pub const ISO_TIME: &str = "io.debezium.time.IsoTime";
    pub const ISO_TIMESTAMP: &str = "io.debezium.time.IsoTimestamp";
    /// `connect.decimal.precision`, the precision parameter of Decimal schemas.
    pub const DECIMAL_PRECISION: &str = "connect.decimal.precision";
}
