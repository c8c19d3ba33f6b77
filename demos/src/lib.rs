//! Shared pieces of the demo binaries: command-line flags, logging, the
//! course's example application, and the live-reload tool's parts.
//!
//! Each binary in `src/bin` is one lesson; this library holds only what a
//! binary and its tests both need, so each binary stays short.

pub mod cli;
pub mod example_app;
pub mod logging;
pub mod reload;
pub mod tls;

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
