//! The graceful server's public face: [`listen_and_serve`] and the
//! [`GraceServer`] builder (after gohttp's `gracehttp.ListenAndServe` and
//! iris's `host.Supervisor`). What a serving process does with these
//! settings (start, supervise the signals, drain) is in `lifecycle.rs`:
//! SIGUSR2 starts a new process and, once it is ready, drains this one;
//! SIGTERM and SIGINT drain it for good.

use crate::error::Error;
use crate::hooks::Hooks;
use crate::inherit::Inherited;
use crate::lifecycle::{self, Settings, TlsFiles};
use crate::spawn::ExecTarget;
use server::{Config, Handler, NetAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    settings: Settings,
}

impl std::fmt::Debug for GraceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.settings;
        f.debug_struct("GraceServer")
            .field("config", &s.config)
            .field("shutdown_timeout", &s.shutdown_timeout)
            .field("ready_timeout", &s.ready_timeout)
            .field("idle_grace", &s.idle_grace)
            .field("pid_file", &s.pid_file)
            .finish_non_exhaustive()
    }
}

impl GraceServer {
    /// A server for `addr` with the defaults. This also records the
    /// executable's path, arguments and working directory, which a restart
    /// re-runs: make it early in `main`.
    pub fn new(addr: impl Into<String>) -> GraceServer {
        GraceServer {
            settings: Settings {
                config: Config {
                    addr: addr.into(),
                    ..Config::default()
                },
                shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
                ready_timeout: DEFAULT_READY_TIMEOUT,
                idle_grace: DEFAULT_IDLE_GRACE,
                pid_file: None,
                tls: None,
                hooks: Hooks::default(),
                target: ExecTarget::capture().ok(),
            },
        }
    }

    /// The server's settings (timeouts, limits...), `addr` included.
    /// Its `shutdown_idle_grace` is replaced by [`GraceServer::idle_grace`].
    pub fn config(mut self, config: Config) -> Self {
        self.settings.config = config;
        self
    }

    /// Bound on the whole drain (default 30 s); what remains after it is
    /// closed by force.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.settings.shutdown_timeout = timeout;
        self
    }

    /// How long a new process has to become ready (default 10 s) before
    /// it is killed and the old one keeps serving.
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.settings.ready_timeout = timeout;
        self
    }

    /// How long a draining server waits on an idle keep-alive connection
    /// for a request that may already be on its way (default 500 ms).
    pub fn idle_grace(mut self, grace: Duration) -> Self {
        self.settings.idle_grace = grace;
        self
    }

    /// Serves https with the certificate chain and key in these PEM files
    /// (Go: `ListenAndServeTLS`). Every process reads them when it starts,
    /// so a restart serves whatever the files hold then: replace them and
    /// send SIGUSR2 to rotate a certificate without dropping a request, as
    /// nginx's reload does. A new process that cannot load them exits
    /// before it is ready, and the old one keeps serving.
    pub fn tls(mut self, cert_file: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> Self {
        self.settings.tls = Some(TlsFiles {
            cert: cert_file.into(),
            key: key_file.into(),
        });
        self
    }

    /// A file that always names the serving process, rewritten atomically
    /// by each new process when it is ready.
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.pid_file = Some(path.into());
        self
    }

    /// Called with the address once the listener is accepting (iris:
    /// `RegisterOnServe`).
    pub fn on_serve(mut self, hook: impl Fn(&NetAddr) + Send + Sync + 'static) -> Self {
        self.settings.hooks.on_serve.push(Arc::new(hook));
        self
    }

    /// Called when the drain begins, before waiting for connections (iris:
    /// `RegisterOnShutdown`), for a restart and for a shutdown alike.
    pub fn on_shutdown(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.settings.hooks.on_shutdown.push(Arc::new(hook));
        self
    }

    /// Called on SIGINT or SIGTERM, before the shutdown starts (iris:
    /// `RegisterOnInterrupt`).
    pub fn on_interrupt(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.settings.hooks.on_interrupt.push(Arc::new(hook));
        self
    }

    /// Called with a serve error, unless its message was ignored with
    /// [`GraceServer::ignore_error`] (iris: `RegisterOnError`). The end of
    /// serving that our own shutdown causes is not an error.
    pub fn on_error(mut self, hook: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.settings.hooks.on_error.push(Arc::new(hook));
        self
    }

    /// Errors with exactly this message are not passed to `on_error`
    /// (iris: `IgnoredErrors`, which compares messages too).
    pub fn ignore_error(mut self, message: impl Into<String>) -> Self {
        self.settings.hooks.ignored_errors.push(message.into());
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
    /// or handed over. The three steps (start, supervise, drain) are in
    /// `lifecycle.rs`.
    pub async fn serve_inherited(self, inherited: Inherited, handler: Arc<dyn Handler>) -> Result<(), Error> {
        lifecycle::serve(self.settings, inherited, handler).await
    }
}
