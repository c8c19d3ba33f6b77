//! The pool's bookkeeping, all under one mutex (Go: the fields guarded by
//! `Transport.idleMu` and `Transport.connsPerHostMu`).
//!
//! - `idle`: per key, the idle connections, most recently used last (Go:
//!   `idleConn`), and their total (Go: `idleLRU`, which we scan instead:
//!   with at most `max_idle_conns` of them, a scan is cheap and plain).
//! - `idle_waiters`: per key, requests waiting for a connection to be
//!   returned, oldest first (Go: `idleConnWait`).
//! - `conns_per_host` and `dial_waiters`: per key, how many connections
//!   exist (idle + active + dialling) and who waits for the right to dial
//!   (Go: `connsPerHost`, `connsPerHostWait`).
//!
//! A waiting request is a [`WantConn`] (Go: `wantConn`): one slot that the
//! first of its own dial or a returned connection fills. The same
//! `WantConn` may sit in both queues; whoever finds it already served or
//! cancelled skips it.
//!
//! One rule keeps the mutex safe: a connection is never dropped while the
//! lock is held, because dropping one releases its [`HostSlot`], which
//! takes the lock. Connections to close are gathered and dropped after.

use crate::conn::PersistConn;
use crate::transport::Inner;
use crate::{ConnectKey, Error};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// What a waiting request receives: a connection, or its dial's error.
pub(crate) type Delivery = Result<PersistConn, Error>;

/// A request waiting for a connection (Go: `wantConn`).
pub(crate) struct WantConn {
    tx: Mutex<Option<oneshot::Sender<Delivery>>>,
}

impl WantConn {
    pub(crate) fn new() -> (Arc<WantConn>, oneshot::Receiver<Delivery>) {
        let (tx, rx) = oneshot::channel();
        (
            Arc::new(WantConn {
                tx: Mutex::new(Some(tx)),
            }),
            rx,
        )
    }

    /// Still waiting: neither served nor given up (Go: `wantConn.waiting`).
    pub(crate) fn is_waiting(&self) -> bool {
        self.tx
            .lock()
            .map(|tx| tx.as_ref().is_some_and(|tx| !tx.is_closed()))
            .unwrap_or(false)
    }

    /// Hands over `conn` if still waiting; gives it back otherwise (Go:
    /// `wantConn.tryDeliver`).
    pub(crate) fn try_deliver(&self, conn: PersistConn) -> Option<PersistConn> {
        let tx = self.tx.lock().ok().and_then(|mut tx| tx.take());
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
        if let Some(tx) = self.tx.lock().ok().and_then(|mut tx| tx.take()) {
            let _ = tx.send(Err(error));
        }
    }

    /// The request gave up (cancelled, timed out): nobody may serve it now
    /// (Go: `wantConn.cancel`).
    pub(crate) fn cancel(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
    }
}

/// One unit of a key's connection count (Go: `connsPerHost[key]`), held by
/// a dial in progress and then by the connection it made. Dropping it
/// passes the right to dial to the next waiter, or lowers the count (Go:
/// `decConnsPerHost`).
pub(crate) struct HostSlot {
    pub(crate) transport: Weak<Inner>,
    pub(crate) key: ConnectKey,
}

impl Drop for HostSlot {
    fn drop(&mut self) {
        if let Some(transport) = self.transport.upgrade() {
            transport.release_host_slot(&self.key);
        }
    }
}

/// Everything under the pool's mutex.
#[derive(Default)]
pub(crate) struct PoolState {
    pub idle: HashMap<ConnectKey, VecDeque<PersistConn>>,
    pub idle_total: usize,
    pub idle_waiters: HashMap<ConnectKey, VecDeque<Arc<WantConn>>>,
    pub conns_per_host: HashMap<ConnectKey, usize>,
    pub dial_waiters: HashMap<ConnectKey, VecDeque<Arc<WantConn>>>,
    /// The task closing expired idle connections is scheduled.
    pub reaper_running: bool,
}

