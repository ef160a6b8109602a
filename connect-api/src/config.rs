//! Configuration definitions with pure validation (Kafka's `ConfigDef`).
//!
//! A connector, transform, converter or sink declares its keys once — name,
//! type, default, importance, documentation, validator — and the same
//! declaration serves parsing, REST validation (`PUT
//! /connector-plugins/{name}/config/validate`), the CLI's error messages and
//! the generated reference in `docs/`. Validation does no I/O and returns
//! every bad key at once.

use std::collections::BTreeMap;
use std::fmt;

/// Raw configuration: key → string value, as in a `.properties` file or the
/// `config` object of `POST /connectors`.
pub type Props = BTreeMap<String, String>;

/// The value types of Kafka's `ConfigDef.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Long,
    Double,
    List,
    Password,
    Class,
}

impl ConfigType {
    /// Kafka's upper-case name, as the REST validation response shows it.
    pub fn name(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
            ConfigType::Password => "PASSWORD",
            ConfigType::Class => "CLASS",
        }
    }
}

/// Kafka's `ConfigDef.Importance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    High,
    Medium,
    Low,
}

impl Importance {
    pub fn name(self) -> &'static str {
        match self {
            Importance::High => "HIGH",
            Importance::Medium => "MEDIUM",
            Importance::Low => "LOW",
        }
    }
}

/// A check applied to a parsed value. Pure.
#[derive(Clone, Copy)]
pub enum Validator {
    /// Inclusive numeric range (Int, Long, Double).
    Range { min: Option<f64>, max: Option<f64> },
    /// One of these strings, compared case-insensitively (Debezium's
    /// enumerated settings).
    OneOf(&'static [&'static str]),
    /// Each element of a list must be one of these (case-insensitive).
    EachOneOf(&'static [&'static str]),
    /// A non-empty string.
    NonEmptyString,
    /// Anything else: returns a message saying what is wrong.
    Custom(fn(&ConfigValue) -> Result<(), String>),
}

impl Validator {
    pub fn at_least(min: i64) -> Validator {
        Validator::Range {
            min: Some(min as f64),
            max: None,
        }
    }
    pub fn between(min: i64, max: i64) -> Validator {
        Validator::Range {
            min: Some(min as f64),
            max: Some(max as f64),
        }
    }

    fn check(&self, value: &ConfigValue) -> Result<(), String> {
        match self {
            Validator::Range { min, max } => {
                let n = match value {
                    ConfigValue::Int(v) => f64::from(*v),
                    ConfigValue::Long(v) => *v as f64,
                    ConfigValue::Double(v) => *v,
                    ConfigValue::Null => return Ok(()),
                    _ => return Ok(()),
                };
                match (min, max) {
                    (Some(lo), Some(hi)) if n < *lo || n > *hi => {
                        Err(format!("Value must be in the range [{lo}, {hi}]"))
                    }
                    (Some(lo), None) if n < *lo => Err(format!("Value must be at least {lo}")),
                    (None, Some(hi)) if n > *hi => Err(format!("Value must be no more than {hi}")),
                    _ => Ok(()),
                }
            }
            Validator::OneOf(allowed) => match value {
                ConfigValue::String(s) | ConfigValue::Class(s) => {
                    if allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) {
                        Ok(())
                    } else {
                        Err(format!("Value must be one of {}", allowed.join(", ")))
                    }
                }
                _ => Ok(()),
            },
            Validator::EachOneOf(allowed) => match value {
                ConfigValue::List(items) => {
                    for item in items {
                        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(item)) {
                            return Err(format!("'{item}' is not one of {}", allowed.join(", ")));
                        }
                    }
                    Ok(())
                }
                _ => Ok(()),
            },
            Validator::NonEmptyString => match value {
                ConfigValue::String(s) if s.is_empty() => Err("String must be non-empty".into()),
                _ => Ok(()),
            },
            Validator::Custom(f) => f(value),
        }
    }

    /// A human-readable description of the valid values, for docs and REST.
    pub fn describe(&self) -> String {
        match self {
            Validator::Range {
                min: Some(lo),
                max: Some(hi),
            } => format!("[{lo},...,{hi}]"),
            Validator::Range {
                min: Some(lo),
                max: None,
            } => format!("[{lo},...]"),
            Validator::Range {
                min: None,
                max: Some(hi),
            } => format!("[...,{hi}]"),
            Validator::Range { .. } => String::new(),
            Validator::OneOf(a) | Validator::EachOneOf(a) => a.join(", "),
            Validator::NonEmptyString => "non-empty string".into(),
            Validator::Custom(_) => String::new(),
        }
    }

    /// The recommended values, for enumerations.
    pub fn recommended(&self) -> Vec<String> {
        match self {
            Validator::OneOf(a) | Validator::EachOneOf(a) => {
                a.iter().map(|s| s.to_string()).collect()
            }
            _ => Vec::new(),
        }
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Validator({})", self.describe())
    }
}

