//! Text formats: array literals, `hstore`, `bytea`, and the bits of Java
//! behaviour Debezium's output depends on (HashMap iteration order, Jackson's
//! JSON escaping, `Double.toString`, `UUID.nameUUIDFromBytes`).

use std::borrow::Cow;

/// One element of an array literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArrayElem<'a> {
    Null,
    Text(Cow<'a, [u8]>),
    /// A nested array (multi-dimensional arrays).
    Nested,
}

/// Parses the outer level of an array literal like pgjdbc's
/// `ArrayDecoding.buildArrayList`: optional `[l:u]=` bounds, `"`-quoted
/// elements with `\` escapes, unquoted `NULL`, whitespace outside quotes
/// ignored. Sub-arrays are reported as [`ArrayElem::Nested`].
pub(crate) fn parse_array(text: &[u8], delim: u8) -> Result<Vec<ArrayElem<'_>>, &'static str> {
    let mut i = 0;
    if text.first() == Some(&b'[') {
        i = text
            .iter()
            .position(|&c| c == b'=')
            .ok_or("array bounds without '='")?
            + 1;
    }
    while i < text.len() && is_array_space(text[i]) {
        i += 1;
    }
    if text.get(i) != Some(&b'{') {
        return Err("array literal must start with '{'");
    }
    i += 1;
    let mut out = Vec::new();
    loop {
        while i < text.len() && is_array_space(text[i]) {
            i += 1;
        }
        match text.get(i) {
            None => return Err("unterminated array literal"),
            Some(b'}') if out.is_empty() => {
                i += 1;
                break;
            }
            Some(b'{') => {
                // Skip the nested array.
                let mut depth = 0usize;
                let mut quoted = false;
                while i < text.len() {
                    let c = text[i];
                    if quoted {
                        if c == b'\\' {
                            i += 1;
                        } else if c == b'"' {
                            quoted = false;
                        }
                    } else if c == b'"' {
                        quoted = true;
                    } else if c == b'{' {
                        depth += 1;
                    } else if c == b'}' {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    i += 1;
                }
                if depth != 0 {
                    return Err("unterminated nested array");
                }
                out.push(ArrayElem::Nested);
            }
            Some(b'"') => {
                i += 1;
                let start = i;
                let mut owned: Option<Vec<u8>> = None;
                loop {
                    match text.get(i) {
                        None => return Err("unterminated quoted array element"),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            let buf = owned.get_or_insert_with(|| text[start..i].to_vec());
                            i += 1;
                            match text.get(i) {
                                Some(&c) => buf.push(c),
                                None => return Err("unterminated escape in array element"),
                            }
                        }
                        Some(&c) => {
                            if let Some(buf) = owned.as_mut() {
                                buf.push(c);
                            }
                        }
                    }
                    i += 1;
                }
                let elem = match owned {
                    Some(v) => Cow::Owned(v),
                    None => Cow::Borrowed(&text[start..i]),
                };
                i += 1; // closing quote
                out.push(ArrayElem::Text(elem));
            }
            Some(_) => {
                let start = i;
                let mut owned: Option<Vec<u8>> = None;
                while i < text.len() && text[i] != delim && text[i] != b'}' {
                    if text[i] == b'\\' {
                        let buf = owned.get_or_insert_with(|| text[start..i].to_vec());
                        i += 1;
                        if let Some(&c) = text.get(i) {
                            buf.push(c);
                        }
                    } else if let Some(buf) = owned.as_mut() {
                        buf.push(text[i]);
                    }
                    i += 1;
                }
                let raw: Cow<'_, [u8]> = match owned {
                    Some(v) => Cow::Owned(trim_array_space_owned(v)),
                    None => Cow::Borrowed(trim_array_space(&text[start..i])),
                };
                if raw.as_ref() == b"NULL" {
                    out.push(ArrayElem::Null);
                } else {
                    out.push(ArrayElem::Text(raw));
                }
            }
        }
        while i < text.len() && is_array_space(text[i]) {
            i += 1;
        }
        match text.get(i) {
            Some(&c) if c == delim => i += 1,
            Some(b'}') => {
                i += 1;
                break;
            }
            _ => return Err("expected a delimiter or '}' in array literal"),
        }
    }
    if text[i..].iter().any(|&c| !is_array_space(c)) {
        return Err("unexpected text after array literal");
    }
    Ok(out)
}

