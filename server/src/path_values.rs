//! The values a pattern's wildcards matched, kept on the request (Go:
//! `Request.matches`, `Request.pat` and `Request.otherValues`, read with
//! `PathValue` and written with `SetPathValue`, request.go).
//!
//! Go keeps a slice of the matched strings beside a pointer to the
//! pattern, whose wildcard names say which slot is which, plus a map for
//! names set by hand; every match allocates a new slice and every value a
//! new string. Here a match is recorded with no string of its own:
//!
//! - the names stay where the mux keeps them: a table of every pattern's
//!   wildcard names ([`PatternNames`]), shared with the requests it
//!   routes, and the matched pattern's number in it (Go's `pat`). The
//!   table is held across requests: a connection whose requests go to the
//!   same mux takes its reference once, not per request;
//! - the path the mux walked is copied once, in one piece, and each value
//!   is a range of that copy. Only a value that must be unescaped (it
//!   holds a `%` and came from the escaped path) is written out on its
//!   own. The copy is made because the request's URL belongs to the
//!   handler, which may rewrite it: a value must not change with it (in
//!   Go it cannot, being a string of its own).
//!
//! Everything lives in one byte buffer and two lists that belong to the
//! connection's request: they are emptied between requests
//! (`RequestSlot::reclaim`) and keep their memory, so that from the
//! second request on a keep-alive connection, recording a match
//! allocates nothing.
//!
//! Measured with callgrind on the modern mux's benchmark (130 GitHub API
//! routes, 1.55 values a request, `benches/go-patterns/instructions.sh`,
//! which also looks up without storing values): storing the values cost
//! 246 instructions a request when every name and value was copied and
//! listed on its own, 121 this way. Of those, the copy of the path is
//! about 20: the price of values that do not change when the handler
//! rewrites `r.url`.
//!
//! A value is bytes, not text, for the same reason as
//! [`UrlPath`](crate::url::UrlPath): `%FF` in a path unescapes to the byte
//! 0xFF, and Go hands it to the handler unchanged.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// The wildcard names of each pattern a mux holds, by the pattern's
/// number (Go keeps them in each `pattern`'s segments, which
/// `Request.pat` points to). A mux shares it, through an [`Arc`], with
/// the [`PathValues`] of the requests it routes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatternNames {
    by_pattern: Vec<Box<[Box<str>]>>,
}

impl PatternNames {
    /// Adds the names of the next pattern, in pattern order, and returns
    /// its number.
    pub fn push(&mut self, names: &[Box<str>]) -> usize {
        self.by_pattern.push(names.into());
        self.by_pattern.len() - 1
    }

    /// The names of pattern number `pattern`.
    pub fn of(&self, pattern: usize) -> &[Box<str>] {
        &self.by_pattern[pattern]
    }
}

/// A name set by hand, and its value, as ranges of [`PathValues::bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct SetByHand {
    name: Range<usize>,
    value: Range<usize>,
}

/// The wildcard values of a request (Go: what `PathValue` reads).
///
/// ```
/// use server::{PathValues, PatternNames};
/// use std::sync::Arc;
/// let mut names = PatternNames::default();
/// let route = names.push(&["id".into()]);
/// let names = Arc::new(names);
///
/// let mut values = PathValues::default();
/// values.start_match(&names, route, b"/items/42");
/// values.push_values(&[(7, 9)]);
/// values.set("user", b"ann");
/// assert_eq!(values.get("id"), Some(&b"42"[..]));
/// assert_eq!(values.get("user"), Some(&b"ann"[..]));
/// // Without a match, the values set by hand stay.
/// values.clear_matches();
/// assert_eq!(values.get("id"), None);
/// assert_eq!(values.get("user"), Some(&b"ann"[..]));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PathValues {
    /// The table the matched pattern's names are in. Kept when the values
    /// are emptied: the next match is most likely from the same mux.
    names: Option<Arc<PatternNames>>,
    /// The matched pattern's number in `names` (Go: `pat`); meaningful
    /// only while `matched` holds values.
    pattern: usize,
    /// Where the matched path's copy starts in `bytes`.
    path_at: usize,
    /// The value of each wildcard, in pattern order, as a range of
    /// `bytes` (Go: `matches`).
    matched: Vec<Range<usize>>,
    /// Names the pattern does not have, set by hand (Go: `otherValues`).
    by_hand: Vec<SetByHand>,
    /// The matched path, unescaped values, and what was set by hand.
    bytes: Vec<u8>,
}

