//! Percent-escapes, as the modern mux needs them (Go: `url.PathUnescape`,
//! `URL.EscapedPath`, net/url's `shouldEscape` for a path).
//!
//! From Go 1.22 the mux matches the *escaped* path, segment by segment,
//! and unescapes each segment on its own: `/a%2Fb` is the one segment
//! `a/b`, not the two segments `a` and `b` that the decoded path would
//! give. So the mux starts from [`escaped_path`], and unescapes pieces of
//! it with [`unescape_into`] / [`with_unescaped`] (unless the URL has no
//! `raw_path`: then the decoded path has the very same segments, and the
//! mux walks it as it is, see `segments`).
//!
//! The server crate's `url` module has the same operations, returning new
//! strings; these write into a caller's buffer or compare in place, so
//! that a lookup allocates nothing.

use server::url::Url;
use std::borrow::Cow;

/// Go: `shouldEscape(b, encodePath)`: letters, digits, `-_.~` and
/// `$&+,/:;=@` stay as they are in a path; every other byte (`?`, `%`,
/// space, `!`, every byte above 0x7F...) is written `%XX`.
const fn should_escape_slow(b: u8) -> bool {
    !matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'-' | b'_' | b'.' | b'~'
        | b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@')
}

/// [`should_escape_slow`] for every byte, computed at compile time: one
/// load per byte is about twice as fast as the chain of ranges (as Go's
/// own `encoding_table.go`), and a path that is not plain (a `raw_path`,
/// CONNECT, a path to clean) is scanned with it.
static SHOULD_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = should_escape_slow(b as u8);
        b += 1;
    }
    table
};

fn should_escape(b: u8) -> bool {
    SHOULD_ESCAPE[usize::from(b)]
}

/// Go: `validEncoded(s, encodePath)`: `s` holds nothing that escaping
/// would change, the RFC 3986 sub-delimiters and `%` allowed.
fn valid_encoded(s: &[u8]) -> bool {
    s.iter()
        .all(|&b| b"!$&'()*+,;=:@[]%".contains(&b) || !should_escape(b))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The bytes of `s` with its `%XX` escapes decoded, one at a time; an
/// `Err(())` item where an escape is malformed (Go: `unescape` fails).
fn unescaped_bytes(s: &[u8]) -> impl Iterator<Item = Result<u8, ()>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *s.get(i)?;
        if b != b'%' {
            i += 1;
            return Some(Ok(b));
        }
        let hi = s.get(i + 1).copied().and_then(hex_value);
        let lo = s.get(i + 2).copied().and_then(hex_value);
        i += 3;
        match (hi, lo) {
            (Some(hi), Some(lo)) => Some(Ok(hi << 4 | lo)),
            _ => {
                i = s.len(); // stop after the error
                Some(Err(()))
            }
        }
    })
}

/// Appends `s` unescaped to `out`; a malformed escape leaves `s` as it is
/// (Go: the mux's `pathUnescape`, "use the original").
pub fn unescape_into(s: &[u8], out: &mut Vec<u8>) {
    if !s.contains(&b'%') {
        out.extend_from_slice(s);
        return;
    }
    let start = out.len();
    for b in unescaped_bytes(s) {
        match b {
            Ok(b) => out.push(b),
            Err(()) => {
                out.truncate(start);
                out.extend_from_slice(s);
                return;
            }
        }
    }
}

/// Calls `f` with `segment` unescaped as [`unescape_into`] would, without
/// allocating: the segment itself when it has no `%` (almost always), else
/// decoded into a buffer on the stack (on the heap past 256 bytes).
pub fn with_unescaped<R>(segment: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    if !segment.contains(&b'%') {
        return f(segment);
    }
    let mut stack = [0u8; 256];
    if segment.len() <= stack.len() {
        let mut n = 0;
        for b in unescaped_bytes(segment) {
            match b {
                Ok(b) => {
                    stack[n] = b;
                    n += 1;
                }
                Err(()) => return f(segment),
            }
        }
        return f(&stack[..n]);
    }
    let mut heap = Vec::with_capacity(segment.len());
    unescape_into(segment, &mut heap);
    f(&heap)
}

/// Go: `url.PathUnescape` as the pattern parser uses it: `s` unescaped,
/// or `s` itself when an escape is malformed.
pub fn path_unescape(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    unescape_into(s.as_bytes(), &mut out);
    Cow::Owned(out)
}

/// Go: `URL.EscapedPath`: the path as it was sent (`raw_path`) when that is
/// a valid escaping of the decoded path, else the decoded path escaped.
/// Borrowed in both common cases: a target sent with unusual escapes
/// (kept in `raw_path`) and one sent with none. Bytes, since the mux only
/// compares it (it is ASCII whichever way it was made).
pub fn escaped_path(url: &Url) -> Cow<'_, [u8]> {
    let path = url.path.as_bytes();
    let raw = url.raw_path.as_bytes();
    if !raw.is_empty() && valid_encoded(raw) && unescapes_to(raw, path) {
        return Cow::Borrowed(raw);
    }
    if path == b"*" {
        return Cow::Borrowed(b"*");
    }
    if !path.iter().any(|&b| should_escape(b)) {
        return Cow::Borrowed(path);
    }
    Cow::Owned(escape(path).into_bytes())
}

/// Go: `unescape(raw, encodePath) == path`, without building the string.
fn unescapes_to(raw: &[u8], path: &[u8]) -> bool {
    let mut want = path.iter();
    for b in unescaped_bytes(raw) {
        match b {
            Ok(b) if want.next() == Some(&b) => {}
            _ => return false,
        }
    }
    want.next().is_none()
}

/// Go: `escape(s, encodePath)`, upper-case hex.
fn escape(s: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() + 8);
    for &b in s {
        if should_escape(b) {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        } else {
            out.push(b as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;
    use server::url::parse_request_target;

    #[test]
    fn the_table_is_the_function() {
        for b in 0..=255u8 {
            assert_eq!(should_escape(b), should_escape_slow(b), "{b:#x}");
        }
    }

    #[test]
    fn escaped_path_agrees_with_the_url_module() {
        for target in [
            "/a",
            "/a%2Fb",
            "/a%2fb",
            "/%61",
            "/a%20b",
            "/日本",
            "/%E6%97%A5",
            "/it's",
            "/%FF",
            "/a%3Fb",
            "/~x",
            "/(x)",
            "*",
        ] {
            let url = parse_request_target(&Method::GET, target).unwrap();
            assert_eq!(&*escaped_path(&url), url.escaped_path().as_bytes(), "{target}");
        }
    }

    /// Go: `pathUnescape` in pattern.go, "use the original" on error.
    #[test]
    fn unescape_keeps_a_malformed_segment() {
        let mut out = Vec::new();
        unescape_into(b"a%2Fb", &mut out);
        assert_eq!(out, b"a/b");
        out.clear();
        unescape_into(b"%x", &mut out);
        assert_eq!(out, b"%x");
        let unescaped = |s: &[u8]| with_unescaped(s, <[u8]>::to_vec);
        assert_eq!(unescaped(b"%61"), b"a");
        assert_eq!(unescaped(b"a%2fb"), b"a/b");
        assert_eq!(unescaped(b"%x"), b"%x");
        assert_eq!(unescaped(b"plain"), b"plain");
        let long = "%41".repeat(100);
        assert_eq!(unescaped(long.as_bytes()), "A".repeat(100).as_bytes());
    }
}
