//! Reading the `Connection` header's options (RFC 9110 section 7.6.1).

use http::header::CONNECTION;
use http::{HeaderMap, HeaderValue};

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
