//! The literal children of a routing node (Go: `mapping`, mapping.go),
//! and how a walk finds the one a path segment names.
//!
//! Go keeps up to eight children in a list and more in a map keyed by the
//! segment string, and the walk cuts each segment at its `/` before it
//! looks it up. Here, as Go does, a short list and a table past it; but
//! the list is searched without cutting the segment first:
//!
//! - **Up to [`LIST_MAX`] children: a list** in 33 buckets, one per
//!   value of a first byte's low five bits (every lower-case letter has
//!   its own; matchit keeps the first bytes in its `indices`). The
//!   segment's first byte picks the bucket, and each literal in it
//!   compares itself where the segment lies in the path, followed by a
//!   `/`: the literal and that `/` are stored as words, and the path is
//!   read as words that go on in slashes past its end
//!   (`words::padded_word`), so that a literal of up to seven bytes is
//!   one masked compare that also says the segment ends there. Only a
//!   wildcard then needs the segment's end.
//! - **Past that, a table** keyed by the cut segment (`key::Key`), so
//!   that a node with hundreds of literals is not searched in a line.
//!
//! Measured with callgrind on the 130 GitHub routes of
//! `benches/go-patterns` (`instructions.sh`): 711 instructions per
//! request, against 781 when every node cut the segment and looked it up
//! in the table (774 with the first bytes searched eight at a time, as a
//! word, instead of the buckets).
//!
//! Comparing in place is for the short way's walk
//! (`tree::Node::find_in_place`) over a decoded path, whose segments
//! hold no `/`, and which takes no segment that cleaning removes. So a
//! literal that no such segment can equal (one holding a `/`, the `/` of
//! `{$}`, `.` and `..`) is never found in place: it lies in a bucket of
//! its own, which no segment picks. Go's way, unescaped segment by
//! segment, finds every literal with [`Children::find`].

use super::key::Key;
use super::words::{next_slash, padded_word};

/// The most children kept as a list; past it, the table. A lookup in the
/// list compares every literal in its bucket, so its cost grows with the
/// literals that share a first byte; the table's does not. The busiest
/// node of the GitHub API (`/repos/{owner}/{repo}/`) has 27.
pub const LIST_MAX: usize = 32;

/// A literal child (Go: an `entry` of `mapping`).
#[derive(Debug)]
struct Literal<V> {
    /// The literal, unescaped, never empty.
    text: Box<[u8]>,
    /// The literal and a `/` after it, as little-endian words, zero
    /// past their end: the first word, and the others (none for a
    /// literal of up to seven bytes). Meaningful only for a literal that
    /// can be found in place.
    head: u64,
    tail: Box<[u64]>,
    /// The bytes of `head`, and of the last word of `tail`, that belong
    /// to the literal and its `/`.
    head_mask: u64,
    tail_mask: u64,
    /// `1 +` the index of the next entry in this one's bucket, 0 for none.
    next_in_bucket: u8,
    value: V,
}

/// True when a segment of a clean decoded path can equal `literal`: it
/// holds no `/` and is not `.` or `..`.
fn found_in_place(literal: &[u8]) -> bool {
    !literal.contains(&b'/') && literal != b"." && literal != b".."
}

/// The list's buckets: one per value of a first byte's low five bits
/// (every lower-case letter has its own), and one more for the literals
/// never found in place.
const BUCKETS: usize = 33;

/// The bucket of a segment that starts with `byte`.
#[inline]
fn bucket_of_byte(byte: u8) -> usize {
    usize::from(byte % 32)
}

/// The bucket of `literal`: its first byte's, or the last one for a
/// literal never found in place (see the module's notes).
fn bucket(literal: &[u8]) -> usize {
    if found_in_place(literal) {
        bucket_of_byte(literal[0])
    } else {
        BUCKETS - 1
    }
}

impl<V> Literal<V> {
    fn new(text: &[u8], value: V) -> Literal<V> {
        let mut bytes = text.to_vec();
        bytes.push(b'/');
        let word = |chunk: &[u8]| {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            u64::from_le_bytes(word)
        };
        // The mask of the first `n` bytes of a word (`n` from 1 to 8).
        let mask = |n: usize| u64::MAX >> (8 * (8 - n));
        let (first, rest) = bytes.split_at(bytes.len().min(8));
        Literal {
            text: text.into(),
            head: word(first),
            head_mask: mask(first.len()),
            tail: rest.chunks(8).map(word).collect(),
            tail_mask: mask((rest.len() + 7) % 8 + 1),
            next_in_bucket: 0,
            value,
        }
    }

    /// True when the literal and then a `/` (or the end) lie in `path`
    /// at `start`, whose first word is `head` ([`padded_word`]). The
    /// words before the last hold no `/`, so a path that ends inside them
    /// fails on its padding before any word past its end is read.
    #[inline]
    fn lies_at(&self, path: &[u8], start: usize, head: u64) -> bool {
        if head & self.head_mask != self.head {
            return false;
        }
        let Some((last, whole)) = self.tail.split_last() else {
            return true;
        };
        let mut at = start + 8;
        for &word in whole {
            if padded_word(path, at) != word {
                return false;
            }
            at += 8;
        }
        padded_word(path, at) & self.tail_mask == *last
    }
}

