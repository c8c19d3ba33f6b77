//! The two halves of an accepted connection, as the request body and the
//! response writer borrow them.
//!
//! A connection is split once: [`ConnReader`] owns the read half and the
//! read buffer (bytes of the next request may already be in it, which is how
//! pipelining works), [`ConnWriter`] owns the write half. While a handler
//! runs, the reader lives inside the request [`Body`](crate::Body), and the
//! connection loop takes it back when the handler returns; the writer lives
//! in the connection's one [`ResponseWriter`](crate::ResponseWriter) for
//! the whole connection. This ownership replaces the mutex-guarded
//! `bufio.Reader`/`Writer` pair of Go's `conn`.

use crate::server::Phase;
use crate::stream::{with_deadline, write_all_shared, READ_CHUNK};
use bytes::BytesMut;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;
use tokio::time::Instant;

/// The read side of a connection plus its buffer.
#[derive(Debug)]
pub(crate) struct ConnReader {
    pub stream: OwnedReadHalf,
    pub buf: BytesMut,
    /// Go's `ReadTimeout`: no byte of the current request may arrive after this.
    pub deadline: Option<Instant>,
    /// The response's write deadline, for the `100 Continue` written from
    /// this side (Go's `WriteTimeout` covers it too).
    pub write_deadline: Option<Instant>,
    /// Shared with the [`ConnWriter`]: true once the current response's
    /// head has gone out. A `100 Continue` must not follow a final head
    /// (Go: `response.canWriteContinue`).
    pub final_head_sent: Arc<AtomicBool>,
}

impl ConnReader {
    /// `buf` comes from the pool of a closed connection, or is new (see `recycle.rs`).
    pub fn new(stream: OwnedReadHalf, buf: BytesMut, final_head_sent: Arc<AtomicBool>) -> Self {
        ConnReader {
            stream,
            buf,
            deadline: None,
            write_deadline: None,
            final_head_sent,
        }
    }

    /// True while an interim `100 Continue` may still be sent.
    pub fn may_send_interim(&self) -> bool {
        !self.final_head_sent.load(Ordering::Relaxed)
    }

    /// Reads more bytes into the buffer; `Ok(0)` means the peer closed.
    pub async fn fill(&mut self) -> io::Result<usize> {
        // An empty buffer starts again at the front of its allocation (a
        // `BytesMut` that no request still points into takes it back
        // without copying), so a keep-alive connection reads every request
        // into the same first few hundred bytes: they stay in the CPU's
        // cache, and the rest of the allocation is never touched, never
        // made resident. Otherwise each head would be read a little
        // further along, until all 8 KiB had been written.
        if self.buf.is_empty() || self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(READ_CHUNK);
        }
        with_deadline(self.deadline, self.stream.read_buf(&mut self.buf)).await
    }

    /// Writes a few bytes on the connection from the reading side: this is
    /// how `100 Continue` goes out when a handler first reads the body
    /// (Go: `expectContinueReader`). The write half is busy in the
    /// response writer, so we write through the shared socket directly.
    pub async fn write_interim(&self, bytes: &[u8]) -> io::Result<()> {
        with_deadline(self.write_deadline, write_all_shared(self.stream.as_ref(), bytes)).await
    }
}

/// The write side of a connection. The connection's one
/// [`ResponseWriter`](crate::ResponseWriter) owns it, with the buffers and
/// header map it reuses from response to response.
#[derive(Debug)]
pub(crate) struct ConnWriter {
    pub stream: OwnedWriteHalf,
    /// Go's `WriteTimeout`: the response must be written before this.
    pub deadline: Option<Instant>,
    /// See [`ConnReader::final_head_sent`].
    pub final_head_sent: Arc<AtomicBool>,
    /// The server's phase: a response started while draining says
    /// `Connection: close`.
    pub phase: watch::Receiver<Phase>,
}

impl ConnWriter {
    pub fn new(
        stream: OwnedWriteHalf,
        final_head_sent: Arc<AtomicBool>,
        phase: watch::Receiver<Phase>,
    ) -> Self {
        ConnWriter {
            stream,
            deadline: None,
            final_head_sent,
            phase,
        }
    }

    /// True when the server is shutting down.
    pub fn draining(&self) -> bool {
        *self.phase.borrow() != Phase::Serving
    }

    pub async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        with_deadline(self.deadline, self.stream.write_all(bytes)).await
    }

    /// Writes `parts` one after the other, gathered by the system call
    /// (`writev`): a head and a large body leave together without first
    /// being copied into one buffer.
    pub async fn write_all_parts(&mut self, parts: [&[u8]; 3]) -> io::Result<()> {
        let stream = &mut self.stream;
        let write = async move {
            let mut slices = parts.map(IoSlice::new);
            let mut left = &mut slices[..];
            IoSlice::advance_slices(&mut left, 0); // skips empty parts
            while !left.is_empty() {
                let n = stream.write_vectored(left).await?;
                if n == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
                IoSlice::advance_slices(&mut left, n);
            }
            Ok(())
        };
        with_deadline(self.deadline, write).await
    }

    /// Starts the deadline for writing one response, if a timeout is set.
    pub fn start_deadline(&mut self, timeout: Option<Duration>) {
        self.deadline = timeout.map(|t| Instant::now() + t);
    }
}
