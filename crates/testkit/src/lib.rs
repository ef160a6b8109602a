//! Throwaway database servers and golden-file helpers for sluice's tests.
//!
//! # Servers
//!
//! [`PgServer`] and [`MariaDbServer`] create a fresh cluster / data directory
//! in a temporary directory, start the server as a child process on
//! `127.0.0.1` and a free port, wait until it accepts connections, and stop
//! it and remove the directory when dropped (also when the test panics).
//! They never touch the machine's own servers (ports 5432 / 3306, `/etc`
//! configuration).
//!
//! ```no_run
//! use sluice_testkit::{unique_name, PgServer};
//!
//! let pg = PgServer::start()?;                    // wal_level = logical
//! let db = unique_name("orders");
//! pg.create_database(&db)?;
//! pg.psql(&db, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")?;
//! assert_eq!(pg.psql(&db, "SELECT count(*) FROM t")?, "1");
//! let url = pg.url(&db);                          // postgres://postgres@127.0.0.1:PORT/<db>
//! # let _ = url;
//! # Ok::<(), sluice_testkit::TestkitError>(())
//! ```
//!
//! ```no_run
//! use sluice_testkit::MariaDbServer;
//!
//! let mut my = MariaDbServer::start()?;           // binlog ROW/FULL, utf8mb4
//! my.create_database("shop")?;
//! my.sql("shop", "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1);")?;
//! my.kill9();                                     // crash it …
//! my.restart()?;                                  // … and bring it back: same port and data
//! assert_eq!(my.sql("shop", "SELECT id FROM t")?, "1");
//! # Ok::<(), sluice_testkit::TestkitError>(())
//! ```
//!
//! Details:
//!
//! * **PostgreSQL** (the newest `/usr/lib/postgresql/*/bin`, or
//!   `$SLUICE_PG_BIN`): superuser `postgres` with `trust` authentication
//!   (also for replication connections), `wal_level = logical`, 20
//!   replication slots and WAL senders, `fsync = off`. Extra settings and
//!   password users (md5 / SCRAM) through [`PgServer::builder`]. Settings
//!   go into `postgresql.conf`, so `ALTER SYSTEM` works too.
//!   [`PgServer::bin_dir`] has `pg_recvlogical`, `pg_dump`, … of the same
//!   version.
//! * **MariaDB** (`mariadb-install-db`, `mariadbd`, `mariadb` from `PATH`,
//!   `/usr/sbin`, `/usr/bin`, or `$SLUICE_MARIADB_BIN`): `root` with an empty
//!   password over TCP, binary log on (`binlog_format = ROW`, full row image
//!   and metadata, `server_id = 1`), `character_set_server = utf8mb4`. Extra
//!   `--key=value` options through [`MariaDbServer::builder`].
//! * Both are started with options that trade machine-crash durability for
//!   speed but keep committed data across [`PgServer::kill9`] /
//!   [`MariaDbServer::kill9`] (a server crash), so clients' crash recovery
//!   can be tested with `kill9()` + `restart()`. `restart()` keeps the port
//!   and data directory; `stop()` stops without starting again.
//! * Stopping: PostgreSQL gets a fast shutdown for `stop()` / `restart()`
//!   (then an immediate one after 5 s: a logical replication client that
//!   stopped reading would otherwise hold the shutdown up), and an immediate
//!   shutdown when dropped; MariaDB gets SIGTERM. Whatever is still running
//!   10 s later is killed with SIGKILL.
//! * When the tests run as root (CI), the servers run as the `postgres` /
//!   `mysql` system users (the servers refuse to run as root).
//! * Startup takes about a second for PostgreSQL and one to two for MariaDB.
//!   A server may be shared by the tests of a binary by keeping it in a
//!   `static` (`OnceLock`); give each test its own database, slot and
//!   publication names with [`unique_name`].
//! * No orphans: each server has a tiny watchdog process (`sh`) that stops
//!   the server and removes its directory if the test process dies without
//!   running destructors (SIGKILL, Ctrl-C, `process::exit`, a server in a
//!   `static`).
//! * Errors ([`TestkitError`]) say what failed and carry the last lines of
//!   the server log; [`PgServer::log`] / [`MariaDbServer::log`] return all
//!   of it.
//! * The programs missing is an error of kind [`ErrorKind::NotInstalled`]
//!   saying what to install (`apt-get install postgresql mariadb-server`);
//!   [`postgres_available`] and [`mariadb_available`] check beforehand.
//!
//! # Golden files
//!
//! The [`golden`] module reads files from the workspace's `testdata/`
//! directory, compares JSON structurally with a readable first difference
//! ([`golden::assert_json_eq`]), and (re)writes golden files when
//! `SLUICE_BLESS=1` ([`golden::assert_golden_json`]).

mod error;
pub mod golden;
mod mariadb;
mod postgres;
mod process;
pub mod rng;
mod tansu;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use error::{ErrorKind, TestkitError};
pub use mariadb::{mariadb_available, MariaDbServer, MariaDbServerBuilder};
pub use postgres::{postgres_available, PgAuthMethod, PgServer, PgServerBuilder};
pub use process::pid_alive;
pub use tansu::{tansu_available, tansu_program, TansuServer, TansuServerBuilder};

/// The longest name [`unique_name`] returns: PostgreSQL's identifier limit
/// (MariaDB allows 64).
pub const MAX_NAME_LEN: usize = 63;

/// A name unique across tests, test processes and runs, usable unquoted as a
/// PostgreSQL or MariaDB database, table, replication slot or publication
/// name: `<prefix>_<pid>_<counter>_<time>`, only `[a-z0-9_]`, starting with a
/// letter or `_`, at most 63 characters. The prefix is lowercased, other
/// characters become `_`, and it is shortened if need be.
///
/// ```
/// let name = sluice_testkit::unique_name("Slot-A");
/// assert!(name.starts_with("slot_a_"));
/// assert!(name.len() <= 63);
/// assert_ne!(name, sluice_testkit::unique_name("Slot-A"));
/// ```
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // The low 64 bits of the time in nanoseconds, in base 36 (≤ 13 chars).
    let suffix = format!("_{}_{counter}_{}", std::process::id(), base36(nanos as u64));

    let mut name: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        name.push('t');
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 't');
    }
    name.truncate(MAX_NAME_LEN.saturating_sub(suffix.len()).max(1));
    name.push_str(&suffix);
    name
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII digits")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn valid(name: &str) -> bool {
        name.len() <= MAX_NAME_LEN
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
    }

    #[test]
    fn unique_names_are_valid_and_unique() {
        let mut seen = HashSet::new();
        for prefix in [
            "slot",
            "Slot-With.Dots",
            "",
            "9lives",
            "ünïcode",
            &"x".repeat(200),
        ] {
            for _ in 0..100 {
                let name = unique_name(prefix);
                assert!(valid(&name), "{name:?}");
                assert!(seen.insert(name));
            }
        }
        assert!(unique_name("slot").starts_with("slot_"));
        assert!(unique_name("9lives").starts_with("t9lives_"));
        assert!(unique_name("").starts_with("t_"));
        assert!(unique_name("ünïcode").starts_with("_n_code_"));
        assert_eq!(unique_name(&"x".repeat(200)).len(), MAX_NAME_LEN);
    }

    #[test]
    fn base36_digits() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
        assert_eq!(base36(u64::MAX).len(), 13);
    }
}
