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
//! pair of offsets); the mux unescapes the values once the walk has found
//! its pattern, straight into the request's reused buffer.
//!
//! One quirk of Go's tree is kept on purpose: Go keys the `{x}` child by
//! the empty string, so an empty path segment (`//`, which only a CONNECT
//! path keeps) is looked up as a literal and lands on the `{x}` child
//! without a recorded value, and a pattern's empty literal segment (`//x`)
//! is stored as a wildcard. Go answers such a request with a handler that
//! panics on `PathValue`; we reproduce the match and leave the value out.

use super::escape::with_unescaped;
use super::pattern::{Pattern, Segment};
use crate::hash::FxBuildHasher;
use smallvec::SmallVec;
use std::collections::HashMap;

/// Where the wildcard values lie in the path, in pattern order: byte
/// offsets `(start, end)`. Eight live on the stack, which covers any
/// realistic pattern; more spill to the heap.
pub type Captures = SmallVec<[(usize, usize); 8]>;

/// A pattern's place among the registered routes, as the tree stores it.
pub type RouteIndex = usize;

/// Go switches a node's children from a list to a map beyond eight
/// (mapping.go, `maxSlice`); a short list is scanned faster than hashed.
const MAX_LISTED_CHILDREN: usize = 8;

/// The literal children of a node (Go: `mapping`): keys and nodes in two
/// lists (a scan reads only the keys, whose lengths sit beside their
/// pointers, so most mismatches cost no memory read), plus a hash index
/// once the list is long.
#[derive(Debug, Default)]
struct Children {
    keys: Vec<Box<[u8]>>,
    nodes: Vec<Node>,
    index: Option<HashMap<Box<[u8]>, usize, FxBuildHasher>>,
}

impl Children {
    fn get_or_insert(&mut self, key: &[u8]) -> &mut Node {
        let at = match self.keys.iter().position(|k| **k == *key) {
            Some(at) => at,
            None => {
                self.keys.push(key.into());
                self.nodes.push(Node::default());
                let at = self.keys.len() - 1;
                if self.keys.len() > MAX_LISTED_CHILDREN {
                    let keys = &self.keys;
                    let index = self
                        .index
                        .get_or_insert_with(|| keys.iter().cloned().zip(0..).collect());
                    index.insert(key.into(), at);
                }
                at
            }
        };
        &mut self.nodes[at]
    }

    /// The child for an unescaped segment (never empty: Go's key "" is
    /// the `{x}` child, looked up apart).
    #[inline]
    fn find(&self, key: &[u8]) -> Option<&Node> {
        let at = match &self.index {
            None => self.keys.iter().position(|k| **k == *key)?,
            Some(index) => Self::find_indexed(index, key)?,
        };
        self.nodes.get(at)
    }

    /// The hashed half of [`Children::find`], kept out of line so that the
    /// short-list scan, inlined into the walk, stays small.
    #[inline(never)]
    fn find_indexed(index: &HashMap<Box<[u8]>, usize, FxBuildHasher>, key: &[u8]) -> Option<usize> {
        index.get(key).copied()
    }
}

/// One node of the path levels (Go: `routingNode`).
#[derive(Debug, Default)]
pub struct Node {
    /// The pattern that ends here.
    leaf: Option<RouteIndex>,
    /// Literal segments, and `/` for a `{$}` (Go: `children`).
    literals: Children,
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

/// A path to walk: the bytes, and whether a `/` is to be taken as
/// appended to them (the mux retries `path + "/"` for its redirect;
/// pretending saves building that string).
#[derive(Clone, Copy)]
pub struct Subject<'p> {
    path: &'p [u8],
    slash: bool,
    /// The path holds a `%`: only then may a segment need unescaping
    /// before it is compared (one scan of the path instead of one per
    /// segment and node).
    escapes: bool,
}

