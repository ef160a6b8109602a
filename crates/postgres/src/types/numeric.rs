//! `NUMERIC` and `MONEY` text → decimals, as Java's `BigDecimal` reads them.

use num_bigint::{BigInt, Sign};
use sluice_connect_api::Decimal;

/// The special `NUMERIC` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    NaN,
    PositiveInfinity,
    NegativeInfinity,
}

impl Special {
    /// `SpecialValueDecimal.toString()` (the Java enum constant's name).
    pub fn debezium_name(self) -> &'static str {
        match self {
            Special::NaN => "NAN",
            Special::PositiveInfinity => "POSITIVE_INFINITY",
            Special::NegativeInfinity => "NEGATIVE_INFINITY",
        }
    }
    pub fn to_f64(self) -> f64 {
        match self {
            Special::NaN => f64::NAN,
            Special::PositiveInfinity => f64::INFINITY,
            Special::NegativeInfinity => f64::NEG_INFINITY,
        }
    }
}

/// `PostgresValueConverter.toSpecialValue`: the exact spellings pgoutput
/// sends.
pub(crate) fn special(text: &[u8]) -> Option<Special> {
    match text {
        b"NaN" => Some(Special::NaN),
        b"Infinity" => Some(Special::PositiveInfinity),
        b"-Infinity" => Some(Special::NegativeInfinity),
        _ => None,
    }
}

/// Where [`binary_numeric_text`] put the text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NumericText {
    /// In the caller's buffer, this long.
    Stack(usize),
    /// Too long for it.
    Heap(Vec<u8>),
}

/// A `NUMERIC` in its binary send format: `ndigits`, `weight`, `sign`,
/// `dscale`, then `ndigits` base-10000 digits, all big-endian 16-bit.
struct BinaryNumeric<'a> {
    sign: u16,
    weight: i64,
    dscale: u16,
    digits: &'a [u8],
}

impl<'a> BinaryNumeric<'a> {
    const POSITIVE: u16 = 0x0000;
    const NEGATIVE: u16 = 0x4000;

    /// `None` for a malformed value.
    fn parse(b: &'a [u8]) -> Option<Self> {
        let word =
            |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])) };
        let (ndigits, weight, sign, dscale) = (word(0)?, word(2)? as i16, word(4)?, word(6)?);
        let n = usize::from(ndigits);
        if b.len() != 8 + 2 * n
            || n > 0x7fff
            || !matches!(sign, 0x0000 | 0x4000 | 0xC000 | 0xD000 | 0xF000)
        {
            return None;
        }
        let num = BinaryNumeric {
            sign,
            weight: i64::from(weight),
            dscale,
            digits: &b[8..],
        };
        (0..n as i64).all(|g| num.digit(g) <= 9999).then_some(num)
    }

    /// Base-10000 digit `g` (0 is the most significant; 0 outside the
    /// stored digits).
    fn digit(&self, g: i64) -> u16 {
        match usize::try_from(g)
            .ok()
            .and_then(|g| self.digits.get(2 * g..2 * g + 2))
        {
            Some(d) => u16::from_be_bytes([d[0], d[1]]),
            None => 0,
        }
    }
}

/// The text `numeric_out` gives for a binary `NUMERIC`, so that binary
/// values go through the very text conversion text values do.
pub(crate) fn binary_numeric_text(
    b: &[u8],
    buf: &mut [u8; 64],
) -> Result<NumericText, &'static str> {
    let num = BinaryNumeric::parse(b).ok_or("malformed binary numeric")?;
    let special: Option<&'static [u8]> = match num.sign {
        0xC000 => Some(b"NaN"),
        0xD000 => Some(b"Infinity"),
        0xF000 => Some(b"-Infinity"),
        _ => None,
    };
    if let Some(text) = special {
        buf[..text.len()].copy_from_slice(text);
        return Ok(NumericText::Stack(text.len()));
    }
    let (sign, weight, dscale) = (num.sign, num.weight, usize::from(num.dscale));
    let digit = |g: i64| num.digit(g);
    let int_groups = (weight + 1).max(0) as usize;
    let len = 1 + (int_groups * 4).max(1) + 1 + dscale;
    let mut heap = Vec::new();
    let out: &mut [u8] = if len <= buf.len() {
        &mut buf[..]
    } else {
        heap.resize(len, 0);
        &mut heap
    };
    let mut n = 0usize;
    if sign == BinaryNumeric::NEGATIVE {
        out[n] = b'-';
        n += 1;
    }
    if int_groups == 0 {
        out[n] = b'0';
        n += 1;
    }
    for g in 0..int_groups as i64 {
        let four = four_digits(digit(g));
        // The first group without its leading zeros (but one digit at least).
        let skip = if g == 0 {
            four[..3].iter().take_while(|c| **c == b'0').count()
        } else {
            0
        };
        out[n..n + 4 - skip].copy_from_slice(&four[skip..]);
        n += 4 - skip;
    }
    if dscale > 0 {
        out[n] = b'.';
        n += 1;
        let mut written = 0usize;
        let mut g = weight + 1;
        while written < dscale {
            let four = four_digits(digit(g));
            let take = (dscale - written).min(4);
            out[n..n + take].copy_from_slice(&four[..take]);
            n += take;
            written += take;
            g += 1;
        }
    }
    if heap.is_empty() {
        Ok(NumericText::Stack(n))
    } else {
        heap.truncate(n);
        Ok(NumericText::Heap(heap))
    }
}

