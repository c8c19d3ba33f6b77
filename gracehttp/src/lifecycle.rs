//! The life of one serving process, in the three steps a Go restarter
//! reads in:
//!
//! 1. [`start`]: take the inherited socket (or bind one), start the accept
//!    loop, and once it accepts tell the parent, systemd and the pid file
//!    that this process serves (facebookgo/grace: `app.listen`, `app.serve`,
//!    then killing the parent; gohttp's gracehttp: `ListenAndServe`; here
//!    the parent is told by a byte on a pipe instead of being signalled).
//! 2. [`supervise`]: wait for a signal, a restart's outcome or the accept
//!    loop's end, and decide how this process ends (facebookgo/grace:
//!    `app.signalHandler`; gohttp's gracehttp: `handleSignals`). A restart
//!    runs beside the serving, and only a new process that says it is
//!    ready ends the loop (cloudflare/tableflip's `Upgrade` waits for its
//!    child's `Ready` the same way).
//! 3. [`drain`]: stop accepting, finish what is in flight, let idle
//!    keep-alive connections send the request already on its way, and
//!    report (Go: `Server.Shutdown`, server.go:2782; the idle grace is ours, see
//!    `notes/gracehttp.md`).
//!
//! [`serve`] runs the three in order; `GraceServer::serve_inherited` calls it.

use crate::error::{Error, RestartError};
use crate::hooks::Hooks;
use crate::inherit::Inherited;
use crate::listener::{bind, AsyncListener, ReadyListener};
use crate::notify;
use crate::pidfile;
use crate::restart::{restart, stop_and_reap, Ready};
use crate::signals::{stop_signal, Signals};
use crate::spawn::ExecTarget;
use server::{Config, Handler, NetAddr, Server};
use std::fs::File;
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What the builder collected: everything the three steps read.
#[derive(Clone)]
pub(crate) struct Settings {
    pub config: Config,
    pub shutdown_timeout: Duration,
    pub ready_timeout: Duration,
    pub idle_grace: Duration,
    pub pid_file: Option<PathBuf>,
    /// Serve https with these files, read again by every new process.
    pub tls: Option<TlsFiles>,
    pub hooks: Hooks,
    /// What a restart runs; captured at start-up if the builder could not.
    pub target: Option<ExecTarget>,
}

/// The certificate chain and key a server serves https with (PEM files).
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What [`start`] leaves running for the other two steps.
struct Running {
    pid: u32,
    server: Server,
    /// Shared with the accept loop; a restart lends its descriptor.
    listener: Arc<AsyncListener>,
    serve_task: JoinHandle<Result<(), server::Error>>,
}

/// Why [`supervise`] ended.
enum End {
    /// A new process is serving; this one drains and exits.
    Handover,
    /// SIGTERM or SIGINT.
    Shutdown,
    /// The accept loop died.
    Failed(Error),
}

/// The whole life of one process: start, supervise, drain. Returns once
/// this process has shut down or handed over.
pub(crate) async fn serve(
    settings: Settings,
    inherited: Inherited,
    handler: Arc<dyn Handler>,
) -> Result<(), Error> {
    let target = match settings.target.clone() {
        Some(target) => target,
        None => ExecTarget::capture().map_err(Error::Setup)?,
    };
    // Handlers first, before anything that takes time: until they exist a
    // signal either waits, blocked (when a restart started us, see
    // `signals.rs`), or kills us (its default action).
    let mut signals = Signals::install().map_err(Error::Setup)?;
    let mut running = start(&settings, inherited, handler).await?;
    let end = supervise(&settings, &target, &mut running, &mut signals).await;
    drain(&settings, running, end, &mut signals).await
}

