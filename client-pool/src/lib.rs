//! # client-pool: Go's `http.Transport` and `http.Client`, by hand
//!
//! A [`Transport`] keeps idle HTTP/1.1 connections in a pool keyed by
//! scheme, `host:port` and proxy ([`ConnectKey`], Go's
//! `connectMethodKey`), hands the most recently used one to the next
//! request, makes requests wait in line when none is free (while dialling
//! a new one at the same time), and honours Go's limits:
//! `max_idle_conns`, `max_idle_conns_per_host`, `max_conns_per_host` and
//! `idle_conn_timeout` ([`TransportConfig`]).
//!
//! A [`Client`] sits on top: `get`, `post`, `post_form`, `send` (Go's
//! `Do`), a timeout over the whole exchange, and Go's redirect rules.
//!
//! Requests are written and responses parsed with `server::wire`, the same
//! sans-IO code the server uses (as Go's `transfer.go` serves both sides).
//!
//! ```no_run
//! # async fn demo() -> Result<(), client_pool::Error> {
//! use client_pool::{Client, ClientTrace, Transport, TransportConfig};
//! let transport = Transport::new(TransportConfig { max_conns_per_host: 8, ..TransportConfig::default() });
//! let client = Client::with_transport(transport.clone());
//! let mut resp = client.get("http://127.0.0.1:8080/").await?;
//! let text = resp.body_mut().text().await?; // read to the end: the connection is pooled
//! let info = resp.extensions().get::<client_pool::GotConnInfo>().copied();
//! println!("{text} reused={:?} dials={}", info.map(|i| i.reused), transport.stats().dials);
//! # Ok(()) }
//! ```
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod body;
mod body_writer;
mod client;
mod config;
mod conn;
mod error;
mod key;
mod pool;
pub mod redirect;
pub mod reverse_proxy;
mod trace;
mod transport;

pub use body::{BodySender, RequestBody, ResponseBody};
pub use client::{encode_form, CheckRedirect, Client};
pub use config::TransportConfig;
pub use error::Error;
pub use key::ConnectKey;
pub use redirect::{default_check_redirect, RedirectAction, RedirectAttempt};
pub use trace::{ClientTrace, GotConnHook, GotConnInfo};
pub use transport::{Request, Response, Transport, TransportStats};
