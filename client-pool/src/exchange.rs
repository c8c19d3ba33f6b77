//! One request and its response on one connection (Go:
//! `persistConn.roundTrip`, transport.go:2534, with `Request.write`,
//! request.go:551, and `persistConn.readResponse`, transport.go:2275).
//!
//! The steps, in order:
//!
//! 1. [`write_head`] serialises the request head into the connection's
//!    write buffer (Go: `Request.write`, request.go:551); a small body joins it there, so
//!    that head and body leave in one write.
//! 2. [`send`] writes the request and reads the response head (after
//!    [`await_continue`] when the request carries `Expect: 100-continue`). A larger or
//!    streamed body is written *while* the head is awaited: a server that
//!    answers before reading the whole body (an early 413, a streaming
//!    echo) is still heard. The head is read with the shared sans-IO
//!    parser in `server::wire`, and `server::stream::HeadScan` decides when
//!    a head still arriving is worth parsing again, which keeps reading it
//!    linear in its length.
//! 3. [`round_trip`] turns the head into a [`Response`] whose body streams
//!    from the connection, and decides whether the connection may be
//!    reused (Go: the `alive` logic of `persistConn.readLoop`,
//!    transport.go:2090). If the head came before the whole request body
//!    went out, the rest is written by a task of its own (`write_loop`).
//!
//! The connection comes in from the pool as a `Pooled` and leaves inside
//! the response body, which gives it back when read to its end.

use crate::body_writer::BodyWrite;
use crate::conn::PersistConn;
use crate::pool::Pooled;
use crate::request_body::{BodyKind, RequestBody};
use crate::response_body::{Response, ResponseBody};
use crate::write_loop::{self, WriteHandle};
use crate::{ConnectKey, Error, TransportConfig};
use http::header::{CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING, USER_AGENT};
use http::{HeaderMap, Method, StatusCode, Version};
use server::net_conn::NetConn;
use server::stream::{before_deadline, read_some, HeadScan};
use server::wire::{self, BodyDecoder, BodyFraming, Limits, ResponseHead};
use std::future::Future;
use std::io;
use std::time::Duration;
use tokio::time::Instant;

/// A fixed-length body up to this size is sent in the same write as the
/// head (one system call and one TCP segment instead of two).
const COALESCE_BODY: usize = 16 * 1024;

/// A failed exchange, and whether it failed before any response byte
/// (which makes a retry on another connection safe for an idempotent
/// request: Go's `nothingWrittenError` and `errServerClosedIdle` in
/// `shouldRetryRequest`, transport.go:685).
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) nothing_received: bool,
}

impl Failure {
    fn after_response_began(error: Error) -> Failure {
        Failure {
            error,
            nothing_received: false,
        }
    }
}

/// Where the request body stands when the response head arrives.
enum BodyState {
    /// All of it is on the wire.
    Written,
    /// Writing it failed: the connection cannot be reused.
    Failed,
    /// The request asked `Expect: 100-continue` and the final answer came
    /// instead: the body was never sent, and the connection is closed
    /// (see [`await_continue`]).
    Withheld,
    /// The server answered first: the rest is still to write.
    Pending(BodyWrite),
}

