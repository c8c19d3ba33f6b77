//! # hello: the smallest server
//!
//! Every path answers `Hello, World!` as text/plain. This is the server the
//! benchmarks load, so it does nothing else.
//!
//! Run it and poke it. It listens on 127.0.0.1:8010 unless `--addr` says
//! otherwise (here 8210, a port no chapter uses); add `--release` after
//! `run` for the build the benchmarks load. The server holds its
//! terminal; the rest goes in a second one. Lines starting with `$` are
//! what you type; `...` in what you see stands for what varies:
//!
//! <!-- check: start hello port=8210 -->
//! ```console
//! $ cargo run -p demos --bin hello -- --addr 127.0.0.1:8210
//! ... hello: listening on http://127.0.0.1:8210
//! ```
//!
//! <!-- check -->
//! ```console
//! $ curl -i http://127.0.0.1:8210/hello
//! HTTP/1.1 200 OK
//! Content-Type: text/plain; charset=utf-8
//! Date: ...
//! Content-Length: 13
//!
//! Hello, World!
//! ```
//!
//! More to poke (see notes/server.md): a reused connection, two pipelined
//! requests on one connection (the second asks to close it), `OPTIONS *`
//! answered by the server itself, and a transfer coding the server does
//! not know (501):
//!
//! <!-- check -->
//! ```console
//! $ curl -v http://127.0.0.1:8210/a http://127.0.0.1:8210/b
//! ...
//! * Re-using existing connection ...
//! ...
//! $ bash -c 'exec 3<>/dev/tcp/127.0.0.1/8210; printf "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3; cat <&3; echo'
//! HTTP/1.1 200 OK
//! ...
//! Content-Length: 13
//!
//! Hello, World!HTTP/1.1 200 OK
//! ...
//! Content-Length: 13
//! Connection: close
//!
//! Hello, World!
//! $ curl -i -X OPTIONS --request-target '*' http://127.0.0.1:8210
//! HTTP/1.1 200 OK
//! Content-Length: 0
//! ...
//! $ curl -i http://127.0.0.1:8210 -H 'Transfer-Encoding: gzip'
//! HTTP/1.1 501 Not Implemented
//! ...
//! Connection: close
//!
//! Unsupported transfer encoding
//! ```
//!
//! Timeouts are off unless asked for, in milliseconds
//! (`--read-header-timeout-ms`, `--read-timeout-ms`, `--write-timeout-ms`,
//! `--idle-timeout-ms`; 0 is off). `hello` is the one demo server that keeps
//! Go's zero defaults: the benchmarks load it against hyper's hello and
//! Go's, which set no timeouts either, so all three do the same work per
//! request (with no timeout set, our server registers no timer at all; see
//! notes/server.md, section 4), and `benches/memory.sh` holds thousands of
//! idle keep-alive connections on it for up to 300 s, which an idle
//! timeout would close. That also makes it the place to see why the other
//! demo servers (`example`, `muxecho`, `reload`) set a read-header timeout
//! of 5 s and an idle timeout of 120 s by default: without them a client
//! that never finishes its head (slowloris) holds its connection for ever.
//! Here a client that sends nothing is still connected when `timeout`
//! gives up on it after 3 s (exit status 124):
//!
//! <!-- check -->
//! ```console
//! $ timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8210; cat <&3; echo closed'; echo "exit $?"
//! exit 124
//! ```
//!
//! Stop the server (Ctrl+C in its terminal; Go: `Server.Shutdown`:
//! requests in flight finish, idle connections close; a second signal, or
//! 10 s, closes everything):
//!
//! <!-- check: signal hello INT status=0 -->
//! ```console
//! ... hello: shutting down (... connection(s) open)
//! ... hello: shut down cleanly
//! ```
//!
//! and start it again with a read-header timeout of 2 s: the log's second
//! line names the timeouts, and the same silent client is disconnected
//! after 2 s (Go: `ReadHeaderTimeout`):
//!
//! <!-- check: start hello port=8210 -->
//! ```console
//! $ cargo run -p demos --bin hello -- --addr 127.0.0.1:8210 --read-header-timeout-ms 2000 --idle-timeout-ms 5000
//! ... hello: listening on http://127.0.0.1:8210
//! ... hello: timeouts: read-header 2s, idle 5s
//! ```
//!
//! <!-- check -->
//! ```console
//! $ time bash -c 'exec 3<>/dev/tcp/127.0.0.1/8210; cat <&3; echo closed'
//! closed
//! ...
//! real 0m2...
//! ```
//!
//! `--threads 1` serves on one thread, as the benchmarks run it against
//! hyper (one pinned core each); `--threads N` gives N worker threads; the
//! default is one worker per core.
//!
//! SIGTERM shuts it down gracefully too, as Ctrl+C does.
//!
//! <!-- check: signal hello TERM status=0 -->
//! ```console
//! ... hello: shut down cleanly
//! ```
//!
//! **https.** `--tls` serves with a self-signed certificate for
//! 127.0.0.1 and localhost, made the first time in `/tmp/hello-tls/` and
//! reused after (`--tls-cert FILE --tls-key FILE` serve your own), and
//! logs where it is, for `curl --cacert`. A plain http request on that
//! port gets Go's answer (notes/tls.md):
//!
//! <!-- check: start hello port=8210 -->
//! ```console
//! $ cargo run -p demos --bin hello -- --addr 127.0.0.1:8210 --tls
//! ... hello: listening on https://127.0.0.1:8210
//! ... hello: certificate /tmp/hello-tls/cert.pem (curl --cacert trusts it)
//! ```
//!
//! <!-- check -->
//! ```console
//! $ curl --cacert /tmp/hello-tls/cert.pem https://127.0.0.1:8210/hello; echo
//! Hello, World!
//! $ curl -i http://127.0.0.1:8210/hello
//! HTTP/1.0 400 Bad Request
//!
//! Client sent an HTTP request to an HTTPS server.
//! ```
//!
//! <!-- check: signal hello INT status=0 -->
//! ```console
//! ... hello: shut down cleanly
//! ```
//!
//! **A Unix socket.** `--addr unix:PATH` listens on a Unix domain socket
//! instead of TCP (Go: `net.Listen("unix", path)`); `curl --unix-socket
//! /tmp/hello.sock http://localhost/hello` asks it, after
//! `cargo run -p demos --bin hello -- --addr unix:/tmp/hello.sock`.
//!
//! `hello --help` prints this text; a flag it does not take is refused.

