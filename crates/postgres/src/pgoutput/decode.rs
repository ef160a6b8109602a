//! The decoder: one pgoutput message (a frame) in, one [`Message`] out.

use std::fmt;

use bytes::Bytes;

use super::{
    ColumnValue, Message, MessageKind, OldTuple, Relation, RelationColumn, ReplicaIdentity,
    TupleData,
};
use crate::lsn::Lsn;

/// Decodes pgoutput messages of one replication session.
///
/// The only state is whether the previous messages opened a streamed block
/// (Stream Start without Stream Stop yet): inside one, data messages carry a
/// leading xid. A failed decode leaves the state unchanged.
#[derive(Debug, Clone)]
pub struct Decoder {
    protocol_version: u8,
    in_stream: bool,
}

impl Decoder {
    /// A decoder for the `proto_version` requested in START_REPLICATION.
    /// Version 1 rejects the streaming messages; 2 and later accept them;
    /// 4 and later also accept the longer Stream Abort of parallel
    /// streaming.
    pub fn new(protocol_version: u8) -> Self {
        Decoder {
            protocol_version,
            in_stream: false,
        }
    }

    pub fn protocol_version(&self) -> u8 {
        self.protocol_version
    }

    /// Whether the decoder is between a Stream Start and its Stream Stop.
    pub fn in_stream(&self) -> bool {
        self.in_stream
    }

    /// Decodes one message. Column values, message content and nothing else
    /// keep a reference to `frame` (zero-copy slices).
    pub fn decode(&mut self, frame: Bytes) -> Result<Message, DecodeError> {
        let Some(&tag) = frame.first() else {
            return Err(DecodeError::new(None, 0, DecodeErrorReason::Empty));
        };
        let Some(kind) = MessageKind::from_tag(tag) else {
            return Err(DecodeError::new(
                None,
                0,
                DecodeErrorReason::UnknownType(tag),
            ));
        };
        let mut r = Reader {
            frame: &frame,
            pos: 1,
            kind,
        };
        self.check_state(kind)?;
        let xid = if self.in_stream && kind.has_stream_xid() {
            Some(r.u32("xid")?)
        } else {
            None
        };
        let message = match kind {
            MessageKind::Begin => Message::Begin {
                final_lsn: r.lsn("final LSN")?,
                commit_time_us: r.i64("commit timestamp")?,
                xid: r.u32("xid")?,
            },
            MessageKind::Commit => Message::Commit {
                flags: r.u8("flags")?,
                commit_lsn: r.lsn("commit LSN")?,
                end_lsn: r.lsn("end LSN")?,
                commit_time_us: r.i64("commit timestamp")?,
            },
            MessageKind::Origin => Message::Origin {
                lsn: r.lsn("origin LSN")?,
                name: r.cstr("origin name")?,
            },
            MessageKind::Relation => Message::Relation {
                xid,
                relation: r.relation()?,
            },
            MessageKind::Type => Message::Type {
                xid,
                oid: r.u32("type oid")?,
                namespace: r.cstr("namespace")?,
                name: r.cstr("type name")?,
            },
            MessageKind::Insert => {
                let relation = r.u32("relation oid")?;
                r.marker(b'N', "tuple marker (expected 'N')")?;
                Message::Insert {
                    xid,
                    relation,
                    new: r.tuple()?,
                }
            }
            MessageKind::Update => {
                let relation = r.u32("relation oid")?;
                let at = r.pos;
                let old = match r.u8("tuple marker")? {
                    b'K' => Some(OldTuple::Key(r.tuple()?)),
                    b'O' => Some(OldTuple::Full(r.tuple()?)),
                    b'N' => None,
                    other => {
                        return Err(r.err_at(
                            at,
                            DecodeErrorReason::InvalidByte {
                                field: "tuple marker (expected 'K', 'O' or 'N')",
                                byte: other,
                            },
                        ))
                    }
                };
                if old.is_some() {
                    r.marker(b'N', "tuple marker (expected 'N')")?;
                }
                Message::Update {
                    xid,
                    relation,
                    old,
                    new: r.tuple()?,
                }
            }
            MessageKind::Delete => {
                let relation = r.u32("relation oid")?;
                let at = r.pos;
                let old = match r.u8("tuple marker")? {
                    b'K' => OldTuple::Key(r.tuple()?),
                    b'O' => OldTuple::Full(r.tuple()?),
                    other => {
                        return Err(r.err_at(
                            at,
                            DecodeErrorReason::InvalidByte {
                                field: "tuple marker (expected 'K' or 'O')",
                                byte: other,
                            },
                        ))
                    }
                };
                Message::Delete { xid, relation, old }
            }
            MessageKind::Truncate => {
                let count = r.length("relation count")?;
                let options = r.u8("options")?;
                // Check the whole array is there before allocating for it.
                r.need(count.saturating_mul(4), "relation oids")?;
                let mut relations = Vec::with_capacity(count);
                for _ in 0..count {
                    relations.push(r.u32("relation oid")?);
                }
                Message::Truncate {
                    xid,
                    options,
                    relations,
                }
            }
            MessageKind::Message => {
                let flags = r.u8("flags")?;
                let lsn = r.lsn("message LSN")?;
                let prefix = r.cstr("prefix")?;
                let len = r.length("content length")?;
                Message::Message {
                    xid,
                    transactional: flags & 1 != 0,
                    lsn,
                    prefix,
                    content: r.slice(len, "content")?,
                }
            }
            MessageKind::StreamStart => Message::StreamStart {
                xid: r.u32("xid")?,
                first_segment: r.u8("first segment flag")? == 1,
            },
            MessageKind::StreamStop => Message::StreamStop,
            MessageKind::StreamCommit => Message::StreamCommit {
                xid: r.u32("xid")?,
                flags: r.u8("flags")?,
                commit_lsn: r.lsn("commit LSN")?,
                end_lsn: r.lsn("end LSN")?,
                commit_time_us: r.i64("commit timestamp")?,
            },
            MessageKind::StreamAbort => {
                let xid = r.u32("xid")?;
                let subxid = r.u32("subtransaction xid")?;
                let (abort_lsn, abort_time_us) =
                    if self.protocol_version >= 4 && r.remaining() == 16 {
                        (Some(r.lsn("abort LSN")?), Some(r.i64("abort timestamp")?))
                    } else {
                        (None, None)
                    };
                Message::StreamAbort {
                    xid,
                    subxid,
                    abort_lsn,
                    abort_time_us,
                }
            }
        };
        if r.remaining() != 0 {
            return Err(r.err_at(
                r.pos,
                DecodeErrorReason::TrailingBytes {
                    count: r.remaining(),
                },
            ));
        }
        match kind {
            MessageKind::StreamStart => self.in_stream = true,
            MessageKind::StreamStop => self.in_stream = false,
            _ => {}
        }
        Ok(message)
    }

