//! Reassembly of streamed transactions (protocol 2, `streaming 'on'`).

use std::collections::{HashMap, VecDeque};

use super::{ColumnValue, Message, MessageKind, TupleData};

/// Turns the pgoutput message sequence of a session into the sequence of
/// committed transactions, in commit order.
///
/// Feed it every decoded message, in arrival order, with [`push`], then take
/// what is ready with [`pop`] (or [`drain`]):
///
/// * Messages outside streamed blocks (ordinary Begin … Commit
///   transactions, non-transactional Message, Origin) pass straight
///   through.
/// * Messages between Stream Start and Stream Stop are buffered per
///   top-level transaction (the Stream Start xid), each remembered with its
///   own (sub)transaction xid. A transaction is usually streamed in several
///   blocks, interleaved with blocks of other transactions and with ordinary
///   transactions.
/// * Stream Commit emits a synthetic `Begin { final_lsn: commit_lsn,
///   commit_time_us, xid }`, the buffered messages in their original order
///   (with their `xid` fields as received), and a `Commit` with the Stream
///   Commit's flags, LSNs and time — the same shape as an ordinary
///   transaction.
/// * Stream Abort with `subxid == xid` drops the whole transaction; with a
///   different `subxid` it drops only the data messages of that
///   subtransaction. Relation and Type messages are kept even then: the
///   server may not send a relation's schema again within the same
///   top-level transaction, and an extra schema message is harmless.
///
/// Memory: streamed transactions are buffered in memory, unbounded. The
/// server only streams a transaction once it has decoded more than
/// `logical_decoding_work_mem` of it (without streaming it would spill to
/// its own disk and send the whole transaction at commit), so this buffer
/// holds the large transactions that are still in progress upstream. Watch
/// [`buffered_bytes`] and fail or back off if it grows beyond what the
/// process may use.
///
/// [`push`]: StreamBuffer::push
/// [`pop`]: StreamBuffer::pop
/// [`drain`]: StreamBuffer::drain
/// [`buffered_bytes`]: StreamBuffer::buffered_bytes
#[derive(Debug, Default)]
pub struct StreamBuffer {
    transactions: HashMap<u32, Streamed>,
    /// Top-level xid of the open streamed block.
    current: Option<u32>,
    ready: VecDeque<Message>,
    buffered_bytes: usize,
}

#[derive(Debug, Default)]
struct Streamed {
    /// (xid of the (sub)transaction, message), in arrival order.
    messages: Vec<(u32, Message)>,
    bytes: usize,
}

/// A message sequence that violates the streaming protocol. The offending
/// message is dropped and the buffer's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamBufferError {
    #[error(
        "Stream Start of transaction {xid} inside the streamed block of transaction {current}"
    )]
    NestedStreamStart { current: u32, xid: u32 },
    #[error("Stream Stop outside a streamed block")]
    StopOutsideStream,
    #[error("{kind} inside the streamed block of transaction {current}")]
    UnexpectedInStream { kind: MessageKind, current: u32 },
    #[error(
        "Stream Start of transaction {xid} continues a stream whose first segment was not seen"
    )]
    MissingFirstSegment { xid: u32 },
    #[error("Stream Commit of transaction {xid}, which was never streamed")]
    UnknownTransaction { xid: u32 },
}

