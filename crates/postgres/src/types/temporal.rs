//! Date and time: parsing PostgreSQL's text output (`DateStyle = ISO`) and
//! Debezium's representations, by hand (no allocation except output
//! strings too long for an inline `Text`).
//!
//! Calendar arithmetic is proleptic Gregorian, as PostgreSQL's and
//! `java.time`'s; years are astronomical (1 BC = year 0).

use sluice_connect_api::{Text, TextBuilder};

pub(crate) const NANOS_PER_SECOND: i64 = 1_000_000_000;
pub(crate) const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;
pub(crate) const SECONDS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// A point in time as Java's `Instant`: seconds since the epoch and
/// non-negative nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Instant {
    pub secs: i64,
    pub nanos: u32,
}

impl Instant {
    pub fn from_days_nanos(days: i64, nanos_of_day: i64) -> Instant {
        let total_secs = days * SECONDS_PER_DAY + nanos_of_day.div_euclid(NANOS_PER_SECOND);
        Instant {
            secs: total_secs,
            nanos: nanos_of_day.rem_euclid(NANOS_PER_SECOND) as u32,
        }
    }

    /// The instant of a `timestamptz` in its binary format: microseconds
    /// since 2000-01-01 00:00:00 UTC (finite values; no overflow for any).
    pub fn from_pg_micros(micros: i64) -> Instant {
        const PG_EPOCH_SECS: i64 = 946_684_800;
        Instant {
            secs: micros.div_euclid(1_000_000) + PG_EPOCH_SECS,
            nanos: (micros.rem_euclid(1_000_000) * 1000) as u32,
        }
    }

    /// `Instant` of `Conversions.toInstantFromMicros(micros)`.
    pub fn from_micros(micros: i64) -> Instant {
        Instant {
            secs: micros.div_euclid(1_000_000),
            nanos: (micros.rem_euclid(1_000_000) * 1000) as u32,
        }
    }

    /// `Conversions.toEpochMicros`: `SECONDS.toMicros` saturates, the sum
    /// wraps (as Java's long addition).
    pub fn epoch_micros(self) -> i64 {
        self.secs
            .saturating_mul(1_000_000)
            .wrapping_add(i64::from(self.nanos / 1000))
    }

    /// `Instant.toEpochMilli` (floor).
    pub fn epoch_millis(self) -> i64 {
        self.secs
            .saturating_mul(1000)
            .saturating_add(i64::from(self.nanos / 1_000_000))
    }

    /// `NanoTimestamp.toEpochNanos`: `None` when out of the `long` range
    /// (Debezium then treats the value as unconvertible).
    pub fn epoch_nanos(self) -> Option<i64> {
        let days = self.secs.div_euclid(SECONDS_PER_DAY);
        let nanos_in_day =
            self.secs.rem_euclid(SECONDS_PER_DAY) * NANOS_PER_SECOND + i64::from(self.nanos);
        days.checked_mul(NANOS_PER_DAY)?.checked_add(nanos_in_day)
    }

    pub fn days(self) -> i64 {
        self.secs.div_euclid(SECONDS_PER_DAY)
    }

    pub fn nanos_of_day(self) -> i64 {
        self.secs.rem_euclid(SECONDS_PER_DAY) * NANOS_PER_SECOND + i64::from(self.nanos)
    }
}

/// pgjdbc's `PGStatement.DATE_POSITIVE_INFINITY`, which Debezium reads as
/// microseconds for `TIMESTAMP 'infinity'`.
pub(crate) const PG_DATE_POSITIVE_INFINITY: i64 = 9_223_372_036_825_200_000;
/// pgjdbc's `PGStatement.DATE_NEGATIVE_INFINITY`.
pub(crate) const PG_DATE_NEGATIVE_INFINITY: i64 = -9_223_372_036_832_400_000;
/// Debezium's `POSITIVE_INFINITY_LOCAL_DATE` (`-5877611-06-21`) and
/// `NEGATIVE_INFINITY_LOCAL_DATE` (`-5877611-06-22`), which `DATE 'infinity'`
/// and `'-infinity'` become.
pub(crate) const POSITIVE_INFINITY_DATE: (i64, u32, u32) = (-5_877_611, 6, 21);
pub(crate) const NEGATIVE_INFINITY_DATE: (i64, u32, u32) = (-5_877_611, 6, 22);