/// One slot of the table: a key and `1 +` its index in `entries`, or 0
/// when free.
#[derive(Debug, Default, Clone, Copy)]
struct Slot {
    key: Key,
    entry: u32,
}

/// The literal children of a node.
#[derive(Debug)]
pub struct Children<V> {
    /// The children, in the order they were added.
    entries: Vec<Literal<V>>,
    /// Up to [`LIST_MAX`] children, the list's buckets: `1 +` the index
    /// of the first entry in each (the others follow through
    /// `next_in_bucket`), 0 for an empty one.
    first_in: [u8; BUCKETS],
    /// Past [`LIST_MAX`] children, the table (empty before): a power of
    /// two long, at least twice as long as `entries`, so that a probe
    /// soon meets a free slot. A probe starts at the key's slot and goes
    /// on to the next while the slot holds another key; a free slot ends
    /// it. Two literals longer than 16 bytes may have equal keys: the
    /// bytes then decide.
    slots: Box<[Slot]>,
    /// `slots.len() == 1 << bits`.
    bits: u32,
}

impl<V> Default for Children<V> {
    fn default() -> Self {
        Children {
            entries: Vec::new(),
            first_in: [0; BUCKETS],
            slots: Box::default(),
            bits: 0,
        }
    }
}

impl<V: Default> Children<V> {
    /// The child for `literal`, added if new.
    pub fn get_or_insert(&mut self, literal: &[u8]) -> &mut V {
        let at = match self.position(literal) {
            Some(at) => at,
            None => self.push(literal),
        };
        &mut self.entries[at].value
    }
}

impl<V> Children<V> {
    fn push(&mut self, literal: &[u8]) -> usize
    where
        V: Default,
    {
        let at = self.entries.len();
        self.entries.push(Literal::new(literal, V::default()));
        if self.entries.len() <= LIST_MAX {
            // Last in its bucket: a bucket is searched in the order the
            // literals were added, as Go searches its list. (On the 130
            // GitHub routes, 11 fewer instructions a request than first
            // in its bucket: the table lists `repos` before `repositories`
            // and `rate_limit`, so fewer literals are compared in vain;
            // another table could gain or lose as much.)
            let link = u8::try_from(at + 1).expect("a list of fewer than 256");
            let mut last = self.first_in[bucket(literal)];
            if last == 0 {
                self.first_in[bucket(literal)] = link;
            } else {
                while self.entries[usize::from(last) - 1].next_in_bucket != 0 {
                    last = self.entries[usize::from(last) - 1].next_in_bucket;
                }
                self.entries[usize::from(last) - 1].next_in_bucket = link;
            }
        } else if self.slots.len() < 2 * self.entries.len() {
            self.rebuild_slots();
        } else {
            self.put_in_slot(at);
        }
        at
    }

    /// A table twice as long as the entries (rounded up to a power of
    /// two), every entry put back in.
    fn rebuild_slots(&mut self) {
        // The buckets are for the list only: a lookup that finds them
        // empty goes to the table.
        self.first_in = [0; BUCKETS];
        let len = (2 * self.entries.len()).next_power_of_two();
        self.bits = len.trailing_zeros();
        self.slots = vec![Slot::default(); len].into_boxed_slice();
        for at in 0..self.entries.len() {
            self.put_in_slot(at);
        }
    }

    fn put_in_slot(&mut self, at: usize) {
        let key = Key::of(&self.entries[at].text);
        let mask = self.slots.len() - 1;
        let mut slot = key.slot(self.bits);
        while self.slots[slot].entry != 0 {
            slot = (slot + 1) & mask;
        }
        let entry = u32::try_from(at + 1).expect("fewer than 2^32 children");
        self.slots[slot] = Slot { key, entry };
    }

    /// The child for `literal` (unescaped, never empty), wherever it came
    /// from (Go: `mapping.find`).
    #[inline]
    pub fn find(&self, literal: &[u8]) -> Option<&V> {
        let at = self.position(literal)?;
        Some(&self.entries[at].value)
    }

    /// The child whose literal is the segment of `path` that starts at
    /// `start` (a clean decoded path, `start` inside it), and where that
    /// segment ends. `None` for an empty segment, and for a literal that
    /// no clean segment equals.
    #[inline]
    pub fn find_in_place(&self, path: &[u8], start: usize) -> Option<(&V, usize)> {
        // No plain literal starts with `/`: an empty segment finds none.
        // The path is read as a word only when the bucket holds a
        // candidate (a node with only `{x}` below it has none): 15 fewer
        // instructions a request (callgrind, the 130 GitHub routes).
        let mut at = self.first_in[bucket_of_byte(path[start])];
        if at == 0 {
            // An empty bucket, or no buckets any more: the table's turn.
            if self.slots.is_empty() {
                return None;
            }
            return self.find_in_table(path, start);
        }
        let head = padded_word(path, start);
        while at != 0 {
            let entry = &self.entries[usize::from(at) - 1];
            if entry.lies_at(path, start, head) {
                return Some((&entry.value, start + entry.text.len()));
            }
            at = entry.next_in_bucket;
        }
        None
    }

