//! One connection's life: read a request, run the handler, write the
//! response, and again while keep-alive allows (Go: `conn.serve`,
//! server.go:1842).
//!
//! [`Conn::serve`] is the loop, and reads like Go's: each turn waits for a
//! request, reads it, serves it and finishes it, and every way out of the
//! loop is one line saying why. The steps are `Conn`'s methods, named after
//! Go's: `read_request` (`conn.readRequest`, server.go:965),
//! `finish_request` (`response.finishRequest`, server.go:1646),
//! `close_write_and_wait` (`conn.closeWriteAndWait`, server.go:1754),
//! `set_state` (`conn.setState`, server.go:1778).
//!
//! What is not Go's shape is kept out of the loop: the request refilled in
//! place and the buffers recycled between connections are `recycle.rs`
//! (a `Conn` hands its buffers back when it is dropped); the reads that
//! shutdown cuts short are [`ShutdownWatch`], and its wait for the server's
//! phase is [`phase_changed`], with the measurement that decided it.

use crate::body::{Body, ConnBody, Drained};
use crate::config::Config;
use crate::conn_io::{self, ConnReader};
use crate::handler::Handler;
use crate::lifecycle::{ConnState, Phase, TrackedConn, Tracker};
use crate::net_conn::NetConn;
use crate::recycle::{Expect, HeaderFacts, PooledBuffers, RequestSlot};
use crate::response::ResponseWriter;
use crate::stream::HeadScan;
use crate::tls::TlsInfo;
use crate::wire::{self, BodyFraming, HostError, Limits, RequestHead, WireError};
use http::header::CONTENT_LENGTH;
use http::{HeaderValue, Method, StatusCode, Version};
use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Unread request body the server will read and throw away after a handler
/// returns, to reach the next request (Go: `maxPostHandlerReadBytes`,
/// server.go:1102).
pub const MAX_POST_HANDLER_READ_BYTES: u64 = 256 << 10;

/// How long a closing connection keeps reading (and discarding) what the
/// client still sends, so that our last response is not destroyed by a TCP
/// reset (Go: `rstAvoidanceDelay`, server.go:1740).
pub(crate) const LINGER: Duration = Duration::from_millis(500);

/// What a server and each of its connections share (Go: `conn.server`,
/// server.go:256, the `*Server` every `conn` points to).
pub(crate) struct Shared {
    pub config: Config,
    pub handler: Arc<dyn Handler>,
    pub tracker: Arc<Tracker>,
}

/// Serves one connection until it closes (the task Go starts with
/// `go c.serve(connCtx)`, server.go:3102). `tls` is the session's state
/// when the connection is TLS, its handshake done.
///
/// [`Server::close`](crate::Server::close) drops the connection wherever it
/// is, handler included: that is the `select!` around [`Conn::serve`].
/// Its watch on the phase ([`server_closed`]) also wakes the task on every
/// other phase change,
/// which is how an idle connection learns that shutdown began (see
/// [`phase_changed`]).
pub(crate) async fn serve_conn(
    shared: Arc<Shared>,
    stream: NetConn,
    tracked: TrackedConn,
    tls: Option<Box<TlsInfo>>,
) {
    let mut conn = Conn::new(&shared, stream, &tracked, tls);
    tokio::select! {
        biased;
        () = conn.serve() => {}
        () = server_closed(&shared.tracker) => {}
    }
    conn.close();
    // Dropping `conn` hands its buffers to the pool and closes the socket;
    // dropping `tracked` reports `Closed` and updates the live count.
}

/// One accepted connection (Go: `conn`, server.go:253).
struct Conn<'s> {
    config: &'s Config,
    handler: &'s dyn Handler,
    tracked: &'s TrackedConn,
    /// The connection's one response writer, readied for each response.
    w: ResponseWriter,
    /// Everything the connection allocates, from the pool of closed
    /// connections, and back to it when the connection is dropped. Its
    /// request slot holds the request, refilled in place for each one,
    /// whose body holds the connection's reader (see [`ConnBody`]).
    bufs: PooledBuffers,
    shutdown: ShutdownWatch<'s>,
    limits: Limits,
    accepted_at: Instant,
}

