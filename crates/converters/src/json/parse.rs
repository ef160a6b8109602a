//! A small JSON reader for `to_connect`, matching the Jackson settings Kafka's
//! `JsonDeserializer` uses:
//!
//! * numbers keep their exact text (Kafka reads floats as `BigDecimal`,
//!   `USE_BIG_DECIMAL_FOR_FLOATS`, so `1.23456789123456789` and `1.5600`
//!   survive into a Decimal unchanged);
//! * leading zeros are allowed (`ALLOW_LEADING_ZEROS_FOR_NUMBERS`: `0012`);
//! * duplicate object keys are kept here; lookups take the last one, as
//!   Jackson's tree model does;
//! * nesting is limited to 1000 levels (Jackson's default
//!   `StreamReadConstraints`), so hostile input cannot overflow the stack;
//! * an empty (or all-whitespace) document is "missing", not an error.
//!
//! Unlike Jackson, content after the first value is rejected rather than
//! ignored.

use std::borrow::Cow;
use std::ops::Range;

const MAX_DEPTH: usize = 1000;

/// A parsed JSON value borrowing from the input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    /// The number's literal text (validated).
    Number(&'a str),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// Member lookup; the last of duplicate keys wins.
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Jackson's `JsonNodeType` name, for error messages.
    pub(crate) fn node_type(&self) -> &'static str {
        match self {
            Json::Null => "NULL",
            Json::Bool(_) => "BOOLEAN",
            Json::Number(_) => "NUMBER",
            Json::String(_) => "STRING",
            Json::Array(_) => "ARRAY",
            Json::Object(_) => "OBJECT",
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Syntax error with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) offset: usize,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.message)
    }
}

type PResult<T> = Result<T, SyntaxError>;

/// The input as text, without a leading UTF-8 byte order mark.
pub(crate) fn document_text(bytes: &[u8]) -> PResult<&str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| SyntaxError {
        message: "the data is not valid UTF-8".into(),
        offset: e.valid_up_to(),
    })
}

/// Parses a whole document; `None` when it is empty or whitespace only.
pub(crate) fn parse_document(text: &str) -> PResult<Option<Json<'_>>> {
    let mut p = Parser::new(text);
    p.skip_ws();
    if p.at_end() {
        return Ok(None);
    }
    let value = p.parse_value()?;
    p.expect_end()?;
    Ok(Some(value))
}

/// The top-level members of an object document, as raw text spans,
/// validated but not materialised.
#[derive(Debug)]
pub(crate) enum TopLevel<'a> {
    /// Empty or whitespace-only document.
    Missing,
    /// A valid document that is not an object.
    NotObject,
    Object(Vec<(Cow<'a, str>, Range<usize>)>),
}

pub(crate) fn scan_top_level(text: &str) -> PResult<TopLevel<'_>> {
    let mut p = Parser::new(text);
    p.skip_ws();
    if p.at_end() {
        return Ok(TopLevel::Missing);
    }
    if p.peek() != Some(b'{') {
        p.parse_value()?;
        p.expect_end()?;
        return Ok(TopLevel::NotObject);
    }
    p.pos += 1;
    p.depth = 1;
    let mut members = Vec::new();
    p.skip_ws();
    if p.peek() == Some(b'}') {
        p.pos += 1;
    } else {
        loop {
            p.skip_ws();
            let key = p.parse_string()?;
            p.skip_ws();
            p.expect(b':')?;
            p.skip_ws();
            let start = p.pos;
            p.skip_value()?;
            members.push((key, start..p.pos));
            p.skip_ws();
            match p.next_byte() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => {
                    return Err(p.error_at(p.pos.saturating_sub(1), "expected ',' or '}' in object"))
                }
            }
        }
    }
    p.expect_end()?;
    Ok(TopLevel::Object(members))
}

