//! The Kafka sink and the Kafka offset store against a real Kafka-protocol
//! broker (tansu, started by the test kit).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::json;
use sluice_connect_api::config::Props;
use sluice_connect_api::{BatchAck, ContentType, SerializedRecord, Sink};
use sluice_kafka::offsets::{offset_key, OffsetTopicSettings};
use sluice_kafka::{KafkaOffsetStore, KafkaSink};
use sluice_runtime::offsets::OffsetStore;
use sluice_testkit::{unique_name, TansuServer};

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Kafka's `Utils.murmur2` (Java), written from its definition: the
/// partition of a keyed record is `(murmur2(key) & 0x7fffffff) % partitions`.
fn java_murmur2(data: &[u8]) -> i32 {
    let m: i32 = 0x5bd1_e995;
    let r = 24;
    let len = data.len();
    let mut h: i32 = 0x9747_b28c_u32 as i32 ^ len as i32;
    let mut i = 0;
    while i + 4 <= len {
        let mut k = i32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        k = k.wrapping_mul(m);
        k ^= ((k as u32) >> r) as i32;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
        i += 4;
    }
    let rest = len % 4;
    if rest == 3 {
        h ^= i32::from(data[i + 2]) << 16;
    }
    if rest >= 2 {
        h ^= i32::from(data[i + 1]) << 8;
    }
    if rest >= 1 {
        h ^= i32::from(data[i]);
        h = h.wrapping_mul(m);
    }
    h ^= ((h as u32) >> 13) as i32;
    h = h.wrapping_mul(m);
    h ^= ((h as u32) >> 15) as i32;
    h
}

#[test]
fn murmur2_matches_kafkas_test_vectors() {
    // From Kafka's UtilsTest.testMurmur2.
    assert_eq!(java_murmur2(b"21"), -973932308);
    assert_eq!(java_murmur2(b"foobar"), -790332482);
    assert_eq!(java_murmur2(b"a-little-bit-long-string"), -985981536);
    assert_eq!(java_murmur2(b"a-little-bit-longer-string"), -1486304829);
    assert_eq!(
        java_murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
        -58897971
    );
    assert_eq!(java_murmur2(b"abc"), 479470107);
}

