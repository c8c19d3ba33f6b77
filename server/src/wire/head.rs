//! Parsing request and response heads: a start line, header fields, and the
//! empty line that ends them (RFC 9112 sections 2 to 5).
//!
//! The start line is parsed by `start_line.rs`, the fields by `fields.rs`
//! (httparse plus our CRLF check). This module puts them together, applies
//! the size limits (`limits.rs`), and cuts the head off the read buffer without copying
//! it: the head's bytes are frozen into one `Bytes` and every header value
//! is a slice of it. What comes after the head (a body, or pipelined
//! requests) stays in the buffer for the caller.
//!
//! This is on the hot path of every request, so it allocates only what the
//! result must own: the header map, the target string, and the name of any
//! header the `http` crate does not know by heart; and the server passes the
//! previous request's map and string back in to be refilled.

use super::fields::Fields;
use super::limits::Limits;
use super::start_line::{parse_request_line, parse_status_line};
use super::WireError;
use bytes::{Bytes, BytesMut};
use http::header::HeaderMap;
use http::{Method, StatusCode, Version};

/// A parsed request line and header fields.
#[derive(Debug, Clone, Default)]
pub struct RequestHead {
    /// The method, a token (Go: `Request.Method`).
    pub method: Method,
    /// The request-target exactly as sent (Go: `Request.RequestURI`).
    /// Always printable ASCII: the parser refuses anything else.
    pub target: String,
    /// HTTP/1.0 or HTTP/1.1 (a later HTTP/1 minor version reads as 1.1).
    pub version: Version,
    /// The header fields in order; values share the head's bytes.
    pub headers: HeaderMap,
}

/// A parsed status line and header fields.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    /// HTTP/1.0 or HTTP/1.1 (a later HTTP/1 minor version reads as 1.1).
    pub version: Version,
    /// The status code, 100 to 999.
    pub status: StatusCode,
    /// The reason phrase as sent (lossy UTF-8; it carries no meaning).
    pub reason: String,
    /// The header fields in order; values share the head's bytes.
    pub headers: HeaderMap,
}

/// Parses a request head from the front of `buf` (Go: `readRequest`,
/// request.go:1030).
///
/// Returns `Ok(None)` when the head is not complete yet (read more and call
/// again); on success the head's bytes are removed from `buf`, leaving the
/// body (and any pipelined requests) behind. Nothing past the head is ever
/// looked at or removed, and a head longer than `limits.max_header_bytes`
/// is [`WireError::HeadTooLarge`] whether complete or not; `limits.parts`
/// bounds the method, the target and each field line (see `limits.rs`).
///
/// ```
/// use bytes::BytesMut;
/// use server::wire::{parse_request_head, Limits};
///
/// let mut buf = BytesMut::from(&b"GET /hi HTTP/1.1\r\nHost: example.com\r\n\r\nnext"[..]);
/// let head = parse_request_head(&mut buf, &Limits::default()).unwrap().unwrap();
/// assert_eq!((head.method.as_str(), head.target.as_str()), ("GET", "/hi"));
/// assert_eq!(head.headers["host"], "example.com");
/// assert_eq!(&buf[..], b"next");
///
/// let mut bad = BytesMut::from(&b"GET /hi HTTP/1.1\r\nHost : example.com\r\n\r\n"[..]);
/// assert_eq!(parse_request_head(&mut bad, &Limits::default()).unwrap_err().status(), 400);
/// ```
pub fn parse_request_head(buf: &mut BytesMut, limits: &Limits) -> Result<Option<RequestHead>, WireError> {
    let mut head = RequestHead::default();
    Ok(parse_request_head_into(buf, limits, &mut head)?.then_some(head))
}

/// [`parse_request_head`], parsing into `head` in place: `Ok(true)` when a
/// whole head was parsed into it. The server passes the emptied head of the
/// connection's previous request, so that its header map and target string
/// are refilled rather than allocated again, and the head is never moved.
/// On `Ok(false)` (incomplete) or an error, `head` holds nothing useful.
pub fn parse_request_head_into(
    buf: &mut BytesMut,
    limits: &Limits,
    head: &mut RequestHead,
) -> Result<bool, WireError> {
    let Some(line) = parse_request_line(buf, &limits.parts)? else {
        return incomplete(buf, limits).map(|_: Option<()>| false);
    };
    let mut fields = Fields::new();
    let Some(bytes) = cut_head(buf, line.len, limits, &mut fields)? else {
        // The field line still being received is measured too, so that an
        // endless one is refused at its limit, not at `max_header_bytes`.
        // Only a head that is incomplete pays for this scan, and only over
        // that last line.
        let last_line = buf
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(buf.len(), |lf| buf.len() - lf - 1);
        if last_line > limits.parts.max_field_line_bytes {
            return Err(WireError::FieldLineTooLong);
        }
        return Ok(false);
    };
    if fields.longest_line > limits.parts.max_field_line_bytes {
        return Err(WireError::FieldLineTooLong);
    }
    // RFC 9112 section 3.2.4: the asterisk-form `*` is for OPTIONS only
    // (Go hands `GET *` to the handler; its ServeMux then answers 400).
    if bytes[line.target.clone()] == *b"*" && bytes[line.method.clone()] != *b"OPTIONS" {
        return Err(WireError::AsteriskForm);
    }
    head.method =
        Method::from_bytes(&bytes[line.method]).map_err(|_| WireError::BadStartLine("invalid method"))?;
    // The start-line parser let through printable ASCII only.
    let target = std::str::from_utf8(&bytes[line.target])
        .map_err(|_| WireError::BadStartLine("invalid byte in request-target"))?;
    head.target.clear();
    head.target.push_str(target);
    head.version = line.version;
    // The server hands back a map it emptied already: clearing it again
    // would walk its index table for nothing: 49 instructions per
    // keep-alive request (6 886 -> 6 837; callgrind, `benches/instructions.sh`).
    if !head.headers.is_empty() {
        head.headers.clear();
    }
    fields.append_to(&bytes, &mut head.headers)?;
    Ok(true)
}

