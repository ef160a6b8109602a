//! The task pipeline with a sink that holds acknowledgements back: offsets
//! reach the store (and the source) only over the acknowledged prefix.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use sluice_connect_api::record::ContentType;
use sluice_connect_api::{
    BatchAck, ConnectError, Converter, Result, SchemaRef, SerializedRecord, Sink, SourceOffset,
    SourcePartition, SourceRecord, SourceTask, SourceTaskContext, Value,
};
use sluice_runtime::offsets::{MemoryOffsetStore, OffsetStore};
use sluice_runtime::status::{MemoryStatusStore, State, StatusStore};
use sluice_runtime::task::{RetryPolicy, TargetState, TaskParts, TaskRunner, TaskSettings};
use tokio::sync::{mpsc, watch};

fn partition() -> SourcePartition {
    Arc::new(json!({"server": "test"}).as_object().unwrap().clone())
}

struct ScriptedSource {
    batches: VecDeque<Vec<SourceRecord>>,
    commits: Arc<Mutex<Vec<i64>>>,
}

#[async_trait]
impl SourceTask for ScriptedSource {
    async fn start(&mut self, _context: SourceTaskContext) -> Result<()> {
        Ok(())
    }
    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        match self.batches.pop_front() {
            Some(b) => Ok(b),
            None => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok(Vec::new())
            }
        }
    }
    async fn commit(&mut self, committed: &[(SourcePartition, SourceOffset)]) -> Result<()> {
        for (_, o) in committed {
            self.commits.lock().unwrap().push(o["n"].as_i64().unwrap());
        }
        Ok(())
    }
    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Hands every ack to the test, which decides when (and in which order) to
/// acknowledge.
struct HoldingSink {
    acks: mpsc::UnboundedSender<BatchAck>,
}

