//! The signals a graceful server acts on, and how it waits for them.
//!
//! SIGUSR2 asks for a restart, SIGTERM and SIGINT for a shutdown: the
//! convention of gohttp's gracehttp and facebookgo/grace (cloudflare's
//! tableflip leaves the choice of signal to the program and suggests
//! SIGHUP). The handlers are tokio's: a signal becomes a message on a
//! stream that the supervising loop selects on, next to the accept loop's
//! end and a restart's outcome, as Go's restarters receive `os.Signal`s
//! on a channel (`signal.Notify`).
//!
//! ## The first milliseconds of a new process
//!
//! Between its `execve` and the moment its handlers exist, a new process
//! has the default action for every signal, and for these three that
//! action is to die. A signal sent to every process of the service
//! (`pkill -USR2 name`, `kill -USR2 -PGID`, `systemctl kill`) twice in a
//! row kills the new process the first one started: the restart fails,
//! and a stop signal kills it instead of draining it. The signal mask is
//! the cure because it is inherited through `fork` and kept across
//! `execve` (signal(7)): the restarting process starts the new one with
//! these signals blocked ([`HandoverMask`], used by `spawn`), a signal sent
//! in the window waits as pending, and [`Signals::install`] unblocks them
//! once the handlers are in place, when the pending one is delivered and
//! acted on.
//!
//! A Go restarter's new process meets the same window differently. Go's
//! runtime installs a handler of its own before `main`, and until
//! `signal.Notify` asks for a signal it drops SIGUSR2 (marked only
//! `_SigNotify` in runtime/sigtab_linux_generic.go) and dies of SIGTERM
//! and SIGINT (`_SigKill`, runtime/signal_unix.go:701): the early restart
//! request is lost, the early stop is fatal. With the mask, neither: the
//! restart happens once the new process is ready, and the stop drains it.

use nix::sys::signal::{SigSet, SigmaskHow, Signal as SignalNumber};
use std::io;
use tokio::signal::unix::{signal, Signal, SignalKind};

/// The signals we act on, as a set for the signal mask.
fn handled() -> SigSet {
    let mut set = SigSet::empty();
    for number in [SignalNumber::SIGUSR2, SignalNumber::SIGTERM, SignalNumber::SIGINT] {
        set.add(number);
    }
    set
}

/// The signals we act on, each a stream of arrivals.
pub(crate) struct Signals {
    pub usr2: Signal,
    pub term: Signal,
    pub int: Signal,
}

impl Signals {
    /// Installs the handlers, then unblocks the signals in this thread
    /// (a process started by a restart has them blocked until now; see the
    /// module docs). A signal that arrived in the meantime is delivered at
    /// the unblocking, and the supervising loop sees it like any other.
    ///
    /// Only the calling thread unblocks them. The runtime's other threads,
    /// started while they were blocked, keep them blocked, which is
    /// harmless: the kernel delivers a signal sent to the process to any
    /// one thread that does not block it (signal(7)), and the handler is
    /// the same for the whole process.
    pub fn install() -> io::Result<Signals> {
        let signals = Signals {
            usr2: signal(SignalKind::user_defined2())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        };
        handled().thread_unblock().map_err(io::Error::from)?;
        Ok(signals)
    }
}

/// The next SIGTERM or SIGINT, by name. (A free function, not a method:
/// the drain selects on it and on SIGUSR2 at once, two borrows of
/// [`Signals`] that only its separate fields allow.)
pub(crate) async fn stop_signal(term: &mut Signal, int: &mut Signal) -> &'static str {
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

/// The signal mask a new process starts with: the signals we act on,
/// blocked until its handlers exist (see the module docs).
pub(crate) struct HandoverMask {
    /// What the calling thread blocked before [`HandoverMask::block`].
    previous: SigSet,
}

impl HandoverMask {
    /// Blocks the handled signals in the calling thread, which is about to
    /// fork: the child is born with them blocked, so that not even the
    /// moments between `fork` and its own `sigprocmask` are exposed. Go's
    /// `syscall.ForkExec` blocks every signal across its fork for the same
    /// reason (`syscall_runtime_BeforeFork`, runtime/proc.go:3983;
    /// golang/go#18600), but gives the child its old mask back before the
    /// exec: that is where we differ, keeping these three blocked through it. The
    /// parent's mask comes back with [`HandoverMask::restore`]; meanwhile a
    /// signal to the parent waits a few microseconds, or goes to another
    /// of its threads.
    pub fn block() -> io::Result<HandoverMask> {
        let previous = handled()
            .thread_swap_mask(SigmaskHow::SIG_BLOCK)
            .map_err(io::Error::from)?;
        Ok(HandoverMask { previous })
    }

    /// The exact mask for the new program (the handled signals, nothing
    /// else), as the raw set the child passes to `sigprocmask` between
    /// `fork` and `execve`, where only async-signal-safe calls are allowed.
    pub fn for_new_program() -> nix::libc::sigset_t {
        *handled().as_ref()
    }

    /// Gives the calling thread its mask from before [`HandoverMask::block`].
    pub fn restore(self) {
        // Setting a mask that was valid a moment ago cannot fail.
        let _ = self.previous.thread_set_mask();
    }
}
