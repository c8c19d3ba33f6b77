//! The key a node with many literal children finds one by (more than
//! `children::LIST_MAX`; fewer are found by their first byte, compared in
//! place).
//!
//! Go keeps a node's literal children in a list, and past eight of them
//! in a map keyed by the segment string (`mapping`, `findChild`). A map
//! hashes every byte of the segment and then compares them all again.
//! Here such a child is found through a small open-addressing table (in
//! `children`) whose key is the literal's length and its first and last
//! eight bytes, read as two `u64`s: the same three numbers pick the slot
//! and, for a literal of up to 16 bytes, decide equality, with no loop
//! over the bytes and no call to `memcmp`.
//!
//! Measured with callgrind on the 130 GitHub routes of
//! `benches/go-patterns` (`instructions.sh`), when every node used this
//! table: 987 instructions per request, against 1 098 with an FxHash map
//! of the literals in its place; about 50 fewer for each literal child
//! looked up (two per request there).

use super::words::{first_word, word_at};

/// A literal's identity for the routing tree's child tables: its length
/// and its first and last eight bytes. Two literals of up to 16 bytes are
/// equal exactly when their `Key`s are; longer ones must also compare
/// the bytes between ([`Key::is_exact`] says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Key {
    len: usize,
    first: u64,
    /// The last eight bytes when there are more than eight, else 0.
    last: u64,
}

impl Key {
    /// The key of a segment or literal.
    #[inline]
    pub fn of(bytes: &[u8]) -> Key {
        let len = bytes.len();
        Key {
            len,
            first: first_word(bytes),
            last: if len > 8 { word_at(bytes, len - 8) } else { 0 },
        }
    }

    /// True when equal keys mean equal bytes (16 bytes or fewer).
    #[inline]
    pub fn is_exact(&self) -> bool {
        self.len <= 16
    }

    /// Where a probe for this key starts in a table of `2^bits` slots:
    /// the words folded together and mixed by one multiplication,
    /// whose high bits are the best mixed (Fibonacci hashing).
    #[inline]
    pub fn slot(&self, bits: u32) -> usize {
        let folded = self.first ^ self.last.rotate_left(29) ^ self.len as u64;
        let mixed = folded.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // `bits` is at most 32 (the table's length fits in u32).
        (mixed >> (64 - bits)) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys of up to 16 bytes are equal exactly when the bytes are.
    #[test]
    fn short_keys_compare_as_their_bytes() {
        let words: Vec<Vec<u8>> = (0..=17)
            .flat_map(|n| {
                let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
                let mut b = a.clone();
                if let Some(x) = b.get_mut(n / 2) {
                    *x = b'Z';
                }
                let mut c = a.clone();
                c.push(0);
                [a, b, c]
            })
            .collect();
        for x in &words {
            for y in &words {
                if x.len() <= 16 && y.len() <= 16 {
                    assert_eq!(Key::of(x) == Key::of(y), x == y, "{x:?} {y:?}");
                }
            }
        }
    }
}
