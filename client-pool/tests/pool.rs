//! The keyed idle pool, waiters and limits, seen from real servers on
//! 127.0.0.1: how many connections the server sees, and what the trace
//! hook says about each request's connection.

mod common;

use client_pool::{Client, ClientTrace, GotConnInfo, RequestBody, Transport, TransportConfig};
use common::{eventually, hello, hyper_server, our_server, within};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn info(resp: &client_pool::Response) -> GotConnInfo {
    resp.extensions()
        .get::<GotConnInfo>()
        .cloned()
        .expect("GotConnInfo in the response")
}

async fn get_text(client: &Client, url: &str) -> (GotConnInfo, String) {
    let mut resp = within("GET", client.get(url)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = within("body", resp.body_mut().text()).await.unwrap();
    (info(&resp), text)
}

#[tokio::test]
async fn hundred_sequential_gets_dial_once_on_our_server() {
    let server = our_server(hello()).await;
    let client = Client::new();
    for i in 0..100 {
        let (info, text) = get_text(&client, &server.url("/")).await;
        assert_eq!(text, "hello");
        assert_eq!(info.reused, i > 0, "request {i}");
    }
    assert_eq!(server.counts.accepted(), 1, "the server saw one connection");
    let stats = client.transport().stats();
    assert_eq!((stats.dials, stats.reuses, stats.idle), (1, 99, 1));
}

#[tokio::test]
async fn hundred_sequential_gets_dial_once_on_hyper() {
    let server = hyper_server().await;
    let client = Client::new();
    for _ in 0..100 {
        let (_, text) = get_text(&client, &server.url("/")).await;
        assert_eq!(text, "hello from hyper");
    }
    assert_eq!(server.counts.accepted(), 1);
    assert_eq!(client.transport().stats().dials, 1);
}

/// 1000 GETs at once through a Transport limited to 8 connections per host.
async fn thousand_concurrent_gets(server: &common::TestServer, expected_body: &str) {
    let transport = Transport::new(TransportConfig {
        max_conns_per_host: 8,
        max_idle_conns_per_host: 8,
        ..TransportConfig::default()
    });
    let client = Client::with_transport(transport.clone());
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let client = client.clone();
        let url = server.url("/");
        tasks.push(tokio::spawn(async move {
            let mut resp = client.get(&url).await?;
            let text = resp.body_mut().text().await?;
            Ok::<_, client_pool::Error>((resp.status(), text))
        }));
    }
    for task in tasks {
        let (status, text) = within("a concurrent GET", task).await.unwrap().unwrap();
        assert_eq!((status.as_u16(), text.as_str()), (200, expected_body));
    }
    assert!(
        server.counts.max_open() <= 8,
        "server saw {} at once",
        server.counts.max_open()
    );
    assert!(
        server.counts.accepted() <= 8,
        "server accepted {}",
        server.counts.accepted()
    );
    let stats = transport.stats();
    assert!(stats.dials <= 8, "{stats:?}");
    assert_eq!(stats.reuses + stats.dials, 1000, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_gets_never_exceed_max_conns_per_host() {
    let server = our_server(server::handler_fn(|w, _r| {
        Box::pin(async move {
            tokio::task::yield_now().await;
            let _ = w.write(b"hello").await;
        })
    }))
    .await;
    thousand_concurrent_gets(&server, "hello").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_gets_never_exceed_max_conns_per_host_on_hyper() {
    let server = hyper_server().await;
    thousand_concurrent_gets(&server, "hello from hyper").await;
}

#[tokio::test]
async fn idle_timeout_closes_the_connection_and_the_next_request_dials() {
    let server = our_server(hello()).await;
    let transport = Transport::new(TransportConfig {
        idle_conn_timeout: Some(Duration::from_millis(100)),
        ..TransportConfig::default()
    });
    let client = Client::with_transport(transport.clone());
    let (first, _) = get_text(&client, &server.url("/")).await;
    assert!(!first.reused);
    assert_eq!(transport.stats().idle, 1);
    // The pool closes it by itself once it has been idle for 100 ms...
    eventually("the idle connection to expire", || transport.stats().idle == 0).await;
    eventually("the server to see the close", || server.counts.open() == 0).await;
    // ...so the next request dials.
    let (second, _) = get_text(&client, &server.url("/")).await;
    assert!(!second.reused && !second.was_idle);
    assert_eq!(server.counts.accepted(), 2);
}

#[tokio::test]
async fn early_dropped_body_closes_the_connection_fully_read_body_returns_it() {
    let server = our_server(server::handler_fn(|w, _r| {
        Box::pin(async move {
            let _ = w.write(&vec![b'x'; 256 * 1024]).await;
        })
    }))
    .await;
    let client = Client::new();
    // Dropped after the head: the rest of the body is still on the wire.
    let resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    assert!(!info(&resp).reused);
    drop(resp);
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    assert!(
        !info(&resp).reused,
        "a connection with an unread body must not be reused"
    );
    assert_eq!(resp.body_mut().bytes().await.unwrap().len(), 256 * 1024);
    // Read to the end: the next request reuses it, from the idle list.
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    let third = info(&resp);
    assert!(third.reused && third.was_idle, "{third:?}");
    resp.body_mut().bytes().await.unwrap();
    assert_eq!(server.counts.accepted(), 2);
    assert_eq!(client.transport().stats().dials, 2);
}

#[tokio::test]
async fn max_idle_conns_per_host_keeps_two_of_four() {
    let barrier = Arc::new(tokio::sync::Barrier::new(4));
    let server = our_server(server::handler_fn(move |w, _r| {
        let barrier = barrier.clone();
        Box::pin(async move {
            // All four requests are in the server at once: four connections.
            barrier.wait().await;
            let _ = w.write(b"hello").await;
        })
    }))
    .await;
    let client = Client::new();
    let gets = (0..4).map(|_| {
        let client = client.clone();
        let url = server.url("/");
        async move { get_text(&client, &url).await }
    });
    let results = within("four GETs", futures_join_all(gets.collect())).await;
    assert_eq!(results.len(), 4);
    assert_eq!(server.counts.accepted(), 4);
    assert_eq!(
        client.transport().stats().idle,
        2,
        "Go's default MaxIdleConnsPerHost is 2"
    );
    eventually("the two extra connections to close", || server.counts.open() == 2).await;
}

#[tokio::test]
async fn max_idle_conns_evicts_the_oldest_across_hosts() {
    let a = our_server(hello()).await;
    let b = our_server(hello()).await;
    let transport = Transport::new(TransportConfig {
        max_idle_conns: 1,
        ..TransportConfig::default()
    });
    let client = Client::with_transport(transport.clone());
    get_text(&client, &a.url("/")).await;
    get_text(&client, &b.url("/")).await;
    assert_eq!(transport.stats().idle, 1);
    eventually("a's idle connection to be evicted", || a.counts.open() == 0).await;
    let (again_b, _) = get_text(&client, &b.url("/")).await;
    assert!(again_b.reused, "b's connection is the most recent and stays");
    let (again_a, _) = get_text(&client, &a.url("/")).await;
    assert!(!again_a.reused);
}

#[tokio::test]
async fn a_returned_connection_goes_to_the_waiter() {
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    let server = our_server(server::handler_fn(move |w, r| {
        let mut release = release_rx.clone();
        let slow = r.target == "/slow";
        Box::pin(async move {
            if slow {
                let _ = release.wait_for(|go| *go).await;
            }
            let _ = w.write(b"hello").await;
        })
    }))
    .await;
    let transport = Transport::new(TransportConfig {
        max_conns_per_host: 1,
        ..TransportConfig::default()
    });
    let client = Client::with_transport(transport.clone());
    let slow = tokio::spawn({
        let client = client.clone();
        let url = server.url("/slow");
        async move { get_text(&client, &url).await }
    });
    eventually("the slow request to hold the connection", || {
        server.counts.accepted() == 1
    })
    .await;
    // A waiter that gives up leaves the queue...
    let gave_up = tokio::time::timeout(Duration::from_millis(50), client.get(&server.url("/"))).await;
    assert!(gave_up.is_err(), "at the limit, a request waits");
    // ...and a patient one is served by the connection the slow one returns.
    let waiter = tokio::spawn({
        let client = client.clone();
        let url = server.url("/");
        async move { get_text(&client, &url).await }
    });
    release_tx.send(true).unwrap();
    within("slow", slow).await.unwrap();
    let (waited, text) = within("waiter", waiter).await.unwrap();
    assert_eq!(text, "hello");
    assert!(
        waited.reused && !waited.was_idle,
        "handed over, not taken from the idle list: {waited:?}"
    );
    assert_eq!(server.counts.accepted(), 1);
}

#[tokio::test]
async fn close_idle_connections_and_the_trace_hook() {
    let server = our_server(hello()).await;
    let client = Client::new();
    let seen: Arc<Mutex<Vec<GotConnInfo>>> = Arc::default();
    let send = |seen: Arc<Mutex<Vec<GotConnInfo>>>| {
        let mut req = http::Request::get(server.url("/"))
            .body(RequestBody::empty())
            .unwrap();
        req.extensions_mut().insert(ClientTrace::got_conn(move |info| {
            seen.lock().unwrap().push(info.clone())
        }));
        let client = client.clone();
        async move {
            let mut resp = within("send", client.send(req)).await.unwrap();
            resp.body_mut().bytes().await.unwrap();
        }
    };
    send(seen.clone()).await;
    send(seen.clone()).await;
    client.transport().close_idle_connections();
    assert_eq!(client.transport().stats().idle, 0);
    send(seen.clone()).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(!seen[0].reused && !seen[0].was_idle);
    assert!(seen[1].reused && seen[1].was_idle && seen[1].conn_id == seen[0].conn_id);
    assert!(!seen[2].reused && seen[2].conn_id != seen[0].conn_id);
    assert_eq!(server.counts.accepted(), 2);
}

#[tokio::test]
async fn disable_keep_alives_uses_each_connection_once() {
    let server = our_server(hello()).await;
    let client = Client::with_transport(Transport::new(TransportConfig {
        disable_keep_alives: true,
        ..TransportConfig::default()
    }));
    for _ in 0..3 {
        let (info, _) = get_text(&client, &server.url("/")).await;
        assert!(!info.reused);
    }
    assert_eq!(server.counts.accepted(), 3);
    assert_eq!(client.transport().stats().idle, 0);
}

/// Runs futures concurrently on this task (no `futures` dependency).
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut handles: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, h) in handles.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match h.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outputs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}

#[tokio::test]
/// Go's `connectMethod.key` (transport.go:1810): plain requests through
/// an HTTP proxy share its connections whatever their origin, since each
/// names its origin in full.
async fn through_a_proxy_the_target_is_absolute_and_any_origin_shares_the_connection() {
    use common::{raw_server, read_request, write};
    let proxy = raw_server(|mut stream, _| async move {
        let mut buf = Vec::new();
        while let Some((head, _)) = read_request(&mut stream, &mut buf).await {
            let first_line = head.lines().next().unwrap_or_default().to_owned();
            let host = head
                .lines()
                .find_map(|l| l.strip_prefix("Host: "))
                .unwrap_or_default()
                .to_owned();
            let body = format!("{first_line} | {host}");
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            write(&mut stream, answer.as_bytes()).await;
        }
    })
    .await;
    let client = Client::with_transport(Transport::new(TransportConfig {
        proxy: Some(proxy.url("/").parse().unwrap()),
        ..TransportConfig::default()
    }));
    let (_, text) = get_text(&client, "http://origin.invalid/a?b=1").await;
    assert_eq!(text, "GET http://origin.invalid/a?b=1 HTTP/1.1 | origin.invalid");
    let (second, _) = get_text(&client, "http://origin.invalid:80/c").await;
    assert!(
        second.reused,
        "same key: same origin (port 80 implied) through the same proxy"
    );
    let (third, text) = get_text(&client, "http://other.invalid/").await;
    assert_eq!(text, "GET http://other.invalid/ HTTP/1.1 | other.invalid");
    assert!(
        third.reused,
        "another origin through the same proxy: the same key"
    );
    assert_eq!(proxy.counts.accepted(), 1);
}