/// A finite binary `NUMERIC` whose unscaled value (the digits with
/// `dscale` fraction digits) fits an `i64`, as (unscaled, dscale); `None`
/// otherwise (NaN, infinities, too many digits, malformed): the caller
/// takes the text path.
pub(crate) fn binary_numeric_i64(b: &[u8]) -> Option<(i64, u16)> {
    let num = BinaryNumeric::parse(b)?;
    if num.sign != BinaryNumeric::POSITIVE && num.sign != BinaryNumeric::NEGATIVE {
        return None;
    }
    let int_groups = (num.weight + 1).max(0);
    if int_groups * 4 + i64::from(num.dscale) > 18 {
        return None;
    }
    let mut v = 0i64;
    for g in 0..int_groups {
        v = v * 10_000 + i64::from(num.digit(g));
    }
    let mut left = i64::from(num.dscale);
    let mut g = num.weight + 1;
    while left > 0 {
        let take = left.min(4) as u32;
        v = v * 10i64.pow(take) + i64::from(num.digit(g)) / 10i64.pow(4 - take);
        left -= i64::from(take);
        g += 1;
    }
    Some((
        if num.sign == BinaryNumeric::NEGATIVE {
            -v
        } else {
            v
        },
        num.dscale,
    ))
}

/// The four decimal digits of a base-10000 digit, zero-padded.
fn four_digits(d: u16) -> [u8; 4] {
    [
        b'0' + (d / 1000) as u8,
        b'0' + (d / 100 % 10) as u8,
        b'0' + (d / 10 % 10) as u8,
        b'0' + (d % 10) as u8,
    ]
}

