//! The reload tool end to end: the real `reload` binary, a fake app (a
//! small Python 3 server, "built" by a syntax check and a copy), real
//! sockets on 127.0.0.1. No cargo build of an app is needed.
//!
//! The fake app sleeps 0.4 s before it listens, longer than gin's fixed
//! 250 ms wait, so the first test fails if the tool sleeps instead of
//! waiting for the port. On SIGTERM it drains as a graceful server does:
//! it stops listening and exits once the requests it is serving are done.

use bytes::BytesMut;
use http::{Method, StatusCode};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use server::wire::{parse_response_head, response_framing, BodyDecoder, Decoded, Limits};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Every wait is bounded by this.
const WAIT: Duration = Duration::from_secs(20);

/// The fake app's source; `VERSION` is what the tests edit.
fn app_source(version: &str) -> String {
    format!(
        r#"import http.server, os, signal, sys, time
VERSION = "{version}"
time.sleep(0.4)  # a slow start: longer than gin's 250 ms
if os.environ.get("DIE_AT_START"):
    sys.exit(3)

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/slow":
            # Tell the test the request is here, then take longer than
            # gin's 3 s kill delay to answer.
            open("slow-started", "w").close()
            time.sleep(4)
        body = "{{}} pid={{}} args={{}}\n".format(VERSION, os.getpid(), " ".join(sys.argv[1:])).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Pid", str(os.getpid()))
        if draining:
            self.send_header("Connection", "close")  # as Go's Shutdown does
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close waits for the requests in flight

server = Server(("127.0.0.1", int(os.environ["PORT"])), Handler)
server.timeout = 0.05  # how often the loop below looks at `draining`
draining = False

def drain(*_):
    # Only a flag. The signal can come twice in a row (the parent-death
    # signal of a killed tool, whose threads die one by one), and this
    # handler then runs again inside itself: one that took a lock (an
    # Event, starting a thread) deadlocked here, in 1 run of about 20
    # under load, and the app never exited.
    global draining
    draining = True

signal.signal(signal.SIGTERM, signal.SIG_IGN if os.environ.get("IGNORE_TERM") else drain)
while not draining:
    server.handle_request()
server.server_close()
"#
    )
}

/// A project directory with `src/app.py` in it.
struct Project {
    dir: PathBuf,
}

