//! Kafka's own `JsonConverterTest`, ported as data: the expectations live in
//! `testdata/converters/kafka_json_converter_test.json` and
//! `testdata/converters/kafka_json_converter_exact.json`; the Connect-side
//! inputs and the expected Connect values of `toConnectData` are built here
//! exactly as the Kafka test builds them.

use std::path::PathBuf;

use serde_json::Value as Json;
use sluice_connect_api::data::logical;
use sluice_connect_api::{Converter, Decimal, Props, SchemaBuilder, SchemaRef, Struct, Value};
use sluice_converters::JsonConverter;

const TOPIC: &str = "topic";

fn testdata(name: &str) -> Json {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/converters")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn props(config: &Json) -> Props {
    config
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn converter(config: &Props) -> JsonConverter {
    JsonConverter::new(config, false).unwrap()
}

fn default_converter() -> JsonConverter {
    converter(&Props::new())
}

fn s(text: &str) -> Value {
    Value::String(text.into())
}

/// The Connect schema and value each `fromConnectData` test passes in.
fn to_json_input(test: &str) -> (Option<SchemaRef>, Value) {
    let field_struct = |default_schema: SchemaRef| {
        SchemaBuilder::struct_()
            .field("field1", default_schema)
            .build()
    };
    let string_with_default = || {
        SchemaBuilder::string()
            .optional()
            .default_value(s("default"))
            .build()
    };
    match test {
        "booleanToJson" | "testJsonSchemaMetadataTranslation#1" => {
            (Some(SchemaBuilder::boolean().build()), Value::Boolean(true))
        }
        "byteToJson" => (Some(SchemaBuilder::int8().build()), Value::Int8(12)),
        "shortToJson" => (Some(SchemaBuilder::int16().build()), Value::Int16(12)),
        "intToJson" => (Some(SchemaBuilder::int32().build()), Value::Int32(12)),
        "longToJson" => (
            Some(SchemaBuilder::int64().build()),
            Value::Int64(4398046511104),
        ),
        "floatToJson" => (
            Some(SchemaBuilder::float32().build()),
            Value::Float32(12.34),
        ),
        "doubleToJson" => (
            Some(SchemaBuilder::float64().build()),
            Value::Float64(12.34),
        ),
        "bytesToJson" => (
            Some(SchemaBuilder::bytes().build()),
            Value::Bytes(b"test-string".to_vec()),
        ),
        "stringToJson" | "testStringHeaderToJson" => {
            (Some(SchemaBuilder::string().build()), s("test-string"))
        }
        "arrayToJson" => (
            Some(SchemaBuilder::array(SchemaBuilder::int32().build()).build()),
            Value::Array(vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)]),
        ),
        "mapToJsonStringKeys" => (
            Some(
                SchemaBuilder::map(
                    SchemaBuilder::string().build(),
                    SchemaBuilder::int32().build(),
                )
                .build(),
            ),
            Value::Map(vec![
                (s("key1"), Value::Int32(12)),
                (s("key2"), Value::Int32(15)),
            ]),
        ),
        "mapToJsonNonStringKeys" => (
            Some(
                SchemaBuilder::map(
                    SchemaBuilder::int32().build(),
                    SchemaBuilder::int32().build(),
                )
                .build(),
            ),
            Value::Map(vec![
                (Value::Int32(1), Value::Int32(12)),
                (Value::Int32(2), Value::Int32(15)),
            ]),
        ),
        "structToJson" => {
            let schema = SchemaBuilder::struct_()
                .field("field1", SchemaBuilder::boolean().build())
                .field("field2", SchemaBuilder::string().build())
                .field("field3", SchemaBuilder::string().build())
                .field("field4", SchemaBuilder::boolean().build())
                .build();
            let value = Struct::new(schema.clone())
                .with("field1", true)
                .with("field2", "string2")
                .with("field3", "string3")
                .with("field4", false);
            (Some(schema), Value::Struct(value))
        }
        "decimalToJson" | "decimalToNumericJson" => (
            Some(logical::decimal(2).build()),
            Value::Decimal(Decimal::new(156, 2)),
        ),
        "decimalWithTrailingZerosToNumericJson" => (
            Some(logical::decimal(4).build()),
            Value::Decimal(Decimal::new(15600, 4)),
        ),
        // Date/Time/Timestamp: the physical values of Kafka's calendar inputs
        // (epoch + 10000 days, 14400000 ms, 4000000000 ms).
        "dateToJson" => (Some(logical::date().build()), Value::Int32(10000)),
        "timeToJson" => (Some(logical::time().build()), Value::Int32(14400000)),
        "timestampToJson" => (Some(logical::timestamp().build()), Value::Int64(4000000000)),
        "testJsonSchemaMetadataTranslation#2" => (
            Some(SchemaBuilder::boolean().optional().build()),
            Value::Null,
        ),
        "testJsonSchemaMetadataTranslation#3" => (
            Some(
                SchemaBuilder::boolean()
                    .default_value(Value::Boolean(true))
                    .build(),
            ),
            Value::Boolean(true),
        ),
        "testJsonSchemaMetadataTranslation#4" => (
            Some(
                SchemaBuilder::boolean()
                    .required()
                    .name("bool")
                    .version(3)
                    .doc("the documentation")
                    .parameter("foo", "bar")
                    .build(),
            ),
            Value::Boolean(true),
        ),
        "nullSchemaAndPrimitiveToJson" | "noSchemaToJson" => (None, Value::Boolean(true)),
        "nullSchemaAndArrayToJson" => (
            None,
            Value::Array(vec![Value::Int32(1), s("string"), Value::Boolean(true)]),
        ),
        "nullSchemaAndMapToJson" => (
            None,
            Value::Map(vec![
                (s("key1"), Value::Int32(12)),
                (s("key2"), s("string")),
                (s("key3"), Value::Boolean(true)),
            ]),
        ),
        "nullSchemaAndMapNonStringKeysToJson" => (
            None,
            Value::Map(vec![
                (s("string"), Value::Int32(12)),
                (Value::Int32(52), s("string")),
                (Value::Boolean(false), Value::Boolean(true)),
            ]),
        ),
        "serializeNullToDefault" | "serializeNullToNull" => {
            (Some(string_with_default()), Value::Null)
        }
        "serializeFieldNullToDefault" | "serializeFieldNullToNull" => {
            let schema = field_struct(string_with_default());
            (Some(schema.clone()), Value::Struct(Struct::new(schema)))
        }
        other => panic!("no Connect input for Kafka test {other}"),
    }
}

