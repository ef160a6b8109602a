//! Kafka Connect's REST API: the same paths, bodies, status codes and error
//! body (`{"error_code": N, "message": "…"}`) as Connect's
//! `ConnectorsResource`, `ConnectorPluginsResource`, `LoggingResource` and
//! `RootResource`. Every state change acts on the running tasks through
//! the worker (a paused task stops polling and keeps its position; a
//! stopped connector releases its connections; offsets changed here are
//! where it resumes).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sluice_connect_api::config::Props;
use sluice_connect_api::{ConfigDef, ConfigKey, KeyValidation};
use sluice_runtime::config::common_connector_config_def;
use sluice_runtime::status::Status;
use sluice_runtime::task::TargetState;

use crate::{RestError, RestState};

type Result<T> = std::result::Result<T, RestError>;

pub fn routes() -> Router<Arc<RestState>> {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/connectors", get(list).post(create))
        .route("/connectors/{name}", get(info).delete(delete))
        .route(
            "/connectors/{name}/config",
            get(get_config).put(put_config).patch(patch_config),
        )
        .route("/connectors/{name}/status", get(status))
        .route("/connectors/{name}/tasks", get(tasks))
        .route("/connectors/{name}/tasks/{task}/status", get(task_status))
        .route("/connectors/{name}/tasks/{task}/details", get(task_details))
        .route(
            "/connectors/{name}/tasks/{task}/restart",
            post(restart_task),
        )
        .route("/connectors/{name}/restart", post(restart))
        .route("/connectors/{name}/pause", put(pause))
        .route("/connectors/{name}/resume", put(resume))
        .route("/connectors/{name}/stop", put(stop))
        .route(
            "/connectors/{name}/offsets",
            get(get_offsets).patch(alter_offsets).delete(reset_offsets),
        )
        .route("/connectors/{name}/topics", get(topics))
        .route("/connectors/{name}/topics/reset", put(reset_topics))
        .route("/connector-plugins", get(plugins))
        .route("/connector-plugins/{plugin}/config", get(plugin_config))
        .route("/connector-plugins/{plugin}/config/validate", put(validate))
        .route("/admin/loggers", get(loggers))
        .route("/admin/loggers/{logger}", get(logger).put(set_logger))
}

/// A JSON body, with Connect-style 400s for malformed JSON or wrong types.
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = RestError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(JsonRejection::BytesRejection(e)) => Err(RestError::new(
                e.status(),
                format!("Request body could not be read: {}", e.body_text()),
            )),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(RestError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "HTTP 415 Unsupported Media Type: send Content-Type: application/json",
            )),
            Err(e) => Err(RestError::bad_request(format!(
                "Invalid request body: {}",
                e.body_text()
            ))),
        }
    }
}

fn not_found(name: &str) -> RestError {
    RestError::not_found(format!("Connector {name} not found"))
}

async fn require(state: &RestState, name: &str) -> Result<()> {
    if state.worker.has_connector(name).await {
        Ok(())
    } else {
        Err(not_found(name))
    }
}

/// A JSON object of strings → properties; other JSON values are rendered
/// as text (Connect accepts numbers and booleans in configs).
fn props_of(config: &Map<String, Value>) -> Result<Props> {
    let mut props = Props::new();
    for (k, v) in config {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            other => {
                return Err(RestError::bad_request(format!(
                    "Invalid value for configuration {k}: expected a string, got {other}"
                )))
            }
        };
        props.insert(k.clone(), text);
    }
    Ok(props)
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

fn status_json(s: &Status) -> Value {
    let mut v = json!({"state": s.state.name(), "worker_id": s.worker_id});
    if let Some(t) = &s.trace {
        v["trace"] = json!(t);
    }
    v
}

async fn status_of(state: &RestState, name: &str) -> Value {
    let store = state.worker.status_store();
    let connector = store
        .connector(name)
        .map(|s| status_json(&s))
        .unwrap_or_else(|| json!({"state": "UNASSIGNED", "worker_id": state.worker.worker_id()}));
    let tasks: Vec<Value> = store
        .tasks(name)
        .into_iter()
        .map(|(id, s)| {
            let mut v = status_json(&s);
            v["id"] = json!(id);
            v
        })
        .collect();
    json!({"name": name, "connector": connector, "tasks": tasks, "type": "source"})
}

