//! Kafka Connect's config and status topics, in Connect's record layout
//! (keys are plain strings, values schemaless JSON), so Connect tooling that
//! reads those topics reads sluice's:
//!
//! * `config.storage.topic` (one partition, compacted):
//!   `connector-<name>` → `{"properties": {…}}`,
//!   `task-<name>-<n>` → `{"properties": {…}}`,
//!   `commit-<name>` → `{"tasks": N}`,
//!   `target-state-<name>` → `{"state": "STARTED"|"PAUSED"|"STOPPED", "state.v2": …}`;
//!   a removed connector is a tombstone on `connector-<name>` and
//!   `target-state-<name>`.
//! * `status.storage.topic` (compacted):
//!   `status-connector-<name>` / `status-task-<name>-<n>` →
//!   `{"state": "RUNNING", "trace": null, "worker_id": "host:port", "generation": 0}`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use sluice_connect_api::config::Props;
use sluice_connect_api::ConnectError;
use sluice_runtime::configs::{ConfigStore, StoredConnector};
use sluice_runtime::status::{MemoryStatusStore, Status, StatusStore};
use sluice_runtime::task::TargetState;

use crate::log::{ensure_compacted_topic, read_to_end, store_client_settings, LogWriter};

/// Topic settings from the worker's `<prefix>.topic`, `.partitions`,
/// `.replication.factor` keys (Kafka Connect's names and defaults).
fn topic_settings(
    worker: &Props,
    prefix: &str,
    default_partitions: i32,
) -> Result<Option<(String, i32, i32)>, ConnectError> {
    let Some(topic) = worker
        .get(&format!("{prefix}.topic"))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let int = |key: String, default: i32| -> Result<i32, ConnectError> {
        match worker.get(&key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .ok()
                .filter(|n: &i32| *n == -1 || *n >= 1)
                .ok_or_else(|| {
                    ConnectError::config(format!(
                        "{key}: expected -1 or a positive integer, got {v:?}"
                    ))
                }),
        }
    };
    Ok(Some((
        topic,
        int(format!("{prefix}.partitions"), default_partitions)?,
        int(format!("{prefix}.replication.factor"), 3)?,
    )))
}

fn target_name(t: TargetState) -> &'static str {
    match t {
        TargetState::Started => "STARTED",
        TargetState::Paused => "PAUSED",
        TargetState::Stopped => "STOPPED",
    }
}

