//! Choosing a column's schema and converter, and converting text values.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use sluice_connect_api::data::logical;
use sluice_connect_api::{Decimal, SchemaBuilder, SchemaRef, SchemaType, Struct, Text, Value};

use super::defaults::DefaultKind;
use super::names;
use super::numeric::{self, NumericText};
use super::registry::{ExtensionType, PgType, TypeKind, TypeRegistry};
use super::settings::{
    BinaryHandling, DecimalHandling, HstoreHandling, IntervalHandling, TimePrecision, TypeSettings,
};
use super::temporal::{self, Instant, ZonedValue, NANOS_PER_DAY, NANOS_PER_SECOND};
use super::text::{self, ArrayElem, Geometric};

/// Built-in type OIDs used below.
mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const XML: u32 = 142;
    pub const XML_ARRAY: u32 = 143;
    pub const JSON_ARRAY: u32 = 199;
    pub const POINT: u32 = 600;
    pub const LSEG: u32 = 601;
    pub const PATH: u32 = 602;
    pub const BOX: u32 = 603;
    pub const POLYGON: u32 = 604;
    pub const LINE: u32 = 628;
    pub const CIDR: u32 = 650;
    pub const CIDR_ARRAY: u32 = 651;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const CIRCLE: u32 = 718;
    pub const MACADDR8: u32 = 774;
    pub const MACADDR8_ARRAY: u32 = 775;
    pub const MONEY: u32 = 790;
    pub const MONEY_ARRAY: u32 = 791;
    pub const MACADDR: u32 = 829;
    pub const INET: u32 = 869;
    pub const BOOL_ARRAY: u32 = 1000;
    pub const BYTEA_ARRAY: u32 = 1001;
    pub const CHAR_ARRAY: u32 = 1002;
    pub const NAME_ARRAY: u32 = 1003;
    pub const INT2_ARRAY: u32 = 1005;
    pub const INT4_ARRAY: u32 = 1007;
    pub const TEXT_ARRAY: u32 = 1009;
    pub const BPCHAR_ARRAY: u32 = 1014;
    pub const VARCHAR_ARRAY: u32 = 1015;
    pub const INT8_ARRAY: u32 = 1016;
    pub const POINT_ARRAY: u32 = 1017;
    pub const FLOAT4_ARRAY: u32 = 1021;
    pub const FLOAT8_ARRAY: u32 = 1022;
    pub const OID_ARRAY: u32 = 1028;
    pub const MACADDR_ARRAY: u32 = 1040;
    pub const INET_ARRAY: u32 = 1041;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMP_ARRAY: u32 = 1115;
    pub const DATE_ARRAY: u32 = 1182;
    pub const TIME_ARRAY: u32 = 1183;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const TIMESTAMPTZ_ARRAY: u32 = 1185;
    pub const INTERVAL: u32 = 1186;
    pub const INTERVAL_ARRAY: u32 = 1187;
    pub const NUMERIC_ARRAY: u32 = 1231;
    pub const TIMETZ: u32 = 1266;
    pub const TIMETZ_ARRAY: u32 = 1270;
    pub const BIT: u32 = 1560;
    pub const BIT_ARRAY: u32 = 1561;
    pub const VARBIT: u32 = 1562;
    pub const VARBIT_ARRAY: u32 = 1563;
    pub const NUMERIC: u32 = 1700;
    pub const REFCURSOR_ARRAY: u32 = 2201;
    pub const UUID: u32 = 2950;
    pub const UUID_ARRAY: u32 = 2951;
    pub const TSVECTOR: u32 = 3614;
    pub const JSONB: u32 = 3802;
    pub const JSONB_ARRAY: u32 = 3807;
    pub const INT4RANGE: u32 = 3904;
    pub const INT4RANGE_ARRAY: u32 = 3905;
    pub const NUMRANGE: u32 = 3906;
    pub const NUMRANGE_ARRAY: u32 = 3907;
    pub const TSRANGE: u32 = 3908;
    pub const TSRANGE_ARRAY: u32 = 3909;
    pub const TSTZRANGE: u32 = 3910;
    pub const TSTZRANGE_ARRAY: u32 = 3911;
    pub const DATERANGE: u32 = 3912;
    pub const DATERANGE_ARRAY: u32 = 3913;
    pub const INT8RANGE: u32 = 3926;
    pub const INT8RANGE_ARRAY: u32 = 3927;
}

/// pgjdbc's `unknownLength` default (`Integer.MAX_VALUE`).
const UNKNOWN_LENGTH: i32 = i32::MAX;
/// pgjdbc's display size of an unconstrained `numeric`.
const VARIABLE_SCALE_DECIMAL_LENGTH: i32 = 131_089;

/// A column whose type Debezium (or sluice) has no mapping for. Debezium
/// skips such columns unless `include.unknown.datatypes` is set; the
/// connector decides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column type {type_name} (oid {oid}) is not supported: {reason}")]
pub struct UnsupportedType {
    pub oid: u32,
    /// The type's (schema-qualified unless `pg_catalog`) name, or `"unknown"`
    /// when the OID is not in the registry.
    pub type_name: String,
    pub kind: UnsupportedKind,
    pub reason: String,
}

/// Why a type has no mapping, so the connector can decide what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsupportedKind {
    /// Debezium has no converter for the type and skips the column; with
    /// `include.unknown.datatypes` it would emit the value's text as bytes
    /// (set [`TypeSettings::include_unknown_datatypes`] to get that mapping).
    NoConverter,
    /// Debezium skips the column whatever the settings (e.g. `money[]`,
    /// `interval[]`), or its mapping is unusable (`bit[]`, `int2vector`).
    SkippedByDebezium,
    /// Debezium maps the type but sluice does not implement it (PostGIS,
    /// pgvector): skipping the column would differ from Debezium.
    NotImplemented,
    /// The OID (or a base / element type) is not in the registry: reload it
    /// with [`TypeRegistry::CATALOG_QUERY`] and try again.
    UnknownType,
}

/// A column value whose text could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot convert {type_name} value {text:?}: {reason}")]
pub struct ConvertError {
    pub type_name: String,
    /// The offending text, truncated to 80 bytes.
    pub text: String,
    pub reason: String,
}

impl ConvertError {
    fn new(type_name: &str, text: &[u8], reason: Cow<'static, str>) -> Self {
        const MAX: usize = 80;
        let mut shown = String::from_utf8_lossy(&text[..text.len().min(MAX)]).into_owned();
        if text.len() > MAX {
            shown.push('…');
        }
        ConvertError {
            type_name: type_name.to_string(),
            text: shown,
            reason: reason.into_owned(),
        }
    }
}

