//! `io.debezium.transforms.outbox.EventRouter` against Debezium's documented
//! behaviour and the expectations of Debezium's EventRouterTest, plus
//! outbox events written with `pg_logical_emit_message` and
//! `DecodeLogicalDecodingMessageContent`.

mod debezium_support;

use std::sync::Arc;

use debezium_support::*;
use sluice_connect_api::{SchemaBuilder, SchemaRef, SchemaType, SourceRecord, Struct, Value};

const CLASS: &str = "io.debezium.transforms.outbox.EventRouter";
const DECODE: &str =
    "io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent";
const EVENT_ID: &str = "da8d6de6-3b77-45ff-8f44-57db55a7a06c";

fn uuid() -> SchemaRef {
    SchemaBuilder::string()
        .name("io.debezium.data.Uuid")
        .version(1)
        .build()
}

/// `outbox (id uuid PK, aggregatetype varchar NOT NULL, aggregateid varchar
/// NOT NULL, type varchar NOT NULL, payload jsonb, …extra)`.
fn outbox(extra: Vec<(&str, SchemaRef)>) -> Table {
    let mut cols = vec![
        ("id", uuid()),
        ("aggregatetype", SchemaBuilder::string().build()),
        ("aggregateid", SchemaBuilder::string().build()),
        ("type", SchemaBuilder::string().build()),
        (
            "payload",
            SchemaBuilder::string()
                .name("io.debezium.data.Json")
                .version(1)
                .optional()
                .build(),
        ),
    ];
    cols.extend(extra);
    table("server1.public.outbox", cols)
}

fn event(
    t: &Table,
    aggregate_type: &str,
    aggregate_id: &str,
    payload: Option<&str>,
    extra: Vec<Value>,
) -> Struct {
    let mut v = vec![
        Value::String(EVENT_ID.into()),
        Value::String(aggregate_type.into()),
        Value::String(aggregate_id.into()),
        Value::String("UserCreated".into()),
        payload.map_or(Value::Null, |p| Value::String(p.into())),
    ];
    v.extend(extra);
    t.row(v)
}

fn insert(t: &Table, row: Struct) -> SourceRecord {
    t.record("c", None, Some(row))
}

fn router(pairs: &[(&str, &str)]) -> Box<dyn sluice_connect_api::Transform> {
    transform(CLASS, pairs)
}

#[test]
fn routes_an_insert_with_debeziums_defaults() {
    let t = outbox(vec![]);
    let smt = router(&[]);
    let out = apply(
        &*smt,
        insert(
            &t,
            event(&t, "User", "10711fa5", Some("{\"name\":\"Ann\"}"), vec![]),
        ),
    )
    .unwrap();
    assert_eq!(&*out.topic, "outbox.event.User");
    // Key: the aggregateid column with its schema.
    assert_eq!(out.key, Value::String("10711fa5".into()));
    assert_eq!(
        out.key_schema.as_ref().unwrap().schema_type,
        SchemaType::String
    );
    // Value: the payload column as it is (a JSON string), with its schema.
    assert_eq!(out.value, Value::String("{\"name\":\"Ann\"}".into()));
    assert_eq!(
        out.value_schema.as_ref().unwrap().name.as_deref(),
        Some("io.debezium.data.Json")
    );
    // Header `id` with the id column's schema.
    assert_eq!(out.headers.len(), 1);
    let id = header(&out, "id").unwrap();
    assert_eq!(id.value, Value::String(EVENT_ID.into()));
    assert_eq!(
        id.schema.as_ref().unwrap().name.as_deref(),
        Some("io.debezium.data.Uuid")
    );
    // Timestamp: the change event's ts_ms.
    assert_eq!(out.timestamp, Some(TS_MS));
    assert_eq!(out.kafka_partition, None);

    // Snapshot reads are routed too.
    let r = t.record(
        "r",
        None,
        Some(event(&t, "Address", "1", Some("{}"), vec![])),
    );
    assert_eq!(&*apply(&*smt, r).unwrap().topic, "outbox.event.Address");
}

