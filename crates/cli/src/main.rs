//! The `sluice` binary: command line, wiring, logging.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sluice_runtime::config::{load_connector_file, load_worker_file, ConnectorFile};
use sluice_runtime::{Plugins, Worker};

mod alloc;

/// mimalloc (see `alloc.rs`).
#[global_allocator]
static GLOBAL: alloc::MiMalloc = alloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Change data capture in one small binary: Debezium's change events, Kafka Connect's configs.",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run connectors in one process, like Kafka's connect-standalone.
    Standalone {
        /// Worker configuration (.properties).
        worker: PathBuf,
        /// Connector configurations (.properties, or the JSON `POST /connectors` takes).
        connectors: Vec<PathBuf>,
    },
    /// Serve an embedded Confluent-compatible schema registry (Avro).
    Registry {
        /// Address to listen on (HOST:PORT; port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        /// JSON file keeping the schemas (created if missing). Without it
        /// nothing is kept when sluice stops.
        #[arg(long, conflicts_with = "bootstrap_servers")]
        data: Option<PathBuf>,
        /// Keep the schemas in a compacted Kafka topic on these brokers
        /// instead of a file (host:port,…).
        #[arg(long)]
        bootstrap_servers: Option<String>,
        /// The topic with --bootstrap-servers.
        #[arg(long, default_value = "_schemas")]
        topic: String,
        /// Replication factor of the topic when sluice creates it (-1: the
        /// broker's default).
        #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
        replication_factor: i32,
    },
    /// Check a worker file and connector files without connecting anywhere:
    /// every missing, unknown or invalid key is reported; exit 1 if any is
    /// wrong.
    Validate {
        /// Worker configuration (.properties).
        worker: PathBuf,
        /// Connector configurations (.properties or JSON).
        connectors: Vec<PathBuf>,
    },
    /// Print the health of every replication slot of a PostgreSQL server:
    /// lag, retained WAL, wal_status, safe_wal_size (docs/monitoring.md).
    Slots {
        /// The server (postgres://user:password@host:port/database).
        #[arg(long)]
        database_url: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Lag (bytes) over which a slot's health is `warning` (-1: never).
        #[arg(long, default_value_t = sluice_postgres::slots::DEFAULT_WARN_BYTES, allow_negative_numbers = true)]
        warn_bytes: i64,
        /// Lag (bytes) over which a slot's health is `critical` (-1: never).
        #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
        fail_bytes: i64,
    },
    /// Print the configuration reference (Markdown) generated from the declared keys.
    #[command(hide = true)]
    ConfigReference,
}

/// A configuration problem: printed as one line, exit code 1.
struct ConfigProblem(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Standalone { worker, connectors } => standalone(&worker, &connectors).await,
            Command::Registry {
                listen,
                data,
                bootstrap_servers,
                topic,
                replication_factor,
            } => {
                let kafka = bootstrap_servers.map(|b| (b, topic, replication_factor));
                registry(listen, data, kafka).await
            }
            Command::Validate { worker, connectors } => Ok(validate(&worker, &connectors)),
            Command::Slots {
                database_url,
                json,
                warn_bytes,
                fail_bytes,
            } => Ok(slots(&database_url, json, warn_bytes, fail_bytes).await),
            Command::ConfigReference => {
                print!("{}", config_reference());
                Ok(Ok(()))
            }
        }
    });
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(ConfigProblem(line))) => {
            eprintln!("error: {line}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

type FilterHandle =
    tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, tracing_subscriber::Registry>;

/// The log filter's reload handle and its directives as `(logger, LEVEL)`.
type LogLevels = (FilterHandle, std::sync::Mutex<Vec<(String, String)>>);

static LOG_FILTER: std::sync::OnceLock<LogLevels> = std::sync::OnceLock::new();

fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let spec = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_string());
    let filter = tracing_subscriber::EnvFilter::try_new(&spec)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .init();
    // The directives as `(logger, level)`, `root` for the default.
    let levels = spec
        .split(',')
        .filter(|d| !d.trim().is_empty())
        .map(|d| match d.split_once('=') {
            Some((l, v)) => (l.trim().to_string(), v.trim().to_uppercase()),
            None => ("root".to_string(), d.trim().to_uppercase()),
        })
        .collect();
    let _ = LOG_FILTER.set((handle, std::sync::Mutex::new(levels)));
}

/// `/admin/loggers` over the reloadable filter: Kafka Connect's levels
/// (TRACE…ERROR, OFF) on module paths (`sluice_postgres`) or `root`.
struct Loggers;