/// Why a conversion failed.
#[derive(Debug)]
enum Fail {
    /// The text is malformed (or Debezium throws).
    Bad(Cow<'static, str>),
    /// The value is outside what the representation can hold; Debezium
    /// emits null for an optional column and fails otherwise.
    Unrepresentable(&'static str),
}

impl From<&'static str> for Fail {
    fn from(s: &'static str) -> Self {
        Fail::Bad(Cow::Borrowed(s))
    }
}

type Conv = Result<Value, Fail>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeRepr {
    Millis,
    Micros,
    Nanos,
    Iso,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TsRepr {
    Millis,
    Micros,
    Nanos,
    Iso,
}

/// The converter chosen for a column.
#[derive(Debug, Clone)]
enum Converter {
    Bool,
    /// `BooleanTypeUtil.fromString` (array elements, read by pgjdbc).
    ArrayBool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Text,
    Bytea(BinaryHandling),
    Unknown {
        mode: BinaryHandling,
        geometric: Option<Geometric>,
    },
    BitBool,
    Bits,
    Numeric {
        mode: DecimalHandling,
        /// `None`: unconstrained (variable scale).
        scale: Option<i32>,
        vsd_schema: Option<SchemaRef>,
    },
    Money {
        mode: DecimalHandling,
        digits: i32,
    },
    /// Epoch days (`Date`, Kafka `Date`) or ISO.
    Date {
        iso: bool,
    },
    Time(TimeRepr),
    /// Elements of `time[]`: read by pgjdbc as `java.sql.Time`
    /// (milliseconds, wrapped to a day).
    ArrayTime(TimeRepr),
    Timestamp(TsRepr),
    TimestampTz {
        fraction: i32,
    },
    TimeTz,
    /// Elements of `timetz[]`: whole seconds (pgjdbc's `java.sql.Time`
    /// through `toLocalTime()`).
    ArrayTimeTz,
    Interval(IntervalHandling),
    Point(SchemaRef),
    Hstore(HstoreHandling),
    Array(Box<ArrayConverter>),
}

#[derive(Debug, Clone)]
struct ArrayConverter {
    elem: Converter,
    delim: u8,
}

/// How one column is mapped: its Connect schema and the converter for its
/// text values.
#[derive(Debug, Clone)]
pub struct ColumnMapping {
    /// The field schema, optional as requested.
    pub schema: SchemaRef,
    converter: Converter,
    type_name: Arc<str>,
    optional: bool,
    unavailable: Value,
    fallback: Value,
    default_kind: Option<DefaultKind>,
}

impl ColumnMapping {
    /// Converts one column value in PostgreSQL's text output format.
    pub fn convert_text(&self, text: &[u8]) -> Result<Value, ConvertError> {
        match self.converter.convert(text) {
            Ok(v) => Ok(v),
            Err(Fail::Unrepresentable(_)) if self.optional => Ok(Value::Null),
            Err(Fail::Bad(reason)) => Err(ConvertError::new(&self.type_name, text, reason)),
            Err(Fail::Unrepresentable(reason)) => Err(ConvertError::new(
                &self.type_name,
                text,
                Cow::Borrowed(reason),
            )),
        }
    }

    /// What Debezium puts for an unchanged TOASTed value of this column
    /// (pgoutput's `'u'`): the placeholder as a string for string schemas
    /// and as bytes for `bytes` (`bytea` in bytes mode); for `hstore`
    /// `{"<placeholder>":"<placeholder>"}` (json) or that one-entry map; for
    /// `text[]`, `varchar[]`, `bpchar[]`, `json[]`, `jsonb[]` a one-element
    /// array of the placeholder, `bytea[]` (bytes mode) of its bytes,
    /// `int4[]` and `date[]` (epoch-day modes) the placeholder's bytes as
    /// `int32`s, `int8[]` as `int64`s, `uuid[]` the name-based UUID of the
    /// placeholder. Null where Debezium's value would not fit the schema
    /// (e.g. `bytea` in base64 modes, other arrays, numbers).
    pub fn unavailable_value(&self) -> Value {
        self.unavailable.clone()
    }

    /// What Debezium emits for a SQL NULL: null for an optional column;
    /// for a required one (e.g. a `NOT NULL` column missing from a
    /// replica-identity-default old tuple) the schema default if any, else
    /// the type's fallback (`0`, `""`, `false`, epoch, empty array, …).
    pub fn null_value(&self) -> Value {
        if self.optional {
            Value::Null
        } else if let Some(default) = &self.schema.default {
            default.clone()
        } else {
            self.fallback.clone()
        }
    }

    /// The schema default Debezium derives from the column's default
    /// expression (`pg_get_expr(adbin, adrelid)`), as its
    /// `PostgresDefaultValueConverter` does: literals of the declared type
    /// (`42`, `'abc'::text`, `'2020-01-01'::date`, enum labels, …), and for
    /// function calls (`nextval(…)`, `now()`, `gen_random_uuid()`) and
    /// `CURRENT_TIMESTAMP`-like keywords a placeholder (`0`, epoch, the nil
    /// UUID, …). `None` when Debezium sets no default: no mapper for the
    /// type (domains, arrays, `money`, `bytea`, `timetz`, …), unparsable
    /// expressions, `NULL::…`, and struct values (`VariableScaleDecimal`).
    pub fn default_value(&self, expression: &str) -> Option<Value> {
        let text = self.default_kind.as_ref()?.default_text(expression)?;
        match self.converter.convert(text.as_bytes()) {
            Ok(Value::Struct(_)) | Ok(Value::Null) | Err(_) => None,
            Ok(v) => Some(v),
        }
    }

    /// This mapping with the schema default of [`default_value`]
    /// (unchanged when there is none).
    ///
    /// [`default_value`]: Self::default_value
    pub fn with_default_expression(&self, expression: &str) -> ColumnMapping {
        match self.default_value(expression) {
            None => self.clone(),
            Some(v) => {
                let mut schema = (*self.schema).clone();
                schema.default = Some(v);
                ColumnMapping {
                    schema: Arc::new(schema),
                    ..self.clone()
                }
            }
        }
    }

    /// The column type's name, as used in error messages.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// Converts one column value in PostgreSQL's binary (send) format, for
    /// the types of [`reads_binary`]: the same value [`convert_text`] gives
    /// for the type's text output (tested against a real server on edge
    /// values of every one of these types).
    ///
    /// [`convert_text`]: Self::convert_text
    pub fn convert_binary(&self, b: &[u8]) -> Result<Value, ConvertError> {
        let bad =
            |reason: &'static str| ConvertError::new(&self.type_name, b, Cow::Borrowed(reason));
        let int = |n: usize| -> Result<[u8; 8], ConvertError> {
            if b.len() != n {
                return Err(bad("binary value of the wrong length"));
            }
            let mut be = [0u8; 8];
            be[8 - n..].copy_from_slice(b);
            Ok(be)
        };
        match &self.converter {
            Converter::Bool => match b {
                [v] => Ok(Value::Boolean(*v != 0)),
                _ => Err(bad("binary value of the wrong length")),
            },
            Converter::Int16 => Ok(Value::Int16(i64::from_be_bytes(int(2)?) as i16)),
            Converter::Int32 => Ok(Value::Int32(i64::from_be_bytes(int(4)?) as i32)),
            Converter::Int64 => Ok(Value::Int64(i64::from_be_bytes(int(8)?))),
            // `text`, `varchar`, `bpchar` send their text as is.
            Converter::Text => self.convert_text(b),
            Converter::TimestampTz { fraction } => {
                let micros = i64::from_be_bytes(int(8)?);
                Ok(Value::String(match micros {
                    i64::MAX => "infinity".into(),
                    i64::MIN => "-infinity".into(),
                    _ => {
                        let at = Instant::from_pg_micros(micros);
                        temporal::zoned_timestamp_fast(at, *fraction)
                            .unwrap_or_else(|| temporal::zoned_timestamp_string(at, *fraction))
                    }
                }))
            }
            // A fixed-scale decimal of up to 18 digits: its unscaled value
            // straight from the digits (the text path parses the same
            // digits with the column's scale, which PostgreSQL's `dscale`
            // is).
            Converter::Numeric {
                mode,
                scale,
                vsd_schema,
            } => {
                if let (DecimalHandling::Precise, Some(scale), None) = (mode, scale, vsd_schema) {
                    match numeric::binary_numeric_i64(b) {
                        Some((unscaled, dscale)) if i32::from(dscale) == *scale => {
                            return Ok(Value::Decimal(Decimal::new(unscaled, *scale)))
                        }
                        _ => {}
                    }
                }
                let mut buf = [0u8; 64];
                match numeric::binary_numeric_text(b, &mut buf) {
                    Ok(NumericText::Stack(len)) => self.convert_text(&buf[..len]),
                    Ok(NumericText::Heap(text)) => self.convert_text(&text),
                    Err(reason) => Err(bad(reason)),
                }
            }
            _ => Err(bad("no binary decoder for this column (a sluice bug)")),
        }
    }
}

/// Type OIDs whose columns are read with binary `COPY` in snapshots when a
/// whole table has only such columns ([`ColumnMapping::convert_binary`]
/// decodes them): for these PostgreSQL spends less on binary output than
/// on text, and sluice less on decoding it. Exact types only (no domains,
/// arrays or enums).
pub fn reads_binary(type_oid: u32) -> bool {
    matches!(
        type_oid,
        oid::BOOL
            | oid::INT2
            | oid::INT4
            | oid::INT8
            | oid::TEXT
            | oid::VARCHAR
            | oid::BPCHAR
            | oid::TIMESTAMPTZ
            | oid::NUMERIC
    )
}

fn unsupported(ty: &PgType, kind: UnsupportedKind, reason: impl Into<String>) -> UnsupportedType {
    UnsupportedType {
        oid: ty.oid,
        type_name: ty.qualified_name(),
        kind,
        reason: reason.into(),
    }
}

/// pgjdbc's `TypeInfoCache.getPrecision`, array OIDs mapped to their
/// element first.
fn pg_precision(oid: u32, typmod: i32) -> i32 {
    match oid {
        oid::INT2 => 5,
        oid::OID | oid::INT4 => 10,
        oid::INT8 => 19,
        oid::FLOAT4 => 8,
        oid::FLOAT8 => 17,
        oid::NUMERIC => {
            if typmod == -1 {
                0
            } else {
                ((typmod - 4) & 0xFFFF_0000u32 as i32) >> 16
            }
        }
        oid::CHAR | oid::BOOL => 1,
        oid::BPCHAR | oid::VARCHAR => {
            if typmod == -1 {
                UNKNOWN_LENGTH
            } else {
                typmod - 4
            }
        }
        oid::DATE | oid::TIME | oid::TIMETZ | oid::INTERVAL | oid::TIMESTAMP | oid::TIMESTAMPTZ => {
            pg_display_size(oid, typmod)
        }
        oid::BIT => typmod,
        oid::VARBIT => {
            if typmod == -1 {
                UNKNOWN_LENGTH
            } else {
                typmod
            }
        }
        _ => UNKNOWN_LENGTH,
    }
}

/// pgjdbc's `TypeInfoCache.getScale`.
fn pg_scale(oid: u32, typmod: i32) -> i32 {
    match oid {
        oid::FLOAT4 => 8,
        oid::FLOAT8 => 17,
        oid::NUMERIC => {
            if typmod == -1 {
                0
            } else {
                (typmod - 4) & 0xFFFF
            }
        }
        oid::TIME | oid::TIMETZ | oid::TIMESTAMP | oid::TIMESTAMPTZ => {
            if typmod == -1 {
                6
            } else {
                typmod
            }
        }
        oid::INTERVAL => {
            if typmod == -1 {
                6
            } else {
                typmod & 0xFFFF
            }
        }
        _ => 0,
    }
}

/// pgjdbc's `TypeInfoCache.getDisplaySize`.
fn pg_display_size(oid: u32, typmod: i32) -> i32 {
    match oid {
        oid::INT2 => 6,
        oid::INT4 => 11,
        oid::OID => 10,
        oid::INT8 => 20,
        oid::FLOAT4 => 15,
        oid::FLOAT8 => 25,
        oid::CHAR | oid::BOOL => 1,
        oid::DATE => 13,
        oid::TIME | oid::TIMETZ | oid::TIMESTAMP | oid::TIMESTAMPTZ => {
            let second_size = match typmod {
                -1 => 7,
                0 => 0,
                1 => 3,
                n => n + 1,
            };
            match oid {
                oid::TIME => 8 + second_size,
                oid::TIMETZ => 8 + second_size + 6,
                oid::TIMESTAMP => 13 + 1 + 8 + second_size,
                _ => 13 + 1 + 8 + second_size + 6,
            }
        }
        oid::INTERVAL => 49,
        oid::VARCHAR | oid::BPCHAR => {
            if typmod == -1 {
                UNKNOWN_LENGTH
            } else {
                typmod - 4
            }
        }
        oid::NUMERIC => {
            if typmod == -1 {
                VARIABLE_SCALE_DECIMAL_LENGTH
            } else {
                let precision = ((typmod - 4) >> 16) & 0xffff;
                let scale = (typmod - 4) & 0xffff;
                1 + precision + i32::from(scale != 0)
            }
        }
        oid::BIT => typmod,
        oid::VARBIT => {
            if typmod == -1 {
                UNKNOWN_LENGTH
            } else {
                typmod
            }
        }
        _ => UNKNOWN_LENGTH,
    }
}

/// Debezium's column length and scale (`ColumnMetaData`): from the type
/// modifier when there is one, else the type's defaults.
fn length_and_scale(base_oid: u32, typmod: i32) -> (i32, i32) {
    if typmod != -1 {
        (pg_precision(base_oid, typmod), pg_scale(base_oid, typmod))
    } else {
        let p = pg_precision(base_oid, -1);
        let length = if p == 0 {
            pg_display_size(base_oid, -1)
        } else {
            p
        };
        (length, pg_scale(base_oid, -1))
    }
}

/// Computes the column's schema and converter. Domains map as their base
/// type (with the domain's type modifier); see the [module docs](super) for
/// the mapping. `optional` is the column's nullability.
///
/// Returns [`UnsupportedType`] for types Debezium has no mapping for (and
/// `include_unknown_datatypes` is off) and for types sluice does not
/// implement (PostGIS, pgvector).
pub fn column_mapping(
    registry: &TypeRegistry,
    type_oid: u32,
    typmod: i32,
    optional: bool,
    settings: &TypeSettings,
) -> Result<ColumnMapping, UnsupportedType> {
    let declared = registry.get(type_oid).ok_or_else(|| UnsupportedType {
        oid: type_oid,
        type_name: "unknown".into(),
        kind: UnsupportedKind::UnknownType,
        reason: "type OID not in the type registry".into(),
    })?;

    // Resolve domains to their root type, picking up the nearest type
    // modifier (a column of a domain type has none of its own).
    let mut root = declared;
    let mut typmod = typmod;
    let mut depth = 0;
    while let TypeKind::Domain {
        base_oid,
        base_typmod,
    } = root.kind
    {
        if typmod == -1 {
            typmod = base_typmod;
        }
        root = registry.get(base_oid).ok_or_else(|| {
            unsupported(
                declared,
                UnsupportedKind::UnknownType,
                format!("domain base type {base_oid} unknown"),
            )
        })?;
        depth += 1;
        if depth > 32 {
            return Err(unsupported(
                declared,
                UnsupportedKind::UnknownType,
                "domain nesting too deep",
            ));
        }
    }

    let ctx = Ctx {
        registry,
        settings,
        declared,
    };
    let (builder, converter) = ctx.mapping(root, typmod)?;
    let builder = if optional {
        builder.optional()
    } else {
        builder.required()
    };
    let schema = builder.build();
    let mut converter = converter;
    // Struct values must carry the field's own (final) schema.
    match &mut converter {
        Converter::Numeric {
            vsd_schema: Some(s),
            ..
        }
        | Converter::Point(s) => *s = schema.clone(),
        _ => {}
    }
    let unavailable = unavailable_for(&converter, &schema, declared, settings);
    let fallback = fallback_for(&converter, &schema, settings);
    let default_kind = DefaultKind::for_type(
        &declared.name,
        &declared.namespace,
        matches!(declared.kind, TypeKind::Enum(_)),
    );
    Ok(ColumnMapping {
        schema,
        converter,
        type_name: Arc::from(declared.qualified_name()),
        optional,
        unavailable,
        fallback,
        default_kind,
    })
}

struct Ctx<'a> {
    registry: &'a TypeRegistry,
    settings: &'a TypeSettings,
    declared: &'a PgType,
}

fn named(builder: SchemaBuilder, name: &str) -> SchemaBuilder {
    builder.name(name).version(1)
}

fn binary_schema(mode: BinaryHandling) -> SchemaBuilder {
    match mode {
        BinaryHandling::Bytes => SchemaBuilder::bytes(),
        _ => SchemaBuilder::string(),
    }
}

fn decimal_schema(mode: DecimalHandling, length: i32, scale: i32) -> (SchemaBuilder, bool) {
    let variable = (length == 0 || length == VARIABLE_SCALE_DECIMAL_LENGTH) && scale == 0;
    let builder = match mode {
        DecimalHandling::Precise if variable => variable_scale_decimal_schema(),
        DecimalHandling::Precise => {
            logical::decimal(scale).parameter(names::DECIMAL_PRECISION, length.to_string())
        }
        DecimalHandling::Double => SchemaBuilder::float64(),
        DecimalHandling::String => SchemaBuilder::string(),
    };
    (builder, variable)
}

fn variable_scale_decimal_schema() -> SchemaBuilder {
    named(SchemaBuilder::struct_(), names::VARIABLE_SCALE_DECIMAL)
        .doc("Variable scaled decimal")
        .field("scale", SchemaBuilder::int32().build())
        .field("value", SchemaBuilder::bytes().build())
}

fn point_schema() -> SchemaBuilder {
    named(SchemaBuilder::struct_(), names::POINT)
        .doc("Geometry (POINT)")
        .field("x", SchemaBuilder::float64().build())
        .field("y", SchemaBuilder::float64().build())
        .field("wkb", SchemaBuilder::bytes().optional().build())
        .field("srid", SchemaBuilder::int32().optional().build())
}

fn hstore_schema(mode: HstoreHandling) -> SchemaBuilder {
    match mode {
        HstoreHandling::Json => named(SchemaBuilder::string(), names::JSON),
        HstoreHandling::Map => SchemaBuilder::map(
            SchemaBuilder::string().build(),
            SchemaBuilder::string().optional().build(),
        ),
    }
}

fn enum_schema(labels: &[String]) -> SchemaBuilder {
    named(SchemaBuilder::string(), names::ENUM).parameter("allowed", labels.join(","))
}

fn time_repr(mode: TimePrecision, precision: i32) -> Option<TimeRepr> {
    Some(match mode {
        TimePrecision::Adaptive => {
            if precision <= 3 {
                TimeRepr::Millis
            } else if precision <= 6 {
                TimeRepr::Micros
            } else {
                TimeRepr::Nanos
            }
        }
        TimePrecision::AdaptiveTimeMicroseconds | TimePrecision::Microseconds => TimeRepr::Micros,
        TimePrecision::Nanoseconds => TimeRepr::Nanos,
        TimePrecision::IsoString => TimeRepr::Iso,
        TimePrecision::Connect => return None,
    })
}

fn time_schema(mode: TimePrecision, precision: i32) -> (SchemaBuilder, TimeRepr) {
    match time_repr(mode, precision) {
        None => (logical::time(), TimeRepr::Millis),
        Some(TimeRepr::Millis) => (named(SchemaBuilder::int32(), names::TIME), TimeRepr::Millis),
        Some(TimeRepr::Micros) => (
            named(SchemaBuilder::int64(), names::MICRO_TIME),
            TimeRepr::Micros,
        ),
        Some(TimeRepr::Nanos) => (
            named(SchemaBuilder::int64(), names::NANO_TIME),
            TimeRepr::Nanos,
        ),
        Some(TimeRepr::Iso) => (
            named(SchemaBuilder::string(), names::ISO_TIME),
            TimeRepr::Iso,
        ),
    }
}

fn timestamp_schema(mode: TimePrecision, precision: i32) -> (SchemaBuilder, TsRepr) {
    let repr = match mode {
        TimePrecision::Adaptive | TimePrecision::AdaptiveTimeMicroseconds => {
            if precision <= 3 {
                TsRepr::Millis
            } else if precision <= 6 {
                TsRepr::Micros
            } else {
                TsRepr::Nanos
            }
        }
        TimePrecision::Connect => return (logical::timestamp(), TsRepr::Millis),
        TimePrecision::IsoString => TsRepr::Iso,
        TimePrecision::Microseconds => TsRepr::Micros,
        TimePrecision::Nanoseconds => TsRepr::Nanos,
    };
    let builder = match repr {
        TsRepr::Millis => named(SchemaBuilder::int64(), names::TIMESTAMP),
        TsRepr::Micros => named(SchemaBuilder::int64(), names::MICRO_TIMESTAMP),
        TsRepr::Nanos => named(SchemaBuilder::int64(), names::NANO_TIMESTAMP),
        TsRepr::Iso => named(SchemaBuilder::string(), names::ISO_TIMESTAMP),
    };
    (builder, repr)
}

fn date_schema(mode: TimePrecision) -> (SchemaBuilder, bool) {
    match mode {
        TimePrecision::Connect => (logical::date(), false),
        TimePrecision::IsoString => (named(SchemaBuilder::string(), names::ISO_DATE), true),
        _ => (named(SchemaBuilder::int32(), names::DATE), false),
    }
}

fn optional(b: SchemaBuilder) -> SchemaRef {
    b.optional().build()
}

impl Ctx<'_> {
    fn unsupported(&self, kind: UnsupportedKind, reason: impl Into<String>) -> UnsupportedType {
        unsupported(self.declared, kind, reason)
    }

