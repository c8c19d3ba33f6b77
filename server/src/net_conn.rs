//! One connection, whatever carries it: TCP, TLS over TCP, or a Unix
//! socket. Both sides use it: the server for the connections it accepts,
//! the client for the ones it dials.
//!
//! Go's answer is an interface, `net.Conn` (net/net.go:113): `*net.TCPConn`,
//! `*net.UnixConn` and `*tls.Conn` all implement it, and `conn.serve` never
//! asks which it has until it wants the TLS details. Ours is an enum,
//! [`NetConn`], whose methods take `&self`, because `net.Conn` promises the
//! same thing: one goroutine may `Read` while another `Write`s. The server
//! writes a `100 Continue` from the request body's side while the response
//! writer owns the write path; the client reads a response while its write
//! loop still sends the request body. So both hold the connection through
//! an `Arc<NetConn>` and read and write through shared references.
//!
//! A TCP or Unix socket allows that by itself (tokio's `try_read` and
//! `try_write` take `&self`). A TLS session does not: rustls keeps one
//! state for both directions (its read may have to write, a key update for
//! one), so [`NetConn::Tls`] keeps it behind a lock that is held for one
//! poll at a time and never across a wait. Go's `tls.Conn` has the same
//! need and keeps two locks, `in` and `out` (crypto/tls/conn.go:29).
//!
//! This module is a leaf: it knows sockets and TLS, nothing of HTTP.

use bytes::BytesMut;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsStream;

/// A connection the server accepted or the client dialled (Go: `net.Conn`,
/// net/net.go:113).
#[derive(Debug)]
pub enum NetConn {
    /// Plain TCP.
    Tcp(TcpStream),
    /// A Unix domain socket (Go: `*net.UnixConn`).
    Unix(UnixStream),
    /// TLS over TCP, after its handshake (Go: `*tls.Conn`). Boxed: a TLS
    /// session is over a kilobyte, which a plain connection should not
    /// carry.
    Tls(Box<TlsConn>),
}

/// A TLS session shared by a reader and a writer: rustls's one state
/// behind a lock held for a single poll (see the module's doc).
#[derive(Debug)]
pub struct TlsConn {
    session: Mutex<TlsStream<TcpStream>>,
}

impl TlsConn {
    /// Wraps a session whose handshake is done.
    pub fn new(stream: TlsStream<TcpStream>) -> Self {
        TlsConn {
            session: Mutex::new(stream),
        }
    }

