//! The ResponseWriter: how a handler answers (Go: `http.ResponseWriter`,
//! implemented by `response` and `chunkWriter` in server.go).
//!
//! The interesting decision is made late. The writer holds back the first
//! [`BUFFER_SIZE`] bytes of body. If the handler returns before filling
//! that buffer, the whole length is known and the response gets a
//! `Content-Length`, head and body leaving in one write. If the handler
//! writes more (or calls [`ResponseWriter::flush`]), the head must go out
//! before the length is known: HTTP/1.1 then streams the body chunked, and
//! HTTP/1.0, which has no chunking, sends it until the connection closes.

use crate::conn_io::ConnWriter;
use crate::date;
use crate::sniff::detect_content_type;
use crate::wire::{encode_chunk, encode_last_chunk, write_response_head};
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, DATE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use std::io;

/// Bytes of body held back before the head is committed (Go: the 2048-byte
/// `bufio.Writer` in front of `chunkWriter`, `bufferBeforeChunkingSize`).
pub const BUFFER_SIZE: usize = 2048;

/// Where the response goes.
#[derive(Debug)]
enum Sink {
    /// A real connection.
    Conn(ConnWriter),
    /// Memory: the writer records what a handler did (Go: `httptest.ResponseRecorder`).
    Recorder { body: Vec<u8> },
}

/// The facts about the request that shape the response.
#[derive(Debug, Clone, Copy)]
struct RequestFacts {
    is_head: bool,
    version: Version,
}