/// Why [`Conn::read_request`] found no request to serve.
enum ReadError {
    /// Close without a word: the client went away, or was too slow
    /// sending its head (Go answers neither).
    Quiet,
    /// The head is malformed: answer with its status, then close.
    Bad(WireError),
}

/// How [`Conn::finish_request`] leaves the connection.
enum Next {
    /// Read the next request.
    KeepAlive,
    /// Close now.
    Close,
    /// Close, but first let the client's last bytes arrive (see
    /// [`Conn::close_write_and_wait`]).
    CloseAndLinger,
}

impl<'s> Conn<'s> {
    fn new(shared: &'s Shared, stream: NetConn, tracked: &'s TrackedConn, tls: Option<Box<TlsInfo>>) -> Self {
        // Everything the connection allocates comes from the pool of closed
        // connections when it can (Go: `newBufioReader`, server.go:823).
        let mut bufs = PooledBuffers::take();
        let response = std::mem::take(&mut bufs.response);
        let (reader, writer) = conn_io::halves(stream, shared.tracker.clone());
        bufs.slot.request.body = Body::from_conn(ConnBody::new(reader));
        // Set for every connection: the request may come from the pool,
        // filled by another connection.
        bufs.slot.request.tls = tls;
        let config = &shared.config;
        Conn {
            config,
            handler: &*shared.handler,
            tracked,
            bufs,
            w: ResponseWriter::for_conn(writer, response),
            shutdown: ShutdownWatch::new(&shared.tracker, config.shutdown_idle_grace),
            limits: Limits {
                max_header_bytes: config.max_header_bytes,
                max_headers: config.max_headers,
                parts: config.part_limits,
            },
            accepted_at: Instant::now(),
        }
    }

    /// The keep-alive loop: one request and its response per turn
    /// (Go: `conn.serve`, server.go:1842).
    async fn serve(&mut self) {
        let mut first_request = true;
        loop {
            let Some(started) = self.wait_for_request(first_request).await else {
                return; // the client closed, was idle too long, or shutdown began
            };
            first_request = false;
            let facts = match self.read_request(started).await {
                Ok(facts) => facts,
                Err(ReadError::Quiet) => return,
                Err(ReadError::Bad(e)) => return self.reject(&e).await,
            };
            if facts.expect == Expect::Other {
                return self.send_expectation_failed().await;
            }
            if !self.serve_one().await {
                return; // the handler panicked or took the body away
            }
            match self.finish_request(&facts).await {
                Next::KeepAlive => {}
                Next::Close => return,
                Next::CloseAndLinger => return self.close_write_and_wait().await,
            }
        }
    }

    /// Reports a state change (Go: `conn.setState`, server.go:1778).
    fn set_state(&self, state: ConnState) {
        self.tracked.set_state(state);
    }

    /// The connection's reader; `None` once a handler moved the request's
    /// body, which holds it, away.
    fn reader(&mut self) -> Option<&mut ConnReader> {
        self.bufs.slot.request.body.on_conn().map(ConnBody::reader)
    }

    /// Waits for the first byte of the next request, unless it is already
    /// buffered (pipelining), and returns when the request started, or
    /// `None` when the connection should close instead (Go: the `Peek` at
    /// the end of `conn.serve`, server.go:2017). A new connection waits
    /// under the header timeout, counted from the accept; a kept-alive one,
    /// idle meanwhile, under the idle timeout.
    async fn wait_for_request(&mut self, first_request: bool) -> Option<Instant> {
        let config = self.config;
        let buffered = !self.reader()?.buffered().is_empty();
        if buffered {
            return Some(self.request_started());
        }
        let deadline = if first_request {
            let header_timeout = config.read_header_timeout.or(config.read_timeout);
            header_timeout.map(|t| self.accepted_at + t)
        } else {
            self.set_state(ConnState::Idle);
            let idle_timeout = config.idle_timeout.or(config.read_timeout);
            idle_timeout.map(|t| Instant::now() + t)
        };
        let reader = self.bufs.slot.request.body.on_conn()?.reader();
        if !self.shutdown.fill_idle(reader, deadline).await {
            return None;
        }
        Some(if first_request {
            self.accepted_at
        } else {
            self.request_started()
        })
    }

