//! docker-compose.yml cannot run here (no Docker engine); these checks keep
//! it and its configuration files in step with the code: the worker and
//! connector files it mounts pass `sluice validate`, and the addresses and
//! database settings agree between the files.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn property(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} missing"))
        .trim()
        .to_string()
}

#[test]
fn the_compose_files_pass_validation() {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("validate")
        .arg(root().join("deploy/worker.properties"))
        .arg(root().join("deploy/postgres.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("ok: "), "{stdout}");
    assert!(
        !stdout.contains("warning"),
        "unused keys in deploy/: {stdout}"
    );
}

#[test]
fn the_compose_services_agree_with_the_configs() {
    let compose = read("docker-compose.yml");
    let worker = read("deploy/worker.properties");
    let connector: Value = serde_json::from_str(&read("deploy/postgres.json")).unwrap();
    let config = &connector["config"];

    // PostgreSQL: logical decoding on, the database and password the
    // connector uses, the captured table created by the init script.
    assert!(compose.contains("\"wal_level=logical\""));
    assert!(compose.contains(&format!(
        "POSTGRES_DB: {}",
        config["database.dbname"].as_str().unwrap()
    )));
    assert!(compose.contains(&format!(
        "POSTGRES_PASSWORD: {}",
        config["database.password"].as_str().unwrap()
    )));
    assert!(compose.contains(&format!(
        "\n  {}:\n",
        config["database.hostname"].as_str().unwrap()
    )));
    let table = config["table.include.list"].as_str().unwrap();
    let table = table.rsplit('.').next().unwrap();
    assert!(read("deploy/postgres-init.sql").contains(&format!("CREATE TABLE {table} ")));

    // MySQL: the binlog settings the MySQL reader needs.
    for flag in [
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--gtid-mode=ON",
        "--enforce-gtid-consistency=ON",
    ] {
        assert!(compose.contains(flag), "{flag}");
    }

    // Kafka: KRaft, and the address the worker uses is the advertised one.
    assert!(compose.contains("KAFKA_PROCESS_ROLES: broker,controller"));
    let bootstrap = property(&worker, "bootstrap.servers");
    assert!(compose.contains(&format!(
        "KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://{bootstrap}"
    )));

    // The registry service listens where the converters look.
    let url = property(&worker, "value.converter.schema.registry.url");
    let host_port = url.trim_start_matches("http://");
    let (host, port) = host_port.split_once(':').unwrap();
    assert!(
        compose.contains(&format!("\n  {host}:\n")),
        "service {host}"
    );
    assert!(compose.contains(&format!("\"0.0.0.0:{port}\"")));

    // The sluice service mounts exactly these files.
    assert!(compose.contains("./deploy/worker.properties:/etc/sluice/worker.properties"));
    assert!(compose.contains("./deploy/postgres.json:/etc/sluice/postgres.json"));
    assert!(read("Dockerfile").contains("cargo build --release --locked -p sluice"));
}
