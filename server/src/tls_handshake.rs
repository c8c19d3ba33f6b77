//! A TLS connection's first steps, in its own task: the handshake, and
//! what to do when it fails (Go: the `*tls.Conn` branch at the top of
//! `conn.serve`, server.go:1866-1903).
//!
//! Go's accept loop never touches TLS: `tls.NewListener` hands it a
//! `*tls.Conn` whose handshake has not begun, and `conn.serve`, already in
//! the connection's goroutine, runs the handshake under a deadline.
//! [`serve_tls_conn`] is that step here, in the connection's task: were the
//! handshake in the accept loop, one client that connects and sends
//! nothing would stop every other client from being accepted.
//!
//! The ClientHello is read by hand ([`read_client_hello`]) rather than
//! left to tokio-rustls, for the one thing Go does with the first bytes: a
//! client that sent `GET /` to the TLS port speaks plain HTTP, and gets a
//! plain `400` telling it so ([`answer_plain_http`]). Go learns it from
//! the record header that its TLS reader failed on (`RecordHeaderError`);
//! rustls's `Acceptor` fails on the same bytes, which we note as they pass
//! ([`FirstBytes`]). The rest of the handshake is tokio-rustls's, from the
//! ClientHello on.
//!
//! After `conn`, before `server`: it hands the connection, handshake done,
//! to `conn`'s [`serve_conn`].

use crate::config::Config;
use crate::conn::{serve_conn, Shared, LINGER};
use crate::lifecycle::{Phase, TrackedConn};
use crate::net_addr::NetAddr;
use crate::net_conn::{read_once_forgetting_readiness, NetConn};
use crate::stream::with_deadline;
use crate::tls::TlsInfo;
use bytes::BytesMut;
use rustls::server::{Accepted, AcceptedAlert, Acceptor};
use rustls::ServerConfig;
use socket2::SockRef;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::StartHandshake;

/// Go's answer to a plain HTTP request on a TLS port, every byte of it
/// (server.go:1878): a status line in HTTP/1.0, no header, a one-line body.
pub(crate) const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// Serves one connection accepted for TLS: the handshake, then the
/// connection's HTTP/1.1 loop, [`serve_conn`].
///
/// While the handshake runs, the connection is not `Active`: shutdown cuts
/// it as it cuts an idle one (after `Config::shutdown_idle_grace`), and
/// close at once. Go counts a connection still in its handshake as
/// `StateNew`, which `Shutdown` closes once it is 5 s old
/// (`closeIdleConns`, server.go:2834).
pub(crate) async fn serve_tls_conn(
    shared: Arc<Shared>,
    stream: NetConn,
    tracked: TrackedConn,
    tls: Arc<ServerConfig>,
) {
    let peer = &tracked.info.remote_addr;
    let NetConn::Tcp(tcp) = stream else {
        tracing::warn!("http: TLS runs over TCP only; closing the connection from {peer}");
        return;
    };
    let config = &shared.config;
    let cut = cut_by_shutdown(shared.tracker.phase.subscribe(), config.shutdown_idle_grace);
    let done = tokio::select! {
        biased;
        () = cut => None,
        done = handshake(tcp, &tls, handshake_timeout(config), peer) => done,
    };
    if let Some((conn, info)) = done {
        serve_conn(shared, conn, tracked, Some(Box::new(info))).await;
    }
}

/// The bound on a handshake: [`Config::tls_handshake_timeout`], or Go's
/// bound if it is shorter, the smallest of `read_header_timeout`,
/// `read_timeout` and `write_timeout` that is set (Go:
/// `Server.tlsHandshakeTimeout`, server.go:879).
fn handshake_timeout(config: &Config) -> Option<Duration> {
    [
        config.tls_handshake_timeout,
        config.read_header_timeout,
        config.read_timeout,
        config.write_timeout,
    ]
    .into_iter()
    .flatten()
    .filter(|t| !t.is_zero())
    .min()
}

/// Resolves when shutdown should cut a connection still in its handshake:
/// at once on close; on shutdown, once the idle grace has passed.
async fn cut_by_shutdown(mut phase: watch::Receiver<Phase>, grace: Duration) {
    let closed = match phase.wait_for(|p| *p != Phase::Serving).await {
        Ok(p) => *p == Phase::Closed,
        Err(_) => true, // the server is gone
    };
    if !closed {
        let _ = tokio::time::timeout(grace, phase.wait_for(|p| *p == Phase::Closed)).await;
    }
}

/// Runs the server's side of the handshake on `tcp` within `timeout`
/// (Go: `tlsConn.HandshakeContext`, server.go:1873), and returns the
/// connection and its session's state; `None` when it failed, after
/// logging why as Go does, or answering a plain HTTP request.
async fn handshake(
    tcp: TcpStream,
    config: &Arc<ServerConfig>,
    timeout: Option<Duration>,
    peer: &NetAddr,
) -> Option<(NetConn, TlsInfo)> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut first = FirstBytes::default();
    let accepted = match with_deadline(deadline, read_client_hello(&tcp, &mut first)).await {
        Ok(Ok(accepted)) => accepted,
        Ok(Err(_)) if first.look_like_http() => {
            tracing::debug!("http: plain HTTP request from {peer} on a TLS port");
            answer_plain_http(NetConn::Tcp(tcp)).await;
            return None;
        }
        Ok(Err((error, alert))) => {
            log_failure(peer, &error);
            send_alert(tcp, alert, deadline).await;
            return None;
        }
        Err(e) => {
            log_failure(peer, &e);
            return None;
        }
    };
    // The rest, from the ServerHello on, is tokio-rustls's; a failure
    // there sends its alert itself.
    let rest = StartHandshake::from_parts(accepted, tcp).into_stream(config.clone());
    let stream = match with_deadline(deadline, rest).await {
        Ok(stream) => stream,
        Err(e) => {
            log_failure(peer, &e);
            return None;
        }
    };
    let info = TlsInfo::of(stream.get_ref().1)?;
    let conn = NetConn::from(tokio_rustls::TlsStream::from(stream));
    // A protocol other than HTTP/1 agreed by ALPN, which only a
    // configuration of the caller's can offer: nobody here speaks it, and
    // the connection closes, as Go's does when `TLSNextProto` has no entry
    // for it (server.go:1892).
    if let Some(other) = info
        .negotiated_protocol
        .as_deref()
        .filter(|p| !matches!(*p, "http/1.1" | "http/1.0"))
    {
        tracing::debug!("http: no server for protocol {other:?} negotiated by {peer}");
        conn.close_write_now();
        return None;
    }
    Some((conn, info))
}

