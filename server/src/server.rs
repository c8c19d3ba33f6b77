//! The Server: configuration, the accept loop with its backoff, and
//! graceful shutdown (Go: `http.Server`, `Serve`, `Shutdown`, `Close`).

use crate::conn::serve_conn;
use crate::error::Error;
use crate::handler::Handler;
use crate::wire;
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

/// The states a connection goes through (Go: `http.ConnState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Just accepted; no request byte read yet.
    New,
    /// Reading a request or writing its response.
    Active,
    /// Between requests, waiting for the next one.
    Idle,
    /// Closed; the last state.
    Closed,
}

/// Who a connection-state event is about.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    /// A number unique to this connection within the server.
    pub id: u64,
    pub remote_addr: SocketAddr,
}

/// A callback told of every connection-state change (Go: `Server.ConnState`).
pub type ConnStateHook = Arc<dyn Fn(&ConnInfo, ConnState) + Send + Sync>;

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
    /// Where `listen_and_serve` listens (Go: `Addr`).
    pub addr: String,
    /// Time allowed to read a whole request, head and body (Go: `ReadTimeout`).
    pub read_timeout: Option<Duration>,
    /// Time allowed to read a request head (Go: `ReadHeaderTimeout`);
    /// `read_timeout` when unset.
    pub read_header_timeout: Option<Duration>,
    /// Time allowed to write a response (Go: `WriteTimeout`).
    pub write_timeout: Option<Duration>,
    /// How long a keep-alive connection may wait for its next request
    /// (Go: `IdleTimeout`); `read_timeout` when unset.
    pub idle_timeout: Option<Duration>,
    /// Largest request head (Go: `MaxHeaderBytes`, default 1 MiB).
    pub max_header_bytes: usize,
    /// Most header fields in one request head.
    pub max_headers: usize,
    /// Longest method, request-target and header field line; stricter
    /// than Go, which limits only the whole head. The defaults are
    /// nginx's and Apache's (see `wire::PartLimits`).
    pub part_limits: wire::PartLimits,
    /// TCP keep-alive period on accepted connections (Go: 15 s).
    pub tcp_keepalive: Option<Duration>,
    /// Set TCP_NODELAY on accepted connections (Go always does).
    pub tcp_nodelay: bool,
    /// Told of every connection-state change (Go: `ConnState`).
    pub conn_state: Option<ConnStateHook>,
    /// During a graceful shutdown, an idle keep-alive connection is closed
    /// only after it stayed idle this long. Go closes it at once (zero),
    /// which loses a request the client may already be sending; a few
    /// hundred milliseconds avoids that (see gracehttp).
    pub shutdown_idle_grace: Duration,
}

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
            .finish_non_exhaustive()
    }
}

/// Where the server is in its life; every connection watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Serving,
    /// `shutdown` was called: finish current requests, then close.
    Draining,
    /// `close` was called: drop everything now.
    Closed,
}

/// What the server and its connections share.
pub(crate) struct Shared {
    pub config: Config,
    pub handler: Arc<dyn Handler>,
    pub phase: watch::Sender<Phase>,
    /// Live connections and running accept loops, and a wake-up for when
    /// a count reaches zero.
    live_conns: AtomicUsize,
    live_listeners: AtomicUsize,
    all_closed: Notify,
    next_conn_id: AtomicU64,
    on_shutdown: Mutex<Vec<Box<dyn FnOnce() + Send>>>,
}

/// Keeps a connection counted as live until it is dropped.
pub(crate) struct ConnGuard {
    shared: Arc<Shared>,
    pub info: ConnInfo,
}

impl ConnGuard {
    pub fn set_state(&self, state: ConnState) {
        if let Some(hook) = &self.shared.config.conn_state {
            hook(&self.info, state);
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.set_state(ConnState::Closed);
        if self.shared.live_conns.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.all_closed.notify_waiters();
        }
    }
}

/// Keeps an accept loop counted while it runs.
struct ListenerGuard {
    shared: Arc<Shared>,
}

impl ListenerGuard {
    fn new(shared: Arc<Shared>) -> Self {
        shared.live_listeners.fetch_add(1, Ordering::AcqRel);
        ListenerGuard { shared }
    }
}

impl Drop for ListenerGuard {
    fn drop(&mut self) {
        if self.shared.live_listeners.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.all_closed.notify_waiters();
        }
    }
}

/// Something that accepts connections. `TcpListener` is one; tests use a
/// scripted one that fails on cue to exercise the accept backoff.
pub trait Listener: Send {
    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send;
    fn local_addr(&self) -> io::Result<SocketAddr>;

