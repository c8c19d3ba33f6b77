//! Go's `%q`: a string in double quotes with Go's escapes (Go:
//! `strconv.Quote`), so that the modern mux's refusals read exactly as Go's
//! panic messages (`parsing "/{x": at offset 1: ...`).

use std::fmt::Write;

/// `s` as Go's `%q` prints it: `"` and `\` escaped, `\n`-style escapes for
/// the usual control characters, `\x..` for other ASCII controls and bytes
/// that are not UTF-8, `\u....` for characters Go does not call printable.
///
/// Go's `strconv.IsPrint` uses Unicode's categories; Rust's standard
/// library has no category table, so "printable" here is "not a control
/// character, and no whitespace but the space" (which differs from Go only
/// on rare format characters such as U+200B).
///
/// ```
/// use mux::goquote::go_quote;
/// assert_eq!(go_quote(b"G(ET"), r#""G(ET""#);
/// assert_eq!(go_quote("é\t\"\\".as_bytes()), r#""é\t\"\\""#);
/// assert_eq!(go_quote(b"a\xffb"), r#""a\xffb""#);
/// ```
pub fn go_quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if c == ' ' || !(c.is_control() || c.is_whitespace()) => out.push(c),
                c if (c as u32) < 0x80 => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if (c as u32) < 0x10000 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
    out
}
