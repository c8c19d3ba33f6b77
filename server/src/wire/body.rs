//! Decoding a message body out of a read buffer, whatever its framing.
//!
//! [`BodyDecoder`] is a small state machine: the caller appends bytes read
//! from the socket to a `BytesMut` and calls [`BodyDecoder::decode`], which
//! takes what belongs to the body and leaves the rest (the next pipelined
//! message) in the buffer. Go splits the same job between `body` in
//! transfer.go and `chunkedReader` in internal/chunked.go.

use super::head::BodyFraming;
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

/// Longest chunk-size line (with extensions) or trailer section we accept.
const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILER_BYTES: usize = 16 * 1024;

impl BodyDecoder {
    pub fn new(framing: BodyFraming) -> Self {
        let state = match framing {
            BodyFraming::Empty | BodyFraming::Length(0) => State::Done,
            BodyFraming::Length(n) => State::Length(n),
            BodyFraming::Chunked => State::ChunkSize,
            BodyFraming::UntilClose => State::UntilClose,
        };
        BodyDecoder {
            state,
            trailers: HeaderMap::new(),
        }
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

    /// Takes the next piece of the body out of `buf`.
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
                    let Some(line) = take_line(buf, MAX_CHUNK_LINE)? else {
                        return Ok(Decoded::NeedMore);
                    };
                    let size = parse_chunk_size(&line)?;
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
                    let Some(line) = take_line(buf, MAX_TRAILER_BYTES)? else {
                        return Ok(Decoded::NeedMore);
                    };
                    if line.is_empty() {
                        self.state = State::Done;
                        return Ok(Decoded::End);
                    }
                    self.add_trailer(&line)?;
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

    fn add_trailer(&mut self, line: &[u8]) -> Result<(), WireError> {
        if self.trailers.len() >= 100 {
            return Err(WireError::BadChunk("too many trailer fields"));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(WireError::BadChunk("trailer without colon"))?;
        let name = http::HeaderName::from_bytes(&line[..colon])
            .map_err(|_| WireError::BadChunk("invalid trailer name"))?;
        let value = http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii())
            .map_err(|_| WireError::BadChunk("invalid trailer value"))?;
        self.trailers.append(name, value);
        Ok(())
    }
}

/// Removes one CRLF-terminated line from the front of `buf`, without its
/// CRLF. `Ok(None)` when the line is not complete yet.
fn take_line(buf: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, WireError> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(lf) => {
            if lf == 0 || buf[lf - 1] != b'\r' {
                return Err(WireError::BadChunk("line not ended by CRLF"));
            }
            let mut line = buf.split_to(lf + 1);
            line.truncate(lf - 1);
            Ok(Some(line))
        }
        None if buf.len() > max => Err(WireError::BadChunk("line too long")),
        None => Ok(None),
    }
}

/// `chunk-size [ chunk-ext ]`: hex digits, then optional `;name[=value]`s.
fn parse_chunk_size(line: &[u8]) -> Result<u64, WireError> {
    let digits_end = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    let (digits, rest) = line.split_at(digits_end);
    if digits.is_empty() {
        return Err(WireError::BadChunk("chunk size is not hex"));
    }
    if digits.len() > 15 {
        return Err(WireError::BadChunk("chunk size too large"));
    }
    if !rest.is_empty() && rest[0] != b';' && rest[0] != b' ' && rest[0] != b'\t' {
        return Err(WireError::BadChunk("chunk size is not hex"));
    }
    let mut size = 0u64;
    for &d in digits {
        let value = (d as char).to_digit(16).unwrap_or(0);
        size = (size << 4) | u64::from(value);
    }
    Ok(size)
}
