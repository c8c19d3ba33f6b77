//! One connection's life: read a request, run the handler, write the
//! response, and again while keep-alive allows (Go: `conn.serve`).

use crate::body::{Body, ConnBody, Drained};
use crate::conn_header::ConnectionTokens;
use crate::conn_io::{ConnReader, ConnWriter};
use crate::recycle::{self, ConnBuffers};
use crate::request::Request;
use crate::response::ResponseWriter;
use crate::server::{ConnGuard, ConnState, Phase, Shared};
use crate::stream::HeadScan;
use crate::url::parse_request_target_into;
use crate::wire::{self, BodyDecoder, BodyFraming, Limits, RequestHead, WireError};
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, TRANSFER_ENCODING};
use http::{HeaderValue, Method, StatusCode, Version};
use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

/// Unread request body the server will read and throw away after a handler
/// returns, to reach the next request (Go: `maxPostHandlerReadBytes`).
pub const MAX_POST_HANDLER_READ_BYTES: u64 = 256 << 10;

/// How long a closing connection keeps reading (and discarding) what the
/// client still sends, so that our last response is not destroyed by a TCP
/// reset (Go: `rstAvoidanceDelay`, 500 ms).
const LINGER: Duration = Duration::from_millis(500);

/// Serves one connection until it closes (Go: `conn.serve`).
///
/// [`Server::close`](crate::Server::close) drops the connection wherever it
/// is, handler included: that is the `select!` around the request loop. Its
/// watch on the phase also wakes the task on every other phase change,
/// which is how an idle connection learns that shutdown began
/// (`wait_for_bytes`).
pub(crate) async fn serve_conn(shared: Arc<Shared>, stream: TcpStream, guard: ConnGuard) {
    let mut phase = shared.phase.subscribe();
    tokio::select! {
        biased;
        () = serve_requests(&shared, stream, &guard) => {}
        _ = phase.wait_for(|phase| *phase == Phase::Closed) => {}
    }
    // Dropping `guard` reports `Closed` and updates the live count.
}

