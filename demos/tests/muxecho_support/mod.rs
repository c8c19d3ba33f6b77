//! What both ServeMux conformance tests need (the classic mux's, Go 1.19,
//! and the modern mux's, Go 1.27): start a `muxecho` on one route table,
//! send a corpus case byte for byte over a fresh TCP connection, and read
//! the answer the way the corpus's recorder read Go's.

use serde_json::Value;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a start or a case may take before the test gives up on it.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A `muxecho` process serving one table; killed when dropped.
pub struct Muxecho {
    child: Child,
}

impl Drop for Muxecho {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a `muxecho` start ended: serving at an address, or refused (exit
/// status and what it said on stderr).
pub enum Started {
    Listening(Muxecho, String),
    Exited(i32, String),
}

/// Starts `muxecho MODE -addr 127.0.0.1:0 PATTERN...` (MODE chooses the
/// mux: `-pattern-header` for the classic one, `-patterns` for the modern
/// one) and waits for its first line.
pub fn start(mode: &str, patterns: &[String]) -> Started {
    let mut child = Command::new(env!("CARGO_BIN_EXE_muxecho"))
        .args([mode, "-addr", "127.0.0.1:0"])
        .args(patterns)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start muxecho");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(TIMEOUT).expect("muxecho printed nothing in time");
    if let Some(addr) = line.trim_end().strip_prefix("listening on ") {
        return Started::Listening(Muxecho { child }, addr.to_owned());
    }
    let status = child.wait().expect("wait muxecho");
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    Started::Exited(status.code().unwrap_or(-1), stderr)
}

/// One response as read off the wire.
pub struct RawAnswer {
    pub status: u16,
    /// Names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawAnswer {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

/// Sends `case` on a fresh connection to `addr` and reads the answer;
/// `None` when the server closed (or reset) the connection before a status
/// line.
pub fn run_case(addr: &str, case: &Value) -> Option<RawAnswer> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(&request_bytes(case)).expect("send");
    read_answer(stream, case["method"].as_str().unwrap())
}

/// The exact bytes of a case's request, as the corpus's recorder sent them
/// to Go: method, target and Host byte for byte.
fn request_bytes(case: &Value) -> Vec<u8> {
    let version = case["version"].as_str().unwrap_or("HTTP/1.1");
    let mut lines = vec![format!(
        "{} {} {}",
        case["method"].as_str().unwrap(),
        case["target"].as_str().unwrap(),
        version
    )];
    if let Some(host) = case["host"].as_str() {
        lines.push(format!("Host: {host}"));
    }
    for header in case["headers"].as_array().into_iter().flatten() {
        lines.push(header.as_str().unwrap().to_owned());
    }
    let body = case["body"].as_str().unwrap_or("");
    if !body.is_empty() {
        lines.push(format!("Content-Length: {}", body.len()));
    }
    let mut bytes = (lines.join("\r\n") + "\r\n\r\n").into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// Reads one response as the recorder did: status line, headers, and the
/// body by Content-Length, by chunks, or until the server closes (except
/// after a successful CONNECT, which has no framing).
fn read_answer(stream: TcpStream, method: &str) -> Option<RawAnswer> {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    let read_line = |reader: &mut BufReader<TcpStream>, line: &mut Vec<u8>| {
        line.clear();
        match reader.read_until(b'\n', line) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => line.clear(),
            Err(e) => panic!("read: {e}"),
        }
        while line.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
            line.pop();
        }
    };
    read_line(&mut reader, &mut line);
    if line.is_empty() {
        return None;
    }
    let status_line = String::from_utf8_lossy(&line).into_owned();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut answer = RawAnswer {
        status,
        headers: Vec::new(),
        body: String::new(),
    };
    loop {
        read_line(&mut reader, &mut line);
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        let (name, value) = text.split_once(':').expect("header line");
        answer
            .headers
            .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut body = Vec::new();
    if method == "HEAD" || status == 204 || status == 304 {
        // no body
    } else if answer
        .header("transfer-encoding")
        .is_some_and(|te| te.contains("chunked"))
    {
        loop {
            read_line(&mut reader, &mut line);
            let size_text = String::from_utf8_lossy(&line).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).expect("chunk");
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = answer.header("content-length") {
        body.resize(len.parse().unwrap(), 0);
        reader.read_exact(&mut body).expect("body");
    } else if !(method == "CONNECT" && (200..300).contains(&status)) {
        reader.read_to_end(&mut body).expect("body until close");
    }
    answer.body = String::from_utf8_lossy(&body).into_owned();
    Some(answer)
}