#[test]
fn deletes_tombstones_and_non_envelopes() {
    let t = outbox(vec![]);
    let smt = router(&[]);
    let row = || event(&t, "User", "1", Some("{}"), vec![]);
    assert!(apply(&*smt, t.record("d", Some(row()), None)).is_none());
    assert!(apply(&*smt, t.tombstone(1)).is_none());
    let hb = heartbeat();
    assert_eq!(apply(&*smt, hb.clone()), Some(hb));
    // A message with another prefix passes unchanged.
    let m = message("audit", b"{}");
    assert_eq!(apply(&*smt, m.clone()), Some(m));
}

#[test]
fn updates_follow_table_op_invalid_behavior() {
    let t = outbox(vec![]);
    let upd = || {
        t.record(
            "u",
            Some(event(&t, "User", "1", Some("{}"), vec![])),
            Some(event(&t, "User", "1", Some("{}"), vec![])),
        )
    };
    assert!(apply(&*router(&[]), upd()).is_none());
    assert!(apply(&*router(&[("table.op.invalid.behavior", "error")]), upd()).is_none());
    let err = router(&[("table.op.invalid.behavior", "fatal")])
        .apply(upd())
        .unwrap_err();
    assert!(err.message().contains("Unexpected update"), "{err}");
    assert!(plugin(CLASS)
        .create(&props(&[("table.op.invalid.behavior", "invalidOption")]))
        .is_err());
}

#[test]
fn envelope_without_op_is_an_error() {
    let schema = SchemaBuilder::struct_()
        .name("x.Envelope")
        .field("ts_ms", SchemaBuilder::int64().build())
        .build();
    let r = SourceRecord::new(
        None,
        None,
        "x",
        Some(schema.clone()),
        Value::Struct(Struct::from_values(schema, vec![Value::Int64(1)])),
    );
    let err = router(&[]).apply(r).unwrap_err();
    assert!(err.message().contains("op is not a valid field name"));
}

#[test]
fn every_table_field_is_configurable() {
    let t = table(
        "server1.public.events",
        vec![
            ("event_id", SchemaBuilder::int32().build()),
            ("payload_id", SchemaBuilder::int32().build()),
            ("event_type", SchemaBuilder::bytes().build()),
            ("my_route_field", SchemaBuilder::string().build()),
            ("payload_body", SchemaBuilder::bytes().build()),
            ("some_boolean", SchemaBuilder::boolean().build()),
            ("p", SchemaBuilder::int32().build()),
        ],
    );
    let smt = router(&[
        ("table.field.event.id", "event_id"),
        ("table.field.event.key", "payload_id"),
        ("table.field.event.type", "event_type"),
        ("table.field.event.payload", "payload_body"),
        ("route.by.field", "my_route_field"),
        (
            "table.fields.additional.placement",
            "some_boolean:envelope:bool,p:partition",
        ),
    ]);
    let row = t.row(vec![
        Value::Int32(2),
        Value::Int32(1232),
        Value::Bytes(b"CoolSchemaCreated".to_vec()),
        Value::String("routename".into()),
        Value::Bytes(b"{}".to_vec()),
        Value::Boolean(true),
        Value::Int32(123),
    ]);
    let out = apply(&*smt, insert(&t, row)).unwrap();
    assert_eq!(&*out.topic, "outbox.event.routename");
    assert_eq!(out.key, Value::Int32(1232));
    assert_eq!(out.kafka_partition, Some(123));
    let schema = out.value_schema.clone().unwrap();
    // `<namespace>.<routed value>.<name>` of the row schema.
    assert_eq!(
        schema.name.as_deref(),
        Some("server1.public.events.routename.Value")
    );
    assert_eq!(field_names(&schema), ["payload", "bool"]);
    assert_eq!(
        schema.field("payload").unwrap().schema.schema_type,
        SchemaType::Bytes
    );
    assert_eq!(
        value(&out).get("payload"),
        Some(&Value::Bytes(b"{}".to_vec()))
    );
    assert_eq!(value(&out).get("bool"), Some(&Value::Boolean(true)));
    assert_eq!(header(&out, "id").unwrap().value, Value::Int32(2));
    assert_eq!(out.headers.len(), 1);
}

