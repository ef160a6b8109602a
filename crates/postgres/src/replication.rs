//! A PostgreSQL streaming-replication client for logical replication.
//!
//! tokio-postgres does not speak the replication sub-protocol (the
//! `replication=database` startup parameter, CopyBoth), so this is a small
//! client of its own on `postgres-protocol`'s message encoders and
//! authentication helpers, over a tokio `TcpStream`, optionally TLS
//! (tokio-native-tls).
//!
//! ```no_run
//! # async fn demo() -> Result<(), sluice_postgres::replication::ReplicationError> {
//! use sluice_postgres::lsn::Lsn;
//! use sluice_postgres::replication::*;
//!
//! let config = ReplicationConfig::new("127.0.0.1", 5432, "cdc", "shop");
//! let mut client = ReplicationClient::connect(&config).await?;
//! let system = client.identify_system().await?;
//! let slot = client.create_logical_slot("sluice", "pgoutput", false, SnapshotAction::NoExport).await?;
//! let mut stream = client
//!     .start_logical_replication(
//!         "sluice",
//!         slot.consistent_point,
//!         &[("proto_version", "1"), ("publication_names", "\"dbz_publication\"")],
//!     )
//!     .await?;
//! while let Some(message) = stream.next().await? {
//!     match message {
//!         ReplicationMessage::XLogData { data, .. } => { /* decode pgoutput */ let _ = data; }
//!         ReplicationMessage::PrimaryKeepalive { wal_end, reply_requested, .. } => {
//!             if reply_requested {
//!                 let done = Lsn(0); // what the sink has made durable
//!                 stream.send_status_update(done, done, done, false).await?;
//!             }
//!             let _ = wal_end;
//!         }
//!     }
//! }
//! # let _ = system;
//! # Ok(()) }
//! ```
//!
//! Notes on the server's behaviour that the caller has to know:
//!
//! * The server never advances the slot (`confirmed_flush_lsn`) on its own:
//!   only the `flush` position of [`ReplicationStream::send_status_update`]
//!   does, exactly to the value sent. Send the position the sink has made
//!   durable, never more.
//! * The walsender ends the connection after `wal_sender_timeout` (60 s by
//!   default) without a status update; answer keepalives with
//!   `reply_requested` promptly and send updates regularly.
//! * After a replication connection ends, its walsender releases the slot a
//!   moment later; a reconnect in that window gets `55006 replication slot
//!   "x" is active for PID n`, which is classified as retriable.
//! * `CREATE_REPLICATION_SLOT … SNAPSHOT 'use'` must run inside a
//!   `BEGIN ISOLATION LEVEL REPEATABLE READ` transaction on this connection
//!   before any other query of it; an exported snapshot (`'export'`) lives
//!   only until the next command on this connection.

mod connect;
mod error;
mod wire;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use postgres_protocol::message::frontend;

pub use error::{kind_for_sqlstate, ReplicationError, ServerError};

use crate::lsn::Lsn;
use wire::Wire;

/// `database.sslmode`: whether and how to use TLS, with libpq's (and
/// Debezium's) values and meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// Plain first; TLS if the server turns the plain connection down.
    Allow,
    /// TLS if the server supports it, else plain; the certificate is not
    /// verified. Debezium's default.
    #[default]
    Prefer,
    /// TLS or fail; the certificate is not verified (unless a root
    /// certificate is configured, which makes it `verify-ca`, as in libpq).
    Require,
    /// TLS, and the server certificate must chain to the root certificate.
    VerifyCa,
    /// Like `verify-ca`, and the host name must match the certificate.
    VerifyFull,
}

impl SslMode {
    /// The configuration spelling: `disable`, `allow`, `prefer`, `require`,
    /// `verify-ca`, `verify-full`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = ReplicationError;

    /// Parses Debezium's `database.sslmode` values (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "disable" => Ok(SslMode::Disable),
            "allow" => Ok(SslMode::Allow),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-ca" | "verify_ca" => Ok(SslMode::VerifyCa),
            "verify-full" | "verify_full" => Ok(SslMode::VerifyFull),
            _ => Err(ReplicationError::config(format!(
                "invalid database.sslmode '{s}': expected one of disable, allow, prefer, require, verify-ca, verify-full"
            ))),
        }
    }
}

/// Where and how to open a replication connection.
#[derive(Clone)]
pub struct ReplicationConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    pub sslmode: SslMode,
    /// `database.sslrootcert`: PEM (one or more certificates) or DER.
    pub ssl_root_cert: Option<PathBuf>,
    /// Shown in `pg_stat_replication` / `pg_stat_activity`; empty: not sent.
    pub application_name: String,
    /// For TCP connect, TLS handshake, authentication and startup together;
    /// zero means no limit (as in libpq).
    pub connect_timeout: Duration,
}

