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
//!   for each request by [`RequestSlot::fill`] (its host and URL strings
//!   rewritten; the parsed head's header map and target moved in) and
//!   emptied by its inverse, [`RequestSlot::reclaim`], which hands the map
//!   and target back to the parser after each response. A keep-alive
//!   connection allocates them once, not once per request, and the request
//!   is never rebuilt or moved.
//! - [`PooledBuffers`]: everything else a connection allocates (the
//!   response's buffers and header map, the request slot), in a guard
//!   that returns itself to a process-wide pool when the connection drops
//!   it, as Go's bufio readers go back to theirs; the next accepted
//!   connection takes them instead of allocating.
//!
//! The read buffer is not among them: a connection holds one only while it
//! has bytes to read, lent per request by `lent_buffers.rs`.
//!
//! Both are speed tricks with no counterpart in Go's code; the connection
//! loop (`conn.rs`) uses them without knowing how they work: it asks for a
//! `PooledBuffers` and refills its slot.
//!
//! Whatever grew unusually large (a head near `max_header_bytes`, a 1 MiB
//! target) is dropped instead of kept, so that one odd request does not pin
//! its memory for the life of the process. The pool is bounded too.

use crate::body::Body;
use crate::conn_header::ConnectionTokens;
use crate::lifecycle::lock;
use crate::request::Request;
use crate::url::{parse_request_target_into, Url};
use crate::wire::{self, BodyFraming, HostLines, RequestHead, WireError};
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING};
use http::HeaderMap;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

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

/// What the request's headers tell the server itself, beside what the
/// handler reads.
#[derive(Debug)]
pub(crate) struct HeaderFacts {
    pub framing: BodyFraming,
    /// The client asked to close after this request (Go: `Request.wantsClose`,
    /// request.go:1421).
    pub wants_close: bool,
    pub expect: Expect,
}

/// The request's `Expect` header (its first value, as Go reads it:
/// `Request.expectsContinue`, request.go:1410).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    None,
    /// `100-continue`: answer `100 Continue` when the handler reads the body.
    Continue,
    /// Any other expectation: refused with 417.
    Other,
}

