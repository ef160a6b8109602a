//! A blocking client for a Confluent-compatible schema registry: the few
//! calls the Avro converter needs, with Confluent's paths, headers, basic
//! authentication and fail-over across the configured URLs.
//!
//! Every answer that cannot change is cached here (id of a schema under a
//! subject, schema of an id, version of an id under a subject), so each
//! call reaches the registry at most once per key. `use.latest.version`
//! answers are cached too (Confluent's `latest.cache.ttl.sec` defaults to
//! forever).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use sluice_connect_api::{ConnectError, ErrorKind};

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";
const ACCEPT: &str =
    "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; q=0.9, application/json; q=0.5";

/// One registry base URL, with the credentials its user-info part carried.
#[derive(Debug, Clone)]
struct BaseUrl {
    /// Without user info and without a trailing slash.
    url: String,
    user_info: Option<String>,
}

/// Where basic-auth credentials come from (`basic.auth.credentials.source`).
#[derive(Debug, Clone)]
pub(crate) enum Credentials {
    /// From each URL's user-info part (`http://user:pass@host`), if any.
    Url,
    /// `basic.auth.user.info` (`user:password`).
    UserInfo(String),
}

/// A schema as the registry returns it by id or as the latest version.
#[derive(Debug, Clone)]
pub(crate) struct RegisteredSchema {
    pub id: i32,
    pub schema: String,
}

pub(crate) struct RegistryClient {
    agent: ureq::Agent,
    urls: Vec<BaseUrl>,
    credentials: Credentials,
    normalize: bool,
    /// (subject, schema text) → id.
    ids: Mutex<HashMap<(String, Arc<str>), i32>>,
    /// id → schema text.
    schemas: Mutex<HashMap<i32, Arc<str>>>,
    /// (subject, id) → version (`None`: not registered under the subject).
    versions: Mutex<HashMap<(String, i32), Option<i32>>>,
    /// subject → latest schema.
    latest: Mutex<HashMap<String, RegisteredSchema>>,
    /// Requests sent (for tests and metrics).
    requests: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field(
                "urls",
                &self.urls.iter().map(|u| u.url.as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A registry failure: what the converter reports.
fn registry_error(kind: ErrorKind, message: String) -> ConnectError {
    ConnectError::new(kind, message)
}

/// Splits `http://user:pass@host:port/path` into the URL without user info
/// and the user info.
fn split_user_info(url: &str) -> Result<BaseUrl, String> {
    let url = url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("\"{url}\" is not a URL (expected http://host:port)"))?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!(
            "\"{url}\": unsupported scheme \"{scheme}\" (use http or https)"
        ));
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (user_info, host) = match authority.rfind('@') {
        Some(i) => (Some(authority[..i].to_string()), &authority[i + 1..]),
        None => (None, authority),
    };
    if host.is_empty() {
        return Err(format!("\"{url}\" has no host"));
    }
    let path = path.trim_end_matches('/');
    Ok(BaseUrl {
        url: format!("{scheme}://{host}{path}"),
        user_info,
    })
}

/// Percent-encodes a path segment (a subject name may hold any character).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a request wants from the answer, for error messages.
struct Call<'a> {
    method: &'static str,
    path: String,
    body: Option<String>,
    /// "register the schema under subject \"t-value\"" etc.
    what: &'a str,
}

enum Outcome {
    Ok(serde_json::Value),
    /// The registry answered with an error status.
    Status {
        url: String,
        status: u16,
        error_code: Option<i64>,
        message: String,
    },
}

