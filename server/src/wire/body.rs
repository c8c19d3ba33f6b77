//! Decoding a message body out of a read buffer, whatever its framing.
//!
//! [`BodyDecoder`] is a small state machine: the caller appends bytes read
//! from the socket to a `BytesMut` and calls [`BodyDecoder::decode`], which
//! takes what belongs to the body and leaves the rest (the next pipelined
//! message) in the buffer. Go splits the same job between `body` (its
//! `Read`, transfer.go:825, and `readTrailer`, transfer.go:905) and
//! `chunkedReader` (its `Read`, internal/chunked.go:70, and `beginChunk`,
//! internal/chunked.go:45, which reads each chunk line).
//!
//! The decoder never takes a byte past the end of its body: whatever
//! follows (the next pipelined request) is left in the buffer for the
//! connection to judge. Chunk lines are checked by `chunk_line.rs`, and the
//! trailer section is parsed by the same code and rules as a head's header
//! fields (`fields.rs`): CRLF line ends only, no obs-fold, no whitespace
//! before a colon.

use super::chunk_line::parse_chunk_line;
use super::fields::Fields;
use super::framing::BodyFraming;
use super::WireError;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;

/// One step of decoding.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A piece of the body.
    Data(Bytes),
    /// The buffer holds no complete piece: read more bytes and call again.
    NeedMore,
    /// The body is complete (trailers, if any, are in [`BodyDecoder::trailers`]).
    End,
}

/// Decodes one body of the given framing.
#[derive(Debug)]
pub struct BodyDecoder {
    state: State,
    trailers: HeaderMap,
    /// Bytes of chunk extensions seen so far in this body (at most
    /// `MAX_EXTENSION_BYTES` plus one line; `u32` keeps the decoder, which
    /// every request body holds, small).
    extension_bytes: u32,
    /// How many bytes at the front of the buffer were already searched
    /// for a line end without finding one (or, in the trailer section,
    /// without the section ending): bytes arriving one at a time are then
    /// looked at once each, not once per arrival. At most
    /// `MAX_TRAILER_BYTES`.
    scanned: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Fixed length: this many bytes still to come.
    Length(u64),
    /// Chunked: expecting a chunk-size line.
    ChunkSize,
    /// Chunked: inside chunk data, this many bytes still to come.
    ChunkData(u64),
    /// Chunked: expecting the CRLF that ends chunk data.
    ChunkDataEnd,
    /// Chunked: after the last chunk, reading trailer fields up to the empty line.
    Trailers,
    /// Read until the connection closes.
    UntilClose,
    Done,
}

impl State {
    /// Where decoding a body framed as `framing` starts.
    fn first(framing: BodyFraming) -> State {
        match framing {
            BodyFraming::Empty | BodyFraming::Length(0) => State::Done,
            BodyFraming::Length(n) => State::Length(n),
            BodyFraming::Chunked => State::ChunkSize,
            BodyFraming::UntilClose => State::UntilClose,
        }
    }
}

/// Longest chunk line (size and extensions, without CRLF) we accept.
const MAX_CHUNK_LINE: usize = 4096;
/// Total chunk-extension bytes allowed in one body: extensions carry
/// nothing we use, and a flood of tiny chunks with long extensions would
/// only burn our time (hyper has the same bound).
const MAX_EXTENSION_BYTES: usize = 16 * 1024;
/// Largest trailer section, and most trailer fields.
const MAX_TRAILER_BYTES: usize = 16 * 1024;
const MAX_TRAILER_FIELDS: usize = 64;

impl BodyDecoder {
    /// A decoder for one body framed as `framing` (from
    /// [`request_framing`](super::request_framing) or
    /// [`response_framing`](super::response_framing)).
    pub fn new(framing: BodyFraming) -> Self {
        BodyDecoder {
            state: State::first(framing),
            trailers: HeaderMap::new(),
            extension_bytes: 0,
            scanned: 0,
        }
    }

