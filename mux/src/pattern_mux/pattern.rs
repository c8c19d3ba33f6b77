//! Parsing a modern pattern, `[METHOD ][HOST]/[PATH]` (Go: `parsePattern`,
//! pattern.go).
//!
//! A pattern is kept in the shape Go gives it, which makes every later
//! algorithm (the tree, the specificity relation, the index) a walk over a
//! list of segments:
//!
//! | path written | segments |
//! |---|---|
//! | `/a/b` | literal `a`, literal `b` |
//! | `/a/{x}` | literal `a`, wildcard `x` |
//! | `/a/{x...}` | literal `a`, multi wildcard `x` |
//! | `/a/` | literal `a`, multi wildcard without a name |
//! | `/a/{$}` | literal `a`, literal `/` (a trailing slash and nothing more) |
//!
//! So a trailing slash *is* a nameless `{...}`, and `{$}` is the literal
//! "trailing slash" that no path segment can spell. Literals are stored
//! unescaped (`/%61` is the literal `a`), as the paths they are compared
//! with are unescaped segment by segment.

use super::escape::path_unescape;
use crate::clean::is_clean;
use crate::goquote::go_quote;

/// One piece of a pattern's path (Go: `segment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The literal (unescaped, so any bytes), the wildcard's name, or `/`
    /// for `{$}`; empty for the nameless multi of a trailing slash.
    pub text: Box<[u8]>,
    /// A wildcard: `{name}` or `{name...}`.
    pub wild: bool,
    /// A wildcard that takes the rest of the path: `{name...}` or a
    /// trailing slash.
    pub multi: bool,
}

impl Segment {
    fn literal(text: &[u8]) -> Segment {
        Segment {
            text: text.into(),
            wild: false,
            multi: false,
        }
    }

    /// The `{$}` segment: a literal trailing slash.
    pub fn is_dollar(&self) -> bool {
        !self.wild && &*self.text == b"/"
    }
}

/// A parsed pattern (Go: `pattern`).
///
/// ```
/// use mux::Pattern;
/// let p = Pattern::parse("GET example.com/b/{bucket}/o/{obj...}").unwrap();
/// assert_eq!((p.method(), p.host()), ("GET", "example.com"));
/// assert_eq!(p.wildcard_names().collect::<Vec<_>>(), ["bucket", "obj"]);
/// let e = Pattern::parse("/{x}/{x}").unwrap_err();
/// assert_eq!(e.to_string(), r#"parsing "/{x}/{x}": at offset 5: duplicate wildcard name "x""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: Box<str>,
    method: Box<str>,
    host: Box<str>,
    segments: Vec<Segment>,
    /// The wildcards' names in order, kept apart as text for the request's
    /// path values (a segment's text is bytes, since a literal may be any).
    names: Vec<Box<str>>,
}

/// Why a pattern does not parse, and where.
struct Refusal {
    offset: usize,
    reason: String,
}

fn refuse(offset: usize, reason: impl Into<String>) -> Result<Pattern, Refusal> {
    Err(Refusal {
        offset,
        reason: reason.into(),
    })
}

impl Pattern {
    /// Parses `text` (Go: `parsePattern`). The error's text is Go's,
    /// `parsing "P": at offset N: reason`.
    pub fn parse(text: &str) -> Result<Pattern, crate::Error> {
        parse(text).map_err(|r| crate::Error::BadPattern {
            pattern: text.to_owned(),
            offset: r.offset,
            reason: r.reason,
        })
    }

    /// The pattern as it was written (Go: `pattern.String`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The method, or `""` for a pattern that matches every method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The host, or `""` for a pattern that matches every host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path's segments, in Go's representation (see the module docs).
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The last segment; every pattern has at least one, since its path
    /// starts with `/`.
    pub fn last_segment(&self) -> &Segment {
        // Parsing refuses a path that yields no segment.
        &self.segments[self.segments.len() - 1]
    }

