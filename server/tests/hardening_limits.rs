//! Limits on each part of a request, stricter than Go (which limits only
//! the whole head, 1 MiB) and set like nginx's and Apache's: a
//! request-target over 8 KiB is 414, a header field line over 8 KiB is
//! 431, a method over 32 bytes is 501 (see `server/src/wire/limits.rs`).
//! Also the two rules Go 1.19 lets through: `*` is a target for OPTIONS
//! only (RFC 9112 §3.2.4), and an HTTP/1.1 Host must not be empty (RFC
//! 9110 §4.2.1). Each test checks the status, that the connection then
//! closes cleanly (a FIN after the response, not a reset), and that the
//! next client is served.

mod hardening_support;

use hardening_support::{app, parse_responses, Response, TestServer, WAIT};
use server::wire::PartLimits;
use server::Config;
use std::process::Command;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The default limits, as a test reads them.
const MAX_TARGET: usize = PartLimits::DEFAULT.max_target_bytes;
const MAX_FIELD_LINE: usize = PartLimits::DEFAULT.max_field_line_bytes;
const MAX_METHOD: usize = PartLimits::DEFAULT.max_method_bytes;

/// Sends `bytes` (half-closing after them only if `then_close`), and reads
/// until the server closes. The server must close with a FIN: a reset
/// could destroy its answer before the client reads it.
async fn send_and_read_to_close(s: &TestServer, bytes: &[u8], then_close: bool) -> Vec<Response> {
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    if then_close {
        stream.shutdown().await.unwrap();
    }
    let mut received = Vec::new();
    let read = tokio::time::timeout(WAIT, stream.read_to_end(&mut received))
        .await
        .unwrap_or_else(|_| panic!("the server neither answered nor closed within {WAIT:?}"));
    assert!(read.is_ok(), "the connection was reset: {read:?}");
    parse_responses(&received)
}

/// One response with `status` and `Connection: close`, a clean close, and
/// the next client served. With `then_close` false the request's end is
/// never sent: the server must answer without waiting for it.
async fn refused_cleanly(s: &TestServer, bytes: &[u8], then_close: bool, status: u16) -> Response {
    let responses = send_and_read_to_close(s, bytes, then_close).await;
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned();
    assert_eq!(
        responses.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![status],
        "request {shown:?}..."
    );
    let r = responses.into_iter().next().unwrap();
    assert!(
        r.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close")),
        "an error must close the connection: {:?}",
        r.headers
    );
    s.assert_still_serving().await;
    r
}

/// `GET <target> HTTP/1.1` with a target of exactly `len` bytes that the
/// application answers by echoing it (`/target?aaa...`).
fn target_of_len(len: usize) -> String {
    format!("/target?{}", "a".repeat(len - "/target?".len()))
}

