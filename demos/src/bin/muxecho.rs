//! # muxecho: which pattern did the ServeMux choose?
//!
//! Registers every PATTERN on one [`mux::ServeMux`], each with a handler
//! answering `pattern=<PATTERN>` and a newline, and serves it. It is the
//! Rust side of the ServeMux conformance test: the same contract as the
//! small Go server the corpus (`demos/testdata/mux/corpus.json`) was
//! recorded with, so the same cases run against both.
//!
//! ```text
//! muxecho [-pattern-header] -addr 127.0.0.1:0 PATTERN...
//! ```
//!
//! - prints `listening on HOST:PORT` as its first line, then serves until killed;
//! - a refused pattern (empty, or registered twice) prints
//!   `muxecho: http: ...` (Go's panic text) on stderr and exits with 2;
//! - `-pattern-header` adds `X-Mux-Pattern: <p>` to every answer, `p` being
//!   what `ServeMux::handler` returns (Go: `mux.Handler(r)`).
//!
//! Try it: start it in one terminal, and poke it from a second one (lines
//! starting with `$` are what you type; `...` in what you see stands for
//! what varies or is left out):
//!
//! <!-- check: start muxecho port=8020 -->
//! ```console
//! $ cargo run -p demos --bin muxecho -- -pattern-header -addr 127.0.0.1:8020 / /tree/ example.com/
//! ...
//! listening on 127.0.0.1:8020
//! ```
//!
//! <!-- check -->
//! ```console
//! $ curl -i http://127.0.0.1:8020/tree
//! HTTP/1.1 301 Moved Permanently
//! X-Mux-Pattern: /tree/
//! Location: /tree/
//! ...
//! $ curl -i --path-as-is http://127.0.0.1:8020/a/../tree/x
//! HTTP/1.1 301 Moved Permanently
//! ...
//! Location: /tree/x
//! ...
//! $ curl http://127.0.0.1:8020/tree/x
//! pattern=/tree/
//! $ curl -H 'Host: example.com:9000' http://127.0.0.1:8020/x
//! pattern=example.com/
//! $ cargo run -p demos --bin muxecho -- -addr 127.0.0.1:0 /a /a; echo $?
//! ...
//! muxecho: http: multiple registrations for /a
//! ...2
//! ```
//!
//! The whole corpus recorded from Go runs with
//! `cargo test -p demos --test mux_conformance` (notes/mux.md).

use http::header::HeaderValue;
use mux::ServeMux;
use server::{handler_fn, BoxFuture, Config, Handler, Request, ResponseWriter, Server};
use std::io::Write;
use std::process::exit;
use std::sync::Arc;

/// The command line, read as Go's `flag` package reads it: flags (one or
/// two dashes, `-name value` or `-name=value`) until the first other
/// argument or `--`; everything after is a pattern.
struct Args {
    addr: String,
    pattern_header: bool,
    patterns: Vec<String>,
}

fn parse_args() -> Args {
    let usage = || -> ! {
        eprintln!("usage: muxecho [-pattern-header] -addr HOST:PORT PATTERN...");
        exit(2)
    };
    let mut args = Args {
        addr: "127.0.0.1:0".to_owned(),
        pattern_header: false,
        patterns: Vec::new(),
    };
    let mut rest = std::env::args().skip(1);
    while let Some(arg) = rest.next() {
        if arg == "--" {
            break;
        }
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            args.patterns.push(arg);
            break;
        };
        if flag.is_empty() {
            // A lone "-" is an argument, as in Go.
            args.patterns.push(arg);
            break;
        }
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        match name {
            "addr" => args.addr = value.or_else(|| rest.next()).unwrap_or_else(|| usage()),
            "pattern-header" => args.pattern_header = value.is_none_or(|v| v == "true" || v == "1"),
            _ => usage(),
        }
    }
    args.patterns.extend(rest);
    args
}

/// Adds `X-Mux-Pattern` to every answer of the mux, except for a `*`
/// target, which the mux refuses before choosing a handler. The route is
/// chosen once and then served, as the mux's own `serve_http` does.
struct PatternHeader(Arc<ServeMux>);

impl Handler for PatternHeader {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        if r.target == "*" {
            return self.0.serve_http(w, r);
        }
        let (route, pattern) = self.0.handler(r);
        if let Ok(value) = HeaderValue::from_bytes(pattern.as_bytes()) {
            w.header().insert("x-mux-pattern", value);
        }
        route.serve(w, r)
    }
}

fn main() {
    let args = parse_args();
    let mut mux = ServeMux::new();
    for pattern in &args.patterns {
        let body = format!("pattern={pattern}\n");
        let echo = handler_fn(move |w, _r| {
            let body = body.clone();
            Box::pin(async move {
                let _ = w.write(body.as_bytes()).await;
            })
        });
        if let Err(e) = mux.handle(pattern, echo) {
            eprintln!("muxecho: {e}");
            exit(2);
        }
    }
    let mux = Arc::new(mux);
    let handler: Arc<dyn Handler> = if args.pattern_header {
        Arc::new(PatternHeader(mux))
    } else {
        mux
    };

    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("muxecho: {e}");
            exit(1);
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&args.addr).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("muxecho: listen {}: {e}", args.addr);
                exit(1);
            }
        };
        let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        println!("listening on {local}");
        let _ = std::io::stdout().flush();
        let config = Config {
            addr: args.addr.clone(),
            ..Config::default()
        };
        if let Err(e) = Server::from_arc(config, handler).serve(listener).await {
            eprintln!("muxecho: {e}");
            exit(1);
        }
    });
}