/// The text of the envelope's payload (everything after `,"payload":`).
fn payload_text(bytes: &[u8]) -> &str {
    let text = std::str::from_utf8(bytes).unwrap();
    let start = text.find(",\"payload\":").expect("envelope has a payload") + ",\"payload\":".len();
    &text[start..text.len() - 1]
}

fn sorted_entries(v: &Json) -> Vec<String> {
    let mut entries: Vec<String> = v.as_array().unwrap().iter().map(Json::to_string).collect();
    entries.sort();
    entries
}

#[test]
fn from_connect_matches_kafka_json_converter_test() {
    let data = testdata("kafka_json_converter_test.json");
    let cases = data["to_json"].as_object().unwrap();
    assert!(
        cases.len() >= 30,
        "expected every fromConnectData test, got {}",
        cases.len()
    );
    for (test, case) in cases {
        let converter = converter(&props(&case["config"]));
        let (schema, value) = to_json_input(test);
        let bytes = converter
            .from_connect(TOPIC, schema.as_ref(), &value)
            .unwrap_or_else(|e| panic!("{test}: {e}"))
            .unwrap_or_else(|| panic!("{test}: no output"));
        let actual: Json = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{test}: {e}"));
        if let Some(document) = case.get("document") {
            assert_eq!(
                actual,
                *document,
                "{test}: {}",
                String::from_utf8_lossy(&bytes)
            );
            continue;
        }
        // validateEnvelope / validateEnvelopeNullSchema
        let envelope = actual
            .as_object()
            .unwrap_or_else(|| panic!("{test}: not an object"));
        assert_eq!(envelope.len(), 2, "{test}");
        assert_eq!(
            actual["schema"],
            case["schema"],
            "{test}: schema of {}",
            String::from_utf8_lossy(&bytes)
        );
        if case.get("payload_unordered").and_then(Json::as_bool) == Some(true) {
            assert_eq!(
                sorted_entries(&actual["payload"]),
                sorted_entries(&case["payload"]),
                "{test}"
            );
        } else {
            assert_eq!(
                actual["payload"],
                case["payload"],
                "{test}: payload of {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        if let Some(text) = case.get("payload_text").and_then(Json::as_str) {
            assert_eq!(payload_text(&bytes), text, "{test}");
        }
    }
}

#[test]
fn from_connect_key_order_is_kafkas() {
    let data = testdata("kafka_json_converter_exact.json");
    let inputs = testdata("kafka_json_converter_test.json");
    for (test, expected) in data["cases"].as_object().unwrap() {
        let config = inputs["to_json"][test.as_str()]
            .get("config")
            .map(props)
            .unwrap_or_default();
        let (schema, value) = to_json_input(test);
        let bytes = converter(&config)
            .from_connect(TOPIC, schema.as_ref(), &value)
            .unwrap()
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            expected.as_str().unwrap(),
            "{test}"
        );
    }
}

