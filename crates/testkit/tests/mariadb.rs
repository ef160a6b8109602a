//! Throwaway MariaDB servers: start, binlog settings, SQL, crash and
//! restart, and a clean stop on drop.

mod common;

use std::time::Duration;

use sluice_testkit::{unique_name, ErrorKind, MariaDbServer};

#[test]
fn starts_with_row_binlog_and_utf8mb4() {
    let my = MariaDbServer::start().unwrap();
    assert_eq!(my.host(), "127.0.0.1");
    assert_eq!(my.user(), "root");
    assert_ne!(my.port(), 3306);
    assert!(my.socket_path().exists());

    let vars = my
        .sql(
            "",
            "SELECT @@binlog_format, @@character_set_server, @@log_bin, @@binlog_row_image, \
             @@binlog_row_metadata, @@server_id, @@port",
        )
        .unwrap();
    assert_eq!(
        vars,
        format!("ROW\tutf8mb4\t1\tFULL\tFULL\t1\t{}", my.port())
    );

    let db = unique_name("testkit_db");
    my.create_database(&db).unwrap();
    assert_eq!(
        my.url(&db),
        format!("mysql://root@127.0.0.1:{}/{db}", my.port())
    );
    let out = my
        .sql(
            &db,
            "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20));\n\
             INSERT INTO t VALUES (1, 'a'), (2, 'ü');\n\
             SELECT id, name FROM t ORDER BY id;",
        )
        .unwrap();
    assert_eq!(out, "1\ta\n2\tü");
    assert_eq!(
        my.sql(
            &db,
            "SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = 'name'"
        )
        .unwrap(),
        "utf8mb4"
    );

    // The changes are in the binary log, in its own directory.
    let binlogs = my.sql("", "SHOW BINARY LOGS").unwrap();
    assert!(binlogs.starts_with("binlog.000001"), "{binlogs}");
    assert!(my.binlog_dir().join("binlog.000001").is_file());

    let err = my.sql(&db, "SELECT * FROM no_such_table").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Command);
    assert!(err.to_string().contains("no_such_table"), "{err}");

    assert!(my.log().contains("ready for connections"));
}

#[test]
fn builder_settings_are_applied() {
    let my = MariaDbServer::builder()
        .setting("gtid_domain_id", "7")
        .setting("--binlog-row-image", "MINIMAL")
        .start()
        .unwrap();
    assert_eq!(
        my.sql(
            "",
            "SELECT @@gtid_domain_id, @@binlog_row_image, @@binlog_format"
        )
        .unwrap(),
        "7\tMINIMAL\tROW"
    );
}

#[test]
fn kill9_and_restart_keep_port_and_committed_data() {
    let mut my = MariaDbServer::start().unwrap();
    let port = my.port();
    my.create_database("shop").unwrap();
    my.sql(
        "shop",
        "CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB;\n\
         INSERT INTO t VALUES (1), (2), (3);",
    )
    .unwrap();
    let pid = my.pid().unwrap();

    my.kill9();
    assert!(!my.is_running());
    assert!(!sluice_testkit::pid_alive(pid));
    assert!(my.sql("", "SELECT 1").is_err());

    my.restart().unwrap();
    assert_eq!(my.port(), port);
    assert_eq!(my.sql("shop", "SELECT COUNT(*) FROM t").unwrap(), "3");

    // A graceful restart too; a new binlog file is opened.
    my.restart().unwrap();
    assert_eq!(my.sql("shop", "SELECT COUNT(*) FROM t").unwrap(), "3");
    assert!(my.sql("", "SHOW BINARY LOGS").unwrap().lines().count() >= 3);
}

#[test]
fn drop_stops_the_server_and_removes_its_directory() {
    let my = MariaDbServer::start().unwrap();
    let pid = my.pid().unwrap();
    let dir = my.data_dir().parent().unwrap().to_path_buf();
    assert!(!common::processes_mentioning(&dir).is_empty());

    drop(my);

    assert!(
        !sluice_testkit::pid_alive(pid),
        "mariadbd {pid} still alive"
    );
    assert!(!dir.exists(), "{} not removed", dir.display());
    assert!(
        common::eventually(Duration::from_secs(5), || common::processes_mentioning(
            &dir
        )
        .is_empty()),
        "left over: {:?}",
        common::processes_mentioning(&dir)
    );
}
