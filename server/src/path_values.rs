//! The values a pattern's wildcards matched, kept on the request (Go:
//! `Request.matches`, `Request.pat` and `Request.otherValues`, read with
//! `PathValue` and written with `SetPathValue`, request.go).
//!
//! Go keeps a slice of the matched strings beside a pointer to the
//! pattern, whose wildcard names say which slot is which, plus a map for
//! names set by hand; every match allocates a new slice and every value a
//! new string. Here names and values are copied into one byte buffer that
//! belongs to the connection's request: it is emptied between requests
//! (`RequestSlot::reclaim`) and keeps its memory, so that from the second
//! request on a keep-alive connection, filling it allocates nothing.
//!
//! A value is bytes, not text, for the same reason as
//! [`UrlPath`](crate::url::UrlPath): `%FF` in a path unescapes to the byte
//! 0xFF, and Go hands it to the handler unchanged.

use std::ops::Range;

/// One name and its value, as ranges of [`PathValues::bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: Range<usize>,
    value: Range<usize>,
    /// Set by a mux from its pattern's wildcards (Go: `matches`), rather
    /// than by [`PathValues::set`] for a name the pattern does not have
    /// (Go: `otherValues`). A new match replaces only these.
    matched: bool,
}

/// The wildcard values of a request (Go: what `PathValue` reads).
///
/// ```
/// use server::PathValues;
/// let mut values = PathValues::default();
/// values.push_match("id", |buf| buf.extend_from_slice(b"42"));
/// values.set("user", b"ann");
/// assert_eq!(values.get("id"), Some(&b"42"[..]));
/// assert_eq!(values.get("user"), Some(&b"ann"[..]));
/// // A new match replaces the matched values and keeps the ones set by hand.
/// values.clear_matches();
/// assert_eq!(values.get("id"), None);
/// assert_eq!(values.get("user"), Some(&b"ann"[..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathValues {
    /// Names and values, one after the other.
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

impl PathValues {
    /// The value of `name`: a matched wildcard first, then a value set by
    /// hand (Go: `PathValue`, which returns `""` where this returns `None`).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        let find = |matched: bool| {
            self.entries
                .iter()
                .find(|e| e.matched == matched && &self.bytes[e.name.clone()] == name.as_bytes())
        };
        let entry = find(true).or_else(|| find(false))?;
        Some(&self.bytes[entry.value.clone()])
    }

    /// Sets `name` to `value`, as given (not unescaped): the matched
    /// wildcard of that name if there is one, else a value of its own (Go:
    /// `SetPathValue`).
    pub fn set(&mut self, name: &str, value: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(value);
        let value_range = start..self.bytes.len();
        let existing = [true, false].into_iter().find_map(|matched| {
            self.entries
                .iter()
                .position(|e| e.matched == matched && &self.bytes[e.name.clone()] == name.as_bytes())
        });
        match existing {
            // The old value's bytes stay unused until the buffer is emptied.
            Some(i) => self.entries[i].value = value_range,
            None => {
                let name = self.push_bytes(name.as_bytes());
                self.entries.push(Entry {
                    name,
                    value: value_range,
                    matched: false,
                });
            }
        }
    }

    /// Adds a matched wildcard: its name, and the value that `write`
    /// appends to the buffer it is given (a mux unescapes straight into it).
    pub fn push_match(&mut self, name: &str, write: impl FnOnce(&mut Vec<u8>)) {
        let name = self.push_bytes(name.as_bytes());
        let start = self.bytes.len();
        write(&mut self.bytes);
        self.entries.push(Entry {
            name,
            value: start..self.bytes.len(),
            matched: true,
        });
    }

    /// Forgets the matched wildcards, keeping the values set by hand (a
    /// mux calls this before it records a new match).
    pub fn clear_matches(&mut self) {
        if !self.entries.iter().any(|e| !e.matched) {
            // Nothing set by hand (the usual case): empty it all at once.
            return self.clear();
        }
        self.entries.retain(|e| !e.matched);
        if self.entries.is_empty() {
            self.bytes.clear();
        }
    }

    /// Forgets everything, keeping the memory (between two requests).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes.clear();
    }

    /// True when no value is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every name and value, matched ones and those set by hand, in the
    /// order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .map(|e| (&self.bytes[e.name.clone()], &self.bytes[e.value.clone()]))
    }

    fn push_bytes(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_a_matched_value_before_adding_one() {
        let mut values = PathValues::default();
        values.set("x", b"by hand");
        values.push_match("x", |b| b.extend_from_slice(b"matched"));
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
}
