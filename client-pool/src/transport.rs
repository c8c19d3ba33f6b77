//! The Transport: sends one request and returns its response, taking the
//! connection from the keyed pool and giving it back after (Go:
//! `http.Transport`, `roundTrip`, `getConn`, `tryPutIdleConn`).
//!
//! The life of a request, with Go's names beside ours:
//!
//! 1. [`Transport::round_trip`] (Go: `Transport.roundTrip`) computes the
//!    [`ConnectKey`] (Go: `connectMethodForRequest`, `connectMethod.key`).
//! 2. `Inner::get_conn` (Go: `getConn`): the most recently used idle
//!    connection of that key, if any is alive (Go: `queueForIdleConn`);
//!    otherwise the request becomes a waiter *and* starts a dial (Go:
//!    `queueForDial`, `dialConnFor`), or, at `max_conns_per_host`, waits
//!    in line for the right to dial (Go: `connsPerHostWait`).
//! 3. The request is written and the response head read on that
//!    connection (Go: `persistConn.roundTrip`). A request body still going
//!    out when the head arrives keeps going, in its own task (Go:
//!    `persistConn.writeLoop`; see `body_writer`).
//! 4. When the response body has been read to its end, the request body
//!    fully written, and keep-alive is allowed, `Inner::put_idle` (Go: `tryPutIdleConn`) gives the
//!    connection to the oldest waiter, or puts it in the idle list.
//! 5. A reused connection that fails before any response byte is retried
//!    once for idempotent requests (Go: `shouldRetryRequest`).

use crate::body::{RequestBody, ResponseBody};
use crate::body_writer::{self, WriteHandle};
use crate::conn::{method_expects_body, BodyState, PersistConn};
use crate::pool::{HostSlot, PoolState, WantConn};
use crate::trace::ClientTrace;
use crate::{ConnectKey, Error, GotConnInfo, TransportConfig};
use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING, USER_AGENT};
use http::{HeaderMap, Method, Version};
use server::wire::{self, BodyDecoder, BodyFraming, Limits};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// A request as the Transport and the Client take it.
pub type Request = http::Request<RequestBody>;
/// A response as the Transport and the Client give it.
pub type Response = http::Response<ResponseBody>;

/// Sends requests over pooled HTTP/1.1 connections (Go: `http.Transport`).
///
/// Cheap to clone; clones share one pool. Safe to use from many tasks.
///
/// ```no_run
/// # async fn demo() -> Result<(), client_pool::Error> {
/// use client_pool::{RequestBody, Transport, TransportConfig};
/// let transport = Transport::new(TransportConfig::default());
/// let req = http::Request::get("http://127.0.0.1:8080/").body(RequestBody::empty()).unwrap();
/// let mut resp = transport.round_trip(req).await?;
/// let body = resp.body_mut().bytes().await?; // read to the end: the connection goes back
/// # let _ = body; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

/// Counters of what the pool did, for demos and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportStats {
    /// Connections dialled successfully.
    pub dials: u64,
    /// Requests served on a connection that had served one before.
    pub reuses: u64,
    /// Connections idle in the pool right now.
    pub idle: usize,
}

