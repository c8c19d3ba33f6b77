//! The listening socket of a graceful server: bound here at the first
//! start, inherited at every restart, and lent to the accept loop in a
//! wrapper that says when the loop first asks for a connection, which is
//! the moment a new process may call itself ready.
//!
//! The socket is TCP, or a Unix socket when the address is written
//! `unix:PATH` (Go: `net.Listen("unix", path)`; the iris Supervisor the
//! course reads serves on both). Either is handed to a new process the
//! same way, as descriptor 3.

use crate::error::Error;
use crate::inherit::ListenSocket;
use server::net_conn::NetConn;
use server::{Config, Listener, NetAddr};
use std::io;
use std::net::ToSocketAddrs;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::oneshot;

/// The prefix that makes an address a Unix socket's path.
pub(crate) const UNIX_PREFIX: &str = "unix:";

/// Binds `config.addr` with `server::bind_listener` (Go's `net.Listen`,
/// net/dial.go:709, which every Go restarter calls at a first start:
/// SO_REUSEADDR, so that a restart of the whole service need not wait for
/// TIME_WAIT). The connection options are set on the listening socket, so
/// accepted connections inherit them, in this process and in the ones that
/// inherit the socket after a restart.
pub(crate) fn bind(config: &Config) -> Result<ListenSocket, Error> {
    let addr = config.addr.as_str();
    let listen_error = |source| Error::Listen {
        addr: addr.to_owned(),
        source,
    };
    if let Some(path) = addr.strip_prefix(UNIX_PREFIX) {
        return server::bind_unix_listener(Path::new(path))
            .map(ListenSocket::Unix)
            .map_err(listen_error);
    }
    let mut last_error = io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on");
    for candidate in addr.to_socket_addrs().map_err(listen_error)? {
        match server::bind_listener(candidate, config) {
            Ok(listener) => return Ok(ListenSocket::Tcp(listener)),
            Err(e) => last_error = e,
        }
    }
    Err(listen_error(last_error))
}

/// The listening socket registered with tokio.
pub(crate) enum AsyncListener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl AsyncListener {
    /// Registers a bound or inherited socket with tokio.
    pub fn new(socket: ListenSocket) -> io::Result<AsyncListener> {
        match socket {
            ListenSocket::Tcp(tcp) => TcpListener::from_std(tcp).map(AsyncListener::Tcp),
            ListenSocket::Unix(unix) => UnixListener::from_std(unix).map(AsyncListener::Unix),
        }
    }

    /// The descriptor a restart hands to the new process.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            AsyncListener::Tcp(tcp) => tcp.as_fd(),
            AsyncListener::Unix(unix) => unix.as_fd(),
        }
    }

    pub fn local_addr(&self) -> io::Result<NetAddr> {
        match self {
            AsyncListener::Tcp(tcp) => tcp.local_addr().map(NetAddr::Tcp),
            AsyncListener::Unix(unix) => unix.local_addr().map(|addr| NetAddr::from(&addr)),
        }
    }

    /// The path of a Unix socket, whose file outlives the socket.
    pub fn unix_path(&self) -> Option<std::path::PathBuf> {
        match self {
            AsyncListener::Tcp(_) => None,
            AsyncListener::Unix(unix) => unix.local_addr().ok()?.as_pathname().map(Path::to_path_buf),
        }
    }
}

/// The listener as the accept loop sees it: it says when the loop first
/// asks for a connection, which is when we are "accepting" and may tell
/// our parent so. Shared (`Arc`) so that the supervisor can lend the
/// descriptor to a restart while the loop uses it.
pub(crate) struct ReadyListener {
    pub inner: Arc<AsyncListener>,
    pub first_accept: Option<oneshot::Sender<()>>,
}

impl Listener for ReadyListener {
    async fn accept(&mut self) -> io::Result<(NetConn, NetAddr)> {
        if let Some(accepting) = self.first_accept.take() {
            let _ = accepting.send(());
        }
        match &*self.inner {
            AsyncListener::Tcp(tcp) => {
                let (stream, peer) = tcp.accept().await?;
                Ok((NetConn::Tcp(stream), NetAddr::Tcp(peer)))
            }
            AsyncListener::Unix(unix) => {
                let (stream, peer) = unix.accept().await?;
                Ok((NetConn::Unix(stream), NetAddr::from(&peer)))
            }
        }
    }

    fn local_addr(&self) -> io::Result<NetAddr> {
        self.inner.local_addr()
    }

    fn tcp_listener(&self) -> Option<&TcpListener> {
        match &*self.inner {
            AsyncListener::Tcp(tcp) => Some(tcp),
            AsyncListener::Unix(_) => None,
        }
    }
}
