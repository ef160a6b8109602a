//! End-to-end tests of `sluice standalone` with FileStreamSource and the
//! file sink: ordering, clean stop, kill -9 and restart, config errors.

mod common;

use common::{terminate, ChildGuard};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn sluice() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sluice"));
    c.env("RUST_LOG", "info");
    c
}

struct Setup {
    dir: tempfile::TempDir,
    input: PathBuf,
    output: PathBuf,
    offsets: PathBuf,
    worker: PathBuf,
    connector: PathBuf,
}

fn setup(lines: usize, flush_ms: u64) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lines.txt");
    let output = dir.path().join("out/events.jsonl");
    let offsets = dir.path().join("offsets.json");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for i in 0..lines {
        writeln!(f, "line {i:07} {}", "x".repeat(40)).unwrap();
    }
    f.flush().unwrap();
    let worker = dir.path().join("worker.properties");
    std::fs::write(
        &worker,
        format!(
            "key.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\noffset.storage.file.filename={}\noffset.flush.interval.ms={flush_ms}\nrest.port=0\nsink.type=file\nsink.file.path={}\nsink.file.fsync=false\n",
            offsets.display(),
            output.display()
        ),
    )
    .unwrap();
    let connector = dir.path().join("lines.json");
    std::fs::write(
        &connector,
        serde_json::json!({"name": "lines", "config": {
            "connector.class": "FileStreamSource", "file": input.display().to_string(), "topic": "lines", "batch.size": "500",
            "max.batch.size": "500"}})
        .to_string(),
    )
    .unwrap();
    Setup {
        dir,
        input,
        output,
        offsets,
        worker,
        connector,
    }
}

fn start(s: &Setup) -> ChildGuard {
    common::start_sluice(
        &s.worker,
        &s.connector,
        &s.dir.path().join("sluice.log"),
        "info",
    )
}

fn output_values(s: &Setup) -> Vec<String> {
    let text = std::fs::read_to_string(&s.output).unwrap_or_default();
    // Only complete lines: sluice may be writing the next one right now.
    let text = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    text.lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}"));
            assert_eq!(v["topic"], "lines");
            assert_eq!(v["key"], serde_json::Value::Null);
            v["value"].as_str().unwrap().to_string()
        })
        .collect()
}

fn count_lines(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|c| **c == b'\n').count())
        .unwrap_or(0)
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn committed_position(s: &Setup) -> u64 {
    let Ok(bytes) = std::fs::read(&s.offsets) else {
        return 0;
    };
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    doc["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["key"][0] == "lines" && e["key"][1]["filename"] == s.input.display().to_string()
        })
        .map(|e| e["value"]["position"].as_u64().unwrap())
        .unwrap_or(0)
}

fn input_lines(s: &Setup) -> Vec<String> {
    std::fs::read_to_string(&s.input)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn log(s: &Setup) -> String {
    std::fs::read_to_string(s.dir.path().join("sluice.log")).unwrap_or_default()
}

#[test]
fn delivers_every_line_in_order_and_a_clean_restart_re_emits_nothing() {
    let s = setup(20_000, 100);
    let mut child = start(&s);
    wait_until("all lines delivered", Duration::from_secs(60), || {
        count_lines(&s.output) >= 20_000
    });
    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status:?}\n{}", log(&s));
    assert_eq!(output_values(&s), input_lines(&s));
    let size = std::fs::metadata(&s.input).unwrap().len();
    assert_eq!(
        committed_position(&s),
        size,
        "clean stop commits the last delivered line"
    );

    // Restart: nothing is emitted again.
    let mut child = start(&s);
    wait_until(
        "the restarted worker to start its task",
        Duration::from_secs(30),
        || log(&s).matches("connector started").count() >= 2,
    );
    std::thread::sleep(Duration::from_millis(1500));
    let status = terminate(&mut child);
    assert!(status.success());
    assert_eq!(
        count_lines(&s.output),
        20_000,
        "restart re-emitted lines\n{}",
        log(&s)
    );

    // New lines appended while stopped are picked up after the last offset.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&s.input)
        .unwrap()
        .write_all(b"one more\n")
        .unwrap();
    let mut child = start(&s);
    wait_until("the new line", Duration::from_secs(30), || {
        count_lines(&s.output) >= 20_001
    });
    assert!(terminate(&mut child).success());
    let values = output_values(&s);
    assert_eq!(values.len(), 20_001);
    assert_eq!(values.last().unwrap(), "one more");
}