impl sluice_rest::LogControl for Loggers {
    fn levels(&self) -> Vec<(String, String)> {
        LOG_FILTER
            .get()
            .map(|(_, l)| l.lock().expect("levels").clone())
            .unwrap_or_default()
    }

    fn set_level(&self, logger: &str, level: &str) -> Result<Vec<String>, String> {
        let level = match level.trim().to_uppercase().as_str() {
            "FATAL" => "ERROR".to_string(),
            l @ ("TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "OFF") => l.to_string(),
            other => return Err(format!("Invalid log level '{other}'; use one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF")),
        };
        let (handle, levels) = LOG_FILTER.get().ok_or("logging is not initialized")?;
        let mut levels = levels.lock().expect("levels");
        match levels.iter_mut().find(|(l, _)| l == logger) {
            Some(entry) => entry.1 = level.clone(),
            None => levels.push((logger.to_string(), level.clone())),
        }
        let spec: Vec<String> = levels
            .iter()
            .map(|(l, v)| {
                if l == "root" {
                    v.to_lowercase()
                } else {
                    format!("{l}={}", v.to_lowercase())
                }
            })
            .collect();
        let filter = tracing_subscriber::EnvFilter::try_new(spec.join(","))
            .map_err(|e| format!("invalid logger {logger:?}: {e}"))?;
        handle.reload(filter).map_err(|e| e.to_string())?;
        Ok(vec![logger.to_string()])
    }
}

/// Every plugin this build has.
pub fn plugins() -> Plugins {
    let mut plugins = Plugins::new();
    plugins.add_connector(Arc::new(
        sluice_runtime::connectors::file_stream::FileStreamSource::new(),
    ));
    plugins.add_connector(Arc::new(sluice_postgres::PostgresConnector::new()));
    for sink in sluice_sinks::all_plugins() {
        plugins.add_sink(sink);
    }
    for sink in sluice_kafka::all_plugins() {
        plugins.add_sink(sink);
    }
    for transform in sluice_transforms::all_plugins() {
        plugins.add_transform(transform);
    }
    for predicate in sluice_transforms::all_predicates() {
        plugins.add_predicate(predicate);
    }
    plugins.set_converters(Arc::new(sluice_converters::create_converter));
    plugins
}

/// The configuration reference, generated from the same declarations that
/// validate configurations (docs/reference/configuration.md).
fn config_reference() -> String {
    use sluice_runtime::config::{common_connector_config_def, worker_config_def};
    let plugins = plugins();
    let mut out = String::from(
        "# Configuration reference\n\nGenerated by `sluice config-reference` from the declarations the worker validates with; do not edit by hand.\n\n",
    );
    out.push_str("## Worker (`worker.properties`)\n\n");
    out.push_str(&worker_config_def().to_markdown());
    out.push_str("\nPrefixes passed through: `key.converter.*`, `value.converter.*` (converter settings), `sink.<type>.*` (sink settings), `producer.*`, `consumer.*`.\n\n");
    out.push_str("## Every connector\n\n");
    out.push_str(&common_connector_config_def().to_markdown());
    out.push_str("\nAlso accepted: `transforms.<alias>.*`, `predicates.<alias>.*`, `key.converter.*`, `value.converter.*`, `sink.<type>.*` overrides.\n\n");
    for c in plugins.connectors() {
        out.push_str(&format!(
            "## Connector `{}`\n\nAliases: {}\n\n",
            c.class_name(),
            c.aliases().join(", ")
        ));
        out.push_str(&c.config_def().to_markdown());
        out.push('\n');
    }
    for (class, alias) in sluice_converters::KNOWN_CONVERTERS {
        if let Ok(def) = sluice_converters::converter_config_def(class) {
            out.push_str(&format!("## Converter `{class}` (`{alias}`)\n\nSet under `key.converter.` / `value.converter.`.\n\n"));
            out.push_str(&def.to_markdown());
            out.push('\n');
        }
    }
    for s in plugins.sinks() {
        out.push_str(&format!("## Sink `sink.type={}`\n\n", s.sink_type()));
        if s.config_def().keys().is_empty() {
            out.push_str("No settings.\n\n");
        } else {
            out.push_str(&format!(
                "Keys are set as `sink.{}.<key>`.\n\n",
                s.sink_type()
            ));
            out.push_str(&s.config_def().to_markdown());
            out.push('\n');
        }
    }
    out
}

/// `sluice validate`: the checks `standalone` makes before starting, all
/// of them, without opening any connection.
fn validate(worker_file: &Path, connector_files: &[PathBuf]) -> Result<(), ConfigProblem> {
    let mut problems = Vec::new();
    let worker_props = load_worker_file(worker_file).map_err(|e| ConfigProblem(e.to_string()))?;
    if let Err(e) = sluice_kafka::offsets::OffsetTopicSettings::from_worker(&worker_props) {
        problems.push(format!("{}: {}", worker_file.display(), e.message()));
    }
    let worker = Worker::with_memory_offsets(plugins(), worker_props)
        .map_err(|issues| ConfigProblem(issues_line(worker_file, &issues)))?;
    for key in worker.unknown_worker_keys() {
        println!(
            "warning: {}: worker key '{key}' is not used by sluice",
            worker_file.display()
        );
    }
    for path in connector_files {
        let file = match load_connector_file(path) {
            Ok(f) => f,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        let validation = worker.validate_connector(&file.config);
        for key in &validation.unknown_keys {
            println!(
                "warning: {}: connector '{}' key '{key}' is not used by sluice",
                path.display(),
                file.name
            );
        }
        if validation.is_ok() {
            println!("ok: {} (connector '{}')", path.display(), file.name);
        } else {
            problems.push(issues_line(path, &validation.issues));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigProblem(problems.join("\n")))
    }
}

fn issues_line(file: &Path, issues: &[sluice_connect_api::ConfigIssue]) -> String {
    let parts: Vec<String> = issues
        .iter()
        .map(|i| format!("{}: {}", i.key, i.message))
        .collect();
    format!("{}: {}", file.display(), parts.join("; "))
}

async fn standalone(
    worker_file: &Path,
    connector_files: &[PathBuf],
) -> anyhow::Result<Result<(), ConfigProblem>> {
    let worker_props = match load_worker_file(worker_file) {
        Ok(p) => p,
        Err(e) => return Ok(Err(ConfigProblem(e.to_string()))),
    };
    // Offsets in Kafka (offset.storage.topic) unless a file is given.
    let offsets_topic = match sluice_kafka::offsets::OffsetTopicSettings::from_worker(&worker_props)
    {
        Ok(t) => t,
        Err(e) => {
            return Ok(Err(ConfigProblem(format!(
                "{}: {}",
                worker_file.display(),
                e.message()
            ))))
        }
    };
    let store_props = worker_props.clone();
    let has_file = worker_props
        .get("offset.storage.file.filename")
        .is_some_and(|f| !f.trim().is_empty());
    let worker = match offsets_topic.filter(|_| !has_file) {
        Some(topic) => {
            let store = sluice_kafka::KafkaOffsetStore::open(&worker_props, &topic)
                .await
                .map_err(|e| anyhow::anyhow!("opening the offsets topic {}: {e}", topic.topic))?;
            Worker::with_offset_store(plugins(), worker_props, Arc::new(store))
        }
        None => Worker::new(plugins(), worker_props),
    };
    let mut worker = match worker {
        Ok(w) => w,
        Err(issues) => return Ok(Err(ConfigProblem(issues_line(worker_file, &issues)))),
    };
    // Kafka Connect's config and status topics, when configured.
    let mut stored_connectors = Vec::new();
    if let Some(store) = sluice_kafka::connect_stores::KafkaStatusStore::open(&store_props)
        .await
        .map_err(|e| anyhow::anyhow!("opening status.storage.topic: {e}"))?
    {
        worker.set_status_store(Arc::new(store));
    }
    {
        use sluice_runtime::configs::{ConfigStore, FileConfigStore};
        let kafka = sluice_kafka::connect_stores::KafkaConfigStore::open(&store_props)
            .await
            .map_err(|e| anyhow::anyhow!("opening config.storage.topic: {e}"))?;
        let store: Option<Arc<dyn ConfigStore>> = match kafka {
            Some(k) => Some(Arc::new(k)),
            None => match store_props
                .get("config.storage.file.filename")
                .filter(|f| !f.trim().is_empty())
            {
                Some(path) => match FileConfigStore::open(path) {
                    Ok(f) => Some(Arc::new(f)),
                    Err(e) => {
                        return Ok(Err(ConfigProblem(format!(
                            "{}: config.storage.file.filename: {}",
                            worker_file.display(),
                            e.message()
                        ))))
                    }
                },
                None => None,
            },
        };
        if let Some(store) = store {
            stored_connectors = store.connectors();
            worker.set_config_store(store);
        }
    }
    let worker = worker;
    for key in worker.unknown_worker_keys() {
        tracing::warn!(
            "{}: worker key '{key}' is not used by sluice; it is ignored",
            worker_file.display()
        );
    }

    // Validate everything before starting anything.
    let mut loaded: Vec<(PathBuf, ConnectorFile)> = Vec::new();
    for path in connector_files {
        let file = match load_connector_file(path) {
            Ok(f) => f,
            Err(e) => return Ok(Err(ConfigProblem(e.to_string()))),
        };
        let validation = worker.validate_connector(&file.config);
        if !validation.is_ok() {
            return Ok(Err(ConfigProblem(issues_line(path, &validation.issues))));
        }
        let class = file
            .config
            .get("connector.class")
            .cloned()
            .unwrap_or_default();
        for key in &validation.unknown_keys {
            tracing::warn!(
                "{}: connector '{}' key '{key}' is not used by sluice's {class}; it is ignored",
                path.display(),
                file.name
            );
        }
        if loaded.iter().any(|(_, f)| f.name == file.name) {
            return Ok(Err(ConfigProblem(format!(
                "{}: name: connector name '{}' is used twice",
                path.display(),
                file.name
            ))));
        }
        loaded.push((path.clone(), file));
    }
    // Connectors kept in config.storage.topic that no file names run again,
    // in the state they were left in.
    let from_files: Vec<String> = loaded.iter().map(|(_, f)| f.name.clone()).collect();
    let restored: Vec<_> = stored_connectors
        .into_iter()
        .filter(|c| !from_files.contains(&c.name))
        .collect();
    if loaded.is_empty() && restored.is_empty() {
        tracing::warn!("no connector configuration given; nothing to run until one is added");
    }
    for stored in restored {
        tracing::info!(connector = %stored.name, "restoring connector from config.storage.topic");
        worker
            .create_connector(stored.config, stored.target)
            .await
            .with_context(|| {
                format!(
                    "restoring connector '{}' from config.storage.topic",
                    stored.name
                )
            })?;
    }
    for (path, file) in loaded {
        worker
            .start_connector(file.config)
            .await
            .with_context(|| format!("{}: starting connector '{}'", path.display(), file.name))?;
    }

    // Kafka Connect's REST API (rest.host.name:rest.port, or listeners).
    let worker = Arc::new(worker);
    let rest = match rest_settings(&store_props) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Err(ConfigProblem(format!(
                "{}: {e}",
                worker_file.display()
            ))))
        }
    };
    let (rest_stop, rest_stopped) = tokio::sync::oneshot::channel::<()>();
    let state = Arc::new(sluice_rest::RestState {
        worker: worker.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        commit: option_env!("SLUICE_COMMIT")
            .unwrap_or("unknown")
            .to_string(),
        kafka_cluster_id: None,
        logs: Some(Arc::new(Loggers)),
        auth: rest.auth,
        max_body_bytes: rest.max_body_bytes,
    });
    let (addr, rest_task) = sluice_rest::serve(rest.addr, state, async move {
        let _ = rest_stopped.await;
    })
    .await
    .with_context(|| {
        format!(
            "starting the REST API on {} (rest.host.name / rest.port)",
            rest.addr
        )
    })?;
    tracing::info!("REST API listening on http://{addr}");

    wait_for_signal().await?;
    tracing::info!("stopping: finishing deliveries and committing offsets");
    let _ = rest_stop.send(());
    let _ = rest_task.await;
    worker.shutdown().await;
    tracing::info!("stopped cleanly");
    Ok(Ok(()))
}

