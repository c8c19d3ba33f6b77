//! The first line of a message: the request line of a request, the status
//! line of a response (RFC 9112 sections 3 and 4).
//!
//! These are parsed by hand rather than by httparse, because the rules we
//! want differ from httparse's in two places: a line must end in CRLF
//! (httparse also takes a bare LF), and `HTTP/1.2` is read as HTTP/1.1 while
//! `HTTP/2.0` is a well-formed version we refuse with 505 (httparse knows
//! only `HTTP/1.0` and `HTTP/1.1`). The header fields that follow are
//! httparse's job (see `fields.rs`).
//!
//! Each parser looks at the front of a buffer and answers `Ok(None)` while
//! the line is incomplete, so the connection reads more and tries again;
//! a byte that can never become valid is an error at once, without waiting
//! for the end of the line.

use super::limits::PartLimits;
use super::WireError;
use http::Version;
use std::ops::Range;

/// A request line, as ranges into the buffer it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RequestLine {
    pub method: Range<usize>,
    pub target: Range<usize>,
    pub version: Version,
    /// Bytes from the start of the buffer to just after the line's CRLF
    /// (empty lines skipped before it included).
    pub len: usize,
}

/// A status line, as ranges into the buffer it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StatusLine {
    pub version: Version,
    pub code: u16,
    pub reason: Range<usize>,
    pub len: usize,
}

/// `method SP request-target SP HTTP-version CRLF` (RFC 9112 section 3),
/// after any number of empty lines (section 2.2 lets a server ignore them;
/// some clients send a stray CRLF after a POST body). Go: `readRequest`,
/// request.go:1030; `parseRequestLine`, request.go:989; `ParseHTTPVersion`,
/// request.go:790.
/// The length limits are ours (see `limits.rs`).
pub(super) fn parse_request_line(buf: &[u8], limits: &PartLimits) -> Result<Option<RequestLine>, WireError> {
    let Some(start) = skip_empty_lines(buf)? else {
        return Ok(None);
    };

    // method = token, then exactly one SP. A token too long to be a
    // method we implement is 501 as soon as it is seen (limits.rs).
    let method_end = start + buf[start..].iter().take_while(|&&b| is_tchar(b)).count();
    match buf.get(method_end) {
        None | Some(b' ') if method_end - start > limits.max_method_bytes => {
            return Err(WireError::MethodTooLong)
        }
        None => return Ok(None),
        Some(b' ') if method_end > start => {}
        Some(_) => return Err(WireError::BadStartLine("invalid method")),
    }

    // request-target: visible ASCII and raw bytes 0x80-0xFF (no spaces,
    // control bytes or DEL), then exactly one SP.
    // Too long is 414 as soon as it is seen, complete or not (limits.rs).
    let target_start = method_end + 1;
    let target_end = target_start
        + buf[target_start..]
            .iter()
            .take_while(|&&b| is_target_byte(b))
            .count();
    match buf.get(target_end) {
        None | Some(b' ') if target_end - target_start > limits.max_target_bytes => {
            return Err(WireError::TargetTooLong)
        }
        None => return Ok(None),
        Some(b' ') if target_end > target_start => {}
        Some(b' ') => return Err(WireError::BadStartLine("empty request-target or double space")),
        Some(b'\r' | b'\n') => return Err(WireError::BadStartLine("missing HTTP version")),
        Some(_) => return Err(WireError::BadStartLine("invalid byte in request-target")),
    }

    // HTTP-version, then CRLF.
    let version_start = target_end + 1;
    let Some((version, len)) = version_then_crlf(buf, version_start)? else {
        return Ok(None);
    };
    let version = match version {
        Parsed::Known(v) => v,
        Parsed::OtherMajor => return Err(WireError::UnsupportedVersion),
    };
    Ok(Some(RequestLine {
        method: start..method_end,
        target: target_start..target_end,
        version,
        len,
    }))
}

