//! A signal that reaches a new process in the first milliseconds of its
//! life, after `execve` and before it has installed its signal handlers.
//!
//! In that window every signal has its default action, and for SIGUSR2,
//! SIGTERM and SIGINT that action is to end the process. It happens in
//! practice whenever signals go to more than the one serving process:
//! `pkill -USR2 example`, `kill -USR2 -PGID`, `systemctl kill` (every
//! process of the unit) sent twice in a row, the second one landing on
//! the process the first one started. The restart then fails and the old
//! process keeps serving (or, for the stop signals, the new one dies
//! instead of shutting down gracefully).
//!
//! The cure is the signal mask, which survives both `fork` and `execve`
//! (signal(7)): the restarting process blocks these signals in the new
//! process across the exec, and the new process unblocks them once its
//! handlers are in place. A signal sent in the window then waits, pending,
//! and is acted on a few milliseconds later.
//!
//! These tests aim precisely at the window: they find the new process in
//! `/proc`, wait until it has exec'd (its environment names its own pid in
//! `LISTEN_PID`) while it does not catch SIGUSR2 yet (`SigCgt` in
//! `/proc/PID/status`), and signal it then.

#[path = "restart_harness/mod.rs"]
mod harness;

use harness::*;
use nix::sys::signal::Signal;
use std::collections::BTreeSet;
use std::time::Instant;

/// How many restarts a test may spend to catch the window. It lasts
/// milliseconds (loading, the runtime's start) and the watch below
/// takes microseconds per look, so the first try nearly always hits.
const ATTEMPTS: usize = 10;

/// Every process in `/proc` now.
fn all_pids() -> BTreeSet<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// A process's parent, from `/proc/PID/stat` (the field after the state).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit(')').next()?.split_whitespace();
    fields.nth(1)?.parse().ok()
}

/// The first process that `parent` started and that was not in `before`,
/// or `None` if the handover is over before we saw it (on a busy machine
/// this thread may sleep through it; the new process is then an orphan,
/// its parent no longer `parent`).
fn new_child(example: &Example, parent: i32, before: &BTreeSet<i32>) -> Option<i32> {
    let deadline = Instant::now() + HANDOVER_TIMEOUT;
    loop {
        let found = all_pids()
            .into_iter()
            .filter(|pid| !before.contains(pid))
            .find(|&pid| parent_of(pid) == Some(parent));
        if found.is_some() {
            return found;
        }
        if read_pid(&example.pid_file) != Some(parent) {
            return None;
        }
        assert!(
            Instant::now() < deadline,
            "no new process under {parent}; log:\n{}",
            example.log.text()
        );
    }
}

/// Whether `pid` catches `signal` now (`SigCgt`, a hexadecimal bit set
/// where signal N is bit N-1), or `None` if the process is gone.
fn catches(pid: i32, signal: Signal) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix("SigCgt:"))?.trim();
    let caught = u64::from_str_radix(hex, 16).ok()?;
    Some(caught & (1 << (signal as i32 - 1)) != 0)
}

/// Whether `pid` runs the program it exec'd: the new program's
/// environment names the process itself in `LISTEN_PID` (before the exec,
/// the copy of the parent shows the parent's environment).
fn has_execd(pid: i32) -> bool {
    let needle = format!("LISTEN_PID={pid}\0");
    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
        env.windows(needle.len())
            .any(|window| window == needle.as_bytes())
    })
}

/// Restarts the serving process and sends `signal` to the new process
/// in its window (exec'd, no handler yet). Returns (old, new) pids. A
/// restart that runs past the window before we look is completed and
/// tried again, up to `ATTEMPTS` times.
fn signal_new_process_before_its_handlers(example: &mut Example, signal: Signal) -> (i32, i32) {
    for _ in 0..ATTEMPTS {
        let parent = example.serving_pid();
        let before = all_pids();
        harness::signal(parent, Signal::SIGUSR2);
        if let Some(child) = new_child(example, parent, &before) {
            if signal_in_window(example, child, signal) {
                return (parent, child);
            }
        }
        // Too late this time: let this handover finish and try again.
        example.wait_pid_file(|p| p.is_some_and(|p| p != parent), HANDOVER_TIMEOUT);
        example.wait_exit(parent, EXIT_TIMEOUT);
    }
    panic!("never caught a new process before its handlers in {ATTEMPTS} restarts");
}

