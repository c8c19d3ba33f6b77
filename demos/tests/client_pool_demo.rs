//! Runs the built `client-pool` demo and checks its counters line.

use std::process::Command;

fn run(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_client-pool"))
        .args(args)
        .env("LOG_LEVEL", "warn")
        .output()
        .expect("the client-pool binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    (output.status.success(), last)
}

/// `requests=N ok=O failed=F dials=D reuses=R` as numbers.
fn counters(line: &str) -> Vec<(String, u64)> {
    line.split(' ')
        .map(|field| {
            let (name, value) = field.split_once('=').expect("name=value");
            (name.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

#[test]
fn in_process_example_app_one_connection_reused() {
    let (success, last) = run(&["--requests", "30", "--concurrency", "1"]);
    assert!(success, "{last}");
    assert_eq!(last, "requests=30 ok=30 failed=0 dials=1 reuses=29");
}

#[test]
fn concurrency_with_a_per_host_limit() {
    let (success, last) = run(&[
        "--requests",
        "200",
        "--concurrency",
        "16",
        "--max-conns-per-host",
        "4",
        "--max-idle-per-host",
        "4",
    ]);
    assert!(success, "{last}");
    let c = counters(&last);
    let names: Vec<&str> = c.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["requests", "ok", "failed", "dials", "reuses"]);
    assert_eq!((c[0].1, c[1].1, c[2].1), (200, 200, 0));
    assert!(c[3].1 <= 4, "at most 4 connections: {last}");
    assert!(c[3].1 + c[4].1 >= 200, "{last}");
}

#[test]
fn a_refused_url_fails_every_request_and_exits_non_zero() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let (success, last) = run(&["--url", &url, "--requests", "3"]);
    assert!(!success);
    assert_eq!(last, "requests=3 ok=0 failed=3 dials=0 reuses=0");
}

#[test]
fn eight_at_a_time_redials_with_go_s_idle_limit_of_two_and_not_with_eight() {
    // Rounds of 8: each round frees 8 connections at once, the pool keeps
    // 2 and closes 6, and the next round dials 6 again: 8 + 6 x 24 = 152.
    let (success, last) = run(&["--requests", "200", "--concurrency", "8"]);
    assert!(success, "{last}");
    let c = counters(&last);
    assert!(c[3].1 > 100, "the redials did not show: {last}");

    let (success, last) = run(&[
        "--requests",
        "200",
        "--concurrency",
        "8",
        "--max-idle-per-host",
        "8",
    ]);
    assert!(success, "{last}");
    assert_eq!(last, "requests=200 ok=200 failed=0 dials=8 reuses=192");
}

/// A server on 127.0.0.1 that answers one request with a body that never
/// ends (no length: it lasts until the connection closes), and stops
/// writing when the client goes away or after `BOUND` bytes. Returns its
/// URL and how many body bytes it managed to send.
fn endless_body_server() -> (String, std::thread::JoinHandle<usize>) {
    use std::io::{Read, Write};
    const BOUND: usize = 1 << 30;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let serving = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
        let piece = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < BOUND && conn.write_all(&piece).is_ok() {
            sent += piece.len();
        }
        sent
    });
    (url, serving)
}

#[test]
fn an_endless_body_stops_at_the_limit_instead_of_filling_memory() {
    let (url, serving) = endless_body_server();
    let output = Command::new(env!("CARGO_BIN_EXE_client-pool"))
        .args(["--url", &url, "--requests", "1", "--max-body-bytes", "1048576"])
        .output()
        .expect("the client-pool binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert_eq!(
        stdout.lines().last(),
        Some("requests=1 ok=0 failed=1 dials=1 reuses=0")
    );
    assert!(stderr.contains("body error"), "{stderr}");
    // The client gave up after about its limit (plus what the sockets
    // buffer), far below what the server was ready to send.
    let sent = serving.join().unwrap();
    assert!(sent < 64 << 20, "the client read {sent} bytes");
}
