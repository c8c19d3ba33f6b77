//! The modern mux ([`PatternServeMux`]) called directly, one rule per test,
//! as Go's own unit tests call `mux.Handler(r)` and `mux.ServeHTTP`: what
//! the wire-level corpus (demos/tests/mux22_conformance.rs) cannot show
//! on its own: the pattern a decision reports, path values set by hand,
//! conflict messages with their `registered at` locations, and the promise
//! that routing a request allocates nothing. The last test runs the mux
//! behind the real server on 127.0.0.1, two requests on one connection.

mod counting_alloc;

use counting_alloc::allocations_during;
use http::header::HOST;
use http::StatusCode;
use mux::{Error, PatternRoute, PatternServeMux};
use server::{handler_fn, Config, Handler, Request, ResponseWriter, Server};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn ok() -> impl Handler {
    handler_fn(|w, _r| {
        Box::pin(async move {
            let _ = w.write(b"ok").await;
        })
    })
}

fn mux_with(patterns: &[&str]) -> PatternServeMux {
    let mut mux = PatternServeMux::new();
    for p in patterns {
        mux.handle(p, ok()).unwrap();
    }
    mux
}

fn request(method: &str, target: &str, host: &str) -> Request {
    Request::new(method.parse().unwrap(), target)
        .unwrap()
        .with_header(HOST, host)
}

/// What `mux.Handler(r)` gives in Go: a short name of the decision and
/// the pattern string.
fn decide(mux: &PatternServeMux, method: &str, target: &str) -> (String, String) {
    let r = request(method, target, "example.com");
    let (route, pattern) = mux.handler(&r);
    let decision = match route {
        PatternRoute::Handler(_) => "handler".to_owned(),
        PatternRoute::Redirect(to) => format!("307 {to}"),
        PatternRoute::MethodNotAllowed(allow) => format!("405 {allow}"),
        PatternRoute::NotFound => "404".to_owned(),
    };
    (decision, pattern.into_owned())
}

/// Go: `TestServeMuxHandler` / `findHandler`: the pattern reported with
/// each kind of decision.
#[test]
fn handler_reports_the_pattern_behind_each_decision() {
    let mux = mux_with(&["/", "/dir/", "GET /items/{id}", "POST /items/", "/static/{p...}"]);
    let d = |m, t| decide(&mux, m, t);
    assert_eq!(d("GET", "/items/3"), ("handler".into(), "GET /items/{id}".into()));
    // matchOrRedirect: the slash redirect names the pattern that will match.
    assert_eq!(d("GET", "/dir"), ("307 /dir/".into(), "/dir/".into()));
    // A clean-path redirect names what the clean path matches.
    assert_eq!(
        d("GET", "/dir/../items/3"),
        ("307 /items/3".into(), "GET /items/{id}".into())
    );
    // "/" takes DELETE /items/3: no 405 while any pattern matches.
    assert_eq!(d("DELETE", "/items/3"), ("handler".into(), "/".into()));
    let mux = mux_with(&["GET /items/{id}", "POST /items/"]);
    // matchingMethods: GET brings HEAD, POST comes by way of `/items/3/`.
    assert_eq!(
        decide(&mux, "DELETE", "/items/3"),
        ("405 GET, HEAD, POST".into(), "".into())
    );
    assert_eq!(decide(&mux, "GET", "/nothing"), ("404".into(), "".into()));
}

/// Go: `TestServeWithSlashRedirectKeepsQueryString`, and 1.27's
/// `urlFromEscaped`: the Location is the escaped path, not escaped again.
#[test]
fn redirects_keep_the_query_and_the_escapes() {
    let mux = mux_with(&["/tree/", "/a%2Fb/"]);
    assert_eq!(decide(&mux, "POST", "/tree?x=1&y").0, "307 /tree/?x=1&y");
    assert_eq!(decide(&mux, "GET", "/a%2Fb").0, "307 /a%2Fb/");
    assert_eq!(decide(&mux, "GET", "/a%20b/./c").0, "307 /a%20b/c");
    // Go 1.23: no slash redirect for a path that already ends in '/'.
    let mux = mux_with(&["GET /{x}/"]);
    assert_eq!(decide(&mux, "GET", "/").0, "404");
    assert_eq!(decide(&mux, "GET", "/a").0, "307 /a/");
}