/// Parses a response head from the front of `buf` (the client side; Go:
/// `ReadResponse`, response.go:154). Same contract and same field rules as
/// [`parse_request_head`]; an interim `1xx` head is returned like any other
/// and the caller reads the next one.
pub fn parse_response_head(buf: &mut BytesMut, limits: &Limits) -> Result<Option<ResponseHead>, WireError> {
    let Some(line) = parse_status_line(buf)? else {
        return incomplete(buf, limits);
    };
    let mut fields = Fields::new();
    let Some(head) = cut_head(buf, line.len, limits, &mut fields)? else {
        return Ok(None);
    };
    let status =
        StatusCode::from_u16(line.code).map_err(|_| WireError::BadStartLine("invalid status code"))?;
    let reason = String::from_utf8_lossy(&head[line.reason]).into_owned();
    let headers = fields.to_header_map(&head)?;
    Ok(Some(ResponseHead {
        version: line.version,
        status,
        reason,
        headers,
    }))
}

/// The step both heads share once their start line (`line_len` bytes) is
/// parsed: find the field lines into `fields`, apply the limits, and cut
/// the whole head off the front of `buf` as one frozen `Bytes`, which the
/// header values will share. `Ok(None)` while the head is incomplete.
/// `fields` is the caller's, so that its stack array is not moved.
#[inline]
fn cut_head(
    buf: &mut BytesMut,
    line_len: usize,
    limits: &Limits,
    fields: &mut Fields,
) -> Result<Option<Bytes>, WireError> {
    if !fields.parse(buf, line_len, limits.max_headers)? {
        return incomplete(buf, limits);
    }
    if fields.end > limits.max_header_bytes {
        return Err(WireError::HeadTooLarge);
    }
    Ok(Some(buf.split_to(fields.end).freeze()))
}

/// The head is not complete: wait for more bytes, unless the buffer is
/// already over the limit (431, Go: `errTooLarge`, server.go:962).
fn incomplete<T>(buf: &[u8], limits: &Limits) -> Result<Option<T>, WireError> {
    if buf.len() > limits.max_header_bytes {
        Err(WireError::HeadTooLarge)
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::PartLimits;

    fn request(text: &[u8], limits: &Limits) -> Result<Option<RequestHead>, WireError> {
        parse_request_head(&mut BytesMut::from(text), limits)
    }

    /// Each field line is measured from its name to the end of its value;
    /// `*` is a target for OPTIONS only; responses have no part limits.
    #[test]
    fn request_part_limits() {
        let limits = Limits {
            parts: PartLimits {
                max_field_line_bytes: 8,
                ..PartLimits::NONE
            },
            ..Limits::default()
        };
        assert!(request(b"GET / HTTP/1.1\r\nAb: 1234 \r\n\r\n", &limits)
            .unwrap()
            .is_some());
        assert_eq!(
            request(b"GET / HTTP/1.1\r\nA: 1\r\nAb:  1234\r\n\r\n", &limits).unwrap_err(),
            WireError::FieldLineTooLong
        );
        assert!(request(b"GET / HTTP/1.1\r\nA: 1\r\nAb: 1234", &limits)
            .unwrap()
            .is_none());
        assert_eq!(
            request(b"GET / HTTP/1.1\r\nA: 1\r\nAb: 12345", &limits).unwrap_err(),
            WireError::FieldLineTooLong
        );
        assert!(request(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &limits)
            .unwrap()
            .is_some());
        for method in ["GET", "POST", "CONNECT", "OPTIONSX"] {
            let text = format!("{method} * HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_eq!(request(text.as_bytes(), &limits).unwrap_err().status(), 400);
        }
        let mut long = BytesMut::from(&b"HTTP/1.1 200 OK\r\nSet-Cookie: 123456789\r\n\r\n"[..]);
        assert!(parse_response_head(&mut long, &limits).unwrap().is_some());
    }

    fn response(text: &[u8]) -> Result<Option<ResponseHead>, WireError> {
        parse_response_head(&mut BytesMut::from(text), &Limits::default())
    }

    #[test]
    fn response_heads() {
        let head = response(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((head.status.as_u16(), head.reason.as_str()), (404, "Not Found"));
        assert_eq!(head.headers["content-length"], "0");
        assert!(response(b"HTTP/1.1 200 OK\r\nA: 1\r\n").unwrap().is_none());
        assert_eq!(
            response(b"HTTP/2.0 200 OK\r\n\r\n").unwrap_err(),
            WireError::UnsupportedVersion
        );
        for bad in [
            &b"HTTP/1.1 200 OK\nA: 1\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nA: 1\n\r\n",
            b"HTTP/1.1 200 OK\r\nA : 1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: \x00\r\n\r\n",
        ] {
            assert!(response(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let limits = Limits {
            max_header_bytes: 20,
            max_headers: 4,
            ..Limits::default()
        };
        let mut long = BytesMut::from(&b"HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaa"[..]);
        assert_eq!(
            parse_response_head(&mut long, &limits).unwrap_err(),
            WireError::HeadTooLarge
        );
    }
}