#[async_trait]
impl Sink for HoldingSink {
    async fn accept(&mut self, _batch: Vec<SerializedRecord>, ack: BatchAck) -> Result<()> {
        self.acks
            .send(ack)
            .map_err(|_| ConnectError::internal("test gone"))
    }
    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

struct RawConverter;

impl Converter for RawConverter {
    fn content_type(&self) -> ContentType {
        ContentType::Text
    }
    fn from_connect(
        &self,
        _topic: &str,
        _schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>> {
        Ok(match value {
            Value::Null => None,
            Value::Int64(n) => Some(n.to_string().into_bytes()),
            other => return Err(ConnectError::data(format!("unexpected {other:?}"))),
        })
    }
    fn to_connect(
        &self,
        _topic: &str,
        _bytes: Option<&[u8]>,
    ) -> Result<(Option<SchemaRef>, Value)> {
        unimplemented!()
    }
}

fn records(range: std::ops::Range<i64>) -> Vec<SourceRecord> {
    range
        .map(|n| {
            SourceRecord::new(
                Some(partition()),
                Some(json!({"n": n}).as_object().unwrap().clone()),
                "t",
                None,
                Value::Int64(n),
            )
        })
        .collect()
}

fn settings() -> TaskSettings {
    let policy = RetryPolicy {
        max_retries: Some(0),
        timeout: None,
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(10),
    };
    TaskSettings {
        connector: "c".into(),
        task_id: 0,
        worker_id: "w".into(),
        max_queue_size: 100,
        max_batch_size: 10,
        max_queue_bytes: 0,
        offset_flush_interval: Duration::from_millis(10),
        offset_flush_timeout: Duration::from_millis(200),
        dead_letter_queue: None,
        tolerate_errors: false,
        log_errors: false,
        log_error_messages: false,
        poll_retry: policy.clone(),
        retry: policy,
    }
}

/// The parts of one task run: `task` into `sink` with raw converters and no
/// transforms.
fn parts(task: impl SourceTask + 'static, sink: impl Sink + 'static) -> TaskParts {
    TaskParts {
        stage_classes: Default::default(),
        task: Box::new(task),
        task_config: Default::default(),
        transforms: vec![],
        key_converter: Arc::new(RawConverter),
        value_converter: Arc::new(RawConverter),
        sink: Box::new(sink),
    }
}

/// A started task run of `parts` (a second start fails with `again`), with
/// its offset and status stores.
struct Started {
    store: Arc<MemoryOffsetStore>,
    status: Arc<MemoryStatusStore>,
    control: watch::Sender<TargetState>,
    handle: tokio::task::JoinHandle<Option<ConnectError>>,
}

impl Started {
    /// Stops the run; its failure, if any.
    async fn stop(self) -> Option<ConnectError> {
        self.control.send_replace(TargetState::Stopped);
        tokio::time::timeout(Duration::from_secs(5), self.handle)
            .await
            .unwrap()
            .unwrap()
    }
}

/// [`settings`] without periodic commits during a test (one an hour).
fn hourly_commits() -> TaskSettings {
    let mut settings = settings();
    settings.offset_flush_interval = Duration::from_secs(3600);
    settings
}

fn start(parts: TaskParts, settings: TaskSettings, again: fn() -> ConnectError) -> Started {
    let store = Arc::new(MemoryOffsetStore::default());
    let status = Arc::new(MemoryStatusStore::new());
    let parts = Mutex::new(Some(parts));
    let runner = TaskRunner {
        settings,
        factory: Arc::new(move || parts.lock().unwrap().take().ok_or_else(again)),
        offsets: store.clone(),
        status: status.clone(),
    };
    let (control, control_rx) = watch::channel(TargetState::Started);
    let handle = tokio::spawn(runner.run(control_rx));
    Started {
        store,
        status,
        control,
        handle,
    }
}

fn started_twice() -> ConnectError {
    ConnectError::internal("started twice")
}

fn stored(store: &MemoryOffsetStore) -> Option<i64> {
    store
        .get("c", &partition())
        .map(|o| o["n"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_follow_the_acknowledged_prefix_only() {
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let commits = Arc::new(Mutex::new(Vec::new()));
    let parts = parts(
        ScriptedSource {
            batches: vec![records(0..10), records(10..20), records(20..30)].into(),
            commits: commits.clone(),
        },
        HoldingSink { acks: ack_tx },
    );
    let Started {
        store,
        status,
        control,
        handle,
    } = start(parts, settings(), started_twice);

    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(
            tokio::time::timeout(Duration::from_secs(5), ack_rx.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(status.tasks("c")[0].1.state, State::Running);
    // Acknowledge the last two batches first: nothing may be committed.
    let b0 = held.remove(0);
    let b1 = held.remove(0);
    let b2 = held.remove(0);
    b2.durable();
    b1.durable();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        stored(&store),
        None,
        "committed past an unacknowledged batch"
    );
    assert!(commits.lock().unwrap().is_empty());
    // Now the first: everything up to record 29 is durable.
    b0.durable();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stored(&store), Some(29));
    assert_eq!(
        commits.lock().unwrap().last(),
        Some(&29),
        "the source hears of the commit after the store"
    );

    control.send_replace(TargetState::Stopped);
    let failure = tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
    assert!(failure.is_none());
    // Committed offsets never moved backwards.
    let c = commits.lock().unwrap().clone();
    assert!(c.windows(2).all(|w| w[0] <= w[1]), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_acknowledgement_fails_the_task_and_commits_only_what_was_durable() {
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let commits = Arc::new(Mutex::new(Vec::new()));
    let parts = parts(
        ScriptedSource {
            batches: vec![records(0..10), records(10..20)].into(),
            commits,
        },
        HoldingSink { acks: ack_tx },
    );
    let Started {
        store,
        status,
        control: _control,
        handle,
    } = start(parts, settings(), || {
        ConnectError::config("no second start in this test")
    });
    let b0 = ack_rx.recv().await.unwrap();
    let b1 = ack_rx.recv().await.unwrap();
    b0.durable();
    drop(b1); // lost: counts as failed
    let failure = tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
    assert!(failure.is_some());
    assert_eq!(stored(&store), Some(9));
    let (_, st) = &status.tasks("c")[0];
    assert_eq!(st.state, State::Failed);
    assert!(
        st.trace
            .as_deref()
            .unwrap()
            .contains("dropped without an acknowledgement"),
        "{st:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_final_commit_on_stop_reaches_the_store_and_the_source() {
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let commits = Arc::new(Mutex::new(Vec::new()));
    let parts = parts(
        ScriptedSource {
            batches: vec![records(0..10)].into(),
            commits: commits.clone(),
        },
        HoldingSink { acks: ack_tx },
    );
    // No periodic commit during the test: only the one on stop.
    let run = start(parts, hourly_commits(), started_twice);
    ack_rx.recv().await.unwrap().durable();
    let store = run.store.clone();
    assert!(run.stop().await.is_none());
    assert_eq!(stored(&store), Some(9));
    assert_eq!(
        commits.lock().unwrap().last(),
        Some(&9),
        "the source never heard of the final commit"
    );
}

/// A transform that fails on multiples of 7.
struct FailOnSevens;

impl sluice_connect_api::Transform for FailOnSevens {
    fn apply(&self, record: SourceRecord) -> Result<Option<SourceRecord>> {
        match &record.value {
            Value::Int64(n) if n % 7 == 0 => {
                Err(ConnectError::data(format!("{n} is a multiple of 7")))
            }
            _ => Ok(Some(record)),
        }
    }
}

/// Keeps every batch it is given and acknowledges it at once.
struct KeepingSink {
    batches: Arc<Mutex<Vec<SerializedRecord>>>,
}

#[async_trait]
impl Sink for KeepingSink {
    async fn accept(&mut self, batch: Vec<SerializedRecord>, ack: BatchAck) -> Result<()> {
        self.batches.lock().unwrap().extend(batch);
        ack.durable();
        Ok(())
    }
    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_records_go_to_the_dead_letter_queue_and_the_rest_flows() {
    let written = Arc::new(Mutex::new(Vec::new()));
    let parts = TaskParts {
        stage_classes: sluice_runtime::task::StageClasses {
            transforms: vec!["com.example.FailOnSevens".into()],
            key_converter: "raw".into(),
            value_converter: "raw".into(),
        },
        task: Box::new(ScriptedSource {
            batches: vec![records(0..20)].into(),
            commits: Arc::default(),
        }),
        task_config: Default::default(),
        transforms: vec![Box::new(FailOnSevens)],
        key_converter: Arc::new(RawConverter),
        value_converter: Arc::new(RawConverter),
        sink: Box::new(KeepingSink {
            batches: written.clone(),
        }),
    };
    let mut s = settings();
    s.tolerate_errors = true;
    s.dead_letter_queue = Some(sluice_runtime::task::DeadLetterQueue {
        topic: Arc::from("dlq"),
        context_headers: true,
    });
    let Started {
        store,
        control,
        handle,
        ..
    } = start(parts, s, started_twice);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while written.lock().unwrap().len() < 20 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    control.send_replace(TargetState::Stopped);
    assert!(handle.await.unwrap().is_none(), "the task did not fail");
    let written = written.lock().unwrap().clone();
    assert_eq!(written.len(), 20, "every record went somewhere");
    let dead: Vec<&SerializedRecord> = written.iter().filter(|r| &*r.topic == "dlq").collect();
    assert_eq!(dead.len(), 3, "0, 7 and 14 failed");
    let d = dead[1];
    assert_eq!(d.value.as_deref(), Some(&b"7"[..]), "the original record");
    let header = |k: &str| {
        d.headers
            .iter()
            .find(|(h, _)| h == k)
            .and_then(|(_, v)| v.clone())
            .map(|v| String::from_utf8(v).unwrap())
    };
    assert_eq!(header("__connect.errors.topic").as_deref(), Some("t"));
    assert_eq!(
        header("__connect.errors.stage").as_deref(),
        Some("TRANSFORMATION")
    );
    assert_eq!(
        header("__connect.errors.class.name").as_deref(),
        Some("com.example.FailOnSevens")
    );
    assert_eq!(
        header("__connect.errors.exception.message").as_deref(),
        Some("7 is a multiple of 7")
    );
    assert_eq!(
        header("__connect.errors.connector.name").as_deref(),
        Some("c")
    );
    assert_eq!(
        header("__connect.errors.offset").as_deref(),
        Some(r#"{"n":7}"#)
    );
    // The rest flowed in order, and the offset of the last record (a DLQ
    // one is as good as any) is committed.
    let ok: Vec<String> = written
        .iter()
        .filter(|r| &*r.topic == "t")
        .map(|r| String::from_utf8(r.value.clone().unwrap()).unwrap())
        .collect();
    assert_eq!(ok.len(), 17);
    assert_eq!(stored(&store), Some(19));
}

/// Returns its batches, then nothing; says the batch at `milestone` ends a
/// milestone (`SourceTask::commit_promptly`).
struct MilestoneSource {
    batches: VecDeque<Vec<SourceRecord>>,
    polls: usize,
    milestone: Option<usize>,
}

#[async_trait]
impl SourceTask for MilestoneSource {
    async fn start(&mut self, _context: SourceTaskContext) -> Result<()> {
        Ok(())
    }
    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        match self.batches.pop_front() {
            Some(b) => {
                self.polls += 1;
                Ok(b)
            }
            None => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok(Vec::new())
            }
        }
    }
    fn commit_promptly(&mut self) -> bool {
        self.milestone == Some(self.polls)
    }
    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Acknowledges every batch as durable when it takes it.
struct DurableSink;

#[async_trait]
impl Sink for DurableSink {
    async fn accept(&mut self, _batch: Vec<SerializedRecord>, ack: BatchAck) -> Result<()> {
        ack.durable();
        Ok(())
    }
    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

/// With a flush interval of an hour, what the store holds a second after
/// three batches were delivered (the second one ending a milestone when
/// `milestone` says so).
async fn stored_before_the_interval(milestone: Option<usize>) -> Option<i64> {
    let parts = parts(
        MilestoneSource {
            // 25 records with a batch size of 10: the milestone poll is
            // delivered as three batches, the last of which asks.
            batches: vec![records(0..5), records(5..30), records(30..35)].into(),
            polls: 0,
            milestone,
        },
        DurableSink,
    );
    let run = start(parts, hourly_commits(), started_twice);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let store = run.store.clone();
    let before_stop = stored(&store);
    assert!(run.stop().await.is_none());
    // Stopping commits everything in any case.
    assert_eq!(stored(&store), Some(34));
    before_stop
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_milestone_is_committed_as_soon_as_it_is_durable() {
    // The second poll (records 5–29) ends a milestone: committed at once,
    // though the next tick is an hour away; the third poll waits for it.
    assert_eq!(stored_before_the_interval(Some(2)).await, Some(29));
    // Without one, nothing is committed before the interval.
    assert_eq!(stored_before_the_interval(None).await, None);
}
