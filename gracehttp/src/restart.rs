//! One restart, from the parent's side: start the new process, then wait
//! for its readiness byte, its death, or a timeout, whichever comes first.
//!
//! Readiness is what makes the handover safe. Before the byte arrives, the
//! parent keeps serving as if nothing happened; only a child that is
//! already accepting on the shared socket lets the parent stop. A child
//! that crashes at start (bad config, a broken deploy) or hangs is killed
//! and reaped, the parent logs why, and the service never goes dark.
//!
//! Which idea comes from where: the readiness pipe and the timeout are
//! cloudflare/tableflip's (`Upgrader.Upgrade` waits for the child's
//! `Ready`, or its exit, over a pipe). facebookgo/grace has the new
//! process stop the old one with SIGTERM once it serves (`app.run`), which
//! is readiness too (a child that dies first never sends it, and the old
//! process goes on serving), though no timeout bounds a child that hangs
//! at start. gohttp's gracehttp (after
//! tabalt/gracehttp's `startNewProcess`) closes the old listener as soon
//! as `syscall.ForkExec` returns, before the child has done anything.

use crate::error::RestartError;
use crate::spawn::{spawn, ExecTarget};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::BorrowedFd;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// A new process that said it is ready.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ready {
    pub pid: i32,
}

/// Starts the new process and waits until it is ready (`Ok`) or failed
/// (`Err`, after the child was killed and reaped). `on_spawn` is told the
/// child's pid as soon as it exists, so that a shutdown arriving meanwhile
/// can kill it.
pub(crate) async fn restart(
    target: &ExecTarget,
    listener: BorrowedFd<'_>,
    ready_timeout: Duration,
    on_spawn: impl FnOnce(i32),
) -> Result<Ready, RestartError> {
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| RestartError::Spawn(e.into()))?;
    // `spawn` closes our copy of the write end, so the child's exit is an
    // end-of-file on the read end.
    let pid = spawn(target, listener, write_end).map_err(RestartError::Spawn)?;
    on_spawn(pid);
    let mut pipe = match tokio::net::unix::pipe::Receiver::from_owned_fd(read_end) {
        Ok(pipe) => pipe,
        Err(e) => {
            kill_and_reap(pid).await;
            return Err(RestartError::Spawn(e));
        }
    };
    let mut byte = [0u8; 1];
    match tokio::time::timeout(ready_timeout, pipe.read(&mut byte)).await {
        Ok(Ok(1)) => Ok(Ready { pid }),
        Ok(_) => {
            // End of file (or a read error): the child is gone or closed
            // its end without a word. Either way it is not serving. It is
            // usually on its way out (a certificate it could not load, a
            // port it could not bind): let it finish saying why and exit
            // with its own status before we kill it.
            let status = reap_within(pid, EXIT_GRACE).await;
            Err(RestartError::ChildExited { pid, status })
        }
        Err(_) => {
            kill_and_reap(pid).await;
            Err(RestartError::NotReady {
                pid,
                waited: ready_timeout,
            })
        }
    }
}

/// Kills `pid` (harmless if it already exited) and waits for it, so that
/// no zombie stays behind. Returns how it ended, in words.
pub(crate) async fn kill_and_reap(pid: i32) -> String {
    let pid = Pid::from_raw(pid);
    let _ = kill(pid, Signal::SIGKILL);
    // waitpid blocks; after SIGKILL it returns almost at once, but it must
    // not block a runtime worker in the meantime.
    match tokio::task::spawn_blocking(move || waitpid(pid, None)).await {
        Ok(Ok(status)) => describe(status),
        Ok(Err(e)) => format!("could not be reaped ({e})"),
        Err(e) => format!("could not be reaped ({e})"),
    }
}

/// How long a child that closed its readiness pipe without a word has to
/// exit by itself: ample for its last log line and exit.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// Waits up to `grace` for `pid` to exit by itself, then kills it. Returns
/// how it ended, in words.
async fn reap_within(pid: i32, grace: Duration) -> String {
    let child = Pid::from_raw(pid);
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Ok(WaitStatus::StillAlive) => return kill_and_reap(pid).await,
            Ok(status) => return describe(status),
            Err(e) => return format!("could not be reaped ({e})"),
        }
    }
}

/// Asks `pid` to shut down gracefully (SIGTERM): it may already accept
/// connections, and those deserve an answer. Waits up to `grace` for it to
/// exit, then kills it. Returns how it ended, in words.
pub(crate) async fn stop_and_reap(pid: i32, grace: Duration) -> String {
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    reap_within(pid, grace).await
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited with status {code}"),
        WaitStatus::Signaled(_, Signal::SIGKILL, _) => "was killed".to_owned(),
        WaitStatus::Signaled(_, signal, _) => format!("died of {signal}"),
        other => format!("ended ({other:?})"),
    }
}
