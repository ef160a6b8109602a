//! `GET /metrics`: every metric of the process (sluice's global registry,
//! `sluice_runtime::metrics`) in Prometheus' text exposition format 0.0.4.
//! docs/monitoring.md lists the metrics.

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::RestState;

/// Prometheus' content type for the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn routes() -> Router<Arc<RestState>> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        sluice_runtime::metrics::global().render(),
    )
}
