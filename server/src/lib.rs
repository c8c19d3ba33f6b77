//! # server: Go's `net/http` server core, by hand
//!
//! The pieces, in the order a request meets them:
//!
//! - [`Server`] accepts connections ([`Server::serve`], with Go's
//!   exponential backoff on temporary accept errors) and starts one task
//!   per connection.
//! - `conn` (private) is Go's `conn.serve`: the keep-alive loop that reads a
//!   request head with [`wire`], builds a [`Request`] whose [`Body`] streams
//!   from the socket, calls the [`Handler`], and finishes the response.
//! - `recycle` (private) is what that loop reuses instead of allocating:
//!   one `Request` per connection refilled in place, and a pool of closed
//!   connections' buffers (Go's `bufio` reader and writer pools).
//! - [`url`] turns the request-target into the [`Request`]'s `url` as Go's
//!   `net/url` does (the decoded path is bytes), which is what a mux
//!   matches on.
//! - [`ResponseWriter`] buffers the first 2 KiB of body to decide between
//!   `Content-Length` and chunked, like Go's `chunkWriter`; [`sniff`]
//!   guesses a missing Content-Type from those bytes.
//! - [`not_found`], [`error`] and [`redirect()`] write Go's small canned
//!   answers; [`redirect::clean`] is Go's `path.Clean`, shared with the mux.
//! - [`wire`] is the HTTP/1.1 wire format with no I/O, shared with the
//!   client in `client-pool`.
//!
//! ```no_run
//! use server::{handler_fn, Config, Server};
//!
//! #[tokio::main]
//! async fn main() {
//!     let hello = handler_fn(|w, _r| Box::pin(async move {
//!         let _ = w.write(b"Hello, World!").await;
//!     }));
//!     let config = Config { addr: "127.0.0.1:8010".into(), ..Config::default() };
//!     let _ = Server::new(config, hello).listen_and_serve().await;
//! }
//! ```
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod body;
mod conn;
mod conn_header;
mod conn_io;
mod date;
mod error;
mod handler;
mod path_values;
mod recycle;
pub mod redirect;
mod request;
mod response;
mod server;
pub mod sniff;
pub mod url;
pub mod wire;

pub use body::{Body, BodyError};
pub use conn::MAX_POST_HANDLER_READ_BYTES;
pub use conn_header::{connection_tokens, ConnectionTokens};
pub use error::Error;
pub use handler::{error, handler_fn, not_found, BoxFuture, Handler, HandlerFunc, NotFound};
pub use path_values::PathValues;
pub use redirect::redirect;
pub use request::Request;
pub use response::{ResponseWriter, BUFFER_SIZE};
pub use server::{
    bind_listener, is_temporary_accept_error, set_conn_options, Config, ConnInfo, ConnState, ConnStateHook,
    Listener, Server, ACCEPT_BACKOFF_MAX, ACCEPT_BACKOFF_START,
};