    /// Now, as the time a request started, which ReadHeaderTimeout and
    /// ReadTimeout count from. A speed trick: a server that sets neither
    /// never looks at it, so it does not read the clock for it and gets the
    /// time of the accept instead: 20 instructions per keep-alive request
    /// (6 563 -> 6 543; callgrind, `benches/instructions.sh`), and a clock read.
    fn request_started(&self) -> Instant {
        let config = self.config;
        if config.read_header_timeout.is_none() && config.read_timeout.is_none() {
            self.accepted_at
        } else {
            Instant::now()
        }
    }

    /// Reads the next request's head and fills the connection's request
    /// from it (Go: `conn.readRequest`, server.go:965). `started` is when
    /// its first byte came: ReadHeaderTimeout and ReadTimeout count from it.
    async fn read_request(&mut self, started: Instant) -> Result<HeaderFacts, ReadError> {
        let config = self.config;
        let header_timeout = config.read_header_timeout.or(config.read_timeout);
        self.set_state(ConnState::Active);

        let RequestSlot { head, request } = &mut self.bufs.slot;
        let reader = request.body.on_conn().ok_or(ReadError::Quiet)?.reader();
        let header_deadline = header_timeout.map(|t| started + t);
        let parsed = read_head(reader, &mut self.shutdown, header_deadline, &self.limits, head).await;
        // WriteTimeout starts once the head is read, for the error answer
        // as for the handler's response (Go: server.go:984).
        let writer = self.w.conn_mut().ok_or(ReadError::Quiet)?;
        writer.begin_response(config.write_timeout);
        let write_deadline = writer.deadline();
        match parsed {
            Ok(true) => {}
            Ok(false) => return Err(ReadError::Quiet),
            Err(e) => return Err(ReadError::Bad(e)),
        }
        // ReadTimeout covers head and body (Go: server.go:979).
        reader.set_read_deadline(config.read_timeout.map(|t| started + t));
        reader.set_write_deadline(write_deadline);

        request.remote_addr.clone_from(&self.tracked.info.remote_addr);
        let facts = self.bufs.slot.fill().map_err(ReadError::Bad)?;
        // `Expect` other than `100-continue` is refused (Go: server.go:1971);
        // 100-continue matters only in HTTP/1.1 with a body.
        let request = &mut self.bufs.slot.request;
        let continue_pending = facts.expect == Expect::Continue
            && request.version == Version::HTTP_11
            && facts.framing != BodyFraming::Empty;
        if let Some(body) = request.body.on_conn() {
            body.begin(facts.framing, continue_pending);
        }
        let close_after = facts.wants_close || self.shutdown.began();
        self.w
            .begin_response(&request.method, request.version, close_after);
        Ok(facts)
    }

    /// Runs the handler on the request read (Go: `serverHandler.ServeHTTP`,
    /// server.go:2926). False when the connection cannot go on: the handler
    /// panicked (logged, and only this connection closes, as in Go), or
    /// moved the request's body away, taking the connection's reader with it.
    async fn serve_one(&mut self) -> bool {
        let request = &mut self.bufs.slot.request;
        if request.method == Method::OPTIONS && request.target == "*" {
            // `OPTIONS *` asks about the server, not a resource: answered
            // here, before any handler (Go: `globalOptionsHandler`, server.go:2932).
            self.w
                .header()
                .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            self.w.write_header(StatusCode::OK);
        } else if let Err(panic) = CatchUnwind(self.handler.serve_http(&mut self.w, request)).await {
            tracing::error!(
                "http: panic serving {}: {}",
                self.tracked.info.remote_addr,
                panic_message(&panic)
            );
            return false;
        }
        if self.bufs.slot.request.body.on_conn().is_none() {
            // We lost our place in the stream: answer, then close.
            self.w.set_close_after();
            let _ = self.w.finish().await;
            return false;
        }
        true
    }

