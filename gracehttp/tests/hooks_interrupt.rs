//! The supervisor hooks around a SIGTERM, in process: `on_serve` gets the
//! address, a request is answered, then SIGTERM runs `on_interrupt` and
//! `on_shutdown` in that order and the server returns `Ok`.
//!
//! Alone in its test binary: the signal goes to the whole process.

use gracehttp::{GraceServer, Inherited};
use server::handler_fn;
use std::io::{Read, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn serve_interrupt_shutdown_hooks_in_order() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let (served_tx, served_rx) = mpsc::channel();
    let grace = {
        let (e1, e2, e3, e4) = (events.clone(), events.clone(), events.clone(), events.clone());
        GraceServer::new("127.0.0.1:0")
            .idle_grace(Duration::from_millis(50))
            .on_serve(move |a| {
                e1.lock().unwrap().push(format!("serve {a}"));
                let _ = served_tx.send(());
            })
            .on_interrupt(move || e2.lock().unwrap().push("interrupt".into()))
            .on_shutdown(move || e3.lock().unwrap().push("shutdown".into()))
            .on_error(move |e| e4.lock().unwrap().push(format!("error {e}")))
    };
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
        let result = runtime.block_on(grace.serve_inherited(inherited, Arc::new(hello)));
        let _ = done_tx.send(result.map_err(|e| e.to_string()));
    });
    served_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("on_serve ran");

    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.ends_with("hello"), "{response}");

    nix::sys::signal::raise(nix::sys::signal::Signal::SIGTERM).unwrap();
    let result = done_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the server returned");
    assert_eq!(result, Ok(()));
    assert_eq!(
        *events.lock().unwrap(),
        vec![
            format!("serve {addr}"),
            "interrupt".to_owned(),
            "shutdown".to_owned()
        ]
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the listener is closed"
    );
}