pub(crate) struct Inner {
    pub(crate) config: TransportConfig,
    limits: Limits,
    state: Mutex<PoolState>,
    next_conn_id: AtomicU64,
    dials: AtomicU64,
    reuses: AtomicU64,
    /// Ourselves, for the per-host slots and background tasks (which must
    /// not keep the Transport alive: idle connections die with it).
    weak_self: Weak<Inner>,
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new(TransportConfig::default())
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Transport {
    pub fn new(config: TransportConfig) -> Transport {
        let limits = Limits {
            max_header_bytes: config.max_response_header_bytes,
            ..Limits::default()
        };
        Transport {
            inner: Arc::new_cyclic(|weak_self| Inner {
                config,
                limits,
                state: Mutex::new(PoolState::default()),
                next_conn_id: AtomicU64::new(1),
                dials: AtomicU64::new(0),
                reuses: AtomicU64::new(0),
                weak_self: weak_self.clone(),
            }),
        }
    }

    pub fn config(&self) -> &TransportConfig {
        &self.inner.config
    }

    /// What the pool did so far.
    pub fn stats(&self) -> TransportStats {
        TransportStats {
            dials: self.inner.dials.load(Ordering::Relaxed),
            reuses: self.inner.reuses.load(Ordering::Relaxed),
            idle: self.inner.lock().idle_total,
        }
    }

    /// Closes every idle connection (Go: `CloseIdleConnections`).
    /// Connections in use are not touched; they close or come back later.
    pub fn close_idle_connections(&self) {
        let mut discard = Vec::new();
        self.inner.lock().drain_idle(&mut discard);
        tracing::debug!(closed = discard.len(), "closed idle connections");
        drop(discard);
    }

    /// Sends one request and returns the response once its head has
    /// arrived; the body streams from the connection (Go:
    /// `Transport.RoundTrip`). Redirects are not followed: that is the
    /// [`Client`](crate::Client)'s job. Dropping the returned future
    /// cancels the request and closes its connection.
    ///
    /// A streamed request body goes on being sent after this returns (a
    /// server may answer while it still reads, as an echo does), while the
    /// response body is read (Go: `persistConn.writeLoop`). The connection
    /// is reused only once both the request body is written and the
    /// response body read; dropping the response stops the request body.
    ///
    /// The URL must be absolute (`http://host[:port]/path`). A
    /// [`ClientTrace`] in the request's extensions is told how the
    /// connection was obtained; the same [`GotConnInfo`] is put in the
    /// response's extensions.
    pub async fn round_trip(&self, req: Request) -> Result<Response, Error> {
        let (parts, body) = req.into_parts();
        let key = ConnectKey::for_uri(&parts.uri, self.inner.config.proxy.as_ref())?;
        let trace = parts.extensions.get::<ClientTrace>().cloned();
        // Go: Request.isReplayable, and a body we can send again.
        let replay = if is_replayable(&parts.method, &parts.headers) {
            body.try_clone()
        } else {
            None
        };
        let mut body = Some(body);
        let mut retried = false;
        loop {
            let (conn, info) = self.inner.get_conn(&key, retried).await?;
            if info.reused {
                self.inner.reuses.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(trace) = &trace {
                trace.call_got_conn(&info);
            }
            let to_send = match body.take() {
                Some(first) => first,
                None => replay
                    .as_ref()
                    .and_then(RequestBody::try_clone)
                    .unwrap_or_default(),
            };
            match self.exchange(conn, &parts, to_send, &key).await {
                Ok(mut response) => {
                    response.extensions_mut().insert(info);
                    return Ok(response);
                }
                // Go: shouldRetryRequest. Only a reused connection that
                // died before answering is presumed stale (the server
                // closed it while it sat idle); a fresh one failing is a
                // real error.
                Err(failure) if failure.nothing_received && info.reused && !retried && replay.is_some() => {
                    tracing::debug!(key = %key, conn = info.conn_id, error = %failure.error,
                        "reused connection failed before the response; retrying on a new connection");
                    retried = true;
                }
                Err(failure) => return Err(failure.error),
            }
        }
    }

    /// One request on one connection (Go: `persistConn.roundTrip`).
    async fn exchange(
        &self,
        mut conn: PersistConn,
        parts: &http::request::Parts,
        body: RequestBody,
        key: &ConnectKey,
    ) -> Result<Response, Failure> {
        let config = &self.inner.config;
        let request_close = config.disable_keep_alives || server::connection_tokens(&parts.headers).close;
        write_head(conn.head_buf(), parts, &body, key, config, request_close);
        let (head, body_state) = conn
            .send(body.kind, &self.inner.limits, config.response_header_timeout)
            .await
            .map_err(|f| Failure {
                error: f.error,
                nothing_received: f.nothing_received,
            })?;
        let framing = wire::response_framing(&parts.method, &head).map_err(|e| Failure {
            error: Error::Protocol(e),
            nothing_received: false,
        })?;
        conn.requests_served += 1;
        let tokens = server::connection_tokens(&head.headers);
        let response_close = tokens.close || (head.version == Version::HTTP_10 && !tokens.keep_alive);
        let reusable = !request_close
            && !response_close
            && !matches!(body_state, BodyState::Failed)
            && framing != BodyFraming::UntilClose
            && head.status != http::StatusCode::SWITCHING_PROTOCOLS;
        tracing::trace!(conn = conn.id, status = %head.status, reusable, "response head");
        // The server answered before the whole request body was out: the
        // rest goes on in its own task while the response is read (Go:
        // `writeLoop` keeps writing beside `readLoop`).
        let writer = match body_state {
            BodyState::Pending(rest) => Some(WriteHandle::spawn(rest, conn.stream.clone(), conn.id)),
            BodyState::Written | BodyState::Failed => None,
        };
        let body = match framing {
            BodyFraming::Empty | BodyFraming::Length(0) => {
                body_writer::release(conn, reusable, writer, self.inner.clone());
                ResponseBody::empty()
            }
            _ => ResponseBody::from_conn(
                conn,
                BodyDecoder::new(framing),
                reusable,
                writer,
                self.inner.clone(),
            ),
        };
        let mut response = http::Response::new(body);
        *response.status_mut() = head.status;
        *response.version_mut() = head.version;
        *response.headers_mut() = head.headers;
        Ok(response)
    }
}

/// A failed attempt, and whether it may be retried.
struct Failure {
    error: Error,
    nothing_received: bool,
}

/// Go: `Request.isReplayable`: safe methods, or a request carrying an
/// idempotency key.
fn is_replayable(method: &Method, headers: &HeaderMap) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) || headers.contains_key("idempotency-key")
        || headers.contains_key("x-idempotency-key")
}

