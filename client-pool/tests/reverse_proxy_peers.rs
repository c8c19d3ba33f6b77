//! The ReverseProxy between strangers: a hyper server as the upstream, and
//! curl as the client (ignored, with the reason in the test summary, when
//! curl was not on PATH as the tests were built: `scripts/tool_probe.rs`).

use bytes::Bytes;
use client_pool::reverse_proxy::ReverseProxy;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use server::{Config, Server};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const WAIT: Duration = Duration::from_secs(10);

/// A hyper upstream that reads the whole body, then answers with it and
/// with what it saw of Host and X-Forwarded-For in headers.
async fn hyper_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let host = req.headers().get("host").cloned();
                    let xff = req.headers().get("x-forwarded-for").cloned();
                    let private = req.headers().contains_key("x-private");
                    let body = req.into_body().collect().await?.to_bytes();
                    let mut resp = hyper::Response::new(Full::new(body));
                    let h = resp.headers_mut();
                    if let Some(host) = host {
                        h.insert("x-seen-host", host);
                    }
                    if let Some(xff) = xff {
                        h.insert("x-seen-xff", xff);
                    }
                    h.insert(
                        "x-seen-private",
                        if private { "yes" } else { "no" }.parse().unwrap(),
                    );
                    h.insert("connection", "x-hop".parse().unwrap());
                    h.insert("x-hop", "1".parse().unwrap());
                    Ok::<_, hyper::Error>(resp)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn start_proxy(upstream: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let proxy = ReverseProxy::new(format!("http://{upstream}").parse().unwrap());
    let server = Server::new(
        Config {
            addr: addr.to_string(),
            ..Config::default()
        },
        proxy,
    );
    tokio::spawn(async move { server.serve(listener).await });
    addr
}

#[tokio::test]
async fn a_hyper_upstream_gets_the_request_and_its_answer_comes_back() {
    let upstream = hyper_echo().await;
    let proxy = start_proxy(upstream).await;
    let body: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 253) as u8).collect();
    let mut conn = TcpStream::connect(proxy).await.unwrap();
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: p\r\nConnection: close, x-private\r\nX-Private: 1\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, async {
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(&body).await.unwrap();
        // The client asked for close: the proxy ends the answer by closing.
        conn.read_to_end(&mut answer).await.unwrap();
    })
    .await
    .expect("the answer came");
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains(&format!("x-seen-host: {upstream}")), "{head}");
    assert!(head.contains("x-seen-xff: 127.0.0.1"), "{head}");
    assert!(head.contains("x-seen-private: no"), "{head}");
    assert!(!head.contains("x-hop"), "{head}");
    assert!(
        &answer[split + 4..] == body.as_slice(),
        "the body came back changed"
    );
}

#[tokio::test]
#[cfg_attr(missing_curl, ignore = "needs curl, not on PATH when this test was built")]
async fn curl_through_the_proxy() {
    let upstream = hyper_echo().await;
    let proxy = start_proxy(upstream).await;
    let dir = std::env::temp_dir().join(format!("reverse-proxy-curl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let upload = dir.join("upload.bin");
    let body: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 241) as u8).collect();
    std::fs::write(&upload, &body).unwrap();
    let url = format!("http://{proxy}/echo?x=1");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args(["-sS", "--max-time", "10", "-D", "-", "--data-binary"])
            .arg(format!("@{}", upload.display()))
            .arg(url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out = output.stdout;
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("x-seen-xff: 127.0.0.1"), "{head}");
    assert!(
        Bytes::copy_from_slice(&out[split + 4..]) == body,
        "curl got a changed body"
    );
}
