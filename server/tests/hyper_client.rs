//! Our server against a real, independent client: hyper's. Keep-alive
//! reuse (one connection for sequential requests), a chunked request body,
//! a chunked response, HEAD, concurrency, and a body over a handler's
//! limit.

mod runtime_support;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use runtime_support::{StateLog, TestServer, WAIT};
use server::{Config, ConnState};
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

fn client<B>() -> Client<hyper_util::client::legacy::connect::HttpConnector, B>
where
    B: Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Client::builder(TokioExecutor::new()).build_http()
}

/// A body of several frames and no known length: hyper sends it chunked.
struct Pieces(VecDeque<Bytes>);

impl Body for Pieces {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.0.pop_front().map(|piece| Ok(Frame::data(piece))))
    }
}

async fn send<B>(
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, B>,
    request: http::Request<B>,
) -> (http::response::Parts, Bytes)
where
    B: Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let response = tokio::time::timeout(WAIT, client.request(request))
        .await
        .expect("timed out")
        .expect("request failed");
    let (parts, body) = response.into_parts();
    let body = tokio::time::timeout(WAIT, body.collect())
        .await
        .expect("timed out reading the body")
        .expect("body failed")
        .to_bytes();
    (parts, body)
}

#[tokio::test]
async fn sequential_requests_reuse_one_keep_alive_connection() {
    let log = StateLog::default();
    let config = Config {
        conn_state: Some(log.hook()),
        ..Config::default()
    };
    let s = TestServer::start(config, runtime_support::app()).await;
    let client = client::<Full<Bytes>>();
    for i in 0..5 {
        let uri = format!("http://{}/info?i={i}", s.addr);
        let request = http::Request::get(uri).body(Full::default()).unwrap();
        let (parts, body) = send(&client, request).await;
        assert_eq!(parts.status, 200);
        assert_eq!(body, format!("GET /info?i={i} {}", s.addr));
    }
    let news = log.events().iter().filter(|(_, s)| *s == ConnState::New).count();
    assert_eq!(news, 1, "hyper reused its connection: {:?}", log.events());
}

#[tokio::test]
async fn chunked_request_body_is_read_and_chunked_response_received() {
    let s = TestServer::app().await;
    let client = client::<Pieces>();
    let pieces = Pieces(
        ["hello", ", ", "chunked ", "world"]
            .into_iter()
            .map(Bytes::from)
            .collect(),
    );
    let request = http::Request::post(format!("http://{}/echo", s.addr))
        .body(pieces)
        .unwrap();
    let (parts, body) = send(&client, request).await;
    assert_eq!(parts.status, 200);
    assert_eq!(body, "hello, chunked world");

    let request = http::Request::get(format!("http://{}/big/50000", s.addr))
        .body(Pieces(VecDeque::new()))
        .unwrap();
    let (parts, body) = send(&client, request).await;
    assert_eq!(parts.headers["transfer-encoding"], "chunked");
    assert_eq!(body.len(), 50_000);
}

#[tokio::test]
async fn head_has_the_length_and_no_body() {
    let s = TestServer::app().await;
    let client = client::<Full<Bytes>>();
    let request = http::Request::head(format!("http://{}/", s.addr))
        .body(Full::default())
        .unwrap();
    let (parts, body) = send(&client, request).await;
    assert_eq!(parts.status, 200);
    assert_eq!(parts.headers["content-length"], "13");
    assert!(body.is_empty());
}

#[tokio::test]
async fn concurrent_requests_are_all_served() {
    let s = TestServer::app().await;
    let client = client::<Full<Bytes>>();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let client = client.clone();
        let uri = format!("http://{}/info?c={i}", s.addr);
        tasks.push(tokio::spawn(async move {
            let request = http::Request::get(uri).body(Full::default()).unwrap();
            send(&client, request).await.1
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let body = task.await.unwrap();
        assert!(body.starts_with(format!("GET /info?c={i} ").as_bytes()));
    }
}

#[tokio::test]
async fn body_over_the_limit_gets_413() {
    let s = TestServer::app().await;
    let client = client::<Full<Bytes>>();
    let request = http::Request::post(format!("http://{}/limit16", s.addr))
        .body(Full::new(Bytes::from(vec![b'a'; 100_000])))
        .unwrap();
    let (parts, _) = send(&client, request).await;
    assert_eq!(parts.status, 413);
}
