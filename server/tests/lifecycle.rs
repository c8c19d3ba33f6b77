//! A server's life: connection states in order (Go: `ConnState`, server.go:2870), graceful
//! shutdown (Go: `Shutdown`, server.go:2782, `RegisterOnShutdown`) with an in-flight request
//! that completes while idle connections close and new ones are refused,
//! the idle grace that gracehttp relies on, connections that never finish
//! sending a request head (idle for shutdown, so they cannot hold it up),
//! and `close` (Go: `Close`, server.go:2731).

mod runtime_support;

use runtime_support::{StateLog, TestServer, WAIT};
use server::{Config, ConnState, Error};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

fn states_of(events: &[(u64, ConnState)], id: u64) -> Vec<ConnState> {
    events.iter().filter(|(i, _)| *i == id).map(|(_, s)| *s).collect()
}

/// A server whose connection states are logged, keeping an idle
/// connection open for `grace` once shutdown begins.
async fn server_with_grace(grace: Duration) -> (TestServer, StateLog) {
    let log = StateLog::default();
    let config = Config {
        conn_state: Some(log.hook()),
        shutdown_idle_grace: grace,
        ..Config::default()
    };
    (TestServer::start(config, runtime_support::app()).await, log)
}

/// Shuts the server down with a 30 s deadline and checks that it returned
/// cleanly, long before the deadline (within `WAIT`): nothing held it up.
async fn assert_shutdown_not_held_up(s: &TestServer) {
    let result = tokio::time::timeout(WAIT, s.server.shutdown(Duration::from_secs(30)))
        .await
        .expect("shutdown was held up");
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn connection_states_are_reported_in_order() {
    let log = StateLog::default();
    let config = Config {
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let mut c = s.connect().await;
    for _ in 0..2 {
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
        c.response().await;
    }
    drop(c);
    log.wait_until(|e| e.iter().any(|(_, s)| *s == ConnState::Closed))
        .await;
    use ConnState::*;
    assert_eq!(
        states_of(&log.events(), 1),
        [New, Active, Idle, Active, Idle, Closed]
    );

    // A connection that never sends a byte: New, then Closed.
    let c = s.connect().await;
    log.wait_until(|e| e.iter().any(|(id, _)| *id == 2)).await;
    drop(c);
    log.wait_until(|e| states_of(e, 2).contains(&Closed)).await;
    assert_eq!(states_of(&log.events(), 2), [New, Closed]);
}

#[tokio::test]
async fn shutdown_lets_the_in_flight_request_finish_and_closes_the_rest() {
    let log = StateLog::default();
    let config = Config {
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let mut s = TestServer::start(config, runtime_support::app()).await;
    let hook_ran = Arc::new(AtomicBool::new(false));
    s.server.register_on_shutdown({
        let hook_ran = hook_ran.clone();
        move || hook_ran.store(true, Ordering::SeqCst)
    });

    // Connection 1: served once, now idle.
    let mut idle = s.connect().await;
    idle.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    idle.response().await;
    log.wait_until(|e| states_of(e, 1).contains(&ConnState::Idle))
        .await;
    // Connection 2: a slow request in its handler.
    let mut busy = s.connect().await;
    busy.send(b"GET /slow/400 HTTP/1.1\r\nHost: t\r\n\r\n").await;
    log.wait_until(|e| states_of(e, 2).contains(&ConnState::Active))
        .await;

    let shutdown = tokio::spawn({
        let server = s.server.clone();
        async move { server.shutdown(WAIT).await }
    });

    // The idle connection is closed at once (grace is zero by default).
    idle.assert_closed().await;
    // The accept loop ends with ServerClosed, and then connecting is refused.
    let served = tokio::time::timeout(WAIT, s.serving.take().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(served, Err(Error::ServerClosed)), "{served:?}");
    let refused = TcpStream::connect(s.addr).await;
    assert!(
        refused.is_err(),
        "a new connection must be refused during shutdown"
    );
    // The in-flight request completes, told the connection closes.
    let r = busy.response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"slept");
    assert_eq!(r.header("connection"), Some("close"));
    busy.assert_closed().await;

    let result = tokio::time::timeout(WAIT, shutdown).await.unwrap().unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert!(hook_ran.load(Ordering::SeqCst), "on-shutdown hooks run");
    assert_eq!(s.server.open_connections(), 0);
}

#[tokio::test]
async fn during_the_idle_grace_a_kept_alive_connection_is_still_answered() {
    let config = Config {
        shutdown_idle_grace: Duration::from_secs(2),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let began = Arc::new(tokio::sync::Notify::new());
    s.server.register_on_shutdown({
        let began = began.clone();
        move || began.notify_one()
    });
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    c.response().await;

    let shutdown = tokio::spawn({
        let server = s.server.clone();
        async move { server.shutdown(WAIT).await }
    });
    tokio::time::timeout(WAIT, began.notified()).await.unwrap();
    // The client's next request, already on its way when shutdown began.
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.body, b"Hello, World!");
    assert_eq!(r.header("connection"), Some("close"));
    c.assert_closed().await;
    assert!(tokio::time::timeout(WAIT, shutdown)
        .await
        .unwrap()
        .unwrap()
        .is_ok());
}

#[tokio::test]
async fn a_new_silent_connection_does_not_hold_up_shutdown() {
    let log = StateLog::default();
    let config = Config {
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let mut c = s.connect().await;
    log.wait_until(|e| !e.is_empty()).await;
    let result = tokio::time::timeout(WAIT, s.server.shutdown(WAIT)).await.unwrap();
    assert!(result.is_ok(), "{result:?}");
    c.assert_closed().await;
}

/// A client that sent part of a request head and stopped has no request
/// under way: shutdown counts its connection as idle (Go's `closeIdleConns`,
/// server.go:2834, does so for a `StateNew` connection after 5 s) and
/// closes it after the grace, instead of waiting for the shutdown timeout.
#[tokio::test]
async fn a_half_sent_head_on_a_new_connection_does_not_hold_up_shutdown() {
    let (s, log) = server_with_grace(Duration::from_millis(100)).await;
    let mut c = s.connect().await;
    c.send(b"GET /x HT").await;
    // Active: the server is reading the head.
    log.wait_until(|e| states_of(e, 1).contains(&ConnState::Active))
        .await;

    assert_shutdown_not_held_up(&s).await;
    c.assert_closed().await;
}

/// The same on a kept-alive connection whose second head is cut short.
#[tokio::test]
async fn a_half_sent_second_head_does_not_hold_up_shutdown() {
    let (s, log) = server_with_grace(Duration::from_millis(100)).await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.status, 200);
    c.send(b"GET /y HTTP/1.1\r\nHo").await;
    use ConnState::*;
    log.wait_until(|e| states_of(e, 1) == [New, Active, Idle, Active])
        .await;

    assert_shutdown_not_held_up(&s).await;
    c.assert_closed().await;
}

/// The grace is counted once, from when the connection saw the drain
/// begin: a head trickling in a byte at a time does not extend it.
#[tokio::test]
async fn a_head_trickling_in_during_the_drain_is_cut_at_the_end_of_the_grace() {
    let (s, log) = server_with_grace(Duration::from_millis(200)).await;
    let c = s.connect().await;
    let mut stream = c.stream;
    stream.write_all(b"GET /").await.unwrap();
    log.wait_until(|e| states_of(e, 1).contains(&ConnState::Active))
        .await;
    // One byte of the target every 20 ms, for at most 20 s: far longer
    // than the grace, and every byte well within it.
    let trickle = tokio::spawn(async move {
        for _ in 0..1000 {
            if stream.write_all(b"a").await.is_err() {
                return true; // the server closed the connection
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    });

    assert_shutdown_not_held_up(&s).await;
    let cut = tokio::time::timeout(WAIT, trickle).await.unwrap().unwrap();
    assert!(cut, "the server closed the trickling connection");
}

/// The grace still protects a request that was on its way: a head
/// completed during the grace is answered, with `Connection: close`.
#[tokio::test]
async fn a_head_completed_during_the_grace_is_answered() {
    let log = StateLog::default();
    let config = Config {
        conn_state: Some(log.hook()),
        shutdown_idle_grace: Duration::from_secs(2),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let began = Arc::new(tokio::sync::Notify::new());
    s.server.register_on_shutdown({
        let began = began.clone();
        move || began.notify_one()
    });
    let mut c = s.connect().await;
    c.send(b"GET / HT").await;
    log.wait_until(|e| states_of(e, 1).contains(&ConnState::Active))
        .await;

    let shutdown = tokio::spawn({
        let server = s.server.clone();
        async move { server.shutdown(WAIT).await }
    });
    tokio::time::timeout(WAIT, began.notified()).await.unwrap();
    c.send(b"TP/1.1\r\nHost: t\r\n\r\n").await;
    let r = c.response().await;
    assert_eq!(r.body, b"Hello, World!");
    assert_eq!(r.header("connection"), Some("close"));
    c.assert_closed().await;
    let result = tokio::time::timeout(WAIT, shutdown).await.unwrap().unwrap();
    assert!(result.is_ok(), "{result:?}");
}

/// An idle keep-alive connection learns that shutdown began only by being
/// woken: it waits on its socket, its idle deadline (none here) and the
/// server's phase, and the phase wait registers no waiter of its own
/// (`phase_changed` in conn.rs, a measured speed trick). This test fails,
/// by timing out, if nothing in the connection's task is woken by a phase
/// change any more.
#[tokio::test]
async fn an_idle_connection_is_woken_by_shutdown_and_closed_after_the_grace() {
    let (s, log) = server_with_grace(Duration::from_millis(100)).await;
    let mut c = s.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    c.response().await;
    log.wait_until(|e| states_of(e, 1).contains(&ConnState::Idle))
        .await;

    let result = tokio::time::timeout(WAIT, s.server.shutdown(WAIT)).await.unwrap();
    assert!(result.is_ok(), "{result:?}");
    c.assert_closed().await;
    assert_eq!(states_of(&log.events(), 1).last(), Some(&ConnState::Closed));
}

#[tokio::test]
async fn shutdown_reports_a_timeout_and_close_then_drops_everything() {
    let log = StateLog::default();
    let config = Config {
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let mut s = TestServer::start(config, runtime_support::app()).await;
    let mut busy = s.connect().await;
    busy.send(b"GET /slow/60000 HTTP/1.1\r\nHost: t\r\n\r\n").await;
    log.wait_until(|e| states_of(e, 1).contains(&ConnState::Active))
        .await;

    let result = s.server.shutdown(Duration::from_millis(50)).await;
    assert!(
        matches!(result, Err(Error::ShutdownTimeout { open: 1 })),
        "{result:?}"
    );

    // close() does not wait for the handler: the connection drops now.
    s.server.close();
    busy.assert_closed().await;
    log.wait_until(|e| states_of(e, 1).contains(&ConnState::Closed))
        .await;
    assert_eq!(s.server.open_connections(), 0);
    let served = tokio::time::timeout(WAIT, s.serving.take().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(served, Err(Error::ServerClosed)), "{served:?}");
}

#[tokio::test]
async fn close_alone_drops_an_active_request_and_runs_no_hooks() {
    let s = TestServer::app().await;
    let hook_ran = Arc::new(AtomicBool::new(false));
    s.server.register_on_shutdown({
        let hook_ran = hook_ran.clone();
        move || hook_ran.store(true, Ordering::SeqCst)
    });
    let mut busy = s.connect().await;
    busy.send(b"GET /slow/60000 HTTP/1.1\r\nHost: t\r\n\r\n").await;
    // Let the request reach its handler: a second connection's answer
    // proves the server has been scheduled since.
    s.assert_still_serving().await;
    s.server.close();
    busy.assert_closed().await;
    assert!(!hook_ran.load(Ordering::SeqCst), "as in Go, Close runs no hooks");
}
