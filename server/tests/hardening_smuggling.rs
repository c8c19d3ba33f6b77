//! Hardening, request smuggling: pipelined attacks where a front proxy and
//! this server could disagree on where a request ends. Whatever the
//! trick, the server answers at most the first request (with an error
//! when its framing is ambiguous or broken), closes the connection, and
//! never serves the request hidden behind it (`/smuggled`). Each test also
//! checks that the next client is served.

mod hardening_support;
use hardening_support::{assert_nothing_smuggled, TestServer};

const SMUGGLED: &str = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";

/// The control case, so that the counting below can fail: two honest
/// pipelined requests get two responses.
#[tokio::test]
async fn honest_pipeline_gets_every_response() {
    let s = TestServer::start().await;
    let responses = s
        .exchange(b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[1].body_text(), "SMUGGLED");
}

/// CL.TE (RFC 9112 §6.3 point 3, §11.2): a proxy trusting Content-Length
/// forwards the whole thing; a server trusting chunked would see
/// `/smuggled` as the next request. We answer 400 once and close.
#[tokio::test]
async fn cl_te_gets_one_400_and_nothing_smuggled() {
    let s = TestServer::start().await;
    let body = format!("0\r\n\r\n{SMUGGLED}");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{body}",
        body.len()
    );
    let responses = s.exchange(request.as_bytes()).await;
    assert_eq!(responses.iter().map(|r| r.status).collect::<Vec<_>>(), vec![400]);
    s.assert_still_serving().await;
}

/// TE.CL (RFC 9112 §6.3 point 3): the same pair in the other order, the
/// chunked body hiding a request after what Content-Length covers.
#[tokio::test]
async fn te_cl_gets_one_400_and_nothing_smuggled() {
    let s = TestServer::start().await;
    let chunk = format!("{SMUGGLED}X");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let responses = s.exchange(request.as_bytes()).await;
    assert_eq!(responses.iter().map(|r| r.status).collect::<Vec<_>>(), vec![400]);
    assert_nothing_smuggled(&responses);
    s.assert_still_serving().await;
}

/// TE.TE (RFC 9110 §5.6.1, RFC 9112 §6.1): two Transfer-Encoding lines, or
/// odd spellings one side might not read as chunked. None may let a
/// second request through.
#[tokio::test]
async fn te_te_with_odd_spellings_never_smuggles() {
    let s = TestServer::start().await;
    let cases = [
        ("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n", 400),
        ("Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n", 501),
        ("Transfer-Encoding: xchunked\r\n", 501),
        ("Transfer-Encoding : chunked\r\n", 400),
        ("Transfer-Encoding:\x0bchunked\r\n", 400),
        ("Transfer-Encoding: chunked\r\n\tx\r\n", 400),
        ("X: x\nTransfer-Encoding: chunked\r\n", 400),
        ("Transfer-Encoding: \"chunked\"\r\n", 400),
        ("Transfer-Encoding: chunked, identity\r\n", 400),
    ];
    for (headers, status) in cases {
        let request = format!("POST / HTTP/1.1\r\nHost: t\r\n{headers}\r\n0\r\n\r\n{SMUGGLED}");
        let responses = s.exchange(request.as_bytes()).await;
        assert_eq!(
            responses.iter().map(|r| r.status).collect::<Vec<_>>(),
            vec![status],
            "headers {headers:?}"
        );
        s.assert_still_serving().await;
    }
}

/// RFC 9112 §7.1.1: a request hidden in a chunk extension (a quoted
/// string with a CRLF in it, or a bare LF ending the line early for a
/// lenient reader) is a malformed chunk line, even when the handler never
/// reads the body: the response is replaced by 400 (the server reads and
/// checks the unread body after the handler, `Conn::finish_request`), never
/// a 200 followed by the hidden request.
#[tokio::test]
async fn request_hidden_in_a_chunk_extension_is_never_served() {
    let s = TestServer::start().await;
    let bodies = [
        format!("5;x=\"\r\n{SMUGGLED}\"\r\nhello\r\n0\r\n\r\n"),
        format!("5;x\n{SMUGGLED}hello\r\n0\r\n\r\n"),
        format!("0;x\r{SMUGGLED}\r\n\r\n"),
    ];
    for body in bodies {
        let request = format!("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{body}");
        let responses = s.exchange(request.as_bytes()).await;
        assert_eq!(
            responses.iter().map(|r| r.status).collect::<Vec<_>>(),
            vec![400],
            "body {body:?}"
        );
        s.assert_still_serving().await;
    }
}