/// A small byte cursor.
pub(crate) struct Cursor<'a> {
    pub b: &'a [u8],
    pub i: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Cursor { b, i: 0 }
    }
    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    pub fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }
    pub fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    pub fn expect(&mut self, c: u8) -> Result<(), &'static str> {
        if self.eat(c) {
            Ok(())
        } else {
            Err("unexpected character")
        }
    }
    /// Between `min` and `max` decimal digits.
    pub fn digits(&mut self, min: usize, max: usize) -> Result<u64, &'static str> {
        let start = self.i;
        let mut v: u64 = 0;
        while self.i < self.b.len() && self.i - start < max {
            let c = self.b[self.i];
            if !c.is_ascii_digit() {
                break;
            }
            v = v * 10 + u64::from(c - b'0');
            self.i += 1;
        }
        if self.i - start < min {
            return Err("expected digits");
        }
        Ok(v)
    }
    /// A fraction after a '.', as nanoseconds (digits beyond 9 ignored).
    pub fn fraction_nanos(&mut self) -> Result<u32, &'static str> {
        let start = self.i;
        let mut v: u32 = 0;
        let mut n = 0;
        while let Some(c) = self.peek() {
            if !c.is_ascii_digit() {
                break;
            }
            if n < 9 {
                v = v * 10 + u32::from(c - b'0');
                n += 1;
            }
            self.i += 1;
        }
        if self.i == start {
            return Err("expected fraction digits");
        }
        for _ in n..9 {
            v *= 10;
        }
        Ok(v)
    }
    /// An optional trailing ` BC` / ` AD`; returns true for BC.
    pub fn era(&mut self) -> Result<bool, &'static str> {
        let rest = &self.b[self.i..];
        if rest.is_empty() {
            return Ok(false);
        }
        if rest.eq_ignore_ascii_case(b" BC") {
            self.i = self.b.len();
            Ok(true)
        } else if rest.eq_ignore_ascii_case(b" AD") {
            self.i = self.b.len();
            Ok(false)
        } else {
            Err("unexpected trailing text")
        }
    }
}

