//! Buffers lent to a connection only while it needs one: the read buffer
//! while it has bytes to read, the response head buffer while a response
//! goes out. A connection that waits for its next request holds neither.
//!
//! A keep-alive connection spends most of its life waiting for the next
//! request. Go keeps its connection's 4 KiB `bufio.Reader` through that
//! wait (`conn.bufr`, server.go:287), and hyper its 8 KiB read buffer and
//! its write buffer; nginx frees its buffers when a connection goes idle on
//! keep-alive (`ngx_http_set_keepalive`). We do as nginx does. A connection
//! with nothing buffered waits for its socket to become readable holding no
//! buffer, takes one from this pool when bytes are there, and gives it back
//! when the next read would wait (`ConnReader::fill_when_readable`, in
//! `conn_io.rs`). Go hands each response's `bufio.Writer` back to its pool
//! at the end of the response (`response.finishRequest`, server.go:1646);
//! so does our response writer with the buffer its head is written into
//! (`ResponseWriter::finish`, in `response.rs`). An idle connection then
//! holds no buffer at all (measured with `benches/memory.sh`: 4 805 bytes
//! per idle connection instead of 9 183, 0.44× hyper's instead of 0.84×;
//! see `benches/README.md`), and under load the connection served next
//! reads and writes in the buffers the one before it just gave back,
//! still in the CPU's cache.
//!
//! The price is a give-back and a take of each on every keep-alive request
//! (under load every connection waits for its client between requests), so
//! the pools are the cheapest that work: a last-in first-out stack per
//! thread, in a `thread_local!`, with no lock. Measured with callgrind
//! (`benches/instructions.sh`, same run), the read buffer's: 45 more
//! instructions per keep-alive request (7 477 -> 7 522, +0.6%, 64
//! connections) and one L1 data miss fewer (52.9 -> 51.9, 256
//! connections); a process-wide `Mutex<Vec<_>>` tried first cost 110.
//! The head buffer's: 83 more instructions (7 442 -> 7 525, +1.1%, with
//! these functions inlined) and 3.1 L1 data misses fewer (51.7 -> 48.6):
//! the head is written into lines still in the cache.
//!
//! A TLS connection keeps its read buffer: rustls reads into buffers of its
//! own, which it keeps, and may hold decrypted bytes that the socket's
//! readiness does not show, so only a read can tell whether there is
//! anything.

use crate::stream::READ_CHUNK;
use bytes::BytesMut;
use std::cell::RefCell;

/// How many free buffers of each kind one thread keeps at most. Under load
/// only the connections in the middle of a request hold one, a handful per
/// thread; the bound matters after a burst of slow requests.
const MAX_FREE_PER_THREAD: usize = 64;

/// A buffer that grew larger than this (bytes) is freed, not kept.
const MAX_KEPT_BYTES: usize = 64 * 1024;

/// The room a head buffer starts with: a response head and a small body
/// fit, without a string of reallocations (8, 16, 32... bytes).
const HEAD_START_CAPACITY: usize = 1024;

thread_local! {
    /// This thread's free read buffers, the most recently given back last.
    static FREE_READ: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
    /// This thread's free head buffers, likewise.
    static FREE_HEAD: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A read buffer with room for at least [`READ_CHUNK`] bytes: the one given
/// back last on this thread, or a new one.
#[inline]
pub(crate) fn take_read() -> BytesMut {
    let free = FREE_READ.with_borrow_mut(Vec::pop);
    let mut buf = free.unwrap_or_default();
    // An empty buffer starts again at the front of its allocation (a
    // `BytesMut` that no request still points into takes it back without
    // copying), so every request is read into the same first few hundred
    // bytes: they stay in the CPU's cache, and the rest of the allocation
    // is never touched, never made resident.
    buf.reserve(READ_CHUNK);
    buf
}

/// Takes a read buffer back, emptied, for the next connection that has
/// bytes to read on this thread. One that grew large, or past the pool's
/// bound, is freed.
#[inline]
pub(crate) fn give_back_read(mut buf: BytesMut) {
    if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_BYTES {
        return;
    }
    buf.clear();
    give_back(&FREE_READ, buf);
}

/// An empty head buffer: the one given back last on this thread, or a new
/// one.
#[inline]
pub(crate) fn take_head() -> Vec<u8> {
    let free = FREE_HEAD.with_borrow_mut(Vec::pop);
    free.unwrap_or_else(|| Vec::with_capacity(HEAD_START_CAPACITY))
}

/// Takes a head buffer back, emptied, as [`give_back_read`] does.
#[inline]
pub(crate) fn give_back_head(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_BYTES {
        return;
    }
    buf.clear();
    give_back(&FREE_HEAD, buf);
}

#[inline]
fn give_back<T>(pool: &'static std::thread::LocalKey<RefCell<Vec<T>>>, buf: T) {
    // `try_with`: a connection dropped while its thread exits finds the
    // pool already gone, and its buffer is simply freed.
    let _ = pool.try_with(|free| {
        let mut free = free.borrow_mut();
        if free.len() < MAX_FREE_PER_THREAD {
            free.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{give_back_head, give_back_read, take_head, take_read, MAX_KEPT_BYTES};
    use crate::stream::READ_CHUNK;

    /// The buffer given back last is the one taken next, emptied, with its
    /// room back at the front: the next connection reads into memory that
    /// is still in the cache.
    #[test]
    fn the_buffer_given_back_last_is_taken_next_from_its_front() {
        let mut buf = take_read();
        let start = buf.as_ptr();
        buf.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        drop(buf.split_to(18)); // a parsed head, dropped with its request
        give_back_read(buf);
        let again = take_read();
        assert_eq!(again.as_ptr(), start);
        assert!(again.is_empty());
        assert!(again.capacity() >= READ_CHUNK);
    }

    #[test]
    fn a_buffer_grown_large_is_not_kept() {
        let mut big = take_read();
        big.reserve(2 * MAX_KEPT_BYTES);
        give_back_read(big);
        // Had it been kept, it would be taken now, with all its room.
        assert!(take_read().capacity() <= MAX_KEPT_BYTES);
    }

    #[test]
    fn the_head_buffer_given_back_last_is_taken_next_emptied() {
        let mut out = take_head();
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
        let start = out.as_ptr();
        give_back_head(out);
        let again = take_head();
        assert_eq!(again.as_ptr(), start);
        assert!(again.is_empty());
    }
}
