//! Accepted connections get TCP_NODELAY and TCP keep-alive, as Go sets on
//! every connection (`Config::tcp_nodelay`, `Config::tcp_keepalive`). A
//! listener wrapper keeps a duplicate of each accepted socket so the test
//! can read the options the server set on it.

mod runtime_support;

use server::{Config, Listener, Server};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// A real listener that keeps a duplicate of every accepted socket.
struct Spy {
    inner: TcpListener,
    accepted: Arc<Mutex<Vec<std::net::TcpStream>>>,
}

impl Listener for Spy {
    async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self.inner.accept().await?;
        let std_stream = stream.into_std()?;
        self.accepted.lock().unwrap().push(std_stream.try_clone()?);
        Ok((TcpStream::from_std(std_stream)?, addr))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

async fn accepted_socket(config: Config) -> std::net::TcpStream {
    let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = inner.local_addr().unwrap();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let server = Server::new(config, runtime_support::app());
    tokio::spawn({
        let server = server.clone();
        let spy = Spy {
            inner,
            accepted: accepted.clone(),
        };
        async move { server.serve(spy).await }
    });
    // A full round trip proves the server has set up the connection.
    let mut c = runtime_support::RawConn::connect(addr).await;
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(c.response().await.status, 200);
    let socket = accepted.lock().unwrap().pop().unwrap();
    server.close();
    socket
}

#[tokio::test]
async fn nodelay_and_keepalive_are_set_by_default() {
    let socket = accepted_socket(Config::default()).await;
    let sock = socket2::SockRef::from(&socket);
    assert!(sock.tcp_nodelay().unwrap());
    assert!(sock.keepalive().unwrap());
    assert_eq!(sock.tcp_keepalive_time().unwrap(), Duration::from_secs(15));
}

#[tokio::test]
async fn both_can_be_turned_off() {
    let config = Config {
        tcp_nodelay: false,
        tcp_keepalive: None,
        ..Config::default()
    };
    let socket = accepted_socket(config).await;
    let sock = socket2::SockRef::from(&socket);
    assert!(!sock.tcp_nodelay().unwrap());
    assert!(!sock.keepalive().unwrap());
}
