//! Hardening, header fields: `field-name ":" OWS field-value OWS` on lines
//! ended by CRLF, and nothing else (RFC 9112 §5, RFC 9110 §5). One test
//! per rule, over a real socket; each checks that the next client is
//! served.

mod hardening_support;
use hardening_support::TestServer;

/// RFC 9112 §5.1: "No whitespace is allowed between the field name and
/// colon ... a server MUST reject ... with 400".
#[tokio::test]
async fn whitespace_between_name_and_colon_is_400() {
    let s = TestServer::start().await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nX-A : 1\r\n\r\n", 400)
        .await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nX-A\t: 1\r\n\r\n", 400)
        .await;
}

/// RFC 9112 §5.2: a server MUST reject obs-fold (a line starting with SP
/// or HTAB continuing the previous field) with 400.
#[tokio::test]
async fn obs_fold_is_400() {
    let s = TestServer::start().await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n 2\r\n\r\n", 400)
        .await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n\t2\r\n\r\n", 400)
        .await;
}

/// RFC 9110 §5.1: a field name is a token, so it cannot be empty.
#[tokio::test]
async fn empty_field_name_is_400() {
    let s = TestServer::start().await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\n: 1\r\n\r\n", 400).await;
}

/// RFC 9110 §5.1: a field name is a token (no separators, no non-ASCII).
#[tokio::test]
async fn non_token_field_name_is_400() {
    let s = TestServer::start().await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nX(A): 1\r\n\r\n", 400)
        .await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nX\xc3\xa9: 1\r\n\r\n", 400)
        .await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n", 400)
        .await;
}

/// RFC 9110 §5.5: NUL (and every control byte but HTAB) in a value MUST
/// be rejected or replaced; we reject.
#[tokio::test]
async fn nul_or_control_byte_in_value_is_400() {
    let s = TestServer::start().await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n", 400)
        .await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x7fb\r\n\r\n", 400)
        .await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x0bb\r\n\r\n", 400)
        .await;
}

/// RFC 9112 §2.2: a bare CR anywhere in the head is invalid (here in a
/// value, where it would otherwise end the line for some readers).
#[tokio::test]
async fn bare_cr_in_value_is_400() {
    let s = TestServer::start().await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rX-B: b\r\n\r\n", 400)
        .await;
}

/// RFC 9112 §2.2 allows a bare LF as a line end; we refuse it everywhere
/// alike: between fields, after the last field, as the empty line.
#[tokio::test]
async fn bare_lf_in_the_field_section_is_400() {
    let s = TestServer::start().await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\nX-A: 1\r\n\r\n", 400).await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\n\r\n", 400).await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: t\r\n\n", 400).await;
}

/// RFC 9110 §5.5: obs-text (bytes 0x80-0xFF) is allowed in a value, and
/// so is whitespace inside it; whitespace around it is not part of it.
#[tokio::test]
async fn obs_text_and_inner_whitespace_in_value_are_accepted() {
    let s = TestServer::start().await;
    s.accepts(b"GET / HTTP/1.1\r\nHost: t\r\nX-A: caf\xc3\xa9 \t au lait \r\n\r\n")
        .await;
}

/// RFC 6585 §5 (Go: `MaxHeaderBytes`, server.go:2644): a head over the limit is 431.
#[tokio::test]
async fn head_over_the_limit_is_431() {
    let s = TestServer::start().await;
    let mut request = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: ".to_vec();
    request.resize(request.len() + (1 << 20) + 10, b'a');
    request.extend_from_slice(b"\r\n\r\n");
    s.refuses(&request, 431).await;
}

/// RFC 6585 §5: more field lines than `Config::max_headers` (100 by
/// default) is 431 too, even when the head is small; 100 lines are fine.
#[tokio::test]
async fn more_fields_than_the_limit_is_431() {
    let s = TestServer::start().await;
    let head = |fields: usize| {
        let mut request = b"GET / HTTP/1.1\r\nHost: t\r\n".to_vec();
        for i in 1..fields {
            request.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request
    };
    s.accepts(&head(100)).await;
    s.refuses(&head(101), 431).await;
}