impl PathValues {
    /// The value of `name`: a matched wildcard first, then a value set by
    /// hand (Go: `PathValue`, which returns `""` where this returns `None`).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        let range = match self.matched_position(name) {
            Some(i) => &self.matched[i],
            None => {
                let name = name.as_bytes();
                let set = self
                    .by_hand
                    .iter()
                    .find(|e| &self.bytes[e.name.clone()] == name)?;
                &set.value
            }
        };
        // `get`, not indexing: a range pushed past the path is a caller's
        // mistake, answered with no value rather than a panic.
        self.bytes.get(range.clone())
    }

    /// Sets `name` to `value`, as given (not unescaped): the matched
    /// wildcard of that name if there is one, else a value of its own (Go:
    /// `SetPathValue`).
    pub fn set(&mut self, name: &str, value: &[u8]) {
        let value = self.push_bytes(value);
        if let Some(i) = self.matched_position(name) {
            // The old value's bytes stay unused until the buffer is emptied.
            self.matched[i] = value;
            return;
        }
        let existing = self
            .by_hand
            .iter()
            .position(|e| &self.bytes[e.name.clone()] == name.as_bytes());
        match existing {
            Some(i) => self.by_hand[i].value = value,
            None => {
                let name = self.push_bytes(name.as_bytes());
                self.by_hand.push(SetByHand { name, value });
            }
        }
    }

    /// Forgets the previous match and starts recording one of pattern
    /// number `pattern` in `names`, whose values are cut from `path` (the
    /// path the mux walked, copied here once when the pattern has
    /// wildcards). Then [`PathValues::push_values`] or
    /// [`PathValues::push_value_with`] once per wildcard, in order.
    #[inline]
    pub fn start_match(&mut self, names: &Arc<PatternNames>, pattern: usize, path: &[u8]) {
        self.clear_matches();
        if !self.names.as_ref().is_some_and(|held| Arc::ptr_eq(held, names)) {
            self.names = Some(Arc::clone(names));
        }
        self.pattern = pattern;
        if !names.of(pattern).is_empty() {
            self.path_at = self.bytes.len();
            self.bytes.extend_from_slice(path);
        }
    }

    /// The next wildcards' values: the bytes from `start` to `end` of the
    /// path given to [`PathValues::start_match`], as they are.
    #[inline]
    pub fn push_values(&mut self, ranges: &[(usize, usize)]) {
        let at = self.path_at;
        self.matched
            .extend(ranges.iter().map(|&(start, end)| at + start..at + end));
    }

    /// The next wildcard's value, as `write` appends it to the buffer it
    /// is given (a mux unescapes straight into it).
    #[inline]
    pub fn push_value_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        self.matched.push(start..self.bytes.len());
    }

    /// Forgets the matched wildcards, keeping the values set by hand (a
    /// mux calls this when it finds no pattern).
    #[inline]
    pub fn clear_matches(&mut self) {
        self.matched.clear();
        if self.by_hand.is_empty() {
            // Nothing set by hand (the usual case): the bytes were all
            // the match's.
            self.bytes.clear();
        }
    }

    /// Forgets every value, keeping the memory and the names table (between
    /// two requests).
    pub fn clear(&mut self) {
        self.matched.clear();
        self.by_hand.clear();
        self.bytes.clear();
    }

    /// True when no value is held.
    pub fn is_empty(&self) -> bool {
        self.matched.is_empty() && self.by_hand.is_empty()
    }

    /// Every name and value: the matched ones in pattern order, then those
    /// set by hand.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let matched = self
            .matched_names()
            .iter()
            .zip(&self.matched)
            .map(|(name, value)| (name.as_bytes(), &self.bytes[value.clone()]));
        let by_hand = self
            .by_hand
            .iter()
            .map(|e| (&self.bytes[e.name.clone()], &self.bytes[e.value.clone()]));
        matched.chain(by_hand)
    }

    /// The names of the matched pattern that have a value (all of them,
    /// but for Go's empty-segment quirk, where the last ones go without).
    fn matched_names(&self) -> &[Box<str>] {
        match &self.names {
            Some(names) if !self.matched.is_empty() => {
                let all = names.of(self.pattern);
                &all[..all.len().min(self.matched.len())]
            }
            _ => &[],
        }
    }

    /// Which matched wildcard is called `name`.
    fn matched_position(&self, name: &str) -> Option<usize> {
        self.matched_names().iter().position(|n| **n == *name)
    }

    fn push_bytes(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }
}

