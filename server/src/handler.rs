//! Handlers: what the server calls for each request (Go: `http.Handler`, server.go:86,
//! `HandlerFunc`, `NotFound`, `Error`).

use crate::{Request, ResponseWriter};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future, the return type of [`Handler::serve_http`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Answers requests (Go: `http.Handler`, server.go:86).
///
/// The method returns a boxed future so that handlers can be stored as
/// trait objects (`Arc<dyn Handler>`), which the mux needs: it holds many
/// handlers of different types. Most handlers are written with
/// [`handler_fn`].
pub trait Handler: Send + Sync + 'static {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()>;
}

impl<H: Handler + ?Sized> Handler for Arc<H> {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        (**self).serve_http(w, r)
    }
}

impl<H: Handler + ?Sized> Handler for Box<H> {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        (**self).serve_http(w, r)
    }
}

/// A closure as a handler (Go: `http.HandlerFunc`, server.go:2105). Made by [`handler_fn`].
pub struct HandlerFunc<F>(F);

impl<F> std::fmt::Debug for HandlerFunc<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandlerFunc")
    }
}

/// Makes a handler from a closure that returns a boxed future.
///
/// ```
/// use server::{handler_fn, Handler};
/// let hello = handler_fn(|w, _r| Box::pin(async move {
///     let _ = w.write(b"Hello, World!").await;
/// }));
/// # fn is_handler(_: &impl Handler) {}
/// # is_handler(&hello);
/// ```
pub fn handler_fn<F>(f: F) -> HandlerFunc<F>
where
    F: for<'a> Fn(&'a mut ResponseWriter, &'a mut Request) -> BoxFuture<'a, ()> + Send + Sync + 'static,
{
    HandlerFunc(f)
}

impl<F> Handler for HandlerFunc<F>
where
    F: for<'a> Fn(&'a mut ResponseWriter, &'a mut Request) -> BoxFuture<'a, ()> + Send + Sync + 'static,
{
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        (self.0)(w, r)
    }
}

/// Replies with `msg` and the status, as plain text (Go: `http.Error`, server.go:2118).
pub async fn error(w: &mut ResponseWriter, msg: &str, status: StatusCode) {
    let headers = w.header();
    headers.remove(http::header::CONTENT_LENGTH);
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    w.write_header(status);
    let _ = w.write(msg.as_bytes()).await;
    let _ = w.write(b"\n").await;
}

/// Answers 404 with Go's body `404 page not found` (Go: `http.NotFound`, server.go:2126).
pub async fn not_found(w: &mut ResponseWriter) {
    error(w, "404 page not found", StatusCode::NOT_FOUND).await;
}

/// A handler that answers every request with 404 (Go: `http.NotFoundHandler`, server.go:2130).
#[derive(Debug, Clone, Copy, Default)]
pub struct NotFound;

impl Handler for NotFound {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, _r: &'a mut Request) -> BoxFuture<'a, ()> {
        Box::pin(not_found(w))
    }
}
