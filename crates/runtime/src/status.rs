//! Connector and task states (what `GET /connectors/{name}/status` shows).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

/// Kafka Connect's connector/task states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Stopped,
    Failed,
    Restarting,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Stopped => "STOPPED",
            State::Failed => "FAILED",
            State::Restarting => "RESTARTING",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The status of a connector or one of its tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    pub worker_id: String,
    /// The error trace of a FAILED connector or task.
    pub trace: Option<String>,
}

/// Where statuses are kept. The standalone worker keeps them in memory; the
/// distributed worker (later) in Kafka's status topic.
pub trait StatusStore: Send + Sync {
    fn put_connector(&self, connector: &str, status: Status);
    fn put_task(&self, connector: &str, task: u32, status: Status);
    fn connector(&self, connector: &str) -> Option<Status>;
    fn tasks(&self, connector: &str) -> Vec<(u32, Status)>;
    fn remove(&self, connector: &str);
    /// Details a task published (e.g. `snapshot` progress), by key.
    fn put_task_detail(&self, connector: &str, task: u32, key: &str, value: serde_json::Value);
    fn task_details(&self, connector: &str, task: u32) -> BTreeMap<String, serde_json::Value>;
}

#[derive(Default)]
struct Entry {
    connector: Option<Status>,
    tasks: BTreeMap<u32, Status>,
    details: BTreeMap<u32, BTreeMap<String, serde_json::Value>>,
}

/// In-memory [`StatusStore`].
#[derive(Default)]
pub struct MemoryStatusStore {
    entries: Mutex<BTreeMap<String, Entry>>,
}

impl MemoryStatusStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl StatusStore for MemoryStatusStore {
    fn put_connector(&self, connector: &str, status: Status) {
        self.entries
            .lock()
            .expect("status lock")
            .entry(connector.to_string())
            .or_default()
            .connector = Some(status);
    }
    fn put_task(&self, connector: &str, task: u32, status: Status) {
        self.entries
            .lock()
            .expect("status lock")
            .entry(connector.to_string())
            .or_default()
            .tasks
            .insert(task, status);
    }
    fn connector(&self, connector: &str) -> Option<Status> {
        self.entries
            .lock()
            .expect("status lock")
            .get(connector)
            .and_then(|e| e.connector.clone())
    }
    fn tasks(&self, connector: &str) -> Vec<(u32, Status)> {
        self.entries
            .lock()
            .expect("status lock")
            .get(connector)
            .map(|e| e.tasks.iter().map(|(k, v)| (*k, v.clone())).collect())
            .unwrap_or_default()
    }
    fn remove(&self, connector: &str) {
        self.entries.lock().expect("status lock").remove(connector);
    }
    fn put_task_detail(&self, connector: &str, task: u32, key: &str, value: serde_json::Value) {
        self.entries
            .lock()
            .expect("status lock")
            .entry(connector.to_string())
            .or_default()
            .details
            .entry(task)
            .or_default()
            .insert(key.to_string(), value);
    }
    fn task_details(&self, connector: &str, task: u32) -> BTreeMap<String, serde_json::Value> {
        self.entries
            .lock()
            .expect("status lock")
            .get(connector)
            .and_then(|e| e.details.get(&task).cloned())
            .unwrap_or_default()
    }
}

/// A [`TaskReporter`](sluice_connect_api::TaskReporter) that writes into a
/// status store.
pub struct StatusReporter {
    pub store: std::sync::Arc<dyn StatusStore>,
    pub connector: String,
    pub task: u32,
}

impl sluice_connect_api::TaskReporter for StatusReporter {
    fn report(&self, key: &str, value: serde_json::Value) {
        self.store
            .put_task_detail(&self.connector, self.task, key, value);
    }
}
