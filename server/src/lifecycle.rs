//! Where the server and each connection are in their lives: the states a
//! connection reports, the phase of the server that every connection
//! watches, and the counts that let `shutdown` know when everything is gone.
//!
//! Go keeps these on its `Server` behind one mutex (`activeConn`,
//! `listeners`, `inShutdown`, `trackConn`, `trackListener`) and on each
//! `conn` (`curState`, `setState`). Here they are atomics and a `watch`
//! channel in one [`Tracker`], so that no connection takes a lock to report
//! a state change. It knows nothing of requests, responses or sockets,
//! and imports only `net_addr` (a connection's peer, for the hook).

use crate::net_addr::NetAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{watch, Notify};

/// The states a connection goes through (Go: `ConnState`, server.go:2870).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Just accepted; no request byte read yet.
    New,
    /// Reading a request or writing its response.
    Active,
    /// Between requests, waiting for the next one.
    Idle,
    /// Closed; the last state.
    Closed,
}

/// Who a connection-state event is about.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// A number unique to this connection within the server.
    pub id: u64,
    /// The peer: `ip:port`, or a Unix socket's name.
    pub remote_addr: NetAddr,
}

/// A callback told of every connection-state change (Go: `Server.ConnState`, server.go:2660).
pub type ConnStateHook = Arc<dyn Fn(&ConnInfo, ConnState) + Send + Sync>;

/// Where the server is in its life; every connection watches it
/// (Go: `Server.inShutdown`, server.go:2682, plus `Close` tearing everything down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Serving,
    /// `shutdown` was called: finish current requests, then close.
    Draining,
    /// `close` was called: drop everything now.
    Closed,
}

/// The server's phase and its live connections and accept loops
/// (Go: `Server.activeConn`, server.go:2690, `listenerGroup`, `inShutdown`).
pub(crate) struct Tracker {
    pub phase: watch::Sender<Phase>,
    /// True once `phase` has left `Serving` (Go: `Server.inShutdown`, an
    /// `atomic.Bool`, server.go:2682). Every response and every wait for a
    /// request asks; a load of this flag writes nothing, where reading the
    /// watch takes its lock, a write to a cache line that every
    /// connection shares. See [`Tracker::shutting_down`].
    shutting_down: AtomicBool,
    conn_state: Option<ConnStateHook>,
    live_conns: AtomicUsize,
    live_listeners: AtomicUsize,
    /// Woken when either count reaches zero.
    all_closed: Notify,
    next_conn_id: AtomicU64,
    /// Run when shutdown begins (Go: `Server.onShutdown`, server.go:2692).
    on_shutdown: Mutex<Vec<Box<dyn FnOnce() + Send>>>,
}

impl Tracker {
    pub fn new(conn_state: Option<ConnStateHook>) -> Self {
        Tracker {
            phase: watch::channel(Phase::Serving).0,
            shutting_down: AtomicBool::new(false),
            conn_state,
            live_conns: AtomicUsize::new(0),
            live_listeners: AtomicUsize::new(0),
            all_closed: Notify::new(),
            next_conn_id: AtomicU64::new(1),
            on_shutdown: Mutex::new(Vec::new()),
        }
    }

    /// Keeps `hook` to run when shutdown begins (Go: `RegisterOnShutdown`,
    /// server.go:2826).
    pub fn register_on_shutdown(&self, hook: Box<dyn FnOnce() + Send>) {
        lock(&self.on_shutdown).push(hook);
    }

    /// Runs the hooks registered so far, once each. Go runs each in its own
    /// goroutine (`Shutdown`, server.go:2782); ours run in turn, here, and
    /// should be quick (they usually just signal something).
    pub fn run_shutdown_hooks(&self) {
        let hooks = std::mem::take(&mut *lock(&self.on_shutdown));
        for hook in hooks {
            hook();
        }
    }

    /// Number of connections currently open.
    pub fn open_connections(&self) -> usize {
        self.live_conns.load(Ordering::Acquire)
    }

    /// True once shutdown (or close) has begun (Go: `Server.shuttingDown`,
    /// server.go:2783). A speed trick: this flag beside the watch, rather
    /// than the watch read three times a request (its read lock taken and
    /// released each time), saved 78 instructions per keep-alive request
    /// (7 519 -> 7 441, 1.0%; callgrind, `benches/instructions.sh`, same
    /// run).
    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Moves the server to `next` (never back). True when it was serving.
    pub fn begin(&self, next: Phase) -> bool {
        // Set before the watch wakes anyone: a connection woken by the
        // change finds the flag already set.
        self.shutting_down.store(true, Ordering::Release);
        let mut was_serving = false;
        self.phase.send_if_modified(|phase| {
            was_serving = *phase == Phase::Serving;
            if *phase == Phase::Closed || *phase == next {
                return false;
            }
            *phase = next;
            true
        });
        was_serving
    }

    /// Resolves once no connection and no accept loop is left.
    pub async fn all_closed(&self) {
        loop {
            let notified = self.all_closed.notified();
            if self.open_connections() == 0 && self.live_listeners.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    fn leave(&self, count: &AtomicUsize) {
        if count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.all_closed.notify_waiters();
        }
    }
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("phase", &*self.phase.borrow())
            .field("open_connections", &self.open_connections())
            .finish_non_exhaustive()
    }
}

/// Keeps a connection counted as live, and reports its states, until it is
/// dropped (Go: `trackConn`, server.go:3174, and `conn.setState`,
/// server.go:1778): dropping it reports `Closed`.
pub(crate) struct TrackedConn {
    tracker: Arc<Tracker>,
    pub info: ConnInfo,
}

impl TrackedConn {
    /// Counts a new connection and reports it `New`.
    pub fn new(tracker: Arc<Tracker>, remote_addr: NetAddr) -> Self {
        tracker.live_conns.fetch_add(1, Ordering::AcqRel);
        let info = ConnInfo {
            id: tracker.next_conn_id.fetch_add(1, Ordering::Relaxed),
            remote_addr,
        };
        let conn = TrackedConn { tracker, info };
        conn.set_state(ConnState::New);
        conn
    }

    /// Tells the hook, if any, of a state change (Go: `conn.setState`, server.go:1778).
    pub fn set_state(&self, state: ConnState) {
        if let Some(hook) = &self.tracker.conn_state {
            hook(&self.info, state);
        }
    }
}

impl Drop for TrackedConn {
    fn drop(&mut self) {
        self.set_state(ConnState::Closed);
        self.tracker.leave(&self.tracker.live_conns);
    }
}

/// Keeps an accept loop counted while it runs (Go: `trackListener`,
/// server.go:3155).
pub(crate) struct TrackedListener {
    tracker: Arc<Tracker>,
}

impl TrackedListener {
    pub fn new(tracker: Arc<Tracker>) -> Self {
        tracker.live_listeners.fetch_add(1, Ordering::AcqRel);
        TrackedListener { tracker }
    }
}

impl Drop for TrackedListener {
    fn drop(&mut self) {
        self.tracker.leave(&self.tracker.live_listeners);
    }
}

/// Locks `mutex`, taking over its value even when a thread panicked while
/// holding it: every value guarded in this crate stays valid between
/// statements, so a panic elsewhere does not make it unusable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
