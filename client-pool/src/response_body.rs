//! The body of a response, streamed from its connection.
//!
//! [`ResponseBody`] owns the connection while it is read; reading it to the
//! end hands the connection back to the pool (Go: `bodyEOFSignal`,
//! transport.go:2752, and the `alive` logic of `persistConn.readLoop`,
//! transport.go:2058); dropping it earlier closes the connection, because
//! the unread rest of the body is still on the wire.

use crate::pool::Pooled;
use crate::write_loop::{self, WriteHandle};
use crate::Error;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use server::body_read::{next_piece, BodySource, Collector, PieceError, TooLarge};
use server::stream::{before_deadline, read_some};
use server::wire::BodyDecoder;
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;

/// A response as the Transport and the Client give it.
pub type Response = http::Response<ResponseBody>;

/// The body of a response, streamed from its connection.
///
/// Read it with [`chunk`](Self::chunk) until `None`, or with
/// [`bytes`](Self::bytes); either way, reaching the end returns the
/// connection to the pool when the response allowed keep-alive. Dropping
/// the body before its end closes the connection.
pub struct ResponseBody {
    state: State,
    /// Trailer fields of a chunked body, once it has ended.
    trailers: Option<HeaderMap>,
}

enum State {
    /// Nothing (more) to read.
    Done,
    Reading(Box<Reading>),
}

struct Reading {
    conn: Pooled,
    decoder: BodyDecoder,
    /// The response allows keep-alive: the connection may go back once
    /// the body has ended.
    reusable: bool,
    /// The rest of the request body, when the response came before all
    /// of it was written; dropping it stops the writing.
    writer: Option<WriteHandle>,
    /// The Client's deadline, when it has a timeout.
    deadline: Option<(Instant, Duration)>,
}

impl ResponseBody {
    /// A body with nothing in it.
    pub fn empty() -> ResponseBody {
        ResponseBody {
            state: State::Done,
            trailers: None,
        }
    }

    pub(crate) fn from_conn(
        conn: Pooled,
        decoder: BodyDecoder,
        reusable: bool,
        writer: Option<WriteHandle>,
    ) -> ResponseBody {
        ResponseBody {
            state: State::Reading(Box::new(Reading {
                conn,
                decoder,
                reusable,
                writer,
                deadline: None,
            })),
            trailers: None,
        }
    }

    /// Makes every later read fail once `deadline` passes (the Client's
    /// timeout covers reading the body too).
    pub(crate) fn set_deadline(&mut self, deadline: Instant, timeout: Duration) {
        if let State::Reading(reading) = &mut self.state {
            reading.deadline = Some((deadline, timeout));
        }
    }

    /// The trailer fields that followed a chunked body, once the body has
    /// been read to its end (Go: `Response.Trailer`, response.go:110).
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_ref()
    }

    /// True once the whole body has been read (or there was none).
    pub fn is_end(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The next piece of the body, or `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        let State::Reading(reading) = &mut self.state else {
            return Ok(None);
        };
        // No deadline, no wrapper: see `exchange::within_header_timeout`
        // for what the wrapper costs.
        let next = match reading.deadline {
            None => reading.next().await,
            Some((at, after)) => before_deadline(at, reading.next())
                .await
                .unwrap_or(Err(Error::Timeout {
                    after,
                    while_doing: "reading body",
                })),
        };
        match next {
            Ok(Some(data)) => {
                if reading.decoder.is_done() {
                    self.finish();
                }
                Ok(Some(data))
            }
            Ok(None) => {
                self.finish();
                Ok(None)
            }
            Err(e) => {
                // The connection is in an unknown state: close it.
                self.state = State::Done;
                Err(e)
            }
        }
    }

    /// Reads the whole body into memory.
    pub async fn bytes(&mut self) -> Result<Bytes, Error> {
        self.bytes_limited(usize::MAX).await
    }

    /// Reads the whole body, failing when it is longer than `limit` bytes:
    /// at once when its `Content-Length` says so (nothing is read), else
    /// as soon as the bytes read pass the limit, so that an endless body
    /// costs at most `limit` bytes of memory. The connection of a body
    /// refused this way is closed when the body is dropped.
    pub async fn bytes_limited(&mut self, limit: usize) -> Result<Bytes, Error> {
        let too_large = |_: TooLarge| Error::BodyTooLarge { limit };
        let declared = match &self.state {
            State::Reading(reading) => reading.decoder.remaining(),
            State::Done => None,
        };
        let mut all = Collector::new(limit, declared).map_err(too_large)?;
        while let Some(piece) = self.chunk().await? {
            if let Some(whole) = all.add(piece, self.is_end()).map_err(too_large)? {
                return Ok(whole);
            }
        }
        Ok(all.finish())
    }

    /// Reads the whole body as UTF-8 text (invalid bytes replaced).
    pub async fn text(&mut self) -> Result<String, Error> {
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads and discards up to `limit` bytes so that a short body can
    /// give its connection back; a longer one is dropped and its connection
    /// closed (Go: the 2 KiB slurp before following a redirect, client.go:695).
    pub(crate) async fn discard(mut self, limit: usize) {
        let mut seen = 0;
        while seen <= limit {
            match self.chunk().await {
                Ok(Some(piece)) => seen += piece.len(),
                _ => return,
            }
        }
    }

    /// The body ended: the connection goes back to the pool when clean
    /// and the request body is written (or once it is).
    fn finish(&mut self) {
        if let State::Reading(reading) = std::mem::replace(&mut self.state, State::Done) {
            let Reading {
                conn,
                decoder,
                reusable,
                writer,
                ..
            } = *reading;
            if !decoder.trailers().is_empty() {
                self.trailers = Some(decoder.trailers().clone());
            }
            write_loop::release(conn, reusable, writer);
        }
    }
}

impl Reading {
    /// The next piece of the body from the buffer, reading the socket when
    /// the buffer holds no complete piece.
    async fn next(&mut self) -> Result<Option<Bytes>, Error> {
        let mut source = ResponseBytes {
            conn: &mut self.conn,
            writer: self.writer.as_ref(),
            reusable: &mut self.reusable,
        };
        next_piece(&mut self.decoder, &mut source)
            .await
            .map_err(|e| match e {
                PieceError::Wire(e) => Error::Protocol(e),
                PieceError::Read(e) => e,
            })
    }
}

/// Where a response body's bytes come from: the pooled connection's socket
/// and read buffer.
struct ResponseBytes<'a> {
    conn: &'a mut Pooled,
    writer: Option<&'a WriteHandle>,
    reusable: &'a mut bool,
}

impl BodySource for ResponseBytes<'_> {
    type Error = Error;

    fn buffer(&mut self) -> &mut BytesMut {
        &mut self.conn.read_buf
    }

    async fn read_more(&mut self) -> Result<usize, Error> {
        let conn = &mut **self.conn;
        let read = read_some(&conn.stream, &mut conn.read_buf).await;
        // A failed request-body write shut the socket down: its error
        // says more than the end-of-file or reset it caused.
        if let Some(e) = self.writer.and_then(WriteHandle::take_error) {
            return Err(e);
        }
        let n = read.map_err(Error::Read)?;
        if n == 0 {
            // Whether the body ends here (delimited by the close) or is
            // truncated, the connection cannot carry another response.
            *self.reusable = false;
        }
        Ok(n)
    }
}

impl Default for ResponseBody {
    fn default() -> Self {
        ResponseBody::empty()
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Done => f.write_str("ResponseBody(end)"),
            State::Reading(reading) => write!(f, "ResponseBody(reading, conn {})", reading.conn.id),
        }
    }
}