async fn info_of(state: &RestState, name: &str) -> Result<Value> {
    let config = state
        .worker
        .connector_config(name)
        .await
        .ok_or_else(|| not_found(name))?;
    let tasks = state.worker.task_configs(name).await.unwrap_or_default();
    let tasks: Vec<Value> = (0..tasks.len())
        .map(|i| json!({"connector": name, "task": i}))
        .collect();
    Ok(json!({"name": name, "config": config, "tasks": tasks, "type": "source"}))
}

async fn list(
    State(state): State<Arc<RestState>>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Value>> {
    // `expand` may repeat (`?expand=status&expand=info`).
    let expand: Vec<String> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.strip_prefix("expand="))
        .map(str::to_string)
        .collect();
    let names = state.worker.connector_names().await;
    if expand.is_empty() {
        return Ok(Json(json!(names)));
    }
    let mut out = Map::new();
    for name in names {
        let mut entry = Map::new();
        if expand.iter().any(|e| e == "status") {
            entry.insert("status".into(), status_of(&state, &name).await);
        }
        if expand.iter().any(|e| e == "info") {
            if let Ok(info) = info_of(&state, &name).await {
                entry.insert("info".into(), info);
            }
        }
        out.insert(name, Value::Object(entry));
    }
    Ok(Json(Value::Object(out)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    name: Option<String>,
    config: Option<Map<String, Value>>,
    initial_state: Option<String>,
}

fn invalid_config(issues: &[sluice_connect_api::ConfigIssue]) -> RestError {
    let lines: Vec<String> = issues
        .iter()
        .map(|i| format!("{}: {}", i.key, i.message))
        .collect();
    RestError::bad_request(format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
        issues.len(),
        lines.join("\n")
    ))
}

async fn create(
    State(state): State<Arc<RestState>>,
    Body(req): Body<CreateRequest>,
) -> Result<Response> {
    let mut config = props_of(&req.config.unwrap_or_default())?;
    let name = req
        .name
        .or_else(|| config.get("name").cloned())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| RestError::bad_request("Connector name must be specified"))?;
    if let Some(n) = config.get("name") {
        if n != &name {
            return Err(RestError::bad_request(format!(
                "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
            )));
        }
    }
    config.insert("name".into(), name.clone());
    let initial = match req
        .initial_state
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("RUNNING") => TargetState::Started,
        Some("PAUSED") => TargetState::Paused,
        Some("STOPPED") => TargetState::Stopped,
        Some(other) => {
            return Err(RestError::bad_request(format!(
                "Invalid initial state {other}; use RUNNING, PAUSED or STOPPED"
            )))
        }
    };
    if state.worker.has_connector(&name).await {
        return Err(RestError::conflict(format!(
            "Connector {name} already exists"
        )));
    }
    let validation = state.worker.validate_connector(&config);
    if !validation.is_ok() {
        return Err(invalid_config(&validation.issues));
    }
    state.worker.create_connector(config, initial).await?;
    let body = info_of(&state, &name).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/connectors/{name}"))],
        Json(body),
    )
        .into_response())
}

async fn info(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    Ok(Json(info_of(&state, &name).await?))
}

async fn get_config(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<Props>> {
    state
        .worker
        .connector_config(&name)
        .await
        .map(Json)
        .ok_or_else(|| not_found(&name))
}

async fn apply_config(state: &RestState, name: &str, mut config: Props) -> Result<Response> {
    if let Some(n) = config.get("name") {
        if n != name {
            return Err(RestError::bad_request(format!(
                "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
            )));
        }
    }
    config.insert("name".into(), name.to_string());
    let validation = state.worker.validate_connector(&config);
    if !validation.is_ok() {
        return Err(invalid_config(&validation.issues));
    }
    let created = state.worker.put_connector_config(config).await?;
    let body = info_of(state, name).await?;
    Ok(if created {
        (
            StatusCode::CREATED,
            [(header::LOCATION, format!("/connectors/{name}"))],
            Json(body),
        )
            .into_response()
    } else {
        (StatusCode::OK, Json(body)).into_response()
    })
}

async fn put_config(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
    Body(config): Body<Map<String, Value>>,
) -> Result<Response> {
    apply_config(&state, &name, props_of(&config)?).await
}

async fn patch_config(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
    Body(patch): Body<Map<String, Value>>,
) -> Result<Response> {
    let mut config = state
        .worker
        .connector_config(&name)
        .await
        .ok_or_else(|| not_found(&name))?;
    for (k, v) in &patch {
        if v.is_null() {
            config.remove(k);
        }
    }
    config.extend(props_of(&patch)?);
    apply_config(&state, &name, config).await
}

async fn status(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    require(&state, &name).await?;
    Ok(Json(status_of(&state, &name).await))
}

async fn tasks(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    let configs = state
        .worker
        .task_configs(&name)
        .await
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(json!(configs
        .into_iter()
        .enumerate()
        .map(|(i, c)| json!({"id": {"connector": name, "task": i}, "config": c}))
        .collect::<Vec<_>>())))
}

