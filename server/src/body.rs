//! The request body: streamed from the connection on demand, with a
//! read-all helper that enforces a size limit (Go: `Request.Body`, request.go:182 and
//! `http.MaxBytesReader`).

use crate::body_read::{next_piece, BodySource, Collector, PieceError, TooLarge};
use crate::conn_io::ConnReader;
use crate::wire::{BodyDecoder, BodyFraming, Decoded, WireError};
use bytes::{Bytes, BytesMut};
use std::fmt;
use std::io;
use std::time::Duration;
use tokio::time::Instant;

/// A request body.
///
/// Bytes are read from the socket only when the handler asks for them
/// ([`Body::chunk`] or [`Body::read_all`]). A body the handler leaves
/// unread is drained by the server after the handler returns, so the next
/// request on the connection can be found.
#[derive(Debug)]
pub struct Body {
    source: Source,
}

#[derive(Debug)]
enum Source {
    Empty,
    /// A body held in memory (tests, or a handler calling another).
    Memory(Option<Bytes>),
    /// A body still on the connection.
    Conn(ConnBody),
}

/// The body of a request read from a connection. It holds the
/// connection's reader for the connection's whole life: the connection
/// re-aims it at each request's body ([`ConnBody::begin`]) and reads the
/// next head through it.
#[derive(Debug)]
pub(crate) struct ConnBody {
    reader: ConnReader,
    decoder: BodyDecoder,
    /// `Expect: 100-continue` was asked and `100 Continue` is not sent yet.
    continue_pending: bool,
    /// A framing error already met; the connection cannot be reused.
    error: Option<WireError>,
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The socket failed or timed out.
    Io(io::Error),
    /// The body's framing is broken (bad chunk, truncated...).
    Wire(WireError),
    /// The body is longer than the limit given to [`Body::read_all`]
    /// (Go: `MaxBytesError`, request.go:1144); answer 413.
    TooLarge { limit: usize },
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Io(e) => write!(f, "reading body: {e}"),
            BodyError::Wire(e) => write!(f, "reading body: {e}"),
            BodyError::TooLarge { limit } => write!(f, "http: request body too large (limit {limit} bytes)"),
        }
    }
}

impl std::error::Error for BodyError {}

/// Where a request body's bytes come from: the connection's reader, which
/// first gives the client its go-ahead when it waits for one.
struct RequestBytes<'a> {
    reader: &'a mut ConnReader,
    continue_pending: &'a mut bool,
}

impl BodySource for RequestBytes<'_> {
    type Error = io::Error;

    fn buffer(&mut self) -> &mut BytesMut {
        self.reader.buffer_mut()
    }

    async fn read_more(&mut self) -> io::Result<usize> {
        if std::mem::take(self.continue_pending) {
            // The handler wants the body and the client waits to be asked
            // for it (Go: `expectContinueReader`, server.go:898), unless a
            // final response head already went out, after which an
            // interim one would be a protocol error.
            if self.reader.may_send_interim() {
                self.reader
                    .write_interim(b"HTTP/1.1 100 Continue\r\n\r\n")
                    .await?;
            }
        }
        self.reader.fill().await
    }
}

impl Body {
    /// A body with no bytes.
    pub fn empty() -> Body {
        Body {
            source: Source::Empty,
        }
    }

    /// A body held in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Body {
        Body {
            source: Source::Memory(Some(bytes.into())),
        }
    }

    pub(crate) fn from_conn(body: ConnBody) -> Body {
        Body {
            source: Source::Conn(body),
        }
    }

    /// The body on the connection, unless a handler moved it away.
    pub(crate) fn on_conn(&mut self) -> Option<&mut ConnBody> {
        match &mut self.source {
            Source::Conn(body) => Some(body),
            _ => None,
        }
    }

    /// The next piece of the body, or `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        match &mut self.source {
            Source::Empty => Ok(None),
            Source::Memory(bytes) => Ok(bytes.take().filter(|b| !b.is_empty())),
            Source::Conn(body) => body.chunk().await,
        }
    }

    /// Reads the whole body, refusing one longer than `limit` bytes.
    pub async fn read_all(&mut self, limit: usize) -> Result<Bytes, BodyError> {
        let too_large = |_: TooLarge| BodyError::TooLarge { limit };
        let declared = match &self.source {
            Source::Conn(body) => body.decoder.remaining(),
            _ => None,
        };
        let mut all = Collector::new(limit, declared).map_err(too_large)?;
        while let Some(piece) = self.chunk().await? {
            if let Some(whole) = all.add(piece, self.is_finished()).map_err(too_large)? {
                return Ok(whole);
            }
        }
        Ok(all.finish())
    }

    /// Resolves when the client has gone away: its side of the connection
    /// reached end-of-file or failed (Go: the request context's `Done`,
    /// cancelled by `connReader.backgroundRead`, server.go:677).
    ///
    /// As in Go, the watch starts only once the body has been read to its
    /// end (or when there was none): before that, reading the body is what
    /// notices a vanished client. Until then, for a body not read off a
    /// connection, and once bytes of a next (pipelined) request have
    /// arrived, it never resolves: a client that sends more is still there,
    /// and those bytes stay in the socket for the server to read.
    ///
    /// It costs nothing until awaited: a handler that never asks adds no
    /// system call. Awaiting it peeks at the socket (`MSG_PEEK`), so no
    /// byte is taken away from the next request.
    pub async fn client_gone(&self) {
        let Source::Conn(body) = &self.source else {
            return std::future::pending().await;
        };
        if !body.decoder.is_done() || !body.reader.buffered().is_empty() {
            return std::future::pending().await;
        }
        body.reader.peer_gone().await
    }

    /// True when no more bytes will come.
    pub fn is_finished(&self) -> bool {
        match &self.source {
            Source::Empty => true,
            Source::Memory(bytes) => bytes.is_none(),
            Source::Conn(body) => body.decoder.is_done(),
        }
    }
}