    /// The session, for one poll. A poll never panics while holding it, but
    /// should one have, the session is still whole: the lock is taken back.
    pub fn lock(&self) -> MutexGuard<'_, TlsStream<TcpStream>> {
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl From<TcpStream> for NetConn {
    fn from(stream: TcpStream) -> Self {
        NetConn::Tcp(stream)
    }
}

impl From<UnixStream> for NetConn {
    fn from(stream: UnixStream) -> Self {
        NetConn::Unix(stream)
    }
}

impl From<TlsStream<TcpStream>> for NetConn {
    fn from(stream: TlsStream<TcpStream>) -> Self {
        NetConn::Tls(Box::new(TlsConn::new(stream)))
    }
}

impl NetConn {
    /// Reads what the connection has into `buf`'s spare room, waiting for
    /// at least one byte; `Ok(0)` means the peer closed its side (or `buf`
    /// has no room: callers reserve first). Go: `net.Conn.Read`.
    pub async fn read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read_buf(cx, buf)).await
    }

    /// Polls for bytes to read into `buf`'s spare room (see
    /// [`NetConn::read_buf`]).
    pub fn poll_read_buf(&self, cx: &mut Context<'_>, buf: &mut BytesMut) -> Poll<io::Result<usize>> {
        match self {
            NetConn::Tcp(_) | NetConn::Unix(_) => loop {
                ready!(self.poll_read_ready(cx))?;
                match self.try_read_buf(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    result => return Poll::Ready(result),
                }
            },
            NetConn::Tls(tls) => {
                let mut session = tls.lock();
                let spare = buf.spare_capacity_mut();
                let mut read_buf = ReadBuf::uninit(spare);
                ready!(Pin::new(&mut *session).poll_read(cx, &mut read_buf))?;
                let n = read_buf.filled().len();
                // SAFETY: `poll_read` initialised and filled the first `n`
                // bytes of the spare capacity.
                unsafe { buf.set_len(buf.len() + n) };
                Poll::Ready(Ok(n))
            }
        }
    }

    /// True when rustls reads for the connection: it keeps buffers of its
    /// own, and may hold decrypted bytes that the socket's readiness does
    /// not show, so only [`NetConn::poll_read_buf`] can tell whether there
    /// is something to read.
    pub fn is_tls(&self) -> bool {
        matches!(self, NetConn::Tls(_))
    }

    /// Polls a plain socket until it is readable, needing no buffer to wait
    /// with: a reader can take one only when bytes are there, and read them
    /// with [`NetConn::try_read_buf`]. A TLS connection is always reported
    /// readable (see [`NetConn::is_tls`]).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            NetConn::Tcp(tcp) => tcp.poll_read_ready(cx),
            NetConn::Unix(unix) => unix.poll_read_ready(cx),
            NetConn::Tls(_) => Poll::Ready(Ok(())),
        }
    }

    /// Reads what a plain socket has into `buf`'s spare room, without
    /// waiting: `WouldBlock` when it has nothing, after which
    /// [`NetConn::poll_read_ready`] waits again. A TLS connection answers
    /// `WouldBlock` (it is read through [`NetConn::poll_read_buf`]).
    ///
    /// A speed trick lives here. A read that returns less than the room it
    /// was given has emptied the socket's receive queue, so tokio is told
    /// to forget the socket's readiness (by answering `WouldBlock` to its
    /// `try_io`, which then clears it only if no new event came meanwhile),
    /// exactly as tokio's own `AsyncRead` does after a short read
    /// (`PollEvented::poll_read`). Without it, a keep-alive connection
    /// that waits for its next request first makes a read that returns
    /// `EAGAIN`: measured with `benches/wakeups.sh` (256 connections), 2.0
    /// reads per request instead of 1.0, and 1.13× hyper's system time
    /// per request.
    pub fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        match self {
            NetConn::Tcp(tcp) => read_forgetting_readiness(buf, |f| tcp.try_io(Interest::READABLE, f), tcp),
            NetConn::Unix(unix) => {
                read_forgetting_readiness(buf, |f| unix.try_io(Interest::READABLE, f), unix)
            }
            NetConn::Tls(_) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Writes all of `bytes`. A connection that accepts nothing is an
    /// error, not a loop.
    pub async fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        self.write_all_parts(&mut [IoSlice::new(bytes)]).await
    }

    /// Writes all of `parts`, one after the other, gathered by one system
    /// call where the connection allows it (`writev`): a head and a large
    /// body leave together without first being copied into one buffer.
    pub async fn write_all_parts(&self, parts: &mut [IoSlice<'_>]) -> io::Result<()> {
        let mut left = parts;
        IoSlice::advance_slices(&mut left, 0); // skips empty parts
        while !left.is_empty() {
            let n = poll_fn(|cx| self.poll_write_vectored(cx, left)).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            IoSlice::advance_slices(&mut left, n);
        }
        // rustls may have taken the last bytes into its own buffer when
        // the socket was full: push them out before returning.
        self.flush().await
    }

    /// Writes some of `bytes`, at least one, and says how many (Go:
    /// `net.Conn.Write`, which our callers loop around). Cancel-safe:
    /// dropped before it is ready, it has written nothing. Over TLS the
    /// bytes may wait in rustls until [`NetConn::flush`].
    pub async fn write_some(&self, bytes: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write_vectored(cx, &[IoSlice::new(bytes)])).await
    }

    /// Pushes out what a TLS session still holds; a plain socket holds
    /// nothing.
    pub async fn flush(&self) -> io::Result<()> {
        match self {
            NetConn::Tls(tls) => poll_fn(|cx| Pin::new(&mut *tls.lock()).poll_flush(cx)).await,
            NetConn::Tcp(_) | NetConn::Unix(_) => Ok(()),
        }
    }

    fn poll_write_vectored(&self, cx: &mut Context<'_>, parts: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        match self {
            NetConn::Tcp(tcp) => write_trying_first(
                cx,
                || tcp.try_write_vectored(parts),
                |cx| tcp.poll_write_ready(cx),
            ),
            NetConn::Unix(unix) => write_trying_first(
                cx,
                || unix.try_write_vectored(parts),
                |cx| unix.poll_write_ready(cx),
            ),
            NetConn::Tls(tls) => Pin::new(&mut *tls.lock()).poll_write_vectored(cx, parts),
        }
    }

    /// Ends our side of the connection: the peer reads end-of-file and may
    /// still send (Go: `CloseWrite`, net/tcpsock.go:143). A TLS session
    /// first says `close_notify`, so that the peer can tell our end from a
    /// cut connection (RFC 8446 section 6.1).
    pub async fn close_write(&self) -> io::Result<()> {
        match self {
            NetConn::Tcp(tcp) => socket2::SockRef::from(tcp).shutdown(Shutdown::Write),
            NetConn::Unix(unix) => socket2::SockRef::from(unix).shutdown(Shutdown::Write),
            NetConn::Tls(tls) => poll_fn(|cx| Pin::new(&mut *tls.lock()).poll_shutdown(cx)).await,
        }
    }

    /// [`NetConn::close_write`] if the socket takes it at once, without
    /// waiting; true when it did. Over TLS, close_notify cannot leave
    /// while the socket's send buffer is full (the peer stopped reading),
    /// nor after bytes that rustls still holds: a connection closed then
    /// ends without it, which the peer rightly reads as a cut. Go's
    /// `tls.Conn.Close` waits up to 5 s for the alert instead
    /// (`closeNotify`, crypto/tls/conn.go:1393); a closing server need not.
    pub fn close_write_now(&self) -> bool {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let done = match self {
            NetConn::Tcp(tcp) => socket2::SockRef::from(tcp).shutdown(Shutdown::Write),
            NetConn::Unix(unix) => socket2::SockRef::from(unix).shutdown(Shutdown::Write),
            NetConn::Tls(tls) => match Pin::new(&mut *tls.lock()).poll_shutdown(&mut cx) {
                Poll::Ready(result) => result,
                Poll::Pending => return false,
            },
        };
        done.is_ok()
    }

    /// Resolves when the peer has closed its side or the connection
    /// failed, without taking a byte from whatever it sends next (the
    /// socket is peeked, `MSG_PEEK`); never while bytes are arriving.
    ///
    /// Over TLS the bytes peeked are the encrypted records: a
    /// `close_notify` alert looks like data, so the end is seen only when
    /// the TCP connection itself closes.
    pub async fn peer_gone(&self) {
        let gone = match self {
            NetConn::Tcp(tcp) => tcp.peek(&mut [0u8; 1]).await,
            NetConn::Unix(unix) => peek_unix(unix).await,
            NetConn::Tls(tls) => {
                let mut probe = [0u8; 1];
                let mut probe = ReadBuf::new(&mut probe);
                poll_fn(|cx| tls.lock().get_ref().0.poll_peek(cx, &mut probe)).await
            }
        };
        match gone {
            // End-of-file, a reset or any other error: nobody is there.
            Ok(0) | Err(_) => {}
            // The peer is still sending: it is still there.
            Ok(_) => std::future::pending().await,
        }
    }

    /// Runs `f` on the socket underneath (the TCP socket under a TLS
    /// session): for socket options, a non-blocking peek, or a shutdown
    /// that must wake a reader blocked on the other side.
    pub fn with_socket<R>(&self, f: impl FnOnce(socket2::SockRef<'_>) -> R) -> R {
        match self {
            NetConn::Tcp(tcp) => f(socket2::SockRef::from(tcp)),
            NetConn::Unix(unix) => f(socket2::SockRef::from(unix)),
            NetConn::Tls(tls) => f(socket2::SockRef::from(tls.lock().get_ref().0)),
        }
    }
}

