//! Reading the `Connection` header's options (RFC 9110 section 7.6.1).

use http::header::CONNECTION;
use http::{HeaderMap, HeaderValue, Version};

/// The two options of `Connection` the server acts on.
#[derive(Debug, Default, Clone, Copy)]
pub struct ConnectionTokens {
    pub close: bool,
    pub keep_alive: bool,
}

/// Looks for `close` and `keep-alive` among the comma-separated options of
/// every `Connection` field, case-insensitively.
pub fn connection_tokens(headers: &HeaderMap) -> ConnectionTokens {
    let mut tokens = ConnectionTokens::default();
    for value in headers.get_all(CONNECTION) {
        tokens.add(value);
    }
    tokens
}

impl ConnectionTokens {
    /// True when a request with these options asks to close after it:
    /// HTTP/1.0 unless it says `keep-alive`, HTTP/1.1 when it says `close`
    /// (Go: `Request.wantsClose`, request.go:1421, `shouldClose`).
    pub fn close_requested(&self, version: Version) -> bool {
        if version == Version::HTTP_10 {
            !self.keep_alive
        } else {
            self.close
        }
    }

    /// Notes the options of one `Connection` field value.
    pub fn add(&mut self, value: &HeaderValue) {
        for option in value.as_bytes().split(|&b| b == b',') {
            let option = option.trim_ascii();
            if option.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if option.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            }
        }
    }
}