#[test]
fn tombstones_and_errors_as_in_kafka() {
    // nullSchemaAndNullValueToJson, nullValueToJson
    for enabled in ["true", "false"] {
        let c = converter(&Props::from([(
            "schemas.enable".to_string(),
            enabled.to_string(),
        )]));
        assert_eq!(c.from_connect(TOPIC, None, &Value::Null).unwrap(), None);
    }
    // decimalToJsonWithoutSchema
    let err = default_converter()
        .from_connect(TOPIC, None, &Value::Decimal(Decimal::new(156, 2)))
        .unwrap_err();
    assert!(err.message().contains("Decimal schema"), "{err}");
    // mismatchSchemaJson
    let err = default_converter()
        .from_connect(
            TOPIC,
            Some(&SchemaBuilder::float64().build()),
            &Value::Boolean(true),
        )
        .unwrap_err();
    assert!(
        err.message().contains("double") && err.message().contains("boolean"),
        "{err}"
    );
    assert_eq!(err.kind(), sluice_connect_api::ErrorKind::Data);
}

/// The expected (schema, value) of each `toConnectData` call, transcribed
/// from the Kafka test's assertEquals.
fn to_connect_expected(test: &str) -> Vec<(Option<SchemaRef>, Value)> {
    let b = SchemaBuilder::boolean;
    let dec = |unscaled: i64, scale: i32| Value::Decimal(Decimal::new(unscaled, scale));
    let reference = || dec(156, 2);
    let string_with_default = || {
        SchemaBuilder::string()
            .optional()
            .default_value(s("default"))
            .build()
    };
    match test {
        "testConnectSchemaMetadataTranslation" => vec![
            (Some(b().build()), Value::Boolean(true)),
            (Some(b().optional().build()), Value::Null),
            (
                Some(b().default_value(Value::Boolean(true)).build()),
                Value::Boolean(true),
            ),
            (
                Some(
                    b().required()
                        .name("bool")
                        .version(2)
                        .doc("the documentation")
                        .parameter("foo", "bar")
                        .build(),
                ),
                Value::Boolean(true),
            ),
        ],
        "booleanToConnect" => vec![
            (Some(b().build()), Value::Boolean(true)),
            (Some(b().build()), Value::Boolean(false)),
        ],
        "byteToConnect" => vec![(Some(SchemaBuilder::int8().build()), Value::Int8(12))],
        "shortToConnect" => vec![(Some(SchemaBuilder::int16().build()), Value::Int16(12))],
        "intToConnect" => vec![(Some(SchemaBuilder::int32().build()), Value::Int32(12))],
        "longToConnect" => vec![
            (Some(SchemaBuilder::int64().build()), Value::Int64(12)),
            (
                Some(SchemaBuilder::int64().build()),
                Value::Int64(4398046511104),
            ),
        ],
        "numberWithLeadingZerosToConnect" => vec![
            (Some(SchemaBuilder::int8().build()), Value::Int8(12)),
            (Some(SchemaBuilder::int16().build()), Value::Int16(123)),
            (Some(SchemaBuilder::int32().build()), Value::Int32(12345)),
            (
                Some(SchemaBuilder::int64().build()),
                Value::Int64(123456789),
            ),
        ],
        "floatToConnect" => vec![(
            Some(SchemaBuilder::float32().build()),
            Value::Float32(12.34),
        )],
        "doubleToConnect" => vec![(
            Some(SchemaBuilder::float64().build()),
            Value::Float64(12.34),
        )],
        "bytesToConnect" => vec![(
            Some(SchemaBuilder::bytes().build()),
            Value::Bytes(b"test-string".to_vec()),
        )],
        "stringToConnect" | "stringHeaderToConnect" => {
            vec![(Some(SchemaBuilder::string().build()), s("foo-bar-baz"))]
        }
        "arrayToConnect" => vec![(
            Some(SchemaBuilder::array(SchemaBuilder::int32().build()).build()),
            Value::Array(vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)]),
        )],
        "mapToConnectStringKeys" => vec![(
            Some(
                SchemaBuilder::map(
                    SchemaBuilder::string().build(),
                    SchemaBuilder::int32().build(),
                )
                .build(),
            ),
            Value::Map(vec![
                (s("key1"), Value::Int32(12)),
                (s("key2"), Value::Int32(15)),
            ]),
        )],
        "mapToConnectNonStringKeys" => vec![(
            Some(
                SchemaBuilder::map(
                    SchemaBuilder::int32().build(),
                    SchemaBuilder::int32().build(),
                )
                .build(),
            ),
            Value::Map(vec![
                (Value::Int32(1), Value::Int32(12)),
                (Value::Int32(2), Value::Int32(15)),
            ]),
        )],
        "structToConnect" => {
            let schema = SchemaBuilder::struct_()
                .field("field1", b().build())
                .field("field2", SchemaBuilder::string().build())
                .build();
            let value = Struct::new(schema.clone())
                .with("field1", true)
                .with("field2", "string");
            vec![(Some(schema), Value::Struct(value))]
        }
        "structWithOptionalFieldToConnect" => {
            let schema = SchemaBuilder::struct_()
                .field("optional", SchemaBuilder::string().optional().build())
                .field("required", SchemaBuilder::string().build())
                .build();
            let value = Struct::new(schema.clone()).with("required", "required");
            vec![(Some(schema), Value::Struct(value))]
        }
        "schemalessWithEmptyFieldValueToConnect" => vec![(
            None,
            Value::Map(vec![(s("a"), s("")), (s("b"), Value::Null)]),
        )],
        "nullSchemaPrimitiveToConnect" => vec![
            (None, Value::Null),
            (None, Value::Boolean(true)),
            (None, Value::Int64(12)),
            (None, Value::Float64(12.24)),
            (None, s("a string")),
            (
                None,
                Value::Array(vec![Value::Int64(1), s("2"), Value::Int64(3)]),
            ),
            (
                None,
                Value::Map(vec![
                    (s("field1"), Value::Int64(1)),
                    (s("field2"), Value::Int64(2)),
                ]),
            ),
        ],
        "decimalToConnect" | "numericDecimalToConnect" => {
            vec![(Some(logical::decimal(2).build()), reference())]
        }
        "decimalToConnectOptional" => {
            vec![(Some(logical::decimal(2).optional().build()), Value::Null)]
        }
        "decimalToConnectWithDefaultValue" => {
            vec![(
                Some(logical::decimal(2).default_value(reference()).build()),
                reference(),
            )]
        }
        "decimalToConnectOptionalWithDefaultValue" => {
            vec![(
                Some(
                    logical::decimal(2)
                        .optional()
                        .default_value(reference())
                        .build(),
                ),
                reference(),
            )]
        }
        "numericDecimalWithTrailingZerosToConnect" => {
            vec![(Some(logical::decimal(4).build()), dec(15600, 4))]
        }
        "highPrecisionNumericDecimalToConnect" => vec![(
            Some(logical::decimal(17).build()),
            Value::Decimal(Decimal::parse("1.23456789123456789").unwrap()),
        )],
        "dateToConnect" => vec![(Some(logical::date().build()), Value::Int32(10000))],
        "dateToConnectOptional" => vec![(Some(logical::date().optional().build()), Value::Null)],
        "dateToConnectWithDefaultValue" => {
            vec![(
                Some(logical::date().default_value(Value::Int32(0)).build()),
                Value::Int32(0),
            )]
        }
        "dateToConnectOptionalWithDefaultValue" => {
            vec![(
                Some(
                    logical::date()
                        .optional()
                        .default_value(Value::Int32(0))
                        .build(),
                ),
                Value::Int32(0),
            )]
        }
        "timeToConnect" => vec![(Some(logical::time().build()), Value::Int32(14400000))],
        "timeToConnectOptional" => vec![(Some(logical::time().optional().build()), Value::Null)],
        "timeToConnectWithDefaultValue" => {
            vec![(
                Some(logical::time().default_value(Value::Int32(0)).build()),
                Value::Int32(0),
            )]
        }
        "timeToConnectOptionalWithDefaultValue" => {
            vec![(
                Some(
                    logical::time()
                        .optional()
                        .default_value(Value::Int32(0))
                        .build(),
                ),
                Value::Int32(0),
            )]
        }
        "timestampToConnect" => {
            vec![(Some(logical::timestamp().build()), Value::Int64(4000000000))]
        }
        "timestampToConnectOptional" => {
            vec![(Some(logical::timestamp().optional().build()), Value::Null)]
        }
        "timestampToConnectWithDefaultValue" => {
            vec![(
                Some(logical::timestamp().default_value(Value::Int64(42)).build()),
                Value::Int64(42),
            )]
        }
        "timestampToConnectOptionalWithDefaultValue" => {
            vec![(
                Some(
                    logical::timestamp()
                        .optional()
                        .default_value(Value::Int64(42))
                        .build(),
                ),
                Value::Int64(42),
            )]
        }
        "deserializeNullToDefault" => vec![(Some(string_with_default()), s("default"))],
        "deserializeNullToNull" => vec![(Some(string_with_default()), Value::Null)],
        "deserializeFieldNullToDefault" | "deserializeFieldNullToNull" => {
            let schema = SchemaBuilder::struct_()
                .field("field1", string_with_default())
                .build();
            let mut value = Struct::new(schema.clone());
            if test == "deserializeFieldNullToDefault" {
                value.put("field1", "default").unwrap();
            }
            vec![(Some(schema), Value::Struct(value))]
        }
        "testCacheSchemaToConnectConversion" => vec![
            (Some(b().build()), Value::Boolean(true)),
            (Some(b().build()), Value::Boolean(true)),
            (Some(b().optional().build()), Value::Boolean(true)),
            (Some(b().build()), Value::Boolean(true)),
        ],
        other => panic!("no expectation for Kafka test {other}"),
    }
}

