//! The standalone worker: validates and runs connectors, owns the offset and
//! status stores.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sluice_connect_api::config::Props;
use sluice_connect_api::{
    ConfigIssue, ConfigValues, ConnectError, SinkContext, SourceConnector, SourceOffset,
    SourcePartition, Transform,
};
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use crate::config::{
    common_connector_config_def, with_prefix, worker_config_def, CONNECTOR_KEYS,
    CONNECTOR_PREFIXES, WORKER_PREFIXES,
};
use crate::configs::ConfigStore;
use crate::offsets::{FileOffsetStore, MemoryOffsetStore, OffsetStore};
use crate::placeholders::resolve_placeholders;
use crate::plugins::Plugins;
use crate::status::{MemoryStatusStore, State, Status, StatusStore};
use crate::task::{
    DeadLetterQueue, PartsFactory, RetryPolicy, StageClasses, TargetState, TaskParts, TaskRunner,
    TaskSettings,
};

/// The outcome of validating a connector configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectorValidation {
    /// Problems that prevent the connector from running.
    pub issues: Vec<ConfigIssue>,
    /// Keys no component of the connector uses (warned about, not fatal).
    pub unknown_keys: Vec<String>,
}

impl ConnectorValidation {
    pub fn is_ok(&self) -> bool {
        self.issues.is_empty()
    }
}

struct RunningConnector {
    config: Props,
    task_configs: Vec<Props>,
    control: watch::Sender<TargetState>,
    tasks: Vec<JoinHandle<Option<ConnectError>>>,
}

/// A standalone worker.
pub struct Worker {
    plugins: Arc<Plugins>,
    worker_props: Props,
    worker_config: ConfigValues,
    offsets: Arc<dyn OffsetStore>,
    status: Arc<dyn StatusStore>,
    /// Where connector configurations are kept between runs, if anywhere.
    configs: Option<Arc<dyn ConfigStore>>,
    worker_id: String,
    connectors: Mutex<BTreeMap<String, RunningConnector>>,
    /// Connectors in the STOPPED state (KIP-875): configuration kept, no
    /// tasks.
    stopped: Mutex<BTreeMap<String, Props>>,
}

impl Worker {
    /// Validates the worker configuration and opens its stores. Errors list
    /// every bad key.
    pub fn new(plugins: Plugins, worker_props: Props) -> Result<Worker, Vec<ConfigIssue>> {
        let worker_config = worker_config_def().parse(&worker_props)?;
        let offsets: Arc<dyn OffsetStore> = match worker_config.get_string("offset.storage.file.filename") {
            Some(path) if !path.is_empty() => Arc::new(FileOffsetStore::open(path).map_err(|e| {
                vec![ConfigIssue { key: "offset.storage.file.filename".into(), message: e.message().to_string() }]
            })?),
            _ => {
                return Err(vec![ConfigIssue {
                    key: "offset.storage.file.filename".into(),
                    message: "Missing required configuration \"offset.storage.file.filename\" which has no default value. Standalone mode keeps source offsets in this file (or, with offset.storage.topic set, in that Kafka topic).".into(),
                }])
            }
        };
        let host = worker_config
            .get_string("rest.host.name")
            .unwrap_or("localhost")
            .to_string();
        let worker_id = format!("{host}:{}", worker_config.get_int("rest.port"));
        Ok(Worker {
            plugins: Arc::new(plugins),
            worker_props,
            worker_config,
            offsets,
            status: Arc::new(MemoryStatusStore::new()),
            configs: None,
            worker_id,
            connectors: Mutex::new(BTreeMap::new()),
            stopped: Mutex::new(BTreeMap::new()),
        })
    }

