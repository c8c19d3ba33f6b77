//! Requests over a Unix domain socket (Go users dial one with a custom
//! `DialContext`; curl has `--unix-socket`): every request goes to the
//! socket whatever its URL's host, which still names the `Host` sent and
//! the pool key. The server is hyper on a `UnixListener` in a temporary
//! directory.

mod common;

use client_pool::{Client, Error, GotConnInfo, Transport, TransportConfig};
use common::within;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::path::PathBuf;
use tokio::net::UnixListener;

/// A directory of its own for each test's socket, removed at the end.
struct SocketDir(PathBuf);

impl SocketDir {
    fn new(name: &str) -> SocketDir {
        let dir = std::env::temp_dir().join(format!("client-pool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        SocketDir(dir)
    }
    fn path(&self) -> PathBuf {
        self.0.join("http.sock")
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// hyper on a Unix socket, answering with the request's `Host`.
fn serve_unix(path: &PathBuf) {
    let listener = UnixListener::bind(path).unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let host = req
                        .headers()
                        .get("host")
                        .and_then(|h| h.to_str().ok())
                        .unwrap_or("-")
                        .to_owned();
                    let text = format!("{} {} host={host}", req.method(), req.uri());
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(bytes::Bytes::from(
                        text,
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

fn unix_client(path: PathBuf) -> Client {
    Client::with_transport(Transport::new(TransportConfig {
        unix_socket: Some(path),
        ..TransportConfig::default()
    }))
}

#[tokio::test]
async fn requests_go_over_the_unix_socket_and_reuse_it() {
    let dir = SocketDir::new("unix");
    serve_unix(&dir.path());
    let client = unix_client(dir.path());
    let mut infos = Vec::new();
    for path in ["/a", "/b?c=d"] {
        let mut resp = within("GET", client.get(&format!("http://api.local{path}")))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let text = resp.body_mut().text().await.unwrap();
        assert_eq!(text, format!("GET {path} host=api.local"));
        infos.push(resp.extensions().get::<GotConnInfo>().cloned().unwrap());
    }
    assert!(!infos[0].reused && infos[1].reused, "{infos:?}");
    // A Unix socket has no IP addresses to report.
    assert_eq!((infos[0].local_addr, infos[0].remote_addr), (None, None));
    assert_eq!(client.transport().stats().dials, 1);
}

#[tokio::test]
async fn a_missing_socket_is_named_in_the_error() {
    let dir = SocketDir::new("unix-missing");
    let client = unix_client(dir.path());
    let err = within("GET", client.get("http://api.local/")).await.unwrap_err();
    assert!(matches!(err, Error::DialUnix { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("dial unix {}: ", dir.path().display())),
        "{text}"
    );
}

#[tokio::test]
async fn https_over_a_unix_socket_is_refused_plainly() {
    let dir = SocketDir::new("unix-https");
    serve_unix(&dir.path());
    let err = within("GET", unix_client(dir.path()).get("https://api.local/"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    assert_eq!(err.to_string(), "not supported: https:// over a Unix socket");
}
