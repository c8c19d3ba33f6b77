//! Hardening, Host: required once in HTTP/1.1, with a valid `uri-host [ ":"
//! port ]` value; the authority of an absolute-form target wins over it
//! (RFC 9112 §3.2). One test per rule, over a real socket; each checks
//! that the next client is served.

mod hardening_support;
use hardening_support::TestServer;

/// RFC 9112 §3.2: 400 to an HTTP/1.1 request without Host.
#[tokio::test]
async fn missing_host_in_http_1_1_is_400() {
    let s = TestServer::start().await;
    let r = s.expect_status(b"GET / HTTP/1.1\r\n\r\n", 400).await;
    assert_eq!(r.body_text(), "400 Bad Request: missing required Host header");
    s.assert_still_serving().await;
}

/// RFC 9112 §3.2: Host is not required of HTTP/1.0.
#[tokio::test]
async fn missing_host_in_http_1_0_is_served() {
    let s = TestServer::start().await;
    let r = s.expect_status(b"GET /host HTTP/1.0\r\n\r\n", 200).await;
    assert_eq!(r.body_text(), "");
    s.assert_still_serving().await;
}

/// RFC 9112 §3.2: 400 to more than one Host line, even with the same value.
#[tokio::test]
async fn repeated_host_is_400_even_with_the_same_value() {
    let s = TestServer::start().await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400)
        .await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)
        .await;
}

/// RFC 9112 §3.2, RFC 9110 §4.2.4: userinfo is not part of a Host value.
#[tokio::test]
async fn host_with_userinfo_is_400() {
    let s = TestServer::start().await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: user:pass@example.com\r\n\r\n", 400)
        .await;
}

/// RFC 9112 §3.2: Host = uri-host [ ":" port ]; a path is not part of it.
#[tokio::test]
async fn host_with_a_path_is_400() {
    let s = TestServer::start().await;
    s.refuses(b"GET / HTTP/1.1\r\nHost: example.com/admin\r\n\r\n", 400)
        .await;
}

/// RFC 9112 §3.2, RFC 3986 §3.2.2: a byte that cannot appear in
/// `uri-host [ ":" port ]` makes the value invalid. (Like Go's
/// `httpguts.ValidHostHeader`, we check bytes, not structure, so that the
/// ServeMux sees the same hosts as Go's; see notes/server-hardening.md.)
#[tokio::test]
async fn host_with_bytes_outside_the_host_grammar_is_400() {
    let s = TestServer::start().await;
    for host in [
        "exa mple.com",
        "ex\"ample",
        "a<b",
        "a{b}",
        "a\\b",
        "caf\u{e9}.example",
    ] {
        let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        s.refuses(request.as_bytes(), 400).await;
    }
}

/// RFC 9112 §3.2: the forms real clients send are accepted. (An empty
/// Host is not: `hardening_limits.rs`.)
#[tokio::test]
async fn valid_hosts_are_accepted() {
    let s = TestServer::start().await;
    for host in [
        "example.com",
        "example.com:8080",
        "127.0.0.1:80",
        "[::1]:8080",
        "xn--caf-dma.example",
    ] {
        let request = format!("GET /host HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let r = s.accepts(request.as_bytes()).await;
        assert_eq!(r.body_text(), host);
    }
}

/// RFC 9112 §3.2.2: with an absolute-form target, the server MUST ignore
/// Host and use the target's authority.
#[tokio::test]
async fn absolute_form_authority_wins_over_host() {
    let s = TestServer::start().await;
    let r = s
        .accepts(b"GET http://origin.example:8080/host HTTP/1.1\r\nHost: other.example\r\n\r\n")
        .await;
    assert_eq!(r.body_text(), "origin.example:8080");
}

/// RFC 9110 §4.2.4 and §4.2.1: userinfo in an http target is an error, and
/// so is an empty host.
#[tokio::test]
async fn absolute_form_with_userinfo_or_no_host_is_400() {
    let s = TestServer::start().await;
    s.refuses(
        b"GET http://user@origin.example/ HTTP/1.1\r\nHost: origin.example\r\n\r\n",
        400,
    )
    .await;
    s.refuses(b"GET http:///path HTTP/1.1\r\nHost: origin.example\r\n\r\n", 400)
        .await;
}
