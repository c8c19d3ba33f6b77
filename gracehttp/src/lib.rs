//! # gracehttp: restart a server without dropping a request
//!
//! A server built on the `server` crate, watched by its signals:
//!
//! - **SIGUSR2**: graceful restart. The process fork-execs its own
//!   executable (the path recorded at start-up, the original arguments
//!   and working directory), handing over the listening socket as
//!   descriptor 3 by the systemd convention (`LISTEN_FDS=1`,
//!   `LISTEN_PID`), and a pipe as descriptor 4. The new process serves on
//!   the same socket and writes one byte on the pipe; only then does the
//!   old one drain and exit. A new process that dies or stays silent is
//!   killed and reaped, and the old one keeps serving.
//! - **SIGTERM, SIGINT**: graceful shutdown: stop accepting, finish what
//!   is in flight, exit.
//!
//! The socket may be TCP or a Unix socket (an address written
//! `unix:PATH`), and the server may speak https
//! ([`GraceServer::tls`]): every new process reads the certificate files
//! again, so a restart rotates a certificate without dropping a request.
//! (The course's gohttp gracehttp cannot restart an HTTPS server at all: it
//! asserts that its listener is a `*net.TCPListener`, which a TLS listener
//! is not, and panics on SIGUSR2. Here TLS wraps each connection, in its
//! own task, never the listener, so the socket handed over is always the
//! plain one.)
//!
//! Draining loses nothing on keep-alive connections: responses carry
//! `Connection: close`, and an idle connection is closed only after a
//! short grace, because its client may already be sending the next
//! request (every Go restarter we measured loses those).
//!
//! The modules, in the order a restart meets them:
//! [`grace`] (the builder), `lifecycle` (one process's life in three
//! steps: start, supervise, drain), `signals` (the handlers, and the
//! mask that covers a new process until they exist), `listener`
//! (bind, or the inherited socket), `spawn` (fork and exec,
//! async-signal-safe), `restart` (waiting for readiness), [`inherit`] (the
//! child's side of the systemd convention), [`pidfile`], [`notify`]
//! (`sd_notify`: `READY=1`, `MAINPID`, so systemd follows the handover),
//! `hooks` (iris-style supervisor hooks).
//!
//! The same binary also starts under systemd socket activation or
//! `systemfd --no-pid -s http::8010 -- cargo run ...`.
//!
//! ```no_run
//! use server::handler_fn;
//!
//! let hello = handler_fn(|w, _r| Box::pin(async move {
//!     let _ = w.write(b"Hello, World!").await;
//! }));
//! gracehttp::listen_and_serve("127.0.0.1:8010", hello).unwrap();
//! ```
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod error;
pub mod grace;
mod hooks;
pub mod inherit;
mod lifecycle;
mod listener;
pub mod notify;
pub mod pidfile;
mod restart;
mod signals;
mod spawn;

pub use error::{Error, RestartError};
pub use grace::{
    listen_and_serve, GraceServer, DEFAULT_IDLE_GRACE, DEFAULT_READY_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT,
};
pub use inherit::{Inherited, ListenSocket};
pub use spawn::ExecTarget;
