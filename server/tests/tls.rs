//! The server over TLS (Go: `ServeTLS`, the handshake in `conn.serve`),
//! against real clients on 127.0.0.1: curl, hyper's client over
//! tokio-rustls, and a rustls client of our own for what the others hide
//! (a handshake left half done, close_notify, plain HTTP on the TLS port).

mod runtime_support;
mod tls_support;

use http_body_util::BodyExt;
use runtime_support::StateLog;
use server::rustls::pki_types::ServerName;
use server::rustls::{ClientConfig, ClientConnection};
use server::tls::{PemProblem, TlsConfigError};
use server::{Config, ConnState};
use std::sync::Arc;
use std::time::Duration;
use tls_support::{conn_info_app, curl, exchange, read_response, read_to_close, TlsServer, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_rustls::TlsConnector;

#[tokio::test]
#[cfg_attr(missing_curl, ignore = "needs curl, not on PATH when this test was built")]
async fn curl_gets_a_page_over_https_trusting_our_certificate() {
    let s = TlsServer::start(Config::default(), conn_info_app()).await;
    let port = s.addr.port();
    let out = curl(vec![
        "--cacert".into(),
        s.cert.cert_file.display().to_string(),
        "--resolve".into(),
        format!("localhost:{port}:127.0.0.1"),
        format!("https://localhost:{port}/"),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "curl failed: {stderr}");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.starts_with("remote=127.0.0.1:"), "{body}");
    assert!(body.contains(" alpn=http/1.1 sni=localhost"), "{body}");
}

#[tokio::test]
async fn hyper_over_rustls_sends_several_requests_on_one_connection() {
    let log = StateLog::default();
    let config = Config {
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let s = TlsServer::start(config, conn_info_app()).await;
    let io = hyper_util::rt::TokioIo::new(s.connect().await);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    for _ in 0..3 {
        let request = http::Request::get("/")
            .header("host", "localhost")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        let response = tokio::time::timeout(WAIT, sender.send_request(request))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.ends_with("tls=TLSv1_3 alpn=http/1.1 sni=localhost"),
            "{body}"
        );
    }
    // All three on the one connection, whose states are a plain one's:
    // New during the handshake, then Active and Idle in turn.
    log.wait_until(|e| e.len() >= 6).await;
    let ids: std::collections::BTreeSet<u64> = log.events().iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 1, "{:?}", log.events());
    let states: Vec<ConnState> = log.events().iter().map(|(_, s)| *s).collect();
    use ConnState::{Active, Idle, New};
    assert_eq!(states[..6], [New, Active, Idle, Active, Idle, Active]);
}