    /// Readies the decoder, in place, for the next body on the same
    /// connection, as [`BodyDecoder::new`] would make it: a server's
    /// connection does this once per request. In place, so that the
    /// trailer map, which nearly every body leaves empty, is not dropped
    /// and made again: 63 instructions per keep-alive request (7 013 ->
    /// 6 950; callgrind, `benches/instructions.sh`).
    pub fn restart(&mut self, framing: BodyFraming) {
        self.state = State::first(framing);
        if !self.trailers.is_empty() {
            self.trailers = HeaderMap::new();
        }
        self.extension_bytes = 0;
        self.scanned = 0;
    }

    /// True once the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Bytes of body still expected, when the framing says so.
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            State::Length(n) => Some(n),
            State::Done => Some(0),
            _ => None,
        }
    }

    /// Trailer fields of a chunked body, once it has ended.
    pub fn trailers(&self) -> &HeaderMap {
        &self.trailers
    }

    /// Takes the next piece of the body out of `buf`, leaving anything
    /// after the body's end where it is (Go: `body.Read`, transfer.go:825,
    /// and for a chunked body `chunkedReader.Read`, internal/chunked.go:70).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use server::wire::{BodyDecoder, BodyFraming, Decoded};
    ///
    /// let mut buf = BytesMut::from(&b"5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\nNEXT"[..]);
    /// let mut body = BodyDecoder::new(BodyFraming::Chunked);
    /// assert_eq!(body.decode(&mut buf).unwrap(), Decoded::Data("hello".into()));
    /// assert_eq!(body.decode(&mut buf).unwrap(), Decoded::End);
    /// assert_eq!(body.trailers()["x-sum"], "1");
    /// assert_eq!(&buf[..], b"NEXT");
    ///
    /// let mut bad = BytesMut::from(&b"5 \r\nhello\r\n"[..]);
    /// assert!(BodyDecoder::new(BodyFraming::Chunked).decode(&mut bad).is_err());
    /// ```
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, WireError> {
        loop {
            match self.state {
                State::Done => return Ok(Decoded::End),
                State::UntilClose => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    return Ok(Decoded::Data(buf.split().freeze()));
                }
                State::Length(remaining) | State::ChunkData(remaining) => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    let take = remaining.min(buf.len() as u64) as usize;
                    let left = remaining - take as u64;
                    self.state = match self.state {
                        State::Length(_) if left == 0 => State::Done,
                        State::Length(_) => State::Length(left),
                        _ if left == 0 => State::ChunkDataEnd,
                        _ => State::ChunkData(left),
                    };
                    return Ok(Decoded::Data(buf.split_to(take).freeze()));
                }
                State::ChunkSize => {
                    let Some(line) = take_line(buf, MAX_CHUNK_LINE, &mut self.scanned)? else {
                        return Ok(Decoded::NeedMore);
                    };
                    let (size, extension_len) = parse_chunk_line(&line)?;
                    // A line is at most MAX_CHUNK_LINE bytes: no overflow.
                    self.extension_bytes += extension_len as u32;
                    if self.extension_bytes as usize > MAX_EXTENSION_BYTES {
                        return Err(WireError::BadChunk("too many chunk extension bytes"));
                    }
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                }
                State::ChunkDataEnd => {
                    if buf.len() < 2 {
                        return Ok(Decoded::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(WireError::BadChunk("missing CRLF after chunk data"));
                    }
                    let _ = buf.split_to(2);
                    self.state = State::ChunkSize;
                }
                State::Trailers => {
                    // The section can only end when a line does: parse it
                    // again only when a new LF has arrived.
                    let fresh = &buf[(self.scanned as usize).min(buf.len())..];
                    if !fresh.contains(&b'\n') {
                        if buf.len() > MAX_TRAILER_BYTES {
                            return Err(WireError::BadChunk("trailer section too large"));
                        }
                        self.scanned = buf.len() as u32;
                        return Ok(Decoded::NeedMore);
                    }
                    let mut fields = Fields::new();
                    match fields.parse(buf, 0, MAX_TRAILER_FIELDS) {
                        Ok(true) if fields.end <= MAX_TRAILER_BYTES => {}
                        Ok(false) if buf.len() <= MAX_TRAILER_BYTES => {
                            self.scanned = buf.len() as u32;
                            return Ok(Decoded::NeedMore);
                        }
                        Ok(_) | Err(WireError::HeadTooLarge) => {
                            return Err(WireError::BadChunk("trailer section too large"))
                        }
                        Err(_) => return Err(WireError::BadChunk("malformed trailer section")),
                    }
                    let section = buf.split_to(fields.end).freeze();
                    self.trailers = fields
                        .to_header_map(&section)
                        .map_err(|_| WireError::BadChunk("malformed trailer section"))?;
                    self.state = State::Done;
                    return Ok(Decoded::End);
                }
            }
        }
    }

    /// Called when the peer closed the connection: ends a close-delimited
    /// body, and is an error for every other framing that is not done.
    pub fn decode_eof(&mut self) -> Result<Decoded, WireError> {
        match self.state {
            State::Done => Ok(Decoded::End),
            State::UntilClose => {
                self.state = State::Done;
                Ok(Decoded::End)
            }
            _ => Err(WireError::Truncated),
        }
    }
}

