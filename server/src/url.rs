//! The request-target as a URL, the way Go's `net/url` sees it.
//!
//! Go's server turns the request-target into a `*url.URL` with
//! `url.ParseRequestURI` (request.go `readRequest`), and the ServeMux then
//! matches on the *decoded* path (`URL.Path`) and builds its redirects from
//! it with `url.URL.String`. This module is the part of `net/url` that the
//! server, the mux and `http.Redirect` need: parsing a request-target (and,
//! for `Redirect`, any URL reference), and escaping a path back.
//!
//! ## The decoded path is bytes, not text
//!
//! In Go a `string` is any sequence of bytes, so `%FF` decodes into
//! `URL.Path` as the single byte `0xFF`, and a redirect escapes it back to
//! `%FF`. A Rust `String` must be UTF-8, and turning `0xFF` into U+FFFD
//! would send `%EF%BF%BD` back to the client. So the decoded path is a
//! [`UrlPath`]: a byte string that keeps exactly what the client escaped,
//! with [`UrlPath::as_str`] when it happens to be UTF-8 (almost always)
//! and [`UrlPath::to_str_lossy`] for logs. Everything else (scheme, host,
//! query) stays `String`: the query is never decoded here, and a host that
//! decodes to invalid UTF-8 is kept lossily (it could not equal any host
//! pattern, which is UTF-8, so matching is unchanged).
//!
//! ## One `Url` per connection
//!
//! Go's server builds a new `*url.URL` for every request and leaves the
//! old one to the garbage collector. Here a keep-alive connection keeps one
//! [`Url`] and refills it with [`parse_request_target_into`], which clears
//! its strings and reuses their memory: from the second request on, the
//! parse allocates nothing. The common target (`/hello`, `/a/b?x=1`: no
//! `%`, nothing to escape) is walked three times: for control bytes, for
//! the `?`, and once over the path against a table of the bytes a path
//! escapes (Go's `shouldEscape` computed for all 256 bytes at compile time).

use http::Method;
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

/// A parsed URL (Go: `url.URL`, without `Fragment`, which a
/// request-target never has).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Url {
    /// The scheme, lower-cased: `http` for an absolute-form target, empty
    /// for an origin-form one.
    pub scheme: String,
    /// What follows `scheme:` when it does not start with `/` (`mailto:x`).
    pub opaque: String,
    /// The userinfo before `@` in the authority, as sent (Go: `User`).
    pub user: Option<String>,
    /// The authority of an absolute-form or CONNECT target, decoded; empty otherwise.
    pub host: String,
    /// The decoded path (`%2F` becomes `/`, `%FF` the byte 0xFF).
    pub path: UrlPath,
    /// The path as sent, when it differs from the default escaping of `path`.
    pub raw_path: String,
    /// Everything after the `?`, not decoded.
    pub raw_query: String,
    /// The target ended in a `?` with nothing after it (Go: `ForceQuery`).
    pub force_query: bool,
}

/// A decoded URL path: bytes, because `%FF` decodes to a byte that is not
/// UTF-8 (Go's `URL.Path` is a byte string too). See the module docs.
///
/// ```
/// use server::url::UrlPath;
/// let p = UrlPath::from("/a b");
/// assert_eq!(p, "/a b");
/// assert_eq!(p.as_str(), Some("/a b"));
/// let raw = UrlPath::from(b"/\xff".to_vec());
/// assert_eq!(raw.as_str(), None);
/// assert_eq!(server::url::escape_path(&raw), "/%FF");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UrlPath(Vec<u8>);

impl UrlPath {
    /// The path's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The path as text, when it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The path as text, with invalid bytes shown as U+FFFD (for logs).
    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl Deref for UrlPath {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for UrlPath {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&str> for UrlPath {
    fn from(s: &str) -> Self {
        UrlPath(s.as_bytes().to_vec())
    }
}

impl From<String> for UrlPath {
    fn from(s: String) -> Self {
        UrlPath(s.into_bytes())
    }
}

impl From<Vec<u8>> for UrlPath {
    fn from(bytes: Vec<u8>) -> Self {
        UrlPath(bytes)
    }
}

impl PartialEq<str> for UrlPath {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for UrlPath {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<[u8]> for UrlPath {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

impl fmt::Debug for UrlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => fmt::Debug::fmt(s, f),
            None => write!(f, "\"{}\"", self.0.escape_ascii()),
        }
    }
}

impl fmt::Display for UrlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_str_lossy())
    }
}

/// Why a URL could not be parsed (for a request-target, the server answers 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub &'static str);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid URL: {}", self.0)
    }
}

impl std::error::Error for UrlError {}

