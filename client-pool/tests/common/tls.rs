//! TLS for the tests: a CA made with rcgen, leaf certificates it signs
//! (for chosen names, or already expired), the client config that trusts
//! it, and a hyper + tokio-rustls server on 127.0.0.1.

use super::{ConnCounts, TestServer};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A certificate authority of our own.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate and its key.
pub struct Leaf {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

impl TestCa {
    /// A new CA, named apart from every other one in the process (two CAs
    /// of the same name would make a chain check fail on the signature,
    /// not on the unknown issuer).
    pub fn new() -> TestCa {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("client-pool test CA {n}"));
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { issuer }
    }

    /// The CA certificate, PEM, as a `--cacert` file holds it.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A client config trusting this CA only.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.issuer.der().clone()).unwrap();
        client_pool::tls_config_with_roots(roots)
    }

    /// A leaf for `names` (DNS names or IP addresses).
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with(names, |_| {})
    }

    /// A leaf whose validity ended in 2001.
    pub fn expired_leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with(names, |params| {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        })
    }

    fn leaf_with(&self, names: &[&str], adjust: impl FnOnce(&mut CertificateParams)) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        adjust(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

/// A server config for `leaf`, TLS 1.3 only, offering ALPN `http/1.1`.
pub fn server_config(leaf: &Leaf) -> Arc<rustls::ServerConfig> {
    server_config_for(leaf, &rustls::version::TLS13)
}

/// A server config for `leaf` speaking one TLS version, offering ALPN `http/1.1`.
pub fn server_config_for(
    leaf: &Leaf,
    version: &'static rustls::SupportedProtocolVersion,
) -> Arc<rustls::ServerConfig> {
    let provider = server::tls::crypto_provider();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.cert.clone()], leaf.key.clone_key())
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A hyper HTTP/1.1 server over TLS with `leaf`, answering
/// `hello over tls: N body bytes` (the length of the request body it read).
pub async fn hyper_tls_server(leaf: &Leaf) -> TestServer {
    hyper_tls_server_with(server_config(leaf)).await
}

/// The same hyper server with a config of the caller's.
pub async fn hyper_tls_server_with(config: Arc<rustls::ServerConfig>) -> TestServer {
    let acceptor = TlsAcceptor::from(config);
    let counts = Arc::new(ConnCounts::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept_counts = counts.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let counts = accept_counts.clone();
            let acceptor = acceptor.clone();
            counts.opened();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                        let body = req.into_body().collect().await?.to_bytes();
                        let text = format!("hello over tls: {} body bytes", body.len());
                        Ok::<_, hyper::Error>(hyper::Response::new(Full::new(bytes::Bytes::from(text))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                }
                counts.closed();
            });
        }
    });
    TestServer::unmanaged(addr, counts)
}
