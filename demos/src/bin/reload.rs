//! # reload: live reload for the app you are writing (in the spirit of codegangsta/gin)
//!
//! A proxy listens on a public port. On each request it makes sure your app
//! is built and running (on the app port), then forwards the request to it
//! through our `ReverseProxy`. A watcher scans the project for changed
//! source files; a change starts a build, and requests wait for it (the
//! old app finishes what it was serving); when the build is done the old
//! app is stopped (it gets time to finish its requests), and the waiting
//! requests start the new build.
//! While the last build failed, every request is answered with the
//! compiler's errors, so you read them in the browser.
//!
//! Run it on the course's example app, from the workspace root (it holds
//! the terminal; the rest goes in a second one). Lines starting with `$`
//! are what you type; `...` in what you see stands for what varies. Ports
//! 8250 and 8251 are ones no chapter uses (notes/reload.md runs the same
//! on the defaults, 8283 and 13109):
//!
//! <!-- check: start reload port=8250 -->
//! ```console
//! $ cargo run -p demos --bin reload -- --port 8250 --app-port 8251 --bin example
//! ... reload: listening on http://127.0.0.1:8250, app on http://127.0.0.1:8251
//! ```
//!
//! The first request waits for `cargo build --bin example` and for the app
//! to accept connections, then you see the example app's answer:
//!
//! <!-- check: run restore=demos/src/example_app.rs -->
//! ```console
//! $ curl -i http://127.0.0.1:8250/demo/DescribeDemo
//! HTTP/1.1 200 OK
//! ...
//! before demo action
//! DescribeDemo
//! after demo action
//! ```
//!
//! Edit `demos/src/example_app.rs` (change the text `before demo action`,
//! in your editor or with `sed` as here), and ask again: curl waits while
//! the new build runs, then the old app is stopped and the new one
//! answers. Put the text back and the same happens again:
//!
//! <!-- check -->
//! ```console
//! $ sed -i 's/before demo action/before the demo action/' demos/src/example_app.rs
//! $ curl http://127.0.0.1:8250/demo/DescribeDemo
//! before the demo action
//! DescribeDemo
//! after demo action
//! $ sed -i 's/before the demo action/before demo action/' demos/src/example_app.rs
//! $ curl http://127.0.0.1:8250/demo/DescribeDemo
//! before demo action
//! ...
//! ```
//!
//! Put a syntax error in the file (`let x = ;` inside `describe_demo`): curl
//! gets `500 Internal Server Error` with the compiler's message. Fix it and
//! the next request works again. Ctrl+C (or `kill -TERM`) stops the tool
//! and the app with it. The log (stderr) has told the story: a build, a
//! start, and for each change a build (requests wait for it), then the
//! old app stopped (it gets time to finish its requests), and a new start:
//!
//! <!-- check: signal reload INT -->
//! ```console
//! ... reload: building: cargo build --bin example
//! ... reload: started app (pid ...): .../target/debug/example --addr 127.0.0.1:8251
//! ... reload: ./demos/src/example_app.rs changed; rebuilding
//! ... reload: building: cargo build --bin example
//! ... reload: build finished
//! ... reload: stopping app (pid ...): SIGTERM; it has 35s to finish its requests
//! ... reload: app (pid ...) exited ... after SIGTERM (exit status: 0)
//! ... reload: started app (pid ...): .../target/debug/example --addr 127.0.0.1:8251
//! ...
//! ... reload: stopped
//! ```
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
//! Flags: `--port` (public port, default 8283, 0 for any), `--app-port`
//! (13109), `--bin`, `--build`, `--run`, `--path` (project to watch,
//! default `.`), `--ext` (default `rs,toml`), `--exclude DIR,...`,
//! `--poll-ms` (default 500), `--ready-timeout-ms` (how long to wait for
//! the app's port, default 10000), `--app-shutdown-timeout-ms` (how long a
//! stopped app has to finish its requests and exit before it is killed,
//! default 35000: longer than the example's own 30 s drain). The proxy
//! itself serves with the course's safe timeouts, changed or turned off
//! (0) with the same flags as `hello`: `--read-header-timeout-ms` (5000),
//! `--idle-timeout-ms` (120000), `--read-timeout-ms`, `--write-timeout-ms`
//! (off). The app keeps its own (the example's are the same). `--help`
//! prints this text.

use demos::reload::{run, Options};
use tokio::signal::unix::{signal, SignalKind};

fn main() {
    let options = demos::cli::parse_or_exit("reload", include_str!("reload.rs"), Options::from_flags);
    demos::logging::init();
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
