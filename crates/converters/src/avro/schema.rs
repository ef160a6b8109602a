//! Avro schemas: the model, the text Avro's `Schema.toString()` writes (what
//! Confluent's serializer registers) and a parser for schemas fetched from
//! the registry.
//!
//! Named types are shared through `Arc`, as Java shares schema objects; the
//! writer emits a named type's definition the first time it meets its full
//! name and a name reference afterwards, provided the second occurrence is
//! equal to the first (Avro's `writeNameRef`). Two different definitions of
//! one name are an error, as in Avro ("Can't redefine").

use std::collections::HashMap;
use std::sync::Arc;

use super::json::{write_str, Json};

/// Properties (`connect.name`, `logicalType`, …) in insertion order.
pub type Props = Vec<(String, Json)>;

/// The primitive Avro types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Primitive {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
}

impl Primitive {
    pub fn name(self) -> &'static str {
        match self {
            Primitive::Null => "null",
            Primitive::Boolean => "boolean",
            Primitive::Int => "int",
            Primitive::Long => "long",
            Primitive::Float => "float",
            Primitive::Double => "double",
            Primitive::Bytes => "bytes",
            Primitive::String => "string",
        }
    }

    fn from_name(name: &str) -> Option<Primitive> {
        Some(match name {
            "null" => Primitive::Null,
            "boolean" => Primitive::Boolean,
            "int" => Primitive::Int,
            "long" => Primitive::Long,
            "float" => Primitive::Float,
            "double" => Primitive::Double,
            "bytes" => Primitive::Bytes,
            "string" => Primitive::String,
            _ => return None,
        })
    }
}

/// Every type name of Avro (a named type in the current namespace whose
/// short name is one of these is written with its full name).
const TYPE_NAMES: &[&str] = &[
    "record", "enum", "array", "map", "union", "fixed", "string", "bytes", "int", "long", "float",
    "double", "boolean", "null",
];

/// A full name split into namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub name: String,
    pub namespace: Option<String>,
}

impl Name {
    /// A name in `namespace` (an empty namespace is no namespace).
    pub fn new(name: impl Into<String>, namespace: Option<String>) -> Name {
        Name {
            name: name.into(),
            namespace: namespace.filter(|s| !s.is_empty()),
        }
    }

    pub fn full(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Avro's `Name.getQualified(defaultSpace)`.
    fn qualified(&self, current: Option<&str>) -> String {
        if self.namespace.is_some()
            && self.namespace.as_deref() == current
            && !TYPE_NAMES.contains(&self.name.as_str())
        {
            self.name.clone()
        } else {
            self.full()
        }
    }
}

/// A record field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub schema: AvroSchema,
    pub doc: Option<String>,
    pub default: Option<Json>,
    /// `"descending"` / `"ignore"`; `None` is ascending.
    pub order: Option<String>,
    pub aliases: Vec<String>,
    pub props: Props,
}

