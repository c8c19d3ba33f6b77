//! The decoded path of a [`Url`](super::Url): bytes, not text (see the
//! module docs of [`crate::url`] for why).

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

/// A decoded URL path: bytes, because `%FF` decodes to a byte that is not
/// UTF-8 (Go's `URL.Path` is a byte string too). See the module docs.
///
/// ```
/// use server::url::UrlPath;
/// let p = UrlPath::from("/a b");
/// assert_eq!(p, "/a b");
/// assert_eq!(p.as_str(), Some("/a b"));
/// let raw = UrlPath::from(b"/\xff".to_vec());
/// assert_eq!(raw.as_str(), None);
/// assert_eq!(server::url::escape_path(&raw), "/%FF");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UrlPath(
    /// The bytes; the parser in this module fills them in place.
    pub(super) Vec<u8>,
);

impl UrlPath {
    /// The path's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The path as text, when it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The path as text, with invalid bytes shown as U+FFFD (for logs).
    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl Deref for UrlPath {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for UrlPath {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&str> for UrlPath {
    fn from(s: &str) -> Self {
        UrlPath(s.as_bytes().to_vec())
    }
}

impl From<String> for UrlPath {
    fn from(s: String) -> Self {
        UrlPath(s.into_bytes())
    }
}

impl From<Vec<u8>> for UrlPath {
    fn from(bytes: Vec<u8>) -> Self {
        UrlPath(bytes)
    }
}

impl PartialEq<str> for UrlPath {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for UrlPath {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<[u8]> for UrlPath {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

impl fmt::Debug for UrlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => fmt::Debug::fmt(s, f),
            None => write!(f, "\"{}\"", self.0.escape_ascii()),
        }
    }
}

impl fmt::Display for UrlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_str_lossy())
    }
}
