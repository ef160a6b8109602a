//! The replication client against a scripted fake server on a local
//! socket: framing across arbitrary read boundaries, cancel safety of
//! `next()`, the status-update encoding, errors in the stream, broken
//! connections, connect timeouts and `sslmode=prefer` fallbacks.

use std::time::{Duration, Instant, SystemTime};

use bytes::{BufMut, Bytes, BytesMut};
use sluice_connect_api::ErrorKind;
use sluice_postgres::lsn::Lsn;
use sluice_postgres::replication::{
    system_time_to_pg_micros, ReplicationClient, ReplicationConfig, ReplicationMessage, SslMode,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------- server

/// A backend message: tag, length, body.
fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(tag);
    out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn xlog_data(wal_start: u64, data: &[u8]) -> Vec<u8> {
    let mut body = BytesMut::with_capacity(25 + data.len());
    body.put_u8(b'w');
    body.put_u64(wal_start);
    body.put_u64(wal_start + data.len() as u64);
    body.put_i64(wal_start as i64 * 3);
    body.put_slice(data);
    message(b'd', &body)
}

fn keepalive(wal_end: u64, reply: bool) -> Vec<u8> {
    let mut body = BytesMut::new();
    body.put_u8(b'k');
    body.put_u64(wal_end);
    body.put_i64(-1);
    body.put_u8(u8::from(reply));
    message(b'd', &body)
}

fn error_response(severity: &str, code: &str, text: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (t, v) in [
        (b'S', severity),
        (b'V', severity),
        (b'C', code),
        (b'M', text),
    ] {
        body.push(t);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    message(b'E', &body)
}

fn parameter_status(name: &str, value: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(name.as_bytes());
    body.push(0);
    body.extend_from_slice(value.as_bytes());
    body.push(0);
    message(b'S', &body)
}

/// Reads one frontend message (tag, body).
async fn read_message(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let tag = s.read_u8().await.unwrap();
    let len = s.read_u32().await.unwrap() as usize;
    let mut body = vec![0; len - 4];
    s.read_exact(&mut body).await.unwrap();
    (tag, body)
}

/// Reads the startup packet (answering an SSLRequest with 'N' first);
/// returns its parameters.
async fn read_startup(s: &mut TcpStream) -> Vec<(String, String)> {
    loop {
        let len = s.read_u32().await.unwrap() as usize;
        let mut body = vec![0; len - 4];
        s.read_exact(&mut body).await.unwrap();
        let code = u32::from_be_bytes(body[..4].try_into().unwrap());
        if code == 80_877_103 {
            s.write_all(b"N").await.unwrap();
            continue;
        }
        assert_eq!(code, 0x0003_0000, "protocol 3.0");
        let fields: Vec<String> = body[4..]
            .split(|&b| b == 0)
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect();
        return fields
            .chunks(2)
            .filter(|c| c.len() == 2 && !c[0].is_empty())
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect();
    }
}

async fn send_ready(s: &mut TcpStream) {
    let mut out = message(b'R', &0i32.to_be_bytes());
    out.extend(parameter_status("server_version", "15.4"));
    out.extend(parameter_status("server_encoding", "UTF8"));
    let mut key = Vec::new();
    key.extend_from_slice(&4242i32.to_be_bytes());
    key.extend_from_slice(&77i32.to_be_bytes());
    out.extend(message(b'K', &key));
    out.extend(message(b'Z', b"I"));
    s.write_all(&out).await.unwrap();
}

/// Accepts a connection, does the startup (trust), expects a
/// START_REPLICATION and answers CopyBothResponse.
async fn accept_streaming(listener: &TcpListener) -> TcpStream {
    let (mut s, _) = listener.accept().await.unwrap();
    let params = read_startup(&mut s).await;
    assert!(
        params.contains(&("replication".to_string(), "database".to_string())),
        "{params:?}"
    );
    send_ready(&mut s).await;
    let (tag, body) = read_message(&mut s).await;
    assert_eq!(tag, b'Q');
    let sql = String::from_utf8(body).unwrap();
    assert_eq!(
        sql.trim_end_matches('\0'),
        "START_REPLICATION SLOT \"s\" LOGICAL 0/10 (\"proto_version\" '1', \"publication_names\" '\"p\",\"it''s\"')"
    );
    s.write_all(&message(b'W', &[0, 0, 0])).await.unwrap();
    s
}

/// Finishes a stream the way PostgreSQL does after the client's CopyDone:
/// CopyDone, CommandComplete ×2, ReadyForQuery; then expects Terminate.
async fn finish_after_client_copy_done(s: &mut TcpStream, server_sent_copy_done: bool) {
    loop {
        let (tag, _) = read_message(s).await;
        match tag {
            b'd' => continue, // status updates
            b'c' => break,
            other => panic!("unexpected frontend message {:?}", other as char),
        }
    }
    let mut out = Vec::new();
    if !server_sent_copy_done {
        out.extend(message(b'c', b""));
    }
    out.extend(message(b'C', b"COPY 0\0"));
    out.extend(message(b'C', b"START_REPLICATION\0"));
    out.extend(message(b'Z', b"I"));
    s.write_all(&out).await.unwrap();
    let (tag, _) = read_message(s).await;
    assert_eq!(tag, b'X', "Terminate");
}

fn client_config(port: u16) -> ReplicationConfig {
    let mut config = ReplicationConfig::new("127.0.0.1", port, "cdc", "db");
    config.sslmode = SslMode::Disable;
    config.connect_timeout = Duration::from_secs(5);
    config
}

const OPTIONS: &[(&str, &str)] = &[
    ("proto_version", "1"),
    ("publication_names", "\"p\",\"it's\""),
];

/// A deterministic pseudo-random sequence (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A script of XLogData frames of varied sizes (a few larger than the
/// client's read chunk) with keepalives between; returns the bytes and the
/// expected messages.
fn script(frames: usize, seed: u64) -> (Vec<u8>, Vec<ReplicationMessage>) {
    let mut rng = Rng(seed);
    let mut bytes = Vec::new();
    let mut expected = Vec::new();
    let mut lsn = 0x1_0000_0000u64;
    for i in 0..frames {
        if i % 50 == 7 {
            bytes.extend(keepalive(lsn, i % 100 == 7));
            expected.push(ReplicationMessage::PrimaryKeepalive {
                wal_end: Lsn(lsn),
                server_time_us: -1,
                reply_requested: i % 100 == 7,
            });
        }
        let len = match rng.below(100) {
            0 => 300_000 + rng.below(400_000) as usize,
            1..=10 => rng.below(20_000) as usize,
            _ => rng.below(300) as usize,
        };
        let data: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
        bytes.extend(xlog_data(lsn, &data));
        expected.push(ReplicationMessage::XLogData {
            wal_start: Lsn(lsn),
            wal_end: Lsn(lsn + len as u64),
            server_time_us: lsn as i64 * 3,
            data: Bytes::from(data),
        });
        lsn += len as u64 + 1;
    }
    (bytes, expected)
}

/// Writes `bytes` in pieces of random size (mostly tiny), flushing and
/// yielding between them, so that the client sees arbitrary boundaries.
/// `paced`: sleep (about a millisecond) after every other piece, so that a
/// fast reader often finds the socket empty in the middle of a message.
async fn write_in_pieces(s: &mut TcpStream, bytes: &[u8], seed: u64, paced: bool) {
    let mut rng = Rng(seed);
    let mut at = 0;
    while at < bytes.len() {
        let n = match rng.below(10) {
            0..=5 => 1 + rng.below(16) as usize,
            6..=8 => 1 + rng.below(2_000) as usize,
            _ => 1 + rng.below(200_000) as usize,
        };
        let end = (at + n).min(bytes.len());
        s.write_all(&bytes[at..end]).await.unwrap();
        s.flush().await.unwrap();
        at = end;
        if paced && rng.below(2) == 0 {
            tokio::time::sleep(Duration::from_micros(100)).await;
        } else if rng.below(4) == 0 {
            tokio::task::yield_now().await;
        }
    }
}

// ----------------------------------------------------------------- tests
/// In a module named `replication`, so that `cargo test -p sluice-postgres
/// replication` selects these tests.
mod replication {
    use super::*;

    #[tokio::test]
    async fn frames_split_at_arbitrary_boundaries_arrive_intact() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (bytes, expected) = script(2_000, 0x9E37_79B9_7F4A_7C15);
        let server = tokio::spawn(async move {
            let mut s = accept_streaming(&listener).await;
            write_in_pieces(&mut s, &bytes, 42, false).await;
            // The server ends the COPY.
            s.write_all(&message(b'c', b"")).await.unwrap();
            finish_after_client_copy_done(&mut s, true).await;
        });

        let client = ReplicationClient::connect(&client_config(port))
            .await
            .unwrap();
        assert_eq!(client.server_version(), 150004);
        assert_eq!(client.backend_pid(), 4242);
        let mut stream = client
            .start_logical_replication("s", Lsn(0x10), OPTIONS)
            .await
            .unwrap();
        let mut got = Vec::new();
        while let Some(m) = stream.next().await.unwrap() {
            got.push(m);
        }
        assert_eq!(got.len(), expected.len());
        for (i, (a, b)) in expected.iter().zip(&got).enumerate() {
            assert!(a == b, "message {i} differs");
        }
        // Ended: stays ended.
        assert!(stream.next().await.unwrap().is_none());
        assert!(stream.try_next_buffered().unwrap().is_none());
        stream.stop().await.unwrap();
        server.await.unwrap();
    }

    // The server writes from another worker thread while the reader polls.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn next_is_cancel_safe_under_tiny_timeouts() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (bytes, expected) = script(3_000, 7);
        let server = tokio::spawn(async move {
            let mut s = accept_streaming(&listener).await;
            write_in_pieces(&mut s, &bytes, 99, true).await;
            finish_after_client_copy_done(&mut s, false).await;
        });

        let client = ReplicationClient::connect(&client_config(port))
            .await
            .unwrap();
        let mut stream = client
            .start_logical_replication("s", Lsn(0x10), OPTIONS)
            .await
            .unwrap();
        let mut got = Vec::with_capacity(expected.len());
        let mut cancelled = 0u64;
        let mut round = 0u64;
        while got.len() < expected.len() {
            round += 1;
            let limit = match round % 3 {
                0 => Duration::ZERO,
                1 => Duration::from_micros(1),
                _ => Duration::from_micros(200),
            };
            match tokio::time::timeout(limit, stream.next()).await {
                Err(_) => {
                    cancelled += 1;
                    tokio::task::yield_now().await;
                }
                Ok(m) => got.push(m.unwrap().expect("stream ended early")),
            }
            if round.is_multiple_of(5) {
                while let Some(m) = stream.try_next_buffered().unwrap() {
                    got.push(m);
                }
            }
        }
        assert!(cancelled > 500, "only {cancelled} cancellations");
        eprintln!("{} messages, {cancelled} cancelled calls", got.len());
        assert_eq!(got.len(), expected.len());
        for (i, (a, b)) in expected.iter().zip(&got).enumerate() {
            assert!(
                a == b,
                "message {i} differs after {cancelled} cancellations"
            );
        }
        stream.stop().await.unwrap();
        server.await.unwrap();
    }

    #[tokio::test]
    async fn status_updates_are_encoded_as_standby_status_updates() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let mut s = accept_streaming(&listener).await;
            let mut updates = Vec::new();
            for _ in 0..2 {
                let (tag, body) = read_message(&mut s).await;
                assert_eq!(tag, b'd');
                updates.push(body);
            }
            finish_after_client_copy_done(&mut s, false).await;
            updates
        });
        let client = ReplicationClient::connect(&client_config(port))
            .await
            .unwrap();
        let mut stream = client
            .start_logical_replication("s", Lsn(0x10), OPTIONS)
            .await
            .unwrap();
        let before = system_time_to_pg_micros(SystemTime::now());
        stream
            .send_status_update(
                Lsn(0x1_0000_0030),
                Lsn(0x1_0000_0020),
                Lsn(0x1_0000_0010),
                true,
            )
            .await
            .unwrap();
        stream
            .send_status_update(Lsn(3), Lsn(2), Lsn(1), false)
            .await
            .unwrap();
        let after = system_time_to_pg_micros(SystemTime::now());
        stream.stop().await.unwrap();
        let updates = server.await.unwrap();

        let u = &updates[0];
        assert_eq!(u.len(), 34);
        assert_eq!(u[0], b'r');
        let be = |at: usize| u64::from_be_bytes(u[at..at + 8].try_into().unwrap());
        assert_eq!(be(1), 0x1_0000_0030, "write");
        assert_eq!(be(9), 0x1_0000_0020, "flush");
        assert_eq!(be(17), 0x1_0000_0010, "apply");
        let time = be(25) as i64;
        assert!(
            before <= time && time <= after,
            "{before} <= {time} <= {after}"
        );
        assert_eq!(u[33], 1, "reply requested");
        assert_eq!(updates[1][33], 0);
    }

    #[tokio::test]
    async fn a_server_error_in_the_stream_names_slot_and_sqlstate() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let mut s = accept_streaming(&listener).await;
            let mut out = xlog_data(100, b"B123");
            out.extend(error_response(
                "FATAL",
                "57P01",
                "terminating connection due to administrator command",
            ));
            s.write_all(&out).await.unwrap();
        });
        let client = ReplicationClient::connect(&client_config(port))
            .await
            .unwrap();
        let mut stream = client
            .start_logical_replication("s", Lsn(0x10), OPTIONS)
            .await
            .unwrap();
        assert!(matches!(
            stream.next().await.unwrap(),
            Some(ReplicationMessage::XLogData { .. })
        ));
        let err = stream.next().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.is_retriable());
        assert_eq!(err.sqlstate(), Some("57P01"));
        assert_eq!(
        err.to_string(),
        "streaming from slot 's' failed: FATAL 57P01 terminating connection due to administrator command"
    );
        // The stream stays failed; stop() just closes it.
        assert_eq!(
            stream.next().await.unwrap_err().kind(),
            ErrorKind::Connection
        );
        stream.stop().await.unwrap();
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_connection_lost_mid_message_is_a_connection_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let mut s = accept_streaming(&listener).await;
            let frame = xlog_data(100, &[7; 1000]);
            s.write_all(&frame[..600]).await.unwrap();
            // dropped: FIN mid-frame
        });
        let client = ReplicationClient::connect(&client_config(port))
            .await
            .unwrap();
        let mut stream = client
            .start_logical_replication("s", Lsn(0x10), OPTIONS)
            .await
            .unwrap();
        let err = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
        assert!(
            err.to_string().contains("in the middle of a message"),
            "{err}"
        );
        assert!(err.io_error().is_some());
        server.await.unwrap();
    }

    #[tokio::test]
    async fn garbage_in_the_stream_is_a_protocol_error() {
        for garbage in [
            message(b'd', b"x123"),
            message(b'Q', b""),
            message(b'd', b""),
            b"d\0\0\0\x02".to_vec(),
        ] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let server = tokio::spawn(async move {
                let mut s = accept_streaming(&listener).await;
                s.write_all(&garbage).await.unwrap();
                // Keep the socket open until the client is done.
                let mut sink = Vec::new();
                let _ = s.read_to_end(&mut sink).await;
            });
            let client = ReplicationClient::connect(&client_config(port))
                .await
                .unwrap();
            let mut stream = client
                .start_logical_replication("s", Lsn(0x10), OPTIONS)
                .await
                .unwrap();
            let err = stream.next().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
            assert!(!err.is_retriable());
            drop(stream);
            server.await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_silent_server_hits_the_connect_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(3)).await;
            drop(s);
        });
        let mut config = client_config(port);
        config.connect_timeout = Duration::from_millis(300);
        let started = Instant::now();
        let err = ReplicationClient::connect(&config).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(err.is_retriable());
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
        server.abort();
    }

    #[tokio::test]
    async fn prefer_falls_back_to_plain_when_the_tls_handshake_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            // First connection: agree to TLS, then hang up mid-handshake.
            let (mut s, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 8];
            s.read_exact(&mut request).await.unwrap();
            assert_eq!(&request[4..], &80_877_103u32.to_be_bytes());
            s.write_all(b"S").await.unwrap();
            drop(s);
            // Second connection: plain, without an SSLRequest.
            let (mut s, _) = listener.accept().await.unwrap();
            let len = s.read_u32().await.unwrap();
            let code = s.read_u32().await.unwrap();
            assert_eq!(code, 0x0003_0000, "plain startup expected");
            let mut rest = vec![0; len as usize - 8];
            s.read_exact(&mut rest).await.unwrap();
            send_ready(&mut s).await;
            let (tag, _) = read_message(&mut s).await;
            assert_eq!(tag, b'X');
        });
        let mut config = client_config(port);
        config.sslmode = SslMode::Prefer;
        let client = ReplicationClient::connect(&config).await.unwrap();
        assert!(!client.is_tls());
        client.close().await;
        server.await.unwrap();
    }

    #[tokio::test]
    async fn cleartext_password_and_startup_parameters() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let params = read_startup(&mut s).await;
            s.write_all(&message(b'R', &3i32.to_be_bytes()))
                .await
                .unwrap();
            let (tag, body) = read_message(&mut s).await;
            assert_eq!(tag, b'p');
            assert_eq!(body, b"pa'ss\0");
            send_ready(&mut s).await;
            params
        });
        let mut config = client_config(port);
        config.password = Some("pa'ss".to_string());
        config.application_name = "app".to_string();
        let client = ReplicationClient::connect(&config).await.unwrap();
        drop(client);
        let params = server.await.unwrap();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("user"), Some("cdc"));
        assert_eq!(get("database"), Some("db"));
        assert_eq!(get("replication"), Some("database"));
        assert_eq!(get("client_encoding"), Some("UTF8"));
        assert_eq!(get("application_name"), Some("app"));
    }
}
