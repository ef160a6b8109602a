//! Java's `SimpleDateFormat`, in UTC, for `TimestampRouter`'s
//! `timestamp.format`, `TimestampConverter`'s `format` and Connect's
//! ISO-8601 date literals.
//!
//! Patterns use Java's letters (`G y Y M L w W D d F E u a H k K h m s S z
//! Z X`), `'quoted'` literals and `''` for a quote; any other ASCII letter is
//! an error, as in Java. Formatting uses the US locale (English month and
//! day names, weeks starting on Sunday) and the proleptic Gregorian
//! calendar. Parsing is lenient like Java's default (month 13 is January of
//! the next year), skips spaces before numbers, reads abutting numeric
//! fields by their width (`yyyyMMdd`), resolves two-digit years (`yy`) into
//! the 100 years around now, honours a parsed zone (`z`, `Z`, `X`) and
//! ignores text after the pattern, as `DateFormat.parse(String)` does.

use std::time::{SystemTime, UNIX_EPOCH};

pub const MILLIS_PER_DAY: i64 = 86_400_000;

const PATTERN_LETTERS: &str = "GyMdkHmsSEDFwWahKzZYuXL";
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Sunday first, as `Calendar.DAY_OF_WEEK` counts.
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(Vec<char>),
    Field(char, usize),
}

/// A compiled `SimpleDateFormat` pattern (UTC).
#[derive(Debug, Clone)]
pub struct JavaDateFormat {
    pattern: String,
    items: Vec<Item>,
}

