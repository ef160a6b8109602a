//! The standalone worker: validates and runs connectors, owns the offset and
//! status stores.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sluice_connect_api::config::Props;
use sluice_connect_api::{
    ConfigIssue, ConfigValues, ConnectError, SinkContext, SourceConnector, Transform,
};
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use crate::config::{
    common_connector_config_def, with_prefix, worker_config_def, CONNECTOR_KEYS,
    CONNECTOR_PREFIXES, WORKER_PREFIXES,
};
use crate::configs::ConfigStore;
use crate::offsets::{FileOffsetStore, MemoryOffsetStore, OffsetStore};
use crate::plugins::Plugins;
use crate::status::{MemoryStatusStore, State, Status, StatusStore};
use crate::task::{PartsFactory, RetryPolicy, TargetState, TaskParts, TaskRunner, TaskSettings};

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
        let aliases: Vec<String> = props
            .get("transforms")
            .map(|t| {
                t.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for alias in &aliases {
            let type_key = format!("transforms.{alias}.type");
            match props.get(&type_key).map(|s| s.trim()) {
                None | Some("") => issues.push(ConfigIssue {
                    key: type_key,
                    message: "Missing required configuration: the transform's class".into(),
                }),
                Some(t) => match self.plugins.transform(t) {
                    Some(plugin) => {
                        let tprops = with_prefix(props, &format!("transforms.{alias}."));
                        for issue in plugin.config_def().issues(&tprops) {
                            issues.push(ConfigIssue {
                                key: format!("transforms.{alias}.{}", issue.key),
                                message: issue.message,
                            });
                        }
                    }
                    None => issues.push(ConfigIssue {
                        key: type_key,
                        message: format!(
                            "Class {t} could not be found (no such transform in sluice)"
                        ),
                    }),
                },
            }
        }
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
    pub async fn start_connector(&self, props: Props) -> Result<(), ConnectError> {
        let validation = self.validate_connector(&props);
        if let Some(first) = validation.issues.first() {
            return Err(ConnectError::config(first.to_string()));
        }
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
            let (n, p, t) = (name.clone(), props.clone(), task_configs.clone());
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
                config: props,
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
        Arc::new(move || {
            let key_converter = plugins.converter(&key_class, &key_props, true)?;
            let value_converter = plugins.converter(&value_class, &value_props, false)?;
            let mut transforms: Vec<Box<dyn Transform>> = Vec::new();
            for (class, tprops) in &transform_configs {
                let plugin = plugins
                    .transform(class)
                    .ok_or_else(|| ConnectError::config(format!("unknown transform {class}")))?;
                transforms.push(plugin.create(tprops)?);
            }
            let sink_plugin = plugins.sink(&sink_type).ok_or_else(|| {
                ConnectError::config(format!("sink type {sink_type} is not available"))
            })?;
            let sink = sink_plugin.create(&sink_props, &sink_context)?;
            Ok(TaskParts {
                task: connector.create_task(),
                task_config: task_config.clone(),
                transforms,
                key_converter,
                value_converter,
                sink,
            })
        })
    }

    /// Names of the connectors this worker runs.
    pub async fn connector_names(&self) -> Vec<String> {
        self.connectors.lock().await.keys().cloned().collect()
    }

    /// A running connector's configuration.
    pub async fn connector_config(&self, name: &str) -> Option<Props> {
        self.connectors
            .lock()
            .await
            .get(name)
            .map(|c| c.config.clone())
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
        self.set_target(name, TargetState::Paused).await
    }

    pub async fn resume_connector(&self, name: &str) -> Result<(), ConnectError> {
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

    /// Stops every connector (a clean shutdown).
    pub async fn shutdown(&self) {
        for name in self.connector_names().await {
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
