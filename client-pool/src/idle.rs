//! The idle lists: per key, the connections waiting for their next
//! request, most recently used last (Go: `Transport.idleConn`, and
//! `idleLRU` for the total limit, transport.go:95).
//!
//! Pure bookkeeping, with no lock, socket or clock of its own: the pool
//! calls it under its mutex and passes the time in. It is generic over
//! what it stores (the pool stores its `Pooled` connections, which know
//! their key: [`Keyed`]) so that it can be read, and tested, without a
//! network.
//!
//! Nothing here is dropped: a connection to close (expired, or over a
//! limit) goes into the caller's `discard` list, because closing one gives
//! back its place in the per-host count, which takes the pool's lock.

use crate::ConnectKey;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Something stored under a key: a pooled connection knows the key it
/// serves, so that putting it back needs no copy of the key.
pub(crate) trait Keyed {
    fn key(&self) -> &ConnectKey;
}

/// Per key, the idle connections, oldest first.
pub(crate) struct IdleLists<Conn> {
    lists: HashMap<ConnectKey, VecDeque<Idle<Conn>>>,
    /// How many connections the lists hold in all.
    total: usize,
}

/// An idle connection and when it became idle (Go: `persistConn.idleAt`, transport.go:1900).
struct Idle<Conn> {
    conn: Conn,
    since: Instant,
}

impl<Conn> Default for IdleLists<Conn> {
    fn default() -> Self {
        IdleLists {
            lists: HashMap::new(),
            total: 0,
        }
    }
}

impl<Conn: Keyed> IdleLists<Conn> {
    /// How many idle connections there are, of all keys.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// The most recently used idle connection of `key` that has not
    /// expired, and when it went idle (Go: the search in
    /// `queueForIdleConn`, transport.go:1008). Expired ones met on the way
    /// go to `discard`.
    pub(crate) fn take(
        &mut self,
        key: &ConnectKey,
        idle_timeout: Option<Duration>,
        now: Instant,
        discard: &mut Vec<Conn>,
    ) -> Option<(Conn, Instant)> {
        let list = self.lists.get_mut(key)?;
        let mut found = None;
        while let Some(idle) = list.pop_back() {
            self.total -= 1;
            if is_expired(idle.since, idle_timeout, now) {
                discard.push(idle.conn);
                continue;
            }
            found = Some((idle.conn, idle.since));
            break;
        }
        if list.is_empty() {
            self.lists.remove(key);
        }
        found
    }

    /// Puts `conn` at the most-recent end of its key's list, or into
    /// `discard` when that list already holds `per_host` (Go:
    /// `errTooManyIdleHost` in `tryPutIdleConn`, transport.go:912); then
    /// evicts the oldest idle connection of any key while the total is
    /// over `max_total` (Go: `idleLRU.removeOldest`, transport.go:2887).
    pub(crate) fn push(
        &mut self,
        conn: Conn,
        now: Instant,
        per_host: usize,
        max_total: usize,
        discard: &mut Vec<Conn>,
    ) {
        let list = match self.lists.get_mut(conn.key()) {
            Some(list) => list,
            None => self.lists.entry(conn.key().clone()).or_default(),
        };
        if list.len() >= per_host {
            discard.push(conn);
            return;
        }
        list.push_back(Idle { conn, since: now });
        self.total += 1;
        while self.total > max_total {
            match self.remove_oldest() {
                Some(oldest) => discard.push(oldest),
                None => break,
            }
        }
    }

    /// Removes the connection that has been idle longest, of any key. (Go
    /// keeps a linked list in LRU order; with at most `max_idle_conns`
    /// connections, a scan of each key's oldest is cheap and plain.)
    fn remove_oldest(&mut self) -> Option<Conn> {
        let key = self
            .lists
            .iter()
            .filter_map(|(key, list)| list.front().map(|idle| (idle.since, key)))
            .min_by_key(|(since, _)| *since)
            .map(|(_, key)| key.clone())?;
        let list = self.lists.get_mut(&key)?;
        let oldest = list.pop_front();
        if list.is_empty() {
            self.lists.remove(&key);
        }
        if oldest.is_some() {
            self.total -= 1;
        }
        oldest.map(|idle| idle.conn)
    }

