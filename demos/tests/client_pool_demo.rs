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
