//! # example: the course's example server, restartable without dropping a request
//!
//! Serves the course's example application (`demos::example_app`) through
//! `gracehttp` on 127.0.0.1:8010: SIGUSR2 restarts it gracefully (a new
//! process takes over the listening socket, the old one drains and exits),
//! SIGTERM or Ctrl+C shuts it down gracefully. Two routes of its own sit in
//! front of the application, for the restart lessons and tests:
//!
//! - `GET /slow/<ms>`: sleeps min(ms, 10000) ms, then answers `slept <ms>ms`;
//! - `GET /pid`: answers the pid of the process that served it.
//!
//! Flags: `--addr HOST:PORT` (default `127.0.0.1:8010`; port 0 picks a
//! free one, logged at start), `--pid-file PATH` (always names the serving
//! process), `--idle-grace-ms N` (how long a draining process waits on an
//! idle keep-alive connection, default 500; 0 behaves as Go's `Shutdown`
//! and loses requests under load: `scripts/restart-bench.sh` shows it),
//! `--ready-timeout-ms N` (how long a new process has to become ready
//! before it is killed and the old one keeps serving, default 10000),
//! `--shutdown-timeout-ms N` (bound on the whole drain, default 30000; what
//! is left then is closed by force and the process exits with status 1).
//!
//! It runs with the timeouts a well-configured Go server sets: a request
//! head must arrive within 5 s of the connection (or of the previous
//! request), and a kept-alive connection may wait 120 s for its next
//! request. The same flags as `hello` change them, in milliseconds, 0 for
//! off: `--read-header-timeout-ms` (default 5000), `--idle-timeout-ms`
//! (120000), `--read-timeout-ms` and `--write-timeout-ms` (off: `/slow`
//! takes its time). `example --help` prints this text.
//!
//! Watch a restart happen (notes/gracehttp.md walks through the same steps
//! at length). The server holds the first terminal; the rest goes in a
//! second one. Lines starting with `$` are what you type; `...` in what
//! you see stands for what varies, such as pids. Port 8230 and the pid
//! file are ones no chapter uses:
//!
//! <!-- check: start example port=8230 pidfile=/tmp/example-8230.pid -->
//! ```console
//! $ cargo run -p demos --bin example -- --addr 127.0.0.1:8230 --pid-file /tmp/example-8230.pid
//! ... [pid: ...] Listening on http://127.0.0.1:8230.
//! ```
//!
//! The application's answer, and the pid serving it:
//!
//! <!-- check -->
//! ```console
//! $ curl http://127.0.0.1:8230/demo/DescribeDemo
//! before demo action
//! DescribeDemo
//! after demo action
//! $ curl http://127.0.0.1:8230/pid; echo
//! ...
//! ```
//!
//! A request that takes 5 s, started before the restart (the `&` gives
//! the prompt back; it prints its answer when it ends):
//!
//! <!-- check: start slow after=0.5 -->
//! ```console
//! $ curl -i http://127.0.0.1:8230/slow/5000 &
//! ```
//!
//! The restart; a moment later `/pid` names a new process, whose listener
//! is the one it inherited on fd 3 (`ls -l /proc/$(cat
//! /tmp/example-8230.pid)/fd` shows `3 -> socket:[...]`):
//!
//! <!-- check: run after=1 -->
//! ```console
//! $ kill -USR2 $(cat /tmp/example-8230.pid)
//! $ curl http://127.0.0.1:8230/pid; echo
//! ...
//! ```
//!
//! The slow request still gets its `slept 5000ms`, from the old process,
//! with `Connection: close`:
//!
//! <!-- check: wait slow -->
//! ```console
//! HTTP/1.1 200 OK
//! ...
//! Connection: close
//!
//! slept 5000ms
//! ```
//!
//! Then the old process has drained and exits, and `cargo run` in the
//! first terminal returns to the prompt: the new process runs on by
//! itself (its log still goes to that terminal, and Ctrl+C there no longer
//! reaches it). The log reads as the course's transcript:
//!
//! <!-- check: wait example status=0 -->
//! ```console
//! ... [pid: ...] Receive signal SIGUSR2. To restart the server gracefully.
//! ... [pid: ...] Serving on http://127.0.0.1:8230 with the listener inherited on fd 3.
//! ... [pid: ...] A new process [...] has been started successfully. To shut down the server gracefully.
//! ... [pid: ...] The http server has been shut down successfully.
//! ... [pid: ...] Waiting for connections to be closed.
//! ... [pid: ...] All connections have been closed.
//! ```
//!
//! Stop the new process with the pid file (a graceful shutdown, exit 0);
//! then nothing listens on the port:
//!
//! <!-- check: run after=1 -->
//! ```console
//! $ kill -TERM $(cat /tmp/example-8230.pid)
//! ```
//!
//! <!-- check: run status=7 -->
//! ```console
//! $ curl http://127.0.0.1:8230/pid
//! curl: (7) Failed to connect to 127.0.0.1 port 8230...
//! ```
//!
//! **Over https**, and a restart that rotates the certificate. `--tls`
//! serves with a self-signed certificate for 127.0.0.1 and localhost,
//! made the first time in `/tmp/example-tls/` and reused after (or bring
//! your own: `--tls-cert FILE --tls-key FILE`). Every new process reads
//! the files again, so a restart serves whatever they hold then. Port
//! 8231 and its pid file are ones no chapter uses:
//!
//! <!-- check: start example port=8231 pidfile=/tmp/example-8231.pid -->
//! ```console
//! $ cargo run -p demos --bin example -- --addr 127.0.0.1:8231 --pid-file /tmp/example-8231.pid --tls
//! ... [pid: ...] Certificate /tmp/example-tls/cert.pem (curl --cacert trusts it).
//! ... [pid: ...] Listening on https://127.0.0.1:8231.
//! ```
//!
//! <!-- check -->
//! ```console
//! $ curl --cacert /tmp/example-tls/cert.pem https://127.0.0.1:8231/demo/DescribeDemo
//! before demo action
//! DescribeDemo
//! after demo action
//! ```
//!
//! Keep a copy of the certificate, delete the files, and restart: the new
//! process makes a new certificate and serves it, while the old one
//! drains. A client that trusts the old certificate is now refused (curl's
//! status 60); one that trusts the new file is served by the new process:
//!
//! <!-- check: run after=1 -->
//! ```console
//! $ cp /tmp/example-tls/cert.pem /tmp/example-8231-old.pem && rm -r /tmp/example-tls
//! $ kill -USR2 $(cat /tmp/example-8231.pid)
//! ```
//!
//! <!-- check: run status=60 -->
//! ```console
//! $ curl --cacert /tmp/example-8231-old.pem https://127.0.0.1:8231/pid
//! curl: (60) SSL certificate problem: ...
//! ...
//! ```
//!
//! <!-- check -->
//! ```console
//! $ curl --cacert /tmp/example-tls/cert.pem https://127.0.0.1:8231/pid; echo
//! ...
//! $ kill -TERM $(cat /tmp/example-8231.pid)
//! ```
//!
//! <!-- check: wait example status=0 -->
//! ```console
//! ... [pid: ...] Serving on https://127.0.0.1:8231 with the listener inherited on fd 3.
//! ```
//!
//! `--addr unix:/tmp/example.sock` serves on a Unix socket instead
//! (`curl --unix-socket /tmp/example.sock http://x/pid`), and restarts
//! the same way.
//!
//! **Test-only switch**: when the environment variable
//! `EXAMPLE_TEST_CHILD_START` names a file that exists, a process started
//! by a restart reads it before serving: `exit` (or nothing) makes it exit
//! with status 3, `delay <ms>` makes it wait that long. The restart tests
//! use it to check that a child dying at start leaves the old process
//! serving, and that a second SIGUSR2 during a slow start is refused. It is
//! not meant for any other use.

