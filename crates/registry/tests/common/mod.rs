//! A minimal HTTP/1.1 client (one request per connection) and server
//! helpers for the registry's integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use serde_json::{json, Value};
use sluice_registry::RegistryServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const SR_JSON: &str = "application/vnd.schemaregistry.v1+json";

/// One answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// Asserts a Confluent error answer and returns its message.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: u64) -> String {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type.as_deref(), Some(SR_JSON), "{self:?}");
        let v = self.json();
        assert_eq!(v["error_code"], json!(code), "{self:?}");
        v["message"].as_str().expect("a message").to_string()
    }

    /// Asserts a 200 answer and returns its JSON.
    #[track_caller]
    pub fn expect_ok(&self) -> Value {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.content_type.as_deref(), Some(SR_JSON), "{self:?}");
        self.json()
    }
}

#[derive(Clone, Copy)]
pub struct Client {
    pub addr: SocketAddr,
}

impl Client {
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method != "GET" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read answer");
        parse_reply(&raw)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None, None).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.request("DELETE", path, None, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.request("POST", path, Some(SR_JSON), Some(&body.to_string()))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.request("PUT", path, Some(SR_JSON), Some(&body.to_string()))
            .await
    }

    /// `POST /subjects/{subject}/versions` → the id, panicking otherwise.
    pub async fn register(&self, subject: &str, schema: &str) -> u64 {
        let r = self
            .post(
                &format!("/subjects/{subject}/versions"),
                &json!({ "schema": schema }),
            )
            .await;
        let v = r.expect_ok();
        v["id"].as_u64().unwrap_or_else(|| panic!("no id: {v}"))
    }

    pub async fn try_register(&self, subject: &str, schema: &str) -> Reply {
        self.post(
            &format!("/subjects/{subject}/versions"),
            &json!({ "schema": schema }),
        )
        .await
    }

    pub async fn set_compatibility(&self, subject: &str, level: &str) {
        let r = self
            .put(
                &format!("/config/{subject}"),
                &json!({ "compatibility": level }),
            )
            .await;
        assert_eq!(r.expect_ok(), json!({ "compatibility": level }));
    }
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut payload = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut content_type = None;
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "content-type" {
            content_type = Some(value.to_string());
        }
        if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    if chunked {
        payload = dechunk(&payload);
    }
    Reply {
        status,
        content_type,
        body: String::from_utf8(payload).unwrap(),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// A running registry.
pub struct Running {
    pub client: Client,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops serving (and frees the port).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

pub async fn start(data: Option<PathBuf>) -> Running {
    let server = RegistryServer::bind("127.0.0.1:0".parse().unwrap(), data)
        .await
        .expect("bind");
    let client = Client {
        addr: server.local_addr(),
    };
    Running {
        client,
        task: server.spawn(),
    }
}

/// A record schema with the given fields (`name:type`, `name:type=default`).
pub fn record(name: &str, fields: &[&str]) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|f| {
            let (decl, default) = match f.split_once('=') {
                Some((d, v)) => (d, Some(serde_json::from_str::<Value>(v).unwrap())),
                None => (*f, None),
            };
            let (fname, ftype) = decl.split_once(':').unwrap();
            let mut field = json!({ "name": fname, "type": ftype });
            if let Some(d) = default {
                field["default"] = d;
            }
            field
        })
        .collect();
    json!({ "type": "record", "name": name, "fields": fields }).to_string()
}
