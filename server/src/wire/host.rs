//! Which host a request is for: the Host header, checked, or the authority
//! of an absolute-form or CONNECT target (RFC 9112 section 3.2; Go: the
//! Host checks in `conn.readRequest`, server.go:1009-1015, and
//! `httpguts.ValidHostHeader`, golang.org/x/net/http/httpguts/httplex.go:214,
//! vendored with Go 1.19).
//!
//! RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request
//! without Host, to any request with more than one Host line (even with the
//! same value twice), and to a Host whose value is invalid. The value must
//! be `uri-host [ ":" port ]` of RFC 3986: we check that grammar, where Go
//! only checks that each byte could appear somewhere in it. An empty value
//! is refused too in HTTP/1.1 (it names no host), where Go accepts it.

use super::head::RequestHead;
use super::{HostError, WireError};
use http::header::HOST;
use http::{HeaderValue, Method, Version};

/// Checks the Host rules and returns the host the request is for: the
/// authority of an absolute-form target (`GET http://a.example/ HTTP/1.1`)
/// or of a CONNECT target when there is one, since RFC 9112 section 3.2.2
/// says it wins over Host; else the Host header; else (HTTP/1.0 without
/// Host) the empty string. An empty Host in HTTP/1.1 is an error, unless
/// the target carries the authority (then Host is ignored, section 3.2.2).
///
/// ```
/// use bytes::BytesMut;
/// use server::wire::{host_of, parse_request_head, Limits};
///
/// let parse = |text: &[u8]| parse_request_head(&mut BytesMut::from(text), &Limits::default()).unwrap().unwrap();
/// assert_eq!(host_of(&parse(b"GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n")).unwrap(), "a.example:8080");
/// assert_eq!(host_of(&parse(b"GET http://b.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n")).unwrap(), "b.example");
/// assert!(host_of(&parse(b"GET / HTTP/1.1\r\n\r\n")).is_err());
/// assert!(host_of(&parse(b"GET / HTTP/1.1\r\nHost: \r\n\r\n")).is_err());
/// assert_eq!(host_of(&parse(b"GET / HTTP/1.0\r\nHost: \r\n\r\n")).unwrap(), "");
/// assert!(host_of(&parse(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n")).is_err());
/// assert!(host_of(&parse(b"GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n")).is_err());
/// assert!(host_of(&parse(b"GET / HTTP/1.1\r\nHost: a.example/path\r\n\r\n")).is_err());
/// ```
pub fn host_of(head: &RequestHead) -> Result<&str, WireError> {
    let mut lines = HostLines::default();
    for value in head.headers.get_all(HOST) {
        lines.add(value);
    }
    host_from(head, lines)
}

/// The Host lines of a head, noted by a caller that walks its headers
/// anyway, for [`host_from`]. The server's connection does (a speed
/// trick): it saves the hashed lookup of [`host_of`], 110 instructions per
/// keep-alive request (6 835 -> 6 725; callgrind, `benches/instructions.sh`).
#[derive(Debug, Default, Clone, Copy)]
pub struct HostLines<'h> {
    /// The first Host value.
    pub first: Option<&'h HeaderValue>,
    /// There was more than one.
    pub repeated: bool,
}

impl<'h> HostLines<'h> {
    /// Notes one Host value, in the order of the head.
    pub fn add(&mut self, value: &'h HeaderValue) {
        if self.first.is_some() {
            self.repeated = true;
        } else {
            self.first = Some(value);
        }
    }
}

/// [`host_of`], from the Host lines of `head` already noted.
pub fn host_from<'h>(head: &'h RequestHead, lines: HostLines<'h>) -> Result<&'h str, WireError> {
    if lines.repeated {
        return Err(WireError::BadHost(HostError::Repeated));
    }
    let header = match lines.first {
        // Go (`conn.readRequest`, server.go:1011) lets CONNECT go without Host: its
        // target carries the authority.
        None if head.version == Version::HTTP_11 && head.method != Method::CONNECT => {
            return Err(WireError::BadHost(HostError::Missing))
        }
        None => None,
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| WireError::BadHost(HostError::NotAscii))?;
            // An empty value is judged below, once we know whether the
            // target carries the authority.
            if !value.is_empty() && !is_valid_authority(value.as_bytes()) {
                return Err(WireError::BadHost(HostError::Malformed));
            }
            Some(value)
        }
    };
    match (target_authority(&head.method, &head.target)?, header) {
        (Some(authority), _) => Ok(authority),
        // An empty Host names no host: the request's URI would be
        // `http:///path`, which RFC 9110 section 4.2.1 says a recipient MUST
        // reject (Go 1.19 accepts it). RFC 9112 section 3.2 has a client
        // send an empty Host only for a target URI without an authority,
        // never an http one. HTTP/1.0 has no Host rules: accepted there.
        (None, Some("")) if head.version == Version::HTTP_11 => Err(WireError::BadHost(HostError::Empty)),
        (None, header) => Ok(header.unwrap_or("")),
    }
}