/// Go: `TestPathValue`: values unescaped per segment, the rest whole.
#[test]
fn path_values_are_unescaped_and_set_on_the_request() {
    let mux = mux_with(&["/b/{bucket}/o/{obj...}", "/u/{name}"]);
    let mut r = request("GET", "/b/a%2Fb/o/x/y%20z", "h");
    let (route, _) = mux.route(&mut r);
    assert!(matches!(route, PatternRoute::Handler(_)));
    assert_eq!(r.path_value("bucket"), Some("a/b"));
    assert_eq!(r.path_value("obj"), Some("x/y z"));
    assert_eq!(r.path_value("nope"), None);
    // In an escaped path, a value without a `%` is kept as it lies, the
    // other one unescaped.
    let mut r = request("GET", "/b/plain/o/x%20y", "h");
    mux.route(&mut r);
    assert_eq!(
        (r.path_value("bucket"), r.path_value("obj")),
        (Some("plain"), Some("x y"))
    );
    // A value that is not UTF-8 is still there, as bytes.
    let mut r = request("GET", "/u/%FF", "h");
    mux.route(&mut r);
    assert_eq!(
        (r.path_value("name"), r.path_value_bytes("name")),
        (None, Some(&b"\xff"[..]))
    );
}

/// Go: `TestSetPathValue`: a set value replaces the matched one; a name
/// the pattern does not have is kept beside the matches, and survives the
/// next match (Go's `otherValues`).
#[test]
fn set_path_value_overrides_and_adds() {
    let mux = mux_with(&["/u/{name}"]);
    let mut r = request("GET", "/u/ann", "h");
    r.set_path_value("extra", "kept");
    mux.route(&mut r);
    r.set_path_value("name", "bob");
    assert_eq!(
        (r.path_value("name"), r.path_value("extra")),
        (Some("bob"), Some("kept"))
    );
}

/// Go: `registerErr`: refusals carry Go's words; a conflict names both
/// patterns with the `file:line` of the calls that registered them.
#[test]
fn refusals_read_as_go_s_panics() {
    let mut mux = PatternServeMux::new();
    assert_eq!(mux.handle("", ok()), Err(Error::EmptyPattern));
    assert_eq!(
        mux.handle("", ok()).unwrap_err().to_string(),
        "http: invalid pattern"
    );
    let line = line!() + 1;
    mux.handle("/b/{x}", ok()).unwrap();
    let err = mux.handle("/{x}/c", ok()).unwrap_err();
    let here = format!("{}:{line}", file!());
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "pattern \"/{{x}}/c\" (registered at {}:{}) conflicts with pattern \"/b/{{x}}\" (registered at {here}):\n",
            file!(),
            line + 1
        )),
        "{text}"
    );
    assert!(
        text.ends_with("/b/{x} matches \"/b/x\", but /{x}/c doesn't."),
        "{text}"
    );
    // The refused pattern is not registered: the mux still routes as before.
    assert_eq!(mux.patterns().count(), 1);
    // Different hosts never conflict; a method makes a pattern more
    // specific than the same path without one.
    mux.handle("example.com/{x}/c", ok()).unwrap();
    mux.handle("POST /b/{x}", ok()).unwrap();
}

/// Go's quirk kept: `//x` and `/{y}/x` share a leaf of the tree, which Go
/// finds only when it sets the leaf ("non-nil leaf fields").
#[test]
fn an_empty_literal_segment_lands_on_the_wildcard_leaf() {
    let mut mux = mux_with(&["//x"]);
    let err = mux.handle("/{y}/x", ok()).unwrap_err();
    assert_eq!(err.to_string(), "non-nil leaf fields");
}

