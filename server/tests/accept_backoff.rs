//! The accept loop's backoff (Go: `Server.Serve`, server.go:3040, `tempDelay`), exact and
//! fast: a scripted [`Listener`] fails on cue, and tokio's paused clock
//! makes every sleep instant while keeping its length measurable.
//!
//! The sequence asserted: 5 ms doubling to 1 s and staying there, reset to
//! 5 ms after a successful accept, a permanent error ending `serve`, and the
//! connection accepted in between served normally (the recovery).

use libc::{EBADF, EMFILE};
use server::net_conn::NetConn;
use server::{handler_fn, Config, Error, Listener, NetAddr, Server};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

enum Step {
    Fail(i32),
    Accept(TcpStream, SocketAddr),
}

/// A listener that plays a script, and notes when each `accept` was called.
struct ScriptedListener {
    steps: VecDeque<Step>,
    /// When the script runs out: keep failing with this errno, or (None) hang.
    then: Option<i32>,
    calls: Arc<Mutex<Vec<Instant>>>,
}

impl Listener for ScriptedListener {
    fn accept(&mut self) -> impl std::future::Future<Output = io::Result<(NetConn, NetAddr)>> + Send {
        self.calls.lock().unwrap().push(Instant::now());
        let step = self.steps.pop_front();
        let then = self.then;
        async move {
            match (step, then) {
                (Some(Step::Fail(errno)), _) | (None, Some(errno)) => {
                    Err(io::Error::from_raw_os_error(errno))
                }
                (Some(Step::Accept(stream, addr)), _) => Ok((NetConn::Tcp(stream), NetAddr::Tcp(addr))),
                (None, None) => std::future::pending().await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<NetAddr> {
        Ok(NetAddr::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))))
    }
}

/// A connected pair over 127.0.0.1: (the server's end, its peer address, the client's end).
fn tcp_pair() -> (TcpStream, SocketAddr, TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server_end, peer) = listener.accept().unwrap();
    server_end.set_nonblocking(true).unwrap();
    client.set_nonblocking(true).unwrap();
    (
        TcpStream::from_std(server_end).unwrap(),
        peer,
        TcpStream::from_std(client).unwrap(),
    )
}

fn hello_server() -> Server {
    Server::new(
        Config::default(),
        handler_fn(|w, _r| {
            Box::pin(async move {
                let _ = w.write(b"Hello, World!").await;
            })
        }),
    )
}

fn gaps_ms(calls: &[Instant]) -> Vec<u128> {
    calls.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect()
}

#[tokio::test(start_paused = true)]
async fn backoff_doubles_to_one_second_resets_after_success_and_recovers() {
    let (first, first_peer, mut first_client) = tcp_pair();
    let (second, second_peer, mut second_client) = tcp_pair();
    let mut steps = VecDeque::new();
    steps.extend((0..10).map(|_| Step::Fail(EMFILE)));
    steps.push_back(Step::Accept(first, first_peer));
    steps.extend((0..3).map(|_| Step::Fail(EMFILE)));
    steps.push_back(Step::Accept(second, second_peer));
    steps.push_back(Step::Fail(EBADF));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let listener = ScriptedListener {
        steps,
        then: None,
        calls: calls.clone(),
    };
    // The requests wait in the socket buffers until the connections are accepted.
    first_client
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    second_client
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();

    let server = hello_server();
    let result = server.serve(listener).await;

    // A permanent error ends serve with that error.
    match result {
        Err(Error::Accept(e)) => assert_eq!(e.raw_os_error(), Some(EBADF)),
        other => panic!("expected the permanent accept error, got {other:?}"),
    }
    let gaps = gaps_ms(&calls.lock().unwrap());
    assert_eq!(
        gaps,
        [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 0, 5, 10, 20, 0],
        "delays between accept calls, in ms"
    );

    // Recovery: both accepted connections are served. Real time again, so
    // that the bounded reads below do not time out at once.
    tokio::time::resume();
    for client in [&mut first_client, &mut second_client] {
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), async {
            let mut buf = [0u8; 1024];
            while !got.ends_with(b"Hello, World!") {
                let n = client.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed before the response");
                got.extend_from_slice(&buf[..n]);
            }
        })
        .await;
        assert!(read.is_ok(), "no response on an accepted connection");
        assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"));
    }
}

#[tokio::test(start_paused = true)]
async fn close_during_the_backoff_ends_serve_with_server_closed() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let listener = ScriptedListener {
        steps: VecDeque::new(),
        then: Some(EMFILE),
        calls: calls.clone(),
    };
    let server = hello_server();
    let serving = tokio::spawn({
        let server = server.clone();
        async move { server.serve(listener).await }
    });
    // Let it fail and back off a few times (virtual time), then close.
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.close();
    let result = serving.await.unwrap();
    assert!(matches!(result, Err(Error::ServerClosed)), "{result:?}");
    let gaps = gaps_ms(&calls.lock().unwrap());
    assert_eq!(gaps[..4], [5, 10, 20, 40]);
}

#[test]
fn temporary_errors_are_the_ones_that_pass_with_time() {
    for errno in [
        libc::EMFILE,
        libc::ENFILE,
        libc::ENOBUFS,
        libc::ENOMEM,
        libc::ECONNABORTED,
    ] {
        assert!(
            server::is_temporary_accept_error(&io::Error::from_raw_os_error(errno)),
            "{errno}"
        );
    }
    assert!(!server::is_temporary_accept_error(&io::Error::from_raw_os_error(
        EBADF
    )));
    assert!(!server::is_temporary_accept_error(&io::Error::from_raw_os_error(
        libc::EINVAL
    )));
}
