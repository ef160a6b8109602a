//! Avro binary encoding: bytes written for Connect values are decoded with
//! the apache-avro crate against the registered schema text and compared
//! with the Avro values Confluent's `AvroData.fromConnectData` builds; and
//! Avro → Connect gives back the original schema and value for many schema
//! shapes.

use std::collections::HashMap;

use apache_avro::types::Value as AV;
use sluice_connect_api::data::logical;
use sluice_connect_api::{Decimal, SchemaBuilder, SchemaRef, Struct, Value};
use sluice_converters::avro::AvroData;

fn int32() -> SchemaRef {
    SchemaBuilder::int32().build()
}
fn string() -> SchemaRef {
    SchemaBuilder::string().build()
}

/// Serializes, then decodes with apache-avro; checks every byte is used.
#[allow(deprecated)] // from_avro_datum: the simplest reader for a test
fn decode_with_apache_avro(schema: &SchemaRef, value: &Value) -> AV {
    let data = AvroData::default();
    let text = data.schema_text(schema).unwrap();
    let body = data.serialize(schema, value).unwrap();
    let avro = apache_avro::Schema::parse_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let mut reader: &[u8] = &body;
    let decoded = apache_avro::from_avro_datum(&avro, &mut reader, None)
        .unwrap_or_else(|e| panic!("{e}: {text} {body:?}"));
    assert!(reader.is_empty(), "{} bytes left over", reader.len());
    decoded
}

/// from_connect then to_connect gives back `value` with `schema`.
fn round_trip(schema: &SchemaRef, value: &Value) {
    let data = AvroData::default();
    let text = data.schema_text(schema).unwrap();
    let body = data.serialize(schema, value).unwrap();
    let (back_schema, back) = data.deserialize(&text, None, &body).unwrap();
    assert_eq!(**schema, *back_schema, "schema of {text}");
    assert_eq!(*value, back, "value of {text}");
}

fn record_schema() -> (SchemaRef, SchemaRef) {
    let inner = SchemaBuilder::struct_()
        .name("t.Inner")
        .field("x", int32())
        .field("y", SchemaBuilder::string().optional().build())
        .optional()
        .build();
    let schema = SchemaBuilder::struct_()
        .name("t.Rec")
        .version(1)
        .doc("a record")
        .field("b", SchemaBuilder::boolean().build())
        .field("i8", SchemaBuilder::int8().build())
        .field("i16", SchemaBuilder::int16().build())
        .field("i32", int32())
        .field("i64", SchemaBuilder::int64().build())
        .field("f32", SchemaBuilder::float32().build())
        .field("f64", SchemaBuilder::float64().build())
        .field("s", string())
        .field("by", SchemaBuilder::bytes().build())
        .field(
            "d",
            logical::decimal(2)
                .parameter("connect.decimal.precision", "10")
                .build(),
        )
        .field("date", logical::date().build())
        .field("time", logical::time().build())
        .field("ts", logical::timestamp().build())
        .field("opt_s", SchemaBuilder::string().optional().build())
        .field("opt_s2", SchemaBuilder::string().optional().build())
        .field("arr", SchemaBuilder::array(int32()).build())
        .field(
            "m",
            SchemaBuilder::map(string(), SchemaBuilder::int64().optional().build()).build(),
        )
        .field("mk", SchemaBuilder::map(int32(), string()).build())
        .field("nested", inner.clone())
        .field("nested_null", inner.clone())
        .build();
    (schema, inner)
}

fn record_value(schema: &SchemaRef, inner: &SchemaRef) -> Value {
    Value::Struct(Struct::from_values(
        schema.clone(),
        vec![
            Value::Boolean(true),
            Value::Int8(-5),
            Value::Int16(300),
            Value::Int32(-70000),
            Value::Int64(1 << 40),
            Value::Float32(1.5),
            Value::Float64(-2.25),
            Value::String("héllo".into()),
            Value::Bytes(vec![0, 1, 255]),
            Value::Decimal(Decimal::new(-12345, 2)),
            Value::Int32(19000),
            Value::Int32(3_600_000),
            Value::Int64(1_700_000_000_000),
            Value::Null,
            Value::String("x".into()),
            Value::Array(vec![Value::Int32(1), Value::Int32(-1)]),
            Value::Map(vec![
                ("k1".into(), Value::Int64(7)),
                ("k2".into(), Value::Null),
            ]),
            Value::Map(vec![(Value::Int32(4), "four".into())]),
            Value::Struct(Struct::new(inner.clone()).with("x", 9).with("y", "why")),
            Value::Null,
        ],
    ))
}

