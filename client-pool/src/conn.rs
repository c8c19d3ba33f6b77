//! One HTTP/1.1 connection to a server: its buffers, and telling whether
//! an idle one is still usable (Go: `persistConn`, transport.go:1872).
//! Opening it is `dial`'s job.
//!
//! It knows nothing of the pool: which key it serves, its place in the
//! per-host count and when it went idle are held by the pool's wrapper
//! around it (`pool::Pooled`). What goes over it, one request and its
//! response, is `exchange`'s job.
//!
//! Go runs a `readLoop` and a `writeLoop` goroutine per connection and
//! talks to them over channels. Here the request's own task drives the
//! socket directly, and the connection is simply moved to whoever uses it
//! next; the socket sits behind an `Arc` only so that a task still writing
//! a request body (`write_loop`) can share it.

use crate::dial::dial;
use crate::tls::TlsInfo;
use crate::{ConnectKey, Error, TransportConfig};
use bytes::BytesMut;
use server::net_conn::{NetConn, TlsConn};
use server::stream::READ_CHUNK;
use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

/// One connection to a server (Go: `persistConn`, transport.go:1872). Dropping it closes it.
pub(crate) struct PersistConn {
    /// A number unique to this connection within its Transport.
    pub(crate) id: u64,
    /// Shared only with a task still writing a request body (`write_loop`).
    pub(crate) stream: Arc<NetConn>,
    /// Bytes read from the socket and not yet parsed.
    pub(crate) read_buf: BytesMut,
    /// The next request's head (and a small body), written in one go.
    pub(crate) write_buf: Vec<u8>,
    /// Responses fully received on this connection; > 0 means "reused".
    pub(crate) requests_served: u64,
    pub(crate) local_addr: Option<SocketAddr>,
    pub(crate) remote_addr: Option<SocketAddr>,
    /// What the TLS handshake agreed on, for `https://`.
    pub(crate) tls: Option<Arc<TlsInfo>>,
}

/// What an idle connection's socket holds when a request wants it.
enum IdleState {
    /// Nothing: the server is waiting for our next request.
    Open,
    /// The server closed it (end-of-file, or TLS `close_notify`).
    Closed,
    /// Response bytes nobody asked for: whatever they are, the next
    /// response could not be told from them.
    Unsolicited,
    /// The socket or the TLS session failed.
    Failed,
}

impl PersistConn {
    /// Opens a connection for `key` (Go: `Transport.dialConn`, transport.go:1564; see `dial`).
    pub(crate) async fn dial(
        id: u64,
        key: &ConnectKey,
        config: &TransportConfig,
    ) -> Result<PersistConn, Error> {
        let dialled = dial(key, config).await?;
        Ok(PersistConn {
            id,
            local_addr: dialled.local_addr,
            remote_addr: dialled.remote_addr,
            tls: dialled.tls,
            stream: Arc::new(dialled.stream),
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: Vec::with_capacity(512),
            requests_served: 0,
        })
    }

    /// Whether an idle connection can still carry a request. Go learns
    /// this from its `readLoop` (transport.go:2058), which is blocked in a
    /// `Peek` on every idle connection; we ask the kernel when the
    /// connection is taken out of the pool, without waiting: end-of-file
    /// (the server closed it) or unexpected response bytes mean the
    /// connection is finished.
    pub(crate) fn is_usable(&self) -> bool {
        if !self.read_buf.is_empty() {
            return false;
        }
        let state = match &*self.stream {
            NetConn::Tls(tls) => tls_idle_state(tls),
            plain => plain.with_socket(|socket| peek_idle_state(&socket)),
        };
        match state {
            IdleState::Open => true,
            IdleState::Closed => {
                tracing::debug!(conn = self.id, "idle connection closed by the server");
                false
            }
            IdleState::Unsolicited => {
                tracing::debug!(conn = self.id, "unsolicited bytes on an idle connection");
                false
            }
            IdleState::Failed => false,
        }
    }
}

/// A plain socket: a non-blocking `MSG_PEEK` of one byte.
fn peek_idle_state(socket: &socket2::Socket) -> IdleState {
    let mut probe = [MaybeUninit::<u8>::uninit(); 1];
    match socket.peek(&mut probe) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => IdleState::Open,
        Ok(0) => IdleState::Closed,
        Ok(_) => IdleState::Unsolicited,
        Err(_) => IdleState::Failed,
    }
}

/// A TLS session: bytes waiting on the socket need not be a response.
/// A TLS 1.3 server sends records of its own after the handshake, without
/// being asked: session tickets (`NewSessionTicket`, RFC 8446 section
/// 4.6.1), a `KeyUpdate` (4.6.3), and `close_notify` before it closes. A
/// peek sees only encrypted bytes, so it would throw away a good
/// connection for a ticket. Instead rustls reads and decrypts whatever
/// has arrived, straight from the socket and without waiting: handshake
/// records are absorbed (a ticket is kept, a key update applied), and
/// only application data, a response nobody asked for, or the end of
/// the session count against the connection.
fn tls_idle_state(tls: &TlsConn) -> IdleState {
    let mut session = tls.lock();
    let tokio_rustls::TlsStream::Client(client) = &mut *session else {
        // A client dials client sessions only.
        return IdleState::Failed;
    };
    let (tcp, session) = client.get_mut();
    loop {
        let io_state = match session.process_new_packets() {
            Ok(io_state) => io_state,
            Err(e) => {
                tracing::debug!(error = %e, "TLS error on an idle connection");
                return IdleState::Failed;
            }
        };
        if io_state.plaintext_bytes_to_read() > 0 {
            return IdleState::Unsolicited;
        }
        if io_state.peer_has_closed() {
            return IdleState::Closed;
        }
        match session.read_tls(&mut RawSocket(tcp)) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return IdleState::Open,
            Ok(0) => return IdleState::Closed,
            Ok(_) => continue,
            Err(_) => return IdleState::Failed,
        }
    }
}

/// Reads a tokio socket with a plain non-blocking `read(2)`: tokio's own
/// `try_read` answers "would block" from its cached readiness before
/// asking the kernel, and an idle connection's readiness may not have
/// been polled since the server's last record arrived. Reading behind
/// tokio's back is harmless: at worst its next poll finds nothing and
/// waits again.
struct RawSocket<'a>(&'a TcpStream);

impl Read for RawSocket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = socket2::SockRef::from(self.0);
        (&*socket).read(buf)
    }
}
