//! Following redirects as Go's client does (Go:
//! `redirectBehavior`, client.go:502; the loop of `Client.do`, :586;
//! `defaultCheckRedirect`, :801), and
//! resolving a `Location` against the URL that answered with it.

use crate::Error;
use http::{Method, StatusCode, Uri};

/// What the redirect policy is asked about: the redirect about to be
/// followed (Go passes `req` and `via` to `CheckRedirect`).
#[derive(Debug)]
pub struct RedirectAttempt<'a> {
    /// The redirect status received (301, 302, 303, 307 or 308).
    pub status: StatusCode,
    /// The method the next request will use.
    pub method: &'a Method,
    /// Where the next request goes.
    pub next: &'a Uri,
    /// The URLs already requested, oldest first (the original included).
    pub via: &'a [Uri],
}

/// What the policy decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectAction {
    /// Send the next request.
    Follow,
    /// Stop and return the redirect response itself, body unread (Go:
    /// `ErrUseLastResponse`, client.go:488).
    UseLastResponse,
    /// Stop with this error.
    Error(String),
}

/// Go's `defaultCheckRedirect`: an error once 10 requests have been made,
/// i.e. a chain of 10 redirects fails and one of 9 is followed to its end.
pub fn default_check_redirect(attempt: &RedirectAttempt<'_>) -> RedirectAction {
    if attempt.via.len() >= 10 {
        RedirectAction::Error("stopped after 10 redirects".to_owned())
    } else {
        RedirectAction::Follow
    }
}

/// How to follow a redirect status (Go: `redirectBehavior`, client.go:502): the next
/// method and whether the body is sent again; `None` for a status that is
/// not a redirect to follow.
pub(crate) fn redirect_behavior(status: StatusCode, method: &Method) -> Option<(Method, bool)> {
    match status.as_u16() {
        // RFC 7231 lets user agents change POST to GET here, and every
        // browser (and Go) does; HEAD stays HEAD.
        301..=303 => {
            let next = if *method == Method::GET || *method == Method::HEAD {
                method.clone()
            } else {
                Method::GET
            };
            Some((next, false))
        }
        307 | 308 => Some((method.clone(), true)),
        _ => None,
    }
}

/// Resolves a `Location` value against `base` (RFC 3986 section 5.2, the
/// forms that occur in practice: absolute, scheme-relative, absolute path,
/// query-only, relative path). The fragment is dropped.
pub(crate) fn resolve(base: &Uri, location: &str) -> Result<Uri, Error> {
    let location = location.split('#').next().unwrap_or_default().trim();
    let bad = |why: &str| Error::Redirect(format!("bad Location {location:?}: {why}"));
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
    let text = if has_scheme(location) {
        location.to_owned()
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{}", remove_dot_segments(location))
    } else if location.is_empty() {
        return Ok(base.clone());
    } else if location.starts_with('?') {
        format!("{scheme}://{authority}{}{location}", base.path())
    } else {
        let base_path = base.path();
        let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        format!(
            "{scheme}://{authority}{}",
            remove_dot_segments(&format!("{dir}{location}"))
        )
    };
    text.parse::<Uri>().map_err(|e| bad(&e.to_string()))
}

fn has_scheme(location: &str) -> bool {
    match location.find(':') {
        Some(colon) => {
            let scheme = &location[..colon];
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// Removes `.` and `..` segments from a path (keeping its query).
fn remove_dot_segments(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.find('?') {
        Some(q) => path_and_query.split_at(q),
        None => (path_and_query, ""),
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    format!("/{}{query}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(base: &str, loc: &str) -> String {
        resolve(&base.parse().unwrap(), loc).unwrap().to_string()
    }

    #[test]
    fn resolves_the_usual_forms() {
        assert_eq!(r("http://a.test/b/c?q", "/x"), "http://a.test/x");
        assert_eq!(r("http://a.test/b/c", "d"), "http://a.test/b/d");
        assert_eq!(r("http://a.test/b/c", "../d?e=1"), "http://a.test/d?e=1");
        assert_eq!(r("http://a.test/b/c", "?y=2"), "http://a.test/b/c?y=2");
        assert_eq!(r("http://a.test:81/b", "//c.test/d"), "http://c.test/d");
        assert_eq!(
            r("http://a.test/b", "http://e.test:8/f#frag"),
            "http://e.test:8/f"
        );
        assert_eq!(r("http://a.test/b/", "./"), "http://a.test/b/");
    }

    #[test]
    fn methods_change_as_in_go() {
        assert_eq!(
            redirect_behavior(StatusCode::FOUND, &Method::POST),
            Some((Method::GET, false))
        );
        assert_eq!(
            redirect_behavior(StatusCode::SEE_OTHER, &Method::HEAD),
            Some((Method::HEAD, false))
        );
        assert_eq!(
            redirect_behavior(StatusCode::TEMPORARY_REDIRECT, &Method::POST),
            Some((Method::POST, true))
        );
        assert_eq!(redirect_behavior(StatusCode::NOT_MODIFIED, &Method::GET), None);
    }
}
