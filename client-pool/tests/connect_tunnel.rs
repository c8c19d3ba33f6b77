//! `https://` through an HTTP proxy: a `CONNECT host:port` tunnel first,
//! TLS to the origin inside it (Go: `Transport.dialConn` with a proxy and
//! an https target), the tunnel pooled under its own key and reused; a
//! proxy that refuses the tunnel gives an error naming its status.

mod common;

use client_pool::{Client, Error, GotConnInfo, Transport, TransportConfig};
use common::tls::{hyper_tls_server, TestCa};
use common::within;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A small forward proxy that only tunnels: it reads a `CONNECT` head,
/// records its request line, and either refuses with `refusal` or
/// answers 200 and copies bytes both ways until either side closes.
async fn tunnel_proxy(refusal: Option<&'static str>) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                // Byte by byte: nothing after the head may be swallowed.
                while !head.ends_with(b"\r\n\r\n") {
                    match client.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let line = head.lines().next().unwrap_or_default().to_owned();
                log.lock().unwrap().push(line.clone());
                if let Some(status) = refusal {
                    let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                    let _ = client.write_all(answer.as_bytes()).await;
                    return;
                }
                let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
                let Ok(mut origin) = TcpStream::connect(&target).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
                if client.write_all(established).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut origin).await;
                }
            });
        }
    });
    (addr, seen)
}

fn client_through(proxy: SocketAddr, ca: &TestCa) -> Client {
    Client::with_transport(Transport::new(TransportConfig {
        proxy: Some(format!("http://{proxy}").parse().unwrap()),
        tls_config: ca.client_config(),
        ..TransportConfig::default()
    }))
}

#[tokio::test]
async fn https_through_a_proxy_opens_one_tunnel_and_reuses_it() {
    let ca = TestCa::new();
    let origin = hyper_tls_server(&ca.leaf(&["127.0.0.1"])).await;
    let (proxy, seen) = tunnel_proxy(None).await;
    let client = client_through(proxy, &ca);

    let mut infos = Vec::new();
    for _ in 0..3 {
        let mut resp = within("GET through the tunnel", client.get(&origin.https_url("/x")))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.body_mut().text().await.unwrap(),
            "hello over tls: 0 body bytes"
        );
        infos.push(resp.extensions().get::<GotConnInfo>().cloned().unwrap());
    }
    let target = origin.addr.to_string();
    assert_eq!(*seen.lock().unwrap(), [format!("CONNECT {target} HTTP/1.1")]);
    assert_eq!(origin.counts.accepted(), 1);
    assert!(
        !infos[0].reused && infos[1].reused && infos[2].reused,
        "{infos:?}"
    );
    // The TCP connection goes to the proxy; TLS is spoken with the origin.
    assert_eq!(infos[0].remote_addr, Some(proxy));
    let tls = infos[0].tls.as_ref().expect("TLS through the tunnel");
    assert_eq!(tls.server_name, "127.0.0.1");
    assert_eq!(client.transport().stats().dials, 1);
}

/// Unlike plain requests through a proxy, which share its connections,
/// a tunnel leads to one origin: each origin has its own key
/// (`http://proxy|https|origin`) and its own tunnels.
#[tokio::test]
async fn each_origin_has_its_own_tunnels() {
    let ca = TestCa::new();
    let first = hyper_tls_server(&ca.leaf(&["127.0.0.1"])).await;
    let second = hyper_tls_server(&ca.leaf(&["127.0.0.1"])).await;
    let (proxy, seen) = tunnel_proxy(None).await;
    let client = client_through(proxy, &ca);
    for url in [
        first.https_url("/"),
        second.https_url("/"),
        first.https_url("/again"),
    ] {
        let mut resp = within("GET", client.get(&url)).await.unwrap();
        resp.body_mut().bytes().await.unwrap();
    }
    let connects = seen.lock().unwrap().clone();
    assert_eq!(
        connects,
        [
            format!("CONNECT {} HTTP/1.1", first.addr),
            format!("CONNECT {} HTTP/1.1", second.addr)
        ]
    );
    assert_eq!(client.transport().stats().reuses, 1);
    assert_eq!(client.transport().stats().idle, 2);
}

#[tokio::test]
async fn a_refused_connect_names_the_status() {
    let ca = TestCa::new();
    let (proxy, seen) = tunnel_proxy(Some("403 Forbidden")).await;
    let client = client_through(proxy, &ca);
    let err = within("GET", client.get("https://origin.invalid/"))
        .await
        .unwrap_err();
    match &err {
        Error::ProxyConnect { status, target, .. } => {
            assert_eq!(*status, 403);
            assert_eq!(target, "origin.invalid:443");
        }
        other => panic!("wanted a refused CONNECT, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!("proxyconnect tcp {proxy}: CONNECT origin.invalid:443: 403 Forbidden")
    );
    assert_eq!(*seen.lock().unwrap(), ["CONNECT origin.invalid:443 HTTP/1.1"]);
    assert_eq!(client.transport().stats().idle, 0);
}