impl ConnBody {
    /// The body of a connection before its first request: no bytes.
    pub fn new(reader: ConnReader) -> Self {
        ConnBody {
            reader,
            decoder: BodyDecoder::new(BodyFraming::Empty),
            continue_pending: false,
            error: None,
        }
    }

    /// Aims the body at the request whose head was just read.
    /// `continue_pending`: the client waits for `100 Continue`.
    pub fn begin(&mut self, framing: BodyFraming, continue_pending: bool) {
        self.decoder.restart(framing);
        self.continue_pending = continue_pending;
        self.error = None;
    }

    /// The connection's reader.
    pub fn reader(&mut self) -> &mut ConnReader {
        &mut self.reader
    }

    async fn chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        if let Some(e) = &self.error {
            return Err(BodyError::Wire(e.clone()));
        }
        let mut source = RequestBytes {
            reader: &mut self.reader,
            continue_pending: &mut self.continue_pending,
        };
        // A request body is never delimited by the close (RFC 9112 section
        // 6.3), so end-of-file before its end is a `Wire` error here.
        match next_piece(&mut self.decoder, &mut source).await {
            Ok(piece) => Ok(piece),
            Err(PieceError::Read(e)) => Err(BodyError::Io(e)),
            Err(PieceError::Wire(e)) => {
                self.error = Some(e.clone());
                Err(BodyError::Wire(e))
            }
        }
    }

    /// Decodes the next piece of the body from the bytes already read,
    /// without waiting for more ([`Decoded::NeedMore`]). A framing error
    /// is kept: the body cannot be read past it. This and [`Self::read_more`]
    /// are the drain's two steps ([`Self::finish_reading`]), taken apart
    /// because its clock starts only at the first read from the socket; a
    /// handler's reads go through [`next_piece`], which takes both at once.
    fn decode_buffered(&mut self) -> Result<Decoded, WireError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let decoded = self.decoder.decode(self.reader.buffer_mut());
        if let Err(e) = &decoded {
            self.error = Some(e.clone());
        }
        decoded
    }

    /// Reads more bytes of the body from the socket. The client closing
    /// before the body's end is a framing error, kept like the others.
    async fn read_more(&mut self) -> Result<(), BodyError> {
        if self.reader.fill().await.map_err(BodyError::Io)? == 0 {
            let e = self.decoder.decode_eof().err().unwrap_or(WireError::Truncated);
            self.error = Some(e.clone());
            return Err(BodyError::Wire(e));
        }
        Ok(())
    }

    /// Reads and throws away what the handler left unread, up to `limit`
    /// bytes (Go: `maxPostHandlerReadBytes`, server.go:1102), checking its
    /// framing on the way: a malformed body must not hide behind the
    /// handler's answer, or the bytes after its error could be taken for a
    /// request (request smuggling, RFC 9112 section 11.2).
    ///
    /// The handler's response waits meanwhile, so the wait is bounded:
    /// once the body has to be read from the socket (not all of it is
    /// buffered yet), the rest must arrive within `wait`, or the body is
    /// abandoned and the connection closes. A body already buffered whole,
    /// the common case, is checked without starting the clock.
    pub async fn finish_reading(&mut self, limit: u64, wait: Duration) -> Drained {
        if let Some(e) = &self.error {
            return Drained::Malformed(e.clone());
        }
        if self.decoder.is_done() {
            return Drained::Clean;
        }
        if self.continue_pending {
            // The client is waiting for our go-ahead and may or may not send
            // the body later: we cannot tell where the next request starts.
            return Drained::Abandoned;
        }
        if self.decoder.remaining().is_some_and(|n| n > limit) {
            // Known to be too big to be worth reading.
            return Drained::Abandoned;
        }
        let mut discarded = 0u64;
        let mut clock_started = false;
        loop {
            match self.decode_buffered() {
                Ok(Decoded::Data(piece)) => {
                    discarded += piece.len() as u64;
                    if discarded > limit {
                        return Drained::Abandoned;
                    }
                    continue;
                }
                Ok(Decoded::End) => return Drained::Clean,
                Ok(Decoded::NeedMore) => {}
                Err(e) => return Drained::Malformed(e),
            }
            if !clock_started {
                self.reader.shorten_read_deadline(Instant::now() + wait);
                clock_started = true;
            }
            match self.read_more().await {
                Ok(()) => {}
                Err(BodyError::Wire(e)) => return Drained::Malformed(e),
                // Too slow (the deadline passed), or the socket failed.
                Err(_) => return Drained::Abandoned,
            }
        }
    }
}

/// What reading the rest of a body after the handler found.
#[derive(Debug)]
pub(crate) enum Drained {
    /// The body ended cleanly: the next request can be read.
    Clean,
    /// Not read to its end (too long, too slow to arrive, a client still
    /// waiting for `100 Continue`): the connection must close.
    Abandoned,
    /// The body's framing is broken: answer 400 if still possible, close.
    Malformed(WireError),
}
