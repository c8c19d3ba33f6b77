//! Reading a path eight bytes at a time: the mux's one speed trick on
//! bytes, kept here (Go reads byte by byte: `strings.IndexByte` in
//! `firstSegment`, a string-keyed map in `findChild`).
//!
//! Two things the walk down the routing tree does at every level:
//!
//! - find where the segment ends, the next `/` ([`next_slash`]): a `u64`
//!   holds eight bytes, and a few arithmetic steps flag every `/` among
//!   them, where a loop would compare each byte;
//! - find the literal child named like the segment ([`Key`]): the
//!   segment's length and its first and last eight bytes, read as two
//!   `u64`s, are a key that both picks the child's slot and compares
//!   equal exactly when the bytes do (up to 16 bytes; longer keys also
//!   compare the bytes between).
//!
//! Measured with callgrind on the 130 GitHub routes of
//! `benches/go-patterns` (`instructions.sh`); the figures are beside each
//! function.

/// Reads eight bytes at `at` as a little-endian `u64` (the first byte is
/// the lowest).
#[inline]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    let eight: [u8; 8] = bytes[at..at + 8].try_into().expect("eight bytes");
    u64::from_le_bytes(eight)
}

/// The high bit of each byte of the result is set exactly where `word`
/// holds a `/`: XOR makes those bytes zero, and a zero byte is the only
/// one whose low seven bits, plus 0x7F, do not carry into bit 7 and whose
/// own bit 7 is clear. (The shorter classic test, `(x - 0x01..) & !x &
/// 0x80..`, can also flag a 0x01 byte above a zero one, and `.` is `/`
/// XOR 0x01.)
#[inline]
fn slash_bits(word: u64) -> u64 {
    const SLASHES: u64 = u64::from_le_bytes([b'/'; 8]);
    const LOW_SEVEN: u64 = u64::from_le_bytes([0x7F; 8]);
    let x = word ^ SLASHES;
    !(((x & LOW_SEVEN) + LOW_SEVEN) | x | LOW_SEVEN)
}

/// The index of the first `/` in `path` at or after `from`, or the
/// path's length (Go: `strings.IndexByte` in `firstSegment`).
///
/// A segment of up to eight bytes costs one word: about 12 instructions,
/// where the byte loop took 5 a byte.
#[inline]
pub fn next_slash(path: &[u8], from: usize) -> usize {
    let mut at = from;
    while at + 8 <= path.len() {
        let slashes = slash_bits(word_at(path, at));
        if slashes != 0 {
            return at + slashes.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    if at == path.len() {
        return at;
    }
    if path.len() >= 8 {
        // Fewer than eight bytes left: read the path's last eight and
        // shift away those before `at` (zeros come in, and no zero byte is
        // a slash).
        let skip = at - (path.len() - 8);
        let slashes = slash_bits(word_at(path, path.len() - 8) >> (8 * skip));
        if slashes != 0 {
            return at + slashes.trailing_zeros() as usize / 8;
        }
        return path.len();
    }
    path[at..]
        .iter()
        .position(|&b| b == b'/')
        .map_or(path.len(), |i| at + i)
}

/// Up to the first eight bytes of `bytes` as a little-endian `u64`,
/// zero-padded, read in at most two loads that stay inside `bytes`
/// (overlapping where the length is not a power of two: the bytes they
/// share are the same, so OR keeps them).
#[inline]
fn first_word(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let le = |at: usize, width: usize| -> u64 {
        let mut word = [0u8; 8];
        word[..width].copy_from_slice(&bytes[at..at + width]);
        u64::from_le_bytes(word)
    };
    match n {
        8.. => word_at(bytes, 0),
        4..=7 => le(0, 4) | le(n - 4, 4) << (8 * (n - 4)),
        2..=3 => le(0, 2) | le(n - 2, 2) << (8 * (n - 2)),
        1 => u64::from(bytes[0]),
        0 => 0,
    }
}

/// A literal's identity for the routing tree's child tables: its length
/// and its first and last eight bytes. Two keys of up to 16 bytes are
/// equal exactly when their `Key`s are; longer ones must also compare
/// the bytes between ([`Key::is_exact`] says which).
///
/// Finding a child by it took about 35 instructions a level, against
/// about 100 for the FxHash map (which hashes every byte, then compares
/// them all through `memcmp`).
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

    /// The word-at-a-time search finds the first slash from anywhere, `.`
    /// (one bit away from `/`) and bytes above 0x7F included.
    #[test]
    fn next_slash_finds_the_first_slash() {
        let bytes: Vec<u8> = (0..=255u8)
            .chain(b"/./../x//".iter().copied())
            .chain(0..=255u8)
            .collect();
        for len in [0, 1, 5, 7, 8, 9, 47, 48, 49, 300, bytes.len()] {
            let path = &bytes[..len];
            for from in 0..=len {
                let want = (from..len).find(|&i| path[i] == b'/').unwrap_or(len);
                assert_eq!(next_slash(path, from), want, "len {len} from {from}");
            }
        }
    }

    /// A key's first word is its bytes, however they were read.
    #[test]
    fn first_word_is_the_first_bytes() {
        let bytes = b"abcdefghijk";
        for n in 0..=bytes.len() {
            let mut want = [0u8; 8];
            let k = n.min(8);
            want[..k].copy_from_slice(&bytes[..k]);
            assert_eq!(first_word(&bytes[..n]), u64::from_le_bytes(want), "{n}");
        }
    }

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