fn to_connect_config(test: &str) -> Props {
    let pair = |k: &str, v: &str| Props::from([(k.to_string(), v.to_string())]);
    match test {
        "schemalessWithEmptyFieldValueToConnect" => pair("schemas.enable", "false"),
        "deserializeNullToDefault" | "deserializeFieldNullToDefault" => {
            pair("replace.null.with.default", "true")
        }
        "deserializeNullToNull" | "deserializeFieldNullToNull" => {
            pair("replace.null.with.default", "false")
        }
        _ => Props::new(),
    }
}

#[test]
fn to_connect_matches_kafka_json_converter_test() {
    let data = testdata("kafka_json_converter_test.json");
    let cases = data["to_connect"].as_object().unwrap();
    assert!(
        cases.len() >= 40,
        "expected every toConnectData test, got {}",
        cases.len()
    );
    for (test, inputs) in cases {
        let converter = converter(&to_connect_config(test));
        let inputs = inputs.as_array().unwrap();
        let expected = to_connect_expected(test);
        assert_eq!(
            inputs.len(),
            expected.len(),
            "{test}: inputs vs expectations"
        );
        for (input, (schema, value)) in inputs.iter().zip(expected) {
            let input = input.as_str().unwrap();
            let (actual_schema, actual_value) = converter
                .to_connect(TOPIC, Some(input.as_bytes()))
                .unwrap_or_else(|e| panic!("{test}: {input}: {e}"));
            assert_eq!(actual_schema, schema, "{test}: schema of {input}");
            assert_eq!(actual_value, value, "{test}: value of {input}");
        }
    }
}