/// RFC 9112 §7.1.2: a request line inside the trailer section is a
/// malformed trailer field, not the next request.
#[tokio::test]
async fn request_hidden_in_a_trailer_is_never_served() {
    let s = TestServer::start().await;
    let bodies = [
        format!("5\r\nhello\r\n0\r\nX-A: 1\r\n{SMUGGLED}"),
        format!("5\r\nhello\r\n0\r\nX-A: 1\n\r\n{SMUGGLED}"),
    ];
    for body in bodies {
        let request = format!("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{body}");
        let responses = s.exchange(request.as_bytes()).await;
        assert_eq!(
            responses.iter().map(|r| r.status).collect::<Vec<_>>(),
            vec![400],
            "body {body:?}"
        );
        s.assert_still_serving().await;
    }
}

/// A bad chunked body behind a handler that ignores the body still gets
/// 400, not the handler's 200 (Go and hyper answer 200 here).
#[tokio::test]
async fn bad_chunked_body_does_not_hide_behind_a_200() {
    let s = TestServer::start().await;
    let request =
        format!("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX{SMUGGLED}");
    let responses = s.exchange(request.as_bytes()).await;
    assert_eq!(responses.iter().map(|r| r.status).collect::<Vec<_>>(), vec![400]);
    s.assert_still_serving().await;
}

/// RFC 9112 §6.3 point 5: differing Content-Lengths on the two sides of a
/// proxy would cut the body in two places.
#[tokio::test]
async fn cl_cl_gets_one_400_and_nothing_smuggled() {
    let s = TestServer::start().await;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: {}\r\n\r\n{SMUGGLED}",
        SMUGGLED.len()
    );
    let responses = s.exchange(request.as_bytes()).await;
    assert_eq!(responses.iter().map(|r| r.status).collect::<Vec<_>>(), vec![400]);
    s.assert_still_serving().await;
}

/// RFC 9112 §6.1: HTTP/1.0 with Transfer-Encoding; Go 1.19 ignores the
/// header and would read `0\r\n\r\n` + the hidden request as what follows.
#[tokio::test]
async fn transfer_encoding_in_http_1_0_never_smuggles() {
    let s = TestServer::start().await;
    let request = format!("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{SMUGGLED}");
    let responses = s.exchange(request.as_bytes()).await;
    assert_eq!(responses.iter().map(|r| r.status).collect::<Vec<_>>(), vec![400]);
    s.assert_still_serving().await;
}

/// A body a handler leaves unread is skipped by its framing: the bytes it
/// covers are body, never a request, even when they look like one.
#[tokio::test]
async fn request_inside_a_content_length_body_is_not_served() {
    let s = TestServer::start().await;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{SMUGGLED}GET / HTTP/1.1\r\nHost: t\r\n\r\n",
        SMUGGLED.len()
    );
    let responses = s.exchange(request.as_bytes()).await;
    assert_eq!(
        responses.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![200, 200]
    );
    assert_nothing_smuggled(&responses);
    s.assert_still_serving().await;
}

/// RFC 9110 §6.5.1: framing fields in a trailer section must not change
/// how the message was framed. A `Content-Length` trailer is kept as a
/// trailer; the next pipelined request is found where the chunked body
/// really ended, and served.
#[tokio::test]
async fn framing_fields_in_a_trailer_change_nothing() {
    let s = TestServer::start().await;
    let request = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
        5\r\nhello\r\n0\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n\
        GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    let responses = s.exchange(request).await;
    assert_eq!(
        responses.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![200, 200]
    );
    assert_eq!(responses[0].body_text(), "hello");
    assert_eq!(responses[1].body_text(), "Hello, World!");
    s.assert_still_serving().await;
}
