//! The server crate's error types: [`Error`], and [`TlsConfigError`] for
//! a certificate or key that cannot be loaded.

use std::fmt;
use std::io;
use std::path::PathBuf;

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
    /// The TLS certificate or key could not be loaded
    /// ([`load_server_config`](crate::tls::load_server_config)).
    Tls(TlsConfigError),
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
            Error::Tls(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Listen(e) | Error::Accept(e) => Some(e),
            // Its message is ours already: go on to its cause.
            Error::Tls(e) => std::error::Error::source(e),
            _ => None,
        }
    }
}

impl From<TlsConfigError> for Error {
    fn from(e: TlsConfigError) -> Self {
        Error::Tls(e)
    }
}

/// Why a TLS configuration could not be made.
#[derive(Debug)]
pub enum TlsConfigError {
    /// A certificate or key file is missing, unreadable, or holds nothing
    /// usable.
    File { path: PathBuf, problem: PemProblem },
    /// The private key does not belong to the certificate (Go:
    /// "tls: private key does not match public key").
    KeyMismatch,
    /// rustls refused the certificate, the key or the settings.
    Rustls(rustls::Error),
}

/// What is wrong with a PEM file.
#[derive(Debug)]
pub enum PemProblem {
    /// It could not be opened or read (missing, say).
    Io(std::io::Error),
    /// It holds no `CERTIFICATE` block.
    NoCertificate,
    /// It holds no private key block (`PRIVATE KEY`, `RSA PRIVATE KEY` or
    /// `EC PRIVATE KEY`).
    NoPrivateKey,
    /// It is not well-formed PEM.
    Malformed(String),
}

impl From<rustls_pki_types::pem::Error> for PemProblem {
    fn from(e: rustls_pki_types::pem::Error) -> Self {
        match e {
            rustls_pki_types::pem::Error::Io(io) => PemProblem::Io(io),
            rustls_pki_types::pem::Error::NoItemsFound => PemProblem::NoCertificate,
            other => PemProblem::Malformed(other.to_string()),
        }
    }
}

impl fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsConfigError::File { path, problem } => {
                let path = path.display();
                match problem {
                    PemProblem::Io(e) => write!(f, "tls: reading {path}: {e}"),
                    PemProblem::NoCertificate => write!(f, "tls: no certificate found in {path}"),
                    PemProblem::NoPrivateKey => write!(f, "tls: no private key found in {path}"),
                    PemProblem::Malformed(e) => write!(f, "tls: {path} is not valid PEM: {e}"),
                }
            }
            TlsConfigError::KeyMismatch => f.write_str("tls: private key does not match public key"),
            TlsConfigError::Rustls(e) => write!(f, "tls: {e}"),
        }
    }
}

impl std::error::Error for TlsConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsConfigError::File {
                problem: PemProblem::Io(e),
                ..
            } => Some(e),
            TlsConfigError::Rustls(e) => Some(e),
            _ => None,
        }
    }
}
