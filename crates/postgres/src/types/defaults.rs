//! Column default values, as Debezium's `PostgresDefaultValueConverter`
//! derives the schema default from the default expression
//! (`pg_get_expr(adbin, adrelid)`: `42`, `'abc'::character varying`,
//! `nextval('t_id_seq'::regclass)`, `CURRENT_TIMESTAMP`, …).

/// Which of Debezium's default-value mappers applies, by the column's
/// declared type name (`column.typeName()`; a domain's own name matches
/// none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DefaultKind {
    Bit,
    Varbit,
    Bool,
    /// `bpchar`, `varchar`, `text`.
    Text,
    Numeric,
    Float4,
    Float8,
    Int2,
    Int4,
    Int8,
    /// `json`, `jsonb`.
    Json,
    Xml,
    Uuid,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
    Enum {
        namespace: String,
        name: String,
    },
}

impl DefaultKind {
    pub fn for_type(name: &str, namespace: &str, is_enum: bool) -> Option<DefaultKind> {
        Some(match name {
            "bit" => DefaultKind::Bit,
            "varbit" => DefaultKind::Varbit,
            "bool" => DefaultKind::Bool,
            "bpchar" | "varchar" | "text" => DefaultKind::Text,
            "numeric" => DefaultKind::Numeric,
            "float4" => DefaultKind::Float4,
            "float8" => DefaultKind::Float8,
            "int2" => DefaultKind::Int2,
            "int4" => DefaultKind::Int4,
            "int8" => DefaultKind::Int8,
            "json" | "jsonb" => DefaultKind::Json,
            "xml" => DefaultKind::Xml,
            "uuid" => DefaultKind::Uuid,
            "date" => DefaultKind::Date,
            "time" => DefaultKind::Time,
            "timestamp" => DefaultKind::Timestamp,
            "timestamptz" => DefaultKind::Timestamptz,
            "interval" => DefaultKind::Interval,
            _ if is_enum => DefaultKind::Enum {
                namespace: namespace.to_string(),
                name: name.to_string(),
            },
            _ => return None,
        })
    }

    /// The types whose expression Debezium trims first.
    fn trims(&self) -> bool {
        !matches!(
            self,
            DefaultKind::Text | DefaultKind::Json | DefaultKind::Xml | DefaultKind::Enum { .. }
        )
    }

