//! How responses are framed on the wire, checked with a raw socket
//! (Go: `chunkWriter.writeHeader`, server.go:1246): Content-Length when the handler finishes
//! within the 2 KiB buffer, chunked beyond it on HTTP/1.1, close-delimited on
//! HTTP/1.0; no body for HEAD, 204, 304; Date on every response; sniffed
//! Content-Type; a handler's own Content-Length honoured.

mod runtime_support;

use runtime_support::{RawConn, TestServer};
use server::{handler_fn, Config};

#[tokio::test]
async fn small_response_gets_content_length_and_date() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("13"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert!(r.header("date").is_some_and(|d| d.ends_with(" GMT")));
    assert!(!r.chunked);
    assert_eq!(r.body, b"Hello, World!");
}

#[tokio::test]
async fn response_of_exactly_the_buffer_size_still_gets_content_length() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"GET /big/2048 HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.header("content-length"), Some("2048"));
    assert_eq!(r.body.len(), 2048);
}

#[tokio::test]
async fn large_response_is_chunked_on_http11_and_connection_is_reused() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"GET /big/100000 HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert!(r.chunked, "headers: {:?}", r.headers);
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.body, vec![b'x'; 100_000]);
    // The last chunk ended the body: the connection goes on.
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.body, b"Hello, World!");
}

#[tokio::test]
async fn large_response_on_http10_is_delimited_by_the_close() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"GET /big/5000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await;
    let r = c.response().await;
    assert_eq!(r.version, "HTTP/1.0");
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(
        r.header("connection"),
        None,
        "no keep-alive promise without a length"
    );
    assert_eq!(r.body, vec![b'x'; 5000]);
}

#[tokio::test]
async fn http10_keep_alive_is_honoured_when_the_length_is_known() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    for _ in 0..2 {
        c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
        let r = c.response().await;
        assert_eq!(r.header("connection"), Some("keep-alive"));
        assert_eq!(r.body, b"Hello, World!");
    }
    // Without keep-alive, HTTP/1.0 closes after the response.
    c.send(b"GET / HTTP/1.0\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.header("connection"), None);
    assert_eq!(r.header("content-length"), Some("13"));
    c.assert_closed().await;
}

#[tokio::test]
async fn flush_commits_the_head_and_the_body_goes_chunked() {
    let handler = handler_fn(|w, _r| {
        Box::pin(async move {
            w.write(b"first ").await.unwrap();
            w.flush().await.unwrap();
            w.write(b"second").await.unwrap();
        })
    });
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert!(r.chunked);
    assert_eq!(r.body, b"first second");
}

#[tokio::test]
async fn head_gets_the_length_of_get_but_no_body() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.head_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("13"));
    // No body bytes followed: the next response starts right away.
    c.send(b"HEAD /big/10000 HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.head_response().await;
    assert_eq!(r.header("transfer-encoding"), None);
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.body, b"Hello, World!");
}

#[tokio::test]
async fn no_body_and_no_length_for_204_and_304() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    for code in [204, 304] {
        c.send(format!("GET /status/{code} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .await;
        let r = c.response().await;
        assert_eq!(r.status, code);
        assert_eq!(r.header("content-length"), None);
        assert_eq!(r.header("transfer-encoding"), None);
        assert!(r.header("date").is_some());
    }
    // The handler's attempt to write "body" was refused, so nothing stray
    // is on the connection: the next request is answered cleanly.
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.body, b"Hello, World!");
}

#[tokio::test]
async fn content_type_is_sniffed_when_the_handler_sets_none() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"GET /sniff HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
}

#[tokio::test]
async fn handler_content_length_is_honoured_and_overruns_refused() {
    let handler = handler_fn(|w, _r| {
        Box::pin(async move {
            w.header()
                .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from_static("5"));
            w.write(b"12345").await.unwrap();
            let overrun = w.write(b"6").await;
            assert!(overrun.is_err(), "writing past Content-Length must fail");
        })
    });
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = s.connect().await;
    for _ in 0..2 {
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
        let r = c.response().await;
        assert_eq!(r.header_count("content-length"), 1);
        assert_eq!(r.body, b"12345");
    }
}

#[tokio::test]
async fn handler_that_writes_less_than_its_content_length_closes_the_connection() {
    let handler = handler_fn(|w, _r| {
        Box::pin(async move {
            w.header()
                .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from_static("10"));
            w.write(b"short").await.unwrap();
        })
    });
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    // The client sees 5 of the 10 promised bytes, then the close.
    let rest = c.read_until_closed().await;
    let text = String::from_utf8_lossy(&rest);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nshort"), "{text}");
}

#[tokio::test]
async fn superfluous_write_header_is_ignored() {
    let handler = handler_fn(|w, _r| {
        Box::pin(async move {
            w.write_header(http::StatusCode::CREATED);
            w.write_header(http::StatusCode::INTERNAL_SERVER_ERROR);
            w.write(b"made").await.unwrap();
        })
    });
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body, b"made");
}

