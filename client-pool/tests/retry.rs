//! Stale pooled connections: the server closed them while they sat idle.
//! Idempotent requests are retried once on a new connection, invisibly;
//! a POST gets the error (Go: `shouldRetryRequest`). A connection the
//! server closed before we took it from the pool is noticed and skipped.

mod common;

use client_pool::{Client, Error, GotConnInfo, RequestBody};
use common::{eventually, raw_server, read_request, within, write};
use std::sync::Arc;
use tokio::sync::Notify;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// Answers the first request on each connection (keep-alive, no
/// `Connection: close`), then closes the connection as soon as the next
/// request arrives, without answering: the race Go's retry exists for.
async fn closes_idle_conns_server() -> common::TestServer {
    raw_server(|mut stream, _| async move {
        let mut buf = Vec::new();
        if read_request(&mut stream, &mut buf).await.is_some() {
            write(&mut stream, OK).await;
            let _ = read_request(&mut stream, &mut buf).await;
        }
    })
    .await
}

#[tokio::test]
async fn gets_on_stale_connections_are_retried_invisibly() {
    let server = closes_idle_conns_server().await;
    let client = Client::new();
    for i in 0..5 {
        let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
        assert_eq!(resp.body_mut().text().await.unwrap(), "ok", "request {i}");
        let info = resp.extensions().get::<GotConnInfo>().unwrap();
        assert!(!info.reused, "served on the fresh connection of the retry");
    }
    // One connection per request: each reuse failed and was retried.
    assert_eq!(server.counts.accepted(), 5);
    assert_eq!(client.transport().stats().dials, 5);
}

#[tokio::test]
async fn a_post_on_a_stale_connection_gets_the_error() {
    let server = closes_idle_conns_server().await;
    let client = Client::new();
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    resp.body_mut().bytes().await.unwrap();
    let err = within("POST", client.post(&server.url("/"), "text/plain", "data"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ServerClosedIdle), "{err:?}");
    assert_eq!(err.to_string(), "http: server closed idle connection");
    assert_eq!(server.counts.accepted(), 1, "the POST was not retried");

    // With an Idempotency-Key the POST is replayable and retried.
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    resp.body_mut().bytes().await.unwrap();
    let req = http::Request::post(server.url("/"))
        .header("Idempotency-Key", "abc")
        .body(RequestBody::from("data"))
        .unwrap();
    let mut resp = within("POST", client.send(req)).await.unwrap();
    assert_eq!(resp.body_mut().text().await.unwrap(), "ok");
}

#[tokio::test]
async fn a_connection_closed_while_idle_is_noticed_and_skipped() {
    let closed = Arc::new(Notify::new());
    let signal = closed.clone();
    let server = raw_server(move |mut stream, _| {
        let signal = signal.clone();
        async move {
            let mut buf = Vec::new();
            if read_request(&mut stream, &mut buf).await.is_some() {
                write(&mut stream, OK).await;
                drop(stream); // closes it, without a word, once answered
                signal.notify_one();
            }
        }
    })
    .await;
    let client = Client::new();
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    resp.body_mut().bytes().await.unwrap();
    assert_eq!(client.transport().stats().idle, 1);
    within("server close", closed.notified()).await;
    eventually("the FIN to arrive", || server.counts.open() == 0).await;
    // Even a POST succeeds: the dead connection is seen before it is used.
    let mut resp = within("POST", client.post(&server.url("/"), "text/plain", "x"))
        .await
        .unwrap();
    assert_eq!(resp.body_mut().text().await.unwrap(), "ok");
    assert!(!resp.extensions().get::<GotConnInfo>().unwrap().reused);
    assert_eq!(server.counts.accepted(), 2);
}

#[tokio::test]
async fn dropping_the_request_future_closes_its_connection() {
    let server = raw_server(|mut stream, _| async move {
        let mut buf = Vec::new();
        if read_request(&mut stream, &mut buf).await.is_some() {
            // Never answer; wait for the client to go away (EOF).
            let _ = read_request(&mut stream, &mut buf).await;
        }
    })
    .await;
    let client = Client::new();
    let gave_up =
        tokio::time::timeout(std::time::Duration::from_millis(50), client.get(&server.url("/"))).await;
    assert!(gave_up.is_err());
    eventually("the server to see the connection closed", || {
        server.counts.accepted() == 1 && server.counts.open() == 0
    })
    .await;
    assert_eq!(client.transport().stats().idle, 0);
}
