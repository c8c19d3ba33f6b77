//! The peer: a hyper 1.x HTTP/1.1 server written the way hyper's own
//! examples write one (`http1::Builder` with its defaults, one task per
//! connection), plus TCP_NODELAY on accepted connections as ours and Go's do.
//!
//! Over TLS it is hyper behind tokio-rustls, with the same rustls provider
//! (aws-lc-rs) and defaults as our server, so that the two make the same
//! handshakes and encrypt with the same cipher suites.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

/// `Hello, World!` as text/plain, for every request.
pub async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(hello_response())
}

fn hello_response() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(crate::HELLO)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Hello, plus `/big` and `/upload` (see the crate docs).
pub async fn routes(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    match req.uri().path() {
        "/big" => Ok(Response::new(Full::new(crate::big_body()))),
        "/upload" => {
            let mut body = req.into_body();
            let mut received = 0usize;
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    received += data.len();
                }
            }
            Ok(Response::new(Full::new(Bytes::from(received.to_string()))))
        }
        _ => Ok(hello_response()),
    }
}

/// Accepts connections on `listener` forever, serving `routes` when
/// `all_routes` is true, else `hello` on every path.
pub async fn serve(listener: TcpListener, all_routes: bool) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let io = TokioIo::new(stream);
            let builder = http1::Builder::new();
            let _ = if all_routes {
                builder.serve_connection(io, service_fn(routes)).await
            } else {
                builder.serve_connection(io, service_fn(hello)).await
            };
        });
    }
}

/// Like [`serve`] with `hello` on every path, over TLS: each connection's
/// handshake runs in its own task, as in our server.
pub async fn serve_tls(listener: TcpListener, config: Arc<rustls::ServerConfig>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let io = TokioIo::new(stream);
            let _ = http1::Builder::new()
                .serve_connection(io, service_fn(hello))
                .await;
        });
    }
}

/// A rustls server config for a self-signed certificate of `127.0.0.1`
/// and `localhost` (an ECDSA P-256 key, rcgen's default, as our demos
/// make), offering ALPN `http/1.1`.
pub fn self_signed_tls_config() -> Result<Arc<rustls::ServerConfig>, Box<dyn std::error::Error>> {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    let key = rustls_pki_types::PrivateKeyDer::try_from(made.signing_key.serialize_der())?;
    let provider = server::tls::crypto_provider();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
