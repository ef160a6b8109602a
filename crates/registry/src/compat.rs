//! Compatibility levels and checks, with Confluent's meaning and messages.
//!
//! The verdict is apache-avro's [`SchemaCompatibility`] (reader/writer
//! resolution, as in the Avro specification). Confluent's server also treats
//! a partial match as incompatible (a reader enum without some of the
//! writer's symbols, a writer union with a branch the reader cannot read), and
//! so does this one. The messages are written in Confluent's format
//! (`{errorType:'…', description:'…', additionalInfo:'…'}`) by walking both
//! schemas to the place apache-avro complained about.

use std::fmt;

use apache_avro::error::CompatibilityError;
use apache_avro::schema::{
    ArraySchema, DecimalSchema, EnumSchema, FixedSchema, InnerDecimalSchema, MapSchema,
    RecordSchema, UuidSchema,
};
use apache_avro::schema_compatibility::{Compatibility as Resolution, SchemaCompatibility};
use apache_avro::Schema;
use serde::{Deserialize, Serialize};

/// A subject's (or the global) compatibility level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compatibility {
    /// No checks.
    None,
    /// The new schema can read data written with the latest version.
    Backward,
    /// The new schema can read data written with every version.
    BackwardTransitive,
    /// The latest version can read data written with the new schema.
    Forward,
    /// Every version can read data written with the new schema.
    ForwardTransitive,
    /// Backward and forward against the latest version.
    Full,
    /// Backward and forward against every version.
    FullTransitive,
}

impl Compatibility {
    /// Every level, in Confluent's order.
    pub const ALL: [Compatibility; 7] = [
        Compatibility::None,
        Compatibility::Backward,
        Compatibility::BackwardTransitive,
        Compatibility::Forward,
        Compatibility::ForwardTransitive,
        Compatibility::Full,
        Compatibility::FullTransitive,
    ];

    /// The name Confluent uses (`BACKWARD_TRANSITIVE`).
    pub fn as_str(self) -> &'static str {
        match self {
            Compatibility::None => "NONE",
            Compatibility::Backward => "BACKWARD",
            Compatibility::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Compatibility::Forward => "FORWARD",
            Compatibility::ForwardTransitive => "FORWARD_TRANSITIVE",
            Compatibility::Full => "FULL",
            Compatibility::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Parses a level name, ignoring case and surrounding blanks.
    pub fn parse(name: &str) -> Option<Compatibility> {
        let name = name.trim();
        Compatibility::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
    }

    fn transitive(self) -> bool {
        matches!(
            self,
            Compatibility::BackwardTransitive
                | Compatibility::ForwardTransitive
                | Compatibility::FullTransitive
        )
    }
}

impl fmt::Display for Compatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered version the new schema is checked against.
pub(crate) struct Previous<'a> {
    pub version: u32,
    pub schema: &'a Schema,
    /// The stored text, quoted in messages as Confluent does.
    pub text: &'a str,
}

/// Why `new` may not follow `previous` (oldest first) under `level`: empty
/// when it may. The messages are Confluent's, ending with the
/// `{validateFields: …, compatibility: …}` line.
pub(crate) fn check(level: Compatibility, new: &Schema, previous: &[Previous<'_>]) -> Vec<String> {
    let against: Vec<&Previous<'_>> = if level == Compatibility::None {
        Vec::new()
    } else if level.transitive() {
        previous.iter().rev().collect()
    } else {
        previous.last().into_iter().collect()
    };
    let mut messages = Vec::new();
    for old in against {
        messages = match level {
            Compatibility::None => Vec::new(),
            Compatibility::Backward | Compatibility::BackwardTransitive => {
                // The new schema reads what the old one wrote.
                let mut m = describe(old.schema, new, Side::New, Side::Old);
                append_old(&mut m, old);
                m
            }
            Compatibility::Forward | Compatibility::ForwardTransitive => {
                // The old schema reads what the new one writes.
                let mut m = describe(new, old.schema, Side::Old, Side::New);
                append_old(&mut m, old);
                m
            }
            Compatibility::Full | Compatibility::FullTransitive => {
                let mut m = describe(new, old.schema, Side::Old, Side::New);
                let mut back = describe(old.schema, new, Side::New, Side::Old);
                append_old(&mut back, old);
                m.extend(back);
                m
            }
        };
        if !messages.is_empty() {
            break;
        }
    }
    if !messages.is_empty() {
        messages.push(format!(
            "{{validateFields: 'false', compatibility: '{}'}}",
            level.as_str()
        ));
    }
    messages
}

