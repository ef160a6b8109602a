//! sluice's REST API (axum): Kafka Connect's endpoints with Connect's
//! bodies, status codes and error body `{"error_code": N, "message": "…"}`,
//! plus what Connect never had: replication-slot health
//! (`/connectors/{name}/replication-slot`), Prometheus metrics (`/metrics`)
//! and a status page (`/ui`).
//!
//! Modules add their routes to one router over [`RestState`]:
//! [`connect`] (Kafka Connect's API), [`slots`], [`metrics`], [`ui`].

pub mod connect;
pub mod error;
pub mod metrics;
pub mod slots;
pub mod ui;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use sluice_runtime::Worker;

pub use error::RestError;

/// Changes the live log filter (`/admin/loggers`); the binary implements it
/// over tracing-subscriber's reload handle.
pub trait LogControl: Send + Sync {
    /// The current level of every logger that has one set, `root` first.
    fn levels(&self) -> Vec<(String, String)>;
    /// Sets `logger` (a module path, or `root`) to `level`; returns the
    /// loggers whose level changed.
    fn set_level(&self, logger: &str, level: &str) -> Result<Vec<String>, String>;
}

/// REST authentication (off by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    /// `Authorization: Basic base64(user:password)`.
    Basic { user: String, password: String },
    /// `Authorization: Bearer <token>`.
    Bearer { token: String },
}

/// What every handler can reach.
pub struct RestState {
    pub worker: Arc<Worker>,
    /// sluice's version (`GET /`).
    pub version: String,
    pub commit: String,
    /// The Kafka cluster id, when the worker talks to Kafka.
    pub kafka_cluster_id: Option<String>,
    pub logs: Option<Arc<dyn LogControl>>,
    pub auth: Auth,
    /// The largest request body accepted (bytes).
    pub max_body_bytes: usize,
}

/// The whole API.
pub fn router(state: Arc<RestState>) -> Router {
    Router::new()
        .merge(connect::routes())
        .merge(slots::routes())
        .merge(metrics::routes())
        .merge(ui::routes())
        .layer(axum::extract::DefaultBodyLimit::max(state.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::authenticate,
        ))
        .fallback(error::not_found)
        .with_state(state)
}

/// Binds `addr` (port 0: a free port) and serves until `shutdown` resolves.
pub async fn serve(
    addr: SocketAddr,
    state: Arc<RestState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = router(state);
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    });
    Ok((local, handle))
}
