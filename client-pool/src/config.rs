//! The Transport's knobs, named and defaulted as Go's `http.Transport`
//! fields and `DefaultTransport` are.

use http::Uri;
use rustls::ClientConfig;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Settings of a [`Transport`](crate::Transport).
///
/// ```
/// use client_pool::TransportConfig;
/// use std::time::Duration;
/// let config = TransportConfig {
///     max_idle_conns_per_host: 64,
///     max_conns_per_host: 8,
///     ..TransportConfig::default()
/// };
/// assert_eq!(config.max_idle_conns, 100);
/// assert_eq!(config.idle_conn_timeout, Some(Duration::from_secs(90)));
/// assert_eq!(config.tls_handshake_timeout, Some(Duration::from_secs(10)));
/// assert_eq!(config.expect_continue_timeout, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Idle connections kept across all hosts (Go: `MaxIdleConns`, transport.go:194, 100 in
    /// `DefaultTransport`); the oldest is closed when one more comes back.
    pub max_idle_conns: usize,
    /// Idle connections kept per key (Go: `MaxIdleConnsPerHost`, transport.go:199, default 2).
    /// A connection coming back to a full list is closed. 0 keeps none and
    /// hands none over (Go spells that with a negative value; its 0 means
    /// "the default, 2").
    pub max_idle_conns_per_host: usize,
    /// Connections per key, idle + active + dialling (Go:
    /// `MaxConnsPerHost`, transport.go:206); 0 means no limit. Requests beyond it wait.
    pub max_conns_per_host: usize,
    /// An idle connection older than this is closed (Go: `IdleConnTimeout`, transport.go:212,
    /// 90 s); `None` keeps idle connections forever.
    pub idle_conn_timeout: Option<Duration>,
    /// Time allowed for a TCP connect (Go: `net.Dialer.Timeout`, transport.go:46, 30 s).
    pub dial_timeout: Duration,
    /// TCP keep-alive period of dialled connections (Go: `net.Dialer.KeepAlive`,
    /// transport.go:47, 30 s).
    pub tcp_keepalive: Option<Duration>,
    /// Time allowed from the end of writing a request to its response head
    /// (Go: `ResponseHeaderTimeout`, transport.go:218); `None` waits as long as it takes.
    pub response_header_timeout: Option<Duration>,
    /// Use each connection for one request only (Go: `DisableKeepAlives`, transport.go:180).
    pub disable_keep_alives: bool,
    /// Largest response head accepted, status line and fields with their
    /// line ends (Go: `MaxResponseHeaderBytes`, transport.go:260; its
    /// default, 10 MiB, is in `persistConn.maxHeaderResponseSize`,
    /// transport.go:1919). We keep Go's 10 MiB, ten times what our server
    /// accepts in a request head: a client picks the servers it talks to,
    /// and some answer with large cookies or debugging fields that a
    /// client must still read. What it costs is bounded: the buffer grows
    /// with what the server actually sends, and reading a head takes time
    /// linear in its length however it is cut into pieces
    /// (`server::stream::HeadScan`). Like the server's parser, ours also
    /// refuses more than 256 header fields, where Go sets no count.
    pub max_response_header_bytes: usize,
    /// Send every request through this HTTP proxy (Go: `Proxy`,
    /// transport.go:121, here one fixed proxy for all requests). An
    /// `http://` request goes to it in absolute form; an `https://` one
    /// first opens a `CONNECT host:port` tunnel through it, then speaks
    /// TLS to the origin inside. It becomes part of the pool key, as in
    /// Go's `connectMethodKey`.
    pub proxy: Option<Uri>,
    /// Dial this Unix socket for every request, whatever the URL's host
    /// (Go users write a `DialContext`, transport.go:131, that ignores its
    /// address; curl's `--unix-socket`). The URL still names the `Host`
    /// sent and the pool key. Plain HTTP only: TLS runs over TCP here.
    pub unix_socket: Option<PathBuf>,
    /// TLS settings for `https://` (Go: `TLSClientConfig`,
    /// transport.go:169): trusted roots, versions, cipher suites. The
    /// default trusts the `webpki-roots` list; replace it with
    /// [`tls_config_trusting_pem`](crate::tls_config_trusting_pem) or
    /// [`tls_config_with_roots`](crate::tls_config_with_roots). Whatever
    /// it offers by ALPN, the Transport offers `http/1.1` only.
    pub tls_config: Arc<ClientConfig>,
    /// Time allowed for a TLS handshake (Go: `TLSHandshakeTimeout`,
    /// transport.go:173, 10 s in `DefaultTransport`); `None` waits as long
    /// as it takes (Go's zero).
    pub tls_handshake_timeout: Option<Duration>,
    /// How long a request carrying `Expect: 100-continue` waits for the
    /// server's `100 Continue` before sending its body anyway (Go:
    /// `ExpectContinueTimeout`, transport.go:227, 1 s in
    /// `DefaultTransport`). Zero sends the body at once, without waiting
    /// (Go's zero).
    pub expect_continue_timeout: Duration,
    /// Sent as `User-Agent` when the request has none (Go sends
    /// `Go-http-client/1.1`).
    pub user_agent: Option<String>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_idle_conns: 100,
            max_idle_conns_per_host: 2,
            max_conns_per_host: 0,
            idle_conn_timeout: Some(Duration::from_secs(90)),
            dial_timeout: Duration::from_secs(30),
            tcp_keepalive: Some(Duration::from_secs(30)),
            response_header_timeout: None,
            disable_keep_alives: false,
            max_response_header_bytes: 10 << 20,
            proxy: None,
            unix_socket: None,
            tls_config: crate::tls::default_tls_config(),
            tls_handshake_timeout: Some(Duration::from_secs(10)),
            expect_continue_timeout: Duration::from_secs(1),
            user_agent: Some(concat!("client-pool/", env!("CARGO_PKG_VERSION")).to_owned()),
        }
    }
}
