//! From text to a [`Url`]: the request-target (Go: `readRequest` and
//! `url.ParseRequestURI`) and any URL reference (Go: `url.Parse`), in
//! Go's order: control bytes, scheme, query, authority (userinfo, host,
//! port), path. Decoding is [`super::escape`]'s work; this file decides
//! which part of the text is which.

use super::escape::{count_escapes, is_default_escaping, unescape_into, EscapeTable, Mode};
use super::{Url, UrlError};
use http::Method;

/// Parses a request-target (Go: `readRequest`, request.go:1068, then
/// `url.ParseRequestURI`, url.go:484).
///
/// A CONNECT target that does not start with `/` is an authority
/// (`example.com:443`): Go parses it as `http://` + target and clears the
/// scheme afterwards, and so do we. The method is compared as Go does,
/// case-sensitively (`connect` is an ordinary extension method).
///
/// This builds a new [`Url`]; a connection that serves many requests uses
/// [`parse_request_target_into`] instead, which refills one.
///
/// ```
/// use http::Method;
/// use server::url::parse_request_target;
/// let u = parse_request_target(&Method::GET, "/a%2Fb/../c?x=1").unwrap();
/// assert_eq!(u.path, "/a/b/../c");
/// assert_eq!(u.raw_path, "/a%2Fb/../c");
/// assert_eq!(u.raw_query, "x=1");
/// let c = parse_request_target(&Method::CONNECT, "example.com:443").unwrap();
/// assert_eq!((c.host.as_str(), c.path.as_bytes()), ("example.com:443", &b""[..]));
/// assert!(parse_request_target(&Method::GET, "no-slash").is_err());
/// ```
pub fn parse_request_target(method: &Method, target: &str) -> Result<Url, UrlError> {
    let mut url = Url::default();
    parse_request_target_into(method, target, &mut url)?;
    Ok(url)
}

/// Parses a request-target into an existing [`Url`], reusing the memory
/// of its strings: the result is exactly what [`parse_request_target`]
/// returns, but a `url` that already held a target at least as long gets
/// it without allocating.
///
/// Why it exists: a keep-alive connection keeps one `Request`, and so one
/// `Url`, and refills it for each request it reads. Go allocates a new
/// `*url.URL` per request and leaves the old one to its garbage collector;
/// without a collector, reusing the buffers is what makes the second and
/// later requests on a connection free of allocation here.
///
/// On error `url` holds some valid but meaningless value (parts of the
/// bad target); the caller answers 400 and refills it next time.
///
/// ```
/// use http::Method;
/// use server::url::{parse_request_target_into, Url};
/// let mut url = Url::default();
/// parse_request_target_into(&Method::GET, "/a%20b?x=1", &mut url).unwrap();
/// assert_eq!((url.path.as_bytes(), url.raw_query.as_str()), (&b"/a b"[..], "x=1"));
/// // The next request on the connection: every field is replaced.
/// parse_request_target_into(&Method::GET, "/c", &mut url).unwrap();
/// assert_eq!(url, Url::from_path("/c", ""));
/// assert!(parse_request_target_into(&Method::GET, "c", &mut url).is_err());
/// ```
pub fn parse_request_target_into(method: &Method, target: &str, url: &mut Url) -> Result<(), UrlError> {
    let just_authority = method == Method::CONNECT && !target.starts_with('/');
    if just_authority {
        // What `parse("http://" + target)` does, without building that
        // string: no scheme to split (and it is cleared afterwards
        // anyway), the query cut, then everything is authority and path.
        reject_control_bytes(target)?;
        url.clear_keeping_capacity();
        let rest = cut_query(url, target);
        let path = parse_authority(url, rest)?;
        return set_path(url, path);
    }
    parse(target, true, url)
}

/// Parses a URL reference such as the argument of `http.Redirect` (Go:
/// `url.Parse`, url.go:463): a relative reference is allowed, and a `#fragment` is cut
/// off (and only checked, not kept).
pub fn parse_reference(raw: &str) -> Result<Url, UrlError> {
    let (rest, fragment) = raw.split_once('#').unwrap_or((raw, ""));
    let mut url = Url::default();
    parse(rest, false, &mut url)?;
    count_escapes(fragment, Mode::Fragment)?;
    Ok(url)
}

impl Url {
    /// Empties every field but keeps the strings' memory, for the next parse.
    fn clear_keeping_capacity(&mut self) {
        self.scheme.clear();
        self.opaque.clear();
        // Userinfo in a request-target is rare enough to allocate for.
        self.user = None;
        self.host.clear();
        self.path.0.clear();
        self.raw_path.clear();
        self.raw_query.clear();
        self.force_query = false;
    }
}

/// Go: `stringContainsCTLByte`, url.go:1246, the first check of `url.parse`.
fn reject_control_bytes(raw: &str) -> Result<(), UrlError> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err(UrlError("invalid control character in URL"));
    }
    Ok(())
}

