//! Go 1.19's `http.ServeMux`, request for request.
//!
//! Go keeps one map of every pattern (`m`) and a list of the patterns that
//! end in `/`, longest first (`es`; both fields of `ServeMux`,
//! server.go:2293). To route a request it matches the string `host + path`
//! and then `path` against them: an exact entry wins, else the longest
//! subtree prefix. Building `host + path` costs Go an
//! allocation per request. We keep the same two structures, but one pair
//! per host: a pattern is stored under the part before its first `/` (empty
//! for the generic patterns `/...`, `example.com` for `example.com/...`).
//! Because a host never contains `/` and a path starts with one, `host +
//! path` matches a pattern exactly when the host is that pattern's host
//! part and the path matches the rest, so choosing the host's table first
//! answers the same question without building any string. (A hand-made
//! request whose host holds a `/` is still answered as Go would, by
//! building the string: see [`split_joined`].)
//!
//! The decisions, in Go's order (`ServeMux.Handler`, server.go:2423):
//! 1. CONNECT: no cleaning and no port stripping; only the `/tree` ->
//!    `/tree/` redirect, decided on the URL's own host (`r.URL.Host`).
//! 2. Others: strip the port from the host, clean the path; if `/tree` has
//!    no pattern but `/tree/` has, 301 to `/tree/` keeping the query.
//! 3. If the path was not clean, 301 to the clean path (even to a 404).
//! 4. Else the handler of the best pattern: host-specific first, then
//!    generic; none is a 404.
//!
//! The code below follows Go's step for step. One speed trick sits apart,
//! in [`fast_path`]: the common request (clean path, not CONNECT) decided
//! with fewer lookups, with its measured gain written beside it.

use crate::clean::clean_path;
use crate::hash::FxBuildHasher;
use crate::hostport::strip_host_port;
use crate::Error;
use http::header::{HeaderValue, CONNECTION};
use http::{Method, StatusCode, Version};
use server::url::Url;
use server::{BoxFuture, Handler, Request, ResponseWriter};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// The common request decided with fewer lookups (Go-equivalent; measured).
mod fast_path;

/// A registered pattern and its handler (Go: `muxEntry`, server.go:2300).
struct Entry {
    pattern: Box<str>,
    handler: Arc<dyn Handler>,
}

/// The patterns that share one host part (Go's `m` and `es`, restricted to
/// that host). Keys are the pattern with its host part removed.
#[derive(Default)]
struct Table {
    /// Every pattern, exact or subtree (Go: `m`).
    all: HashMap<Box<[u8]>, usize, FxBuildHasher>,
    /// The patterns ending in `/`, longest first (Go: `es`).
    subtrees: Vec<(Box<[u8]>, usize)>,
    /// Subtree patterns without their last `/`, so that "is `path + "/"`
    /// registered?" needs no `path + "/"` string (Go: `m[c+"/"]`).
    roots: HashMap<Box<[u8]>, usize, FxBuildHasher>,
}

impl Table {
    fn insert(&mut self, rest: &[u8], index: usize) {
        self.all.insert(rest.into(), index);
        if let Some(root) = rest.strip_suffix(b"/") {
            self.roots.insert(root.into(), index);
            // Go: `appendSorted`, server.go:2520: before the first shorter pattern.
            let at = self.subtrees.partition_point(|(p, _)| p.len() >= rest.len());
            self.subtrees.insert(at, (rest.into(), index));
        }
    }

    /// Go: `ServeMux.match`, server.go:2350: the exact pattern, else the
    /// longest subtree prefix.
    fn find(&self, rest: &[u8]) -> Option<usize> {
        if let Some(&index) = self.all.get(rest) {
            return Some(index);
        }
        self.longest_subtree(rest)
    }

    /// Go: the loop over `es` in `match`, server.go:2359.
    fn longest_subtree(&self, rest: &[u8]) -> Option<usize> {
        self.subtrees
            .iter()
            .find(|(prefix, _)| {
                // A subtree pattern ends in '/': test that one byte before
                // comparing the whole prefix, which rules out most at once.
                prefix.len() <= rest.len() && rest[prefix.len() - 1] == b'/' && rest.starts_with(prefix)
            })
            .map(|&(_, index)| index)
    }
}