impl JavaDateFormat {
    /// Compiles a pattern; the error is Java's `IllegalArgumentException`
    /// message.
    pub fn compile(pattern: &str) -> Result<JavaDateFormat, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut items = Vec::new();
        let mut literal = Vec::new();
        let mut in_quote = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                } else {
                    in_quote = !in_quote;
                    i += 1;
                }
                continue;
            }
            if in_quote || !c.is_ascii_alphabetic() {
                literal.push(c);
                i += 1;
                continue;
            }
            if !PATTERN_LETTERS.contains(c) {
                return Err(format!("Illegal pattern character '{c}'"));
            }
            let start = i;
            while i < chars.len() && chars[i] == c {
                i += 1;
            }
            let count = i - start;
            if c == 'X' && count > 3 {
                return Err(format!("invalid ISO 8601 format: length={count}"));
            }
            if !literal.is_empty() {
                items.push(Item::Literal(std::mem::take(&mut literal)));
            }
            items.push(Item::Field(c, count));
        }
        if in_quote {
            return Err("Unterminated quote".into());
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        Ok(JavaDateFormat {
            pattern: pattern.to_string(),
            items,
        })
    }

    /// `toPattern()`.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// `format(new Date(millis))`.
    pub fn format(&self, millis: i64) -> String {
        let days = millis.div_euclid(MILLIS_PER_DAY);
        let ms_of_day = millis.rem_euclid(MILLIS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let dow = day_of_week(days);
        let hour = ms_of_day / 3_600_000;
        let minute = ms_of_day / 60_000 % 60;
        let second = ms_of_day / 1000 % 60;
        let milli = ms_of_day % 1000;
        let mut out = String::with_capacity(self.pattern.len() + 8);
        for item in &self.items {
            let (c, count) = match item {
                Item::Literal(chars) => {
                    out.extend(chars.iter());
                    continue;
                }
                Item::Field(c, count) => (*c, *count),
            };
            match c {
                'G' => out.push_str(if year > 0 { "AD" } else { "BC" }),
                'y' | 'Y' => {
                    let y = if c == 'Y' {
                        week_of_year(days, year).0
                    } else {
                        year
                    };
                    let y = if y > 0 { y } else { 1 - y };
                    if count == 2 {
                        pad(&mut out, y % 100, 2);
                    } else {
                        pad(&mut out, y, count);
                    }
                }
                'M' | 'L' => {
                    if count >= 4 {
                        out.push_str(MONTHS[month as usize - 1]);
                    } else if count == 3 {
                        out.push_str(&MONTHS[month as usize - 1][..3]);
                    } else {
                        pad(&mut out, i64::from(month), count);
                    }
                }
                'd' => pad(&mut out, i64::from(day), count),
                'D' => pad(&mut out, days - days_from_civil(year, 1, 1) + 1, count),
                'F' => pad(&mut out, (i64::from(day) - 1) / 7 + 1, count),
                'w' => pad(&mut out, week_of_year(days, year).1, count),
                'W' => {
                    let first = days - i64::from(day) + 1;
                    pad(
                        &mut out,
                        (i64::from(day) - 1 + day_of_week(first)) / 7 + 1,
                        count,
                    )
                }
                'E' => {
                    let name = DAYS[dow as usize];
                    out.push_str(if count >= 4 { name } else { &name[..3] });
                }
                'u' => pad(&mut out, if dow == 0 { 7 } else { dow }, count),
                'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
                'H' => pad(&mut out, hour, count),
                'k' => pad(&mut out, if hour == 0 { 24 } else { hour }, count),
                'K' => pad(&mut out, hour % 12, count),
                'h' => pad(&mut out, if hour % 12 == 0 { 12 } else { hour % 12 }, count),
                'm' => pad(&mut out, minute, count),
                's' => pad(&mut out, second, count),
                'S' => pad(&mut out, milli, count),
                'z' => out.push_str(if count >= 4 {
                    "Coordinated Universal Time"
                } else {
                    "UTC"
                }),
                'Z' => out.push_str("+0000"),
                'X' => out.push('Z'),
                _ => {}
            }
        }
        out
    }

    /// `parse(text).getTime()`: milliseconds since the epoch, or the index
    /// where parsing failed.
    pub fn parse(&self, text: &str) -> Result<i64, usize> {
        let text: Vec<char> = text.chars().collect();
        let mut pos = 0usize;
        let mut f = Parsed::default();
        for (index, item) in self.items.iter().enumerate() {
            match item {
                Item::Literal(chars) => {
                    for ch in chars {
                        if text.get(pos) != Some(ch) {
                            return Err(pos);
                        }
                        pos += 1;
                    }
                }
                Item::Field(c, count) => {
                    let obey = match self.items.get(index + 1) {
                        Some(Item::Field(next, next_count)) => obeys_count(*next, *next_count),
                        _ => false,
                    };
                    pos = parse_field(&text, pos, *c, *count, obey, &mut f)?;
                }
            }
        }
        f.to_millis().ok_or(0)
    }
}

/// Whether a numeric field before this one must be read by its width.
fn obeys_count(next: char, count: usize) -> bool {
    match next {
        'M' | 'L' => count <= 2,
        'y' | 'd' | 'k' | 'H' | 'm' | 's' | 'S' | 'D' | 'F' | 'w' | 'W' | 'h' | 'K' | 'Y' | 'u' => {
            true
        }
        _ => false,
    }
}

#[derive(Default)]
struct Parsed {
    year: Option<i64>,
    week_year: Option<i64>,
    bc: bool,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    hour_of_day: Option<i64>,
    hour: Option<i64>,
    pm: bool,
    minute: i64,
    second: i64,
    milli: i64,
    offset_ms: i64,
}

impl Parsed {
    fn to_millis(&self) -> Option<i64> {
        let mut year = self.year.or(self.week_year).unwrap_or(1970);
        if self.bc {
            year = 1 - year;
        }
        let days = match (self.day_of_year, self.month, self.day) {
            (Some(doy), None, None) => days_from_civil(year, 1, 1).checked_add(doy - 1)?,
            _ => {
                let month0 = self.month.unwrap_or(1) - 1;
                let y = year.checked_add(month0.div_euclid(12))?;
                let m = month0.rem_euclid(12) + 1;
                if y.abs() > 100_000_000 {
                    return None;
                }
                days_from_civil(y, m as u32, 1).checked_add(self.day.unwrap_or(1) - 1)?
            }
        };
        let hour = match self.hour_of_day {
            Some(h) => h,
            None => self.hour.unwrap_or(0) + if self.pm { 12 } else { 0 },
        };
        let time = hour
            .checked_mul(3_600_000)?
            .checked_add(self.minute.checked_mul(60_000)?)?
            .checked_add(self.second.checked_mul(1000)?)?
            .checked_add(self.milli)?;
        days.checked_mul(MILLIS_PER_DAY)?
            .checked_add(time)?
            .checked_sub(self.offset_ms)
    }
}

