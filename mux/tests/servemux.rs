//! The ServeMux called directly, as Go's own unit tests call it
//! (`mux.Handler(r)` on a hand-built request): the decisions that the
//! wire-level conformance test cannot reach (hosts our server refuses
//! before the mux, hosts holding a `/`), the registration errors, the `*`
//! answer, and the promise that a lookup allocates nothing.

mod counting_alloc;

use counting_alloc::allocations_during;
use http::header::HOST;
use http::{Method, StatusCode};
use mux::{Error, Route, ServeMux};
use server::{handler_fn, Handler, Request, ResponseWriter};

fn echo() -> impl Handler {
    handler_fn(|w, _r| {
        Box::pin(async move {
            let _ = w.write(b"ok").await;
        })
    })
}

fn mux_with(patterns: &[&str]) -> ServeMux {
    let mut mux = ServeMux::new();
    for p in patterns {
        mux.handle(p, echo()).unwrap();
    }
    mux
}

fn request(method: Method, target: &str, host: &str) -> Request {
    Request::new(method, target).unwrap().with_header(HOST, host)
}

/// (pattern, redirect location) for a request, as Go's `mux.Handler` gives them.
fn decide(mux: &ServeMux, r: &Request) -> (String, Option<String>) {
    let (route, pattern) = mux.handler(r);
    let location = match route {
        Route::Redirect(to) => Some(to),
        Route::Handler(_) | Route::NotFound => None,
    };
    (pattern.to_owned(), location)
}

#[test]
fn go_serve_mux_tests() {
    // Go 1.19 serve_test.go: serveMuxRegister and serveMuxTests.
    let mux = mux_with(&[
        "/dir/",
        "/search",
        "codesearch.google.com/search",
        "codesearch.google.com/",
        "example.com/",
    ]);
    let cases: &[(&str, &str, &str, &str, Option<&str>)] = &[
        ("GET", "google.com", "/", "", None),
        ("GET", "google.com", "/dir", "/dir/", Some("/dir/")),
        ("GET", "google.com", "/dir/", "/dir/", None),
        ("GET", "google.com", "/dir/file", "/dir/", None),
        ("GET", "google.com", "/search", "/search", None),
        ("GET", "google.com", "/search/", "", None),
        ("GET", "google.com", "/search/foo", "", None),
        (
            "GET",
            "codesearch.google.com",
            "/search",
            "codesearch.google.com/search",
            None,
        ),
        (
            "GET",
            "codesearch.google.com",
            "/search/",
            "codesearch.google.com/",
            None,
        ),
        (
            "GET",
            "codesearch.google.com",
            "/search/foo",
            "codesearch.google.com/",
            None,
        ),
        (
            "GET",
            "codesearch.google.com",
            "/",
            "codesearch.google.com/",
            None,
        ),
        (
            "GET",
            "codesearch.google.com:443",
            "/",
            "codesearch.google.com/",
            None,
        ),
        ("GET", "images.google.com", "/search", "/search", None),
        ("GET", "images.google.com", "/search/", "", None),
        ("GET", "images.google.com", "/search/foo", "", None),
        ("GET", "google.com", "/../search", "/search", Some("/search")),
        ("GET", "google.com", "/dir/..", "", Some("/")),
        ("GET", "google.com", "/dir/./file", "/dir/", Some("/dir/file")),
        // The path is not cleaned for CONNECT, but the slash redirect applies.
        ("CONNECT", "google.com", "/dir", "/dir/", Some("/dir/")),
        ("CONNECT", "google.com", "/../search", "", None),
        ("CONNECT", "google.com", "/dir/..", "/dir/", None),
        ("CONNECT", "google.com", "/dir/./file", "/dir/", None),
    ];
    for &(method, host, path, pattern, location) in cases {
        let r = request(method.parse().unwrap(), path, host);
        let got = decide(&mux, &r);
        assert_eq!(
            got,
            (pattern.to_owned(), location.map(str::to_owned)),
            "{method} {host} {path}"
        );
    }
}

#[test]
fn hosts_split_like_go() {
    // Hosts that our server refuses before the mux (its Host grammar is
    // stricter than Go's), decided here as Go 1.19 decides them.
    let mux = mux_with(&["/", "example.com/", "[::1]/", "::1/", "a:b:c/"]);
    let cases = [
        ("example.com:9000:1", "/"),         // too many colons: kept whole, no host match
        ("example.com:abc", "example.com/"), // the port is not checked
        ("a:b:c", "a:b:c/"),                 // kept whole, and matched whole
        ("[::1]", "[::1]/"),                 // no port: brackets stay
        ("[::1]:8080", "::1/"),              // port: brackets go
        ("EXAMPLE.COM", "/"),                // no case folding
        ("example.com.", "/"),               // no trailing-dot folding
    ];
    for (host, want) in cases {
        let r = request(Method::GET, "/x", host);
        assert_eq!(mux.handler(&r).1, want, "host {host}");
    }
}

