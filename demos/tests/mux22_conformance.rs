//! The modern mux's conformance test: every case of
//! `testdata/mux22/corpus.json` (each case sent raw over TCP to a real Go
//! 1.27.3 server, `http.NewServeMux()` unchanged, and its answer recorded)
//! sent to our `muxecho -patterns` over raw TCP.
//!
//! This is `muxdiff.py` written in Rust, so that `cargo test` runs it
//! without Python or Go: one `muxecho` process per route table, each case
//! on a fresh connection, method, request-target and Host written byte for
//! byte; status, `Location`, `Allow` and body must equal Go's. Where Go
//! closed the connection without answering (its handler panicked), we must
//! close it too. A table that Go refused to register must make `muxecho`
//! exit with 2 without listening, and say what Go says (the first line,
//! with the `registered at file:line` parts left out, since those name
//! each program's own source).
//!
//! One rule of our server, stricter than Go, answers some requests before
//! the mux sees them ([`server_rule`]): an HTTP/1.1 request whose Host is
//! empty gets 400 (RFC 9110 section 4.2.1: an `http` URI must have a host;
//! Go routes it). For those our exact answer is asserted instead; every
//! other case must equal Go's.
//!
//! A second corpus, `testdata/mux22/generated.json`, holds 500 random
//! tables (up to six patterns drawn from methods, hosts, literals,
//! escapes, `{x}`, `{x...}`, `{$}` and trailing slashes; ten random
//! requests each, raw UTF-8, `%2F`, `..`, CONNECT and absolute forms
//! included), their answers recorded from Go 1.27.3's `muxecho` with
//! `muxdiff.py --record --corpus`. There a refusal is checked by its exit
//! status only: when a new pattern conflicts with several, Go names the
//! first one it meets while walking a map, in random order.

use serde_json::Value;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CORPUS: &str = include_str!("../testdata/mux22/corpus.json");
const GENERATED: &str = include_str!("../testdata/mux22/generated.json");
const TIMEOUT: Duration = Duration::from_secs(10);

/// One answer as the test compares it: `None` when the server closed the
/// connection without a response.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    location: Option<String>,
    allow: Option<String>,
    body: String,
}

/// A `muxecho` process serving one table; killed when dropped.
struct Muxecho {
    child: Child,
}

