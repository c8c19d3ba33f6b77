//! The listening socket of a graceful server: bound here at the first
//! start, inherited at every restart, and lent to the accept loop in a
//! wrapper that says when the loop first asks for a connection, which is
//! the moment a new process may call itself ready.

use server::net_conn::NetConn;
use server::{Config, Listener, NetAddr};
use std::future::Future;
use std::io;
use std::net::ToSocketAddrs;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::error::Error;

/// Binds `config.addr` with `server::bind_listener` (Go's `net.Listen`,
/// net/dial.go:709, which every Go restarter calls at a first start:
/// SO_REUSEADDR, so that a restart of the whole service need not wait for
/// TIME_WAIT). The connection options are set on the listening socket, so
/// accepted connections inherit them, in this process and in the ones that
/// inherit the socket after a restart.
pub(crate) fn bind(config: &Config) -> Result<std::net::TcpListener, Error> {
    let addr = config.addr.as_str();
    let listen_error = |source| Error::Listen {
        addr: addr.to_owned(),
        source,
    };
    let mut last_error = io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on");
    for candidate in addr.to_socket_addrs().map_err(listen_error)? {
        match server::bind_listener(candidate, config) {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = e,
        }
    }
    Err(listen_error(last_error))
}

/// The listener as the accept loop sees it: it says when the loop first
/// asks for a connection, which is when we are "accepting" and may tell
/// our parent so. Shared (`Arc`) so that the supervisor can lend the
/// descriptor to a restart while the loop uses it.
pub(crate) struct ReadyListener {
    pub inner: Arc<TcpListener>,
    pub first_accept: Option<oneshot::Sender<()>>,
}

impl Listener for ReadyListener {
    fn accept(&mut self) -> impl Future<Output = io::Result<(NetConn, NetAddr)>> + Send {
        if let Some(accepting) = self.first_accept.take() {
            let _ = accepting.send(());
        }
        let inner = &self.inner;
        async move {
            let (stream, peer) = inner.accept().await?;
            Ok((NetConn::Tcp(stream), NetAddr::Tcp(peer)))
        }
    }

    fn local_addr(&self) -> io::Result<NetAddr> {
        self.inner.local_addr().map(NetAddr::Tcp)
    }

    fn tcp_listener(&self) -> Option<&TcpListener> {
        Some(&self.inner)
    }
}
