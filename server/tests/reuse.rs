//! Recycling (`server/src/recycle.rs`): a connection refills its previous
//! request's header map and strings, and a closed connection's buffers go
//! to the next accepted one. Whatever is reused, nothing of one request
//! may show through in the next: not a request header, not a response
//! header, not bytes left in a read buffer.
//!
//! This file is its own test binary, so the pool is shared only by the
//! tests below, and a connection opened right after another one closed
//! almost always gets its buffers.

mod runtime_support;

use runtime_support::TestServer;
use server::{handler_fn, Config, Handler};
use tokio::io::AsyncWriteExt;

/// `/mark...` sets a response header that no other path sets; every path
/// answers with what the handler sees of its request.
fn reporter() -> impl Handler {
    handler_fn(|w, r| {
        Box::pin(async move {
            if r.url.path.starts_with(b"/mark") {
                w.header().insert("x-marked", "yes".parse().unwrap());
            }
            let seen = format!(
                "{} path={} query={} host={} target={} secret={} headers={} loopback={}",
                r.method,
                r.url.path.to_str_lossy(),
                r.url.raw_query,
                r.host,
                r.target,
                r.headers.contains_key("x-secret"),
                r.headers.len(),
                r.remote_addr.tcp().is_some_and(|a| a.ip().is_loopback()),
            );
            let _ = w.write(seen.as_bytes()).await;
            // A handler may change its request as it likes: the next
            // request on the connection must not see any of it.
            if r.url.path.starts_with(b"/mark") {
                r.host.push_str("-changed");
                r.target.push_str("-changed");
                r.url.raw_query.push_str("&changed");
                r.url.path = "/changed".into();
                r.headers.insert("x-secret", "planted".parse().unwrap());
                r.remote_addr = server::NetAddr::Tcp("192.0.2.1:9".parse().unwrap());
                r.method = http::Method::DELETE;
            }
        })
    })
}

async fn start() -> TestServer {
    TestServer::start(Config::default(), reporter()).await
}

#[tokio::test]
async fn nothing_of_a_request_shows_in_the_next_on_one_connection() {
    let s = start().await;
    let mut c = s.connect().await;
    for round in 0..3 {
        c.send(
            b"GET /mark/a/long/path/to/make/strings/grow?q=1&r=2 HTTP/1.1\r\n\
              Host: first.example\r\nX-Secret: 1\r\nX-Other: 2\r\n\r\n",
        )
        .await;
        let first = c.response().await;
        assert_eq!(first.header("x-marked"), Some("yes"), "round {round}");
        assert_eq!(
            first.text(),
            "GET path=/mark/a/long/path/to/make/strings/grow query=q=1&r=2 host=first.example \
             target=/mark/a/long/path/to/make/strings/grow?q=1&r=2 secret=true headers=3 loopback=true"
        );

        c.send(b"GET /b HTTP/1.1\r\nHost: b\r\n\r\n").await;
        let second = c.response().await;
        assert_eq!(second.header("x-marked"), None, "round {round}");
        assert_eq!(
            second.text(),
            "GET path=/b query= host=b target=/b secret=false headers=1 loopback=true"
        );
    }
}

#[tokio::test]
async fn nothing_of_a_closed_connection_shows_in_the_next() {
    let s = start().await;
    for round in 0..20 {
        // A client that asks to close, yet sends a second request behind the
        // first: only the first is answered, and the leftover bytes in the
        // read buffer must not reach the next connection.
        let mut a = s.connect().await;
        a.send(
            b"GET /mark/first?x=1 HTTP/1.1\r\nHost: a.example\r\nX-Secret: 1\r\nConnection: close\r\n\r\n\
              GET /leftover HTTP/1.1\r\nHost: a.example\r\n\r\n",
        )
        .await;
        let first = a.response().await;
        assert_eq!(first.header("x-marked"), Some("yes"));
        assert!(
            first.text().starts_with("GET path=/mark/first "),
            "{}",
            first.text()
        );
        a.assert_closed().await;

        // A client that goes away in the middle of a head: its bytes stay
        // in the read buffer, which the server then recycles.
        let mut partial = s.connect().await;
        partial.send(b"GET /partial HTTP/1.1\r\nHost: a").await;
        partial.stream.shutdown().await.unwrap();
        partial.assert_closed().await;

        let mut b = s.connect().await;
        b.send(b"GET /b HTTP/1.1\r\nHost: b\r\n\r\n").await;
        let second = b.response().await;
        assert_eq!(second.header("x-marked"), None, "round {round}");
        assert_eq!(
            second.text(),
            "GET path=/b query= host=b target=/b secret=false headers=1 loopback=true"
        );
        // Exactly one response: nothing left over from `a` or `partial` is answered here.
        b.send(b"GET /c HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n")
            .await;
        assert_eq!(
            b.response().await.text(),
            "GET path=/c query= host=c target=/c secret=false headers=2 loopback=true"
        );
        b.assert_closed().await;
    }
}

#[tokio::test]
async fn a_request_with_many_headers_is_answered_and_the_next_is_clean() {
    let s = start().await;
    let mut many = String::from("GET /mark HTTP/1.1\r\nHost: many\r\nConnection: close\r\n");
    for i in 0..90 {
        many.push_str(&format!("X-Header-{i}: {}\r\n", "v".repeat(100)));
    }
    many.push_str("\r\n");
    let mut a = s.connect().await;
    a.send(many.as_bytes()).await;
    assert!(a.response().await.text().ends_with("headers=92 loopback=true"));
    a.assert_closed().await;

    let mut b = s.connect().await;
    b.send(b"GET /b HTTP/1.1\r\nHost: b\r\n\r\n").await;
    let r = b.response().await;
    assert_eq!(r.header("x-marked"), None);
    assert_eq!(
        r.text(),
        "GET path=/b query= host=b target=/b secret=false headers=1 loopback=true"
    );
}