async fn task_status(
    State(state): State<Arc<RestState>>,
    Path((name, task)): Path<(String, u32)>,
) -> Result<Json<Value>> {
    require(&state, &name).await?;
    let (_, s) = state
        .worker
        .status_store()
        .tasks(&name)
        .into_iter()
        .find(|(id, _)| *id == task)
        .ok_or_else(|| RestError::not_found(format!("No status found for task {name}-{task}")))?;
    let mut v = status_json(&s);
    v["id"] = json!(task);
    Ok(Json(v))
}

/// sluice's own: what a task publishes (snapshot progress, slot health,
/// active topics).
async fn task_details(
    State(state): State<Arc<RestState>>,
    Path((name, task)): Path<(String, u32)>,
) -> Result<Json<BTreeMap<String, Value>>> {
    require(&state, &name).await?;
    Ok(Json(state.worker.status_store().task_details(&name, task)))
}

#[derive(Deserialize, Default)]
struct RestartQuery {
    #[serde(default, rename = "includeTasks")]
    include_tasks: Option<bool>,
    #[serde(default, rename = "onlyFailed")]
    only_failed: Option<bool>,
}

async fn restart(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
    query: std::result::Result<Query<RestartQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let Query(q) = query.map_err(|e| RestError::bad_request(e.body_text()))?;
    require(&state, &name).await?;
    let include_tasks = q.include_tasks.unwrap_or(false);
    let only_failed = q.only_failed.unwrap_or(false);
    if only_failed {
        // Only a failed connector or failed tasks are restarted.
        let store = state.worker.status_store();
        let failed = store
            .connector(&name)
            .is_some_and(|s| s.state.name() == "FAILED")
            || (include_tasks
                && store
                    .tasks(&name)
                    .iter()
                    .any(|(_, s)| s.state.name() == "FAILED"));
        if failed {
            state.worker.restart_connector(&name).await?;
        }
    } else {
        state.worker.restart_connector(&name).await?;
    }
    if !include_tasks && !only_failed {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok((StatusCode::ACCEPTED, Json(status_of(&state, &name).await)).into_response())
}

async fn restart_task(
    State(state): State<Arc<RestState>>,
    Path((name, task)): Path<(String, u32)>,
) -> Result<StatusCode> {
    let configs = state
        .worker
        .task_configs(&name)
        .await
        .ok_or_else(|| not_found(&name))?;
    if task as usize >= configs.len() {
        return Err(RestError::not_found(format!(
            "Task {name}-{task} not found"
        )));
    }
    // Tasks of a connector restart together (sluice's PostgreSQL connector
    // has one task).
    state.worker.restart_connector(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pause(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    require(&state, &name).await?;
    state.worker.pause_connector(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn resume(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    require(&state, &name).await?;
    state.worker.resume_connector(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn stop(State(state): State<Arc<RestState>>, Path(name): Path<String>) -> Result<StatusCode> {
    require(&state, &name).await?;
    state.worker.halt_connector(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    require(&state, &name).await?;
    state.worker.delete_connector(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_offsets(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    require(&state, &name).await?;
    let offsets = state.worker.connector_offsets(&name).await?;
    Ok(Json(json!({"offsets": offsets
        .into_iter()
        .map(|(p, o)| json!({"partition": p, "offset": o}))
        .collect::<Vec<_>>()})))
}

async fn require_stopped(state: &RestState, name: &str) -> Result<()> {
    require(state, name).await?;
    if state.worker.target_state(name).await != Some(TargetState::Stopped) {
        return Err(RestError::bad_request(format!(
            "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffsetsRequest {
    offsets: Vec<OffsetEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffsetEntry {
    partition: Map<String, Value>,
    offset: Option<Map<String, Value>>,
}

async fn alter_offsets(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
    Body(req): Body<OffsetsRequest>,
) -> Result<Json<Value>> {
    require_stopped(&state, &name).await?;
    if req.offsets.is_empty() {
        return Err(RestError::bad_request(
            "The offsets to be altered must not be empty",
        ));
    }
    let changes = req
        .offsets
        .into_iter()
        .map(|e| (e.partition, e.offset))
        .collect();
    state.worker.alter_offsets(&name, changes, false).await?;
    Ok(Json(
        json!({"message": "The offsets for this connector have been altered successfully"}),
    ))
}

async fn reset_offsets(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    require_stopped(&state, &name).await?;
    state.worker.alter_offsets(&name, Vec::new(), true).await?;
    Ok(Json(
        json!({"message": "The offsets for this connector have been reset successfully"}),
    ))
}

async fn topics(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    require(&state, &name).await?;
    let store = state.worker.status_store();
    let mut all: Vec<String> = Vec::new();
    for (id, _) in store.tasks(&name) {
        if let Some(Value::Array(t)) = store.task_details(&name, id).get("topics") {
            all.extend(t.iter().filter_map(|v| v.as_str().map(String::from)));
        }
    }
    all.sort();
    all.dedup();
    Ok(Json(json!({ name: {"topics": all} })))
}

async fn reset_topics(
    State(state): State<Arc<RestState>>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    require(&state, &name).await?;
    let store = state.worker.status_store();
    for (id, _) in store.tasks(&name) {
        store.put_task_detail(&name, id, "topics", json!([]));
    }
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
struct PluginsQuery {
    #[serde(default = "yes", rename = "connectorsOnly")]
    connectors_only: bool,
}

fn yes() -> bool {
    true
}

async fn plugins(
    State(state): State<Arc<RestState>>,
    query: std::result::Result<Query<PluginsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>> {
    let Query(q) = query.map_err(|e| RestError::bad_request(e.body_text()))?;
    let plugins = state.worker.plugins();
    let mut out: Vec<Value> = plugins
        .connectors()
        .iter()
        .map(|c| json!({"class": c.class_name(), "type": "source", "version": c.version()}))
        .collect();
    if !q.connectors_only {
        for t in plugins.transforms() {
            out.push(json!({"class": t.class_name(), "type": "transformation", "version": state.version}));
        }
        for p in plugins.predicates() {
            out.push(
                json!({"class": p.class_name(), "type": "predicate", "version": state.version}),
            );
        }
        for class in [
            "org.apache.kafka.connect.json.JsonConverter",
            "org.apache.kafka.connect.storage.StringConverter",
            "io.confluent.connect.avro.AvroConverter",
        ] {
            out.push(json!({"class": class, "type": "converter", "version": state.version}));
        }
    }
    Ok(Json(json!(out)))
}

/// The connector plugin named by its class, simple name or alias.
fn plugin_def(
    state: &RestState,
    plugin: &str,
) -> Result<(Arc<dyn sluice_connect_api::SourceConnector>, ConfigDef)> {
    let connector = state
        .worker
        .plugins()
        .connector(plugin)
        .cloned()
        .ok_or_else(|| {
            RestError::not_found(format!(
                "Failed to find any class that implements Connector and which name matches {plugin}"
            ))
        })?;
    let def = common_connector_config_def().merge(connector.config_def());
    Ok((connector, def))
}

fn definition(k: &ConfigKey) -> Value {
    let required = k.default.is_none() && !k.default_null;
    json!({
        "name": k.name,
        "type": k.config_type.name(),
        "required": required,
        "default_value": k.default,
        "importance": k.importance.name(),
        "documentation": k.documentation,
        "group": k.group,
        "width": "NONE",
        "display_name": k.name,
        "dependents": [],
        "order": -1,
    })
}

async fn plugin_config(
    State(state): State<Arc<RestState>>,
    Path(plugin): Path<String>,
) -> Result<Json<Value>> {
    let (_, def) = plugin_def(&state, &plugin)?;
    Ok(Json(json!(def
        .keys()
        .iter()
        .map(definition)
        .collect::<Vec<_>>())))
}

async fn validate(
    State(state): State<Arc<RestState>>,
    Path(plugin): Path<String>,
    Body(config): Body<Map<String, Value>>,
) -> Result<Json<Value>> {
    let (connector, def) = plugin_def(&state, &plugin)?;
    let mut props = props_of(&config)?;
    match props.get("connector.class") {
        None => {
            props.insert("connector.class".into(), connector.class_name().to_string());
        }
        Some(given) => {
            let same = state
                .worker
                .plugins()
                .connector(given)
                .is_some_and(|c| c.class_name() == connector.class_name());
            if !same {
                return Err(RestError::bad_request(format!(
                    "Included connector type {given} does not match request type {plugin}"
                )));
            }
        }
    }
    let mut values: Vec<KeyValidation> = def.validate(&props);
    let validation = state.worker.validate_connector(&props);
    let mut issues = validation.issues;
    // Keys nothing reads are reported too (the CLI warns about them): a
    // typo in a key name would otherwise pass silently.
    for key in validation.unknown_keys {
        issues.push(sluice_connect_api::ConfigIssue {
            message: format!(
                "Unknown configuration '{key}': {} does not use it",
                connector.class_name()
            ),
            key,
        });
    }
    for issue in issues {
        match values.iter_mut().find(|v| v.name == issue.key) {
            Some(v) => {
                if !v.errors.contains(&issue.message) {
                    v.errors.push(issue.message);
                }
            }
            None => values.push(KeyValidation {
                name: issue.key.clone(),
                value: props.get(&issue.key).cloned(),
                recommended_values: Vec::new(),
                errors: vec![issue.message],
            }),
        }
    }
    let error_count: usize = values.iter().map(|v| v.errors.len()).sum();
    let mut groups: Vec<String> = def.keys().iter().filter_map(|k| k.group.clone()).collect();
    groups.dedup();
    let configs: Vec<Value> = values
        .iter()
        .map(|v| {
            let def_json = def.key(&v.name).map(definition).unwrap_or_else(|| {
                json!({"name": v.name, "type": "STRING", "required": false, "default_value": null,
                       "importance": "LOW", "documentation": "", "group": null, "width": "NONE",
                       "display_name": v.name, "dependents": [], "order": -1})
            });
            json!({
                "definition": def_json,
                "value": {
                    "name": v.name,
                    "value": v.value,
                    "recommended_values": v.recommended_values,
                    "errors": v.errors,
                    "visible": true,
                }
            })
        })
        .collect();
    Ok(Json(json!({
        "name": connector.class_name(),
        "error_count": error_count,
        "groups": groups,
        "configs": configs,
    })))
}

fn log_control(state: &RestState) -> Result<&Arc<dyn crate::LogControl>> {
    state.logs.as_ref().ok_or_else(|| {
        RestError::new(
            StatusCode::NOT_IMPLEMENTED,
            "log levels cannot be changed in this process",
        )
    })
}

async fn loggers(State(state): State<Arc<RestState>>) -> Result<Json<Value>> {
    let logs = log_control(&state)?;
    let mut out = Map::new();
    for (logger, level) in logs.levels() {
        out.insert(logger, json!({"level": level}));
    }
    Ok(Json(Value::Object(out)))
}

async fn logger(
    State(state): State<Arc<RestState>>,
    Path(logger): Path<String>,
) -> Result<Json<Value>> {
    let logs = log_control(&state)?;
    let levels = logs.levels();
    let level = levels
        .iter()
        .find(|(l, _)| *l == logger)
        .or_else(|| levels.iter().find(|(l, _)| l == "root"))
        .map(|(_, v)| v.clone())
        .ok_or_else(|| RestError::not_found(format!("Logger {logger} not found.")))?;
    Ok(Json(json!({"level": level})))
}

#[derive(Deserialize)]
struct LevelRequest {
    level: String,
}

async fn set_logger(
    State(state): State<Arc<RestState>>,
    Path(logger): Path<String>,
    Body(req): Body<LevelRequest>,
) -> Result<Json<Value>> {
    let logs = log_control(&state)?;
    let changed = logs
        .set_level(&logger, &req.level)
        .map_err(RestError::bad_request)?;
    Ok(Json(json!(changed)))
}
