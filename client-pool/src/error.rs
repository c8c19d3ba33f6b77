//! The one error type of this crate: everything a request can run into,
//! from the dial to the last byte of the response body.
//!
//! Each variant says what failed and, where there is one, the address and
//! the underlying cause, so that a log line alone tells the story (Go's
//! `dial tcp 127.0.0.1:1: connect: connection refused`).

use http::StatusCode;
use server::wire::WireError;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why a request through the [`Transport`](crate::Transport) or the
/// [`Client`](crate::Client) failed.
#[derive(Debug)]
pub enum Error {
    /// The URL cannot be sent: no host, bad syntax (Go: `url.Error`, net/url/url.go:23).
    InvalidUrl(String),
    /// A scheme other than `http` and `https` (Go: `unsupported protocol scheme`,
    /// transport.go:551).
    UnsupportedScheme(String),
    /// The TCP connect failed (Go's message: `dial tcp ADDR: ...`).
    Dial { addr: String, source: io::Error },
    /// The connect to `TransportConfig::unix_socket` failed (Go's message:
    /// `dial unix PATH: ...`).
    DialUnix { path: PathBuf, source: io::Error },
    /// The TCP connect did not finish within the dial timeout.
    DialTimeout { addr: String, after: Duration },
    /// The TLS handshake with `server_name` failed (Go: the error of
    /// `tls.Conn.HandshakeContext` in `persistConn.addTLS`, transport.go:1516).
    Tls { server_name: String, cause: TlsError },
    /// The TLS handshake did not finish within `tls_handshake_timeout`
    /// (Go: `tlsHandshakeTimeoutError`, transport.go:2845).
    TlsHandshakeTimeout { server_name: String, after: Duration },
    /// The proxy answered our `CONNECT` with something other than 200
    /// (Go returns the status text, transport.go:1721).
    ProxyConnect {
        proxy: String,
        target: String,
        status: StatusCode,
    },
    /// The TLS settings could not be built: an unreadable CA file, no
    /// certificate in it.
    TlsConfig(String),
    /// A combination this client cannot make, e.g. TLS over a Unix socket.
    Unsupported(&'static str),
    /// A reused connection was closed by the server before any byte of the
    /// response came back (Go: `errServerClosedIdle`, transport.go:873). Idempotent requests
    /// are retried on another connection instead of seeing this.
    ServerClosedIdle,
    /// Writing the request failed.
    Write(io::Error),
    /// Reading the response failed.
    Read(io::Error),
    /// The response is not valid HTTP/1.1; the connection was discarded.
    Protocol(WireError),
    /// The request body's stream reported an error or was aborted.
    RequestBody(String),
    /// A fixed-length request body did not match its declared length.
    BodyLength { declared: u64, actual: u64 },
    /// No response head within `response_header_timeout`.
    ResponseHeaderTimeout(Duration),
    /// `Client::timeout` passed (Go: `Client.Timeout exceeded`, client.go:105).
    Timeout {
        after: Duration,
        while_doing: &'static str,
    },
    /// A redirect could not be followed, or the policy stopped with an error
    /// (Go: `stopped after 10 redirects`, client.go:803).
    Redirect(String),
    /// The response body was longer than the caller's limit.
    BodyTooLarge { limit: usize },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl(why) => write!(f, "invalid URL: {why}"),
            Error::UnsupportedScheme(scheme) => write!(f, "unsupported protocol scheme {scheme:?}"),
            Error::Dial { addr, source } => write!(f, "dial tcp {addr}: {source}"),
            Error::DialUnix { path, source } => write!(f, "dial unix {}: {source}", path.display()),
            Error::DialTimeout { addr, after } => write!(f, "dial tcp {addr}: i/o timeout after {after:?}"),
            Error::Tls { server_name, cause } => write!(f, "tls: handshake with {server_name}: {cause}"),
            Error::TlsHandshakeTimeout { server_name, after } => {
                write!(
                    f,
                    "net/http: TLS handshake timeout ({server_name}, after {after:?})"
                )
            }
            Error::ProxyConnect {
                proxy,
                target,
                status,
            } => {
                write!(f, "proxyconnect tcp {proxy}: CONNECT {target}: {status}")
            }
            Error::TlsConfig(why) => write!(f, "TLS configuration: {why}"),
            Error::Unsupported(what) => write!(f, "not supported: {what}"),
            Error::ServerClosedIdle => f.write_str("http: server closed idle connection"),
            Error::Write(e) => write!(f, "writing request: {e}"),
            Error::Read(e) => write!(f, "reading response: {e}"),
            Error::Protocol(e) => write!(f, "malformed HTTP response: {e}"),
            Error::RequestBody(why) => write!(f, "request body: {why}"),
            Error::BodyLength { declared, actual } => {
                write!(f, "http: ContentLength={declared} with Body length {actual}")
            }
            Error::ResponseHeaderTimeout(after) => {
                write!(f, "net/http: timeout awaiting response headers (after {after:?})")
            }
            Error::Timeout { after, while_doing } => {
                write!(f, "Client.Timeout ({after:?}) exceeded while {while_doing}")
            }
            Error::Redirect(why) => write!(f, "redirect: {why}"),
            Error::BodyTooLarge { limit } => write!(f, "response body longer than {limit} bytes"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Dial { source, .. } | Error::DialUnix { source, .. } => Some(source),
            Error::Tls { cause, .. } => Some(cause),
            Error::Write(e) | Error::Read(e) => Some(e),
            Error::Protocol(e) => Some(e),
            _ => None,
        }
    }
}

