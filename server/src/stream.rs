//! The small I/O steps that the server's connections and the client's
//! connections both take: read what the socket has, write all of a buffer,
//! give up at a deadline, and decide when a head that is still arriving is
//! worth parsing again.
//!
//! Go shares this layer between its two sides too: `transfer.go` and
//! `bufio` serve both `conn.serve` and `persistConn`, and a `net.Conn`
//! deadline (`SetReadDeadline`) is how both bound a read. Here a deadline is
//! an `Option<Instant>` passed to [`with_deadline`], the one place that turns
//! "too late" into an [`io::ErrorKind::TimedOut`] error.
//!
//! It knows connections ([`NetConn`]) and bytes, nothing of requests,
//! responses or pools.

use crate::net_conn::NetConn;
use bytes::BytesMut;
use std::future::Future;
use std::io;
use tokio::time::Instant;

/// How much room a read makes in its buffer before asking the socket for
/// bytes (Go's `bufio.Reader` uses 4 KiB; 8 KiB holds a typical request or
/// response head with room for a small body).
pub const READ_CHUNK: usize = 8 * 1024;

/// Runs an I/O step, failing with `TimedOut` if `deadline` passes first;
/// with no deadline it simply runs (Go: a `net.Conn` deadline, net/net.go:155, which makes
/// a blocked `Read` or `Write` return `os.ErrDeadlineExceeded`).
///
/// A speed trick for the callers on every request's path (`conn_io.rs`):
/// they pass their step pinned on their own stack (`pin!(step)`), not by
/// value. A future passed by value is kept twice in this one, as its
/// argument and inside the timer's `Timeout`: the connection's write was
/// a 424-byte future, and the connection's whole future 1 336 bytes
/// instead of 1 264; 37 instructions per keep-alive request (6 600 ->
/// 6 563; callgrind, `benches/instructions.sh`).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use server::stream::with_deadline;
/// use tokio::time::{Duration, Instant};
///
/// let never = std::future::pending::<std::io::Result<()>>();
/// let soon = Instant::now() + Duration::from_millis(10);
/// let err = with_deadline(Some(soon), never).await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// assert_eq!(with_deadline(None, async { Ok(7) }).await.unwrap(), 7);
/// # });
/// ```
pub async fn with_deadline<T>(
    deadline: Option<Instant>,
    step: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    // Not written as `before_deadline(..)` plus a mapping: that extra
    // layer of future cost the server 82 instructions a request (7 140 ->
    // 7 222, 1.1%; `benches/instructions.sh`, keep-alive), though that
    // server sets no deadline at all.
    match deadline {
        None => step.await,
        Some(deadline) => tokio::time::timeout_at(deadline, step)
            .await
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into())),
    }
}

/// Runs `step` until `deadline`: its output, or `None` when the deadline
/// passed first. For a step whose errors are not `io::Error`s, such as the
/// client's reading of a response, that names its own timeout error.
///
/// A caller without a deadline should await the step directly rather than
/// pass it here: the timer's wrapper costs instructions even when it never
/// fires.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use server::stream::before_deadline;
/// use tokio::time::{Duration, Instant};
///
/// let soon = Instant::now() + Duration::from_millis(10);
/// assert_eq!(before_deadline(soon, std::future::pending::<u8>()).await, None);
/// assert_eq!(before_deadline(soon, async { 7 }).await, Some(7));
/// # });
/// ```
pub async fn before_deadline<T>(deadline: Instant, step: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout_at(deadline, step).await.ok()
}

/// Reads what the connection has into `buf`, making room first and
/// waiting for at least one byte; `Ok(0)` means the peer closed its side.
///
/// It reads through `&NetConn`, a shared reference, so that another task
/// (or another half of the same task) may write on the same connection at
/// the same time: the client's request body goes out while its response is
/// read, as Go's `persistConn` has a `readLoop` and a `writeLoop`.
pub async fn read_some(conn: &NetConn, buf: &mut BytesMut) -> io::Result<usize> {
    buf.reserve(READ_CHUNK);
    conn.read_buf(buf).await
}

