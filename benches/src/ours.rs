//! Our server with the benchmark routes: the handler of
//! `demos/src/bin/hello.rs` for every path but `/big` and `/upload`.

use server::{handler_fn, BoxFuture, Config, Handler, Request, ResponseWriter, Server};
use tokio::net::TcpListener;

/// The hello handler, as in `demos/src/bin/hello.rs`.
pub fn hello() -> impl Handler {
    handler_fn(|w, _r| {
        Box::pin(async move {
            w.header().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            let _ = w.write(crate::HELLO).await;
        })
    })
}

/// Hello, plus `/big` and `/upload` (see the crate docs).
pub fn routes() -> impl Handler {
    Routes { hello: hello() }
}

struct Routes<H> {
    hello: H,
}

impl<H: Handler> Handler for Routes<H> {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        // The raw request-target: the benchmark sends exactly these paths.
        match r.target.as_str() {
            "/big" => Box::pin(async move {
                // Declaring the length gives the same framing as hyper's `Full`
                // body; without it the response would stream chunked, as Go's does.
                w.header().insert(
                    http::header::CONTENT_LENGTH,
                    http::HeaderValue::from(crate::BIG_LEN),
                );
                let _ = w.write(&crate::big_body()).await;
            }),
            "/upload" => Box::pin(async move {
                let mut received = 0usize;
                while let Ok(Some(piece)) = r.body.chunk().await {
                    received += piece.len();
                }
                let _ = w.write(received.to_string().as_bytes()).await;
            }),
            _ => self.hello.serve_http(w, r),
        }
    }
}

/// Our server with the default `Config` (TCP_NODELAY on, as Go and the
/// hyper peer have it), on 127.0.0.1.
fn server() -> Server {
    let config = Config {
        addr: "127.0.0.1:0".into(),
        ..Config::default()
    };
    Server::new(config, routes())
}

/// A listener on 127.0.0.1, port 0, made as `listen_and_serve` makes one:
/// with the connection options already set, for accepted sockets to inherit.
pub async fn bind() -> TcpListener {
    server().bind().await.expect("bind 127.0.0.1:0")
}

/// Serves `routes()` on `listener`.
pub async fn serve(listener: TcpListener) {
    let _ = server().serve(listener).await;
}
