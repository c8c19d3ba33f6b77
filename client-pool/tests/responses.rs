//! Response framings and broken responses, from a raw TCP server that
//! sends exactly the bytes each test wants; request bodies (fixed length
//! and chunked) to our own server, which echoes them.

mod common;

use bytes::Bytes;
use client_pool::{Client, Error, GotConnInfo, RequestBody, Transport, TransportConfig};
use common::{our_server, raw_server, read_request, within, write};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// A server that answers each request on a connection with the bytes
/// `respond(request_head)` returns, and closes when told to (`None`).
async fn scripted(respond: fn(&str) -> Option<&'static [u8]>) -> common::TestServer {
    raw_server(move |mut stream, _| async move {
        let mut buf = Vec::new();
        while let Some((head, _body)) = read_request(&mut stream, &mut buf).await {
            match respond(&head) {
                Some(bytes) => write(&mut stream, bytes).await,
                None => return,
            }
            if head.contains("/close-after") {
                return;
            }
        }
    })
    .await
}

fn reused(resp: &client_pool::Response) -> bool {
    resp.extensions().get::<GotConnInfo>().unwrap().reused
}

fn framings(head: &str) -> Option<&'static [u8]> {
    let path = head.split(' ').nth(1).unwrap_or("");
    Some(match path {
        "/length" => b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: t\r\n\r\n",
        "/no-content" => b"HTTP/1.1 204 No Content\r\n\r\n",
        "/not-modified" => b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        "/continue" => b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        _ if head.starts_with("HEAD") => b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    })
}

#[tokio::test]
async fn length_chunked_and_empty_responses_all_keep_the_connection() {
    let server = scripted(framings).await;
    let client = Client::new();
    let mut results = Vec::new();
    for path in [
        "/length",
        "/chunked",
        "/no-content",
        "/not-modified",
        "/continue",
        "/length",
    ] {
        let mut resp = within(path, client.get(&server.url(path))).await.unwrap();
        let text = resp.body_mut().text().await.unwrap();
        if path == "/chunked" {
            assert_eq!(resp.body().trailers().unwrap()["x-trailer"], "t");
        }
        results.push((path, resp.status().as_u16(), text));
    }
    let mut resp = within("HEAD", client.head(&server.url("/head"))).await.unwrap();
    assert_eq!(resp.headers()["content-length"], "5");
    assert!(resp.body().is_end(), "a HEAD response has no body");
    assert_eq!(resp.body_mut().text().await.unwrap(), "");
    assert!(reused(&resp));
    assert_eq!(
        results,
        [
            ("/length", 200, "hello".to_owned()),
            ("/chunked", 200, "hello".to_owned()),
            ("/no-content", 204, String::new()),
            ("/not-modified", 304, String::new()),
            ("/continue", 200, "ok".to_owned()),
            ("/length", 200, "hello".to_owned()),
        ]
    );
    assert_eq!(
        server.counts.accepted(),
        1,
        "every one of these framings allows reuse"
    );
}

#[tokio::test]
async fn close_delimited_and_connection_close_responses_are_not_reused() {
    let server = raw_server(|mut stream, n| async move {
        let mut buf = Vec::new();
        if read_request(&mut stream, &mut buf).await.is_some() {
            if n == 0 {
                write(&mut stream, b"HTTP/1.1 200 OK\r\n\r\nuntil the end").await;
            } else {
                write(
                    &mut stream,
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                )
                .await;
                // Keeps the connection open: the client must close it itself.
                let _ = read_request(&mut stream, &mut buf).await;
            }
        }
    })
    .await;
    let client = Client::new();
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    assert_eq!(resp.body_mut().text().await.unwrap(), "until the end");
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    assert!(!reused(&resp));
    assert_eq!(resp.body_mut().text().await.unwrap(), "ok");
    assert_eq!(client.transport().stats().idle, 0);
    common::eventually("the client to close", || server.counts.open() == 0).await;
}

