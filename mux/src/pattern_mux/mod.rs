//! Go's modern `http.ServeMux` (Go 1.22 and later, as Go 1.27 behaves):
//! patterns with methods, hosts and wildcards, the most specific pattern
//! wins, conflicting patterns are refused, and a path served only for
//! other methods answers 405 with `Allow`.
//!
//! The pieces follow Go's files:
//!
//! | module | Go |
//! |---|---|
//! | `pattern` | pattern.go: `parsePattern`, `pattern`, `segment` |
//! | `specificity` | pattern.go: `conflictsWith`, `comparePaths`, `describeConflict` |
//! | `tree` | routing_tree.go: `routingNode`, `match`, `matchingMethods`; mapping.go |
//! | `segments` | routing_tree.go: `firstSegment` |
//! | `children` | mapping.go: a node's literal children, found in place (speed) |
//! | `key` | (none: how `children` finds a literal past 32 children) |
//! | `words` | (none: bytes read eight at a time, for speed) |
//! | `index` | routing_index.go: `routingIndex` |
//! | `escape` | net/url: `PathUnescape`, `EscapedPath` |
//! | this module | server.go: `ServeMux`, `findHandler`, `matchOrRedirect`, `matchingMethods`, `registerErr` |
//!
//! What one request goes through ([`PatternServeMux::route`], Go's
//! `findHandler`):
//!
//! 1. The path it matches is the *escaped* path (`EscapedPath`): each
//!    segment is unescaped on its own, so `%2F` stays inside its segment.
//! 2. CONNECT: neither the path is cleaned nor the port stripped; only
//!    the trailing-slash redirect, decided on the URL's own host.
//! 3. Others: the host loses its port, the path is cleaned; the tree is
//!    asked for (host, method, path); if that finds nothing, or only a
//!    multi wildcard that takes a non-empty rest, and `path + "/"` would
//!    match exactly, 307 to `path + "/"` (`matchOrRedirect`).
//! 4. A path that cleaning changed gets a 307 to the clean path.
//! 5. No pattern: 405 with the sorted methods that would match, or 404.
//!
//! Where this differs from Go: almost every request takes a shorter way
//! to the same answer (`find_plain`). Its URL has no `raw_path`, so its
//! escaped path is the default escaping of the decoded one, whose
//! segments are then exactly the unescaped segments Go compares: the tree
//! walks the decoded path as it is, with a walk of its own
//! (`tree::Node::find_in_place`: Go's shape, its literals compared where
//! they lie in the path). That walk takes no segment that cleaning
//! removes, and only an exact match is taken (no slash redirect then),
//! so the clean check rides on the walk. Anything else (no match, a
//! match that is not exact, a path to clean, a `raw_path`, CONNECT) goes
//! the general way above. Measured with
//! callgrind on the 130 GitHub routes of `benches/go-patterns`: the one
//! pass that checked a path plain and clean cost about 150 instructions a
//! request, the walk's own checks cost a few per segment.
//!
//! And in what a match leaves on the request (`store_values`): Go's
//! `ServeHTTP` points the request at the pattern and fills `matches` with
//! one new string per value. Here the request keeps one copy of the path
//! and a range of it per value, and reads the names from a table of
//! every pattern's names (`PatternNames`) that the mux shares with the
//! requests it routes, held across a connection's requests
//! (`server::PathValues` says how). Measured with callgrind on the same
//! routes: 984 instructions a lookup when every name and value was copied
//! on its own, 823 this way.
//!
//! Every redirect is `307 Temporary Redirect` (from Go 1.26; a POST stays
//! a POST) and its `Location` is built from the escaped path (from Go
//! 1.27: `urlFromEscaped`, so `%2F` and `%20` are not escaped twice).

mod children;
mod escape;
mod index;
mod key;
mod pattern;
mod segments;
mod specificity;
mod tree;
mod words;

pub use pattern::{Pattern, Segment};
pub use specificity::Relationship;

