//! The proxy: the handler behind the public port (gin: `lib/proxy.go`,
//! `Proxy.defaultHandler`).
//!
//! For each request: look for changed sources (and rebuild if there are
//! any, or wait for the rebuild already under way); if the last build failed,
//! answer with its errors; else make sure the app runs and listens, then
//! forward the request to it through the
//! [`ReverseProxy`](client_pool::reverse_proxy::ReverseProxy) and stream
//! the answer back.

use super::app::{App, Unavailable};
use client_pool::reverse_proxy::ReverseProxy;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::StatusCode;
use server::{BoxFuture, Handler, Request, ResponseWriter};
use std::sync::Arc;

/// The reload tool's handler.
#[derive(Debug)]
pub struct ReloadProxy {
    app: Arc<App>,
    forward: Arc<ReverseProxy>,
}

impl ReloadProxy {
    /// A handler keeping `app` running and forwarding through `forward`.
    pub fn new(app: Arc<App>, forward: Arc<ReverseProxy>) -> ReloadProxy {
        ReloadProxy { app, forward }
    }
}

impl Handler for ReloadProxy {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            // Do not rely on the watch loop: an edit saved just before this
            // request is seen now, and the request gets the new build.
            self.app.catch_up().await;
            match self.app.ensure_running().await {
                Ok(()) => self.forward.serve_http(w, r).await,
                Err(Unavailable::BuildFailed(errors)) => {
                    // gin writes the errors with a 200; a 500 tells scripts
                    // and curl -f the truth while the browser shows the same text.
                    let body = format!("reload: the build failed\n\n{errors}\n");
                    answer(w, StatusCode::INTERNAL_SERVER_ERROR, &body).await;
                }
                Err(Unavailable::ShuttingDown) => {
                    answer(w, StatusCode::SERVICE_UNAVAILABLE, "reload: stopping\n").await;
                }
                Err(Unavailable::NotReady(e)) => {
                    tracing::warn!("reload: {e}");
                    answer(w, StatusCode::BAD_GATEWAY, &format!("reload: {e}\n")).await;
                }
            }
        })
    }
}

async fn answer(w: &mut ResponseWriter, status: StatusCode, body: &str) {
    let headers = w.header();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    w.write_header(status);
    let _ = w.write(body.as_bytes()).await;
}
