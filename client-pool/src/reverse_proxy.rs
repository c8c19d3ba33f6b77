//! ReverseProxy: a handler that forwards each request to one upstream
//! through our [`Transport`] and streams the answer back
//! (Go: `net/http/httputil.ReverseProxy`, httputil/reverseproxy.go:43,
//! `NewSingleHostReverseProxy`).
//!
//! The life of a proxied request, as in Go's `ReverseProxy.ServeHTTP`:
//!
//! 1. Build the outgoing request: the upstream's scheme and authority, the
//!    upstream's base path joined with the incoming path, both queries
//!    (Go: `NewSingleHostReverseProxy`'s director, httputil/reverseproxy.go:144;
//!    `singleJoiningSlash`, :104).
//! 2. Copy the headers, minus the hop-by-hop ones, which describe one
//!    connection and not the message: `Connection` and every header it
//!    names, `Keep-Alive`, `Proxy-Connection`, `Proxy-Authenticate`,
//!    `Proxy-Authorization`, `TE`, `Trailer`, `Transfer-Encoding`,
//!    `Upgrade` (Go: `hopHeaders`, httputil/reverseproxy.go:176, `removeConnectionHeaders`).
//!    `TE: trailers` survives, as in Go. Append the client's address to
//!    `X-Forwarded-For`. Set `Host` to the upstream's, unless
//!    [`ReverseProxy::preserve_host`] is on.
//! 3. Send it through the Transport, streaming the request body to the
//!    upstream while the client is still sending it.
//! 4. Failure before a response head -> `502 Bad Gateway` with a short
//!    body (Go: `defaultErrorHandler`, httputil/reverseproxy.go:188).
//! 5. Strip the hop-by-hop headers of the response, copy the rest, write
//!    the status, and copy the body piece by piece. A body of unknown
//!    length (chunked upstream) or an event stream is flushed after every
//!    piece, so the client sees each piece when the upstream sends it
//!    (Go: `flushInterval` returning -1, httputil/reverseproxy.go:425); a body of known length
//!    goes out through the writer's buffer, flushed at most
//!    [`ReverseProxy::flush_interval`] after a piece came, when set
//!    (Go: `FlushInterval`, httputil/reverseproxy.go:66, `maxLatencyWriter`).
//! 6. If the client goes away (a write to it fails, or the connection
//!    shows end-of-file once its body is in: `Request::client_gone`, Go's
//!    cancelled request context), the upstream request or response is
//!    dropped, which closes that upstream connection instead of waiting
//!    for or reading the rest: the upstream request is cancelled.
//!
//! The client's body keeps streaming to the upstream while the response
//! comes back (the Transport writes it beside the response, as Go's
//! `writeLoop` does), so an upstream that answers as it reads works.
//!
//! Not done: protocol upgrades (WebSocket; Go's `handleUpgradeResponse`)
//! are refused with 502, and response trailers are not forwarded (our
//! `ResponseWriter` has no trailers).

