//! # mux: routing requests to handlers
//!
//! Two routers, both plain [`server::Handler`]s:
//!
//! - [`ServeMux`]: Go 1.19's classic `http.ServeMux`, faithful request for
//!   request (exact and subtree patterns, longest wins, host patterns,
//!   the `/tree` -> `/tree/` redirect, path cleaning, 404), checked against
//!   answers recorded from a real Go server.
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
mod hash;
pub mod hostport;
mod servemux;

pub use error::Error;
pub use servemux::{Route, ServeMux};