#[test]
fn binary_matches_apache_avro() {
    let (schema, inner) = record_schema();
    let decoded = decode_with_apache_avro(&schema, &record_value(&schema, &inner));
    let expected = AV::Record(vec![
        ("b".into(), AV::Boolean(true)),
        ("i8".into(), AV::Int(-5)),
        ("i16".into(), AV::Int(300)),
        ("i32".into(), AV::Int(-70000)),
        ("i64".into(), AV::Long(1 << 40)),
        ("f32".into(), AV::Float(1.5)),
        ("f64".into(), AV::Double(-2.25)),
        ("s".into(), AV::String("héllo".into())),
        ("by".into(), AV::Bytes(vec![0, 1, 255])),
        (
            "d".into(),
            AV::Decimal(apache_avro::Decimal::from(
                num_bigint::BigInt::from(-12345).to_signed_bytes_be(),
            )),
        ),
        ("date".into(), AV::Date(19000)),
        ("time".into(), AV::TimeMillis(3_600_000)),
        ("ts".into(), AV::TimestampMillis(1_700_000_000_000)),
        ("opt_s".into(), AV::Union(0, Box::new(AV::Null))),
        (
            "opt_s2".into(),
            AV::Union(1, Box::new(AV::String("x".into()))),
        ),
        ("arr".into(), AV::Array(vec![AV::Int(1), AV::Int(-1)])),
        (
            "m".into(),
            AV::Map(HashMap::from([
                ("k1".to_string(), AV::Union(1, Box::new(AV::Long(7)))),
                ("k2".to_string(), AV::Union(0, Box::new(AV::Null))),
            ])),
        ),
        (
            "mk".into(),
            AV::Array(vec![AV::Record(vec![
                ("key".into(), AV::Int(4)),
                ("value".into(), AV::String("four".into())),
            ])]),
        ),
        (
            "nested".into(),
            AV::Union(
                1,
                Box::new(AV::Record(vec![
                    ("x".into(), AV::Int(9)),
                    ("y".into(), AV::Union(1, Box::new(AV::String("why".into())))),
                ])),
            ),
        ),
        ("nested_null".into(), AV::Union(0, Box::new(AV::Null))),
    ]);
    assert_eq!(decoded, expected);
}

#[test]
fn exact_bytes_of_a_small_record() {
    // {"id": 1, "name": "ab", "opt": null} as Avro: zig-zag 1 = 0x02,
    // string length 2 = 0x04 'a' 'b', union branch 0 = 0x00.
    let schema = SchemaBuilder::struct_()
        .name("t.Small")
        .field("id", int32())
        .field("name", string())
        .field("opt", SchemaBuilder::int64().optional().build())
        .field("arr", SchemaBuilder::array(int32()).build())
        .build();
    let value = Value::Struct(Struct::from_values(
        schema.clone(),
        vec![1.into(), "ab".into(), Value::Null, Value::Array(vec![])],
    ));
    assert_eq!(
        AvroData::default().serialize(&schema, &value).unwrap(),
        vec![0x02, 0x04, b'a', b'b', 0x00, 0x00]
    );
    let value = Value::Struct(Struct::from_values(
        schema.clone(),
        vec![
            (-64).into(),
            "".into(),
            Value::Int64(64),
            Value::Array(vec![Value::Int32(3)]),
        ],
    ));
    // -64 → 0x7f; 64 → 0x80 0x01 after the branch index 0x02; an array
    // block of one item: count 0x02, item 0x06, end 0x00.
    assert_eq!(
        AvroData::default().serialize(&schema, &value).unwrap(),
        vec![0x7f, 0x00, 0x02, 0x80, 0x01, 0x02, 0x06, 0x00]
    );
}

