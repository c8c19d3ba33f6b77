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

mod muxecho_support;

use muxecho_support::{RawAnswer, Started};
use serde_json::Value;

const CORPUS: &str = include_str!("../testdata/mux22/corpus.json");
const GENERATED: &str = include_str!("../testdata/mux22/generated.json");

/// One answer as the test compares it: `None` when the server closed the
/// connection without a response.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    location: Option<String>,
    allow: Option<String>,
    body: String,
}

/// The answer as this test compares it: `None` when the server closed the
/// connection without a response.
fn run_case(addr: &str, case: &Value) -> Option<Answer> {
    muxecho_support::run_case(addr, case).map(|raw: RawAnswer| Answer {
        status: raw.status,
        location: raw.header("location"),
        allow: raw.header("allow"),
        body: raw.body,
    })
}

/// Our server's answer where one of its rules, stricter than Go's, answers
/// a request before the mux (`notes/server-hardening.md`).
fn server_rule(case: &Value) -> Option<Answer> {
    let origin_form = case["target"].as_str()?.starts_with('/');
    let http_11 = case["version"].as_str().unwrap_or("HTTP/1.1") == "HTTP/1.1";
    if case["host"].as_str() == Some("") && http_11 && origin_form && case["method"] != "CONNECT" {
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
        let started = muxecho_support::start("-patterns", &patterns);
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