struct RestSettings {
    addr: SocketAddr,
    auth: sluice_rest::Auth,
    max_body_bytes: usize,
}

/// `rest.host.name` / `rest.port` (or the first `listeners` URL),
/// `rest.auth.*`, `rest.max.body.bytes`.
fn rest_settings(props: &sluice_connect_api::config::Props) -> Result<RestSettings, String> {
    let get = |k: &str| {
        props
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let (mut host, mut port) = (
        get("rest.host.name").unwrap_or_else(|| "0.0.0.0".to_string()),
        get("rest.port").unwrap_or_else(|| "8083".to_string()),
    );
    if let Some(first) = get("listeners").and_then(|l| l.split(',').next().map(str::to_string)) {
        let rest = first.trim().strip_prefix("http://").ok_or_else(|| {
            format!("listeners: only http:// listeners are supported, got {first}")
        })?;
        let (h, p) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("listeners: expected http://host:port, got {first}"))?;
        host = if h.is_empty() {
            "0.0.0.0".to_string()
        } else {
            h.to_string()
        };
        port = p.to_string();
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("rest.port: expected a port number, got {port:?}"))?;
    let addr = format!("{host}:{port}")
        .parse()
        .or_else(|_| {
            use std::net::ToSocketAddrs;
            (host.as_str(), port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .ok_or(())
        })
        .map_err(|_| format!("rest.host.name: cannot resolve {host:?}"))?;
    let auth = match get("rest.auth.type")
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("none") => sluice_rest::Auth::None,
        Some("basic") => sluice_rest::Auth::Basic {
            user: get("rest.auth.user")
                .ok_or("rest.auth.user: required with rest.auth.type=basic")?,
            password: get("rest.auth.password")
                .ok_or("rest.auth.password: required with rest.auth.type=basic")?,
        },
        Some("bearer") => sluice_rest::Auth::Bearer {
            token: get("rest.auth.token")
                .ok_or("rest.auth.token: required with rest.auth.type=bearer")?,
        },
        Some(other) => {
            return Err(format!(
                "rest.auth.type: expected none, basic or bearer, got {other:?}"
            ))
        }
    };
    let max_body_bytes = match get("rest.max.body.bytes") {
        None => 1 << 20,
        Some(v) => v
            .parse()
            .map_err(|_| format!("rest.max.body.bytes: expected a number of bytes, got {v:?}"))?,
    };
    Ok(RestSettings {
        addr,
        auth,
        max_body_bytes,
    })
}

