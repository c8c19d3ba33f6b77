//! Which pool a request's connection comes from (Go: `connectMethod`, transport.go:1799 and
//! `connectMethodKey`, transport.go:1856).
//!
//! Two requests may share a connection exactly when they would open the
//! same connection and speak the same way over it: same scheme (`http` or
//! `https`), same origin `host:port`, same proxy. The key is built from the
//! request URL and the Transport's proxy setting.
//!
//! Through an HTTP proxy the two schemes differ, as in Go's
//! `connectMethod.key` (transport.go:1810): a plain `http://` request is
//! sent to the proxy whole, so one proxy connection serves any origin and
//! the key leaves the origin out; an `https://` request needs a `CONNECT`
//! tunnel to one origin, with TLS to that origin inside, so its key names
//! both.

use crate::Error;
use http::Uri;
use std::fmt;

/// The pool key (Go: `connectMethodKey{proxy, scheme, addr}`, transport.go:1856).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectKey {
    /// `http` or `https`: the origin's scheme (Go: `targetScheme`).
    pub scheme: &'static str,
    /// `host:port` of the origin server, port always present; empty for
    /// `http` through a proxy, which any origin may share.
    pub addr: String,
    /// `host:port` of the proxy, when requests go through one.
    pub proxy: Option<String>,
}

impl ConnectKey {
    /// The key for a request to `uri`, through `proxy` when set.
    pub fn for_uri(uri: &Uri, proxy: Option<&Uri>) -> Result<ConnectKey, Error> {
        let (scheme, addr) = scheme_and_addr(uri)?;
        let proxy = match proxy {
            None => None,
            Some(proxy) => match scheme_and_addr(proxy)? {
                ("http", proxy_addr) => Some(proxy_addr),
                (other, _) => {
                    return Err(Error::InvalidUrl(format!(
                        "proxy {proxy}: only http:// proxies are supported, not {other}://"
                    )))
                }
            },
        };
        let addr = if proxy.is_some() && scheme == "http" {
            String::new()
        } else {
            addr
        };
        Ok(ConnectKey { scheme, addr, proxy })
    }

    /// Where the first connection goes: the proxy when set, else the
    /// origin (Go: `connectMethod.addr`, transport.go:1836).
    pub fn dial_addr(&self) -> &str {
        self.proxy.as_deref().unwrap_or(&self.addr)
    }

    /// Whether the connection speaks TLS to the origin.
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// Whether the connection is a `CONNECT` tunnel through the proxy.
    pub fn is_tunnel(&self) -> bool {
        self.proxy.is_some() && self.is_https()
    }

    /// The name the origin's certificate must carry, sent as SNI: the host
    /// without its port or an IPv6 address's brackets (Go:
    /// `connectMethod.tlsHost`, transport.go:1845).
    pub fn tls_host(&self) -> &str {
        let host = match self.addr.rfind(':') {
            Some(colon) => &self.addr[..colon],
            None => &self.addr,
        };
        host.trim_start_matches('[').trim_end_matches(']')
    }
}

impl fmt::Display for ConnectKey {
    /// Go's form (`connectMethodKey.String`, transport.go:1861):
    /// `https|example.com:443`, `http://127.0.0.1:3128|https|example.com:443`
    /// for a tunnel, `http://127.0.0.1:3128|http|` for plain requests
    /// through a proxy (Go also starts the first with an empty proxy
    /// field, `|https|...`; we leave that bar out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(proxy) = &self.proxy {
            write!(f, "http://{proxy}|")?;
        }
        write!(f, "{}|{}", self.scheme, self.addr)
    }
}

/// The scheme and `host:port` of an absolute URI, with the scheme's
/// default port filled in (Go: `canonicalAddr`, transport.go:2729).
fn scheme_and_addr(uri: &Uri) -> Result<(&'static str, String), Error> {
    let (scheme, default_port) = match uri.scheme_str() {
        Some("http") => ("http", 80),
        Some("https") => ("https", 443),
        Some(other) => return Err(Error::UnsupportedScheme(other.to_owned())),
        None => {
            return Err(Error::InvalidUrl(format!(
                "{uri}: missing scheme (want http://host/... or https://host/...)"
            )))
        }
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::InvalidUrl(format!("{uri}: no host")))?;
    let port = uri.port_u16().unwrap_or(default_port);
    Ok((scheme, format!("{host}:{port}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(url: &str, proxy: Option<&str>) -> ConnectKey {
        let proxy: Option<Uri> = proxy.map(|p| p.parse().unwrap());
        ConnectKey::for_uri(&url.parse().unwrap(), proxy.as_ref()).unwrap()
    }

    #[test]
    fn default_ports_and_schemes_make_distinct_keys() {
        let plain = key("http://example.com/x", None);
        assert_eq!(plain.to_string(), "http|example.com:80");
        let tls = key("https://example.com/x", None);
        assert_eq!(tls.to_string(), "https|example.com:443");
        assert_eq!(tls.tls_host(), "example.com");
        assert_ne!(plain, key("http://example.com:443/", None));
        assert_ne!(tls, key("http://example.com:443/", None));
        assert_eq!(key("https://[::1]:8443/", None).tls_host(), "::1");
    }

    #[test]
    fn through_a_proxy_plain_requests_share_and_tunnels_do_not() {
        let proxy = Some("http://127.0.0.1:3128");
        let a = key("http://a.example/", proxy);
        let b = key("http://b.example:8080/", proxy);
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "http://127.0.0.1:3128|http|");
        assert_eq!(a.dial_addr(), "127.0.0.1:3128");
        let tunnel = key("https://a.example/", proxy);
        assert!(tunnel.is_tunnel());
        assert_eq!(tunnel.to_string(), "http://127.0.0.1:3128|https|a.example:443");
        assert_ne!(tunnel, key("https://b.example/", proxy));
        assert_ne!(tunnel, key("https://a.example/", None));
    }

    #[test]
    fn other_schemes_are_refused_by_name() {
        let err = ConnectKey::for_uri(&"ftp://example.com/".parse().unwrap(), None).unwrap_err();
        assert_eq!(err.to_string(), "unsupported protocol scheme \"ftp\"");
    }
}
