//! Fuzz target: arbitrary bytes as a response head (the client side),
//! then the response framing rules. Must never panic; a head that parses
//! must be within the limit and leave the bytes after it untouched.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use server::wire::{parse_response_head, response_framing, Limits, PartLimits};

const LIMITS: Limits = Limits {
    max_header_bytes: 4096,
    max_headers: 64,
    parts: PartLimits::DEFAULT,
};

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    match parse_response_head(&mut buf, &LIMITS) {
        Ok(Some(head)) => {
            let taken = data.len() - buf.len();
            assert!(taken <= LIMITS.max_header_bytes);
            assert_eq!(&buf[..], &data[taken..]);
            let _ = response_framing(&http::Method::GET, &head);
            let _ = response_framing(&http::Method::HEAD, &head);
        }
        Ok(None) => {
            assert_eq!(&buf[..], data);
            assert!(data.len() <= LIMITS.max_header_bytes);
        }
        Err(e) => {
            let _ = e.status();
        }
    }
});
