//! Connect → Avro schema translation against what Confluent's
//! `AvroData.fromConnectSchema` produces (expectations of
//! avro-data/src/test/java/io/confluent/connect/avro/AvroDataTest.java,
//! written out as the text Avro's `Schema.toString()` gives for them), and
//! a full Debezium PostgreSQL envelope as it appears in a registry fed by
//! Confluent's converter.
//!
//! The expected texts are compared byte for byte: property order is part
//! of what users see in the registry.

use sluice_connect_api::data::logical;
use sluice_connect_api::{Decimal, SchemaBuilder, SchemaRef, Struct, Value};
use sluice_converters::avro::{AvroData, AvroDataOptions};

fn text(schema: &SchemaRef) -> String {
    AvroData::default().schema_text(schema).unwrap()
}

/// Compares as text, with a structural diff when they differ.
fn assert_schema(schema: &SchemaRef, expected: &str) {
    let actual = text(schema);
    if actual != expected {
        let a: serde_json::Value = serde_json::from_str(&actual).unwrap();
        let e: serde_json::Value = serde_json::from_str(expected).expect("expected is JSON");
        panic!(
            "schema text differs{}\n actual: {actual}\n expect: {expected}",
            if a == e {
                " (only in order or number form)"
            } else {
                ""
            }
        );
    }
}

fn int32() -> SchemaRef {
    SchemaBuilder::int32().build()
}
fn string() -> SchemaRef {
    SchemaBuilder::string().build()
}