#[tokio::test]
async fn a_malformed_response_is_a_clear_error_and_its_connection_is_discarded() {
    let server = raw_server(|mut stream, n| async move {
        let mut buf = Vec::new();
        while read_request(&mut stream, &mut buf).await.is_some() {
            match n {
                0 => write(&mut stream, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await,
                1 => write(&mut stream, b"HTTP/1.1 2OO OK\r\n\r\n").await,
                2 => {
                    write(
                        &mut stream,
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                    )
                    .await
                }
                _ => write(&mut stream, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await,
            }
        }
    })
    .await;
    let transport = Transport::default();
    let client = Client::with_transport(transport.clone());
    // Connection 0 answers well and is pooled; close it so each case dials.
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    resp.body_mut().bytes().await.unwrap();
    transport.close_idle_connections();

    let err = within("bad status", client.get(&server.url("/")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(err.to_string().starts_with("malformed HTTP response"), "{err}");

    let mut resp = within("bad chunk", client.get(&server.url("/"))).await.unwrap();
    let err = resp.body_mut().bytes().await.unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("chunk"), "{err}");

    // Neither broken connection went back to the pool.
    assert_eq!(transport.stats().idle, 0);
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    assert!(!reused(&resp));
    assert_eq!(resp.body_mut().text().await.unwrap(), "ok");
    assert_eq!(server.counts.accepted(), 4);
}

#[tokio::test]
async fn a_truncated_body_is_an_error() {
    let server = raw_server(|mut stream, _| async move {
        let mut buf = Vec::new();
        if read_request(&mut stream, &mut buf).await.is_some() {
            write(&mut stream, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").await;
        }
    })
    .await;
    let client = Client::new();
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    let err = resp.body_mut().bytes().await.unwrap_err();
    assert!(
        err.to_string().contains("closed before the message was complete"),
        "{err}"
    );
}

#[tokio::test]
async fn response_header_timeout_and_client_timeout() {
    let server = raw_server(|mut stream, _| async move {
        let mut buf = Vec::new();
        if let Some((head, _)) = read_request(&mut stream, &mut buf).await {
            if head.contains("/body-stalls") {
                write(&mut stream, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf").await;
            }
            // Then say nothing more until the client gives up.
            let _ = read_request(&mut stream, &mut buf).await;
        }
    })
    .await;
    let client = Client::with_transport(Transport::new(TransportConfig {
        response_header_timeout: Some(Duration::from_millis(100)),
        ..TransportConfig::default()
    }));
    let err = within("header timeout", client.get(&server.url("/")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ResponseHeaderTimeout(_)), "{err:?}");
    assert!(err.is_timeout());

    // The Client's timeout also covers reading the body.
    let client = Client::new().with_timeout(Duration::from_millis(200));
    let mut resp = within("GET", client.get(&server.url("/body-stalls")))
        .await
        .unwrap();
    let err = within("body", resp.body_mut().bytes()).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("reading body"), "{err}");
    let err = within("head", client.get(&server.url("/"))).await.unwrap_err();
    assert!(err.to_string().contains("Client.Timeout"), "{err}");
}

/// `bytes_limited` refuses a body over its limit: by its declared length
/// before reading any of it, and a chunked one that does not end once the
/// bytes read pass the limit.
#[tokio::test]
async fn a_body_read_with_a_limit_stops_at_the_limit() {
    let server = raw_server(|mut stream, _| async move {
        let mut buf = Vec::new();
        while let Some((head, _)) = read_request(&mut stream, &mut buf).await {
            if head.contains("/declared") {
                write(&mut stream, b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n").await;
                // The body never comes: the client must not wait for it.
            } else if head.contains("/endless") {
                write(
                    &mut stream,
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                )
                .await;
                let chunk = format!("1000\r\n{}\r\n", "x".repeat(0x1000));
                // "Endless" up to 64 MiB, or until the client hangs up.
                for _ in 0..16 * 1024 {
                    if stream.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
                return;
            } else {
                write(&mut stream, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall").await;
            }
        }
    })
    .await;
    let client = Client::new();
    let mut resp = within("GET", client.get(&server.url("/declared"))).await.unwrap();
    let err = within("declared", resp.body_mut().bytes_limited(1000))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 1000 }), "{err:?}");

    let mut resp = within("GET", client.get(&server.url("/endless"))).await.unwrap();
    let err = within("endless", resp.body_mut().bytes_limited(64 * 1024))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 65536 }), "{err:?}");

    let mut resp = within("GET", client.get(&server.url("/small"))).await.unwrap();
    let body = within("small", resp.body_mut().bytes_limited(5)).await.unwrap();
    assert_eq!(body, "small");
}

/// The header timeout counts from the end of the request, as Go's
/// `respHeaderTimer` does: a request body that takes longer than the
/// timeout to send does not use it up.
#[tokio::test]
async fn the_header_timeout_starts_once_the_request_is_written() {
    let server = raw_server(|mut stream, _| async move {
        let mut buf = Vec::new();
        if let Some((_, body)) = read_request(&mut stream, &mut buf).await {
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            write(&mut stream, answer.as_bytes()).await;
            write(&mut stream, &body).await;
        }
    })
    .await;
    let client = Client::with_transport(Transport::new(TransportConfig {
        response_header_timeout: Some(Duration::from_millis(100)),
        ..TransportConfig::default()
    }));
    let (mut sender, body) = RequestBody::channel(Some(9));
    tokio::spawn(async move {
        for piece in ["abc", "def", "ghi"] {
            // Three pauses of 100 ms: the body takes 300 ms, three times
            // the header timeout.
            tokio::time::sleep(Duration::from_millis(100)).await;
            if sender.send(Bytes::from(piece)).await.is_err() {
                return;
            }
        }
    });
    let mut resp = within("POST", client.post(&server.url("/slow-body"), "text/plain", body))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(within("body", resp.body_mut().text()).await.unwrap(), "abcdefghi");
}

fn echo() -> impl server::Handler {
    server::handler_fn(|w, r| {
        Box::pin(async move {
            let framing = if r.headers.contains_key("transfer-encoding") {
                "chunked".to_owned()
            } else {
                format!(
                    "length={}",
                    r.headers
                        .get("content-length")
                        .map_or("none", |v| v.to_str().unwrap())
                )
            };
            let body = r.body.read_all(1 << 20).await.unwrap_or_default();
            let _ = w
                .write(format!("{} {framing} {}", r.method, body.len()).as_bytes())
                .await;
            let _ = w.write(&body).await;
        })
    })
}

#[tokio::test]
async fn request_bodies_fixed_length_and_streamed_chunked() {
    let server = our_server(echo()).await;
    let client = Client::new();
    let mut resp = within("post", client.post(&server.url("/"), "text/plain", "abc"))
        .await
        .unwrap();
    assert_eq!(resp.body_mut().text().await.unwrap(), "POST length=3 3abc");

    let mut resp = within("empty post", client.post(&server.url("/"), "text/plain", ""))
        .await
        .unwrap();
    assert_eq!(resp.body_mut().text().await.unwrap(), "POST length=0 0");

    // A streamed body of unknown length goes chunked, while it is produced.
    let (mut sender, body) = RequestBody::channel(None);
    let req = http::Request::put(server.url("/")).body(body).unwrap();
    let producer = tokio::spawn(async move {
        for piece in ["one ", "two ", "three"] {
            sender.send(Bytes::from_static(piece.as_bytes())).await.unwrap();
        }
    });
    let mut resp = within("put", client.send(req)).await.unwrap();
    producer.await.unwrap();
    assert_eq!(
        resp.body_mut().text().await.unwrap(),
        "PUT chunked 13one two three"
    );

    // A streamed body of declared length is sent as is...
    let (mut sender, body) = RequestBody::channel(Some(200_000));
    let req = http::Request::post(server.url("/")).body(body).unwrap();
    tokio::spawn(async move {
        for _ in 0..4 {
            sender.send(Bytes::from(vec![b'z'; 50_000])).await.unwrap();
        }
    });
    let mut resp = within("post", client.send(req)).await.unwrap();
    let text = resp.body_mut().text().await.unwrap();
    assert!(
        text.starts_with("POST length=200000 200000zzz"),
        "{}",
        &text[..40]
    );
    assert_eq!(server.counts.accepted(), 1, "all on one connection");

    // ...and one that ends short is refused, and its connection closed.
    let (mut sender, body) = RequestBody::channel(Some(10));
    let req = http::Request::post(server.url("/")).body(body).unwrap();
    tokio::spawn(async move {
        sender.send(Bytes::from_static(b"short")).await.unwrap();
    });
    let err = within("short body", client.send(req)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyLength {
                declared: 10,
                actual: 5
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_response_head_over_the_limit_is_refused() {
    let server = raw_server(|mut stream, _| async move {
        let mut buf = Vec::new();
        if read_request(&mut stream, &mut buf).await.is_some() {
            let huge = format!(
                "HTTP/1.1 200 OK\r\nX-Big: {}\r\nContent-Length: 0\r\n\r\n",
                "a".repeat(8192)
            );
            write(&mut stream, huge.as_bytes()).await;
        }
    })
    .await;
    let client = Client::with_transport(Transport::new(TransportConfig {
        max_response_header_bytes: 4096,
        ..TransportConfig::default()
    }));
    let err = within("GET", client.get(&server.url("/"))).await.unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("too large"), "{err}");
}

/// A response head of `fields` fields of `value_len` bytes each.
fn head_of(fields: usize, value_len: usize) -> Vec<u8> {
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".to_vec();
    let value = "v".repeat(value_len);
    for i in 0..fields {
        head.extend_from_slice(format!("X-Big-{i:03}: {value}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\nok");
    head
}

/// Go's default limit on a response head is 10 MiB, and so is ours: a
/// 2 MiB head is read, an 11 MiB one refused.
#[tokio::test]
async fn the_default_head_limit_is_gos_10_mib() {
    let server = raw_server(|mut stream, _| async move {
        let mut buf = Vec::new();
        while let Some((head, _)) = read_request(&mut stream, &mut buf).await {
            let mib = if head.contains("/eleven") { 11 } else { 2 };
            // 200 fields, each a little over mib * 1 MiB / 200.
            write(&mut stream, &head_of(200, mib * 5300)).await;
        }
    })
    .await;
    assert_eq!(TransportConfig::default().max_response_header_bytes, 10 << 20);
    let client = Client::new();
    let mut resp = within("GET", client.get(&server.url("/two"))).await.unwrap();
    assert_eq!(resp.headers().len(), 201);
    assert_eq!(within("body", resp.body_mut().text()).await.unwrap(), "ok");

    let err = within("GET", client.get(&server.url("/eleven")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
}
