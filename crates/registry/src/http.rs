//! The REST API: Confluent Schema Registry's paths, bodies and errors.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::compat::Compatibility;
use crate::error::ApiError;
use crate::registry::{Registry, SchemaRequest, VersionSpec, VersionView};
use crate::state::StoredSchema;

/// The content type of every answer.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// Request content types accepted (plus none at all).
const ACCEPTED_TYPES: [&str; 4] = [
    "application/vnd.schemaregistry.v1+json",
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/octet-stream",
];

type Shared = Arc<Mutex<Registry>>;
type Answer = Result<Response, ApiError>;

pub(crate) fn router(registry: Shared) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/subjects", get(list_subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route(
            "/subjects/{subject}/versions",
            get(list_versions).post(register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(get_version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(get_version_schema),
        )
        .route("/schemas/types", get(schema_types))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/versions", get(versions_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_by_id))
        .route(
            "/config",
            get(get_global_config)
                .put(put_global_config)
                .delete(delete_global_config),
        )
        .route(
            "/config/{subject}",
            get(get_subject_config)
                .put(put_subject_config)
                .delete(delete_subject_config),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(check_all_versions),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(check_version),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(registry)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        reply(
            status,
            &json!({"error_code": self.code, "message": self.message}),
        )
    }
}

fn reply(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(CONTENT_TYPE),
    );
    response
}

fn ok(body: &Value) -> Answer {
    Ok(reply(StatusCode::OK, body))
}

async fn not_found() -> ApiError {
    ApiError::new(404, "HTTP 404 Not Found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(405, "HTTP 405 Method Not Allowed")
}

/// A query flag: `?name=true` (any case); absent or anything else is false.
fn flag(query: &Option<String>, name: &str) -> bool {
    query.as_deref().unwrap_or("").split('&').any(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        k == name && v.eq_ignore_ascii_case("true")
    })
}

/// The JSON body, after checking the content type.
fn body_json(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("");
        let media = ct.split(';').next().unwrap_or("").trim();
        if !ACCEPTED_TYPES.iter().any(|t| t.eq_ignore_ascii_case(media)) {
            return Err(ApiError::new(415, "HTTP 415 Unsupported Media Type"));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(400, "Request body is empty"));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::new(400, format!("Malformed JSON: {e}")))
}

fn schema_request(headers: &HeaderMap, body: &Bytes) -> Result<SchemaRequest, ApiError> {
    let value = body_json(headers, body)?;
    serde_json::from_value(value)
        .map_err(|e| ApiError::new(422, format!("Unprocessable request body: {e}")))
}

fn id_param(text: &str) -> Result<u32, ApiError> {
    // Jersey answers a path parameter that is not an integer with 404.
    let id = text
        .trim()
        .parse::<i32>()
        .map_err(|_| ApiError::new(404, "HTTP 404 Not Found"))?;
    u32::try_from(id)
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::schema_id_not_found(i64::from(id)))
}

fn version_json(v: &VersionView) -> Value {
    let mut out = json!({
        "subject": v.subject,
        "version": v.version,
        "id": v.id,
    });
    add_schema_fields(&mut out, &v.schema);
    out
}

/// `schemaType` (only when not AVRO, as Confluent), `references` (when
/// any), `schema`.
fn add_schema_fields(out: &mut Value, schema: &StoredSchema) {
    let map = out.as_object_mut().expect("an object");
    if schema.schema_type != "AVRO" {
        map.insert("schemaType".into(), json!(schema.schema_type));
    }
    if !schema.references.is_empty() {
        map.insert("references".into(), json!(schema.references));
    }
    map.insert("schema".into(), json!(schema.schema));
}

/// The `compatibility` of a `PUT /config` body.
fn level_from_body(headers: &HeaderMap, body: &Bytes) -> Result<Compatibility, ApiError> {
    let value = body_json(headers, body)?;
    value
        .get("compatibility")
        .or_else(|| value.get("compatibilityLevel"))
        .and_then(Value::as_str)
        .and_then(Compatibility::parse)
        .ok_or_else(ApiError::invalid_compatibility)
}

async fn root() -> Answer {
    ok(&json!({}))
}

async fn list_subjects(State(reg): State<Shared>, RawQuery(q): RawQuery) -> Answer {
    let reg = reg.lock().await;
    ok(&json!(reg.subjects(flag(&q, "deleted"))))
}

async fn register(
    State(reg): State<Shared>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let req = schema_request(&headers, &body)?;
    let id = reg.lock().await.register(&subject, &req).await?;
    ok(&json!({ "id": id }))
}

async fn lookup(
    State(reg): State<Shared>,
    Path(subject): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let req = schema_request(&headers, &body)?;
    let reg = reg.lock().await;
    let v = reg.lookup(&subject, &req, flag(&q, "deleted"))?;
    ok(&version_json(&v))
}

async fn delete_subject(
    State(reg): State<Shared>,
    Path(subject): Path<String>,
    RawQuery(q): RawQuery,
) -> Answer {
    let deleted = reg
        .lock()
        .await
        .delete_subject(&subject, flag(&q, "permanent"))
        .await?;
    ok(&json!(deleted))
}