#[test]
fn additional_fields_in_envelope_and_headers() {
    let t = outbox(vec![]);
    let smt = router(&[(
        "table.fields.additional.placement",
        "type:envelope:payloadType,aggregateid:envelope:payloadId,type:header:payloadType",
    )]);
    let out = apply(
        &*smt,
        insert(&t, event(&t, "User", "10711fa5", Some("{}"), vec![])),
    )
    .unwrap();
    let v = value(&out);
    assert_eq!(
        v.get("payloadType"),
        Some(&Value::String("UserCreated".into()))
    );
    assert_eq!(v.get("payloadId"), Some(&Value::String("10711fa5".into())));
    assert_eq!(
        header(&out, "payloadType").unwrap().value,
        Value::String("UserCreated".into())
    );
    assert_eq!(out.headers[0].key, "id");
    assert!(v.validate().is_ok());
    assert_eq!(
        out.value_schema.as_ref().unwrap().name.as_deref(),
        Some("server1.public.outbox.User.Value")
    );

    // Envelope schemas are cached per payload schema and routed value.
    let again = apply(
        &*smt,
        insert(&t, event(&t, "User", "2", Some("{}"), vec![])),
    )
    .unwrap();
    assert!(Arc::ptr_eq(
        again.value_schema.as_ref().unwrap(),
        out.value_schema.as_ref().unwrap()
    ));

    // A missing column is an error, or skipped with `ignore`.
    let smt = router(&[("table.fields.additional.placement", "nope:header")]);
    assert!(smt
        .apply(insert(&t, event(&t, "User", "1", Some("{}"), vec![])))
        .is_err());
    let smt = router(&[
        ("table.fields.additional.placement", "nope:header"),
        ("table.field.additional.missing", "ignore"),
    ]);
    let out = apply(
        &*smt,
        insert(&t, event(&t, "User", "1", Some("{}"), vec![])),
    )
    .unwrap();
    assert_eq!(out.headers.len(), 1);
}

#[test]
fn placement_configuration_is_validated() {
    let p = plugin(CLASS);
    assert!(!p
        .validate(&props(&[("table.fields.additional.placement", "type")]))
        .is_empty());
    assert!(!p
        .validate(&props(&[(
            "table.fields.additional.placement",
            "type:nowhere"
        )]))
        .is_empty());
    assert!(p
        .validate(&props(&[(
            "table.fields.additional.placement",
            "type:header:t,a:envelope"
        )]))
        .is_empty());
    assert!(!p
        .validate(&props(&[("route.topic.regex", " [[a-z]")]))
        .is_empty());
    assert!(!p
        .validate(&props(&[("route.topic.replacement", "x.$2")]))
        .is_empty());
}

#[test]
fn schema_version_column_versions_the_envelope_schema() {
    let t = outbox(vec![("version", SchemaBuilder::int32().build())]);
    let smt = router(&[
        ("table.field.event.schema.version", "version"),
        (
            "table.fields.additional.placement",
            "type:envelope:eventType",
        ),
    ]);
    let v1 = apply(
        &*smt,
        insert(
            &t,
            event(&t, "User", "1", Some("{}"), vec![Value::Int32(1)]),
        ),
    )
    .unwrap();
    let v3 = apply(
        &*smt,
        insert(
            &t,
            event(&t, "User", "1", Some("{}"), vec![Value::Int32(3)]),
        ),
    )
    .unwrap();
    let v1b = apply(
        &*smt,
        insert(
            &t,
            event(&t, "User", "2", Some("{}"), vec![Value::Int32(1)]),
        ),
    )
    .unwrap();
    assert_eq!(v1.value_schema.as_ref().unwrap().version, Some(1));
    assert_eq!(v3.value_schema.as_ref().unwrap().version, Some(3));
    assert!(Arc::ptr_eq(
        v1.value_schema.as_ref().unwrap(),
        v1b.value_schema.as_ref().unwrap()
    ));
    // Without envelope placements the value is the payload: no version.
    let smt = router(&[("table.field.event.schema.version", "version")]);
    let out = apply(
        &*smt,
        insert(
            &t,
            event(&t, "User", "1", Some("{}"), vec![Value::Int32(1)]),
        ),
    )
    .unwrap();
    assert_eq!(
        out.value_schema.as_ref().unwrap().version,
        Some(1),
        "the payload column's own schema"
    );
}

