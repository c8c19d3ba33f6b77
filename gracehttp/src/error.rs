//! The crate's error type: everything that can end a graceful server, and
//! the reasons a restart failed (those never end the server: the old
//! process logs them and keeps serving).

use std::fmt;
use std::io;
use std::time::Duration;

/// Errors that end [`GraceServer::run`](crate::GraceServer::run) or
/// [`listen_and_serve`](crate::listen_and_serve).
#[derive(Debug)]
pub enum Error {
    /// Binding the listen address failed.
    Listen { addr: String, source: io::Error },
    /// `LISTEN_FDS` named a descriptor that is not a listening TCP or
    /// Unix socket.
    Inherit(String),
    /// The tokio runtime, a signal handler or the listener's registration
    /// could not be set up.
    Setup(io::Error),
    /// The TLS certificate or key could not be loaded.
    Certificate(server::Error),
    /// The server's accept loop stopped with an error (not a shutdown).
    Serve(server::Error),
    /// The drain did not finish within the shutdown timeout; this many
    /// connections were closed by force.
    DrainTimeout { open: usize },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Listen { addr, source } => write!(f, "listen on {addr}: {source}"),
            Error::Inherit(why) => write!(f, "inherited listener: {why}"),
            Error::Setup(e) => write!(f, "setup: {e}"),
            Error::Certificate(e) => write!(f, "certificate: {e}"),
            Error::Serve(e) => write!(f, "{e}"),
            Error::DrainTimeout { open } => {
                write!(f, "shutdown timed out; {open} connection(s) closed by force")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Listen { source, .. } => Some(source),
            Error::Setup(e) => Some(e),
            Error::Serve(e) | Error::Certificate(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a restart did not hand over. The old process logs it and keeps
/// serving; the next SIGUSR2 tries again.
#[derive(Debug)]
pub enum RestartError {
    /// Preparing or forking the new process failed.
    Spawn(io::Error),
    /// The new process ended before it said it was ready.
    ChildExited { pid: i32, status: String },
    /// The new process did not say it was ready in time; it was killed.
    NotReady { pid: i32, waited: Duration },
}

impl fmt::Display for RestartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartError::Spawn(e) => write!(f, "cannot start a new process: {e}"),
            RestartError::ChildExited { pid, status } => {
                write!(f, "the new process [{pid}] {status} before it was ready")
            }
            RestartError::NotReady { pid, waited } => {
                write!(
                    f,
                    "the new process [{pid}] was not ready after {waited:?}; killed it"
                )
            }
        }
    }
}

impl std::error::Error for RestartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RestartError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}
