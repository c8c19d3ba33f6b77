//! The classic mux's one speed trick: the common request decided with
//! fewer lookups than Go's code makes, kept apart from that code.
//!
//! [`ServeMux::handler`](super::ServeMux::handler) asks here first. For a
//! request that is not CONNECT, whose host holds no `/` and whose path is
//! already clean and starts with `/` (every request the server parses),
//! `host + path` splits into `(host, path)`, so the host's table is looked
//! up once and each exact lookup is made once and reused (Go's order of
//! decisions looks `path` and `host + path` up in `shouldRedirectRLocked`
//! and again in `match`). Any other request gets `None` and goes through
//! the Go-shaped code; a test below checks that both decide every request
//! of a small table alike.
//!
//! Measured gain (callgrind instructions per lookup on the table of
//! `benches/go/table.txt`, Go's code alone -> with this path first, both
//! with the FxHash tables of `hash.rs`): exact 1 023 -> 592, subtree
//! 2 915 -> 1 865, deep subtree 2 145 -> 1 166, host 2 282 -> 1 352, host
//! exact 1 151 -> 554, miss 2 639 -> 1 612, slash redirect 1 798 -> 1 505;
//! a path that needs cleaning, which this path declines, pays one more
//! scan: 2 353 -> 2 476. Go's code alone, with std's SipHash tables as a
//! plain port has them, was slower than Go 1.19 on host patterns (Go's time
//! ÷ ours 0.89 on `host` and on `host_exact`, same run), and the target is
//! "no slower than Go": this path stays (the figures are in the mux section
//! of `benches/README.md`).

use super::{Route, ServeMux};
use crate::clean::is_clean;
use crate::hostport::strip_host_port;
use http::Method;
use server::url::Url;
use server::Request;

impl ServeMux {
    /// [`route_clean`](Self::route_clean) for a request, when it has the
    /// shape that allows it.
    pub(super) fn route_fast<'m>(&'m self, r: &Request) -> Option<(Route<'m>, &'m str)> {
        if r.method == Method::CONNECT {
            return None;
        }
        // A path that needs cleaning is redirected by Go's code; `is_clean`
        // says so without building the cleaned copy.
        if !is_clean(&r.url.path) {
            return None;
        }
        let host = strip_host_port(&r.host).as_bytes();
        self.route_clean(host, &r.url.path, &r.url.raw_query)
    }

    /// The common case of [`ServeMux::handler`], the same decisions made
    /// with fewer lookups: a clean path starting with `/` and a host without
    /// `/` (every request the server parses), so that `host + path` splits
    /// into `(host, path)` and the host's table is looked up once, and each
    /// exact lookup is done once and reused. `None` when the request is not
    /// of that shape.
    fn route_clean<'m>(&'m self, host: &[u8], path: &[u8], raw_query: &str) -> Option<(Route<'m>, &'m str)> {
        if path.first() != Some(&b'/') || host.contains(&b'/') {
            return None;
        }
        let generic = &self.generic;
        let for_host = if self.hosts.is_empty() {
            None
        } else {
            self.hosts.get(host)
        };
        let generic_exact = generic.all.get(path).copied();
        let host_exact = for_host.and_then(|t| t.all.get(path).copied());
        // Go: `shouldRedirectRLocked`, server.go:2386.
        if generic_exact.is_none() && host_exact.is_none() && path.last() != Some(&b'/') {
            let root = generic
                .roots
                .get(path)
                .or_else(|| for_host.and_then(|t| t.roots.get(path)));
            if let Some(entry) = root.and_then(|&i| self.entries.get(i)) {
                let pattern = &*entry.pattern;
                let new_path = pattern.get(pattern.len() - (path.len() + 1)..)?;
                let location = Url::from_path(new_path, raw_query).string();
                return Some((Route::Redirect(location), new_path));
            }
        }
        // Go: `ServeMux.handler`, server.go:2459: host-specific first, then generic.
        let found = for_host
            .and_then(|t| host_exact.or_else(|| t.longest_subtree(path)))
            .or_else(|| generic_exact.or_else(|| generic.longest_subtree(path)));
        Some(match found.and_then(|i| self.entries.get(i)) {
            Some(entry) => (Route::Handler(&entry.handler), &entry.pattern),
            None => (Route::NotFound, ""),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;

    /// The slow, literal port of Go's `Handler` for a clean path, to check
    /// the fast path against.
    fn literal<'m>(mux: &'m ServeMux, host: &[u8], path: &[u8], query: &str) -> (Option<String>, &'m str) {
        if let Some(new_path) = mux.should_redirect(host, path) {
            return (Some(Url::from_path(new_path, query).string()), new_path);
        }
        let (route, pattern) = mux.route(host, path);
        let location = match route {
            Route::Redirect(to) => Some(to),
            _ => None,
        };
        (location, pattern)
    }

    #[test]
    fn fast_path_decides_as_the_literal_port() {
        let patterns = [
            "/", "/a", "/a/", "/a/b/", "/a/b/c", "/tree/", "/x/y/", "h/", "h/a", "h/a/b/", "h/tree/",
            "h:1/q/", "g/only", "g/dir/",
        ];
        let hosts = ["", "h", "g", "h:1", "other"];
        let paths = [
            "/", "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/b/c/", "/tree", "/tree/", "/tree/x", "/x/y",
            "/q", "/q/z", "/only", "/only/", "/dir", "/dir/x", "/zzz",
        ];
        for take in [patterns.len(), 6] {
            let mut mux = ServeMux::new();
            for p in &patterns[..take] {
                mux.handle(p, server::NotFound).unwrap();
            }
            for host in hosts {
                for path in paths {
                    let fast = mux.route_clean(host.as_bytes(), path.as_bytes(), "q=1").unwrap();
                    let fast_location = match fast.0 {
                        Route::Redirect(to) => Some(to),
                        _ => None,
                    };
                    let slow = literal(&mux, host.as_bytes(), path.as_bytes(), "q=1");
                    assert_eq!(
                        (fast_location, fast.1),
                        slow,
                        "{take} patterns, host {host:?}, path {path:?}"
                    );
                }
            }
        }
    }
}
