//! # reload: live reload for the app you are writing (in the spirit of codegangsta/gin)
//!
//! A proxy listens on a public port. On each request it makes sure your app
//! is built and running (on the app port), then forwards the request to it
//! through our `ReverseProxy`. A watcher scans the project for changed
//! source files; a change stops the app and rebuilds it, and the next
//! request starts the new build. While the last build failed, every request
//! is answered with the compiler's errors, so you read them in the browser.
//!
//! Run it on the course's example app, from the workspace root, and send
//! it a request from a second terminal (lines starting with `$` are what
//! you type; `...` in what you see stands for what varies):
//!
//! <!-- check: start reload port=8283 -->
//! ```console
//! $ cargo run -p demos --bin reload -- --port 8283 --app-port 13109 --bin example
//! ... reload: listening on http://127.0.0.1:8283, app on http://127.0.0.1:13109
//! ```
//!
//! <!-- check -->
//! ```console
//! $ curl -i http://127.0.0.1:8283/demo/DescribeDemo
//! HTTP/1.1 200 OK
//! ...
//! before demo action
//! ```
//!
//! The first request waits for `cargo build --bin example` and for the app
//! to accept connections, then you see the example app's answer. The log
//! (stderr) shows `reload: building: cargo build --bin example`,
//! `reload: started app (pid N): .../target/debug/example --addr 127.0.0.1:13109`.
//! Edit `demos/src/example_app.rs` (change the text `before demo action`),
//! save, and run the same curl: the log shows `reload:
//! ./demos/src/example_app.rs changed; rebuilding`, `reload: app stopped`,
//! a build, a new start, and curl shows the new text. Put a syntax error
//! in the file: curl gets
//! `500 Internal Server Error` with the compiler's message. Fix it and the
//! next request works again. Ctrl+C (or `kill -TERM`) stops the tool and
//! the app with it.
//!
//! Everything after `--` goes to the app, with `{port}` replaced by the app
//! port; the app also gets `PORT` in its environment (gin's convention).
//! With `--bin` and no `--`, the app gets `--addr 127.0.0.1:{port}`, which
//! is how the workspace's demo servers take their address; `-- ARGS...`
//! replaces that (a bare `--` gives none).
//! Without `--bin`, give your own commands, which run through `sh -c`:
//!
//! ```text
//! reload --port 8283 --app-port 13109 --ext py \
//!     --build 'python3 -m py_compile app.py' --run 'python3 app.py'
//! ```
//!
//! Flags: `--port` (public port, 0 for any), `--app-port`, `--bin`,
//! `--build`, `--run`, `--path` (project to watch, default `.`), `--ext`
//! (default `rs,toml`), `--exclude DIR,...`, `--poll-ms` (default 500),
//! `--ready-timeout-ms` (how long to wait for the app's port, default 10000).

use demos::reload::{run, Options};
use tokio::signal::unix::{signal, SignalKind};

fn main() {
    demos::logging::init();
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2)
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("reload: cannot start the runtime: {e}");
            std::process::exit(1)
        }
    };
    let result = runtime.block_on(async {
        // Install the handlers before anything starts, so that a signal at
        // any moment stops the tool through `run`, which stops the app.
        let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(term), Ok(int)) => (term, int),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let stop = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        };
        run(options, stop).await
    });
    if let Err(e) = result {
        eprintln!("reload: {e}");
        std::process::exit(1);
    }
}
