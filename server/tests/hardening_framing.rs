//! Hardening, message framing: Content-Length and Transfer-Encoding (RFC
//! 9112 §6). Every ambiguity about where a body ends is refused, since it
//! is what request smuggling feeds on. One test per rule, over a real
//! socket; each checks that the next client is served.

mod hardening_support;
use hardening_support::TestServer;

fn post(headers: &str, body: &str) -> Vec<u8> {
    format!("POST /echo HTTP/1.1\r\nHost: t\r\n{headers}\r\n{body}").into_bytes()
}

/// RFC 9112 §6.2: Content-Length = 1*DIGIT; no sign, no inner space, no
/// hex, not empty (§6.3 point 5: an invalid one is an unrecoverable error).
#[tokio::test]
async fn content_length_that_is_not_digits_is_400() {
    let s = TestServer::start().await;
    for value in ["+5", "-5", "5 5", "0x5", "5a", "", " ", "5.0"] {
        s.refuses(&post(&format!("Content-Length: {value}\r\n"), "hello"), 400)
            .await;
    }
}

/// RFC 9112 §6.3 point 5: a value we cannot represent is invalid (Go's
/// limit, 2^63 - 1, is ours).
#[tokio::test]
async fn content_length_that_overflows_is_400() {
    let s = TestServer::start().await;
    s.refuses(&post("Content-Length: 9223372036854775808\r\n", ""), 400)
        .await;
    s.refuses(&post("Content-Length: 184467440737095516160\r\n", ""), 400)
        .await;
}

/// RFC 9112 §6.3 point 5: several different values are an error.
#[tokio::test]
async fn different_content_lengths_are_400() {
    let s = TestServer::start().await;
    s.refuses(&post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400)
        .await;
    s.refuses(&post("Content-Length: 5, 6\r\n", "hello!"), 400).await;
}

/// RFC 9112 §6.3 point 5: identical values, on several lines or as a
/// list, MAY be folded into one.
#[tokio::test]
async fn identical_content_lengths_are_folded() {
    let s = TestServer::start().await;
    let r = s
        .accepts(&post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"))
        .await;
    assert_eq!(r.body_text(), "hello");
    let r = s.accepts(&post("Content-Length: 5, 5\r\n", "hello")).await;
    assert_eq!(r.body_text(), "hello");
}

/// RFC 9112 §6.3 point 3: Transfer-Encoding with Content-Length "ought
/// to be handled as an error"; we answer 400 (Go and hyper let TE win).
#[tokio::test]
async fn transfer_encoding_with_content_length_is_400() {
    let s = TestServer::start().await;
    s.refuses(
        &post(
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "5\r\nhello\r\n0\r\n\r\n",
        ),
        400,
    )
    .await;
}

/// RFC 9112 §6.3 point 4: chunked not last in a request -> 400.
#[tokio::test]
async fn chunked_not_the_final_coding_is_400() {
    let s = TestServer::start().await;
    s.refuses(
        &post("Transfer-Encoding: chunked, gzip\r\n", "5\r\nhello\r\n0\r\n\r\n"),
        400,
    )
    .await;
    s.refuses(
        &post(
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
            "5\r\nhello\r\n0\r\n\r\n",
        ),
        400,
    )
    .await;
}

/// RFC 9112 §6.1: chunked MUST NOT be applied more than once.
#[tokio::test]
async fn chunked_twice_is_400() {
    let s = TestServer::start().await;
    s.refuses(&post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), 400)
        .await;
    s.refuses(
        &post(
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "0\r\n\r\n",
        ),
        400,
    )
    .await;
}

/// RFC 9112 §6.1: a transfer coding we do not understand SHOULD get 501
/// (Go answers 501 too), also when chunked follows it.
#[tokio::test]
async fn unknown_transfer_coding_is_501() {
    let s = TestServer::start().await;
    s.refuses(&post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), 501)
        .await;
    s.refuses(&post("Transfer-Encoding: gzip\r\n", ""), 501).await;
    s.refuses(&post("Transfer-Encoding: identity\r\n", ""), 501).await;
}

/// RFC 9110 §5.6.1: the list is split on commas, never searched for a
/// substring: `xchunked` and `chunked-false` are not chunked.
#[tokio::test]
async fn transfer_coding_is_matched_whole_not_by_substring() {
    let s = TestServer::start().await;
    s.refuses(&post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), 501)
        .await;
    s.refuses(&post("Transfer-Encoding: chunked-false\r\n", "0\r\n\r\n"), 501)
        .await;
    s.refuses(&post("Transfer-Encoding: \"chunked\"\r\n", "0\r\n\r\n"), 400)
        .await;
    s.refuses(&post("Transfer-Encoding: chunked;q=1\r\n", "0\r\n\r\n"), 400)
        .await;
}

/// RFC 9110 §5.6.1 and §7.8 of RFC 9110: coding names are
/// case-insensitive, and OWS and empty list elements are ignored, so
/// these odd spellings all mean chunked.
#[tokio::test]
async fn odd_spellings_of_chunked_follow_the_list_rules() {
    let s = TestServer::start().await;
    for value in [
        "Chunked",
        "CHUNKED",
        "chunked ",
        "\tchunked",
        ", chunked",
        "chunked,",
        " , chunked , ",
    ] {
        let r = s
            .accepts(&post(
                &format!("Transfer-Encoding: {value}\r\n"),
                "5\r\nhello\r\n0\r\n\r\n",
            ))
            .await;
        assert_eq!(r.body_text(), "hello", "Transfer-Encoding: {value:?}");
    }
}

/// RFC 9112 §6.3 point 4: an empty Transfer-Encoding has no final chunked.
#[tokio::test]
async fn empty_transfer_encoding_is_400() {
    let s = TestServer::start().await;
    s.refuses(&post("Transfer-Encoding: \r\n", "0\r\n\r\n"), 400)
        .await;
    s.refuses(&post("Transfer-Encoding: ,\r\n", "0\r\n\r\n"), 400)
        .await;
}

/// RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding MUST be
/// treated as faulty framing (Go 1.19 ignores the header instead).
#[tokio::test]
async fn transfer_encoding_in_http_1_0_is_400() {
    let s = TestServer::start().await;
    s.refuses(
        b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        400,
    )
    .await;
}
