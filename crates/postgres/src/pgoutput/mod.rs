//! Sans-io decoder of PostgreSQL's `pgoutput` logical replication protocol
//! (bytes in, messages out), and the buffer that turns streamed
//! transactions back into ordinary ones.
//!
//! The unit of input is one pgoutput message: the payload of an `XLogData`
//! (`w`) CopyData message on a replication connection, or the `data` column
//! of `pg_logical_slot_{get,peek}_binary_changes`. Message formats follow
//! PostgreSQL's "Logical Replication Message Formats" for protocol versions
//! 1 and 2 (`src/backend/replication/logical/proto.c`):
//!
//! * Protocol 1: Begin, Commit, Origin, Relation, Type, Insert, Update,
//!   Delete, Truncate and (with the `messages` option) Message.
//! * Protocol 2 adds streaming of large in-progress transactions
//!   (`streaming 'on'`): Stream Start/Stop/Commit/Abort. Between Stream
//!   Start and Stream Stop, Relation, Type, Insert, Update, Delete, Truncate
//!   and Message carry a leading xid — the xid of the *sub*transaction that
//!   made the change, not necessarily the top-level one — so [`Decoder`]
//!   tracks whether it is inside a streamed block.
//! * Protocol 4 (PostgreSQL 16, `streaming 'parallel'`) appends the abort
//!   LSN and time to Stream Abort; the decoder accepts that form when
//!   constructed for version 4 or later. The two-phase messages of protocol
//!   3 (Begin Prepare, Prepare, Commit Prepared, Rollback Prepared, Stream
//!   Prepare) are not decoded: sluice never requests `two_phase`.
//!
//! Decoding never panics and never trusts a length field before checking it
//! against the frame: any malformed input is a [`DecodeError`] that names
//! the message type, the byte offset and the field. Column values are
//! zero-copy [`Bytes`] slices of the input frame.
//!
//! [`StreamBuffer`] receives decoded messages in arrival order and hands
//! out, in order, the messages of committed transactions (see its docs).

mod decode;
mod encode;
mod stream;

pub use decode::{DecodeError, DecodeErrorReason, Decoder};
pub use stream::{StreamBuffer, StreamBufferError};

use bytes::Bytes;

use crate::lsn::Lsn;

/// Microseconds between the Unix epoch (1970-01-01) and the PostgreSQL epoch
/// (2000-01-01), both UTC.
pub const POSTGRES_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;

/// Converts a PostgreSQL timestamp (microseconds since 2000-01-01 UTC, as
/// sent in Begin/Commit) into microseconds since the Unix epoch. Saturates
/// instead of overflowing on absurd input.
pub fn pg_time_to_unix_us(pg_time_us: i64) -> i64 {
    pg_time_us.saturating_add(POSTGRES_EPOCH_OFFSET_US)
}

/// One column of a tuple as sent by pgoutput.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnValue {
    /// `n`: SQL NULL.
    Null,
    /// `u`: an unchanged TOASTed value; its content was not sent (the
    /// consumer must keep the previous value or mark it unavailable).
    Unchanged,
    /// `t`: the value in the type's text output format (in the client
    /// encoding; UTF-8 for sluice, but not validated here).
    Text(Bytes),
    /// `b`: the value in the type's binary send format (`binary 'true'`).
    Binary(Bytes),
}

impl ColumnValue {
    /// The raw bytes of a `Text` or `Binary` value.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            ColumnValue::Text(b) | ColumnValue::Binary(b) => Some(b),
            ColumnValue::Null | ColumnValue::Unchanged => None,
        }
    }

    /// The value of a `Text` column, if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ColumnValue::Text(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, ColumnValue::Null)
    }
}

/// The columns of one row (`TupleData`), in the order of the Relation
/// message's columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TupleData {
    pub columns: Vec<ColumnValue>,
}

/// One column of a row, borrowed, whatever the row came from (a pgoutput
/// tuple or a line of `COPY … TO STDOUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRef<'a> {
    Null,
    /// An unchanged TOASTed value (pgoutput only).
    Unchanged,
    /// Text (or, from pgoutput with `binary 'true'`, binary) data.
    Data(&'a [u8]),
}

