//! Go's `Server` timeouts over real sockets: `read_header_timeout`
//! (a client trickling its head is disconnected), `read_timeout` (a body
//! that stalls), `write_timeout` (a client that never reads), and
//! `idle_timeout` (a kept-alive connection left silent). Nothing here
//! asserts a duration: only that the server gives up, within a bound.

mod runtime_support;

use runtime_support::{StateLog, TestServer, WAIT};
use server::{Config, ConnState};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_client_trickling_its_head_is_disconnected() {
    let config = Config {
        read_header_timeout: Some(Duration::from_millis(200)),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let mut c = s.connect().await;
    let head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    // One byte every 25 ms: the head would take over a second.
    let mut disconnected_at = None;
    for (i, byte) in head.iter().enumerate() {
        if c.stream.write_all(&[*byte]).await.is_err() {
            disconnected_at = Some(i);
            break;
        }
        let mut probe = [0u8; 64];
        if let Ok(read) = tokio::time::timeout(Duration::from_millis(25), c.stream.read(&mut probe)).await {
            assert!(matches!(read, Ok(0) | Err(_)), "the server must answer nothing");
            disconnected_at = Some(i);
            break;
        }
    }
    let at = disconnected_at.expect("the trickling client was never disconnected");
    assert!(at < head.len() - 1, "disconnected only after the whole head");
    s.assert_still_serving().await;
}

#[tokio::test]
async fn a_silent_new_connection_is_closed_by_the_header_timeout() {
    let config = Config {
        read_header_timeout: Some(Duration::from_millis(100)),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let mut c = s.connect().await;
    c.assert_closed().await;
}

#[tokio::test]
async fn a_stalled_body_hits_the_read_timeout() {
    let config = Config {
        read_timeout: Some(Duration::from_millis(200)),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let mut c = s.connect().await;
    // Half the body, then silence.
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhalf")
        .await;
    let r = c.response().await;
    assert_eq!(r.status, 400, "the handler's read failed: {}", r.text());
    assert!(r.text().contains("timed out"), "{}", r.text());
    c.assert_closed().await;
    s.assert_still_serving().await;
}

#[tokio::test]
async fn a_client_that_never_reads_hits_the_write_timeout() {
    let log = StateLog::default();
    let config = Config {
        write_timeout: Some(Duration::from_millis(200)),
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let c = s.connect().await;
    let mut c = c;
    // 64 MiB will not fit in the socket buffers of a client that never reads.
    c.send(b"GET /big/67108864 HTTP/1.1\r\nHost: t\r\n\r\n").await;
    log.wait_until(|events| events.iter().any(|(_, state)| *state == ConnState::Closed))
        .await;
    drop(c);
    s.assert_still_serving().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_by_the_idle_timeout() {
    let config = Config {
        idle_timeout: Some(Duration::from_millis(100)),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.status, 200);
    // Say nothing more: the server closes the connection.
    tokio::time::timeout(WAIT, c.assert_closed()).await.unwrap();
}

#[tokio::test]
async fn an_active_handler_is_not_cut_by_the_idle_timeout() {
    let config = Config {
        idle_timeout: Some(Duration::from_millis(50)),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let mut c = s.connect().await;
    c.send(b"GET /slow/300 HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.body, b"slept");
}
