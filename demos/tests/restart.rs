//! Graceful restart of the example binary, with real processes and real
//! signals: under continuous load nothing fails, a slow request finishes
//! on the old process, a child dying at start leaves the old one serving,
//! and no descriptor travels or accumulates from one generation to the
//! next.

#[path = "restart_harness/mod.rs"]
mod harness;

use harness::*;
use nix::sys::signal::Signal;
use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::time::Duration;

/// Five restarts about a second apart while keep-alive and fresh-connection
/// clients hammer the server: every request gets a 200, and each restart
/// puts a new process in charge.
#[test]
fn restart_under_load_loses_no_request() {
    // The idle grace is raised from its 500 ms default so that a client
    // thread descheduled for a while on a loaded 2-core machine cannot
    // make the test flaky; it costs nothing here, since busy connections
    // are closed by `Connection: close`, not by the grace.
    // `scripts/restart-bench.sh` measures the default.
    let mut example = Example::start_with("restart-load", |command| {
        command.args(["--idle-grace-ms", "2000"]);
    });
    let first = example.serving_pid();
    let load = Load::start(example.addr, 4, 2);
    load.run_for(200, Duration::ZERO, HANDOVER_TIMEOUT);

    let mut pids = vec![first];
    for _ in 0..5 {
        let new = example.restart();
        assert!(!pids.contains(&new), "pid {new} served twice: {pids:?}");
        pids.push(new);
        // Keep the load on the new process for a while before the next one.
        load.run_for(200, Duration::from_millis(800), HANDOVER_TIMEOUT);
    }
    let answered_by = load.answered_by.lock().unwrap().clone();
    let (ok, failures) = load.finish();

    assert!(
        failures.is_empty(),
        "{} of {} requests failed across 5 restarts: {:?}\nlog:\n{}",
        failures.len(),
        ok + failures.len() as u64,
        &failures[..failures.len().min(20)],
        example.log.text()
    );
    assert!(ok >= 1000, "too little load to mean anything: {ok} requests");
    let expected: BTreeSet<i32> = pids.iter().copied().collect();
    assert_eq!(
        answered_by, expected,
        "every generation served, and only they did"
    );
    assert_eq!(example.pid_answering(), *pids.last().unwrap());
    // The course's transcript, in the old process's words.
    let old = pids[0];
    for line in [
        format!("[pid: {old}] Receive signal SIGUSR2. To restart the server gracefully."),
        format!(
            "[pid: {old}] A new process [{}] has been started successfully. To shut down the server gracefully.",
            pids[1]
        ),
        format!("[pid: {old}] The http server has been shut down successfully."),
        format!("[pid: {old}] Waiting for connections to be closed."),
        format!("[pid: {old}] All connections have been closed."),
    ] {
        assert!(example.log.contains(&line), "missing log line {line:?}");
    }
}

/// A request in flight when SIGUSR2 arrives is finished by the old process
/// (with `Connection: close`, since it drains), while the new process
/// already answers everything else.
#[test]
fn slow_request_completes_on_the_old_process() {
    let mut example = Example::start("restart-slow");
    let old = example.serving_pid();
    // Long enough for the handover to happen while it sleeps, even on a
    // loaded machine.
    let slow = get_in_background(example.addr, "/slow/4000");
    example
        .log
        .wait_for("the slow request to start", START_TIMEOUT, |l| {
            l.contains(&format!("[pid: {old}] slow request: sleeping 4000ms"))
        });

    signal(old, Signal::SIGUSR2);
    let new = example.wait_pid_file(|p| p.is_some_and(|p| p != old), HANDOVER_TIMEOUT);
    // Once the old process has closed its listener, only the new one accepts.
    example
        .log
        .wait_for("the old listener to close", HANDOVER_TIMEOUT, |l| {
            l.contains(&format!(
                "[pid: {old}] The http server has been shut down successfully."
            ))
        });
    assert_eq!(
        example.pid_answering(),
        new,
        "new connections go to the new process"
    );

    let response = slow.join().unwrap().expect("the slow request's response");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "slept 4000ms");
    assert!(response.close, "a draining server says Connection: close");
    example.wait_exit(old, EXIT_TIMEOUT);
    assert!(example
        .log
        .contains(&format!("[pid: {old}] All connections have been closed.")));
}