fn append_old(messages: &mut Vec<String>, old: &Previous<'_>) {
    if !messages.is_empty() {
        messages.push(format!("{{oldSchemaVersion: {}}}", old.version));
        messages.push(format!("{{oldSchema: '{}'}}", old.text));
    }
}

#[derive(Clone, Copy)]
enum Side {
    New,
    Old,
}

impl Side {
    fn word(self) -> &'static str {
        match self {
            Side::New => "new",
            Side::Old => "old",
        }
    }
}

/// Avro's incompatibility types, as Confluent names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    NameMismatch,
    FixedSizeMismatch,
    MissingEnumSymbols,
    ReaderFieldMissingDefaultValue,
    TypeMismatch,
    MissingUnionBranch,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::NameMismatch => "NAME_MISMATCH",
            Kind::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            Kind::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            Kind::ReaderFieldMissingDefaultValue => "READER_FIELD_MISSING_DEFAULT_VALUE",
            Kind::TypeMismatch => "TYPE_MISMATCH",
            Kind::MissingUnionBranch => "MISSING_UNION_BRANCH",
        }
    }
}

/// One reason a reader cannot read a writer's data.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Incompatibility {
    kind: Kind,
    /// JSON-pointer-like location in the reader schema (`/fields/1/type`).
    path: String,
    info: String,
}

impl Incompatibility {
    fn render(&self, reader: Side, writer: Side) -> String {
        let (r, w, p) = (reader.word(), writer.word(), &self.path);
        let description = match self.kind {
            Kind::FixedSizeMismatch => format!(
                "The size of FIXED type field at path '{p}' in the {r} schema does not match with the {w} schema"
            ),
            Kind::TypeMismatch => format!(
                "The type (path '{p}') of a field in the {r} schema does not match with the {w} schema"
            ),
            Kind::NameMismatch => format!("The name of the schema has changed (path '{p}')"),
            Kind::MissingEnumSymbols => format!(
                "The {r} schema is missing enum symbols '{}' at path '{p}' in the {w} schema",
                self.info
            ),
            Kind::MissingUnionBranch => format!(
                "The {r} schema is missing a type inside a union field at path '{p}' in the {w} schema"
            ),
            Kind::ReaderFieldMissingDefaultValue => format!(
                "The field '{}' at path '{p}' in the {r} schema has no default value and is missing in the {w} schema",
                self.info
            ),
        };
        format!(
            "{{errorType:'{}', description:'{description}', additionalInfo:'{}'}}",
            self.kind.name(),
            self.info
        )
    }
}

/// Confluent-style messages for "can `reader` read what `writer` wrote".
fn describe(writer: &Schema, reader: &Schema, reader_side: Side, writer_side: Side) -> Vec<String> {
    incompatibilities(writer, reader)
        .into_iter()
        .map(|i| i.render(reader_side, writer_side))
        .collect()
}

/// Empty when `reader` can read everything `writer` writes.
fn incompatibilities(writer: &Schema, reader: &Schema) -> Vec<Incompatibility> {
    match SchemaCompatibility::can_read(writer, reader) {
        Ok(Resolution::Full) => Vec::new(),
        Ok(Resolution::Partial) => vec![explain_partial(writer, reader, String::new())
            .unwrap_or_else(|| Incompatibility {
                kind: Kind::TypeMismatch,
                path: "/".to_string(),
                info: "the reader can read only some of the writer's values".to_string(),
            })],
        Err(e) => vec![explain_error(&e, Some(writer), Some(reader), String::new())],
    }
}

fn root(path: &str) -> String {
    if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    }
}

