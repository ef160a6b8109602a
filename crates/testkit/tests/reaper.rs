//! A test process killed with SIGKILL runs no destructors: the watchdog
//! must stop its servers and remove their directories anyway.
//!
//! The parent test re-runs this test binary as a child that starts servers
//! and then waits to be killed.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sluice_testkit::{MariaDbServer, PgServer};

const CHILD_ENV: &str = "SLUICE_TESTKIT_REAPER_CHILD";

/// In the child process: start the servers, report them, wait to be killed
/// (or for the parent to go away: its end of our stdin closes).
#[test]
fn reaper_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return; // only meaningful as the child of `killed_test_process_leaves_nothing`
    }
    let pg = PgServer::start().unwrap();
    let my = MariaDbServer::start().unwrap();
    println!(
        "SERVER {} {}",
        pg.pid().unwrap(),
        pg.data_dir().parent().unwrap().display()
    );
    println!(
        "SERVER {} {}",
        my.pid().unwrap(),
        my.data_dir().parent().unwrap().display()
    );
    println!("READY");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// Kills the child test process if the parent test fails early.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn killed_test_process_leaves_nothing() {
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "reaper_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Not inherited: a child that outlived this test would keep
            // cargo's output pipe open.
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut servers: Vec<(u32, PathBuf)> = Vec::new();
    let mut ready = false;
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest may print its own text on the same line.
        if let Some(at) = line.find("SERVER ") {
            let rest = &line[at + "SERVER ".len()..];
            let (pid, dir) = rest.split_once(' ').unwrap();
            servers.push((pid.parse().unwrap(), PathBuf::from(dir.trim())));
        } else if line.contains("READY") {
            ready = true;
            break;
        }
        seen.push(line);
    }
    assert!(ready, "the child did not start its servers: {seen:?}");
    assert_eq!(servers.len(), 2, "{servers:?} {seen:?}");
    for (pid, dir) in &servers {
        assert!(sluice_testkit::pid_alive(*pid));
        assert!(dir.exists());
    }

    child.0.kill().unwrap(); // SIGKILL: no destructors run
    child.0.wait().unwrap();
    let killed_at = std::time::Instant::now();

    for (pid, dir) in &servers {
        assert!(
            common::eventually(Duration::from_secs(20), || {
                !sluice_testkit::pid_alive(*pid)
                    && !dir.exists()
                    && common::processes_mentioning(dir).is_empty()
            }),
            "server {pid} in {} was not cleaned up: alive={}, dir exists={}, processes={:?}",
            dir.display(),
            sluice_testkit::pid_alive(*pid),
            dir.exists(),
            common::processes_mentioning(dir)
        );
    }
    eprintln!("cleaned up {:?} after the kill", killed_at.elapsed());
}