impl RegistryClient {
    pub(crate) fn new(
        urls: &[String],
        credentials: Credentials,
        normalize: bool,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Result<Self, String> {
        let urls = urls
            .iter()
            .filter(|u| !u.trim().is_empty())
            .map(|u| split_user_info(u))
            .collect::<Result<Vec<_>, _>>()?;
        if urls.is_empty() {
            return Err("no schema registry URL given".into());
        }
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .timeout_connect(Some(connect_timeout))
            .timeout_recv_response(Some(read_timeout))
            .timeout_recv_body(Some(read_timeout))
            .user_agent("sluice-avro-converter")
            .build();
        Ok(RegistryClient {
            agent: config.new_agent(),
            urls,
            credentials,
            normalize,
            ids: Mutex::new(HashMap::new()),
            schemas: Mutex::new(HashMap::new()),
            versions: Mutex::new(HashMap::new()),
            latest: Mutex::new(HashMap::new()),
            requests: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The configured base URLs (without credentials).
    pub(crate) fn urls(&self) -> Vec<String> {
        self.urls.iter().map(|u| u.url.clone()).collect()
    }

    /// Requests sent so far.
    pub(crate) fn request_count(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn auth_header(&self, base: &BaseUrl) -> Option<String> {
        let info = match &self.credentials {
            Credentials::Url => base.user_info.clone()?,
            Credentials::UserInfo(info) => info.clone(),
        };
        if info.is_empty() {
            return None;
        }
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(info.as_bytes())
        ))
    }

    /// Sends `call` to the first URL that answers: connection failures and
    /// the statuses Confluent's client fails over on (408, 429, 500, 502,
    /// 503, 504) move on to the next URL.
    fn send(&self, call: &Call<'_>) -> Result<Outcome, ConnectError> {
        let mut last_error = None;
        for base in &self.urls {
            let url = format!("{}{}", base.url, call.path);
            self.requests
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let auth = self.auth_header(base);
            let result = match (call.method, &call.body) {
                ("POST", Some(body)) => {
                    let mut req = self
                        .agent
                        .post(&url)
                        .header("Content-Type", CONTENT_TYPE)
                        .header("Accept", ACCEPT);
                    if let Some(a) = &auth {
                        req = req.header("Authorization", a);
                    }
                    req.send(body.as_bytes())
                }
                _ => {
                    let mut req = self.agent.get(&url).header("Accept", ACCEPT);
                    if let Some(a) = &auth {
                        req = req.header("Authorization", a);
                    }
                    req.call()
                }
            };
            let mut response = match result {
                Ok(r) => r,
                Err(e) => {
                    let kind = match &e {
                        ureq::Error::Timeout(_) => ErrorKind::Timeout,
                        ureq::Error::BadUri(_) => ErrorKind::Config,
                        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                            ErrorKind::Timeout
                        }
                        _ => ErrorKind::Connection,
                    };
                    let err = registry_error(
                        kind,
                        format!(
                            "AvroConverter could not reach the schema registry at {} to {} ({} {}): {e}",
                            base.url, call.what, call.method, call.path
                        ),
                    );
                    if kind == ErrorKind::Config {
                        return Err(err);
                    }
                    last_error = Some(err);
                    continue;
                }
            };
            let status = response.status().as_u16();
            let text = response
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_string()
                .unwrap_or_default();
            if status == 200 || status == 207 {
                let json = serde_json::from_str(&text).map_err(|e| {
                    registry_error(
                        ErrorKind::Protocol,
                        format!(
                            "the schema registry at {} answered {} {} with invalid JSON: {e}",
                            base.url, call.method, call.path
                        ),
                    )
                })?;
                return Ok(Outcome::Ok(json));
            }
            let (error_code, message) = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => (
                    v.get("error_code").and_then(serde_json::Value::as_i64),
                    v.get("message")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| text.clone()),
                ),
                Err(_) => (
                    None,
                    format!("Unable to parse error message from schema registry: '({text})'"),
                ),
            };
            let outcome = Outcome::Status {
                url: base.url.clone(),
                status,
                error_code,
                message,
            };
            if matches!(status, 408 | 429 | 500 | 502 | 503 | 504) {
                last_error = Some(self.status_error(call, outcome));
                continue;
            }
            return Ok(outcome);
        }
        Err(last_error.expect("at least one URL"))
    }