/// Step 1: serve on the inherited socket (or a new one), and once the
/// accept loop runs, say so to whoever waits: the parent (one byte on the
/// pipe), systemd (`READY=1`), the hooks and the pid file.
async fn start(
    settings: &Settings,
    inherited: Inherited,
    handler: Arc<dyn Handler>,
) -> Result<Running, Error> {
    let pid = std::process::id();
    let graceful_start = inherited.listener.is_some();
    // The certificate first: a new process that cannot load it exits
    // here, before it is ready, and the old one keeps serving.
    let tls = match &settings.tls {
        Some(files) => Some(server::load_server_config(&files.cert, &files.key).map_err(Error::Certificate)?),
        None => None,
    };
    let socket = match inherited.listener {
        Some(listener) => listener,
        None => bind(&settings.config)?,
    };
    let listener = Arc::new(AsyncListener::new(socket).map_err(Error::Setup)?);
    let local_addr = listener.local_addr().map_err(Error::Setup)?;

    let mut config = settings.config.clone();
    config.shutdown_idle_grace = settings.idle_grace;
    let server = Server::from_arc(config, handler);
    let url = url_of(&local_addr, tls.is_some());
    let serve_task = start_accepting(&server, &listener, tls).await?;

    if graceful_start {
        tracing::info!("[pid: {pid}] Serving on {url} with the listener inherited on fd 3.");
    } else {
        tracing::info!("[pid: {pid}] Listening on {url}.");
    }
    settings.hooks.serve(&local_addr);
    announce_ready(pid, inherited.ready, settings.pid_file.as_deref());
    Ok(Running {
        pid,
        server,
        listener,
        serve_task,
    })
}

/// Spawns the accept loop and returns once it first asks for a
/// connection, or with its error if it ends before.
async fn start_accepting(
    server: &Server,
    listener: &Arc<AsyncListener>,
    tls: Option<Arc<server::rustls::ServerConfig>>,
) -> Result<JoinHandle<Result<(), server::Error>>, Error> {
    let (accepting_tx, accepting_rx) = oneshot::channel();
    let mut serve_task = {
        let server = server.clone();
        let listener = ReadyListener {
            inner: listener.clone(),
            first_accept: Some(accepting_tx),
        };
        tokio::spawn(async move {
            match tls {
                Some(tls) => server.serve_tls(listener, tls).await,
                None => server.serve(listener).await,
            }
        })
    };
    tokio::select! {
        _ = accepting_rx => Ok(serve_task),
        ended = &mut serve_task => Err(serve_error(ended)),
    }
}

/// How the log names where we serve: `https://127.0.0.1:8230`, or
/// `http+unix:/run/app.sock` for a Unix socket (curl's `--unix-socket`).
fn url_of(addr: &NetAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    match addr {
        NetAddr::Tcp(addr) => format!("{scheme}://{addr}"),
        NetAddr::Unix(path) => format!("{scheme}+unix:{path}"),
    }
}

/// Tells the parent (if one waits), systemd and the pid file that this
/// process now serves. Only now are we the serving process (our parent may
/// still be draining its last requests, but it accepts no more). The pid
/// file comes last: once it names us, our start-up is over.
fn announce_ready(pid: u32, parent: Option<File>, pid_file: Option<&std::path::Path>) {
    if let Some(mut ready) = parent {
        // One byte tells the parent we accept; dropping closes the pipe.
        if let Err(e) = ready.write_all(b"1") {
            tracing::warn!("[pid: {pid}] Cannot tell the parent we are ready: {e}");
        }
    }
    notify::ready(pid);
    if let Some(path) = pid_file {
        if let Err(e) = pidfile::write(path, pid) {
            tracing::warn!("[pid: {pid}] Cannot write the pid file {}: {e}", path.display());
        }
    }
}

/// A restart under way: the new process is starting.
type PendingRestart<'a> = Pin<Box<dyn Future<Output = Result<Ready, RestartError>> + Send + 'a>>;

/// Step 2: watch the signals until a handover, a shutdown or a serve
/// error. SIGUSR2 starts a restart beside the serving (a second one while
/// it runs is ignored); SIGTERM or SIGINT ends the loop; so do a new
/// process that is ready and an accept loop that died.
async fn supervise(
    settings: &Settings,
    target: &ExecTarget,
    running: &mut Running,
    signals: &mut Signals,
) -> End {
    let pid = running.pid;
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
                    target,
                    running.listener.as_fd(),
                    settings.ready_timeout,
                    move |child| pending.store(child, Ordering::Release),
                )));
            }
            name = stop_signal(&mut signals.term, &mut signals.int) => {
                tracing::info!("[pid: {pid}] Receive signal {name}. To shut down the server gracefully.");
                notify::stopping(pid);
                settings.hooks.interrupt();
                break End::Shutdown;
            }
            outcome = restart_outcome(&mut restarting) => {
                restarting = None;
                pending_child.store(0, Ordering::Release);
                if let Some(end) = restart_finished(pid, outcome, settings.pid_file.as_deref()) {
                    break end;
                }
            }
            ended = &mut running.serve_task => {
                let error = serve_error(ended);
                tracing::error!("[pid: {pid}] The http server stopped: {error}");
                settings.hooks.error(&error);
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
        let status = stop_and_reap(child, settings.shutdown_timeout).await;
        tracing::info!("[pid: {pid}] Stopped the new process [{child}]: it {status}.");
    }
    end
}