    /// A worker whose offsets live in `offsets` (e.g. the Kafka offset
    /// store the binary opens for `offset.storage.topic`).
    pub fn with_offset_store(
        plugins: Plugins,
        worker_props: Props,
        offsets: Arc<dyn OffsetStore>,
    ) -> Result<Worker, Vec<ConfigIssue>> {
        let mut worker = Worker::with_memory_offsets(plugins, worker_props)?;
        let host = worker
            .worker_config
            .get_string("rest.host.name")
            .unwrap_or("localhost")
            .to_string();
        worker.worker_id = format!("{host}:{}", worker.worker_config.get_int("rest.port"));
        worker.offsets = offsets;
        Ok(worker)
    }

    /// A worker with in-memory offsets (tests, benchmarks).
    pub fn with_memory_offsets(
        plugins: Plugins,
        worker_props: Props,
    ) -> Result<Worker, Vec<ConfigIssue>> {
        let worker_config = worker_config_def().parse(&worker_props)?;
        Ok(Worker {
            plugins: Arc::new(plugins),
            worker_props,
            worker_config,
            offsets: Arc::new(MemoryOffsetStore::default()),
            status: Arc::new(MemoryStatusStore::new()),
            configs: None,
            worker_id: "standalone".into(),
            connectors: Mutex::new(BTreeMap::new()),
            stopped: Mutex::new(BTreeMap::new()),
        })
    }

    /// Keeps connector configurations and target states in `store`.
    pub fn set_config_store(&mut self, store: Arc<dyn ConfigStore>) {
        self.configs = Some(store);
    }

    /// Reports statuses to `store` (e.g. the Kafka status topic).
    pub fn set_status_store(&mut self, store: Arc<dyn StatusStore>) {
        self.status = store;
    }

