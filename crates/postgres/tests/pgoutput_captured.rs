//! Decodes the frames captured from PostgreSQL 15 in testdata/pgoutput/
//! (see the README there) and checks them against what the capture scripts
//! did.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use sluice_postgres::lsn::Lsn;
use sluice_postgres::pgoutput::{
    pg_time_to_unix_us, ColumnValue, Decoder, Message, MessageKind, OldTuple, Relation,
    ReplicaIdentity, StreamBuffer, TupleData, TRUNCATE_CASCADE, TRUNCATE_RESTART_IDENTITY,
};

struct Frame {
    line: usize,
    lsn: Lsn,
    xid: u32,
    data: Bytes,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn load(name: &str) -> Vec<Frame> {
    let path = format!(
        "{}/../../testdata/pgoutput/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let mut f = l.split(' ');
            let (lsn, xid, data) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            Frame {
                line: i + 1,
                lsn: lsn.parse().unwrap(),
                xid: xid.parse().unwrap(),
                data: Bytes::from(hex(data)),
            }
        })
        .collect()
}

fn decode_all(name: &str, version: u8) -> Vec<(Frame, Message)> {
    let mut decoder = Decoder::new(version);
    load(name)
        .into_iter()
        .map(|f| {
            let m = decoder
                .decode(f.data.clone())
                .unwrap_or_else(|e| panic!("{name}:{}: {e}", f.line));
            (f, m)
        })
        .collect()
}

