//! `https://` with our client against a hyper + tokio-rustls server on
//! 127.0.0.1, certificates made by a CA of the test's own: the
//! handshake's details in the trace; connection reuse over TLS 1.3 and
//! 1.2, also when the server sends TLS records of its own between
//! responses; a session the server ended while idle; and clear errors
//! for an untrusted CA, a wrong name, an expired certificate and a
//! server that never finishes the handshake.

mod common;

use client_pool::{Client, Error, GotConnInfo, TlsError, Transport, TransportConfig};
use common::tls::{hyper_tls_server, hyper_tls_server_with, server_config, server_config_for, TestCa};
use common::{eventually, within};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn client_trusting(ca: &TestCa) -> Client {
    Client::with_transport(Transport::new(TransportConfig {
        tls_config: ca.client_config(),
        ..TransportConfig::default()
    }))
}

async fn get(client: &Client, url: &str) -> (GotConnInfo, String) {
    let mut resp = within("GET", client.get(url)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let info = resp.extensions().get::<GotConnInfo>().cloned().unwrap();
    (info, resp.body_mut().text().await.unwrap())
}

#[tokio::test]
async fn https_requests_reuse_their_connection_and_report_the_handshake() {
    let ca = TestCa::new();
    let server = hyper_tls_server(&ca.leaf(&["127.0.0.1"])).await;
    let client = client_trusting(&ca);

    let (first, text) = get(&client, &server.https_url("/")).await;
    assert_eq!(text, "hello over tls: 0 body bytes");
    assert!(!first.reused);
    let tls = first.tls.clone().expect("TLS details in GotConnInfo");
    assert_eq!(tls.version, rustls::ProtocolVersion::TLSv1_3);
    assert_eq!(tls.alpn.as_deref(), Some("http/1.1"));
    assert_eq!(tls.server_name, "127.0.0.1");
    assert!(
        format!("{:?}", tls.cipher_suite).starts_with("TLS13_"),
        "{:?}",
        tls.cipher_suite
    );

    let resp = within(
        "POST",
        client.post(&server.https_url("/"), "text/plain", "twelve bytes"),
    )
    .await;
    let (second, text) = {
        let mut resp = resp.unwrap();
        let info = resp.extensions().get::<GotConnInfo>().cloned().unwrap();
        (info, resp.body_mut().text().await.unwrap())
    };
    assert_eq!(text, "hello over tls: 12 body bytes");
    assert!(second.reused && second.was_idle, "{second:?}");
    assert_eq!(second.conn_id, first.conn_id);
    assert_eq!(second.tls, first.tls);
    assert_eq!(client.transport().stats().dials, 1);
    assert_eq!(server.counts.accepted(), 1);
}

#[tokio::test]
async fn a_tls_1_2_server_is_reached_and_reused_too() {
    let ca = TestCa::new();
    let config = server_config_for(&ca.leaf(&["127.0.0.1"]), &rustls::version::TLS12);
    let server = hyper_tls_server_with(config).await;
    let client = client_trusting(&ca);
    let (first, _) = get(&client, &server.https_url("/")).await;
    let tls = first.tls.clone().expect("TLS details");
    assert_eq!(tls.version, rustls::ProtocolVersion::TLSv1_2);
    assert_eq!(tls.alpn.as_deref(), Some("http/1.1"));
    let (second, _) = get(&client, &server.https_url("/")).await;
    assert!(second.reused, "{second:?}");
    assert_eq!(server.counts.accepted(), 1);
}

/// A TLS 1.3 server may send records of its own to an idle connection:
/// session tickets, a key update. Under TLS they are bytes on the socket
/// like a response would be; the connection must still be reused. This
/// server sends a `KeyUpdate` once the client has read the first response
/// (when the test says so) and tells the test when it is on the wire, so
/// the second request surely finds it waiting on the idle connection.
#[tokio::test]
async fn records_sent_by_the_server_between_responses_do_not_spoil_an_idle_connection() {
    let ca = TestCa::new();
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&ca.leaf(&["127.0.0.1"])));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (send_update, update_wanted) = mpsc::channel::<()>(1);
    let key_updates = Arc::new(AtomicUsize::new(0));
    let sent = key_updates.clone();
    tokio::spawn(async move {
        // The first connection sends the key update; any later one would
        // be the client failing to reuse it, and is served plainly.
        let mut update_wanted = Some(update_wanted);
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let (mut update_wanted, sent) = (update_wanted.take(), sent.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                loop {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut chunk).await {
                            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                            _ => return,
                        }
                    }
                    buf.clear();
                    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                    if tls.write_all(answer).await.is_err() || tls.flush().await.is_err() {
                        return;
                    }
                    if let Some(mut wanted) = update_wanted.take() {
                        if wanted.recv().await.is_none() {
                            return;
                        }
                        tls.get_mut().1.refresh_traffic_keys().unwrap();
                        if tls.flush().await.is_err() {
                            return;
                        }
                        sent.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });

    let client = client_trusting(&ca);
    let url = format!("https://{addr}/");
    let (first, text) = get(&client, &url).await;
    assert_eq!(text, "ok");
    send_update.send(()).await.unwrap();
    eventually("the key update is sent", || {
        key_updates.load(Ordering::SeqCst) == 1
    })
    .await;
    let (second, text) = get(&client, &url).await;
    assert_eq!(text, "ok");
    assert!(second.reused, "{second:?}");
    assert_eq!(second.conn_id, first.conn_id);
    assert_eq!(client.transport().stats().dials, 1);
}