fn parse_field(
    text: &[char],
    mut pos: usize,
    c: char,
    count: usize,
    obey: bool,
    f: &mut Parsed,
) -> Result<usize, usize> {
    let numeric = match c {
        'M' | 'L' => count <= 2,
        'E' | 'a' | 'G' | 'z' | 'Z' | 'X' => false,
        _ => true,
    };
    if numeric {
        while matches!(text.get(pos), Some(' ') | Some('\t')) {
            pos += 1;
        }
        let start = pos;
        let limit = if obey {
            if start + count > text.len() {
                return Err(start);
            }
            start + count
        } else {
            text.len()
        };
        let mut end = start;
        let negative = text.get(end) == Some(&'-') && end < limit;
        if negative {
            end += 1;
        }
        let digits_start = end;
        while end < limit && text[end].is_ascii_digit() {
            end += 1;
        }
        if end == digits_start {
            return Err(start);
        }
        let digits: String = text[digits_start..end].iter().collect();
        let mut value: i64 = digits.parse().map_err(|_| start)?;
        if negative {
            value = -value;
        }
        match c {
            'y' | 'Y' => {
                if count <= 2 && end - start == 2 && !negative {
                    let start_year = current_year() - 80;
                    let ambiguous = start_year.rem_euclid(100);
                    value +=
                        start_year.div_euclid(100) * 100 + if value < ambiguous { 100 } else { 0 };
                }
                if c == 'y' {
                    f.year = Some(value);
                } else {
                    f.week_year = Some(value);
                }
            }
            'M' | 'L' => f.month = Some(value),
            'd' => f.day = Some(value),
            'D' => f.day_of_year = Some(value),
            'H' => f.hour_of_day = Some(value),
            'k' => f.hour_of_day = Some(if value == 24 { 0 } else { value }),
            'h' => f.hour = Some(if value == 12 { 0 } else { value }),
            'K' => f.hour = Some(value),
            'm' => f.minute = value,
            's' => f.second = value,
            'S' => f.milli = value,
            // Week-based fields and day numbers are read but, with a full
            // date present, do not change it (as with Java's resolution).
            _ => {}
        }
        return Ok(end);
    }
    match c {
        'M' | 'L' => {
            let (i, end) = match_names(text, pos, &MONTHS).ok_or(pos)?;
            f.month = Some(i as i64 + 1);
            Ok(end)
        }
        'E' => match_names(text, pos, &DAYS).map(|(_, end)| end).ok_or(pos),
        'a' => {
            let (i, end) = match_names(text, pos, &["AM", "PM"]).ok_or(pos)?;
            f.pm = i == 1;
            Ok(end)
        }
        'G' => {
            let (i, end) = match_names(text, pos, &["AD", "BC"]).ok_or(pos)?;
            f.bc = i == 1;
            Ok(end)
        }
        _ => {
            let (offset, end) = parse_zone(text, pos, c).ok_or(pos)?;
            f.offset_ms = offset;
            Ok(end)
        }
    }
}

/// Longest case-insensitive match among full names and their three-letter
/// abbreviations: (index, end position).
fn match_names(text: &[char], pos: usize, names: &[&str]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for (i, name) in names.iter().enumerate() {
        let forms: [&str; 2] = [name, &name[..name.len().min(3)]];
        for form in forms {
            let len = form.chars().count();
            if pos + len <= text.len()
                && text[pos..pos + len]
                    .iter()
                    .zip(form.chars())
                    .all(|(a, b)| a.eq_ignore_ascii_case(&b))
                && !matches!(best, Some((_, end)) if pos + len <= end)
            {
                best = Some((i, pos + len));
            }
        }
    }
    best
}

