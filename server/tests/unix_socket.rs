//! The server on a Unix domain socket (Go: `net.Listen("unix", path)`
//! passed to `Serve`): curl's `--unix-socket`, keep-alive, the remote
//! address Go reports for such a client (`@`), and shutdown.

mod runtime_support;
mod tls_support;

use runtime_support::StateLog;
use server::{Config, ConnState, Listener, NetAddr, Server};
use std::path::PathBuf;
use tls_support::{conn_info_app, curl, exchange, read_response, TempDir, TestCert, WAIT};
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

/// A server on a Unix socket in a directory of its own; closed when dropped.
struct UnixServer {
    path: PathBuf,
    server: Server,
    serving: Option<JoinHandle<Result<(), server::Error>>>,
    _dir: TempDir,
}

impl UnixServer {
    async fn start(config: Config) -> UnixServer {
        let dir = TempDir::new();
        let path = dir.path("http.sock");
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            Listener::local_addr(&listener).unwrap().to_string(),
            path.display().to_string(),
            "a Unix listener's address is its path, as Go prints it"
        );
        let server = Server::new(config, conn_info_app());
        let serving = tokio::spawn({
            let server = server.clone();
            async move { server.serve(listener).await }
        });
        UnixServer {
            path,
            server,
            serving: Some(serving),
            _dir: dir,
        }
    }
}

impl Drop for UnixServer {
    fn drop(&mut self) {
        self.server.close();
    }
}

#[tokio::test]
#[cfg_attr(missing_curl, ignore = "needs curl, not on PATH when this test was built")]
async fn curl_gets_a_page_over_a_unix_socket() {
    let s = UnixServer::start(Config::default()).await;
    let out = curl(vec![
        "--unix-socket".into(),
        s.path.display().to_string(),
        "http://x/".into(),
    ])
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Go 1.19's handler prints `remote="@"` for the same request.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "remote=@ tls=-");
}

#[tokio::test]
async fn a_unix_client_keeps_its_connection_alive_and_reports_go_s_address() {
    let log = StateLog::default();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let hook = log.hook();
    let config = Config {
        conn_state: Some(std::sync::Arc::new({
            let seen = seen.clone();
            move |info: &server::ConnInfo, state| {
                seen.lock().unwrap().push(info.remote_addr.clone());
                hook(info, state);
            }
        })),
        ..Config::default()
    };
    let s = UnixServer::start(config).await;
    let mut c = UnixStream::connect(&s.path).await.unwrap();
    for _ in 0..2 {
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let answer = read_response(&mut c).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("remote=@ tls=-"), "{answer}");
    }
    let closing = exchange(&mut c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(closing.unwrap().ends_with("remote=@ tls=-"));
    log.wait_until(|e| e.last().is_some_and(|(_, state)| *state == ConnState::Closed))
        .await;
    // One connection throughout, whose hook saw Go's address for it.
    assert!(log.events().iter().all(|(id, _)| *id == 1), "{:?}", log.events());
    assert!(seen.lock().unwrap().iter().all(|a| *a == NetAddr::unnamed_unix()));
}

#[tokio::test]
async fn shutdown_closes_an_idle_unix_connection_and_ends_serve() {
    let mut s = UnixServer::start(Config::default()).await;
    let mut c = UnixStream::connect(&s.path).await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    read_response(&mut c).await;
    let shutdown = tokio::time::timeout(WAIT, s.server.shutdown(WAIT)).await.unwrap();
    assert!(shutdown.is_ok(), "{shutdown:?}");
    assert_eq!(tls_support::read_to_close(&mut c).await.unwrap(), "");
    let served = s.serving.take().unwrap().await.unwrap();
    assert!(matches!(served, Err(server::Error::ServerClosed)), "{served:?}");
}

#[tokio::test]
async fn tls_on_a_unix_socket_is_refused_by_a_close() {
    let cert = TestCert::new();
    let path = cert.dir.path("tls.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let tls = server::load_server_config(&cert.cert_file, &cert.key_file).unwrap();
    let server = Server::new(Config::default(), conn_info_app());
    let serving = tokio::spawn({
        let server = server.clone();
        async move { server.serve_tls(listener, tls).await }
    });
    let mut c = UnixStream::connect(&path).await.unwrap();
    let answer = exchange(&mut c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(answer.map_or(true, |a| a.is_empty()));
    server.close();
    assert!(serving.await.unwrap().is_err());
}