use demos::cli::{self, Flags, Long, Timeouts};
use demos::tls::TlsFlags;
use server::{BoxFuture, Handler, Request, ResponseWriter};
use std::sync::Arc;
use std::time::Duration;

/// The longest `/slow/<ms>` sleep.
const MAX_SLOW_MS: u64 = 10_000;

/// The test-only switch described above.
const CHILD_START_SWITCH: &str = "EXAMPLE_TEST_CHILD_START";

/// The example application behind the two routes of this binary.
struct Example {
    app: Arc<dyn Handler>,
}

impl Handler for Example {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        if r.method == http::Method::GET {
            let path = r.url.path.as_str().unwrap_or("");
            if path == "/pid" {
                return Box::pin(async move {
                    let _ = w.write(format!("{}\n", std::process::id()).as_bytes()).await;
                });
            }
            if let Some(ms) = path.strip_prefix("/slow/").and_then(|ms| ms.parse::<u64>().ok()) {
                return Box::pin(slow(w, ms));
            }
        }
        self.app.serve_http(w, r)
    }
}

/// `GET /slow/<ms>`: a request that stays in flight long enough to see a
/// restart or a shutdown wait for it.
async fn slow(w: &mut ResponseWriter, ms: u64) {
    let pid = std::process::id();
    tracing::info!("[pid: {pid}] slow request: sleeping {ms}ms");
    tokio::time::sleep(Duration::from_millis(ms.min(MAX_SLOW_MS))).await;
    w.header().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let _ = w.write(format!("slept {ms}ms").as_bytes()).await;
}

