//! The connection underneath the replication client: a TCP or TLS stream,
//! a read buffer that backend messages are framed out of without copying,
//! and a write buffer that survives cancellation.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use super::error::ReplicationError;

/// How much to read at once (and how much spare room to make in the read
/// buffer when it runs low).
const READ_CHUNK: usize = 256 * 1024;
/// Below this much spare room, the read buffer gets a fresh chunk.
const MIN_SPARE: usize = 32 * 1024;
/// A write buffer that grew beyond this is shrunk back after a flush.
const MAX_IDLE_WRITE_BUF: usize = 64 * 1024;

/// A plain or TLS-wrapped TCP stream.
pub(crate) enum Transport {
    Plain(TcpStream),
    Tls(Box<tokio_native_tls::TlsStream<TcpStream>>),
}

impl Transport {
    /// The `tls-server-end-point` channel binding data (a hash of the
    /// server certificate), when on TLS and the backend can compute it.
    pub(crate) fn tls_server_end_point(&self) -> Option<Vec<u8>> {
        match self {
            Transport::Plain(_) => None,
            Transport::Tls(s) => s.get_ref().tls_server_end_point().ok().flatten(),
        }
    }

    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Transport::Tls(_))
    }
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// One backend message: its type byte and its body (without the 5-byte
/// header). The body is split off the read buffer, not copied.
pub(crate) struct Frame {
    pub tag: u8,
    pub body: BytesMut,
}

/// The framed connection.
pub(crate) struct Wire {
    io: Transport,
    /// `host:port`, for messages.
    pub peer: String,
    rbuf: BytesMut,
    wbuf: BytesMut,
    /// Set after an I/O or protocol error: the byte stream can no longer be
    /// trusted.
    pub broken: bool,
}

impl Wire {
    pub(crate) fn new(io: Transport, peer: String) -> Wire {
        Wire {
            io,
            peer,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            wbuf: BytesMut::with_capacity(256),
            broken: false,
        }
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.io
    }

    /// The buffer outgoing messages are encoded into; sent by
    /// [`flush`](Self::flush).
    pub(crate) fn wbuf(&mut self) -> &mut BytesMut {
        &mut self.wbuf
    }

    /// Takes the next complete message out of the read buffer, if there is
    /// one. Never blocks, never reads.
    #[inline]
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame>, ReplicationError> {
        let buf = &self.rbuf;
        if buf.len() < 5 {
            return Ok(None);
        }
        let tag = buf[0];
        let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
        if !(4..=i32::MAX as usize).contains(&len) {
            self.broken = true;
            return Err(ReplicationError::protocol(format!(
                "invalid message from {}: message type {:?} with length {len}",
                self.peer,
                char::from(tag)
            )));
        }
        let total = len + 1;
        if self.rbuf.len() < total {
            // Make room for the rest of a large message in one go.
            let missing = total - self.rbuf.len();
            if self.rbuf.capacity() - self.rbuf.len() < missing {
                self.rbuf.reserve(missing.max(READ_CHUNK));
            }
            return Ok(None);
        }
        let mut body = self.rbuf.split_to(total);
        body.advance(5);
        Ok(Some(Frame { tag, body }))
    }

    /// Reads more bytes from the socket into the read buffer (at least
    /// one). Cancel-safe: if the future is dropped, no data is lost.
    pub(crate) async fn fill(&mut self) -> Result<(), ReplicationError> {
        if self.broken {
            return Err(self.broken_error());
        }
        if self.rbuf.capacity() - self.rbuf.len() < MIN_SPARE {
            self.rbuf.reserve(READ_CHUNK);
        }
        match self.io.read_buf(&mut self.rbuf).await {
            Ok(0) => {
                self.broken = true;
                let what = if self.rbuf.is_empty() {
                    "server closed the connection unexpectedly"
                } else {
                    "server closed the connection in the middle of a message"
                };
                Err(ReplicationError::io(
                    format!("reading from {}", self.peer),
                    io::Error::new(io::ErrorKind::UnexpectedEof, what),
                ))
            }
            Ok(_) => Ok(()),
            Err(e) => {
                self.broken = true;
                Err(ReplicationError::io(
                    format!("reading from {}", self.peer),
                    e,
                ))
            }
        }
    }

    /// The next message, reading as needed. Cancel-safe.
    pub(crate) async fn read_frame(&mut self) -> Result<Frame, ReplicationError> {
        loop {
            if let Some(frame) = self.next_frame()? {
                return Ok(frame);
            }
            self.fill().await?;
        }
    }

    /// Writes out everything in the write buffer and flushes the stream.
    /// Cancel-safe in the sense that a cancelled flush leaves the unsent
    /// rest in the buffer for the next flush: messages are never torn.
    pub(crate) async fn flush(&mut self) -> Result<(), ReplicationError> {
        if self.broken {
            return Err(self.broken_error());
        }
        while !self.wbuf.is_empty() {
            match self.io.write(&self.wbuf).await {
                Ok(0) => {
                    self.broken = true;
                    return Err(ReplicationError::io(
                        format!("writing to {}", self.peer),
                        io::Error::new(io::ErrorKind::WriteZero, "server closed the connection"),
                    ));
                }
                Ok(n) => self.wbuf.advance(n),
                Err(e) => {
                    self.broken = true;
                    return Err(ReplicationError::io(format!("writing to {}", self.peer), e));
                }
            }
        }
        if let Err(e) = self.io.flush().await {
            self.broken = true;
            return Err(ReplicationError::io(format!("writing to {}", self.peer), e));
        }
        if self.wbuf.capacity() > MAX_IDLE_WRITE_BUF {
            self.wbuf = BytesMut::with_capacity(256);
        }
        Ok(())
    }

    /// Best-effort goodbye: Terminate, flush, TLS close_notify / FIN.
    pub(crate) async fn terminate(&mut self) {
        if self.broken {
            return;
        }
        postgres_protocol::message::frontend::terminate(&mut self.wbuf);
        if self.flush().await.is_ok() {
            let _ = self.io.shutdown().await;
        }
        self.broken = true;
    }

    pub(crate) fn broken_error(&self) -> ReplicationError {
        ReplicationError::io(
            format!("connection to {}", self.peer),
            io::Error::new(
                io::ErrorKind::NotConnected,
                "connection is unusable after an earlier error",
            ),
        )
    }
}
