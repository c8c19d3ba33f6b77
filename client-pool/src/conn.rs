//! One pooled connection: dialling it, writing a request on it, reading a
//! response head from it, and telling whether an idle one is still usable
//! (Go: `persistConn`, `Transport.dialConn`, `persistConn.roundTrip`).
//!
//! Go runs a `readLoop` and a `writeLoop` goroutine per connection and
//! talks to them over channels. Here the request's own task drives the
//! socket directly: it writes the head (and body), then reads the response
//! head with the shared sans-IO parser in `server::wire`. A streamed body is
//! written while the response head is awaited, so a server that answers
//! before reading the whole body is still heard; if the head comes first,
//! the rest of the body is written by a task of its own while the response
//! is read (see `body_writer`). The connection is simply moved to whoever
//! uses it next; the socket sits behind an `Arc` only so that such a writer
//! task can share it.

use crate::body::BodyKind;
use crate::body_writer::BodyWrite;
use crate::pool::HostSlot;
use crate::{ConnectKey, Error, TransportConfig};
use bytes::BytesMut;
use http::{Method, StatusCode};
use server::stream::{read_some, write_all_shared, HeadScan, READ_CHUNK};
use server::wire::{self, Limits, ResponseHead};
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Bytes reserved in the read buffer before each read.
/// A fixed-length body up to this size is sent in the same write as the head.
const COALESCE_BODY: usize = 16 * 1024;

/// A connection the Transport owns between requests (Go: `persistConn`).
pub(crate) struct PersistConn {
    pub(crate) id: u64,
    pub(crate) key: ConnectKey,
    /// Shared only with a task still writing a request body (`body_writer`).
    pub(crate) stream: Arc<TcpStream>,
    /// Bytes read from the socket and not yet parsed.
    pub(crate) read_buf: BytesMut,
    write_buf: Vec<u8>,
    /// Responses fully received on this connection; > 0 means "reused".
    pub(crate) requests_served: u64,
    /// When it was put in the idle list (Go: `persistConn.idleAt`).
    pub(crate) idle_since: Option<Instant>,
    pub(crate) local_addr: Option<SocketAddr>,
    pub(crate) remote_addr: Option<SocketAddr>,
    /// Its place in the per-host count, released when the connection drops.
    pub(crate) slot: Option<HostSlot>,
}

/// A failed exchange, and whether it failed before any response byte.
pub(crate) struct ConnFailure {
    pub error: Error,
    pub nothing_received: bool,
}

