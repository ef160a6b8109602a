//! Debezium's `JsonSchemaData`: a Connect schema inferred from a JSON
//! document, and the document as Connect data of that schema. Used by the
//! outbox EventRouter (`table.expand.json.payload`) and by
//! DecodeLogicalDecodingMessageContent.
//!
//! Inference follows Debezium: strings, booleans, int32 / int64 / float64
//! numbers and arrays become optional schemas; an object becomes an
//! optional struct named by its path (`payload`, `payload.address`); an
//! array takes its element schema from the first non-null element (arrays
//! of objects merge the fields of every element) and must be homogeneous;
//! `null` (and an empty array) is left out unless the null / empty-array
//! behaviour says otherwise.

use std::sync::Arc;

use serde_json::Value as Json;
use sluice_connect_api::{SchemaBuilder, SchemaRef, SchemaType, Struct, Value};

use super::util::NameAdjustment;

/// `table.json.payload.null.behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NullBehavior {
    /// Fields whose value is null are left out of the schema.
    #[default]
    Ignore,
    /// Null fields become optional bytes.
    OptionalBytes,
}

/// `table.json.payload.empty.array.behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmptyArrayBehavior {
    /// Empty arrays are left out of the schema.
    #[default]
    Ignore,
    /// Empty arrays become optional arrays of optional strings.
    OptionalString,
}

/// Schema inference and conversion settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonSchemaData {
    pub null: NullBehavior,
    pub empty_array: EmptyArrayBehavior,
    pub field_names: NameAdjustment,
}

impl JsonSchemaData {
    /// The schema of `node`, named after `key` where it is a struct; `None`
    /// when nothing can be inferred (null, empty array).
    pub fn schema(&self, key: Option<&str>, node: &Json) -> Result<Option<SchemaRef>, String> {
        Ok(Some(match node {
            Json::String(_) => SchemaBuilder::string().optional().build(),
            Json::Bool(_) => SchemaBuilder::boolean().optional().build(),
            Json::Number(n) => number_schema(n),
            Json::Array(items) => {
                if items.is_empty() {
                    return Ok(match self.empty_array {
                        EmptyArrayBehavior::OptionalString => Some(
                            SchemaBuilder::array(SchemaBuilder::string().optional().build())
                                .optional()
                                .build(),
                        ),
                        EmptyArrayBehavior::Ignore => None,
                    });
                }
                let element = self.array_element_schema(key, items)?;
                SchemaBuilder::array(element).optional().build()
            }
            Json::Object(fields) => {
                let mut s = SchemaBuilder::struct_().optional();
                if let Some(k) = key {
                    s = s.name(k);
                }
                let mut schema = s.build_schema();
                for (name, value) in fields {
                    let name = self.field_names.field_name(name);
                    let field_key = match key {
                        Some(k) if !k.trim().is_empty() => format!("{k}.{name}"),
                        _ => name.clone(),
                    };
                    if let Some(fs) = self.schema(Some(&field_key), value)? {
                        if schema.field(&name).is_none() {
                            let index = schema.fields.len();
                            schema.fields.push(sluice_connect_api::Field {
                                name,
                                index,
                                schema: fs,
                            });
                        }
                    }
                }
                Arc::new(schema)
            }
            Json::Null => match self.null {
                NullBehavior::OptionalBytes => SchemaBuilder::bytes().optional().build(),
                NullBehavior::Ignore => return Ok(None),
            },
        }))
    }

    fn array_element_schema(&self, key: Option<&str>, items: &[Json]) -> Result<SchemaRef, String> {
        let sample = first_element(items)?;
        if sample.is_object() {
            let mut distinct: Vec<SchemaRef> = Vec::new();
            for e in items.iter().filter(|e| e.is_object()) {
                if let Some(s) = self.schema(key, e)? {
                    if !distinct.iter().any(|d| **d == *s) {
                        distinct.push(s);
                    }
                }
            }
            let mut merged: Option<SchemaRef> = None;
            for s in distinct {
                merged = Some(match merged {
                    None => s,
                    Some(left) => merge(&left, &s),
                });
            }
            merged.ok_or_else(|| "array has no element schema".to_string())
        } else {
            self.schema(None, sample)?.ok_or_else(|| {
                format!(
                    "Array '{}' has unrecognized member schema.",
                    Json::Array(items.to_vec())
                )
            })
        }
    }

