//! Throwaway PostgreSQL servers: start, SQL, settings, crash and restart,
//! password users, and a clean stop on drop.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sluice_testkit::{unique_name, ErrorKind, PgAuthMethod, PgServer};

#[test]
fn starts_with_logical_wal_and_runs_sql() {
    let pg = PgServer::start().unwrap();
    assert_eq!(pg.host(), "127.0.0.1");
    assert_eq!(pg.user(), "postgres");
    assert_ne!(pg.port(), 5432);
    assert!(pg
        .socket_dir()
        .join(format!(".s.PGSQL.{}", pg.port()))
        .exists());
    assert!(pg.data_dir().join("PG_VERSION").is_file());

    assert_eq!(pg.psql("postgres", "SHOW wal_level").unwrap(), "logical");
    assert_eq!(pg.psql("postgres", "SHOW server_encoding").unwrap(), "UTF8");
    assert_eq!(
        pg.psql("postgres", "SHOW max_replication_slots").unwrap(),
        "20"
    );

    let db = unique_name("testkit_db");
    pg.create_database(&db).unwrap();
    assert_eq!(
        pg.url(&db),
        format!("postgres://postgres@127.0.0.1:{}/{db}", pg.port())
    );
    let out = pg
        .psql(
            &db,
            "CREATE TABLE t (id int PRIMARY KEY, name text);\n\
             INSERT INTO t VALUES (1, 'a'), (2, 'b|c');\n\
             SELECT id, name FROM t ORDER BY id;",
        )
        .unwrap();
    assert_eq!(out, "1|a\n2|b|c");
    assert_eq!(
        pg.psql(&db, "SELECT current_database()").unwrap(),
        db.as_str()
    );

    // A logical replication slot can be created (wal_level = logical).
    let slot = unique_name("slot");
    pg.psql(
        &db,
        &format!("SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput')"),
    )
    .unwrap();
    assert_eq!(
        pg.psql(
            &db,
            &format!("SELECT slot_type FROM pg_replication_slots WHERE slot_name = '{slot}'")
        )
        .unwrap(),
        "logical"
    );

    // Replication connections over TCP are trusted.
    let hba = std::fs::read_to_string(pg.data_dir().join("pg_hba.conf")).unwrap();
    assert!(hba.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
        == ["host", "replication", "all", "127.0.0.1/32", "trust"]));

    // An SQL error is an error that says what went wrong.
    let err = pg.psql(&db, "SELECT * FROM no_such_table").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Command);
    assert!(err.to_string().contains("no_such_table"), "{err}");

    assert!(pg
        .log()
        .contains("database system is ready to accept connections"));
}

#[test]
fn builder_settings_are_applied() {
    let pg = PgServer::builder()
        .setting("max_replication_slots", "7")
        .setting("application_name", "it's a test")
        .setting("wal_sender_timeout", "5s")
        .start()
        .unwrap();
    assert_eq!(
        pg.psql("postgres", "SHOW max_replication_slots").unwrap(),
        "7"
    );
    assert_eq!(
        pg.psql("postgres", "SHOW wal_sender_timeout").unwrap(),
        "5s"
    );
    // The test kit's defaults stay.
    assert_eq!(pg.psql("postgres", "SHOW wal_level").unwrap(), "logical");
}

#[test]
fn kill9_and_restart_keep_port_and_committed_data() {
    let mut pg = PgServer::start().unwrap();
    let port = pg.port();
    pg.psql(
        "postgres",
        "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100);",
    )
    .unwrap();
    let pid = pg.pid().unwrap();
    let children = common::children_of(pid);
    assert!(!children.is_empty(), "postmaster has worker processes");

    pg.kill9();
    assert!(!pg.is_running());
    assert!(!sluice_testkit::pid_alive(pid));
    for child in &children {
        assert!(
            !sluice_testkit::pid_alive(*child),
            "worker {child} survived kill9"
        );
    }
    assert!(pg.psql("postgres", "SELECT 1").is_err());

    pg.restart().unwrap();
    assert_eq!(pg.port(), port);
    assert_ne!(pg.pid(), Some(pid));
    assert_eq!(
        pg.psql("postgres", "SELECT count(*) FROM t").unwrap(),
        "100"
    );
    assert!(pg.log().contains("database system was interrupted"));

    // A graceful restart too.
    pg.restart().unwrap();
    assert_eq!(
        pg.psql("postgres", "SELECT count(*) FROM t").unwrap(),
        "100"
    );

    // Stopped and started again.
    pg.stop();
    assert!(!pg.is_running());
    pg.restart().unwrap();
    assert_eq!(pg.psql("postgres", "SELECT 1").unwrap(), "1");
}

