//! # patterns: a small REST service on Go's modern mux
//!
//! Items kept in memory, created, read, listed and deleted; a few files
//! served under `/files/{path...}`; a home page at exactly `/`. Every route
//! is one pattern of [`mux::PatternServeMux`], the Rust twin of Go 1.22+'s
//! `http.ServeMux` (notes/mux-patterns.md explains them):
//!
//! ```text
//! GET /{$}                 the home page, and only "/"
//! GET /items               the list
//! POST /items              create one from the request body
//! GET /items/{id}          read one (GET also answers HEAD)
//! DELETE /items/{id}       delete one
//! GET /files/{path...}     a file; the value is the rest of the path
//! ```
//!
//! Flags: `--addr HOST:PORT` (default `127.0.0.1:8030`; port 0 picks a
//! free one, logged at start), `--for-secs N` (the server stops by itself
//! after N seconds, default 600, or on Ctrl+C or SIGTERM), `--conflict`
//! (also register a pattern that conflicts with two of the table's, to see
//! the refusal).
//!
//! It runs with the timeouts a well-configured Go server sets: a request
//! head must arrive within 5 s of the connection (or of the previous
//! request), and a kept-alive connection may wait 120 s for its next
//! request. The same flags as `hello` change them, in milliseconds, 0 for
//! off: `--read-header-timeout-ms` (default 5000), `--idle-timeout-ms`
//! (120000), `--read-timeout-ms` and `--write-timeout-ms` (off).
//! `patterns --help` prints this text; a flag it does not take is refused
//! (exit 2).
//!
//! Try it. The server holds its terminal; the rest goes in a second one.
//! Lines starting with `$` are what you type; `...` in what you see stands
//! for what varies, such as dates. Port 8260 is one no chapter uses:
//!
//! <!-- check: start patterns port=8260 -->
//! ```console
//! $ cargo run -p demos --bin patterns -- --addr 127.0.0.1:8260
//! ... patterns: listening on http://127.0.0.1:8260 for 600 s
//! ```
//!
//! Create an item, read it back through `{id}`, and a file through
//! `{path...}`, which takes the rest of the path, slashes and all:
//!
//! <!-- check -->
//! ```console
//! $ curl -i -d apple http://127.0.0.1:8260/items
//! HTTP/1.1 201 Created
//! Location: /items/1
//! ...
//! created item 1
//! $ curl http://127.0.0.1:8260/items/1
//! apple
//! $ curl http://127.0.0.1:8260/files/docs/guide.txt
//! The rest of the path, slashes and all, is one value.
//! ```
//!
//! What the mux answers by itself: 405 with `Allow` for a method no pattern
//! of the path takes, 307 redirects to add a slash or clean the path, HEAD
//! served by the `GET` pattern, and 404 where nothing matches (`/{$}`
//! matches `/` and nothing below it):
//!
//! <!-- check -->
//! ```console
//! $ curl -i -X PUT http://127.0.0.1:8260/items/1
//! HTTP/1.1 405 Method Not Allowed
//! Allow: DELETE, GET, HEAD
//! ...
//! Method Not Allowed
//! $ curl -i http://127.0.0.1:8260/files
//! HTTP/1.1 307 Temporary Redirect
//! Location: /files/
//! ...
//! $ curl -i --path-as-is http://127.0.0.1:8260/items/../items/1
//! HTTP/1.1 307 Temporary Redirect
//! Location: /items/1
//! ...
//! $ curl -I http://127.0.0.1:8260/items/1
//! HTTP/1.1 200 OK
//! Content-Type: text/plain; charset=utf-8
//! Date: ...
//! Content-Length: 6
//! $ curl -i http://127.0.0.1:8260/nothing
//! HTTP/1.1 404 Not Found
//! ...
//! 404 page not found
//! ```
//!
//! Stop it with Ctrl+C in its terminal (requests in flight finish first):
//!
//! <!-- check: signal patterns INT -->
//! ```console
//! ... patterns: signalled
//! ... patterns: shut down
//! ```
//!
//! A conflicting registration is refused at start-up, with Go's
//! explanation, before anything listens (exit status 2):
//!
//! <!-- check: status=2 -->
//! ```console
//! $ cargo run -p demos --bin patterns -- --conflict
//! ...
//! patterns: pattern "GET /{kind}/latest" (registered at demos/src/bin/patterns.rs:254) conflicts with pattern "GET /files/{path...}" (registered at demos/src/bin/patterns.rs:247):
//! GET /{kind}/latest and GET /files/{path...} both match some paths, like "/files/latest".
//! But neither is more specific than the other.
//! GET /{kind}/latest matches "/kind/latest", but GET /files/{path...} doesn't.
//! GET /files/{path...} matches "/files/", but GET /{kind}/latest doesn't.
//! ```
//!
//! (The multi-wildcard patterns are checked first, so the conflict with
//! `GET /files/{path...}` is the one reported; `GET /items/{id}` conflicts
//! too, at `/items/latest`.)

