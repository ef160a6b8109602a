//! JsonConverter behaviour beyond Kafka's own test suite: configuration,
//! the converter registry, error messages, escaping, non-finite floats,
//! defaults, caches and concurrency.

use std::sync::Arc;

use sluice_connect_api::data::logical;
use sluice_connect_api::{
    ContentType, Converter, Decimal, ErrorKind, Props, SchemaBuilder, SchemaRef, Struct, Value,
};
use sluice_converters::{converter_config_def, create_converter, DecimalFormat, JsonConverter};

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn json(props_: &[(&str, &str)]) -> JsonConverter {
    JsonConverter::new(&props(props_), false).unwrap()
}

fn render(c: &JsonConverter, schema: Option<&SchemaRef>, value: &Value) -> String {
    String::from_utf8(c.from_connect("t", schema, value).unwrap().unwrap()).unwrap()
}

#[test]
fn config_def_declares_kafkas_keys_and_defaults() {
    let def = JsonConverter::config_def();
    let default = |k: &str| def.key(k).unwrap_or_else(|| panic!("{k}")).default.clone();
    assert_eq!(default("schemas.enable").as_deref(), Some("true"));
    assert_eq!(default("decimal.format").as_deref(), Some("BASE64"));
    assert_eq!(
        default("replace.null.with.default").as_deref(),
        Some("true")
    );
    assert_eq!(default("schemas.cache.size").as_deref(), Some("1000"));
    let c = json(&[]);
    assert!(c.schemas_enabled() && c.replace_null_with_default());
    assert_eq!(c.decimal_format(), DecimalFormat::Base64);
    assert_eq!(c.content_type(), ContentType::Json);
    // decimal.format is case-insensitive, as in Kafka.
    assert_eq!(
        json(&[("decimal.format", "numeric")]).decimal_format(),
        DecimalFormat::Numeric
    );
}

#[test]
fn bad_config_names_the_key() {
    for (key, value) in [
        ("decimal.format", "HEX"),
        ("schemas.enable", "maybe"),
        ("schemas.cache.size", "-1"),
        ("schemas.cache.size", "x"),
    ] {
        let err = JsonConverter::new(&props(&[(key, value)]), false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains(key), "{err}");
    }
}

#[test]
fn registry_knows_kafka_names_and_aliases() {
    let empty = Props::new();
    for (class, content) in [
        (
            "org.apache.kafka.connect.json.JsonConverter",
            ContentType::Json,
        ),
        ("json", ContentType::Json),
        ("JSON", ContentType::Json),
        (
            "org.apache.kafka.connect.storage.StringConverter",
            ContentType::Text,
        ),
        ("string", ContentType::Text),
    ] {
        assert_eq!(
            create_converter(class, &empty, false)
                .unwrap()
                .content_type(),
            content,
            "{class}"
        );
    }
    let err = create_converter(
        "io.confluent.connect.protobuf.ProtobufConverter",
        &empty,
        false,
    )
    .err()
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::Config);
    let msg = err.message();
    assert!(
        msg.contains("io.confluent.connect.protobuf.ProtobufConverter"),
        "{msg}"
    );
    assert!(
        msg.contains("org.apache.kafka.connect.json.JsonConverter")
            && msg.contains("StringConverter"),
        "{msg}"
    );
    // Converter properties reach the converter.
    let c = create_converter("json", &props(&[("schemas.enable", "false")]), true).unwrap();
    assert_eq!(
        c.from_connect("t", None, &Value::Int32(5))
            .unwrap()
            .unwrap(),
        b"5"
    );
    assert!(create_converter("json", &props(&[("decimal.format", "x")]), true).is_err());
    assert!(converter_config_def("string")
        .unwrap()
        .key("converter.encoding")
        .is_some());
}

