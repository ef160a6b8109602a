//! The decoder must reject every malformed frame with an error, never
//! panic: truncations of every captured frame, random bytes, and mutations
//! of captured frames.

use bytes::Bytes;
use sluice_postgres::pgoutput::{Decoder, Message, StreamBuffer};
use sluice_testkit::rng::Rng;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Frames of a capture file (see testdata/pgoutput/README.md).
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

const CAPTURES: [(&str, u8); 4] = [
    ("main_v1.txt", 1),
    ("main_v1_binary.txt", 1),
    ("main_v2.txt", 2),
    ("stream_v2.txt", 2),
];

#[test]
fn pgoutput_every_truncation_of_every_captured_frame_is_an_error() {
    let mut checked = 0;
    for (name, version) in CAPTURES {
        let mut decoder = Decoder::new(version);
        for (i, frame) in frames(name).into_iter().enumerate() {
            for len in 0..frame.len() {
                // A copy, so that the decoder's stream state is the one the
                // full frame is decoded in.
                let mut d = decoder.clone();
                let result = d.decode(frame.slice(..len));
                assert!(result.is_err(), "{name} frame {i} cut to {len}: {result:?}");
                assert_eq!(d.in_stream(), decoder.in_stream());
                checked += 1;
            }
            decoder.decode(frame).unwrap();
        }
    }
    assert!(checked > 100_000, "{checked}");
}

#[test]
fn pgoutput_errors_of_truncated_frames_point_inside_the_frame() {
    for (name, version) in CAPTURES {
        let mut decoder = Decoder::new(version);
        for frame in frames(name).into_iter().take(300) {
            for len in 1..frame.len() {
                let err = decoder.clone().decode(frame.slice(..len)).unwrap_err();
                assert!(err.offset() <= len, "{err}");
                assert!(err.message_kind().is_some(), "{err}");
                assert!(err.to_string().contains("truncated"), "{err}");
            }
            decoder.decode(frame).unwrap();
        }
    }
}

const TAGS: &[u8] = b"BCORYIUDTMSEcA";

fn check_one(decoder: &mut Decoder, buffer: &mut StreamBuffer, frame: Bytes) {
    if let Ok(m) = decoder.decode(frame) {
        // Whatever decodes re-encodes to something that decodes the same.
        let mut out = Vec::new();
        m.encode(&mut out);
        let again = decoder.clone().decode(Bytes::from(out));
        // Re-decoding a Stream Start/Stop happens in the state after it,
        // where it is (correctly) rejected.
        if !matches!(m, Message::StreamStart { .. } | Message::StreamStop) {
            assert_eq!(again.as_ref(), Ok(&m));
        }
        let _ = buffer.push(m);
        buffer.drain().for_each(drop);
    }
}

#[test]
fn pgoutput_random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for version in [1u8, 2, 4] {
        for in_stream in [false, true] {
            let mut decoder = Decoder::new(version);
            if in_stream && version >= 2 {
                decoder
                    .decode(Bytes::from_static(&[b'S', 0, 0, 0, 9, 1]))
                    .unwrap();
            }
            let mut buffer = StreamBuffer::new();
            for _ in 0..50_000 {
                let len = rng.below(48);
                let mut frame: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                // Mostly valid type bytes and small numbers, so that the
                // decoder gets past the first fields.
                if let Some(first) = frame.first_mut() {
                    if rng.below(4) != 0 {
                        *first = TAGS[rng.below(TAGS.len())];
                    }
                }
                for b in frame.iter_mut().skip(1) {
                    if rng.below(3) == 0 {
                        *b = [0, 1, b'n', b't', b'u', b'N', b'K'][rng.below(7)];
                    }
                }
                check_one(&mut decoder, &mut buffer, Bytes::from(frame));
            }
        }
    }
}

#[test]
fn pgoutput_mutated_captured_frames_never_panic() {
    let mut rng = Rng(42);
    for (name, version) in CAPTURES {
        let mut decoder = Decoder::new(version);
        let mut buffer = StreamBuffer::new();
        for frame in frames(name).into_iter().take(400) {
            for _ in 0..50 {
                let mut f = frame.to_vec();
                for _ in 0..1 + rng.below(3) {
                    let i = rng.below(f.len());
                    match rng.below(3) {
                        0 => f[i] ^= 1 << rng.below(8),
                        1 => f[i] = rng.next_u64() as u8,
                        _ => f[i] = 0xff,
                    }
                }
                check_one(
                    &mut decoder.clone(),
                    &mut StreamBuffer::new(),
                    Bytes::from(f),
                );
            }
            check_one(&mut decoder, &mut buffer, frame);
        }
    }
}