impl<'p> Subject<'p> {
    /// `path`, with a `/` appended when `slash`.
    pub fn new(path: &'p [u8], slash: bool) -> Subject<'p> {
        Subject {
            path,
            slash,
            escapes: path.contains(&b'%'),
        }
    }

    /// [`Subject::new`] for a path known to hold no `%`.
    pub fn plain(path: &'p [u8]) -> Subject<'p> {
        Subject {
            path,
            slash: false,
            escapes: false,
        }
    }

    /// The path (without the pretended slash).
    pub fn path(&self) -> &'p [u8] {
        self.path
    }

    /// True when the path holds a `%`, so that values need unescaping.
    pub fn has_escapes(&self) -> bool {
        self.escapes
    }
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

    /// Go: `routingNode.match`: patterns for `host` first, then those
    /// without a host. Wildcard offsets go to `captures`.
    /// True when some pattern names a host: only then does the request's
    /// host matter.
    pub fn has_hosts(&self) -> bool {
        !self.by_host.is_empty()
    }

    pub fn find(
        &self,
        host: &str,
        method: &str,
        subject: Subject<'_>,
        captures: &mut Captures,
    ) -> Option<RouteIndex> {
        if !host.is_empty() && !self.by_host.is_empty() {
            if let Some(methods) = self.by_host.get(host) {
                if let Some(found) = methods.find(method, subject, captures) {
                    return Some(found);
                }
            }
        }
        self.any_host.find(method, subject, captures)
    }

    /// Go: `routingNode.matchingMethods`: every method whose patterns
    /// match `host` and the path, added to `methods`; HEAD where GET is.
    pub fn matching_methods<'t>(&'t self, host: &str, subject: Subject<'_>, methods: &mut Vec<&'t str>) {
        if !host.is_empty() {
            if let Some(m) = self.by_host.get(host) {
                m.matching_methods(subject, methods);
            }
        }
        self.any_host.matching_methods(subject, methods);
        if methods.contains(&"GET") && !methods.contains(&"HEAD") {
            methods.push("HEAD");
        }
    }
}

impl Methods {
    /// Go: `matchMethodAndPath`: this method, then GET for HEAD, then the
    /// patterns without a method.
    fn find(&self, method: &str, subject: Subject<'_>, captures: &mut Captures) -> Option<RouteIndex> {
        let walk = |node: &Node, captures: &mut Captures| {
            captures.clear();
            node.find(subject, 0, subject.slash, captures)
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
    fn matching_methods<'t>(&'t self, subject: Subject<'_>, methods: &mut Vec<&'t str>) {
        let mut captures = Captures::new();
        for (method, node) in &self.by_method {
            captures.clear();
            if node.find(subject, 0, subject.slash, &mut captures).is_some() && !methods.contains(&&**method)
            {
                methods.push(method);
            }
        }
    }
}

/// The next segment of what is left of the subject (Go: `firstSegment`):
/// its bytes (escaped) and where the walk goes on. What is left is
/// `path[pos..]`, followed by `/` while `slash` is pending.
fn first_segment(path: &[u8], pos: usize, slash: bool) -> (&[u8], (usize, usize), usize, bool) {
    let rest = &path[pos..];
    if (rest.is_empty() && slash) || (rest == b"/" && !slash) {
        // Only a slash is left: the segment "/" that `{$}` matches.
        return (b"/", (pos, pos), path.len(), false);
    }
    // Skip the slash before the segment (Go assumes one is there).
    let start = pos + 1;
    let end = path[start..]
        .iter()
        .position(|&b| b == b'/')
        .map_or(path.len(), |i| start + i);
    (&path[start..end], (start, end), end, slash)
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

    /// Go: `matchPath`, with backtracking: the literal child, then `{x}`,
    /// then the multi. `pos` and `slash` say what is left of the subject.
    fn find(
        &self,
        subject: Subject<'_>,
        pos: usize,
        slash: bool,
        captures: &mut Captures,
    ) -> Option<RouteIndex> {
        let path = subject.path;
        if pos == path.len() && !slash {
            return self.leaf;
        }
        let (seg, span, next, next_slash) = first_segment(path, pos, slash);
        let mark = captures.len();
        // The literal child, looked up by the unescaped segment; the empty
        // segment is Go's key for the `{x}` child. `{x}` never takes the
        // trailing slash (nor a segment that unescapes to "/", which Go
        // cannot tell from it).
        let lookup = |key: &[u8]| {
            let child = if key.is_empty() {
                self.wildcard.as_deref()
            } else {
                self.literals.find(key)
            };
            (child, key == b"/")
        };
        let (literal, is_slash) = if subject.escapes && seg.contains(&b'%') {
            with_unescaped(seg, lookup)
        } else {
            lookup(seg)
        };
        if let Some(found) = literal.and_then(|child| child.find(subject, next, next_slash, captures)) {
            return Some(found);
        }
        captures.truncate(mark);
        if !is_slash {
            if let Some(child) = &self.wildcard {
                captures.push(span);
                if let Some(found) = child.find(subject, next, next_slash, captures) {
                    return Some(found);
                }
                captures.truncate(mark);
            }
        }
        let (route, named) = self.multi?;
        if named {
            // The rest of the path, without its leading slash.
            captures.push((pos + 1, path.len()));
        }
        Some(route)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(patterns: &[&str]) -> Tree {
        let mut t = Tree::default();
        for (i, p) in patterns.iter().enumerate() {
            t.add(&Pattern::parse(p).unwrap(), i).unwrap();
        }
        t
    }

    fn find<'a>(t: &Tree, patterns: &[&'a str], method: &str, path: &str) -> Option<(&'a str, Vec<String>)> {
        let mut captures = Captures::new();
        let subject = Subject::new(path.as_bytes(), false);
        let route = t.find("", method, subject, &mut captures)?;
        let values = captures
            .iter()
            .map(|&(s, e)| with_unescaped(&path.as_bytes()[s..e], |v| String::from_utf8(v.to_vec()).unwrap()))
            .collect();
        Some((patterns[route], values))
    }