/// Parses a request-target (Go: `readRequest` + `url.ParseRequestURI`).
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
/// `url.Parse`): a relative reference is allowed, and a `#fragment` is cut
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

/// Go: `stringContainsCTLByte`, the first check of `url.parse`.
fn reject_control_bytes(raw: &str) -> Result<(), UrlError> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err(UrlError("invalid control character in URL"));
    }
    Ok(())
}

/// Go: `url.parse`, writing into `url`. `via_request` is true for a
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

/// Go's query rule in `url.parse`: a target ending in its only `?` sets
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

/// Go: `getScheme`. Returns the scheme (maybe empty) and the rest.
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
/// `url.parse`, then `parseAuthority`). Returns the path.
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
    // The userinfo is checked and kept as sent.
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

/// Go: `parseHost`: `host[:port]` or `[ipv6%25zone]:port`, with the port
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

/// Go: `validOptionalPort`: empty, or `:` followed by digits only.
fn valid_optional_port(port: &str) -> bool {
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// Go: `URL.setPath`: decode, and keep the raw form only when it is not
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

/// Which part of a URL a string belongs to; each escapes differently
/// (Go: `encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

/// Go: `shouldEscape` for the modes we use. This is the rule; the code
/// that runs per byte asks the [`EscapeTable`] built from it.
const fn should_escape(b: u8, mode: Mode) -> bool {
    if b.is_ascii_alphanumeric() {
        return false;
    }
    // A host keeps its sub-delims, `:` before the port, the brackets of an
    // IPv6 literal, and `< > "` (which it may not %-encode either).
    if matches!(mode, Mode::Host | Mode::Zone) && byte_in(b"!$&'()*+,;=:[]<>\"", b) {
        return false;
    }
    match b {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            // Go escapes only `?` in a whole path: the others are legal there.
            Mode::Path => b == b'?',
            Mode::UserPassword => matches!(b, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => false,
            Mode::Host | Mode::Zone => true,
        },
        b'!' | b'(' | b')' | b'*' if matches!(mode, Mode::Fragment) => false,
        _ => true,
    }
}

/// `set.contains(&b)`, which a `const fn` cannot call yet.
const fn byte_in(set: &[u8], b: u8) -> bool {
    let mut i = 0;
    while i < set.len() {
        if set[i] == b {
            return true;
        }
        i += 1;
    }
    false
}

/// [`should_escape`] for all 256 bytes of one mode, computed at compile
/// time: a parse asks it for every byte of the target, and one indexed
/// load is cheaper than walking the rule's cases each time.
struct EscapeTable([bool; 256]);

impl EscapeTable {
    const fn new(mode: Mode) -> EscapeTable {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            table[b] = should_escape(b as u8, mode);
            b += 1;
        }
        EscapeTable(table)
    }

    /// The table for `mode`.
    fn of(mode: Mode) -> &'static EscapeTable {
        static PATH: EscapeTable = EscapeTable::new(Mode::Path);
        static HOST: EscapeTable = EscapeTable::new(Mode::Host);
        static ZONE: EscapeTable = EscapeTable::new(Mode::Zone);
        static USER_PASSWORD: EscapeTable = EscapeTable::new(Mode::UserPassword);
        static FRAGMENT: EscapeTable = EscapeTable::new(Mode::Fragment);
        match mode {
            Mode::Path => &PATH,
            Mode::Host => &HOST,
            Mode::Zone => &ZONE,
            Mode::UserPassword => &USER_PASSWORD,
            Mode::Fragment => &FRAGMENT,
        }
    }

    /// Whether `b` must be written as `%XX` (Go: `shouldEscape(b, mode)`).
    fn escapes(&self, b: u8) -> bool {
        self.0[usize::from(b)]
    }
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Go: `unescape`: decodes `%XX`; a `%` without two hex digits is an
/// error, and a host may only escape non-ASCII bytes (and `%25`).
fn unescape(s: &str, mode: Mode) -> Result<Vec<u8>, UrlError> {
    let mut out = Vec::with_capacity(s.len());
    unescape_into(s, mode, &mut out)?;
    Ok(out)
}

