//! The line that starts each chunk of a chunked body (RFC 9112 section 7.1):
//!
//! ```text
//! chunk-line = chunk-size [ chunk-ext ] CRLF
//! chunk-size = 1*HEXDIG
//! chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! chunk-ext-val = token / quoted-string
//! ```
//!
//! Go 1.19 reads the size with `parseHexUint` (internal/chunked.go:243)
//! and cuts everything after the first `;` without looking at it
//! (`removeChunkExtension`, internal/chunked.go:171); hyper skips extensions byte by byte.
//! We check the whole grammar, because a lenient extension parser is a
//! place to hide things: a quote, a CR or a LF in an extension is where
//! the "chunk extension" smuggling attacks of recent years live, when a
//! proxy and a server disagree on where the line ends.

use super::start_line::is_tchar;
use super::WireError;

/// Parses a chunk line (without its CRLF): the chunk size, and how many
/// bytes of extensions it carried (the decoder bounds their total). Go:
/// `chunkedReader.beginChunk`, internal/chunked.go:45, with `readChunkLine`,
/// internal/chunked.go:128.
pub(super) fn parse_chunk_line(line: &[u8]) -> Result<(u64, usize), WireError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(WireError::BadChunk("chunk size is not hex"));
    }
    // 16 hex digits fill a u64; like Go we refuse more, leading zeros
    // included, which also keeps a chunk line without extensions short.
    if digits > 16 {
        return Err(WireError::BadChunk("chunk size too large"));
    }
    let mut size: u64 = 0;
    for &d in &line[..digits] {
        let nibble = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => d - b'A' + 10,
        };
        size = (size << 4) | u64::from(nibble);
    }
    check_extensions(&line[digits..])?;
    Ok((size, line.len() - digits))
}

/// `*( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`, all of
/// `ext`, nothing left over.
fn check_extensions(ext: &[u8]) -> Result<(), WireError> {
    const BAD: WireError = WireError::BadChunk("malformed chunk extension");
    let mut at = 0;
    while at < ext.len() {
        at = skip_bws(ext, at);
        if ext.get(at) != Some(&b';') {
            // Covers whitespace at the end of the line with no `;` after it,
            // and anything else that is not an extension (`5 6`, `0x5`).
            return Err(BAD);
        }
        at = skip_bws(ext, at + 1);
        let name_len = token_len(ext, at);
        if name_len == 0 {
            return Err(BAD);
        }
        at += name_len;
        let after_name = at;
        at = skip_bws(ext, at);
        if ext.get(at) != Some(&b'=') {
            at = after_name; // no value; the whitespace belongs to the next `;`
            continue;
        }
        at = skip_bws(ext, at + 1);
        at = match ext.get(at) {
            Some(b'"') => quoted_string_end(ext, at).ok_or(BAD)?,
            _ => match token_len(ext, at) {
                0 => return Err(BAD),
                n => at + n,
            },
        };
    }
    Ok(())
}

fn skip_bws(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    at
}

fn token_len(bytes: &[u8], at: usize) -> usize {
    bytes[at.min(bytes.len())..]
        .iter()
        .take_while(|&&b| is_tchar(b))
        .count()
}

/// `quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE` starting at
/// `at` (the opening quote); returns the offset after the closing quote.
/// No control bytes but HTAB, inside or escaped (RFC 9110 section 5.6.4).
fn quoted_string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        match *bytes.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => {
                let escaped = *bytes.get(i + 1)?;
                if !(escaped == b'\t' || escaped >= 0x20) || escaped == 0x7f {
                    return None;
                }
                i += 2;
            }
            b if b == b'\t' || (b >= 0x20 && b != 0x7f) => i += 1,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_extensions() {
        assert_eq!(parse_chunk_line(b"1a").unwrap().0, 26);
        assert_eq!(parse_chunk_line(b"0000000000000001").unwrap().0, 1);
        assert_eq!(parse_chunk_line(b"FFFFFFFFFFFFFFFF").unwrap().0, u64::MAX);
        for good in [
            &b"5;a"[..],
            b"5;a=b",
            b"5 ; a = b ;c",
            b"5;a=\"x y\\\"z\"",
            b"5\t;a",
            b"5;a=\"caf\xc3\xa9\"",
        ] {
            assert!(
                parse_chunk_line(good).is_ok(),
                "{:?}",
                String::from_utf8_lossy(good)
            );
        }
        for bad in [
            &b""[..],
            b" 5",
            b"+5",
            b"-5",
            b"0x5",
            b"5 ",
            b"5 6",
            b"5;",
            b"5;=b",
            b"5;a=",
            b"5;a=\"unterminated",
            b"5;a=\"x\x01\"",
            b"5;a=b c",
            b"5;a\x00",
            b"5;a=\"x\"y",
            b"10000000000000000",
            b"00000000000000001",
            b"5\r",
        ] {
            assert!(
                parse_chunk_line(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
