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
use std::time::{Duration, Instant};

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

/// The lookup benchmark's two routers on `routes.txt`, and what each
/// routes: our requests (as the server hands them over) and matchit's
/// paths.
struct Lookups<'t> {
    patterns: Vec<&'t str>,
    targets: Vec<&'t str>,
    mux: PatternServeMux,
    requests: Vec<Request>,
    router: matchit::Router<usize>,
}

impl Lookups<'static> {
    fn new() -> Lookups<'static> {
        let patterns: Vec<&str> = lines(ROUTES, "pattern").collect();
        let targets: Vec<&str> = lines(ROUTES, "request").collect();
        let requests = targets
            .iter()
            .map(|t| {
                Request::new(http::Method::GET, t)
                    .expect("target")
                    .with_header(http::header::HOST, "api.example.com")
            })
            .collect();
        Lookups {
            mux: our_mux(&patterns),
            router: matchit_router(&patterns),
            patterns,
            targets,
            requests,
        }
    }
}

impl Lookups<'_> {
    /// Every request matches the route it was made from, in both routers.
    fn check(&mut self) {
        for (i, r) in self.requests.iter_mut().enumerate() {
            assert_eq!(self.mux.route(r).1, self.patterns[i], "{}", self.targets[i]);
            let found = self.router.at(self.targets[i]).expect("matchit match");
            assert_eq!(*found.value, i, "{}", self.targets[i]);
        }
    }

    /// One iteration of ours: all 130 requests routed.
    fn ours(&mut self) {
        for r in self.requests.iter_mut() {
            black_box(self.mux.route(black_box(r)).1.len());
        }
    }

    /// One iteration of ours without storing the values: all 130
    /// requests looked up with `PatternServeMux::handler`, which leaves
    /// the request alone (what storing the values costs is the difference
    /// with [`Lookups::ours`]).
    fn ours_without_values(&self) {
        for r in &self.requests {
            black_box(self.mux.handler(black_box(r)).1.len());
        }
    }

    /// One iteration of matchit's: all 130 paths looked up.
    fn matchit(&self) {
        for path in &self.targets {
            let found = self
                .router
                .at(black_box(path))
                .map(|m| (*m.value, m.params.len()));
            black_box(found.ok());
        }
    }
}

fn lookup(c: &mut Criterion) {
    let mut lookups = Lookups::new();
    lookups.check();
    let mut group = c.benchmark_group("mux_patterns_lookup");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("ours", |b| b.iter(|| lookups.ours()));
    group.bench_function("matchit", |b| b.iter(|| lookups.matchit()));
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
/// peer, `=handler` for ours without storing the values): instead of
/// criterion, route the 130 requests `N` times and stop,
/// for `valgrind --tool=callgrind` (`benches/go-patterns/instructions.sh`
/// runs it twice and takes the difference: instructions per request,
/// which a loaded machine does not disturb).
fn count_lookups(rounds: usize, router: &str) {
    let mut lookups = Lookups::new();
    for _ in 0..rounds {
        match router {
            "matchit" => lookups.matchit(),
            "handler" => lookups.ours_without_values(),
            _ => lookups.ours(),
        }
    }
}

/// `MUX_PATTERNS_ALTERNATE=ROUNDS`: instead of criterion, time ours and
/// matchit in turn, `ROUNDS` times each, 2 000 iterations a turn, and
/// print each one's fastest turn and their ratio. On a shared machine a
/// burst of load slows one turn, not one router: the fastest turns are
/// the two routers measured at the same quiet moments, where criterion,
/// measuring one router and then the other, can see them at different
/// loads (`run.sh` prints both).
fn alternate(rounds: usize) {
    const TURN: u32 = 2_000;
    let mut lookups = Lookups::new();
    lookups.check();
    let (mut ours, mut matchit) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..TURN {
            lookups.ours();
        }
        ours = ours.min(start.elapsed() / TURN);
        let start = Instant::now();
        for _ in 0..TURN {
            lookups.matchit();
        }
        matchit = matchit.min(start.elapsed() / TURN);
    }
    println!(
        "lookup, alternating, fastest of {rounds} turns: ours {:.1} us, matchit {:.1} us, ours/matchit {:.2}",
        ours.as_secs_f64() * 1e6,
        matchit.as_secs_f64() * 1e6,
        ours.as_secs_f64() / matchit.as_secs_f64()
    );
}

criterion_group!(benches, lookup, register);

fn main() {
    if let Ok(rounds) = std::env::var("MUX_PATTERNS_LOOKUPS") {
        let router = std::env::var("MUX_PATTERNS_ROUTER").unwrap_or_default();
        count_lookups(rounds.parse().expect("MUX_PATTERNS_LOOKUPS: a count"), &router);
        return;
    }
    if let Ok(rounds) = std::env::var("MUX_PATTERNS_ALTERNATE") {
        alternate(rounds.parse().expect("MUX_PATTERNS_ALTERNATE: a count"));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
