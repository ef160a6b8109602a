//! `io.debezium.transforms.ExtractNewRecordState` against Debezium's
//! documented behaviour and the expectations of Debezium's
//! ExtractNewRecordStateTest.

mod debezium_support;

use std::sync::Arc;

use debezium_support::*;
use sluice_connect_api::{SchemaType, Struct, Value};

const CLASS: &str = "io.debezium.transforms.ExtractNewRecordState";

fn unwrap(pairs: &[(&str, &str)]) -> Box<dyn sluice_connect_api::Transform> {
    transform(CLASS, pairs)
}

#[test]
fn default_mode_unwraps_after_and_turns_deletes_into_null_values() {
    let t = customers();
    let smt = unwrap(&[]);
    let created = apply(
        &*smt,
        t.record("c", None, Some(t.customer(1, Some("Ann"), None))),
    )
    .unwrap();
    assert_eq!(&*created.topic, TOPIC);
    // The value is the `after` row with the table's `<topic>.Value` schema
    // (the very schema of the envelope's `after` field).
    let schema = created.value_schema.clone().unwrap();
    assert!(Arc::ptr_eq(&schema, &t.value));
    assert_eq!(
        schema.name.as_deref(),
        Some("server1.public.customers.Value")
    );
    assert_eq!(
        value(&created).get("name"),
        Some(&Value::String("Ann".into()))
    );
    assert_eq!(
        value(&created).get("email"),
        Some(&Value::Null),
        "no default replacement"
    );
    // The key is untouched.
    assert_eq!(
        created.key_schema.as_ref().unwrap().name.as_deref(),
        Some("server1.public.customers.Key")
    );
    assert_eq!(created.timestamp, Some(TS_MS));

    let updated = apply(
        &*smt,
        t.record(
            "u",
            Some(t.customer(1, Some("Ann"), None)),
            Some(t.customer(1, Some("Anne"), None)),
        ),
    )
    .unwrap();
    assert_eq!(
        value(&updated).get("name"),
        Some(&Value::String("Anne".into()))
    );
    let read = apply(&*smt, t.record("r", None, Some(t.customer(2, None, None)))).unwrap();
    assert_eq!(value(&read).get("id"), Some(&Value::Int32(2)));

    // delete.tombstone.handling.mode=tombstone: a delete becomes a record with
    // a null value (Debezium keeps the value schema), its tombstone is dropped.
    let deleted = apply(&*smt, t.record("d", Some(t.customer(1, None, None)), None)).unwrap();
    assert!(deleted.value.is_null());
    assert!(Arc::ptr_eq(
        deleted.value_schema.as_ref().unwrap(),
        &t.value
    ));
    assert!(deleted.key.as_struct().is_some());
    assert!(apply(&*smt, t.tombstone(1)).is_none());
    // Truncates are dropped.
    assert!(apply(&*smt, t.truncate()).is_none());
}

#[test]
fn non_envelope_records_pass_unchanged() {
    let smt = unwrap(&[("add.headers", "op,source.lsn"), ("add.fields", "op")]);
    let hb = heartbeat();
    assert_eq!(apply(&*smt, hb.clone()), Some(hb));
    let m = message("outbox", b"{}");
    assert_eq!(apply(&*smt, m.clone()), Some(m));
}

#[test]
fn drop_mode_removes_deletes_and_tombstones() {
    let t = customers();
    let smt = unwrap(&[("delete.tombstone.handling.mode", "drop")]);
    assert!(apply(&*smt, t.record("d", Some(t.customer(1, None, None)), None)).is_none());
    assert!(apply(&*smt, t.tombstone(1)).is_none());
    assert!(apply(&*smt, t.record("c", None, Some(t.customer(1, None, None)))).is_some());
}