/// RFC 9110 §15.5.15: a target over the limit is 414; one at the limit is
/// served whole. (Go 1.19: 200 up to its 1 MiB head limit, then 431.)
#[tokio::test]
async fn target_over_the_limit_is_414() {
    let s = TestServer::start().await;
    let at_limit = target_of_len(MAX_TARGET);
    let r = s
        .accepts(format!("GET {at_limit} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .await;
    assert_eq!(r.body_text(), at_limit);
    let over = target_of_len(MAX_TARGET + 1);
    let r = refused_cleanly(
        &s,
        format!("GET {over} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(),
        true,
        414,
    )
    .await;
    assert_eq!(r.body_text(), "414 URI Too Long");
}

/// A target that never ends is refused once it passes the limit, not
/// after the 1 MiB head limit (or never, without a header timeout).
#[tokio::test]
async fn endless_target_is_414_before_its_line_ends() {
    let s = TestServer::start().await;
    let mut bytes = b"GET /".to_vec();
    bytes.resize(64 * 1024, b'a');
    refused_cleanly(&s, &bytes, false, 414).await;
}

/// RFC 6585 §5: one field line over the limit is 431, even in a head far
/// below `max_header_bytes`; a line at the limit is served. (Go 1.19: 200.)
#[tokio::test]
async fn field_line_over_the_limit_is_431() {
    let s = TestServer::start().await;
    let line = |len: usize| format!("X-Big: {}", "v".repeat(len - "X-Big: ".len()));
    s.accepts(format!("GET / HTTP/1.1\r\nHost: t\r\n{}\r\n\r\n", line(MAX_FIELD_LINE)).as_bytes())
        .await;
    let over = line(MAX_FIELD_LINE + 1);
    refused_cleanly(
        &s,
        format!("GET / HTTP/1.1\r\nHost: t\r\n{over}\r\n\r\n").as_bytes(),
        true,
        431,
    )
    .await;
    // Several lines under the limit are fine: the limit is per line.
    let many: String = (0..8)
        .map(|i| format!("X-{i}: {}\r\n", "v".repeat(4000)))
        .collect();
    s.accepts(format!("GET / HTTP/1.1\r\nHost: t\r\n{many}\r\n").as_bytes())
        .await;
}

/// A header line that never ends is refused once it passes the limit, not
/// after the 1 MiB head limit.
#[tokio::test]
async fn endless_field_line_is_431_before_it_ends() {
    let s = TestServer::start().await;
    let mut bytes = b"GET / HTTP/1.1\r\nHost: t\r\nX-Endless: ".to_vec();
    bytes.resize(64 * 1024, b'v');
    refused_cleanly(&s, &bytes, false, 431).await;
}

/// RFC 9110 §9.1, §15.6.2: a method longer than any we implement is 501,
/// complete or endless; a long method that is not a token is 400; a
/// method at the limit is served. (Go 1.19: 200 for any token.)
#[tokio::test]
async fn long_method_is_501() {
    let s = TestServer::start().await;
    let method = "M".repeat(MAX_METHOD);
    s.accepts(format!("{method} / HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .await;
    let method = "M".repeat(MAX_METHOD + 1);
    refused_cleanly(
        &s,
        format!("{method} / HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(),
        true,
        501,
    )
    .await;
    refused_cleanly(&s, "M".repeat(64 * 1024).as_bytes(), false, 501).await;
    let not_a_token = format!("{}(", "M".repeat(MAX_METHOD + 1));
    refused_cleanly(
        &s,
        format!("{not_a_token} / HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(),
        true,
        400,
    )
    .await;
}

/// RFC 9112 §3.2.4: the asterisk-form is only for OPTIONS. (Go 1.19 hands
/// `GET *` to the handler; its ServeMux answers 400.)
#[tokio::test]
async fn asterisk_form_is_for_options_only() {
    let s = TestServer::start().await;
    for method in ["GET", "HEAD", "POST", "DELETE", "CONNECT"] {
        let request = format!("{method} * HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        refused_cleanly(&s, request.as_bytes(), true, 400).await;
    }
    s.accepts(b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n").await;
}

/// RFC 9110 §4.2.1: an http URI must not have an empty host, so an empty
/// Host in HTTP/1.1 is 400 (Go 1.19: 200). HTTP/1.0 has no Host rules;
/// with an absolute-form target the target's authority wins and Host is
/// ignored (RFC 9112 §3.2.2).
#[tokio::test]
async fn empty_host_in_http_1_1_is_400() {
    let s = TestServer::start().await;
    let r = refused_cleanly(&s, b"GET / HTTP/1.1\r\nHost: \r\n\r\n", true, 400).await;
    assert_eq!(r.body_text(), "400 Bad Request: malformed Host header");
    refused_cleanly(&s, b"GET / HTTP/1.1\r\nHost:\r\n\r\n", true, 400).await;
    let r = s.accepts(b"GET /host HTTP/1.0\r\nHost: \r\n\r\n").await;
    assert_eq!(r.body_text(), "");
    let r = s
        .accepts(b"GET http://a.example/host HTTP/1.1\r\nHost: \r\n\r\n")
        .await;
    assert_eq!(r.body_text(), "a.example");
}

/// The limits are the server's to set: raised, the same requests pass.
#[tokio::test]
async fn limits_are_configurable() {
    let config = Config {
        part_limits: PartLimits {
            max_target_bytes: 64 * 1024,
            max_field_line_bytes: 64 * 1024,
            max_method_bytes: 64,
        },
        ..Config::default()
    };
    let s = TestServer::with_config(config, app()).await;
    let target = target_of_len(MAX_TARGET * 4);
    let method = "M".repeat(64);
    let field = "v".repeat(MAX_FIELD_LINE * 4);
    let r = s
        .accepts(format!("{method} {target} HTTP/1.1\r\nHost: t\r\nX-Big: {field}\r\n\r\n").as_bytes())
        .await;
    assert_eq!(r.body_text(), target);
}

/// curl gets the same answers for a long URL: served at the limit, 414
/// past it. (Skips when curl is not installed.)
#[tokio::test]
async fn curl_long_urls() {
    let s = TestServer::start().await;
    let status_for = |target: String| {
        let url = format!("http://{}{target}", s.addr);
        tokio::task::spawn_blocking(move || {
            Command::new("curl")
                .args([
                    "-sS",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "--max-time",
                    "5",
                    &url,
                ])
                .output()
        })
    };
    let output = match status_for(target_of_len(MAX_TARGET)).await.unwrap() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipping: curl is not installed");
            return;
        }
        Err(e) => panic!("running curl: {e}"),
    };
    assert_eq!(String::from_utf8_lossy(&output.stdout), "200");
    let output = status_for(target_of_len(MAX_TARGET + 1)).await.unwrap().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "414");
    s.assert_still_serving().await;
}
