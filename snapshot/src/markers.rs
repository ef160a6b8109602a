//! Debezium's snapshot markers: the `source.snapshot` field of a snapshot
//! record (`"first"`, `"first_in_data_collection"`, `"true"`,
//! `"last_in_data_collection"`, `"last"`).
//!
//! Whether a row is the last of its table (or of the whole snapshot) is only
//! known once the next [`SnapshotItem`](crate::SnapshotItem) arrives, so the
//! consumer holds back exactly one record. [`MarkerTracker`] does that
//! bookkeeping: the consumer builds each record once, hands it to the
//! tracker and gets back the *previous* record together with its final
//! marker, ready to be patched into the record and emitted.
//!
//! # Rules (Debezium's)
//!
//! Debezium's `RelationalSnapshotChangeEventSource.SnapshotMarkerResolver`
//! decides, in this order:
//!
//! 1. last in snapshot → [`SnapshotMarker::Last`]
//! 2. first in snapshot → [`SnapshotMarker::First`]
//! 3. last in its table → [`SnapshotMarker::LastInDataCollection`]
//! 4. first in its table → [`SnapshotMarker::FirstInDataCollection`]
//! 5. otherwise → [`SnapshotMarker::True`]
//!
//! *First in snapshot* is the first row of the **first table** (table index
//! 0). As in Debezium, when the first table is empty no record is marked
//! `first`: the first row of the next table is `first_in_data_collection`.
//!
//! *Last in snapshot* is the **last record emitted by the snapshot**, whatever
//! its table. Debezium marks the last row of the last table `last` and, in
//! `EventDispatcher.BufferingSnapshotChangeRecordReceiver.completeSnapshot`,
//! re-marks the record it still holds back as `last` "because the last
//! snapshotted table may be empty". So when the last table (or the last
//! few) is empty, the last row of the last non-empty table is `last` (not
//! `last_in_data_collection`). A snapshot without any row marks nothing.
//!
//! A table with a single row is both first and last in its table; the
//! order above makes it `last_in_data_collection` (or `first` when it is
//! the first table's, or `last` when it is the snapshot's last record).

use std::fmt;

/// The value of `source.snapshot` for a record of the initial snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnapshotMarker {
    /// The first record of the snapshot.
    First,
    /// The first record of a table, not the first of the snapshot.
    FirstInDataCollection,
    /// Any other snapshot record.
    True,
    /// The last record of a table, not the last of the snapshot.
    LastInDataCollection,
    /// The last record of the snapshot.
    Last,
}

impl SnapshotMarker {
    /// The text Debezium writes into `source.snapshot`.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotMarker::First => "first",
            SnapshotMarker::FirstInDataCollection => "first_in_data_collection",
            SnapshotMarker::True => "true",
            SnapshotMarker::LastInDataCollection => "last_in_data_collection",
            SnapshotMarker::Last => "last",
        }
    }

    /// Debezium's `SnapshotMarkerResolver.resolve`.
    pub fn resolve(
        first_in_snapshot: bool,
        last_in_snapshot: bool,
        first_in_table: bool,
        last_in_table: bool,
    ) -> SnapshotMarker {
        if last_in_snapshot {
            SnapshotMarker::Last
        } else if first_in_snapshot {
            SnapshotMarker::First
        } else if last_in_table {
            SnapshotMarker::LastInDataCollection
        } else if first_in_table {
            SnapshotMarker::FirstInDataCollection
        } else {
            SnapshotMarker::True
        }
    }
}

impl fmt::Display for SnapshotMarker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The record held back, with what is known about its position so far.
#[derive(Debug)]
struct Held<T> {
    row: T,
    table_index: usize,
    first_in_table: bool,
    last_in_table: bool,
}

impl<T> Held<T> {
    fn release(self, last_in_snapshot: bool) -> (T, SnapshotMarker) {
        let marker = SnapshotMarker::resolve(
            self.first_in_table && self.table_index == 0,
            last_in_snapshot,
            self.first_in_table,
            self.last_in_table,
        );
        (self.row, marker)
    }
}

