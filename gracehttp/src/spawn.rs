//! The sending end of a handover: fork-exec the same program with the
//! listening socket on descriptor 3 and the readiness pipe on descriptor 4.
//!
//! Our process is multi-threaded (tokio), and `fork` copies only the
//! calling thread: any lock another thread held (the allocator's, say)
//! stays locked forever in the child. So between `fork` and `execve` the
//! child may only make async-signal-safe calls. Everything that allocates
//! (the path, `argv`, `envp`, the working directory) is built before the
//! fork; the child only fills the digits of its own pid into a slot
//! reserved in `envp` (`LISTEN_PID` must be the child's pid, which nobody
//! knows before the fork), moves two descriptors into place, marks every
//! other descriptor close-on-exec and calls `execve`.
//!
//! Go's `syscall.ForkExec` (syscall/exec_unix.go:249, used by every Go
//! restarter: gohttp's gracehttp, facebookgo/grace, tableflip through
//! `os.StartProcess`) does the same dance in its runtime, the child's part
//! being `forkAndExecInChild1` (syscall/exec_linux.go:150); std's `Command` does too, but its environment is
//! fixed before the fork, so it cannot carry `LISTEN_PID`.

use crate::inherit::{LISTEN_FDNAMES, LISTEN_FDS, LISTEN_FDS_START, LISTEN_PID, READY_FD};
use crate::signals::HandoverMask;
use nix::fcntl::{fcntl, FcntlArg};
use nix::libc;
use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The descriptor the child finds its readiness pipe on.
pub(crate) const READY_FD_NUMBER: RawFd = LISTEN_FDS_START + 1;

/// Descriptors are moved to at least this number before the fork, so that
/// placing them on 3 and 4 in the child can never overwrite one another.
const HIGH_FD: RawFd = 10;

/// `close_range(2)` flag: mark close-on-exec instead of closing (Linux 5.11).
const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;

/// What to run at a restart, captured once at start-up (lesson 2 of
/// `notes/gracehttp.md`): the executable's path as it was named when we
/// started, so that a binary replaced by a deploy is picked up, with the
/// original arguments, from the original working directory.
#[derive(Debug, Clone)]
pub struct ExecTarget {
    pub path: PathBuf,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
}

impl ExecTarget {
    /// This process's executable, arguments and working directory, now.
    ///
    /// The path is `argv[0]` made absolute, as facebookgo/grace does with
    /// `exec.LookPath` (os/exec/lp_unix.go:40): against the working directory when it contains a `/`,
    /// else searched in `PATH`. It is not resolved further, so a deploy
    /// that switches a symlink (`current -> releases/v2`) is followed at the
    /// next restart. `current_exe()` (the file actually running, symlinks
    /// resolved) is the fallback. Asking `/proc/self/exe` at restart time
    /// instead would name the old, deleted file after a deploy.
    pub fn capture() -> io::Result<ExecTarget> {
        let args: Vec<OsString> = std::env::args_os().collect();
        let cwd = std::env::current_dir()?;
        let path = match args.first().and_then(|argv0| resolve_argv0(argv0, &cwd)) {
            Some(path) => path,
            None => std::env::current_exe()?,
        };
        Ok(ExecTarget { path, args, cwd })
    }
}

/// `argv[0]` as an absolute path to an executable file, if it names one.
fn resolve_argv0(argv0: &OsString, cwd: &std::path::Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let is_executable = |path: &std::path::Path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let name = std::path::Path::new(argv0);
    if name.as_os_str().is_empty() {
        return None;
    }
    if argv0.as_bytes().contains(&b'/') {
        let path = cwd.join(name);
        return is_executable(&path).then_some(path);
    }
    let search = std::env::var_os("PATH")?;
    std::env::split_paths(&search)
        .map(|dir| cwd.join(dir).join(name))
        .find(|path| is_executable(path))
}