    /// Moves every expired connection to `discard`; returns when the next
    /// one will expire, if any remain.
    pub(crate) fn prune_expired(
        &mut self,
        idle_timeout: Duration,
        now: Instant,
        discard: &mut Vec<Conn>,
    ) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut removed = 0;
        self.lists.retain(|_, list| {
            // Oldest first: expired ones are all at the front.
            while list
                .front()
                .is_some_and(|idle| is_expired(idle.since, Some(idle_timeout), now))
            {
                if let Some(idle) = list.pop_front() {
                    discard.push(idle.conn);
                    removed += 1;
                }
            }
            if let Some(idle) = list.front() {
                let expiry = idle.since + idle_timeout;
                next = Some(next.map_or(expiry, |n| n.min(expiry)));
            }
            !list.is_empty()
        });
        self.total -= removed;
        next
    }

    /// Empties every list into `discard`.
    pub(crate) fn drain(&mut self, discard: &mut Vec<Conn>) {
        for (_, list) in self.lists.drain() {
            discard.extend(list.into_iter().map(|idle| idle.conn));
        }
        self.total = 0;
    }
}

fn is_expired(since: Instant, idle_timeout: Option<Duration>, now: Instant) -> bool {
    idle_timeout.is_some_and(|timeout| now.saturating_duration_since(since) >= timeout)
}

#[cfg(test)]
mod tests {
    use super::{IdleLists, Keyed};
    use crate::ConnectKey;
    use std::time::{Duration, Instant};

    /// A stand-in connection: its key and a name to recognise it by.
    #[derive(Debug, PartialEq)]
    struct Conn(ConnectKey, &'static str);

    impl Keyed for Conn {
        fn key(&self) -> &ConnectKey {
            &self.0
        }
    }

    fn key(host: &str) -> ConnectKey {
        ConnectKey::for_uri(&format!("http://{host}/").parse().unwrap(), None).unwrap()
    }

    fn names(conns: &[Conn]) -> Vec<&'static str> {
        conns.iter().map(|c| c.1).collect()
    }

    /// Most recently used first; a full list refuses; the total limit
    /// evicts the longest idle of any key.
    #[test]
    fn lifo_per_key_and_lru_across_keys() {
        let (a, b) = (key("a:80"), key("b:80"));
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut idle = IdleLists::default();
        let mut discard = Vec::new();
        idle.push(Conn(a.clone(), "a1"), at(0), 2, 3, &mut discard);
        idle.push(Conn(b.clone(), "b1"), at(1), 2, 3, &mut discard);
        idle.push(Conn(a.clone(), "a2"), at(2), 2, 3, &mut discard);
        idle.push(Conn(a.clone(), "a3"), at(3), 2, 3, &mut discard);
        assert_eq!(names(&discard), ["a3"]); // a's list was full
        idle.push(Conn(b.clone(), "b2"), at(4), 2, 3, &mut discard);
        assert_eq!(names(&discard), ["a3", "a1"]); // over 3 in all: the oldest goes
        assert_eq!(idle.total(), 3);
        assert_eq!(
            idle.take(&a, None, at(5), &mut discard),
            Some((Conn(a, "a2"), at(2)))
        );
        assert_eq!(
            idle.take(&b, None, at(5), &mut discard),
            Some((Conn(b, "b2"), at(4)))
        );
        assert_eq!(idle.total(), 1);
    }

    /// Expired connections are skipped by `take` and swept by `prune_expired`.
    #[test]
    fn expired_connections_are_discarded() {
        let a = key("a:80");
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let timeout = Duration::from_millis(10);
        let mut idle = IdleLists::default();
        let mut discard = Vec::new();
        idle.push(Conn(a.clone(), "1"), at(0), 9, 9, &mut discard);
        idle.push(Conn(a.clone(), "2"), at(5), 9, 9, &mut discard);
        idle.push(Conn(a.clone(), "3"), at(8), 9, 9, &mut discard);
        assert_eq!(idle.prune_expired(timeout, at(12), &mut discard), Some(at(15)));
        assert_eq!(names(&discard), ["1"]);
        let taken = idle.take(&a, Some(timeout), at(16), &mut discard);
        assert_eq!(taken, Some((Conn(a.clone(), "3"), at(8))));
        assert_eq!(idle.take(&a, Some(timeout), at(16), &mut discard), None);
        assert_eq!(names(&discard), ["1", "2"]);
        assert_eq!(idle.total(), 0);
    }
}