impl StreamBuffer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts the next message of the session. Afterwards, [`pop`] returns
    /// whatever became ready (nothing, the message itself, or a whole
    /// transaction).
    ///
    /// [`pop`]: StreamBuffer::pop
    pub fn push(&mut self, message: Message) -> Result<(), StreamBufferError> {
        if let Some(current) = self.current {
            return self.push_in_stream(current, message);
        }
        match message {
            Message::StreamStart { xid, first_segment } => {
                match self.transactions.get_mut(&xid) {
                    Some(txn) if first_segment => {
                        // The server started this transaction's stream over:
                        // forget what it sent before.
                        self.buffered_bytes -= txn.bytes;
                        *txn = Streamed::default();
                    }
                    Some(_) => {}
                    None if first_segment => {
                        self.transactions.insert(xid, Streamed::default());
                    }
                    None => return Err(StreamBufferError::MissingFirstSegment { xid }),
                }
                self.current = Some(xid);
            }
            Message::StreamStop => return Err(StreamBufferError::StopOutsideStream),
            Message::StreamCommit {
                xid,
                flags,
                commit_lsn,
                end_lsn,
                commit_time_us,
            } => {
                let txn = self
                    .transactions
                    .remove(&xid)
                    .ok_or(StreamBufferError::UnknownTransaction { xid })?;
                self.buffered_bytes -= txn.bytes;
                self.ready.reserve(txn.messages.len() + 2);
                self.ready.push_back(Message::Begin {
                    final_lsn: commit_lsn,
                    commit_time_us,
                    xid,
                });
                self.ready.extend(txn.messages.into_iter().map(|(_, m)| m));
                self.ready.push_back(Message::Commit {
                    flags,
                    commit_lsn,
                    end_lsn,
                    commit_time_us,
                });
            }
            Message::StreamAbort { xid, subxid, .. } => {
                if let Some(txn) = self.transactions.get_mut(&xid) {
                    if subxid == xid {
                        self.buffered_bytes -= txn.bytes;
                        self.transactions.remove(&xid);
                    } else {
                        let before = txn.bytes;
                        txn.messages.retain(|(msg_xid, m)| {
                            *msg_xid != subxid
                                || matches!(m.kind(), MessageKind::Relation | MessageKind::Type)
                        });
                        txn.bytes = txn.messages.iter().map(|(_, m)| approx_size(m)).sum();
                        self.buffered_bytes -= before - txn.bytes;
                    }
                }
                // An abort of something never streamed has nothing to drop.
            }
            other => self.ready.push_back(other),
        }
        Ok(())
    }

    fn push_in_stream(&mut self, current: u32, message: Message) -> Result<(), StreamBufferError> {
        match message.kind() {
            MessageKind::StreamStop => {
                self.current = None;
                return Ok(());
            }
            MessageKind::StreamStart => {
                if let Message::StreamStart { xid, .. } = message {
                    return Err(StreamBufferError::NestedStreamStart { current, xid });
                }
            }
            MessageKind::Begin
            | MessageKind::Commit
            | MessageKind::StreamCommit
            | MessageKind::StreamAbort => {}
            _ => {
                let xid = message.stream_xid().unwrap_or(current);
                let size = approx_size(&message);
                // `current` always has an entry: Stream Start creates it and
                // nothing removes it before Stream Stop.
                let txn = self.transactions.entry(current).or_default();
                txn.messages.push((xid, message));
                txn.bytes += size;
                self.buffered_bytes += size;
                return Ok(());
            }
        }
        Err(StreamBufferError::UnexpectedInStream {
            kind: message.kind(),
            current,
        })
    }

    /// The next message ready for the consumer, in order.
    pub fn pop(&mut self) -> Option<Message> {
        self.ready.pop_front()
    }

    /// All messages ready for the consumer, in order.
    pub fn drain(&mut self) -> impl Iterator<Item = Message> + '_ {
        self.ready.drain(..)
    }

    /// Approximate memory held by buffered streamed transactions: column
    /// values, strings and per-message overhead. Column values are slices
    /// of the received frames, which stay allocated while buffered.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered_bytes
    }

    /// Number of streamed transactions waiting for their Stream Commit or
    /// Stream Abort.
    pub fn buffered_transactions(&self) -> usize {
        self.transactions.len()
    }

    /// Number of messages buffered across all streamed transactions.
    pub fn buffered_messages(&self) -> usize {
        self.transactions.values().map(|t| t.messages.len()).sum()
    }

    /// Top-level xid of the streamed block being received, if any.
    pub fn current_stream(&self) -> Option<u32> {
        self.current
    }
}

fn tuple_size(t: &TupleData) -> usize {
    t.columns
        .iter()
        .map(|c| {
            std::mem::size_of::<ColumnValue>()
                + match c {
                    ColumnValue::Text(b) | ColumnValue::Binary(b) => b.len(),
                    ColumnValue::Null | ColumnValue::Unchanged => 0,
                }
        })
        .sum()
}

/// What a buffered message costs, roughly.
fn approx_size(m: &Message) -> usize {
    let heap = match m {
        Message::Relation { relation, .. } => {
            relation.namespace.len()
                + relation.name.len()
                + relation
                    .columns
                    .iter()
                    .map(|c| c.name.len() + std::mem::size_of_val(c))
                    .sum::<usize>()
        }
        Message::Type {
            namespace, name, ..
        } => namespace.len() + name.len(),
        Message::Insert { new, .. } => tuple_size(new),
        Message::Update { old, new, .. } => {
            old.as_ref().map_or(0, |o| tuple_size(o.tuple())) + tuple_size(new)
        }
        Message::Delete { old, .. } => tuple_size(old.tuple()),
        Message::Truncate { relations, .. } => relations.len() * 4,
        Message::Message {
            prefix, content, ..
        } => prefix.len() + content.len(),
        Message::Origin { name, .. } => name.len(),
        _ => 0,
    };
    std::mem::size_of::<(u32, Message)>() + heap
}
