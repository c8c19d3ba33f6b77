//! The ResponseWriter: how a handler answers (Go: `http.ResponseWriter`, server.go:95,
//! implemented by `response` and `chunkWriter` in server.go).
//!
//! The interesting decision is made late. The writer holds back the first
//! [`BUFFER_SIZE`] bytes of body. If the handler returns before filling
//! that buffer, the whole length is known and the response gets a
//! `Content-Length`, head and body leaving in one write. If the handler
//! writes more (or calls [`ResponseWriter::flush`]), the head must go out
//! before the length is known: HTTP/1.1 then streams the body chunked, and
//! HTTP/1.0, which has no chunking, sends it until the connection closes.
//!
//! Holding the response back has a second use: while nothing has been
//! sent, the server can still replace the handler's answer with a `400 Bad
//! Request` when it finds, after the handler, that the request body was
//! malformed, so that a malformed body never hides behind a 200 (request
//! smuggling, RFC 9112 section 11.2). See `Conn::finish_request` in
//! `conn.rs`.
//!
//! Go's seam is kept: this file is Go's `response` (server.go:423), what
//! the handler talks to; the decision of the head, Go's
//! `chunkWriter.writeHeader` (server.go:1246), is `chunk_writer.rs`.

use crate::chunk_writer::{body_allowed_for_status, plan_head, write_head, HandlerHeaders, HeadInput};
use crate::conn_io::ConnWriter;
use crate::lent_buffers;
use crate::recycle::{self, ResponseBuffers};
use crate::sniff::detect_content_type;
use crate::wire::{encode_chunk, encode_chunk_size, encode_last_chunk, write_response_head};
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use std::io;

/// Bytes of body held back before the head is committed (Go: the 2048-byte
/// `bufio.Writer` in front of `chunkWriter`, `bufferBeforeChunkingSize`,
/// server.go:338).
pub const BUFFER_SIZE: usize = 2048;

/// Where the response goes.
#[derive(Debug)]
enum Sink {
    /// A real connection.
    Conn(ConnWriter),
    /// Memory: the writer records what a handler did (Go: `httptest.ResponseRecorder`, httptest/recorder.go:21).
    Recorder { body: Vec<u8> },
}

/// The facts about the request that shape the response.
#[derive(Debug, Clone, Copy)]
struct RequestFacts {
    is_head: bool,
    version: Version,
    /// An HTTP/1.0 request that asked for `Connection: keep-alive`.
    wants_10_keep_alive: bool,
}

impl RequestFacts {
    fn new(method: &Method, version: Version, close_after: bool) -> Self {
        RequestFacts {
            is_head: method == Method::HEAD,
            version,
            wants_10_keep_alive: version == Version::HTTP_10 && !close_after,
        }
    }
}

/// Writes one response (Go: `http.ResponseWriter`, server.go:95).
///
/// A [`ResponseWriter::recorder`] keeps what a handler did in memory, so a
/// handler can be tested without a socket (Go: `httptest.ResponseRecorder`, httptest/recorder.go:21):
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use server::ResponseWriter;
/// let mut w = ResponseWriter::recorder();
/// w.header().insert("x-answer", "42".parse().unwrap());
/// w.write(b"<p>hello</p>").await.unwrap();
/// assert_eq!(w.status(), http::StatusCode::OK);
/// assert_eq!(w.recorded_body(), b"<p>hello</p>");
/// assert_eq!(w.headers()["x-answer"], "42");
/// // No Content-Type was set, so it was sniffed from the first bytes, as Go does.
/// assert_eq!(w.headers()["content-type"], "text/html; charset=utf-8");
/// # });
/// ```
#[derive(Debug)]
pub struct ResponseWriter {
    sink: Sink,
    request: RequestFacts,
    headers: HeaderMap,
    /// Set by `write_header`, or to 200 by the first `write`.
    status: Option<StatusCode>,
    /// The head has been committed (serialised and sent, or recorded).
    head_sent: bool,
    /// Body bytes not yet handed to the socket.
    body_buf: Vec<u8>,
    /// Scratch space where head and chunks are serialised: lent from a
    /// pool while a response goes out, empty otherwise.
    out: Vec<u8>,
    /// The body is being sent chunked.
    chunked: bool,
    /// A Content-Length the handler declared itself, or that we computed.
    declared_len: Option<u64>,
    /// Body bytes the handler has written so far.
    written: u64,
    /// The connection must close after this response.
    close_after: bool,
}