/// A zone: `UTC`/`UT`/`GMT`/`Z`, `GMT±h[h][:mm]`, `±hhmm`, `±hh:mm`, `±hh`.
fn parse_zone(text: &[char], pos: usize, letter: char) -> Option<(i64, usize)> {
    let rest: String = text[pos..].iter().collect();
    let upper = rest.to_ascii_uppercase();
    if letter == 'X' || letter == 'Z' || letter == 'z' {
        if let Some(stripped) = upper
            .strip_prefix("GMT")
            .or_else(|| upper.strip_prefix("UTC"))
        {
            let consumed = 3;
            if stripped.starts_with(['+', '-']) {
                let (offset, used) = parse_offset(&rest[consumed..])?;
                return Some((offset, pos + consumed + used));
            }
            return Some((0, pos + consumed));
        }
        if upper.starts_with("UT") {
            return Some((0, pos + 2));
        }
        if upper.starts_with('Z') && letter != 'z' {
            return Some((0, pos + 1));
        }
    }
    let (offset, used) = parse_offset(&rest)?;
    Some((offset, pos + used))
}

/// `±hh[[:]mm]` (or `±h` after GMT): offset in ms and characters used.
fn parse_offset(s: &str) -> Option<(i64, usize)> {
    let chars: Vec<char> = s.chars().collect();
    let sign = match chars.first()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let mut i = 1;
    let mut hours = 0i64;
    let hour_start = i;
    while i < chars.len() && i - hour_start < 2 && chars[i].is_ascii_digit() {
        hours = hours * 10 + i64::from(chars[i].to_digit(10)?);
        i += 1;
    }
    if i == hour_start {
        return None;
    }
    let mut minutes = 0i64;
    let colon = chars.get(i) == Some(&':');
    let min_start = if colon { i + 1 } else { i };
    if chars.len() >= min_start + 2
        && chars[min_start].is_ascii_digit()
        && chars[min_start + 1].is_ascii_digit()
    {
        minutes =
            i64::from(chars[min_start].to_digit(10)? * 10 + chars[min_start + 1].to_digit(10)?);
        i = min_start + 2;
    }
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((sign * (hours * 3_600_000 + minutes * 60_000), i))
}

fn pad(out: &mut String, value: i64, width: usize) {
    let digits = value.unsigned_abs().to_string();
    if value < 0 {
        out.push('-');
    }
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

fn current_year() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    civil_from_days(now.div_euclid(MILLIS_PER_DAY)).0
}

