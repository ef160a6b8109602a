//! The executor against an in-memory dialect: tables are key ranges
//! `0..n`, chunked by key, read by readers that sleep per batch (to force
//! interleaving) and can be told to fail.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sluice_connect_api::{ConnectError, ErrorKind};
use sluice_snapshot::{
    start_snapshot, Chunk, ChunkReader, MarkerTracker, RowSink, SnapshotDialect, SnapshotItem,
    SnapshotMarker, SnapshotOptions, SnapshotProgress, SnapshotStream, TableId, TablePlan,
};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Row {
    table: String,
    key: u64,
    chunk: usize,
}

#[derive(Default)]
struct Stats {
    opened: AtomicUsize,
    live_readers: AtomicUsize,
    active_reads: AtomicUsize,
    peak_active_reads: AtomicUsize,
    active_plans: AtomicUsize,
    /// Rows whose `send` returned (queued for the consumer).
    rows_sent: AtomicU64,
}

impl Stats {
    fn all_stopped(&self) -> bool {
        self.live_readers.load(Ordering::SeqCst) == 0
            && self.active_reads.load(Ordering::SeqCst) == 0
            && self.active_plans.load(Ordering::SeqCst) == 0
    }
}

/// Decrements a counter when dropped, so aborted tasks count too.
struct Live(Arc<Stats>, fn(&Stats) -> &AtomicUsize);

impl Live {
    fn enter(stats: &Arc<Stats>, counter: fn(&Stats) -> &AtomicUsize) -> Live {
        let now = counter(stats).fetch_add(1, Ordering::SeqCst) + 1;
        if std::ptr::eq(counter(stats), &stats.active_reads) {
            stats.peak_active_reads.fetch_max(now, Ordering::SeqCst);
        }
        Live(stats.clone(), counter)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_sub(1, Ordering::SeqCst);
    }
}

struct FakeDb {
    tables: HashMap<TableId, u64>,
    row_bytes: usize,
    sleep_per_batch: Duration,
    /// (table, chunk index): reading it fails before its first batch.
    fail_chunk: Option<(TableId, usize)>,
    /// How long the failing chunk reads before it fails.
    fail_after: Duration,
    fail_plan: Option<TableId>,
    fail_open: bool,
    stats: Arc<Stats>,
}

impl FakeDb {
    fn new(tables: &[(&str, u64)]) -> FakeDb {
        FakeDb {
            tables: tables
                .iter()
                .map(|(t, n)| (TableId::new("public", *t), *n))
                .collect(),
            row_bytes: 100,
            sleep_per_batch: Duration::from_millis(1),
            fail_chunk: None,
            fail_after: Duration::from_millis(1),
            fail_plan: None,
            fail_open: false,
            stats: Arc::new(Stats::default()),
        }
    }
}

#[async_trait]
impl SnapshotDialect for FakeDb {
    type Row = Row;

    async fn plan_table(
        &self,
        table: &TableId,
        chunk_rows: u64,
    ) -> Result<TablePlan, ConnectError> {
        let _plan = Live::enter(&self.stats, |s| &s.active_plans);
        tokio::time::sleep(Duration::from_millis(2)).await;
        if self.fail_plan.as_ref() == Some(table) {
            return Err(ConnectError::config(format!("cannot plan {table}")));
        }
        let rows = *self
            .tables
            .get(table)
            .ok_or_else(|| ConnectError::config(format!("no table {table}")))?;
        let n = rows.div_ceil(chunk_rows).max(1);
        let chunks = (0..n)
            .map(|i| Chunk {
                index: i as usize,
                lower: (i > 0).then(|| vec![(i * chunk_rows).to_string()]),
                upper: (i < n - 1).then(|| vec![((i + 1) * chunk_rows).to_string()]),
            })
            .collect();
        Ok(TablePlan {
            table: table.clone(),
            estimated_rows: rows,
            chunks,
        })
    }

    async fn open_reader(&self) -> Result<Box<dyn ChunkReader<Row = Row>>, ConnectError> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        if self.fail_open {
            return Err(ConnectError::new(
                ErrorKind::Connection,
                "connection refused",
            ));
        }
        self.stats.opened.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(FakeReader {
            _live: Live::enter(&self.stats, |s| &s.live_readers),
            tables: self.tables.clone(),
            row_bytes: self.row_bytes,
            sleep_per_batch: self.sleep_per_batch,
            fail_chunk: self.fail_chunk.clone(),
            fail_after: self.fail_after,
            stats: self.stats.clone(),
        }))
    }
}

