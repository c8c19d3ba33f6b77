//! Reading a message body off a connection: the two steps that the
//! server's request bodies ([`Body`](crate::Body)) and the client's
//! response bodies share, as Go's `transfer.go` reads the bodies of both
//! sides with one `body` type (transfer.go:800).
//!
//! - [`next_piece`]: the next piece of a body, decoded from the bytes
//!   already buffered when they hold one, else after reading more from the
//!   socket.
//! - [`Collector`]: reading a whole body under a size limit (Go:
//!   `MaxBytesReader`, request.go:1119, on the server; `io.LimitReader`
//!   around `io.ReadAll` on a client), with no I/O of its own.
//!
//! This module knows the wire format's body decoder and nothing of
//! requests, responses, sockets or pools: each side says how it reads more
//! bytes by implementing [`BodySource`].

use crate::wire::{BodyDecoder, Decoded, WireError};
use bytes::{Bytes, BytesMut};
use std::future::Future;

/// Where a body's bytes come from: a read buffer, and a way to add to it.
///
/// The server's implementation sends `100 Continue` before its first read
/// from the socket, when the client asked for it (Go: `expectContinueReader`,
/// server.go:898); the client's notices a failed request-body write.
pub trait BodySource {
    /// What a failed read reports.
    type Error;

    /// The bytes read from the connection and not decoded yet.
    fn buffer(&mut self) -> &mut BytesMut;

    /// Reads more bytes into [`buffer`](Self::buffer), waiting for at
    /// least one; `Ok(0)` means the peer closed its side.
    fn read_more(&mut self) -> impl Future<Output = Result<usize, Self::Error>> + Send;
}

/// Why [`next_piece`] found no piece.
#[derive(Debug)]
pub enum PieceError<E> {
    /// The body's framing is broken, or it was cut short by the peer's close.
    Wire(WireError),
    /// Reading more bytes failed.
    Read(E),
}

/// The next piece of a body, or `None` at its end: decodes what the buffer
/// holds, and reads from the source only while that is not a whole piece.
/// A body delimited by the connection's close ends at end-of-file; any
/// other body is then truncated.
pub async fn next_piece<S: BodySource>(
    decoder: &mut BodyDecoder,
    source: &mut S,
) -> Result<Option<Bytes>, PieceError<S::Error>> {
    loop {
        match decoder.decode(source.buffer()).map_err(PieceError::Wire)? {
            Decoded::Data(bytes) => return Ok(Some(bytes)),
            Decoded::End => return Ok(None),
            Decoded::NeedMore => {}
        }
        if source.read_more().await.map_err(PieceError::Read)? == 0 {
            return match decoder.decode_eof() {
                Ok(_) => Ok(None),
                Err(e) => Err(PieceError::Wire(e)),
            };
        }
    }
}

/// Gathers a whole body in memory, refusing one longer than a limit.
///
/// A body whose declared length (`Content-Length`) is over the limit is
/// refused before anything is read; any other as soon as the bytes added
/// pass it, so an endless body costs at most `limit` bytes of memory. A
/// body that comes in one piece (a `Content-Length` body already buffered,
/// most often) is handed back as that piece, without a copy.
///
/// ```
/// use bytes::Bytes;
/// use server::body_read::Collector;
///
/// assert!(Collector::new(4, Some(5)).is_err()); // declared too long
/// let mut all = Collector::new(4, None).unwrap();
/// assert_eq!(all.add(Bytes::from_static(b"ab"), false).unwrap(), None);
/// assert_eq!(all.add(Bytes::from_static(b"cd"), true).unwrap(), None);
/// assert_eq!(all.finish(), "abcd");
/// let mut one = Collector::new(4, Some(3)).unwrap();
/// assert_eq!(one.add(Bytes::from_static(b"abc"), true).unwrap().unwrap(), "abc");
/// assert!(Collector::new(4, None).unwrap().add(Bytes::from_static(b"abcde"), true).is_err());
/// ```
#[derive(Debug)]
pub struct Collector {
    limit: usize,
    all: BytesMut,
}

/// The body is longer than the [`Collector`]'s limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

impl Collector {
    /// Starts gathering a body of at most `limit` bytes; `declared` is the
    /// length the body's framing announces, if any.
    pub fn new(limit: usize, declared: Option<u64>) -> Result<Collector, TooLarge> {
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(TooLarge);
        }
        Ok(Collector {
            limit,
            all: BytesMut::new(),
        })
    }

    /// Adds the next piece; `is_last`: the body has ended with it. Returns
    /// the whole body when this piece is all of it (first and last), as is.
    pub fn add(&mut self, piece: Bytes, is_last: bool) -> Result<Option<Bytes>, TooLarge> {
        if self.all.len() + piece.len() > self.limit {
            return Err(TooLarge);
        }
        if self.all.is_empty() && is_last {
            return Ok(Some(piece));
        }
        self.all.extend_from_slice(&piece);
        Ok(None)
    }

    /// The body gathered so far, once its end has been read.
    pub fn finish(self) -> Bytes {
        self.all.freeze()
    }
}