use bytes::Bytes;
use demos::cli::{self, Flags, Long, Timeouts};
use http::header::{HeaderValue, CONTENT_TYPE, LOCATION};
use http::StatusCode;
use mux::PatternServeMux;
use server::{handler_fn, Config, Handler, Request, ResponseWriter, Server};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The service's state: items by id, and the next id to give.
#[derive(Default)]
struct Items {
    by_id: BTreeMap<u64, String>,
    next_id: u64,
}

type Store = Arc<Mutex<Items>>;

/// The files under `/files/`, kept in the binary.
const FILES: &[(&str, &str)] = &[
    ("readme.txt", "Files are served by GET /files/{path...}.\n"),
    (
        "docs/guide.txt",
        "The rest of the path, slashes and all, is one value.\n",
    ),
];

/// The largest item a POST may create.
const MAX_ITEM_BYTES: usize = 1024;

async fn text(w: &mut ResponseWriter, status: StatusCode, body: &str) {
    w.header().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    w.write_header(status);
    let _ = w.write(body.as_bytes()).await;
}

/// `{id}` as a number, or a 400 already written.
async fn item_id(w: &mut ResponseWriter, r: &Request) -> Option<u64> {
    let id = r.path_value("id").unwrap_or_default();
    match id.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            text(w, StatusCode::BAD_REQUEST, &format!("not an item id: {id:?}\n")).await;
            None
        }
    }
}

fn lock(store: &Store) -> std::sync::MutexGuard<'_, Items> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Builds the mux. With `conflict`, also registers a pattern that
/// conflicts with `GET /items/{id}`, to show the refusal.
fn routes(store: &Store, conflict: bool) -> Result<PatternServeMux, mux::Error> {
    let mut mux = PatternServeMux::new();
    mux.handle(
        "GET /{$}",
        handler_fn(|w, _r| Box::pin(text(w, StatusCode::OK, "items service: try GET /items\n"))),
    )?;
    let s = store.clone();
    mux.handle(
        "GET /items",
        handler_fn(move |w, _r| {
            let list: String = lock(&s)
                .by_id
                .iter()
                .map(|(id, v)| format!("{id}: {v}\n"))
                .collect();
            Box::pin(async move { text(w, StatusCode::OK, &list).await })
        }),
    )?;
    let s = store.clone();
    mux.handle(
        "POST /items",
        handler_fn(move |w, r| {
            let s = s.clone();
            Box::pin(async move {
                let body: Bytes = match r.body.read_all(MAX_ITEM_BYTES).await {
                    Ok(body) => body,
                    Err(e) => return text(w, StatusCode::BAD_REQUEST, &format!("{e}\n")).await,
                };
                let value = String::from_utf8_lossy(&body).trim().to_owned();
                let id = {
                    let mut items = lock(&s);
                    items.next_id += 1;
                    let id = items.next_id;
                    items.by_id.insert(id, value);
                    id
                };
                if let Ok(location) = HeaderValue::from_str(&format!("/items/{id}")) {
                    w.header().insert(LOCATION, location);
                }
                text(w, StatusCode::CREATED, &format!("created item {id}\n")).await;
            })
        }),
    )?;
    let s = store.clone();
    mux.handle(
        "GET /items/{id}",
        handler_fn(move |w, r| {
            let s = s.clone();
            Box::pin(async move {
                let Some(id) = item_id(w, r).await else { return };
                let found = lock(&s).by_id.get(&id).cloned();
                match found {
                    Some(value) => text(w, StatusCode::OK, &format!("{value}\n")).await,
                    None => text(w, StatusCode::NOT_FOUND, &format!("no item {id}\n")).await,
                }
            })
        }),
    )?;
    let s = store.clone();
    mux.handle(
        "DELETE /items/{id}",
        handler_fn(move |w, r| {
            let s = s.clone();
            Box::pin(async move {
                let Some(id) = item_id(w, r).await else { return };
                let removed = lock(&s).by_id.remove(&id).is_some();
                if removed {
                    w.write_header(StatusCode::NO_CONTENT);
                } else {
                    text(w, StatusCode::NOT_FOUND, &format!("no item {id}\n")).await;
                }
            })
        }),
    )?;
    mux.handle(
        "GET /files/{path...}",
        handler_fn(|w, r| Box::pin(serve_file(w, r))),
    )?;
    if conflict {
        // Neither this nor `GET /items/{id}` is more specific: both match
        // /items/latest. Go panics here; we get the same words as an Err.
        mux.handle(
            "GET /{kind}/latest",
            handler_fn(|w, _r| Box::pin(server::not_found(w))),
        )?;
    }
    Ok(mux)
}