/// Parses one value that is known to span exactly `text` (a span returned
/// by [`scan_top_level`]).
pub(crate) fn parse_span(text: &str) -> PResult<Json<'_>> {
    let mut p = Parser::new(text);
    p.depth = 1;
    p.skip_ws();
    let value = p.parse_value()?;
    p.expect_end()?;
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            depth: 0,
        }
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            message: message.into(),
            offset,
        }
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        self.error_at(self.pos, message)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8) -> PResult<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected '{}'", b as char)))
        }
    }

    fn expect_end(&mut self) -> PResult<()> {
        self.skip_ws();
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error("unexpected content after the JSON value"))
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn literal(&mut self, word: &str) -> PResult<()> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("unrecognised token"))
        }
    }

    fn parse_value(&mut self) -> PResult<Json<'a>> {
        match self.peek() {
            None => Err(self.error("unexpected end of input")),
            Some(b'n') => self.literal("null").map(|_| Json::Null),
            Some(b't') => self.literal("true").map(|_| Json::Bool(true)),
            Some(b'f') => self.literal("false").map(|_| Json::Bool(false)),
            Some(b'"') => self.parse_string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.parse_number().map(Json::Number),
            Some(b'[') => {
                self.enter()?;
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_ws();
                        items.push(self.parse_value()?);
                        self.skip_ws();
                        match self.next_byte() {
                            Some(b',') => continue,
                            Some(b']') => break,
                            _ => {
                                return Err(self.error_at(
                                    self.pos.saturating_sub(1),
                                    "expected ',' or ']' in array",
                                ))
                            }
                        }
                    }
                }
                self.depth -= 1;
                Ok(Json::Array(items))
            }
            Some(b'{') => {
                self.enter()?;
                self.pos += 1;
                let mut members = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_ws();
                        let key = self.parse_string()?;
                        self.skip_ws();
                        self.expect(b':')?;
                        self.skip_ws();
                        members.push((key, self.parse_value()?));
                        self.skip_ws();
                        match self.next_byte() {
                            Some(b',') => continue,
                            Some(b'}') => break,
                            _ => {
                                return Err(self.error_at(
                                    self.pos.saturating_sub(1),
                                    "expected ',' or '}' in object",
                                ))
                            }
                        }
                    }
                }
                self.depth -= 1;
                Ok(Json::Object(members))
            }
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    /// Validates a value and moves past it without building anything.
    fn skip_value(&mut self) -> PResult<()> {
        match self.peek() {
            Some(b'"') => self.scan_string(false).map(|_| ()),
            Some(b'-' | b'0'..=b'9') => self.parse_number().map(|_| ()),
            Some(open @ (b'[' | b'{')) => {
                let close = if open == b'[' { b']' } else { b'}' };
                self.enter()?;
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(close) {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_ws();
                        if open == b'{' {
                            self.scan_string(false)?;
                            self.skip_ws();
                            self.expect(b':')?;
                            self.skip_ws();
                        }
                        self.skip_value()?;
                        self.skip_ws();
                        match self.next_byte() {
                            Some(b',') => continue,
                            Some(b) if b == close => break,
                            _ => {
                                return Err(self.error_at(
                                    self.pos.saturating_sub(1),
                                    format!("expected ',' or '{}'", close as char),
                                ))
                            }
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            _ => self.parse_value().map(|_| ()),
        }
    }

    fn parse_number(&mut self) -> PResult<&'a str> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        if self.pos == int_start {
            return Err(self.error("expected a digit"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let frac_start = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if self.pos == frac_start {
                return Err(self.error("expected a digit after the decimal point"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            let exp_start = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if self.pos == exp_start {
                return Err(self.error("expected a digit in the exponent"));
            }
        }
        Ok(&self.text[start..self.pos])
    }

    fn parse_string(&mut self) -> PResult<Cow<'a, str>> {
        self.scan_string(true)
    }

    /// Scans a string starting at the opening quote: borrowed when it has
    /// no escapes, decoded into an owned string when it has. Without
    /// `decode` escapes are only validated and the raw text is returned.
    fn scan_string(&mut self, decode: bool) -> PResult<Cow<'a, str>> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string"));
        }
        self.pos += 1;
        let start = self.pos;
        let mut chunk_start = start;
        let mut buf: Option<String> = None;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            match b {
                b'"' => {
                    let end = self.pos;
                    self.pos += 1;
                    return Ok(match buf {
                        Some(mut s) => {
                            s.push_str(&self.text[chunk_start..end]);
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(&self.text[start..end]),
                    });
                }
                b'\\' => {
                    let chunk_end = self.pos;
                    self.pos += 1;
                    let esc = self
                        .next_byte()
                        .ok_or_else(|| self.error("unterminated escape"))?;
                    let c = match esc {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.error_at(self.pos - 1, "invalid escape sequence")),
                    };
                    if decode {
                        let s = buf.get_or_insert_with(String::new);
                        s.push_str(&self.text[chunk_start..chunk_end]);
                        s.push(c);
                    }
                    chunk_start = self.pos;
                }
                0x00..=0x1F => {
                    return Err(self.error("unescaped control character in string"));
                }
                _ => {
                    // Jump to the next byte that needs attention.
                    let rest = &self.bytes[self.pos..];
                    self.pos += rest
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                        .unwrap_or(rest.len());
                }
            }
        }
    }

    /// The character of a `\uXXXX` escape (after the `u`), combining a
    /// surrogate pair. A lone surrogate cannot be held in UTF-8; Java would
    /// encode it as '?', sluice uses U+FFFD.
    fn unicode_escape(&mut self) -> PResult<char> {
        let first = self.hex4()?;
        if !(0xD800..0xDC00).contains(&first) {
            return Ok(char::from_u32(first).unwrap_or('\u{FFFD}'));
        }
        if self.bytes[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        Ok('\u{FFFD}')
    }

    fn hex4(&mut self) -> PResult<u32> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("truncated \\u escape"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid hex digit in \\u escape"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Json<'_> {
        parse_document(s).unwrap().unwrap()
    }

    #[test]
    fn parses_values() {
        assert_eq!(parse(" null "), Json::Null);
        assert_eq!(parse("0012"), Json::Number("0012"));
        assert_eq!(parse("-1.50e+3"), Json::Number("-1.50e+3"));
        assert_eq!(
            parse(r#""a\"\u00e9\ud83d\ude00""#),
            Json::String(Cow::Owned("a\"é😀".into()))
        );
        assert_eq!(parse(r#""plain""#), Json::String(Cow::Borrowed("plain")));
        let obj = parse(r#"{"a":1,"b":[true,false],"a":2}"#);
        assert_eq!(obj.get("a"), Some(&Json::Number("2")));
        assert_eq!(obj.get("b").unwrap().node_type(), "ARRAY");
        assert!(parse_document("   ").unwrap().is_none());
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "{",
            "[1,]",
            "01.",
            ".5",
            "+1",
            "\"\u{1}\"",
            "tru",
            "{\"a\" 1}",
            "1 2",
            "\"\\x\"",
            "NaN",
        ] {
            assert!(parse_document(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(2000) + &"]".repeat(2000);
        let err = parse_document(&deep).unwrap_err();
        assert!(err.message.contains("nesting"), "{err}");
    }

    #[test]
    fn scans_top_level_spans() {
        let text = r#" {"schema": {"type":"int32"}, "payload" : 12 } "#;
        let TopLevel::Object(members) = scan_top_level(text).unwrap() else {
            panic!()
        };
        assert_eq!(members.len(), 2);
        assert_eq!(&text[members[0].1.clone()], r#"{"type":"int32"}"#);
        assert_eq!(&text[members[1].1.clone()], "12");
        assert!(matches!(
            scan_top_level("[1]").unwrap(),
            TopLevel::NotObject
        ));
        assert!(matches!(scan_top_level("").unwrap(), TopLevel::Missing));
        // Skipped members are still validated.
        for bad in [
            r#"{"schema":{"a":"\x"},"payload":1}"#,
            r#"{"schema":[1,],"payload":1}"#,
            r#"{"schema":{"a" 1}}"#,
        ] {
            assert!(scan_top_level(bad).is_err(), "{bad}");
        }
        let deep = format!("{{\"schema\":{}{}}}", "[".repeat(1500), "]".repeat(1500));
        assert!(scan_top_level(&deep)
            .unwrap_err()
            .message
            .contains("nesting"));
        let TopLevel::Object(members) = scan_top_level(r#"{"k\u00e9y":"v\n"}"#).unwrap() else {
            panic!()
        };
        assert_eq!(members[0].0, "k\u{e9}y");
    }
}