    /// The mapping of a (non-domain) type with the column's type modifier.
    fn mapping(
        &self,
        ty: &PgType,
        typmod: i32,
    ) -> Result<(SchemaBuilder, Converter), UnsupportedType> {
        if let TypeKind::Array { elem_oid } = ty.kind {
            return self.array_mapping(ty, elem_oid, typmod);
        }
        let (length, scale) = length_and_scale(ty.oid, typmod);
        match self.scalar_mapping(ty, length, scale)? {
            Some(m) => Ok(m),
            None => self.unknown_mapping(ty),
        }
    }

    /// `include.unknown.datatypes`: bytes of the text.
    fn unknown_mapping(&self, ty: &PgType) -> Result<(SchemaBuilder, Converter), UnsupportedType> {
        if !self.settings.include_unknown_datatypes {
            return Err(self.unsupported(UnsupportedKind::NoConverter, format!(
                "Debezium has no converter for type {} (set include.unknown.datatypes to emit it as bytes)",
                ty.qualified_name()
            )));
        }
        let mode = self.settings.binary;
        Ok((
            binary_schema(mode),
            Converter::Unknown {
                mode,
                geometric: geometric_of(ty.oid),
            },
        ))
    }

    /// Debezium's `schemaBuilder` + `converter` for a non-array type: `None`
    /// when there is no mapping (unknown type).
    fn scalar_mapping(
        &self,
        ty: &PgType,
        length: i32,
        scale: i32,
    ) -> Result<Option<(SchemaBuilder, Converter)>, UnsupportedType> {
        let s = self.settings;
        let string = || Some((SchemaBuilder::string(), Converter::Text));
        let m = match ty.oid {
            oid::BOOL => Some((SchemaBuilder::boolean(), Converter::Bool)),
            oid::BYTEA => Some((binary_schema(s.binary), Converter::Bytea(s.binary))),
            oid::CHAR | oid::NAME | oid::TEXT | oid::BPCHAR | oid::VARCHAR => string(),
            oid::INT2 => Some((SchemaBuilder::int16(), Converter::Int16)),
            oid::INT4 => Some((SchemaBuilder::int32(), Converter::Int32)),
            oid::INT8 | oid::OID => Some((SchemaBuilder::int64(), Converter::Int64)),
            oid::FLOAT4 => Some((SchemaBuilder::float32(), Converter::Float32)),
            oid::FLOAT8 => Some((SchemaBuilder::float64(), Converter::Float64)),
            oid::JSON | oid::JSONB => {
                Some((named(SchemaBuilder::string(), names::JSON), Converter::Text))
            }
            oid::XML => Some((named(SchemaBuilder::string(), names::XML), Converter::Text)),
            oid::UUID => Some((named(SchemaBuilder::string(), names::UUID), Converter::Text)),
            oid::TSVECTOR => Some((
                named(SchemaBuilder::string(), names::TSVECTOR),
                Converter::Text,
            )),
            oid::INET | oid::CIDR | oid::MACADDR | oid::MACADDR8 => string(),
            oid::INT4RANGE
            | oid::NUMRANGE
            | oid::TSRANGE
            | oid::TSTZRANGE
            | oid::DATERANGE
            | oid::INT8RANGE => string(),
            oid::POINT => {
                let schema = point_schema();
                let value_schema = schema.clone().build();
                Some((schema, Converter::Point(value_schema)))
            }
            oid::MONEY => {
                let digits = s.money_fraction_digits;
                let schema = match s.decimal {
                    DecimalHandling::Double => SchemaBuilder::float64(),
                    DecimalHandling::Precise => logical::decimal(digits),
                    DecimalHandling::String => SchemaBuilder::string(),
                };
                Some((
                    schema,
                    Converter::Money {
                        mode: s.decimal,
                        digits,
                    },
                ))
            }
            oid::NUMERIC => {
                let (schema, variable) = decimal_schema(s.decimal, length, scale);
                let vsd_schema = (variable && s.decimal == DecimalHandling::Precise)
                    .then(|| schema.clone().build());
                Some((
                    schema,
                    Converter::Numeric {
                        mode: s.decimal,
                        scale: (!variable).then_some(scale),
                        vsd_schema,
                    },
                ))
            }
            oid::BIT | oid::VARBIT => {
                if length > 1 {
                    Some((
                        named(SchemaBuilder::bytes(), names::BITS)
                            .parameter("length", length.to_string()),
                        Converter::Bits,
                    ))
                } else {
                    Some((SchemaBuilder::boolean(), Converter::BitBool))
                }
            }
            oid::DATE => {
                let (schema, iso) = date_schema(s.time_precision);
                Some((schema, Converter::Date { iso }))
            }
            oid::TIME => {
                let (schema, repr) = time_schema(s.time_precision, scale);
                Some((schema, Converter::Time(repr)))
            }
            oid::TIMESTAMP => {
                let (schema, repr) = timestamp_schema(s.time_precision, scale);
                Some((schema, Converter::Timestamp(repr)))
            }
            oid::TIMESTAMPTZ => Some((
                named(SchemaBuilder::string(), names::ZONED_TIMESTAMP),
                Converter::TimestampTz { fraction: scale },
            )),
            oid::TIMETZ => Some((
                named(SchemaBuilder::string(), names::ZONED_TIME),
                Converter::TimeTz,
            )),
            oid::INTERVAL => Some(match s.interval {
                IntervalHandling::Numeric => (
                    named(SchemaBuilder::int64(), names::MICRO_DURATION),
                    Converter::Interval(s.interval),
                ),
                IntervalHandling::String => (
                    named(SchemaBuilder::string(), names::INTERVAL),
                    Converter::Interval(s.interval),
                ),
            }),
            _ => match self.registry.extension(ty.oid) {
                Some(ExtensionType::Hstore) => {
                    Some((hstore_schema(s.hstore), Converter::Hstore(s.hstore)))
                }
                Some(ExtensionType::Ltree) => Some((
                    named(SchemaBuilder::string(), names::LTREE),
                    Converter::Text,
                )),
                Some(ExtensionType::Citext) | Some(ExtensionType::Isbn) => string(),
                Some(ExtensionType::Geometry | ExtensionType::Geography) => {
                    return Err(self.unsupported(
                        UnsupportedKind::NotImplemented,
                        "PostGIS types are not supported by sluice",
                    ))
                }
                Some(
                    ExtensionType::Vector | ExtensionType::HalfVector | ExtensionType::SparseVector,
                ) => {
                    return Err(self.unsupported(
                        UnsupportedKind::NotImplemented,
                        "pgvector types are not supported by sluice",
                    ))
                }
                _ => match &ty.kind {
                    TypeKind::Enum(labels) => Some((enum_schema(labels), Converter::Text)),
                    _ => None,
                },
            },
        };
        Ok(m)
    }

