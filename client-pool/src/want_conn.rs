//! A request waiting for a connection (Go: `wantConn`, transport.go:1188),
//! and the queues such requests wait in (Go: `wantConnQueue`,
//! transport.go:1251).
//!
//! A waiting request is one slot that the first of two deliverers fills:
//! its own dial, or a connection another request gives back. The same
//! `WantConn` may sit in two queues (for a returned connection, and for the
//! right to dial); whoever finds it already served or cancelled skips it.
//! It is generic over what is delivered (the pool delivers its `Pooled`
//! connections), so it knows nothing of pools or sockets.

use crate::lock::lock;
use crate::{ConnectKey, Error};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// What a waiting request receives: a connection, or its dial's error.
pub(crate) type Delivery<Conn> = Result<Conn, Error>;

/// Per key, the requests waiting in line, oldest first.
pub(crate) type WaitQueues<Conn> = HashMap<ConnectKey, VecDeque<Arc<WantConn<Conn>>>>;

/// A request waiting for a connection (Go: `wantConn`, transport.go:1188).
pub(crate) struct WantConn<Conn> {
    tx: Mutex<Option<oneshot::Sender<Delivery<Conn>>>>,
}

impl<Conn> WantConn<Conn> {
    /// A new waiter, and the receiver its request awaits.
    pub(crate) fn new() -> (Arc<WantConn<Conn>>, oneshot::Receiver<Delivery<Conn>>) {
        let (tx, rx) = oneshot::channel();
        (
            Arc::new(WantConn {
                tx: Mutex::new(Some(tx)),
            }),
            rx,
        )
    }

    /// Still waiting: neither served nor given up (Go: `wantConn.waiting`,
    /// transport.go:1206).
    pub(crate) fn is_waiting(&self) -> bool {
        lock(&self.tx).as_ref().is_some_and(|tx| !tx.is_closed())
    }

    /// Hands over `conn` if still waiting; gives it back otherwise (Go:
    /// `wantConn.tryDeliver`, transport.go:1216).
    pub(crate) fn try_deliver(&self, conn: Conn) -> Option<Conn> {
        let tx = lock(&self.tx).take();
        match tx {
            None => Some(conn),
            Some(tx) => match tx.send(Ok(conn)) {
                Ok(()) => None,
                Err(Ok(conn)) => Some(conn),
                Err(Err(_)) => None,
            },
        }
    }

    /// Tells the waiter its dial failed, if it still waits.
    pub(crate) fn deliver_error(&self, error: Error) {
        if let Some(tx) = lock(&self.tx).take() {
            let _ = tx.send(Err(error));
        }
    }

    /// The request gave up (cancelled, timed out): nobody may serve it now
    /// (Go: `wantConn.cancel`, transport.go:1235).
    pub(crate) fn cancel(&self) {
        lock(&self.tx).take();
    }
}

/// Appends a waiter to `key`'s queue, first dropping served or cancelled
/// waiters from its front so the queue stays short (Go:
/// `wantConnQueue.cleanFront`, transport.go:1305).
pub(crate) fn enqueue<Conn>(queues: &mut WaitQueues<Conn>, key: &ConnectKey, want: Arc<WantConn<Conn>>) {
    let queue = match queues.get_mut(key) {
        Some(queue) => queue,
        None => queues.entry(key.clone()).or_default(),
    };
    while queue.front().is_some_and(|w| !w.is_waiting()) {
        queue.pop_front();
    }
    queue.push_back(want);
}
