//! The request host without its port (Go: `stripHostPort`, server.go:2336,
//! which calls `net.SplitHostPort`, net/ipsock.go:164).
//!
//! Go strips the port only when `SplitHostPort` succeeds, and keeps the
//! host whole otherwise. That gives some surprising answers that the mux
//! must reproduce: `[::1]:8080` becomes `::1` (brackets gone) but `[::1]`
//! stays `[::1]`; `example.com:abc` becomes `example.com` (the port is not
//! checked); `a:b:c` stays `a:b:c` (too many colons). Both functions
//! return slices of their input: nothing is allocated.

/// Go: `stripHostPort`, server.go:2336: `host` without a trailing `:port`, unchanged when
/// it has no colon or does not split.
///
/// ```
/// use mux::hostport::strip_host_port;
/// assert_eq!(strip_host_port("example.com:443"), "example.com");
/// assert_eq!(strip_host_port("[::1]:8080"), "::1");
/// assert_eq!(strip_host_port("[::1]"), "[::1]");
/// assert_eq!(strip_host_port("a:b:c"), "a:b:c");
/// ```
pub fn strip_host_port(host: &str) -> &str {
    if !host.contains(':') {
        return host;
    }
    match split_host_port(host) {
        Some((name, _port)) => name,
        None => host,
    }
}

/// Go: `net.SplitHostPort`, net/ipsock.go:164: splits `host:port`, `[host]:port` or
/// `[host%zone]:port` into host and port; `None` where Go returns an error
/// (no port, too many colons, misplaced brackets).
pub fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let bytes = hostport.as_bytes();
    // The port starts after the last colon.
    let last_colon = hostport.rfind(':')?;
    let (host, after_host, before_host) = if bytes.first() == Some(&b'[') {
        // The first ']' must come just before the last ':'.
        let close = hostport.find(']')?;
        if close + 1 != last_colon {
            return None;
        }
        (&hostport[1..close], close + 1, 1)
    } else {
        let host = &hostport[..last_colon];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hostport[before_host..].contains('[') || hostport[after_host..].contains(']') {
        return None;
    }
    Some((host, &hostport[last_colon + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_go() {
        // From Go's net/ipsock_test.go splitJoinTests and splitFailureTests.
        let ok = [
            ("www.google.com:80", "www.google.com", "80"),
            ("127.0.0.1:1234", "127.0.0.1", "1234"),
            ("[::1]:80", "::1", "80"),
            ("[fe80::1%lo0]:80", "fe80::1%lo0", "80"),
            (":80", "", "80"),
            ("[]:80", "", "80"),
            ("localhost:", "localhost", ""),
            ("[::1]:", "::1", ""),
            ("example.com:abc", "example.com", "abc"),
        ];
        for (input, host, port) in ok {
            assert_eq!(split_host_port(input), Some((host, port)), "{input}");
        }
        let bad = [
            "www.google.com",
            "127.0.0.1",
            "[::1]",
            "[fe80::1%lo0]",
            "::1",
            "a:b:c",
            "[foo:bar]",
            "[foo:bar]baz",
            "[foo]bar:baz",
            "[foo]:[bar]:baz",
            "[foo",
            "foo]",
            "[foo]:[80]",
            "foo[bar]:80",
            "[::1]80",
        ];
        for input in bad {
            assert_eq!(split_host_port(input), None, "{input}");
        }
    }
}
