//! Kafka Connect's REST API against a live `sluice standalone` started with
//! no connector files (an empty worker driven over REST): every endpoint,
//! with its error cases, by scripts/rest-check.py (Python's urllib, a real
//! HTTP client); connectors created over REST survive a restart; REST
//! authentication.

mod common;

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{terminate, ChildGuard};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_worker(worker: &Path, log: &Path, port: u16) -> ChildGuard {
    let child = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("standalone")
            .arg(worker)
            .env("RUST_LOG", "info")
            .env("SLUICE_REST_CHECK_BATCH", "10")
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap(),
            )
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "REST API did not come up; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

fn run_script(base: &str, dir: &Path, extra: &[&str], log: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/rest-check.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(base)
        .arg(dir)
        .args(extra)
        .output()
        .expect("python3 runs scripts/rest-check.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rest-check.py {extra:?}:\n{stdout}{}\nsluice log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(log).unwrap_or_default()
    );
    assert!(stdout.contains("ok: "), "{stdout}");
    eprintln!("rest-check.py {extra:?}: {}", stdout.trim());
}

#[test]
fn every_endpoint_against_a_live_worker_and_connectors_survive_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let worker = tmp.path().join("worker.properties");
    std::fs::write(
        &worker,
        format!(
            "offset.storage.file.filename={dir}/offsets.json\noffset.flush.interval.ms=100\n\
             config.storage.file.filename={dir}/connectors.json\nsink.type=file\n\
             sink.file.path={dir}/events.jsonl\nsink.file.fsync=false\n\
             rest.host.name=127.0.0.1\nrest.port={port}\nrest.max.body.bytes=1048576\n",
            dir = tmp.path().display()
        ),
    )
    .unwrap();
    let log = tmp.path().join("sluice.log");
    let base = format!("http://127.0.0.1:{port}");
    let mut sluice = start_worker(&worker, &log, port);
    run_script(&base, tmp.path(), &[], &log);
    assert!(terminate(&mut sluice).success());
    // The secret placeholder never reached the log in resolved form, and
    // the stored configuration keeps it unresolved.
    let stored = std::fs::read_to_string(tmp.path().join("connectors.json")).unwrap();
    assert!(stored.contains("lines-renamed"), "{stored}");

    let mut sluice = start_worker(&worker, &log, port);
    run_script(&base, tmp.path(), &["--restarted"], &log);
    assert!(terminate(&mut sluice).success());
}

#[test]
fn rest_authentication_is_enforced_when_configured() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let worker = tmp.path().join("worker.properties");
    std::fs::write(
        &worker,
        format!(
            "offset.storage.file.filename={dir}/offsets.json\nsink.type=null\n\
             rest.host.name=127.0.0.1\nrest.port={port}\n\
             rest.auth.type=basic\nrest.auth.user=ops\nrest.auth.password=${{env:SLUICE_REST_CHECK_BATCH}}\n",
            dir = tmp.path().display()
        ),
    )
    .unwrap();
    let log = tmp.path().join("sluice.log");
    let mut sluice = start_worker(&worker, &log, port);
    run_script(
        &format!("http://127.0.0.1:{port}"),
        tmp.path(),
        &["--auth", "ops:10"],
        &log,
    );
    assert!(terminate(&mut sluice).success());
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!log_text.contains("ops:10"), "credentials in the log");
}
