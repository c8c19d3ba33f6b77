//! Opening a connection for a pool key, step by step (Go:
//! `Transport.dialConn`, transport.go:1564):
//!
//! 1. [`connect_tcp`] (or [`connect_unix`] when the Transport dials a Unix
//!    socket): the first hop, to the proxy if there is one, else to the
//!    origin (Go: `t.dial(ctx, "tcp", cm.addr())`).
//! 2. [`open_tunnel`], for `https://` through a proxy: `CONNECT host:port`,
//!    and the proxy's 200 (Go: the `cm.targetScheme == "https"` case of
//!    `dialConn`'s proxy setup, transport.go:1653).
//! 3. [`handshake`], for `https://`: TLS to the origin, over the TCP
//!    connection or inside the tunnel, bounded by `tls_handshake_timeout`
//!    (Go: `persistConn.addTLS`, transport.go:1516).
//!
//! The result is a [`NetConn`] that the rest of the crate reads and
//! writes without asking which kind it is. This module knows nothing of
//! pools or requests.

use crate::tls::TlsInfo;
use crate::{ConnectKey, Error, TlsError, TransportConfig};
use bytes::BytesMut;
use rustls::pki_types::ServerName;
use server::net_conn::NetConn;
use server::stream::read_some;
use server::wire::{self, Limits};
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsConnector;

/// How long a proxy may take to answer our `CONNECT`. Go bounds it with
/// the request's context or, lacking a deadline there, one minute
/// (transport.go:1687).
const PROXY_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest `CONNECT` answer head we read: a proxy's 200 is a line or two.
const MAX_CONNECT_RESPONSE_HEAD: usize = 16 << 10;

/// A connection ready for HTTP/1.1, and what the pool's trace reports of it.
pub(crate) struct Dialled {
    pub(crate) stream: NetConn,
    pub(crate) local_addr: Option<SocketAddr>,
    pub(crate) remote_addr: Option<SocketAddr>,
    pub(crate) tls: Option<Arc<TlsInfo>>,
}

/// Opens a connection for `key` (Go: `Transport.dialConn`, transport.go:1564).
pub(crate) async fn dial(key: &ConnectKey, config: &TransportConfig) -> Result<Dialled, Error> {
    if let Some(path) = &config.unix_socket {
        if key.is_https() {
            return Err(Error::Unsupported("https:// over a Unix socket"));
        }
        let stream = connect_unix(path, config.dial_timeout).await?;
        return Ok(Dialled {
            stream: NetConn::Unix(stream),
            local_addr: None,
            remote_addr: None,
            tls: None,
        });
    }
    let tcp = connect_tcp(key.dial_addr(), config).await?;
    let local_addr = tcp.local_addr().ok();
    let remote_addr = tcp.peer_addr().ok();
    if !key.is_https() {
        return Ok(Dialled {
            stream: NetConn::Tcp(tcp),
            local_addr,
            remote_addr,
            tls: None,
        });
    }
    let tcp = if key.is_tunnel() {
        open_tunnel(tcp, key).await?
    } else {
        tcp
    };
    let (stream, tls) = handshake(tcp, key.tls_host(), config).await?;
    Ok(Dialled {
        stream,
        local_addr,
        remote_addr,
        tls: Some(Arc::new(tls)),
    })
}

/// Connects to `addr` within the dial timeout (Go: `DefaultTransport`'s
/// `net.Dialer{Timeout: 30s, KeepAlive: 30s}`), sets TCP_NODELAY as Go
/// does on every TCP connection, and the keep-alive period.
async fn connect_tcp(addr: &str, config: &TransportConfig) -> Result<TcpStream, Error> {
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
    Ok(stream)
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

/// Connects to the Unix socket at `path` (Go: `net.Dial("unix", path)`).
async fn connect_unix(path: &Path, timeout: Duration) -> Result<UnixStream, Error> {
    let dial_error = |source| Error::DialUnix {
        path: path.to_owned(),
        source,
    };
    match tokio::time::timeout(timeout, UnixStream::connect(path)).await {
        Ok(result) => result.map_err(dial_error),
        Err(_) => Err(dial_error(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("i/o timeout after {timeout:?}"),
        ))),
    }
}

