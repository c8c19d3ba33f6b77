//! Header field lines (RFC 9112 section 5), shared by request heads,
//! response heads and the trailer section of a chunked body, so that all
//! three follow exactly the same rules.
//!
//! httparse does the tokenising. Its default configuration already refuses
//! what RFC 9112 says a recipient MUST refuse: whitespace between a field
//! name and its colon, obs-fold (a line starting with SP or HTAB), an empty
//! or non-token name, and NUL, a bare CR or any other control byte but HTAB
//! in a value. What it accepts and we do not is a bare LF as a line end;
//! [`Fields::parse`] checks that every line ended in CRLF, in O(lines), by
//! looking at the two bytes before each field name and at the end of the
//! section.
//!
//! Go reads the same section with `textproto.Reader.ReadMIMEHeader`
//! (net/textproto/reader.go:485), one line at a time: it joins an obs-fold
//! line to the one before (`readContinuedLineSlice`, reader.go:127, where
//! RFC 9112 section 5.2 lets a server answer 400 instead, as we do) and
//! takes a bare LF as a line end (`readLineSlice`, reader.go:54; section
//! 2.2 allows that, we do not, since a proxy in front may not). Names and
//! values are then checked by `conn.readRequest` (server.go:1017), as
//! httparse and `Fields::parse` check them here.
//!
//! Parsing is in two steps so that no byte is copied. First
//! [`Fields::parse`] finds where each name and value is, as offsets
//! (`FieldSpan`), kept on the stack for the usual few dozen fields. Then,
//! once the caller has cut the head off its read buffer and frozen it into
//! a `Bytes`, [`Fields::to_header_map`] makes each value a slice of those
//! same bytes (`Bytes::slice`, a reference count, not a copy).

use super::WireError;
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// How many fields are kept on the stack; a head with more (up to the
/// caller's limit) parses again with room on the heap.
const STACK_FIELDS: usize = 24;

/// Where one field's name and value are, as `(start, end)` offsets into
/// the head. Plain integers, so that a fresh array of them is one memset.
#[derive(Debug, Clone, Copy, Default)]
struct FieldSpan {
    name: (usize, usize),
    value: (usize, usize),
}

const NO_SPAN: FieldSpan = FieldSpan {
    name: (0, 0),
    value: (0, 0),
};

/// The field section of one head (or trailer section): where each field
/// is, and where the section ends. The caller keeps it on its stack and
/// lends it to [`Fields::parse`], so that nothing is moved or allocated
/// for the usual head of up to 24 fields.
#[derive(Debug)]
pub(super) struct Fields {
    stack: [FieldSpan; STACK_FIELDS],
    /// Used instead of `stack` for a section with more fields.
    heap: Vec<FieldSpan>,
    count: usize,
    /// Offset just after the empty line that ends the section.
    pub end: usize,
    /// Bytes of the longest field line, from the name to the end of the
    /// value (its CRLF and any trailing whitespace not counted), for the
    /// caller's per-line limit.
    pub longest_line: usize,
}

impl Fields {
    #[inline]
    pub fn new() -> Fields {
        Fields {
            stack: [NO_SPAN; STACK_FIELDS],
            heap: Vec::new(),
            count: 0,
            end: 0,
            longest_line: 0,
        }
    }

    fn spans(&self) -> &[FieldSpan] {
        if self.heap.is_empty() {
            &self.stack[..self.count]
        } else {
            &self.heap[..self.count]
        }
    }

    /// Parses the field lines of `buf` starting at `start` (just after the
    /// start line, or at the first trailer line), up to and including the
    /// empty line that ends them.
    ///
    /// `Ok(false)`: incomplete, read more. More than `max_fields` fields is
    /// [`WireError::HeadTooLarge`].
    pub fn parse(&mut self, buf: &[u8], start: usize, max_fields: usize) -> Result<bool, WireError> {
        let room = max_fields.min(STACK_FIELDS);
        match find_spans(buf, start, &mut self.stack[..room])? {
            Found::Complete { count, end, longest } => {
                (self.count, self.end, self.longest_line) = (count, end, longest);
                return Ok(true);
            }
            Found::Partial => return Ok(false),
            Found::TooMany if max_fields <= STACK_FIELDS => return Err(WireError::HeadTooLarge),
            Found::TooMany => {}
        }
        // The rare head with many fields: parse again with room for all of them.
        self.heap = vec![NO_SPAN; max_fields];
        match find_spans(buf, start, &mut self.heap)? {
            Found::Complete { count, end, longest } => {
                (self.count, self.end, self.longest_line) = (count, end, longest);
                Ok(true)
            }
            Found::Partial => Ok(false),
            Found::TooMany => Err(WireError::HeadTooLarge),
        }
    }

    /// Builds the header map, values sharing `head`'s bytes. `head` must be
    /// the bytes `parse` looked at (offsets are into it).
    pub fn to_header_map(&self, head: &Bytes) -> Result<HeaderMap, WireError> {
        let mut map = HeaderMap::with_capacity(self.count);
        self.append_to(head, &mut map)?;
        Ok(map)
    }

    /// Like [`Fields::to_header_map`], into an existing map: the server
    /// passes an emptied map from the connection's previous request, whose
    /// capacity is then reused instead of allocated again.
    pub fn append_to(&self, head: &Bytes, map: &mut HeaderMap) -> Result<(), WireError> {
        map.reserve(self.count);
        for span in self.spans() {
            let name = HeaderName::from_bytes(&head[span.name.0..span.name.1])
                .map_err(|_| WireError::BadHeader("invalid field name"))?;
            let value = HeaderValue::from_maybe_shared(head.slice(span.value.0..span.value.1))
                .map_err(|_| WireError::BadHeader("invalid field value"))?;
            map.append(name, value);
        }
        Ok(())
    }
}

enum Found {
    Complete {
        count: usize,
        end: usize,
        longest: usize,
    },
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
    let buf_start = buf.as_ptr() as usize;
    let mut longest = 0;
    for (field, span) in fields.iter().zip(spans.iter_mut()) {
        let name_at = field.name.as_ptr() as usize - buf_start;
        if name_at > start && !ends_in_crlf(&buf[..name_at]) {
            return Err(WireError::BadHeader("field line not ended by CRLF"));
        }
        let value_at = field.value.as_ptr() as usize - buf_start;
        span.name = (name_at, name_at + field.name.len());
        span.value = (value_at, value_at + field.value.len());
        // The value lies after its name in `buf`: this is the line's length.
        longest = longest.max(span.value.1 - name_at);
    }
    let section = &block[..len];
    let last_line_ok = fields.is_empty() || ends_in_crlf(&section[..section.len().saturating_sub(2)]);
    if !ends_in_crlf(section) || !last_line_ok {
        return Err(WireError::BadHeader("field line not ended by CRLF"));
    }
    Ok(Found::Complete {
        count: fields.len(),
        end: start + len,
        longest,
    })
}

fn ends_in_crlf(bytes: &[u8]) -> bool {
    bytes.ends_with(b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_fields(text: &[u8], start: usize, max: usize) -> Result<Option<Fields>, WireError> {
        let mut fields = Fields::new();
        Ok(fields.parse(text, start, max)?.then_some(fields))
    }

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