/// Writes one response (Go: `http.ResponseWriter`).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use server::ResponseWriter;
/// let mut w = ResponseWriter::recorder();
/// w.header().insert("x-answer", "42".parse().unwrap());
/// w.write(b"hello").await.unwrap();
/// assert_eq!(w.status(), http::StatusCode::OK);
/// assert_eq!(w.recorded_body(), b"hello");
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
    /// Scratch space where head and chunks are serialised.
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
    pub(crate) fn for_conn(conn: ConnWriter, method: &Method, version: Version, close_after: bool) -> Self {
        ResponseWriter::new(Sink::Conn(conn), method, version, close_after)
    }

    /// A writer that records into memory, for tests and examples.
    pub fn recorder() -> Self {
        ResponseWriter::new(
            Sink::Recorder { body: Vec::new() },
            &Method::GET,
            Version::HTTP_11,
            false,
        )
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
            request: RequestFacts {
                is_head: method == Method::HEAD,
                version,
            },
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
    /// (Go: `Header()`). Changes after that are ignored, as in Go.
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

    /// Body bytes recorded by a [`ResponseWriter::recorder`] (empty on a connection).
    pub fn recorded_body(&self) -> &[u8] {
        match &self.sink {
            Sink::Recorder { body } => body,
            Sink::Conn(_) => &[],
        }
    }

    /// Chooses the status (Go: `WriteHeader`). Only the first call counts;
    /// a second is logged and ignored ("superfluous WriteHeader call").
    pub fn write_header(&mut self, status: StatusCode) {
        if self.status.is_some() {
            tracing::warn!(
                status = status.as_u16(),
                "http: superfluous response.WriteHeader call"
            );
            return;
        }
        self.status = Some(status);
        // A Content-Length set by the handler is a promise we hold it to.
        if let Some(len) = self
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok())
        {
            self.declared_len = Some(len);
        }
    }

    /// Writes body bytes (Go: `Write`); the first write implies status 200.
    /// Returns an error when the body would exceed a declared Content-Length
    /// or the status allows no body (Go: `ErrContentLength`, `ErrBodyNotAllowed`).
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
        if self.request.is_head {
            // HEAD: count the bytes (they may set Content-Length) but send none.
            if self.body_buf.len() < BUFFER_SIZE {
                self.body_buf
                    .extend_from_slice(&data[..data.len().min(BUFFER_SIZE)]);
            }
            return Ok(data.len());
        }
        self.body_buf.extend_from_slice(data);
        if self.body_buf.len() > BUFFER_SIZE {
            self.send_buffered(false).await?;
        }
        Ok(data.len())
    }

    /// Sends the head and everything buffered now (Go: `Flusher.Flush`).
    /// After a flush the length is unknown, so the body continues chunked.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.status.is_none() {
            self.write_header(StatusCode::OK);
        }
        self.send_buffered(false).await
    }

    /// True when the connection must close after this response.
    pub(crate) fn must_close(&self) -> bool {
        self.close_after
    }

    /// Asks for the connection to close after this response.
    pub(crate) fn set_close_after(&mut self) {
        self.close_after = true;
    }

    /// Ends the response after the handler returned: sends what is left,
    /// and the last chunk when chunked (Go: `response.finishRequest`).
    pub(crate) async fn finish(&mut self) -> io::Result<()> {
        if self.status.is_none() {
            self.write_header(StatusCode::OK);
        }
        self.send_buffered(true).await?;
        if self.declared_len.is_some_and(|len| self.written < len) && !self.request.is_head {
            // The handler promised more than it wrote: the client would wait
            // for the missing bytes, so the connection cannot be reused.
            self.close_after = true;
        }
        Ok(())
    }

    /// Takes the connection's write half back.
    pub(crate) fn into_conn(self) -> Option<ConnWriter> {
        match self.sink {
            Sink::Conn(conn) => Some(conn),
            Sink::Recorder { .. } => None,
        }
    }

    fn body_allowed(&self) -> bool {
        let code = self.status().as_u16();
        !((100..200).contains(&code) || code == 204 || code == 304)
    }

    /// Commits the head if needed, then hands the buffered body to the sink.
    /// `done` is true when the handler has returned: only then may we compute
    /// Content-Length ourselves.
    async fn send_buffered(&mut self, done: bool) -> io::Result<()> {
        self.out.clear();
        if !self.head_sent {
            self.serialize_head(done);
            self.head_sent = true;
        }
        let send_body = !self.request.is_head && self.body_allowed();
        if let Sink::Recorder { body } = &mut self.sink {
            // Keep the body as written, without any framing.
            if send_body {
                body.extend_from_slice(&self.body_buf);
            }
            self.body_buf.clear();
            return Ok(());
        }
        if send_body && self.chunked {
            encode_chunk(&mut self.out, &self.body_buf);
            if done {
                encode_last_chunk(&mut self.out, &HeaderMap::new());
            }
        } else if send_body {
            self.out.extend_from_slice(&self.body_buf);
        }
        self.body_buf.clear();
        if let Sink::Conn(conn) = &mut self.sink {
            if !self.out.is_empty() {
                conn.write_all(&self.out).await?;
            }
        }
        Ok(())
    }

    /// Decides the framing and writes the head into `out`
    /// (Go: `chunkWriter.writeHeader`).
    fn serialize_head(&mut self, done: bool) {
        let status = self.status();
        if !self.headers.contains_key(DATE) {
            self.headers.insert(DATE, date::now());
        }
        let body_allowed = self.body_allowed();
        if body_allowed && !self.body_buf.is_empty() && !self.headers.contains_key(CONTENT_TYPE) {
            self.headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static(detect_content_type(&self.body_buf)),
            );
        }
        let asked_close = crate::conn_header::connection_tokens(&self.headers).close;
        if asked_close {
            self.close_after = true;
        }
        if !body_allowed {
            // 1xx, 204 and 304 carry no body and no framing headers of ours.
        } else if self.declared_len.is_some() {
            // The handler set Content-Length itself.
        } else if done
            && !self.headers.contains_key(TRANSFER_ENCODING)
            && (!self.request.is_head || self.written > 0)
        {
            self.declared_len = Some(self.written);
            self.headers
                .insert(CONTENT_LENGTH, HeaderValue::from(self.written));
        } else if self.request.is_head {
            // A HEAD response that wrote nothing: no length to announce.
        } else if self.request.version == Version::HTTP_11 {
            self.chunked = true;
            self.headers
                .insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        } else {
            // HTTP/1.0 has no chunking: the end of the body is the close.
            self.close_after = true;
        }
        if self.close_after && !asked_close && self.request.version == Version::HTTP_11 {
            self.headers.insert(CONNECTION, HeaderValue::from_static("close"));
        } else if !self.close_after && self.request.version == Version::HTTP_10 {
            self.headers
                .insert(CONNECTION, HeaderValue::from_static("keep-alive"));
        }
        if let Sink::Conn(_) = self.sink {
            write_response_head(&mut self.out, self.request.version, status, &self.headers);
            self.out.extend_from_slice(b"\r\n");
        }
    }
}