use crate::clean::clean_path;
use crate::hostport::strip_host_port;
use crate::Error;
use escape::{escaped_path, unescape_into};
use http::header::{HeaderValue, ALLOW, CONNECTION};
use http::{Method, StatusCode, Version};
use index::Index;
use segments::Subject;
use server::url::Url;
use server::{BoxFuture, Handler, PathValues, PatternNames, Request, ResponseWriter};
use std::borrow::Cow;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use tree::{Captures, RouteIndex, Tree};

/// A registered pattern, where it was registered, and its handler.
struct Entry {
    pattern: Pattern,
    /// `file:line` of the registering call (Go: `pattern.loc`), for
    /// conflict messages.
    location: String,
    handler: Arc<dyn Handler>,
}

/// Go's modern request multiplexer (`http.ServeMux` since Go 1.22), beside
/// the classic [`ServeMux`](crate::ServeMux) of Go 1.19.
///
/// Patterns are `[METHOD ][HOST]/[PATH]`; a path segment is a literal, a
/// wildcard `{name}` (one segment), `{name...}` (the rest of the path,
/// last only) or `{$}` (the path ends here, after a slash); a path ending
/// in `/` matches everything below it. Handlers read the values with
/// [`Request::path_value`].
///
/// Go's `GODEBUG=httpmuxgo121=1` turns its `ServeMux` back into the
/// classic one; here the two are two types, and a program picks one.
///
/// ```
/// use mux::{PatternRoute, PatternServeMux};
/// use server::{handler_fn, Request};
///
/// let ok = || handler_fn(|w, _r| Box::pin(async move { let _ = w.write(b"ok").await; }));
/// let mut mux = PatternServeMux::new();
/// mux.handle("GET /items/{id}", ok()).unwrap();
/// mux.handle("/files/{path...}", ok()).unwrap();
/// let err = mux.handle("GET /items/{name}", ok()).unwrap_err();
/// assert!(err.to_string().ends_with("GET /items/{name} matches the same requests as GET /items/{id}"));
///
/// let mut r = Request::new(http::Method::GET, "/items/42").unwrap();
/// let (route, pattern) = mux.route(&mut r);
/// assert!(matches!(route, PatternRoute::Handler(_)));
/// assert_eq!((&*pattern, r.path_value("id")), ("GET /items/{id}", Some("42")));
///
/// let mut r = Request::new(http::Method::DELETE, "/items/42").unwrap();
/// assert!(matches!(mux.route(&mut r).0, PatternRoute::MethodNotAllowed(ref allow) if allow == "GET, HEAD"));
/// ```
#[derive(Default)]
pub struct PatternServeMux {
    entries: Vec<Entry>,
    /// Every pattern's wildcard names, by route, shared with the requests
    /// routed (their values name themselves through it).
    names: Arc<PatternNames>,
    tree: Tree,
    index: Index,
}

/// What the mux will do with a request (Go: the handler `findHandler`
/// returns).
pub enum PatternRoute<'m> {
    /// A pattern matched: call its handler.
    Handler(&'m Arc<dyn Handler>),
    /// `307 Temporary Redirect` to this location: the clean path, or the
    /// path with a slash appended.
    Redirect(String),
    /// The path matches only for other methods: `405 Method Not Allowed`
    /// with this `Allow` value.
    MethodNotAllowed(String),
    /// `404 page not found`.
    NotFound,
}

impl fmt::Debug for PatternRoute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternRoute::Handler(_) => f.write_str("Handler"),
            PatternRoute::Redirect(to) => f.debug_tuple("Redirect").field(to).finish(),
            PatternRoute::MethodNotAllowed(allow) => f.debug_tuple("MethodNotAllowed").field(allow).finish(),
            PatternRoute::NotFound => f.write_str("NotFound"),
        }
    }
}