/// Everything the child needs, built before the fork so that the child
/// allocates nothing.
struct Prepared {
    path: CString,
    cwd: CString,
    // Owners of the strings `argv_ptrs` and `envp_ptrs` point into.
    _argv: Vec<CString>,
    _env: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
    /// `LISTEN_PID=` followed by room for the digits and the NUL.
    pid_slot: Box<[u8; 32]>,
    listener: OwnedFd,
    ready: OwnedFd,
    /// The signal mask the new program starts with.
    signal_mask: libc::sigset_t,
    /// Highest descriptor to mark close-on-exec if `close_range` is missing.
    max_fd: RawFd,
}

const PID_PREFIX: &[u8] = b"LISTEN_PID=";

fn cstring(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in an argument"))
}

/// A copy of `fd` numbered `HIGH_FD` or above, close-on-exec.
fn dup_high(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let raw = fcntl(fd, FcntlArg::F_DUPFD_CLOEXEC(HIGH_FD)).map_err(io::Error::from)?;
    // SAFETY: F_DUPFD_CLOEXEC just returned this new descriptor; we are its
    // only owner.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) })
}

impl Prepared {
    fn new(target: &ExecTarget, listener: BorrowedFd<'_>, ready: OwnedFd) -> io::Result<Prepared> {
        let path = cstring(target.path.as_os_str().as_bytes())?;
        let cwd = cstring(target.cwd.as_os_str().as_bytes())?;
        let argv = target
            .args
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<io::Result<Vec<_>>>()?;
        // The environment of now, minus any stale handover variables, plus ours.
        let mut env = Vec::new();
        for (name, value) in std::env::vars_os() {
            let stale = [LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, READY_FD]
                .iter()
                .any(|v| name.as_bytes() == v.as_bytes());
            if !stale {
                let mut entry = name.as_bytes().to_vec();
                entry.push(b'=');
                entry.extend_from_slice(value.as_bytes());
                // A variable with a NUL byte cannot be passed on; skip it.
                if let Ok(entry) = CString::new(entry) {
                    env.push(entry);
                }
            }
        }
        env.push(cstring(format!("{LISTEN_FDS}=1").as_bytes())?);
        env.push(cstring(format!("{LISTEN_FDNAMES}=http").as_bytes())?);
        env.push(cstring(format!("{READY_FD}={READY_FD_NUMBER}").as_bytes())?);
        let mut pid_slot = Box::new([0u8; 32]);
        pid_slot[..PID_PREFIX.len()].copy_from_slice(PID_PREFIX);

        let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let mut envp_ptrs: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
        envp_ptrs.push(pid_slot.as_ptr().cast());
        envp_ptrs.push(std::ptr::null());

        let max_fd = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .map(|(soft, _)| soft.min(1 << 20) as RawFd)
            .unwrap_or(1 << 16);

        Ok(Prepared {
            path,
            cwd,
            _argv: argv,
            _env: env,
            argv_ptrs,
            envp_ptrs,
            pid_slot,
            listener: dup_high(listener)?,
            ready: dup_high(ready.as_fd())?,
            signal_mask: HandoverMask::for_new_program(),
            max_fd,
        })
    }
}

/// Starts a new process running `target` with `listener` on descriptor 3
/// (`LISTEN_FDS=1`, `LISTEN_PID=<its pid>`) and `ready` (a pipe's write
/// end) on descriptor 4 (`GRACEHTTP_READY_FD=4`). Returns the child's pid.
///
/// The caller keeps the listener's owner alive across this call (the
/// borrow says so); the descriptors moved for the child are closed here in
/// the parent before returning, so nothing accumulates per restart.
pub(crate) fn spawn(target: &ExecTarget, listener: BorrowedFd<'_>, ready: OwnedFd) -> io::Result<i32> {
    let mut prepared = Prepared::new(target, listener, ready)?;
    // The child is born with our signals blocked and keeps them blocked
    // through the exec, until its handlers exist (see `signals.rs`).
    let mask = HandoverMask::block()?;
    // SAFETY: fork is sound to call; what makes it delicate is the child,
    // which runs only `exec_child`, itself limited to async-signal-safe
    // system calls on memory prepared above.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let error = io::Error::last_os_error();
        mask.restore();
        return Err(error);
    }
    if pid == 0 {
        // SAFETY: we are the child of a fork, and `prepared` holds valid,
        // NUL-terminated strings and pointer arrays.
        unsafe { exec_child(&mut prepared) }
    }
    // Parent: our own mask back, and `prepared` drops here, closing our
    // copies of the moved descriptors. The child has its own.
    mask.restore();
    drop(prepared);
    Ok(pid)
}

