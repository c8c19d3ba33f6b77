//! The course's example application over real sockets: `server::Server`
//! on 127.0.0.1:0 serving `demos::example_app::handler()`, asked by
//! hyper's client (and by curl, as the transcript types it) for every
//! answer of the course transcript, with the `destruct demo context` log
//! line counted once per request that reached the demo controller. The
//! curl test is ignored, with the reason in the test summary, when curl
//! was not on PATH as the tests were built (`scripts/tool_probe.rs`).

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use server::{Config, Server};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The two tests count the same process-wide log lines, so they take
/// turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Every log line of this test binary, captured by a global subscriber
/// (the server's tasks run on runtime threads, so a thread-local one
/// would miss them).
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || LogWriter(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        logs
    })
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn destruct_count() -> usize {
    let logs = logs().lock().unwrap();
    String::from_utf8_lossy(&logs)
        .matches("destruct demo context")
        .count()
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(addr: SocketAddr, method: Method, path: &str, body: &str) -> Answer {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let request = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = tokio::time::timeout(TIMEOUT, client.request(request))
        .await
        .expect("answer in time")
        .expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// curl's output (with `-i`, its head too).
fn curl(args: &[&str]) -> String {
    let output = std::process::Command::new("curl")
        .args(["-s", "--max-time", "10"])
        .args(args)
        .output();
    match output {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => panic!("curl {args:?} failed: {out:?}"),
        Err(e) => panic!("running curl: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_as_the_course_transcript_shows() {
    let _turn = ONE_AT_A_TIME.lock().await;
    logs();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::from_arc(Config::default(), demos::example_app::handler());
    let serving = server.clone();
    let task = tokio::spawn(async move { serving.serve(listener).await });
    let before = destruct_count();

    let a = send(addr, Method::GET, "/demo/DescribeDemo", "").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "before demo action\nDescribeDemo\nafter demo action\n");

    for path in ["/demo/args/123", "/test/args/123"] {
        let a = send(addr, Method::GET, path, "").await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(
            a.body, "Hi, Client! Your data is: 123\nbefore demo action\nafter demo action\n",
            "{path}"
        );
    }

    let posted = r#"{"a": 1, "b": 2, "c": 3}"#;
    let a = send(addr, Method::POST, "/demo/ProcessPost", posted).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.body,
        format!("Hi, Client! Your data is: {posted}\nbefore demo action\nafter demo action\n")
    );

    let a = send(addr, Method::GET, "/demo/Redirect", "").await;
    assert_eq!(a.status, StatusCode::FOUND);
    assert_eq!(a.headers["location"], "https://baidu.com");
    assert_eq!(a.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(a.body, "<a href=\"https://baidu.com\">Found</a>.\n\n");

    // gohttp matches names without case.
    let a = send(addr, Method::GET, "/DEMO/describedemo", "").await;
    assert_eq!(a.body, "before demo action\nDescribeDemo\nafter demo action\n");

    // Six requests ran an action so far: each context was dropped once.
    assert_eq!(destruct_count() - before, 6);

    // Unknown controller or action: 404, and no context was made.
    for path in ["/demo/NoSuchAction", "/nosuch/DescribeDemo", "/"] {
        let a = send(addr, Method::GET, path, "").await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(a.body, "404 page not found\n", "{path}");
    }
    assert_eq!(destruct_count() - before, 6);

    // The ServeMux in front cleans paths first, as Go's does.
    let a = send(addr, Method::GET, "/x/../demo/DescribeDemo?q=1", "").await;
    assert_eq!(a.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(a.headers["location"], "/demo/DescribeDemo?q=1");

    server.shutdown(TIMEOUT).await.unwrap();
    let _ = tokio::time::timeout(TIMEOUT, task).await;
}

/// The same answers through curl, as the transcript types them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(missing_curl, ignore = "needs curl, not on PATH when this test was built")]
async fn curl_gets_the_transcripts_answers() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::from_arc(Config::default(), demos::example_app::handler());
    let serving = server.clone();
    let task = tokio::spawn(async move { serving.serve(listener).await });
    let base = format!("http://{addr}");
    let posted = r#"{"a": 1, "b": 2, "c": 3}"#;

    // curl blocks: it runs off the runtime's threads.
    let out = tokio::task::spawn_blocking(move || {
        [
            curl(&[&format!("{base}/demo/args/123")]),
            curl(&[&format!("{base}/demo/ProcessPost"), "-d", posted]),
            curl(&["-i", &format!("{base}/demo/Redirect")]),
        ]
    })
    .await
    .unwrap();
    assert_eq!(
        out[0],
        "Hi, Client! Your data is: 123\nbefore demo action\nafter demo action\n"
    );
    assert_eq!(
        out[1],
        format!("Hi, Client! Your data is: {posted}\nbefore demo action\nafter demo action\n")
    );
    let redirect = &out[2];
    assert!(redirect.starts_with("HTTP/1.1 302 Found\r\n"), "{redirect}");
    assert!(
        redirect
            .to_ascii_lowercase()
            .contains("\r\nlocation: https://baidu.com\r\n"),
        "{redirect}"
    );
    assert!(
        redirect.ends_with("\r\n\r\n<a href=\"https://baidu.com\">Found</a>.\n\n"),
        "{redirect}"
    );

    server.shutdown(TIMEOUT).await.unwrap();
    let _ = tokio::time::timeout(TIMEOUT, task).await;
}
