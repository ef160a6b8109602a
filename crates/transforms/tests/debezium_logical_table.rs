//! `io.debezium.transforms.ByLogicalTableRouter` (and
//! `ToLogicalTopicRouter`) against Debezium's ByLogicalTableRouterTest.

mod debezium_support;

use std::sync::Arc;

use debezium_support::*;
use sluice_connect_api::{SchemaBuilder, SourceRecord, Struct, Value};

const CLASS: &str = "io.debezium.transforms.ByLogicalTableRouter";

fn keyed(topic: &str, id: i64) -> SourceRecord {
    let key_schema = SchemaBuilder::struct_()
        .name(format!("{topic}.Key"))
        .field("id", SchemaBuilder::int64().build())
        .build();
    SourceRecord::new(None, None, topic, None, Value::Null).with_key(
        Some(key_schema.clone()),
        Value::Struct(Struct::from_values(key_schema, vec![Value::Int64(id)])),
    )
}

fn shard_config(mode: &str) -> Vec<(&'static str, String)> {
    vec![
        ("topic.regex", "(.*)customers_shard(.*)".into()),
        ("topic.replacement", "$1customers_all_shards".into()),
        ("key.field.name", "shard_id".into()),
        ("key.field.regex", "(.*)customers_shard_(.*)".into()),
        ("key.field.replacement", "$2".into()),
        ("schema.name.adjustment.mode", mode.into()),
    ]
}

