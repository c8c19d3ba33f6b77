//! `parse_request_target_into` refills one `Url` for every request of a
//! keep-alive connection: these tests prove that it then allocates nothing
//! (with a counting global allocator) and that it gives exactly what a
//! fresh `parse_request_target` gives, whatever the `Url` held before.
//!
//! The `#[ignore]`d `parse_hello_in_a_loop` is the instruction-count probe:
//! run it under callgrind (see its doc comment).

use http::Method;
use server::url::{parse_request_target, parse_request_target_into, Url};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the allocations of the current thread (the test harness runs
/// tests on parallel threads, so a process-wide count would see theirs).
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// The shapes a keep-alive connection sees: plain path, path and query,
/// an escaped path (so `raw_path` is kept), a bare `?` (`force_query`),
/// and the absolute form (scheme and host).
const COMMON_TARGETS: &[&str] = &["/hello", "/a/b/c?x=1&y=2", "/a%20b", "/?", "http://example.com/x"];

#[test]
fn the_counting_allocator_sees_a_fresh_parse() {
    // Guards the tests below: a counter that saw nothing would pass them.
    let n = allocations_during(|| {
        let url = parse_request_target(&Method::GET, "/hello").unwrap();
        assert_eq!(url.path, "/hello");
    });
    assert!(n >= 1, "a fresh Url must allocate its path, counted {n}");
}

#[test]
fn reparsing_the_same_target_allocates_nothing() {
    for target in COMMON_TARGETS {
        let mut url = Url::default();
        parse_request_target_into(&Method::GET, target, &mut url).unwrap();
        let expected = url.clone();
        let n = allocations_during(|| {
            parse_request_target_into(&Method::GET, target, &mut url).unwrap();
        });
        assert_eq!(n, 0, "{target:?} allocated {n} times on a reused Url");
        assert_eq!(url, expected, "{target:?}");
    }
}

#[test]
fn a_url_that_held_each_shape_once_parses_all_of_them_without_allocating() {
    // One Url goes through every shape once (growing each field to what
    // they need), then through all of them again, as a connection would.
    let mut url = Url::default();
    for target in COMMON_TARGETS {
        parse_request_target_into(&Method::GET, target, &mut url).unwrap();
    }
    for target in COMMON_TARGETS.iter().chain(COMMON_TARGETS.iter().rev()) {
        let n = allocations_during(|| {
            parse_request_target_into(&Method::GET, target, &mut url).unwrap();
        });
        assert_eq!(n, 0, "{target:?} allocated {n} times on a reused Url");
        assert_eq!(url, parse_request_target(&Method::GET, target).unwrap());
    }
}

/// Targets of every shape, good and bad: the unit tests' cases in url/parse.rs,
/// and request-targets of the mux conformance corpus
/// (demos/testdata/mux/corpus.json).
const VARIED: &[(Method, &str)] = &[
    (Method::GET, "/"),
    (Method::GET, "/hello"),
    (Method::GET, "/files/%FF/x%20y"),
    (Method::GET, "/a%2fb"),
    (Method::GET, "/tree?"),
    (Method::GET, "/tree??"),
    (Method::GET, "/a#b?c#d"),
    (Method::GET, ""),
    (Method::GET, "test/"),
    (Method::GET, "?x=1"),
    (Method::GET, "**"),
    (Method::GET, "*"),
    (Method::GET, "/%"),
    (Method::GET, "/%4"),
    (Method::GET, "/%zz"),
    (Method::GET, "/x\ty"),
    (Method::GET, ":foo"),
    (Method::GET, "http://a b/"),
    (Method::GET, "HTTP://Example.com:80/p?q"),
    (Method::GET, "http://example.com"),
    (Method::GET, "http:opaque"),
    (Method::GET, "http://example.com:8a/"),
    (Method::GET, "http://user:pw@example.com/"),
    (Method::GET, "http://us%zzer@example.com/"),
    (Method::GET, "http://[::1]:8080/x"),
    (Method::GET, "http://[fe80::1%25en0]:8080/x"),
    (Method::GET, "http://[fe80::1%25%zz]/"),
    (Method::GET, "http://ex%41mple.com/"),
    (Method::GET, "http://%C3%BCber.example/"),
    (Method::GET, "http://%FF.example/"),
    (Method::CONNECT, "http://example.com/rpc"),
    (Method::CONNECT, "/rpc"),
    (Method::CONNECT, "example.com:443"),
    (Method::CONNECT, "example.com:3000/pkg/foo"),
    (Method::CONNECT, "proxy.example:8080/sub"),
    (Method::CONNECT, "/testThree?foo"),
    (Method::CONNECT, "foo"),
    (Method::CONNECT, ""),
    (Method::CONNECT, "example.com?"),
    (Method::CONNECT, "u@example.com:443?x=1"),
    (Method::GET, "/#/apage"),
    (Method::GET, "/%0A"),
    (Method::GET, "/%23/apage"),
    (Method::GET, "/%c3%bc/x"),
    (Method::GET, "/../../foo.txt"),
    (Method::GET, "//////"),
    (Method::GET, "//evil.com/"),
    (Method::GET, "/100%25"),
    (Method::GET, "/a b"),
    (Method::GET, "/cafe%CC%81"),
    (Method::GET, "/docs%2F..%2Ffiles%2F"),
    (Method::GET, "/docs/..?"),
    (Method::GET, "/docs/api/?q=/../"),
    (Method::GET, "/files/%3C%3E%22%60%7B%7D%7C%5C%5E/./x"),
    (Method::GET, "/files/%7Euser/./x"),
    (Method::GET, "/files/a%3Fb/./x"),
    (Method::GET, "/files/it's(1)!*/./x"),
    (Method::GET, "/files?%zz"),
    (Method::GET, "/testTwo??"),
    (Method::GET, "/testTwo?a=1&b=2&a=3"),
    (Method::GET, "/test/?example.com/test/"),
    (Method::GET, "/plus%2b"),
    (Method::GET, "/日本"),
    (Method::GET, "/x\u{7f}"),
];

#[test]
fn a_reused_url_parses_exactly_as_a_fresh_one() {
    // Every ordered pair: whatever the Url held before (a good parse, or
    // the leftovers of a refused target), the next parse must equal a
    // fresh one, error for error.
    for (first_method, first) in VARIED {
        for (method, target) in VARIED {
            let mut url = Url::default();
            let _ = parse_request_target_into(first_method, first, &mut url);
            let reused = parse_request_target_into(method, target, &mut url).map(|()| url);
            let fresh = parse_request_target(method, target);
            assert_eq!(
                reused, fresh,
                "{method} {target:?} after {first_method} {first:?}"
            );
        }
    }
}

#[test]
fn one_url_through_the_whole_list_in_sequence() {
    let mut url = Url::default();
    for (method, target) in VARIED.iter().chain(VARIED.iter().rev()) {
        let reused = parse_request_target_into(method, target, &mut url).map(|()| url.clone());
        assert_eq!(
            reused,
            parse_request_target(method, target),
            "{method} {target:?}"
        );
    }
}

/// The instruction-count probe for one keep-alive parse of `/hello`:
/// 100 000 parses into one reused Url (`URL_PARSE_LOOPS` overrides the
/// count, `URL_PARSE_TARGET` the target). Counted with callgrind, once with the loops and once with
/// `URL_PARSE_LOOPS=0`; the difference divided by the count is the cost
/// of one parse:
///
/// ```text
/// cargo test --release -p server --test url_reuse --no-run   # prints the binary path
/// URL_PARSE_LOOPS=100000 valgrind --tool=callgrind <binary> --ignored --exact parse_hello_in_a_loop
/// URL_PARSE_LOOPS=0      valgrind --tool=callgrind <binary> --ignored --exact parse_hello_in_a_loop
/// ```
#[test]
#[ignore = "an instruction-count probe to run under callgrind, not a check"]
fn parse_hello_in_a_loop() {
    let loops: usize = std::env::var("URL_PARSE_LOOPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let target = std::env::var("URL_PARSE_TARGET").unwrap_or_else(|_| "/hello".to_owned());
    let mut url = Url::default();
    for _ in 0..loops {
        let target = std::hint::black_box(target.as_str());
        parse_request_target_into(&Method::GET, target, &mut url).unwrap();
        std::hint::black_box(&url);
    }
}