struct FakeReader {
    _live: Live,
    tables: HashMap<TableId, u64>,
    row_bytes: usize,
    sleep_per_batch: Duration,
    fail_chunk: Option<(TableId, usize)>,
    fail_after: Duration,
    stats: Arc<Stats>,
}

fn bound(b: &Option<Vec<String>>) -> Option<u64> {
    b.as_ref().map(|v| v[0].parse().expect("numeric key"))
}

#[async_trait]
impl ChunkReader for FakeReader {
    type Row = Row;

    async fn read_chunk(
        &mut self,
        table: &TableId,
        chunk: &Chunk,
        batch_rows: usize,
        out: &mut (dyn RowSink<Row> + Send),
    ) -> Result<u64, ConnectError> {
        let _active = Live::enter(&self.stats, |s| &s.active_reads);
        if self.fail_chunk.as_ref() == Some(&(table.clone(), chunk.index)) {
            tokio::time::sleep(self.fail_after).await;
            return Err(ConnectError::data(format!(
                "boom in chunk {} of {table}",
                chunk.index
            )));
        }
        let rows = self.tables[table];
        let lower = bound(&chunk.lower).unwrap_or(0);
        let upper = bound(&chunk.upper).unwrap_or(rows).min(rows);
        let mut read = 0;
        let mut key = lower;
        while key < upper {
            tokio::time::sleep(self.sleep_per_batch).await;
            let end = (key + batch_rows as u64).min(upper);
            let batch: Vec<Row> = (key..end)
                .map(|k| Row {
                    table: table.table.clone(),
                    key: k,
                    chunk: chunk.index,
                })
                .collect();
            let n = batch.len();
            out.send(batch, n * self.row_bytes).await?;
            self.stats.rows_sent.fetch_add(n as u64, Ordering::SeqCst);
            read += n as u64;
            key = end;
        }
        Ok(read)
    }
}

fn options(
    threads: usize,
    chunk_rows: u64,
    batch_rows: usize,
    max_bytes: usize,
) -> SnapshotOptions {
    SnapshotOptions {
        threads,
        chunk_rows,
        batch_rows,
        max_bytes,
    }
}

fn table_ids(names: &[(&str, u64)]) -> Vec<TableId> {
    names
        .iter()
        .map(|(t, _)| TableId::new("public", *t))
        .collect()
}

async fn collect(stream: &mut SnapshotStream<Row>) -> Result<Vec<SnapshotItem<Row>>, ConnectError> {
    let mut items = Vec::new();
    while let Some(item) = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("stream stalled")?
    {
        items.push(item);
    }
    Ok(items)
}

async fn wait_until(what: &str, cond: impl Fn() -> bool) {
    wait_within(Duration::from_secs(5), what, cond).await
}