#[test]
fn rewrite_adds_deleted_field_and_keeps_the_value_schema_name() {
    let t = customers();
    let smt = unwrap(&[("delete.tombstone.handling.mode", "rewrite")]);
    let c = apply(
        &*smt,
        t.record("c", None, Some(t.customer(1, Some("Ann"), Some("a@x")))),
    )
    .unwrap();
    let schema = c.value_schema.clone().unwrap();
    assert_eq!(
        schema.name.as_deref(),
        Some("server1.public.customers.Value")
    );
    assert!(
        !schema.optional,
        "InsertField's copy of the schema is not optional"
    );
    assert_eq!(field_names(&schema), ["id", "name", "email", "__deleted"]);
    let deleted_field = &schema.field("__deleted").unwrap().schema;
    assert_eq!(deleted_field.schema_type, SchemaType::String);
    assert!(deleted_field.optional);
    assert_eq!(
        value(&c).get("__deleted"),
        Some(&Value::String("false".into()))
    );
    assert!(value(&c).validate().is_ok());

    let d = apply(
        &*smt,
        t.record("d", Some(t.customer(1, Some("Ann"), Some("a@x"))), None),
    )
    .unwrap();
    assert!(
        Arc::ptr_eq(d.value_schema.as_ref().unwrap(), &schema),
        "one cached schema"
    );
    assert_eq!(
        value(&d).get("__deleted"),
        Some(&Value::String("true".into()))
    );
    assert_eq!(value(&d).get("name"), Some(&Value::String("Ann".into())));
    assert!(apply(&*smt, t.tombstone(1)).is_none());

    // The flattened schema is cached: a second event reuses the same Arc.
    let c2 = apply(&*smt, t.record("c", None, Some(t.customer(2, None, None)))).unwrap();
    assert!(Arc::ptr_eq(c2.value_schema.as_ref().unwrap(), &schema));
}

#[test]
fn rewrite_replaces_null_with_the_column_default_unless_disabled() {
    let t = customers();
    let smt = unwrap(&[("delete.tombstone.handling.mode", "rewrite")]);
    let c = apply(&*smt, t.record("c", None, Some(t.customer(1, None, None)))).unwrap();
    assert_eq!(
        value(&c).get("email"),
        Some(&Value::String("none@example.com".into()))
    );
    assert_eq!(
        value(&c).get("name"),
        Some(&Value::Null),
        "no default, stays null"
    );

    let smt = unwrap(&[
        ("delete.tombstone.handling.mode", "rewrite"),
        ("replace.null.with.default", "false"),
    ]);
    let c = apply(&*smt, t.record("c", None, Some(t.customer(1, None, None)))).unwrap();
    assert_eq!(value(&c).get("email"), Some(&Value::Null));
}

#[test]
fn rewrite_with_tombstone_keeps_tombstones_with_the_op_header() {
    let t = customers();
    let smt = unwrap(&[
        ("delete.tombstone.handling.mode", "rewrite-with-tombstone"),
        ("add.headers", "op,source.lsn"),
    ]);
    let d = apply(&*smt, t.record("d", Some(t.customer(1, None, None)), None)).unwrap();
    assert_eq!(
        value(&d).get("__deleted"),
        Some(&Value::String("true".into()))
    );
    assert_eq!(header(&d, "__op").unwrap().value, Value::String("d".into()));
    assert_eq!(
        header(&d, "__source_lsn").unwrap().value,
        Value::Int64(1234)
    );
    let tomb = apply(&*smt, t.tombstone(1)).unwrap();
    assert!(tomb.value.is_null());
    assert_eq!(
        header(&tomb, "__op").unwrap().value,
        Value::String("d".into())
    );
    assert!(header(&tomb, "__source_lsn").is_none());
}

#[test]
fn delete_to_tombstone_emits_a_real_tombstone_and_drops_the_original() {
    let t = customers();
    let smt = unwrap(&[("delete.tombstone.handling.mode", "delete-to-tombstone")]);
    let d = apply(&*smt, t.record("d", Some(t.customer(1, None, None)), None)).unwrap();
    assert!(d.value.is_null());
    assert!(d.value_schema.is_none());
    assert!(d.key.as_struct().is_some());
    assert!(apply(&*smt, t.tombstone(1)).is_none());
}

