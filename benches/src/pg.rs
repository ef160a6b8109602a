//! PostgreSQL helpers shared by `pg_backlog` and `pg_kafka`: a plain SQL
//! connection, a slot poller, the throwaway server, the benchmark table and
//! its backlog of changes.

use std::time::{Duration, Instant};

use sluice_testkit::PgServer;

use crate::{abbreviate, fail, program, Result, PUBLICATION, TABLE};

// ---------------------------------------------------------------------------
// A plain SQL connection (tokio-postgres on a current-thread runtime: it only
// runs while a query is in flight, so it costs nothing between polls).

pub struct Db {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Db {
    /// Connects as `application_name=<program>` (see [`crate::set_program`]).
    pub fn connect(pg: &PgServer, db: &str) -> Result<Db> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let conn_string = format!("{} application_name={}", pg.conn_string(db), program());
        let (client, connection) = rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(10),
                tokio_postgres::connect(&conn_string, tokio_postgres::NoTls),
            )
            .await
        })??;
        rt.spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("{}: SQL connection ended: {e}", program());
            }
        });
        Ok(Db { rt, client })
    }

    fn run<F: std::future::Future>(&self, limit: Duration, fut: F) -> Result<F::Output> {
        self.rt
            .block_on(async { tokio::time::timeout(limit, fut).await })
            .map_err(|_| format!("SQL timed out after {limit:?}").into())
    }

    /// Runs statements; `limit` bounds the whole batch.
    pub fn exec(&self, sql: &str, limit: Duration) -> Result<()> {
        self.run(limit, self.client.batch_execute(sql))?
            .map_err(|e| format!("SQL failed: {}: {}", pg_error(&e), abbreviate(sql)))?;
        Ok(())
    }

    /// The first row of a query, every column as text (NULL = None).
    pub fn row(&self, sql: &str) -> Result<Vec<Option<String>>> {
        let messages = self
            .run(Duration::from_secs(60), self.client.simple_query(sql))?
            .map_err(|e| format!("SQL failed: {}: {}", pg_error(&e), abbreviate(sql)))?;
        for m in messages {
            if let tokio_postgres::SimpleQueryMessage::Row(row) = m {
                return Ok((0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect());
            }
        }
        fail(format!("no row from {}", abbreviate(sql)))
    }

    /// The first column of the first row, as text (NULL is an error).
    pub fn value(&self, sql: &str) -> Result<String> {
        self.row(sql)?
            .into_iter()
            .next()
            .flatten()
            .ok_or_else(|| format!("NULL from {}", abbreviate(sql)).into())
    }
}

/// Polls one slot's state over a prepared statement.
pub struct SlotPoller<'a> {
    db: &'a Db,
    stmt: tokio_postgres::Statement,
    slot: String,
}

pub struct SlotState {
    /// `confirmed_flush_lsn` has reached the target.
    pub reached: bool,
    pub confirmed: String,
    pub active_pid: Option<u32>,
}

impl<'a> SlotPoller<'a> {
    pub fn new(db: &'a Db, slot: &str, target: &str) -> Result<SlotPoller<'a>> {
        let sql = format!(
            "SELECT coalesce(confirmed_flush_lsn >= '{target}'::pg_lsn, false), \
             coalesce(confirmed_flush_lsn::text, ''), active_pid \
             FROM pg_catalog.pg_replication_slots WHERE slot_name = $1"
        );
        let stmt = db
            .run(Duration::from_secs(10), db.client.prepare(&sql))?
            .map_err(|e| format!("preparing the slot query: {e}"))?;
        Ok(SlotPoller {
            db,
            stmt,
            slot: slot.to_string(),
        })
    }

    pub fn poll(&self) -> Result<SlotState> {
        let row = self
            .db
            .run(
                Duration::from_secs(10),
                self.db.client.query_one(&self.stmt, &[&self.slot]),
            )?
            .map_err(|e| format!("polling slot {}: {e}", self.slot))?;
        Ok(SlotState {
            reached: row.get(0),
            confirmed: row.get(1),
            active_pid: row.get::<_, Option<i32>>(2).map(|p| p as u32),
        })
    }
}

// ---------------------------------------------------------------------------
// Server, table, backlog

pub struct Backlog {
    pub target_lsn: String,
    pub inserts: u64,
    pub updates: u64,
    pub seconds: f64,
    pub wal_bytes: u64,
    pub row_bytes: f64,
}

/// The server's message, not only "db error".
pub fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} {}: {}", d.severity(), d.code().code(), d.message()),
        None => e.to_string(),
    }
}

/// A throwaway server with the benchmarks' settings; `shared_buffers` as
/// given (the snapshot benchmark keeps its whole table in memory).
pub fn start_postgres(shared_buffers: &str) -> Result<PgServer> {
    crate::progress!("starting a throwaway PostgreSQL");
    let pg = PgServer::builder()
        .setting("shared_buffers", shared_buffers)
        .setting("max_wal_size", "4GB")
        .setting("min_wal_size", "1GB")
        .setting("checkpoint_timeout", "30min")
        .setting("wal_buffers", "16MB")
        // No autovacuum/analyze writing WAL (and using CPU) in the middle
        // of a measurement.
        .setting("autovacuum", "off")
        .setting("wal_sender_timeout", "120s")
        .start()?;
    Ok(pg)
}