use crate::{BodySender, RequestBody, ResponseBody, Transport, TransportConfig};
use http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, TE};
use http::{HeaderMap, StatusCode, Uri};
use server::{Body, BoxFuture, Handler, Request, ResponseWriter};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// The hop-by-hop headers (Go: `hopHeaders`, httputil/reverseproxy.go:176): they
/// are about one connection, so a proxy must not pass them on.
pub const HOP_HEADERS: [&str; 9] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes the hop-by-hop headers from `headers`: the fixed list and every
/// header named in `Connection` (Go: `removeConnectionHeaders`, httputil/reverseproxy.go:413,
/// then the `hopHeaders` loop).
///
/// ```
/// use client_pool::reverse_proxy::remove_hop_headers;
/// let mut h = http::HeaderMap::new();
/// h.insert("connection", "close, x-private".parse().unwrap());
/// h.insert("x-private", "1".parse().unwrap());
/// h.insert("keep-alive", "timeout=5".parse().unwrap());
/// h.insert("x-kept", "yes".parse().unwrap());
/// remove_hop_headers(&mut h);
/// assert_eq!(h.len(), 1);
/// assert!(h.contains_key("x-kept"));
/// ```
pub fn remove_hop_headers(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&b| b == b','))
        .filter_map(|token| HeaderName::from_bytes(token.trim_ascii()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_HEADERS {
        headers.remove(name);
    }
}

/// Appends the client's IP to `X-Forwarded-For`, folding earlier values
/// into one field (Go: the `X-Forwarded-For` block of `ServeHTTP`, httputil/reverseproxy.go:301).
///
/// ```
/// use client_pool::reverse_proxy::append_forwarded_for;
/// let mut h = http::HeaderMap::new();
/// h.append("x-forwarded-for", "10.0.0.1".parse().unwrap());
/// h.append("x-forwarded-for", "10.0.0.2".parse().unwrap());
/// append_forwarded_for(&mut h, "127.0.0.1:5000".parse().unwrap());
/// assert_eq!(h["x-forwarded-for"], "10.0.0.1, 10.0.0.2, 127.0.0.1");
/// ```
pub fn append_forwarded_for(headers: &mut HeaderMap, client: SocketAddr) {
    const XFF: &str = "x-forwarded-for";
    let mut value = String::new();
    for prior in headers.get_all(XFF) {
        if let Ok(prior) = prior.to_str() {
            value.push_str(prior);
            value.push_str(", ");
        }
    }
    value.push_str(&client.ip().to_string());
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(XFF, value);
    }
}

/// The outgoing request-target: the upstream's base path joined with the
/// incoming path by exactly one slash, and both queries, upstream's first
/// (Go: `NewSingleHostReverseProxy`, httputil/reverseproxy.go:144, `singleJoiningSlash`). The
/// incoming path is used as the client escaped it.
///
/// ```
/// use client_pool::reverse_proxy::join_target;
/// let base: http::Uri = "http://10.0.0.1:8080/api/?v=2".parse().unwrap();
/// assert_eq!(join_target(&base, "/users?id=7"), "/api/users?v=2&id=7");
/// let root: http::Uri = "http://10.0.0.1:8080".parse().unwrap();
/// assert_eq!(join_target(&root, "/a%2Fb?x"), "/a%2Fb?x");
/// // An absolute-form target (a client that thinks we are a forward proxy):
/// assert_eq!(join_target(&root, "http://elsewhere:81/p?q=1"), "/p?q=1");
/// assert_eq!(join_target(&root, "http://elsewhere"), "/");
/// ```
pub fn join_target(upstream: &Uri, incoming: &str) -> String {
    // An absolute-form target (`GET http://host/p`) keeps only its path.
    let incoming = match incoming.find("://") {
        Some(scheme_end) if !incoming.starts_with('/') => {
            let rest = &incoming[scheme_end + 3..];
            rest.find(['/', '?']).map_or("/", |i| &rest[i..])
        }
        _ => incoming,
    };
    let (in_path, in_query) = incoming
        .split_once('?')
        .map_or((incoming, None), |(p, q)| (p, Some(q)));
    let base_path = upstream.path();
    let mut target = match (base_path.ends_with('/'), in_path.starts_with('/')) {
        (true, true) => format!("{base_path}{}", &in_path[1..]),
        (false, false) => format!("{base_path}/{in_path}"),
        _ => format!("{base_path}{in_path}"),
    };
    let queries: Vec<&str> = [upstream.query(), in_query]
        .into_iter()
        .flatten()
        .filter(|q| !q.is_empty())
        .collect();
    if !queries.is_empty() {
        target.push('?');
        target.push_str(&queries.join("&"));
    }
    target
}