/// Sends one request on `conn` and returns its response once the head has
/// arrived (Go: `persistConn.roundTrip`, transport.go:2534).
pub(crate) async fn round_trip(
    mut conn: Pooled,
    parts: &http::request::Parts,
    body: RequestBody,
    key: &ConnectKey,
    config: &TransportConfig,
    limits: &Limits,
) -> Result<Response, Failure> {
    let request_close = config.disable_keep_alives || server::connection_tokens(&parts.headers).close;
    conn.write_buf.clear();
    write_head(&mut conn.write_buf, parts, &body, key, config, request_close);
    // Go: `continueCh` in `persistConn.roundTrip`, transport.go:2574.
    let continue_wait =
        (!body.is_empty() && !config.expect_continue_timeout.is_zero() && expects_continue(&parts.headers))
            .then_some(config.expect_continue_timeout);
    let (head, body_state) = send(
        &mut conn,
        body.kind,
        limits,
        config.response_header_timeout,
        continue_wait,
    )
    .await?;
    let framing = wire::response_framing(&parts.method, &head)
        .map_err(|e| Failure::after_response_began(Error::Protocol(e)))?;
    conn.requests_served += 1;
    let tokens = server::connection_tokens(&head.headers);
    let response_close = tokens.close || (head.version == Version::HTTP_10 && !tokens.keep_alive);
    let reusable = !request_close
        && !response_close
        && !matches!(body_state, BodyState::Failed | BodyState::Withheld)
        && framing != BodyFraming::UntilClose
        && head.status != StatusCode::SWITCHING_PROTOCOLS;
    tracing::trace!(conn = conn.id, status = %head.status, reusable, "response head");
    // The server answered before the whole request body was out: the rest
    // goes on in its own task while the response is read (Go's `writeLoop`,
    // transport.go:2389, keeps writing beside `readLoop`).
    let writer = match body_state {
        BodyState::Pending(rest) => Some(WriteHandle::spawn(rest, conn.stream.clone(), conn.id)),
        BodyState::Written | BodyState::Failed | BodyState::Withheld => None,
    };
    let body = match framing {
        BodyFraming::Empty | BodyFraming::Length(0) => {
            write_loop::release(conn, reusable, writer);
            ResponseBody::empty()
        }
        _ => ResponseBody::from_conn(conn, BodyDecoder::new(framing), reusable, writer),
    };
    let mut response = http::Response::new(body);
    *response.status_mut() = head.status;
    *response.version_mut() = head.version;
    *response.headers_mut() = head.headers;
    Ok(response)
}