/// 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
fn day_of_week(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

/// (week-based year, week of year) with weeks starting on Sunday and the
/// week holding January 1st as week 1 (US rules).
fn week_of_year(days: i64, year: i64) -> (i64, i64) {
    let start = days - day_of_week(days);
    if start + 6 >= days_from_civil(year + 1, 1, 1) {
        return (year + 1, 1);
    }
    let jan1 = days_from_civil(year, 1, 1);
    let week1 = jan1 - day_of_week(jan1);
    (year, (start - week1) / 7 + 1)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(p: &str, ms: i64) -> String {
        JavaDateFormat::compile(p).unwrap().format(ms)
    }
    fn parse(p: &str, s: &str) -> Result<i64, usize> {
        JavaDateFormat::compile(p).unwrap().parse(s)
    }

    #[test]
    fn civil_round_trips() {
        for days in [-800_000, -1, 0, 1, 59, 365, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(17_169), (2017, 1, 3));
    }

    #[test]
    fn formats_like_simple_date_format() {
        // Kafka's TimestampRouterTest: 1483425001864 with yyyyMMdd.
        assert_eq!(fmt("yyyyMMdd", 1_483_425_001_864), "20170103");
        // TimestampConverterTest's pattern.
        assert_eq!(
            fmt("yyyy MM dd HH mm ss SSS z", 86_401_234),
            "1970 01 02 00 00 01 234 UTC"
        );
        assert_eq!(
            fmt("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", 1_483_425_001_864),
            "2017-01-03T06:30:01.864Z"
        );
        assert_eq!(
            fmt("EEE, d MMM yy h:mm a", 1_483_425_001_864),
            "Tue, 3 Jan 17 6:30 AM"
        );
        assert_eq!(fmt("EEEE MMMM G Z", 0), "Thursday January AD +0000");
        assert_eq!(fmt("'o''clock' ''", 0), "o'clock '");
        assert_eq!(fmt("D w W F u k K", 0), "1 1 1 1 4 24 0");
        // 2016-12-31 (a Saturday) is in week 53; 2017-01-01 starts week 1.
        assert_eq!(fmt("w Y", 17_166 * MILLIS_PER_DAY), "53 2016");
        assert_eq!(fmt("w Y", 17_167 * MILLIS_PER_DAY), "1 2017");
        // 2014-12-28 (Sunday): its week holds 2015-01-01, so week 1 of 2015.
        assert_eq!(fmt("w YYYY yyyy", 16_432 * MILLIS_PER_DAY), "1 2015 2014");
        assert_eq!(fmt("yyyy-MM-dd HH:mm", -1), "1969-12-31 23:59");
    }

    #[test]
    fn rejects_what_java_rejects() {
        assert_eq!(
            JavaDateFormat::compile("bad-format").unwrap_err(),
            "Illegal pattern character 'b'"
        );
        assert_eq!(
            JavaDateFormat::compile("yyyy'T").unwrap_err(),
            "Unterminated quote"
        );
        assert!(JavaDateFormat::compile("XXXX").is_err());
    }

    #[test]
    fn parses_like_simple_date_format() {
        assert_eq!(
            parse("yyyy MM dd HH mm ss SSS z", "1970 01 02 00 00 01 234 UTC"),
            Ok(86_401_234)
        );
        assert_eq!(parse("yyyyMMdd", "20170103"), Ok(17_169 * MILLIS_PER_DAY));
        assert_eq!(
            parse("yyyy-MM-dd", "2017-01-03 trailing"),
            Ok(17_169 * MILLIS_PER_DAY)
        );
        // lenient: February 30th is March 2nd
        assert_eq!(
            parse("yyyy-MM-dd", "2017-02-30"),
            parse("yyyy-MM-dd", "2017-03-02")
        );
        assert_eq!(
            parse("yyyy-MM-dd", "2017-13-01"),
            parse("yyyy-MM-dd", "2018-01-01")
        );
        assert_eq!(
            parse("yyyy-MM-dd'T'HH:mm:ssXXX", "1970-01-01T01:00:00+01:00"),
            Ok(0)
        );
        assert_eq!(
            parse("yyyy-MM-dd HH:mm Z", "1970-01-01 00:00 -0130"),
            Ok(5_400_000)
        );
        assert_eq!(
            parse("dd MMM yyyy hh:mm a", "02 jan 1970 12:30 PM"),
            Ok(MILLIS_PER_DAY + 45_000_000)
        );
        assert_eq!(parse("yyyy-MM-dd", "2017/01/03"), Err(4));
        assert!(parse("yyyy-MM-dd", "").is_err());
        // two-digit years land within 80 years before and 20 after now
        let y = current_year();
        let parsed = parse("yy", &format!("{:02}", (y + 1) % 100)).unwrap();
        assert_eq!(civil_from_days(parsed.div_euclid(MILLIS_PER_DAY)).0, y + 1);
        let parsed = parse("yy", &format!("{:02}", (y - 30) % 100)).unwrap();
        assert_eq!(civil_from_days(parsed.div_euclid(MILLIS_PER_DAY)).0, y - 30);
    }
}