use demos::cli::{self, Flags, Long, Timeouts};
use demos::tls::{TlsFiles, TlsFlags};
use server::{handler_fn, Config, Server};

/// What the command line asks for.
struct Args {
    addr: String,
    threads: usize,
    timeouts: Timeouts,
    tls: TlsFlags,
}

fn parse(flags: &mut Flags) -> Result<Args, cli::Error> {
    let mut args = Args {
        addr: "127.0.0.1:8010".to_owned(),
        threads: 0,
        // The benchmark server: no timeouts unless asked (see above).
        timeouts: Timeouts::NONE,
        tls: TlsFlags::default(),
    };
    while let Some(arg) = flags.next()? {
        match arg {
            Long("addr") => args.addr = flags.value()?,
            Long("threads") => args.threads = flags.value()?,
            Long(name) if Timeouts::FLAGS.contains(&name) => args.timeouts.read(flags)?,
            Long(name) if TlsFlags::FLAGS.contains(&name) => args.tls.read(flags)?,
            Long(name) => return Err(cli::unknown(name)),
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(args)
}

fn main() {
    let Args {
        addr,
        threads,
        timeouts,
        tls,
    } = cli::parse_or_exit("hello", include_str!("hello.rs"), parse);
    demos::logging::init();
    let tls = match tls.files("hello") {
        Ok(files) => files,
        Err(e) => {
            eprintln!("hello: {e}");
            std::process::exit(2)
        }
    };
    let hello = handler_fn(|w, _r| {
        Box::pin(async move {
            w.header().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            let _ = w.write(b"Hello, World!").await;
        })
    });
    let config = Config {
        addr: addr.clone(),
        ..Config::default()
    };
    let server = Server::new(timeouts.apply(config), hello);
    // `--threads 1`: a current-thread runtime, the fair match for one
    // pinned core in the benchmarks; 0 (the default) lets tokio pick one
    // worker per core.
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
        let scheme = if tls.is_some() { "https" } else { "http" };
        match addr.strip_prefix("unix:") {
            Some(path) => tracing::info!("hello: listening on {scheme}+unix:{path}"),
            None => tracing::info!("hello: listening on {scheme}://{addr}"),
        }
        if let Some(files) = &tls {
            tracing::info!("hello: certificate {} (curl --cacert trusts it)", files.cert.display());
        }
        if timeouts != Timeouts::NONE {
            tracing::info!("hello: {}", timeouts.describe());
        }
        // Spawned, so that the accept loop keeps running (and sees the
        // shutdown, and drops the listener) while we wait for the shutdown.
        let mut serving = tokio::spawn(serve(server.clone(), addr, tls));
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

/// Serves on `addr` (`unix:PATH` for a Unix socket), over TLS when `tls`
/// names the files (Go: `ListenAndServe`, `ListenAndServeTLS`, or `Serve`
/// on a `net.Listen("unix", path)`).
async fn serve(server: Server, addr: String, tls: Option<TlsFiles>) -> Result<(), server::Error> {
    let Some(path) = addr.strip_prefix("unix:") else {
        return match tls {
            Some(files) => server.listen_and_serve_tls(&files.cert, &files.key).await,
            None => server.listen_and_serve().await,
        };
    };
    let listener = server::bind_unix_listener(path.as_ref())
        .and_then(tokio::net::UnixListener::from_std)
        .map_err(server::Error::Listen)?;
    match tls {
        Some(files) => {
            let config = server::load_server_config(&files.cert, &files.key)?;
            server.serve_tls(listener, config).await
        }
        None => server.serve(listener).await,
    }
}