impl ReplicationConfig {
    /// A configuration with the defaults: no password, `sslmode=prefer`,
    /// application name `sluice`, 30 s connect timeout.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        dbname: impl Into<String>,
    ) -> Self {
        ReplicationConfig {
            host: host.into(),
            port,
            user: user.into(),
            password: None,
            dbname: dbname.into(),
            sslmode: SslMode::default(),
            ssl_root_cert: None,
            application_name: "sluice".to_string(),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for ReplicationConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplicationConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .field("ssl_root_cert", &self.ssl_root_cert)
            .field("application_name", &self.application_name)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// The answer to `IDENTIFY_SYSTEM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifySystem {
    /// The cluster's system identifier (a 64-bit number, as text).
    pub systemid: String,
    /// The current timeline.
    pub timeline: u32,
    /// The current WAL flush position.
    pub xlogpos: Lsn,
    /// The database of this connection (`None` for physical connections).
    pub dbname: Option<String>,
}

/// What `CREATE_REPLICATION_SLOT` does with the snapshot at the slot's
/// consistent point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnapshotAction {
    /// No snapshot (`SNAPSHOT 'nothing'`).
    NoExport,
    /// Export it for other sessions (`SNAPSHOT 'export'`); valid until the
    /// next command on this connection.
    Export,
    /// Use it in the current transaction of this connection
    /// (`SNAPSHOT 'use'`; must be inside `BEGIN ISOLATION LEVEL REPEATABLE
    /// READ`).
    Use,
}

/// The answer to `CREATE_REPLICATION_SLOT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedSlot {
    pub slot_name: String,
    /// The LSN from which the slot's changes start.
    pub consistent_point: Lsn,
    /// The exported snapshot (with [`SnapshotAction::Export`]).
    pub snapshot_name: Option<String>,
    pub output_plugin: Option<String>,
}

/// A message of the replication stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicationMessage {
    /// WAL data: for logical replication, one message of the output plugin.
    XLogData {
        /// The WAL position of the start of this data.
        wal_start: Lsn,
        /// The server's current end of WAL.
        wal_end: Lsn,
        /// The server's clock when sending, µs since 2000-01-01 UTC.
        server_time_us: i64,
        /// The output plugin's message (shares the read buffer; no copy).
        data: Bytes,
    },
    /// A keepalive. With `reply_requested`, the server wants a status
    /// update at once (it is nearing `wal_sender_timeout`).
    PrimaryKeepalive {
        wal_end: Lsn,
        server_time_us: i64,
        reply_requested: bool,
    },
}

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC).
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

/// A PostgreSQL timestamp (µs since 2000-01-01 UTC) as a `SystemTime`.
pub fn pg_micros_to_system_time(pg_micros: i64) -> SystemTime {
    let unix_micros = pg_micros.saturating_add(PG_EPOCH_UNIX_MICROS);
    if unix_micros >= 0 {
        UNIX_EPOCH + Duration::from_micros(unix_micros as u64)
    } else {
        UNIX_EPOCH - Duration::from_micros(unix_micros.unsigned_abs())
    }
}

/// A `SystemTime` as a PostgreSQL timestamp (µs since 2000-01-01 UTC).
pub fn system_time_to_pg_micros(time: SystemTime) -> i64 {
    let unix_micros = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    };
    unix_micros.saturating_sub(PG_EPOCH_UNIX_MICROS)
}

/// A replication connection (`replication=database`) before streaming:
/// replication commands and plain SQL.
pub struct ReplicationClient {
    wire: Wire,
    parameters: Vec<(String, String)>,
    server_version: u32,
    backend_pid: i32,
    /// A command was sent and its ReadyForQuery not yet read (its future
    /// was dropped midway): the connection's state is unknown.
    busy: bool,
}

impl fmt::Debug for ReplicationClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplicationClient")
            .field("peer", &self.wire.peer)
            .field("server_version", &self.server_version)
            .field("backend_pid", &self.backend_pid)
            .field("tls", &self.wire.transport().is_tls())
            .finish_non_exhaustive()
    }
}