/// A request multiplexer: Go 1.19's `http.ServeMux`.
///
/// Patterns name fixed paths (`/favicon.ico`) or subtrees (`/images/`,
/// ending in a slash); the longest matching pattern wins, an exact one
/// beats any subtree, and patterns starting with a host
/// (`example.com/`) beat the generic ones for requests to that host.
/// Register everything first, then serve: registration takes `&mut self`,
/// and serving shares the mux immutably, so lookups take no lock (Go
/// guards its maps with a `RWMutex` because it allows registering while
/// serving).
///
/// ```
/// use mux::{Route, ServeMux};
/// use server::{handler_fn, Request};
///
/// let mut mux = ServeMux::new();
/// let ok = || handler_fn(|w, _r| Box::pin(async move { let _ = w.write(b"ok").await; }));
/// mux.handle("/images/", ok()).unwrap();
/// mux.handle("example.com/", ok()).unwrap();
/// assert!(mux.handle("/images/", ok()).is_err());
///
/// let r = Request::new(http::Method::GET, "/images/a.png").unwrap();
/// assert_eq!(mux.handler(&r).1, "/images/");
/// let r = Request::new(http::Method::GET, "/images?x=1").unwrap();
/// let (route, pattern) = mux.handler(&r);
/// assert!(matches!(route, Route::Redirect(ref to) if to == "/images/?x=1"));
/// assert_eq!(pattern, "/images/");
/// let r = Request::new(http::Method::GET, "http://example.com:8080/x").unwrap();
/// assert_eq!(mux.handler(&r).1, "example.com/");
/// ```
#[derive(Default)]
pub struct ServeMux {
    entries: Vec<Entry>,
    /// Patterns starting with `/`.
    generic: Table,
    /// Patterns starting with a host, by host part (Go: `hosts`,
    /// server.go:2297, is `!self.hosts.is_empty()`).
    hosts: HashMap<Box<[u8]>, Table, FxBuildHasher>,
}

/// What the mux will do with a request (Go: the handler that
/// `mux.Handler(r)` returns).
pub enum Route<'m> {
    /// A registered pattern matched: call its handler.
    Handler(&'m Arc<dyn Handler>),
    /// Answer `301 Moved Permanently` to this location (Go:
    /// `RedirectHandler(url, 301)`, server.go:2254).
    Redirect(String),
    /// No pattern matched: `404 page not found` (Go: `NotFoundHandler`,
    /// server.go:2130).
    NotFound,
}

impl fmt::Debug for Route<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Handler(_) => f.write_str("Handler"),
            Route::Redirect(to) => f.debug_tuple("Redirect").field(to).finish(),
            Route::NotFound => f.write_str("NotFound"),
        }
    }
}

impl<'m> Route<'m> {
    /// Answers the request as this route says.
    pub fn serve<'a>(self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()>
    where
        'm: 'a,
    {
        match self {
            Route::Handler(handler) => handler.serve_http(w, r),
            Route::Redirect(location) => Box::pin(async move {
                server::redirect(w, r, &location, StatusCode::MOVED_PERMANENTLY).await;
            }),
            Route::NotFound => Box::pin(server::not_found(w)),
        }
    }
}

/// Splits a pattern at its first `/`: host part, and the rest (empty
/// when there is no `/`, as in a CONNECT pattern `example.com:443`).
fn split_pattern(pattern: &[u8]) -> (&[u8], &[u8]) {
    match pattern.iter().position(|&b| b == b'/') {
        Some(i) => pattern.split_at(i),
        None => (pattern, b""),
    }
}

/// The string `host + path` split as [`split_pattern`] splits a pattern,
/// so that it can be looked up in the host's table. For every request the
/// server builds (a host without `/`, a path empty or starting with `/`)
/// that is simply `(host, path)`, borrowed; only a hand-made request
/// needs the joined string.
fn split_joined<'a>(host: &'a [u8], path: &'a [u8]) -> (Cow<'a, [u8]>, Cow<'a, [u8]>) {
    if !host.contains(&b'/') && (path.is_empty() || path[0] == b'/') {
        return (Cow::Borrowed(host), Cow::Borrowed(path));
    }
    let joined = [host, path].concat();
    let (key, rest) = split_pattern(&joined);
    (Cow::Owned(key.to_vec()), Cow::Owned(rest.to_vec()))
}

impl ServeMux {
    /// An empty mux (Go: `http.NewServeMux`, server.go:2306).
    pub fn new() -> ServeMux {
        ServeMux::default()
    }

    /// Registers `handler` for `pattern` (Go: `ServeMux.Handle`, server.go:2492).
    ///
    /// Refuses an empty pattern and a pattern registered before, with an
    /// [`Error`] whose text is Go's panic message. Any other string is
    /// accepted, as in Go, even one that no request can reach.
    pub fn handle(&mut self, pattern: &str, handler: impl Handler) -> Result<(), Error> {
        self.handle_arc(pattern, Arc::new(handler))
    }

    /// [`ServeMux::handle`] for a handler that is already shared.
    pub fn handle_arc(&mut self, pattern: &str, handler: Arc<dyn Handler>) -> Result<(), Error> {
        if pattern.is_empty() {
            return Err(Error::EmptyPattern);
        }
        let (key, rest) = split_pattern(pattern.as_bytes());
        let table = if key.is_empty() {
            &mut self.generic
        } else {
            self.hosts.entry(key.into()).or_default()
        };
        if table.all.contains_key(rest) {
            return Err(Error::Duplicate(pattern.to_owned()));
        }
        table.insert(rest, self.entries.len());
        self.entries.push(Entry {
            pattern: pattern.into(),
            handler,
        });
        Ok(())
    }