/// [`unescape`], appending the decoded bytes to `out`. As in Go, a first
/// walk checks and counts the escapes, and a string without any is copied
/// as it is; only one with escapes is walked again to decode them.
fn unescape_into(s: &str, mode: Mode, out: &mut Vec<u8>) -> Result<(), UrlError> {
    let escapes = count_escapes(s, mode)?;
    let bytes = s.as_bytes();
    if escapes == 0 {
        out.extend_from_slice(bytes);
        return Ok(());
    }
    // Each `%XX` becomes one byte.
    out.reserve(bytes.len() - 2 * escapes);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(escaped_byte(bytes, i, mode)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(())
}

/// Go: the first loop of `unescape`: checks every escape (and, in a host,
/// every plain byte) and returns how many escapes `s` holds.
fn count_escapes(s: &str, mode: Mode) -> Result<usize, UrlError> {
    let bytes = s.as_bytes();
    let in_host = matches!(mode, Mode::Host | Mode::Zone);
    let table = EscapeTable::of(mode);
    let mut escapes = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            escaped_byte(bytes, i, mode)?;
            escapes += 1;
            i += 3;
        } else {
            if in_host && b < 0x80 && table.escapes(b) {
                return Err(UrlError("invalid character in host name"));
            }
            i += 1;
        }
    }
    Ok(escapes)
}

/// The byte that the escape `%XX` at `bytes[i]` stands for, with Go's
/// checks: two hex digits, and in a host only non-ASCII bytes (or `%25`).
fn escaped_byte(bytes: &[u8], i: usize, mode: Mode) -> Result<u8, UrlError> {
    let (Some(high), Some(low)) = (
        bytes.get(i + 1).copied().and_then(hex_value),
        bytes.get(i + 2).copied().and_then(hex_value),
    ) else {
        return Err(UrlError("invalid URL escape"));
    };
    let value = high << 4 | low;
    let is_pct25 = &bytes[i..i + 3] == b"%25";
    if mode == Mode::Host && high < 8 && !is_pct25 {
        return Err(UrlError("invalid URL escape in host"));
    }
    let host_table = EscapeTable::of(Mode::Host);
    if mode == Mode::Zone && !is_pct25 && value != b' ' && host_table.escapes(value) {
        return Err(UrlError("invalid URL escape in zone"));
    }
    Ok(value)
}

/// Go: `escape`: every byte `should_escape` names becomes `%XX`, upper-case hex.
fn escape(bytes: &[u8], mode: Mode) -> String {
    let mut out = String::with_capacity(bytes.len());
    escape_into(&mut out, bytes, mode);
    out
}

fn escape_into(out: &mut String, bytes: &[u8], mode: Mode) {
    let table = EscapeTable::of(mode);
    for &b in bytes {
        if table.escapes(b) {
            out.extend(percent_encoded(b).map(char::from));
        } else {
            out.push(b as char);
        }
    }
}

/// `%XX` for one byte, upper-case hex, as Go's `escape` writes it.
fn percent_encoded(b: u8) -> [u8; 3] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    [b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]
}

/// True when `raw` is exactly `escape(path, Mode::Path)`, checked without
/// building that string: this runs for every request-target, and Go's
/// `escape` allocates nothing either when there is nothing to escape.
fn is_default_escaping(path: &[u8], raw: &str) -> bool {
    let table = EscapeTable::of(Mode::Path);
    if path.len() == raw.len() {
        // Decoding only shortens (each `%XX` becomes one byte), so equal
        // lengths mean nothing was decoded and `path` is `raw`: the common
        // case. The default escaping then leaves it as it is exactly when
        // no byte needs escaping (Go's `escape` returns its input then).
        return !path.iter().any(|&b| table.escapes(b));
    }
    let mut rest = raw.as_bytes();
    for &b in path {
        let matched = if table.escapes(b) {
            rest.strip_prefix(&percent_encoded(b)[..])
        } else {
            rest.strip_prefix(&[b][..])
        };
        match matched {
            Some(after) => rest = after,
            None => return false,
        }
    }
    rest.is_empty()
}

/// Escapes a decoded path for a URL (Go: `escape(path, encodePath)`, what
/// `EscapedPath` computes): letters, digits, `- _ . ~` and
/// `$ & + , / : ; = @` stay; everything else, `?` included, becomes `%XX`.
///
/// ```
/// assert_eq!(server::url::escape_path(b"/it's a ~test?"), "/it%27s%20a%20~test%3F");
/// ```
pub fn escape_path(path: &[u8]) -> String {
    escape(path, Mode::Path)
}

/// Decodes the `%XX` escapes of a path (Go: `url.PathUnescape`).
pub fn unescape_path(raw: &str) -> Result<UrlPath, UrlError> {
    unescape(raw, Mode::Path).map(UrlPath)
}

/// Go: `validEncoded(s, encodePath)`: `s` holds no byte that escaping would change.
fn valid_encoded_path(s: &str) -> bool {
    let table = EscapeTable::of(Mode::Path);
    s.bytes()
        .all(|b| !table.escapes(b) || b"!$&'()*+,;=:@[]%".contains(&b))
}

