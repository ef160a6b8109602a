//! The status page (`/ui`) in a real headless browser: Debian's chromium,
//! driven by chromedriver over the W3C WebDriver HTTP protocol. `sluice
//! standalone` runs a FileStreamSource connector; the page must render, show
//! it RUNNING, and its Pause / Resume buttons must pause and resume it.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`
//! (scripts/test.sh installs them); fails — never skips — without them.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{terminate, ChildGuard};
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C name of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

// ---- a minimal HTTP/1.1 client -------------------------------------------

/// One request to `addr` (`host:port`); returns (status, body).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, String), String> {
    let fail = |e: std::io::Error| format!("{method} http://{addr}{path}: {e}");
    let mut stream = TcpStream::connect(addr).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(fail)?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(fail)?;
    // Read the head, then exactly the body its framing announces (chromedriver
    // keeps the connection open despite `Connection: close`).
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = find(&raw, b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).map_err(fail)?;
        if n == 0 {
            return Err(format!(
                "{method} http://{addr}{path}: connection closed before an HTTP answer: {:?}",
                String::from_utf8_lossy(&raw)
            ));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} http://{addr}{path}: bad status line: {head:?}"))?;
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head
        .lines()
        .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"));
    let mut body = raw.split_off(head_end);
    loop {
        let complete = match length {
            Some(len) => body.len() >= len,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if complete {
            break;
        }
        let n = stream.read(&mut buf).map_err(fail)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    if let Some(len) = length {
        body.truncate(len);
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    Ok((status, if chunked { dechunk(&body) } else { body }))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let size =
            usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        s = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

// ---- WebDriver -----------------------------------------------------------

/// chromedriver on a port it picked itself (`--port=0`), in a process
/// group of its own that the browsers it starts inherit: dropping it ends
/// them all, even when a session could not be closed.
struct Driver {
    child: ChildGuard,
    addr: String,
    log: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

fn start_driver(dir: &Path) -> Driver {
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(path).exists(),
            "{path} is missing: install Debian's `{package}` package \
             (apt-get install chromium chromium-driver; scripts/test.sh does it). \
             This test needs a real browser and does not skip."
        );
    }
    let out = dir.join("chromedriver.out");
    let log = dir.join("chromedriver.log");
    let child = ChildGuard(
        Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}")),
    );
    let start = Instant::now();
    let marker = "started successfully on port ";
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if let Some(at) = text.find(marker) {
            let port: String = text[at + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if !port.is_empty() {
                return Driver {
                    child,
                    addr: format!("127.0.0.1:{port}"),
                    log,
                };
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "chromedriver did not start: {text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A browser session; ends it (and so closes chromium) when dropped.
struct Session {
    driver: String,
    id: String,
    /// sluice's and chromedriver's logs, shown when something fails.
    sluice_log: PathBuf,
    driver_log: PathBuf,
}

/// The last `n` lines of a file.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Session {
    fn new(driver: &Driver, profile: &Path, sluice_log: &Path) -> Session {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-dev-shm-usage", "--no-first-run", "--no-proxy-server",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let (status, body) =
            http(&driver.addr, "POST", "/session", Some(&caps)).unwrap_or_else(|e| {
                panic!(
                    "chromedriver: {e}\n--- chromedriver's log ---\n{}",
                    tail(&driver.log, 40)
                )
            });
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let id = v["value"]["sessionId"].as_str().unwrap_or_else(|| {
            panic!(
                "chromedriver could not start chromium (HTTP {status}): {body}\n\
                 --- chromedriver's log ---\n{}",
                tail(&driver.log, 40)
            )
        });
        Session {
            driver: driver.addr.clone(),
            id: id.to_string(),
            sluice_log: sluice_log.to_path_buf(),
            driver_log: driver.log.clone(),
        }
    }

    /// One WebDriver command; its `value`, or the WebDriver error.
    fn try_cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.id);
        let (status, text) = http(&self.driver, method, &path, body.as_ref())?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{method} {path}: HTTP {status}, not JSON ({e}): {text}"))?;
        if status == 200 {
            Ok(v["value"].clone())
        } else {
            Err(format!(
                "{method} {path}: HTTP {status}: {} {}",
                v["value"]["error"], v["value"]["message"]
            ))
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_cmd(method, path, body)
            .unwrap_or_else(|e| self.fail(&format!("WebDriver: {e}")))
    }

    /// Runs `script` (a function body) in the page.
    fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// The element matching `css`, if there is one.
    fn find(&self, css: &str) -> Option<String> {
        match self.try_cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        ) {
            Ok(v) => Some(
                v[ELEMENT]
                    .as_str()
                    .unwrap_or_else(|| self.fail(&format!("find {css:?}: unexpected answer {v}")))
                    .to_string(),
            ),
            Err(e) if e.contains("no such element") => None,
            Err(e) => self.fail(&format!("find {css:?}: {e}")),
        }
    }

    /// The trimmed text of the element matching `css`, if there is one.
    fn text(&self, css: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : null;",
            json!([css]),
        )
        .as_str()
        .map(str::to_string)
    }

    /// A real click (WebDriver's element click: scrolls it into view, checks
    /// it is visible and not covered, sends the mouse events).
    fn click(&self, css: &str) {
        let id = self
            .find(css)
            .unwrap_or_else(|| self.fail(&format!("no element {css:?} to click")));
        self.cmd("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    fn html(&self) -> String {
        self.try_cmd("GET", "/source", None)
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|e| format!("(no page source: {e})"))
    }

    /// Panics with `msg`, the page's HTML, the browser's console and the
    /// end of sluice's log.
    fn fail(&self, msg: &str) -> ! {
        panic!(
            "{msg}\n\n--- the page's HTML ---\n{}\n--- the browser's console ---\n{}\n\
             --- end of sluice's log ---\n{}",
            self.html(),
            self.console(),
            tail(&self.sluice_log, 40)
        );
    }

    /// What the page logged (JavaScript errors, failed requests).
    fn console(&self) -> String {
        match self.try_cmd("POST", "/se/log", Some(json!({"type": "browser"}))) {
            Ok(Value::Array(entries)) => entries
                .iter()
                .map(|e| format!("{} {}", e["level"], e["message"]))
                .collect::<Vec<_>>()
                .join("\n"),
            Ok(other) => other.to_string(),
            Err(e) => format!(
                "(none: {e})\n--- chromedriver's log ---\n{}",
                tail(&self.driver_log, 20)
            ),
        }
    }

    /// Polls `f` until it answers, at most `timeout`.
    fn wait<T>(&self, what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            if start.elapsed() > timeout {
                self.fail(&format!("timed out after {timeout:?} waiting for {what}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the page shows `connector` in `state`.
    fn wait_state(&self, connector: &str, state: &str) {
        let css = format!("tr[data-connector=\"{connector}\"] .conn-state");
        let mut last = None;
        self.wait(
            &format!("the page to show {connector} as {state}"),
            Duration::from_secs(20),
            || {
                last = self.text(&css);
                (last.as_deref() == Some(state)).then_some(())
            },
        );
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = http(
            &self.driver,
            "DELETE",
            &format!("/session/{}", self.id),
            None,
        );
    }
}

// ---- sluice ----------------------------------------------------------------

/// Waits for `REST API listening on http://ADDR` in sluice's log.
fn rest_addr(log: &Path) -> String {
    let start = Instant::now();
    let marker = "REST API listening on http://";
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(at) = text.find(marker) {
            return text[at + marker.len()..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "sluice's REST API did not start: {text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `GET /connectors/{name}/status` → the connector's state.
fn rest_state(addr: &str, name: &str) -> Option<String> {
    let (status, body) = http(addr, "GET", &format!("/connectors/{name}/status"), None).ok()?;
    if status != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&body).ok()?;
    v["connector"]["state"].as_str().map(str::to_string)
}

#[test]
fn status_page_shows_and_controls_a_connector() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lines.txt");
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&format!("line {i}\n"));
    }
    std::fs::write(&input, text).unwrap();
    let worker = dir.path().join("worker.properties");
    std::fs::write(
        &worker,
        format!(
            "offset.storage.file.filename={}\noffset.flush.interval.ms=100\n\
             rest.host.name=127.0.0.1\nrest.port=0\n\
             sink.type=file\nsink.file.path={}\nsink.file.fsync=false\n",
            dir.path().join("offsets.json").display(),
            dir.path().join("events.jsonl").display()
        ),
    )
    .unwrap();
    let connector = dir.path().join("lines.json");
    std::fs::write(
        &connector,
        json!({"name": "lines", "config": {
            "connector.class": "FileStreamSource",
            "file": input.display().to_string(),
            "topic": "lines"}})
        .to_string(),
    )
    .unwrap();
    let log = dir.path().join("sluice.log");
    let mut sluice = common::start_sluice(&worker, &connector, &log, "info");
    let addr = rest_addr(&log);

    let driver = start_driver(dir.path());
    let profile = tempfile::tempdir().unwrap();
    let browser = Session::new(&driver, profile.path(), &log);
    browser.cmd(
        "POST",
        "/url",
        Some(json!({"url": format!("http://{addr}/ui")})),
    );

    // The page renders: its title, the table and its headers.
    let title = browser.cmd("GET", "/title", None);
    if title != "sluice — status" {
        browser.fail(&format!("unexpected title {title}"));
    }
    if browser.find("table#connectors thead th").is_none() {
        browser.fail("no connectors table");
    }
    browser.wait_state("lines", "RUNNING");
    let class = browser.text("tr[data-connector=\"lines\"] .class");
    if !class.as_deref().unwrap_or("").contains("FileStreamSource") {
        browser.fail(&format!("connector class not shown: {class:?}"));
    }
    let task = browser.text("tr[data-connector=\"lines\"] [data-task=\"0\"] .task-state");
    if task.as_deref() != Some("RUNNING") {
        browser.fail(&format!("task 0 not shown as RUNNING: {task:?}"));
    }

    // Events/s: a number once /metrics has two samples, else "–".
    let rate = browser.text("tr[data-connector=\"lines\"] .col-rate");
    let rate_ok = rate
        .as_deref()
        .is_some_and(|r| r == "–" || r.replace(',', "").parse::<f64>().is_ok());
    if !rate_ok {
        browser.fail(&format!("bad events/s cell: {rate:?}"));
    }

    // Pause: the page and the API agree.
    browser.click("tr[data-connector=\"lines\"] button[data-action=\"pause\"]");
    browser.wait_state("lines", "PAUSED");
    let state = rest_state(&addr, "lines");
    if state.as_deref() != Some("PAUSED") {
        browser.fail(&format!(
            "the page says PAUSED, GET /connectors/lines/status says {state:?}"
        ));
    }

    // Resume.
    browser.click("tr[data-connector=\"lines\"] button[data-action=\"resume\"]");
    browser.wait_state("lines", "RUNNING");
    let state = rest_state(&addr, "lines");
    if state.as_deref() != Some("RUNNING") {
        browser.fail(&format!(
            "the page says RUNNING, GET /connectors/lines/status says {state:?}"
        ));
    }

    // No API error shown.
    let alerts = browser.text("#alert").unwrap_or_default()
        + &browser.text("#action-alert").unwrap_or_default();
    if !alerts.is_empty() {
        browser.fail(&format!("the page shows an error: {alerts}"));
    }

    drop(browser);
    drop(driver);
    let status = terminate(&mut sluice);
    assert!(status.success(), "sluice exited with {status}");
}
