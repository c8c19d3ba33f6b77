//! The two halves of an accepted connection, as the request body and the
//! response writer borrow them.
//!
//! A connection is shared once, through an `Arc` that [`halves`] makes:
//! [`ConnReader`] reads from it and holds the read buffer (bytes of the
//! next request may already be in it, which is how pipelining works),
//! [`ConnWriter`] writes to it. [`NetConn`] takes `&self` for both, as Go's
//! `net.Conn` may be read and written at once. The reader lives
//! in the connection's request [`Body`](crate::Body), which the connection
//! re-aims at each request's body and reads the next head through; the
//! writer lives in the connection's one
//! [`ResponseWriter`](crate::ResponseWriter). This ownership replaces the
//! mutex-guarded `bufio.Reader`/`Writer` pair of Go's `conn` (`connReader`,
//! server.go:642; `conn.bufw`). Their fields are private: the deadlines,
//! the buffer and the flag they share change only through the methods
//! below, each named after the step it is.

use crate::lent_buffers;
use crate::lifecycle::Tracker;
use crate::net_conn::NetConn;
use crate::stream::{with_deadline, READ_CHUNK};
use bytes::BytesMut;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// Splits an accepted connection into its reader and its writer, which
/// share it (and `tracker`, for the writer).
pub(crate) fn halves(stream: NetConn, tracker: Arc<Tracker>) -> (ConnReader, ConnWriter) {
    let shared = Arc::new(SharedConn {
        stream,
        final_head_sent: AtomicBool::new(false),
    });
    let reader = ConnReader {
        shared: shared.clone(),
        buf: BytesMut::new(),
        deadline: None,
        write_deadline: None,
    };
    let writer = ConnWriter {
        shared,
        deadline: None,
        tracker,
    };
    (reader, writer)
}

/// What a connection's reader and writer share, in one allocation: the
/// flag lies beside the socket that both touch anyway, rather than in an
/// `Arc` of its own. One allocation fewer per connection: 111 instructions
/// fewer per `Connection: close` request (14 557 -> 14 446; callgrind,
/// `benches/instructions.sh -- --close`, same run).
#[derive(Debug)]
struct SharedConn {
    stream: NetConn,
    /// True once the current response's head has gone out. A `100
    /// Continue` must not follow a final head (Go:
    /// `response.canWriteContinue`, server.go:440).
    final_head_sent: AtomicBool,
}

/// The read side of a connection plus its buffer. The reader starts with
/// no buffer: it takes one when the first bytes arrive (see
/// `lent_buffers.rs`).
#[derive(Debug)]
pub(crate) struct ConnReader {
    shared: Arc<SharedConn>,
    buf: BytesMut,
    /// The read deadline of the step under way (Go: `SetReadDeadline`,
    /// net/net.go:160): the header, request (`ReadTimeout`), idle,
    /// unread-body or linger deadline.
    deadline: Option<Instant>,
    /// The response's write deadline, for the `100 Continue` written from
    /// this side (Go's `WriteTimeout` covers it too).
    write_deadline: Option<Instant>,
}

impl ConnReader {
    /// The bytes read and not yet consumed: the rest of a head, a body, or
    /// the start of a pipelined request.
    pub fn buffered(&self) -> &BytesMut {
        &self.buf
    }

    /// The buffer, for a parser or decoder to consume from.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Sets the time after which a read fails with `TimedOut` (Go:
    /// `SetReadDeadline`, net/net.go:160); `None` for no limit.
    pub fn set_read_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Brings the read deadline forward to `at`, unless it is already
    /// sooner.
    pub fn shorten_read_deadline(&mut self, at: Instant) {
        self.deadline = Some(self.deadline.map_or(at, |d| d.min(at)));
    }

    /// Sets the deadline of the `100 Continue` written from this side
    /// (the response's, Go: `SetWriteDeadline`, net/net.go:113).
    pub fn set_write_deadline(&mut self, deadline: Option<Instant>) {
        self.write_deadline = deadline;
    }

    /// True while an interim `100 Continue` may still be sent.
    pub fn may_send_interim(&self) -> bool {
        !self.shared.final_head_sent.load(Ordering::Relaxed)
    }

    /// Reads more bytes into the buffer; `Ok(0)` means the peer closed.
    pub async fn fill(&mut self) -> io::Result<usize> {
        self.make_room();
        with_deadline(self.deadline, pin!(self.shared.stream.read_buf(&mut self.buf))).await
    }

    /// Reads more bytes of a request head into the buffer, like
    /// [`ConnReader::fill`], except that a connection with nothing
    /// buffered (one waiting for its next request) waits holding no
    /// buffer: it takes one from the pool once its socket is readable,
    /// and gives it back when the read would wait (see `lent_buffers.rs`).
    /// One readiness check per wake-up, as in `fill`.
    pub async fn fill_when_readable(&mut self) -> io::Result<usize> {
        with_deadline(self.deadline, poll_fn(|cx| self.poll_fill_when_readable(cx))).await
    }