/// The outgoing head: the incoming headers minus hop-by-hop ones, with
/// `TE: trailers` kept if the client sent it, `X-Forwarded-For` appended
/// and `Host` set (to `host`, the upstream's or the client's). A client
/// with no IP address (one on a Unix socket) adds no `X-Forwarded-For`, as
/// in Go, whose `SplitHostPort(req.RemoteAddr)` fails for it
/// (httputil/reverseproxy.go:291).
pub fn outgoing_headers(incoming: &HeaderMap, client: Option<SocketAddr>, host: &str) -> HeaderMap {
    let mut headers = incoming.clone();
    remove_hop_headers(&mut headers);
    let wants_trailers = incoming.get_all(TE).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"trailers"))
    });
    if wants_trailers {
        headers.insert(TE, HeaderValue::from_static("trailers"));
    }
    if let Some(client) = client {
        append_forwarded_for(&mut headers, client);
    }
    if let Ok(host) = HeaderValue::from_str(host) {
        headers.insert(HOST, host);
    }
    headers
}

/// True when the response should reach the client piece by piece as it
/// comes: an event stream, or a body of unknown length (Go:
/// `ReverseProxy.flushInterval` returning -1, httputil/reverseproxy.go:431).
pub fn flush_each_piece(response_headers: &HeaderMap, length_known: bool) -> bool {
    let event_stream = response_headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|base| base.trim().eq_ignore_ascii_case("text/event-stream"));
    event_stream || !length_known
}

/// Forwards every request to one upstream (Go: `httputil.ReverseProxy`, httputil/reverseproxy.go:43
/// made by `NewSingleHostReverseProxy`, with Host rewritten).
///
/// ```no_run
/// use client_pool::reverse_proxy::ReverseProxy;
/// # async fn demo() {
/// let proxy = ReverseProxy::new("http://127.0.0.1:13109".parse().unwrap());
/// let config = server::Config { addr: "127.0.0.1:8283".into(), ..server::Config::default() };
/// let _ = server::Server::new(config, proxy).listen_and_serve().await;
/// # }
/// ```
#[derive(Debug)]
pub struct ReverseProxy {
    upstream: Uri,
    transport: Transport,
    preserve_host: bool,
    flush_interval: Option<Duration>,
}

impl ReverseProxy {
    /// A proxy to `upstream` (`http://host:port[/base][?query]`), with a
    /// Transport of its own (see [`ReverseProxy::default_transport`]).
    pub fn new(upstream: Uri) -> ReverseProxy {
        ReverseProxy::with_transport(upstream, ReverseProxy::default_transport())
    }

    /// A proxy to `upstream` sending through `transport` (Go: the
    /// `Transport` field, httputil/reverseproxy.go:54), shared with others if it is a clone.
    pub fn with_transport(upstream: Uri, transport: Transport) -> ReverseProxy {
        ReverseProxy {
            upstream,
            transport,
            preserve_host: false,
            flush_interval: None,
        }
    }

    /// The Transport a proxy gets by default: Go's defaults, except that
    /// the one host it talks to may keep as many idle connections as the
    /// whole pool (100; Go's 2 per host would close and redial under any
    /// concurrency), and no `User-Agent` is added to requests that have
    /// none (Go's director does the same).
    pub fn default_transport() -> Transport {
        Transport::new(TransportConfig {
            max_idle_conns_per_host: TransportConfig::default().max_idle_conns,
            user_agent: None,
            ..TransportConfig::default()
        })
    }

    /// Keep the client's `Host` instead of the upstream's (what Go's
    /// `NewSingleHostReverseProxy` does by default).
    pub fn preserve_host(mut self, preserve: bool) -> ReverseProxy {
        self.preserve_host = preserve;
        self
    }

    /// Flush a response body of known length to the client at most this
    /// long after a piece came (Go: `FlushInterval`, httputil/reverseproxy.go:66). Without it,
    /// such a body goes out as the response writer's 2 KiB buffer fills; a body of
    /// unknown length or an event stream is flushed after every piece
    /// whatever this says.
    pub fn flush_interval(mut self, interval: Duration) -> ReverseProxy {
        self.flush_interval = Some(interval);
        self
    }

    /// The Transport requests go through (for its stats, say).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Closes the pooled idle connections to the upstream (after it
    /// restarted, say: they lead to a process that is gone).
    pub fn close_idle_connections(&self) {
        self.transport.close_idle_connections();
    }