/// The keep-alive loop: one request and its response per turn.
async fn serve_requests(shared: &Shared, stream: TcpStream, guard: &ConnGuard) {
    let accepted_at = Instant::now();
    // Everything the connection allocates comes from the pool of closed
    // connections when it can (Go: `newBufioReader`; see `recycle.rs`).
    let ConnBuffers {
        read,
        response,
        mut request_slot,
    } = recycle::take_conn_buffers();
    let (read_half, write_half) = stream.into_split();
    let final_head_sent = Arc::new(AtomicBool::new(false));
    let mut reader = ConnReader::new(read_half, read, final_head_sent.clone());
    let mut phase = shared.phase.subscribe();
    // One response writer serves every request of the connection, readied
    // in place for each (`begin_response`) rather than rebuilt and moved.
    let mut w = ResponseWriter::for_conn(
        ConnWriter::new(write_half, final_head_sent.clone(), phase.clone()),
        response,
    );
    let config = &shared.config;
    let limits = Limits {
        max_header_bytes: config.max_header_bytes,
        max_headers: config.max_headers,
        parts: config.part_limits,
    };
    let header_timeout = config.read_header_timeout.or(config.read_timeout);
    let idle_timeout = config.idle_timeout.or(config.read_timeout);
    let mut first_request = true;

    // The loop ends with the connection's reader when it still has it, so
    // that its buffers can go back to the pool.
    let reader_at_end: Option<ConnReader> = loop {
        // Wait for the first byte of the next request, unless it is already
        // buffered (pipelining). A new connection waits under the header
        // timeout, counted from the accept; a kept-alive one under the idle
        // timeout (Go: the `Peek` in `conn.serve`).
        let head_started = if reader.buf.is_empty() {
            let deadline = if first_request {
                header_timeout.map(|t| accepted_at + t)
            } else {
                guard.set_state(ConnState::Idle);
                idle_timeout.map(|t| Instant::now() + t)
            };
            if !wait_for_bytes(&mut reader, &mut phase, deadline, config.shutdown_idle_grace).await {
                break Some(reader);
            }
            if first_request {
                accepted_at
            } else {
                Instant::now()
            }
        } else {
            Instant::now()
        };
        first_request = false;
        guard.set_state(ConnState::Active);

        // Read the head under ReadHeaderTimeout (or ReadTimeout).
        reader.deadline = header_timeout.map(|t| head_started + t);
        let head = read_head(&mut reader, &limits, &mut request_slot.head).await;
        // WriteTimeout starts once the head is read (Go: `readRequest`),
        // for the error answer below as for the handler's response.
        let Some(writer) = w.conn_mut() else { break None };
        writer.start_deadline(config.write_timeout);
        match head {
            Ok(true) => {}
            Ok(false) => break Some(reader), // the client closed, or was too slow sending its head
            Err(e) => {
                tracing::debug!(remote = %guard.info.remote_addr, "bad request: {e}");
                respond_error(writer, &e).await;
                linger_close(&mut reader, writer).await;
                break Some(reader);
            }
        }
        // ReadTimeout covers head and body (Go: `readRequest`).
        reader.deadline = config.read_timeout.map(|t| head_started + t);
        reader.write_deadline = writer.deadline;

        let request = &mut request_slot.request;
        request.remote_addr = guard.info.remote_addr;
        let facts = match fill_request(request, &mut request_slot.head) {
            Ok(facts) => facts,
            Err(e) => {
                tracing::debug!(remote = %guard.info.remote_addr, "bad request: {e}");
                respond_error(writer, &e).await;
                linger_close(&mut reader, writer).await;
                break Some(reader);
            }
        };
        let close_after = facts.wants_close || *phase.borrow() != Phase::Serving;
        final_head_sent.store(false, Ordering::Relaxed);

        // `Expect` other than `100-continue` is refused with 417 (Go:
        // `sendExpectationFailed`); 100-continue matters only in HTTP/1.1
        // with a body.
        if facts.expect == Expect::Other {
            w.begin_response(&request.method, request.version, true);
            w.header().insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            w.write_header(StatusCode::EXPECTATION_FAILED);
            let _ = w.finish().await;
            if let Some(writer) = w.conn_mut() {
                linger_close(&mut reader, writer).await;
            }
            break Some(reader);
        }
        let continue_pending = facts.expect == Expect::Continue
            && request.version == Version::HTTP_11
            && facts.framing != BodyFraming::Empty;

        request.body = Body::from_conn(ConnBody {
            reader,
            decoder: BodyDecoder::new(facts.framing),
            continue_pending,
            error: None,
        });
        w.begin_response(&request.method, request.version, close_after);

        if request.method == Method::OPTIONS && request.target == "*" {
            // `OPTIONS *` asks about the server, not a resource: answered
            // here, before any handler (Go: `serverHandler`, `globalOptionsHandler`).
            w.header().insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            w.write_header(StatusCode::OK);
        } else {
            // Run the handler. A panic is caught here: it is logged and this
            // connection closes, and the server goes on serving the others.
            let served = CatchUnwind(shared.handler.serve_http(&mut w, request)).await;
            if let Err(panic) = served {
                tracing::error!(
                    "http: panic serving {}: {}",
                    guard.info.remote_addr,
                    panic_message(&panic)
                );
                break None;
            }
        }

        // Take the connection back from the body and read what the handler
        // left unread: it must end where its framing says, or the bytes
        // after it could be taken for a request (issue 8).
        let Some(mut body) = request.body.take_conn() else {
            // The handler moved the body away: we lost our place in the stream.
            w.set_close_after();
            let _ = w.finish().await;
            break None;
        };
        let drained = body.finish_reading(MAX_POST_HANDLER_READ_BYTES).await;
        match &drained {
            Drained::Clean => {}
            Drained::Abandoned => w.set_close_after(),
            Drained::Malformed(e) => {
                tracing::debug!(remote = %guard.info.remote_addr, "bad request body: {e}");
                // While the response is still held back it can be replaced,
                // unless the handler already answered with an error itself.
                if w.status().as_u16() < 400 && w.replace_with_error(e.status()) {
                    tracing::debug!("replaced the handler's response with {}", e.status());
                }
                w.set_close_after();
            }
        }
        reader = body.reader;
        let finished = w.finish().await;
        request_slot.reclaim();
        if finished.is_err() {
            break Some(reader);
        }
        if w.must_close() {
            // Lingering protects our last response from a reset when the
            // client may still be sending: we closed on our own initiative
            // (shutdown, an unread body, an error), or bytes of a next
            // request are already here. A client that asked to close and
            // whose request was read to its end sends nothing more (RFC
            // 9112 section 9.6), so the connection simply closes, as Go's
            // and hyper's do.
            let client_is_done =
                facts.wants_close && matches!(drained, Drained::Clean) && reader.buf.is_empty();
            if !client_is_done {
                if let Some(writer) = w.conn_mut() {
                    linger_close(&mut reader, writer).await;
                }
            }
            break Some(reader);
        }
    };

    // The connection is done: its buffers serve the next one (Go: `putBufioReader`).
    if let Some(reader) = reader_at_end {
        recycle::put_conn_buffers(ConnBuffers {
            read: reader.buf,
            response: w.take_buffers(),
            request_slot,
        });
    }
}