/// Decides, after each read, whether a head that is still arriving is worth
/// handing to the parser again: the rule that keeps reading a head linear
/// in its length, for the server's request heads and the client's response
/// heads alike.
///
/// httparse parses from the first byte every time. Parsing after every read
/// would cost O(n²) for a head trickled in small pieces: measured on the
/// client, a 512 KiB head sent 64 bytes at a time took 876 ms of CPU, 3.3×
/// the 256 KiB one, where a linear reader takes 2×. So after the first
/// attempt we parse again only when the new bytes hold a blank line (the
/// head may be complete), when the buffer has doubled since the last
/// attempt (malformed input is still caught early), or when it has passed
/// the size limit (so that the parser reports it). Each byte is then
/// searched once and parsed a bounded number of times.
///
/// ```
/// use server::stream::HeadScan;
///
/// let mut scan = HeadScan::default();
/// assert!(scan.worth_parsing(b"GET / HT", 1 << 20)); // the first bytes always are
/// assert!(!scan.worth_parsing(b"GET / HTTP/1.1\r", 1 << 20)); // no blank line, not doubled
/// assert!(scan.worth_parsing(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1 << 20));
/// ```
#[derive(Debug, Default, Clone)]
pub struct HeadScan {
    /// The buffer's length at the last parse attempt (0: none yet).
    parsed_len: usize,
    /// How many bytes have been searched for a blank line.
    scanned: usize,
}

impl HeadScan {
    /// True when `buf`, the head read so far, should be parsed now.
    /// `max_head_bytes` is the limit the parser enforces.
    pub fn worth_parsing(&mut self, buf: &[u8], max_head_bytes: usize) -> bool {
        let len = buf.len();
        // Search only the new bytes, with two before them: a blank line
        // may straddle two reads.
        let new_bytes = &buf[self.scanned.saturating_sub(2).min(len)..];
        let worth = len > 0
            && (self.parsed_len == 0
                || len >= 2 * self.parsed_len
                || len > max_head_bytes
                || holds_blank_line(new_bytes));
        self.scanned = len;
        if worth {
            self.parsed_len = len;
        }
        worth
    }
}

/// True when `bytes` contain the end of a head: `\n\r\n`, or `\n\n` should
/// the parser accept bare line feeds.
fn holds_blank_line(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .enumerate()
        .any(|(i, pair)| pair == b"\n\n" || (pair == b"\n\r" && bytes.get(i + 2) == Some(&b'\n')))
}

#[cfg(test)]
mod tests {
    use super::{holds_blank_line, HeadScan};

    #[test]
    fn blank_line_detection() {
        assert!(holds_blank_line(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(holds_blank_line(b"\n\r\n"));
        assert!(holds_blank_line(b"a\n\nb"));
        assert!(!holds_blank_line(b"GET / HTTP/1.1\r\nHost: x\r\n"));
        assert!(!holds_blank_line(b"\r\n"));
        assert!(!holds_blank_line(b"\n\r"));
        assert!(!holds_blank_line(b""));
    }

    /// A blank line split across two reads is still found.
    #[test]
    fn blank_line_across_reads() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut scan = HeadScan::default();
        assert!(scan.worth_parsing(&head[..20], 1 << 20));
        assert!(!scan.worth_parsing(&head[..26], 1 << 20)); // "...x\r\n\r" : not yet
        assert!(scan.worth_parsing(&head[..], 1 << 20));
    }

    /// A head trickled one byte at a time is parsed O(log n) times plus once
    /// per blank line: the bound that makes reading it linear.
    #[test]
    fn trickled_head_is_parsed_a_bounded_number_of_times() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        while head.len() < 64 * 1024 {
            head.extend_from_slice(b"X-Filler: abcdefghijklmnopqrstuvwxyz\r\n");
        }
        head.extend_from_slice(b"\r\n");
        let mut scan = HeadScan::default();
        let attempts = (1..=head.len())
            .filter(|&n| scan.worth_parsing(&head[..n], 1 << 20))
            .count();
        // 1 first attempt, ~13 doublings from 1 byte to 64 KiB, 1 blank line.
        assert!(attempts <= 20, "parsed {attempts} times");
    }

    /// Past the limit, the parser must see the buffer to report it.
    #[test]
    fn over_the_limit_is_always_worth_parsing() {
        let mut scan = HeadScan::default();
        assert!(scan.worth_parsing(b"GET /", 8));
        assert!(scan.worth_parsing(b"GET /aaaa", 8));
        assert!(scan.worth_parsing(b"GET /aaaaa", 8));
    }
}
