//! # accept-backoff: the accept loop running out of file descriptors
//!
//! Go's `Server.Serve` treats "too many open files" as temporary: it logs
//! `http: Accept error: ...; retrying in 5ms`, sleeps, and doubles the delay
//! up to one second, resetting it after the next successful accept. This
//! demo makes that happen on purpose, safely, inside its own process:
//!
//! 1. it listens on 127.0.0.1 (a free port) and opens a burst of client
//!    connections to itself (`--conns`, default 40); they wait in the
//!    listen backlog;
//! 2. it lowers its own open-file limit (`setrlimit(RLIMIT_NOFILE)`) to what
//!    is open now plus `--headroom` (default 8), then starts serving: the
//!    server accepts a few connections and then `accept` fails with EMFILE;
//! 3. it keeps every accepted connection idle for `--hold-ms` (default
//!    2500), long enough for the log to show the delay doubling 5ms, 10ms,
//!    20ms ... 1s, 1s;
//! 4. then every client sends `GET /` with `Connection: close`: each answer
//!    closes a connection and frees a descriptor, the next retry succeeds,
//!    the delay resets to 5 ms, and serving resumes until all are answered;
//! 5. it prints a summary and stops by itself.
//!
//! Run it (lines starting with `$` are what you type; `...` in what you
//! see stands for what varies):
//!
//! <!-- check -->
//! ```console
//! $ cargo run -p demos --bin accept-backoff
//! ... accept-backoff: lowered RLIMIT_NOFILE to ... open): room for 8 more descriptors, 40 connections waiting
//! ... http: Accept error: Too many open files (os error 24); retrying in 5ms
//! ... http: Accept error: Too many open files (os error 24); retrying in 10ms
//! ...
//! ... http: Accept error: Too many open files (os error 24); retrying in 1s
//! ... accept-backoff: served 40/40 connections
//! $ cargo run -p demos --bin accept-backoff -- --conns 100 --headroom 4 --hold-ms 4000
//! ... accept-backoff: lowered RLIMIT_NOFILE to ... open): room for 4 more descriptors, 100 connections waiting
//! ...
//! ... accept-backoff: served 100/100 connections
//! ```
//!
//! Only this process's limit is lowered, and only 127.0.0.1 is used.

use nix::sys::resource::{getrlimit, setrlimit, Resource};
use server::{handler_fn, Config, Server};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn main() {
    demos::logging::init();
    let conns = demos::cli::flag_or("conns", 40usize);
    let headroom = demos::cli::flag_or("headroom", 8u64);
    let hold = Duration::from_millis(demos::cli::flag_or("hold-ms", 2500u64));
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("accept-backoff: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(conns, headroom, hold)) {
        tracing::error!("accept-backoff: {e}");
        std::process::exit(1);
    }
}

async fn run(conns: usize, headroom: u64, hold: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;

    // The burst: connected by the kernel, waiting in the backlog for accept.
    let mut clients = Vec::with_capacity(conns);
    for _ in 0..conns {
        clients.push(TcpStream::connect(addr).await?);
    }

    // Leave room for only `headroom` more descriptors in this process.
    let open = open_descriptors()?;
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    let limit = open + headroom;
    setrlimit(Resource::RLIMIT_NOFILE, limit, hard)?;
    tracing::info!(
        "accept-backoff: lowered RLIMIT_NOFILE to {limit} ({open} open): room for {headroom} more descriptors, {conns} connections waiting"
    );

    let hello = handler_fn(|w, _r| {
        Box::pin(async move {
            let _ = w.write(b"served despite EMFILE\n").await;
        })
    });
    let server = Server::new(Config::default(), hello);
    let serving = tokio::spawn({
        let server = server.clone();
        async move { server.serve(listener).await }
    });

    // Let the accepted connections sit idle while the backoff climbs.
    tokio::time::sleep(hold).await;
    tracing::info!("accept-backoff: every client now sends its request; each answer frees a descriptor");

    let mut answers = Vec::with_capacity(conns);
    for mut client in clients {
        answers.push(tokio::spawn(async move {
            client
                .write_all(b"GET / HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n")
                .await?;
            let mut response = Vec::new();
            client.read_to_end(&mut response).await?;
            Ok::<bool, std::io::Error>(response.starts_with(b"HTTP/1.1 200 OK"))
        }));
    }
    let mut served = 0;
    let all = async {
        for answer in answers {
            if matches!(answer.await, Ok(Ok(true))) {
                served += 1;
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(60), all).await.is_err() {
        tracing::error!("accept-backoff: gave up waiting after 60 s");
    }
    tracing::info!("accept-backoff: served {served}/{conns} connections");

    server.close();
    let _ = serving.await;
    if served == conns {
        Ok(())
    } else {
        Err(format!("only {served} of {conns} connections were served").into())
    }
}

/// Descriptors open in this process (not counting the one used to look).
fn open_descriptors() -> std::io::Result<u64> {
    let entries = std::fs::read_dir("/proc/self/fd")?.count() as u64;
    Ok(entries.saturating_sub(1))
}