/// `yyyy-MM-dd` with a year of era of 4 to 10 digits (era applied by the
/// caller).
fn date_part(c: &mut Cursor<'_>) -> Result<(i64, u32, u32), &'static str> {
    let year = c.digits(4, 10)? as i64;
    c.expect(b'-')?;
    let month = c.digits(2, 2)? as u32;
    c.expect(b'-')?;
    let day = c.digits(2, 2)? as u32;
    if !(1..=12).contains(&month) || day == 0 || day > 31 {
        return Err("invalid date");
    }
    Ok((year, month, day))
}

fn apply_era(year_of_era: i64, bc: bool) -> i64 {
    if bc {
        1 - year_of_era
    } else {
        year_of_era
    }
}

/// `HH:mm[:ss[.f]]` (Java's `ISO_LOCAL_TIME`), as nanoseconds of the day.
fn iso_time_part(c: &mut Cursor<'_>) -> Result<i64, &'static str> {
    let h = c.digits(2, 2)? as i64;
    c.expect(b':')?;
    let m = c.digits(2, 2)? as i64;
    let mut s = 0;
    let mut nanos = 0;
    if c.eat(b':') {
        s = c.digits(2, 2)? as i64;
        if c.eat(b'.') {
            nanos = i64::from(c.fraction_nanos()?);
        }
    }
    if h > 23 || m > 59 || s > 59 {
        return Err("invalid time of day");
    }
    Ok(((h * 60 + m) * 60 + s) * NANOS_PER_SECOND + nanos)
}

/// `+HH`, `+HH:MM` or `+HH:MM:SS`, in seconds east of UTC.
fn offset_part(c: &mut Cursor<'_>) -> Result<i64, &'static str> {
    let sign = match c.peek() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err("expected a UTC offset"),
    };
    c.i += 1;
    let h = c.digits(2, 2)? as i64;
    let mut m = 0;
    let mut s = 0;
    if c.eat(b':') {
        m = c.digits(2, 2)? as i64;
        if c.eat(b':') {
            s = c.digits(2, 2)? as i64;
        }
    }
    if h > 18 || m > 59 || s > 59 {
        return Err("invalid UTC offset");
    }
    Ok(sign * (h * 3600 + m * 60 + s))
}

/// A `DATE` value as Debezium reads it: the civil date
/// (`DateTimeFormat.date`), with `infinity` / `-infinity` mapped to
/// Debezium's sentinel dates.
pub(crate) fn parse_date(b: &[u8]) -> Result<(i64, u32, u32), &'static str> {
    match b {
        b"infinity" => return Ok(POSITIVE_INFINITY_DATE),
        b"-infinity" => return Ok(NEGATIVE_INFINITY_DATE),
        _ => {}
    }
    let mut c = Cursor::new(b);
    let (yoe, month, day) = date_part(&mut c)?;
    let bc = c.era()?;
    let year = apply_era(yoe, bc);
    if day > days_in_month(year, month) {
        return Err("invalid date");
    }
    Ok((year, month, day))
}

/// Debezium's `Date.toEpochDay`: the epoch day, cast to a Java `int` (the
/// cast never wraps for PostgreSQL's date range and the sentinels).
pub(crate) fn epoch_day_int(date: (i64, u32, u32)) -> i32 {
    days_from_civil(date.0, date.1, date.2) as i32
}

/// A `TIME` value as `Strings.asDuration` reads it (`h:m:s[.f]`, hours may
/// exceed 23), in nanoseconds.
pub(crate) fn parse_time_duration(b: &[u8]) -> Result<i64, &'static str> {
    let mut c = Cursor::new(b);
    let h = c.digits(1, 18)? as i64;
    c.expect(b':')?;
    let m = c.digits(1, 18)? as i64;
    c.expect(b':')?;
    let s = c.digits(1, 18)? as i64;
    let mut nanos = 0;
    if c.eat(b'.') {
        if c.at_end() {
            return finish_duration(h, m, s, 0);
        }
        nanos = i64::from(c.fraction_nanos()?);
    }
    if !c.at_end() {
        return Err("unexpected trailing text");
    }
    finish_duration(h, m, s, nanos)
}

fn finish_duration(h: i64, m: i64, s: i64, nanos: i64) -> Result<i64, &'static str> {
    h.checked_mul(3600)
        .and_then(|v| v.checked_add(m.checked_mul(60)?))
        .and_then(|v| v.checked_add(s))
        .and_then(|v| v.checked_mul(NANOS_PER_SECOND))
        .and_then(|v| v.checked_add(nanos))
        .ok_or("time out of range")
}

/// A `TIMESTAMP` value: the literal local date-time read as UTC
/// (`DateTimeFormat.timestampToInstant`), `infinity` / `-infinity` as
/// Debezium's sentinel instants.
pub(crate) fn parse_timestamp(b: &[u8]) -> Result<Instant, &'static str> {
    match b {
        b"infinity" => return Ok(Instant::from_micros(PG_DATE_POSITIVE_INFINITY)),
        b"-infinity" => return Ok(Instant::from_micros(PG_DATE_NEGATIVE_INFINITY)),
        _ => {}
    }
    let mut c = Cursor::new(b);
    let (yoe, month, day) = date_part(&mut c)?;
    if !(c.eat(b' ') || c.eat(b'T')) {
        return Err("expected a time");
    }
    let nanos = iso_time_part(&mut c)?;
    let bc = c.era()?;
    let year = apply_era(yoe, bc);
    if day > days_in_month(year, month) {
        return Err("invalid date");
    }
    Ok(Instant::from_days_nanos(
        days_from_civil(year, month, day),
        nanos,
    ))
}

