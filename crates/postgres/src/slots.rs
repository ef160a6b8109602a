//! Replication-slot monitoring: what `pg_replication_slots` says about a
//! slot, turned into a health verdict (`ok`, `warning`, `critical`, `lost`)
//! against the connector's `slot.lag.*` thresholds.
//!
//! * [`slot_report`]: the slot of one connector (its `database.*` settings
//!   and `slot.name`), for `GET /connectors/{name}/replication-slot`.
//! * [`all_slots`]: every slot of a database cluster, for `sluice slots`.
//! * [`SlotMonitor`]: the running task's periodic check, on its own query
//!   connection: it publishes the report as the task detail `slot` and as
//!   metrics, logs warnings, and tells the task when to pause reading (lag
//!   over `slot.lag.fail.bytes`) or to fail (the slot is lost or gone).
//!
//! The lag is `pg_current_wal_lsn() - confirmed_flush_lsn`: the WAL the
//! connector has not confirmed yet, i.e. what it still has to read and
//! deliver. The server keeps `pg_current_wal_lsn() - restart_lsn` bytes of
//! WAL for the slot (`retained_wal_bytes`); when that grows past
//! `max_slot_wal_keep_size` the server invalidates the slot
//! (`wal_status = 'lost'`) and the changes it held are gone.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value as Json};
use sluice_connect_api::config::Props;
use sluice_connect_api::{ConnectError, Result, TaskReporter};
use sluice_runtime::metrics::{defs, global, Gauge};
use tokio_postgres::Client;

use crate::catalog::{self, ConnectSettings};
use crate::replication::SslMode;

/// One GiB, the default of `slot.lag.warn.bytes`.
pub const DEFAULT_WARN_BYTES: i64 = 1 << 30;

/// The verdict on a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Lag under the warning threshold.
    Ok,
    /// Lag over `slot.lag.warn.bytes`, or the slot keeps more WAL than
    /// `max_wal_size` (`wal_status = 'extended'`).
    Warning,
    /// Lag over `slot.lag.fail.bytes`, or the server is about to remove WAL
    /// the slot needs (`wal_status = 'unreserved'`).
    Critical,
    /// The server invalidated the slot (`wal_status = 'lost'`).
    Lost,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Warning => "warning",
            Health::Critical => "critical",
            Health::Lost => "lost",
        }
    }
}

/// The lag thresholds (`slot.lag.warn.bytes`, `slot.lag.fail.bytes`);
/// negative turns a threshold off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotThresholds {
    pub warn_bytes: i64,
    pub fail_bytes: i64,
}

impl Default for SlotThresholds {
    fn default() -> Self {
        SlotThresholds {
            warn_bytes: DEFAULT_WARN_BYTES,
            fail_bytes: -1,
        }
    }
}

/// A replication slot as `pg_replication_slots` shows it, with its lag and
/// health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotReport {
    pub slot_name: String,
    /// The output plugin (`pgoutput`); `null` for a physical slot.
    pub plugin: Option<String>,
    /// `logical` or `physical`.
    pub slot_type: String,
    /// The database of a logical slot.
    pub database: Option<String>,
    /// A consumer is connected.
    pub active: bool,
    pub active_pid: Option<i32>,
    /// The oldest WAL position the slot may still need (`X/Y`).
    pub restart_lsn: Option<String>,
    /// What the consumer confirmed as processed (`X/Y`; logical slots).
    pub confirmed_flush_lsn: Option<String>,
    /// The server's current WAL write position (on a standby: the last
    /// position received).
    pub current_wal_lsn: Option<String>,
    /// `current_wal_lsn - confirmed_flush_lsn` (physical slots:
    /// `- restart_lsn`).
    pub lag_bytes: Option<i64>,
    /// `current_wal_lsn - restart_lsn`: the WAL the server keeps for the slot.
    pub retained_wal_bytes: Option<i64>,
    /// `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13+).
    pub wal_status: Option<String>,
    /// Bytes that can still be written before the slot is lost (PostgreSQL
    /// 13+; `null` without a `max_slot_wal_keep_size` limit).
    pub safe_wal_size: Option<i64>,
    /// The server's `max_slot_wal_keep_size` in bytes; -1 when unlimited
    /// (and before PostgreSQL 13).
    pub max_slot_wal_keep_size: i64,
    /// The thresholds the health was judged with.
    pub lag_warn_bytes: i64,
    pub lag_fail_bytes: i64,
    pub health: Health,
    /// Why, for humans.
    pub message: String,
}

