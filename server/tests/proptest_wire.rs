//! Property tests of `server::wire` (the fuzzers' little sibling,
//! run by `cargo test`): arbitrary bytes as a request head, a response
//! head or a chunked body never panic and never take a byte past what
//! they may; and serialising a valid message then parsing it gives it
//! back. Inputs are built from HTTP-ish fragments as well as raw bytes,
//! so that most cases get past the first line. Case counts are kept small
//! so the file runs in a second or two.

use bytes::BytesMut;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use proptest::prelude::*;
use server::wire::{
    encode_chunk, encode_last_chunk, parse_request_head, parse_response_head, write_request_head,
    write_response_head, BodyDecoder, BodyFraming, Decoded, Limits, PartLimits,
};

/// Small enough that generated heads reach every limit.
const LIMITS: Limits = Limits {
    max_header_bytes: 512,
    max_headers: 8,
    parts: PartLimits {
        max_method_bytes: 16,
        max_target_bytes: 64,
        max_field_line_bytes: 96,
    },
};

/// Bytes that look like pieces of a head: most inputs then reach the
/// field parser, and the edge bytes (CR, LF, SP, HTAB, NUL, DEL, 0xFF)
/// land in every position.
fn head_fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"GET / HTTP/1.1\r\n".to_vec()),
        Just(b"HTTP/1.1 200 OK\r\n".to_vec()),
        Just(b"POST http://a.example/x HTTP/1.0\r\n".to_vec()),
        Just(b"Host: a.example\r\n".to_vec()),
        Just(b"Content-Length: 5\r\n".to_vec()),
        Just(b"Transfer-Encoding: chunked\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b":".to_vec()),
        Just(b"HTTP/".to_vec()),
        Just(vec![0x00]),
        Just(vec![0x7f]),
        Just(vec![0xff]),
        proptest::collection::vec(any::<u8>(), 0..8),
        "[A-Za-z0-9-]{1,8}".prop_map(String::into_bytes),
    ]
}

fn head_like() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(head_fragment(), 0..24).prop_map(|parts| parts.concat())
}

/// Checks the contract of a head parser on `input`: no panic; on success
/// only the head (at most the limit) is removed and the rest is the
/// untouched suffix; when incomplete nothing is removed and the input is
/// within the limit.
fn check_head_contract<T>(
    input: &[u8],
    parse: impl Fn(&mut BytesMut, &Limits) -> Result<Option<T>, server::wire::WireError>,
) {
    let mut buf = BytesMut::from(input);
    match parse(&mut buf, &LIMITS) {
        Ok(Some(_)) => {
            let taken = input.len() - buf.len();
            assert!(
                taken > 0 && taken <= LIMITS.max_header_bytes,
                "took {taken} bytes"
            );
            assert_eq!(
                &buf[..],
                &input[taken..],
                "the bytes after the head are untouched"
            );
        }
        Ok(None) => {
            assert_eq!(&buf[..], input, "an incomplete head removes nothing");
            assert!(
                input.len() <= LIMITS.max_header_bytes,
                "over the limit but still waiting"
            );
        }
        Err(e) => {
            let status = e.status().as_u16();
            assert!(
                [400, 414, 431, 501, 505].contains(&status),
                "unexpected status {status}"
            );
        }
    }
}

/// Feeds `input` to a chunked decoder in pieces cut at `cuts`, as reads
/// from a socket would arrive. Returns the data, whether the body ended,
/// and what was left in the buffer.
fn decode_in_pieces(input: &[u8], cuts: &[usize]) -> (Vec<u8>, Result<bool, ()>, Vec<u8>) {
    let mut decoder = BodyDecoder::new(BodyFraming::Chunked);
    let mut buf = BytesMut::new();
    let mut data = Vec::new();
    let mut fed = 0;
    let mut boundaries: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    boundaries.push(input.len());
    boundaries.sort_unstable();
    for end in boundaries {
        buf.extend_from_slice(&input[fed..end.max(fed)]);
        fed = end.max(fed);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Decoded::Data(piece)) => {
                    assert!(!piece.is_empty());
                    data.extend_from_slice(&piece)
                }
                Ok(Decoded::NeedMore) => break,
                Ok(Decoded::End) => {
                    // What is left: the buffer plus what was not fed yet.
                    let mut left = buf.to_vec();
                    left.extend_from_slice(&input[fed..]);
                    return (data, Ok(true), left);
                }
                Err(_) => return (data, Err(()), buf.to_vec()),
            }
        }
    }
    (data, Ok(false), buf.to_vec())
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