impl PersistConn {
    /// Dials `key.dial_addr()` (Go: `Transport.dialConn` with a
    /// `net.Dialer{Timeout: 30s, KeepAlive: 30s}`), sets TCP_NODELAY as Go
    /// does on every TCP connection, and the keep-alive period.
    pub(crate) async fn dial(
        id: u64,
        key: &ConnectKey,
        config: &TransportConfig,
    ) -> Result<PersistConn, Error> {
        let addr = key.dial_addr();
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
            key: key.clone(),
            local_addr: stream.local_addr().ok(),
            remote_addr: stream.peer_addr().ok(),
            stream: Arc::new(stream),
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: Vec::with_capacity(512),
            requests_served: 0,
            idle_since: None,
            slot: None,
        })
    }

    /// Whether an idle connection can still carry a request. Go learns
    /// this from its `readLoop`, which is blocked reading every idle
    /// connection; we ask the kernel when the connection is taken out of
    /// the pool: a non-blocking `MSG_PEEK` that finds EOF (the server
    /// closed it) or unexpected bytes means the connection is finished.
    pub(crate) fn is_usable(&self) -> bool {
        if !self.read_buf.is_empty() {
            return false;
        }
        let mut probe = [MaybeUninit::<u8>::uninit(); 1];
        match socket2::SockRef::from(&*self.stream).peek(&mut probe) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
            Ok(0) => {
                tracing::debug!(conn = self.id, key = %self.key, "idle connection closed by the server");
                false
            }
            Ok(_) => {
                tracing::debug!(conn = self.id, key = %self.key, "unsolicited bytes on an idle connection");
                false
            }
            Err(_) => false,
        }
    }

    /// The buffer the request head is written into before [`send`](Self::send).
    pub(crate) fn head_buf(&mut self) -> &mut Vec<u8> {
        self.write_buf.clear();
        &mut self.write_buf
    }

    /// Sends the head already in `head_buf` and the body, then reads the
    /// response head (skipping 1xx interim responses other than 101).
    /// Returns the head and where the request body stands: if the server
    /// answered before the whole body was written, the rest is returned to
    /// be written beside the response (Go's `writeLoop` goes on).
    pub(crate) async fn send(
        &mut self,
        body: BodyKind,
        limits: &Limits,
        header_timeout: Option<Duration>,
    ) -> Result<(ResponseHead, BodyState), ConnFailure> {
        let mut body_write = match body {
            BodyKind::Empty => None,
            BodyKind::Full(bytes) if bytes.len() <= COALESCE_BODY => {
                self.write_buf.extend_from_slice(&bytes);
                None
            }
            BodyKind::Full(bytes) => Some(BodyWrite::whole(&self.write_buf, bytes)),
            BodyKind::Stream { length, rx } => Some(BodyWrite::channel(&self.write_buf, length, rx)),
        };
        let stream = &*self.stream;
        let read_buf = &mut self.read_buf;
        let head_future = async {
            let read = read_head(stream, read_buf, limits);
            match header_timeout {
                None => read.await,
                Some(after) => match tokio::time::timeout(after, read).await {
                    Ok(result) => result,
                    Err(_) => Err(ConnFailure {
                        error: Error::ResponseHeaderTimeout(after),
                        nothing_received: false,
                    }),
                },
            }
        };
        let Some(body_write_ref) = body_write.as_mut() else {
            if let Err(e) = write_all_shared(stream, &self.write_buf).await {
                return Err(ConnFailure {
                    error: Error::Write(e),
                    nothing_received: true,
                });
            }
            return Ok((head_future.await?, BodyState::Written));
        };
        tokio::pin!(head_future);
        let mut write_error = None;
        let mut written = false;
        let head = loop {
            tokio::select! {
                // `run` is cancel-safe: a new call resumes where the last stopped.
                result = body_write_ref.run(stream), if !written && write_error.is_none() => match result {
                    Ok(()) => written = true,
                    // The caller's own body failed: nothing to wait for.
                    Err(e @ (Error::RequestBody(_) | Error::BodyLength { .. })) => {
                        return Err(ConnFailure { error: e, nothing_received: true });
                    }
                    // The socket failed; the server may still have
                    // answered (early 413, say), so keep reading.
                    Err(e) => write_error = Some(e),
                },
                head = &mut head_future => break head,
            }
        };
        match (head, write_error) {
            (Ok(head), Some(_)) => Ok((head, BodyState::Failed)),
            (Ok(head), None) if written => Ok((head, BodyState::Written)),
            (Ok(head), None) => match body_write {
                Some(rest) => Ok((head, BodyState::Pending(rest))),
                None => Ok((head, BodyState::Written)),
            },
            (Err(failure), Some(e)) => Err(ConnFailure { error: e, ..failure }),
            (Err(failure), None) => Err(failure),
        }
    }
}

/// Where the request body stands when the response head arrives.
pub(crate) enum BodyState {
    /// All of it is on the wire.
    Written,
    /// Writing it failed: the connection cannot be reused.
    Failed,
    /// The server answered first: the rest is still to write.
    Pending(BodyWrite),
}

/// Reads until a final response head is parsed (Go: `ReadResponse` in
/// `persistConn.readLoop`). 1xx responses (100 Continue, 103 Early Hints)
/// are skipped, as Go does; 101 is final.
async fn read_head(
    reader: &TcpStream,
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<ResponseHead, ConnFailure> {
    let mut received_any = !buf.is_empty();
    // A fresh scan per head: after a skipped 1xx, the next head starts anew.
    let mut scan = HeadScan::default();
    loop {
        if scan.worth_parsing(buf, limits.max_header_bytes) {
            match wire::parse_response_head(buf, limits) {
                Ok(Some(head))
                    if head.status.is_informational() && head.status != StatusCode::SWITCHING_PROTOCOLS =>
                {
                    scan = HeadScan::default();
                    continue;
                }
                Ok(Some(head)) => return Ok(head),
                Ok(None) => {}
                Err(e) => {
                    return Err(ConnFailure {
                        error: Error::Protocol(e),
                        nothing_received: false,
                    })
                }
            }
        }
        match read_some(reader, buf).await {
            Ok(0) if !received_any => {
                return Err(ConnFailure {
                    error: Error::ServerClosedIdle,
                    nothing_received: true,
                })
            }
            Ok(0) => {
                return Err(ConnFailure {
                    error: Error::Read(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "server closed the connection in the middle of the response head",
                    )),
                    nothing_received: false,
                })
            }
            Ok(_) => received_any = true,
            Err(e) => {
                return Err(ConnFailure {
                    error: Error::Read(e),
                    nothing_received: !received_any,
                })
            }
        }
    }
}

/// Tries each address `addr` resolves to, in order (Go: `dialSerial`);
/// the error names the address and the last cause.
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

/// True when a request method must send `Content-Length: 0` even with no
/// body (Go: `transferWriter.shouldSendContentLength`).
pub(crate) fn method_expects_body(method: &Method) -> bool {
    method == Method::POST || method == Method::PUT || method == Method::PATCH
}
