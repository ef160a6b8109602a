//! The replication client against real throwaway PostgreSQL servers
//! (sluice-testkit): connect, IDENTIFY_SYSTEM, slots, pgoutput streaming,
//! status updates and confirmed_flush_lsn, errors and their kinds,
//! authentication (trust, md5, SCRAM), TLS, a server crash, cancel safety.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice_connect_api::{ConnectError, ErrorKind};
use sluice_postgres::lsn::Lsn;
use sluice_postgres::replication::{
    ReplicationClient, ReplicationConfig, ReplicationMessage, ReplicationStream, SnapshotAction,
    SslMode,
};
use sluice_testkit::{unique_name, PgAuthMethod, PgServer};

/// One server for the tests that do not crash or reconfigure it.
fn shared_pg() -> &'static PgServer {
    static PG: OnceLock<PgServer> = OnceLock::new();
    PG.get_or_init(|| PgServer::start().expect("start a throwaway PostgreSQL"))
}

fn config(pg: &PgServer, db: &str) -> ReplicationConfig {
    let mut config = ReplicationConfig::new(pg.host(), pg.port(), pg.user(), db);
    config.sslmode = SslMode::Disable;
    config.application_name = "sluice-test".to_string();
    config.connect_timeout = Duration::from_secs(10);
    config
}

/// A fresh database with table `t` and publication `p` for all tables.
fn setup_db(pg: &PgServer, prefix: &str) -> String {
    let db = unique_name(prefix);
    pg.create_database(&db).unwrap();
    pg.psql(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY, payload text);\n\
         CREATE PUBLICATION p FOR ALL TABLES;",
    )
    .unwrap();
    db
}

const PGOUTPUT_V1: &[(&str, &str)] = &[("proto_version", "1"), ("publication_names", "\"p\"")];

fn sql_value(pg: &PgServer, db: &str, sql: &str) -> String {
    pg.psql(db, sql).unwrap()
}

fn slot_value(pg: &PgServer, db: &str, slot: &str, column: &str) -> String {
    sql_value(
        pg,
        db,
        &format!("SELECT {column} FROM pg_replication_slots WHERE slot_name = '{slot}'"),
    )
}