    /// Rejects messages that cannot appear in the current state.
    fn check_state(&self, kind: MessageKind) -> Result<(), DecodeError> {
        let reason = match kind {
            MessageKind::StreamStart
            | MessageKind::StreamStop
            | MessageKind::StreamCommit
            | MessageKind::StreamAbort
                if self.protocol_version < 2 =>
            {
                DecodeErrorReason::StreamingNotSupported {
                    protocol_version: self.protocol_version,
                }
            }
            MessageKind::StreamStop if !self.in_stream => DecodeErrorReason::NotInStream,
            MessageKind::StreamStart
            | MessageKind::StreamCommit
            | MessageKind::StreamAbort
            | MessageKind::Begin
            | MessageKind::Commit
                if self.in_stream =>
            {
                DecodeErrorReason::InStream
            }
            _ => return Ok(()),
        };
        Err(DecodeError::new(Some(kind), 0, reason))
    }
}

/// A cursor over one frame. Every read checks the length first.
struct Reader<'a> {
    frame: &'a Bytes,
    pos: usize,
    kind: MessageKind,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.frame.len().saturating_sub(self.pos)
    }

    fn err_at(&self, offset: usize, reason: DecodeErrorReason) -> DecodeError {
        DecodeError::new(Some(self.kind), offset, reason)
    }

    /// Fails unless `n` more bytes are available.
    fn need(&self, n: usize, field: &'static str) -> Result<(), DecodeError> {
        let available = self.remaining();
        if available < n {
            return Err(self.err_at(
                self.pos,
                DecodeErrorReason::Truncated {
                    field,
                    needed: n,
                    available,
                },
            ));
        }
        Ok(())
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let rest = self.frame.get(self.pos..).unwrap_or_default();
        match rest.first_chunk::<N>() {
            Some(a) => {
                self.pos += N;
                Ok(*a)
            }
            None => Err(self.err_at(
                self.pos,
                DecodeErrorReason::Truncated {
                    field,
                    needed: N,
                    available: rest.len(),
                },
            )),
        }
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        self.array(field).map(u16::from_be_bytes)
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        self.array(field).map(u32::from_be_bytes)
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        self.array(field).map(i32::from_be_bytes)
    }

    fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        self.array(field).map(i64::from_be_bytes)
    }

    fn lsn(&mut self, field: &'static str) -> Result<Lsn, DecodeError> {
        self.array(field).map(|a| Lsn(u64::from_be_bytes(a)))
    }

    /// An int32 length or count, which must not be negative.
    fn length(&mut self, field: &'static str) -> Result<usize, DecodeError> {
        let at = self.pos;
        let value = self.i32(field)?;
        usize::try_from(value)
            .map_err(|_| self.err_at(at, DecodeErrorReason::InvalidLength { field, value }))
    }

    /// The next `len` bytes as a zero-copy slice of the frame.
    fn slice(&mut self, len: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        self.need(len, field)?;
        let start = self.pos;
        self.pos += len;
        Ok(self.frame.slice(start..self.pos))
    }

    fn marker(&mut self, expected: u8, field: &'static str) -> Result<(), DecodeError> {
        let at = self.pos;
        let byte = self.u8(field)?;
        if byte != expected {
            return Err(self.err_at(at, DecodeErrorReason::InvalidByte { field, byte }));
        }
        Ok(())
    }

    /// A NUL-terminated UTF-8 string.
    fn cstr(&mut self, field: &'static str) -> Result<String, DecodeError> {
        let at = self.pos;
        let rest = self.frame.get(at..).unwrap_or_default();
        let Some(len) = rest.iter().position(|&b| b == 0) else {
            return Err(self.err_at(at, DecodeErrorReason::Unterminated { field }));
        };
        let s = std::str::from_utf8(&rest[..len])
            .map_err(|_| self.err_at(at, DecodeErrorReason::InvalidUtf8 { field }))?;
        self.pos = at + len + 1;
        Ok(s.to_owned())
    }

    fn tuple(&mut self) -> Result<TupleData, DecodeError> {
        let count = usize::from(self.u16("column count")?);
        // Each column takes at least one byte: never reserve more than that.
        let mut columns = Vec::with_capacity(count.min(self.remaining()));
        for _ in 0..count {
            let at = self.pos;
            let value = match self.u8("column kind")? {
                b'n' => ColumnValue::Null,
                b'u' => ColumnValue::Unchanged,
                b't' => {
                    let len = self.length("column length")?;
                    ColumnValue::Text(self.slice(len, "column value")?)
                }
                b'b' => {
                    let len = self.length("column length")?;
                    ColumnValue::Binary(self.slice(len, "column value")?)
                }
                byte => {
                    return Err(self.err_at(
                        at,
                        DecodeErrorReason::InvalidByte {
                            field: "column kind",
                            byte,
                        },
                    ))
                }
            };
            columns.push(value);
        }
        Ok(TupleData { columns })
    }

    fn relation(&mut self) -> Result<Relation, DecodeError> {
        let oid = self.u32("relation oid")?;
        let namespace = self.cstr("namespace")?;
        let name = self.cstr("relation name")?;
        let at = self.pos;
        let byte = self.u8("replica identity")?;
        let replica_identity = ReplicaIdentity::from_byte(byte).ok_or_else(|| {
            self.err_at(
                at,
                DecodeErrorReason::InvalidByte {
                    field: "replica identity",
                    byte,
                },
            )
        })?;
        let count = usize::from(self.u16("column count")?);
        // A column is at least 10 bytes (flags, empty name, oid, typmod).
        let mut columns = Vec::with_capacity(count.min(self.remaining() / 10));
        for _ in 0..count {
            let flags = self.u8("column flags")?;
            columns.push(RelationColumn {
                is_key: flags & 1 != 0,
                name: self.cstr("column name")?,
                type_oid: self.u32("column type oid")?,
                type_modifier: self.i32("column type modifier")?,
            });
        }
        Ok(Relation {
            oid,
            namespace,
            name,
            replica_identity,
            columns,
        })
    }
}

