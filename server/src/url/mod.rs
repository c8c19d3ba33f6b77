//! The request-target as a URL, the way Go's `net/url` sees it.
//!
//! Go's server turns the request-target into a `*url.URL` with
//! `url.ParseRequestURI` (`readRequest`, request.go:1073), and the ServeMux then
//! matches on the *decoded* path (`URL.Path`) and builds its redirects from
//! it with `url.URL.String`. This module is the part of `net/url` that the
//! server, the mux and `http.Redirect` need: parsing a request-target (and,
//! for `Redirect`, any URL reference), and escaping a path back.
//!
//! ## The decoded path is bytes, not text
//!
//! In Go a `string` is any sequence of bytes, so `%FF` decodes into
//! `URL.Path` as the single byte `0xFF`, and a redirect escapes it back to
//! `%FF`. A Rust `String` must be UTF-8, and turning `0xFF` into U+FFFD
//! would send `%EF%BF%BD` back to the client. So the decoded path is a
//! [`UrlPath`]: a byte string that keeps exactly what the client escaped,
//! with [`UrlPath::as_str`] when it happens to be UTF-8 (almost always)
//! and [`UrlPath::to_str_lossy`] for logs. Everything else (scheme, host,
//! query) stays `String`: the query is never decoded here, and a host that
//! decodes to invalid UTF-8 is kept lossily (it could not equal any host
//! pattern, which is UTF-8, so matching is unchanged).
//!
//! ## One `Url` per connection
//!
//! Go's server builds a new `*url.URL` for every request and leaves the
//! old one to the garbage collector. Here a keep-alive connection keeps one
//! [`Url`] and refills it with [`parse_request_target_into`], which clears
//! its strings and reuses their memory: from the second request on, the
//! parse allocates nothing. The common target (`/hello`, `/a/b?x=1`: no
//! `%`, nothing to escape) is walked three times: for control bytes, for
//! the `?`, and once over the path against a table of the bytes a path
//! escapes (Go's `shouldEscape` computed for all 256 bytes at compile time).
//!
//! ## The files, in the order they build on each other
//!
//! Go keeps all of this in one file, `net/url/url.go`; here it is split
//! where its phases meet. The types come first (`mod.rs`, `path.rs`);
//! after them each file uses only the ones above it, and each function
//! names the line of Go it mirrors:
//!
//! | file | what | Go (`net/url/url.go`) |
//! |---|---|---|
//! | `mod.rs` | [`Url`], [`UrlError`] | `URL` (url.go:359), `Error`, `EscapeError` |
//! | `path.rs` | [`UrlPath`], the decoded path as bytes | `URL.Path` |
//! | `escape.rs` | `%XX` both ways, per part of a URL | `shouldEscape`, `unescape`, `escape`, `validEncoded` |
//! | `parse.rs` | text to [`Url`] | `ParseRequestURI`, `Parse`, `parse`, `parseAuthority`, `parseHost`, `setPath` |
//! | `format.rs` | [`Url`] to text | `EscapedPath`, `String` |

mod escape;
mod format;
mod parse;
mod path;

pub use escape::{escape_path, unescape_path};
pub use parse::{parse_reference, parse_request_target, parse_request_target_into};
pub use path::UrlPath;

use std::fmt;

/// A parsed URL (Go: `url.URL`, url.go:359, without `Fragment`, which a
/// request-target never has).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Url {
    /// The scheme, lower-cased: `http` for an absolute-form target, empty
    /// for an origin-form one.
    pub scheme: String,
    /// What follows `scheme:` when it does not start with `/` (`mailto:x`).
    pub opaque: String,
    /// The userinfo before `@` in the authority, as sent (Go: `User`).
    pub user: Option<String>,
    /// The authority of an absolute-form or CONNECT target, decoded; empty otherwise.
    pub host: String,
    /// The decoded path (`%2F` becomes `/`, `%FF` the byte 0xFF).
    pub path: UrlPath,
    /// The path as sent, when it differs from the default escaping of `path`.
    pub raw_path: String,
    /// Everything after the `?`, not decoded.
    pub raw_query: String,
    /// The target ended in a `?` with nothing after it (Go: `ForceQuery`).
    pub force_query: bool,
}

/// Why a URL could not be parsed (for a request-target, the server answers 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub &'static str);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid URL: {}", self.0)
    }
}

impl std::error::Error for UrlError {}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn get(target: &str) -> Result<Url, UrlError> {
        parse_request_target(&Method::GET, target)
    }

    proptest::proptest! {
        /// Escaping any byte path and parsing it back gives the same bytes,
        /// with no raw path kept (the escaping is Go's default one).
        #[test]
        fn escape_then_parse_round_trips(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let mut path = b"/".to_vec();
            path.extend_from_slice(&tail);
            let escaped = escape_path(&path);
            proptest::prop_assert!(escaped.is_ascii());
            let url = get(&escaped).unwrap();
            proptest::prop_assert_eq!(url.path.as_bytes(), &path[..]);
            proptest::prop_assert_eq!(url.raw_path.as_str(), "");
            proptest::prop_assert_eq!(Url::from_path(path.clone(), "").string(), escaped);
        }
    }
}
