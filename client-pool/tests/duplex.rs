//! Full duplex, and a client that leaves: the Transport keeps writing a
//! request body after the response head arrived (Go: `persistConn`'s
//! `writeLoop` beside `readLoop`), gives the connection back only once
//! both the body is written and the response read, and the ReverseProxy
//! cancels the upstream request when its client goes away before the
//! upstream answered (Go: the request context, cancelled by the server's
//! background read).
//!
//! The upstreams here are raw sockets, so that they can do what our own
//! server would not: answer at once and echo the body as it comes, or
//! never answer at all.

use bytes::{Bytes, BytesMut};
use client_pool::reverse_proxy::ReverseProxy;
use client_pool::{BodySender, Error, GotConnInfo, RequestBody, Transport, TransportConfig};
use server::wire::{self, BodyDecoder, Decoded, Limits, RequestHead};
use server::{Config, Server};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Every wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(10);
const MIB: usize = 1 << 20;
const PIECE: usize = 16 * 1024;

/// A recognisable 1 MiB: byte i is i mod 251.
fn payload() -> Vec<u8> {
    (0..MIB).map(|i| (i % 251) as u8).collect()
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Reads one request head off a raw connection; `None` when it closed.
async fn read_request_head(conn: &mut TcpStream, buf: &mut BytesMut) -> Option<RequestHead> {
    loop {
        if let Some(head) = wire::parse_request_head(buf, &Limits::default()).unwrap() {
            return Some(head);
        }
        if conn.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    }
}

/// The next piece of a request body; `None` at its end.
async fn next_piece(conn: &mut TcpStream, buf: &mut BytesMut, decoder: &mut BodyDecoder) -> Option<Bytes> {
    loop {
        match decoder.decode(buf).unwrap() {
            Decoded::Data(data) => return Some(data),
            Decoded::End => return None,
            Decoded::NeedMore => {}
        }
        assert!(conn.read_buf(buf).await.unwrap() > 0, "request body cut short");
    }
}

/// How the raw upstream answers a request with a body.
#[derive(Clone, Copy)]
enum Style {
    /// The head at once, then each piece of the body back as a chunk as
    /// soon as it is read.
    Echo,
    /// The head at once, the whole body read, then `got N` as the body.
    CountThenAnswer,
    /// A whole response (`ok`) at once, then the body read to its end.
    AnswerThenRead,
}

/// A keep-alive raw upstream answering every request in `style`
/// (requests without a body get `ok`). Reports each accepted connection.
async fn raw_upstream(style: Style) -> (SocketAddr, mpsc::UnboundedReceiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (accepted_tx, accepted_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let _ = accepted_tx.send(());
            tokio::spawn(async move {
                let mut buf = BytesMut::new();
                while let Some(head) = read_request_head(&mut conn, &mut buf).await {
                    let mut decoder = BodyDecoder::new(wire::request_framing(&head).unwrap());
                    if decoder.is_done() {
                        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            .await
                            .unwrap();
                        continue;
                    }
                    match style {
                        Style::Echo => {
                            conn.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                                .await
                                .unwrap();
                            while let Some(piece) = next_piece(&mut conn, &mut buf, &mut decoder).await {
                                let mut framed = Vec::new();
                                wire::encode_chunk(&mut framed, &piece);
                                conn.write_all(&framed).await.unwrap();
                            }
                            conn.write_all(b"0\r\n\r\n").await.unwrap();
                        }
                        Style::CountThenAnswer => {
                            conn.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                                .await
                                .unwrap();
                            let mut total = 0;
                            while let Some(piece) = next_piece(&mut conn, &mut buf, &mut decoder).await {
                                total += piece.len();
                            }
                            let mut framed = Vec::new();
                            wire::encode_chunk(&mut framed, format!("got {total}").as_bytes());
                            framed.extend_from_slice(b"0\r\n\r\n");
                            conn.write_all(&framed).await.unwrap();
                        }
                        Style::AnswerThenRead => {
                            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                                .await
                                .unwrap();
                            while next_piece(&mut conn, &mut buf, &mut decoder).await.is_some() {}
                        }
                    }
                }
            });
        }
    });
    (addr, accepted_rx)
}

/// Feeds `data` into `sender` in 16 KiB pieces, then ends the body.
async fn feed(mut sender: BodySender, data: Vec<u8>) {
    let data = Bytes::from(data);
    for start in (0..data.len()).step_by(PIECE) {
        sender
            .send(data.slice(start..(start + PIECE).min(data.len())))
            .await
            .expect("the request still takes its body");
    }
}

fn post(addr: SocketAddr, body: RequestBody) -> http::Request<RequestBody> {
    http::Request::post(format!("http://{addr}/echo"))
        .body(body)
        .unwrap()
}

