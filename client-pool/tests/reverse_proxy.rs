//! The ReverseProxy over real sockets: a client (raw bytes, so the test
//! controls every header) talks to our server running the proxy, which
//! forwards to an upstream that is our server too and records what it saw.

use bytes::{Bytes, BytesMut};
use client_pool::reverse_proxy::ReverseProxy;
use client_pool::{ClientTrace, Transport};
use http::{HeaderMap, Method, StatusCode};
use server::wire::{parse_response_head, response_framing, BodyDecoder, Decoded, Limits, ResponseHead};
use server::{handler_fn, Config, ConnState, Handler, Server};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Every wait in this file is bounded by this.
const WAIT: Duration = Duration::from_secs(10);

/// What the upstream saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    target: String,
    headers: HeaderMap,
    body_len: usize,
}

/// Starts `handler` on 127.0.0.1:0; returns its address and how many
/// connections it accepted so far.
async fn start(handler: impl Handler) -> (SocketAddr, Arc<AtomicUsize>) {
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let config = Config {
        addr: "127.0.0.1:0".into(),
        conn_state: Some(Arc::new(move |_info, state| {
            if state == ConnState::New {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })),
        ..Config::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(config, handler);
    tokio::spawn(async move { server.serve(listener).await });
    (addr, accepted)
}

/// An upstream that records each request and echoes its body back, with
/// hop-by-hop headers of its own in the response.
async fn echo_upstream() -> (SocketAddr, Arc<AtomicUsize>, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let handler = handler_fn(move |w, r| {
        let log = log.clone();
        Box::pin(async move {
            let h = w.header();
            h.insert("connection", "x-up-private".parse().unwrap());
            h.insert("x-up-private", "secret".parse().unwrap());
            h.insert("keep-alive", "timeout=5".parse().unwrap());
            h.insert("proxy-authenticate", "Basic".parse().unwrap());
            h.insert("x-up", "kept".parse().unwrap());
            if let Some(len) = r.headers.get("content-length") {
                w.header().insert("content-length", len.clone());
            }
            // Read all, then answer: our Transport stops sending a request
            // body once the response head arrives, so an upstream that
            // echoes while still reading would wait forever.
            let body = r.body.read_all(4 << 20).await.unwrap();
            let body_len = body.len();
            for piece in body.chunks(64 * 1024) {
                w.write(piece).await.unwrap();
            }
            log.lock().unwrap().push(Seen {
                method: r.method.clone(),
                target: r.target.clone(),
                headers: r.headers.clone(),
                body_len,
            });
        })
    });
    let (addr, accepted) = start(handler).await;
    (addr, accepted, seen)
}

/// One request on a new connection; returns the response head and body.
async fn exchange(proxy: SocketAddr, head: &str, body: &[u8]) -> (ResponseHead, Bytes) {
    let mut conn = TcpStream::connect(proxy).await.unwrap();
    let (head, body) = tokio::time::timeout(WAIT, async {
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(body).await.unwrap();
        read_response(&mut conn, &Method::POST).await
    })
    .await
    .expect("the proxy answered in time");
    (head, body)
}

/// Reads one response with the server crate's sans-IO parser.
async fn read_response(conn: &mut TcpStream, method: &Method) -> (ResponseHead, Bytes) {
    let mut buf = BytesMut::new();
    let head = loop {
        if let Some(head) = parse_response_head(&mut buf, &Limits::default()).unwrap() {
            break head;
        }
        assert!(conn.read_buf(&mut buf).await.unwrap() > 0, "closed before a head");
    };
    let mut decoder = BodyDecoder::new(response_framing(method, &head).unwrap());
    let mut body = BytesMut::new();
    loop {
        match decoder.decode(&mut buf).unwrap() {
            Decoded::Data(piece) => body.extend_from_slice(&piece),
            Decoded::End => break,
            Decoded::NeedMore => {
                if conn.read_buf(&mut buf).await.unwrap() == 0 {
                    decoder.decode_eof().unwrap();
                    break;
                }
            }
        }
    }
    (head, body.freeze())
}

async fn start_proxy(proxy: ReverseProxy) -> SocketAddr {
    start(proxy).await.0
}

#[tokio::test]
async fn forwards_method_path_query_and_headers_and_strips_hop_by_hop_both_ways() {
    let (upstream, _, seen) = echo_upstream().await;
    let proxy = start_proxy(ReverseProxy::new(
        format!("http://{upstream}/base?v=2").parse().unwrap(),
    ))
    .await;
    let request = "PUT /items/a%2Fb?x=1&y=%20 HTTP/1.1\r\nHost: public.example\r\n\
         Connection: keep-alive, X-Private\r\nX-Private: hop\r\nKeep-Alive: timeout=9\r\n\
         Proxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\n\
         TE: trailers, deflate\r\nUpgrade: websocket\r\nX-Forwarded-For: 10.0.0.9\r\n\
         X-Custom: one\r\nX-Custom: two\r\nContent-Length: 5\r\n\r\n";
    let (head, body) = exchange(proxy, request, b"hello").await;

    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(&body[..], b"hello");
    // The upstream's hop-by-hop headers stopped at the proxy; the rest came.
    assert_eq!(head.headers["x-up"], "kept");
    for hop in ["x-up-private", "keep-alive", "proxy-authenticate"] {
        assert!(!head.headers.contains_key(hop), "{hop} leaked to the client");
    }

    let seen = seen.lock().unwrap()[0].clone();
    assert_eq!(seen.method, Method::PUT);
    assert_eq!(seen.target, "/base/items/a%2Fb?v=2&x=1&y=%20");
    assert_eq!(seen.headers["host"], upstream.to_string());
    assert_eq!(seen.headers["x-forwarded-for"], "10.0.0.9, 127.0.0.1");
    assert_eq!(seen.headers["te"], "trailers");
    assert_eq!(seen.body_len, 5);
    let custom: Vec<_> = seen.headers.get_all("x-custom").iter().collect();
    assert_eq!(custom, ["one", "two"]);
    for hop in [
        "x-private",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "upgrade",
    ] {
        assert!(!seen.headers.contains_key(hop), "{hop} reached the upstream");
    }
    // The proxy's own connection header, if any, is about its connection.
    assert!(seen.headers.get_all("connection").iter().all(|v| !v
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("private")));
}

#[tokio::test]
async fn host_is_kept_when_configured() {
    let (upstream, _, seen) = echo_upstream().await;
    let proxy =
        start_proxy(ReverseProxy::new(format!("http://{upstream}").parse().unwrap()).preserve_host(true))
            .await;
    let (head, _) = exchange(proxy, "GET /h HTTP/1.1\r\nHost: public.example:8283\r\n\r\n", b"").await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(seen.lock().unwrap()[0].headers["host"], "public.example:8283");
}

#[tokio::test]
async fn one_mebibyte_streams_both_ways_with_a_length_and_chunked() {
    let (upstream, _, seen) = echo_upstream().await;
    let proxy = start_proxy(ReverseProxy::new(format!("http://{upstream}").parse().unwrap())).await;
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();

    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: p\r\nContent-Length: {}\r\n\r\n",
        big.len()
    );
    let (resp, body) = exchange(proxy, &head, &big).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.headers["content-length"], big.len().to_string());
    assert!(
        body == big,
        "the 1 MiB body came back changed ({} bytes)",
        body.len()
    );

    // Chunked from the client: the upstream gets it chunked (length
    // unknown) and answers chunked, which the proxy streams on.
    let mut chunked = Vec::new();
    for piece in big.chunks(100_000) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let head = "POST /upload HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (resp, body) = exchange(proxy, head, &chunked).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.headers["transfer-encoding"], "chunked");
    assert!(
        body == big,
        "the chunked 1 MiB body came back changed ({} bytes)",
        body.len()
    );

    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].headers["content-length"], "1048576");
    assert_eq!(seen[1].headers["transfer-encoding"], "chunked");
    assert_eq!((seen[0].body_len, seen[1].body_len), (1 << 20, 1 << 20));
}