fn is_array_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn trim_array_space(mut s: &[u8]) -> &[u8] {
    while let [c, rest @ ..] = s {
        if is_array_space(*c) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., c] = s {
        if is_array_space(*c) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn trim_array_space_owned(v: Vec<u8>) -> Vec<u8> {
    trim_array_space(&v).to_vec()
}

/// `HStoreConverter.fromString`: `"k"=>"v", "k2"=>NULL`, in text order.
pub(crate) fn parse_hstore(text: &str) -> Result<Vec<(String, Option<String>)>, &'static str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let Some(start) = b[pos..].iter().position(|&c| c == b'"').map(|p| p + pos) else {
            // Only trailing separators/whitespace left.
            if b[pos..]
                .iter()
                .all(|c| c.is_ascii_whitespace() || *c == b',')
            {
                break;
            }
            return Err("expected a quoted hstore key");
        };
        let (key, end) = hstore_quoted(b, start)?;
        pos = end + 1;
        // "=>"
        while pos < b.len() && b[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if !b[pos..].starts_with(b"=>") {
            return Err("expected '=>' in hstore");
        }
        pos += 2;
        while pos < b.len() && b[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let value = if b[pos..].starts_with(b"NULL") {
            pos += 4;
            None
        } else if b.get(pos) == Some(&b'"') {
            let (v, end) = hstore_quoted(b, pos)?;
            pos = end + 1;
            Some(v)
        } else {
            return Err("expected a quoted hstore value or NULL");
        };
        out.push((key, value));
    }
    Ok(out)
}

/// A `"`-quoted hstore string starting at `start`; returns it unescaped and
/// the index of the closing quote.
fn hstore_quoted(b: &[u8], start: usize) -> Result<(String, usize), &'static str> {
    let mut buf = Vec::new();
    let mut i = start + 1;
    loop {
        match b.get(i) {
            None => return Err("unterminated hstore string"),
            Some(b'"') => break,
            Some(b'\\') => {
                i += 1;
                buf.push(*b.get(i).ok_or("unterminated hstore escape")?);
            }
            Some(&c) => buf.push(c),
        }
        i += 1;
    }
    let s = String::from_utf8(buf).map_err(|_| "invalid UTF-8 in hstore")?;
    Ok((s, i))
}

/// Java's `String.hashCode()` (over UTF-16 code units).
pub(crate) fn java_string_hash(s: &str) -> i32 {
    let mut h: i32 = 0;
    for unit in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(unit));
    }
    h
}

/// The order in which a `java.util.HashMap` filled with `keys` (in this
/// order, all distinct) iterates: bucket by bucket, insertion order within a
/// bucket, with the table grown as Java grows it (load factor 0.75, and a
/// resize instead of treeifying while the table is smaller than 64). Returns
/// indices into `keys`. (Tree bins of tables of 64 buckets or more keep
/// insertion order here, which Java's may not.)
pub(crate) fn java_hashmap_order(keys: &[&str]) -> Vec<usize> {
    let hashes: Vec<u32> = keys
        .iter()
        .map(|k| {
            let h = java_string_hash(k) as u32;
            h ^ (h >> 16)
        })
        .collect();
    let mut cap: usize = 16;
    let mut counts = vec![0usize; cap];
    for (n, &h) in hashes.iter().enumerate() {
        let bucket = h as usize & (cap - 1);
        let before = counts[bucket];
        counts[bucket] += 1;
        let size = n + 1;
        // A bin reaching 9 nodes: treeifyBin resizes while the table is small.
        if before >= 8 && cap < 64 {
            cap *= 2;
            recount(&mut counts, &hashes[..size], cap);
        }
        // ++size > threshold (0.75 × capacity)
        if size > cap * 3 / 4 {
            cap *= 2;
            recount(&mut counts, &hashes[..size], cap);
        }
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| hashes[i] as usize & (cap - 1));
    order
}

