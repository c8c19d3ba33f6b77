//! Percent-encoding both ways, by the part of a URL a string belongs to
//! (Go: `shouldEscape`, `unescape`, `escape`, `validEncoded` in
//! `net/url/url.go`). The parser decodes with it and the formatter
//! encodes with it; the rule is one `const fn`, turned at compile time
//! into a table per part ([`EscapeTable`]), which is what runs per byte.

use super::path::UrlPath;
use super::UrlError;

/// Which part of a URL a string belongs to; each escapes differently
/// (Go: `encoding`, url.go:72).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

/// Go: `shouldEscape`, url.go:101, for the modes we use. This is the rule; the code
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
pub(super) struct EscapeTable([bool; 256]);

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
    pub(super) fn of(mode: Mode) -> &'static EscapeTable {
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
    pub(super) fn escapes(&self, b: u8) -> bool {
        self.0[usize::from(b)]
    }
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Go: `unescape`, url.go:200: decodes `%XX`; a `%` without two hex digits is an
/// error, and a host may only escape non-ASCII bytes (and `%25`).
pub(super) fn unescape(s: &str, mode: Mode) -> Result<Vec<u8>, UrlError> {
    let mut out = Vec::with_capacity(s.len());
    unescape_into(s, mode, &mut out)?;
    Ok(out)
}

/// [`unescape`], appending the decoded bytes to `out`. As in Go, a first
/// walk checks and counts the escapes, and a string without any is copied
/// as it is; only one with escapes is walked again to decode them.
pub(super) fn unescape_into(s: &str, mode: Mode, out: &mut Vec<u8>) -> Result<(), UrlError> {
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

/// Go: the first loop of `unescape`, url.go:204: checks every escape (and, in a host,
/// every plain byte) and returns how many escapes `s` holds.
pub(super) fn count_escapes(s: &str, mode: Mode) -> Result<usize, UrlError> {
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

/// Go: `escape`, url.go:285: every byte `should_escape` names becomes `%XX`, upper-case hex.
pub(super) fn escape(bytes: &[u8], mode: Mode) -> String {
    let mut out = String::with_capacity(bytes.len());
    escape_into(&mut out, bytes, mode);
    out
}

pub(super) fn escape_into(out: &mut String, bytes: &[u8], mode: Mode) {
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
pub(super) fn is_default_escaping(path: &[u8], raw: &str) -> bool {
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

/// Decodes the `%XX` escapes of a path (Go: `url.PathUnescape`, url.go:194).
pub fn unescape_path(raw: &str) -> Result<UrlPath, UrlError> {
    unescape(raw, Mode::Path).map(UrlPath)
}

/// Go: `validEncoded(s, encodePath)`, url.go:710: `s` holds no byte that escaping would change.
pub(super) fn valid_encoded_path(s: &str) -> bool {
    let table = EscapeTable::of(Mode::Path);
    s.bytes()
        .all(|b| !table.escapes(b) || b"!$&'()*+,;=:@[]%".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
