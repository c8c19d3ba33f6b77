//! Redirects, as Go's `http.Redirect` writes them, and Go's `path.Clean`,
//! which both the redirect and the ServeMux use.
//!
//! Both work on bytes: the path they start from is a decoded URL path
//! ([`crate::url::UrlPath`]), which may hold bytes that are not UTF-8.

use crate::url::parse_reference;
use crate::{Request, ResponseWriter};
use http::header::{CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, StatusCode};

/// Replies with a redirect to `url` (Go: `http.Redirect`, server.go:2169).
///
/// A `url` without scheme and host is made absolute against the request's
/// path (`other` from `/a/b` goes to `/a/other`) and cleaned, keeping a
/// trailing slash; a `url` that does not parse is sent as it is. Bytes
/// above 0x7F in the `Location` are escaped as `%xx` in lower-case hex.
/// Unless the handler already set a Content-Type, GET and HEAD get
/// `Content-Type: text/html; charset=utf-8`, and GET a short HTML body with
/// a link; other methods get no body.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use server::{redirect, Request, ResponseWriter};
/// let r = Request::new(http::Method::GET, "/a/b").unwrap();
/// let mut w = ResponseWriter::recorder();
/// redirect(&mut w, &r, "../c/", http::StatusCode::FOUND).await;
/// assert_eq!(w.headers()["location"], "/c/");
/// assert_eq!(w.recorded_body(), b"<a href=\"/c/\">Found</a>.\n\n");
/// # });
/// ```
pub async fn redirect(w: &mut ResponseWriter, r: &Request, url: &str, code: StatusCode) {
    let target: Vec<u8> = match parse_reference(url) {
        Ok(parsed) if parsed.scheme.is_empty() && parsed.host.is_empty() => {
            resolve_relative(r.url.path.as_bytes(), url)
        }
        _ => url.as_bytes().to_vec(),
    };
    let had_content_type = w.headers().contains_key(CONTENT_TYPE);
    // Go replaces CR and LF by spaces when it writes a header value.
    let location: Vec<u8> = hex_escape_non_ascii(&target)
        .into_iter()
        .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b })
        .collect();
    if let Ok(location) = HeaderValue::from_bytes(&location) {
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
        let mut body = b"<a href=\"".to_vec();
        body.extend_from_slice(&html_escape_bytes(&target));
        body.extend_from_slice(b"\">");
        body.extend_from_slice(reason.as_bytes());
        body.extend_from_slice(b"</a>.\n\n");
        let _ = w.write(&body).await;
    }
}

/// Go's relative-redirect resolution in `Redirect`: prefix the directory of
/// the current path, then clean everything before the `?`, keeping a
/// trailing slash.
fn resolve_relative(current_path: &[u8], url: &str) -> Vec<u8> {
    let mut target = Vec::with_capacity(current_path.len() + url.len());
    if !url.starts_with('/') {
        let old_path: &[u8] = if current_path.is_empty() {
            b"/"
        } else {
            current_path
        };
        let dir_end = old_path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        target.extend_from_slice(&old_path[..dir_end]);
    }
    target.extend_from_slice(url.as_bytes());
    let query_start = target.iter().position(|&b| b == b'?').unwrap_or(target.len());
    let (path, query) = target.split_at(query_start);
    let mut cleaned = clean_bytes(path);
    if path.ends_with(b"/") && !cleaned.ends_with(b"/") {
        cleaned.push(b'/');
    }
    cleaned.extend_from_slice(query);
    cleaned
}

/// Go's `path.Clean`: one slash between names, no `.` elements, `..`
/// elements removed together with the name before them, and no `..` above
/// the root; `""` becomes `.`.
///
/// ```
/// assert_eq!(server::redirect::clean("/a/./b/../../c//d/"), "/c/d");
/// assert_eq!(server::redirect::clean("/.."), "/");
/// assert_eq!(server::redirect::clean("a/../.."), "..");
/// ```
pub fn clean(path: &str) -> String {
    let cleaned = clean_bytes(path.as_bytes());
    // Only whole ASCII elements and slashes were removed, so UTF-8 stays UTF-8.
    String::from_utf8(cleaned).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`clean`] for a byte path (a decoded URL path may hold any byte).