/// Read access to a row's columns by position, as the event builder needs
/// it. A position past the end reads as NULL.
pub trait Tuple {
    fn column(&self, index: usize) -> ColumnRef<'_>;

    /// Whether every column's data is in binary (send) format rather than
    /// text (a binary `COPY` row).
    fn is_binary(&self) -> bool {
        false
    }
}

impl Tuple for TupleData {
    fn column(&self, index: usize) -> ColumnRef<'_> {
        match self.columns.get(index) {
            Some(ColumnValue::Text(b)) | Some(ColumnValue::Binary(b)) => ColumnRef::Data(b),
            Some(ColumnValue::Unchanged) => ColumnRef::Unchanged,
            Some(ColumnValue::Null) | None => ColumnRef::Null,
        }
    }
}

/// `relreplident`: which old values UPDATE and DELETE carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplicaIdentity {
    /// `d`: the primary key (if any).
    Default,
    /// `n`: nothing.
    Nothing,
    /// `f`: all columns.
    Full,
    /// `i`: the columns of a chosen unique index.
    Index,
}

impl ReplicaIdentity {
    /// Parses the byte of a Relation message.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            b'd' => Some(ReplicaIdentity::Default),
            b'n' => Some(ReplicaIdentity::Nothing),
            b'f' => Some(ReplicaIdentity::Full),
            b'i' => Some(ReplicaIdentity::Index),
            _ => None,
        }
    }

    /// The byte used on the wire.
    pub fn as_byte(self) -> u8 {
        match self {
            ReplicaIdentity::Default => b'd',
            ReplicaIdentity::Nothing => b'n',
            ReplicaIdentity::Full => b'f',
            ReplicaIdentity::Index => b'i',
        }
    }
}

/// One column of a Relation message. Dropped and generated columns are
/// never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationColumn {
    /// Flag bit 1: part of the replica identity (all columns under
    /// REPLICA IDENTITY FULL).
    pub is_key: bool,
    pub name: String,
    pub type_oid: u32,
    /// `atttypmod` (-1 when the type has no modifier).
    pub type_modifier: i32,
}

/// A Relation message: the current shape of a published table. It is sent
/// before the first change of the table in a session (and again after the
/// table changed, and at the start of each streamed transaction touching
/// it); later changes refer to it by `oid` only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub oid: u32,
    /// Schema name; the server sends an empty string for `pg_catalog`.
    pub namespace: String,
    pub name: String,
    pub replica_identity: ReplicaIdentity,
    pub columns: Vec<RelationColumn>,
}

/// The old row of an Update or Delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldTuple {
    /// `K`: only the replica identity columns are set; the others are
    /// `Null`.
    Key(TupleData),
    /// `O`: the whole old row (REPLICA IDENTITY FULL).
    Full(TupleData),
}

impl OldTuple {
    pub fn tuple(&self) -> &TupleData {
        match self {
            OldTuple::Key(t) | OldTuple::Full(t) => t,
        }
    }

    pub fn is_key(&self) -> bool {
        matches!(self, OldTuple::Key(_))
    }
}

/// Truncate option bit: `TRUNCATE ... CASCADE`.
pub const TRUNCATE_CASCADE: u8 = 1;
/// Truncate option bit: `TRUNCATE ... RESTART IDENTITY`.
pub const TRUNCATE_RESTART_IDENTITY: u8 = 2;