    /// Ends the request after the handler returned (Go:
    /// `response.finishRequest`, server.go:1646): reads what the handler
    /// left of the body, sends the rest of the response, hands the
    /// request's parts back for the next one, and says whether the
    /// connection goes on (Go: `shouldReuseConnection`, server.go:1671).
    /// The response waits for the body to be read, at most
    /// `Config::post_handler_read_timeout` once the body has to come from
    /// the socket; after that it goes out with `Connection: close`.
    async fn finish_request(&mut self, facts: &HeaderFacts) -> Next {
        // The body must end where its framing says, or the bytes after it
        // could be taken for a request (request smuggling, RFC 9112
        // section 11.2).
        let drained = match self.bufs.slot.request.body.on_conn() {
            Some(body) => {
                let wait = self.config.post_handler_read_timeout;
                body.finish_reading(MAX_POST_HANDLER_READ_BYTES, wait).await
            }
            None => return Next::Close,
        };
        match &drained {
            Drained::Clean => {}
            Drained::Abandoned => self.w.set_close_after(),
            Drained::Malformed(e) => {
                tracing::debug!(remote = %self.tracked.info.remote_addr, "bad request body: {e}");
                // While the response is still held back it can be replaced,
                // unless the handler already answered with an error itself.
                if self.w.status().as_u16() < 400 && self.w.replace_with_error(e.status()) {
                    tracing::debug!("replaced the handler's response with {}", e.status());
                }
                self.w.set_close_after();
            }
        }
        let finished = self.w.finish().await;
        self.bufs.slot.reclaim();
        if finished.is_err() {
            return Next::Close;
        }
        if !self.w.must_close() {
            return Next::KeepAlive;
        }
        // Lingering protects our last response from a reset when the client
        // may still be sending: we closed on our own initiative (shutdown,
        // an unread body, an error), or bytes of a next request are already
        // here. A client that asked to close and whose request was read to
        // its end sends nothing more (RFC 9112 section 9.6), so the
        // connection simply closes, as Go's and hyper's do.
        let nothing_pending = self.reader().is_some_and(|r| r.buffered().is_empty());
        if facts.wants_close && matches!(drained, Drained::Clean) && nothing_pending {
            Next::Close
        } else {
            Next::CloseAndLinger
        }
    }

    /// Answers a request whose head could not be read with Go's plain-text
    /// error, then closes (Go: the error cases of `conn.serve`, server.go:1921).
    async fn reject(&mut self, e: &WireError) {
        tracing::debug!(remote = %self.tracked.info.remote_addr, "bad request: {e}");
        if let Some(writer) = self.w.conn_mut() {
            let _ = writer.write_all(error_response(e).as_bytes()).await;
        }
        self.close_write_and_wait().await;
    }

    /// Refuses an `Expect` other than `100-continue` with 417, then closes
    /// (Go: `response.sendExpectationFailed`, server.go:2025).
    async fn send_expectation_failed(&mut self) {
        let request = &self.bufs.slot.request;
        self.w.begin_response(&request.method, request.version, true);
        self.w
            .header()
            .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        self.w.write_header(StatusCode::EXPECTATION_FAILED);
        let _ = self.w.finish().await;
        self.close_write_and_wait().await;
    }

    /// The last step of every connection, however it ended (Go:
    /// `conn.close`, server.go:1728, which closes the `*tls.Conn`, and so
    /// sends close_notify first): a TLS session says close_notify, so that
    /// the client can tell our end from a cut connection (RFC 8446 section
    /// 6.1). Without waiting: the alert goes out only if the socket takes
    /// it at once, which it does unless the client stopped reading. A
    /// plain socket has nothing to say; dropping it closes it.
    fn close(&mut self) {
        if let Some(writer) = self.w.conn_mut() {
            writer.close_notify_now();
        }
    }

    /// Closes politely: send FIN, then read and discard whatever the client
    /// still sends for a short while, so the kernel does not answer those
    /// bytes with a reset that could destroy our last response in flight
    /// (Go: `conn.closeWriteAndWait`, server.go:1754).
    async fn close_write_and_wait(&mut self) {
        let linger_end = Instant::now() + LINGER;
        if let Some(writer) = self.w.conn_mut() {
            writer.close_write(linger_end).await;
        }
        if let Some(reader) = self.reader() {
            reader.set_read_deadline(Some(linger_end));
            reader.discard_until_eof().await;
        }
    }
}

impl Drop for Conn<'_> {
    /// The connection is done: the buffers it borrowed go back into its
    /// [`PooledBuffers`], which then returns to the pool (Go:
    /// `conn.finalFlush`, server.go:1710). Its read buffer goes back to
    /// its own pool when the reader is dropped (see `conn_io.rs`).
    fn drop(&mut self) {
        self.bufs.response = self.w.take_buffers();
    }
}