impl ResponseWriter {
    /// The writer of a connection, made once and used for every response
    /// on it: [`ResponseWriter::begin_response`] readies it for each.
    /// `buffers` come from the pool of a closed connection, or are new.
    pub(crate) fn for_conn(conn: ConnWriter, buffers: ResponseBuffers) -> Self {
        let mut w = ResponseWriter::new(Sink::Conn(conn), &Method::GET, Version::HTTP_11, false);
        w.headers = buffers.headers;
        w.body_buf = buffers.body;
        w
    }

    /// Takes the buffers and header map back when the connection ends, for
    /// the pool (see `recycle.rs`).
    pub(crate) fn take_buffers(&mut self) -> ResponseBuffers {
        self.release_head_buffer();
        ResponseBuffers {
            headers: std::mem::take(&mut self.headers),
            body: std::mem::take(&mut self.body_buf),
        }
    }

    /// Takes a buffer for heads and chunks from the pool, unless the
    /// writer holds one already (see `lent_buffers.rs`).
    fn hold_head_buffer(&mut self) {
        if self.out.capacity() == 0 {
            self.out = lent_buffers::take_head();
        }
    }

    /// Gives the head buffer back to the pool: the response is out, and
    /// the connection may now wait a long time for its next request.
    fn release_head_buffer(&mut self) {
        lent_buffers::give_back_head(std::mem::take(&mut self.out));
    }

    /// Readies the writer for the next response on its connection, in
    /// place: the state of the previous response is forgotten, and its
    /// buffers and header map are emptied but kept (unless one grew
    /// large), so that a keep-alive connection allocates them once.
    /// `close_after` is true when the request asked to close (or is
    /// HTTP/1.0 without keep-alive).
    pub(crate) fn begin_response(&mut self, method: &Method, version: Version, close_after: bool) {
        self.request = RequestFacts::new(method, version, close_after);
        // Do not keep a huge buffer alive on an idle connection.
        recycle::empty_map(&mut self.headers);
        recycle::empty_buffer(&mut self.body_buf);
        self.status = None;
        self.head_sent = false;
        self.chunked = false;
        self.declared_len = None;
        self.written = 0;
        self.close_after = close_after;
    }

    /// The connection's write half (`None` for a recorder).
    pub(crate) fn conn_mut(&mut self) -> Option<&mut ConnWriter> {
        match &mut self.sink {
            Sink::Conn(conn) => Some(conn),
            Sink::Recorder { .. } => None,
        }
    }

    /// A writer that records into memory, for tests and examples.
    pub fn recorder() -> Self {
        ResponseWriter::recorder_for(&Method::GET)
    }

    /// A recorder for a request with this method (HEAD responses have no body).
    pub fn recorder_for(method: &Method) -> Self {
        ResponseWriter::new(
            Sink::Recorder { body: Vec::new() },
            method,
            Version::HTTP_11,
            false,
        )
    }

    fn new(sink: Sink, method: &Method, version: Version, close_after: bool) -> Self {
        ResponseWriter {
            sink,
            request: RequestFacts::new(method, version, close_after),
            headers: HeaderMap::new(),
            status: None,
            head_sent: false,
            body_buf: Vec::new(),
            out: Vec::new(),
            chunked: false,
            declared_len: None,
            written: 0,
            close_after,
        }
    }

    /// The response header map, to change before the head is written
    /// (Go: `Header()`, server.go:1082). Changes after that are ignored, as in Go.
    pub fn header(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The response headers as they stand.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The status written so far (200 when none was set yet).
    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or(StatusCode::OK)
    }

    /// True once a status was chosen, by `write_header` or a first `write`.
    pub fn wrote_header(&self) -> bool {
        self.status.is_some()
    }

    /// Body bytes recorded by a [`ResponseWriter::recorder`], as the handler
    /// wrote them (no chunk framing); empty on a connection.
    pub fn recorded_body(&self) -> &[u8] {
        match &self.sink {
            Sink::Recorder { body } => body,
            Sink::Conn(_) => &[],
        }
    }