    fn array_mapping(
        &self,
        ty: &PgType,
        elem_oid: u32,
        typmod: i32,
    ) -> Result<(SchemaBuilder, Converter), UnsupportedType> {
        let s = self.settings;
        let elem = self.registry.get(elem_oid).ok_or_else(|| {
            self.unsupported(
                UnsupportedKind::UnknownType,
                format!("array element type {elem_oid} unknown"),
            )
        })?;
        // The element column has the array column's length and scale
        // (pgjdbc maps array OIDs to their element).
        let (length, scale) = length_and_scale(elem_oid, typmod);
        let array = |elem_schema: SchemaRef, conv: Converter| {
            let delim = if elem_oid == oid::BOX { b';' } else { b',' };
            Ok((
                SchemaBuilder::array(elem_schema),
                Converter::Array(Box::new(ArrayConverter { elem: conv, delim })),
            ))
        };
        let optional_string = || optional(SchemaBuilder::string());
        match ty.oid {
            // int2vector / oidvector: category 'A' but not array literals;
            // Debezium always yields an empty list for them.
            22 | 30 => {
                return Err(self.unsupported(
                    UnsupportedKind::SkippedByDebezium,
                    "int2vector/oidvector are not supported (Debezium always emits an empty array)",
                ))
            }
            oid::INT2_ARRAY => return array(optional(SchemaBuilder::int16()), Converter::Int16),
            oid::INT4_ARRAY => return array(optional(SchemaBuilder::int32()), Converter::Int32),
            oid::INT8_ARRAY | oid::OID_ARRAY => {
                return array(optional(SchemaBuilder::int64()), Converter::Int64)
            }
            oid::CHAR_ARRAY
            | oid::VARCHAR_ARRAY
            | oid::TEXT_ARRAY
            | oid::BPCHAR_ARRAY
            | oid::INET_ARRAY
            | oid::CIDR_ARRAY
            | oid::MACADDR_ARRAY
            | oid::MACADDR8_ARRAY
            | oid::TSRANGE_ARRAY
            | oid::TSTZRANGE_ARRAY
            | oid::DATERANGE_ARRAY
            | oid::INT4RANGE_ARRAY
            | oid::NUMRANGE_ARRAY
            | oid::INT8RANGE_ARRAY => return array(optional_string(), Converter::Text),
            oid::NUMERIC_ARRAY => {
                let (schema, variable) = decimal_schema(s.decimal, length, scale);
                let elem_schema = optional(schema);
                let vsd_schema = (variable && s.decimal == DecimalHandling::Precise)
                    .then(|| elem_schema.clone());
                return array(
                    elem_schema,
                    Converter::Numeric {
                        mode: s.decimal,
                        scale: (!variable).then_some(scale),
                        vsd_schema,
                    },
                );
            }
            oid::FLOAT4_ARRAY => {
                return array(optional(SchemaBuilder::float32()), Converter::Float32)
            }
            oid::FLOAT8_ARRAY => {
                return array(optional(SchemaBuilder::float64()), Converter::Float64)
            }
            oid::BOOL_ARRAY => {
                return array(optional(SchemaBuilder::boolean()), Converter::ArrayBool)
            }
            oid::DATE_ARRAY => {
                let (schema, iso) = date_schema(s.time_precision);
                return array(optional(schema), Converter::Date { iso });
            }
            oid::UUID_ARRAY => {
                return array(
                    optional(named(SchemaBuilder::string(), names::UUID)),
                    Converter::Text,
                )
            }
            oid::JSON_ARRAY | oid::JSONB_ARRAY => {
                return array(
                    optional(named(SchemaBuilder::string(), names::JSON)),
                    Converter::Text,
                )
            }
            oid::TIME_ARRAY => {
                let (schema, repr) = time_schema(s.time_precision, scale);
                return array(optional(schema), Converter::ArrayTime(repr));
            }
            oid::TIMETZ_ARRAY => {
                return array(
                    optional(named(SchemaBuilder::string(), names::ZONED_TIME)),
                    Converter::ArrayTimeTz,
                )
            }
            oid::TIMESTAMP_ARRAY => {
                let (schema, repr) = timestamp_schema(s.time_precision, scale);
                return array(optional(schema), Converter::Timestamp(repr));
            }
            oid::TIMESTAMPTZ_ARRAY => {
                return array(
                    optional(named(SchemaBuilder::string(), names::ZONED_TIMESTAMP)),
                    Converter::TimestampTz { fraction: scale },
                )
            }
            oid::BYTEA_ARRAY => {
                return array(
                    optional(binary_schema(s.binary)),
                    Converter::Bytea(s.binary),
                )
            }
            oid::MONEY_ARRAY
            | oid::NAME_ARRAY
            | oid::INTERVAL_ARRAY
            | oid::VARBIT_ARRAY
            | oid::XML_ARRAY
            | oid::POINT_ARRAY
            | oid::REFCURSOR_ARRAY => {
                return Err(self.unsupported(
                    UnsupportedKind::SkippedByDebezium,
                    format!(
                        "Debezium does not support arrays of {}",
                        elem.qualified_name()
                    ),
                ))
            }
            oid::BIT_ARRAY => {
                return Err(self.unsupported(
                    UnsupportedKind::SkippedByDebezium,
                    "Debezium's bit[] mapping is inconsistent (a Bits schema for a list value)",
                ))
            }
            _ => {}
        }
        match self.registry.extension(ty.oid) {
            Some(ExtensionType::HstoreArray) => {
                return array(
                    optional(hstore_schema(s.hstore)),
                    Converter::Hstore(s.hstore),
                )
            }
            Some(ExtensionType::CitextArray) => return array(optional_string(), Converter::Text),
            Some(ExtensionType::LtreeArray) => {
                return array(
                    optional(named(SchemaBuilder::string(), names::LTREE)),
                    Converter::Text,
                )
            }
            Some(ExtensionType::GeometryArray | ExtensionType::GeographyArray) => {
                return Err(self.unsupported(
                    UnsupportedKind::NotImplemented,
                    "PostGIS types are not supported by sluice",
                ))
            }
            _ => {}
        }
        match &elem.kind {
            // Enum elements are not optional in Debezium's schema.
            TypeKind::Enum(labels) => array(enum_schema(labels).build(), Converter::Text),
            // Debezium finds no element mapping for these (a domain's element
            // column keeps the domain's own JDBC type): bytes of each element's
            // text with include.unknown.datatypes, else the column is skipped.
            TypeKind::Domain { .. } | TypeKind::Composite | TypeKind::Array { .. } => {
                if s.include_unknown_datatypes {
                    array(
                        binary_schema(s.binary).build(),
                        Converter::Unknown {
                            mode: s.binary,
                            geometric: None,
                        },
                    )
                } else {
                    Err(self.unsupported(UnsupportedKind::NoConverter, format!(
                        "Debezium has no converter for arrays of {} (set include.unknown.datatypes to emit them as bytes)",
                        elem.qualified_name()
                    )))
                }
            }
            _ => match self.scalar_mapping(elem, length, scale)? {
                // Element schemas from the generic path are not optional.
                Some((schema, conv)) => array(schema.build(), conv),
                None if s.include_unknown_datatypes => array(
                    binary_schema(s.binary).build(),
                    Converter::Unknown {
                        mode: s.binary,
                        geometric: geometric_of(elem_oid),
                    },
                ),
                None => Err(self.unsupported(UnsupportedKind::NoConverter, format!(
                    "Debezium has no converter for arrays of {} (set include.unknown.datatypes to emit them as bytes)",
                    elem.qualified_name()
                ))),
            },
        }
    }
}