/// Serialises the request head (Go: `Request.write`): the request line,
/// Host, User-Agent, the caller's fields, and the framing we choose
/// ourselves (the caller's Content-Length/Transfer-Encoding are ignored,
/// as Go ignores them in `Request.Header`).
fn write_head(
    out: &mut Vec<u8>,
    parts: &http::request::Parts,
    body: &RequestBody,
    key: &ConnectKey,
    config: &TransportConfig,
    close: bool,
) {
    let target: std::borrow::Cow<'_, str> = if key.proxy.is_some() {
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

impl Inner {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // A panic elsewhere cannot leave the pool's lists half-updated in a
        // way that matters more than refusing service: keep going.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn next_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Gets a connection for `key` (Go: `Transport.getConn`). With `fresh`
    /// (a retry), the idle list is skipped: a new dial serves it, unless
    /// the per-host limit is reached, when a returned connection may too.
    async fn get_conn(
        self: &Arc<Self>,
        key: &ConnectKey,
        fresh: bool,
    ) -> Result<(PersistConn, GotConnInfo), Error> {
        loop {
            match self.idle_or_queue(key, fresh) {
                Step::Idle(conn, taken_at) => {
                    if !conn.is_usable() {
                        // The server closed it while idle: it leaves the
                        // pool (dropped here); look again.
                        continue;
                    }
                    let idle_time = conn
                        .idle_since
                        .map(|at| taken_at.saturating_duration_since(at))
                        .unwrap_or_default();
                    tracing::trace!(key = %key, conn = conn.id, ?idle_time, "reusing idle connection");
                    let info = got_conn_info(&conn, true, idle_time);
                    return Ok((conn, info));
                }
                Step::Wait(mut waiting) => {
                    let conn = waiting.wait().await?;
                    let info = got_conn_info(&conn, false, Duration::ZERO);
                    return Ok((conn, info));
                }
            }
        }
    }

    /// The locked part of `get_conn`: take the most recent idle connection
    /// (Go: `queueForIdleConn`), or register as a waiter and start a dial
    /// or queue for the right to dial (Go: `queueForDial`).
    fn idle_or_queue(self: &Arc<Self>, key: &ConnectKey, fresh: bool) -> Step {
        let config = &self.config;
        let mut discard = Vec::new();
        let mut state = self.lock();
        if !fresh && !config.disable_keep_alives {
            let now = Instant::now();
            if let Some(conn) = state.take_idle(key, config.idle_conn_timeout, now, &mut discard) {
                return Step::Idle(conn, now);
            }
        }
        let (want, rx) = WantConn::new();
        let limit = config.max_conns_per_host;
        let at_limit = limit > 0 && state.conns_per_host.get(key).copied().unwrap_or(0) >= limit;
        if (!fresh || at_limit) && !config.disable_keep_alives {
            PoolState::enqueue(&mut state.idle_waiters, key, want.clone());
        }
        if at_limit {
            tracing::trace!(key = %key, limit, "at max_conns_per_host: waiting");
            PoolState::enqueue(&mut state.dial_waiters, key, want.clone());
        } else {
            let slot = if limit > 0 {
                *state.conns_per_host.entry(key.clone()).or_insert(0) += 1;
                Some(self.host_slot(key))
            } else {
                None
            };
            self.spawn_dial(key.clone(), want.clone(), slot);
        }
        drop(state);
        Step::Wait(Waiting {
            want,
            rx,
            transport: self.clone(),
            key: key.clone(),
        })
    }

    fn host_slot(&self, key: &ConnectKey) -> HostSlot {
        HostSlot {
            transport: self.weak_self.clone(),
            key: key.clone(),
        }
    }

    /// Starts a dial for `want` (Go: `go t.dialConnFor(w)`). The new
    /// connection serves `want` if it still waits; otherwise it goes to
    /// the pool, where another waiter may take it.
    fn spawn_dial(self: &Arc<Self>, key: ConnectKey, want: Arc<WantConn>, slot: Option<HostSlot>) {
        let transport = self.clone();
        tokio::spawn(async move {
            let id = transport.next_id();
            match PersistConn::dial(id, &key, &transport.config).await {
                Ok(mut conn) => {
                    transport.dials.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(key = %key, conn = id, local = ?conn.local_addr, "dialled");
                    conn.slot = slot;
                    if let Some(conn) = want.try_deliver(conn) {
                        // The waiter was served by a returned connection
                        // first, or gave up: this one goes to the pool.
                        transport.put_idle(conn);
                    }
                }
                Err(e) => {
                    tracing::debug!(key = %key, error = %e, "dial failed");
                    drop(slot);
                    want.deliver_error(e);
                }
            }
        });
    }

    /// A connection is free again (Go: `tryPutIdleConn`): the oldest live
    /// waiter gets it; else it becomes idle, unless the key's idle list is
    /// full; the total limit evicts the oldest idle connection.
    pub(crate) fn put_idle(&self, mut conn: PersistConn) {
        if self.config.disable_keep_alives || self.config.max_idle_conns_per_host == 0 {
            return;
        }
        let mut discard = Vec::new();
        let mut state = self.lock();
        if let Some(queue) = state.idle_waiters.get_mut(&conn.key) {
            while let Some(want) = queue.pop_front() {
                match want.try_deliver(conn) {
                    None => {
                        return;
                    }
                    Some(back) => conn = back,
                }
            }
            state.idle_waiters.remove(&conn.key);
        }
        state.push_idle(
            conn,
            self.config.max_idle_conns_per_host,
            self.config.max_idle_conns,
            &mut discard,
        );
        if let (Some(timeout), false) = (self.config.idle_conn_timeout, state.reaper_running) {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                state.reaper_running = true;
                runtime.spawn(reap_idle(self.weak_self.clone(), timeout));
            }
        }
        drop(state);
        if !discard.is_empty() {
            tracing::debug!(closed = discard.len(), "idle list full: closing connection");
        }
    }

    /// A connection of `key` closed, or its dial failed (Go:
    /// `decConnsPerHost`): the right to dial passes to the first live
    /// waiter in line, else the count goes down.
    pub(crate) fn release_host_slot(&self, key: &ConnectKey) {
        let mut state = self.lock();
        let runtime = tokio::runtime::Handle::try_current().ok();
        let transport = self.weak_self.upgrade();
        if let (Some(runtime), Some(transport)) = (runtime, transport) {
            while let Some(want) = state.dial_waiters.get_mut(key).and_then(|q| q.pop_front()) {
                if want.is_waiting() {
                    let slot = self.host_slot(key);
                    let _guard = runtime.enter();
                    transport.spawn_dial(key.clone(), want, Some(slot));
                    return;
                }
            }
        }
        state.dial_waiters.remove(key);
        if let Some(count) = state.conns_per_host.get_mut(key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                state.conns_per_host.remove(key);
            }
        }
    }
}