#[test]
fn null_field_takes_the_connect_default() {
    // Connect's Struct.get returns the default for a null field, and that
    // is what Confluent serializes.
    let schema = SchemaBuilder::struct_()
        .name("t.D")
        .field(
            "snapshot",
            SchemaBuilder::string()
                .name("io.debezium.data.Enum")
                .version(1)
                .parameter("allowed", "true,last,false,incremental")
                .default_value("false".into())
                .optional()
                .build(),
        )
        .field(
            "n",
            SchemaBuilder::int32()
                .default_value(Value::Int32(7))
                .build(),
        )
        .build();
    let value = Value::Struct(Struct::new(schema.clone()));
    let decoded = decode_with_apache_avro(&schema, &value);
    assert_eq!(
        decoded,
        AV::Record(vec![
            // [string, null]: branch 0 is the string.
            (
                "snapshot".into(),
                AV::Union(0, Box::new(AV::String("false".into())))
            ),
            ("n".into(), AV::Int(7)),
        ])
    );
    let data = AvroData::default();
    let body = data.serialize(&schema, &value).unwrap();
    let (back_schema, back) = data
        .deserialize(&data.schema_text(&schema).unwrap(), None, &body)
        .unwrap();
    assert_eq!(*back_schema, *schema);
    assert_eq!(
        back,
        Value::Struct(
            Struct::new(schema.clone())
                .with("snapshot", "false")
                .with("n", 7)
        )
    );
}

#[test]
fn conversion_errors_name_the_field() {
    let (schema, inner) = record_schema();
    let Value::Struct(s) = record_value(&schema, &inner) else {
        unreachable!()
    };
    let mut bad = s.clone();
    bad.put("i32", Value::Null).unwrap();
    let err = AvroData::default()
        .serialize(&schema, &Value::Struct(bad))
        .unwrap_err();
    assert!(
        err.contains("Found null value for non-optional schema") && err.contains("\"i32\""),
        "{err}"
    );
    let mut bad = s.clone();
    bad.put("s", Value::Int32(1)).unwrap();
    let err = AvroData::default()
        .serialize(&schema, &Value::Struct(bad))
        .unwrap_err();
    assert!(
        err.contains("Invalid type for STRING: int32") && err.contains("\"s\""),
        "{err}"
    );
    let mut bad = s.clone();
    bad.put("d", Value::Decimal(Decimal::new(1, 3))).unwrap();
    let err = AvroData::default()
        .serialize(&schema, &Value::Struct(bad))
        .unwrap_err();
    assert!(err.contains("mismatching scale"), "{err}");
    // A nested error names the path.
    let mut bad = s;
    bad.put(
        "nested",
        Value::Struct(Struct::new(inner.clone()).with("y", "only y")),
    )
    .unwrap();
    let err = AvroData::default()
        .serialize(&schema, &Value::Struct(bad))
        .unwrap_err();
    assert!(err.contains("\"nested.x\""), "{err}");
    // A struct of another schema.
    let other = SchemaBuilder::struct_()
        .name("t.Other")
        .field("x", int32())
        .build();
    let err = AvroData::default()
        .serialize(&schema, &Value::Struct(Struct::new(other).with("x", 1)))
        .unwrap_err();
    assert!(err.contains("Mismatching struct schema"), "{err}");
}

#[test]
fn round_trips_records() {
    let (schema, inner) = record_schema();
    round_trip(&schema, &record_value(&schema, &inner));
}