fn geometric_of(oid: u32) -> Option<Geometric> {
    Some(match oid {
        oid::BOX => Geometric::Box,
        oid::CIRCLE => Geometric::Circle,
        oid::LINE => Geometric::Line,
        oid::LSEG => Geometric::Lseg,
        oid::PATH => Geometric::Path,
        oid::POLYGON => Geometric::Polygon,
        _ => return None,
    })
}

/// Debezium's value for an unchanged TOASTed column (see
/// [`ColumnMapping::unavailable_value`]).
fn unavailable_for(
    conv: &Converter,
    schema: &SchemaRef,
    declared: &PgType,
    settings: &TypeSettings,
) -> Value {
    let ph = &settings.unavailable_value_placeholder;
    let ph_string = || Value::String(String::from_utf8_lossy(ph).into());
    match conv {
        Converter::Bytea(BinaryHandling::Bytes)
        | Converter::Unknown {
            mode: BinaryHandling::Bytes,
            ..
        } => Value::Bytes(ph.clone()),
        Converter::Bytea(BinaryHandling::Hex)
        | Converter::Unknown {
            mode: BinaryHandling::Hex,
            ..
        } => ph_string(),
        Converter::Bytea(_) | Converter::Unknown { .. } => Value::Null,
        Converter::Hstore(HstoreHandling::Json) => {
            let p = String::from_utf8_lossy(ph);
            let mut s = String::from("{");
            text::push_json_string(&mut s, &p);
            s.push(':');
            text::push_json_string(&mut s, &p);
            s.push('}');
            Value::String(s.into())
        }
        Converter::Hstore(HstoreHandling::Map) => Value::Map(vec![(ph_string(), ph_string())]),
        Converter::Array(_) => {
            let elem_type = schema.value_schema().map(|s| s.schema_type);
            match declared.name.as_str() {
                "_text" | "_varchar" | "_bpchar" | "_json" | "_jsonb" => {
                    Value::Array(vec![ph_string()])
                }
                "_bytea" if settings.binary == BinaryHandling::Bytes => {
                    Value::Array(vec![Value::Bytes(ph.clone())])
                }
                "_int4" => Value::Array(
                    ph.iter()
                        .map(|&b| Value::Int32(i32::from(b as i8)))
                        .collect(),
                ),
                "_date"
                    if elem_type == Some(SchemaType::Int32)
                        && settings.time_precision != TimePrecision::Connect =>
                {
                    Value::Array(
                        ph.iter()
                            .map(|&b| Value::Int32(i32::from(b as i8)))
                            .collect(),
                    )
                }
                "_int8" => Value::Array(
                    ph.iter()
                        .map(|&b| Value::Int64(i64::from(b as i8)))
                        .collect(),
                ),
                "_uuid" => Value::Array(vec![Value::String(text::name_uuid_from_bytes(ph).into())]),
                _ => Value::Null,
            }
        }
        _ if schema.schema_type == SchemaType::String => ph_string(),
        _ => Value::Null,
    }
}

