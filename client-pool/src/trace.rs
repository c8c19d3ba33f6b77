//! Watching the pool work, one request at a time (Go: `net/http/httptrace`, httptrace/trace.go:80,
//! `ClientTrace.GotConn` and `GotConnInfo`).
//!
//! Put a [`ClientTrace`] in a request's extensions and the Transport calls
//! it when the request has its connection. The same [`GotConnInfo`] is also
//! left in the response's extensions, so a caller can log it afterwards.
//! On an `https://` connection it carries what the TLS handshake agreed
//! on, which Go reports apart, in `Response.TLS` and the trace's
//! `TLSHandshakeDone` hook.

use crate::tls::TlsInfo;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How a request got its connection (Go: `httptrace.GotConnInfo`, httptrace/trace.go:238).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GotConnInfo {
    /// The connection served an earlier request (Go: `Reused`, httptrace/trace.go:246).
    pub reused: bool,
    /// It was taken from the idle list (Go: `WasIdle`, httptrace/trace.go:250); false for a fresh
    /// dial and for a connection handed over directly by another request.
    pub was_idle: bool,
    /// How long it sat idle (Go: `IdleTime`, httptrace/trace.go:254); zero unless `was_idle`.
    pub idle_time: Duration,
    /// A number unique to this connection within its Transport.
    pub conn_id: u64,
    /// Our end of the connection; `None` over a Unix socket.
    pub local_addr: Option<SocketAddr>,
    /// The server's end (the proxy's, through one); `None` over a Unix socket.
    pub remote_addr: Option<SocketAddr>,
    /// The TLS session of an `https://` connection: version, cipher
    /// suite, ALPN protocol, server name (Go: `Response.TLS`,
    /// response.go:121). Shared by every request on the connection.
    pub tls: Option<Arc<TlsInfo>>,
}

/// Hooks called during one request (Go: `httptrace.ClientTrace`, httptrace/trace.go:80).
///
/// ```
/// use client_pool::{ClientTrace, RequestBody};
/// let trace = ClientTrace::got_conn(|info| println!("reused={} idle={:?}", info.reused, info.idle_time));
/// let mut req = http::Request::get("http://127.0.0.1:1/").body(RequestBody::empty()).unwrap();
/// req.extensions_mut().insert(trace);
/// ```
#[derive(Clone, Default)]
pub struct ClientTrace {
    got_conn: Option<GotConnHook>,
}

/// The `GotConn` callback.
pub type GotConnHook = Arc<dyn Fn(&GotConnInfo) + Send + Sync>;

impl ClientTrace {
    /// A trace with a `GotConn` hook.
    pub fn got_conn(hook: impl Fn(&GotConnInfo) + Send + Sync + 'static) -> ClientTrace {
        ClientTrace {
            got_conn: Some(Arc::new(hook)),
        }
    }

    pub(crate) fn call_got_conn(&self, info: &GotConnInfo) {
        if let Some(hook) = &self.got_conn {
            hook(info);
        }
    }
}

impl fmt::Debug for ClientTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTrace")
            .field("got_conn", &self.got_conn.is_some())
            .finish()
    }
}