/// A `TIMESTAMPTZ` value: `None` for `infinity`/`-infinity` (true for
/// positive), else the instant.
pub(crate) enum ZonedValue {
    Infinity(bool),
    At(Instant),
}

pub(crate) fn parse_timestamptz(b: &[u8]) -> Result<ZonedValue, &'static str> {
    match b {
        b"infinity" => return Ok(ZonedValue::Infinity(true)),
        b"-infinity" => return Ok(ZonedValue::Infinity(false)),
        _ => {}
    }
    let mut c = Cursor::new(b);
    let (yoe, month, day) = date_part(&mut c)?;
    if !(c.eat(b' ') || c.eat(b'T')) {
        return Err("expected a time");
    }
    let nanos = iso_time_part(&mut c)?;
    let offset = if matches!(c.peek(), Some(b'+') | Some(b'-')) {
        offset_part(&mut c)?
    } else if c.eat(b'Z') {
        0
    } else {
        return Err("expected a UTC offset");
    };
    let bc = c.era()?;
    let year = apply_era(yoe, bc);
    if day > days_in_month(year, month) {
        return Err("invalid date");
    }
    let local = Instant::from_days_nanos(days_from_civil(year, month, day), nanos);
    Ok(ZonedValue::At(Instant {
        secs: local.secs - offset,
        nanos: local.nanos,
    }))
}

/// A `TIMETZ` value: local nanoseconds of the day (24:00:00 allowed) and the
/// offset in seconds east of UTC.
pub(crate) fn parse_timetz(b: &[u8]) -> Result<(i64, i64), &'static str> {
    let mut c = Cursor::new(b);
    let h = c.digits(2, 2)? as i64;
    c.expect(b':')?;
    let m = c.digits(2, 2)? as i64;
    let mut s = 0;
    let mut nanos = 0;
    if c.eat(b':') {
        s = c.digits(2, 2)? as i64;
        if c.eat(b'.') {
            nanos = i64::from(c.fraction_nanos()?);
        }
    }
    let offset = offset_part(&mut c)?;
    if !c.at_end() {
        return Err("unexpected trailing text");
    }
    let local = ((h * 60 + m) * 60 + s) * NANOS_PER_SECOND + nanos;
    if m > 59 || s > 59 || local > NANOS_PER_DAY {
        return Err("invalid time of day");
    }
    Ok((local, offset))
}

fn push_2(out: &mut TextBuilder, v: u32) {
    out.push((b'0' + (v / 10) as u8) as char);
    out.push((b'0' + (v % 10) as u8) as char);
}

fn push_padded(out: &mut TextBuilder, v: u64, width: usize) {
    let mut buf = [0u8; 20];
    let mut n = 0;
    let mut x = v;
    loop {
        buf[n] = b'0' + (x % 10) as u8;
        n += 1;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    for _ in n..width {
        out.push('0');
    }
    for i in (0..n).rev() {
        out.push(buf[i] as char);
    }
}

/// `ISO_LOCAL_DATE`: 4-digit years zero-padded, a `+` sign beyond 9999, a
/// `-` sign for years before year 0 (1 BC).
pub(crate) fn push_iso_date(out: &mut TextBuilder, (year, month, day): (i64, u32, u32)) {
    if year > 9999 {
        out.push('+');
        push_padded(out, year as u64, 4);
    } else if year < 0 {
        out.push('-');
        push_padded(out, year.unsigned_abs(), 4);
    } else {
        push_padded(out, year as u64, 4);
    }
    out.push('-');
    push_2(out, month);
    out.push('-');
    push_2(out, day);
}

/// How many fraction digits to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fraction {
    /// As `ISO_LOCAL_TIME`: none for a whole second, else as few as needed.
    Minimal,
    /// Exactly this many digits (1..=9), truncated.
    Fixed(u32),
}

