//! One connection's life: read a request, run the handler, write the
//! response, and again while keep-alive allows (Go: `conn.serve`).

use crate::body::{Body, ConnBody};
use crate::conn_io::{ConnReader, ConnWriter};
use crate::request::Request;
use crate::response::ResponseWriter;
use crate::server::{ConnGuard, ConnState, Phase, Shared};
use crate::url::parse_request_target;
use crate::wire::{self, BodyDecoder, BodyFraming, Limits, RequestHead, WireError};
use http::header::EXPECT;
use http::{StatusCode, Version};
use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
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
pub(crate) async fn serve_conn(shared: Arc<Shared>, stream: TcpStream, guard: ConnGuard) {
    let (read_half, write_half) = stream.into_split();
    let mut reader = ConnReader::new(read_half);
    let mut writer = ConnWriter::new(write_half);
    let mut phase = shared.phase.subscribe();
    let config = &shared.config;
    let limits = Limits {
        max_header_bytes: config.max_header_bytes,
        max_headers: config.max_headers,
    };
    let idle_timeout = config.idle_timeout.or(config.read_timeout);
    let mut first_request = true;

    loop {
        // Between requests: wait for the first byte of the next one, unless
        // it is already buffered (pipelining).
        if !first_request && reader.buf.is_empty() {
            guard.set_state(ConnState::Idle);
            if !wait_for_next_request(&mut reader, &mut phase, idle_timeout, config.shutdown_idle_grace).await
            {
                break;
            }
        }
        first_request = false;

        // Read the head under ReadHeaderTimeout (or ReadTimeout).
        let started = Instant::now();
        reader.deadline = config
            .read_header_timeout
            .or(config.read_timeout)
            .map(|t| started + t);
        let head = match read_head(&mut reader, &limits, &guard).await {
            Ok(Some(head)) => head,
            Ok(None) => break, // the client closed, or timed out while sending its head
            Err(e) => {
                tracing::debug!(remote = %guard.info.remote_addr, "bad request: {e}");
                respond_error(&mut writer, e.status(), go_reason(&e)).await;
                linger_close(reader, writer).await;
                return;
            }
        };
        reader.deadline = config.read_timeout.map(|t| started + t);
        writer.start_deadline(config.write_timeout);

        let (mut request, framing) = match build_request(head, guard.info.remote_addr) {
            Ok(built) => built,
            Err(e) => {
                respond_error(&mut writer, e.status(), go_reason(&e)).await;
                linger_close(reader, writer).await;
                return;
            }
        };
        let continue_pending = expects_continue(&request, framing);
        if request.headers.contains_key(EXPECT) && !continue_pending && framing != BodyFraming::Empty {
            respond_error(&mut writer, StatusCode::EXPECTATION_FAILED, None).await;
            linger_close(reader, writer).await;
            return;
        }
        let close_after = request.wants_close() || *phase.borrow() != Phase::Serving;
        request.body = Body::from_conn(ConnBody {
            reader,
            decoder: BodyDecoder::new(framing),
            continue_pending,
            error: None,
        });
        let mut w = ResponseWriter::for_conn(writer, &request.method, request.version, close_after);

        // Run the handler. A panic is caught here: it is logged and this
        // connection closes, and the server goes on serving the others.
        let handler = shared.handler.clone();
        if let Err(panic) = CatchUnwind(handler.serve_http(&mut w, &mut request)).await {
            tracing::error!(
                "http: panic serving {}: {}",
                guard.info.remote_addr,
                panic_message(&panic)
            );
            return;
        }

        // Take the connection back from the body, reading what the handler
        // left unread, up to a limit.
        let Some(mut body) = request.body.take_conn() else {
            // The handler swapped the body out; we lost our place in the stream.
            let _ = w.finish().await;
            return;
        };
        let body_clean = body.decoder.is_done() || body.discard_rest(MAX_POST_HANDLER_READ_BYTES).await;
        if !body_clean || *phase.borrow() != Phase::Serving {
            w.set_close_after();
        }
        if w.finish().await.is_err() {
            return;
        }
        let must_close = w.must_close();
        let Some(next_writer) = w.into_conn() else { return };
        writer = next_writer;
        reader = body.reader;
        if must_close {
            linger_close(reader, writer).await;
            return;
        }
    }
}

