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
//! - every multi pattern (those ending in `/` or `{x...}`; few in
//!   practice, and hard to index because they match any length);
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
#[derive(Debug, Default)]
pub struct Index {
    /// By position: literal (or "" for a wildcard) -> patterns with it
    /// there (Go keys one map by the pair; a map per position lets a
    /// lookup borrow its key).
    segments: Vec<HashMap<Box<[u8]>, Vec<RouteIndex>, FxBuildHasher>>,
    /// Every pattern ending in a multi wildcard.
    multis: Vec<RouteIndex>,
}

impl Index {
    /// Go: `routingIndex.addPattern`.
    pub fn add(&mut self, p: &Pattern, route: RouteIndex) {
        if p.last_segment().multi {
            self.multis.push(route);
            return;
        }
        for (pos, seg) in p.segments().iter().enumerate() {
            let key: &[u8] = if seg.wild { b"" } else { &seg.text };
            if self.segments.len() <= pos {
                self.segments.resize_with(pos + 1, HashMap::default);
            }
            match self.segments[pos].get_mut(key) {
                Some(routes) => routes.push(route),
                None => {
                    self.segments[pos].insert(key.into(), vec![route]);
                }
            }
        }
    }

    fn at(&self, pos: usize, key: &[u8]) -> &[RouteIndex] {
        self.segments
            .get(pos)
            .and_then(|m| m.get(key))
            .map_or(&[], Vec::as_slice)
    }

    /// Go: `possiblyConflictingPatterns`: calls `check` on each candidate
    /// until it returns an error, and returns that error.
    pub fn possibly_conflicting<E>(
        &self,
        p: &Pattern,
        mut check: impl FnMut(RouteIndex) -> Result<(), E>,
    ) -> Result<(), E> {
        for &route in &self.multis {
            check(route)?;
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
            let wild = self.at(pos, b"");
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
                for routes in self.segments.iter().flat_map(HashMap::values) {
                    for &route in routes {
                        check(route)?;
                    }
                }
            }
        }
        Ok(())
    }
}
