//! Runs the built `patterns` demo on 127.0.0.1 (a port the system picks)
//! and sends what its doc comment's curl commands send: each answer is
//! what the doc comment and notes/mux-patterns.md say you will see.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The demo, stopped when dropped (it would also stop by itself).
struct Demo {
    child: Child,
    addr: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_patterns"))
        .args(["--addr", "127.0.0.1:0", "--for-secs", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the patterns binary runs");
    let mut line = String::new();
    let stderr = child.stderr.take().expect("stderr");
    BufReader::new(stderr).read_line(&mut line).expect("a log line");
    let addr = line
        .split("listening on http://")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    Demo { child, addr }
}

/// One request on its own connection: status, the named header, body.
fn send(demo: &Demo, method: &str, target: &str, body: &str, header: &str) -> (u16, String, String) {
    let mut conn = TcpStream::connect(&demo.addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: demo\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    conn.read_to_end(&mut response).expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let value = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case(header).then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    (status, value, body.to_owned())
}

#[test]
fn the_documented_curl_commands_answer_as_documented() {
    let demo = start();
    let s = |method, target, body, header| send(&demo, method, target, body, header);
    assert_eq!(
        s("POST", "/items", "apple", "location"),
        (201, "/items/1".into(), "created item 1\n".into())
    );
    assert_eq!(s("POST", "/items", "pear", "location").2, "created item 2\n");
    assert_eq!(s("GET", "/items", "", "").2, "1: apple\n2: pear\n");
    assert_eq!(s("GET", "/items/1", "", "").2, "apple\n");
    assert_eq!(
        s("GET", "/files/docs/guide.txt", "", "").2,
        "The rest of the path, slashes and all, is one value.\n"
    );
    let status_and = |method, target, header| {
        let (status, value, _) = send(&demo, method, target, "", header);
        (status, value)
    };
    assert_eq!(
        status_and("PUT", "/items/1", "allow"),
        (405, "DELETE, GET, HEAD".into())
    );
    assert_eq!(status_and("GET", "/files", "location"), (307, "/files/".into()));
    assert_eq!(
        status_and("GET", "/items/../items/1", "location"),
        (307, "/items/1".into())
    );
    assert_eq!(status_and("POST", "/files", "allow"), (405, "GET, HEAD".into()));
    let head = send(&demo, "HEAD", "/items/1", "", "content-length");
    assert_eq!(head, (200, "6".into(), String::new()));
    assert_eq!(s("GET", "/nothing", "", "").2, "404 page not found\n");
    assert_eq!(s("GET", "/files/a%2F..%2Fb", "", "").2, "no file \"a/../b\"\n");
    assert_eq!(s("DELETE", "/items/1", "", "").0, 204);
    assert_eq!(s("GET", "/items/1", "", "").0, 404);
    assert_eq!(s("GET", "/items/x", "", "").0, 400);
    assert_eq!(s("GET", "/", "", "").2, "items service: try GET /items\n");
}

#[test]
fn a_conflicting_registration_is_refused_at_start_up() {
    let output = Command::new(env!("CARGO_BIN_EXE_patterns"))
        .arg("--conflict")
        .output()
        .expect("the patterns binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "patterns: pattern \"GET /{kind}/latest\" (registered at demos/src/bin/patterns.rs:"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "GET /{kind}/latest and GET /files/{path...} both match some paths, like \"/files/latest\".\n"
        ),
        "{stderr}"
    );
}
