//! The path a lookup walks, and how it is cut into segments on the way
//! (Go: `firstSegment`, routing_tree.go).
//!
//! Go's segments, for the record (`firstSegment` of what is left, until
//! nothing is):
//!
//! | path | segments |
//! |---|---|
//! | `/a/b` | `a`, `b` |
//! | `/a/b/` | `a`, `b`, `/` |
//! | `/` | `/` |
//! | `/a//b` | `a`, `` (empty), `b` |
//! | `` (CONNECT to an authority) | none |
//!
//! The `/` that ends a path with a trailing slash is a segment of its own,
//! the one `{$}` matches.
//!
//! One difference from Go: Go's walk always goes through the escaped
//! path, unescaping each segment before it compares it. Most URLs have no
//! `raw_path`: their escaped path is the default escaping of the decoded
//! one, and escaping never touches `/` while unescaping undoes it, so the
//! decoded path's segments *are* the unescaped segments. The mux walks
//! such a path as it is ([`Subject::decoded`]), and unescapes nothing.
//!
//! And one for speed: Go's `firstSegment` finds the next `/` with
//! `strings.IndexByte`; here `next_slash` reads the path eight bytes at a
//! time (its measured gain is written beside it).

use super::escape::with_unescaped;
use std::cell::Cell;

/// A path to walk, and what the walk has learnt about it.
pub struct Subject<'p> {
    path: &'p [u8],
    /// A `/` is taken as appended to the path (the mux's redirect check
    /// asks about `path + "/"`; pretending saves building that string).
    slash: bool,
    /// The path is escaped and holds a `%`: compare the segments
    /// unescaped, and unescape the values taken from them.
    escapes: bool,
    /// The walk met a segment that cleaning would remove (empty, `.` or
    /// `..`): see [`Subject::met_unclean`].
    unclean: Cell<bool>,
}

/// One segment of the request's path, as [`Subject::segment`] cuts it
/// (a pattern's segment is `pattern::Segment`).
#[derive(Debug, Clone, Copy)]
pub struct PathSegment {
    /// Where it lies in the path (empty for the last `/`).
    pub start: usize,
    pub end: usize,
    /// Where what is left after it starts, and whether the appended slash
    /// is still to come.
    pub next: usize,
    pub slash_after: bool,
    /// It is the `/` of a trailing slash (or of the appended one).
    pub is_last_slash: bool,
}

impl<'p> Subject<'p> {
    /// An escaped path (Go: what `EscapedPath` gives), with a `/` taken
    /// as appended when `slash`.
    pub fn escaped(path: &'p [u8], slash: bool) -> Subject<'p> {
        Subject {
            path,
            slash,
            escapes: path.contains(&b'%'),
            unclean: Cell::new(false),
        }
    }

    /// A decoded path whose escaped form is the default one (the URL has
    /// no `raw_path`): walked as it is, nothing unescaped.
    pub fn decoded(path: &'p [u8]) -> Subject<'p> {
        Subject {
            path,
            slash: false,
            escapes: false,
            unclean: Cell::new(false),
        }
    }

    /// The same path with a `/` taken as appended.
    pub fn with_slash(&self) -> Subject<'p> {
        Subject {
            path: self.path,
            slash: true,
            escapes: self.escapes,
            unclean: Cell::new(false),
        }
    }

    /// The path as given (without a pretended slash): escaped or decoded,
    /// it has the same slashes.
    pub fn path(&self) -> &'p [u8] {
        self.path
    }

    /// True when the path is escaped and holds a `%`, so that values
    /// need unescaping.
    pub fn has_escapes(&self) -> bool {
        self.escapes
    }

    /// Where the walk starts: the whole path, and the pending slash.
    pub fn start(&self) -> (usize, bool) {
        (0, self.slash)
    }

    /// True when nothing is left at `pos`.
    #[inline]
    pub fn is_done(&self, pos: usize, slash: bool) -> bool {
        pos == self.path.len() && !slash
    }

    /// Go: `firstSegment` of what is left at `pos` (the path from `pos`,
    /// then the pending slash). Notes a segment that cleaning would
    /// remove.
    #[inline]
    pub fn segment(&self, pos: usize, slash: bool) -> PathSegment {
        let path = self.path;
        let rest = &path[pos..];
        if (rest.is_empty() && slash) || (rest == b"/" && !slash) {
            return PathSegment {
                start: path.len(),
                end: path.len(),
                next: path.len(),
                slash_after: false,
                is_last_slash: true,
            };
        }
        // Skip the slash before the segment (Go assumes one is there).
        let start = pos + 1;
        let end = next_slash(path, start);
        if end - start <= 2 && matches!(path[start..end], [] | [b'.'] | [b'.', b'.']) {
            self.unclean.set(true);
        }
        PathSegment {
            start,
            end,
            next: end,
            slash_after: slash,
            is_last_slash: false,
        }
    }