impl<'m> PatternRoute<'m> {
    /// Answers the request as this route says.
    pub fn serve<'a>(self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()>
    where
        'm: 'a,
    {
        match self {
            PatternRoute::Handler(handler) => handler.serve_http(w, r),
            PatternRoute::Redirect(location) => Box::pin(async move {
                server::redirect(w, r, &location, StatusCode::TEMPORARY_REDIRECT).await;
            }),
            PatternRoute::MethodNotAllowed(allow) => Box::pin(async move {
                if let Ok(allow) = HeaderValue::from_str(&allow) {
                    w.header().insert(ALLOW, allow);
                }
                server::error(w, "Method Not Allowed", StatusCode::METHOD_NOT_ALLOWED).await;
            }),
            PatternRoute::NotFound => Box::pin(server::not_found(w)),
        }
    }
}

/// What answers a request, and the pattern reported with it (Go:
/// `findHandler`'s handler and pattern string).
type Decision<'m> = (PatternRoute<'m>, Cow<'m, str>);

/// A request with its port stripped and its path cleaned, and what that
/// path matched (`find_cleaned`).
struct Cleaned<'p> {
    host: &'p str,
    path: Cow<'p, [u8]>,
    found: Option<RouteIndex>,
}

/// The parts of a request the mux reads (borrowed apart from the request's
/// path values, which it writes).
struct Asked<'r> {
    method: &'r str,
    /// Go: `r.Host`.
    host: &'r str,
    url: &'r Url,
}

/// Go: `exactMatch`: the pattern matched without a multi wildcard taking
/// a non-empty rest. `slash` stands for a `/` appended to `path` (escaped
/// or decoded: only its slashes are read).
fn exact_match(pattern: &Pattern, path: &[u8], slash: bool) -> bool {
    if !pattern.last_segment().multi {
        return true;
    }
    let ends_in_slash = slash || path.last() == Some(&b'/');
    if !path.is_empty() && !ends_in_slash {
        return false;
    }
    let slashes = path.iter().filter(|&&b| b == b'/').count() + usize::from(slash);
    pattern.segments().len() == slashes
}

/// Go: `urlFromEscaped(path, query).String()`: the escaped path as it is,
/// then the query.
fn location(escaped: &[u8], slash: bool, raw_query: &str) -> String {
    let mut out = String::with_capacity(escaped.len() + 2 + raw_query.len());
    out.push_str(&String::from_utf8_lossy(escaped));
    if slash {
        out.push('/');
    }
    if !raw_query.is_empty() {
        out.push('?');
        out.push_str(raw_query);
    }
    out
}

impl PatternServeMux {
    /// An empty mux (Go: `http.NewServeMux`).
    pub fn new() -> PatternServeMux {
        PatternServeMux::default()
    }

    /// Registers `handler` for `pattern` (Go: `ServeMux.Handle`, which
    /// panics where this returns the error, with the same text): an empty
    /// or malformed pattern, or one that conflicts with a pattern
    /// registered before. The caller's `file:line` goes into conflict
    /// messages, as Go's `runtime.Caller` puts it there.
    #[track_caller]
    pub fn handle(&mut self, pattern: &str, handler: impl Handler) -> Result<(), Error> {
        self.register(pattern, Arc::new(handler), Location::caller())
    }

    /// [`PatternServeMux::handle`] for a handler that is already shared.
    #[track_caller]
    pub fn handle_arc(&mut self, pattern: &str, handler: Arc<dyn Handler>) -> Result<(), Error> {
        self.register(pattern, handler, Location::caller())
    }