/// One decoded pgoutput message.
///
/// `xid: Option<u32>` fields are the leading xid that messages carry inside
/// a streamed block (protocol 2): the xid of the (sub)transaction that made
/// the change. Outside streamed blocks they are `None`.
///
/// Times (`commit_time_us`) are as sent: microseconds since 2000-01-01 UTC;
/// see [`pg_time_to_unix_us`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `B`.
    Begin {
        /// LSN of the commit record (equal to the Commit's `commit_lsn`).
        final_lsn: Lsn,
        commit_time_us: i64,
        xid: u32,
    },
    /// `C`.
    Commit {
        /// Currently always 0.
        flags: u8,
        commit_lsn: Lsn,
        /// End of the commit record: the position to confirm once the
        /// transaction is durable downstream.
        end_lsn: Lsn,
        commit_time_us: i64,
    },
    /// `O`: the transaction was replayed from a replication origin (sent
    /// right after Begin, or after the first Stream Start).
    Origin { lsn: Lsn, name: String },
    /// `R`.
    Relation {
        xid: Option<u32>,
        relation: Relation,
    },
    /// `Y`: a user-defined type used by a column of a following Relation.
    Type {
        xid: Option<u32>,
        oid: u32,
        /// Empty for `pg_catalog`.
        namespace: String,
        name: String,
    },
    /// `I`.
    Insert {
        xid: Option<u32>,
        relation: u32,
        new: TupleData,
    },
    /// `U`. `old` is present when the replica identity changed (`K`) or
    /// under REPLICA IDENTITY FULL (`O`).
    Update {
        xid: Option<u32>,
        relation: u32,
        old: Option<OldTuple>,
        new: TupleData,
    },
    /// `D`.
    Delete {
        xid: Option<u32>,
        relation: u32,
        old: OldTuple,
    },
    /// `T`. `options` holds [`TRUNCATE_CASCADE`] and
    /// [`TRUNCATE_RESTART_IDENTITY`].
    Truncate {
        xid: Option<u32>,
        options: u8,
        relations: Vec<u32>,
    },
    /// `M`: `pg_logical_emit_message`. Non-transactional messages arrive
    /// outside any Begin/Commit.
    Message {
        xid: Option<u32>,
        transactional: bool,
        lsn: Lsn,
        prefix: String,
        content: Bytes,
    },
    /// `S` (protocol 2): the following messages, up to Stream Stop, belong
    /// to the in-progress transaction `xid`.
    StreamStart { xid: u32, first_segment: bool },
    /// `E` (protocol 2).
    StreamStop,
    /// `c` (protocol 2): the streamed transaction `xid` committed.
    StreamCommit {
        xid: u32,
        flags: u8,
        commit_lsn: Lsn,
        end_lsn: Lsn,
        commit_time_us: i64,
    },
    /// `A` (protocol 2): the streamed (sub)transaction `subxid` of top-level
    /// transaction `xid` aborted; `subxid == xid` aborts the whole
    /// transaction. `abort_lsn`/`abort_time_us` are only sent with protocol
    /// 4 and `streaming 'parallel'`.
    StreamAbort {
        xid: u32,
        subxid: u32,
        abort_lsn: Option<Lsn>,
        abort_time_us: Option<i64>,
    },
}

/// The type of a pgoutput message, for errors and dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Begin,
    Commit,
    Origin,
    Relation,
    Type,
    Insert,
    Update,
    Delete,
    Truncate,
    Message,
    StreamStart,
    StreamStop,
    StreamCommit,
    StreamAbort,
}

impl MessageKind {
    /// The message type byte.
    pub fn tag(self) -> u8 {
        match self {
            MessageKind::Begin => b'B',
            MessageKind::Commit => b'C',
            MessageKind::Origin => b'O',
            MessageKind::Relation => b'R',
            MessageKind::Type => b'Y',
            MessageKind::Insert => b'I',
            MessageKind::Update => b'U',
            MessageKind::Delete => b'D',
            MessageKind::Truncate => b'T',
            MessageKind::Message => b'M',
            MessageKind::StreamStart => b'S',
            MessageKind::StreamStop => b'E',
            MessageKind::StreamCommit => b'c',
            MessageKind::StreamAbort => b'A',
        }
    }

