//! # hello: the smallest server
//!
//! Every path answers `Hello, World!` as text/plain. This is the server the
//! benchmarks load, so it does nothing else.
//!
//! Run it (on 127.0.0.1:8010 unless `--addr` says otherwise; add
//! `--release` after `run` for the build the benchmarks load), and poke it
//! from a second terminal. Lines starting with `$` are what you type; `...`
//! in what you see stands for what varies:
//!
//! <!-- check: start hello port=8010 -->
//! ```console
//! $ cargo run -p demos --bin hello
//! ... hello: listening on http://127.0.0.1:8010
//! ```
//!
//! <!-- check -->
//! ```console
//! $ curl -i http://127.0.0.1:8010/hello
//! HTTP/1.1 200 OK
//! Content-Type: text/plain; charset=utf-8
//! Date: ...
//! Content-Length: 13
//!
//! Hello, World!
//! ```
//!
//! More to poke (see notes/server.md): a reused connection, two pipelined
//! requests, `OPTIONS *` answered by the server itself, and a transfer
//! coding the server does not know (501):
//!
//! <!-- check -->
//! ```console
//! $ curl -v http://127.0.0.1:8010/a http://127.0.0.1:8010/b
//! ...
//! * Re-using existing connection ...
//! ...
//! $ bash -c 'exec 3<>/dev/tcp/127.0.0.1/8010; printf "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3; cat <&3; echo'
//! HTTP/1.1 200 OK
//! ...
//! Hello, World!HTTP/1.1 200 OK
//! ...
//! Connection: close
//! ...
//! $ curl -i -X OPTIONS --request-target '*' http://127.0.0.1:8010
//! HTTP/1.1 200 OK
//! Content-Length: 0
//! ...
//! $ curl -i http://127.0.0.1:8010 -H 'Transfer-Encoding: gzip'
//! HTTP/1.1 501 Not Implemented
//! ...
//! ```
//!
//! Timeouts are off unless asked for, in milliseconds
//! (`--read-header-timeout-ms`, `--read-timeout-ms`, `--write-timeout-ms`,
//! `--idle-timeout-ms`). Stop the server (Ctrl+C) and start it again with
//! a header timeout; a client that says nothing is disconnected after 2 s:
//!
//! <!-- check: signal hello INT -->
//! ```console
//! ... hello: shut down cleanly
//! ```
//!
//! <!-- check: start hello port=8010 -->
//! ```console
//! $ cargo run -p demos --bin hello -- --read-header-timeout-ms 2000 --idle-timeout-ms 5000
//! ... hello: listening on http://127.0.0.1:8010
//! ```
//!
//! <!-- check -->
//! ```console
//! $ time bash -c 'exec 3<>/dev/tcp/127.0.0.1/8010; cat <&3; echo closed'
//! closed
//! ...
//! real 0m2...
//! ```
//!
//! `--threads 1` serves on one thread, as the benchmarks run it against
//! hyper (one pinned core each); `--threads N` gives N worker threads; the
//! default is one worker per core.
//!
//! Ctrl+C or SIGTERM shuts it down gracefully (Go: `Server.Shutdown`):
//! requests in flight finish, idle connections close, and it logs
//! `hello: shut down cleanly`; a second signal (or 10 s) closes everything.

use server::{handler_fn, Config, Server};

fn main() {
    demos::logging::init();
    let addr = demos::cli::flag("addr").unwrap_or_else(|| "127.0.0.1:8010".to_owned());
    let hello = handler_fn(|w, _r| {
        Box::pin(async move {
            w.header().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            let _ = w.write(b"Hello, World!").await;
        })
    });
    let millis = |name: &str| {
        demos::cli::flag(name).map(|_| std::time::Duration::from_millis(demos::cli::flag_or(name, 0u64)))
    };
    let server = Server::new(
        Config {
            addr: addr.clone(),
            read_header_timeout: millis("read-header-timeout-ms"),
            read_timeout: millis("read-timeout-ms"),
            write_timeout: millis("write-timeout-ms"),
            idle_timeout: millis("idle-timeout-ms"),
            ..Config::default()
        },
        hello,
    );
    // `--threads 1`: a current-thread runtime, the fair match for one
    // pinned core in the benchmarks; 0 (the default) lets tokio pick one
    // worker per core.
    let threads = demos::cli::flag_or("threads", 0usize);
    let mut runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    if threads > 1 {
        runtime.worker_threads(threads);
    }
    let runtime = match runtime.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hello: cannot start the runtime: {e}");
            std::process::exit(1)
        }
    };
    runtime.block_on(async {
        tracing::info!("hello: listening on http://{addr}");
        // Spawned, so that the accept loop keeps running (and sees the
        // shutdown, and drops the listener) while we wait for the shutdown.
        let mut serving = tokio::spawn({
            let server = server.clone();
            async move { server.listen_and_serve().await }
        });
        tokio::select! {
            result = &mut serving => {
                if let Ok(Err(e)) = result {
                    tracing::error!("hello: {e}");
                    std::process::exit(1);
                }
            }
            _ = demos::shutdown_signal() => {
                tracing::info!("hello: shutting down ({} connection(s) open)", server.open_connections());
                let shutdown = server.shutdown(std::time::Duration::from_secs(10));
                let result = tokio::select! {
                    result = shutdown => result,
                    _ = demos::shutdown_signal() => Err(server::Error::ShutdownTimeout { open: server.open_connections() }),
                };
                match result {
                    Ok(()) => tracing::info!("hello: shut down cleanly"),
                    Err(e) => {
                        tracing::warn!("hello: {e}; closing the rest");
                        server.close();
                    }
                }
            }
        }
    });
}