#[test]
fn to_connect_special_cases_as_in_kafka() {
    // nullToConnect
    assert_eq!(
        default_converter().to_connect(TOPIC, None).unwrap(),
        (None, Value::Null)
    );
    // emptyBytesToConnect (schemas disabled)
    let c = JsonConverter::new(
        &Props::from([("schemas.enable".to_string(), "false".to_string())]),
        true,
    )
    .unwrap();
    assert_eq!(c.to_connect(TOPIC, Some(b"")).unwrap(), (None, Value::Null));
    // noSchemaToConnect
    assert_eq!(
        c.to_connect(TOPIC, Some(b"true")).unwrap(),
        (None, Value::Boolean(true))
    );
    // schemas.enable without the envelope: Kafka's message.
    for bad in [
        &b"{\"a\":1}"[..],
        b"true",
        b"",
        b"{\"schema\":null,\"payload\":1,\"extra\":2}",
        b"{\"schema\":null}",
    ] {
        let err = default_converter()
            .to_connect(TOPIC, Some(bad))
            .unwrap_err();
        assert!(
            err.message()
                .contains("requires \"schema\" and \"payload\" fields"),
            "{err}"
        );
        assert!(err.message().contains("schemas.enable=false"), "{err}");
    }
}

#[test]
fn schema_caches_count_like_kafka() {
    // testCacheSchemaToConnectConversion: the counts after each input.
    let c = default_converter();
    assert_eq!(c.cached_schema_counts().1, 0);
    let data = testdata("kafka_json_converter_test.json");
    let inputs = data["to_connect"]["testCacheSchemaToConnectConversion"]
        .as_array()
        .unwrap();
    let mut counts = Vec::new();
    for input in inputs {
        c.to_connect(TOPIC, Some(input.as_str().unwrap().as_bytes()))
            .unwrap();
        counts.push(c.cached_schema_counts().1);
    }
    assert_eq!(counts, [1, 1, 2, 3]);

    // testCacheSchemaToJsonConversion, by design keyed by Arc identity: the
    // same schema object hits, an equal but distinct one is a new entry
    // (Kafka compares schemas by value here).
    let c = default_converter();
    let schema = SchemaBuilder::boolean().build();
    c.from_connect(TOPIC, Some(&schema), &Value::Boolean(true))
        .unwrap();
    c.from_connect(TOPIC, Some(&schema), &Value::Boolean(true))
        .unwrap();
    assert_eq!(c.cached_schema_counts().0, 1);
    c.from_connect(
        TOPIC,
        Some(&SchemaBuilder::boolean().optional().build()),
        &Value::Boolean(true),
    )
    .unwrap();
    assert_eq!(c.cached_schema_counts().0, 2);

    // testJsonSchemaCacheSizeFromConfigFile: schemas.cache.size=1 works.
    let c = converter(&Props::from([(
        "schemas.cache.size".to_string(),
        "1".to_string(),
    )]));
    let other = SchemaBuilder::int32().build();
    c.from_connect(TOPIC, Some(&schema), &Value::Boolean(true))
        .unwrap();
    c.from_connect(TOPIC, Some(&other), &Value::Int32(1))
        .unwrap();
    assert_eq!(c.cached_schema_counts().0, 1);
}