    /// Go: `registerErr`: parse, refuse conflicts (looking only at the
    /// candidates the index gives), then add to the tree and the index.
    fn register(
        &mut self,
        text: &str,
        handler: Arc<dyn Handler>,
        caller: &Location<'_>,
    ) -> Result<(), Error> {
        if text.is_empty() {
            return Err(Error::EmptyPattern);
        }
        let pattern = Pattern::parse(text)?;
        let location = format!("{}:{}", caller.file(), caller.line());
        let entries = &self.entries;
        self.index.possibly_conflicting(&pattern, |other| {
            let other = &entries[other];
            if !specificity::conflicts(&pattern, &other.pattern) {
                return Ok(());
            }
            Err(Error::Conflict {
                pattern: text.to_owned(),
                location: location.clone(),
                other: other.pattern.as_str().to_owned(),
                other_location: other.location.clone(),
                explanation: specificity::describe_conflict(&pattern, &other.pattern),
            })
        })?;
        let route = self.entries.len();
        if let Err(taken) = self.tree.add(&pattern, route) {
            return Err(Error::SameLeaf {
                pattern: text.to_owned(),
                other: self.entries[taken].pattern.as_str().to_owned(),
            });
        }
        self.index.add(&pattern, route);
        let numbered = Arc::make_mut(&mut self.names).push(pattern.names());
        debug_assert_eq!(numbered, route);
        self.entries.push(Entry {
            pattern,
            location,
            handler,
        });
        Ok(())
    }

    /// The registered patterns, in registration order.
    pub fn patterns(&self) -> impl Iterator<Item = &Pattern> {
        self.entries.iter().map(|e| &e.pattern)
    }

