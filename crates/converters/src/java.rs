//! Number renderings that match the JVM's, written straight into a byte
//! buffer without heap allocation on the common paths.
//!
//! * [`push_double`] / [`push_float`]: `Double.toString` / `Float.toString`
//!   as specified since JDK 19 (the shortest decimal that rounds back to the
//!   same value; plain notation for magnitudes in `[1e-3, 1e7)`, otherwise
//!   computerized scientific notation such as `1.0E10`; always at least one
//!   digit after the point). Jackson's `JsonGenerator.writeNumber(double)`
//!   delegates to these, so they are also what Kafka's `JsonConverter`
//!   writes. Older JDKs (FloatingDecimal) occasionally printed one digit more
//!   than needed; sluice does not reproduce that bug.
//! * [`push_big_decimal`]: `BigDecimal.toString()` (scientific notation when
//!   the scale is negative or the adjusted exponent is below -6), which is
//!   what Jackson writes for a `DecimalNode` unless `WRITE_BIGDECIMAL_AS_PLAIN`
//!   is enabled — Kafka does not enable it.
//! * [`push_i64`]: plain decimal integers.

use std::fmt::{self, Write as _};

use num_bigint::Sign;
use sluice_connect_api::Decimal;

/// Writes `v` in decimal.
pub(crate) fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The number of decimal digits of `v` (1 for 0).
#[inline(always)]
fn decimal_digits(v: u64) -> usize {
    /// `POW10[t]` = 10^t.
    const POW10: [u64; 20] = {
        let mut p = [1u64; 20];
        let mut i = 1;
        while i < 20 {
            p[i] = p[i - 1] * 10;
            i += 1;
        }
        p
    };
    // floor(log10(v)) is t or t - 1, with t estimated from the bit length
    // (1233 / 4096 ≈ log10(2)).
    let bits = 64 - (v | 1).leading_zeros() as usize;
    let t = (bits * 1233) >> 12;
    t + 1 - usize::from((v | 1) < POW10[t])
}

/// Writes the four digits of `x` (< 10^4, zero-padded) at `buf[at..]`.
#[inline(always)]
fn put4(buf: &mut [u8; 20], at: usize, x: u32) {
    let (a, b) = ((x / 100) as usize * 2, (x % 100) as usize * 2);
    buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[a..a + 2]);
    buf[at + 2..at + 4].copy_from_slice(&DIGIT_PAIRS[b..b + 2]);
}

/// Writes the eight digits of `x` (< 10^8, zero-padded) at `buf[at..]`.
#[inline(always)]
fn put8(buf: &mut [u8; 20], at: usize, x: u32) {
    put4(buf, at, x / 10_000);
    put4(buf, at + 4, x % 10_000);
}

/// Writes `x` (< 10^8) without leading zeros at `buf[at..]`; returns the
/// number of digits.
#[inline(always)]
fn put_var(buf: &mut [u8; 20], at: usize, x: u32) -> usize {
    let n = decimal_digits(u64::from(x));
    let mut i = at + n;
    let mut v = x;
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        buf[i - 2..i].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        buf[i - 1] = b'0' + v as u8;
    }
    n
}

/// Writes `v` in decimal: at most two 64-bit divisions (into 8-digit
/// chunks), the rest in 32 bits two digits at a time; the digits go into a
/// fixed buffer appended with one fixed-size copy and the tail cut off.
fn push_u64(out: &mut Vec<u8>, v: u64) {
    const E8: u64 = 100_000_000;
    const E16: u64 = E8 * E8;
    let mut buf = [0u8; 20];
    let n = if v < E8 {
        put_var(&mut buf, 0, v as u32)
    } else if v < E16 {
        let k = put_var(&mut buf, 0, (v / E8) as u32);
        put8(&mut buf, k, (v % E8) as u32);
        k + 8
    } else {
        // At most 1844 above 10^16.
        let k = put_var(&mut buf, 0, (v / E16) as u32);
        let rest = v % E16;
        put8(&mut buf, k, (rest / E8) as u32);
        put8(&mut buf, k + 8, (rest % E8) as u32);
        k + 16
    };
    let end = out.len() + n;
    out.extend_from_slice(&buf);
    out.truncate(end);
}

