//! Telling systemd who serves (`sd_notify(3)`), as shellflip does.
//!
//! Under systemd, the service's main process is the one systemd started.
//! After a graceful restart that process exits, and with a plain
//! `Type=simple` unit systemd would take the service for dead and stop the
//! new process too. With `Type=notify` and `NotifyAccess=all`, each new
//! process says `MAINPID=<its pid>` once it is ready, and systemd follows
//! the handover. Outside systemd `NOTIFY_SOCKET` is unset and this does
//! nothing.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The variable systemd sets to its notification socket's path.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Sends `state` (lines such as `READY=1`) to systemd, if it listens.
/// `Ok(false)` when there is no one to tell.
pub fn notify(state: &str) -> io::Result<bool> {
    let Some(path) = std::env::var_os(NOTIFY_SOCKET) else {
        return Ok(false);
    };
    let path = path.to_string_lossy().into_owned();
    let addr = if let Some(name) = path.strip_prefix('@') {
        // An abstract socket: a name, not a file.
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(name.as_bytes())?
    } else {
        SocketAddr::from_pathname(&path)?
    };
    let socket = UnixDatagram::unbound()?;
    socket.send_to_addr(state.as_bytes(), &addr)?;
    Ok(true)
}

/// This process is ready and is now the service's main process.
pub(crate) fn ready(pid: u32) {
    if let Err(e) = notify(&format!("READY=1\nMAINPID={pid}\n")) {
        tracing::warn!("[pid: {pid}] Cannot notify systemd: {e}");
    }
}

/// This process is stopping for good (not handing over).
pub(crate) fn stopping(pid: u32) {
    if let Err(e) = notify("STOPPING=1\n") {
        tracing::warn!("[pid: {pid}] Cannot notify systemd: {e}");
    }
}
