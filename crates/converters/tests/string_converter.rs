//! Kafka's `StringConverterTest` (connect/api/src/test/java/org/apache/kafka/
//! connect/storage/StringConverterTest.java @ 1eb7644) plus the
//! `toString()` renderings of Connect values.

use sluice_connect_api::{ContentType, Converter, ErrorKind, Props, SchemaBuilder, Struct, Value};
use sluice_converters::StringConverter;

const TOPIC: &str = "topic";
const SAMPLE_STRING: &str = "a string";

fn converter() -> StringConverter {
    StringConverter::new(&Props::new(), false).unwrap()
}

fn text(value: Value) -> String {
    String::from_utf8(
        converter()
            .from_connect(TOPIC, None, &value)
            .unwrap()
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn kafka_string_converter_test() {
    let c = converter();
    assert_eq!(c.content_type(), ContentType::Text);
    // testStringToBytes
    let out = c
        .from_connect(
            TOPIC,
            Some(&SchemaBuilder::string().build()),
            &Value::String(SAMPLE_STRING.into()),
        )
        .unwrap();
    assert_eq!(out.as_deref(), Some(SAMPLE_STRING.as_bytes()));
    // testNonStringToBytes
    let out = c
        .from_connect(
            TOPIC,
            Some(&SchemaBuilder::boolean().build()),
            &Value::Boolean(true),
        )
        .unwrap();
    assert_eq!(out.as_deref(), Some(&b"true"[..]));
    // testNullToBytes
    assert_eq!(
        c.from_connect(
            TOPIC,
            Some(&SchemaBuilder::string().optional().build()),
            &Value::Null
        )
        .unwrap(),
        None
    );
    // testToBytesIgnoresSchema
    assert_eq!(
        c.from_connect(TOPIC, None, &Value::Boolean(true))
            .unwrap()
            .as_deref(),
        Some(&b"true"[..])
    );
    // testBytesToString
    let (schema, value) = c.to_connect(TOPIC, Some(SAMPLE_STRING.as_bytes())).unwrap();
    assert_eq!(schema, Some(SchemaBuilder::string().optional().build()));
    assert_eq!(value, Value::String(SAMPLE_STRING.into()));
    // testBytesNullToString
    let (schema, value) = c.to_connect(TOPIC, None).unwrap();
    assert_eq!(schema, Some(SchemaBuilder::string().optional().build()));
    assert_eq!(value, Value::Null);
}

#[test]
fn only_utf8_is_supported() {
    // testToBytesNonUtf8Encoding configures UTF-16; sluice rejects it,
    // naming the key.
    let props = Props::from([("converter.encoding".to_string(), "UTF-16".to_string())]);
    let err = StringConverter::new(&props, true).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("converter.encoding"), "{err}");
    for ok in ["UTF-8", "utf8", "Utf-8"] {
        let props = Props::from([("converter.encoding".to_string(), ok.to_string())]);
        assert!(StringConverter::new(&props, true).is_ok(), "{ok}");
    }
}

#[test]
fn values_render_like_java_to_string() {
    assert_eq!(text(Value::Int64(-42)), "-42");
    assert_eq!(text(Value::Float64(1.0)), "1.0");
    // AbstractCollection.toString / AbstractMap.toString
    assert_eq!(
        text(Value::Array(vec![
            Value::Int32(1),
            Value::Null,
            Value::String("x".into())
        ])),
        "[1, null, x]"
    );
    assert_eq!(
        text(Value::Map(vec![
            (Value::String("a".into()), Value::Int32(1)),
            (Value::String("b".into()), Value::Boolean(false))
        ])),
        "{a=1, b=false}"
    );
    // Connect's Struct.toString: "Struct{" + non-null fields joined by "," + "}"
    let schema = SchemaBuilder::struct_()
        .field("field1", SchemaBuilder::boolean().build())
        .field("skipped", SchemaBuilder::string().optional().build())
        .field("field2", SchemaBuilder::string().build())
        .build();
    let s = Struct::new(schema)
        .with("field1", true)
        .with("field2", "string");
    assert_eq!(text(Value::Struct(s)), "Struct{field1=true,field2=string}");
    // Bytes: base64 (documented choice; Java prints an identity hash).
    assert_eq!(
        text(Value::Bytes(b"test-string".to_vec())),
        "dGVzdC1zdHJpbmc="
    );
    // Invalid UTF-8 is replaced, as Java's decoder does.
    let (_, v) = converter()
        .to_connect(TOPIC, Some(&[b'a', 0xFF, b'b']))
        .unwrap();
    assert_eq!(v, Value::String("a\u{FFFD}b".into()));
}
