//! The head of a response, decided once the handler has said all it will
//! say before the first bytes leave (Go: `chunkWriter.writeHeader`,
//! server.go:1246).
//!
//! Go splits its response writer in two: `response` (server.go:423) is what
//! the handler talks to, and `chunkWriter` (server.go:349) sits behind a
//! 2048-byte buffer and, when that buffer first overflows or the handler
//! returns, decides the framing and writes the head. This module is the
//! second half's decision, kept apart as a pure function, [`plan_head`]:
//! given what the handler set and wrote and what the request asked, which
//! of `Content-Length`, `Transfer-Encoding: chunked`, `Connection: close`
//! or `keep-alive`, `Date` and a sniffed `Content-Type` the server adds, and
//! which of the handler's headers it drops. Its table test mirrors the
//! table in `notes/server.md`, section 3. [`write_head`] then serialises
//! the head; `response.rs` applies the plan and sends.

use crate::conn_header::ConnectionTokens;
use crate::date;
use crate::wire::write_response_head;
use http::header::{CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, DATE, TRANSFER_ENCODING};
use http::{HeaderMap, StatusCode, Version};

/// Which of the headers that shape the response's framing the handler set,
/// noted in one walk over its header map (hyper does the same) rather than
/// one hashed lookup per question.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct HandlerHeaders {
    pub content_type: bool,
    pub content_encoding: bool,
    pub content_length: bool,
    pub transfer_encoding: bool,
    /// The first Transfer-Encoding value is `identity`.
    pub te_identity: bool,
    pub connection: bool,
    /// The options of every Connection value.
    pub connection_tokens: ConnectionTokens,
    pub date: bool,
}

impl HandlerHeaders {
    #[inline]
    pub fn note(headers: &HeaderMap) -> Self {
        let mut set = HandlerHeaders::default();
        for (name, value) in headers {
            if name == CONTENT_TYPE {
                set.content_type = true;
            } else if name == CONTENT_ENCODING {
                set.content_encoding = true;
            } else if name == CONTENT_LENGTH {
                set.content_length = true;
            } else if name == TRANSFER_ENCODING {
                if !set.transfer_encoding {
                    set.te_identity = value.as_bytes().eq_ignore_ascii_case(b"identity");
                }
                set.transfer_encoding = true;
            } else if name == CONNECTION {
                set.connection = true;
                set.connection_tokens.add(value);
            } else if name == DATE {
                set.date = true;
            }
        }
        set
    }
}

/// What [`plan_head`] decides from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadInput {
    pub status: StatusCode,
    pub version: Version,
    pub is_head: bool,
    /// An HTTP/1.0 request that asked for `Connection: keep-alive`
    /// (Go: `wants10KeepAlive`, server.go:430).
    pub wants_10_keep_alive: bool,
    pub set: HandlerHeaders,
    /// The handler's own Content-Length, when it set a valid one.
    pub declared_len: Option<u64>,
    /// Body bytes the handler wrote so far.
    pub written: u64,
    /// The handler has returned: all of its body is in the buffer.
    pub done: bool,
    /// There are body bytes to sniff a Content-Type from.
    pub has_sample: bool,
    /// The connection is to close after this response already (the
    /// request asked it).
    pub close_after: bool,
    /// The server is shutting down (Go: `!doKeepAlives()`, server.go:3201).
    pub draining: bool,
}

/// The `Connection` header the server adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectionHeader {
    None,
    Close,
    KeepAlive,
}

/// What [`plan_head`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeadPlan {
    /// Add a Content-Type sniffed from the first body bytes.
    pub sniff_content_type: bool,
    /// Drop the handler's Content-Length (no body allowed, or it
    /// contradicts its Transfer-Encoding).
    pub drop_content_length: bool,
    /// Drop the handler's Content-Type (a 304 has no representation).
    pub drop_content_type: bool,
    /// Drop the handler's Transfer-Encoding (we write our own).
    pub drop_transfer_encoding: bool,
    /// Drop the handler's Connection (we say `close` instead).
    pub drop_connection: bool,
    /// The handler set both Content-Length and a Transfer-Encoding.
    pub conflicting_lengths: bool,
    /// The body's length once the head is out: declared, or computed.
    pub declared_len: Option<u64>,
    /// A Content-Length the server computed and adds.
    pub add_content_length: Option<u64>,
    pub add_date: bool,
    pub chunked: bool,
    pub connection: ConnectionHeader,
    /// The connection closes after this response.
    pub close_after: bool,
}