impl ReplicationClient {
    /// Opens a logical replication connection: TCP, TLS per
    /// [`SslMode`], startup with `replication=database`, authentication
    /// (trust, password, MD5, SCRAM-SHA-256), up to the first
    /// ReadyForQuery. Server errors carry their SQLSTATE (`28P01` wrong
    /// password → Authentication, `42501` no REPLICATION privilege →
    /// Permission, `3D000` no such database → Config, …).
    pub async fn connect(config: &ReplicationConfig) -> Result<Self, ReplicationError> {
        let session = connect::connect(config).await?;
        let server_version = session
            .parameters
            .iter()
            .find(|(n, _)| n == "server_version")
            .map(|(_, v)| parse_server_version(v))
            .unwrap_or(0);
        tracing::debug!(
            peer = %session.wire.peer,
            server_version,
            backend_pid = session.backend_pid,
            tls = session.wire.transport().is_tls(),
            "replication connection established"
        );
        Ok(ReplicationClient {
            wire: session.wire,
            parameters: session.parameters,
            server_version,
            backend_pid: session.backend_pid,
            busy: false,
        })
    }

    /// The server version as a number, like libpq's `PQserverVersion`:
    /// `150019` for 15.19, `90624` for 9.6.24; 0 if the server did not say.
    pub fn server_version(&self) -> u32 {
        self.server_version
    }

    /// A parameter the server reported (`server_version`,
    /// `server_encoding`, `TimeZone`, `integer_datetimes`, …).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The process id of the walsender serving this connection (as in
    /// `pg_stat_replication.pid` / `pg_replication_slots.active_pid`).
    pub fn backend_pid(&self) -> i32 {
        self.backend_pid
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.wire.transport().is_tls()
    }

    /// `IDENTIFY_SYSTEM`.
    pub async fn identify_system(&mut self) -> Result<IdentifySystem, ReplicationError> {
        const WHAT: &str = "IDENTIFY_SYSTEM";
        let rows = self
            .query("IDENTIFY_SYSTEM")
            .await
            .map_err(|e| e.context(WHAT))?;
        let row = single_row(rows, 4).map_err(|e| e.context(WHAT))?;
        let timeline = row[1]
            .as_deref()
            .and_then(|t| t.parse::<u32>().ok())
            .ok_or_else(|| {
                ReplicationError::protocol(format!("invalid timeline {:?}", row[1])).context(WHAT)
            })?;
        let xlogpos = parse_lsn(row[2].as_deref()).map_err(|e| e.context(WHAT))?;
        let mut row = row.into_iter();
        let systemid = row.next().flatten().unwrap_or_default();
        let dbname = row.nth(2).flatten();
        Ok(IdentifySystem {
            systemid,
            timeline,
            xlogpos,
            dbname,
        })
    }

    /// `CREATE_REPLICATION_SLOT "slot" [TEMPORARY] LOGICAL "plugin"` with
    /// the snapshot action (PostgreSQL 15's option syntax, or the older
    /// keywords on older servers). A temporary slot is dropped when this
    /// connection ends. Slot names are validated as PostgreSQL does
    /// (`[a-z0-9_]`, at most 63 bytes). An existing slot is `42710`
    /// (Config).
    pub async fn create_logical_slot(
        &mut self,
        slot: &str,
        plugin: &str,
        temporary: bool,
        snapshot: SnapshotAction,
    ) -> Result<CreatedSlot, ReplicationError> {
        let what = format!("CREATE_REPLICATION_SLOT '{slot}'");
        validate_slot_name(slot).map_err(|e| e.context(&what))?;
        let plugin_ident = quote_ident(plugin).map_err(|e| e.context(&what))?;
        let mut sql = format!("CREATE_REPLICATION_SLOT \"{slot}\"");
        if temporary {
            sql.push_str(" TEMPORARY");
        }
        sql.push_str(" LOGICAL ");
        sql.push_str(&plugin_ident);
        if self.server_version >= 150000 || self.server_version == 0 {
            sql.push_str(match snapshot {
                SnapshotAction::NoExport => " (SNAPSHOT 'nothing')",
                SnapshotAction::Export => " (SNAPSHOT 'export')",
                SnapshotAction::Use => " (SNAPSHOT 'use')",
            });
        } else {
            sql.push_str(match snapshot {
                SnapshotAction::NoExport => " NOEXPORT_SNAPSHOT",
                SnapshotAction::Export => " EXPORT_SNAPSHOT",
                SnapshotAction::Use => " USE_SNAPSHOT",
            });
        }
        let rows = self.query(&sql).await.map_err(|e| e.context(&what))?;
        let row = single_row(rows, 4).map_err(|e| e.context(&what))?;
        let consistent_point = parse_lsn(row[1].as_deref()).map_err(|e| e.context(&what))?;
        let mut row = row.into_iter();
        let slot_name = row.next().flatten().unwrap_or_else(|| slot.to_string());
        let _ = row.next();
        let snapshot_name = row.next().flatten();
        let output_plugin = row.next().flatten();
        Ok(CreatedSlot {
            slot_name,
            consistent_point,
            snapshot_name,
            output_plugin,
        })
    }

