//! The snapshot executor: plans each table, reads its chunks with up to
//! `threads` readers, and hands the rows to one consumer as a stream of
//! [`SnapshotItem`]s with bounded memory.
//!
//! # Shape
//!
//! ```text
//!  coordinator task ── plan(table i+1) ahead ─┐
//!    │ TableStarted(i)                       │
//!    ├─ worker 1 (reader 1): chunk, chunk, … ─┼─▶ bounded channel ─▶ SnapshotStream::next()
//!    ├─ worker 2 (reader 2): chunk, …         │   (+ byte budget)
//!    │ TableDone(i) once every worker is done ┘
//! ```
//!
//! Tables are read one after another, so a table's items are contiguous:
//! `TableStarted`, `Rows`…, `TableDone`. Within a table, chunks are taken
//! from a shared queue by up to `threads` workers, each with its own reader
//! (opened lazily with [`SnapshotDialect::open_reader`] and reused for
//! every later chunk and table), so rows of different chunks of one table
//! interleave. While a table is read, the next one is already planned.
//!
//! # Memory
//!
//! Rows read but not yet taken by the consumer are bounded twice: the
//! channel holds at most `2 * threads + 2` items (batches, table starts and
//! ends), and when [`SnapshotOptions::max_bytes`] is not 0, a batch first
//! takes its size from a byte budget (a batch larger than the whole budget
//! takes all of it) and gives it back when [`SnapshotStream::next`] hands
//! it out. A consumer that stops reading therefore stops the readers:
//! each reader then holds at most the one batch it is trying to send.
//!
//! # Errors and stopping
//!
//! The first error (planning, opening a reader, reading a chunk) stops every
//! worker at once and is returned by the next call to
//! [`SnapshotStream::next`], ahead of rows still queued (they belong to a
//! failed snapshot). Every later call returns an error of the same kind and
//! message (the cause chain is only in the first); the stream never returns
//! `Ok(None)` after a failure, so "`Ok(None)`" always means "complete".
//! Dropping the stream stops all its tasks and readers.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sluice_connect_api::{ConnectError, ErrorKind};
use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use crate::progress::SnapshotProgress;
use crate::{Chunk, ChunkReader, RowSink, SnapshotDialect, TableId, TablePlan};

/// How a snapshot is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotOptions {
    /// Readers used in parallel (`snapshot.max.threads`); 0 counts as 1.
    pub threads: usize,
    /// Target rows per chunk, passed to [`SnapshotDialect::plan_table`];
    /// 0 counts as 1.
    pub chunk_rows: u64,
    /// Rows per batch handed to the consumer (`snapshot.fetch.size`-like);
    /// 0 counts as 1.
    pub batch_rows: usize,
    /// Memory budget, in bytes, of rows read but not yet taken by the
    /// consumer; 0 = only the batch-count bound.
    pub max_bytes: usize,
}

impl Default for SnapshotOptions {
    /// One thread, 100 000-row chunks, 2048-row batches, no byte budget
    /// (Debezium's `max.queue.size.in.bytes` default is 0 too).
    fn default() -> Self {
        SnapshotOptions {
            threads: 1,
            chunk_rows: 100_000,
            batch_rows: 2048,
            max_bytes: 0,
        }
    }
}

impl SnapshotOptions {
    fn normalized(mut self) -> Self {
        self.threads = self.threads.max(1);
        self.chunk_rows = self.chunk_rows.max(1);
        self.batch_rows = self.batch_rows.max(1);
        self
    }

    /// Capacity of the channel between the readers and the consumer, in
    /// items.
    pub fn queue_items(&self) -> usize {
        self.threads.max(1) * 2 + 2
    }
}

/// What the snapshot hands to its consumer. For each table, in the order
/// given to [`start_snapshot`]: `TableStarted`, any number of `Rows`,
/// `TableDone` — never interleaved with another table's items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotItem<R> {
    TableStarted {
        /// Position of the table in the list given to [`start_snapshot`].
        table_index: usize,
        table: TableId,
        /// The dialect's estimate, 0 when unknown.
        estimated_rows: u64,
        chunks: usize,
    },
    /// A batch of rows of the table; rows of different chunks may
    /// interleave.
    Rows { table_index: usize, rows: Vec<R> },
    /// Every row of the table was handed out; `rows` counts them.
    TableDone { table_index: usize, rows: u64 },
}

impl<R> SnapshotItem<R> {
    /// The table the item belongs to.
    pub fn table_index(&self) -> usize {
        match self {
            SnapshotItem::TableStarted { table_index, .. }
            | SnapshotItem::Rows { table_index, .. }
            | SnapshotItem::TableDone { table_index, .. } => *table_index,
        }
    }
}