/// A plain `GET /` after an exchange, read to its end ("ok"); the caller
/// checks which connection served it.
async fn get_ok(transport: &Transport, upstream: SocketAddr) -> client_pool::Response {
    let get = http::Request::get(format!("http://{upstream}/"))
        .body(RequestBody::empty())
        .unwrap();
    let mut resp = within("the next request", transport.round_trip(get))
        .await
        .unwrap();
    assert_eq!(within("its body", resp.body_mut().text()).await.unwrap(), "ok");
    resp
}

fn reused(resp: &client_pool::Response) -> bool {
    resp.extensions().get::<GotConnInfo>().unwrap().reused
}

#[tokio::test]
async fn transport_echoes_a_streamed_mebibyte_with_an_upstream_that_answers_as_it_reads() {
    for length in [None, Some(MIB as u64)] {
        let (upstream, _) = raw_upstream(Style::Echo).await;
        let transport = Transport::new(TransportConfig::default());
        let (sender, body) = RequestBody::channel(length);
        let feeding = tokio::spawn(feed(sender, payload()));
        let mut resp = within("the response head", transport.round_trip(post(upstream, body)))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let echoed = within("the whole echo", resp.body_mut().bytes()).await.unwrap();
        assert!(
            echoed == payload(),
            "{length:?}: the echo differs ({} bytes)",
            echoed.len()
        );
        within("the feeder", feeding).await.unwrap();

        // Both sides ended cleanly: the connection serves the next request.
        let again = get_ok(&transport, upstream).await;
        assert!(reused(&again), "{length:?}: the echo's connection was reused");
        assert_eq!(transport.stats().dials, 1);
    }
}

#[tokio::test]
async fn the_body_keeps_going_while_nobody_reads_the_response() {
    // The head is back; the caller then sends the whole body before it
    // reads a byte of the response. Only a writer of its own (Go's
    // writeLoop) gets the body out.
    let (upstream, _) = raw_upstream(Style::CountThenAnswer).await;
    let transport = Transport::new(TransportConfig::default());
    let (sender, body) = RequestBody::channel(None);
    let mut resp = within("the response head", transport.round_trip(post(upstream, body)))
        .await
        .unwrap();
    within(
        "sending the body with the response unread",
        feed(sender, payload()),
    )
    .await;
    let text = within("the answer", resp.body_mut().text()).await.unwrap();
    assert_eq!(text, format!("got {MIB}"));
}

