//! The graceful server: start (bind, or take the inherited socket), tell
//! the parent we are ready, then watch the signals. SIGUSR2 starts a new
//! process and, once it is ready, drains this one; SIGTERM and SIGINT
//! drain it for good.

use crate::error::{Error, RestartError};
use crate::hooks::Hooks;
use crate::inherit::Inherited;
use crate::notify;
use crate::pidfile;
use crate::restart::{restart, stop_and_reap, Ready};
use crate::spawn::ExecTarget;
use server::{Config, Handler, Listener, Server};
use std::future::Future;
use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::oneshot;

/// How long a draining server keeps an idle keep-alive connection open
/// for the request its client may already be sending (see the keep-alive
/// race in `notes/gracehttp.md`).
pub const DEFAULT_IDLE_GRACE: Duration = Duration::from_millis(500);
/// How long the whole drain may take before the rest is closed by force.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a new process has to say it is ready.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `handler` on `addr` with graceful restart (SIGUSR2) and graceful
/// shutdown (SIGTERM, SIGINT), with the default timeouts. Blocks until the
/// server has shut down or handed over to its successor, like gohttp's
/// `gracehttp.ListenAndServe`.
///
/// ```no_run
/// use server::handler_fn;
///
/// fn main() {
///     let hello = handler_fn(|w, _r| Box::pin(async move {
///         let _ = w.write(b"Hello, World!").await;
///     }));
///     if let Err(e) = gracehttp::listen_and_serve("127.0.0.1:8010", hello) {
///         eprintln!("{e}");
///         std::process::exit(1);
///     }
/// }
/// ```
pub fn listen_and_serve(addr: &str, handler: impl Handler) -> Result<(), Error> {
    GraceServer::new(addr).run(handler)
}

/// A graceful server, configured builder-style.
///
/// ```no_run
/// use std::time::Duration;
/// use server::handler_fn;
///
/// let hello = handler_fn(|w, _r| Box::pin(async move {
///     let _ = w.write(b"Hello, World!").await;
/// }));
/// let result = gracehttp::GraceServer::new("127.0.0.1:8010")
///     .shutdown_timeout(Duration::from_secs(15))
///     .pid_file("/tmp/hello.pid")
///     .on_serve(|addr| println!("serving on http://{addr}"))
///     .on_interrupt(|| println!("interrupted: draining"))
///     .on_error(|e| eprintln!("serve error: {e}"))
///     .ignore_error("http: Server closed")
///     .run(hello);
/// ```
#[derive(Clone)]
pub struct GraceServer {
    config: Config,
    shutdown_timeout: Duration,
    ready_timeout: Duration,
    idle_grace: Duration,
    pid_file: Option<PathBuf>,
    hooks: Hooks,
    target: Option<ExecTarget>,
}

impl std::fmt::Debug for GraceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraceServer")
            .field("config", &self.config)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("ready_timeout", &self.ready_timeout)
            .field("idle_grace", &self.idle_grace)
            .field("pid_file", &self.pid_file)
            .finish_non_exhaustive()
    }
}

impl GraceServer {
    /// A server for `addr` with the defaults. This also records the
    /// executable's path, arguments and working directory, which a restart
    /// re-runs: make it early in `main`.
    pub fn new(addr: impl Into<String>) -> GraceServer {
        GraceServer {
            config: Config {
                addr: addr.into(),
                ..Config::default()
            },
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            ready_timeout: DEFAULT_READY_TIMEOUT,
            idle_grace: DEFAULT_IDLE_GRACE,
            pid_file: None,
            hooks: Hooks::default(),
            target: ExecTarget::capture().ok(),
        }
    }

    /// The server's settings (timeouts, limits...), `addr` included.
    /// Its `shutdown_idle_grace` is replaced by [`GraceServer::idle_grace`].
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Bound on the whole drain (default 30 s); what remains after it is
    /// closed by force.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How long a new process has to become ready (default 10 s) before
    /// it is killed and the old one keeps serving.
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// How long a draining server waits on an idle keep-alive connection
    /// for a request that may already be on its way (default 500 ms).
    pub fn idle_grace(mut self, grace: Duration) -> Self {
        self.idle_grace = grace;
        self
    }

