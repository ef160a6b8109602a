//! The binary `COPY` parser on generated input, without a server: any
//! stream of tuples, fed whole or cut into random pieces, gives exactly its
//! fields (NULLs, empty values, any bytes); a stream cut short never counts
//! as complete; corrupted or random input gives an error or waits for more,
//! never a panic or a field outside its row. (`snapshot_binary_copy.rs`
//! checks the same parser on a real server's output.)

use bytes::Bytes;
use sluice_postgres::pgoutput::{ColumnRef, Tuple};
use sluice_postgres::snapshot::{BinaryCopyParser, CopyRow};
use sluice_testkit::rng::Rng;

/// PostgreSQL's binary `COPY` signature (11 bytes).
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

type Fields = Vec<Option<Vec<u8>>>;

/// Signature, flags (none) and a header extension of `ext` bytes.
fn header(ext: &[u8]) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&(ext.len() as u32).to_be_bytes());
    out.extend_from_slice(ext);
    out
}

fn tuple(fields: &Fields) -> Vec<u8> {
    let mut out = (fields.len() as i16).to_be_bytes().to_vec();
    for f in fields {
        match f {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }
    out
}

const TRAILER: [u8; 2] = (-1i16).to_be_bytes();

/// A whole stream of random tuples, and the tuples.
fn random_stream(rng: &mut Rng) -> (Vec<u8>, Vec<Fields>) {
    let ext_len = rng.below(6);
    let ext = rng.bytes(ext_len);
    let mut out = header(&ext);
    let tuples: Vec<Fields> = (0..rng.below(20))
        .map(|_| {
            (0..rng.below(13))
                .map(|_| match rng.below(5) {
                    0 => None,
                    _ => {
                        let len = rng.below(41);
                        Some(rng.bytes(len))
                    }
                })
                .collect()
        })
        .collect();
    for t in &tuples {
        out.extend_from_slice(&tuple(t));
    }
    out.extend_from_slice(&TRAILER);
    (out, tuples)
}

/// Feeds the pieces; the rows so far and whether the parser accepted the
/// stream as complete (`Err` on a refused piece).
fn parse(pieces: &[&[u8]]) -> Result<(Vec<CopyRow>, bool), String> {
    let mut parser = BinaryCopyParser::default();
    let mut rows = Vec::new();
    for p in pieces {
        parser.feed(Bytes::copy_from_slice(p), &mut rows)?;
    }
    let complete = parser.finish().is_ok();
    Ok((rows, complete))
}

fn fields_of(row: &CopyRow) -> Fields {
    assert!(row.is_binary());
    (0..row.len())
        .map(|i| match row.column(i) {
            ColumnRef::Null => None,
            ColumnRef::Data(b) => Some(b.to_vec()),
            ColumnRef::Unchanged => panic!("an unchanged value in a COPY row"),
        })
        .collect()
}

/// `data` cut at random points into pieces of 1 to `max` bytes.
fn random_pieces<'a>(rng: &mut Rng, data: &'a [u8], max: usize) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let n = (1 + rng.below(max)).min(data.len() - at);
        pieces.push(&data[at..at + n]);
        at += n;
    }
    pieces
}

#[test]
fn generated_streams_parse_to_their_fields_whole_and_in_pieces() {
    let mut rng = Rng(0x5EED_0FC0_FFEE);
    for _ in 0..400 {
        let (stream, tuples) = random_stream(&mut rng);
        let (rows, complete) = parse(&[&stream]).unwrap();
        assert!(complete);
        let got: Vec<Fields> = rows.iter().map(fields_of).collect();
        assert_eq!(got, tuples);
        for max in [1, 3, 17, 64] {
            let pieces = random_pieces(&mut rng, &stream, max);
            let (cut_rows, complete) = parse(&pieces).unwrap();
            assert!(complete, "pieces of up to {max} bytes");
            assert_eq!(cut_rows, rows, "pieces of up to {max} bytes");
        }
    }
}

#[test]
fn a_stream_cut_short_is_never_complete() {
    let mut rng = Rng(0xC075_4027);
    for _ in 0..40 {
        let (stream, tuples) = random_stream(&mut rng);
        for end in 0..stream.len() {
            let (rows, complete) = parse(&[&stream[..end]]).unwrap();
            assert!(!complete, "a prefix of {end} of {} bytes", stream.len());
            // What came out is a prefix of the tuples, each whole.
            let got: Vec<Fields> = rows.iter().map(fields_of).collect();
            assert_eq!(got[..], tuples[..got.len()]);
        }
    }
}

#[test]
fn corrupted_and_random_input_is_refused_or_waited_on_never_a_panic() {
    let mut rng = Rng(0xBADB_17E5);
    for round in 0..3000 {
        let (mut stream, _) = random_stream(&mut rng);
        if round % 3 == 0 {
            // Random bytes after a valid header.
            let len = rng.below(200);
            stream = header(&[]);
            stream.extend(rng.bytes(len));
        } else {
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(stream.len());
                stream[at] = rng.next_u64() as u8;
            }
        }
        let max = 1 + rng.below(40);
        let pieces = random_pieces(&mut rng, &stream, max);
        // Either outcome is fine; every row must still read back (a span
        // outside its row would panic here).
        if let Ok((rows, _)) = parse(&pieces) {
            for row in &rows {
                fields_of(row);
            }
        }
    }
}

#[test]
fn malformed_streams_are_refused_with_what_is_wrong() {
    let refused = |stream: Vec<u8>| parse(&[&stream]).unwrap_err();
    let mut bad_signature = header(&[]);
    bad_signature[0] = b'X';
    assert!(refused(bad_signature).contains("signature"));

    let mut with_oids = SIGNATURE.to_vec();
    with_oids.extend_from_slice(&(1u32 << 16).to_be_bytes());
    with_oids.extend_from_slice(&0u32.to_be_bytes());
    assert!(refused(with_oids).contains("OIDs"));

    let mut negative_count = header(&[]);
    negative_count.extend_from_slice(&(-2i16).to_be_bytes());
    assert!(refused(negative_count).contains("-2 fields"));

    let mut negative_length = header(&[]);
    negative_length.extend_from_slice(&1i16.to_be_bytes());
    negative_length.extend_from_slice(&(-7i32).to_be_bytes());
    assert!(refused(negative_length).contains("length -7"));

    let mut after_trailer = header(&[]);
    after_trailer.extend_from_slice(&TRAILER);
    after_trailer.extend_from_slice(&tuple(&vec![Some(b"x".to_vec())]));
    assert!(refused(after_trailer).contains("after its trailer"));
}