#[test]
fn round_trips_primitives_and_top_level_shapes() {
    round_trip(&SchemaBuilder::int8().build(), &Value::Int8(-128));
    round_trip(&SchemaBuilder::int16().build(), &Value::Int16(i16::MAX));
    round_trip(&int32(), &Value::Int32(i32::MIN));
    round_trip(&SchemaBuilder::int64().build(), &Value::Int64(i64::MIN));
    round_trip(&SchemaBuilder::float32().build(), &Value::Float32(f32::MAX));
    round_trip(&SchemaBuilder::float64().build(), &Value::Float64(1e-300));
    round_trip(&SchemaBuilder::boolean().build(), &Value::Boolean(false));
    round_trip(&string(), &Value::String(String::new().into()));
    round_trip(&SchemaBuilder::string().optional().build(), &"opt".into());
    round_trip(&SchemaBuilder::string().optional().build(), &Value::Null);
    round_trip(
        &SchemaBuilder::string()
            .name("io.debezium.time.ZonedTimestamp")
            .version(1)
            .build(),
        &"2024-01-01T00:00:00Z".into(),
    );
    round_trip(&logical::date().build(), &Value::Int32(-1));
    round_trip(&logical::timestamp().build(), &Value::Int64(-1));
    // Top-level bytes and decimals are written raw.
    round_trip(
        &SchemaBuilder::bytes().build(),
        &Value::Bytes(vec![9, 8, 7]),
    );
    assert_eq!(
        AvroData::default()
            .serialize(
                &SchemaBuilder::bytes().build(),
                &Value::Bytes(vec![9, 8, 7])
            )
            .unwrap(),
        vec![9, 8, 7]
    );
    round_trip(
        &logical::decimal(4).build(),
        &Value::Decimal(Decimal::parse("-123456789012345678901234567890.1234").unwrap()),
    );
    round_trip(
        &SchemaBuilder::bytes().optional().build(),
        &Value::Bytes(vec![]),
    );
    round_trip(
        &SchemaBuilder::array(SchemaBuilder::array(int32()).build()).build(),
        &Value::Array(vec![
            Value::Array(vec![]),
            Value::Array(vec![Value::Int32(1), Value::Int32(2)]),
        ]),
    );
    round_trip(
        &SchemaBuilder::map(string(), SchemaBuilder::bytes().optional().build()).build(),
        &Value::Map(vec![
            ("a".into(), Value::Bytes(vec![1])),
            ("b".into(), Value::Null),
        ]),
    );
    round_trip(
        &SchemaBuilder::map(SchemaBuilder::string().optional().build(), int32()).build(),
        &Value::Map(vec![
            (Value::Null, Value::Int32(1)),
            ("a".into(), Value::Int32(2)),
        ]),
    );
}

#[test]
fn round_trips_unnamed_and_shared_structs() {
    let item = SchemaBuilder::struct_()
        .field("v", SchemaBuilder::float64().optional().build())
        .build();
    let schema = SchemaBuilder::struct_()
        .field("first", item.clone())
        .field("items", SchemaBuilder::array(item.clone()).build())
        .field("by_key", SchemaBuilder::map(string(), item.clone()).build())
        .build();
    let one = |v: f64| Value::Struct(Struct::new(item.clone()).with("v", Value::Float64(v)));
    let value = Value::Struct(Struct::from_values(
        schema.clone(),
        vec![
            one(1.0),
            Value::Array(vec![one(2.0), Value::Struct(Struct::new(item.clone()))]),
            Value::Map(vec![("k".into(), one(3.0))]),
        ],
    ));
    round_trip(&schema, &value);
}

#[test]
fn round_trips_defaults_docs_and_parameters() {
    let schema = SchemaBuilder::struct_()
        .name("t.WithDefaults")
        .version(4)
        .field(
            "f",
            SchemaBuilder::float32()
                .default_value(Value::Float32(12.2))
                .doc("a float")
                .build(),
        )
        .field(
            "b",
            SchemaBuilder::bytes()
                .default_value(Value::Bytes(vec![0, 0x80, 0xff]))
                .build(),
        )
        .field(
            "d",
            logical::decimal(5)
                .default_value(Value::Decimal(Decimal::new(314159, 5)))
                .build(),
        )
        .field(
            "e",
            SchemaBuilder::string()
                .name("io.debezium.data.Enum")
                .version(1)
                .parameter("allowed", "a,b")
                .default_value("a".into())
                .optional()
                .build(),
        )
        .field(
            "arr",
            SchemaBuilder::array(string())
                .default_value(Value::Array(vec!["x".into()]))
                .build(),
        )
        .field(
            "i8",
            SchemaBuilder::int8()
                .default_value(Value::Int8(-3))
                .optional()
                .build(),
        )
        .build();
    let value = Value::Struct(Struct::from_values(
        schema.clone(),
        vec![
            Value::Float32(0.5),
            Value::Bytes(vec![1]),
            Value::Decimal(Decimal::new(1, 5)),
            "b".into(),
            Value::Array(vec![]),
            Value::Int8(5),
        ],
    ));
    round_trip(&schema, &value);
}

#[test]
fn round_trips_confluent_union_structs() {
    let union = SchemaBuilder::struct_()
        .name("io.confluent.connect.avro.Union")
        .field("int", SchemaBuilder::int32().optional().build())
        .field("string", SchemaBuilder::string().optional().build())
        .optional()
        .build();
    assert_eq!(
        AvroData::default().schema_text(&union).unwrap(),
        r#"["null","int","string"]"#
    );
    round_trip(
        &union,
        &Value::Struct(Struct::new(union.clone()).with("string", "s")),
    );
    round_trip(
        &union,
        &Value::Struct(Struct::new(union.clone()).with("int", 3)),
    );
    round_trip(&union, &Value::Null);
    let decoded = decode_with_apache_avro(
        &union,
        &Value::Struct(Struct::new(union.clone()).with("string", "s")),
    );
    assert_eq!(decoded, AV::Union(2, Box::new(AV::String("s".into()))));
}