impl Error {
    /// True for the timeouts (dial, TLS handshake, response header, client).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Error::DialTimeout { .. }
                | Error::TlsHandshakeTimeout { .. }
                | Error::ResponseHeaderTimeout(_)
                | Error::Timeout { .. }
        )
    }
}

/// Why a TLS handshake failed, in the terms a user can act on: which
/// certificate check refused the server, or what else went wrong. The
/// messages of the certificate checks are Go's (crypto/x509/verify.go),
/// so that a log line reads the same in either language.
#[derive(Debug)]
pub enum TlsError {
    /// The server's chain leads to no root we trust: a self-signed or
    /// private-CA certificate without that CA in the config (Go:
    /// `x509.UnknownAuthorityError`).
    UnknownIssuer,
    /// The certificate is valid, but for other names (Go:
    /// `x509.HostnameError`).
    NameMismatch {
        /// The name we asked for (SNI and the check).
        expected: String,
        /// The names the certificate carries, when rustls reports them.
        presented: Vec<String>,
    },
    /// The certificate's validity ended (Go: `x509.CertificateInvalidError`, `Expired`).
    Expired,
    /// The certificate's validity has not begun.
    NotYetValid,
    /// The certificate was revoked.
    Revoked,
    /// Any other certificate problem: bad signature, bad encoding, a
    /// certificate not meant for servers.
    BadCertificate(rustls::CertificateError),
    /// The server ended the handshake with an alert: no cipher suite or
    /// protocol version in common, or it refused our certificate.
    AlertReceived(rustls::AlertDescription),
    /// Any other protocol failure rustls reported.
    Protocol(rustls::Error),
    /// The connection failed during the handshake (reset, closed).
    Io(io::Error),
}

impl TlsError {
    /// Sorts an error of the handshake: tokio-rustls reports rustls's
    /// verdicts as an `io::Error` that carries the `rustls::Error`.
    pub(crate) fn from_handshake(error: io::Error) -> TlsError {
        let is_rustls = error.get_ref().is_some_and(|inner| inner.is::<rustls::Error>());
        if !is_rustls {
            return TlsError::Io(error);
        }
        match error.into_inner().map(|inner| inner.downcast::<rustls::Error>()) {
            Some(Ok(rustls_error)) => TlsError::from(*rustls_error),
            // Checked above; kept total rather than unwrapped.
            _ => TlsError::Io(io::Error::other("TLS handshake failed")),
        }
    }
}

impl From<rustls::Error> for TlsError {
    fn from(error: rustls::Error) -> TlsError {
        use rustls::CertificateError as Cert;
        match error {
            rustls::Error::InvalidCertificate(cert) => match cert {
                Cert::UnknownIssuer => TlsError::UnknownIssuer,
                Cert::NotValidForName => TlsError::NameMismatch {
                    expected: String::new(),
                    presented: Vec::new(),
                },
                Cert::NotValidForNameContext { expected, presented } => TlsError::NameMismatch {
                    expected: expected.to_str().into_owned(),
                    presented: presented.iter().map(|name| bare_name(name).to_owned()).collect(),
                },
                Cert::Expired | Cert::ExpiredContext { .. } => TlsError::Expired,
                Cert::NotValidYet | Cert::NotValidYetContext { .. } => TlsError::NotYetValid,
                Cert::Revoked => TlsError::Revoked,
                other => TlsError::BadCertificate(other),
            },
            rustls::Error::AlertReceived(alert) => TlsError::AlertReceived(alert),
            other => TlsError::Protocol(other),
        }
    }
}

/// `example.com` out of rustls's `DnsName("example.com")`, `127.0.0.1`
/// out of `IpAddress(127.0.0.1)`: the names as Go prints them.
fn bare_name(presented: &str) -> &str {
    match presented.split_once('(') {
        Some((_, rest)) => rest.trim_end_matches(')').trim_matches('"'),
        None => presented,
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::UnknownIssuer => f.write_str("x509: certificate signed by unknown authority"),
            TlsError::NameMismatch { expected, presented } if !presented.is_empty() => {
                write!(
                    f,
                    "x509: certificate is valid for {}, not {expected}",
                    presented.join(", ")
                )
            }
            TlsError::NameMismatch { expected, .. } => {
                write!(f, "x509: certificate is not valid for {expected}")
            }
            TlsError::Expired => f.write_str("x509: certificate has expired"),
            TlsError::NotYetValid => f.write_str("x509: certificate is not yet valid"),
            TlsError::Revoked => f.write_str("x509: certificate has been revoked"),
            TlsError::BadCertificate(why) => write!(f, "x509: invalid certificate: {why:?}"),
            TlsError::AlertReceived(alert) => write!(f, "remote error: tls: {alert:?}"),
            TlsError::Protocol(e) => write!(f, "{e}"),
            TlsError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsError::Protocol(e) => Some(e),
            TlsError::Io(e) => Some(e),
            _ => None,
        }
    }
}
