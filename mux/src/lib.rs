//! # mux: routing requests to handlers
//!
//! Three routers, all plain [`server::Handler`]s:
//!
//! - [`ServeMux`]: Go 1.19's classic `http.ServeMux`, faithful request for
//!   request (exact and subtree patterns, longest wins, host patterns,
//!   the `/tree` -> `/tree/` redirect, path cleaning, 404), checked against
//!   answers recorded from a real Go server.
//! - [`PatternServeMux`]: Go's modern `ServeMux` (Go 1.22 and later, as
//!   Go 1.27 behaves): `GET /items/{id}`, `/files/{path...}`, `/{$}`, the
//!   most specific pattern wins, conflicts refused, 405 with `Allow`;
//!   checked against answers recorded from Go 1.27.
//! - [`controller`]: the gohttp project's controller/action router, where
//!   `/demo/DescribeDemo` runs action `DescribeDemo` of controller `demo`
//!   between `before` and `after` hooks.
//!
//! Supporting pieces, each the Rust side of one Go function:
//! [`clean`] (`cleanPath`), [`hostport`] (`stripHostPort`,
//! `net.SplitHostPort`).
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod clean;
pub mod controller;
mod error;
pub mod goquote;
mod hash;
pub mod hostport;
mod pattern_mux;
mod servemux;

pub use error::Error;
pub use pattern_mux::{Pattern, PatternRoute, PatternServeMux, Relationship, Segment};
pub use servemux::{Route, ServeMux};