/// An item in the channel, with the share of the byte budget it holds.
struct Msg<R> {
    item: SnapshotItem<R>,
    permit: Option<OwnedSemaphorePermit>,
}

/// What the tasks and the stream share: the first error.
#[derive(Default)]
struct Shared {
    failed: AtomicBool,
    error: Mutex<Option<ConnectError>>,
    notify: Notify,
}

impl Shared {
    /// Records `error` unless an earlier one was recorded, and wakes the
    /// consumer.
    fn fail(&self, error: ConnectError) {
        {
            let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() && !self.failed.load(Ordering::SeqCst) {
                *slot = Some(error);
            }
        }
        self.failed.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    fn take_error(&self) -> Option<ConnectError> {
        if !self.failed.load(Ordering::SeqCst) {
            return None;
        }
        self.error.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// The byte budget: a semaphore whose permits stand for `unit` bytes each
/// (1 unless the budget exceeds `u32::MAX` bytes).
struct Budget {
    semaphore: Arc<Semaphore>,
    unit: usize,
    total: usize,
}

impl Budget {
    fn new(max_bytes: usize) -> Option<Budget> {
        if max_bytes == 0 {
            return None;
        }
        let unit = max_bytes.div_ceil(u32::MAX as usize).max(1);
        let total = (max_bytes / unit).max(1);
        Some(Budget {
            semaphore: Arc::new(Semaphore::new(total)),
            unit,
            total,
        })
    }

    async fn acquire(&self, bytes: usize) -> Result<OwnedSemaphorePermit, ConnectError> {
        let permits = bytes.div_ceil(self.unit).min(self.total);
        // `total` fits in u32 by construction.
        let permits = u32::try_from(permits).unwrap_or(u32::MAX);
        self.semaphore
            .clone()
            .acquire_many_owned(permits)
            .await
            .map_err(|_| stopped())
    }
}

fn stopped() -> ConnectError {
    ConnectError::new(ErrorKind::Cancelled, "the snapshot was stopped")
}

/// How the stream ended.
#[derive(Debug)]
enum End {
    Done,
    Failed(ErrorKind, String),
}

/// The consumer's end of a running snapshot (see the [module
/// documentation](self)). Dropping it stops the snapshot.
pub struct SnapshotStream<R> {
    rx: mpsc::Receiver<Msg<R>>,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
    progress: Arc<SnapshotProgress>,
    table_count: usize,
    tables_done: usize,
    end: Option<End>,
}

impl<R> std::fmt::Debug for SnapshotStream<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotStream")
            .field("table_count", &self.table_count)
            .field("tables_done", &self.tables_done)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl<R> SnapshotStream<R> {
    /// The next item; `Ok(None)` once every table is done (and the progress
    /// is then marked completed). An error from planning or reading ends
    /// the stream: it is returned at once (ahead of queued rows), every
    /// worker is stopped, the progress is marked aborted, and every later
    /// call returns an error of the same kind and message.
    pub async fn next(&mut self) -> Result<Option<SnapshotItem<R>>, ConnectError> {
        match &self.end {
            Some(End::Done) => return Ok(None),
            Some(End::Failed(kind, message)) => {
                return Err(ConnectError::new(*kind, message.clone()))
            }
            None => {}
        }
        let shared = self.shared.clone();
        loop {
            // Fast path: no error, an item is ready.
            if !shared.failed.load(Ordering::SeqCst) {
                if let Ok(msg) = self.rx.try_recv() {
                    return Ok(Some(self.hand_out(msg)));
                }
            }
            let notified = shared.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(error) = shared.take_error() {
                return Err(self.fail(error));
            }
            if shared.failed.load(Ordering::SeqCst) {
                // Failed, but the error was already taken: cannot happen
                // (only `next` takes it); be safe anyway.
                return Err(self.fail(ConnectError::internal("the snapshot failed")));
            }
            tokio::select! {
                biased;
                _ = &mut notified => continue,
                msg = self.rx.recv() => match msg {
                    Some(msg) => return Ok(Some(self.hand_out(msg))),
                    None => {
                        if let Some(error) = shared.take_error() {
                            return Err(self.fail(error));
                        }
                        if self.tables_done >= self.table_count {
                            self.end = Some(End::Done);
                            self.progress.completed();
                            return Ok(None);
                        }
                        return Err(self.fail(ConnectError::internal(
                            "the snapshot stopped before every table was read",
                        )));
                    }
                },
            }
        }
    }

    fn hand_out(&mut self, msg: Msg<R>) -> SnapshotItem<R> {
        // Taking the batch out gives its bytes back to the budget.
        drop(msg.permit);
        if let SnapshotItem::TableDone { .. } = msg.item {
            self.tables_done += 1;
        }
        msg.item
    }

    fn fail(&mut self, error: ConnectError) -> ConnectError {
        self.task.abort();
        self.progress.aborted();
        self.end = Some(End::Failed(error.kind(), error.message().to_string()));
        error
    }

    /// The snapshot's progress (the `Arc` given to [`start_snapshot`]).
    pub fn progress(&self) -> &Arc<SnapshotProgress> {
        &self.progress
    }
}

impl<R> Drop for SnapshotStream<R> {
    /// Stops the coordinator, and with it every planning and reading task
    /// (their readers are dropped). A snapshot dropped before its end is
    /// marked aborted, unless every table had already been handed out.
    fn drop(&mut self) {
        self.task.abort();
        if self.end.is_none() {
            if self.tables_done >= self.table_count && !self.shared.failed.load(Ordering::SeqCst) {
                self.progress.completed();
            } else {
                self.progress.aborted();
            }
        }
    }
}

/// Starts snapshotting `tables`, in this order, and returns the stream of
/// their rows. Must be called inside a Tokio runtime. Calls
/// [`SnapshotProgress::begin`] on `progress` before returning.
pub fn start_snapshot<D: SnapshotDialect>(
    dialect: Arc<D>,
    tables: Vec<TableId>,
    options: SnapshotOptions,
    progress: Arc<SnapshotProgress>,
) -> SnapshotStream<D::Row> {
    let options = options.normalized();
    progress.begin(&tables);
    let (tx, rx) = mpsc::channel(options.queue_items());
    let shared = Arc::new(Shared::default());
    let table_count = tables.len();
    let run = Run {
        dialect,
        tables,
        options: options.clone(),
        budget: Budget::new(options.max_bytes).map(Arc::new),
        progress: progress.clone(),
        tx,
    };
    let task_shared = shared.clone();
    let task = tokio::spawn(async move {
        if let Err(error) = run.drive().await {
            tracing::debug!(error = %error, "snapshot failed");
            run.progress.aborted();
            task_shared.fail(error);
        }
        // Only now may the channel close: the consumer, seeing it closed,
        // must find the error already recorded.
        drop(run);
    });
    SnapshotStream {
        rx,
        shared,
        task,
        progress,
        table_count,
        tables_done: 0,
        end: None,
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

type Reader<R> = Box<dyn ChunkReader<Row = R>>;

/// The coordinator's state.
struct Run<D: SnapshotDialect> {
    dialect: Arc<D>,
    tables: Vec<TableId>,
    options: SnapshotOptions,
    budget: Option<Arc<Budget>>,
    progress: Arc<SnapshotProgress>,
    tx: mpsc::Sender<Msg<D::Row>>,
}

impl<D: SnapshotDialect> Run<D> {
    fn plan(&self, index: usize) -> AbortOnDrop<Result<TablePlan, ConnectError>> {
        let dialect = self.dialect.clone();
        let table = self.tables[index].clone();
        let chunk_rows = self.options.chunk_rows;
        AbortOnDrop(tokio::spawn(async move {
            dialect.plan_table(&table, chunk_rows).await
        }))
    }

    async fn send(&self, item: SnapshotItem<D::Row>) -> Result<(), ConnectError> {
        self.tx
            .send(Msg { item, permit: None })
            .await
            .map_err(|_| stopped())
    }

    async fn drive(&self) -> Result<(), ConnectError> {
        let mut pool: Vec<Reader<D::Row>> = Vec::new();
        let mut next_plan = (!self.tables.is_empty()).then(|| self.plan(0));
        for index in 0..self.tables.len() {
            let Some(mut planning) = next_plan.take() else {
                break;
            };
            let plan = (&mut planning.0).await.map_err(|e| {
                ConnectError::internal(format!("planning {} panicked: {e}", self.tables[index]))
            })??;
            // Plan the next table while this one is read.
            next_plan = (index + 1 < self.tables.len()).then(|| self.plan(index + 1));

            let table = Arc::new(self.tables[index].clone());
            let chunks: Arc<Vec<Chunk>> = Arc::new(plan.chunks);
            tracing::debug!(table = %table, chunks = chunks.len(), estimated_rows = plan.estimated_rows, "snapshotting table");
            self.progress
                .table_started(index, plan.estimated_rows, chunks.len());
            self.send(SnapshotItem::TableStarted {
                table_index: index,
                table: (*table).clone(),
                estimated_rows: plan.estimated_rows,
                chunks: chunks.len(),
            })
            .await?;

            let rows = Arc::new(AtomicU64::new(0));
            let next_chunk = Arc::new(AtomicUsize::new(0));
            let mut workers = JoinSet::new();
            for _ in 0..self.options.threads.min(chunks.len()) {
                let worker = Worker {
                    dialect: self.dialect.clone(),
                    reader: pool.pop(),
                    table: table.clone(),
                    chunks: chunks.clone(),
                    next_chunk: next_chunk.clone(),
                    batch_rows: self.options.batch_rows,
                    progress: self.progress.clone(),
                    sink: ChannelSink {
                        tx: self.tx.clone(),
                        budget: self.budget.clone(),
                        table_index: index,
                        rows: rows.clone(),
                        progress: self.progress.clone(),
                    },
                };
                workers.spawn(worker.run());
            }
            while let Some(joined) = workers.join_next().await {
                match joined {
                    Ok(Ok(Some(reader))) => pool.push(reader),
                    Ok(Ok(None)) => {}
                    // Returning drops `workers`, which aborts the others.
                    Ok(Err(error)) => return Err(error),
                    Err(e) => {
                        return Err(ConnectError::internal(format!(
                            "a snapshot reader of {table} panicked: {e}"
                        )))
                    }
                }
            }
            let rows = rows.load(Ordering::SeqCst);
            tracing::debug!(table = %table, rows, "table snapshot done");
            self.progress.table_finished(index);
            self.send(SnapshotItem::TableDone {
                table_index: index,
                rows,
            })
            .await?;
        }
        Ok(())
    }
}

/// One reading task of one table: takes chunks from the shared queue until
/// it is empty, then gives its reader back.
struct Worker<D: SnapshotDialect> {
    dialect: Arc<D>,
    reader: Option<Reader<D::Row>>,
    table: Arc<TableId>,
    chunks: Arc<Vec<Chunk>>,
    next_chunk: Arc<AtomicUsize>,
    batch_rows: usize,
    progress: Arc<SnapshotProgress>,
    sink: ChannelSink<D::Row>,
}

impl<D: SnapshotDialect> Worker<D> {
    async fn run(mut self) -> Result<Option<Reader<D::Row>>, ConnectError> {
        loop {
            let index = self.next_chunk.fetch_add(1, Ordering::SeqCst);
            let Some(chunk) = self.chunks.get(index) else {
                return Ok(self.reader);
            };
            if self.reader.is_none() {
                self.reader = Some(self.dialect.open_reader().await?);
            }
            let Some(reader) = self.reader.as_mut() else {
                continue;
            };
            reader
                .read_chunk(&self.table, chunk, self.batch_rows, &mut self.sink)
                .await?;
            self.progress.chunk_done(self.sink.table_index);
        }
    }
}

/// The [`RowSink`] given to readers: byte budget, then the channel.
struct ChannelSink<R> {
    tx: mpsc::Sender<Msg<R>>,
    budget: Option<Arc<Budget>>,
    table_index: usize,
    rows: Arc<AtomicU64>,
    progress: Arc<SnapshotProgress>,
}

#[async_trait]
impl<R: Send + 'static> RowSink<R> for ChannelSink<R> {
    async fn send(&mut self, rows: Vec<R>, bytes: usize) -> Result<(), ConnectError> {
        if rows.is_empty() {
            return Ok(());
        }
        let permit = match &self.budget {
            Some(budget) => Some(budget.acquire(bytes).await?),
            None => None,
        };
        let count = rows.len() as u64;
        let item = SnapshotItem::Rows {
            table_index: self.table_index,
            rows,
        };
        self.tx
            .send(Msg { item, permit })
            .await
            .map_err(|_| stopped())?;
        self.rows.fetch_add(count, Ordering::SeqCst);
        self.progress.add_rows(self.table_index, count);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_normalized() {
        let o = SnapshotOptions {
            threads: 0,
            chunk_rows: 0,
            batch_rows: 0,
            max_bytes: 0,
        }
        .normalized();
        assert_eq!((o.threads, o.chunk_rows, o.batch_rows), (1, 1, 1));
        assert_eq!(o.queue_items(), 4);
        assert_eq!(SnapshotOptions::default().threads, 1);
    }

    #[tokio::test]
    async fn budget_caps_a_batch_at_the_whole_budget() {
        assert!(Budget::new(0).is_none());
        let b = Budget::new(100).expect("budget");
        assert_eq!((b.unit, b.total), (1, 100));
        let p = b.acquire(1000).await.expect("whole budget");
        assert_eq!(p.num_permits(), 100);
        assert_eq!(b.semaphore.available_permits(), 0);
        drop(p);
        assert_eq!(b.semaphore.available_permits(), 100);
        let big = Budget::new(usize::MAX / 2).expect("budget");
        assert!(big.total <= u32::MAX as usize);
        assert!(big.unit > 1);
    }
}
