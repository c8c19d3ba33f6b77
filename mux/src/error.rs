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

use crate::goquote::go_quote;
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
    /// A modern pattern that does not parse (Go: `parsing "P": at offset
    /// N: reason`); `offset` is where in `pattern` Go says the fault is.
    BadPattern {
        pattern: String,
        offset: usize,
        reason: String,
    },
    /// Two modern patterns that some request matches, neither taking
    /// precedence (Go: `pattern "P" (registered at L) conflicts with
    /// pattern "Q" (registered at M):` and why).
    Conflict {
        pattern: String,
        location: String,
        other: String,
        other_location: String,
        explanation: String,
    },
    /// Two modern patterns that the specificity rules let through but that
    /// land on the same leaf of the routing tree (`//x` and `/{y}/x`: an
    /// empty literal segment is stored as a wildcard). Go panics with
    /// `non-nil leaf fields`.
    SameLeaf { pattern: String, other: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyPattern => f.write_str("http: invalid pattern"),
            Error::Duplicate(pattern) => write!(f, "http: multiple registrations for {pattern}"),
            Error::DuplicateController(name) => write!(f, "controller {name} registered twice"),
            Error::DuplicateAction(name) => write!(f, "action {name} registered twice"),
            Error::UnknownAction(name) => write!(f, "rule for unknown action {name}"),
            Error::BadPattern {
                pattern,
                offset,
                reason,
            } => write!(
                f,
                "parsing {}: at offset {offset}: {reason}",
                go_quote(pattern.as_bytes())
            ),
            Error::Conflict {
                pattern,
                location,
                other,
                other_location,
                explanation,
            } => write!(
                f,
                "pattern {} (registered at {location}) conflicts with pattern {} (registered at {other_location}):\n{explanation}",
                go_quote(pattern.as_bytes()),
                go_quote(other.as_bytes())
            ),
            Error::SameLeaf { .. } => f.write_str("non-nil leaf fields"),
        }
    }
}

impl std::error::Error for Error {}
