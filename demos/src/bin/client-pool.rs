//! # client-pool: watch Go's Transport pool at work
//!
//! Sends N GETs, C at a time, through one `Client` (one `Transport`, one
//! pool), logs a line per request saying which connection served it and
//! whether it was reused and how long it sat idle, then prints the
//! counters as the last line of stdout:
//!
//! ```text
//! requests=N ok=O failed=F dials=D reuses=R
//! ```
//!
//! Without `--url` it serves the course's example app in-process on
//! 127.0.0.1 (a random port) and asks it for `/demo/DescribeDemo` (whose
//! handler logs `destruct demo context` after each request). Exit status
//! 0 when every request got a 2xx.
//!
//! Flags: `--url URL` (default: the in-process example app), `--requests N`
//! (20), `--concurrency C` (1), `--max-conns-per-host K` (0 = no limit),
//! `--max-idle-per-host I` (2, Go's default), `--idle-timeout SECS` (90;
//! fractions allowed; 0 = never expire), `--waves` (send the requests in
//! waves of C, each wave starting when the last one is all answered,
//! instead of C workers each going on at once). `LOG_LEVEL=debug` also
//! shows the Transport's own events (dials, closes, retries).
//!
//! Try (lines starting with `$` are what you type; `...` in what you see
//! stands for what varies). One connection, reused 19 times; 8 at a time
//! in waves, with Go's default of 2 idle connections per host: each wave
//! closes 6 and dials them again (about 150 dials); the same with the idle
//! limit raised to the concurrency: 8 dials in all; 32 at a time but at
//! most 4 connections, the others waiting their turn:
//!
//! <!-- check -->
//! ```console
//! $ cargo run -p demos --bin client-pool -- --requests 20 --concurrency 1
//! ...
//! requests=20 ok=20 failed=0 dials=1 reuses=19
//! $ cargo run -p demos --bin client-pool -- --requests 200 --concurrency 8 --waves
//! ...
//! requests=200 ok=200 failed=0 dials=1... reuses=...
//! $ cargo run -p demos --bin client-pool -- --requests 200 --concurrency 8 --waves --max-idle-per-host 8
//! ...
//! requests=200 ok=200 failed=0 dials=... reuses=19...
//! $ cargo run -p demos --bin client-pool -- --requests 200 --concurrency 32 --max-conns-per-host 4 --max-idle-per-host 4
//! ...
//! requests=200 ok=200 failed=0 dials=4 reuses=196
//! ```
//!
//! (The third is `dials=8 reuses=192`, or once in a while a dial more,
//! when a request waiting for its dial is handed a connection another
//! request returned first.) Against any server, say `hello` started in
//! another terminal with
//! `cargo run -p demos --bin hello -- --addr 127.0.0.1:8140`:
//! `cargo run -p demos --bin client-pool -- --url http://127.0.0.1:8140/ --requests 10`
//! (notes/client-pool.md runs it).
//!
//! Each log line reads like the course's client log:
//!
//! ```text
//! 2026/11/21 20:13:00 #7 127.0.0.1:40123 GET http://127.0.0.1:40123/ 200 OK 412µs conn=2 reused=true was_idle=true idle=31µs
//! ```
//!
//! `was_idle=false` on a reused connection means it was handed straight
//! from the request that finished with it to this one, which was waiting
//! (Go: `tryPutIdleConn` serving an `idleConnWait` entry).

use client_pool::{Client, GotConnInfo, Transport, TransportConfig};
use demos::cli::{flag, flag_or, has_flag};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    demos::logging::init();
    let requests: usize = flag_or("requests", 20);
    let concurrency: usize = flag_or("concurrency", 1).max(1);
    let max_conns_per_host: usize = flag_or("max-conns-per-host", 0);
    let max_idle_per_host: usize = flag_or("max-idle-per-host", 2);
    let idle_timeout: f64 = flag_or("idle-timeout", 90.0);
    let waves = has_flag("waves");

    // Without --url, serve the example app on 127.0.0.1:0 in this process.
    let (url, _server) = match flag("url") {
        Some(url) => (url, None),
        None => {
            let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                Ok(listener) => listener,
                Err(e) => {
                    eprintln!("cannot listen on 127.0.0.1: {e}");
                    std::process::exit(1);
                }
            };
            let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
            let server = server::Server::from_arc(
                server::Config {
                    addr: addr.clone(),
                    ..server::Config::default()
                },
                demos::example_app::handler(),
            );
            let serving = server.clone();
            tokio::spawn(async move {
                let _ = serving.serve(listener).await;
            });
            tracing::info!("serving the example app on {addr}");
            (format!("http://{addr}/demo/DescribeDemo"), Some(server))
        }
    };

    let transport = Transport::new(TransportConfig {
        max_conns_per_host,
        max_idle_conns_per_host: max_idle_per_host,
        idle_conn_timeout: (idle_timeout > 0.0).then(|| Duration::from_secs_f64(idle_timeout)),
        ..TransportConfig::default()
    });
    let client = Client::with_transport(transport.clone()).with_timeout(Duration::from_secs(30));
    let host = url
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.to_string()))
        .unwrap_or_default();

    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    // Without --waves, C workers each send their next request as soon as
    // the last one is answered. With --waves, C requests start together
    // and the next C only once all of them are answered: every wave ends
    // with C connections coming back to the pool at once, which is where
    // the idle limit shows.
    let wave = if waves { concurrency } else { requests };
    while next.load(Ordering::Relaxed) < requests {
        let end = (next.load(Ordering::Relaxed) + wave).min(requests);
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (client, url, host, next, ok) = (
                client.clone(),
                url.clone(),
                host.clone(),
                next.clone(),
                ok.clone(),
            );
            workers.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= end {
                        next.fetch_min(end, Ordering::Relaxed);
                        return;
                    }
                    if one_request(&client, n + 1, &host, &url).await {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for worker in workers {
            let _ = worker.await;
        }
    }

    let ok = ok.load(Ordering::Relaxed);
    let stats = transport.stats();
    println!(
        "requests={requests} ok={ok} failed={} dials={} reuses={}",
        requests - ok,
        stats.dials,
        stats.reuses
    );
    std::process::exit(if ok == requests { 0 } else { 1 });
}

/// One GET, read to the end, logged; true on a 2xx.
async fn one_request(client: &Client, n: usize, host: &str, url: &str) -> bool {
    let start = Instant::now();
    let mut resp = match client.get(url).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::info!("#{n} {host} GET {url} error after {:?}: {e}", start.elapsed());
            return false;
        }
    };
    let body = resp.body_mut().bytes().await;
    let elapsed = start.elapsed();
    let conn = match resp.extensions().get::<GotConnInfo>() {
        Some(info) => format!(
            "conn={} reused={} was_idle={} idle={:?}",
            info.conn_id, info.reused, info.was_idle, info.idle_time
        ),
        None => String::new(),
    };
    match body {
        Ok(_) => {
            tracing::info!("#{n} {host} GET {url} {} {elapsed:?} {conn}", resp.status());
            resp.status().is_success()
        }
        Err(e) => {
            tracing::info!(
                "#{n} {host} GET {url} {} body error after {elapsed:?}: {e} {conn}",
                resp.status()
            );
            false
        }
    }
}
