//! The runner: starts the built app, waits until it listens, and stops it
//! (gin: `lib/runner.go`).
//!
//! Two of gin's flaws are fixed here:
//!
//! - gin sleeps a fixed 250 ms after starting the app and hopes it is
//!   listening by then; a slower app makes the first request after each
//!   change fail. [`Runner::wait_ready`] instead tries to connect to the
//!   app's port until it succeeds, the app exits, or a deadline passes.
//! - gin hands the app the tool's own leftover arguments. Here the app gets
//!   exactly the arguments given after `--` on the tool's command line, with
//!   `{port}` replaced by the app port; `PORT` is set in its environment too.
//!
//! The app runs in its own process group. Stopping sends SIGTERM to the
//! whole group (a shell script and the server it started both hear it),
//! gives the app its shutdown time (`--app-shutdown-timeout-ms`) to finish
//! the requests it is serving, as a graceful server does on SIGTERM, then
//! sends SIGKILL if anything lingers, so no process is left behind. gin
//! kills after a fixed 3 s, which cuts a draining app's requests short.
//! Should the tool itself be killed outright, the kernel sends the app
//! SIGTERM (Linux's parent-death signal), and may send it more than once:
//! the app is handed from one dying thread of the tool to the next, and
//! each hand-over sends it again (seen: 2 for a parent of 6 threads). An
//! app's SIGTERM handler must not mind a second one.

use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::io;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;
use tokio::time::Instant;

/// How often we look again while waiting for the app (its port or its exit).
const POLL_EVERY: Duration = Duration::from_millis(20);

/// Why the app is not ready to take requests.
#[derive(Debug)]
pub enum RunError {
    /// The command could not be started at all.
    Spawn(String, io::Error),
    /// The app exited before it listened.
    Exited(ExitStatus),
    /// The port did not accept a connection in time.
    NotListening { addr: SocketAddr, waited: Duration },
    /// Another process already listens on the app port: requests would
    /// reach it instead of the app.
    PortTaken(SocketAddr),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Spawn(command, e) => write!(f, "cannot start `{command}`: {e}"),
            RunError::Exited(status) => write!(f, "the app exited before it listened ({status})"),
            RunError::NotListening { addr, waited } => {
                write!(
                    f,
                    "the app did not accept connections on {addr} within {waited:?}"
                )
            }
            RunError::PortTaken(addr) => write!(
                f,
                "another process already listens on the app port ({addr}): stop it or choose another --app-port"
            ),
        }
    }
}

impl std::error::Error for RunError {}

/// Starts and stops one app process.
#[derive(Debug)]
pub struct Runner {
    /// Program and its fixed arguments.
    command: Vec<String>,
    /// The app's own arguments, `{port}` not yet replaced.
    app_args: Vec<String>,
    dir: PathBuf,
    port: u16,
    /// How long the app has to exit after SIGTERM.
    shutdown_timeout: Duration,
    child: Option<Child>,
}

impl Runner {
    /// A runner for `command` (program first), which will get `app_args`
    /// after its own arguments and `PORT=port` in its environment, and
    /// `shutdown_timeout` to exit after SIGTERM.
    pub fn new(
        command: Vec<String>,
        app_args: Vec<String>,
        dir: PathBuf,
        port: u16,
        shutdown_timeout: Duration,
    ) -> Runner {
        Runner {
            command,
            app_args,
            dir,
            port,
            shutdown_timeout,
            child: None,
        }
    }

    /// The address the app is expected to listen on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The full command line the app is started with, `{port}` replaced.
    pub fn command_line(&self) -> Vec<String> {
        let port = self.port.to_string();
        self.command
            .iter()
            .cloned()
            .chain(self.app_args.iter().map(|a| a.replace("{port}", &port)))
            .collect()
    }

