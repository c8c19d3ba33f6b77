//! # muxecho: which pattern did the ServeMux choose?
//!
//! Registers every PATTERN on one [`mux::ServeMux`], each with a handler
//! answering `pattern=<PATTERN>` and a newline, and serves it. It is the
//! Rust side of the ServeMux conformance test: it keeps the contract of the
//! Go 1.19 server whose answers are recorded in
//! `demos/testdata/mux/corpus.json`, so that corpus runs against it.
//!
//! ```text
//! muxecho [-pattern-header] -addr 127.0.0.1:0 PATTERN...
//! muxecho -patterns -addr 127.0.0.1:0 PATTERN...
//! ```
//!
//! With `-patterns` the mux is the modern [`mux::PatternServeMux`] (Go
//! 1.22+, as Go 1.27 behaves), with the contract of
//! the Go 1.27 server whose answers are in `demos/testdata/mux22/`: after `pattern=<PATTERN>`, one
//! line `NAME=<value>` per wildcard, in pattern order.
//!
//! - prints `listening on HOST:PORT` as its first line, then serves until killed;
//! - a refused pattern (empty, or registered twice) prints
//!   `muxecho: http: ...` (Go's panic text) on stderr and exits with 2;
//! - `-pattern-header` adds `X-Mux-Pattern: <p>` to every answer, `p` being
//!   what `ServeMux::handler` returns (Go: `mux.Handler(r)`);
//! - it serves with the course's safe timeouts (a request head within 5 s,
//!   a kept-alive connection idle at most 120 s), changed or turned off (0)
//!   with the same flags as `hello`, in milliseconds:
//!   `-read-header-timeout-ms`, `-idle-timeout-ms`, `-read-timeout-ms`,
//!   `-write-timeout-ms`;
//! - `-help` prints this text; a flag it does not take is refused (exit 2).
//!
//! Try it: it holds its terminal (Ctrl+C stops it); the rest goes in a
//! second one. Lines starting with `$` are what you type; `...` in what you
//! see stands for what varies or is left out. Port 8220 is one no chapter
//! uses:
//!
//! <!-- check: start muxecho port=8220 -->
//! ```console
//! $ cargo run -p demos --bin muxecho -- -pattern-header -addr 127.0.0.1:8220 / /tree/ example.com/
//! ...
//! listening on 127.0.0.1:8220
//! ```
//!
//! A path missing its slash is redirected to the subtree (Go:
//! `redirectToPathSlash`), a path with `..` to its clean form (`cleanPath`),
//! and a host pattern wins over the others for its host, whatever the port:
//!
//! <!-- check -->
//! ```console
//! $ curl -i http://127.0.0.1:8220/tree
//! HTTP/1.1 301 Moved Permanently
//! X-Mux-Pattern: /tree/
//! Location: /tree/
//! ...
//! $ curl -i --path-as-is http://127.0.0.1:8220/a/../tree/x
//! HTTP/1.1 301 Moved Permanently
//! X-Mux-Pattern: /tree/
//! Location: /tree/x
//! ...
//! $ curl http://127.0.0.1:8220/tree/x
//! pattern=/tree/
//! $ curl -H 'Host: example.com:9000' http://127.0.0.1:8220/x
//! pattern=example.com/
//! ```
//!
//! A pattern registered twice is refused before anything listens:
//!
//! <!-- check -->
//! ```console
//! $ cargo run -p demos --bin muxecho -- -addr 127.0.0.1:0 /a /a; echo "exit $?"
//! ...
//! muxecho: http: multiple registrations for /a
//! exit 2
//! ```
//!
//! The whole corpus recorded from Go runs case by case with
//! `cargo test -p demos --test mux_conformance` (notes/mux.md shows it).

use demos::cli::{self, Flags, Long, Timeouts, Value};
use http::header::HeaderValue;
use mux::{Pattern, PatternServeMux, ServeMux};
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
    timeouts: Timeouts,
    /// Serve the modern pattern mux instead of the classic one.
    modern: bool,
    patterns: Vec<String>,
}

fn parse_args(flags: &mut Flags) -> Result<Args, cli::Error> {
    let mut args = Args {
        addr: "127.0.0.1:0".to_owned(),
        pattern_header: false,
        timeouts: Timeouts::SAFE,
        modern: false,
        patterns: Vec::new(),
    };
    while let Some(arg) = flags.next()? {
        match arg {
            Long("addr") => args.addr = flags.value()?,
            Long("pattern-header") => args.pattern_header = flags.switch()?,
            Long("patterns") => args.modern = flags.switch()?,
            Long(name) if Timeouts::FLAGS.contains(&name) => args.timeouts.read(flags)?,
            Long(name) => return Err(cli::unknown(name)),
            Value(pattern) => {
                args.patterns.push(pattern.to_string_lossy().into_owned());
                break;
            }
            other => return Err(other.unexpected().into()),
        }
    }
    args.patterns.extend(flags.rest());
    Ok(args)
}

/// The flags that are followed by a value (Go knows them by their type).
const VALUE_FLAGS: [&str; 5] = [
    "addr",
    Timeouts::FLAGS[0],
    Timeouts::FLAGS[1],
    Timeouts::FLAGS[2],
    Timeouts::FLAGS[3],
];

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

/// The modern mux, each pattern answered with its name and its wildcards'
/// values (raw bytes, as Go's `PathValue` gives them).
fn pattern_mux(patterns: &[String]) -> PatternServeMux {
    let mut mux = PatternServeMux::new();
    for pattern in patterns {
        let names: Vec<String> = Pattern::parse(pattern)
            .map(|p| p.wildcard_names().map(str::to_owned).collect())
            .unwrap_or_default();
        let pattern_line = format!("pattern={pattern}\n");
        let echo = handler_fn(move |w, r| {
            let mut body = pattern_line.clone().into_bytes();
            for (i, name) in names.iter().enumerate() {
                // Go's handler panics here when the match left a wildcard
                // without a value (an empty CONNECT path segment, see
                // mux's tree.rs), and the server closes the connection.
                let Some(value) = r.path_value_bytes(name) else {
                    panic!("runtime error: index out of range [{i}]: no value for {{{name}}}");
                };
                body.extend_from_slice(format!("{name}=").as_bytes());
                body.extend_from_slice(value);
                body.push(b'\n');
            }
            Box::pin(async move {
                let _ = w.write(&body).await;
            })
        });
        if let Err(e) = mux.handle(pattern, echo) {
            eprintln!("muxecho: {e}");
            exit(2);
        }
    }
    mux
}

fn main() {
    let args = cli::parse_or_exit_with(
        "muxecho",
        include_str!("muxecho.rs"),
        Flags::go_style(std::env::args().skip(1), &VALUE_FLAGS),
        parse_args,
    );
    if args.modern {
        serve(&args.addr, args.timeouts, Arc::new(pattern_mux(&args.patterns)));
    }
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
    serve(&args.addr, args.timeouts, handler);
}

/// Listens on `addr`, says where, and serves until killed.
fn serve(addr: &str, timeouts: Timeouts, handler: Arc<dyn Handler>) -> ! {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("muxecho: {e}");
            exit(1);
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("muxecho: listen {addr}: {e}");
                exit(1);
            }
        };
        let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        println!("listening on {local}");
        let _ = std::io::stdout().flush();
        let config = timeouts.apply(Config {
            addr: addr.to_owned(),
            ..Config::default()
        });
        if let Err(e) = Server::from_arc(config, handler).serve(listener).await {
            eprintln!("muxecho: {e}");
            exit(1);
        }
    });
    exit(0)
}