#[tokio::test]
async fn connection_close_from_the_client_is_answered_and_honoured() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await;
    let r = c.response().await;
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, b"Hello, World!");
    c.assert_closed().await;
}

#[tokio::test]
async fn connection_close_from_the_handler_closes_after_the_response() {
    let s = TestServer::app().await;
    let mut c = s.connect().await;
    c.send(b"GET /close HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.header_count("connection"), 1);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, b"bye");
    c.assert_closed().await;
}

#[tokio::test]
async fn options_star_is_answered_by_the_server_itself() {
    let handler = handler_fn(|_w, _r| Box::pin(async { panic!("the handler must not see OPTIONS *") }));
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = s.connect().await;
    c.send(b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("0"));
    assert!(r.body.is_empty());
    // The connection stays usable.
    c.send(b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.status, 200);
}

/// RFC 9112 §3.2.4: `*` is a target for OPTIONS only. Go 1.19 hands
/// `GET *` to the handler; the server refuses it before any handler runs.
#[tokio::test]
async fn other_methods_with_star_are_400() {
    let handler = handler_fn(|_w, _r| Box::pin(async { panic!("the handler must not see GET *") }));
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = RawConn::connect(s.addr).await;
    c.send(b"GET * HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("connection"), Some("close"));
    c.assert_closed().await;
}

#[tokio::test]
async fn an_invalid_content_length_from_the_handler_is_dropped() {
    let handler = handler_fn(|w, _r| {
        Box::pin(async move {
            w.header()
                .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from_static("-3"));
            w.write(b"abc").await.unwrap();
        })
    });
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.header_count("content-length"), 1);
    assert_eq!(r.header("content-length"), Some("3"));
    assert_eq!(r.body, b"abc");
}

#[tokio::test]
async fn transfer_encoding_identity_from_the_handler_means_close_delimited() {
    let handler = handler_fn(|w, _r| {
        Box::pin(async move {
            w.header().insert(
                http::header::TRANSFER_ENCODING,
                http::HeaderValue::from_static("identity"),
            );
            w.write(&[b'y'; 3000]).await.unwrap();
        })
    });
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, vec![b'y'; 3000]);
}

#[tokio::test]
async fn an_informational_status_goes_out_ahead_of_the_final_response() {
    let handler = handler_fn(|w, _r| {
        Box::pin(async move {
            w.header().insert(
                http::header::LINK,
                http::HeaderValue::from_static("</style.css>; rel=preload"),
            );
            w.write_header(http::StatusCode::from_u16(103).unwrap());
            w.write(b"final").await.unwrap();
        })
    });
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let early = c.response().await;
    assert_eq!(early.status, 103);
    assert_eq!(early.header("link"), Some("</style.css>; rel=preload"));
    let r = c.response().await;
    assert_eq!(r.status, 200, "103 is not the final status");
    assert_eq!(r.header("link"), Some("</style.css>; rel=preload"));
    assert_eq!(r.body, b"final");
    // HTTP/1.0 clients get no 1xx at all.
    c.send(b"GET / HTTP/1.0\r\n\r\n").await;
    assert_eq!(c.response().await.status, 200);
}

#[tokio::test]
async fn large_writes_arrive_whole_whatever_the_framing() {
    // One write larger than the 2 KiB buffer leaves from the handler's own
    // slice (no copy): the head must still be sniffed from it, and the body
    // framed by its declared length or by chunks, after a small buffered
    // write too.
    let handler = handler_fn(|w, r| {
        Box::pin(async move {
            let mut big = b"<html>".to_vec();
            big.resize(300_000, b'z');
            match r.url.path.as_bytes() {
                b"/length" => {
                    let len = http::HeaderValue::from(big.len());
                    w.header().insert(http::header::CONTENT_LENGTH, len);
                    w.write(&big).await.unwrap();
                }
                b"/mixed" => {
                    w.write(b"<html>head").await.unwrap();
                    w.write(&big[6..]).await.unwrap();
                    w.write(b"tail").await.unwrap();
                }
                _ => {
                    w.write(&big).await.unwrap();
                }
            }
        })
    });
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = s.connect().await;
    let mut expected = b"<html>".to_vec();
    expected.resize(300_000, b'z');

    c.send(b"GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert!(r.chunked, "headers: {:?}", r.headers);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.body == expected, "chunked body differs");

    c.send(b"GET /length HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert!(!r.chunked);
    assert_eq!(r.header("content-length"), Some("300000"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.body == expected, "body with Content-Length differs");

    c.send(b"GET /mixed HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert!(r.chunked);
    let mut mixed = b"<html>head".to_vec();
    mixed.extend_from_slice(&expected[6..]);
    mixed.extend_from_slice(b"tail");
    assert!(r.body == mixed, "mixed body differs");

    // The connection is still in step.
    c.send(b"GET /chunked HTTP/1.0\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.header("content-length"), None);
    assert!(r.body == expected, "close-delimited body differs");
}
