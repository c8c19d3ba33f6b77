//! Shared pieces of the server's integration tests: a server on
//! 127.0.0.1:0 that stops by itself, a small test application, and a raw
//! HTTP/1.1 client written independently of `server::wire` (so that the
//! server's parser is not checked against itself).
#![allow(dead_code)]

use server::{handler_fn, BodyError, Config, Handler, Request, ResponseWriter, Server};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Every wait in the tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(5);

/// A running server; closed when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub server: Server,
    pub serving: Option<JoinHandle<Result<(), server::Error>>>,
}

impl TestServer {
    pub async fn start(config: Config, handler: impl Handler) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Server::new(config, handler);
        let serving = tokio::spawn({
            let server = server.clone();
            async move { server.serve(listener).await }
        });
        TestServer {
            addr,
            server,
            serving: Some(serving),
        }
    }

    /// The test application with the default configuration.
    pub async fn app() -> TestServer {
        TestServer::start(Config::default(), app()).await
    }

    pub async fn connect(&self) -> RawConn {
        RawConn::connect(self.addr).await
    }

    /// A fresh connection gets a normal answer: the server survived
    /// whatever came before.
    pub async fn assert_still_serving(&self) {
        let mut c = self.connect().await;
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
        let r = c.response().await;
        assert_eq!(r.status, 200, "a fresh client must be served normally");
        assert_eq!(r.body, b"Hello, World!");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.close();
    }
}

/// The application most tests run. Routes by path:
///
/// - `/` : `Hello, World!` (text/plain)
/// - `/echo` : the request body (read with a 1 MiB limit), 413 over it
/// - `/limit16` : the body if at most 16 bytes, else 413
/// - `/big/N` : N bytes of `x`, written 1000 at a time
/// - `/status/N` : status N, then an attempt to write `body`
/// - `/ignore-body` : `ignored`, without reading the body
/// - `/flush-then-ignore` : `partial`, flushed, body not read
/// - `/slow/MS` : sleeps MS ms, then `slept`
/// - `/panic` : panics
/// - `/close` : sets `Connection: close`, writes `bye`
/// - `/sniff` : an HTML body with no Content-Type
/// - `/info` : `METHOD TARGET HOST`
pub fn app() -> impl Handler {
    handler_fn(|w, r| Box::pin(serve_app(w, r)))
}

async fn serve_app(w: &mut ResponseWriter, r: &mut Request) {
    let path = r.url.path.to_str_lossy().into_owned();
    let text = |w: &mut ResponseWriter| {
        w.header().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    };
    if path == "/" {
        text(w);
        let _ = w.write(b"Hello, World!").await;
    } else if path == "/echo" || path == "/limit16" {
        let limit = if path == "/echo" { 1 << 20 } else { 16 };
        match r.body.read_all(limit).await {
            Ok(body) => {
                let _ = w.write(&body).await;
            }
            Err(BodyError::TooLarge { .. }) => {
                server::error(w, "request body too large", http::StatusCode::PAYLOAD_TOO_LARGE).await
            }
            Err(e) => server::error(w, &e.to_string(), http::StatusCode::BAD_REQUEST).await,
        }
    } else if let Some(n) = path.strip_prefix("/big/") {
        let n: usize = n.parse().unwrap();
        text(w);
        let piece = [b'x'; 1000];
        let mut left = n;
        while left > 0 {
            let take = left.min(piece.len());
            if w.write(&piece[..take]).await.is_err() {
                return;
            }
            left -= take;
        }
    } else if let Some(code) = path.strip_prefix("/status/") {
        w.write_header(http::StatusCode::from_u16(code.parse().unwrap()).unwrap());
        let _ = w.write(b"body").await;
    } else if path == "/ignore-body" {
        let _ = w.write(b"ignored").await;
    } else if path == "/flush-then-ignore" {
        let _ = w.write(b"partial").await;
        let _ = w.flush().await;
    } else if let Some(ms) = path.strip_prefix("/slow/") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
        let _ = w.write(b"slept").await;
    } else if path == "/panic" {
        panic!("handler panicked on purpose");
    } else if path == "/close" {
        w.header()
            .insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
        let _ = w.write(b"bye").await;
    } else if path == "/sniff" {
        let _ = w.write(b"<html><body>hi</body></html>").await;
    } else if path == "/info" {
        let info = format!("{} {} {}", r.method, r.target, r.host);
        let _ = w.write(info.as_bytes()).await;
    } else {
        server::not_found(w).await;
    }
}