impl Url {
    /// A URL with just a path and a query, as the mux builds its redirects
    /// (Go: `&url.URL{Path: path, RawQuery: query}`).
    pub fn from_path(path: impl Into<UrlPath>, raw_query: &str) -> Url {
        Url {
            path: path.into(),
            raw_query: raw_query.to_owned(),
            ..Url::default()
        }
    }

    /// The path escaped for the wire: `raw_path` when it is a valid
    /// escaping of `path`, otherwise `path` escaped (Go: `EscapedPath`).
    pub fn escaped_path(&self) -> Cow<'_, str> {
        if !self.raw_path.is_empty() && valid_encoded_path(&self.raw_path) {
            if let Ok(decoded) = unescape(&self.raw_path, Mode::Path) {
                if decoded == self.path.as_bytes() {
                    return Cow::Borrowed(&self.raw_path);
                }
            }
        }
        if self.path == "*" {
            return Cow::Borrowed("*");
        }
        Cow::Owned(escape(&self.path, Mode::Path))
    }
}

impl Url {
    /// The URL as text (Go: `URL.String`, without the fragment a server
    /// never has). Also what `Display` writes.
    pub fn string(&self) -> String {
        let mut out = String::with_capacity(self.path.len() + self.raw_query.len() + 16);
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if !self.opaque.is_empty() {
            out.push_str(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    out.push_str("//");
                }
                if let Some(user) = &self.user {
                    out.push_str(user);
                    out.push('@');
                }
                escape_into(&mut out, self.host.as_bytes(), Mode::Host);
            }
            let has_raw_path = !self.raw_path.is_empty() || self.path == "*";
            let path = if has_raw_path {
                self.escaped_path()
            } else {
                // The common case, escaped straight into `out` below.
                Cow::Borrowed("")
            };
            let first = if has_raw_path {
                path.as_bytes().first().copied()
            } else {
                self.path.first().copied()
            };
            if first.is_some_and(|b| b != b'/') && !self.host.is_empty() {
                out.push('/');
            }
            if out.is_empty() {
                // `a:b` would read as a scheme: write `./a:b` (RFC 3986 section 4.2).
                let whole: &[u8] = if has_raw_path { path.as_bytes() } else { &self.path };
                let first_segment = whole.split(|&b| b == b'/').next().unwrap_or(&[]);
                if first_segment.contains(&b':') {
                    out.push_str("./");
                }
            }
            if has_raw_path {
                out.push_str(&path);
            } else {
                escape_into(&mut out, &self.path, Mode::Path);
            }
        }
        if self.force_query || !self.raw_query.is_empty() {
            out.push('?');
            out.push_str(&self.raw_query);
        }
        out
    }
}

/// Go: `URL.String`; see [`Url::string`].
impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn string_matches_go() {
        assert_eq!(Url::from_path("/tree/", "a=1").to_string(), "/tree/?a=1");
        assert_eq!(Url::from_path("/tree/", "").to_string(), "/tree/");
        assert_eq!(Url::from_path("/a:b", "").to_string(), "/a:b");
        assert_eq!(Url::from_path("a:b", "").to_string(), "./a:b");
        assert_eq!(
            Url::from_path(b"/q?/\xc3\xbc".to_vec(), "").to_string(),
            "/q%3F/%C3%BC"
        );
        assert_eq!(
            Url::from_path("/it's(1)!*", "").to_string(),
            "/it%27s%281%29%21%2A"
        );
        assert_eq!(Url::from_path("/~:;+&=@$,", "").to_string(), "/~:;+&=@$,");
    }

    proptest::proptest! {
        /// Escaping any byte path and parsing it back gives the same bytes,
        /// with no raw path kept (the escaping is Go's default one).
        #[test]
        fn escape_then_parse_round_trips(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let mut path = b"/".to_vec();
            path.extend_from_slice(&tail);
            let escaped = escape_path(&path);
            proptest::prop_assert!(escaped.is_ascii());
            let url = get(&escaped).unwrap();
            proptest::prop_assert_eq!(url.path.as_bytes(), &path[..]);
            proptest::prop_assert_eq!(url.raw_path.as_str(), "");
            proptest::prop_assert_eq!(Url::from_path(path.clone(), "").string(), escaped);
        }
    }

    proptest::proptest! {
        /// `set_path`'s allocation-free check decides as Go's literal
        /// `escape(path) == raw` does, escapes in either case included.
        #[test]
        fn default_escaping_check_agrees_with_escaping(
            raw in "/([a-zA-Z0-9/:;@$&+,=~._!'()*<>-]|%[0-9a-fA-F]{2})*"
        ) {
            let path = unescape(&raw, Mode::Path).unwrap();
            proptest::prop_assert_eq!(is_default_escaping(&path, &raw), escape(&path, Mode::Path) == raw);
        }
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
