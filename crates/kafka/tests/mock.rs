//! Fast in-process tests of the Kafka sink against librdkafka's mock
//! cluster: acknowledgements, retried transient errors, permanent errors
//! failing the batch, a broker outage, back-pressure.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use sluice_connect_api::config::Props;
use sluice_connect_api::{BatchAck, ContentType, ErrorKind, SerializedRecord, Sink};
use sluice_kafka::KafkaSink;

type Acks = Arc<Mutex<Vec<(u64, Result<(), ErrorKind>)>>>;

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn batch(topic: &str, n: usize, size: usize) -> Vec<SerializedRecord> {
    (0..n)
        .map(|i| SerializedRecord {
            topic: Arc::from(topic),
            partition: None,
            timestamp: None,
            headers: Vec::new(),
            key: Some(format!("k{i}").into_bytes()),
            value: Some(vec![b'x'; size]),
            key_type: ContentType::Binary,
            value_type: ContentType::Binary,
        })
        .collect()
}

fn ack(acks: &Acks, id: u64) -> BatchAck {
    let acks = acks.clone();
    BatchAck::new(
        id,
        Arc::new(move |id, r: sluice_connect_api::Result<()>| {
            acks.lock().unwrap().push((id, r.map_err(|e| e.kind())))
        }),
    )
}

fn sink(cluster: &MockCluster<'_, DefaultProducerContext>, extra: &[(&str, &str)]) -> KafkaSink {
    let mut worker = props(&[("bootstrap.servers", &cluster.bootstrap_servers())]);
    worker.extend(props(extra));
    KafkaSink::new(&worker, &props(&[]), "mock-test", Duration::from_secs(30)).unwrap()
}

async fn wait_for(acks: &Acks, n: usize, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while acks.lock().unwrap().len() < n && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_errors_are_retried_and_batches_become_durable() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    // The first produce requests fail with retriable errors.
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        ],
    );
    let mut sink = sink(&cluster, &[("producer.retry.backoff.ms", "10")]);
    let acks: Acks = Arc::default();
    for id in 0..5 {
        sink.accept(batch("t", 100, 50), ack(&acks, id))
            .await
            .unwrap();
    }
    sink.flush().await.unwrap();
    let acks = acks.lock().unwrap();
    assert_eq!(acks.len(), 5);
    assert!(acks.iter().all(|(_, r)| r.is_ok()), "{acks:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_error_fails_the_batch_with_its_cause() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED],
    );
    let mut sink = sink(&cluster, &[]);
    let acks: Acks = Arc::default();
    sink.accept(batch("t", 10, 10), ack(&acks, 1))
        .await
        .unwrap();
    wait_for(&acks, 1, Duration::from_secs(20)).await;
    let acks = acks.lock().unwrap();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0], (1, Err(ErrorKind::Permission)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_too_large_fails_its_batch_as_a_data_error() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let mut sink = sink(&cluster, &[("producer.max.request.size", "10000")]);
    let acks: Acks = Arc::default();
    let mut records = batch("t", 3, 10);
    records.extend(batch("t", 1, 50_000));
    sink.accept(records, ack(&acks, 7)).await.unwrap();
    wait_for(&acks, 1, Duration::from_secs(20)).await;
    assert_eq!(acks.lock().unwrap()[0], (7, Err(ErrorKind::Data)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_holds_acks_until_it_is_back() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let mut sink = sink(&cluster, &[]);
    let acks: Acks = Arc::default();
    // Known topic first, then the broker goes away.
    sink.accept(batch("t", 1, 10), ack(&acks, 0)).await.unwrap();
    sink.flush().await.unwrap();
    cluster.broker_down(1).unwrap();
    sink.accept(batch("t", 50, 10), ack(&acks, 1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        acks.lock().unwrap().len(),
        1,
        "nothing is durable while the broker is down"
    );
    cluster.broker_up(1).unwrap();
    wait_for(&acks, 2, Duration::from_secs(60)).await;
    assert_eq!(acks.lock().unwrap()[1], (1, Ok(())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_producer_queue_makes_accept_wait() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    // A queue of 1 MB; the broker is slow to answer.
    let mut sink = sink(&cluster, &[("producer.buffer.memory", "1048576")]);
    cluster
        .broker_round_trip_time(1, Duration::from_millis(300))
        .unwrap();
    let acks: Acks = Arc::default();
    let started = std::time::Instant::now();
    // 8 MB in batches of 1 MB: accept has to wait for the queue to drain.
    for id in 0..8 {
        sink.accept(batch("t", 100, 10_000), ack(&acks, id))
            .await
            .unwrap();
    }
    let waited = started.elapsed();
    sink.flush().await.unwrap();
    assert_eq!(acks.lock().unwrap().len(), 8);
    assert!(
        waited >= Duration::from_millis(600),
        "accept returned after {waited:?}: no back-pressure"
    );
}
