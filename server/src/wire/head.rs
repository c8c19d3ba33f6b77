//! Parsing request and response heads (start line plus header fields), and
//! deciding from a head how its body is framed.
//!
//! httparse does the tokenising; this module adds the rules httparse leaves
//! to its caller: size limits, which versions we speak, Host, and the
//! Content-Length / Transfer-Encoding framing rules of RFC 9112 section 6.

use super::WireError;
use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{Method, StatusCode, Version};

/// How large a head may be. Go: `Server.MaxHeaderBytes` (default 1 MiB).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of start line plus header lines, CRLFs included.
    pub max_header_bytes: usize,
    /// Number of header lines.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 1 << 20,
            max_headers: 256,
        }
    }
}

/// A parsed request line and header fields.
#[derive(Debug, Clone)]
pub struct RequestHead {
    pub method: Method,
    /// The request-target exactly as sent (Go: `Request.RequestURI`).
    pub target: String,
    pub version: Version,
    pub headers: HeaderMap,
}

/// A parsed status line and header fields.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    pub version: Version,
    pub status: StatusCode,
    pub reason: String,
    pub headers: HeaderMap,
}

/// How a message body is delimited (RFC 9112 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body at all.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the peer closes (responses only).
    UntilClose,
}

/// Parses a request head from the front of `buf`.
///
/// Returns `Ok(None)` when the head is not complete yet (read more and call
/// again); on success the head's bytes are removed from `buf`, leaving the
/// body (and any pipelined requests) behind.
pub fn parse_request_head(buf: &mut BytesMut, limits: &Limits) -> Result<Option<RequestHead>, WireError> {
    let mut header_slots = vec![httparse::EMPTY_HEADER; limits.max_headers.min(128)];
    let mut req = httparse::Request::new(&mut header_slots);
    let status = match req.parse(buf) {
        Ok(status) => status,
        Err(httparse::Error::TooManyHeaders) => return Err(WireError::HeadTooLarge),
        Err(httparse::Error::Version) => return Err(version_error(buf)),
        Err(httparse::Error::HeaderName) => return Err(WireError::BadHeader("invalid field name")),
        Err(httparse::Error::HeaderValue) => return Err(WireError::BadHeader("invalid field value")),
        Err(httparse::Error::NewLine | httparse::Error::Status) => {
            return Err(WireError::BadStartLine("malformed request line"))
        }
        Err(httparse::Error::Token) => return Err(WireError::BadStartLine("invalid method or target")),
    };
    let head_len = match status {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial if buf.len() > limits.max_header_bytes => {
            return Err(WireError::HeadTooLarge)
        }
        httparse::Status::Partial => return Ok(None),
    };
    if head_len > limits.max_header_bytes {
        return Err(WireError::HeadTooLarge);
    }
    let method = Method::from_bytes(req.method.unwrap_or_default().as_bytes())
        .map_err(|_| WireError::BadStartLine("invalid method"))?;
    let target = req.path.unwrap_or_default().to_owned();
    let version = if req.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let headers = collect_headers(req.headers)?;
    // The header values were copied out; drop the head from the buffer.
    let _ = buf.split_to(head_len);
    Ok(Some(RequestHead {
        method,
        target,
        version,
        headers,
    }))
}

/// Parses a response head from the front of `buf` (the client side).
/// Same contract as [`parse_request_head`].
pub fn parse_response_head(buf: &mut BytesMut, limits: &Limits) -> Result<Option<ResponseHead>, WireError> {
    let mut header_slots = vec![httparse::EMPTY_HEADER; limits.max_headers.min(128)];
    let mut res = httparse::Response::new(&mut header_slots);
    let status = match res.parse(buf) {
        Ok(status) => status,
        Err(httparse::Error::TooManyHeaders) => return Err(WireError::HeadTooLarge),
        Err(httparse::Error::Version) => return Err(WireError::UnsupportedVersion),
        Err(httparse::Error::HeaderName) => return Err(WireError::BadHeader("invalid field name")),
        Err(httparse::Error::HeaderValue) => return Err(WireError::BadHeader("invalid field value")),
        Err(_) => return Err(WireError::BadStartLine("malformed status line")),
    };
    let head_len = match status {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial if buf.len() > limits.max_header_bytes => {
            return Err(WireError::HeadTooLarge)
        }
        httparse::Status::Partial => return Ok(None),
    };
    let code = res.code.unwrap_or_default();
    let status = StatusCode::from_u16(code).map_err(|_| WireError::BadStartLine("invalid status code"))?;
    let reason = res.reason.unwrap_or_default().to_owned();
    let version = if res.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let headers = collect_headers(res.headers)?;
    let _ = buf.split_to(head_len);
    Ok(Some(ResponseHead {
        version,
        status,
        reason,
        headers,
    }))
}