fn consume_all(
    bootstrap: &str,
    topic: &str,
    expected: usize,
) -> Vec<rdkafka::message::OwnedMessage> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("reader"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in md.topics()[0].partitions() {
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while out.len() < expected && Instant::now() < deadline {
        if let Some(m) = consumer.poll(Duration::from_millis(200)) {
            out.push(m.unwrap().detach());
        }
    }
    out
}

fn record(topic: &str, key: Option<&str>, value: &str, ts: i64) -> SerializedRecord {
    SerializedRecord {
        topic: Arc::from(topic),
        partition: None,
        timestamp: Some(ts),
        headers: vec![
            ("h1".to_string(), Some(b"v1".to_vec())),
            ("nullh".to_string(), None),
        ],
        key: key.map(|k| k.as_bytes().to_vec()),
        value: Some(value.as_bytes().to_vec()),
        key_type: ContentType::Json,
        value_type: ContentType::Json,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_reach_the_broker_keyed_like_kafka_and_acks_mean_durable() {
    let broker = TansuServer::start().unwrap();
    let worker = props(&[("bootstrap.servers", &broker.bootstrap_servers())]);
    let connector = props(&[
        ("name", "t"),
        ("topic.creation.default.partitions", "3"),
        ("topic.creation.default.replication.factor", "1"),
    ]);
    let mut sink = KafkaSink::new(
        &worker,
        &connector,
        "test-producer",
        Duration::from_secs(60),
    )
    .unwrap();
    let acked: Arc<Mutex<Vec<(u64, bool)>>> = Arc::default();
    let a = acked.clone();
    let cb: Arc<dyn Fn(u64, sluice_connect_api::Result<()>) + Send + Sync> =
        Arc::new(move |id, r: sluice_connect_api::Result<()>| {
            a.lock().unwrap().push((id, r.is_ok()))
        });
    let (t1, t2) = (unique_name("orders"), unique_name("items"));
    let mut sent = 0;
    for b in 0..10u64 {
        let batch: Vec<SerializedRecord> = (0..100)
            .map(|i| {
                let n = b * 100 + i;
                let topic = if n % 3 == 0 { &t2 } else { &t1 };
                record(
                    topic,
                    Some(&format!("{{\"id\":{}}}", n % 17)),
                    &format!("{{\"n\":{n}}}"),
                    1_700_000_000_000 + n as i64,
                )
            })
            .collect();
        sent += batch.len();
        sink.accept(batch, BatchAck::new(b, cb.clone()))
            .await
            .unwrap();
    }
    sink.flush().await.unwrap();
    {
        let acked = acked.lock().unwrap();
        assert_eq!(acked.len(), 10, "every batch acknowledged after flush");
        assert!(acked.iter().all(|(_, ok)| *ok), "{acked:?}");
    }
    let in_t2 = (0..1000).filter(|n| n % 3 == 0).count();
    let got1 = consume_all(&broker.bootstrap_servers(), &t1, 1000 - in_t2);
    let got2 = consume_all(&broker.bootstrap_servers(), &t2, in_t2);
    assert_eq!(got1.len() + got2.len(), sent);
    let mut last_per_key: HashMap<(String, Vec<u8>), i64> = HashMap::new();
    for m in got1.iter().chain(&got2) {
        let key = m.key().unwrap().to_vec();
        // Java's default partitioner over 3 partitions.
        let expected = (java_murmur2(&key) & 0x7fff_ffff) % 3;
        assert_eq!(
            m.partition(),
            expected,
            "key {}",
            String::from_utf8_lossy(&key)
        );
        let v: serde_json::Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
        let n = v["n"].as_i64().unwrap();
        // Per key (one partition), records arrive in the order sent.
        if let Some(prev) = last_per_key.insert((m.topic().to_string(), key), n) {
            assert!(prev < n, "out of order: {prev} then {n}");
        }
        assert_eq!(
            m.timestamp(),
            rdkafka::Timestamp::CreateTime(1_700_000_000_000 + n)
        );
        let h = m.headers().unwrap();
        assert_eq!(h.count(), 2);
        assert_eq!(h.get(0).key, "h1");
        assert_eq!(h.get(0).value, Some(&b"v1"[..]));
        assert_eq!(h.get(1).value, None);
    }
    sink.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_are_stored_in_connects_layout_and_read_back() {
    let broker = TansuServer::start().unwrap();
    let topic = unique_name("connect_offsets");
    let worker = props(&[
        ("bootstrap.servers", &broker.bootstrap_servers()),
        ("offset.storage.topic", &topic),
        ("offset.storage.partitions", "5"),
        ("offset.storage.replication.factor", "1"),
    ]);
    let settings = OffsetTopicSettings::from_worker(&worker).unwrap().unwrap();
    let store = KafkaOffsetStore::open(&worker, &settings).await.unwrap();
    assert!(store.all("pg").is_empty());
    let partition = |s: &str| Arc::new(json!({"server": s}).as_object().unwrap().clone());
    let offset = |l: u64| json!({"lsn": l, "txId": 7}).as_object().unwrap().clone();
    let store = Arc::new(store);
    let s = store.clone();
    let (pa, pb) = (partition("a"), partition("b"));
    let (pa2, pb2) = (pa.clone(), pb.clone());
    tokio::task::spawn_blocking(move || {
        s.put("pg", &[(pa2.clone(), offset(10)), (pb2, offset(20))])
            .unwrap();
        s.put("pg", &[(pa2, offset(11))]).unwrap();
        s.put("other", &[(partition("a"), offset(99))]).unwrap();
    })
    .await
    .unwrap();
    assert_eq!(store.get("pg", &pa), Some(offset(11)));
    drop(store);

    // A new store (a restart) reads the topic back: the last write wins.
    let reopened = KafkaOffsetStore::open(&worker, &settings).await.unwrap();
    assert_eq!(reopened.get("pg", &pa), Some(offset(11)));
    assert_eq!(reopened.get("pg", &pb), Some(offset(20)));
    assert_eq!(reopened.get("other", &pa), Some(offset(99)));
    assert_eq!(reopened.all("pg").len(), 2);

    // The raw records are Connect's: key ["connector", {partition}], value
    // the offset, in the partition Java's producer would choose.
    let raw = consume_all(&broker.bootstrap_servers(), &topic, 4);
    assert_eq!(raw.len(), 4);
    for m in &raw {
        let key: serde_json::Value = serde_json::from_slice(m.key().unwrap()).unwrap();
        assert!(key[0].is_string() && key[1].is_object(), "{key}");
        assert_eq!(
            (java_murmur2(m.key().unwrap()) & 0x7fff_ffff) % 5,
            m.partition()
        );
        let value: serde_json::Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
        assert!(value["lsn"].is_u64());
    }
    assert_eq!(
        String::from_utf8(offset_key("pg", &pa)).unwrap(),
        r#"["pg",{"server":"a"}]"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_contents_survive_in_the_schemas_topic() {
    use sluice_kafka::schemas::KafkaSchemaStorage;
    use sluice_registry::{Change, Compatibility, State, Storage, StoredSchema};

    let broker = TansuServer::start().unwrap();
    let topic = unique_name("schemas");
    let storage = KafkaSchemaStorage::new(&broker.bootstrap_servers(), &topic, 1).unwrap();
    assert_eq!(storage.load().await.unwrap(), State::new());
    let schema: StoredSchema = serde_json::from_value(json!({
        "schema": r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#
    }))
    .unwrap();
    let changes = vec![
        Change::PutSchema {
            id: 1,
            schema: schema.clone(),
        },
        Change::PutVersion {
            subject: "t-value".into(),
            version: 1,
            id: 1,
            deleted: false,
        },
        Change::PutVersion {
            subject: "u-value".into(),
            version: 1,
            id: 1,
            deleted: false,
        },
        Change::SetCompatibility {
            subject: None,
            level: Some(Compatibility::Full),
        },
        Change::SetCompatibility {
            subject: Some("t-value".into()),
            level: Some(Compatibility::None),
        },
    ];
    let mut expected = State::new();
    for c in &changes {
        expected.apply(c);
    }
    storage.append(&changes, &expected).await.unwrap();
    // A soft delete, then a permanent one, and a removed subject level.
    let more = vec![
        Change::PutVersion {
            subject: "u-value".into(),
            version: 1,
            id: 1,
            deleted: true,
        },
        Change::RemoveVersion {
            subject: "u-value".into(),
            version: 1,
        },
        Change::SetCompatibility {
            subject: Some("t-value".into()),
            level: None,
        },
    ];
    for c in &more {
        expected.apply(c);
    }
    storage.append(&more, &expected).await.unwrap();

    let reopened = KafkaSchemaStorage::new(&broker.bootstrap_servers(), &topic, 1).unwrap();
    let loaded = reopened.load().await.unwrap();
    assert_eq!(loaded, expected);
    assert_eq!(loaded.global_compatibility(), Some(Compatibility::Full));
    assert!(loaded.schemas().contains_key(&1), "the id is kept");
    assert_eq!(loaded.next_id(), 2);
}