/// `HTTP-version SP status-code SP [ reason-phrase ] CRLF` (RFC 9112
/// section 4). Like most clients (Go, hyper, curl) we also accept a status
/// line that ends right after the code, without the second SP. Go:
/// `ReadResponse`, response.go:154.
pub(super) fn parse_status_line(buf: &[u8]) -> Result<Option<StatusLine>, WireError> {
    let Some(start) = skip_empty_lines(buf)? else {
        return Ok(None);
    };
    // "HTTP/1.1" and a SP: 9 bytes, checked as they arrive.
    let version_bytes = &buf[start..buf.len().min(start + 8)];
    if !b"HTTP/".starts_with(&version_bytes[..version_bytes.len().min(5)]) {
        return Err(WireError::BadStartLine("status line does not start with HTTP/"));
    }
    if version_bytes.len() < 8 || buf.len() < start + 9 {
        return Ok(None);
    }
    let version = match classify_version(version_bytes) {
        Some(Parsed::Known(v)) => v,
        Some(Parsed::OtherMajor) => return Err(WireError::UnsupportedVersion),
        None => return Err(WireError::BadStartLine("malformed HTTP version")),
    };
    if buf[start + 8] != b' ' {
        return Err(WireError::BadStartLine("malformed status line"));
    }

    // status-code = 3DIGIT.
    let code_start = start + 9;
    let code_bytes = &buf[code_start..buf.len().min(code_start + 3)];
    if !code_bytes.iter().all(u8::is_ascii_digit) {
        return Err(WireError::BadStartLine("status code is not three digits"));
    }
    if code_bytes.len() < 3 {
        return Ok(None);
    }
    let code = code_bytes.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if code < 100 {
        return Err(WireError::BadStartLine("status code below 100"));
    }

    // Then CRLF, or SP reason-phrase CRLF.
    let after_code = code_start + 3;
    let reason_start = match buf.get(after_code) {
        None => return Ok(None),
        Some(b' ') => after_code + 1,
        Some(b'\r') => after_code,
        Some(b'\n') => return Err(WireError::BadStartLine("bare LF")),
        Some(_) => return Err(WireError::BadStartLine("status code is not three digits")),
    };
    let reason_end = reason_start
        + buf[reason_start..]
            .iter()
            .take_while(|&&b| is_reason_byte(b))
            .count();
    let Some(len) = crlf_at(buf, reason_end)? else {
        return Ok(None);
    };
    Ok(Some(StatusLine {
        version,
        code,
        reason: reason_start..reason_end,
        len,
    }))
}

/// Skips empty lines (CRLF) at the front of `buf`; returns where the first
/// non-empty line starts. A lone LF or a CR not followed by LF is an error,
/// like everywhere else in a head.
fn skip_empty_lines(buf: &[u8]) -> Result<Option<usize>, WireError> {
    let mut at = 0;
    loop {
        match (buf.get(at), buf.get(at + 1)) {
            (None, _) | (Some(b'\r'), None) => return Ok(None),
            (Some(b'\r'), Some(b'\n')) => at += 2,
            (Some(b'\r'), Some(_)) => return Err(WireError::BadStartLine("bare CR")),
            (Some(b'\n'), _) => return Err(WireError::BadStartLine("bare LF")),
            (Some(_), _) => return Ok(Some(at)),
        }
    }
}

/// A CRLF must start at `at`: returns the offset just after it.
fn crlf_at(buf: &[u8], at: usize) -> Result<Option<usize>, WireError> {
    match (buf.get(at), buf.get(at + 1)) {
        (None, _) | (Some(b'\r'), None) => Ok(None),
        (Some(b'\r'), Some(b'\n')) => Ok(Some(at + 2)),
        (Some(b'\r'), Some(_)) => Err(WireError::BadStartLine("bare CR")),
        (Some(b'\n'), _) => Err(WireError::BadStartLine("bare LF")),
        (Some(_), _) => Err(WireError::BadStartLine("invalid byte in start line")),
    }
}

