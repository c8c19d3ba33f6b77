//! The Client: convenience methods over a shared [`Transport`], a timeout
//! covering the whole exchange, and redirects (Go: `Client`, client.go:57;
//! `Client.Do`, :580; `Get`, :474; `Post`, :842; `PostForm`, :885).

use crate::redirect::{default_check_redirect, redirect_behavior, resolve, RedirectAction, RedirectAttempt};
use crate::{Error, Request, RequestBody, Response, Transport};
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION, REFERER};
use http::{Method, Uri};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// A redirect policy (Go: `Client.CheckRedirect`, client.go:77).
pub type CheckRedirect = Arc<dyn Fn(&RedirectAttempt<'_>) -> RedirectAction + Send + Sync>;

/// An HTTP client (Go: `http.Client`, client.go:57). Cheap to clone; clones share the
/// Transport and therefore its pool.
///
/// ```no_run
/// # async fn demo() -> Result<(), client_pool::Error> {
/// use client_pool::Client;
/// use std::time::Duration;
/// let client = Client::new().with_timeout(Duration::from_secs(5));
/// let mut resp = client.get("http://127.0.0.1:8080/").await?;
/// println!("{} {}", resp.status(), resp.body_mut().text().await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    timeout: Option<Duration>,
    check_redirect: Option<CheckRedirect>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .field("check_redirect", &self.check_redirect.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

/// Most bytes of a redirect response's body read so that its connection
/// can be reused (Go: `maxBodySlurpSize`, client.go:695, 2 KiB).
const MAX_BODY_SLURP: usize = 2 << 10;

impl Client {
    /// A client with its own Transport of default settings. (Go's zero
    /// `Client` shares one global `DefaultTransport`; share a Transport
    /// explicitly with [`Client::with_transport`].)
    pub fn new() -> Client {
        Client::with_transport(Transport::default())
    }

    /// A client sending through `transport`.
    pub fn with_transport(transport: Transport) -> Client {
        Client {
            transport,
            timeout: None,
            check_redirect: None,
        }
    }

    /// Limits the whole exchange, redirects and reading the body included
    /// (Go: `Client.Timeout`, client.go:105).
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = Some(timeout);
        self
    }

    /// Decides about each redirect before it is followed (Go:
    /// `CheckRedirect`, client.go:77). Without one, [`default_check_redirect`] applies.
    pub fn with_check_redirect(
        mut self,
        policy: impl Fn(&RedirectAttempt<'_>) -> RedirectAction + Send + Sync + 'static,
    ) -> Client {
        self.check_redirect = Some(Arc::new(policy));
        self
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// `GET url` (Go: `Client.Get`, client.go:474).
    pub async fn get(&self, url: &str) -> Result<Response, Error> {
        self.send(build(Method::GET, url, None, RequestBody::empty())?)
            .await
    }

    /// `HEAD url` (Go: `Client.Head`, client.go:919).
    pub async fn head(&self, url: &str) -> Result<Response, Error> {
        self.send(build(Method::HEAD, url, None, RequestBody::empty())?)
            .await
    }

    /// `POST url` with a body of the given type (Go: `Client.Post`, client.go:842).
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: impl Into<RequestBody>,
    ) -> Result<Response, Error> {
        self.send(build(Method::POST, url, Some(content_type), body.into())?)
            .await
    }

    /// `POST url` with form fields, URL-encoded and sorted by key as Go's
    /// `url.Values.Encode` does (Go: `Client.PostForm`, client.go:885).
    pub async fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Result<Response, Error> {
        let body = encode_form(fields);
        self.post(url, "application/x-www-form-urlencoded", body).await
    }

    /// Sends a request, following redirects (Go: `Client.Do`, client.go:580; `do` is a
    /// keyword in Rust).
    pub async fn send(&self, req: Request) -> Result<Response, Error> {
        match self.timeout {
            None => self.follow(req, None).await,
            Some(timeout) => {
                let deadline = Instant::now() + timeout;
                match tokio::time::timeout_at(deadline, self.follow(req, Some((deadline, timeout)))).await {
                    Ok(result) => result,
                    Err(_) => Err(Error::Timeout {
                        after: timeout,
                        while_doing: "awaiting headers",
                    }),
                }
            }
        }
    }

    /// The redirect loop of Go's `Client.do`.
    async fn follow(
        &self,
        mut req: Request,
        deadline: Option<(Instant, Duration)>,
    ) -> Result<Response, Error> {
        let mut via: Vec<Uri> = Vec::new();
        loop {
            let uri = req.uri().clone();
            let method = req.method().clone();
            let headers = req.headers().clone();
            let extensions = req.extensions().clone();
            let replay = req.body().try_clone();
            let mut response = self.transport.round_trip(req).await?;
            if let Some((at, timeout)) = deadline {
                response.body_mut().set_deadline(at, timeout);
            }
            let Some((next_method, keep_body)) = redirect_behavior(response.status(), &method) else {
                return Ok(response);
            };
            let Some(location) = response.headers().get(LOCATION).and_then(|l| l.to_str().ok()) else {
                // Go returns a 3xx without Location as it is.
                return Ok(response);
            };
            let next_uri = resolve(&uri, location)?;
            let next_body = if keep_body {
                match replay {
                    Some(body) => body,
                    // Go (client.go:521): a 307/308 whose body cannot be
                    // sent again is not followed; the caller gets the
                    // redirect itself.
                    None => return Ok(response),
                }
            } else {
                RequestBody::empty()
            };
            via.push(uri.clone());
            let attempt = RedirectAttempt {
                status: response.status(),
                method: &next_method,
                next: &next_uri,
                via: &via,
            };
            let action = match &self.check_redirect {
                Some(policy) => policy(&attempt),
                None => default_check_redirect(&attempt),
            };
            match action {
                RedirectAction::Follow => {}
                RedirectAction::UseLastResponse => return Ok(response),
                RedirectAction::Error(why) => return Err(Error::Redirect(why)),
            }
            tracing::debug!(status = %response.status(), from = %uri, to = %next_uri, "following redirect");
            response.into_body().discard(MAX_BODY_SLURP).await;

            let mut next = http::Request::new(next_body);
            *next.method_mut() = next_method;
            *next.headers_mut() = headers;
            *next.extensions_mut() = extensions;
            let next_headers = next.headers_mut();
            if !keep_body {
                next_headers.remove(CONTENT_TYPE);
                next_headers.remove(CONTENT_LENGTH);
            }
            // Go: `makeHeadersCopier` (client.go:740) drops credentials when the redirect
            // leaves the host they were meant for.
            if next_uri.host() != uri.host() {
                next_headers.remove(AUTHORIZATION);
                next_headers.remove(COOKIE);
                next_headers.remove("www-authenticate");
                next_headers.remove("cookie2");
            }
            if let Ok(referer) = HeaderValue::from_str(&uri.to_string()) {
                next_headers.insert(REFERER, referer);
            }
            *next.uri_mut() = next_uri;
            req = next;
        }
    }
}

fn build(method: Method, url: &str, content_type: Option<&str>, body: RequestBody) -> Result<Request, Error> {
    let uri: Uri = url
        .parse()
        .map_err(|e| Error::InvalidUrl(format!("{url}: {e}")))?;
    let mut req = http::Request::new(body);
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    if let Some(content_type) = content_type {
        let value = HeaderValue::from_str(content_type)
            .map_err(|_| Error::InvalidUrl(format!("bad Content-Type {content_type:?}")))?;
        req.headers_mut().insert(CONTENT_TYPE, value);
    }
    Ok(req)
}

/// `b=2&a=1` -> `a=1&b=2`, escaped as Go's `url.QueryEscape` (space as `+`).
pub fn encode_form(fields: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = fields.iter().collect();
    sorted.sort_by_key(|(key, _)| *key);
    let mut out = String::new();
    for (key, value) in sorted {
        if !out.is_empty() {
            out.push('&');
        }
        query_escape(&mut out, key);
        out.push('=');
        query_escape(&mut out, value);
    }
    out
}

fn query_escape(out: &mut String, text: &str) {
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_sorted_and_escaped_as_go_does() {
        assert_eq!(encode_form(&[("b", "x y"), ("a", "1&2=3")]), "a=1%262%3D3&b=x+y");
    }
}
