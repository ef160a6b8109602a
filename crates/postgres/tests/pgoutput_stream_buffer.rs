//! StreamBuffer on hand-built message sequences.

use bytes::Bytes;
use sluice_postgres::lsn::Lsn;
use sluice_postgres::pgoutput::{
    ColumnValue, Message, MessageKind, Relation, ReplicaIdentity, StreamBuffer, StreamBufferError,
    TupleData,
};

fn insert(xid: Option<u32>, value: &'static str) -> Message {
    Message::Insert {
        xid,
        relation: 16384,
        new: TupleData {
            columns: vec![ColumnValue::Text(Bytes::from_static(value.as_bytes()))],
        },
    }
}

fn relation(xid: Option<u32>) -> Message {
    Message::Relation {
        xid,
        relation: Relation {
            oid: 16384,
            namespace: "public".into(),
            name: "t".into(),
            replica_identity: ReplicaIdentity::Default,
            columns: vec![],
        },
    }
}

fn start(xid: u32, first_segment: bool) -> Message {
    Message::StreamStart { xid, first_segment }
}

fn commit(xid: u32, lsn: u64) -> Message {
    Message::StreamCommit {
        xid,
        flags: 0,
        commit_lsn: Lsn(lsn),
        end_lsn: Lsn(lsn + 8),
        commit_time_us: lsn as i64 * 10,
    }
}

fn abort(xid: u32, subxid: u32) -> Message {
    Message::StreamAbort {
        xid,
        subxid,
        abort_lsn: None,
        abort_time_us: None,
    }
}

/// Pushes all messages, returns what came out, each rendered briefly.
fn run(buffer: &mut StreamBuffer, messages: Vec<Message>) -> Vec<String> {
    let mut out = Vec::new();
    for m in messages {
        buffer.push(m).unwrap();
        out.extend(buffer.drain().map(|m| brief(&m)));
    }
    out
}

fn brief(m: &Message) -> String {
    match m {
        Message::Begin {
            xid,
            final_lsn,
            commit_time_us,
        } => format!("B{xid}@{}/{commit_time_us}", final_lsn.0),
        Message::Commit {
            commit_lsn,
            end_lsn,
            ..
        } => format!("C@{}-{}", commit_lsn.0, end_lsn.0),
        Message::Insert { new, .. } => new.columns[0].as_str().unwrap().to_owned(),
        Message::Relation { xid, .. } => format!("R{}", xid.unwrap_or(0)),
        other => other.kind().name().to_owned(),
    }
}

#[test]
fn pgoutput_ordinary_messages_pass_straight_through() {
    let mut b = StreamBuffer::new();
    let out = run(
        &mut b,
        vec![
            Message::Begin {
                final_lsn: Lsn(10),
                commit_time_us: 5,
                xid: 1,
            },
            insert(None, "x"),
            Message::Commit {
                flags: 0,
                commit_lsn: Lsn(10),
                end_lsn: Lsn(20),
                commit_time_us: 5,
            },
        ],
    );
    assert_eq!(out, ["B1@10/5", "x", "C@10-20"]);
    assert_eq!(b.buffered_bytes(), 0);
}

#[test]
fn pgoutput_streamed_transactions_come_out_at_commit_in_commit_order() {
    let mut b = StreamBuffer::new();
    let out = run(
        &mut b,
        vec![
            start(100, true),
            relation(Some(100)),
            insert(Some(100), "a1"),
            Message::StreamStop,
            start(200, true),
            relation(Some(200)),
            insert(Some(200), "b1"),
            Message::StreamStop,
            // An ordinary transaction between the blocks passes through.
            Message::Begin {
                final_lsn: Lsn(30),
                commit_time_us: 3,
                xid: 300,
            },
            insert(None, "c"),
            Message::Commit {
                flags: 0,
                commit_lsn: Lsn(30),
                end_lsn: Lsn(31),
                commit_time_us: 3,
            },
            start(100, false),
            insert(Some(100), "a2"),
            Message::StreamStop,
            start(200, false),
            insert(Some(200), "b2"),
            Message::StreamStop,
        ],
    );
    assert_eq!(out, ["B300@30/3", "c", "C@30-31"]);
    assert_eq!(b.buffered_transactions(), 2);
    assert_eq!(b.buffered_messages(), 6);
    // 200 commits first.
    assert_eq!(
        run(&mut b, vec![commit(200, 40)]),
        ["B200@40/400", "R200", "b1", "b2", "C@40-48"]
    );
    assert_eq!(
        run(&mut b, vec![commit(100, 50)]),
        ["B100@50/500", "R100", "a1", "a2", "C@50-58"]
    );
    assert_eq!(b.buffered_bytes(), 0);
}