    /// The PostgreSQL text (in the form the column's converter reads) of the
    /// default, or `None` when Debezium derives no default.
    pub fn default_text(&self, expression: &str) -> Option<String> {
        let expr = if self.trims() {
            expression.trim()
        } else {
            expression
        };
        // parseNullDefault
        let null_default = matches!(
            self,
            DefaultKind::Bool
                | DefaultKind::Numeric
                | DefaultKind::Float4
                | DefaultKind::Float8
                | DefaultKind::Int2
                | DefaultKind::Int4
                | DefaultKind::Int8
        );
        if null_default && expr.starts_with("NULL::") {
            return None;
        }
        match self {
            DefaultKind::Bit => {
                let v = extract_default(expr, "00")?;
                Some(v)
            }
            DefaultKind::Varbit => extract_default(expr, "0"),
            DefaultKind::Bool => {
                // Boolean.parseBoolean
                let v = extract_default(expr, "false")?;
                Some(
                    if v.eq_ignore_ascii_case("true") {
                        "t"
                    } else {
                        "f"
                    }
                    .to_string(),
                )
            }
            DefaultKind::Text | DefaultKind::Xml => extract_default(expr, ""),
            DefaultKind::Json => extract_default(expr, "{}"),
            DefaultKind::Numeric | DefaultKind::Float4 | DefaultKind::Float8 => {
                let v = extract_default(expr, "0.0")?;
                // new BigDecimal / Float.parseFloat reject NaN spellings the
                // value converters would accept.
                if v.bytes()
                    .any(|c| c.is_ascii_alphabetic() && c != b'e' && c != b'E')
                {
                    return None;
                }
                Some(v)
            }
            DefaultKind::Int2 | DefaultKind::Int4 | DefaultKind::Int8 => extract_default(expr, "0"),
            DefaultKind::Uuid => canonical_uuid(&extract_default(
                expr,
                "00000000-0000-0000-0000-000000000000",
            )?),
            DefaultKind::Date => {
                let v = extract_default(expr, "1970-01-01")?;
                // TimestampUtils.toLocalDateTime: a date, optionally with a time.
                let date_end = v.find(' ').unwrap_or(v.len());
                let (date, rest) = v.split_at(date_end);
                let era = rest.trim_end().ends_with(" BC") || rest.trim_end() == "BC";
                Some(if era {
                    format!("{date} BC")
                } else {
                    date.to_string()
                })
            }
            DefaultKind::Time => {
                let v = extract_default(expr, "00:00")?;
                // TimestampUtils.toLocalTime accepts HH:mm without seconds.
                Some(if v.len() == 5 && v.as_bytes()[2] == b':' {
                    format!("{v}:00")
                } else {
                    v
                })
            }
            DefaultKind::Timestamp => {
                let v = extract_default(expr, "1970-01-01")?;
                Some(with_time(&v))
            }
            DefaultKind::Timestamptz => {
                let v = extract_default(expr, "1970-01-01")?;
                let v = with_time(&v);
                // No offset: TimestampUtils uses the JVM zone (UTC assumed).
                let has_offset = v
                    .rsplit(' ')
                    .find(|p| *p != "BC" && *p != "AD")
                    .is_some_and(|p| {
                        p.rfind(['+', '-'])
                            .is_some_and(|i| i > 0 && p.contains(':'))
                    });
                Some(if has_offset { v } else { insert_offset(&v) })
            }
            DefaultKind::Interval => extract_default(expr, "epoch"),
            DefaultKind::Enum { namespace, name } => extract_enum_default(namespace, name, expr),
        }
    }
}

/// A date-only value gets a midnight time.
fn with_time(v: &str) -> String {
    let (body, era) = match v.strip_suffix(" BC") {
        Some(b) => (b, " BC"),
        None => (v, ""),
    };
    if body.contains(':') {
        v.to_string()
    } else {
        format!("{body} 00:00:00{era}")
    }
}

fn insert_offset(v: &str) -> String {
    match v.strip_suffix(" BC") {
        Some(b) => format!("{b}+00 BC"),
        None => format!("{v}+00"),
    }
}

/// `^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\)` (a function call such as
/// `nextval(...)` or `now()`).
fn looks_like_function(v: &str) -> bool {
    let s = v.strip_prefix('(').unwrap_or(v);
    let ident_len = s
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
        .count();
    if ident_len == 0 {
        return false;
    }
    let Some(rest) = s[ident_len..].strip_prefix('(') else {
        return false;
    };
    let line = rest.split('\n').next().unwrap_or("");
    line.contains(')')
}

/// `extractDefault(value, generatedValuePlaceholder)`.
fn extract_default(v: &str, placeholder: &str) -> Option<String> {
    const CURRENT_DATE_TIMES: &[&str] = &[
        "current_timestamp",
        "current_time",
        "current_date",
        "localtime",
        "localtimestamp",
    ];
    if looks_like_function(v) || CURRENT_DATE_TIMES.iter().any(|c| v.eq_ignore_ascii_case(c)) {
        return Some(placeholder.to_string());
    }
    if !v.contains('\'') {
        return if v.starts_with("NULL::") {
            None
        } else {
            Some(v.to_string())
        };
    }
    // '(.*?)': the first quoted run (no '' unescaping, as Debezium).
    let start = v.find('\'')? + 1;
    let len = v[start..].find('\'')?;
    let inner = &v[start..start + len];
    if inner.contains('\n') {
        return None;
    }
    Some(inner.to_string())
}