#[test]
fn primitives() {
    assert_schema(&SchemaBuilder::boolean().build(), r#""boolean""#);
    assert_schema(
        &SchemaBuilder::int8().build(),
        r#"{"type":"int","connect.type":"int8"}"#,
    );
    assert_schema(
        &SchemaBuilder::int16().build(),
        r#"{"type":"int","connect.type":"int16"}"#,
    );
    assert_schema(&int32(), r#""int""#);
    assert_schema(&SchemaBuilder::int64().build(), r#""long""#);
    assert_schema(&SchemaBuilder::float32().build(), r#""float""#);
    assert_schema(&SchemaBuilder::float64().build(), r#""double""#);
    assert_schema(&SchemaBuilder::bytes().build(), r#""bytes""#);
    assert_schema(&string(), r#""string""#);
    // An optional top-level schema is a union with null first.
    assert_schema(
        &SchemaBuilder::string().optional().build(),
        r#"["null","string"]"#,
    );
    assert_schema(
        &SchemaBuilder::int8().optional().build(),
        r#"["null",{"type":"int","connect.type":"int8"}]"#,
    );
}

#[test]
fn logical_types() {
    // testFromConnectLogicalDateNew / TimeNew / TimestampNew.
    assert_schema(
        &logical::date().build(),
        r#"{"type":"int","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Date","logicalType":"date"}"#,
    );
    assert_schema(
        &logical::time().build(),
        r#"{"type":"int","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Time","logicalType":"time-millis"}"#,
    );
    assert_schema(
        &logical::timestamp().build(),
        r#"{"type":"long","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Timestamp","logicalType":"timestamp-millis"}"#,
    );
    // Decimal: scale and precision first (precision 64 by default), the
    // logical type last.
    assert_schema(
        &logical::decimal(2).build(),
        r#"{"type":"bytes","scale":2,"precision":64,"connect.version":1,"connect.parameters":{"scale":"2"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}"#,
    );
    // createDecimalSchema(true, 10): with connect.decimal.precision.
    assert_schema(
        &logical::decimal(2)
            .parameter("connect.decimal.precision", "10")
            .build(),
        r#"{"type":"bytes","scale":2,"precision":10,"connect.version":1,"connect.parameters":{"scale":"2","connect.decimal.precision":"10"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}"#,
    );
    // testFromConnectLogicalDecimalScaleGreaterThanPrecision: the legacy
    // property alone, same text.
    assert_schema(
        &logical::decimal(7)
            .parameter("connect.decimal.precision", "5")
            .build(),
        r#"{"type":"bytes","scale":7,"precision":5,"connect.version":1,"connect.parameters":{"scale":"7","connect.decimal.precision":"5"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}"#,
    );
    // An optional decimal.
    assert_schema(
        &logical::decimal(3).optional().build(),
        r#"["null",{"type":"bytes","scale":3,"precision":64,"connect.version":1,"connect.parameters":{"scale":"3"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}]"#,
    );
}

#[test]
fn maps() {
    // testFromConnectMapWithStringKey
    assert_schema(
        &SchemaBuilder::map(string(), int32()).build(),
        r#"{"type":"map","values":"int"}"#,
    );
    // testFromConnectMapWithOptionalKey
    assert_schema(
        &SchemaBuilder::map(SchemaBuilder::string().optional().build(), int32()).build(),
        r#"{"type":"array","items":{"type":"record","name":"MapEntry","namespace":"io.confluent.connect.avro","fields":[{"name":"key","type":["null","string"],"default":null},{"name":"value","type":"int"}]}}"#,
    );
    // testFromConnectMapWithNonStringKey
    assert_schema(
        &SchemaBuilder::map(int32(), int32()).build(),
        r#"{"type":"array","items":{"type":"record","name":"MapEntry","namespace":"io.confluent.connect.avro","fields":[{"name":"key","type":"int"},{"name":"value","type":"int"}]}}"#,
    );
    // testFromNamedConnectMapWithNonStringKey: the entry record takes the
    // map's name and says what it is.
    assert_schema(
        &SchemaBuilder::map(SchemaBuilder::string().optional().build(), int32())
            .name("foo.bar")
            .build(),
        r#"{"type":"array","items":{"type":"record","name":"bar","namespace":"foo","fields":[{"name":"key","type":["null","string"],"default":null},{"name":"value","type":"int"}],"connect.internal.type":"MapEntry"},"connect.name":"foo.bar"}"#,
    );
}

#[test]
fn complex_record_like_confluent() {
    // testFromConnectComplex
    let schema = SchemaBuilder::struct_()
        .field(
            "int8",
            SchemaBuilder::int8()
                .default_value(Value::Int8(2))
                .doc("int8 field")
                .build(),
        )
        .field("int16", SchemaBuilder::int16().build())
        .field("int32", int32())
        .field("int64", SchemaBuilder::int64().build())
        .field("float32", SchemaBuilder::float32().build())
        .field("float64", SchemaBuilder::float64().build())
        .field("boolean", SchemaBuilder::boolean().build())
        .field("string", string())
        .field("bytes", SchemaBuilder::bytes().build())
        .field("array", SchemaBuilder::array(string()).build())
        .field("map", SchemaBuilder::map(string(), int32()).build())
        .field(
            "mapNonStringKeys",
            SchemaBuilder::map(int32(), int32()).build(),
        )
        .build();
    assert_schema(
        &schema,
        concat!(
            r#"{"type":"record","name":"ConnectDefault","namespace":"io.confluent.connect.avro","fields":["#,
            r#"{"name":"int8","type":{"type":"int","connect.doc":"int8 field","connect.default":2,"connect.type":"int8"},"default":2},"#,
            r#"{"name":"int16","type":{"type":"int","connect.type":"int16"}},"#,
            r#"{"name":"int32","type":"int"},"#,
            r#"{"name":"int64","type":"long"},"#,
            r#"{"name":"float32","type":"float"},"#,
            r#"{"name":"float64","type":"double"},"#,
            r#"{"name":"boolean","type":"boolean"},"#,
            r#"{"name":"string","type":"string"},"#,
            r#"{"name":"bytes","type":"bytes"},"#,
            r#"{"name":"array","type":{"type":"array","items":"string"}},"#,
            r#"{"name":"map","type":{"type":"map","values":"int"}},"#,
            r#"{"name":"mapNonStringKeys","type":{"type":"array","items":{"type":"record","name":"MapEntry","fields":[{"name":"key","type":"int"},{"name":"value","type":"int"}]}}}"#,
            r#"]}"#
        ),
    );
}

#[test]
fn defaults_like_confluent() {
    // testFromConnectComplexWithDefaults (with a timestamp default that
    // does not overflow Java's int arithmetic).
    let decimal_default = Decimal::new(314159, 5);
    let schema = SchemaBuilder::struct_()
        .field(
            "int8",
            SchemaBuilder::int8()
                .default_value(Value::Int8(2))
                .doc("int8 field")
                .build(),
        )
        .field(
            "int16",
            SchemaBuilder::int16()
                .default_value(Value::Int16(12))
                .doc("int16 field")
                .build(),
        )
        .field(
            "int32",
            SchemaBuilder::int32()
                .default_value(Value::Int32(12))
                .doc("int32 field")
                .build(),
        )
        .field(
            "int64",
            SchemaBuilder::int64()
                .default_value(Value::Int64(12))
                .doc("int64 field")
                .build(),
        )
        .field(
            "float32",
            SchemaBuilder::float32()
                .default_value(Value::Float32(12.2))
                .doc("float32 field")
                .build(),
        )
        .field(
            "float64",
            SchemaBuilder::float64()
                .default_value(Value::Float64(12.2))
                .doc("float64 field")
                .build(),
        )
        .field(
            "boolean",
            SchemaBuilder::boolean()
                .default_value(Value::Boolean(true))
                .doc("bool field")
                .build(),
        )
        .field(
            "string",
            SchemaBuilder::string()
                .default_value("foo".into())
                .doc("string field")
                .build(),
        )
        .field(
            "bytes",
            SchemaBuilder::bytes()
                .default_value(Value::Bytes(b"foo".to_vec()))
                .doc("bytes field")
                .build(),
        )
        .field(
            "array",
            SchemaBuilder::array(string())
                .default_value(Value::Array(vec!["a".into(), "b".into(), "c".into()]))
                .build(),
        )
        .field(
            "map",
            SchemaBuilder::map(string(), int32())
                .default_value(Value::Map(vec![("field".into(), Value::Int32(1))]))
                .build(),
        )
        .field(
            "date",
            logical::date()
                .default_value(Value::Int32(100))
                .doc("date field")
                .build(),
        )
        .field(
            "time",
            logical::time()
                .default_value(Value::Int32(7_200_000))
                .doc("time field")
                .build(),
        )
        .field(
            "ts",
            logical::timestamp()
                .default_value(Value::Int64(31_536_000_100))
                .doc("ts field")
                .build(),
        )
        .field(
            "decimal",
            logical::decimal(5)
                .default_value(Value::Decimal(decimal_default))
                .doc("decimal field")
                .build(),
        )
        .build();
    assert_schema(
        &schema,
        concat!(
            r#"{"type":"record","name":"ConnectDefault","namespace":"io.confluent.connect.avro","fields":["#,
            r#"{"name":"int8","type":{"type":"int","connect.doc":"int8 field","connect.default":2,"connect.type":"int8"},"default":2},"#,
            r#"{"name":"int16","type":{"type":"int","connect.doc":"int16 field","connect.default":12,"connect.type":"int16"},"default":12},"#,
            r#"{"name":"int32","type":{"type":"int","connect.doc":"int32 field","connect.default":12},"default":12},"#,
            r#"{"name":"int64","type":{"type":"long","connect.doc":"int64 field","connect.default":12},"default":12},"#,
            // connect.default keeps Jackson's FloatNode; the field default went
            // through Avro's JacksonUtils.toObject, which widens it to double.
            r#"{"name":"float32","type":{"type":"float","connect.doc":"float32 field","connect.default":12.2},"default":12.199999809265137},"#,
            r#"{"name":"float64","type":{"type":"double","connect.doc":"float64 field","connect.default":12.2},"default":12.2},"#,
            r#"{"name":"boolean","type":{"type":"boolean","connect.doc":"bool field","connect.default":true},"default":true},"#,
            r#"{"name":"string","type":{"type":"string","connect.doc":"string field","connect.default":"foo"},"default":"foo"},"#,
            r#"{"name":"bytes","type":{"type":"bytes","connect.doc":"bytes field","connect.default":"foo"},"default":"foo"},"#,
            r#"{"name":"array","type":{"type":"array","items":"string","connect.default":["a","b","c"]},"default":["a","b","c"]},"#,
            r#"{"name":"map","type":{"type":"map","values":"int","connect.default":{"field":1}},"default":{"field":1}},"#,
            r#"{"name":"date","type":{"type":"int","connect.doc":"date field","connect.version":1,"connect.default":100,"connect.name":"org.apache.kafka.connect.data.Date","logicalType":"date"},"default":100},"#,
            r#"{"name":"time","type":{"type":"int","connect.doc":"time field","connect.version":1,"connect.default":7200000,"connect.name":"org.apache.kafka.connect.data.Time","logicalType":"time-millis"},"default":7200000},"#,
            r#"{"name":"ts","type":{"type":"long","connect.doc":"ts field","connect.version":1,"connect.default":31536000100,"connect.name":"org.apache.kafka.connect.data.Timestamp","logicalType":"timestamp-millis"},"default":31536000100},"#,
            // 314159 = 0x04CB2F: ISO-8859-1 text "\u0004Ë/".
            "{\"name\":\"decimal\",\"type\":{\"type\":\"bytes\",\"scale\":5,\"precision\":64,\"connect.doc\":\"decimal field\",\"connect.version\":1,\"connect.parameters\":{\"scale\":\"5\"},\"connect.default\":\"\\u0004\u{cb}/\",\"connect.name\":\"org.apache.kafka.connect.data.Decimal\",\"logicalType\":\"decimal\"},\"default\":\"\\u0004\u{cb}/\"}",
            r#"]}"#
        ),
    );
}

#[test]
fn optional_fields_and_defaults() {
    // testFromConnectOptionalWithDefaultNull
    assert_schema(
        &SchemaBuilder::struct_()
            .field("optionalBool", SchemaBuilder::boolean().optional().build())
            .build(),
        r#"{"type":"record","name":"ConnectDefault","namespace":"io.confluent.connect.avro","fields":[{"name":"optionalBool","type":["null","boolean"],"default":null}]}"#,
    );
    // testFromConnectOptionalPrimitiveWithMetadata: with a default the
    // type comes first in the union.
    assert_schema(
        &SchemaBuilder::string()
            .doc("doc")
            .default_value("foo".into())
            .name("io.confluent.stringtype")
            .version(2)
            .optional()
            .parameter("foo", "bar")
            .parameter("baz", "baz")
            .build(),
        r#"[{"type":"string","connect.doc":"doc","connect.version":2,"connect.parameters":{"foo":"bar","baz":"baz"},"connect.default":"foo","connect.name":"io.confluent.stringtype"},"null"]"#,
    );
    // testFromConnectOptionalWithInvalidDefault: an array of optional
    // strings keeps its default (valid for a branch of each item's union).
    assert_schema(
        &SchemaBuilder::struct_()
            .field(
                "array",
                SchemaBuilder::array(SchemaBuilder::string().optional().build())
                    .default_value(Value::Array(vec!["a".into(), "b".into(), "c".into()]))
                    .build(),
            )
            .build(),
        r#"{"type":"record","name":"ConnectDefault","namespace":"io.confluent.connect.avro","fields":[{"name":"array","type":{"type":"array","items":["null","string"],"connect.default":["a","b","c"]},"default":["a","b","c"]}]}"#,
    );
    // A default Avro rejects (a non-string-keyed map's default is an array
    // of pairs, the Avro type an array of records) is left out of the
    // field, but stays in connect.default.
    assert_schema(
        &SchemaBuilder::struct_()
            .field(
                "m",
                SchemaBuilder::map(int32(), int32())
                    .default_value(Value::Map(vec![(Value::Int32(1), Value::Int32(2))]))
                    .build(),
            )
            .build(),
        r#"{"type":"record","name":"ConnectDefault","namespace":"io.confluent.connect.avro","fields":[{"name":"m","type":{"type":"array","items":{"type":"record","name":"MapEntry","fields":[{"name":"key","type":"int"},{"name":"value","type":"int"}]},"connect.default":[[1,2]]}}]}"#,
    );
}

#[test]
fn record_metadata_and_names() {
    // testFromConnectRecordWithMetadata
    assert_schema(
        &SchemaBuilder::struct_()
            .name("io.confluent.test.TestSchema")
            .version(12)
            .doc("doc")
            .field("int32", int32())
            .build(),
        r#"{"type":"record","name":"TestSchema","namespace":"io.confluent.test","fields":[{"name":"int32","type":"int"}],"connect.doc":"doc","connect.version":12,"connect.name":"io.confluent.test.TestSchema"}"#,
    );
    // testFromConnectOptionalAndNonOptionalStruct: the same struct met
    // again is a name reference.
    let inner = SchemaBuilder::struct_()
        .name("inner")
        .field("value", SchemaBuilder::int64().build())
        .optional()
        .build();
    let outer = SchemaBuilder::struct_()
        .name("outer")
        .field("struct", inner.clone())
        .field("array", SchemaBuilder::array(inner).build())
        .build();
    assert_schema(
        &outer,
        r#"{"type":"record","name":"outer","fields":[{"name":"struct","type":["null",{"type":"record","name":"inner","fields":[{"name":"value","type":"long"}],"connect.name":"inner"}],"default":null},{"name":"array","type":{"type":"array","items":["null","inner"]}}],"connect.name":"outer"}"#,
    );
    // testFromConnectStructsWithNullName: unnamed structs are numbered in
    // the order they are met, and reused when equal.
    let inner = SchemaBuilder::struct_()
        .field("value", SchemaBuilder::int64().build())
        .optional()
        .build();
    let other = SchemaBuilder::struct_().field("x", string()).build();
    let outer = SchemaBuilder::struct_()
        .field("struct", inner.clone())
        .field("array", SchemaBuilder::array(inner).build())
        .field("other", other)
        .build();
    assert_schema(
        &outer,
        r#"{"type":"record","name":"ConnectDefault","namespace":"io.confluent.connect.avro","fields":[{"name":"struct","type":["null",{"type":"record","name":"ConnectDefault2","fields":[{"name":"value","type":"long"}]}],"default":null},{"name":"array","type":{"type":"array","items":["null","ConnectDefault2"]}},{"name":"other","type":{"type":"record","name":"ConnectDefault3","fields":[{"name":"x","type":"string"}]}}]}"#,
    );
    // A record without namespace inside one with a namespace.
    let schema = SchemaBuilder::struct_()
        .name("a.b.Outer")
        .field(
            "n",
            SchemaBuilder::struct_()
                .name("Plain")
                .field("x", int32())
                .build(),
        )
        .build();
    assert_schema(
        &schema,
        r#"{"type":"record","name":"Outer","namespace":"a.b","fields":[{"name":"n","type":{"type":"record","name":"Plain","namespace":"","fields":[{"name":"x","type":"int"}],"connect.name":"Plain"}}],"connect.name":"a.b.Outer"}"#,
    );
}

#[test]
fn connect_meta_data_off_leaves_only_logical_types() {
    let data = AvroData::new(AvroDataOptions {
        connect_meta_data: false,
    });
    let schema = SchemaBuilder::struct_()
        .name("x.Y")
        .version(3)
        .field("d", logical::decimal(2).build())
        .field(
            "s",
            SchemaBuilder::int16()
                .default_value(Value::Int16(4))
                .build(),
        )
        .build();
    assert_eq!(
        data.schema_text(&schema).unwrap(),
        r#"{"type":"record","name":"Y","namespace":"x","fields":[{"name":"d","type":{"type":"bytes","scale":2,"precision":64,"logicalType":"decimal"}},{"name":"s","type":"int","default":4}]}"#
    );
}

#[test]
fn invalid_names_are_rejected_like_avro() {
    let schema = SchemaBuilder::struct_()
        .name("my-server.public.orders.Value")
        .field("id", int32())
        .build();
    // The namespace is not checked, the name is.
    assert!(AvroData::default().schema_text(&schema).is_ok());
    let schema = SchemaBuilder::struct_()
        .name("x.my-table")
        .field("id", int32())
        .build();
    let err = AvroData::default().schema_text(&schema).unwrap_err();
    assert!(err.contains("Illegal character in: my-table"), "{err}");
    let schema = SchemaBuilder::struct_()
        .name("x.T")
        .field("a b", int32())
        .build();
    let err = AvroData::default().schema_text(&schema).unwrap_err();
    assert!(err.contains("a b"), "{err}");
}

/// Debezium's PostgreSQL change event schemas, built the way
/// crates/postgres/src/events.rs builds them.
pub fn debezium_envelope() -> (SchemaRef, SchemaRef, SchemaRef) {
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
fn debezium_postgres_envelope() {
    let (key, _, envelope) = debezium_envelope();
    assert_schema(
        &key,
        r#"{"type":"record","name":"Key","namespace":"shop.public.orders","fields":[{"name":"id","type":"int"}],"connect.name":"shop.public.orders.Key"}"#,
    );
    assert_schema(
        &envelope,
        concat!(
            r#"{"type":"record","name":"Envelope","namespace":"shop.public.orders","fields":["#,
            r#"{"name":"before","type":["null",{"type":"record","name":"Value","fields":["#,
            r#"{"name":"id","type":"int"},"#,
            r#"{"name":"amount","type":["null",{"type":"bytes","scale":2,"precision":10,"connect.version":1,"connect.parameters":{"scale":"2","connect.decimal.precision":"10"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}],"default":null},"#,
            r#"{"name":"created","type":["null",{"type":"string","connect.version":1,"connect.name":"io.debezium.time.ZonedTimestamp"}],"default":null},"#,
            r#"{"name":"tiny","type":["null",{"type":"int","connect.type":"int16"}],"default":null},"#,
            r#"{"name":"payload","type":["null","bytes"],"default":null}"#,
            r#"],"connect.name":"shop.public.orders.Value"}],"default":null},"#,
            r#"{"name":"after","type":["null","Value"],"default":null},"#,
            r#"{"name":"source","type":{"type":"record","name":"Source","namespace":"io.debezium.connector.postgresql","fields":["#,
            r#"{"name":"version","type":"string"},"#,
            r#"{"name":"connector","type":"string"},"#,
            r#"{"name":"name","type":"string"},"#,
            r#"{"name":"ts_ms","type":"long"},"#,
            r#"{"name":"snapshot","type":[{"type":"string","connect.version":1,"connect.parameters":{"allowed":"true,last,false,incremental"},"connect.default":"false","connect.name":"io.debezium.data.Enum"},"null"],"default":"false"},"#,
            r#"{"name":"db","type":"string"},"#,
            r#"{"name":"sequence","type":["null","string"],"default":null},"#,
            r#"{"name":"ts_us","type":["null","long"],"default":null},"#,
            r#"{"name":"ts_ns","type":["null","long"],"default":null},"#,
            r#"{"name":"schema","type":"string"},"#,
            r#"{"name":"table","type":"string"},"#,
            r#"{"name":"txId","type":["null","long"],"default":null},"#,
            r#"{"name":"lsn","type":["null","long"],"default":null},"#,
            r#"{"name":"xmin","type":["null","long"],"default":null}"#,
            r#"],"connect.version":1,"connect.name":"io.debezium.connector.postgresql.Source"}},"#,
            r#"{"name":"transaction","type":["null",{"type":"record","name":"block","namespace":"event","fields":["#,
            r#"{"name":"id","type":"string"},"#,
            r#"{"name":"total_order","type":"long"},"#,
            r#"{"name":"data_collection_order","type":"long"}"#,
            r#"],"connect.version":1,"connect.name":"event.block"}],"default":null},"#,
            r#"{"name":"op","type":"string"},"#,
            r#"{"name":"ts_ms","type":["null","long"],"default":null},"#,
            r#"{"name":"ts_us","type":["null","long"],"default":null},"#,
            r#"{"name":"ts_ns","type":["null","long"],"default":null}"#,
            r#"],"connect.version":2,"connect.name":"shop.public.orders.Envelope"}"#
        ),
    );
}

#[test]
fn schema_text_is_valid_for_apache_avro() {
    let (key, value, envelope) = debezium_envelope();
    for s in [key, value, envelope] {
        let t = text(&s);
        apache_avro::Schema::parse_str(&t).unwrap_or_else(|e| panic!("{e}: {t}"));
    }
    // A struct default survives, as Confluent writes it.
    let inner = SchemaBuilder::struct_()
        .name("n.I")
        .field("a", int32())
        .build();
    let schema = SchemaBuilder::struct_()
        .name("n.O")
        .field(
            "i",
            SchemaBuilder::struct_()
                .name("n.I")
                .field("a", int32())
                .default_value(Value::Struct(Struct::new(inner.clone()).with("a", 5)))
                .build(),
        )
        .build();
    let t = text(&schema);
    assert!(
        t.contains(r#""connect.default":{"a":5},"connect.name":"n.I"},"default":{"a":5}}"#),
        "{t}"
    );
}