impl Field {
    pub fn new(name: impl Into<String>, schema: AvroSchema) -> Field {
        Field {
            name: name.into(),
            schema,
            doc: None,
            default: None,
            order: None,
            aliases: Vec::new(),
            props: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub name: Name,
    pub doc: Option<String>,
    pub fields: Vec<Field>,
    pub aliases: Vec<String>,
    pub props: Props,
}

impl Record {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    pub name: Name,
    pub doc: Option<String>,
    pub symbols: Vec<String>,
    pub default: Option<String>,
    pub aliases: Vec<String>,
    pub props: Props,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fixed {
    pub name: Name,
    pub doc: Option<String>,
    pub size: usize,
    pub aliases: Vec<String>,
    pub props: Props,
}

/// An Avro schema.
#[derive(Debug, Clone, PartialEq)]
pub enum AvroSchema {
    Primitive(Primitive, Props),
    Array(Box<AvroSchema>, Props),
    Map(Box<AvroSchema>, Props),
    Union(Vec<AvroSchema>),
    Record(Arc<Record>),
    Enum(Arc<Enum>),
    Fixed(Arc<Fixed>),
}

impl AvroSchema {
    pub fn primitive(p: Primitive) -> AvroSchema {
        AvroSchema::Primitive(p, Vec::new())
    }

    pub fn null() -> AvroSchema {
        AvroSchema::primitive(Primitive::Null)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, AvroSchema::Primitive(Primitive::Null, _))
    }

    pub fn is_union(&self) -> bool {
        matches!(self, AvroSchema::Union(_))
    }

    /// True for records, enums and fixed (Avro's named types).
    pub fn is_named(&self) -> bool {
        matches!(
            self,
            AvroSchema::Record(_) | AvroSchema::Enum(_) | AvroSchema::Fixed(_)
        )
    }

    /// Avro's `Schema.getType().getName()`.
    pub fn type_name(&self) -> &'static str {
        match self {
            AvroSchema::Primitive(p, _) => p.name(),
            AvroSchema::Array(..) => "array",
            AvroSchema::Map(..) => "map",
            AvroSchema::Union(_) => "union",
            AvroSchema::Record(_) => "record",
            AvroSchema::Enum(_) => "enum",
            AvroSchema::Fixed(_) => "fixed",
        }
    }

    pub fn name(&self) -> Option<&Name> {
        match self {
            AvroSchema::Record(r) => Some(&r.name),
            AvroSchema::Enum(e) => Some(&e.name),
            AvroSchema::Fixed(f) => Some(&f.name),
            _ => None,
        }
    }

    /// The schema's properties (a union has none).
    pub fn props(&self) -> &[(String, Json)] {
        match self {
            AvroSchema::Primitive(_, p) | AvroSchema::Array(_, p) | AvroSchema::Map(_, p) => p,
            AvroSchema::Union(_) => &[],
            AvroSchema::Record(r) => &r.props,
            AvroSchema::Enum(e) => &e.props,
            AvroSchema::Fixed(f) => &f.props,
        }
    }

    pub fn prop(&self, key: &str) -> Option<&Json> {
        self.props().iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn prop_str(&self, key: &str) -> Option<&str> {
        self.prop(key).and_then(Json::as_str)
    }

    /// Mutable properties; `None` for a union.
    pub fn props_mut(&mut self) -> Option<&mut Props> {
        match self {
            AvroSchema::Primitive(_, p) | AvroSchema::Array(_, p) | AvroSchema::Map(_, p) => {
                Some(p)
            }
            AvroSchema::Union(_) => None,
            AvroSchema::Record(r) => Some(&mut Arc::make_mut(r).props),
            AvroSchema::Enum(e) => Some(&mut Arc::make_mut(e).props),
            AvroSchema::Fixed(f) => Some(&mut Arc::make_mut(f).props),
        }
    }

    /// Avro's `JsonProperties.addProp`: adds the property unless it is
    /// already there with the same value; a different value is an error
    /// ("Can't overwrite property").
    pub fn add_prop(&mut self, key: &str, value: Json) -> Result<(), String> {
        let Some(props) = self.props_mut() else {
            return Err(format!("cannot set property {key} on a union"));
        };
        match props.iter().find(|(k, _)| k == key) {
            Some((_, old)) if *old == value => Ok(()),
            Some(_) => Err(format!("Can't overwrite property: {key}")),
            None => {
                props.push((key.to_string(), value));
                Ok(())
            }
        }
    }

    /// The schema text, as Avro's `Schema.toString()` writes it.
    pub fn to_json(&self) -> Result<String, String> {
        let mut out = Vec::with_capacity(256);
        let mut writer = Writer {
            known: HashMap::new(),
            namespace: None,
        };
        writer.write(self, &mut out)?;
        Ok(String::from_utf8(out).expect("the schema writer emits UTF-8"))
    }
}

struct Writer<'a> {
    known: HashMap<String, &'a AvroSchema>,
    namespace: Option<String>,
}

impl<'a> Writer<'a> {
    /// Writes a reference if the named type was written before; registers
    /// it otherwise.
    fn name_ref(&mut self, schema: &'a AvroSchema, out: &mut Vec<u8>) -> Result<bool, String> {
        let name = schema.name().expect("named schema");
        let full = name.full();
        match self.known.get(&full) {
            Some(previous) if *previous == schema => {
                write_str(out, &name.qualified(self.namespace.as_deref()));
                Ok(true)
            }
            Some(_) => Err(format!("Can't redefine: {full}")),
            None => {
                self.known.insert(full, schema);
                Ok(false)
            }
        }
    }