/// A connection's watch on the server's phase, for the reads of a
/// connection that has no complete request head: waiting for the first
/// bytes of its next request, or for the rest of a head.
///
/// Shutdown counts such a connection as idle and closes it (Go:
/// `closeIdleConns`, server.go:2834, closes a `StateIdle` connection at
/// once and counts a `StateNew` one as idle after 5 s). Ours is closed once
/// `shutdown_idle_grace` has passed since the connection saw the drain
/// begin: the grace protects a request already on the wire, and it is
/// counted once, so bytes trickling in do not extend it. A client that
/// sent `GET /x HT` and stopped would otherwise hold the shutdown (and the
/// old process of a graceful restart) until its timeout.
struct ShutdownWatch<'s> {
    tracker: &'s Tracker,
    phase: watch::Receiver<Phase>,
    /// `Config::shutdown_idle_grace`.
    grace: Duration,
    /// When the grace ends, fixed the first time the drain is seen.
    grace_end: Option<Instant>,
}

impl<'s> ShutdownWatch<'s> {
    fn new(tracker: &'s Tracker, grace: Duration) -> Self {
        ShutdownWatch {
            tracker,
            phase: tracker.phase.subscribe(),
            grace,
            grace_end: None,
        }
    }

    /// True once shutdown (or close) has begun.
    fn began(&self) -> bool {
        self.tracker.shutting_down()
    }

    /// Reads more bytes into `reader`'s buffer, for a connection with no
    /// complete request head, by `deadline` if there is one. False when the
    /// connection should close instead: the client closed, the deadline
    /// passed, or the server is shutting down and the grace is over (or it
    /// closed).
    async fn fill_idle(&mut self, reader: &mut ConnReader, deadline: Option<Instant>) -> bool {
        loop {
            // The watch is read (and marked seen) only once shutdown began:
            // until then the flag says `Serving` without taking its lock.
            let phase = match self.tracker.shutting_down() {
                false => Phase::Serving,
                true => *self.phase.borrow_and_update(),
            };
            let deadline = match phase {
                Phase::Serving => deadline,
                Phase::Draining => {
                    let grace = self.grace;
                    let grace_end = *self.grace_end.get_or_insert_with(|| Instant::now() + grace);
                    Some(deadline.map_or(grace_end, |d| d.min(grace_end)))
                }
                Phase::Closed => return false,
            };
            if deadline.is_some_and(|d| d <= Instant::now()) {
                return false;
            }
            // The read fails with `TimedOut` at the deadline.
            reader.set_read_deadline(deadline);
            tokio::select! {
                biased;
                read = reader.fill_when_readable() => return matches!(read, Ok(n) if n > 0),
                changed = phase_changed(&self.phase) => if !changed { return false },
            }
        }
    }
}

/// Resolves when the server's phase has changed since `phase` last looked
/// (true), or when the server is gone (false).
///
/// A speed trick: it registers no waiter of its own. The task is already
/// woken on every phase change by the watch that [`server_closed`] keeps on
/// the phase (to drop the connection on `close`), and on that wake-up this
/// only has to look. Registering and dropping a second waiter on every
/// keep-alive turn (`watch::Receiver::changed`) costs more than the rest of
/// the wait: measured with callgrind (`benches/instructions.sh`, 64
/// keep-alive connections), 7569 instructions per request with that real
/// waiter against 7111 without, 6.4%; on one request per connection the
/// two do not differ (14247 and 14256). So the trick stays, and its
/// invariant (a waiter in the same task is woken by every phase change) is
/// tested: `tests/lifecycle.rs`,
/// `an_idle_connection_is_woken_by_shutdown_and_closed_after_the_grace`
/// and `shutdown_lets_the_in_flight_request_finish_and_closes_the_rest`
/// time out if an idle connection is no longer woken by shutdown.
fn phase_changed(phase: &watch::Receiver<Phase>) -> impl Future<Output = bool> + '_ {
    std::future::poll_fn(move |_| match phase.has_changed() {
        Ok(false) => Poll::Pending,
        Ok(true) => Poll::Ready(true),
        Err(_) => Poll::Ready(false),
    })
}