/// Waits for bytes of the next request on an idle keep-alive connection.
/// False when the connection should close instead: the client closed, the
/// idle timeout passed, or the server is shutting down.
async fn wait_for_next_request(
    reader: &mut ConnReader,
    phase: &mut watch::Receiver<Phase>,
    idle_timeout: Option<Duration>,
    shutdown_idle_grace: Duration,
) -> bool {
    reader.deadline = None;
    let idle_deadline = idle_timeout.map(|t| Instant::now() + t);
    loop {
        let deadline = match *phase.borrow_and_update() {
            Phase::Serving => idle_deadline,
            Phase::Draining => {
                let grace_end = Instant::now() + shutdown_idle_grace;
                Some(idle_deadline.map_or(grace_end, |d| d.min(grace_end)))
            }
            Phase::Closed => return false,
        };
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return false;
        }
        tokio::select! {
            read = reader.fill() => return matches!(read, Ok(n) if n > 0),
            _ = sleep_until_or_forever(deadline) => return false,
            changed = phase.changed() => if changed.is_err() { return false },
        }
    }
}

async fn sleep_until_or_forever(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Reads until a whole head is parsed. `Ok(None)` means close quietly:
/// the client went away or was too slow (Go answers neither).
async fn read_head(
    reader: &mut ConnReader,
    limits: &Limits,
    guard: &ConnGuard,
) -> Result<Option<RequestHead>, WireError> {
    let mut active = false;
    loop {
        if !reader.buf.is_empty() && !active {
            guard.set_state(ConnState::Active);
            active = true;
        }
        if let Some(head) = wire::parse_request_head(&mut reader.buf, limits)? {
            return Ok(Some(head));
        }
        match reader.fill().await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
    }
}

/// Turns a parsed head into a Request: URL, Host, body framing.
fn build_request(head: RequestHead, remote_addr: SocketAddr) -> Result<(Request, BodyFraming), WireError> {
    let framing = wire::request_framing(&head)?;
    let host_header = wire::host_of(&head)?.to_owned();
    let url = parse_request_target(&head.method, &head.target)
        .map_err(|_| WireError::BadStartLine("invalid URI for request"))?;
    // An absolute-form target's authority wins over Host (RFC 9112 section 3.2.2).
    let host = if url.host.is_empty() {
        host_header
    } else {
        url.host.clone()
    };
    let request = Request {
        method: head.method,
        target: head.target,
        url,
        version: head.version,
        headers: head.headers,
        host,
        remote_addr,
        body: Body::empty(),
    };
    Ok((request, framing))
}

/// `Expect: 100-continue` on an HTTP/1.1 request with a body.
fn expects_continue(request: &Request, framing: BodyFraming) -> bool {
    request.version == Version::HTTP_11
        && framing != BodyFraming::Empty
        && request
            .headers
            .get(EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// The words Go puts after the status for some errors
/// (`400 Bad Request: missing required Host header`).
fn go_reason(e: &WireError) -> Option<&'static str> {
    match e {
        WireError::BadHost(why) if *why == "missing required Host header" => Some(why),
        WireError::BadHost(why) if *why != "more than one Host header" => Some("malformed Host header"),
        WireError::UnsupportedVersion => Some("unsupported protocol version"),
        WireError::UnknownTransferCoding => Some("Unsupported transfer encoding"),
        _ => None,
    }
}

/// Writes the plain-text error response Go's `conn.serve` writes for a
/// request it could not parse, then the connection closes.
async fn respond_error(writer: &mut ConnWriter, status: StatusCode, reason: Option<&str>) {
    let mut public = format!("{} {}", status.as_str(), status.canonical_reason().unwrap_or(""));
    if let Some(reason) = reason {
        public.push_str(": ");
        public.push_str(reason);
    }
    let response = format!(
        "HTTP/1.1 {public}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n{public}"
    );
    let _ = writer.write_all(response.as_bytes()).await;
}

/// Closes politely: send FIN, then read and discard whatever the client
/// still sends for a short while, so the kernel does not answer those bytes
/// with a reset that could destroy our last response in flight
/// (Go: `closeWriteAndWait`).
async fn linger_close(mut reader: ConnReader, mut writer: ConnWriter) {
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
