//! # fixed-response: the ceiling of any tokio HTTP/1.1 server on this machine
//!
//! A tokio server that parses nothing: on each connection it reads, counts
//! the ends of heads (`\r\n\r\n`) in what arrived, and answers each with the
//! same fixed response, as long as our hello's (status line, Content-Type,
//! Date, Content-Length, `Hello, World!`; the Date is frozen). One task per
//! connection, TCP_NODELAY set, an 8 KiB read buffer, as the two servers it
//! bounds. Whatever a real server does per request beyond one read and one
//! write costs more than this; so on a machine where the kernel's share of
//! a request dominates, this is how far above hyper any tokio server could
//! go (`benches/README.md`, "Many connections"). Requests with a body are
//! not understood; `load.sh` and `wrk` send none. The one header it looks
//! for is `Connection: close`, which it honours.
//!
//! ```text
//! cargo run --release -p benches --bin fixed-response -- --addr 127.0.0.1:8012 --threads 1
//! curl -i http://127.0.0.1:8012/hello
//! ```
//!
//! `--threads 1` is a one-thread (current-thread) tokio runtime; `--threads N`
//! a multi-thread one with N workers. SIGTERM or Ctrl+C stops it.

use benches::cli::flag;
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\
Date: Mon, 07 Dec 2026 06:00:00 GMT\r\nContent-Length: 13\r\n\r\nHello, World!";

/// The answer to a request that asked to close; the connection then closes.
const RESPONSE_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\
Date: Mon, 07 Dec 2026 06:00:00 GMT\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!";

const CLOSE: &[u8] = b"\r\nconnection: close\r\n";

fn main() {
    let addr = flag("addr").unwrap_or_else(|| "127.0.0.1:8012".to_owned());
    let runtime = benches::cli::runtime("fixed-response");
    runtime.block_on(async {
        let listener = benches::cli::listen("fixed-response", &addr).await;
        eprintln!("fixed-response: listening on http://{addr}");
        tokio::select! {
            _ = accept_loop(listener) => {}
            _ = benches::cli::stop_signal() => {}
        }
    });
}

async fn accept_loop(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream));
            }
            Err(e) => {
                eprintln!("fixed-response: accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    }
}

/// Answers every complete head on `stream` with [`RESPONSE`] until the
/// client closes (or sends a head larger than the buffer).
async fn serve(mut stream: TcpStream) {
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let mut out = Vec::with_capacity(RESPONSE.len());
    loop {
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(8 * 1024); // an empty buffer starts again at its front
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        out.clear();
        let mut close = false;
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = buf.split_to(end + 4);
            // The one header looked at: `load.sh`'s `close` profile sends it.
            close = head.windows(CLOSE.len()).any(|w| w.eq_ignore_ascii_case(CLOSE));
            out.extend_from_slice(if close { RESPONSE_CLOSE } else { RESPONSE });
            if close {
                break;
            }
        }
        if buf.len() == buf.capacity() {
            return; // a head larger than the buffer: not for this server
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            return;
        }
        if close {
            return;
        }
    }
}