/// `new BigDecimal(text)`: an optional sign, digits with an optional point,
/// an optional exponent.
pub(crate) fn parse_big_decimal(text: &[u8]) -> Option<Decimal> {
    let (negative, rest) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => {
            let exp = std::str::from_utf8(&rest[i + 1..])
                .ok()?
                .parse::<i32>()
                .ok()?;
            (&rest[..i], exp)
        }
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.iter().position(|&c| c == b'.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, &mantissa[mantissa.len()..]),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let ndigits = int_part.len() + frac_part.len();
    let unscaled = if ndigits <= 18 {
        // Fits an i64: the common case, cheaper than i128 arithmetic.
        let mut v: i64 = 0;
        for &c in int_part.iter().chain(frac_part) {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        BigInt::from(if negative { -v } else { v })
    } else if ndigits <= 38 {
        let mut v: i128 = 0;
        for &c in int_part.iter().chain(frac_part) {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i128::from(c - b'0');
        }
        BigInt::from(if negative { -v } else { v })
    } else {
        let mut digits = Vec::with_capacity(ndigits);
        for &c in int_part.iter().chain(frac_part) {
            if !c.is_ascii_digit() {
                return None;
            }
            digits.push(c - b'0');
        }
        let sign = if negative { Sign::Minus } else { Sign::Plus };
        BigInt::from_radix_be(sign, &digits, 10)?
    };
    let scale = i32::try_from(frac_part.len()).ok()?.checked_sub(exponent)?;
    Some(Decimal { unscaled, scale })
}

fn pow10(n: u32) -> BigInt {
    BigInt::from(10u8).pow(n)
}

/// `BigDecimal.setScale(scale)` without rounding: `None` when digits would be
/// lost (Java throws `ArithmeticException`).
pub(crate) fn set_scale_exact(d: &Decimal, scale: i32) -> Option<Decimal> {
    if scale == d.scale {
        return Some(d.clone());
    }
    if scale > d.scale {
        let f = pow10(u32::try_from(scale - d.scale).ok()?);
        return Some(Decimal {
            unscaled: &d.unscaled * f,
            scale,
        });
    }
    let f = pow10(u32::try_from(d.scale - scale).ok()?);
    let q = &d.unscaled / &f;
    if &q * &f != d.unscaled {
        return None;
    }
    Some(Decimal { unscaled: q, scale })
}

/// `BigDecimal.setScale(scale, RoundingMode.HALF_UP)`.
pub(crate) fn set_scale_half_up(d: &Decimal, scale: i32) -> Decimal {
    if scale >= d.scale {
        return set_scale_exact(d, scale).unwrap_or_else(|| d.clone());
    }
    let f = pow10((d.scale - scale) as u32);
    let q = &d.unscaled / &f; // truncates toward zero
    let r = &d.unscaled - &q * &f;
    let twice = r.magnitude() * 2u8;
    let q = if twice >= *f.magnitude() {
        if d.unscaled.sign() == Sign::Minus {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    };
    Decimal { unscaled: q, scale }
}

/// `stripTrailingZeros()` followed by `setScale(0)` when the scale went
/// negative: Debezium's normalisation for `VariableScaleDecimal`.
pub(crate) fn strip_fraction_zeros(d: &Decimal) -> Decimal {
    if d.unscaled.sign() == Sign::NoSign {
        return Decimal {
            unscaled: BigInt::from(0),
            scale: 0,
        };
    }
    let mut unscaled = d.unscaled.clone();
    let mut scale = d.scale;
    let ten = BigInt::from(10u8);
    while scale > 0 {
        let (q, r) = (&unscaled / &ten, &unscaled % &ten);
        if r.sign() != Sign::NoSign {
            break;
        }
        unscaled = q;
        scale -= 1;
    }
    if scale < 0 {
        // stripTrailingZeros never lowers a non-negative scale below zero
        // after setScale(0); a negative input scale becomes 0.
        return set_scale_exact(&Decimal { unscaled, scale }, 0).unwrap_or_else(|| d.clone());
    }
    Decimal { unscaled, scale }
}

/// `BigDecimal.doubleValue()` (correctly rounded, like Rust's parser).
pub(crate) fn to_f64(d: &Decimal) -> f64 {
    d.to_plain_string().parse::<f64>().unwrap_or(f64::NAN)
}

/// `PostgresMoney.parse`: strips one leading currency symbol, thousands
/// separators and parentheses for negatives, then reads a `BigDecimal`.
pub(crate) fn parse_money(text: &str) -> Option<Decimal> {
    let first = text.chars().next()?;
    let negative = first == '(' || first == '-';
    let mut value: &str = if first == '-' { &text[1..] } else { text };
    // PGtokenizer.removePara (the '-' case is first wrapped in parentheses,
    // which this then removes again).
    if first != '-' {
        value = value.strip_prefix('(').unwrap_or(value);
        value = value.strip_suffix(')').unwrap_or(value);
    }
    if let Some(c) = value.chars().next() {
        if !c.is_ascii_digit() && c != '.' {
            value = &value[c.len_utf8()..];
        }
    }
    let mut cleaned = String::with_capacity(value.len() + 1);
    if negative {
        cleaned.push('-');
    }
    cleaned.extend(value.chars().filter(|&c| c != ','));
    parse_big_decimal(cleaned.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        parse_big_decimal(s.as_bytes()).unwrap()
    }

    #[test]
    fn parses_and_rescales() {
        assert_eq!(d("-12.340"), Decimal::new(-12340, 3));
        assert_eq!(d("1E+2"), Decimal::new(1, -2));
        assert_eq!(
            set_scale_exact(&d("1.1"), 2).unwrap().to_plain_string(),
            "1.10"
        );
        assert!(set_scale_exact(&d("1.15"), 1).is_none());
        assert_eq!(set_scale_half_up(&d("1.15"), 1).to_plain_string(), "1.2");
        assert_eq!(set_scale_half_up(&d("-1.15"), 1).to_plain_string(), "-1.2");
        assert_eq!(set_scale_half_up(&d("-1.14"), 1).to_plain_string(), "-1.1");
        assert_eq!(strip_fraction_zeros(&d("10.1000")), Decimal::new(101, 1));
        assert_eq!(strip_fraction_zeros(&d("100.00")), Decimal::new(100, 0));
        assert_eq!(strip_fraction_zeros(&d("0.000")), Decimal::new(0, 0));
        let big = "123456789012345678901234567890123456789012345.5";
        assert_eq!(d(big).to_plain_string(), big);
        assert!(parse_big_decimal(b"1.2.3").is_none());
        assert!(parse_big_decimal(b"").is_none());
        assert!(parse_big_decimal(b"-").is_none());
    }

    #[test]
    fn parses_money_like_debezium() {
        assert_eq!(
            parse_money("$1,234.11").unwrap().to_plain_string(),
            "1234.11"
        );
        assert_eq!(
            parse_money("-$1,234.11").unwrap().to_plain_string(),
            "-1234.11"
        );
        assert_eq!(
            parse_money("($1,234.11)").unwrap().to_plain_string(),
            "-1234.11"
        );
        assert_eq!(parse_money("€5.00").unwrap().to_plain_string(), "5.00");
        assert!(parse_money("1.234,56 €").is_none());
    }
}