/// `JdbcValueConverters.convertValue`'s fallback for a null in a required
/// column.
fn fallback_for(conv: &Converter, schema: &SchemaRef, settings: &TypeSettings) -> Value {
    match conv {
        Converter::Bool | Converter::ArrayBool | Converter::BitBool => Value::Boolean(false),
        Converter::Int16 => Value::Int16(0),
        Converter::Int32 => Value::Int32(0),
        Converter::Int64 => Value::Int64(0),
        Converter::Float32 => Value::Float32(0.0),
        Converter::Float64 => Value::Float64(0.0),
        Converter::Text => Value::String(Text::new()),
        Converter::Bytea(BinaryHandling::Bytes)
        | Converter::Unknown {
            mode: BinaryHandling::Bytes,
            ..
        } => Value::Bytes(Vec::new()),
        Converter::Bytea(_) | Converter::Unknown { .. } => Value::String(Text::new()),
        Converter::Bits => Value::Bytes(Vec::new()),
        Converter::Numeric {
            mode,
            scale,
            vsd_schema,
        } => {
            let zero = Decimal::new(0, scale.unwrap_or(0));
            match mode {
                DecimalHandling::Precise => match vsd_schema {
                    Some(s) => vsd_value(s, &zero),
                    None => Value::Decimal(zero),
                },
                DecimalHandling::Double => Value::Float64(0.0),
                DecimalHandling::String => Value::String(zero.to_plain_string().into()),
            }
        }
        Converter::Money { mode, digits } => {
            let zero = Decimal::new(0, *digits);
            match mode {
                DecimalHandling::Precise => Value::Decimal(zero),
                DecimalHandling::Double => Value::Float64(0.0),
                DecimalHandling::String => Value::String(zero.to_plain_string().into()),
            }
        }
        Converter::Date { iso: true } => Value::String("1970-01-01Z".into()),
        Converter::Date { iso: false } => Value::Int32(0),
        Converter::Time(repr) | Converter::ArrayTime(repr) => match repr {
            TimeRepr::Millis => Value::Int32(0),
            TimeRepr::Micros | TimeRepr::Nanos => Value::Int64(0),
            TimeRepr::Iso => Value::String("00:00:00Z".into()),
        },
        Converter::Timestamp(TsRepr::Iso) => Value::String("1970-01-01T00:00:00Z".into()),
        Converter::Timestamp(_) => Value::Int64(0),
        Converter::TimestampTz { .. } => Value::String("1970-01-01T00:00:00Z".into()),
        Converter::TimeTz | Converter::ArrayTimeTz => Value::String("00:00:00Z".into()),
        Converter::Interval(IntervalHandling::Numeric) => Value::Int64(0),
        Converter::Interval(IntervalHandling::String) => Value::String("P0Y0M0DT0H0M0S".into()),
        Converter::Point(s) => point_value(s, 0.0, 0.0),
        Converter::Hstore(HstoreHandling::Json) => Value::String("{}".into()),
        Converter::Hstore(HstoreHandling::Map) => Value::Map(Vec::new()),
        Converter::Array(_) => {
            let _ = (schema, settings);
            Value::Array(Vec::new())
        }
    }
}

fn vsd_value(schema: &SchemaRef, d: &Decimal) -> Value {
    Value::Struct(Struct::from_values(
        schema.clone(),
        vec![Value::Int32(d.scale), Value::Bytes(d.unscaled_bytes())],
    ))
}

fn point_value(schema: &SchemaRef, x: f64, y: f64) -> Value {
    let mut wkb = Vec::with_capacity(21);
    wkb.push(1u8);
    wkb.extend_from_slice(&1u32.to_le_bytes());
    wkb.extend_from_slice(&x.to_le_bytes());
    wkb.extend_from_slice(&y.to_le_bytes());
    Value::Struct(Struct::from_values(
        schema.clone(),
        vec![
            Value::Float64(x),
            Value::Float64(y),
            Value::Bytes(wkb),
            Value::Null,
        ],
    ))
}

fn utf8(text: &[u8]) -> Text {
    match std::str::from_utf8(text) {
        Ok(s) => Text::from(s),
        Err(_) => String::from_utf8_lossy(text).into(),
    }
}

fn as_str(text: &[u8]) -> Result<&str, Fail> {
    std::str::from_utf8(text).map_err(|_| Fail::from("invalid UTF-8"))
}

/// `Integer.valueOf` / `Long.valueOf`: an optional sign and decimal digits.
fn parse_int(text: &[u8], min: i64, max: i64) -> Result<i64, Fail> {
    let (neg, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 19 {
        return Err("not an integer".into());
    }
    let mut v: i128 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err("not an integer".into());
        }
        v = v * 10 + i128::from(c - b'0');
    }
    if neg {
        v = -v;
    }
    if v < i128::from(min) || v > i128::from(max) {
        return Err("integer out of range".into());
    }
    Ok(v as i64)
}

fn parse_f64(text: &[u8]) -> Result<f64, Fail> {
    as_str(text)?
        .parse::<f64>()
        .map_err(|_| "not a floating-point number".into())
}

impl Converter {
    fn convert(&self, text: &[u8]) -> Conv {
        match self {
            Converter::Text => Ok(Value::String(utf8(text))),
            Converter::Int32 => {
                Ok(Value::Int32(
                    parse_int(text, i64::from(i32::MIN), i64::from(i32::MAX))? as i32,
                ))
            }
            Converter::Int64 => Ok(Value::Int64(parse_int(text, i64::MIN, i64::MAX)?)),
            Converter::Int16 => {
                Ok(Value::Int16(
                    parse_int(text, i64::from(i16::MIN), i64::from(i16::MAX))? as i16,
                ))
            }
            Converter::Bool => Ok(Value::Boolean(text.eq_ignore_ascii_case(b"t"))),
            Converter::ArrayBool => {
                let t = as_str(text)?.trim();
                match t.to_ascii_lowercase().as_str() {
                    "1" | "true" | "t" | "yes" | "y" | "on" => Ok(Value::Boolean(true)),
                    "0" | "false" | "f" | "no" | "n" | "off" => Ok(Value::Boolean(false)),
                    _ => Err("not a boolean".into()),
                }
            }
            Converter::Float32 => as_str(text)?
                .parse::<f32>()
                .map(Value::Float32)
                .map_err(|_| "not a floating-point number".into()),
            Converter::Float64 => parse_f64(text).map(Value::Float64),
            Converter::Bytea(mode) => {
                let bytes = text::decode_bytea(text)?;
                Ok(encode_binary(*mode, bytes))
            }
            Converter::Unknown { mode, geometric } => {
                let bytes = match geometric {
                    None => text.to_vec(),
                    Some(g) => text::pgjdbc_geometric_text(*g, as_str(text)?)
                        .ok_or("pgjdbc cannot parse this geometric value")?
                        .into_bytes(),
                };
                Ok(encode_binary(*mode, bytes))
            }
            Converter::BitBool => {
                if text.is_empty() || text.iter().any(|&c| c != b'0' && c != b'1') {
                    return Err("not a bit string".into());
                }
                Ok(Value::Boolean(text.contains(&b'1')))
            }
            Converter::Bits => {
                let n = text.len();
                let mut bytes = vec![0u8; n.div_ceil(8)];
                for (k, &c) in text.iter().rev().enumerate() {
                    match c {
                        b'1' => bytes[k / 8] |= 1 << (k % 8),
                        b'0' => {}
                        _ => return Err("not a bit string".into()),
                    }
                }
                while bytes.last() == Some(&0) {
                    bytes.pop();
                }
                Ok(Value::Bytes(bytes))
            }
            Converter::Numeric {
                mode,
                scale,
                vsd_schema,
            } => convert_numeric(text, *mode, *scale, vsd_schema.as_ref()),
            Converter::Money { mode, digits } => {
                let d = numeric::parse_money(as_str(text)?).ok_or("not a money amount")?;
                Ok(match mode {
                    DecimalHandling::Precise => {
                        Value::Decimal(numeric::set_scale_half_up(&d, *digits))
                    }
                    DecimalHandling::Double => Value::Float64(numeric::to_f64(&d)),
                    DecimalHandling::String => Value::String(d.to_plain_string().into()),
                })
            }
            Converter::Date { iso } => {
                let date = temporal::parse_date(text)?;
                Ok(if *iso {
                    Value::String(temporal::iso_date_string(date))
                } else {
                    Value::Int32(temporal::epoch_day_int(date))
                })
            }
            Converter::Time(repr) => {
                let nanos = temporal::parse_time_duration(text)?;
                Ok(time_value(*repr, nanos))
            }
            Converter::ArrayTime(repr) => {
                let nanos = temporal::parse_time_duration(text)?;
                let millis = (nanos / 1_000_000).rem_euclid(86_400_000);
                Ok(time_value(*repr, millis * 1_000_000))
            }
            Converter::Timestamp(repr) => {
                let at = temporal::parse_timestamp(text)?;
                timestamp_value(*repr, at)
            }
            Converter::TimestampTz { fraction } => {
                if let Some(fast) = temporal::utc_timestamptz_fast(text, *fraction) {
                    return Ok(Value::String(fast));
                }
                Ok(Value::String(match temporal::parse_timestamptz(text)? {
                    ZonedValue::Infinity(true) => "infinity".into(),
                    ZonedValue::Infinity(false) => "-infinity".into(),
                    ZonedValue::At(at) => temporal::zoned_timestamp_string(at, *fraction),
                }))
            }
            Converter::TimeTz => {
                let (local, offset) = temporal::parse_timetz(text)?;
                if local == NANOS_PER_DAY && offset == 0 {
                    return Ok(Value::String("24:00:00Z".into()));
                }
                let utc = (local - offset * NANOS_PER_SECOND).rem_euclid(NANOS_PER_DAY);
                Ok(Value::String(temporal::iso_time_string(utc)))
            }
            Converter::ArrayTimeTz => {
                let (local, offset) = temporal::parse_timetz(text)?;
                let utc = (local - offset * NANOS_PER_SECOND).rem_euclid(NANOS_PER_DAY);
                Ok(Value::String(temporal::iso_time_string(
                    utc / NANOS_PER_SECOND * NANOS_PER_SECOND,
                )))
            }
            Converter::Interval(mode) => {
                let iv = parse_interval(as_str(text)?)?;
                Ok(match mode {
                    IntervalHandling::Numeric => Value::Int64(iv.micro_duration()),
                    IntervalHandling::String => Value::String(iv.iso_string().into()),
                })
            }
            Converter::Point(schema) => {
                let (x, y) = text::parse_point(as_str(text)?).ok_or("not a point")?;
                Ok(point_value(schema, x, y))
            }
            Converter::Hstore(mode) => convert_hstore(as_str(text)?, *mode),
            Converter::Array(array) => {
                let elems = text::parse_array(text, array.delim)?;
                let mut out = Vec::with_capacity(elems.len());
                for e in elems {
                    out.push(match e {
                        ArrayElem::Null | ArrayElem::Nested => Value::Null,
                        ArrayElem::Text(t) => match array.elem.convert(&t) {
                            Ok(v) => v,
                            // Elements are optional: an unrepresentable one is null.
                            Err(Fail::Unrepresentable(_)) => Value::Null,
                            Err(e) => return Err(e),
                        },
                    });
                }
                Ok(Value::Array(out))
            }
        }
    }
}