/// Waits until the next request's first bytes are in the buffer. False
/// when the connection should close instead: the client closed, the
/// deadline passed, or the server is shutting down (then, after
/// `shutdown_idle_grace`; Go: `closeIdleConns`).
async fn wait_for_bytes(
    reader: &mut ConnReader,
    phase: &mut watch::Receiver<Phase>,
    deadline: Option<Instant>,
    shutdown_idle_grace: Duration,
) -> bool {
    reader.deadline = None;
    loop {
        let deadline = match *phase.borrow_and_update() {
            Phase::Serving => deadline,
            Phase::Draining => {
                let grace_end = Instant::now() + shutdown_idle_grace;
                Some(deadline.map_or(grace_end, |d| d.min(grace_end)))
            }
            Phase::Closed => return false,
        };
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return false;
        }
        tokio::select! {
            biased;
            read = reader.fill() => return matches!(read, Ok(n) if n > 0),
            changed = phase_changed(phase) => if !changed { return false },
            () = sleep_until_or_forever(deadline) => return false,
        }
    }
}

/// Resolves when the server's phase has changed since `phase` last looked
/// (true), or when the server is gone (false).
///
/// It registers no waiter of its own: the task is already woken on every
/// phase change by the watch that `serve_conn` keeps on the phase (to drop
/// the connection on `close`), and on that wake-up this only has to look.
/// Registering and dropping a second waiter on every keep-alive turn
/// (`watch::Receiver::changed`) would cost more than the rest of the wait.
fn phase_changed(phase: &watch::Receiver<Phase>) -> impl Future<Output = bool> + '_ {
    std::future::poll_fn(move |_| match phase.has_changed() {
        Ok(false) => Poll::Pending,
        Ok(true) => Poll::Ready(true),
        Err(_) => Poll::Ready(false),
    })
}

async fn sleep_until_or_forever(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Reads until a whole head is parsed into `head` (`Ok(true)`). `Ok(false)`
/// means close quietly: the client went away or was too slow (Go answers
/// neither). [`HeadScan`] keeps this linear in the head's length.
async fn read_head(
    reader: &mut ConnReader,
    limits: &Limits,
    head: &mut RequestHead,
) -> Result<bool, WireError> {
    let mut scan = HeadScan::default();
    loop {
        if scan.worth_parsing(&reader.buf, limits.max_header_bytes)
            && wire::parse_request_head_into(&mut reader.buf, limits, head)?
        {
            return Ok(true);
        }
        match reader.fill().await {
            Ok(0) | Err(_) => return Ok(false),
            Ok(_) => {}
        }
    }
}

/// What the request's headers tell the server itself, beside what the
/// handler reads.
struct HeaderFacts {
    framing: BodyFraming,
    /// The client asked to close after this request (Go: `wantsClose`).
    wants_close: bool,
    expect: Expect,
}

/// The request's `Expect` header (its first value, as Go reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    None,
    /// `100-continue`: answer `100 Continue` when the handler reads the body.
    Continue,
    /// Any other expectation: refused with 417.
    Other,
}

