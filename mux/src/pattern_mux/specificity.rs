//! Which of two patterns wins, and when two patterns conflict (Go:
//! `conflictsWith`, `comparePathsAndMethods`, `describeConflict`,
//! pattern.go).
//!
//! Go 1.22's rule for precedence: a pattern with a host beats one without;
//! otherwise the *more specific* pattern wins, where P is more specific
//! than Q when Q matches every request P matches, and more. That is a
//! relation between the *sets* of requests two patterns match, computed
//! here from their methods and segments without enumerating anything:
//!
//! - methods: `""` (any) is more general than `GET`, which is more general
//!   than `HEAD` (a GET pattern also serves HEAD); two other methods are
//!   disjoint;
//! - segments, pairwise: a multi wildcard is more general than a single
//!   one, which is more general than a literal; two different literals are
//!   disjoint;
//! - the parts combine: equal parts change nothing, a more general part and
//!   a more specific part *overlap* (some requests match both, each
//!   matches some the other does not).
//!
//! Two patterns for the same host conflict when they are equivalent or
//! overlap: some request would match both with neither more specific. The
//! mux refuses the second at registration, with Go's explanation and
//! example paths built by [`describe_conflict`].

use super::pattern::{Pattern, Segment};
use crate::goquote::go_quote;

/// `a == b`, without calling `memcmp` on two empty strings.
///
/// Most patterns have no host and many no method, so registration compares
/// empty strings more than anything else. An empty `Box<str>` points at no
/// memory (a dangling, aligned address), and glibc's AVX-512 `memcmp`
/// starts with a masked load from it: with an all-zero mask that cannot
/// fault, but the CPU resolves it with a slow microcode assist. Measured on
/// the 1 000 patterns of `benches/go-patterns/register.txt` (124 500
/// comparisons): 28 ms with `==`, 3 ms with this check first.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && (a.is_empty() || a == b)
}

/// How the requests of pattern `p1` relate to those of `p2` (Go:
/// `relationship`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    /// Both match the same requests.
    Equivalent,
    /// `p1` matches everything `p2` does, and more.
    MoreGeneral,
    /// `p2` matches everything `p1` does, and more.
    MoreSpecific,
    /// No request matches both.
    Disjoint,
    /// Some request matches both, and neither is more specific.
    Overlaps,
}

use Relationship::*;

impl Relationship {
    /// Go: `inverseRelationship`: the relation seen from the other side.
    fn inverse(self) -> Relationship {
        match self {
            MoreSpecific => MoreGeneral,
            MoreGeneral => MoreSpecific,
            other => other,
        }
    }

    /// Go's name for the relation (used in its "bug:" message).
    fn go_name(self) -> &'static str {
        match self {
            Equivalent => "equivalent",
            MoreGeneral => "moreGeneral",
            MoreSpecific => "moreSpecific",
            Disjoint => "disjoint",
            Overlaps => "overlaps",
        }
    }
}

/// Go: `combineRelationships`: the relation of two patterns from the
/// relations of two parts of them.
fn combine(r1: Relationship, r2: Relationship) -> Relationship {
    match r1 {
        Equivalent => r2,
        Disjoint => Disjoint,
        Overlaps if r2 == Disjoint => Disjoint,
        Overlaps => Overlaps,
        MoreGeneral | MoreSpecific => {
            if r2 == Equivalent {
                r1
            } else if r2 == r1.inverse() {
                Overlaps
            } else {
                r2
            }
        }
    }
}

/// Go: `pattern.conflictsWith`: some request matches both and neither
/// takes precedence. Patterns for different hosts never conflict: a
/// pattern with a host beats one without, and two hosts are disjoint.
pub fn conflicts(p1: &Pattern, p2: &Pattern) -> bool {
    if !same(p1.host().as_bytes(), p2.host().as_bytes()) {
        return false;
    }
    matches!(compare_paths_and_methods(p1, p2), Equivalent | Overlaps)
}

/// Go: `comparePathsAndMethods`.
pub fn compare_paths_and_methods(p1: &Pattern, p2: &Pattern) -> Relationship {
    let methods = compare_methods(p1, p2);
    if methods == Disjoint {
        return Disjoint;
    }
    combine(methods, compare_paths(p1, p2))
}

