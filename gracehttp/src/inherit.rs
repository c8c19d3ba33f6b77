//! The receiving end of a handover: find the listening socket a parent (our
//! old process, systemd, or `systemfd`) passed us, by the systemd
//! socket-activation convention.
//!
//! The convention (`sd_listen_fds(3)`): `LISTEN_FDS=N` says descriptors
//! 3 .. 3+N are listening sockets meant for us; `LISTEN_PID` names the
//! process they are meant for (a variable inherited by a grandchild must
//! not fool it); `LISTEN_FDNAMES` optionally names them. Like the
//! `listenfd` crate, we also accept an absent `LISTEN_PID`. gracehttp adds
//! one variable of its own, `GRACEHTTP_READY_FD`: the write end of the
//! pipe on which the new process tells its parent it is serving.
//!
//! Every one of these variables is removed once read, so that a program
//! our server starts later does not believe the descriptors are its own
//! (facebookgo/grace#44).

use crate::error::Error;
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::socket::{getsockname, getsockopt, sockopt, AddressFamily, SockaddrLike, SockaddrStorage};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// The first inherited descriptor (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: RawFd = 3;

/// The variables of the convention, and ours.
pub(crate) const LISTEN_FDS: &str = "LISTEN_FDS";
pub(crate) const LISTEN_PID: &str = "LISTEN_PID";
pub(crate) const LISTEN_FDNAMES: &str = "LISTEN_FDNAMES";
pub(crate) const READY_FD: &str = "GRACEHTTP_READY_FD";

/// A listening socket, TCP or Unix, as bound at a first start or
/// inherited at a restart (Go: `net.Listen("tcp", ...)` or
/// `net.Listen("unix", path)`). Non-blocking, as tokio needs.
#[derive(Debug)]
pub enum ListenSocket {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
}

impl ListenSocket {
    /// The descriptor a restart hands to the new process.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            ListenSocket::Tcp(tcp) => tcp.as_fd(),
            ListenSocket::Unix(unix) => unix.as_fd(),
        }
    }
}

impl From<std::net::TcpListener> for ListenSocket {
    fn from(tcp: std::net::TcpListener) -> Self {
        ListenSocket::Tcp(tcp)
    }
}

/// What a parent handed us.
#[derive(Debug, Default)]
pub struct Inherited {
    /// The listening socket, if the environment named one for us. It is
    /// non-blocking, as tokio needs; one built by hand must be made so too.
    pub listener: Option<ListenSocket>,
    /// Where to write the readiness byte, if a gracehttp parent waits for it.
    pub ready: Option<File>,
}

impl Inherited {
    /// Reads and removes the `LISTEN_*` variables (and ours) and takes
    /// ownership of the descriptors they name.
    ///
    /// Removing environment variables is only sound while no other thread
    /// reads the environment, so call this before starting threads (as
    /// [`GraceServer::run`](crate::GraceServer::run) does) or accept that
    /// risk knowingly.
    pub fn take_from_env() -> Result<Inherited, Error> {
        let fds = std::env::var(LISTEN_FDS).ok();
        let pid = std::env::var(LISTEN_PID).ok();
        let ready = std::env::var(READY_FD).ok();
        for name in [LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, READY_FD] {
            std::env::remove_var(name);
        }
        let Some(fds) = fds else {
            return Ok(Inherited::default());
        };
        if let Some(pid) = pid {
            if pid.trim().parse::<u32>().ok() != Some(std::process::id()) {
                // Meant for another process (our parent, say): not ours.
                tracing::debug!("LISTEN_PID={pid} is not us; ignoring LISTEN_FDS");
                return Ok(Inherited::default());
            }
        }
        let count: RawFd = fds
            .trim()
            .parse()
            .map_err(|_| Error::Inherit(format!("LISTEN_FDS={fds} is not a number")))?;
        if count < 1 {
            return Ok(Inherited::default());
        }
        if count > 1 {
            tracing::warn!("LISTEN_FDS={count}: serving on the first descriptor (3) only");
        }
        let listener = take_listener(LISTEN_FDS_START)?;
        let ready = match ready {
            Some(text) => {
                let fd: RawFd = text
                    .trim()
                    .parse()
                    .map_err(|_| Error::Inherit(format!("{READY_FD}={text} is not a number")))?;
                Some(File::from(take_fd(fd)?))
            }
            None => None,
        };
        Ok(Inherited {
            listener: Some(listener),
            ready,
        })
    }
}