#[test]
fn round_trips_a_debezium_change_event() {
    let (_, value_schema, envelope) = debezium_schemas();
    let source = envelope.field("source").unwrap().schema.clone();
    let after = Struct::from_values(
        value_schema.clone(),
        vec![
            Value::Int32(42),
            Value::Decimal(Decimal::new(1999, 2)),
            "2024-05-01T12:00:00Z".into(),
            Value::Int16(-2),
            Value::Null,
        ],
    );
    let source_value = Struct::from_values(
        source.clone(),
        vec![
            "2.7.0".into(),
            "postgresql".into(),
            "shop".into(),
            Value::Int64(1_714_564_800_000),
            "false".into(),
            "shop".into(),
            "[\"1\",\"2\"]".into(),
            Value::Int64(1),
            Value::Int64(2),
            "public".into(),
            "orders".into(),
            Value::Int64(771),
            Value::Int64(123_456),
            Value::Null,
        ],
    );
    let event = Value::Struct(Struct::from_values(
        envelope.clone(),
        vec![
            Value::Null,
            Value::Struct(after),
            Value::Struct(source_value),
            Value::Null,
            "c".into(),
            Value::Int64(1),
            Value::Int64(2),
            Value::Null,
        ],
    ));
    round_trip(&envelope, &event);
    let decoded = decode_with_apache_avro(&envelope, &event);
    let AV::Record(fields) = decoded else {
        panic!("not a record")
    };
    assert_eq!(
        fields[0],
        ("before".into(), AV::Union(0, Box::new(AV::Null)))
    );
    assert_eq!(fields[4], ("op".into(), AV::String("c".into())));
}

/// Debezium's PostgreSQL schemas (the same as the golden test's).
fn debezium_schemas() -> (SchemaRef, SchemaRef, SchemaRef) {
    let topic = "shop.public.orders";
    let opt_i64 = || SchemaBuilder::int64().optional().build();
    let opt_str = || SchemaBuilder::string().optional().build();
    let source = SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.Source")
        .version(1)
        .field("version", string())
        .field("connector", string())
        .field("name", string())
        .field("ts_ms", SchemaBuilder::int64().build())
        .field(
            "snapshot",
            SchemaBuilder::string()
                .name("io.debezium.data.Enum")
                .version(1)
                .parameter("allowed", "true,last,false,incremental")
                .default_value("false".into())
                .optional()
                .build(),
        )
        .field("db", string())
        .field("sequence", opt_str())
        .field("ts_us", opt_i64())
        .field("ts_ns", opt_i64())
        .field("schema", string())
        .field("table", string())
        .field("txId", opt_i64())
        .field("lsn", opt_i64())
        .field("xmin", opt_i64())
        .build();
    let transaction = SchemaBuilder::struct_()
        .optional()
        .name("event.block")
        .version(1)
        .field("id", string())
        .field("total_order", SchemaBuilder::int64().build())
        .field("data_collection_order", SchemaBuilder::int64().build())
        .build();
    let value = SchemaBuilder::struct_()
        .name(format!("{topic}.Value"))
        .field("id", int32())
        .field(
            "amount",
            logical::decimal(2)
                .parameter("connect.decimal.precision", "10")
                .optional()
                .build(),
        )
        .field(
            "created",
            SchemaBuilder::string()
                .name("io.debezium.time.ZonedTimestamp")
                .version(1)
                .optional()
                .build(),
        )
        .field("tiny", SchemaBuilder::int16().optional().build())
        .field("payload", SchemaBuilder::bytes().optional().build())
        .optional()
        .build();
    let key = SchemaBuilder::struct_()
        .name(format!("{topic}.Key"))
        .field("id", int32())
        .build();
    let envelope = SchemaBuilder::struct_()
        .name(format!("{topic}.Envelope"))
        .version(2)
        .field("before", value.clone())
        .field("after", value.clone())
        .field("source", source)
        .field("transaction", transaction)
        .field("op", string())
        .field("ts_ms", opt_i64())
        .field("ts_us", opt_i64())
        .field("ts_ns", opt_i64())
        .build();
    (key, value, envelope)
}

