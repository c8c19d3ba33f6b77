//! Every demo binary's command line: `--help` prints its usage (its doc
//! comment) and exits 0; a flag it does not take, or a flag without the
//! value it needs, is refused by name with status 2, before anything
//! starts (no port is bound, nothing is served).

use std::process::{Command, Output};

/// Each binary, the first line of its doc comment, and a flag of its own
/// that takes a value.
const BINARIES: [(&str, &str, &str); 7] = [
    (
        env!("CARGO_BIN_EXE_hello"),
        "# hello: the smallest server",
        "--addr",
    ),
    (
        env!("CARGO_BIN_EXE_example"),
        "# example: the course's example server, restartable without dropping a request",
        "--pid-file",
    ),
    (
        env!("CARGO_BIN_EXE_muxecho"),
        "# muxecho: which pattern did the ServeMux choose?",
        "-addr",
    ),
    (
        env!("CARGO_BIN_EXE_client-pool"),
        "# client-pool: watch Go's Transport pool at work",
        "--requests",
    ),
    (
        env!("CARGO_BIN_EXE_reload"),
        "# reload: live reload for the app you are writing (in the spirit of codegangsta/gin)",
        "--port",
    ),
    (
        env!("CARGO_BIN_EXE_accept-backoff"),
        "# accept-backoff: the accept loop running out of file descriptors",
        "--conns",
    ),
    (
        env!("CARGO_BIN_EXE_patterns"),
        "# patterns: a small REST service on Go's modern mux",
        "--addr",
    ),
];

fn run(binary: &str, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .output()
        .expect("the demo binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_prints_the_doc_comment_and_exits_zero() {
    for (binary, first_line, _) in BINARIES {
        for help in ["--help", "-h"] {
            let out = run(binary, &[help]);
            assert_eq!(out.status.code(), Some(0), "{binary} {help}");
            let stdout = text(&out.stdout);
            assert_eq!(stdout.lines().next(), Some(first_line), "{binary} {help}");
            // The commands to run are in it, indented as code.
            assert!(stdout.contains("\n    "), "{binary}: no commands in\n{stdout}");
            assert!(!stdout.contains("```"), "{binary}: fences left in\n{stdout}");
            // The marks that tell scripts/check-course what to run are
            // for the checker, not for the reader of --help.
            assert!(
                !stdout.contains("<!--"),
                "{binary}: check marks left in\n{stdout}"
            );
        }
    }
}

#[test]
fn an_unknown_flag_is_refused_by_name() {
    for (binary, _, _) in BINARIES {
        let out = run(binary, &["--no-such-flag", "x"]);
        assert_eq!(out.status.code(), Some(2), "{binary}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("unknown flag --no-such-flag"),
            "{binary}: {stderr}"
        );
        assert!(stderr.contains("--help"), "{binary}: {stderr}");
    }
}

#[test]
fn a_flag_without_its_value_is_refused_by_name() {
    for (binary, _, flag) in BINARIES {
        let out = run(binary, &[flag]);
        assert_eq!(out.status.code(), Some(2), "{binary} {flag}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("missing argument") && stderr.contains(flag.trim_start_matches('-')),
            "{binary}: {stderr}"
        );
    }
}

#[test]
fn a_value_that_does_not_parse_is_refused_by_name() {
    let (hello, _, _) = BINARIES[0];
    let out = run(hello, &["--read-header-timeout-ms", "2s"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("invalid value for --read-header-timeout-ms: \"2s\""),
        "{stderr}"
    );
}

#[test]
fn arguments_after_a_double_dash_are_refused_unless_the_binary_takes_them() {
    let (hello, _, _) = BINARIES[0];
    let out = run(hello, &["--", "extra"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unexpected argument \"extra\""));
}

#[test]
fn muxecho_reads_go_style_flags() {
    let (muxecho, first_line, _) = BINARIES[2];
    let out = run(muxecho, &["-help"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).lines().next(), Some(first_line));
    // A refused pattern still exits 2 with Go's panic text.
    let out = run(
        muxecho,
        &["-addr=127.0.0.1:0", "-pattern-header=false", "/a", "/a"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("muxecho: http: multiple registrations for /a"));
}