    /// The error for an error status.
    fn status_error(&self, call: &Call<'_>, outcome: Outcome) -> ConnectError {
        let Outcome::Status {
            url,
            status,
            error_code,
            message,
        } = outcome
        else {
            return ConnectError::internal("status_error on a success");
        };
        let kind = match status {
            401 => ErrorKind::Authentication,
            403 => ErrorKind::Permission,
            408 | 504 => ErrorKind::Timeout,
            429 | 500..=599 => ErrorKind::Unavailable,
            _ => ErrorKind::Data,
        };
        let code = error_code
            .map(|c| format!(", error_code {c}"))
            .unwrap_or_default();
        registry_error(
            kind,
            format!(
                "the schema registry at {url} refused to {} ({} {}): HTTP {status}{code}: {message}",
                call.what, call.method, call.path
            ),
        )
    }

    fn expect_ok(&self, call: &Call<'_>) -> Result<serde_json::Value, ConnectError> {
        match self.send(call)? {
            Outcome::Ok(v) => Ok(v),
            other => Err(self.status_error(call, other)),
        }
    }

    fn schema_body(schema: &str) -> String {
        serde_json::json!({"schemaType": "AVRO", "schema": schema}).to_string()
    }

    fn id_of(v: &serde_json::Value, call: &Call<'_>) -> Result<i32, ConnectError> {
        v.get("id")
            .and_then(serde_json::Value::as_i64)
            .and_then(|i| i32::try_from(i).ok())
            .ok_or_else(|| {
                registry_error(
                    ErrorKind::Protocol,
                    format!(
                        "the schema registry's answer to {} {} has no schema id: {v}",
                        call.method, call.path
                    ),
                )
            })
    }

    /// `POST /subjects/{subject}/versions`: registers (or finds) the schema
    /// and returns its id.
    pub(crate) fn register(&self, subject: &str, schema: &Arc<str>) -> Result<i32, ConnectError> {
        let key = (subject.to_string(), schema.clone());
        if let Some(id) = lock(&self.ids).get(&key) {
            return Ok(*id);
        }
        let what = format!("register the Avro schema under subject \"{subject}\"");
        let call = Call {
            method: "POST",
            path: format!(
                "/subjects/{}/versions?normalize={}",
                encode_segment(subject),
                self.normalize
            ),
            body: Some(Self::schema_body(schema)),
            what: &what,
        };
        let v = self.expect_ok(&call)?;
        let id = Self::id_of(&v, &call)?;
        lock(&self.ids).insert(key, id);
        Ok(id)
    }

    /// `POST /subjects/{subject}`: the id of an already registered schema.
    pub(crate) fn lookup(&self, subject: &str, schema: &Arc<str>) -> Result<i32, ConnectError> {
        let key = (subject.to_string(), schema.clone());
        if let Some(id) = lock(&self.ids).get(&key) {
            return Ok(*id);
        }
        let what = format!(
            "look up the Avro schema under subject \"{subject}\" (auto.register.schemas=false)"
        );
        let call = Call {
            method: "POST",
            path: format!(
                "/subjects/{}?normalize={}&deleted=false",
                encode_segment(subject),
                self.normalize
            ),
            body: Some(Self::schema_body(schema)),
            what: &what,
        };
        let v = self.expect_ok(&call)?;
        let id = Self::id_of(&v, &call)?;
        if let Some(version) = v
            .get("version")
            .and_then(serde_json::Value::as_i64)
            .and_then(|x| i32::try_from(x).ok())
        {
            lock(&self.versions).insert((subject.to_string(), id), Some(version));
        }
        lock(&self.ids).insert(key, id);
        Ok(id)
    }

