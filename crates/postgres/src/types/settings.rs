//! The connector settings that change how values are mapped, with Debezium's
//! configuration spellings.

use std::fmt;
use std::str::FromStr;

/// A configuration value that is not one of the allowed spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value {value:?} for {key}; expected one of: {}", .allowed.join(", "))]
pub struct InvalidSetting {
    /// The configuration key (`decimal.handling.mode`, …).
    pub key: &'static str,
    /// The rejected value.
    pub value: String,
    /// The accepted spellings.
    pub allowed: &'static [&'static str],
}

/// Parses like Debezium's `EnumeratedValue` lookups: trimmed, case-insensitive.
fn parse_setting<T: Copy>(
    key: &'static str,
    value: &str,
    table: &'static [(&'static str, T)],
    allowed: &'static [&'static str],
) -> Result<T, InvalidSetting> {
    let trimmed = value.trim();
    table
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(trimmed))
        .map(|(_, v)| *v)
        .ok_or_else(|| InvalidSetting {
            key,
            value: value.to_string(),
            allowed,
        })
}

macro_rules! setting_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $key:literal, default $default:ident,
        { $( $(#[$vmeta:meta])* $variant:ident => $spelling:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The configuration key this setting is read from.
            pub const KEY: &'static str = $key;
            /// Every accepted spelling, in Debezium's order.
            pub const ALLOWED: &'static [&'static str] = &[$($spelling),+];
            const TABLE: &'static [(&'static str, $name)] = &[$(($spelling, $name::$variant)),+];

            /// Debezium's spelling of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $spelling, )+
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }

        impl FromStr for $name {
            type Err = InvalidSetting;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_setting($key, s, Self::TABLE, Self::ALLOWED)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

setting_enum! {
    /// `decimal.handling.mode`: how `NUMERIC`/`DECIMAL` (and `MONEY`) values
    /// are represented.
    DecimalHandling, "decimal.handling.mode", default Precise, {
        /// `org.apache.kafka.connect.data.Decimal` (or
        /// `io.debezium.data.VariableScaleDecimal` for unconstrained numerics).
        Precise => "precise",
        /// `double` (may lose precision).
        Double => "double",
        /// `string`, plain notation.
        String => "string",
    }
}

setting_enum! {
    /// `time.precision.mode`: how `DATE`, `TIME` and `TIMESTAMP` are
    /// represented (`TIMESTAMPTZ`/`TIMETZ` are always ISO strings in UTC).
    TimePrecision, "time.precision.mode", default Adaptive, {
        /// Millisecond, microsecond or nanosecond types chosen from the
        /// column's precision.
        Adaptive => "adaptive",
        /// Like `adaptive`, but `TIME` is always `io.debezium.time.MicroTime`.
        AdaptiveTimeMicroseconds => "adaptive_time_microseconds",
        /// Kafka Connect's own `Date`, `Time` and `Timestamp` (milliseconds).
        Connect => "connect",
        /// ISO-8601 strings (`io.debezium.time.IsoDate`, `IsoTime`,
        /// `IsoTimestamp`), Debezium 3.x.
        IsoString => "isostring",
        /// Always microseconds (`MicroTime`, `MicroTimestamp`), Debezium 3.x.
        Microseconds => "microseconds",
        /// Always nanoseconds (`NanoTime`, `NanoTimestamp`), Debezium 3.x.
        Nanoseconds => "nanoseconds",
    }
}

setting_enum! {
    /// `binary.handling.mode`: how `BYTEA` (and unknown types, when included)
    /// are represented.
    BinaryHandling, "binary.handling.mode", default Bytes, {
        /// Raw bytes.
        Bytes => "bytes",
        /// Base64 string (with padding).
        Base64 => "base64",
        /// URL-safe base64 string (with padding, like Java's URL encoder).
        Base64UrlSafe => "base64-url-safe",
        /// Lower-case hexadecimal string.
        Hex => "hex",
    }
}

setting_enum! {
    /// `interval.handling.mode`.
    IntervalHandling, "interval.handling.mode", default Numeric, {
        /// `io.debezium.time.MicroDuration`: approximate microseconds, with
        /// 365.25 / 12 days per month.
        Numeric => "numeric",
        /// `io.debezium.time.Interval`: `P<y>Y<m>M<d>DT<h>H<m>M<s>S`.
        String => "string",
    }
}

setting_enum! {
    /// `hstore.handling.mode`.
    HstoreHandling, "hstore.handling.mode", default Json, {
        /// `io.debezium.data.Json` string.
        Json => "json",
        /// `map<string, string>`.
        Map => "map",
    }
}

/// Debezium's default for `unavailable.value.placeholder`.
pub const DEFAULT_UNAVAILABLE_VALUE_PLACEHOLDER: &[u8] = b"__debezium_unavailable_value";

/// Everything in the connector configuration that changes the type mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSettings {
    /// `decimal.handling.mode` (default `precise`).
    pub decimal: DecimalHandling,
    /// `time.precision.mode` (default `adaptive`).
    pub time_precision: TimePrecision,
    /// `binary.handling.mode` (default `bytes`).
    pub binary: BinaryHandling,
    /// `interval.handling.mode` (default `numeric`).
    pub interval: IntervalHandling,
    /// `hstore.handling.mode` (default `json`).
    pub hstore: HstoreHandling,
    /// `money.fraction.digits` (default 2): the scale of `MONEY` values in
    /// `precise` mode.
    pub money_fraction_digits: i32,
    /// `unavailable.value.placeholder` (default `__debezium_unavailable_value`):
    /// what an unchanged TOASTed column carries.
    pub unavailable_value_placeholder: Vec<u8>,
    /// `include.unknown.datatypes` (default false): map columns of types
    /// Debezium has no converter for to `binary.handling.mode` bytes of their
    /// text instead of reporting [`UnsupportedType`](super::UnsupportedType).
    pub include_unknown_datatypes: bool,
}

impl Default for TypeSettings {
    fn default() -> Self {
        TypeSettings {
            decimal: DecimalHandling::default(),
            time_precision: TimePrecision::default(),
            binary: BinaryHandling::default(),
            interval: IntervalHandling::default(),
            hstore: HstoreHandling::default(),
            money_fraction_digits: 2,
            unavailable_value_placeholder: DEFAULT_UNAVAILABLE_VALUE_PLACEHOLDER.to_vec(),
            include_unknown_datatypes: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debezium_spellings() {
        assert_eq!("precise".parse(), Ok(DecimalHandling::Precise));
        assert_eq!(" DOUBLE ".parse(), Ok(DecimalHandling::Double));
        assert_eq!(
            "adaptive_time_microseconds".parse(),
            Ok(TimePrecision::AdaptiveTimeMicroseconds)
        );
        assert_eq!("connect".parse(), Ok(TimePrecision::Connect));
        assert_eq!("base64-url-safe".parse(), Ok(BinaryHandling::Base64UrlSafe));
        assert_eq!("hex".parse(), Ok(BinaryHandling::Hex));
        assert_eq!("string".parse(), Ok(IntervalHandling::String));
        assert_eq!("map".parse(), Ok(HstoreHandling::Map));
        let err = "base64_url_safe".parse::<BinaryHandling>().unwrap_err();
        assert_eq!(err.key, "binary.handling.mode");
        assert_eq!(
            err.to_string(),
            "invalid value \"base64_url_safe\" for binary.handling.mode; expected one of: bytes, base64, base64-url-safe, hex"
        );
        for v in TimePrecision::TABLE {
            assert_eq!(v.0.parse::<TimePrecision>().unwrap().as_str(), v.0);
        }
    }
}
