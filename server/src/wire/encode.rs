//! Serialising heads and chunks into an output buffer.
//!
//! Header names are written in Go's canonical form (`Content-Type`, not
//! `content-type`): the `http` crate stores them lower-cased, and Go's
//! `textproto.CanonicalMIMEHeaderKey` (net/textproto/reader.go:628) is what
//! the course's transcripts show.

use http::{HeaderMap, HeaderName, Method, StatusCode, Version};

/// Appends `HTTP/1.1 200 OK\r\n` and the header lines (not the final CRLF).
/// Go: `writeStatusLine`, server.go:1537, then the header lines in
/// `chunkWriter.writeHeader`, server.go:1246.
pub fn write_response_head(out: &mut Vec<u8>, version: Version, status: StatusCode, headers: &HeaderMap) {
    if version != Version::HTTP_10 && status == StatusCode::OK {
        // A speed trick: the status line of nearly every response, copied
        // whole, the same bytes as below: 76 instructions per keep-alive
        // request (6 491 -> 6 415; callgrind, `benches/instructions.sh`).
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        out.extend_from_slice(if version == Version::HTTP_10 {
            b"HTTP/1.0 "
        } else {
            b"HTTP/1.1 "
        });
        out.extend_from_slice(status.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(status.canonical_reason().unwrap_or("status code").as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    write_headers(out, headers);
}

/// Appends `GET /path HTTP/1.1\r\n` and the header lines (not the final CRLF).
/// Go: the head part of `Request.write`, request.go:551.
pub fn write_request_head(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    version: Version,
    headers: &HeaderMap,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(if version == Version::HTTP_10 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    write_headers(out, headers);
}

/// Appends one `Name: value\r\n` line per field, names in canonical case
/// (Go: `Header.writeSubset`, header.go:196).
pub fn write_headers(out: &mut Vec<u8>, headers: &HeaderMap) {
    for (name, value) in headers {
        write_canonical_name(out, name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// `content-type` -> `Content-Type` (Go: `canonicalMIMEHeaderKey`,
/// net/textproto/reader.go:667). The name is copied whole and then
/// upper-cased in place: pushed a byte at a time, with a capacity check
/// each, it cost 102 more instructions per keep-alive request (7 231 -> 7 129; callgrind,
/// `benches/instructions.sh`).
fn write_canonical_name(out: &mut Vec<u8>, name: &HeaderName) {
    let start = out.len();
    out.extend_from_slice(name.as_str().as_bytes());
    let mut upper = true;
    for b in &mut out[start..] {
        if upper {
            b.make_ascii_uppercase();
        }
        upper = *b == b'-';
    }
}

/// Appends one chunk: size in hex, CRLF, data, CRLF. An empty `data` writes
/// nothing, since a zero-size chunk would end the body (Go:
/// `chunkedWriter.Write`, internal/chunked.go:203, which skips it too).
pub fn encode_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    encode_chunk_size(out, data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends a chunk-size line: `n` in lower-case hex without leading zeros,
/// then CRLF, without going through `format!` (this runs once per chunk of
/// every streamed response).
pub fn encode_chunk_size(out: &mut Vec<u8>, n: usize) {
    let digits = (usize::BITS - n.leading_zeros()).div_ceil(4).max(1);
    for shift in (0..digits).rev() {
        out.push(b"0123456789abcdef"[(n >> (shift * 4)) & 0xf]);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends the last chunk, the trailer fields and the final CRLF (Go:
/// `chunkWriter.close`, server.go:405).
pub fn encode_last_chunk(out: &mut Vec<u8>, trailers: &HeaderMap) {
    out.extend_from_slice(b"0\r\n");
    write_headers(out, trailers);
    out.extend_from_slice(b"\r\n");
}
