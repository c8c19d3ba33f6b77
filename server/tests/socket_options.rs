//! Accepted connections get TCP_NODELAY and TCP keep-alive, as Go sets on
//! every connection (`Config::tcp_nodelay`, `Config::tcp_keepalive`). A
//! listener wrapper keeps a duplicate of each accepted socket so the test
//! can read the options the server set on it.
//!
//! Both ways the options get there are checked: inherited from a listening
//! socket that `Server::bind` made with them, and set by the server on each
//! accepted socket when the listener lacks them or does not say what it is.

mod runtime_support;

use server::net_conn::NetConn;
use server::{Config, Listener, NetAddr, Server};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// A real listener that keeps a duplicate of every accepted socket.
struct Spy {
    inner: TcpListener,
    accepted: Arc<Mutex<Vec<std::net::TcpStream>>>,
    /// Whether `tcp_listener` returns the inner listener.
    lends_listener: bool,
}

impl Listener for Spy {
    async fn accept(&mut self) -> io::Result<(NetConn, NetAddr)> {
        let (stream, addr) = self.inner.accept().await?;
        let std_stream = stream.into_std()?;
        self.accepted.lock().unwrap().push(std_stream.try_clone()?);
        Ok((NetConn::Tcp(TcpStream::from_std(std_stream)?), NetAddr::Tcp(addr)))
    }

    fn local_addr(&self) -> io::Result<NetAddr> {
        self.inner.local_addr().map(NetAddr::Tcp)
    }

    fn tcp_listener(&self) -> Option<&TcpListener> {
        self.lends_listener.then_some(&self.inner)
    }
}

/// How the listener under the spy is made.
#[derive(Debug, Clone, Copy)]
enum Listening {
    /// By `Server::bind`, with the options, and lent to the server.
    BoundByServer,
    /// By `TcpListener::bind`, without them, lent to the server.
    PlainLent,
    /// By `TcpListener::bind`, not lent: the server cannot look at it.
    PlainHidden,
}

const ALL_WAYS: [Listening; 3] = [
    Listening::BoundByServer,
    Listening::PlainLent,
    Listening::PlainHidden,
];

async fn accepted_socket(mut config: Config, listening: Listening) -> std::net::TcpStream {
    config.addr = "127.0.0.1:0".into();
    let server = Server::new(config, runtime_support::app());
    let inner = match listening {
        Listening::BoundByServer => server.bind().await.unwrap(),
        Listening::PlainLent | Listening::PlainHidden => TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    let lends_listener = !matches!(listening, Listening::PlainHidden);
    let addr = inner.local_addr().unwrap();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn({
        let server = server.clone();
        let spy = Spy {
            inner,
            accepted: accepted.clone(),
            lends_listener,
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
    for listening in ALL_WAYS {
        let socket = accepted_socket(Config::default(), listening).await;
        let sock = socket2::SockRef::from(&socket);
        assert!(sock.tcp_nodelay().unwrap(), "{listening:?}");
        assert!(sock.keepalive().unwrap(), "{listening:?}");
        assert_eq!(
            sock.tcp_keepalive_time().unwrap(),
            Duration::from_secs(15),
            "{listening:?}"
        );
        assert_eq!(
            sock.tcp_keepalive_interval().unwrap(),
            Duration::from_secs(15),
            "{listening:?}"
        );
    }
}

#[tokio::test]
async fn both_can_be_turned_off() {
    for listening in ALL_WAYS {
        let config = Config {
            tcp_nodelay: false,
            tcp_keepalive: None,
            ..Config::default()
        };
        let socket = accepted_socket(config, listening).await;
        let sock = socket2::SockRef::from(&socket);
        assert!(!sock.tcp_nodelay().unwrap(), "{listening:?}");
        assert!(!sock.keepalive().unwrap(), "{listening:?}");
    }
}
