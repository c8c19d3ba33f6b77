//! What can be wrong with bytes read from the network, and which HTTP status
//! a server answers for each.

use http::StatusCode;
use std::fmt;

/// A protocol error found while parsing a head or decoding a body.
///
/// Every variant maps to the status a server answers with
/// ([`WireError::status`]); after any of them the connection is closed,
/// because we can no longer tell where the next message starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The request or status line is malformed (400).
    BadStartLine(&'static str),
    /// A header line is malformed: bad name, bad value, bare CR... (400).
    BadHeader(&'static str),
    /// The head is larger than `Limits::max_header_bytes`, or has more
    /// header lines than `Limits::max_headers` (431).
    HeadTooLarge,
    /// The request-target is longer than `PartLimits::max_target_bytes` (414).
    TargetTooLong,
    /// One header field line is longer than
    /// `PartLimits::max_field_line_bytes` (431).
    FieldLineTooLong,
    /// The method is a token longer than `PartLimits::max_method_bytes`:
    /// not a method this server implements (501).
    MethodTooLong,
    /// A version we do not speak, such as `HTTP/2.0` on an HTTP/1 connection (505).
    UnsupportedVersion,
    /// Content-Length is not a plain decimal number, or several differ (400).
    BadContentLength,
    /// Transfer-Encoding and Content-Length together, or `chunked` not last (400).
    BadTransferEncoding(&'static str),
    /// A transfer coding we do not implement, such as `gzip` (501).
    UnknownTransferCoding,
    /// The Host header is missing (HTTP/1.1), repeated, or malformed (400).
    BadHost(HostError),
    /// The chunked body is malformed (400).
    BadChunk(&'static str),
    /// The connection closed before the body was complete.
    Truncated,
}

/// What is wrong with a request's Host (RFC 9112 section 3.2): each case
/// is answered differently by Go's server, so it is a type, not a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostError {
    /// An HTTP/1.1 request without Host.
    Missing,
    /// More than one Host field.
    Repeated,
    /// A Host value that is not ASCII.
    NotAscii,
    /// A Host value that is not an authority (`host[:port]`).
    Malformed,
    /// An empty Host in HTTP/1.1 for a target without an authority: the
    /// URI would have no host, which RFC 9110 section 4.2.1 forbids.
    Empty,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostError::Missing => "missing required Host header",
            HostError::Repeated => "more than one Host header",
            HostError::NotAscii => "not ASCII",
            HostError::Malformed => "malformed Host header",
            HostError::Empty => "empty Host header",
        })
    }
}

impl WireError {
    /// The status a server answers with for this error (Go: the `400 Bad
    /// Request` family that `conn.serve` writes, server.go:1922-1957).
    pub fn status(&self) -> StatusCode {
        match self {
            WireError::HeadTooLarge | WireError::FieldLineTooLong => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            WireError::TargetTooLong => StatusCode::URI_TOO_LONG,
            WireError::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            WireError::MethodTooLong | WireError::UnknownTransferCoding => StatusCode::NOT_IMPLEMENTED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::BadStartLine(why) => write!(f, "malformed start line: {why}"),
            WireError::BadHeader(why) => write!(f, "malformed header: {why}"),
            WireError::HeadTooLarge => f.write_str("message head too large"),
            WireError::TargetTooLong => f.write_str("request-target too long"),
            WireError::FieldLineTooLong => f.write_str("header field line too long"),
            WireError::MethodTooLong => f.write_str("method too long"),
            WireError::UnsupportedVersion => f.write_str("unsupported HTTP version"),
            WireError::BadContentLength => f.write_str("invalid Content-Length"),
            WireError::BadTransferEncoding(why) => write!(f, "invalid Transfer-Encoding: {why}"),
            WireError::UnknownTransferCoding => f.write_str("unsupported transfer coding"),
            WireError::BadHost(why) => write!(f, "malformed Host header: {why}"),
            WireError::BadChunk(why) => write!(f, "malformed chunked body: {why}"),
            WireError::Truncated => f.write_str("connection closed before the message was complete"),
        }
    }
}

impl std::error::Error for WireError {}
