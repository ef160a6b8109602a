//! `GET /connectors/{name}/replication-slot`: the health of a PostgreSQL
//! connector's replication slot, read live from the database with the
//! connector's own `database.*` settings (docs/monitoring.md).
//!
//! The body is the slot report (`slot_name`, `plugin`, `slot_type`,
//! `database`, `active`, `active_pid`, `restart_lsn`, `confirmed_flush_lsn`,
//! `current_wal_lsn`, `lag_bytes`, `retained_wal_bytes`, `wal_status`,
//! `safe_wal_size`, `max_slot_wal_keep_size`, `lag_warn_bytes`,
//! `lag_fail_bytes`, `health`, `message`), plus `reading_paused` and
//! `paused_reason` from the running task. 404 for an unknown connector or
//! a slot that does not exist, 400 for a connector that is not PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use crate::{RestError, RestState};

/// How long the database may take to answer.
const QUERY_TIMEOUT: Duration = Duration::from_secs(15);

pub fn routes() -> Router<Arc<RestState>> {
    Router::new().route("/connectors/{name}/replication-slot", get(replication_slot))
}

async fn replication_slot(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, RestError> {
    let raw = state
        .worker
        .connector_config(&name)
        .await
        .ok_or_else(|| RestError::not_found(format!("Connector {name} not found")))?;
    let class = raw
        .get("connector.class")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let is_postgres = state
        .worker
        .plugins()
        .connector(&class)
        .is_some_and(|c| c.class_name() == sluice_postgres::config::CLASS);
    if !is_postgres {
        return Err(RestError::bad_request(format!(
            "Connector {name} is not a PostgreSQL connector (connector.class={class}); only PostgreSQL connectors have a replication slot"
        )));
    }
    let config = sluice_runtime::placeholders::resolve_placeholders(&raw)
        .map_err(|(key, message)| RestError::bad_request(format!("{key}: {message}")))?;
    let (settings, slot, thresholds) = sluice_postgres::slots::connector_slot(&config)?;
    let query = async {
        let client =
            sluice_postgres::catalog::connect(&settings, "sluice-rest-slot-report").await?;
        sluice_postgres::slots::query_slots(&client, Some(&slot), thresholds).await
    };
    let report = tokio::time::timeout(QUERY_TIMEOUT, query)
        .await
        .map_err(|_| {
            RestError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "database {}:{} did not answer within {}s",
                    settings.host,
                    settings.port,
                    QUERY_TIMEOUT.as_secs()
                ),
            )
        })??
        .pop()
        .ok_or_else(|| {
            RestError::not_found(format!(
                "Replication slot '{slot}' of connector {name} does not exist on database '{}'",
                settings.dbname
            ))
        })?;
    let mut body = serde_json::to_value(&report)
        .map_err(|e| RestError::internal(format!("rendering the slot report: {e}")))?;
    // What the running task does about it.
    let detail = state
        .worker
        .status_store()
        .task_details(&name, 0)
        .remove("slot");
    if let (Some(map), Some(detail)) = (body.as_object_mut(), detail) {
        map.insert(
            "reading_paused".into(),
            detail.get("reading_paused").cloned().unwrap_or(Value::Null),
        );
        map.insert(
            "paused_reason".into(),
            detail.get("paused_reason").cloned().unwrap_or(Value::Null),
        );
    }
    Ok(Json(body))
}