    /// Runs `sql` with the simple query protocol and returns the rows of
    /// all its result sets as text (`None` for NULL). For replication
    /// commands (`DROP_REPLICATION_SLOT "x" WAIT`,
    /// `READ_REPLICATION_SLOT "x"`, `SHOW wal_level`, `TIMELINE_HISTORY`, …)
    /// and the SQL a `replication=database` connection allows (`BEGIN`,
    /// `SELECT`, …). COPY is not supported.
    pub async fn simple_query(
        &mut self,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, ReplicationError> {
        self.query(sql)
            .await
            .map_err(|e| e.context(format!("query '{}'", abbreviate(sql))))
    }

    async fn query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, ReplicationError> {
        self.check_ready()?;
        frontend::query(sql, self.wire.wbuf())
            .map_err(|e| ReplicationError::config(format!("invalid query text: {e}")))?;
        self.busy = true;
        self.wire.flush().await?;
        let mut rows = Vec::new();
        let mut error: Option<ReplicationError> = None;
        loop {
            let frame = self.wire.read_frame().await?;
            match frame.tag {
                b'T' | b'C' | b'I' | b'n' | b'A' => {}
                b'D' => rows.push(parse_data_row(&frame.body).map_err(|e| self.fail(e))?),
                b'E' => {
                    let err = ServerError::parse(&frame.body);
                    let fatal = err.is_fatal();
                    if error.is_none() {
                        error = Some(ReplicationError::server(err));
                    }
                    if fatal {
                        self.wire.broken = true;
                        break;
                    }
                }
                b'N' => log_notice(&frame.body),
                b'S' => {
                    if let Some((name, value)) = parse_parameter_status(&frame.body) {
                        self.parameters.retain(|(n, _)| *n != name);
                        self.parameters.push((name, value));
                    }
                }
                b'G' => {
                    // COPY FROM STDIN: refuse; the server answers with an
                    // error and ReadyForQuery.
                    frontend::copy_fail("COPY FROM STDIN is not supported by sluice's replication client", self.wire.wbuf())
                        .map_err(|e| ReplicationError::protocol(e.to_string()))?;
                    self.wire.flush().await?;
                }
                b'H' | b'd' | b'c' => {} // COPY TO STDOUT: its data is dropped.
                b'W' => {
                    return Err(self.fail(ReplicationError::protocol(
                        "the command started streaming (CopyBoth); use start_logical_replication instead of simple_query",
                    )))
                }
                b'Z' => break,
                other => {
                    return Err(self.fail(ReplicationError::protocol(format!(
                        "unexpected message {:?} from {}",
                        char::from(other),
                        self.wire.peer
                    ))))
                }
            }
        }
        self.busy = false;
        match error {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }

    fn check_ready(&self) -> Result<(), ReplicationError> {
        if self.wire.broken {
            return Err(self.wire.broken_error());
        }
        if self.busy {
            return Err(ReplicationError::new(
                sluice_connect_api::ErrorKind::Connection,
                format!(
                    "connection to {} is in an unknown state: an earlier command was interrupted; reconnect",
                    self.wire.peer
                ),
            ));
        }
        Ok(())
    }

    fn fail(&mut self, err: ReplicationError) -> ReplicationError {
        self.wire.broken = true;
        err
    }

    /// `START_REPLICATION SLOT "slot" LOGICAL start (options)` and switch
    /// to streaming. Option names are sent as quoted identifiers, values
    /// as string literals (quotes doubled), e.g. `[("proto_version", "1"),
    /// ("publication_names", "\"pub\""), ("messages", "true"),
    /// ("streaming", "on")]`. The server starts at the slot's
    /// `confirmed_flush_lsn` if `start` is before it. A slot in use by
    /// another connection is `55006` (Unavailable, retriable).
    pub async fn start_logical_replication(
        mut self,
        slot: &str,
        start: Lsn,
        options: &[(&str, &str)],
    ) -> Result<ReplicationStream, ReplicationError> {
        let what = format!("START_REPLICATION on slot '{slot}'");
        validate_slot_name(slot).map_err(|e| e.context(&what))?;
        let mut sql = format!("START_REPLICATION SLOT \"{slot}\" LOGICAL {start}");
        if !options.is_empty() {
            sql.push_str(" (");
            for (i, (name, value)) in options.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&quote_ident(name).map_err(|e| e.context(&what))?);
                sql.push(' ');
                sql.push_str(&quote_literal(value).map_err(|e| e.context(&what))?);
            }
            sql.push(')');
        }
        self.check_ready().map_err(|e| e.context(&what))?;
        frontend::query(&sql, self.wire.wbuf()).map_err(|e| {
            ReplicationError::config(format!("invalid START_REPLICATION command: {e}"))
                .context(&what)
        })?;
        self.busy = true;
        self.wire.flush().await.map_err(|e| e.context(&what))?;
        loop {
            let frame = self.wire.read_frame().await.map_err(|e| e.context(&what))?;
            match frame.tag {
                b'W' => break,
                b'E' => {
                    return Err(
                        ReplicationError::server(ServerError::parse(&frame.body)).context(&what)
                    )
                }
                b'N' => log_notice(&frame.body),
                b'S' => {}
                other => {
                    return Err(ReplicationError::protocol(format!(
                        "unexpected message {:?} from {} instead of CopyBothResponse",
                        char::from(other),
                        self.wire.peer
                    ))
                    .context(&what))
                }
            }
        }
        tracing::debug!(slot, %start, peer = %self.wire.peer, "logical replication started");
        Ok(ReplicationStream {
            wire: self.wire,
            slot: slot.to_string(),
            server_version: self.server_version,
            backend_pid: self.backend_pid,
            ended: false,
            server_copy_done: false,
            server_command_complete: false,
        })
    }