/// httparse only knows HTTP/1.0 and HTTP/1.1. A well-formed later version
/// (`HTTP/2.0`) gets 505, as in Go; anything else is a malformed line.
fn version_error(buf: &[u8]) -> WireError {
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = &buf[..line_end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line.rsplit(|&b| b == b' ').next() {
        Some([b'H', b'T', b'T', b'P', b'/', major, b'.', minor])
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            WireError::UnsupportedVersion
        }
        _ => WireError::BadStartLine("malformed HTTP version"),
    }
}

fn collect_headers(raw: &[httparse::Header<'_>]) -> Result<HeaderMap, WireError> {
    let mut headers = HeaderMap::with_capacity(raw.len());
    for field in raw {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|_| WireError::BadHeader("invalid field name"))?;
        let value = HeaderValue::from_maybe_shared(Bytes::copy_from_slice(field.value))
            .map_err(|_| WireError::BadHeader("invalid field value"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// Decides how a request body is framed (RFC 9112 section 6.3; Go:
/// `readTransfer`). Stricter than Go 1.19: Content-Length together with
/// Transfer-Encoding is refused rather than letting Transfer-Encoding win,
/// because that disagreement is how request smuggling works.
pub fn request_framing(head: &RequestHead) -> Result<BodyFraming, WireError> {
    let has_te = head.headers.contains_key(TRANSFER_ENCODING);
    let has_cl = head.headers.contains_key(CONTENT_LENGTH);
    if has_te && has_cl {
        return Err(WireError::BadTransferEncoding(
            "both Transfer-Encoding and Content-Length",
        ));
    }
    if has_te {
        if head.version == Version::HTTP_10 {
            return Err(WireError::BadTransferEncoding(
                "Transfer-Encoding in an HTTP/1.0 request",
            ));
        }
        return transfer_coding(&head.headers, false);
    }
    match content_length(&head.headers)? {
        Some(0) | None => Ok(BodyFraming::Empty),
        Some(n) => Ok(BodyFraming::Length(n)),
    }
}

/// Decides how a response body is framed, given the method of the request
/// it answers (HEAD responses and 1xx/204/304 never have a body).
pub fn response_framing(request_method: &Method, head: &ResponseHead) -> Result<BodyFraming, WireError> {
    let code = head.status.as_u16();
    if request_method == Method::HEAD || (100..200).contains(&code) || code == 204 || code == 304 {
        return Ok(BodyFraming::Empty);
    }
    if head.headers.contains_key(TRANSFER_ENCODING) {
        if head.headers.contains_key(CONTENT_LENGTH) {
            return Err(WireError::BadTransferEncoding(
                "both Transfer-Encoding and Content-Length",
            ));
        }
        return transfer_coding(&head.headers, true);
    }
    match content_length(&head.headers)? {
        Some(0) => Ok(BodyFraming::Empty),
        Some(n) => Ok(BodyFraming::Length(n)),
        None => Ok(BodyFraming::UntilClose),
    }
}

/// Reads the Transfer-Encoding list. Only `chunked` is implemented, and it
/// must be the final coding; a response may end with another coding and is
/// then read until close.
fn transfer_coding(headers: &HeaderMap, is_response: bool) -> Result<BodyFraming, WireError> {
    let mut codings = Vec::new();
    for value in headers.get_all(TRANSFER_ENCODING) {
        let text = value
            .to_str()
            .map_err(|_| WireError::BadTransferEncoding("not ASCII"))?;
        for element in text.split(',') {
            let element = element.trim_matches([' ', '\t']);
            if !element.is_empty() {
                codings.push(element.to_ascii_lowercase());
            }
        }
    }
    match codings.as_slice() {
        [] => Err(WireError::BadTransferEncoding("empty")),
        [only] if only == "chunked" => Ok(BodyFraming::Chunked),
        [.., last] if last == "chunked" => Err(WireError::UnknownTransferCoding),
        _ if is_response => Ok(BodyFraming::UntilClose),
        _ if codings.iter().any(|c| c == "chunked") => {
            Err(WireError::BadTransferEncoding("chunked is not the final coding"))
        }
        _ => Err(WireError::UnknownTransferCoding),
    }
}

/// Content-Length must be 1*DIGIT; several fields (or a list) are accepted
/// only when every value is the same.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, WireError> {
    let mut found: Option<u64> = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for element in value.as_bytes().split(|&b| b == b',') {
            let digits = element.trim_ascii();
            if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
                return Err(WireError::BadContentLength);
            }
            let n = digits.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
            match found {
                Some(previous) if previous != n => return Err(WireError::BadContentLength),
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// Checks the Host rules of RFC 9112 section 3.2: required in HTTP/1.1,
/// never repeated. Returns the host to use (empty when absent in HTTP/1.0).
pub fn host_of(head: &RequestHead) -> Result<&str, WireError> {
    let mut hosts = head.headers.get_all(HOST).iter();
    let first = hosts.next();
    if hosts.next().is_some() {
        return Err(WireError::BadHost("more than one Host header"));
    }
    match first {
        None if head.version == Version::HTTP_11 => Err(WireError::BadHost("missing required Host header")),
        None => Ok(""),
        Some(value) => value.to_str().map_err(|_| WireError::BadHost("not ASCII")),
    }
}