/// A field value as it survives a round trip: visible ASCII, obs-text and
/// inner spaces, no whitespace at either end (a parser trims that).
fn field_value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![0x21u8..=0x7e, 0x80u8..=0xff, Just(b' '), Just(b'\t')],
        0..20,
    )
    .prop_map(|mut v| {
        while v.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.remove(0);
        }
        while v.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.pop();
        }
        v
    })
}

fn header_map() -> impl Strategy<Value = HeaderMap> {
    proptest::collection::vec((token(), field_value()), 0..6).prop_map(|fields| {
        let mut map = HeaderMap::new();
        for (name, value) in fields {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(&value).unwrap(),
            );
        }
        map
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn request_head_from_head_like_bytes_keeps_its_contract(input in head_like()) {
        check_head_contract(&input, parse_request_head);
    }

    #[test]
    fn request_head_from_raw_bytes_keeps_its_contract(input in proptest::collection::vec(any::<u8>(), 0..700)) {
        check_head_contract(&input, parse_request_head);
    }

    #[test]
    fn response_head_from_head_like_bytes_keeps_its_contract(input in head_like()) {
        check_head_contract(&input, parse_response_head);
    }

    #[test]
    fn chunked_decoder_on_arbitrary_bytes_never_takes_more_than_it_is_given(
        input in proptest::collection::vec(
            prop_oneof![proptest::sample::select(&b"05aA\r\n;=\": \t"[..]), any::<u8>()],
            0..200,
        ),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let (data, ended, left) = decode_in_pieces(&input, &cuts);
        prop_assert!(data.len() + left.len() <= input.len());
        if ended == Ok(true) {
            prop_assert!(input.ends_with(&left), "what is left is the input's tail");
        }
    }

    /// A valid chunked body, then the next request: whatever way the
    /// bytes arrive, the decoder yields the data and leaves exactly the
    /// next request behind.
    #[test]
    fn chunked_round_trip_stops_exactly_at_the_body_end(
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..6),
        trailers in header_map(),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut wire = Vec::new();
        for piece in &pieces {
            encode_chunk(&mut wire, piece);
        }
        encode_last_chunk(&mut wire, &trailers);
        wire.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
        let (data, ended, left) = decode_in_pieces(&wire, &cuts);
        prop_assert_eq!(ended, Ok(true));
        prop_assert_eq!(data, pieces.concat());
        prop_assert_eq!(left, b"GET /next HTTP/1.1\r\n\r\n".to_vec());
    }

    #[test]
    fn request_head_round_trips(
        method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::DELETE), token().prop_map(|t| Method::from_bytes(t.as_bytes()).unwrap())],
        target in "/[!-~]{0,30}",
        http10 in any::<bool>(),
        headers in header_map(),
    ) {
        let version = if http10 { Version::HTTP_10 } else { Version::HTTP_11 };
        let mut wire = Vec::new();
        write_request_head(&mut wire, &method, &target, version, &headers);
        wire.extend_from_slice(b"\r\n");
        let mut buf = BytesMut::from(&wire[..]);
        let head = parse_request_head(&mut buf, &Limits::default()).unwrap().unwrap();
        prop_assert!(buf.is_empty());
        prop_assert_eq!(head.method, method);
        prop_assert_eq!(head.target, target);
        prop_assert_eq!(head.version, version);
        prop_assert_eq!(head.headers, headers);
    }

    #[test]
    fn response_head_round_trips(
        code in 100u16..600,
        http10 in any::<bool>(),
        headers in header_map(),
    ) {
        let status = StatusCode::from_u16(code).unwrap();
        let version = if http10 { Version::HTTP_10 } else { Version::HTTP_11 };
        let mut wire = Vec::new();
        write_response_head(&mut wire, version, status, &headers);
        wire.extend_from_slice(b"\r\nbody");
        let mut buf = BytesMut::from(&wire[..]);
        let head = parse_response_head(&mut buf, &Limits::default()).unwrap().unwrap();
        prop_assert_eq!(&buf[..], b"body");
        prop_assert_eq!(head.status, status);
        prop_assert_eq!(head.version, version);
        prop_assert_eq!(head.headers, headers);
    }
}

/// The values of a parsed head share the head's bytes instead of copying
/// them (a measured speed choice, notes/server.md section 8): two values of
/// one head point into one allocation.
#[test]
fn header_values_are_slices_of_the_head() {
    let mut buf =
        BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a.example\r\nX-Long: 0123456789abcdef\r\n\r\n"[..]);
    let head = parse_request_head(&mut buf, &Limits::default()).unwrap().unwrap();
    let host = head.headers["host"].as_bytes().as_ptr() as usize;
    let long = head.headers["x-long"].as_bytes().as_ptr() as usize;
    assert_eq!(long - host, b"a.example\r\nX-Long: ".len());
}