/// Polls `check` until it holds or `timeout` passes.
async fn eventually(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The next message, failing the test after 20 s.
async fn next_msg(stream: &mut ReplicationStream) -> ReplicationMessage {
    tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("no replication message within 20 s")
        .expect("replication stream failed")
        .expect("replication stream ended")
}

/// The XLogData payloads up to and including the `commits`-th Commit.
async fn read_transactions(stream: &mut ReplicationStream, commits: usize) -> Vec<(Lsn, Bytes)> {
    let mut out = Vec::new();
    let mut seen = 0;
    while seen < commits {
        if let ReplicationMessage::XLogData {
            wal_start, data, ..
        } = next_msg(stream).await
        {
            if data.first() == Some(&b'C') {
                seen += 1;
            }
            out.push((wal_start, data));
        }
    }
    out
}

/// Checks pgoutput framing: every transaction is B … C with only change
/// messages between. Returns the end LSNs of the commits.
fn check_transactions(messages: &[(Lsn, Bytes)]) -> Vec<Lsn> {
    let mut in_txn = false;
    let mut ends = Vec::new();
    for (lsn, data) in messages {
        let tag = data[0];
        match tag {
            b'B' => {
                assert!(!in_txn, "Begin inside a transaction at {lsn}");
                assert_eq!(data.len(), 1 + 8 + 8 + 4, "Begin length");
                in_txn = true;
            }
            b'C' => {
                assert!(in_txn, "Commit outside a transaction at {lsn}");
                assert_eq!(data.len(), 1 + 1 + 8 + 8 + 8, "Commit length");
                let end = u64::from_be_bytes(data[10..18].try_into().unwrap());
                ends.push(Lsn(end));
                in_txn = false;
            }
            b'R' | b'I' | b'U' | b'D' | b'T' | b'Y' | b'O' | b'M' => {
                assert!(
                    in_txn,
                    "change {:?} outside a transaction at {lsn}",
                    tag as char
                )
            }
            other => panic!("unexpected pgoutput message {:?} at {lsn}", other as char),
        }
    }
    assert!(!in_txn, "stream stopped inside a transaction");
    ends
}

/// In a module named `replication`, so that `cargo test -p sluice-postgres
/// replication` selects these tests.
mod replication {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connects_and_identifies_system() {
        let pg = shared_pg();
        let db = setup_db(pg, "repl_ident");
        let mut client = ReplicationClient::connect(&config(pg, &db)).await.unwrap();
        assert!(
            client.server_version() >= 100000,
            "{}",
            client.server_version()
        );
        let shown: u32 = sql_value(pg, &db, "SHOW server_version_num")
            .parse()
            .unwrap();
        assert_eq!(client.server_version(), shown);
        assert_eq!(client.parameter("server_encoding"), Some("UTF8"));
        assert_eq!(client.parameter("client_encoding"), Some("UTF8"));
        assert!(!client.is_tls());
        assert!(client.backend_pid() > 0);

        let system = client.identify_system().await.unwrap();
        assert_eq!(system.timeline, 1);
        assert!(system.xlogpos.is_valid());
        assert_eq!(system.dbname.as_deref(), Some(db.as_str()));
        assert!(
            system.systemid.parse::<u64>().is_ok(),
            "{}",
            system.systemid
        );
        assert_eq!(
            system.systemid,
            sql_value(pg, &db, "SELECT system_identifier FROM pg_control_system()")
        );

        // The walsender is visible with our application_name.
        let pid = client.backend_pid();
        assert_eq!(
            sql_value(
                pg,
                &db,
                &format!(
                    "SELECT application_name, backend_type FROM pg_stat_activity WHERE pid = {pid}"
                )
            ),
            "sluice-test|walsender"
        );

        // Plain SQL and replication commands through simple_query.
        assert_eq!(
            client.simple_query("SHOW wal_level").await.unwrap(),
            vec![vec![Some("logical".to_string())]]
        );
        assert_eq!(
            client
                .simple_query("SELECT 1 AS a, NULL::text AS b, 'x''y' AS c")
                .await
                .unwrap(),
            vec![vec![Some("1".to_string()), None, Some("x'y".to_string())]]
        );
        let err = client.simple_query("SELEC 1").await.unwrap_err();
        assert_eq!(err.sqlstate(), Some("42601"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(
            err.to_string()
                .starts_with("query 'SELEC 1' failed: ERROR 42601"),
            "{err}"
        );
        // Still usable after an ERROR.
        assert_eq!(
            client.simple_query("SELECT 2").await.unwrap(),
            vec![vec![Some("2".to_string())]]
        );
        client.close().await;

        // sslmode=prefer against a server without TLS falls back to plain.
        let mut prefer = config(pg, &db);
        prefer.sslmode = SslMode::Prefer;
        let mut client = ReplicationClient::connect(&prefer).await.unwrap();
        assert!(!client.is_tls());
        client.identify_system().await.unwrap();
        // sslmode=require against it fails with a configuration error.
        let mut require = config(pg, &db);
        require.sslmode = SslMode::Require;
        let err = ReplicationClient::connect(&require).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        assert!(err.to_string().contains("does not support SSL"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn creates_temporary_and_permanent_slots() {
        let pg = shared_pg();
        let db = setup_db(pg, "repl_slots");
        let mut client = ReplicationClient::connect(&config(pg, &db)).await.unwrap();

        let temp = unique_name("temp");
        let created = client
            .create_logical_slot(&temp, "pgoutput", true, SnapshotAction::NoExport)
            .await
            .unwrap();
        assert_eq!(created.slot_name, temp);
        assert!(created.consistent_point.is_valid());
        assert_eq!(created.snapshot_name, None);
        assert_eq!(created.output_plugin.as_deref(), Some("pgoutput"));
        assert_eq!(
            slot_value(
                pg,
                &db,
                &temp,
                "temporary || '|' || plugin || '|' || database"
            ),
            format!("true|pgoutput|{db}")
        );

        let perm = unique_name("perm");
        let created = client
            .create_logical_slot(&perm, "pgoutput", false, SnapshotAction::Export)
            .await
            .unwrap();
        let snapshot = created.snapshot_name.expect("exported snapshot");
        assert!(!snapshot.is_empty());
        assert_eq!(slot_value(pg, &db, &perm, "temporary"), "f");
        assert_eq!(
            slot_value(pg, &db, &perm, "confirmed_flush_lsn"),
            created.consistent_point.to_string()
        );

        // A duplicate is 42710, a configuration problem.
        let err = client
            .create_logical_slot(&perm, "pgoutput", false, SnapshotAction::NoExport)
            .await
            .unwrap_err();
        assert_eq!(err.sqlstate(), Some("42710"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(
            err.to_string().starts_with(&format!(
                "CREATE_REPLICATION_SLOT '{perm}' failed: ERROR 42710"
            )),
            "{err}"
        );
        // Invalid names never reach the server.
        let err = client
            .create_logical_slot("Bad-Name", "pgoutput", false, SnapshotAction::NoExport)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        // A missing output plugin.
        let err = client
            .create_logical_slot(
                &unique_name("noplugin"),
                "no_such_plugin",
                true,
                SnapshotAction::NoExport,
            )
            .await
            .unwrap_err();
        // Stock PostgreSQL: 58P01 could not access file (Config); servers
        // that restrict output plugins: 42501 (Permission).
        assert!(
            matches!(err.kind(), ErrorKind::Config | ErrorKind::Permission),
            "{err}"
        );
        assert!(!err.is_retriable());

        // SNAPSHOT 'use' inside a repeatable-read transaction.
        let used = unique_name("used");
        client
            .simple_query("BEGIN ISOLATION LEVEL REPEATABLE READ")
            .await
            .unwrap();
        client
            .create_logical_slot(&used, "pgoutput", true, SnapshotAction::Use)
            .await
            .unwrap();
        assert_eq!(
            client.simple_query("SELECT count(*) FROM t").await.unwrap(),
            vec![vec![Some("0".to_string())]]
        );
        client.simple_query("COMMIT").await.unwrap();

        // The temporary slots go with the connection; the permanent one stays.
        client.close().await;
        eventually(Duration::from_secs(10), "temporary slot dropped", || {
            slot_value(pg, &db, &temp, "count(*)") == "0"
                && slot_value(pg, &db, &used, "count(*)") == "0"
        })
        .await;
        assert_eq!(slot_value(pg, &db, &perm, "count(*)"), "1");

        // DROP_REPLICATION_SLOT through simple_query.
        let mut client = ReplicationClient::connect(&config(pg, &db)).await.unwrap();
        client
            .simple_query(&format!("DROP_REPLICATION_SLOT \"{perm}\" WAIT"))
            .await
            .unwrap();
        assert_eq!(slot_value(pg, &db, &perm, "count(*)"), "0");
        let err = client
            .simple_query(&format!("DROP_REPLICATION_SLOT \"{perm}\""))
            .await
            .unwrap_err();
        assert_eq!(err.sqlstate(), Some("42704"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Config);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn streams_pgoutput_and_confirms_exactly_the_flushed_lsn() {
        let pg = shared_pg();
        let db = setup_db(pg, "repl_stream");
        let slot = unique_name("stream");
        let mut client = ReplicationClient::connect(&config(pg, &db)).await.unwrap();
        let created = client
            .create_logical_slot(&slot, "pgoutput", false, SnapshotAction::NoExport)
            .await
            .unwrap();

        for i in 0..3 {
            pg.psql(&db, &format!("INSERT INTO t VALUES ({i}, 'row {i}')"))
                .unwrap();
        }
        let mut stream = client
            .start_logical_replication(&slot, created.consistent_point, PGOUTPUT_V1)
            .await
            .unwrap();
        let pid = stream.backend_pid();
        assert_eq!(slot_value(pg, &db, &slot, "active_pid"), pid.to_string());

        let messages = read_transactions(&mut stream, 3).await;
        assert_eq!(messages[0].1[0], b'B', "the first message is a Begin");
        assert_eq!(
            messages.last().unwrap().1[0],
            b'C',
            "the last message is a Commit"
        );
        let tags: Vec<u8> = messages.iter().map(|(_, d)| d[0]).collect();
        assert_eq!(tags, b"BRICBICBIC".to_vec());
        let ends = check_transactions(&messages);
        assert_eq!(ends.len(), 3);
        assert!(ends.windows(2).all(|w| w[0] < w[1]));
        // The WAL positions of the data increase.
        // The WAL positions of the data do not decrease (Relation messages
        // carry 0/0: they are not tied to a WAL record).
        let lsns: Vec<Lsn> = messages
            .iter()
            .filter(|(_, d)| d[0] != b'R')
            .map(|(l, _)| *l)
            .collect();
        assert!(lsns.windows(2).all(|w| w[0] <= w[1]), "{lsns:?}");
        assert!(messages.iter().all(|(l, d)| l.is_valid() == (d[0] != b'R')));
        let insert = messages.iter().find(|(_, d)| d[0] == b'I').unwrap();
        assert!(insert.1.windows(5).any(|w| w == b"row 0"));

        // Confirming the end of the first transaction moves
        // confirmed_flush_lsn exactly there, and never further.
        let before = slot_value(pg, &db, &slot, "confirmed_flush_lsn");
        assert_eq!(before, created.consistent_point.to_string());
        stream
            .send_status_update(ends[0], ends[0], ends[0], false)
            .await
            .unwrap();
        let want = ends[0].to_string();
        eventually(
            Duration::from_secs(10),
            "confirmed_flush_lsn reaches the first commit",
            || slot_value(pg, &db, &slot, "confirmed_flush_lsn") == want,
        )
        .await;
        // A status update asking for a reply gets a keepalive at once.
        stream
            .send_status_update(ends[0], ends[0], ends[0], true)
            .await
            .unwrap();
        let keepalive = match next_msg(&mut stream).await {
            ReplicationMessage::PrimaryKeepalive {
                wal_end,
                server_time_us,
                reply_requested,
            } => (wal_end, server_time_us, reply_requested),
            ReplicationMessage::XLogData { .. } => panic!("no more data expected"),
        };
        assert!(
            keepalive.0 >= ends[2],
            "keepalive wal_end {} < last commit end {}",
            keepalive.0,
            ends[2]
        );
        let now_pg =
            sluice_postgres::replication::system_time_to_pg_micros(std::time::SystemTime::now());
        assert!(
            (now_pg - keepalive.1).abs() < 60_000_000,
            "server time {} vs now {now_pg}",
            keepalive.1
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            slot_value(pg, &db, &slot, "confirmed_flush_lsn"),
            want,
            "the slot moved beyond what was confirmed"
        );

        // No more data is buffered now (only keepalives, perhaps).
        while let Some(m) = stream.try_next_buffered().unwrap() {
            assert!(
                matches!(m, ReplicationMessage::PrimaryKeepalive { .. }),
                "{m:?}"
            );
        }

        // stop() ends cleanly and releases the slot; its position stays.
        tokio::time::timeout(Duration::from_secs(20), stream.stop())
            .await
            .expect("stop() hangs")
            .unwrap();
        eventually(Duration::from_secs(10), "slot released", || {
            slot_value(pg, &db, &slot, "active") == "f"
        })
        .await;
        assert_eq!(slot_value(pg, &db, &slot, "confirmed_flush_lsn"), want);

        // Restarting from the confirmed position replays transactions 2 and 3.
        let client = ReplicationClient::connect(&config(pg, &db)).await.unwrap();
        let mut stream = client
            .start_logical_replication(&slot, Lsn(0), PGOUTPUT_V1)
            .await
            .unwrap();
        let again = read_transactions(&mut stream, 2).await;
        assert_eq!(check_transactions(&again), ends[1..].to_vec());
        stream.stop().await.unwrap();
        pg.psql(&db, &format!("SELECT pg_drop_replication_slot('{slot}')"))
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_second_start_on_an_active_slot_is_a_retriable_error() {
        let pg = shared_pg();
        let db = setup_db(pg, "repl_active");
        let slot = unique_name("active");
        let mut client = ReplicationClient::connect(&config(pg, &db)).await.unwrap();
        client
            .create_logical_slot(&slot, "pgoutput", false, SnapshotAction::NoExport)
            .await
            .unwrap();
        let stream = client
            .start_logical_replication(&slot, Lsn(0), PGOUTPUT_V1)
            .await
            .unwrap();

        let second = ReplicationClient::connect(&config(pg, &db)).await.unwrap();
        let err = second
            .start_logical_replication(&slot, Lsn(0), PGOUTPUT_V1)
            .await
            .unwrap_err();
        assert_eq!(err.sqlstate(), Some("55006"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.is_retriable());
        let expected = format!(
        "START_REPLICATION on slot '{slot}' failed: ERROR 55006 replication slot \"{slot}\" is active for PID {}",
        stream.backend_pid()
    );
        assert_eq!(err.to_string(), expected);
        let connect_error: ConnectError = err.into();
        assert_eq!(connect_error.kind(), ErrorKind::Unavailable);
        assert!(connect_error.is_retriable());
        assert_eq!(connect_error.message(), expected);

        // A slot that does not exist is a configuration error.
        let third = ReplicationClient::connect(&config(pg, &db)).await.unwrap();
        let err = third
            .start_logical_replication("no_such_slot", Lsn(0), PGOUTPUT_V1)
            .await
            .unwrap_err();
        assert_eq!(err.sqlstate(), Some("42704"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(!err.is_retriable());

        stream.stop().await.unwrap();
        pg.psql(&db, &format!("SELECT pg_drop_replication_slot('{slot}')"))
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connection_errors_are_classified() {
        let pg = shared_pg();
        let db = setup_db(pg, "repl_errors");

        // No such database.
        let err = ReplicationClient::connect(&config(pg, "no_such_database"))
            .await
            .unwrap_err();
        assert_eq!(err.sqlstate(), Some("3D000"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(
            err.to_string().contains("database 'no_such_database'"),
            "{err}"
        );

        // A role without the REPLICATION attribute.
        let role = unique_name("norepl");
        pg.psql("postgres", &format!("CREATE ROLE {role} LOGIN"))
            .unwrap();
        let mut cfg = config(pg, &db);
        cfg.user = role.clone();
        let err = ReplicationClient::connect(&cfg).await.unwrap_err();
        assert_eq!(err.sqlstate(), Some("42501"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Permission);

        // Nobody listening.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let mut cfg = config(pg, &db);
        cfg.port = port;
        let err = ReplicationClient::connect(&cfg).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
        assert!(err.is_retriable());
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );

        // A password the server did not ask for is fine; a password user
        // without one configured is covered by the auth test.
        let mut cfg = config(pg, &db);
        cfg.password = Some("unused".to_string());
        ReplicationClient::connect(&cfg).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn authenticates_with_md5_and_scram() {
        let pg = PgServer::builder()
            .password_user("md5_user", "md5 secret", PgAuthMethod::Md5)
            .password_user("scram_user", "scram sécret", PgAuthMethod::ScramSha256)
            .start()
            .unwrap();
        let db = setup_db(&pg, "repl_auth");
        for (user, password) in [("md5_user", "md5 secret"), ("scram_user", "scram sécret")] {
            let mut cfg = config(&pg, &db);
            cfg.user = user.to_string();
            cfg.password = Some(password.to_string());
            let mut client = ReplicationClient::connect(&cfg)
                .await
                .unwrap_or_else(|e| panic!("{user}: {e}"));
            assert_eq!(
                client.identify_system().await.unwrap().dbname.as_deref(),
                Some(db.as_str())
            );
            let who = client.simple_query("SELECT current_user").await.unwrap();
            assert_eq!(who, vec![vec![Some(user.to_string())]]);

            cfg.password = Some("wrong".to_string());
            let err = ReplicationClient::connect(&cfg).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Authentication, "{user}: {err}");
            assert_eq!(err.sqlstate(), Some("28P01"), "{user}: {err}");
            assert!(!err.is_retriable());
            assert!(err.to_string().contains(&format!("user '{user}'")), "{err}");

            cfg.password = None;
            let err = ReplicationClient::connect(&cfg).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Authentication, "{user}: {err}");
            assert!(
                err.to_string().contains("no password is configured")
                    || err.to_string().contains("none is configured"),
                "{err}"
            );
        }
    }

    /// Puts a self-signed certificate for 127.0.0.1 into the data directory and
    /// turns `ssl` on. Returns the certificate (for verify-ca/-full), or None
    /// if `openssl` is not installed.
    fn enable_tls(pg: &PgServer, scratch: &Path) -> Option<std::path::PathBuf> {
        let crt = scratch.join("server.crt");
        let key = scratch.join("server.key");
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
            ])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&crt)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        match status {
            Ok(s) if s.success() => {}
            _ => {
                eprintln!("openssl not available: skipping the TLS part");
                return None;
            }
        }
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let data = pg.data_dir();
        let meta = std::fs::metadata(data).unwrap();
        for (src, name, mode) in [(&crt, "server.crt", 0o644), (&key, "server.key", 0o600)] {
            let dst = data.join(name);
            std::fs::copy(src, &dst).unwrap();
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode)).unwrap();
            std::os::unix::fs::chown(&dst, Some(meta.uid()), Some(meta.gid())).unwrap();
        }
        pg.psql("postgres", "ALTER SYSTEM SET ssl = on").unwrap();
        pg.psql("postgres", "SELECT pg_reload_conf()").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while pg.psql("postgres", "SHOW ssl").unwrap() != "on" {
            assert!(
                Instant::now() < deadline,
                "ssl did not turn on:\n{}",
                pg.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(crt)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connects_over_tls() {
        let pg = PgServer::builder()
            .password_user("scram_tls", "tls secret", PgAuthMethod::ScramSha256)
            .start()
            .unwrap();
        let db = setup_db(&pg, "repl_tls");
        let scratch = tempfile::tempdir().unwrap();
        let Some(cert) = enable_tls(&pg, scratch.path()) else {
            return;
        };

        for mode in [SslMode::Prefer, SslMode::Require, SslMode::Allow] {
            let mut cfg = config(&pg, &db);
            cfg.sslmode = mode;
            let mut client = ReplicationClient::connect(&cfg)
                .await
                .unwrap_or_else(|e| panic!("{mode}: {e}"));
            assert_eq!(client.is_tls(), mode != SslMode::Allow, "{mode}");
            client.identify_system().await.unwrap();
            let pid = client.backend_pid();
            let ssl = pg
                .psql(
                    "postgres",
                    &format!("SELECT ssl FROM pg_stat_ssl WHERE pid = {pid}"),
                )
                .unwrap();
            assert_eq!(
                ssl,
                if mode == SslMode::Allow { "f" } else { "t" },
                "{mode}"
            );
        }

        // SCRAM over TLS (with channel binding, SCRAM-SHA-256-PLUS).
        let mut cfg = config(&pg, &db);
        cfg.sslmode = SslMode::Require;
        cfg.user = "scram_tls".to_string();
        cfg.password = Some("tls secret".to_string());
        let mut client = ReplicationClient::connect(&cfg).await.unwrap();
        assert!(client.is_tls());
        client.identify_system().await.unwrap();
        cfg.password = Some("wrong".to_string());
        assert_eq!(
            ReplicationClient::connect(&cfg).await.unwrap_err().kind(),
            ErrorKind::Authentication
        );

        // verify-ca and verify-full with the certificate as the root.
        for mode in [SslMode::VerifyCa, SslMode::VerifyFull] {
            let mut cfg = config(&pg, &db);
            cfg.sslmode = mode;
            cfg.ssl_root_cert = Some(cert.clone());
            let client = ReplicationClient::connect(&cfg)
                .await
                .unwrap_or_else(|e| panic!("{mode}: {e}"));
            assert!(client.is_tls());
        }
        // verify-full with a host name the certificate does not name.
        let mut cfg = config(&pg, &db);
        cfg.host = "localhost".to_string();
        cfg.sslmode = SslMode::VerifyFull;
        cfg.ssl_root_cert = Some(cert.clone());
        let err = ReplicationClient::connect(&cfg).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        assert!(err.to_string().contains("TLS handshake"), "{err}");
        // verify-ca against a different root.
        let other = scratch.path().join("other");
        std::fs::create_dir(&other).unwrap();
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=other",
            ])
            .arg("-keyout")
            .arg(other.join("k"))
            .arg("-out")
            .arg(other.join("c"))
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let mut cfg = config(&pg, &db);
        cfg.sslmode = SslMode::VerifyCa;
        cfg.ssl_root_cert = Some(other.join("c"));
        let err = ReplicationClient::connect(&cfg).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        // A missing root certificate file.
        cfg.ssl_root_cert = Some(other.join("missing.crt"));
        let err = ReplicationClient::connect(&cfg).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        assert!(err.to_string().contains("missing.crt"), "{err}");

        // Query connections (catalog, snapshot readers) follow the same
        // modes: encrypted for prefer/require/verify-*, the root checked
        // when verifying.
        let settings = |mode: SslMode, root: Option<std::path::PathBuf>| {
            sluice_postgres::catalog::ConnectSettings {
                host: pg.host().to_string(),
                port: pg.port(),
                user: pg.user().to_string(),
                password: None,
                dbname: db.clone(),
                sslmode: mode,
                ssl_root_cert: root,
            }
        };
        for (mode, root) in [
            (SslMode::Prefer, None),
            (SslMode::Require, None),
            (SslMode::Require, Some(cert.clone())),
            (SslMode::VerifyCa, Some(cert.clone())),
            (SslMode::VerifyFull, Some(cert.clone())),
        ] {
            let client = sluice_postgres::catalog::connect(&settings(mode, root), "tls-test")
                .await
                .unwrap_or_else(|e| panic!("{mode}: {e}"));
            let ssl: bool = client
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            assert!(ssl, "{mode}");
        }
        let Err(err) = sluice_postgres::catalog::connect(
            &settings(SslMode::VerifyCa, Some(other.join("c"))),
            "tls-test",
        )
        .await
        else {
            panic!("a certificate from another root must be refused");
        };
        assert!(err.to_string().contains("connecting to"), "{err}");

        // Streaming works over TLS too.
        let mut cfg = config(&pg, &db);
        cfg.sslmode = SslMode::Require;
        let slot = unique_name("tls");
        let mut client = ReplicationClient::connect(&cfg).await.unwrap();
        client
            .create_logical_slot(&slot, "pgoutput", true, SnapshotAction::NoExport)
            .await
            .unwrap();
        pg.psql(
            &db,
            "INSERT INTO t SELECT g, repeat('x', 1000) FROM generate_series(1, 2000) g",
        )
        .unwrap();
        let mut stream = client
            .start_logical_replication(&slot, Lsn(0), PGOUTPUT_V1)
            .await
            .unwrap();
        let messages = read_transactions(&mut stream, 1).await;
        assert_eq!(messages.iter().filter(|(_, d)| d[0] == b'I').count(), 2000);
        check_transactions(&messages);
        stream.stop().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_crash_mid_stream_is_a_connection_error() {
        let mut pg = PgServer::start().unwrap();
        let db = setup_db(&pg, "repl_crash");
        let slot = unique_name("crash");
        let mut client = ReplicationClient::connect(&config(&pg, &db)).await.unwrap();
        client
            .create_logical_slot(&slot, "pgoutput", false, SnapshotAction::NoExport)
            .await
            .unwrap();
        pg.psql(
            &db,
            "INSERT INTO t SELECT g, repeat('y', 200) FROM generate_series(1, 20000) g",
        )
        .unwrap();
        let mut stream = client
            .start_logical_replication(&slot, Lsn(0), PGOUTPUT_V1)
            .await
            .unwrap();
        // Mid-stream: some data read, more on the way.
        for _ in 0..100 {
            next_msg(&mut stream).await;
        }
        pg.kill9();
        let started = Instant::now();
        let err = loop {
            match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
                Err(_) => panic!("next() hangs after the server was killed"),
                Ok(Ok(Some(_))) => continue, // buffered before the crash
                Ok(Ok(None)) => panic!("the stream ended cleanly after a crash"),
                Ok(Err(e)) => break e,
            }
        };
        assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
        assert!(err.is_retriable());
        assert!(
            err.to_string()
                .starts_with(&format!("streaming from slot '{slot}' failed:")),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(30));
        // And it stays failed.
        assert_eq!(
            stream.next().await.unwrap_err().kind(),
            ErrorKind::Connection
        );
        assert!(stream
            .send_status_update(Lsn(1), Lsn(1), Lsn(1), false)
            .await
            .is_err());
        // stop() on a dead stream does not hang.
        tokio::time::timeout(Duration::from_secs(5), stream.stop())
            .await
            .unwrap()
            .unwrap();
    }

    /// Reads with `timeout(…, next())` around every call, with timeouts so tiny
    /// that most calls are cancelled midway, and compares with an
    /// uninterrupted read of the same WAL through a second slot.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn next_is_cancel_safe() {
        let pg = shared_pg();
        let db = setup_db(pg, "repl_cancel");
        let (slot_a, slot_b) = (unique_name("plain"), unique_name("cancelled"));
        let mut client = ReplicationClient::connect(&config(pg, &db)).await.unwrap();
        client
            .create_logical_slot(&slot_a, "pgoutput", true, SnapshotAction::NoExport)
            .await
            .unwrap();
        let mut client_b = ReplicationClient::connect(&config(pg, &db)).await.unwrap();
        client_b
            .create_logical_slot(&slot_b, "pgoutput", true, SnapshotAction::NoExport)
            .await
            .unwrap();

        // Written while the cancelled reader reads, so that it often waits for
        // the socket (and is cancelled there): many small transactions, big
        // rows (frames larger than one read), a big multi-row transaction.
        const TXNS: usize = 303;
        let writer = {
            let db = db.clone();
            std::thread::spawn(move || {
                let pg = shared_pg();
                for chunk in 0..30 {
                    let mut sql = String::new();
                    for i in chunk * 10..chunk * 10 + 10 {
                        let size = if i % 25 == 0 { 300_000 } else { 10 + i * 7 };
                        sql.push_str(&format!(
                            "INSERT INTO t VALUES ({i}, repeat(chr(65 + {i} % 26), {size}));\n"
                        ));
                    }
                    pg.psql(&db, &sql).unwrap();
                    std::thread::sleep(Duration::from_millis(20));
                }
                pg.psql(
                    &db,
                    "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1000, 30999) g",
                )
                .unwrap();
                pg.psql(&db, "UPDATE t SET payload = payload || '!' WHERE id < 1000")
                    .unwrap();
                pg.psql(&db, "DELETE FROM t WHERE id >= 30000").unwrap();
            })
        };

        let mut stream = client_b
            .start_logical_replication(&slot_b, Lsn(0), PGOUTPUT_V1)
            .await
            .unwrap();
        let mut got: Vec<(Lsn, Bytes)> = Vec::new();
        let mut cancelled = 0u64;
        let mut drained = 0u64;
        let mut commits = 0;
        let mut round = 0u64;
        let deadline = Instant::now() + Duration::from_secs(120);
        while commits < TXNS {
            assert!(
                Instant::now() < deadline,
                "too slow: {} messages, {commits} commits",
                got.len()
            );
            round += 1;
            let limit = match round % 4 {
                0 => Duration::ZERO,
                1 => Duration::from_micros(1),
                2 => Duration::from_micros(50),
                _ => Duration::from_millis(1),
            };
            let message = match tokio::time::timeout(limit, stream.next()).await {
                Err(_) => {
                    cancelled += 1;
                    if round.is_multiple_of(7) {
                        tokio::task::yield_now().await;
                    }
                    continue;
                }
                Ok(result) => result.unwrap().expect("stream ended"),
            };
            let mut batch = vec![message];
            // Drain what is buffered without waiting, now and then.
            if round.is_multiple_of(3) {
                while let Some(m) = stream.try_next_buffered().unwrap() {
                    drained += 1;
                    batch.push(m);
                }
            }
            for m in batch {
                if let ReplicationMessage::XLogData {
                    wal_start, data, ..
                } = m
                {
                    if data[0] == b'C' {
                        commits += 1;
                    }
                    got.push((wal_start, data));
                }
            }
        }
        stream.stop().await.unwrap();
        writer.join().unwrap();

        let mut plain = client
            .start_logical_replication(&slot_a, Lsn(0), PGOUTPUT_V1)
            .await
            .unwrap();
        let expected = read_transactions(&mut plain, TXNS).await;
        plain.stop().await.unwrap();
        check_transactions(&expected);

        assert!(
            cancelled > 100,
            "only {cancelled} calls were cancelled: the test did not exercise cancellation"
        );
        eprintln!("cancel safety: {} messages, {cancelled} cancelled calls, {drained} drained without waiting", got.len());
        let tags = |v: &[(Lsn, Bytes)], i: usize| -> String {
            v.iter()
                .skip(i.saturating_sub(3))
                .take(6)
                .map(|(l, d)| format!("{l}:{}", d[0] as char))
                .collect::<Vec<_>>()
                .join(" ")
        };
        // Relation messages are not part of the comparison: pgoutput sends one
        // whenever the relation cache entry was invalidated (autovacuum,
        // concurrent catalog activity), which differs between the two runs.
        let without_relations = |v: &[(Lsn, Bytes)]| -> Vec<(Lsn, Bytes)> {
            v.iter().filter(|(_, d)| d[0] != b'R').cloned().collect()
        };
        let (expected, got) = (without_relations(&expected), without_relations(&got));
        for (i, (a, b)) in expected.iter().zip(&got).enumerate() {
            assert!(
                a.0 == b.0 && a.1 == b.1,
                "message {i} differs ({} vs {} bytes): expected {} got {}",
                a.1.len(),
                b.1.len(),
                tags(&expected, i),
                tags(&got, i)
            );
        }
        assert_eq!(got.len(), expected.len());
        check_transactions(&got);
    }
}