/// Fills the connection's request from a parsed head (method, target,
/// headers, then Host and URL, refilled in place) and returns the facts the
/// server acts on itself (body framing, close, Expect).
fn fill_request(request: &mut Request, head: &mut RequestHead) -> Result<HeaderFacts, WireError> {
    // One walk over the headers notes those the server acts on itself (as
    // hyper notes them while parsing), rather than one hashed lookup each.
    let mut has_framing_headers = false;
    let mut connection = ConnectionTokens::default();
    let mut expect = Expect::None;
    for (name, value) in &head.headers {
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            has_framing_headers = true;
        } else if name == CONNECTION {
            connection.add(value);
        } else if name == EXPECT && expect == Expect::None {
            expect = if value.as_bytes().eq_ignore_ascii_case(b"100-continue") {
                Expect::Continue
            } else {
                Expect::Other
            };
        }
    }
    // With neither header, a request has no body (RFC 9112 section 6.3).
    let framing = if has_framing_headers {
        wire::request_framing(head)?
    } else {
        BodyFraming::Empty
    };
    let facts = HeaderFacts {
        framing,
        wants_close: connection.close_requested(head.version),
        expect,
    };
    let host_header = wire::host_of(head)?;
    parse_request_target_into(&head.method, &head.target, &mut request.url)
        .map_err(|_| WireError::BadStartLine("invalid URI for request"))?;
    // An absolute-form target's authority wins over Host (RFC 9112 section 3.2.2).
    request.host.clear();
    if request.url.host.is_empty() {
        request.host.push_str(host_header);
    } else {
        request.host.push_str(&request.url.host);
    }
    // The head's map and target become the request's; `RequestSlot::reclaim`
    // hands them back, emptied, after the response.
    request.method = head.method.clone();
    request.version = head.version;
    std::mem::swap(&mut request.target, &mut head.target);
    std::mem::swap(&mut request.headers, &mut head.headers);
    Ok(facts)
}

/// The words Go puts after the status for some errors
/// (`400 Bad Request: missing required Host header`).
fn go_reason(e: &WireError) -> Option<&'static str> {
    match e {
        WireError::BadHost(why) if *why == "missing required Host header" => Some(why),
        WireError::BadHost(why) if *why != "more than one Host header" => Some("malformed Host header"),
        WireError::UnsupportedVersion => Some("unsupported protocol version"),
        _ => None,
    }
}

/// Writes the plain-text error response Go's `conn.serve` writes for a
/// request it could not parse (no Date, `Connection: close`); then the
/// connection closes.
async fn respond_error(writer: &mut ConnWriter, e: &WireError) {
    let status = e.status();
    let status_line = format!("{} {}", status.as_str(), status.canonical_reason().unwrap_or(""));
    let response = match (e, go_reason(e)) {
        // Go words this one differently: the reason goes in the body only.
        (WireError::UnknownTransferCoding, _) => {
            format!("HTTP/1.1 {status_line}{ERROR_HEADERS}Unsupported transfer encoding")
        }
        (_, Some(reason)) => {
            format!("HTTP/1.1 {status_line}: {reason}{ERROR_HEADERS}{status_line}: {reason}")
        }
        (_, None) => format!("HTTP/1.1 {status_line}{ERROR_HEADERS}{status_line}"),
    };
    let _ = writer.write_all(response.as_bytes()).await;
}

/// The headers of [`respond_error`]'s responses (Go: `errorHeaders`).
const ERROR_HEADERS: &str = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";

/// Closes politely: send FIN, then read and discard whatever the client
/// still sends for a short while, so the kernel does not answer those bytes
/// with a reset that could destroy our last response in flight
/// (Go: `closeWriteAndWait`).
async fn linger_close(reader: &mut ConnReader, writer: &mut ConnWriter) {
    let _ = writer.stream.shutdown().await;
    reader.deadline = Some(Instant::now() + LINGER);
    reader.buf.clear();
    while let Ok(n) = reader.fill().await {
        if n == 0 {
            break;
        }
        reader.buf.clear();
    }
}

/// Polls a future and turns a panic inside it into an `Err` (the part of
/// `futures::FutureExt::catch_unwind` we need, written out).
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

fn panic_message(panic: &Box<dyn Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic)")
}