    /// The process id of the running app, if any.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// True while the app process is alive. Reaps it once it exited.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            None => false,
            Some(child) => matches!(child.try_wait(), Ok(None)),
        }
    }

    /// True when something already accepts connections on the app port
    /// while our app is not running: a stray server would answer in its
    /// place, and waiting for the port would prove nothing.
    pub async fn port_taken(&self) -> bool {
        let probe = tokio::net::TcpStream::connect(self.addr());
        matches!(tokio::time::timeout(POLL_EVERY * 10, probe).await, Ok(Ok(_)))
    }

    /// Starts the app (gin: `runBin`). Its output goes to the tool's own
    /// stdout and stderr, so the developer sees the app's logs.
    pub fn start(&mut self) -> Result<(), RunError> {
        let line = self.command_line();
        let Some((program, args)) = line.split_first() else {
            return Err(RunError::Spawn(String::new(), io::ErrorKind::InvalidInput.into()));
        };
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(&self.dir)
            .env("PORT", self.port.to_string())
            .stdin(Stdio::null())
            .process_group(0);
        // Belt and braces for a tool killed with SIGKILL (no chance to
        // stop the app): the kernel sends the app SIGTERM when its parent
        // goes. Linux ties this to the parent *thread*; `start` runs on a
        // runtime worker thread, which lives as long as the tool.
        // SAFETY: the closure runs in the child between fork and exec, where
        // only async-signal-safe calls are allowed; it makes one prctl(2)
        // system call and allocates nothing.
        unsafe {
            command.pre_exec(|| set_pdeathsig(Signal::SIGTERM).map_err(io::Error::from));
        }
        let child = command.spawn().map_err(|e| RunError::Spawn(line.join(" "), e))?;
        tracing::info!("reload: started app (pid {}): {}", child.id(), line.join(" "));
        self.child = Some(child);
        Ok(())
    }

    /// Waits until the app's port accepts a TCP connection, the app exits,
    /// or `timeout` passes, whichever comes first. This replaces gin's
    /// fixed 250 ms sleep.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<(), RunError> {
        let addr = self.addr();
        let started = Instant::now();
        let deadline = started + timeout;
        loop {
            if let Some(child) = &mut self.child {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(RunError::Exited(status));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(RunError::NotListening {
                    addr,
                    waited: started.elapsed(),
                });
            }
            // A refused connect returns at once; the timeout covers a
            // backlog that is full or a SYN that goes unanswered.
            let attempt =
                tokio::time::timeout(left.min(POLL_EVERY * 10), tokio::net::TcpStream::connect(addr));
            if let Ok(Ok(_probe)) = attempt.await {
                return Ok(());
            }
            tokio::time::sleep(POLL_EVERY.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
    }

    /// Stops the app: SIGTERM to its process group, SIGKILL if it has not
    /// exited within its shutdown time (gin: `Kill`). Returns how it
    /// ended, or `None` when no app was running.
    pub async fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let pid = child.id();
        let group = Pid::from_raw(pid as i32);
        if let Ok(Some(status)) = child.try_wait() {
            // It exited by itself; clear out anything it left in its group.
            let _ = killpg(group, Signal::SIGKILL);
            tracing::info!("reload: app (pid {pid}) had exited ({status})");
            return Some(status);
        }
        let _ = killpg(group, Signal::SIGTERM);
        tracing::info!(
            "reload: stopping app (pid {pid}): SIGTERM; it has {:?} to finish its requests",
            self.shutdown_timeout
        );
        let started = Instant::now();
        let deadline = started + self.shutdown_timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    tracing::info!(
                        "reload: app (pid {pid}) exited {:?} after SIGTERM ({status})",
                        Rounded(started.elapsed())
                    );
                    break Some(status);
                }
                Ok(None) if Instant::now() < deadline => tokio::time::sleep(POLL_EVERY).await,
                Ok(None) => {
                    tracing::warn!(
                        "reload: app (pid {pid}) still running {:?} after SIGTERM (--app-shutdown-timeout-ms); killing it",
                        self.shutdown_timeout
                    );
                    let _ = killpg(group, Signal::SIGKILL);
                    let status = child.wait().ok();
                    if let Some(status) = status {
                        tracing::info!("reload: app (pid {pid}) killed ({status})");
                    }
                    break status;
                }
                Err(_) => break None,
            }
        };
        // Members of the group that outlived the leader (a server started
        // by a wrapper script, say) go too.
        let _ = killpg(group, Signal::SIGKILL);
        status
    }
}

/// A duration shown to the millisecond (`1.204s`, not `1.204318766s`).
struct Rounded(Duration);

impl std::fmt::Debug for Rounded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Duration::from_millis(self.0.as_millis() as u64).fmt(f)
    }
}

impl Drop for Runner {
    /// A runner dropped without `stop` (a panic, an early return) still
    /// leaves no process behind.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            let _ = child.wait();
        }
    }
}