    fn write_name(&self, name: &Name, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\"name\":");
        write_str(out, &name.name);
        match (&name.namespace, &self.namespace) {
            (Some(ns), current) if current.as_deref() != Some(ns.as_str()) => {
                out.extend_from_slice(b",\"namespace\":");
                write_str(out, ns);
            }
            (None, Some(_)) => out.extend_from_slice(b",\"namespace\":\"\""),
            _ => {}
        }
    }

    fn write(&mut self, schema: &'a AvroSchema, out: &mut Vec<u8>) -> Result<(), String> {
        match schema {
            AvroSchema::Primitive(p, props) => {
                if props.is_empty() {
                    write_str(out, p.name());
                } else {
                    out.extend_from_slice(b"{\"type\":");
                    write_str(out, p.name());
                    write_props(props, out);
                    out.push(b'}');
                }
            }
            AvroSchema::Array(items, props) => {
                out.extend_from_slice(b"{\"type\":\"array\",\"items\":");
                self.write(items, out)?;
                write_props(props, out);
                out.push(b'}');
            }
            AvroSchema::Map(values, props) => {
                out.extend_from_slice(b"{\"type\":\"map\",\"values\":");
                self.write(values, out)?;
                write_props(props, out);
                out.push(b'}');
            }
            AvroSchema::Union(members) => {
                out.push(b'[');
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write(m, out)?;
                }
                out.push(b']');
            }
            AvroSchema::Record(r) => {
                if self.name_ref(schema, out)? {
                    return Ok(());
                }
                let saved = self.namespace.clone();
                out.extend_from_slice(b"{\"type\":\"record\",");
                self.write_name(&r.name, out);
                self.namespace = r.name.namespace.clone();
                if let Some(doc) = &r.doc {
                    out.extend_from_slice(b",\"doc\":");
                    write_str(out, doc);
                }
                out.extend_from_slice(b",\"fields\":[");
                for (i, f) in r.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"name\":");
                    write_str(out, &f.name);
                    out.extend_from_slice(b",\"type\":");
                    self.write(&f.schema, out)?;
                    if let Some(doc) = &f.doc {
                        out.extend_from_slice(b",\"doc\":");
                        write_str(out, doc);
                    }
                    if let Some(default) = &f.default {
                        out.extend_from_slice(b",\"default\":");
                        default.write(out);
                    }
                    if let Some(order) = &f.order {
                        out.extend_from_slice(b",\"order\":");
                        write_str(out, order);
                    }
                    write_aliases(&f.aliases, out);
                    write_props(&f.props, out);
                    out.push(b'}');
                }
                out.push(b']');
                write_props(&r.props, out);
                write_aliases(&r.aliases, out);
                out.push(b'}');
                self.namespace = saved;
            }
            AvroSchema::Enum(e) => {
                if self.name_ref(schema, out)? {
                    return Ok(());
                }
                out.extend_from_slice(b"{\"type\":\"enum\",");
                self.write_name(&e.name, out);
                if let Some(doc) = &e.doc {
                    out.extend_from_slice(b",\"doc\":");
                    write_str(out, doc);
                }
                out.extend_from_slice(b",\"symbols\":[");
                for (i, s) in e.symbols.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, s);
                }
                out.push(b']');
                if let Some(default) = &e.default {
                    out.extend_from_slice(b",\"default\":");
                    write_str(out, default);
                }
                write_props(&e.props, out);
                write_aliases(&e.aliases, out);
                out.push(b'}');
            }
            AvroSchema::Fixed(f) => {
                if self.name_ref(schema, out)? {
                    return Ok(());
                }
                out.extend_from_slice(b"{\"type\":\"fixed\",");
                self.write_name(&f.name, out);
                if let Some(doc) = &f.doc {
                    out.extend_from_slice(b",\"doc\":");
                    write_str(out, doc);
                }
                out.extend_from_slice(b",\"size\":");
                out.extend_from_slice(f.size.to_string().as_bytes());
                write_props(&f.props, out);
                write_aliases(&f.aliases, out);
                out.push(b'}');
            }
        }
        Ok(())
    }
}