/// Resolves when the server closes (`Server::close`); meanwhile it wakes
/// the task on every phase change (see [`phase_changed`]).
///
/// A speed trick: the watch is polled once, to register the task's waker,
/// and then only once shutdown has begun. Polling it on every wake-up of
/// the connection, as `select!` does, cost 184 instructions and 1.3 L1
/// data misses per keep-alive request (7 540 -> 7 356 and 48.2 -> 46.9,
/// 256 connections; callgrind, `benches/instructions.sh -C`, same run):
/// the watch's waiter, re-polled, lives in a cache line of its own. The
/// flag it checks instead is [`Tracker::shutting_down`], set before any
/// phase change is sent. Tokio gives a spawned task
/// one waker for its whole life (the task's header), so the registration
/// of the first poll stands until the watch wakes it.
async fn server_closed(tracker: &Tracker) {
    let mut phase = tracker.phase.subscribe();
    let mut closed = std::pin::pin!(phase.wait_for(|phase| *phase == Phase::Closed));
    let mut registered = false;
    std::future::poll_fn(|cx| {
        if registered && !tracker.shutting_down() {
            return Poll::Pending;
        }
        registered = true;
        closed.as_mut().poll(cx).map(|_| ())
    })
    .await
}

/// Reads until a whole head is parsed into `head` (`Ok(true)`), by
/// `deadline` if there is one. `Ok(false)` means close quietly: the client
/// went away or was too slow (Go answers neither), or shutdown began and
/// the head is still incomplete after the grace (see [`ShutdownWatch`]).
/// [`HeadScan`] keeps this linear in the head's length.
async fn read_head(
    reader: &mut ConnReader,
    shutdown: &mut ShutdownWatch<'_>,
    deadline: Option<Instant>,
    limits: &Limits,
    head: &mut RequestHead,
) -> Result<bool, WireError> {
    let mut scan = HeadScan::default();
    loop {
        if scan.worth_parsing(reader.buffered(), limits.max_header_bytes)
            && wire::parse_request_head_into(reader.buffer_mut(), limits, head)?
        {
            return Ok(true);
        }
        if !shutdown.fill_idle(reader, deadline).await {
            return Ok(false);
        }
    }
}

/// The words Go puts after the status for some errors
/// (`400 Bad Request: missing required Host header`; Go: the `statusError`, server.go:1811s
/// of `conn.readRequest`, server.go:1003-1015).
fn go_reason(e: &WireError) -> Option<&'static str> {
    match e {
        WireError::BadHost(HostError::Missing) => Some("missing required Host header"),
        WireError::BadHost(HostError::Repeated) => None,
        WireError::BadHost(HostError::NotAscii | HostError::Malformed | HostError::Empty) => {
            Some("malformed Host header")
        }
        WireError::UnsupportedVersion => Some("unsupported protocol version"),
        _ => None,
    }
}

/// The plain-text error response Go's `conn.serve` writes for a request it
/// could not parse (no Date, `Connection: close`; server.go:1921-1960).
fn error_response(e: &WireError) -> String {
    let status = e.status();
    let status_line = format!("{} {}", status.as_str(), status.canonical_reason().unwrap_or(""));
    match (e, go_reason(e)) {
        // Go's server lets `GET *` through and its ServeMux answers 400
        // with no body (`ServeMux.ServeHTTP`, server.go:2479); we refuse it before any handler,
        // with the same answer, so a client sees no difference.
        (WireError::AsteriskForm, _) => {
            "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".to_owned()
        }
        // Go words this one differently: the reason goes in the body only.
        (WireError::UnknownTransferCoding, _) => {
            format!("HTTP/1.1 {status_line}{ERROR_HEADERS}Unsupported transfer encoding")
        }
        (_, Some(reason)) => {
            format!("HTTP/1.1 {status_line}: {reason}{ERROR_HEADERS}{status_line}: {reason}")
        }
        (_, None) => format!("HTTP/1.1 {status_line}{ERROR_HEADERS}{status_line}"),
    }
}

/// The headers of [`error_response`]'s responses (Go: `errorHeaders`,
/// server.go:1922).
const ERROR_HEADERS: &str = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";

/// Polls a future and turns a panic inside it into an `Err` (the part of
/// `futures::FutureExt::catch_unwind` we need, written out; Go: the
/// `recover` deferred in `conn.serve`, server.go:1847).
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