/// What the command line asks for.
struct Args {
    addr: String,
    pid_file: Option<String>,
    idle_grace: Duration,
    ready_timeout: Duration,
    shutdown_timeout: Duration,
    timeouts: Timeouts,
    tls: TlsFlags,
}

fn parse(flags: &mut Flags) -> Result<Args, cli::Error> {
    let mut args = Args {
        addr: "127.0.0.1:8010".to_owned(),
        pid_file: None,
        idle_grace: gracehttp::DEFAULT_IDLE_GRACE,
        ready_timeout: gracehttp::DEFAULT_READY_TIMEOUT,
        shutdown_timeout: gracehttp::DEFAULT_SHUTDOWN_TIMEOUT,
        timeouts: Timeouts::SAFE,
        tls: TlsFlags::default(),
    };
    while let Some(arg) = flags.next()? {
        match arg {
            Long("addr") => args.addr = flags.value()?,
            Long("pid-file") => args.pid_file = Some(flags.value()?),
            Long("idle-grace-ms") => args.idle_grace = Duration::from_millis(flags.value()?),
            Long("ready-timeout-ms") => args.ready_timeout = Duration::from_millis(flags.value()?),
            Long("shutdown-timeout-ms") => args.shutdown_timeout = Duration::from_millis(flags.value()?),
            Long(name) if Timeouts::FLAGS.contains(&name) => args.timeouts.read(flags)?,
            Long(name) if TlsFlags::FLAGS.contains(&name) => args.tls.read(flags)?,
            Long(name) => return Err(cli::unknown(name)),
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(args)
}

fn main() {
    // A process started by a restart gets the same command line, so it
    // reads it the same way.
    let args = cli::parse_or_exit("example", include_str!("example.rs"), parse);
    demos::logging::init();
    if std::env::var_os("LISTEN_FDS").is_some() {
        test_only_child_start_switch();
    }
    let config = args.timeouts.apply(server::Config {
        addr: args.addr.clone(),
        ..server::Config::default()
    });
    let mut grace = gracehttp::GraceServer::new(args.addr)
        .config(config)
        .on_error(|e| tracing::error!("example: serve error: {e}"))
        .idle_grace(args.idle_grace)
        .ready_timeout(args.ready_timeout)
        .shutdown_timeout(args.shutdown_timeout);
    if let Some(path) = args.pid_file {
        grace = grace.pid_file(path);
    }
    match args.tls.files("example") {
        Ok(Some(files)) => {
            tracing::info!(
                "[pid: {}] Certificate {} (curl --cacert trusts it).",
                std::process::id(),
                files.cert.display()
            );
            grace = grace.tls(files.cert, files.key);
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!("[pid: {}] example: {e}", std::process::id());
            std::process::exit(2);
        }
    }
    let handler = Example {
        app: demos::example_app::handler(),
    };
    if let Err(e) = grace.run(handler) {
        tracing::error!("[pid: {}] example: {e}", std::process::id());
        std::process::exit(1);
    }
}

/// The test-only switch (see the top of this file), for a process started
/// by a restart.
fn test_only_child_start_switch() {
    let Some(path) = std::env::var_os(CHILD_START_SWITCH) else {
        return;
    };
    let Ok(order) = std::fs::read_to_string(path) else {
        return;
    };
    let pid = std::process::id();
    match order.trim().strip_prefix("delay ") {
        Some(ms) => {
            let ms = ms.trim().parse().unwrap_or(0);
            tracing::info!("[pid: {pid}] {CHILD_START_SWITCH}: delaying the start by {ms}ms (test only).");
            std::thread::sleep(Duration::from_millis(ms));
        }
        None => {
            tracing::error!("[pid: {pid}] {CHILD_START_SWITCH}: exiting at start (test only).");
            std::process::exit(3);
        }
    }
}