/// `GET /files/{path...}`: the value is unescaped whole, so `%2F` is a
/// slash in it, and it is not cleaned (`a%2F..%2Fb` gives `a/../b`): look it
/// up, never join it to a directory unchecked.
async fn serve_file(w: &mut ResponseWriter, r: &mut Request) {
    let path = r.path_value("path").unwrap_or_default();
    if path.is_empty() {
        let names: String = FILES.iter().map(|(name, _)| format!("{name}\n")).collect();
        return text(w, StatusCode::OK, &names).await;
    }
    match FILES.iter().find(|(name, _)| *name == path) {
        Some((_, content)) => text(w, StatusCode::OK, content).await,
        None => text(w, StatusCode::NOT_FOUND, &format!("no file {path:?}\n")).await,
    }
}

/// Binds `addr` with the server's socket options (Go: `net.Listen`).
fn bind(addr: &str, config: &Config) -> std::io::Result<tokio::net::TcpListener> {
    let addr = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    tokio::net::TcpListener::from_std(server::bind_listener(addr, config)?)
}

/// What the command line asks for.
struct Args {
    addr: String,
    for_secs: u64,
    conflict: bool,
    timeouts: Timeouts,
}

fn parse(flags: &mut Flags) -> Result<Args, cli::Error> {
    let mut args = Args {
        addr: "127.0.0.1:8030".to_owned(),
        for_secs: 600,
        conflict: false,
        timeouts: Timeouts::SAFE,
    };
    while let Some(arg) = flags.next()? {
        match arg {
            Long("addr") => args.addr = flags.value()?,
            Long("for-secs") => args.for_secs = flags.value()?,
            Long("conflict") => args.conflict = true,
            Long(name) if Timeouts::FLAGS.contains(&name) => args.timeouts.read(flags)?,
            Long(name) => return Err(cli::unknown(name)),
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(args)
}

fn main() {
    let Args {
        addr,
        for_secs,
        conflict,
        timeouts,
    } = cli::parse_or_exit("patterns", include_str!("patterns.rs"), parse);
    demos::logging::init();
    let store = Store::default();
    let mux = match routes(&store, conflict) {
        Ok(mux) => mux,
        Err(e) => {
            eprintln!("patterns: {e}");
            std::process::exit(2);
        }
    };
    let server = Server::from_arc(
        timeouts.apply(Config {
            addr: addr.clone(),
            ..Config::default()
        }),
        Arc::new(mux) as Arc<dyn Handler>,
    );
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("patterns: cannot start the runtime: {e}");
            std::process::exit(1)
        }
    };
    runtime.block_on(async {
        // Bound here rather than in `listen_and_serve`, so that the log
        // names the real port when `--addr` asks for port 0 (the demo's
        // test does).
        let listener = match bind(&addr, server.config()) {
            Ok(listener) => listener,
            Err(e) => {
                tracing::error!("patterns: listen {addr}: {e}");
                std::process::exit(1);
            }
        };
        let bound = listener.local_addr().map_or(addr, |a| a.to_string());
        tracing::info!("patterns: listening on http://{bound} for {for_secs} s");
        let serving = {
            let server = server.clone();
            async move { server.serve(listener).await }
        };
        tokio::select! {
            result = serving => {
                if let Err(e) = result {
                    tracing::error!("patterns: {e}");
                    std::process::exit(1);
                }
            }
            _ = demos::shutdown_signal() => tracing::info!("patterns: signalled"),
            _ = tokio::time::sleep(Duration::from_secs(for_secs)) => tracing::info!("patterns: {for_secs} s are up"),
        }
        if server.shutdown(Duration::from_secs(5)).await.is_err() {
            server.close();
        }
        tracing::info!("patterns: shut down");
    });
}