    /// Ends the session politely (Terminate). Dropping the client closes
    /// the socket too; the server then logs an unexpected EOF.
    pub async fn close(mut self) {
        self.wire.terminate().await;
    }
}

/// A logical replication stream (CopyBoth mode).
///
/// [`next`](Self::next) is cancel-safe: use it in `tokio::select!` with
/// timers. Partial messages stay in the read buffer; only complete
/// messages are taken out of it.
pub struct ReplicationStream {
    wire: Wire,
    slot: String,
    server_version: u32,
    backend_pid: i32,
    /// `next` returned (or will return) `Ok(None)`.
    ended: bool,
    server_copy_done: bool,
    server_command_complete: bool,
}

impl fmt::Debug for ReplicationStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplicationStream")
            .field("slot", &self.slot)
            .field("peer", &self.wire.peer)
            .field("backend_pid", &self.backend_pid)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl ReplicationStream {
    /// The next message; `Ok(None)` when the server ended the COPY
    /// (CopyDone, or CommandComplete when it shuts down). A lost
    /// connection is a `Connection` error, a server error carries its
    /// SQLSTATE. Cancel-safe.
    pub async fn next(&mut self) -> Result<Option<ReplicationMessage>, ReplicationError> {
        loop {
            if let Some(message) = self.try_next_buffered()? {
                return Ok(Some(message));
            }
            if self.ended {
                return Ok(None);
            }
            if let Err(e) = self.wire.fill().await {
                return Err(e.context(format!("streaming from slot '{}'", self.slot)));
            }
        }
    }

    /// A message that is already buffered, if any; never waits (lets the
    /// caller drain a burst without awaiting). `Ok(None)` also after the
    /// stream ended.
    #[inline]
    pub fn try_next_buffered(&mut self) -> Result<Option<ReplicationMessage>, ReplicationError> {
        if self.ended {
            return Ok(None);
        }
        loop {
            let frame = match self.wire.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.stream_error(e)),
            };
            match frame.tag {
                b'd' => {
                    return match decode_copy_data(frame.body) {
                        Ok(message) => Ok(Some(message)),
                        Err(e) => Err(self.stream_error(e)),
                    }
                }
                b'N' => log_notice(&frame.body),
                b'S' => {}
                b'c' => {
                    self.server_copy_done = true;
                    self.ended = true;
                    return Ok(None);
                }
                b'C' => {
                    self.server_command_complete = true;
                    self.ended = true;
                    return Ok(None);
                }
                b'E' => {
                    let err = ReplicationError::server(ServerError::parse(&frame.body));
                    return Err(self.stream_error(err));
                }
                other => {
                    let err = ReplicationError::protocol(format!(
                        "unexpected message {:?} from {} in the replication stream",
                        char::from(other),
                        self.wire.peer
                    ));
                    return Err(self.stream_error(err));
                }
            }
        }
    }

    #[cold]
    fn stream_error(&mut self, err: ReplicationError) -> ReplicationError {
        self.wire.broken = true;
        err.context(format!("streaming from slot '{}'", self.slot))
    }

    /// Sends a standby status update ('r'): the positions written, flushed
    /// (durable — this moves the slot's `confirmed_flush_lsn`) and applied,
    /// the client's clock, and whether the server should answer with a
    /// keepalive at once. Flushes the socket. If the future is cancelled,
    /// the unsent rest is sent before the next update (messages are never
    /// torn).
    pub async fn send_status_update(
        &mut self,
        write: Lsn,
        flush: Lsn,
        apply: Lsn,
        reply_requested: bool,
    ) -> Result<(), ReplicationError> {
        let now = system_time_to_pg_micros(SystemTime::now());
        let buf = self.wire.wbuf();
        buf.reserve(39);
        buf.put_u8(b'd');
        buf.put_u32(4 + 34);
        buf.put_u8(b'r');
        buf.put_u64(write.0);
        buf.put_u64(flush.0);
        buf.put_u64(apply.0);
        buf.put_i64(now);
        buf.put_u8(u8::from(reply_requested));
        self.wire
            .flush()
            .await
            .map_err(|e| e.context(format!("sending a status update for slot '{}'", self.slot)))
    }

    /// Ends streaming: sends CopyDone, reads (and drops) what the server
    /// still sends until it finishes the command, then closes the
    /// connection. A stream that already failed is just closed.
    pub async fn stop(mut self) -> Result<(), ReplicationError> {
        let what = format!("stopping replication from slot '{}'", self.slot);
        if self.wire.broken {
            return Ok(());
        }
        if self.server_command_complete && !self.server_copy_done {
            // The server ended the stream on its own (shutdown) and exits.
            self.wire.terminate().await;
            return Ok(());
        }
        frontend::copy_done(self.wire.wbuf());
        self.wire.flush().await.map_err(|e| e.context(&what))?;
        loop {
            let frame = self.wire.read_frame().await.map_err(|e| e.context(&what))?;
            match frame.tag {
                b'd' | b'c' | b'C' | b'T' | b'D' | b'S' => {}
                b'N' => log_notice(&frame.body),
                b'E' => {
                    self.wire.broken = true;
                    return Err(
                        ReplicationError::server(ServerError::parse(&frame.body)).context(&what)
                    );
                }
                b'Z' => break,
                other => {
                    self.wire.broken = true;
                    return Err(ReplicationError::protocol(format!(
                        "unexpected message {:?} from {} after CopyDone",
                        char::from(other),
                        self.wire.peer
                    ))
                    .context(&what));
                }
            }
        }
        self.wire.terminate().await;
        tracing::debug!(slot = %self.slot, "logical replication stopped");
        Ok(())
    }

    /// The slot this stream reads.
    pub fn slot(&self) -> &str {
        &self.slot
    }

    /// The walsender's process id (`pg_replication_slots.active_pid`).
    pub fn backend_pid(&self) -> i32 {
        self.backend_pid
    }

    /// See [`ReplicationClient::server_version`].
    pub fn server_version(&self) -> u32 {
        self.server_version
    }
}