/// The authority of an authority-form (CONNECT) or absolute-form target,
/// checked; `None` for origin-form (`/path`) and asterisk-form (`*`).
fn target_authority<'t>(method: &Method, target: &'t str) -> Result<Option<&'t str>, WireError> {
    if method == Method::CONNECT && !target.starts_with('/') {
        // authority-form (RFC 9112 section 3.2.3). Go (request.go:1068) parses it as
        // "http://" + target: the port may be missing and a path may follow
        // (`CONNECT example.com/pkg/foo`, used by net/rpc), and the ServeMux
        // routes on both (mux conformance corpus).
        let authority = &target[..target.find(['/', '?']).unwrap_or(target.len())];
        if authority.is_empty() || !is_valid_authority(authority.as_bytes()) {
            return Err(WireError::BadStartLine("invalid authority-form target"));
        }
        return Ok(Some(authority));
    }
    if target.starts_with('/') || target == "*" {
        return Ok(None);
    }
    // absolute-form: scheme "://" authority path-abempty [ "?" query ].
    let Some((scheme, rest)) = target.split_once("://") else {
        return Ok(None); // a URI without an authority (`urn:x`); the URL parser judges it
    };
    let valid_scheme = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !valid_scheme {
        return Err(WireError::BadStartLine("invalid scheme in absolute-form target"));
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    // RFC 9110 section 4.2.4: userinfo in an http(s) target is an error;
    // section 4.2.1: an empty host MUST be rejected.
    if authority.is_empty() || !is_valid_authority(authority.as_bytes()) {
        return Err(WireError::BadStartLine(
            "invalid authority in absolute-form target",
        ));
    }
    Ok(Some(authority))
}

/// `uri-host [ ":" port ]` (RFC 3986 section 3.2.2; the port may be
/// empty, as the grammar allows). uri-host is an IP-literal in brackets,
/// or a reg-name (which covers IPv4 addresses): unreserved characters,
/// sub-delims and %-escapes. No userinfo (`@`), no path (`/`).
fn is_valid_authority(text: &[u8]) -> bool {
    let after_host = if text.first() == Some(&b'[') {
        let Some(close) = text.iter().position(|&b| b == b']') else {
            return false;
        };
        let literal = &text[1..close];
        let literal_ok = !literal.is_empty()
            && literal
                .iter()
                .all(|&b| b == b':' || b == b'%' || REG_NAME_BYTE[b as usize]);
        if !literal_ok {
            return false;
        }
        &text[close + 1..]
    } else {
        // A colon is not a reg-name byte: the reg-name ends at the first
        // one, or at the first byte that cannot be in it. One pass over
        // the host where a search for the colon and then a check of what
        // is before it took two: 52 instructions per keep-alive request
        // (6 543 -> 6 491; callgrind, `benches/instructions.sh`).
        &text[reg_name_len(text)..]
    };
    match after_host {
        [] => true,
        [b':', port @ ..] => port.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// How many bytes at the front of `text` make a `reg-name = *( unreserved
/// / pct-encoded / sub-delims )`: up to the first byte that cannot be in
/// one, or the `%` of a malformed escape.
fn reg_name_len(text: &[u8]) -> usize {
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == b'%' {
            let escape_ok = text
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !escape_ok {
                return i;
            }
            i += 3;
        } else if REG_NAME_BYTE[b as usize] {
            i += 1;
        } else {
            return i;
        }
    }
    i
}

/// Which bytes may stand for themselves in a reg-name: unreserved and
/// sub-delims. A table, because every request's Host goes through this
/// loop: one lookup per byte instead of a few comparisons and two scans.
const REG_NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_unreserved(b as u8) || is_sub_delim(b as u8);
        b += 1;
    }
    table
};

const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

#[cfg(test)]
mod tests {
    use super::is_valid_authority;

    #[test]
    fn authority_grammar() {
        for good in [
            "example.com",
            "example.com:8080",
            "127.0.0.1:80",
            "[::1]",
            "[::1]:8080",
            "[fe80::1%25eth0]",
            "xn--bcher-kva.example",
            "a%41b",
            "localhost:",
        ] {
            assert!(is_valid_authority(good.as_bytes()), "{good:?}");
        }
        for bad in [
            "user@example.com",
            "example.com/path",
            "example.com:80:80",
            "example.com:http",
            "exa mple.com",
            "[::1",
            "[]",
            "[::1]x",
            "a%4",
            "a%zz",
            "ex\"ample",
            "caf\u{e9}.example",
        ] {
            assert!(!is_valid_authority(bad.as_bytes()), "{bad:?}");
        }
    }
}