/// Closes idle connections as they pass `idle_conn_timeout` (Go arms a
/// timer per idle connection; one task sleeping until the next expiry
/// does the same job). Ends when the pool has no idle connection left.
async fn reap_idle(transport: Weak<Inner>, timeout: Duration) {
    loop {
        let next = {
            let Some(inner) = transport.upgrade() else { return };
            let mut discard = Vec::new();
            let mut state = inner.lock();
            let next = state.prune_expired(timeout, Instant::now(), &mut discard);
            if next.is_none() {
                state.reaper_running = false;
            }
            drop(state);
            if !discard.is_empty() {
                tracing::debug!(
                    closed = discard.len(),
                    "closed idle connections past idle_conn_timeout"
                );
            }
            next
        };
        match next {
            Some(at) => tokio::time::sleep_until(at.into()).await,
            None => return,
        }
    }
}

fn got_conn_info(conn: &PersistConn, was_idle: bool, idle_time: Duration) -> GotConnInfo {
    GotConnInfo {
        reused: conn.requests_served > 0,
        was_idle,
        idle_time,
        conn_id: conn.id,
        local_addr: conn.local_addr,
        remote_addr: conn.remote_addr,
    }
}

/// What the locked part of `get_conn` found. (The connection is moved
/// once, straight to its caller: boxing it would cost an allocation per
/// request for nothing.)
#[allow(clippy::large_enum_variant)]
enum Step {
    Idle(PersistConn, Instant),
    Wait(Waiting),
}

/// A request waiting in the queues. Dropping it (the request was
/// cancelled) takes it out of the running; a connection delivered in the
/// same instant goes back to the pool rather than being lost.
struct Waiting {
    want: Arc<WantConn>,
    rx: oneshot::Receiver<crate::pool::Delivery>,
    transport: Arc<Inner>,
    key: ConnectKey,
}

impl Waiting {
    async fn wait(&mut self) -> Result<PersistConn, Error> {
        match (&mut self.rx).await {
            Ok(delivery) => delivery,
            Err(_) => Err(Error::Dial {
                addr: self.key.dial_addr().to_owned(),
                source: std::io::Error::other("the dial task ended without a result"),
            }),
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.want.cancel();
        if let Ok(Ok(conn)) = self.rx.try_recv() {
            self.transport.put_idle(conn);
        }
    }
}
