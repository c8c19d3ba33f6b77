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
//!
//! Its server has the course's safe timeouts (a request head within 5 s,
//! 120 s idle), set with the same flags as `hello` (`--read-header-timeout-ms`,
//! `--idle-timeout-ms`, `--read-timeout-ms`, `--write-timeout-ms`; 0 is
//! off). The held connections send nothing until the hold ends, so
//! `--hold-ms` must stay below the read-header timeout: `--hold-ms 8000`
//! is refused unless `--read-header-timeout-ms` is raised above it (or set
//! to 0):
//!
//! <!-- check -->
//! ```console
//! $ cargo run -q -p demos --bin accept-backoff -- --hold-ms 8000; echo "exit $?"
//! accept-backoff: --hold-ms 8000 is not shorter than the read-header timeout (5s): raise --read-header-timeout-ms too, or set it to 0
//! ...
//! exit 2
//! ```
//!
//! `--help` prints this text.

use demos::cli::{self, Flags, Long, Timeouts};
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use server::{handler_fn, Config, Server};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the command line asks for.
struct Args {
    conns: usize,
    headroom: u64,
    hold: Duration,
    timeouts: Timeouts,
}

fn parse(flags: &mut Flags) -> Result<Args, cli::Error> {
    let mut args = Args {
        conns: 40,
        headroom: 8,
        hold: Duration::from_millis(2500),
        timeouts: Timeouts::SAFE,
    };
    while let Some(arg) = flags.next()? {
        match arg {
            Long("conns") => args.conns = flags.value()?,
            Long("headroom") => args.headroom = flags.value()?,
            Long("hold-ms") => args.hold = Duration::from_millis(flags.value()?),
            Long(name) if Timeouts::FLAGS.contains(&name) => args.timeouts.read(flags)?,
            Long(name) => return Err(cli::unknown(name)),
            other => return Err(other.unexpected().into()),
        }
    }
    // The held connections send nothing until the hold ends: a header
    // timeout shorter than that would close them first.
    if let Some(limit) = args.timeouts.read_header {
        if args.hold >= limit {
            return Err(cli::Error::Bad(format!(
                "--hold-ms {} is not shorter than the read-header timeout ({limit:?}): raise --read-header-timeout-ms too, or set it to 0",
                args.hold.as_millis()
            )));
        }
    }
    Ok(args)
}

fn main() {
    let args = cli::parse_or_exit("accept-backoff", include_str!("accept-backoff.rs"), parse);
    demos::logging::init();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("accept-backoff: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(args)) {
        tracing::error!("accept-backoff: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        conns,
        headroom,
        hold,
        timeouts,
    } = args;
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
    let server = Server::new(timeouts.apply(Config::default()), hello);
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