    /// The TCP socket that accepts, when there is one: when it already
    /// carries the connection options, accepted connections inherit them and
    /// the server need not set them one by one (see [`Server::serve`]). A
    /// wrapper around a `TcpListener` should return it.
    fn tcp_listener(&self) -> Option<&TcpListener> {
        None
    }
}

impl Listener for TcpListener {
    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        TcpListener::accept(self)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
    fn tcp_listener(&self) -> Option<&TcpListener> {
        Some(self)
    }
}

/// An HTTP/1.1 server (Go: `http.Server`). Cheap to clone: clones share
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
/// doubling (Go: `tempDelay` in `Server.Serve`).
pub const ACCEPT_BACKOFF_START: Duration = Duration::from_millis(5);
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

impl Server {
    pub fn new(config: Config, handler: impl Handler) -> Server {
        Server::from_arc(config, Arc::new(handler))
    }

    /// Like [`Server::new`], for a handler already shared.
    pub fn from_arc(config: Config, handler: Arc<dyn Handler>) -> Server {
        let (phase, _) = watch::channel(Phase::Serving);
        Server {
            shared: Arc::new(Shared {
                config,
                handler,
                phase,
                live_conns: AtomicUsize::new(0),
                live_listeners: AtomicUsize::new(0),
                all_closed: Notify::new(),
                next_conn_id: AtomicU64::new(1),
                on_shutdown: Mutex::new(Vec::new()),
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Binds `config.addr` and serves on it (Go: `ListenAndServe`).
    pub async fn listen_and_serve(&self) -> Result<(), Error> {
        let listener = self.bind().await?;
        self.serve(listener).await
    }

    /// Binds `config.addr` (Go: `net.Listen`), with the options the config
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

    /// Accepts connections on `listener` until shutdown (Go: `Serve`).
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
    pub async fn serve(&self, mut listener: impl Listener) -> Result<(), Error> {
        // Counted until this function returns and drops the listener, so
        // that `shutdown` returns only once new connections are refused.
        let _listening = ListenerGuard::new(self.shared.clone());
        let options_inherited = cfg!(target_os = "linux")
            && listener
                .tcp_listener()
                .is_some_and(|l| has_conn_options(SockRef::from(l), &self.shared.config));
        // One watch on the phase for the whole loop, rather than a new
        // waiter registered for every accept: it resolves when shutdown or
        // close begins.
        let mut phase = self.shared.phase.subscribe();
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
                    if !options_inherited {
                        let _ = set_conn_options(SockRef::from(&stream), &self.shared.config);
                    }
                    self.start_conn(stream, remote_addr);
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

    /// One task per connection (Go: `go c.serve(connCtx)`).
    fn start_conn(&self, stream: TcpStream, remote_addr: SocketAddr) {
        self.shared.live_conns.fetch_add(1, Ordering::AcqRel);
        let guard = ConnGuard {
            info: ConnInfo {
                id: self.shared.next_conn_id.fetch_add(1, Ordering::Relaxed),
                remote_addr,
            },
            shared: self.shared.clone(),
        };
        guard.set_state(ConnState::New);
        let shared = self.shared.clone();
        // Boxed: the connection future is a few kilobytes (the whole
        // keep-alive loop), and tokio would otherwise copy it several times
        // on its way into the task. On the heap, only a pointer moves.
        tokio::spawn(Box::pin(serve_conn(shared, stream, guard)));
    }

    /// Number of connections currently open.
    pub fn open_connections(&self) -> usize {
        self.shared.live_conns.load(Ordering::Acquire)
    }

    /// Registers a function to run when shutdown begins (Go: `RegisterOnShutdown`).
    pub fn register_on_shutdown(&self, hook: impl FnOnce() + Send + 'static) {
        if let Ok(mut hooks) = self.shared.on_shutdown.lock() {
            hooks.push(Box::new(hook));
        }
    }

    /// Graceful shutdown (Go: `Shutdown`): runs the hooks registered with
    /// [`Server::register_on_shutdown`], stops accepting (every `serve`
    /// returns [`Error::ServerClosed`] and drops its listener), closes idle
    /// connections (at once, or once they have been idle for
    /// `Config::shutdown_idle_grace`), and lets active ones finish their
    /// current response, sent with `Connection: close`, then closes them.
    /// Returns when every listener and connection is gone, or
    /// [`Error::ShutdownTimeout`] if `timeout` passes first (the remaining
    /// connections are then left running; call [`Server::close`] to drop them).
    ///
    /// The listener belongs to the `serve` future: keep that future running
    /// (spawn it) while shutting down, or `shutdown` waits for a listener
    /// that nobody closes until `timeout`.
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        if self.begin(Phase::Draining) {
            self.run_shutdown_hooks();
        }
        tokio::time::timeout(timeout, self.wait_all_closed())
            .await
            .map_err(|_| Error::ShutdownTimeout {
                open: self.open_connections(),
            })
    }

    /// Closes the listeners and every connection now, whatever they are
    /// doing (Go: `Close`). Handlers still running are dropped at their next
    /// `.await`. As in Go, the on-shutdown hooks do not run.
    pub fn close(&self) {
        self.begin(Phase::Closed);
    }

    /// Moves the server to `next` (never back). True when it was serving.
    fn begin(&self, next: Phase) -> bool {
        let mut was_serving = false;
        self.shared.phase.send_if_modified(|phase| {
            was_serving = *phase == Phase::Serving;
            if *phase == Phase::Closed || *phase == next {
                return false;
            }
            *phase = next;
            true
        });
        was_serving
    }

    /// Go runs each hook in its own goroutine; ours run in turn, here, and
    /// should be quick (they usually just signal something).
    fn run_shutdown_hooks(&self) {
        let hooks = self
            .shared
            .on_shutdown
            .lock()
            .map(|mut h| std::mem::take(&mut *h))
            .unwrap_or_default();
        for hook in hooks {
            hook();
        }
    }

    async fn wait_all_closed(&self) {
        loop {
            let notified = self.shared.all_closed.notified();
            if self.open_connections() == 0 && self.shared.live_listeners.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Makes a listening socket on `addr` as Go's `net.Listen` does on Linux
/// (SO_REUSEADDR, so that a restarted server can bind while old
/// connections linger in TIME_WAIT; a deep backlog; non-blocking;
/// close-on-exec), with the options `config` gives connections set before
/// `listen`, so that every accepted socket inherits them. A plain `std`
/// listener, so that gracehttp can hand its descriptor to a new process;
/// [`Server::bind`] wraps it for tokio.
pub fn bind_listener(addr: SocketAddr, config: &Config) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    set_conn_options(SockRef::from(&socket), config)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The accept queue's length (what `TcpListener::bind` asks for too).
const LISTEN_BACKLOG: i32 = 1024;

/// True when `listener` carries every option the config sets on
/// connections, so that connections accepted from it inherit them.
fn has_conn_options(listener: SockRef<'_>, config: &Config) -> bool {
    let nodelay_ok = !config.tcp_nodelay || listener.tcp_nodelay().unwrap_or(false);
    let keepalive_ok = config.tcp_keepalive.is_none_or(|period| {
        listener.keepalive().unwrap_or(false)
            && listener.tcp_keepalive_time().is_ok_and(|t| t == period)
            && listener.tcp_keepalive_interval().is_ok_and(|t| t == period)
    });
    nodelay_ok && keepalive_ok
}

/// Sets the socket options the config gives connections (TCP_NODELAY,
/// keep-alive) on a connection (Go: `setNoDelay`, `setKeepAlive` and
/// `setKeepAlivePeriod` on each accepted conn), or on a listening socket
/// before it listens, for every accepted socket to inherit them: that is
/// what [`Server::bind`] does, and what a program that makes its own
/// listening socket can do too.
pub fn set_conn_options(socket: SockRef<'_>, config: &Config) -> io::Result<()> {
    if config.tcp_nodelay {
        socket.set_tcp_nodelay(true)?;
    }
    if let Some(period) = config.tcp_keepalive {
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(period)
            .with_interval(period);
        socket.set_tcp_keepalive(&keepalive)?;
    }
    Ok(())
}

/// Accept errors that say "try again later" rather than "this listener is
/// broken" (Go checks `ne.Temporary()`). Out of descriptors or memory, or a
/// connection that died in the backlog, all pass with time.
pub fn is_temporary_accept_error(e: &io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    const ENOBUFS: i32 = 105;
    const ENOMEM: i32 = 12;
    const ECONNABORTED: i32 = 103;
    const ECONNRESET: i32 = 104;
    const EINTR: i32 = 4;
    const EAGAIN: i32 = 11;
    const EPROTO: i32 = 71;
    const EPERM: i32 = 1;
    matches!(
        e.raw_os_error(),
        Some(
            EMFILE | ENFILE | ENOBUFS | ENOMEM | ECONNABORTED | ECONNRESET | EINTR | EAGAIN | EPROTO | EPERM
        )
    ) || matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
    )
}
