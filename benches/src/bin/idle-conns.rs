//! # idle-conns: holds many idle keep-alive connections open against a server
//!
//! The client half of `benches/memory.sh`. It opens `--conns N` connections
//! to `--addr`, sends one `GET /hello` on each and reads the answer (so each
//! is an idle keep-alive connection the server has served once), prints
//! `ready N` on stdout, then holds them all until its stdin closes or
//! `--hold SECS` (default 60) passes.
//!
//! ```text
//! ulimit -n 20000
//! cargo run --release -p benches --bin idle-conns -- --addr 127.0.0.1:8010 --conns 10000
//! ```
//!
//! Connections are opened 100 at a time so the listen backlog never overflows.

use benches::cli::flag;
use benches::raw_client::{Conn, GET_HELLO};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

fn fail(msg: String) -> ! {
    eprintln!("idle-conns: {msg}");
    std::process::exit(1)
}

fn main() {
    let addr: SocketAddr = flag("addr")
        .unwrap_or_else(|| "127.0.0.1:8010".into())
        .parse()
        .unwrap_or_else(|e| fail(format!("--addr: {e}")));
    let conns: usize = flag("conns").map_or(10_000, |n| {
        n.parse().unwrap_or_else(|e| fail(format!("--conns: {e}")))
    });
    let hold: u64 = flag("hold").map_or(60, |n| n.parse().unwrap_or_else(|e| fail(format!("--hold: {e}"))));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format!("runtime: {e}")));
    let held = runtime.block_on(async move {
        let mut held = Vec::with_capacity(conns);
        while held.len() < conns {
            let batch = (conns - held.len()).min(100);
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..batch {
                set.spawn(async move {
                    let mut conn = Conn::connect(addr).await?;
                    conn.roundtrip(GET_HELLO).await?;
                    Ok::<_, std::io::Error>(conn)
                });
            }
            while let Some(joined) = set.join_next().await {
                match joined {
                    Ok(Ok(conn)) => held.push(conn),
                    Ok(Err(e)) => fail(format!("after {} connections: {e}", held.len())),
                    Err(e) => fail(format!("task: {e}")),
                }
            }
        }
        held
    });
    println!("ready {}", held.len());
    let _ = std::io::stdout().flush();
    // Hold until stdin closes (the script's signal) or the time is up.
    let (closed_tx, closed_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        let _ = std::io::stdin().read(&mut byte);
        let _ = closed_tx.send(());
    });
    let _ = closed_rx.recv_timeout(Duration::from_secs(hold));
    drop(held);
}
