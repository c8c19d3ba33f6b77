//! Shared pieces of the `hardening_*` tests (notes/server-hardening.md): a real
//! `server::Server` on 127.0.0.1:0 running a small application, and a raw
//! client that sends exact bytes and reads back every response the server
//! wrote before closing. The response reader is written here, apart from
//! `server::wire`, so that the parser is never checked against itself.
#![allow(dead_code)]

use server::{handler_fn, Config, Handler, Server};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Every wait in these tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(5);

/// A running server, closed when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    server: Server,
    serving: JoinHandle<Result<(), server::Error>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.close();
        self.serving.abort();
    }
}

impl TestServer {
    /// The hardening application: `/echo` reads and echoes the body,
    /// `/host` answers the request's host, `/target` its target,
    /// `/smuggled` a marker no test may ever see, and every other path
    /// answers `Hello, World!` without reading the body.
    pub async fn start() -> TestServer {
        TestServer::with_handler(app()).await
    }

    pub async fn with_handler(handler: impl Handler) -> TestServer {
        TestServer::with_config(Config::default(), handler).await
    }

    /// A server with these settings (its address is chosen here).
    pub async fn with_config(config: Config, handler: impl Handler) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config {
            addr: addr.to_string(),
            ..config
        };
        let server = Server::new(config, handler);
        let serving = tokio::spawn({
            let server = server.clone();
            async move { server.serve(listener).await }
        });
        TestServer {
            addr,
            server,
            serving,
        }
    }

    /// Sends `bytes` on a fresh connection, half-closes it, and returns
    /// every response the server wrote before closing its side.
    pub async fn exchange(&self, bytes: &[u8]) -> Vec<Response> {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        stream.write_all(bytes).await.unwrap();
        stream.shutdown().await.unwrap();
        let mut received = Vec::new();
        let read = tokio::time::timeout(WAIT, stream.read_to_end(&mut received)).await;
        assert!(
            read.is_ok(),
            "the server neither answered nor closed within {WAIT:?}"
        );
        // A reset after the responses is fine: we already have the bytes.
        parse_responses(&received)
    }

    /// Sends one request and expects exactly one response, with this status.
    pub async fn expect_status(&self, bytes: &[u8], status: u16) -> Response {
        let responses = self.exchange(bytes).await;
        assert_eq!(
            responses.iter().map(|r| r.status).collect::<Vec<_>>(),
            vec![status],
            "request {:?}",
            String::from_utf8_lossy(bytes)
        );
        responses.into_iter().next().unwrap()
    }

    /// A fresh connection gets a normal answer: the server survived
    /// whatever came before.
    pub async fn assert_still_serving(&self) {
        let r = self
            .expect_status(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", 200)
            .await;
        assert_eq!(r.body, b"Hello, World!");
    }

    /// The usual shape of a rule test: this request gets this status, one
    /// response only, and the next client is served.
    pub async fn refuses(&self, bytes: &[u8], status: u16) {
        let r = self.expect_status(bytes, status).await;
        assert!(
            r.header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close")),
            "an error on a request must close the connection: {:?}",
            r.headers
        );
        self.assert_still_serving().await;
    }

    /// This request is served (200) and the next client too.
    pub async fn accepts(&self, bytes: &[u8]) -> Response {
        let r = self.expect_status(bytes, 200).await;
        self.assert_still_serving().await;
        r
    }
}

/// The hardening application.
pub fn app() -> impl Handler {
    handler_fn(|w, r| {
        Box::pin(async move {
            // The path, also for an absolute-form target.
            let path = String::from_utf8_lossy(r.url.path.as_bytes()).into_owned();
            match path.as_str() {
                "/echo" => match r.body.read_all(1 << 20).await {
                    Ok(body) => {
                        let _ = w.write(&body).await;
                    }
                    Err(e) => server::error(w, &e.to_string(), http::StatusCode::BAD_REQUEST).await,
                },
                "/host" => {
                    let host = r.host.clone();
                    let _ = w.write(host.as_bytes()).await;
                }
                "/target" => {
                    let target = r.target.clone();
                    let _ = w.write(target.as_bytes()).await;
                }
                "/smuggled" => {
                    let _ = w.write(b"SMUGGLED").await;
                }
                _ => {
                    let _ = w.write(b"Hello, World!").await;
                }
            }
        })
    })
}

/// One response as read off the wire.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Splits everything a server sent into responses (Content-Length,
/// chunked, or until the end). Panics on bytes that are not responses.
pub fn parse_responses(mut bytes: &[u8]) -> Vec<Response> {
    let mut responses = Vec::new();
    while !bytes.is_empty() {
        let head_end = find(bytes, b"\r\n\r\n")
            .unwrap_or_else(|| panic!("incomplete response head: {:?}", String::from_utf8_lossy(bytes)));
        let head = std::str::from_utf8(&bytes[..head_end]).expect("response head is not UTF-8");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status: u16 = status_line
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("header line without colon");
                (name.to_owned(), value.trim().to_owned())
            })
            .collect();
        bytes = &bytes[head_end + 4..];
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        if let Some(len) = response.header("content-length") {
            let len: usize = len.parse().unwrap();
            response.body = bytes[..len].to_vec();
            bytes = &bytes[len..];
        } else if response.header("transfer-encoding").is_some() {
            loop {
                let line_end = find(bytes, b"\r\n").expect("chunk line");
                let size =
                    usize::from_str_radix(std::str::from_utf8(&bytes[..line_end]).unwrap(), 16).unwrap();
                bytes = &bytes[line_end + 2..];
                if size == 0 {
                    bytes = &bytes[2..];
                    break;
                }
                response.body.extend_from_slice(&bytes[..size]);
                bytes = &bytes[size + 2..];
            }
        } else if (100..200).contains(&status) || status == 204 || status == 304 {
        } else {
            response.body = bytes.to_vec();
            bytes = &[];
        }
        responses.push(response);
    }
    responses
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A pipelined attack must never produce a response from `/smuggled`.
pub fn assert_nothing_smuggled(responses: &[Response]) {
    for r in responses {
        assert!(
            !r.body.windows(8).any(|w| w == b"SMUGGLED"),
            "a smuggled request was served: {responses:?}"
        );
    }
}
