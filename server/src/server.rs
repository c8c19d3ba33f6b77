//! The Server: the accept loop with its backoff, and graceful shutdown
//! (Go: `http.Server`, server.go:2590, `Serve`, `ServeTLS`, `Shutdown`,
//! `Close`).

use crate::config::Config;
use crate::conn::{serve_conn, Shared};
use crate::error::Error;
use crate::handler::Handler;
use crate::lifecycle::{Phase, TrackedConn, TrackedListener, Tracker};
use crate::listen::{bind_listener, has_conn_options, is_temporary_accept_error, set_conn_options, Listener};
use crate::net_addr::NetAddr;
use crate::net_conn::NetConn;
use crate::tls::{load_server_config, with_http11_alpn};
use crate::tls_handshake::serve_tls_conn;
use rustls::ServerConfig;
use socket2::SockRef;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// An HTTP/1.1 server (Go: `http.Server`, server.go:2590). Cheap to clone: clones share
/// one server, so one task can `serve` while another calls `shutdown`.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// The first delay after a temporary accept error, and the cap of its
/// doubling (Go: `tempDelay` in `Server.Serve`, server.go:3066).
pub const ACCEPT_BACKOFF_START: Duration = Duration::from_millis(5);
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

impl Server {
    pub fn new(config: Config, handler: impl Handler) -> Server {
        Server::from_arc(config, Arc::new(handler))
    }

