//! The request-target as a URL, the way Go's `net/url` sees it.
//!
//! Go's server turns the request-target into a `*url.URL` with
//! `url.ParseRequestURI` (request.go `readRequest`), and the ServeMux then
//! matches on the *decoded* path (`URL.Path`) and builds redirects from it.
//! This module is the small part of `net/url` that the server and the mux
//! need: parsing a request-target, and escaping a path back for a
//! `Location` header.

use http::Method;
use std::fmt;

/// A parsed request-target (Go: `url.URL`, the fields a server fills in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Url {
    /// `http` for an absolute-form target, empty otherwise.
    pub scheme: String,
    /// The authority of an absolute-form or CONNECT target, empty otherwise.
    pub host: String,
    /// The decoded path (`%2F` becomes `/`).
    pub path: String,
    /// The path as sent, when it differs from the default escaping of `path`.
    pub raw_path: String,
    /// Everything after the first `?`, not decoded.
    pub raw_query: String,
    /// The target ended in a `?` with nothing after it.
    pub force_query: bool,
}

/// Why a request-target could not be parsed (the server answers 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub &'static str);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid request-target: {}", self.0)
    }
}

impl std::error::Error for UrlError {}

/// Parses a request-target (Go: `readRequest` + `url.ParseRequestURI`).
///
/// A CONNECT target that does not start with `/` is an authority
/// (`example.com:443`), parsed as if it were `http://example.com:443`, with
/// the scheme cleared afterwards, as Go does.
pub fn parse_request_target(method: &Method, target: &str) -> Result<Url, UrlError> {
    if target.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(UrlError("control byte"));
    }
    if target == "*" {
        return Ok(Url {
            path: "*".to_owned(),
            ..Url::default()
        });
    }
    let just_authority = method == Method::CONNECT && !target.starts_with('/');
    if just_authority {
        let mut url = parse_absolute(&format!("http://{target}"))?;
        url.scheme.clear();
        return Ok(url);
    }
    if target.starts_with('/') {
        return parse_origin(target);
    }
    parse_absolute(target)
}

fn parse_origin(target: &str) -> Result<Url, UrlError> {
    let (raw_path, raw_query, force_query) = match target.split_once('?') {
        Some((path, query)) => (path, query, query.is_empty()),
        None => (target, "", false),
    };
    let path = unescape_path(raw_path)?;
    Ok(Url {
        raw_path: if escape_path(&path) == raw_path {
            String::new()
        } else {
            raw_path.to_owned()
        },
        path,
        raw_query: raw_query.to_owned(),
        force_query,
        ..Url::default()
    })
}

fn parse_absolute(target: &str) -> Result<Url, UrlError> {
    let colon = target.find(':').ok_or(UrlError("missing leading slash"))?;
    let scheme = &target[..colon];
    let valid_scheme = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
    if !valid_scheme {
        return Err(UrlError("missing leading slash"));
    }
    let rest = &target[colon + 1..];
    let Some(after_slashes) = rest.strip_prefix("//") else {
        return Err(UrlError("opaque URL in request"));
    };
    let authority_end = after_slashes.find(['/', '?']).unwrap_or(after_slashes.len());
    let host = &after_slashes[..authority_end];
    if host.contains('@') {
        return Err(UrlError("userinfo in request-target"));
    }
    let mut url = parse_origin_or_empty(&after_slashes[authority_end..])?;
    url.scheme = scheme.to_ascii_lowercase();
    url.host = host.to_owned();
    Ok(url)
}

fn parse_origin_or_empty(rest: &str) -> Result<Url, UrlError> {
    if rest.is_empty() {
        return Ok(Url::default());
    }
    if let Some(query) = rest.strip_prefix('?') {
        return Ok(Url {
            raw_query: query.to_owned(),
            force_query: query.is_empty(),
            ..Url::default()
        });
    }
    parse_origin(rest)
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is an error.
pub fn unescape_path(raw: &str) -> Result<String, UrlError> {
    if !raw.contains('%') {
        return Ok(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(UrlError("invalid URL escape"))?;
            let high = (hex[0] as char)
                .to_digit(16)
                .ok_or(UrlError("invalid URL escape"))?;
            let low = (hex[1] as char)
                .to_digit(16)
                .ok_or(UrlError("invalid URL escape"))?;
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Escapes a decoded path for use in a URL (Go: `url.PathEscape` rules for
/// `EscapedPath`): unreserved characters and `/ : @ & = + $ , ; ~` stay as
/// they are, everything else becomes `%XX` (upper-case hex).
pub fn escape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-_.~/:@&=+$,;!*'()".contains(&b) && !b"!*'()".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