#[test]
fn timestamp_from_a_column() {
    let t = outbox(vec![
        (
            "created",
            SchemaBuilder::int64()
                .name("io.debezium.time.MicroTimestamp")
                .version(1)
                .build(),
        ),
        (
            "created_ms",
            SchemaBuilder::int64()
                .name("org.apache.kafka.connect.data.Timestamp")
                .version(1)
                .optional()
                .build(),
        ),
        ("plain", SchemaBuilder::int64().build()),
    ]);
    let row = || {
        event(
            &t,
            "User",
            "1",
            Some("{}"),
            vec![
                Value::Int64(1_553_460_779_000_123),
                Value::Null,
                Value::Int64(5),
            ],
        )
    };
    let out = apply(
        &*router(&[("table.field.event.timestamp", "created")]),
        insert(&t, row()),
    )
    .unwrap();
    assert_eq!(out.timestamp, Some(1_553_460_779_000));
    // A null column falls back to ts_ms.
    let out = apply(
        &*router(&[("table.field.event.timestamp", "created_ms")]),
        insert(&t, row()),
    )
    .unwrap();
    assert_eq!(out.timestamp, Some(TS_MS));
    // A column without a timestamp semantic type is an error.
    assert!(router(&[("table.field.event.timestamp", "plain")])
        .apply(insert(&t, row()))
        .is_err());
}

#[test]
fn custom_routing_regex_and_replacement() {
    let t = outbox(vec![]);
    let smt = router(&[
        ("route.topic.regex", "(?<routedByValue>.*)Aggregate"),
        ("route.topic.replacement", "events.${routedByValue}.v1"),
    ]);
    let out = apply(
        &*smt,
        insert(&t, event(&t, "OrderAggregate", "1", Some("{}"), vec![])),
    )
    .unwrap();
    assert_eq!(&*out.topic, "events.Order.v1");
    // No match: the routing value itself is the topic (Kafka's RegexRouter).
    let out = apply(
        &*smt,
        insert(&t, event(&t, "Customer", "1", Some("{}"), vec![])),
    )
    .unwrap();
    assert_eq!(&*out.topic, "Customer");
}

#[test]
fn empty_payload_makes_a_tombstone_only_when_configured() {
    let t = outbox(vec![(
        "is_deleted",
        SchemaBuilder::boolean().optional().build(),
    )]);
    let place = (
        "table.fields.additional.placement",
        "is_deleted:envelope:deleted",
    );
    let smt = router(&[place, ("route.tombstone.on.empty.payload", "true")]);
    let out = apply(
        &*smt,
        insert(
            &t,
            event(
                &t,
                "User",
                "10711fa5",
                Some("{}"),
                vec![Value::Boolean(true)],
            ),
        ),
    )
    .unwrap();
    assert_eq!(value(&out).get("deleted"), Some(&Value::Boolean(true)));
    for payload in [Some(""), Some("  "), None] {
        let out = apply(
            &*smt,
            insert(
                &t,
                event(&t, "User", "10711fa5", payload, vec![Value::Boolean(true)]),
            ),
        )
        .unwrap();
        assert!(
            out.value.is_null() && out.value_schema.is_none(),
            "{payload:?}"
        );
        assert_eq!(out.key, Value::String("10711fa5".into()));
        assert_eq!(&*out.topic, "outbox.event.User");
    }
    let smt = router(&[place]);
    let out = apply(
        &*smt,
        insert(
            &t,
            event(&t, "User", "10711fa5", Some(""), vec![Value::Boolean(true)]),
        ),
    )
    .unwrap();
    assert_eq!(value(&out).get("deleted"), Some(&Value::Boolean(true)));
    assert!(out.value_schema.is_some());
}

