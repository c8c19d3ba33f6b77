//! Fuzz target: arbitrary bytes as a chunked body, fed to the decoder in
//! pieces (the first byte chooses where the input is cut, as reads from a
//! socket would arrive). Must never panic, never yield more bytes than it
//! was given, and once the body ends leave the rest of the input alone.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use server::wire::{BodyDecoder, BodyFraming, Decoded};

fuzz_target!(|data: &[u8]| {
    let Some((&step, input)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let mut decoder = BodyDecoder::new(BodyFraming::Chunked);
    let mut buf = BytesMut::new();
    let mut yielded = 0;
    for piece in input.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Decoded::Data(bytes)) => {
                    assert!(!bytes.is_empty());
                    yielded += bytes.len();
                    assert!(yielded <= input.len());
                }
                Ok(Decoded::NeedMore) => break,
                Ok(Decoded::End) => {
                    assert!(decoder.is_done());
                    return;
                }
                Err(e) => {
                    assert_eq!(e.status(), 400);
                    return;
                }
            }
        }
    }
    let _ = decoder.decode_eof();
});
