//! Keep-alive GETs per second through two pooled HTTP/1.1 clients against
//! the same server: our `client_pool::Client` and hyper-util's pooled
//! client (`hyper_util::client::legacy::Client`), at 1 and 64 concurrent
//! requests.
//!
//! Fairness, as DESIGN.md's lessons ask:
//! - one server for both: hyper's hello server (`benches::hyper_peer`) on
//!   a thread of its own with a one-thread runtime;
//! - each client on a one-thread runtime of its own (the machine has two
//!   cores: one for the server, one for the client);
//! - both clients keep as many idle connections per host as there are
//!   concurrent requests (Go's default of 2 would redial 62 connections
//!   per round at 64), and both set TCP_NODELAY;
//! - every response body is read to the end, so connections are reused.
//!
//! Benchmark ids name the peer: `client_keepalive_get/client-pool/64`,
//! `client_keepalive_get/hyper-util/64`... Throughput is in requests.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-client cargo bench -p benches --bench client
//! ```

use bytes::Bytes;
use client_pool::{Client, Transport, TransportConfig};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;
use tokio::task::JoinSet;

const CONCURRENCY: [usize; 2] = [1, 64];

fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime")
}

fn ours(concurrency: usize) -> Client {
    Client::with_transport(Transport::new(TransportConfig {
        max_idle_conns_per_host: concurrency,
        ..TransportConfig::default()
    }))
}

fn hyper_util(concurrency: usize) -> HyperClient<HttpConnector, Empty<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    HyperClient::builder(TokioExecutor::new())
        .pool_max_idle_per_host(concurrency)
        .build(connector)
}

async fn ours_round(client: &Client, url: &str, concurrency: usize) {
    if concurrency == 1 {
        ours_get(client.clone(), url.to_owned()).await;
        return;
    }
    let mut set = JoinSet::new();
    for _ in 0..concurrency {
        set.spawn(ours_get(client.clone(), url.to_owned()));
    }
    while set.join_next().await.is_some() {}
}

async fn ours_get(client: Client, url: String) {
    let mut resp = client.get(&url).await.expect("GET through client-pool");
    let body = resp.body_mut().bytes().await.expect("body");
    assert_eq!(body.len(), benches::HELLO.len());
}

async fn hyper_round(client: &HyperClient<HttpConnector, Empty<Bytes>>, uri: &http::Uri, concurrency: usize) {
    if concurrency == 1 {
        hyper_get(client.clone(), uri.clone()).await;
        return;
    }
    let mut set = JoinSet::new();
    for _ in 0..concurrency {
        set.spawn(hyper_get(client.clone(), uri.clone()));
    }
    while set.join_next().await.is_some() {}
}

async fn hyper_get(client: HyperClient<HttpConnector, Empty<Bytes>>, uri: http::Uri) {
    let resp = client.get(uri).await.expect("GET through hyper-util");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(body.len(), benches::HELLO.len());
}

fn keepalive_gets(c: &mut Criterion) {
    let addr = benches::spawn::server_thread("hyper", benches::spawn::bind_loopback, |listener| {
        benches::hyper_peer::serve(listener, false)
    });
    let url = format!("http://{addr}/");
    let uri: http::Uri = url.parse().expect("uri");

    let mut group = c.benchmark_group("client_keepalive_get");
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(30);
    for concurrency in CONCURRENCY {
        group.throughput(Throughput::Elements(concurrency as u64));

        let runtime = client_runtime();
        let client = ours(concurrency);
        group.bench_with_input(
            BenchmarkId::new("client-pool", concurrency),
            &concurrency,
            |b, &n| b.to_async(&runtime).iter(|| ours_round(&client, &url, n)),
        );
        let stats = client.transport().stats();
        assert!(
            stats.dials <= 2 * concurrency as u64,
            "connections were not reused: {stats:?}"
        );

        let runtime = client_runtime();
        let client = runtime.block_on(async { hyper_util(concurrency) });
        group.bench_with_input(
            BenchmarkId::new("hyper-util", concurrency),
            &concurrency,
            |b, &n| b.to_async(&runtime).iter(|| hyper_round(&client, &uri, n)),
        );
    }
    group.finish();
}

criterion_group!(benches, keepalive_gets);
criterion_main!(benches);
