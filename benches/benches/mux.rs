//! ServeMux lookup speed: our `ServeMux::handler` against matchit (on the
//! routes both can express) and, through `benches/go/run.sh`, against Go
//! 1.19's own `http.ServeMux` on the same table.
//!
//! The route table and the requests come from `benches/go/table.txt`, which
//! the Go benchmark reads too: 50 exact and 50 subtree patterns and 6 host
//! patterns, and requests that hit an exact pattern, a subtree, a host
//! pattern, miss everything (404), or get one of the mux's redirects.
//! One iteration is one lookup.
//!
//! ```text
//! cargo bench -p benches --bench mux            # ours and matchit
//! benches/go/run.sh                             # ours, matchit and Go, side by side
//! ```

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use http::header::HOST;
use mux::ServeMux;
use server::{handler_fn, Request};
use std::hint::black_box;
use std::time::Duration;

const TABLE: &str = include_str!("../go/table.txt");

struct Case {
    name: String,
    request: Request,
    /// The pattern Go's mux reports for this request (checked before timing).
    expect: &'static str,
}

fn expected_pattern(name: &str) -> &'static str {
    match name {
        "exact" => "/api/v1/resource17",
        "subtree" | "slash_redirect" => "/static/dir7/",
        "deep_subtree" => "/docs/section3/",
        "host" => "api.example.com/v2/",
        "host_exact" => "example.com/login",
        "clean_redirect" => "/api/v1/resource3",
        _ => "",
    }
}

fn load() -> (ServeMux, Vec<String>, Vec<Case>) {
    let mut mux = ServeMux::new();
    let mut patterns = Vec::new();
    let mut cases = Vec::new();
    for line in TABLE.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["pattern", pattern] => {
                let ok = handler_fn(|_w, _r| Box::pin(async {}));
                mux.handle(pattern, ok).expect("table pattern");
                patterns.push((*pattern).to_owned());
            }
            ["request", name, method, host, target] => {
                let request = Request::new(method.parse().expect("method"), target)
                    .expect("target")
                    .with_header(HOST, host);
                cases.push(Case {
                    name: (*name).to_owned(),
                    request,
                    expect: expected_pattern(name),
                });
            }
            _ => {}
        }
    }
    (mux, patterns, cases)
}

/// The generic patterns as matchit routes: an exact pattern as itself, a
/// subtree `/dir/` as `/dir/{*rest}` (matchit has no host patterns and no
/// redirects, so only those requests are compared).
fn matchit_router(patterns: &[String]) -> matchit::Router<usize> {
    let mut router = matchit::Router::new();
    for (i, pattern) in patterns.iter().enumerate() {
        if !pattern.starts_with('/') {
            continue;
        }
        let route = if pattern.ends_with('/') {
            format!("{pattern}{{*rest}}")
        } else {
            pattern.clone()
        };
        router.insert(route, i).expect("matchit route");
    }
    router
}

fn lookup(c: &mut Criterion) {
    let (mux, patterns, cases) = load();
    let router = matchit_router(&patterns);
    let mut group = c.benchmark_group("mux_lookup");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for case in &cases {
        assert_eq!(mux.handler(&case.request).1, case.expect, "{}", case.name);
        group.bench_with_input(BenchmarkId::new("ours", &case.name), &case.request, |b, r| {
            b.iter(|| black_box(mux.handler(black_box(r)).1.len()))
        });
        let comparable = matches!(case.name.as_str(), "exact" | "subtree" | "deep_subtree" | "miss");
        if comparable {
            let path = case.request.url.path.as_str().expect("UTF-8 path").to_owned();
            group.bench_with_input(BenchmarkId::new("matchit", &case.name), &path, |b, p| {
                b.iter(|| black_box(router.at(black_box(p)).map(|m| *m.value).ok()))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
