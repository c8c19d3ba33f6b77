//! No file descriptor leaks: 10 000 requests through one Client, with
//! connections dialled, pooled, handed over, dropped early and closed by
//! the idle limit, then the process has as many fds open as before.
//! (Its own test binary: other tests' sockets would blur the count.)

mod common;

use client_pool::{Client, Transport, TransportConfig};
use common::{eventually, our_server, within};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_requests_leave_no_descriptor_behind() {
    if !std::path::Path::new("/proc/self/fd").exists() {
        eprintln!("skipped: no /proc/self/fd on this system");
        return;
    }
    let server = our_server(server::handler_fn(|w, _r| {
        Box::pin(async move {
            let _ = w.write(&[b'x'; 4096]).await;
        })
    }))
    .await;
    let before = open_fds();
    {
        let transport = Transport::new(TransportConfig {
            max_idle_conns_per_host: 4,
            ..TransportConfig::default()
        });
        let client = Client::with_transport(transport.clone());
        let mut tasks = Vec::new();
        for worker in 0..16 {
            let client = client.clone();
            let url = server.url("/");
            tasks.push(tokio::spawn(async move {
                for i in 0..625 {
                    let mut resp = client.get(&url).await.unwrap();
                    if (i + worker) % 10 == 0 {
                        drop(resp); // early drop: that connection is closed
                    } else {
                        resp.body_mut().bytes().await.unwrap();
                    }
                }
            }));
        }
        for task in tasks {
            within("worker", task).await.unwrap();
        }
        let stats = transport.stats();
        assert!(stats.dials > 100, "the test churns connections: {stats:?}");
        // Dials that lost the race to a returned connection were pooled
        // unused, so dials + reuses may exceed the request count.
        assert!(
            stats.reuses < 10_000 && stats.dials + stats.reuses >= 10_000,
            "{stats:?}"
        );
        transport.close_idle_connections();
    }
    eventually("the server to see every connection closed", || {
        server.counts.open() == 0
    })
    .await;
    eventually("fds back to where they were", || open_fds() <= before).await;
}
