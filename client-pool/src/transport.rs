//! The Transport: sends one request and returns its response, taking the
//! connection from the pool and giving it back after (Go: `http.Transport`,
//! transport.go:95; `Transport.roundTrip`, transport.go:504).
//!
//! The life of a request, with Go's names beside ours:
//!
//! 1. [`Transport::round_trip`] (Go: `Transport.roundTrip`, transport.go:504) computes the
//!    [`ConnectKey`] (Go: `connectMethodForRequest`, transport.go:834;
//!    `connectMethod.key`, transport.go:1810).
//! 2. `Pool::get_conn` (Go: `getConn`, transport.go:1332) finds an idle
//!    connection or waits for one, dialling (see `pool`).
//! 3. `exchange::round_trip` (Go: `persistConn.roundTrip`,
//!    transport.go:2534) writes the request and reads the response head on
//!    that connection.
//! 4. When the response body has been read to its end, the request body
//!    fully written, and keep-alive is allowed, the connection goes back
//!    to the pool (Go: `tryPutIdleConn`, transport.go:912).
//! 5. A reused connection that fails before any response byte is retried
//!    once for idempotent requests (Go: `shouldRetryRequest`,
//!    transport.go:685).

use crate::exchange;
use crate::pool::Pool;
use crate::request_body::{Request, RequestBody};
use crate::response_body::Response;
use crate::trace::ClientTrace;
use crate::{ConnectKey, Error, TransportConfig};
use http::{HeaderMap, Method};
use server::wire::Limits;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Sends requests over pooled HTTP/1.1 connections (Go: `http.Transport`, transport.go:95).
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

struct Inner {
    config: Arc<TransportConfig>,
    limits: Limits,
    pool: Arc<Pool>,
    reuses: AtomicU64,
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
    pub fn new(mut config: TransportConfig) -> Transport {
        config.tls_config = crate::tls::for_http1(config.tls_config);
        let limits = Limits {
            max_header_bytes: config.max_response_header_bytes,
            ..Limits::default()
        };
        let config = Arc::new(config);
        Transport {
            inner: Arc::new(Inner {
                pool: Pool::new(config.clone()),
                config,
                limits,
                reuses: AtomicU64::new(0),
            }),
        }
    }

    pub fn config(&self) -> &TransportConfig {
        &self.inner.config
    }

    /// What the pool did so far.
    pub fn stats(&self) -> TransportStats {
        TransportStats {
            dials: self.inner.pool.dials(),
            reuses: self.inner.reuses.load(Ordering::Relaxed),
            idle: self.inner.pool.idle_count(),
        }
    }

    /// Closes every idle connection (Go: `CloseIdleConnections`,
    /// transport.go:764). Connections in use are not touched; they close
    /// or come back later.
    pub fn close_idle_connections(&self) {
        let closed = self.inner.pool.close_idle();
        tracing::debug!(closed, "closed idle connections");
    }

    /// Sends one request and returns the response once its head has
    /// arrived; the body streams from the connection (Go:
    /// `Transport.RoundTrip`, roundtrip.go:16). Redirects are not followed:
    /// that is the [`Client`](crate::Client)'s job. Dropping the returned
    /// future cancels the request and closes its connection.
    ///
    /// A streamed request body goes on being sent after this returns (a
    /// server may answer while it still reads, as an echo does), while the
    /// response body is read (Go: `persistConn.writeLoop`, transport.go:2389). The connection
    /// is reused only once both the request body is written and the
    /// response body read; dropping the response stops the request body.
    ///
    /// The URL must be absolute (`http://host[:port]/path`). A
    /// [`ClientTrace`] in the request's extensions is told how the
    /// connection was obtained; the same
    /// [`GotConnInfo`](crate::GotConnInfo) is put in the response's
    /// extensions.
    pub async fn round_trip(&self, req: Request) -> Result<Response, Error> {
        let inner = &self.inner;
        let (parts, body) = req.into_parts();
        let key = ConnectKey::for_uri(&parts.uri, inner.config.proxy.as_ref())?;
        let trace = parts.extensions.get::<ClientTrace>().cloned();
        let replay = if is_replayable(&parts.method, &parts.headers) {
            body.try_clone()
        } else {
            None
        };
        let mut body = Some(body);
        let mut retried = false;
        loop {
            let (conn, info) = inner.pool.get_conn(&key, retried).await?;
            if info.reused {
                inner.reuses.fetch_add(1, Ordering::Relaxed);
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
            match exchange::round_trip(conn, &parts, to_send, &key, &inner.config, &inner.limits).await {
                Ok(mut response) => {
                    response.extensions_mut().insert(info);
                    return Ok(response);
                }
                // Go: shouldRetryRequest, transport.go:685. Only a reused
                // connection that died before answering is presumed stale
                // (the server closed it while it sat idle); a fresh one
                // failing is a real error.
                Err(failure) if failure.nothing_received && info.reused && !retried && replay.is_some() => {
                    tracing::debug!(key = %key, conn = info.conn_id, error = %failure.error,
                        "reused connection failed before the response; retrying on a new connection");
                    retried = true;
                }
                Err(failure) => return Err(failure.error),
            }
        }
    }
}

/// Whether a request may be sent again on another connection (Go:
/// `Request.isReplayable`, request.go:1435): safe methods, or a request
/// carrying an idempotency key. Its body must be in memory too.
fn is_replayable(method: &Method, headers: &HeaderMap) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) || headers.contains_key("idempotency-key")
        || headers.contains_key("x-idempotency-key")
}
