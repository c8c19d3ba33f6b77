//! The one error type of this crate: everything a request can run into,
//! from the dial to the last byte of the response body.
//!
//! Each variant says what failed and, where there is one, the address and
//! the underlying cause, so that a log line alone tells the story (Go's
//! `dial tcp 127.0.0.1:1: connect: connection refused`).

use server::wire::WireError;
use std::fmt;
use std::io;
use std::time::Duration;

/// Why a request through the [`Transport`](crate::Transport) or the
/// [`Client`](crate::Client) failed.
#[derive(Debug)]
pub enum Error {
    /// The URL cannot be sent: no host, bad syntax (Go: `url.Error`, net/url/url.go:23).
    InvalidUrl(String),
    /// Only `http` is spoken here (no TLS in this course).
    UnsupportedScheme(String),
    /// The TCP connect failed (Go's message: `dial tcp ADDR: ...`).
    Dial { addr: String, source: io::Error },
    /// The TCP connect did not finish within the dial timeout.
    DialTimeout { addr: String, after: Duration },
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
            Error::DialTimeout { addr, after } => write!(f, "dial tcp {addr}: i/o timeout after {after:?}"),
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
            Error::Dial { source, .. } => Some(source),
            Error::Write(e) | Error::Read(e) => Some(e),
            Error::Protocol(e) => Some(e),
            _ => None,
        }
    }
}

impl Error {
    /// True for the timeouts (dial, response header, client).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Error::DialTimeout { .. } | Error::ResponseHeaderTimeout(_) | Error::Timeout { .. }
        )
    }
}