#[tokio::test]
async fn a_connection_whose_body_is_still_going_out_returns_to_the_pool_only_after() {
    let (upstream, _) = raw_upstream(Style::AnswerThenRead).await;
    let transport = Transport::new(TransportConfig::default());
    let (mut sender, body) = RequestBody::channel(None);
    sender.send(Bytes::from_static(b"first piece")).await.unwrap();
    let mut resp = within("the response", transport.round_trip(post(upstream, body)))
        .await
        .unwrap();
    assert_eq!(within("its body", resp.body_mut().text()).await.unwrap(), "ok");
    // The response is read, but the request body is not finished: the
    // connection must not be handed to anyone yet.
    assert_eq!(transport.stats().idle, 0, "a half-written connection went idle");
    within("the rest of the body", feed(sender, payload())).await;
    // Now the writer gives it back.
    within("the connection going idle", async {
        while transport.stats().idle == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let again = get_ok(&transport, upstream).await;
    assert!(reused(&again));
    assert_eq!(transport.stats().dials, 1);
}

#[tokio::test]
async fn a_body_that_fails_after_the_head_fails_the_response_and_closes_the_connection() {
    let (upstream, mut accepted) = raw_upstream(Style::Echo).await;
    let transport = Transport::new(TransportConfig::default());
    // Declared 1 MiB, but only 64 KiB come before the sender is dropped.
    let (sender, body) = RequestBody::channel(Some(MIB as u64));
    let mut resp = within("the response head", transport.round_trip(post(upstream, body)))
        .await
        .unwrap();
    within("the short body", feed(sender, payload()[..4 * PIECE].to_vec())).await;
    let read = within("the response body", resp.body_mut().bytes()).await;
    assert!(
        matches!(read, Err(Error::BodyLength { declared, actual }) if declared == MIB as u64 && actual == 4 * PIECE as u64),
        "the body's own error is reported: {read:?}"
    );
    let again = get_ok(&transport, upstream).await;
    assert!(!reused(&again), "the broken connection was not reused");
    within("two connections", async {
        accepted.recv().await;
        accepted.recv().await;
    })
    .await;
}

#[tokio::test]
async fn dropping_the_response_stops_the_body_and_closes_the_connection() {
    let (upstream, _) = raw_upstream(Style::Echo).await;
    let transport = Transport::new(TransportConfig::default());
    let (mut sender, body) = RequestBody::channel(None);
    let resp = within("the response head", transport.round_trip(post(upstream, body)))
        .await
        .unwrap();
    drop(resp);
    // The writer is gone with the response: the sender soon fails.
    let failed = within("the sender noticing", async {
        loop {
            if sender.send(Bytes::from_static(b"more")).await.is_err() {
                return true;
            }
        }
    })
    .await;
    assert!(failed);
    assert_eq!(transport.stats().idle, 0);
}

async fn start_proxy(upstream: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let proxy = ReverseProxy::new(format!("http://{upstream}").parse().unwrap());
    let server = Server::new(Config::default(), proxy);
    tokio::spawn(async move { server.serve(listener).await });
    addr
}

#[tokio::test]
async fn the_proxy_streams_a_mebibyte_through_an_upstream_that_echoes_as_it_reads() {
    let heads = [
        format!("POST /echo HTTP/1.1\r\nHost: p\r\nContent-Length: {MIB}\r\n\r\n"),
        "POST /echo HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n".to_owned(),
    ];
    for head in heads {
        let chunked = head.contains("chunked");
        let (upstream, _) = raw_upstream(Style::Echo).await;
        let proxy = start_proxy(upstream).await;
        let conn = TcpStream::connect(proxy).await.unwrap();
        let (mut reader, mut writer) = conn.into_split();
        // The client sends while it reads, as a real streaming client would.
        let sending = tokio::spawn(async move {
            writer.write_all(head.as_bytes()).await.unwrap();
            for piece in payload().chunks(PIECE) {
                if chunked {
                    let mut framed = Vec::new();
                    wire::encode_chunk(&mut framed, piece);
                    writer.write_all(&framed).await.unwrap();
                } else {
                    writer.write_all(piece).await.unwrap();
                }
            }
            if chunked {
                writer.write_all(b"0\r\n\r\n").await.unwrap();
            }
            writer
        });
        let mut buf = BytesMut::new();
        let response = loop {
            if let Some(head) = wire::parse_response_head(&mut buf, &Limits::default()).unwrap() {
                break head;
            }
            assert!(
                within("the proxied head", reader.read_buf(&mut buf))
                    .await
                    .unwrap()
                    > 0
            );
        };
        assert_eq!(response.status, 200);
        let mut decoder = BodyDecoder::new(wire::response_framing(&http::Method::POST, &response).unwrap());
        let mut echoed = Vec::new();
        loop {
            match decoder.decode(&mut buf).unwrap() {
                Decoded::Data(data) => echoed.extend_from_slice(&data),
                Decoded::End => break,
                Decoded::NeedMore => {
                    let n = within("the proxied echo", reader.read_buf(&mut buf))
                        .await
                        .unwrap();
                    assert!(n > 0, "the proxy closed after {} bytes", echoed.len());
                }
            }
        }
        assert!(
            echoed == payload(),
            "chunked={chunked}: the echo differs ({} bytes)",
            echoed.len()
        );
        within("the sender", sending).await.unwrap();
    }
}

/// An upstream that reads one request head and never answers; it reports
/// when the request came, then when its connection was closed.
async fn silent_upstream() -> (SocketAddr, mpsc::UnboundedReceiver<&'static str>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = BytesMut::new();
                if read_request_head(&mut conn, &mut buf).await.is_none() {
                    return;
                }
                let _ = tx.send("request");
                // Read (and ignore) whatever else comes, until the close.
                let mut sink = [0u8; 4096];
                while matches!(conn.read(&mut sink).await, Ok(n) if n > 0) {}
                let _ = tx.send("closed");
            });
        }
    });
    (addr, rx)
}

#[tokio::test]
async fn a_client_gone_before_the_upstream_answered_cancels_the_upstream_request() {
    let requests = [
        "GET /never HTTP/1.1\r\nHost: p\r\n\r\n",
        "POST /never HTTP/1.1\r\nHost: p\r\nContent-Length: 5\r\n\r\nhello",
        "POST /never HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ];
    for request in requests {
        let (upstream, mut events) = silent_upstream().await;
        let proxy = start_proxy(upstream).await;
        let mut client = TcpStream::connect(proxy).await.unwrap();
        client.write_all(request.as_bytes()).await.unwrap();
        assert_eq!(
            within("the request upstream", events.recv()).await,
            Some("request")
        );
        drop(client);
        assert_eq!(
            within("the upstream connection closing", events.recv()).await,
            Some("closed"),
            "{request:?}"
        );
    }
}

#[tokio::test]
async fn a_client_that_stays_keeps_its_upstream_request() {
    // The counterpart: the proxy must not cancel while the client waits.
    let (upstream, mut events) = silent_upstream().await;
    let proxy = start_proxy(upstream).await;
    let mut client = TcpStream::connect(proxy).await.unwrap();
    client
        .write_all(b"GET /never HTTP/1.1\r\nHost: p\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        within("the request upstream", events.recv()).await,
        Some("request")
    );
    let nothing = tokio::time::timeout(Duration::from_millis(200), events.recv()).await;
    assert!(
        nothing.is_err(),
        "the upstream request was cancelled: {nothing:?}"
    );
    drop(client);
    assert_eq!(
        within("the upstream connection closing", events.recv()).await,
        Some("closed")
    );
}
