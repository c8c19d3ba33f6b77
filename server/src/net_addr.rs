//! The address at either end of a connection, TCP or Unix socket (Go:
//! the `net.Addr` interface, net/net.go:103, which `*net.TCPAddr` and
//! `*net.UnixAddr` implement).
//!
//! A handler sees its client's address as `Request::remote_addr`, and Go
//! gives it as a string (`Request.RemoteAddr`, request.go:286): `ip:port`
//! for TCP, and for a Unix socket the client socket's path, which is
//! almost always empty, since clients seldom bind theirs. [`NetAddr`]
//! prints as Go's string does, so logs read the same; a program that wants
//! the IP asks [`NetAddr::tcp`].
//!
//! This module is a leaf: it knows addresses, nothing of connections.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

/// Where a connection comes from or arrives (Go: `net.Addr`).
///
/// ```
/// use server::NetAddr;
/// let tcp = NetAddr::from(std::net::SocketAddr::from(([127, 0, 0, 1], 8080)));
/// assert_eq!(tcp.to_string(), "127.0.0.1:8080");
/// assert_eq!(NetAddr::unnamed_unix().to_string(), "@");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetAddr {
    /// An IP address and port.
    Tcp(SocketAddr),
    /// A Unix domain socket, by the name Go prints for it (`*net.UnixAddr`'s
    /// `Name`): a path, `@name` for Linux's abstract namespace, or `@` for
    /// a socket with no name, which is what a client's socket usually is.
    /// Shared, so that a request copies a pointer, not the path.
    Unix(Arc<str>),
}

impl NetAddr {
    /// The address of a Unix socket that has no name. Go prints it `@`:
    /// Linux reports such a peer with an empty path, whose first byte Go
    /// reads as the mark of an abstract name (syscall's `anyToSockaddr`),
    /// so that `r.RemoteAddr` is `"@"` for a `curl --unix-socket` client.
    /// Measured with Go 1.19: a handler behind `net.Listen("unix", path)`
    /// printed `remote="@"`.
    pub fn unnamed_unix() -> NetAddr {
        NetAddr::Unix(Arc::from("@"))
    }

    /// The IP address and port, for a TCP connection.
    pub fn tcp(&self) -> Option<SocketAddr> {
        match self {
            NetAddr::Tcp(addr) => Some(*addr),
            NetAddr::Unix(_) => None,
        }
    }
}

impl From<SocketAddr> for NetAddr {
    fn from(addr: SocketAddr) -> Self {
        NetAddr::Tcp(addr)
    }
}

impl From<&tokio::net::unix::SocketAddr> for NetAddr {
    /// Go's name for a Unix socket address (see [`NetAddr::Unix`]).
    fn from(addr: &tokio::net::unix::SocketAddr) -> Self {
        if let Some(path) = addr.as_pathname() {
            return NetAddr::Unix(Arc::from(path.to_string_lossy()));
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(name) = addr.as_abstract_name() {
            return NetAddr::Unix(Arc::from(format!("@{}", String::from_utf8_lossy(name))));
        }
        NetAddr::unnamed_unix()
    }
}

impl fmt::Display for NetAddr {
    /// As Go's `Addr.String()`: `127.0.0.1:8080`, `[::1]:8080`, a path, `@`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetAddr::Tcp(addr) => addr.fmt(f),
            NetAddr::Unix(name) => f.write_str(name),
        }
    }
}
