//! JSON → Connect data: `JsonConverter.asConnectSchema` and
//! `convertToConnect`.
//!
//! Where Kafka silently coerces (a string read as an int becomes 0, `300`
//! read as int8 wraps to 44, `12.7` read as int32 becomes 12, `"NaN"` read
//! as a double becomes 0.0), sluice reports a data error naming the field
//! instead; integral values written with a fraction or exponent (`12.0`,
//! `1e3`) are accepted when they are exact. The quoted non-finite floats
//! that the writer produces (`"NaN"`, `"Infinity"`, `"-Infinity"`) read
//! back as those values.

use std::sync::Arc;

use base64::Engine as _;
use num_bigint::BigInt;
use sluice_connect_api::data::logical;
use sluice_connect_api::{
    Decimal, Field, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value,
};

use super::parse::Json;
use super::path::{ConvError, ConvResult};
use super::write::{decimal_scale, default_of};
use super::Settings;

pub(crate) struct Reader<'a> {
    pub(crate) settings: &'a Settings,
}

impl Reader<'_> {
    /// `asConnectSchema`: `None` for a JSON null schema.
    pub(crate) fn schema(&self, json: &Json<'_>) -> ConvResult<Option<SchemaRef>> {
        if matches!(json, Json::Null) {
            return Ok(None);
        }
        self.schema_required(json).map(Some)
    }

    fn schema_required(&self, json: &Json<'_>) -> ConvResult<SchemaRef> {
        let type_name = json
            .get("type")
            .and_then(Json::as_str)
            .ok_or_else(|| ConvError::new("Schema must contain 'type' field"))?;
        let schema_type = SchemaType::from_name(type_name)
            .ok_or_else(|| ConvError::new(format!("Unknown schema type: {type_name}")))?;
        // Fields are filled in directly rather than through SchemaBuilder,
        // whose `field` panics on duplicate names (a programming error there,
        // but here it comes from input and must be a data error).
        let mut schema: Schema = SchemaBuilder::new(schema_type).build_schema();
        match schema_type {
            SchemaType::Array => {
                let items = json
                    .get("items")
                    .filter(|j| !matches!(j, Json::Null))
                    .ok_or_else(|| {
                        ConvError::new("Array schema did not specify the element type")
                    })?;
                schema.value_schema = Some(self.schema_required(items).map_err(|e| e.in_items())?);
            }
            SchemaType::Map => {
                let keys = json
                    .get("keys")
                    .ok_or_else(|| ConvError::new("Map schema did not specify the key type"))?;
                let values = json
                    .get("values")
                    .ok_or_else(|| ConvError::new("Map schema did not specify the value type"))?;
                schema.key_schema = Some(self.schema_required(keys).map_err(|e| e.in_map_keys())?);
                schema.value_schema = Some(
                    self.schema_required(values)
                        .map_err(|e| e.in_map_values())?,
                );
            }
            SchemaType::Struct => {
                let Some(Json::Array(fields)) = json.get("fields") else {
                    return Err(ConvError::new(
                        "Struct schema's \"fields\" argument is not an array.",
                    ));
                };
                for (index, field) in fields.iter().enumerate() {
                    let name = field.get("field").and_then(Json::as_str).ok_or_else(|| {
                        ConvError::new("Struct schema's field name not specified properly")
                            .in_index(index)
                    })?;
                    if schema.field(name).is_some() {
                        return Err(ConvError::new(format!(
                            "Cannot create field because of field name duplication {name}"
                        )));
                    }
                    let field_schema = self.schema_required(field).map_err(|e| e.in_field(name))?;
                    schema.fields.push(Field {
                        name: name.to_string(),
                        index,
                        schema: field_schema,
                    });
                }
            }
            _ => {}
        }
        schema.optional = matches!(json.get("optional"), Some(Json::Bool(true)));
        if let Some(Json::String(name)) = json.get("name") {
            schema.name = Some(name.to_string());
        }
        if let Some(Json::Number(text)) = json.get("version") {
            if is_integral_literal(text) {
                let version = text.parse::<i32>().map_err(|_| {
                    ConvError::new(format!("schema version {text} is out of range"))
                })?;
                schema.version = Some(version);
            }
        }
        if let Some(Json::String(doc)) = json.get("doc") {
            schema.doc = Some(doc.to_string());
        }
        if let Some(Json::Object(params)) = json.get("parameters") {
            for (key, value) in params {
                let Json::String(value) = value else {
                    return Err(ConvError::new("Schema parameters must have string values."));
                };
                // Same key again: replace in place (ObjectNode semantics).
                match schema.parameters.iter_mut().find(|(k, _)| k == key) {
                    Some(slot) => slot.1 = value.to_string(),
                    None => schema.parameters.push((key.to_string(), value.to_string())),
                }
            }
        }
        let without_default = Arc::new(schema);
        match json.get("default") {
            None => Ok(without_default),
            Some(default_json) => {
                let default = self
                    .value(Some(&without_default), Some(default_json))
                    .map_err(|e| e.in_default())?;
                if default.is_null() {
                    return Ok(without_default);
                }
                let mut schema = Arc::unwrap_or_clone(without_default);
                schema.default = Some(default);
                Ok(Arc::new(schema))
            }
        }
    }

    /// `convertToConnect`: `json` is `None` for a missing member.
    pub(crate) fn value(
        &self,
        schema: Option<&SchemaRef>,
        json: Option<&Json<'_>>,
    ) -> ConvResult<Value> {
        let Some(schema) = schema else {
            return self.schemaless(json);
        };
        let json = match json {
            None | Some(Json::Null) => {
                if self.settings.replace_null_with_default {
                    if let Some(default) = default_of(schema) {
                        return Ok(default.clone());
                    }
                }
                if schema.optional {
                    return Ok(Value::Null);
                }
                return Err(ConvError::new(format!(
                    "Invalid null value for required {} field",
                    schema.schema_type
                )));
            }
            Some(json) => json,
        };
        if schema.is_named(logical::DECIMAL) {
            return self.decimal(schema, json);
        }
        let mismatch = || {
            ConvError::new(format!(
                "invalid JSON {} for a {} field",
                json.node_type(),
                schema.schema_type
            ))
        };
        Ok(match schema.schema_type {
            SchemaType::Boolean => match json {
                Json::Bool(b) => Value::Boolean(*b),
                _ => return Err(mismatch()),
            },
            SchemaType::Int8 => Value::Int8(self.integer(json, schema)?),
            SchemaType::Int16 => Value::Int16(self.integer(json, schema)?),
            SchemaType::Int32 => Value::Int32(self.integer(json, schema)?),
            SchemaType::Int64 => Value::Int64(self.integer(json, schema)?),
            SchemaType::Float32 => match json {
                Json::Number(text) => Value::Float32(text.parse().map_err(|_| mismatch())?),
                Json::String(s) => Value::Float32(non_finite(s).ok_or_else(mismatch)? as f32),
                _ => return Err(mismatch()),
            },
            SchemaType::Float64 => match json {
                Json::Number(text) => Value::Float64(text.parse().map_err(|_| mismatch())?),
                Json::String(s) => Value::Float64(non_finite(s).ok_or_else(mismatch)?),
                _ => return Err(mismatch()),
            },
            SchemaType::String => match json {
                Json::String(s) => Value::String((&**s).into()),
                _ => return Err(mismatch()),
            },
            SchemaType::Bytes => match json {
                Json::String(s) => Value::Bytes(
                    decode_base64(s)
                        .map_err(|e| ConvError::new(format!("Invalid bytes field: {e}")))?,
                ),
                _ => return Err(mismatch()),
            },
            SchemaType::Array => {
                let Json::Array(items) = json else {
                    return Err(mismatch());
                };
                let item_schema = schema.value_schema.as_ref();
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(
                        self.value(item_schema, Some(item))
                            .map_err(|e| e.in_index(i))?,
                    );
                }
                Value::Array(out)
            }
            SchemaType::Map => {
                let key_schema = schema.key_schema.as_ref();
                let value_schema = schema.value_schema.as_ref();
                if !matches!(key_schema, Some(k) if k.schema_type != SchemaType::String) {
                    let Json::Object(members) = json else {
                        return Err(ConvError::new(format!(
                            "Maps with string fields should be encoded as JSON objects, but found {}",
                            json.node_type()
                        )));
                    };
                    let mut out = Vec::with_capacity(members.len());
                    for (i, (k, v)) in dedup_members(members).into_iter().enumerate() {
                        let v = self
                            .value(value_schema, Some(v))
                            .map_err(|e| e.in_map_value_named(k, i))?;
                        out.push((Value::String(k.into()), v));
                    }
                    Value::Map(out)
                } else {
                    let Json::Array(entries) = json else {
                        return Err(ConvError::new(format!(
                            "Maps with non-string fields should be encoded as JSON array of tuples, but found {}",
                            json.node_type()
                        )));
                    };
                    let mut out = Vec::with_capacity(entries.len());
                    for (i, entry) in entries.iter().enumerate() {
                        let Json::Array(pair) = entry else {
                            return Err(ConvError::new(format!(
                                "Found invalid map entry instead of array tuple: {}",
                                entry.node_type()
                            ))
                            .in_index(i));
                        };
                        if pair.len() != 2 {
                            return Err(ConvError::new(format!(
                                "Found invalid map entry, expected length 2 but found :{}",
                                pair.len()
                            ))
                            .in_index(i));
                        }
                        let k = self
                            .value(key_schema, Some(&pair[0]))
                            .map_err(|e| e.in_map_key(i))?;
                        let v = self
                            .value(value_schema, Some(&pair[1]))
                            .map_err(|e| e.in_map_value(&k, i))?;
                        // A Java map holds each key once; the last one wins.
                        match out
                            .iter_mut()
                            .find(|(ek, _): &&mut (Value, Value)| *ek == k)
                        {
                            Some(slot) => slot.1 = v,
                            None => out.push((k, v)),
                        }
                    }
                    Value::Map(out)
                }
            }
            SchemaType::Struct => {
                if !matches!(json, Json::Object(_)) {
                    return Err(ConvError::new(format!(
                        "Structs should be encoded as JSON objects, but found {}",
                        json.node_type()
                    )));
                }
                let mut values = Vec::with_capacity(schema.fields.len());
                for field in &schema.fields {
                    values.push(
                        self.value(Some(&field.schema), json.get(&field.name))
                            .map_err(|e| e.in_field(&field.name))?,
                    );
                }
                Value::Struct(Struct::from_values(schema.clone(), values))
            }
        })
    }

    fn integer<T: TryFrom<i64>>(&self, json: &Json<'_>, schema: &Schema) -> ConvResult<T> {
        let Json::Number(text) = json else {
            return Err(ConvError::new(format!(
                "invalid JSON {} for a {} field",
                json.node_type(),
                schema.schema_type
            )));
        };
        exact_integer(text)
            .and_then(|v| T::try_from(v).ok())
            .ok_or_else(|| {
                ConvError::new(format!(
                    "{text} is not a valid {} value",
                    schema.schema_type
                ))
            })
    }

    fn decimal(&self, schema: &Schema, json: &Json<'_>) -> ConvResult<Value> {
        match json {
            Json::Number(text) => Decimal::parse(text)
                .map(Value::Decimal)
                .ok_or_else(|| ConvError::new(format!("{text} is not a valid decimal"))),
            Json::String(s) => {
                let bytes = decode_base64(s).map_err(|e| ConvError::new(format!("Invalid bytes for Decimal field: {e}")))?;
                if bytes.is_empty() {
                    return Err(ConvError::new("Invalid bytes for Decimal field: no bytes"));
                }
                let scale = decimal_scale(schema).map_err(ConvError::new)?;
                Ok(Value::Decimal(Decimal::from_unscaled_bytes(&bytes, scale)))
            }
            other => Err(ConvError::new(format!(
                "Invalid type for Decimal, underlying representation should be numeric or bytes but was {}",
                other.node_type()
            ))),
        }
    }

    /// Values without a schema: integral numbers → Int64, other numbers →
    /// Float64, objects → maps with string keys, arrays → arrays.
    fn schemaless(&self, json: Option<&Json<'_>>) -> ConvResult<Value> {
        Ok(match json {
            None | Some(Json::Null) => Value::Null,
            Some(Json::Bool(b)) => Value::Boolean(*b),
            Some(Json::Number(text)) => {
                if is_integral_literal(text) {
                    match text.parse::<i64>() {
                        Ok(v) => Value::Int64(v),
                        // Beyond int64 Kafka truncates the BigInteger; keep
                        // the magnitude as a double instead.
                        Err(_) => Value::Float64(text.parse().unwrap_or(f64::NAN)),
                    }
                } else {
                    Value::Float64(
                        text.parse()
                            .map_err(|_| ConvError::new(format!("{text} is not a valid number")))?,
                    )
                }
            }
            Some(Json::String(s)) => Value::String((&**s).into()),
            Some(Json::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.schemaless(Some(item)).map_err(|e| e.in_index(i))?);
                }
                Value::Array(out)
            }
            Some(Json::Object(members)) => {
                let mut out = Vec::with_capacity(members.len());
                for (i, (k, v)) in dedup_members(members).into_iter().enumerate() {
                    let v = self
                        .schemaless(Some(v))
                        .map_err(|e| e.in_map_value_named(k, i))?;
                    out.push((Value::String(k.into()), v));
                }
                Value::Map(out)
            }
        })
    }
}