/// Go's log line for a failed handshake (server.go:1882). A warning: the
/// fault is the client's (or a scanner's), and the server goes on.
fn log_failure(peer: &NetAddr, error: &dyn std::fmt::Display) {
    tracing::warn!("http: TLS handshake error from {peer}: {error}");
}

/// Reads from the socket until rustls holds the client's whole ClientHello,
/// the first message of a handshake (RFC 8446 section 4.1.2), noting the
/// first five bytes in `first` on the way. `Ok(Err(..))` when the bytes are
/// not a ClientHello, with the alert that says why.
async fn read_client_hello(
    tcp: &TcpStream,
    first: &mut FirstBytes,
) -> io::Result<Result<Accepted, (rustls::Error, AcceptedAlert)>> {
    let mut acceptor = Acceptor::default();
    loop {
        tcp.readable().await?;
        match acceptor.read_tls(&mut NotingReader { tcp, first }) {
            // Go reports a client that closes before a whole record
            // header as `EOF` too (io.ReadFull's error).
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "EOF")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
        match acceptor.accept() {
            Ok(None) => {} // not all of it yet
            Ok(Some(accepted)) => return Ok(Ok(accepted)),
            Err(refused) => return Ok(Err(refused)),
        }
    }
}

/// Reads what the socket has without waiting (the caller waits for it to
/// be readable), and notes the first bytes read.
struct NotingReader<'a> {
    tcp: &'a TcpStream,
    first: &'a mut FirstBytes,
}

impl Read for NotingReader<'_> {
    /// One read, which forgets the socket's readiness when it was short,
    /// as `NetConn::try_read_buf` does and for the same reason: otherwise
    /// the handshake's next read, for the client's answer to our first
    /// flight, would be tried at once and meet `EAGAIN`. Measured with
    /// `strace -c` over 500 handshakes: 396 such reads of 1 397 without
    /// this, as many as hyper's (10 of 1 011) with it.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let tcp = self.tcp;
        let room = buf.len();
        let n = read_once_forgetting_readiness(
            |f| tcp.try_io(Interest::READABLE, f),
            room,
            || (&*SockRef::from(tcp)).read(buf),
        )?;
        self.first.note(&buf[..n]);
        Ok(n)
    }
}

/// The first five bytes a client sent: the header of a TLS record, or the
/// start of a plain HTTP request (Go: `RecordHeaderError.RecordHeader`,
/// crypto/tls/conn.go:598).
#[derive(Default)]
struct FirstBytes {
    bytes: [u8; 5],
    len: usize,
}

impl FirstBytes {
    /// Keeps what `read` adds to the first five bytes, if any.
    fn note(&mut self, read: &[u8]) {
        let n = (self.bytes.len() - self.len).min(read.len());
        self.bytes[self.len..self.len + n].copy_from_slice(&read[..n]);
        self.len += n;
    }

    /// True when they start one of the requests plain HTTP clients send
    /// most (Go: `tlsRecordHeaderLooksLikeHTTP`, server.go:3640).
    fn look_like_http(&self) -> bool {
        self.len == self.bytes.len()
            && matches!(&self.bytes, b"GET /" | b"HEAD " | b"POST " | b"PUT /" | b"OPTIO")
    }
}

/// Sends the alert rustls made for a refused ClientHello, if the socket
/// takes it by `deadline`; the connection then closes.
async fn send_alert(mut tcp: TcpStream, mut alert: AcceptedAlert, deadline: Option<Instant>) {
    let mut bytes = Vec::new();
    if alert.write_all(&mut bytes).is_ok() && !bytes.is_empty() {
        let _ = with_deadline(deadline, tcp.write_all(&bytes)).await;
    }
}

/// Answers a plain HTTP request with [`PLAIN_HTTP_ANSWER`] on the bare
/// TCP connection, then closes (Go: server.go:1877-1880).
///
/// Go closes at once. Ours first ends its side and reads what the client
/// still sends for a moment, as `conn.close_write_and_wait` does: closing
/// with unread bytes in the socket makes the kernel send a reset, which
/// can destroy the answer before the client reads it.
async fn answer_plain_http(conn: NetConn) {
    let linger_end = Some(Instant::now() + LINGER);
    if with_deadline(linger_end, conn.write_all(PLAIN_HTTP_ANSWER))
        .await
        .is_err()
    {
        return;
    }
    conn.close_write_now();
    let mut discard = BytesMut::with_capacity(1024);
    while let Ok(n) = with_deadline(linger_end, conn.read_buf(&mut discard)).await {
        if n == 0 {
            break;
        }
        discard.clear();
    }
}
