//! Writing a request body while the response is read (Go:
//! `persistConn.writeLoop`, which runs beside `readLoop`).
//!
//! A request whose body does not fit in the head's write is sent by a
//! [`BodyWrite`]: a small, resumable state machine (bytes framed but not yet
//! written, and where the next bytes come from). Until the response head
//! arrives, the request's own task drives it beside the head read. If the
//! head comes first (a server that answers while still reading, like a
//! streaming echo, or an early 413), the rest of the body is handed to a
//! task of its own ([`WriteHandle::spawn`]) so that writing goes on while
//! the caller reads the response, as Go's `writeLoop` keeps writing after
//! `readLoop` has delivered the response.
//!
//! The connection goes back to the pool only when both sides are done: the
//! response body read to its end *and* the request body written (Go checks
//! `persistConn.wroteRequest` before reusing a connection). Whichever
//! finishes last gives it back ([`release`]). An error on either side
//! closes it: a failed write shuts the socket down, which ends the read
//! side too; a response body dropped early stops the writer.

use crate::conn::PersistConn;
use crate::transport::Inner;
use crate::Error;
use bytes::{Buf, Bytes};
use http::HeaderMap;
use server::wire;
use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

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

impl BodyWrite {
    /// The head, then a body already in memory.
    pub(crate) fn whole(head: &[u8], body: Bytes) -> BodyWrite {
        BodyWrite {
            queue: VecDeque::from([Bytes::copy_from_slice(head), body]),
            source: Source::Finished,
        }
    }

    /// The head, then a body streamed through a `BodySender`: as is when
    /// its length was declared, chunk-encoded otherwise (Go:
    /// `transferWriter.writeBody`).
    pub(crate) fn channel(
        head: &[u8],
        length: Option<u64>,
        rx: mpsc::Receiver<Result<Bytes, String>>,
    ) -> BodyWrite {
        BodyWrite {
            queue: VecDeque::from([Bytes::copy_from_slice(head)]),
            source: Source::Channel { length, rx, sent: 0 },
        }
    }

    /// Writes until the whole request is on the wire.
    pub(crate) async fn run(&mut self, stream: &TcpStream) -> Result<(), Error> {
        loop {
            while let Some(front) = self.queue.front_mut() {
                stream.writable().await.map_err(Error::Write)?;
                match stream.try_write(front) {
                    Ok(0) => return Err(Error::Write(io::ErrorKind::WriteZero.into())),
                    Ok(n) => {
                        front.advance(n);
                        if front.is_empty() {
                            self.queue.pop_front();
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(Error::Write(e)),
                }
            }
            let Source::Channel { length, rx, sent } = &mut self.source else {
                return Ok(());
            };
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

/// The rest of a request body being written by its own task, as the
/// response is read. Dropping it before the write ended stops the task
/// (and so closes the connection, whose last handle the task held).
pub(crate) struct WriteHandle {
    shared: Arc<Mutex<Shared>>,
    task: Option<JoinHandle<()>>,
}

/// What the writer task and the response side share.
#[derive(Default)]
struct Shared {
    outcome: Outcome,
    /// The connection, when the response ended before the body was
    /// written: the writer gives it back to the pool if it finishes well.
    parked: Option<(PersistConn, Arc<Inner>)>,
}

#[derive(Default)]
enum Outcome {
    #[default]
    Writing,
    Written,
    /// The error, until the response side takes it to report it.
    Failed(Option<Error>),
}

impl WriteHandle {
    /// Starts a task that writes the rest of `body` on `stream` (Go: the
    /// `writeLoop` goroutine carrying on with `writeRequest`).
    pub(crate) fn spawn(mut body: BodyWrite, stream: Arc<TcpStream>, conn_id: u64) -> WriteHandle {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let task = tokio::spawn({
            let shared = shared.clone();
            async move {
                let result = body.run(&stream).await;
                let mut state = lock(&shared);
                match result {
                    Ok(()) => {
                        state.outcome = Outcome::Written;
                        tracing::trace!(conn = conn_id, "request body written after the response head");
                        if let Some((conn, transport)) = state.parked.take() {
                            drop(state);
                            drop(stream);
                            transport.put_idle(conn);
                        }
                    }
                    Err(e) => {
                        tracing::debug!(conn = conn_id, error = %e, "writing the request body failed; closing the connection");
                        state.outcome = Outcome::Failed(Some(e));
                        // Wake the reader: it sees end-of-file, then our error.
                        let _ = socket2::SockRef::from(&*stream).shutdown(std::net::Shutdown::Both);
                        let parked = state.parked.take();
                        drop(state);
                        drop(parked);
                    }
                }
            }
        });
        WriteHandle {
            shared,
            task: Some(task),
        }
    }

    /// The writer's error, if it failed (taken once: the reader reports it
    /// instead of the bare end-of-file the shutdown caused).
    pub(crate) fn take_error(&self) -> Option<Error> {
        match &mut lock(&self.shared).outcome {
            Outcome::Failed(error) => error.take(),
            _ => None,
        }
    }
}

impl Drop for WriteHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The response side is done with `conn` (its body read to the end, or
/// there was none): back to the pool if it is `reusable` and the request
/// body is fully written; parked with the writer if the body is still
/// going out; closed otherwise.
pub(crate) fn release(conn: PersistConn, reusable: bool, writer: Option<WriteHandle>, transport: Arc<Inner>) {
    // Bytes after the end of the body are a response nobody asked for:
    // the connection cannot be trusted.
    if !reusable || !conn.read_buf.is_empty() {
        return;
    }
    let Some(mut writer) = writer else {
        transport.put_idle(conn);
        return;
    };
    let mut state = lock(&writer.shared);
    match state.outcome {
        Outcome::Written => {
            drop(state);
            drop(writer);
            transport.put_idle(conn);
        }
        Outcome::Failed(_) => {}
        Outcome::Writing => {
            tracing::trace!(
                conn = conn.id,
                "response done before the request body: the writer returns the connection"
            );
            state.parked = Some((conn, transport));
            drop(state);
            // The task must go on: let it run free.
            writer.task = None;
        }
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