fn write_props(props: &[(String, Json)], out: &mut Vec<u8>) {
    for (k, v) in props {
        out.push(b',');
        write_str(out, k);
        out.push(b':');
        v.write(out);
    }
}

fn write_aliases(aliases: &[String], out: &mut Vec<u8>) {
    if aliases.is_empty() {
        return;
    }
    out.extend_from_slice(b",\"aliases\":[");
    for (i, a) in aliases.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, a);
    }
    out.push(b']');
}

/// Avro's name rule: a letter or `_`, then letters, digits or `_`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err("Empty name".into());
    };
    if !(first.is_alphabetic() || first == '_') {
        return Err(format!("Illegal initial character: {name}"));
    }
    if chars.any(|c| !(c.is_alphanumeric() || c == '_')) {
        return Err(format!("Illegal character in: {name}"));
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------

/// Parses schema text (as the registry returns it).
pub fn parse(text: &str) -> Result<AvroSchema, String> {
    let doc: serde_json::Value = serde_json::from_str(text)
        .or_else(|e| {
            // A bare primitive name is valid schema text too.
            let trimmed = text.trim();
            if Primitive::from_name(trimmed).is_some() {
                Ok(serde_json::Value::String(trimmed.to_string()))
            } else {
                Err(e)
            }
        })
        .map_err(|e| format!("invalid schema JSON: {e}"))?;
    let mut parser = Parser {
        names: HashMap::new(),
    };
    parser.parse(&Json::from_serde(&doc), None)
}

enum Known {
    InProgress,
    Done(AvroSchema),
}

struct Parser {
    names: HashMap<String, Known>,
}

fn str_member<'a>(obj: &'a Json, key: &str) -> Result<Option<&'a str>, String> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Str(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "\"{key}\" must be a string, not {}",
            other.to_text()
        )),
    }
}

fn aliases_of(obj: &Json) -> Result<Vec<String>, String> {
    match obj.get("aliases") {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "aliases must be strings".to_string())
            })
            .collect(),
        Some(_) => Err("aliases must be an array".into()),
    }
}

