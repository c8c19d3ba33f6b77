//! The routing tree: where a request finds its pattern (Go: `routingNode`,
//! routing_tree.go).
//!
//! The first level branches on the pattern's host (or none), the second on
//! its method (or none), the rest on the path, one segment per level. A
//! path node has three kinds of children, tried in this order when a
//! request walks down:
//!
//! 1. the child for this exact (unescaped) segment, a literal;
//! 2. the single-wildcard child `{x}`, which takes any one segment and
//!    records it as a wildcard value;
//! 3. the multi-wildcard leaf `{x...}` (or a trailing slash), which takes
//!    everything that is left.
//!
//! That order *is* the precedence rule at one position: a literal is more
//! specific than `{x}`, which is more specific than `{x...}`, and
//! registration refused every pair for which that would be wrong (see
//! `specificity`). When the more specific branch fails further down, the
//! walk backs up and tries the next kind: with `/a/b/z` and `/a/{x}/c`,
//! the path `/a/b/c` first follows `b`, fails at `c`, and comes back to
//! take `{x}`.
//!
//! A walk records only where each wildcard's value lies in the path (a
//! pair of offsets, where Go appends each value's string to `matches`);
//! once the walk has found its pattern, the mux hands the offsets to the
//! request (`server::PathValues`), which copies the path once and keeps
//! ranges of it, unescaping on its own only a value that holds a `%`.
//!
//! There are two walks of that one shape. `Node::find` is Go's
//! `matchPath`, for any path: each segment cut at its `/` and unescaped,
//! then looked up. `Node::find_in_place` is the mux's short way, for a
//! decoded path that needs no unescaping (most requests): a literal child
//! is compared where the segment lies in the path (`children`), so that
//! only `{x}` needs the segment's end; and it takes no segment that
//! cleaning removes, which lets the mux skip its clean-path check.
//!
//! Where both differ from Go, for speed (each measured where it is done):
//! a child after which nothing is left to try is walked into by a loop,
//! not a call; and a segment's end is found eight bytes at a time
//! (`words::next_slash`).
//!
//! One quirk of Go's tree is kept on purpose: Go keys the `{x}` child by
//! the empty string, so an empty path segment (`//`, which only a CONNECT
//! path keeps) is looked up as a literal and lands on the `{x}` child
//! without a recorded value, and a pattern's empty literal segment (`//x`)
//! is stored as a wildcard. Go answers such a request with a handler that
//! panics on `PathValue`; we reproduce the match and leave the value out.

use super::children::Children;
use super::pattern::{Pattern, Segment};
use super::segments::Subject;
use super::words::next_slash;
use crate::hash::FxBuildHasher;
use smallvec::SmallVec;
use std::collections::HashMap;

/// Where the wildcard values lie in the path, in pattern order: byte
/// offsets `(start, end)` (Go: `matches`, which holds the strings). Eight
/// live on the stack, which covers any realistic pattern; more spill to
/// the heap.
pub type Captures = SmallVec<[(usize, usize); 8]>;

/// A pattern's place among the registered routes, as the tree stores it.
pub type RouteIndex = usize;

/// One node of the path levels (Go: `routingNode`).
#[derive(Debug, Default)]
pub struct Node {
    /// The pattern that ends here.
    leaf: Option<RouteIndex>,
    /// Literal segments, and `/` for a `{$}` (Go: `children`).
    literals: Children<Node>,
    /// The `{x}` child (Go: `emptyChild`).
    wildcard: Option<Box<Node>>,
    /// The pattern ending in `{x...}` or `/` here (Go: `multiChild`), and
    /// whether its wildcard has a name (a trailing slash has none).
    multi: Option<(RouteIndex, bool)>,
}

/// The method level: a tree per method, and one for patterns without.
#[derive(Debug, Default)]
struct Methods {
    by_method: Vec<(Box<str>, Node)>,
    any: Option<Node>,
}

/// The whole tree (Go: the root `routingNode` and its first two levels).
#[derive(Debug, Default)]
pub struct Tree {
    by_host: HashMap<Box<str>, Methods, FxBuildHasher>,
    any_host: Methods,
}