async fn handshake_error(client: &Client, url: &str) -> TlsError {
    match within("GET", client.get(url)).await {
        Err(Error::Tls { cause, .. }) => cause,
        other => panic!("wanted a TLS error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused_by_name() {
    let (ours, theirs) = (TestCa::new(), TestCa::new());
    let server = hyper_tls_server(&theirs.leaf(&["127.0.0.1"])).await;
    let client = client_trusting(&ours);
    let url = server.https_url("/");
    let cause = handshake_error(&client, &url).await;
    assert!(matches!(cause, TlsError::UnknownIssuer), "{cause:?}");
    let err = client.get(&url).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "tls: handshake with 127.0.0.1: x509: certificate signed by unknown authority"
    );
    // The default roots (webpki-roots) do not know a private CA either.
    let default_client = Client::new();
    let cause = handshake_error(&default_client, &url).await;
    assert!(matches!(cause, TlsError::UnknownIssuer), "{cause:?}");
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused_naming_both() {
    let ca = TestCa::new();
    let server = hyper_tls_server(&ca.leaf(&["example.com"])).await;
    let client = client_trusting(&ca);
    let cause = handshake_error(&client, &server.https_url("/")).await;
    match &cause {
        TlsError::NameMismatch { expected, presented } => {
            assert_eq!(expected, "127.0.0.1");
            assert_eq!(presented, &["example.com"]);
        }
        other => panic!("wanted a name mismatch, got {other:?}"),
    }
    assert_eq!(
        cause.to_string(),
        "x509: certificate is valid for example.com, not 127.0.0.1"
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused_as_expired() {
    let ca = TestCa::new();
    let server = hyper_tls_server(&ca.expired_leaf(&["127.0.0.1"])).await;
    let cause = handshake_error(&client_trusting(&ca), &server.https_url("/")).await;
    assert!(matches!(cause, TlsError::Expired), "{cause:?}");
    assert_eq!(cause.to_string(), "x509: certificate has expired");
}

#[tokio::test]
async fn a_server_that_never_answers_the_client_hello_times_out() {
    // Accepts connections and holds them, silent.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let client = Client::with_transport(Transport::new(TransportConfig {
        tls_handshake_timeout: Some(Duration::from_millis(100)),
        ..TransportConfig::default()
    }));
    let err = within("GET", client.get(&format!("https://{addr}/")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TlsHandshakeTimeout { .. }), "{err:?}");
    assert!(err.is_timeout());
    assert!(
        err.to_string().starts_with("net/http: TLS handshake timeout"),
        "{err}"
    );
}

#[tokio::test]
async fn a_ca_file_in_pem_is_what_cacert_trusts() {
    let ca = TestCa::new();
    let server = hyper_tls_server(&ca.leaf(&["127.0.0.1"])).await;
    let dir = std::env::temp_dir().join(format!("client-pool-cacert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ca.pem");
    std::fs::write(&path, ca.pem()).unwrap();
    let tls_config = client_pool::tls_config_trusting_pem(&path).unwrap();
    let client = Client::with_transport(Transport::new(TransportConfig {
        tls_config,
        ..TransportConfig::default()
    }));
    let (_, text) = get(&client, &server.https_url("/")).await;
    assert_eq!(text, "hello over tls: 0 body bytes");

    std::fs::write(&path, "not a certificate\n").unwrap();
    let err = client_pool::tls_config_trusting_pem(&path).unwrap_err();
    assert!(matches!(err, Error::TlsConfig(_)), "{err:?}");
    assert!(err.to_string().contains("no certificate"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A server that ends the session after one response (`close_notify`,
/// then FIN): the pool must see that through TLS before it lends the
/// connection, or a POST, which is not retried, would fail on it.
#[tokio::test]
async fn a_session_the_server_closed_while_idle_is_not_lent() {
    let ca = TestCa::new();
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&ca.leaf(&["127.0.0.1"])));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let closed = Arc::new(AtomicUsize::new(0));
    let count = closed.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let count = count.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                        _ => return,
                    }
                }
                let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                let _ = tls.write_all(answer).await;
                let _ = tls.shutdown().await;
                drop(tls);
                count.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    let client = client_trusting(&ca);
    let url = format!("https://{addr}/");
    let (first, _) = get(&client, &url).await;
    eventually("the server closes", || closed.load(Ordering::SeqCst) == 1).await;
    let mut resp = within("POST", client.post(&url, "text/plain", "once"))
        .await
        .unwrap();
    assert_eq!(resp.body_mut().text().await.unwrap(), "ok");
    let second = resp.extensions().get::<GotConnInfo>().cloned().unwrap();
    assert!(!second.reused && second.conn_id != first.conn_id, "{second:?}");
}

/// Both ends ours: our client over https to our server's `serve_tls`. The
/// handler sees the session as Go's `r.TLS` shows it (TLS 1.3, ALPN
/// `http/1.1`, the name the client sent by SNI), and the second request
/// rides the same session.
#[tokio::test]
async fn our_client_and_our_server_speak_tls_to_each_other() {
    let ca = TestCa::new();
    let tls = server_config(&ca.leaf(&["localhost"]));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler = server::handler_fn(|w, r| {
        let seen = match r.tls() {
            Some(tls) => format!(
                "{:?} alpn={:?} sni={:?}",
                tls.version, tls.negotiated_protocol, tls.server_name
            ),
            None => "plain".to_owned(),
        };
        Box::pin(async move {
            let _ = w.write(seen.as_bytes()).await;
        })
    });
    let server = server::Server::new(server::Config::default(), handler);
    let serving = server.clone();
    tokio::spawn(async move { serving.serve_tls(listener, tls).await });

    let client = client_trusting(&ca);
    let url = format!("https://localhost:{port}/");
    let (first, text) = get(&client, &url).await;
    assert_eq!(text, r#"TLSv1_3 alpn=Some("http/1.1") sni=Some("localhost")"#);
    assert!(!first.reused);
    let (second, _) = get(&client, &url).await;
    assert!(second.reused, "the second request rode the same session");
    server.close();
}