#[test]
fn password_users_must_authenticate() {
    let pg = PgServer::builder()
        .password_user("cdc", "s3cret:/@", PgAuthMethod::ScramSha256)
        .password_user("old", "pw", PgAuthMethod::Md5)
        .start()
        .unwrap();
    assert_eq!(
        pg.psql_as("cdc", "s3cret:/@", "postgres", "SELECT current_user")
            .unwrap(),
        "cdc"
    );
    let err = pg
        .psql_as("cdc", "wrong", "postgres", "SELECT 1")
        .unwrap_err();
    assert!(
        err.to_string().contains("password authentication failed"),
        "{err}"
    );
    assert_eq!(
        pg.psql_as("old", "pw", "postgres", "SELECT current_user")
            .unwrap(),
        "old"
    );
    assert_eq!(
        pg.psql(
            "postgres",
            "SELECT rolname, CASE WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram' \
             WHEN rolpassword LIKE 'md5%' THEN 'md5' END, rolreplication \
             FROM pg_authid WHERE rolname IN ('cdc', 'old') ORDER BY 1"
        )
        .unwrap(),
        "cdc|scram|t\nold|md5|t"
    );
    assert_eq!(
        pg.url_as("cdc", "s3cret:/@", "db"),
        format!("postgres://cdc:s3cret%3A%2F%40@127.0.0.1:{}/db", pg.port())
    );
    // The superuser still needs none.
    assert_eq!(pg.psql("postgres", "SELECT 1").unwrap(), "1");
}

#[test]
fn drop_stops_the_server_and_removes_its_directory() {
    let pg = PgServer::start().unwrap();
    let pid = pg.pid().unwrap();
    let children = common::children_of(pid);
    let dir = pg.data_dir().parent().unwrap().to_path_buf();
    assert!(!common::processes_mentioning(&dir).is_empty());

    drop(pg);

    assert!(
        !sluice_testkit::pid_alive(pid),
        "postmaster {pid} still alive"
    );
    for child in &children {
        assert!(
            !sluice_testkit::pid_alive(*child),
            "worker {child} still alive"
        );
    }
    assert!(!dir.exists(), "{} not removed", dir.display());
    // Nothing left that mentions the directory: no server, no watchdog.
    assert!(
        common::eventually(Duration::from_secs(5), || common::processes_mentioning(
            &dir
        )
        .is_empty()),
        "left over: {:?}",
        common::processes_mentioning(&dir)
    );
}

#[test]
fn drop_after_kill9_cleans_up() {
    let mut pg = PgServer::start().unwrap();
    let dir = pg.data_dir().parent().unwrap().to_path_buf();
    // postmaster.pid line 7: "<key> <shmid>" of the System V segment.
    let pidfile = std::fs::read_to_string(pg.data_dir().join("postmaster.pid")).unwrap();
    let shmid: String = pidfile
        .lines()
        .nth(6)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .into();
    let segment_exists = || {
        std::fs::read_to_string("/proc/sysvipc/shm")
            .unwrap()
            .lines()
            .skip(1)
            .any(|row| row.split_whitespace().nth(1) == Some(shmid.as_str()))
    };
    assert!(segment_exists());
    pg.kill9();
    assert!(segment_exists(), "a killed postmaster leaves its segment");
    drop(pg);
    assert!(!dir.exists());
    assert!(common::processes_mentioning(&dir).is_empty());
    assert!(
        !segment_exists(),
        "shared memory segment {shmid} left behind"
    );
}

#[test]
fn drop_on_panic_stops_the_server() {
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::thread::spawn(move || {
        let pg = PgServer::start().unwrap();
        tx.send((pg.pid().unwrap(), pg.data_dir().to_path_buf()))
            .unwrap();
        panic!("test failure while the server runs");
    })
    .join();
    assert!(result.is_err());
    let (pid, data_dir) = rx.recv().unwrap();
    assert!(!sluice_testkit::pid_alive(pid));
    assert!(!data_dir.exists());
}

/// Kills a helper process at the end of a test, even a failed one.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_stuck_replication_client_does_not_block_stop_or_drop() {
    let mut pg = PgServer::start().unwrap();
    pg.psql(
        "postgres",
        "CREATE TABLE t (id int);\n\
         SELECT pg_create_logical_replication_slot('stuck', 'test_decoding');",
    )
    .unwrap();
    let client = KillOnDrop(
        Command::new(pg.bin_dir().join("pg_recvlogical"))
            .args([
                "-h",
                pg.host(),
                "-p",
                &pg.port().to_string(),
                "-U",
                pg.user(),
            ])
            .args(["-d", "postgres", "-S", "stuck", "--start", "-f", "-"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(common::eventually(Duration::from_secs(10), || pg
        .psql("postgres", "SELECT active FROM pg_replication_slots")
        .unwrap()
        == "t"));
    // The client stops reading: a fast shutdown waits for it forever.
    assert!(Command::new("kill")
        .args(["-s", "STOP", &client.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    pg.psql("postgres", "INSERT INTO t SELECT generate_series(1, 10000)")
        .unwrap();

    let started = Instant::now();
    pg.restart().unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(9), "restart took {took:?}");
    assert_eq!(
        pg.psql("postgres", "SELECT count(*) FROM t").unwrap(),
        "10000"
    );

    let started = Instant::now();
    drop(pg);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "drop took {took:?}");
    drop(client);
}
