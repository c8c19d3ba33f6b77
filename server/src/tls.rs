//! What a server needs to speak TLS before any connection arrives: its
//! certificate and key, loaded into a rustls configuration, and what a
//! handler learns of a connection's TLS session ([`TlsInfo`], Go's
//! `tls.ConnectionState`).
//!
//! Go's `ServeTLS` (server.go:3119) does the same three things: it loads
//! the key pair (`tls.LoadX509KeyPair`), makes sure ALPN offers
//! `http/1.1`, and wraps the listener so that every connection it accepts
//! is a `*tls.Conn` whose handshake has not started yet. The handshake
//! itself happens later, in the connection's own task (see
//! `tls_handshake.rs`); after it, `conn.serve` keeps a copy of the
//! session's state for every request's `r.TLS` (server.go:1890).
//!
//! The crypto comes from rustls's default provider, aws-lc-rs, named here
//! rather than installed as a process-wide default: a program that uses
//! this crate needs no set-up call, and two providers compiled into one
//! program cannot make it ambiguous.
//!
//! It knows certificates and rustls, nothing of connections or HTTP, and
//! imports only `error` (whose [`TlsConfigError`] it returns).

use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::server::ServerConnection;
use rustls::{CipherSuite, ProtocolVersion, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

pub use crate::error::{PemProblem, TlsConfigError};

/// The ALPN protocol id of HTTP/1.1 (RFC 7301 section 6), the one
/// protocol this server speaks and offers.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Reads a PEM certificate chain (the server's certificate first, then
/// the intermediates) and its PEM private key, and makes a server
/// configuration that offers ALPN `http/1.1` (Go: `tls.LoadX509KeyPair`
/// and the start of `ServeTLS`, server.go:3119).
///
/// The errors name the file and what is wrong with it: missing or
/// unreadable, no certificate in it, no key in it, or a key that is not the
/// certificate's.
pub fn load_server_config(
    cert_file: impl AsRef<Path>,
    key_file: impl AsRef<Path>,
) -> Result<Arc<ServerConfig>, crate::Error> {
    let (cert_file, key_file) = (cert_file.as_ref(), key_file.as_ref());
    let chain = read_cert_chain(cert_file)?;
    let key = read_private_key(key_file)?;
    server_config(chain, key).map_err(crate::Error::Tls)
}

/// Makes a server configuration from a certificate chain and its key,
/// already decoded: for a program that keeps them somewhere other than
/// files (or makes them at start, as the demos do with rcgen). ALPN offers
/// `http/1.1`.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let mut config = ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError::Rustls)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsConfigError::KeyMismatch,
            other => TlsConfigError::Rustls(other),
        })?;
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(Arc::new(config))
}

/// The cryptography every TLS configuration of this workspace uses, server
/// and client: rustls's default provider, aws-lc-rs, with its default
/// cipher suites and key exchanges (X25519MLKEM768, post-quantum, first).
///
/// Why not ring, the other provider rustls ships: rustls 0.23.48 marks
/// ring's provider deprecated because it has no post-quantum key
/// exchange. aws-lc-rs needs nothing more on this course's machines: its
/// C code builds with gcc alone (no cmake, checked on a machine without
/// one: about 50 s the first time).
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// `config` with `http/1.1` among its ALPN protocols, as `ServeTLS` makes
/// sure (server.go:3127): a client that offers only `http/1.1` must find
/// it. Unchanged (the same `Arc`) when it is already there.
pub fn with_http11_alpn(config: Arc<ServerConfig>) -> Arc<ServerConfig> {
    if config.alpn_protocols.iter().any(|p| p == ALPN_HTTP11) {
        return config;
    }
    let mut config = (*config).clone();
    config.alpn_protocols.push(ALPN_HTTP11.to_vec());
    Arc::new(config)
}

fn read_cert_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, crate::Error> {
    let bad = |problem| {
        crate::Error::Tls(TlsConfigError::File {
            path: path.to_owned(),
            problem,
        })
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(PemProblem::from(e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(PemProblem::from(e)))?;
    if chain.is_empty() {
        return Err(bad(PemProblem::NoCertificate));
    }
    Ok(chain)
}

fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, crate::Error> {
    let bad = |problem| {
        crate::Error::Tls(TlsConfigError::File {
            path: path.to_owned(),
            problem,
        })
    };
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => bad(PemProblem::NoPrivateKey),
        other => bad(PemProblem::from(other)),
    })
}

/// What a handler may know of the TLS session its request came over
/// (Go: `tls.ConnectionState`, crypto/tls/common.go:225, which a server
/// request carries as `r.TLS`). Read it with
/// [`Request::tls`](crate::Request::tls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// TLS 1.2 or 1.3 (Go: `Version`).
    pub version: ProtocolVersion,
    /// The cipher suite agreed (Go: `CipherSuite`).
    pub cipher_suite: CipherSuite,
    /// The host name the client asked for in its ClientHello, by SNI
    /// (Go: `ServerName`); `None` when it sent none, as clients do when
    /// they dial an IP address (RFC 6066 section 3 allows host names only).
    pub server_name: Option<String>,
    /// The protocol agreed by ALPN (Go: `NegotiatedProtocol`): `http/1.1`,
    /// or `None` when the client offered no ALPN.
    pub negotiated_protocol: Option<String>,
    /// The certificates the client presented, its own first (Go:
    /// `PeerCertificates`); empty unless the configuration asks clients
    /// for one.
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// True when the session was resumed from an earlier one rather than
    /// made by a full handshake (Go: `DidResume`).
    pub did_resume: bool,
}

impl TlsInfo {
    /// The state of a session whose handshake is done (Go:
    /// `tls.Conn.ConnectionState`); `None` before that.
    pub fn of(session: &ServerConnection) -> Option<TlsInfo> {
        Some(TlsInfo {
            version: session.protocol_version()?,
            cipher_suite: session.negotiated_cipher_suite()?.suite(),
            server_name: session.server_name().map(str::to_owned),
            negotiated_protocol: session
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            peer_certificates: session.peer_certificates().unwrap_or_default().to_vec(),
            did_resume: session.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
        })
    }
}