    /// Like [`Server::new`], for a handler already shared.
    pub fn from_arc(config: Config, handler: Arc<dyn Handler>) -> Server {
        Server {
            shared: Arc::new(Shared {
                tracker: Arc::new(Tracker::new(config.conn_state.clone())),
                config,
                handler,
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Binds `config.addr` and serves on it (Go: `ListenAndServe`, server.go:2987).
    pub async fn listen_and_serve(&self) -> Result<(), Error> {
        let listener = self.bind().await?;
        self.serve(listener).await
    }

    /// Loads the certificate chain and key from PEM files, binds
    /// `config.addr` and serves HTTPS on it (Go: `ListenAndServeTLS`,
    /// server.go:3283). The files are read once, here: a new certificate
    /// takes a restart (gracehttp's restart reads them again).
    pub async fn listen_and_serve_tls(
        &self,
        cert_file: impl AsRef<Path>,
        key_file: impl AsRef<Path>,
    ) -> Result<(), Error> {
        let tls = load_server_config(cert_file, key_file)?;
        let listener = self.bind().await?;
        self.serve_tls(listener, tls).await
    }

    /// Binds `config.addr` (Go: `net.Listen`, net/dial.go:709), with the options the config
    /// gives accepted connections (TCP_NODELAY, keep-alive) already set on
    /// the listening socket, before it listens: every connection accepted
    /// from it inherits them. [`Server::serve`] then has nothing to set.
    pub async fn bind(&self) -> Result<TcpListener, Error> {
        let config = &self.shared.config;
        let mut last_error = io::Error::new(io::ErrorKind::InvalidInput, "no address to bind");
        for addr in tokio::net::lookup_host(&config.addr)
            .await
            .map_err(Error::Listen)?
        {
            match bind_listener(addr, config).and_then(TcpListener::from_std) {
                Ok(listener) => return Ok(listener),
                Err(e) => last_error = e,
            }
        }
        Err(Error::Listen(last_error))
    }

    /// Accepts connections on `listener` until shutdown (Go: `Serve`, server.go:3040):
    /// a `TcpListener`, a `UnixListener` (Go: `net.Listen("unix", path)`),
    /// or any other [`Listener`].
    ///
    /// A temporary accept error (too many open files, a connection aborted
    /// before we took it...) is logged and retried after a delay that starts
    /// at 5 ms and doubles up to 1 s; a successful accept resets it. Any
    /// other error ends `serve` with that error. After `shutdown` or `close`
    /// it returns [`Error::ServerClosed`].
    ///
    /// Go sets TCP_NODELAY and TCP keep-alive on every accepted connection:
    /// four system calls each time. Linux gives every socket that `accept`
    /// returns the options the listening socket had when the connection
    /// arrived, so when the listener already has them (a listener from
    /// [`Server::bind`]) the server does not set them again, and a new
    /// connection costs only its `accept`. They are not set on a listener
    /// that lacks them: connections already waiting in its queue would not
    /// get them.
    pub async fn serve(&self, listener: impl Listener) -> Result<(), Error> {
        self.accept_loop(listener, None).await
    }

    /// Like [`Server::serve`], speaking TLS on every connection (Go:
    /// `ServeTLS`, server.go:3119, with the configuration already made:
    /// see [`load_server_config`](crate::tls::load_server_config)). ALPN
    /// offers `http/1.1`, added to `tls` if it is missing, as Go does.
    ///
    /// Each connection's handshake runs in that connection's own task,
    /// bounded by [`Config::tls_handshake_timeout`], never in this accept
    /// loop: a client that connects and sends nothing holds only its own
    /// task. A failed handshake is logged (`http: TLS handshake error from
    /// ADDR: ...`) and closes that connection alone; a plain HTTP request
    /// gets Go's `400 Bad Request` ("Client sent an HTTP request to an
    /// HTTPS server."). TLS runs over TCP only: a connection from a Unix
    /// socket listener is closed, with a log line.
    pub async fn serve_tls<L: Listener>(&self, listener: L, tls: Arc<ServerConfig>) -> Result<(), Error> {
        self.accept_loop(listener, Some(with_http11_alpn(tls))).await
    }

    /// The accept loop of [`Server::serve`] and [`Server::serve_tls`] (Go:
    /// `Serve`, server.go:3040).
    async fn accept_loop(
        &self,
        mut listener: impl Listener,
        tls: Option<Arc<ServerConfig>>,
    ) -> Result<(), Error> {
        // Counted until this function returns and drops the listener, so
        // that `shutdown` returns only once new connections are refused.
        let _listening = TrackedListener::new(self.shared.tracker.clone());
        let options_inherited = cfg!(target_os = "linux")
            && listener
                .tcp_listener()
                .is_some_and(|l| has_conn_options(SockRef::from(l), &self.shared.config));
        // One watch on the phase for the whole loop, rather than a new
        // waiter registered for every accept: it resolves when shutdown or
        // close begins.
        let mut phase = self.shared.tracker.phase.subscribe();
        let stopping = phase.wait_for(|phase| *phase != Phase::Serving);
        tokio::pin!(stopping);
        let mut accept_backoff: Option<Duration> = None;
        loop {
            let accepted = tokio::select! {
                biased;
                _ = &mut stopping => return Err(Error::ServerClosed),
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, remote_addr)) => {
                    accept_backoff = None;
                    // TCP options only: a Unix socket has none of them.
                    match &stream {
                        NetConn::Tcp(tcp) if !options_inherited => {
                            let _ = set_conn_options(SockRef::from(tcp), &self.shared.config);
                        }
                        _ => {}
                    }
                    self.start_conn(stream, remote_addr, tls.as_ref());
                }
                Err(e) if is_temporary_accept_error(&e) => {
                    let delay = match accept_backoff {
                        None => ACCEPT_BACKOFF_START,
                        Some(previous) => (previous * 2).min(ACCEPT_BACKOFF_MAX),
                    };
                    accept_backoff = Some(delay);
                    tracing::error!("http: Accept error: {e}; retrying in {delay:?}");
                    tokio::select! {
                        biased;
                        _ = &mut stopping => return Err(Error::ServerClosed),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
                Err(e) => return Err(Error::Accept(e)),
            }
        }
    }

    /// One task per connection (Go: `go c.serve(connCtx)`, server.go:3102),
    /// which starts with the TLS handshake when `tls` is set.
    fn start_conn(&self, stream: NetConn, remote_addr: NetAddr, tls: Option<&Arc<ServerConfig>>) {
        let tracked = TrackedConn::new(self.shared.tracker.clone(), remote_addr);
        let shared = self.shared.clone();
        // Boxed: the connection future is a few kilobytes (the whole
        // keep-alive loop), and tokio would otherwise copy it several times
        // on its way into the task. On the heap, only a pointer moves.
        match tls {
            None => {
                tokio::spawn(Box::pin(serve_conn(shared, stream, tracked, None)));
            }
            Some(tls) => {
                tokio::spawn(Box::pin(serve_tls_conn(shared, stream, tracked, tls.clone())));
            }
        }
    }

    /// Number of connections currently open.
    pub fn open_connections(&self) -> usize {
        self.shared.tracker.open_connections()
    }

    /// Registers a function to run when shutdown begins (Go: `RegisterOnShutdown`, server.go:2826).
    pub fn register_on_shutdown(&self, hook: impl FnOnce() + Send + 'static) {
        self.shared.tracker.register_on_shutdown(Box::new(hook));
    }

    /// Graceful shutdown (Go: `Shutdown`, server.go:2782): runs the hooks registered with
    /// [`Server::register_on_shutdown`], stops accepting (every `serve`
    /// returns [`Error::ServerClosed`] and drops its listener), closes idle
    /// connections (at once, or after `Config::shutdown_idle_grace`), and
    /// lets active ones finish their current response, sent with
    /// `Connection: close`, then closes them. A connection that has not
    /// completed a request head (a client that sent `GET /x HT` and
    /// stopped) counts as idle: it cannot hold the shutdown.
    /// Returns when every listener and connection is gone, or
    /// [`Error::ShutdownTimeout`] if `timeout` passes first (the remaining
    /// connections are then left running; call [`Server::close`] to drop them).
    ///
    /// The listener belongs to the `serve` future: keep that future running
    /// (spawn it) while shutting down, or `shutdown` waits for a listener
    /// that nobody closes until `timeout`.
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        if self.shared.tracker.begin(Phase::Draining) {
            self.shared.tracker.run_shutdown_hooks();
        }
        tokio::time::timeout(timeout, self.shared.tracker.all_closed())
            .await
            .map_err(|_| Error::ShutdownTimeout {
                open: self.open_connections(),
            })
    }

    /// Closes the listeners and every connection now, whatever they are
    /// doing (Go: `Close`, server.go:2731). Handlers still running are dropped at their next
    /// `.await`. As in Go, the on-shutdown hooks do not run.
    pub fn close(&self) {
        self.shared.tracker.begin(Phase::Closed);
    }
}