/// One declared configuration key.
#[derive(Debug, Clone)]
pub struct ConfigKey {
    pub name: String,
    pub config_type: ConfigType,
    /// Default in string form; `None` means required (no default).
    pub default: Option<String>,
    /// When true the default is null: the key is optional and absent means
    /// "not set".
    pub default_null: bool,
    pub importance: Importance,
    pub documentation: String,
    pub validator: Option<Validator>,
    pub group: Option<String>,
}

impl ConfigKey {
    pub fn new(name: impl Into<String>, config_type: ConfigType) -> Self {
        ConfigKey {
            name: name.into(),
            config_type,
            default: None,
            default_null: false,
            importance: Importance::Medium,
            documentation: String::new(),
            validator: None,
            group: None,
        }
    }
    /// Sets the default (string form, parsed like a user value).
    pub fn default(mut self, value: impl Into<String>) -> Self {
        self.default = Some(value.into());
        self.default_null = false;
        self
    }
    /// Optional key with a null default.
    pub fn optional(mut self) -> Self {
        self.default = None;
        self.default_null = true;
        self
    }
    pub fn importance(mut self, importance: Importance) -> Self {
        self.importance = importance;
        self
    }
    pub fn doc(mut self, documentation: impl Into<String>) -> Self {
        self.documentation = documentation.into();
        self
    }
    pub fn validator(mut self, validator: Validator) -> Self {
        self.validator = Some(validator);
        self
    }
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }
    pub fn is_required(&self) -> bool {
        self.default.is_none() && !self.default_null
    }
}

/// A password: never shown by `Debug`, `Display` or validation results.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(value: impl Into<String>) -> Self {
        Password(value.into())
    }
    /// The secret itself; use only where it is sent to the server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}
impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

/// A parsed configuration value.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    Null,
    Boolean(bool),
    String(String),
    Int(i32),
    Long(i64),
    Double(f64),
    List(Vec<String>),
    Password(Password),
    Class(String),
}

/// Parses a raw string per Kafka's rules for `config_type`.
pub fn parse_value(config_type: ConfigType, raw: &str) -> Result<ConfigValue, String> {
    let trimmed = raw.trim();
    match config_type {
        ConfigType::Boolean => {
            if trimmed.eq_ignore_ascii_case("true") {
                Ok(ConfigValue::Boolean(true))
            } else if trimmed.eq_ignore_ascii_case("false") {
                Ok(ConfigValue::Boolean(false))
            } else {
                Err("Expected value to be either true or false".into())
            }
        }
        ConfigType::String => Ok(ConfigValue::String(trimmed.to_string())),
        ConfigType::Int => trimmed
            .parse::<i32>()
            .map(ConfigValue::Int)
            .map_err(|_| "Not a number of type INT".into()),
        ConfigType::Long => trimmed
            .parse::<i64>()
            .map(ConfigValue::Long)
            .map_err(|_| "Not a number of type LONG".into()),
        ConfigType::Double => trimmed
            .parse::<f64>()
            .map(ConfigValue::Double)
            .map_err(|_| "Not a number of type DOUBLE".into()),
        ConfigType::List => Ok(ConfigValue::List(if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split(',').map(|s| s.trim().to_string()).collect()
        })),
        ConfigType::Password => Ok(ConfigValue::Password(Password(raw.to_string()))),
        ConfigType::Class => {
            if trimmed.is_empty() {
                Err("Class name must not be empty".into())
            } else {
                Ok(ConfigValue::Class(trimmed.to_string()))
            }
        }
    }
}

