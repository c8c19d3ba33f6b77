//! Hardening, the chunked body (RFC 9112 §7.1): sizes in pure hex,
//! extensions by their grammar, CRLF after every piece, and a trailer
//! section read with the same rules as header fields. The handler here
//! reads the body (`/echo`), so the error is seen while reading; the
//! smuggling tests cover handlers that do not read. One test per rule;
//! each checks that the next client is served.

mod hardening_support;
use hardening_support::TestServer;

fn chunked(body: &str) -> Vec<u8> {
    format!("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{body}").into_bytes()
}

/// A well-formed chunked body with extensions and trailers is read whole.
#[tokio::test]
async fn well_formed_chunked_body_is_read() {
    let s = TestServer::start().await;
    let r = s
        .accepts(&chunked(
            "5;name=value;flag\r\nhello\r\n1 ; q=\"a \\\"b\\\"\"\r\n!\r\n0\r\nX-Sum: 6\r\n\r\n",
        ))
        .await;
    assert_eq!(r.body_text(), "hello!");
}

/// RFC 9112 §7.1: chunk-size = 1*HEXDIG; no sign, no `0x`, no whitespace
/// before it.
#[tokio::test]
async fn chunk_size_that_is_not_pure_hex_is_400() {
    let s = TestServer::start().await;
    for size in ["+5", "-5", "0x5", " 5", "\t5", "5g", "", "five"] {
        s.refuses(&chunked(&format!("{size}\r\nhello\r\n0\r\n\r\n")), 400)
            .await;
    }
}

/// RFC 9112 §7.1: whitespace after the size is allowed only before a `;`.
#[tokio::test]
async fn whitespace_after_chunk_size_without_extension_is_400() {
    let s = TestServer::start().await;
    s.refuses(&chunked("5 \r\nhello\r\n0\r\n\r\n"), 400).await;
}

/// RFC 9112 §7.1: a size we cannot represent is an error, not a wrap.
#[tokio::test]
async fn chunk_size_that_overflows_is_400() {
    let s = TestServer::start().await;
    s.refuses(&chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"), 400)
        .await;
}

/// RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS
/// (token / quoted-string) ] ); anything else is malformed.
#[tokio::test]
async fn chunk_extension_outside_its_grammar_is_400() {
    let s = TestServer::start().await;
    for ext in [
        ";",
        ";=v",
        ";n=",
        ";n=a b",
        ";n=\"open",
        ";n=\"x\"y",
        "junk",
        ";n=v,w",
    ] {
        s.refuses(&chunked(&format!("5{ext}\r\nhello\r\n0\r\n\r\n")), 400)
            .await;
    }
}

/// RFC 9110 §5.6.4: no control bytes in a chunk extension (quoted or not).
#[tokio::test]
async fn control_byte_in_chunk_extension_is_400() {
    let s = TestServer::start().await;
    s.refuses(&chunked("5;n=\"a\x01b\"\r\nhello\r\n0\r\n\r\n"), 400)
        .await;
    s.refuses(&chunked("5;n\x00\r\nhello\r\n0\r\n\r\n"), 400).await;
    s.refuses(&chunked("5;n=\"a\rb\"\r\nhello\r\n0\r\n\r\n"), 400)
        .await;
}

/// RFC 9112 §7.1: chunk data is followed by CRLF.
#[tokio::test]
async fn missing_crlf_after_chunk_data_is_400() {
    let s = TestServer::start().await;
    s.refuses(&chunked("5\r\nhelloXX0\r\n\r\n"), 400).await;
    s.refuses(&chunked("5\r\nhello\n0\r\n\r\n"), 400).await;
}

/// RFC 9112 §2.2 and §7.1: our bare-LF rule holds in chunk lines too.
#[tokio::test]
async fn bare_lf_in_a_chunk_line_is_400() {
    let s = TestServer::start().await;
    s.refuses(&chunked("5\nhello\r\n0\r\n\r\n"), 400).await;
    s.refuses(&chunked("5\r\nhello\r\n0\n\r\n"), 400).await;
}

/// RFC 9112 §7.1.2: trailer fields follow the header field rules
/// (no whitespace before the colon, no obs-fold, a token name).
#[tokio::test]
async fn malformed_trailer_field_is_400() {
    let s = TestServer::start().await;
    for trailer in [
        "X-A : 1\r\n",
        "X-A: 1\r\n folded\r\n",
        "no colon\r\n",
        ": 1\r\n",
        "X-A: a\x00b\r\n",
    ] {
        s.refuses(&chunked(&format!("5\r\nhello\r\n0\r\n{trailer}\r\n")), 400)
            .await;
    }
}

/// RFC 9112 §7.1.2 and §2.2: the trailer section ends with CRLF, like a
/// head; a bare LF or a bare CR there is refused.
#[tokio::test]
async fn trailer_section_with_bare_lf_or_cr_is_400() {
    let s = TestServer::start().await;
    s.refuses(&chunked("5\r\nhello\r\n0\r\nX-A: 1\n\r\n"), 400).await;
    s.refuses(&chunked("5\r\nhello\r\n0\r\nX-A: 1\r\n\n"), 400).await;
    s.refuses(&chunked("5\r\nhello\r\n0\r\nX-A: 1\rX-B: 2\r\n\r\n"), 400)
        .await;
}

/// A body that ends before its last chunk is not a complete request.
#[tokio::test]
async fn truncated_chunked_body_gets_an_error_not_a_200() {
    let s = TestServer::start().await;
    let responses = s.exchange(&chunked("5\r\nhel")).await;
    assert!(
        responses.iter().all(|r| r.status != 200),
        "a truncated body must not be answered with 200: {responses:?}"
    );
    s.assert_still_serving().await;
}