/// Assigns Debezium's snapshot markers while holding back exactly one
/// record (see the [module documentation](self) for the rules).
///
/// Feed it the snapshot's items in order:
///
/// ```
/// use sluice_snapshot::{MarkerTracker, SnapshotMarker};
///
/// let mut t = MarkerTracker::new(2);
/// t.table_started(0);
/// assert_eq!(t.row("a1"), None); // held back
/// assert_eq!(t.row("a2"), Some(("a1", SnapshotMarker::First)));
/// assert_eq!(t.table_done(0), None); // "a2" may still be the snapshot's last
/// t.table_started(1);
/// assert_eq!(t.table_done(1), Some(("a2", SnapshotMarker::Last))); // table 1 was empty
/// assert_eq!(t.finish(), None);
/// ```
///
/// `T` is whatever the consumer emits (typically the finished record); the
/// consumer patches the returned marker into it. If the snapshot fails, the
/// held record is simply dropped with the tracker: it must not be emitted
/// as if the snapshot had ended.
#[derive(Debug)]
pub struct MarkerTracker<T> {
    table_count: usize,
    current_table: Option<usize>,
    rows_in_current_table: u64,
    held: Option<Held<T>>,
    finished: bool,
}

impl<T> MarkerTracker<T> {
    /// A tracker for a snapshot of `table_count` tables (table indexes
    /// `0..table_count`, in snapshot order). Knowing the count lets the
    /// tracker release the very last record as soon as the last table is
    /// done instead of at [`finish`](Self::finish).
    pub fn new(table_count: usize) -> Self {
        MarkerTracker {
            table_count,
            current_table: None,
            rows_in_current_table: 0,
            held: None,
            finished: false,
        }
    }

    /// A table begins (its [`SnapshotItem::TableStarted`](crate::SnapshotItem::TableStarted)).
    pub fn table_started(&mut self, table_index: usize) {
        if let Some(held) = &mut self.held {
            if held.table_index != table_index {
                // A new table begins: the held row was its table's last,
                // even if `table_done` was not reported for it.
                held.last_in_table = true;
            }
        }
        self.current_table = Some(table_index);
        self.rows_in_current_table = 0;
    }

    /// A row of the current table. Returns the previously held record, now
    /// final, with its marker; the new row is held back.
    pub fn row(&mut self, row: T) -> Option<(T, SnapshotMarker)> {
        let table_index = self.current_table.unwrap_or(0);
        let first_in_table = self.rows_in_current_table == 0;
        self.rows_in_current_table += 1;
        let previous = self.held.take().map(|mut held| {
            if held.table_index != table_index {
                held.last_in_table = true;
            }
            // Another record follows, so the held one is not the last.
            held.release(false)
        });
        self.held = Some(Held {
            row,
            table_index,
            first_in_table,
            last_in_table: false,
        });
        previous
    }

    /// A table ends (its [`SnapshotItem::TableDone`](crate::SnapshotItem::TableDone)).
    /// Returns the held record only when this was the last table: it is then
    /// the snapshot's last record, marked [`SnapshotMarker::Last`].
    pub fn table_done(&mut self, table_index: usize) -> Option<(T, SnapshotMarker)> {
        if let Some(held) = &mut self.held {
            if held.table_index == table_index {
                held.last_in_table = true;
            }
        }
        self.current_table = None;
        self.rows_in_current_table = 0;
        if self.table_count > 0 && table_index + 1 >= self.table_count {
            self.finish()
        } else {
            None
        }
    }

    /// The snapshot ended normally: returns the held record, marked
    /// [`SnapshotMarker::Last`] (Debezium's `completeSnapshot`). Later calls
    /// return `None`.
    pub fn finish(&mut self) -> Option<(T, SnapshotMarker)> {
        self.finished = true;
        self.held.take().map(|held| held.release(true))
    }

    /// The record currently held back, if any.
    pub fn held(&self) -> Option<&T> {
        self.held.as_ref().map(|h| &h.row)
    }

    /// Whether [`finish`](Self::finish) ran (directly or through the last
    /// table's [`table_done`](Self::table_done)).
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

#[cfg(test)]
mod tests {
    use super::SnapshotMarker::{self, *};
    use super::*;

    /// Drives a tracker over tables given as row counts; returns every
    /// emitted row (as "t<table>r<row>") with its marker, in order.
    fn run(tables: &[usize], use_finish_only: bool) -> Vec<(String, SnapshotMarker)> {
        let count = if use_finish_only { 0 } else { tables.len() };
        let mut t = MarkerTracker::new(count);
        let mut out = Vec::new();
        for (i, &rows) in tables.iter().enumerate() {
            t.table_started(i);
            for r in 0..rows {
                out.extend(t.row(format!("t{i}r{r}")));
            }
            out.extend(t.table_done(i));
        }
        out.extend(t.finish());
        assert!(t.finish().is_none());
        assert!(t.is_finished());
        out
    }