    fn poll_fill_when_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if !self.buf.is_empty() || self.shared.stream.is_tls() {
            // A head begun keeps its bytes; a TLS session reads into
            // buffers of its own (see `lent_buffers.rs`).
            self.make_room();
            return self.shared.stream.poll_read_buf(cx, &mut self.buf);
        }
        loop {
            if self.shared.stream.poll_read_ready(cx)?.is_pending() {
                lent_buffers::give_back_read(std::mem::take(&mut self.buf));
                return Poll::Pending;
            }
            self.make_room();
            match self.shared.stream.try_read_buf(&mut self.buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    /// Makes room in the buffer for a read: takes one from the pool if the
    /// connection holds none, or makes an empty one start again at the
    /// front of its allocation (see `lent_buffers::take_read`), or one nearly
    /// full grow.
    fn make_room(&mut self) {
        if self.buf.capacity() == 0 {
            self.buf = lent_buffers::take_read();
        } else if self.buf.is_empty() || self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(READ_CHUNK);
        }
    }

    /// Reads and throws away what the peer sends until it closes or the
    /// read deadline passes (the wait of Go's `closeWriteAndWait`).
    pub async fn discard_until_eof(&mut self) {
        self.buf.clear();
        while let Ok(n) = self.fill().await {
            if n == 0 {
                break;
            }
            self.buf.clear();
        }
    }

    /// Resolves when the peer has closed its side or the socket failed,
    /// without taking a byte away from the next request (`MSG_PEEK`); never
    /// while bytes of a next request are arriving.
    pub async fn peer_gone(&self) {
        self.shared.stream.peer_gone().await
    }

    /// Writes a few bytes on the connection from the reading side: this is
    /// how `100 Continue` goes out when a handler first reads the body
    /// (Go: `expectContinueReader`, server.go:898), through the connection
    /// the response writer shares.
    pub async fn write_interim(&self, bytes: &[u8]) -> io::Result<()> {
        with_deadline(self.write_deadline, pin!(self.shared.stream.write_all(bytes))).await
    }
}

impl Drop for ConnReader {
    /// The connection is closing (or a handler dropped the body it took
    /// away): its read buffer, if it holds one, goes back to the pool (Go:
    /// `conn.finalFlush`, server.go:1710, putting its `bufio.Reader`
    /// back).
    fn drop(&mut self) {
        lent_buffers::give_back_read(std::mem::take(&mut self.buf));
    }
}

/// The write side of a connection. The connection's one
/// [`ResponseWriter`](crate::ResponseWriter) owns it, with the buffers and
/// header map it reuses from response to response.
#[derive(Debug)]
pub(crate) struct ConnWriter {
    shared: Arc<SharedConn>,
    /// Go's `WriteTimeout`: the response must be written before this.
    deadline: Option<Instant>,
    /// The server's phase: a response started while draining says
    /// `Connection: close`.
    tracker: Arc<Tracker>,
}

impl ConnWriter {
    /// True when the server is shutting down.
    pub fn draining(&self) -> bool {
        self.tracker.shutting_down()
    }

    pub async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        with_deadline(self.deadline, pin!(self.shared.stream.write_all(bytes))).await
    }

    /// Writes `parts` one after the other, gathered by the system call
    /// (`writev`): a head and a large body leave together without first
    /// being copied into one buffer.
    pub async fn write_all_parts(&mut self, parts: [&[u8]; 3]) -> io::Result<()> {
        let mut slices = parts.map(IoSlice::new);
        let write = pin!(self.shared.stream.write_all_parts(&mut slices));
        with_deadline(self.deadline, write).await
    }

    /// Readies the writer for the response to a request whose head was
    /// just read: its write deadline starts now, if a timeout is set (Go:
    /// `readRequest` sets it there, server.go:984), and no final head has
    /// gone out yet.
    pub fn begin_response(&mut self, timeout: Option<Duration>) {
        self.deadline = timeout.map(|t| Instant::now() + t);
        self.shared.final_head_sent.store(false, Ordering::Relaxed);
    }

    /// The current response's write deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Notes that the response's final head is going out: from now on no
    /// `100 Continue` may be sent (RFC 9110 section 15.2).
    pub fn mark_final_head_sent(&self) {
        self.shared.final_head_sent.store(true, Ordering::Relaxed);
    }

    /// Sends FIN: the peer reads the end of our responses, and may still
    /// send (the first step of Go's `closeWriteAndWait`, server.go:1754).
    /// Over TLS, close_notify goes first: a write, which waits while the
    /// client is not reading, so it gives up at `deadline`.
    pub async fn close_write(&mut self, deadline: Instant) {
        let _ = with_deadline(Some(deadline), self.shared.stream.close_write()).await;
    }

    /// Over TLS, sends close_notify and FIN if the socket takes them now;
    /// nothing on a plain socket (see [`NetConn::close_write_now`]).
    pub fn close_notify_now(&self) {
        if let NetConn::Tls(_) = &self.shared.stream {
            self.shared.stream.close_write_now();
        }
    }
}