    /// Chooses what answers `r` and the pattern that decided it, without
    /// touching `r` (Go: `ServeMux.Handler`): the matched pattern; for a
    /// slash redirect the pattern that will match; for a CONNECT redirect
    /// the new path; for a clean-path redirect the pattern the clean path
    /// matches, if any; `""` for 404 and 405.
    pub fn handler<'m>(&'m self, r: &Request) -> (PatternRoute<'m>, Cow<'m, str>) {
        let asked = Asked {
            method: r.method.as_str(),
            host: &r.host,
            url: &r.url,
        };
        self.find_handler(&asked, None)
    }

    /// [`PatternServeMux::handler`], and the matched wildcards' values
    /// stored in `r` for [`Request::path_value`] (what Go's `ServeHTTP`
    /// does before it calls the handler). Allocates nothing for a request
    /// that matches a pattern, once `r`'s value buffer has grown to size
    /// (a connection reuses one request, and so the buffer).
    pub fn route<'m>(&'m self, r: &mut Request) -> (PatternRoute<'m>, Cow<'m, str>) {
        let Request {
            method,
            host,
            url,
            path_values,
            ..
        } = r;
        let asked = Asked {
            method: method.as_str(),
            host,
            url,
        };
        self.find_handler(&asked, Some(path_values))
    }

    /// Go: `findHandler`: the common case the short way (a path that needs
    /// neither escaping nor cleaning and matches exactly, any method but
    /// CONNECT), else Go's way.
    fn find_handler<'m>(&'m self, r: &Asked<'_>, values: Option<&mut PathValues>) -> Decision<'m> {
        if r.method != Method::CONNECT.as_str() && r.url.raw_path.is_empty() {
            let mut captures = Captures::new();
            let path = Subject::decoded(r.url.path.as_bytes());
            if let Some(route) = self.find_plain(r, &path, &mut captures) {
                return self.matched(route, &path, &captures, values);
            }
        }
        self.find_general(r, values)
    }

    /// Go's `findHandler` step by step, for any request: the escaped
    /// path, then CONNECT's way or the cleaned path's way, then the
    /// decision. Never inlined: inside `find_handler` it made the short
    /// way 6 instructions a request dearer (568 against 562, callgrind,
    /// the 130 GitHub routes).
    #[inline(never)]
    fn find_general<'m>(&'m self, r: &Asked<'_>, values: Option<&mut PathValues>) -> Decision<'m> {
        let mut captures = Captures::new();
        let connect = r.method == Method::CONNECT.as_str();
        let escaped = escaped_path(r.url);
        let (host, path, found) = if connect {
            match self.find_connect(r, &escaped, &mut captures) {
                Ok(found) => (&*r.url.host, Cow::Borrowed(&*escaped), found),
                Err(redirect) => return redirect,
            }
        } else {
            match self.find_cleaned(r, &escaped, &mut captures) {
                Ok(Cleaned { host, path, found }) => (host, path, found),
                Err(redirect) => return redirect,
            }
        };
        let path = Subject::escaped(&path, false);
        self.decided(host, &path, found, &captures, values)
    }

    /// The common case, decided with less work, or `None` to leave it to
    /// the general way. The URL has no `raw_path`, so its decoded path is
    /// walked as it is (see `segments`), and the host matters only if
    /// some pattern has one. What the general way does first, clean the
    /// path and maybe redirect, rides on the walk instead: only an exact
    /// match is taken (`exact_match`: no slash redirect then), an exact
    /// match has passed every segment of the path (a multi that matches
    /// exactly takes only a final slash), and the short way's walk takes
    /// no segment that cleaning removes; so the path is clean. No match,
    /// or a match that is not exact: the general way decides (and walks
    /// again).
    #[inline]
    fn find_plain(&self, r: &Asked<'_>, path: &Subject<'_>, captures: &mut Captures) -> Option<RouteIndex> {
        if path.path().first() != Some(&b'/') {
            return None;
        }
        let host = if self.tree.has_hosts() {
            strip_host_port(r.host)
        } else {
            ""
        };
        let route = self.tree.find(host, r.method, path, captures)?;
        let exact = exact_match(&self.entries[route].pattern, path.path(), false);
        exact.then_some(route)
    }

    /// CONNECT: the path is neither cleaned nor the port stripped; the
    /// slash redirect is decided on the URL's host, the match on `r.Host`.
    /// `Err` is the redirect, with the new path as its pattern (Go's
    /// `u.Path`).
    fn find_connect<'m>(
        &'m self,
        r: &Asked<'_>,
        escaped: &[u8],
        captures: &mut Captures,
    ) -> Result<Option<RouteIndex>, Decision<'m>> {
        let path = Subject::escaped(escaped, false);
        if self.slash_redirect(&r.url.host, r.method, &path, None).is_some() {
            let mut new_path = escaped.to_vec();
            new_path.push(b'/');
            let mut unescaped = Vec::new();
            unescape_into(&new_path, &mut unescaped);
            let to = location(escaped, true, &r.url.raw_query);
            let pattern = String::from_utf8_lossy(&unescaped).into_owned();
            return Err((PatternRoute::Redirect(to), Cow::Owned(pattern)));
        }
        Ok(self.tree.find(r.host, r.method, &path, captures))
    }

    /// Any other method: the port stripped, the path cleaned, then the
    /// slash redirect and the clean-path redirect (`Err`), else the host,
    /// the path matched and what it matched.
    fn find_cleaned<'m, 'p>(
        &'m self,
        r: &Asked<'p>,
        escaped: &'p [u8],
        captures: &mut Captures,
    ) -> Result<Cleaned<'p>, Decision<'m>> {
        let host = strip_host_port(r.host);
        let path = clean_path(escaped);
        let subject = Subject::escaped(&path, false);
        let found = self.tree.find(host, r.method, &subject, captures);
        if let Some(to) = self.slash_redirect(host, r.method, &subject, Some(found)) {
            let location = location(&path, true, &r.url.raw_query);
            return Err((PatternRoute::Redirect(location), self.pattern_str(to)));
        }
        if *path != *escaped {
            let pattern = found.map_or(Cow::Borrowed(""), |i| self.pattern_str(i));
            let location = location(&path, false, &r.url.raw_query);
            return Err((PatternRoute::Redirect(location), pattern));
        }
        Ok(Cleaned { host, path, found })
    }

    /// The end of `findHandler` once no redirect applies: the handler
    /// with its path values stored, else 405 or 404.
    fn decided<'m>(
        &'m self,
        host: &str,
        path: &Subject<'_>,
        found: Option<RouteIndex>,
        captures: &Captures,
        values: Option<&mut PathValues>,
    ) -> Decision<'m> {
        if let Some(route) = found {
            return self.matched(route, path, captures, values);
        }
        if let Some(values) = values {
            values.clear_matches();
        }
        match self.matching_methods(host, path) {
            Some(allow) => (PatternRoute::MethodNotAllowed(allow), Cow::Borrowed("")),
            None => (PatternRoute::NotFound, Cow::Borrowed("")),
        }
    }

    /// A pattern matched: its handler and its text, its values stored.
    /// Always inlined: left to the compiler it stayed a call of its own,
    /// 12 more instructions a lookup (793 against 781, callgrind, the 130
    /// GitHub routes of `benches/go-patterns`).
    #[inline(always)]
    fn matched<'m>(
        &'m self,
        route: RouteIndex,
        path: &Subject<'_>,
        captures: &Captures,
        values: Option<&mut PathValues>,
    ) -> Decision<'m> {
        if let Some(values) = values {
            self.store_values(route, path, captures, values);
        }
        let entry = &self.entries[route];
        (
            PatternRoute::Handler(&entry.handler),
            Cow::Borrowed(entry.pattern.as_str()),
        )
    }

    /// What Go's `ServeHTTP` sets before it calls the handler: the
    /// pattern (`r.pat`) and its values (`r.matches`). A value is a range
    /// of the walked path, which `values` copies once; only one that
    /// holds a `%` in an escaped path is unescaped, on its own. Always
    /// inlined: left to the compiler it stayed a call, 25 more
    /// instructions a lookup (657 against 632, callgrind, the 130 GitHub
    /// routes).
    #[inline(always)]
    fn store_values(
        &self,
        route: RouteIndex,
        path: &Subject<'_>,
        captures: &Captures,
        values: &mut PathValues,
    ) {
        values.start_match(&self.names, route, path.path());
        // As many values as names: Go's empty-literal quirk (`tree`) can
        // capture more.
        let captures = &captures[..captures.len().min(self.names.of(route).len())];
        if !path.has_escapes() {
            // The common case: every value as it lies in the path.
            values.push_values(captures);
            return;
        }
        for &(start, end) in captures {
            let value = path.bytes(start, end);
            if value.contains(&b'%') {
                values.push_value_with(|buf| unescape_into(value, buf));
            } else {
                values.push_values(&[(start, end)]);
            }
        }
    }

    fn pattern_str(&self, route: RouteIndex) -> Cow<'_, str> {
        Cow::Borrowed(self.entries[route].pattern.as_str())
    }

    /// The trailing-slash half of Go's `matchOrRedirect`: when `path` has
    /// no exact match, does `path + "/"` match exactly? Then the pattern
    /// that will. Not for a path that already ends in `/` (from Go 1.23)
    /// or is empty (from Go 1.26: an authority-form CONNECT). `found` is
    /// what `path` itself matched, when the caller has looked already.
    fn slash_redirect(
        &self,
        host: &str,
        method: &str,
        path: &Subject<'_>,
        found: Option<Option<RouteIndex>>,
    ) -> Option<RouteIndex> {
        let bytes = path.path();
        if bytes.is_empty() || bytes.last() == Some(&b'/') {
            return None;
        }
        let mut captures = Captures::new();
        let found = found.unwrap_or_else(|| self.tree.find(host, method, path, &mut captures));
        if found.is_some_and(|i| exact_match(&self.entries[i].pattern, bytes, false)) {
            return None;
        }
        captures.clear();
        let found = self.tree.find(host, method, &path.with_slash(), &mut captures)?;
        exact_match(&self.entries[found].pattern, bytes, true).then_some(found)
    }

    /// Go: `ServeMux.matchingMethods`: the methods for which `path` (or
    /// `path + "/"`, which would redirect) matches, sorted and joined as
    /// an `Allow` value; `None` when there are none (a 404).
    fn matching_methods(&self, host: &str, path: &Subject<'_>) -> Option<String> {
        let mut methods = Vec::new();
        self.tree.matching_methods(host, path, &mut methods);
        if path.path().last() != Some(&b'/') {
            self.tree.matching_methods(host, &path.with_slash(), &mut methods);
        }
        if methods.is_empty() {
            return None;
        }
        methods.sort_unstable();
        methods.dedup();
        Some(methods.join(", "))
    }
}

