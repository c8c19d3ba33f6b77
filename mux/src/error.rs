//! The mux crate's error type: why a pattern, a controller or a rule
//! cannot be registered.
//!
//! Go's `ServeMux.Handle` panics on a bad registration. Registration
//! happens while a program sets itself up, from patterns that are usually
//! literals, so a panic there is loud and early; but patterns can also come
//! from configuration or a command line (as in the `muxecho` demo), and a
//! library should let its caller decide what a bad one means. So
//! [`ServeMux::handle`](crate::ServeMux::handle) returns this error, and
//! its `Display` text is Go's panic message.

use std::fmt;

/// A pattern the mux refuses (Go panics with the same words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The pattern is empty (Go: `http: invalid pattern`).
    EmptyPattern,
    /// The pattern is already registered (Go: `http: multiple registrations for P`).
    Duplicate(String),
    /// A controller of this name is registered already.
    DuplicateController(String),
    /// A controller lists this action twice (`controller/action`).
    DuplicateAction(String),
    /// A rule names an action that is not registered (`controller/action`).
    UnknownAction(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyPattern => f.write_str("http: invalid pattern"),
            Error::Duplicate(pattern) => write!(f, "http: multiple registrations for {pattern}"),
            Error::DuplicateController(name) => write!(f, "controller {name} registered twice"),
            Error::DuplicateAction(name) => write!(f, "action {name} registered twice"),
            Error::UnknownAction(name) => write!(f, "rule for unknown action {name}"),
        }
    }
}

impl std::error::Error for Error {}