#[test]
fn removed_options_are_accepted_with_debeziums_mapping() {
    let t = customers();
    let del = || t.record("d", Some(t.customer(1, None, None)), None);
    // Legacy defaults: drop.tombstones=true, delete.handling.mode=drop.
    let smt = unwrap(&[("drop.tombstones", "false")]);
    assert!(
        apply(&*smt, del()).is_none(),
        "deletes dropped (legacy default)"
    );
    assert!(apply(&*smt, t.tombstone(1)).is_some(), "tombstones kept");

    let smt = unwrap(&[("delete.handling.mode", "none")]);
    let d = apply(&*smt, del()).unwrap();
    assert!(d.value.is_null() && d.value_schema.is_some());
    assert!(apply(&*smt, t.tombstone(1)).is_none());

    let smt = unwrap(&[
        ("delete.handling.mode", "rewrite"),
        ("drop.tombstones", "false"),
    ]);
    let d = apply(&*smt, del()).unwrap();
    assert_eq!(
        value(&d).get("__deleted"),
        Some(&Value::String("true".into()))
    );
    assert!(apply(&*smt, t.tombstone(1)).is_some());

    // The current key wins over the removed ones.
    let smt = unwrap(&[
        ("delete.tombstone.handling.mode", "drop"),
        ("delete.handling.mode", "rewrite"),
        ("drop.tombstones", "false"),
    ]);
    assert!(apply(&*smt, del()).is_none());
    assert!(apply(&*smt, t.tombstone(1)).is_none());
}

#[test]
fn add_fields_from_envelope_source_and_transaction() {
    let t = customers();
    let smt = unwrap(&[(
        "add.fields",
        "op , table,lsn,source.ts_ms,transaction.id,id,ts_ms",
    )]);
    let u = apply(
        &*smt,
        t.record_tx("u", None, Some(t.customer(1, Some("Ann"), None)), true),
    )
    .unwrap();
    let schema = u.value_schema.clone().unwrap();
    assert_eq!(
        schema.name.as_deref(),
        Some("server1.public.customers.Value")
    );
    assert_eq!(
        field_names(&schema),
        [
            "id",
            "name",
            "email",
            "__op",
            "__table",
            "__lsn",
            "__source_ts_ms",
            "__transaction_id",
            "__id",
            "__ts_ms"
        ]
    );
    for f in &schema.fields[3..] {
        assert!(f.schema.optional, "{} is optional", f.name);
        assert!(f.schema.default.is_none());
    }
    let v = value(&u);
    assert_eq!(v.get("__op"), Some(&Value::String("u".into())));
    assert_eq!(v.get("__table"), Some(&Value::String("customers".into())));
    assert_eq!(v.get("__lsn"), Some(&Value::Int64(1234)));
    assert_eq!(v.get("__source_ts_ms"), Some(&Value::Int64(SOURCE_TS_MS)));
    assert_eq!(
        v.get("__transaction_id"),
        Some(&Value::String("571:1234".into()))
    );
    assert_eq!(v.get("__id"), Some(&Value::String("571:1234".into())));
    assert_eq!(v.get("__ts_ms"), Some(&Value::Int64(TS_MS)));
    assert!(v.validate().is_ok(), "{:?}", v.validate());

    // Without a transaction block (snapshot), the transaction fields are null.
    let c = apply(&*smt, t.record("c", None, Some(t.customer(2, None, None)))).unwrap();
    assert_eq!(value(&c).get("__transaction_id"), Some(&Value::Null));
    assert!(Arc::ptr_eq(c.value_schema.as_ref().unwrap(), &schema));
}

