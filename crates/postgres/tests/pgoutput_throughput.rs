//! Decode throughput on the captured frames. Ignored by default; run with
//! `cargo test -p sluice-postgres --release --test pgoutput_throughput -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice_postgres::pgoutput::{Decoder, Message, StreamBuffer};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn frames(name: &str) -> Vec<Bytes> {
    let path = format!(
        "{}/../../testdata/pgoutput/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| Bytes::from(hex(l.rsplit(' ').next().unwrap())))
        .collect()
}

fn measure(label: &str, frames: &[Bytes], version: u8, with_buffer: bool) {
    let bytes: usize = frames.iter().map(Bytes::len).sum();
    let (mut messages, mut rounds) = (0u64, 0u64);
    let mut sink = 0usize;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        let mut decoder = Decoder::new(version);
        let mut buffer = StreamBuffer::new();
        for f in frames {
            let m = decoder.decode(f.clone()).expect("captured frames decode");
            if with_buffer {
                buffer.push(m).expect("captured frames are well-formed");
                for m in buffer.drain() {
                    if let Message::Insert { new, .. } = m {
                        sink += new.columns.len();
                    }
                }
            } else if let Message::Insert { new, .. } = m {
                sink += new.columns.len();
            }
        }
        messages += frames.len() as u64;
        rounds += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{label}: {:.2} M messages/s, {:.0} MB/s ({} messages of {:.0} bytes on average, {sink} columns)",
        messages as f64 / secs / 1e6,
        (bytes as u64 * rounds) as f64 / secs / 1e6,
        frames.len(),
        bytes as f64 / frames.len() as f64,
    );
}

#[test]
#[ignore = "measurement; run in release mode"]
fn pgoutput_decode_throughput() {
    let stream = frames("stream_v2.txt");
    let main = frames("main_v1.txt");
    measure("stream_v2 decode", &stream, 2, false);
    measure("stream_v2 decode + StreamBuffer", &stream, 2, true);
    measure("main_v1 decode", &main, 1, false);
}