/// Serialises the request head (Go: `Request.write`, request.go:551): the
/// request line, Host, User-Agent, the caller's fields, and the framing we
/// choose ourselves (the caller's Content-Length/Transfer-Encoding are
/// ignored, as Go ignores them in `Request.Header`).
fn write_head(
    out: &mut Vec<u8>,
    parts: &http::request::Parts,
    body: &RequestBody,
    key: &ConnectKey,
    config: &TransportConfig,
    close: bool,
) {
    // Absolute form to a proxy (RFC 9112 section 3.2.2); inside a CONNECT
    // tunnel the origin reads the request, so origin form as usual.
    let target: std::borrow::Cow<'_, str> = if key.proxy.is_some() && !key.is_tunnel() {
        parts.uri.to_string().into()
    } else {
        parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .filter(|t| !t.is_empty())
            .unwrap_or("/")
            .into()
    };
    wire::write_request_head(out, &parts.method, &target, Version::HTTP_11, &HeaderMap::new());
    if !parts.headers.contains_key(HOST) {
        if let Some(authority) = parts.uri.authority() {
            out.extend_from_slice(b"Host: ");
            out.extend_from_slice(authority.as_str().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    if let (false, Some(agent)) = (parts.headers.contains_key(USER_AGENT), &config.user_agent) {
        out.extend_from_slice(b"User-Agent: ");
        out.extend_from_slice(agent.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if parts.headers.contains_key(CONTENT_LENGTH) || parts.headers.contains_key(TRANSFER_ENCODING) {
        let mut headers = parts.headers.clone();
        headers.remove(CONTENT_LENGTH);
        headers.remove(TRANSFER_ENCODING);
        wire::write_headers(out, &headers);
    } else {
        wire::write_headers(out, &parts.headers);
    }
    match body.length() {
        Some(0) if body.is_empty() && !method_expects_body(&parts.method) => {}
        Some(n) => out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes()),
        None => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
    }
    if close && !server::connection_tokens(&parts.headers).close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether the request asks the server to approve its body first (Go:
/// `Request.expectsContinue`, request.go:1410): an `Expect` field holding
/// the `100-continue` token, in any case.
fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get_all(EXPECT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("100-continue"))
}

/// True when a request method must send `Content-Length: 0` even with no
/// body (Go: `transferWriter.shouldSendContentLength`, transfer.go:252).
fn method_expects_body(method: &Method) -> bool {
    method == Method::POST || method == Method::PUT || method == Method::PATCH
}

/// Sends the head already in the write buffer and the body, then reads
/// the response head (skipping 1xx interim responses other than 101).
/// Returns the head and where the request body stands: if the server
/// answered before the whole body was written, the rest is returned to be
/// written beside the response (Go's `writeLoop` goes on).
///
/// `header_timeout` starts once the request is written, as Go's
/// `respHeaderTimer` does (transport.go:2633). With `continue_wait`, the
/// head goes out alone and the body waits for the server's approval (see
/// [`await_continue`]).
async fn send(
    conn: &mut Pooled,
    body: BodyKind,
    limits: &Limits,
    header_timeout: Option<Duration>,
    continue_wait: Option<Duration>,
) -> Result<(ResponseHead, BodyState), Failure> {
    let conn = &mut **conn;
    if let Some(wait) = continue_wait {
        if let Some(head) = await_continue(conn, limits, wait).await? {
            return Ok((head, BodyState::Withheld));
        }
        // The head is out: what follows is the body alone.
        conn.write_buf.clear();
    }
    let mut body_write = match body {
        BodyKind::Empty => None,
        BodyKind::Full(bytes) if bytes.len() <= COALESCE_BODY => {
            conn.write_buf.extend_from_slice(&bytes);
            None
        }
        BodyKind::Full(bytes) => Some(BodyWrite::whole(&conn.write_buf, bytes)),
        BodyKind::Stream { length, rx } => Some(BodyWrite::channel(&conn.write_buf, length, rx)),
    };
    let stream = &*conn.stream;
    // Pinned here and awaited through `as_mut()`: the futures below hold a
    // pointer to it instead of a copy (each move of a future is a memcpy).
    let head = read_head(stream, &mut conn.read_buf, limits, Interim::Skip);
    tokio::pin!(head);
    let Some(body_write_ref) = body_write.as_mut() else {
        if let Err(e) = stream.write_all(&conn.write_buf).await {
            return Err(Failure {
                error: Error::Write(e),
                nothing_received: true,
            });
        }
        let head = within_header_timeout(header_timeout, head.as_mut()).await?;
        return Ok((head, BodyState::Written));
    };
    // Write the body while watching for an early head.
    let mut write_error = None;
    let early_head = tokio::select! {
        // `run` is cancel-safe: if the head wins, the writing resumes in
        // `write_loop` where it stopped.
        result = body_write_ref.run(stream) => match result {
            Ok(()) => None,
            // The caller's own body failed: nothing to wait for.
            Err(e @ (Error::RequestBody(_) | Error::BodyLength { .. })) => {
                return Err(Failure { error: e, nothing_received: true });
            }
            // The socket failed; the server may still have answered
            // (early 413, say), so keep reading.
            Err(e) => {
                write_error = Some(e);
                None
            }
        },
        head = head.as_mut() => Some(head),
    };
    let written = early_head.is_none() && write_error.is_none();
    let head = match early_head {
        Some(head) => head,
        None => within_header_timeout(header_timeout, head.as_mut()).await,
    };
    match (head, write_error) {
        (Ok(head), Some(_)) => Ok((head, BodyState::Failed)),
        (Ok(head), None) if written => Ok((head, BodyState::Written)),
        (Ok(head), None) => match body_write {
            Some(rest) => Ok((head, BodyState::Pending(rest))),
            None => Ok((head, BodyState::Written)),
        },
        (Err(failure), Some(e)) => Err(Failure { error: e, ..failure }),
        (Err(failure), None) => Err(failure),
    }
}

/// Writes the request head alone and waits up to `wait` for the server's
/// `100 Continue` (Go: `Request.write` calling `waitForContinue`,
/// request.go:676 and transport.go:2332). `None` means "send the body
/// now": the 100 came, or the wait ran out (the server may not know the
/// expectation, RFC 9110 section 10.1.1). A final response arriving first
/// is returned, and the body is never sent.
///
/// The connection is then closed, whatever the response says, because
/// the server may still expect the body we declared. Go has changed its
/// mind here: Go 1.19 skips the body and reuses the connection (the
/// server then reads our next request as the old body, unless it closed);
/// Go 1.27 (transport.go:2735) skips the body only when the connection
/// closes anyway, and otherwise sends it after all. We keep the promise
/// `Expect` makes, no body without approval, at the price of a new
/// connection; Go's server marks such a response `Connection: close`
/// itself (server.go:1357), so against it nothing is lost.
async fn await_continue(
    conn: &mut PersistConn,
    limits: &Limits,
    wait: Duration,
) -> Result<Option<ResponseHead>, Failure> {
    let stream = &*conn.stream;
    if let Err(e) = stream.write_all(&conn.write_buf).await {
        return Err(Failure {
            error: Error::Write(e),
            nothing_received: true,
        });
    }
    let first_head = read_head(stream, &mut conn.read_buf, limits, Interim::StopAtContinue);
    match before_deadline(Instant::now() + wait, first_head).await {
        None => {
            tracing::trace!(conn = conn.id, ?wait, "no 100 Continue in time: sending the body");
            Ok(None)
        }
        Some(Ok(head)) if head.status == StatusCode::CONTINUE => Ok(None),
        Some(Ok(head)) => {
            tracing::debug!(conn = conn.id, status = %head.status,
                "final response before 100 Continue: the body is not sent");
            Ok(Some(head))
        }
        Some(Err(failure)) => Err(failure),
    }
}

/// Which interim (1xx) responses [`read_head`] passes over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Interim {
    /// All but 101, which is final: the response to a request.
    Skip,
    /// All but 100 and 101: waiting for the approval of a body.
    StopAtContinue,
}

/// Awaits the response head for at most `timeout`, counted from now (Go:
/// `ResponseHeaderTimeout` and its `respHeaderTimer`, transport.go:2633).
///
/// Without a timeout the head is awaited directly. Passing it through
/// a deadline wrapper anyway, and the same for each body read in
/// `ResponseBody::chunk`, cost about 250 instructions a request, 1.5%
/// (callgrind, 20 000 keep-alive GETs at 64 concurrent requests).
async fn within_header_timeout(
    timeout: Option<Duration>,
    head: impl Future<Output = Result<ResponseHead, Failure>>,
) -> Result<ResponseHead, Failure> {
    let Some(after) = timeout else {
        return head.await;
    };
    match before_deadline(Instant::now() + after, head).await {
        Some(head) => head,
        None => Err(Failure::after_response_began(Error::ResponseHeaderTimeout(after))),
    }
}

/// Reads until a final response head is parsed (Go:
/// `persistConn.readResponse`, transport.go:2275). 1xx responses (100
/// Continue, 103 Early Hints) are skipped, as Go does; 101 is final; with
/// [`Interim::StopAtContinue`], so is 100.
async fn read_head(
    reader: &NetConn,
    buf: &mut bytes::BytesMut,
    limits: &Limits,
    interim: Interim,
) -> Result<ResponseHead, Failure> {
    let mut received_any = !buf.is_empty();
    // A fresh scan per head: after a skipped 1xx, the next head starts anew.
    let mut scan = HeadScan::default();
    loop {
        if scan.worth_parsing(buf, limits.max_header_bytes) {
            // An event per attempt lets a test count them: a head trickled
            // in small pieces must not be parsed once per piece.
            tracing::trace!(buffered = buf.len(), "parsing response head");
            match wire::parse_response_head(buf, limits) {
                Ok(Some(head))
                    if head.status.is_informational()
                        && head.status != StatusCode::SWITCHING_PROTOCOLS
                        && !(interim == Interim::StopAtContinue && head.status == StatusCode::CONTINUE) =>
                {
                    scan = HeadScan::default();
                    continue;
                }
                Ok(Some(head)) => return Ok(head),
                Ok(None) => {}
                Err(e) => return Err(Failure::after_response_began(Error::Protocol(e))),
            }
        }
        match read_some(reader, buf).await {
            Ok(0) if !received_any => {
                return Err(Failure {
                    error: Error::ServerClosedIdle,
                    nothing_received: true,
                })
            }
            Ok(0) => {
                return Err(Failure::after_response_began(Error::Read(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed the connection in the middle of the response head",
                ))))
            }
            Ok(_) => received_any = true,
            Err(e) => {
                return Err(Failure {
                    error: Error::Read(e),
                    nothing_received: !received_any,
                })
            }
        }
    }
}
