//! A small JSON tree that keeps what Jackson keeps and Avro's schema text
//! depends on: float and double numbers stay apart (Jackson writes a
//! `FloatNode` with `Float.toString` and a `DoubleNode` with
//! `Double.toString`), object members keep their order, and the writer
//! escapes strings exactly as Jackson's default generator does.

use crate::java;

/// A JSON value as Jackson's tree model holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// `IntNode` / `LongNode`.
    Int(i64),
    /// `FloatNode`.
    Float(f32),
    /// `DoubleNode`.
    Double(f64),
    Str(String),
    Array(Vec<Json>),
    /// Members in insertion order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Converts a parsed document (numbers without a fraction or exponent
    /// that fit in an `i64` are integers, everything else a double).
    pub fn from_serde(value: &serde_json::Value) -> Json {
        match value {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Json::Int(i),
                None => match n.as_u64() {
                    Some(u) => Json::Double(u as f64),
                    None => Json::Double(n.as_f64().unwrap_or(0.0)),
                },
            },
            serde_json::Value::String(s) => Json::Str(s.clone()),
            serde_json::Value::Array(items) => {
                Json::Array(items.iter().map(Json::from_serde).collect())
            }
            serde_json::Value::Object(members) => Json::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), Json::from_serde(v)))
                    .collect(),
            ),
        }
    }

    /// Member of an object by name.
    pub fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Json::Int(_) | Json::Float(_) | Json::Double(_))
    }

    /// Jackson's `intValue()`/`longValue()`: integers as they are, floating
    /// point numbers truncated.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Json::Int(i) => Some(i),
            Json::Float(f) => Some(f as i64),
            Json::Double(d) => Some(d as i64),
            _ => None,
        }
    }

    /// Jackson's `doubleValue()`.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Json::Int(i) => Some(i as f64),
            Json::Float(f) => Some(f64::from(f)),
            Json::Double(d) => Some(d),
            _ => None,
        }
    }

    /// Avro's `JacksonUtils.toObject` followed by `toJsonNode` (what a
    /// field default goes through in `new Schema.Field(..., Object)`): a
    /// float becomes the double of the same value, the rest is unchanged.
    pub fn through_java_object(self) -> Json {
        match self {
            Json::Float(f) => Json::Double(f64::from(f)),
            Json::Array(items) => {
                Json::Array(items.into_iter().map(Json::through_java_object).collect())
            }
            Json::Object(members) => Json::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k, v.through_java_object()))
                    .collect(),
            ),
            other => other,
        }
    }

    /// Compact rendering, as Jackson's default generator writes it.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Json::Null => out.extend_from_slice(b"null"),
            Json::Bool(true) => out.extend_from_slice(b"true"),
            Json::Bool(false) => out.extend_from_slice(b"false"),
            Json::Int(i) => java::push_i64(out, *i),
            Json::Float(f) => write_float(out, *f),
            Json::Double(d) => write_double(out, *d),
            Json::Str(s) => write_str(out, s),
            Json::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Json::Object(members) => {
                out.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, k);
                    out.push(b':');
                    v.write(out);
                }
                out.push(b'}');
            }
        }
    }

    /// The compact text.
    pub fn to_text(&self) -> String {
        let mut out = Vec::new();
        self.write(&mut out);
        String::from_utf8(out).expect("the JSON writer emits UTF-8")
    }
}

/// Jackson writes non-finite numbers as quoted strings.
fn write_float(out: &mut Vec<u8>, f: f32) {
    if f.is_finite() {
        java::push_float(out, f);
    } else {
        out.push(b'"');
        java::push_float(out, f);
        out.push(b'"');
    }
}

fn write_double(out: &mut Vec<u8>, d: f64) {
    if d.is_finite() {
        java::push_double(out, d);
    } else {
        out.push(b'"');
        java::push_double(out, d);
        out.push(b'"');
    }
}

/// A JSON string with Jackson's escaping: `"` and `\` escaped, the control
/// characters `\b \t \n \f \r` with their short forms, the other control
/// characters as `\u00XX` (upper-case hex); everything else, `/` and
/// non-ASCII included, as is.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x09 => b't',
            0x0A => b'n',
            0x0C => b'f',
            0x0D => b'r',
            0x00..=0x1F => 0,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.push(b'\\');
        if short == 0 {
            out.extend_from_slice(b"u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xF)]);
        } else {
            out.push(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Bytes as Java's `new String(bytes, ISO_8859_1)`: each byte one char.
pub fn latin1_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Java's `String.getBytes(ISO_8859_1)`: chars above U+00FF become `?`.
pub fn latin1_bytes(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_jackson() {
        let j = Json::Object(vec![
            ("a".into(), Json::Float(12.2)),
            ("b".into(), Json::Float(12.2).through_java_object()),
            ("c".into(), Json::Str("q\"\\/\u{1}\n\u{e9}".into())),
            (
                "d".into(),
                Json::Array(vec![Json::Null, Json::Bool(true), Json::Int(-3)]),
            ),
            ("e".into(), Json::Double(1e10)),
        ]);
        assert_eq!(
            j.to_text(),
            "{\"a\":12.2,\"b\":12.199999809265137,\"c\":\"q\\\"\\\\/\\u0001\\n\u{e9}\",\"d\":[null,true,-3],\"e\":1.0E10}"
        );
        assert_eq!(
            latin1_bytes(&latin1_string(&[0, 0x9c, 0xff])),
            vec![0, 0x9c, 0xff]
        );
    }
}