    /// Chooses the status (Go: `WriteHeader`, server.go:1139). Only the first call counts;
    /// a second is logged and ignored ("superfluous WriteHeader call").
    ///
    /// A 1xx status is not the final one: as in Go, it sends an interim
    /// response (such as `103 Early Hints`) with the headers set so far,
    /// and the handler goes on to choose the real status. It leaves with
    /// the next write to the socket, ahead of everything else.
    #[track_caller]
    pub fn write_header(&mut self, status: StatusCode) {
        if status.is_informational() && self.status.is_none() {
            self.queue_interim(status);
            return;
        }
        if self.status.is_some() {
            // Like Go, say where the extra call came from.
            let caller = std::panic::Location::caller();
            tracing::warn!(
                status = status.as_u16(),
                "http: superfluous response.WriteHeader call from {}:{}",
                caller.file(),
                caller.line()
            );
            return;
        }
        self.status = Some(status);
        // A Content-Length set by the handler is a promise we hold it to;
        // one that is not a number is dropped, as Go does.
        if let Some(value) = self.headers.get(CONTENT_LENGTH) {
            match parse_content_length(value) {
                Some(len) => self.declared_len = Some(len),
                None => {
                    tracing::warn!(value = ?value, "http: invalid Content-Length set by handler, ignored");
                    self.headers.remove(CONTENT_LENGTH);
                }
            }
        }
    }

    /// Serialises an interim (1xx) head into `out`, where it waits for the
    /// next socket write. `Content-Length` and `Transfer-Encoding` are left
    /// out; the other headers stay for the final response (RFC 8297).
    fn queue_interim(&mut self, status: StatusCode) {
        let Sink::Conn(conn) = &self.sink else {
            return; // a recorder keeps only the final response
        };
        if self.request.version == Version::HTTP_10 || self.head_sent {
            // HTTP/1.0 clients must not get 1xx responses (RFC 9110 section 15.2).
            return;
        }
        if status == StatusCode::CONTINUE {
            // The handler said it itself: the body must not say it again.
            conn.mark_final_head_sent();
        }
        let mut headers = self.headers.clone();
        headers.remove(CONTENT_LENGTH);
        headers.remove(TRANSFER_ENCODING);
        self.hold_head_buffer();
        write_response_head(&mut self.out, self.request.version, status, &headers);
        self.out.extend_from_slice(b"\r\n");
    }