async fn list_versions(
    State(reg): State<Shared>,
    Path(subject): Path<String>,
    RawQuery(q): RawQuery,
) -> Answer {
    let reg = reg.lock().await;
    ok(&json!(reg.versions(&subject, flag(&q, "deleted"))?))
}

async fn get_version(
    State(reg): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Answer {
    let spec = VersionSpec::parse(&version)?;
    let reg = reg.lock().await;
    ok(&version_json(&reg.version(
        &subject,
        spec,
        flag(&q, "deleted"),
    )?))
}

async fn get_version_schema(
    State(reg): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Answer {
    let spec = VersionSpec::parse(&version)?;
    let reg = reg.lock().await;
    let v = reg.version(&subject, spec, flag(&q, "deleted"))?;
    raw(v.schema.schema)
}

fn raw(schema: String) -> Answer {
    let mut response = Response::new(Body::from(schema));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(CONTENT_TYPE),
    );
    Ok(response)
}

async fn delete_version(
    State(reg): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Answer {
    let spec = VersionSpec::parse(&version)?;
    let deleted = reg
        .lock()
        .await
        .delete_version(&subject, spec, flag(&q, "permanent"))
        .await?;
    ok(&json!(deleted))
}

async fn schema_types() -> Answer {
    ok(&json!(["AVRO"]))
}

async fn schema_by_id(State(reg): State<Shared>, Path(id): Path<String>) -> Answer {
    let id = id_param(&id)?;
    let schema = reg.lock().await.schema_by_id(id)?;
    let mut out = json!({});
    add_schema_fields(&mut out, &schema);
    ok(&out)
}

async fn raw_schema_by_id(State(reg): State<Shared>, Path(id): Path<String>) -> Answer {
    let id = id_param(&id)?;
    let schema = reg.lock().await.schema_by_id(id)?;
    raw(schema.schema)
}

async fn versions_by_id(
    State(reg): State<Shared>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Answer {
    let id = id_param(&id)?;
    let reg = reg.lock().await;
    reg.schema_by_id(id)?;
    let holders: Vec<Value> = reg
        .holders_of(id, flag(&q, "deleted"))
        .into_iter()
        .map(|(subject, version)| json!({"subject": subject, "version": version}))
        .collect();
    ok(&json!(holders))
}

async fn subjects_by_id(
    State(reg): State<Shared>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Answer {
    let id = id_param(&id)?;
    let reg = reg.lock().await;
    reg.schema_by_id(id)?;
    let mut subjects: Vec<String> = reg
        .holders_of(id, flag(&q, "deleted"))
        .into_iter()
        .map(|(subject, _)| subject)
        .collect();
    subjects.dedup();
    ok(&json!(subjects))
}

fn config_json(level: Compatibility) -> Value {
    json!({ "compatibilityLevel": level.as_str() })
}

async fn get_global_config(State(reg): State<Shared>) -> Answer {
    let level = reg.lock().await.get_config(None, true)?;
    ok(&config_json(level))
}

async fn put_global_config(State(reg): State<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let level = level_from_body(&headers, &body)?;
    reg.lock().await.set_config(None, level).await?;
    ok(&json!({ "compatibility": level.as_str() }))
}

async fn delete_global_config(State(reg): State<Shared>) -> Answer {
    let previous = reg.lock().await.delete_config(None).await?;
    ok(&config_json(previous))
}

async fn get_subject_config(
    State(reg): State<Shared>,
    Path(subject): Path<String>,
    RawQuery(q): RawQuery,
) -> Answer {
    let level = reg
        .lock()
        .await
        .get_config(Some(&subject), flag(&q, "defaultToGlobal"))?;
    ok(&config_json(level))
}

async fn put_subject_config(
    State(reg): State<Shared>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let level = level_from_body(&headers, &body)?;
    reg.lock().await.set_config(Some(&subject), level).await?;
    ok(&json!({ "compatibility": level.as_str() }))
}

async fn delete_subject_config(State(reg): State<Shared>, Path(subject): Path<String>) -> Answer {
    let previous = reg.lock().await.delete_config(Some(&subject)).await?;
    ok(&config_json(previous))
}

fn compatibility_answer(messages: Vec<String>, verbose: bool) -> Answer {
    let mut out = json!({ "is_compatible": messages.is_empty() });
    if verbose {
        out["messages"] = json!(messages);
    }
    ok(&out)
}

async fn check_version(
    State(reg): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let spec = VersionSpec::parse(&version)?;
    let req = schema_request(&headers, &body)?;
    let verbose = flag(&q, "verbose");
    let messages = reg
        .lock()
        .await
        .check_compatibility(&subject, Some(spec), &req, verbose)?;
    compatibility_answer(messages, verbose)
}

async fn check_all_versions(
    State(reg): State<Shared>,
    Path(subject): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let req = schema_request(&headers, &body)?;
    let verbose = flag(&q, "verbose");
    let messages = reg
        .lock()
        .await
        .check_compatibility(&subject, None, &req, verbose)?;
    compatibility_answer(messages, verbose)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_need_true() {
        let q = Some("permanent=true&deleted=TRUE&verbose=1".to_string());
        assert!(flag(&q, "permanent"));
        assert!(flag(&q, "deleted"));
        assert!(!flag(&q, "verbose"));
        assert!(!flag(&None, "permanent"));
    }
}