fn recount(counts: &mut Vec<usize>, hashes: &[u32], cap: usize) {
    counts.clear();
    counts.resize(cap, 0);
    for &h in hashes {
        counts[h as usize & (cap - 1)] += 1;
    }
}

/// Appends `s` as a JSON string the way Jackson's generator escapes it:
/// `"` and `\`, `\b \t \n \f \r`, other control characters as `\u00XX`
/// (upper-case hex); everything else verbatim.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `bytea` text output: `\x` hex (the default `bytea_output`), or the
/// `escape` format.
pub(crate) fn decode_bytea(text: &[u8]) -> Result<Vec<u8>, &'static str> {
    if let Some(hex) = text.strip_prefix(b"\\x") {
        if hex.len() % 2 != 0 {
            return Err("odd number of hex digits in bytea");
        }
        let mut out = Vec::with_capacity(hex.len() / 2);
        for pair in hex.chunks_exact(2) {
            let hi = hex_val(pair[0]).ok_or("invalid hex digit in bytea")?;
            let lo = hex_val(pair[1]).ok_or("invalid hex digit in bytea")?;
            out.push((hi << 4) | lo);
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\\' {
            if text.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
            } else if i + 4 <= text.len()
                && text[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
            {
                let v = (u32::from(text[i + 1] - b'0') << 6)
                    | (u32::from(text[i + 2] - b'0') << 3)
                    | u32::from(text[i + 3] - b'0');
                out.push(u8::try_from(v).map_err(|_| "invalid octal escape in bytea")?);
                i += 4;
            } else {
                return Err("invalid escape in bytea");
            }
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex (Debezium's `HexConverter.convertToHexString`).
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0xf)] as char);
    }
    s
}

