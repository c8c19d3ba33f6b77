//! Paths and literals read eight bytes at a time: the few bit tricks the
//! lookup's speed rests on, kept together so that the rest of the mux
//! reads as plain byte handling.
//!
//! Each is used in one place, and its measured gain is written there:
//! `next_slash` (with `equal_bytes`) by `segments`, for a segment's end;
//! `first_word` and `word_at` by `key`, a literal's key; `padded_word` by
//! `children`, a literal compared where it lies in the path.

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const LOWS: u64 = u64::from_le_bytes([0x7F; 8]);
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// Eight `/` bytes: what [`padded_word`] reads past the end of a path.
pub const SLASHES: u64 = u64::from_le_bytes([b'/'; 8]);

/// Reads eight bytes at `at` as a little-endian `u64` (the first byte is
/// the lowest).
#[inline]
pub fn word_at(bytes: &[u8], at: usize) -> u64 {
    let eight: [u8; 8] = bytes[at..at + 8].try_into().expect("eight bytes");
    u64::from_le_bytes(eight)
}

/// Up to the first eight bytes of `bytes` as a little-endian `u64`,
/// zero-padded, read in at most two loads that stay inside `bytes`
/// (overlapping where the length is not a power of two: the bytes they
/// share are the same, so OR keeps them).
#[inline]
pub fn first_word(bytes: &[u8]) -> u64 {
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

/// The eight bytes of `path` from `at`, with `/` in place of any byte
/// past its end (and eight `/` when `at` is past it): a path read this
/// way seems to end in endless slashes, so that "the segment ends here"
/// is one test, "the next byte is `/`", whether a slash or the end
/// follows.
#[inline]
pub fn padded_word(path: &[u8], at: usize) -> u64 {
    if at + 8 <= path.len() {
        return word_at(path, at);
    }
    let rest = path.get(at..).unwrap_or_default();
    // `rest` is shorter than eight bytes: the slashes fill the others.
    first_word(rest) | SLASHES << (8 * rest.len())
}

/// The bytes of `word` equal to `byte`: the high bit of each such byte
/// set, every other bit clear. Exact (no false hits): the low seven bits
/// of each byte are added apart, so that no carry crosses a byte.
#[inline]
pub fn equal_bytes(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    // A byte of `x` is zero exactly when neither its low seven bits
    // (added to 0x7F they carry into the high bit) nor its high bit are set.
    !(((x & LOWS) + LOWS) | x) & HIGHS
}

/// Where the first `/` at or after `from` is in `path`, or its length
/// when there is none: the end of a segment.
///
/// Eight bytes at a time (a `u64` in which a byte equal to `/` is found
/// by [`equal_bytes`]), and the last fewer than eight bytes as the
/// path's last eight, the ones before `from` shifted out, so that no path
/// of eight bytes or more is ever searched a byte at a time. Measured
/// with callgrind on the 130 GitHub routes of `benches/go-patterns`: 793
/// instructions per request, against 823 with a search byte by byte.
#[inline]
pub fn next_slash(path: &[u8], from: usize) -> usize {
    let first_slash = |word: u64| {
        let hits = equal_bytes(word, b'/');
        (hits != 0).then(|| (hits.trailing_zeros() / 8) as usize)
    };
    let len = path.len();
    let mut at = from;
    while at + 8 <= len {
        if let Some(i) = first_slash(word_at(path, at)) {
            return at + i;
        }
        at += 8;
    }
    if at >= len {
        return len;
    }
    if len >= 8 {
        // `at` is within the last eight bytes: read those, drop the ones
        // before `at` (the zeros shifted in are not slashes).
        let skip = at - (len - 8);
        let word = word_at(path, len - 8) >> (8 * skip);
        return first_slash(word).map_or(len, |i| at + i);
    }
    path[at..].iter().position(|&b| b == b'/').map_or(len, |i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A padded word is the path's bytes, then slashes, from every start
    /// up to past the end.
    #[test]
    fn padded_word_fills_with_slashes() {
        for path in [&b""[..], b"/a", b"/abcdefg", b"/abcdefghijklmn"] {
            for at in 0..=path.len() + 9 {
                let mut want = [b'/'; 8];
                for (i, w) in want.iter_mut().enumerate() {
                    if let Some(&b) = path.get(at + i) {
                        *w = b;
                    }
                }
                assert_eq!(padded_word(path, at), u64::from_le_bytes(want), "{path:?} {at}");
            }
        }
    }

    /// Every byte equal to the one asked for is found, and no other, for
    /// every byte value next to every other (carries and borrows).
    #[test]
    fn equal_bytes_is_exact() {
        for byte in [0u8, 1, b'/', 0x7F, 0x80, 0xFF] {
            for other in 0..=255u8 {
                let bytes = [other, byte, other, other ^ 1, byte, 0, 0xFF, byte ^ 0x80];
                let hits = equal_bytes(u64::from_le_bytes(bytes), byte);
                for (i, &b) in bytes.iter().enumerate() {
                    assert_eq!(hits >> (8 * i + 7) & 1 == 1, b == byte, "{bytes:?} {byte}");
                }
                assert_eq!(hits & !HIGHS, 0);
            }
        }
    }

    /// The word-wise search finds what a byte-wise one finds, from every
    /// start, in paths shorter and longer than a word.
    #[test]
    fn next_slash_agrees_with_a_byte_search() {
        for path in [
            "",
            "/",
            "a",
            "abc/",
            "/abcdefg",
            "/abcdefgh/",
            "/a/bcdefghijklmn/o",
            "/abcdefghijklmnopq",
            "p\u{e9}/\u{ff}/x",
        ] {
            let path = path.as_bytes();
            for from in 0..=path.len() {
                let want = path[from..]
                    .iter()
                    .position(|&b| b == b'/')
                    .map_or(path.len(), |i| from + i);
                assert_eq!(next_slash(path, from), want, "{path:?} {from}");
            }
        }
    }
}
