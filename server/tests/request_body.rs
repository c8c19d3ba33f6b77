//! Request bodies over a raw socket: Content-Length and chunked bodies,
//! `Expect: 100-continue` (the `100` goes out only when the handler reads),
//! a handler's size limit (413), and the rule that a malformed body must not
//! hide behind the handler's 200 (RFC 9112 section 11.2, request smuggling),
//! bounded in time so that a body trickling in cannot hold the response.

mod runtime_support;

use runtime_support::{RawConn, TestServer, WAIT};
use server::Config;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn content_length_body_is_echoed_and_the_connection_reused() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        .await;
    assert_eq!(c.response().await.body, b"hello");
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.body, b"Hello, World!");
}

#[tokio::test]
async fn chunked_body_with_extensions_and_trailers_is_decoded() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n",
    )
    .await;
    let r = c.response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello, world");
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.body, b"Hello, World!");
}

#[tokio::test]
async fn unread_body_is_skipped_to_reach_the_next_request() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(
        b"POST /ignore-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
          3\r\nabc\r\n0\r\n\r\n\
          POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz\
          GET / HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .await;
    assert_eq!(c.response().await.body, b"ignored");
    assert_eq!(c.response().await.body, b"ignored");
    assert_eq!(c.response().await.body, b"Hello, World!");
}

#[tokio::test]
async fn body_over_the_handlers_limit_gets_413() {
    let s = TestServer::app().await;
    // Known length over the limit: refused without reading it.
    let mut c = s.connect().await;
    c.send(b"POST /limit16 HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n\r\n12345678901234567")
        .await;
    assert_eq!(c.response().await.status, 413);
    // Chunked: refused once the limit is passed.
    let mut c = s.connect().await;
    c.send(b"POST /limit16 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nX\r\n0\r\n\r\n")
        .await;
    assert_eq!(c.response().await.status, 413);
    // Within the limit: fine.
    let mut c = s.connect().await;
    c.send(b"POST /limit16 HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n\r\n0123456789abcdef")
        .await;
    assert_eq!(c.response().await.body, b"0123456789abcdef");
    s.assert_still_serving().await;
}

#[tokio::test]
async fn continue_is_sent_only_when_the_handler_reads_the_body() {
    let s = TestServer::app().await;

    // The echo handler reads: the client gets `100 Continue` before it sends.
    let mut c = s.connect().await;
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        .await;
    let interim = c.response().await;
    assert_eq!(interim.status, 100);
    c.send(b"ping").await;
    let r = c.response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"ping");

    // This handler never reads: no 100, the answer comes at once, and the
    // connection closes since we cannot know whether the body will follow.
    let mut c = s.connect().await;
    c.send(b"POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        .await;
    let r = c.response().await;
    assert_eq!(r.status, 200, "no 100 Continue may precede this answer");
    assert_eq!(r.body, b"ignored");
    assert_eq!(r.header("connection"), Some("close"));
    c.assert_closed().await;
}

#[tokio::test]
async fn unknown_expectation_gets_417() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: something-else\r\n\r\nping")
        .await;
    assert_eq!(c.response().await.status, 417);
    c.assert_closed().await;
    s.assert_still_serving().await;
}

/// A malformed body behind a 200: the handler answered 200 without reading a body whose chunked
/// framing is broken. While that 200 is still held back, the server
/// replaces it with a 400 and closes, so the bytes after the bad chunk are
/// never read as a request.
#[tokio::test]
async fn malformed_unread_body_replaces_the_buffered_200_with_400() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(
        b"POST /ignore-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
          3\r\nabcXX\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .await;
    let r = c.response().await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.header_count("content-length"), 1);
    assert_eq!(r.text(), "400 Bad Request");
    // The smuggled request gets no answer: just the close.
    c.assert_closed().await;
    s.assert_still_serving().await;
}