#[test]
fn reads_avro_written_by_other_producers() {
    // Enums, fixed, general unions and records without Connect metadata,
    // written by apache-avro.
    let text = r#"{"type":"record","name":"Other","namespace":"ext","doc":"from elsewhere","fields":[
        {"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},
        {"name":"hash","type":{"type":"fixed","name":"Hash","size":2}},
        {"name":"either","type":["null","int","string"]},
        {"name":"count","type":"long","default":5},
        {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":1}}
    ]}"#;
    let avro = apache_avro::Schema::parse_str(text).unwrap();
    let record = AV::Record(vec![
        ("color".into(), AV::Enum(1, "GREEN".into())),
        ("hash".into(), AV::Fixed(2, vec![0xab, 0xcd])),
        (
            "either".into(),
            AV::Union(2, Box::new(AV::String("s".into()))),
        ),
        ("count".into(), AV::Long(9)),
        (
            "price".into(),
            AV::Decimal(apache_avro::Decimal::from(vec![0x04, 0xd2])),
        ),
    ]);
    #[allow(deprecated)]
    let body = apache_avro::to_avro_datum(&avro, record).unwrap();
    let (schema, value) = AvroData::default()
        .deserialize(text, Some(3), &body)
        .unwrap();
    assert_eq!(schema.name.as_deref(), Some("ext.Other"));
    assert_eq!(schema.version, Some(3));
    assert_eq!(
        schema.parameter("io.confluent.connect.avro.record.doc"),
        Some("from elsewhere")
    );
    let color = &schema.field("color").unwrap().schema;
    assert_eq!(
        color.parameter("io.confluent.connect.avro.Enum"),
        Some("ext.Color")
    );
    assert_eq!(
        color.parameter("io.confluent.connect.avro.Enum.GREEN"),
        Some("GREEN")
    );
    let hash = &schema.field("hash").unwrap().schema;
    assert_eq!(hash.name.as_deref(), Some("ext.Hash"));
    assert_eq!(hash.parameter("connect.fixed.size"), Some("2"));
    let either = &schema.field("either").unwrap().schema;
    assert_eq!(
        either.name.as_deref(),
        Some("io.confluent.connect.avro.Union")
    );
    assert!(either.optional);
    let count = &schema.field("count").unwrap().schema;
    assert_eq!(count.default, Some(Value::Int64(5)));
    assert_eq!(
        count.parameter("io.confluent.connect.avro.field.default"),
        Some("true")
    );
    let price = &schema.field("price").unwrap().schema;
    assert_eq!(price.parameter("connect.decimal.precision"), Some("6"));
    let Value::Struct(s) = value else {
        panic!("not a struct")
    };
    assert_eq!(s.get("color"), Some(&Value::String("GREEN".into())));
    assert_eq!(s.get("hash"), Some(&Value::Bytes(vec![0xab, 0xcd])));
    let Some(Value::Struct(e)) = s.get("either") else {
        panic!("union is a struct")
    };
    assert_eq!(e.get("string"), Some(&Value::String("s".into())));
    assert_eq!(e.get("int"), Some(&Value::Null));
    assert_eq!(s.get("count"), Some(&Value::Int64(9)));
    assert_eq!(s.get("price"), Some(&Value::Decimal(Decimal::new(1234, 1))));
}

#[test]
fn corrupt_bodies_are_errors_not_panics() {
    let (schema, inner) = record_schema();
    let data = AvroData::default();
    let text = data.schema_text(&schema).unwrap();
    let body = data
        .serialize(&schema, &record_value(&schema, &inner))
        .unwrap();
    for cut in 0..body.len() {
        assert!(
            data.deserialize(&text, None, &body[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    // A huge length prefix.
    assert!(data
        .deserialize(r#""string""#, None, &[0xfe, 0xff, 0xff, 0xff, 0x0f])
        .is_err());
    // A huge array count with nothing behind it.
    assert!(data
        .deserialize(
            r#"{"type":"array","items":"int"}"#,
            None,
            &[0xfe, 0xff, 0xff, 0xff, 0x0f]
        )
        .is_err());
}
