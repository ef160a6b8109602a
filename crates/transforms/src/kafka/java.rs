//! The few pieces of Java's standard library whose exact behaviour Kafka's
//! transforms expose: `Pattern.matches` / `Matcher.replaceFirst` with Java's
//! replacement syntax, `Float.toString` / `Double.toString`,
//! `BigDecimal.toString`, `Double.parseDouble`, and the scalar part of
//! Connect's `Values.parseString` and `Values.dateFormatFor`.

use num_bigint::BigInt;
use regex::Regex;
use sluice_connect_api::data::logical;
use sluice_connect_api::{Decimal, SchemaBuilder, SchemaRef, Value};

use super::datefmt::{JavaDateFormat, MILLIS_PER_DAY};

/// A regular expression used the way Kafka uses `java.util.regex.Pattern`:
/// `matches()` (the whole input) and `replaceFirst()`.
///
/// Java's lookaround, backreferences and possessive quantifiers are not
/// supported (compiling such a pattern is a configuration error).
#[derive(Debug, Clone)]
pub struct JavaRegex {
    find: Regex,
    full: Regex,
}

/// The one-line reason from a `regex` crate error.
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map(str::to_string)
        .unwrap_or_else(|| text.replace('\n', " "))
}

impl JavaRegex {
    pub fn compile(pattern: &str) -> Result<JavaRegex, String> {
        let find = Regex::new(pattern).map_err(|e| regex_error(&e))?;
        let full = Regex::new(&format!(r"\A(?:{pattern})\z")).map_err(|e| regex_error(&e))?;
        Ok(JavaRegex { find, full })
    }

    /// `Matcher.matches()`: the whole input matches.
    pub fn matches(&self, text: &str) -> bool {
        self.full.is_match(text)
    }

    pub fn as_str(&self) -> &str {
        self.find.as_str()
    }

    /// Translates a Java replacement string (`$1`, `${name}`, `\$`) into a
    /// template for [`JavaRegex::replace_first`], with Java's rules for
    /// multi-digit group numbers and Java's error messages.
    pub fn replacement(&self, java: &str) -> Result<Replacement, String> {
        let group_count = self.find.captures_len() - 1;
        let names: Vec<&str> = self.find.capture_names().flatten().collect();
        let chars: Vec<char> = java.chars().collect();
        let mut out = String::with_capacity(java.len() + 4);
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '\\' => {
                    i += 1;
                    let Some(&escaped) = chars.get(i) else {
                        return Err("character to be escaped is missing".into());
                    };
                    if escaped == '$' {
                        out.push_str("$$");
                    } else {
                        out.push(escaped);
                    }
                    i += 1;
                }
                '$' => {
                    i += 1;
                    let Some(&next) = chars.get(i) else {
                        return Err("Illegal group reference: group index is missing".into());
                    };
                    if next == '{' {
                        i += 1;
                        let start = i;
                        while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                            i += 1;
                        }
                        if i == start {
                            return Err("named capturing group has 0 length name".into());
                        }
                        if chars.get(i) != Some(&'}') {
                            return Err("named capturing group is missing trailing '}'".into());
                        }
                        let name: String = chars[start..i].iter().collect();
                        i += 1;
                        if !names.contains(&name.as_str()) {
                            return Err(format!("No group with name {{{name}}}"));
                        }
                        out.push_str("${");
                        out.push_str(&name);
                        out.push('}');
                    } else {
                        let Some(first) = next.to_digit(10) else {
                            return Err("Illegal group reference".into());
                        };
                        let mut group = first as usize;
                        i += 1;
                        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                            let longer = group * 10 + d as usize;
                            if longer > group_count {
                                break;
                            }
                            group = longer;
                            i += 1;
                        }
                        if group > group_count {
                            return Err(format!("No group {group}"));
                        }
                        out.push_str(&format!("${{{group}}}"));
                    }
                }
                other => {
                    out.push(other);
                    i += 1;
                }
            }
        }
        Ok(Replacement(out))
    }

    /// `Matcher.replaceFirst(replacement)`.
    pub fn replace_first(&self, text: &str, replacement: &Replacement) -> String {
        self.find
            .replacen(text, 1, replacement.0.as_str())
            .into_owned()
    }
}

/// A replacement translated by [`JavaRegex::replacement`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement(String);

/// Java's `Double.toString`.
pub fn double_to_string(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_float_text(&format!("{v:e}"), v == 0.0, v.is_sign_negative())
}

/// Java's `Float.toString`.
pub fn float_to_string(v: f32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_float_text(&format!("{v:e}"), v == 0.0, v.is_sign_negative())
}