/// A parsed response, as read off the socket.
#[derive(Debug)]
pub struct Response {
    pub version: String,
    pub status: u16,
    /// Names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was chunked.
    pub chunked: bool,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(n, _)| n == name).count()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw client connection with its read buffer (bytes after one
/// response stay for the next: pipelining).
pub struct RawConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl RawConn {
    pub async fn connect(addr: SocketAddr) -> RawConn {
        let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect failed");
        RawConn {
            stream,
            buf: Vec::new(),
            eof: false,
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send failed");
    }

    /// Reads more bytes; false at EOF (or a reset, which a test treats the same).
    async fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 16 * 1024];
        let read = tokio::time::timeout(WAIT, self.stream.read(&mut chunk))
            .await
            .expect("timed out waiting for the server");
        match read {
            Ok(0) | Err(_) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Reads one response to a non-HEAD request.
    pub async fn response(&mut self) -> Response {
        self.try_response(false)
            .await
            .expect("connection closed before a response")
    }

    /// Reads one response to a HEAD request (no body, whatever the headers say).
    pub async fn head_response(&mut self) -> Response {
        self.try_response(true)
            .await
            .expect("connection closed before a response")
    }

    /// Reads one response, or `None` if the connection closes first.
    pub async fn try_response(&mut self, to_head: bool) -> Option<Response> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            if !self.fill().await {
                return None;
            }
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).expect("head not UTF-8");
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap().to_owned();
        let status: u16 = parts.next().unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (n, v) = line.split_once(':').expect("header without colon");
                (n.to_ascii_lowercase(), v.trim().to_owned())
            })
            .collect();
        let mut response = Response {
            version,
            status,
            headers,
            body: Vec::new(),
            chunked: false,
        };
        let no_body = to_head || (100..200).contains(&status) || status == 204 || status == 304;
        if no_body {
            return Some(response);
        }
        if response
            .header("transfer-encoding")
            .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
        {
            response.chunked = true;
            response.body = self.read_chunked().await;
        } else if let Some(len) = response.header("content-length") {
            let len: usize = len.parse().unwrap();
            while self.buf.len() < len {
                assert!(self.fill().await, "connection closed inside the body");
            }
            response.body = self.buf.drain(..len).collect();
        } else {
            while self.fill().await {}
            response.body = std::mem::take(&mut self.buf);
        }
        Some(response)
    }

    async fn read_chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n") {
                    break i;
                }
                assert!(self.fill().await, "connection closed inside a chunk size");
            };
            let line = String::from_utf8(self.buf[..line_end].to_vec()).unwrap();
            self.buf.drain(..line_end + 2);
            let size = usize::from_str_radix(line.split(';').next().unwrap().trim(), 16).unwrap();
            if size == 0 {
                // No trailers from our server: just the final CRLF.
                while self.buf.len() < 2 {
                    assert!(self.fill().await, "connection closed before the last CRLF");
                }
                assert_eq!(&self.buf[..2], b"\r\n");
                self.buf.drain(..2);
                return body;
            }
            while self.buf.len() < size + 2 {
                assert!(self.fill().await, "connection closed inside chunk data");
            }
            body.extend(self.buf.drain(..size));
            assert_eq!(&self.buf[..2], b"\r\n");
            self.buf.drain(..2);
        }
    }

    /// Waits for the server to close the connection, returning whatever
    /// bytes came before the close.
    pub async fn read_until_closed(&mut self) -> Vec<u8> {
        while self.fill().await {}
        std::mem::take(&mut self.buf)
    }

    /// Asserts that the server closes the connection without sending
    /// anything more.
    pub async fn assert_closed(&mut self) {
        let rest = self.read_until_closed().await;
        assert!(
            rest.is_empty(),
            "expected a close, got more bytes: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Connection-state events, recorded by a `Config::conn_state` hook.
#[derive(Clone, Default)]
pub struct StateLog {
    events: std::sync::Arc<std::sync::Mutex<Vec<(u64, server::ConnState)>>>,
    changed: std::sync::Arc<tokio::sync::Notify>,
}

impl StateLog {
    pub fn hook(&self) -> server::ConnStateHook {
        let log = self.clone();
        std::sync::Arc::new(move |info: &server::ConnInfo, state| {
            log.events.lock().unwrap().push((info.id, state));
            log.changed.notify_waiters();
        })
    }

    pub fn events(&self) -> Vec<(u64, server::ConnState)> {
        self.events.lock().unwrap().clone()
    }

    /// Waits (bounded) until `pred` holds for the events.
    pub async fn wait_until(&self, pred: impl Fn(&[(u64, server::ConnState)]) -> bool) {
        tokio::time::timeout(WAIT, async {
            loop {
                let notified = self.changed.notified();
                if pred(&self.events()) {
                    return;
                }
                notified.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("timed out; events so far: {:?}", self.events()));
    }
}