/// Writes `v` in decimal.
fn push_u128(out: &mut Vec<u8>, mut v: u128) {
    if let Ok(small) = u64::try_from(v) {
        push_u64(out, small);
        return;
    }
    let mut buf = [0u8; 39];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// A fixed-size `fmt::Write` target for formatting one float.
struct StackBuf {
    buf: [u8; 48],
    len: usize,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf {
            buf: [0; 48],
            len: 0,
        }
    }
    fn as_str(&self) -> &str {
        // Only ASCII produced by the float formatter is ever written here.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Decimal digits (no leading zeros) and the exponent of the first digit:
/// value = d0.d1d2… × 10^exp.
struct SciDigits {
    negative: bool,
    digits: [u8; 40],
    len: usize,
    exp: i32,
}

/// Splits the output of `{:e}` / `{:.Ne}` (`-1.2345e-7`) into digits and
/// exponent.
fn split_sci(text: &str) -> SciDigits {
    let mut out = SciDigits {
        negative: false,
        digits: [0; 40],
        len: 0,
        exp: 0,
    };
    let mut rest = text;
    if let Some(r) = rest.strip_prefix('-') {
        out.negative = true;
        rest = r;
    }
    let (mantissa, exp) = rest.split_once('e').unwrap_or((rest, "0"));
    out.exp = exp.parse().unwrap_or(0);
    for b in mantissa.bytes().filter(u8::is_ascii_digit) {
        if out.len < out.digits.len() {
            out.digits[out.len] = b;
            out.len += 1;
        }
    }
    // `{:.1e}` can produce a trailing zero ("5.0e-324"); Java never prints
    // trailing zeros beyond the one mandatory fractional digit.
    while out.len > 1 && out.digits[out.len - 1] == b'0' {
        out.len -= 1;
    }
    out
}

/// Lays out digits the way `Double.toString` does.
fn push_java_layout(out: &mut Vec<u8>, sci: &SciDigits) {
    let digits = &sci.digits[..sci.len];
    if sci.negative {
        out.push(b'-');
    }
    let e = sci.exp;
    if (-3..7).contains(&e) {
        if e >= 0 {
            let int_len = e as usize + 1;
            if digits.len() <= int_len {
                out.extend_from_slice(digits);
                out.resize(out.len() + (int_len - digits.len()), b'0');
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[int_len..]);
            }
        } else {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-e - 1) as usize, b'0');
            out.extend_from_slice(digits);
        }
    } else {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        out.push(b'E');
        push_i64(out, i64::from(e));
    }
}

/// `Double.toString(v)`. NaN and infinities are written as `NaN`,
/// `Infinity` and `-Infinity` (unquoted; the JSON writer quotes them).
pub(crate) fn push_double(out: &mut Vec<u8>, v: f64) {
    if let Some(special) = non_finite(v.is_nan(), v.is_infinite(), v.is_sign_negative()) {
        out.extend_from_slice(special);
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return;
    }
    let mut buf = StackBuf::new();
    let _ = write!(buf, "{v:e}");
    let mut sci = split_sci(buf.as_str());
    if sci.len == 1 && v.is_subnormal() {
        // JDK 19+: when the shortest decimal has one digit, the closest
        // two-digit decimal that still rounds to `v` is chosen instead
        // (Double.MIN_VALUE prints as 4.9E-324, not 5.0E-324). Only the
        // least precise subnormals can be affected.
        let mut two = StackBuf::new();
        let _ = write!(two, "{v:.1e}");
        if two.as_str().parse::<f64>().ok() == Some(v) {
            sci = split_sci(two.as_str());
        }
    }
    push_java_layout(out, &sci);
}

/// `Float.toString(v)`, see [`push_double`].
pub(crate) fn push_float(out: &mut Vec<u8>, v: f32) {
    if let Some(special) = non_finite(v.is_nan(), v.is_infinite(), v.is_sign_negative()) {
        out.extend_from_slice(special);
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return;
    }
    let mut buf = StackBuf::new();
    let _ = write!(buf, "{v:e}");
    let mut sci = split_sci(buf.as_str());
    if sci.len == 1 && v.is_subnormal() {
        let mut two = StackBuf::new();
        let _ = write!(two, "{v:.1e}");
        if two.as_str().parse::<f32>().ok() == Some(v) {
            sci = split_sci(two.as_str());
        }
    }
    push_java_layout(out, &sci);
}

fn non_finite(nan: bool, infinite: bool, negative: bool) -> Option<&'static [u8]> {
    if nan {
        Some(b"NaN")
    } else if infinite {
        Some(if negative { b"-Infinity" } else { b"Infinity" })
    } else {
        None
    }
}

