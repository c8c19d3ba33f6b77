//! The routing index: which registered patterns a new one could conflict
//! with (Go: `routingIndex`, routing_index.go).
//!
//! Checking a new pattern against every registered one makes registering
//! n patterns cost n² comparisons. Most pairs cannot conflict because they
//! have different literals at some position (`/users/{id}` and
//! `/orders/{id}`), so the index files every pattern that does not end in
//! a multi under each (position, literal) it has, wildcards under
//! (position, ""). A new pattern is then compared only with
//!
//! - the multi patterns (those ending in `/` or `{x...}`, which match any
//!   length): Go takes all of them; we take those with the same literal
//!   or a wildcard first;
//! - for a `{$}` pattern: the patterns with `{$}` at the same position;
//! - otherwise, at the literal position with the fewest candidates, the
//!   patterns with that literal or a wildcard there;
//! - for a pattern of wildcards only: everything.
//!
//! The candidates may include patterns that cannot conflict; the full
//! comparison in `specificity` decides.

use super::pattern::Pattern;
use super::tree::RouteIndex;
use crate::hash::FxBuildHasher;
use std::collections::HashMap;

/// Go: `routingIndex`.
/// The pattern's first segment when it is a non-empty literal (an empty
/// literal is filed as a wildcard, as in Go).
fn first_literal(p: &Pattern) -> Option<&[u8]> {
    let first = &p.segments()[0];
    (!first.wild && !first.text.is_empty()).then_some(&*first.text)
}

#[derive(Debug, Default)]
pub struct Index {
    /// By position: literal -> the patterns with it there (Go keys one map
    /// by the pair; a map per position lets a lookup borrow its key).
    literals: Vec<HashMap<Box<[u8]>, Vec<RouteIndex>, FxBuildHasher>>,
    /// By position: the patterns with a wildcard there (Go's key "", which
    /// an empty literal segment shares; kept apart so that no lookup
    /// compares empty keys, see `specificity::same`).
    wildcards: Vec<Vec<RouteIndex>>,
    /// The patterns ending in a multi wildcard whose first segment is a
    /// literal, by that literal (not in Go: see `possibly_conflicting`).
    multis_by_first: HashMap<Box<[u8]>, Vec<RouteIndex>, FxBuildHasher>,
    /// The other patterns ending in a multi wildcard (`/`, `/{x}/`...).
    multis: Vec<RouteIndex>,
}

impl Index {
    /// Go: `routingIndex.addPattern`.
    pub fn add(&mut self, p: &Pattern, route: RouteIndex) {
        if p.last_segment().multi {
            match first_literal(p) {
                Some(first) => self.multis_by_first.entry(first.into()).or_default().push(route),
                None => self.multis.push(route),
            }
            return;
        }
        for (pos, seg) in p.segments().iter().enumerate() {
            if self.literals.len() <= pos {
                self.literals.resize_with(pos + 1, HashMap::default);
                self.wildcards.resize_with(pos + 1, Vec::new);
            }
            if seg.wild || seg.text.is_empty() {
                self.wildcards[pos].push(route);
                continue;
            }
            match self.literals[pos].get_mut(&seg.text) {
                Some(routes) => routes.push(route),
                None => {
                    self.literals[pos].insert(seg.text.clone(), vec![route]);
                }
            }
        }
    }

    /// The patterns with `literal` at `pos` (an empty literal counts as a
    /// wildcard, as in Go).
    fn at(&self, pos: usize, literal: &[u8]) -> &[RouteIndex] {
        if literal.is_empty() {
            return self.wild_at(pos);
        }
        self.literals
            .get(pos)
            .and_then(|m| m.get(literal))
            .map_or(&[], Vec::as_slice)
    }

    /// The patterns with a wildcard at `pos`.
    fn wild_at(&self, pos: usize) -> &[RouteIndex] {
        self.wildcards.get(pos).map_or(&[], Vec::as_slice)
    }