fn props_of(v: &Value) -> Props {
    v.get("properties")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Connector configurations in `config.storage.topic`.
pub struct KafkaConfigStore {
    writer: LogWriter,
    connectors: Mutex<BTreeMap<String, StoredConnector>>,
}

impl KafkaConfigStore {
    /// Opens the store when the worker sets `config.storage.topic`.
    pub async fn open(worker: &Props) -> Result<Option<KafkaConfigStore>, ConnectError> {
        // Connect requires exactly one partition: the log's order matters.
        let Some((topic, _, rf)) = topic_settings(worker, "config.storage", 1)? else {
            return Ok(None);
        };
        let client = store_client_settings(worker)?;
        ensure_compacted_topic(&client, &topic, 1, rf).await?;
        let (c, t) = (client.clone(), topic.clone());
        let records =
            tokio::task::spawn_blocking(move || read_to_end(&c, &t, Duration::from_secs(30)))
                .await
                .map_err(|e| ConnectError::internal(format!("config reader failed: {e}")))??;
        let mut connectors: BTreeMap<String, StoredConnector> = BTreeMap::new();
        let mut targets: BTreeMap<String, TargetState> = BTreeMap::new();
        for (_, (key, value)) in records {
            let Some(key) = key.and_then(|k| String::from_utf8(k).ok()) else {
                continue;
            };
            let value: Option<Value> = value.and_then(|v| serde_json::from_slice(&v).ok());
            if let Some(name) = key.strip_prefix("connector-") {
                match value {
                    Some(v) => {
                        connectors.insert(
                            name.to_string(),
                            StoredConnector {
                                name: name.to_string(),
                                config: props_of(&v),
                                target: TargetState::Started,
                            },
                        );
                    }
                    None => {
                        connectors.remove(name);
                    }
                }
            } else if let Some(name) = key.strip_prefix("target-state-") {
                let state = value.as_ref().and_then(|v| {
                    v.get("state.v2")
                        .or_else(|| v.get("state"))?
                        .as_str()
                        .map(String::from)
                });
                match state.as_deref() {
                    Some("PAUSED") => targets.insert(name.to_string(), TargetState::Paused),
                    Some("STOPPED") => targets.insert(name.to_string(), TargetState::Stopped),
                    Some(_) => targets.insert(name.to_string(), TargetState::Started),
                    None => targets.remove(name),
                };
            }
        }
        for (name, target) in targets {
            if let Some(c) = connectors.get_mut(&name) {
                c.target = target;
            }
        }
        tracing::info!(topic = %topic, connectors = connectors.len(), "read connector configurations from Kafka");
        Ok(Some(KafkaConfigStore {
            writer: LogWriter::new(&client, &topic, "sluice-configs")?,
            connectors: Mutex::new(connectors),
        }))
    }

    fn write(&self, records: Vec<(String, Option<Value>)>) -> Result<(), ConnectError> {
        let records: Vec<(Vec<u8>, Option<Vec<u8>>)> = records
            .into_iter()
            .map(|(k, v)| {
                (
                    k.into_bytes(),
                    v.map(|v| serde_json::to_vec(&v).expect("JSON")),
                )
            })
            .collect();
        self.writer.write(&records, Some(0))
    }
}

impl ConfigStore for KafkaConfigStore {
    fn connectors(&self) -> Vec<StoredConnector> {
        self.connectors
            .lock()
            .expect("configs")
            .values()
            .cloned()
            .collect()
    }

    fn put_connector(
        &self,
        name: &str,
        config: &Props,
        tasks: &[Props],
    ) -> Result<(), ConnectError> {
        let mut records = vec![(
            format!("connector-{name}"),
            Some(json!({"properties": config})),
        )];
        for (i, t) in tasks.iter().enumerate() {
            records.push((format!("task-{name}-{i}"), Some(json!({"properties": t}))));
        }
        records.push((
            format!("commit-{name}"),
            Some(json!({"tasks": tasks.len()})),
        ));
        self.write(records)?;
        let mut connectors = self.connectors.lock().expect("configs");
        let target = connectors
            .get(name)
            .map_or(TargetState::Started, |c| c.target);
        connectors.insert(
            name.to_string(),
            StoredConnector {
                name: name.to_string(),
                config: config.clone(),
                target,
            },
        );
        Ok(())
    }

    fn put_target_state(&self, name: &str, target: TargetState) -> Result<(), ConnectError> {
        let state = target_name(target);
        self.write(vec![(
            format!("target-state-{name}"),
            Some(json!({"state": if target == TargetState::Stopped { "PAUSED" } else { state }, "state.v2": state})),
        )])?;
        if let Some(c) = self.connectors.lock().expect("configs").get_mut(name) {
            c.target = target;
        }
        Ok(())
    }

    fn remove_connector(&self, name: &str) -> Result<(), ConnectError> {
        self.write(vec![
            (format!("connector-{name}"), None),
            (format!("target-state-{name}"), None),
        ])?;
        self.connectors.lock().expect("configs").remove(name);
        Ok(())
    }
}

/// Statuses kept in memory (for the REST API) and written to
/// `status.storage.topic` as Connect does. Writes to Kafka are best effort
/// and never block the caller: a status is information, not data.
pub struct KafkaStatusStore {
    memory: MemoryStatusStore,
    sender: std::sync::mpsc::Sender<(String, Value)>,
}

impl KafkaStatusStore {
    /// Opens the store when the worker sets `status.storage.topic`.
    pub async fn open(worker: &Props) -> Result<Option<KafkaStatusStore>, ConnectError> {
        let Some((topic, partitions, rf)) = topic_settings(worker, "status.storage", 5)? else {
            return Ok(None);
        };
        let client = store_client_settings(worker)?;
        ensure_compacted_topic(&client, &topic, partitions, rf).await?;
        let writer = Arc::new(LogWriter::new(&client, &topic, "sluice-statuses")?);
        let (sender, receiver) = std::sync::mpsc::channel::<(String, Value)>();
        std::thread::Builder::new()
            .name("sluice-status-writer".into())
            .spawn(move || {
                while let Ok((key, value)) = receiver.recv() {
                    let record = (
                        key.into_bytes(),
                        Some(serde_json::to_vec(&value).expect("JSON")),
                    );
                    if let Err(e) = writer.write(&[record], None) {
                        tracing::warn!("writing a status to Kafka failed: {e}");
                    }
                }
            })
            .map_err(|e| ConnectError::internal(format!("starting the status writer: {e}")))?;
        Ok(Some(KafkaStatusStore {
            memory: MemoryStatusStore::new(),
            sender,
        }))
    }

    fn publish(&self, key: String, status: &Status) {
        let state = status.state.name();
        let _ = self.sender.send((
            key,
            json!({
                "state": state,
                "trace": status.trace,
                "worker_id": status.worker_id,
                "generation": 0,
            }),
        ));
    }
}

impl StatusStore for KafkaStatusStore {
    fn put_connector(&self, connector: &str, status: Status) {
        self.publish(format!("status-connector-{connector}"), &status);
        self.memory.put_connector(connector, status);
    }
    fn put_task(&self, connector: &str, task: u32, status: Status) {
        self.publish(format!("status-task-{connector}-{task}"), &status);
        self.memory.put_task(connector, task, status);
    }
    fn connector(&self, connector: &str) -> Option<Status> {
        self.memory.connector(connector)
    }
    fn tasks(&self, connector: &str) -> Vec<(u32, Status)> {
        self.memory.tasks(connector)
    }
    fn remove(&self, connector: &str) {
        self.memory.remove(connector)
    }
    fn put_task_detail(&self, connector: &str, task: u32, key: &str, value: Value) {
        self.memory.put_task_detail(connector, task, key, value)
    }
    fn task_details(&self, connector: &str, task: u32) -> BTreeMap<String, Value> {
        self.memory.task_details(connector, task)
    }
}