fn encode_binary(mode: BinaryHandling, bytes: Vec<u8>) -> Value {
    match mode {
        BinaryHandling::Bytes => Value::Bytes(bytes),
        BinaryHandling::Base64 => Value::String(
            base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .into(),
        ),
        BinaryHandling::Base64UrlSafe => Value::String(
            base64::engine::general_purpose::URL_SAFE
                .encode(bytes)
                .into(),
        ),
        BinaryHandling::Hex => Value::String(text::to_hex(&bytes).into()),
    }
}

fn convert_numeric(
    text: &[u8],
    mode: DecimalHandling,
    scale: Option<i32>,
    vsd_schema: Option<&SchemaRef>,
) -> Conv {
    if let Some(special) = numeric::special(text) {
        return match mode {
            DecimalHandling::Double => Ok(Value::Float64(special.to_f64())),
            DecimalHandling::String => Ok(Value::String(special.debezium_name().into())),
            DecimalHandling::Precise => Err(Fail::Bad(Cow::Borrowed(
                "got a special value (NaN/Infinity) for a Decimal type but decimal.handling.mode is precise; set it to 'string' or 'double'",
            ))),
        };
    }
    if mode == DecimalHandling::Double {
        return parse_f64(text).map(Value::Float64);
    }
    let d = numeric::parse_big_decimal(text).ok_or("not a numeric value")?;
    let d = match scale {
        Some(s) => numeric::set_scale_exact(&d, s)
            .ok_or("value has more fraction digits than the column's scale")?,
        None => d,
    };
    Ok(match (mode, vsd_schema) {
        (DecimalHandling::String, _) => Value::String(d.to_plain_string().into()),
        (_, Some(schema)) => vsd_value(schema, &numeric::strip_fraction_zeros(&d)),
        _ => Value::Decimal(d),
    })
}

fn time_value(repr: TimeRepr, nanos: i64) -> Value {
    match repr {
        TimeRepr::Millis => Value::Int32((nanos / 1_000_000) as i32),
        TimeRepr::Micros => Value::Int64(nanos / 1000),
        TimeRepr::Nanos => Value::Int64(nanos),
        TimeRepr::Iso => Value::String(temporal::iso_time_string(nanos.rem_euclid(NANOS_PER_DAY))),
    }
}

fn timestamp_value(repr: TsRepr, at: Instant) -> Conv {
    Ok(match repr {
        TsRepr::Millis => Value::Int64(at.epoch_millis()),
        TsRepr::Micros => Value::Int64(at.epoch_micros()),
        TsRepr::Nanos => {
            if at == Instant::from_micros(temporal::PG_DATE_POSITIVE_INFINITY) {
                Value::Int64(i64::MAX)
            } else if at == Instant::from_micros(temporal::PG_DATE_NEGATIVE_INFINITY) {
                Value::Int64(i64::MIN)
            } else {
                Value::Int64(at.epoch_nanos().ok_or(Fail::Unrepresentable(
                    "outside the range of epoch nanoseconds (1677-09-21 to 2262-04-11)",
                ))?)
            }
        }
        TsRepr::Iso => Value::String(temporal::iso_timestamp_string(at)),
    })
}

fn convert_hstore(text: &str, mode: HstoreHandling) -> Conv {
    let pairs = text::parse_hstore(text)?;
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    let order = text::java_hashmap_order(&keys);
    match mode {
        HstoreHandling::Json => {
            let mut s = String::with_capacity(text.len() + 2);
            s.push('{');
            for (n, &i) in order.iter().enumerate() {
                if n > 0 {
                    s.push(',');
                }
                let (k, v) = &pairs[i];
                text::push_json_string(&mut s, k);
                s.push(':');
                match v {
                    Some(v) => text::push_json_string(&mut s, v),
                    None => s.push_str("null"),
                }
            }
            s.push('}');
            Ok(Value::String(s.into()))
        }
        HstoreHandling::Map => {
            let mut slots: Vec<Option<(String, Option<String>)>> =
                pairs.into_iter().map(Some).collect();
            let entries = order
                .iter()
                .filter_map(|&i| slots[i].take())
                .map(|(k, v)| (Value::String(k.into()), v.map_or(Value::Null, Value::from)))
                .collect();
            Ok(Value::Map(entries))
        }
    }
}

/// pgjdbc's `PGInterval` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct PgInterval {
    years: i32,
    months: i32,
    days: i32,
    hours: i32,
    minutes: i32,
    whole_seconds: i32,
    micro_seconds: i32,
}

/// Java's `Math.round(double)`: nearest, ties toward positive infinity,
/// saturating.
fn java_round(x: f64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    let f = x.floor();
    let r = if x - f >= 0.5 { f + 1.0 } else { f };
    r as i64
}

impl PgInterval {
    fn set_seconds(&mut self, seconds: f64) -> Result<(), Fail> {
        let micros = seconds * 1_000_000.0;
        if !(micros <= i64::MAX as f64 && micros >= i64::MIN as f64) {
            return Err("interval seconds out of range".into());
        }
        let total = java_round(micros);
        self.whole_seconds = (total / 1_000_000) as i32;
        self.micro_seconds = (total % 1_000_000) as i32;
        Ok(())
    }

    fn seconds(&self) -> f64 {
        f64::from(self.whole_seconds) + f64::from(self.micro_seconds) / 1_000_000.0
    }

    /// `MicroDuration.durationMicros(…, MicroDuration.DAYS_PER_MONTH_AVG)`.
    fn micro_duration(&self) -> i64 {
        let days_per_month_avg = 365.25 / 12.0;
        let months = self.years.wrapping_mul(12).wrapping_add(self.months);
        let number_of_days = f64::from(months) * days_per_month_avg + f64::from(self.days);
        let number_of_seconds = (((number_of_days * 24.0 + f64::from(self.hours)) * 60.0)
            + f64::from(self.minutes))
            * 60.0
            + self.seconds();
        (number_of_seconds * 1e6 + 0.0) as i64
    }