impl fmt::Debug for PatternServeMux {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatternServeMux")
            .field(
                "patterns",
                &self.patterns().map(Pattern::as_str).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Go: `ServeMux.ServeHTTP`.
impl Handler for PatternServeMux {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        if r.target == "*" {
            // `OPTIONS *` is answered by the server; any other method with
            // `*` is a bad request, and Go closes the connection.
            if r.version >= Version::HTTP_11 {
                w.header().insert(CONNECTION, HeaderValue::from_static("close"));
            }
            w.write_header(StatusCode::BAD_REQUEST);
            return Box::pin(std::future::ready(()));
        }
        let (route, _pattern) = self.route(r);
        route.serve(w, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use server::handler_fn;

    fn mux(patterns: &[&str]) -> PatternServeMux {
        let mut mux = PatternServeMux::new();
        for p in patterns {
            mux.handle(p, handler_fn(|_w, _r| Box::pin(async {}))).unwrap();
        }
        mux
    }

    /// What a decision is, in a form that compares: the route, the
    /// pattern, and the values stored.
    fn seen(decision: Decision<'_>, values: &PathValues) -> String {
        let stored: Vec<String> = values
            .iter()
            .map(|(n, v)| format!("{}={}", String::from_utf8_lossy(n), String::from_utf8_lossy(v)))
            .collect();
        format!("{:?} {:?} {stored:?}", decision.0, decision.1)
    }

    /// Tables for [`the_short_way_agrees_with_gos_way`]: backtracking,
    /// multis, `{$}`, methods, hosts, escaped literals, GitHub-like routes.
    const TABLES: &[&[&str]] = &[
        &[
            "/a/b/z",
            "/a/{x}/c",
            "/a/{x}/{rest...}",
            "/a/",
            "/{$}",
            "/b/{x}/{$}",
            "/c/{x}",
        ],
        &[
            "GET /items/{id}",
            "POST /items",
            "GET /items/",
            "/files/{path...}",
            "DELETE /items/{id}",
        ],
        &[
            "example.com/",
            "example.com/x/{y}",
            "/x/{y}",
            "GET /x/{y}/z",
            "/static/",
            "/%61b/{c}",
        ],
        &[
            "/users/{user}/events",
            "/users/{user}/events/public",
            "/user/starred/{o}/{r}",
            "/user/starred",
        ],
    ];

    /// Paths for [`the_short_way_agrees_with_gos_way`]: clean and not,
    /// with and without a trailing slash, escaped, long.
    const PATHS: &[&str] = &[
        "/",
        "/a",
        "/a/",
        "/a/b",
        "/a/b/",
        "/a/b/z",
        "/a/b/c",
        "/a/b/d/e",
        "/a/b/d/",
        "/b/q/",
        "/b/q",
        "/c/1",
        "/c/1/",
        "/items",
        "/items/",
        "/items/7",
        "/items/7/",
        "/files",
        "/files/",
        "/files/a/b.txt",
        "/files/a/",
        "/x/1",
        "/x/1/z",
        "/x/1/z/",
        "/static",
        "/static/css/a.css",
        "/ab/c",
        "/%61b/c",
        "/a%2Fb/c",
        "/users/ann/events",
        "/users/ann/events/public",
        "/user/starred",
        "/user/starred/o/r",
        "/a/../b",
        "/a//b",
        "/./a",
        "/a/.",
        "/a/..",
        "//",
        "/a/b/c/../z",
        "/c/..",
        "/c/.",
        "/x/../z",
        "/items/..",
        "/files/a",
        "/static/..",
        "/users/%7Bann%7D/events",
        "/users/a%20b/events",
        "/users/caf\u{e9}/events",
        "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s",
    ];

    /// Both ways on one request: their answers, and whether the short
    /// way answered at all.
    fn both_ways(mux: &PatternServeMux, r: &Request) -> (String, String, bool) {
        let asked = Asked {
            method: r.method.as_str(),
            host: &r.host,
            url: &r.url,
        };
        let mut captures = Captures::new();
        let decoded = Subject::decoded(r.url.path.as_bytes());
        let answered = r.url.raw_path.is_empty() && mux.find_plain(&asked, &decoded, &mut captures).is_some();
        let (mut short, mut long) = (PathValues::default(), PathValues::default());
        let short = seen(mux.find_handler(&asked, Some(&mut short)), &short);
        let long = seen(mux.find_general(&asked, Some(&mut long)), &long);
        (short, long, answered)
    }

    /// The short way (`find_plain`) and Go's way (`find_general`) give
    /// the same answer, route, pattern and values, wherever the short way
    /// answers at all: paths clean and not, trailing slashes, multis
    /// exact and not, `{$}`, escapes, hosts, methods, backtracking.
    #[test]
    fn the_short_way_agrees_with_gos_way() {
        let mut short_answers = 0;
        for table in TABLES {
            let mux = mux(table);
            for &path in PATHS {
                for method in [Method::GET, Method::HEAD, Method::POST, Method::DELETE] {
                    for host in ["example.com", "example.com:8080", "other.org"] {
                        let Ok(r) = Request::new(method.clone(), path) else {
                            continue;
                        };
                        let r = r.with_header(http::header::HOST, host);
                        let (short, long, answered) = both_ways(&mux, &r);
                        assert_eq!(short, long, "{table:?} {method} {host} {path}");
                        short_answers += usize::from(answered);
                    }
                }
            }
        }
        // The short way did answer, often: the comparison is not empty.
        assert!(short_answers > 100, "{short_answers}");
    }

    /// The same on what the short way's in-place comparison must get
    /// right: literals that end where a longer or shorter segment does,
    /// long literals, a literal holding an escaped `/`, `.` segments in a
    /// pattern, a segment starting with a dot, and a node with more
    /// literals than its list holds (`children::LIST_MAX`), whose table
    /// is then asked.
    #[test]
    fn the_short_way_agrees_on_literals_compared_in_place() {
        let mut patterns: Vec<String> = [
            "/a%2Fb/{c}",
            "/ab/{c}",
            "/abcdefgh/{x}",
            "/abcdefghi/{x...}",
            "/abcdefghijklmnop/{x}/",
            "/.well-known/{x}",
            "/d/./e",
            "/d/{x}/f",
            "/s/{x}/{$}",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        patterns.extend((0..40).map(|i| format!("/many/k{i}/z")));
        patterns.push("/many/{x}/{y}".into());
        let table: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let mux = mux(&table);
        let paths = [
            "/a/b/c",
            "/a%2Fb/c",
            "/ab/c",
            "/ab",
            "/abc/c",
            "/a",
            "/abcdefgh/1",
            "/abcdefgh",
            "/abcdefg/1",
            "/abcdefghi/1/2",
            "/abcdefghi/",
            "/abcdefghij/1",
            "/abcdefghijklmnop/1/",
            "/abcdefghijklmnop/1",
            "/abcdefghijklmnopq/1/",
            "/.well-known/x",
            "/.well-known",
            "/d/./e",
            "/d/e",
            "/d/x/f",
            "/d/../f",
            "/s/1/",
            "/s/1",
            "/s//",
            "/many/k7/1",
            "/many/k39/2",
            "/many/k40/z",
            "/many/k4/z",
            "/many/k/1",
            "/many//z",
            "/many/./z",
        ];
        let mut short_answers = 0;
        for path in paths {
            let r = Request::new(Method::GET, path).unwrap();
            let (short, long, answered) = both_ways(&mux, &r);
            assert_eq!(short, long, "{path}");
            short_answers += usize::from(answered);
        }
        assert!(short_answers > 10, "{short_answers}");
    }
}
