//! Writing a request head and body that do not fit in one write (Go:
//! `transferWriter.writeBody`, transfer.go:336, as run by
//! `persistConn.writeLoop`, transport.go:2389).
//!
//! A [`BodyWrite`] is a small, resumable state machine: bytes framed but
//! not yet written, and where the next bytes come from. Until the response
//! head arrives, the request's own task drives it beside the head read
//! (`exchange`); if the head comes first, `write_loop` gives it a task of
//! its own. It knows sockets and bodies, nothing of pools.

use crate::Error;
use bytes::{Buf, Bytes};
use http::HeaderMap;
use server::net_conn::NetConn;
use server::wire;
use std::collections::VecDeque;
use std::io;
use tokio::sync::mpsc;

/// What is left to write of one request: framed bytes not yet on the
/// wire, then whatever the body source still holds.
///
/// Every `.await` in [`run`](Self::run) can be abandoned without losing a
/// byte (socket readiness and `mpsc::Receiver::recv` are cancel-safe, and
/// progress is recorded between awaits), so it may be polled in a
/// `select!` and resumed later, in another task.
pub(crate) struct BodyWrite {
    queue: VecDeque<Bytes>,
    source: Source,
}

enum Source {
    /// Everything is in the queue.
    Finished,
    /// A streamed body: pieces still to come from the caller's sender.
    Channel {
        /// Declared length (`Content-Length`), or `None` for chunked.
        length: Option<u64>,
        rx: mpsc::Receiver<Result<Bytes, String>>,
        sent: u64,
    },
}

/// The write queue, starting with `head` unless it is empty (a zero-byte
/// write would read as a connection that accepts nothing).
fn head_queue(head: &[u8]) -> VecDeque<Bytes> {
    let mut queue = VecDeque::with_capacity(2);
    if !head.is_empty() {
        queue.push_back(Bytes::copy_from_slice(head));
    }
    queue
}

impl BodyWrite {
    /// The head, then a body already in memory. An empty `head` (it went
    /// out already, before a `100 Continue`) is left out.
    pub(crate) fn whole(head: &[u8], body: Bytes) -> BodyWrite {
        let mut queue = head_queue(head);
        queue.push_back(body);
        BodyWrite {
            queue,
            source: Source::Finished,
        }
    }

    /// The head, then a body streamed through a `BodySender`: as is when
    /// its length was declared, chunk-encoded otherwise (Go:
    /// `transferWriter.writeBody`, transfer.go:336).
    pub(crate) fn channel(
        head: &[u8],
        length: Option<u64>,
        rx: mpsc::Receiver<Result<Bytes, String>>,
    ) -> BodyWrite {
        BodyWrite {
            queue: head_queue(head),
            source: Source::Channel { length, rx, sent: 0 },
        }
    }

    /// Writes until the whole request is on the wire.
    pub(crate) async fn run(&mut self, stream: &NetConn) -> Result<(), Error> {
        loop {
            while let Some(front) = self.queue.front_mut() {
                match stream.write_some(front).await {
                    Ok(0) => return Err(Error::Write(io::ErrorKind::WriteZero.into())),
                    Ok(n) => {
                        front.advance(n);
                        if front.is_empty() {
                            self.queue.pop_front();
                        }
                    }
                    Err(e) => return Err(Error::Write(e)),
                }
            }
            let Source::Channel { length, rx, sent } = &mut self.source else {
                return stream.flush().await.map_err(Error::Write);
            };
            // What the queue held is out of our hands; over TLS, out of
            // rustls's too, before we wait for the caller's next piece.
            stream.flush().await.map_err(Error::Write)?;
            match rx.recv().await {
                Some(Ok(data)) if data.is_empty() => {}
                Some(Ok(data)) => {
                    *sent += data.len() as u64;
                    match *length {
                        Some(declared) if *sent > declared => {
                            return Err(Error::BodyLength {
                                declared,
                                actual: *sent,
                            })
                        }
                        Some(_) => self.queue.push_back(data),
                        None => {
                            let mut framed = Vec::with_capacity(data.len() + 16);
                            wire::encode_chunk(&mut framed, &data);
                            self.queue.push_back(framed.into());
                        }
                    }
                }
                Some(Err(why)) => return Err(Error::RequestBody(why)),
                // The sender was dropped: the body is complete.
                None => {
                    match *length {
                        Some(declared) if *sent != declared => {
                            return Err(Error::BodyLength {
                                declared,
                                actual: *sent,
                            })
                        }
                        Some(_) => {}
                        None => {
                            let mut framed = Vec::new();
                            wire::encode_last_chunk(&mut framed, &HeaderMap::new());
                            self.queue.push_back(framed.into());
                        }
                    }
                    self.source = Source::Finished;
                }
            }
        }
    }
}