/// `UUID.fromString(s).toString()`.
fn canonical_uuid(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() != 5 {
        return None;
    }
    let widths = [8usize, 4, 4, 4, 12];
    let mut out = String::with_capacity(36);
    for (i, (p, w)) in parts.iter().zip(widths).enumerate() {
        if p.is_empty() || p.len() > 16 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let v = u64::from_str_radix(p, 16).ok()?;
        if i > 0 {
            out.push('-');
        }
        let hex = format!("{v:0w$x}");
        // Java masks each group to its width.
        out.push_str(&hex[hex.len() - w..]);
    }
    Some(out)
}

/// Splits a possibly quoted, possibly schema-qualified type name.
fn parse_type_id(s: &str) -> Option<(Option<String>, String)> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    match parts.len() {
        1 => Some((None, parts.pop()?)),
        2 => {
            let name = parts.pop()?;
            Some((parts.pop(), name))
        }
        _ => None,
    }
}

/// `extractEnumDefault`: `'value'::type` whose type matches the column's.
fn extract_enum_default(namespace: &str, name: &str, v: &str) -> Option<String> {
    let cast = v.rfind("::")?;
    let (suffix_schema, suffix_name) = parse_type_id(&v[cast + 2..])?;
    if suffix_name != name {
        return None;
    }
    if let Some(schema) = suffix_schema {
        if schema != namespace {
            return None;
        }
    }
    let value = &v[..cast];
    if value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'') {
        Some(value[1..value.len() - 1].to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_like_debezium() {
        let int = DefaultKind::Int4;
        assert_eq!(
            int.default_text("nextval('t_id_seq'::regclass)").as_deref(),
            Some("0")
        );
        assert_eq!(int.default_text("42").as_deref(), Some("42"));
        assert_eq!(int.default_text("'-1'::integer").as_deref(), Some("-1"));
        assert_eq!(int.default_text("NULL::integer"), None);
        let text = DefaultKind::Text;
        assert_eq!(
            text.default_text("'abc'::character varying").as_deref(),
            Some("abc")
        );
        assert_eq!(text.default_text("NULL::character varying"), None);
        let ts = DefaultKind::Timestamp;
        assert_eq!(
            ts.default_text("CURRENT_TIMESTAMP").as_deref(),
            Some("1970-01-01 00:00:00")
        );
        assert_eq!(
            ts.default_text("now()").as_deref(),
            Some("1970-01-01 00:00:00")
        );
        let tz = DefaultKind::Timestamptz;
        assert_eq!(
            tz.default_text("'2020-01-01 10:00:00+02'::timestamp with time zone")
                .as_deref(),
            Some("2020-01-01 10:00:00+02")
        );
        assert_eq!(
            tz.default_text("now()").as_deref(),
            Some("1970-01-01 00:00:00+00")
        );
        assert_eq!(
            DefaultKind::Uuid
                .default_text("'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid")
                .as_deref(),
            Some("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        );
        assert_eq!(
            DefaultKind::Uuid
                .default_text("gen_random_uuid()")
                .as_deref(),
            Some("00000000-0000-0000-0000-000000000000")
        );
        assert_eq!(DefaultKind::Bool.default_text("true").as_deref(), Some("t"));
        assert_eq!(
            DefaultKind::Bit.default_text("B'101'::\"bit\"").as_deref(),
            Some("101")
        );
        let mood = DefaultKind::Enum {
            namespace: "public".into(),
            name: "mood".into(),
        };
        assert_eq!(mood.default_text("'happy'::mood").as_deref(), Some("happy"));
        assert_eq!(
            mood.default_text("'happy'::public.mood").as_deref(),
            Some("happy")
        );
        assert_eq!(mood.default_text("'happy'::other.mood"), None);
        assert_eq!(DefaultKind::for_type("_int4", "pg_catalog", false), None);
    }
}