    /// `Interval.toIsoString(…, BigDecimal.valueOf(getSeconds()))`.
    fn iso_string(&self) -> String {
        let seconds_text = text::java_double_to_string(self.seconds());
        let seconds = numeric::parse_big_decimal(seconds_text.as_bytes())
            .unwrap_or_else(|| Decimal::new(0, 0));
        let seconds = if seconds.scale > 9 {
            // setScale(9, RoundingMode.DOWN)
            let f = num_bigint::BigInt::from(10u8).pow((seconds.scale - 9) as u32);
            Decimal {
                unscaled: &seconds.unscaled / f,
                scale: 9,
            }
        } else {
            seconds
        };
        let seconds = strip_all_trailing_zeros(seconds);
        format!(
            "P{}Y{}M{}DT{}H{}M{}S",
            self.years,
            self.months,
            self.days,
            self.hours,
            self.minutes,
            seconds.to_plain_string()
        )
    }
}

/// `BigDecimal.stripTrailingZeros()` (the scale may become negative).
fn strip_all_trailing_zeros(d: Decimal) -> Decimal {
    use num_bigint::Sign;
    if d.unscaled.sign() == Sign::NoSign {
        return Decimal::new(0, 0);
    }
    let ten = num_bigint::BigInt::from(10u8);
    let mut unscaled = d.unscaled;
    let mut scale = d.scale;
    loop {
        let r = &unscaled % &ten;
        if r.sign() != Sign::NoSign {
            break;
        }
        unscaled /= &ten;
        scale -= 1;
    }
    Decimal { unscaled, scale }
}

/// `Integer.parseInt`.
fn java_int(s: &str) -> Result<i32, Fail> {
    parse_int(s.as_bytes(), i64::from(i32::MIN), i64::from(i32::MAX)).map(|v| v as i32)
}

/// `Double.parseDouble`.
fn java_double(s: &str) -> Result<f64, Fail> {
    let t = s.trim();
    if t.bytes()
        .any(|c| c.is_ascii_alphabetic() && c != b'e' && c != b'E')
        && !matches!(t, "NaN" | "Infinity" | "-Infinity")
    {
        return Err("not a number".into());
    }
    t.parse::<f64>().map_err(|_| "not a number".into())
}

/// `new PGInterval(text)`: the `postgres` and `postgres_verbose`
/// `IntervalStyle`s (and ISO 8601).
fn parse_interval(text: &str) -> Result<PgInterval, Fail> {
    let mut iv = PgInterval::default();
    if let Some(rest) = text.strip_prefix('P') {
        return parse_iso_interval(rest);
    }
    let postgres_format = !text.starts_with('@');
    let lowered = text.replace(['+', '@'], " ").to_ascii_lowercase();
    let (mut years, mut months, mut days, mut hours, mut minutes) = (0, 0, 0, 0, 0);
    let mut seconds = 0.0f64;
    let mut value_token: Option<&str> = None;
    for (i, token) in lowered
        .split([' ', '\t', '\n', '\r', '\u{c}'])
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        if i % 2 == 0 {
            let Some(end_hours) = token.find(':') else {
                value_token = Some(token);
                continue;
            };
            let offset = usize::from(token.starts_with('-'));
            hours = java_int(&token[offset..end_hours])?;
            minutes = java_int(
                token
                    .get(end_hours + 1..end_hours + 3)
                    .ok_or("malformed interval time")?,
            )?;
            if let Some(end_minutes) = token[end_hours + 1..].find(':').map(|p| p + end_hours + 1) {
                seconds = java_double(&token[end_minutes + 1..])?;
            }
            if offset == 1 {
                hours = -hours;
                minutes = -minutes;
                seconds = -seconds;
            }
            value_token = None;
        } else {
            let v = value_token;
            let int = |v: Option<&str>| v.map_or(Ok(0), java_int);
            if token.starts_with("year") {
                years = int(v)?;
            } else if token.starts_with("mon") {
                months = int(v)?;
            } else if token.starts_with("day") {
                days = int(v)?;
            } else if token.starts_with("hour") {
                hours = int(v)?;
            } else if token.starts_with("min") {
                minutes = int(v)?;
            } else if token.starts_with("sec") {
                seconds = v.map_or(Ok(0.0), java_double)?;
            }
        }
    }
    if !postgres_format && lowered.ends_with("ago") {
        years = -years;
        months = -months;
        days = -days;
        hours = -hours;
        minutes = -minutes;
        seconds = -seconds;
    }
    iv.years = years;
    iv.months = months;
    iv.days = days;
    iv.hours = hours;
    iv.minutes = minutes;
    iv.set_seconds(seconds)?;
    Ok(iv)
}

/// `P[nY][nM][nD][T[nH][nM][nS]]` (`IntervalStyle = iso_8601`).
fn parse_iso_interval(rest: &str) -> Result<PgInterval, Fail> {
    let mut iv = PgInterval::default();
    let (date, time) = match rest.find('T') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut start = 0;
    for (i, c) in date.char_indices() {
        if matches!(c, 'Y' | 'M' | 'D') {
            let n = java_int(&date[start..i])?;
            match c {
                'Y' => iv.years = n,
                'M' => iv.months = n,
                _ => iv.days = n,
            }
            start = i + 1;
        }
    }
    if let Some(time) = time {
        let mut start = 0;
        for (i, c) in time.char_indices() {
            if matches!(c, 'H' | 'M' | 'S') {
                let part = &time[start..i];
                match c {
                    'H' => iv.hours = java_int(part)?,
                    'M' => iv.minutes = java_int(part)?,
                    _ => iv.set_seconds(java_double(part)?)?,
                }
                start = i + 1;
            }
        }
    }
    Ok(iv)
}

impl fmt::Display for ColumnMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {}", self.type_name, self.schema.schema_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_fields_and_micros() {
        let iv = parse_interval("1 year 2 mons 3 days 04:05:06.78").unwrap();
        assert_eq!(
            (iv.years, iv.months, iv.days, iv.hours, iv.minutes),
            (1, 2, 3, 4, 5)
        );
        assert_eq!((iv.whole_seconds, iv.micro_seconds), (6, 780_000));
        assert_eq!(iv.iso_string(), "P1Y2M3DT4H5M6.78S");
        let neg = parse_interval("-1 years -2 mons +3 days -04:05:06.5").unwrap();
        assert_eq!(
            (neg.years, neg.months, neg.days, neg.hours, neg.minutes),
            (-1, -2, 3, -4, -5)
        );
        assert_eq!((neg.whole_seconds, neg.micro_seconds), (-6, -500_000));
        assert_eq!(neg.iso_string(), "P-1Y-2M3DT-4H-5M-6.5S");
        assert_eq!(
            parse_interval("00:00:00").unwrap().iso_string(),
            "P0Y0M0DT0H0M0S"
        );
        assert_eq!(
            parse_interval("00:00:00.000001").unwrap().iso_string(),
            "P0Y0M0DT0H0M0.000001S"
        );
        assert_eq!(
            parse_interval("00:01:00").unwrap().iso_string(),
            "P0Y0M0DT0H1M0S"
        );
        let verbose = parse_interval("@ 1 day 2 hours ago").unwrap();
        assert_eq!((verbose.days, verbose.hours), (-1, -2));
        let iso = parse_interval("P1Y2M3DT4H5M6.78S").unwrap();
        assert_eq!(iso, iv);
    }

    #[test]
    fn zero_and_errors() {
        let reg = TypeRegistry::builtin();
        let s = TypeSettings::default();
        let m = column_mapping(&reg, oid::NUMERIC, -1, false, &s).unwrap();
        let v = m.convert_text(b"0.000").unwrap();
        let st = v.as_struct().unwrap();
        // BigInteger.ZERO.toByteArray() == [0]
        assert_eq!(st.get("value"), Some(&Value::Bytes(vec![0])));
        assert_eq!(st.get("scale"), Some(&Value::Int32(0)));
        assert_eq!(m.null_value(), v);
        let e = column_mapping(&reg, oid::INT4, -1, true, &s)
            .unwrap()
            .convert_text(b"12x")
            .unwrap_err();
        assert_eq!(e.type_name, "int4");
        assert!(e.to_string().contains("\"12x\""), "{e}");
        let e = column_mapping(&reg, 99_999, -1, true, &s).unwrap_err();
        assert_eq!(e.kind, UnsupportedKind::UnknownType);
    }

    #[test]
    fn java_rounding() {
        assert_eq!(java_round(2.5), 3);
        assert_eq!(java_round(-2.5), -2);
        assert_eq!(java_round(-2.6), -3);
        assert_eq!(java_round(6_780_000.000_000_001), 6_780_000);
    }

    #[test]
    fn pgjdbc_lengths() {
        // numeric(10,2): typmod = (10 << 16 | 2) + 4
        let typmod = ((10 << 16) | 2) + 4;
        assert_eq!(length_and_scale(oid::NUMERIC, typmod), (10, 2));
        assert_eq!(length_and_scale(oid::NUMERIC, -1), (131_089, 0));
        assert_eq!(length_and_scale(oid::VARBIT, -1), (i32::MAX, 0));
        assert_eq!(length_and_scale(oid::BIT, 7), (7, 0));
        assert_eq!(length_and_scale(oid::TIMESTAMP, 3).1, 3);
        assert_eq!(length_and_scale(oid::TIMESTAMPTZ, -1).1, 6);
    }
}