/// Registration stays fast with many patterns: the index keeps the number
/// of full comparisons small (and 1 000 literal routes all go in).
#[test]
fn a_thousand_patterns_register() {
    let mut mux = PatternServeMux::new();
    for i in 0..1000 {
        mux.handle(&format!("GET /api/r{i}/{{id}}/items/{{item}}"), ok())
            .unwrap();
    }
    assert_eq!(
        decide(&mux, "GET", "/api/r999/7/items/8").1,
        "GET /api/r999/{id}/items/{item}"
    );
}

/// `route` on the connection's reused request allocates nothing once the
/// value buffer has grown: literal, wildcard, escaped and rest matches,
/// and a host pattern.
#[test]
fn routing_a_reused_request_allocates_nothing() {
    let mux = mux_with(&[
        "GET /repos/{owner}/{repo}/issues/{number}",
        "GET /repos/{owner}/{repo}/issues",
        "/static/{path...}",
        "api.example.com/v1/{x}",
        "GET /{$}",
    ]);
    for (target, host, value) in [
        ("/repos/rust-lang/rust/issues/42", "example.com", ("number", "42")),
        ("/repos/a%2Fb/c/issues", "example.com", ("owner", "a/b")),
        ("/static/css/site.css", "example.com", ("path", "css/site.css")),
        ("/v1/users", "api.example.com:8080", ("x", "users")),
        ("/", "example.com", ("none", "")),
    ] {
        let mut r = request("GET", target, host);
        mux.route(&mut r);
        let n = allocations_during(|| {
            let (route, _) = mux.route(&mut r);
            assert!(matches!(route, PatternRoute::Handler(_)), "{target}");
        });
        assert_eq!(n, 0, "{target} allocated {n} times");
        if value.0 != "none" {
            assert_eq!(r.path_value(value.0), Some(value.1), "{target}");
        }
    }
    // The counter works: a 405 builds its Allow value.
    let mut r = request("POST", "/repos/a/b/issues", "example.com");
    assert!(allocations_during(|| drop(mux.route(&mut r))) > 0);
}

/// `*` is not a path: 400 and Connection: close, as Go's `ServeHTTP`.
#[tokio::test]
async fn star_target_is_a_bad_request() {
    let mux = mux_with(&["/"]);
    let mut r = request("GET", "*", "h");
    let mut w = ResponseWriter::recorder();
    mux.serve_http(&mut w, &mut r).await;
    assert_eq!(w.status(), StatusCode::BAD_REQUEST);
    assert_eq!(w.headers()["connection"], "close");
}

/// Reads one response with a Content-Length body from `conn`.
async fn read_response(conn: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> String {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
                buf.drain(..end + 4 + len);
                return body;
            }
        }
        let mut chunk = [0; 4096];
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Over a real socket: the values reach the handler, and nothing of one
/// request's values shows in the next on the same kept-alive connection,
/// not even a value set by hand in front of the mux (the connection
/// empties them between requests).
#[tokio::test]
async fn values_do_not_leak_between_requests_on_one_connection() {
    let mut mux = PatternServeMux::new();
    let report = handler_fn(|w, r| {
        Box::pin(async move {
            let seen = format!(
                "id={:?} planted={:?}",
                r.path_value("id"),
                r.path_value("planted")
            );
            let _ = w.write(seen.as_bytes()).await;
        })
    });
    mux.handle("GET /items/{id}", report).unwrap();
    let mux = Arc::new(mux);
    // In front of the mux: `/plant` sets a value by hand and answers itself.
    let front = handler_fn(move |w, r| {
        let mux = mux.clone();
        Box::pin(async move {
            if r.url.path == "/plant" {
                r.set_path_value("planted", "yes");
                let _ = w.write(b"planted").await;
            } else {
                mux.serve_http(w, r).await;
            }
        })
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(Config::default(), front);
    let serving = tokio::spawn(async move { server.serve(listener).await });
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = Vec::new();
    for (target, want) in [
        ("/items/a%20b", "id=Some(\"a b\") planted=None"),
        ("/plant", "planted"),
        ("/items/7", "id=Some(\"7\") planted=None"),
    ] {
        let req = format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n");
        conn.write_all(req.as_bytes()).await.unwrap();
        assert_eq!(read_response(&mut conn, &mut buf).await, want, "{target}");
    }
    serving.abort();
}