const USER: &str = r#"{"fullName": "John Doe", "enabled": true, "rating": 4.9, "age": 42, "pets": ["dog", "cat"], "petObjects": [{"type": "dog"}, {"type": "cat"}]}"#;

#[test]
fn expands_json_payloads_with_an_inferred_schema() {
    let t = outbox(vec![]);
    let smt = router(&[("table.expand.json.payload", "true")]);
    let out = apply(
        &*smt,
        insert(&t, event(&t, "User", "1", Some(USER), vec![])),
    )
    .unwrap();
    let schema = out.value_schema.clone().unwrap();
    assert_eq!(schema.schema_type, SchemaType::Struct);
    assert_eq!(schema.name.as_deref(), Some("payload"));
    assert_eq!(
        field_names(&schema),
        ["fullName", "enabled", "rating", "age", "pets", "petObjects"]
    );
    let ty = |n: &str| schema.field(n).unwrap().schema.schema_type;
    assert_eq!(ty("fullName"), SchemaType::String);
    assert_eq!(ty("enabled"), SchemaType::Boolean);
    assert_eq!(ty("rating"), SchemaType::Float64);
    assert_eq!(ty("age"), SchemaType::Int32);
    assert_eq!(ty("pets"), SchemaType::Array);
    let pet = schema
        .field("petObjects")
        .unwrap()
        .schema
        .value_schema
        .clone()
        .unwrap();
    assert_eq!(pet.name.as_deref(), Some("payload.petObjects"));
    let v = value(&out);
    assert_eq!(v.get("fullName"), Some(&Value::String("John Doe".into())));
    assert_eq!(v.get("rating"), Some(&Value::Float64(4.9)));
    assert_eq!(v.get("age"), Some(&Value::Int32(42)));
    let Some(Value::Array(pets)) = v.get("petObjects") else {
        panic!()
    };
    assert_eq!(
        pets[1].as_struct().unwrap().get("type"),
        Some(&Value::String("cat".into()))
    );
    assert!(v.validate().is_ok(), "{:?}", v.validate());
    // Equal shapes share one schema (converters cache per schema).
    let again = apply(
        &*smt,
        insert(&t, event(&t, "User", "2", Some(USER), vec![])),
    )
    .unwrap();
    assert!(Arc::ptr_eq(again.value_schema.as_ref().unwrap(), &schema));

    // With an envelope placement the expanded payload is the `payload` field.
    let smt = router(&[
        ("table.expand.json.payload", "true"),
        ("table.fields.additional.placement", "type:envelope"),
    ]);
    let out = apply(
        &*smt,
        insert(&t, event(&t, "User", "1", Some(USER), vec![])),
    )
    .unwrap();
    let payload = &out
        .value_schema
        .as_ref()
        .unwrap()
        .field("payload")
        .unwrap()
        .schema;
    assert_eq!(payload.schema_type, SchemaType::Struct);
    assert!(value(&out).validate().is_ok());
}

#[test]
fn expansion_of_nested_arrays_where_the_first_array_is_empty() {
    let t = outbox(vec![]);
    let smt = router(&[("table.expand.json.payload", "true")]);
    let json = r#"{"fullName": "John Doe", "petObjects": [{"type": "dog", "colors": []}, {"type": "cat", "colors": [{"name": "white"}]}]}"#;
    let out = apply(
        &*smt,
        insert(&t, event(&t, "User", "1", Some(json), vec![])),
    )
    .unwrap();
    let schema = out.value_schema.clone().unwrap();
    assert_eq!(field_names(&schema), ["fullName", "petObjects"]);
    let pet = schema
        .field("petObjects")
        .unwrap()
        .schema
        .value_schema
        .clone()
        .unwrap();
    assert_eq!(field_names(&pet), ["type", "colors"]);
    let color = pet
        .field("colors")
        .unwrap()
        .schema
        .value_schema
        .clone()
        .unwrap();
    assert_eq!(field_names(&color), ["name"]);
    let Some(Value::Array(pets)) = value(&out).get("petObjects") else {
        panic!()
    };
    assert_eq!(
        pets[0].as_struct().unwrap().get("colors"),
        Some(&Value::Array(vec![]))
    );
    assert!(
        value(&out).validate().is_ok(),
        "{:?}",
        value(&out).validate()
    );
}