/// The pending restart's outcome, or never when none is pending.
async fn restart_outcome(restarting: &mut Option<PendingRestart<'_>>) -> Result<Ready, RestartError> {
    match restarting {
        Some(pending) => pending.await,
        None => std::future::pending().await,
    }
}

/// What a finished restart means for the loop: a ready new process ends
/// it (`Handover`); a failed one is logged and we keep serving, naming
/// ourselves in the pid file again.
fn restart_finished(
    pid: u32,
    outcome: Result<Ready, RestartError>,
    pid_file: Option<&std::path::Path>,
) -> Option<End> {
    match outcome {
        Ok(ready) => {
            tracing::info!(
                "[pid: {pid}] A new process [{}] has been started successfully. To shut down the server gracefully.",
                ready.pid
            );
            Some(End::Handover)
        }
        Err(e) => {
            tracing::error!("[pid: {pid}] Restart failed: {e}. Keep serving.");
            if let Some(path) = pid_file {
                let _ = pidfile::write(path, pid);
            }
            None
        }
    }
}

/// Step 3: stop accepting, answer with `Connection: close`, let idle
/// keep-alive connections send the request already on its way, and wait
/// (bounded by the shutdown timeout; a second SIGTERM or SIGINT cuts it
/// short). Returns how this process ends.
async fn drain(settings: &Settings, running: Running, end: End, signals: &mut Signals) -> Result<(), Error> {
    let Running {
        pid,
        server,
        listener,
        mut serve_task,
    } = running;
    settings.hooks.shutdown();
    let mut drain = {
        let server = server.clone();
        let timeout = settings.shutdown_timeout;
        tokio::spawn(async move { server.shutdown(timeout).await })
    };
    if !matches!(end, End::Failed(_)) {
        // The accept loop sees the drain begin and returns at once.
        let _ = (&mut serve_task).await;
    }
    // Our last reference to the listening socket: from now on only the
    // new process (if any) holds it, and new connections go there. A Unix
    // socket's file outlives the socket: after a shutdown nobody will
    // accept on it again, so it goes too (Go's `UnixListener.Close`
    // unlinks it); after a handover the new process serves on it.
    if let (End::Shutdown, Some(path)) = (&end, listener.unix_path()) {
        remove_socket_file(pid, &path);
    }
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
    let drain_result = drain_outcome(pid, &server, drained);
    if let (End::Shutdown | End::Failed(_), Some(path)) = (&end, &settings.pid_file) {
        pidfile::remove_if_ours(path, pid);
    }
    match end {
        End::Failed(error) => Err(error),
        End::Shutdown | End::Handover => drain_result,
    }
}

/// Removes a Unix socket's file; a file already gone is no error.
fn remove_socket_file(pid: u32, path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(
            "[pid: {pid}] Cannot remove the socket file {}: {e}",
            path.display()
        ),
    }
}

/// The drain's result in our terms; what outlived the timeout is closed.
fn drain_outcome(
    pid: u32,
    server: &Server,
    drained: Result<Result<(), server::Error>, tokio::task::JoinError>,
) -> Result<(), Error> {
    match drained {
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
    }
}

/// The accept loop's end as an error: it only returns by itself on failure.
fn serve_error(ended: Result<Result<(), server::Error>, tokio::task::JoinError>) -> Error {
    match ended {
        Ok(Err(e)) => Error::Serve(e),
        Ok(Ok(())) => Error::Serve(server::Error::ServerClosed),
        Err(join) => Error::Setup(io::Error::other(join)),
    }
}
