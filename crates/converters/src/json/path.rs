//! Conversion errors that name where in the value (or schema) they
//! happened. The path is collected while the error unwinds, so the success
//! path pays nothing for it.

use std::fmt;

use sluice_connect_api::Value;

enum Seg {
    Field(String),
    Index(usize),
    MapKey(usize),
    MapValue(Option<String>, usize),
    Items,
    Keys,
    Values,
    Default,
    Schema,
    Payload,
}

struct Inner {
    message: String,
    /// Innermost segment first.
    path: Vec<Seg>,
}

/// A conversion error with the path to the offending field.
pub(crate) struct ConvError(Box<Inner>);

pub(crate) type ConvResult<T = ()> = Result<T, ConvError>;

impl ConvError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ConvError(Box::new(Inner {
            message: message.into(),
            path: Vec::new(),
        }))
    }

    fn push(mut self, seg: Seg) -> Self {
        self.0.path.push(seg);
        self
    }

    pub(crate) fn in_field(self, name: &str) -> Self {
        self.push(Seg::Field(name.to_string()))
    }
    pub(crate) fn in_index(self, i: usize) -> Self {
        self.push(Seg::Index(i))
    }
    pub(crate) fn in_map_key(self, i: usize) -> Self {
        self.push(Seg::MapKey(i))
    }
    pub(crate) fn in_map_value(self, key: &Value, i: usize) -> Self {
        self.push(Seg::MapValue(key.as_str().map(str::to_string), i))
    }
    pub(crate) fn in_map_value_named(self, key: &str, i: usize) -> Self {
        self.push(Seg::MapValue(Some(key.to_string()), i))
    }
    pub(crate) fn in_items(self) -> Self {
        self.push(Seg::Items)
    }
    pub(crate) fn in_map_keys(self) -> Self {
        self.push(Seg::Keys)
    }
    pub(crate) fn in_map_values(self) -> Self {
        self.push(Seg::Values)
    }
    pub(crate) fn in_default(self) -> Self {
        self.push(Seg::Default)
    }
    pub(crate) fn in_schema(self) -> Self {
        self.push(Seg::Schema)
    }
    pub(crate) fn in_payload(self) -> Self {
        self.push(Seg::Payload)
    }

    /// The path, outermost first, e.g. `after.tags[2]`; empty at the top.
    pub(crate) fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.0.path.iter().rev() {
            match seg {
                Seg::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
                Seg::MapKey(i) => out.push_str(&format!("[key of entry {i}]")),
                Seg::MapValue(Some(k), _) => out.push_str(&format!("[{k:?}]")),
                Seg::MapValue(None, i) => out.push_str(&format!("[value of entry {i}]")),
                Seg::Items => out.push_str("<items>"),
                Seg::Keys => out.push_str("<keys>"),
                Seg::Values => out.push_str("<values>"),
                Seg::Default => out.push_str("<default>"),
                Seg::Schema => out.push_str("schema"),
                Seg::Payload => out.push_str("payload"),
            }
        }
        out
    }

    pub(crate) fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for ConvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() {
            f.write_str(self.message())
        } else {
            write!(f, "{} (at \"{path}\")", self.message())
        }
    }
}