fn is_integral_literal(text: &str) -> bool {
    !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

/// The exact integer a JSON number denotes, if it is one and fits in i64.
fn exact_integer(text: &str) -> Option<i64> {
    if is_integral_literal(text) {
        return text.parse().ok();
    }
    let d = Decimal::parse(text)?;
    if d.unscaled == BigInt::from(0) {
        return Some(0);
    }
    // Anything needing more than 19 powers of ten is out of range (or not
    // an integer); bail out before computing huge powers.
    if d.scale.unsigned_abs() > 40 {
        return None;
    }
    let pow = BigInt::from(10).pow(d.scale.unsigned_abs());
    let v = if d.scale <= 0 {
        d.unscaled * pow
    } else {
        if (&d.unscaled % &pow) != BigInt::from(0) {
            return None;
        }
        d.unscaled / pow
    };
    i64::try_from(&v).ok()
}

fn non_finite(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Standard base64, padding optional (Jackson's default variant reads both).
fn decode_base64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    const ENGINE: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    ENGINE.decode(s.as_bytes())
}

/// Object members with each key once: the last value, at the position of
/// the first occurrence (Jackson's `ObjectNode`).
fn dedup_members<'j, 'a>(
    members: &'j [(std::borrow::Cow<'a, str>, Json<'a>)],
) -> Vec<(&'j str, &'j Json<'a>)> {
    let mut out: Vec<(&str, &Json<'a>)> = Vec::with_capacity(members.len());
    if members.len() <= 16 {
        for (k, v) in members {
            match out.iter_mut().find(|(ek, _)| *ek == k.as_ref()) {
                Some(slot) => slot.1 = v,
                None => out.push((k.as_ref(), v)),
            }
        }
    } else {
        let mut seen: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(members.len());
        for (k, v) in members {
            match seen.get(k.as_ref()) {
                Some(&i) => out[i].1 = v,
                None => {
                    seen.insert(k.as_ref(), out.len());
                    out.push((k.as_ref(), v));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_integers() {
        assert_eq!(exact_integer("12"), Some(12));
        assert_eq!(exact_integer("0012"), Some(12));
        assert_eq!(exact_integer("12.0"), Some(12));
        assert_eq!(exact_integer("1e3"), Some(1000));
        assert_eq!(exact_integer("-1.5E1"), Some(-15));
        assert_eq!(exact_integer("12.7"), None);
        assert_eq!(exact_integer("1e400"), None);
        assert_eq!(exact_integer("0e999999"), Some(0));
        assert_eq!(exact_integer("9223372036854775808"), None);
    }
}