/// 1xx, 204 and 304 responses never have a body (Go:
/// `bodyAllowedForStatus`, transfer.go:456).
pub(crate) fn body_allowed_for_status(status: StatusCode) -> bool {
    let code = status.as_u16();
    !((100..200).contains(&code) || code == 204 || code == 304)
}

/// Decides the head's framing and the headers the server adds or drops
/// (Go: the body of `chunkWriter.writeHeader`, server.go:1246-1490).
#[inline]
pub(crate) fn plan_head(input: &HeadInput) -> HeadPlan {
    let mut plan = plan_framing(input);
    plan_connection(input, &mut plan);
    plan
}

/// How the body is framed: a length (declared or computed), chunked, or
/// the close of the connection; and the Content-Type to sniff.
#[inline]
fn plan_framing(input: &HeadInput) -> HeadPlan {
    let HeadInput {
        status,
        version,
        is_head,
        set,
        ..
    } = *input;
    let body_allowed = body_allowed_for_status(status);
    let mut declared_len = input.declared_len;
    let mut plan = HeadPlan {
        sniff_content_type: false,
        drop_content_length: false,
        drop_content_type: false,
        drop_transfer_encoding: false,
        drop_connection: false,
        conflicting_lengths: false,
        declared_len: None,
        add_content_length: None,
        add_date: !set.date,
        chunked: false,
        connection: ConnectionHeader::None,
        close_after: input.close_after,
    };

    if body_allowed {
        plan.sniff_content_type =
            input.has_sample && !set.content_type && !set.content_encoding && !set.transfer_encoding;
    } else {
        // 1xx, 204 and 304 have no body, hence no framing headers
        // (Go: `suppressedHeaders`, transfer.go:474).
        plan.drop_content_length = set.content_length;
        plan.drop_content_type = status == StatusCode::NOT_MODIFIED && set.content_type;
        declared_len = None;
    }

    let has_te = set.transfer_encoding;
    if declared_len.is_some() && has_te && !set.te_identity {
        plan.conflicting_lengths = true;
        plan.drop_content_length = true;
        declared_len = None;
    }

    // The handler returned within the buffer: we know the length.
    if input.done && !has_te && body_allowed && declared_len.is_none() && (!is_head || input.written > 0) {
        declared_len = Some(input.written);
        plan.add_content_length = Some(input.written);
    }

    // Framing of the body. The handler's Transfer-Encoding is never sent
    // as it is: we write our own when the body is chunked.
    plan.drop_transfer_encoding = has_te;
    if is_head || !body_allowed || declared_len.is_some() {
        // No body, or its length is known: no transfer coding.
    } else if version == Version::HTTP_11 && !set.te_identity {
        plan.chunked = true;
    } else {
        // HTTP/1.0 has no chunking, and `identity` asks for none: the end
        // of the body is the close of the connection.
        plan.close_after = true;
    }

    plan.declared_len = declared_len;
    plan
}

/// Keep-alive or close, and the `Connection` header that says so
/// (Go: `wants10KeepAlive`, `closeAfterReply`, server.go:1322-1342).
#[inline]
fn plan_connection(input: &HeadInput, plan: &mut HeadPlan) {
    let (version, set) = (input.version, input.set);
    let length_known = input.is_head || plan.declared_len.is_some() || !body_allowed_for_status(input.status);
    let mut keep_alive_10 = false;
    if input.wants_10_keep_alive && length_known {
        keep_alive_10 = !set.connection;
    } else if version == Version::HTTP_10 {
        plan.close_after = true;
    }
    if set.connection_tokens.close || input.draining {
        plan.close_after = true;
    }
    if plan.close_after && !set.connection_tokens.close {
        plan.drop_connection = set.connection;
        if version == Version::HTTP_11 {
            plan.connection = ConnectionHeader::Close;
        }
    } else if keep_alive_10 {
        plan.connection = ConnectionHeader::KeepAlive;
    }
}