    /// Go: `possiblyConflictingPatterns`: calls `check` on each candidate
    /// until it returns an error, and returns that error.
    pub fn possibly_conflicting<E>(
        &self,
        p: &Pattern,
        mut check: impl FnMut(RouteIndex) -> Result<(), E>,
    ) -> Result<(), E> {
        // Go checks every multi pattern. A multi pattern whose first
        // segment is a literal can only conflict with a pattern that has
        // the same literal or a wildcard first: two different literals at
        // one position are disjoint. Counted on the 1 000 patterns of
        // `benches/go-patterns/register.txt` (250 of them multis): Go's
        // rule offers 124 500 candidates, this one none, and registering
        // all of them went from about 3 ms to 1.7 ms.
        for &route in &self.multis {
            check(route)?;
        }
        match first_literal(p) {
            Some(first) => {
                for &route in self.multis_by_first.get(first).map_or(&[][..], Vec::as_slice) {
                    check(route)?;
                }
            }
            None => {
                for &route in self.multis_by_first.values().flatten() {
                    check(route)?;
                }
            }
        }
        let segments = p.segments();
        if p.last_segment().is_dollar() {
            // Only a `{$}` at the same position (or a multi) can match the
            // same paths as a `{$}` pattern.
            for &route in self.at(segments.len() - 1, b"/") {
                check(route)?;
            }
            return Ok(());
        }
        // The literal position with the fewest candidates, literal and
        // wildcard ones together.
        let mut best: Option<(&[RouteIndex], &[RouteIndex])> = None;
        for (pos, seg) in segments.iter().enumerate() {
            if seg.multi {
                break;
            }
            if seg.wild {
                continue;
            }
            let literal = self.at(pos, &seg.text);
            let wild = self.wild_at(pos);
            if best.is_none_or(|(l, w)| literal.len() + wild.len() < l.len() + w.len()) {
                best = Some((literal, wild));
            }
        }
        match best {
            Some((literal, wild)) => {
                for &route in literal.iter().chain(wild) {
                    check(route)?;
                }
            }
            None => {
                // All wildcards: any pattern could conflict.
                let literal = self.literals.iter().flat_map(HashMap::values);
                for routes in literal.chain(&self.wildcards) {
                    for &route in routes {
                        check(route)?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::specificity::conflicts;
    use super::*;

    /// The index may offer too many candidates, never too few: for every
    /// pattern of a varied set, the conflicts it finds among the earlier
    /// ones are exactly those a comparison with all of them finds.
    #[test]
    fn index_finds_every_conflict_a_full_scan_finds() {
        // Unclean paths (`//a`) parse with no method or with CONNECT only.
        let methods = ["", "GET ", "POST ", "HEAD ", "CONNECT "];
        let paths = [
            "/",
            "/a",
            "/a/",
            "/b",
            "/{x}",
            "/{x}/",
            "/{$}",
            "/a/{$}",
            "/a/b",
            "/a/{x}",
            "/{x}/b",
            "/{x}/{y}",
            "/a/{r...}",
            "/{x}/{r...}",
            "/a/b/",
            "/b/{x}/c",
            "//a",
            "/a//",
            "/{x}/b/{$}",
            "/c/d/e",
        ];
        let mut all = Vec::new();
        for m in methods {
            for p in paths {
                if let Ok(p) = Pattern::parse(&format!("{m}{p}")) {
                    all.push(p);
                }
            }
        }
        // Many orders of registration: every rotation of the list.
        for start in 0..all.len() {
            let order: Vec<&Pattern> = all[start..].iter().chain(&all[..start]).collect();
            let mut index = Index::default();
            let mut registered: Vec<&Pattern> = Vec::new();
            for p in order {
                let full_scan: Vec<usize> = (0..registered.len())
                    .filter(|&i| conflicts(p, registered[i]))
                    .collect();
                let mut found = Vec::new();
                let _ = index.possibly_conflicting(p, |i| {
                    if conflicts(p, registered[i]) {
                        found.push(i);
                    }
                    Ok::<(), ()>(())
                });
                found.sort_unstable();
                found.dedup();
                assert_eq!(found, full_scan, "{p}");
                if full_scan.is_empty() {
                    index.add(p, registered.len());
                    registered.push(p);
                }
            }
        }
    }
}
