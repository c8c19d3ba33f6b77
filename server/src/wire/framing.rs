//! Deciding from a head how its body is delimited: Content-Length,
//! Transfer-Encoding, or neither (RFC 9112 section 6; Go: `readTransfer`,
//! transfer.go:486, `fixLength`, transfer.go:669, `parseTransferEncoding`,
//! transfer.go:626).
//!
//! This is where request smuggling is won or lost: if we and a proxy in
//! front of us disagree on where a body ends, the leftover bytes become a
//! request the proxy never saw. So every ambiguous case is refused rather
//! than guessed: Content-Length with Transfer-Encoding, differing
//! Content-Lengths, `chunked` anywhere but last, and Transfer-Encoding in
//! HTTP/1.0. Both headers are read as the RFC's comma-separated lists
//! (section 5.6.1 of RFC 9110: elements split on commas, optional
//! whitespace around them trimmed, empty elements skipped), never by
//! substring search.

use super::head::{RequestHead, ResponseHead};
use super::start_line::is_tchar;
use super::WireError;
use http::header::{HeaderMap, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{Method, Version};

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

/// Decides how a request body is framed (RFC 9112 section 6.3; Go:
/// `readTransfer`, transfer.go:486). Stricter than Go 1.19, which lets Transfer-Encoding win
/// over Content-Length and ignores Transfer-Encoding in HTTP/1.0: both are
/// refused with 400, because that disagreement is how smuggling works.
pub fn request_framing(head: &RequestHead) -> Result<BodyFraming, WireError> {
    let has_te = head.headers.contains_key(TRANSFER_ENCODING);
    if has_te && head.headers.contains_key(CONTENT_LENGTH) {
        return Err(WireError::BadTransferEncoding(
            "both Transfer-Encoding and Content-Length",
        ));
    }
    if has_te {
        // RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding
        // MUST be treated as having faulty framing.
        if head.version == Version::HTTP_10 {
            return Err(WireError::BadTransferEncoding(
                "Transfer-Encoding in an HTTP/1.0 request",
            ));
        }
        return match transfer_codings(&head.headers)? {
            Codings::Chunked => Ok(BodyFraming::Chunked),
            Codings::ChunkedAfterOthers | Codings::Unknown => Err(WireError::UnknownTransferCoding),
        };
    }
    match content_length(&head.headers)? {
        Some(0) | None => Ok(BodyFraming::Empty),
        Some(n) => Ok(BodyFraming::Length(n)),
    }
}

/// Decides how a response body is framed, given the method of the request
/// it answers (RFC 9112 section 6.3: HEAD responses and 1xx/204/304 never
/// have a body; Go: `readTransfer`, transfer.go:486, on the client side).
pub fn response_framing(request_method: &Method, head: &ResponseHead) -> Result<BodyFraming, WireError> {
    let code = head.status.as_u16();
    if request_method == Method::HEAD || (100..200).contains(&code) || code == 204 || code == 304 {
        return Ok(BodyFraming::Empty);
    }
    if head.headers.contains_key(TRANSFER_ENCODING) {
        // The RFC lets Transfer-Encoding win here, but also calls the pair a
        // likely smuggling or splitting attempt "that ought to be handled
        // as an error" (section 6.3): we do, as for requests.
        if head.headers.contains_key(CONTENT_LENGTH) {
            return Err(WireError::BadTransferEncoding(
                "both Transfer-Encoding and Content-Length",
            ));
        }
        if head.version == Version::HTTP_10 {
            return Ok(BodyFraming::UntilClose);
        }
        return match transfer_codings(&head.headers)? {
            Codings::Chunked => Ok(BodyFraming::Chunked),
            // We could find where the body ends, but not decode it.
            Codings::ChunkedAfterOthers => Err(WireError::UnknownTransferCoding),
            // Section 6.3: chunked not last -> read until the server closes.
            Codings::Unknown => Ok(BodyFraming::UntilClose),
        };
    }
    match content_length(&head.headers)? {
        Some(0) => Ok(BodyFraming::Empty),
        Some(n) => Ok(BodyFraming::Length(n)),
        None => Ok(BodyFraming::UntilClose),
    }
}

/// What a Transfer-Encoding list amounts to.
enum Codings {
    /// Exactly `chunked`.
    Chunked,
    /// Other codings, then `chunked` last (`gzip, chunked`).
    ChunkedAfterOthers,
    /// No `chunked` at all (`gzip`), so the body's end is not marked.
    Unknown,
}

/// Reads every Transfer-Encoding field line as one list (RFC 9112 section
/// 6.1). `chunked` may appear once, last, and without parameters; anything
/// else that mentions it is a framing we refuse to guess at (400).
fn transfer_codings(headers: &HeaderMap) -> Result<Codings, WireError> {
    let mut seen_other = false;
    let mut seen_chunked = false;
    let mut last_is_chunked = false;
    let mut any = false;
    for value in headers.get_all(TRANSFER_ENCODING) {
        for element in list_elements(value.as_bytes()) {
            // transfer-coding = token *( OWS ";" OWS transfer-parameter )
            let (name, has_params) = match element.iter().position(|&b| b == b';') {
                Some(semi) => (trim_ows(&element[..semi]), true),
                None => (element, false),
            };
            if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
                return Err(WireError::BadTransferEncoding("malformed transfer coding"));
            }
            let is_chunked = name.eq_ignore_ascii_case(b"chunked");
            if is_chunked && (seen_chunked || has_params) {
                return Err(WireError::BadTransferEncoding(
                    "chunked applied twice or with parameters",
                ));
            }
            if !is_chunked && seen_chunked {
                return Err(WireError::BadTransferEncoding("chunked is not the final coding"));
            }
            seen_chunked |= is_chunked;
            seen_other |= !is_chunked;
            last_is_chunked = is_chunked;
            any = true;
        }
    }
    match (any, last_is_chunked, seen_other) {
        (false, _, _) => Err(WireError::BadTransferEncoding("empty Transfer-Encoding")),
        (true, true, false) => Ok(Codings::Chunked),
        (true, true, true) => Ok(Codings::ChunkedAfterOthers),
        (true, false, _) => Ok(Codings::Unknown),
    }
}

