//! Which pool a request's connection comes from (Go: `connectMethod`, transport.go:1799 and
//! `connectMethodKey`).
//!
//! Two requests may share a connection exactly when they would open the
//! same TCP connection and speak the same way over it: same scheme, same
//! `host:port`, same proxy. The key is built from the request URL and the
//! Transport's proxy setting.

use crate::Error;
use http::Uri;
use std::fmt;

/// The pool key (Go: `connectMethodKey{proxy, scheme, addr}`, transport.go:1856).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectKey {
    /// `http` (the only scheme spoken here).
    pub scheme: &'static str,
    /// `host:port` of the origin server, port always present.
    pub addr: String,
    /// `host:port` of the proxy, when requests go through one.
    pub proxy: Option<String>,
}

impl ConnectKey {
    /// The key for a request to `uri`, through `proxy` when set.
    pub fn for_uri(uri: &Uri, proxy: Option<&Uri>) -> Result<ConnectKey, Error> {
        let addr = addr_of(uri)?;
        let proxy = proxy.map(addr_of).transpose()?;
        Ok(ConnectKey {
            scheme: "http",
            addr,
            proxy,
        })
    }

    /// Where the TCP connection goes: the proxy when set, else the origin.
    pub fn dial_addr(&self) -> &str {
        self.proxy.as_deref().unwrap_or(&self.addr)
    }
}

impl fmt::Display for ConnectKey {
    /// `http|127.0.0.1:8080` or `http|example.com:80|proxy=127.0.0.1:3128`,
    /// close to how Go prints a `connectMethodKey`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}", self.scheme, self.addr)?;
        if let Some(proxy) = &self.proxy {
            write!(f, "|proxy={proxy}")?;
        }
        Ok(())
    }
}

/// `host:port` of an absolute `http://` URI, with port 80 filled in
/// (Go: `canonicalAddr`, transport.go:2729).
fn addr_of(uri: &Uri) -> Result<String, Error> {
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => return Err(Error::UnsupportedScheme(other.to_owned())),
        None => {
            return Err(Error::InvalidUrl(format!(
                "{uri}: missing scheme (want http://host/...)"
            )))
        }
    }
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::InvalidUrl(format!("{uri}: no host")))?;
    let port = uri.port_u16().unwrap_or(80);
    Ok(format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_port_and_proxy_make_distinct_keys() {
        let a = ConnectKey::for_uri(&"http://example.com/x".parse().unwrap(), None).unwrap();
        assert_eq!(a.addr, "example.com:80");
        let proxy: Uri = "http://127.0.0.1:3128".parse().unwrap();
        let b = ConnectKey::for_uri(&"http://example.com:80/y".parse().unwrap(), Some(&proxy)).unwrap();
        assert_ne!(a, b);
        assert_eq!(b.dial_addr(), "127.0.0.1:3128");
        assert_eq!(b.to_string(), "http|example.com:80|proxy=127.0.0.1:3128");
    }

    #[test]
    fn https_is_refused_by_name() {
        let err = ConnectKey::for_uri(&"https://example.com/".parse().unwrap(), None).unwrap_err();
        assert!(err.to_string().contains("https"), "{err}");
    }
}