impl RequestSlot {
    /// Fills the connection's request from the head just parsed into
    /// `head` (method, target, headers, then Host and URL, refilled in
    /// place) and returns the facts the server acts on itself (body
    /// framing, close, Expect). The inverse of [`RequestSlot::reclaim`].
    /// Go builds a new `Request` here (`readRequest`, request.go:1030).
    pub fn fill(&mut self) -> Result<HeaderFacts, WireError> {
        let RequestSlot { head, request } = self;
        // One walk over the headers notes those the server acts on itself (as
        // hyper notes them while parsing), rather than one hashed lookup each.
        let mut has_framing_headers = false;
        let mut connection = ConnectionTokens::default();
        let mut expect = Expect::None;
        let mut host_lines = HostLines::default();
        for (name, value) in &head.headers {
            if name == HOST {
                host_lines.add(value);
            } else if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
                has_framing_headers = true;
            } else if name == CONNECTION {
                connection.add(value);
            } else if name == EXPECT && expect == Expect::None {
                expect = if value.as_bytes().eq_ignore_ascii_case(b"100-continue") {
                    Expect::Continue
                } else {
                    Expect::Other
                };
            }
        }
        // With neither header, a request has no body (RFC 9112 section 6.3).
        let framing = if has_framing_headers {
            wire::request_framing(head)?
        } else {
            BodyFraming::Empty
        };
        let facts = HeaderFacts {
            framing,
            wants_close: connection.close_requested(head.version),
            expect,
        };
        let host_header = wire::host_from(head, host_lines)?;
        parse_request_target_into(&head.method, &head.target, &mut request.url)
            .map_err(|_| WireError::BadStartLine("invalid URI for request"))?;
        // An absolute-form target's authority wins over Host (RFC 9112 section 3.2.2).
        request.host.clear();
        if request.url.host.is_empty() {
            request.host.push_str(host_header);
        } else {
            request.host.push_str(&request.url.host);
        }
        // The head's map and target become the request's; `reclaim` hands
        // them back, emptied, after the response.
        request.method = head.method.clone();
        request.version = head.version;
        std::mem::swap(&mut request.target, &mut head.target);
        std::mem::swap(&mut request.headers, &mut head.headers);
        Ok(facts)
    }

    /// Takes the header map and target of the request just answered back
    /// into `head`, emptied, for the parser to fill with the next head.
    /// What the handler replaced or made large is simply not kept.
    pub fn reclaim(&mut self) {
        let request = &mut self.request;
        if request.headers.capacity() <= MAX_KEPT_HEADERS {
            // Swapped back, not taken: the request gets the empty map that
            // `fill` swapped out, rather than a new one while the head's is
            // dropped: 64 instructions per keep-alive request (6 950 -> 6 886;
            // callgrind, `benches/instructions.sh`).
            std::mem::swap(&mut self.head.headers, &mut request.headers);
            // Also lets go of the head's bytes, so that the read buffer
            // they were cut from can be reused from its start.
            self.head.headers.clear();
            if !request.headers.is_empty() {
                // A head parsed but never moved in (`fill` refused it).
                request.headers.clear();
            }
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
}

impl ResponseBuffers {
    /// Empties everything, and drops what grew too large to keep.
    pub fn clear(&mut self) {
        empty_map(&mut self.headers);
        empty_buffer(&mut self.body);
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
    /// The response writer's (Go: the `bufio.Writer`s `conn.bufw`,
    /// server.go:290, and `response.w`, server.go:443). Lent to the response writer while the connection lives.
    pub response: ResponseBuffers,
    /// The connection's request, used in place.
    pub slot: RequestSlot,
}

/// A connection's [`ConnBuffers`], taken from the pool, that go back to it
/// when the guard is dropped (Go: `newBufioReader`, server.go:823, and
/// `putBufioReader`, server.go:834, which `conn.close` calls).
///
/// The buffers stay boxed from the first connection that allocates them to
/// the end of the process: taking them from the pool and giving them back
/// moves a pointer, not the few hundred bytes of the request slot, and the
/// request is refilled where it lies. Measured with callgrind
/// (`benches/instructions.sh -- --close`, a new connection per request):
/// moved by value out of the pool, into the connection and back, they
/// cost about 800 more instructions of `memcpy` per connection (1374
/// against 558), 5% of all a short connection costs.
#[derive(Debug)]
pub(crate) struct PooledBuffers {
    /// Taken out only in `drop`. `ManuallyDrop` rather than an `Option`
    /// that `drop` could `take()`: the `Option`'s check on every access
    /// cost 34 instructions per keep-alive request (7208 against 7174,
    /// `benches/instructions.sh`), for one line of `unsafe` in `drop`.
    buffers: ManuallyDrop<Box<ConnBuffers>>,
}

impl PooledBuffers {
    /// A released connection's buffers when the pool has some, new ones
    /// otherwise.
    pub fn take() -> Self {
        let pooled = lock(&POOL).pop();
        let buffers = pooled.unwrap_or_else(|| {
            Box::new(ConnBuffers {
                response: ResponseBuffers::default(),
                slot: RequestSlot::default(),
            })
        });
        PooledBuffers {
            buffers: ManuallyDrop::new(buffers),
        }
    }
}

impl Deref for PooledBuffers {
    type Target = ConnBuffers;
    fn deref(&self) -> &ConnBuffers {
        &self.buffers
    }
}

impl DerefMut for PooledBuffers {
    fn deref_mut(&mut self) -> &mut ConnBuffers {
        &mut self.buffers
    }
}

impl Drop for PooledBuffers {
    /// Gives the buffers back to the pool, emptied: the response buffers,
    /// and the request slot, whose head may still hold part of a head that
    /// failed to parse. What grew too large is freed instead.
    fn drop(&mut self) {
        // SAFETY: `buffers` is taken here only, once, and never used after.
        let mut buffers = unsafe { ManuallyDrop::take(&mut self.buffers) };
        buffers.response.clear();
        buffers.slot.request.body = Body::empty();
        buffers.slot.reclaim();
        let mut pool = lock(&POOL);
        if pool.len() < MAX_POOLED {
            pool.push(buffers);
        }
        // When the pool is full, `buffers` is freed here, after the lock
        // is released (locals are dropped in reverse order).
    }
}

/// The pool itself: process-wide, like Go's package-level `sync.Pool`s,
/// so that buffers flow between servers and runtime threads alike. Boxed
/// on purpose (see [`PooledBuffers`]): a connection holds its box, not a
/// copy.
#[allow(clippy::vec_box)]
static POOL: Mutex<Vec<Box<ConnBuffers>>> = Mutex::new(Vec::new());