#[test]
fn json_null_and_empty_array_behaviours() {
    let t = outbox(vec![]);
    let json = r#"{"a": 1, "n": null, "e": []}"#;
    let out = apply(
        &*router(&[("table.expand.json.payload", "true")]),
        insert(&t, event(&t, "User", "1", Some(json), vec![])),
    )
    .unwrap();
    assert_eq!(field_names(out.value_schema.as_ref().unwrap()), ["a"]);
    let out = apply(
        &*router(&[
            ("table.expand.json.payload", "true"),
            ("table.json.payload.null.behavior", "optional_bytes"),
            ("table.json.payload.empty.array.behavior", "optional_string"),
        ]),
        insert(&t, event(&t, "User", "1", Some(json), vec![])),
    )
    .unwrap();
    let s = out.value_schema.clone().unwrap();
    assert_eq!(field_names(&s), ["a", "n", "e"]);
    assert_eq!(s.field("n").unwrap().schema.schema_type, SchemaType::Bytes);
    assert_eq!(value(&out).get("n"), Some(&Value::Null));
}

#[test]
fn a_payload_that_is_not_json_is_left_as_it_is() {
    let t = outbox(vec![]);
    let smt = router(&[("table.expand.json.payload", "true")]);
    for payload in ["not json", "{broken", "[1, \"x\"]"] {
        let out = apply(
            &*smt,
            insert(&t, event(&t, "User", "1", Some(payload), vec![])),
        )
        .unwrap();
        assert_eq!(out.value, Value::String(payload.into()));
        assert_eq!(
            out.value_schema.as_ref().unwrap().name.as_deref(),
            Some("io.debezium.data.Json")
        );
    }
    let out = apply(&*smt, insert(&t, event(&t, "User", "1", None, vec![]))).unwrap();
    assert!(out.value.is_null());
}

const MESSAGE: &str = r#"{"id": "4d47e190-0402-4048-bc2c-89dd54343cdc", "aggregatetype": "Order", "aggregateid": "42", "type": "OrderCreated", "payload": {"id": 42, "lineItems": [{"item": "Debezium in Action", "quantity": 2}]}}"#;