    /// Writes body bytes (Go: `Write`, server.go:1597); the first write implies status 200.
    /// Returns an error when the body would exceed a declared Content-Length
    /// or the status allows no body (Go: `ErrContentLength`, server.go:54, `ErrBodyNotAllowed`).
    pub async fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.status.is_none() {
            self.write_header(StatusCode::OK);
        }
        if data.is_empty() {
            return Ok(0);
        }
        if !self.body_allowed() {
            return Err(io::Error::other(
                "http: request method or response status code does not allow body",
            ));
        }
        if self
            .declared_len
            .is_some_and(|len| self.written + data.len() as u64 > len)
        {
            return Err(io::Error::other(
                "http: wrote more than the declared Content-Length",
            ));
        }
        self.written += data.len() as u64;
        if let Sink::Recorder { body } = &mut self.sink {
            // A recorder has no socket to protect: keep the bytes at once, so
            // a test sees them as soon as they are written.
            if !self.head_sent {
                self.head_sent = true;
                if !self.headers.contains_key(CONTENT_TYPE) {
                    let sniffed = detect_content_type(data);
                    self.headers
                        .insert(CONTENT_TYPE, HeaderValue::from_static(sniffed));
                }
            }
            if !self.request.is_head {
                body.extend_from_slice(data);
            }
            return Ok(data.len());
        }
        if self.request.is_head {
            // HEAD: count the bytes (they may set Content-Length) and keep
            // the first ones for sniffing, but send none.
            let room = BUFFER_SIZE.saturating_sub(self.body_buf.len());
            self.body_buf.extend_from_slice(&data[..data.len().min(room)]);
            return Ok(data.len());
        }
        // As Go's `bufio.Writer` does: fill the buffer and send it; a write
        // larger than the buffer, with nothing held back before it, goes
        // to the socket straight from the caller's slice, never copied.
        let len = data.len();
        let mut data = data;
        while self.body_buf.len() + data.len() > BUFFER_SIZE {
            if self.body_buf.is_empty() {
                // Boxed: this rare path's state would otherwise make every
                // `write` future larger, and slower to move, small ones too.
                Box::pin(self.send_direct(data)).await?;
                return Ok(len);
            }
            let room = BUFFER_SIZE - self.body_buf.len();
            self.body_buf.extend_from_slice(&data[..room]);
            data = &data[room..];
            // Boxed too, for the same reason: with this future inline, a
            // `write` future was 512 bytes instead of 72, and a handler's
            // boxed future with it, copied into its box on every request:
            // 25 instructions per keep-alive request (6 725 -> 6 700;
            // callgrind, `benches/instructions.sh`).
            Box::pin(self.send_buffered(false)).await?;
        }
        self.body_buf.extend_from_slice(data);
        Ok(len)
    }

    /// Sends the head and everything buffered now (Go: `Flusher.Flush`, server.go:173).
    /// After a flush the length is unknown, so the body continues chunked.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.status.is_none() {
            self.write_header(StatusCode::OK);
        }
        self.send_buffered(false).await
    }

    /// True once the head has left (on a connection: been written to the
    /// socket), after which the response can no longer be replaced.
    pub fn head_committed(&self) -> bool {
        self.head_sent
    }

    /// True when the connection must close after this response.
    pub(crate) fn must_close(&self) -> bool {
        self.close_after
    }

    /// Asks for the connection to close after this response.
    pub(crate) fn set_close_after(&mut self) {
        self.close_after = true;
    }

    /// Throws away the handler's response, still held back in the buffer,
    /// and puts a plain-text error with `Connection: close` in its place.
    /// False when the head was already sent: too late to take it back.
    pub(crate) fn replace_with_error(&mut self, status: StatusCode) -> bool {
        if self.head_sent {
            return false;
        }
        self.headers.clear();
        self.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        self.headers.insert(CONNECTION, HeaderValue::from_static("close"));
        self.status = Some(status);
        self.declared_len = None;
        self.close_after = true;
        self.body_buf.clear();
        if !self.request.is_head {
            self.body_buf.extend_from_slice(status.as_str().as_bytes());
            self.body_buf.push(b' ');
            self.body_buf
                .extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
        }
        self.written = self.body_buf.len() as u64;
        true
    }

    /// Ends the response after the handler returned: sends what is left,
    /// and the last chunk when chunked (Go: `response.finishRequest`, server.go:1646).
    pub(crate) async fn finish(&mut self) -> io::Result<()> {
        if self.status.is_none() {
            self.write_header(StatusCode::OK);
        }
        let sent = self.send_buffered(true).await;
        self.release_head_buffer();
        sent?;
        if self.declared_len.is_some_and(|len| self.written < len) && !self.request.is_head {
            // The handler promised more than it wrote: the client would wait
            // for the missing bytes, so the connection cannot be reused.
            tracing::warn!(
                declared = self.declared_len,
                written = self.written,
                "http: handler wrote less than its Content-Length"
            );
            self.close_after = true;
        }
        Ok(())
    }

    fn body_allowed(&self) -> bool {
        body_allowed_for_status(self.status())
    }

    /// Commits the head if needed, then hands the buffered body to the
    /// socket in one write. `done` is true when the handler has returned:
    /// only then may we compute Content-Length ourselves.
    async fn send_buffered(&mut self, done: bool) -> io::Result<()> {
        if !matches!(self.sink, Sink::Conn(_)) {
            // A recorder keeps bytes as they are written; only the head
            // remains to commit.
            self.head_sent = true;
            return Ok(());
        }
        self.hold_head_buffer();
        let Sink::Conn(conn) = &mut self.sink else {
            return Ok(());
        };
        // `out` may already hold interim (1xx) heads: they go first.
        if !self.head_sent {
            let draining = conn.draining();
            conn.mark_final_head_sent();
            // The held-back bytes are the sample Content-Type is sniffed from.
            let held = std::mem::take(&mut self.body_buf);
            self.serialize_head(done, draining, &held);
            self.body_buf = held;
            self.head_sent = true;
        }
        let send_body = !self.request.is_head && self.body_allowed();
        if send_body && self.chunked {
            encode_chunk(&mut self.out, &self.body_buf);
            if done {
                encode_last_chunk(&mut self.out, &HeaderMap::new());
            }
        } else if send_body {
            self.out.extend_from_slice(&self.body_buf);
        }
        self.body_buf.clear();
        if self.out.is_empty() {
            return Ok(());
        }
        let Sink::Conn(conn) = &mut self.sink else {
            return Ok(());
        };
        let written = conn.write_all(&self.out).await;
        self.out.clear();
        written
    }

    /// Sends `data`, more than the buffer holds, when nothing is held back:
    /// the head first if it has not gone yet (`out` may also hold interim
    /// heads), then `data` from the caller's slice, in one gathered write.
    /// Only for a body that is sent (not HEAD, status allows one).
    async fn send_direct(&mut self, data: &[u8]) -> io::Result<()> {
        if !matches!(self.sink, Sink::Conn(_)) {
            return Ok(());
        }
        self.hold_head_buffer();
        let Sink::Conn(conn) = &mut self.sink else {
            return Ok(());
        };
        if !self.head_sent {
            let draining = conn.draining();
            conn.mark_final_head_sent();
            self.serialize_head(false, draining, data);
            self.head_sent = true;
        }
        let mut chunk_end: &[u8] = b"";
        if self.chunked {
            // The chunk-size line, then the data, then CRLF (RFC 9112 section 7.1).
            encode_chunk_size(&mut self.out, data.len());
            chunk_end = b"\r\n";
        }
        let Sink::Conn(conn) = &mut self.sink else {
            return Ok(());
        };
        let written = conn.write_all_parts([&self.out, data, chunk_end]).await;
        self.out.clear();
        written
    }

    /// Decides the framing and writes the head into `out` (Go:
    /// `chunkWriter.writeHeader`, server.go:1246; the decision is
    /// [`plan_head`], in `chunk_writer.rs`). `sample` is the first body
    /// bytes, for sniffing a Content-Type.
    fn serialize_head(&mut self, done: bool, draining: bool, sample: &[u8]) {
        let status = self.status();
        let plan = plan_head(&HeadInput {
            status,
            version: self.request.version,
            is_head: self.request.is_head,
            wants_10_keep_alive: self.request.wants_10_keep_alive,
            set: HandlerHeaders::note(&self.headers),
            declared_len: self.declared_len,
            written: self.written,
            done,
            has_sample: !sample.is_empty(),
            close_after: self.close_after,
            draining,
        });
        if plan.sniff_content_type {
            let sniffed = detect_content_type(sample);
            self.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static(sniffed));
        }
        if plan.conflicting_lengths {
            tracing::warn!("http: WriteHeader called with both Transfer-Encoding and a Content-Length");
        }
        if plan.drop_content_length {
            self.headers.remove(CONTENT_LENGTH);
        }
        if plan.drop_content_type {
            self.headers.remove(CONTENT_TYPE);
        }
        if plan.drop_transfer_encoding {
            self.headers.remove(TRANSFER_ENCODING);
        }
        if plan.drop_connection {
            self.headers.remove(CONNECTION);
        }
        self.declared_len = plan.declared_len;
        self.chunked = plan.chunked;
        self.close_after = plan.close_after;
        write_head(&mut self.out, self.request.version, status, &self.headers, &plan);
    }
}

