//! Shared helpers for the demo binaries: command-line flags and logging.
//!
//! Each binary in `src/bin` is one lesson; this library holds only what
//! several of them need, so each binary stays short enough to read at once.

pub mod cli;
pub mod logging;

/// Resolves on SIGINT (Ctrl+C) or SIGTERM, so demos stop cleanly.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