#[test]
fn hand_made_hosts_and_paths_are_matched_as_one_string() {
    // Go matches the string host + path. A host holding '/' can only come
    // from a hand-built request; it still decides as Go does.
    let mux = mux_with(&["/", "a/b/", "example.com/"]);
    let mut r = request(Method::GET, "/c", "a");
    assert_eq!(mux.handler(&r).1, "/");
    r.host = "a/b".to_owned(); // "a/b" + "/c" = "a/b/c", under "a/b/"
    assert_eq!(mux.handler(&r).1, "a/b/");
}

#[test]
fn registration_refuses_empty_and_duplicate_patterns() {
    let mut mux = ServeMux::new();
    assert_eq!(mux.handle("", echo()), Err(Error::EmptyPattern));
    mux.handle("/a", echo()).unwrap();
    mux.handle("example.com/a", echo()).unwrap();
    mux.handle("example.com:80/a", echo()).unwrap();
    mux.handle("/A", echo()).unwrap();
    let err = mux.handle("/a", echo()).unwrap_err();
    assert_eq!(err.to_string(), "http: multiple registrations for /a");
    let err = mux.handle("example.com/a", echo()).unwrap_err();
    assert_eq!(err, Error::Duplicate("example.com/a".to_owned()));
    assert_eq!(
        mux.patterns().collect::<Vec<_>>(),
        ["/a", "example.com/a", "example.com:80/a", "/A"]
    );
}

#[test]
fn longest_subtree_wins_whatever_the_registration_order() {
    let mut mux = ServeMux::new();
    for p in ["/a/", "/a/b/c/", "/", "/a/b/"] {
        mux.handle(p, echo()).unwrap();
    }
    for (path, want) in [
        ("/a/b/c/d", "/a/b/c/"),
        ("/a/b/x", "/a/b/"),
        ("/a/bc", "/a/"),
        ("/z", "/"),
    ] {
        assert_eq!(mux.handler(&request(Method::GET, path, "h")).1, want, "{path}");
    }
}

#[tokio::test]
async fn star_target_is_a_bad_request_from_the_mux() {
    let mux = mux_with(&["/"]);
    let mut w = ResponseWriter::recorder();
    let mut r = request(Method::GET, "*", "h");
    mux.serve_http(&mut w, &mut r).await;
    assert_eq!(w.status(), StatusCode::BAD_REQUEST);
    assert_eq!(w.headers()["connection"], "close");
    assert!(w.recorded_body().is_empty());
}

#[tokio::test]
async fn redirects_and_not_found_are_written_as_go_writes_them() {
    let mux = mux_with(&["/tree/"]);
    let mut w = ResponseWriter::recorder();
    let mut r = request(Method::GET, "/tree?a=1&b=<2>", "h");
    mux.serve_http(&mut w, &mut r).await;
    assert_eq!(w.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(w.headers()["location"], "/tree/?a=1&b=<2>");
    assert_eq!(
        w.recorded_body(),
        b"<a href=\"/tree/?a=1&amp;b=&lt;2&gt;\">Moved Permanently</a>.\n\n"
    );

    let mut w = ResponseWriter::recorder();
    let mut r = request(Method::GET, "/files/%FF/./x", "h");
    mux.serve_http(&mut w, &mut r).await;
    assert_eq!(w.headers()["location"], "/files/%FF/x");

    let mut w = ResponseWriter::recorder();
    let mut r = request(Method::GET, "/nothing", "h");
    mux.serve_http(&mut w, &mut r).await;
    assert_eq!(w.status(), StatusCode::NOT_FOUND);
    assert_eq!(w.recorded_body(), b"404 page not found\n");
}

#[test]
fn lookup_allocates_nothing() {
    let mut mux = ServeMux::new();
    for i in 0..50 {
        mux.handle(&format!("/api/v1/resource{i}"), echo()).unwrap();
        mux.handle(&format!("/static/dir{i}/"), echo()).unwrap();
    }
    for host in ["example.com/", "api.example.com/v2/", "static.example.com/"] {
        mux.handle(host, echo()).unwrap();
    }
    let requests = [
        (
            request(Method::GET, "/api/v1/resource42", "example.org"),
            "/api/v1/resource42",
        ),
        (
            request(Method::GET, "/static/dir7/css/site.css", "example.org:8080"),
            "/static/dir7/",
        ),
        (
            request(Method::GET, "/v2/users/1", "api.example.com:443"),
            "api.example.com/v2/",
        ),
        (request(Method::GET, "/anything", "example.com"), "example.com/"),
        (request(Method::GET, "/not/registered", "example.org"), ""),
        (
            request(Method::CONNECT, "/static/dir3/x", "example.org:443"),
            "/static/dir3/",
        ),
    ];
    for (r, want) in &requests {
        let mut pattern = "";
        let n = allocations_during(|| pattern = mux.handler(r).1);
        assert_eq!(pattern, *want, "{}", r.target);
        assert_eq!(n, 0, "lookup of {} allocated {n} times", r.target);
    }
    // A redirect builds its Location, so it allocates: this also shows that
    // the counter sees the allocations of this thread.
    let r = request(Method::GET, "/static/dir7", "example.org");
    let n = allocations_during(|| assert_eq!(mux.handler(&r).1, "/static/dir7/"));
    assert!(n > 0, "the counting allocator saw nothing");
}