/// Creates the table, a publication for all tables and one pgoutput slot per
/// name (before the backlog, so every slot decodes the same WAL).
pub fn create_schema(db: &Db, slots: &[&str]) -> Result<()> {
    db.exec(
        &format!(
            "CREATE TABLE {TABLE} (
                 id bigint PRIMARY KEY,
                 a  int NOT NULL,
                 b  bigint NOT NULL,
                 c  text NOT NULL,
                 d  timestamptz NOT NULL,
                 e  numeric(12,2) NOT NULL,
                 f  boolean NOT NULL);
             CREATE PUBLICATION {PUBLICATION} FOR ALL TABLES;"
        ),
        Duration::from_secs(30),
    )?;
    for slot in slots {
        db.value(&format!(
            "SELECT lsn::text FROM pg_create_logical_replication_slot('{slot}', 'pgoutput')"
        ))?;
    }
    Ok(())
}

/// Inserts the rows with ids `ids` into the benchmark table, generated
/// from the id: `c` holds `c_min` to `c_min + c_spread - 1` characters of
/// hex.
pub fn insert_rows(
    db: &Db,
    ids: std::ops::RangeInclusive<u64>,
    c_min: u64,
    c_spread: u64,
    limit: Duration,
) -> Result<()> {
    // md5 gives 32 characters; enough copies for the longest value.
    let c_repeat = (c_min + c_spread - 1) / 32 + 1;
    let (lo, hi) = (ids.start(), ids.end());
    db.exec(
        &format!(
            "INSERT INTO {TABLE} (id, a, b, c, d, e, f)
             SELECT i, (i % 100000)::int, i * 7919,
                    left(repeat(md5(i::text), {c_repeat}), {c_min} + (i % {c_spread})::int),
                    timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second',
                    ((i * 37) % 10000000) / 100.0,
                    i % 2 = 0
             FROM generate_series({lo}::bigint, {hi}::bigint) AS i"
        ),
        limit,
    )?;
    Ok(())
}

/// Generates `n` changes (70 % inserts, then 30 % updates of the first rows),
/// `batch` rows per transaction, then checkpoints. Column `c` holds
/// `c_min` to `c_min * 3 / 2 - 1` characters of hex (`c_min`: a multiple of
/// 20 up to 200; pg_backlog uses 200, pg_kafka 100 for rows of ~200 bytes).
pub fn generate_backlog(db: &Db, n: u64, batch: u64, c_min: u64) -> Result<Backlog> {
    assert!(
        c_min >= 20 && c_min.is_multiple_of(20) && c_min <= 200,
        "c_min {c_min}"
    );
    let c_spread = c_min / 2;
    let updates = n * 3 / 10;
    let inserts = n - updates;
    crate::progress!(
        "generating {n} changes: {inserts} inserts, then {updates} updates, {batch} rows per transaction"
    );
    let start_lsn = db.value("SELECT pg_current_wal_lsn()::text")?;
    let t0 = Instant::now();
    let limit = Duration::from_secs(600);
    let mut lo = 1u64;
    while lo <= inserts {
        let hi = (lo + batch - 1).min(inserts);
        insert_rows(db, lo..=hi, c_min, c_spread, limit)?;
        lo = hi + 1;
    }
    let mut lo = 1u64;
    while lo <= updates {
        let hi = (lo + batch - 1).min(updates);
        db.exec(
            &format!(
                "UPDATE {TABLE} SET a = a + 1, b = b + 1, d = d + interval '1 hour', f = NOT f
                 WHERE id BETWEEN {lo} AND {hi}"
            ),
            limit,
        )?;
        lo = hi + 1;
    }
    let seconds = t0.elapsed().as_secs_f64();
    // A checkpoint now rather than during a measurement.
    db.exec("CHECKPOINT", limit)?;
    let target_lsn = db.value("SELECT pg_current_wal_lsn()::text")?;
    let wal_bytes: u64 = db
        .value(&format!(
            "SELECT pg_wal_lsn_diff('{target_lsn}', '{start_lsn}')::bigint"
        ))?
        .parse()?;
    let row_bytes: f64 = db
        .value(&format!(
            "SELECT avg(pg_column_size(t.*))::float8 FROM {TABLE} t"
        ))?
        .parse()?;
    crate::progress!(
        "backlog ready in {seconds:.1}s: {:.0} MB of WAL, rows of {row_bytes:.0} bytes on average, target LSN {target_lsn}",
        wal_bytes as f64 / 1e6
    );
    Ok(Backlog {
        target_lsn,
        inserts,
        updates,
        seconds,
        wal_bytes,
        row_bytes,
    })
}