/// Decodes the payload of a CopyData message of the replication stream.
#[inline]
fn decode_copy_data(mut body: BytesMut) -> Result<ReplicationMessage, ReplicationError> {
    match body.first() {
        Some(b'w') if body.len() >= 25 => {
            let wal_start = Lsn(be_u64(&body, 1));
            let wal_end = Lsn(be_u64(&body, 9));
            let server_time_us = be_u64(&body, 17) as i64;
            body.advance(25);
            Ok(ReplicationMessage::XLogData {
                wal_start,
                wal_end,
                server_time_us,
                data: body.freeze(),
            })
        }
        Some(b'k') if body.len() >= 18 => Ok(ReplicationMessage::PrimaryKeepalive {
            wal_end: Lsn(be_u64(&body, 1)),
            server_time_us: be_u64(&body, 9) as i64,
            reply_requested: body[17] != 0,
        }),
        Some(&kind) => Err(ReplicationError::protocol(format!(
            "invalid replication message: type {:?} with {} bytes",
            char::from(kind),
            body.len()
        ))),
        None => Err(ReplicationError::protocol(
            "invalid replication message: empty CopyData",
        )),
    }
}

#[inline]
fn be_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(a)
}

/// Name and value of a ParameterStatus message.
pub(crate) fn parse_parameter_status(body: &[u8]) -> Option<(String, String)> {
    let mut parts = body.split(|&b| b == 0);
    let name = parts.next()?;
    let value = parts.next()?;
    Some((
        String::from_utf8_lossy(name).into_owned(),
        String::from_utf8_lossy(value).into_owned(),
    ))
}