/// Removes one CRLF-terminated line from the front of `buf`, without its
/// CRLF. `Ok(None)` when the line is not complete yet.
/// `max` bytes at most, CRLF not counted. A bare LF ends nothing: it is an
/// error, as in a head. (A bare CR inside the line is refused by the
/// chunk-line grammar.) `scanned` bytes at the front are known to hold no
/// LF; it is updated, and reset once a line is taken.
fn take_line(buf: &mut BytesMut, max: usize, scanned: &mut u32) -> Result<Option<BytesMut>, WireError> {
    let window = &buf[..buf.len().min(max + 2)];
    let from = (*scanned as usize).min(window.len());
    let found = window[from..].iter().position(|&b| b == b'\n').map(|i| from + i);
    // The window is at most `max + 2` (a few KiB) long.
    *scanned = if found.is_some() { 0 } else { window.len() as u32 };
    match found {
        Some(lf) => {
            if lf == 0 || buf[lf - 1] != b'\r' {
                return Err(WireError::BadChunk("line not ended by CRLF"));
            }
            let mut line = buf.split_to(lf + 1);
            line.truncate(lf - 1);
            Ok(Some(line))
        }
        None if window.len() > max + 1 => Err(WireError::BadChunk("chunk line too long")),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes arriving one at a time decode exactly as bytes arriving at
    /// once (the `scanned` bookkeeping must not skip anything).
    #[test]
    fn byte_at_a_time_matches_all_at_once() {
        let wire = b"5;a=\"b c\"\r\nhello\r\n3\r\n!!!\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\nNEXT";
        let mut decoder = BodyDecoder::new(BodyFraming::Chunked);
        let mut buf = BytesMut::new();
        let mut data = Vec::new();
        let mut fed = 0;
        loop {
            match decoder.decode(&mut buf).unwrap() {
                Decoded::Data(piece) => data.extend_from_slice(&piece),
                Decoded::End => break,
                Decoded::NeedMore => {
                    buf.extend_from_slice(&wire[fed..fed + 1]);
                    fed += 1;
                }
            }
        }
        assert_eq!(data, b"hello!!!");
        assert_eq!(decoder.trailers()["x-b"], "2");
        buf.extend_from_slice(&wire[fed..]);
        assert_eq!(&buf[..], b"NEXT");
    }

    #[test]
    fn trickled_bad_trailer_is_still_refused() {
        let wire = b"0\r\nX-A : 1\r\n\r\n";
        let mut decoder = BodyDecoder::new(BodyFraming::Chunked);
        let mut buf = BytesMut::new();
        let mut result = Ok(Decoded::NeedMore);
        for &b in wire {
            buf.extend_from_slice(&[b]);
            result = decoder.decode(&mut buf);
            if result.is_err() {
                break;
            }
        }
        assert!(result.is_err());
    }
}
