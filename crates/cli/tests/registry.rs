//! End-to-end: `sluice registry` serves the schema registry API, keeps its
//! data across restarts, stops cleanly on SIGTERM.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{terminate, ChildGuard};
use serde_json::{json, Value};

/// Starts `sluice registry ARGS` on a free port; returns it with its address.
fn start_registry(args: &[&str], log: &Path) -> (ChildGuard, String) {
    let child = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("registry")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(at) = text.find("listening on http://") {
            let rest = &text[at + "listening on http://".len()..];
            let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            return (child, addr);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "sluice registry did not start: {text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One HTTP/1.1 request; (status, JSON body).
fn call(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, payload) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/vnd.schemaregistry.v1+json"),
        "{head}"
    );
    (status, serde_json::from_str(payload).unwrap())
}

const SCHEMA: &str = r#"{"type":"record","name":"Value","namespace":"db.public.t","fields":[{"name":"id","type":"int"}]}"#;

#[test]
fn serves_keeps_data_across_restarts_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("registry.json");
    let data_arg = data.to_str().unwrap();
    let log = dir.path().join("sluice.log");

    let (mut child, addr) = start_registry(&["--data", data_arg], &log);
    assert_eq!(call(&addr, "GET", "/", None), (200, json!({})));
    let (status, body) = call(
        &addr,
        "POST",
        "/subjects/db.public.t-value/versions",
        Some(&json!({ "schema": SCHEMA })),
    );
    assert_eq!((status, body), (200, json!({"id": 1})));
    let (status, body) = call(&addr, "GET", "/schemas/ids/1", None);
    assert_eq!((status, body), (200, json!({ "schema": SCHEMA })));
    let (status, body) = call(&addr, "GET", "/subjects/x/versions", None);
    assert_eq!(status, 404);
    assert_eq!(body["error_code"], 40401);

    let exit = terminate(&mut child);
    assert!(exit.success(), "exit status {exit:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("stopped cleanly"), "{text}");
    assert!(!text.contains("kept in memory only"), "{text}");
    assert!(data.exists());

    // Same file, new process: the schema and its id are still there.
    let (mut child, addr) = start_registry(&["--data", data_arg], &log);
    let (status, body) = call(
        &addr,
        "GET",
        "/subjects/db.public.t-value/versions/latest",
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(body["id"], 1);
    assert_eq!(body["version"], 1);
    assert!(terminate(&mut child).success());
}

#[test]
fn without_data_it_warns_and_with_a_damaged_file_it_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sluice.log");
    let (mut child, addr) = start_registry(&[], &log);
    assert_eq!(call(&addr, "GET", "/subjects", None), (200, json!([])));
    assert!(terminate(&mut child).success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("kept in memory only"), "{text}");

    let data = dir.path().join("broken.json");
    std::fs::write(&data, "{ not json").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["registry", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: schema registry data file") && stderr.contains("broken.json"),
        "{stderr}"
    );
}