/// Logs a NoticeResponse.
pub(crate) fn log_notice(body: &[u8]) {
    let notice = ServerError::parse(body);
    match notice.severity.as_str() {
        "WARNING" => tracing::warn!(code = %notice.code, "server: {}", notice),
        "DEBUG" | "LOG" => tracing::debug!(code = %notice.code, "server: {}", notice),
        _ => tracing::info!(code = %notice.code, "server: {}", notice),
    }
}

/// The columns of a DataRow message as text.
fn parse_data_row(body: &[u8]) -> Result<Vec<Option<String>>, ReplicationError> {
    let invalid = || ReplicationError::protocol("invalid DataRow message");
    if body.len() < 2 {
        return Err(invalid());
    }
    let count = u16::from_be_bytes([body[0], body[1]]) as usize;
    let mut rest = &body[2..];
    let mut row = Vec::with_capacity(count);
    for _ in 0..count {
        if rest.len() < 4 {
            return Err(invalid());
        }
        let len = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        rest = &rest[4..];
        if len < 0 {
            row.push(None);
            continue;
        }
        let len = len as usize;
        if rest.len() < len {
            return Err(invalid());
        }
        row.push(Some(String::from_utf8_lossy(&rest[..len]).into_owned()));
        rest = &rest[len..];
    }
    Ok(row)
}

fn single_row(
    rows: Vec<Vec<Option<String>>>,
    columns: usize,
) -> Result<Vec<Option<String>>, ReplicationError> {
    let n = rows.len();
    match rows.into_iter().next() {
        Some(row) if n == 1 && row.len() >= columns => Ok(row),
        Some(row) => Err(ReplicationError::protocol(format!(
            "expected one row of {columns} columns, got {n} rows of {} columns",
            row.len()
        ))),
        None => Err(ReplicationError::protocol("expected one row, got none")),
    }
}

fn parse_lsn(text: Option<&str>) -> Result<Lsn, ReplicationError> {
    text.ok_or_else(|| ReplicationError::protocol("expected an LSN, got NULL"))?
        .parse::<Lsn>()
        .map_err(ReplicationError::protocol)
}

/// `server_version` as libpq's `PQserverVersion` computes it.
fn parse_server_version(text: &str) -> u32 {
    let head: &str = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .unwrap_or("");
    let mut parts = head.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let second = parts.next().unwrap_or(0);
    let third = parts.next().unwrap_or(0);
    if major >= 10 {
        major * 10000 + second
    } else {
        major * 10000 + second * 100 + third
    }
}

/// PostgreSQL's rule for replication slot names.
fn validate_slot_name(name: &str) -> Result<(), ReplicationError> {
    if name.is_empty() || name.len() > 63 {
        return Err(ReplicationError::config(format!(
            "invalid replication slot name '{name}': must be 1 to 63 characters long"
        )));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(ReplicationError::config(format!(
            "invalid replication slot name '{name}': only lower-case letters, digits and underscores are allowed"
        )));
    }
    Ok(())
}

/// A double-quoted identifier for a replication command. Embedded double
/// quotes are refused: before 18.5 the replication scanner did not undouble
/// them.
fn quote_ident(name: &str) -> Result<String, ReplicationError> {
    if name.is_empty() || name.contains('"') || name.contains('\0') {
        return Err(ReplicationError::config(format!(
            "invalid name {name:?} in a replication command"
        )));
    }
    Ok(format!("\"{name}\""))
}

/// A single-quoted string literal for a replication command ('' doubles a
/// quote; backslashes are not special).
fn quote_literal(value: &str) -> Result<String, ReplicationError> {
    if value.contains('\0') {
        return Err(ReplicationError::config(format!(
            "invalid value {value:?} in a replication command"
        )));
    }
    Ok(format!("'{}'", value.replace('\'', "''")))
}

