//! sluice's snapshotter: the database-agnostic machinery of an initial load.
//!
//! A database crate implements [`SnapshotDialect`] (how to split a table into
//! key-range chunks and how to read one chunk inside the consistent
//! snapshot); this crate plans the chunks, reads them with up to
//! `snapshot.max.threads` readers, keeps memory bounded, tells the consumer
//! where tables start and end (so it can set Debezium's snapshot markers, see
//! [`markers`]) and reports progress ([`progress`]).
//!
//! Nothing here assumes PostgreSQL: a chunk is a range of key values in the
//! dialect's own text form, a row is the dialect's own type.

use std::fmt;

use async_trait::async_trait;
use sluice_connect_api::ConnectError;

pub mod executor;
pub mod markers;
pub mod progress;

pub use executor::{start_snapshot, SnapshotItem, SnapshotOptions, SnapshotStream};
pub use markers::{MarkerTracker, SnapshotMarker};
pub use progress::{spawn_reporter, SnapshotProgress, SnapshotState, TableStatus};

/// A table (Debezium: a data collection), e.g. `public.customers`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId {
    pub schema: String,
    pub table: String,
}

impl TableId {
    pub fn new(schema: impl Into<String>, table: impl Into<String>) -> Self {
        TableId {
            schema: schema.into(),
            table: table.into(),
        }
    }
}

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// One chunk of a table: the rows whose key is `>= lower` and `< upper`
/// (`None` = unbounded on that side). Bounds are key values in the
/// dialect's text form, in key-column order; the dialect decides what a
/// "key" is (primary key, or a physical row address for tables without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position of the chunk in the table's plan (0-based).
    pub index: usize,
    pub lower: Option<Vec<String>>,
    pub upper: Option<Vec<String>>,
}

impl Chunk {
    /// The whole table as one chunk.
    pub fn whole() -> Chunk {
        Chunk {
            index: 0,
            lower: None,
            upper: None,
        }
    }
}

/// How a table will be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePlan {
    pub table: TableId,
    /// The database's estimate (statistics), for progress; may be 0.
    pub estimated_rows: u64,
    /// Non-overlapping chunks that together cover the table.
    pub chunks: Vec<Chunk>,
}

/// What a database must provide to be snapshotted.
///
/// Contract: every reader opened by [`SnapshotDialect::open_reader`] sees
/// the same consistent state of the database (PostgreSQL: the snapshot
/// exported by the replication slot, imported with `SET TRANSACTION
/// SNAPSHOT`), so chunks read by different readers in parallel form one
/// consistent image, and streaming can continue from the position that
/// state corresponds to without gap or overlap.
#[async_trait]
pub trait SnapshotDialect: Send + Sync + 'static {
    /// A row as read (e.g. the column values as text).
    type Row: Send + 'static;

    /// Splits `table` into chunks of roughly `chunk_rows` rows. A table that
    /// is small, or has no key to range over, is one chunk.
    async fn plan_table(&self, table: &TableId, chunk_rows: u64)
        -> Result<TablePlan, ConnectError>;

    /// A reader inside the consistent snapshot. The executor opens one per
    /// worker and reuses it for many chunks.
    async fn open_reader(&self) -> Result<Box<dyn ChunkReader<Row = Self::Row>>, ConnectError>;
}

/// Reads chunks inside the consistent snapshot.
#[async_trait]
pub trait ChunkReader: Send {
    type Row: Send + 'static;

    /// Reads every row of `chunk` and hands them to `out` in batches of at
    /// most `batch_rows` rows, each with its approximate size in bytes.
    /// `out` waits when the consumer is behind (that is the memory bound).
    /// Returns the number of rows read.
    async fn read_chunk(
        &mut self,
        table: &TableId,
        chunk: &Chunk,
        batch_rows: usize,
        out: &mut (dyn RowSink<Self::Row> + Send),
    ) -> Result<u64, ConnectError>;
}

/// Where a reader puts its rows.
#[async_trait]
pub trait RowSink<R: Send>: Send {
    /// Takes a batch of rows of about `bytes` bytes; waits while the
    /// snapshot's memory budget is used up. An error means the snapshot was
    /// stopped: the reader should return.
    async fn send(&mut self, rows: Vec<R>, bytes: usize) -> Result<(), ConnectError>;
}
