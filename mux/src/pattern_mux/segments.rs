//! A request path cut into the segments the routing tree walks (Go:
//! `firstSegment`, routing_tree.go).
//!
//! Go's `matchPath` calls `firstSegment` at every node it visits: it
//! drops the slash, finds the next one, and unescapes what lies between;
//! when a branch fails and the walk backs up, the same segment is cut
//! and unescaped again. Here the path is cut once, before the walk,
//! into a list of spans, and the walk goes down it by index: level `i`
//! of the tree reads segment `i`. The same pass says whether the path is
//! clean (what `cleanPath` would leave unchanged), which is what lets the
//! mux skip cleaning it.
//!
//! Go's segments, for the record (`firstSegment` of what is left):
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
//! the one `{$}` matches; it is the only segment that can be `/`, so no
//! span is kept for it, only the flag [`Segments::trailing_slash`].

use super::escape::with_unescaped;

/// How many segments' bounds a [`Segments`] holds in place; those of a
/// longer path go on to a vector (the only case in which cutting a path
/// allocates, past any realistic route).
const NEAR_BOUNDS: usize = 16;

/// A path cut into its segments.
pub struct Segments<'p> {
    path: &'p [u8],
    /// Segment `i` is `path[bound(i) + 1..bound(i + 1)]`: a bound is the
    /// slash before a segment (or 0, before the first, whatever byte is
    /// there: Go skips it unseen), or the end of the path.
    near: [usize; NEAR_BOUNDS],
    far: Vec<usize>,
    /// The segments before the trailing `/`, if any.
    count: usize,
    /// The last segment is the `/` of a trailing slash (real, or appended
    /// by pretence: see [`Segments::escaped`]).
    trailing_slash: bool,
    /// The path is escaped (not decoded, see [`Segments::decoded`]).
    escaped: bool,
    /// The path is escaped and holds a `%`: compare the segments
    /// unescaped, and unescape the values taken from them.
    escapes: bool,
    /// `cleanPath` would leave the path as it is.
    clean: bool,
}

impl<'p> Segments<'p> {
    /// An escaped path (Go: what `EscapedPath` gives), with a `/` taken
    /// as appended to it when `slash` (the mux's redirect check asks
    /// about `path + "/"`; pretending saves building that string).
    #[inline]
    pub fn escaped(path: &'p [u8], slash: bool) -> Segments<'p> {
        let mut segments = Segments::new(path, true);
        segments.cut(slash);
        segments
    }

    /// A decoded path whose escaped form is the default one (the URL has
    /// no `raw_path`): its segments are the unescaped segments of the
    /// escaped path, byte for byte, since escaping never touches `/` and
    /// unescaping undoes it; so the tree can compare them as they are.
    #[inline]
    pub fn decoded(path: &'p [u8]) -> Segments<'p> {
        let mut segments = Segments::new(path, false);
        segments.cut(false);
        segments
    }

    #[inline]
    fn new(path: &'p [u8], escaped: bool) -> Segments<'p> {
        Segments {
            path,
            near: [0; NEAR_BOUNDS],
            far: Vec::new(),
            count: 0,
            trailing_slash: false,
            escaped,
            escapes: escaped && path.contains(&b'%'),
            // A clean path starts with `/`; an empty one cleans to "/".
            clean: path.first() == Some(&b'/'),
        }
    }

    /// Go's `firstSegment`, applied until nothing is left: every slash
    /// after the first byte (which Go drops unseen) ends a segment, and so
    /// does the end of the path; but a slash that ends the path is the
    /// last segment, `/`, itself (Go: `path == "/"`), unless a slash is
    /// appended, which then is.
    #[inline]
    fn cut(&mut self, slash: bool) {
        let path = self.path;
        let ends_in_slash = !slash && path.last() == Some(&b'/');
        self.trailing_slash = slash || ends_in_slash;
        let end = path.len() - usize::from(ends_in_slash);
        if end == 0 {
            return;
        }
        let mut start = 0;
        for_each_slash(&path[1..end], |i| {
            self.push_segment(start, i + 1);
            start = i + 1;
        });
        self.push_segment(start, end);
    }

    /// Adds the segment between the bound `before` and `end`.
    fn push_segment(&mut self, before: usize, end: usize) {
        // Cleaning removes an empty, `.` or `..` element.
        if end - before <= 3 {
            self.clean &= !matches!(self.path[before + 1..end], [] | [b'.'] | [b'.', b'.']);
        }
        self.count += 1;
        self.set_bound(self.count, end);
    }

    fn set_bound(&mut self, i: usize, at: usize) {
        match self.near.get_mut(i) {
            Some(near) => *near = at,
            None => self.far.push(at),
        }
    }

    #[inline]
    fn bound(&self, i: usize) -> usize {
        match self.near.get(i) {
            Some(&near) => near,
            None => self.far[i - NEAR_BOUNDS],
        }
    }

    /// The same path with a `/` taken as appended (it must not end in one).
    pub fn with_slash(&self) -> Segments<'p> {
        let mut segments = Segments::new(self.path, self.escaped);
        segments.cut(true);
        segments
    }

    /// The path as given (without a pretended slash): escaped or decoded,
    /// it has the same slashes.
    pub fn path(&self) -> &'p [u8] {
        self.path
    }

    /// True when `cleanPath` would not change the path.
    pub fn is_clean(&self) -> bool {
        self.clean
    }

    /// True when the segments are escaped and hold a `%`, so that values
    /// need unescaping.
    pub fn has_escapes(&self) -> bool {
        self.escapes
    }

    /// How many segments there are, the trailing `/` included.
    #[inline]
    pub fn len(&self) -> usize {
        self.count + usize::from(self.trailing_slash)
    }

    /// Segment `i` as it is in the path (escaped, if the path is).
    #[inline]
    pub fn raw(&self, i: usize) -> &'p [u8] {
        if i < self.count {
            &self.path[self.bound(i) + 1..self.bound(i + 1)]
        } else {
            b"/"
        }
    }