    /// The outgoing request for `r`, and the sender that will stream the
    /// client's body into it (None when there is no body).
    fn outgoing(&self, r: &Request) -> Result<(crate::Request, Option<BodySender>), String> {
        let authority = self
            .upstream
            .authority()
            .ok_or_else(|| format!("upstream {} has no host", self.upstream))?;
        let scheme = self.upstream.scheme_str().unwrap_or("http");
        let target = join_target(&self.upstream, &r.target);
        let host = if self.preserve_host && !r.host.is_empty() {
            r.host.as_str()
        } else {
            authority.as_str()
        };
        let mut headers = outgoing_headers(&r.headers, r.remote_addr.tcp(), host);
        // The Transport frames the body itself, from the body's length.
        headers.remove(CONTENT_LENGTH);
        let (sender, body) = if r.body.is_finished() {
            (None, RequestBody::empty())
        } else {
            // Go: a body with a known ContentLength keeps it; else chunked.
            let length = r
                .headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.trim().parse().ok());
            let (sender, body) = RequestBody::channel(length);
            (Some(sender), body)
        };
        let mut request = http::Request::builder()
            .method(r.method.clone())
            .uri(format!("{scheme}://{authority}{target}"))
            .body(body)
            .map_err(|e| format!("building the upstream request: {e}"))?;
        *request.headers_mut() = headers;
        Ok((request, sender))
    }

    /// Go: `ReverseProxy.ServeHTTP`, httputil/reverseproxy.go:214.
    async fn forward(&self, w: &mut ResponseWriter, r: &mut Request) {
        let (request, sender) = match self.outgoing(r) {
            Ok(built) => built,
            Err(e) => return bad_gateway(w, &e).await,
        };
        // Send the request while the client's body streams into it, and
        // once the body is in, watch for the client going away (Go: the
        // request's context, cancelled by the server's background read).
        // The watch keeps pumping after the upstream has answered: an
        // upstream may answer while still reading (a streaming echo).
        let watch = pump_then_watch(&mut r.body, sender);
        tokio::pin!(watch);
        let response = tokio::select! {
            response = self.transport.round_trip(request) => response,
            () = &mut watch => {
                // Dropping the round trip closes its upstream connection:
                // the upstream request is cancelled.
                tracing::debug!("http: proxy: client went away before the upstream answered; upstream request cancelled");
                return bad_gateway_quiet(w).await;
            }
        };
        let response = match response {
            Ok(response) => response,
            Err(e) => return bad_gateway(w, &e.to_string()).await,
        };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            return bad_gateway(w, "protocol upgrades are not proxied").await;
        }
        let (parts, mut body) = response.into_parts();
        let mut headers = parts.headers;
        remove_hop_headers(&mut headers);
        // Go: `ReverseProxy.flushInterval`, httputil/reverseproxy.go:425.
        let latency = if flush_each_piece(&headers, headers.contains_key(CONTENT_LENGTH)) {
            Some(Duration::ZERO)
        } else {
            self.flush_interval
        };
        let out = w.header();
        for (name, value) in &headers {
            out.append(name, value.clone());
        }
        w.write_header(parts.status);
        let copied = tokio::select! {
            copied = copy_response(w, &mut body, latency) => copied,
            () = &mut watch => Err(CopyError::ClientGone),
        };
        match copied {
            Ok(()) => {}
            // Returning drops `body`, which closes the upstream connection
            // instead of reading the rest: the upstream request is cancelled.
            Err(CopyError::ClientGone) => {
                tracing::debug!("http: proxy: client went away; upstream request cancelled");
            }
            Err(CopyError::Upstream(e)) => {
                // The head is out; all we can do is cut the client's
                // connection so it does not take a truncated body for a
                // whole one (Go: `panic(http.ErrAbortHandler)`, httputil/reverseproxy.go:363).
                // The server catches this unwind and closes the connection.
                tracing::warn!("http: proxy error: reading the upstream body: {e}");
                std::panic::resume_unwind(Box::new("net/http: abort Handler"));
            }
        }
    }
}

/// Why copying a response body stopped early.
enum CopyError {
    /// A write to the client failed.
    ClientGone,
    /// Reading the upstream's body failed.
    Upstream(crate::Error),
}