/// The validation outcome of one declared key (Kafka's `ConfigValue` in the
/// REST validation response).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValidation {
    pub name: String,
    /// The value as given (or the default); passwords are shown as
    /// `[hidden]`.
    pub value: Option<String>,
    pub recommended_values: Vec<String>,
    pub errors: Vec<String>,
}

/// One problem with a configuration: the key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Properties under `prefix`, with the prefix removed.
pub fn props_with_prefix(props: &Props, prefix: &str) -> Props {
    props
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(prefix)
                .map(|rest| (rest.to_string(), v.clone()))
        })
        .collect()
}

/// A set of declared keys.
#[derive(Debug, Clone, Default)]
pub struct ConfigDef {
    keys: Vec<ConfigKey>,
}

impl ConfigDef {
    pub fn new() -> Self {
        ConfigDef::default()
    }

    /// Declares a key. Panics on a duplicate name (a programming error).
    pub fn define(mut self, key: ConfigKey) -> Self {
        assert!(
            self.key(&key.name).is_none(),
            "config key {} defined twice",
            key.name
        );
        self.keys.push(key);
        self
    }

    /// Declares every key of `other` too.
    pub fn merge(mut self, other: &ConfigDef) -> Self {
        for key in &other.keys {
            if self.key(&key.name).is_none() {
                self.keys.push(key.clone());
            }
        }
        self
    }

    pub fn keys(&self) -> &[ConfigKey] {
        &self.keys
    }

    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// Validates every declared key of `props`: one entry per declared key,
    /// each with its errors (empty when fine). Pure.
    pub fn validate(&self, props: &Props) -> Vec<KeyValidation> {
        self.keys
            .iter()
            .map(|key| {
                let raw = props.get(&key.name).map(String::as_str);
                let shown = raw.or(key.default.as_deref()).map(|v| {
                    if key.config_type == ConfigType::Password {
                        "[hidden]".to_string()
                    } else {
                        v.to_string()
                    }
                });
                let errors = match Self::parse_key(key, raw) {
                    Ok(_) => Vec::new(),
                    Err(message) => vec![message],
                };
                KeyValidation {
                    name: key.name.clone(),
                    value: shown,
                    recommended_values: key.validator.map(|v| v.recommended()).unwrap_or_default(),
                    errors,
                }
            })
            .collect()
    }

    /// Every error of [`ConfigDef::validate`], flattened.
    pub fn issues(&self, props: &Props) -> Vec<ConfigIssue> {
        self.validate(props)
            .into_iter()
            .flat_map(|v| {
                let key = v.name;
                v.errors.into_iter().map(move |message| ConfigIssue {
                    key: key.clone(),
                    message,
                })
            })
            .collect()
    }

    /// Parses `props` into typed values, or returns every problem.
    pub fn parse(&self, props: &Props) -> Result<ConfigValues, Vec<ConfigIssue>> {
        let mut values = BTreeMap::new();
        let mut issues = Vec::new();
        for key in &self.keys {
            match Self::parse_key(key, props.get(&key.name).map(String::as_str)) {
                Ok(v) => {
                    values.insert(key.name.clone(), v);
                }
                Err(message) => issues.push(ConfigIssue {
                    key: key.name.clone(),
                    message,
                }),
            }
        }
        if issues.is_empty() {
            Ok(ConfigValues {
                values,
                originals: props.clone(),
            })
        } else {
            Err(issues)
        }
    }