#[test]
fn add_fields_keeps_the_semantic_schema_of_the_field() {
    let t = customers();
    let smt = unwrap(&[("add.fields", "source.snapshot")]);
    let c = apply(&*smt, t.record("c", None, Some(t.customer(1, None, None)))).unwrap();
    let f = &c
        .value_schema
        .as_ref()
        .unwrap()
        .field("__source_snapshot")
        .unwrap()
        .schema;
    assert_eq!(f.name.as_deref(), Some("io.debezium.data.Enum"));
    assert!(f.parameter("allowed").is_some());
    assert!(f.optional && f.default.is_none());
}

#[test]
fn add_fields_renames_prefixes_and_skips_unknown_fields() {
    let t = customers();
    let smt = unwrap(&[
        ("add.fields", "notExisting,op:OP, lsn:LSN, source.lsn:source_lsn, transaction.total_order:TOTAL_ORDER"),
        ("add.fields.prefix", ""),
    ]);
    let u = apply(
        &*smt,
        t.record_tx("u", None, Some(t.customer(1, None, None)), true),
    )
    .unwrap();
    let schema = u.value_schema.clone().unwrap();
    assert_eq!(
        field_names(&schema),
        [
            "id",
            "name",
            "email",
            "OP",
            "LSN",
            "source_lsn",
            "TOTAL_ORDER"
        ]
    );
    assert_eq!(value(&u).get("TOTAL_ORDER"), Some(&Value::Int64(42)));

    let smt = unwrap(&[("add.fields", "op"), ("add.fields.prefix", "prefix.")]);
    let u = apply(&*smt, t.record("u", None, Some(t.customer(1, None, None)))).unwrap();
    assert_eq!(value(&u).get("prefix.op"), Some(&Value::String("u".into())));
}

#[test]
fn add_fields_with_rewrite_on_deletes() {
    let t = customers();
    let smt = unwrap(&[
        ("delete.tombstone.handling.mode", "rewrite"),
        ("add.fields", "op,source.lsn"),
    ]);
    let d = apply(&*smt, t.record("d", Some(t.customer(1, None, None)), None)).unwrap();
    let schema = d.value_schema.clone().unwrap();
    assert_eq!(
        field_names(&schema),
        ["id", "name", "email", "__deleted", "__op", "__source_lsn"]
    );
    assert_eq!(value(&d).get("__op"), Some(&Value::String("d".into())));
    assert_eq!(
        value(&d).get("__deleted"),
        Some(&Value::String("true".into()))
    );
    // In tombstone mode deletes have no value, so no fields are added.
    let smt = unwrap(&[("add.fields", "op")]);
    let d = apply(&*smt, t.record("d", Some(t.customer(1, None, None)), None)).unwrap();
    assert!(d.value.is_null());
}

#[test]
fn source_wildcard_adds_every_source_field() {
    let t = customers();
    let smt = unwrap(&[("add.fields", "source.*")]);
    let c = apply(&*smt, t.record("c", None, Some(t.customer(1, None, None)))).unwrap();
    let names = field_names(c.value_schema.as_ref().unwrap());
    assert_eq!(names.len(), 3 + 14);
    assert!(names.contains(&"__source_connector"));
    assert!(names.contains(&"__source_xmin"));
    assert_eq!(
        value(&c).get("__source_connector"),
        Some(&Value::String("postgresql".into()))
    );
}