    /// Calls `f` with segment `i` unescaped (Go's `firstSegment` result),
    /// without allocating.
    #[inline]
    pub fn with_key<R>(&self, i: usize, f: impl FnOnce(&[u8]) -> R) -> R {
        let raw = self.raw(i);
        if self.escapes && raw.contains(&b'%') {
            with_unescaped(raw, f)
        } else {
            f(raw)
        }
    }

    /// What a multi wildcard at level `i` takes: the rest of the path from
    /// segment `i` on, without the slash before it (Go: `path[1:]` of
    /// what is left). Empty from the trailing `/`.
    pub fn rest(&self, i: usize) -> &'p [u8] {
        if i < self.count {
            &self.path[self.bound(i) + 1..]
        } else {
            b""
        }
    }
}

/// Calls `found` with the index of every `/` in `bytes`, in order.
///
/// Speed trick: eight bytes at a time, as a `u64`, which finds every
/// slash in a word with a few arithmetic steps instead of a compare per
/// byte. Measured with callgrind on the 130 GitHub routes of
/// `benches/go-patterns` (`instructions.sh`): cutting a path cost about
/// 130 instructions byte by byte, about 60 so.
#[inline]
fn for_each_slash(bytes: &[u8], mut found: impl FnMut(usize)) {
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    for (w, word) in words.enumerate() {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let mut slashes = slash_bits(word);
        while slashes != 0 {
            found(8 * w + slashes.trailing_zeros() as usize / 8);
            slashes &= slashes - 1;
        }
    }
    let tail_at = bytes.len() - tail.len();
    for (i, &b) in tail.iter().enumerate() {
        if b == b'/' {
            found(tail_at + i);
        }
    }
}

/// The high bit of each byte of the result is set exactly where `word`
/// holds a `/`: XOR makes those bytes zero, and a zero byte is the only
/// one whose low seven bits, plus 0x7F, do not carry into bit 7 and whose
/// own bit 7 is clear (the exact form of the classic zero-byte test,
/// which can also flag a 0x01 byte above a zero one, and `.` is `/` XOR
/// 0x01).
#[inline]
fn slash_bits(word: u64) -> u64 {
    const SLASHES: u64 = u64::from_le_bytes([b'/'; 8]);
    const LOW_SEVEN: u64 = u64::from_le_bytes([0x7F; 8]);
    let x = word ^ SLASHES;
    !(((x & LOW_SEVEN) + LOW_SEVEN) | x | LOW_SEVEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(path: &str, slash: bool) -> Vec<String> {
        let s = Segments::escaped(path.as_bytes(), slash);
        (0..s.len())
            .map(|i| String::from_utf8(s.raw(i).to_vec()).unwrap())
            .collect()
    }

    /// Go: `firstSegment`, repeated: a trailing slash is the segment `/`,
    /// an empty element an empty segment.
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
        let long = "/s".repeat(40);
        assert_eq!(cut(&long, false), vec!["s"; 40]);
    }

    /// The cut tells a clean path (Go: `cleanPath(p) == p`).
    #[test]
    fn knows_a_clean_path() {
        for path in [
            "/", "/a", "/a/", "/a//b", "/./a", "/a/.", "/a/..", "/a/../b", "/.a", "/..a", "/a.", "/...",
            "/a/.../", "//", "", "a", "*", "/a/b/c/",
        ] {
            let want = crate::clean::is_clean(path.as_bytes()) && path.starts_with('/');
            assert_eq!(Segments::decoded(path.as_bytes()).is_clean(), want, "{path}");
        }
    }

    /// The word-at-a-time search finds every slash and nothing else, `.`
    /// (one bit away from `/`) included.
    #[test]
    fn every_slash_is_found() {
        let bytes: Vec<u8> = (0..=255u8)
            .chain(b"/./../x//".iter().copied())
            .chain(0..=255u8)
            .collect();
        for len in 0..bytes.len() {
            let mut found = Vec::new();
            for_each_slash(&bytes[..len], |i| found.push(i));
            let want: Vec<usize> = (0..len).filter(|&i| bytes[i] == b'/').collect();
            assert_eq!(found, want, "{len}");
        }
    }

    #[test]
    fn rest_is_what_a_multi_takes() {
        let s = Segments::escaped(b"/a/b/c", false);
        assert_eq!(s.rest(1), b"b/c");
        let s = Segments::escaped(b"/a/", false);
        assert_eq!(s.rest(1), b"");
    }

    #[test]
    fn keys_are_unescaped() {
        let s = Segments::escaped(b"/a%2Fb/%7Bx%7D", false);
        assert_eq!(s.with_key(0, <[u8]>::to_vec), b"a/b");
        assert_eq!(s.with_key(1, <[u8]>::to_vec), b"{x}");
        let s = Segments::decoded(b"/a%2Fb");
        assert_eq!(s.with_key(0, <[u8]>::to_vec), b"a%2Fb");
    }
}
