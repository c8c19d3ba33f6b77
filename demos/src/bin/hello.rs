//! # hello: the smallest server
//!
//! Every path answers `Hello, World!` as text/plain. This is the server the
//! benchmarks load, so it does nothing else.
//!
//! Run it and poke it:
//!
//! ```text
//! cargo run --release -p demos --bin hello                # 127.0.0.1:8010
//! cargo run --release -p demos --bin hello -- --addr 127.0.0.1:9000
//! curl -i http://127.0.0.1:8010/hello
//! ```
//!
//! You will see `HTTP/1.1 200 OK`, a `Date`, `Content-Length: 13`,
//! `Content-Type: text/plain; charset=utf-8` and the greeting. SIGTERM or
//! Ctrl+C stops it.

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
    let server = Server::new(
        Config {
            addr: addr.clone(),
            ..Config::default()
        },
        hello,
    );
    // One thread is the fair match for one pinned core in the benchmarks;
    // `--threads N` gives more.
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
        tokio::select! {
            result = server.listen_and_serve() => {
                if let Err(e) = result {
                    tracing::error!("hello: {e}");
                    std::process::exit(1);
                }
            }
            _ = demos::shutdown_signal() => {}
        }
    });
}