#[test]
fn add_headers_with_schema_and_null_for_missing_optional_values() {
    let t = customers();
    let smt = unwrap(&[
        ("add.headers", "op, source.lsn:source_lsn, transaction.id:TXN_ID, transaction.total_order:TOTAL_ORDER, nope"),
        ("add.headers.prefix", "prefix."),
    ]);
    let mut input = t.record_tx("u", None, Some(t.customer(1, None, None)), true);
    input.headers.push(sluice_connect_api::Header {
        key: "application/debezium-test-header".into(),
        schema: None,
        value: Value::String("kept".into()),
    });
    let u = apply(&*smt, input).unwrap();
    assert_eq!(u.headers.len(), 5, "{:?}", u.headers);
    assert_eq!(u.headers[0].key, "application/debezium-test-header");
    assert_eq!(
        header(&u, "prefix.op").unwrap().value,
        Value::String("u".into())
    );
    let lsn = header(&u, "prefix.source_lsn").unwrap();
    assert_eq!(lsn.value, Value::Int64(1234));
    assert!(lsn.schema.as_ref().unwrap().optional);
    assert_eq!(
        header(&u, "prefix.TXN_ID").unwrap().value,
        Value::String("571:1234".into())
    );
    assert_eq!(
        header(&u, "prefix.TOTAL_ORDER").unwrap().value,
        Value::Int64(42)
    );
    // The value itself is the plain row.
    assert!(Arc::ptr_eq(u.value_schema.as_ref().unwrap(), &t.value));

    let smt = unwrap(&[("add.headers", "op,lsn,id")]);
    let c = apply(&*smt, t.record("c", None, Some(t.customer(1, None, None)))).unwrap();
    assert_eq!(c.headers.len(), 3);
    assert_eq!(header(&c, "__op").unwrap().value, Value::String("c".into()));
    assert_eq!(header(&c, "__lsn").unwrap().value, Value::Int64(1234));
    assert_eq!(header(&c, "__id").unwrap().value, Value::Null);
}

#[test]
fn route_by_field_uses_after_or_before() {
    let t = customers();
    let smt = unwrap(&[("route.by.field", "name")]);
    let c = apply(
        &*smt,
        t.record("c", None, Some(t.customer(1, Some("myRecord"), None))),
    )
    .unwrap();
    assert_eq!(&*c.topic, "myRecord");
    let u = apply(
        &*smt,
        t.record(
            "u",
            Some(t.customer(1, Some("myRecord"), None)),
            Some(t.customer(1, Some("updatedRecord"), None)),
        ),
    )
    .unwrap();
    assert_eq!(&*u.topic, "updatedRecord");
    let d = apply(
        &*smt,
        t.record("d", Some(t.customer(1, Some("myRecord"), None)), None),
    )
    .unwrap();
    assert_eq!(&*d.topic, "myRecord");
    // A null routing value keeps the topic.
    let c = apply(&*smt, t.record("c", None, Some(t.customer(1, None, None)))).unwrap();
    assert_eq!(&*c.topic, TOPIC);
    // A missing or non-string field is an error.
    let smt = unwrap(&[("route.by.field", "nope")]);
    assert!(smt
        .apply(t.record("c", None, Some(t.customer(1, None, None))))
        .is_err());
    let smt = unwrap(&[("route.by.field", "id")]);
    assert!(smt
        .apply(t.record("c", None, Some(t.customer(1, None, None))))
        .is_err());
}

fn with_drop_header(
    mut r: sluice_connect_api::SourceRecord,
    names: &[&str],
) -> sluice_connect_api::SourceRecord {
    r.headers.push(sluice_connect_api::Header {
        key: "drop-fields".into(),
        schema: Some(
            sluice_connect_api::SchemaBuilder::array(
                sluice_connect_api::SchemaBuilder::string()
                    .optional()
                    .build(),
            )
            .optional()
            .name("drop-fields")
            .build(),
        ),
        value: Value::Array(names.iter().map(|n| Value::from(*n)).collect()),
    });
    r
}

