//! Shared harness of the restart and graceful-shutdown tests, included by
//! `restart.rs` and `graceful_shutdown.rs` (in a directory, so that cargo
//! does not build it as a test binary of its own).
//!
//! It starts the built `example` binary on 127.0.0.1 port 0 with a pid
//! file, collects its log (every generation writes to the same stderr
//! pipe), speaks just enough HTTP/1.1 over std sockets (or over TLS, with
//! rustls's blocking client) to count what a client would notice, and kills every process it saw when dropped, so a
//! failing test leaves nothing running. Every wait has a deadline.
#![allow(dead_code)]

use server::rustls::pki_types::ServerName;
use server::rustls::{ClientConfig, ClientConnection, StreamOwned};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Generous bounds: a debug build on 2 busy cores.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
pub const HANDOVER_TIMEOUT: Duration = Duration::from_secs(20);
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(30);
pub const IO_TIMEOUT: Duration = Duration::from_secs(15);

/// Lines the processes wrote to stderr, and a wake-up for each new one.
#[derive(Default)]
pub struct Log {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

impl Log {
    /// Waits until a line satisfies `pred`, and returns it.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        let mut lines = self.lines();
        loop {
            if let Some(line) = lines.iter().find(|l| pred(l)) {
                return line.clone();
            }
            let now = Instant::now();
            if now >= deadline {
                // Unlock before panicking: `Drop` for `Example` reads the log.
                let text = lines.join("\n");
                drop(lines);
                panic!("timed out waiting for {what}; log so far:\n{text}");
            }
            lines = self
                .grew
                .wait_timeout(lines, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.lines().iter().any(|l| l.contains(needle))
    }

    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    /// Every pid that spoke (`[pid: N]`).
    pub fn pids(&self) -> BTreeSet<i32> {
        self.lines().iter().filter_map(|l| pid_in(l)).collect()
    }

    /// The lines so far, even if a panicking test poisoned the lock.
    fn lines(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The pid in a `[pid: N]` log line.
pub fn pid_in(line: &str) -> Option<i32> {
    let rest = &line[line.find("[pid: ")? + 6..];
    rest[..rest.find(']')?].parse().ok()
}

/// One example server family (the first process and its successors).
pub struct Example {
    pub first: Child,
    pub addr: SocketAddr,
    pub pid_file: PathBuf,
    pub dir: PathBuf,
    pub log: Arc<Log>,
}

/// Where a test's files go (pid file, switches), removed by `Drop`.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("demos-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Example {
    /// Starts the example and waits until it serves.
    pub fn start(name: &str) -> Example {
        Example::start_with(name, |_| {})
    }

    /// Like `start`, letting the test adjust the command first.
    pub fn start_with(name: &str, adjust: impl FnOnce(&mut Command)) -> Example {
        let dir = scratch_dir(name);
        let pid_file = dir.join("example.pid");
        let mut command = Command::new(env!("CARGO_BIN_EXE_example"));
        command
            .args(["--addr", "127.0.0.1:0", "--pid-file"])
            .arg(&pid_file)
            .env("LOG_LEVEL", "info")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        adjust(&mut command);
        let mut first = command.spawn().expect("start the example binary");
        let log = Arc::new(Log::default());
        let stderr = first.stderr.take().unwrap();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    log.lines().push(line);
                    log.grew.notify_all();
                }
            });
        }
        let mut example = Example {
            first,
            addr: "127.0.0.1:1".parse().unwrap(),
            pid_file,
            dir,
            log,
        };
        let line = example.log.wait_for("the listening line", START_TIMEOUT, |l| {
            // A socket of its own, or one passed by systemd or systemfd.
            l.contains("Listening on http") || l.contains("with the listener inherited on fd 3.")
        });
        // `http://127.0.0.1:PORT`, `https://...`, or `http+unix:PATH`
        // (whose address stays a placeholder: tests of it use the path).
        if let Some(after) = line.split("://").nth(1) {
            let addr = after.split(' ').next().unwrap().trim_end_matches('.');
            example.addr = addr.parse().unwrap();
        }
        let pid = example.wait_pid_file(|p| p.is_some(), START_TIMEOUT);
        assert_eq!(pid, example.first.id() as i32);
        example
    }

    /// The pid file's pid, once `accept` says it is the one.
    pub fn wait_pid_file(&self, accept: impl Fn(Option<i32>) -> bool, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            let pid = read_pid(&self.pid_file);
            if accept(pid) {
                if let Some(pid) = pid {
                    return pid;
                }
            }
            assert!(
                Instant::now() < deadline,
                "pid file stayed at {pid:?}; log:\n{}",
                self.log.text()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn serving_pid(&self) -> i32 {
        read_pid(&self.pid_file).expect("a pid file")
    }

    /// SIGUSR2 to the serving process, then waits until its successor
    /// wrote the pid file and the old process has exited. Returns the new pid.
    pub fn restart(&mut self) -> i32 {
        let old = self.serving_pid();
        signal(old, nix::sys::signal::Signal::SIGUSR2);
        let new = self.wait_pid_file(|p| p.is_some_and(|p| p != old), HANDOVER_TIMEOUT);
        self.wait_exit(old, EXIT_TIMEOUT);
        new
    }

    /// Waits until `pid` has exited (the first process is our child and
    /// gets reaped here; its successors belong to init once orphaned).
    pub fn wait_exit(&mut self, pid: i32, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if pid == self.first.id() as i32 {
                if let Some(status) = self.first.try_wait().unwrap() {
                    return Some(status);
                }
            } else if !alive(pid) {
                return None;
            }
            assert!(
                Instant::now() < deadline,
                "process {pid} did not exit; log:\n{}",
                self.log.text()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The pid that answers `GET /pid` on a fresh connection.
    pub fn pid_answering(&self) -> i32 {
        let response = get(self.addr, "/pid").expect("GET /pid");
        assert_eq!(response.status, 200);
        response.body.trim().parse().unwrap()
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let mut pids = self.log.pids();
        pids.insert(self.first.id() as i32);
        if let Some(pid) = read_pid(&self.pid_file) {
            pids.insert(pid);
        }
        for pid in pids {
            if alive(pid) && is_example(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        let _ = self.first.kill();
        let _ = self.first.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

pub fn signal(pid: i32, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).unwrap();
}

/// Running, and not a zombie waiting for its parent.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start().chars().next();
            !matches!(state, Some('Z') | Some('X'))
        }
        Err(_) => false,
    }
}

fn is_example(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.contains("example"))
}

/// The descriptors a process holds: number -> what it points at.
pub fn fds(pid: i32) -> Vec<(i32, String)> {
    let mut fds: Vec<(i32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let n = e.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            Some((n, target.display().to_string()))
        })
        .collect();
    fds.sort();
    fds
}

/// A response as a client sees it.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub close: bool,
    pub body: String,
}

