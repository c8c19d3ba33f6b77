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
//! such a path as it is ([`Subject::decoded`]), and unescapes nothing:
//! the tree then walks it its own way (`tree::Node::find_in_place`),
//! comparing literals where they lie instead of cutting segments here.
//!
//! And one for speed: Go's `firstSegment` finds the next `/` with
//! `strings.IndexByte`; here `words::next_slash` reads the path eight
//! bytes at a time (its measured gain is written beside it).

use super::escape::with_unescaped;
use super::words::next_slash;

/// A path to walk, and what the walk has learnt about it.
pub struct Subject<'p> {
    path: &'p [u8],
    /// A `/` is taken as appended to the path (the mux's redirect check
    /// asks about `path + "/"`; pretending saves building that string).
    slash: bool,
    /// The path is escaped and holds a `%`: compare the segments
    /// unescaped, and unescape the values taken from them.
    escapes: bool,
    /// The path is decoded (`Subject::decoded`) and no slash is taken as
    /// appended: the tree compares its literals where they lie in it.
    in_place: bool,
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
            in_place: false,
        }
    }

    /// A decoded path whose escaped form is the default one (the URL has
    /// no `raw_path`): walked as it is, nothing unescaped.
    pub fn decoded(path: &'p [u8]) -> Subject<'p> {
        Subject {
            path,
            slash: false,
            escapes: false,
            in_place: true,
        }
    }

    /// The same path with a `/` taken as appended.
    pub fn with_slash(&self) -> Subject<'p> {
        Subject {
            path: self.path,
            slash: true,
            escapes: self.escapes,
            in_place: false,
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

    /// True for a decoded path without an appended slash: the tree walks
    /// it the short way (`tree::Node::find_in_place`), comparing its
    /// literals where they lie in it.
    #[inline]
    pub fn compares_in_place(&self) -> bool {
        self.in_place
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
}
