//! Header field lines (RFC 9112 section 5), shared by request heads,
//! response heads and the trailer section of a chunked body, so that all
//! three follow exactly the same rules.
//!
//! httparse does the tokenising. Its default configuration already refuses
//! what RFC 9112 says a recipient MUST refuse: whitespace between a field
//! name and its colon, obs-fold (a line starting with SP or HTAB), an empty
//! or non-token name, and NUL, a bare CR or any other control byte but HTAB
//! in a value. What it accepts and we do not is a bare LF as a line end;
//! [`parse_fields`] checks that every line ended in CRLF, in O(lines), by
//! looking at the two bytes before each field name and at the end of the
//! section.
//!
//! Parsing is in two steps so that no byte is copied. First
//! [`parse_fields`] finds where each name and value is, as offsets
//! ([`FieldSpan`]), kept on the stack for the usual few dozen fields. Then,
//! once the caller has cut the head off its read buffer and frozen it into
//! a `Bytes`, [`Fields::to_header_map`] makes each value a slice of those
//! same bytes (`Bytes::slice`, a reference count, not a copy).

use super::WireError;
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use std::ops::Range;

/// How many fields are kept on the stack; a head with more (up to the
/// caller's limit) parses again with room on the heap.
const STACK_FIELDS: usize = 32;

/// Where one field's name and value are, as offsets into the head.
#[derive(Debug, Clone, Default)]
pub(super) struct FieldSpan {
    name: Range<usize>,
    value: Range<usize>,
}

/// The field section found after a start line.
#[derive(Debug)]
pub(super) struct Fields {
    spans: Spans,
    count: usize,
    /// Offset just after the empty line that ends the section.
    pub end: usize,
}

/// The stack variant is large on purpose: it is the one used for nearly
/// every head, and it costs no allocation.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Spans {
    Stack([FieldSpan; STACK_FIELDS]),
    Heap(Vec<FieldSpan>),
}

impl Fields {
    fn spans(&self) -> &[FieldSpan] {
        match &self.spans {
            Spans::Stack(spans) => &spans[..self.count],
            Spans::Heap(spans) => &spans[..self.count],
        }
    }

    /// Builds the header map, values sharing `head`'s bytes. `head` must be
    /// the bytes `parse_fields` looked at (offsets are into it).
    pub fn to_header_map(&self, head: &Bytes) -> Result<HeaderMap, WireError> {
        let mut map = HeaderMap::with_capacity(self.count);
        for span in self.spans() {
            let name = HeaderName::from_bytes(&head[span.name.clone()])
                .map_err(|_| WireError::BadHeader("invalid field name"))?;
            let value = HeaderValue::from_maybe_shared(head.slice(span.value.clone()))
                .map_err(|_| WireError::BadHeader("invalid field value"))?;
            map.append(name, value);
        }
        Ok(map)
    }
}

/// Parses the field lines of `buf` starting at `start` (just after the
/// start line, or at the first trailer line), up to and including the
/// empty line that ends them.
///
/// `Ok(None)`: incomplete, read more. More than `max_fields` fields is
/// [`WireError::HeadTooLarge`].
pub(super) fn parse_fields(buf: &[u8], start: usize, max_fields: usize) -> Result<Option<Fields>, WireError> {
    let mut stack = std::array::from_fn(|_| FieldSpan::default());
    match find_spans(buf, start, &mut stack[..max_fields.min(STACK_FIELDS)])? {
        Found::Complete { count, end } => {
            return Ok(Some(Fields {
                spans: Spans::Stack(stack),
                count,
                end,
            }))
        }
        Found::Partial => return Ok(None),
        Found::TooMany if max_fields <= STACK_FIELDS => return Err(WireError::HeadTooLarge),
        Found::TooMany => {}
    }
    // The rare head with many fields: parse again with room for all of them.
    let mut heap = vec![FieldSpan::default(); max_fields];
    match find_spans(buf, start, &mut heap)? {
        Found::Complete { count, end } => Ok(Some(Fields {
            spans: Spans::Heap(heap),
            count,
            end,
        })),
        Found::Partial => Ok(None),
        Found::TooMany => Err(WireError::HeadTooLarge),
    }
}

enum Found {
    Complete { count: usize, end: usize },
    Partial,
    TooMany,
}

