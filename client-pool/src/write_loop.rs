//! The rest of a request body, written by a task of its own while the
//! response is read (Go: `persistConn.writeLoop`, transport.go:2389, which
//! keeps writing after `readLoop` has delivered the response).
//!
//! When the response head arrives before the whole request body is out (a
//! server that answers while still reading, like a streaming echo, or an
//! early 413), the exchange hands the unfinished [`BodyWrite`] to
//! [`WriteHandle::spawn`], and the caller reads the response meanwhile.
//!
//! The connection goes back to the pool only when both sides are done: the
//! response body read to its end *and* the request body written (Go checks
//! `persistConn.wroteRequest` before reusing a connection, transport.go:2152).
//! Whichever finishes last gives it back ([`release`]). An error on either
//! side closes it: a failed write shuts the socket down, which ends the read
//! side too; a response body dropped early stops the writer.

use crate::body_writer::BodyWrite;
use crate::lock::lock;
use crate::pool::Pooled;
use crate::Error;
use server::net_conn::NetConn;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

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
    parked: Option<Pooled>,
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
    /// `writeLoop` goroutine carrying on with `writeRequest`, transport.go:2389).
    pub(crate) fn spawn(mut body: BodyWrite, stream: Arc<NetConn>, conn_id: u64) -> WriteHandle {
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
                        if let Some(conn) = state.parked.take() {
                            drop(state);
                            drop(stream);
                            conn.put_back();
                        }
                    }
                    Err(e) => {
                        tracing::debug!(conn = conn_id, error = %e, "writing the request body failed; closing the connection");
                        state.outcome = Outcome::Failed(Some(e));
                        // Wake the reader: it sees end-of-file, then our error.
                        let _ = stream.with_socket(|socket| socket.shutdown(std::net::Shutdown::Both));
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
pub(crate) fn release(conn: Pooled, reusable: bool, writer: Option<WriteHandle>) {
    // Bytes after the end of the body are a response nobody asked for:
    // the connection cannot be trusted.
    if !reusable || !conn.read_buf.is_empty() {
        return;
    }
    let Some(mut writer) = writer else {
        conn.put_back();
        return;
    };
    let mut state = lock(&writer.shared);
    match state.outcome {
        Outcome::Written => {
            drop(state);
            drop(writer);
            conn.put_back();
        }
        Outcome::Failed(_) => {}
        Outcome::Writing => {
            tracing::trace!(
                conn = conn.id,
                "response done before the request body: the writer returns the connection"
            );
            state.parked = Some(conn);
            drop(state);
            // The task must go on: let it run free.
            writer.task = None;
        }
    }
}
