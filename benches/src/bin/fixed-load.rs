//! # fixed-load: a fixed number of keep-alive requests, for profiling
//!
//! Sends exactly `--requests N` `GET /hello` requests (default 20000) over
//! `--conns C` keep-alive connections (default 64), each connection one
//! request at a time, then exits; `--close` sends each on a fresh connection
//! with `Connection: close` instead. `--tls` speaks https (to a server
//! started with `--tls`; any certificate is accepted). A fixed amount of work is what an
//! instruction count needs: run a server under `valgrind --tool=callgrind`,
//! load it twice with different N, and the difference of the totals divided
//! by the difference of N is the cost of one request, start-up excluded.
//!
//! ```text
//! valgrind --tool=callgrind target/release/hello --addr 127.0.0.1:8010 --threads 1 &
//! cargo run --release -p benches --bin fixed-load -- --addr 127.0.0.1:8010 --requests 20000
//! ```

use benches::cli::flag;
use benches::raw_client::{close_roundtrip, close_roundtrip_tls, Conn, GET_HELLO};
use std::net::SocketAddr;

fn fail(msg: String) -> ! {
    eprintln!("fixed-load: {msg}");
    std::process::exit(1)
}

fn main() {
    let addr: SocketAddr = flag("addr")
        .unwrap_or_else(|| "127.0.0.1:8010".into())
        .parse()
        .unwrap_or_else(|e| fail(format!("--addr: {e}")));
    let conns: u64 = flag("conns").map_or(64, |n| {
        n.parse().unwrap_or_else(|e| fail(format!("--conns: {e}")))
    });
    let requests: u64 = flag("requests").map_or(20_000, |n| {
        n.parse().unwrap_or_else(|e| fail(format!("--requests: {e}")))
    });
    let close = std::env::args().any(|a| a == "--close");
    let tls = std::env::args().any(|a| a == "--tls");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format!("runtime: {e}")));
    let started = std::time::Instant::now();
    runtime.block_on(async move {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..conns {
            // Spread the requests evenly; the first connections take the remainder.
            let share = requests / conns + u64::from(i < requests % conns);
            set.spawn(async move {
                match (close, tls) {
                    (true, false) => {
                        for _ in 0..share {
                            close_roundtrip(addr).await?;
                        }
                    }
                    (true, true) => {
                        for _ in 0..share {
                            close_roundtrip_tls(addr).await?;
                        }
                    }
                    (false, false) => {
                        let mut conn = Conn::connect(addr).await?;
                        for _ in 0..share {
                            conn.roundtrip(GET_HELLO).await?;
                        }
                    }
                    (false, true) => {
                        let mut conn = Conn::connect_tls(addr).await?;
                        for _ in 0..share {
                            conn.roundtrip(GET_HELLO).await?;
                        }
                    }
                }
                Ok::<_, std::io::Error>(())
            });
        }
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => fail(format!("request failed: {e}")),
                Err(e) => fail(format!("task: {e}")),
            }
        }
    });
    eprintln!(
        "fixed-load: {requests} requests over {conns} {} in {:.2?}",
        if close {
            "concurrent fresh connections"
        } else {
            "keep-alive connections"
        },
        started.elapsed()
    );
}