/// Renders the shortest digits (`d.ddde±x` from Rust's `{:e}`) the way
/// Java's `FloatingDecimal` does: plain for 10^-3 <= |v| < 10^7 with at
/// least one fractional digit, otherwise `d.dddE±x`.
fn java_float_text(sci: &str, zero: bool, negative: bool) -> String {
    let sign = if negative { "-" } else { "" };
    if zero {
        return format!("{sign}0.0");
    }
    let sci = sci.trim_start_matches('-');
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if (-3..7).contains(&exp) {
        let mut out = String::from(sign);
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(digits);
        }
        out
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exp}")
    }
}

/// Java's `BigDecimal.toString()` (scientific notation when the scale is
/// negative or the adjusted exponent is below -6).
pub fn big_decimal_to_string(d: &Decimal) -> String {
    let digits = d.unscaled.magnitude().to_string();
    let negative = d.unscaled.sign() == num_bigint::Sign::Minus;
    let adjusted = -(d.scale as i64) + (digits.len() as i64 - 1);
    if d.scale >= 0 && adjusted >= -6 {
        return d.to_plain_string();
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('E');
    if adjusted > 0 {
        out.push('+');
    }
    out.push_str(&adjusted.to_string());
    out
}

/// Java's `Double.parseDouble` for decimal text (surrounding whitespace,
/// an optional `f`/`d` suffix, `NaN`, `Infinity`); `None` is a
/// `NumberFormatException`.
pub fn parse_double(text: &str) -> Option<f64> {
    let t = text.trim_matches(|c: char| c <= ' ');
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let v = match body {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        _ => {
            let body = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
            if !is_decimal_literal(body) {
                return None;
            }
            body.parse::<f64>().ok()?
        }
    };
    Some(if negative { -v } else { v })
}

/// `digits[.digits][e[+-]digits]` or `.digits[...]`, at least one digit in
/// the mantissa.
fn is_decimal_literal(s: &str) -> bool {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits_ok(int) || !digits_ok(frac) {
        return false;
    }
    match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits_ok(e)
        }
    }
}

/// `BigDecimal.longValue()`: the integer part, truncated toward zero, then
/// its low 64 bits.
pub fn decimal_to_i64_wrapping(d: &Decimal) -> i64 {
    let int = decimal_integer_part(d);
    let bytes = int.to_signed_bytes_le();
    let mut buf = [if int.sign() == num_bigint::Sign::Minus {
        0xff
    } else {
        0
    }; 8];
    for (i, b) in bytes.iter().take(8).enumerate() {
        buf[i] = *b;
    }
    i64::from_le_bytes(buf)
}

/// The integer part of a decimal, truncated toward zero.
pub fn decimal_integer_part(d: &Decimal) -> BigInt {
    if d.scale <= 0 {
        d.unscaled.clone() * BigInt::from(10).pow((-(d.scale as i64)) as u32)
    } else {
        d.unscaled.clone() / BigInt::from(10).pow(d.scale as u32)
    }
}

/// `BigDecimal.doubleValue()`.
pub fn decimal_to_f64(d: &Decimal) -> f64 {
    big_decimal_to_string(d).parse().unwrap_or(f64::NAN)
}

/// `BigDecimal.floatValue()`.
pub fn decimal_to_f32(d: &Decimal) -> f32 {
    big_decimal_to_string(d).parse().unwrap_or(f32::NAN)
}

/// Connect's `Values.dateFormatFor(date).format(date)` (in UTC): a time of
/// day for instants before 1970-01-02, a date for midnights, otherwise a
/// timestamp.
pub fn format_date_value(millis: i64) -> String {
    let pattern = if millis < MILLIS_PER_DAY {
        "HH:mm:ss.SSS'Z'"
    } else if millis % MILLIS_PER_DAY == 0 {
        "yyyy-MM-dd"
    } else {
        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
    };
    JavaDateFormat::compile(pattern)
        .expect("built-in pattern")
        .format(millis)
}