/// Java's `Double.toString(double)` (JDK 19+: the shortest decimal that
/// rounds to the value; plain notation for 1e-3 ≤ |d| < 1e7, else
/// `d.dddE±n`; always at least one fraction digit).
pub(crate) fn java_double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{:e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if d < 0.0 {
        out.push('-');
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

/// MD5 (RFC 1321), for `UUID.nameUUIDFromBytes`.
pub(crate) fn md5(input: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    // K[i] = floor(abs(sin(i + 1)) * 2^32)
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut a0: u32 = 0x6745_2301;
    let mut b0: u32 = 0xefcd_ab89;
    let mut c0: u32 = 0x98ba_dcfe;
    let mut d0: u32 = 0x1032_5476;
    let mut msg = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in msg.chunks_exact(64) {
        let m: Vec<u32> = chunk
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&a0.to_le_bytes());
    out[4..8].copy_from_slice(&b0.to_le_bytes());
    out[8..12].copy_from_slice(&c0.to_le_bytes());
    out[12..].copy_from_slice(&d0.to_le_bytes());
    out
}

/// Java's `UUID.nameUUIDFromBytes(bytes).toString()` (version 3).
pub(crate) fn name_uuid_from_bytes(bytes: &[u8]) -> String {
    let mut h = md5(bytes);
    h[6] = (h[6] & 0x0f) | 0x30;
    h[8] = (h[8] & 0x3f) | 0x80;
    let hex = to_hex(&h);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Splits on `delim` outside `()[]{}<>` nesting, like pgjdbc's `PGtokenizer`.
fn tokenize(s: &str, delim: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            c if c == delim && depth == 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn strip_pair(s: &str, open: char, close: char) -> &str {
    let s = s.strip_prefix(open).unwrap_or(s);
    s.strip_suffix(close).unwrap_or(s)
}

fn java_parse_double(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ if t
            .bytes()
            .any(|c| c.is_ascii_alphabetic() && c != b'e' && c != b'E') =>
        {
            None
        }
        _ => t.parse().ok(),
    }
}

/// pgjdbc's `PGpoint`: `(x,y)`.
pub(crate) fn parse_point(s: &str) -> Option<(f64, f64)> {
    let inner = strip_pair(s.trim(), '(', ')');
    let parts = tokenize(inner, ',');
    if parts.len() < 2 {
        return None;
    }
    Some((java_parse_double(parts[0])?, java_parse_double(parts[1])?))
}

fn point_string(p: (f64, f64)) -> String {
    format!(
        "({},{})",
        java_double_to_string(p.0),
        java_double_to_string(p.1)
    )
}

/// The geometric types whose values Debezium passes through pgjdbc's
/// `PGobject` classes before rendering them back to text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Geometric {
    Box,
    Circle,
    Line,
    Lseg,
    Path,
    Polygon,
}

/// `PGbox`/`PGcircle`/… `getValue()` of the parsed text: Java's rendering of
/// the coordinates (`(1.0,2.0)` for `(1,2)`). `None` if pgjdbc would fail to
/// parse it.
pub(crate) fn pgjdbc_geometric_text(kind: Geometric, s: &str) -> Option<String> {
    match kind {
        Geometric::Box => {
            let parts = tokenize(s, ',');
            if parts.len() != 2 {
                return None;
            }
            Some(format!(
                "{},{}",
                point_string(parse_point(parts[0])?),
                point_string(parse_point(parts[1])?)
            ))
        }
        Geometric::Circle => {
            let parts = tokenize(strip_pair(s, '<', '>'), ',');
            if parts.len() != 2 {
                return None;
            }
            Some(format!(
                "<{},{}>",
                point_string(parse_point(parts[0])?),
                java_double_to_string(java_parse_double(parts[1])?)
            ))
        }
        Geometric::Line => {
            let t = s.trim();
            let (a, b, c) = if t.starts_with('{') {
                let parts = tokenize(strip_pair(s, '{', '}'), ',');
                if parts.len() != 3 {
                    return None;
                }
                (
                    java_parse_double(parts[0])?,
                    java_parse_double(parts[1])?,
                    java_parse_double(parts[2])?,
                )
            } else if t.starts_with('[') {
                let parts = tokenize(strip_pair(s, '[', ']'), ',');
                if parts.len() != 2 {
                    return None;
                }
                let p1 = parse_point(parts[0])?;
                let p2 = parse_point(parts[1])?;
                (p2.0 - p1.0, p2.1 - p1.1, p1.1)
            } else {
                return None;
            };
            Some(format!(
                "{{{},{},{}}}",
                java_double_to_string(a),
                java_double_to_string(b),
                java_double_to_string(c)
            ))
        }
        Geometric::Lseg => {
            let parts = tokenize(strip_pair(s, '[', ']'), ',');
            if parts.len() != 2 {
                return None;
            }
            Some(format!(
                "[{},{}]",
                point_string(parse_point(parts[0])?),
                point_string(parse_point(parts[1])?)
            ))
        }
        Geometric::Path | Geometric::Polygon => {
            let (open, inner) = if kind == Geometric::Path && s.starts_with('[') && s.ends_with(']')
            {
                (true, strip_pair(s, '[', ']'))
            } else if (s.starts_with('(') && s.ends_with(')')) || kind == Geometric::Polygon {
                (false, strip_pair(s, '(', ')'))
            } else {
                return None;
            };
            let mut out = String::from(if open { "[" } else { "(" });
            for (i, p) in tokenize(inner, ',').into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&point_string(parse_point(p)?));
            }
            out.push(if open { ']' } else { ')' });
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(v: &'a [ArrayElem<'a>]) -> Vec<Option<&'a [u8]>> {
        v.iter()
            .map(|e| match e {
                ArrayElem::Text(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn parses_array_literals() {
        let v = parse_array(br#"{1,2,NULL,"NULL","a b","x\"y\\z"}"#, b',').unwrap();
        assert_eq!(
            texts(&v),
            vec![
                Some(&b"1"[..]),
                Some(b"2"),
                None,
                Some(b"NULL"),
                Some(b"a b"),
                Some(br#"x"y\z"#)
            ]
        );
        assert_eq!(v[2], ArrayElem::Null);
        assert!(parse_array(b"{}", b',').unwrap().is_empty());
        assert_eq!(parse_array(b"[0:1]={7,8}", b',').unwrap().len(), 2);
        let nested = parse_array(b"{{1,2},{3,4}}", b',').unwrap();
        assert_eq!(nested, vec![ArrayElem::Nested, ArrayElem::Nested]);
        let boxes = parse_array(b"{(3,4),(1,2);(1,1),(0,0)}", b';').unwrap();
        assert_eq!(
            texts(&boxes),
            vec![Some(&b"(3,4),(1,2)"[..]), Some(b"(1,1),(0,0)")]
        );
        assert!(parse_array(b"{1,2", b',').is_err());
        assert!(parse_array(b"1,2", b',').is_err());
    }

    #[test]
    fn parses_hstore() {
        let v = parse_hstore(r#""key_#1"=>"val 1", "key 2"=>" ##123 78", "n"=>NULL, "q\""=>"\\""#)
            .unwrap();
        assert_eq!(
            v,
            vec![
                ("key_#1".to_string(), Some("val 1".to_string())),
                ("key 2".to_string(), Some(" ##123 78".to_string())),
                ("n".to_string(), None),
                ("q\"".to_string(), Some("\\".to_string())),
            ]
        );
        assert!(parse_hstore("").unwrap().is_empty());
    }

    #[test]
    fn java_hash_order_matches_debezium_test_expectation() {
        // AbstractRecordsProducerTest expects {"key5":null,"key4":"val4"}.
        let keys = ["key4", "key5"];
        let order = java_hashmap_order(&keys);
        assert_eq!(order, vec![1, 0]);
        assert_eq!(java_string_hash("key4"), 3_288_501);
    }

    #[test]
    fn java_doubles() {
        assert_eq!(java_double_to_string(10.0), "10.0");
        assert_eq!(java_double_to_string(1.5), "1.5");
        assert_eq!(java_double_to_string(-0.001), "-0.001");
        assert_eq!(java_double_to_string(0.0001), "1.0E-4");
        assert_eq!(java_double_to_string(1e7), "1.0E7");
        assert_eq!(java_double_to_string(1234567.0), "1234567.0");
        assert_eq!(java_double_to_string(1.2345e10), "1.2345E10");
    }

    #[test]
    fn md5_and_name_uuid() {
        assert_eq!(to_hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            to_hex(&md5(b"The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        // DecoderDifferences.TOASTED_VALUE_UUID_STRING in Debezium's tests.
        assert_eq!(
            name_uuid_from_bytes(b"__debezium_unavailable_value"),
            "b68a35a7-17ad-35b3-af2a-ae46edb4545a"
        );
    }

    #[test]
    fn bytea_formats() {
        assert_eq!(decode_bytea(b"\\x0102ff").unwrap(), vec![1, 2, 255]);
        assert_eq!(decode_bytea(b"a\\\\b\\001").unwrap(), b"a\\b\x01".to_vec());
        assert!(decode_bytea(b"\\x0").is_err());
    }

    #[test]
    fn geometric_rendering_like_pgjdbc() {
        assert_eq!(
            pgjdbc_geometric_text(Geometric::Circle, "<(10,20),10>").unwrap(),
            "<(10.0,20.0),10.0>"
        );
        assert_eq!(
            pgjdbc_geometric_text(Geometric::Box, "(3,4),(1,2)").unwrap(),
            "(3.0,4.0),(1.0,2.0)"
        );
        assert_eq!(
            pgjdbc_geometric_text(Geometric::Path, "[(1,2),(3,4)]").unwrap(),
            "[(1.0,2.0),(3.0,4.0)]"
        );
        assert_eq!(
            pgjdbc_geometric_text(Geometric::Line, "{1,-1,0}").unwrap(),
            "{1.0,-1.0,0.0}"
        );
    }
}