impl Drop for Muxecho {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Started {
    Listening(Muxecho, String),
    Exited(i32, String),
}

fn start(patterns: &[String]) -> Started {
    let mut child = Command::new(env!("CARGO_BIN_EXE_muxecho"))
        .args(["-patterns", "-addr", "127.0.0.1:0"])
        .args(patterns)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start muxecho");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(TIMEOUT).expect("muxecho printed nothing in time");
    if let Some(addr) = line.trim_end().strip_prefix("listening on ") {
        return Started::Listening(Muxecho { child }, addr.to_owned());
    }
    let status = child.wait().expect("wait muxecho");
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    Started::Exited(status.code().unwrap_or(-1), stderr)
}

/// The exact bytes of a case's request (as muxdiff.py's `build_request`).
fn request_bytes(case: &Value) -> Vec<u8> {
    let version = case["version"].as_str().unwrap_or("HTTP/1.1");
    let mut lines = vec![format!(
        "{} {} {}",
        case["method"].as_str().unwrap(),
        case["target"].as_str().unwrap(),
        version
    )];
    if let Some(host) = case["host"].as_str() {
        lines.push(format!("Host: {host}"));
    }
    for header in case["headers"].as_array().into_iter().flatten() {
        lines.push(header.as_str().unwrap().to_owned());
    }
    let body = case["body"].as_str().unwrap_or("");
    if !body.is_empty() {
        lines.push(format!("Content-Length: {}", body.len()));
    }
    let mut bytes = (lines.join("\r\n") + "\r\n\r\n").into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// Reads one response the way muxdiff.py does: status line, headers, and
/// the body by Content-Length, chunks, or until the server closes. `None`
/// when the connection closed (or was reset) before a status line.
fn read_answer(stream: TcpStream, method: &str) -> Option<Answer> {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    let read_line = |reader: &mut BufReader<TcpStream>, line: &mut Vec<u8>| {
        line.clear();
        match reader.read_until(b'\n', line) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => line.clear(),
            Err(e) => panic!("read: {e}"),
        }
        while line.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
            line.pop();
        }
    };
    read_line(&mut reader, &mut line);
    if line.is_empty() {
        return None;
    }
    let status_line = String::from_utf8_lossy(&line).into_owned();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        read_line(&mut reader, &mut line);
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        let (name, value) = text.split_once(':').expect("header line");
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if method == "HEAD" || status == 204 || status == 304 {
        // no body
    } else if header("transfer-encoding").is_some_and(|te| te.contains("chunked")) {
        loop {
            read_line(&mut reader, &mut line);
            let size_text = String::from_utf8_lossy(&line).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).expect("chunk");
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = header("content-length") {
        body.resize(len.parse().unwrap(), 0);
        reader.read_exact(&mut body).expect("body");
    } else if !(method == "CONNECT" && (200..300).contains(&status)) {
        reader.read_to_end(&mut body).expect("body until close");
    }
    Some(Answer {
        status,
        location: header("location"),
        allow: header("allow"),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn run_case(addr: &str, case: &Value) -> Option<Answer> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(&request_bytes(case)).expect("send");
    read_answer(stream, case["method"].as_str().unwrap())
}

/// Our server's answer where one of its rules, stricter than Go's, answers
/// a request before the mux (`notes/server-hardening.md`).
fn server_rule(case: &Value) -> Option<Answer> {
    let origin_form = case["target"].as_str()?.starts_with('/');
    if case["host"].as_str() == Some("") && origin_form && case["method"] != "CONNECT" {
        let body = if case["method"] == "HEAD" {
            ""
        } else {
            "400 Bad Request: malformed Host header"
        };
        return Some(Answer {
            status: 400,
            location: None,
            allow: None,
            body: body.to_owned(),
        });
    }
    None
}

fn expected(case: &Value) -> Option<Answer> {
    let e = &case["expect"];
    if e["no_response"] == true {
        return None;
    }
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Some(Answer {
        status: e["status"].as_u64().unwrap() as u16,
        location: text(&e["location"]),
        allow: text(&e["allow"]),
        body: text(&e["body"]).unwrap_or_default(),
    })
}

/// The first line of a refusal, with each `(registered at FILE:LINE)`
/// made `(registered at _)` and muxecho's prefix taken off.
fn refusal_words(stderr: &str) -> String {
    let first = stderr.lines().next().unwrap_or("").trim();
    let first = first.strip_prefix("muxecho: ").unwrap_or(first);
    let mut out = String::new();
    let mut rest = first;
    while let Some(at) = rest.find("(registered at ") {
        out.push_str(&rest[..at]);
        out.push_str("(registered at _)");
        rest = rest[at..].find(')').map_or("", |end| &rest[at + end + 1..]);
    }
    out.push_str(rest);
    out
}

/// Runs every table of `corpus`: (cases passed, refusals as Go's, failures).
/// `same_words`: a refusal must also say what Go says.
/// Runs a corpus: the cases answered as expected (of which `server_rule`
/// answered some), the refusals as Go's, and what failed.
fn run_corpus(corpus: &str, same_words: bool) -> (usize, usize, usize, Vec<String>) {
    let corpus: Value = serde_json::from_str(corpus).expect("corpus JSON");
    let mut failures = Vec::new();
    let (mut passed, mut refused, mut server_answered) = (0, 0, 0);
    for table in corpus.as_array().expect("a list of tables") {
        let name = table["name"].as_str().unwrap();
        let patterns: Vec<String> = table["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        let started = start(&patterns);
        if let Some(go) = table.get("expect_registration_error").filter(|v| !v.is_null()) {
            let go_words = refusal_words(go["stderr"].as_str().unwrap());
            let go_code = go["exit_code"].as_i64().unwrap() as i32;
            match started {
                Started::Exited(code, stderr)
                    if code == go_code && (!same_words || refusal_words(&stderr) == go_words) =>
                {
                    refused += 1;
                }
                Started::Exited(code, stderr) => failures.push(format!(
                    "{name}: exited {code} saying {:?}, Go exits {go_code} saying {go_words:?}",
                    refusal_words(&stderr)
                )),
                Started::Listening(..) => failures.push(format!("{name}: listened, Go refuses: {go_words}")),
            }
            continue;
        }
        let Started::Listening(_server, addr) = started else {
            failures.push(format!("{name}: muxecho did not start"));
            continue;
        };
        for (i, case) in table["cases"].as_array().unwrap().iter().enumerate() {
            let got = run_case(&addr, case);
            let (want, by_server) = match server_rule(case) {
                Some(ours) => (Some(ours), true),
                None => (expected(case), false),
            };
            if got == want {
                passed += 1;
                server_answered += usize::from(by_server);
            } else {
                failures.push(format!(
                    "{name}#{i} {} {:?} host={}:\n   got  {got:?}\n   want {want:?}",
                    case["method"].as_str().unwrap(),
                    case["target"].as_str().unwrap(),
                    case["host"]
                ));
            }
        }
    }
    (passed, refused, server_answered, failures)
}

#[test]
fn every_corpus_case_answers_as_go_1_27_does() {
    let (passed, refused, by_server, failures) = run_corpus(CORPUS, true);
    assert!(
        failures.is_empty(),
        "{passed} passed, {refused} refusals as Go's, {} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // 33 tables: 17 refused, 16 with 348 cases between them.
    assert_eq!((passed, refused), (348, 17), "the corpus did not run whole");
    println!(
        "{} cases and {refused} refusals answered as Go 1.27 does, {by_server} by a stricter server rule",
        passed - by_server
    );
}

#[test]
fn every_generated_case_answers_as_go_1_27_does() {
    let (passed, refused, by_server, failures) = run_corpus(GENERATED, false);
    assert!(
        failures.is_empty(),
        "{passed} passed, {refused} refused as Go refuses, {} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // 500 tables: 164 refused, 336 with 3 360 cases between them.
    assert_eq!((passed, refused), (3360, 164), "the corpus did not run whole");
    println!(
        "{} generated cases as Go 1.27 answers them, {by_server} by a stricter server rule",
        passed - by_server
    );
}
