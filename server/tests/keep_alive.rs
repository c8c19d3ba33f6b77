//! The keep-alive loop (Go: `conn.serve`, server.go:1842): several requests on one
//! connection, pipelined requests answered in order, and a fresh
//! connection still served after a handler panics on another.

mod runtime_support;

use runtime_support::{StateLog, TestServer};
use server::{Config, ConnState};

#[tokio::test]
async fn several_requests_share_one_connection() {
    let log = StateLog::default();
    let config = Config {
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let mut c = s.connect().await;
    for i in 0..5 {
        c.send(format!("GET /info?i={i} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .await;
        assert_eq!(c.response().await.text(), format!("GET /info?i={i} t"));
    }
    let news = log.events().iter().filter(|(_, s)| *s == ConnState::New).count();
    assert_eq!(news, 1, "one connection for five requests");
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    let mut burst = Vec::new();
    for i in 0..20 {
        // Mix slow and fast, small and chunked, to show the order holds.
        let path = match i % 4 {
            0 => "/slow/5".to_owned(),
            1 => "/big/3000".to_owned(),
            _ => format!("/info?n={i}"),
        };
        burst.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    }
    c.send(&burst).await;
    for i in 0..20 {
        let r = c.response().await;
        assert_eq!(r.status, 200);
        match i % 4 {
            0 => assert_eq!(r.body, b"slept"),
            1 => assert_eq!(r.body.len(), 3000),
            _ => assert_eq!(r.text(), format!("GET /info?n={i} t")),
        }
    }
}

#[tokio::test]
async fn a_panicking_handler_closes_only_its_connection() {
    let s = TestServer::app().await;
    let mut other = s.connect().await;
    other.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(other.response().await.status, 200);

    let mut c = s.connect().await;
    c.send(b"GET /panic HTTP/1.1\r\nHost: t\r\n\r\n").await;
    c.assert_closed().await;

    // The connection opened before the panic still works, and so do new ones.
    other.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(other.response().await.body, b"Hello, World!");
    s.assert_still_serving().await;
}

#[tokio::test]
async fn a_head_arriving_one_byte_at_a_time_is_answered() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.stream.set_nodelay(true).unwrap();
    let request = b"GET /info?slow HTTP/1.1\r\nHost: t\r\nX-A: 1\r\nX-B: 2\r\n\r\n";
    for byte in request {
        c.send(&[*byte]).await;
        tokio::task::yield_now().await;
    }
    assert_eq!(c.response().await.text(), "GET /info?slow t");
    // And a pipelined pair split in the middle of the second head.
    c.send(b"GET /info?1 HTTP/1.1\r\nHost: t\r\n\r\nGET /info?2 HTT")
        .await;
    assert_eq!(c.response().await.text(), "GET /info?1 t");
    c.send(b"P/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.text(), "GET /info?2 t");
}

#[tokio::test]
async fn response_headers_do_not_leak_into_the_next_response() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    // "/" sets Content-Type text/plain; "/sniff" sets none and gets the
    // sniffed text/html, on the same connection, both ways round.
    for path in ["/", "/sniff", "/", "/sniff"] {
        c.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .await;
        let r = c.response().await;
        let expected = if path == "/" {
            "text/plain; charset=utf-8"
        } else {
            "text/html; charset=utf-8"
        };
        assert_eq!(r.header("content-type"), Some(expected), "for {path}");
        assert_eq!(r.header_count("content-type"), 1);
        assert_eq!(r.header_count("date"), 1);
    }
}