impl Tree {
    /// Go: `routingNode.addPattern`. Err with the route already at that
    /// leaf, which only the empty-segment quirk can bring about (Go
    /// panics with "non-nil leaf fields").
    pub fn add(&mut self, p: &Pattern, route: RouteIndex) -> Result<(), RouteIndex> {
        let methods = if p.host().is_empty() {
            &mut self.any_host
        } else {
            self.by_host.entry(p.host().into()).or_default()
        };
        let node = if p.method().is_empty() {
            methods.any.get_or_insert_with(Node::default)
        } else {
            match methods.by_method.iter().position(|(m, _)| **m == *p.method()) {
                Some(i) => &mut methods.by_method[i].1,
                None => {
                    methods.by_method.push((p.method().into(), Node::default()));
                    let last = methods.by_method.len() - 1;
                    &mut methods.by_method[last].1
                }
            }
        };
        node.add_segments(p.segments(), route)
    }

    /// True when some pattern names a host: only then does the request's
    /// host matter.
    pub fn has_hosts(&self) -> bool {
        !self.by_host.is_empty()
    }

    /// Go: `routingNode.match`: patterns for `host` first, then those
    /// without a host. Wildcard offsets go to `captures`, which must be
    /// empty, and is empty again when nothing matched.
    #[inline]
    pub fn find(
        &self,
        host: &str,
        method: &str,
        path: &Subject<'_>,
        captures: &mut Captures,
    ) -> Option<RouteIndex> {
        if !host.is_empty() && !self.by_host.is_empty() {
            if let Some(methods) = self.by_host.get(host) {
                if let Some(found) = methods.find(method, path, captures) {
                    return Some(found);
                }
            }
        }
        self.any_host.find(method, path, captures)
    }

    /// Go: `routingNode.matchingMethods`: every method whose patterns
    /// match `host` and the path, added to `methods`; HEAD where GET is.
    pub fn matching_methods<'t>(&'t self, host: &str, path: &Subject<'_>, methods: &mut Vec<&'t str>) {
        if !host.is_empty() {
            if let Some(m) = self.by_host.get(host) {
                m.matching_methods(path, methods);
            }
        }
        self.any_host.matching_methods(path, methods);
        if methods.contains(&"GET") && !methods.contains(&"HEAD") {
            methods.push("HEAD");
        }
    }
}

impl Methods {
    /// Go: `matchMethodAndPath`: this method, then GET for HEAD, then the
    /// patterns without a method.
    #[inline]
    fn find(&self, method: &str, path: &Subject<'_>, captures: &mut Captures) -> Option<RouteIndex> {
        // A walk that fails may leave values behind: cleared then, not
        // before every walk (8 fewer instructions a request, callgrind,
        // the 130 GitHub routes).
        let walk = |node: &Node, captures: &mut Captures| {
            let found = if path.compares_in_place() {
                node.find_in_place(path.path(), 0, captures)
            } else {
                let (pos, slash) = path.start();
                node.find(path, pos, slash, captures)
            };
            if found.is_none() {
                captures.clear();
            }
            found
        };
        let of = |m: &str| self.by_method.iter().find(|(k, _)| **k == *m).map(|(_, n)| n);
        if let Some(found) = of(method).and_then(|n| walk(n, captures)) {
            return Some(found);
        }
        if method == "HEAD" {
            if let Some(found) = of("GET").and_then(|n| walk(n, captures)) {
                return Some(found);
            }
        }
        self.any.as_ref().and_then(|n| walk(n, captures))
    }

    /// Go: `matchingMethodsPath`. The patterns without a method are not
    /// asked: they would have matched already.
    fn matching_methods<'t>(&'t self, path: &Subject<'_>, methods: &mut Vec<&'t str>) {
        let mut captures = Captures::new();
        let (pos, slash) = path.start();
        for (method, node) in &self.by_method {
            captures.clear();
            if node.find(path, pos, slash, &mut captures).is_some() && !methods.contains(&&**method) {
                methods.push(method);
            }
        }
    }
}