fn other_props(obj: &Json, reserved: &[&str]) -> Props {
    match obj {
        Json::Object(members) => members
            .iter()
            .filter(|(k, _)| !reserved.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

impl Parser {
    fn resolve_name(name: &str, namespace: Option<&str>) -> Name {
        match name.rfind('.') {
            Some(i) => Name::new(&name[i + 1..], Some(name[..i].to_string())),
            None => Name::new(name, namespace.map(str::to_string)),
        }
    }

    fn lookup(&self, name: &str, namespace: Option<&str>) -> Result<AvroSchema, String> {
        let mut candidates = vec![Self::resolve_name(name, namespace).full()];
        if !name.contains('.') {
            candidates.push(name.to_string());
        }
        for full in &candidates {
            match self.names.get(full) {
                Some(Known::Done(s)) => return Ok(s.clone()),
                Some(Known::InProgress) => {
                    return Err(format!(
                        "recursive schemas are not supported (type {full} refers to itself)"
                    ))
                }
                None => {}
            }
        }
        Err(format!("undefined name: {name}"))
    }

    fn define_name(&mut self, name: &Name) -> Result<(), String> {
        let full = name.full();
        if self.names.contains_key(&full) {
            return Err(format!("Can't redefine: {full}"));
        }
        self.names.insert(full, Known::InProgress);
        Ok(())
    }

    fn parse(&mut self, json: &Json, namespace: Option<&str>) -> Result<AvroSchema, String> {
        match json {
            Json::Str(name) => match Primitive::from_name(name) {
                Some(p) => Ok(AvroSchema::primitive(p)),
                None => self.lookup(name, namespace),
            },
            Json::Array(members) => {
                let members = members
                    .iter()
                    .map(|m| self.parse(m, namespace))
                    .collect::<Result<Vec<_>, _>>()?;
                if members.iter().any(AvroSchema::is_union) {
                    return Err("Nested union".into());
                }
                Ok(AvroSchema::Union(members))
            }
            Json::Object(_) => self.parse_object(json, namespace),
            other => Err(format!("not a schema: {}", other.to_text())),
        }
    }

    fn parse_object(&mut self, obj: &Json, namespace: Option<&str>) -> Result<AvroSchema, String> {
        let type_name = match obj.get("type") {
            Some(Json::Str(t)) => t.as_str(),
            Some(nested @ (Json::Object(_) | Json::Array(_))) => {
                return self.parse(nested, namespace)
            }
            _ => return Err(format!("No type: {}", obj.to_text())),
        };
        if let Some(p) = Primitive::from_name(type_name) {
            return Ok(AvroSchema::Primitive(p, other_props(obj, &["type"])));
        }
        let named = |obj: &Json| -> Result<Name, String> {
            let name = str_member(obj, "name")?.ok_or("No name in schema")?;
            let own_ns = str_member(obj, "namespace")?;
            let name = if name.contains('.') {
                Self::resolve_name(name, None)
            } else {
                Name::new(name, own_ns.or(namespace).map(str::to_string))
            };
            validate_name(&name.name)?;
            Ok(name)
        };
        match type_name {
            "array" => {
                let items = obj.get("items").ok_or("Array has no items type")?;
                let items = self.parse(items, namespace)?;
                Ok(AvroSchema::Array(
                    Box::new(items),
                    other_props(obj, &["type", "items"]),
                ))
            }
            "map" => {
                let values = obj.get("values").ok_or("Map has no values type")?;
                let values = self.parse(values, namespace)?;
                Ok(AvroSchema::Map(
                    Box::new(values),
                    other_props(obj, &["type", "values"]),
                ))
            }
            "record" | "error" => {
                let name = named(obj)?;
                self.define_name(&name)?;
                let inner_ns = name.namespace.clone();
                let fields_json = match obj.get("fields") {
                    Some(Json::Array(f)) => f,
                    _ => return Err(format!("Record has no fields: {}", name.full())),
                };
                let mut fields = Vec::with_capacity(fields_json.len());
                for f in fields_json {
                    let fname = str_member(f, "name")?.ok_or("No field name")?;
                    validate_name(fname)?;
                    let ftype = f
                        .get("type")
                        .ok_or_else(|| format!("No field type: {fname}"))?;
                    let schema = self.parse(ftype, inner_ns.as_deref())?;
                    let order = str_member(f, "order")?
                        .filter(|o| *o != "ascending")
                        .map(str::to_string);
                    fields.push(Field {
                        name: fname.to_string(),
                        schema,
                        doc: str_member(f, "doc")?.map(str::to_string),
                        default: f.get("default").cloned(),
                        order,
                        aliases: aliases_of(f)?,
                        props: other_props(
                            f,
                            &["name", "type", "doc", "default", "order", "aliases"],
                        ),
                    });
                }
                let record = AvroSchema::Record(Arc::new(Record {
                    name: name.clone(),
                    doc: str_member(obj, "doc")?.map(str::to_string),
                    fields,
                    aliases: aliases_of(obj)?,
                    props: other_props(
                        obj,
                        &["type", "name", "namespace", "doc", "fields", "aliases"],
                    ),
                }));
                self.names.insert(name.full(), Known::Done(record.clone()));
                Ok(record)
            }
            "enum" => {
                let name = named(obj)?;
                self.define_name(&name)?;
                let symbols = match obj.get("symbols") {
                    Some(Json::Array(s)) => s
                        .iter()
                        .map(|s| {
                            s.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| "enum symbols must be strings".to_string())
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => return Err(format!("Enum has no symbols: {}", name.full())),
                };
                let schema = AvroSchema::Enum(Arc::new(Enum {
                    name: name.clone(),
                    doc: str_member(obj, "doc")?.map(str::to_string),
                    symbols,
                    default: str_member(obj, "default")?.map(str::to_string),
                    aliases: aliases_of(obj)?,
                    props: other_props(
                        obj,
                        &[
                            "type",
                            "name",
                            "namespace",
                            "doc",
                            "symbols",
                            "aliases",
                            "default",
                        ],
                    ),
                }));
                self.names.insert(name.full(), Known::Done(schema.clone()));
                Ok(schema)
            }
            "fixed" => {
                let name = named(obj)?;
                self.define_name(&name)?;
                let size = match obj.get("size") {
                    Some(Json::Int(n)) if *n >= 0 => {
                        usize::try_from(*n).map_err(|e| e.to_string())?
                    }
                    _ => return Err(format!("Invalid or no size: {}", name.full())),
                };
                let schema = AvroSchema::Fixed(Arc::new(Fixed {
                    name: name.clone(),
                    doc: str_member(obj, "doc")?.map(str::to_string),
                    size,
                    aliases: aliases_of(obj)?,
                    props: other_props(
                        obj,
                        &["type", "name", "namespace", "doc", "size", "aliases"],
                    ),
                }));
                self.names.insert(name.full(), Known::Done(schema.clone()));
                Ok(schema)
            }
            other => self.lookup(other, namespace),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text_with_refs_and_namespaces() {
        let text = r#"{"type":"record","name":"Envelope","namespace":"a.b","fields":[{"name":"before","type":["null",{"type":"record","name":"Value","fields":[{"name":"id","type":"int"}],"connect.name":"a.b.Value"}],"default":null},{"name":"after","type":["null","Value"],"default":null},{"name":"x","type":{"type":"record","name":"X","namespace":"","fields":[]}},{"name":"y","type":{"type":"fixed","name":"F","namespace":"q","size":4}}],"connect.version":2}"#;
        let schema = parse(text).unwrap();
        assert_eq!(schema.to_json().unwrap(), text);
        assert!(parse(
            r#"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}"#
        )
        .unwrap_err()
        .contains("recursive"));
        assert_eq!(
            parse("\"string\"").unwrap(),
            AvroSchema::primitive(Primitive::String)
        );
        assert_eq!(
            parse("long").unwrap(),
            AvroSchema::primitive(Primitive::Long)
        );
    }

    #[test]
    fn redefinition_is_an_error() {
        let r1 = AvroSchema::Record(Arc::new(Record {
            name: Name::new("R", None),
            doc: None,
            fields: vec![],
            aliases: vec![],
            props: vec![],
        }));
        let mut r2 = r1.clone();
        r2.add_prop("x", Json::Int(1)).unwrap();
        let u = AvroSchema::Union(vec![r1.clone(), r1.clone()]);
        assert_eq!(
            u.to_json().unwrap(),
            r#"[{"type":"record","name":"R","fields":[]},"R"]"#
        );
        assert!(AvroSchema::Union(vec![r1, r2])
            .to_json()
            .unwrap_err()
            .contains("redefine"));
    }
}
