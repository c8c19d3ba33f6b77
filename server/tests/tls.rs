//! The server over TLS (Go: `ServeTLS`, the handshake in `conn.serve`),
//! against real clients on 127.0.0.1: curl, hyper's client over
//! tokio-rustls, and a rustls client of our own for what the others hide
//! (a handshake left half done, close_notify, plain HTTP on the TLS port).

mod tls_support;

use tls_support::{conn_info_app, curl, TlsServer};

#[tokio::test]
#[cfg_attr(missing_curl, ignore = "needs curl, not on PATH when this test was built")]
async fn curl_gets_a_page_over_https_trusting_our_certificate() {
    let s = TlsServer::start(server::Config::default(), conn_info_app()).await;
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
