//! The signals a graceful server acts on, and how it waits for them.
//!
//! SIGUSR2 asks for a restart, SIGTERM and SIGINT for a shutdown: the
//! convention of gohttp's gracehttp and facebookgo/grace (cloudflare's
//! tableflip leaves the choice of signal to the program and suggests
//! SIGHUP). The handlers are tokio's: a signal becomes a message on a
//! stream that the supervising loop selects on, next to the accept loop's
//! end and a restart's outcome, as Go's restarters receive `os.Signal`s
//! on a channel (`signal.Notify`).

use std::io;
use tokio::signal::unix::{signal, Signal, SignalKind};

/// The signals we act on, each a stream of arrivals.
pub(crate) struct Signals {
    pub usr2: Signal,
    pub term: Signal,
    pub int: Signal,
}

impl Signals {
    /// Installs the handlers. Until then each of these signals has its
    /// default action, which is to end the process.
    pub fn install() -> io::Result<Signals> {
        Ok(Signals {
            usr2: signal(SignalKind::user_defined2())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
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