    /// Runs a blocking config store call.
    async fn with_configs(
        &self,
        f: impl FnOnce(&dyn ConfigStore) -> Result<(), ConnectError> + Send + 'static,
    ) -> Result<(), ConnectError> {
        let Some(store) = self.configs.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ConnectError::internal(format!("config store task failed: {e}")))?
    }

    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    pub fn plugins(&self) -> &Plugins {
        &self.plugins
    }

    pub fn status_store(&self) -> Arc<dyn StatusStore> {
        self.status.clone()
    }

    pub fn offset_store(&self) -> Arc<dyn OffsetStore> {
        self.offsets.clone()
    }

    /// Worker keys nothing uses (to warn about).
    pub fn unknown_worker_keys(&self) -> Vec<String> {
        worker_config_def()
            .unknown_keys(&self.worker_props, &[], WORKER_PREFIXES)
            .into_iter()
            .map(String::from)
            .collect()
    }

    fn effective_sink_type(&self, props: &Props) -> String {
        props
            .get("sink.type")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                self.worker_config
                    .get_string("sink.type")
                    .unwrap_or("kafka")
                    .to_string()
            })
    }

    fn sink_props(&self, props: &Props, sink_type: &str) -> Props {
        let prefix = format!("sink.{sink_type}.");
        let mut out = with_prefix(&self.worker_props, &prefix);
        out.extend(with_prefix(props, &prefix));
        out
    }

    fn converter_setting(&self, props: &Props, which: &str) -> (String, Props) {
        let class = props
            .get(which)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                self.worker_config
                    .get_string(which)
                    .unwrap_or_default()
                    .to_string()
            });
        let prefix = format!("{which}.");
        let mut settings = with_prefix(&self.worker_props, &prefix);
        settings.extend(with_prefix(props, &prefix));
        (class, settings)
    }

    /// Pure validation of a connector configuration: every problem at once,
    /// plus the keys nothing uses.
    pub fn validate_connector(&self, props: &Props) -> ConnectorValidation {
        // Placeholders (${env:…}, ${file:…}) are validated by what they
        // resolve to.
        let resolved = match resolve_placeholders(props) {
            Ok(r) => r,
            Err((key, message)) => {
                return ConnectorValidation {
                    issues: vec![ConfigIssue { key, message }],
                    unknown_keys: Vec::new(),
                }
            }
        };
        let props = &resolved;
        let common = common_connector_config_def();
        let mut issues = common.issues(props);
        let mut known = common.clone();
        let class = props
            .get("connector.class")
            .map(|s| s.trim())
            .unwrap_or_default();
        if !class.is_empty() {
            match self.plugins.connector(class) {
                Some(connector) => {
                    for v in connector.validate(props) {
                        issues.extend(v.errors.into_iter().map(|message| ConfigIssue { key: v.name.clone(), message }));
                    }
                    known = known.merge(connector.config_def());
                }
                None => issues.push(ConfigIssue {
                    key: "connector.class".into(),
                    message: format!(
                        "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
                        self.plugins.connector_names().join(", ")
                    ),
                }),
            }
        }
        for which in ["key.converter", "value.converter"] {
            let (conv_class, settings) = self.converter_setting(props, which);
            if let Err(e) = self
                .plugins
                .converter(&conv_class, &settings, which == "key.converter")
            {
                issues.push(ConfigIssue {
                    key: which.into(),
                    message: e.message().to_string(),
                });
            }
        }
        let sink_type = self.effective_sink_type(props);
        match self.plugins.sink(&sink_type) {
            Some(plugin) => {
                let prefix = format!("sink.{sink_type}.");
                for issue in plugin
                    .config_def()
                    .issues(&self.sink_props(props, &sink_type))
                {
                    issues.push(ConfigIssue {
                        key: format!("{prefix}{}", issue.key),
                        message: issue.message,
                    });
                }
            }
            None => issues.push(ConfigIssue {
                key: "sink.type".into(),
                message: format!(
                    "sink type '{sink_type}' is not available in this build; use one of: {}",
                    self.plugins
                        .sinks()
                        .iter()
                        .map(|s| s.sink_type())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
        // transforms, transforms.<alias>.*, predicates, predicates.<alias>.*
        issues.extend(self.plugins.validate_transforms(props));
        let mut prefixes: Vec<&str> = CONNECTOR_PREFIXES.to_vec();
        if let Some(c) = self.plugins.connector(class) {
            prefixes.extend_from_slice(c.config_prefixes());
        }
        let unknown_keys = known
            .unknown_keys(props, CONNECTOR_KEYS, &prefixes)
            .into_iter()
            .map(String::from)
            .collect();
        ConnectorValidation {
            issues,
            unknown_keys,
        }
    }

    /// Validates and starts a connector and its tasks.
    pub async fn start_connector(&self, raw: Props) -> Result<(), ConnectError> {
        let validation = self.validate_connector(&raw);
        if let Some(first) = validation.issues.first() {
            return Err(ConnectError::config(first.to_string()));
        }
        // Tasks get the resolved configuration; the stored one (REST, config
        // topic) keeps its placeholders, so secrets never reach responses.
        let props = resolve_placeholders(&raw)
            .map_err(|(k, m)| ConnectError::config(format!("{k}: {m}")))?;
        let values = common_connector_config_def().parse(&props).map_err(|i| {
            ConnectError::config(
                i.iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let name = values.get_string("name").unwrap_or_default().to_string();
        let mut running = self.connectors.lock().await;
        if running.contains_key(&name) {
            return Err(ConnectError::config(format!(
                "Connector {name} already exists"
            )));
        }
        let connector: Arc<dyn SourceConnector> = self
            .plugins
            .connector(values.get_string("connector.class").unwrap_or_default())
            .cloned()
            .ok_or_else(|| ConnectError::config("connector.class: unknown connector"))?;
        let max_tasks = values.get_int("tasks.max").max(1) as usize;
        let task_configs = connector.task_configs(&props, max_tasks)?;
        // Durable before it runs: a connector that starts survives a restart.
        {
            let (n, p, t) = (name.clone(), raw.clone(), task_configs.clone());
            self.with_configs(move |s| s.put_connector(&n, &p, &t))
                .await?;
        }

        self.status.put_connector(
            &name,
            Status {
                state: State::Running,
                worker_id: self.worker_id.clone(),
                trace: None,
            },
        );
        let (control, _) = watch::channel(TargetState::Started);
        let mut tasks = Vec::new();
        let kept_task_configs = task_configs.clone();
        for (task_id, task_config) in task_configs.into_iter().enumerate() {
            let settings = self.task_settings(&name, task_id as u32, &values);
            let factory = self.parts_factory(
                &name,
                task_id as u32,
                connector.clone(),
                &props,
                task_config,
            );
            let runner = TaskRunner {
                settings,
                factory,
                offsets: self.offsets.clone(),
                status: self.status.clone(),
            };
            self.status.put_task(
                &name,
                task_id as u32,
                Status {
                    state: State::Unassigned,
                    worker_id: self.worker_id.clone(),
                    trace: None,
                },
            );
            tasks.push(tokio::spawn(runner.run(control.subscribe())));
        }
        tracing::info!(connector = %name, class = connector.class_name(), tasks = tasks.len(), "connector started");
        running.insert(
            name,
            RunningConnector {
                config: raw,
                task_configs: kept_task_configs,
                control,
                tasks,
            },
        );
        Ok(())
    }

    fn task_settings(&self, name: &str, task_id: u32, values: &ConfigValues) -> TaskSettings {
        let ms = |v: i64| Duration::from_millis(v.max(0) as u64);
        let max_retries = values.get_int("errors.max.retries");
        let retry_timeout = values.get_long("errors.retry.timeout");
        let max_delay = ms(values.get_long("errors.retry.delay.max.ms"));
        let policy = |initial: Duration| RetryPolicy {
            max_retries: (max_retries >= 0).then_some(max_retries as u32),
            timeout: (retry_timeout > 0).then(|| ms(retry_timeout)),
            initial_delay: initial.min(max_delay),
            max_delay,
        };
        TaskSettings {
            connector: name.to_string(),
            task_id,
            worker_id: self.worker_id.clone(),
            max_queue_size: values.get_int("max.queue.size").max(1) as usize,
            max_batch_size: values.get_int("max.batch.size").max(1) as usize,
            max_queue_bytes: values.get_long("max.queue.size.in.bytes").max(0) as u64,
            offset_flush_interval: ms(self.worker_config.get_long("offset.flush.interval.ms"))
                .max(Duration::from_millis(1)),
            offset_flush_timeout: ms(self.worker_config.get_long("offset.flush.timeout.ms")),
            tolerate_errors: values
                .get_string("errors.tolerance")
                .is_some_and(|t| t.eq_ignore_ascii_case("all")),
            dead_letter_queue: values
                .get_string("errors.deadletterqueue.topic.name")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| DeadLetterQueue {
                    topic: Arc::from(t),
                    context_headers: values
                        .get_bool("errors.deadletterqueue.context.headers.enable"),
                }),
            log_errors: values.get_bool("errors.log.enable"),
            log_error_messages: values.get_bool("errors.log.include.messages"),
            poll_retry: policy(Duration::from_millis(300)),
            retry: policy(
                ms(values.get_long("retriable.restart.connector.wait.ms"))
                    .max(Duration::from_millis(100)),
            ),
        }
    }

    fn parts_factory(
        &self,
        name: &str,
        task_id: u32,
        connector: Arc<dyn SourceConnector>,
        props: &Props,
        task_config: Props,
    ) -> PartsFactory {
        let plugins = self.plugins.clone();
        let (key_class, key_props) = self.converter_setting(props, "key.converter");
        let (value_class, value_props) = self.converter_setting(props, "value.converter");
        let sink_type = self.effective_sink_type(props);
        let sink_props = self.sink_props(props, &sink_type);
        let sink_context = SinkContext {
            connector_name: name.to_string(),
            task_id,
            worker_config: self.worker_props.clone(),
            connector_config: props.clone(),
        };
        let transform_configs: Vec<(String, Props)> = props
            .get("transforms")
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|alias| {
                        let tprops = with_prefix(props, &format!("transforms.{alias}."));
                        (tprops.get("type").cloned().unwrap_or_default(), tprops)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let connector_props = props.clone();
        Arc::new(move || {
            let key_converter = plugins.converter(&key_class, &key_props, true)?;
            let value_converter = plugins.converter(&value_class, &value_props, false)?;
            let mut transforms: Vec<Box<dyn Transform>> = Vec::new();
            for (class, tprops) in &transform_configs {
                // With transforms.<alias>.predicate the stage applies only
                // where its predicate (predicates.<p>.*) says.
                transforms.push(plugins.create_transform(class, tprops, &connector_props)?);
            }
            let sink_plugin = plugins.sink(&sink_type).ok_or_else(|| {
                ConnectError::config(format!("sink type {sink_type} is not available"))
            })?;
            let sink = sink_plugin.create(&sink_props, &sink_context)?;
            Ok(TaskParts {
                task: connector.create_task(),
                task_config: task_config.clone(),
                transforms,
                stage_classes: StageClasses {
                    transforms: transform_configs.iter().map(|(c, _)| c.clone()).collect(),
                    key_converter: key_class.clone(),
                    value_converter: value_class.clone(),
                },
                key_converter,
                value_converter,
                sink,
            })
        })
    }

    /// Names of the connectors this worker runs.
    /// Every connector: running, paused or stopped.
    pub async fn connector_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.connectors.lock().await.keys().cloned().collect();
        names.extend(self.stopped.lock().await.keys().cloned());
        names.sort();
        names
    }

    /// A connector's configuration.
    pub async fn connector_config(&self, name: &str) -> Option<Props> {
        if let Some(c) = self.connectors.lock().await.get(name) {
            return Some(c.config.clone());
        }
        self.stopped.lock().await.get(name).cloned()
    }

    async fn set_target(&self, name: &str, target: TargetState) -> Result<(), ConnectError> {
        let running = self.connectors.lock().await;
        let c = running
            .get(name)
            .ok_or_else(|| ConnectError::config(format!("Connector {name} not found")))?;
        {
            let n = name.to_string();
            self.with_configs(move |s| s.put_target_state(&n, target))
                .await?;
        }
        c.control.send_replace(target);
        let state = match target {
            TargetState::Started => State::Running,
            TargetState::Paused => State::Paused,
            TargetState::Stopped => State::Stopped,
        };
        self.status.put_connector(
            name,
            Status {
                state,
                worker_id: self.worker_id.clone(),
                trace: None,
            },
        );
        Ok(())
    }

    pub async fn pause_connector(&self, name: &str) -> Result<(), ConnectError> {
        if self.stopped.lock().await.contains_key(name) {
            return Err(ConnectError::config(format!(
                "Connector {name} is STOPPED; resume it before pausing"
            )));
        }
        self.set_target(name, TargetState::Paused).await
    }

    pub async fn resume_connector(&self, name: &str) -> Result<(), ConnectError> {
        let stopped = self.stopped.lock().await.remove(name);
        if let Some(props) = stopped {
            // Out of STOPPED: the tasks start again from the stored offsets.
            self.status.remove(name);
            return self.start_connector(props).await;
        }
        self.set_target(name, TargetState::Started).await
    }

    /// Stops a connector: its tasks stop polling, deliver what is queued,
    /// flush, commit, and stop. Returns the errors of tasks that had failed.
    pub async fn stop_connector(&self, name: &str) -> Result<Vec<ConnectError>, ConnectError> {
        let c = self
            .connectors
            .lock()
            .await
            .remove(name)
            .ok_or_else(|| ConnectError::config(format!("Connector {name} not found")))?;
        c.control.send_replace(TargetState::Stopped);
        let mut failures = Vec::new();
        for t in c.tasks {
            match t.await {
                Ok(Some(e)) => failures.push(e),
                Ok(None) => {}
                Err(e) => failures.push(ConnectError::internal(format!("task panicked: {e}"))),
            }
        }
        self.status.put_connector(
            name,
            Status {
                state: State::Unassigned,
                worker_id: self.worker_id.clone(),
                trace: None,
            },
        );
        Ok(failures)
    }

    /// Creates a connector (REST `POST /connectors`) in `initial` state.
    pub async fn create_connector(
        &self,
        props: Props,
        initial: TargetState,
    ) -> Result<(), ConnectError> {
        let name = props.get("name").cloned().unwrap_or_default();
        if self.stopped.lock().await.contains_key(&name) {
            return Err(ConnectError::config(format!(
                "Connector {name} already exists"
            )));
        }
        self.start_connector(props).await?;
        match initial {
            TargetState::Started => Ok(()),
            TargetState::Paused => self.pause_connector(&name).await,
            TargetState::Stopped => self.halt_connector(&name).await,
        }
    }

    /// Whether a connector exists (running, paused or stopped).
    pub async fn has_connector(&self, name: &str) -> bool {
        self.connectors.lock().await.contains_key(name)
            || self.stopped.lock().await.contains_key(name)
    }

    /// The state the operator asked for.
    pub async fn target_state(&self, name: &str) -> Option<TargetState> {
        if let Some(c) = self.connectors.lock().await.get(name) {
            return Some(*c.control.borrow());
        }
        self.stopped
            .lock()
            .await
            .contains_key(name)
            .then_some(TargetState::Stopped)
    }

    /// The task configurations of a connector (none when stopped).
    pub async fn task_configs(&self, name: &str) -> Option<Vec<Props>> {
        if let Some(c) = self.connectors.lock().await.get(name) {
            return Some(c.task_configs.clone());
        }
        self.stopped.lock().await.contains_key(name).then(Vec::new)
    }

    /// Replaces a connector's configuration (REST `PUT …/config`): the
    /// connector restarts with it, keeping its target state. Creates the
    /// connector when it does not exist; returns whether it was created.
    pub async fn put_connector_config(&self, props: Props) -> Result<bool, ConnectError> {
        let name = props.get("name").cloned().unwrap_or_default();
        let validation = self.validate_connector(&props);
        if let Some(first) = validation.issues.first() {
            return Err(ConnectError::config(first.to_string()));
        }
        match self.target_state(&name).await {
            None => {
                self.start_connector(props).await?;
                Ok(true)
            }
            Some(TargetState::Stopped) => {
                let stored = props.clone();
                let n = name.clone();
                self.with_configs(move |s| s.put_connector(&n, &stored, &[]))
                    .await?;
                self.stopped.lock().await.insert(name, props);
                Ok(false)
            }
            Some(target) => {
                self.stop_connector(&name).await?;
                self.start_connector(props).await?;
                if target == TargetState::Paused {
                    self.pause_connector(&name).await?;
                }
                Ok(false)
            }
        }
    }

    /// Restarts a connector's tasks with its configuration (REST
    /// `POST …/restart`); a paused connector stays paused, a stopped one is
    /// left alone.
    pub async fn restart_connector(&self, name: &str) -> Result<(), ConnectError> {
        let Some(target) = self.target_state(name).await else {
            return Err(ConnectError::config(format!("Connector {name} not found")));
        };
        if target == TargetState::Stopped {
            return Ok(());
        }
        let props = self
            .connector_config(name)
            .await
            .ok_or_else(|| ConnectError::config(format!("Connector {name} not found")))?;
        self.stop_connector(name).await?;
        self.start_connector(props).await?;
        if target == TargetState::Paused {
            self.pause_connector(name).await?;
        }
        Ok(())
    }

    /// Puts a connector in the STOPPED state (REST `PUT …/stop`, KIP-875):
    /// its tasks deliver what is queued, commit and shut down, releasing
    /// their connections; the configuration stays.
    pub async fn halt_connector(&self, name: &str) -> Result<(), ConnectError> {
        if self.stopped.lock().await.contains_key(name) {
            return Ok(());
        }
        let props = self
            .connector_config(name)
            .await
            .ok_or_else(|| ConnectError::config(format!("Connector {name} not found")))?;
        {
            let n = name.to_string();
            self.with_configs(move |s| s.put_target_state(&n, TargetState::Stopped))
                .await?;
        }
        for f in self.stop_connector(name).await? {
            tracing::warn!(connector = %name, "task had failed: {}", f.message());
        }
        self.stopped.lock().await.insert(name.to_string(), props);
        self.status.remove(name);
        self.status.put_connector(
            name,
            Status {
                state: State::Stopped,
                worker_id: self.worker_id.clone(),
                trace: None,
            },
        );
        Ok(())
    }

    /// Deletes a connector (REST `DELETE /connectors/{name}`): its tasks stop
    /// (committing what is durable) and its configuration is forgotten; its
    /// offsets stay, as in Kafka Connect.
    pub async fn delete_connector(&self, name: &str) -> Result<(), ConnectError> {
        let was_stopped = self.stopped.lock().await.remove(name).is_some();
        if !was_stopped {
            for f in self.stop_connector(name).await? {
                tracing::warn!(connector = %name, "task had failed: {}", f.message());
            }
        }
        let n = name.to_string();
        self.with_configs(move |s| s.remove_connector(&n)).await?;
        self.status.remove(name);
        tracing::info!(connector = %name, "connector deleted");
        Ok(())
    }

    /// A connector's committed offsets: `(partition, offset)`.
    pub async fn connector_offsets(
        &self,
        name: &str,
    ) -> Result<Vec<(serde_json::Map<String, serde_json::Value>, SourceOffset)>, ConnectError> {
        if !self.has_connector(name).await {
            return Err(ConnectError::config(format!("Connector {name} not found")));
        }
        let store = self.offsets.clone();
        let n = name.to_string();
        tokio::task::spawn_blocking(move || store.all(&n))
            .await
            .map_err(|e| ConnectError::internal(format!("offset reader failed: {e}")))
    }

    /// Alters offsets of a STOPPED connector (KIP-875 `PATCH …/offsets`):
    /// `Some(offset)` writes it, `None` resets the partition. An empty list
    /// resets every partition (`DELETE …/offsets`).
    pub async fn alter_offsets(
        &self,
        name: &str,
        changes: Vec<(
            serde_json::Map<String, serde_json::Value>,
            Option<SourceOffset>,
        )>,
        reset_all: bool,
    ) -> Result<(), ConnectError> {
        if !self.stopped.lock().await.contains_key(name) {
            return Err(ConnectError::new(
                sluice_connect_api::ErrorKind::Unavailable,
                format!("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"),
            ));
        }
        let store = self.offsets.clone();
        let n = name.to_string();
        tokio::task::spawn_blocking(move || {
            if reset_all {
                let all: Vec<_> = store.all(&n).into_iter().map(|(p, _)| p).collect();
                return store.remove(&n, &all);
            }
            let (writes, resets): (Vec<_>, Vec<_>) =
                changes.into_iter().partition(|(_, o)| o.is_some());
            let writes: Vec<(SourcePartition, SourceOffset)> = writes
                .into_iter()
                .map(|(p, o)| (Arc::new(p), o.expect("partitioned on Some")))
                .collect();
            store.put(&n, &writes)?;
            let resets: Vec<_> = resets.into_iter().map(|(p, _)| p).collect();
            store.remove(&n, &resets)
        })
        .await
        .map_err(|e| ConnectError::internal(format!("offset writer failed: {e}")))?
    }

    /// Stops every connector (a clean shutdown).
    pub async fn shutdown(&self) {
        let running: Vec<String> = self.connectors.lock().await.keys().cloned().collect();
        for name in running {
            match self.stop_connector(&name).await {
                Ok(failures) => {
                    for f in failures {
                        tracing::warn!(connector = %name, "task had failed: {}", f.message());
                    }
                }
                Err(e) => tracing::warn!(connector = %name, "stop failed: {e}"),
            }
        }
    }
}