/// A malformed pgoutput message: which message type, at which byte offset
/// of the frame, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: Option<MessageKind>,
    offset: usize,
    reason: DecodeErrorReason,
}

/// What was wrong with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorReason {
    /// The frame has no bytes at all.
    Empty,
    /// The first byte is not a message type of protocol 1 or 2.
    UnknownType(u8),
    /// The frame ends before `field`.
    Truncated {
        field: &'static str,
        needed: usize,
        available: usize,
    },
    /// A string field has no terminating NUL byte.
    Unterminated { field: &'static str },
    /// A string field is not UTF-8.
    InvalidUtf8 { field: &'static str },
    /// A one-byte code (tuple marker, column kind, replica identity) has an
    /// unknown value.
    InvalidByte { field: &'static str, byte: u8 },
    /// A length or count is negative.
    InvalidLength { field: &'static str, value: i32 },
    /// A streaming message arrived at a decoder for protocol version 1.
    StreamingNotSupported { protocol_version: u8 },
    /// Stream Stop outside a streamed block.
    NotInStream,
    /// Begin, Commit, Stream Start, Stream Commit or Stream Abort inside a
    /// streamed block.
    InStream,
    /// The message is complete but the frame has more bytes.
    TrailingBytes { count: usize },
}

impl DecodeError {
    fn new(kind: Option<MessageKind>, offset: usize, reason: DecodeErrorReason) -> Self {
        DecodeError {
            kind,
            offset,
            reason,
        }
    }

    /// The type of the message that failed to decode (`None` if the type
    /// byte itself was missing or unknown).
    pub fn message_kind(&self) -> Option<MessageKind> {
        self.kind
    }

    /// Offset in the frame (0 is the type byte) of the bad field.
    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn reason(&self) -> &DecodeErrorReason {
        &self.reason
    }
}

/// Writes `b` as hex, plus the character if it is printable ASCII.
struct ByteDisplay(u8);

impl fmt::Display for ByteDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#04x}", self.0)?;
        if self.0.is_ascii_graphic() {
            write!(f, " ('{}')", self.0 as char)?;
        }
        Ok(())
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind.map_or("pgoutput message", MessageKind::name);
        let at = self.offset;
        match &self.reason {
            DecodeErrorReason::Empty => write!(f, "empty pgoutput message"),
            DecodeErrorReason::UnknownType(b) => {
                write!(f, "unknown pgoutput message type {} at byte 0", ByteDisplay(*b))
            }
            DecodeErrorReason::Truncated {
                field,
                needed,
                available,
            } => write!(
                f,
                "truncated {kind} at byte {at}: expected {needed} bytes for {field}, {available} left"
            ),
            DecodeErrorReason::Unterminated { field } => {
                write!(f, "truncated {kind} at byte {at}: {field} is not NUL-terminated")
            }
            DecodeErrorReason::InvalidUtf8 { field } => {
                write!(f, "invalid {kind} at byte {at}: {field} is not valid UTF-8")
            }
            DecodeErrorReason::InvalidByte { field, byte } => {
                write!(f, "invalid {kind} at byte {at}: {field} is {}", ByteDisplay(*byte))
            }
            DecodeErrorReason::InvalidLength { field, value } => {
                write!(f, "invalid {kind} at byte {at}: negative {field} {value}")
            }
            DecodeErrorReason::StreamingNotSupported { protocol_version } => write!(
                f,
                "unexpected {kind}: streaming needs protocol version 2 or later, \
                 the decoder is for version {protocol_version}"
            ),
            DecodeErrorReason::NotInStream => {
                write!(f, "unexpected {kind}: not inside a streamed block")
            }
            DecodeErrorReason::InStream => {
                write!(f, "unexpected {kind} inside a streamed block")
            }
            DecodeErrorReason::TrailingBytes { count } => {
                write!(f, "invalid {kind} at byte {at}: {count} unexpected trailing bytes")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(version: u8, bytes: &[u8]) -> Result<Message, DecodeError> {
        Decoder::new(version).decode(Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn error_messages_name_message_field_and_offset() {
        // Insert, relation 0x4037, 'N', 1 column, 't', then a cut length.
        let frame = [b'I', 0, 0, 0x40, 0x37, b'N', 0, 1, b't', 0, 0];
        let err = dec(1, &frame).unwrap_err();
        assert_eq!(
            err.to_string(),
            "truncated Insert at byte 9: expected 4 bytes for column length, 2 left"
        );
        assert_eq!(err.offset(), 9);
        assert_eq!(err.message_kind(), Some(MessageKind::Insert));

        let err = dec(1, &[b'I', 0, 0, 0, 1, b'N', 0, 1, b'x']).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid Insert at byte 8: column kind is 0x78 ('x')"
        );

        let err = dec(1, b"Z").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown pgoutput message type 0x5a ('Z') at byte 0"
        );
        assert_eq!(
            dec(1, &[]).unwrap_err().to_string(),
            "empty pgoutput message"
        );

        let err = dec(1, &[b'S', 0, 0, 0, 1, 1]).unwrap_err();
        assert!(err.to_string().contains("protocol version 2"), "{err}");

        let err = dec(2, b"E").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected Stream Stop: not inside a streamed block"
        );

        let err = dec(1, &[b'O', 0, 0, 0, 0, 0, 0, 0, 1, b'a']).unwrap_err();
        assert_eq!(
            err.to_string(),
            "truncated Origin at byte 9: origin name is not NUL-terminated"
        );

        let err = dec(1, &[b'T', 0xff, 0xff, 0xff, 0xff, 0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid Truncate at byte 1: negative relation count -1"
        );

        let mut begin = vec![b'B'];
        begin.extend_from_slice(&[0; 20]);
        begin.push(7);
        let err = dec(1, &begin).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid Begin at byte 21: 1 unexpected trailing bytes"
        );
    }

    #[test]
    fn stream_state() {
        let mut d = Decoder::new(2);
        let start = Bytes::from_static(&[b'S', 0, 0, 1, 0, 1]);
        assert_eq!(
            d.decode(start.clone()).unwrap(),
            Message::StreamStart {
                xid: 256,
                first_segment: true
            }
        );
        assert!(d.in_stream());
        // Nested Stream Start and Begin are rejected, state kept.
        assert!(d.decode(start).is_err());
        assert!(d.in_stream());
        // Inside the block, Insert has a leading xid.
        let insert = Bytes::from_static(&[b'I', 0, 0, 1, 1, 0, 0, 0, 9, b'N', 0, 1, b'n']);
        assert_eq!(
            d.decode(insert.clone()).unwrap(),
            Message::Insert {
                xid: Some(257),
                relation: 9,
                new: TupleData {
                    columns: vec![ColumnValue::Null]
                }
            }
        );
        assert_eq!(
            d.decode(Bytes::from_static(b"E")).unwrap(),
            Message::StreamStop
        );
        assert!(!d.in_stream());
        // Outside, the same bytes have 4 trailing bytes.
        assert!(d.decode(insert).is_err());
    }

    #[test]
    fn stream_abort_with_parallel_fields() {
        let mut frame = vec![b'A', 0, 0, 0, 5, 0, 0, 0, 6];
        frame.extend_from_slice(&0x10u64.to_be_bytes());
        frame.extend_from_slice(&77i64.to_be_bytes());
        // Version 2: the extra 16 bytes are not part of the message.
        assert!(dec(2, &frame).is_err());
        assert_eq!(
            dec(4, &frame).unwrap(),
            Message::StreamAbort {
                xid: 5,
                subxid: 6,
                abort_lsn: Some(Lsn(0x10)),
                abort_time_us: Some(77)
            }
        );
        assert_eq!(
            dec(4, &frame[..9]).unwrap(),
            Message::StreamAbort {
                xid: 5,
                subxid: 6,
                abort_lsn: None,
                abort_time_us: None
            }
        );
    }
}