/// `BigDecimal.toString()`.
pub(crate) fn push_big_decimal(out: &mut Vec<u8>, d: &Decimal) {
    if d.unscaled.sign() == Sign::Minus {
        out.push(b'-');
    }
    // Digits of |unscaled|: on the stack when it fits in 128 bits.
    let start = out.len();
    match u128::try_from(d.unscaled.magnitude()) {
        Ok(m) => push_u128(out, m),
        Err(_) => out.extend_from_slice(d.unscaled.magnitude().to_string().as_bytes()),
    }
    let ulen = (out.len() - start) as i64;
    let scale = i64::from(d.scale);
    let adjusted = -scale + (ulen - 1);
    if scale >= 0 && adjusted >= -6 {
        if scale == 0 {
            return;
        }
        let scale = scale as usize;
        let ulen = ulen as usize;
        if ulen > scale {
            // Insert the point `scale` digits from the right.
            out.insert(out.len() - scale, b'.');
        } else {
            // 0.000ddd: prefix "0." and the missing zeros.
            let zeros = scale - ulen;
            let mut prefix = Vec::with_capacity(2 + zeros);
            prefix.extend_from_slice(b"0.");
            prefix.resize(2 + zeros, b'0');
            out.splice(start..start, prefix);
        }
    } else {
        if ulen > 1 {
            out.insert(start + 1, b'.');
        }
        out.push(b'E');
        if adjusted >= 0 {
            out.push(b'+');
        }
        push_i64(out, adjusted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_match_the_standard_formatting() {
        let mut values = vec![0u64, 1, 9, 10, 11, 99, 100, 101, u64::MAX, u64::MAX - 1];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            values.extend([p - 1, p, p + 1, next - 1]);
            p = next;
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 64));
        }
        for v in values {
            let mut out = b"prefix".to_vec();
            push_u64(&mut out, v);
            assert_eq!(out, format!("prefix{v}").into_bytes(), "{v}");
            assert_eq!(decimal_digits(v), v.to_string().len(), "{v}");
            for w in [v as i64, (v as i64).wrapping_neg(), i64::MIN] {
                let mut out = Vec::new();
                push_i64(&mut out, w);
                assert_eq!(out, w.to_string().into_bytes(), "{w}");
            }
        }
    }

    fn d(v: f64) -> String {
        let mut out = Vec::new();
        push_double(&mut out, v);
        String::from_utf8(out).unwrap()
    }
    fn f(v: f32) -> String {
        let mut out = Vec::new();
        push_float(&mut out, v);
        String::from_utf8(out).unwrap()
    }
    fn bd(unscaled: i64, scale: i32) -> String {
        let mut out = Vec::new();
        push_big_decimal(&mut out, &Decimal::new(unscaled, scale));
        String::from_utf8(out).unwrap()
    }

    // The golden values from the Java documentation live in
    // testdata/converters/java_number_strings.json (tests/java_numbers.rs);
    // these cover the layout branches.
    #[test]
    fn double_layout_branches() {
        assert_eq!(d(1.0), "1.0");
        assert_eq!(d(-1.5), "-1.5");
        assert_eq!(d(123456.789), "123456.789");
        assert_eq!(d(9999999.0), "9999999.0");
        assert_eq!(d(1.0e7), "1.0E7");
        assert_eq!(d(12345678.9), "1.23456789E7");
        assert_eq!(d(0.001), "0.001");
        assert_eq!(d(0.000999), "9.99E-4");
        assert_eq!(d(-0.0), "-0.0");
        assert_eq!(d(100.0), "100.0");
        assert_eq!(d(f64::NAN), "NaN");
        assert_eq!(d(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(f(12.34), "12.34");
        assert_eq!(f(1.0e10), "1.0E10");
    }

    #[test]
    fn integers() {
        for v in [
            0i64,
            7,
            10,
            99,
            100,
            101,
            12345,
            -1,
            -100,
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            push_i64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
        let mut out = Vec::new();
        push_u128(&mut out, u128::MAX);
        assert_eq!(String::from_utf8(out).unwrap(), u128::MAX.to_string());
    }

    #[test]
    fn big_decimal_branches() {
        assert_eq!(bd(0, 0), "0");
        assert_eq!(bd(0, 2), "0.00");
        assert_eq!(bd(5, 1), "0.5");
        assert_eq!(bd(-5, 3), "-0.005");
        assert_eq!(bd(1, 7), "1E-7");
        assert_eq!(bd(1, 6), "0.000001");
        assert_eq!(bd(0, -2), "0E+2");
        let mut out = Vec::new();
        let big: num_bigint::BigInt = "-123456789012345678901234567890123456789012345"
            .parse()
            .unwrap();
        push_big_decimal(
            &mut out,
            &Decimal {
                unscaled: big,
                scale: 5,
            },
        );
        assert_eq!(out, b"-1234567890123456789012345678901234567890.12345");
    }
}