/// `HH:mm:ss` and a fraction.
pub(crate) fn push_iso_time(out: &mut TextBuilder, nanos_of_day: i64, fraction: Fraction) {
    let secs = nanos_of_day / NANOS_PER_SECOND;
    let nanos = (nanos_of_day % NANOS_PER_SECOND) as u32;
    push_2(out, (secs / 3600) as u32);
    out.push(':');
    push_2(out, ((secs / 60) % 60) as u32);
    out.push(':');
    push_2(out, (secs % 60) as u32);
    let digits = match fraction {
        Fraction::Minimal => {
            if nanos == 0 {
                return;
            }
            // Drop trailing zero digits.
            let mut n = 9;
            let mut v = nanos;
            while (v / 10) * 10 == v {
                v /= 10;
                n -= 1;
            }
            n
        }
        Fraction::Fixed(n) => n.clamp(1, 9),
    };
    out.push('.');
    let mut div = 100_000_000;
    for _ in 0..digits {
        out.push((b'0' + ((nanos / div) % 10) as u8) as char);
        div /= 10;
    }
}

/// `io.debezium.time.ZonedTimestamp`'s text of a UTC instant with the
/// column's fractional width (`ZonedTimestamp.toIsoString`).
pub(crate) fn zoned_timestamp_string(at: Instant, fraction_width: i32) -> Text {
    let mut out = TextBuilder::new();
    push_iso_date(&mut out, civil_from_days(at.days()));
    out.push('T');
    let fraction = if (1..=9).contains(&fraction_width) {
        Fraction::Fixed(fraction_width as u32)
    } else {
        Fraction::Minimal
    };
    push_iso_time(&mut out, at.nanos_of_day(), fraction);
    out.push('Z');
    out.finish()
}