    fn parse_key(key: &ConfigKey, raw: Option<&str>) -> Result<ConfigValue, String> {
        let (text, from_user) = match (raw, &key.default) {
            (Some(v), _) => (v, true),
            (None, Some(d)) => (d.as_str(), false),
            (None, None) if key.default_null => return Ok(ConfigValue::Null),
            (None, None) => {
                return Err(format!(
                    "Missing required configuration \"{}\" which has no default value.",
                    key.name
                ))
            }
        };
        let shown = if key.config_type == ConfigType::Password {
            "[hidden]"
        } else {
            text
        };
        let value = parse_value(key.config_type, text)
            .map_err(|m| format!("Invalid value {shown} for configuration {}: {m}", key.name))?;
        if let Some(validator) = &key.validator {
            // Kafka validates defaults too, but a null/empty optional default
            // is always acceptable.
            if from_user || !text.is_empty() {
                validator.check(&value).map_err(|m| {
                    format!("Invalid value {shown} for configuration {}: {m}", key.name)
                })?;
            }
        }
        Ok(value)
    }

    /// Keys of `props` that are neither declared here nor start with one of
    /// `allowed_prefixes` (and are not in `allowed_keys`).
    pub fn unknown_keys<'a>(
        &self,
        props: &'a Props,
        allowed_keys: &[&str],
        allowed_prefixes: &[&str],
    ) -> Vec<&'a str> {
        props
            .keys()
            .map(String::as_str)
            .filter(|k| {
                self.key(k).is_none()
                    && !allowed_keys.contains(k)
                    && !allowed_prefixes.iter().any(|p| k.starts_with(p))
            })
            .collect()
    }

    /// A Markdown reference table of every key.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("| key | type | default | valid values | importance | description |\n|---|---|---|---|---|---|\n");
        for k in &self.keys {
            let default = match (&k.default, k.default_null) {
                (Some(d), _) if d.is_empty() => "\"\"".to_string(),
                (Some(d), _) => format!("`{d}`"),
                (None, true) => "null".to_string(),
                (None, false) => "(required)".to_string(),
            };
            let valid = k.validator.map(|v| v.describe()).unwrap_or_default();
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} |\n",
                k.name,
                k.config_type.name().to_lowercase(),
                default,
                valid.replace('|', "\\|"),
                k.importance.name().to_lowercase(),
                k.documentation.replace('|', "\\|").replace('\n', " ")
            ));
        }
        out
    }
}

/// Parsed, typed configuration values plus the originals.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigValues {
    values: BTreeMap<String, ConfigValue>,
    originals: Props,
}

