//! Redirects, as Go's `http.Redirect` writes them, and Go's `path.Clean`
//! which both the redirect and the ServeMux use.

use crate::{Request, ResponseWriter};
use http::header::{CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, StatusCode};

/// Replies with a redirect to `url` (Go: `http.Redirect`).
///
/// A relative `url` is resolved against the request's path and cleaned
/// (a trailing slash is kept). Non-ASCII bytes in the Location are
/// percent-escaped. GET and HEAD get `Content-Type: text/html`, and GET a
/// short HTML body with a link, unless the handler set a Content-Type.
pub async fn redirect(w: &mut ResponseWriter, r: &Request, url: &str, code: StatusCode) {
    let target = resolve_relative(&r.url.path, url);
    let had_content_type = w.headers().contains_key(CONTENT_TYPE);
    if let Ok(location) = HeaderValue::from_str(&hex_escape_non_ascii(&target)) {
        w.header().insert(LOCATION, location);
    }
    let get_or_head = r.method == Method::GET || r.method == Method::HEAD;
    if !had_content_type && get_or_head {
        w.header()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    }
    w.write_header(code);
    if !had_content_type && r.method == Method::GET {
        let reason = code.canonical_reason().unwrap_or("");
        let body = format!("<a href=\"{}\">{}</a>.\n\n", html_escape(&target), reason);
        let _ = w.write(body.as_bytes()).await;
    }
}

/// Go resolves a redirect target without scheme and host against the
/// current path, so `redirect(w, r, "other", ...)` from `/a/b` goes to `/a/other`.
fn resolve_relative(current_path: &str, url: &str) -> String {
    let has_scheme = url.split_once(':').is_some_and(|(scheme, _)| {
        scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    if has_scheme || url.starts_with("//") {
        return url.to_owned();
    }
    let mut target = url.to_owned();
    if !target.starts_with('/') {
        let old_path = if current_path.is_empty() {
            "/"
        } else {
            current_path
        };
        let dir_end = old_path.rfind('/').map_or(0, |i| i + 1);
        target = format!("{}{}", &old_path[..dir_end], target);
    }
    let (path, query) = match target.find('?') {
        Some(i) => target.split_at(i),
        None => (target.as_str(), ""),
    };
    let mut cleaned = clean(path);
    if path.ends_with('/') && !cleaned.ends_with('/') {
        cleaned.push('/');
    }
    cleaned + query
}

/// Go's `path.Clean`: one slash between names, no `.` elements, `..`
/// elements removed together with the name before them; `""` becomes `.`.
///
/// ```
/// assert_eq!(server::redirect::clean("/a/./b/../../c//d/"), "/c/d");
/// assert_eq!(server::redirect::clean("/.."), "/");
/// ```
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let bytes = path.as_bytes();
    let rooted = bytes[0] == b'/';
    let n = bytes.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        let empty_element = bytes[r] == b'/';
        let dot_element = bytes[r] == b'.' && (r + 1 == n || bytes[r + 1] == b'/');
        if empty_element || dot_element {
            r += 1;
        } else if bytes[r] == b'.' && bytes[r + 1] == b'.' && (r + 2 == n || bytes[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                out.pop();
                while out.len() > dotdot && out[out.len() - 1] != b'/' {
                    out.pop();
                }
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && bytes[r] != b'/' {
                out.push(bytes[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".to_owned();
    }
    // Only whole ASCII elements were removed, so `out` is still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// Escapes bytes >= 0x80 as `%xx` in lower-case hex (Go: `hexEscapeNonASCII`).
pub fn hex_escape_non_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b < 0x80 {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:x}"));
        }
    }
    out
}

/// Go's `htmlEscape` for the redirect body.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
