//! The pool: idle connections by key, requests waiting for one, and the
//! per-host connection count (Go: the `Transport` fields guarded by
//! `idleMu` and `connsPerHostMu`, transport.go:95, and the functions that
//! use them).
//!
//! - [`Pool::get_conn`] (Go: `Transport.getConn`, transport.go:1332): the
//!   most recently used idle connection of the key if one is alive (Go:
//!   `queueForIdleConn`, transport.go:1008); otherwise the request becomes
//!   a waiter *and* starts a dial (Go: `queueForDial`, transport.go:1416;
//!   `dialConnFor`, transport.go:1447), or, at `max_conns_per_host`, waits
//!   in line for the right to dial (Go: `connsPerHostWait`, transport.go:110).
//! - [`Pooled::put_back`] (Go: `tryPutIdleConn`, transport.go:912): a
//!   connection is free again; the oldest live waiter gets it, or it joins
//!   the idle list.
//! - Dropping a [`Pooled`] connection closes it and gives back its place
//!   in the per-host count (Go: `decConnsPerHost`, transport.go:1465),
//!   which goes to the first request waiting for the right to dial.
//!
//! Everything that changes lives in [`PoolState`], under one mutex. One
//! rule keeps that mutex safe: a connection is never dropped while the
//! lock is held, because dropping one releases its [`HostSlot`], which
//! takes the lock. Connections to close are gathered and dropped after.

use crate::conn::PersistConn;
use crate::idle::{IdleLists, Keyed};
use crate::lock::lock;
use crate::want_conn::{enqueue, Delivery, WaitQueues, WantConn};
use crate::{ConnectKey, Error, GotConnInfo, TransportConfig};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The connection pool of one Transport.
pub(crate) struct Pool {
    config: Arc<TransportConfig>,
    state: Mutex<PoolState>,
    next_conn_id: AtomicU64,
    dials: AtomicU64,
    /// Ourselves, for the per-host slots and background tasks (which must
    /// not keep the pool alive: idle connections die with it).
    weak_self: Weak<Pool>,
}

/// Everything under the pool's mutex.
#[derive(Default)]
struct PoolState {
    /// Go: `idleConn` and `idleLRU`, transport.go:98.
    idle: IdleLists<Pooled>,
    /// Requests waiting for a connection to be returned (Go: `idleConnWait`, transport.go:99).
    idle_waiters: WaitQueues<Pooled>,
    /// Connections per key: idle + active + dialling (Go: `connsPerHost`, transport.go:109).
    conns_per_host: HashMap<ConnectKey, usize>,
    /// Requests waiting for the right to dial (Go: `connsPerHostWait`, transport.go:110).
    dial_waiters: WaitQueues<Pooled>,
    /// The task closing expired idle connections is scheduled.
    reaper_running: bool,
}

/// A connection on loan from the pool: the connection itself (it derefs to
/// it) and its [`HostSlot`] (hyper-util calls the same wrapper `Pooled`).
/// [`put_back`](Self::put_back) returns it; dropping it closes the
/// connection and frees its slot.
pub(crate) struct Pooled {
    conn: PersistConn,
    slot: HostSlot,
}

/// A connection's place in the pool: which pool and key it belongs to and,
/// when `max_conns_per_host` is set, one unit of that key's count (Go:
/// `connsPerHost[key]`, transport.go:109). A dial in progress holds it,
/// then the connection it made. Dropping a counted slot passes the right
/// to dial to the next waiter, or lowers the count (Go: `decConnsPerHost`,
/// transport.go:1465).
struct HostSlot {
    /// Weak: an idle connection must not keep its own pool alive.
    pool: Weak<Pool>,
    key: ConnectKey,
    counted: bool,
}

impl Drop for HostSlot {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        if let Some(pool) = self.pool.upgrade() {
            pool.release_host_slot(&self.key);
        }
    }
}

impl Deref for Pooled {
    type Target = PersistConn;
    fn deref(&self) -> &PersistConn {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut PersistConn {
        &mut self.conn
    }
}

impl Keyed for Pooled {
    fn key(&self) -> &ConnectKey {
        &self.slot.key
    }
}

impl Pooled {
    /// The connection is free again (Go: `tryPutIdleConn`,
    /// transport.go:912): to a waiting request or the idle list; closed if
    /// the pool is gone or keeps no idle connections.
    pub(crate) fn put_back(self) {
        if let Some(pool) = self.slot.pool.upgrade() {
            pool.put_idle(self);
        }
    }

