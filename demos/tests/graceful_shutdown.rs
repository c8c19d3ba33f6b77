//! Graceful shutdown of the example binary: SIGTERM (or SIGINT) with a
//! request in flight lets it finish, the process exits 0, the port is free
//! afterwards and the pid file is gone; clients that sent half a request
//! head do not hold the drain.

#[path = "restart_harness/mod.rs"]
mod harness;

use harness::*;
use nix::sys::signal::Signal;
use std::io::{Read, Write};

fn shutdown_with_request_in_flight(name: &str, signal_to_send: Signal, signal_name: &str) {
    let mut example = Example::start(name);
    let pid = example.serving_pid();
    let slow = get_in_background(example.addr, "/slow/2000");
    example
        .log
        .wait_for("the slow request to start", START_TIMEOUT, |l| {
            l.contains(&format!("[pid: {pid}] slow request: sleeping 2000ms"))
        });

    signal(pid, signal_to_send);
    let response = slow.join().unwrap().expect("the in-flight request's response");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "slept 2000ms");
    assert!(response.close, "a draining server says Connection: close");

    let status = example
        .wait_exit(pid, EXIT_TIMEOUT)
        .expect("the first process is our child");
    assert_eq!(status.code(), Some(0), "log:\n{}", example.log.text());
    assert!(example.log.contains(&format!(
        "[pid: {pid}] Receive signal {signal_name}. To shut down the server gracefully."
    )));
    // Written just before the process exits: the thread reading the log
    // may not have it yet.
    let last = format!("[pid: {pid}] All connections have been closed.");
    example
        .log
        .wait_for("the end of the drain in the log", IO_TIMEOUT, |l| {
            l.contains(&last)
        });
    assert!(
        std::net::TcpStream::connect(example.addr).is_err(),
        "nothing listens on {} any more",
        example.addr
    );
    std::net::TcpListener::bind(example.addr).expect("the port is free again");
    assert!(!example.pid_file.exists(), "the pid file is removed");
}

#[test]
fn sigterm_finishes_the_request_in_flight_and_exits_zero() {
    shutdown_with_request_in_flight("graceful-term", Signal::SIGTERM, "SIGTERM");
}

#[test]
fn sigint_does_the_same() {
    shutdown_with_request_in_flight("graceful-int", Signal::SIGINT, "SIGINT");
}

/// The keep-alive race, deterministically: a keep-alive connection idle
/// when the drain starts is not closed at once (Go's `Shutdown` would); its
/// next request, sent during the idle grace, is answered with
/// `Connection: close`. The grace is long here (5 s) so that the test does
/// not depend on how fast this machine is.
#[test]
fn idle_keep_alive_connection_is_answered_during_the_drain() {
    let mut example = Example::start_with("graceful-idle", |command| {
        command.args(["--idle-grace-ms", "5000"]);
    });
    let pid = example.serving_pid();
    let mut conn = connect(example.addr).unwrap();
    send_get(&mut conn, "/pid").unwrap();
    let first = read_response(&mut conn).unwrap();
    assert_eq!((first.status, first.close), (200, false), "a keep-alive answer");

    signal(pid, Signal::SIGTERM);
    example.log.wait_for("the drain to start", START_TIMEOUT, |l| {
        l.contains(&format!("[pid: {pid}] Waiting for connections to be closed."))
    });
    assert!(
        std::net::TcpStream::connect(example.addr).is_err(),
        "no longer accepting"
    );
    send_get(&mut conn, "/pid").unwrap();
    let second = read_response(&mut conn).expect("the request sent while idle is answered");
    assert_eq!(second.status, 200);
    assert_eq!(second.body.trim(), pid.to_string());
    assert!(second.close, "and told to close");

    let status = example.wait_exit(pid, EXIT_TIMEOUT).unwrap();
    assert_eq!(status.code(), Some(0));
}

/// The shutdown timeout bounds the drain: a request still running then is
/// cut, the process says so and exits with status 1.
#[test]
fn drain_timeout_closes_what_is_left() {
    let mut example = Example::start_with("graceful-timeout", |command| {
        command.args(["--shutdown-timeout-ms", "300"]);
    });
    let pid = example.serving_pid();
    let slow = get_in_background(example.addr, "/slow/10000");
    example
        .log
        .wait_for("the slow request to start", START_TIMEOUT, |l| {
            l.contains(&format!("[pid: {pid}] slow request: sleeping 10000ms"))
        });
    signal(pid, Signal::SIGTERM);
    let status = example.wait_exit(pid, EXIT_TIMEOUT).unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(example.log.contains(&format!(
        "[pid: {pid}] Shutdown timed out: 1 connection(s) closed by force."
    )));
    assert!(slow.join().unwrap().is_err(), "the cut request gets no response");
}

/// A second SIGTERM during the drain closes every connection at once.
#[test]
fn second_sigterm_closes_everything_now() {
    let mut example = Example::start("graceful-twice");
    let pid = example.serving_pid();
    let slow = get_in_background(example.addr, "/slow/10000");
    example
        .log
        .wait_for("the slow request to start", START_TIMEOUT, |l| {
            l.contains(&format!("[pid: {pid}] slow request: sleeping 10000ms"))
        });
    signal(pid, Signal::SIGTERM);
    example.log.wait_for("the drain to start", START_TIMEOUT, |l| {
        l.contains(&format!("[pid: {pid}] Waiting for connections to be closed."))
    });
    signal(pid, Signal::SIGTERM);
    let status = example.wait_exit(pid, EXIT_TIMEOUT).unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(example.log.contains(&format!(
        "[pid: {pid}] Receive signal SIGTERM again. Closing every connection now."
    )));
    assert!(slow.join().unwrap().is_err(), "the cut request gets no response");
}

/// Clients that sent part of a request head and stopped, one on a new
/// connection and one on a kept-alive connection, have no request under
/// way: the drain counts them as idle and closes them after the idle
/// grace, so the process exits 0 long before its shutdown timeout (20 s
/// here; waiting it out would mean status 1, "closed by force"). The
/// read-header timeout, 5 s by default in the example, is set beyond the
/// shutdown timeout, as in a server without one: only the drain can close
/// these connections.
#[test]
fn half_sent_heads_do_not_hold_the_drain() {
    let mut example = Example::start_with("graceful-half-head", |command| {
        command.args([
            "--shutdown-timeout-ms",
            "20000",
            "--read-header-timeout-ms",
            "60000",
        ]);
    });
    let pid = example.serving_pid();
    let mut fresh = connect(example.addr).unwrap();
    fresh.get_mut().write_all(b"GET /x HT").unwrap();
    let mut kept = connect(example.addr).unwrap();
    send_get(&mut kept, "/pid").unwrap();
    let first = read_response(&mut kept).unwrap();
    assert_eq!((first.status, first.close), (200, false), "a keep-alive answer");
    kept.get_mut().write_all(b"GET /pid HTTP/1.1\r\nHo").unwrap();

    signal(pid, Signal::SIGTERM);
    let status = example.wait_exit(pid, EXIT_TIMEOUT).unwrap();
    assert_eq!(status.code(), Some(0), "log:\n{}", example.log.text());
    assert!(!example.log.contains("closed by force"));
    for conn in [&mut fresh, &mut kept] {
        let mut rest = Vec::new();
        let _ = conn.read_to_end(&mut rest);
        assert!(rest.is_empty(), "closed without an answer: {rest:?}");
    }
}