/// Content-Length = 1*DIGIT (RFC 9112 section 6.2). Several field lines, or
/// a list in one line (`5, 5`), are accepted only when every value is the
/// same (section 6.3, point 5); a sign, an inner space, an empty element or
/// a value over 2^63 - 1 (Go's limit, `parseContentLength`,
/// transfer.go:1043) is an error.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, WireError> {
    let mut found: Option<u64> = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let bytes = value.as_bytes();
        for element in bytes.split(|&b| b == b',') {
            let n = parse_decimal(trim_ows(element)).ok_or(WireError::BadContentLength)?;
            match found {
                Some(previous) if previous != n => return Err(WireError::BadContentLength),
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// `1*DIGIT` as a number no larger than `i64::MAX`.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    (n <= i64::MAX as u64).then_some(n)
}

/// The non-empty elements of a `#rule` list, each trimmed of OWS.
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// Trims optional whitespace (SP and HTAB) from both ends.
fn trim_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn request(lines: &[(&str, &str)]) -> RequestHead {
        let mut headers = HeaderMap::new();
        for (name, value) in lines {
            headers.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        RequestHead {
            method: Method::POST,
            target: "/".into(),
            version: Version::HTTP_11,
            headers,
        }
    }

    fn framing(lines: &[(&str, &str)]) -> Result<BodyFraming, u16> {
        request_framing(&request(lines)).map_err(|e| e.status().as_u16())
    }

    #[test]
    fn content_length_rules() {
        assert_eq!(framing(&[("content-length", "5")]), Ok(BodyFraming::Length(5)));
        assert_eq!(framing(&[("content-length", "5, 5")]), Ok(BodyFraming::Length(5)));
        assert_eq!(
            framing(&[("content-length", "5"), ("content-length", "5")]),
            Ok(BodyFraming::Length(5))
        );
        assert_eq!(framing(&[("content-length", "007")]), Ok(BodyFraming::Length(7)));
        assert_eq!(framing(&[("content-length", "0")]), Ok(BodyFraming::Empty));
        for bad in [
            "+5",
            "-1",
            "5 5",
            "",
            "5,,5",
            "0x5",
            "5, 6",
            "9223372036854775808",
            "99999999999999999999999",
        ] {
            assert_eq!(framing(&[("content-length", bad)]), Err(400), "{bad:?}");
        }
        assert_eq!(
            framing(&[("content-length", "5"), ("content-length", "6")]),
            Err(400)
        );
    }

    #[test]
    fn transfer_encoding_rules() {
        for good in [
            "chunked",
            "Chunked",
            "CHUNKED",
            " chunked ",
            ",chunked",
            "chunked, ",
            "\tchunked",
        ] {
            assert_eq!(
                framing(&[("transfer-encoding", good)]),
                Ok(BodyFraming::Chunked),
                "{good:?}"
            );
        }
        for (bad, status) in [
            ("chunked, gzip", 400),
            ("chunked, chunked", 400),
            ("chunked;x=1", 400),
            ("chunk ed", 400),
            ("\"chunked\"", 400),
            ("", 400),
            (",", 400),
            ("gzip", 501),
            ("gzip, chunked", 501),
            ("xchunked", 501),
            ("chunked-false", 501),
            ("identity", 501),
        ] {
            assert_eq!(framing(&[("transfer-encoding", bad)]), Err(status), "{bad:?}");
        }
        assert_eq!(
            framing(&[("transfer-encoding", "chunked"), ("transfer-encoding", "chunked")]),
            Err(400)
        );
        assert_eq!(
            framing(&[("transfer-encoding", "gzip"), ("transfer-encoding", "chunked")]),
            Err(501)
        );
        assert_eq!(
            framing(&[("transfer-encoding", "chunked"), ("content-length", "3")]),
            Err(400)
        );
        let mut old = request(&[("transfer-encoding", "chunked")]);
        old.version = Version::HTTP_10;
        assert!(request_framing(&old).is_err());
    }

    fn response(status: u16, version: Version, lines: &[(&str, &str)]) -> ResponseHead {
        let request = request(lines);
        ResponseHead {
            version,
            status: http::StatusCode::from_u16(status).unwrap(),
            reason: String::new(),
            headers: request.headers,
        }
    }

    fn response_framed(method: Method, status: u16, lines: &[(&str, &str)]) -> Result<BodyFraming, u16> {
        response_framing(&method, &response(status, Version::HTTP_11, lines)).map_err(|e| e.status().as_u16())
    }

    #[test]
    fn response_framing_rules() {
        use BodyFraming::*;
        let cl = [("content-length", "5")];
        assert_eq!(response_framed(Method::HEAD, 200, &cl), Ok(Empty));
        for status in [101, 204, 304] {
            assert_eq!(response_framed(Method::GET, status, &cl), Ok(Empty));
        }
        assert_eq!(response_framed(Method::GET, 200, &cl), Ok(Length(5)));
        assert_eq!(response_framed(Method::GET, 200, &[]), Ok(UntilClose));
        assert_eq!(
            response_framed(Method::GET, 200, &[("content-length", "5x")]),
            Err(400)
        );
        let te = |v| [("transfer-encoding", v)];
        assert_eq!(response_framed(Method::GET, 200, &te("chunked")), Ok(Chunked));
        assert_eq!(response_framed(Method::GET, 200, &te("gzip")), Ok(UntilClose));
        assert_eq!(response_framed(Method::GET, 200, &te("gzip, chunked")), Err(501));
        assert_eq!(response_framed(Method::GET, 200, &te("chunked, gzip")), Err(400));
        assert_eq!(
            response_framed(
                Method::GET,
                200,
                &[("transfer-encoding", "chunked"), ("content-length", "5")]
            ),
            Err(400)
        );
        let old = response(200, Version::HTTP_10, &te("chunked"));
        assert_eq!(response_framing(&Method::GET, &old), Ok(UntilClose));
    }
}