/// Turns apache-avro's error (a chain of field mismatches ending in a cause)
/// into a located incompatibility, following the same fields in both schemas.
fn explain_error(
    e: &CompatibilityError,
    writer: Option<&Schema>,
    reader: Option<&Schema>,
    path: String,
) -> Incompatibility {
    match e {
        CompatibilityError::FieldTypeMismatch(name, inner) => {
            let r_field = reader.and_then(|r| record_field(r, name));
            let w_field = match (writer, r_field) {
                (Some(Schema::Record(w)), Some((_, rf))) => std::iter::once(&rf.name)
                    .chain(rf.aliases.iter())
                    .find_map(|n| w.fields.iter().find(|wf| &wf.name == n)),
                _ => None,
            };
            let path = match r_field {
                Some((i, _)) => format!("{path}/fields/{i}/type"),
                None => format!("{path}/fields"),
            };
            explain_error(
                inner,
                w_field.map(|f| &f.schema),
                r_field.map(|(_, f)| &f.schema),
                path,
            )
        }
        CompatibilityError::MissingDefaultValue(name) => {
            let i = reader.and_then(|r| record_field(r, name)).map(|(i, _)| i);
            Incompatibility {
                kind: Kind::ReaderFieldMissingDefaultValue,
                path: match i {
                    Some(i) => format!("{path}/fields/{i}"),
                    None => format!("{path}/fields"),
                },
                info: name.clone(),
            }
        }
        CompatibilityError::MissingSymbols => Incompatibility {
            kind: Kind::MissingEnumSymbols,
            path: format!("{path}/symbols"),
            info: match (writer, reader) {
                (Some(Schema::Enum(w)), Some(Schema::Enum(r))) => missing_symbols(w, r),
                _ => String::new(),
            },
        },
        CompatibilityError::NameMismatch { writer_name, .. } => Incompatibility {
            kind: Kind::NameMismatch,
            path: format!("{path}/name"),
            info: format!("expected: {writer_name}"),
        },
        CompatibilityError::FixedMismatch => Incompatibility {
            kind: Kind::FixedSizeMismatch,
            path: format!("{path}/size"),
            info: match (writer.and_then(fixed_of), reader.and_then(fixed_of)) {
                (Some(w), Some(r)) => format!("expected: {}, found: {}", w.size, r.size),
                _ => String::new(),
            },
        },
        CompatibilityError::MissingUnionElements
        | CompatibilityError::SchemaMismatchAllUnionElements => {
            if let Some(Schema::Union(w)) = writer {
                // The first writer branch the reader cannot fully read.
                let reader_ok = |branch: &Schema| {
                    reader.is_some_and(|r| {
                        matches!(
                            SchemaCompatibility::can_read(branch, r),
                            Ok(Resolution::Full)
                        )
                    })
                };
                let (i, branch) = w
                    .variants()
                    .iter()
                    .enumerate()
                    .find(|(_, b)| !reader_ok(b))
                    .unwrap_or((0, &Schema::Null));
                if let Some(found) = reader.and_then(|r| explain_branch(branch, r, &path)) {
                    return found;
                }
                Incompatibility {
                    kind: Kind::MissingUnionBranch,
                    path: format!("{path}/{i}"),
                    info: format!("reader union lacking writer type: {}", type_name(branch)),
                }
            } else if let Some(found) = writer
                .zip(reader)
                .and_then(|(w, r)| explain_branch(w, r, &path))
            {
                found
            } else {
                Incompatibility {
                    kind: Kind::TypeMismatch,
                    path: root(&path),
                    info: format!(
                        "reader union lacking writer type: {}",
                        writer.map_or("UNKNOWN".to_string(), type_name)
                    ),
                }
            }
        }
        CompatibilityError::DecimalMismatch { .. } => Incompatibility {
            kind: Kind::TypeMismatch,
            path: root(&path),
            info: e.to_string(),
        },
        CompatibilityError::WrongType { .. }
        | CompatibilityError::TypeExpected { .. }
        | CompatibilityError::Inconclusive(_) => Incompatibility {
            kind: Kind::TypeMismatch,
            path: root(&path),
            info: match (writer, reader) {
                (Some(w), Some(r)) => format!(
                    "reader type: {} not compatible with writer type: {}",
                    type_name(r),
                    type_name(w)
                ),
                _ => e.to_string(),
            },
        },
    }
}