/// Go: `url.parse`, url.go:496, writing into `url`. `via_request` is true for a
/// request-target, which must be absolute or start with `/`.
fn parse(raw: &str, via_request: bool, url: &mut Url) -> Result<(), UrlError> {
    reject_control_bytes(raw)?;
    if raw.is_empty() && via_request {
        return Err(UrlError("empty url"));
    }
    url.clear_keeping_capacity();
    if raw == "*" {
        url.path.0.push(b'*');
        return Ok(());
    }
    let (scheme, rest) = split_scheme(raw)?;
    url.scheme.push_str(scheme);
    url.scheme.make_ascii_lowercase();

    // The query is cut before the authority is looked at, as in Go.
    let rest = cut_query(url, rest);

    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            // A rootless path after a scheme is opaque (`mailto:x`).
            url.opaque.push_str(rest);
            return Ok(());
        }
        if via_request {
            return Err(UrlError("invalid URI for request"));
        }
        let first_segment = rest.split('/').next().unwrap_or("");
        if first_segment.contains(':') {
            return Err(UrlError("first path segment in URL cannot contain colon"));
        }
    }

    let has_authority =
        (!url.scheme.is_empty() || !via_request && !rest.starts_with("///")) && rest.starts_with("//");
    let path = if has_authority {
        parse_authority(url, &rest[2..])?
    } else {
        rest
    };
    set_path(url, path)
}

/// Go's query rule in `url.parse` (url.go:521): a target ending in its only `?` sets
/// `force_query`; otherwise everything after the first `?` is the raw
/// query. Returns what comes before the query.
fn cut_query<'a>(url: &mut Url, rest: &'a str) -> &'a str {
    let Some(question) = first_index(rest, b'?') else {
        return rest;
    };
    // The first `?` being the last byte is Go's "ends in `?` and holds
    // exactly one", found with one search instead of a count.
    if question == rest.len() - 1 {
        url.force_query = true;
    } else {
        url.raw_query.push_str(&rest[question + 1..]);
    }
    &rest[..question]
}

/// Go: `getScheme`, url.go:433. Returns the scheme (maybe empty) and the rest.
fn split_scheme(raw: &str) -> Result<(&str, &str), UrlError> {
    for (i, b) in raw.bytes().enumerate() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err(UrlError("missing protocol scheme")),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            // Anything else (including a leading digit) means there is no scheme.
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

/// Splits what follows `//` into the authority and the path, and sets
/// `url.user` and `url.host` from the authority (Go: the authority part of
/// `url.parse`, url.go:550, then `parseAuthority`, url.go:576). Returns the path.
fn parse_authority<'a>(url: &mut Url, authority_and_path: &'a str) -> Result<&'a str, UrlError> {
    let (authority, path) = match first_index(authority_and_path, b'/') {
        Some(i) => authority_and_path.split_at(i),
        None => (authority_and_path, ""),
    };
    let Some(at) = last_index(authority, b'@') else {
        parse_host(url, authority)?;
        return Ok(path);
    };
    parse_host(url, &authority[at + 1..])?;
    // The userinfo is checked (Go: `validUserinfo`, url.go:1223, then an
    // unescape of each half) and kept as sent.
    let userinfo = &authority[..at];
    let valid = userinfo
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b));
    if !valid {
        return Err(UrlError("invalid userinfo"));
    }
    for part in userinfo.splitn(2, ':') {
        count_escapes(part, Mode::UserPassword)?;
    }
    url.user = Some(userinfo.to_owned());
    Ok(path)
}

/// Go: `parseHost`, url.go:613: `host[:port]` or `[ipv6%25zone]:port`, with the port
/// all digits (or empty), and only the bytes a host may hold. Decodes into
/// `url.host`, which is empty on entry.
fn parse_host(url: &mut Url, host: &str) -> Result<(), UrlError> {
    if host.starts_with('[') {
        let close = last_index(host, b']').ok_or(UrlError("missing ']' in host"))?;
        if !valid_optional_port(&host[close + 1..]) {
            return Err(UrlError("invalid port after host"));
        }
        if let Some(zone) = host[..close].find("%25") {
            return set_host(
                url,
                &[
                    (&host[..zone], Mode::Host),
                    (&host[zone..close], Mode::Zone),
                    (&host[close..], Mode::Host),
                ],
            );
        }
    } else if let Some(colon) = last_index(host, b':') {
        if !valid_optional_port(&host[colon..]) {
            return Err(UrlError("invalid port after host"));
        }
    }
    set_host(url, &[(host, Mode::Host)])
}

/// Decodes the parts of a host, each in its mode, one after the other into
/// `url.host`. A host that decodes to invalid UTF-8 is kept lossily (see
/// the module docs).
fn set_host(url: &mut Url, parts: &[(&str, Mode)]) -> Result<(), UrlError> {
    let mut escapes = 0;
    for &(part, mode) in parts {
        escapes += count_escapes(part, mode)?;
    }
    if escapes == 0 {
        // The common case: nothing to decode, so the host is the text sent.
        for &(part, _) in parts {
            url.host.push_str(part);
        }
        return Ok(());
    }
    // Decode into the bytes of `url.host`, so that its memory is reused.
    let mut decoded = std::mem::take(&mut url.host).into_bytes();
    for &(part, mode) in parts {
        unescape_into(part, mode, &mut decoded)?;
    }
    url.host = match String::from_utf8(decoded) {
        Ok(text) => text,
        Err(not_utf8) => String::from_utf8_lossy(not_utf8.as_bytes()).into_owned(),
    };
    Ok(())
}

