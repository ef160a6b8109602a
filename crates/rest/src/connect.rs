//! Kafka Connect's REST API.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::RestState;

pub fn routes() -> Router<Arc<RestState>> {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
}

async fn root(State(state): State<Arc<RestState>>) -> Json<Value> {
    Json(json!({
        "version": state.version,
        "commit": state.commit,
        "kafka_cluster_id": state.kafka_cluster_id,
    }))
}

async fn health() -> Json<Value> {
    Json(
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}),
    )
}
