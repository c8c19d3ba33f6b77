//! The modern mux's speed: routing a request on a realistic REST table,
//! and registering 1 000 patterns, ours ([`PatternServeMux`]) against
//! matchit here and, through `benches/go-patterns/run.sh`, against Go
//! 1.27's own `http.ServeMux` on the same tables.
//!
//! - `mux_patterns_lookup`: the 130 GitHub API routes of
//!   `benches/go-patterns/routes.txt`; one iteration looks up all 130
//!   requests. `ours` is `PatternServeMux::route` on a request as the
//!   server hands it over (it cleans and escapes the path, picks the host
//!   and method, walks the tree, and stores the values in the request,
//!   allocating nothing); `matchit` is `Router::at` on the path (no
//!   method, no host, no cleaning; its values stay in the returned
//!   `Params`). Go runs `ServeMux.ServeHTTP` with a handler that does
//!   nothing, which is the same work as ours.
//! - `mux_patterns_register`: the 1 000 patterns of
//!   `benches/go-patterns/register.txt` onto a new mux per iteration
//!   (matchit: the same paths, without the method).
//!
//! ```text
//! cargo bench -p benches --bench mux_patterns      # ours and matchit
//! benches/go-patterns/run.sh                       # ours, matchit and Go 1.27, as ratios
//! ```

use criterion::{criterion_group, Criterion};
use mux::PatternServeMux;
use server::{handler_fn, Request};
use std::hint::black_box;
use std::time::Duration;

const ROUTES: &str = include_str!("../go-patterns/routes.txt");
const REGISTER: &str = include_str!("../go-patterns/register.txt");

/// The values after `prefix ` on the lines of `table`.
fn lines<'t>(table: &'t str, prefix: &'t str) -> impl Iterator<Item = &'t str> {
    table
        .lines()
        .filter_map(move |l| l.strip_prefix(prefix)?.strip_prefix(' '))
}

fn our_mux(patterns: &[&str]) -> PatternServeMux {
    let mut mux = PatternServeMux::new();
    for pattern in patterns {
        let nothing = handler_fn(|_w, _r| Box::pin(async {}));
        mux.handle(pattern, nothing).expect("table pattern");
    }
    mux
}

/// A Go pattern as a matchit route: `{x...}` is matchit's `{*x}`; the
/// method (matchit has none) is dropped.
fn matchit_route(pattern: &str) -> String {
    let path = pattern.split_once(' ').map_or(pattern, |(_, path)| path);
    path.replace("{path...}", "{*path}")
}

fn matchit_router(patterns: &[&str]) -> matchit::Router<usize> {
    let mut router = matchit::Router::new();
    for (i, pattern) in patterns.iter().enumerate() {
        router.insert(matchit_route(pattern), i).expect("matchit route");
    }
    router
}

fn lookup(c: &mut Criterion) {
    let patterns: Vec<&str> = lines(ROUTES, "pattern").collect();
    let targets: Vec<&str> = lines(ROUTES, "request").collect();
    let mux = our_mux(&patterns);
    let router = matchit_router(&patterns);
    let mut requests: Vec<Request> = targets
        .iter()
        .map(|t| {
            Request::new(http::Method::GET, t)
                .expect("target")
                .with_header(http::header::HOST, "api.example.com")
        })
        .collect();
    // Every request matches the route it was made from, in both routers.
    for (i, r) in requests.iter_mut().enumerate() {
        assert_eq!(mux.route(r).1, patterns[i], "{}", targets[i]);
        let found = router.at(targets[i]).expect("matchit match");
        assert_eq!(*found.value, i, "{}", targets[i]);
    }
    let mut group = c.benchmark_group("mux_patterns_lookup");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("ours", |b| {
        b.iter(|| {
            for r in requests.iter_mut() {
                black_box(mux.route(black_box(r)).1.len());
            }
        })
    });
    group.bench_function("matchit", |b| {
        b.iter(|| {
            for path in &targets {
                let found = router.at(black_box(path)).map(|m| (*m.value, m.params.len()));
                black_box(found.ok());
            }
        })
    });
    group.finish();
}

fn register(c: &mut Criterion) {
    let patterns: Vec<&str> = lines(REGISTER, "pattern").collect();
    assert_eq!(patterns.len(), 1000);
    let mut group = c.benchmark_group("mux_patterns_register");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    group.bench_function("ours", |b| b.iter(|| black_box(our_mux(black_box(&patterns)))));
    group.bench_function("matchit", |b| {
        b.iter(|| black_box(matchit_router(black_box(&patterns))))
    });
    group.finish();
}

/// `MUX_PATTERNS_LOOKUPS=N` (and `MUX_PATTERNS_ROUTER=matchit` for the
/// peer): instead of criterion, route the 130 requests `N` times and stop,
/// for `valgrind --tool=callgrind` (`benches/go-patterns/instructions.sh`
/// runs it twice and takes the difference: instructions per request,
/// which a loaded machine does not disturb).
fn count_lookups(rounds: usize, router: &str) {
    let patterns: Vec<&str> = lines(ROUTES, "pattern").collect();
    let targets: Vec<&str> = lines(ROUTES, "request").collect();
    if router == "matchit" {
        let router = matchit_router(&patterns);
        for _ in 0..rounds {
            for path in &targets {
                let found = router.at(black_box(path)).map(|m| (*m.value, m.params.len()));
                black_box(found.ok());
            }
        }
        return;
    }
    let mux = our_mux(&patterns);
    let mut requests: Vec<Request> = targets
        .iter()
        .map(|t| {
            Request::new(http::Method::GET, t)
                .expect("target")
                .with_header(http::header::HOST, "api.example.com")
        })
        .collect();
    for _ in 0..rounds {
        for r in requests.iter_mut() {
            black_box(mux.route(black_box(r)).1.len());
        }
    }
}

criterion_group!(benches, lookup, register);

fn main() {
    if let Ok(rounds) = std::env::var("MUX_PATTERNS_LOOKUPS") {
        let router = std::env::var("MUX_PATTERNS_ROUTER").unwrap_or_default();
        count_lookups(rounds.parse().expect("MUX_PATTERNS_LOOKUPS: a count"), &router);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
