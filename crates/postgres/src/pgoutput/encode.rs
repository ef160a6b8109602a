//! The inverse of the decoder, for tests, fuzzing and fake servers.

use super::{ColumnValue, Message, OldTuple, Relation, TupleData};

fn put_cstr(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

/// Lengths on the wire are int32; longer values cannot be represented and
/// are clamped (the decoder then reports the frame as malformed).
fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&i32::try_from(len).unwrap_or(i32::MAX).to_be_bytes());
}

fn put_xid(out: &mut Vec<u8>, xid: Option<u32>) {
    if let Some(xid) = xid {
        out.extend_from_slice(&xid.to_be_bytes());
    }
}

fn put_tuple(out: &mut Vec<u8>, tuple: &TupleData) {
    let count = u16::try_from(tuple.columns.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for column in tuple.columns.iter().take(usize::from(count)) {
        match column {
            ColumnValue::Null => out.push(b'n'),
            ColumnValue::Unchanged => out.push(b'u'),
            ColumnValue::Text(b) | ColumnValue::Binary(b) => {
                out.push(if matches!(column, ColumnValue::Text(_)) {
                    b't'
                } else {
                    b'b'
                });
                put_len(out, b.len());
                out.extend_from_slice(b);
            }
        }
    }
}

fn put_old(out: &mut Vec<u8>, old: &OldTuple) {
    match old {
        OldTuple::Key(t) => {
            out.push(b'K');
            put_tuple(out, t);
        }
        OldTuple::Full(t) => {
            out.push(b'O');
            put_tuple(out, t);
        }
    }
}

fn put_relation(out: &mut Vec<u8>, rel: &Relation) {
    out.extend_from_slice(&rel.oid.to_be_bytes());
    put_cstr(out, &rel.namespace);
    put_cstr(out, &rel.name);
    out.push(rel.replica_identity.as_byte());
    let count = u16::try_from(rel.columns.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for c in rel.columns.iter().take(usize::from(count)) {
        out.push(u8::from(c.is_key));
        put_cstr(out, &c.name);
        out.extend_from_slice(&c.type_oid.to_be_bytes());
        out.extend_from_slice(&c.type_modifier.to_be_bytes());
    }
}

pub(super) fn encode(message: &Message, out: &mut Vec<u8>) {
    out.push(message.kind().tag());
    match message {
        Message::Begin {
            final_lsn,
            commit_time_us,
            xid,
        } => {
            out.extend_from_slice(&final_lsn.0.to_be_bytes());
            out.extend_from_slice(&commit_time_us.to_be_bytes());
            out.extend_from_slice(&xid.to_be_bytes());
        }
        Message::Commit {
            flags,
            commit_lsn,
            end_lsn,
            commit_time_us,
        } => {
            out.push(*flags);
            out.extend_from_slice(&commit_lsn.0.to_be_bytes());
            out.extend_from_slice(&end_lsn.0.to_be_bytes());
            out.extend_from_slice(&commit_time_us.to_be_bytes());
        }
        Message::Origin { lsn, name } => {
            out.extend_from_slice(&lsn.0.to_be_bytes());
            put_cstr(out, name);
        }
        Message::Relation { xid, relation } => {
            put_xid(out, *xid);
            put_relation(out, relation);
        }
        Message::Type {
            xid,
            oid,
            namespace,
            name,
        } => {
            put_xid(out, *xid);
            out.extend_from_slice(&oid.to_be_bytes());
            put_cstr(out, namespace);
            put_cstr(out, name);
        }
        Message::Insert { xid, relation, new } => {
            put_xid(out, *xid);
            out.extend_from_slice(&relation.to_be_bytes());
            out.push(b'N');
            put_tuple(out, new);
        }
        Message::Update {
            xid,
            relation,
            old,
            new,
        } => {
            put_xid(out, *xid);
            out.extend_from_slice(&relation.to_be_bytes());
            if let Some(old) = old {
                put_old(out, old);
            }
            out.push(b'N');
            put_tuple(out, new);
        }
        Message::Delete { xid, relation, old } => {
            put_xid(out, *xid);
            out.extend_from_slice(&relation.to_be_bytes());
            put_old(out, old);
        }
        Message::Truncate {
            xid,
            options,
            relations,
        } => {
            put_xid(out, *xid);
            put_len(out, relations.len());
            out.push(*options);
            for oid in relations {
                out.extend_from_slice(&oid.to_be_bytes());
            }
        }
        Message::Message {
            xid,
            transactional,
            lsn,
            prefix,
            content,
        } => {
            put_xid(out, *xid);
            out.push(u8::from(*transactional));
            out.extend_from_slice(&lsn.0.to_be_bytes());
            put_cstr(out, prefix);
            put_len(out, content.len());
            out.extend_from_slice(content);
        }
        Message::StreamStart { xid, first_segment } => {
            out.extend_from_slice(&xid.to_be_bytes());
            out.push(u8::from(*first_segment));
        }
        Message::StreamStop => {}
        Message::StreamCommit {
            xid,
            flags,
            commit_lsn,
            end_lsn,
            commit_time_us,
        } => {
            out.extend_from_slice(&xid.to_be_bytes());
            out.push(*flags);
            out.extend_from_slice(&commit_lsn.0.to_be_bytes());
            out.extend_from_slice(&end_lsn.0.to_be_bytes());
            out.extend_from_slice(&commit_time_us.to_be_bytes());
        }
        Message::StreamAbort {
            xid,
            subxid,
            abort_lsn,
            abort_time_us,
        } => {
            out.extend_from_slice(&xid.to_be_bytes());
            out.extend_from_slice(&subxid.to_be_bytes());
            if let (Some(lsn), Some(time)) = (abort_lsn, abort_time_us) {
                out.extend_from_slice(&lsn.0.to_be_bytes());
                out.extend_from_slice(&time.to_be_bytes());
            }
        }
    }
}
