//! The `sluice` binary: command line, wiring, logging.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sluice_runtime::config::{load_connector_file, load_worker_file, ConnectorFile};
use sluice_runtime::{Plugins, Worker};

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

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Every plugin this build has.
pub fn plugins() -> Plugins {
    let mut plugins = Plugins::new();
    plugins.add_connector(Arc::new(
        sluice_runtime::connectors::file_stream::FileStreamSource::new(),
    ));
    for sink in sluice_sinks::all_plugins() {
        plugins.add_sink(sink);
    }
    plugins.set_converters(Arc::new(sluice_converters::create_converter));
    plugins
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
    let worker = match Worker::new(plugins(), worker_props) {
        Ok(w) => w,
        Err(issues) => return Ok(Err(ConfigProblem(issues_line(worker_file, &issues)))),
    };
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
    if loaded.is_empty() {
        tracing::warn!("no connector configuration given; nothing to run until one is added");
    }
    for (path, file) in loaded {
        worker
            .start_connector(file.config)
            .await
            .with_context(|| format!("{}: starting connector '{}'", path.display(), file.name))?;
    }

    wait_for_signal().await?;
    tracing::info!("stopping: finishing deliveries and committing offsets");
    worker.shutdown().await;
    tracing::info!("stopped cleanly");
    Ok(Ok(()))
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