/// The child's side, between fork and exec: async-signal-safe calls only,
/// no allocation, no locks, no panics.
///
/// # Safety
/// Must only run in a freshly forked child, with `p` built by
/// `Prepared::new`.
unsafe fn exec_child(p: &mut Prepared) -> ! {
    // The child's own pid into the slot `envp` points at: this memory is
    // the child's private copy, so the parent never sees the write.
    write_decimal(&mut p.pid_slot[PID_PREFIX.len()..], std::process::id());
    // SAFETY (whole block): every call below is an async-signal-safe
    // system call on descriptors and NUL-terminated buffers prepared
    // before the fork.
    unsafe {
        // Start the new program with exactly our signals blocked (it
        // unblocks them once its handlers exist; any other block this
        // thread had is not passed on) and the default SIGPIPE, as std's
        // Command does (Rust ignores SIGPIPE at start, and an ignored
        // disposition survives exec).
        libc::sigprocmask(libc::SIG_SETMASK, &p.signal_mask, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);

        // The two descriptors meant for the child. dup2 gives the new
        // numbers a clear close-on-exec flag; nothing else changes, and in
        // particular not O_NONBLOCK, which lives in the open file
        // description still shared with the parent.
        if libc::dup2(p.listener.as_raw_fd(), LISTEN_FDS_START) < 0 {
            libc::_exit(126);
        }
        if libc::dup2(p.ready.as_raw_fd(), READY_FD_NUMBER) < 0 {
            libc::_exit(126);
        }
        // Everything else closes at exec, whatever the program inherited
        // from whoever started it (a shell's stray descriptors would
        // otherwise travel through every generation).
        let first = (READY_FD_NUMBER + 1) as libc::c_uint;
        if libc::syscall(
            libc::SYS_close_range,
            first,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        ) != 0
        {
            // Kernel older than 5.11: one fcntl per possible descriptor.
            for fd in (READY_FD_NUMBER + 1)..=p.max_fd {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        if libc::chdir(p.cwd.as_ptr()) != 0 {
            libc::_exit(126);
        }
        libc::execve(p.path.as_ptr(), p.argv_ptrs.as_ptr(), p.envp_ptrs.as_ptr());
        libc::_exit(127)
    }
}

/// Writes `n` in decimal followed by a NUL into `out` (at least 11
/// bytes), without allocating: safe to run between fork and exec.
fn write_decimal(out: &mut [u8], mut n: u32) {
    let mut digits = [0u8; 10];
    let mut len = 0;
    while len < digits.len() {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for (slot, digit) in out.iter_mut().zip(digits[..len].iter().rev()) {
        *slot = *digit;
    }
    if let Some(end) = out.get_mut(len) {
        *end = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv0_made_absolute_against_cwd_or_path() {
        let cwd = std::path::Path::new("/");
        assert_eq!(
            resolve_argv0(&OsString::from("bin/sh"), cwd),
            Some(PathBuf::from("/bin/sh"))
        );
        let found = resolve_argv0(&OsString::from("sh"), cwd).expect("sh in PATH");
        assert!(found.is_absolute() && found.ends_with("sh"), "{found:?}");
        assert_eq!(resolve_argv0(&OsString::from("./no-such-program"), cwd), None);
        assert_eq!(resolve_argv0(&OsString::from(""), cwd), None);
    }

    #[test]
    fn decimal_digits_without_allocation() {
        for (n, text) in [(0u32, "0"), (7, "7"), (32759, "32759"), (u32::MAX, "4294967295")] {
            let mut buf = [0xffu8; 11];
            write_decimal(&mut buf, n);
            let end = buf.iter().position(|&b| b == 0).unwrap();
            assert_eq!(&buf[..end], text.as_bytes());
        }
    }
}
