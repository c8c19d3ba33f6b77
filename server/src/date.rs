//! The `Date` header, formatted once per second.
//!
//! Every response carries `Date` (RFC 9110 section 6.6.1). Go formats it on
//! every response; formatting once per second per thread and copying the
//! cached value is cheaper and gives the same bytes.

use http::HeaderValue;
use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    static CACHED: RefCell<(u64, HeaderValue)> = const { RefCell::new((0, HeaderValue::from_static(""))) };
}

/// Now, as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn now() -> HeaderValue {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    CACHED.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != second {
            let text = httpdate::fmt_http_date(now);
            cached.1 = HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static(""));
            cached.0 = second;
        }
        cached.1.clone()
    })
}
