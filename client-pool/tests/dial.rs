//! Dial failures name the address and the cause: a refused connection,
//! and a dial timeout against a listener whose accept queue is full (the
//! kernel then drops our SYN, so the connect hangs, all on 127.0.0.1).

mod common;

use client_pool::{Client, Error, Transport, TransportConfig};
use common::within;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[tokio::test]
async fn a_refused_connection_names_the_address() {
    // Bind then drop: nothing listens on that port any more.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::new();
    let err = within("GET", client.get(&format!("http://{addr}/")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Dial { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with(&format!("dial tcp {addr}: ")), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

/// A listener with a backlog of 0 and its queue filled by connections
/// nobody accepts; `None` if this kernel still completes new handshakes.
fn full_backlog_listener() -> Option<(socket2::Socket, SocketAddr, Vec<TcpStream>)> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut held = Vec::new();
    for _ in 0..8 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => held.push(stream),
            Err(_) => return Some((socket, addr, held)),
        }
    }
    None
}

#[tokio::test]
async fn a_dial_timeout_names_the_address_and_the_limit() {
    let Some((_listener, addr, _held)) = full_backlog_listener() else {
        eprintln!("skipped: this kernel completes handshakes beyond a full backlog");
        return;
    };
    let client = Client::with_transport(Transport::new(TransportConfig {
        dial_timeout: Duration::from_millis(200),
        ..TransportConfig::default()
    }));
    let err = within("GET", client.get(&format!("http://{addr}/")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DialTimeout { .. }), "{err:?}");
    assert!(err.is_timeout());
    assert_eq!(
        err.to_string(),
        format!("dial tcp {addr}: i/o timeout after 200ms")
    );
}

#[tokio::test]
async fn bad_urls_are_refused_before_any_dial() {
    let client = Client::new();
    let err = client.get("ftp://127.0.0.1:1/").await.unwrap_err();
    assert_eq!(err.to_string(), "unsupported protocol scheme \"ftp\"");
    let err = client.get("/relative").await.unwrap_err();
    assert!(matches!(err, Error::InvalidUrl(_)), "{err:?}");
}

#[tokio::test]
async fn waiters_behind_a_per_host_limit_all_get_the_dial_error() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::with_transport(Transport::new(TransportConfig {
        max_conns_per_host: 2,
        ..TransportConfig::default()
    }));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = client.clone();
        let url = format!("http://{addr}/");
        tasks.push(tokio::spawn(async move { client.get(&url).await.map(|_| ()) }));
    }
    // Each failed dial passes the right to dial to the next waiter: none hangs.
    for task in tasks {
        let err = within("a GET behind the limit", task).await.unwrap().unwrap_err();
        assert!(matches!(err, Error::Dial { .. }), "{err:?}");
    }
    assert_eq!(client.transport().stats().dials, 0);
}
