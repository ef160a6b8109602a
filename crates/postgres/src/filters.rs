//! Debezium's include/exclude lists and `message.key.columns`.
//!
//! Lists are comma-separated regular expressions (a comma inside a pattern
//! is written `\,`), matched against the whole name, case-insensitively, as
//! Debezium does.

use regex::{Regex, RegexBuilder};

/// Compiles a comma-separated list of anchored, case-insensitive patterns.
pub fn compile_list(list: &str) -> Result<Vec<Regex>, String> {
    split_escaped(list, ',')
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .map(|p| {
            RegexBuilder::new(&format!("^(?:{p})$"))
                .case_insensitive(true)
                .build()
                .map_err(|e| format!("invalid regular expression '{p}': {e}"))
        })
        .collect()
}

fn split_escaped(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&sep) {
            cur.push(sep);
            chars.next();
        } else if c == sep {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

/// Which tables and columns are captured.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    schema_include: Vec<Regex>,
    schema_exclude: Vec<Regex>,
    table_include: Vec<Regex>,
    table_exclude: Vec<Regex>,
    column_include: Vec<Regex>,
    column_exclude: Vec<Regex>,
}

const SYSTEM_SCHEMAS: &[&str] = &["pg_catalog", "information_schema"];

impl Filters {
    pub fn new(
        schema_include: &str,
        schema_exclude: &str,
        table_include: &str,
        table_exclude: &str,
        column_include: &str,
        column_exclude: &str,
    ) -> Result<Filters, String> {
        Ok(Filters {
            schema_include: compile_list(schema_include)?,
            schema_exclude: compile_list(schema_exclude)?,
            table_include: compile_list(table_include)?,
            table_exclude: compile_list(table_exclude)?,
            column_include: compile_list(column_include)?,
            column_exclude: compile_list(column_exclude)?,
        })
    }

    fn any(patterns: &[Regex], s: &str) -> bool {
        patterns.iter().any(|p| p.is_match(s))
    }

    /// Is `schema.table` captured?
    pub fn includes_table(&self, schema: &str, table: &str) -> bool {
        if SYSTEM_SCHEMAS.contains(&schema)
            || schema.starts_with("pg_toast")
            || schema.starts_with("pg_temp")
        {
            return false;
        }
        if !self.schema_include.is_empty() && !Self::any(&self.schema_include, schema) {
            return false;
        }
        if Self::any(&self.schema_exclude, schema) {
            return false;
        }
        let full = format!("{schema}.{table}");
        if !self.table_include.is_empty() && !Self::any(&self.table_include, &full) {
            return false;
        }
        !Self::any(&self.table_exclude, &full)
    }

    /// Is column `schema.table.column` part of change events?
    pub fn includes_column(&self, schema: &str, table: &str, column: &str) -> bool {
        if self.column_include.is_empty() && self.column_exclude.is_empty() {
            return true;
        }
        let full = format!("{schema}.{table}.{column}");
        if !self.column_include.is_empty() && !Self::any(&self.column_include, &full) {
            return false;
        }
        !Self::any(&self.column_exclude, &full)
    }

    /// Tables named by the include list when it names plain tables (for
    /// `publication.autocreate.mode=filtered`).
    pub fn has_table_filters(&self) -> bool {
        !(self.schema_include.is_empty()
            && self.schema_exclude.is_empty()
            && self.table_include.is_empty()
            && self.table_exclude.is_empty())
    }
}

/// `message.key.columns`: `<table regex>:<col>,<col>;<table regex>:<col>…`.
#[derive(Debug, Clone, Default)]
pub struct MessageKeyColumns {
    entries: Vec<(Regex, Vec<String>)>,
}

pub fn parse_message_key_columns(spec: &str) -> Result<MessageKeyColumns, String> {
    let mut entries = Vec::new();
    for part in split_escaped(spec, ';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (table, cols) = part.rsplit_once(':').ok_or_else(|| {
            format!("'{part}' must have the form <fully-qualified table>:<column>,<column>")
        })?;
        let re = RegexBuilder::new(&format!("^(?:{})$", table.trim()))
            .case_insensitive(true)
            .build()
            .map_err(|e| format!("invalid table pattern '{table}': {e}"))?;
        let cols: Vec<String> = cols
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        if cols.is_empty() {
            return Err(format!("'{part}' names no key columns"));
        }
        entries.push((re, cols));
    }
    Ok(MessageKeyColumns { entries })
}

impl MessageKeyColumns {
    /// The custom key columns for `schema.table`, if configured.
    pub fn for_table(&self, schema: &str, table: &str) -> Option<&[String]> {
        let full = format!("{schema}.{table}");
        self.entries
            .iter()
            .find(|(re, _)| re.is_match(&full))
            .map(|(_, c)| c.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_column_filters_match_whole_names_case_insensitively() {
        let f = Filters::new(
            "",
            "",
            "public.orders,inventory\\..*",
            "",
            "",
            "public.orders.secret",
        )
        .unwrap();
        assert!(f.includes_table("public", "orders"));
        assert!(f.includes_table("public", "ORDERS"));
        assert!(!f.includes_table("public", "orders_archive"));
        assert!(f.includes_table("inventory", "anything"));
        assert!(!f.includes_table("pg_catalog", "pg_class"));
        assert!(f.includes_column("public", "orders", "id"));
        assert!(!f.includes_column("public", "orders", "secret"));
        let f = Filters::new("inventory", "", "", "", "", "").unwrap();
        assert!(!f.includes_table("public", "t"));
        assert!(compile_list("(unclosed").is_err());
    }

    #[test]
    fn message_key_columns() {
        let m = parse_message_key_columns("inventory.customers:pk1,pk2;(.*).purchaseorders:pk3")
            .unwrap();
        assert_eq!(
            m.for_table("inventory", "customers").unwrap(),
            ["pk1", "pk2"]
        );
        assert_eq!(m.for_table("x", "purchaseorders").unwrap(), ["pk3"]);
        assert!(m.for_table("x", "other").is_none());
        assert!(parse_message_key_columns("nocolon").is_err());
    }
}
