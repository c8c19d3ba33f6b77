//! Reading the `Connection` header's options (RFC 9110 section 7.6.1).

use http::header::CONNECTION;
use http::HeaderMap;

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
        for option in value.as_bytes().split(|&b| b == b',') {
            let option = option.trim_ascii();
            if option.eq_ignore_ascii_case(b"close") {
                tokens.close = true;
            } else if option.eq_ignore_ascii_case(b"keep-alive") {
                tokens.keep_alive = true;
            }
        }
    }
    tokens
}
