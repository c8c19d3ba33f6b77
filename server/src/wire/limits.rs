//! How large a head, and each part of a request head, may be.
//!
//! Go limits only the whole head (`Server.MaxHeaderBytes`, 1 MiB), so a
//! Go server accepts a 1 MiB request-target, a 1 MiB method or a single
//! 1 MiB header line and hands it to the handler. nginx and Apache also
//! limit each part, much lower, and this is what the web has long been
//! tested against: a request whose line or one of whose fields is larger
//! than about 8 KiB is refused by both, so no real client sends one. We
//! do the same, with the status RFC 9110 and RFC 6585 give each case:
//!
//! | part | over the limit | nginx | Apache |
//! |---|---|---|---|
//! | request-target | 414 URI Too Long (RFC 9110 §15.5.15) | request line > one 8 KiB buffer: 414 | `LimitRequestLine` 8190 (the whole line): 414 |
//! | one field line | 431 (RFC 6585 §5) | field > one 8 KiB buffer: 400 | `LimitRequestFieldSize` 8190: 400 |
//! | method | 501 Not Implemented (RFC 9110 §9.1) | — | (part of the line) |
//!
//! (nginx: `large_client_header_buffers 4 8k`; Apache: core's
//! `LimitRequestLine` and `LimitRequestFieldSize`, both 8190 by default.)
//!
//! The limits are checked where the parser already has the lengths: the
//! method and target while the request line is scanned (so an endless
//! target is refused after 8 KiB, without waiting for 1 MiB), and each
//! field line from the offsets httparse returns (while a head is still
//! incomplete, the line being received is measured from its start, so an
//! endless header line is refused at 8 KiB too). A complete head is not
//! looked at again for them: 23 instructions more per request, +0.3%
//! (`benches/instructions.sh`). They apply to request heads only: a response head,
//! read by the client, is bounded by `max_header_bytes` alone, as Go's
//! Transport bounds it by `MaxResponseHeaderBytes` (servers send large
//! `Set-Cookie` and `Content-Security-Policy` lines).

/// How large a head may be. Go: `Server.MaxHeaderBytes` (default 1 MiB);
/// `parts` is ours, stricter than Go.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of start line plus header lines, CRLFs included.
    pub max_header_bytes: usize,
    /// Number of header lines.
    pub max_headers: usize,
    /// Limits on each part of a request head (not used for responses).
    pub parts: PartLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 1 << 20,
            max_headers: 256,
            parts: PartLimits::DEFAULT,
        }
    }
}

/// Limits on each part of a request head, below the limit on the whole
/// head (see the module documentation for where the defaults come from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartLimits {
    /// Longest method, in bytes; a longer one answers 501 Not Implemented,
    /// since no server implements a method that long (the longest in
    /// IANA's HTTP Method Registry, `UPDATEREDIRECTREF`, has 17 bytes).
    pub max_method_bytes: usize,
    /// Longest request-target, in bytes; a longer one answers 414 URI Too
    /// Long.
    pub max_target_bytes: usize,
    /// Longest header field line, `name: value` without its CRLF, in
    /// bytes; a longer one answers 431 Request Header Fields Too Large.
    pub max_field_line_bytes: usize,
}

impl PartLimits {
    /// The defaults: no request nginx and Apache both accept with their
    /// default configuration is refused.
    ///
    /// - target 8 KiB: both limit the whole request line to about 8 KiB
    ///   (nginx 8192 with its CRLF, Apache 8190 without), which leaves a
    ///   `GET` target 8177 bytes with either; ours counts the target alone.
    /// - field line 8 KiB: nginx 8192 with its CRLF, Apache 8190.
    /// - method 32 bytes: twice the longest registered method, so that any
    ///   extension method in real use fits.
    pub const DEFAULT: PartLimits = PartLimits {
        max_method_bytes: 32,
        max_target_bytes: 8 * 1024,
        max_field_line_bytes: 8 * 1024,
    };

    /// No limit on any part: only the head's limits apply, as in Go.
    pub const NONE: PartLimits = PartLimits {
        max_method_bytes: usize::MAX,
        max_target_bytes: usize::MAX,
        max_field_line_bytes: usize::MAX,
    };
}

impl Default for PartLimits {
    fn default() -> Self {
        PartLimits::DEFAULT
    }
}
