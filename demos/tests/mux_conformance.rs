//! The ServeMux conformance test: every case of `testdata/mux/corpus.json`
//! sent to our `muxecho` over raw TCP. The corpus is a copy of the answers
//! a real Go 1.19.8 server gave (recorded through a conformance corpus of
//! route tables and requests, with a small Go server that keeps
//! `muxecho`'s contract; each table names the Go it was recorded with).
//!
//! One `muxecho` process per route table, each case on a fresh
//! connection, the request-target and Host written byte for byte; status,
//! `Location`, body and the pattern `ServeMux::handler` reports
//! (`X-Mux-Pattern`) must equal Go's. A table that Go refused to register
//! must make `muxecho` exit non-zero without listening.
//!
//! The only cases allowed to differ are the deviations declared below,
//! each with its reason. Each one is a test of its own, named
//! `deviation_...`, so that `cargo test` lists every way we differ from
//! Go; it asserts our exact answer and that Go's recorded one differs.
//! One more case meets a rule of our own server before the mux
//! ([`server_rule`]); the main test asserts our answer for it.

mod muxecho_support;

use muxecho_support::Started;
use serde_json::Value;

const CORPUS: &str = include_str!("../testdata/mux/corpus.json");

/// A case where we answer differently from Go 1.19, on purpose.
struct Deviation {
    /// The corpus table and the case (request-target and Host).
    table: &'static str,
    target: &'static str,
    host: &'static str,
    /// Our answer: status and body.
    status: u16,
    body: &'static str,
    /// Why we differ.
    reason: &'static str,
}

/// Declares the deviations: the list the main test skips, and one
/// `#[test]` per deviation that checks it.
macro_rules! deviations {
    ($($test:ident: $deviation:expr,)*) => {
        const DEVIATIONS: &[Deviation] = &[$($deviation),*];
        $(
            #[test]
            fn $test() {
                check_deviation(&$deviation);
            }
        )*
    };
}

deviations! {
    deviation_host_with_two_ports_is_refused: Deviation {
        table: "go-stripPortFromHost",
        target: "/",
        host: "example.com:9000:1",
        status: 400,
        body: "400 Bad Request: malformed Host header",
        reason: "server::wire checks the Host grammar of RFC 3986 §3.2.3 \
         (the port is digits), where Go's httpguts.ValidHostHeader only checks \
         the bytes. The mux itself keeps this host whole as Go does \
         (mux/tests/servemux.rs, hosts_split_like_go).",
    },
    deviation_host_with_a_port_of_letters_is_refused: Deviation {
        table: "mux-extra",
        target: "/x",
        host: "example.com:abc",
        status: 400,
        body: "400 Bad Request: malformed Host header",
        reason: "same Host grammar difference as example.com:9000:1",
    },
    deviation_host_with_two_colons_is_refused: Deviation {
        table: "mux-extra",
        target: "/x",
        host: "a:b:c",
        status: 400,
        body: "400 Bad Request: malformed Host header",
        reason: "same Host grammar difference as example.com:9000:1",
    },
}

/// One answer as the test compares it.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
    pattern: Option<String>,
}

/// The answer as this test compares it (the classic corpus has no case
/// where the server closes without answering).
fn run_case(addr: &str, case: &Value) -> Answer {
    let raw = muxecho_support::run_case(addr, case).expect("an answer");
    Answer {
        status: raw.status,
        location: raw.header("location"),
        pattern: raw.header("x-mux-pattern"),
        body: raw.body,
    }
}

fn expected(case: &Value) -> Answer {
    let e = &case["expect"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Answer {
        status: e["status"].as_u64().unwrap() as u16,
        location: text(&e["location"]),
        body: text(&e["body"]).unwrap_or_default(),
        pattern: text(&e["pattern"]),
    }
}

fn deviation(table: &str, case: &Value) -> Option<&'static Deviation> {
    DEVIATIONS
        .iter()
        .find(|d| d.table == table && case["target"] == d.target && case["host"].as_str() == Some(d.host))
}

