//! `Request::client_gone`: a handler learns that its client went away
//! (Go: the request context cancelled by `connReader.backgroundRead`, server.go:677).
//! It fires on end-of-file after the body was read, and never for a
//! client that is still there or that already sent its next request,
//! whose bytes must not be lost.

mod runtime_support;

use runtime_support::{RawConn, TestServer};
use server::{handler_fn, Config, Handler};
use std::time::Duration;
use tokio::sync::mpsc;

/// Bound on every wait: generous, only reached when something is broken.
const WAIT: Duration = Duration::from_secs(5);

/// A handler that reads the body, then reports whether `client_gone`
/// fired before `patience` passed, and answers with what it saw.
fn watcher(patience: Duration, report: mpsc::UnboundedSender<&'static str>) -> impl Handler {
    handler_fn(move |w, r| {
        let report = report.clone();
        Box::pin(async move {
            let body = r.body.read_all(1 << 20).await.unwrap_or_default();
            let seen = tokio::select! {
                () = r.client_gone() => "gone",
                () = tokio::time::sleep(patience) => "present",
            };
            let _ = report.send(seen);
            let _ = w.write(format!("{seen} {}", body.len()).as_bytes()).await;
        })
    })
}

async fn next_report(rx: &mut mpsc::UnboundedReceiver<&'static str>) -> &'static str {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("the handler reported in time")
        .expect("the handler reported")
}

#[tokio::test]
async fn a_client_that_closes_while_the_handler_waits_is_seen_gone() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let s = TestServer::start(Config::default(), watcher(WAIT * 4, tx)).await;
    let mut c = s.connect().await;
    c.send(b"GET /wait HTTP/1.1\r\nHost: t\r\n\r\n").await;
    drop(c);
    assert_eq!(next_report(&mut rx).await, "gone");
}

#[tokio::test]
async fn a_client_that_closes_after_sending_a_body_is_seen_gone() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let s = TestServer::start(Config::default(), watcher(WAIT * 4, tx)).await;
    let mut c = s.connect().await;
    c.send(b"POST /wait HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        .await;
    drop(c);
    assert_eq!(next_report(&mut rx).await, "gone");
}

#[tokio::test]
async fn a_client_still_waiting_is_not_gone() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let s = TestServer::start(Config::default(), watcher(Duration::from_millis(100), tx)).await;
    let mut c = s.connect().await;
    c.send(b"POST /wait HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        .await;
    assert_eq!(next_report(&mut rx).await, "present");
    assert_eq!(c.response().await.text(), "present 3");
    // The connection is still good for another request.
    c.send(b"GET /again HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.text(), "present 0");
}

#[tokio::test]
async fn a_pipelined_request_is_not_taken_for_a_departure_and_is_not_lost() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let s = TestServer::start(Config::default(), watcher(Duration::from_millis(100), tx)).await;
    let mut c = s.connect().await;
    // The second request arrives while the first handler watches; the
    // client then half-closes, which only the second handler may notice.
    c.send(b"GET /one HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(next_report(&mut rx).await, "present");
    assert_eq!(c.response().await.text(), "present 0");
    c.send(b"GET /two HTTP/1.1\r\nHost: t\r\n\r\nGET /three HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    assert_eq!(next_report(&mut rx).await, "present");
    assert_eq!(c.response().await.text(), "present 0");
    assert_eq!(next_report(&mut rx).await, "present");
    assert_eq!(c.response().await.text(), "present 0");
}

#[tokio::test]
async fn bytes_that_arrive_while_the_handler_watches_are_not_a_departure_and_are_not_lost() {
    // The next request comes while the handler is already watching: the
    // bytes wake the watch, which must keep waiting and leave them for
    // the next request.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handler = handler_fn(move |w, r| {
        let tx = tx.clone();
        Box::pin(async move {
            let _ = tx.send("watching");
            let seen = tokio::select! {
                () = r.client_gone() => "gone",
                () = tokio::time::sleep(Duration::from_millis(300)) => "present",
            };
            let _ = tx.send(seen);
            let _ = w.write(format!("{seen} {}", r.target).as_bytes()).await;
        })
    });
    let s = TestServer::start(Config::default(), handler).await;
    let mut c = RawConn::connect(s.addr).await;
    c.send(b"GET /one HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(next_report(&mut rx).await, "watching");
    c.send(b"GET /two HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(next_report(&mut rx).await, "present");
    assert_eq!(c.response().await.text(), "present /one");
    assert_eq!(next_report(&mut rx).await, "watching");
    assert_eq!(next_report(&mut rx).await, "present");
    assert_eq!(c.response().await.text(), "present /two");
}