    fn check(tables: &[usize], expected: &[(&str, SnapshotMarker)]) {
        for finish_only in [false, true] {
            let got = run(tables, finish_only);
            let got: Vec<(&str, SnapshotMarker)> =
                got.iter().map(|(s, m)| (s.as_str(), *m)).collect();
            assert_eq!(
                got, expected,
                "tables {tables:?}, finish_only {finish_only}"
            );
        }
    }

    #[test]
    fn as_str_matches_debezium() {
        assert_eq!(First.as_str(), "first");
        assert_eq!(FirstInDataCollection.as_str(), "first_in_data_collection");
        assert_eq!(True.as_str(), "true");
        assert_eq!(LastInDataCollection.as_str(), "last_in_data_collection");
        assert_eq!(Last.as_str(), "last");
        assert_eq!(Last.to_string(), "last");
    }

    #[test]
    fn resolver_priorities() {
        assert_eq!(SnapshotMarker::resolve(true, true, true, true), Last);
        assert_eq!(SnapshotMarker::resolve(true, false, true, true), First);
        assert_eq!(
            SnapshotMarker::resolve(false, false, true, true),
            LastInDataCollection
        );
        assert_eq!(
            SnapshotMarker::resolve(false, false, true, false),
            FirstInDataCollection
        );
        assert_eq!(SnapshotMarker::resolve(false, false, false, false), True);
    }

    #[test]
    fn one_table_one_row_is_last() {
        check(&[1], &[("t0r0", Last)]);
    }

    #[test]
    fn one_table_many_rows() {
        check(&[3], &[("t0r0", First), ("t0r1", True), ("t0r2", Last)]);
        check(&[2], &[("t0r0", First), ("t0r1", Last)]);
    }

    #[test]
    fn many_tables() {
        check(
            &[3, 3, 2],
            &[
                ("t0r0", First),
                ("t0r1", True),
                ("t0r2", LastInDataCollection),
                ("t1r0", FirstInDataCollection),
                ("t1r1", True),
                ("t1r2", LastInDataCollection),
                ("t2r0", FirstInDataCollection),
                ("t2r1", Last),
            ],
        );
    }

    #[test]
    fn single_row_tables() {
        check(
            &[1, 1, 1],
            &[
                ("t0r0", First),
                ("t1r0", LastInDataCollection),
                ("t2r0", Last),
            ],
        );
    }

    #[test]
    fn empty_first_table_has_no_first_marker() {
        // Debezium: `first` belongs to the first table's first row only.
        check(
            &[0, 2, 1],
            &[
                ("t1r0", FirstInDataCollection),
                ("t1r1", LastInDataCollection),
                ("t2r0", Last),
            ],
        );
    }

    #[test]
    fn empty_middle_table_is_skipped() {
        check(
            &[2, 0, 2],
            &[
                ("t0r0", First),
                ("t0r1", LastInDataCollection),
                ("t2r0", FirstInDataCollection),
                ("t2r1", Last),
            ],
        );
    }

    #[test]
    fn empty_last_table_moves_last_to_previous_table() {
        // Debezium's completeSnapshot re-marks the held record as `last`.
        check(
            &[2, 2, 0],
            &[
                ("t0r0", First),
                ("t0r1", LastInDataCollection),
                ("t1r0", FirstInDataCollection),
                ("t1r1", Last),
            ],
        );
        check(&[2, 0, 0], &[("t0r0", First), ("t0r1", Last)]);
        check(&[1, 0], &[("t0r0", Last)]);
    }

    #[test]
    fn no_rows_at_all_marks_nothing() {
        check(&[], &[]);
        check(&[0], &[]);
        check(&[0, 0, 0], &[]);
    }

    #[test]
    fn last_table_done_releases_immediately() {
        let mut t = MarkerTracker::new(2);
        t.table_started(0);
        assert_eq!(t.row(1), None);
        assert_eq!(t.held(), Some(&1));
        assert_eq!(t.table_done(0), None);
        t.table_started(1);
        assert_eq!(t.row(2), Some((1, First)));
        assert_eq!(t.table_done(1), Some((2, Last)));
        assert!(t.is_finished());
        assert_eq!(t.finish(), None);
    }

    #[test]
    fn missing_table_done_is_inferred_from_the_next_table() {
        let mut t = MarkerTracker::new(0);
        t.table_started(0);
        assert_eq!(t.row("a"), None);
        assert_eq!(t.row("b"), Some(("a", First)));
        t.table_started(1);
        assert_eq!(t.row("c"), Some(("b", LastInDataCollection)));
        assert_eq!(t.finish(), Some(("c", Last)));
    }
}
