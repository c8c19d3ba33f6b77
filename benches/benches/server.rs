//! # Server round trips over loopback: ours against hyper 1.x
//!
//! Both servers run in this process, each on a thread of its own with a
//! one-thread tokio runtime, listening on 127.0.0.1:0; the client (the
//! minimal one in `benches::raw_client`, the same for both) runs on the
//! main thread's one-thread runtime. Every group measures the two servers
//! with the same client and the same requests, one after the other in one
//! run, and names them `ours` and `hyper` so criterion's report puts them
//! side by side:
//!
//! - `hello_keepalive/{ours,hyper}/1` and `/64`: `GET /hello` on 1 and on
//!   64 keep-alive connections, each with one request in flight at a time;
//!   the time per element is the time per request of the whole server.
//! - `hello_close/{ours,hyper}`: each request on a new connection with
//!   `Connection: close` (connect, accept, request, response, close: the
//!   accept path), one at a time.
//! - `response_1mib/{ours,hyper}`: `GET /big`, a 1 MiB body with
//!   Content-Length, on one keep-alive connection.
//! - `upload_1mib_chunked/{ours,hyper}`: `POST /upload` with a 1 MiB body
//!   in 16 KiB chunks, read to the end by the handler, on one keep-alive
//!   connection.
//!
//! ```text
//! cargo bench -p benches --bench server            # about 1 min
//! cargo bench -p benches --bench server -- hello_keepalive
//! ```

use benches::raw_client::{chunked_upload, close_roundtrip, Conn, GET_BIG, GET_HELLO};
use benches::spawn::{bind_loopback, server_thread};
use benches::{hyper_peer, ours, BIG_LEN, HELLO};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// The two servers, started once for the whole run.
fn servers() -> Vec<(&'static str, SocketAddr)> {
    let ours = server_thread("ours", ours::bind, ours::serve);
    let hyper = server_thread("hyper", bind_loopback, |listener| {
        hyper_peer::serve(listener, true)
    });
    vec![("ours", ours), ("hyper", hyper)]
}

fn client_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime")
}

/// Checks that a server answers every route as the benchmark expects, so
/// that a broken server fails loudly instead of measuring fast errors.
fn check(rt: &Runtime, name: &str, addr: SocketAddr) {
    rt.block_on(async {
        let mut conn = Conn::connect(addr).await.expect("connect");
        let (status, body) = conn.fetch(GET_HELLO).await.expect("GET /hello");
        assert_eq!((status, body.as_slice()), (200, HELLO), "{name}: GET /hello");
        let (status, body) = conn.fetch(GET_BIG).await.expect("GET /big");
        assert_eq!((status, body.len()), (200, BIG_LEN), "{name}: GET /big");
        let (status, body) = conn
            .fetch(&chunked_upload(BIG_LEN, 16 * 1024))
            .await
            .expect("POST /upload");
        assert_eq!(
            (status, body),
            (200, BIG_LEN.to_string().into_bytes()),
            "{name}: POST /upload"
        );
        close_roundtrip(addr).await.expect("Connection: close");
    });
}

/// Opens `n` keep-alive connections.
fn connect_all(rt: &Runtime, addr: SocketAddr, n: usize) -> Vec<Conn> {
    rt.block_on(async {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            conns.push(Conn::connect(addr).await.expect("connect"));
        }
        conns
    })
}

/// Sends `iters` requests spread over the connections of `pool`, each
/// connection one request at a time, all connections at once; returns the
/// time taken. The connections go back into the pool for the next sample.
async fn keepalive_run(pool: Arc<Mutex<Vec<Conn>>>, request: Arc<[u8]>, iters: u64) -> Duration {
    let conns = std::mem::take(&mut *pool.lock().expect("pool"));
    let n = conns.len() as u64;
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (i, mut conn) in conns.into_iter().enumerate() {
        let share = iters / n + u64::from((i as u64) < iters % n);
        let request = request.clone();
        set.spawn(async move {
            for _ in 0..share {
                conn.roundtrip(&request).await.expect("round trip");
            }
            conn
        });
    }
    let mut back = Vec::with_capacity(n as usize);
    while let Some(conn) = set.join_next().await {
        back.push(conn.expect("client task"));
    }
    let elapsed = started.elapsed();
    *pool.lock().expect("pool") = back;
    elapsed
}

fn bench_keepalive(c: &mut Criterion, rt: &Runtime, servers: &[(&'static str, SocketAddr)]) {
    let mut group = c.benchmark_group("hello_keepalive");
    group.throughput(Throughput::Elements(1));
    for conns in [1usize, 64] {
        for &(name, addr) in servers {
            let pool = Arc::new(Mutex::new(connect_all(rt, addr, conns)));
            let request: Arc<[u8]> = Arc::from(GET_HELLO);
            group.bench_function(BenchmarkId::new(name, conns), |b| {
                b.to_async(rt)
                    .iter_custom(|iters| keepalive_run(pool.clone(), request.clone(), iters));
            });
        }
    }
    group.finish();
}

fn bench_close(c: &mut Criterion, rt: &Runtime, servers: &[(&'static str, SocketAddr)]) {
    let mut group = c.benchmark_group("hello_close");
    group.throughput(Throughput::Elements(1));
    for &(name, addr) in servers {
        group.bench_function(name, |b| {
            b.to_async(rt)
                .iter(|| async move { close_roundtrip(addr).await.expect("close round trip") });
        });
    }
    group.finish();
}

fn bench_big(c: &mut Criterion, rt: &Runtime, servers: &[(&'static str, SocketAddr)]) {
    let upload: Arc<[u8]> = Arc::from(chunked_upload(BIG_LEN, 16 * 1024));
    let get_big: Arc<[u8]> = Arc::from(GET_BIG);
    for (group_name, request) in [("response_1mib", get_big), ("upload_1mib_chunked", upload)] {
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Bytes(BIG_LEN as u64));
        for &(name, addr) in servers {
            let pool = Arc::new(Mutex::new(connect_all(rt, addr, 1)));
            let request = request.clone();
            group.bench_function(name, |b| {
                b.to_async(rt)
                    .iter_custom(|iters| keepalive_run(pool.clone(), request.clone(), iters));
            });
        }
        group.finish();
    }
}

fn server_benches(c: &mut Criterion) {
    let rt = client_runtime();
    let servers = servers();
    for &(name, addr) in &servers {
        check(&rt, name, addr);
    }
    bench_keepalive(c, &rt, &servers);
    bench_close(c, &rt, &servers);
    bench_big(c, &rt, &servers);
}

criterion_group! {
    name = benches;
    // Short runs: 7 benchmarks of 2 peers, about 4 s each with the analysis.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = server_benches
}
criterion_main!(benches);