fn find_spans(buf: &[u8], start: usize, spans: &mut [FieldSpan]) -> Result<Found, WireError> {
    let block = &buf[start..];
    let mut stack_slots = [httparse::EMPTY_HEADER; STACK_FIELDS];
    let mut heap_slots;
    let slots = if spans.len() <= STACK_FIELDS {
        &mut stack_slots[..spans.len()]
    } else {
        heap_slots = vec![httparse::EMPTY_HEADER; spans.len()];
        &mut heap_slots[..]
    };
    let (len, fields) = match httparse::parse_headers(block, slots) {
        Ok(httparse::Status::Complete(found)) => found,
        Ok(httparse::Status::Partial) => return Ok(Found::Partial),
        Err(httparse::Error::TooManyHeaders) => return Ok(Found::TooMany),
        Err(httparse::Error::HeaderName) => {
            return Err(WireError::BadHeader(
                "invalid field name (or whitespace before the colon, or obs-fold)",
            ))
        }
        Err(httparse::Error::HeaderValue) => return Err(WireError::BadHeader("invalid byte in field value")),
        Err(_) => return Err(WireError::BadHeader("bare CR in field section")),
    };

    // Every line must have ended in CRLF: the one before each field (the
    // start line for the first field is the caller's to check), the last
    // field line, and the empty line.
    let block_start = block.as_ptr() as usize;
    for (i, (field, span)) in fields.iter().zip(spans.iter_mut()).enumerate() {
        let name_at = field.name.as_ptr() as usize - block_start;
        if i > 0 && !ends_in_crlf(&block[..name_at]) {
            return Err(WireError::BadHeader("field line not ended by CRLF"));
        }
        let value_at = field.value.as_ptr() as usize - block_start;
        span.name = start + name_at..start + name_at + field.name.len();
        span.value = start + value_at..start + value_at + field.value.len();
    }
    let section = &block[..len];
    let last_line_ok = fields.is_empty() || ends_in_crlf(&section[..section.len().saturating_sub(2)]);
    if !ends_in_crlf(section) || !last_line_ok {
        return Err(WireError::BadHeader("field line not ended by CRLF"));
    }
    Ok(Found::Complete {
        count: fields.len(),
        end: start + len,
    })
}

fn ends_in_crlf(bytes: &[u8]) -> bool {
    bytes.ends_with(b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &[u8]) -> Result<Option<HeaderMap>, WireError> {
        let Some(fields) = parse_fields(text, 0, 100)? else {
            return Ok(None);
        };
        let head = Bytes::copy_from_slice(&text[..fields.end]);
        fields.to_header_map(&head).map(Some)
    }

    #[test]
    fn good_sections() {
        let headers = map(b"A: 1\r\nB:2 \r\nC:\r\n\r\nrest").unwrap().unwrap();
        assert_eq!(headers["a"], "1");
        assert_eq!(headers["b"], "2");
        assert_eq!(headers["c"], "");
        assert!(map(b"\r\n").unwrap().unwrap().is_empty());
        assert!(map(b"A: 1\r\n").unwrap().is_none());
        assert_eq!(
            map(b"A: caf\xc3\xa9\r\n\r\n").unwrap().unwrap()["a"].as_bytes(),
            b"caf\xc3\xa9"
        );
    }

    #[test]
    fn bad_sections() {
        for bad in [
            &b"A : 1\r\n\r\n"[..],
            b"A: 1\r\n folded\r\n\r\n",
            b": 1\r\n\r\n",
            b"A(: 1\r\n\r\n",
            b"A: 1\x00\r\n\r\n",
            b"A: 1\rB: 2\r\n\r\n",
            b"A: 1\nB: 2\r\n\r\n",
            b"A: 1\r\nB: 2\n\r\n",
            b"A: 1\r\n\n",
            b"\n",
        ] {
            assert!(map(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn many_fields_spill_to_the_heap() {
        let mut text = Vec::new();
        for i in 0..50 {
            text.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        text.extend_from_slice(b"\r\n");
        assert_eq!(map(&text).unwrap().unwrap().len(), 50);
        assert_eq!(parse_fields(&text, 0, 49).unwrap_err(), WireError::HeadTooLarge);
        assert_eq!(parse_fields(&text, 0, 10).unwrap_err(), WireError::HeadTooLarge);
    }
}