impl SlotReport {
    /// The lag the thresholds apply to (0 when unknown).
    pub fn effective_lag(&self) -> i64 {
        self.lag_bytes
            .or(self.retained_wal_bytes)
            .unwrap_or(0)
            .max(0)
    }

    /// Whether the lag is over `slot.lag.fail.bytes`.
    pub fn over_fail(&self) -> bool {
        self.lag_fail_bytes >= 0 && self.effective_lag() > self.lag_fail_bytes
    }

    /// Whether the lag is over `slot.lag.warn.bytes`.
    pub fn over_warn(&self) -> bool {
        self.lag_warn_bytes >= 0 && self.effective_lag() > self.lag_warn_bytes
    }

    /// Judges the slot: sets `health` and `message`.
    pub fn classify(&mut self, t: SlotThresholds) {
        self.lag_warn_bytes = t.warn_bytes;
        self.lag_fail_bytes = t.fail_bytes;
        let lag = self.effective_lag();
        let name = &self.slot_name;
        let idle = if self.active {
            ""
        } else {
            " (inactive: no consumer is reading it)"
        };
        let keep = if self.max_slot_wal_keep_size < 0 {
            "unlimited".to_string()
        } else {
            human_bytes(self.max_slot_wal_keep_size)
        };
        let (health, message) = match self.wal_status.as_deref() {
            Some("lost") => (
                Health::Lost,
                format!(
                    "replication slot '{name}' was invalidated by the server (wal_status=lost): the WAL it needed was removed (max_slot_wal_keep_size={keep}), so the changes after its position are gone; snapshot.mode=when_needed re-snapshots from a new slot"
                ),
            ),
            _ if self.over_fail() => (
                Health::Critical,
                format!(
                    "replication slot '{name}' lag is {} (over slot.lag.fail.bytes = {}){idle}",
                    human_bytes(lag),
                    human_bytes(t.fail_bytes)
                ),
            ),
            Some("unreserved") => (
                Health::Critical,
                format!(
                    "replication slot '{name}' needs WAL beyond max_slot_wal_keep_size ({keep}, wal_status=unreserved): the server removes it at the next checkpoint unless the slot catches up; lag {}{idle}",
                    human_bytes(lag)
                ),
            ),
            _ if self.over_warn() => (
                Health::Warning,
                format!(
                    "replication slot '{name}' lag is {} (over slot.lag.warn.bytes = {}){idle}",
                    human_bytes(lag),
                    human_bytes(t.warn_bytes)
                ),
            ),
            Some("extended") => (
                Health::Warning,
                format!(
                    "replication slot '{name}' keeps {} of WAL, more than max_wal_size (wal_status=extended){idle}",
                    human_bytes(self.retained_wal_bytes.unwrap_or(0))
                ),
            ),
            _ => (
                Health::Ok,
                format!("replication slot '{name}' lag is {}{idle}", human_bytes(lag)),
            ),
        };
        self.health = health;
        self.message = message;
    }
}

