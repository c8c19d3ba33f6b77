//! The server's settings, named as Go's `http.Server` fields are
//! (Go: `type Server`, server.go:2590).

use crate::lifecycle::ConnStateHook;
use crate::wire;
use std::time::Duration;

/// The server's settings, named as Go's `http.Server` fields are.
///
/// ```
/// use std::time::Duration;
/// let config = server::Config {
///     addr: "127.0.0.1:8010".into(),
///     read_header_timeout: Some(Duration::from_secs(5)),
///     ..server::Config::default()
/// };
/// assert_eq!(config.max_header_bytes, 1 << 20);
/// ```
#[derive(Clone)]
pub struct Config {
    /// Where `listen_and_serve` listens (Go: `Addr`, server.go:2595).
    pub addr: String,
    /// Time allowed to read a whole request, head and body (Go: `ReadTimeout`, server.go:2616).
    pub read_timeout: Option<Duration>,
    /// Time allowed to read a request head (Go: `ReadHeaderTimeout`, server.go:2624);
    /// `read_timeout` when unset.
    pub read_header_timeout: Option<Duration>,
    /// Time allowed to write a response (Go: `WriteTimeout`, server.go:2631).
    pub write_timeout: Option<Duration>,
    /// How long a keep-alive connection may wait for its next request
    /// (Go: `IdleTimeout`, server.go:2637); `read_timeout` when unset.
    pub idle_timeout: Option<Duration>,
    /// Largest request head (Go: `MaxHeaderBytes`, server.go:2644, default 1 MiB).
    pub max_header_bytes: usize,
    /// Most header fields in one request head.
    pub max_headers: usize,
    /// Longest method, request-target and header field line; stricter
    /// than Go, which limits only the whole head. The defaults are
    /// nginx's and Apache's (see `wire::PartLimits`).
    pub part_limits: wire::PartLimits,
    /// TCP keep-alive period on accepted connections (Go: 15 s, `defaultTCPKeepAlive`, net/dial.go:17).
    pub tcp_keepalive: Option<Duration>,
    /// Set TCP_NODELAY on accepted connections (Go always does).
    pub tcp_nodelay: bool,
    /// Told of every connection-state change (Go: `ConnState`, server.go:2870).
    pub conn_state: Option<ConnStateHook>,
    /// During a graceful shutdown, an idle keep-alive connection is closed
    /// only after it stayed idle this long. Go closes it at once (zero),
    /// which loses a request the client may already be sending; a few
    /// hundred milliseconds avoids that (see gracehttp). A connection
    /// whose request head is still incomplete is idle too: it gets the
    /// same grace, counted once from the start of the drain, not renewed
    /// by bytes trickling in.
    pub shutdown_idle_grace: Duration,
    /// How long the server keeps reading the rest of a request body that
    /// the handler left unread, with the handler's response held back,
    /// before it gives up: it then sends the response with
    /// `Connection: close` and closes after it, reading nothing more as a
    /// request. Not in Go, whose server reads such a body for as long as
    /// `ReadTimeout` allows (forever by default). See
    /// [`DEFAULT_POST_HANDLER_READ_TIMEOUT`].
    pub post_handler_read_timeout: Duration,
    /// Time allowed for a TLS connection's handshake, from the accept to
    /// the end of the handshake; `None` for no limit of its own. See
    /// [`DEFAULT_TLS_HANDSHAKE_TIMEOUT`] for the default and why.
    ///
    /// Go has no such field: its server bounds the handshake with the
    /// smallest of `ReadTimeout`, `WriteTimeout` and `ReadHeaderTimeout`
    /// that is set (`tlsHandshakeTimeout`, server.go:1867), and not at all
    /// when none is, which is the default. Ours keeps that bound too, when
    /// it is the shorter.
    pub tls_handshake_timeout: Option<Duration>,
}

/// The default of [`Config::tls_handshake_timeout`]: 10 s, the value Go's
/// `DefaultTransport` gives the same step on the client's side
/// (`TLSHandshakeTimeout`, transport.go:52).
///
/// A handshake takes one or two round trips and a few milliseconds of
/// CPU: well under a second even across an ocean, so 10 s leaves room for
/// a poor mobile link. Without a bound, a client that connects and sends
/// nothing, or half a ClientHello, would keep its socket and task forever,
/// since no read timeout is set by default: a few thousand such clients
/// would exhaust the server's descriptors.
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The default of [`Config::post_handler_read_timeout`]: 300 ms.
///
/// A client that sends its body at once delivers all of it within a round
/// trip or two of its head (80 to 150 ms across an ocean); a body still
/// arriving this long after the handler answered is trickled, or large on
/// a slow link. Waiting longer would hold the handler's answer hostage to
/// the sender's pace: forever for one that trickles, since no read timeout
/// is set by default. Giving up costs only the connection, as it does for
/// a body over the 256 KiB the server will read (Go:
/// `maxPostHandlerReadBytes`). The scale is that of the other short waits
/// of a closing connection: Go's `rstAvoidanceDelay` (500 ms, server.go:1740).
pub const DEFAULT_POST_HANDLER_READ_TIMEOUT: Duration = Duration::from_millis(300);

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: "127.0.0.1:8080".to_owned(),
            read_timeout: None,
            read_header_timeout: None,
            write_timeout: None,
            idle_timeout: None,
            max_header_bytes: 1 << 20,
            max_headers: 100,
            part_limits: wire::PartLimits::DEFAULT,
            tcp_keepalive: Some(Duration::from_secs(15)),
            tcp_nodelay: true,
            conn_state: None,
            shutdown_idle_grace: Duration::ZERO,
            post_handler_read_timeout: DEFAULT_POST_HANDLER_READ_TIMEOUT,
            tls_handshake_timeout: Some(DEFAULT_TLS_HANDSHAKE_TIMEOUT),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("read_timeout", &self.read_timeout)
            .field("read_header_timeout", &self.read_header_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("tls_handshake_timeout", &self.tls_handshake_timeout)
            .finish_non_exhaustive()
    }
}
