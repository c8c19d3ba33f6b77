//! "Not stricter than the RFC": the strict parser must still accept what
//! real clients send. curl, wrk, hyper's client and Go's client talk to a
//! real `server::Server` on 127.0.0.1: plain requests, bodies with
//! Content-Length and chunked (with trailers), HTTP/1.0, and the
//! absolute-form target a client sends to a proxy. A test whose tool was
//! not on PATH when the tests were built is ignored, with the reason in the
//! test summary (`scripts/tool_probe.rs`); `.ci/run` installs the tools and
//! fails if any test was ignored for that reason.

mod hardening_support;

use bytes::Bytes;
use hardening_support::{TestServer, WAIT};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::collections::VecDeque;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs curl with `args` (plus `-sS`) and returns its stdout.
async fn curl(args: &[&str]) -> String {
    let owned: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    // curl's own --max-time bounds the wait; it runs off the async threads.
    let run = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-sS", "--max-time", &WAIT.as_secs().to_string()])
            .args(&owned)
            .output()
    });
    let output = match run.await.unwrap() {
        Ok(output) => output,
        Err(e) => panic!("running curl: {e}"),
    };
    assert!(
        output.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// curl's GET, POST with Content-Length, chunked upload, HTTP/1.0, and a
/// request through a "proxy" (absolute-form target, RFC 9112 §3.2.2).
#[tokio::test]
#[cfg_attr(missing_curl, ignore = "needs curl, not on PATH when this test was built")]
async fn curl_requests_are_accepted() {
    let s = TestServer::start().await;
    let base = format!("http://{}", s.addr);
    let body = curl(&[&format!("{base}/")]).await;
    assert_eq!(body, "Hello, World!");
    let body = curl(&["--data-binary", "hello", &format!("{base}/echo")]).await;
    assert_eq!(body, "hello");
    let body = curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "chunked hello",
        &format!("{base}/echo"),
    ])
    .await;
    assert_eq!(body, "chunked hello");
    let body = curl(&["--http1.0", &format!("{base}/host")]).await;
    assert_eq!(body, s.addr.to_string());
    let body = curl(&["-x", &base, "http://origin.example:8080/host"]).await;
    assert_eq!(body, "origin.example:8080");
    let body = curl(&[&format!("{base}/target?q=a%20b&r=%E2%9C%93")]).await;
    assert_eq!(body, "/target?q=a%20b&r=%E2%9C%93");
}

/// Runs `program` with `args` off the async threads, killing it if it
/// has not finished within `limit`.
async fn run_tool(program: &str, args: Vec<String>, limit: Duration) -> std::process::Output {
    let child = match Command::new(program)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("running {program}: {e}"),
    };
    let pid = child.id();
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    match tokio::time::timeout(limit, waiting).await {
        Ok(output) => output.unwrap().unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("{program} {args:?} did not finish within {limit:?}");
        }
    }
}

/// wrk (the benchmarks' load generator) gets only 2xx answers over
/// several keep-alive connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(missing_wrk, ignore = "needs wrk, not on PATH when this test was built")]
async fn wrk_gets_only_successful_responses() {
    let s = TestServer::start().await;
    let url = format!("http://{}/", s.addr);
    let args = ["-t1", "-c4", "-d1s", url.as_str()].map(String::from).to_vec();
    let output = run_tool("wrk", args, Duration::from_secs(20)).await;
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {report}");
    assert!(report.contains("Requests/sec"), "no wrk report: {report}");
    assert!(!report.contains("Non-2xx"), "wrk saw errors: {report}");
    assert!(
        !report.contains("Socket errors"),
        "wrk saw socket errors: {report}"
    );
}

/// Go's client: GET, a Content-Length POST, a chunked POST with a trailer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(missing_go, ignore = "needs Go, not on PATH when this test was built")]
async fn go_client_requests_are_accepted() {
    let s = TestServer::start().await;
    let program = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/hardening_support/go_client.go"
    );
    let args = vec!["run".to_owned(), program.to_owned(), format!("http://{}", s.addr)];
    // Compiling the client is most of the time; a loaded machine is slow.
    let output = run_tool("go", args, Duration::from_secs(120)).await;
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "ok",
        "go client: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A chunked body of several frames and trailers: hyper sends it chunked
/// with a trailer section, which our trailer parser must accept.
struct Frames(VecDeque<Frame<Bytes>>);

impl Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

/// hyper's client: GET, a Content-Length body, a chunked body with
/// trailers, all on one kept-alive connection.
#[tokio::test]
async fn hyper_client_requests_are_accepted() {
    let s = TestServer::start().await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Frames>();
    let send = |request: http::Request<Frames>| {
        let client = client.clone();
        async move {
            let response = tokio::time::timeout(WAIT, client.request(request))
                .await
                .unwrap()
                .unwrap();
            let status = response.status();
            let body = tokio::time::timeout(WAIT, response.into_body().collect())
                .await
                .unwrap()
                .unwrap()
                .to_bytes();
            (status, body)
        }
    };
    let get = http::Request::get(format!("http://{}/", s.addr))
        .body(Frames(VecDeque::new()))
        .unwrap();
    assert_eq!(
        send(get).await,
        (http::StatusCode::OK, Bytes::from("Hello, World!"))
    );

    let post = http::Request::post(format!("http://{}/echo", s.addr))
        .header("content-length", "5")
        .body(Frames(VecDeque::from([Frame::data(Bytes::from("hello"))])))
        .unwrap();
    assert_eq!(send(post).await, (http::StatusCode::OK, Bytes::from("hello")));

    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-checksum", "abc".parse().unwrap());
    let chunked = http::Request::post(format!("http://{}/echo", s.addr))
        .header("te", "trailers")
        .header("trailer", "x-checksum")
        .body(Frames(VecDeque::from([
            Frame::data(Bytes::from("one ")),
            Frame::data(Bytes::from("two")),
            Frame::trailers(trailers),
        ])))
        .unwrap();
    assert_eq!(
        send(chunked).await,
        (http::StatusCode::OK, Bytes::from("one two"))
    );
}
