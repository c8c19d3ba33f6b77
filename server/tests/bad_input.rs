//! Bad input over raw sockets: each gets the status Go gives it (or a
//! clean close), the connection closes, and a fresh client is served
//! normally afterwards. The RFC-by-RFC strictness tests live in
//! `hardening_*.rs` (see notes/server-hardening.md).

mod runtime_support;

use runtime_support::TestServer;
use server::Config;

/// Sends `request` on a fresh connection, expects `status` and a close,
/// then checks the server still serves.
async fn expect_refused(s: &TestServer, request: &[u8], status: u16) {
    let mut c = s.connect().await;
    c.send(request).await;
    let r = c.response().await;
    assert_eq!(
        r.status,
        status,
        "for {:?}: {}",
        String::from_utf8_lossy(request),
        r.text()
    );
    assert_eq!(r.header("connection"), Some("close"));
    assert!(
        r.text().starts_with(&status.to_string()) || status == 501,
        "{}",
        r.text()
    );
    c.assert_closed().await;
    s.assert_still_serving().await;
}

#[tokio::test]
async fn malformed_request_line_gets_400() {
    let s = TestServer::app().await;
    expect_refused(&s, b"GET/HTTP/1.1\r\nHost: t\r\n\r\n", 400).await;
    expect_refused(&s, b"GET / HTTP/1.1 extra\r\nHost: t\r\n\r\n", 400).await;
    expect_refused(&s, b"\x01\x02\x03 / HTTP/1.1\r\nHost: t\r\n\r\n", 400).await;
}

#[tokio::test]
async fn invalid_header_name_or_value_gets_400() {
    let s = TestServer::app().await;
    expect_refused(&s, b"GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n", 400).await;
    expect_refused(&s, b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n", 400).await;
}

#[tokio::test]
async fn missing_host_in_http11_gets_400_with_gos_reason() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.status, 400);
    assert_eq!(r.text(), "400 Bad Request: missing required Host header");
    c.assert_closed().await;
    s.assert_still_serving().await;
}

#[tokio::test]
async fn head_larger_than_max_header_bytes_gets_431() {
    let config = Config {
        max_header_bytes: 4096,
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let big = format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "a".repeat(8000));
    expect_refused(&s, big.as_bytes(), 431).await;
    // Just under the limit is fine.
    let fits = format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "a".repeat(3000));
    let mut c = s.connect().await;
    c.send(fits.as_bytes()).await;
    assert_eq!(c.response().await.status, 200);
}

#[tokio::test]
async fn too_many_headers_gets_431() {
    let s = TestServer::app().await;
    let mut request = b"GET / HTTP/1.1\r\nHost: t\r\n".to_vec();
    for i in 0..300 {
        request.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    expect_refused(&s, &request, 431).await;
}

#[tokio::test]
async fn content_length_with_transfer_encoding_gets_400() {
    let s = TestServer::app().await;
    expect_refused(
        &s,
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn differing_content_lengths_get_400() {
    let s = TestServer::app().await;
    expect_refused(
        &s,
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400,
    )
    .await;
}

#[tokio::test]
async fn unknown_transfer_coding_gets_501() {
    let s = TestServer::app().await;
    expect_refused(
        &s,
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
    )
    .await;
}

#[tokio::test]
async fn invalid_chunk_size_gets_400_or_a_clean_close() {
    let s = TestServer::app().await;
    for body in [&b"zz\r\nabc\r\n0\r\n\r\n"[..], b"3\r\nabc\r\n0x1\r\n"] {
        let mut c = s.connect().await;
        let mut request =
            b"POST /ignore-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        request.extend_from_slice(body);
        c.send(&request).await;
        // A 400, or a clean close with no answer at all.
        if let Some(r) = c.try_response(false).await {
            assert_eq!(r.status, 400, "{}", r.text());
        }
        c.assert_closed().await;
    }
    s.assert_still_serving().await;
}

#[tokio::test]
async fn unsupported_version_gets_505() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.status, 505);
    assert_eq!(
        r.text(),
        "505 HTTP Version Not Supported: unsupported protocol version"
    );
    c.assert_closed().await;
    s.assert_still_serving().await;
}

#[tokio::test]
async fn garbage_pipelined_after_a_valid_request_is_answered_then_refused() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\nthis is not http\r\n\r\n")
        .await;
    let first = c.response().await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body, b"Hello, World!");
    let second = c.response().await;
    assert_eq!(second.status, 400);
    c.assert_closed().await;
    s.assert_still_serving().await;
}