    /// Go: `TestRoutingNodeMatch`: literal before `{x}` before `{x...}`,
    /// with backtracking, and the values in order.
    #[test]
    fn match_backtracks_from_literal_to_wildcard() {
        let ps = [
            "/a/b/z",
            "/a/{x}/c",
            "/a/{x}/{rest...}",
            "/a/",
            "/{$}",
            "/b/{x}/{$}",
        ];
        let t = tree(&ps);
        assert_eq!(find(&t, &ps, "GET", "/a/b/z"), Some(("/a/b/z", vec![])));
        assert_eq!(
            find(&t, &ps, "GET", "/a/b/c"),
            Some(("/a/{x}/c", vec!["b".into()]))
        );
        assert_eq!(
            find(&t, &ps, "GET", "/a/b/d/e%2Ff"),
            Some(("/a/{x}/{rest...}", vec!["b".into(), "d/e/f".into()]))
        );
        assert_eq!(find(&t, &ps, "GET", "/a/"), Some(("/a/", vec![])));
        assert_eq!(find(&t, &ps, "GET", "/"), Some(("/{$}", vec![])));
        assert_eq!(
            find(&t, &ps, "GET", "/b/q/"),
            Some(("/b/{x}/{$}", vec!["q".into()]))
        );
        assert_eq!(find(&t, &ps, "GET", "/b/q"), None);
        assert_eq!(find(&t, &ps, "GET", "/c"), None);
    }

    /// Go: `matchMethodAndPath`: a GET pattern answers HEAD.
    #[test]
    fn head_falls_back_to_get() {
        let ps = ["GET /x", "POST /x", "/any"];
        let t = tree(&ps);
        assert_eq!(find(&t, &ps, "HEAD", "/x").map(|m| m.0), Some("GET /x"));
        assert_eq!(find(&t, &ps, "PUT", "/x"), None);
        assert_eq!(find(&t, &ps, "PUT", "/any").map(|m| m.0), Some("/any"));
        let mut methods = Vec::new();
        let subject = Subject::new(b"/x", false);
        t.matching_methods("", subject, &mut methods);
        methods.sort_unstable();
        assert_eq!(methods, ["GET", "HEAD", "POST"]);
    }

    /// The appended slash is walked as if it were in the path.
    #[test]
    fn pretended_slash_matches_as_a_real_one() {
        let ps = ["/a/", "/b/{$}", "/c/{x}/"];
        let t = tree(&ps);
        for path in ["/a", "/b", "/c/1"] {
            let mut captures = Captures::new();
            let pretend = Subject::new(path.as_bytes(), true);
            let real = Subject::new(format!("{path}/").leak().as_bytes(), false);
            assert_eq!(
                t.find("", "GET", pretend, &mut captures),
                t.find("", "GET", real, &mut captures),
                "{path}"
            );
        }
    }

    /// Many literal children switch to the hash index and still match
    /// escaped segments.
    #[test]
    fn many_children_are_indexed() {
        let owned: Vec<String> = (0..20)
            .map(|i| format!("/k{i}"))
            .chain(["/%7Bx%7D".into()])
            .collect();
        let ps: Vec<&str> = owned.iter().map(String::as_str).collect();
        let t = tree(&ps);
        assert_eq!(find(&t, &ps, "GET", "/k17").map(|m| m.0), Some("/k17"));
        assert_eq!(find(&t, &ps, "GET", "/%6B3").map(|m| m.0), Some("/k3"));
        assert_eq!(find(&t, &ps, "GET", "/%7Bx%7D").map(|m| m.0), Some("/%7Bx%7D"));
        assert_eq!(find(&t, &ps, "GET", "/k99"), None);
    }
}