fn with(pairs: &[(&'static str, String)]) -> Box<dyn sluice_connect_api::Transform> {
    let p: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    transform(CLASS, &p)
}

#[test]
fn key_replacement_with_and_without_avro_adjustment() {
    for (mode, key_name) in [
        ("avro", "mysql_server_1.inventory.customers_all_shards.Key"),
        ("none", "mysql-server-1.inventory.customers_all_shards.Key"),
    ] {
        let smt = with(&shard_config(mode));
        for (topic, id, shard) in [
            ("mysql-server-1.inventory.customers_shard_1", 123, "1"),
            ("mysql-server-1.inventory.customers_shard_2", 123, "2"),
            ("mysql-server-1.inventory.customers_shard_2", 456, "2"),
        ] {
            let out = apply(&*smt, keyed(topic, id)).unwrap();
            assert_eq!(&*out.topic, "mysql-server-1.inventory.customers_all_shards");
            let ks = out.key_schema.clone().unwrap();
            assert_eq!(ks.name.as_deref(), Some(key_name));
            assert_eq!(field_names(&ks), ["id", "shard_id"]);
            let k = out.key.as_struct().unwrap();
            assert_eq!(k.get("id"), Some(&Value::Int64(id)));
            assert_eq!(k.get("shard_id"), Some(&Value::String(shard.into())));
            assert!(out.value.is_null());
        }
    }
}

#[test]
fn default_key_field_is_the_original_topic() {
    let smt = transform(
        CLASS,
        &[
            ("topic.regex", "(.*)customers_shard(.*)"),
            ("topic.replacement", "$1customers_all_shards"),
        ],
    );
    let out = apply(&*smt, keyed("db.customers_shard_1", 1)).unwrap();
    let k = out.key.as_struct().unwrap();
    assert_eq!(
        k.get("__dbz__physicalTableIdentifier"),
        Some(&Value::String("db.customers_shard_1".into()))
    );
    // ToLogicalTopicRouter's default field name.
    let smt = transform(
        "io.debezium.transforms.ToLogicalTopicRouter",
        &[
            ("topic.regex", "(.*)customers_shard(.*)"),
            ("topic.replacement", "$1customers_all_shards"),
        ],
    );
    let out = apply(&*smt, keyed("db.customers_shard_1", 1)).unwrap();
    assert!(out
        .key
        .as_struct()
        .unwrap()
        .get("__dbz__sourceIdentifier")
        .is_some());
}

#[test]
fn heartbeats_get_the_key_field_and_keep_their_value() {
    let smt = transform(
        CLASS,
        &[
            ("topic.regex", "__debezium-heartbeat(.*)"),
            ("topic.replacement", "debezium_heartbeat_central"),
            ("key.field.name", "originalTopic"),
        ],
    );
    let hb = heartbeat();
    let out = apply(&*smt, hb.clone()).unwrap();
    assert_eq!(&*out.topic, "debezium_heartbeat_central");
    let ks = out.key_schema.clone().unwrap();
    assert_eq!(ks.name.as_deref(), Some("debezium_heartbeat_central.Key"));
    assert_eq!(field_names(&ks), ["serverName", "originalTopic"]);
    assert_eq!(
        out.key.as_struct().unwrap().get("originalTopic"),
        Some(&Value::String("__debezium-heartbeat.server1".into()))
    );
    assert_eq!(
        out.value, hb.value,
        "non-envelope values are left as they are"
    );
    assert_eq!(out.value_schema, hb.value_schema);
}

#[test]
fn null_keys_stay_null_and_non_matching_topics_pass() {
    let smt = with(&shard_config("none"));
    let r = SourceRecord::new(
        None,
        None,
        "mysql-server-1.inventory.customers_shard_1",
        None,
        Value::Null,
    );
    let out = apply(&*smt, r).unwrap();
    assert_eq!(&*out.topic, "mysql-server-1.inventory.customers_all_shards");
    assert!(out.key.is_null() && out.key_schema.is_none());
    let other = keyed("other.topic", 1);
    assert_eq!(apply(&*smt, other.clone()), Some(other));
}

#[test]
fn namespace_replacement_without_key_change() {
    let smt = transform(
        CLASS,
        &[
            ("topic.regex", "(.*).dbz_shard_\\d+.(.*)"),
            ("topic.replacement", "dbz_core.$2"),
            ("key.enforce.uniqueness", "false"),
        ],
    );
    for topic in ["s21.dbz_shard_21.address", "s22.dbz_shard_22.address"] {
        let out = apply(&*smt, keyed(topic, 123)).unwrap();
        assert_eq!(&*out.topic, "dbz_core.address");
        let ks = out.key_schema.clone().unwrap();
        assert_eq!(ks.name.as_deref(), Some("dbz_core.address.Key"));
        assert_eq!(field_names(&ks), ["id"]);
    }
}

#[test]
fn change_events_get_renamed_envelope_and_value_schemas() {
    let shard1 = table(
        "shard_1.inventory.customers",
        vec![
            ("id", SchemaBuilder::int64().build()),
            (
                "flag",
                SchemaBuilder::int16()
                    .optional()
                    .default_value(Value::Int16(0))
                    .build(),
            ),
        ],
    );
    let smt = transform(
        CLASS,
        &[
            ("topic.regex", "(.+)\\.(.+)\\.(.+)"),
            ("topic.replacement", "$1.$3"),
            ("key.enforce.uniqueness", "false"),
        ],
    );
    let row = |id| shard1.row(vec![Value::Int64(id), Value::Null]);
    let out = apply(&*smt, shard1.record("u", Some(row(1)), Some(row(1)))).unwrap();
    assert_eq!(&*out.topic, "shard_1.customers");
    let env = out.value_schema.clone().unwrap();
    assert_eq!(env.name.as_deref(), Some("shard_1.customers.Envelope"));
    assert_eq!(env.version, Some(2));
    let value_schema = &env.field("after").unwrap().schema;
    assert_eq!(
        value_schema.name.as_deref(),
        Some("shard_1.customers.Value")
    );
    assert!(value_schema.optional);
    assert!(Arc::ptr_eq(
        value_schema,
        &env.field("before").unwrap().schema
    ));
    assert_eq!(
        out.key_schema.as_ref().unwrap().name.as_deref(),
        Some("shard_1.customers.Key")
    );
    // Null stays null even with a non-null default (getWithoutDefault).
    let after = value(&out).get("after").unwrap().as_struct().unwrap();
    assert_eq!(after.get("flag"), Some(&Value::Null));
    assert!(
        value(&out).validate().is_ok(),
        "{:?}",
        value(&out).validate()
    );
    // Cached: the next event of the table shares the schemas.
    let again = apply(&*smt, shard1.record("c", None, Some(row(2)))).unwrap();
    assert!(Arc::ptr_eq(again.value_schema.as_ref().unwrap(), &env));
    assert!(value(&again).get("before").unwrap().is_null());
    // Tombstones are routed with their key only.
    let tomb = apply(&*smt, shard1.tombstone(1)).unwrap();
    assert_eq!(&*tomb.topic, "shard_1.customers");
    assert!(tomb.value.is_null());
}

#[test]
fn broken_configurations_are_rejected() {
    let p = plugin(CLASS);
    for bad in [
        props(&[("topic.regex", "someValidRegex(.*)")]),
        props(&[
            ("topic.regex", "someValidRegex(.*)"),
            ("topic.replacement", ""),
        ]),
        props(&[
            ("topic.regex", "someValidRegex(.*)"),
            ("topic.replacement", "$1"),
            ("key.field.regex", "x(.*)"),
        ]),
        props(&[
            ("topic.regex", "someValidRegex(.*)"),
            ("topic.replacement", "$1"),
            ("key.field.regex", "x(.*)"),
            ("key.field.replacement", ""),
        ]),
        props(&[("topic.regex", "("), ("topic.replacement", "x")]),
    ] {
        assert!(p.create(&bad).is_err(), "{bad:?}");
        assert!(!p.validate(&bad).is_empty(), "{bad:?}");
    }
}