impl PoolState {
    /// The most recently used idle connection of `key` that has not expired
    /// (Go: the search in `queueForIdleConn`). Expired ones met on the way
    /// go to `discard`.
    pub fn take_idle(
        &mut self,
        key: &ConnectKey,
        idle_timeout: Option<Duration>,
        now: Instant,
        discard: &mut Vec<PersistConn>,
    ) -> Option<PersistConn> {
        let list = self.idle.get_mut(key)?;
        let mut found = None;
        while let Some(conn) = list.pop_back() {
            self.idle_total -= 1;
            if is_expired(&conn, idle_timeout, now) {
                discard.push(conn);
                continue;
            }
            found = Some(conn);
            break;
        }
        if list.is_empty() {
            self.idle.remove(key);
        }
        found
    }

    /// Appends a waiter to a queue, first dropping served or cancelled
    /// waiters from its front so the queue stays short (Go: `cleanFront`).
    pub fn enqueue(
        queues: &mut HashMap<ConnectKey, VecDeque<Arc<WantConn>>>,
        key: &ConnectKey,
        want: Arc<WantConn>,
    ) {
        let queue = match queues.get_mut(key) {
            Some(queue) => queue,
            None => queues.entry(key.clone()).or_default(),
        };
        while queue.front().is_some_and(|w| !w.is_waiting()) {
            queue.pop_front();
        }
        queue.push_back(want);
    }

    /// Puts `conn` at the most-recent end of its key's idle list, or into
    /// `discard` when that list is full (Go: `errTooManyIdleHost`); then
    /// evicts the oldest idle connection of any key while the total is
    /// over `max_total` (Go: `idleLRU.removeOldest`).
    pub fn push_idle(
        &mut self,
        mut conn: PersistConn,
        per_host: usize,
        max_total: usize,
        discard: &mut Vec<PersistConn>,
    ) {
        let list = match self.idle.get_mut(&conn.key) {
            Some(list) => list,
            None => self.idle.entry(conn.key.clone()).or_default(),
        };
        if list.len() >= per_host {
            discard.push(conn);
            return;
        }
        conn.idle_since = Some(Instant::now());
        list.push_back(conn);
        self.idle_total += 1;
        while self.idle_total > max_total {
            match self.remove_oldest() {
                Some(oldest) => discard.push(oldest),
                None => break,
            }
        }
    }

    /// Removes the idle connection that has been idle longest, of any key.
    fn remove_oldest(&mut self) -> Option<PersistConn> {
        let key = self
            .idle
            .iter()
            .filter_map(|(key, list)| list.front().and_then(|c| c.idle_since).map(|at| (at, key)))
            .min_by_key(|(at, _)| *at)
            .map(|(_, key)| key.clone())?;
        let list = self.idle.get_mut(&key)?;
        let oldest = list.pop_front();
        if list.is_empty() {
            self.idle.remove(&key);
        }
        if oldest.is_some() {
            self.idle_total -= 1;
        }
        oldest
    }

    /// Moves every expired idle connection to `discard`; returns when the
    /// next one will expire, if any remain.
    pub fn prune_expired(
        &mut self,
        idle_timeout: Duration,
        now: Instant,
        discard: &mut Vec<PersistConn>,
    ) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut removed = 0;
        self.idle.retain(|_, list| {
            // Oldest first: expired ones are all at the front.
            while list
                .front()
                .is_some_and(|c| is_expired(c, Some(idle_timeout), now))
            {
                if let Some(conn) = list.pop_front() {
                    discard.push(conn);
                    removed += 1;
                }
            }
            if let Some(at) = list.front().and_then(|c| c.idle_since) {
                let expiry = at + idle_timeout;
                next = Some(next.map_or(expiry, |n| n.min(expiry)));
            }
            !list.is_empty()
        });
        self.idle_total -= removed;
        next
    }

    /// Empties every idle list into `discard`.
    pub fn drain_idle(&mut self, discard: &mut Vec<PersistConn>) {
        for (_, list) in self.idle.drain() {
            discard.extend(list);
        }
        self.idle_total = 0;
    }
}

fn is_expired(conn: &PersistConn, idle_timeout: Option<Duration>, now: Instant) -> bool {
    match (idle_timeout, conn.idle_since) {
        (Some(timeout), Some(since)) => now.saturating_duration_since(since) >= timeout,
        _ => false,
    }
}
