//! The `Date` header, formatted once per second.
//!
//! Every response carries `Date` (RFC 9110 section 6.6.1). Go formats it on
//! every response; formatting once per second per thread and copying the
//! cached value is cheaper and gives the same bytes.
//!
//! A speed trick, in [`write_now`]: the cached text is copied straight
//! into the response head, and whether it is still current is two
//! comparisons of `SystemTime`s. The previous form handed out a cloned
//! `HeaderValue` (a reference count taken and dropped per response) and
//! computed the seconds since the epoch to compare them: 108 instructions
//! per keep-alive request more (7 339 -> 7 231; callgrind,
//! `benches/instructions.sh`, 64 connections).

use std::cell::RefCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The text of one second, and the second it is for.
struct CachedDate {
    /// The second `text` names: `from` inclusive to `until` exclusive.
    from: SystemTime,
    until: SystemTime,
    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
    text: String,
}

thread_local! {
    static CACHED: RefCell<CachedDate> = const {
        RefCell::new(CachedDate { from: UNIX_EPOCH, until: UNIX_EPOCH, text: String::new() })
    };
}

/// Appends now, as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), to `out`.
pub fn write_now(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    CACHED.with(|cell| {
        let mut cached = cell.borrow_mut();
        // Also refreshed when the clock was set back past the cached second.
        if now >= cached.until || now < cached.from {
            let second = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            cached.from = UNIX_EPOCH + Duration::from_secs(second);
            cached.until = cached.from + Duration::from_secs(1);
            cached.text = httpdate::fmt_http_date(now);
        }
        out.extend_from_slice(cached.text.as_bytes());
    })
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    fn second_of(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    #[test]
    fn writes_the_current_second_as_an_imf_fixdate() {
        for _ in 0..2 {
            let before = second_of(SystemTime::now());
            let mut out = Vec::new();
            super::write_now(&mut out);
            let after = second_of(SystemTime::now());
            let text = std::str::from_utf8(&out).unwrap();
            assert_eq!(text.len(), 29, "{text}");
            let written = second_of(httpdate::parse_http_date(text).unwrap());
            assert!((before..=after).contains(&written), "{text}");
        }
    }
}