/// `512 B`, `1.5 KiB`, `3.0 MiB`, `1.2 GiB`, `-1` for a negative value.
pub fn human_bytes(n: i64) -> String {
    if n < 0 {
        return "-1".to_string();
    }
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

fn thresholds_from_values(v: &sluice_connect_api::ConfigValues) -> SlotThresholds {
    SlotThresholds {
        warn_bytes: v.get_long("slot.lag.warn.bytes"),
        fail_bytes: v.get_long("slot.lag.fail.bytes"),
    }
}

/// What the running task does about its slot (`slot.lag.*`).
#[derive(Debug, Clone)]
pub(crate) struct MonitorSettings {
    /// `None`: no periodic check.
    pub interval: Option<Duration>,
    pub thresholds: SlotThresholds,
    pub pause_on_fail: bool,
}

impl MonitorSettings {
    pub(crate) fn from_values(v: &sluice_connect_api::ConfigValues) -> MonitorSettings {
        let ms = v.get_long("slot.lag.check.interval.ms");
        MonitorSettings {
            interval: (ms > 0).then(|| Duration::from_millis(ms as u64)),
            thresholds: thresholds_from_values(v),
            pause_on_fail: v.get_bool("slot.lag.pause.on.fail"),
        }
    }
}

/// The slots of the cluster (`slot`: only that one), judged against `t`.
pub async fn query_slots(
    client: &Client,
    slot: Option<&str>,
    t: SlotThresholds,
) -> Result<Vec<SlotReport>> {
    let version: i32 = client
        .query_one(
            "SELECT pg_catalog.current_setting('server_version_num')::int",
            &[],
        )
        .await
        .map_err(|e| catalog::pg_error("reading the server version", e))?
        .get(0);
    // wal_status, safe_wal_size and max_slot_wal_keep_size are PostgreSQL 13's.
    let v13 = if version >= 130000 {
        "s.wal_status::text, s.safe_wal_size::int8, \
         pg_catalog.pg_size_bytes(pg_catalog.current_setting('max_slot_wal_keep_size'))::int8"
    } else {
        "NULL::text, NULL::int8, -1::int8"
    };
    let sql = format!(
        "SELECT s.slot_name::text, s.plugin::text, s.slot_type::text, s.database::text, s.active, s.active_pid, \
         s.restart_lsn::text, s.confirmed_flush_lsn::text, w.lsn::text, \
         pg_catalog.pg_wal_lsn_diff(w.lsn, s.confirmed_flush_lsn)::int8, \
         pg_catalog.pg_wal_lsn_diff(w.lsn, s.restart_lsn)::int8, {v13} \
         FROM pg_catalog.pg_replication_slots s, \
         (SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_receive_lsn() \
          ELSE pg_catalog.pg_current_wal_lsn() END AS lsn) w \
         WHERE $1::text IS NULL OR s.slot_name = $1::text ORDER BY s.slot_name"
    );
    let rows = client
        .query(&sql, &[&slot])
        .await
        .map_err(|e| catalog::pg_error("reading pg_replication_slots", e))?;
    Ok(rows
        .iter()
        .map(|row| {
            let mut r = SlotReport {
                slot_name: row.get(0),
                plugin: row.get(1),
                slot_type: row.get::<_, Option<String>>(2).unwrap_or_default(),
                database: row.get(3),
                active: row.get::<_, Option<bool>>(4).unwrap_or(false),
                active_pid: row.get(5),
                restart_lsn: row.get(6),
                confirmed_flush_lsn: row.get(7),
                current_wal_lsn: row.get(8),
                lag_bytes: row.get(9),
                retained_wal_bytes: row.get(10),
                wal_status: row.get(11),
                safe_wal_size: row.get(12),
                max_slot_wal_keep_size: row.get::<_, Option<i64>>(13).unwrap_or(-1),
                lag_warn_bytes: t.warn_bytes,
                lag_fail_bytes: t.fail_bytes,
                health: Health::Ok,
                message: String::new(),
            };
            if r.slot_type == "physical" && r.lag_bytes.is_none() {
                r.lag_bytes = r.retained_wal_bytes;
            }
            r.classify(t);
            r
        })
        .collect())
}

/// The error of a slot that does not exist (any more).
pub fn missing_error(slot: &str, dbname: &str) -> ConnectError {
    ConnectError::config(format!(
        "replication slot '{slot}' does not exist on database '{dbname}' (it was dropped, or the connector has not created it yet); the changes since the connector's last committed position cannot be read from it; snapshot.mode=when_needed re-snapshots from a new slot"
    ))
}

/// The error of a slot the server invalidated.
pub fn lost_error(report: &SlotReport) -> ConnectError {
    ConnectError::config(format!(
        "{}; set snapshot.mode=when_needed and restart the connector (the invalidated slot is dropped and a new one created), or drop the slot yourself (SELECT pg_drop_replication_slot('{}')) and take a new snapshot",
        report.message, report.slot_name
    ))
}

/// The report of the slot of a PostgreSQL connector, read with the
/// connector's `database.*` settings; its `slot.lag.*` keys are the
/// thresholds. A slot that does not exist is a `Config` error.
pub async fn slot_report(connector_config: &Props) -> Result<SlotReport> {
    let (settings, slot, t) = connector_slot(connector_config)?;
    let client = catalog::connect(&settings, "sluice-slot-report").await?;
    query_slots(&client, Some(&slot), t)
        .await?
        .pop()
        .ok_or_else(|| missing_error(&slot, &settings.dbname))
}

/// The connection settings, slot name and thresholds of a connector.
pub fn connector_slot(props: &Props) -> Result<(ConnectSettings, String, SlotThresholds)> {
    let values = crate::config::config_def().parse(props).map_err(|issues| {
        ConnectError::config(
            issues
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let settings = crate::connector::connect_settings(props)?;
    let slot = values
        .get_string("slot.name")
        .unwrap_or("debezium")
        .to_string();
    Ok((settings, slot, thresholds_from_values(&values)))
}

/// Every replication slot of the cluster `database_url` points at
/// (`postgres://user:password@host:port/db?sslmode=…`, or libpq's
/// `key=value` form), judged against the default thresholds.
pub async fn all_slots(database_url: &str) -> Result<Vec<SlotReport>> {
    all_slots_with(database_url, SlotThresholds::default()).await
}

/// [`all_slots`] with other thresholds.
pub async fn all_slots_with(database_url: &str, t: SlotThresholds) -> Result<Vec<SlotReport>> {
    let settings = settings_from_url(database_url)?;
    let client = catalog::connect(&settings, "sluice-slots").await?;
    query_slots(&client, None, t).await
}

/// Connection settings from a URL or `key=value` string. `sslmode`
/// accepts libpq's six modes and `sslrootcert` a file, which
/// tokio-postgres' own parser does not.
pub fn settings_from_url(url: &str) -> Result<ConnectSettings> {
    let mut sslmode: Option<String> = None;
    let mut rootcert: Option<String> = None;
    let url = url.trim();
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    match pair.split_once('=') {
                        Some(("sslmode", v)) => sslmode = Some(v.to_string()),
                        Some(("sslrootcert", v)) => rootcert = Some(percent_decode(v)),
                        _ => kept.push(pair),
                    }
                }
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_string(),
        }
    } else {
        let mut kept = Vec::new();
        for pair in url.split_whitespace() {
            match pair.split_once('=') {
                Some(("sslmode", v)) => sslmode = Some(v.to_string()),
                Some(("sslrootcert", v)) => rootcert = Some(v.to_string()),
                _ => kept.push(pair),
            }
        }
        kept.join(" ")
    };
    let config: tokio_postgres::Config = rest.parse().map_err(|e| {
        ConnectError::config(format!(
            "invalid database URL (expected postgres://user:password@host:port/database): {e}"
        ))
    })?;
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let user = config
        .get_user()
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "postgres".to_string());
    let sslmode: SslMode = match sslmode {
        Some(m) => m
            .parse()
            .map_err(|e: crate::replication::ReplicationError| {
                ConnectError::config(format!("sslmode: {e}"))
            })?,
        None => match config.get_ssl_mode() {
            tokio_postgres::config::SslMode::Disable => SslMode::Disable,
            tokio_postgres::config::SslMode::Require => SslMode::Require,
            _ => SslMode::Prefer,
        },
    };
    Ok(ConnectSettings {
        host,
        port: config.get_ports().first().copied().unwrap_or(5432),
        dbname: config
            .get_dbname()
            .map(str::to_string)
            .unwrap_or_else(|| "postgres".to_string()),
        password: config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        user,
        sslmode,
        ssl_root_cert: rootcert.map(Into::into),
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The reports as a table (`sluice slots`): one line per slot, then the
/// message of every slot that is not ok.
pub fn render_table(reports: &[SlotReport]) -> String {
    if reports.is_empty() {
        return "no replication slots\n".to_string();
    }
    let opt = |v: Option<i64>| v.map_or_else(|| "-".to_string(), human_bytes);
    let header = [
        "SLOT",
        "PLUGIN",
        "ACTIVE",
        "LAG",
        "RETAINED",
        "WAL_STATUS",
        "SAFE_WAL_SIZE",
        "HEALTH",
    ];
    let rows: Vec<[String; 8]> = reports
        .iter()
        .map(|r| {
            [
                r.slot_name.clone(),
                r.plugin.clone().unwrap_or_else(|| r.slot_type.clone()),
                if r.active { "yes" } else { "no" }.to_string(),
                opt(r.lag_bytes),
                opt(r.retained_wal_bytes),
                r.wal_status.clone().unwrap_or_else(|| "-".to_string()),
                opt(r.safe_wal_size),
                r.health.as_str().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(&header);
    for row in &rows {
        out.push_str(&line(&row.each_ref().map(String::as_str)));
    }
    for r in reports.iter().filter(|r| r.health != Health::Ok) {
        out.push_str(&format!("\n{}: {}", r.health.as_str(), r.message));
    }
    if reports.iter().any(|r| r.health != Health::Ok) {
        out.push('\n');
    }
    out
}

/// A database URL without its password (for messages).
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, tail) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if let Some((userinfo, host)) = authority.rsplit_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}{tail}");
            }
        }
        return url.to_string();
    }
    url.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `slot` exists and the server invalidated it.
pub(crate) async fn is_lost(client: &Client, slot: &str) -> Result<Option<SlotReport>> {
    Ok(query_slots(client, Some(slot), SlotThresholds::default())
        .await?
        .pop()
        .filter(|r| r.health == Health::Lost))
}

/// What the periodic check saw.
#[derive(Debug, Clone)]
pub(crate) enum Observation {
    Report(Box<SlotReport>),
    Missing,
}

struct Shared {
    /// The newest observation and its sequence number.
    latest: Mutex<Option<(u64, Observation)>>,
    /// Why reading is paused, while it is.
    paused: Mutex<Option<String>>,
    reporter: Arc<dyn TaskReporter>,
    paused_gauge: Gauge,
    slot: String,
}

impl Shared {
    /// Publishes the task detail `slot`: the report, plus whether the
    /// task has paused reading and why.
    fn publish(&self) {
        let latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let paused = self
            .paused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut detail = match latest.as_ref().map(|(_, o)| o) {
            Some(Observation::Report(r)) => serde_json::to_value(r).unwrap_or(Json::Null),
            Some(Observation::Missing) => json!({
                "slot_name": self.slot,
                "health": "lost",
                "message": format!("replication slot '{}' does not exist", self.slot),
            }),
            None => return,
        };
        if let Some(map) = detail.as_object_mut() {
            map.insert("reading_paused".into(), json!(paused.is_some()));
            map.insert("paused_reason".into(), json!(paused));
            map.insert("checked_at_ms".into(), json!(now_ms()));
        }
        drop(latest);
        self.reporter.report("slot", detail);
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What the task should do, per [`SlotMonitor::check`].
#[derive(Debug)]
pub(crate) enum Verdict {
    Read,
    Pause,
}

/// The running task's periodic slot check. The query runs in a background
/// task on its own connection; the task's poll loop only looks at the
/// newest observation ([`check`](Self::check)).
pub(crate) struct SlotMonitor {
    shared: Arc<Shared>,
    handle: tokio::task::JoinHandle<()>,
    settings: MonitorSettings,
    slot: String,
    dbname: String,
    connector: String,
    seen: u64,
    paused: bool,
}

impl SlotMonitor {
    /// Starts checking `slot` every `settings.interval` (`None` when the
    /// check is off).
    pub(crate) fn start(
        connect: ConnectSettings,
        slot: String,
        connector: String,
        settings: MonitorSettings,
        reporter: Arc<dyn TaskReporter>,
    ) -> Option<SlotMonitor> {
        let interval = settings.interval?;
        let labels = [("connector", connector.as_str()), ("slot", slot.as_str())];
        let shared = Arc::new(Shared {
            latest: Mutex::new(None),
            paused: Mutex::new(None),
            reporter,
            paused_gauge: global().gauge(&defs::SLOT_PAUSED, &labels),
            slot: slot.clone(),
        });
        shared.paused_gauge.set(0.0);
        let lag = global().gauge(&defs::SLOT_LAG_BYTES, &labels);
        let retained = global().gauge(&defs::SLOT_RETAINED_WAL_BYTES, &labels);
        let dbname = connect.dbname.clone();
        let handle = tokio::spawn(run_checks(
            shared.clone(),
            connect,
            slot.clone(),
            settings.thresholds,
            interval,
            (lag, retained),
        ));
        Some(SlotMonitor {
            shared,
            handle,
            settings,
            slot,
            dbname,
            connector,
            seen: 0,
            paused: false,
        })
    }

    /// Acts on the newest observation. `streaming`: the task is reading
    /// the slot (pausing only applies then); `drained`: every record handed
    /// to the worker is committed. An error fails the task: the slot is
    /// lost or gone, or (without `slot.lag.pause.on.fail`) the lag is over
    /// `slot.lag.fail.bytes`.
    pub(crate) fn check(&mut self, streaming: bool, drained: bool) -> Result<Verdict> {
        let fresh = {
            let latest = self.shared.latest.lock().unwrap_or_else(|e| e.into_inner());
            match latest.as_ref() {
                Some((seq, o)) if *seq > self.seen => {
                    self.seen = *seq;
                    Some(o.clone())
                }
                _ => None,
            }
        };
        match &fresh {
            Some(Observation::Missing) => {
                return Err(missing_error(&self.slot, &self.dbname));
            }
            Some(Observation::Report(r)) if r.health == Health::Lost => {
                return Err(lost_error(r));
            }
            Some(Observation::Report(r)) if streaming && r.over_fail() => {
                if !self.settings.pause_on_fail {
                    return Err(ConnectError::config(format!(
                        "{}; the task stops (slot.lag.pause.on.fail=false): restart it once the sink has caught up, or raise slot.lag.fail.bytes",
                        r.message
                    )));
                }
                if !self.paused {
                    let reason = format!(
                        "{}: reading paused until the lag is under slot.lag.warn.bytes or everything read is committed",
                        r.message
                    );
                    tracing::warn!(slot = %self.slot, lag_bytes = r.effective_lag(), threshold = r.lag_fail_bytes, "{reason}");
                    self.set_paused(Some(reason));
                }
                return Ok(Verdict::Pause);
            }
            Some(Observation::Report(r)) if self.paused && !r.over_warn() && !r.over_fail() => {
                tracing::info!(slot = %self.slot, lag_bytes = r.effective_lag(), "replication slot lag is back under slot.lag.warn.bytes: reading resumes");
                self.set_paused(None);
            }
            _ => {}
        }
        if self.paused && (drained || !streaming) {
            // What is left of the lag is WAL not read yet: waiting longer
            // cannot lower it. Read until the next check.
            tracing::info!(slot = %self.slot, "everything read is committed and the slot lag is still over slot.lag.fail.bytes: reading resumes until the next check");
            self.set_paused(None);
        }
        Ok(if self.paused {
            Verdict::Pause
        } else {
            Verdict::Read
        })
    }

    fn set_paused(&mut self, reason: Option<String>) {
        self.paused = reason.is_some();
        self.shared.paused_gauge.set_bool(self.paused);
        *self.shared.paused.lock().unwrap_or_else(|e| e.into_inner()) = reason;
        self.shared.publish();
    }

    /// Stops the checks and removes the slot's metrics.
    pub(crate) fn stop(&self) {
        self.handle.abort();
        global().remove(&[("connector", &self.connector), ("slot", &self.slot)]);
    }
}

impl Drop for SlotMonitor {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// The background loop: connect, query, publish, sleep.
async fn run_checks(
    shared: Arc<Shared>,
    connect: ConnectSettings,
    slot: String,
    t: SlotThresholds,
    interval: Duration,
    (lag, retained): (Gauge, Gauge),
) {
    let mut client: Option<Client> = None;
    let mut seq = 0u64;
    let mut last_health = Health::Ok;
    let mut last_log: Option<Instant> = None;
    loop {
        if client.as_ref().is_none_or(Client::is_closed) {
            match catalog::connect(&connect, "sluice-slot-monitor").await {
                Ok(c) => client = Some(c),
                Err(e) => {
                    tracing::warn!(slot = %slot, "replication slot check: cannot connect: {e}");
                    tokio::time::sleep(interval).await;
                    continue;
                }
            }
        }
        let c = client.as_ref().expect("connected above");
        let observation = match query_slots(c, Some(&slot), t).await {
            Ok(mut v) => v
                .pop()
                .map_or(Observation::Missing, |r| Observation::Report(Box::new(r))),
            Err(e) => {
                tracing::warn!(slot = %slot, "replication slot check failed: {e}");
                client = None;
                tokio::time::sleep(interval).await;
                continue;
            }
        };
        let health = match &observation {
            Observation::Report(r) => {
                lag.set(r.lag_bytes.unwrap_or(0) as f64);
                retained.set(r.retained_wal_bytes.unwrap_or(0) as f64);
                r.health
            }
            Observation::Missing => Health::Lost,
        };
        // Log on every change of health, and every minute while not ok.
        let repeat = last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(60));
        if health != last_health || (health != Health::Ok && repeat) {
            match &observation {
                Observation::Report(r) if health == Health::Ok => {
                    tracing::info!(slot = %slot, lag_bytes = r.effective_lag(), "{}", r.message)
                }
                Observation::Report(r) => tracing::warn!(
                    slot = %slot,
                    lag_bytes = r.effective_lag(),
                    warn_threshold = r.lag_warn_bytes,
                    fail_threshold = r.lag_fail_bytes,
                    "{}",
                    r.message
                ),
                Observation::Missing => {
                    tracing::error!(slot = %slot, "replication slot '{slot}' does not exist")
                }
            }
            last_health = health;
            last_log = Some(Instant::now());
        }
        seq += 1;
        *shared.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some((seq, observation));
        shared.publish();
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(lag: i64, wal_status: Option<&str>) -> SlotReport {
        SlotReport {
            slot_name: "s".into(),
            plugin: Some("pgoutput".into()),
            slot_type: "logical".into(),
            database: Some("db".into()),
            active: true,
            active_pid: Some(1),
            restart_lsn: Some("0/1".into()),
            confirmed_flush_lsn: Some("0/1".into()),
            current_wal_lsn: Some("0/2".into()),
            lag_bytes: Some(lag),
            retained_wal_bytes: Some(lag + 10),
            wal_status: wal_status.map(String::from),
            safe_wal_size: None,
            max_slot_wal_keep_size: -1,
            lag_warn_bytes: 0,
            lag_fail_bytes: 0,
            health: Health::Ok,
            message: String::new(),
        }
    }

    fn judged(lag: i64, wal_status: Option<&str>, warn: i64, fail: i64) -> SlotReport {
        let mut r = report(lag, wal_status);
        r.classify(SlotThresholds {
            warn_bytes: warn,
            fail_bytes: fail,
        });
        r
    }

    #[test]
    fn health_follows_the_thresholds_and_wal_status() {
        assert_eq!(judged(100, Some("reserved"), 1000, -1).health, Health::Ok);
        // At the threshold is not over it.
        assert_eq!(judged(1000, Some("reserved"), 1000, -1).health, Health::Ok);
        let w = judged(1001, Some("reserved"), 1000, -1);
        assert_eq!(w.health, Health::Warning);
        assert!(
            w.message.contains("'s'") && w.message.contains("slot.lag.warn.bytes"),
            "{}",
            w.message
        );
        assert_eq!(
            judged(5000, Some("reserved"), 1000, 4000).health,
            Health::Critical
        );
        // -1 turns a threshold off.
        assert_eq!(judged(1 << 40, Some("reserved"), -1, -1).health, Health::Ok);
        assert_eq!(
            judged(10, Some("extended"), 1000, -1).health,
            Health::Warning
        );
        assert_eq!(
            judged(10, Some("unreserved"), 1000, -1).health,
            Health::Critical
        );
        let lost = judged(10, Some("lost"), 1000, 2000);
        assert_eq!(lost.health, Health::Lost);
        assert!(
            lost.message.contains("snapshot.mode=when_needed"),
            "{}",
            lost.message
        );
        // Before PostgreSQL 13 there is no wal_status.
        assert_eq!(judged(10, None, 1000, -1).health, Health::Ok);
        // An inactive slot says so.
        let mut idle = report(2000, Some("reserved"));
        idle.active = false;
        idle.classify(SlotThresholds {
            warn_bytes: 1000,
            fail_bytes: -1,
        });
        assert!(idle.message.contains("inactive"), "{}", idle.message);
    }

    #[test]
    fn serializes_health_in_lowercase() {
        let r = judged(1001, Some("reserved"), 1000, -1);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["health"], "warning");
        assert_eq!(v["lag_bytes"], 1001);
        assert_eq!(v["confirmed_flush_lsn"], "0/1");
        assert_eq!(v["lag_warn_bytes"], 1000);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
        assert_eq!(human_bytes(DEFAULT_WARN_BYTES), "1.0 GiB");
        assert_eq!(human_bytes(-1), "-1");
    }

    #[test]
    fn urls_become_connect_settings() {
        let s = settings_from_url(
            "postgres://u:p%40ss@db.example:6543/shop?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        )
        .unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.user.as_str(), s.dbname.as_str()),
            ("db.example", 6543, "u", "shop")
        );
        assert_eq!(s.password.as_deref(), Some("p@ss"));
        assert_eq!(s.sslmode, SslMode::VerifyFull);
        assert_eq!(s.ssl_root_cert, Some("/etc/ca.pem".into()));
        let s =
            settings_from_url("host=127.0.0.1 port=5433 user=postgres sslmode=disable").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 5433));
        assert_eq!(s.sslmode, SslMode::Disable);
        assert_eq!(s.dbname, "postgres");
        let s = settings_from_url("postgresql://postgres@localhost").unwrap();
        assert_eq!((s.port, s.sslmode), (5432, SslMode::Prefer));
        assert!(settings_from_url("postgres://h:notaport/db").is_err());
        assert!(settings_from_url("postgres://h/db?sslmode=sometimes").is_err());
    }

    #[test]
    fn tables_and_redaction() {
        let mut ok = judged(100, Some("reserved"), 1000, -1);
        ok.slot_name = "a_slot".into();
        let warn = judged(5000, Some("extended"), 1000, -1);
        let text = render_table(&[ok, warn]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("SLOT    PLUGIN    ACTIVE  LAG"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("a_slot  pgoutput  yes     100 B"),
            "{text}"
        );
        assert!(lines[1].ends_with("ok"), "{text}");
        assert!(lines[2].ends_with("warning"), "{text}");
        assert!(
            text.contains("\nwarning: replication slot 's' lag is 4.9 KiB"),
            "{text}"
        );
        assert_eq!(render_table(&[]), "no replication slots\n");
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db?sslmode=require"),
            "postgres://u:***@h:5432/db?sslmode=require"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("host=h password=secret user=u"),
            "host=h password=*** user=u"
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("%2Fetc%2Fca.pem"), "/etc/ca.pem");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("plain"), "plain");
    }
}
