//! The builder: runs the build command and keeps its errors (gin: `lib/builder.go`).
//!
//! The tool calls [`Builder::build`] once at start and again after every
//! change the watcher reports. When a build fails, its output (compiler
//! errors, usually on stderr) is kept, and the proxy answers every request
//! with it until a later build succeeds, so the developer reads the errors
//! in the browser, as with gin.
//!
//! The build runs in its own process group, so that stopping the tool in
//! the middle of a long `cargo build` can stop the compiler too
//! ([`Builder::abort`]).

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

/// Runs one build command and remembers how the last run went.
#[derive(Debug)]
pub struct Builder {
    /// Program and arguments (`["cargo", "build", "--bin", "example"]`).
    command: Vec<String>,
    /// Where the command runs.
    dir: PathBuf,
    /// The output of the last failed build; `None` after a success.
    errors: Mutex<Option<String>>,
    /// Process id of a build under way (0 when none), for [`Builder::abort`].
    running: Arc<AtomicI32>,
}

impl Builder {
    /// A builder running `command` (program first) in `dir`.
    pub fn new(command: Vec<String>, dir: PathBuf) -> Builder {
        Builder {
            command,
            dir,
            errors: Mutex::new(None),
            running: Arc::new(AtomicI32::new(0)),
        }
    }

    /// The command as one line, for logs.
    pub fn command_line(&self) -> String {
        self.command.join(" ")
    }

    /// Runs the build to its end. On failure the output is kept (see
    /// [`Builder::errors`]) and returned; on success the old errors are
    /// forgotten.
    pub async fn build(&self) -> Result<(), String> {
        let command = self.command.clone();
        let dir = self.dir.clone();
        let running = self.running.clone();
        // `wait_with_output` blocks; a blocking thread keeps the runtime free.
        let outcome = tokio::task::spawn_blocking(move || run_to_end(&command, dir, &running))
            .await
            .unwrap_or_else(|e| Err(format!("build task failed: {e}")));
        if let Ok(mut errors) = self.errors.lock() {
            *errors = outcome.clone().err();
        }
        outcome
    }

    /// The output of the last build if it failed (gin: `Builder.Errors`).
    pub fn errors(&self) -> Option<String> {
        self.errors.lock().ok().and_then(|e| e.clone())
    }

    /// Stops a build under way, compiler processes included.
    pub fn abort(&self) {
        let pid = self.running.load(Ordering::Acquire);
        if pid > 0 {
            let group = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// Runs the command, collecting stdout and stderr; `Err` holds what a
/// developer needs to read when the build failed.
fn run_to_end(command: &[String], dir: PathBuf, running: &AtomicI32) -> Result<(), String> {
    let Some((program, args)) = command.split_first() else {
        return Err("empty build command".to_owned());
    };
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start build command `{}`: {e}", command.join(" ")))?;
    running.store(child.id() as i32, Ordering::Release);
    let output = child.wait_with_output();
    running.store(0, Ordering::Release);
    let output = output.map_err(|e| format!("build command `{}`: {e}", command.join(" ")))?;
    if output.status.success() {
        return Ok(());
    }
    // Compilers write their errors on stderr; some tools use stdout. Keep both.
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !stdout.trim().is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&stdout);
    }
    if !text.ends_with('\n') && !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!(
        "build command `{}` failed: {}",
        command.join(" "),
        output.status
    ));
    Err(text)
}
