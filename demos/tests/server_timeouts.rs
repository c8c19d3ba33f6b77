//! The course's servers run with a read-header timeout by default (a
//! slowloris client is not held for ever), and the flag turns it off or
//! changes it, as `hello`'s does. Real processes, real sockets.

#[path = "restart_harness/mod.rs"]
mod restart_harness;

use restart_harness::Example;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Longer than any timeout under test: a read that waits this long failed.
const WAIT: Duration = Duration::from_secs(20);

/// Sends the start of a request head and never the rest; returns what the
/// server did: `Ok(bytes it sent before closing)`, or the read error.
fn half_a_head(stream: TcpStream) -> std::io::Result<Vec<u8>> {
    let mut stream = stream;
    stream.set_read_timeout(Some(WAIT))?;
    stream.write_all(b"GET /pid HTTP/1.1\r\nHost: x\r\n")?;
    let mut seen = Vec::new();
    stream.read_to_end(&mut seen)?;
    Ok(seen)
}

#[test]
fn example_closes_a_slow_head_by_default() {
    // Go 1.19's server (and ours with no timeout) would wait for ever.
    let example = Example::start("timeouts-default");
    let closed = half_a_head(TcpStream::connect(example.addr).unwrap());
    // Closed without an answer (Go too sends nothing when the head times
    // out), well before the 20 s this test waits.
    assert_eq!(closed.unwrap(), b"");
}

#[test]
fn muxecho_takes_the_same_timeout_flags() {
    let mut muxecho = Command::new(env!("CARGO_BIN_EXE_muxecho"))
        .args(["-read-header-timeout-ms", "200", "-addr", "127.0.0.1:0", "/"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(muxecho.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first.trim().strip_prefix("listening on ").unwrap().to_owned();
    let closed = half_a_head(TcpStream::connect(&addr).unwrap());
    let _ = muxecho.kill();
    let _ = muxecho.wait();
    assert_eq!(closed.unwrap(), b"");
}
