//! Fuzz target: arbitrary bytes as a request head, then the Host and
//! framing rules on whatever parses. Must never panic; a head that parses
//! must be within the limit and leave the bytes after it untouched.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use server::wire::{host_of, parse_request_head, request_framing, Limits, PartLimits};

const LIMITS: Limits = Limits {
    max_header_bytes: 4096,
    max_headers: 64,
    parts: PartLimits::DEFAULT,
};

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    match parse_request_head(&mut buf, &LIMITS) {
        Ok(Some(head)) => {
            let taken = data.len() - buf.len();
            assert!(taken <= LIMITS.max_header_bytes);
            assert_eq!(&buf[..], &data[taken..]);
            assert!(head.target.bytes().all(|b| (0x21..=0x7e).contains(&b)));
            let _ = host_of(&head);
            let _ = request_framing(&head);
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