/// The names and values, not the mux's whole table of names.
impl fmt::Debug for PathValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        f.debug_map()
            .entries(self.iter().map(|(name, value)| (text(name), text(value))))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(patterns: &[&[&str]]) -> Arc<PatternNames> {
        let mut table = PatternNames::default();
        for names in patterns {
            let names: Vec<Box<str>> = names.iter().map(|&n| n.into()).collect();
            table.push(&names);
        }
        Arc::new(table)
    }

    #[test]
    fn set_replaces_a_matched_value_before_adding_one() {
        let table = names(&[&["x"]]);
        let mut values = PathValues::default();
        values.set("x", b"by hand");
        values.start_match(&table, 0, b"/matched");
        values.push_values(&[(1, 8)]);
        // Go: PathValue looks at the pattern's wildcards first.
        assert_eq!(values.get("x"), Some(&b"matched"[..]));
        values.set("x", b"new");
        assert_eq!(values.get("x"), Some(&b"new"[..]));
        values.clear_matches();
        assert_eq!(values.get("x"), Some(&b"by hand"[..]));
        values.clear();
        assert!(values.is_empty());
        assert_eq!(values.get("x"), None);
    }

    /// Values cut from the path and values written out mix in pattern
    /// order; a new match replaces the old one whole, and the copy of the
    /// path keeps the values when the caller's path changes.
    #[test]
    fn ranges_and_written_values_in_pattern_order() {
        let table = names(&[&["a", "b", "c"], &[], &["z"]]);
        let mut values = PathValues::default();
        let mut path = b"/x/1/y%202/z".to_vec();
        values.start_match(&table, 0, &path);
        values.push_values(&[(3, 4)]);
        values.push_value_with(|buf| buf.extend_from_slice(b"y 2"));
        values.push_values(&[(11, 12)]);
        path.clear();
        let seen: Vec<(&[u8], &[u8])> = values.iter().collect();
        assert_eq!(seen, [(&b"a"[..], &b"1"[..]), (b"b", b"y 2"), (b"c", b"z")]);
        values.start_match(&table, 1, b"/plain");
        assert!(values.is_empty());
        assert_eq!(values.get("a"), None);
        values.start_match(&table, 2, b"/q");
        values.push_values(&[(1, 2)]);
        assert_eq!(values.get("z"), Some(&b"q"[..]));
        assert_eq!(values.get("a"), None);
    }

    /// Go's empty-segment quirk leaves the last names without a value:
    /// they are not found, and setting one adds a value of its own.
    #[test]
    fn names_without_a_value_are_absent() {
        let table = names(&[&["a", "b"]]);
        let mut values = PathValues::default();
        values.start_match(&table, 0, b"/x//q");
        values.push_values(&[(4, 5)]);
        assert_eq!((values.get("a"), values.get("b")), (Some(&b"q"[..]), None));
        values.set("b", b"set");
        assert_eq!(values.get("b"), Some(&b"set"[..]));
        assert_eq!(format!("{values:?}"), r#"{"a": "q", "b": "set"}"#);
    }
}