    /// A file that always names the serving process, rewritten atomically
    /// by each new process when it is ready.
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.pid_file = Some(path.into());
        self
    }

    /// Called with the address once the listener is accepting (iris:
    /// `RegisterOnServe`).
    pub fn on_serve(mut self, hook: impl Fn(SocketAddr) + Send + Sync + 'static) -> Self {
        self.hooks.on_serve.push(Arc::new(hook));
        self
    }

    /// Called when the drain begins, before waiting for connections (iris:
    /// `RegisterOnShutdown`), for a restart and for a shutdown alike.
    pub fn on_shutdown(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks.on_shutdown.push(Arc::new(hook));
        self
    }

    /// Called on SIGINT or SIGTERM, before the shutdown starts (iris:
    /// `RegisterOnInterrupt`).
    pub fn on_interrupt(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks.on_interrupt.push(Arc::new(hook));
        self
    }

    /// Called with a serve error, unless its message was ignored with
    /// [`GraceServer::ignore_error`] (iris: `RegisterOnError`). The end of
    /// serving that our own shutdown causes is not an error.
    pub fn on_error(mut self, hook: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.hooks.on_error.push(Arc::new(hook));
        self
    }

    /// Errors with exactly this message are not passed to `on_error`
    /// (iris: `IgnoredErrors`, which compares messages too).
    pub fn ignore_error(mut self, message: impl Into<String>) -> Self {
        self.hooks.ignored_errors.push(message.into());
        self
    }

    /// Serves until shut down or handed over, on a runtime of its own, and
    /// returns then. The inherited descriptors and their environment
    /// variables are taken before the runtime starts any thread.
    pub fn run(self, handler: impl Handler) -> Result<(), Error> {
        let inherited = Inherited::take_from_env()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(Error::Setup)?;
        let handler: Arc<dyn Handler> = Arc::new(handler);
        runtime.block_on(self.serve_inherited(inherited, handler))
    }

    /// Like [`GraceServer::run`], on the caller's runtime. The `LISTEN_*`
    /// variables are removed from the environment here, while other
    /// threads already run; prefer `run` when you can.
    pub async fn serve(self, handler: impl Handler) -> Result<(), Error> {
        let inherited = Inherited::take_from_env()?;
        self.serve_inherited(inherited, Arc::new(handler)).await
    }

    /// The whole life of one process, with the descriptors already taken
    /// (by [`Inherited::take_from_env`], or built by hand in a test: with no
    /// listener, `addr` is bound). Returns once this process has shut down
    /// or handed over.
    pub async fn serve_inherited(self, inherited: Inherited, handler: Arc<dyn Handler>) -> Result<(), Error> {
        let pid = std::process::id();
        let target = match self.target.clone() {
            Some(target) => target,
            None => ExecTarget::capture().map_err(Error::Setup)?,
        };
        // Handlers first: a SIGUSR2 that arrived before them would kill us
        // (its default action), and our parent may signal as soon as it
        // reads our pid.
        let mut signals = Signals::install().map_err(Error::Setup)?;

        let graceful_start = inherited.listener.is_some();
        let std_listener = match inherited.listener {
            Some(listener) => listener,
            None => bind(&self.config)?,
        };
        let listener = Arc::new(TcpListener::from_std(std_listener).map_err(Error::Setup)?);
        let local_addr = listener.local_addr().map_err(Error::Setup)?;

        let mut config = self.config.clone();
        config.shutdown_idle_grace = self.idle_grace;
        let server = Server::from_arc(config, handler);
        let (accepting_tx, accepting_rx) = oneshot::channel();
        let mut serve_task = {
            let server = server.clone();
            let listener = ReadyListener {
                inner: listener.clone(),
                first_accept: Some(accepting_tx),
            };
            tokio::spawn(async move { server.serve(listener).await })
        };
        tokio::select! {
            _ = accepting_rx => {}
            ended = &mut serve_task => return Err(serve_error(ended)),
        }

        if graceful_start {
            tracing::info!(
                "[pid: {pid}] Serving on http://{local_addr} with the listener inherited on fd 3."
            );
        } else {
            tracing::info!("[pid: {pid}] Listening on http://{local_addr}.");
        }
        self.hooks.serve(local_addr);
        if let Some(mut ready) = inherited.ready {
            // One byte tells the parent we accept; dropping closes the pipe.
            if let Err(e) = ready.write_all(b"1") {
                tracing::warn!("[pid: {pid}] Cannot tell the parent we are ready: {e}");
            }
        }
        // Only now are we the serving process (our parent may still be
        // draining its last requests, but it accepts no more). The pid file
        // comes last: once it names us, our start-up is over.
        notify::ready(pid);
        if let Some(path) = &self.pid_file {
            if let Err(e) = pidfile::write(path, pid) {
                tracing::warn!("[pid: {pid}] Cannot write the pid file {}: {e}", path.display());
            }
        }

        // Watch the signals until a handover, a shutdown or a serve error.
        let pending_child = AtomicI32::new(0);
        let mut restarting: Option<PendingRestart<'_>> = None;
        let end = loop {
            tokio::select! {
                _ = signals.usr2.recv() => {
                    if restarting.is_some() {
                        let child = pending_child.load(Ordering::Acquire);
                        tracing::info!(
                            "[pid: {pid}] Receive signal SIGUSR2, but a restart is already in progress (new process [{child}]). Ignored."
                        );
                        continue;
                    }
                    tracing::info!("[pid: {pid}] Receive signal SIGUSR2. To restart the server gracefully.");
                    let pending = &pending_child;
                    restarting = Some(Box::pin(restart(
                        &target,
                        listener.as_fd(),
                        self.ready_timeout,
                        move |child| pending.store(child, Ordering::Release),
                    )));
                }
                name = stop_signal(&mut signals.term, &mut signals.int) => {
                    tracing::info!("[pid: {pid}] Receive signal {name}. To shut down the server gracefully.");
                    notify::stopping(pid);
                    self.hooks.interrupt();
                    break End::Shutdown;
                }
                outcome = restart_outcome(&mut restarting) => {
                    restarting = None;
                    pending_child.store(0, Ordering::Release);
                    match outcome {
                        Ok(ready) => {
                            tracing::info!(
                                "[pid: {pid}] A new process [{}] has been started successfully. To shut down the server gracefully.",
                                ready.pid
                            );
                            break End::Handover;
                        }
                        Err(e) => {
                            tracing::error!("[pid: {pid}] Restart failed: {e}. Keep serving.");
                            if let Some(path) = &self.pid_file {
                                let _ = pidfile::write(path, pid);
                            }
                        }
                    }
                }
                ended = &mut serve_task => {
                    let error = serve_error(ended);
                    tracing::error!("[pid: {pid}] The http server stopped: {error}");
                    self.hooks.error(&error);
                    break End::Failed(error);
                }
            }
        };
        // A restart still waiting for its child when we stop for good: that
        // child must not go on serving behind our back. It may already
        // accept (its byte can be in the pipe, unread), so it gets a
        // graceful shutdown of its own, bounded like ours.
        drop(restarting);
        let child = pending_child.swap(0, Ordering::AcqRel);
        if child > 0 {
            let status = stop_and_reap(child, self.shutdown_timeout).await;
            tracing::info!("[pid: {pid}] Stopped the new process [{child}]: it {status}.");
        }

        // Drain: stop accepting, answer with Connection: close, let idle
        // keep-alive connections send the request already on its way.
        self.hooks.shutdown();
        let mut drain = {
            let server = server.clone();
            let timeout = self.shutdown_timeout;
            tokio::spawn(async move { server.shutdown(timeout).await })
        };
        if !matches!(end, End::Failed(_)) {
            // The accept loop sees the drain begin and returns at once.
            let _ = (&mut serve_task).await;
        }
        // Our last reference to the listening socket: from now on only the
        // new process (if any) holds it, and new connections go there.
        drop(listener);
        tracing::info!("[pid: {pid}] The http server has been shut down successfully.");
        tracing::info!("[pid: {pid}] Waiting for connections to be closed.");
        let drained = loop {
            tokio::select! {
                result = &mut drain => break result,
                _ = signals.usr2.recv() => {
                    tracing::info!("[pid: {pid}] Receive signal SIGUSR2, but the server is shutting down. Ignored.");
                }
                name = stop_signal(&mut signals.term, &mut signals.int) => {
                    tracing::info!("[pid: {pid}] Receive signal {name} again. Closing every connection now.");
                    server.close();
                    break Ok(Err(server::Error::ShutdownTimeout { open: server.open_connections() }));
                }
            }
        };
        let drain_result = match drained {
            Ok(Ok(())) => {
                tracing::info!("[pid: {pid}] All connections have been closed.");
                Ok(())
            }
            Ok(Err(server::Error::ShutdownTimeout { open })) => {
                server.close();
                tracing::warn!("[pid: {pid}] Shutdown timed out: {open} connection(s) closed by force.");
                Err(Error::DrainTimeout { open })
            }
            Ok(Err(other)) => Err(Error::Serve(other)),
            Err(join) => Err(Error::Setup(io::Error::other(join))),
        };
        if let (End::Shutdown | End::Failed(_), Some(path)) = (&end, &self.pid_file) {
            pidfile::remove_if_ours(path, pid);
        }
        match end {
            End::Failed(error) => Err(error),
            End::Shutdown | End::Handover => drain_result,
        }
    }
}

