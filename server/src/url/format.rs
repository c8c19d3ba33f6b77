//! From a [`Url`] back to text: the escaped path (Go: `URL.EscapedPath`)
//! and the whole URL (Go: `URL.String`), which is how the mux writes its
//! redirects' `Location`.

use super::escape::{escape, escape_into, unescape, valid_encoded_path, Mode};
use super::{Url, UrlPath};
use std::borrow::Cow;
use std::fmt;

impl Url {
    /// A URL with just a path and a query, as the mux builds its redirects
    /// (Go: `&url.URL{Path: path, RawQuery: query}` in `redirectToPathSlash`,
    /// server.go:2371).
    pub fn from_path(path: impl Into<UrlPath>, raw_query: &str) -> Url {
        Url {
            path: path.into(),
            raw_query: raw_query.to_owned(),
            ..Url::default()
        }
    }

    /// The path escaped for the wire: `raw_path` when it is a valid
    /// escaping of `path`, otherwise `path` escaped (Go: `URL.EscapedPath`, url.go:694).
    pub fn escaped_path(&self) -> Cow<'_, str> {
        if !self.raw_path.is_empty() && valid_encoded_path(&self.raw_path) {
            if let Ok(decoded) = unescape(&self.raw_path, Mode::Path) {
                if decoded == self.path.as_bytes() {
                    return Cow::Borrowed(&self.raw_path);
                }
            }
        }
        if self.path == "*" {
            return Cow::Borrowed("*");
        }
        Cow::Owned(escape(&self.path, Mode::Path))
    }
}

impl Url {
    /// The URL as text (Go: `URL.String`, url.go:805, without the fragment a server
    /// never has). Also what `Display` writes.
    pub fn string(&self) -> String {
        let mut out = String::with_capacity(self.path.len() + self.raw_query.len() + 16);
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if !self.opaque.is_empty() {
            out.push_str(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    out.push_str("//");
                }
                if let Some(user) = &self.user {
                    out.push_str(user);
                    out.push('@');
                }
                escape_into(&mut out, self.host.as_bytes(), Mode::Host);
            }
            let has_raw_path = !self.raw_path.is_empty() || self.path == "*";
            let path = if has_raw_path {
                self.escaped_path()
            } else {
                // The common case, escaped straight into `out` below.
                Cow::Borrowed("")
            };
            let first = if has_raw_path {
                path.as_bytes().first().copied()
            } else {
                self.path.first().copied()
            };
            if first.is_some_and(|b| b != b'/') && !self.host.is_empty() {
                out.push('/');
            }
            if out.is_empty() {
                // `a:b` would read as a scheme: write `./a:b` (RFC 3986 section 4.2).
                let whole: &[u8] = if has_raw_path { path.as_bytes() } else { &self.path };
                let first_segment = whole.split(|&b| b == b'/').next().unwrap_or(&[]);
                if first_segment.contains(&b':') {
                    out.push_str("./");
                }
            }
            if has_raw_path {
                out.push_str(&path);
            } else {
                escape_into(&mut out, &self.path, Mode::Path);
            }
        }
        if self.force_query || !self.raw_query.is_empty() {
            out.push('?');
            out.push_str(&self.raw_query);
        }
        out
    }
}

/// Go: `URL.String`; see [`Url::string`].
impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_matches_go() {
        assert_eq!(Url::from_path("/tree/", "a=1").to_string(), "/tree/?a=1");
        assert_eq!(Url::from_path("/tree/", "").to_string(), "/tree/");
        assert_eq!(Url::from_path("/a:b", "").to_string(), "/a:b");
        assert_eq!(Url::from_path("a:b", "").to_string(), "./a:b");
        assert_eq!(
            Url::from_path(b"/q?/\xc3\xbc".to_vec(), "").to_string(),
            "/q%3F/%C3%BC"
        );
        assert_eq!(
            Url::from_path("/it's(1)!*", "").to_string(),
            "/it%27s%281%29%21%2A"
        );
        assert_eq!(Url::from_path("/~:;+&=@$,", "").to_string(), "/~:;+&=@$,");
    }
}