    /// The kind for a message type byte.
    pub fn from_tag(tag: u8) -> Option<Self> {
        Some(match tag {
            b'B' => MessageKind::Begin,
            b'C' => MessageKind::Commit,
            b'O' => MessageKind::Origin,
            b'R' => MessageKind::Relation,
            b'Y' => MessageKind::Type,
            b'I' => MessageKind::Insert,
            b'U' => MessageKind::Update,
            b'D' => MessageKind::Delete,
            b'T' => MessageKind::Truncate,
            b'M' => MessageKind::Message,
            b'S' => MessageKind::StreamStart,
            b'E' => MessageKind::StreamStop,
            b'c' => MessageKind::StreamCommit,
            b'A' => MessageKind::StreamAbort,
            _ => return None,
        })
    }

    /// The name used in PostgreSQL's documentation ("Stream Start", ...).
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Begin => "Begin",
            MessageKind::Commit => "Commit",
            MessageKind::Origin => "Origin",
            MessageKind::Relation => "Relation",
            MessageKind::Type => "Type",
            MessageKind::Insert => "Insert",
            MessageKind::Update => "Update",
            MessageKind::Delete => "Delete",
            MessageKind::Truncate => "Truncate",
            MessageKind::Message => "Message",
            MessageKind::StreamStart => "Stream Start",
            MessageKind::StreamStop => "Stream Stop",
            MessageKind::StreamCommit => "Stream Commit",
            MessageKind::StreamAbort => "Stream Abort",
        }
    }

    /// Whether messages of this kind carry a leading xid inside a streamed
    /// block.
    pub fn has_stream_xid(self) -> bool {
        matches!(
            self,
            MessageKind::Relation
                | MessageKind::Type
                | MessageKind::Insert
                | MessageKind::Update
                | MessageKind::Delete
                | MessageKind::Truncate
                | MessageKind::Message
        )
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Message {
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Begin { .. } => MessageKind::Begin,
            Message::Commit { .. } => MessageKind::Commit,
            Message::Origin { .. } => MessageKind::Origin,
            Message::Relation { .. } => MessageKind::Relation,
            Message::Type { .. } => MessageKind::Type,
            Message::Insert { .. } => MessageKind::Insert,
            Message::Update { .. } => MessageKind::Update,
            Message::Delete { .. } => MessageKind::Delete,
            Message::Truncate { .. } => MessageKind::Truncate,
            Message::Message { .. } => MessageKind::Message,
            Message::StreamStart { .. } => MessageKind::StreamStart,
            Message::StreamStop => MessageKind::StreamStop,
            Message::StreamCommit { .. } => MessageKind::StreamCommit,
            Message::StreamAbort { .. } => MessageKind::StreamAbort,
        }
    }

    /// The leading xid of a message decoded inside a streamed block (the
    /// (sub)transaction that made the change); `None` otherwise.
    pub fn stream_xid(&self) -> Option<u32> {
        match self {
            Message::Relation { xid, .. }
            | Message::Type { xid, .. }
            | Message::Insert { xid, .. }
            | Message::Update { xid, .. }
            | Message::Delete { xid, .. }
            | Message::Truncate { xid, .. }
            | Message::Message { xid, .. } => *xid,
            _ => None,
        }
    }

    /// Encodes the message in pgoutput format, appending to `out`. The
    /// leading xid is written when the message's `xid` is `Some`, and
    /// Stream Abort's abort LSN/time when both are `Some`. Decoding the
    /// result (with a decoder in the matching stream state and version)
    /// gives back an equal message.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode::encode(self, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_conversion() {
        assert_eq!(pg_time_to_unix_us(0), 946_684_800_000_000);
        assert_eq!(pg_time_to_unix_us(i64::MAX), i64::MAX);
    }

    #[test]
    fn kinds_round_trip() {
        for tag in 0..=255u8 {
            if let Some(k) = MessageKind::from_tag(tag) {
                assert_eq!(k.tag(), tag);
            }
        }
        for b in [b'd', b'n', b'f', b'i'] {
            assert_eq!(ReplicaIdentity::from_byte(b).unwrap().as_byte(), b);
        }
        assert_eq!(ReplicaIdentity::from_byte(b'x'), None);
    }
}