#[test]
fn pgoutput_subtransaction_abort_drops_only_that_subtransaction() {
    let mut b = StreamBuffer::new();
    let out = run(
        &mut b,
        vec![
            start(100, true),
            insert(Some(100), "top1"),
            // The subtransaction's first change brings a Relation message
            // with the subtransaction's xid.
            relation(Some(101)),
            insert(Some(101), "sub1"),
            insert(Some(102), "other-sub"),
            Message::StreamStop,
            abort(100, 101),
            start(100, false),
            insert(Some(101), "never-mind"),
            insert(Some(100), "top2"),
            Message::StreamStop,
        ],
    );
    assert!(out.is_empty());
    let before = b.buffered_bytes();
    // Aborting again (or an unknown subtransaction) changes nothing.
    run(&mut b, vec![abort(100, 999)]);
    assert_eq!(b.buffered_bytes(), before);
    assert_eq!(
        run(&mut b, vec![commit(100, 70)]),
        // sub1 is dropped, its Relation kept. (Changes of 101 sent after
        // its abort cannot happen on a real server; the buffer keeps them.)
        [
            "B100@70/700",
            "top1",
            "R101",
            "other-sub",
            "never-mind",
            "top2",
            "C@70-78"
        ]
    );
}

#[test]
fn pgoutput_top_level_abort_drops_everything() {
    let mut b = StreamBuffer::new();
    run(
        &mut b,
        vec![
            start(100, true),
            relation(Some(100)),
            insert(Some(100), "a"),
            insert(Some(101), "b"),
            Message::StreamStop,
        ],
    );
    assert!(b.buffered_bytes() > 0);
    assert!(run(&mut b, vec![abort(100, 100)]).is_empty());
    assert_eq!(b.buffered_bytes(), 0);
    assert_eq!(b.buffered_transactions(), 0);
    // A later commit of it is a protocol error.
    assert_eq!(
        b.push(commit(100, 1)),
        Err(StreamBufferError::UnknownTransaction { xid: 100 })
    );
}

#[test]
fn pgoutput_first_segment_again_restarts_the_transaction() {
    let mut b = StreamBuffer::new();
    run(
        &mut b,
        vec![
            start(100, true),
            insert(Some(100), "old"),
            Message::StreamStop,
            start(100, true),
            insert(Some(100), "new"),
            Message::StreamStop,
        ],
    );
    assert_eq!(
        run(&mut b, vec![commit(100, 9)]),
        ["B100@9/90", "new", "C@9-17"]
    );
}

#[test]
fn pgoutput_protocol_violations_are_errors_and_leave_the_state_alone() {
    let mut b = StreamBuffer::new();
    assert_eq!(
        b.push(Message::StreamStop),
        Err(StreamBufferError::StopOutsideStream)
    );
    assert_eq!(
        b.push(start(5, false)),
        Err(StreamBufferError::MissingFirstSegment { xid: 5 })
    );
    b.push(start(5, true)).unwrap();
    assert_eq!(
        b.push(start(6, true)),
        Err(StreamBufferError::NestedStreamStart { current: 5, xid: 6 })
    );
    let err = b.push(commit(5, 1)).unwrap_err();
    assert_eq!(
        err,
        StreamBufferError::UnexpectedInStream {
            kind: MessageKind::StreamCommit,
            current: 5
        }
    );
    assert_eq!(
        err.to_string(),
        "Stream Commit inside the streamed block of transaction 5"
    );
    assert!(b
        .push(Message::Begin {
            final_lsn: Lsn(1),
            commit_time_us: 0,
            xid: 9
        })
        .is_err());
    assert_eq!(b.current_stream(), Some(5));
    b.push(insert(Some(5), "still fine")).unwrap();
    b.push(Message::StreamStop).unwrap();
    assert_eq!(b.current_stream(), None);
    assert_eq!(
        run(&mut b, vec![commit(5, 2)]),
        ["B5@2/20", "still fine", "C@2-10"]
    );
}

#[test]
fn pgoutput_non_transactional_message_and_origin_inside_a_block() {
    let mut b = StreamBuffer::new();
    let out = run(
        &mut b,
        vec![
            // Origin follows the first Stream Start of a transaction that
            // came from a replication origin; it has no xid of its own.
            start(7, true),
            Message::Origin {
                lsn: Lsn(1),
                name: "up".into(),
            },
            insert(Some(7), "x"),
            Message::StreamStop,
            Message::Message {
                xid: None,
                transactional: false,
                lsn: Lsn(3),
                prefix: "p".into(),
                content: Bytes::new(),
            },
            commit(7, 4),
        ],
    );
    assert_eq!(out, ["Message", "B7@4/40", "Origin", "x", "C@4-12"]);
}
