//! Guessing a Content-Type from the first bytes of a body, for handlers that
//! do not set one (Go: `DetectContentType`, sniff.go:21, a smaller table).

/// The MIME type Go's algorithm would pick for the common cases: HTML, XML,
/// PDF, a few image formats, JSON-looking text is still text/plain as in Go,
/// text, or binary.
pub fn detect_content_type(data: &[u8]) -> &'static str {
    let data = &data[..data.len().min(512)];
    let start = data
        .iter()
        .position(|b| !b" \t\n\x0c\r".contains(b))
        .unwrap_or(data.len());
    let text = &data[start..];
    const HTML_TAGS: [&[u8]; 17] = [
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ];
    for tag in HTML_TAGS {
        if text.len() > tag.len()
            && text[..tag.len()].eq_ignore_ascii_case(tag)
            && (text[tag.len()] == b' ' || text[tag.len()] == b'>')
        {
            return "text/html; charset=utf-8";
        }
    }
    if text.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    let signatures: [(&[u8], &str); 5] = [
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\x0d\x0a\x1a\x0a", "image/png"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"\xff\xd8\xff", "image/jpeg"),
    ];
    for (magic, mime) in signatures {
        if data.starts_with(magic) {
            return mime;
        }
    }
    let binary = data
        .iter()
        .any(|&b| b <= 0x08 || b == 0x0b || (0x0e..=0x1a).contains(&b) || (0x1c..=0x1f).contains(&b));
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}
