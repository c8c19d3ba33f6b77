//! # server: Go's `net/http` server core, by hand
//!
//! The pieces, in the order a request meets them:
//!
//! - [`Server`] accepts connections ([`Server::serve`], with Go's
//!   exponential backoff on temporary accept errors; over TCP or a Unix
//!   socket) and starts one task per connection; [`Server::serve_tls`]
//!   starts that task with the TLS handshake (`tls_handshake`, private).
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
//!   `Content-Length` and chunked, like Go's `response`; `chunk_writer`
//!   (private) is the decision itself, Go's `chunkWriter.writeHeader`;
//!   [`sniff`] guesses a missing Content-Type from those bytes.
//! - [`not_found`], [`error`] and [`redirect()`] write Go's small canned
//!   answers; [`redirect::clean`] is Go's `path.Clean`, shared with the mux.
//! - [`wire`] is the HTTP/1.1 wire format with no I/O, shared with the
//!   client in `client-pool`.
//!
//! ## Reading order: the modules from the bottom up
//!
//! No two modules import each other, directly or in a circle
//! (`scripts/check-modules` checks it), so the crate can be read from the
//! bottom up, each module using only those above it in this list:
//!
//! 1. The leaves, which import no other module: [`net_conn`] (one
//!    connection over TCP, TLS or a Unix socket; Go's `net.Conn`),
//!    `net_addr` ([`NetAddr`], either end's address; Go's `net.Addr`),
//!    [`wire`], [`url`], `date`, [`sniff`], `conn_header` (the
//!    `Connection` header's options), and `error`. Then, on a leaf each:
//!    `lifecycle` (connection states, the server's phase, the live
//!    counts; Go: `ConnState`, server.go:2870, `trackConn`, `inShutdown`)
//!    and [`tls`] (certificate and key into a rustls configuration, and
//!    [`TlsInfo`], Go's `r.TLS`).
//! 2. [`stream`] (the steps both sides take on a [`net_conn::NetConn`]:
//!    reads and writes with deadlines), then [`body_read`]: the
//!    body-reading steps shared with the client, over [`wire`]'s body
//!    decoder.
//! 3. `config` ([`Config`], Go's `Server` fields), then `listen` (listening
//!    sockets, socket options, which accept errors are temporary).
//! 4. `lent_buffers` (read and response-head buffers lent per request, so
//!    that an idle connection holds none), then `conn_io`: the two halves
//!    of a connection, their buffers and deadlines.
//! 5. `body` ([`Body`], streamed off `conn_io`'s reader), then `request`
//!    ([`Request`]).
//! 6. `recycle`: the request refilled in place, and the buffers pool.
//! 7. `chunk_writer` (the response head's plan), then `response`
//!    ([`ResponseWriter`]).
//! 8. `handler` ([`Handler`] and Go's small handlers) and [`redirect`](mod@redirect).
//! 9. `conn`: one connection's loop, Go's `conn.serve`, then
//!    `tls_handshake`: a TLS connection's handshake, in its own task,
//!    before that loop.
//! 10. `server`: [`Server`], the accept loop and shutdown.
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
pub mod body_read;
mod chunk_writer;
mod config;
mod conn;
mod conn_header;
mod conn_io;
mod date;
mod error;
mod handler;
mod lent_buffers;
mod lifecycle;
mod listen;
mod net_addr;
pub mod net_conn;
mod path_values;
mod recycle;
pub mod redirect;
mod request;
mod response;
mod server;
pub mod sniff;
pub mod stream;
pub mod tls;
mod tls_handshake;
pub mod url;
pub mod wire;

pub use body::{Body, BodyError};
pub use config::{Config, DEFAULT_POST_HANDLER_READ_TIMEOUT, DEFAULT_TLS_HANDSHAKE_TIMEOUT};
pub use conn::MAX_POST_HANDLER_READ_BYTES;
pub use conn_header::{connection_tokens, ConnectionTokens};
pub use error::Error;
pub use handler::{error, handler_fn, not_found, BoxFuture, Handler, HandlerFunc, NotFound};
pub use lifecycle::{ConnInfo, ConnState, ConnStateHook};
pub use listen::{bind_listener, bind_unix_listener, is_temporary_accept_error, set_conn_options, Listener};
pub use net_addr::NetAddr;
pub use path_values::{PathValues, PatternNames};
pub use redirect::redirect;
pub use request::Request;
pub use response::{ResponseWriter, BUFFER_SIZE};
/// The TLS library, for its types in [`Server::serve_tls`] and
/// [`TlsInfo`]: a program need not depend on the same version itself.
pub use rustls;
pub use server::{Server, ACCEPT_BACKOFF_MAX, ACCEPT_BACKOFF_START};
pub use tls::{load_server_config, TlsInfo};
