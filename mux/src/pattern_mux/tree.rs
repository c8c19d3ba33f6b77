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

use super::pattern::{Pattern, Segment};
use super::segments::Segments;
use crate::hash::FxBuildHasher;
use std::collections::HashMap;

/// A pattern's place among the registered routes, as the tree stores it.
pub type RouteIndex = usize;

/// The literal children of a node (Go: `mapping`, a list that turns into
/// a map past eight children), found by a small open-addressing table
/// whose hash reads four bytes of the segment, not all of them.
///
/// Speed trick, measured with callgrind on the 130 GitHub routes of
/// `benches/go-patterns` (`instructions.sh`): a child found through
/// the FxHash map cost about 100 instructions (hash every byte, probe,
/// compare); through this table about 35. Two keys may share a slot's
/// hash (same length and same sampled bytes); the probe then goes on to
/// the next slot, and the full comparison decides, so the answer never
/// depends on the hash.
#[derive(Debug, Default)]
struct Children {
    /// Keys (unescaped literals, never empty) and their nodes, in the
    /// order they were added.
    entries: Vec<(Box<[u8]>, Node)>,
    /// `1 + ` an index into `entries`, or 0 for a free slot. A power of
    /// two long, and at least twice as long as `entries`, so that a probe
    /// for a missing key soon meets a free slot.
    slots: Box<[u32]>,
}