    /// The registered patterns, in registration order.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| &*e.pattern)
    }

    /// Chooses what answers `r`, and the pattern that decided it (Go:
    /// `ServeMux.Handler`, server.go:2423): the matched pattern; for the mux's own
    /// redirects, the pattern that will match after the redirect; `""` for
    /// not found. Allocates nothing unless it answers with a redirect.
    pub fn handler<'m>(&'m self, r: &Request) -> (Route<'m>, &'m str) {
        // The common case, decided with fewer lookups (see `fast_path`);
        // what follows is Go's code, step for step, for every request.
        if let Some(decided) = self.route_fast(r) {
            return decided;
        }
        if r.method == Method::CONNECT {
            // CONNECT is not cleaned, and its host keeps its port. The slash
            // redirect looks at the URL's host, the match at r.host.
            if let Some(new_path) = self.should_redirect(r.url.host.as_bytes(), &r.url.path) {
                let location = Url::from_path(new_path, &r.url.raw_query).string();
                return (Route::Redirect(location), new_path);
            }
            return self.route(r.host.as_bytes(), &r.url.path);
        }
        let host = strip_host_port(&r.host).as_bytes();
        let path = clean_path(&r.url.path);
        if let Some(new_path) = self.should_redirect(host, &path) {
            let location = Url::from_path(new_path, &r.url.raw_query).string();
            return (Route::Redirect(location), new_path);
        }
        if let Cow::Owned(cleaned) = path {
            let (_, pattern) = self.route(host, &cleaned);
            let location = Url::from_path(cleaned, &r.url.raw_query).string();
            return (Route::Redirect(location), pattern);
        }
        self.route(host, &r.url.path)
    }

    /// Go: `ServeMux.handler`, server.go:2459: host-specific patterns first,
    /// then generic.
    fn route<'m>(&'m self, host: &[u8], path: &[u8]) -> (Route<'m>, &'m str) {
        let mut found = None;
        if !self.hosts.is_empty() {
            found = self.find(host, path);
        }
        if found.is_none() {
            found = self.find(b"", path);
        }
        match found.and_then(|index| self.entries.get(index)) {
            Some(entry) => (Route::Handler(&entry.handler), &entry.pattern),
            None => (Route::NotFound, ""),
        }
    }

    fn table(&self, key: &[u8]) -> Option<&Table> {
        if key.is_empty() {
            Some(&self.generic)
        } else {
            self.hosts.get(key)
        }
    }

    /// Go: `mux.match(host + path)`, server.go:2465.
    fn find(&self, host: &[u8], path: &[u8]) -> Option<usize> {
        let (key, rest) = split_joined(host, path);
        self.table(&key)?.find(&rest)
    }

    /// Go: `mux.m[host + path]` exists.
    fn is_registered(&self, host: &[u8], path: &[u8]) -> bool {
        let (key, rest) = split_joined(host, path);
        self.table(&key).is_some_and(|t| t.all.contains_key(&*rest))
    }

    /// Go: `mux.m[host + path + "/"]`: the subtree pattern rooted there.
    fn subtree_at(&self, host: &[u8], path: &[u8]) -> Option<&Entry> {
        let (key, rest) = split_joined(host, path);
        let index = *self.table(&key)?.roots.get(&*rest)?;
        self.entries.get(index)
    }

    /// Go: `shouldRedirectRLocked`, server.go:2386 (and the new path of
    /// `redirectToPathSlash`, server.go:2371): when `path` has no pattern, neither generic
    /// nor for this host, but `path + "/"` has one, the new path
    /// `path + "/"`, borrowed from that pattern.
    fn should_redirect(&self, host: &[u8], path: &[u8]) -> Option<&str> {
        if self.is_registered(b"", path) || self.is_registered(host, path) {
            return None;
        }
        let n = path.len();
        if n == 0 {
            return None;
        }
        for candidate_host in [&b""[..], host] {
            if let Some(entry) = self.subtree_at(candidate_host, path) {
                if path[n - 1] == b'/' {
                    return None;
                }
                // The pattern is (host part) + path + "/": its tail is the new path.
                let pattern = &*entry.pattern;
                return pattern.get(pattern.len() - (n + 1)..);
            }
        }
        None
    }
}

impl fmt::Debug for ServeMux {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeMux")
            .field("patterns", &self.patterns().collect::<Vec<_>>())
            .finish()
    }
}

/// Go: `ServeMux.ServeHTTP`, server.go:2478.
impl Handler for ServeMux {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        if r.target == "*" {
            // `OPTIONS *` never gets here (the server answers it); any other
            // method with `*` is a bad request, and Go closes the connection.
            if r.version >= Version::HTTP_11 {
                w.header().insert(CONNECTION, HeaderValue::from_static("close"));
            }
            w.write_header(StatusCode::BAD_REQUEST);
            return Box::pin(std::future::ready(()));
        }
        let (route, _pattern) = self.handler(r);
        route.serve(w, r)
    }
}
