//! The server crate's error type.

use std::fmt;
use std::io;

/// Errors returned by [`Server`](crate::Server) methods.
#[derive(Debug)]
pub enum Error {
    /// Binding the listen address failed.
    Listen(io::Error),
    /// `accept` failed with an error that will not pass with time.
    Accept(io::Error),
    /// `serve` ended because `shutdown` or `close` was called
    /// (Go: `http.ErrServerClosed`, server.go:3028).
    ServerClosed,
    /// `shutdown` gave up waiting; this many connections were still open.
    ShutdownTimeout { open: usize },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Listen(e) => write!(f, "listen: {e}"),
            Error::Accept(e) => write!(f, "accept: {e}"),
            Error::ServerClosed => f.write_str("http: Server closed"),
            Error::ShutdownTimeout { open } => {
                write!(f, "shutdown timed out with {open} connection(s) still open")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Listen(e) | Error::Accept(e) => Some(e),
            _ => None,
        }
    }
}