/// A new process that exits at start (the example's test-only switch)
/// does not take the service down: the old process logs it, reaps it,
/// keeps serving, and the next SIGUSR2 works.
#[test]
fn child_dying_at_start_leaves_the_parent_serving() {
    let dir = scratch_dir("restart-fail-switch");
    let switch = dir.join("fail-next-start");
    std::fs::write(&switch, "exit").unwrap();
    let switch_for_child = switch.clone();
    let mut example = Example::start_with("restart-fail", move |command| {
        command.env("EXAMPLE_TEST_CHILD_START", &switch_for_child);
    });
    let old = example.serving_pid();

    signal(old, Signal::SIGUSR2);
    let failed = example.log.wait_for("the failed restart", HANDOVER_TIMEOUT, |l| {
        l.contains(&format!("[pid: {old}] Restart failed"))
    });
    assert!(
        failed.contains("exited with status 3 before it was ready"),
        "{failed}"
    );
    assert!(failed.ends_with("Keep serving."), "{failed}");
    let child_line = example
        .log
        .wait_for("the child's last words", START_TIMEOUT, |l| {
            l.contains("exiting at start")
        });
    let child = pid_in(&child_line).unwrap();
    assert!(
        !std::path::Path::new(&format!("/proc/{child}")).exists(),
        "the failed child was reaped"
    );
    assert_eq!(
        example.serving_pid(),
        old,
        "the pid file still names the old process"
    );
    assert_eq!(example.pid_answering(), old, "the old process still serves");

    std::fs::remove_file(&switch).unwrap();
    let new = example.restart();
    assert_ne!(new, old);
    assert_eq!(example.pid_answering(), new);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Old processes do not pile up behind clients that sent half a request
/// head and stopped: before each of three restarts a client leaves
/// `GET /x HT` on the serving process, and each old process still leaves
/// after the idle grace, with no connection closed by force (the shutdown
/// timeout is 20 s here; waiting it out would say so in the log). The
/// read-header timeout is set beyond it, as in a server without one.
#[test]
fn half_sent_heads_do_not_keep_old_processes_alive() {
    let mut example = Example::start_with("restart-half-head", |command| {
        command.args([
            "--shutdown-timeout-ms",
            "20000",
            "--read-header-timeout-ms",
            "60000",
        ]);
    });
    let mut held = Vec::new();
    let mut old = Vec::new();
    for _ in 0..3 {
        let pid = example.serving_pid();
        let mut conn = connect(example.addr).unwrap();
        conn.get_mut().write_all(b"GET /x HT").unwrap();
        held.push(conn);
        // Accepted in order: once a later connection is answered by `pid`,
        // the half-sent one belongs to `pid` too.
        assert_eq!(example.pid_answering(), pid);
        let new = example.restart(); // waits for `pid` to exit
        assert!(!alive(pid), "process {pid} is gone");
        old.push(pid);
        assert_eq!(example.pid_answering(), new);
    }
    assert!(old.iter().all(|pid| !alive(*pid)), "old processes: {old:?}");
    assert!(
        !example.log.contains("closed by force"),
        "log:\n{}",
        example.log.text()
    );
    for pid in &old {
        assert!(example
            .log
            .contains(&format!("[pid: {pid}] All connections have been closed.")));
    }
}

/// The serving process holds the same descriptors after five restarts as
/// after the first start, and a stray descriptor the first process
/// inherited (as from a careless shell) is not passed on.
#[test]
fn no_descriptor_travels_or_leaks_across_restarts() {
    const STRAY: i32 = 50;
    let mut example = Example::start_with("restart-fds", |command| {
        let devnull = std::fs::File::open("/dev/null").unwrap();
        // SAFETY: close_range and dup2 are async-signal-safe system calls;
        // `devnull` outlives the spawn (the closure owns it). Whatever the
        // test runner inherited is marked close-on-exec, so the first
        // process starts with a known table; then the copy on STRAY, not
        // close-on-exec, is inherited like a shell's stray descriptor.
        unsafe {
            command.pre_exec(move || {
                use std::os::fd::AsRawFd;
                nix::libc::syscall(nix::libc::SYS_close_range, 3u32, u32::MAX, 4u32);
                if nix::libc::dup2(devnull.as_raw_fd(), STRAY) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    // Descriptors are counted before any request: a connection being
    // closed would be counted or not depending on timing.
    let first = example.serving_pid();
    let first_fds = fds(first);
    assert_eq!(example.pid_answering(), first);
    assert!(
        first_fds.iter().any(|(n, _)| *n == STRAY),
        "the stray fd was planted: {first_fds:?}"
    );

    let mut generations = Vec::new();
    for _ in 0..5 {
        let pid = example.restart();
        generations.push((pid, fds(pid)));
        assert_eq!(example.pid_answering(), pid);
    }
    for (pid, held) in &generations {
        assert!(
            held.iter().all(|(n, _)| *n != STRAY),
            "process {pid} inherited the stray fd: {held:?}"
        );
        assert!(
            held.iter()
                .any(|(n, target)| *n == 3 && target.starts_with("socket:")),
            "process {pid} serves on fd 3: {held:?}"
        );
    }
    let (last, last_fds) = generations.last().unwrap();
    assert_eq!(
        last_fds.len(),
        first_fds.len() - 1,
        "after 5 restarts, process {last} holds {last_fds:?}; the first held {first_fds:?} (one of them the stray)"
    );
    assert_eq!(
        generations[0].1.len(),
        last_fds.len(),
        "first and fifth successors alike"
    );
}

/// One upgrade at a time: a SIGUSR2 that arrives while a new process is
/// still starting is refused with a log line, and only one new process
/// takes over.
#[test]
fn second_sigusr2_during_a_restart_is_refused() {
    let dir = scratch_dir("restart-twice-switch");
    let switch = dir.join("slow-start");
    std::fs::write(&switch, "delay 1500").unwrap();
    let switch_for_child = switch.clone();
    let mut example = Example::start_with("restart-twice", move |command| {
        command.env("EXAMPLE_TEST_CHILD_START", &switch_for_child);
    });
    let old = example.serving_pid();

    signal(old, Signal::SIGUSR2);
    example
        .log
        .wait_for("the slow child to start", HANDOVER_TIMEOUT, |l| {
            l.contains("delaying the start by 1500ms")
        });
    signal(old, Signal::SIGUSR2);
    let refused = example.log.wait_for("the refusal", HANDOVER_TIMEOUT, |l| {
        l.contains(&format!(
            "[pid: {old}] Receive signal SIGUSR2, but a restart is already in progress"
        ))
    });
    assert!(refused.ends_with("Ignored."), "{refused}");
    let new = example.wait_pid_file(|p| p.is_some_and(|p| p != old), HANDOVER_TIMEOUT);
    example.wait_exit(old, EXIT_TIMEOUT);
    assert_eq!(example.pid_answering(), new);
    let started = example
        .log
        .text()
        .matches("has been started successfully")
        .count();
    assert_eq!(started, 1, "one restart, one new process");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A new process that never becomes ready is killed after the ready
/// timeout and reaped; the old process keeps serving.
#[test]
fn child_never_ready_is_killed_and_the_parent_keeps_serving() {
    let dir = scratch_dir("restart-hang-switch");
    let switch = dir.join("hang");
    std::fs::write(&switch, "delay 60000").unwrap();
    let switch_for_child = switch.clone();
    let mut example = Example::start_with("restart-hang", move |command| {
        command
            .env("EXAMPLE_TEST_CHILD_START", &switch_for_child)
            .args(["--ready-timeout-ms", "300"]);
    });
    let old = example.serving_pid();

    signal(old, Signal::SIGUSR2);
    // The child may be killed before it even logs (a loaded machine can
    // take longer than 300 ms to start it): its pid comes from the parent.
    let failed = example.log.wait_for("the failed restart", HANDOVER_TIMEOUT, |l| {
        l.contains(&format!("[pid: {old}] Restart failed"))
    });
    let child: i32 = failed
        .split("the new process [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no child pid in {failed:?}"));
    assert!(
        failed.contains("was not ready after 300ms; killed it"),
        "{failed}"
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{child}")).exists(),
        "the hung child was reaped"
    );
    assert_eq!(example.serving_pid(), old);
    assert_eq!(example.pid_answering(), old);

    std::fs::remove_file(&switch).unwrap();
    let new = example.restart();
    assert_eq!(example.pid_answering(), new);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A restart runs the binary now at the path the server was started from,
/// not the file it is running: after a deploy renamed a new file over it,
/// the new file starts (`/proc/self/exe` would name the old, deleted one).
#[test]
fn restart_picks_up_a_deployed_binary() {
    let dir = scratch_dir("restart-deploy-bin");
    let installed = dir.join("example");
    std::fs::copy(env!("CARGO_BIN_EXE_example"), &installed).unwrap();
    let mut example = Example::start_with("restart-deploy", |command| {
        // Run the installed copy, same arguments.
        let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
        let mut replacement = std::process::Command::new(&installed);
        replacement.args(args);
        for (name, value) in command.get_envs() {
            if let Some(value) = value {
                replacement.env(name, value);
            }
        }
        replacement.stdin(std::process::Stdio::null());
        replacement.stdout(std::process::Stdio::null());
        replacement.stderr(std::process::Stdio::piped());
        *command = replacement;
    });
    let old = example.serving_pid();

    // The deploy: a new "binary" (a script that says so, then runs the real
    // example with the same arguments, environment and descriptors),
    // renamed over the old one.
    let staged = dir.join(".example.new");
    let script = format!(
        "#!/bin/sh\necho \"[deploy] the new binary starts\" >&2\nexec '{}' \"$@\"\n",
        env!("CARGO_BIN_EXE_example")
    );
    std::fs::write(&staged, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&staged, &installed).unwrap();
    let running = std::fs::read_link(format!("/proc/{old}/exe")).unwrap();
    assert!(
        running.display().to_string().ends_with("(deleted)"),
        "{running:?}"
    );

    let new = example.restart();
    assert!(example.log.contains("[deploy] the new binary starts"));
    assert_eq!(example.pid_answering(), new);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Under systemd (`Type=notify`, `NotifyAccess=all`), each process says
/// `READY=1` and `MAINPID=<its pid>` once it serves, so systemd follows the
/// handover instead of taking the old process's exit for the service's
/// death; a shutdown says `STOPPING=1`.
#[test]
fn systemd_is_told_each_new_main_pid() {
    let dir = scratch_dir("restart-notify-socket");
    let socket_path = dir.join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(HANDOVER_TIMEOUT)).unwrap();
    let receive = || {
        let mut buf = [0u8; 512];
        let n = socket.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let path_for_child = socket_path.clone();
    let mut example = Example::start_with("restart-notify", move |command| {
        command.env("NOTIFY_SOCKET", &path_for_child);
    });
    let first = example.serving_pid();
    assert_eq!(receive(), format!("READY=1\nMAINPID={first}\n"));

    let second = example.restart();
    assert_eq!(receive(), format!("READY=1\nMAINPID={second}\n"));

    signal(second, Signal::SIGTERM);
    assert_eq!(receive(), "STOPPING=1\n");
    example.wait_exit(second, EXIT_TIMEOUT);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The first process can also get its socket the way systemd or
/// `systemfd --no-pid` hand it over: a blocking listening socket on fd 3,
/// `LISTEN_FDS=1`, no `LISTEN_PID`. It serves on that socket (not on
/// `--addr`), and restarts from there as usual.
#[test]
fn first_start_on_a_socket_passed_like_systemfd() {
    let passed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let passed_addr = passed.local_addr().unwrap();
    let mut example = Example::start_with("restart-systemfd", move |command| {
        command.env("LISTEN_FDS", "1").env_remove("LISTEN_PID");
        // SAFETY: dup2 is async-signal-safe; `passed` lives in the closure,
        // so its descriptor is open at the fork. The copy on fd 3 is not
        // close-on-exec: it is what the first process inherits.
        unsafe {
            command.pre_exec(move || {
                use std::os::fd::AsRawFd;
                let fd = passed.as_raw_fd();
                // dup2 onto itself would keep close-on-exec set.
                let moved = if fd == 3 {
                    nix::libc::fcntl(3, nix::libc::F_SETFD, 0)
                } else {
                    nix::libc::dup2(fd, 3)
                };
                if moved < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    assert_eq!(
        example.addr, passed_addr,
        "served on the passed socket, not on --addr"
    );
    let first = example.serving_pid();
    assert_eq!(example.pid_answering(), first);
    let second = example.restart();
    assert_eq!(example.pid_answering(), second);
}

/// SIGTERM while a new process is still starting: the restart is
/// abandoned, the new process is stopped and reaped, and the old one shuts
/// down as usual; nothing is left serving.
#[test]
fn sigterm_during_a_restart_stops_the_new_process_too() {
    let dir = scratch_dir("restart-term-switch");
    let switch = dir.join("slow-start");
    std::fs::write(&switch, "delay 1500").unwrap();
    let switch_for_child = switch.clone();
    let mut example = Example::start_with("restart-term", move |command| {
        command.env("EXAMPLE_TEST_CHILD_START", &switch_for_child);
    });
    let old = example.serving_pid();

    signal(old, Signal::SIGUSR2);
    let child_line = example
        .log
        .wait_for("the slow child to start", HANDOVER_TIMEOUT, |l| {
            l.contains("delaying the start by 1500ms")
        });
    let child = pid_in(&child_line).unwrap();
    signal(old, Signal::SIGTERM);
    let status = example.wait_exit(old, EXIT_TIMEOUT).unwrap();
    assert_eq!(status.code(), Some(0), "log:\n{}", example.log.text());
    let stopped = example.log.wait_for("the child's end", START_TIMEOUT, |l| {
        l.contains(&format!("[pid: {old}] Stopped the new process [{child}]"))
    });
    assert!(!alive(child), "{stopped}");
    assert!(
        !std::path::Path::new(&format!("/proc/{child}")).exists(),
        "reaped: {stopped}"
    );
    assert!(
        std::net::TcpStream::connect(example.addr).is_err(),
        "nothing serves any more"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
