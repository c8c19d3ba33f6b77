//! Test servers on 127.0.0.1:0: our `server::Server` with connection
//! counters, a hyper server, and raw TCP servers that misbehave on purpose;
//! TLS servers and certificates in `tls`.
#![allow(dead_code)]

pub mod tls;

use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use server::{ConnState, Handler, Server};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How many connections a server accepted, has open now, and had open at most.
#[derive(Default, Debug)]
pub struct ConnCounts {
    pub accepted: AtomicUsize,
    pub open: AtomicUsize,
    pub max_open: AtomicUsize,
}

impl ConnCounts {
    pub fn opened(&self) {
        self.accepted.fetch_add(1, Ordering::SeqCst);
        let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_open.fetch_max(now, Ordering::SeqCst);
    }
    pub fn closed(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
    pub fn max_open(&self) -> usize {
        self.max_open.load(Ordering::SeqCst)
    }
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub counts: Arc<ConnCounts>,
    server: Option<Server>,
}

impl TestServer {
    /// A server that stops with the test's runtime.
    pub fn unmanaged(addr: SocketAddr, counts: Arc<ConnCounts>) -> TestServer {
        TestServer {
            addr,
            counts,
            server: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.close();
        }
    }
}

/// Our server, counting connections through its ConnState hook.
pub async fn our_server(handler: impl Handler) -> TestServer {
    let counts = Arc::new(ConnCounts::default());
    let hook_counts = counts.clone();
    let config = server::Config {
        conn_state: Some(Arc::new(move |_info, state| match state {
            ConnState::New => hook_counts.opened(),
            ConnState::Closed => hook_counts.closed(),
            _ => {}
        })),
        ..server::Config::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(config, handler);
    let serving = server.clone();
    tokio::spawn(async move {
        let _ = serving.serve(listener).await;
    });
    TestServer {
        addr,
        counts,
        server: Some(server),
    }
}

/// A handler answering `hello` to everything.
pub fn hello() -> impl Handler {
    server::handler_fn(|w, _r| {
        Box::pin(async move {
            let _ = w.write(b"hello").await;
        })
    })
}

/// A hyper HTTP/1.1 server answering `hello from hyper`.
pub async fn hyper_server() -> TestServer {
    let counts = Arc::new(ConnCounts::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept_counts = counts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counts = accept_counts.clone();
            counts.opened();
            tokio::spawn(async move {
                let service = service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                        bytes::Bytes::from_static(b"hello from hyper"),
                    )))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                counts.closed();
            });
        }
    });
    TestServer {
        addr,
        counts,
        server: None,
    }
}

/// A raw TCP server: `serve(stream, n)` runs for the n-th accepted connection (from 0).
pub async fn raw_server<F, Fut>(serve: F) -> TestServer
where
    F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let counts = Arc::new(ConnCounts::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept_counts = counts.clone();
    let serve = Arc::new(serve);
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((stream, _)) = listener.accept().await {
            accept_counts.opened();
            let counts = accept_counts.clone();
            let task = serve(stream, n);
            n += 1;
            tokio::spawn(async move {
                task.await;
                counts.closed();
            });
        }
    });
    TestServer {
        addr,
        counts,
        server: None,
    }
}

/// Reads one request (head and Content-Length body) from a raw connection;
/// `None` at EOF. Bytes of a following request stay in `buf`.
pub async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                if !fill(stream, buf).await {
                    return None;
                }
            }
            let body = buf[end + 4..end + 4 + length].to_vec();
            buf.drain(..end + 4 + length);
            return Some((head, body));
        }
        if !fill(stream, buf).await {
            return None;
        }
    }
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await {
        Ok(Ok(n)) if n > 0 => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
        _ => false,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes bytes, ignoring errors (the client may have gone).
pub async fn write(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes).await;
}

/// Polls `check` every few milliseconds, for at most 5 s.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Bounds a test step so that a hang fails instead of blocking the suite.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}