/// Copies the upstream's body to the client (Go: `copyResponse`, httputil/reverseproxy.go:442,
/// with a `maxLatencyWriter`). `latency` is Go's flush interval: `None` never
/// flushes (the writer sends whatever passes its 2 KiB buffer), zero
/// flushes after every piece, and a duration flushes what is held back at
/// most that long after it was written, the head included.
async fn copy_response(
    w: &mut ResponseWriter,
    body: &mut ResponseBody,
    latency: Option<Duration>,
) -> Result<(), CopyError> {
    let periodic = latency.filter(|l| !l.is_zero());
    // Like Go, start with a flush pending, so the head goes out even if
    // the body is slow to come.
    let mut flush_at = periodic.map(|l| Instant::now() + l);
    loop {
        let next = match flush_at {
            // Reading a piece can be abandoned safely: bytes already read
            // stay in the connection's buffer for the next call.
            Some(at) => match tokio::time::timeout_at(at, body.chunk()).await {
                Ok(next) => next,
                Err(_) => {
                    w.flush().await.map_err(|_| CopyError::ClientGone)?;
                    flush_at = None;
                    continue;
                }
            },
            None => body.chunk().await,
        };
        let Some(piece) = next.map_err(CopyError::Upstream)? else {
            return Ok(());
        };
        w.write(&piece).await.map_err(|_| CopyError::ClientGone)?;
        if latency == Some(Duration::ZERO) {
            w.flush().await.map_err(|_| CopyError::ClientGone)?;
        } else if let (Some(l), None) = (periodic, flush_at) {
            flush_at = Some(Instant::now() + l);
        }
    }
}

/// Copies the client's body into the upstream request, then waits for the
/// client to go away: resolves only when it has (Go: `<-ctx.Done()`, httputil/reverseproxy.go:241).
async fn pump_then_watch(body: &mut Body, sender: Option<BodySender>) {
    match pump_body(body, sender).await {
        Pumped::All => body.client_gone().await,
        // The aborted body fails the upstream request by itself, after the
        // upstream has seen it broken off (not a shorter, whole body).
        Pumped::ClientBroke => std::future::pending().await,
        // The upstream no longer wants it; the body is not at its end,
        // so only a failed write to the client can tell us it left.
        Pumped::UpstreamDone => std::future::pending().await,
    }
}

/// How pumping the client's body ended.
enum Pumped {
    All,
    ClientBroke,
    UpstreamDone,
}

/// Copies the client's body into the upstream request, piece by piece.
async fn pump_body(body: &mut Body, sender: Option<BodySender>) -> Pumped {
    let Some(mut sender) = sender else {
        return Pumped::All;
    };
    loop {
        match body.chunk().await {
            Ok(Some(piece)) => {
                if sender.send(piece).await.is_err() {
                    return Pumped::UpstreamDone;
                }
            }
            // Dropping the sender ends the body.
            Ok(None) => return Pumped::All,
            Err(e) => {
                // The client's body broke off: the upstream must not take
                // what came so far for the whole body.
                sender.abort(format!("client body: {e}")).await;
                return Pumped::ClientBroke;
            }
        }
    }
}

/// Answers 502 to a client that has gone (Go's `defaultErrorHandler` does
/// so on `context canceled`); there is likely nobody to read it, so it is
/// not logged as a proxy error.
async fn bad_gateway_quiet(w: &mut ResponseWriter) {
    server::error(w, "502 Bad Gateway", StatusCode::BAD_GATEWAY).await;
}

/// Answers 502 with a short body (Go: `defaultErrorHandler`, httputil/reverseproxy.go:188,
/// which logs `http: proxy error: ...` and writes the status with no body).
async fn bad_gateway(w: &mut ResponseWriter, why: &str) {
    tracing::warn!("http: proxy error: {why}");
    server::error(w, "502 Bad Gateway", StatusCode::BAD_GATEWAY).await;
}

impl Handler for ReverseProxy {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        Box::pin(self.forward(w, r))
    }
}
