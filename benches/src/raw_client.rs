//! A minimal HTTP/1.1 client for loading servers: it writes prepared
//! request bytes and reads the response head (httparse) and a
//! `Content-Length` body, nothing more. It does as little work as it can, so
//! that a benchmark's time is mostly the server's, and it treats every server
//! the same way. Over TLS ([`Conn::connect_tls`]) it trusts any
//! certificate: it loads servers on 127.0.0.1 that made their own.

use bytes::{Buf, BytesMut};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// `GET /hello` on a keep-alive connection.
pub const GET_HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
/// `GET /hello` asking the server to close afterwards.
pub const GET_HELLO_CLOSE: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
/// `GET /big`, a 1 MiB response.
pub const GET_BIG: &[u8] = b"GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// A whole `POST /upload` request with a chunked body of `len` bytes sent
/// in chunks of `chunk` bytes, built once and sent as it is.
pub fn chunked_upload(len: usize, chunk: usize) -> Vec<u8> {
    let mut out = b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let body = crate::big_body();
    let mut sent = 0;
    while sent < len {
        let n = chunk.min(len - sent);
        out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        out.extend_from_slice(&body[..n]);
        out.extend_from_slice(b"\r\n");
        sent += n;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// One client connection, over TCP or TLS.
#[derive(Debug)]
pub struct Conn<S = TcpStream> {
    stream: S,
    buf: BytesMut,
}

fn protocol_error(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl Conn {
    /// Connects with TCP_NODELAY set.
    pub async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
        })
    }
}

impl Conn<TlsStream<TcpStream>> {
    /// Connects with TCP_NODELAY set and makes a TLS handshake, trusting
    /// whatever certificate the server shows.
    pub async fn connect_tls(addr: SocketAddr) -> io::Result<Conn<TlsStream<TcpStream>>> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let name = rustls_pki_types::ServerName::IpAddress(addr.ip().into());
        let stream = tokio_rustls::TlsConnector::from(trust_anything())
            .connect(name, tcp)
            .await?;
        Ok(Conn {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Sends `request` and reads the whole response, throwing the body
    /// away; returns the body's length. Fails on any status but 200.
    pub async fn roundtrip(&mut self, request: &[u8]) -> io::Result<usize> {
        self.stream.write_all(request).await?;
        let (status, body_len) = self.read_head().await?;
        let mut remaining = body_len;
        loop {
            let here = remaining.min(self.buf.len());
            self.buf.advance(here);
            remaining -= here;
            if remaining == 0 {
                break;
            }
            if self.read_more().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        if status != 200 {
            return Err(protocol_error(&format!("status {status}")));
        }
        Ok(body_len)
    }

    /// Like [`Conn::roundtrip`], but returns the status and the body, to
    /// check that a server answers what the benchmark expects.
    pub async fn fetch(&mut self, request: &[u8]) -> io::Result<(u16, Vec<u8>)> {
        self.stream.write_all(request).await?;
        let (status, body_len) = self.read_head().await?;
        while self.buf.len() < body_len {
            if self.read_more().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok((status, self.buf.split_to(body_len).to_vec()))
    }

    /// Reads and parses a response head; returns the status and the
    /// Content-Length, leaving the body's first bytes in the buffer.
    async fn read_head(&mut self) -> io::Result<(u16, usize)> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.buf) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let length = response
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
                        .ok_or_else(|| protocol_error("response without Content-Length"))?;
                    let status = response.code.unwrap_or(0);
                    self.buf.advance(head_len);
                    return Ok((status, length));
                }
                Ok(httparse::Status::Partial) => {}
                Err(_) => return Err(protocol_error("malformed response head")),
            }
            if self.read_more().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Reads until the server closes (after a `Connection: close` response).
    pub async fn wait_close(mut self) -> io::Result<()> {
        loop {
            self.buf.clear();
            if self.read_more().await? == 0 {
                return Ok(());
            }
        }
    }

    async fn read_more(&mut self) -> io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < 16 * 1024 {
            self.buf.reserve(64 * 1024);
        }
        self.stream.read_buf(&mut self.buf).await
    }
}

/// One request on a fresh connection with `Connection: close`: connect,
/// send, read the response, then wait for the server's close, so the
/// server (which closes first) is the side left in TIME_WAIT.
pub async fn close_roundtrip(addr: SocketAddr) -> io::Result<()> {
    let mut conn = Conn::connect(addr).await?;
    conn.roundtrip(GET_HELLO_CLOSE).await?;
    conn.wait_close().await
}

/// [`close_roundtrip`] over TLS: a handshake per request.
pub async fn close_roundtrip_tls(addr: SocketAddr) -> io::Result<()> {
    let mut conn = Conn::connect_tls(addr).await?;
    conn.roundtrip(GET_HELLO_CLOSE).await?;
    conn.wait_close().await
}

/// A client configuration that accepts any server certificate, with the
/// workspace's crypto provider. For loading our own servers only.
fn trust_anything() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = server::tls::crypto_provider();
            let verifier = Arc::new(AnyCertificate(provider.clone()));
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("the provider supports the default protocol versions")
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// A certificate verifier that accepts every certificate, but still checks
/// the handshake's signatures (so the server does the same work as for a
/// real client).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