#[test]
fn errors_name_the_field() {
    let row = SchemaBuilder::struct_()
        .optional()
        .field("id", SchemaBuilder::int32().build())
        .field(
            "tags",
            SchemaBuilder::array(SchemaBuilder::string().build()).build(),
        )
        .build();
    let envelope = SchemaBuilder::struct_().field("after", row.clone()).build();
    let mut bad = Struct::new(row.clone()).with("id", "not a number");
    bad.put("tags", Value::Array(vec![])).unwrap();
    let value = Value::Struct(Struct::new(envelope.clone()).with("after", bad));
    let err = json(&[])
        .from_connect("topic-x", Some(&envelope), &value)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert!(err.message().contains("\"after.id\""), "{err}");
    assert!(
        err.message().contains("int32") && err.message().contains("string"),
        "{err}"
    );
    assert!(err.message().contains("topic-x"), "{err}");

    let tags = Value::Array(vec![Value::String("a".into()), Value::Int32(1)]);
    let value = Value::Struct(Struct::new(envelope.clone()).with(
        "after",
        Struct::new(row.clone()).with("id", 1).with("tags", tags),
    ));
    let err = json(&[])
        .from_connect("t", Some(&envelope), &value)
        .unwrap_err();
    assert!(err.message().contains("\"after.tags[1]\""), "{err}");

    // A required field left null.
    let value =
        Value::Struct(Struct::new(envelope.clone()).with("after", Struct::new(row.clone())));
    let err = json(&[])
        .from_connect("t", Some(&envelope), &value)
        .unwrap_err();
    assert!(
        err.message().contains("null") && err.message().contains("\"after.id\""),
        "{err}"
    );

    // to_connect: the wrong JSON type, an out-of-range integer.
    let err = json(&[])
        .to_connect("t", Some(br#"{"schema":{"type":"struct","fields":[{"type":"int8","field":"small"}]},"payload":{"small":300}}"#))
        .unwrap_err();
    assert!(
        err.message().contains("payload.small") && err.message().contains("int8"),
        "{err}"
    );
    let err = json(&[])
        .to_connect("t", Some(br#"{"schema":{"type":"string"},"payload":12}"#))
        .unwrap_err();
    assert!(
        err.message().contains("NUMBER") && err.message().contains("string"),
        "{err}"
    );
    let err = json(&[])
        .to_connect("t", Some(br#"{"schema":{"type":"int32"},"payload":null}"#))
        .unwrap_err();
    assert!(
        err.message()
            .contains("Invalid null value for required int32 field"),
        "{err}"
    );
    let err = json(&[])
        .to_connect("t", Some(br#"{"schema":{"type":"nope"},"payload":null}"#))
        .unwrap_err();
    assert!(err.message().contains("Unknown schema type: nope"), "{err}");
    let err = json(&[])
        .to_connect("t", Some(b"{\"schema\":null,\"payload\":[1,}"))
        .unwrap_err();
    assert!(err.message().contains("invalid JSON at byte"), "{err}");
}

#[test]
fn strings_escape_like_jackson() {
    let s = "q\"b\\n\nt\tc\u{1}d\u{7f}é😀";
    let out = render(
        &json(&[("schemas.enable", "false")]),
        Some(&SchemaBuilder::string().build()),
        &Value::String(s.into()),
    );
    assert_eq!(out, "\"q\\\"b\\\\n\\nt\\tc\\u0001d\u{7f}é😀\"");
    let (_, back) = json(&[("schemas.enable", "false")])
        .to_connect("t", Some(out.as_bytes()))
        .unwrap();
    assert_eq!(back, Value::String(s.into()));
}

#[test]
fn non_finite_floats_are_quoted_and_read_back() {
    let c = json(&[]);
    let schema = SchemaBuilder::float64().build();
    for (v, text) in [
        (f64::NAN, "\"NaN\""),
        (f64::INFINITY, "\"Infinity\""),
        (f64::NEG_INFINITY, "\"-Infinity\""),
    ] {
        let out = render(&c, Some(&schema), &Value::Float64(v));
        assert!(out.ends_with(&format!("\"payload\":{text}}}")), "{out}");
        let (_, back) = c.to_connect("t", Some(out.as_bytes())).unwrap();
        let Value::Float64(b) = back else { panic!() };
        assert!(b.is_nan() && v.is_nan() || b == v);
    }
}

#[test]
fn defaults_replace_nulls_in_nested_fields() {
    let inner = SchemaBuilder::struct_()
        .optional()
        .field(
            "n",
            SchemaBuilder::int64()
                .optional()
                .default_value(Value::Int64(7))
                .build(),
        )
        .build();
    let outer = SchemaBuilder::struct_()
        .field("inner", inner.clone())
        .build();
    let value = Value::Struct(Struct::new(outer.clone()).with("inner", Struct::new(inner.clone())));
    let on = render(&json(&[]), Some(&outer), &value);
    assert!(on.ends_with(r#""payload":{"inner":{"n":7}}}"#), "{on}");
    let off = render(
        &json(&[("replace.null.with.default", "false")]),
        Some(&outer),
        &value,
    );
    assert!(off.ends_with(r#""payload":{"inner":{"n":null}}}"#), "{off}");
}

#[test]
fn struct_and_decimal_defaults_round_trip() {
    // A struct default cannot point at the schema holding it; it points at
    // the same struct schema without the default.
    let with_default = SchemaBuilder::struct_()
        .optional()
        .field("x", SchemaBuilder::int32().build())
        .field("y", SchemaBuilder::int32().build())
        .default_value(Value::Struct(Struct::from_values(
            SchemaBuilder::struct_()
                .optional()
                .field("x", SchemaBuilder::int32().build())
                .field("y", SchemaBuilder::int32().build())
                .build(),
            vec![Value::Int32(1), Value::Int32(2)],
        )))
        .build();
    let price = logical::decimal(2)
        .optional()
        .default_value(Value::Decimal(Decimal::new(-156, 2)))
        .build();
    let schema = SchemaBuilder::struct_()
        .field("p", with_default)
        .field("price", price)
        .build();
    let value = Value::Struct(Struct::new(schema.clone()));
    for format in ["BASE64", "NUMERIC"] {
        let c = json(&[("decimal.format", format)]);
        let first = render(&c, Some(&schema), &value);
        let expected_price = if format == "BASE64" {
            "\"/2Q=\""
        } else {
            "-1.56"
        };
        assert!(
            first.contains(&format!(r#""default":{expected_price},"field":"price""#)),
            "{first}"
        );
        assert!(
            first.contains(r#""default":{"x":1,"y":2},"field":"p""#),
            "{first}"
        );
        assert!(
            first.ends_with(&format!(
                r#""payload":{{"p":{{"x":1,"y":2}},"price":{expected_price}}}}}"#
            )),
            "{first}"
        );
        // Parse and render again: identical bytes.
        let (schema_back, value_back) = c.to_connect("t", Some(first.as_bytes())).unwrap();
        let second = render(&c, schema_back.as_ref(), &value_back);
        assert_eq!(first, second);
    }
}

#[test]
fn maps_with_string_keys_are_objects_others_pairs() {
    let c = json(&[("schemas.enable", "false")]);
    let optional_keys = SchemaBuilder::map(
        SchemaBuilder::string().optional().build(),
        SchemaBuilder::int32().build(),
    )
    .build();
    let v = Value::Map(vec![
        (Value::String("a".into()), Value::Int32(1)),
        (Value::Null, Value::Int32(2)),
    ]);
    assert_eq!(render(&c, Some(&optional_keys), &v), r#"{"a":1,"null":2}"#);
    let struct_keys = SchemaBuilder::struct_()
        .field("k", SchemaBuilder::int8().build())
        .build();
    let m = SchemaBuilder::map(struct_keys.clone(), SchemaBuilder::boolean().build()).build();
    let v = Value::Map(vec![(
        Value::Struct(Struct::new(struct_keys).with("k", Value::Int8(3))),
        Value::Boolean(true),
    )]);
    assert_eq!(render(&c, Some(&m), &v), r#"[[{"k":3},true]]"#);
}

#[test]
fn decimal_scale_must_match_for_base64() {
    let err = json(&[])
        .from_connect(
            "t",
            Some(&logical::decimal(2).build()),
            &Value::Decimal(Decimal::new(1, 3)),
        )
        .unwrap_err();
    assert!(err.message().contains("scale"), "{err}");
    // NUMERIC writes the value as it is.
    let out = render(
        &json(&[("decimal.format", "NUMERIC")]),
        Some(&logical::decimal(2).build()),
        &Value::Decimal(Decimal::new(1, 8)),
    );
    assert!(out.ends_with(r#""payload":1E-8}"#), "{out}");
}

#[test]
fn schemaless_struct_uses_its_own_schema() {
    let schema = SchemaBuilder::struct_()
        .field("a", SchemaBuilder::int32().build())
        .build();
    let v = Value::Struct(Struct::new(schema).with("a", 1));
    assert_eq!(
        render(&json(&[]), None, &v),
        r#"{"schema":null,"payload":{"a":1}}"#
    );
}

#[test]
fn optional_null_with_schema_is_a_null_payload_not_a_tombstone() {
    let schema = SchemaBuilder::string().optional().build();
    assert_eq!(
        render(&json(&[]), Some(&schema), &Value::Null),
        r#"{"schema":{"type":"string","optional":true},"payload":null}"#
    );
    assert_eq!(
        render(
            &json(&[("schemas.enable", "false")]),
            Some(&schema),
            &Value::Null
        ),
        "null"
    );
}

#[test]
fn hostile_input_is_an_error_not_a_crash() {
    let deep = format!(
        "{{\"schema\":null,\"payload\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let err = json(&[])
        .to_connect("t", Some(deep.as_bytes()))
        .unwrap_err();
    assert!(err.message().contains("nesting"), "{err}");
    for bad in [
        &b"\xff\xfe"[..],
        b"{\"schema\":null,\"payload\":1} x",
        b"{\"schema\":{\"type\":\"bytes\"},\"payload\":\"!!\"}",
    ] {
        assert!(json(&[]).to_connect("t", Some(bad)).is_err());
    }
}

/// Converters on one thread keep their own cached schema JSON: the
/// per-thread shortcut to the cache must not hand one converter's entry to
/// another (same schema, different settings), nor survive a converter
/// dropped and replaced at the same address.
#[test]
fn converters_sharing_a_thread_and_a_schema_keep_their_own_output() {
    let schema = SchemaBuilder::int32().name("n").build();
    let with = json(&[]);
    let without = json(&[("schemas.enable", "false")]);
    for round in 0..20 {
        let v = Value::Int32(round);
        assert_eq!(
            render(&with, Some(&schema), &v),
            format!(
                r#"{{"schema":{{"type":"int32","optional":false,"name":"n"}},"payload":{round}}}"#
            )
        );
        assert_eq!(render(&without, Some(&schema), &v), round.to_string());
    }
    for round in 0..20 {
        // A new converter each time, often at the address of the last one.
        let c = if round % 2 == 0 {
            json(&[])
        } else {
            json(&[("schemas.enable", "false")])
        };
        let out = render(&c, Some(&schema), &Value::Int32(1));
        if round % 2 == 0 {
            assert!(out.starts_with(r#"{"schema":"#), "{out}");
        } else {
            assert_eq!(out, "1");
        }
    }
}

#[test]
fn schema_cache_evicts_without_mixing_schemas_up() {
    let c = Arc::new(json(&[("schemas.cache.size", "2")]));
    let schemas: Vec<SchemaRef> = (0..5)
        .map(|i| SchemaBuilder::int32().name(format!("s{i}")).build())
        .collect();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = Arc::clone(&c);
            let schemas = schemas.clone();
            std::thread::spawn(move || {
                for round in 0..200 {
                    let i = (round + t) % schemas.len();
                    let out = render(&c, Some(&schemas[i]), &Value::Int32(i as i32));
                    assert_eq!(out, format!(r#"{{"schema":{{"type":"int32","optional":false,"name":"s{i}"}},"payload":{i}}}"#));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(c.cached_schema_counts().0 <= 2);
    let disabled = json(&[("schemas.cache.size", "0")]);
    render(&disabled, Some(&schemas[0]), &Value::Int32(0));
    assert_eq!(disabled.cached_schema_counts(), (0, 0));
}

#[test]
fn as_json_schema_and_back() {
    let c = json(&[]);
    let schema = SchemaBuilder::map(
        SchemaBuilder::string().build(),
        logical::timestamp().optional().build(),
    )
    .doc("d")
    .build();
    let text = c.as_json_schema(&schema).unwrap();
    assert_eq!(
        std::str::from_utf8(&text).unwrap(),
        r#"{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"optional":false,"doc":"d"}"#
    );
    assert_eq!(c.as_connect_schema(&text).unwrap(), Some(schema));
    assert_eq!(c.as_connect_schema(b"null").unwrap(), None);
}

#[test]
fn converters_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<JsonConverter>();
    check::<sluice_converters::StringConverter>();
}

#[test]
fn cached_object_keys_render_like_escaping_each_name() {
    // Field names that need escaping, nested structs, an array of structs
    // (rendered without a key plan) and a null optional struct.
    let inner = SchemaBuilder::struct_()
        .name("inner")
        .optional()
        .field("q\"uote", SchemaBuilder::string().build())
        .field("nl\nx", SchemaBuilder::int32().build())
        .build();
    let outer = SchemaBuilder::struct_()
        .name("outer")
        .field("plain", SchemaBuilder::int64().build())
        .field("back\\slash", inner.clone())
        .field("absent", inner.clone())
        .field("list", SchemaBuilder::array(inner.clone()).build())
        .build();
    let inner_value = || {
        Value::Struct(Struct::from_values(
            inner.clone(),
            vec![Value::String("v".into()), Value::Int32(7)],
        ))
    };
    let value = Value::Struct(Struct::from_values(
        outer.clone(),
        vec![
            Value::Int64(1),
            inner_value(),
            Value::Null,
            Value::Array(vec![inner_value(), inner_value()]),
        ],
    ));
    for schemas in ["true", "false"] {
        let cached = json(&[("schemas.enable", schemas)]);
        let uncached = json(&[("schemas.enable", schemas), ("schemas.cache.size", "0")]);
        let expected = render(&uncached, Some(&outer), &value);
        assert!(expected.contains(r#""back\\slash":{"q\"uote":"v","nl\nx":7}"#));
        // First call fills the cache, the later ones use the cached keys.
        for _ in 0..3 {
            assert_eq!(render(&cached, Some(&outer), &value), expected);
        }
    }
}

/// Nested structs that repeat record after record (a snapshot's source
/// block) are remembered by the schema cache's plans; the output must stay
/// byte for byte what a converter without a cache writes — also for
/// values that differ only where equality is loose (`0.0` / `-0.0`, NaN
/// bits), for owned and shared (`Struct::into_shared`) values, for runs
/// long enough to make the memo rest and come back, and for a repeated
/// value that fails.
#[test]
fn repeated_nested_structs_are_written_exactly_as_without_a_cache() {
    let inner = SchemaBuilder::struct_()
        .name("inner")
        .optional()
        .field("x", SchemaBuilder::int32().build())
        .build();
    let src = SchemaBuilder::struct_()
        .name("src")
        .field("name", SchemaBuilder::string().build())
        .field("f", SchemaBuilder::float64().optional().build())
        .field("n", inner.clone())
        .field("d", logical::decimal(2).build())
        .field(
            "tags",
            SchemaBuilder::array(SchemaBuilder::string().build()).build(),
        )
        .build();
    let outer = SchemaBuilder::struct_()
        .name("outer")
        .field("id", SchemaBuilder::int64().build())
        .field("src", src.clone())
        .build();
    let names = ["a", "a\"", "b\\", "long name with\ttab", "é"];
    let floats = [
        Some(0.0),
        Some(-0.0),
        Some(f64::NAN),
        Some(-f64::NAN),
        Some(1.5),
        None,
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let cached = json(&[]);
    let uncached = json(&[("schemas.cache.size", "0")]);
    let schemaless_cached = json(&[("schemas.enable", "false")]);
    let schemaless_uncached = json(&[("schemas.enable", "false"), ("schemas.cache.size", "0")]);
    let mut id = 0i64;
    for _run in 0..400 {
        // A run of 1–40 records with the same source block (long runs
        // come after runs of 1 that make the memo rest).
        let mut s = Struct::new(src.clone());
        s.put("name", Value::String(names[next(names.len())].into()))
            .unwrap();
        if let Some(f) = floats[next(floats.len())] {
            s.put("f", Value::Float64(f)).unwrap();
        }
        if next(2) == 0 {
            let mut n = Struct::new(inner.clone());
            n.put("x", Value::Int32(next(3) as i32)).unwrap();
            s.put("n", Value::Struct(n)).unwrap();
        }
        s.put("d", Value::Decimal(Decimal::new(next(3) as i64 - 1, 2)))
            .unwrap();
        s.put(
            "tags",
            Value::Array(
                (0..next(3))
                    .map(|i| Value::String(names[i].into()))
                    .collect(),
            ),
        )
        .unwrap();
        // Shared values (as a snapshot's source block) are recognized
        // without comparing; owned ones are compared.
        let s = if next(2) == 0 { s.into_shared() } else { s };
        let len = if next(4) == 0 { 1 + next(40) } else { 1 };
        for _ in 0..len {
            id += 1;
            let mut o = Struct::new(outer.clone());
            o.put("id", Value::Int64(id)).unwrap();
            o.put("src", Value::Struct(s.clone())).unwrap();
            let v = Value::Struct(o);
            assert_eq!(
                render(&cached, Some(&outer), &v),
                render(&uncached, Some(&outer), &v)
            );
            assert_eq!(
                render(&schemaless_cached, Some(&outer), &v),
                render(&schemaless_uncached, Some(&outer), &v)
            );
        }
    }
    // A remembered block, then the same block with a nested struct of
    // another (equal-looking but mismatching) schema: still an error.
    let mut good = Struct::new(src.clone());
    good.put("name", Value::String("x".into())).unwrap();
    good.put("d", Value::Decimal(Decimal::new(1, 2))).unwrap();
    good.put("tags", Value::Array(vec![])).unwrap();
    let mut bad = good.clone();
    let other_inner = SchemaBuilder::struct_()
        .name("other")
        .optional()
        .field("x", SchemaBuilder::int32().build())
        .build();
    let mut n = Struct::new(other_inner);
    n.put("x", Value::Int32(1)).unwrap();
    bad.put("n", Value::Struct(n)).unwrap();
    let wrap = |s: &Struct| {
        let mut o = Struct::new(outer.clone());
        o.put("id", Value::Int64(1)).unwrap();
        o.put("src", Value::Struct(s.clone())).unwrap();
        Value::Struct(o)
    };
    for _ in 0..3 {
        render(&cached, Some(&outer), &wrap(&good));
    }
    assert!(cached.from_connect("t", Some(&outer), &wrap(&bad)).is_err());
    assert!(uncached
        .from_connect("t", Some(&outer), &wrap(&bad))
        .is_err());
    assert_eq!(
        render(&cached, Some(&outer), &wrap(&good)),
        render(&uncached, Some(&outer), &wrap(&good))
    );
}

#[test]
fn struct_fields_render_as_their_values_do_alone() {
    // Struct fields of the common primitive types take a shorter path than
    // other values; they must give the bytes the value gives on its own.
    use sluice_connect_api::data::logical;
    let named = |b: SchemaBuilder, n: &str| b.name(n).build();
    let cases: Vec<(SchemaRef, Value)> = vec![
        (SchemaBuilder::int32().build(), Value::Int32(-2_147_483_648)),
        (
            named(SchemaBuilder::int32(), logical::DATE),
            Value::Int32(19_000),
        ),
        (SchemaBuilder::int64().build(), Value::Int64(i64::MIN)),
        (SchemaBuilder::int64().build(), Value::Int64(0)),
        (
            named(SchemaBuilder::int64(), logical::TIMESTAMP),
            Value::Int64(1_700_000_000_123),
        ),
        (
            SchemaBuilder::string().build(),
            Value::String("a\"b\\c\n\u{1}é".into()),
        ),
        (
            named(SchemaBuilder::string(), "io.debezium.time.ZonedTimestamp"),
            Value::String("2024-01-01T00:00:01Z".into()),
        ),
        (SchemaBuilder::boolean().build(), Value::Boolean(true)),
        (SchemaBuilder::boolean().build(), Value::Boolean(false)),
        (SchemaBuilder::int32().optional().build(), Value::Null),
        (
            SchemaBuilder::string()
                .optional()
                .default_value(Value::String("dflt".into()))
                .build(),
            Value::Null,
        ),
        // Mismatched types go the general way (and fail there).
        (SchemaBuilder::int64().build(), Value::Int32(7)),
        // A string under the Decimal name is refused like any non-decimal.
        (
            named(SchemaBuilder::string(), logical::DECIMAL),
            Value::String("1.5".into()),
        ),
    ];
    for settings in [
        vec![("schemas.enable", "false")],
        vec![
            ("schemas.enable", "false"),
            ("replace.null.with.default", "false"),
        ],
    ] {
        let c = json(&settings);
        for (schema, value) in &cases {
            let alone = c.from_connect("t", Some(schema), value);
            let row = SchemaBuilder::struct_().field("f", schema.clone()).build();
            let mut s = Struct::new(row.clone());
            s.put("f", value.clone()).unwrap();
            let in_struct = c.from_connect("t", Some(&row), &Value::Struct(s));
            match alone {
                Ok(bytes) => {
                    let alone = String::from_utf8(bytes.unwrap()).unwrap();
                    let in_struct = String::from_utf8(in_struct.unwrap().unwrap()).unwrap();
                    assert_eq!(
                        in_struct,
                        format!("{{\"f\":{alone}}}"),
                        "{schema:?} {value:?}"
                    );
                }
                Err(_) => assert!(in_struct.is_err(), "{schema:?} {value:?}"),
            }
        }
    }
}
