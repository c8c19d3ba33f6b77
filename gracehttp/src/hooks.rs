//! Supervisor hooks, after the iris framework's `host.Supervisor`
//! (`RegisterOnServe`, `RegisterOnShutdown`, `RegisterOnInterrupt`,
//! `RegisterOnError`, `IgnoredErrors`).
//!
//! They let an application take part in its server's life without owning
//! the loop: announce the address once the listener is ready (service
//! discovery, a "listening on" line, a test harness waiting for the port),
//! flush or deregister before the drain starts, save state when the
//! operator presses Ctrl+C, and report serve errors to monitoring, minus
//! the ones it chose to ignore.
//!
//! Hooks run on the supervising task, one after another: keep them short,
//! and spawn a task for anything slow.

use crate::error::Error;
use server::NetAddr;
use std::sync::Arc;

type ServeHook = Arc<dyn Fn(&NetAddr) + Send + Sync>;
type PlainHook = Arc<dyn Fn() + Send + Sync>;
type ErrorHook = Arc<dyn Fn(&Error) + Send + Sync>;

/// The registered hooks and the ignored error messages.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub on_serve: Vec<ServeHook>,
    pub on_shutdown: Vec<PlainHook>,
    pub on_interrupt: Vec<PlainHook>,
    pub on_error: Vec<ErrorHook>,
    /// Errors whose message equals one of these are not reported (iris
    /// compares the messages too: errors of different types can match).
    pub ignored_errors: Vec<String>,
}

impl Hooks {
    pub fn serve(&self, addr: &NetAddr) {
        for hook in &self.on_serve {
            hook(addr);
        }
    }

    pub fn shutdown(&self) {
        for hook in &self.on_shutdown {
            hook();
        }
    }

    pub fn interrupt(&self) {
        for hook in &self.on_interrupt {
            hook();
        }
    }

    /// Reports `error` unless its message is in the ignore list.
    pub fn error(&self, error: &Error) {
        let message = error.to_string();
        if self.ignored_errors.contains(&message) {
            return;
        }
        for hook in &self.on_error {
            hook(error);
        }
    }
}