/// The slot a key's probe starts from (before masking): its length and
/// its first, middle and last bytes, mixed by one multiplication
/// (Fibonacci hashing: the high half of the product).
#[inline]
fn slot_hash(key: &[u8]) -> usize {
    let n = key.len();
    let (first, middle, last) = (key[0], key[n / 2], key[n - 1]);
    let sample = (n as u64) | u64::from(first) << 16 | u64::from(middle) << 24 | u64::from(last) << 32;
    (sample.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize
}

impl Children {
    fn get_or_insert(&mut self, key: &[u8]) -> &mut Node {
        let at = match self.entries.iter().position(|(k, _)| **k == *key) {
            Some(at) => at,
            None => {
                self.entries.push((key.into(), Node::default()));
                if self.slots.len() < 2 * self.entries.len() {
                    self.rebuild_slots();
                } else {
                    self.put_in_slot(self.entries.len() - 1);
                }
                self.entries.len() - 1
            }
        };
        &mut self.entries[at].1
    }

    /// A table twice as long as the entries (rounded up to a power of
    /// two), every entry put back in.
    fn rebuild_slots(&mut self) {
        let len = (2 * self.entries.len()).next_power_of_two();
        self.slots = vec![0; len].into_boxed_slice();
        for at in 0..self.entries.len() {
            self.put_in_slot(at);
        }
    }

    fn put_in_slot(&mut self, at: usize) {
        let mask = self.slots.len() - 1;
        let mut slot = slot_hash(&self.entries[at].0) & mask;
        while self.slots[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        self.slots[slot] = u32::try_from(at + 1).expect("fewer than 2^32 children");
    }

    /// The child for an unescaped segment (never empty: Go's key "" is
    /// the `{x}` child, looked up apart).
    #[inline]
    fn find(&self, key: &[u8]) -> Option<&Node> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = slot_hash(key) & mask;
        loop {
            let at = (self.slots[slot] as usize).checked_sub(1)?;
            let (k, node) = &self.entries[at];
            if **k == *key {
                return Some(node);
            }
            slot = (slot + 1) & mask;
        }
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
    /// The pattern ending in `{x...}` or `/` here (Go: `multiChild`).
    multi: Option<RouteIndex>,
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
    /// without a host.
    pub fn find(&self, host: &str, method: &str, path: &Segments<'_>) -> Option<RouteIndex> {
        if !host.is_empty() && !self.by_host.is_empty() {
            if let Some(methods) = self.by_host.get(host) {
                if let Some(found) = methods.find(method, path) {
                    return Some(found);
                }
            }
        }
        self.any_host.find(method, path)
    }

    /// Go: `routingNode.matchingMethods`: every method whose patterns
    /// match `host` and the path, added to `methods`; HEAD where GET is.
    pub fn matching_methods<'t>(&'t self, host: &str, path: &Segments<'_>, methods: &mut Vec<&'t str>) {
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
    fn find(&self, method: &str, path: &Segments<'_>) -> Option<RouteIndex> {
        let of = |m: &str| self.by_method.iter().find(|(k, _)| **k == *m).map(|(_, n)| n);
        if let Some(found) = of(method).and_then(|n| n.find(path, 0)) {
            return Some(found);
        }
        if method == "HEAD" {
            if let Some(found) = of("GET").and_then(|n| n.find(path, 0)) {
                return Some(found);
            }
        }
        self.any.as_ref().and_then(|n| n.find(path, 0))
    }

    /// Go: `matchingMethodsPath`. The patterns without a method are not
    /// asked: they would have matched already.
    fn matching_methods<'t>(&'t self, path: &Segments<'_>, methods: &mut Vec<&'t str>) {
        for (method, node) in &self.by_method {
            if node.find(path, 0).is_some() && !methods.contains(&&**method) {
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
            self.multi = Some(route);
            Ok(())
        } else if stored_as_wildcard(seg) {
            self.wildcard
                .get_or_insert_with(Default::default)
                .add_segments(rest, route)
        } else {
            self.literals.get_or_insert(&seg.text).add_segments(rest, route)
        }
    }

    /// Go: `matchPath`, with backtracking: the literal child, then `{x}`,
    /// then the multi, for segment `i` of the path (this node's level).
    /// Only the route is returned: which segments the wildcards took
    /// follows from the route's pattern ([`Taken`]).
    ///
    /// Go recurses into every child it tries. Here a child after which
    /// nothing is left to try at this node (no `{x}` or multi to back up
    /// to) is walked into by the loop instead: the same answer without a
    /// call per level.
    fn find(&self, path: &Segments<'_>, mut i: usize) -> Option<RouteIndex> {
        let mut node = self;
        loop {
            if i == path.len() {
                return node.leaf;
            }
            // The literal child, looked up by the unescaped segment; the
            // empty segment is Go's key for the `{x}` child. `{x}` never
            // takes the trailing slash (nor a segment that unescapes to
            // "/", which Go cannot tell from it).
            let (literal, is_slash) = path.with_key(i, |key| {
                let child = if key.is_empty() {
                    node.wildcard.as_deref()
                } else {
                    node.literals.find(key)
                };
                (child, key == b"/")
            });
            let wildcard = node.wildcard.as_deref().filter(|_| !is_slash);
            if let Some(child) = literal {
                if wildcard.is_none() && node.multi.is_none() {
                    (node, i) = (child, i + 1);
                    continue;
                }
                if let Some(found) = child.find(path, i + 1) {
                    return Some(found);
                }
            }
            if let Some(child) = wildcard {
                if node.multi.is_none() {
                    (node, i) = (child, i + 1);
                    continue;
                }
                if let Some(found) = child.find(path, i + 1) {
                    return Some(found);
                }
            }
            return node.multi;
        }
    }
}

/// Where a pattern's segment goes in the tree: `{x}`, and an empty literal
/// (`//` in a pattern), which Go keys by "" as well, go to the `{x}`
/// child.
fn stored_as_wildcard(seg: &Segment) -> bool {
    !seg.multi && (seg.wild || seg.text.is_empty())
}

/// Where a walk that ends at a pattern takes a value (Go: the appends to
/// `matches` in `matchPath`). The walk itself records nothing: every
/// level of the tree reads one segment, so the pattern's segment `i`
/// took the path's segment `i`, and the pattern says which of them went
/// through the `{x}` child or the multi.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Segment `i`, taken through the `{x}` child.
    Segment(usize),
    /// The rest of the path from segment `i` on, taken by a named multi.
    Rest(usize),
}

impl Taken {
    /// Where `pattern`'s walk takes its values, in order (computed once,
    /// when the pattern is registered).
    pub fn all(pattern: &Pattern) -> Box<[Taken]> {
        pattern
            .segments()
            .iter()
            .enumerate()
            .filter_map(|(i, seg)| match seg {
                Segment {
                    multi: true, text, ..
                } => (!text.is_empty()).then_some(Taken::Rest(i)),
                seg if stored_as_wildcard(seg) => Some(Taken::Segment(i)),
                _ => None,
            })
            .collect()
    }

    /// The value taken from `path` (escaped as in the path), if any: an
    /// empty segment reached the `{x}` child as the literal key "" and
    /// is not recorded (Go's walk tries that key first). So the values
    /// that follow pair with the names one place up, as in Go; only an
    /// unclean CONNECT path can have an empty segment.
    pub fn value<'p>(self, path: &Segments<'p>) -> Option<&'p [u8]> {
        match self {
            Taken::Segment(i) => Some(path.raw(i)).filter(|v| !v.is_empty()),
            Taken::Rest(i) => Some(path.rest(i)),
        }
    }
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
        let segments = Segments::escaped(path.as_bytes(), false);
        let route = t.0.find("", method, &segments)?;
        let pattern = &t.1[route];
        let values = Taken::all(pattern)
            .iter()
            .filter_map(|t| t.value(&segments))
            .map(|v| with_unescaped(v, |v| String::from_utf8(v.to_vec()).unwrap()))
            .collect();
        Some((pattern.as_str().to_owned(), values))
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
        t.0.matching_methods("", &Segments::escaped(b"/x", false), &mut methods);
        methods.sort_unstable();
        assert_eq!(methods, ["GET", "HEAD", "POST"]);
    }

    /// The appended slash is walked as if it were in the path.
    #[test]
    fn pretended_slash_matches_as_a_real_one() {
        let t = tree(&["/a/", "/b/{$}", "/c/{x}/"]);
        for path in ["/a", "/b", "/c/1"] {
            let pretend = Segments::escaped(path.as_bytes(), true);
            let with_slash = format!("{path}/");
            let real = Segments::escaped(with_slash.as_bytes(), false);
            assert_eq!(
                t.0.find("", "GET", &pretend),
                t.0.find("", "GET", &real),
                "{path}"
            );
        }
    }

    /// Many literal children, some sharing the sampled bytes of the slot
    /// hash, all found, and escaped segments compared unescaped.
    #[test]
    fn many_children_are_all_found() {
        let owned: Vec<String> = (0..40)
            .map(|i| format!("/k{i}"))
            .chain(["/kaak".into(), "/kbbk".into(), "/kabk".into(), "/%7Bx%7D".into()])
            .collect();
        let ps: Vec<&str> = owned.iter().map(String::as_str).collect();
        let t = tree(&ps);
        for p in &ps[..43] {
            assert_eq!(find(&t, "GET", p).map(|m| m.0), Some(p.to_string()));
        }
        assert_eq!(find(&t, "GET", "/%6B3").map(|m| m.0), Some("/k3".into()));
        assert_eq!(find(&t, "GET", "/%7Bx%7D").map(|m| m.0), Some("/%7Bx%7D".into()));
        assert_eq!(find(&t, "GET", "/k99"), None);
        assert_eq!(find(&t, "GET", "/kccк"), None);
    }
}