    /// How the request got this connection, for `ClientTrace` and the
    /// response's extensions.
    fn got_conn_info(&self, was_idle: bool, idle_time: Duration) -> GotConnInfo {
        GotConnInfo {
            reused: self.conn.requests_served > 0,
            was_idle,
            idle_time,
            conn_id: self.conn.id,
            local_addr: self.conn.local_addr,
            remote_addr: self.conn.remote_addr,
            tls: self.conn.tls.clone(),
        }
    }
}

impl Pool {
    pub(crate) fn new(config: Arc<TransportConfig>) -> Arc<Pool> {
        Arc::new_cyclic(|weak_self| Pool {
            config,
            state: Mutex::new(PoolState::default()),
            next_conn_id: AtomicU64::new(1),
            dials: AtomicU64::new(0),
            weak_self: weak_self.clone(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        lock(&self.state)
    }

    /// Connections dialled successfully so far.
    pub(crate) fn dials(&self) -> u64 {
        self.dials.load(Ordering::Relaxed)
    }

    /// Connections idle right now.
    pub(crate) fn idle_count(&self) -> usize {
        self.lock().idle.total()
    }

    /// Closes every idle connection (Go: `CloseIdleConnections`,
    /// transport.go:764).
    pub(crate) fn close_idle(&self) -> usize {
        let mut discard = Vec::new();
        self.lock().idle.drain(&mut discard);
        discard.len()
    }

    /// Gets a connection for `key` (Go: `Transport.getConn`,
    /// transport.go:1332). With `fresh` (a retry), the idle list is
    /// skipped: a new dial serves it, unless the per-host limit is
    /// reached, when a returned connection may too.
    pub(crate) async fn get_conn(
        self: &Arc<Self>,
        key: &ConnectKey,
        fresh: bool,
    ) -> Result<(Pooled, GotConnInfo), Error> {
        loop {
            match self.idle_or_queue(key, fresh) {
                Step::Idle(conn, idle_time) => {
                    if !conn.is_usable() {
                        // The server closed it while idle: it leaves the
                        // pool (dropped here); look again.
                        continue;
                    }
                    tracing::trace!(key = %key, conn = conn.id, ?idle_time, "reusing idle connection");
                    let info = conn.got_conn_info(true, idle_time);
                    return Ok((conn, info));
                }
                Step::Wait(mut waiting) => {
                    let conn = waiting.wait().await?;
                    let info = conn.got_conn_info(false, Duration::ZERO);
                    return Ok((conn, info));
                }
            }
        }
    }

    /// The locked part of `get_conn`: take the most recent idle connection
    /// (Go: `queueForIdleConn`, transport.go:1008), or register as a
    /// waiter and start a dial or queue for the right to dial (Go:
    /// `queueForDial`, transport.go:1416).
    fn idle_or_queue(self: &Arc<Self>, key: &ConnectKey, fresh: bool) -> Step {
        let config = &self.config;
        let mut discard = Vec::new();
        let mut state = self.lock();
        if !fresh && !config.disable_keep_alives {
            let now = Instant::now();
            if let Some((conn, since)) = state.idle.take(key, config.idle_conn_timeout, now, &mut discard) {
                return Step::Idle(conn, now.saturating_duration_since(since));
            }
        }
        let (want, rx) = WantConn::new();
        let limit = config.max_conns_per_host;
        let at_limit = limit > 0 && state.conns_per_host.get(key).copied().unwrap_or(0) >= limit;
        if (!fresh || at_limit) && !config.disable_keep_alives {
            enqueue(&mut state.idle_waiters, key, want.clone());
        }
        if at_limit {
            tracing::trace!(key = %key, limit, "at max_conns_per_host: waiting");
            enqueue(&mut state.dial_waiters, key, want.clone());
        } else {
            if limit > 0 {
                *state.conns_per_host.entry(key.clone()).or_insert(0) += 1;
            }
            self.spawn_dial(want.clone(), self.host_slot(key, limit > 0));
        }
        drop(state);
        Step::Wait(Waiting {
            want,
            rx,
            pool: self.clone(),
            key: key.clone(),
        })
    }

    fn host_slot(&self, key: &ConnectKey, counted: bool) -> HostSlot {
        HostSlot {
            pool: self.weak_self.clone(),
            key: key.clone(),
            counted,
        }
    }

    /// Starts a dial for `want` (Go: `go t.dialConnFor(w)`,
    /// transport.go:1447). The new connection serves `want` if it still
    /// waits; otherwise it goes to the pool, where another waiter may
    /// take it.
    fn spawn_dial(self: &Arc<Self>, want: Arc<WantConn<Pooled>>, slot: HostSlot) {
        let pool = self.clone();
        tokio::spawn(async move {
            let id = pool.next_conn_id.fetch_add(1, Ordering::Relaxed);
            let key = &slot.key;
            match PersistConn::dial(id, key, &pool.config).await {
                Ok(conn) => {
                    pool.dials.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(key = %key, conn = id, local = ?conn.local_addr, "dialled");
                    let conn = Pooled { conn, slot };
                    if let Some(conn) = want.try_deliver(conn) {
                        // The waiter was served by a returned connection
                        // first, or gave up: this one goes to the pool.
                        pool.put_idle(conn);
                    }
                }
                Err(e) => {
                    tracing::debug!(key = %key, error = %e, "dial failed");
                    drop(slot);
                    want.deliver_error(e);
                }
            }
        });
    }

    /// A connection is free again (Go: `tryPutIdleConn`,
    /// transport.go:912): the oldest live waiter gets it; else it becomes
    /// idle, unless the key's idle list is full; the total limit evicts
    /// the oldest idle connection.
    fn put_idle(&self, mut conn: Pooled) {
        let config = &self.config;
        if config.disable_keep_alives || config.max_idle_conns_per_host == 0 {
            return;
        }
        let mut discard = Vec::new();
        let mut state = self.lock();
        if let Some(queue) = state.idle_waiters.get_mut(conn.key()) {
            while let Some(want) = queue.pop_front() {
                match want.try_deliver(conn) {
                    None => return,
                    Some(back) => conn = back,
                }
            }
            state.idle_waiters.remove(conn.key());
        }
        let (per_host, max_total) = (config.max_idle_conns_per_host, config.max_idle_conns);
        state
            .idle
            .push(conn, Instant::now(), per_host, max_total, &mut discard);
        if let (Some(timeout), false) = (config.idle_conn_timeout, state.reaper_running) {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                state.reaper_running = true;
                runtime.spawn(reap_idle(self.weak_self.clone(), timeout));
            }
        }
        drop(state);
        if !discard.is_empty() {
            tracing::debug!(closed = discard.len(), "idle list full: closing connection");
        }
    }

    /// A connection of `key` closed, or its dial failed (Go:
    /// `decConnsPerHost`, transport.go:1465): the right to dial passes to
    /// the first live waiter in line, else the count goes down.
    fn release_host_slot(&self, key: &ConnectKey) {
        let mut state = self.lock();
        let runtime = tokio::runtime::Handle::try_current().ok();
        let pool = self.weak_self.upgrade();
        if let (Some(runtime), Some(pool)) = (runtime, pool) {
            while let Some(want) = state.dial_waiters.get_mut(key).and_then(|q| q.pop_front()) {
                if want.is_waiting() {
                    let _guard = runtime.enter();
                    pool.spawn_dial(want, self.host_slot(key, true));
                    return;
                }
            }
        }
        state.dial_waiters.remove(key);
        if let Some(count) = state.conns_per_host.get_mut(key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                state.conns_per_host.remove(key);
            }
        }
    }
}

/// Closes idle connections as they pass `idle_conn_timeout` (Go arms a
/// timer per idle connection, `closeConnIfStillIdle`, transport.go:1983;
/// one task sleeping until the next expiry does the same job). Ends when
/// the pool has no idle connection left.
async fn reap_idle(pool: Weak<Pool>, timeout: Duration) {
    loop {
        let next = {
            let Some(pool) = pool.upgrade() else { return };
            let mut discard = Vec::new();
            let mut state = pool.lock();
            let next = state.idle.prune_expired(timeout, Instant::now(), &mut discard);
            if next.is_none() {
                state.reaper_running = false;
            }
            drop(state);
            if !discard.is_empty() {
                tracing::debug!(
                    closed = discard.len(),
                    "closed idle connections past idle_conn_timeout"
                );
            }
            next
        };
        match next {
            Some(at) => tokio::time::sleep_until(at.into()).await,
            None => return,
        }
    }
}

/// What the locked part of `get_conn` found: an idle connection and how
/// long it was idle, or a place in line. (The connection is moved once,
/// straight to its caller: boxing it would cost an allocation per request
/// for nothing.)
#[allow(clippy::large_enum_variant)]
enum Step {
    Idle(Pooled, Duration),
    Wait(Waiting),
}

/// A request waiting in the queues. Dropping it (the request was
/// cancelled) takes it out of the running; a connection delivered in the
/// same instant goes back to the pool rather than being lost.
struct Waiting {
    want: Arc<WantConn<Pooled>>,
    rx: oneshot::Receiver<Delivery<Pooled>>,
    pool: Arc<Pool>,
    key: ConnectKey,
}

impl Waiting {
    async fn wait(&mut self) -> Result<Pooled, Error> {
        match (&mut self.rx).await {
            Ok(delivery) => delivery,
            Err(_) => Err(Error::Dial {
                addr: self.key.dial_addr().to_owned(),
                source: std::io::Error::other("the dial task ended without a result"),
            }),
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.want.cancel();
        if let Ok(Ok(conn)) = self.rx.try_recv() {
            self.pool.put_idle(conn);
        }
    }
}
