//! `on_error`: a serve error reaches the hook unless its message is in the
//! ignore list, and ends the server with that error either way.
//!
//! The error is real: `shutdown(SHUT_RD)` on a listening socket makes the
//! kernel fail `accept` with EINVAL, which is not a temporary error.

use gracehttp::{Error, GraceServer, Inherited};
use server::handler_fn;
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Serves until the accept loop breaks; returns (what the hook saw, the result).
fn break_the_listener(ignore: Option<&str>) -> (Vec<String>, Result<(), Error>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let fd = listener.as_raw_fd();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (served_tx, served_rx) = mpsc::channel();
    let mut grace = {
        let seen = seen.clone();
        GraceServer::new("127.0.0.1:0")
            .on_serve(move |_| {
                let _ = served_tx.send(());
            })
            .on_error(move |e| seen.lock().unwrap().push(e.to_string()))
    };
    if let Some(message) = ignore {
        grace = grace.ignore_error(message);
    }
    let hello = handler_fn(|w, _r| {
        Box::pin(async move {
            let _ = w.write(b"hello").await;
        })
    });
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let inherited = Inherited {
            listener: Some(listener.into()),
            ready: None,
        };
        let _ = done_tx.send(runtime.block_on(grace.serve_inherited(inherited, Arc::new(hello))));
    });
    served_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("on_serve ran");
    // SAFETY: `fd` is the listener, still open: the server holds it.
    assert_eq!(unsafe { nix::libc::shutdown(fd, nix::libc::SHUT_RD) }, 0);
    let result = done_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the server returned");
    let seen = seen.lock().unwrap().clone();
    (seen, result)
}

#[test]
fn serve_error_reaches_on_error() {
    let (seen, result) = break_the_listener(None);
    let Err(Error::Serve(server::Error::Accept(e))) = &result else {
        panic!("expected an accept error, got {result:?}");
    };
    assert_eq!(e.raw_os_error(), Some(nix::libc::EINVAL));
    assert_eq!(seen, vec![result.unwrap_err().to_string()]);
}

#[test]
fn ignored_error_does_not_reach_on_error() {
    let message = server::Error::Accept(std::io::Error::from_raw_os_error(nix::libc::EINVAL)).to_string();
    let (seen, result) = break_the_listener(Some(&message));
    assert!(
        matches!(result, Err(Error::Serve(server::Error::Accept(_)))),
        "{result:?}"
    );
    assert!(seen.is_empty(), "ignored, yet reported: {seen:?}");
}