    /// `GET /subjects/{subject}/versions/latest`.
    pub(crate) fn latest(&self, subject: &str) -> Result<RegisteredSchema, ConnectError> {
        if let Some(s) = lock(&self.latest).get(subject) {
            return Ok(s.clone());
        }
        let what =
            format!("get the latest schema of subject \"{subject}\" (use.latest.version=true)");
        let call = Call {
            method: "GET",
            path: format!("/subjects/{}/versions/latest", encode_segment(subject)),
            body: None,
            what: &what,
        };
        let v = self.expect_ok(&call)?;
        let id = Self::id_of(&v, &call)?;
        check_schema_type(&v, &call)?;
        let schema = v
            .get("schema")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| {
                registry_error(
                    ErrorKind::Protocol,
                    format!(
                        "the schema registry's answer to GET {} has no schema",
                        call.path
                    ),
                )
            })?
            .to_string();
        if let Some(version) = v
            .get("version")
            .and_then(serde_json::Value::as_i64)
            .and_then(|x| i32::try_from(x).ok())
        {
            lock(&self.versions).insert((subject.to_string(), id), Some(version));
        }
        let found = RegisteredSchema { id, schema };
        lock(&self.latest).insert(subject.to_string(), found.clone());
        lock(&self.schemas).insert(id, Arc::from(found.schema.as_str()));
        Ok(found)
    }

    /// `GET /schemas/ids/{id}`: the schema text of an id.
    pub(crate) fn schema_by_id(&self, id: i32, subject: &str) -> Result<Arc<str>, ConnectError> {
        if let Some(s) = lock(&self.schemas).get(&id) {
            return Ok(s.clone());
        }
        let what = format!("get the schema with id {id}");
        let call = Call {
            method: "GET",
            path: format!(
                "/schemas/ids/{id}?fetchMaxId=false&subject={}",
                encode_segment(subject)
            ),
            body: None,
            what: &what,
        };
        let v = self.expect_ok(&call)?;
        check_schema_type(&v, &call)?;
        if v.get("references")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|r| !r.is_empty())
        {
            return Err(ConnectError::unsupported(format!(
                "the schema with id {id} uses schema references, which sluice's AvroConverter does not support"
            )));
        }
        let schema: Arc<str> = v
            .get("schema")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| {
                registry_error(
                    ErrorKind::Protocol,
                    format!(
                        "the schema registry's answer to GET {} has no schema",
                        call.path
                    ),
                )
            })?
            .into();
        lock(&self.schemas).insert(id, schema.clone());
        Ok(schema)
    }

    /// The version of schema `id` under `subject` (`POST /subjects/{subject}`),
    /// `None` when the schema is not registered under that subject.
    pub(crate) fn version_of(
        &self,
        subject: &str,
        id: i32,
        schema: &str,
    ) -> Result<Option<i32>, ConnectError> {
        let key = (subject.to_string(), id);
        if let Some(v) = lock(&self.versions).get(&key) {
            return Ok(*v);
        }
        let what = format!("look up the version of schema id {id} under subject \"{subject}\"");
        let call = Call {
            method: "POST",
            path: format!(
                "/subjects/{}?normalize=false&deleted=false",
                encode_segment(subject)
            ),
            body: Some(Self::schema_body(schema)),
            what: &what,
        };
        let version = match self.send(&call)? {
            Outcome::Ok(v) => v
                .get("version")
                .and_then(serde_json::Value::as_i64)
                .and_then(|x| i32::try_from(x).ok()),
            Outcome::Status { status: 404, .. } => None,
            other => return Err(self.status_error(&call, other)),
        };
        lock(&self.versions).insert(key, version);
        Ok(version)
    }
}

fn check_schema_type(v: &serde_json::Value, call: &Call<'_>) -> Result<(), ConnectError> {
    match v.get("schemaType").and_then(serde_json::Value::as_str) {
        None => Ok(()),
        Some(t) if t.eq_ignore_ascii_case("AVRO") => Ok(()),
        Some(t) => Err(ConnectError::data(format!(
            "the schema returned by {} {} is a {t} schema, not Avro",
            call.method, call.path
        ))),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_split_off() {
        let b = split_user_info("http://fred:s%40cret@reg.example:8081/").unwrap();
        assert_eq!(b.url, "http://reg.example:8081");
        assert_eq!(b.user_info.as_deref(), Some("fred:s%40cret"));
        let b = split_user_info(" https://reg:8081/base ").unwrap();
        assert_eq!(b.url, "https://reg:8081/base");
        assert!(b.user_info.is_none());
        assert!(split_user_info("reg:8081").is_err());
        assert!(split_user_info("ftp://reg").is_err());
        assert_eq!(encode_segment("a b/c-value"), "a%20b%2Fc-value");
    }
}