#[tokio::test]
async fn a_dead_upstream_gets_502_with_a_short_body() {
    // A port that was just free: nothing listens there.
    let dead = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = start_proxy(ReverseProxy::new(format!("http://{dead}").parse().unwrap())).await;
    let (head, body) = exchange(proxy, "GET / HTTP/1.1\r\nHost: p\r\n\r\n", b"").await;
    assert_eq!(head.status, StatusCode::BAD_GATEWAY);
    assert_eq!(&body[..], b"502 Bad Gateway\n");
}

#[tokio::test]
async fn upstream_connections_are_reused_from_the_pool() {
    let (upstream, accepted, _) = echo_upstream().await;
    let transport = ReverseProxy::default_transport();
    let reused = Arc::new(AtomicUsize::new(0));
    let proxy = start_proxy(ReverseProxy::with_transport(
        format!("http://{upstream}").parse().unwrap(),
        transport.clone(),
    ))
    .await;
    // Five clients, one after the other, each on its own connection to
    // the proxy: the proxy still talks to the upstream on one connection.
    for i in 0..5 {
        let (head, body) = exchange(
            proxy,
            "POST /n HTTP/1.1\r\nHost: p\r\nContent-Length: 2\r\n\r\n",
            b"hi",
        )
        .await;
        assert_eq!(
            (head.status, &body[..]),
            (StatusCode::OK, &b"hi"[..]),
            "request {i}"
        );
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the upstream saw more than one connection"
    );
    let stats = transport.stats();
    assert_eq!((stats.dials, stats.reuses), (1, 4));

    // The trace hook tells the same story for a request sent directly.
    let mut req = http::Request::get(format!("http://{upstream}/t"))
        .body(client_pool::RequestBody::empty())
        .unwrap();
    let hook = reused.clone();
    req.extensions_mut().insert(ClientTrace::got_conn(move |info| {
        if info.reused {
            hook.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let mut resp = transport.round_trip(req).await.unwrap();
    resp.body_mut().bytes().await.unwrap();
    assert_eq!(reused.load(Ordering::SeqCst), 1);
    let _: &Transport = &transport;
}

#[tokio::test]
async fn a_streamed_response_reaches_the_client_piece_by_piece() {
    // The upstream sends a first piece, then waits until the client has
    // it: if the proxy buffered the body, the client would never see it.
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = release.clone();
    let (upstream, _) = start(handler_fn(move |w, _r| {
        let gate = gate.clone();
        Box::pin(async move {
            w.header().insert("content-type", "text/plain".parse().unwrap());
            w.write(b"first;").await.unwrap();
            w.flush().await.unwrap();
            gate.notified().await;
            w.write(b"second").await.unwrap();
        })
    }))
    .await;
    let proxy = start_proxy(ReverseProxy::new(format!("http://{upstream}").parse().unwrap())).await;
    let mut conn = TcpStream::connect(proxy).await.unwrap();
    conn.write_all(b"GET /stream HTTP/1.1\r\nHost: p\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, async {
        while !String::from_utf8_lossy(&got).contains("first;") {
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the first piece arrived before the upstream finished");
    release.notify_one();
    tokio::time::timeout(WAIT, async {
        while !String::from_utf8_lossy(&got).ends_with("0\r\n\r\n") {
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the rest arrived");
    assert!(String::from_utf8_lossy(&got).contains("second"));
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_the_upstream_request() {
    // The upstream streams until a write fails, which happens only once
    // the proxy has closed its upstream connection.
    let upstream_saw_close = Arc::new(AtomicBool::new(false));
    let flag = upstream_saw_close.clone();
    let (upstream, _) = start(handler_fn(move |w, _r| {
        let flag = flag.clone();
        Box::pin(async move {
            let piece = vec![b'x'; 16 * 1024];
            for _ in 0..100_000 {
                if w.write(&piece).await.is_err() || w.flush().await.is_err() {
                    flag.store(true, Ordering::SeqCst);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    }))
    .await;
    let proxy = start_proxy(ReverseProxy::new(format!("http://{upstream}").parse().unwrap())).await;
    let mut conn = TcpStream::connect(proxy).await.unwrap();
    conn.write_all(b"GET /forever HTTP/1.1\r\nHost: p\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(WAIT, conn.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(n > 0);
    drop(conn);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !upstream_saw_close.load(Ordering::SeqCst) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upstream kept streaming to nobody"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn flush_interval_sends_a_slow_body_of_known_length_as_it_comes() {
    // Ten bytes announced, five sent, then a wait for the client to see
    // them: held in the proxy's 2 KiB buffer, they never would be.
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = release.clone();
    let (upstream, _) = start(handler_fn(move |w, _r| {
        let gate = gate.clone();
        Box::pin(async move {
            w.header().insert("content-length", "10".parse().unwrap());
            w.write(b"hello").await.unwrap();
            w.flush().await.unwrap();
            gate.notified().await;
            w.write(b"world").await.unwrap();
        })
    }))
    .await;
    let proxy = start_proxy(
        ReverseProxy::new(format!("http://{upstream}").parse().unwrap())
            .flush_interval(Duration::from_millis(10)),
    )
    .await;
    let mut conn = TcpStream::connect(proxy).await.unwrap();
    conn.write_all(b"GET /slow HTTP/1.1\r\nHost: p\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, async {
        while !got.ends_with(b"hello") {
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the first half arrived while the upstream waited");
    assert!(String::from_utf8_lossy(&got).contains("Content-Length: 10"));
    release.notify_one();
    tokio::time::timeout(WAIT, async {
        while !got.ends_with(b"helloworld") {
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the second half arrived");
}

#[tokio::test]
async fn head_responses_keep_their_length_and_no_body_and_the_connection_stays_usable() {
    let (upstream, _) = start(handler_fn(|w, r| {
        Box::pin(async move {
            w.header().insert("content-length", "1234".parse().unwrap());
            if r.method != Method::HEAD {
                w.write(&[b'z'; 1234]).await.unwrap();
            }
        })
    }))
    .await;
    let proxy = start_proxy(ReverseProxy::new(format!("http://{upstream}").parse().unwrap())).await;
    let mut conn = TcpStream::connect(proxy).await.unwrap();
    tokio::time::timeout(WAIT, async {
        conn.write_all(b"HEAD /h HTTP/1.1\r\nHost: p\r\n\r\n")
            .await
            .unwrap();
        let (head, body) = read_response(&mut conn, &Method::HEAD).await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.headers["content-length"], "1234");
        assert!(body.is_empty());
        // Had the proxy sent a body after the HEAD response, this next
        // response would be garbled.
        conn.write_all(b"GET /h HTTP/1.1\r\nHost: p\r\n\r\n")
            .await
            .unwrap();
        let (head, body) = read_response(&mut conn, &Method::GET).await;
        assert_eq!((head.status, body.len()), (StatusCode::OK, 1234));
    })
    .await
    .expect("both answers came");
}

#[tokio::test]
async fn a_client_body_cut_short_never_reaches_the_upstream_as_a_whole_one() {
    // The client starts a body and leaves in the middle of it. The
    // upstream must see a broken body, not a short complete one: for a
    // chunked body that means the proxy must not send the last chunk.
    let heads = [
        "POST /upload HTTP/1.1\r\nHost: p\r\nContent-Length: 100000\r\n\r\n",
        "POST /upload HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n",
    ];
    for head in heads {
        let outcome = Arc::new(Mutex::new(None::<Result<usize, String>>));
        let record = outcome.clone();
        let (upstream, _) = start(handler_fn(move |_w, r| {
            let record = record.clone();
            Box::pin(async move {
                let got = r
                    .body
                    .read_all(1 << 20)
                    .await
                    .map(|b| b.len())
                    .map_err(|e| e.to_string());
                *record.lock().unwrap() = Some(got);
            })
        }))
        .await;
        let proxy = start_proxy(ReverseProxy::new(format!("http://{upstream}").parse().unwrap())).await;
        let mut conn = TcpStream::connect(proxy).await.unwrap();
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(&[b'a'; 1000]).await.unwrap();
        drop(conn);
        let deadline = tokio::time::Instant::now() + WAIT;
        let got = loop {
            if let Some(got) = outcome.lock().unwrap().clone() {
                break got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the upstream never finished reading"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert!(
            got.is_err(),
            "{head:?}: the upstream took a cut body for a whole one: {got:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_at_once_all_get_their_own_answers() {
    // 64 keep-alive clients, 5 requests each, every body different: no
    // answer may go to the wrong client, none may be lost, and the pool
    // is used.
    let (upstream, accepted, _) = echo_upstream().await;
    let proxy = start_proxy(ReverseProxy::new(format!("http://{upstream}").parse().unwrap())).await;
    let clients: Vec<_> = (0..64)
        .map(|client| {
            tokio::spawn(async move {
                let mut conn = TcpStream::connect(proxy).await.unwrap();
                for round in 0..5 {
                    let body = format!("client {client} round {round}");
                    let head = format!(
                        "POST /c HTTP/1.1\r\nHost: p\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    conn.write_all(head.as_bytes()).await.unwrap();
                    let (resp, got) = read_response(&mut conn, &Method::POST).await;
                    assert_eq!(resp.status, StatusCode::OK);
                    assert_eq!(&got[..], body.as_bytes());
                }
            })
        })
        .collect();
    tokio::time::timeout(WAIT, async {
        for client in clients {
            client.await.unwrap();
        }
    })
    .await
    .expect("every client finished");
    // 320 requests; a dial race may leave a few spare connections (Go's
    // too), but most requests must have found one in the pool.
    let upstream_conns = accepted.load(Ordering::SeqCst);
    eprintln!("{upstream_conns} upstream connections for 64 clients x 5 requests");
    assert!(
        upstream_conns < 160,
        "{upstream_conns} upstream connections for 320 requests"
    );
}
