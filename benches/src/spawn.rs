//! Runs a server on a thread of its own with a one-thread tokio runtime, so
//! that in the criterion benchmark each server gets exactly one thread, the
//! same as the other, and the client runs on another.

use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Binds with `bind` (a listener on 127.0.0.1, port 0), starts
/// `serve(listener)` on a new thread and returns the address once it
/// listens. The thread lives until the process exits.
pub fn server_thread<B, BindFut, F, Fut>(name: &str, bind: B, serve: F) -> SocketAddr
where
    B: FnOnce() -> BindFut + Send + 'static,
    BindFut: Future<Output = TcpListener> + 'static,
    F: FnOnce(TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(format!("{name}-server"))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = bind().await;
                tx.send(listener.local_addr().expect("local addr"))
                    .expect("send addr");
                serve(listener).await;
            });
        })
        .expect("spawn server thread");
    rx.recv().expect("server thread started")
}

/// A plain listener on 127.0.0.1, port 0 (how the hyper peer is served).
pub async fn bind_loopback() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0")
}