impl Node {
    /// Go: `addSegments`.
    fn add_segments(&mut self, segs: &[Segment], route: RouteIndex) -> Result<(), RouteIndex> {
        let Some((seg, rest)) = segs.split_first() else {
            return match self.leaf {
                Some(taken) => Err(taken),
                None => {
                    self.leaf = Some(route);
                    Ok(())
                }
            };
        };
        if seg.multi {
            // Two multis at one node are equivalent: refused before this.
            self.multi = Some((route, !seg.text.is_empty()));
            Ok(())
        } else if seg.wild || seg.text.is_empty() {
            // An empty literal goes where `{x}` goes, as Go keys both by "".
            self.wildcard
                .get_or_insert_with(Default::default)
                .add_segments(rest, route)
        } else {
            self.literals.get_or_insert(&seg.text).add_segments(rest, route)
        }
    }

    /// Go: `findChild`: the child for an unescaped segment, and whether
    /// the segment is `/`. The empty segment is Go's key for the `{x}`
    /// child. `{x}` never takes the trailing slash (nor a segment that
    /// unescapes to "/", which Go cannot tell from it).
    #[inline(always)]
    fn literal_child(&self, literal: &[u8]) -> (Option<&Node>, bool) {
        let child = if literal.is_empty() {
            self.wildcard.as_deref()
        } else {
            self.literals.find(literal)
        };
        (child, literal == b"/")
    }

    /// The trailing slash of a path of `len` bytes, at `pos`: Go's segment
    /// "/", which only a `{$}` (the literal child "/") or the multi takes.
    /// Out of line: inlined into `find_in_place`, it cost the walk 5 more
    /// instructions a request (573 against 568, callgrind, the 130 GitHub
    /// routes, one of which ends in a slash).
    #[inline(never)]
    fn find_last_slash(&self, len: usize, pos: usize, captures: &mut Captures) -> Option<RouteIndex> {
        if let Some(found) = self.literals.find(b"/").and_then(|child| child.leaf) {
            return Some(found);
        }
        self.take_rest(len, pos, captures)
    }

    /// The multi child, taking the rest of a path of `len` bytes from
    /// `pos`.
    #[inline]
    fn take_rest(&self, len: usize, pos: usize, captures: &mut Captures) -> Option<RouteIndex> {
        let (route, named) = self.multi?;
        if named {
            // The rest of the path, without its leading slash.
            captures.push(((pos + 1).min(len), len));
        }
        Some(route)
    }

    /// Go: `matchPath`, with backtracking: the literal child, then `{x}`,
    /// then the multi. `pos` and `slash` say what is left of the path.
    ///
    /// Go recurses into every child it tries. Here a child after which
    /// nothing is left to try at this node (no `{x}` or multi to back up
    /// to) is walked into by the loop instead: the same answer, without a
    /// call per level. Measured with callgrind on the 130 GitHub routes
    /// of `benches/go-patterns`: 987 instructions per request, 1 087 with
    /// a call for every child.
    fn find(
        &self,
        path: &Subject<'_>,
        mut pos: usize,
        mut slash: bool,
        captures: &mut Captures,
    ) -> Option<RouteIndex> {
        let mut node = self;
        loop {
            if path.is_done(pos, slash) {
                return node.leaf;
            }
            let seg = path.segment(pos, slash);
            let (literal, is_slash) = match path.plain_key(&seg) {
                Some(literal) => node.literal_child(literal),
                None => path.with_unescaped(&seg, |literal| node.literal_child(literal)),
            };
            let wildcard = node.wildcard.as_deref().filter(|_| !is_slash);
            if let Some(child) = literal {
                if wildcard.is_none() && node.multi.is_none() {
                    (node, pos, slash) = (child, seg.next, seg.slash_after);
                    continue;
                }
                let mark = captures.len();
                if let Some(found) = child.find(path, seg.next, seg.slash_after, captures) {
                    return Some(found);
                }
                captures.truncate(mark);
            }
            if let Some(child) = wildcard {
                let mark = captures.len();
                captures.push((seg.start, seg.end));
                if node.multi.is_none() {
                    (node, pos, slash) = (child, seg.next, seg.slash_after);
                    continue;
                }
                if let Some(found) = child.find(path, seg.next, seg.slash_after, captures) {
                    return Some(found);
                }
                captures.truncate(mark);
            }
            return node.take_rest(path.path().len(), pos, captures);
        }
    }

