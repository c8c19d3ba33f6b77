//! Listening sockets and the options of accepted connections: what
//! `Server::bind` and `Server::serve` need from the operating system, and
//! what gracehttp reuses to make a listener it can hand to a new process.
//!
//! Go spreads this over its `net` package: `net.Listen` (dial.go:709) sets
//! SO_REUSEADDR and the backlog, `newTCPConn` (tcpsock.go:220) sets
//! TCP_NODELAY on every connection, `TCPListener.accept`
//! (tcpsock_posix.go:141) sets TCP keep-alive, and `Errno.Temporary`
//! (syscall/syscall_unix.go:134) tells `Server.Serve` which accept errors
//! to retry. It depends on [`Config`] and on the leaves [`NetConn`] and
//! [`NetAddr`], what a listener yields.

use crate::config::Config;
use crate::net_addr::NetAddr;
use crate::net_conn::NetConn;
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use tokio::net::{TcpListener, UnixListener};

/// Something that accepts connections (Go: `net.Listener`, net/net.go:390).
/// A `TcpListener` is one, and a `UnixListener` (Go: `net.Listen("unix",
/// path)`); tests use a scripted one that fails on cue to exercise the
/// accept backoff.
pub trait Listener: Send {
    /// Waits for the next connection and returns it with its peer's
    /// address. A connection is yielded as it came: one meant for TLS is
    /// a plain [`NetConn::Tcp`], whose handshake the server runs later, in
    /// the connection's own task.
    fn accept(&mut self) -> impl Future<Output = io::Result<(NetConn, NetAddr)>> + Send;

    /// The address it listens on.
    fn local_addr(&self) -> io::Result<NetAddr>;

    /// The TCP socket that accepts, when there is one: when it already
    /// carries the connection options, accepted connections inherit them and
    /// the server need not set them one by one (see
    /// [`Server::serve`](crate::Server::serve)). A wrapper around a
    /// `TcpListener` should return it.
    fn tcp_listener(&self) -> Option<&TcpListener> {
        None
    }
}

impl Listener for TcpListener {
    async fn accept(&mut self) -> io::Result<(NetConn, NetAddr)> {
        let (stream, peer) = TcpListener::accept(self).await?;
        Ok((NetConn::Tcp(stream), NetAddr::Tcp(peer)))
    }
    fn local_addr(&self) -> io::Result<NetAddr> {
        TcpListener::local_addr(self).map(NetAddr::Tcp)
    }
    fn tcp_listener(&self) -> Option<&TcpListener> {
        Some(self)
    }
}

impl Listener for UnixListener {
    async fn accept(&mut self) -> io::Result<(NetConn, NetAddr)> {
        let (stream, peer) = UnixListener::accept(self).await?;
        Ok((NetConn::Unix(stream), NetAddr::from(&peer)))
    }
    fn local_addr(&self) -> io::Result<NetAddr> {
        UnixListener::local_addr(self).map(|addr| NetAddr::from(&addr))
    }
}

/// Makes a listening Unix socket at `path` (Go: `net.Listen("unix",
/// path)`), non-blocking, as a plain `std` listener like
/// [`bind_listener`]'s. A socket file left by a server that is gone
/// (nobody accepts on it) is removed first, as a restarted service
/// expects; one that a live server still accepts on is left alone, and the
/// bind fails with "address in use", as Go's does.
pub fn bind_unix_listener(path: &std::path::Path) -> io::Result<std::os::unix::net::UnixListener> {
    let stale = std::os::unix::net::UnixStream::connect(path)
        .is_err_and(|e| e.kind() == io::ErrorKind::ConnectionRefused);
    if stale {
        std::fs::remove_file(path)?;
    }
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Makes a listening socket on `addr` as Go's `net.Listen` does on Linux
/// (SO_REUSEADDR, so that a restarted server can bind while old
/// connections linger in TIME_WAIT; a deep backlog; non-blocking;
/// close-on-exec), with the options `config` gives connections set before
/// `listen`, so that every accepted socket inherits them. A plain `std`
/// listener, so that gracehttp can hand its descriptor to a new process;
/// [`Server::bind`](crate::Server::bind) wraps it for tokio.
pub fn bind_listener(addr: SocketAddr, config: &Config) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    set_conn_options(SockRef::from(&socket), config)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The accept queue's length (what `TcpListener::bind` asks for too).
const LISTEN_BACKLOG: i32 = 1024;

/// True when `listener` carries every option the config sets on
/// connections, so that connections accepted from it inherit them.
pub(crate) fn has_conn_options(listener: SockRef<'_>, config: &Config) -> bool {
    let nodelay_ok = !config.tcp_nodelay || listener.tcp_nodelay().unwrap_or(false);
    let keepalive_ok = config.tcp_keepalive.is_none_or(|period| {
        listener.keepalive().unwrap_or(false)
            && listener.tcp_keepalive_time().is_ok_and(|t| t == period)
            && listener.tcp_keepalive_interval().is_ok_and(|t| t == period)
    });
    nodelay_ok && keepalive_ok
}

/// Sets the socket options the config gives connections (TCP_NODELAY,
/// keep-alive) on a connection (Go: `newTCPConn`, tcpsock.go:220, and
/// `TCPListener.accept`, tcpsock_posix.go:141, on each accepted conn), or
/// on a listening socket before it listens, for every accepted socket to
/// inherit them: that is what [`Server::bind`](crate::Server::bind) does,
/// and what a program that makes its own listening socket can do too.
pub fn set_conn_options(socket: SockRef<'_>, config: &Config) -> io::Result<()> {
    if config.tcp_nodelay {
        socket.set_tcp_nodelay(true)?;
    }
    if let Some(period) = config.tcp_keepalive {
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(period)
            .with_interval(period);
        socket.set_tcp_keepalive(&keepalive)?;
    }
    Ok(())
}

/// Accept errors that say "try again later" rather than "this listener is
/// broken" (Go: `ne.Temporary()` in `Server.Serve`, server.go:3077, which
/// for a system error is `Errno.Temporary`, syscall/syscall_unix.go:134).
/// Out of descriptors or memory, or a connection that died in the backlog,
/// all pass with time.
pub fn is_temporary_accept_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::EMFILE
                | libc::ENFILE
                | libc::ENOBUFS
                | libc::ENOMEM
                | libc::ECONNABORTED
                | libc::ECONNRESET
                | libc::EINTR
                | libc::EAGAIN
                | libc::EPROTO
                | libc::EPERM
        )
    ) || matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
    )
}