/// Watches `child` until it has exec'd: if it does not catch SIGUSR2 yet,
/// sends it `signal` and returns true; if its handlers are already in
/// place, returns false.
fn signal_in_window(example: &Example, child: i32, signal: Signal) -> bool {
    let deadline = Instant::now() + HANDOVER_TIMEOUT;
    loop {
        let execd = has_execd(child);
        match catches(child, Signal::SIGUSR2) {
            Some(false) if execd => {
                harness::signal(child, signal);
                return true;
            }
            Some(true) if execd => return false,
            None => panic!(
                "the new process {child} vanished before we signalled it; log:\n{}",
                example.log.text()
            ),
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "process {child} never exec'd; log:\n{}",
            example.log.text()
        );
    }
}

/// Waits for the outcome of the restart that started `child`: the
/// parent's line saying it succeeded, or the one saying it failed.
fn restart_outcome(example: &Example, parent: i32, child: i32) -> String {
    let success = format!("[pid: {parent}] A new process [{child}] has been started successfully");
    let failure = format!("[pid: {parent}] Restart failed");
    example
        .log
        .wait_for("the restart's outcome", HANDOVER_TIMEOUT, |l| {
            l.contains(&success) || l.contains(&failure)
        })
}

/// SIGUSR2 twice in quick succession, the second reaching the new process
/// before its handlers: the new process survives, takes over, and then
/// honours the second restart too, so that a third process ends up
/// serving. Nothing dies of the signal.
#[test]
fn restart_signal_in_the_new_process_startup_is_deferred_not_fatal() {
    let mut example = Example::start("signal-race-usr2");
    let (parent, child) = signal_new_process_before_its_handlers(&mut example, Signal::SIGUSR2);

    let outcome = restart_outcome(&example, parent, child);
    assert!(
        outcome.contains("started successfully"),
        "the new process did not survive a SIGUSR2 at start: {outcome}\nlog:\n{}",
        example.log.text()
    );
    // The early signal was kept, not lost: once ready, the new process
    // restarts in its turn.
    example
        .log
        .wait_for("the deferred SIGUSR2", HANDOVER_TIMEOUT, |l| {
            l.contains(&format!("[pid: {child}] Receive signal SIGUSR2. To restart"))
        });
    let third = example.wait_pid_file(|p| p.is_some_and(|p| p != parent && p != child), HANDOVER_TIMEOUT);
    example.wait_exit(parent, EXIT_TIMEOUT);
    example.wait_exit(child, EXIT_TIMEOUT);
    assert_eq!(example.pid_answering(), third);
    assert!(
        !example.log.contains("died of"),
        "a process died of a signal; log:\n{}",
        example.log.text()
    );
}

/// SIGTERM reaching the new process before its handlers: it is not killed
/// outright but shuts down gracefully, as any serving process does on
/// SIGTERM (its parent, already handed over, drains and exits too).
#[test]
fn stop_signal_in_the_new_process_startup_shuts_it_down_gracefully() {
    let mut example = Example::start("signal-race-term");
    let (parent, child) = signal_new_process_before_its_handlers(&mut example, Signal::SIGTERM);

    let outcome = restart_outcome(&example, parent, child);
    assert!(
        outcome.contains("started successfully"),
        "the new process did not survive a SIGTERM at start: {outcome}\nlog:\n{}",
        example.log.text()
    );
    example
        .log
        .wait_for("the deferred SIGTERM", HANDOVER_TIMEOUT, |l| {
            l.contains(&format!("[pid: {child}] Receive signal SIGTERM. To shut down"))
        });
    example
        .log
        .wait_for("the new process's graceful end", EXIT_TIMEOUT, |l| {
            l.contains(&format!("[pid: {child}] All connections have been closed."))
        });
    example.wait_exit(child, EXIT_TIMEOUT);
    example.wait_exit(parent, EXIT_TIMEOUT);
    // The service is down: no process of the family runs on (in
    // particular none that the new process could have started), and
    // nobody answers on the port.
    let running: Vec<i32> = example.log.pids().into_iter().filter(|&pid| alive(pid)).collect();
    assert!(
        running.is_empty(),
        "still running: {running:?}; log:\n{}",
        example.log.text()
    );
    assert!(get(example.addr, "/pid").is_err(), "something still serves");
}