/// Why the supervising loop ended.
enum End {
    /// A new process is serving; this one drains and exits.
    Handover,
    /// SIGTERM or SIGINT.
    Shutdown,
    /// The accept loop died.
    Failed(Error),
}

/// A restart under way: the new process is starting.
type PendingRestart<'a> = Pin<Box<dyn Future<Output = Result<Ready, RestartError>> + Send + 'a>>;

/// The pending restart's outcome, or never when none is pending.
async fn restart_outcome(restarting: &mut Option<PendingRestart<'_>>) -> Result<Ready, RestartError> {
    match restarting {
        Some(pending) => pending.await,
        None => std::future::pending().await,
    }
}

fn serve_error(ended: Result<Result<(), server::Error>, tokio::task::JoinError>) -> Error {
    match ended {
        Ok(Err(e)) => Error::Serve(e),
        Ok(Ok(())) => Error::Serve(server::Error::ServerClosed),
        Err(join) => Error::Setup(io::Error::other(join)),
    }
}

/// The signals we act on.
struct Signals {
    usr2: Signal,
    term: Signal,
    int: Signal,
}

impl Signals {
    fn install() -> io::Result<Signals> {
        Ok(Signals {
            usr2: signal(SignalKind::user_defined2())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }
}

/// The next SIGTERM or SIGINT, by name.
async fn stop_signal(term: &mut Signal, int: &mut Signal) -> &'static str {
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

/// Binds `config.addr` with `server::bind_listener` (Go's `net.Listen`:
/// SO_REUSEADDR, so that a restart of the whole service need not wait for
/// TIME_WAIT). The connection options are set on the listening socket, so
/// accepted connections inherit them, in this process and in the ones that
/// inherit the socket after a restart.
fn bind(config: &Config) -> Result<std::net::TcpListener, Error> {
    let addr = config.addr.as_str();
    let listen_error = |source| Error::Listen {
        addr: addr.to_owned(),
        source,
    };
    let mut last_error = io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on");
    for candidate in addr.to_socket_addrs().map_err(listen_error)? {
        match server::bind_listener(candidate, config) {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = e,
        }
    }
    Err(listen_error(last_error))
}

/// The listener as the accept loop sees it: it says when the loop first
/// asks for a connection, which is when we are "accepting" and may tell
/// our parent so. Shared (`Arc`) so that the supervisor can lend the
/// descriptor to a restart while the loop uses it.
struct ReadyListener {
    inner: Arc<TcpListener>,
    first_accept: Option<oneshot::Sender<()>>,
}

impl Listener for ReadyListener {
    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        if let Some(accepting) = self.first_accept.take() {
            let _ = accepting.send(());
        }
        self.inner.accept()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn tcp_listener(&self) -> Option<&TcpListener> {
        Some(&self.inner)
    }
}