/// Takes ownership of an inherited descriptor after checking it is open,
/// and marks it close-on-exec again: it was meant for us, not for any
/// program we start.
fn take_fd(fd: RawFd) -> Result<OwnedFd, Error> {
    // SAFETY: F_GETFD only asks whether `fd` is open; it touches nothing.
    let open = unsafe { nix::libc::fcntl(fd, nix::libc::F_GETFD) } >= 0;
    if !open {
        return Err(Error::Inherit(format!("descriptor {fd} is not open")));
    }
    // SAFETY: the environment says the parent passed `fd` to this process
    // for us alone, we just checked it is open, and the variables naming it
    // are now removed, so no other code will take it a second time.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    fcntl(owned.as_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
        .map_err(|e| Error::Inherit(format!("descriptor {fd}: {e}")))?;
    Ok(owned)
}

/// Takes descriptor `fd` as a listening socket, TCP or Unix: the kind the
/// kernel says it is (`getsockname`), so that a server listening on a Unix
/// socket restarts as one listening on TCP does.
fn take_listener(fd: RawFd) -> Result<ListenSocket, Error> {
    let owned = take_fd(fd)?;
    let listening = getsockopt(&owned, sockopt::AcceptConn)
        .map_err(|e| Error::Inherit(format!("descriptor {fd} is not a socket: {e}")))?;
    if !listening {
        return Err(Error::Inherit(format!("descriptor {fd} is not listening")));
    }
    // The blocking mode lives in the open file description, which the old
    // process shares with us: it is already non-blocking (tokio made it
    // so) and we leave it alone. (Go's `TCPListener.File`, net/tcpsock.go:331,
    // used by gohttp's gracehttp and facebookgo/grace to pass the socket,
    // switched it to blocking and could leave the old process stuck in
    // accept: golang/go#29277.) Only a blocking socket, as systemd passes
    // by default, gets O_NONBLOCK, because tokio needs it.
    let flags = fcntl(owned.as_fd(), FcntlArg::F_GETFL)
        .map_err(|e| Error::Inherit(format!("descriptor {fd}: {e}")))?;
    let flags = OFlag::from_bits_truncate(flags);
    if !flags.contains(OFlag::O_NONBLOCK) {
        fcntl(owned.as_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))
            .map_err(|e| Error::Inherit(format!("descriptor {fd}: {e}")))?;
    }
    let family = getsockname::<SockaddrStorage>(owned.as_raw_fd())
        .map_err(|e| Error::Inherit(format!("descriptor {fd}: {e}")))?
        .family();
    match family {
        Some(AddressFamily::Inet | AddressFamily::Inet6) => Ok(ListenSocket::Tcp(owned.into())),
        Some(AddressFamily::Unix) => Ok(ListenSocket::Unix(owned.into())),
        other => Err(Error::Inherit(format!(
            "descriptor {fd} is neither a TCP nor a Unix socket ({other:?})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::IntoRawFd;

    #[test]
    fn only_a_listening_tcp_or_unix_socket_is_taken() {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = tcp.local_addr().unwrap();
        let Ok(ListenSocket::Tcp(taken)) = take_listener(tcp.into_raw_fd()) else {
            panic!("a TCP listener is taken as one");
        };
        assert_eq!(taken.local_addr().unwrap(), addr);

        let path = std::env::temp_dir().join(format!("gracehttp-inherit-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let unix = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let Ok(ListenSocket::Unix(taken)) = take_listener(unix.into_raw_fd()) else {
            panic!("a Unix listener is taken as one");
        };
        assert_eq!(taken.local_addr().unwrap().as_pathname(), Some(path.as_path()));
        let _ = std::fs::remove_file(&path);

        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let refused = take_listener(udp.into_raw_fd()).unwrap_err();
        assert!(refused.to_string().contains("not listening"), "{refused}");
    }
}
