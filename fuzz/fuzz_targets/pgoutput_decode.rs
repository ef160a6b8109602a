//! Fuzz target: arbitrary bytes into the pgoutput `Decoder` and the
//! `StreamBuffer`.
//!
//! Input layout: the first byte picks the decoder (protocol version 1, 2 or
//! 4; starting inside a streamed block or not). The rest is decoded once as
//! a single frame, then — as a session — split into frames, each prefixed by
//! a one-byte length. Every decoded message must re-encode to bytes that
//! decode to an equal message, and is fed to a `StreamBuffer`. Panics are
//! the bugs looked for; errors are expected.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sluice_postgres::pgoutput::{Decoder, Message, StreamBuffer};

fn decoder(config: u8) -> Decoder {
    let version = [1, 2, 4][usize::from(config % 3)];
    let mut decoder = Decoder::new(version);
    if version >= 2 && config & 0x80 != 0 {
        decoder
            .decode(Bytes::from_static(&[b'S', 0, 0, 0, 7, 1]))
            .expect("Stream Start decodes");
    }
    decoder
}

fn check(decoder: &mut Decoder, buffer: &mut StreamBuffer, frame: &[u8]) {
    let before = decoder.clone();
    let Ok(message) = decoder.decode(Bytes::copy_from_slice(frame)) else {
        assert_eq!(
            before.in_stream(),
            decoder.in_stream(),
            "failed decode changed state"
        );
        return;
    };
    let mut encoded = Vec::new();
    message.encode(&mut encoded);
    let again = before.clone().decode(Bytes::from(encoded));
    assert_eq!(again.as_ref(), Ok(&message), "re-encoded message differs");
    if !matches!(message, Message::StreamStart { .. } | Message::StreamStop) {
        assert_eq!(before.in_stream(), decoder.in_stream());
    }
    let _ = buffer.push(message);
    for m in buffer.drain() {
        drop(m);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, rest)) = data.split_first() else {
        return;
    };

    check(&mut decoder(config), &mut StreamBuffer::new(), rest);

    let mut decoder = decoder(config);
    let mut buffer = StreamBuffer::new();
    let mut input = rest;
    while let Some((&len, tail)) = input.split_first() {
        let len = usize::from(len).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        check(&mut decoder, &mut buffer, frame);
        input = tail;
    }
    // Whatever is buffered is accounted for.
    assert_eq!(
        buffer.buffered_bytes() == 0,
        buffer.buffered_messages() == 0
    );
});
