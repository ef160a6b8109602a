//! Number renderings against the Java specification
//! (testdata/converters/java_number_strings.json), checked through both
//! converters: JsonConverter (Jackson writes Double.toString /
//! Float.toString / BigDecimal.toString) and StringConverter
//! (Object.toString).

use std::path::PathBuf;

use serde_json::Value as Json;
use sluice_connect_api::data::logical;
use sluice_connect_api::{Converter, Decimal, Props, SchemaBuilder, Value};
use sluice_converters::{JsonConverter, StringConverter};

fn data() -> Json {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/converters/java_number_strings.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn string_of(value: Value) -> String {
    let c = StringConverter::new(&Props::new(), false).unwrap();
    String::from_utf8(c.from_connect("t", None, &value).unwrap().unwrap()).unwrap()
}

fn json_payload(
    schema: sluice_connect_api::SchemaRef,
    value: Value,
    props: &[(&str, &str)],
) -> String {
    let mut p = Props::from([("schemas.enable".to_string(), "false".to_string())]);
    p.extend(props.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let c = JsonConverter::new(&p, false).unwrap();
    String::from_utf8(c.from_connect("t", Some(&schema), &value).unwrap().unwrap()).unwrap()
}

/// JSON has no NaN/Infinity: Jackson quotes them (WRITE_NAN_AS_STRINGS).
fn json_form(java: &str) -> String {
    if matches!(java, "NaN" | "Infinity" | "-Infinity") {
        format!("\"{java}\"")
    } else {
        java.to_string()
    }
}

#[test]
fn doubles_print_like_java() {
    for case in data()["double"].as_array().unwrap() {
        let input: f64 = case["input"].as_str().unwrap().parse().unwrap();
        let java = case["java"].as_str().unwrap();
        assert_eq!(string_of(Value::Float64(input)), java, "{case}");
        assert_eq!(
            json_payload(SchemaBuilder::float64().build(), Value::Float64(input), &[]),
            json_form(java),
            "{case}"
        );
    }
}

#[test]
fn floats_print_like_java() {
    for case in data()["float"].as_array().unwrap() {
        let input: f32 = case["input"].as_str().unwrap().parse().unwrap();
        let java = case["java"].as_str().unwrap();
        assert_eq!(string_of(Value::Float32(input)), java, "{case}");
        assert_eq!(
            json_payload(SchemaBuilder::float32().build(), Value::Float32(input), &[]),
            json_form(java),
            "{case}"
        );
    }
}

#[test]
fn big_decimals_print_like_java() {
    for case in data()["big_decimal"].as_array().unwrap() {
        let unscaled: num_bigint::BigInt = case["unscaled"].as_str().unwrap().parse().unwrap();
        let scale = case["scale"].as_i64().unwrap() as i32;
        let java = case["java"].as_str().unwrap();
        let d = Decimal { unscaled, scale };
        assert_eq!(string_of(Value::Decimal(d.clone())), java, "{case}");
        let numeric = json_payload(
            logical::decimal(scale).build(),
            Value::Decimal(d),
            &[("decimal.format", "NUMERIC")],
        );
        assert_eq!(numeric, java, "{case}");
    }
}