pub fn clean_bytes(path: &[u8]) -> Vec<u8> {
    if path.is_empty() {
        return b".".to_vec();
    }
    let n = path.len();
    let rooted = path[0] == b'/';
    let mut out: Vec<u8> = Vec::with_capacity(n);
    // `r` reads `path`; `dotdot` is where `..` may no longer back up to.
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    let element_ends = |i: usize| i == n || path[i] == b'/';
    while r < n {
        if path[r] == b'/' || (path[r] == b'.' && element_ends(r + 1)) {
            // An empty or `.` element: skip it.
            r += 1;
        } else if path[r] == b'.' && path[r + 1] == b'.' && element_ends(r + 2) {
            // A `..` element: back up to the previous slash, if we may.
            r += 2;
            if out.len() > dotdot {
                // Drop the last name and the slash before it (not the root's).
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            // A real name: copy it, after a slash when needed.
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && path[r] != b'/' {
                out.push(path[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// Escapes bytes >= 0x80 as `%xx` in lower-case hex, as Go's
/// `hexEscapeNonASCII` does (`strconv.AppendInt(b, int64(c), 16)`).
pub fn hex_escape_non_ascii(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if b < 0x80 {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:x}").as_bytes());
        }
    }
    out
}

/// Go's `htmlEscape` for the redirect body (`& < > " '`).
pub fn html_escape(s: &str) -> String {
    let escaped = html_escape_bytes(s.as_bytes());
    String::from_utf8(escaped).unwrap_or_default()
}

fn html_escape_bytes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'"' => out.extend_from_slice(b"&#34;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            _ => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go_path_clean() {
        // Cases from Go's path/path_test.go (cleantests), written out.
        let cases = [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            ("a/b/c", "a/b/c"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("./", "."),
            ("../", ".."),
            ("/abc/", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("//abc", "/abc"),
            ("///abc", "/abc"),
            ("//abc//", "/abc"),
            ("abc//", "abc"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("abc/./../def", "def"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
        assert_eq!(clean_bytes(b"/\xff/./x/.."), b"/\xff");
    }

    #[test]
    fn relative_resolution() {
        assert_eq!(resolve_relative(b"/a/b", "c?x=/../"), b"/a/c?x=/../");
        assert_eq!(resolve_relative(b"/a/b", "../d/"), b"/d/");
        assert_eq!(resolve_relative(b"", "x"), b"/x");
        assert_eq!(resolve_relative(b"/a/", "/x/../y"), b"/y");
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn locations_match_go_test_redirect() {
        // Go 1.19 serve_test.go TestRedirect, from a request for /qux/.
        let cases = [
            ("http://foobar.com/baz", "http://foobar.com/baz"),
            ("https://foobar.com/baz", "https://foobar.com/baz"),
            ("test://foobar.com/baz", "test://foobar.com/baz"),
            ("//foobar.com/baz", "//foobar.com/baz"),
            ("/foobar.com/baz", "/foobar.com/baz"),
            ("foobar.com/baz", "/qux/foobar.com/baz"),
            ("../quux/foobar.com/baz", "/quux/foobar.com/baz"),
            ("///foobar.com/baz", "/foobar.com/baz"),
            ("/foo?next=http://bar.com/", "/foo?next=http://bar.com/"),
            (
                "http://localhost:8080/_ah/login?continue=http://localhost:8080/",
                "http://localhost:8080/_ah/login?continue=http://localhost:8080/",
            ),
            ("/фубар", "/%d1%84%d1%83%d0%b1%d0%b0%d1%80"),
            (
                "http://foo.com/фубар",
                "http://foo.com/%d1%84%d1%83%d0%b1%d0%b0%d1%80",
            ),
        ];
        let r = Request::new(Method::GET, "http://example.com/qux/").unwrap();
        for (to, want) in cases {
            let mut w = ResponseWriter::recorder();
            run(redirect(&mut w, &r, to, StatusCode::FOUND));
            assert_eq!(w.status(), StatusCode::FOUND);
            assert_eq!(w.headers()[LOCATION], want, "redirect to {to:?}");
        }
    }

    #[test]
    fn content_type_and_body_match_go() {
        // Go 1.19 serve_test.go TestRedirectContentTypeAndBody.
        let cases: [(&str, Option<&str>, &str, &str); 6] = [
            (
                "GET",
                None,
                "text/html; charset=utf-8",
                "<a href=\"/foo\">Found</a>.\n\n",
            ),
            ("HEAD", None, "text/html; charset=utf-8", ""),
            ("POST", None, "", ""),
            ("DELETE", None, "", ""),
            ("foo", None, "", ""),
            ("GET", Some("application/test"), "application/test", ""),
        ];
        for (method, preset, want_type, want_body) in cases {
            let method: Method = method.parse().unwrap();
            let r = Request::new(method.clone(), "http://example.com/qux/").unwrap();
            let mut w = ResponseWriter::recorder_for(&method);
            if let Some(preset) = preset {
                w.header().insert(CONTENT_TYPE, HeaderValue::from_static(preset));
            }
            run(redirect(&mut w, &r, "/foo", StatusCode::FOUND));
            let got_type = w.headers().get(CONTENT_TYPE).map_or("", |v| v.to_str().unwrap());
            assert_eq!(got_type, want_type, "{method}");
            assert_eq!(w.recorded_body(), want_body.as_bytes(), "{method}");
        }
    }

    #[test]
    fn non_ascii_is_escaped_lower_case() {
        assert_eq!(hex_escape_non_ascii("/ü?q=ü".as_bytes()), b"/%c3%bc?q=%c3%bc");
    }
}