/// What an `HTTP/x.y` version means to us.
enum Parsed {
    /// HTTP/1.0, or HTTP/1.1 (which any later HTTP/1 minor version is read as).
    Known(Version),
    /// A well-formed version with another major number (HTTP/0.9, HTTP/2.0).
    OtherMajor,
}

/// `HTTP-version = "HTTP" "/" DIGIT "." DIGIT` (RFC 9112 section 2.3),
/// case-sensitive. RFC 9110 section 2.5: a recipient SHOULD read a higher
/// minor version of a major version it speaks as the highest minor it
/// speaks, so `HTTP/1.2` is HTTP/1.1 (Go does the same:
/// `http1ServerSupportsRequest`, server.go:1067); the 505 status is
/// for a major version we do not speak.
fn classify_version(v: &[u8]) -> Option<Parsed> {
    match v {
        b"HTTP/1.1" => Some(Parsed::Known(Version::HTTP_11)),
        b"HTTP/1.0" => Some(Parsed::Known(Version::HTTP_10)),
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor] if minor.is_ascii_digit() => {
            Some(Parsed::Known(Version::HTTP_11))
        }
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Some(Parsed::OtherMajor)
        }
        _ => None,
    }
}

/// The version at `at`, then CRLF. Returns the version and the offset just
/// after the CRLF.
fn version_then_crlf(buf: &[u8], at: usize) -> Result<Option<(Parsed, usize)>, WireError> {
    // A speed trick: the version nearly every request has, with its CRLF,
    // is recognised in one comparison before the byte-by-byte checks
    // below, which give the same answer for it: 116 instructions fewer per
    // keep-alive request (7 129 -> 7 013; callgrind, `benches/instructions.sh`).
    if buf.get(at..at + 10) == Some(b"HTTP/1.1\r\n") {
        return Ok(Some((Parsed::Known(Version::HTTP_11), at + 10)));
    }
    let available = &buf[at..buf.len().min(at + 8)];
    // Fail early on a prefix that can never become a version.
    let pattern_ok = available.iter().enumerate().all(|(i, &b)| match i {
        0..=4 => b == b"HTTP/"[i],
        6 => b == b'.',
        _ => b.is_ascii_digit(),
    });
    if !pattern_ok {
        return Err(WireError::BadStartLine("malformed HTTP version"));
    }
    if available.len() < 8 {
        return Ok(None);
    }
    let Some(len) = crlf_at(buf, at + 8)? else {
        return Ok(None);
    };
    match classify_version(available) {
        Some(parsed) => Ok(Some((parsed, len))),
        None => Err(WireError::BadStartLine("malformed HTTP version")),
    }
}

/// `tchar` of RFC 9110 section 5.6.2: the bytes a token (a method, a field
/// name, a transfer coding) is made of.
pub(super) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// [`is_tchar`] as a table: one load per byte on the hot path.
static TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