/// `sluice registry`: serves until SIGINT/SIGTERM, then lets the requests
/// under way finish.
async fn registry(
    listen: SocketAddr,
    data: Option<PathBuf>,
    kafka: Option<(String, String, i32)>,
) -> anyhow::Result<Result<(), ConfigProblem>> {
    let bound = match &kafka {
        Some((bootstrap, topic, rf)) => {
            let storage =
                match sluice_kafka::schemas::KafkaSchemaStorage::new(bootstrap, topic, *rf) {
                    Ok(s) => s,
                    Err(e) => return Ok(Err(ConfigProblem(e.to_string()))),
                };
            sluice_registry::RegistryServer::bind_with_storage(listen, Arc::new(storage)).await
        }
        None => {
            if data.is_none() {
                tracing::warn!(
                    "no --data file or --bootstrap-servers given: schemas are kept in memory only and are lost when sluice stops"
                );
            }
            sluice_registry::RegistryServer::bind(listen, data.clone()).await
        }
    };
    let server = match bound {
        Ok(server) => server,
        Err(e) => return Ok(Err(ConfigProblem(e.to_string()))),
    };
    match (&data, &kafka) {
        (_, Some((bootstrap, topic, _))) => tracing::info!(
            "schema registry listening on http://{} (data: topic {topic} on {bootstrap})",
            server.local_addr()
        ),
        (Some(path), None) => tracing::info!(
            "schema registry listening on http://{} (data: {})",
            server.local_addr(),
            path.display()
        ),
        (None, None) => tracing::info!(
            "schema registry listening on http://{}",
            server.local_addr()
        ),
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut serving = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    tokio::select! {
        result = &mut serving => {
            result.context("the schema registry task failed")?
                .context("serving the schema registry")?;
            anyhow::bail!("the schema registry stopped unexpectedly");
        }
        signal = wait_for_signal() => signal?,
    }
    tracing::info!("stopping the schema registry");
    let _ = stop.send(());
    serving
        .await
        .context("the schema registry task failed")?
        .context("serving the schema registry")?;
    tracing::info!("stopped cleanly");
    Ok(Ok(()))
}

/// `sluice slots`: every replication slot of the server, as a table or JSON.
async fn slots(
    database_url: &str,
    json: bool,
    warn_bytes: i64,
    fail_bytes: i64,
) -> Result<(), ConfigProblem> {
    use sluice_postgres::slots;
    let thresholds = slots::SlotThresholds {
        warn_bytes,
        fail_bytes,
    };
    let reports = slots::all_slots_with(database_url, thresholds)
        .await
        .map_err(|e| {
            ConfigProblem(format!(
                "cannot read the replication slots of {}: {}",
                slots::redact_url(database_url),
                e.message()
            ))
        })?;
    if json {
        let text = serde_json::to_string_pretty(&reports)
            .map_err(|e| ConfigProblem(format!("rendering the slots as JSON: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", slots::render_table(&reports));
    }
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => tracing::info!("received SIGTERM"),
        _ = int.recv() => tracing::info!("received SIGINT"),
    }
    Ok(())
}