/// A client's connection: a TCP socket, or a TLS session over one.
pub trait Stream: Read + Write + Send {
    /// The certificate the server presented, for a TLS connection.
    fn server_certificate(&self) -> Option<Vec<u8>> {
        None
    }
}

impl Stream for TcpStream {}

impl Stream for StreamOwned<ClientConnection, TcpStream> {
    fn server_certificate(&self) -> Option<Vec<u8>> {
        Some(self.conn.peer_certificates()?.first()?.to_vec())
    }
}

/// A connection with its read buffer.
pub type Conn = BufReader<Box<dyn Stream>>;

/// Where and how a client connects: plain TCP, or TLS trusting `tls`'s roots.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub tls: Option<Arc<ClientConfig>>,
}

impl From<SocketAddr> for Target {
    fn from(addr: SocketAddr) -> Self {
        Target { addr, tls: None }
    }
}

/// Reads one response (Content-Length framed, as the example's are).
pub fn read_response(reader: &mut Conn) -> std::io::Result<Response> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before a response",
        ));
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = 0usize;
    let mut close = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed inside a head",
            ));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().map_err(std::io::Error::other)?;
        } else if name.eq_ignore_ascii_case("connection") && value.trim().eq_ignore_ascii_case("close") {
            close = true;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Response {
        status,
        close,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

pub fn connect(target: impl Into<Target>) -> std::io::Result<Conn> {
    let target = target.into();
    let stream = TcpStream::connect_timeout(&target.addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let Some(tls) = target.tls else {
        return Ok(BufReader::new(Box::new(stream)));
    };
    let name = ServerName::IpAddress(target.addr.ip().into());
    let session = ClientConnection::new(tls, name).map_err(std::io::Error::other)?;
    let mut stream = StreamOwned::new(session, stream);
    // The handshake now, so that its failure is a connection's, not a
    // request's.
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(BufReader::new(Box::new(stream)))
}

pub fn send_get(conn: &mut Conn, path: &str) -> std::io::Result<()> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    conn.get_mut().write_all(request.as_bytes())?;
    conn.get_mut().flush()
}

/// One request on a fresh connection.
pub fn get(target: impl Into<Target>, path: &str) -> std::io::Result<Response> {
    let mut conn = connect(target)?;
    send_get(&mut conn, path)?;
    read_response(&mut conn)
}

/// Continuous load: keep-alive clients (one connection reused until the
/// server says `Connection: close`) and fresh-connection clients (one
/// connection per request). Every request is `GET /pid`, so the counts
/// say which processes answered.
pub struct Load {
    stop: Arc<AtomicBool>,
    pub ok: Arc<AtomicU64>,
    pub failures: Arc<Mutex<Vec<String>>>,
    pub answered_by: Arc<Mutex<BTreeSet<i32>>>,
    /// Over TLS: every server certificate a connection was shown.
    pub certificates: Arc<Mutex<BTreeSet<Vec<u8>>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    pub fn start(target: impl Into<Target>, keep_alive_clients: usize, fresh_clients: usize) -> Load {
        let target = target.into();
        let mut load = Load {
            stop: Arc::new(AtomicBool::new(false)),
            ok: Arc::new(AtomicU64::new(0)),
            failures: Arc::new(Mutex::new(Vec::new())),
            answered_by: Arc::new(Mutex::new(BTreeSet::new())),
            certificates: Arc::new(Mutex::new(BTreeSet::new())),
            threads: Vec::new(),
        };
        for i in 0..keep_alive_clients + fresh_clients {
            let keep_alive = i < keep_alive_clients;
            let (stop, ok, failures, answered_by, certificates, target) = (
                load.stop.clone(),
                load.ok.clone(),
                load.failures.clone(),
                load.answered_by.clone(),
                load.certificates.clone(),
                target.clone(),
            );
            load.threads.push(std::thread::spawn(move || {
                let mut conn: Option<Conn> = None;
                let mut reused = false;
                while !stop.load(Ordering::Relaxed) {
                    let result = (|| {
                        if conn.is_none() {
                            let fresh = connect(target.clone())?;
                            if let Some(cert) = fresh.get_ref().server_certificate() {
                                certificates.lock().unwrap().insert(cert);
                            }
                            conn = Some(fresh);
                            reused = false;
                        }
                        let c = conn.as_mut().unwrap();
                        send_get(c, "/pid")?;
                        read_response(c)
                    })();
                    match result {
                        Ok(response) if response.status == 200 => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            if let Ok(pid) = response.body.trim().parse() {
                                answered_by.lock().unwrap().insert(pid);
                            }
                            if response.close || !keep_alive {
                                conn = None;
                            } else {
                                reused = true;
                            }
                        }
                        Ok(response) => {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("status {}", response.status));
                            conn = None;
                        }
                        Err(e) => {
                            let on = if reused {
                                "a reused connection"
                            } else {
                                "a new connection"
                            };
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("{:?} on {on}: {e}", e.kind()));
                            conn = None;
                        }
                    }
                }
            }));
        }
        load
    }

    pub fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    /// Waits until at least `more` requests succeeded after now and at
    /// least `min_time` passed: the load keeps running across a restart.
    pub fn run_for(&self, more: u64, min_time: Duration, timeout: Duration) {
        let start = Instant::now();
        let target = self.ok() + more;
        while self.ok() < target || start.elapsed() < min_time {
            assert!(
                start.elapsed() < timeout,
                "load stalled at {} ok; failures: {:?}",
                self.ok(),
                self.failures.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the clients and returns (successes, failures).
    pub fn finish(mut self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            thread.join().unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        (self.ok(), failures)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A request in flight on its own thread.
pub fn get_in_background(addr: SocketAddr, path: &str) -> JoinHandle<std::io::Result<Response>> {
    let addr = Target::from(addr);
    let path = path.to_owned();
    std::thread::spawn(move || get(addr, &path))
}