    /// [`Children::find_in_place`] past the list: the segment cut at its
    /// end and looked up in the table. Kept out of the list's way (cold,
    /// never inlined): asked first at every level, the table cost 23 more
    /// instructions a request (596 against 573, callgrind, the 130 GitHub
    /// routes).
    #[cold]
    #[inline(never)]
    fn find_in_table(&self, path: &[u8], start: usize) -> Option<(&V, usize)> {
        let end = next_slash(path, start);
        let at = self.position_in_table(&path[start..end])?;
        let entry = &self.entries[at];
        found_in_place(&entry.text).then_some((&entry.value, end))
    }

    /// Where `literal` is in `entries`: through the list's index, or the
    /// table once there is one.
    #[inline]
    fn position(&self, literal: &[u8]) -> Option<usize> {
        if !self.slots.is_empty() {
            return self.position_in_table(literal);
        }
        let mut at = self.first_in[bucket(literal)];
        while at != 0 {
            let entry = &self.entries[usize::from(at) - 1];
            if *entry.text == *literal {
                return Some(usize::from(at) - 1);
            }
            at = entry.next_in_bucket;
        }
        None
    }

    /// Always inlined: left to the compiler, the lookup called it, and
    /// the walk cost about 90 more instructions a request (callgrind, the
    /// 130 GitHub routes).
    #[inline(always)]
    fn position_in_table(&self, literal: &[u8]) -> Option<usize> {
        let key = Key::of(literal);
        let mask = self.slots.len() - 1;
        let mut slot = key.slot(self.bits);
        loop {
            let Slot { key: there, entry } = self.slots[slot];
            let at = (entry as usize).checked_sub(1)?;
            if there == key && (key.is_exact() || *self.entries[at].text == *literal) {
                return Some(at);
            }
            slot = (slot + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn children(literals: &[&str]) -> Children<usize> {
        let mut c = Children::default();
        for (i, l) in literals.iter().enumerate() {
            *c.get_or_insert(l.as_bytes()) = i + 1;
        }
        c
    }

    /// In place, a literal is found exactly where its segment is, ended
    /// by a slash or the path's end; never a longer or shorter one, never
    /// one that no clean segment equals; and lists and tables agree.
    #[test]
    fn found_in_place_where_the_segment_is() {
        let literals = [
            "a",
            "ab",
            "abc",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijklmnop",
            "b",
            ".",
            "..",
            "x/y",
            "/",
            ".well-known",
        ];
        let mut many: Vec<String> = literals.iter().map(|l| l.to_string()).collect();
        many.extend((0..40).map(|i| format!("k{i}")));
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        for c in [children(&literals), children(&many)] {
            for (path, want) in [
                ("/a", Some(("a", 2))),
                ("/a/", Some(("a", 2))),
                ("/ab/c", Some(("ab", 3))),
                ("/abcd", None),
                ("/abcdefg", Some(("abcdefg", 8))),
                ("/abcdefgh", Some(("abcdefgh", 9))),
                ("/abcdefgh/", Some(("abcdefgh", 9))),
                ("/abcdefghi/x", Some(("abcdefghi", 10))),
                ("/abcdefghij", None),
                ("/abcdefghijklmnop", Some(("abcdefghijklmnop", 17))),
                ("/abcdefghijklmno", None),
                ("/abcdefghijklmnopq", None),
                ("/.", None),
                ("/../a", None),
                ("/x/y", None),
                ("//", None),
                ("/.well-known/", Some((".well-known", 12))),
                ("/c", None),
            ] {
                let got = c
                    .find_in_place(path.as_bytes(), 1)
                    .map(|(&v, end)| (literals[v - 1], end));
                assert_eq!(got, want, "{path}");
            }
            for (i, l) in literals.iter().enumerate() {
                assert_eq!(c.find(l.as_bytes()), Some(&(i + 1)), "{l}");
            }
            assert_eq!(c.find(b"abcd"), None);
        }
    }

    /// Past the list, every child is still found, the long ones whose
    /// keys are equal by their bytes.
    #[test]
    fn the_table_finds_every_child() {
        let mut literals: Vec<String> = (0..100).map(|i| format!("res{i}")).collect();
        literals.push("abcdefgh-1-ijklmnop".into());
        literals.push("abcdefgh-2-ijklmnop".into());
        let literals: Vec<&str> = literals.iter().map(String::as_str).collect();
        let c = children(&literals);
        for (i, l) in literals.iter().enumerate() {
            assert_eq!(c.find(l.as_bytes()), Some(&(i + 1)));
            let path = format!("/{l}/x");
            assert_eq!(c.find_in_place(path.as_bytes(), 1), Some((&(i + 1), l.len() + 1)));
        }
        assert_eq!(c.find(b"abcdefgh-3-ijklmnop"), None);
    }
}