fn value(v: &ColumnValue) -> String {
    match v {
        ColumnValue::Null => "null".into(),
        ColumnValue::Unchanged => "<unchanged>".into(),
        ColumnValue::Text(b) if b.len() > 40 => format!("<text {} bytes>", b.len()),
        ColumnValue::Text(b) => String::from_utf8(b.to_vec()).expect("utf-8 text value"),
        ColumnValue::Binary(b) if b.len() > 40 => format!("<binary {} bytes>", b.len()),
        ColumnValue::Binary(b) => format!(
            "0x{}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

fn row(rel: &Relation, t: &TupleData) -> String {
    assert_eq!(
        rel.columns.len(),
        t.columns.len(),
        "column count of {}",
        rel.name
    );
    let cols: Vec<String> = rel
        .columns
        .iter()
        .zip(&t.columns)
        .map(|(c, v)| format!("{}={}", c.name, value(v)))
        .collect();
    format!("({})", cols.join(", "))
}

fn old(rel: &Relation, o: &OldTuple) -> String {
    match o {
        OldTuple::Key(t) => format!("key{}", row(rel, t)),
        OldTuple::Full(t) => format!("full{}", row(rel, t)),
    }
}

/// One line per message; relations are tracked to name tables and columns.
fn render(
    m: &Message,
    rels: &mut HashMap<u32, Relation>,
    types: &mut HashMap<u32, String>,
) -> String {
    let name = |rels: &HashMap<u32, Relation>, oid: &u32| -> String {
        let r = rels
            .get(oid)
            .unwrap_or_else(|| panic!("no Relation for {oid}"));
        format!("{}.{}", r.namespace, r.name)
    };
    match m {
        Message::Begin { .. } => "BEGIN".into(),
        Message::Commit { .. } => "COMMIT".into(),
        Message::Origin { lsn, name } => format!("ORIGIN {name} {lsn}"),
        Message::Relation { relation: r, .. } => {
            let cols: Vec<String> = r
                .columns
                .iter()
                .map(|c| {
                    let mut s = match types.get(&c.type_oid) {
                        Some(t) => format!("{}:{t}", c.name),
                        None => format!("{}:{}", c.name, c.type_oid),
                    };
                    if c.type_modifier != -1 {
                        s += &format!("({})", c.type_modifier);
                    }
                    if c.is_key {
                        s += "*";
                    }
                    s
                })
                .collect();
            let s = format!(
                "RELATION {}.{} {:?} [{}]",
                r.namespace,
                r.name,
                r.replica_identity,
                cols.join(", ")
            );
            rels.insert(r.oid, r.clone());
            s
        }
        Message::Type {
            oid,
            namespace,
            name,
            ..
        } => {
            types.insert(*oid, format!("{namespace}.{name}"));
            format!("TYPE {namespace}.{name}")
        }
        Message::Insert { relation, new, .. } => {
            format!(
                "INSERT {} {}",
                name(rels, relation),
                row(&rels[relation], new)
            )
        }
        Message::Update {
            relation,
            old: o,
            new,
            ..
        } => {
            let r = &rels[relation];
            let o = o.as_ref().map_or("none".into(), |o| old(r, o));
            format!(
                "UPDATE {} old={o} new={}",
                name(rels, relation),
                row(r, new)
            )
        }
        Message::Delete {
            relation, old: o, ..
        } => {
            format!(
                "DELETE {} {}",
                name(rels, relation),
                old(&rels[relation], o)
            )
        }
        Message::Truncate {
            options, relations, ..
        } => {
            let names: Vec<String> = relations.iter().map(|r| name(rels, r)).collect();
            format!("TRUNCATE options={options} [{}]", names.join(", "))
        }
        Message::Message {
            transactional,
            prefix,
            content,
            ..
        } => format!(
            "MESSAGE {} {prefix} {}",
            if *transactional { "tx" } else { "nontx" },
            match std::str::from_utf8(content) {
                Ok(s) => s.to_owned(),
                Err(_) => value(&ColumnValue::Binary(content.clone())),
            }
        ),
        Message::StreamStart { xid, first_segment } => {
            format!("STREAM START {xid} first={first_segment}")
        }
        Message::StreamStop => "STREAM STOP".into(),
        Message::StreamCommit { xid, .. } => format!("STREAM COMMIT {xid}"),
        Message::StreamAbort { xid, subxid, .. } => format!("STREAM ABORT {xid} {subxid}"),
    }
}

fn render_all(messages: &[(Frame, Message)]) -> Vec<String> {
    let (mut rels, mut types) = (HashMap::new(), HashMap::new());
    messages
        .iter()
        .map(|(_, m)| render(m, &mut rels, &mut types))
        .collect()
}

/// What capture_main.sql did (W1..W16), one line per message, in order.
/// Type OIDs: 23 int4, 25 text, 1700 numeric (typmod (10,2) = 655366),
/// 1184 timestamptz, 16 bool, 3802 jsonb, 1009 text[], 1043 varchar
/// (typmod n + 4), 17 bytea; `*` marks replica identity columns.
const MAIN_EXPECTED: &str = r#"
BEGIN
TYPE public.mood
RELATION public.t_default Default [id:23*, name:25, amount:1700(655366), created:1184, flag:16, doc:3802, tags:1009, code:1043(12), m:public.mood, big:25, raw:17]
INSERT public.t_default (id=1, name=alice, amount=12.50, created=2024-01-02 03:04:05.678901+00, flag=t, doc={"k": [1, 2]}, tags={a,"b c"}, code=abc, m=happy, big=<text 3000 bytes>, raw=\xdeadbeef)
COMMIT
BEGIN
INSERT public.t_default (id=2, name=null, amount=null, created=null, flag=null, doc=null, tags=null, code=null, m=null, big=null, raw=null)
COMMIT
BEGIN
UPDATE public.t_default old=none new=(id=1, name=alice2, amount=12.50, created=2024-01-02 03:04:05.678901+00, flag=t, doc={"k": [1, 2]}, tags={a,"b c"}, code=abc, m=happy, big=<unchanged>, raw=\xdeadbeef)
COMMIT
BEGIN
UPDATE public.t_default old=key(id=2, name=null, amount=null, created=null, flag=null, doc=null, tags=null, code=null, m=null, big=null, raw=null) new=(id=20, name=null, amount=null, created=null, flag=null, doc=null, tags=null, code=null, m=null, big=null, raw=null)
COMMIT
BEGIN
RELATION public.t_full Full [id:23*, note:1043(24)*]
INSERT public.t_full (id=1, note=one)
INSERT public.t_full (id=2, note=null)
UPDATE public.t_full old=full(id=1, note=one) new=(id=1, note=uno)
DELETE public.t_full full(id=2, note=null)
COMMIT
BEGIN
RELATION app.t_index Index [id:23, code:25*, val:23]
INSERT app.t_index (id=1, code=k1, val=100)
COMMIT
BEGIN
UPDATE app.t_index old=none new=(id=1, code=k1, val=101)
COMMIT
BEGIN
UPDATE app.t_index old=key(id=null, code=k1, val=null) new=(id=1, code=k2, val=101)
COMMIT
BEGIN
DELETE app.t_index key(id=null, code=k2, val=null)
COMMIT
BEGIN
RELATION public.t_nothing Nothing [id:23, v:25]
INSERT public.t_nothing (id=1, v=n)
COMMIT
BEGIN
RELATION app.Mixed Case Default [Col A:23*, ünï:25]
INSERT app.Mixed Case (Col A=7, ünï=ß→✓)
COMMIT
BEGIN
DELETE public.t_default key(id=20, name=null, amount=null, created=null, flag=null, doc=null, tags=null, code=null, m=null, big=null, raw=null)
COMMIT
BEGIN
RELATION public.t_seq Default [id:23*, v:25]
INSERT public.t_seq (id=1, v=s1)
MESSAGE tx app.tx transactional content
COMMIT
MESSAGE nontx app.nontx non-transactional content
BEGIN
MESSAGE tx app.bin 0x00ff10
COMMIT
BEGIN
RELATION public.parent Default [id:23*]
INSERT public.parent (id=1)
COMMIT
BEGIN
RELATION public.child Default [id:23*, parent_id:23]
INSERT public.child (id=1, parent_id=1)
COMMIT
BEGIN
RELATION public.parent Default [id:23*]
RELATION public.child Default [id:23*, parent_id:23]
TRUNCATE options=1 [public.parent, public.child]
COMMIT
BEGIN
RELATION public.t_seq Default [id:23*, v:25]
TRUNCATE options=2 [public.t_seq]
COMMIT
BEGIN
RELATION public.t_full Full [id:23*, note:1043(24)*]
TRUNCATE options=3 [public.t_full]
COMMIT
BEGIN
RELATION public.t_nothing Nothing [id:23, v:25]
TRUNCATE options=0 [public.t_nothing]
COMMIT
BEGIN
INSERT public.t_default (id=3, name=before, amount=null, created=null, flag=null, doc=null, tags=null, code=null, m=null, big=null, raw=null)
TYPE public.mood
RELATION public.t_default Default [id:23*, name:25, amount:1700(655366), created:1184, flag:16, doc:3802, tags:1009, code:1043(12), m:public.mood, big:25, raw:17, extra:23]
INSERT public.t_default (id=4, name=after, amount=null, created=null, flag=null, doc=null, tags=null, code=null, m=null, big=null, raw=null, extra=8)
COMMIT
BEGIN
TYPE public.mood
RELATION public.t_default Default [id:23*, name:25, amount:1700(655366), created:1184, flag:16, doc:3802, tags:1009, code:1043(12), m:public.mood, big:25, extra:23]
UPDATE public.t_default old=none new=(id=3, name=dropped raw, amount=null, created=null, flag=null, doc=null, tags=null, code=null, m=null, big=null, extra=7)
COMMIT
BEGIN
ORIGIN upstream_a 0/1234ABCD
RELATION public.t_seq Default [id:23*, v:25]
INSERT public.t_seq (id=1, v=from origin)
COMMIT
BEGIN
INSERT public.t_seq (id=3, v=end of main)
COMMIT
"#;

fn expected_lines(s: &str) -> Vec<&str> {
    s.lines().filter(|l| !l.is_empty()).collect()
}

#[test]
fn pgoutput_main_v1_matches_the_workload() {
    let msgs = decode_all("main_v1.txt", 1);
    let rendered = render_all(&msgs);
    let expected = expected_lines(MAIN_EXPECTED);
    for (i, (got, want)) in rendered.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "message {i}");
    }
    assert_eq!(rendered.len(), expected.len());
}

#[test]
fn pgoutput_main_v1_transaction_framing_lsns_and_times() {
    let msgs = decode_all("main_v1.txt", 1);
    let mut open: Option<(Lsn, i64, u32)> = None;
    let mut transactions = 0;
    for (f, m) in &msgs {
        match m {
            Message::Begin {
                final_lsn,
                commit_time_us,
                xid,
            } => {
                assert!(open.is_none(), "line {}: nested Begin", f.line);
                assert_eq!(*xid, f.xid, "line {}", f.line);
                open = Some((*final_lsn, *commit_time_us, *xid));
            }
            Message::Commit {
                flags,
                commit_lsn,
                end_lsn,
                commit_time_us,
            } => {
                let (final_lsn, begin_time, _) = open.take().expect("Commit without Begin");
                assert_eq!(*flags, 0);
                assert_eq!(final_lsn, *commit_lsn, "line {}", f.line);
                assert_eq!(begin_time, *commit_time_us);
                assert!(end_lsn > commit_lsn);
                // The SQL interface reports a transaction's end LSN for its
                // Commit message.
                assert_eq!(f.lsn, *end_lsn, "line {}", f.line);
                let unix = pg_time_to_unix_us(*commit_time_us);
                // 2020-01-01 .. 2100-01-01, or the origin's time (W14).
                assert!(
                    (1_577_836_800_000_000..4_102_444_800_000_000).contains(&unix),
                    "line {}: commit time {unix}",
                    f.line
                );
                transactions += 1;
            }
            Message::Message {
                transactional: false,
                lsn,
                ..
            } => {
                assert!(
                    open.is_none(),
                    "non-transactional message inside a transaction"
                );
                assert_eq!(f.xid, 0);
                assert_eq!(f.lsn, *lsn);
            }
            other => {
                assert!(
                    open.is_some(),
                    "line {}: {:?} outside a transaction",
                    f.line,
                    other.kind()
                );
                assert_eq!(other.stream_xid(), None);
            }
        }
    }
    assert!(open.is_none());
    // W1-W16 without the rolled back W15 (13 transactions) + 3 more in W6,
    // 1 more in W10 (plus a non-transactional message), 5 more in W11.
    assert_eq!(transactions, 24);
}

#[test]
fn pgoutput_main_v1_details() {
    let msgs = decode_all("main_v1.txt", 1);
    // W1: the TOASTed value arrives whole in the Insert ...
    let Message::Insert { new, .. } = &msgs
        .iter()
        .find(|(_, m)| m.kind() == MessageKind::Insert)
        .unwrap()
        .1
    else {
        unreachable!()
    };
    assert_eq!(
        new.columns[9].as_str(),
        Some("0123456789".repeat(300).as_str())
    );
    assert_eq!(new.columns[10].as_str(), Some("\\xdeadbeef"));
    // ... and as 'u' in the Update of another column (W3).
    let Message::Update { new, old: None, .. } = &msgs
        .iter()
        .find(|(_, m)| m.kind() == MessageKind::Update)
        .unwrap()
        .1
    else {
        panic!("W3 has no old tuple")
    };
    assert_eq!(new.columns[9], ColumnValue::Unchanged);

    // The Type message names the enum used by t_default.m.
    let Message::Type {
        oid,
        namespace,
        name,
        xid: None,
    } = &msgs[1].1
    else {
        panic!("expected Type, got {:?}", msgs[1].1)
    };
    assert_eq!((namespace.as_str(), name.as_str()), ("public", "mood"));
    let Message::Relation {
        relation,
        xid: None,
    } = &msgs[2].1
    else {
        panic!()
    };
    assert_eq!(relation.columns[8].type_oid, *oid);
    assert_eq!(relation.replica_identity, ReplicaIdentity::Default);

    // Truncate options (W11).
    let options: Vec<u8> = msgs
        .iter()
        .filter_map(|(_, m)| match m {
            Message::Truncate { options, .. } => Some(*options),
            _ => None,
        })
        .collect();
    assert_eq!(
        options,
        [
            TRUNCATE_CASCADE,
            TRUNCATE_RESTART_IDENTITY,
            TRUNCATE_CASCADE | TRUNCATE_RESTART_IDENTITY,
            0
        ]
    );

    // Messages (W10): transactional flag, prefix and raw content.
    let contents: Vec<(bool, &str, &[u8])> = msgs
        .iter()
        .filter_map(|(_, m)| match m {
            Message::Message {
                transactional,
                prefix,
                content,
                ..
            } => Some((*transactional, prefix.as_str(), &content[..])),
            _ => None,
        })
        .collect();
    assert_eq!(
        contents,
        [
            (true, "app.tx", &b"transactional content"[..]),
            (false, "app.nontx", b"non-transactional content"),
            (true, "app.bin", b"\x00\xff\x10"),
        ]
    );

    // W14: Origin right after Begin; the commit time is the origin's.
    let i = msgs
        .iter()
        .position(|(_, m)| m.kind() == MessageKind::Origin)
        .unwrap();
    assert!(matches!(msgs[i - 1].1, Message::Begin { .. }));
    let Message::Origin { lsn, name } = &msgs[i].1 else {
        unreachable!()
    };
    assert_eq!((*lsn, name.as_str()), (Lsn(0x1234_ABCD), "upstream_a"));
    let Message::Begin { commit_time_us, .. } = msgs[i - 1].1 else {
        unreachable!()
    };
    // 2024-05-06 07:08:09 UTC
    assert_eq!(pg_time_to_unix_us(commit_time_us), 1_714_979_289_000_000);
}

#[test]
fn pgoutput_main_v1_binary_mode() {
    let text = decode_all("main_v1.txt", 1);
    let binary = decode_all("main_v1_binary.txt", 1);
    assert_eq!(text.len(), binary.len());
    let tuples = |m: &Message| -> Vec<TupleData> {
        match m {
            Message::Insert { new, .. } => vec![new.clone()],
            Message::Update { old, new, .. } => old
                .iter()
                .map(|o| o.tuple().clone())
                .chain([new.clone()])
                .collect(),
            Message::Delete { old, .. } => vec![old.tuple().clone()],
            _ => vec![],
        }
    };
    for ((_, t), (f, b)) in text.iter().zip(&binary) {
        assert_eq!(t.kind(), b.kind(), "line {}", f.line);
        if let (Message::Relation { relation: rt, .. }, Message::Relation { relation: rb, .. }) =
            (t, b)
        {
            assert_eq!(rt, rb);
        }
        for (tt, tb) in tuples(t).iter().zip(&tuples(b)) {
            assert_eq!(tt.columns.len(), tb.columns.len());
            for (ct, cb) in tt.columns.iter().zip(&tb.columns) {
                match (ct, cb) {
                    (ColumnValue::Text(_), ColumnValue::Binary(_))
                    | (ColumnValue::Null, ColumnValue::Null)
                    | (ColumnValue::Unchanged, ColumnValue::Unchanged) => {}
                    other => panic!("line {}: {other:?}", f.line),
                }
            }
        }
    }
    // W1 in binary send formats.
    let Message::Insert { new, .. } = &binary[3].1 else {
        panic!("{:?}", binary[3].1)
    };
    let col = |i: usize| new.columns[i].as_bytes().unwrap().to_vec();
    assert_eq!(col(0), 1i32.to_be_bytes());
    assert_eq!(col(1), b"alice");
    assert_eq!(col(4), [1]);
    // timestamptz: microseconds since 2000-01-01.
    let created = (1_704_164_645i64 - 946_684_800) * 1_000_000 + 678_901;
    assert_eq!(col(3), created.to_be_bytes());
    assert_eq!(col(8), b"happy");
    assert_eq!(col(9), "0123456789".repeat(300).as_bytes());
    assert_eq!(col(10), [0xde, 0xad, 0xbe, 0xef]);
}

#[test]
fn pgoutput_main_v2_without_streaming_equals_v1() {
    let v1: Vec<Message> = decode_all("main_v1.txt", 1)
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    let v2: Vec<Message> = decode_all("main_v2.txt", 2)
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert_eq!(v1, v2);
}

#[test]
fn pgoutput_captured_frames_re_encode_byte_for_byte() {
    for (name, version) in [
        ("main_v1.txt", 1),
        ("main_v1_binary.txt", 1),
        ("main_v2.txt", 2),
        ("stream_v2.txt", 2),
    ] {
        for (f, m) in decode_all(name, version) {
            let mut out = Vec::new();
            m.encode(&mut out);
            assert_eq!(out, f.data, "{name}:{}", f.line);
        }
    }
}

#[test]
fn pgoutput_stream_v2_block_structure() {
    let msgs = decode_all("stream_v2.txt", 2);
    let mut current: Option<u32> = None;
    let mut streamed = std::collections::HashSet::new();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut aborts = Vec::new();
    for (f, m) in &msgs {
        *kinds.entry(m.kind().name()).or_default() += 1;
        match m {
            Message::StreamStart { xid, first_segment } => {
                assert!(current.is_none(), "line {}", f.line);
                assert_eq!(*xid, f.xid);
                assert_eq!(*first_segment, streamed.insert(*xid), "line {}", f.line);
                current = Some(*xid);
            }
            Message::StreamStop => {
                current.take().expect("Stream Stop outside a block");
            }
            Message::StreamCommit {
                xid,
                flags,
                commit_lsn,
                end_lsn,
                ..
            } => {
                assert!(current.is_none());
                assert!(streamed.contains(xid));
                assert_eq!(*flags, 0);
                assert!(end_lsn > commit_lsn);
            }
            Message::StreamAbort {
                xid,
                subxid,
                abort_lsn: None,
                abort_time_us: None,
            } => {
                assert!(current.is_none());
                assert!(streamed.contains(xid));
                aborts.push(xid == subxid);
            }
            Message::Begin { .. } | Message::Commit { .. } => assert!(current.is_none()),
            other => {
                // Inside a block every data message carries the xid of its
                // (sub)transaction; subtransaction xids are larger.
                match (current, other.stream_xid()) {
                    (Some(top), Some(xid)) => assert!(xid >= top, "line {}", f.line),
                    (None, None) => {}
                    (c, x) => panic!("line {}: block {c:?}, message xid {x:?}", f.line),
                }
            }
        }
    }
    assert!(current.is_none());
    // S1, S2, S3, S4a and S4b; S1, S2 and both S4 are streamed in two blocks.
    assert_eq!(streamed.len(), 5);
    assert_eq!(kinds["Stream Start"], 9);
    assert_eq!(kinds["Stream Stop"], 9);
    assert_eq!(kinds["Stream Commit"], 4);
    // S2's rolled-back savepoint, then S3's rollback.
    assert_eq!(aborts, [false, true]);
    // The small transaction in S4 and the final one are not streamed.
    assert_eq!(kinds["Begin"], 2);
}

#[test]
fn pgoutput_stream_v2_through_stream_buffer() {
    let msgs = decode_all("stream_v2.txt", 2);
    let mut buffer = StreamBuffer::new();
    let mut out = Vec::new();
    let (mut max_txns, mut max_bytes) = (0, 0);
    for (f, m) in msgs {
        buffer
            .push(m)
            .unwrap_or_else(|e| panic!("line {}: {e}", f.line));
        max_txns = max_txns.max(buffer.buffered_transactions());
        max_bytes = max_bytes.max(buffer.buffered_bytes());
        out.extend(buffer.drain());
    }
    assert_eq!(buffer.buffered_transactions(), 0);
    assert_eq!(buffer.buffered_bytes(), 0);
    assert_eq!(buffer.buffered_messages(), 0);
    assert_eq!(
        max_txns, 2,
        "S4's two transactions are buffered at the same time"
    );
    assert!(max_bytes > 64 * 1024, "{max_bytes}");

    // Split into transactions and apply them to a model of t_stream.
    let mut rels: HashMap<u32, Relation> = HashMap::new();
    let mut table: BTreeMap<i32, String> = BTreeMap::new();
    let mut labels = Vec::new();
    let mut open: Option<(Lsn, u32)> = None;
    let mut label: Option<String> = None;
    let mut messages = Vec::new();
    for m in &out {
        let text = |t: &TupleData, i: usize| t.columns[i].as_str().unwrap().to_owned();
        let id = |t: &TupleData| text(t, 0).parse::<i32>().unwrap();
        match m {
            Message::Begin { final_lsn, xid, .. } => {
                assert!(open.is_none());
                open = Some((*final_lsn, *xid));
            }
            Message::Commit { commit_lsn, .. } => {
                let (final_lsn, _) = open.take().unwrap();
                assert_eq!(final_lsn, *commit_lsn);
                labels.push(label.take().unwrap());
            }
            Message::Relation { relation, .. } => {
                rels.insert(relation.oid, relation.clone());
            }
            Message::Insert { relation, new, .. } => {
                let payload = text(new, 1);
                label.get_or_insert_with(|| payload.split(' ').next().unwrap().to_owned());
                if rels[relation].name == "t_stream" {
                    assert!(table.insert(id(new), payload).is_none());
                }
            }
            Message::Update {
                relation, new, old, ..
            } => {
                assert_eq!(rels[relation].name, "t_stream");
                assert!(old.is_none());
                *table.get_mut(&id(new)).unwrap() = text(new, 1);
            }
            Message::Delete { relation, old, .. } => {
                assert_eq!(rels[relation].name, "t_stream");
                assert!(old.is_key());
                table.remove(&id(old.tuple())).unwrap();
            }
            Message::Message {
                xid,
                transactional,
                prefix,
                content,
                ..
            } => {
                assert!(open.is_some() && *transactional && xid.is_some());
                messages.push((prefix.clone(), content.clone()));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(open.is_none());
    // Commit order: S1, S2, S4's small transaction, S4b, S4a, S5.
    assert_eq!(labels, ["row", "top", "small", "b", "a", "end"]);
    assert_eq!(
        messages,
        [(
            "stream.msg".to_owned(),
            Bytes::from_static(b"inside streamed txn")
        )]
    );

    let mut expected: BTreeMap<i32, String> = BTreeMap::new();
    let mut add = |range: std::ops::RangeInclusive<i32>, p: &str| {
        for g in range {
            expected.insert(g, format!("{p} {g}"));
        }
    };
    add(1..=500, "row"); // S1
    add(1001..=1400, "top"); // S2, without 2001..2400 (rolled back)
    add(4001..=4010, "kept");
    add(3001..=3400, "after");
    add(6001..=6600, "a"); // S4; S3 aborted
    add(7001..=7600, "b");
    expected.insert(1, "upd".into());
    expected.insert(2, "upd".into());
    expected.remove(&3);
    assert_eq!(table, expected);
}