/// Connect's `Values.parseString` for scalars: `null`, `true`/`false`, the
/// smallest integer type that holds an integral number, `float32` /
/// `float64` / Decimal for other numbers, ISO-8601 `Date`, `Time` and
/// `Timestamp` literals, and otherwise the string itself. (Kafka also parses
/// `[…]` arrays and `{…}` maps; those stay strings here.)
pub fn parse_literal(text: &str) -> (Option<SchemaRef>, Value) {
    let string = || {
        (
            Some(SchemaBuilder::string().build()),
            Value::String(text.into()),
        )
    };
    if text.is_empty() {
        return string();
    }
    let token = text.trim();
    match token {
        "null" => return (None, Value::Null),
        "true" => return (Some(SchemaBuilder::boolean().build()), Value::Boolean(true)),
        "false" => {
            return (
                Some(SchemaBuilder::boolean().build()),
                Value::Boolean(false),
            )
        }
        _ => {}
    }
    let Some(first) = token.chars().next() else {
        return string();
    };
    if first.is_ascii_digit() {
        if let Some(temporal) = parse_temporal(token) {
            return temporal;
        }
    }
    if first.is_ascii_digit() || first == '+' || first == '-' {
        if let Some(number) = parse_number(token) {
            return number;
        }
    }
    string()
}

fn parse_temporal(token: &str) -> Option<(Option<SchemaRef>, Value)> {
    let (pattern, kind) = match token.chars().count() {
        13 => ("HH:mm:ss.SSS'Z'", logical::TIME),
        24 => ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", logical::TIMESTAMP),
        10 => ("yyyy-MM-dd", logical::DATE),
        _ => return None,
    };
    let millis = JavaDateFormat::compile(pattern).ok()?.parse(token).ok()?;
    Some(match kind {
        logical::TIME => (
            Some(logical::time().build()),
            Value::Int32(millis.rem_euclid(MILLIS_PER_DAY) as i32),
        ),
        logical::DATE => (
            Some(logical::date().build()),
            Value::Int32(millis.div_euclid(MILLIS_PER_DAY) as i32),
        ),
        _ => (Some(logical::timestamp().build()), Value::Int64(millis)),
    })
}

