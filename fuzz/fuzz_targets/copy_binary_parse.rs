//! Arbitrary bytes into `sluice_postgres::snapshot::BinaryCopyParser`:
//! never a panic, and feeding the input whole or cut into pieces (byte 0
//! picks their size) gives the same rows, the same refusal and the same
//! completeness.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sluice_postgres::pgoutput::{ColumnRef, Tuple};
use sluice_postgres::snapshot::{BinaryCopyParser, CopyRow};

fn parse(pieces: &mut dyn Iterator<Item = &[u8]>) -> (Vec<CopyRow>, Result<bool, String>) {
    let mut parser = BinaryCopyParser::default();
    let mut rows = Vec::new();
    for p in pieces {
        if let Err(e) = parser.feed(Bytes::copy_from_slice(p), &mut rows) {
            return (rows, Err(e));
        }
    }
    (rows, Ok(parser.finish().is_ok()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, input)) = data.split_first() else {
        return;
    };
    let (whole_rows, whole) = parse(&mut std::iter::once(input));
    let (cut_rows, cut_result) = parse(&mut input.chunks(usize::from(cut % 32) + 1));
    assert_eq!(whole.is_ok(), cut_result.is_ok());
    if whole.is_ok() {
        assert_eq!(whole, cut_result);
        assert_eq!(whole_rows, cut_rows);
    }
    for row in &whole_rows {
        for i in 0..row.len() {
            if let ColumnRef::Unchanged = row.column(i) {
                panic!("an unchanged value in a COPY row");
            }
        }
    }
});