    /// [`Node::find`] for the mux's short way (`find_plain`): a decoded
    /// path, which needs no unescaping and has no slash appended, walked
    /// in the same order with the same backtracking, and with two
    /// differences that make it cheaper:
    ///
    /// - a literal child is compared where the segment lies in the path
    ///   (`Children::find_in_place`), so that the segment's end is found
    ///   only when `{x}` needs it;
    /// - no segment that cleaning removes (empty, `.`, `..`) is taken: no
    ///   literal found in place equals one, and `{x}` refuses it. A path
    ///   holding one then has no exact match here, and the general way
    ///   cleans it and redirects, as Go does.
    ///
    /// `pos` is where the rest of the path starts, at a `/` or the end.
    /// Measured with callgrind on the 130 GitHub routes: 657
    /// instructions per request, against 685 when one walk served both
    /// ways, asking at each level which way it was on and noting the
    /// segments that cleaning removes for the mux to check afterwards.
    fn find_in_place(&self, path: &[u8], mut pos: usize, captures: &mut Captures) -> Option<RouteIndex> {
        let mut node = self;
        loop {
            // What is left: nothing, the trailing slash, or a `/` and a
            // segment, which starts at `start`.
            if path.len() - pos <= 1 {
                if pos == path.len() {
                    return node.leaf;
                }
                return node.find_last_slash(path.len(), pos, captures);
            }
            let start = pos + 1;
            if let Some((child, end)) = node.literals.find_in_place(path, start) {
                if node.wildcard.is_none() && node.multi.is_none() {
                    (node, pos) = (child, end);
                    continue;
                }
                let mark = captures.len();
                if let Some(found) = child.find_in_place(path, end, captures) {
                    return Some(found);
                }
                captures.truncate(mark);
            }
            if let Some(child) = node.wildcard.as_deref() {
                // Only `{x}` needs the segment's end.
                let end = next_slash(path, start);
                if !is_removed_by_cleaning(path, start, end) {
                    let mark = captures.len();
                    captures.push((start, end));
                    if node.multi.is_none() {
                        (node, pos) = (child, end);
                        continue;
                    }
                    if let Some(found) = child.find_in_place(path, end, captures) {
                        return Some(found);
                    }
                    captures.truncate(mark);
                }
            }
            return node.take_rest(path.len(), pos, captures);
        }
    }
}

