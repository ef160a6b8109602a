//! An embedded schema registry speaking the subset of Confluent Schema
//! Registry's REST API that Avro serializers and Kafka Connect's
//! AvroConverter use: register and look up schemas, fetch them by global id,
//! list and delete subjects and versions, compatibility levels and checks.
//! Avro only. See docs/registry.md.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sluice_registry::RegistryError> {
//! let server = sluice_registry::RegistryServer::bind(
//!     "127.0.0.1:0".parse().unwrap(),
//!     Some("registry.json".into()),
//! )
//! .await?;
//! let url = format!("http://{}", server.local_addr());
//! let _task = server.spawn();
//! # let _ = url;
//! # Ok(()) }
//! ```

mod avro;
mod compat;
mod error;
mod http;
mod registry;
mod state;
mod storage;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Mutex;

pub use compat::Compatibility;
pub use error::{ApiError, RegistryError};
pub use http::CONTENT_TYPE;
pub use state::{Change, State, StoredSchema, SubjectState, VersionEntry, STATE_FORMAT};
pub use storage::{FileStorage, MemoryStorage, Storage};

/// A bound registry, ready to serve.
pub struct RegistryServer {
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    router: axum::Router,
}

impl RegistryServer {
    /// Binds `addr` (port 0 = a free port) with storage in `data` (a JSON
    /// file written atomically: write temp, fsync, rename, fsync dir;
    /// created if missing) or in memory when None.
    pub async fn bind(
        addr: SocketAddr,
        data: Option<PathBuf>,
    ) -> Result<RegistryServer, RegistryError> {
        let storage: Arc<dyn Storage> = match data {
            Some(path) => Arc::new(FileStorage::new(path)),
            None => Arc::new(MemoryStorage),
        };
        RegistryServer::bind_with_storage(addr, storage).await
    }

    /// Like [`bind`](RegistryServer::bind), with any [`Storage`].
    pub async fn bind_with_storage(
        addr: SocketAddr,
        storage: Arc<dyn Storage>,
    ) -> Result<RegistryServer, RegistryError> {
        let registry = registry::Registry::open(storage).await?;
        let state = registry.state();
        tracing::debug!(
            "schema registry: {} schemas, {} subjects loaded",
            state.schemas().len(),
            state.subjects().len()
        );
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| RegistryError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| RegistryError::Bind { addr, source })?;
        Ok(RegistryServer {
            listener,
            local_addr,
            router: http::router(Arc::new(Mutex::new(registry))),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until the future is dropped / process ends.
    pub async fn run(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).await
    }

    /// Serves until `shutdown` completes, then stops accepting, lets the
    /// requests under way finish and returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Convenience: spawns `run` on the current tokio runtime.
    pub fn spawn(self) -> tokio::task::JoinHandle<std::io::Result<()>> {
        tokio::spawn(self.run())
    }
}