    /// `node` as Connect data of `schema` (which `schema()` inferred from
    /// it, or from a document of the same shape).
    pub fn value(&self, node: &Json, schema: &SchemaRef) -> Result<Value, String> {
        match (node, schema.schema_type) {
            (Json::Null, _) => Ok(Value::Null),
            (Json::String(s), SchemaType::String) => Ok(Value::String(s.into())),
            (Json::Bool(b), SchemaType::Boolean) => Ok(Value::Boolean(*b)),
            (Json::Number(n), t) => number_value(n, t),
            (Json::Array(items), SchemaType::Array) => {
                let element = schema
                    .value_schema
                    .as_ref()
                    .ok_or("array schema without element schema")?;
                items
                    .iter()
                    .map(|i| self.value(i, element))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)
            }
            (Json::Object(map), SchemaType::Struct) => {
                let mut values = Vec::with_capacity(schema.fields.len());
                for f in &schema.fields {
                    values.push(match map.get(&f.name) {
                        Some(v) => self.value(v, &f.schema)?,
                        None => Value::Null,
                    });
                }
                Ok(Value::Struct(Struct::from_values(schema.clone(), values)))
            }
            (node, t) => Err(format!("JSON value {node} does not fit schema type {t}")),
        }
    }

    /// The struct of a JSON object, or an error.
    pub fn struct_value(&self, node: &Json, schema: &SchemaRef) -> Result<Struct, String> {
        match self.value(node, schema)? {
            Value::Struct(s) => Ok(s),
            _ => Err("not a JSON object".into()),
        }
    }
}

fn number_schema(n: &serde_json::Number) -> SchemaRef {
    if let Some(i) = n.as_i64() {
        if i32::try_from(i).is_ok() {
            return SchemaBuilder::int32().optional().build();
        }
        return SchemaBuilder::int64().optional().build();
    }
    SchemaBuilder::float64().optional().build()
}