#[test]
fn kill_9_during_delivery_loses_nothing_and_duplicates_only_after_the_committed_offset() {
    let total = 400_000;
    let s = setup(total, 50);
    let input = input_lines(&s);
    let mut child = start(&s);
    // Kill while delivery is in progress, after at least one commit.
    wait_until("delivery in progress", Duration::from_secs(60), || {
        count_lines(&s.output) >= 20_000 && committed_position(&s) > 0
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let first = output_values(&s);
    let committed = committed_position(&s);
    assert!(
        first.len() < total,
        "the kill came too late to test anything ({} lines delivered)",
        first.len()
    );
    // Everything delivered before the kill is an in-order prefix of the input.
    assert_eq!(first[..], input[..first.len()]);
    // The committed offset is never past a delivered line: find the line it points after.
    let mut pos = 0u64;
    let mut committed_lines = 0usize;
    for line in &input {
        if pos == committed {
            break;
        }
        pos += line.len() as u64 + 1;
        committed_lines += 1;
    }
    assert_eq!(pos, committed, "committed offset is not at a line boundary");
    assert!(
        committed_lines <= first.len(),
        "committed offset {committed_lines} is past the delivered lines {}",
        first.len()
    );

    // Restart: it resumes exactly after the committed offset.
    let mut child = start(&s);
    wait_until("the rest delivered", Duration::from_secs(120), || {
        count_lines(&s.output) >= first.len() + (total - committed_lines)
    });
    assert!(terminate(&mut child).success(), "{}", log(&s));
    let all = output_values(&s);
    assert_eq!(
        all.len(),
        first.len() + (total - committed_lines),
        "unexpected number of lines after restart"
    );
    assert_eq!(
        all[first.len()..],
        input[committed_lines..],
        "the second run must start right after the committed offset"
    );
    eprintln!(
        "kill -9 after {} delivered lines, {} committed: {} duplicates",
        first.len(),
        committed_lines,
        first.len() - committed_lines
    );
}

fn run_expect_failure(worker: &Path, connector: &Path) -> String {
    let out = sluice()
        .arg("standalone")
        .arg(worker)
        .arg(connector)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(
        error_lines.len(),
        1,
        "exactly one error line expected:\n{stderr}"
    );
    error_lines[0].to_string()
}

#[test]
fn unknown_connector_class_exits_non_zero_naming_key_and_file() {
    let s = setup(1, 100);
    std::fs::write(&s.connector, r#"{"name": "x", "config": {"connector.class": "com.example.NoSuchConnector", "topic": "t"}}"#).unwrap();
    let line = run_expect_failure(&s.worker, &s.connector);
    assert!(line.contains("lines.json"), "{line}");
    assert!(line.contains("connector.class"), "{line}");
    assert!(line.contains("com.example.NoSuchConnector"), "{line}");
}

#[test]
fn missing_required_key_and_unparsable_file_name_key_and_file() {
    let s = setup(1, 100);
    std::fs::write(
        &s.connector,
        r#"{"name": "x", "config": {"connector.class": "FileStreamSource"}}"#,
    )
    .unwrap();
    let line = run_expect_failure(&s.worker, &s.connector);
    assert!(
        line.contains("lines.json") && line.contains("topic"),
        "{line}"
    );

    std::fs::write(&s.connector, "{\"name\": ").unwrap();
    let line = run_expect_failure(&s.worker, &s.connector);
    assert!(
        line.contains("lines.json") && line.contains("JSON"),
        "{line}"
    );

    let worker = s.dir.path().join("bad-worker.properties");
    std::fs::write(&worker, "offset.flush.interval.ms=soon\n").unwrap();
    let line = run_expect_failure(&worker, &s.connector);
    assert!(
        line.contains("bad-worker.properties") && line.contains("offset.flush.interval.ms"),
        "{line}"
    );
}

#[test]
fn unknown_keys_are_warned_about_without_their_values() {
    let s = setup(3, 100);
    std::fs::write(
        &s.connector,
        serde_json::json!({"name": "lines", "config": {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "file": s.input.display().to_string(), "topic": "lines",
            "database.password": "hunter2-secret"}})
        .to_string(),
    )
    .unwrap();
    let mut child = start(&s);
    wait_until("delivery", Duration::from_secs(30), || {
        count_lines(&s.output) >= 3
    });
    assert!(terminate(&mut child).success());
    let log = log(&s);
    assert!(log.contains("database.password"), "{log}");
    assert!(
        !log.contains("hunter2-secret"),
        "the value must never be printed:\n{log}"
    );
}

#[test]
fn version_and_help_work() {
    let out = sluice().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("sluice "));
    let out = sluice().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("standalone"));
}

#[test]
fn configuration_reference_in_docs_is_up_to_date() {
    let out = sluice().arg("config-reference").output().unwrap();
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/reference/configuration.md");
    if std::env::var_os("SLUICE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/reference/configuration.md is out of date: run `SLUICE_BLESS=1 cargo test -p sluice --test standalone configuration_reference`"
    );
    assert!(
        generated.contains("`offset.storage.file.filename`")
            && generated.contains("`sink.type=file`")
    );
}