    /// The names of the wildcards, in the order they appear (what a
    /// handler can ask `path_value` for): neither `{$}` nor a trailing
    /// slash has one.
    pub fn wildcard_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|name| &**name)
    }

    /// [`Pattern::wildcard_names`] as a slice, as the mux files them in
    /// the names table its requests read (`server::PatternNames`).
    pub(crate) fn names(&self) -> &[Box<str>] {
        &self.names
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The byte that opens a wildcard, `{` (written as an escape so that
/// tools counting braces in this file do not see a lone one).
const WILDCARD_OPEN: char = '\u{7b}';

/// Go: `parsePattern`, offsets and messages included: the method and
/// host here, the path in [`parse_path`].
fn parse(s: &str) -> Result<Pattern, Refusal> {
    if s.is_empty() {
        return refuse(0, "empty pattern");
    }
    let mut off = 0;
    // METHOD, then one or more spaces or tabs (from Go 1.23; 1.22 wanted one space).
    let (method, rest, found) = match s.find([' ', '\t']) {
        Some(i) => (&s[..i], s[i + 1..].trim_start_matches([' ', '\t']), true),
        None => ("", s, false),
    };
    if !method.is_empty() && !valid_method(method) {
        return refuse(off, format!("invalid method {}", go_quote(method.as_bytes())));
    }
    if found {
        // Go counts one separator here, however many there were.
        off = method.len() + 1;
    }
    let Some(i) = rest.find('/') else {
        return refuse(off, "host/path missing /");
    };
    let (host, path) = rest.split_at(i);
    if let Some(j) = host.find(WILDCARD_OPEN) {
        return refuse(
            off + j,
            format!("host contains '{WILDCARD_OPEN}' (missing initial '/'?)"),
        );
    }
    off += i;
    // Every request path but CONNECT's is cleaned before matching.
    if !method.is_empty() && method != "CONNECT" && !is_clean(path.as_bytes()) {
        return refuse(off, "non-CONNECT pattern with unclean path can never match");
    }
    let (segments, names) = parse_path(s, path)?;
    Ok(Pattern {
        text: s.into(),
        method: method.into(),
        host: host.into(),
        segments,
        names,
    })
}

/// The segments of `path` (the tail of the whole pattern `s`, which the
/// offsets count in), and the wildcards' names in order.
fn parse_path(s: &str, path: &str) -> Result<(Vec<Segment>, Vec<Box<str>>), Refusal> {
    let mut segments = Vec::new();
    let mut names: Vec<Box<str>> = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        rest = &rest[1..]; // the '/' before the segment
        let off = s.len() - rest.len();
        if rest.is_empty() {
            // A trailing slash: a nameless multi wildcard.
            segments.push(Segment {
                text: Box::default(),
                wild: true,
                multi: true,
            });
            break;
        }
        let end = rest.find('/').unwrap_or(rest.len());
        let seg = &rest[..end];
        rest = &rest[end..];
        if !seg.contains(WILDCARD_OPEN) {
            segments.push(Segment::literal(&path_unescape(seg)));
            continue;
        }
        let segment =
            parse_wildcard(seg, rest.is_empty(), &names).map_err(|reason| Refusal { offset: off, reason })?;
        if segment.wild {
            names.push(String::from_utf8_lossy(&segment.text).into());
        }
        let last = segment.is_dollar();
        segments.push(segment);
        if last {
            break;
        }
    }
    Ok((segments, names))
}

/// One segment with a `{`: `{name}`, `{name...}` or `{$}` (Go's wildcard
/// branch of `parsePattern`). `at_end` says whether the path ends after
/// it; `seen` holds the names before it.
fn parse_wildcard(seg: &str, at_end: bool, seen: &[Box<str>]) -> Result<Segment, String> {
    if !seg.starts_with('{') {
        return Err("bad wildcard segment (must start with '{')".into());
    }
    if !seg.ends_with('}') || seg.len() < 2 {
        return Err("bad wildcard segment (must end with '}')".into());
    }
    let name = &seg[1..seg.len() - 1];
    if name == "$" {
        if !at_end {
            return Err("{$} not at end".into());
        }
        return Ok(Segment::literal(b"/"));
    }
    let (name, multi) = match name.strip_suffix("...") {
        Some(name) => (name, true),
        None => (name, false),
    };
    if multi && !at_end {
        return Err("{...} wildcard not at end".into());
    }
    if name.is_empty() {
        return Err("empty wildcard".into());
    }
    if !is_valid_wildcard_name(name) {
        return Err(format!("bad wildcard name {}", go_quote(name.as_bytes())));
    }
    if seen.iter().any(|n| **n == *name) {
        return Err(format!("duplicate wildcard name {}", go_quote(name.as_bytes())));
    }
    Ok(Segment {
        text: name.as_bytes().into(),
        wild: true,
        multi,
    })
}

/// Go: `validMethod`: a non-empty token (RFC 9110 section 5.6.2).
fn valid_method(method: &str) -> bool {
    !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Go: `isValidWildcardName`: a Go identifier, a letter or `_` first, then
/// letters, digits and `_`. Go asks Unicode's categories (L for letters,
/// Nd for digits); Rust's standard library knows the properties
/// "alphabetic" and "numeric", so a letter is alphabetic and not numeric
/// (which leaves out the letter-numbers such as Ⅻ, as Go does).
fn is_valid_wildcard_name(name: &str) -> bool {
    name.chars().enumerate().all(|(i, c)| {
        let letter = c.is_alphabetic() && !c.is_numeric();
        let digit = c.is_numeric() && !c.is_alphabetic();
        letter || c == '_' || (i > 0 && digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(s: &str) -> String {
        Pattern::parse(s).unwrap_err().to_string()
    }

    /// Go: `TestParsePattern`: the representation of each path form.
    #[test]
    fn segments_as_go_represents_them() {
        let p = Pattern::parse("/a/{x}/{rest...}").unwrap();
        assert_eq!(p.segments().len(), 3);
        assert!(p.last_segment().multi && &*p.last_segment().text == b"rest");
        let p = Pattern::parse("/a/").unwrap();
        assert!(p.last_segment().multi && p.last_segment().text.is_empty());
        let p = Pattern::parse("/a/{$}").unwrap();
        assert!(p.last_segment().is_dollar());
        let p = Pattern::parse("/%61%2Fb").unwrap();
        assert_eq!(&*p.segments()[0].text, b"a/b");
        let p = Pattern::parse("GET \t  example.com/").unwrap();
        assert_eq!((p.method(), p.host()), ("GET", "example.com"));
        let p = Pattern::parse("/k/{été}").unwrap();
        assert_eq!(p.wildcard_names().collect::<Vec<_>>(), ["été"]);
    }

    /// Go: `TestParsePatternError`: message and offset of each refusal.
    #[test]
    fn refusals_read_as_go_s() {
        assert_eq!(
            refusal("G(ET /x"),
            r#"parsing "G(ET /x": at offset 0: invalid method "G(ET""#
        );
        assert_eq!(
            refusal("/{x"),
            r#"parsing "/{x": at offset 1: bad wildcard segment (must end with '}')"#
        );
        assert_eq!(
            refusal("/a{x}"),
            r#"parsing "/a{x}": at offset 1: bad wildcard segment (must start with '{')"#
        );
        assert_eq!(
            refusal("/{1x}"),
            r#"parsing "/{1x}": at offset 1: bad wildcard name "1x""#
        );
        assert_eq!(
            refusal("/{x...}/a"),
            r#"parsing "/{x...}/a": at offset 1: {...} wildcard not at end"#
        );
        assert_eq!(
            refusal("/{$}/x"),
            r#"parsing "/{$}/x": at offset 1: {$} not at end"#
        );
        assert_eq!(
            refusal("{a}/b"),
            r#"parsing "{a}/b": at offset 0: host contains '{' (missing initial '/'?)"#
        );
        assert_eq!(
            refusal("GET /a/../b"),
            r#"parsing "GET /a/../b": at offset 4: non-CONNECT pattern with unclean path can never match"#
        );
        assert_eq!(
            refusal("example.com"),
            r#"parsing "example.com": at offset 0: host/path missing /"#
        );
        assert_eq!(refusal("/{}"), r#"parsing "/{}": at offset 1: empty wildcard"#);
        assert_eq!(
            refusal("/a/{...}"),
            r#"parsing "/a/{...}": at offset 3: empty wildcard"#
        );
        assert_eq!(
            refusal("/{"),
            r#"parsing "/{": at offset 1: bad wildcard segment (must end with '}')"#
        );
        assert_eq!(
            refusal("/{x-y}"),
            r#"parsing "/{x-y}": at offset 1: bad wildcard name "x-y""#
        );
        assert!(Pattern::parse("CONNECT /a/../b").is_ok());
        assert!(Pattern::parse("/a/../b").is_ok());
    }
}
