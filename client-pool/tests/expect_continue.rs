//! `Expect: 100-continue` (Go: `ExpectContinueTimeout` and `continueCh`
//! in `persistConn.roundTrip`): the request head goes out alone; the body
//! follows a `100 Continue`, or the end of the wait when the server says
//! nothing; a final answer that comes first means the body is never sent.
//! Raw servers on 127.0.0.1 record exactly which bytes arrived when.

mod common;

use client_pool::{Client, GotConnInfo, RequestBody, Transport, TransportConfig};
use common::{raw_server, within, write};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

fn client(wait: Duration) -> Client {
    Client::with_transport(Transport::new(TransportConfig {
        expect_continue_timeout: wait,
        ..TransportConfig::default()
    }))
}

/// A POST of `body` asking for approval first.
fn post_expecting(url: &str, body: &'static str) -> client_pool::Request {
    http::Request::post(url)
        .header("expect", "100-continue")
        .body(RequestBody::from(body))
        .unwrap()
}

/// Reads a request head; bytes after it stay in `buf`. `None` at EOF.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return Some(head);
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
}

/// Reads until `buf` holds `n` bytes; false at EOF.
async fn read_exactly(stream: &mut TcpStream, buf: &mut Vec<u8>, n: usize) -> bool {
    while buf.len() < n {
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(k) if k > 0 => buf.extend_from_slice(&chunk[..k]),
            _ => return false,
        }
    }
    true
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_server_that_answers_100_continue_gets_the_body() {
    // What arrived with each head before the 100 was sent, per request.
    let early: Arc<Mutex<Vec<usize>>> = Arc::default();
    let log = early.clone();
    let server = raw_server(move |mut stream, _| {
        let log = log.clone();
        async move {
            let mut buf = Vec::new();
            while let Some(head) = read_head(&mut stream, &mut buf).await {
                assert!(
                    head.to_ascii_lowercase().contains("\r\nexpect: 100-continue"),
                    "{head}"
                );
                log.lock().unwrap().push(buf.len());
                write(&mut stream, b"HTTP/1.1 100 Continue\r\n\r\n").await;
                let n = content_length(&head);
                if !read_exactly(&mut stream, &mut buf, n).await {
                    return;
                }
                let body: Vec<u8> = buf.drain(..n).collect();
                let text = format!("got {}", String::from_utf8_lossy(&body));
                let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{text}", text.len());
                write(&mut stream, answer.as_bytes()).await;
            }
        }
    })
    .await;
    let client = client(Duration::from_secs(60));
    for (i, body) in ["hello", "again"].into_iter().enumerate() {
        let req = post_expecting(&server.url("/upload"), body);
        let mut resp = within("POST", client.send(req)).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.body_mut().text().await.unwrap(), format!("got {body}"));
        let info = resp.extensions().get::<GotConnInfo>().cloned().unwrap();
        assert_eq!(
            info.reused,
            i == 1,
            "an approved body keeps the connection usable"
        );
    }
    assert_eq!(*early.lock().unwrap(), [0, 0], "no body byte before the 100");
}

#[tokio::test]
async fn a_final_answer_first_means_the_body_is_never_sent() {
    let (report, mut reports) = mpsc::unbounded_channel::<(String, usize)>();
    let server = raw_server(move |mut stream, _| {
        let report = report.clone();
        async move {
            let mut buf = Vec::new();
            let Some(head) = read_head(&mut stream, &mut buf).await else {
                return;
            };
            // Refused, keep-alive: nothing asks the client to close.
            write(
                &mut stream,
                b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n",
            )
            .await;
            // Everything the client sends from now on, until it closes.
            let mut rest = buf.len();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stream.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                rest += n;
            }
            let _ = report.send((head, rest));
        }
    })
    .await;
    let client = client(Duration::from_secs(60));
    let req = post_expecting(&server.url("/upload"), "a body the server refused");
    let mut resp = within("POST", client.send(req)).await.unwrap();
    assert_eq!(resp.status(), 417);
    assert_eq!(resp.body_mut().text().await.unwrap(), "");
    let (head, bytes_after_head) = within("the server's report", reports.recv()).await.unwrap();
    assert_eq!(content_length(&head), 25, "{head}");
    assert_eq!(bytes_after_head, 0, "the server saw body bytes");
    // The connection was closed, not pooled: the server still expected 25 bytes.
    assert_eq!(client.transport().stats().idle, 0);
    assert_eq!(server.counts.accepted(), 1);
}

/// A server that does not know the expectation says nothing and waits for
/// the body; after `expect_continue_timeout` the client sends it anyway.
/// With a zero timeout it is sent at once, with the head.
#[tokio::test]
async fn a_silent_server_gets_the_body_after_the_wait() {
    for wait in [Duration::from_millis(50), Duration::ZERO] {
        let server = raw_server(|mut stream, _| async move {
            let mut buf = Vec::new();
            let Some(head) = read_head(&mut stream, &mut buf).await else {
                return;
            };
            let n = content_length(&head);
            if !read_exactly(&mut stream, &mut buf, n).await {
                return;
            }
            let text = format!("got {}", String::from_utf8_lossy(&buf[..n]));
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{text}", text.len());
            write(&mut stream, answer.as_bytes()).await;
        })
        .await;
        let req = post_expecting(&server.url("/upload"), "late but whole");
        let mut resp = within("POST", client(wait).send(req)).await.unwrap();
        assert_eq!(resp.status(), 200, "wait {wait:?}");
        assert_eq!(resp.body_mut().text().await.unwrap(), "got late but whole");
    }
}

/// Our own server answers `100 Continue` when the handler starts reading
/// the body, and refuses without reading it: the first gets the body, the
/// second never sends it, and neither leaves a connection out of step.
#[tokio::test]
async fn against_our_server_approved_and_refused_bodies() {
    let server = common::our_server(server::handler_fn(|w, r| {
        Box::pin(async move {
            if r.target == "/refuse" {
                w.write_header(http::StatusCode::FORBIDDEN);
                return;
            }
            let body = r.body.read_all(1 << 20).await.unwrap_or_default();
            let _ = w.write(&body).await;
        })
    }))
    .await;
    let client = client(Duration::from_secs(60));
    let mut resp = within(
        "POST approved",
        client.send(post_expecting(&server.url("/echo"), "echo me")),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.body_mut().text().await.unwrap(), "echo me");
    let mut resp = within(
        "POST refused",
        client.send(post_expecting(&server.url("/refuse"), "unwanted")),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.body_mut().text().await.unwrap(), "");
    let mut resp = within(
        "POST after",
        client.send(post_expecting(&server.url("/echo"), "still fine")),
    )
    .await
    .unwrap();
    assert_eq!(resp.body_mut().text().await.unwrap(), "still fine");
}