#[test]
fn routes_logical_decoding_messages_natively() {
    let smt = router(&[("table.fields.additional.placement", "type:header:eventType")]);
    let out = apply(&*smt, message("outbox", MESSAGE.as_bytes())).unwrap();
    assert_eq!(&*out.topic, "outbox.event.Order");
    assert_eq!(out.key, Value::String("42".into()));
    assert_eq!(
        header(&out, "id").unwrap().value,
        Value::String("4d47e190-0402-4048-bc2c-89dd54343cdc".into())
    );
    assert_eq!(
        header(&out, "eventType").unwrap().value,
        Value::String("OrderCreated".into())
    );
    assert_eq!(out.timestamp, Some(TS_MS));
    let schema = out.value_schema.clone().unwrap();
    assert_eq!(schema.name.as_deref(), Some("payload"));
    assert_eq!(field_names(&schema), ["id", "lineItems"]);
    assert_eq!(value(&out).get("id"), Some(&Value::Int32(42)));
    assert!(value(&out).validate().is_ok());
    // The message key ({prefix}) is replaced by aggregateid.
    assert_eq!(
        out.key_schema.as_ref().unwrap().schema_type,
        SchemaType::String
    );

    // A payload given as an escaped JSON string is expanded on request.
    let escaped = r#"{"id": "e1", "aggregatetype": "Order", "aggregateid": "7", "payload": "{\"total\": 9.5}"}"#;
    let out = apply(&*router(&[]), message("outbox", escaped.as_bytes())).unwrap();
    assert_eq!(out.value, Value::String("{\"total\": 9.5}".into()));
    let out = apply(
        &*router(&[("table.expand.json.payload", "true")]),
        message("outbox", escaped.as_bytes()),
    )
    .unwrap();
    assert_eq!(value(&out).get("total"), Some(&Value::Float64(9.5)));

    // Configured prefixes; an empty list routes no message.
    let smt = router(&[("logical.message.prefixes", "orders,billing")]);
    assert_eq!(
        &*apply(&*smt, message("billing", MESSAGE.as_bytes()))
            .unwrap()
            .topic,
        "outbox.event.Order"
    );
    let m = message("outbox", MESSAGE.as_bytes());
    assert_eq!(apply(&*smt, m.clone()), Some(m));
    let smt = router(&[("logical.message.prefixes", "")]);
    let m = message("outbox", MESSAGE.as_bytes());
    assert_eq!(apply(&*smt, m.clone()), Some(m));

    // Content that is not an outbox event is an error (errors.tolerance applies).
    assert!(router(&[]).apply(message("outbox", b"hello")).is_err());
    assert!(router(&[])
        .apply(message("outbox", br#"{"id": "x"}"#))
        .is_err());
}

#[test]
fn decode_logical_decoding_message_content_then_route_like_debezium() {
    let decode = transform(DECODE, &[]);
    let decoded = apply(&*decode, message("outbox", MESSAGE.as_bytes())).unwrap();
    // Debezium's DecodeLogicalDecodingMessageContent: op c, `after` = content,
    // no `message`, null key, schema `<MessageValue>.Envelope`.
    let schema = decoded.value_schema.clone().unwrap();
    assert_eq!(
        schema.name.as_deref(),
        Some("io.debezium.connector.postgresql.MessageValue.Envelope")
    );
    assert_eq!(
        field_names(&schema),
        ["op", "ts_ms", "source", "transaction", "after"]
    );
    assert_eq!(value(&decoded).get("op"), Some(&Value::String("c".into())));
    assert!(decoded.key.is_null() && decoded.key_schema.is_none());
    let after = value(&decoded).get("after").unwrap().as_struct().unwrap();
    assert_eq!(after.get("aggregateid"), Some(&Value::String("42".into())));
    assert!(value(&decoded).validate().is_ok());

    // …then the EventRouter routes it as a table row (what Debezium documents).
    let out = apply(&*router(&[]), decoded).unwrap();
    assert_eq!(&*out.topic, "outbox.event.Order");
    assert_eq!(out.key, Value::String("42".into()));
    assert_eq!(value(&out).get("id"), Some(&Value::Int32(42)));

    // Other records pass; non-JSON content is an error.
    let hb = heartbeat();
    assert_eq!(apply(&*decode, hb.clone()), Some(hb));
    assert!(decode.apply(message("x", b"plain text")).is_err());
    // fields.null.include keeps null fields as optional bytes.
    let decode = transform(DECODE, &[("fields.null.include", "true")]);
    let d = apply(&*decode, message("x", br#"{"a": null, "b": 1}"#)).unwrap();
    let after = &d
        .value_schema
        .as_ref()
        .unwrap()
        .field("after")
        .unwrap()
        .schema;
    assert_eq!(field_names(after), ["a", "b"]);
}

#[test]
fn json_rendering_of_a_routed_event() {
    let t = outbox(vec![]);
    let smt = router(&[("table.expand.json.payload", "true")]);
    let out = apply(
        &*smt,
        insert(
            &t,
            event(
                &t,
                "User",
                "1",
                Some(r#"{"name": "Ann", "age": 3}"#),
                vec![],
            ),
        ),
    )
    .unwrap();
    let conv = sluice_converters::create_converter("json", &Default::default(), false).unwrap();
    let bytes = conv
        .from_connect(&out.topic, out.value_schema.as_ref(), &out.value)
        .unwrap()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        json["payload"],
        serde_json::json!({"name": "Ann", "age": 3})
    );
    assert_eq!(
        json["schema"],
        serde_json::json!({"type": "struct", "fields": [
            {"type": "string", "optional": true, "field": "name"},
            {"type": "int32", "optional": true, "field": "age"}
        ], "optional": true, "name": "payload"})
    );
}