#[tokio::test]
async fn a_handler_sees_the_tls_version_alpn_and_sni() {
    let s = TlsServer::start(Config::default(), conn_info_app()).await;
    let request = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

    let mut named = s.connect_as("localhost", &[b"http/1.1"]).await.unwrap();
    let answer = exchange(&mut named, request).await.unwrap();
    assert!(
        answer.ends_with("tls=TLSv1_3 alpn=http/1.1 sni=localhost"),
        "{answer}"
    );

    // An IP address is never sent by SNI (RFC 6066 section 3), and a
    // client may offer no ALPN at all.
    let mut by_ip = s.connect_as("127.0.0.1", &[]).await.unwrap();
    let answer = exchange(&mut by_ip, request).await.unwrap();
    assert!(answer.ends_with("tls=TLSv1_3 alpn=- sni=-"), "{answer}");

    // A TLS 1.2 client.
    let mut config = ClientConfig::builder_with_provider(server::tls::crypto_provider())
        .with_protocol_versions(&[&server::rustls::version::TLS12])
        .unwrap()
        .with_root_certificates({
            let mut roots = server::rustls::RootCertStore::empty();
            roots.add(s.cert.der.clone()).unwrap();
            roots
        })
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(s.addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut old = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let answer = exchange(&mut old, request).await.unwrap();
    assert!(
        answer.ends_with("tls=TLSv1_2 alpn=http/1.1 sni=localhost"),
        "{answer}"
    );
}

#[tokio::test]
async fn plain_http_on_the_tls_port_gets_gos_answer_and_a_close() {
    let s = TlsServer::start(Config::default(), conn_info_app()).await;
    for request in [
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b",
    ] {
        let mut tcp = TcpStream::connect(s.addr).await.unwrap();
        let answer = exchange(&mut tcp, request).await.unwrap();
        assert_eq!(
            answer,
            "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
        );
    }
    // Other bytes that are not TLS get no answer, only the close.
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let answer = exchange(&mut tcp, "HELLO THERE\r\n\r\n").await;
    assert!(answer.map_or(true, |a| !a.contains("HTTP")));
    assert_still_serving(&s).await;
}

/// Connects two clients that never finish their handshake: one sends
/// nothing, one half of a real ClientHello.
async fn stalled_clients(s: &TlsServer) -> [(&'static str, TcpStream); 2] {
    let silent = TcpStream::connect(s.addr).await.unwrap();
    let mut halfway = TcpStream::connect(s.addr).await.unwrap();
    let hello = client_hello(s);
    halfway.write_all(&hello[..hello.len() / 2]).await.unwrap();
    [("silent", silent), ("halfway", halfway)]
}

/// Each stalled client is closed by the server, with no answer.
async fn assert_cut(stalled: [(&'static str, TcpStream); 2]) {
    for (name, mut stalled) in stalled {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(WAIT, stalled.read_to_end(&mut rest))
            .await
            .unwrap_or_else(|_| panic!("the {name} client was never cut"));
        assert!(read.is_err() || rest.is_empty(), "{name} got {rest:?}");
    }
}

#[tokio::test]
async fn clients_stuck_in_their_handshake_hold_up_nobody_not_even_shutdown() {
    // No timeout at all: only the handshake's place, in each
    // connection's own task, lets the others through.
    let config = Config {
        tls_handshake_timeout: None,
        ..Config::default()
    };
    let s = TlsServer::start(config, conn_info_app()).await;
    let stalled = stalled_clients(&s).await;
    for _ in 0..3 {
        assert_still_serving(&s).await;
    }
    // A connection still in its handshake is idle to shutdown.
    let shutdown = tokio::time::timeout(WAIT, s.server.shutdown(WAIT)).await.unwrap();
    assert!(shutdown.is_ok(), "{shutdown:?}");
    assert_cut(stalled).await;
}

#[tokio::test]
async fn a_client_stuck_in_its_handshake_is_cut_at_the_timeout() {
    let config = Config {
        tls_handshake_timeout: Some(Duration::from_millis(300)),
        ..Config::default()
    };
    let s = TlsServer::start(config, conn_info_app()).await;
    let stalled = stalled_clients(&s).await;
    assert_cut(stalled).await;
    assert_still_serving(&s).await;
}

#[tokio::test]
async fn a_failed_handshake_disturbs_nobody_else() {
    let s = TlsServer::start(Config::default(), conn_info_app()).await;
    // A client that trusts another certificate gives up in the handshake.
    let other = tls_support::TestCert::new();
    let tcp = TcpStream::connect(s.addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let refused = TlsConnector::from(other.client_config(&[b"http/1.1"]))
        .connect(name, tcp)
        .await;
    assert!(refused.is_err());
    // A client that offers only a protocol we do not speak is refused by
    // ALPN (RFC 7301 section 3.2: no_application_protocol).
    assert!(s.connect_as("localhost", &[b"h2"]).await.is_err());
    assert_still_serving(&s).await;
}

#[tokio::test]
async fn every_close_says_close_notify() {
    let config = Config {
        idle_timeout: Some(Duration::from_millis(100)),
        ..Config::default()
    };
    let s = TlsServer::start(config, conn_info_app()).await;

    // The client asked to close: the read ends cleanly (a TLS reader
    // reports a close without close_notify as UnexpectedEof).
    let mut asked = s.connect().await;
    let answer = exchange(
        &mut asked,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.is_ok(), "{answer:?}");

    // The idle timeout closed it.
    let mut idle = s.connect().await;
    idle.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    read_response(&mut idle).await;
    let rest = read_to_close(&mut idle).await;
    assert_eq!(rest.unwrap(), "");

    // A malformed request: answered 400, then closed.
    let mut bad = s.connect().await;
    let answer = exchange(&mut bad, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
}

#[tokio::test]
async fn read_header_timeout_cuts_a_slow_tls_client_as_a_plain_one() {
    let log = StateLog::default();
    let config = Config {
        read_header_timeout: Some(Duration::from_millis(200)),
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let s = TlsServer::start(config, conn_info_app()).await;
    let mut slow = s.connect().await;
    slow.write_all(b"GET / HTTP/1.1\r\nHost: loc").await.unwrap();
    let rest = read_to_close(&mut slow).await.unwrap();
    assert_eq!(rest, "", "a head read too slowly gets no answer");
    let states: Vec<ConnState> = log.events().iter().map(|(_, s)| *s).collect();
    assert_eq!(states, [ConnState::New, ConnState::Active, ConnState::Closed]);
}

#[tokio::test]
async fn shutdown_finishes_the_tls_request_in_flight_and_closes_the_idle_one() {
    let gate = Gate::default();
    let config = Config {
        conn_state: None,
        ..Config::default()
    };
    let s = TlsServer::start(config, gate.handler()).await;

    let mut idle = s.connect().await;
    idle.write_all(b"GET /quick HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    assert!(read_response(&mut idle).await.ends_with("quick"));

    let mut busy = s.connect().await;
    busy.write_all(b"GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    gate.entered.notified().await;

    let shutdown = tokio::spawn({
        let server = s.server.clone();
        async move { server.shutdown(WAIT).await }
    });
    // The idle one is closed at once, with close_notify.
    assert_eq!(read_to_close(&mut idle).await.unwrap(), "");
    // The busy one gets its whole answer, marked as the last, then a clean close.
    gate.release.notify_one();
    let answer = read_to_close(&mut busy).await.unwrap();
    assert!(answer.contains("\r\nConnection: close\r\n"), "{answer}");
    assert!(answer.ends_with("released"), "{answer}");
    assert!(shutdown.await.unwrap().is_ok());
}

#[tokio::test]
async fn the_certificate_files_are_checked_with_errors_that_say_what_is_wrong() {
    let cert = tls_support::TestCert::new();
    let missing = cert.dir.path("missing.pem");
    let error = server::load_server_config(&missing, &cert.key_file).unwrap_err();
    assert!(error.to_string().contains("missing.pem"), "{error}");
    assert!(matches!(
        error,
        server::Error::Tls(TlsConfigError::File {
            problem: PemProblem::Io(_),
            ..
        })
    ));

    // The certificate given as the key: no key in it.
    let error = server::load_server_config(&cert.cert_file, &cert.cert_file).unwrap_err();
    assert!(
        matches!(
            error,
            server::Error::Tls(TlsConfigError::File {
                problem: PemProblem::NoPrivateKey,
                ..
            })
        ),
        "{error}"
    );
    // The key given as the certificate: no certificate in it.
    let error = server::load_server_config(&cert.key_file, &cert.key_file).unwrap_err();
    assert!(
        matches!(
            error,
            server::Error::Tls(TlsConfigError::File {
                problem: PemProblem::NoCertificate,
                ..
            })
        ),
        "{error}"
    );
    // Another certificate's key.
    let other = tls_support::TestCert::new();
    let error = server::load_server_config(&cert.cert_file, &other.key_file).unwrap_err();
    assert!(
        matches!(error, server::Error::Tls(TlsConfigError::KeyMismatch)),
        "{error}"
    );
    assert_eq!(error.to_string(), "tls: private key does not match public key");
}

/// A fresh TLS client gets a normal answer: the server survived whatever
/// came before.
async fn assert_still_serving(s: &TlsServer) {
    let mut c = s.connect().await;
    let answer = exchange(
        &mut c,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    let answer = answer.expect("a clean close");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
}

/// The first flight of a real TLS client: its ClientHello, as bytes.
fn client_hello(s: &TlsServer) -> Vec<u8> {
    let name = ServerName::try_from("localhost").unwrap();
    let mut client = ClientConnection::new(s.cert.client_config(&[b"http/1.1"]), name).unwrap();
    let mut hello = Vec::new();
    client.write_tls(&mut hello).unwrap();
    hello
}

/// A handler that holds `/wait` until released, and answers `/quick` at once.
#[derive(Clone, Default)]
struct Gate {
    entered: Arc<Notify>,
    release: Arc<Notify>,
}

impl Gate {
    fn handler(&self) -> impl server::Handler {
        let gate = self.clone();
        server::handler_fn(move |w, r| {
            let gate = gate.clone();
            Box::pin(async move {
                if r.url.path.to_str_lossy() == "/wait" {
                    gate.entered.notify_one();
                    gate.release.notified().await;
                    let _ = w.write(b"released").await;
                } else {
                    let _ = w.write(b"quick").await;
                }
            })
        })
    }
}

#[tokio::test]
async fn the_write_timeout_cuts_a_tls_client_that_stops_reading_without_close_notify() {
    let log = StateLog::default();
    let config = Config {
        write_timeout: Some(Duration::from_millis(300)),
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let flood = server::handler_fn(|w, _r| {
        Box::pin(async move {
            let piece = vec![b'x'; 64 << 10];
            for _ in 0..1024 {
                if w.write(&piece).await.is_err() {
                    return;
                }
            }
        })
    });
    let s = TlsServer::start(config, flood).await;
    let mut reader = s.connect().await;
    reader
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    // 64 MiB do not fit in the sockets' buffers: the response stalls, and
    // the server gives up at the write timeout.
    log.wait_until(|e| e.iter().any(|(_, state)| *state == ConnState::Closed))
        .await;
    // What had left arrives, then the end; with no close_notify, which
    // tells the client that the response was cut, not complete.
    let mut got = Vec::new();
    let read = tokio::time::timeout(WAIT, reader.read_to_end(&mut got))
        .await
        .unwrap();
    assert_eq!(read.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
    assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(got.len() < 64 << 20, "the whole response arrived");
}

#[tokio::test]
async fn a_plain_request_never_sees_the_tls_state_of_an_earlier_connection() {
    // Closed connections hand their request, refilled in place, to a pool
    // that the next connection, TLS or not, takes it from.
    let log = StateLog::default();
    let config = Config {
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let tls = TlsServer::start(config, conn_info_app()).await;
    let plain = runtime_support::TestServer::start(Config::default(), conn_info_app()).await;
    for round in 1..=3 {
        assert_still_serving(&tls).await;
        log.wait_until(|e| e.iter().filter(|(_, s)| *s == ConnState::Closed).count() == round)
            .await;
        let mut c = plain.connect().await;
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let answer = c.response().await.text();
        assert!(answer.ends_with(" tls=-"), "{answer}");
    }
}