/// The patterns of a corpus table.
fn patterns(table: &Value) -> Vec<String> {
    table["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

/// Runs one deviation's case: our answer is the one declared, and Go's
/// recorded answer is another.
fn check_deviation(deviation: &Deviation) {
    let corpus: Value = serde_json::from_str(CORPUS).expect("corpus.json");
    let table = corpus
        .as_array()
        .expect("a list of tables")
        .iter()
        .find(|t| t["name"] == deviation.table)
        .unwrap_or_else(|| panic!("no table {}", deviation.table));
    let case = table["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|case| case["target"] == deviation.target && case["host"].as_str() == Some(deviation.host))
        .unwrap_or_else(|| panic!("no case {} host={}", deviation.target, deviation.host));
    let Started::Listening(_server, addr) = muxecho_support::start("-pattern-header", &patterns(table))
    else {
        panic!("{}: muxecho did not start", deviation.table);
    };
    let got = run_case(&addr, case);
    let mut go = expected(case);
    if case["layer"] == "server" {
        go.pattern = None;
    }
    assert_ne!(got, go, "now answers as Go does; remove the deviation");
    assert_eq!(
        (got.status, got.body.as_str()),
        (deviation.status, deviation.body),
        "{}",
        deviation.reason
    );
}

/// Rules of our server, stricter than Go 1.19, that answer a request
/// before the mux sees it (`notes/server-hardening.md`): the status and
/// body we send instead, and why.
fn server_rule(case: &Value) -> Option<(u16, &'static str, &'static str)> {
    let target = case["target"].as_str()?;
    if target.len() > server::wire::PartLimits::DEFAULT.max_target_bytes {
        return Some((
            414,
            "414 URI Too Long",
            "a request-target over 8 KiB is 414, as nginx and Apache answer; \
             Go limits only the whole head (1 MiB)",
        ));
    }
    None
}

#[test]
fn every_corpus_case_answers_as_go_does() {
    let corpus: Value = serde_json::from_str(CORPUS).expect("corpus.json");
    let mut failures = Vec::new();
    let (mut passed, mut skipped, mut by_server) = (0, 0, 0);
    for table in corpus.as_array().expect("a list of tables") {
        let name = table["name"].as_str().unwrap();
        let started = muxecho_support::start("-pattern-header", &patterns(table));
        if let Some(go_error) = table["expect_registration_error"].as_str() {
            match started {
                Started::Exited(code, stderr) if code != 0 => {
                    // Same words as Go's panic, after muxecho's prefix.
                    assert_eq!(stderr.trim(), go_error, "{name}: refusal message");
                    passed += 1;
                }
                Started::Exited(code, _) => failures.push(format!("{name}: exited {code}, want a refusal")),
                Started::Listening(..) => failures.push(format!("{name}: listened, Go refuses: {go_error}")),
            }
            continue;
        }
        let Started::Listening(_server, addr) = started else {
            failures.push(format!("{name}: muxecho did not start"));
            continue;
        };
        for (i, case) in table["cases"].as_array().unwrap().iter().enumerate() {
            let got = run_case(&addr, case);
            let label = format!(
                "{name}#{i} {} {:?} host={}",
                case["method"].as_str().unwrap(),
                case["target"].as_str().unwrap(),
                case["host"]
            );
            let mut want = expected(case);
            if case["layer"] == "server" {
                // The server answered before the mux: no pattern header.
                want.pattern = None;
            }
            if let Some((status, body, reason)) = server_rule(case) {
                // A response to HEAD has no body.
                let body = if case["method"] == "HEAD" { "" } else { body };
                if got.status == status && got.body == body {
                    by_server += 1;
                } else {
                    failures.push(format!(
                        "{label}: server rule ({reason}) expects {status} {body:?}, got {got:?}"
                    ));
                }
                continue;
            }
            if deviation(name, case).is_some() {
                // Checked by its own test, deviation_...
                skipped += 1;
                continue;
            }
            if got == want {
                passed += 1;
            } else {
                failures.push(format!("{label}:\n   got  {got:?}\n   want {want:?}"));
            }
        }
    }
    assert_eq!(
        skipped,
        DEVIATIONS.len(),
        "every listed deviation must name a corpus case"
    );
    assert!(
        failures.is_empty(),
        "{} passed, {by_server} by a server rule, {skipped} deviations (their own tests), {} failed:\n{}",
        passed,
        failures.len(),
        failures.join("\n")
    );
    assert!(passed >= 230, "only {passed} cases ran");
    println!("{passed} passed, {by_server} by a server rule, {skipped} deviations (their own tests)");
}
