//! # client-pool: Go's `http.Transport` and `http.Client`, by hand
//!
//! A [`Transport`] keeps idle HTTP/1.1 connections, over TCP, TLS
//! (`https://`, with rustls) or a Unix socket, in a pool keyed by scheme,
//! `host:port` and proxy ([`ConnectKey`], Go's `connectMethodKey`), hands the most recently used one to the next
//! request, makes requests wait in line when none is free (while dialling
//! a new one at the same time), and honours Go's limits:
//! `max_idle_conns`, `max_idle_conns_per_host`, `max_conns_per_host` and
//! `idle_conn_timeout`, and the two knobs of the course's client
//! example, `tls_handshake_timeout` and `expect_continue_timeout`
//! ([`TransportConfig`]). Through an HTTP proxy, `https://` requests
//! travel in `CONNECT` tunnels, pooled like any connection.
//!
//! A [`Client`] sits on top: `get`, `post`, `post_form`, `send` (Go's
//! `Do`), a timeout over the whole exchange, and Go's redirect rules.
//!
//! Requests are written and responses parsed with `server::wire`, the same
//! sans-IO code the server uses, and read with the server's I/O steps in
//! `server::stream` and its body-reading steps in `server::body_read` (as
//! Go's `transfer.go` serves both sides).
//!
//! ## Reading order
//!
//! The modules form a line: each uses only those above it in this list,
//! so it reads best from the top down, from the bottom layer up.
//!
//! 1. `error`, `tls`, `config`, `key`, `trace`, `lock`: the vocabulary
//!    (the one error type, the TLS settings and what a handshake agreed
//!    on, the settings, the pool key, the trace hook, and taking a mutex
//!    whose holder panicked).
//! 2. `request_body`: what a request carries ([`RequestBody`]).
//! 3. `body_writer`: a request body going out, resumable at any `.await`.
//! 4. `dial`, `conn`: opening a connection (TCP or Unix socket, a
//!    `CONNECT` tunnel, the TLS handshake; Go: `dialConn`,
//!    transport.go:1564), and one connection, dialled; neither knows of
//!    pools (Go: `persistConn`, transport.go:1872).
//! 5. `idle`, `want_conn`: the pool's bookkeeping, without I/O (Go:
//!    `idleConn`, transport.go:98; `wantConn`, :1188; `wantConnQueue`, :1251).
//! 6. `pool`: idle connections, waiters, per-host counts, and `Pooled`,
//!    a connection on loan (Go: `getConn`, transport.go:1332; `queueForIdleConn`,
//!    :1008; `tryPutIdleConn`, :912; `decConnsPerHost`, :1465).
//! 7. `write_loop`: the rest of a request body, written beside the
//!    response (Go: `persistConn.writeLoop`, transport.go:2389).
//! 8. `response_body`: the response body, streamed from its connection,
//!    which it gives back at the end ([`ResponseBody`]; Go: `bodyEOFSignal`, transport.go:2752).
//! 9. `exchange`: one request and its response on one connection (Go:
//!    `persistConn.roundTrip`, transport.go:2534; `Request.write`,
//!    request.go:551).
//! 10. `transport`: [`Transport`], pool plus exchange plus retry (Go:
//!     `Transport.roundTrip`, transport.go:504).
//! 11. `redirect`, `client`: [`Client`], timeouts and redirects (Go:
//!     `Client.do`, client.go:586).
//! 12. `reverse_proxy`: a reverse proxy built on the Transport (Go:
//!     `httputil.ReverseProxy`, httputil/reverseproxy.go:43).
//!
//! ```no_run
//! # async fn demo() -> Result<(), client_pool::Error> {
//! use client_pool::{Client, Transport, TransportConfig};
//! let transport = Transport::new(TransportConfig { max_conns_per_host: 8, ..TransportConfig::default() });
//! let client = Client::with_transport(transport.clone());
//! let mut resp = client.get("http://127.0.0.1:8080/").await?;
//! let text = resp.body_mut().text().await?; // read to the end: the connection is pooled
//! let info = resp.extensions().get::<client_pool::GotConnInfo>().cloned();
//! println!("{text} reused={:?} dials={}", info.map(|i| i.reused), transport.stats().dials);
//! # Ok(()) }
//! ```
//!
//! `https://` trusting a private CA, as `curl --cacert ca.pem` does:
//!
//! ```no_run
//! # async fn demo() -> Result<(), client_pool::Error> {
//! use client_pool::{tls_config_trusting_pem, Client, Transport, TransportConfig};
//! let transport = Transport::new(TransportConfig {
//!     tls_config: tls_config_trusting_pem("ca.pem")?,
//!     ..TransportConfig::default()
//! });
//! let mut resp = Client::with_transport(transport).get("https://127.0.0.1:8443/").await?;
//! let tls = resp.extensions().get::<client_pool::GotConnInfo>().and_then(|i| i.tls.clone());
//! println!("{:?} {}", tls.map(|t| t.version), resp.body_mut().text().await?);
//! # Ok(()) }
//! ```
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod body_writer;
mod client;
mod config;
mod conn;
mod dial;
mod error;
mod exchange;
mod idle;
mod key;
mod lock;
mod pool;
pub mod redirect;
mod request_body;
mod response_body;
pub mod reverse_proxy;
mod tls;
mod trace;
mod transport;
mod want_conn;
mod write_loop;

pub use client::{encode_form, CheckRedirect, Client};
pub use config::TransportConfig;
pub use error::{Error, TlsError};
pub use key::ConnectKey;
pub use redirect::{default_check_redirect, RedirectAction, RedirectAttempt};
pub use request_body::{BodySender, Request, RequestBody};
pub use response_body::{Response, ResponseBody};
/// The rustls crate these settings come from, for building a
/// [`TransportConfig::tls_config`] of one's own.
pub use rustls;
pub use tls::{default_tls_config, tls_config_trusting_pem, tls_config_with_roots, TlsInfo};
pub use trace::{ClientTrace, GotConnHook, GotConnInfo};
pub use transport::{Transport, TransportStats};