/// Bytes allowed in a request-target: visible ASCII, and the bytes
/// 0x80-0xFF. RFC 3986 allows neither raw non-ASCII bytes nor some
/// printable ones (`"`, `<`, `{`, `|`...), but real clients send both (a
/// browser's address bar, `curl http://host/café`), and Go, hyper
/// (httparse) and nginx all accept them: Go routes `/日本` as the path
/// `/日本`, escaped `/%E6%97%A5%E6%9C%AC` in its redirects. What we refuse
/// is what can change how the line is split or read: spaces, control
/// bytes and DEL. (The target must still be UTF-8, since `Request::target`
/// is a `String`: `head.rs` answers 400 to a lone 0xFF, where Go would
/// take it.)
fn is_target_byte(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// `reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )`.
fn is_reason_byte(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request-line parser with the default limits.
    fn parse_request_line(buf: &[u8]) -> Result<Option<RequestLine>, WireError> {
        super::parse_request_line(buf, &PartLimits::DEFAULT)
    }

    #[test]
    fn request_line_variants() {
        let line = parse_request_line(b"GET /a?b HTTP/1.1\r\n").unwrap().unwrap();
        assert_eq!((line.method, line.target, line.len), (0..3, 4..8, 19));
        // Raw bytes 0x80-0xFF are taken, as Go, httparse and nginx take them.
        let line = parse_request_line(b"GET /\xc3\xa9\xff HTTP/1.1\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(line.target, 4..8);
        let line = parse_request_line(b"\r\n\r\nGET / HTTP/1.0\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((line.method, line.version), (4..7, Version::HTTP_10));
        let line = parse_request_line(b"GET / HTTP/1.2\r\n").unwrap().unwrap();
        assert_eq!(line.version, Version::HTTP_11);
        assert_eq!(
            parse_request_line(b"GET / HTTP/2.0\r\n"),
            Err(WireError::UnsupportedVersion)
        );
        assert_eq!(parse_request_line(b"GET / HTTP/1.1"), Ok(None));
        assert_eq!(parse_request_line(b"GET / HT"), Ok(None));
        assert_eq!(
            parse_request_line(b"GET / HT\r\n").map_err(|e| e.status().as_u16()),
            Err(400)
        );
        for bad in [
            &b"GET  / HTTP/1.1\r\n"[..],
            b"GET / HTTP/1.1 \r\n",
            b"GET / HTTP/1.1\n",
            b"GET / HTTP/1.1\rX",
            b"GET /\x7f HTTP/1.1\r\n",
            b"GET /\r\n",
            b"G(T / HTTP/1.1\r\n",
            b" GET / HTTP/1.1\r\n",
            b"\nGET / HTTP/1.1\r\n",
            b"GET / http/1.1\r\n",
            b"GET / HTTP/1.10\r\n",
        ] {
            assert!(
                parse_request_line(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// A method or target over its limit is refused as soon as it is seen,
    /// before its line ends; one at the limit is not.
    #[test]
    fn length_limits() {
        let limits = PartLimits {
            max_method_bytes: 4,
            max_target_bytes: 8,
            ..PartLimits::NONE
        };
        let parse = |buf: &[u8]| super::parse_request_line(buf, &limits);
        assert!(parse(b"POST /2345678 HTTP/1.1\r\n").unwrap().is_some());
        assert_eq!(parse(b"PATCH / HTTP/1.1\r\n"), Err(WireError::MethodTooLong));
        assert_eq!(parse(b"PATCHE"), Err(WireError::MethodTooLong));
        assert_eq!(parse(b"PATCHE(").map_err(|e| e.status().as_u16()), Err(400));
        assert_eq!(
            parse(b"GET /23456789 HTTP/1.1\r\n"),
            Err(WireError::TargetTooLong)
        );
        assert_eq!(parse(b"GET /23456789"), Err(WireError::TargetTooLong));
        assert_eq!(parse(b"GET /2345678"), Ok(None));
    }

    #[test]
    fn status_line_variants() {
        let line = parse_status_line(b"HTTP/1.1 200 OK\r\n").unwrap().unwrap();
        assert_eq!((line.code, line.reason, line.len), (200, 13..15, 17));
        let line = parse_status_line(b"HTTP/1.0 404\r\n").unwrap().unwrap();
        assert_eq!(
            (line.code, line.reason.len(), line.version),
            (404, 0, Version::HTTP_10)
        );
        assert_eq!(parse_status_line(b"HTTP/1.1 20"), Ok(None));
        assert_eq!(
            parse_status_line(b"HTTP/2.0 200 OK\r\n"),
            Err(WireError::UnsupportedVersion)
        );
        for bad in [
            &b"HTTP/1.1 200 OK\n"[..],
            b"HTTP/1.1 2000 OK\r\n",
            b"HTTP/1.1 099 OK\r\n",
            b"HTTP/1.1  200 OK\r\n",
            b"ICY 200 OK\r\n",
            b"HTTP/1.1 200 O\x01K\r\n",
        ] {
            assert!(
                parse_status_line(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