fn abbreviate(sql: &str) -> String {
    const MAX: usize = 120;
    let sql = sql.trim();
    if sql.len() <= MAX {
        return sql.to_string();
    }
    let mut end = MAX;
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &sql[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client, the stream and their futures can move between threads
    /// (`tokio::spawn`).
    #[test]
    fn types_and_futures_are_send() {
        fn send<T: Send>(_: &T) {}
        fn send_sync<T: Send + Sync>() {}
        send_sync::<ReplicationError>();
        send_sync::<ReplicationMessage>();
        let config = ReplicationConfig::new("127.0.0.1", 1, "u", "d");
        let connect = ReplicationClient::connect(&config);
        send(&connect);
        drop(connect);
        async fn use_stream(mut client: ReplicationClient) -> Result<(), ReplicationError> {
            client.identify_system().await?;
            client.simple_query("SELECT 1").await?;
            let mut stream = client.start_logical_replication("s", Lsn(0), &[]).await?;
            stream.next().await?;
            stream
                .send_status_update(Lsn(0), Lsn(0), Lsn(0), false)
                .await?;
            stream.stop().await
        }
        fn check(client: ReplicationClient) {
            send(&use_stream(client));
        }
        let _ = check;
    }

    #[test]
    fn ssl_modes_parse_and_render() {
        for mode in [
            SslMode::Disable,
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ] {
            assert_eq!(mode.as_str().parse::<SslMode>().unwrap(), mode);
        }
        assert_eq!(
            "VERIFY-FULL".parse::<SslMode>().unwrap(),
            SslMode::VerifyFull
        );
        assert_eq!(SslMode::default(), SslMode::Prefer);
        let err = "required".parse::<SslMode>().unwrap_err();
        assert_eq!(err.kind(), sluice_connect_api::ErrorKind::Config);
        assert!(
            err.to_string()
                .contains("invalid database.sslmode 'required'"),
            "{err}"
        );
    }

    #[test]
    fn server_versions() {
        assert_eq!(
            parse_server_version("15.19 (Debian 15.19-1.pgdg120+1)"),
            150019
        );
        assert_eq!(parse_server_version("9.6.24"), 90624);
        assert_eq!(parse_server_version("16devel"), 160000);
        assert_eq!(parse_server_version("17beta1"), 170000);
        assert_eq!(parse_server_version("10.1"), 100001);
        assert_eq!(parse_server_version(""), 0);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_literal("it's").unwrap(), "'it''s'");
        assert_eq!(quote_literal("\"a\",\"b\"").unwrap(), "'\"a\",\"b\"'");
        assert_eq!(quote_literal("back\\slash").unwrap(), "'back\\slash'");
        assert_eq!(quote_ident("proto_version").unwrap(), "\"proto_version\"");
        assert!(quote_ident("a\"b").is_err());
        assert!(validate_slot_name("sluice_1").is_ok());
        assert!(validate_slot_name("Sluice").is_err());
        assert!(validate_slot_name("a-b").is_err());
        assert!(validate_slot_name(&"a".repeat(64)).is_err());
        assert!(validate_slot_name("").is_err());
    }

    #[test]
    fn pg_time() {
        let t = pg_micros_to_system_time(0);
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 946_684_800);
        assert_eq!(system_time_to_pg_micros(t), 0);
        assert_eq!(system_time_to_pg_micros(UNIX_EPOCH), -PG_EPOCH_UNIX_MICROS);
        assert_eq!(
            pg_micros_to_system_time(-PG_EPOCH_UNIX_MICROS - 1_000_000),
            UNIX_EPOCH - Duration::from_secs(1)
        );
    }

    #[test]
    fn decodes_copy_data() {
        let mut body = BytesMut::new();
        body.put_u8(b'w');
        body.put_u64(0x16_B374_D848);
        body.put_u64(0x16_B374_D900);
        body.put_i64(-5);
        body.put_slice(b"B...");
        match decode_copy_data(body).unwrap() {
            ReplicationMessage::XLogData {
                wal_start,
                wal_end,
                server_time_us,
                data,
            } => {
                assert_eq!(wal_start.to_string(), "16/B374D848");
                assert_eq!(wal_end, Lsn(0x16_B374_D900));
                assert_eq!(server_time_us, -5);
                assert_eq!(&data[..], b"B...");
            }
            other => panic!("{other:?}"),
        }
        let mut body = BytesMut::new();
        body.put_u8(b'k');
        body.put_u64(7);
        body.put_i64(8);
        body.put_u8(1);
        assert_eq!(
            decode_copy_data(body).unwrap(),
            ReplicationMessage::PrimaryKeepalive {
                wal_end: Lsn(7),
                server_time_us: 8,
                reply_requested: true
            }
        );
        let err = decode_copy_data(BytesMut::from(&b"w123"[..])).unwrap_err();
        assert_eq!(err.kind(), sluice_connect_api::ErrorKind::Protocol);
        assert!(decode_copy_data(BytesMut::new()).is_err());
    }

    #[test]
    fn parses_data_rows() {
        let mut body = BytesMut::new();
        body.put_u16(3);
        body.put_i32(2);
        body.put_slice(b"ab");
        body.put_i32(-1);
        body.put_i32(0);
        assert_eq!(
            parse_data_row(&body).unwrap(),
            vec![Some("ab".to_string()), None, Some(String::new())]
        );
        assert!(parse_data_row(&body[..5]).is_err());
        assert_eq!(
            parse_parameter_status(b"server_version\x0015.19\x00"),
            Some(("server_version".to_string(), "15.19".to_string()))
        );
    }
}