fn number_value(n: &serde_json::Number, t: SchemaType) -> Result<Value, String> {
    let bad = || format!("number {n} does not fit schema type {t}");
    match t {
        SchemaType::Int32 => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .map(Value::Int32)
            .ok_or_else(bad),
        SchemaType::Int64 => n.as_i64().map(Value::Int64).ok_or_else(bad),
        SchemaType::Float64 => n.as_f64().map(Value::Float64).ok_or_else(bad),
        SchemaType::Float32 => n.as_f64().map(|f| Value::Float32(f as f32)).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// The kind of a JSON value, for the homogeneity check.
fn kind(v: &Json) -> u8 {
    match v {
        Json::Null => 0,
        Json::Bool(_) => 1,
        Json::Number(_) => 2,
        Json::String(_) => 3,
        Json::Array(_) => 4,
        Json::Object(_) => 5,
    }
}

/// Debezium's `getFirstArrayElement`: the first non-null element, after
/// checking that every non-null element has its type (and, for numbers,
/// the same inferred number schema).
fn first_element(items: &[Json]) -> Result<&Json, String> {
    let mut first: Option<&Json> = None;
    for e in items.iter().filter(|e| !e.is_null()) {
        match first {
            None => first = Some(e),
            Some(f) => {
                if kind(f) != kind(e) {
                    return Err(format!("Field is not a homogenous array ({f} x {e})."));
                }
                if let (Json::Number(a), Json::Number(b)) = (f, e) {
                    if number_schema(a) != number_schema(b) {
                        return Err(format!(
                            "Field is not a homogenous array ({f} x {e}), different number types"
                        ));
                    }
                }
            }
        }
    }
    Ok(first.unwrap_or(&Json::Null))
}

/// Debezium's `mergeSchema` of two struct schemas: the union of their
/// fields (a bytes field — an inferred null — gives way to a typed one).
/// Like Debezium's `copySchemaBasics`, the merged struct keeps the name
/// but is not optional.
fn merge(left: &SchemaRef, right: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<(String, SchemaRef)> = left
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.schema.clone()))
        .collect();
    for f in &right.fields {
        match fields.iter_mut().find(|(n, _)| *n == f.name) {
            None => fields.push((f.name.clone(), f.schema.clone())),
            Some((_, old)) => {
                if **old != *f.schema
                    && old.schema_type == SchemaType::Bytes
                    && f.schema.schema_type != SchemaType::Bytes
                {
                    *old = f.schema.clone();
                }
            }
        }
    }
    let mut b = SchemaBuilder::struct_();
    if let Some(n) = &left.name {
        b = b.name(n.clone());
    }
    for (n, s) in fields {
        b = b.field(n, s);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn infers_debeziums_schema_and_converts() {
        let data = JsonSchemaData::default();
        let doc = json!({
            "id": 1,
            "big": 12345678901i64,
            "price": 39.98,
            "name": "Debezium",
            "ok": true,
            "none": null,
            "empty": [],
            "tags": ["a", "b"],
            "address": {"city": "Brno"},
            "lineItems": [{"id": 1, "item": "x"}, {"id": 2, "qty": 3}]
        });
        let schema = data.schema(Some("payload"), &doc).unwrap().unwrap();
        assert_eq!(schema.name.as_deref(), Some("payload"));
        assert!(schema.optional);
        let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "id",
                "big",
                "price",
                "name",
                "ok",
                "tags",
                "address",
                "lineItems"
            ]
        );
        let t = |n: &str| schema.field(n).unwrap().schema.schema_type;
        assert_eq!(t("id"), SchemaType::Int32);
        assert_eq!(t("big"), SchemaType::Int64);
        assert_eq!(t("price"), SchemaType::Float64);
        let address = &schema.field("address").unwrap().schema;
        assert_eq!(address.name.as_deref(), Some("payload.address"));
        let items = schema
            .field("lineItems")
            .unwrap()
            .schema
            .value_schema
            .clone()
            .unwrap();
        assert_eq!(items.name.as_deref(), Some("payload.lineItems"));
        let item_fields: Vec<&str> = items.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(item_fields, ["id", "item", "qty"]);
        let v = data.struct_value(&doc, &schema).unwrap();
        assert_eq!(v.get("id"), Some(&Value::Int32(1)));
        assert_eq!(v.get("price"), Some(&Value::Float64(39.98)));
        assert!(v.validate().is_ok(), "{:?}", v.validate());
        let Some(Value::Array(li)) = v.get("lineItems") else {
            panic!()
        };
        assert_eq!(
            li[1].as_struct().unwrap().get("qty"),
            Some(&Value::Int32(3))
        );
        assert_eq!(li[0].as_struct().unwrap().get("qty"), Some(&Value::Null));
    }

    #[test]
    fn null_and_empty_array_behaviours() {
        let data = JsonSchemaData {
            null: NullBehavior::OptionalBytes,
            empty_array: EmptyArrayBehavior::OptionalString,
            ..Default::default()
        };
        let doc = json!({"n": null, "e": []});
        let s = data.schema(Some("payload"), &doc).unwrap().unwrap();
        assert_eq!(s.field("n").unwrap().schema.schema_type, SchemaType::Bytes);
        let e = &s.field("e").unwrap().schema;
        assert_eq!(e.schema_type, SchemaType::Array);
        assert_eq!(
            e.value_schema.as_ref().unwrap().schema_type,
            SchemaType::String
        );
    }

    #[test]
    fn heterogeneous_arrays_are_rejected() {
        let data = JsonSchemaData::default();
        assert!(data.schema(None, &json!({"a": [1, "x"]})).is_err());
        assert!(data.schema(None, &json!({"a": [1, 2.5]})).is_err());
        assert!(data.schema(None, &json!({"a": [null, 1, 2]})).is_ok());
    }
}
