//! One HTTP/1.1 connection to a server: dialling it, its buffers, and
//! telling whether an idle one is still usable (Go: `persistConn`,
//! transport.go:1872; `Transport.dialConn`, transport.go:1564).
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

use crate::{Error, TransportConfig};
use bytes::BytesMut;
use server::net_conn::NetConn;
use server::stream::READ_CHUNK;
use std::io;
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
}

impl PersistConn {
    /// Dials `addr` (Go: `Transport.dialConn`, transport.go:1564, with
    /// `DefaultTransport`'s `net.Dialer{Timeout: 30s, KeepAlive: 30s}`),
    /// sets TCP_NODELAY as Go does on every TCP connection, and the
    /// keep-alive period.
    pub(crate) async fn dial(id: u64, addr: &str, config: &TransportConfig) -> Result<PersistConn, Error> {
        let stream = match tokio::time::timeout(config.dial_timeout, connect_any(addr)).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(Error::DialTimeout {
                    addr: addr.to_owned(),
                    after: config.dial_timeout,
                })
            }
        };
        let socket = socket2::SockRef::from(&stream);
        // Failing to set an option leaves a working, slightly slower
        // connection: not worth failing the request for.
        let _ = socket.set_tcp_nodelay(true);
        if let Some(period) = config.tcp_keepalive {
            let keepalive = socket2::TcpKeepalive::new()
                .with_time(period)
                .with_interval(period);
            let _ = socket.set_tcp_keepalive(&keepalive);
        }
        Ok(PersistConn {
            id,
            local_addr: stream.local_addr().ok(),
            remote_addr: stream.peer_addr().ok(),
            stream: Arc::new(NetConn::Tcp(stream)),
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: Vec::with_capacity(512),
            requests_served: 0,
        })
    }

    /// Whether an idle connection can still carry a request. Go learns
    /// this from its `readLoop` (transport.go:2058), which is blocked in a
    /// `Peek` on every idle connection; we ask the kernel when the
    /// connection is taken out of the pool: a non-blocking `MSG_PEEK` that finds EOF (the server
    /// closed it) or unexpected bytes means the connection is finished.
    pub(crate) fn is_usable(&self) -> bool {
        if !self.read_buf.is_empty() {
            return false;
        }
        let mut probe = [MaybeUninit::<u8>::uninit(); 1];
        match self.stream.with_socket(|socket| socket.peek(&mut probe)) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
            Ok(0) => {
                tracing::debug!(conn = self.id, "idle connection closed by the server");
                false
            }
            Ok(_) => {
                tracing::debug!(conn = self.id, "unsolicited bytes on an idle connection");
                false
            }
            Err(_) => false,
        }
    }
}

/// Tries each address `addr` resolves to, in order (Go: `dialSerial`,
/// net/dial.go:523); the error names the address and the last cause.
async fn connect_any(addr: &str) -> Result<TcpStream, Error> {
    let dial_error = |source| Error::Dial {
        addr: addr.to_owned(),
        source,
    };
    let mut last_error = None;
    for candidate in tokio::net::lookup_host(addr).await.map_err(dial_error)? {
        match TcpStream::connect(candidate).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(dial_error(last_error.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::NotFound, "no addresses found")
    })))
}
