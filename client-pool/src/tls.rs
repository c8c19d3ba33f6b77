//! The client's TLS settings (Go: `Transport.TLSClientConfig`,
//! transport.go:169) and what a finished handshake tells us (Go:
//! `tls.ConnectionState`, crypto/tls/common.go:215).
//!
//! A `rustls::ClientConfig` plays the part of Go's `*tls.Config`: which
//! roots to trust, which protocol versions and cipher suites to offer. By
//! default we trust the Mozilla root programme as the `webpki-roots` crate
//! ships it, the same list on every machine (Go reads the system's pool
//! instead). Tests and demos replace it with a config that trusts their
//! own CA: [`tls_config_trusting_pem`] is curl's `--cacert`.
//!
//! The configs are built with the workspace's one crypto provider,
//! aws-lc-rs (`server::tls::crypto_provider`, which says why), named
//! explicitly, so nothing depends on a process-wide default being
//! installed.

use crate::Error;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{CipherSuite, ClientConfig, ProtocolVersion, RootCertStore};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The only application protocol we speak, offered by ALPN (RFC 7301).
/// Offering `h2` as well would let a server choose HTTP/2, which this
/// client cannot speak; Go offers it only when its HTTP/2 transport is
/// wired in (`Transport.onceSetNextProtoDefaults`, transport.go:361).
pub(crate) const ALPN_HTTP1: &[u8] = b"http/1.1";

/// What a finished handshake agreed on, kept with the connection and
/// reported in [`GotConnInfo::tls`](crate::GotConnInfo::tls) (Go:
/// `Response.TLS`, a `tls.ConnectionState`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// TLS 1.2 or 1.3 (Go: `ConnectionState.Version`).
    pub version: ProtocolVersion,
    /// The cipher suite (Go: `ConnectionState.CipherSuite`).
    pub cipher_suite: CipherSuite,
    /// The protocol the server chose by ALPN, `http/1.1` or none (Go:
    /// `ConnectionState.NegotiatedProtocol`).
    pub alpn: Option<String>,
    /// The name we sent as SNI and checked the certificate against (Go:
    /// `ConnectionState.ServerName`).
    pub server_name: String,
}

/// The default client config: the `webpki-roots` trust anchors, the
/// provider's safe defaults (TLS 1.2 and 1.3), ALPN `http/1.1`. Built once
/// per process and shared.
pub fn default_tls_config() -> Arc<ClientConfig> {
    static DEFAULT: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            tls_config_with_roots(roots)
        })
        .clone()
}

/// A client config that trusts exactly `roots` (Go: `tls.Config{RootCAs: pool}`).
pub fn tls_config_with_roots(roots: RootCertStore) -> Arc<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(server::tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("the provider supports the default protocol versions");
    let mut config = builder.with_root_certificates(roots).with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    Arc::new(config)
}

/// A client config that trusts the certificates of one PEM file and
/// nothing else, as `curl --cacert PATH` does: the way to reach a server
/// whose certificate a private or self-signed CA issued.
pub fn tls_config_trusting_pem(path: impl AsRef<Path>) -> Result<Arc<ClientConfig>, Error> {
    let path = path.as_ref();
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| Error::TlsConfig(format!("{shown}: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::TlsConfig(format!("{shown}: {e}")))?;
    if certs.is_empty() {
        return Err(Error::TlsConfig(format!("{shown}: no certificate in the file")));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| Error::TlsConfig(format!("{shown}: {e}")))?;
    }
    Ok(tls_config_with_roots(roots))
}

/// The config a Transport uses: the caller's, offering ALPN `http/1.1`
/// only (see [`ALPN_HTTP1`]). Left shared when it already does, copied
/// otherwise, once per Transport rather than once per dial.
pub(crate) fn for_http1(config: Arc<ClientConfig>) -> Arc<ClientConfig> {
    if config.alpn_protocols == [ALPN_HTTP1] {
        return config;
    }
    let mut config = (*config).clone();
    config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    Arc::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_offering_h2_is_narrowed_to_http1_and_one_that_does_not_is_shared() {
        let mut offering_h2 = (*default_tls_config()).clone();
        offering_h2.alpn_protocols = vec![b"h2".to_vec(), ALPN_HTTP1.to_vec()];
        let narrowed = for_http1(Arc::new(offering_h2));
        assert_eq!(narrowed.alpn_protocols, [ALPN_HTTP1]);

        let default = default_tls_config();
        assert!(Arc::ptr_eq(&for_http1(default.clone()), &default));
    }
}
