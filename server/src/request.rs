//! The request a handler reads: method, target, URL, headers, and a body
//! that streams from the connection (Go: `http.Request`, request.go:103).

use crate::body::Body;
use crate::net_addr::NetAddr;
use crate::path_values::PathValues;
use crate::tls::TlsInfo;
use crate::url::{parse_request_target, Url, UrlError};
use http::{HeaderMap, HeaderValue, Method, Version};
use std::net::{Ipv4Addr, SocketAddr};

/// An HTTP request as a handler sees it (Go: `http.Request`, request.go:103).
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    /// The request-target exactly as the client sent it (Go: `RequestURI`, request.go:292).
    pub target: String,
    /// The target parsed as a URL (Go: `URL`, request.go:124); `url.path` is decoded.
    pub url: Url,
    pub version: Version,
    pub headers: HeaderMap,
    /// The host the request is for: the authority of an absolute-form
    /// target, else the Host header (Go: `Host`, request.go:239).
    pub host: String,
    /// The peer's address (Go: `RemoteAddr`, request.go:286): `ip:port`
    /// over TCP, and for a Unix socket its name, `@` when it has none.
    pub remote_addr: NetAddr,
    /// The body, read on demand.
    pub body: Body,
    /// What the matched pattern's wildcards hold, set by a mux (Go:
    /// `matches`); read with [`Request::path_value`].
    pub path_values: PathValues,
    /// The connection's TLS session, as it was after the handshake; the
    /// same for every request of the connection, set once when it starts
    /// (Go: `conn.tlsState`, server.go:1890). Boxed: a plain connection
    /// carries only the empty pointer.
    pub(crate) tls: Option<Box<TlsInfo>>,
}

impl Request {
    /// Builds a request in memory, for tests and for calling a handler
    /// directly (Go: `httptest.NewRequest`, httptest/httptest.go:40). The Host header, if given in
    /// `headers`, sets `host`.
    ///
    /// ```
    /// use server::Request;
    /// let r = Request::new(http::Method::GET, "/a%20b?x=1").unwrap();
    /// assert_eq!(r.url.path, "/a b");
    /// assert_eq!(r.url.raw_query, "x=1");
    /// ```
    pub fn new(method: Method, target: &str) -> Result<Request, UrlError> {
        let url = parse_request_target(&method, target)?;
        Ok(Request {
            host: url.host.clone(),
            method,
            target: target.to_owned(),
            url,
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            remote_addr: NetAddr::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
            body: Body::empty(),
            path_values: PathValues::default(),
            tls: None,
        })
    }

    /// An empty request, for a connection to fill in place (see `recycle.rs`).
    pub(crate) fn blank() -> Request {
        Request {
            method: Method::GET,
            target: String::new(),
            url: Url::default(),
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            host: String::new(),
            remote_addr: NetAddr::Tcp(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))),
            body: Body::empty(),
            path_values: PathValues::default(),
            tls: None,
        }
    }

    /// Sets a header, and `host` too when the header is Host (builder style, for tests).
    pub fn with_header(mut self, name: http::header::HeaderName, value: &str) -> Request {
        if name == http::header::HOST && self.url.host.is_empty() {
            self.host = value.to_owned();
        }
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(name, value);
        }
        self
    }

    /// The value of the wildcard `name` in the pattern that matched, or
    /// one set with [`Request::set_path_value`] (Go: `PathValue`). `None`
    /// where Go returns `""`: no such wildcard, or a value that is not
    /// UTF-8 (`%FF`; see [`Request::path_value_bytes`]).
    pub fn path_value(&self, name: &str) -> Option<&str> {
        std::str::from_utf8(self.path_values.get(name)?).ok()
    }

    /// [`Request::path_value`] as bytes, whatever they are.
    pub fn path_value_bytes(&self, name: &str) -> Option<&[u8]> {
        self.path_values.get(name)
    }

    /// Sets `name` so that [`Request::path_value`] returns `value`, which
    /// is not unescaped (Go: `SetPathValue`).
    pub fn set_path_value(&mut self, name: &str, value: &str) {
        self.path_values.set(name, value.as_bytes());
    }

    /// The TLS session the request came over, `None` over plain TCP or a
    /// Unix socket (Go: `r.TLS`, request.go:308, nil for plain HTTP).
    ///
    /// ```no_run
    /// # async fn handler(w: &mut server::ResponseWriter, r: &mut server::Request) {
    /// if let Some(tls) = r.tls() {
    ///     let sni = tls.server_name.as_deref().unwrap_or("(none)");
    ///     let _ = w.write(format!("{:?} to {sni}\n", tls.version).as_bytes()).await;
    /// }
    /// # }
    /// ```
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_deref()
    }

    /// Sets what [`Request::tls`] returns (builder style, for tests that
    /// call a handler directly).
    pub fn with_tls(mut self, tls: TlsInfo) -> Request {
        self.tls = Some(Box::new(tls));
        self
    }

    /// Replaces the body (builder style, for tests).
    pub fn with_body(mut self, body: Body) -> Request {
        self.body = body;
        self
    }

    /// Resolves when the client has gone away while the handler runs: the
    /// connection reached end-of-file or failed after the body was read to
    /// its end (Go: `Request.Context().Done()`, request.go:337). See [`Body::client_gone`]
    /// for what counts and what it costs.
    ///
    /// ```no_run
    /// # async fn handler(w: &mut server::ResponseWriter, r: &mut server::Request) {
    /// tokio::select! {
    ///     () = r.client_gone() => return, // nobody to answer: stop working
    ///     () = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
    /// }
    /// let _ = w.write(b"done").await;
    /// # }
    /// ```
    pub async fn client_gone(&self) {
        self.body.client_gone().await
    }

    /// True when the client asked for the connection to be closed after
    /// this request, or speaks HTTP/1.0 without asking to keep it.
    pub fn wants_close(&self) -> bool {
        crate::conn_header::connection_tokens(&self.headers).close_requested(self.version)
    }
}
