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
//! look at what comes out) and to fuzz.
//!
//! | here | Go |
//! |---|---|
//! | [`parse_request_head`] | `readRequest` (request.go) |
//! | [`parse_response_head`] | `ReadResponse` (response.go) |
//! | [`request_framing`], [`response_framing`] | `readTransfer` (transfer.go) |
//! | [`BodyDecoder`] | `body`, `internal.chunkedReader` |
//! | [`write_response_head`], [`encode_chunk`] | `response.WriteHeader`, `chunkWriter`, `internal.chunkedWriter` |

mod body;
mod encode;
mod error;
mod head;

pub use body::{BodyDecoder, Decoded};
pub use encode::{encode_chunk, encode_last_chunk, write_headers, write_request_head, write_response_head};
pub use error::WireError;
pub use head::{
    host_of, parse_request_head, parse_response_head, request_framing, response_framing, BodyFraming, Limits,
    RequestHead, ResponseHead,
};