async fn wait_within(limit: Duration, what: &str, cond: impl Fn() -> bool) {
    for _ in 0..limit.as_millis().div_ceil(10) {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Checks the item sequence: per table TableStarted, Rows…, TableDone, in
/// table order, nothing of another table in between; every row exactly
/// once; TableDone counts right. Returns rows per table.
fn check_items(tables: &[(&str, u64)], chunk_rows: u64, items: &[SnapshotItem<Row>]) {
    let mut it = items.iter().peekable();
    let mut seen = HashSet::new();
    for (index, (name, rows)) in tables.iter().enumerate() {
        match it.next() {
            Some(SnapshotItem::TableStarted {
                table_index,
                table,
                estimated_rows,
                chunks,
            }) => {
                assert_eq!(*table_index, index);
                assert_eq!(table, &TableId::new("public", *name));
                assert_eq!(*estimated_rows, *rows);
                assert_eq!(*chunks as u64, rows.div_ceil(chunk_rows).max(1));
            }
            other => panic!("expected TableStarted of {name}, got {other:?}"),
        }
        let mut count = 0u64;
        while let Some(SnapshotItem::Rows {
            table_index,
            rows: batch,
        }) = it.peek()
        {
            assert_eq!(*table_index, index, "rows of another table inside {name}");
            for row in batch {
                assert_eq!(row.table, *name);
                assert!(
                    seen.insert((row.table.clone(), row.key)),
                    "row {row:?} delivered twice"
                );
            }
            count += batch.len() as u64;
            it.next();
        }
        match it.next() {
            Some(SnapshotItem::TableDone {
                table_index,
                rows: done,
            }) => {
                assert_eq!(*table_index, index);
                assert_eq!(*done, count);
                assert_eq!(count, *rows, "rows of {name}");
            }
            other => panic!("expected TableDone of {name}, got {other:?}"),
        }
    }
    assert!(it.next().is_none(), "items after the last table");
    let expected: u64 = tables.iter().map(|(_, n)| n).sum();
    assert_eq!(seen.len() as u64, expected);
}

const MIXED: &[(&str, u64)] = &[
    ("a", 1000),
    ("empty", 0),
    ("one", 1),
    ("b", 2500),
    ("c", 37),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_row_once_tables_contiguous_progress_adds_up() {
    for (threads, max_bytes) in [(1, 0), (4, 0), (4, 20_000), (3, 1)] {
        let db = Arc::new(FakeDb::new(MIXED));
        let stats = db.stats.clone();
        let progress = Arc::new(SnapshotProgress::new());
        let mut stream = start_snapshot(
            db,
            table_ids(MIXED),
            options(threads, 100, 16, max_bytes),
            progress.clone(),
        );
        assert!(progress.is_running());
        let items = collect(&mut stream).await.expect("snapshot");
        check_items(MIXED, 100, &items);
        // The end is sticky.
        assert!(stream.next().await.expect("still fine").is_none());

        // Readers: opened lazily, at most `threads`, reused across tables.
        assert_eq!(
            stats.opened.load(Ordering::SeqCst),
            threads,
            "threads {threads}"
        );

        // Progress adds up.
        assert!(progress.is_completed());
        let total: u64 = MIXED.iter().map(|(_, n)| n).sum();
        assert_eq!(progress.rows_scanned(), total);
        let chunks: u64 = MIXED.iter().map(|(_, n)| n.div_ceil(100).max(1)).sum();
        assert_eq!(progress.chunks(), chunks);
        assert_eq!(progress.chunks_completed(), chunks);
        assert_eq!(progress.remaining_tables(), 0);
        assert_eq!(progress.estimated_rows(), total);
        for t in progress.tables() {
            assert!(t.started && t.finished);
            assert_eq!(t.rows_scanned, t.estimated_rows);
            assert_eq!(t.chunks, t.chunks_completed);
        }
        let m = progress.metrics();
        for key in [
            "RowsScanned",
            "TotalTableCount",
            "RemainingTableCount",
            "SnapshotRunning",
            "SnapshotCompleted",
            "SnapshotAborted",
            "SnapshotDurationInSeconds",
            "Chunks",
            "ChunksCompleted",
            "EstimatedRows",
            "EtaSeconds",
        ] {
            assert!(m.get(key).is_some(), "metrics lack {key}: {m}");
        }
        assert_eq!(m["TotalTableCount"], 5);
        assert_eq!(m["RemainingTableCount"], 0);
        assert_eq!(m["SnapshotCompleted"], true);
        assert_eq!(m["SnapshotRunning"], false);
        assert_eq!(m["SnapshotAborted"], false);
        assert_eq!(m["RowsScanned"]["public.b"], 2500);
        assert_eq!(m["RowsScanned"]["public.empty"], 0);
        assert_eq!(m["Chunks"], chunks);
        assert_eq!(m["ChunksCompleted"], chunks);

        drop(stream);
        assert!(
            progress.is_completed(),
            "dropping a finished stream does not abort it"
        );
        wait_until("readers dropped", || stats.all_stopped()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_thread_reads_in_key_order() {
    let tables = &[("a", 500), ("b", 120)];
    let db = Arc::new(FakeDb::new(tables));
    let mut stream = start_snapshot(
        db,
        table_ids(tables),
        options(1, 50, 7, 0),
        Arc::new(SnapshotProgress::new()),
    );
    let items = collect(&mut stream).await.expect("snapshot");
    check_items(tables, 50, &items);
    let keys: Vec<(String, u64)> = items
        .iter()
        .filter_map(|i| match i {
            SnapshotItem::Rows { rows, .. } => Some(rows.iter().map(|r| (r.table.clone(), r.key))),
            _ => None,
        })
        .flatten()
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chunks_of_a_table_are_read_concurrently() {
    for threads in [2, 4] {
        let tables = &[("big", 4000), ("small", 10)];
        let mut db = FakeDb::new(tables);
        db.sleep_per_batch = Duration::from_millis(3);
        let stats = db.stats.clone();
        let mut stream = start_snapshot(
            Arc::new(db),
            table_ids(tables),
            options(threads, 200, 50, 0),
            Arc::new(SnapshotProgress::new()),
        );
        let items = collect(&mut stream).await.expect("snapshot");
        check_items(tables, 200, &items);
        assert_eq!(
            stats.peak_active_reads.load(Ordering::SeqCst),
            threads,
            "peak readers with threads={threads}"
        );
        assert_eq!(stats.opened.load(Ordering::SeqCst), threads);

        // Batches of different chunks interleave: some chunk's batches are
        // not all adjacent.
        let chunk_seq: Vec<usize> = items
            .iter()
            .filter_map(|i| match i {
                SnapshotItem::Rows {
                    table_index: 0,
                    rows,
                } => Some(rows[0].chunk),
                _ => None,
            })
            .collect();
        let mut runs: BTreeMap<usize, usize> = BTreeMap::new();
        for (i, c) in chunk_seq.iter().enumerate() {
            if i == 0 || chunk_seq[i - 1] != *c {
                *runs.entry(*c).or_default() += 1;
            }
        }
        assert!(
            runs.values().any(|&r| r > 1),
            "no interleaving with threads={threads}: {chunk_seq:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_table_with_one_chunk_opens_one_reader() {
    let tables = &[("t", 30)];
    let db = Arc::new(FakeDb::new(tables));
    let stats = db.stats.clone();
    let mut stream = start_snapshot(
        db,
        table_ids(tables),
        options(4, 1000, 8, 0),
        Arc::new(SnapshotProgress::new()),
    );
    collect(&mut stream).await.expect("snapshot");
    assert_eq!(stats.opened.load(Ordering::SeqCst), 1);
}

/// A consumer that stops reading stops the readers; what is queued never
/// exceeds the budget (plus one batch of slack).
async fn check_memory_bound(max_bytes: usize, bound_rows: u64) {
    const BATCH: usize = 10;
    let tables = &[("t", 2000)];
    let mut db = FakeDb::new(tables);
    db.row_bytes = 100; // 1000 bytes per batch
    let stats = db.stats.clone();
    let mut stream = start_snapshot(
        Arc::new(db),
        table_ids(tables),
        options(4, 100, BATCH, max_bytes),
        Arc::new(SnapshotProgress::new()),
    );

    // Not reading: the readers fill the budget, then block.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queued = stats.rows_sent.load(Ordering::SeqCst);
    assert!(queued > 0, "readers started");
    assert!(
        queued <= bound_rows,
        "max_bytes {max_bytes}: {queued} rows queued, bound {bound_rows}"
    );
    assert_eq!(
        stats.active_reads.load(Ordering::SeqCst),
        4,
        "readers are blocked mid-chunk"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        stats.rows_sent.load(Ordering::SeqCst),
        queued,
        "readers do not advance while the consumer waits"
    );

    // A slow consumer: the backlog stays bounded all along.
    let mut consumed = 0u64;
    let mut n = 0;
    while let Some(item) = stream.next().await.expect("snapshot") {
        if let SnapshotItem::Rows { rows, .. } = &item {
            consumed += rows.len() as u64;
        }
        let backlog = stats
            .rows_sent
            .load(Ordering::SeqCst)
            .saturating_sub(consumed);
        assert!(
            backlog <= bound_rows + BATCH as u64,
            "max_bytes {max_bytes}: backlog {backlog}"
        );
        n += 1;
        if n % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(consumed, 2000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn byte_budget_bounds_buffered_rows() {
    // 5000 bytes = 5 batches of 10 rows.
    check_memory_bound(5000, 50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_bigger_than_the_budget_takes_all_of_it() {
    // 500 bytes < one 1000-byte batch: one batch at a time.
    check_memory_bound(500, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_byte_budget_the_channel_bounds_buffered_rows() {
    // threads 4 → 10 items in the channel, one of them TableStarted.
    check_memory_bound(0, 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_chunk_ends_the_stream_and_stops_every_worker() {
    let tables = &[("ok", 300), ("bad", 1000)];
    let mut db = FakeDb::new(tables);
    db.sleep_per_batch = Duration::from_millis(3);
    db.fail_chunk = Some((TableId::new("public", "bad"), 3));
    let stats = db.stats.clone();
    let progress = Arc::new(SnapshotProgress::new());
    let mut stream = start_snapshot(
        Arc::new(db),
        table_ids(tables),
        options(4, 100, 10, 0),
        progress.clone(),
    );
    let mut items = Vec::new();
    let error = loop {
        match tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("stalled")
        {
            Ok(Some(item)) => items.push(item),
            Ok(None) => panic!("stream ended without the error"),
            Err(e) => break e,
        }
    };
    assert_eq!(error.kind(), ErrorKind::Data);
    assert!(
        error.message().contains("boom in chunk 3 of public.bad"),
        "{error}"
    );
    assert!(
        !items
            .iter()
            .any(|i| matches!(i, SnapshotItem::TableDone { table_index: 1, .. })),
        "the failed table is not reported done"
    );
    // Later calls keep failing the same way.
    for _ in 0..2 {
        let again = stream.next().await.expect_err("still failed");
        assert_eq!(again.kind(), ErrorKind::Data);
        assert_eq!(again.message(), error.message());
    }
    assert!(progress.is_aborted());
    assert_eq!(progress.metrics()["SnapshotAborted"], true);
    // Every worker stopped and dropped its reader, though the stream lives.
    wait_until("workers stopped after the error", || stats.all_stopped()).await;
    drop(stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_error_overtakes_queued_rows() {
    let tables = &[("t", 5000)];
    let mut db = FakeDb::new(tables);
    db.fail_chunk = Some((TableId::new("public", "t"), 6));
    let stats = db.stats.clone();
    let mut stream = start_snapshot(
        Arc::new(db),
        table_ids(tables),
        options(2, 100, 10, 0),
        Arc::new(SnapshotProgress::new()),
    );
    // A consumer reading along gets the rows of the chunks read before the
    // failure, then the error; never the end of the stream.
    let mut rows = 0usize;
    let error = loop {
        match stream.next().await {
            Ok(Some(SnapshotItem::Rows { rows: batch, .. })) => rows += batch.len(),
            Ok(Some(_)) => {}
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert_eq!(error.kind(), ErrorKind::Data);
    assert!(rows < 5000, "{rows}");
    wait_until("workers stopped", || stats.all_stopped()).await;

    // And with a consumer that is not reading at all when the error happens.
    let mut db = FakeDb::new(tables);
    db.fail_chunk = Some((TableId::new("public", "t"), 1));
    db.fail_after = Duration::from_millis(100);
    let stats = db.stats.clone();
    let progress = Arc::new(SnapshotProgress::new());
    let mut stream = start_snapshot(
        Arc::new(db),
        table_ids(tables),
        options(2, 100, 10, 0),
        progress.clone(),
    );
    wait_until("the failing chunk was read", || progress.is_aborted()).await;
    assert!(
        stats.rows_sent.load(Ordering::SeqCst) > 0,
        "rows of chunk 0 are queued"
    );
    let first = stream.next().await;
    assert!(
        matches!(&first, Err(e) if e.kind() == ErrorKind::Data),
        "the error comes before queued rows: {first:?}"
    );
    wait_until("workers stopped", || stats.all_stopped()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_planning_error_ends_the_stream() {
    let tables = &[("a", 50), ("b", 50), ("c", 50)];
    let mut db = FakeDb::new(tables);
    db.fail_plan = Some(TableId::new("public", "b"));
    let stats = db.stats.clone();
    let progress = Arc::new(SnapshotProgress::new());
    let mut stream = start_snapshot(
        Arc::new(db),
        table_ids(tables),
        options(2, 20, 10, 0),
        progress.clone(),
    );
    let mut done = Vec::new();
    let error = loop {
        match stream.next().await {
            Ok(Some(SnapshotItem::TableDone { table_index, .. })) => done.push(table_index),
            Ok(Some(_)) => {}
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.message().contains("cannot plan public.b"));
    assert!(done.len() <= 1 && done.iter().all(|&i| i == 0), "{done:?}");
    assert!(progress.is_aborted());
    wait_until("workers stopped", || stats.all_stopped()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_that_cannot_open_ends_the_stream() {
    let tables = &[("a", 50)];
    let mut db = FakeDb::new(tables);
    db.fail_open = true;
    let mut stream = start_snapshot(
        Arc::new(db),
        table_ids(tables),
        options(2, 20, 10, 0),
        Arc::new(SnapshotProgress::new()),
    );
    let error = loop {
        match stream.next().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert_eq!(error.kind(), ErrorKind::Connection);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropping_the_stream_stops_the_workers() {
    let tables = &[("a", 5000), ("b", 5000)];
    let mut db = FakeDb::new(tables);
    db.sleep_per_batch = Duration::from_millis(2);
    let stats = db.stats.clone();
    let progress = Arc::new(SnapshotProgress::new());
    let mut stream = start_snapshot(
        Arc::new(db),
        table_ids(tables),
        options(4, 100, 10, 0),
        progress.clone(),
    );
    for _ in 0..20 {
        stream.next().await.expect("snapshot").expect("an item");
    }
    assert!(progress.is_running());
    assert!(stats.live_readers.load(Ordering::SeqCst) > 0);
    assert!(progress.rows_scanned() > 0, "progress moves while reading");
    assert_eq!(progress.metrics()["SnapshotRunning"], true);
    drop(stream);
    assert!(progress.is_aborted());
    wait_until("workers stopped after drop", || stats.all_stopped()).await;
    let sent = stats.rows_sent.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(stats.rows_sent.load(Ordering::SeqCst), sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropping_the_stream_interrupts_long_reads() {
    // Readers in the middle of a long read (a slow query) with nothing to
    // send: dropping the stream must stop them now, not after the read.
    let tables = &[("a", 1000)];
    let mut db = FakeDb::new(tables);
    db.sleep_per_batch = Duration::from_secs(30);
    let stats = db.stats.clone();
    let progress = Arc::new(SnapshotProgress::new());
    let mut stream = start_snapshot(
        Arc::new(db),
        table_ids(tables),
        options(3, 100, 10, 0),
        progress.clone(),
    );
    assert!(matches!(
        stream.next().await,
        Ok(Some(SnapshotItem::TableStarted { .. }))
    ));
    wait_until("three reads in progress", || {
        stats.active_reads.load(Ordering::SeqCst) == 3
    })
    .await;
    drop(stream);
    assert!(progress.is_aborted());
    wait_within(
        Duration::from_secs(1),
        "long reads interrupted by drop",
        || stats.all_stopped(),
    )
    .await;
}

#[tokio::test]
async fn no_tables_is_an_empty_complete_snapshot() {
    let db = Arc::new(FakeDb::new(&[]));
    let progress = Arc::new(SnapshotProgress::new());
    let mut stream = start_snapshot(db, Vec::new(), SnapshotOptions::default(), progress.clone());
    assert!(stream.next().await.expect("ok").is_none());
    assert!(progress.is_completed());
    assert_eq!(progress.metrics()["TotalTableCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn markers_over_a_parallel_stream() {
    let tables = &[
        ("a", 300),
        ("empty", 0),
        ("one", 1),
        ("b", 250),
        ("tail", 0),
    ];
    let db = Arc::new(FakeDb::new(tables));
    let mut stream = start_snapshot(
        db,
        table_ids(tables),
        options(4, 50, 10, 0),
        Arc::new(SnapshotProgress::new()),
    );
    let mut tracker = MarkerTracker::new(tables.len());
    let mut out: Vec<(Row, SnapshotMarker)> = Vec::new();
    while let Some(item) = stream.next().await.expect("snapshot") {
        match item {
            SnapshotItem::TableStarted { table_index, .. } => tracker.table_started(table_index),
            SnapshotItem::Rows { rows, .. } => {
                for row in rows {
                    out.extend(tracker.row(row));
                }
            }
            SnapshotItem::TableDone { table_index, .. } => {
                out.extend(tracker.table_done(table_index))
            }
        }
    }
    out.extend(tracker.finish());
    assert_eq!(out.len(), 551);
    let markers: Vec<SnapshotMarker> = out.iter().map(|(_, m)| *m).collect();
    assert_eq!(markers[0], SnapshotMarker::First);
    assert_eq!(*markers.last().expect("rows"), SnapshotMarker::Last);
    assert_eq!(
        out.last().map(|(r, _)| r.table.as_str()),
        Some("b"),
        "empty last table: b's last row is last"
    );
    let count = |m: SnapshotMarker| markers.iter().filter(|x| **x == m).count();
    assert_eq!(count(SnapshotMarker::First), 1);
    assert_eq!(count(SnapshotMarker::Last), 1);
    // a's last, one's only row.
    assert_eq!(count(SnapshotMarker::LastInDataCollection), 2);
    // b's first.
    assert_eq!(count(SnapshotMarker::FirstInDataCollection), 1);
    assert_eq!(
        out[300],
        (
            Row {
                table: "one".into(),
                key: 0,
                chunk: 0
            },
            SnapshotMarker::LastInDataCollection
        )
    );
}
