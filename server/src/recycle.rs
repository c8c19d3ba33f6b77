//! Reuse instead of allocation: what a connection keeps from one request
//! to the next, and what a closed connection hands on to the next one.
//!
//! Go allocates a new `Request`, its `URL` and its `Header` map for every
//! request and leaves the old ones to the garbage collector. Only the
//! connection's `bufio.Reader` and `bufio.Writer`s are recycled, through
//! `sync.Pool`s (`newBufioReader`/`putBufioReader` and
//! `bufioWriter2kPool`/`4kPool` in server.go), because allocating them
//! for every connection showed up in Go's own profiles.
//!
//! Rust has no collector: every allocation costs a `malloc` now and a
//! `free` later, on the request's path. Counted with callgrind
//! (`benches/instructions.sh`), those calls were the largest difference
//! between our server and hyper on a short connection: about 15
//! allocations, a third of the instructions. So we recycle more than Go
//! does, at two levels:
//!
//! - [`RequestSlot`]: the connection's one `Request`, refilled in place
//!   for each request (its host and URL strings rewritten; its header map
//!   and target handed back to the parser, emptied, after each response).
//!   A keep-alive connection allocates them once, not once per request,
//!   and the request is never rebuilt or moved.
//! - [`ConnBuffers`]: everything a connection allocates (the read buffer,
//!   the response's buffers and header map, the request). When a
//!   connection ends they go to a process-wide pool, as Go's bufio readers
//!   do, and the next accepted connection takes them instead of allocating.
//!
//! Whatever grew unusually large (a head near `max_header_bytes`, a 1 MiB
//! target) is dropped instead of kept, so that one odd request does not pin
//! its memory for the life of the process. The pool is bounded too.

use crate::conn_io::READ_CHUNK;
use crate::request::Request;
use crate::url::Url;
use crate::wire::RequestHead;
use bytes::BytesMut;
use http::HeaderMap;
use std::sync::{Mutex, PoisonError};

/// A header map with more room than this (entries) is not kept.
const MAX_KEPT_HEADERS: usize = 64;
/// A buffer or string with more capacity than this (bytes) is not kept.
const MAX_KEPT_BYTES: usize = 64 * 1024;
/// How many connections' buffers the pool holds at most. Under load the
/// pool holds what connections that just closed released, so it never
/// holds more than the peak of open connections; the bound matters only
/// after a burst of many connections.
const MAX_POOLED: usize = 128;

/// What a connection keeps from one request to the next: the request
/// itself, refilled in place for each new one, and the emptied head the
/// parser fills next.
#[derive(Debug)]
pub(crate) struct RequestSlot {
    /// The header map and target string the next head is parsed into.
    pub head: RequestHead,
    /// The connection's request: its host and URL strings are rewritten
    /// for each request; its header map and target come from `head`.
    pub request: Request,
}

impl Default for RequestSlot {
    fn default() -> Self {
        RequestSlot {
            head: RequestHead::default(),
            request: Request::blank(),
        }
    }
}

impl RequestSlot {
    /// Takes the header map and target of the request just answered back
    /// into `head`, emptied, for the parser to fill with the next head.
    /// What the handler replaced or made large is simply not kept.
    pub fn reclaim(&mut self) {
        let request = &mut self.request;
        if request.headers.capacity() <= MAX_KEPT_HEADERS {
            self.head.headers = std::mem::take(&mut request.headers);
            // Also lets go of the head's bytes, so that the read buffer
            // they were cut from can be reused from its start.
            self.head.headers.clear();
        } else {
            request.headers = HeaderMap::new();
        }
        keep_string(&mut self.head.target, &mut request.target);
        request.path_values.clear();
        if request.host.capacity() > MAX_KEPT_BYTES {
            request.host = String::new();
        }
        let url = &request.url;
        if url.path.len() > MAX_KEPT_BYTES || url.raw_query.capacity() > MAX_KEPT_BYTES {
            request.url = Url::default();
        }
    }
}

/// Moves `from` into `into`, emptied, unless it is too large to keep.
fn keep_string(into: &mut String, from: &mut String) {
    if from.capacity() <= MAX_KEPT_BYTES {
        *into = std::mem::take(from);
        into.clear();
    } else {
        *from = String::new();
    }
}

/// The buffers and header map of the connection's response writer.
#[derive(Debug, Default)]
pub(crate) struct ResponseBuffers {
    pub headers: HeaderMap,
    /// Body bytes held back before the head is committed.
    pub body: Vec<u8>,
    /// Where heads and chunks are serialised.
    pub out: Vec<u8>,
}

impl ResponseBuffers {
    /// Empties everything, and drops what grew too large to keep.
    pub fn clear(&mut self) {
        empty_map(&mut self.headers);
        empty_buffer(&mut self.body);
        empty_buffer(&mut self.out);
    }
}

/// Empties a header map for reuse, or replaces it when it grew too large to keep.
pub(crate) fn empty_map(map: &mut HeaderMap) {
    if map.capacity() <= MAX_KEPT_HEADERS {
        map.clear();
    } else {
        *map = HeaderMap::new();
    }
}

/// Empties a buffer for reuse, or frees it when it grew too large to keep.
pub(crate) fn empty_buffer(buf: &mut Vec<u8>) {
    if buf.capacity() <= MAX_KEPT_BYTES {
        buf.clear();
    } else {
        *buf = Vec::new();
    }
}

/// Everything one connection allocates, handed from a closed connection
/// to the next accepted one.
#[derive(Debug)]
pub(crate) struct ConnBuffers {
    /// The read buffer (Go: the connection's `bufio.Reader`).
    pub read: BytesMut,
    /// The response writer's (Go: the `bufio.Writer`s of `conn` and `response`).
    pub response: ResponseBuffers,
    pub request_slot: RequestSlot,
}

/// The buffers for a new connection: a released connection's when the pool
/// has some, new ones otherwise (Go: `newBufioReader`).
pub(crate) fn take_conn_buffers() -> ConnBuffers {
    let pooled = POOL.lock().unwrap_or_else(PoisonError::into_inner).pop();
    pooled.unwrap_or_else(|| ConnBuffers {
        read: BytesMut::with_capacity(READ_CHUNK),
        response: ResponseBuffers::default(),
        request_slot: RequestSlot::default(),
    })
}

/// Gives a finished connection's buffers to the pool (Go: `putBufioReader`).
/// Everything is emptied first: the read buffer (`ConnReader::fill` starts
/// it again at its front), the response buffers, and the request slot, whose
/// head may still hold part of a head that failed to parse.
pub(crate) fn put_conn_buffers(mut buffers: ConnBuffers) {
    if buffers.read.capacity() > MAX_KEPT_BYTES {
        return;
    }
    buffers.read.clear();
    buffers.response.clear();
    buffers.request_slot.reclaim();
    let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if pool.len() < MAX_POOLED {
        pool.push(buffers);
    }
    // When the pool is full, `buffers` is freed here, after the lock is
    // released (a parameter is dropped after the function's locals).
}

/// The pool itself: process-wide, like Go's package-level `sync.Pool`s,
/// so that buffers flow between servers and runtime threads alike.
static POOL: Mutex<Vec<ConnBuffers>> = Mutex::new(Vec::new());
