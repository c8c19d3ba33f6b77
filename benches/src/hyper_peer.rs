//! The peer: a hyper 1.x HTTP/1.1 server written the way hyper's own
//! examples write one (`http1::Builder` with its defaults, one task per
//! connection), plus TCP_NODELAY on accepted connections as ours and Go's do.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
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