/// Where `byte` first occurs in `s`. A plain walk rather than `str::find`:
/// the parts of a request-target are a few bytes long, and the general
/// search costs more to set up than it saves on them (callgrind says so).
fn first_index(s: &str, byte: u8) -> Option<usize> {
    s.bytes().position(|b| b == byte)
}

/// Where `byte` last occurs in `s` (see [`first_index`]).
fn last_index(s: &str, byte: u8) -> Option<usize> {
    s.bytes().rposition(|b| b == byte)
}

/// Go: `validOptionalPort`, url.go:769: empty, or `:` followed by digits only.
fn valid_optional_port(port: &str) -> bool {
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// Go: `URL.setPath`, url.go:670: decode, and keep the raw form only when it is not
/// the default escaping of the decoded path. `url.path` and `url.raw_path`
/// are empty on entry and are filled in place.
fn set_path(url: &mut Url, raw: &str) -> Result<(), UrlError> {
    let table = EscapeTable::of(Mode::Path);
    if !raw.bytes().any(|b| table.escapes(b)) {
        // The common case, in one walk: `%` is among the bytes a path
        // escapes, so a raw path with none of them decodes to itself and
        // is already its own default escaping (no `raw_path`).
        url.path.0.extend_from_slice(raw.as_bytes());
        return Ok(());
    }
    unescape_into(raw, Mode::Path, &mut url.path.0)?;
    if !is_default_escaping(&url.path, raw) {
        url.raw_path.push_str(raw);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::escape_path;

    fn get(target: &str) -> Result<Url, UrlError> {
        parse_request_target(&Method::GET, target)
    }

    #[test]
    fn origin_form_is_decoded_as_bytes() {
        let u = get("/files/%FF/x%20y").unwrap();
        assert_eq!(u.path.as_bytes(), b"/files/\xff/x y");
        assert_eq!(u.raw_path, "");
        assert_eq!(escape_path(&u.path), "/files/%FF/x%20y");
        let u = get("/a%2fb").unwrap();
        assert_eq!(u.path, "/a/b");
        assert_eq!(u.raw_path, "/a%2fb");
        assert_eq!(u.escaped_path(), "/a%2fb");
    }

    #[test]
    fn query_rules_match_go() {
        let u = get("/tree?").unwrap();
        assert!(u.force_query && u.raw_query.is_empty());
        let u = get("/tree??").unwrap();
        assert!(!u.force_query);
        assert_eq!(u.raw_query, "?");
        let u = get("/a#b?c#d").unwrap();
        assert_eq!(u.path, "/a#b");
        assert_eq!(u.raw_query, "c#d");
    }

    #[test]
    fn bad_targets_are_refused() {
        for bad in [
            "",
            "test/",
            "?x=1",
            "**",
            "/%",
            "/%4",
            "/%zz",
            "/x\ty",
            ":foo",
            "http://a b/",
        ] {
            assert!(get(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn absolute_form_and_connect() {
        let u = get("HTTP://Example.com:80/p?q").unwrap();
        assert_eq!((u.scheme.as_str(), u.host.as_str()), ("http", "Example.com:80"));
        assert_eq!(u.path, "/p");
        let u = get("http://example.com").unwrap();
        assert_eq!(u.path, "");
        let u = get("http:opaque").unwrap();
        assert_eq!(u.opaque, "opaque");
        assert!(get("http://example.com:8a/").is_err());
        let u = get("http://user:pw@example.com/").unwrap();
        assert_eq!(u.user.as_deref(), Some("user:pw"));
        let u = get("http://[::1]:8080/x").unwrap();
        assert_eq!(u.host, "[::1]:8080");
        let c = parse_request_target(&Method::CONNECT, "http://example.com/rpc").unwrap();
        assert_eq!(c.host, "http:");
        assert_eq!(c.path, "//example.com/rpc");
        let c = parse_request_target(&Method::CONNECT, "/rpc").unwrap();
        assert_eq!((c.host.as_str(), c.path.as_bytes()), ("", &b"/rpc"[..]));
        let star = get("*").unwrap();
        assert_eq!(star.path, "*");
    }

    #[test]
    fn reference_parsing_for_redirect() {
        assert!(parse_reference("https://baidu.com").unwrap().host == "baidu.com");
        assert!(parse_reference("//evil.com/x").unwrap().host == "evil.com");
        assert!(parse_reference("///x").unwrap().host.is_empty());
        assert!(parse_reference("a:b/c").unwrap().opaque == "b/c");
        assert!(parse_reference("other#frag").is_ok());
        assert!(parse_reference("/x#%zz").is_err());
    }
}