impl ConfigValues {
    fn get(&self, name: &str) -> &ConfigValue {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("configuration key {name} is not defined"))
    }

    pub fn value(&self, name: &str) -> Option<&ConfigValue> {
        self.values.get(name)
    }

    pub fn get_bool(&self, name: &str) -> bool {
        match self.get(name) {
            ConfigValue::Boolean(b) => *b,
            other => panic!("configuration key {name} is not a boolean: {other:?}"),
        }
    }

    pub fn get_int(&self, name: &str) -> i32 {
        match self.get(name) {
            ConfigValue::Int(v) => *v,
            other => panic!("configuration key {name} is not an int: {other:?}"),
        }
    }

    pub fn get_long(&self, name: &str) -> i64 {
        match self.get(name) {
            ConfigValue::Long(v) => *v,
            ConfigValue::Int(v) => i64::from(*v),
            other => panic!("configuration key {name} is not a long: {other:?}"),
        }
    }

    pub fn get_double(&self, name: &str) -> f64 {
        match self.get(name) {
            ConfigValue::Double(v) => *v,
            other => panic!("configuration key {name} is not a double: {other:?}"),
        }
    }

    /// A string (or class) value; `None` when null.
    pub fn get_string(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            ConfigValue::String(s) | ConfigValue::Class(s) => Some(s),
            ConfigValue::Null => None,
            other => panic!("configuration key {name} is not a string: {other:?}"),
        }
    }

    pub fn get_list(&self, name: &str) -> &[String] {
        match self.get(name) {
            ConfigValue::List(v) => v,
            ConfigValue::Null => &[],
            other => panic!("configuration key {name} is not a list: {other:?}"),
        }
    }

    pub fn get_password(&self, name: &str) -> Option<&Password> {
        match self.get(name) {
            ConfigValue::Password(p) => Some(p),
            ConfigValue::Null => None,
            other => panic!("configuration key {name} is not a password: {other:?}"),
        }
    }

    /// The raw properties these values were parsed from.
    pub fn originals(&self) -> &Props {
        &self.originals
    }

    /// Raw properties under `prefix`, with the prefix removed.
    pub fn originals_with_prefix(&self, prefix: &str) -> Props {
        props_with_prefix(&self.originals, prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("topic", ConfigType::String)
                    .importance(Importance::High)
                    .doc("The topic")
                    .validator(Validator::NonEmptyString),
            )
            .define(
                ConfigKey::new("batch.size", ConfigType::Int)
                    .default("2000")
                    .validator(Validator::at_least(1)),
            )
            .define(
                ConfigKey::new("mode", ConfigType::String)
                    .default("adaptive")
                    .validator(Validator::OneOf(&["adaptive", "connect"])),
            )
            .define(ConfigKey::new("file", ConfigType::String).optional())
            .define(ConfigKey::new("secret", ConfigType::Password).optional())
            .define(ConfigKey::new("enabled", ConfigType::Boolean).default("true"))
            .define(ConfigKey::new("tables", ConfigType::List).default(""))
    }

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_typed_values_and_defaults() {
        let v = def()
            .parse(&props(&[
                ("topic", " lines "),
                ("tables", "a, b ,c"),
                ("enabled", "FALSE"),
                ("mode", "CONNECT"),
            ]))
            .unwrap();
        assert_eq!(v.get_string("topic"), Some("lines"));
        assert_eq!(v.get_int("batch.size"), 2000);
        assert_eq!(v.get_list("tables"), ["a", "b", "c"]);
        assert!(!v.get_bool("enabled"));
        assert_eq!(v.get_string("file"), None);
        assert_eq!(v.get_string("mode"), Some("CONNECT"));
        assert!(v.get_password("secret").is_none());
    }

    #[test]
    fn reports_every_bad_key_at_once() {
        let issues = def()
            .parse(&props(&[
                ("batch.size", "0"),
                ("enabled", "yes"),
                ("mode", "fast"),
                ("secret", "s3cret"),
            ]))
            .unwrap_err();
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["topic", "batch.size", "mode", "enabled"]);
        assert_eq!(
            issues[0].message,
            "Missing required configuration \"topic\" which has no default value."
        );
        assert_eq!(
            issues[1].message,
            "Invalid value 0 for configuration batch.size: Value must be at least 1"
        );
        assert!(issues[2].message.contains("adaptive, connect"));
        assert!(issues[3].message.contains("true or false"));
    }

    #[test]
    fn passwords_never_appear_in_validation_output() {
        let def = ConfigDef::new().define(
            ConfigKey::new("pw", ConfigType::Password)
                .validator(Validator::Custom(|_| Err("too short".into()))),
        );
        let out = def.validate(&props(&[("pw", "hunter2")]));
        assert_eq!(out[0].value.as_deref(), Some("[hidden]"));
        assert!(!format!("{out:?}").contains("hunter2"));
        assert!(out[0].errors[0].contains("[hidden]"));
        let parsed = ConfigDef::new()
            .define(ConfigKey::new("pw", ConfigType::Password))
            .parse(&props(&[("pw", "hunter2")]))
            .unwrap();
        assert_eq!(parsed.get_password("pw").unwrap().expose(), "hunter2");
        assert!(!format!("{:?}", parsed.get_password("pw")).contains("hunter2"));
    }

    #[test]
    fn unknown_keys_respect_allowed_prefixes() {
        let p = props(&[
            ("topic", "t"),
            ("name", "x"),
            ("transforms.a.type", "y"),
            ("database.hostname", "h"),
        ]);
        assert_eq!(
            def().unknown_keys(&p, &["name"], &["transforms."]),
            ["database.hostname"]
        );
    }

    #[test]
    fn markdown_lists_every_key() {
        let md = def().to_markdown();
        assert!(md.contains("| `topic` | string | (required) |"));
        assert!(md.contains("| `batch.size` | int | `2000` | [1,...] |"));
    }
}
