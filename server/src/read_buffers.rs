//! Read buffers lent to the connections that have bytes to read, and given
//! back by those that wait.
//!
//! A keep-alive connection spends most of its life waiting for the next
//! request. Go keeps its connection's 4 KiB `bufio.Reader` through that
//! wait (`conn.bufr`, server.go:287), and hyper its 8 KiB read buffer;
//! nginx frees its buffers when a connection goes idle on keep-alive
//! (`ngx_http_set_keepalive`). We do as nginx does: a connection with
//! nothing buffered waits for its socket to become readable holding no
//! buffer, takes one from this pool when bytes are there, and gives it back
//! when the next read would wait (`ConnReader::fill_when_readable`, in
//! `conn_io.rs`). An idle connection then holds no read buffer at all
//! (measured with `benches/memory.sh`: 9 183 bytes per idle connection
//! before, 0.84× hyper's; see `benches/README.md`), and under load the
//! connection served next reads into the buffer the one before it just
//! gave back, still in the CPU's cache.
//!
//! The price is a give-back and a take on every keep-alive request (under
//! load every connection waits for its client between requests), so the
//! pool is the cheapest one that works: a last-in first-out stack per
//! thread, in a `thread_local!`, with no lock. Measured with callgrind
//! (`benches/instructions.sh`, same run): 45 more instructions per
//! keep-alive request (7 477 -> 7 522, +0.6%, 64 connections) and one L1
//! data miss fewer (52.9 -> 51.9, 256 connections). A process-wide
//! `Mutex<Vec<_>>` that gave the buffer back after a failed read, tried
//! first, cost 110.
//!
//! A TLS connection keeps its buffer: rustls reads into buffers of its own,
//! which it keeps, and may hold decrypted bytes that the socket's readiness
//! does not show, so only a read can tell whether there is anything.

use crate::stream::READ_CHUNK;
use bytes::BytesMut;
use std::cell::RefCell;

/// How many free buffers one thread keeps at most (8 KiB each). Under load
/// only the connections in the middle of a request hold one, a handful per
/// thread; the bound matters after a burst of slow requests.
const MAX_FREE_PER_THREAD: usize = 64;

/// A buffer that grew larger than this (bytes) is freed, not kept.
const MAX_KEPT_BYTES: usize = 64 * 1024;

thread_local! {
    /// This thread's free buffers, the most recently given back last.
    static FREE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// A buffer with room for at least [`READ_CHUNK`] bytes: the one given back
/// last on this thread, or a new one.
pub(crate) fn take() -> BytesMut {
    let free = FREE.with_borrow_mut(Vec::pop);
    let mut buf = free.unwrap_or_default();
    // An empty buffer starts again at the front of its allocation (a
    // `BytesMut` that no request still points into takes it back without
    // copying), so every request is read into the same first few hundred
    // bytes: they stay in the CPU's cache, and the rest of the allocation
    // is never touched, never made resident.
    buf.reserve(READ_CHUNK);
    buf
}

/// Takes `buf` back, emptied, for the next connection that has bytes to
/// read on this thread. One that grew large, or past the pool's bound, is
/// freed.
pub(crate) fn give_back(mut buf: BytesMut) {
    if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_BYTES {
        return;
    }
    buf.clear();
    // `try_with`: a connection dropped while its thread exits finds the
    // pool already gone, and its buffer is simply freed.
    let _ = FREE.try_with(|free| {
        let mut free = free.borrow_mut();
        if free.len() < MAX_FREE_PER_THREAD {
            free.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{give_back, take, MAX_KEPT_BYTES};
    use crate::stream::READ_CHUNK;

    /// The buffer given back last is the one taken next, emptied, with its
    /// room back at the front: the next connection reads into memory that
    /// is still in the cache.
    #[test]
    fn the_buffer_given_back_last_is_taken_next_from_its_front() {
        let mut buf = take();
        let start = buf.as_ptr();
        buf.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        drop(buf.split_to(18)); // a parsed head, dropped with its request
        give_back(buf);
        let again = take();
        assert_eq!(again.as_ptr(), start);
        assert!(again.is_empty());
        assert!(again.capacity() >= READ_CHUNK);
    }

    #[test]
    fn a_buffer_grown_large_is_not_kept() {
        let mut big = take();
        big.reserve(2 * MAX_KEPT_BYTES);
        give_back(big);
        // Had it been kept, it would be taken now, with all its room.
        assert!(take().capacity() <= MAX_KEPT_BYTES);
    }
}