impl Project {
    fn new(tag: &str) -> Project {
        let dir = std::env::temp_dir().join(format!("reload-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let project = Project { dir };
        project.write(&app_source("v1"));
        project
    }

    fn write(&self, source: &str) {
        // Write then rename, so the watcher never sees half a file.
        let tmp = self.dir.join("src/.app.py.tmp");
        std::fs::write(&tmp, source).unwrap();
        std::fs::rename(&tmp, self.dir.join("src/app.py")).unwrap();
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The reload tool running on a project.
struct Tool {
    child: Child,
    addr: SocketAddr,
    app_port: u16,
    /// Every line the tool logged so far.
    log: Arc<Mutex<Vec<String>>>,
}

impl Tool {
    /// The tool with its poll loop practically off (one scan a minute):
    /// whatever it notices, it notices when a request comes.
    fn start(project: &Project, envs: &[(&str, &str)]) -> Tool {
        Tool::start_with(project, envs, free_port(), 60_000, &[])
    }

    fn start_on(project: &Project, envs: &[(&str, &str)], app_port: u16) -> Tool {
        Tool::start_with(project, envs, app_port, 60_000, &[])
    }

    /// The tool with `extra` flags of its own. The build waits while the
    /// project has a file named `hold-build` (20 s at most), so a test can
    /// keep a build under way as long as it needs.
    fn start_with(
        project: &Project,
        envs: &[(&str, &str)],
        app_port: u16,
        poll_ms: u32,
        extra: &[&str],
    ) -> Tool {
        let mut command = Command::new(env!("CARGO_BIN_EXE_reload"));
        command
            .current_dir(&project.dir)
            .args(["--port", "0", "--app-port", &app_port.to_string()])
            .args([
                "--build",
                "python3 -m py_compile src/app.py \
                 && for i in $(seq 400); do [ -f hold-build ] || break; sleep 0.05; done \
                 && mkdir -p build && cp src/app.py build/",
            ])
            .args(["--run", "python3 build/app.py"])
            .args([
                "--ext",
                "py",
                "--exclude",
                "build,__pycache__",
                "--poll-ms",
                &poll_ms.to_string(),
            ])
            .args(extra)
            .args(["--", "--greeting", "hello", "--listen", "127.0.0.1:{port}"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in envs {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        // Read the log on a thread (the pipe must never fill up) and pick
        // out the address the tool listens on.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[reload] {line}");
                lines.lock().unwrap().push(line.clone());
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split(',').next().unwrap_or("").to_owned();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx.recv_timeout(WAIT).expect("the tool logs where it listens");
        Tool {
            child,
            addr: addr.parse().unwrap(),
            app_port,
            log,
        }
    }

    /// The log so far, one string.
    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits (bounded) until a logged line contains `text`.
    fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + WAIT;
        while !self.log().contains(text) {
            assert!(Instant::now() < deadline, "the tool never logged {text:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait (bounded) for the tool to exit.
    fn stop(&mut self) -> std::process::ExitStatus {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the tool did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
            let deadline = Instant::now() + WAIT;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One GET through the tool: status and body as text.
fn get(addr: SocketAddr, path: &str) -> (StatusCode, String) {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(WAIT)).unwrap();
    write!(conn, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut buf = BytesMut::new();
    let mut read_more = |buf: &mut BytesMut| {
        let mut piece = [0u8; 8192];
        let n = conn.read(&mut piece).expect("the tool answered in time");
        buf.extend_from_slice(&piece[..n]);
        n
    };
    let head = loop {
        if let Some(head) = parse_response_head(&mut buf, &Limits::default()).unwrap() {
            break head;
        }
        assert!(read_more(&mut buf) > 0, "closed before a response head");
    };
    let mut decoder = BodyDecoder::new(response_framing(&Method::GET, &head).unwrap());
    let mut body = Vec::new();
    loop {
        match decoder.decode(&mut buf).unwrap() {
            Decoded::Data(piece) => body.extend_from_slice(&piece),
            Decoded::End => break,
            Decoded::NeedMore => assert!(read_more(&mut buf) > 0, "closed inside the body"),
        }
    }
    (head.status, String::from_utf8_lossy(&body).into_owned())
}

/// The `pid=N` the fake app puts in its answers.
fn pid_in(body: &str) -> i32 {
    body.split("pid=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// True while `pid` runs. A zombie (dead, not yet reaped by whoever
/// inherited it) counts as gone.
fn process_exists(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[test]
fn a_request_right_after_start_waits_for_the_build_and_the_app() {
    let project = Project::new("first");
    let tool = Tool::start(&project, &[]);
    // Straight away: the build has not run, the app is not started, and
    // the app takes 0.4 s to listen. The request waits for all of it.
    let (status, body) = get(tool.addr, "/");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with("v1 "), "{body}");
    // The app got its own arguments, {port} filled in, and none of the tool's.
    let args = body.split("args=").nth(1).unwrap().trim();
    assert_eq!(
        args,
        format!("--greeting hello --listen 127.0.0.1:{}", tool.app_port)
    );
}

#[test]
fn a_changed_file_stops_the_app_rebuilds_and_the_next_requests_see_it() {
    let project = Project::new("change");
    let tool = Tool::start(&project, &[]);
    let (_, body) = get(tool.addr, "/");
    assert!(body.starts_with("v1 "), "{body}");
    let old_pid = pid_in(&body);

    // The very next request sees the edit: the tool looks for changes
    // before it forwards, it does not leave that to its poll loop.
    project.write(&app_source("v2-edited"));
    let (status, body) = get(tool.addr, "/");
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("v2-edited "), "{body}");
    assert_ne!(pid_in(&body), old_pid, "the app was not restarted");
    assert!(!process_exists(old_pid), "the old app is still running");
}

#[test]
fn the_poll_loop_rebuilds_without_waiting_for_a_request() {
    let project = Project::new("poll");
    let tool = Tool::start_with(&project, &[], free_port(), 50, &[]);
    let (_, body) = get(tool.addr, "/");
    let old_pid = pid_in(&body);

    // No request: the loop alone notices the edit and stops the old app.
    project.write(&app_source("v2-polled"));
    let deadline = Instant::now() + WAIT;
    while process_exists(old_pid) {
        assert!(Instant::now() < deadline, "the poll loop never noticed the edit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, body) = get(tool.addr, "/");
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("v2-polled "), "{body}");
}

#[test]
fn a_failing_build_answers_every_request_with_its_errors_until_fixed() {
    let project = Project::new("broken");
    let tool = Tool::start(&project, &[]);
    let (_, body) = get(tool.addr, "/");
    let old_pid = pid_in(&body);

    project.write("VERSION = (\n");
    let (status, body) = get(tool.addr, "/");
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("SyntaxError"), "{body}");
    assert!(body.contains("src/app.py"), "{body}");
    assert!(!process_exists(old_pid), "the old app is still running");
    // Every request, not just the first, sees the errors.
    let (status, again) = get(tool.addr, "/other");
    assert_eq!(
        (status, again.contains("SyntaxError")),
        (StatusCode::INTERNAL_SERVER_ERROR, true)
    );

    project.write(&app_source("v3-fixed"));
    let (status, body) = get(tool.addr, "/");
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("v3-fixed "), "{body}");
}

#[test]
fn the_app_is_stopped_when_the_tool_exits() {
    let project = Project::new("exit");
    let mut tool = Tool::start(&project, &[]);
    let (_, body) = get(tool.addr, "/");
    let app_pid = pid_in(&body);
    assert!(process_exists(app_pid));

    let status = tool.stop();
    assert!(status.success(), "the tool exited with {status}");
    assert!(!process_exists(app_pid), "the app outlived the tool");
    assert!(
        TcpStream::connect(("127.0.0.1", tool.app_port)).is_err(),
        "something still listens on the app port"
    );
}

#[test]
fn even_a_tool_killed_outright_leaves_no_app_behind() {
    let project = Project::new("sigkill");
    let mut tool = Tool::start(&project, &[]);
    let (_, body) = get(tool.addr, "/");
    let app_pid = pid_in(&body);

    // SIGKILL: the tool cannot stop the app itself; the parent-death
    // signal it set up does.
    tool.child.kill().unwrap();
    tool.child.wait().unwrap();
    let deadline = Instant::now() + WAIT;
    while process_exists(app_pid) {
        assert!(Instant::now() < deadline, "the app outlived a killed tool");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_app_that_ignores_sigterm_is_killed_after_its_shutdown_time() {
    let project = Project::new("stubborn");
    let shutdown = ["--app-shutdown-timeout-ms", "500"];
    let mut tool = Tool::start_with(&project, &[("IGNORE_TERM", "1")], free_port(), 60_000, &shutdown);
    let (_, body) = get(tool.addr, "/");
    let app_pid = pid_in(&body);

    // SIGTERM is ignored, so only the SIGKILL 500 ms later ends it, and
    // the log says what happened, in those words.
    assert!(tool.stop().success());
    assert!(!process_exists(app_pid), "the stubborn app outlived the tool");
    let log = tool.log();
    assert!(
        log.contains(&format!(
            "reload: app (pid {app_pid}) still running 500ms after SIGTERM"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!("reload: app (pid {app_pid}) killed")),
        "{log}"
    );
}

#[test]
fn a_draining_app_finishes_its_requests_before_the_new_build_starts() {
    let project = Project::new("drain");
    let tool = Tool::start(&project, &[]);
    let (_, body) = get(tool.addr, "/");
    let old_pid = pid_in(&body);

    // A request the old app takes 4 s to answer (longer than gin's 3 s
    // before SIGKILL) is in flight when the file changes.
    let addr = tool.addr;
    let slow = std::thread::spawn(move || get(addr, "/slow"));
    let started = project.dir.join("slow-started");
    let deadline = Instant::now() + WAIT;
    while !started.exists() {
        assert!(
            Instant::now() < deadline,
            "the slow request never reached the app"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    project.write(&app_source("v2-after-drain"));
    let (status, body) = get(tool.addr, "/");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with("v2-after-drain "), "{body}");

    // The old app was given the time to answer it, not killed.
    let (status, body) = slow.join().unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with("v1 "), "{body}");
    assert_eq!(pid_in(&body), old_pid);
    let log = tool.log();
    assert!(
        log.contains(&format!("reload: app (pid {old_pid}) exited")),
        "{log}"
    );
    assert!(!log.contains("killing"), "{log}");
}

#[test]
fn a_request_that_comes_during_a_build_waits_for_it_and_sees_the_edit() {
    // A 50 ms poll loop: the loop, not a request, notices the edit and
    // starts the build. A request after the edit must still get the new
    // code, never the old app's answer.
    let project = Project::new("during-build");
    let tool = Tool::start_with(&project, &[], free_port(), 50, &[]);
    let (_, body) = get(tool.addr, "/");
    let old_pid = pid_in(&body);

    // The build stays under way until `hold-build` is removed.
    let hold = project.dir.join("hold-build");
    std::fs::write(&hold, "").unwrap();
    project.write(&app_source("v2-built"));
    tool.wait_for_log("changed; rebuilding");

    let addr = tool.addr;
    let (answered, answer) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = answered.send(get(addr, "/during"));
    });
    // Held, the build cannot finish, so neither can the request: an answer
    // now could only come from the old app.
    if let Ok((status, body)) = answer.recv_timeout(Duration::from_millis(500)) {
        panic!("answered during the build: {status} {body}");
    }
    // The old app still runs meanwhile, so what it was serving can finish.
    assert!(
        process_exists(old_pid),
        "the old app was stopped before the build ended"
    );

    std::fs::remove_file(&hold).unwrap();
    let (status, body) = answer
        .recv_timeout(WAIT)
        .expect("an answer once the build is done");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with("v2-built "), "{body}");
    assert_ne!(pid_in(&body), old_pid);
    assert!(!process_exists(old_pid), "the old app is still running");
}

#[test]
fn an_app_that_dies_at_start_gets_a_502_not_a_hang() {
    let project = Project::new("dies");
    let tool = Tool::start(&project, &[("DIE_AT_START", "1")]);
    let (status, body) = get(tool.addr, "/");
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains("exited before it listened"), "{body}");
}

#[test]
fn a_stranger_on_the_app_port_is_reported_not_proxied_to() {
    let project = Project::new("taken");
    let stranger = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = stranger.local_addr().unwrap().port();
    let tool = Tool::start_on(&project, &[], port);
    let (status, body) = get(tool.addr, "/");
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains("another process already listens"), "{body}");
    drop(stranger);
}

#[test]
fn the_fake_project_is_what_the_tests_think() {
    // Guard for the tests above: the source compiles as written.
    let project = Project::new("selfcheck");
    let ok = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(Path::new(&project.dir).join("src/app.py"))
        .status()
        .unwrap();
    assert!(ok.success());
}