/// Finds where a partial resolution comes from: a reader enum lacking some
/// writer symbols, or a writer union branch the reader cannot read.
fn explain_partial(writer: &Schema, reader: &Schema, path: String) -> Option<Incompatibility> {
    let full = |w: &Schema, r: &Schema| {
        matches!(SchemaCompatibility::can_read(w, r), Ok(Resolution::Full))
    };
    let partial = |w: &Schema, r: &Schema| {
        matches!(SchemaCompatibility::can_read(w, r), Ok(Resolution::Partial))
    };
    match (writer, reader) {
        (Schema::Union(w), _) => {
            for (i, branch) in w.variants().iter().enumerate() {
                if full(branch, reader) {
                    continue;
                }
                if partial(branch, reader) {
                    if let Some(found) = explain_partial(branch, reader, format!("{path}/{i}")) {
                        return Some(found);
                    }
                }
                if let Some(found) = explain_branch(branch, reader, &path) {
                    return Some(found);
                }
                return Some(Incompatibility {
                    kind: Kind::MissingUnionBranch,
                    path: format!("{path}/{i}"),
                    info: format!("reader union lacking writer type: {}", type_name(branch)),
                });
            }
            None
        }
        (_, Schema::Union(r)) => r
            .variants()
            .iter()
            .enumerate()
            .find(|(_, b)| partial(writer, b))
            .and_then(|(i, b)| explain_partial(writer, b, format!("{path}/{i}"))),
        (Schema::Enum(w), Schema::Enum(r)) => Some(Incompatibility {
            kind: Kind::MissingEnumSymbols,
            path: format!("{path}/symbols"),
            info: missing_symbols(w, r),
        }),
        (
            Schema::Array(ArraySchema { items: w, .. }),
            Schema::Array(ArraySchema { items: r, .. }),
        ) => explain_partial(w, r, format!("{path}/items")),
        (Schema::Map(MapSchema { types: w, .. }), Schema::Map(MapSchema { types: r, .. })) => {
            explain_partial(w, r, format!("{path}/values"))
        }
        (
            Schema::Record(RecordSchema {
                fields: w_fields, ..
            }),
            Schema::Record(RecordSchema {
                fields: r_fields, ..
            }),
        ) => {
            for (i, rf) in r_fields.iter().enumerate() {
                let wf = std::iter::once(&rf.name)
                    .chain(rf.aliases.iter())
                    .find_map(|n| w_fields.iter().find(|wf| &wf.name == n));
                if let Some(wf) = wf {
                    if partial(&wf.schema, &rf.schema) {
                        return explain_partial(
                            &wf.schema,
                            &rf.schema,
                            format!("{path}/fields/{i}/type"),
                        );
                    }
                }
            }
            None
        }
        _ => None,
    }
}

/// Why `reader` cannot read the writer's union branch (or schema) `branch`,
/// when the reader has a schema of the same name or type for it: the
/// mismatch inside that one (a record changed incompatibly inside a
/// nullable union, say). None when the reader has nothing alike.
fn explain_branch(branch: &Schema, reader: &Schema, path: &str) -> Option<Incompatibility> {
    let candidates: Vec<(String, &Schema)> = match reader {
        Schema::Union(r) => r
            .variants()
            .iter()
            .enumerate()
            .map(|(j, b)| (format!("{path}/{j}"), b))
            .collect(),
        other => vec![(path.to_string(), other)],
    };
    let alike = |a: &Schema, b: &Schema| match (a.name(), b.name()) {
        (Some(x), Some(y)) => x.name() == y.name(),
        (None, None) => type_name(a) == type_name(b),
        _ => false,
    };
    let (p, rb) = candidates.into_iter().find(|(_, rb)| alike(branch, rb))?;
    match SchemaCompatibility::can_read(branch, rb) {
        Ok(Resolution::Full) => None,
        Ok(Resolution::Partial) => explain_partial(branch, rb, p),
        Err(e) => Some(explain_error(&e, Some(branch), Some(rb), p)),
    }
}

fn record_field<'a>(
    schema: &'a Schema,
    name: &str,
) -> Option<(usize, &'a apache_avro::schema::RecordField)> {
    match schema {
        Schema::Record(r) => r.fields.iter().enumerate().find(|(_, f)| f.name == name),
        _ => None,
    }
}

fn missing_symbols(writer: &EnumSchema, reader: &EnumSchema) -> String {
    let missing: Vec<&str> = writer
        .symbols
        .iter()
        .filter(|s| !reader.symbols.contains(s))
        .map(String::as_str)
        .collect();
    format!("[{}]", missing.join(", "))
}

