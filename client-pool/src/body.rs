//! Request and response bodies.
//!
//! [`RequestBody`] is what a request carries: nothing, bytes in memory
//! (sent with `Content-Length`, and replayable for retries and 307/308
//! redirects), or a stream fed through a [`BodySender`] (sent with its
//! declared length, or chunked).
//!
//! [`ResponseBody`] streams the response from the connection. It owns the
//! connection while it is read; reading it to the end hands the connection
//! back to the pool (Go: `bodyEOFSignal` and the `readLoop`'s `alive`
//! logic); dropping it earlier closes the connection, because the unread
//! rest of the body is still on the wire.

use crate::body_writer::{self, WriteHandle};
use crate::conn::PersistConn;
use crate::transport::Inner;
use crate::Error;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use server::stream::read_some;
use server::wire::{BodyDecoder, Decoded};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The body of an outgoing request.
///
/// ```
/// use client_pool::RequestBody;
/// let body = RequestBody::from("name=gopher");
/// assert_eq!(body.length(), Some(11));
/// let (_sender, streamed) = RequestBody::channel(None);
/// assert_eq!(streamed.length(), None); // will be sent chunked
/// ```
pub struct RequestBody {
    pub(crate) kind: BodyKind,
}

pub(crate) enum BodyKind {
    Empty,
    Full(Bytes),
    Stream {
        length: Option<u64>,
        rx: mpsc::Receiver<Result<Bytes, String>>,
    },
}

/// Feeds a streamed [`RequestBody`]; dropping it ends the body.
#[derive(Debug)]
pub struct BodySender {
    tx: mpsc::Sender<Result<Bytes, String>>,
}

impl RequestBody {
    /// No body.
    pub fn empty() -> RequestBody {
        RequestBody {
            kind: BodyKind::Empty,
        }
    }

    /// A streamed body and the sender that feeds it. With `Some(n)` it is
    /// sent with `Content-Length: n` and must be exactly `n` bytes; with
    /// `None` it is sent with `Transfer-Encoding: chunked`.
    pub fn channel(length: Option<u64>) -> (BodySender, RequestBody) {
        let (tx, rx) = mpsc::channel(4);
        (
            BodySender { tx },
            RequestBody {
                kind: BodyKind::Stream { length, rx },
            },
        )
    }

    /// The length to declare, when known (Go: `Request.ContentLength`).
    pub fn length(&self) -> Option<u64> {
        match &self.kind {
            BodyKind::Empty => Some(0),
            BodyKind::Full(bytes) => Some(bytes.len() as u64),
            BodyKind::Stream { length, .. } => *length,
        }
    }

    /// A copy for sending again (retry, 307/308 redirect), when the body is
    /// in memory; `None` for a stream (Go: `Request.GetBody` is nil).
    pub fn try_clone(&self) -> Option<RequestBody> {
        match &self.kind {
            BodyKind::Empty => Some(RequestBody::empty()),
            BodyKind::Full(bytes) => Some(RequestBody {
                kind: BodyKind::Full(bytes.clone()),
            }),
            BodyKind::Stream { .. } => None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self.kind, BodyKind::Empty)
    }
}

impl Default for RequestBody {
    fn default() -> Self {
        RequestBody::empty()
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyKind::Empty => f.write_str("RequestBody::Empty"),
            BodyKind::Full(bytes) => write!(f, "RequestBody::Full({} bytes)", bytes.len()),
            BodyKind::Stream { length, .. } => write!(f, "RequestBody::Stream(length {length:?})"),
        }
    }
}

impl From<Bytes> for RequestBody {
    fn from(bytes: Bytes) -> Self {
        if bytes.is_empty() {
            RequestBody::empty()
        } else {
            RequestBody {
                kind: BodyKind::Full(bytes),
            }
        }
    }
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}

impl From<String> for RequestBody {
    fn from(text: String) -> Self {
        Bytes::from(text).into()
    }
}

impl From<&'static str> for RequestBody {
    fn from(text: &'static str) -> Self {
        Bytes::from_static(text.as_bytes()).into()
    }
}

