//! Kafka Connect's error body and the request guards (authentication).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::json;
use sluice_connect_api::{ConnectError, ErrorKind};

use crate::{Auth, RestState};

/// An error answered as Kafka Connect does: the HTTP status, and the body
/// `{"error_code": <status>, "message": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct RestError {
    pub status: StatusCode,
    pub message: String,
}

impl RestError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        RestError {
            status,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<ConnectError> for RestError {
    fn from(e: ConnectError) -> Self {
        let status = match e.kind() {
            ErrorKind::Config | ErrorKind::Data | ErrorKind::Unsupported => StatusCode::BAD_REQUEST,
            ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::Connection | ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        RestError::new(status, e.message().to_string())
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error_code": self.status.as_u16(), "message": self.message})),
        )
            .into_response()
    }
}

/// Unknown paths: 404 with Connect's body.
pub async fn not_found(req: Request) -> RestError {
    RestError::not_found(format!(
        "HTTP 404 Not Found: {} {}",
        req.method(),
        req.uri().path()
    ))
}

/// Checks `Authorization` when the worker configures REST authentication.
pub async fn authenticate(
    State(state): State<Arc<RestState>>,
    req: Request,
    next: Next,
) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let ok = match &state.auth {
        Auth::None => true,
        Auth::Basic { user, password } => given
            .as_deref()
            .and_then(|h| h.strip_prefix("Basic "))
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .is_some_and(|d| d == format!("{user}:{password}").as_bytes()),
        Auth::Bearer { token } => given
            .as_deref()
            .and_then(|h| h.strip_prefix("Bearer "))
            .is_some_and(|t| t.trim() == token),
    };
    if ok {
        next.run(req).await
    } else {
        let mut resp = RestError::new(
            StatusCode::UNAUTHORIZED,
            "Authentication required: send the credentials configured in rest.auth.*",
        )
        .into_response();
        let challenge = match &state.auth {
            Auth::Bearer { .. } => "Bearer",
            _ => "Basic realm=\"sluice\"",
        };
        if let Ok(v) = challenge.parse() {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}