/// Go: `compareMethods`: `""` matches every method, `GET` also `HEAD`.
pub fn compare_methods(p1: &Pattern, p2: &Pattern) -> Relationship {
    let (m1, m2) = (p1.method(), p2.method());
    if same(m1.as_bytes(), m2.as_bytes()) {
        Equivalent
    } else if m1.is_empty() {
        MoreGeneral
    } else if m2.is_empty() {
        MoreSpecific
    } else if m1 == "GET" && m2 == "HEAD" {
        MoreGeneral
    } else if m1 == "HEAD" && m2 == "GET" {
        MoreSpecific
    } else {
        Disjoint
    }
}

/// Go: `comparePaths`: segment by segment, then what is left of the
/// longer pattern against the shorter one's final multi.
pub fn compare_paths(p1: &Pattern, p2: &Pattern) -> Relationship {
    let (s1, s2) = (p1.segments(), p2.segments());
    let (multi1, multi2) = (p1.last_segment().multi, p2.last_segment().multi);
    // Without a multi at the end, a pattern matches one number of segments only.
    if s1.len() != s2.len() && !multi1 && !multi2 {
        return Disjoint;
    }
    let mut rel = Equivalent;
    for (a, b) in s1.iter().zip(s2) {
        rel = combine(rel, compare_segments(a, b));
        if rel == Disjoint {
            return rel;
        }
    }
    if s1.len() == s2.len() {
        rel
    } else if s1.len() < s2.len() && multi1 {
        // p1's final multi takes the rest of p2, and more.
        combine(rel, MoreGeneral)
    } else if s2.len() < s1.len() && multi2 {
        combine(rel, MoreSpecific)
    } else {
        Disjoint
    }
}

/// Go: `compareSegments`.
fn compare_segments(s1: &Segment, s2: &Segment) -> Relationship {
    match (s1, s2) {
        (a, b) if a.multi && b.multi => Equivalent,
        (a, _) if a.multi => MoreGeneral,
        (_, b) if b.multi => MoreSpecific,
        (a, b) if a.wild && b.wild => Equivalent,
        // A single wildcard never matches the trailing slash of `{$}`.
        (a, b) if a.wild => {
            if b.is_dollar() {
                Disjoint
            } else {
                MoreGeneral
            }
        }
        (a, b) if b.wild => {
            if a.is_dollar() {
                Disjoint
            } else {
                MoreSpecific
            }
        }
        (a, b) if same(&a.text, &b.text) => Equivalent,
        _ => Disjoint,
    }
}

/// Go: `describeConflict`: why `p1` and `p2` conflict, in Go's words, with
/// example paths where the overlap is in the paths.
pub fn describe_conflict(p1: &Pattern, p2: &Pattern) -> String {
    let methods = compare_methods(p1, p2);
    let paths = compare_paths(p1, p2);
    let rel = combine(methods, paths);
    if rel == Equivalent {
        return format!("{p1} matches the same requests as {p2}");
    }
    if paths == Overlaps {
        return format!(
            "{p1} and {p2} both match some paths, like {}.\nBut neither is more specific than the other.\n\
             {p1} matches {}, but {p2} doesn't.\n{p2} matches {}, but {p1} doesn't.",
            go_quote(&common_path(p1, p2)),
            go_quote(&difference_path(p1, p2)),
            go_quote(&difference_path(p2, p1)),
        );
    }
    match (methods, paths) {
        (MoreGeneral, MoreSpecific) => {
            format!("{p1} matches more methods than {p2}, but has a more specific path pattern")
        }
        (MoreSpecific, MoreGeneral) => {
            format!("{p1} matches fewer methods than {p2}, but has a more general path pattern")
        }
        _ => format!(
            "bug: unexpected way for two patterns {p1} and {p2} to conflict: methods {}, paths {}",
            methods.go_name(),
            paths.go_name()
        ),
    }
}

/// Go: `writeSegment`: `/` and the literal or wildcard name; a multi and
/// `{$}` write only the slash.
fn write_segment(out: &mut Vec<u8>, s: &Segment) {
    out.push(b'/');
    if !s.multi && !s.is_dollar() {
        out.extend_from_slice(&s.text);
    }
}

