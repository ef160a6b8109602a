//! Java `.properties` files, as Kafka reads them (`java.util.Properties.load`).

use std::collections::BTreeMap;

/// Parses the text of a `.properties` file: `key=value`, `key: value` or
/// `key value`; `#` and `!` comments; backslash line continuations; the
/// escapes `\t \n \r \f \uXXXX` and `\<char>`. Later keys override earlier
/// ones. Returns an error naming the line for a malformed `\u` escape.
pub fn parse_properties(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((lineno, raw)) = lines.next() {
        let first = raw.trim_start_matches([' ', '\t', '\u{c}']);
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        // Join continuation lines: a line ending in an odd number of
        // backslashes continues on the next line (leading whitespace dropped).
        let mut logical = String::from(first);
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start_matches([' ', '\t', '\u{c}'])),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        let key = unescape(key).map_err(|e| format!("line {}: {e}", lineno + 1))?;
        let value = unescape(value).map_err(|e| format!("line {}: {e}", lineno + 1))?;
        out.insert(key, value);
    }
    Ok(out)
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => break,
            _ => i += 1,
        }
    }
    let key_end = i.min(bytes.len());
    let mut j = key_end;
    // Skip whitespace, then at most one separator, then whitespace.
    while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\x0c') {
        j += 1;
    }
    if j < bytes.len() && matches!(bytes[j], b'=' | b':') {
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\x0c') {
            j += 1;
        }
    }
    (&line[..key_end], &line[j..])
}

fn unescape(s: &str) -> Result<String, String> {
    if !s.contains('\\') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .map_err(|_| format!("malformed \\uxxxx escape \"\\u{hex}\""))?;
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_java_properties() {
        let text = "# comment\n! also\nbootstrap.servers=localhost:9092\nkey.converter : org.apache.kafka.connect.json.JsonConverter\nspaced value with spaces\n  cont = a,\\\n     b\npath=C:\\\\dir\\tx\nuni=\\u00e9t\\u00E9\nempty=\nkey\\=with\\:seps=1\n";
        let p = parse_properties(text).unwrap();
        assert_eq!(p["bootstrap.servers"], "localhost:9092");
        assert_eq!(
            p["key.converter"],
            "org.apache.kafka.connect.json.JsonConverter"
        );
        assert_eq!(p["spaced"], "value with spaces");
        assert_eq!(p["cont"], "a,b");
        assert_eq!(p["path"], "C:\\dir\tx");
        assert_eq!(p["uni"], "été");
        assert_eq!(p["empty"], "");
        assert_eq!(p["key=with:seps"], "1");
        assert_eq!(p.len(), 8);
    }

    #[test]
    fn bad_unicode_escape_names_the_line() {
        let err = parse_properties("a=1\nb=\\uZZ\n").unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
    }
}