/// Asks the proxy for a tunnel to the origin and reads its answer (Go:
/// `dialConn`, transport.go:1653-1729): `CONNECT host:port HTTP/1.1` with
/// the same authority in `Host` (RFC 9110 section 9.3.6), then a 200 means
/// every later byte goes to the origin. Any other status is an error that
/// names it; the connection is dropped, as Go closes it.
async fn open_tunnel(tcp: TcpStream, key: &ConnectKey) -> Result<TcpStream, Error> {
    let proxy = key.dial_addr().to_owned();
    let target = key.addr.clone();
    let conn = NetConn::Tcp(tcp);
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    let exchange = async {
        conn.write_all(request.as_bytes()).await.map_err(Error::Write)?;
        read_connect_answer(&conn).await
    };
    let status = match tokio::time::timeout(PROXY_CONNECT_TIMEOUT, exchange).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(Error::Read(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("proxy {proxy} did not answer CONNECT within {PROXY_CONNECT_TIMEOUT:?}"),
            )))
        }
    };
    if status != http::StatusCode::OK {
        return Err(Error::ProxyConnect {
            proxy,
            target,
            status,
        });
    }
    tracing::debug!(proxy = %proxy, target = %target, "CONNECT tunnel open");
    match conn {
        NetConn::Tcp(tcp) => Ok(tcp),
        // Made as TCP three statements above.
        _ => Err(Error::Unsupported("a CONNECT tunnel over anything but TCP")),
    }
}

/// Reads the proxy's answer head to `CONNECT` and returns its status.
/// Anything after the head is left unread and dropped, as Go drops its
/// reader: a TLS server says nothing until our ClientHello, so a proxy
/// that sent more misbehaved and the handshake will fail on it.
async fn read_connect_answer(conn: &NetConn) -> Result<http::StatusCode, Error> {
    let limits = Limits {
        max_header_bytes: MAX_CONNECT_RESPONSE_HEAD,
        ..Limits::default()
    };
    let mut buf = BytesMut::new();
    loop {
        if let Some(head) = wire::parse_response_head(&mut buf, &limits).map_err(Error::Protocol)? {
            return Ok(head.status);
        }
        if read_some(conn, &mut buf).await.map_err(Error::Read)? == 0 {
            return Err(Error::Read(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection before answering CONNECT",
            )));
        }
    }
}

/// The TLS handshake with the origin named `host`, within
/// `tls_handshake_timeout` (Go: `persistConn.addTLS`, transport.go:1516:
/// SNI and the certificate check both use the host, and the handshake is
/// raced against a timer). rustls checks the chain and the name during
/// the handshake; a refusal comes back as a [`TlsError`] naming the cause.
async fn handshake(
    tcp: TcpStream,
    host: &str,
    config: &TransportConfig,
) -> Result<(NetConn, TlsInfo), Error> {
    let server_name = ServerName::try_from(host.to_owned()).map_err(|e| Error::Tls {
        server_name: host.to_owned(),
        cause: TlsError::Protocol(rustls::Error::General(format!("bad server name: {e}"))),
    })?;
    let connector = TlsConnector::from(config.tls_config.clone());
    let connecting = connector.connect(server_name, tcp);
    let result = match config.tls_handshake_timeout {
        None => connecting.await,
        Some(after) => match tokio::time::timeout(after, connecting).await {
            Ok(result) => result,
            Err(_) => {
                return Err(Error::TlsHandshakeTimeout {
                    server_name: host.to_owned(),
                    after,
                })
            }
        },
    };
    let stream = result.map_err(|e| Error::Tls {
        server_name: host.to_owned(),
        cause: TlsError::from_handshake(e),
    })?;
    let (_, session) = stream.get_ref();
    let info = TlsInfo {
        version: session
            .protocol_version()
            .unwrap_or(rustls::ProtocolVersion::Unknown(0)),
        cipher_suite: session
            .negotiated_cipher_suite()
            .map(|suite| suite.suite())
            .unwrap_or(rustls::CipherSuite::Unknown(0)),
        alpn: session
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        server_name: host.to_owned(),
    };
    tracing::debug!(server_name = host, version = ?info.version, suite = ?info.cipher_suite,
        alpn = ?info.alpn, "TLS handshake done");
    Ok((NetConn::from(tokio_rustls::TlsStream::Client(stream)), info))
}