impl From<&'static [u8]> for RequestBody {
    fn from(bytes: &'static [u8]) -> Self {
        Bytes::from_static(bytes).into()
    }
}

impl BodySender {
    /// Sends one piece of the body; waits while the connection is behind.
    /// Fails when the request is gone (finished, failed or dropped).
    pub async fn send(&mut self, data: Bytes) -> Result<(), Error> {
        self.tx
            .send(Ok(data))
            .await
            .map_err(|_| Error::RequestBody("the request is no longer sending its body".to_owned()))
    }

    /// Ends the body with an error: the request fails and its connection is
    /// closed (a chunked body is not terminated, so the server sees the
    /// truncation instead of a shorter, valid body).
    pub async fn abort(self, why: impl Into<String>) {
        let _ = self.tx.send(Err(why.into())).await;
    }
}

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
    conn: PersistConn,
    decoder: BodyDecoder,
    /// The response allows keep-alive: the connection may go back once
    /// the body has ended.
    reusable: bool,
    /// The rest of the request body, when the response came before all
    /// of it was written; dropping it stops the writing.
    writer: Option<WriteHandle>,
    transport: Arc<Inner>,
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
        conn: PersistConn,
        decoder: BodyDecoder,
        reusable: bool,
        writer: Option<WriteHandle>,
        transport: Arc<Inner>,
    ) -> ResponseBody {
        ResponseBody {
            state: State::Reading(Box::new(Reading {
                conn,
                decoder,
                reusable,
                writer,
                transport,
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
    /// been read to its end (Go: `Response.Trailer`).
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
        let next = match reading.deadline {
            None => reading.next().await,
            Some((deadline, after)) => {
                tokio::time::timeout_at(deadline, reading.next())
                    .await
                    .unwrap_or(Err(Error::Timeout {
                        after,
                        while_doing: "reading body",
                    }))
            }
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

    /// Reads the whole body, failing when it is longer than `limit` bytes.
    pub async fn bytes_limited(&mut self, limit: usize) -> Result<Bytes, Error> {
        let mut all = BytesMut::new();
        while let Some(piece) = self.chunk().await? {
            if all.len() + piece.len() > limit {
                return Err(Error::BodyTooLarge { limit });
            }
            if all.is_empty() && self.is_end() {
                return Ok(piece);
            }
            all.extend_from_slice(&piece);
        }
        Ok(all.freeze())
    }

    /// Reads the whole body as UTF-8 text (invalid bytes replaced).
    pub async fn text(&mut self) -> Result<String, Error> {
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads and discards up to `limit` bytes so that a short body can
    /// give its connection back; a longer one is dropped and its connection
    /// closed (Go: the 2 KiB slurp before following a redirect).
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
                transport,
                ..
            } = *reading;
            if !decoder.trailers().is_empty() {
                self.trailers = Some(decoder.trailers().clone());
            }
            body_writer::release(conn, reusable, writer, transport);
        }
    }
}

impl Reading {
    /// The next piece of the body from the buffer, reading the socket when
    /// the buffer holds no complete piece.
    async fn next(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            match self.decoder.decode(&mut self.conn.read_buf) {
                Ok(Decoded::Data(data)) => return Ok(Some(data)),
                Ok(Decoded::End) => return Ok(None),
                Ok(Decoded::NeedMore) => {}
                Err(e) => return Err(Error::Protocol(e)),
            }
            let read = read_some(&self.conn.stream, &mut self.conn.read_buf).await;
            // A failed request-body write shut the socket down: its error
            // says more than the end-of-file or reset it caused.
            if let Some(e) = self.writer.as_ref().and_then(WriteHandle::take_error) {
                return Err(e);
            }
            let n = read.map_err(Error::Read)?;
            if n == 0 {
                // A close-delimited body ends here; any other is truncated.
                self.reusable = false;
                return match self.decoder.decode_eof() {
                    Ok(_) => Ok(None),
                    Err(e) => Err(Error::Protocol(e)),
                };
            }
        }
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