fn fixed_of(schema: &Schema) -> Option<&FixedSchema> {
    match schema {
        Schema::Fixed(f)
        | Schema::Duration(f)
        | Schema::Uuid(UuidSchema::Fixed(f))
        | Schema::Decimal(DecimalSchema {
            inner: InnerDecimalSchema::Fixed(f),
            ..
        }) => Some(f),
        _ => None,
    }
}

/// Avro's type name (as Java's `Schema.Type` prints it) of a schema.
fn type_name(schema: &Schema) -> String {
    match schema {
        Schema::Null => "NULL",
        Schema::Boolean => "BOOLEAN",
        Schema::Int | Schema::Date | Schema::TimeMillis => "INT",
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => "LONG",
        Schema::Float => "FLOAT",
        Schema::Double => "DOUBLE",
        Schema::Bytes
        | Schema::BigDecimal
        | Schema::Uuid(UuidSchema::Bytes)
        | Schema::Decimal(DecimalSchema {
            inner: InnerDecimalSchema::Bytes,
            ..
        }) => "BYTES",
        Schema::String | Schema::Uuid(UuidSchema::String) => "STRING",
        Schema::Array(_) => "ARRAY",
        Schema::Map(_) => "MAP",
        Schema::Union(_) => "UNION",
        Schema::Record(_) => "RECORD",
        Schema::Enum(_) => "ENUM",
        Schema::Fixed(_)
        | Schema::Duration(_)
        | Schema::Uuid(UuidSchema::Fixed(_))
        | Schema::Decimal(DecimalSchema {
            inner: InnerDecimalSchema::Fixed(_),
            ..
        }) => "FIXED",
        Schema::Ref { name } => return name.fullname(None),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Schema {
        Schema::parse_str(text).unwrap()
    }

    fn run(level: Compatibility, new: &str, old: &[&str]) -> Vec<String> {
        let parsed: Vec<Schema> = old.iter().map(|t| s(t)).collect();
        let previous: Vec<Previous<'_>> = parsed
            .iter()
            .zip(old)
            .enumerate()
            .map(|(i, (schema, text))| Previous {
                version: i as u32 + 1,
                schema,
                text,
            })
            .collect();
        check(level, &s(new), &previous)
    }

    const V1: &str = r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}"#;
    const V2_NO_DEFAULT: &str = r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}"#;
    const V2_DEFAULT: &str = r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":"x"}]}"#;

    #[test]
    fn added_field_without_default_is_not_backward() {
        let m = run(Compatibility::Backward, V2_NO_DEFAULT, &[V1]);
        assert_eq!(
            m[0],
            "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path '/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'b'}"
        );
        assert_eq!(m[1], "{oldSchemaVersion: 1}");
        assert_eq!(m[2], format!("{{oldSchema: '{V1}'}}"));
        assert_eq!(m[3], "{validateFields: 'false', compatibility: 'BACKWARD'}");
        assert!(run(Compatibility::Backward, V2_DEFAULT, &[V1]).is_empty());
        // Forward: the old schema ignores the new field.
        assert!(run(Compatibility::Forward, V2_NO_DEFAULT, &[V1]).is_empty());
    }

    #[test]
    fn removed_field_without_default_is_not_forward() {
        let m = run(Compatibility::Forward, V1, &[V2_NO_DEFAULT]);
        assert!(m[0].contains("READER_FIELD_MISSING_DEFAULT_VALUE"), "{m:?}");
        assert!(
            m[0].contains(
                "in the old schema has no default value and is missing in the new schema"
            ),
            "{m:?}"
        );
        assert!(run(Compatibility::Backward, V1, &[V2_NO_DEFAULT]).is_empty());
        assert!(run(Compatibility::Forward, V1, &[V2_DEFAULT]).is_empty());
    }

    #[test]
    fn type_changes_are_located() {
        let new = r#"{"type":"record","name":"r","fields":[{"name":"a","type":"string"}]}"#;
        let m = run(Compatibility::Backward, new, &[V1]);
        assert!(m[0].starts_with("{errorType:'TYPE_MISMATCH'"), "{m:?}");
        assert!(m[0].contains("path '/fields/0/type'"), "{m:?}");
        assert!(
            m[0].contains("reader type: STRING not compatible with writer type: INT"),
            "{m:?}"
        );
        // int -> long is a promotion: backward yes, forward no.
        let long = r#"{"type":"record","name":"r","fields":[{"name":"a","type":"long"}]}"#;
        assert!(run(Compatibility::Backward, long, &[V1]).is_empty());
        assert!(!run(Compatibility::Forward, long, &[V1]).is_empty());
        assert!(!run(Compatibility::Full, long, &[V1]).is_empty());
    }

    #[test]
    fn enum_symbols_and_union_branches_must_be_readable() {
        let abc = r#"{"type":"enum","name":"e","symbols":["A","B","C"]}"#;
        let ab = r#"{"type":"enum","name":"e","symbols":["A","B"]}"#;
        let m = run(Compatibility::Backward, ab, &[abc]);
        assert!(m[0].contains("MISSING_ENUM_SYMBOLS"), "{m:?}");
        assert!(m[0].contains("additionalInfo:'[C]'"), "{m:?}");
        assert!(run(Compatibility::Backward, abc, &[ab]).is_empty());

        let wide = r#"["null","string","int"]"#;
        let narrow = r#"["null","string"]"#;
        let m = run(Compatibility::Backward, narrow, &[wide]);
        assert!(m[0].contains("MISSING_UNION_BRANCH"), "{m:?}");
        assert!(m[0].contains("writer type: INT"), "{m:?}");
        assert!(run(Compatibility::Backward, wide, &[narrow]).is_empty());
    }

    #[test]
    fn transitive_checks_every_version_latest_only_does_not() {
        // v1 has a, v2 drops it, v3 adds it back without default.
        let v1 = r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}"#;
        let v2 = r#"{"type":"record","name":"r","fields":[]}"#;
        let v3 =
            r#"{"type":"record","name":"r","fields":[{"name":"a","type":"string","default":"z"}]}"#;
        // Against v2 only: v3's field has a default: fine.
        assert!(run(Compatibility::Backward, v3, &[v1, v2]).is_empty());
        // Against v1 too: a was an int.
        let m = run(Compatibility::BackwardTransitive, v3, &[v1, v2]);
        assert!(m[0].contains("TYPE_MISMATCH"), "{m:?}");
        assert!(m.iter().any(|l| l == "{oldSchemaVersion: 1}"), "{m:?}");
        assert!(m.last().unwrap().contains("BACKWARD_TRANSITIVE"));
        assert!(run(Compatibility::None, r#""string""#, &[v1, v2]).is_empty());
    }

    #[test]
    fn name_changes_are_incompatible() {
        let other = r#"{"type":"record","name":"q","fields":[{"name":"a","type":"int"}]}"#;
        let m = run(Compatibility::Backward, other, &[V1]);
        assert!(m[0].contains("NAME_MISMATCH"), "{m:?}");
    }

    fn envelope(value_fields: &str) -> String {
        format!(
            r#"{{"type":"record","name":"Envelope","namespace":"db.public.t","fields":[
                {{"name":"before","type":["null",{{"type":"record","name":"Value","fields":[{value_fields}]}}],"default":null}},
                {{"name":"after","type":["null","Value"],"default":null}},
                {{"name":"op","type":"string"}}]}}"#
        )
    }

    #[test]
    fn debezium_envelopes_evolve_like_their_value() {
        let v1 = envelope(r#"{"name":"id","type":"int"}"#);
        let with_default = envelope(
            r#"{"name":"id","type":"int"},{"name":"n","type":["null","string"],"default":null}"#,
        );
        let without_default =
            envelope(r#"{"name":"id","type":"int"},{"name":"n","type":"string"}"#);
        assert!(run(Compatibility::Backward, &with_default, &[&v1]).is_empty());
        assert!(run(Compatibility::Full, &with_default, &[&v1]).is_empty());
        let m = run(Compatibility::Backward, &without_default, &[&v1]);
        assert!(m[0].contains("READER_FIELD_MISSING_DEFAULT_VALUE"), "{m:?}");
        assert!(m[0].contains("path '/fields/0/type/1/fields/1'"), "{m:?}");
        assert!(run(Compatibility::Forward, &without_default, &[&v1]).is_empty());
    }

    #[test]
    fn level_names_parse_case_insensitively() {
        for c in Compatibility::ALL {
            assert_eq!(Compatibility::parse(&c.as_str().to_lowercase()), Some(c));
        }
        assert_eq!(Compatibility::parse("SOMETIMES"), None);
    }
}
