//! The HTTP/1.1 wire format, with no I/O in it.
//!
//! Everything here works on byte buffers: it parses request and response
//! heads out of a `BytesMut`, decodes message bodies (Content-Length,
//! chunked, or "until the connection closes") and serialises heads and
//! chunks into an output buffer. The server's connection loop (`conn.rs`)
//! and the client's `Transport` (crate `client-pool`) both drive it with
//! their own sockets, just as Go's `transfer.go` and `internal/chunked.go`
//! are shared by `net/http`'s client and server.
//!
//! Keeping the parser free of sockets makes it easy to test (feed it bytes,
//! look at what comes out) and to fuzz (`fuzz/`, `scripts/fuzz.sh`).
//!
//! It is strict: everything RFC 9112 says a recipient MUST refuse is
//! refused, with the status Go would answer (mostly 400), and a few
//! ambiguities Go and hyper let through (Content-Length with
//! Transfer-Encoding, a bare LF as a line end, a malformed chunk
//! extension) are refused too, because they are how request smuggling
//! works. `notes/server-hardening.md` lists every rule, its RFC section,
//! and what Go and hyper do instead.
//!
//! The files, one concept each: `start_line.rs` (request and status
//! lines), `fields.rs` (header and trailer fields), `head.rs` (the two put
//! together), `limits.rs` (how large the head and each part of it may
//! be), `host.rs` (the Host rules), `framing.rs` (Content-Length and
//! Transfer-Encoding), `body.rs` and `chunk_line.rs` (decoding bodies),
//! `encode.rs` (writing).
//!
//! | here | Go 1.19 (`net/http`, file:line) |
//! |---|---|
//! | [`parse_request_head`] | `readRequest`, request.go:1030; fields: `ReadMIMEHeader`, net/textproto/reader.go:485 |
//! | [`parse_response_head`] | `ReadResponse`, response.go:154 |
//! | [`request_framing`], [`response_framing`] | `readTransfer`, transfer.go:486 |
//! | [`BodyDecoder`] | `body`, transfer.go:805; `chunkedReader`, internal/chunked.go:37 |
//! | [`write_response_head`] | `chunkWriter.writeHeader`, server.go:1246 |
//! | [`encode_chunk`] | `chunkedWriter`, internal/chunked.go:196 |

mod body;
mod chunk_line;
mod encode;
mod error;
mod fields;
mod framing;
mod head;
mod host;
mod limits;
mod start_line;

pub use body::{BodyDecoder, Decoded};
pub use encode::{
    encode_chunk, encode_chunk_size, encode_last_chunk, write_headers, write_request_head,
    write_response_head,
};
pub use error::{HostError, WireError};
pub use framing::{request_framing, response_framing, BodyFraming};
pub use head::{parse_request_head, parse_request_head_into, parse_response_head, RequestHead, ResponseHead};
pub use host::{host_from, host_of, HostLines};
pub use limits::{Limits, PartLimits};