/// True when the segment of `path` from `start` to `end` is one that
/// `cleanPath` removes: empty, `.` or `..`.
#[inline]
fn is_removed_by_cleaning(path: &[u8], start: usize, end: usize) -> bool {
    // Empty, or one or two bytes that start and end with a dot.
    let dot = |at: usize| path.get(at) == Some(&b'.');
    end == start || (end - start <= 2 && dot(start) && dot(end - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern_mux::escape::with_unescaped;

    fn tree(patterns: &[&str]) -> (Tree, Vec<Pattern>) {
        let mut t = Tree::default();
        let parsed: Vec<Pattern> = patterns.iter().map(|p| Pattern::parse(p).unwrap()).collect();
        for (i, p) in parsed.iter().enumerate() {
            t.add(p, i).unwrap();
        }
        (t, parsed)
    }

    fn find(t: &(Tree, Vec<Pattern>), method: &str, path: &str) -> Option<(String, Vec<String>)> {
        let subject = Subject::escaped(path.as_bytes(), false);
        let mut captures = Captures::new();
        let route = t.0.find("", method, &subject, &mut captures)?;
        let values = captures
            .iter()
            .map(|&(s, e)| with_unescaped(subject.bytes(s, e), |v| String::from_utf8(v.to_vec()).unwrap()))
            .collect();
        Some((t.1[route].as_str().to_owned(), values))
    }

    fn found(pattern: &str, values: &[&str]) -> Option<(String, Vec<String>)> {
        Some((pattern.to_owned(), values.iter().map(|v| v.to_string()).collect()))
    }

    /// Go: `TestRoutingNodeMatch`: literal before `{x}` before `{x...}`,
    /// with backtracking, and the values in order.
    #[test]
    fn match_backtracks_from_literal_to_wildcard() {
        let t = tree(&[
            "/a/b/z",
            "/a/{x}/c",
            "/a/{x}/{rest...}",
            "/a/",
            "/{$}",
            "/b/{x}/{$}",
        ]);
        assert_eq!(find(&t, "GET", "/a/b/z"), found("/a/b/z", &[]));
        assert_eq!(find(&t, "GET", "/a/b/c"), found("/a/{x}/c", &["b"]));
        assert_eq!(
            find(&t, "GET", "/a/b/d/e%2Ff"),
            found("/a/{x}/{rest...}", &["b", "d/e/f"])
        );
        assert_eq!(find(&t, "GET", "/a/"), found("/a/", &[]));
        assert_eq!(find(&t, "GET", "/"), found("/{$}", &[]));
        assert_eq!(find(&t, "GET", "/b/q/"), found("/b/{x}/{$}", &["q"]));
        assert_eq!(find(&t, "GET", "/b/q"), None);
        assert_eq!(find(&t, "GET", "/c"), None);
    }

    /// Go's quirk, kept: an empty segment reaches the `{x}` child as the
    /// literal key "" and records no value, so the values that follow
    /// move up one name; an empty literal in a pattern takes any segment
    /// as a value, which goes to the first name.
    #[test]
    fn empty_segments_record_values_as_go_does() {
        let t = tree(&["CONNECT /x/{a}/{b}", "/y//{c}"]);
        assert_eq!(find(&t, "CONNECT", "/x//q"), found("CONNECT /x/{a}/{b}", &["q"]));
        assert_eq!(find(&t, "GET", "/y/z/w"), found("/y//{c}", &["z", "w"]));
    }

    /// Go: `matchMethodAndPath`: a GET pattern answers HEAD.
    #[test]
    fn head_falls_back_to_get() {
        let t = tree(&["GET /x", "POST /x", "/any"]);
        assert_eq!(find(&t, "HEAD", "/x").map(|m| m.0), Some("GET /x".into()));
        assert_eq!(find(&t, "PUT", "/x"), None);
        assert_eq!(find(&t, "PUT", "/any").map(|m| m.0), Some("/any".into()));
        let mut methods = Vec::new();
        t.0.matching_methods("", &Subject::escaped(b"/x", false), &mut methods);
        methods.sort_unstable();
        assert_eq!(methods, ["GET", "HEAD", "POST"]);
    }

    /// The appended slash is walked as if it were in the path.
    #[test]
    fn pretended_slash_matches_as_a_real_one() {
        let t = tree(&["/a/", "/b/{$}", "/c/{x}/"]);
        let mut captures = Captures::new();
        for path in ["/a", "/b", "/c/1"] {
            let pretend = Subject::escaped(path.as_bytes(), true);
            let with_slash = format!("{path}/");
            let real = Subject::escaped(with_slash.as_bytes(), false);
            assert_eq!(
                t.0.find("", "GET", &pretend, &mut captures),
                t.0.find("", "GET", &real, &mut captures),
                "{path}"
            );
        }
    }

    /// Many literal children, long ones whose keys (first and last eight
    /// bytes) are equal among them, all found; escaped segments compared
    /// unescaped.
    #[test]
    fn many_children_are_all_found() {
        let owned: Vec<String> = (0..40)
            .map(|i| format!("/k{i}"))
            .chain([
                "/abcdefgh-1-ijklmnop".into(),
                "/abcdefgh-2-ijklmnop".into(),
                "/abcdefgh-ijklmnop".into(),
                "/%7Bx%7D".into(),
            ])
            .collect();
        let ps: Vec<&str> = owned.iter().map(String::as_str).collect();
        let t = tree(&ps);
        for p in &ps[..43] {
            assert_eq!(find(&t, "GET", p).map(|m| m.0), Some(p.to_string()));
        }
        assert_eq!(find(&t, "GET", "/%6B3").map(|m| m.0), Some("/k3".into()));
        assert_eq!(find(&t, "GET", "/%7Bx%7D").map(|m| m.0), Some("/%7Bx%7D".into()));
        assert_eq!(find(&t, "GET", "/k99"), None);
        assert_eq!(find(&t, "GET", "/abcdefgh-3-ijklmnop"), None);
    }
}