/// Writes on a plain socket: `try_write` at once, and only if the socket
/// is not known to be writable, `poll_ready` (which registers the task's
/// waker) and again, as tokio's own `poll_write` does.
///
/// A speed trick: a server's response nearly always finds the socket
/// writable, and asking tokio for the readiness first (`poll_write_ready`)
/// is work `try_write` does not need, since it checks the readiness itself
/// and makes no system call without it: 100 instructions per keep-alive
/// request (6 700 -> 6 600; callgrind, `benches/instructions.sh`; the same
/// system calls). The cooperative budget that `poll_write_ready` would
/// spend is spent here all the same (`coop::poll_proceed`, 24 of the 124
/// instructions saved), so that a connection whose requests keep arriving
/// still yields to the others as often as before.
fn write_trying_first(
    cx: &mut Context<'_>,
    try_write: impl Fn() -> io::Result<usize>,
    poll_ready: impl Fn(&mut Context<'_>) -> Poll<io::Result<()>>,
) -> Poll<io::Result<usize>> {
    let budget = ready!(tokio::task::coop::poll_proceed(cx));
    match try_write() {
        // Not spent after all: `poll_ready` below spends it.
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => drop(budget),
        result => {
            budget.made_progress();
            return Poll::Ready(result);
        }
    }
    loop {
        ready!(poll_ready(cx))?;
        match try_write() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            result => return Poll::Ready(result),
        }
    }
}