#[test]
fn drop_fields_named_by_a_header() {
    let t = customers();
    let c = || {
        with_drop_header(
            t.record("c", None, Some(t.customer(1, Some("Ann"), None))),
            &["id", "name"],
        )
    };
    // Schema compatible (default): only optional fields go; `id` stays.
    let smt = unwrap(&[
        ("delete.tombstone.handling.mode", "drop"),
        ("drop.fields.header.name", "drop-fields"),
    ]);
    let out = apply(&*smt, c()).unwrap();
    assert_eq!(
        field_names(out.value_schema.as_ref().unwrap()),
        ["id", "email"]
    );
    assert_eq!(value(&out).get("id"), Some(&Value::Int32(1)));
    assert_eq!(
        out.value_schema.as_ref().unwrap().name.as_deref(),
        Some("server1.public.customers.Value")
    );
    assert_eq!(
        field_names(out.key_schema.as_ref().unwrap()),
        ["id"],
        "key untouched"
    );

    // Not compatible: every named field goes, from the key too when asked.
    let smt = unwrap(&[
        ("delete.tombstone.handling.mode", "drop"),
        ("drop.fields.header.name", "drop-fields"),
        ("drop.fields.keep.schema.compatible", "false"),
        ("drop.fields.from.key", "true"),
    ]);
    let out = apply(&*smt, c()).unwrap();
    assert_eq!(field_names(out.value_schema.as_ref().unwrap()), ["email"]);
    assert!(field_names(out.key_schema.as_ref().unwrap()).is_empty());
    assert_eq!(
        out.key,
        Value::Struct(Struct::from_values(out.key_schema.clone().unwrap(), vec![]))
    );
    // Without the header nothing is dropped.
    let out = apply(&*smt, t.record("c", None, Some(t.customer(1, None, None)))).unwrap();
    assert_eq!(
        field_names(out.value_schema.as_ref().unwrap()),
        ["id", "name", "email"]
    );
    // Deletes and tombstones are dropped in drop mode, header or not.
    assert!(apply(
        &*smt,
        with_drop_header(
            t.record("d", Some(t.customer(1, None, None)), None),
            &["id"]
        )
    )
    .is_none());
    assert!(apply(&*smt, with_drop_header(t.tombstone(1), &["id"])).is_none());
}

#[test]
fn invalid_configuration_is_reported() {
    let p = plugin(CLASS);
    let bad = props(&[("delete.tombstone.handling.mode", "jbsdfkjsd")]);
    assert!(p.create(&bad).is_err());
    let issues = p.validate(&bad);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].key, "delete.tombstone.handling.mode");
    assert!(p
        .create(&props(&[("delete.tombstone.handling.mode", "drop")]))
        .is_ok());
    assert!(!p.validate(&props(&[("add.fields", "a:b:c")])).is_empty());
    assert!(!p
        .validate(&props(&[("delete.handling.mode", "sometimes")]))
        .is_empty());
    // The short name is accepted as an alias.
    assert!(p.aliases().contains(&"ExtractNewRecordState"));
}

#[test]
fn json_rendering_of_an_unwrapped_record() {
    let t = customers();
    let smt = unwrap(&[
        ("delete.tombstone.handling.mode", "rewrite"),
        ("add.fields", "op,source.ts_ms"),
    ]);
    let c = apply(
        &*smt,
        t.record("c", None, Some(t.customer(1, Some("Ann"), None))),
    )
    .unwrap();
    let conv = sluice_converters::create_converter("json", &Default::default(), false).unwrap();
    let bytes = conv
        .from_connect(&c.topic, c.value_schema.as_ref(), &c.value)
        .unwrap()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        json["payload"],
        serde_json::json!({"id": 1, "name": "Ann", "email": "none@example.com", "__deleted": "false", "__op": "c", "__source_ts_ms": SOURCE_TS_MS})
    );
    assert_eq!(json["schema"]["name"], "server1.public.customers.Value");
    assert_eq!(json["schema"]["optional"], false);
    let fields = json["schema"]["fields"].as_array().unwrap();
    assert_eq!(
        fields[3],
        serde_json::json!({"type": "string", "optional": true, "field": "__deleted"})
    );
    assert_eq!(
        fields[4],
        serde_json::json!({"type": "string", "optional": true, "field": "__op"})
    );
    assert_eq!(
        fields[5],
        serde_json::json!({"type": "int64", "optional": true, "field": "__source_ts_ms"})
    );
}