/// Go: `commonPath`: a path both patterns match (they are known to
/// overlap): each position takes the literal where there is one.
fn common_path(p1: &Pattern, p2: &Pattern) -> Vec<u8> {
    let (s1, s2) = (p1.segments(), p2.segments());
    let mut out = Vec::new();
    for (a, b) in s1.iter().zip(s2) {
        write_segment(&mut out, if a.wild { b } else { a });
    }
    let n = s1.len().min(s2.len());
    for s in s1[n..].iter().chain(&s2[n..]) {
        write_segment(&mut out, s);
    }
    out
}

/// Go: `differencePath`: a path `p1` matches and `p2` does not (known to
/// exist).
fn difference_path(p1: &Pattern, p2: &Pattern) -> Vec<u8> {
    let (s1, s2) = (p1.segments(), p2.segments());
    let mut out = Vec::new();
    for (a, b) in s1.iter().zip(s2) {
        if a.multi && b.multi {
            // Both take the rest: the difference was found earlier.
            out.push(b'/');
            return out;
        }
        if a.multi {
            // A trailing slash tells them apart, unless `b` is `{$}`,
            // which a trailing slash matches: then any segment does.
            out.push(b'/');
            if b.is_dollar() {
                out.extend_from_slice(if a.text.is_empty() { b"x" } else { &a.text });
            }
            return out;
        }
        if a.wild && !b.wild && a.text == b.text {
            // Any segment but b's literal; the name would be that literal.
            out.push(b'/');
            out.extend_from_slice(&b.text);
            out.push(b'x');
        } else {
            // Both wildcards: the first's name; a wildcard against a
            // literal: the name; a literal: itself (equal, since they overlap).
            write_segment(&mut out, a);
        }
    }
    let n = s1.len().min(s2.len());
    for s in s1[n..].iter().chain(&s2[n..]) {
        write_segment(&mut out, s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    /// Go: `TestComparePaths` and `TestCompareMethods`, some of their rows.
    #[test]
    fn relationships_as_go_computes_them() {
        let rows = [
            ("/a", "/a", Equivalent),
            ("/a", "/b", Disjoint),
            ("/{x}", "/a", MoreGeneral),
            ("/a/", "/a/{$}", MoreGeneral),
            ("/{x}/{$}", "/a/", Overlaps),
            ("/b/{x}", "/{x}/c", Overlaps),
            ("/a/{x}", "/a/{$}", Disjoint),
            ("/", "/a/b", MoreGeneral),
            ("/a/{rest...}", "/a/", Equivalent),
            ("GET /", "/index.html", Overlaps),
            ("HEAD /a", "GET /a", MoreSpecific),
            ("POST /a", "GET /a", Disjoint),
        ];
        for (a, b, want) in rows {
            assert_eq!(compare_paths_and_methods(&p(a), &p(b)), want, "{a} vs {b}");
            assert_eq!(
                compare_paths_and_methods(&p(b), &p(a)),
                want.inverse(),
                "{b} vs {a}"
            );
        }
        assert!(!conflicts(&p("example.com/a"), &p("/a")));
    }

    /// Go: `TestDescribeConflict`, and the explanations the corpus records.
    #[test]
    fn explanations_read_as_go_s() {
        assert_eq!(
            describe_conflict(&p("/a"), &p("/a")),
            "/a matches the same requests as /a"
        );
        assert_eq!(
            describe_conflict(&p("/{x}/c"), &p("/b/{x}")),
            "/{x}/c and /b/{x} both match some paths, like \"/b/c\".\nBut neither is more specific than the other.\n\
             /{x}/c matches \"/x/c\", but /b/{x} doesn't.\n/b/{x} matches \"/b/x\", but /{x}/c doesn't."
        );
        assert_eq!(
            describe_conflict(&p("/index.html"), &p("GET /")),
            "/index.html matches more methods than GET /, but has a more specific path pattern"
        );
        assert_eq!(
            describe_conflict(&p("GET /"), &p("/index.html")),
            "GET / matches fewer methods than /index.html, but has a more general path pattern"
        );
        assert_eq!(
            describe_conflict(&p("/{x}/{$}"), &p("/a/")),
            "/{x}/{$} and /a/ both match some paths, like \"/a/\".\nBut neither is more specific than the other.\n\
             /{x}/{$} matches \"/x/\", but /a/ doesn't.\n/a/ matches \"/a/x\", but /{x}/{$} doesn't."
        );
    }
}