    /// The segment as the tree compares it (Go's `firstSegment` result)
    /// when that is its own bytes; `None` when it must be unescaped first
    /// ([`Subject::with_unescaped`]).
    #[inline]
    pub fn plain_key(&self, seg: &PathSegment) -> Option<&'p [u8]> {
        if seg.is_last_slash {
            return Some(b"/");
        }
        let raw = &self.path[seg.start..seg.end];
        if self.escapes && raw.contains(&b'%') {
            return None;
        }
        Some(raw)
    }

    /// Calls `f` with the segment unescaped, without allocating (the
    /// unescaped bytes live on the stack).
    pub fn with_unescaped<R>(&self, seg: &PathSegment, f: impl FnOnce(&[u8]) -> R) -> R {
        with_unescaped(&self.path[seg.start..seg.end], f)
    }

    /// The bytes between `start` and `end` (a segment or a rest).
    pub fn bytes(&self, start: usize, end: usize) -> &'p [u8] {
        &self.path[start..end]
    }

    /// True when the walk met a segment that `cleanPath` would remove.
    /// An exact match met every segment of the path on its way, so then
    /// `false` means the path is clean.
    pub fn met_unclean(&self) -> bool {
        self.unclean.get()
    }
}

/// Where the first `/` at or after `from` is in `path`, or its length
/// when there is none: the end of a segment.
///
/// Eight bytes at a time (a `u64` in which a byte equal to `/` is found
/// by the classic "has a zero byte" bit trick on `word ^ 0x2F2F...`), and
/// the last fewer than eight bytes as the path's last eight, the ones
/// before `from` shifted out, so that no path of eight bytes or more is
/// ever searched a byte at a time. Measured with callgrind on the 130
/// GitHub routes of `benches/go-patterns`: 793 instructions per request,
/// against 823 with a search byte by byte.
#[inline]
fn next_slash(path: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    const SLASHES: u64 = u64::from_le_bytes([b'/'; 8]);
    // The lowest byte of `word` equal to `/`, if any: a false hit can only
    // sit above a true one, so the lowest set high bit is exact.
    let first_slash = |word: u64| {
        let x = word ^ SLASHES;
        let hits = x.wrapping_sub(ONES) & !x & HIGHS;
        (hits != 0).then(|| (hits.trailing_zeros() / 8) as usize)
    };
    let len = path.len();
    let mut at = from;
    while at + 8 <= len {
        if let Some(i) = first_slash(read_word(path, at)) {
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
        let word = read_word(path, len - 8) >> (8 * skip);
        return first_slash(word).map_or(len, |i| at + i);
    }
    path[at..].iter().position(|&b| b == b'/').map_or(len, |i| at + i)
}

/// Eight bytes of `path` from `at`, the first one lowest.
#[inline]
fn read_word(path: &[u8], at: usize) -> u64 {
    let eight: [u8; 8] = path[at..at + 8].try_into().expect("eight bytes");
    u64::from_le_bytes(eight)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(path: &str, slash: bool) -> Vec<String> {
        let s = Subject::escaped(path.as_bytes(), slash);
        let (mut pos, mut slash) = s.start();
        let mut out = Vec::new();
        while !s.is_done(pos, slash) {
            let seg = s.segment(pos, slash);
            let key = match s.plain_key(&seg) {
                Some(key) => key.to_vec(),
                None => s.with_unescaped(&seg, <[u8]>::to_vec),
            };
            out.push(String::from_utf8(key).unwrap());
            (pos, slash) = (seg.next, seg.slash_after);
        }
        out
    }

    /// Go: `firstSegment`, repeated: a trailing slash is the segment `/`,
    /// an empty element an empty segment, and keys are unescaped.
    #[test]
    fn cuts_as_first_segment_does() {
        assert_eq!(cut("/a/b", false), ["a", "b"]);
        assert_eq!(cut("/a/b/", false), ["a", "b", "/"]);
        assert_eq!(cut("/a/b", true), ["a", "b", "/"]);
        assert_eq!(cut("/", false), ["/"]);
        assert_eq!(cut("", false), Vec::<String>::new());
        assert_eq!(cut("", true), ["/"]);
        assert_eq!(cut("/a//b", false), ["a", "", "b"]);
        assert_eq!(cut("//", false), ["", "/"]);
        assert_eq!(cut("/a/", true), ["a", "", "/"]);
        assert_eq!(cut("*", false), [""]);
        assert_eq!(
            cut("/abcdefghijk/lmnopqrstuvwxyz/", false),
            ["abcdefghijk", "lmnopqrstuvwxyz", "/"]
        );
        assert_eq!(cut("/a%2Fb/%7Bx%7D", false), ["a/b", "{x}"]);
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

    /// A walk over every segment notes an unclean one.
    #[test]
    fn notes_unclean_segments() {
        for (path, unclean) in [
            ("/a/b/", false),
            ("/a//b", true),
            ("/a/./b", true),
            ("/a/..", true),
            ("/.a/..b/.../", false),
        ] {
            let s = Subject::decoded(path.as_bytes());
            let (mut pos, mut slash) = s.start();
            while !s.is_done(pos, slash) {
                let seg = s.segment(pos, slash);
                (pos, slash) = (seg.next, seg.slash_after);
            }
            assert_eq!(s.met_unclean(), unclean, "{path}");
        }
    }
}