/// [`zoned_timestamp_string`] of a `TIMESTAMPTZ` text that PostgreSQL wrote
/// in UTC (`YYYY-MM-DD HH:MM:SS[.f…]+00`, ISO DateStyle, TimeZone UTC —
/// what the snapshot and replication connections get), rewritten in place
/// instead of parsed and formatted again. `None` for any other shape (BC,
/// five-digit years, other offsets, infinity): the caller takes the general
/// path. The result is the same as that path's (tested on random values).
pub(crate) fn utc_timestamptz_fast(b: &[u8], fraction_width: i32) -> Option<Text> {
    let n = b.len();
    if !(22..=32).contains(&n) || &b[n - 3..] != b"+00" {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if year == 0
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(i64::from(year), month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let frac = match &b[19..n - 3] {
        [] => &[][..],
        [b'.', rest @ ..]
            if (1..=9).contains(&rest.len()) && rest.iter().all(u8::is_ascii_digit) =>
        {
            rest
        }
        _ => return None,
    };
    // `YYYY-MM-DDTHH:MM:SS[.f…]Z`: at most 30 bytes, all ASCII checked
    // above, rewritten on the stack.
    let mut buf = [0u8; 32];
    buf[..19].copy_from_slice(&b[..19]);
    buf[10] = b'T';
    finish_zoned(buf, frac, fraction_width)
}

/// [`zoned_timestamp_string`] for years 1–9999 (`None` for the others),
/// written on the stack: a binary `timestamptz` of the snapshot's `COPY`.
/// The same text (tested on random instants).
pub(crate) fn zoned_timestamp_fast(at: Instant, fraction_width: i32) -> Option<Text> {
    let (year, month, day) = civil_from_days(at.days());
    if !(1..=9999).contains(&year) {
        return None;
    }
    let second_of_day = at.secs.rem_euclid(SECONDS_PER_DAY) as u32;
    let mut buf = [0u8; 32];
    let mut two = |at: usize, v: u32| {
        buf[at] = b'0' + (v / 10) as u8;
        buf[at + 1] = b'0' + (v % 10) as u8;
    };
    let year = year as u32;
    two(0, year / 100);
    two(2, year % 100);
    two(5, month);
    two(8, day);
    two(11, second_of_day / 3600);
    two(14, second_of_day / 60 % 60);
    two(17, second_of_day % 60);
    buf[4] = b'-';
    buf[7] = b'-';
    buf[10] = b'T';
    buf[13] = b':';
    buf[16] = b':';
    let mut frac = [0u8; 9];
    let mut n = at.nanos;
    for d in frac.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let used = 9 - frac.iter().rev().take_while(|c| **c == b'0').count();
    finish_zoned(buf, &frac[..used], fraction_width)
}

/// Ends a `ZonedTimestamp` text whose `YYYY-MM-DDTHH:MM:SS` is in
/// `buf[..19]`: the fraction digits `frac` (ASCII digits, at most 9) as the
/// column's width asks, then `Z`.
fn finish_zoned(mut buf: [u8; 32], frac: &[u8], fraction_width: i32) -> Option<Text> {
    let mut len = 19;
    if (1..=9).contains(&fraction_width) {
        // Exactly `fraction_width` digits: truncated or zero-padded.
        let width = fraction_width as usize;
        buf[len] = b'.';
        let have = frac.len().min(width);
        buf[len + 1..len + 1 + have].copy_from_slice(&frac[..have]);
        buf[len + 1 + have..len + 1 + width].fill(b'0');
        len += 1 + width;
    } else {
        // As few digits as needed; none for a whole second.
        let used = frac.len() - frac.iter().rev().take_while(|c| **c == b'0').count();
        if used > 0 {
            buf[len] = b'.';
            buf[len + 1..len + 1 + used].copy_from_slice(&frac[..used]);
            len += 1 + used;
        }
    }
    buf[len] = b'Z';
    len += 1;
    Some(Text::from(std::str::from_utf8(&buf[..len]).ok()?))
}

/// `ISO_OFFSET_DATE_TIME` of a UTC instant (`IsoTimestamp`).
pub(crate) fn iso_timestamp_string(at: Instant) -> Text {
    zoned_timestamp_string(at, 0)
}

/// `ISO_OFFSET_TIME` of a UTC time of day (`ZonedTime`, `IsoTime`).
pub(crate) fn iso_time_string(nanos_of_day: i64) -> Text {
    let mut out = TextBuilder::new();
    push_iso_time(&mut out, nanos_of_day, Fraction::Minimal);
    out.push('Z');
    out.finish()
}

/// `ISO_OFFSET_DATE` of a date in UTC (`IsoDate`).
pub(crate) fn iso_date_string(date: (i64, u32, u32)) -> Text {
    let mut out = TextBuilder::new();
    push_iso_date(&mut out, date);
    out.push('Z');
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instant_fast_path_matches_the_general_one() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        // 0001-01-01 and 9999-12-31 23:59:59.999999999 (seconds since 1970).
        let (first, last) = (-62_135_596_800i64, 253_402_300_799i64);
        let mut instants = vec![
            Instant {
                secs: first,
                nanos: 0,
            },
            Instant {
                secs: last,
                nanos: 999_999_999,
            },
            Instant {
                secs: first - 1,
                nanos: 999_999_999,
            },
            Instant {
                secs: last + 1,
                nanos: 0,
            },
            Instant { secs: 0, nanos: 0 },
            Instant {
                secs: -1,
                nanos: 500_000_000,
            },
            Instant::from_pg_micros(0),
            Instant::from_pg_micros(-1),
        ];
        for _ in 0..20_000 {
            let secs = first - 86_400 + next((last - first + 2 * 86_400) as u64) as i64;
            let nanos = match next(4) {
                0 => 0,
                1 => next(1_000_000) as u32 * 1000,
                2 => next(1000) as u32 * 1_000_000,
                _ => next(1_000_000_000) as u32,
            };
            instants.push(Instant { secs, nanos });
        }
        for at in instants {
            let in_range = (first..=last).contains(&at.secs);
            for width in [-1, 0, 1, 2, 3, 6, 9, 10] {
                let fast = zoned_timestamp_fast(at, width);
                if in_range {
                    assert_eq!(
                        fast.as_deref(),
                        Some(zoned_timestamp_string(at, width).as_str()),
                        "{at:?} width {width}"
                    );
                } else {
                    assert_eq!(fast, None, "{at:?}");
                }
            }
        }
    }

    #[test]
    fn the_utc_timestamptz_fast_path_matches_the_general_one() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let mut texts: Vec<String> = vec![
            "2016-11-04 11:51:30+00".into(),
            "2016-11-04 11:51:30.1+00".into(),
            "2016-11-04 11:51:30.000001+00".into(),
            "2000-02-29 23:59:59.999999+00".into(),
            "0001-01-01 00:00:00+00".into(),
            "9999-12-31 23:59:59.5+00".into(),
        ];
        for _ in 0..20_000 {
            let (y, mo) = (1 + next(9999), 1 + next(12) as u32);
            let d = 1 + next(u64::from(days_in_month(y as i64, mo))) as u32;
            let mut t = format!(
                "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
                next(24),
                next(60),
                next(60)
            );
            let digits = next(10) as usize;
            if digits > 0 {
                t.push('.');
                for _ in 0..digits {
                    t.push(char::from(b'0' + next(10) as u8));
                }
            }
            t.push_str("+00");
            texts.push(t);
        }
        for t in &texts {
            let ZonedValue::At(at) = parse_timestamptz(t.as_bytes()).unwrap() else {
                panic!("{t}")
            };
            for width in [-1, 0, 1, 2, 3, 6, 9, 10] {
                assert_eq!(
                    utc_timestamptz_fast(t.as_bytes(), width).as_deref(),
                    Some(zoned_timestamp_string(at, width).as_str()),
                    "{t} width {width}"
                );
            }
        }
        // Shapes it leaves to the general path.
        for t in [
            "2016-11-04 11:51:30+01",
            "2016-11-04 11:51:30-00:30",
            "0044-03-15 12:00:00+00 BC",
            "12016-11-04 11:51:30+00",
            "infinity",
            "2016-02-30 11:51:30+00",
            "2016-11-04 24:00:00+00",
            "2016-11-04T11:51:30+00",
            "2016-11-04 11:51:30.+00",
            "2016-11-04 11:51:30.1234567890+00",
        ] {
            assert_eq!(utc_timestamptz_fast(t.as_bytes(), 6), None, "{t}");
        }
    }

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2016, 11, 4), 17109);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(days_from_civil(-4713, 11, 24), -2_440_588);
        for d in [
            -3_000_000_000i64,
            -1,
            0,
            1,
            59,
            60,
            17109,
            2_932_896,
            2_000_000_000,
        ] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn infinity_dates_are_debeziums_sentinel_dates() {
        // LocalDate.parse("-5877611-06-21").toEpochDay() by java.time's own
        // algorithm (LocalDate.toEpochDay), computed independently.
        assert_eq!(epoch_day_int(POSITIVE_INFINITY_DATE), -2_147_472_692);
        assert_eq!(epoch_day_int(NEGATIVE_INFINITY_DATE), -2_147_472_691);
        assert_eq!(parse_date(b"infinity").unwrap(), POSITIVE_INFINITY_DATE);
    }

    #[test]
    fn parses_timestamps() {
        let t = parse_timestamp(b"2016-11-04 13:51:30.123456").unwrap();
        assert_eq!(t.epoch_micros(), 1_478_267_490_123_456);
        let bc = parse_timestamp(b"4713-12-31 23:59:59.999999 BC").unwrap();
        assert_eq!(bc.epoch_micros(), -210_831_897_600_000_001);
        let z = match parse_timestamptz(b"2016-11-04 13:51:30.123456+02").unwrap() {
            ZonedValue::At(i) => i,
            ZonedValue::Infinity(_) => unreachable!(),
        };
        assert_eq!(zoned_timestamp_string(z, 6), "2016-11-04T11:51:30.123456Z");
        assert_eq!(zoned_timestamp_string(z, 0), "2016-11-04T11:51:30.123456Z");
        assert_eq!(zoned_timestamp_string(z, 3), "2016-11-04T11:51:30.123Z");
        assert!(parse_timestamp(b"2016-02-30 00:00:00").is_err());
        assert!(parse_timestamp(b"2016-11-04 13:51:30x").is_err());
    }
}