/// A Content-Length value: 1*DIGIT that fits in a u64.
fn parse_content_length(value: &HeaderValue) -> Option<u64> {
    let digits = value.as_bytes().trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn recorder_shows_status_headers_and_body_as_written() {
        let mut w = ResponseWriter::recorder();
        w.header()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        w.write_header(StatusCode::CREATED);
        w.write_header(StatusCode::OK); // superfluous: ignored
        w.write(b"ab").await.unwrap();
        assert_eq!(w.recorded_body(), b"ab");
        w.write(&[b'x'; 3000]).await.unwrap();
        assert_eq!(w.recorded_body().len(), 3002);
        assert_eq!(w.status(), StatusCode::CREATED);
        assert_eq!(w.headers()[CONTENT_TYPE], "text/plain");
    }

    #[tokio::test]
    async fn recorder_for_head_keeps_no_body_and_refuses_over_declared_length() {
        let mut w = ResponseWriter::recorder_for(&Method::HEAD);
        w.write(b"hello").await.unwrap();
        assert!(w.recorded_body().is_empty());

        let mut w = ResponseWriter::recorder();
        w.header().insert(CONTENT_LENGTH, HeaderValue::from_static("3"));
        w.write(b"abc").await.unwrap();
        assert!(w.write(b"d").await.is_err());
        assert_eq!(w.recorded_body(), b"abc");
    }

    #[tokio::test]
    async fn no_body_for_204() {
        let mut w = ResponseWriter::recorder();
        w.write_header(StatusCode::NO_CONTENT);
        assert!(w.write(b"x").await.is_err());
    }
}