fn parse_number(token: &str) -> Option<(Option<SchemaRef>, Value)> {
    let d = Decimal::parse(token)?;
    let ten = BigInt::from(10);
    let integral = if d.scale <= 0 {
        Some(d.unscaled.clone() * ten.pow((-(d.scale as i64)) as u32))
    } else {
        let divisor = ten.pow(d.scale as u32);
        let zero = BigInt::from(0);
        (d.unscaled.clone() % &divisor == zero).then(|| d.unscaled.clone() / divisor)
    };
    if let Some(n) = integral {
        if let Ok(v) = i64::try_from(&n) {
            return Some(if let Ok(v) = i8::try_from(v) {
                (Some(SchemaBuilder::int8().build()), Value::Int8(v))
            } else if let Ok(v) = i16::try_from(v) {
                (Some(SchemaBuilder::int16().build()), Value::Int16(v))
            } else if let Ok(v) = i32::try_from(v) {
                (Some(SchemaBuilder::int32().build()), Value::Int32(v))
            } else {
                (Some(SchemaBuilder::int64().build()), Value::Int64(v))
            });
        }
    }
    let f = decimal_to_f32(&d);
    if f.is_finite() && d.scale != 0 {
        return Some((Some(SchemaBuilder::float32().build()), Value::Float32(f)));
    }
    let f = decimal_to_f64(&d);
    if f.is_finite() && d.scale != 0 {
        return Some((Some(SchemaBuilder::float64().build()), Value::Float64(f)));
    }
    let scale = d.scale;
    Some((Some(logical::decimal(scale).build()), Value::Decimal(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(regex: &str, replacement: &str, topic: &str) -> String {
        let r = JavaRegex::compile(regex).unwrap();
        let rep = r.replacement(replacement).unwrap();
        if r.matches(topic) {
            r.replace_first(topic, &rep)
        } else {
            topic.to_string()
        }
    }

    #[test]
    fn regex_matches_whole_input_and_replaces_first_like_java() {
        assert_eq!(replace("foo", "bar", "foo"), "bar");
        assert_eq!(replace("foo", "bar", "foofoo"), "foofoo");
        assert_eq!(replace("(.*)", "prefix-$1", "orig"), "prefix-orig");
        assert_eq!(replace("(.*)-(\\d\\d)", "$1", "index-20"), "index");
        // Java reads "$1a" as group 1 then 'a'; "$12" as group 1 then '2'
        // when there is no group 12.
        assert_eq!(replace("(a)(b)", "$1x$12", "ab"), "axa2");
        assert_eq!(replace("(a)", "\\$1 \\\\ $1", "a"), "$1 \\ a");
        assert_eq!(replace("(?<n>a)b", "${n}!", "ab"), "a!");
        // leftmost-first, as Java's find() after a successful matches()
        assert_eq!(replace("a|ab", "X", "ab"), "Xb");
        let r = JavaRegex::compile("(a)").unwrap();
        assert_eq!(r.replacement("$2").unwrap_err(), "No group 2");
        assert_eq!(
            r.replacement("x$").unwrap_err(),
            "Illegal group reference: group index is missing"
        );
        assert_eq!(r.replacement("$x").unwrap_err(), "Illegal group reference");
        assert_eq!(
            r.replacement("${zz}").unwrap_err(),
            "No group with name {zz}"
        );
        assert_eq!(
            JavaRegex::compile("[").unwrap_err(),
            "unclosed character class"
        );
    }

    #[test]
    fn floats_render_like_java() {
        assert_eq!(double_to_string(42.0), "42.0");
        assert_eq!(double_to_string(-64.5), "-64.5");
        assert_eq!(double_to_string(1.0e7), "1.0E7");
        assert_eq!(
            double_to_string(9.223372036854776E18),
            "9.223372036854776E18"
        );
        assert_eq!(double_to_string(0.001), "0.001");
        assert_eq!(double_to_string(0.0001), "1.0E-4");
        assert_eq!(double_to_string(1234567.0), "1234567.0");
        assert_eq!(double_to_string(0.0), "0.0");
        assert_eq!(double_to_string(-0.0), "-0.0");
        assert_eq!(double_to_string(f64::NAN), "NaN");
        assert_eq!(float_to_string(32.0), "32.0");
        assert_eq!(float_to_string(0.1), "0.1");
        assert_eq!(float_to_string(1.5e-5), "1.5E-5");
        assert_eq!(float_to_string(f32::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn big_decimals_render_like_java() {
        assert_eq!(big_decimal_to_string(&Decimal::new(42, 0)), "42");
        assert_eq!(big_decimal_to_string(&Decimal::new(1230, 1)), "123.0");
        assert_eq!(big_decimal_to_string(&Decimal::new(1, -3)), "1E+3");
        assert_eq!(big_decimal_to_string(&Decimal::new(-12, 9)), "-1.2E-8");
        assert_eq!(big_decimal_to_string(&Decimal::new(1, 6)), "0.000001");
        assert_eq!(
            decimal_to_i64_wrapping(&Decimal::new(2_147_483_648i64, 0)) as i32,
            i32::MIN
        );
        assert_eq!(decimal_to_i64_wrapping(&Decimal::new(-1999, 3)), -1);
        assert_eq!(decimal_to_f64(&Decimal::new(15, 1)), 1.5);
    }

    #[test]
    fn parse_double_follows_java() {
        assert_eq!(parse_double(" 1.5 "), Some(1.5));
        assert_eq!(parse_double("2f"), Some(2.0));
        assert_eq!(parse_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double(".5e1"), Some(5.0));
        assert_eq!(parse_double("inf"), None);
        assert_eq!(parse_double("foo"), None);
        assert_eq!(parse_double(""), None);
    }

    #[test]
    fn literals_parse_like_values_parse_string() {
        assert_eq!(parse_literal("1").1, Value::Int8(1));
        assert_eq!(parse_literal("300").1, Value::Int16(300));
        assert_eq!(parse_literal("70000").1, Value::Int32(70000));
        assert_eq!(parse_literal("1.0").1, Value::Int8(1));
        assert_eq!(parse_literal("5000000000").1, Value::Int64(5_000_000_000));
        assert_eq!(parse_literal("1.5").1, Value::Float32(1.5));
        assert_eq!(parse_literal("true").1, Value::Boolean(true));
        assert_eq!(parse_literal("null"), (None, Value::Null));
        assert_eq!(
            parse_literal("inserted-value").1,
            Value::from("inserted-value")
        );
        assert_eq!(parse_literal("").1, Value::from(""));
        assert_eq!(parse_literal("1970-01-02").1, Value::Int32(1));
        assert_eq!(
            parse_literal("1970-01-02").0.unwrap().name.as_deref(),
            Some(logical::DATE)
        );
        assert_eq!(parse_literal("00:00:01.234Z").1, Value::Int32(1234));
        assert_eq!(
            parse_literal("1970-01-02T00:00:01.234Z").1,
            Value::Int64(86_401_234)
        );
        assert_eq!(parse_literal("12abc").1, Value::from("12abc"));
    }

    #[test]
    fn date_values_format_like_values_date_format_for() {
        assert_eq!(format_date_value(3_600_000), "01:00:00.000Z");
        assert_eq!(format_date_value(86_400_000), "1970-01-02");
        assert_eq!(format_date_value(86_400_001), "1970-01-02T00:00:00.001Z");
    }
}
