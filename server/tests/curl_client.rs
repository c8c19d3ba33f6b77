//! Our server against curl, the client people poke servers with: keep-alive
//! reuse across URLs, `Expect: 100-continue` uploads, chunked uploads, and
//! HTTP/1.0. Ignored, with the reason in the test summary, when curl was
//! not on PATH as the tests were built (`scripts/tool_probe.rs`); CI
//! installs it and fails if any test was ignored for that reason.

mod runtime_support;

use runtime_support::TestServer;
use std::process::{Command, Output, Stdio};

/// Runs curl with `args` and `stdin`.
async fn curl(args: Vec<String>, stdin: &'static [u8]) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut child = match Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "5"])
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => panic!("running curl: {e}"),
        };
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
#[cfg_attr(missing_curl, ignore = "needs curl, not on PATH when this test was built")]
async fn curl_reuses_the_connection_for_several_urls() {
    let s = TestServer::app().await;
    let a = format!("http://{}/info?a", s.addr);
    let b = format!("http://{}/info?b", s.addr);
    let out = curl(vec!["--verbose".into(), a, b], b"").await;
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("GET /info?a") && stdout.contains("GET /info?b"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Re-using existing"),
        "curl opened a second connection:\n{stderr}"
    );
}

#[tokio::test]
#[cfg_attr(missing_curl, ignore = "needs curl, not on PATH when this test was built")]
async fn curl_upload_with_expect_100_continue_gets_the_go_ahead() {
    let s = TestServer::app().await;
    let url = format!("http://{}/echo", s.addr);
    let args = vec![
        "--verbose".into(),
        "-H".into(),
        "Expect: 100-continue".into(),
        "--data-binary".into(),
        "@-".into(),
        url,
    ];
    let out = curl(args, b"uploaded with a go-ahead").await;
    assert!(out.status.success());
    assert_eq!(out.stdout, b"uploaded with a go-ahead");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HTTP/1.1 100 Continue"), "{stderr}");
}

#[tokio::test]
#[cfg_attr(missing_curl, ignore = "needs curl, not on PATH when this test was built")]
async fn curl_chunked_upload_is_echoed() {
    let s = TestServer::app().await;
    let url = format!("http://{}/echo", s.addr);
    let args = vec![
        "-H".into(),
        "Transfer-Encoding: chunked".into(),
        "--data-binary".into(),
        "@-".into(),
        url,
    ];
    let out = curl(args, b"sent in chunks").await;
    assert!(out.status.success());
    assert_eq!(out.stdout, b"sent in chunks");
}

#[tokio::test]
#[cfg_attr(missing_curl, ignore = "needs curl, not on PATH when this test was built")]
async fn curl_http10_gets_an_http10_answer() {
    let s = TestServer::app().await;
    let url = format!("http://{}/", s.addr);
    let out = curl(vec!["--http1.0".into(), "--include".into(), url], b"").await;
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("HTTP/1.0 200 OK\r\n"), "{stdout}");
    assert!(stdout.ends_with("\r\n\r\nHello, World!"), "{stdout}");
}