/// Writes the head into `out`: the status line and the handler's headers
/// (the plan's drops already applied), then the headers the server adds,
/// straight into the buffer without going through the header map
/// (Go: `extraHeader.Write`, server.go:1217).
///
/// Numbers are written one way on the response path, never with
/// `format!`: decimal through the `itoa` crate (what hyper uses), chunk
/// sizes in hex through [`encode_chunk_size`](crate::wire::encode_chunk_size).
#[inline]
pub(crate) fn write_head(
    out: &mut Vec<u8>,
    version: Version,
    status: StatusCode,
    headers: &HeaderMap,
    plan: &HeadPlan,
) {
    write_response_head(out, version, status, headers);
    if plan.add_date {
        out.extend_from_slice(b"Date: ");
        date::write_now(out);
        out.extend_from_slice(b"\r\n");
    }
    if let Some(len) = plan.add_content_length {
        out.extend_from_slice(b"Content-Length: ");
        out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if plan.chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
    }
    match plan.connection {
        ConnectionHeader::Close => out.extend_from_slice(b"Connection: close\r\n"),
        ConnectionHeader::KeepAlive => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        ConnectionHeader::None => {}
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    //! One test per row of the table in `notes/server.md`, section 3 ("The
    //! response buffer"), in the same order; keep the two in step.

    use super::*;
    use http::HeaderValue;

    /// A GET over HTTP/1.1 whose handler wrote `written` bytes with no
    /// header set, and returned.
    fn get(written: u64) -> HeadInput {
        HeadInput {
            status: StatusCode::OK,
            version: Version::HTTP_11,
            is_head: false,
            wants_10_keep_alive: false,
            set: HandlerHeaders::default(),
            declared_len: None,
            written,
            done: true,
            has_sample: written > 0,
            close_after: false,
            draining: false,
        }
    }

    fn with_headers(mut input: HeadInput, pairs: &[(&'static str, &'static str)]) -> HeadInput {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        input.set = HandlerHeaders::note(&headers);
        input
    }

    /// "every response: `Date` unless the handler set one"
    #[test]
    fn date_unless_the_handler_set_one() {
        assert!(plan_head(&get(5)).add_date);
        assert!(!plan_head(&with_headers(get(5), &[("date", "x")])).add_date);
    }

    /// "no `Content-Type` set, body not empty, no `Content-Encoding`: sniffed"
    #[test]
    fn content_type_sniffed_only_when_missing_and_there_is_a_body() {
        assert!(plan_head(&get(5)).sniff_content_type);
        assert!(!plan_head(&get(0)).sniff_content_type);
        assert!(!plan_head(&with_headers(get(5), &[("content-type", "a/b")])).sniff_content_type);
        assert!(!plan_head(&with_headers(get(5), &[("content-encoding", "gzip")])).sniff_content_type);
    }

    /// "handler set `Content-Length`: honoured" (and the buffer-sized
    /// cases of the section's text: a known length, or chunked)
    #[test]
    fn content_length_declared_computed_or_chunked() {
        let mut declared = with_headers(get(3), &[("content-length", "3")]);
        declared.declared_len = Some(3);
        let plan = plan_head(&declared);
        assert_eq!(
            (plan.declared_len, plan.add_content_length, plan.chunked),
            (Some(3), None, false)
        );

        let plan = plan_head(&get(13));
        assert_eq!((plan.add_content_length, plan.chunked), (Some(13), false));

        let streamed = HeadInput {
            done: false,
            ..get(4096)
        };
        let plan = plan_head(&streamed);
        assert_eq!(
            (plan.add_content_length, plan.chunked, plan.close_after),
            (None, true, false)
        );
    }

    /// "`HEAD`: same headers as GET would get, no body"
    #[test]
    fn head_gets_the_length_of_what_was_written() {
        let plan = plan_head(&HeadInput {
            is_head: true,
            ..get(13)
        });
        assert_eq!((plan.add_content_length, plan.chunked), (Some(13), false));
        let plan = plan_head(&HeadInput {
            is_head: true,
            ..get(0)
        });
        assert_eq!((plan.add_content_length, plan.chunked), (None, false));
    }

    /// "1xx, 204, 304: no `Content-Length`/`Transfer-Encoding` (304: no
    /// `Content-Type` either)"
    #[test]
    fn no_framing_headers_without_a_body() {
        let headers = [
            ("content-length", "3"),
            ("content-type", "a/b"),
            ("transfer-encoding", "chunked"),
        ];
        for status in [StatusCode::NO_CONTENT, StatusCode::NOT_MODIFIED] {
            let mut input = with_headers(get(0), &headers);
            input.status = status;
            input.declared_len = Some(3);
            let plan = plan_head(&input);
            assert!(
                plan.drop_content_length && plan.drop_transfer_encoding,
                "{status}"
            );
            assert_eq!(plan.drop_content_type, status == StatusCode::NOT_MODIFIED);
            assert_eq!(
                (plan.add_content_length, plan.chunked, plan.declared_len),
                (None, false, None)
            );
        }
    }

    /// "request `Connection: close`, handler `Connection: close`, or server
    /// draining: `Connection: close` on HTTP/1.1, then close"
    #[test]
    fn connection_close_for_request_handler_or_shutdown() {
        let asked = plan_head(&HeadInput {
            close_after: true,
            ..get(1)
        });
        assert_eq!(
            (asked.connection, asked.close_after),
            (ConnectionHeader::Close, true)
        );
        let draining = plan_head(&HeadInput {
            draining: true,
            ..get(1)
        });
        assert_eq!(
            (draining.connection, draining.close_after),
            (ConnectionHeader::Close, true)
        );
        // The handler said it itself: kept, not said twice.
        let handler = plan_head(&with_headers(get(1), &[("connection", "close")]));
        assert_eq!(
            (handler.connection, handler.close_after),
            (ConnectionHeader::None, true)
        );
        assert!(!handler.drop_connection);
        // HTTP/1.0: closing is the default, nothing to say.
        let old = plan_head(&HeadInput {
            version: Version::HTTP_10,
            ..get(1)
        });
        assert_eq!((old.connection, old.close_after), (ConnectionHeader::None, true));
    }

    /// "HTTP/1.0 with `Connection: keep-alive` and a known length:
    /// `Connection: keep-alive`, connection kept"
    #[test]
    fn http10_keep_alive_needs_a_known_length() {
        let input = HeadInput {
            version: Version::HTTP_10,
            wants_10_keep_alive: true,
            ..get(5)
        };
        let plan = plan_head(&input);
        assert_eq!(
            (plan.connection, plan.close_after),
            (ConnectionHeader::KeepAlive, false)
        );
        // Streamed: no chunking in HTTP/1.0, so the close ends the body.
        let plan = plan_head(&HeadInput { done: false, ..input });
        assert_eq!(
            (plan.connection, plan.close_after, plan.chunked),
            (ConnectionHeader::None, true, false)
        );
    }

    /// Content-Length and a Transfer-Encoding from the handler: the length goes.
    #[test]
    fn transfer_encoding_wins_over_content_length() {
        let mut input = with_headers(
            get(3),
            &[("content-length", "3"), ("transfer-encoding", "chunked")],
        );
        input.declared_len = Some(3);
        input.done = false;
        let plan = plan_head(&input);
        assert!(plan.conflicting_lengths && plan.drop_content_length && plan.drop_transfer_encoding);
        assert!(plan.chunked);
    }

    #[test]
    fn head_is_written_with_the_added_headers_last() {
        let plan = plan_head(&HeadInput {
            close_after: true,
            ..get(13)
        });
        let mut out = Vec::new();
        write_head(
            &mut out,
            Version::HTTP_11,
            StatusCode::OK,
            &HeaderMap::new(),
            &plan,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\nDate: "), "{text}");
        assert!(
            text.ends_with("\r\nContent-Length: 13\r\nConnection: close\r\n\r\n"),
            "{text}"
        );
    }
}
