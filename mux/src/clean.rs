//! The canonical form of a request path (Go: `cleanPath`, server.go:2314).
//!
//! The mux redirects any path that is not canonical (`//x`, `/a/../b`,
//! `/a/./b`, a trailing `/..`) to its canonical form. Almost every request
//! is already canonical, so the check comes first and allocates nothing;
//! only a path that needs cleaning is copied.

use server::redirect::clean_bytes;
use std::borrow::Cow;

/// Go: `cleanPath`, server.go:2314: a leading `/`, then `path.Clean`
/// (path/path.go:70), with a trailing
/// slash kept; `""` becomes `/`.
///
/// ```
/// use mux::clean::clean_path;
/// assert_eq!(&*clean_path(b"/a/../b/"), b"/b/");
/// assert_eq!(&*clean_path(b"//x"), b"/x");
/// assert_eq!(&*clean_path(b""), b"/");
/// assert!(matches!(clean_path(b"/already/clean"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn clean_path(path: &[u8]) -> Cow<'_, [u8]> {
    if is_clean(path) {
        return Cow::Borrowed(path);
    }
    if path.is_empty() {
        return Cow::Owned(b"/".to_vec());
    }
    let mut cleaned = if path[0] == b'/' {
        clean_bytes(path)
    } else {
        let mut rooted = Vec::with_capacity(path.len() + 1);
        rooted.push(b'/');
        rooted.extend_from_slice(path);
        clean_bytes(&rooted)
    };
    // path.Clean drops a trailing slash; the mux keeps it.
    if path.ends_with(b"/") && cleaned != b"/" {
        cleaned.push(b'/');
    }
    Cow::Owned(cleaned)
}

/// True when [`clean_path`] would return `path` unchanged: it starts with
/// `/`, and no element is empty, `.` or `..`, except that the last element
/// may be empty (a trailing slash).
pub fn is_clean(path: &[u8]) -> bool {
    if path.first() != Some(&b'/') {
        return false;
    }
    // One pass, stopping only at slashes: what follows each must be a
    // name, or the end of the path. Every request's path goes through
    // this (counted with callgrind: a third of the instructions of the
    // iterator version it replaces).
    let n = path.len();
    let mut i = 0; // at a slash
    while i < n {
        let element = &path[i + 1..];
        match element {
            [] => return true,
            [b'/', ..] | [b'.'] | [b'.', b'/', ..] | [b'.', b'.'] | [b'.', b'.', b'/', ..] => return false,
            _ => {}
        }
        i += 1;
        while i < n && path[i] != b'/' {
            i += 1;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's cleanPath, written the slow and obvious way.
    fn reference(p: &[u8]) -> Vec<u8> {
        if p.is_empty() {
            return b"/".to_vec();
        }
        let mut p = p.to_vec();
        if p[0] != b'/' {
            p.insert(0, b'/');
        }
        let mut np = clean_bytes(&p);
        if p.ends_with(b"/") && np != b"/" {
            np.push(b'/');
        }
        np
    }

    #[test]
    fn fast_check_agrees_with_cleaning_on_every_short_path() {
        // Every string of up to 6 bytes over an alphabet with the bytes that matter.
        let alphabet = [b'/', b'.', b'a', 0xff];
        let mut paths: Vec<Vec<u8>> = vec![Vec::new()];
        let mut start = 0;
        for _ in 0..6 {
            let end = paths.len();
            for i in start..end {
                for &b in &alphabet {
                    let mut p = paths[i].clone();
                    p.push(b);
                    paths.push(p);
                }
            }
            start = end;
        }
        for p in &paths {
            let want = reference(p);
            assert_eq!(
                is_clean(p),
                want == *p,
                "is_clean({:?})",
                p.escape_ascii().to_string()
            );
            assert_eq!(
                &*clean_path(p),
                &want[..],
                "clean_path({:?})",
                p.escape_ascii().to_string()
            );
        }
    }
}