/// The read of [`NetConn::try_read_buf`]: `try_io` is the socket's
/// `try_io` (tokio's readiness check around one system call), `socket`
/// the socket read into `buf`'s spare capacity.
fn read_forgetting_readiness<S: std::os::fd::AsFd>(
    buf: &mut BytesMut,
    try_io: impl FnOnce(&mut dyn FnMut() -> io::Result<usize>) -> io::Result<usize>,
    socket: &S,
) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let room = spare.len();
    let n = read_once_forgetting_readiness(try_io, room, || socket2::SockRef::from(socket).recv(spare))?;
    // SAFETY: `recv` initialised and filled the first `n` bytes of the
    // spare capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// One `read` of at most `room` bytes, run inside `try_io` (a socket's
/// `try_io`: tokio's readiness check around one system call). A short
/// read has emptied the socket's receive queue, so it is handed to
/// `try_io` as `WouldBlock`, which makes tokio forget the readiness (the
/// speed trick of [`NetConn::try_read_buf`], whose measured gain is
/// written there), and the bytes read are returned all the same. The TLS
/// handshake's read of the ClientHello uses it too.
pub(crate) fn read_once_forgetting_readiness(
    try_io: impl FnOnce(&mut dyn FnMut() -> io::Result<usize>) -> io::Result<usize>,
    room: usize,
    mut read: impl FnMut() -> io::Result<usize>,
) -> io::Result<usize> {
    let mut short_read = None;
    let result = try_io(&mut || {
        let n = read()?;
        if 0 < n && n < room {
            short_read = Some(n);
            // Not an error: makes `try_io` forget the readiness.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    });
    match (result, short_read) {
        (_, Some(n)) => Ok(n),
        (result, None) => result,
    }
}

/// Peeks at one byte of a Unix socket once it is readable: `Ok(0)` at
/// end-of-file. (tokio gives TCP a `peek`, not Unix sockets.)
async fn peek_unix(unix: &UnixStream) -> io::Result<usize> {
    loop {
        unix.readable().await?;
        let mut probe = [MaybeUninit::<u8>::uninit(); 1];
        match unix.try_io(Interest::READABLE, || {
            socket2::SockRef::from(unix).peek(&mut probe)
        }) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            result => return result,
        }
    }
}