/// The same rule, once the response is out: once the response has been flushed it cannot be
/// taken back, so the server closes right after it, and the smuggled
/// request behind the bad chunk still gets no answer.
#[tokio::test]
async fn malformed_body_after_a_flushed_response_closes_without_reading_leftovers() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(
        b"POST /flush-then-ignore HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
          zz\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .await;
    let rest = c.read_until_closed().await;
    let text = String::from_utf8_lossy(&rest);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert_eq!(text.matches("HTTP/1.1").count(), 1, "one response only: {text}");
    s.assert_still_serving().await;
}

/// A handler that met the framing error itself and answered with an error
/// keeps its answer (the connection still closes).
#[tokio::test]
async fn handler_error_answer_to_a_bad_body_is_kept() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n")
        .await;
    let r = c.response().await;
    assert_eq!(r.status, 400);
    assert!(r.text().starts_with("reading body:"), "{}", r.text());
    c.assert_closed().await;
}

#[tokio::test]
async fn truncated_body_is_not_answered_as_a_success() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        .await;
    c.stream.shutdown().await.unwrap(); // half-close: the body will never be complete
    let rest = c.read_until_closed().await;
    let text = String::from_utf8_lossy(&rest);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 400 "), "{text}");
    s.assert_still_serving().await;
}

/// Sends `head`, then the body a byte every 20 ms (for at most 10 s),
/// and returns everything the server sends until it closes.
async fn send_trickling(c: &mut RawConn, head: &[u8]) -> Vec<u8> {
    c.send(head).await;
    let (mut from_server, mut to_server) = c.stream.split();
    let trickle = async {
        for _ in 0..500 {
            if to_server.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let mut reply = Vec::new();
    let read = from_server.read_to_end(&mut reply);
    tokio::time::timeout(WAIT, async {
        tokio::select! {
            _ = read => {}
            () = trickle => panic!("the server kept reading a trickled body"),
        }
    })
    .await
    .expect("the response was held while the body trickled in");
    reply
}

/// A body the handler ignores and the client sends a byte at a time
/// cannot hold the handler's answer: once the rest of the body has not
/// arrived within `post_handler_read_timeout`, the response goes out with
/// `Connection: close` and the connection closes, without anything more
/// being read as a request.
#[tokio::test]
async fn a_trickled_unread_body_does_not_hold_the_response() {
    let s = TestServer::app().await;
    for head in [
        &b"POST /ignore-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffff\r\n"[..],
        b"POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n",
    ] {
        let mut c = s.connect().await;
        let reply = send_trickling(&mut c, head).await;
        let text = String::from_utf8_lossy(&reply).to_ascii_lowercase();
        assert!(text.starts_with("http/1.1 200 ok\r\n"), "{text}");
        assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nignored"), "one response only: {text}");
    }
    s.assert_still_serving().await;
}

/// A server that waits long for an unread body (10 s, so that the tests
/// below do not depend on this machine's speed), and a client that has
/// sent a chunked request's head and the first part of its body to a
/// handler that ignores it; the rest is for the test to send.
async fn start_a_chunked_body_in_two_writes() -> (TestServer, runtime_support::RawConn) {
    let config = Config {
        post_handler_read_timeout: Duration::from_secs(10),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let mut c = s.connect().await;
    c.send(b"POST /ignore-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab")
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    (s, c)
}

/// While the body arrives in time, it is still checked: a bad chunk that
/// comes in a second write replaces the held-back 200 with a 400.
#[tokio::test]
async fn a_malformed_body_arriving_in_time_still_gets_400() {
    let (_server, mut c) = start_a_chunked_body_in_two_writes().await;
    c.send(b"cXX\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let r = c.response().await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("connection"), Some("close"));
    c.assert_closed().await;
}

/// A well-formed body that the handler ignores and that arrives in time,
/// in a second write, is read to its end and the connection kept alive.
#[tokio::test]
async fn an_unread_body_arriving_in_time_keeps_the_connection_alive() {
    let (_server, mut c) = start_a_chunked_body_in_two_writes().await;
    c.send(b"c\r\n0\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!((r.status, r.header("connection")), (200, None));
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.body, b"Hello, World!");
}
